/* Building Python results from a raw DNS reply (parsed by dns_parse.c). */
#ifndef PYCARES_NG_ANSWER_H
#define PYCARES_NG_ANSWER_H

#include <stddef.h>
#include <stdint.h>

#include "dns_parse.h"
#include "module.h"

/* Where the builders read records from: a raw reply (dns_parse.c's reader) or pycares_ng's
 * compact copy of a c-ares ares_dns_record_t (dnsrec.c). One interface, one set of builders:
 * the results cannot differ by path. */
typedef struct rr_source {
    int (*next)(struct rr_source *s, dns_rr *rr);                       /* 1, 0 (end), DNS_EBADRESP */
    int (*decode)(struct rr_source *s, const dns_rr *rr, dns_rdata *d); /* the record next() gave */
    dns_bytes (*rdata)(struct rr_source *s, const dns_rr *rr);          /* its RDATA octets (types without
                                                                         * a typed result) */
    uint16_t flags;                                                     /* the header's flags word */
    dns_reader reader;                                                  /* raw replies */
    const uint8_t *buf;                                                 /* compact copies (dnsrec.c) */
    size_t len, pos, fields;
    int form;
} rr_source;

PyObject *answer_build_from(module_state *st, int qtype, rr_source *src, int *status);
PyObject *answer_build_message_from(module_state *st, rr_source *src, int *status, int face);

/* The pycares-4 shaped result of a query of type qtype: a list, or one object for CNAME, PTR
 * and SOA. On a malformed reply or no matching record: NULL, no exception, *status set to
 * ARES_EBADRESP / ARES_ENODATA. On a Python error (memory): NULL with the exception set. */
PyObject *answer_build(module_state *st, int qtype, const uint8_t *msg, size_t len, int *status);

/* The whole message: for face 4 ares_dns_message_result(answer, authority, additional, rcode,
 * flags); for face 5 pycares 5's DNSResult(answer, authority, additional) with the record types
 * pycares 5.2.1 has classes for (it leaves out the others); face 6 is face 5 with pycares_ng's
 * further types too (SVCB, DS, DNSKEY, SSHFP: what a query of one of those types asks for). */
PyObject *answer_build_message(module_state *st, const uint8_t *msg, size_t len, int *status, int face);

/* True if query() accepts this type. */
int answer_type_supported(long qtype);

#endif
