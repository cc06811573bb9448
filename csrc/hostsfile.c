/* The hosts file, parsed once and kept until it changes (see hostsfile.h).
 *
 * Called with the channel lock held (the cache belongs to the channel), maybe without the GIL:
 * plain C, no Python. */
#include "hostsfile.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define HOSTS_FILE "/etc/hosts"
#define MAX_CNAME_ALIASES 40 /* c-ares 1.18 lists at most this many aliases of a line as CNAMEs */
#define MAX_FILE_SIZE (64u << 20)

typedef struct {
    int has4, has6;
    struct in_addr a4;
    struct in6_addr a6;
    char *host;
    char **aliases; /* NULL-terminated, into the cache's alias array */
    size_t naliases;
} hosts_line;

struct hosts_cache {
    char *path;
    int missing; /* the file did not exist at the last check */
    struct stat st;
    char *text; /* the file, cut into NUL-terminated tokens */
    hosts_line *lines;
    size_t nlines;
    char **alias_store;
};

const char *hosts_path(const char *cares_hosts)
{
    /* c-ares 1.18 uses $CARES_HOSTS whenever it is set (pycares_ng asks with ARES_AI_ENVHOSTS). */
    return cares_hosts != NULL ? cares_hosts : HOSTS_FILE;
}

static int is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\v' || ch == '\f' || ch == '\r';
}

static void cache_clear(hosts_cache *c)
{
    free(c->text);
    free(c->lines);
    free(c->alias_store);
    c->text = NULL;
    c->lines = NULL;
    c->alias_store = NULL;
    c->nlines = 0;
}

void hosts_cache_free(hosts_cache *c)
{
    if (c == NULL)
        return;
    cache_clear(c);
    free(c->path);
    free(c);
}

static int read_all(int fd, size_t size, char **out, size_t *len)
{
    size_t cap = size + 1, n = 0;
    char *buf = malloc(cap + 1);
    if (buf == NULL)
        return ARES_ENOMEM;
    for (;;) {
        if (n == cap) { /* the file grew since fstat */
            if (cap >= MAX_FILE_SIZE) {
                free(buf);
                return ARES_EFILE;
            }
            char *bigger = realloc(buf, cap * 2 + 1);
            if (bigger == NULL) {
                free(buf);
                return ARES_ENOMEM;
            }
            buf = bigger;
            cap *= 2;
        }
        ssize_t got = read(fd, buf + n, cap - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0 && errno == EISDIR)
            break; /* c-ares opens a directory and reads nothing from it */
        if (got < 0) {
            free(buf);
            return ARES_EFILE;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return ARES_SUCCESS;
}

/* One line, as c-ares 1.18 reads it: comment cut at '#', then "address host alias...". Returns 0
 * if the line holds no entry. Tokens are NUL-terminated in place; alias pointers go to *aliases. */
/* ---- addresses as c-ares 1.18 reads them ------------------------------------------------------
 * Debian's libcares 1.18 reads hosts-file addresses with its own inet_net_pton, which takes more
 * than inet_pton: a /prefix suffix, leading zeros ("0192.0.2.1" is 192.0.2.1), hex ("0x7f000001"),
 * and fewer than four octets widened by address class. The same forms are accepted here; where
 * c-ares leaves bytes unwritten ("10" alone) they are zero here. */

static int digit_value(int ch)
{
    return ch >= '0' && ch <= '9' ? ch - '0' : -1;
}

static int hex_value(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

static int read_v4(const char *s, unsigned char out[4])
{
    unsigned char buf[4] = {0};
    size_t n = 0;
    int prefix = -1;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && hex_value((unsigned char)s[2]) >= 0) {
        int nibbles = 0, acc = 0;
        for (s += 2; hex_value((unsigned char)*s) >= 0; s++) {
            acc = (acc << 4) | hex_value((unsigned char)*s);
            if (++nibbles == 2) {
                if (n == 4)
                    return 0;
                buf[n++] = (unsigned char)acc;
                nibbles = acc = 0;
            }
        }
        if (nibbles) {
            if (n == 4)
                return 0;
            buf[n++] = (unsigned char)(acc << 4);
        }
    } else if (digit_value((unsigned char)*s) >= 0) {
        for (;;) {
            int v = 0;
            do {
                v = v * 10 + digit_value((unsigned char)*s++);
                if (v > 255)
                    return 0;
            } while (digit_value((unsigned char)*s) >= 0);
            if (n == 4)
                return 0;
            buf[n++] = (unsigned char)v;
            if (*s == '\0' || *s == '/')
                break;
            if (*s != '.' || digit_value((unsigned char)s[1]) < 0)
                return 0;
            s++;
        }
    } else {
        return 0;
    }
    if (*s == '/' && digit_value((unsigned char)s[1]) >= 0) {
        prefix = 0;
        for (s++; digit_value((unsigned char)*s) >= 0; s++)
            if ((prefix = prefix * 10 + digit_value((unsigned char)*s)) > 32)
                return 0;
    }
    if (*s != '\0')
        return 0;
    if (prefix < 0) { /* the class of the network decides its width */
        prefix = buf[0] >= 240 ? 32 : buf[0] >= 224 ? 8 : buf[0] >= 192 ? 24 : buf[0] >= 128 ? 16 : 8;
        if ((size_t)prefix < n * 8)
            prefix = (int)n * 8;
        if (prefix == 8 && buf[0] == 224)
            prefix = 4;
    }
    memcpy(out, buf, 4);
    return 1;
}

/* A /prefix length for IPv6: 0..128, decimal, no leading zeros, nothing after it. */
static int v6_prefix(const char *s, int *prefix)
{
    int v = 0, n = 0;
    for (; *s; s++) {
        int d = digit_value((unsigned char)*s);
        if (d < 0 || (n++ != 0 && v == 0) || (v = v * 10 + d) > 128)
            return 0;
    }
    if (n == 0)
        return 0;
    *prefix = v;
    return 1;
}

/* A dotted IPv4 tail of an IPv6 address: up to four decimal parts without leading zeros, maybe
 * a /prefix. */
static int v6_v4_tail(const char *s, unsigned char *dst, int *prefix)
{
    int v = 0, n = 0;
    size_t written = 0;
    for (; *s; s++) {
        int d = digit_value((unsigned char)*s);
        if (d >= 0) {
            if ((n++ != 0 && v == 0) || (v = v * 10 + d) > 255)
                return 0;
            continue;
        }
        if (*s != '.' && *s != '/')
            return 0;
        if (written > 3)
            return 0;
        dst[written++] = (unsigned char)v;
        if (*s == '/')
            return v6_prefix(s + 1, prefix);
        v = n = 0;
    }
    if (n == 0 || written > 3)
        return 0;
    dst[written] = (unsigned char)v;
    return 1;
}

static int read_v6(const char *s, unsigned char out[16])
{
    unsigned char buf[16] = {0};
    size_t tp = 0, gap = (size_t)-1;
    const char *token;
    unsigned val = 0;
    int digits = 0, seen = 0, prefix = -1, v4 = 0;
    if (*s == ':' && *++s != ':')
        return 0;
    token = s;
    for (int ch; (ch = (unsigned char)*s++) != '\0';) {
        int h = hex_value(ch);
        if (h >= 0) {
            val = (val << 4) | (unsigned)h;
            if (++digits > 4)
                return 0;
            seen = 1;
            continue;
        }
        if (ch == ':') {
            token = s;
            if (!seen) {
                if (gap != (size_t)-1)
                    return 0;
                gap = tp;
                continue;
            }
            if (*s == '\0' || tp + 2 > 16)
                return 0; /* (c-ares leaves the address unwritten when there are too many groups) */
            buf[tp++] = (unsigned char)(val >> 8);
            buf[tp++] = (unsigned char)val;
            seen = digits = 0;
            val = 0;
            continue;
        }
        if (ch == '.' && tp + 4 <= 16 && v6_v4_tail(token, buf + tp, &prefix)) {
            tp += 4;
            seen = 0;
            v4 = 1;
            break;
        }
        if (ch == '/' && v6_prefix(s, &prefix))
            break;
        return 0;
    }
    if (seen) {
        if (tp + 2 > 16)
            return 0;
        buf[tp++] = (unsigned char)(val >> 8);
        buf[tp++] = (unsigned char)val;
    }
    if (prefix < 0)
        prefix = 128;
    size_t words = (size_t)(prefix + 15) / 16;
    if (words < 2)
        words = 2;
    if (v4)
        words = 8;
    size_t end = 2 * words;
    if (gap != (size_t)-1) { /* "::": what follows it moves to the end, zeros in between */
        size_t n = tp - gap;
        if (tp == end || n > end)
            return 0; /* (n > end: c-ares would write before its buffer) */
        for (size_t i = 1; i <= n; i++) { /* byte by byte, as c-ares: the ranges may overlap */
            buf[end - i] = buf[gap + n - i];
            buf[gap + n - i] = 0;
        }
        tp = end;
    }
    if (tp != end)
        return 0;
    size_t bytes = (size_t)(prefix + 7) / 8;
    memset(out, 0, 16);
    memcpy(out, buf, bytes);
    return 1;
}

static int parse_line(char *line, hosts_line *hl, char **aliases, size_t *naliases)
{
    char *p = line, *q;
    while (*p && *p != '#')
        p++;
    *p = '\0';
    q = p;
    while (q > line && is_space(q[-1]))
        q--;
    *q = '\0';
    p = line;
    while (*p && is_space(*p))
        p++;
    if (!*p)
        return 0;
    char *addr = p;
    while (*p && !is_space(*p))
        p++;
    if (!*p)
        return 0; /* an address alone */
    *p++ = '\0';
    while (*p && is_space(*p))
        p++;
    hl->host = p;
    while (*p && !is_space(*p))
        p++;
    *naliases = 0;
    if (*p) {
        *p++ = '\0';
        for (;;) {
            while (*p && is_space(*p))
                p++;
            if (!*p)
                break;
            aliases[(*naliases)++] = p;
            while (*p && !is_space(*p))
                p++;
            if (*p)
                *p++ = '\0';
        }
    }
    hl->has4 = read_v4(addr, (unsigned char *)&hl->a4);
    hl->has6 = read_v6(addr, hl->a6.s6_addr);
    return 1;
}

static int parse(hosts_cache *c, char *text, size_t len)
{
    size_t maxlines = 1, maxtokens = 0;
    for (size_t i = 0; i < len; i++) {
        maxlines += text[i] == '\n';
        maxtokens += !is_space(text[i]) && (i == 0 || is_space(text[i - 1]));
    }
    /* A NUL byte ends its line for c-ares; what follows it on that line is ignored here too. */
    hosts_line *lines = calloc(maxlines, sizeof(*lines));
    char **store = malloc((maxtokens + maxlines + 1) * sizeof(char *));
    if (lines == NULL || store == NULL) {
        free(lines);
        free(store);
        return ARES_ENOMEM;
    }
    size_t n = 0, used = 0;
    char *line = text, *end = text + len;
    while (line < end) {
        char *nl = memchr(line, '\n', (size_t)(end - line));
        char *next = nl ? nl + 1 : end;
        if (nl)
            *nl = '\0';
        size_t na = 0;
        if (parse_line(line, &lines[n], store + used, &na)) {
            lines[n].aliases = store + used;
            lines[n].naliases = na;
            used += na;
            store[used++] = NULL;
            n++;
        }
        line = next;
    }
    c->text = text;
    c->lines = lines;
    c->nlines = n;
    c->alias_store = store;
    return ARES_SUCCESS;
}

static int same_stat(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
           a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* The current parse of the file: one stat() when nothing changed. ENOTFOUND: no such file. */
static int cache_get(hosts_cache **cp, const char *path, hosts_cache **out)
{
    hosts_cache *c = *cp;
    if (c == NULL) {
        if ((c = calloc(1, sizeof(*c))) == NULL)
            return ARES_ENOMEM;
        *cp = c;
    }
    if (c->path == NULL || strcmp(c->path, path) != 0) {
        char *copy = strdup(path);
        if (copy == NULL)
            return ARES_ENOMEM;
        free(c->path);
        c->path = copy;
        cache_clear(c);
        c->missing = 0;
        memset(&c->st, 0, sizeof(c->st));
        c->st.st_ino = (ino_t)-1; /* nothing cached yet */
    }
    struct stat st;
    if (stat(path, &st) != 0) {
        cache_clear(c);
        c->st.st_ino = (ino_t)-1;
        /* c-ares: a missing file is "not found", any other failure to open it an error. */
        return (errno == ENOENT || errno == ESRCH) ? ARES_ENOTFOUND : ARES_EFILE;
    }
    if (c->text != NULL && same_stat(&st, &c->st)) {
        *out = c;
        return ARES_SUCCESS;
    }
    cache_clear(c);
    c->st.st_ino = (ino_t)-1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return (errno == ENOENT || errno == ESRCH) ? ARES_ENOTFOUND : ARES_EFILE;
    struct stat fst;
    char *text = NULL;
    size_t len = 0;
    int rc = fstat(fd, &fst) != 0 ? ARES_EFILE : (size_t)fst.st_size > MAX_FILE_SIZE ? ARES_EFILE
                                                                                   : read_all(fd, (size_t)fst.st_size, &text, &len);
    close(fd);
    if (rc != ARES_SUCCESS)
        return rc;
    if ((rc = parse(c, text, len)) != ARES_SUCCESS) {
        free(text);
        return rc;
    }
    /* Remember what was read only if it is still what the path names (a rename mid-read). */
    if ((size_t)fst.st_size == len && same_stat(&fst, &st))
        c->st = st;
    *out = c;
    return ARES_SUCCESS;
}

/* ---- results, in our own allocations -------------------------------------------------------- */

void hosts_addrinfo_free(struct ares_addrinfo *ai)
{
    if (ai == NULL)
        return;
    for (struct ares_addrinfo_cname *cn = ai->cnames, *next; cn != NULL; cn = next) {
        next = cn->next;
        free(cn->alias);
        free(cn->name);
        free(cn);
    }
    for (struct ares_addrinfo_node *n = ai->nodes, *next; n != NULL; n = next) {
        next = n->ai_next;
        free(n->ai_addr);
        free(n);
    }
    free(ai->name);
    free(ai);
}

static int add_node(struct ares_addrinfo_node ***tail, int family, const void *addr)
{
    struct ares_addrinfo_node *n = calloc(1, sizeof(*n));
    if (n == NULL)
        return -1;
    if (family == AF_INET) {
        struct sockaddr_in *sa = calloc(1, sizeof(*sa));
        if (sa == NULL)
            goto fail;
        sa->sin_family = AF_INET;
        memcpy(&sa->sin_addr, addr, 4);
        n->ai_addr = (struct sockaddr *)sa;
        n->ai_addrlen = sizeof(*sa);
    } else {
        struct sockaddr_in6 *sa = calloc(1, sizeof(*sa));
        if (sa == NULL)
            goto fail;
        sa->sin6_family = AF_INET6;
        memcpy(&sa->sin6_addr, addr, 16);
        n->ai_addr = (struct sockaddr *)sa;
        n->ai_addrlen = sizeof(*sa);
    }
    n->ai_family = family;
    **tail = n;
    *tail = &n->ai_next;
    return 0;
fail:
    free(n);
    return -1;
}

static int add_cname(struct ares_addrinfo_cname ***tail, const char *alias, const char *name)
{
    struct ares_addrinfo_cname *cn = calloc(1, sizeof(*cn));
    if (cn == NULL)
        return -1;
    cn->ttl = INT_MAX; /* c-ares' TTL for names that come from no DNS record */
    **tail = cn; /* linked first, so a failure below is freed with the rest */
    *tail = &cn->next;
    if ((alias != NULL && (cn->alias = strdup(alias)) == NULL) || (cn->name = strdup(name)) == NULL)
        return -1;
    return 0;
}

int hosts_forward(hosts_cache **cache, const char *path, const char *name, int family, int want_cname, struct ares_addrinfo **out)
{
    hosts_cache *c = NULL;
    *out = NULL;
    int rc = cache_get(cache, path, &c);
    if (rc != ARES_SUCCESS)
        return rc; /* no file: not even localhost's fallback, as in c-ares */
    struct ares_addrinfo *ai = calloc(1, sizeof(*ai));
    if (ai == NULL || (ai->name = strdup(name)) == NULL)
        goto nomem;
    struct ares_addrinfo_node **ntail = &ai->nodes;
    struct ares_addrinfo_cname **ctail = &ai->cnames;
    for (size_t i = 0; i < c->nlines; i++) {
        const hosts_line *hl = &c->lines[i];
        int match = strcasecmp(hl->host, name) == 0;
        for (size_t k = 0; !match && k < hl->naliases; k++)
            match = strcasecmp(hl->aliases[k], name) == 0;
        if (!match)
            continue;
        if (hl->has4 && (family == AF_INET || family == AF_UNSPEC) && add_node(&ntail, AF_INET, &hl->a4) < 0)
            goto nomem;
        if (hl->has6 && (family == AF_INET6 || family == AF_UNSPEC) && add_node(&ntail, AF_INET6, &hl->a6) < 0)
            goto nomem;
        /* c-ares lists a matching line's names even when its address is not of the family. */
        if (want_cname) {
            size_t na = hl->naliases < MAX_CNAME_ALIASES ? hl->naliases : MAX_CNAME_ALIASES;
            for (size_t k = 0; k < na; k++)
                if (add_cname(&ctail, hl->aliases[k], hl->host) < 0)
                    goto nomem;
            if (na == 0 && add_cname(&ctail, NULL, hl->host) < 0)
                goto nomem;
        }
    }
    if (ai->nodes == NULL && strcmp(name, "localhost") == 0) {
        /* RFC 6761: localhost is the loopback even without a hosts-file entry (IPv6 first, as
         * c-ares lists them). */
        static const unsigned char v6[16] = {[15] = 1}, v4[4] = {127, 0, 0, 1};
        if ((family == AF_INET6 || family == AF_UNSPEC) && add_node(&ntail, AF_INET6, v6) < 0)
            goto nomem;
        if ((family == AF_INET || family == AF_UNSPEC) && add_node(&ntail, AF_INET, v4) < 0)
            goto nomem;
    }
    *out = ai;
    return ai->nodes != NULL ? ARES_SUCCESS : ARES_ENOTFOUND;
nomem:
    hosts_addrinfo_free(ai);
    return ARES_ENOMEM;
}

void hosts_hostent_free(struct hostent *h)
{
    free(h); /* one block */
}

int hosts_reverse(hosts_cache **cache, const char *path, int family, const void *addr, struct hostent **out)
{
    hosts_cache *c = NULL;
    *out = NULL;
    int rc = cache_get(cache, path, &c);
    if (rc != ARES_SUCCESS)
        return rc;
    for (size_t i = 0; i < c->nlines; i++) {
        const hosts_line *hl = &c->lines[i];
        if (family == AF_INET ? !(hl->has4 && memcmp(&hl->a4, addr, 4) == 0)
                              : !(hl->has6 && memcmp(&hl->a6, addr, 16) == 0))
            continue;
        /* One block: the struct, aliases[], addr_list[2], the address, the strings. */
        size_t text = strlen(hl->host) + 1;
        for (size_t k = 0; k < hl->naliases; k++)
            text += strlen(hl->aliases[k]) + 1;
        size_t ptrs = (hl->naliases + 1 + 2) * sizeof(char *);
        struct hostent *h = malloc(sizeof(*h) + ptrs + 16 + text);
        if (h == NULL)
            return ARES_ENOMEM;
        h->h_aliases = (char **)(h + 1);
        h->h_addr_list = h->h_aliases + hl->naliases + 1;
        char *a = (char *)(h->h_addr_list + 2), *p = a + 16;
        memcpy(a, family == AF_INET ? (const void *)&hl->a4 : (const void *)&hl->a6, family == AF_INET ? 4 : 16);
        h->h_addr_list[0] = a;
        h->h_addr_list[1] = NULL;
        h->h_addrtype = family;
        h->h_length = family == AF_INET ? 4 : 16;
        h->h_name = p;
        p = stpcpy(p, hl->host) + 1;
        for (size_t k = 0; k < hl->naliases; k++) {
            h->h_aliases[k] = p;
            p = stpcpy(p, hl->aliases[k]) + 1;
        }
        h->h_aliases[hl->naliases] = NULL;
        *out = h;
        return ARES_SUCCESS;
    }
    return ARES_ENOTFOUND;
}
