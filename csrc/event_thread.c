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
    struct timeval best;
    if (!core_next_timeout(c, NULL, &best))
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
        /* Events were left to this thread while it was busy (wake_io): a look at the sockets
         * without waiting, then the queue, as a pending eventfd would do. */
        int recheck = c->io_recheck;
        if (recheck)
            ms = 0;
        c->io_recheck = 0;
        c->io_polling = 1;
        c->io_woken = 0;
        c->io_deadline_us = ms < 0 ? -1 : monotonic_us() + (long long)ms * 1000;
        pthread_mutex_unlock(&c->lock);

        int ready = poll(pfds, (nfds_t)n, ms);
        if (ready > 0 && (pfds[0].revents & POLLIN)) {
            uint64_t count;
            ssize_t got = read(c->wake_fd, &count, sizeof(count));
            (void)got;
        }

        pthread_mutex_lock(&c->lock);
        c->io_polling = 0;
        if (c->stop)
            break;
        /* ready 0 after a recheck is no timeout: expired timers wait for the next round */
        process_ready(c, pfds, n, ready == 0 && recheck ? 1 : ready, &fdev, &capfdev);
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
    c->io_polling = 0; /* a fork's child: the parent's thread may have been polling */
    c->io_woken = 0;
    c->io_recheck = 0;
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
        struct timespec until = deadline_after(CLOCK_REALTIME, 50 * 1000 * 1000);
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

/* At exit (GIL held, a reference to c held): waits, GIL released between looks, until c's I/O
 * thread has let go of its reference and of its thread state. channel_close() returns once the
 * callbacks have run, but when another thread's close() is joining the I/O thread (a daemon
 * thread, say), that thread may still need the GIL once more after the last callback (for
 * core_decref and PyThreadState_DeleteCurrent). Asking for it after finalization has begun
 * would end it inside PyEval_RestoreThread (pthread_exit): it would never drop its thread
 * state and reference, and a forced unwind of event_loop leaves the frame's shadow poisoned for
 * AddressSanitizer's own thread teardown (a stack-use-after-scope report on "T-1"). Once it is
 * seen at 0 with the GIL held the thread has released the GIL in PyThreadState_DeleteCurrent
 * and touches Python no more. Bounded: a callback that never returns cannot hold up the exit. */
static void wait_thread_gone(chan_core *c)
{
    struct timespec now, until = deadline_after(CLOCK_MONOTONIC, 10LL * 1000 * 1000 * 1000);
    while (c->thread_alive) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec > until.tv_sec || (now.tv_sec == until.tv_sec && now.tv_nsec >= until.tv_nsec))
            return;
        Py_BEGIN_ALLOW_THREADS
        struct timespec pause = {0, 1000 * 1000};
        nanosleep(&pause, NULL);
        Py_END_ALLOW_THREADS
    }
}

/* ---- closing ---------------------------------------------------------------------------------- */

/* Waits until a close() (this thread's or another's) has had every callback delivered. The GIL
 * is released and the lock is not held while the GIL is taken back (see core_lock); signals are
 * checked between slices. Interrupted (-1 with the exception, only when interruptible), the
 * channel stays closed and its callbacks are still delivered by the thread that runs them. */
static int wait_close_done(chan_core *c, int interruptible)
{
    for (;;) {
        int done;
        Py_BEGIN_ALLOW_THREADS
        pthread_mutex_lock(&c->lock);
        if (!c->close_done) {
            struct timespec until = deadline_after(CLOCK_REALTIME, 50 * 1000 * 1000);
            (void)pthread_cond_timedwait(&c->closed_cond, &c->lock, &until);
        }
        done = c->close_done;
        pthread_mutex_unlock(&c->lock);
        Py_END_ALLOW_THREADS
        if (done)
            return 0;
        if (interruptible && PyErr_CheckSignals() < 0)
            return -1;
    }
}

/* Whether close() must wait for the delivery of its callbacks: not when this thread is part of
 * it (a callback it is delivering, or the I/O thread that delivers). Lock held. */
static int must_wait_locked(chan_core *c)
{
    return !is_delivering_locked(c) && !on_event_thread(c);
}

/* Cancels (ARES_ECANCELLED) and destroys every generation, stops the I/O thread and
 * delivers what that produced. Idempotent; safe from a callback, since callbacks never run
 * inside libcares. */
int channel_close(chan_core *c, int interruptible)
{
    core_lock(c);
    if (c->state == CH_NEW) {
        c->state = CH_CLOSED;
        c->close_done = 1;
    } else if (c->state == CH_CLOSED) {
        /* Another close() is under way: return only once its callbacks have all run. */
        int wait = must_wait_locked(c);
        pthread_mutex_unlock(&c->lock);
        return wait ? wait_close_done(c, interruptible) : 0;
    }
    if (c->state != CH_OPEN) {
        pthread_mutex_unlock(&c->lock);
        return 0;
    }
    c->state = CH_CLOSED;
    c->stop = 1;
    /* Pending requests end with ARES_ECANCELLED, as the pycares 4 spec says and does; whatever
     * a cancelled lookup might still start (none of its steps continue after a cancel) ends
     * with ARES_EDESTRUCTION below. */
    FOR_EACH_GEN(c, cg)
        ares_cancel(cg->ch);
    gens_destroy(gens_take_all(c));
    pthread_mutex_unlock(&c->lock);
    if (stop_thread(c, interruptible) < 0) {
        /* Interrupted while the I/O thread finished a callback: it goes on by itself and
         * delivers the rest (ARES_ECANCELLED), which a later close() waits for. */
        registry_remove(c);
        return -1;
    }
    registry_remove(c);
    /* From inside a callback this returns at once: the delivery already under way runs the
     * remaining callbacks (socket-close notifications too) as soon as the current one returns,
     * and lets go of sock_state_cb when the queue is empty (deliver_events). */
    deliver_events_nested(c);
    /* If another thread owns the delivery, close() returns once it has run them all. */
    core_lock(c);
    int wait = must_wait_locked(c);
    pthread_mutex_unlock(&c->lock);
    return wait ? wait_close_done(c, interruptible) : 0;
}

void channel_shutdown_threads(module_state *st)
{
    for (;;) {
        chan_core *c = st->channels;
        while (c != NULL && !c->thread_running)
            c = c->reg_next;
        if (c == NULL)
            break;
        c->refs++; /* keep it while its callbacks run */
        (void)channel_close(c, 0);  /* waits for a close() another thread has under way */
        registry_remove(c); /* never find the same channel twice */
        wait_thread_gone(c); /* another thread's close() may still be joining it */
        core_decref(c);
    }
    /* I/O threads detached by a close() from their own callback may still be finishing (they
     * need the GIL once more): the interpreter must not go away under them. Bounded. */
    Py_BEGIN_ALLOW_THREADS
    struct timespec until = deadline_after(CLOCK_REALTIME, 10LL * 1000 * 1000 * 1000);
    pthread_mutex_lock(&detached_lock);
    while (detached_running > 0 && pthread_cond_timedwait(&detached_cond, &detached_lock, &until) == 0)
        ;
    pthread_mutex_unlock(&detached_lock);
    Py_END_ALLOW_THREADS
}
