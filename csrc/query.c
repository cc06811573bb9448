/* DNS queries as requests (see query.h).
 *
 * A query request keeps the reply, copied in the libcares callback (lock held, maybe without
 * the GIL): the raw reply on the legacy path (ares_query/ares_search), or a compact copy of
 * c-ares' parsed record on the dnsrec path (dnsrec.c). The Python result is built from it at
 * delivery by answer.c, in the shape the request's ops ask for. */
#include "query.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "args.h"
#include "dns_parse.h"
#include "dnsrec.h"
#include "names.h"

typedef struct {
    request base;
    unsigned char *abuf;    /* the reply: raw, or a compact copy (reply_form) */
    int alen, reply_form;
    int qtype;
    int whole;              /* the whole message is wanted, not only the answer section */
    int nodata_ok;          /* NOERROR without answers is a result (the whole-message API) */
} query_request;

static void query_free(request *r)
{
    free(((query_request *)r)->abuf);
}

static PyObject *no_reply(int *status)
{
    *status = ARES_EBADRESP; /* success without a reply: nothing to build from */
    return NULL;
}

/* query()/search(): the records of the answer section, pycares 4's result classes. */
static PyObject *records_build(request *r, module_state *st, int face, int *status)
{
    query_request *q = (query_request *)r;
    (void)face;
    if (q->abuf == NULL)
        return no_reply(status);
    if (q->reply_form == REPLY_COMPACT) {
        rr_source src;
        dnsrec_source_init(&src, q->abuf, (size_t)q->alen);
        return answer_build_from(st, q->qtype, &src, status);
    }
    return answer_build(st, q->qtype, q->abuf, (size_t)q->alen, status);
}

static PyObject *message_in_face(query_request *q, module_state *st, int face, int *status)
{
    if (q->abuf == NULL)
        return no_reply(status);
    if (q->reply_form == REPLY_COMPACT) {
        rr_source src;
        dnsrec_source_init(&src, q->abuf, (size_t)q->alen);
        return answer_build_message_from(st, &src, status, face);
    }
    return answer_build_message(st, q->abuf, (size_t)q->alen, status, face);
}

/* query_dns()/search_dns(): the whole message. */
static PyObject *message_build(request *r, module_state *st, int face, int *status)
{
    (void)face;
    return message_in_face((query_request *)r, st, 4, status);
}

/* pycares 5's query()/search(): DNSResult of pycares 5's record classes, or of pycares_ng's
 * further ones when the question was for one of its further types (face 6). */
static PyObject *message5_build(request *r, module_state *st, int face, int *status)
{
    query_request *q = (query_request *)r;
    int t = q->qtype;
    (void)face;
    face = t == DNS_T_SVCB || t == DNS_T_DS || t == DNS_T_DNSKEY || t == DNS_T_SSHFP ? 6 : 5;
    return message_in_face(q, st, face, status);
}

static const request_ops records_ops = {records_build, query_free};
static const request_ops message_ops = {message_build, query_free};
static const request_ops message5_ops = {message5_build, query_free};

/* The status a finished query reports: c-ares', with NODATA a result where wanted. */
static int query_status(query_request *q, int status, int have_reply)
{
    if (status == ARES_ENODATA && q->nodata_ok && have_reply)
        status = ARES_SUCCESS;
    return reply_status(q->base.core, status);
}

/* libcares callback of the legacy path: record only (lock held, GIL maybe not). */
static void on_query_done(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
    query_request *q = arg;
    (void)timeouts;
    status = query_status(q, status, abuf != NULL && alen > 0);
    q->base.status = status;
    if (status == ARES_SUCCESS && abuf != NULL && alen > 0) {
        q->abuf = malloc((size_t)alen);
        if (q->abuf == NULL) {
            q->base.status = ARES_ENOMEM;
        } else {
            memcpy(q->abuf, abuf, (size_t)alen);
            q->alen = alen;
        }
    }
    request_finished(&q->base);
}

#if PYCARES_NG_HAVE_DNSREC
/* libcares callback of the dnsrec path: record only (lock held, GIL maybe not). */
static void on_dnsrec_done(void *arg, ares_status_t astatus, size_t timeouts, const ares_dns_record_t *rec)
{
    query_request *q = arg;
    (void)timeouts;
    int status = query_status(q, (int)astatus, rec != NULL);
    q->base.status = status;
    if (status == ARES_SUCCESS && rec != NULL) {
        int rc = dnsrec_compact_copy(rec, q->whole, &q->abuf, &q->alen);
        if (rc != ARES_SUCCESS)
            q->base.status = rc;
        else
            q->reply_form = REPLY_COMPACT;
    }
    request_finished(&q->base);
}

/* ares_search_dnsrec takes a query message: the one ares_search would make (RD unless
 * NORECURSE; an OPT record with the channel's EDNS size when EDNS is on). The channel's flags
 * are read once per generation. */
static void search_dnsrec(ares_channel ch, query_request *q, const char *name, int qclass, int qtype)
{
    generation *g = q->base.gen;
    if (!g->query_flags_known) {
        struct ares_options o;
        int mask = 0;
        memset(&o, 0, sizeof(o));
        /* libcares' defaults without ARES_OPT_FLAGS: recursion desired, EDNS with 1232 octets */
        int flags = ARES_FLAG_EDNS;
        g->query_edns = 1232;
        if (ares_save_options(ch, &o, &mask) == ARES_SUCCESS) {
            if (mask & ARES_OPT_FLAGS)
                flags = o.flags;
            if ((mask & ARES_OPT_EDNSPSZ) && o.ednspsz > 0 && o.ednspsz <= 65535)
                g->query_edns = o.ednspsz;
            ares_destroy_options(&o);
        }
        g->query_rd = !(flags & ARES_FLAG_NORECURSE);
        if (!(flags & ARES_FLAG_EDNS))
            g->query_edns = 0;
        g->query_flags_known = 1;
    }
    ares_dns_record_t *m = NULL;
    ares_dns_rr_t *opt = NULL;
    ares_status_t rc = ares_dns_record_create(&m, 0, g->query_rd ? ARES_FLAG_RD : 0, ARES_OPCODE_QUERY,
                                              ARES_RCODE_NOERROR);
    if (rc == ARES_SUCCESS)
        rc = ares_dns_record_query_add(m, name, (ares_dns_rec_type_t)qtype, (ares_dns_class_t)qclass);
    if (rc == ARES_SUCCESS && g->query_edns > 0) {
        rc = ares_dns_record_rr_add(&opt, m, ARES_SECTION_ADDITIONAL, "", ARES_REC_TYPE_OPT, ARES_CLASS_IN, 0);
        if (rc == ARES_SUCCESS)
            rc = ares_dns_rr_set_u16(opt, ARES_RR_OPT_UDP_SIZE, (unsigned short)g->query_edns);
        if (rc == ARES_SUCCESS)
            rc = ares_dns_rr_set_u8(opt, ARES_RR_OPT_VERSION, 0);
        if (rc == ARES_SUCCESS)
            rc = ares_dns_rr_set_u16(opt, ARES_RR_OPT_FLAGS, 0);
    }
    if (rc == ARES_SUCCESS)
        ares_search_dnsrec(ch, m, on_dnsrec_done, q); /* calls back on every failure */
    else
        on_dnsrec_done(q, rc, 0, NULL);
    ares_dns_record_destroy(m);
}

#endif

static int valid_class(long k)
{
    return k == 1 || k == 3 || k == 4 || k == 254 || k == 255;
}

typedef struct {
    const char *name;
    int qclass, qtype, search;
} query_args;

static void issue_query(ares_channel ch, request *r, void *arg)
{
    query_args *a = arg;
    query_request *q = (query_request *)r;
#if PYCARES_NG_HAVE_DNSREC
    if (r->core->dnsrec) {
        if (a->search)
            search_dnsrec(ch, q, a->name, a->qclass, a->qtype);
        else /* every failure is reported through the callback too */
            (void)ares_query_dnsrec(ch, a->name, (ares_dns_class_t)a->qclass, (ares_dns_rec_type_t)a->qtype,
                                    on_dnsrec_done, q, NULL);
        return;
    }
#endif
    if (a->search)
        compat_search(ch, a->name, a->qclass, a->qtype, on_query_done, q);
    else
        compat_query(ch, a->name, a->qclass, a->qtype, on_query_done, q);
}

static PyObject *submit_query(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
                              const char *fname, int search, const request_ops *ops)
{
    static const char *const names[] = {"name", "query_type", "callback", "query_class", NULL};
    chan_core *c = CORE(self);
    PyObject *a[4];
    char buf[NAME_BUF_SIZE];
    long qtype, qclass = 1;

    /* pycares 4's order: the callback, the type, the class, the closed channel, the name */
    if (parse_args(fname, args, nargs, kwnames, names, 3, a) < 0)
        return NULL;
    if (!PyCallable_Check(a[2])) {
        PyErr_SetString(PyExc_TypeError, "callback must be callable");
        return NULL;
    }
    /* Anything but a known type is a ValueError, as in pycares 4 (a string such as "A" too). */
    if (!PyLong_Check(a[1]) || PyBool_Check(a[1])) {
        PyErr_Format(PyExc_ValueError, "invalid query type: %R", a[1]);
        return NULL;
    }
    if (int_option(a[1], "query_type", LONG_MIN, LONG_MAX, &qtype) != 1) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_TypeError, "query_type must be an int");
        return NULL;
    }
    if (ops == &message_ops && c->face == 5)
        ops = &message5_ops; /* pycares 5 has no query_dns: its own query() shape */
    if (ops != &message_ops ? !answer_type_supported(qtype) : (qtype < 1 || qtype > 65535)) {
        PyErr_Format(PyExc_ValueError, "invalid query type: %ld", qtype);
        return NULL;
    }
    if (a[3] != NULL && a[3] != Py_None) {
        /* Anything but a known class is a ValueError, as in pycares 4 (a string too). */
        if (!PyLong_Check(a[3]) || PyBool_Check(a[3])) {
            PyErr_Format(PyExc_ValueError, "invalid query class: %R", a[3]);
            return NULL;
        }
        if (int_option(a[3], "query_class", LONG_MIN, LONG_MAX, &qclass) < 0)
            return NULL;
        if (!valid_class(qclass)) {
            PyErr_Format(PyExc_ValueError, "invalid query class: %ld", qclass);
            return NULL;
        }
    }
    if (check_open(c) < 0)
        return NULL;
    Py_ssize_t n = name_encode_request(c->st, a[0], buf, "name");
    if (n == NAME_REPORT)
        return request_submit_status(c, a[2], ARES_EBADNAME) < 0 ? NULL : (Py_INCREF(Py_None), Py_None);
    if (n < 0)
        return NULL;

    query_request *q = (query_request *)request_new(c, a[2], ops, sizeof(query_request));
    if (q == NULL)
        return NULL;
    q->qtype = (int)qtype;
    q->whole = ops != &records_ops;
    q->nodata_ok = ops == &message_ops;
    q->base.may_block = search && may_read_hostaliases(c, buf);
    query_args args_ = {buf, (int)qclass, (int)qtype, search};
    if (request_submit(c, &q->base, issue_query, &args_) < 0)
        return NULL;
    Py_RETURN_NONE;
}

PyObject *Channel_query(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    return submit_query(self, args, nargs, kwnames, "query", 0, &records_ops);
}

PyObject *Channel_search(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    return submit_query(self, args, nargs, kwnames, "search", 1, &records_ops);
}

PyObject *Channel_query_dns(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    return submit_query(self, args, nargs, kwnames, "query_dns", 0, &message_ops);
}

PyObject *Channel_search_dns(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    return submit_query(self, args, nargs, kwnames, "search_dns", 1, &message_ops);
}

/* pycares 5's query()/search() on any channel: DNSResult, NODATA an error (for aiodns-4-style
 * resolvers over a pycares-4-face channel). */
PyObject *Channel_query_dns5(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    return submit_query(self, args, nargs, kwnames, "_query_dns5", 0, &message5_ops);
}

PyObject *Channel_search_dns5(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    return submit_query(self, args, nargs, kwnames, "_search_dns5", 1, &message5_ops);
}

