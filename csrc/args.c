/* Argument checking shared by the Channel methods: every bad type is a TypeError and every bad
 * value a ValueError that names the argument, raised before any libcares call. */
#include "args.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

/* Minimal vectorcall argument parser: fills out[] by position or keyword; NULL when absent. */
int parse_args(const char *fname, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
                      const char *const *names, int nrequired, PyObject **out)
{
    int nnames = 0;
    while (names[nnames] != NULL)
        nnames++;
    if (nargs > nnames) {
        PyErr_Format(PyExc_TypeError, "%s() takes at most %d arguments (%zd given)", fname, nnames, nargs);
        return -1;
    }
    for (int i = 0; i < nnames; i++)
        out[i] = i < nargs ? args[i] : NULL;
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t k = 0; k < nkw; k++) {
        PyObject *key = PyTuple_GET_ITEM(kwnames, k);
        int found = -1;
        for (int i = 0; i < nnames; i++) {
            if (PyUnicode_CompareWithASCIIString(key, names[i]) == 0) {
                found = i;
                break;
            }
        }
        if (found < 0) {
            PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%U'", fname, key);
            return -1;
        }
        if (out[found] != NULL) {
            PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument '%s'", fname, names[found]);
            return -1;
        }
        out[found] = args[nargs + k];
    }
    for (int i = 0; i < nrequired; i++) {
        if (out[i] == NULL) {
            PyErr_Format(PyExc_TypeError, "%s() missing required argument '%s'", fname, names[i]);
            return -1;
        }
    }
    return 0;
}

/* An int option: None keeps the default (returns 0), else 1 with *out set; -1 on error. */
int int_option(PyObject *obj, const char *what, long lo, long hi, long *out)
{
    if (obj == NULL || obj == Py_None)
        return 0;
    if (!PyLong_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s must be an int, not %.100s", what, Py_TYPE(obj)->tp_name);
        return -1;
    }
    int overflow;
    long v = PyLong_AsLongAndOverflow(obj, &overflow);
    if (v == -1 && PyErr_Occurred())
        return -1;
    if (overflow || v < lo || v > hi) {
        PyErr_Format(PyExc_ValueError, "%s must be between %ld and %ld", what, lo, hi);
        return -1;
    }
    *out = v;
    return 1;
}

/* int_option for a value pycares 4 hands to a C type of range [clo, chi]: outside it, the
 * OverflowError pycares (cffi) raises; inside it but outside [lo, hi], int_option's ValueError. */
int ctype_int_option(PyObject *obj, const char *what, long clo, long chi, long lo, long hi, long *out)
{
    if (obj != NULL && obj != Py_None && PyLong_Check(obj)) {
        int overflow;
        long v = PyLong_AsLongAndOverflow(obj, &overflow);
        if (v == -1 && PyErr_Occurred())
            return -1;
        if (overflow || v < clo || v > chi) {
            PyErr_Format(PyExc_OverflowError, "%s must be between %ld and %ld, got %R", what, lo, hi, obj);
            return -1;
        }
    }
    return int_option(obj, what, lo, hi, out);
}

int ctype_u32_option(PyObject *obj, const char *what, uint32_t hi, uint32_t *out)
{
    if (obj == NULL || obj == Py_None)
        return 0;
    if (!PyLong_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s must be an int, not %.100s", what, Py_TYPE(obj)->tp_name);
        return -1;
    }
    int overflow;
    long long v = PyLong_AsLongLongAndOverflow(obj, &overflow); /* at least 64 bits everywhere */
    if (v == -1 && PyErr_Occurred())
        return -1;
    if (overflow || v < 0 || v > (long long)UINT32_MAX) {
        PyErr_Format(PyExc_OverflowError, "%s must be between 0 and %lu, got %R", what, (unsigned long)hi, obj);
        return -1;
    }
    if (v > (long long)hi) {
        PyErr_Format(PyExc_ValueError, "%s must be between 0 and %lu", what, (unsigned long)hi);
        return -1;
    }
    *out = (uint32_t)v;
    return 1;
}

/* Seconds as a non-negative finite float. Returns 0 for None, 1 with *out set, -1 on error. */
int seconds_option(PyObject *obj, const char *what, double *out)
{
    if (obj == NULL || obj == Py_None)
        return 0;
    if (!PyFloat_Check(obj) && !PyLong_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s must be a number of seconds, not %.100s", what, Py_TYPE(obj)->tp_name);
        return -1;
    }
    double v = PyFloat_AsDouble(obj);
    if (v == -1.0 && PyErr_Occurred())
        return -1;
    if (!(v >= 0.0) || isinf(v) || v > (double)INT_MAX / 1000.0) {
        PyErr_Format(PyExc_ValueError, "%s must be a non-negative number of seconds, got %R", what, obj);
        return -1;
    }
    *out = v;
    return 1;
}

/* str or bytes as a NUL-free C string (new PyBytes in *keep). */
const char *text_arg(PyObject *obj, const char *what, PyObject **keep)
{
    if (PyUnicode_Check(obj)) {
        /* pycares 4's ascii_bytes(): a non-ASCII str is a UnicodeEncodeError (a ValueError) */
        if ((*keep = PyUnicode_AsEncodedString(obj, "ascii", "strict")) == NULL)
            return NULL;
    } else if (PyBytes_Check(obj)) {
        Py_INCREF(obj);
        *keep = obj;
    } else {
        PyErr_Format(PyExc_TypeError, "%s must be str or bytes, not %.100s", what, Py_TYPE(obj)->tp_name);
        return NULL;
    }
    const char *s = PyBytes_AS_STRING(*keep);
    if ((size_t)PyBytes_GET_SIZE(*keep) != strlen(s)) {
        Py_CLEAR(*keep);
        PyErr_Format(PyExc_ValueError, "%s contains a NUL character", what);
        return NULL;
    }
    return s;
}

/* An IPv4/IPv6 address string into family + bytes; ValueError naming it if invalid. */
int parse_ip(PyObject *obj, const char *what, int *family, unsigned char *addr)
{
    PyObject *keep = NULL;
    const char *s = text_arg(obj, what, &keep);
    if (s == NULL)
        return -1;
    int rc = 0;
    if (inet_pton(AF_INET, s, addr) == 1)
        *family = AF_INET;
    else if (inet_pton(AF_INET6, s, addr) == 1)
        *family = AF_INET6;
    else {
        PyErr_Format(PyExc_ValueError, "invalid IP address for %s: %R", what, obj);
        rc = -1;
    }
    Py_DECREF(keep);
    return rc;
}

/* The port after "?tcpport=" of a dns:// URI: 1..65535, or -1. */
static long uri_tcp_port(const char *query)
{
    static const char key[] = "?tcpport=";
    if (strncmp(query, key, sizeof(key) - 1) != 0)
        return -1;
    const char *digits = query + sizeof(key) - 1;
    char *end;
    long port = strtol(digits, &end, 10);
    return *digits >= '0' && *digits <= '9' && *end == '\0' && port >= 1 && port <= 65535 ? port : -1;
}

/* One server "ip", "ip:port", "[ipv6]" or "[ipv6]:port", or the URI form c-ares 1.34 uses
 * ("dns://ip:port", "dns://[ipv6]:port?tcpport=N") into a libcares server node. */
static int server_parse(PyObject *item, struct ares_addr_port_node *node)
{
    PyObject *keep = NULL;
    const char *s = text_arg(item, "server address", &keep);
    if (s == NULL)
        return -1;
    char host[64], authority[80];
    long port = 0, tcp_port = 0;
    const char *port_text = NULL;
    int ok = 0;
    size_t n = strlen(s);

    memset(node, 0, sizeof(*node));
    if (strncmp(s, "dns://", 6) == 0) {
        const char *rest = s + 6, *query = strchr(rest, '?');
        size_t len = query != NULL ? (size_t)(query - rest) : strlen(rest);
        if (query != NULL && (tcp_port = uri_tcp_port(query)) < 0)
            len = sizeof(authority); /* refused below */
        if (len < sizeof(authority)) {
            memcpy(authority, rest, len);
            authority[len] = '\0';
            s = authority;
            n = len;
        } else {
            n = 0;
        }
    }
    if (n > 0 && n < sizeof(host)) {
        if (s[0] == '[') {
            const char *close = strchr(s, ']');
            if (close != NULL && (close[1] == '\0' || close[1] == ':')) {
                memcpy(host, s + 1, (size_t)(close - s - 1));
                host[close - s - 1] = '\0';
                port_text = close[1] == ':' ? close + 2 : NULL;
                node->family = AF_INET6;
            }
        } else if (strchr(s, ':') != NULL && strchr(s, ':') == strrchr(s, ':')) {
            const char *colon = strchr(s, ':');
            memcpy(host, s, (size_t)(colon - s));
            host[colon - s] = '\0';
            port_text = colon + 1;
            node->family = AF_INET;
        } else {
            strcpy(host, s);
            node->family = strchr(host, ':') ? AF_INET6 : AF_INET;
        }
        if (node->family != 0)
            ok = inet_pton(node->family, host, &node->addr) == 1;
        if (ok && port_text != NULL) {
            char *end;
            port = strtol(port_text, &end, 10);
            ok = *port_text != '\0' && *end == '\0' && port >= 1 && port <= 65535;
        }
    }
    Py_DECREF(keep);
    if (!ok) {
        PyErr_Format(PyExc_ValueError, "invalid server address %R: expected an IPv4 or IPv6 address, "
                     "optionally with a port (\"127.0.0.1:53\", \"[::1]:53\")", item);
        return -1;
    }
    node->udp_port = (int)port;
    node->tcp_port = tcp_port > 0 ? (int)tcp_port : (int)port;
    return 0;
}

/* An iterable of server strings as a malloc'd, linked array of nodes; *count may be 0. */
int servers_parse(PyObject *servers, struct ares_addr_port_node **out, int *count)
{
    if (PyUnicode_Check(servers) || PyBytes_Check(servers)) {
        /* pycares 4's classes: it walks a str as one-character addresses (ValueError) and bytes
         * as ints (TypeError). */
        PyErr_SetString(PyUnicode_Check(servers) ? PyExc_ValueError : PyExc_TypeError,
                        "servers must be an iterable of addresses, not a single string");
        return -1;
    }
    PyObject *seq = PySequence_Fast(servers, "servers must be an iterable of str");
    if (seq == NULL)
        return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    struct ares_addr_port_node *nodes = calloc((size_t)(n ? n : 1), sizeof(*nodes));
    if (nodes == NULL) {
        Py_DECREF(seq);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (server_parse(PySequence_Fast_GET_ITEM(seq, i), &nodes[i]) < 0) {
            free(nodes);
            Py_DECREF(seq);
            return -1;
        }
        nodes[i].next = i + 1 < n ? &nodes[i + 1] : NULL;
    }
    Py_DECREF(seq);
    *out = nodes;
    *count = (int)n;
    return 0;
}

char *pymem_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = PyMem_Malloc(n);
    if (d == NULL)
        PyErr_NoMemory();
    else
        memcpy(d, s, n);
    return d;
}

