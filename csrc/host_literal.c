/* What the C library answers without any lookup (see host_literal.h). */
#include "host_literal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The C library's getaddrinfo on a numeric host, or none, looks nothing up: it only reads
 * /etc/services. Asking it gives exactly the socket types, protocols, ports and (for literals)
 * addresses socket.getaddrinfo lists, on every c-ares version. */

static int eai_to_ares(int eai)
{
    switch (eai) {
    case EAI_SERVICE:
        return ARES_ESERVICE;
    case EAI_SOCKTYPE:
        return ARES_EBADHINTS;
    case EAI_BADFLAGS:
        return ARES_EBADFLAGS;
    case EAI_FAMILY:
        return ARES_EBADFAMILY;
    case EAI_MEMORY:
        return ARES_ENOMEM;
    case EAI_NONAME:
#ifdef EAI_ADDRFAMILY
    case EAI_ADDRFAMILY:
#endif
#ifdef EAI_NODATA
    case EAI_NODATA:
#endif
        return ARES_ENOTFOUND;
    default:
        return ARES_EBADHINTS;
    }
}

static int system_flags(int aflags)
{
    return ((aflags & ARES_AI_PASSIVE) ? AI_PASSIVE : 0) | ((aflags & ARES_AI_NUMERICSERV) ? AI_NUMERICSERV : 0) |
           ((aflags & ARES_AI_V4MAPPED) ? AI_V4MAPPED : 0) | ((aflags & ARES_AI_ALL) ? AI_ALL : 0);
}

static int is_number(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

static int system_getaddrinfo(const char *host, const char *service, int family, int socktype, int protocol,
                              int aflags, struct addrinfo **out)
{
    struct addrinfo hints;
    /* AI_NUMERICSERV with a service name: the system says "no such name"; it is a service error. */
    if (service != NULL && (aflags & ARES_AI_NUMERICSERV) && !is_number(service))
        return ARES_ESERVICE;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = family;
    hints.ai_socktype = socktype;
    hints.ai_protocol = protocol;
    hints.ai_flags = system_flags(aflags) | (host != NULL ? AI_NUMERICHOST : 0);
    int rc;
    Py_BEGIN_ALLOW_THREADS /* AI_ADDRCONFIG asks the kernel; a service name reads NSS */
    rc = getaddrinfo(host, service, &hints, out);
    Py_END_ALLOW_THREADS
    return rc == 0 ? ARES_SUCCESS : eai_to_ares(rc);
}

/* The port libcares 1.34 (pycares 4.11's) gives a service: none → 0; a name /etc/services knows
 * for tcp (unless NUMERICSERV); else the number strtoul() reads, at most 65535. One deliberate
 * difference: text with no number at all is ARES_ESERVICE, where libcares looks up port 0. */
int cares_port(const char *service, int aflags, int *port)
{
    *port = 0;
    if (service == NULL)
        return ARES_SUCCESS;
    /* Digits only cannot be a service name (RFC 6335: names contain a letter), so "80" skips
     * the NSS lookup, which parses /etc/services on every call (most of getaddrinfo's cost). */
    int digits = service[0] != '\0' && strspn(service, "0123456789") == strlen(service);
    if (!(aflags & ARES_AI_NUMERICSERV) && !digits) {
        struct servent se, *found = NULL;
        char buf[4096];
        int rc;
        Py_BEGIN_ALLOW_THREADS /* NSS may read files or ask a daemon */
        rc = getservbyname_r(service, "tcp", &se, buf, sizeof(buf), &found);
        Py_END_ALLOW_THREADS
        if (rc == 0 && found != NULL && ntohs((unsigned short)found->s_port) != 0) {
            *port = ntohs((unsigned short)found->s_port);
            return ARES_SUCCESS;
        }
    }
    char *end;
    errno = 0;
    unsigned long v = strtoul(service, &end, 0);
    if (end == service || (v == 0 && errno != 0) || v > 65535)
        return ARES_ESERVICE;
    *port = (int)v;
    return ARES_SUCCESS;
}

/* libcares' shape for every address: one node, the hints' socket type and protocol, the port. */
void gai_plan_make(int family, int socktype, int protocol, int aflags, int port, gai_plan *plan)
{
    plan->n = 1;
    plan->family = family;
    plan->flags = aflags;
    plan->e[0].socktype = socktype;
    plan->e[0].protocol = protocol;
    plan->e[0].port = port;
}

/* The whole answer for a literal host or none. */
int sys_answer_make(const char *host, int port, int family, int socktype, int protocol, int aflags,
                           sys_answer **out)
{
    struct addrinfo *res;
    /* one entry per address (SOCK_STREAM), then libcares' node shape: the hints' type and protocol */
    int rc = system_getaddrinfo(host, NULL, family, SOCK_STREAM, 0, aflags, &res), n = 0;
    if (rc != ARES_SUCCESS)
        return rc;
    for (struct addrinfo *it = res; it != NULL; it = it->ai_next)
        n++;
    sys_answer *ans = malloc(sizeof(*ans) + (size_t)n * sizeof(ans->e[0]));
    if (ans == NULL) {
        freeaddrinfo(res);
        return ARES_ENOMEM;
    }
    ans->n = 0;
    for (struct addrinfo *it = res; it != NULL; it = it->ai_next) {
        if (it->ai_addrlen > sizeof(struct sockaddr_storage))
            continue;
        memset(&ans->e[ans->n].sa, 0, sizeof(ans->e[ans->n].sa));
        memcpy(&ans->e[ans->n].sa, it->ai_addr, it->ai_addrlen);
        if (it->ai_family == AF_INET)
            ((struct sockaddr_in *)&ans->e[ans->n].sa)->sin_port = htons((unsigned short)port);
        else
            ((struct sockaddr_in6 *)&ans->e[ans->n].sa)->sin6_port = htons((unsigned short)port);
        ans->e[ans->n].socktype = socktype;
        ans->e[ans->n].protocol = protocol;
        ans->n++;
    }
    freeaddrinfo(res);
    *out = ans;
    return ARES_SUCCESS;
}

int is_literal(const char *name)
{
    unsigned char addr[16];
    return inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1;
}

/* "LocalHost" is localhost: c-ares 1.18 only knows it in lower case. */
void fold_localhost(char *name)
{
    if (strcasecmp(name, "localhost") == 0 || strcasecmp(name, "localhost.") == 0)
        for (char *p = name; *p; p++)
            *p = (char)tolower((unsigned char)*p);
}

static char *alias_in_file(const char *path, const char *name);

/* HOSTALIASES, as c-ares applies it before its hosts-file step: a name without a dot may be
 * another name's alias ("alias name" lines). NULL when it is not. */
char *host_alias(const char *name, int noaliases)
{
    const char *env = getenv("HOSTALIASES"); /* GIL held: no os.putenv() meanwhile */
    if (env == NULL || strchr(name, '.') != NULL || noaliases)
        return NULL;
    char *path = strdup(env);
    if (path == NULL)
        return NULL;
    char *found = NULL;
    /* The file may be anywhere (a slow or hung file system): read it without the GIL. */
    Py_BEGIN_ALLOW_THREADS
    found = alias_in_file(path, name);
    Py_END_ALLOW_THREADS
    free(path);
    return found;
}

/* The first "name alias-target" line of the file for name; NULL if none. No Python. */
static char *alias_in_file(const char *path, const char *name)
{
    FILE *fp = fopen(path, "re");
    if (fp == NULL)
        return NULL;
    char line[1024];
    size_t n = strlen(name);
    char *found = NULL;
    while (found == NULL && fgets(line, sizeof(line), fp) != NULL) {
        if (strncasecmp(line, name, n) != 0 || !isspace((unsigned char)line[n]))
            continue;
        char *p = line + n;
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '\0')
            continue;
        size_t len = 1;
        while (p[len] && !isspace((unsigned char)p[len]))
            len++;
        found = strndup(p, len);
    }
    fclose(fp);
    return found;
}

/* A hosts file named by CARES_HOSTS is read as c-ares >= 1.22 does by itself (1.18 reads it only
 * for getaddrinfo with ARES_AI_ENVHOSTS). */
int implied_flags(void)
{
    return getenv("CARES_HOSTS") != NULL ? ARES_AI_ENVHOSTS : 0;
}

int literal_parse(const char *name, int family, int flags, const char *service, int socktype, int protocol,
                  int as_host, literal_copy *out, int *status_out)
{
    literal_copy lc;
    memset(&lc, 0, sizeof(lc));
    if (inet_pton(AF_INET, name, lc.addr) == 1)
        lc.family = AF_INET;
    else if (inet_pton(AF_INET6, name, lc.addr) == 1)
        lc.family = AF_INET6;
    else
        return 0;
    int status = ARES_SUCCESS;
    if (family == AF_INET6 && lc.family == AF_INET && (flags & ARES_AI_V4MAPPED) && !as_host) {
        memmove(lc.addr + 12, lc.addr, 4); /* ::ffff:a.b.c.d */
        memset(lc.addr, 0, 10);
        lc.addr[10] = lc.addr[11] = 0xFF;
        lc.family = AF_INET6;
    } else if (family != AF_UNSPEC && family != lc.family) {
        status = ARES_ENOTFOUND; /* no address of the asked family */
    }
    if (service != NULL) {
        char *end;
        long port = strtol(service, &end, 10);
        if (*end == '\0' && port >= 0 && port <= 65535) {
            lc.port = (int)port;
        } else if (flags & ARES_AI_NUMERICSERV) {
            status = ARES_ESERVICE;
        } else {
            struct servent se, *found = NULL;
            char tmp[1024];
            const char *proto = socktype == SOCK_DGRAM ? "udp" : "tcp";
            Py_BEGIN_ALLOW_THREADS /* NSS may read files or ask a daemon */
            getservbyname_r(service, proto, &se, tmp, sizeof(tmp), &found);
            Py_END_ALLOW_THREADS
            if (found != NULL)
                lc.port = ntohs((unsigned short)found->s_port);
            else
                status = ARES_ESERVICE;
        }
    }
    lc.socktype = socktype;
    lc.protocol = protocol;
    *out = lc;
    *status_out = status;
    return 1;
}
