/* What every layer needs of the module: which module a type belongs to, and AresError
 * (module.h). The module itself is defined in module.c, the top of the file graph. */
#include "module.h"

PyObject *module_from_type(PyTypeObject *type)
{
#if PY_VERSION_HEX >= 0x030B0000
    return PyType_GetModuleByDef(type, &pycares_ng_module);
#else
    /* Walk the MRO for the heap type this module defined (subclasses of Channel). */
    PyObject *mro = type->tp_mro;
    for (Py_ssize_t i = 0; mro != NULL && i < PyTuple_GET_SIZE(mro); i++) {
        PyTypeObject *t = (PyTypeObject *)PyTuple_GET_ITEM(mro, i);
        if (!(t->tp_flags & Py_TPFLAGS_HEAPTYPE))
            continue;
        PyObject *m = PyType_GetModule(t);
        if (m != NULL && PyModule_GetDef(m) == &pycares_ng_module)
            return m;
        PyErr_Clear();
    }
    PyErr_Format(PyExc_TypeError, "%s is not a pycares_ng type", type->tp_name);
    return NULL;
#endif
}

PyObject *raise_ares_error(module_state *st, int status)
{
    PyObject *v = Py_BuildValue("(is)", status, ares_strerror(status));
    if (v != NULL) {
        PyErr_SetObject(st->AresError, v);
        Py_DECREF(v);
    }
    return NULL;
}
