/* A bounds-checked DNS message parser with no Python in it (so it can be fuzzed on its own).
 *
 * Every read goes through a cursor that knows where its region ends; names are decoded with
 * compression pointers that must point strictly backwards and are counted, so a hostile
 * message can neither read out of bounds nor loop. Decoded names are in presentation form
 * ("www.example.test", special and non-printable octets escaped as \. \\ \DDD), always ASCII. */
#ifndef PYCARES_NG_DNS_PARSE_H
#define PYCARES_NG_DNS_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* 255 wire octets, each octet escaped as \DDD at worst, plus dots and a NUL. */
#define DNS_NAME_TEXT_MAX 1100

enum { DNS_OK = 0, DNS_EBADRESP = -1 };
enum { DNS_SECTION_ANSWER = 0, DNS_SECTION_AUTHORITY = 1, DNS_SECTION_ADDITIONAL = 2 };

/* Record types with typed decoders. */
enum {
    DNS_T_A = 1, DNS_T_NS = 2, DNS_T_CNAME = 5, DNS_T_SOA = 6, DNS_T_PTR = 12, DNS_T_HINFO = 13,
    DNS_T_MX = 15, DNS_T_TXT = 16, DNS_T_AAAA = 28, DNS_T_SRV = 33, DNS_T_NAPTR = 35,
    DNS_T_OPT = 41, DNS_T_DS = 43, DNS_T_SSHFP = 44, DNS_T_DNSKEY = 48, DNS_T_TLSA = 52,
    DNS_T_SVCB = 64, DNS_T_HTTPS = 65, DNS_T_ANY = 255, DNS_T_URI = 256, DNS_T_CAA = 257
};

typedef struct {
    const uint8_t *msg;
    size_t len;
    uint16_t id, flags, qdcount, ancount, nscount, arcount;
    size_t pos;          /* next unread octet */
    int section;         /* section of the next record */
    unsigned left;       /* records left in that section */
} dns_reader;

typedef struct {
    char name[DNS_NAME_TEXT_MAX];
    size_t name_len;
    uint16_t type, rclass;
    uint32_t ttl;        /* already clamped: RFC 2181 says a TTL with the top bit set means 0 */
    size_t rdata;        /* offset of RDATA in the message */
    uint16_t rdlen;
    int section;
} dns_rr;

/* A byte string inside the message. */
typedef struct { const uint8_t *p; size_t n; } dns_bytes;

/* One decoded RDATA. Names live in the name buffers; byte strings point into the message. */
typedef struct {
    uint16_t type;
    uint16_t u16[3];     /* MX pref; SRV prio/weight/port; NAPTR order/pref; URI prio/weight; DS/DNSKEY ... */
    uint32_t u32[5];     /* SOA serial refresh retry expire minimum */
    uint8_t u8[3];       /* CAA flags; TLSA usage/selector/mtype; DS alg/digest type; DNSKEY proto/alg; SSHFP */
    char name1[DNS_NAME_TEXT_MAX];
    char name2[DNS_NAME_TEXT_MAX];
    size_t name1_len, name2_len;
    uint8_t addr[16];
    dns_bytes str[3];    /* NAPTR flags/service/regexp; CAA tag/value; HINFO cpu/os */
    dns_bytes rest;      /* TXT strings region, SVCB params region, digest, key, cert data, URI target */
    unsigned count;      /* TXT character-strings, SVCB params */
} dns_rdata;

/* Reads the header and skips the question section. */
int dns_reader_init(dns_reader *r, const uint8_t *msg, size_t len);
/* 1: *rr filled; 0: no records left; DNS_EBADRESP: malformed. */
int dns_reader_next(dns_reader *r, dns_rr *rr);
/* Decodes the name at *pos; advances *pos past it (in place, not following pointers). */
int dns_name_decode(const uint8_t *msg, size_t len, size_t *pos, char *out, size_t *out_len);
/* Decodes the RDATA of rr for the types above; other types give rest = the raw RDATA. */
int dns_rdata_decode(const uint8_t *msg, size_t len, const dns_rr *rr, dns_rdata *out);

/* Iterators over regions dns_rdata_decode has already validated. */
int dns_txt_next(dns_bytes *region, dns_bytes *chunk);
int dns_svcb_next(dns_bytes *region, uint16_t *key, dns_bytes *value);

/* c-ares 1.34's ares_dns_class_isvalid for an RR: IN, CHAOS, HS, NONE; ANY only for SIG; types
 * it keeps raw (and OPT) are not checked. */
int dns_rr_class_valid(uint16_t type, uint16_t rclass);
/* Whether c-ares >= 1.34 refuses the whole message (ares_dns_parse fails -> EBADRESP). */
int dns_message_rejected(const uint8_t *msg, size_t len);

/* Walks a whole message through every decoder: the fuzz target. Returns records seen or < 0. */
int dns_walk_message(const uint8_t *msg, size_t len);

#endif
