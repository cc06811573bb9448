/* The dnsrec path (c-ares >= 1.28); see dnsrec.h.
 *
 * How a reply travels. The ares_dns_record_t handed to the callback lives only during the
 * callback, which runs with the channel lock held and, on the event thread, without the GIL.
 * Building Python objects there would mean taking the GIL under the channel lock, and object
 * allocation can run the garbage collector and with it user finalizers that call back into the
 * channel (invariant 3). So the callback copies what the builders need into one malloc'd buffer
 * (request.abuf, reply_form = REPLY_COMPACT), with no Python at all; delivery builds the results
 * from it through the same builders as raw replies (answer.c, an rr_source). The copy is one
 * allocation, a few dozen bytes per record: far cheaper than c-ares writing the reply out again
 * (ares_dns_write) and pycares_ng parsing it back.
 *
 * The compact form, one record after another, in host byte order (read with memcpy):
 *   u8 section, u8 form, u16 type, u16 class, u32 ttl, u16 name length, name octets;
 *   form RAW:    u32 length, RDATA octets (wire form, as the raw parser decodes it);
 *   form FIELDS: packed_fields, then six blobs (u32 length, octets): name1 name2 str0 str1
 *                str2 rest, i.e. the dns_rdata the raw parser would have produced.
 * preceded by a u16: the header's flags word as on the wire.
 * Names are in pycares_ng's presentation form (dns_parse.c), which differs from c-ares' only
 * in that a space is escaped (\032). What is copied is what c-ares' own ares_dns_write would
 * have written, so on 1.34 both paths give identical results (tests/test_dnsrec.py). */
#include "dnsrec.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { FORM_RAW = 0, FORM_FIELDS = 1 };

typedef struct {
    uint16_t u16[3];
    uint32_t u32[5];
    uint8_t u8[3];
    uint8_t addr[16];
    uint32_t count;
} packed_fields;

/* ---- reading the compact form (delivery, GIL held) ---------------------------------------- */

static int take(rr_source *s, void *out, size_t n)
{
    if (s->pos > s->len || s->len - s->pos < n)
        return DNS_EBADRESP;
    memcpy(out, s->buf + s->pos, n);
    s->pos += n;
    return DNS_OK;
}

static int take_blob(rr_source *s, dns_bytes *b)
{
    uint32_t n;
    if (take(s, &n, sizeof(n)) < 0 || s->len - s->pos < n)
        return DNS_EBADRESP;
    b->p = s->buf + s->pos;
    b->n = n;
    s->pos += n;
    return DNS_OK;
}

static int compact_next(rr_source *s, dns_rr *rr)
{
    uint8_t section, form;
    uint16_t name_len;
    if (s->pos == s->len)
        return 0;
    if (take(s, &section, 1) < 0 || take(s, &form, 1) < 0 || take(s, &rr->type, 2) < 0 ||
        take(s, &rr->rclass, 2) < 0 || take(s, &rr->ttl, 4) < 0 || take(s, &name_len, 2) < 0 ||
        name_len >= sizeof(rr->name) || take(s, rr->name, name_len) < 0 || section > DNS_SECTION_ADDITIONAL)
        return DNS_EBADRESP;
    rr->name[name_len] = '\0';
    rr->name_len = name_len;
    rr->section = section;
    s->form = form;
    if (form == FORM_RAW) {
        dns_bytes b;
        if (take_blob(s, &b) < 0 || b.n > 0xFFFF)
            return DNS_EBADRESP;
        rr->rdata = (size_t)(b.p - s->buf);
        rr->rdlen = (uint16_t)b.n;
        return 1;
    }
    if (form != FORM_FIELDS)
        return DNS_EBADRESP;
    s->fields = s->pos;
    rr->rdata = 0;
    rr->rdlen = 0;
    /* skip to the next record: the fixed part and the six blobs */
    dns_bytes skip;
    s->pos += sizeof(packed_fields);
    for (int i = 0; i < 6; i++)
        if (take_blob(s, &skip) < 0)
            return DNS_EBADRESP;
    return 1;
}

static int copy_name(dns_bytes b, char *out, size_t *out_len)
{
    if (b.n >= DNS_NAME_TEXT_MAX)
        return DNS_EBADRESP;
    memcpy(out, b.p, b.n);
    out[b.n] = '\0';
    *out_len = b.n;
    return DNS_OK;
}

static int compact_decode(rr_source *s, const dns_rr *rr, dns_rdata *d)
{
    if (s->form == FORM_RAW)
        return dns_rdata_decode(s->buf, s->len, rr, d);
    size_t keep = s->pos;
    packed_fields f;
    dns_bytes name1, name2;
    s->pos = s->fields;
    int rc = take(s, &f, sizeof(f));
    if (rc == DNS_OK)
        rc = take_blob(s, &name1) | take_blob(s, &name2) | take_blob(s, &d->str[0]) | take_blob(s, &d->str[1]) |
             take_blob(s, &d->str[2]) | take_blob(s, &d->rest);
    s->pos = keep;
    if (rc != DNS_OK || copy_name(name1, d->name1, &d->name1_len) < 0 || copy_name(name2, d->name2, &d->name2_len) < 0)
        return DNS_EBADRESP;
    d->type = rr->type;
    memcpy(d->u16, f.u16, sizeof(d->u16));
    memcpy(d->u32, f.u32, sizeof(d->u32));
    memcpy(d->u8, f.u8, sizeof(d->u8));
    memcpy(d->addr, f.addr, sizeof(d->addr));
    d->count = f.count;
    return DNS_OK;
}

static dns_bytes compact_rdata(rr_source *s, const dns_rr *rr)
{
    dns_bytes b = {s->buf + rr->rdata, rr->rdlen}; /* FORM_RAW records only: types without a typed result */
    if (s->form != FORM_RAW)
        b.n = 0;
    return b;
}

void dnsrec_source_init(rr_source *s, const uint8_t *buf, size_t len)
{
    s->next = compact_next;
    s->decode = compact_decode;
    s->rdata = compact_rdata;
    s->buf = buf;
    s->len = len;
    s->pos = 0;
    s->flags = 0;
    s->form = FORM_RAW;
    s->fields = 0;
    if (len >= 2) {
        memcpy(&s->flags, buf, 2);
        s->pos = 2;
    } else {
        s->pos = len; /* no records; the builders report what an empty reply means */
    }
}

#if PYCARES_NG_HAVE_DNSREC

/* ---- writing the compact form (libcares callback: lock held, maybe no GIL, no Python) ------ */

typedef struct {
    uint8_t *p;
    size_t n, cap;
    int failed;      /* ARES_ENOMEM or ARES_EBADRESP once something could not be copied */
} wbuf;

static uint8_t *w_room(wbuf *b, size_t n)
{
    if (b->failed)
        return NULL;
    if (b->cap - b->n < n) {
        size_t cap = b->cap ? b->cap : 512;
        while (cap - b->n < n)
            cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (p == NULL) {
            b->failed = ARES_ENOMEM;
            return NULL;
        }
        b->p = p;
        b->cap = cap;
    }
    uint8_t *at = b->p + b->n;
    b->n += n;
    return at;
}

static void w_put(wbuf *b, const void *src, size_t n)
{
    uint8_t *at = w_room(b, n);
    if (at != NULL && n > 0)
        memcpy(at, src, n);
}

static void w_u8(wbuf *b, uint8_t v) { w_put(b, &v, 1); }
static void w_u16(wbuf *b, uint16_t v) { w_put(b, &v, 2); }
static void w_u32(wbuf *b, uint32_t v) { w_put(b, &v, 4); }

static void w_be16(wbuf *b, unsigned v)
{
    uint8_t o[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    w_put(b, o, 2);
}

static void w_be32(wbuf *b, unsigned long v)
{
    uint8_t o[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    w_put(b, o, 4);
}

static void w_blob(wbuf *b, const void *p, size_t n)
{
    if (n > 0xFFFFFFFFu) {
        b->failed = ARES_EBADRESP;
        return;
    }
    w_u32(b, (uint32_t)n);
    w_put(b, p, n);
}

/* A c-ares name in pycares_ng's presentation form: c-ares leaves a space as is, dns_parse.c
 * escapes it (\032); every other escape is the same. prefix: a u16 (owner names) or a u32
 * (blobs) length first. */
/* Octets of a presentation-form name on the wire (labels, their lengths, the root), or 0 if a
 * label is over 63 octets. *n: its length; *spaces: its unescaped spaces. */
static size_t wire_length(const char *name, size_t *n, size_t *spaces)
{
    size_t i = 0, wire = 1, label = 0;
    *spaces = 0;
    while (name[i] != '\0') {
        char ch = name[i++];
        if (ch == '.') {
            if (label == 0 || label > 63)
                return 0;
            wire += label + 1;
            label = 0;
            continue;
        }
        if (ch == ' ')
            (*spaces)++;
        if (ch == '\\' && name[i] >= '0' && name[i] <= '9') {
            for (int k = 0; k < 3 && name[i] >= '0' && name[i] <= '9'; k++)
                i++;
        } else if (ch == '\\' && name[i] != '\0') {
            i++;
        }
        label++;
    }
    *n = i;
    if (label > 63)
        return 0;
    return label ? wire + label + 1 : wire;
}

static void w_name(wbuf *b, const char *name, int u16_len)
{
    size_t n = 0, spaces = 0;
    if (name == NULL)
        name = "";
    /* what ares_dns_write refuses (a name over 255 octets, a label over 63) the raw path never
     * sees: the same EBADRESP here */
    size_t wire = wire_length(name, &n, &spaces);
    if (wire == 0 || wire > 255) {
        b->failed = ARES_EBADRESP;
        return;
    }
    size_t total = n + 3 * spaces;
    if (total >= DNS_NAME_TEXT_MAX) {
        b->failed = ARES_EBADRESP;
        return;
    }
    if (u16_len)
        w_u16(b, (uint16_t)total);
    else
        w_u32(b, (uint32_t)total);
    if (spaces == 0) {
        w_put(b, name, n);
        return;
    }
    uint8_t *at = w_room(b, total);
    if (at == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        if (name[i] == ' ') {
            memcpy(at, "\\032", 4);
            at += 4;
        } else {
            *at++ = (uint8_t)name[i];
        }
    }
}

/* A <character-string> of a c-ares string, as ares_dns_write writes it. */
static void w_charstring(wbuf *b, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n > 255) {
        b->failed = ARES_EBADRESP;
        return;
    }
    w_u8(b, (uint8_t)n);
    w_put(b, s, n);
}

/* A name in uncompressed wire form, from presentation form (\DDD and \c escapes). */
static void w_wire_name(wbuf *b, const char *s)
{
    uint8_t label[63];
    size_t n = 0, total = 0;
    if (s == NULL)
        s = "";
    while (*s != '\0') {
        uint8_t ch = (uint8_t)*s++;
        if (ch == '.') {
            if (n == 0)
                break; /* "" or a trailing dot: the root */
            total += n + 1;
            w_u8(b, (uint8_t)n);
            w_put(b, label, n);
            n = 0;
            continue;
        }
        if (ch == '\\' && *s != '\0') {
            if (s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9') {
                ch = (uint8_t)((s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0'));
                s += 3;
            } else {
                ch = (uint8_t)*s++;
            }
        }
        if (n == sizeof(label)) {
            b->failed = ARES_EBADRESP;
            return;
        }
        label[n++] = ch;
    }
    if (n > 0) {
        total += n + 1;
        w_u8(b, (uint8_t)n);
        w_put(b, label, n);
    }
    if (total + 1 > 255)
        b->failed = ARES_EBADRESP;
    w_u8(b, 0);
}

/* Starts a RAW record's RDATA: returns where its length goes (patched by raw_end). */
static size_t raw_begin(wbuf *b)
{
    size_t at = b->n;
    w_u32(b, 0);
    return at;
}

static void raw_end(wbuf *b, size_t at)
{
    if (b->failed)
        return;
    uint32_t n = (uint32_t)(b->n - at - 4);
    if (n > 0xFFFF) {
        b->failed = ARES_EBADRESP;
        return;
    }
    memcpy(b->p + at, &n, 4);
}

static void w_fields(wbuf *b, const packed_fields *f, const char *name1, const char *name2, const void *s0,
                     size_t n0, const void *s1, size_t n1, const void *s2, size_t n2, const void *rest, size_t nrest)
{
    w_put(b, f, sizeof(*f));
    w_name(b, name1, 0);
    w_name(b, name2, 0);
    w_blob(b, s0, n0);
    w_blob(b, s1, n1);
    w_blob(b, s2, n2);
    w_blob(b, rest, nrest);
}

static size_t slen(const char *s)
{
    return s ? strlen(s) : 0;
}

/* The options of an OPT, SVCB or HTTPS record in wire form (key, length, value). */
static void w_opts(wbuf *b, const ares_dns_rr_t *rr, ares_dns_rr_key_t key, unsigned *count)
{
    size_t cnt = ares_dns_rr_get_opt_cnt(rr, key);
    for (size_t i = 0; i < cnt; i++) {
        const unsigned char *val = NULL;
        size_t len = 0;
        unsigned short opt = ares_dns_rr_get_opt(rr, key, i, &val, &len);
        if (len > 0xFFFF) {
            b->failed = ARES_EBADRESP;
            return;
        }
        w_be16(b, opt);
        w_be16(b, (unsigned)len);
        w_put(b, val, len);
    }
    if (count != NULL)
        *count = (unsigned)cnt;
}

/* The options region of an SVCB/HTTPS record as a blob. */
static void w_opts_blob(wbuf *b, const ares_dns_rr_t *rr, ares_dns_rr_key_t key, uint32_t *count)
{
    size_t at = b->n;
    unsigned cnt = 0;
    w_u32(b, 0);
    w_opts(b, rr, key, &cnt);
    if (b->failed)
        return;
    uint32_t n = (uint32_t)(b->n - at - 4);
    memcpy(b->p + at, &n, 4);
    *count = cnt;
}

/* One resource record. */
static void w_rr(wbuf *b, const ares_dns_record_t *rec, const ares_dns_rr_t *rr, int section)
{
    ares_dns_rec_type_t t = ares_dns_rr_get_type(rr);
    uint16_t type = (uint16_t)t, rclass = (uint16_t)ares_dns_rr_get_class(rr);
    uint32_t ttl = ares_dns_rr_get_ttl(rr);
    packed_fields f;
    int form = FORM_FIELDS;
    const unsigned char *bin = NULL;
    size_t binlen = 0;

    memset(&f, 0, sizeof(f));
    switch (t) {
    case ARES_REC_TYPE_RAW_RR:
        type = ares_dns_rr_get_u16(rr, ARES_RR_RAW_RR_TYPE);
        form = FORM_RAW;
        break;
    case ARES_REC_TYPE_OPT:
        rclass = ares_dns_rr_get_u16(rr, ARES_RR_OPT_UDP_SIZE);
        ttl = ((uint32_t)((ares_dns_record_get_rcode(rec) >> 4) & 0xFF) << 24) |
              ((uint32_t)ares_dns_rr_get_u8(rr, ARES_RR_OPT_VERSION) << 16) | ares_dns_rr_get_u16(rr, ARES_RR_OPT_FLAGS);
        form = FORM_RAW;
        break;
    case ARES_REC_TYPE_HINFO:
    case ARES_REC_TYPE_SIG:
        form = FORM_RAW;
        break;
    case ARES_REC_TYPE_A: case ARES_REC_TYPE_AAAA: case ARES_REC_TYPE_NS: case ARES_REC_TYPE_CNAME:
    case ARES_REC_TYPE_PTR: case ARES_REC_TYPE_MX: case ARES_REC_TYPE_SRV: case ARES_REC_TYPE_SOA:
    case ARES_REC_TYPE_TXT: case ARES_REC_TYPE_NAPTR: case ARES_REC_TYPE_CAA: case ARES_REC_TYPE_URI:
    case ARES_REC_TYPE_TLSA: case ARES_REC_TYPE_SVCB: case ARES_REC_TYPE_HTTPS:
        break;
    default:
        b->failed = ARES_EBADRESP; /* a type this c-ares parses that pycares_ng does not know */
        return;
    }
    /* RFC 2181: a TTL with the top bit set means 0 (as dns_parse.c reads it) */
    if (ttl & 0x80000000u)
        ttl = 0;
    w_u8(b, (uint8_t)section);
    w_u8(b, (uint8_t)form);
    w_u16(b, type);
    w_u16(b, rclass);
    w_u32(b, ttl);
    w_name(b, ares_dns_rr_get_name(rr), 1);

    if (form == FORM_RAW) {
        size_t at = raw_begin(b);
        switch (t) {
        case ARES_REC_TYPE_RAW_RR:
            bin = ares_dns_rr_get_bin(rr, ARES_RR_RAW_RR_DATA, &binlen);
            w_put(b, bin, binlen);
            break;
        case ARES_REC_TYPE_OPT:
            w_opts(b, rr, ARES_RR_OPT_OPTIONS, NULL);
            break;
        case ARES_REC_TYPE_HINFO:
            w_charstring(b, ares_dns_rr_get_str(rr, ARES_RR_HINFO_CPU));
            w_charstring(b, ares_dns_rr_get_str(rr, ARES_RR_HINFO_OS));
            break;
        default: /* SIG */
            w_be16(b, ares_dns_rr_get_u16(rr, ARES_RR_SIG_TYPE_COVERED));
            w_u8(b, ares_dns_rr_get_u8(rr, ARES_RR_SIG_ALGORITHM));
            w_u8(b, ares_dns_rr_get_u8(rr, ARES_RR_SIG_LABELS));
            w_be32(b, ares_dns_rr_get_u32(rr, ARES_RR_SIG_ORIGINAL_TTL));
            w_be32(b, ares_dns_rr_get_u32(rr, ARES_RR_SIG_EXPIRATION));
            w_be32(b, ares_dns_rr_get_u32(rr, ARES_RR_SIG_INCEPTION));
            w_be16(b, ares_dns_rr_get_u16(rr, ARES_RR_SIG_KEY_TAG));
            w_wire_name(b, ares_dns_rr_get_str(rr, ARES_RR_SIG_SIGNERS_NAME));
            bin = ares_dns_rr_get_bin(rr, ARES_RR_SIG_SIGNATURE, &binlen);
            w_put(b, bin, binlen);
            break;
        }
        raw_end(b, at);
        return;
    }

    const char *s0 = NULL, *s1 = NULL, *s2 = NULL;
    switch (t) {
    case ARES_REC_TYPE_A: {
        const struct in_addr *a = ares_dns_rr_get_addr(rr, ARES_RR_A_ADDR);
        if (a == NULL)
            goto bad;
        memcpy(f.addr, a, 4);
        w_fields(b, &f, NULL, NULL, NULL, 0, NULL, 0, NULL, 0, NULL, 0);
        break;
    }
    case ARES_REC_TYPE_AAAA: {
        const struct ares_in6_addr *a = ares_dns_rr_get_addr6(rr, ARES_RR_AAAA_ADDR);
        if (a == NULL)
            goto bad;
        memcpy(f.addr, a, 16);
        w_fields(b, &f, NULL, NULL, NULL, 0, NULL, 0, NULL, 0, NULL, 0);
        break;
    }
    case ARES_REC_TYPE_NS:
        w_fields(b, &f, ares_dns_rr_get_str(rr, ARES_RR_NS_NSDNAME), NULL, NULL, 0, NULL, 0, NULL, 0, NULL, 0);
        break;
    case ARES_REC_TYPE_CNAME:
        w_fields(b, &f, ares_dns_rr_get_str(rr, ARES_RR_CNAME_CNAME), NULL, NULL, 0, NULL, 0, NULL, 0, NULL, 0);
        break;
    case ARES_REC_TYPE_PTR:
        w_fields(b, &f, ares_dns_rr_get_str(rr, ARES_RR_PTR_DNAME), NULL, NULL, 0, NULL, 0, NULL, 0, NULL, 0);
        break;
    case ARES_REC_TYPE_MX:
        f.u16[0] = ares_dns_rr_get_u16(rr, ARES_RR_MX_PREFERENCE);
        w_fields(b, &f, ares_dns_rr_get_str(rr, ARES_RR_MX_EXCHANGE), NULL, NULL, 0, NULL, 0, NULL, 0, NULL, 0);
        break;
    case ARES_REC_TYPE_SRV:
        f.u16[0] = ares_dns_rr_get_u16(rr, ARES_RR_SRV_PRIORITY);
        f.u16[1] = ares_dns_rr_get_u16(rr, ARES_RR_SRV_WEIGHT);
        f.u16[2] = ares_dns_rr_get_u16(rr, ARES_RR_SRV_PORT);
        w_fields(b, &f, ares_dns_rr_get_str(rr, ARES_RR_SRV_TARGET), NULL, NULL, 0, NULL, 0, NULL, 0, NULL, 0);
        break;
    case ARES_REC_TYPE_SOA:
        f.u32[0] = ares_dns_rr_get_u32(rr, ARES_RR_SOA_SERIAL);
        f.u32[1] = ares_dns_rr_get_u32(rr, ARES_RR_SOA_REFRESH);
        f.u32[2] = ares_dns_rr_get_u32(rr, ARES_RR_SOA_RETRY);
        f.u32[3] = ares_dns_rr_get_u32(rr, ARES_RR_SOA_EXPIRE);
        f.u32[4] = ares_dns_rr_get_u32(rr, ARES_RR_SOA_MINIMUM);
        w_fields(b, &f, ares_dns_rr_get_str(rr, ARES_RR_SOA_MNAME), ares_dns_rr_get_str(rr, ARES_RR_SOA_RNAME), NULL,
                 0, NULL, 0, NULL, 0, NULL, 0);
        break;
    case ARES_REC_TYPE_TXT: {
        /* the character-strings, each with its length octet, as the raw parser keeps them */
        size_t cnt = ares_dns_rr_get_abin_cnt(rr, ARES_RR_TXT_DATA), at;
        f.count = (uint32_t)cnt;
        w_put(b, &f, sizeof(f));
        w_u32(b, 0);
        w_u32(b, 0);
        w_u32(b, 0);
        w_u32(b, 0);
        w_u32(b, 0);
        at = b->n;
        w_u32(b, 0);
        for (size_t i = 0; i < cnt; i++) {
            size_t len = 0;
            const unsigned char *chunk = ares_dns_rr_get_abin(rr, ARES_RR_TXT_DATA, i, &len);
            if (len > 255)
                goto bad;
            w_u8(b, (uint8_t)len);
            w_put(b, chunk, len);
        }
        if (!b->failed) {
            uint32_t n = (uint32_t)(b->n - at - 4);
            memcpy(b->p + at, &n, 4);
        }
        break;
    }
    case ARES_REC_TYPE_NAPTR:
        f.u16[0] = ares_dns_rr_get_u16(rr, ARES_RR_NAPTR_ORDER);
        f.u16[1] = ares_dns_rr_get_u16(rr, ARES_RR_NAPTR_PREFERENCE);
        s0 = ares_dns_rr_get_str(rr, ARES_RR_NAPTR_FLAGS);
        s1 = ares_dns_rr_get_str(rr, ARES_RR_NAPTR_SERVICES);
        s2 = ares_dns_rr_get_str(rr, ARES_RR_NAPTR_REGEXP);
        if (slen(s0) > 255 || slen(s1) > 255 || slen(s2) > 255)
            goto bad;
        w_fields(b, &f, ares_dns_rr_get_str(rr, ARES_RR_NAPTR_REPLACEMENT), NULL, s0, slen(s0), s1, slen(s1), s2,
                 slen(s2), NULL, 0);
        break;
    case ARES_REC_TYPE_CAA:
        f.u8[0] = ares_dns_rr_get_u8(rr, ARES_RR_CAA_CRITICAL);
        s0 = ares_dns_rr_get_str(rr, ARES_RR_CAA_TAG);
        bin = ares_dns_rr_get_bin(rr, ARES_RR_CAA_VALUE, &binlen);
        if (slen(s0) > 255)
            goto bad;
        w_fields(b, &f, NULL, NULL, s0, slen(s0), bin, binlen, NULL, 0, NULL, 0);
        break;
    case ARES_REC_TYPE_URI:
        f.u16[0] = ares_dns_rr_get_u16(rr, ARES_RR_URI_PRIORITY);
        f.u16[1] = ares_dns_rr_get_u16(rr, ARES_RR_URI_WEIGHT);
        s0 = ares_dns_rr_get_str(rr, ARES_RR_URI_TARGET);
        w_fields(b, &f, NULL, NULL, NULL, 0, NULL, 0, NULL, 0, s0, slen(s0));
        break;
    case ARES_REC_TYPE_TLSA:
        f.u8[0] = ares_dns_rr_get_u8(rr, ARES_RR_TLSA_CERT_USAGE);
        f.u8[1] = ares_dns_rr_get_u8(rr, ARES_RR_TLSA_SELECTOR);
        f.u8[2] = ares_dns_rr_get_u8(rr, ARES_RR_TLSA_MATCH);
        bin = ares_dns_rr_get_bin(rr, ARES_RR_TLSA_DATA, &binlen);
        w_fields(b, &f, NULL, NULL, NULL, 0, NULL, 0, NULL, 0, bin, binlen);
        break;
    case ARES_REC_TYPE_SVCB:
    case ARES_REC_TYPE_HTTPS: {
        int svcb = t == ARES_REC_TYPE_SVCB;
        f.u16[0] = ares_dns_rr_get_u16(rr, svcb ? ARES_RR_SVCB_PRIORITY : ARES_RR_HTTPS_PRIORITY);
        size_t fixed = b->n;
        w_put(b, &f, sizeof(f));
        w_name(b, ares_dns_rr_get_str(rr, svcb ? ARES_RR_SVCB_TARGET : ARES_RR_HTTPS_TARGET), 0);
        w_blob(b, NULL, 0);
        w_blob(b, NULL, 0);
        w_blob(b, NULL, 0);
        w_blob(b, NULL, 0);
        uint32_t cnt = 0;
        w_opts_blob(b, rr, svcb ? ARES_RR_SVCB_PARAMS : ARES_RR_HTTPS_PARAMS, &cnt);
        if (!b->failed)
            memcpy(b->p + fixed + offsetof(packed_fields, count), &cnt, sizeof(cnt));
        break;
    }
    default:
        goto bad;
    }
    return;
bad:
    if (!b->failed)
        b->failed = ARES_EBADRESP;
}

/* The header flags word as on the wire, as ares_dns_write makes it. */
static uint16_t wire_flags(const ares_dns_record_t *rec)
{
    unsigned fl = ares_dns_record_get_flags(rec), rcode = ares_dns_record_get_rcode(rec), w = 0;
    int has_opt = 0;
    size_t n = ares_dns_record_rr_cnt(rec, ARES_SECTION_ADDITIONAL);
    for (size_t i = 0; i < n && !has_opt; i++)
        has_opt = ares_dns_rr_get_type(ares_dns_record_rr_get_const(rec, ARES_SECTION_ADDITIONAL, i)) ==
                  ARES_REC_TYPE_OPT;
    if (fl & ARES_FLAG_QR) w |= 0x8000;
    w |= ((unsigned)ares_dns_record_get_opcode(rec) & 0xF) << 11;
    if (fl & ARES_FLAG_AA) w |= 0x0400;
    if (fl & ARES_FLAG_TC) w |= 0x0200;
    if (fl & ARES_FLAG_RD) w |= 0x0100;
    if (fl & ARES_FLAG_RA) w |= 0x0080;
    if (fl & ARES_FLAG_AD) w |= 0x0020;
    if (fl & ARES_FLAG_CD) w |= 0x0010;
    w |= rcode > 15 && !has_opt ? ARES_RCODE_SERVFAIL : (rcode & 0xF);
    return (uint16_t)w;
}

/* The compact copy of a reply: ARES_SUCCESS with *out / *outlen (malloc'd), or an error.
 * A query result needs only the answer section; the whole-message kinds take all three. */
int dnsrec_compact_copy(const ares_dns_record_t *rec, int whole, uint8_t **out, int *outlen)
{
    static const ares_dns_section_t sections[3] = {ARES_SECTION_ANSWER, ARES_SECTION_AUTHORITY,
                                                   ARES_SECTION_ADDITIONAL};
    wbuf b = {NULL, 0, 0, 0};
    w_u16(&b, wire_flags(rec));
    for (int s = 0; s < (whole ? 3 : 1); s++) {
        size_t n = ares_dns_record_rr_cnt(rec, sections[s]);
        for (size_t i = 0; i < n && !b.failed; i++)
            w_rr(&b, rec, ares_dns_record_rr_get_const(rec, sections[s], i), s);
    }
    if (!b.failed && b.n > (size_t)INT32_MAX)
        b.failed = ARES_EBADRESP;
    if (b.failed) {
        free(b.p);
        return b.failed;
    }
    *out = b.p;
    *outlen = (int)b.n;
    return ARES_SUCCESS;
}

int dnsrec_wanted(void)
{
    int version = 0;
    ares_version(&version);
    const char *env = getenv("PYCARES_NG_DNSREC");
    return version >= 0x011c00 && !(env != NULL && strcmp(env, "0") == 0);
}

#else /* c-ares < 1.28: the legacy calls and the raw-reply parser */

int dnsrec_wanted(void)
{
    return 0;
}

#endif
