/* Channel: pycares' Channel over one libcares channel.
 *
 * The invariants (DESIGN.md, "Threads, locks and callbacks"):
 *  - every libcares call on a channel happens with core->lock held;
 *  - the lock is never waited for while holding the GIL (try it, else release the GIL and wait);
 *  - libcares' callbacks only record what happened on the core's queue; the records are turned
 *    into Python calls after the lock is released, in order, so user code may call back into
 *    the channel (query, cancel, close) from a callback;
 *  - every accepted request is delivered exactly once (answer, error, cancel, close, finalizer).
 * With event_thread=True a per-channel I/O thread polls the sockets libcares asks for (plus an
 * eventfd to wake it) and delivers the callbacks itself. */
#include "channel.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/time.h>
#include <time.h>

#include "answer.h"
#include "args.h"
#include "dnsrec.h"
#include "host.h"
#include "query.h"
#include "names.h"

#if PY_VERSION_HEX >= 0x030C0000
#define MEMBER_PYSSIZET Py_T_PYSSIZET
#define MEMBER_READONLY Py_READONLY
#else
#include <structmember.h>
#define MEMBER_PYSSIZET T_PYSSIZET
#define MEMBER_READONLY READONLY
#endif

/* ---- construction --------------------------------------------------------------------------- */

/* A network interface name (PyMem-allocated copy), or NULL with an exception. */
static char *local_dev_arg(PyObject *obj)
{
    PyObject *keep = NULL;
    const char *s = text_arg(obj, "local_dev", &keep);
    if (s == NULL)
        return NULL;
    char *dev = NULL;
    if (*s == '\0' || strlen(s) >= 16)
        PyErr_Format(PyExc_ValueError, "local_dev must be a network interface name of 1 to 15 characters, got %R", obj);
    else
        dev = pymem_strdup(s);
    Py_DECREF(keep);
    return dev;
}

static PyObject *Channel_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyObject *module = module_from_type(type);
    if (module == NULL)
        return NULL;
    chan_core *c = PyMem_Calloc(1, sizeof(*c));
    if (c == NULL)
        return PyErr_NoMemory();
    c->refs = 1;
    c->wake_fd = -1;
    c->state = CH_NEW;
    if (pthread_mutex_init(&c->lock, NULL) != 0 || pthread_cond_init(&c->closed_cond, NULL) != 0 ||
        pthread_mutex_init(&c->idle_mu, NULL) != 0 || pthread_cond_init(&c->idle_cond, NULL) != 0) {
        PyMem_Free(c);
        PyErr_SetString(PyExc_RuntimeError, "cannot create the channel lock");
        return NULL;
    }
    Py_INCREF(module);
    c->module = module;
    c->st = get_module_state(module);
    core_all_add(c); /* from now on fork() takes its lock and fixes it up in the child */
    ChannelObject *self = (ChannelObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        core_free(c);
        return NULL;
    }
    self->core = c;
    return (PyObject *)self;
}

static int set_domains(chan_core *c, PyObject *domains)
{
    if (PyUnicode_Check(domains) || PyBytes_Check(domains)) {
        PyErr_SetString(PyExc_TypeError, "domains must be an iterable of names, not a single string");
        return -1;
    }
    PyObject *seq = PySequence_Fast(domains, "domains must be an iterable of str");
    if (seq == NULL)
        return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    c->opts.domains = PyMem_Calloc((size_t)(n ? n : 1), sizeof(char *));
    if (c->opts.domains == NULL) {
        Py_DECREF(seq);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        char buf[NAME_BUF_SIZE];
        if (name_encode(c->st, PySequence_Fast_GET_ITEM(seq, i), buf, "search domain") < 0 ||
            (c->opts.domains[i] = pymem_strdup(buf)) == NULL) {
            Py_DECREF(seq);
            return -1;
        }
        c->opts.ndomains = (int)i + 1;
    }
    Py_DECREF(seq);
    c->optmask |= ARES_OPT_DOMAINS;
    return 0;
}

/* Sets an int field of the options from a keyword; 0 = not given, 1 = set, -1 = error. */
#define INT_OPT(obj, what, lo, hi, field, mask) INT_OPT_C(obj, what, LONG_MIN, LONG_MAX, lo, hi, field, mask)
/* The same for a value pycares 4 passes as a C type of range [clo, chi] (OverflowError beyond). */
#define INT_OPT_C(obj, what, clo, chi, lo, hi, field, mask)       \
    do {                                                          \
        long v_;                                                  \
        int rc_ = ctype_int_option(obj, what, clo, chi, lo, hi, &v_); \
        if (rc_ < 0)                                              \
            goto fail;                                            \
        if (rc_) {                                                \
            c->opts.field = v_;                                   \
            c->optmask |= (mask);                                 \
        }                                                         \
    } while (0)

/* qcache_max_ttl: c-ares' query cache (>= 1.23), 0 turns it off; None keeps c-ares' default. */
static int qcache_option(chan_core *c, PyObject *obj)
{
    long v;
    int rc = int_option(obj, "qcache_max_ttl", 0, UINT_MAX, &v);
    if (rc <= 0)
        return rc;
    int version = 0;
    ares_version(&version);
#ifdef ARES_OPT_QUERY_CACHE
    if (version >= 0x011700) {
        c->opts.qcache_max_ttl = (unsigned int)v;
        c->optmask |= ARES_OPT_QUERY_CACHE;
        return 0;
    }
#endif
    if (v == 0)
        return 0; /* no query cache to turn off */
    PyObject *e = PyUnicode_FromFormat("qcache_max_ttl needs c-ares >= 1.23 (its query cache); this is c-ares %s, "
                                       "which caches nothing: leave it out or pass 0", ares_version(NULL));
    if (e != NULL) {
        PyObject *t = Py_BuildValue("(iN)", ARES_ENOTIMP, e);
        if (t != NULL) {
            PyErr_SetObject(c->st->AresError, t);
            Py_DECREF(t);
        }
    }
    return -1;
}

static int Channel_init(PyObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"flags", "timeout", "tries", "ndots", "tcp_port", "udp_port", "servers", "domains",
                             "lookups", "sock_state_cb", "socket_send_buffer_size", "socket_receive_buffer_size",
                             "rotate", "local_ip", "local_dev", "resolvconf_path", "event_thread", "qcache_max_ttl", "_face", NULL};
    PyObject *flags = NULL, *timeout = NULL, *tries = NULL, *ndots = NULL, *tcp_port = NULL, *udp_port = NULL,
             *servers = NULL, *domains = NULL, *lookups = NULL, *sock_state_cb = NULL, *sndbuf = NULL,
             *rcvbuf = NULL, *rotate = NULL, *local_ip = NULL, *local_dev = NULL, *resolvconf = NULL,
             *event_thread = NULL, *qcache = NULL, *face = NULL, *keep = NULL;
    chan_core *c = CORE(self);
    double secs;
    int rc, threaded = 0;

    if (c->state != CH_NEW) {
        PyErr_SetString(PyExc_RuntimeError, "Channel is already initialized");
        return -1;
    }
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|OOOOOOOOOOOOOOOOO$OO:Channel", kwlist, &flags, &timeout,
                                     &tries, &ndots, &tcp_port, &udp_port, &servers, &domains, &lookups,
                                     &sock_state_cb, &sndbuf, &rcvbuf, &rotate, &local_ip, &local_dev,
                                     &resolvconf, &event_thread, &qcache, &face))
        return -1;
    /* _face=5: pycares_ng.v5's Channel (its result classes; query() is the whole message) */
    long face_v = 4;
    if (int_option(face, "_face", 4, 5, &face_v) < 0)
        return -1;
    c->face = (int)face_v;
    free_options(c);
    c->optmask = ARES_OPT_SOCK_STATE_CB;
    c->opts.sock_state_cb = on_sock_state;
    c->opts.sock_state_cb_data = c;
    c->dnsrec = dnsrec_wanted();
    if (qcache_option(c, qcache) < 0)
        goto fail;

    if (flags != NULL && PyLong_Check(flags)) {
        /* pycares 4: a C int (OverflowError beyond), and libcares refuses negative flags
         * (AresError "Failed to initialize c-ares channel"): the same classes, clearer words. */
        long v;
        if (ctype_int_option(flags, "flags", INT_MIN, INT_MAX, INT_MIN, INT_MAX, &v) < 0)
            goto fail;
        if (v < 0) {
            PyObject *e = Py_BuildValue("(is)", ARES_EBADFLAGS, "flags must be a combination of ARES_FLAG_* values "
                                                                "(non-negative)");
            if (e != NULL) {
                PyErr_SetObject(c->st->AresError, e);
                Py_DECREF(e);
            }
            goto fail;
        }
    }
    INT_OPT(flags, "flags", 0, INT_MAX, flags, ARES_OPT_FLAGS);
    if ((rc = seconds_option(timeout, "timeout", &secs)) < 0)
        goto fail;
    if (rc && secs > 0) { /* 0 is c-ares' default, as pycares 4 (c-ares >= 1.2x) has it */
        int ms = (int)(secs * 1000.0);
        c->opts.timeout = ms > 0 ? ms : 1;
        c->optmask |= ARES_OPT_TIMEOUTMS;
    }
    INT_OPT(tries, "tries", 1, INT_MAX, tries, ARES_OPT_TRIES);
    INT_OPT(ndots, "ndots", 0, INT_MAX, ndots, ARES_OPT_NDOTS);
    INT_OPT_C(tcp_port, "tcp_port", 0, 65535, 1, 65535, tcp_port, ARES_OPT_TCP_PORT);
    INT_OPT_C(udp_port, "udp_port", 0, 65535, 1, 65535, udp_port, ARES_OPT_UDP_PORT);
    INT_OPT(sndbuf, "socket_send_buffer_size", 1, INT_MAX, socket_send_buffer_size, ARES_OPT_SOCK_SNDBUF);
    INT_OPT(rcvbuf, "socket_receive_buffer_size", 1, INT_MAX, socket_receive_buffer_size, ARES_OPT_SOCK_RCVBUF);
    if (rotate != NULL && rotate != Py_None) {
        int r = PyObject_IsTrue(rotate);
        if (r < 0)
            goto fail;
        if (r)
            c->optmask |= ARES_OPT_ROTATE;
    }
    if (servers != NULL && servers != Py_None && servers_parse(servers, &c->servers, &c->nservers) < 0)
        goto fail;
    if (c->nservers == 0 && c->servers != NULL) { /* pycares 4: an empty list means "not given" */
        free(c->servers);
        c->servers = NULL;
    }
    if (domains != NULL && domains != Py_None && set_domains(c, domains) < 0)
        goto fail;
    if (lookups != NULL && lookups != Py_None) {
        const char *s = text_arg(lookups, "lookups", &keep);
        if (s == NULL)
            goto fail;
        size_t n = strlen(s);
        if (n == 0 || n > 2 || strspn(s, "bf") != n || (n == 2 && s[0] == s[1])) {
            PyErr_Format(PyExc_ValueError, "lookups must be \"b\", \"f\", \"bf\" or \"fb\", got %R", lookups);
            goto fail;
        }
        if ((c->opts.lookups = pymem_strdup(s)) == NULL)
            goto fail;
        Py_CLEAR(keep);
        c->optmask |= ARES_OPT_LOOKUPS;
    }
    if (resolvconf != NULL && resolvconf != Py_None) {
        if (!PyUnicode_FSConverter(resolvconf, &keep))
            goto fail;
        if ((c->opts.resolvconf_path = pymem_strdup(PyBytes_AS_STRING(keep))) == NULL)
            goto fail;
        Py_CLEAR(keep);
        c->optmask |= ARES_OPT_RESOLVCONF;
    }
    if (local_ip != NULL && local_ip != Py_None && parse_ip(local_ip, "local_ip", &c->local_family, c->local_addr) < 0)
        goto fail;
    if (local_dev != NULL && local_dev != Py_None && (c->local_dev = local_dev_arg(local_dev)) == NULL)
        goto fail;
    if (sock_state_cb != NULL && sock_state_cb != Py_None && !PyCallable_Check(sock_state_cb)) {
        PyErr_SetString(PyExc_TypeError, "sock_state_cb must be callable");
        goto fail;
    }
    if (event_thread != NULL && (threaded = PyObject_IsTrue(event_thread)) < 0)
        goto fail;
    if (threaded && sock_state_cb != NULL && sock_state_cb != Py_None) {
        PyErr_SetString(PyExc_RuntimeError, "sock_state_cb and event_thread=True cannot be used together: the event "
                        "thread watches the sockets itself");
        goto fail;
    }
    if (threaded && c->wake_fd < 0 && (c->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
        PyErr_SetFromErrno(PyExc_OSError);
        goto fail;
    }
    c->threaded = threaded;
    if (sock_state_cb != NULL && sock_state_cb != Py_None) {
        Py_INCREF(sock_state_cb);
        Py_XSETREF(c->sock_state_cb, sock_state_cb);
        c->want_sock_events = 1;
    }

    generation *g;
    rc = gen_create(c, c->servers, c->nservers, &g);
    if (rc != ARES_SUCCESS) {
        raise_ares_error(c->st, rc);
        goto fail;
    }
    core_lock(c);
    gen_install(c, g);
    c->state = CH_OPEN;
    pthread_mutex_unlock(&c->lock);
    if (threaded && start_thread(c) < 0) {
        core_lock(c);
        c->gens = NULL;
        c->state = CH_NEW;
        pthread_mutex_unlock(&c->lock);
        gen_destroy(g);
        goto fail;
    }
    registry_add(c);
    return 0;
fail:
    Py_XDECREF(keep);
    Py_CLEAR(c->sock_state_cb);
    c->want_sock_events = 0;
    c->threaded = 0;
    free_options(c);
    return -1;
}

/* ---- I/O driving ---------------------------------------------------------------------------- */

static int fd_arg(PyObject *obj, const char *what, int *fd)
{
    long v;
    int rc = int_option(obj, what, -1, INT_MAX, &v);
    if (rc == 0 && !PyErr_Occurred()) {
        PyErr_Format(PyExc_TypeError, "%s must be an int", what);
        return -1;
    }
    if (rc < 0)
        return -1;
    *fd = (int)v;
    return 0;
}

static PyObject *process(PyObject *self, int rfd, int wfd)
{
    chan_core *c = CORE(self);
    if (check_open(c) < 0)
        return NULL;
    core_lock(c);
    FOR_EACH_GEN(c, g)
        ares_process_fd(g->ch, (ares_socket_t)rfd, (ares_socket_t)wfd);
    c->reply_status = 0;
    after_call(c, core_unlock(c));
    Py_RETURN_NONE;
}

static PyObject *Channel_process_fd(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    int rfd, wfd;
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError, "process_fd() takes exactly 2 arguments (%zd given)", nargs);
        return NULL;
    }
    if (fd_arg(args[0], "read_fd", &rfd) < 0 || fd_arg(args[1], "write_fd", &wfd) < 0)
        return NULL;
    return process(self, rfd, wfd);
}

static PyObject *Channel_process_read_fd(PyObject *self, PyObject *arg)
{
    int fd;
    if (fd_arg(arg, "read_fd", &fd) < 0)
        return NULL;
    return process(self, fd, ARES_SOCKET_BAD);
}

static PyObject *Channel_process_write_fd(PyObject *self, PyObject *arg)
{
    int fd;
    if (fd_arg(arg, "write_fd", &fd) < 0)
        return NULL;
    return process(self, ARES_SOCKET_BAD, fd);
}

static PyObject *int_list(const int *v, int n)
{
    PyObject *list = PyList_New(n);
    for (int i = 0; list != NULL && i < n; i++) {
        PyObject *x = PyLong_FromLong(v[i]);
        if (x == NULL)
            Py_CLEAR(list);
        else
            PyList_SET_ITEM(list, i, x);
    }
    return list;
}

static PyObject *Channel_getsock(PyObject *self, PyObject *unused)
{
    chan_core *c = CORE(self);
    ares_socket_t socks[ARES_GETSOCK_MAXNUM];
    int rfds[64], wfds[64], nr = 0, nw = 0;
    if (check_open(c) < 0)
        return NULL;
    core_lock(c);
    FOR_EACH_GEN(c, g) {
        int bits = compat_getsock(g->ch, socks, ARES_GETSOCK_MAXNUM);
        for (int i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
            if (ARES_GETSOCK_READABLE(bits, i) && nr < 64)
                rfds[nr++] = (int)socks[i];
            if (ARES_GETSOCK_WRITABLE(bits, i) && nw < 64)
                wfds[nw++] = (int)socks[i];
        }
    }
    pthread_mutex_unlock(&c->lock);
    PyObject *r = int_list(rfds, nr), *w = r ? int_list(wfds, nw) : NULL;
    if (w == NULL) {
        Py_XDECREF(r);
        return NULL;
    }
    return Py_BuildValue("(NN)", r, w);
}

static PyObject *Channel_timeout(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    chan_core *c = CORE(self);
    double cap = 0.0;
    int have_cap = 0, have_best = 0;
    struct timeval maxtv, best = {0, 0};

    if (nargs > 1) {
        PyErr_Format(PyExc_TypeError, "timeout() takes at most 1 argument (%zd given)", nargs);
        return NULL;
    }
    if (nargs == 1 && (have_cap = seconds_option(args[0], "timeout", &cap)) < 0)
        return NULL;
    if (check_open(c) < 0)
        return NULL;
    if (have_cap) {
        maxtv.tv_sec = (time_t)cap;
        maxtv.tv_usec = (suseconds_t)((cap - (double)maxtv.tv_sec) * 1e6);
    }
    core_lock(c);
    have_best = core_next_timeout(c, have_cap ? &maxtv : NULL, &best);
    pthread_mutex_unlock(&c->lock);
    if (!have_best)
        return PyFloat_FromDouble(have_cap ? cap : 0.0);
    return PyFloat_FromDouble((double)best.tv_sec + (double)best.tv_usec / 1e6);
}

/* ---- control -------------------------------------------------------------------------------- */

static double monotonic_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* wait(timeout=None): pycares 5's Channel.wait. Waits in slices (signals are checked between
 * them) until no request is pending; False when the timeout passed first. */
static PyObject *Channel_wait(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    static const char *const names[] = {"timeout", NULL};
    chan_core *c = CORE(self);
    PyObject *a[1];
    double limit = -1.0;

    if (parse_args("wait", args, nargs, kwnames, names, 0, a) < 0)
        return NULL;
    if (a[0] != NULL && a[0] != Py_None) {
        limit = PyFloat_AsDouble(a[0]);
        if (limit == -1.0 && PyErr_Occurred())
            return NULL;
        if (limit != limit) {
            PyErr_SetString(PyExc_ValueError, "timeout must be a number of seconds, not NaN");
            return NULL;
        }
    }
    if (check_open(c) < 0)
        return NULL;
    core_lock(c);
    int inside = is_delivering_locked(c) || on_event_thread(c);
    pthread_mutex_unlock(&c->lock);
    if (inside && c->reqs != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "wait() inside a callback of this channel would never return: "
                        "its pending callbacks run on this very thread after this one");
        return NULL;
    }
    double deadline = limit < 0 ? -1.0 : monotonic_now() + limit;
    while (c->reqs != NULL) {
        double now = monotonic_now();
        if (deadline >= 0 && now >= deadline)
            Py_RETURN_FALSE;
        double slice = deadline < 0 || deadline - now > 0.1 ? 0.1 : deadline - now;
        unsigned long seq = c->idle_seq;
        c->idle_waiters++;
        Py_BEGIN_ALLOW_THREADS
        struct timespec until = deadline_after(CLOCK_REALTIME, (long long)(slice * 1e9));
        pthread_mutex_lock(&c->idle_mu);
        while (c->idle_seq == seq) {
            if (pthread_cond_timedwait(&c->idle_cond, &c->idle_mu, &until) != 0)
                break;
        }
        pthread_mutex_unlock(&c->idle_mu);
        Py_END_ALLOW_THREADS
        c->idle_waiters--;
        if (PyErr_CheckSignals() < 0)
            return NULL;
    }
    Py_RETURN_TRUE;
}

static PyObject *Channel_cancel(PyObject *self, PyObject *unused)
{
    chan_core *c = CORE(self);
    if (check_open(c) < 0)
        return NULL;
    int rc = ARES_SUCCESS;
    core_lock(c);
    FOR_EACH_GEN(c, g) {
        int grc = compat_cancel(g->ch);
        if (grc != ARES_SUCCESS)
            rc = grc;
    }
    after_call(c, core_unlock(c));
    if (rc != ARES_SUCCESS)
        return raise_ares_error(c->st, rc);
    Py_RETURN_NONE;
}

/* close() and its kin: a fork's child catches up first (fork.c), then the core is closed
 * (event_thread.c). */
static int close_core(chan_core *c, int interruptible)
{
    fork_check(c);
    return channel_close(c, interruptible);
}

static PyObject *Channel_close(PyObject *self, PyObject *unused)
{
    if (close_core(CORE(self), 1) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *Channel_enter(PyObject *self, PyObject *unused)
{
    if (check_open(CORE(self)) < 0)
        return NULL;
    Py_INCREF(self);
    return self;
}

static PyObject *Channel_exit(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (close_core(CORE(self), 1) < 0)
        return NULL;
    Py_RETURN_FALSE;
}

static PyObject *Channel_reinit(PyObject *self, PyObject *unused)
{
    chan_core *c = CORE(self);
    generation *g;
    if (check_open(c) < 0)
        return NULL;
    int rc = gen_create(c, c->servers, c->nservers, &g);
    if (rc != ARES_SUCCESS)
        return raise_ares_error(c->st, rc);
    if (core_lock_open(c) < 0) {
        gen_destroy(g);
        return NULL;
    }
    gen_install(c, g);
    after_call(c, core_unlock(c));
    Py_RETURN_NONE;
}

static PyObject *Channel_set_local_ip(PyObject *self, PyObject *arg)
{
    chan_core *c = CORE(self);
    int family;
    unsigned char addr[16];
    if (parse_ip(arg, "local_ip", &family, addr) < 0 || check_open(c) < 0)
        return NULL;
    core_lock(c);
    c->local_family = family;
    memcpy(c->local_addr, addr, sizeof(addr));
    FOR_EACH_GEN(c, g)
        gen_apply_local(c, g->ch);
    after_call(c, core_unlock(c));
    Py_RETURN_NONE;
}

static PyObject *Channel_set_local_dev(PyObject *self, PyObject *arg)
{
    chan_core *c = CORE(self);
    char *dev = local_dev_arg(arg);
    if (dev == NULL || check_open(c) < 0) {
        PyMem_Free(dev);
        return NULL;
    }
    core_lock(c);
    char *old = c->local_dev;
    c->local_dev = dev;
    FOR_EACH_GEN(c, g)
        gen_apply_local(c, g->ch);
    after_call(c, core_unlock(c));
    PyMem_Free(old);
    Py_RETURN_NONE;
}

/* The current generation's servers (free with ares_free_data); -1 with an exception. */
static int current_servers(chan_core *c, struct ares_addr_port_node **list)
{
    *list = NULL;
    if (check_open(c) < 0)
        return -1;
    if (core_lock_open(c) < 0)
        return -1;
    int rc = compat_get_servers_ports(c->gens->ch, list);
    pthread_mutex_unlock(&c->lock);
    if (rc != ARES_SUCCESS) {
        raise_ares_error(c->st, rc);
        return -1;
    }
    return 0;
}

static PyObject *Channel_get_servers(PyObject *self, void *closure)
{
    chan_core *c = CORE(self);
    struct ares_addr_port_node *list;
    char text[INET6_ADDRSTRLEN + 16];
    if (current_servers(c, &list) < 0)
        return NULL;
    int default_port = (c->optmask & ARES_OPT_UDP_PORT) ? c->opts.udp_port : 53;
    PyObject *out = PyList_New(0);
    for (struct ares_addr_port_node *n = list; out != NULL && n != NULL; n = n->next) {
        char ip[INET6_ADDRSTRLEN];
        if (inet_ntop(n->family, &n->addr, ip, sizeof(ip)) == NULL)
            continue;
        int port = n->udp_port;
        if (port == 0 || port == default_port)
            PyOS_snprintf(text, sizeof(text), "%s", ip);
        else
            PyOS_snprintf(text, sizeof(text), n->family == AF_INET6 ? "[%s]:%d" : "%s:%d", ip, port);
        PyObject *s = PyUnicode_FromString(text);
        if (s == NULL || PyList_Append(out, s) < 0)
            Py_CLEAR(out);
        Py_XDECREF(s);
    }
    ares_free_data(list);
    return out;
}

/* _servers_ports(): [(ip, family, udp_port, tcp_port)], ports as libcares reports them (0: the
 * channel's default). pycares_ng.v5 formats them as c-ares 1.34's ares_get_servers_csv(). */
static PyObject *Channel_servers_ports(PyObject *self, PyObject *unused)
{
    chan_core *c = CORE(self);
    struct ares_addr_port_node *list;
    if (current_servers(c, &list) < 0)
        return NULL;
    PyObject *out = PyList_New(0);
    for (struct ares_addr_port_node *n = list; out != NULL && n != NULL; n = n->next) {
        char ip[INET6_ADDRSTRLEN];
        if (inet_ntop(n->family, &n->addr, ip, sizeof(ip)) == NULL)
            continue;
        PyObject *t = Py_BuildValue("(siii)", ip, n->family, n->udp_port, n->tcp_port);
        if (t == NULL || PyList_Append(out, t) < 0)
            Py_CLEAR(out);
        Py_XDECREF(t);
    }
    ares_free_data(list);
    return out;
}

static int Channel_set_servers(PyObject *self, PyObject *value, void *closure)
{
    chan_core *c = CORE(self);
    struct ares_addr_port_node *nodes;
    int count;
    if (value == NULL) {
        PyErr_SetString(PyExc_AttributeError, "servers cannot be deleted");
        return -1;
    }
    if (servers_parse(value, &nodes, &count) < 0)
        return -1;
    if (check_open(c) < 0) {
        free(nodes);
        return -1;
    }
    if (core_lock_open(c) < 0) {
        free(nodes);
        return -1;
    }
    /* With queries pending, new queries go to a fresh libcares channel and the pending ones
     * finish where they were sent: 1.18 refuses the change (ENOTIMP) and 1.34 would re-send
     * them, spending one of their tries. */
    int rc = c->gens->pending > 0 ? ARES_ENOTIMP : set_servers(c, c->gens->ch, nodes, count);
    int waiting = core_unlock(c);
    if (rc == ARES_ENOTIMP) {
        generation *g;
        rc = gen_create(c, nodes, count, &g);
        if (rc == ARES_SUCCESS) {
            core_lock(c);
            if (c->state == CH_OPEN) {
                gen_install(c, g);
            } else {
                gen_destroy(g);
            }
            waiting = core_unlock(c);
        }
    }
    after_call(c, waiting);
    if (rc != ARES_SUCCESS) {
        free(nodes);
        raise_ares_error(c->st, rc);
        return -1;
    }
    free(c->servers);
    c->no_servers = count == 0;
    c->servers = nodes;
    c->nservers = count;
    return 0;
}

/* ---- object protocol ------------------------------------------------------------------------ */

static void Channel_finalize(PyObject *self)
{
    PyObject *t, *v, *tb;
    PyErr_Fetch(&t, &v, &tb);
    if (CORE(self) != NULL && CORE(self)->state == CH_OPEN)
        (void)close_core(CORE(self), 0);
    PyErr_Restore(t, v, tb);
}

static int Channel_traverse(PyObject *self, visitproc visit, void *arg)
{
    chan_core *c = CORE(self);
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(((ChannelObject *)self)->dict);
    if (c == NULL)
        return 0;
    Py_VISIT(c->module);
    Py_VISIT(c->sock_state_cb);
    for (request *r = c->reqs; r != NULL; r = r->next)
        Py_VISIT(r->callback);
    return 0;
}

static int Channel_clear(PyObject *self)
{
    /* Runs after the finalizer closed the channel, so no request is left to clear. */
    Py_CLEAR(((ChannelObject *)self)->dict);
    if (CORE(self) != NULL)
        Py_CLEAR(CORE(self)->sock_state_cb);
    return 0;
}

static void Channel_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    if (PyObject_CallFinalizerFromDealloc(self) < 0)
        return; /* resurrected */
    PyObject_GC_UnTrack(self); /* no collection may meet it while callbacks run below */
    chan_core *open_core = CORE(self);
    if (open_core != NULL && open_core->state == CH_OPEN) {
        /* A subclass's __del__ replaced Channel_finalize without calling it: close here, so
         * every pending callback still runs once and the core leaves the fork registry. */
        PyObject *t, *v, *tb;
        PyErr_Fetch(&t, &v, &tb);
        (void)close_core(open_core, 0);
        PyErr_Restore(t, v, tb);
    }
    if (((ChannelObject *)self)->weakreflist != NULL)
        PyObject_ClearWeakRefs(self);
    Py_CLEAR(((ChannelObject *)self)->dict);
    chan_core *c = CORE(self);
    if (c != NULL) {
        ((ChannelObject *)self)->core = NULL;
        core_decref(c);
    }
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyObject *Channel_get_closed(PyObject *self, void *closure)
{
    fork_check(CORE(self));
    return PyBool_FromLong(CORE(self)->state == CH_CLOSED);
}

static PyObject *Channel_get_event_thread(PyObject *self, void *closure)
{
    fork_check(CORE(self));
    return PyBool_FromLong(CORE(self)->thread_running);
}

static PyObject *Channel_get_dnsrec(PyObject *self, void *closure)
{
    return PyBool_FromLong(CORE(self)->dnsrec);
}

static PyMethodDef Channel_methods[] = {
    {"query", (PyCFunction)(void (*)(void))Channel_query, METH_FASTCALL | METH_KEYWORDS,
     "query(name, query_type, callback, query_class=None)\n--\n\nSend one DNS query; callback(result, errno)."},
    {"search", (PyCFunction)(void (*)(void))Channel_search, METH_FASTCALL | METH_KEYWORDS,
     "search(name, query_type, callback, query_class=None)\n--\n\nLike query(), through the search domains."},
    {"query_dns", (PyCFunction)(void (*)(void))Channel_query_dns, METH_FASTCALL | METH_KEYWORDS,
     "query_dns(name, query_type, callback, query_class=None)\n--\n\n"
     "Send one DNS query of any type; the result is the whole reply (ares_dns_message_result)."},
    {"_query_dns5", (PyCFunction)(void (*)(void))Channel_query_dns5, METH_FASTCALL | METH_KEYWORDS,
     "_query_dns5(name, query_type, callback, query_class=None)\n--\n\npycares_ng.v5's query() on any channel."},
    {"_search_dns5", (PyCFunction)(void (*)(void))Channel_search_dns5, METH_FASTCALL | METH_KEYWORDS,
     "_search_dns5(name, query_type, callback, query_class=None)\n--\n\npycares_ng.v5's search() on any channel."},
    {"search_dns", (PyCFunction)(void (*)(void))Channel_search_dns, METH_FASTCALL | METH_KEYWORDS,
     "search_dns(name, query_type, callback, query_class=None)\n--\n\nquery_dns() through the search domains."},
    {"gethostbyname", (PyCFunction)(void (*)(void))Channel_gethostbyname, METH_FASTCALL | METH_KEYWORDS,
     "gethostbyname(name, family, callback)\n--\n\nLook a host name up (hosts file and/or DNS, per lookups); "
     "the result is ares_host_result(name, aliases, addresses)."},
    {"gethostbyaddr", (PyCFunction)(void (*)(void))Channel_gethostbyaddr, METH_FASTCALL | METH_KEYWORDS,
     "gethostbyaddr(addr, callback)\n--\n\nReverse lookup of an IPv4 or IPv6 address; ares_host_result."},
    {"getaddrinfo", (PyCFunction)(void (*)(void))Channel_getaddrinfo, METH_FASTCALL | METH_KEYWORDS,
     "getaddrinfo(host, port, callback, family=0, type=0, proto=0, flags=0)\n--\n\n"
     "Addresses for a host and port; the result is ares_addrinfo_result(cnames, nodes)."},
    {"getnameinfo", (PyCFunction)(void (*)(void))Channel_getnameinfo, METH_FASTCALL | METH_KEYWORDS,
     "getnameinfo(address, flags, callback)\n--\n\nHost and service names for (ip, port) or "
     "(ip, port, flowinfo, scope_id); the result is ares_nameinfo_result(node, service)."},
    {"getsock", (PyCFunction)Channel_getsock, METH_NOARGS,
     "getsock()\n--\n\nThe sockets to watch: (read_fds, write_fds)."},
    {"process_fd", (PyCFunction)(void (*)(void))Channel_process_fd, METH_FASTCALL,
     "process_fd(read_fd, write_fd)\n--\n\nProcess I/O on the given descriptors (ARES_SOCKET_BAD for none) "
     "and expired timers."},
    {"process_read_fd", (PyCFunction)Channel_process_read_fd, METH_O,
     "process_read_fd(fd)\n--\n\nProcess a readable descriptor."},
    {"process_write_fd", (PyCFunction)Channel_process_write_fd, METH_O,
     "process_write_fd(fd)\n--\n\nProcess a writable descriptor."},
    {"timeout", (PyCFunction)(void (*)(void))Channel_timeout, METH_FASTCALL,
     "timeout(t=None)\n--\n\nSeconds until process_fd(ARES_SOCKET_BAD, ARES_SOCKET_BAD) is due, at most t; "
     "0.0 (or t) when nothing is pending."},
    {"wait", (PyCFunction)(void (*)(void))Channel_wait, METH_FASTCALL | METH_KEYWORDS,
     "wait(timeout=None)\n--\n\nWait until no request of the channel is pending (their callbacks ran): True, or "
     "False when timeout seconds (None or negative: no limit) passed first. Another thread (or the event "
     "thread) must drive the channel meanwhile."},
    {"_servers_ports", (PyCFunction)Channel_servers_ports, METH_NOARGS,
     "_servers_ports()\n--\n\n[(ip, family, udp_port, tcp_port)] of the servers (0: the channel's default port)."},
    {"cancel", (PyCFunction)Channel_cancel, METH_NOARGS,
     "cancel()\n--\n\nEvery pending callback gets ARES_ECANCELLED."},
    {"reinit", (PyCFunction)Channel_reinit, METH_NOARGS,
     "reinit()\n--\n\nRe-read the system configuration; pending queries finish on the old one."},
    {"close", (PyCFunction)Channel_close, METH_NOARGS,
     "close()\n--\n\nClose the channel; pending callbacks get ARES_ECANCELLED before close() returns. Idempotent."},
    {"destroy", (PyCFunction)Channel_close, METH_NOARGS, "destroy()\n--\n\nAlias of close()."},
    {"set_local_ip", (PyCFunction)Channel_set_local_ip, METH_O,
     "set_local_ip(ip)\n--\n\nSend queries from this IPv4 or IPv6 address."},
    {"set_local_dev", (PyCFunction)Channel_set_local_dev, METH_O,
     "set_local_dev(dev)\n--\n\nSend queries through this network interface."},
    {"__enter__", (PyCFunction)Channel_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)(void (*)(void))Channel_exit, METH_FASTCALL, NULL},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Channel_getset[] = {
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, NULL, NULL},
    {"servers", Channel_get_servers, Channel_set_servers,
     "The name servers, as \"ip\" or \"ip:port\" / \"[ipv6]:port\" strings.", NULL},
    {"closed", Channel_get_closed, NULL, "True once close() was called.", NULL},
    {"event_thread", Channel_get_event_thread, NULL, "True while the channel's own I/O thread runs.", NULL},
    {"_dnsrec", Channel_get_dnsrec, NULL, "True if queries go through c-ares' dnsrec API (c-ares >= 1.28).", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef Channel_members[] = {
    {"__dictoffset__", MEMBER_PYSSIZET, offsetof(ChannelObject, dict), MEMBER_READONLY, NULL},
    {"__weaklistoffset__", MEMBER_PYSSIZET, offsetof(ChannelObject, weakreflist), MEMBER_READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot Channel_slots[] = {
    {Py_tp_members, Channel_members},
    {Py_tp_new, Channel_new},
    {Py_tp_init, Channel_init},
    {Py_tp_finalize, Channel_finalize},
    {Py_tp_dealloc, Channel_dealloc},
    {Py_tp_traverse, Channel_traverse},
    {Py_tp_clear, Channel_clear},
    {Py_tp_methods, Channel_methods},
    {Py_tp_getset, Channel_getset},
    {Py_tp_doc, "Channel(flags=None, timeout=None, tries=None, ndots=None, tcp_port=None, udp_port=None, "
                "servers=None, domains=None, lookups=None, sock_state_cb=None, socket_send_buffer_size=None, "
                "socket_receive_buffer_size=None, rotate=False, local_ip=None, local_dev=None, "
                "resolvconf_path=None, event_thread=False, *, qcache_max_ttl=None)\n--\n\n"
                "An asynchronous DNS resolver channel."},
    {0, NULL},
};

static PyType_Spec Channel_spec = {
    .name = "pycares_ng._core.Channel",
    .basicsize = sizeof(ChannelObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = Channel_slots,
};

int channel_setup_types(PyObject *module, module_state *st)
{
    PyObject *tp = PyType_FromModuleAndSpec(module, &Channel_spec, NULL);
    if (tp == NULL)
        return -1;
    st->ChannelType = (PyTypeObject *)tp;
    return module_add_ref(module, "Channel", tp);
}
