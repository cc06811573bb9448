/* Queries through c-ares' dnsrec API (c-ares >= 1.28): the parsed reply (ares_dns_record_t) is
 * copied, in the libcares callback, into a compact C form that the result builders read at
 * delivery, so c-ares never writes the reply back to wire format and pycares_ng never parses
 * it again. Older libraries (or PYCARES_NG_DNSREC=0) keep ares_query/ares_search and the raw
 * reply parser (dns_parse.c). */
#ifndef PYCARES_NG_DNSREC_H
#define PYCARES_NG_DNSREC_H

#include "answer.h"
#include "channel.h"

#if ARES_VERSION >= 0x011c00 /* 1.28.0: ares_query_dnsrec, ares_search_dnsrec, the record accessors */
#define PYCARES_NG_HAVE_DNSREC 1
#else
#define PYCARES_NG_HAVE_DNSREC 0
#endif

/* What request.reply_form says abuf holds. */
enum { REPLY_RAW = 0, REPLY_COMPACT = 1 };

/* Whether channels made now should use the dnsrec path: built against c-ares >= 1.28, the
 * loaded library is >= 1.28 too, and $PYCARES_NG_DNSREC is not "0" (the tests compare paths). */
int dnsrec_wanted(void);

/* Sends query/search r for name (lock held); r's libcares callback is dnsrec.c's. */
void dnsrec_issue(ares_channel ch, request *r, const char *name, int qclass, int qtype, int search);

/* A source reading the compact copy in buf (what dnsrec.c's callback stored in r->abuf). */
void dnsrec_source_init(rr_source *s, const uint8_t *buf, size_t len);

#endif
