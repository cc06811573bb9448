/* The c-ares calls later releases deprecate, made here only (see cares.h), and ares_cancel made
 * safe on old releases. The pragma is local to this file on purpose: a deprecation anywhere else
 * is reported. */
#include "cares.h"

#include <stddef.h>

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

/* Whether ares_getsock reports a socket libcares wants to write to (a queued TCP send), and
 * whether it reports any socket at all. A full table may hide more: counted as both. */
static void tcp_state(ares_channel ch, int *writing, int *open)
{
    ares_socket_t socks[ARES_GETSOCK_MAXNUM];
    int bits = ares_getsock(ch, socks, ARES_GETSOCK_MAXNUM);
    int full = ARES_GETSOCK_READABLE(bits, ARES_GETSOCK_MAXNUM - 1) ||
               ARES_GETSOCK_WRITABLE(bits, ARES_GETSOCK_MAXNUM - 1);
    *writing = full;
    *open = full || bits != 0;
    for (int i = 0; i < ARES_GETSOCK_MAXNUM; i++)
        if (ARES_GETSOCK_WRITABLE(bits, i))
            *writing = 1;
}

/* c-ares < 1.20 frees each cancelled query's TCP buffer while the servers' queues of unsent TCP
 * data still point into it. Those queues go with the sockets, which ares_cancel closes only when
 * no query is left and ARES_FLAG_STAYOPEN is off; otherwise the next ares_process_fd writes freed
 * memory to the server (or crashes). A queued send shows as a writable socket while its query
 * lives. If there was one and a socket is still open after the cancel, the same servers are set
 * again (allowed once no query is left): that closes the sockets and drops their queues. */
int compat_cancel(ares_channel ch)
{
    int version = 0, writing = 0, open = 0;
    ares_version(&version);
    if (version >= 0x011400) {
        ares_cancel(ch);
        return ARES_SUCCESS;
    }
    tcp_state(ch, &writing, &open);
    ares_cancel(ch);
    if (!writing)
        return ARES_SUCCESS;
    tcp_state(ch, &writing, &open);
    if (!open)
        return ARES_SUCCESS;
    struct ares_addr_port_node *servers = NULL;
    int rc = ares_get_servers_ports(ch, &servers);
    if (rc != ARES_SUCCESS) {
        /* Without its list the channel still must not write freed memory: it loses its
         * servers (later queries fail with ARES_ENOSERVER) and the caller reports rc. */
        ares_set_servers_ports(ch, NULL);
        return rc;
    }
    rc = ares_set_servers_ports(ch, servers);
    ares_free_data(servers);
    return rc;
}
