/* Result objects: light C types whose instances hold a fixed array of read-only fields. */
#ifndef PYCARES_NG_RESULTS_H
#define PYCARES_NG_RESULTS_H

#include <string.h>

#include "module.h"

typedef struct {
    PyObject_HEAD
    PyObject *f[];    /* tp_basicsize says how many */
} ResultObject;

/* A new, empty result of the given kind; fill every field with result_set before exposing it. */
PyObject *result_alloc(module_state *st, result_kind kind);

/* Steals `value`; on NULL value drops the result and returns -1 (the caller returns NULL). */
static inline int result_set(PyObject *res, int i, PyObject *value)
{
    ((ResultObject *)res)->f[i] = value;
    return value ? 0 : -1;
}

/* Text known to be ASCII (decoded names, addresses) as str, without a decoder. */
static inline PyObject *result_ascii(const char *s, size_t n)
{
    PyObject *u = PyUnicode_New((Py_ssize_t)n, 127);
    if (u != NULL)
        memcpy(PyUnicode_1BYTE_DATA(u), s, n);
    return u;
}

static inline int result_all_ascii(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] & 0x80)
            return 0;
    return 1;
}

/* pycares' maybe_str: str when the octets are ASCII, else bytes (names in hosts files and DNS
 * replies may hold any octets). */
static inline PyObject *result_text(const char *p, size_t n)
{
    if (result_all_ascii((const unsigned char *)p, n))
        return result_ascii(p, n);
    return PyBytes_FromStringAndSize(p, (Py_ssize_t)n);
}

/* _core._v5_finish(cls, attrs) (module method). */
PyObject *results_v5_finish(PyObject *module, PyObject *const *args, Py_ssize_t nargs);

/* The same fields under another class (a pycares 4 result as its pycares 5 twin of equal
 * layout); consumes obj. NULL with an exception on failure. */
PyObject *result_retype(module_state *st, PyObject *obj, result_kind to);

#endif
