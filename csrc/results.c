/* The result classes (ares_query_*_result, ares_host_result, ...).
 *
 * One table describes every class: its name, its DNS type label (the class attribute `type`,
 * e.g. 'MX') and its field names. All classes share the slot functions below: fields are
 * stored in a fixed array right after the object header, exposed as members (writable, as
 * pycares 4's __slots__ attributes are), and
 * give a namedtuple-like repr, equality, hashing, pickling and pattern matching. */
#include "results.h"

#include <stddef.h>
#include <string.h>

#if PY_VERSION_HEX >= 0x030C0000
#define MEMBER_OBJECT Py_T_OBJECT_EX
#define MEMBER_SSIZE Py_T_PYSSIZET
#define MEMBER_READONLY Py_READONLY
#else
#include <structmember.h>
#define MEMBER_OBJECT T_OBJECT_EX
#define MEMBER_SSIZE T_PYSSIZET
#define MEMBER_READONLY READONLY
#endif

#define MAX_FIELDS 8

#ifdef Py_TPFLAGS_IMMUTABLETYPE
#define Py_TPFLAGS_IMMUTABLETYPE_OR_ZERO Py_TPFLAGS_IMMUTABLETYPE
#else
#define Py_TPFLAGS_IMMUTABLETYPE_OR_ZERO 0
#endif
#define FIELD_OFFSET(i) ((Py_ssize_t)(offsetof(ResultObject, f) + (i) * sizeof(PyObject *)))

typedef struct {
    const char *name;           /* qualified: Python < 3.11 keeps this pointer as tp_name */
    const char *label;          /* class attribute `type`, or NULL */
    const char *doc;
    PyMemberDef members[MAX_FIELDS + 1];   /* the fields, in constructor order */
} result_spec;

#define QUAL(short_name) "pycares_ng._core." short_name
#define QUAL5(short_name) "pycares_ng.v5." short_name
#define F(i, fname) {fname, MEMBER_OBJECT, FIELD_OFFSET(i), 0, NULL}

static const result_spec SPECS[RT_COUNT] = {
    [RT_A] = {QUAL("ares_query_a_result"), "A", "An A record.", {F(0, "host"), F(1, "ttl")}},
    [RT_AAAA] = {QUAL("ares_query_aaaa_result"), "AAAA", "An AAAA record.", {F(0, "host"), F(1, "ttl")}},
    [RT_CNAME] = {QUAL("ares_query_cname_result"), "CNAME", "A CNAME record.", {F(0, "cname"), F(1, "ttl")}},
    [RT_MX] = {QUAL("ares_query_mx_result"), "MX", "An MX record.", {F(0, "host"), F(1, "priority"), F(2, "ttl")}},
    [RT_NS] = {QUAL("ares_query_ns_result"), "NS", "An NS record.", {F(0, "host"), F(1, "ttl")}},
    [RT_PTR] = {QUAL("ares_query_ptr_result"), "PTR", "PTR records: the first name and the others as aliases.",
                {F(0, "name"), F(1, "ttl"), F(2, "aliases")}},
    [RT_SOA] = {QUAL("ares_query_soa_result"), "SOA", "An SOA record.",
                {F(0, "nsname"), F(1, "hostmaster"), F(2, "serial"), F(3, "refresh"), F(4, "retry"), F(5, "expires"), F(6, "minttl"), F(7, "ttl")}},
    [RT_SRV] = {QUAL("ares_query_srv_result"), "SRV", "An SRV record.", {F(0, "host"), F(1, "port"), F(2, "priority"), F(3, "weight"), F(4, "ttl")}},
    [RT_TXT] = {QUAL("ares_query_txt_result"), "TXT",
                "A TXT record; text is str when ASCII, else bytes (its character-strings joined).",
                {F(0, "text"), F(1, "ttl")}},
    [RT_NAPTR] = {QUAL("ares_query_naptr_result"), "NAPTR", "A NAPTR record.",
                  {F(0, "order"), F(1, "preference"), F(2, "flags"), F(3, "service"), F(4, "regex"), F(5, "replacement"), F(6, "ttl")}},
    [RT_CAA] = {QUAL("ares_query_caa_result"), "CAA", "A CAA record.", {F(0, "critical"), F(1, "property"), F(2, "value"), F(3, "ttl")}},
    [RT_URI] = {QUAL("ares_query_uri_result"), "URI", "A URI record.", {F(0, "priority"), F(1, "weight"), F(2, "target"), F(3, "ttl")}},
    [RT_TLSA] = {QUAL("ares_query_tlsa_result"), "TLSA", "A TLSA record; data is the certificate association data.",
                 {F(0, "usage"), F(1, "selector"), F(2, "matching_type"), F(3, "data"), F(4, "ttl")}},
    [RT_HTTPS] = {QUAL("ares_query_https_result"), "HTTPS", "An HTTPS record; params is a list of (key, bytes).",
                  {F(0, "priority"), F(1, "target"), F(2, "params"), F(3, "ttl")}},
    [RT_SVCB] = {QUAL("ares_query_svcb_result"), "SVCB", "An SVCB record; params is a list of (key, bytes).",
                 {F(0, "priority"), F(1, "target"), F(2, "params"), F(3, "ttl")}},
    [RT_DS] = {QUAL("ares_query_ds_result"), "DS", "A DS record.", {F(0, "key_tag"), F(1, "algorithm"), F(2, "digest_type"), F(3, "digest"), F(4, "ttl")}},
    [RT_DNSKEY] = {QUAL("ares_query_dnskey_result"), "DNSKEY", "A DNSKEY record.",
                   {F(0, "flags"), F(1, "protocol"), F(2, "algorithm"), F(3, "public_key"), F(4, "ttl")}},
    [RT_SSHFP] = {QUAL("ares_query_sshfp_result"), "SSHFP", "An SSHFP record.",
                  {F(0, "algorithm"), F(1, "fp_type"), F(2, "fingerprint"), F(3, "ttl")}},
    [RT_DNS_RECORD] = {QUAL("ares_dns_record"), NULL,
                       "One resource record of a whole DNS message; data is the typed result for known "
                       "types, else the raw RDATA bytes.",
                       {F(0, "name"), F(1, "type"), F(2, "record_class"), F(3, "ttl"), F(4, "data")}},
    [RT_DNS_MESSAGE] = {QUAL("ares_dns_message_result"), NULL, "A whole DNS reply: lists of ares_dns_record.",
                        {F(0, "answer"), F(1, "authority"), F(2, "additional"), F(3, "rcode"), F(4, "flags")}},
    [RT_HOST] = {QUAL("ares_host_result"), NULL, "A host entry.", {F(0, "name"), F(1, "aliases"), F(2, "addresses")}},
    [RT_ADDRINFO] = {QUAL("ares_addrinfo_result"), NULL, "A getaddrinfo result.", {F(0, "cnames"), F(1, "nodes")}},
    [RT_ADDRINFO_NODE] = {QUAL("ares_addrinfo_node_result"), NULL, "One address of a getaddrinfo result.",
                          {F(0, "ttl"), F(1, "flags"), F(2, "family"), F(3, "socktype"), F(4, "protocol"), F(5, "addr")}},
    [RT_ADDRINFO_CNAME] = {QUAL("ares_addrinfo_cname_result"), NULL, "One alias of a getaddrinfo result.",
                           {F(0, "ttl"), F(1, "alias"), F(2, "name")}},
    [RT_NAMEINFO] = {QUAL("ares_nameinfo_result"), NULL, "A getnameinfo result.", {F(0, "node"), F(1, "service")}},
    [RT_TXT_CHUNK] = {QUAL("ares_query_txt_result_chunk"), "TXT",
                      "One character-string of a TXT record (pycares 4's name; TXT queries give "
                      "ares_query_txt_result).", {F(0, "text"), F(1, "ttl")}},
    /* pycares 5's classes (pycares_ng.v5): dataclass-like, so equal by value but unhashable. */
    [RT5_A] = {QUAL5("ARecordData"), NULL, "Data of an A record.", {F(0, "addr")}},
    [RT5_AAAA] = {QUAL5("AAAARecordData"), NULL, "Data of an AAAA record.", {F(0, "addr")}},
    [RT5_CNAME] = {QUAL5("CNAMERecordData"), NULL, "Data of a CNAME record.", {F(0, "cname")}},
    [RT5_MX] = {QUAL5("MXRecordData"), NULL, "Data of an MX record.", {F(0, "priority"), F(1, "exchange")}},
    [RT5_NS] = {QUAL5("NSRecordData"), NULL, "Data of an NS record.", {F(0, "nsdname")}},
    [RT5_PTR] = {QUAL5("PTRRecordData"), NULL, "Data of a PTR record.", {F(0, "dname")}},
    [RT5_SOA] = {QUAL5("SOARecordData"), NULL, "Data of an SOA record.",
                 {F(0, "mname"), F(1, "rname"), F(2, "serial"), F(3, "refresh"), F(4, "retry"), F(5, "expire"), F(6, "minimum")}},
    [RT5_SRV] = {QUAL5("SRVRecordData"), NULL, "Data of an SRV record.",
                 {F(0, "priority"), F(1, "weight"), F(2, "port"), F(3, "target")}},
    [RT5_TXT] = {QUAL5("TXTRecordData"), NULL, "Data of a TXT record: its character-strings joined, as bytes.",
                 {F(0, "data")}},
    [RT5_NAPTR] = {QUAL5("NAPTRRecordData"), NULL, "Data of a NAPTR record.",
                   {F(0, "order"), F(1, "preference"), F(2, "flags"), F(3, "service"), F(4, "regexp"), F(5, "replacement")}},
    [RT5_CAA] = {QUAL5("CAARecordData"), NULL, "Data of a CAA record.", {F(0, "critical"), F(1, "tag"), F(2, "value")}},
    [RT5_URI] = {QUAL5("URIRecordData"), NULL, "Data of a URI record.", {F(0, "priority"), F(1, "weight"), F(2, "target")}},
    [RT5_TLSA] = {QUAL5("TLSARecordData"), NULL, "Data of a TLSA record.",
                  {F(0, "cert_usage"), F(1, "selector"), F(2, "matching_type"), F(3, "cert_association_data")}},
    [RT5_HTTPS] = {QUAL5("HTTPSRecordData"), NULL, "Data of an HTTPS record; params is a list of (key, bytes).",
                   {F(0, "priority"), F(1, "target"), F(2, "params")}},
    [RT5_SVCB] = {QUAL5("SVCBRecordData"), NULL, "Data of an SVCB record; params is a list of (key, bytes).",
                  {F(0, "priority"), F(1, "target"), F(2, "params")}},
    [RT5_DS] = {QUAL5("DSRecordData"), NULL, "Data of a DS record.",
                {F(0, "key_tag"), F(1, "algorithm"), F(2, "digest_type"), F(3, "digest")}},
    [RT5_DNSKEY] = {QUAL5("DNSKEYRecordData"), NULL, "Data of a DNSKEY record.",
                    {F(0, "flags"), F(1, "protocol"), F(2, "algorithm"), F(3, "public_key")}},
    [RT5_SSHFP] = {QUAL5("SSHFPRecordData"), NULL, "Data of an SSHFP record.",
                   {F(0, "algorithm"), F(1, "fp_type"), F(2, "fingerprint")}},
    [RT5_DNS_RECORD] = {QUAL5("DNSRecord"), NULL, "One resource record; data is the typed record data.",
                        {F(0, "name"), F(1, "type"), F(2, "record_class"), F(3, "ttl"), F(4, "data")}},
    [RT5_DNS_RESULT] = {QUAL5("DNSResult"), NULL, "A DNS reply: lists of DNSRecord.",
                        {F(0, "answer"), F(1, "authority"), F(2, "additional")}},
    [RT5_HOST] = {QUAL5("HostResult"), NULL, "Result of gethostbyaddr().", {F(0, "name"), F(1, "aliases"), F(2, "addresses")}},
    [RT5_ADDRINFO] = {QUAL5("AddrInfoResult"), NULL, "Result of getaddrinfo().", {F(0, "cnames"), F(1, "nodes")}},
    [RT5_ADDRINFO_NODE] = {QUAL5("AddrInfoNode"), NULL, "One address of a getaddrinfo() result.",
                           {F(0, "ttl"), F(1, "flags"), F(2, "family"), F(3, "socktype"), F(4, "protocol"), F(5, "addr")}},
    [RT5_ADDRINFO_CNAME] = {QUAL5("AddrInfoCname"), NULL, "One alias of a getaddrinfo() result.",
                            {F(0, "ttl"), F(1, "alias"), F(2, "name")}},
    [RT5_NAMEINFO] = {QUAL5("NameInfoResult"), NULL, "Result of getnameinfo().", {F(0, "node"), F(1, "service")}},
};

static int is_v5(result_kind kind)
{
    return kind >= RT5_A;
}

static const char *type_short_name(PyTypeObject *tp)
{
    const char *dot = strrchr(tp->tp_name, '.');
    return dot ? dot + 1 : tp->tp_name;
}

static Py_ssize_t type_nfields(PyTypeObject *tp);

static Py_ssize_t nfields(PyObject *self)
{
    return type_nfields(Py_TYPE(self));
}

static PyObject *fields_tuple(PyObject *self)
{
    Py_ssize_t n = nfields(self);
    PyObject *t = PyTuple_New(n);
    if (t == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *v = ((ResultObject *)self)->f[i];
        if (v == NULL)
            v = Py_None;
        Py_INCREF(v);
        PyTuple_SET_ITEM(t, i, v);
    }
    return t;
}

/* pycares 5's classes (dataclasses there) also have an instance __dict__ and weak references,
 * after the fields. */
static Py_ssize_t type_nfields(PyTypeObject *tp)
{
    Py_ssize_t size = tp->tp_basicsize - (tp->tp_dictoffset > 0 ? (Py_ssize_t)sizeof(PyObject *) : 0)
                      - (tp->tp_weaklistoffset > 0 ? (Py_ssize_t)sizeof(PyObject *) : 0);
    return (size - (Py_ssize_t)offsetof(ResultObject, f)) / (Py_ssize_t)sizeof(PyObject *);
}

static PyObject **dict_ptr(PyObject *self)
{
    Py_ssize_t offset = Py_TYPE(self)->tp_dictoffset;
    return offset > 0 ? (PyObject **)((char *)self + offset) : NULL;
}

/* The `_fields` tuple of the result's class, checked against the type's own field count: the
 * class attribute can be reassigned, the object layout cannot. */
static PyObject *field_names(PyTypeObject *tp)
{
    PyObject *names = PyObject_GetAttrString((PyObject *)tp, "_fields");
    if (names == NULL)
        return NULL;
    int ok = PyTuple_Check(names) && PyTuple_GET_SIZE(names) == type_nfields(tp);
    for (Py_ssize_t i = 0; ok && i < PyTuple_GET_SIZE(names); i++)
        ok = PyUnicode_Check(PyTuple_GET_ITEM(names, i));
    if (!ok) {
        Py_DECREF(names);
        PyErr_Format(PyExc_TypeError, "%s._fields must be a tuple of its %zd field names", tp->tp_name,
                     type_nfields(tp));
        return NULL;
    }
    return names;
}

static PyObject *result_new(PyTypeObject *tp, PyObject *args, PyObject *kwargs)
{
    PyObject *names = field_names(tp);
    if (names == NULL)
        return NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(names), npos = PyTuple_GET_SIZE(args);
    PyObject *self = NULL;
    if (npos > n) {
        PyErr_Format(PyExc_TypeError, "%s() takes at most %zd arguments (%zd given)", tp->tp_name, n, npos);
        goto done;
    }
    self = tp->tp_alloc(tp, 0);
    if (self == NULL)
        goto done;
    Py_ssize_t used = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *v = NULL;
        if (i < npos) {
            v = PyTuple_GET_ITEM(args, i);
        } else if (kwargs != NULL) {
            v = PyDict_GetItemWithError(kwargs, PyTuple_GET_ITEM(names, i));
            if (v == NULL && PyErr_Occurred())
                goto fail;
            if (v != NULL)
                used++;
        }
        if (v == NULL) {
            PyErr_Format(PyExc_TypeError, "%s() missing argument '%U'", tp->tp_name, PyTuple_GET_ITEM(names, i));
            goto fail;
        }
        if (i < npos && kwargs != NULL && PyDict_GetItemWithError(kwargs, PyTuple_GET_ITEM(names, i)) != NULL) {
            PyErr_Format(PyExc_TypeError, "%s() got multiple values for '%U'", tp->tp_name, PyTuple_GET_ITEM(names, i));
            goto fail;
        }
        Py_INCREF(v);
        ((ResultObject *)self)->f[i] = v;
    }
    if (kwargs != NULL && PyDict_GET_SIZE(kwargs) != used) {
        PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument", tp->tp_name);
        goto fail;
    }
    goto done;
fail:
    Py_CLEAR(self);
done:
    Py_DECREF(names);
    return self;
}

static int result_traverse(PyObject *self, visitproc visit, void *arg)
{
    Py_ssize_t n = nfields(self);
    for (Py_ssize_t i = 0; i < n; i++)
        Py_VISIT(((ResultObject *)self)->f[i]);
    PyObject **dict = dict_ptr(self);
    if (dict != NULL)
        Py_VISIT(*dict);
    Py_VISIT(Py_TYPE(self));
    return 0;
}

static int result_clear(PyObject *self)
{
    Py_ssize_t n = nfields(self);
    for (Py_ssize_t i = 0; i < n; i++)
        Py_CLEAR(((ResultObject *)self)->f[i]);
    PyObject **dict = dict_ptr(self);
    if (dict != NULL)
        Py_CLEAR(*dict);
    return 0;
}

static void result_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    if (tp->tp_weaklistoffset > 0)
        PyObject_ClearWeakRefs(self);
    result_clear(self);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyObject *result_repr(PyObject *self)
{
    PyObject *names = field_names(Py_TYPE(self));
    if (names == NULL)
        return NULL;
    PyObject *parts = PyList_New(0), *res = NULL, *sep = NULL, *joined = NULL;
    if (parts == NULL)
        goto done;
    int rc = Py_ReprEnter(self);
    if (rc != 0) {
        res = rc > 0 ? PyUnicode_FromFormat("%s(...)", type_short_name(Py_TYPE(self))) : NULL;
        goto done;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(names); i++) {
        PyObject *v = ((ResultObject *)self)->f[i];
        PyObject *item = PyUnicode_FromFormat("%U=%R", PyTuple_GET_ITEM(names, i), v ? v : Py_None);
        if (item == NULL || PyList_Append(parts, item) < 0) {
            Py_XDECREF(item);
            Py_ReprLeave(self);
            goto done;
        }
        Py_DECREF(item);
    }
    Py_ReprLeave(self);
    sep = PyUnicode_FromString(", ");
    if (sep == NULL)
        goto done;
    joined = PyUnicode_Join(sep, parts);
    if (joined == NULL)
        goto done;
    res = PyUnicode_FromFormat("%s(%U)", type_short_name(Py_TYPE(self)), joined);
done:
    Py_XDECREF(joined);
    Py_XDECREF(sep);
    Py_XDECREF(parts);
    Py_DECREF(names);
    return res;
}

/* Fields may be set (pycares 4's are plain attributes) but not deleted: every field holds a
 * value, which repr, equality, hashing and pickling rely on. */
static int result_setattro(PyObject *self, PyObject *name, PyObject *value)
{
    if (value == NULL) {
        PyErr_Format(PyExc_AttributeError, "cannot delete field %R of %.100s", name, Py_TYPE(self)->tp_name);
        return -1;
    }
    return PyObject_GenericSetAttr(self, name, value);
}

static PyObject *result_richcompare(PyObject *a, PyObject *b, int op)
{
    if ((op != Py_EQ && op != Py_NE) || Py_TYPE(a) != Py_TYPE(b))
        Py_RETURN_NOTIMPLEMENTED;
    Py_ssize_t n = nfields(a);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *x = ((ResultObject *)a)->f[i], *y = ((ResultObject *)b)->f[i];
        int eq = PyObject_RichCompareBool(x ? x : Py_None, y ? y : Py_None, Py_EQ);
        if (eq < 0)
            return NULL;
        if (!eq)
            return PyBool_FromLong(op == Py_NE);
    }
    return PyBool_FromLong(op == Py_EQ);
}

static Py_hash_t result_hash(PyObject *self)
{
    PyObject *t = fields_tuple(self);
    if (t == NULL)
        return -1;
    Py_hash_t h = PyObject_Hash(t);
    Py_DECREF(t);
    return h;
}

static PyObject *result_reduce(PyObject *self, PyObject *unused)
{
    PyObject *t = fields_tuple(self);
    if (t == NULL)
        return NULL;
    PyObject **dict = dict_ptr(self);
    if (dict != NULL && *dict != NULL && PyDict_GET_SIZE(*dict) > 0) /* attributes beyond the fields */
        return Py_BuildValue("(ONO)", (PyObject *)Py_TYPE(self), t, *dict);
    return Py_BuildValue("(ON)", (PyObject *)Py_TYPE(self), t);
}

static PyGetSetDef dict_getset[] = {
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyObject *result_asdict(PyObject *self, PyObject *unused)
{
    PyObject *names = field_names(Py_TYPE(self));
    if (names == NULL)
        return NULL;
    PyObject *d = PyDict_New();
    for (Py_ssize_t i = 0; d != NULL && i < PyTuple_GET_SIZE(names); i++) {
        PyObject *v = ((ResultObject *)self)->f[i];
        if (PyDict_SetItem(d, PyTuple_GET_ITEM(names, i), v ? v : Py_None) < 0)
            Py_CLEAR(d);
    }
    Py_DECREF(names);
    return d;
}

static PyMethodDef result_methods[] = {
    {"__reduce__", result_reduce, METH_NOARGS, "Pickle support."},
    {"_asdict", result_asdict, METH_NOARGS, "The fields as a dict."},
    {NULL, NULL, 0, NULL},
};

PyObject *result_alloc(module_state *st, result_kind kind)
{
    PyTypeObject *tp = st->result_types[kind];
    return tp->tp_alloc(tp, 0);
}

/* From here on no class attribute can be reassigned (Python >= 3.10). */
static void freeze_type(PyTypeObject *tp)
{
#ifdef Py_TPFLAGS_IMMUTABLETYPE
    tp->tp_flags |= Py_TPFLAGS_IMMUTABLETYPE;
    PyType_Modified(tp);
#else
    (void)tp;
#endif
}

static PyObject *make_type(PyObject *module, PyObject *base, result_kind kind)
{
    const result_spec *spec = &SPECS[kind];
    Py_ssize_t n = 0;
    while (spec->members[n].name != NULL)
        n++;
    /* pycares 5's classes: the fields, then "__dictoffset__" and "__weaklistoffset__" (an
     * instance __dict__ and weak references, as a dataclass instance has); PyType_FromSpec copies
     * the table. */
    PyMemberDef members[MAX_FIELDS + 3];
    memcpy(members, spec->members, (size_t)n * sizeof(PyMemberDef));
    memset(&members[n], 0, 3 * sizeof(PyMemberDef));
    if (is_v5(kind)) {
        members[n].name = "__dictoffset__";
        members[n].type = MEMBER_SSIZE;
        members[n].offset = FIELD_OFFSET(n);
        members[n].flags = MEMBER_READONLY;
        members[n + 1].name = "__weaklistoffset__";
        members[n + 1].type = MEMBER_SSIZE;
        members[n + 1].offset = FIELD_OFFSET(n + 1);
        members[n + 1].flags = MEMBER_READONLY;
    }
    PyType_Slot slots[] = {
        {Py_tp_new, result_new},
        {Py_tp_setattro, result_setattro},
        {Py_tp_dealloc, result_dealloc},
        {Py_tp_traverse, result_traverse},
        {Py_tp_clear, result_clear},
        {Py_tp_repr, result_repr},
        {Py_tp_richcompare, result_richcompare},
        {Py_tp_hash, is_v5(kind) ? (void *)PyObject_HashNotImplemented : (void *)result_hash},
        {Py_tp_methods, result_methods},
        {Py_tp_members, (void *)members},
        {Py_tp_doc, (void *)spec->doc},
        {Py_tp_base, base},   /* a slot: Python 3.9 takes only a tuple as the bases argument */
        {is_v5(kind) ? Py_tp_getset : 0, is_v5(kind) ? (void *)dict_getset : NULL},
        {0, NULL},
    };
    PyType_Spec tspec = {
        .name = spec->name,
        .basicsize = (int)FIELD_OFFSET(is_v5(kind) ? n + 2 : n),
        .itemsize = 0,
        .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
        .slots = slots,
    };
    PyObject *tp = PyType_FromModuleAndSpec(module, &tspec, NULL);
    if (tp == NULL)
        return NULL;
    PyObject *names = PyTuple_New(n);
    if (names == NULL)
        goto fail;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *s = PyUnicode_InternFromString(spec->members[i].name);
        if (s == NULL) {
            Py_DECREF(names);
            goto fail;
        }
        PyTuple_SET_ITEM(names, i, s);
    }
    int rc = PyObject_SetAttrString(tp, "_fields", names);
    if (rc == 0)
        rc = PyObject_SetAttrString(tp, "__match_args__", names);
    Py_DECREF(names);
    if (rc < 0)
        goto fail;
    if (spec->label != NULL) {
        PyObject *label = PyUnicode_InternFromString(spec->label);
        if (label == NULL)
            goto fail;
        rc = PyObject_SetAttrString(tp, "type", label);
        Py_DECREF(label);
        if (rc < 0)
            goto fail;
    }
    /* pycares 5's classes are frozen by _v5_finish(), once pycares_ng.v5 gave them their
     * dataclass metadata. */
    if (!is_v5(kind))
        freeze_type((PyTypeObject *)tp);
    return tp;
fail:
    Py_DECREF(tp);
    return NULL;
}

/* AresResult: what isinstance(r, pycares.AresResult) checks, as in pycares 4. No fields. */
static PyType_Slot base_slots[] = {
    {Py_tp_doc, (void *)"The base class of every pycares_ng result class."},
    {0, NULL},
};

static PyType_Spec base_spec = {
    .name = "pycares_ng._core.AresResult",
    .basicsize = (int)offsetof(ResultObject, f),
    .itemsize = 0,
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .slots = base_slots,
};

int results_setup_types(PyObject *module, module_state *st)
{
    PyObject *base = PyType_FromModuleAndSpec(module, &base_spec, NULL);
    if (base == NULL)
        return -1;
    st->AresResult = (PyTypeObject *)base;
    if (module_add_ref(module, "AresResult", base) < 0)
        return -1;
    if ((st->v5_types = PyDict_New()) == NULL)
        return -1;
    for (int k = 0; k < RT_COUNT; k++) {
        PyObject *tp = make_type(module, is_v5((result_kind)k) ? (PyObject *)&PyBaseObject_Type : base, (result_kind)k);
        if (tp == NULL)
            return -1;
        st->result_types[k] = (PyTypeObject *)tp;
        const char *name = type_short_name((PyTypeObject *)tp);
        if (is_v5((result_kind)k) ? PyDict_SetItemString(st->v5_types, name, tp) < 0 : module_add_ref(module, name, tp) < 0)
            return -1;
    }
    return module_add_ref(module, "_v5_types", st->v5_types);
}

/* _v5_finish(cls, attrs): sets the class attributes pycares_ng.v5 computed for one of pycares 5's
 * classes (its dataclass metadata) and freezes the class. Once per class. */
PyObject *results_v5_finish(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    module_state *st = get_module_state(module);
    if (nargs != 2 || !PyType_Check(args[0]) || !PyDict_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "_v5_finish(cls, attrs: dict)");
        return NULL;
    }
    PyTypeObject *tp = (PyTypeObject *)args[0];
    int known = 0;
    for (int k = RT5_A; k < RT_COUNT; k++)
        known = known || st->result_types[k] == tp;
    if (!known || PyType_HasFeature(tp, Py_TPFLAGS_IMMUTABLETYPE_OR_ZERO)) {
        PyErr_Format(PyExc_TypeError, "%s is not an unfinished pycares_ng.v5 class", tp->tp_name);
        return NULL;
    }
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    while (PyDict_Next(args[1], &pos, &key, &value))
        if (PyObject_SetAttr((PyObject *)tp, key, value) < 0)
            return NULL;
    freeze_type(tp);
    Py_RETURN_NONE;
}

PyObject *result_retype(module_state *st, PyObject *obj, result_kind to)
{
    Py_ssize_t n = nfields(obj);
    if (type_nfields(st->result_types[to]) != n) {
        Py_DECREF(obj);
        PyErr_SetString(PyExc_SystemError, "result_retype: layouts differ");
        return NULL;
    }
    PyObject *res = result_alloc(st, to);
    if (res != NULL)
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *v = ((ResultObject *)obj)->f[i];
            Py_XINCREF(v);
            ((ResultObject *)res)->f[i] = v;
        }
    Py_DECREF(obj);
    return res;
}
