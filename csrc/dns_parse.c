/* Bounds-checked DNS message parsing; see dns_parse.h. No Python in this file. */
#include "dns_parse.h"

#include <string.h>

/* A region [pos, end) of the message; every read checks against end. */
typedef struct {
    const uint8_t *msg;
    size_t len, pos, end;
} cursor;

static int cur_u8(cursor *c, uint8_t *v)
{
    if (c->end - c->pos < 1 || c->pos >= c->end)
        return DNS_EBADRESP;
    *v = c->msg[c->pos++];
    return DNS_OK;
}

static int cur_u16(cursor *c, uint16_t *v)
{
    if (c->pos >= c->end || c->end - c->pos < 2)
        return DNS_EBADRESP;
    *v = (uint16_t)((c->msg[c->pos] << 8) | c->msg[c->pos + 1]);
    c->pos += 2;
    return DNS_OK;
}

static int cur_u32(cursor *c, uint32_t *v)
{
    if (c->pos >= c->end || c->end - c->pos < 4)
        return DNS_EBADRESP;
    *v = ((uint32_t)c->msg[c->pos] << 24) | ((uint32_t)c->msg[c->pos + 1] << 16) |
         ((uint32_t)c->msg[c->pos + 2] << 8) | (uint32_t)c->msg[c->pos + 3];
    c->pos += 4;
    return DNS_OK;
}

static int cur_bytes(cursor *c, size_t n, dns_bytes *out)
{
    if (c->pos > c->end || c->end - c->pos < n)
        return DNS_EBADRESP;
    out->p = c->msg + c->pos;
    out->n = n;
    c->pos += n;
    return DNS_OK;
}

static int cur_rest(cursor *c, dns_bytes *out)
{
    return cur_bytes(c, c->end - c->pos, out);
}

/* <character-string>: one length octet, then that many octets. */
static int cur_charstring(cursor *c, dns_bytes *out)
{
    uint8_t n;
    if (cur_u8(c, &n) < 0)
        return DNS_EBADRESP;
    return cur_bytes(c, n, out);
}

/* A name that must end inside the cursor's region (its pointers may reach back anywhere). */
static int cur_name(cursor *c, char *out, size_t *out_len)
{
    size_t pos = c->pos;
    if (dns_name_decode(c->msg, c->end, &pos, out, out_len) < 0)
        return DNS_EBADRESP;
    c->pos = pos;
    return DNS_OK;
}

static int label_char_needs_escape(uint8_t ch)
{
    return ch == '.' || ch == '\\' || ch == '"' || ch == '(' || ch == ')' || ch == ';' ||
           ch == '@' || ch == '$';
}

int dns_name_decode(const uint8_t *msg, size_t len, size_t *pos, char *out, size_t *out_len)
{
    size_t p = *pos, after = 0, o = 0, wire = 0;
    int jumped = 0, jumps = 0;

    for (;;) {
        if (p >= len)
            return DNS_EBADRESP;
        uint8_t b = msg[p];
        if ((b & 0xC0) == 0xC0) {
            if (p + 1 >= len)
                return DNS_EBADRESP;
            size_t target = ((size_t)(b & 0x3F) << 8) | msg[p + 1];
            /* Only strictly backward pointers, and a bounded number of them: no loops. */
            if (target >= p || ++jumps > 126)
                return DNS_EBADRESP;
            if (!jumped) {
                after = p + 2;
                jumped = 1;
            }
            p = target;
            continue;
        }
        if (b & 0xC0)          /* 0x40 / 0x80: obsolete or reserved label types */
            return DNS_EBADRESP;
        if (b == 0) {
            p += 1;
            break;
        }
        if (len - p - 1 < b)
            return DNS_EBADRESP;
        wire += (size_t)b + 1;
        if (wire + 1 > 255)    /* RFC 1035: 255 octets including the root label */
            return DNS_EBADRESP;
        if (o != 0)
            out[o++] = '.';
        for (size_t i = 1; i <= b; i++) {
            uint8_t ch = msg[p + i];
            if (label_char_needs_escape(ch)) {
                out[o++] = '\\';
                out[o++] = (char)ch;
            } else if (ch < 0x21 || ch > 0x7E) {
                out[o++] = '\\';
                out[o++] = (char)('0' + ch / 100);
                out[o++] = (char)('0' + (ch / 10) % 10);
                out[o++] = (char)('0' + ch % 10);
            } else {
                out[o++] = (char)ch;
            }
        }
        p += (size_t)b + 1;
    }
    out[o] = '\0';
    *out_len = o;
    *pos = jumped ? after : p;
    return DNS_OK;
}

int dns_reader_init(dns_reader *r, const uint8_t *msg, size_t len)
{
    cursor c = {msg, len, 0, len};
    char scratch[DNS_NAME_TEXT_MAX];
    size_t n;
    uint16_t qtype, qclass;

    memset(r, 0, sizeof(*r));
    r->msg = msg;
    r->len = len;
    if (cur_u16(&c, &r->id) < 0 || cur_u16(&c, &r->flags) < 0 || cur_u16(&c, &r->qdcount) < 0 ||
        cur_u16(&c, &r->ancount) < 0 || cur_u16(&c, &r->nscount) < 0 || cur_u16(&c, &r->arcount) < 0)
        return DNS_EBADRESP;
    for (unsigned i = 0; i < r->qdcount; i++) {
        if (cur_name(&c, scratch, &n) < 0 || cur_u16(&c, &qtype) < 0 || cur_u16(&c, &qclass) < 0)
            return DNS_EBADRESP;
    }
    r->pos = c.pos;
    r->section = DNS_SECTION_ANSWER;
    r->left = r->ancount;
    return DNS_OK;
}

int dns_reader_next(dns_reader *r, dns_rr *rr)
{
    while (r->left == 0) {
        if (r->section == DNS_SECTION_ADDITIONAL)
            return 0;
        r->section++;
        r->left = r->section == DNS_SECTION_AUTHORITY ? r->nscount : r->arcount;
    }
    cursor c = {r->msg, r->len, r->pos, r->len};
    uint32_t ttl;
    if (cur_name(&c, rr->name, &rr->name_len) < 0 || cur_u16(&c, &rr->type) < 0 ||
        cur_u16(&c, &rr->rclass) < 0 || cur_u32(&c, &ttl) < 0 || cur_u16(&c, &rr->rdlen) < 0)
        return DNS_EBADRESP;
    if (c.end - c.pos < rr->rdlen)
        return DNS_EBADRESP;
    rr->ttl = (ttl & 0x80000000u) ? 0 : ttl;
    rr->rdata = c.pos;
    rr->section = r->section;
    r->pos = c.pos + rr->rdlen;
    r->left--;
    return 1;
}

/* Checks that a region is a sequence of character-strings; counts them. */
static int check_txt(dns_bytes region, unsigned *count)
{
    dns_bytes chunk;
    int rc;
    *count = 0;
    while ((rc = dns_txt_next(&region, &chunk)) == 1)
        (*count)++;
    return rc;
}

int dns_txt_next(dns_bytes *region, dns_bytes *chunk)
{
    if (region->n == 0)
        return 0;
    size_t n = region->p[0];
    if (region->n - 1 < n)
        return DNS_EBADRESP;
    chunk->p = region->p + 1;
    chunk->n = n;
    region->p += n + 1;
    region->n -= n + 1;
    return 1;
}

int dns_svcb_next(dns_bytes *region, uint16_t *key, dns_bytes *value)
{
    if (region->n == 0)
        return 0;
    if (region->n < 4)
        return DNS_EBADRESP;
    size_t n = ((size_t)region->p[2] << 8) | region->p[3];
    if (region->n - 4 < n)
        return DNS_EBADRESP;
    *key = (uint16_t)((region->p[0] << 8) | region->p[1]);
    value->p = region->p + 4;
    value->n = n;
    region->p += n + 4;
    region->n -= n + 4;
    return 1;
}

static int check_svcb(dns_bytes region, unsigned *count)
{
    uint16_t key;
    dns_bytes value;
    int rc;
    *count = 0;
    while ((rc = dns_svcb_next(&region, &key, &value)) == 1)
        (*count)++;
    return rc;
}

int dns_rdata_decode(const uint8_t *msg, size_t len, const dns_rr *rr, dns_rdata *d)
{
    if (rr->rdata > len || len - rr->rdata < rr->rdlen)
        return DNS_EBADRESP;
    cursor c = {msg, len, rr->rdata, rr->rdata + rr->rdlen};
    int rc = DNS_OK;

    d->type = rr->type;
    d->count = 0;
    d->name1_len = d->name2_len = 0;
    d->name1[0] = d->name2[0] = '\0';
    switch (rr->type) {
    case DNS_T_A:
        if (rr->rdlen != 4)
            return DNS_EBADRESP;
        memcpy(d->addr, msg + rr->rdata, 4);
        return DNS_OK;
    case DNS_T_AAAA:
        if (rr->rdlen != 16)
            return DNS_EBADRESP;
        memcpy(d->addr, msg + rr->rdata, 16);
        return DNS_OK;
    case DNS_T_NS:
    case DNS_T_CNAME:
    case DNS_T_PTR:
        rc = cur_name(&c, d->name1, &d->name1_len);
        break;
    case DNS_T_MX:
        if (cur_u16(&c, &d->u16[0]) < 0)
            return DNS_EBADRESP;
        rc = cur_name(&c, d->name1, &d->name1_len);
        break;
    case DNS_T_SRV:
        if (cur_u16(&c, &d->u16[0]) < 0 || cur_u16(&c, &d->u16[1]) < 0 || cur_u16(&c, &d->u16[2]) < 0)
            return DNS_EBADRESP;
        rc = cur_name(&c, d->name1, &d->name1_len);
        break;
    case DNS_T_SOA:
        if (cur_name(&c, d->name1, &d->name1_len) < 0 || cur_name(&c, d->name2, &d->name2_len) < 0)
            return DNS_EBADRESP;
        for (int i = 0; i < 5 && rc == DNS_OK; i++)
            rc = cur_u32(&c, &d->u32[i]);
        break;
    case DNS_T_TXT:
        if (cur_rest(&c, &d->rest) < 0)
            return DNS_EBADRESP;
        rc = check_txt(d->rest, &d->count);
        break;
    case DNS_T_HINFO:
        if (cur_charstring(&c, &d->str[0]) < 0)
            return DNS_EBADRESP;
        rc = cur_charstring(&c, &d->str[1]);
        break;
    case DNS_T_NAPTR:
        if (cur_u16(&c, &d->u16[0]) < 0 || cur_u16(&c, &d->u16[1]) < 0 ||
            cur_charstring(&c, &d->str[0]) < 0 || cur_charstring(&c, &d->str[1]) < 0 ||
            cur_charstring(&c, &d->str[2]) < 0)
            return DNS_EBADRESP;
        rc = cur_name(&c, d->name1, &d->name1_len);
        break;
    case DNS_T_CAA:
        if (cur_u8(&c, &d->u8[0]) < 0 || cur_charstring(&c, &d->str[0]) < 0)
            return DNS_EBADRESP;
        rc = cur_rest(&c, &d->str[1]);
        break;
    case DNS_T_URI:
        if (cur_u16(&c, &d->u16[0]) < 0 || cur_u16(&c, &d->u16[1]) < 0)
            return DNS_EBADRESP;
        rc = cur_rest(&c, &d->rest);
        break;
    case DNS_T_TLSA:
        if (cur_u8(&c, &d->u8[0]) < 0 || cur_u8(&c, &d->u8[1]) < 0 || cur_u8(&c, &d->u8[2]) < 0)
            return DNS_EBADRESP;
        rc = cur_rest(&c, &d->rest);
        break;
    case DNS_T_SSHFP:
        if (cur_u8(&c, &d->u8[0]) < 0 || cur_u8(&c, &d->u8[1]) < 0)
            return DNS_EBADRESP;
        rc = cur_rest(&c, &d->rest);
        break;
    case DNS_T_DS:
        if (cur_u16(&c, &d->u16[0]) < 0 || cur_u8(&c, &d->u8[0]) < 0 || cur_u8(&c, &d->u8[1]) < 0)
            return DNS_EBADRESP;
        rc = cur_rest(&c, &d->rest);
        break;
    case DNS_T_DNSKEY:
        if (cur_u16(&c, &d->u16[0]) < 0 || cur_u8(&c, &d->u8[0]) < 0 || cur_u8(&c, &d->u8[1]) < 0)
            return DNS_EBADRESP;
        rc = cur_rest(&c, &d->rest);
        break;
    case DNS_T_SVCB:
    case DNS_T_HTTPS:
        if (cur_u16(&c, &d->u16[0]) < 0 || cur_name(&c, d->name1, &d->name1_len) < 0 ||
            cur_rest(&c, &d->rest) < 0)
            return DNS_EBADRESP;
        rc = check_svcb(d->rest, &d->count);
        break;
    default:
        return cur_rest(&c, &d->rest);
    }
    if (rc < 0)
        return DNS_EBADRESP;
    /* Typed records must use their RDATA exactly: trailing octets mean a malformed record. */
    return c.pos == c.end ? DNS_OK : DNS_EBADRESP;
}

int dns_rr_class_valid(uint16_t type, uint16_t rclass)
{
    switch (type) {
    case 1: case 2: case 5: case 6: case 12: case 13: case 15: case 16: case 24: case 28: case 33:
    case 35: case 52: case 64: case 65: case 255: case 256: case 257:
        break;
    default:
        return 1;
    }
    if (rclass == 1 || rclass == 3 || rclass == 4 || rclass == 254)
        return 1;
    return rclass == 255 && type == 24;
}

int dns_message_rejected(const uint8_t *msg, size_t len)
{
    dns_reader r;
    dns_rr rr;
    int rc;
    if (dns_reader_init(&r, msg, len) < 0 || r.qdcount != 1)
        return 1;
    while ((rc = dns_reader_next(&r, &rr)) == 1)
        if (!dns_rr_class_valid(rr.type, rr.rclass))
            return 1;
    return rc < 0;
}

int dns_walk_message(const uint8_t *msg, size_t len)
{
    dns_reader r;
    dns_rr rr;
    dns_rdata d;
    dns_bytes region, chunk;
    uint16_t key;
    int rc, seen = 0;

    if (dns_reader_init(&r, msg, len) < 0)
        return DNS_EBADRESP;
    while ((rc = dns_reader_next(&r, &rr)) == 1) {
        seen++;
        if (dns_rdata_decode(msg, len, &rr, &d) < 0)
            continue;
        region = d.rest;
        if (rr.type == DNS_T_TXT)
            while (dns_txt_next(&region, &chunk) == 1)
                ;
        else if (rr.type == DNS_T_SVCB || rr.type == DNS_T_HTTPS)
            while (dns_svcb_next(&region, &key, &chunk) == 1)
                ;
    }
    return rc < 0 ? rc : seen;
}
