/* What host lookups found, in plain C memory (hostdata.c). libcares' callbacks run with the
 * channel lock held and maybe without the GIL, so they copy what libcares hands them (freed by
 * libcares when the callback returns) into these; the Python results are built from them at
 * delivery (host_results.c). No Python here. */
#ifndef PYCARES_NG_HOSTDATA_H
#define PYCARES_NG_HOSTDATA_H

#include <netdb.h>
#include <sys/socket.h>

#include "cares.h"

/* A hostent in one block: the struct, two NULL-terminated pointer arrays, then the strings. */
typedef struct {
    char *name;
    char **aliases;
    char **addrs; /* addresses as text */
} host_copy;

/* NULL when out of memory; free() it. */
host_copy *host_copy_new(const struct hostent *h);

typedef struct {
    char *node;
    char *service; /* NULL when not asked for */
} nameinfo_copy;

/* NULL when out of memory; free() it. */
nameinfo_copy *nameinfo_copy_new(const char *node, const char *service);

/* A literal address answered without libcares. */
typedef struct {
    int family, port, socktype, protocol;
    unsigned char addr[16];
} literal_copy;

/* The node shape for a name's addresses: socket type, protocol and port (gai_plan_make). */
typedef struct {
    int n;
    struct {
        int socktype, protocol, port;
    } e[8];
    int family, flags; /* as asked */
} gai_plan;

/* glibc's whole answer for a literal or missing host: no lookup was involved. */
typedef struct {
    int n;
    struct {
        int socktype, protocol;
        struct sockaddr_storage sa;
    } e[];
} sys_answer;

/* What getnameinfo was asked, for shaping its result like the system's. */
typedef struct {
    int port, flags;
    unsigned scope_id;
} nameinfo_asked;

#endif
