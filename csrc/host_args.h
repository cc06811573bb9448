/* Host lookups' arguments, checked as pycares 4 checks them (host_args.c). GIL held. */
#ifndef PYCARES_NG_HOST_ARGS_H
#define PYCARES_NG_HOST_ARGS_H

#include <Python.h>
#include <sys/socket.h>

#include "cares.h"

#define KNOWN_AI_FLAGS                                                                                         \
    (ARES_AI_CANONNAME | ARES_AI_NUMERICHOST | ARES_AI_PASSIVE | ARES_AI_NUMERICSERV | ARES_AI_V4MAPPED |      \
     ARES_AI_ALL | ARES_AI_ADDRCONFIG | ARES_AI_NOSORT | ARES_AI_ENVHOSTS | ARES_AI_IDN |                      \
     ARES_AI_IDN_ALLOW_UNASSIGNED | ARES_AI_IDN_USE_STD3_ASCII_RULES | ARES_AI_CANONIDN)

/* 0 with *family set; 1 for an int that is no address family (pycares 4 and libcares report
 * that through the callback); -1 with TypeError for a non-int. */
int family_arg(PyObject *obj, int *family);
/* 0, or -1 with TypeError. */
int callback_arg(PyObject *obj);
/* The port as libcares wants it: decimal text (in buf), a service name, or NULL. 0, or -1 with
 * an exception. */
int service_arg(PyObject *port, char *buf, size_t size, const char **out);
/* (ip, port) or (ip, port, flowinfo, scope_id) into a sockaddr: 0, or -1 with an exception. */
int sockaddr_arg(PyObject *address, struct sockaddr_storage *sa, ares_socklen_t *len);

#endif
