/* Results from raw replies: every bound was checked by dns_parse.c; this file only turns
 * the decoded values into Python objects, without running any Python code per field. */
#include "answer.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "dns_parse.h"
#include "results.h"

int answer_type_supported(long t)
{
    switch (t) {
    case DNS_T_A: case DNS_T_NS: case DNS_T_CNAME: case DNS_T_SOA: case DNS_T_PTR: case DNS_T_MX:
    case DNS_T_TXT: case DNS_T_AAAA: case DNS_T_SRV: case DNS_T_NAPTR: case DNS_T_DS: case DNS_T_SSHFP:
    case DNS_T_DNSKEY: case DNS_T_TLSA: case DNS_T_SVCB: case DNS_T_HTTPS: case DNS_T_ANY:
    case DNS_T_URI: case DNS_T_CAA:
        return 1;
    default:
        return 0;
    }
}

static PyObject *maybe_str(dns_bytes b)
{
    return result_text((const char *)b.p, b.n);
}

static PyObject *raw_bytes(dns_bytes b)
{
    return PyBytes_FromStringAndSize((const char *)b.p, (Py_ssize_t)b.n);
}

static PyObject *u(unsigned long v)
{
    return PyLong_FromUnsignedLong(v);
}

static PyObject *address_str(int family, const uint8_t *addr)
{
    char text[INET6_ADDRSTRLEN];
    if (family == AF_INET) { /* dotted decimal, as inet_ntop writes it, at a tenth of its cost */
        char *o = text;
        for (int i = 0; i < 4; i++) {
            unsigned v = addr[i];
            if (i)
                *o++ = '.';
            if (v >= 100)
                *o++ = (char)('0' + v / 100);
            if (v >= 10)
                *o++ = (char)('0' + (v / 10) % 10);
            *o++ = (char)('0' + v % 10);
        }
        return result_ascii(text, (size_t)(o - text));
    }
    if (inet_ntop(family, addr, text, sizeof(text)) == NULL)
        return PyErr_SetFromErrno(PyExc_OSError);
    return result_ascii(text, strlen(text));
}

/* TXT: the character-strings of one record joined; str if ASCII. */
static PyObject *txt_text(dns_bytes region)
{
    dns_bytes chunk, it = region;
    size_t total = 0;
    int ascii = 1;
    while (dns_txt_next(&it, &chunk) == 1) {
        total += chunk.n;
        ascii = ascii && result_all_ascii(chunk.p, chunk.n);
    }
    PyObject *out = ascii ? PyUnicode_New((Py_ssize_t)total, 127) : PyBytes_FromStringAndSize(NULL, (Py_ssize_t)total);
    if (out == NULL)
        return NULL;
    char *dst = ascii ? (char *)PyUnicode_1BYTE_DATA(out) : PyBytes_AS_STRING(out);
    it = region;
    while (dns_txt_next(&it, &chunk) == 1) {
        memcpy(dst, chunk.p, chunk.n);
        dst += chunk.n;
    }
    return out;
}

/* TXT for pycares 5: the character-strings of one record joined, always bytes. */
static PyObject *txt_bytes(dns_bytes region)
{
    dns_bytes chunk, it = region;
    size_t total = 0;
    while (dns_txt_next(&it, &chunk) == 1)
        total += chunk.n;
    PyObject *out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)total);
    if (out == NULL)
        return NULL;
    char *dst = PyBytes_AS_STRING(out);
    it = region;
    while (dns_txt_next(&it, &chunk) == 1) {
        memcpy(dst, chunk.p, chunk.n);
        dst += chunk.n;
    }
    return out;
}

static PyObject *svcb_params(dns_bytes region, unsigned count)
{
    PyObject *list = PyList_New((Py_ssize_t)count);
    uint16_t key;
    dns_bytes value;
    for (Py_ssize_t i = 0; list != NULL && dns_svcb_next(&region, &key, &value) == 1 && i < (Py_ssize_t)count; i++) {
        PyObject *item = Py_BuildValue("(Hy#)", key, (const char *)value.p, (Py_ssize_t)value.n);
        if (item == NULL) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, i, item);
    }
    return list;
}

/* How each known record type becomes a result, for each face: the class and, field by field,
 * what goes in it. One table, one builder (typed()), so both faces read the same decoded values. */
enum {
    F_END, F_ADDR, F_NAME1, F_TARGET4, F_NAME2, F_U8_0, F_U8_1, F_U8_2, F_U16_0, F_U16_1, F_U16_2,
    F_U32_0, F_U32_1, F_U32_2, F_U32_3, F_U32_4, F_STR0, F_STR1, F_STR2, F_REST_STR, F_REST_BYTES,
    F_TXT_TEXT, F_TXT_BYTES, F_SVCB_PARAMS, F_TTL, F_SELF_LIST,
};

typedef struct {
    uint16_t type;
    result_kind v4, v5;
    unsigned char f4[9], f5[8];   /* F_END-terminated */
} type_fields;

#define SOA_TAIL F_U32_0, F_U32_1, F_U32_2, F_U32_3, F_U32_4
static const type_fields TYPES[] = {
    {DNS_T_A, RT_A, RT5_A, {F_ADDR, F_TTL}, {F_ADDR}},
    {DNS_T_AAAA, RT_AAAA, RT5_AAAA, {F_ADDR, F_TTL}, {F_ADDR}},
    {DNS_T_CNAME, RT_CNAME, RT5_CNAME, {F_NAME1, F_TTL}, {F_NAME1}},
    {DNS_T_NS, RT_NS, RT5_NS, {F_NAME1, F_TTL}, {F_NAME1}},
    /* pycares 4: aliases lists the record's own target (more are merged in by ptr_merge) */
    {DNS_T_PTR, RT_PTR, RT5_PTR, {F_NAME1, F_TTL, F_SELF_LIST}, {F_NAME1}},
    {DNS_T_MX, RT_MX, RT5_MX, {F_NAME1, F_U16_0, F_TTL}, {F_U16_0, F_NAME1}},
    {DNS_T_SRV, RT_SRV, RT5_SRV, {F_NAME1, F_U16_2, F_U16_0, F_U16_1, F_TTL}, {F_U16_0, F_U16_1, F_U16_2, F_NAME1}},
    {DNS_T_SOA, RT_SOA, RT5_SOA, {F_NAME1, F_NAME2, SOA_TAIL, F_TTL}, {F_NAME1, F_NAME2, SOA_TAIL}},
    {DNS_T_TXT, RT_TXT, RT5_TXT, {F_TXT_TEXT, F_TTL}, {F_TXT_BYTES}},
    {DNS_T_NAPTR, RT_NAPTR, RT5_NAPTR, {F_U16_0, F_U16_1, F_STR0, F_STR1, F_STR2, F_NAME1, F_TTL},
     {F_U16_0, F_U16_1, F_STR0, F_STR1, F_STR2, F_NAME1}},
    {DNS_T_CAA, RT_CAA, RT5_CAA, {F_U8_0, F_STR0, F_STR1, F_TTL}, {F_U8_0, F_STR0, F_STR1}},
    {DNS_T_URI, RT_URI, RT5_URI, {F_U16_0, F_U16_1, F_REST_STR, F_TTL}, {F_U16_0, F_U16_1, F_REST_STR}},
    {DNS_T_TLSA, RT_TLSA, RT5_TLSA, {F_U8_0, F_U8_1, F_U8_2, F_REST_BYTES, F_TTL},
     {F_U8_0, F_U8_1, F_U8_2, F_REST_BYTES}},
    /* SVCB targets: pycares_ng's own face keeps the root visible as "."; pycares 5 says "" */
    {DNS_T_SVCB, RT_SVCB, RT5_SVCB, {F_U16_0, F_TARGET4, F_SVCB_PARAMS, F_TTL}, {F_U16_0, F_NAME1, F_SVCB_PARAMS}},
    {DNS_T_HTTPS, RT_HTTPS, RT5_HTTPS, {F_U16_0, F_TARGET4, F_SVCB_PARAMS, F_TTL}, {F_U16_0, F_NAME1, F_SVCB_PARAMS}},
    {DNS_T_DS, RT_DS, RT5_DS, {F_U16_0, F_U8_0, F_U8_1, F_REST_BYTES, F_TTL}, {F_U16_0, F_U8_0, F_U8_1, F_REST_BYTES}},
    {DNS_T_DNSKEY, RT_DNSKEY, RT5_DNSKEY, {F_U16_0, F_U8_0, F_U8_1, F_REST_BYTES, F_TTL},
     {F_U16_0, F_U8_0, F_U8_1, F_REST_BYTES}},
    {DNS_T_SSHFP, RT_SSHFP, RT5_SSHFP, {F_U8_0, F_U8_1, F_REST_BYTES, F_TTL}, {F_U8_0, F_U8_1, F_REST_BYTES}},
};
#undef SOA_TAIL

/* One field's value (new reference), or NULL with an exception. res holds the fields before it. */
static PyObject *field_value(unsigned char code, const dns_rr *rr, const dns_rdata *d, PyObject *res)
{
    switch (code) {
    case F_ADDR: return address_str(rr->type == DNS_T_A ? AF_INET : AF_INET6, d->addr);
    case F_NAME1: return result_ascii(d->name1, d->name1_len);
    case F_TARGET4: return d->name1_len ? result_ascii(d->name1, d->name1_len) : result_ascii(".", 1);
    case F_NAME2: return result_ascii(d->name2, d->name2_len);
    case F_U8_0: case F_U8_1: case F_U8_2: return u(d->u8[code - F_U8_0]);
    case F_U16_0: case F_U16_1: case F_U16_2: return u(d->u16[code - F_U16_0]);
    case F_U32_0: case F_U32_1: case F_U32_2: case F_U32_3: case F_U32_4: return u(d->u32[code - F_U32_0]);
    case F_STR0: case F_STR1: case F_STR2: return maybe_str(d->str[code - F_STR0]);
    case F_REST_STR: return maybe_str(d->rest);
    case F_REST_BYTES: return raw_bytes(d->rest);
    case F_TXT_TEXT: return txt_text(d->rest);
    case F_TXT_BYTES: return txt_bytes(d->rest);
    case F_SVCB_PARAMS: return svcb_params(d->rest, d->count);
    case F_TTL: return u(rr->ttl);
    case F_SELF_LIST: return Py_BuildValue("[O]", ((ResultObject *)res)->f[0]);
    default:
        PyErr_SetString(PyExc_SystemError, "answer.c: unknown field code");
        return NULL;
    }
}

/* The typed result of one record for a face: pycares 4's result class (face 4, with ttl) or
 * pycares 5's record data (face 5/6, no ttl: DNSRecord has it). Py_None (new ref) for a type
 * with no class. */
static PyObject *typed(module_state *st, const dns_rr *rr, const dns_rdata *d, int face)
{
    const type_fields *t = NULL;
    for (size_t i = 0; i < sizeof(TYPES) / sizeof(TYPES[0]) && t == NULL; i++)
        if (TYPES[i].type == rr->type)
            t = &TYPES[i];
    if (t == NULL)
        Py_RETURN_NONE;
    const unsigned char *f = face >= 5 ? t->f5 : t->f4;
    PyObject *res = result_alloc(st, face >= 5 ? t->v5 : t->v4);
    for (int i = 0; res != NULL && f[i] != F_END; i++)
        if (result_set(res, i, field_value(f[i], rr, d, res)) < 0)
            Py_CLEAR(res);
    return res;
}

/* Appends a PTR record to the single PTR result, as c-ares does: name is the last target,
 * aliases lists every target, ttl is the lowest. Consumes item, even on failure. */
static int ptr_merge(PyObject **acc, PyObject *item)
{
    ResultObject *a, *it = (ResultObject *)item;
    if (*acc == NULL) {
        *acc = item; /* its aliases already list its own target */
        return 0;
    }
    a = (ResultObject *)*acc;
    if (PyList_Append(a->f[2], it->f[0]) < 0) {
        Py_DECREF(item);
        return -1;
    }
    Py_INCREF(it->f[0]);
    Py_SETREF(a->f[0], it->f[0]);
    int lower = PyObject_RichCompareBool(it->f[1], a->f[1], Py_LT);
    if (lower < 0) {
        Py_DECREF(item);
        return -1;
    }
    if (lower) {
        Py_INCREF(it->f[1]);
        Py_SETREF(a->f[1], it->f[1]);
    }
    Py_DECREF(item);
    return 0;
}

PyObject *answer_build_from(module_state *st, int qtype, rr_source *src, int *status)
{
    dns_rr rr;
    dns_rdata d;
    int rc, single = qtype == DNS_T_CNAME || qtype == DNS_T_SOA || qtype == DNS_T_PTR;
    PyObject *out = NULL, *item, *any_ptr = NULL; /* ANY: its one PTR result, held by out */
    int other_class = 0; /* records of the type but another class: an empty answer, not ENODATA */

    if (!single && (out = PyList_New(0)) == NULL)
        return NULL;
    while ((rc = src->next(src, &rr)) == 1) {
        if (rr.section != DNS_SECTION_ANSWER)
            break;
        /* Every answer record must be well formed, not only those of the asked type. */
        if (src->decode(src, &rr, &d) < 0) {
            rc = DNS_EBADRESP;
            break;
        }
        /* CNAME/SOA keep the first match; the rest of the answer is still checked above. */
        if ((qtype != DNS_T_ANY && rr.type != qtype) || (single && qtype != DNS_T_PTR && out != NULL))
            continue;
        /* pycares 4's parsers (c-ares') take Internet-class records only; TXT and CAA also CHAOS */
        if (rr.rclass != 1 && !(rr.rclass == 3 && (rr.type == DNS_T_TXT || rr.type == DNS_T_CAA))) {
            other_class = 1;
            continue;
        }
        if ((item = typed(st, &rr, &d, 4)) == NULL)
            goto error;
        if (item == Py_None) {
            Py_DECREF(item);
            continue;
        }
        if (qtype == DNS_T_PTR) {
            if (ptr_merge(&out, item) < 0)
                goto error;
        } else if (single) {
            out = item;
        } else if (rr.type == DNS_T_PTR && any_ptr != NULL) {
            /* ANY: PTR records make one result, as for a PTR query (pycares 4's parser) */
            if (ptr_merge(&any_ptr, item) < 0)
                goto error;
        } else {
            int err = PyList_Append(out, item);
            Py_DECREF(item);
            if (err < 0)
                goto error;
            if (rr.type == DNS_T_PTR)
                any_ptr = item;
        }
    }
    if (rc < 0) {
        *status = ARES_EBADRESP;
        Py_CLEAR(out);
    } else if (out == NULL || (!single && PyList_GET_SIZE(out) == 0 && !other_class)) {
        *status = ARES_ENODATA;
        Py_CLEAR(out);
    }
    return out;
error:
    Py_XDECREF(out);
    return NULL;
}

/* One record as ares_dns_record (face 4) or DNSRecord (face 5). pycares 5 leaves out the records
 * it has no data class for (OPT among them): then Py_None (new ref). */
static PyObject *dns_record(module_state *st, rr_source *src, const dns_rr *rr, dns_rdata *d, int *status,
                            int face)
{
    PyObject *data, *res;
    if (src->decode(src, rr, d) < 0) {
        *status = ARES_EBADRESP;
        return NULL;
    }
    if (face >= 5) {
        if (rr->type == DNS_T_OPT || (face == 5 && (rr->type == DNS_T_SVCB || rr->type == DNS_T_DS ||
                                                    rr->type == DNS_T_DNSKEY || rr->type == DNS_T_SSHFP)))
            Py_RETURN_NONE;
        if ((data = typed(st, rr, d, 5)) == NULL || data == Py_None)
            return data;
    } else if (rr->type == DNS_T_OPT || (data = typed(st, rr, d, 4)) == Py_None) {
        if (rr->type != DNS_T_OPT)
            Py_DECREF(data);
        data = raw_bytes(src->rdata(src, rr));
    }
    if (data == NULL)
        return NULL;
    res = result_alloc(st, face >= 5 ? RT5_DNS_RECORD : RT_DNS_RECORD);
    if (res == NULL) {
        Py_DECREF(data);
        return NULL;
    }
    if (result_set(res, 0, result_ascii(rr->name, rr->name_len)) < 0 || result_set(res, 1, u(rr->type)) < 0 ||
        result_set(res, 2, u(rr->rclass)) < 0 || result_set(res, 3, u(rr->ttl)) < 0) {
        Py_DECREF(data);
        Py_DECREF(res);
        return NULL;
    }
    result_set(res, 4, data);
    return res;
}

PyObject *answer_build_message_from(module_state *st, rr_source *src, int *status, int face)
{
    dns_rr rr;
    dns_rdata d;
    PyObject *sections[3] = {NULL, NULL, NULL}, *res = NULL;
    int rc;

    for (int i = 0; i < 3; i++)
        if ((sections[i] = PyList_New(0)) == NULL)
            goto done;
    while ((rc = src->next(src, &rr)) == 1) {
        PyObject *rec = dns_record(st, src, &rr, &d, status, face);
        if (rec == NULL)
            goto done;
        if (rec == Py_None) {
            Py_DECREF(rec);
            continue;
        }
        int err = PyList_Append(sections[rr.section], rec);
        Py_DECREF(rec);
        if (err < 0)
            goto done;
    }
    if (rc < 0) {
        *status = ARES_EBADRESP;
        goto done;
    }
    if ((res = result_alloc(st, face >= 5 ? RT5_DNS_RESULT : RT_DNS_MESSAGE)) == NULL)
        goto done;
    for (int i = 0; i < 3; i++) {
        result_set(res, i, sections[i]);
        sections[i] = NULL;
    }
    if (face < 5 && (result_set(res, 3, u(src->flags & 0x0F)) < 0 || result_set(res, 4, u(src->flags)) < 0))
        Py_CLEAR(res);
done:
    for (int i = 0; i < 3; i++)
        Py_XDECREF(sections[i]);
    return res;
}
/* ---- record sources --------------------------------------------------------------------- */

static int raw_next(rr_source *s, dns_rr *rr)
{
    return dns_reader_next(&s->reader, rr);
}

static int raw_decode(rr_source *s, const dns_rr *rr, dns_rdata *d)
{
    return dns_rdata_decode(s->reader.msg, s->reader.len, rr, d);
}

static dns_bytes raw_rdata(rr_source *s, const dns_rr *rr)
{
    dns_bytes b = {s->reader.msg + rr->rdata, rr->rdlen};
    return b;
}

/* A source over a raw reply; DNS_EBADRESP if its header or question is malformed. */
static int raw_source_init(rr_source *s, const uint8_t *msg, size_t len)
{
    s->next = raw_next;
    s->decode = raw_decode;
    s->rdata = raw_rdata;
    if (dns_reader_init(&s->reader, msg, len) < 0)
        return DNS_EBADRESP;
    s->flags = s->reader.flags;
    return DNS_OK;
}

PyObject *answer_build(module_state *st, int qtype, const uint8_t *msg, size_t len, int *status)
{
    rr_source s;
    if (raw_source_init(&s, msg, len) < 0) {
        *status = ARES_EBADRESP;
        return NULL;
    }
    return answer_build_from(st, qtype, &s, status);
}

PyObject *answer_build_message(module_state *st, const uint8_t *msg, size_t len, int *status, int face)
{
    rr_source s;
    if (raw_source_init(&s, msg, len) < 0) {
        *status = ARES_EBADRESP;
        return NULL;
    }
    return answer_build_message_from(st, &s, status, face);
}

