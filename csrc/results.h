/* Result objects: light C types whose instances hold a fixed array of read-only fields. */
#ifndef PYCARES_NG_RESULTS_H
#define PYCARES_NG_RESULTS_H

#include "module.h"

typedef struct {
    PyObject_HEAD
    PyObject *f[1];   /* really tp_basicsize says how many */
} ResultObject;

/* A new, empty result of the given kind; fill every field with result_set before exposing it. */
PyObject *result_alloc(module_state *st, result_kind kind);

/* Steals `value`; on NULL value drops the result and returns -1 (the caller returns NULL). */
static inline int result_set(PyObject *res, int i, PyObject *value)
{
    ((ResultObject *)res)->f[i] = value;
    return value ? 0 : -1;
}

#endif
