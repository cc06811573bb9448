/* The c-ares calls later releases deprecate, made here only (see cares.h). The pragma is local
 * to this file on purpose: a deprecation anywhere else is reported. */
#include "cares.h"

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif

void compat_query(ares_channel ch, const char *name, int dnsclass, int type, ares_callback cb, void *arg)
{
    ares_query(ch, name, dnsclass, type, cb, arg);
}

void compat_search(ares_channel ch, const char *name, int dnsclass, int type, ares_callback cb, void *arg)
{
    ares_search(ch, name, dnsclass, type, cb, arg);
}

int compat_getsock(ares_channel ch, ares_socket_t *socks, int numsocks)
{
    return ares_getsock(ch, socks, numsocks);
}

int compat_get_servers_ports(ares_channel ch, struct ares_addr_port_node **servers)
{
    return ares_get_servers_ports(ch, servers);
}

int compat_set_servers_ports(ares_channel ch, struct ares_addr_port_node *servers)
{
    return ares_set_servers_ports(ch, servers);
}
