/* The hosts file, read by pycares_ng itself on c-ares < 1.22 (hostsfile.c).
 *
 * c-ares before 1.22 opens and parses the whole hosts file on every lookup (five system calls and
 * a parse per name, the largest single cost of a getaddrinfo there). pycares_ng keeps the parsed
 * file per channel and re-reads it only when stat() says it changed; the matching rules are
 * c-ares 1.18's, so answers do not change. From 1.22 on c-ares caches the file itself and this
 * code is not used. */
#ifndef PYCARES_NG_HOSTSFILE_H
#define PYCARES_NG_HOSTSFILE_H

#include <netdb.h>

#include "cares.h"

typedef struct hosts_cache hosts_cache;

/* The file both directions read: $CARES_HOSTS when it was set (cares_hosts, read on the Python
 * thread when the lookup was submitted), else /etc/hosts. */
const char *hosts_path(const char *cares_hosts);

/* Forward: the addresses of `name` (family AF_INET, AF_INET6 or AF_UNSPEC), as c-ares 1.18's
 * getaddrinfo file step finds them (every matching line, file order; "localhost" falls back to
 * the loopback addresses). *out is allocated on success and on ENOTFOUND when lines matched
 * without an address of the family (their CNAME entries are kept, as c-ares does); free it with
 * hosts_addrinfo_free. Returns ARES_SUCCESS, ARES_ENOTFOUND, ARES_EFILE or ARES_ENOMEM. */
int hosts_forward(hosts_cache **cache, const char *path, const char *name, int family, int want_cname, struct ares_addrinfo **out);

/* Reverse: the first line holding the address, as a hostent (one address) in *out; free with
 * hosts_hostent_free. Returns ARES_SUCCESS, ARES_ENOTFOUND, ARES_EFILE or ARES_ENOMEM. */
int hosts_reverse(hosts_cache **cache, const char *path, int family, const void *addr, struct hostent **out);

void hosts_addrinfo_free(struct ares_addrinfo *ai);
void hosts_hostent_free(struct hostent *h);
void hosts_cache_free(hosts_cache *cache);

#endif
