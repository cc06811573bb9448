/* Host lookups' arguments, checked as pycares 4 checks them (see host_args.h). */
#include "host_args.h"

#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#include "args.h"

/* 0 with *family set; 1 for an int that is no address family (pycares 4 and libcares report
 * that through the callback); -1 with TypeError for a non-int. */
int family_arg(PyObject *obj, int *family)
{
    long v = 0;
    if (obj == Py_None) { /* pycares 4 hands it to C as an int */
        PyErr_SetString(PyExc_TypeError, "family must be an int, not None");
        return -1;
    }
    if (ctype_int_option(obj, "family", INT_MIN, INT_MAX, INT_MIN, INT_MAX, &v) < 0)
        return -1;
    if (v != AF_INET && v != AF_INET6 && v != AF_UNSPEC)
        return 1;
    *family = (int)v;
    return 0;
}

int callback_arg(PyObject *obj)
{
    if (PyCallable_Check(obj))
        return 0;
    PyErr_SetString(PyExc_TypeError, "callback must be callable");
    return -1;
}

/* The port as libcares wants it: decimal text, a service name, or NULL. */
int service_arg(PyObject *port, char *buf, size_t size, const char **out)
{
    PyObject *keep = NULL;
    if (port == NULL || port == Py_None) {
        *out = NULL;
        return 0;
    }
    if (PyLong_Check(port)) { /* pycares 4: str(port); libcares then judges it (ARES_ESERVICE) */
        int overflow;
        long v = PyLong_AsLongAndOverflow(port, &overflow);
        if (v == -1 && PyErr_Occurred())
            return -1;
        if (overflow)
            strcpy(buf, overflow > 0 ? "99999999999999999999999" : "-1"); /* out of range either way */
        else
            PyOS_snprintf(buf, size, "%ld", v);
        *out = buf;
        return 0;
    }
    const char *s = text_arg(port, "port", &keep);
    if (s == NULL)
        return -1;
    /* empty or over-long text is no service either: ARES_ESERVICE through the callback */
    strcpy(buf, strlen(s) < size ? s : "-");
    Py_DECREF(keep);
    *out = buf;
    return 0;
}

/* (ip, port) or (ip, port, flowinfo, scope_id) into a sockaddr. */
int sockaddr_arg(PyObject *address, struct sockaddr_storage *sa_out, ares_socklen_t *len_out)
{
    PyObject *ip;
    long port;
    uint32_t flowinfo = 0, scope_id = 0;
    int family;
    unsigned char addr[16];

    /* pycares 4 takes any sequence of 2 (IPv4) or 4 (IPv6) items */
    Py_ssize_t size = PyUnicode_Check(address) || PyBytes_Check(address) ? -1 : PySequence_Size(address);
    if (size < 0 && PyErr_Occurred())
        return -1;
    if (size != 2 && size != 4) {
        PyErr_Format(PyExc_ValueError, "address must be (ip, port) or (ip, port, flowinfo, scope_id), got %R",
                     address);
        return -1;
    }
    PyObject *seq = PySequence_Fast(address, "address must be a sequence");
    if (seq == NULL)
        return -1;
    ip = PySequence_Fast_GET_ITEM(seq, 0);
    if (parse_ip(ip, "address", &family, addr) < 0)
        goto fail;
    if ((size == 2) != (family == AF_INET)) {
        PyErr_Format(PyExc_ValueError, size == 2 ? "invalid IPv4 address %R: an IPv6 address takes "
                                                   "(ip, port, flowinfo, scope_id)"
                                                 : "invalid IPv6 address %R: an IPv4 address takes (ip, port)",
                     ip);
        goto fail;
    }
    /* htons()/htonl() in pycares 4: OverflowError outside the C types */
    if (ctype_int_option(PySequence_Fast_GET_ITEM(seq, 1), "port", 0, 65535, 0, 65535, &port) != 1)
        goto bad_port;
    if (size == 4 &&
        (ctype_u32_option(PySequence_Fast_GET_ITEM(seq, 2), "flowinfo", 0xFFFFF, &flowinfo) < 0 ||
         ctype_u32_option(PySequence_Fast_GET_ITEM(seq, 3), "scope_id", UINT32_MAX, &scope_id) < 0))
        goto fail;
    Py_DECREF(seq);
    memset(sa_out, 0, sizeof(*sa_out));
    if (family == AF_INET) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)sa_out;
        s4->sin_family = AF_INET;
        s4->sin_port = htons((unsigned short)port);
        memcpy(&s4->sin_addr, addr, 4);
        *len_out = sizeof(*s4);
    } else {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)sa_out;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((unsigned short)port);
        s6->sin6_flowinfo = htonl(flowinfo);
        s6->sin6_scope_id = scope_id;
        memcpy(&s6->sin6_addr, addr, 16);
        *len_out = sizeof(*s6);
    }
    return 0;
bad_port:
    if (!PyErr_Occurred())
        PyErr_SetString(PyExc_TypeError, "port must be an int");
fail:
    Py_DECREF(seq);
    return -1;
}
