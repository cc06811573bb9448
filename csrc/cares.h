/* The one place c-ares is included.
 *
 * pycares_ng builds against c-ares 1.18 to 1.34 and later. Newer releases mark some of the
 * classic calls it needs on every version deprecated (ares_query, ares_search, ares_getsock,
 * the server-list calls): those are made in compat.c only, under a local pragma, so any other
 * use of a deprecated declaration — a new one in a later c-ares included — is a warning (an
 * error in CI) where it is written. */
#ifndef PYCARES_NG_CARES_H
#define PYCARES_NG_CARES_H

#include <ares.h>

#ifndef ARES_FLAG_NO_DFLT_SVR
#define ARES_FLAG_NO_DFLT_SVR (1 << 9) /* c-ares >= 1.22; a no-op on older libraries */
#endif

#ifndef ARES_ENOSERVER
#define ARES_ENOSERVER 26 /* c-ares >= 1.32; pycares_ng reports it on older libraries too */
#endif

/* compat.c: the calls c-ares >= 1.28 deprecates, which pycares_ng still needs (the legacy query
 * path for c-ares < 1.28, pycares 4's getsock(), server lists with ports on every version). */
void compat_query(ares_channel ch, const char *name, int dnsclass, int type, ares_callback cb, void *arg);
void compat_search(ares_channel ch, const char *name, int dnsclass, int type, ares_callback cb, void *arg);
int compat_getsock(ares_channel ch, ares_socket_t *socks, int numsocks);
int compat_get_servers_ports(ares_channel ch, struct ares_addr_port_node **servers);
int compat_set_servers_ports(ares_channel ch, struct ares_addr_port_node *servers);

/* ares_cancel, made safe on c-ares < 1.20 (see compat.c). Returns an ARES_ status: ARES_ENOMEM
 * if the sockets had to be reset and could not keep their server list. */
int compat_cancel(ares_channel ch);

#endif
