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
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/time.h>
#include <unistd.h>

#include "answer.h"
#include "names.h"
#include "results.h"

#define FOR_EACH_GEN(c, g) for (generation *g = (c)->gens; g != NULL; g = g->next)

/* ---- the core and its lock ------------------------------------------------------------------ */

/* Takes the lock from a thread holding the GIL, never waiting with the GIL held. */
static void core_lock(chan_core *c)
{
    if (pthread_mutex_trylock(&c->lock) == 0)
        return;
    Py_BEGIN_ALLOW_THREADS
    pthread_mutex_lock(&c->lock);
    Py_END_ALLOW_THREADS
}

/* Destroys retired generations whose last query finished. Lock held, outside libcares callbacks. */
static void reap_generations(chan_core *c)
{
    if (c->gens == NULL)
        return;
    generation **link = &c->gens->next;
    while (*link != NULL) {
        generation *g = *link;
        if (g->pending == 0) {
            *link = g->next;
            ares_destroy(g->ch);
            free(g);
        } else {
            link = &g->next;
        }
    }
}

/* Releases the lock; returns whether work is waiting to be delivered. */
static int core_unlock(chan_core *c)
{
    reap_generations(c);
    int waiting = c->q_head != NULL;
    pthread_mutex_unlock(&c->lock);
    return waiting;
}

static void wake_thread(chan_core *c)
{
    uint64_t one = 1;
    ssize_t n = write(c->wake_fd, &one, sizeof(one));
    (void)n; /* a full eventfd counter is a pending wake-up already */
}

static void core_free(chan_core *c)
{
    for (int i = 0; i < c->opts.ndomains; i++)
        PyMem_Free(c->opts.domains[i]);
    PyMem_Free(c->opts.domains);
    PyMem_Free(c->opts.lookups);
    PyMem_Free(c->opts.resolvconf_path);
    free(c->servers);
    PyMem_Free(c->local_dev);
    free(c->watch);
    if (c->wake_fd >= 0)
        close(c->wake_fd);
    pthread_mutex_destroy(&c->lock);
    Py_XDECREF(c->sock_state_cb);
    Py_XDECREF(c->module);
    PyMem_Free(c);
}

/* GIL held. */
static void core_decref(chan_core *c)
{
    if (--c->refs == 0)
        core_free(c);
}

/* ---- the event queue ------------------------------------------------------------------------ */

static void enqueue(chan_core *c, event *e)
{
    e->next = NULL;
    if (c->q_tail != NULL)
        c->q_tail->next = e;
    else
        c->q_head = e;
    c->q_tail = e;
}

static event *dequeue(chan_core *c)
{
    core_lock(c);
    event *e = c->q_head;
    if (e != NULL) {
        c->q_head = e->next;
        if (c->q_head == NULL)
            c->q_tail = NULL;
    }
    pthread_mutex_unlock(&c->lock);
    return e;
}

/* libcares callback for query/search: record only (lock held, GIL maybe not). */
static void on_query_done(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
    request *r = arg;
    /* For the whole-message API a NOERROR reply without answers (NODATA, a referral) is a
     * result: its authority section is what the caller asked to see. */
    if (status == ARES_ENODATA && r->kind == REQ_QUERY_DNS && abuf != NULL && alen > 0)
        status = ARES_SUCCESS;
    r->status = status;
    if (status == ARES_SUCCESS && abuf != NULL && alen > 0) {
        r->abuf = malloc((size_t)alen);
        if (r->abuf == NULL) {
            r->status = ARES_ENOMEM;
        } else {
            memcpy(r->abuf, abuf, (size_t)alen);
            r->alen = alen;
        }
    }
    r->gen->pending--;
    enqueue(r->core, &r->ev);
}

/* Keeps the I/O thread's table of sockets in step with libcares (lock held). */
static void watch_update(chan_core *c, int fd, int readable, int writable)
{
    short events = (short)((readable ? POLLIN : 0) | (writable ? POLLOUT : 0));
    for (int i = 0; i < c->nwatch; i++) {
        if (c->watch[i].fd != fd)
            continue;
        if (events)
            c->watch[i].events = events;
        else
            c->watch[i] = c->watch[--c->nwatch];
        return;
    }
    if (!events)
        return;
    if (c->nwatch == c->capwatch) {
        int cap = c->capwatch ? c->capwatch * 2 : 8;
        watch_entry *w = realloc(c->watch, (size_t)cap * sizeof(*w));
        if (w == NULL)
            return; /* the query on this socket will time out rather than hang */
        c->watch = w;
        c->capwatch = cap;
    }
    c->watch[c->nwatch].fd = fd;
    c->watch[c->nwatch].events = events;
    c->nwatch++;
}

/* libcares socket-state callback: record only. */
static void on_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
    chan_core *c = data;
    if (c->threaded) {
        watch_update(c, (int)fd, readable, writable);
        wake_thread(c);
        return;
    }
    if (!c->want_sock_events)
        return;
    sock_event *e = malloc(sizeof(*e));
    if (e == NULL)
        return; /* nothing sane to do without memory; the loop will time the query out */
    e->ev.kind = EV_SOCK;
    e->fd = (int)fd;
    e->readable = readable;
    e->writable = writable;
    enqueue(c, &e->ev);
}

/* ---- delivery (GIL held, lock not held) ----------------------------------------------------- */

static void request_unlink(chan_core *c, request *r)
{
    if (r->prev != NULL)
        r->prev->next = r->next;
    else
        c->reqs = r->next;
    if (r->next != NULL)
        r->next->prev = r->prev;
}

static PyObject *request_result(chan_core *c, request *r, int *status)
{
    PyObject *res = NULL;
    *status = r->status;
    if (r->status != ARES_SUCCESS)
        return NULL;
    if (r->abuf == NULL) {
        *status = ARES_EBADRESP;
        return NULL;
    }
    if (r->kind == REQ_QUERY_DNS)
        res = answer_build_message(c->st, r->abuf, (size_t)r->alen, status);
    else
        res = answer_build(c->st, r->qtype, r->abuf, (size_t)r->alen, status);
    if (res == NULL && PyErr_Occurred()) {
        PyErr_WriteUnraisable(r->callback);
        *status = ARES_ENOMEM;
    }
    return res;
}

/* Calls the request's callback once and frees the request. */
static void request_deliver(chan_core *c, request *r)
{
    int status;
    PyObject *res = request_result(c, r, &status), *ret;
    request_unlink(c, r);
    if (res != NULL) {
        ret = PyObject_CallFunctionObjArgs(r->callback, res, Py_None, NULL);
        Py_DECREF(res);
    } else {
        PyObject *err = PyLong_FromLong(status);
        ret = err ? PyObject_CallFunctionObjArgs(r->callback, Py_None, err, NULL) : NULL;
        Py_XDECREF(err);
    }
    if (ret == NULL)
        PyErr_WriteUnraisable(r->callback);
    Py_XDECREF(ret);
    Py_DECREF(r->callback);
    free(r->abuf);
    PyMem_Free(r);
}

static void sock_deliver(chan_core *c, sock_event *e)
{
    PyObject *cb = c->sock_state_cb;
    if (cb != NULL) {
        Py_INCREF(cb);
        PyObject *ret = PyObject_CallFunction(cb, "iOO", e->fd, e->readable ? Py_True : Py_False,
                                              e->writable ? Py_True : Py_False);
        if (ret == NULL)
            PyErr_WriteUnraisable(cb);
        Py_XDECREF(ret);
        Py_DECREF(cb);
    }
    free(e);
}

/* Delivers everything recorded so far, one event at a time so nested deliveries (a callback
 * that cancels or closes) keep the global order. */
static void deliver_events(chan_core *c)
{
    PyObject *exc_type, *exc_value, *exc_tb;
    int saved = PyErr_Occurred() != NULL;
    if (saved)
        PyErr_Fetch(&exc_type, &exc_value, &exc_tb);
    event *e;
    while ((e = dequeue(c)) != NULL) {
        if (e->kind == EV_REQUEST)
            request_deliver(c, (request *)e);
        else
            sock_deliver(c, (sock_event *)e);
    }
    if (saved)
        PyErr_Restore(exc_type, exc_value, exc_tb);
}

static int on_event_thread(chan_core *c)
{
    return c->thread_running && pthread_equal(pthread_self(), c->thread);
}

/* After a libcares call made from a Python thread: callbacks of a threaded channel run on its
 * I/O thread, so wake it; otherwise deliver here. */
static void after_call(chan_core *c, int waiting)
{
    if (c->thread_running && !on_event_thread(c)) {
        if (waiting)
            wake_thread(c);
        return;
    }
    if (waiting)
        deliver_events(c);
}

/* ---- the I/O thread ------------------------------------------------------------------------- */

/* Milliseconds until libcares' next timer, -1 for none (lock held). */
static int next_timeout_ms(chan_core *c)
{
    struct timeval tv, best = {0, 0};
    int have = 0;
    FOR_EACH_GEN(c, g) {
        struct timeval *t = ares_timeout(g->ch, NULL, &tv);
        if (t != NULL && (!have || timercmp(t, &best, <))) {
            best = *t;
            have = 1;
        }
    }
    if (!have)
        return -1;
    long ms = (long)best.tv_sec * 1000 + (best.tv_usec + 999) / 1000;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

typedef struct {
    chan_core *core;
    PyInterpreterState *interp;
} thread_start;

static void *event_loop(void *arg)
{
    thread_start *start = arg;
    chan_core *c = start->core;
    PyThreadState *ts = PyThreadState_New(start->interp);
    struct pollfd *pfds = NULL;
    int cap = 0;
    free(start);

    pthread_mutex_lock(&c->lock);
    while (!c->stop) {
        int n = c->nwatch + 1;
        if (n > cap) {
            struct pollfd *p = realloc(pfds, (size_t)n * sizeof(*p));
            if (p != NULL) {
                pfds = p;
                cap = n;
            }
            n = cap;
        }
        if (pfds == NULL)
            break;
        pfds[0].fd = c->wake_fd;
        pfds[0].events = POLLIN;
        pfds[0].revents = 0;
        for (int i = 1; i < n; i++) {
            pfds[i].fd = c->watch[i - 1].fd;
            pfds[i].events = c->watch[i - 1].events;
            pfds[i].revents = 0;
        }
        int ms = next_timeout_ms(c);
        pthread_mutex_unlock(&c->lock);

        int ready = poll(pfds, (nfds_t)n, ms);
        if (ready > 0 && (pfds[0].revents & POLLIN)) {
            uint64_t count;
            ssize_t got = read(c->wake_fd, &count, sizeof(count));
            (void)got;
        }

        pthread_mutex_lock(&c->lock);
        if (c->stop)
            break;
        int handled = 0;
        for (int i = 1; ready > 0 && i < n; i++) {
            short re = pfds[i].revents;
            if (re == 0)
                continue;
            ares_socket_t rfd = (re & (POLLIN | POLLERR | POLLHUP)) ? pfds[i].fd : ARES_SOCKET_BAD;
            ares_socket_t wfd = (re & (POLLOUT | POLLERR | POLLHUP)) ? pfds[i].fd : ARES_SOCKET_BAD;
            FOR_EACH_GEN(c, g)
                ares_process_fd(g->ch, rfd, wfd);
            handled = 1;
        }
        if (!handled) /* timers only */
            FOR_EACH_GEN(c, g)
                ares_process_fd(g->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
        reap_generations(c);
        if (c->q_head != NULL) {
            pthread_mutex_unlock(&c->lock);
            PyEval_RestoreThread(ts);
            deliver_events(c);
            PyEval_SaveThread();
            pthread_mutex_lock(&c->lock);
        }
    }
    pthread_mutex_unlock(&c->lock);
    free(pfds);
    /* Drop this thread's reference with the GIL; the core may be freed here. */
    PyEval_RestoreThread(ts);
    core_decref(c);
    PyThreadState_Clear(ts);
    PyThreadState_DeleteCurrent();
    return NULL;
}

static void registry_add(chan_core *c)
{
    module_state *st = c->st;
    c->reg_prev = NULL;
    c->reg_next = st->threaded;
    if (st->threaded != NULL)
        st->threaded->reg_prev = c;
    st->threaded = c;
}

static void registry_remove(chan_core *c)
{
    if (c->reg_prev != NULL)
        c->reg_prev->reg_next = c->reg_next;
    else if (c->st->threaded == c)
        c->st->threaded = c->reg_next;
    if (c->reg_next != NULL)
        c->reg_next->reg_prev = c->reg_prev;
    c->reg_prev = c->reg_next = NULL;
}

/* Starts the I/O thread (GIL held); -1 with an exception on failure. */
static int start_thread(chan_core *c)
{
    thread_start *start = malloc(sizeof(*start));
    if (start == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    start->core = c;
    start->interp = PyInterpreterState_Get();
    c->refs++;
    c->thread_running = 1;
    int rc = pthread_create(&c->thread, NULL, event_loop, start);
    if (rc != 0) {
        c->refs--;
        c->thread_running = 0;
        free(start);
        errno = rc;
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    registry_add(c);
    return 0;
}

/* Stops the I/O thread: joined from any other thread (GIL released meanwhile, since the thread
 * may need it to finish a delivery), detached when called from a callback on that thread. */
static void stop_thread(chan_core *c)
{
    if (!c->thread_running)
        return;
    wake_thread(c);
    if (on_event_thread(c)) {
        pthread_detach(c->thread);
    } else {
        pthread_t t = c->thread;
        Py_BEGIN_ALLOW_THREADS
        pthread_join(t, NULL);
        Py_END_ALLOW_THREADS
    }
    c->thread_running = 0;
    registry_remove(c);
}

/* ---- generations ---------------------------------------------------------------------------- */

static void gen_apply_local(chan_core *c, ares_channel ch)
{
    if (c->local_family == AF_INET) {
        unsigned int a;
        memcpy(&a, c->local_addr, 4);
        ares_set_local_ip4(ch, ntohl(a));
    } else if (c->local_family == AF_INET6) {
        ares_set_local_ip6(ch, c->local_addr);
    }
    if (c->local_dev != NULL)
        ares_set_local_dev(ch, c->local_dev);
}

/* A fresh libcares channel from the stored options (reads resolv.conf again). No lock needed:
 * nothing else sees it yet. Returns an ARES_ status. */
static int gen_create(chan_core *c, struct ares_addr_port_node *servers, int nservers, generation **out)
{
    generation *g = calloc(1, sizeof(*g));
    int rc;
    if (g == NULL)
        return ARES_ENOMEM;
    Py_BEGIN_ALLOW_THREADS
    rc = ares_init_options(&g->ch, &c->opts, c->optmask);
    Py_END_ALLOW_THREADS
    if (rc != ARES_SUCCESS) {
        free(g);
        return rc;
    }
    if (servers != NULL && (rc = ares_set_servers_ports(g->ch, nservers ? servers : NULL)) != ARES_SUCCESS) {
        ares_destroy(g->ch);
        free(g);
        return rc;
    }
    gen_apply_local(c, g->ch);
    *out = g;
    return ARES_SUCCESS;
}

/* Makes g the current generation; the previous one is retired (destroyed once idle). Lock held. */
static void gen_install(chan_core *c, generation *g)
{
    g->next = c->gens;
    c->gens = g;
}

/* ---- argument helpers ----------------------------------------------------------------------- */

/* Minimal vectorcall argument parser: fills out[] by position or keyword; NULL when absent. */
static int parse_args(const char *fname, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
                      const char *const *names, int nrequired, PyObject **out)
{
    int nnames = 0;
    while (names[nnames] != NULL)
        nnames++;
    if (nargs > nnames) {
        PyErr_Format(PyExc_TypeError, "%s() takes at most %d arguments (%zd given)", fname, nnames, nargs);
        return -1;
    }
    for (int i = 0; i < nnames; i++)
        out[i] = i < nargs ? args[i] : NULL;
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t k = 0; k < nkw; k++) {
        PyObject *key = PyTuple_GET_ITEM(kwnames, k);
        int found = -1;
        for (int i = 0; i < nnames; i++) {
            if (PyUnicode_CompareWithASCIIString(key, names[i]) == 0) {
                found = i;
                break;
            }
        }
        if (found < 0) {
            PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%U'", fname, key);
            return -1;
        }
        if (out[found] != NULL) {
            PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument '%s'", fname, names[found]);
            return -1;
        }
        out[found] = args[nargs + k];
    }
    for (int i = 0; i < nrequired; i++) {
        if (out[i] == NULL) {
            PyErr_Format(PyExc_TypeError, "%s() missing required argument '%s'", fname, names[i]);
            return -1;
        }
    }
    return 0;
}

/* An int option: None keeps the default (returns 0), else 1 with *out set; -1 on error. */
static int int_option(PyObject *obj, const char *what, long lo, long hi, long *out)
{
    if (obj == NULL || obj == Py_None)
        return 0;
    if (!PyLong_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s must be an int, not %.100s", what, Py_TYPE(obj)->tp_name);
        return -1;
    }
    int overflow;
    long v = PyLong_AsLongAndOverflow(obj, &overflow);
    if (v == -1 && PyErr_Occurred())
        return -1;
    if (overflow || v < lo || v > hi) {
        PyErr_Format(PyExc_ValueError, "%s must be between %ld and %ld", what, lo, hi);
        return -1;
    }
    *out = v;
    return 1;
}

/* Seconds as a non-negative finite float. Returns 0 for None, 1 with *out set, -1 on error. */
static int seconds_option(PyObject *obj, const char *what, double *out)
{
    if (obj == NULL || obj == Py_None)
        return 0;
    if (!PyFloat_Check(obj) && !PyLong_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s must be a number of seconds, not %.100s", what, Py_TYPE(obj)->tp_name);
        return -1;
    }
    double v = PyFloat_AsDouble(obj);
    if (v == -1.0 && PyErr_Occurred())
        return -1;
    if (!(v >= 0.0) || isinf(v) || v > (double)INT_MAX / 1000.0) {
        PyErr_Format(PyExc_ValueError, "%s must be a non-negative number of seconds, got %R", what, obj);
        return -1;
    }
    *out = v;
    return 1;
}

/* str or bytes as a NUL-free C string (new PyBytes in *keep). */
static const char *text_arg(PyObject *obj, const char *what, PyObject **keep)
{
    if (PyUnicode_Check(obj)) {
        *keep = PyUnicode_AsEncodedString(obj, "ascii", "strict");
        if (*keep == NULL) {
            PyErr_Clear();
            PyErr_Format(PyExc_ValueError, "%s must be ASCII: %R", what, obj);
            return NULL;
        }
    } else if (PyBytes_Check(obj)) {
        Py_INCREF(obj);
        *keep = obj;
    } else {
        PyErr_Format(PyExc_TypeError, "%s must be str or bytes, not %.100s", what, Py_TYPE(obj)->tp_name);
        return NULL;
    }
    const char *s = PyBytes_AS_STRING(*keep);
    if ((size_t)PyBytes_GET_SIZE(*keep) != strlen(s)) {
        Py_CLEAR(*keep);
        PyErr_Format(PyExc_ValueError, "%s contains a NUL character", what);
        return NULL;
    }
    return s;
}

/* An IPv4/IPv6 address string into family + bytes; ValueError naming it if invalid. */
static int parse_ip(PyObject *obj, const char *what, int *family, unsigned char *addr)
{
    PyObject *keep = NULL;
    const char *s = text_arg(obj, what, &keep);
    if (s == NULL)
        return -1;
    int rc = 0;
    if (inet_pton(AF_INET, s, addr) == 1)
        *family = AF_INET;
    else if (inet_pton(AF_INET6, s, addr) == 1)
        *family = AF_INET6;
    else {
        PyErr_Format(PyExc_ValueError, "invalid IP address for %s: %R", what, obj);
        rc = -1;
    }
    Py_DECREF(keep);
    return rc;
}

/* One server "ip", "ip:port", "[ipv6]" or "[ipv6]:port" into a libcares server node. */
static int server_parse(PyObject *item, struct ares_addr_port_node *node)
{
    PyObject *keep = NULL;
    const char *s = text_arg(item, "server address", &keep);
    if (s == NULL)
        return -1;
    char host[64];
    long port = 0;
    const char *port_text = NULL;
    int ok = 0;
    size_t n = strlen(s);

    memset(node, 0, sizeof(*node));
    if (n > 0 && n < sizeof(host)) {
        if (s[0] == '[') {
            const char *close = strchr(s, ']');
            if (close != NULL && (close[1] == '\0' || close[1] == ':')) {
                memcpy(host, s + 1, (size_t)(close - s - 1));
                host[close - s - 1] = '\0';
                port_text = close[1] == ':' ? close + 2 : NULL;
                node->family = AF_INET6;
            }
        } else if (strchr(s, ':') != NULL && strchr(s, ':') == strrchr(s, ':')) {
            const char *colon = strchr(s, ':');
            memcpy(host, s, (size_t)(colon - s));
            host[colon - s] = '\0';
            port_text = colon + 1;
            node->family = AF_INET;
        } else {
            strcpy(host, s);
            node->family = strchr(host, ':') ? AF_INET6 : AF_INET;
        }
        if (node->family != 0)
            ok = inet_pton(node->family, host, &node->addr) == 1;
        if (ok && port_text != NULL) {
            char *end;
            port = strtol(port_text, &end, 10);
            ok = *port_text != '\0' && *end == '\0' && port >= 1 && port <= 65535;
        }
    }
    Py_DECREF(keep);
    if (!ok) {
        PyErr_Format(PyExc_ValueError, "invalid server address %R: expected an IPv4 or IPv6 address, "
                     "optionally with a port (\"127.0.0.1:53\", \"[::1]:53\")", item);
        return -1;
    }
    node->udp_port = node->tcp_port = (int)port;
    return 0;
}

/* An iterable of server strings as a malloc'd, linked array of nodes; *count may be 0. */
static int servers_parse(PyObject *servers, struct ares_addr_port_node **out, int *count)
{
    if (PyUnicode_Check(servers) || PyBytes_Check(servers)) {
        PyErr_SetString(PyExc_TypeError, "servers must be an iterable of addresses, not a single string");
        return -1;
    }
    PyObject *seq = PySequence_Fast(servers, "servers must be an iterable of str");
    if (seq == NULL)
        return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    struct ares_addr_port_node *nodes = calloc((size_t)(n ? n : 1), sizeof(*nodes));
    if (nodes == NULL) {
        Py_DECREF(seq);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (server_parse(PySequence_Fast_GET_ITEM(seq, i), &nodes[i]) < 0) {
            free(nodes);
            Py_DECREF(seq);
            return -1;
        }
        nodes[i].next = i + 1 < n ? &nodes[i + 1] : NULL;
    }
    Py_DECREF(seq);
    *out = nodes;
    *count = (int)n;
    return 0;
}

static char *pymem_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = PyMem_Malloc(n);
    if (d == NULL)
        PyErr_NoMemory();
    else
        memcpy(d, s, n);
    return d;
}

/* ---- construction --------------------------------------------------------------------------- */

#define CORE(self) (((ChannelObject *)(self))->core)

static int check_open(chan_core *c)
{
    if (c->state == CH_OPEN)
        return 0;
    PyErr_SetString(PyExc_RuntimeError, c->state == CH_NEW ? "Channel is not initialized" : "Channel is closed");
    return -1;
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
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        PyMem_Free(c);
        PyErr_SetString(PyExc_RuntimeError, "cannot create the channel lock");
        return NULL;
    }
    Py_INCREF(module);
    c->module = module;
    c->st = get_module_state(module);
    ChannelObject *self = (ChannelObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        core_free(c);
        return NULL;
    }
    self->core = c;
    return (PyObject *)self;
}

static void free_options(chan_core *c)
{
    for (int i = 0; i < c->opts.ndomains; i++)
        PyMem_Free(c->opts.domains[i]);
    PyMem_Free(c->opts.domains);
    PyMem_Free(c->opts.lookups);
    PyMem_Free(c->opts.resolvconf_path);
    free(c->servers);
    PyMem_Free(c->local_dev);
    memset(&c->opts, 0, sizeof(c->opts));
    c->servers = NULL;
    c->nservers = 0;
    c->local_dev = NULL;
    c->local_family = 0;
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
#define INT_OPT(obj, what, lo, hi, field, mask)                   \
    do {                                                          \
        long v_;                                                  \
        int rc_ = int_option(obj, what, lo, hi, &v_);             \
        if (rc_ < 0)                                              \
            goto fail;                                            \
        if (rc_) {                                                \
            c->opts.field = v_;                                   \
            c->optmask |= (mask);                                 \
        }                                                         \
    } while (0)

static int Channel_init(PyObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"flags", "timeout", "tries", "ndots", "tcp_port", "udp_port", "servers", "domains",
                             "lookups", "sock_state_cb", "socket_send_buffer_size", "socket_receive_buffer_size",
                             "rotate", "local_ip", "local_dev", "resolvconf_path", "event_thread", NULL};
    PyObject *flags = NULL, *timeout = NULL, *tries = NULL, *ndots = NULL, *tcp_port = NULL, *udp_port = NULL,
             *servers = NULL, *domains = NULL, *lookups = NULL, *sock_state_cb = NULL, *sndbuf = NULL,
             *rcvbuf = NULL, *rotate = NULL, *local_ip = NULL, *local_dev = NULL, *resolvconf = NULL,
             *event_thread = NULL, *keep = NULL;
    chan_core *c = CORE(self);
    double secs;
    int rc, threaded = 0;

    if (c->state != CH_NEW) {
        PyErr_SetString(PyExc_RuntimeError, "Channel is already initialized");
        return -1;
    }
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|OOOOOOOOOOOOOOOOO:Channel", kwlist, &flags, &timeout,
                                     &tries, &ndots, &tcp_port, &udp_port, &servers, &domains, &lookups,
                                     &sock_state_cb, &sndbuf, &rcvbuf, &rotate, &local_ip, &local_dev,
                                     &resolvconf, &event_thread))
        return -1;
    free_options(c);
    c->optmask = ARES_OPT_SOCK_STATE_CB;
    c->opts.sock_state_cb = on_sock_state;
    c->opts.sock_state_cb_data = c;

    INT_OPT(flags, "flags", 0, INT_MAX, flags, ARES_OPT_FLAGS);
    if ((rc = seconds_option(timeout, "timeout", &secs)) < 0)
        goto fail;
    if (rc) {
        int ms = (int)(secs * 1000.0);
        c->opts.timeout = ms > 0 ? ms : (secs > 0 ? 1 : 0);
        c->optmask |= ARES_OPT_TIMEOUTMS;
    }
    INT_OPT(tries, "tries", 1, INT_MAX, tries, ARES_OPT_TRIES);
    INT_OPT(ndots, "ndots", 0, INT_MAX, ndots, ARES_OPT_NDOTS);
    INT_OPT(tcp_port, "tcp_port", 1, 65535, tcp_port, ARES_OPT_TCP_PORT);
    INT_OPT(udp_port, "udp_port", 1, 65535, udp_port, ARES_OPT_UDP_PORT);
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
    if (local_dev != NULL && local_dev != Py_None) {
        const char *s = text_arg(local_dev, "local_dev", &keep);
        if (s == NULL)
            goto fail;
        if (*s == '\0' || strlen(s) >= 16) {
            PyErr_Format(PyExc_ValueError, "local_dev must be a network interface name of 1 to 15 characters, got %R",
                         local_dev);
            goto fail;
        }
        if ((c->local_dev = pymem_strdup(s)) == NULL)
            goto fail;
        Py_CLEAR(keep);
    }
    if (sock_state_cb != NULL && sock_state_cb != Py_None && !PyCallable_Check(sock_state_cb)) {
        PyErr_SetString(PyExc_TypeError, "sock_state_cb must be callable");
        goto fail;
    }
    if (event_thread != NULL && (threaded = PyObject_IsTrue(event_thread)) < 0)
        goto fail;
    if (threaded && sock_state_cb != NULL && sock_state_cb != Py_None) {
        PyErr_SetString(PyExc_ValueError, "sock_state_cb and event_thread=True cannot be used together: the event "
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
        ares_destroy(g->ch);
        free(g);
        goto fail;
    }
    return 0;
fail:
    Py_XDECREF(keep);
    Py_CLEAR(c->sock_state_cb);
    c->want_sock_events = 0;
    c->threaded = 0;
    free_options(c);
    return -1;
}

/* ---- queries -------------------------------------------------------------------------------- */

static int valid_class(long k)
{
    return k == 1 || k == 3 || k == 4 || k == 254 || k == 255;
}

static PyObject *submit_query(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
                              const char *fname, int search, int kind)
{
    static const char *const names[] = {"name", "query_type", "callback", "query_class", NULL};
    chan_core *c = CORE(self);
    PyObject *a[4];
    char buf[NAME_BUF_SIZE];
    long qtype, qclass = 1;

    if (parse_args(fname, args, nargs, kwnames, names, 3, a) < 0 || check_open(c) < 0)
        return NULL;
    if (int_option(a[1], "query_type", LONG_MIN, LONG_MAX, &qtype) != 1) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_TypeError, "query_type must be an int");
        return NULL;
    }
    if (kind == REQ_QUERY ? !answer_type_supported(qtype) : (qtype < 1 || qtype > 65535)) {
        PyErr_Format(PyExc_ValueError, "unknown query type: %ld", qtype);
        return NULL;
    }
    if (a[3] != NULL && a[3] != Py_None) {
        if (int_option(a[3], "query_class", LONG_MIN, LONG_MAX, &qclass) < 0)
            return NULL;
        if (!valid_class(qclass)) {
            PyErr_Format(PyExc_ValueError, "unknown query class: %ld", qclass);
            return NULL;
        }
    }
    if (!PyCallable_Check(a[2])) {
        PyErr_SetString(PyExc_TypeError, "callback must be callable");
        return NULL;
    }
    if (name_encode(c->st, a[0], buf, "name") < 0)
        return NULL;

    request *r = PyMem_Calloc(1, sizeof(*r));
    if (r == NULL)
        return PyErr_NoMemory();
    r->ev.kind = EV_REQUEST;
    r->core = c;
    r->kind = kind;
    r->qtype = (int)qtype;
    Py_INCREF(a[2]);
    r->callback = a[2];

    core_lock(c);
    if (c->state != CH_OPEN) {
        pthread_mutex_unlock(&c->lock);
        Py_DECREF(r->callback);
        PyMem_Free(r);
        check_open(c);
        return NULL;
    }
    r->next = c->reqs;
    if (c->reqs != NULL)
        c->reqs->prev = r;
    c->reqs = r;
    r->gen = c->gens;
    r->gen->pending++;
    if (search)
        ares_search(r->gen->ch, buf, (int)qclass, (int)qtype, on_query_done, r);
    else
        ares_query(r->gen->ch, buf, (int)qclass, (int)qtype, on_query_done, r);
    after_call(c, core_unlock(c));
    Py_RETURN_NONE;
}

static PyObject *Channel_query(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    return submit_query(self, args, nargs, kwnames, "query", 0, REQ_QUERY);
}

static PyObject *Channel_search(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    return submit_query(self, args, nargs, kwnames, "search", 1, REQ_QUERY);
}

static PyObject *Channel_query_dns(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    return submit_query(self, args, nargs, kwnames, "query_dns", 0, REQ_QUERY_DNS);
}

static PyObject *Channel_search_dns(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    return submit_query(self, args, nargs, kwnames, "search_dns", 1, REQ_QUERY_DNS);
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
        int bits = ares_getsock(g->ch, socks, ARES_GETSOCK_MAXNUM);
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
    struct timeval maxtv, tv, best = {0, 0};

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
    FOR_EACH_GEN(c, g) {
        struct timeval *t = ares_timeout(g->ch, have_cap ? &maxtv : NULL, &tv);
        if (t != NULL && (!have_best || timercmp(t, &best, <))) {
            best = *t;
            have_best = 1;
        }
    }
    pthread_mutex_unlock(&c->lock);
    if (!have_best)
        return PyFloat_FromDouble(have_cap ? cap : 0.0);
    return PyFloat_FromDouble((double)best.tv_sec + (double)best.tv_usec / 1e6);
}

/* ---- control -------------------------------------------------------------------------------- */

static PyObject *Channel_cancel(PyObject *self, PyObject *unused)
{
    chan_core *c = CORE(self);
    if (check_open(c) < 0)
        return NULL;
    core_lock(c);
    FOR_EACH_GEN(c, g)
        ares_cancel(g->ch);
    after_call(c, core_unlock(c));
    Py_RETURN_NONE;
}

/* Destroys every generation (pending requests get ARES_EDESTRUCTION), stops the I/O thread and
 * delivers what that produced. Idempotent; safe from a callback, since callbacks never run
 * inside libcares. */
static void channel_close(chan_core *c)
{
    core_lock(c);
    if (c->state != CH_OPEN) {
        c->state = CH_CLOSED;
        pthread_mutex_unlock(&c->lock);
        return;
    }
    c->state = CH_CLOSED;
    c->stop = 1;
    generation *g = c->gens;
    c->gens = NULL;
    while (g != NULL) {
        generation *next = g->next;
        ares_destroy(g->ch);
        free(g);
        g = next;
    }
    pthread_mutex_unlock(&c->lock);
    stop_thread(c);
    deliver_events(c);
    c->want_sock_events = 0;
    Py_CLEAR(c->sock_state_cb);
}

void channel_shutdown_threads(module_state *st)
{
    while (st->threaded != NULL) {
        chan_core *c = st->threaded;
        c->refs++; /* keep it while its callbacks run */
        channel_close(c);
        registry_remove(c);
        core_decref(c);
    }
}

static PyObject *Channel_close(PyObject *self, PyObject *unused)
{
    channel_close(CORE(self));
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
    channel_close(CORE(self));
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
    core_lock(c);
    if (c->state != CH_OPEN) {
        pthread_mutex_unlock(&c->lock);
        ares_destroy(g->ch);
        free(g);
        check_open(c);
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
    pthread_mutex_unlock(&c->lock);
    Py_RETURN_NONE;
}

static PyObject *Channel_set_local_dev(PyObject *self, PyObject *arg)
{
    chan_core *c = CORE(self);
    PyObject *keep = NULL;
    const char *s = text_arg(arg, "local_dev", &keep);
    if (s == NULL)
        return NULL;
    if (*s == '\0' || strlen(s) >= 16) {
        Py_DECREF(keep);
        return PyErr_Format(PyExc_ValueError, "local_dev must be a network interface name of 1 to 15 characters, "
                            "got %R", arg);
    }
    char *dev = pymem_strdup(s);
    Py_DECREF(keep);
    if (dev == NULL || check_open(c) < 0) {
        PyMem_Free(dev);
        return NULL;
    }
    core_lock(c);
    char *old = c->local_dev;
    c->local_dev = dev;
    FOR_EACH_GEN(c, g)
        gen_apply_local(c, g->ch);
    pthread_mutex_unlock(&c->lock);
    PyMem_Free(old);
    Py_RETURN_NONE;
}

static PyObject *Channel_get_servers(PyObject *self, void *closure)
{
    chan_core *c = CORE(self);
    struct ares_addr_port_node *list = NULL;
    char text[INET6_ADDRSTRLEN + 16];
    if (check_open(c) < 0)
        return NULL;
    int default_port = (c->optmask & ARES_OPT_UDP_PORT) ? c->opts.udp_port : 53;
    core_lock(c);
    int rc = ares_get_servers_ports(c->gens->ch, &list);
    pthread_mutex_unlock(&c->lock);
    if (rc != ARES_SUCCESS)
        return raise_ares_error(c->st, rc);
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
    core_lock(c);
    int rc = ares_set_servers_ports(c->gens->ch, count ? nodes : NULL);
    int waiting = core_unlock(c);
    if (rc == ARES_ENOTIMP) {
        /* c-ares 1.18 refuses while queries are pending: continue on a new generation. */
        generation *g;
        rc = gen_create(c, nodes, count, &g);
        if (rc == ARES_SUCCESS) {
            core_lock(c);
            gen_install(c, g);
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
        channel_close(CORE(self));
    PyErr_Restore(t, v, tb);
}

static int Channel_traverse(PyObject *self, visitproc visit, void *arg)
{
    chan_core *c = CORE(self);
    Py_VISIT(Py_TYPE(self));
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
    if (CORE(self) != NULL)
        Py_CLEAR(CORE(self)->sock_state_cb);
    return 0;
}

static void Channel_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    if (PyObject_CallFinalizerFromDealloc(self) < 0)
        return; /* resurrected */
    PyObject_GC_UnTrack(self);
    if (((ChannelObject *)self)->weakreflist != NULL)
        PyObject_ClearWeakRefs(self);
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
    return PyBool_FromLong(CORE(self)->state == CH_CLOSED);
}

static PyObject *Channel_get_event_thread(PyObject *self, void *closure)
{
    return PyBool_FromLong(CORE(self)->thread_running);
}

static PyMethodDef Channel_methods[] = {
    {"query", (PyCFunction)(void (*)(void))Channel_query, METH_FASTCALL | METH_KEYWORDS,
     "query(name, query_type, callback, query_class=None)\n--\n\nSend one DNS query; callback(result, errno)."},
    {"search", (PyCFunction)(void (*)(void))Channel_search, METH_FASTCALL | METH_KEYWORDS,
     "search(name, query_type, callback, query_class=None)\n--\n\nLike query(), through the search domains."},
    {"query_dns", (PyCFunction)(void (*)(void))Channel_query_dns, METH_FASTCALL | METH_KEYWORDS,
     "query_dns(name, query_type, callback, query_class=None)\n--\n\n"
     "Send one DNS query of any type; the result is the whole reply (ares_dns_message_result)."},
    {"search_dns", (PyCFunction)(void (*)(void))Channel_search_dns, METH_FASTCALL | METH_KEYWORDS,
     "search_dns(name, query_type, callback, query_class=None)\n--\n\nquery_dns() through the search domains."},
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
    {"cancel", (PyCFunction)Channel_cancel, METH_NOARGS,
     "cancel()\n--\n\nEvery pending callback gets ARES_ECANCELLED."},
    {"reinit", (PyCFunction)Channel_reinit, METH_NOARGS,
     "reinit()\n--\n\nRe-read the system configuration; pending queries finish on the old one."},
    {"close", (PyCFunction)Channel_close, METH_NOARGS,
     "close()\n--\n\nClose the channel; pending callbacks get ARES_EDESTRUCTION. Idempotent."},
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
    {"servers", Channel_get_servers, Channel_set_servers,
     "The name servers, as \"ip\" or \"ip:port\" / \"[ipv6]:port\" strings.", NULL},
    {"closed", Channel_get_closed, NULL, "True once close() was called.", NULL},
    {"event_thread", Channel_get_event_thread, NULL, "True while the channel's own I/O thread runs.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot Channel_slots[] = {
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
                "resolvconf_path=None, event_thread=False)\n--\n\nAn asynchronous DNS resolver channel."},
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
    ((PyTypeObject *)tp)->tp_weaklistoffset = offsetof(ChannelObject, weakreflist);
    st->ChannelType = (PyTypeObject *)tp;
    return module_add_ref(module, "Channel", tp);
}
