/* Destination address selection (RFC 6724) for getaddrinfo results (addrsort.c). */
#ifndef PYCARES_NG_ADDRSORT_H
#define PYCARES_NG_ADDRSORT_H

#include "cares.h"

/* Orders *list by the rules c-ares applies (1: usable destinations first, 2: matching scope,
 * 5: matching label, 6: precedence, 8: smaller scope, 9: longest matching prefix for IPv6, 10:
 * stable). pycares_ng asks libcares with ARES_AI_NOSORT and sorts here, so a single address costs
 * nothing: c-ares would open and connect a UDP socket for it to learn a source address that
 * cannot reorder a one-element list. Lists of two or more are probed the same way c-ares does.
 * Returns 0, or -1 when out of memory (the list is then left as it was). */
int addr_sort(struct ares_addrinfo_node **list);

#endif
