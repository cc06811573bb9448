/* Host resolution: gethostbyname, gethostbyaddr, getaddrinfo, getnameinfo.
 *
 * libcares' callbacks run with the channel lock held and maybe without the GIL, so they only copy
 * what libcares hands them (a hostent or two strings, freed by libcares when the callback
 * returns) into plain memory; a getaddrinfo result is already ours to keep. The Python results
 * are built at delivery, with the GIL. Field shapes follow pycares 4. */
#include "host.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "addrsort.h"
#include "args.h"
#include "hostsfile.h"
#include "names.h"
#include "results.h"

/* ---- what libcares reported, copied ---------------------------------------------------------- */

/* A hostent in one block: the struct, two NULL-terminated pointer arrays, then the strings. */
typedef struct {
    char *name;
    char **aliases;
    char **addrs; /* addresses as text */
} host_copy;

static host_copy *host_copy_new(const struct hostent *h)
{
    const char *name = h->h_name ? h->h_name : "";
    size_t naliases = 0, naddrs = 0, text = strlen(name) + 1;
    while (h->h_aliases != NULL && h->h_aliases[naliases] != NULL)
        text += strlen(h->h_aliases[naliases++]) + 1;
    while (h->h_addr_list != NULL && h->h_addr_list[naddrs] != NULL)
        naddrs++;
    text += naddrs * INET6_ADDRSTRLEN;
    size_t ptrs = (naliases + 1 + naddrs + 1) * sizeof(char *);
    host_copy *hc = malloc(sizeof(*hc) + ptrs + text);
    if (hc == NULL)
        return NULL;
    hc->aliases = (char **)(hc + 1);
    hc->addrs = hc->aliases + naliases + 1;
    char *p = (char *)(hc->addrs + naddrs + 1);
    hc->name = p;
    p = stpcpy(p, name) + 1;
    for (size_t i = 0; i < naliases; i++) {
        hc->aliases[i] = p;
        p = stpcpy(p, h->h_aliases[i]) + 1;
    }
    hc->aliases[naliases] = NULL;
    size_t n = 0;
    for (size_t i = 0; i < naddrs; i++) {
        if (inet_ntop(h->h_addrtype, h->h_addr_list[i], p, INET6_ADDRSTRLEN) != NULL) {
            hc->addrs[n++] = p;
            p += INET6_ADDRSTRLEN;
        }
    }
    hc->addrs[n] = NULL;
    return hc;
}

typedef struct {
    char *node;
    char *service; /* NULL when not asked for */
} nameinfo_copy;

static nameinfo_copy *nameinfo_copy_new(const char *node, const char *service)
{
    size_t nn = node ? strlen(node) + 1 : 1, ns = service ? strlen(service) + 1 : 0;
    nameinfo_copy *nc = malloc(sizeof(*nc) + nn + ns);
    if (nc == NULL)
        return NULL;
    nc->node = (char *)(nc + 1);
    strcpy(nc->node, node ? node : "");
    nc->service = service ? strcpy(nc->node + nn, service) : NULL;
    return nc;
}

/* A literal address answered without libcares (see implied_flags). */
typedef struct {
    int family, port, socktype, protocol;
    unsigned char addr[16];
} literal_copy;

/* The node shape for a name's addresses: socket type, protocol and port (gai_plan_make). */
typedef struct {
    int n;
    struct {
        int socktype, protocol, port;
    } e[8];
    int family, flags; /* as asked */
} gai_plan;

/* glibc's whole answer for a literal or missing host: no lookup was involved. */
typedef struct {
    int n;
    struct {
        int socktype, protocol;
        struct sockaddr_storage sa;
    } e[];
} sys_answer;

/* What getnameinfo was asked, for shaping its result like the system's. */
typedef struct {
    int port, flags;
    unsigned scope_id;
} nameinfo_asked;

/* A forward lookup (getaddrinfo, gethostbyname) in steps: on own_files generations the hosts
 * file (hostsfile.c) and libcares' DNS-only getaddrinfo in the generation's lookups order, as
 * c-ares 1.18 orders them itself; elsewhere one libcares call. libcares never sorts (NOSORT):
 * addr_sort() does, when there is more than one address. */
typedef struct {
    char *name;       /* as asked: what libcares is given */
    char *files_name; /* what the hosts file is searched for: the HOSTALIASES alias, or name */
    struct ares_addrinfo_hints hints;
    int sort;         /* the caller did not ask for ARES_AI_NOSORT */
    const char *next; /* lookups still to do, into the generation's */
    int status;       /* the last failure so far */
    int own;          /* the payload was made by hostsfile.c */
    struct ares_addrinfo *misses; /* CNAME entries of hosts-file lines without an address of the
                                   * family: c-ares lists them before a DNS answer's */
} fwd_steps;

/* A reverse lookup (gethostbyaddr, getnameinfo) in steps, on own_files generations. */
typedef struct {
    const char *next;
    struct sockaddr_storage sa;
    ares_socklen_t len;
    int flags; /* getnameinfo's */
} rev_steps;

void host_payload_free(request *r)
{
    free(r->cares_hosts);
    r->cares_hosts = NULL;
    int own = 0;
    if ((r->kind == REQ_ADDRINFO || r->kind == REQ_HOST_AI) && r->steps != NULL) {
        fwd_steps *s = r->steps;
        own = s->own;
        free(s->name);
        free(s->files_name);
        hosts_addrinfo_free(s->misses);
    }
    free(r->steps);
    r->steps = NULL;
    free(r->extra);
    r->extra = NULL;
    if (r->payload == NULL)
        return;
    if (r->kind == REQ_ADDRINFO || r->kind == REQ_HOST_AI) {
        if (own)
            hosts_addrinfo_free(r->payload);
        else
            ares_freeaddrinfo(r->payload);
    } else {
        free(r->payload);
    }
    r->payload = NULL;
}

/* ---- libcares callbacks: record only ----------------------------------------------------------- */

static void on_host(void *arg, int status, int timeouts, struct hostent *h)
{
    request *r = arg;
    r->status = reply_status(r->core, status);
    if (status == ARES_SUCCESS) {
        if (h == NULL)
            r->status = ARES_EBADRESP;
        else if ((r->payload = host_copy_new(h)) == NULL)
            r->status = ARES_ENOMEM;
    }
    request_finished(r);
}

/* lookups without "b": c-ares reports a hosts-file miss with its initial ECONNREFUSED, though no
 * server was asked. */
static int files_only(chan_core *c)
{
    return c->opts.lookups != NULL && strchr(c->opts.lookups, 'b') == NULL;
}

static int without_dns(request *r)
{
    return r->gen->lookups[0] != '\0' ? strchr(r->gen->lookups, 'b') == NULL : files_only(r->core);
}

static void fwd_finish(request *r, int status, struct ares_addrinfo *ai, int own)
{
    fwd_steps *s = r->steps;
    if (status == ARES_ECONNREFUSED && without_dns(r))
        status = ARES_ENOTFOUND;
    if (status == ARES_SUCCESS && ai != NULL) {
        if (s->sort && addr_sort(&ai->nodes) < 0)
            status = ARES_ENOMEM;
        r->payload = ai;
        s->own = own;
    } else {
        if (ai != NULL && own)
            hosts_addrinfo_free(ai);
        else if (ai != NULL)
            ares_freeaddrinfo(ai);
        if (status == ARES_SUCCESS)
            status = ARES_EBADRESP;
    }
    r->status = status;
    request_finished(r);
}

/* A hosts-file miss may still have matched lines (of another family): keep their CNAMEs. */
static void keep_misses(fwd_steps *s, struct ares_addrinfo *ai)
{
    if (ai->cnames != NULL && s->misses == NULL) {
        s->misses = ai;
        return;
    }
    if (ai->cnames != NULL) {
        struct ares_addrinfo_cname **tail = &s->misses->cnames;
        while (*tail != NULL)
            tail = &(*tail)->next;
        *tail = ai->cnames;
        ai->cnames = NULL;
    }
    hosts_addrinfo_free(ai);
}

static void on_addrinfo(void *arg, int status, int timeouts, struct ares_addrinfo *res);

/* The next lookup step of r (lock held; also from inside libcares' callbacks). */
static void fwd_next(ares_channel ch, request *r)
{
    fwd_steps *s = r->steps;
    for (; *s->next; s->next++) {
        if (*s->next == 'f') {
            struct ares_addrinfo *ai = NULL;
            int rc = hosts_forward(&r->core->hosts, hosts_path(r->cares_hosts), s->files_name,
                                   s->hints.ai_family,
                                   s->hints.ai_flags & ARES_AI_CANONNAME, &ai);
            if (rc == ARES_SUCCESS) {
                fwd_finish(r, ARES_SUCCESS, ai, 1);
                return;
            }
            if (rc == ARES_ENOMEM) {
                fwd_finish(r, ARES_ENOMEM, ai, 1);
                return;
            }
            if (ai != NULL)
                keep_misses(s, ai);
        } else if (*s->next == 'b' && strcmp(s->files_name, "localhost") != 0) {
            /* RFC 6761: localhost is never asked of DNS (c-ares skips it the same way) */
            s->next++;
            ares_getaddrinfo(ch, s->name, NULL, &s->hints, on_addrinfo, r);
            return;
        }
    }
    fwd_finish(r, s->status, NULL, 0);
}

static void on_addrinfo(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
    request *r = arg;
    fwd_steps *s = r->steps;
    status = reply_status(r->core, status);
    if (status == ARES_SUCCESS && res != NULL) {
        fwd_finish(r, ARES_SUCCESS, res, 0);
        return;
    }
    if (res != NULL)
        ares_freeaddrinfo(res);
    if ((status == ARES_ENOTFOUND || status == ARES_ENODATA) && *s->next) {
        s->status = status; /* DNS said no: the hosts file may still know the name */
        fwd_next(r->gen->ch, r);
        return;
    }
    fwd_finish(r, status, NULL, 0);
}

static int is_onion(const char *name)
{
    size_t n = strlen(name);
    return (n >= 6 && strcasecmp(name + n - 6, ".onion") == 0) || (n >= 7 && strcasecmp(name + n - 7, ".onion.") == 0);
}

static void on_nameinfo(void *arg, int status, int timeouts, char *node, char *service)
{
    request *r = arg;
    r->status = status;
    if (status == ARES_SUCCESS && (r->payload = nameinfo_copy_new(node, service)) == NULL)
        r->status = ARES_ENOMEM;
    request_finished(r);
}

/* ---- results ----------------------------------------------------------------------------------- */

/* pycares' maybe_str: str when ASCII, else bytes (hosts files may hold any octets). */
static PyObject *maybe_str(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p & 0x80)
            return PyBytes_FromString(s);
    return PyUnicode_FromString(s);
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

static PyObject *host_result(module_state *st, const host_copy *hc)
{
    PyObject *res = result_alloc(st, RT_HOST);
    if (res == NULL)
        return NULL;
    if (result_set(res, 0, maybe_str(hc->name)) < 0 || result_set(res, 1, str_list(hc->aliases)) < 0 ||
        result_set(res, 2, str_list(hc->addrs)) < 0)
        Py_CLEAR(res);
    return res;
}

/* gethostbyname's result from getaddrinfo's, as c-ares builds a hostent: the canonical name, the
 * CNAME aliases, and the addresses of one family (for AF_UNSPEC, that of the first address). */
/* The CNAME entries of a result: the hosts-file misses first (pre), then the answer's. */
#define FOR_EACH_CNAME(cn, pre, ai)                                                                       \
    for (int cn##_list = 0; cn##_list < 2; cn##_list++)                                                  \
        for (const struct ares_addrinfo_cname *cn = cn##_list == 0 ? (pre) : (ai)->cnames; cn != NULL; cn = cn->next)

static PyObject *host_result_from_ai(module_state *st, const struct ares_addrinfo *ai, int family,
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

static PyObject *nameinfo_result(module_state *st, nameinfo_copy *nc, const nameinfo_asked *asked)
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

static PyObject *literal_result(module_state *st, const literal_copy *lc, int as_host)
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

static PyObject *addrinfo_result(module_state *st, const struct ares_addrinfo *ai, const gai_plan *plan,
                                 const struct ares_addrinfo_cname *pre)
{
    PyObject *cnames = PyList_New(0), *nodes = PyList_New(0), *res = NULL;
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
    if ((res = result_alloc(st, RT_ADDRINFO)) == NULL)
        goto fail;
    result_set(res, 0, cnames);
    result_set(res, 1, nodes);
    return res;
fail:
    if (plan == NULL && !PyErr_Occurred())
        PyErr_SetString(PyExc_SystemError, "getaddrinfo request without its plan");
    Py_XDECREF(cnames);
    Py_XDECREF(nodes);
    return NULL;
}

static PyObject *sys_answer_result(module_state *st, const sys_answer *ans)
{
    PyObject *cnames = PyList_New(0), *nodes = PyList_New(0), *res = NULL;
    if (cnames == NULL || nodes == NULL)
        goto fail;
    for (int i = 0; i < ans->n; i++)
        if (append_node(st, nodes, 0, 0, ans->e[i].socktype, ans->e[i].protocol, (struct sockaddr *)&ans->e[i].sa) < 0)
            goto fail;
    if ((res = result_alloc(st, RT_ADDRINFO)) == NULL)
        goto fail;
    result_set(res, 0, cnames);
    result_set(res, 1, nodes);
    return res;
fail:
    Py_XDECREF(cnames);
    Py_XDECREF(nodes);
    return NULL;
}

static const struct ares_addrinfo_cname *misses_of(const request *r)
{
    const fwd_steps *s = r->steps;
    return s != NULL && s->misses != NULL ? s->misses->cnames : NULL;
}

PyObject *host_build(module_state *st, request *r)
{
    switch (r->kind) {
    case REQ_HOST: {
        PyObject *res = host_result(st, r->payload);
        /* gethostbyaddr: the address asked about, as the system gives it (c-ares >= 1.22 lists
         * every address of the hosts-file entry). */
        if (res != NULL && r->extra != NULL) {
            PyObject *asked = Py_BuildValue("[s]", (char *)r->extra);
            if (asked == NULL)
                Py_CLEAR(res);
            else
                Py_XSETREF(((ResultObject *)res)->f[2], asked);
        }
        return res;
    }
    case REQ_ADDRINFO:
        return addrinfo_result(st, r->payload, r->extra, misses_of(r));
    case REQ_HOST_AI:
        return host_result_from_ai(st, r->payload, r->qtype, misses_of(r));
    case REQ_LITERAL_AI:
        return sys_answer_result(st, r->payload);
    case REQ_LITERAL_HOST:
        return literal_result(st, r->payload, 1);
    case REQ_NAMEINFO:
        return nameinfo_result(st, r->payload, r->extra);
    default:
        PyErr_SetString(PyExc_SystemError, "unknown request kind");
        return NULL;
    }
}

/* ---- what the system says, where no lookup is involved ------------------------------------------ */

/* The C library's getaddrinfo on a numeric host, or none, looks nothing up: it only reads
 * /etc/services. Asking it gives exactly the socket types, protocols, ports and (for literals)
 * addresses socket.getaddrinfo lists, on every c-ares version. */

static int eai_to_ares(int eai)
{
    switch (eai) {
    case EAI_SERVICE:
        return ARES_ESERVICE;
    case EAI_SOCKTYPE:
        return ARES_EBADHINTS;
    case EAI_BADFLAGS:
        return ARES_EBADFLAGS;
    case EAI_FAMILY:
        return ARES_EBADFAMILY;
    case EAI_MEMORY:
        return ARES_ENOMEM;
    case EAI_NONAME:
#ifdef EAI_ADDRFAMILY
    case EAI_ADDRFAMILY:
#endif
#ifdef EAI_NODATA
    case EAI_NODATA:
#endif
        return ARES_ENOTFOUND;
    default:
        return ARES_EBADHINTS;
    }
}

static int system_flags(int aflags)
{
    return ((aflags & ARES_AI_PASSIVE) ? AI_PASSIVE : 0) | ((aflags & ARES_AI_NUMERICSERV) ? AI_NUMERICSERV : 0) |
           ((aflags & ARES_AI_V4MAPPED) ? AI_V4MAPPED : 0) | ((aflags & ARES_AI_ALL) ? AI_ALL : 0);
}

static int is_number(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

static int system_getaddrinfo(const char *host, const char *service, int family, int socktype, int protocol,
                              int aflags, struct addrinfo **out)
{
    struct addrinfo hints;
    /* AI_NUMERICSERV with a service name: the system says "no such name"; it is a service error. */
    if (service != NULL && (aflags & ARES_AI_NUMERICSERV) && !is_number(service))
        return ARES_ESERVICE;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = family;
    hints.ai_socktype = socktype;
    hints.ai_protocol = protocol;
    hints.ai_flags = system_flags(aflags) | (host != NULL ? AI_NUMERICHOST : 0);
    int rc;
    Py_BEGIN_ALLOW_THREADS /* AI_ADDRCONFIG asks the kernel; a service name reads NSS */
    rc = getaddrinfo(host, service, &hints, out);
    Py_END_ALLOW_THREADS
    return rc == 0 ? ARES_SUCCESS : eai_to_ares(rc);
}

/* The port libcares 1.34 (pycares 4.11's) gives a service: none → 0; a name /etc/services knows
 * for tcp (unless NUMERICSERV); else the number strtoul() reads, at most 65535. One deliberate
 * difference: text with no number at all is ARES_ESERVICE, where libcares looks up port 0. */
static int cares_port(const char *service, int aflags, int *port)
{
    *port = 0;
    if (service == NULL)
        return ARES_SUCCESS;
    /* Digits only cannot be a service name (RFC 6335: names contain a letter), so "80" skips
     * the NSS lookup, which parses /etc/services on every call (most of getaddrinfo's cost). */
    int digits = service[0] != '\0' && strspn(service, "0123456789") == strlen(service);
    if (!(aflags & ARES_AI_NUMERICSERV) && !digits) {
        struct servent se, *found = NULL;
        char buf[4096];
        int rc;
        Py_BEGIN_ALLOW_THREADS /* NSS may read files or ask a daemon */
        rc = getservbyname_r(service, "tcp", &se, buf, sizeof(buf), &found);
        Py_END_ALLOW_THREADS
        if (rc == 0 && found != NULL && ntohs((unsigned short)found->s_port) != 0) {
            *port = ntohs((unsigned short)found->s_port);
            return ARES_SUCCESS;
        }
    }
    char *end;
    errno = 0;
    unsigned long v = strtoul(service, &end, 0);
    if (end == service || (v == 0 && errno != 0) || v > 65535)
        return ARES_ESERVICE;
    *port = (int)v;
    return ARES_SUCCESS;
}

/* libcares' shape for every address: one node, the hints' socket type and protocol, the port. */
static void gai_plan_make(int family, int socktype, int protocol, int aflags, int port, gai_plan *plan)
{
    plan->n = 1;
    plan->family = family;
    plan->flags = aflags;
    plan->e[0].socktype = socktype;
    plan->e[0].protocol = protocol;
    plan->e[0].port = port;
}

/* The whole answer for a literal host or none. */
static int sys_answer_make(const char *host, int port, int family, int socktype, int protocol, int aflags,
                           sys_answer **out)
{
    struct addrinfo *res;
    /* one entry per address (SOCK_STREAM), then libcares' node shape: the hints' type and protocol */
    int rc = system_getaddrinfo(host, NULL, family, SOCK_STREAM, 0, aflags, &res), n = 0;
    if (rc != ARES_SUCCESS)
        return rc;
    for (struct addrinfo *it = res; it != NULL; it = it->ai_next)
        n++;
    sys_answer *ans = malloc(sizeof(*ans) + (size_t)n * sizeof(ans->e[0]));
    if (ans == NULL) {
        freeaddrinfo(res);
        return ARES_ENOMEM;
    }
    ans->n = 0;
    for (struct addrinfo *it = res; it != NULL; it = it->ai_next) {
        if (it->ai_addrlen > sizeof(struct sockaddr_storage))
            continue;
        memset(&ans->e[ans->n].sa, 0, sizeof(ans->e[ans->n].sa));
        memcpy(&ans->e[ans->n].sa, it->ai_addr, it->ai_addrlen);
        if (it->ai_family == AF_INET)
            ((struct sockaddr_in *)&ans->e[ans->n].sa)->sin_port = htons((unsigned short)port);
        else
            ((struct sockaddr_in6 *)&ans->e[ans->n].sa)->sin6_port = htons((unsigned short)port);
        ans->e[ans->n].socktype = socktype;
        ans->e[ans->n].protocol = protocol;
        ans->n++;
    }
    freeaddrinfo(res);
    *out = ans;
    return ARES_SUCCESS;
}

static void issue_literal(ares_channel ch, request *r, void *arg);

/* A request answered right here: status, and what to build the result from (may be NULL). */
static int submit_immediate(chan_core *c, PyObject *callback, int kind, int status, void *payload)
{
    request *r = request_new(c, callback, kind);
    if (r == NULL) {
        free(payload);
        return -1;
    }
    r->status = status;
    r->payload = payload;
    if (status == ARES_SUCCESS && payload == NULL)
        r->status = ARES_ENOMEM;
    return request_submit(c, r, issue_literal, NULL);
}

static int is_literal(const char *name)
{
    unsigned char addr[16];
    return inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1;
}

/* "LocalHost" is localhost: c-ares 1.18 only knows it in lower case. */
static void fold_localhost(char *name)
{
    if (strcasecmp(name, "localhost") == 0 || strcasecmp(name, "localhost.") == 0)
        for (char *p = name; *p; p++)
            *p = (char)tolower((unsigned char)*p);
}

/* ---- arguments --------------------------------------------------------------------------------- */

/* 0 with *family set; 1 for an int that is no address family (pycares 4 and libcares report
 * that through the callback); -1 with TypeError for a non-int. */
static int family_arg(PyObject *obj, int *family)
{
    long v = 0;
    if (obj == Py_None) { /* pycares 4 hands it to C as an int */
        PyErr_SetString(PyExc_TypeError, "family must be an int, not None");
        return -1;
    }
    if (ctype_int_option(obj, "family", INT_MIN, INT_MAX, INT_MIN, INT_MAX, &v) < 0)
        return -1;
    if (v != AF_INET && v != AF_INET6 && v != AF_UNSPEC)
        return 1;
    *family = (int)v;
    return 0;
}

static int callback_arg(PyObject *obj)
{
    if (PyCallable_Check(obj))
        return 0;
    PyErr_SetString(PyExc_TypeError, "callback must be callable");
    return -1;
}

/* ---- the methods ------------------------------------------------------------------------------- */

#define CORE(self) (((ChannelObject *)(self))->core)

typedef struct {
    const char *name, *service;
    struct ares_addrinfo_hints hints;
} addrinfo_args;

static char *alias_in_file(const char *path, const char *name);

/* HOSTALIASES, as c-ares applies it before its hosts-file step: a name without a dot may be
 * another name's alias ("alias name" lines). NULL when it is not. */
static char *host_alias(chan_core *c, const char *name)
{
    const char *env = getenv("HOSTALIASES"); /* GIL held: no os.putenv() meanwhile */
    if (env == NULL || strchr(name, '.') != NULL ||
        ((c->optmask & ARES_OPT_FLAGS) && (c->opts.flags & ARES_FLAG_NOALIASES)))
        return NULL;
    char *path = strdup(env);
    if (path == NULL)
        return NULL;
    char *found = NULL;
    /* The file may be anywhere (a slow or hung file system): read it without the GIL. */
    Py_BEGIN_ALLOW_THREADS
    found = alias_in_file(path, name);
    Py_END_ALLOW_THREADS
    free(path);
    return found;
}

/* The first "name alias-target" line of the file for name; NULL if none. No Python. */
static char *alias_in_file(const char *path, const char *name)
{
    FILE *fp = fopen(path, "re");
    if (fp == NULL)
        return NULL;
    char line[1024];
    size_t n = strlen(name);
    char *found = NULL;
    while (found == NULL && fgets(line, sizeof(line), fp) != NULL) {
        if (strncasecmp(line, name, n) != 0 || !isspace((unsigned char)line[n]))
            continue;
        char *p = line + n;
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '\0')
            continue;
        size_t len = 1;
        while (p[len] && !isspace((unsigned char)p[len]))
            len++;
        found = strndup(p, len);
    }
    fclose(fp);
    return found;
}

/* The steps of a forward lookup of name (GIL held, before the request is submitted). */
static fwd_steps *fwd_steps_new(chan_core *c, const char *name, const struct ares_addrinfo_hints *hints)
{
    fwd_steps *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->name = strdup(name);
    s->files_name = host_alias(c, name);
    if (s->files_name == NULL)
        s->files_name = strdup(name);
    if (s->name == NULL || s->files_name == NULL) {
        free(s->name);
        free(s->files_name);
        free(s);
        return NULL;
    }
    s->hints = *hints;
    s->sort = !(hints->ai_flags & ARES_AI_NOSORT);
    s->hints.ai_flags |= ARES_AI_NOSORT;
    s->next = "";
    s->status = ARES_ECONNREFUSED; /* c-ares' "nothing tried yet" */
    return s;
}

static void issue_addrinfo(ares_channel ch, request *r, void *arg)
{
    fwd_steps *s = r->steps;
    if (r->gen->libcares_only && s->sort) {
        s->sort = 0;
        s->hints.ai_flags &= ~ARES_AI_NOSORT;
    }
    if (!r->gen->own_files) {
        ares_getaddrinfo(ch, s->name, NULL, &s->hints, on_addrinfo, r);
    } else if (is_onion(s->name)) {
        fwd_finish(r, ARES_ENOTFOUND, NULL, 0); /* RFC 7686, before any lookup, as c-ares does */
    } else {
        s->next = r->gen->lookups;
        fwd_next(ch, r);
    }
}

/* Submits a forward lookup request of `kind` for name (GIL held). */
static int submit_forward(chan_core *c, PyObject *callback, int kind, const char *name,
                          const struct ares_addrinfo_hints *hints, void *extra, int qtype)
{
    request *r = request_new(c, callback, kind);
    if (r == NULL) {
        free(extra);
        return -1;
    }
    r->extra = extra;
    r->qtype = qtype;
    r->may_block = may_read_hostaliases(c, name);
    if ((r->steps = fwd_steps_new(c, name, hints)) == NULL) {
        host_payload_free(r);
        Py_DECREF(r->callback);
        PyMem_Free(r);
        PyErr_NoMemory();
        return -1;
    }
    return request_submit(c, r, issue_addrinfo, NULL);
}

/* A hosts file named by CARES_HOSTS is read as c-ares >= 1.22 does by itself (1.18 reads it only
 * for getaddrinfo with ARES_AI_ENVHOSTS). */
static int implied_flags(void)
{
    return getenv("CARES_HOSTS") != NULL ? ARES_AI_ENVHOSTS : 0;
}

static void issue_literal(ares_channel ch, request *r, void *arg)
{
    request_finished(r); /* answered without libcares: delivered like any other result */
}

/* Literal addresses never reach libcares: 1.18 also sends an IPv4 literal to DNS for AF_UNSPEC
 * and AF_INET6 (and "::1" for AF_INET), merging whatever comes back. Answering here gives the
 * same result on every c-ares, without the network. Returns 1 if name was a literal (the request
 * is submitted or an exception set: *rc tells), 0 if it is a name. */
static int submit_literal(chan_core *c, PyObject *callback, const char *name, int family, int flags,
                          const char *service, int socktype, int protocol, int as_host, int *rc)
{
    literal_copy lc;
    memset(&lc, 0, sizeof(lc));
    if (inet_pton(AF_INET, name, lc.addr) == 1)
        lc.family = AF_INET;
    else if (inet_pton(AF_INET6, name, lc.addr) == 1)
        lc.family = AF_INET6;
    else
        return 0;
    int status = ARES_SUCCESS;
    if (family == AF_INET6 && lc.family == AF_INET && (flags & ARES_AI_V4MAPPED) && !as_host) {
        memmove(lc.addr + 12, lc.addr, 4); /* ::ffff:a.b.c.d */
        memset(lc.addr, 0, 10);
        lc.addr[10] = lc.addr[11] = 0xFF;
        lc.family = AF_INET6;
    } else if (family != AF_UNSPEC && family != lc.family) {
        status = ARES_ENOTFOUND; /* no address of the asked family */
    }
    if (service != NULL) {
        char *end;
        long port = strtol(service, &end, 10);
        if (*end == '\0' && port >= 0 && port <= 65535) {
            lc.port = (int)port;
        } else if (flags & ARES_AI_NUMERICSERV) {
            status = ARES_ESERVICE;
        } else {
            struct servent se, *found = NULL;
            char tmp[1024];
            const char *proto = socktype == SOCK_DGRAM ? "udp" : "tcp";
            Py_BEGIN_ALLOW_THREADS /* NSS may read files or ask a daemon */
            getservbyname_r(service, proto, &se, tmp, sizeof(tmp), &found);
            Py_END_ALLOW_THREADS
            if (found != NULL)
                lc.port = ntohs((unsigned short)found->s_port);
            else
                status = ARES_ESERVICE;
        }
    }
    lc.socktype = socktype;
    lc.protocol = protocol;
    request *r = request_new(c, callback, as_host ? REQ_LITERAL_HOST : REQ_LITERAL_AI);
    if (r == NULL) {
        *rc = -1;
        return 1;
    }
    r->status = status;
    if (status == ARES_SUCCESS && (r->payload = malloc(sizeof(lc))) != NULL)
        memcpy(r->payload, &lc, sizeof(lc));
    else if (status == ARES_SUCCESS)
        r->status = ARES_ENOMEM;
    *rc = request_submit(c, r, issue_literal, NULL);
    return 1;
}

PyObject *Channel_gethostbyname(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"name", "family", "callback", NULL};
    chan_core *c = CORE(self);
    PyObject *a[3];
    char buf[NAME_BUF_SIZE];
    addrinfo_args g;

    memset(&g, 0, sizeof(g));
    int bad_family;
    /* pycares 4's order: the callback, the closed channel, the name, the family */
    if (parse_args("gethostbyname", args, nargs, kwnames, names, 3, a) < 0 || callback_arg(a[2]) < 0 ||
        check_open(c) < 0)
        return NULL;
    Py_ssize_t n = name_encode_request(c->st, a[0], buf, "name");
    if (n == -1 || (bad_family = family_arg(a[1], &g.hints.ai_family)) < 0)
        return NULL;
    /* libcares' order: the family first (ENOTIMP), then the name (EBADNAME). */
    if (bad_family || n == NAME_REPORT)
        return request_submit_status(c, a[2], REQ_LITERAL_HOST, bad_family ? ARES_ENOTIMP : ARES_EBADNAME) < 0
            ? NULL : (Py_INCREF(Py_None), Py_None);
    fold_localhost(buf);
    if (buf[0] == '\0' || strcmp(buf, ".") == 0) /* no host name at all: nothing to look up */
        return submit_immediate(c, a[2], REQ_LITERAL_HOST, ARES_ENOTFOUND, NULL) < 0 ? NULL : (Py_INCREF(Py_None), Py_None);
    int rc;
    if (submit_literal(c, a[2], buf, g.hints.ai_family, 0, NULL, 0, 0, 1, &rc)) {
        if (rc < 0)
            return NULL;
        Py_RETURN_NONE;
    }
    /* What c-ares' own gethostbyname does, through getaddrinfo so CARES_HOSTS applies. */
    g.hints.ai_flags = ARES_AI_CANONNAME | implied_flags();
    if (submit_forward(c, a[2], REQ_HOST_AI, buf, &g.hints, NULL, g.hints.ai_family) < 0)
        return NULL;
    Py_RETURN_NONE;
}

typedef struct {
    unsigned char addr[16];
    int family;
} byaddr_args;

static const void *rev_addr(const rev_steps *s, int *family)
{
    *family = s->sa.ss_family;
    if (s->sa.ss_family == AF_INET)
        return &((const struct sockaddr_in *)&s->sa)->sin_addr;
    return &((const struct sockaddr_in6 *)&s->sa)->sin6_addr;
}

static void on_host_step(void *arg, int status, int timeouts, struct hostent *h);

/* gethostbyaddr on an own_files generation: the hosts file and PTR queries in lookups order. */
static void rev_next(ares_channel ch, request *r)
{
    rev_steps *s = r->steps;
    int family;
    const void *addr = rev_addr(s, &family);
    for (; *s->next; s->next++) {
        if (*s->next == 'f') {
            struct hostent *h = NULL;
            if (hosts_reverse(&r->core->hosts, hosts_path(r->cares_hosts), family, addr, &h) == ARES_SUCCESS) {
                r->payload = host_copy_new(h);
                r->status = r->payload != NULL ? ARES_SUCCESS : ARES_ENOMEM;
                hosts_hostent_free(h);
                request_finished(r);
                return;
            }
        } else if (*s->next == 'b') {
            s->next++;
            ares_gethostbyaddr(ch, addr, family == AF_INET ? 4 : 16, family, on_host_step, r);
            return;
        }
    }
    r->status = ARES_ENOTFOUND;
    request_finished(r);
}

static void on_host_step(void *arg, int status, int timeouts, struct hostent *h)
{
    request *r = arg;
    if (status == ARES_ENOTFOUND) { /* no PTR answer (any DNS failure): the hosts file may know */
        rev_next(r->gen->ch, r);
        return;
    }
    on_host(arg, status, timeouts, h);
}

/* Reverse-lookup steps for an own_files generation; NULL (and r finished with ENOMEM) if out of
 * memory. */
static rev_steps *rev_steps_new(request *r, const struct sockaddr *sa, ares_socklen_t len, int flags)
{
    rev_steps *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        r->status = ARES_ENOMEM;
        request_finished(r);
        return NULL;
    }
    memcpy(&s->sa, sa, (size_t)len);
    s->len = len;
    s->flags = flags;
    s->next = r->gen->lookups;
    r->steps = s;
    return s;
}

static void issue_byaddr(ares_channel ch, request *r, void *arg)
{
    byaddr_args *a = arg;
    if (!r->gen->own_files) {
        ares_gethostbyaddr(ch, a->addr, a->family == AF_INET ? 4 : 16, a->family, on_host, r);
        return;
    }
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    ss.ss_family = (sa_family_t)a->family;
    if (a->family == AF_INET)
        memcpy(&((struct sockaddr_in *)&ss)->sin_addr, a->addr, 4);
    else
        memcpy(&((struct sockaddr_in6 *)&ss)->sin6_addr, a->addr, 16);
    if (rev_steps_new(r, (struct sockaddr *)&ss, a->family == AF_INET ? sizeof(struct sockaddr_in)
                                                                      : sizeof(struct sockaddr_in6), 0) != NULL)
        rev_next(ch, r);
}

PyObject *Channel_gethostbyaddr(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"addr", "callback", NULL};
    chan_core *c = CORE(self);
    PyObject *a[2];
    byaddr_args b;

    if (parse_args("gethostbyaddr", args, nargs, kwnames, names, 2, a) < 0 || callback_arg(a[1]) < 0 ||
        parse_ip(a[0], "addr", &b.family, b.addr) < 0 || check_open(c) < 0)
        return NULL;
    char text[INET6_ADDRSTRLEN];
    request *r = request_new(c, a[1], REQ_HOST);
    if (r == NULL)
        return NULL;
    if (inet_ntop(b.family, b.addr, text, sizeof(text)) != NULL)
        r->extra = strdup(text);
    if (request_submit(c, r, issue_byaddr, &b) < 0)
        return NULL;
    Py_RETURN_NONE;
}

#define KNOWN_AI_FLAGS                                                                                         \
    (ARES_AI_CANONNAME | ARES_AI_NUMERICHOST | ARES_AI_PASSIVE | ARES_AI_NUMERICSERV | ARES_AI_V4MAPPED |      \
     ARES_AI_ALL | ARES_AI_ADDRCONFIG | ARES_AI_NOSORT | ARES_AI_ENVHOSTS | ARES_AI_IDN |                      \
     ARES_AI_IDN_ALLOW_UNASSIGNED | ARES_AI_IDN_USE_STD3_ASCII_RULES | ARES_AI_CANONIDN)

/* The port as libcares wants it: decimal text, a service name, or NULL. */
static int service_arg(PyObject *port, char *buf, size_t size, const char **out)
{
    PyObject *keep = NULL;
    if (port == NULL || port == Py_None) {
        *out = NULL;
        return 0;
    }
    if (PyLong_Check(port)) { /* pycares 4: str(port); libcares then judges it (ARES_ESERVICE) */
        int overflow;
        long v = PyLong_AsLongAndOverflow(port, &overflow);
        if (v == -1 && PyErr_Occurred())
            return -1;
        if (overflow)
            strcpy(buf, overflow > 0 ? "99999999999999999999999" : "-1"); /* out of range either way */
        else
            PyOS_snprintf(buf, size, "%ld", v);
        *out = buf;
        return 0;
    }
    const char *s = text_arg(port, "port", &keep);
    if (s == NULL)
        return -1;
    /* empty or over-long text is no service either: ARES_ESERVICE through the callback */
    strcpy(buf, strlen(s) < size ? s : "-");
    Py_DECREF(keep);
    *out = buf;
    return 0;
}

PyObject *Channel_getaddrinfo(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"host", "port", "callback", "family", "type", "proto", "flags", NULL};
    chan_core *c = CORE(self);
    PyObject *a[7];
    char buf[NAME_BUF_SIZE], service[64];
    addrinfo_args g;
    long v;

    memset(&g, 0, sizeof(g));
    if (parse_args("getaddrinfo", args, nargs, kwnames, names, 3, a) < 0 || callback_arg(a[2]) < 0 ||
        service_arg(a[1], service, sizeof(service), &g.service) < 0 || check_open(c) < 0)
        return NULL;
    g.hints.ai_family = AF_UNSPEC;
    int bad_family = 0;
    if (a[3] != NULL && (bad_family = family_arg(a[3], &g.hints.ai_family)) < 0)
        return NULL;
    /* type, proto and flags are C ints to pycares 4: any int value fits (OverflowError beyond);
     * libcares copies type and proto into every node. */
    if (ctype_int_option(a[4], "type", INT_MIN, INT_MAX, INT_MIN, INT_MAX, &v) < 0)
        return NULL;
    g.hints.ai_socktype = a[4] && a[4] != Py_None ? (int)v : 0;
    if (ctype_int_option(a[5], "proto", INT_MIN, INT_MAX, INT_MIN, INT_MAX, &v) < 0)
        return NULL;
    g.hints.ai_protocol = a[5] && a[5] != Py_None ? (int)v : 0;
    if (ctype_int_option(a[6], "flags", INT_MIN, INT_MAX, 0, INT_MAX, &v) < 0)
        return NULL;
    g.hints.ai_flags = a[6] && a[6] != Py_None ? (int)v : 0;
    if (g.hints.ai_flags & ~KNOWN_AI_FLAGS) {
        PyErr_Format(PyExc_ValueError, "unknown ARES_AI_* flags: 0x%x", g.hints.ai_flags & ~KNOWN_AI_FLAGS);
        return NULL;
    }
    if (a[0] == Py_None) { /* pycares 4's parse_name() */
        PyErr_SetString(PyExc_TypeError, "host must be str or bytes, not None");
        return NULL;
    }
    int family = g.hints.ai_family, socktype = g.hints.ai_socktype, protocol = g.hints.ai_protocol;
    int aflags = g.hints.ai_flags, rc, port = 0;
    Py_ssize_t n = name_encode_request(c->st, a[0], buf, "host");
    if (n == -1)
        return NULL;
    /* libcares' order: the family, then the service, then the host */
    if (bad_family) {
        rc = submit_immediate(c, a[2], REQ_LITERAL_AI, ARES_ENOTIMP, NULL);
    } else if ((rc = cares_port(g.service, aflags, &port)) != ARES_SUCCESS) {
        rc = submit_immediate(c, a[2], REQ_LITERAL_AI, rc, NULL);
    } else if (n == NAME_REPORT) {
        rc = submit_immediate(c, a[2], REQ_LITERAL_AI, ARES_EBADNAME, NULL);
    } else if ((fold_localhost(buf), is_literal(buf))) {
        /* No lookup needed: the address itself, without the network. */
        sys_answer *ans = NULL;
        rc = sys_answer_make(buf, port, family, socktype, protocol, aflags, &ans);
        rc = submit_immediate(c, a[2], REQ_LITERAL_AI, rc, ans);
    } else if (buf[0] == '\0' || strcmp(buf, ".") == 0 || (aflags & ARES_AI_NUMERICHOST)) {
        /* No host name at all, or a name where only a numeric address may stand. */
        rc = submit_immediate(c, a[2], REQ_LITERAL_AI, ARES_ENOTFOUND, NULL);
    } else {
        gai_plan *plan = malloc(sizeof(*plan));
        if (plan == NULL)
            return PyErr_NoMemory();
        gai_plan_make(family, socktype, protocol, aflags, port, plan);
        /* libcares only looks the addresses up: the port, the socket type and the V4MAPPED/ALL
         * shaping come from the plan when the result is built. */
        g.name = buf;
        g.service = NULL;
        g.hints.ai_socktype = g.hints.ai_protocol = 0;
        if (family == AF_INET6 && (aflags & ARES_AI_V4MAPPED))
            g.hints.ai_family = AF_UNSPEC;
        g.hints.ai_flags = (aflags & ~(ARES_AI_V4MAPPED | ARES_AI_ALL | ARES_AI_NUMERICSERV | ARES_AI_PASSIVE |
                                       ARES_AI_ENVHOSTS)) | implied_flags();
        rc = submit_forward(c, a[2], REQ_ADDRINFO, buf, &g.hints, plan, 0);
    }
    if (rc < 0)
        return NULL;
    Py_RETURN_NONE;
}

typedef struct {
    struct sockaddr_storage sa;
    ares_socklen_t len;
    int flags;
} nameinfo_args;

/* What a NUMERICHOST getnameinfo reports at once: the service, for a hosts-file answer. */
typedef struct {
    int status;
    char service[64];
    int has_service;
} ni_capture;

static void on_ni_capture(void *arg, int status, int timeouts, char *node, char *service)
{
    ni_capture *cap = arg;
    cap->status = status;
    if (status == ARES_SUCCESS && service != NULL) {
        snprintf(cap->service, sizeof(cap->service), "%s", service);
        cap->has_service = 1;
    }
}

/* getnameinfo answered from a hosts-file entry, shaped as c-ares shapes a found host. */
static void ni_from_file(ares_channel ch, request *r, const struct hostent *h)
{
    rev_steps *s = r->steps;
    ni_capture cap = {ARES_ENOTIMP, "", 0};
    if (s->flags & ARES_NI_LOOKUPSERVICE) {
        ares_getnameinfo(ch, (struct sockaddr *)&s->sa, s->len, (s->flags | ARES_NI_NUMERICHOST) & ~ARES_NI_NAMEREQD,
                         on_ni_capture, &cap); /* answered before it returns: no lookup involved */
        if (cap.status != ARES_SUCCESS) {
            r->status = cap.status;
            request_finished(r);
            return;
        }
    }
    char name[1100];
    snprintf(name, sizeof(name), "%s", h->h_name);
    if (s->flags & ARES_NI_NOFQDN) { /* this host's own domain is cut off the name */
        char self[256];
        const char *domain;
        if (gethostname(self, sizeof(self) - 1) == 0 && (self[sizeof(self) - 1] = '\0', 1) &&
            (domain = strchr(self, '.')) != NULL) {
            size_t n = strlen(name), d = strlen(domain);
            if (d <= n && strcasecmp(name + n - d, domain) == 0)
                name[n - d] = '\0';
        }
    }
    on_nameinfo(r, ARES_SUCCESS, 0, name, cap.has_service ? cap.service : NULL);
}

static void on_ni_step(void *arg, int status, int timeouts, char *node, char *service);

static void ni_next(ares_channel ch, request *r)
{
    rev_steps *s = r->steps;
    int family;
    const void *addr = rev_addr(s, &family);
    for (; *s->next; s->next++) {
        if (*s->next == 'f') {
            struct hostent *h = NULL;
            if (hosts_reverse(&r->core->hosts, hosts_path(r->cares_hosts), family, addr, &h) == ARES_SUCCESS) {
                ni_from_file(ch, r, h);
                hosts_hostent_free(h);
                return;
            }
        } else if (*s->next == 'b') {
            s->next++;
            ares_getnameinfo(ch, (struct sockaddr *)&s->sa, s->len, s->flags | ARES_NI_NAMEREQD, on_ni_step, r);
            return;
        }
    }
    if (s->flags & ARES_NI_NAMEREQD) {
        r->status = ARES_ENOTFOUND;
        request_finished(r);
        return;
    }
    /* Not found anywhere: the numeric address, as c-ares falls back to it. */
    ares_getnameinfo(ch, (struct sockaddr *)&s->sa, s->len, s->flags | ARES_NI_NUMERICHOST, on_nameinfo, r);
}

static void on_ni_step(void *arg, int status, int timeouts, char *node, char *service)
{
    request *r = arg;
    if (status == ARES_ENOTFOUND) {
        ni_next(r->gen->ch, r);
        return;
    }
    on_nameinfo(arg, status, timeouts, node, service);
}

static void issue_nameinfo(ares_channel ch, request *r, void *arg)
{
    nameinfo_args *a = arg;
    int flags = a->flags;
    if (!(flags & (ARES_NI_LOOKUPHOST | ARES_NI_LOOKUPSERVICE)))
        flags |= ARES_NI_LOOKUPHOST; /* c-ares: neither means a host */
    if (!r->gen->own_files || !(flags & ARES_NI_LOOKUPHOST) || (flags & ARES_NI_NUMERICHOST) ||
        (a->sa.ss_family != AF_INET && a->sa.ss_family != AF_INET6)) {
        ares_getnameinfo(ch, (struct sockaddr *)&a->sa, a->len, a->flags, on_nameinfo, r);
        return;
    }
    if (rev_steps_new(r, (struct sockaddr *)&a->sa, a->len, flags) != NULL)
        ni_next(ch, r);
}

/* (ip, port) or (ip, port, flowinfo, scope_id) into a sockaddr. */
static int sockaddr_arg(PyObject *address, nameinfo_args *n)
{
    PyObject *ip;
    long port;
    uint32_t flowinfo = 0, scope_id = 0;
    int family;
    unsigned char addr[16];

    /* pycares 4 takes any sequence of 2 (IPv4) or 4 (IPv6) items */
    Py_ssize_t size = PyUnicode_Check(address) || PyBytes_Check(address) ? -1 : PySequence_Size(address);
    if (size < 0 && PyErr_Occurred())
        return -1;
    if (size != 2 && size != 4) {
        PyErr_Format(PyExc_ValueError, "address must be (ip, port) or (ip, port, flowinfo, scope_id), got %R",
                     address);
        return -1;
    }
    PyObject *seq = PySequence_Fast(address, "address must be a sequence");
    if (seq == NULL)
        return -1;
    ip = PySequence_Fast_GET_ITEM(seq, 0);
    if (parse_ip(ip, "address", &family, addr) < 0)
        goto fail;
    if ((size == 2) != (family == AF_INET)) {
        PyErr_Format(PyExc_ValueError, size == 2 ? "invalid IPv4 address %R: an IPv6 address takes "
                                                   "(ip, port, flowinfo, scope_id)"
                                                 : "invalid IPv6 address %R: an IPv4 address takes (ip, port)",
                     ip);
        goto fail;
    }
    /* htons()/htonl() in pycares 4: OverflowError outside the C types */
    if (ctype_int_option(PySequence_Fast_GET_ITEM(seq, 1), "port", 0, 65535, 0, 65535, &port) != 1)
        goto bad_port;
    if (size == 4 &&
        (ctype_u32_option(PySequence_Fast_GET_ITEM(seq, 2), "flowinfo", 0xFFFFF, &flowinfo) < 0 ||
         ctype_u32_option(PySequence_Fast_GET_ITEM(seq, 3), "scope_id", UINT32_MAX, &scope_id) < 0))
        goto fail;
    Py_DECREF(seq);
    memset(&n->sa, 0, sizeof(n->sa));
    if (family == AF_INET) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&n->sa;
        s4->sin_family = AF_INET;
        s4->sin_port = htons((unsigned short)port);
        memcpy(&s4->sin_addr, addr, 4);
        n->len = sizeof(*s4);
    } else {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&n->sa;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((unsigned short)port);
        s6->sin6_flowinfo = htonl(flowinfo);
        s6->sin6_scope_id = scope_id;
        memcpy(&s6->sin6_addr, addr, 16);
        n->len = sizeof(*s6);
    }
    return 0;
bad_port:
    if (!PyErr_Occurred())
        PyErr_SetString(PyExc_TypeError, "port must be an int");
fail:
    Py_DECREF(seq);
    return -1;
}

PyObject *Channel_getnameinfo(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"address", "flags", "callback", NULL};
    chan_core *c = CORE(self);
    PyObject *a[3];
    nameinfo_args n;
    long flags;

    if (parse_args("getnameinfo", args, nargs, kwnames, names, 3, a) < 0 || callback_arg(a[2]) < 0 ||
        sockaddr_arg(a[0], &n) < 0 || check_open(c) < 0)
        return NULL;
    if (ctype_int_option(a[1], "flags", INT_MIN, INT_MAX, 0, INT_MAX, &flags) != 1) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_TypeError, "flags must be an int");
        return NULL;
    }
    n.flags = (int)flags;
    nameinfo_asked *asked = malloc(sizeof(*asked));
    if (asked == NULL)
        return PyErr_NoMemory();
    asked->flags = n.flags;
    if (n.sa.ss_family == AF_INET) {
        asked->port = ntohs(((struct sockaddr_in *)&n.sa)->sin_port);
        asked->scope_id = 0;
    } else {
        asked->port = ntohs(((struct sockaddr_in6 *)&n.sa)->sin6_port);
        asked->scope_id = ((struct sockaddr_in6 *)&n.sa)->sin6_scope_id;
    }
    request *r = request_new(c, a[2], REQ_NAMEINFO);
    if (r == NULL) {
        free(asked);
        return NULL;
    }
    r->extra = asked;
    if (request_submit(c, r, issue_nameinfo, &n) < 0)
        return NULL;
    Py_RETURN_NONE;
}
