/* os.fork() support (registered with os.register_at_fork by the package).
 *
 * Before the fork every open channel's lock is taken, so no libcares call is half done in the
 * child; both sides release them afterwards. In the child every open channel then starts fresh:
 * its libcares channels (whose sockets it shares with the parent) are destroyed there, so queries
 * pending at the fork end with ARES_EDESTRUCTION in the child (the parent still gets their
 * answers); a new libcares channel is built from the stored options, re-reading the
 * configuration; an I/O thread, which a fork does not copy, is started again. The child needs no
 * reinit(). */
#include "channel.h"

#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

static int is_locked(module_state *st, chan_core *c)
{
    for (int i = 0; i < st->nfork_locked; i++)
        if (st->fork_locked[i] == c)
            return 1;
    return 0;
}

void channels_before_fork(module_state *st)
{
    /* core_lock() may let other threads run (it never waits with the GIL), and they may open or
     * close channels meanwhile: hold a reference on each, and rescan until every open channel
     * is locked. */
    for (;;) {
        chan_core *todo = NULL;
        int count = 0;
        for (chan_core *c = st->channels; c != NULL; c = c->reg_next, count++)
            if (todo == NULL && !is_locked(st, c))
                todo = c;
        if (todo == NULL)
            return;
        chan_core **grown = realloc(st->fork_locked, (size_t)(st->nfork_locked + 1) * sizeof(*grown));
        if (grown == NULL)
            return; /* without memory the fork goes ahead unguarded rather than not at all */
        st->fork_locked = grown;
        todo->refs++;
        st->fork_locked[st->nfork_locked++] = todo;
        core_lock(todo);
    }
}

static void release_fork_locks(module_state *st, void (*each)(chan_core *))
{
    chan_core **locked = st->fork_locked;
    int n = st->nfork_locked;
    st->fork_locked = NULL;
    st->nfork_locked = 0;
    for (int i = 0; i < n; i++)
        pthread_mutex_unlock(&locked[i]->lock);
    for (int i = 0; i < n; i++) {
        if (each != NULL)
            each(locked[i]);
        core_decref(locked[i]);
    }
    free(locked);
}

void channels_after_fork_parent(module_state *st)
{
    release_fork_locks(st, NULL);
}

/* One channel in the child: see the comment at the top. */
static void restart_in_child(chan_core *c)
{
    /* a thread of the parent may have been inside wait(): its mutex starts afresh */
    pthread_mutex_init(&c->idle_mu, NULL);
    pthread_cond_init(&c->idle_cond, NULL);
    c->idle_waiters = 0;
    if (c->delivering && !pthread_equal(c->deliverer, pthread_self()))
        c->delivering = 0; /* its owner was another thread, not copied */
    if (c->state != CH_OPEN)
        return;
    if (c->thread_running) {
        c->thread_running = 0; /* the thread was not copied: drop the reference it held */
        c->refs--;
        if (c->wake_fd >= 0)
            close(c->wake_fd); /* shared with the parent's thread */
        c->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    }
    core_lock(c);
    generation *g = c->gens;
    c->gens = NULL;
    while (g != NULL) {
        generation *next = g->next;
        ares_destroy(g->ch);
        free(g);
        g = next;
    }
    c->nwatch = 0;
    pthread_mutex_unlock(&c->lock);

    generation *fresh;
    int rc = gen_create(c, c->servers, c->nservers, &fresh);
    core_lock(c);
    if (rc == ARES_SUCCESS)
        gen_install(c, fresh);
    else
        c->state = CH_CLOSED; /* nothing to send queries with: later calls say it is closed */
    pthread_mutex_unlock(&c->lock);
    deliver_events(c);
    if (rc != ARES_SUCCESS) {
        registry_remove(c);
        return;
    }
    if (c->threaded && c->wake_fd >= 0) {
        c->stop = 0;
        if (start_thread(c) < 0)
            PyErr_WriteUnraisable(NULL);
    }
}

void channels_after_fork_child(module_state *st)
{
    detached_threads_after_fork_child();
    release_fork_locks(st, restart_in_child);
}
