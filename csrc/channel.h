/* The Channel type: one c-ares channel, its lock and its queue of finished work. */
#ifndef PYCARES_NG_CHANNEL_H
#define PYCARES_NG_CHANNEL_H

#include <pthread.h>

#include "module.h"

/* Something libcares reported, waiting to be delivered to Python once the lock is released. */
typedef struct event {
    struct event *next;
    int kind;
} event;

enum { EV_REQUEST = 1, EV_SOCK = 2 };
enum { REQ_QUERY = 1, REQ_QUERY_DNS = 2 };
enum { CH_NEW = 0, CH_OPEN = 1, CH_CLOSED = 2 };

/* One libcares channel. reinit() and server changes that 1.18 refuses while queries are pending
 * start a new generation; older ones are still driven until their last query finishes. */
typedef struct generation {
    ares_channel ch;
    long pending;
    struct generation *next;
} generation;

/* One accepted request; owns its callback reference and is freed in exactly one place
 * (request_deliver), after its callback ran. */
typedef struct request {
    event ev;                       /* must stay first: the queue links requests through it */
    struct request *prev, *next;    /* undelivered requests of the channel (GIL-protected) */
    struct ChannelObject *owner;
    generation *gen;
    PyObject *callback;
    unsigned char *abuf;
    int alen, status, qtype, kind;
} request;

typedef struct {
    event ev;
    int fd, readable, writable;
} sock_event;

typedef struct ChannelObject {
    PyObject_HEAD
    PyObject *module;
    module_state *st;
    pthread_mutex_t lock;           /* around every libcares call and the queue */
    int state;
    generation *gens;               /* current first, then retired ones */
    event *q_head, *q_tail;         /* finished work, in order (lock) */
    request *reqs;                  /* undelivered requests, for GC traversal (GIL) */
    PyObject *sock_state_cb;
    int want_sock_events;
    /* What a fresh generation is built from. */
    struct ares_options opts;
    int optmask;
    struct ares_addr_port_node *servers;   /* user servers (malloc), or NULL */
    int nservers;
    char *local_dev;
    int local_family;
    unsigned char local_addr[16];
    PyObject *weakreflist;
} ChannelObject;

#endif
