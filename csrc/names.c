/* Name checks and encoding; see names.h. */
#include "names.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <string.h>

/* What c-ares 1.34 (pycares 4.11's) refuses with ARES_EBADNAME, on every era */
static const char HOSTNAME_RULE[] = "has an octet other than a letter, digit, '-', '.', '_', '/' or '*'";

/* The octets libcares (>= 1.2x) lets into a question name: letters, digits and - . _ / * */
static int hostname_octet(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
           ch == '.' || ch == '_' || ch == '/' || ch == '*';
}

const char *name_check(const char *s, size_t n)
{
    size_t wire = 0, label = 0, longest = 0, i = 0;
    int empty_label = 0;

    if (memchr(s, '\0', n) != NULL)
        return "contains a NUL character";
    if (n == 0 || (n == 1 && s[0] == '.'))
        return NULL; /* the root */
    if (n >= NAME_BUF_SIZE)
        return "is longer than 253 octets";
    while (i < n) {
        char ch = s[i];
        if (ch == '.') {
            empty_label |= label == 0;
            wire += label + 1;
            label = 0;
            i++;
            continue;
        }
        if (ch == '\\') {
            /* \DDD or \X stand for one octet */
            unsigned char octet;
            if (i + 3 < n && s[i + 1] >= '0' && s[i + 1] <= '9' && s[i + 2] >= '0' && s[i + 2] <= '9' &&
                s[i + 3] >= '0' && s[i + 3] <= '9') {
                int v = (s[i + 1] - '0') * 100 + (s[i + 2] - '0') * 10 + (s[i + 3] - '0');
                if (v > 255)
                    return "has an escape \\DDD over 255";
                octet = (unsigned char)v;
                i += 4;
            } else if (i + 1 < n) {
                octet = (unsigned char)s[i + 1];
                i += 2;
            } else {
                return "ends with a lone backslash";
            }
            if (!hostname_octet(octet))
                return HOSTNAME_RULE;
        } else {
            if (!hostname_octet((unsigned char)ch))
                return HOSTNAME_RULE;
            i++;
        }
        if (++label > longest)
            longest = label;
    }
    wire += label ? label + 1 : 0;
    /* 253 characters of text without the final dot = 255 octets on the wire with the root. */
    if (wire > 254)
        return "is longer than 253 octets";
    if (longest > 63)
        return "has a label longer than 63 octets";
    if (empty_label)
        return "has an empty label";
    return NULL;
}

/* "2001:db8::1" or "fe80::1%eth0" */
static int is_ip6_literal(const char *s, size_t n)
{
    char text[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
    unsigned char addr[16];
    if (n >= sizeof(text) || memchr(s, ':', n) == NULL)
        return 0;
    memcpy(text, s, n);
    text[n] = '\0';
    char *scope = strchr(text, '%');
    if (scope != NULL)
        *scope = '\0';
    return inet_pton(AF_INET6, text, addr) == 1;
}

static PyObject *idna_encode(module_state *st, PyObject *name)
{
    if (st->idna_encoder == NULL) {
        PyObject *utils = PyImport_ImportModule("pycares_ng.utils");
        if (utils == NULL)
            return NULL;
        st->idna_encoder = PyObject_GetAttrString(utils, "_encode_idna");
        Py_DECREF(utils);
        if (st->idna_encoder == NULL)
            return NULL;
    }
    return PyObject_CallOneArg(st->idna_encoder, name);
}

static Py_ssize_t encode(module_state *st, PyObject *name, char *buf, const char *what, int report)
{
    const char *data;
    Py_ssize_t n;
    PyObject *tmp = NULL;

    if (PyUnicode_Check(name)) {
#if PY_VERSION_HEX < 0x030C0000
        if (PyUnicode_READY(name) < 0)
            return -1;
#endif
        if (!PyUnicode_IS_ASCII(name)) {
            /* IDNA never makes a name shorter than its code points: refuse huge input first. */
            if (PyUnicode_GET_LENGTH(name) >= NAME_BUF_SIZE) {
                if (report)
                    return NAME_REPORT;
                PyErr_Format(PyExc_ValueError, "%s is longer than 253 octets", what);
                return -1;
            }
            tmp = idna_encode(st, name);
            if (tmp == NULL)
                return -1;
            if (!PyBytes_Check(tmp)) {
                Py_DECREF(tmp);
                PyErr_SetString(PyExc_TypeError, "IDNA encoder must return bytes");
                return -1;
            }
            data = PyBytes_AS_STRING(tmp);
            n = PyBytes_GET_SIZE(tmp);
        } else {
            data = (const char *)PyUnicode_DATA(name);
            n = PyUnicode_GET_LENGTH(name);
        }
    } else if (PyBytes_Check(name)) {
        data = PyBytes_AS_STRING(name);
        n = PyBytes_GET_SIZE(name);
    } else {
        PyErr_Format(PyExc_TypeError, "%s must be str or bytes, not %.100s", what, Py_TYPE(name)->tp_name);
        return -1;
    }
    const char *problem = name_check(data, (size_t)n);
    if (problem == HOSTNAME_RULE && is_ip6_literal(data, (size_t)n))
        problem = NULL; /* an IPv6 address: answered as a literal, never sent as a name */
    if (problem != NULL) {
        /* A NUL is refused outright: pycares 4 would send the name cut short at it. (Checked
         * before tmp goes: data may point into it.) */
        int nul = memchr(data, '\0', (size_t)n) != NULL;
        Py_XDECREF(tmp);
        if (report && !nul)
            return NAME_REPORT;
        PyErr_Format(PyExc_ValueError, "%s %s", what, problem);
        return -1;
    }
    memcpy(buf, data, (size_t)n);
    buf[n] = '\0';
    Py_XDECREF(tmp);
    return n;
}

Py_ssize_t name_encode(module_state *st, PyObject *name, char *buf, const char *what)
{
    return encode(st, name, buf, what, 0);
}

Py_ssize_t name_encode_request(module_state *st, PyObject *name, char *buf, const char *what)
{
    return encode(st, name, buf, what, 1);
}
