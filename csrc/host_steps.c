/* Host lookups in steps on c-ares < 1.22 (see host_steps.h). */
#include "host_steps.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "hostsfile.h"

void fwd_steps_free(fwd_steps *s)
{
    free(s->files_name);
    free(s->cares_hosts);
    hosts_addrinfo_free(s->misses);
    s->files_name = s->cares_hosts = NULL;
    s->misses = NULL;
}

/* A hosts-file miss may still have matched lines (of another family): keep their CNAMEs. */
static void keep_misses(fwd_steps *s, struct ares_addrinfo *ai)
{
    if (ai->cnames != NULL && s->misses == NULL) {
        s->misses = ai;
        return;
    }
    if (ai->cnames != NULL) {
        struct ares_addrinfo_cname **tail = &s->misses->cnames;
        while (*tail != NULL)
            tail = &(*tail)->next;
        *tail = ai->cnames;
        ai->cnames = NULL;
    }
    hosts_addrinfo_free(ai);
}

static void on_fwd_dns(void *arg, int status, int timeouts, struct ares_addrinfo *res);

static void fwd_next(ares_channel ch, fwd_steps *s)
{
    for (; *s->next; s->next++) {
        if (*s->next == 'f') {
            struct ares_addrinfo *ai = NULL;
            int rc = hosts_forward(&s->r->core->hosts, hosts_path(s->cares_hosts), s->files_name,
                                   s->hints->ai_family, s->hints->ai_flags & ARES_AI_CANONNAME, &ai);
            if (rc == ARES_SUCCESS || rc == ARES_ENOMEM) {
                s->done(s->r, rc, ai, 1);
                return;
            }
            if (ai != NULL)
                keep_misses(s, ai);
        } else if (*s->next == 'b' && strcmp(s->files_name, "localhost") != 0) {
            /* RFC 6761: localhost is never asked of DNS (c-ares skips it the same way) */
            s->next++;
            ares_getaddrinfo(ch, s->name, NULL, s->hints, on_fwd_dns, s);
            return;
        }
    }
    s->done(s->r, s->status, NULL, 0);
}

static void on_fwd_dns(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
    fwd_steps *s = arg;
    (void)timeouts;
    status = reply_status(s->r->core, status);
    if (status == ARES_SUCCESS && res != NULL) {
        s->done(s->r, ARES_SUCCESS, res, 0);
        return;
    }
    if (res != NULL)
        ares_freeaddrinfo(res);
    if ((status == ARES_ENOTFOUND || status == ARES_ENODATA) && *s->next) {
        s->status = status; /* DNS said no: the hosts file may still know the name */
        fwd_next(s->r->gen->ch, s);
        return;
    }
    s->done(s->r, status, NULL, 0);
}

static int is_onion(const char *name)
{
    size_t n = strlen(name);
    return (n >= 6 && strcasecmp(name + n - 6, ".onion") == 0) || (n >= 7 && strcasecmp(name + n - 7, ".onion.") == 0);
}

void fwd_steps_start(ares_channel ch, fwd_steps *s)
{
    s->status = ARES_ECONNREFUSED; /* c-ares' "nothing tried yet" */
    if (is_onion(s->name)) {
        s->done(s->r, ARES_ENOTFOUND, NULL, 0); /* RFC 7686, before any lookup, as c-ares does */
        return;
    }
    s->next = s->r->gen->lookups;
    fwd_next(ch, s);
}

static const void *rev_addr(const rev_steps *s, int *family)
{
    *family = s->sa.ss_family;
    if (s->sa.ss_family == AF_INET)
        return &((const struct sockaddr_in *)&s->sa)->sin_addr;
    return &((const struct sockaddr_in6 *)&s->sa)->sin6_addr;
}

/* The hosts file's entry for the address: 1 with *h (hosts_hostent_free it), else 0. */
static int rev_in_file(rev_steps *s, struct hostent **h)
{
    int family;
    const void *addr = rev_addr(s, &family);
    *h = NULL;
    return hosts_reverse(&s->r->core->hosts, hosts_path(s->cares_hosts), family, addr, h) == ARES_SUCCESS;
}

/* ---- gethostbyaddr: the hosts file and PTR queries ---- */

static void on_rev_host_dns(void *arg, int status, int timeouts, struct hostent *h);

static void rev_host_next(ares_channel ch, rev_steps *s)
{
    int family;
    const void *addr = rev_addr(s, &family);
    for (; *s->next; s->next++) {
        struct hostent *h;
        if (*s->next == 'f') {
            if (rev_in_file(s, &h)) {
                s->host_done(s->r, ARES_SUCCESS, h);
                hosts_hostent_free(h);
                return;
            }
        } else if (*s->next == 'b') {
            s->next++;
            ares_gethostbyaddr(ch, addr, family == AF_INET ? 4 : 16, family, on_rev_host_dns, s);
            return;
        }
    }
    s->host_done(s->r, ARES_ENOTFOUND, NULL);
}

static void on_rev_host_dns(void *arg, int status, int timeouts, struct hostent *h)
{
    rev_steps *s = arg;
    (void)timeouts;
    if (status == ARES_ENOTFOUND) { /* no PTR answer (any DNS failure): the hosts file may know */
        rev_host_next(s->r->gen->ch, s);
        return;
    }
    s->host_done(s->r, reply_status(s->r->core, status), h);
}

void rev_steps_host(ares_channel ch, rev_steps *s)
{
    s->next = s->r->gen->lookups;
    rev_host_next(ch, s);
}

/* ---- getnameinfo: the hosts file and PTR queries ---- */

/* What a NUMERICHOST getnameinfo reports at once: the service, for a hosts-file answer. */
typedef struct {
    int status;
    char service[64];
    int has_service;
} ni_capture;

static void on_ni_capture(void *arg, int status, int timeouts, char *node, char *service)
{
    ni_capture *cap = arg;
    (void)timeouts, (void)node;
    cap->status = status;
    if (status == ARES_SUCCESS && service != NULL) {
        snprintf(cap->service, sizeof(cap->service), "%s", service);
        cap->has_service = 1;
    }
}

/* getnameinfo answered from a hosts-file entry, shaped as c-ares shapes a found host. */
static void ni_from_file(ares_channel ch, rev_steps *s, const struct hostent *h)
{
    ni_capture cap = {ARES_ENOTIMP, "", 0};
    if (s->flags & ARES_NI_LOOKUPSERVICE) {
        ares_getnameinfo(ch, (struct sockaddr *)&s->sa, s->len, (s->flags | ARES_NI_NUMERICHOST) & ~ARES_NI_NAMEREQD,
                         on_ni_capture, &cap); /* answered before it returns: no lookup involved */
        if (cap.status != ARES_SUCCESS) {
            s->ni_done(s->r, cap.status, NULL, NULL);
            return;
        }
    }
    char name[1100];
    snprintf(name, sizeof(name), "%s", h->h_name);
    if (s->flags & ARES_NI_NOFQDN) { /* this host's own domain is cut off the name */
        char self[256];
        const char *domain;
        if (gethostname(self, sizeof(self) - 1) == 0 && (self[sizeof(self) - 1] = '\0', 1) &&
            (domain = strchr(self, '.')) != NULL) {
            size_t n = strlen(name), d = strlen(domain);
            if (d <= n && strcasecmp(name + n - d, domain) == 0)
                name[n - d] = '\0';
        }
    }
    s->ni_done(s->r, ARES_SUCCESS, name, cap.has_service ? cap.service : NULL);
}

static void on_ni_dns(void *arg, int status, int timeouts, char *node, char *service);
static void on_ni_numeric(void *arg, int status, int timeouts, char *node, char *service);

static void ni_next(ares_channel ch, rev_steps *s)
{
    for (; *s->next; s->next++) {
        struct hostent *h;
        if (*s->next == 'f') {
            if (rev_in_file(s, &h)) {
                ni_from_file(ch, s, h);
                hosts_hostent_free(h);
                return;
            }
        } else if (*s->next == 'b') {
            s->next++;
            ares_getnameinfo(ch, (struct sockaddr *)&s->sa, s->len, s->flags | ARES_NI_NAMEREQD, on_ni_dns, s);
            return;
        }
    }
    if (s->flags & ARES_NI_NAMEREQD) {
        s->ni_done(s->r, ARES_ENOTFOUND, NULL, NULL);
        return;
    }
    /* Not found anywhere: the numeric address, as c-ares falls back to it. */
    ares_getnameinfo(ch, (struct sockaddr *)&s->sa, s->len, s->flags | ARES_NI_NUMERICHOST, on_ni_numeric, s);
}

static void on_ni_numeric(void *arg, int status, int timeouts, char *node, char *service)
{
    rev_steps *s = arg;
    (void)timeouts;
    s->ni_done(s->r, status, node, service);
}

static void on_ni_dns(void *arg, int status, int timeouts, char *node, char *service)
{
    rev_steps *s = arg;
    if (status == ARES_ENOTFOUND) {
        ni_next(s->r->gen->ch, s);
        return;
    }
    on_ni_numeric(arg, status, timeouts, node, service);
}

void rev_steps_nameinfo(ares_channel ch, rev_steps *s)
{
    s->next = s->r->gen->lookups;
    ni_next(ch, s);
}
