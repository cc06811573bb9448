/* pycares_ng._core: module definition, state, constants and module-level functions. */
#include "module.h"

#include <errno.h>
#include <limits.h>

#include <dlfcn.h>

#include "answer.h"
#include "channel.h"
#include "dns_parse.h"
#include "names.h"
#include "results.h"

#define MIN_CARES_VERSION 0x011200 /* 1.18.0 */

/* ---- module functions ----------------------------------------------------------------------- */

static PyObject *mod_strerror(PyObject *module, PyObject *arg)
{
    long code = PyLong_AsLong(arg);
    if (code == -1 && PyErr_Occurred())
        return NULL;
    if (code < INT_MIN || code > INT_MAX) /* as pycares 4: never a message for a truncated code */
        return PyErr_Format(PyExc_OverflowError, "error code %ld out of range", code);
    /* Codes newer than the loaded libcares (1.18 says "unknown"): c-ares 1.34's messages. */
    if (code == ARES_ESERVICE)
        return PyUnicode_FromString("Invalid service name or number");
    if (code == 26) /* ARES_ENOSERVER, c-ares >= 1.32 */
        return PyUnicode_FromString("No DNS servers were configured");
    return PyUnicode_FromString(ares_strerror((int)code));
}

/* What the loaded libcares says about thread safety; ares_threadsafety() only exists from
 * 1.23, so look it up in the library actually loaded instead of compiling a call to it. */
static PyObject *mod_libcares_threadsafety(PyObject *module, PyObject *unused)
{
    Dl_info info;
    int safe = 0;
    if (dladdr((void *)ares_version, &info) != 0 && info.dli_fname != NULL) {
        void *lib = dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
        if (lib != NULL) {
            int (*fn)(void);
            *(void **)&fn = dlsym(lib, "ares_threadsafety");
            if (fn != NULL)
                safe = fn() ? 1 : 0;
            dlclose(lib);
        }
    }
    return PyBool_FromLong(safe);
}

/* What programs ask ares_threadsafety() (aiodns: "may I use event_thread=True?"): with pycares_ng
 * always yes, whatever libcares says. */
static PyObject *mod_threadsafety(PyObject *module, PyObject *unused)
{
    Py_RETURN_TRUE;
}

static int buffer_arg(PyObject *arg, Py_buffer *view)
{
    return PyObject_GetBuffer(arg, view, PyBUF_SIMPLE);
}

static PyObject *mod_parse_answer(PyObject *module, PyObject *args)
{
    Py_buffer view;
    int qtype, status = ARES_SUCCESS;
    if (!PyArg_ParseTuple(args, "y*i:_parse_answer", &view, &qtype))
        return NULL;
    if (!answer_type_supported(qtype)) {
        PyBuffer_Release(&view);
        return PyErr_Format(PyExc_ValueError, "unknown query type: %d", qtype);
    }
    PyObject *res = answer_build(get_module_state(module), qtype, view.buf, (size_t)view.len, &status);
    PyBuffer_Release(&view);
    if (res == NULL && !PyErr_Occurred())
        raise_ares_error(get_module_state(module), status);
    return res;
}

static PyObject *parse_message(PyObject *module, PyObject *arg, int face)
{
    Py_buffer view;
    int status = ARES_SUCCESS;
    if (buffer_arg(arg, &view) < 0)
        return NULL;
    PyObject *res = answer_build_message(get_module_state(module), view.buf, (size_t)view.len, &status, face);
    PyBuffer_Release(&view);
    if (res == NULL && !PyErr_Occurred())
        raise_ares_error(get_module_state(module), status);
    return res;
}

static PyObject *mod_parse_message(PyObject *module, PyObject *arg)
{
    return parse_message(module, arg, 4);
}

static PyObject *mod_parse_message5(PyObject *module, PyObject *arg)
{
    return parse_message(module, arg, 6);
}

static PyObject *mod_walk_message(PyObject *module, PyObject *arg)
{
    Py_buffer view;
    if (buffer_arg(arg, &view) < 0)
        return NULL;
    int rc = dns_walk_message(view.buf, (size_t)view.len);
    PyBuffer_Release(&view);
    return PyLong_FromLong(rc);
}

static PyObject *mod_encode_name(PyObject *module, PyObject *arg)
{
    char buf[NAME_BUF_SIZE];
    Py_ssize_t n = name_encode(get_module_state(module), arg, buf, "name");
    if (n < 0)
        return NULL;
    return PyBytes_FromStringAndSize(buf, n);
}

static PyObject *mod_shutdown(PyObject *module, PyObject *unused)
{
    module_state *st = get_module_state(module);
    channels_after_fork_child(st); /* a forked child whose hook did not run yet: threads first */
    channel_shutdown_threads(st);
    Py_RETURN_NONE;
}

static PyObject *mod_after_fork_child(PyObject *module, PyObject *unused)
{
    channels_after_fork_child(get_module_state(module));
    Py_RETURN_NONE;
}

static PyMethodDef module_methods[] = {
    {"_after_fork_child", mod_after_fork_child, METH_NOARGS,
     "_after_fork_child()\n--\n\nos.register_at_fork(after_in_child=...) hook: channels start fresh."},
    {"_shutdown", mod_shutdown, METH_NOARGS,
     "_shutdown()\n--\n\nClose every channel that runs an I/O thread (registered with atexit)."},
    {"strerror", mod_strerror, METH_O, "strerror(code)\n--\n\nThe c-ares message for an ARES_E* code."},
    {"ares_threadsafety", mod_threadsafety, METH_NOARGS,
     "ares_threadsafety()\n--\n\nTrue: every Channel method is thread-safe and event_thread=True works, "
     "on every supported c-ares (pycares_ng's own lock and I/O thread)."},
    {"_libcares_threadsafety", mod_libcares_threadsafety, METH_NOARGS,
     "_libcares_threadsafety()\n--\n\nWhether the loaded libcares itself was built thread-safe."},
    {"_parse_answer", mod_parse_answer, METH_VARARGS,
     "_parse_answer(reply, query_type)\n--\n\nParse a raw reply as query() would (for tests and tools)."},
    {"_parse_message", mod_parse_message, METH_O,
     "_parse_message(reply)\n--\n\nParse a raw reply as query_dns() would (for tests and tools)."},
    {"_parse_message5", mod_parse_message5, METH_O,
     "_parse_message5(reply)\n--\n\nParse a raw reply as pycares_ng.v5's query() for an SVCB/DS/DNSKEY/SSHFP "
     "question would: every record type (for tests and tools)."},
    {"_v5_finish", (PyCFunction)(void (*)(void))results_v5_finish, METH_FASTCALL,
     "_v5_finish(cls, attrs)\n--\n\nGive one of pycares 5's classes its class attributes, then freeze it."},
    {"_walk_message", mod_walk_message, METH_O,
     "_walk_message(reply)\n--\n\nRun the bare C parser over a reply: records seen, or < 0 if malformed."},
    {"_encode_name", mod_encode_name, METH_O,
     "_encode_name(name)\n--\n\nThe checked ASCII form of a name, as queries send it."},
    {NULL, NULL, 0, NULL},
};

/* ---- constants ------------------------------------------------------------------------------ */

typedef struct {
    const char *name;
    long value;
} int_constant;

#define C(x) {#x, x}
static const int_constant CONSTANTS[] = {
    C(ARES_SUCCESS), C(ARES_ENODATA), C(ARES_EFORMERR), C(ARES_ESERVFAIL), C(ARES_ENOTFOUND), C(ARES_ENOTIMP),
    C(ARES_EREFUSED), C(ARES_EBADQUERY), C(ARES_EBADNAME), C(ARES_EBADFAMILY), C(ARES_EBADRESP),
    C(ARES_ECONNREFUSED), C(ARES_ETIMEOUT), C(ARES_EOF), C(ARES_EFILE), C(ARES_ENOMEM), C(ARES_EDESTRUCTION),
    C(ARES_EBADSTR), C(ARES_EBADFLAGS), C(ARES_ENONAME), C(ARES_EBADHINTS), C(ARES_ENOTINITIALIZED),
    C(ARES_ELOADIPHLPAPI), C(ARES_EADDRGETNETWORKPARAMS), C(ARES_ECANCELLED), C(ARES_ESERVICE),
    /* c-ares >= 1.22 reports it (an enum there, so no #ifdef can find it). */
    {"ARES_ENOSERVER", 26},
    C(ARES_FLAG_USEVC), C(ARES_FLAG_PRIMARY), C(ARES_FLAG_IGNTC), C(ARES_FLAG_NORECURSE), C(ARES_FLAG_STAYOPEN),
    C(ARES_FLAG_NOSEARCH), C(ARES_FLAG_NOALIASES), C(ARES_FLAG_NOCHECKRESP), C(ARES_FLAG_EDNS),
    C(ARES_FLAG_NO_DFLT_SVR),
    C(ARES_NI_NOFQDN), C(ARES_NI_NUMERICHOST), C(ARES_NI_NAMEREQD), C(ARES_NI_NUMERICSERV), C(ARES_NI_DGRAM),
    C(ARES_NI_TCP), C(ARES_NI_UDP), C(ARES_NI_SCTP), C(ARES_NI_DCCP), C(ARES_NI_NUMERICSCOPE),
    C(ARES_NI_LOOKUPHOST), C(ARES_NI_LOOKUPSERVICE), C(ARES_NI_IDN), C(ARES_NI_IDN_ALLOW_UNASSIGNED),
    C(ARES_NI_IDN_USE_STD3_ASCII_RULES),
    C(ARES_AI_CANONNAME), C(ARES_AI_NUMERICHOST), C(ARES_AI_PASSIVE), C(ARES_AI_NUMERICSERV), C(ARES_AI_V4MAPPED),
    C(ARES_AI_ALL), C(ARES_AI_ADDRCONFIG), C(ARES_AI_NOSORT), C(ARES_AI_ENVHOSTS), C(ARES_AI_IDN),
    C(ARES_AI_IDN_ALLOW_UNASSIGNED), C(ARES_AI_IDN_USE_STD3_ASCII_RULES), C(ARES_AI_CANONIDN),
    C(ARES_SOCKET_BAD),
    {"QUERY_TYPE_A", DNS_T_A}, {"QUERY_TYPE_AAAA", DNS_T_AAAA}, {"QUERY_TYPE_ANY", DNS_T_ANY},
    {"QUERY_TYPE_CAA", DNS_T_CAA}, {"QUERY_TYPE_CNAME", DNS_T_CNAME}, {"QUERY_TYPE_MX", DNS_T_MX},
    {"QUERY_TYPE_NAPTR", DNS_T_NAPTR}, {"QUERY_TYPE_NS", DNS_T_NS}, {"QUERY_TYPE_PTR", DNS_T_PTR},
    {"QUERY_TYPE_SOA", DNS_T_SOA}, {"QUERY_TYPE_SRV", DNS_T_SRV}, {"QUERY_TYPE_TXT", DNS_T_TXT},
    {"QUERY_TYPE_URI", DNS_T_URI}, {"QUERY_TYPE_TLSA", DNS_T_TLSA}, {"QUERY_TYPE_HTTPS", DNS_T_HTTPS},
    {"QUERY_TYPE_SVCB", DNS_T_SVCB}, {"QUERY_TYPE_DS", DNS_T_DS}, {"QUERY_TYPE_DNSKEY", DNS_T_DNSKEY},
    {"QUERY_TYPE_SSHFP", DNS_T_SSHFP},
    {"QUERY_CLASS_IN", 1}, {"QUERY_CLASS_CHAOS", 3}, {"QUERY_CLASS_HS", 4}, {"QUERY_CLASS_NONE", 254},
    {"QUERY_CLASS_ANY", 255},
    {NULL, 0},
};
#undef C

/* ---- init ----------------------------------------------------------------------------------- */

static int module_exec(PyObject *module)
{
    module_state *st = get_module_state(module);
    int runtime_version = 0;
    const char *version = ares_version(&runtime_version);

    if (runtime_version < MIN_CARES_VERSION) {
        PyErr_Format(PyExc_ImportError, "pycares_ng needs c-ares 1.18 or newer at run time, but loaded %s", version);
        return -1;
    }
    int rc = fork_handlers_install();
    if (rc != 0) {
        errno = rc;
        PyErr_SetFromErrno(PyExc_ImportError);
        return -1;
    }
    rc = ares_library_init(ARES_LIB_INIT_ALL);
    if (rc != ARES_SUCCESS) {
        PyErr_Format(PyExc_ImportError, "ares_library_init failed: %s", ares_strerror(rc));
        return -1;
    }
    st->AresError = PyErr_NewExceptionWithDoc(
        "pycares_ng.AresError", "A c-ares error; args are (errno, message).", PyExc_Exception, NULL);
    if (st->AresError == NULL || module_add_ref(module, "AresError", st->AresError) < 0)
        return -1;
    for (const int_constant *c = CONSTANTS; c->name != NULL; c++)
        if (PyModule_AddIntConstant(module, c->name, c->value) < 0)
            return -1;
    if (PyModule_AddStringConstant(module, "ARES_VERSION", version) < 0 ||
        PyModule_AddStringConstant(module, "ARES_BUILD_VERSION", PYCARES_NG_BUILT_CARES) < 0)
        return -1;
    if (results_setup_types(module, st) < 0 || channel_setup_types(module, st) < 0)
        return -1;
    return 0;
}

static int module_traverse(PyObject *module, visitproc visit, void *arg)
{
    module_state *st = get_module_state(module);
    if (st == NULL)
        return 0;
    Py_VISIT(st->AresError);
    Py_VISIT(st->ChannelType);
    Py_VISIT(st->AresResult);
    for (int i = 0; i < RT_COUNT; i++)
        Py_VISIT(st->result_types[i]);
    Py_VISIT(st->idna_encoder);
    Py_VISIT(st->af_inet);
    Py_VISIT(st->af_inet6);
    Py_VISIT(st->v5_types);
    return 0;
}

static int module_clear(PyObject *module)
{
    module_state *st = get_module_state(module);
    if (st == NULL)
        return 0;
    Py_CLEAR(st->AresError);
    Py_CLEAR(st->ChannelType);
    Py_CLEAR(st->AresResult);
    Py_CLEAR(st->v5_types);
    for (int i = 0; i < RT_COUNT; i++)
        Py_CLEAR(st->result_types[i]);
    Py_CLEAR(st->idna_encoder);
    Py_CLEAR(st->af_inet);
    Py_CLEAR(st->af_inet6);
    return 0;
}

static void module_free(void *module)
{
    module_clear((PyObject *)module);
    ares_library_cleanup();
}

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, module_exec},
#if PY_VERSION_HEX >= 0x030C0000
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
#if PY_VERSION_HEX >= 0x030D0000
    {Py_mod_gil, Py_MOD_GIL_USED},
#endif
    {0, NULL},
};

PyModuleDef pycares_ng_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "pycares_ng._core",
    .m_doc = "The C core of pycares_ng: Channel over libcares and the result types.",
    .m_size = sizeof(module_state),
    .m_methods = module_methods,
    .m_slots = module_slots,
    .m_traverse = module_traverse,
    .m_clear = module_clear,
    .m_free = module_free,
};

PyMODINIT_FUNC PyInit__core(void)
{
    return PyModuleDef_Init(&pycares_ng_module);
}
