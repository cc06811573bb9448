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

/* _core._v5_finish(cls, attrs) (module method). */
PyObject *results_v5_finish(PyObject *module, PyObject *const *args, Py_ssize_t nargs);

/* The same fields under another class (a pycares 4 result as its pycares 5 twin of equal
 * layout); consumes obj. NULL with an exception on failure. */
PyObject *result_retype(module_state *st, PyObject *obj, result_kind to);

#endif
