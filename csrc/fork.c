/* fork() support.
 *
 * No channel lock may be held while Python code runs around fork() (DESIGN.md, invariant 9):
 * Python before-fork hooks registered before pycares_ng run after pycares_ng's own, and may use a
 * channel. So the locks are taken by a pthread_atfork prepare handler, inside fork() itself, after
 * every Python hook: no libcares call is half done when the process is copied. The thread that
 * forks holds the GIL there, so no thread may ever hold a channel lock while it waits for the GIL
 * (core_lock() and every wait in channel.c let go of the lock before taking the GIL back).
 *
 * The handlers walk the list of every live core, whatever module (interpreter) made it
 * (channel_core.c), holding its mutex, which is taken before any core's lock.
 *
 * In the child the atfork handler only does what needs no Python: it releases the locks, makes
 * fresh condition variables (their waiters were other threads, not copied) and notes which I/O
 * threads and deliverers were lost. Then, with the GIL (the after_in_child hook for every channel,
 * or the first call on a channel if a Python hook registered earlier uses it before that):
 *  - an open channel starts fresh: its libcares channels (whose sockets the parent shares) are
 *    destroyed, so queries pending at the fork end with ARES_EDESTRUCTION in the child (the parent
 *    still gets their answers); a new one is built from the stored options, re-reading the
 *    configuration; an I/O thread is started again. The child needs no reinit().
 *  - a channel whose close() was under way in another thread (not copied) is closed for good:
 *    the callbacks that close() had queued run, and a later close() or the exit hook returns. */
#include "channel.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static int install_rc;

static void fork_prepare(void)
{
    pthread_mutex_lock(&core_all_mutex);
    for (chan_core *c = core_all; c != NULL; c = c->all_next)
        pthread_mutex_lock(&c->lock);
    detached_threads_prepare();
}

static void fork_parent(void)
{
    detached_threads_parent();
    for (chan_core *c = core_all; c != NULL; c = c->all_next)
        pthread_mutex_unlock(&c->lock);
    pthread_mutex_unlock(&core_all_mutex);
}

/* Only the forking thread exists here; no Python code, no Python API. */
static void fork_child(void)
{
    pthread_t self = pthread_self();
    core_fork_count++;
    detached_threads_after_fork_child();
    for (chan_core *c = core_all; c != NULL; c = c->all_next) {
        pthread_cond_init(&c->closed_cond, NULL); /* never fails with default attributes */
        /* wait(): a thread of the parent may have been inside it; it was not copied */
        pthread_mutex_init(&c->idle_mu, NULL);
        pthread_cond_init(&c->idle_cond, NULL);
        c->idle_waiters = 0;
        if (c->delivering && !pthread_equal(c->deliverer, self))
            c->delivering = 0; /* its owner was another thread: the event it held is lost here */
        if (c->thread_alive && !pthread_equal(c->thread, self)) {
            c->thread_alive = 0;
            c->thread_running = 0;
            c->thread_lost = 1; /* its reference is dropped with the GIL (fork_check) */
        }
        pthread_mutex_unlock(&c->lock); /* taken by this very thread in fork_prepare */
    }
    pthread_mutex_unlock(&core_all_mutex);
}

static void install(void)
{
    install_rc = pthread_atfork(fork_prepare, fork_parent, fork_child);
}

int fork_handlers_install(void)
{
    pthread_once(&install_once, install);
    return install_rc;
}

/* An open channel in the child: see the comment at the top. */
static void restart_in_child(chan_core *c)
{
    int wake_err = 0;
    if (c->threaded) {
        /* The wake-up fd is shared with the parent's thread: the child gets its own. */
        int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        wake_err = fd < 0 ? errno : 0;
        if (c->wake_fd >= 0)
            close(c->wake_fd);
        c->wake_fd = fd;
    }
    core_lock(c);
    gens_destroy(gens_take_all(c)); /* with the lock: libcares ends their queries (callbacks) */
    c->nwatch = 0;
    pthread_mutex_unlock(&c->lock);

    generation *fresh;
    int rc = gen_create(c, c->servers, c->nservers, &fresh);
    core_lock(c);
    if (rc == ARES_SUCCESS) {
        gen_install(c, fresh);
    } else {
        c->state = CH_CLOSED; /* nothing to send queries with: later calls say it is closed */
        c->stop = 1;
    }
    pthread_mutex_unlock(&c->lock);
    if (rc != ARES_SUCCESS)
        registry_remove(c);
    deliver_events(c);
    if (rc != ARES_SUCCESS || !c->threaded || c->thread_running || c->state != CH_OPEN)
        return; /* forked from a callback on its own I/O thread: that one goes on */
    c->stop = 0;
    if (c->wake_fd < 0) {
        errno = wake_err;
        PyErr_SetFromErrno(PyExc_OSError);
    } else if (start_thread(c) == 0) {
        return;
    }
    /* No I/O thread: nothing would ever answer its queries. Closed, and said so. */
    PyErr_WriteUnraisable(NULL);
    (void)channel_close(c, 0);
}

int check_open(chan_core *c)
{
    fork_check(c); /* a fork's child: the channel starts fresh first */
    return core_check_state(c);
}

void fork_check(chan_core *c)
{
    if (c->fork_seen == core_fork_count)
        return;
    c->fork_seen = core_fork_count;
    c->refs++; /* whatever the callbacks below do */
    if (c->thread_lost) {
        c->thread_lost = 0;
        c->refs--; /* the lost I/O thread's */
        if (c->state != CH_OPEN && c->wake_fd >= 0) {
            close(c->wake_fd); /* the thread would have closed it on its way out */
            c->wake_fd = -1;
        }
    }
    if (c->state == CH_OPEN) {
        restart_in_child(c);
    } else if (c->state == CH_CLOSED) {
        /* A close() under way in a thread that was not copied: its libcares channels are gone
         * (that happens under the lock, with the state change), its callbacks are queued;
         * delivering them marks the close done. */
        registry_remove(c);
        deliver_events(c);
    }
    core_decref(c);
}

/* The after_in_child hook: every channel of this module catches up now, rather than at its next
 * call (so I/O threads run again and pending callbacks run during os.fork(), as pycares 4 has
 * them). Callbacks may create and drop channels meanwhile: rescan until none is left behind. */
void channels_after_fork_child(module_state *st)
{
    for (;;) {
        chan_core *todo = NULL;
        core_all_lock();
        for (chan_core *c = core_all; c != NULL; c = c->all_next) {
            if (c->st == st && c->fork_seen != core_fork_count) {
                todo = c;
                break;
            }
        }
        if (todo != NULL)
            todo->refs++;
        pthread_mutex_unlock(&core_all_mutex);
        if (todo == NULL)
            return;
        fork_check(todo);
        core_decref(todo);
    }
}
