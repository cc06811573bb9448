/* Copies of what libcares hands host lookups' callbacks (see hostdata.h). */
#include "hostdata.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

host_copy *host_copy_new(const struct hostent *h)
{
    const char *name = h->h_name ? h->h_name : "";
    size_t naliases = 0, naddrs = 0, text = strlen(name) + 1;
    while (h->h_aliases != NULL && h->h_aliases[naliases] != NULL)
        text += strlen(h->h_aliases[naliases++]) + 1;
    while (h->h_addr_list != NULL && h->h_addr_list[naddrs] != NULL)
        naddrs++;
    text += naddrs * INET6_ADDRSTRLEN;
    size_t ptrs = (naliases + 1 + naddrs + 1) * sizeof(char *);
    host_copy *hc = malloc(sizeof(*hc) + ptrs + text);
    if (hc == NULL)
        return NULL;
    hc->aliases = (char **)(hc + 1);
    hc->addrs = hc->aliases + naliases + 1;
    char *p = (char *)(hc->addrs + naddrs + 1);
    hc->name = p;
    p = stpcpy(p, name) + 1;
    for (size_t i = 0; i < naliases; i++) {
        hc->aliases[i] = p;
        p = stpcpy(p, h->h_aliases[i]) + 1;
    }
    hc->aliases[naliases] = NULL;
    size_t n = 0;
    for (size_t i = 0; i < naddrs; i++) {
        if (inet_ntop(h->h_addrtype, h->h_addr_list[i], p, INET6_ADDRSTRLEN) != NULL) {
            hc->addrs[n++] = p;
            p += INET6_ADDRSTRLEN;
        }
    }
    hc->addrs[n] = NULL;
    return hc;
}

nameinfo_copy *nameinfo_copy_new(const char *node, const char *service)
{
    size_t nn = node ? strlen(node) + 1 : 1, ns = service ? strlen(service) + 1 : 0;
    nameinfo_copy *nc = malloc(sizeof(*nc) + nn + ns);
    if (nc == NULL)
        return NULL;
    nc->node = (char *)(nc + 1);
    strcpy(nc->node, node ? node : "");
    nc->service = service ? strcpy(nc->node + nn, service) : NULL;
    return nc;
}
