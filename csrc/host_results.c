/* Host lookups' Python results, in pycares 4's shapes (see host_results.h). */
#include "host_results.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "results.h"

static PyObject *maybe_str(const char *s)
{
    return result_text(s, strlen(s));
}

static PyObject *str_list(char *const *items)
{
    PyObject *list = PyList_New(0);
    for (size_t i = 0; list != NULL && items[i] != NULL; i++) {
        PyObject *v = maybe_str(items[i]);
        if (v == NULL || PyList_Append(list, v) < 0)
            Py_CLEAR(list);
        Py_XDECREF(v);
    }
    return list;
}

PyObject *host_result(module_state *st, const host_copy *hc, const char *asked)
{
    PyObject *res = result_alloc(st, RT_HOST);
    if (res == NULL)
        return NULL;
    if (result_set(res, 0, maybe_str(hc->name)) < 0 || result_set(res, 1, str_list(hc->aliases)) < 0 ||
        result_set(res, 2, asked != NULL ? Py_BuildValue("[s]", asked) : str_list(hc->addrs)) < 0)
        Py_CLEAR(res);
    return res;
}

/* The CNAME entries of a result: the hosts-file misses first (pre), then the answer's. */
#define FOR_EACH_CNAME(cn, pre, ai)                                                                       \
    for (int cn##_list = 0; cn##_list < 2; cn##_list++)                                                  \
        for (const struct ares_addrinfo_cname *cn = cn##_list == 0 ? (pre) : (ai)->cnames; cn != NULL; cn = cn->next)

PyObject *host_result_from_ai(module_state *st, const struct ares_addrinfo *ai, int family,
                                     const struct ares_addrinfo_cname *pre)
{
    char ip[INET6_ADDRSTRLEN];
    PyObject *aliases = PyList_New(0), *addrs = PyList_New(0), *res = NULL, *v;
    if (aliases == NULL || addrs == NULL)
        goto fail;
    if (family == AF_UNSPEC && ai->nodes != NULL)
        family = ai->nodes->ai_family;
    FOR_EACH_CNAME(cn, pre, ai) {
        if (cn->alias == NULL)
            continue;
        if ((v = maybe_str(cn->alias)) == NULL || PyList_Append(aliases, v) < 0)
            goto fail_v;
        Py_DECREF(v);
    }
    for (const struct ares_addrinfo_node *n = ai->nodes; n != NULL; n = n->ai_next) {
        if (n->ai_family != family || n->ai_addr == NULL)
            continue;
        const void *a = family == AF_INET ? (const void *)&((const struct sockaddr_in *)n->ai_addr)->sin_addr
                                          : (const void *)&((const struct sockaddr_in6 *)n->ai_addr)->sin6_addr;
        if (inet_ntop(family, a, ip, sizeof(ip)) == NULL)
            continue;
        if ((v = PyUnicode_FromString(ip)) == NULL || PyList_Append(addrs, v) < 0)
            goto fail_v;
        Py_DECREF(v);
    }
    /* The canonical name: where the CNAME chain (or a hosts-file alias) ends. */
    const char *canonical = ai->name ? ai->name : "";
    FOR_EACH_CNAME(cn, pre, ai) {
        if (cn->name != NULL)
            canonical = cn->name;
    }
    if ((res = result_alloc(st, RT_HOST)) == NULL)
        goto fail;
    if (result_set(res, 0, maybe_str(canonical)) < 0) {
        Py_CLEAR(res);
        goto fail;
    }
    result_set(res, 1, aliases);
    result_set(res, 2, addrs);
    return res;
fail_v:
    Py_XDECREF(v);
fail:
    Py_XDECREF(aliases);
    Py_XDECREF(addrs);
    return NULL;
}

PyObject *nameinfo_result(module_state *st, nameinfo_copy *nc, const nameinfo_asked *asked)
{
    char port[16];
    /* c-ares appends "%0" to numeric IPv6 hosts even without a scope; the system does not. */
    size_t n = strlen(nc->node);
    if (asked != NULL && asked->scope_id == 0 && n > 2 && strcmp(nc->node + n - 2, "%0") == 0)
        nc->node[n - 2] = '\0';
    /* A port no service name is known for is shown as its number, as the system does. */
    if (nc->service == NULL && asked != NULL && (asked->flags & ARES_NI_LOOKUPSERVICE)) {
        PyOS_snprintf(port, sizeof(port), "%d", asked->port);
        nc->service = port;
    }
    PyObject *res = result_alloc(st, RT_NAMEINFO);
    if (res == NULL)
        return NULL;
    PyObject *service = nc->service ? maybe_str(nc->service) : (Py_INCREF(Py_None), Py_None);
    /* both stored before either is checked: the result owns them, even on failure */
    int bad = result_set(res, 0, maybe_str(nc->node)) < 0;
    bad |= result_set(res, 1, service) < 0;
    if (bad)
        Py_CLEAR(res);
    return res;
}

/* (ip bytes, port) or (ip bytes, port, flowinfo, scope_id), as pycares 4 gives it. */
static PyObject *sockaddr_tuple(const struct sockaddr *sa)
{
    char ip[INET6_ADDRSTRLEN];
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        if (inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip)) == NULL)
            return PyErr_SetFromErrno(PyExc_OSError);
        return Py_BuildValue("(yi)", ip, ntohs(s4->sin_port));
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        if (inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip)) == NULL)
            return PyErr_SetFromErrno(PyExc_OSError);
        return Py_BuildValue("(yiII)", ip, ntohs(s6->sin6_port), ntohl(s6->sin6_flowinfo), s6->sin6_scope_id);
    }
    PyErr_Format(PyExc_ValueError, "unexpected address family %d", sa->sa_family);
    return NULL;
}

/* socket.AF_INET / socket.AF_INET6 as pycares 4 gives them (AddressFamily members); new reference. */
static PyObject *family_object(module_state *st, int family)
{
    PyObject **slot = family == AF_INET ? &st->af_inet : &st->af_inet6;
    if (*slot == NULL) {
        PyObject *socket_module = PyImport_ImportModule("socket");
        if (socket_module == NULL)
            return NULL;
        *slot = PyObject_GetAttrString(socket_module, family == AF_INET ? "AF_INET" : "AF_INET6");
        Py_DECREF(socket_module);
        if (*slot == NULL)
            return NULL;
    }
    Py_INCREF(*slot);
    return *slot;
}

static int append_node(module_state *st, PyObject *nodes, int ttl, int flags, int socktype, int protocol,
                       const struct sockaddr *sa)
{
    PyObject *item = result_alloc(st, RT_ADDRINFO_NODE);
    if (item == NULL)
        return -1;
    /* A TTL with its top bit set is 0 (RFC 2181 section 8), as query() reports it. */
    int rc = (result_set(item, 0, PyLong_FromLong(ttl < 0 ? 0 : ttl)) < 0 ||
              result_set(item, 1, PyLong_FromLong(flags)) < 0 ||
              result_set(item, 2, family_object(st, sa->sa_family)) < 0 ||
              result_set(item, 3, PyLong_FromLong(socktype)) < 0 || result_set(item, 4, PyLong_FromLong(protocol)) < 0 ||
              result_set(item, 5, sockaddr_tuple(sa)) < 0 || PyList_Append(nodes, item) < 0)
                 ? -1
                 : 0;
    Py_DECREF(item);
    return rc;
}

PyObject *literal_result(module_state *st, const literal_copy *lc)
{
    char ip[INET6_ADDRSTRLEN];
    PyObject *res = result_alloc(st, RT_HOST);
    if (res == NULL)
        return NULL;
    inet_ntop(lc->family, lc->addr, ip, sizeof(ip));
    if (result_set(res, 0, PyUnicode_FromString(ip)) < 0 || result_set(res, 1, PyList_New(0)) < 0 ||
        result_set(res, 2, Py_BuildValue("[s]", ip)) < 0)
        Py_CLEAR(res);
    return res;
}

static int same_address(const struct sockaddr *a, const struct sockaddr *b)
{
    if (a->sa_family != b->sa_family)
        return 0;
    if (a->sa_family == AF_INET)
        return memcmp(&((const struct sockaddr_in *)a)->sin_addr, &((const struct sockaddr_in *)b)->sin_addr, 4) == 0;
    return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr, &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
}

/* One address, once per planned socket type with that type's port. */
static int append_planned(module_state *st, PyObject *nodes, int ttl, int flags, const struct sockaddr *sa,
                          const gai_plan *plan)
{
    struct sockaddr_storage ss;
    for (int i = 0; i < plan->n; i++) {
        memset(&ss, 0, sizeof(ss));
        if (sa->sa_family == AF_INET) {
            memcpy(&ss, sa, sizeof(struct sockaddr_in));
            ((struct sockaddr_in *)&ss)->sin_port = htons((unsigned short)plan->e[i].port);
        } else {
            memcpy(&ss, sa, sizeof(struct sockaddr_in6));
            ((struct sockaddr_in6 *)&ss)->sin6_port = htons((unsigned short)plan->e[i].port);
        }
        if (append_node(st, nodes, ttl, flags, plan->e[i].socktype, plan->e[i].protocol, (struct sockaddr *)&ss) < 0)
            return -1;
    }
    return 0;
}

/* An IPv4 address as ::ffff:a.b.c.d (AI_V4MAPPED). */
static void map_v4(const struct sockaddr *sa, struct sockaddr_in6 *out)
{
    memset(out, 0, sizeof(*out));
    out->sin6_family = AF_INET6;
    out->sin6_addr.s6_addr[10] = out->sin6_addr.s6_addr[11] = 0xFF;
    memcpy(&out->sin6_addr.s6_addr[12], &((const struct sockaddr_in *)sa)->sin_addr, 4);
}

/* The addrinfo result of two lists, which it takes over (also on failure). */
static PyObject *addrinfo_of(module_state *st, PyObject *cnames, PyObject *nodes)
{
    PyObject *res = result_alloc(st, RT_ADDRINFO);
    if (res == NULL) {
        Py_DECREF(cnames);
        Py_DECREF(nodes);
        return NULL;
    }
    result_set(res, 0, cnames);
    result_set(res, 1, nodes);
    return res;
}

PyObject *addrinfo_result(module_state *st, const struct ares_addrinfo *ai, const gai_plan *plan,
                                 const struct ares_addrinfo_cname *pre)
{
    PyObject *cnames = PyList_New(0), *nodes = PyList_New(0);
    if (cnames == NULL || nodes == NULL || plan == NULL)
        goto fail;
    FOR_EACH_CNAME(cn, pre, ai) {
        PyObject *item = result_alloc(st, RT_ADDRINFO_CNAME);
        if (item == NULL)
            goto fail;
        if (result_set(item, 0, PyLong_FromLong(cn->ttl < 0 ? 0 : cn->ttl)) < 0 ||
            result_set(item, 1, maybe_str(cn->alias ? cn->alias : "")) < 0 ||
            result_set(item, 2, maybe_str(cn->name ? cn->name : "")) < 0 || PyList_Append(cnames, item) < 0) {
            Py_DECREF(item);
            goto fail;
        }
        Py_DECREF(item);
    }
    int mapped = plan->family == AF_INET6 && (plan->flags & ARES_AI_V4MAPPED), have6 = 0;
    for (int pass = 0; pass < 2; pass++) {
        /* pass 0: the addresses as found; pass 1: IPv4 ones mapped into IPv6 when asked for
         * (none of IPv6 found, or ARES_AI_ALL). */
        if (pass == 1 && !(mapped && (!have6 || (plan->flags & ARES_AI_ALL))))
            break;
        for (const struct ares_addrinfo_node *n = ai->nodes; n != NULL; n = n->ai_next) {
            if (n->ai_addr == NULL)
                continue;
            int dup = 0; /* c-ares may list an address once per socket type */
            for (const struct ares_addrinfo_node *m = ai->nodes; m != n && !dup; m = m->ai_next)
                dup = m->ai_addr != NULL && same_address(m->ai_addr, n->ai_addr);
            if (dup)
                continue;
            if (pass == 0) {
                if (mapped && n->ai_family != AF_INET6)
                    continue;
                have6 |= n->ai_family == AF_INET6;
                if (append_planned(st, nodes, n->ai_ttl, n->ai_flags, n->ai_addr, plan) < 0)
                    goto fail;
            } else if (n->ai_family == AF_INET) {
                struct sockaddr_in6 v6;
                map_v4(n->ai_addr, &v6);
                if (append_planned(st, nodes, n->ai_ttl, n->ai_flags, (struct sockaddr *)&v6, plan) < 0)
                    goto fail;
            }
        }
    }
    return addrinfo_of(st, cnames, nodes);
fail:
    if (plan == NULL && !PyErr_Occurred())
        PyErr_SetString(PyExc_SystemError, "getaddrinfo request without its plan");
    Py_XDECREF(cnames);
    Py_XDECREF(nodes);
    return NULL;
}

PyObject *sys_answer_result(module_state *st, const sys_answer *ans)
{
    PyObject *cnames = PyList_New(0), *nodes = PyList_New(0);
    if (cnames == NULL || nodes == NULL)
        goto fail;
    for (int i = 0; i < ans->n; i++)
        if (append_node(st, nodes, 0, 0, ans->e[i].socktype, ans->e[i].protocol, (struct sockaddr *)&ans->e[i].sa) < 0)
            goto fail;
    return addrinfo_of(st, cnames, nodes);
fail:
    Py_XDECREF(cnames);
    Py_XDECREF(nodes);
    return NULL;
}

/* A host result under pycares 5's class names (same fields); consumes res. */
PyObject *host_result_in_face(module_state *st, PyObject *res, int face)
{
    if (res == NULL || face != 5)
        return res;
    PyTypeObject *tp = Py_TYPE(res);
    if (tp == st->result_types[RT_HOST])
        return result_retype(st, res, RT5_HOST);
    if (tp == st->result_types[RT_NAMEINFO])
        return result_retype(st, res, RT5_NAMEINFO);
    if (tp != st->result_types[RT_ADDRINFO])
        return res;
    /* cnames, then nodes: fresh lists of fresh objects, retyped in place */
    for (int f = 0; f < 2; f++) {
        PyObject *list = ((ResultObject *)res)->f[f];
        for (Py_ssize_t i = 0; list != NULL && PyList_Check(list) && i < PyList_GET_SIZE(list); i++) {
            PyObject *item = PyList_GET_ITEM(list, i);
            Py_INCREF(item);
            PyObject *twin = result_retype(st, item, f == 0 ? RT5_ADDRINFO_CNAME : RT5_ADDRINFO_NODE);
            if (twin == NULL) {
                Py_DECREF(res);
                return NULL;
            }
            PyList_SetItem(list, i, twin); /* cannot fail: i is in range */
        }
    }
    return result_retype(st, res, RT5_ADDRINFO);
}
