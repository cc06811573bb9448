/* The Channel type: one c-ares channel, its lock, its queue of finished work and, optionally,
 * its own I/O thread. */
#ifndef PYCARES_NG_CHANNEL_H
#define PYCARES_NG_CHANNEL_H

#include <pthread.h>
#include <time.h>

#include "module.h"
#include "request.h"

enum { CH_NEW = 0, CH_OPEN = 1, CH_CLOSED = 2 };

/* One libcares channel. reinit() and server changes that 1.18 refuses while queries are pending
 * start a new generation; older ones are still driven until their last query finishes. */
typedef struct generation {
    ares_channel ch;
    long pending;
    struct generation *next;
    /* c-ares < 1.22 with a hosts file in its lookups: libcares is told lookups="b" and the
     * hosts-file steps of host lookups are done by pycares_ng (host.c, hostsfile.c) in the order
     * `lookups` gives (the effective one: as configured or as libcares read it). */
    int own_files;
    char lookups[4];
    /* libcares does the hosts file and the address sorting itself, as plain c-ares would
     * ($PYCARES_NG_LIBCARES_ONLY, read when the generation is made): what the tests compare
     * pycares_ng's own steps with. */
    int libcares_only;
    /* dnsrec searches (dnsrec.c): the query message ares_search would build, from the flags
     * libcares settled on, read once. */
    int query_flags_known, query_rd, query_edns;
} generation;

typedef struct {
    event ev;
    int fd, readable, writable;
    int close_fd;   /* libcares closed fd meanwhile: close it once this is delivered (sockets.c) */
} sock_event;

typedef struct {
    int fd;
    short events;
} watch_entry;

/* Everything the I/O thread may touch lives here, not in the Python object, so a Channel
 * collected while its thread is still unwinding never leaves the thread a dangling pointer.
 * Owned by the Channel object and by the running I/O thread (refs, changed with the GIL). */
typedef struct chan_core {
    int refs;
    pthread_mutex_t lock;           /* around every libcares call, the queue and the watch table */
    pthread_cond_t closed_cond;     /* signalled when close_done becomes true */
    int state;
    int close_done;                 /* closed and every resulting callback delivered (lock) */
    generation *gens;               /* current first, then retired ones */
    event *q_head, *q_tail;         /* finished work, in order (lock) */
    int detached;                   /* its I/O thread was detached by close() on it (GIL) */
    int no_servers;                 /* servers were set to an empty list (GIL) */
    int empty_at_lock;              /* the queue was empty when core_lock() returned (lock) */
    int delivering;                 /* a thread is running the queue's callbacks (lock) ... */
    pthread_t deliverer;            /* ... this one: one at a time, in queue order */
    request *reqs;                  /* undelivered requests, for GC traversal (GIL) */
    PyObject *module;
    module_state *st;
    PyObject *sock_state_cb;        /* GIL */
    int want_sock_events;
    int face;                       /* 4, or 5 for pycares_ng.v5's Channel: its result classes */
    int dnsrec;                     /* queries go through c-ares' dnsrec API (dnsrec.h) */
    /* What a fresh generation is built from. */
    struct ares_options opts;
    int optmask;
    struct ares_addr_port_node *servers;
    int nservers;
    char *local_dev;
    int local_family;
    unsigned char local_addr[16];
    /* The I/O thread (event_thread=True). */
    int threaded;
    pthread_t thread;
    int thread_running;             /* GIL */
    int thread_alive;               /* the I/O thread still holds its reference (GIL) */
    int thread_lost;                /* a fork's child: that thread was not copied (GIL) */
    int stop;                       /* lock */
    int wake_fd;                    /* eventfd */
    watch_entry *watch;             /* the sockets libcares wants watched (lock) */
    int nwatch, capwatch;
    struct chan_core *reg_prev, *reg_next;  /* the module's list of open channels (GIL) */
    struct chan_core *all_prev, *all_next;  /* every live core, for the fork handlers (fork.c) */
    int in_all;
    unsigned long fork_seen;        /* the process's fork count this core was brought up to (GIL) */
    struct hosts_cache *hosts;      /* the parsed hosts file, for own_files generations (lock) */
    /* wait(): signalled when the last pending request has been delivered. */
    pthread_mutex_t idle_mu;
    pthread_cond_t idle_cond;
    unsigned long idle_seq;         /* bumped at each such moment (GIL and idle_mu) */
    int idle_waiters;               /* threads inside wait() (GIL) */
    int reply_status;               /* c-ares < 1.34: what 1.34 says of the reply being processed (lock) */
    /* The I/O thread's wait (event_thread.c, wake_io; lock). */
    int io_polling;                 /* in poll() on the watch set and deadline it computed */
    int io_woken;                   /* ... and wake_fd has been written since */
    int io_recheck;                 /* look at the queue again before waiting */
    long long io_deadline_us;       /* when that poll() times out (CLOCK_MONOTONIC), -1: never */
} chan_core;

typedef struct ChannelObject {
    PyObject_HEAD
    chan_core *core;
    PyObject *weakreflist;
    PyObject *dict;     /* instance attributes: pycares 4's Channel takes them (mocks, tags) */
} ChannelObject;

#define CORE(self) (((ChannelObject *)(self))->core)
#define FOR_EACH_GEN(c, g) for (generation *g = (c)->gens; g != NULL; g = g->next)

/* channel_core.c: the lock, the event queue, delivery, generations. */
void core_lock(chan_core *c);          /* GIL held; never waits with the GIL */
int core_unlock(chan_core *c);         /* reaps idle generations; returns "work is waiting" */
void core_free(chan_core *c);
void free_options(chan_core *c);
void core_decref(chan_core *c);        /* GIL held */
void wake_thread(chan_core *c);
/* The clock's time `ns` nanoseconds from now, for pthread timed waits (CLOCK_REALTIME for
 * condition variables and joins, CLOCK_MONOTONIC for loops that read the clock themselves). */
struct timespec deadline_after(clockid_t clock, long long ns);
long long monotonic_us(void);          /* CLOCK_MONOTONIC in microseconds */
/* What changed for the I/O thread (lock held): wakes it only if it is waiting in poll() and
 * must see the change now (channel_core.c; the thread's side is in event_thread.c). */
enum { WAKE_WATCH = 1, WAKE_TIMER = 2, WAKE_DELIVER = 3 };
void wake_io(chan_core *c, int why);
void reap_generations(chan_core *c);
void on_sock_state(void *data, ares_socket_t fd, int readable, int writable);
void deliver_events(chan_core *c);     /* GIL held, lock not held */
int core_check_state(chan_core *c);    /* open: 0; else -1 with RuntimeError */
/* core_lock(), then the re-check every method makes after its unlocked preparations: 0 with
 * the lock held while the channel is open; else -1 with RuntimeError and the lock not held. */
int core_lock_open(chan_core *c);
/* Issues r under the lock with issue(libcares channel, r, arg); on a closed channel frees r and
 * raises RuntimeError (-1). From then on r belongs to the channel: exactly one delivery. */
typedef void (*issue_fn)(ares_channel ch, request *r, void *arg);
int request_submit(chan_core *c, request *r, issue_fn issue, void *arg);
/* Whether libcares reads $HOSTALIASES (a file anywhere) when it starts a search or host lookup
 * of name: a name without a dot, HOSTALIASES set, no ARES_FLAG_NOALIASES. GIL held. */
int may_read_hostaliases(chan_core *c, const char *name);
/* Accepts a request that failed before reaching libcares (bad input pycares 4 reports through
 * the callback): its callback gets (None, status), in order with the rest. 0, or -1 with an
 * exception (closed channel, no memory). */
int request_submit_status(chan_core *c, PyObject *callback, int status);
/* The libcares callback every finished request goes through (lock held). */
void request_finished(request *r);
int on_event_thread(chan_core *c);
/* c-ares < 1.34 ends a query whose reply was SERVFAIL/REFUSED/NOTIMP or unparsable with its
 * initial ECONNREFUSED: the status c-ares 1.34 gives instead (sockets.c notes it). Lock held. */
static inline int reply_status(chan_core *c, int status)
{
    return status == ARES_ECONNREFUSED && c->reply_status != 0 ? c->reply_status : status;
}
int is_delivering_locked(chan_core *c); /* this thread is inside deliver_events(c); lock held */
void deliver_events_nested(chan_core *c); /* deliver_events(), also inside a callback of c */
void after_call(chan_core *c, int waiting);
void gen_apply_local(chan_core *c, ares_channel ch);
int set_servers(chan_core *c, ares_channel ch, struct ares_addr_port_node *servers, int nservers);
int gen_create(chan_core *c, struct ares_addr_port_node *servers, int nservers, generation **out);
void gen_install(chan_core *c, generation *g);
void gen_destroy(generation *g);                 /* its libcares channel and itself */
generation *gens_take_all(chan_core *c);        /* lock held: every generation, unlinked */
void gens_destroy(generation *g);               /* a list gens_take_all returned */
/* The earliest of libcares' next timers over every generation, at most *cap when cap is not
 * NULL: 1 with *out, or 0 when no timer runs. Lock held. */
int core_next_timeout(chan_core *c, const struct timeval *cap, struct timeval *out);

/* Every live core of the process, whatever module made it, for the fork handlers (fork.c). Its
 * mutex is taken before any core's lock; core_all_lock() takes it with the GIL held. */
extern pthread_mutex_t core_all_mutex;
extern chan_core *core_all;
extern volatile unsigned long core_fork_count;
void core_all_lock(void);
void core_all_add(chan_core *c);       /* GIL held, lock not held */
void core_all_remove(chan_core *c);    /* GIL held, lock not held */

void registry_add(chan_core *c);
void registry_remove(chan_core *c);

/* event_thread.c */
int start_thread(chan_core *c);
int stop_thread(chan_core *c, int interruptible); /* 0, or -1 with an exception (interrupted) */
/* Closes every channel that still runs an I/O thread (the module's atexit hook). */
void channel_shutdown_threads(module_state *st);

/* fork.c: fork() support. pthread_atfork handlers take every core's lock inside fork() (after
 * every Python before-fork hook ran) and, in the child, make the copies consistent; the rest of
 * the child's work (new libcares channels, I/O threads, closes that were under way) is done with
 * the GIL, by the after_in_child hook or by the first call on the channel, whichever comes first. */
int fork_handlers_install(void);           /* once per process; 0, or an errno value */
void fork_check(chan_core *c);             /* GIL held, lock not held: catch up with a fork */
/* What every method checks first: a fork's child catches up, then the channel must be open.
 * 0, or -1 with RuntimeError. */
int check_open(chan_core *c);
void channels_after_fork_child(module_state *st);
/* event_thread.c: its own process-wide state around fork() */
void detached_threads_prepare(void);
void detached_threads_parent(void);
void detached_threads_after_fork_child(void);

/* event_thread.c: cancels and destroys every generation, stops the I/O thread, delivers what
 * that produced. 0, or -1 with an exception (a signal handler's, such as KeyboardInterrupt, while
 * waiting for callbacks another thread delivers; only when interruptible). A fork's child calls
 * fork_check() first. */
int channel_close(chan_core *c, int interruptible);

#endif
