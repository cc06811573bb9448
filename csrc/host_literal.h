/* What the C library answers without any lookup: service names and ports, literal addresses,
 * HOSTALIASES and CARES_HOSTS, shaped as libcares 1.34 (pycares 4.11's) and the system shape
 * them, on every c-ares version (host_literal.c). Blocking libc calls (NSS, files) are made
 * with the GIL released; nothing else here touches Python. GIL held on entry. */
#ifndef PYCARES_NG_HOST_LITERAL_H
#define PYCARES_NG_HOST_LITERAL_H

#include <Python.h>

#include "hostdata.h"

/* The port libcares gives a service (NULL: 0): ARES_SUCCESS with *port, or ARES_ESERVICE. */
int cares_port(const char *service, int aflags, int *port);
/* libcares' shape for every address: one node, the hints' socket type and protocol, the port. */
void gai_plan_make(int family, int socktype, int protocol, int aflags, int port, gai_plan *plan);
/* The whole answer for a literal host (or none): ARES_SUCCESS with *out (malloc'd), or an error. */
int sys_answer_make(const char *host, int port, int family, int socktype, int protocol, int aflags,
                    sys_answer **out);
int is_literal(const char *name);
/* "LocalHost" is localhost: c-ares 1.18 only knows it in lower case. In place. */
void fold_localhost(char *name);
/* HOSTALIASES, as c-ares applies it before its hosts-file step: the name a dotless name is an
 * alias of (malloc'd), or NULL. The file is read without the GIL. */
char *host_alias(const char *name, int noaliases);
/* ARES_AI_ENVHOSTS when CARES_HOSTS is set (c-ares >= 1.22 reads it by itself; 1.18 only with
 * that flag), else 0. */
int implied_flags(void);
/* Literal addresses never reach libcares: 1.18 also sends an IPv4 literal to DNS for AF_UNSPEC
 * and AF_INET6 (and "::1" for AF_INET), merging whatever comes back. Answering here gives the
 * same result on every c-ares, without the network. 1 if name is a literal (*out and *status
 * set: ARES_SUCCESS, ENOTFOUND for another family, ESERVICE), 0 if it is a name. */
int literal_parse(const char *name, int family, int flags, const char *service, int socktype, int protocol,
                  int as_host, literal_copy *out, int *status);

#endif
