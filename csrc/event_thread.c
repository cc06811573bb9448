/* event_thread=True: a per-channel I/O thread that polls the sockets libcares asks for (plus an
 * eventfd to wake it), runs libcares' timers and delivers the callbacks itself. The thread only
 * touches the refcounted core, never the Channel object, and holds its own reference to it. */
#include "channel.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

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

/* I/O threads detached and not yet gone (see stop_thread and channel_shutdown_threads). */
static pthread_mutex_t detached_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t detached_cond = PTHREAD_COND_INITIALIZER;
static int detached_running;

static void detached_thread_done(void)
{
    pthread_mutex_lock(&detached_lock);
    detached_running--;
    pthread_cond_broadcast(&detached_cond);
    pthread_mutex_unlock(&detached_lock);
}

/* fork() (fork.c's pthread_atfork handlers): taken in the prepare handler, after the channel
 * locks; in the child no detached thread exists (only the forking thread was copied), and the
 * condition variable's waiters are gone too. */
void detached_threads_prepare(void)
{
    pthread_mutex_lock(&detached_lock);
}

void detached_threads_parent(void)
{
    pthread_mutex_unlock(&detached_lock);
}

void detached_threads_after_fork_child(void)
{
    detached_running = 0;
    pthread_cond_init(&detached_cond, NULL);
    pthread_mutex_unlock(&detached_lock);
}

/* What start_thread hands the new thread; on the starter's stack until `started` is posted. */
typedef struct {
    chan_core *core;
    PyInterpreterState *interp;
    sem_t started;
    int ok;
} thread_start;

/* ---- handing ready sockets to libcares (lock held) ---- */
#if ARES_VERSION >= 0x012200
/* c-ares >= 1.34: one ares_process_fds call per generation for every ready socket; each
 * ares_process_fd call would also walk the timeouts and the connection list again. */
static void process_ready(chan_core *c, struct pollfd *pfds, int n, int ready, ares_fd_events_t **fdev, int *cap)
{
    int nev = 0;
    if (ready > 0 && n - 1 > *cap) {
        ares_fd_events_t *p = realloc(*fdev, (size_t)(n - 1) * sizeof(*p));
        if (p != NULL) {
            *fdev = p;
            *cap = n - 1;
        }
    }
    if (ready > 0 && n - 1 > *cap) { /* no memory for the batch: one socket at a time */
        for (int i = 1; i < n; i++) {
            short re = pfds[i].revents;
            if (re != 0)
                FOR_EACH_GEN(c, g)
                    ares_process_fd(g->ch, (re & (POLLIN | POLLERR | POLLHUP)) ? pfds[i].fd : ARES_SOCKET_BAD,
                                    (re & (POLLOUT | POLLERR | POLLHUP)) ? pfds[i].fd : ARES_SOCKET_BAD);
        }
        return;
    }
    for (int i = 1; ready > 0 && i < n; i++) {
        short re = pfds[i].revents;
        if (re == 0)
            continue;
        (*fdev)[nev].fd = pfds[i].fd;
        (*fdev)[nev].events = ((re & (POLLIN | POLLERR | POLLHUP)) ? ARES_FD_EVENT_READ : 0) |
                              ((re & (POLLOUT | POLLERR | POLLHUP)) ? ARES_FD_EVENT_WRITE : 0);
        nev++;
    }
    /* Woken only by the eventfd (a new query, watch or event from another thread): no socket is
     * ready and no timer has expired (poll would have returned 0), so libcares has nothing to do;
     * the loop recomputes the watch set and the timeout. nev == 0 otherwise: timers. */
    if (nev == 0 && ready > 0)
        return;
    FOR_EACH_GEN(c, g)
        ares_process_fds(g->ch, nev ? *fdev : NULL, (size_t)nev, ARES_PROCESS_FLAG_NONE);
}
#else
typedef char ares_fd_events_t;
static void process_ready(chan_core *c, struct pollfd *pfds, int n, int ready, ares_fd_events_t **fdev, int *cap)
{
    int handled = 0;
    (void)fdev;
    (void)cap;
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
    if (!handled && ready > 0)
        return; /* woken by the eventfd only: nothing for libcares (see above) */
    if (!handled) /* timers only */
        FOR_EACH_GEN(c, g)
            ares_process_fd(g->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
}
#endif

static void *event_loop(void *arg)
{
    thread_start *start = arg;
    chan_core *c = start->core;
    PyThreadState *ts = PyThreadState_New(start->interp);
    struct pollfd *pfds = NULL;
    ares_fd_events_t *fdev = NULL;
    int cap = 0, capfdev = 0;
    start->ok = ts != NULL;
    sem_post(&start->started); /* `start` is gone from here on */
    if (ts == NULL)
        return NULL; /* start_thread reports it */

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
        process_ready(c, pfds, n, ready, &fdev, &capfdev);
        c->reply_status = 0;
        reap_generations(c);
        if (c->q_head != NULL) {
            pthread_mutex_unlock(&c->lock);
            PyEval_RestoreThread(ts);
            deliver_events(c);
            PyEval_SaveThread();
            pthread_mutex_lock(&c->lock);
        }
    }
    int early = !c->stop;
    pthread_mutex_unlock(&c->lock);
    free(pfds);
    free(fdev);
    /* Drop this thread's reference with the GIL; the core may be freed here. */
    PyEval_RestoreThread(ts);
    if (early) {
        /* Out of memory for the poll set: nothing would drive the channel any more. It is
         * closed, as by close() from a callback on this thread, so every pending callback runs
         * (ARES_ECANCELLED) and later calls say it is closed. */
        PyErr_NoMemory();
        PyErr_WriteUnraisable(NULL);
        (void)channel_close(c, 0);
    }
    /* A closed channel holds no OS resource: its wake-up fd goes with the thread (nothing wakes
     * a stopped thread; a fork's child restarts only open channels). */
    if (c->state == CH_CLOSED && c->wake_fd >= 0) {
        close(c->wake_fd);
        c->wake_fd = -1;
    }
    int detached = c->detached;
    c->thread_alive = 0;
    core_decref(c);
    PyThreadState_Clear(ts);
    PyThreadState_DeleteCurrent();
    if (detached)
        detached_thread_done();
    return NULL;
}

/* Starts the I/O thread (GIL held); -1 with an exception on failure. */
int start_thread(chan_core *c)
{
    thread_start start;
    start.core = c;
    start.interp = PyInterpreterState_Get();
    start.ok = 0;
    if (sem_init(&start.started, 0, 0) != 0) {
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    c->refs++;
    c->thread_running = 1;
    c->thread_alive = 1;
    int rc = pthread_create(&c->thread, NULL, event_loop, &start);
    if (rc == 0) {
        /* Wait until the thread has its Python thread state (or failed to get one) WITH the GIL
         * held: PyThreadState_New takes the runtime's thread-list lock without the GIL, and a
         * fork() while another thread holds that lock leaves the child's Python deadlocked in
         * PyOS_AfterFork_Child (CPython 3.11 and older). Forking needs the GIL, so no fork()
         * falls in here. It needs nothing this thread holds: the wait is short. */
        while (sem_wait(&start.started) != 0 && errno == EINTR)
            ;
        if (!start.ok) {
            pthread_t t = c->thread;
            Py_BEGIN_ALLOW_THREADS
            pthread_join(t, NULL);
            Py_END_ALLOW_THREADS
        }
    }
    sem_destroy(&start.started);
    if (rc != 0 || !start.ok) {
        c->refs--;
        c->thread_running = 0;
        c->thread_alive = 0;
        if (rc != 0) {
            errno = rc;
            PyErr_SetFromErrno(PyExc_OSError);
        } else {
            PyErr_NoMemory(); /* PyThreadState_New fails only for want of memory */
        }
        return -1;
    }
    return 0;
}

/* Lets the I/O thread finish by itself; the interpreter's exit waits for it
 * (channel_shutdown_threads). GIL held; the thread still holds its reference. */
static void detach_thread(chan_core *c)
{
    pthread_mutex_lock(&detached_lock);
    detached_running++;
    pthread_mutex_unlock(&detached_lock);
    c->detached = 1;
    pthread_detach(c->thread);
}

/* Stops the I/O thread: joined from any other thread (GIL released meanwhile, since the thread
 * may need it to finish a delivery), detached when called from a callback on that thread. The
 * join waits in slices and checks signals: interrupted (-1 with the exception, only when
 * interruptible), the thread is detached instead and still delivers every queued callback. */
int stop_thread(chan_core *c, int interruptible)
{
    if (!c->thread_running)
        return 0;
    wake_thread(c);
    if (on_event_thread(c)) {
        detach_thread(c); /* close() from a callback on this very thread */
        c->thread_running = 0;
        return 0;
    }
    pthread_t t = c->thread;
    for (;;) {
        int rc;
        Py_BEGIN_ALLOW_THREADS
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 50 * 1000 * 1000;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        rc = pthread_timedjoin_np(t, NULL, &until);
        Py_END_ALLOW_THREADS
        if (rc != ETIMEDOUT)
            break;
        /* Once it has let go of its reference (thread_alive, changed with the GIL) the thread
         * needs nothing more: join it. Until then an interrupt hands it over. */
        if (interruptible && c->thread_alive && PyErr_CheckSignals() < 0) {
            detach_thread(c);
            c->thread_running = 0;
            return -1;
        }
    }
    c->thread_running = 0;
    return 0;
}

void channel_shutdown_threads(module_state *st)
{
    channels_after_fork_child(st); /* a forked child whose hook did not run yet: threads first */
    for (;;) {
        chan_core *c = st->channels;
        while (c != NULL && !c->thread_running)
            c = c->reg_next;
        if (c == NULL)
            break;
        c->refs++; /* keep it while its callbacks run */
        (void)channel_close(c, 0);  /* waits for a close() another thread has under way */
        registry_remove(c); /* never find the same channel twice */
        core_decref(c);
    }
    /* I/O threads detached by a close() from their own callback may still be finishing (they
     * need the GIL once more): the interpreter must not go away under them. Bounded. */
    Py_BEGIN_ALLOW_THREADS
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 10;
    pthread_mutex_lock(&detached_lock);
    while (detached_running > 0 && pthread_cond_timedwait(&detached_cond, &detached_lock, &until) == 0)
        ;
    pthread_mutex_unlock(&detached_lock);
    Py_END_ALLOW_THREADS
}
