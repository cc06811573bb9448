/* Building Python results from a raw DNS reply (parsed by dns_parse.c). */
#ifndef PYCARES_NG_ANSWER_H
#define PYCARES_NG_ANSWER_H

#include <stddef.h>
#include <stdint.h>

#include "module.h"

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
