/* Host resolution: gethostbyname, gethostbyaddr, getaddrinfo, getnameinfo.
 *
 * Each is a request kind (request.h): a struct that embeds the common header, what the lookup
 * needs while it runs, and what its libcares callback copied (hostdata.h); its ops build the
 * Python result at delivery (host_results.c) and free the rest. libcares' callbacks run with the
 * channel lock held and maybe without the GIL: they only copy. Arguments are checked in
 * host_args.c, literal addresses and services answered in host_literal.c, and on c-ares < 1.22
 * the hosts-file steps run in host_steps.c. Field shapes follow pycares 4. */
#include "host.h"

#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "addrsort.h"
#include "args.h"
#include "host_args.h"
#include "host_literal.h"
#include "host_results.h"
#include "host_steps.h"
#include "hostsfile.h"
#include "names.h"

/* $CARES_HOSTS now, as the lookup starts: hosts-file steps may run on the I/O thread, which must
 * not call getenv() (not safe against a setenv() elsewhere). 0, or -1 with MemoryError. */
static int cares_hosts_now(char **out)
{
    const char *env = getenv("CARES_HOSTS");
    *out = NULL;
    if (env != NULL && (*out = strdup(env)) == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

/* lookups without "b": c-ares reports a hosts-file miss with its initial ECONNREFUSED, though no
 * server was asked. */
static int without_dns(request *r)
{
    const char *lookups = r->gen->lookups[0] != '\0' ? r->gen->lookups : r->core->opts.lookups;
    return lookups != NULL && strchr(lookups, 'b') == NULL;
}

/* ---- forward lookups: getaddrinfo, gethostbyname ------------------------------------------------ */

/* A forward lookup: libcares' getaddrinfo (DNS-only steps and the hosts file on c-ares < 1.22).
 * libcares never sorts (NOSORT): addr_sort() does, when there is more than one address. */
typedef struct {
    request base;
    char *name;                         /* as asked: what libcares is given */
    struct ares_addrinfo_hints hints;
    int sort;                           /* the caller did not ask for ARES_AI_NOSORT */
    fwd_steps steps;
    struct ares_addrinfo *ai;           /* the answer */
    int ai_own;                         /* made by hostsfile.c, not libcares */
    gai_plan plan;                      /* getaddrinfo: the node shape */
    int family;                         /* gethostbyname: the family asked for */
} fwd_request;

static void fwd_free(request *r)
{
    fwd_request *f = (fwd_request *)r;
    if (f->ai != NULL && f->ai_own)
        hosts_addrinfo_free(f->ai);
    else if (f->ai != NULL)
        ares_freeaddrinfo(f->ai);
    free(f->name);
    fwd_steps_free(&f->steps);
}

static const struct ares_addrinfo_cname *misses_of(const fwd_request *f)
{
    return f->steps.misses != NULL ? f->steps.misses->cnames : NULL;
}

static PyObject *addrinfo_build(request *r, module_state *st, int face, int *status)
{
    fwd_request *f = (fwd_request *)r;
    (void)status;
    return host_result_in_face(st, addrinfo_result(st, f->ai, &f->plan, misses_of(f)), face);
}

static PyObject *host_ai_build(request *r, module_state *st, int face, int *status)
{
    fwd_request *f = (fwd_request *)r;
    (void)status;
    return host_result_in_face(st, host_result_from_ai(st, f->ai, f->family, misses_of(f)), face);
}

static const request_ops addrinfo_ops = {addrinfo_build, fwd_free};
static const request_ops host_ai_ops = {host_ai_build, fwd_free};

/* The end of a forward lookup (lock held): ai (or NULL) is the request's from now on. */
static void fwd_done(request *r, int status, struct ares_addrinfo *ai, int own)
{
    fwd_request *f = (fwd_request *)r;
    if (status == ARES_ECONNREFUSED && without_dns(r))
        status = ARES_ENOTFOUND;
    f->ai = ai;
    f->ai_own = own;
    if (status == ARES_SUCCESS && ai == NULL)
        status = ARES_EBADRESP;
    if (status == ARES_SUCCESS && f->sort && addr_sort(&ai->nodes) < 0)
        status = ARES_ENOMEM;
    r->status = status;
    request_finished(r);
}

static void on_addrinfo(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
    fwd_request *f = arg;
    (void)timeouts;
    status = reply_status(f->base.core, status);
    if (status != ARES_SUCCESS && res != NULL) {
        ares_freeaddrinfo(res);
        res = NULL;
    }
    fwd_done(&f->base, status, res, 0);
}

static void issue_forward(ares_channel ch, request *r, void *arg)
{
    fwd_request *f = (fwd_request *)r;
    (void)arg;
    if (r->gen->libcares_only && f->sort) {
        f->sort = 0;
        f->hints.ai_flags &= ~ARES_AI_NOSORT;
    }
    if (r->gen->own_files)
        fwd_steps_start(ch, &f->steps);
    else
        ares_getaddrinfo(ch, f->name, NULL, &f->hints, on_addrinfo, f);
}

/* Submits a forward lookup of name (GIL held); plan is getaddrinfo's, family gethostbyname's. */
static int submit_forward(chan_core *c, PyObject *callback, const request_ops *ops, const char *name,
                          const struct ares_addrinfo_hints *hints, const gai_plan *plan, int family)
{
    fwd_request *f = (fwd_request *)request_new(c, callback, ops, sizeof(fwd_request));
    if (f == NULL)
        return -1;
    if (plan != NULL)
        f->plan = *plan;
    f->family = family;
    f->base.may_block = may_read_hostaliases(c, name);
    f->hints = *hints;
    f->sort = !(hints->ai_flags & ARES_AI_NOSORT);
    f->hints.ai_flags |= ARES_AI_NOSORT;
    f->steps.r = &f->base;
    f->steps.hints = &f->hints;
    f->steps.done = fwd_done;
    int noaliases = (c->optmask & ARES_OPT_FLAGS) && (c->opts.flags & ARES_FLAG_NOALIASES);
    if ((f->name = strdup(name)) == NULL ||
        ((f->steps.files_name = host_alias(name, noaliases)) == NULL && (f->steps.files_name = strdup(name)) == NULL)) {
        request_discard(&f->base);
        PyErr_NoMemory();
        return -1;
    }
    f->steps.name = f->name;
    if (cares_hosts_now(&f->steps.cares_hosts) < 0) {
        request_discard(&f->base);
        return -1;
    }
    return request_submit(c, &f->base, issue_forward, NULL);
}

/* ---- answered at once: literal addresses -------------------------------------------------------- */

typedef struct {
    request base;
    literal_copy lc;
} literal_request;

static PyObject *literal_build(request *r, module_state *st, int face, int *status)
{
    (void)status;
    return host_result_in_face(st, literal_result(st, &((literal_request *)r)->lc), face);
}

static const request_ops literal_ops = {literal_build, NULL};

typedef struct {
    request base;
    sys_answer *ans;
} sys_answer_request;

static PyObject *sys_answer_build(request *r, module_state *st, int face, int *status)
{
    (void)status;
    return host_result_in_face(st, sys_answer_result(st, ((sys_answer_request *)r)->ans), face);
}

static void sys_answer_free(request *r)
{
    free(((sys_answer_request *)r)->ans);
}

static const request_ops sys_answer_ops = {sys_answer_build, sys_answer_free};

static void issue_answered(ares_channel ch, request *r, void *arg)
{
    (void)ch, (void)arg;
    request_finished(r); /* answered without libcares: delivered like any other result */
}

/* getaddrinfo's answer for a literal host (ans, consumed; NULL with status ARES_SUCCESS means
 * out of memory), or a status. */
static int submit_sys_answer(chan_core *c, PyObject *callback, int status, sys_answer *ans)
{
    if (status != ARES_SUCCESS) {
        free(ans);
        return request_submit_status(c, callback, status);
    }
    sys_answer_request *q = (sys_answer_request *)request_new(c, callback, &sys_answer_ops, sizeof(*q));
    if (q == NULL) {
        free(ans);
        return -1;
    }
    q->ans = ans;
    q->base.status = ans != NULL ? ARES_SUCCESS : ARES_ENOMEM;
    return request_submit(c, &q->base, issue_answered, NULL);
}

/* gethostbyname of a literal address: 1 if name was one (the request is submitted or an
 * exception set: *rc tells), 0 if it is a name. */
static int submit_literal(chan_core *c, PyObject *callback, const char *name, int family, int *rc)
{
    literal_copy lc;
    int status;
    if (!literal_parse(name, family, 0, NULL, 0, 0, 1, &lc, &status))
        return 0;
    if (status != ARES_SUCCESS) {
        *rc = request_submit_status(c, callback, status);
        return 1;
    }
    literal_request *q = (literal_request *)request_new(c, callback, &literal_ops, sizeof(*q));
    if (q == NULL) {
        *rc = -1;
        return 1;
    }
    q->lc = lc;
    *rc = request_submit(c, &q->base, issue_answered, NULL);
    return 1;
}

#define DONE(rc) ((rc) < 0 ? NULL : (Py_INCREF(Py_None), Py_None))

PyObject *Channel_gethostbyname(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"name", "family", "callback", NULL};
    chan_core *c = CORE(self);
    PyObject *a[3];
    char buf[NAME_BUF_SIZE];
    struct ares_addrinfo_hints hints;

    memset(&hints, 0, sizeof(hints));
    int bad_family;
    /* pycares 4's order: the callback, the closed channel, the name, the family */
    if (parse_args("gethostbyname", args, nargs, kwnames, names, 3, a) < 0 || callback_arg(a[2]) < 0 ||
        check_open(c) < 0)
        return NULL;
    Py_ssize_t n = name_encode_request(c->st, a[0], buf, "name");
    if (n == -1 || (bad_family = family_arg(a[1], &hints.ai_family)) < 0)
        return NULL;
    /* libcares' order: the family first (ENOTIMP), then the name (EBADNAME). */
    if (bad_family || n == NAME_REPORT)
        return DONE(request_submit_status(c, a[2], bad_family ? ARES_ENOTIMP : ARES_EBADNAME));
    fold_localhost(buf);
    if (buf[0] == '\0' || strcmp(buf, ".") == 0) /* no host name at all: nothing to look up */
        return DONE(request_submit_status(c, a[2], ARES_ENOTFOUND));
    int rc;
    if (submit_literal(c, a[2], buf, hints.ai_family, &rc))
        return DONE(rc);
    /* What c-ares' own gethostbyname does, through getaddrinfo so CARES_HOSTS applies. */
    hints.ai_flags = ARES_AI_CANONNAME | implied_flags();
    return DONE(submit_forward(c, a[2], &host_ai_ops, buf, &hints, NULL, hints.ai_family));
}

PyObject *Channel_getaddrinfo(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"host", "port", "callback", "family", "type", "proto", "flags", NULL};
    chan_core *c = CORE(self);
    PyObject *a[7];
    char buf[NAME_BUF_SIZE], service_buf[64];
    const char *service;
    struct ares_addrinfo_hints hints;
    long v;

    memset(&hints, 0, sizeof(hints));
    if (parse_args("getaddrinfo", args, nargs, kwnames, names, 3, a) < 0 || callback_arg(a[2]) < 0 ||
        service_arg(a[1], service_buf, sizeof(service_buf), &service) < 0 || check_open(c) < 0)
        return NULL;
    hints.ai_family = AF_UNSPEC;
    int bad_family = 0;
    if (a[3] != NULL && (bad_family = family_arg(a[3], &hints.ai_family)) < 0)
        return NULL;
    /* type, proto and flags are C ints to pycares 4: any int value fits (OverflowError beyond);
     * libcares copies type and proto into every node. */
    if (ctype_int_option(a[4], "type", INT_MIN, INT_MAX, INT_MIN, INT_MAX, &v) < 0)
        return NULL;
    hints.ai_socktype = a[4] && a[4] != Py_None ? (int)v : 0;
    if (ctype_int_option(a[5], "proto", INT_MIN, INT_MAX, INT_MIN, INT_MAX, &v) < 0)
        return NULL;
    hints.ai_protocol = a[5] && a[5] != Py_None ? (int)v : 0;
    if (ctype_int_option(a[6], "flags", INT_MIN, INT_MAX, 0, INT_MAX, &v) < 0)
        return NULL;
    hints.ai_flags = a[6] && a[6] != Py_None ? (int)v : 0;
    if (hints.ai_flags & ~KNOWN_AI_FLAGS) {
        PyErr_Format(PyExc_ValueError, "unknown ARES_AI_* flags: 0x%x", hints.ai_flags & ~KNOWN_AI_FLAGS);
        return NULL;
    }
    if (a[0] == Py_None) { /* pycares 4's parse_name() */
        PyErr_SetString(PyExc_TypeError, "host must be str or bytes, not None");
        return NULL;
    }
    int family = hints.ai_family, socktype = hints.ai_socktype, protocol = hints.ai_protocol;
    int aflags = hints.ai_flags, rc, port = 0;
    Py_ssize_t n = name_encode_request(c->st, a[0], buf, "host");
    if (n == -1)
        return NULL;
    /* libcares' order: the family, then the service, then the host */
    if (bad_family)
        return DONE(request_submit_status(c, a[2], ARES_ENOTIMP));
    if ((rc = cares_port(service, aflags, &port)) != ARES_SUCCESS)
        return DONE(request_submit_status(c, a[2], rc));
    if (n == NAME_REPORT)
        return DONE(request_submit_status(c, a[2], ARES_EBADNAME));
    fold_localhost(buf);
    if (is_literal(buf)) {
        /* No lookup needed: the address itself, without the network. */
        sys_answer *ans = NULL;
        rc = sys_answer_make(buf, port, family, socktype, protocol, aflags, &ans);
        return DONE(submit_sys_answer(c, a[2], rc, ans));
    }
    if (buf[0] == '\0' || strcmp(buf, ".") == 0 || (aflags & ARES_AI_NUMERICHOST))
        /* No host name at all, or a name where only a numeric address may stand. */
        return DONE(request_submit_status(c, a[2], ARES_ENOTFOUND));
    gai_plan plan;
    gai_plan_make(family, socktype, protocol, aflags, port, &plan);
    /* libcares only looks the addresses up: the port, the socket type and the V4MAPPED/ALL
     * shaping come from the plan when the result is built. */
    hints.ai_socktype = hints.ai_protocol = 0;
    if (family == AF_INET6 && (aflags & ARES_AI_V4MAPPED))
        hints.ai_family = AF_UNSPEC;
    hints.ai_flags = (aflags & ~(ARES_AI_V4MAPPED | ARES_AI_ALL | ARES_AI_NUMERICSERV | ARES_AI_PASSIVE |
                                 ARES_AI_ENVHOSTS)) | implied_flags();
    return DONE(submit_forward(c, a[2], &addrinfo_ops, buf, &hints, &plan, 0));
}

/* ---- reverse lookups: gethostbyaddr, getnameinfo ------------------------------------------------ */

typedef struct {
    request base;
    rev_steps steps;
    host_copy *hc;                      /* gethostbyaddr's answer */
    char asked[INET6_ADDRSTRLEN];       /* the address asked about, as text */
    nameinfo_copy *nc;                  /* getnameinfo's answer */
    nameinfo_asked ni_asked;
} rev_request;

static void rev_free(request *r)
{
    rev_request *q = (rev_request *)r;
    free(q->hc);
    free(q->nc);
    free(q->steps.cares_hosts);
}

static PyObject *byaddr_build(request *r, module_state *st, int face, int *status)
{
    rev_request *q = (rev_request *)r;
    (void)status;
    return host_result_in_face(st, host_result(st, q->hc, q->asked[0] ? q->asked : NULL), face);
}

static PyObject *nameinfo_build(request *r, module_state *st, int face, int *status)
{
    rev_request *q = (rev_request *)r;
    (void)status;
    return host_result_in_face(st, nameinfo_result(st, q->nc, &q->ni_asked), face);
}

static const request_ops byaddr_ops = {byaddr_build, rev_free};
static const request_ops nameinfo_ops = {nameinfo_build, rev_free};

/* The end of gethostbyaddr (lock held). */
static void host_done(request *r, int status, const struct hostent *h)
{
    rev_request *q = (rev_request *)r;
    if (status == ARES_SUCCESS && h == NULL)
        status = ARES_EBADRESP;
    else if (status == ARES_SUCCESS && (q->hc = host_copy_new(h)) == NULL)
        status = ARES_ENOMEM;
    r->status = status;
    request_finished(r);
}

static void on_host(void *arg, int status, int timeouts, struct hostent *h)
{
    rev_request *q = arg;
    (void)timeouts;
    host_done(&q->base, reply_status(q->base.core, status), h);
}

/* The end of getnameinfo (lock held). */
static void nameinfo_done(request *r, int status, const char *node, const char *service)
{
    rev_request *q = (rev_request *)r;
    if (status == ARES_SUCCESS && (q->nc = nameinfo_copy_new(node, service)) == NULL)
        status = ARES_ENOMEM;
    r->status = status;
    request_finished(r);
}

static void on_nameinfo(void *arg, int status, int timeouts, char *node, char *service)
{
    rev_request *q = arg;
    (void)timeouts;
    nameinfo_done(&q->base, status, node, service);
}

/* A reverse lookup request for sa (GIL held); NULL with an exception. */
static rev_request *rev_request_new(chan_core *c, PyObject *callback, const request_ops *ops,
                                    const struct sockaddr_storage *sa, ares_socklen_t len, int flags)
{
    rev_request *q = (rev_request *)request_new(c, callback, ops, sizeof(rev_request));
    if (q == NULL)
        return NULL;
    q->steps.r = &q->base;
    q->steps.sa = *sa;
    q->steps.len = len;
    q->steps.flags = flags;
    q->steps.host_done = host_done;
    q->steps.ni_done = nameinfo_done;
    if (cares_hosts_now(&q->steps.cares_hosts) < 0) {
        request_discard(&q->base);
        return NULL;
    }
    return q;
}

static const void *sockaddr_ip(const struct sockaddr_storage *sa)
{
    if (sa->ss_family == AF_INET)
        return &((const struct sockaddr_in *)sa)->sin_addr;
    return &((const struct sockaddr_in6 *)sa)->sin6_addr;
}

static void issue_byaddr(ares_channel ch, request *r, void *arg)
{
    rev_request *q = (rev_request *)r;
    int family = q->steps.sa.ss_family;
    (void)arg;
    if (r->gen->own_files)
        rev_steps_host(ch, &q->steps);
    else
        ares_gethostbyaddr(ch, sockaddr_ip(&q->steps.sa), family == AF_INET ? 4 : 16, family, on_host, q);
}

PyObject *Channel_gethostbyaddr(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"addr", "callback", NULL};
    chan_core *c = CORE(self);
    PyObject *a[2];
    unsigned char addr[16];
    int family;
    struct sockaddr_storage ss;

    if (parse_args("gethostbyaddr", args, nargs, kwnames, names, 2, a) < 0 || callback_arg(a[1]) < 0 ||
        parse_ip(a[0], "addr", &family, addr) < 0 || check_open(c) < 0)
        return NULL;
    memset(&ss, 0, sizeof(ss));
    ss.ss_family = (sa_family_t)family;
    if (family == AF_INET)
        memcpy(&((struct sockaddr_in *)&ss)->sin_addr, addr, 4);
    else
        memcpy(&((struct sockaddr_in6 *)&ss)->sin6_addr, addr, 16);
    rev_request *q = rev_request_new(c, a[1], &byaddr_ops, &ss,
                                     family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6), 0);
    if (q == NULL)
        return NULL;
    if (inet_ntop(family, addr, q->asked, sizeof(q->asked)) == NULL)
        q->asked[0] = '\0';
    return DONE(request_submit(c, &q->base, issue_byaddr, NULL));
}

static void issue_nameinfo(ares_channel ch, request *r, void *arg)
{
    rev_request *q = (rev_request *)r;
    const struct sockaddr_storage *sa = &q->steps.sa;
    int flags = q->steps.flags;
    (void)arg;
    if (!(flags & (ARES_NI_LOOKUPHOST | ARES_NI_LOOKUPSERVICE)))
        flags |= ARES_NI_LOOKUPHOST; /* c-ares: neither means a host */
    if (!r->gen->own_files || !(flags & ARES_NI_LOOKUPHOST) || (flags & ARES_NI_NUMERICHOST) ||
        (sa->ss_family != AF_INET && sa->ss_family != AF_INET6)) {
        ares_getnameinfo(ch, (const struct sockaddr *)sa, q->steps.len, q->steps.flags, on_nameinfo, q);
        return;
    }
    q->steps.flags = flags;
    rev_steps_nameinfo(ch, &q->steps);
}

PyObject *Channel_getnameinfo(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"address", "flags", "callback", NULL};
    chan_core *c = CORE(self);
    PyObject *a[3];
    struct sockaddr_storage sa;
    ares_socklen_t len;
    long flags;

    if (parse_args("getnameinfo", args, nargs, kwnames, names, 3, a) < 0 || callback_arg(a[2]) < 0 ||
        sockaddr_arg(a[0], &sa, &len) < 0 || check_open(c) < 0)
        return NULL;
    if (ctype_int_option(a[1], "flags", INT_MIN, INT_MAX, 0, INT_MAX, &flags) != 1) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_TypeError, "flags must be an int");
        return NULL;
    }
    rev_request *q = rev_request_new(c, a[2], &nameinfo_ops, &sa, len, (int)flags);
    if (q == NULL)
        return NULL;
    q->ni_asked.flags = (int)flags;
    if (sa.ss_family == AF_INET) {
        q->ni_asked.port = ntohs(((struct sockaddr_in *)&sa)->sin_port);
    } else {
        q->ni_asked.port = ntohs(((struct sockaddr_in6 *)&sa)->sin6_port);
        q->ni_asked.scope_id = ((struct sockaddr_in6 *)&sa)->sin6_scope_id;
    }
    return DONE(request_submit(c, &q->base, issue_nameinfo, NULL));
}
