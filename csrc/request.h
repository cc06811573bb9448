/* The request: the one polymorphic unit the channel core queues and delivers.
 *
 * Each kind of request (a DNS query, a whole DNS message, a host lookup, a literal answered at
 * once ...) embeds `request` as its first member and supplies its operations: how to build the
 * Python result at delivery and how to free what it owns. The core (channel_core.c) knows no
 * result type; it only links, counts, queues, delivers and frees requests through `ops`. */
#ifndef PYCARES_NG_REQUEST_H
#define PYCARES_NG_REQUEST_H

#include "module.h"

/* Something libcares reported, waiting to be delivered to Python once the lock is released. */
typedef struct event {
    struct event *next;
    int kind;
} event;

enum { EV_REQUEST = 1, EV_SOCK = 2 };

struct chan_core;
struct generation;
struct request;

typedef struct request_ops {
    /* The result to call back with (GIL held, channel lock not held, r->status ARES_SUCCESS);
     * NULL with an exception set, or with *status set to the ARES code to report. `face` is the
     * channel's: 4, or 5 for pycares_ng.v5's result classes. */
    PyObject *(*build)(struct request *r, module_state *st, int face, int *status);
    /* Frees what the kind owns besides the common header (any thread, no Python); NULL if
     * nothing. The core frees the request itself afterwards. */
    void (*free)(struct request *r);
} request_ops;

/* The common header. Owns its callback reference; freed in exactly one place (the core's
 * delivery), after its callback ran, or by request_submit when the channel was closed. */
typedef struct request {
    event ev;                       /* must stay first: the queue links requests through it */
    struct request *prev, *next;    /* undelivered requests of the channel (GIL) */
    struct chan_core *core;
    struct generation *gen;
    PyObject *callback;
    const request_ops *ops;
    int status;                     /* what the libcares callback (or the submitter) reported */
    int may_block;                  /* its libcares call may read a file: issued without the GIL */
} request;

/* A request of `size` bytes (the kind's struct, header first), zeroed, holding a new reference
 * to callback; NULL with MemoryError. */
request *request_new(struct chan_core *c, PyObject *callback, const request_ops *ops, size_t size);
/* Frees a request that was never submitted (GIL held). */
void request_discard(request *r);

#endif
