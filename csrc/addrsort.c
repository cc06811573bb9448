/* RFC 6724 destination ordering, with the rules and tables c-ares uses (see addrsort.h). */
#include "addrsort.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { SCOPE_NODE = 0x1, SCOPE_LINK = 0x2, SCOPE_SITE = 0x5, SCOPE_GLOBAL = 0xe };

typedef struct {
    struct ares_addrinfo_node *node;
    int usable; /* a source address exists for it */
    struct sockaddr_storage src;
    int order;
} sort_item;

static const struct in6_addr *in6(const struct sockaddr *sa)
{
    return &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
}

static int scope_of(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        uint32_t a = ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr);
        /* 127/8 and 169.254/16 are link-local; every other IPv4 address is global (RFC 6724 3.2) */
        return ((a >> 24) == 127 || (a >> 16) == 0xa9fe) ? SCOPE_LINK : SCOPE_GLOBAL;
    }
    if (sa->sa_family != AF_INET6)
        return SCOPE_NODE;
    const struct in6_addr *a = in6(sa);
    if (IN6_IS_ADDR_MULTICAST(a))
        return a->s6_addr[1] & 0x0f;
    if (IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_LINKLOCAL(a))
        return SCOPE_LINK;
    if (IN6_IS_ADDR_SITELOCAL(a))
        return SCOPE_SITE;
    return SCOPE_GLOBAL;
}

/* The policy table (RFC 6724 2.1, with the 6bone and site-local rows c-ares keeps):
 * label and precedence of an address. */
static void policy_of(const struct sockaddr *sa, int *label, int *precedence)
{
    if (sa->sa_family == AF_INET) {
        *label = 4, *precedence = 35;
        return;
    }
    if (sa->sa_family != AF_INET6) {
        *label = 1, *precedence = 1;
        return;
    }
    const struct in6_addr *a = in6(sa);
    const unsigned char *b = a->s6_addr;
    if (IN6_IS_ADDR_LOOPBACK(a))
        *label = 0, *precedence = 50;
    else if (IN6_IS_ADDR_V4MAPPED(a))
        *label = 4, *precedence = 35;
    else if (b[0] == 0x20 && b[1] == 0x02) /* 6to4 2002::/16 */
        *label = 2, *precedence = 30;
    else if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0) /* Teredo 2001::/32 */
        *label = 5, *precedence = 5;
    else if ((b[0] & 0xfe) == 0xfc) /* ULA fc00::/7 */
        *label = 13, *precedence = 3;
    else if (IN6_IS_ADDR_V4COMPAT(a))
        *label = 3, *precedence = 1;
    else if (IN6_IS_ADDR_SITELOCAL(a))
        *label = 11, *precedence = 1;
    else if (b[0] == 0x3f && b[1] == 0xfe) /* 6bone 3ffe::/16 */
        *label = 12, *precedence = 1;
    else
        *label = 1, *precedence = 40;
}

static int common_prefix(const struct in6_addr *x, const struct in6_addr *y)
{
    for (int i = 0; i < 16; i++) {
        unsigned diff = (unsigned)(x->s6_addr[i] ^ y->s6_addr[i]);
        if (diff == 0)
            continue;
        int bits = 0;
        while (!(diff & 0x80u)) {
            diff <<= 1;
            bits++;
        }
        return i * 8 + bits;
    }
    return 128;
}

static int compare(const void *pa, const void *pb)
{
    const sort_item *a = pa, *b = pb;
    const struct sockaddr *da = a->node->ai_addr, *db = b->node->ai_addr;
    const struct sockaddr *sa = (const struct sockaddr *)&a->src, *sb = (const struct sockaddr *)&b->src;
    if (a->usable != b->usable) /* rule 1 */
        return b->usable - a->usable;
    int scope_da = scope_of(da), scope_db = scope_of(db);
    int match_a = (a->usable ? scope_of(sa) : SCOPE_NODE) == scope_da;
    int match_b = (b->usable ? scope_of(sb) : SCOPE_NODE) == scope_db;
    if (match_a != match_b) /* rule 2 */
        return match_b - match_a;
    int label_da, label_db, prec_a, prec_b, label_sa = 1, label_sb = 1, unused;
    policy_of(da, &label_da, &prec_a);
    policy_of(db, &label_db, &prec_b);
    if (a->usable)
        policy_of(sa, &label_sa, &unused);
    if (b->usable)
        policy_of(sb, &label_sb, &unused);
    match_a = label_sa == label_da;
    match_b = label_sb == label_db;
    if (match_a != match_b) /* rule 5 */
        return match_b - match_a;
    if (prec_a != prec_b) /* rule 6 */
        return prec_b - prec_a;
    if (scope_da != scope_db) /* rule 8 */
        return scope_da - scope_db;
    if (a->usable && b->usable && da->sa_family == AF_INET6 && db->sa_family == AF_INET6) { /* rule 9 */
        int pa_len = common_prefix(in6(sa), in6(da)), pb_len = common_prefix(in6(sb), in6(db));
        if (pa_len != pb_len)
            return pb_len - pa_len;
    }
    return a->order - b->order; /* rule 10: qsort is not stable */
}

/* The source address the kernel would use for dst: a connected, never used UDP socket. Returns
 * 1 with *src set, 0 when dst is unreachable. */
static int source_for(const struct sockaddr *dst, struct sockaddr_storage *src)
{
    socklen_t len = dst->sa_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    if (dst->sa_family != AF_INET && dst->sa_family != AF_INET6)
        return 0;
    int fd = socket(dst->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);
    if (fd < 0)
        return 0;
    int rc;
    do
        rc = connect(fd, dst, len);
    while (rc < 0 && errno == EINTR);
    socklen_t slen = sizeof(*src);
    int ok = rc == 0 && getsockname(fd, (struct sockaddr *)src, &slen) == 0;
    close(fd);
    return ok;
}

int addr_sort(struct ares_addrinfo_node **list)
{
    size_t n = 0;
    for (struct ares_addrinfo_node *it = *list; it != NULL; it = it->ai_next)
        n++;
    if (n < 2)
        return 0;
    sort_item *items = calloc(n, sizeof(*items));
    if (items == NULL)
        return -1;
    size_t i = 0;
    for (struct ares_addrinfo_node *it = *list; it != NULL; it = it->ai_next, i++) {
        items[i].node = it;
        items[i].order = (int)i;
        items[i].usable = it->ai_addr != NULL && source_for(it->ai_addr, &items[i].src);
    }
    qsort(items, n, sizeof(*items), compare);
    *list = items[0].node;
    for (i = 0; i + 1 < n; i++)
        items[i].node->ai_next = items[i + 1].node;
    items[n - 1].node->ai_next = NULL;
    free(items);
    return 0;
}
