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

/* Text known to be ASCII (decoded names, addresses) as str, without a decoder. */
static PyObject *ascii_str(const char *s, size_t n)
{
    PyObject *u = PyUnicode_New((Py_ssize_t)n, 127);
    if (u != NULL)
        memcpy(PyUnicode_1BYTE_DATA(u), s, n);
    return u;
}

static int all_ascii(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] & 0x80)
            return 0;
    return 1;
}

/* pycares' maybe_str: str when the octets are ASCII, else bytes. */
static PyObject *maybe_str(dns_bytes b)
{
    if (all_ascii(b.p, b.n))
        return ascii_str((const char *)b.p, b.n);
    return PyBytes_FromStringAndSize((const char *)b.p, (Py_ssize_t)b.n);
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
        return ascii_str(text, (size_t)(o - text));
    }
    if (inet_ntop(family, addr, text, sizeof(text)) == NULL)
        return PyErr_SetFromErrno(PyExc_OSError);
    return ascii_str(text, strlen(text));
}

/* TXT: the character-strings of one record joined; str if ASCII. */
static PyObject *txt_text(dns_bytes region)
{
    dns_bytes chunk, it = region;
    size_t total = 0;
    int ascii = 1;
    while (dns_txt_next(&it, &chunk) == 1) {
        total += chunk.n;
        ascii = ascii && all_ascii(chunk.p, chunk.n);
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

#define NEW(kind)                                  \
    do {                                           \
        res = result_alloc(st, kind);              \
        if (res == NULL)                           \
            return NULL;                           \
    } while (0)
#define SET(i, expr)                               \
    do {                                           \
        if (result_set(res, (i), (expr)) < 0)      \
            goto fail;                             \
    } while (0)

/* The typed result for one record; Py_None (new ref) for a type with no result class. */
static PyObject *typed_result(module_state *st, const dns_rr *rr, const dns_rdata *d)
{
    PyObject *res = NULL;
#define ttl u(rr->ttl)

    switch (rr->type) {
    case DNS_T_A:
    case DNS_T_AAAA:
        NEW(rr->type == DNS_T_A ? RT_A : RT_AAAA);
        SET(0, address_str(rr->type == DNS_T_A ? AF_INET : AF_INET6, d->addr));
        SET(1, ttl);
        break;
    case DNS_T_CNAME:
        NEW(RT_CNAME);
        SET(0, ascii_str(d->name1, d->name1_len));
        SET(1, ttl);
        break;
    case DNS_T_NS:
        NEW(RT_NS);
        SET(0, ascii_str(d->name1, d->name1_len));
        SET(1, ttl);
        break;
    case DNS_T_PTR:
        NEW(RT_PTR);
        SET(0, ascii_str(d->name1, d->name1_len));
        SET(1, ttl);
        SET(2, PyList_New(1));
        Py_INCREF(((ResultObject *)res)->f[0]);
        PyList_SET_ITEM(((ResultObject *)res)->f[2], 0, ((ResultObject *)res)->f[0]);
        break;
    case DNS_T_MX:
        NEW(RT_MX);
        SET(0, ascii_str(d->name1, d->name1_len));
        SET(1, u(d->u16[0]));
        SET(2, ttl);
        break;
    case DNS_T_SRV:
        NEW(RT_SRV);
        SET(0, ascii_str(d->name1, d->name1_len));
        SET(1, u(d->u16[2]));
        SET(2, u(d->u16[0]));
        SET(3, u(d->u16[1]));
        SET(4, ttl);
        break;
    case DNS_T_SOA:
        NEW(RT_SOA);
        SET(0, ascii_str(d->name1, d->name1_len));
        SET(1, ascii_str(d->name2, d->name2_len));
        for (int i = 0; i < 5; i++)
            SET(2 + i, u(d->u32[i]));
        SET(7, ttl);
        break;
    case DNS_T_TXT:
        NEW(RT_TXT);
        SET(0, txt_text(d->rest));
        SET(1, ttl);
        break;
    case DNS_T_NAPTR:
        NEW(RT_NAPTR);
        SET(0, u(d->u16[0]));
        SET(1, u(d->u16[1]));
        SET(2, maybe_str(d->str[0]));
        SET(3, maybe_str(d->str[1]));
        SET(4, maybe_str(d->str[2]));
        SET(5, ascii_str(d->name1, d->name1_len));
        SET(6, ttl);
        break;
    case DNS_T_CAA:
        NEW(RT_CAA);
        SET(0, u(d->u8[0]));
        SET(1, maybe_str(d->str[0]));
        SET(2, maybe_str(d->str[1]));
        SET(3, ttl);
        break;
    case DNS_T_URI:
        NEW(RT_URI);
        SET(0, u(d->u16[0]));
        SET(1, u(d->u16[1]));
        SET(2, maybe_str(d->rest));
        SET(3, ttl);
        break;
    case DNS_T_TLSA:
        NEW(RT_TLSA);
        SET(0, u(d->u8[0]));
        SET(1, u(d->u8[1]));
        SET(2, u(d->u8[2]));
        SET(3, raw_bytes(d->rest));
        SET(4, ttl);
        break;
    case DNS_T_SVCB:
    case DNS_T_HTTPS:
        NEW(rr->type == DNS_T_SVCB ? RT_SVCB : RT_HTTPS);
        SET(0, u(d->u16[0]));
        /* "." (the root) means "the owner name" for SVCB targets: keep the dot visible. */
        SET(1, d->name1_len ? ascii_str(d->name1, d->name1_len) : ascii_str(".", 1));
        SET(2, svcb_params(d->rest, d->count));
        SET(3, ttl);
        break;
    case DNS_T_DS:
        NEW(RT_DS);
        SET(0, u(d->u16[0]));
        SET(1, u(d->u8[0]));
        SET(2, u(d->u8[1]));
        SET(3, raw_bytes(d->rest));
        SET(4, ttl);
        break;
    case DNS_T_DNSKEY:
        NEW(RT_DNSKEY);
        SET(0, u(d->u16[0]));
        SET(1, u(d->u8[0]));
        SET(2, u(d->u8[1]));
        SET(3, raw_bytes(d->rest));
        SET(4, ttl);
        break;
    case DNS_T_SSHFP:
        NEW(RT_SSHFP);
        SET(0, u(d->u8[0]));
        SET(1, u(d->u8[1]));
        SET(2, raw_bytes(d->rest));
        SET(3, ttl);
        break;
    default:
        Py_RETURN_NONE;
    }
    return res;
fail:
    Py_XDECREF(res);
    return NULL;
#undef ttl
}

/* pycares 5's record data for one record (no ttl: DNSRecord has it); Py_None (new ref) for a
 * type it has no class for. */
static PyObject *typed_data5(module_state *st, const dns_rr *rr, const dns_rdata *d)
{
    PyObject *res = NULL;

    switch (rr->type) {
    case DNS_T_A:
    case DNS_T_AAAA:
        NEW(rr->type == DNS_T_A ? RT5_A : RT5_AAAA);
        SET(0, address_str(rr->type == DNS_T_A ? AF_INET : AF_INET6, d->addr));
        break;
    case DNS_T_CNAME:
    case DNS_T_NS:
    case DNS_T_PTR:
        NEW(rr->type == DNS_T_CNAME ? RT5_CNAME : rr->type == DNS_T_NS ? RT5_NS : RT5_PTR);
        SET(0, ascii_str(d->name1, d->name1_len));
        break;
    case DNS_T_MX:
        NEW(RT5_MX);
        SET(0, u(d->u16[0]));
        SET(1, ascii_str(d->name1, d->name1_len));
        break;
    case DNS_T_SRV:
        NEW(RT5_SRV);
        SET(0, u(d->u16[0]));
        SET(1, u(d->u16[1]));
        SET(2, u(d->u16[2]));
        SET(3, ascii_str(d->name1, d->name1_len));
        break;
    case DNS_T_SOA:
        NEW(RT5_SOA);
        SET(0, ascii_str(d->name1, d->name1_len));
        SET(1, ascii_str(d->name2, d->name2_len));
        for (int i = 0; i < 5; i++)
            SET(2 + i, u(d->u32[i]));
        break;
    case DNS_T_TXT:
        NEW(RT5_TXT);
        SET(0, txt_bytes(d->rest));
        break;
    case DNS_T_NAPTR:
        NEW(RT5_NAPTR);
        SET(0, u(d->u16[0]));
        SET(1, u(d->u16[1]));
        SET(2, maybe_str(d->str[0]));
        SET(3, maybe_str(d->str[1]));
        SET(4, maybe_str(d->str[2]));
        SET(5, ascii_str(d->name1, d->name1_len));
        break;
    case DNS_T_CAA:
        NEW(RT5_CAA);
        SET(0, u(d->u8[0]));
        SET(1, maybe_str(d->str[0]));
        SET(2, maybe_str(d->str[1]));
        break;
    case DNS_T_URI:
        NEW(RT5_URI);
        SET(0, u(d->u16[0]));
        SET(1, u(d->u16[1]));
        SET(2, maybe_str(d->rest));
        break;
    case DNS_T_TLSA:
        NEW(RT5_TLSA);
        SET(0, u(d->u8[0]));
        SET(1, u(d->u8[1]));
        SET(2, u(d->u8[2]));
        SET(3, raw_bytes(d->rest));
        break;
    case DNS_T_SVCB:
    case DNS_T_HTTPS:
        NEW(rr->type == DNS_T_SVCB ? RT5_SVCB : RT5_HTTPS);
        SET(0, u(d->u16[0]));
        SET(1, ascii_str(d->name1, d->name1_len)); /* the root as "", as c-ares gives names */
        SET(2, svcb_params(d->rest, d->count));
        break;
    case DNS_T_DS:
        NEW(RT5_DS);
        SET(0, u(d->u16[0]));
        SET(1, u(d->u8[0]));
        SET(2, u(d->u8[1]));
        SET(3, raw_bytes(d->rest));
        break;
    case DNS_T_DNSKEY:
        NEW(RT5_DNSKEY);
        SET(0, u(d->u16[0]));
        SET(1, u(d->u8[0]));
        SET(2, u(d->u8[1]));
        SET(3, raw_bytes(d->rest));
        break;
    case DNS_T_SSHFP:
        NEW(RT5_SSHFP);
        SET(0, u(d->u8[0]));
        SET(1, u(d->u8[1]));
        SET(2, raw_bytes(d->rest));
        break;
    default:
        Py_RETURN_NONE;
    }
    return res;
fail:
    Py_XDECREF(res);
    return NULL;
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
        if ((item = typed_result(st, &rr, &d)) == NULL)
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
        if ((data = typed_data5(st, rr, d)) == NULL || data == Py_None)
            return data;
    } else if (rr->type == DNS_T_OPT || (data = typed_result(st, rr, d)) == Py_None) {
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
    if (result_set(res, 0, ascii_str(rr->name, rr->name_len)) < 0 || result_set(res, 1, u(rr->type)) < 0 ||
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

