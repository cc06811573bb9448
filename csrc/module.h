/* Module state and accessors shared by every C file of pycares_ng._core. */
#ifndef PYCARES_NG_MODULE_H
#define PYCARES_NG_MODULE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "cares.h"

/* Every result class; the table in results.c has one entry per value, in this order. */
typedef enum {
    RT_A, RT_AAAA, RT_CNAME, RT_MX, RT_NS, RT_PTR, RT_SOA, RT_SRV, RT_TXT, RT_NAPTR, RT_CAA,
    RT_URI, RT_TLSA, RT_HTTPS, RT_SVCB, RT_DS, RT_DNSKEY, RT_SSHFP,
    RT_DNS_RECORD, RT_DNS_MESSAGE,
    RT_HOST, RT_ADDRINFO, RT_ADDRINFO_NODE, RT_ADDRINFO_CNAME, RT_NAMEINFO,
    RT_TXT_CHUNK,   /* pycares 4's public name for one TXT character-string; never built here */
    /* The pycares 5 face (pycares_ng.v5): record data without ttl, the whole-message result and
     * the host results under pycares 5's class names. */
    RT5_A, RT5_AAAA, RT5_CNAME, RT5_MX, RT5_NS, RT5_PTR, RT5_SOA, RT5_SRV, RT5_TXT, RT5_NAPTR, RT5_CAA,
    RT5_URI, RT5_TLSA, RT5_HTTPS, RT5_SVCB, RT5_DS, RT5_DNSKEY, RT5_SSHFP,
    RT5_DNS_RECORD, RT5_DNS_RESULT,
    RT5_HOST, RT5_ADDRINFO, RT5_ADDRINFO_NODE, RT5_ADDRINFO_CNAME, RT5_NAMEINFO,
    RT_COUNT
} result_kind;

struct chan_core;

typedef struct {
    PyObject *AresError;
    PyTypeObject *ChannelType;
    PyTypeObject *AresResult;           /* the base class of every result class */
    PyTypeObject *result_types[RT_COUNT];
    PyObject *v5_types;       /* name -> class of the RT5_* kinds (pycares_ng.v5 exports them) */
    PyObject *idna_encoder;   /* pycares_ng.utils._encode_idna, imported on first non-ASCII name */
    PyObject *af_inet, *af_inet6; /* socket.AF_INET / AF_INET6 (AddressFamily), on first use */
    struct chan_core *channels;  /* every open channel: fork hooks and exit walk it (GIL) */
} module_state;

extern PyModuleDef pycares_ng_module;

static inline module_state *get_module_state(PyObject *module)
{
    return (module_state *)PyModule_GetState(module);
}

/* The module that defined `type` (or a base of it); NULL with an exception if none. */
PyObject *module_from_type(PyTypeObject *type);

/* PyModule_AddObjectRef for every supported Python (3.9 lacks it). */
static inline int module_add_ref(PyObject *module, const char *name, PyObject *value)
{
    Py_INCREF(value);
    if (PyModule_AddObject(module, name, value) < 0) {
        Py_DECREF(value);
        return -1;
    }
    return 0;
}

/* Raise AresError(errno, ares_strerror(errno)). Always returns NULL. */
PyObject *raise_ares_error(module_state *st, int status);

/* Setup hooks called from the module's exec slot; 0 on success, -1 with an exception. */
int results_setup_types(PyObject *module, module_state *st);
int channel_setup_types(PyObject *module, module_state *st);

#endif
