/* Host resolution: gethostbyname, gethostbyaddr, getaddrinfo, getnameinfo as request kinds (host.c). */
#ifndef PYCARES_NG_HOST_H
#define PYCARES_NG_HOST_H

#include "channel.h"

/* The Channel methods. */
PyObject *Channel_gethostbyname(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames);
PyObject *Channel_gethostbyaddr(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames);
PyObject *Channel_getaddrinfo(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames);
PyObject *Channel_getnameinfo(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames);

#endif
