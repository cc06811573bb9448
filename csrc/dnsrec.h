/* Queries through c-ares' dnsrec API (c-ares >= 1.28): the parsed reply (ares_dns_record_t) is
 * copied, in the libcares callback, into a compact C form that the result builders read at
 * delivery, so c-ares never writes the reply back to wire format and pycares_ng never parses
 * it again. Older libraries (or PYCARES_NG_DNSREC=0) keep ares_query/ares_search and the raw
 * reply parser (dns_parse.c). */
#ifndef PYCARES_NG_DNSREC_H
#define PYCARES_NG_DNSREC_H

#include "answer.h"

#if ARES_VERSION >= 0x011c00 /* 1.28.0: ares_query_dnsrec, ares_search_dnsrec, the record accessors */
#define PYCARES_NG_HAVE_DNSREC 1
#else
#define PYCARES_NG_HAVE_DNSREC 0
#endif

/* What a query request's reply buffer holds (query.c). */
enum { REPLY_RAW = 0, REPLY_COMPACT = 1 };

/* Whether channels made now should use the dnsrec path: built against c-ares >= 1.28, the
 * loaded library is >= 1.28 too, and $PYCARES_NG_DNSREC is not "0" (the tests compare paths). */
int dnsrec_wanted(void);

#if PYCARES_NG_HAVE_DNSREC
/* The compact copy of a reply (no Python; any thread): ARES_SUCCESS with *out / *outlen
 * (malloc'd), or an ARES error. `whole`: all three sections, else the answer section only. */
int dnsrec_compact_copy(const ares_dns_record_t *rec, int whole, uint8_t **out, int *outlen);
#endif

/* A source reading a compact copy (what dnsrec_compact_copy made). */
void dnsrec_source_init(rr_source *s, const uint8_t *buf, size_t len);

#endif
