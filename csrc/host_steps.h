/* Host lookups in steps, for c-ares < 1.22 with a hosts file in its lookups (own_files
 * generations, channel_core.c): the hosts file (hostsfile.c, cached per channel) and libcares'
 * DNS-only lookups, in the order of the generation's `lookups`, as c-ares 1.18 orders them
 * itself (host_steps.c). Delete this file when the c-ares floor reaches 1.22.
 *
 * Everything here runs with the channel lock held, maybe without the GIL (also from inside
 * libcares' callbacks), and touches no Python. A lookup ends by calling the `done` function its
 * request kind gave (host.c), exactly once. */
#ifndef PYCARES_NG_HOST_STEPS_H
#define PYCARES_NG_HOST_STEPS_H

#include "channel.h"

/* A forward lookup (getaddrinfo, gethostbyname). */
typedef struct {
    request *r;
    const char *name;                          /* what libcares is given (the request's) */
    const struct ares_addrinfo_hints *hints;   /* the request's */
    char *files_name;   /* what the hosts file is searched for: the HOSTALIASES alias, or name */
    char *cares_hosts;  /* $CARES_HOSTS when submitted, or NULL */
    const char *next;   /* lookups still to do, into the generation's */
    int status;         /* the last failure so far */
    struct ares_addrinfo *misses; /* CNAME entries of hosts-file lines without an address of the
                                   * family: c-ares lists them before a DNS answer's */
    /* The end: ai (or NULL) is handed over; own: made by hostsfile.c (hosts_addrinfo_free),
     * else by libcares (ares_freeaddrinfo). */
    void (*done)(request *r, int status, struct ares_addrinfo *ai, int own);
} fwd_steps;

/* A reverse lookup (gethostbyaddr, getnameinfo). */
typedef struct {
    request *r;
    const char *next;
    struct sockaddr_storage sa;
    ares_socklen_t len;
    int flags;          /* getnameinfo's */
    char *cares_hosts;  /* $CARES_HOSTS when submitted, or NULL */
    void (*host_done)(request *r, int status, const struct hostent *h);
    void (*ni_done)(request *r, int status, const char *node, const char *service);
} rev_steps;

/* Starts the steps of s from the generation's lookups. */
void fwd_steps_start(ares_channel ch, fwd_steps *s);
void rev_steps_host(ares_channel ch, rev_steps *s);
void rev_steps_nameinfo(ares_channel ch, rev_steps *s);
/* What the steps still own (any thread). */
void fwd_steps_free(fwd_steps *s);

#endif
