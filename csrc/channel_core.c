/* The channel core: its lock, the queue of recorded libcares events, their delivery to Python
 * and the libcares channels ("generations") behind one Channel. See channel.h for the rules. */
#include "channel.h"
#include "hostsfile.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <stdint.h>
#include <sys/time.h>
#include <unistd.h>

#include "answer.h"
#include "dnsrec.h"
#include "dns_parse.h"
#include "host.h"
#include "results.h"
#include "sockets.h"

/* ---- the lock ------------------------------------------------------------------ */

/* Takes the lock from a thread holding the GIL, never waiting for it with the GIL held, and
 * never waiting for the GIL with it held: a thread that holds a channel lock while it waits for
 * the GIL deadlocks fork() (whose prepare handler takes every channel lock while the forking
 * thread holds the GIL, fork.c). So the lock is awaited without the GIL, let go at once, and
 * tried again once the GIL is back. Python threads hold the lock only with the GIL, so the only
 * other holder is the I/O thread, briefly. */
void core_lock(chan_core *c)
{
    while (pthread_mutex_trylock(&c->lock) != 0) {
        Py_BEGIN_ALLOW_THREADS
        pthread_mutex_lock(&c->lock);
        pthread_mutex_unlock(&c->lock);
        Py_END_ALLOW_THREADS
    }
    c->empty_at_lock = c->q_head == NULL;
}

long long monotonic_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Whether the current generation's next timer is due before the poll() the I/O thread is in
 * times out (lock held). libcares measures its timers on the monotonic clock too, but only
 * relative offsets are compared here. (c-ares < 1.20's ares_timeout walks every pending query.) */
static int timer_sooner(chan_core *c)
{
    struct timeval tv;
    if (c->io_deadline_us < 0)
        return 1;
    if (c->gens == NULL)
        return 0;
    long long now = monotonic_us();
    struct timeval *t = ares_timeout(c->gens->ch, NULL, &tv);
    return t != NULL && now + (long long)t->tv_sec * 1000000 + t->tv_usec < c->io_deadline_us;
}

/* Tells the I/O thread that something it waits on changed (lock held). The thread computes its
 * poll set and timeout under the lock, notes io_polling and lets go only to poll: whatever
 * changes while it does not poll, it sees before it next does, so only a thread in poll() needs
 * the eventfd, once, and only for what it must act on before its timeout: a new or changed
 * socket (WAKE_WATCH), a timer due sooner (WAKE_TIMER), events left for it to deliver
 * (WAKE_DELIVER; when it is not polling it takes another look at the queue before it does).
 * The caller is never the I/O thread while io_polling is set: that thread polls without the
 * lock. Before, every query sent from another thread cost an eventfd write, a poll() return, a
 * read() and a lock round trip in the I/O thread. */
void wake_io(chan_core *c, int why)
{
    if (!c->io_polling) {
        if (why == WAKE_DELIVER)
            c->io_recheck = 1;
        return;
    }
    if (c->io_woken || (why == WAKE_TIMER && !timer_sooner(c)))
        return;
    c->io_woken = 1;
    wake_thread(c);
}

struct timespec deadline_after(clockid_t clock, long long ns)
{
    struct timespec t;
    clock_gettime(clock, &t);
    ns += t.tv_nsec;
    t.tv_sec += (time_t)(ns / 1000000000LL);
    t.tv_nsec = (long)(ns % 1000000000LL);
    return t;
}

void gen_destroy(generation *g)
{
    ares_destroy(g->ch);
    free(g);
}

generation *gens_take_all(chan_core *c)
{
    generation *g = c->gens;
    c->gens = NULL;
    return g;
}

void gens_destroy(generation *g)
{
    while (g != NULL) {
        generation *next = g->next;
        gen_destroy(g);
        g = next;
    }
}

int core_next_timeout(chan_core *c, const struct timeval *cap, struct timeval *out)
{
    struct timeval tv;
    int have = 0;
    FOR_EACH_GEN(c, g) {
        struct timeval *t = ares_timeout(g->ch, (struct timeval *)cap, &tv);
        if (t != NULL && (!have || timercmp(t, out, <))) {
            *out = *t;
            have = 1;
        }
    }
    return have;
}

/* Destroys retired generations whose last query finished. Lock held, outside libcares callbacks. */
void reap_generations(chan_core *c)
{
    if (c->gens == NULL)
        return;
    generation **link = &c->gens->next;
    while (*link != NULL) {
        generation *g = *link;
        if (g->pending == 0) {
            *link = g->next;
            gen_destroy(g);
        } else {
            link = &g->next;
        }
    }
}

/* Releases the lock taken by core_lock(); returns whether this thread should deliver what is
 * queued. With an I/O thread that is so only when the queue holds nothing but what this call
 * finished (pycares 4 runs those callbacks inside the call); anything else is the I/O thread's
 * (or the current owner's) to deliver, in order. */
int core_unlock(chan_core *c)
{
    reap_generations(c);
    int waiting = c->q_head != NULL;
    if (c->thread_running && !on_event_thread(c)) {
        /* Any libcares call from another thread may have moved its timers (a query on an
         * already open socket changes no watch): the I/O thread is woken if one is now due
         * before its poll() would return (wake_io), and for what was queued before this call. */
        wake_io(c, WAKE_TIMER);
        if (waiting && !c->empty_at_lock) {
            wake_io(c, WAKE_DELIVER);
            waiting = 0;
        }
    }
    pthread_mutex_unlock(&c->lock);
    return waiting;
}

void wake_thread(chan_core *c)
{
    uint64_t one = 1;
    ssize_t n = write(c->wake_fd, &one, sizeof(one));
    (void)n; /* a full eventfd counter is a pending wake-up already */
}

/* Frees what the options own and forgets them. */
void free_options(chan_core *c)
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

void core_free(chan_core *c)
{
    core_all_remove(c);
    free_options(c);
    hosts_cache_free(c->hosts);
    free(c->watch);
    if (c->wake_fd >= 0)
        close(c->wake_fd);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->closed_cond);
    pthread_mutex_destroy(&c->idle_mu);
    pthread_cond_destroy(&c->idle_cond);
    Py_XDECREF(c->sock_state_cb);
    Py_XDECREF(c->module);
    PyMem_Free(c);
}

/* GIL held. */
void core_decref(chan_core *c)
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

void request_finished(request *r)
{
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
void on_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
    chan_core *c = data;
    if (c->threaded) {
        watch_update(c, (int)fd, readable, writable);
        wake_io(c, WAKE_WATCH);
        return;
    }
    if (!c->want_sock_events)
        return;
#if ARES_VERSION < 0x012200
    if ((readable || writable) && c->q_tail != NULL && c->q_tail->kind == EV_SOCK) {
        sock_event *t = (sock_event *)c->q_tail;
        if (t->fd == (int)fd && (t->readable || t->writable) && !t->close_fd) {
            t->readable = readable;
            t->writable = writable;
            return;
        }
    }
#endif
    sock_event *e = malloc(sizeof(*e));
    if (e == NULL)
        return; /* nothing sane to do without memory; the loop will time the query out */
    e->ev.kind = EV_SOCK;
    e->fd = (int)fd;
    e->readable = readable;
    e->writable = writable;
    e->close_fd = 0;
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
    res = r->ops->build(r, c->st, c->face, status);
    if (res == NULL && PyErr_Occurred()) {
        /* The exception itself goes to sys.unraisablehook (a callback has no way to raise it);
         * the callback gets the ARES code that says what failed: memory, or making a result of
         * this reply. */
        int nomem = PyErr_ExceptionMatches(PyExc_MemoryError);
        PyErr_WriteUnraisable(r->callback);
        *status = nomem ? ARES_ENOMEM : ARES_EBADRESP;
    } else if (res == NULL && *status == ARES_SUCCESS) {
        *status = ARES_EBADRESP; /* never "success" without a result */
    }
    return res;
}

static void request_free(request *r)
{
    if (r->ops->free != NULL)
        r->ops->free(r);
    PyMem_Free(r);
}

/* Calls the request's callback once and frees the request. */
static void request_deliver(chan_core *c, request *r)
{
    int status;
    /* c-ares 1.18 fails a query with no server to send it to as ESERVFAIL; later ones (pycares
     * 4.11's) say ENOSERVER, which is what happened. */
    if (r->status == ARES_ESERVFAIL && c->no_servers)
        r->status = ARES_ENOSERVER;
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
    request_free(r);
    if (c->reqs == NULL && c->idle_waiters > 0) {
        /* wait(): nothing is pending any more. idle_mu is never held by a thread waiting for
         * the GIL, so taking it here with the GIL held cannot deadlock. */
        pthread_mutex_lock(&c->idle_mu);
        c->idle_seq++;
        pthread_cond_broadcast(&c->idle_cond);
        pthread_mutex_unlock(&c->idle_mu);
    }
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
    if (e->close_fd)
        close(e->fd); /* the user has been told: now the number may be reused */
    free(e);
}

/* Delivers everything recorded so far, one event at a time so nested deliveries (a callback
 * that cancels or closes) keep the global order. */
/* Delivery is owned per channel: one thread at a time runs a channel's callbacks, in queue
 * order, whichever thread queued them (the I/O thread or a caller). Another thread that finds
 * the queue owned leaves its events to the owner, which takes every event queued before it lets
 * go (dequeue and release happen under one lock). A delivery started inside a callback returns
 * at once and the outer loop picks the new events up, so the stack never grows with the queue;
 * close() is the one exception (deliver_events_nested), as pycares 4 runs its callbacks in it. */
int is_delivering_locked(chan_core *c)
{
    return c->delivering && pthread_equal(c->deliverer, pthread_self());
}

/* Once a closed channel's queue is empty and no callback runs, its close() calls may return.
 * Returns whether the channel is closed and drained. */
static int note_drained(chan_core *c)
{
    core_lock(c);
    int drained = c->state == CH_CLOSED && c->q_head == NULL && !c->delivering;
    if (drained && !c->close_done) {
        c->close_done = 1;
        pthread_cond_broadcast(&c->closed_cond);
    }
    pthread_mutex_unlock(&c->lock);
    return drained;
}

static void deliver(chan_core *c, int nested)
{
    core_lock(c);
    int owner = !c->delivering;
    if (!owner && !(nested && pthread_equal(c->deliverer, pthread_self()))) {
        pthread_mutex_unlock(&c->lock);
        return; /* the owner delivers these too */
    }
    if (owner) {
        c->delivering = 1;
        c->deliverer = pthread_self();
    }
    pthread_mutex_unlock(&c->lock);
    PyObject *exc_type, *exc_value, *exc_tb;
    int saved = PyErr_Occurred() != NULL;
    if (saved)
        PyErr_Fetch(&exc_type, &exc_value, &exc_tb);
    for (;;) {
        core_lock(c);
        event *e = c->q_head;
        if (e != NULL) {
            c->q_head = e->next;
            if (c->q_head == NULL)
                c->q_tail = NULL;
        } else if (owner) {
            c->delivering = 0;
        }
        pthread_mutex_unlock(&c->lock);
        if (e == NULL)
            break;
        if (e->kind == EV_REQUEST)
            request_deliver(c, (request *)e);
        else
            sock_deliver(c, (sock_event *)e);
    }
    if (note_drained(c)) {
        /* Closed and drained: no socket event can follow, so the callback can go. */
        c->want_sock_events = 0;
        Py_CLEAR(c->sock_state_cb);
    }
    if (saved)
        PyErr_Restore(exc_type, exc_value, exc_tb);
}

void deliver_events(chan_core *c)
{
    deliver(c, 0);
}

void deliver_events_nested(chan_core *c)
{
    deliver(c, 1);
}

int on_event_thread(chan_core *c)
{
    return c->thread_running && pthread_equal(pthread_self(), c->thread);
}

/* After a libcares call: what it finished at once (a bad name, a cancel, a hosts-file answer)
 * is delivered before the call returns, in both modes, as pycares 4 does. */
void after_call(chan_core *c, int waiting)
{
    if (waiting)
        deliver_events(c);
}

/* ---- generations ---------------------------------------------------------------------------- */

void gen_apply_local(chan_core *c, ares_channel ch)
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

int set_servers(chan_core *c, ares_channel ch, struct ares_addr_port_node *servers, int nservers)
{
    struct ares_addr_port_node first;
    /* PRIMARY means "only the first server"; 1.18 enforces it only for servers read at init. */
    if ((c->optmask & ARES_OPT_FLAGS) && (c->opts.flags & ARES_FLAG_PRIMARY) && nservers > 1) {
        first = servers[0];
        first.next = NULL;
        servers = &first;
    }
    return compat_set_servers_ports(ch, nservers ? servers : NULL);
}

/* c-ares < 1.22 reads the hosts file from scratch on every lookup; when the lookups include the
 * file, pycares_ng reads it itself (cached, see hostsfile.h) and libcares only does DNS. The
 * effective lookups are what libcares settled on (the option, or resolv.conf / nsswitch.conf /
 * host.conf), so the channel is made again with lookups="b" unless the option was given. */
static int gen_own_files(chan_core *c, generation *g, struct ares_options *opts, int optmask)
{
    int version = 0;
    ares_version(&version);
    const char *only = getenv("PYCARES_NG_LIBCARES_ONLY");
    g->libcares_only = only != NULL && *only != '\0' && strcmp(only, "0") != 0;
    const char *lookups = (optmask & ARES_OPT_LOOKUPS) ? opts->lookups : NULL;
    struct ares_options saved;
    int savedmask = 0, rc;
    memset(&saved, 0, sizeof(saved));
    if (lookups == NULL) {
        if (ares_save_options(g->ch, &saved, &savedmask) != ARES_SUCCESS)
            return ARES_SUCCESS; /* g->ch stays as it is: libcares does every step itself */
        lookups = (savedmask & ARES_OPT_LOOKUPS) && saved.lookups ? saved.lookups : "fb";
    }
    if (strlen(lookups) < sizeof(g->lookups))
        strcpy(g->lookups, lookups); /* also what "no DNS in the lookups" is decided by */
    ares_destroy_options(&saved);
    if (version >= 0x011600 || g->libcares_only || g->lookups[0] == '\0' || strchr(g->lookups, 'f') == NULL)
        return ARES_SUCCESS;
    struct ares_options dns_only = *opts;
    dns_only.lookups = (char *)"b";
    ares_channel ch;
    Py_BEGIN_ALLOW_THREADS
    rc = ares_init_options(&ch, &dns_only, optmask | ARES_OPT_LOOKUPS);
    Py_END_ALLOW_THREADS
    if (rc != ARES_SUCCESS) {
        ares_destroy(g->ch);
        return rc;
    }
    ares_destroy(g->ch);
    g->ch = ch;
    g->own_files = 1;
    return ARES_SUCCESS;
}

/* A fresh libcares channel from the stored options (reads resolv.conf again). No lock needed:
 * nothing else sees it yet. Returns an ARES_ status. */
static int gen_create_from(chan_core *c, struct ares_addr_port_node *servers, int nservers, generation **out);

/* The GIL is released while libcares reads its files, and another thread may meanwhile replace
 * (and free) the channel's server list: gen_create works on its own copy of the list. */
int gen_create(chan_core *c, struct ares_addr_port_node *servers, int nservers, generation **out)
{
    struct ares_addr_port_node *copy = NULL;
    if (servers != NULL && nservers > 0) {
        if ((copy = malloc((size_t)nservers * sizeof(*copy))) == NULL)
            return ARES_ENOMEM;
        memcpy(copy, servers, (size_t)nservers * sizeof(*copy));
        for (int i = 0; i < nservers; i++) /* set_servers() relinks the nodes it sends */
            copy[i].next = i + 1 < nservers ? &copy[i + 1] : NULL;
    }
    int rc = gen_create_from(c, copy, copy != NULL ? nservers : 0, out);
    free(copy);
    return rc;
}

static int gen_create_from(chan_core *c, struct ares_addr_port_node *servers, int nservers, generation **out)
{
    generation *g = calloc(1, sizeof(*g));
    struct ares_options opts = c->opts;
    int rc;
    if (g == NULL)
        return ARES_ENOMEM;
    /* Explicit servers come right after init: c-ares >= 1.22 would otherwise fail the init
     * itself for lack of servers when NO_DFLT_SVR is set. */
    if (servers != NULL && nservers > 0)
        opts.flags &= ~ARES_FLAG_NO_DFLT_SVR;
    int optmask = c->optmask;
#ifdef ARES_OPT_HOSTS_FILE
    /* c-ares >= 1.22 reads CARES_HOSTS for forward lookups only; give reverse ones the same file.
     * (1.18 has no such option: its reverse file lookups read /etc/hosts, as documented.) */
    const char *hosts = getenv("CARES_HOSTS");
    if (hosts != NULL && *hosts != '\0') {
        opts.hosts_path = (char *)hosts;
        optmask |= ARES_OPT_HOSTS_FILE;
    }
#endif
    Py_BEGIN_ALLOW_THREADS
    rc = ares_init_options(&g->ch, &opts, optmask);
    Py_END_ALLOW_THREADS
    if (rc != ARES_SUCCESS) {
        free(g);
        return rc;
    }
    if ((rc = gen_own_files(c, g, &opts, optmask)) != ARES_SUCCESS) {
        free(g);
        return rc;
    }
    if ((rc = sockets_install(c, g->ch)) != ARES_SUCCESS ||
        (servers != NULL && (rc = set_servers(c, g->ch, servers, nservers)) != ARES_SUCCESS)) {
        gen_destroy(g);
        return rc;
    }
    gen_apply_local(c, g->ch);
    *out = g;
    return ARES_SUCCESS;
}

/* Makes g the current generation; the previous one is retired (destroyed once idle). Lock held. */
void gen_install(chan_core *c, generation *g)
{
    g->next = c->gens;
    c->gens = g;
}


/* ---- the module's list of open channels (GIL) ------------------------------------------------ */

void registry_add(chan_core *c)
{
    module_state *st = c->st;
    c->reg_prev = NULL;
    c->reg_next = st->channels;
    if (st->channels != NULL)
        st->channels->reg_prev = c;
    st->channels = c;
}

void registry_remove(chan_core *c)
{
    if (c->reg_prev != NULL)
        c->reg_prev->reg_next = c->reg_next;
    else if (c->st->channels == c)
        c->st->channels = c->reg_next;
    if (c->reg_next != NULL)
        c->reg_next->reg_prev = c->reg_prev;
    c->reg_prev = c->reg_next = NULL;
}


/* ---- every live core of the process ------------------------------------------------------- */

pthread_mutex_t core_all_mutex = PTHREAD_MUTEX_INITIALIZER;
chan_core *core_all;                        /* core_all_mutex */
volatile unsigned long core_fork_count;     /* how many fork()s made this process (a child's) */

/* Takes core_all_mutex from a thread holding the GIL, never waiting for it with the GIL held,
 * nor for the GIL with it held (as core_lock: the fork prepare handler takes it with the GIL
 * held). */
void core_all_lock(void)
{
    while (pthread_mutex_trylock(&core_all_mutex) != 0) {
        Py_BEGIN_ALLOW_THREADS
        pthread_mutex_lock(&core_all_mutex);
        pthread_mutex_unlock(&core_all_mutex);
        Py_END_ALLOW_THREADS
    }
}

void core_all_add(chan_core *c)
{
    core_all_lock();
    c->fork_seen = core_fork_count;
    c->all_prev = NULL;
    c->all_next = core_all;
    if (core_all != NULL)
        core_all->all_prev = c;
    core_all = c;
    c->in_all = 1;
    pthread_mutex_unlock(&core_all_mutex);
}

void core_all_remove(chan_core *c)
{
    if (!c->in_all)
        return;
    core_all_lock();
    if (c->all_prev != NULL)
        c->all_prev->all_next = c->all_next;
    else
        core_all = c->all_next;
    if (c->all_next != NULL)
        c->all_next->all_prev = c->all_prev;
    c->all_prev = c->all_next = NULL;
    c->in_all = 0;
    pthread_mutex_unlock(&core_all_mutex);
}

/* ---- submitting requests -------------------------------------------------------------------- */

int core_check_state(chan_core *c)
{
    if (c->state == CH_OPEN)
        return 0;
    /* pycares 4's wording ("destroyed"), which callers match on. */
    PyErr_SetString(PyExc_RuntimeError, c->state == CH_NEW ? "Channel is not initialized"
                                                           : "Channel is closed (destroyed), no new queries allowed");
    return -1;
}

request *request_new(chan_core *c, PyObject *callback, const request_ops *ops, size_t size)
{
    request *r = PyMem_Calloc(1, size);
    if (r == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    r->ev.kind = EV_REQUEST;
    r->core = c;
    r->ops = ops;
    Py_INCREF(callback);
    r->callback = callback;
    return r;
}

void request_discard(request *r)
{
    Py_DECREF(r->callback);
    request_free(r);
}

/* A request that failed before it reached libcares: only its status is reported. */
static PyObject *status_build(request *r, module_state *st, int face, int *status)
{
    (void)r, (void)st, (void)face;
    *status = ARES_EBADRESP; /* never built: its status is never ARES_SUCCESS */
    return NULL;
}

static const request_ops status_ops = {status_build, NULL};

static void issue_finished(ares_channel ch, request *r, void *arg)
{
    (void)ch;
    (void)arg;
    request_finished(r);
}

int request_submit_status(chan_core *c, PyObject *callback, int status)
{
    request *r = request_new(c, callback, &status_ops, sizeof(request));
    if (r == NULL)
        return -1;
    r->status = status;
    return request_submit(c, r, issue_finished, NULL);
}

int may_read_hostaliases(chan_core *c, const char *name)
{
    if (strchr(name, '.') != NULL || ((c->optmask & ARES_OPT_FLAGS) && (c->opts.flags & ARES_FLAG_NOALIASES)))
        return 0;
    return getenv("HOSTALIASES") != NULL;
}

int core_lock_open(chan_core *c)
{
    core_lock(c);
    if (c->state == CH_OPEN)
        return 0;
    pthread_mutex_unlock(&c->lock); /* closed by another thread meanwhile */
    return core_check_state(c);
}

int request_submit(chan_core *c, request *r, issue_fn issue, void *arg)
{
    if (core_lock_open(c) < 0) {
        request_discard(r);
        return -1;
    }
    r->next = c->reqs;
    if (c->reqs != NULL)
        c->reqs->prev = r;
    c->reqs = r;
    r->gen = c->gens;
    r->gen->pending++;
    if (r->may_block) {
        /* libcares may read a file in this call: the GIL is let go meanwhile (issue functions
         * use no Python), and the lock before the GIL is taken back (see core_lock). r may be
         * delivered by another thread as soon as the lock is let go: not touched after. */
        int empty = c->empty_at_lock;
        PyThreadState *ts = PyEval_SaveThread();
        issue(r->gen->ch, r, arg);
        pthread_mutex_unlock(&c->lock);
        PyEval_RestoreThread(ts);
        core_lock(c);
        c->empty_at_lock = empty;
    } else {
        issue(r->gen->ch, r, arg);
    }
    after_call(c, core_unlock(c)); /* which wakes the I/O thread to re-read libcares' timers */
    return 0;
}
