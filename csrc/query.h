/* DNS queries as requests: query/search (records), query_dns/search_dns (the whole message) and
 * pycares 5's query/search (DNSResult), on the legacy or the dnsrec path (query.c). */
#ifndef PYCARES_NG_QUERY_H
#define PYCARES_NG_QUERY_H

#include "channel.h"

/* The Channel methods. */
PyObject *Channel_query(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames);
PyObject *Channel_search(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames);
PyObject *Channel_query_dns(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames);
PyObject *Channel_search_dns(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames);
PyObject *Channel_query_dns5(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames);
PyObject *Channel_search_dns5(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames);

#endif
