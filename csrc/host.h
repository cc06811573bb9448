/* Host resolution: gethostbyname, gethostbyaddr, getaddrinfo, getnameinfo (host.c). */
#ifndef PYCARES_NG_HOST_H
#define PYCARES_NG_HOST_H

#include "channel.h"

/* The Channel methods. */
PyObject *Channel_gethostbyname(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames);
PyObject *Channel_gethostbyaddr(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames);
PyObject *Channel_getaddrinfo(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames);
PyObject *Channel_getnameinfo(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames);

/* The result of a finished host request (GIL held); NULL with *status set or an exception. */
PyObject *host_build(module_state *st, request *r);
/* Frees what the libcares callback recorded for a host request (any thread). */
void host_payload_free(request *r);

#endif
