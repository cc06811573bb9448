/*
 * c_client.c — the ceiling: a plain C libcares client for the pycares_ng benchmarks.
 *
 * Resolves N distinct A names (n0 … nN-1.bench.test, or one name per line from a file)
 * against one loopback server, keeping K queries in flight.  It is driven exactly the way a
 * Python binding is driven: sock_state_cb feeds an epoll set, ares_timeout() bounds the wait,
 * ares_process_fd() is called per ready socket, and ares_process_fd(BAD, BAD) on a timeout.
 * Every reply is parsed with ares_parse_a_reply() into addrttls and each address is turned into
 * text, i.e. the same work a binding does when it returns (address, TTL) results.
 *
 * Modes:
 *   legacy  ares_query() + ares_parse_a_reply()                       (c-ares >= 1.18)
 *   dnsrec  ares_query_dnsrec() + ares_dns_rr_get_addr()/get_ttl()    (c-ares >= 1.28)
 * Query cache (c-ares >= 1.23, ARES_OPT_QUERY_CACHE): --qcache off (qcache_max_ttl = 0), on
 * (the library's default, 3600 s) or default (the option not passed). Default: off in dnsrec
 * mode, default in legacy mode. Every name is distinct, so the cache never answers: "on" only
 * adds the cost of filling it.
 *
 * It never reads /etc/resolv.conf: the channel is initialised with ARES_OPT_RESOLVCONF pointing
 * at an empty temporary file and the servers are set explicitly with ares_set_servers_ports_csv()
 * before the first query.  Library-default flags are kept (as a binding without flags= does).
 *
 * CPU time is getrusage(RUSAGE_SELF) over the resolve phase only (first query sent to last
 * callback); the result is one JSON object on stdout.
 *
 * Build:   gcc -O2 -DCARES_NO_DEPRECATED c_client.c $(pkg-config --cflags --libs libcares)
 */
#define _GNU_SOURCE
#include <ares.h>

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#if ARES_VERSION >= 0x011c00 /* 1.28.0: ares_query_dnsrec, ares_dns_record_rr_get_const */
#define HAVE_DNSREC 1
#else
#define HAVE_DNSREC 0
#endif

enum { DNS_CLASS_IN = 1, DNS_TYPE_A = 1 };
enum { MAX_EVENTS = 64, MAX_ADDRS = 16 };

struct bench {
    ares_channel channel;
    int epfd;
    char **names;
    long n;
    long next;       /* index of the next name to send */
    long inflight;   /* sent, callback not yet seen */
    long done;       /* callbacks seen */
    long ok;         /* replies with at least one A record parsed */
    long failed;     /* callbacks with an error status or an unparsable reply */
    unsigned long long checksum; /* keeps the parse work observable */
};

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "c_client: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(2);
}

/* ---- the driver: sock_state_cb -> epoll ------------------------------------------------ */

static void on_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
    struct bench *b = data;
    struct epoll_event ev;

    if (!readable && !writable) {
        /* c-ares is about to close fd; it may never have been added (ENOENT is fine). */
        epoll_ctl(b->epfd, EPOLL_CTL_DEL, fd, NULL);
        return;
    }
    memset(&ev, 0, sizeof ev);
    ev.events = (readable ? EPOLLIN : 0) | (writable ? EPOLLOUT : 0);
    ev.data.fd = fd;
    if (epoll_ctl(b->epfd, EPOLL_CTL_MOD, fd, &ev) == 0)
        return;
    if (errno != ENOENT || epoll_ctl(b->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
        die("epoll_ctl", strerror(errno));
}

static int timeout_ms(ares_channel channel)
{
    struct timeval tv, *tvp = ares_timeout(channel, NULL, &tv);

    if (tvp == NULL)
        return -1;
    return (int)(tvp->tv_sec * 1000 + (tvp->tv_usec + 999) / 1000);
}

/* ---- legacy API: ares_query + ares_parse_a_reply ---------------------------------------- */

static void finish(struct bench *b, int good)
{
    b->inflight--;
    b->done++;
    if (good)
        b->ok++;
    else
        b->failed++;
}

static void on_legacy_reply(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
    struct bench *b = arg;
    struct ares_addrttl addrttls[MAX_ADDRS];
    int naddrttls = MAX_ADDRS;
    char text[INET_ADDRSTRLEN];
    int i, good = 0;

    (void)timeouts;
    if (status == ARES_SUCCESS &&
        ares_parse_a_reply(abuf, alen, NULL, addrttls, &naddrttls) == ARES_SUCCESS &&
        naddrttls > 0) {
        for (i = 0; i < naddrttls; i++) {
            if (inet_ntop(AF_INET, &addrttls[i].ipaddr, text, sizeof text) == NULL)
                break;
            b->checksum += (unsigned long long)addrttls[i].ttl + (unsigned char)text[0];
        }
        good = (i == naddrttls);
    }
    finish(b, good);
}

static void send_legacy(struct bench *b, const char *name)
{
    ares_query(b->channel, name, DNS_CLASS_IN, DNS_TYPE_A, on_legacy_reply, b);
}

/* ---- dnsrec API (c-ares >= 1.28) -------------------------------------------------------- */

#if HAVE_DNSREC
static void on_dnsrec_reply(void *arg, ares_status_t status, size_t timeouts,
                            const ares_dns_record_t *dnsrec)
{
    struct bench *b = arg;
    char text[INET_ADDRSTRLEN];
    size_t i, count;
    int found = 0, good = 1;

    (void)timeouts;
    if (status != ARES_SUCCESS || dnsrec == NULL) {
        finish(b, 0);
        return;
    }
    count = ares_dns_record_rr_cnt(dnsrec, ARES_SECTION_ANSWER);
    for (i = 0; i < count; i++) {
        const ares_dns_rr_t *rr = ares_dns_record_rr_get_const(dnsrec, ARES_SECTION_ANSWER, i);
        const struct in_addr *addr;

        if (ares_dns_rr_get_type(rr) != ARES_REC_TYPE_A)
            continue;
        addr = ares_dns_rr_get_addr(rr, ARES_RR_A_ADDR);
        if (addr == NULL || inet_ntop(AF_INET, addr, text, sizeof text) == NULL) {
            good = 0;
            break;
        }
        b->checksum += (unsigned long long)ares_dns_rr_get_ttl(rr) + (unsigned char)text[0];
        found++;
    }
    finish(b, good && found > 0);
}

static void send_dnsrec(struct bench *b, const char *name)
{
    ares_query_dnsrec(b->channel, name, ARES_CLASS_IN, ARES_REC_TYPE_A, on_dnsrec_reply, b, NULL);
}
#endif

/* ---- names ------------------------------------------------------------------------------ */

static char **names_from_range(long n, const char *prefix, const char *domain)
{
    char **names = calloc((size_t)n, sizeof *names);
    long i;

    if (names == NULL)
        die("out of memory", NULL);
    for (i = 0; i < n; i++) {
        if (asprintf(&names[i], "%s%ld.%s", prefix, i, domain) < 0)
            die("out of memory", NULL);
    }
    return names;
}

static char **names_from_file(const char *path, long *n)
{
    FILE *f = fopen(path, "r");
    char **names = NULL;
    char *line = NULL;
    size_t cap = 0, linecap = 0;
    long count = 0;
    ssize_t len;

    if (f == NULL)
        die(path, strerror(errno));
    while ((len = getline(&line, &linecap, f)) >= 0 && (*n <= 0 || count < *n)) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' || line[len - 1] == ' '))
            line[--len] = '\0';
        if (len == 0 || line[0] == '#')
            continue;
        if ((size_t)count == cap) {
            cap = cap ? cap * 2 : 1024;
            names = realloc(names, cap * sizeof *names);
            if (names == NULL)
                die("out of memory", NULL);
        }
        names[count++] = strdup(line);
    }
    free(line);
    fclose(f);
    if (*n > 0 && count < *n)
        die("names file has fewer names than --n", path);
    *n = count;
    return names;
}

/* ---- which c-ares build is this? --------------------------------------------------------- */

/* The file the running c-ares code was loaded from (realpath), so run.py can pair each binding
 * with the C client on the very same library build, not only the same version string. */
static const char *cares_library_path(void)
{
    static char path[PATH_MAX];
    const char *(*fn)(int *) = ares_version;
    void *addr;
    Dl_info info;

    memcpy(&addr, &fn, sizeof addr); /* ISO C has no function-to-object pointer cast */
    if (dladdr(addr, &info) == 0 || info.dli_fname == NULL ||
        realpath(info.dli_fname, path) == NULL)
        return "?";
    return path;
}

/* ---- main ------------------------------------------------------------------------------- */

static double seconds(const struct timeval *tv)
{
    return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: c_client --server IP --port PORT [--n N] [--inflight K] [--mode legacy|dnsrec]\n"
            "                [--names-file FILE | --prefix n --domain bench.test]\n"
            "                [--rcvbuf BYTES] [--timeout-ms MS] [--tries T] [--qcache on|off|default]\n"
            "       c_client --version   (prints the linked c-ares version and library file)\n");
    exit(2);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"server", required_argument, NULL, 's'},
        {"port", required_argument, NULL, 'p'},
        {"n", required_argument, NULL, 'n'},
        {"inflight", required_argument, NULL, 'k'},
        {"mode", required_argument, NULL, 'm'},
        {"names-file", required_argument, NULL, 'f'},
        {"prefix", required_argument, NULL, 'P'},
        {"domain", required_argument, NULL, 'd'},
        {"rcvbuf", required_argument, NULL, 'r'},
        {"timeout-ms", required_argument, NULL, 't'},
        {"tries", required_argument, NULL, 'T'},
        {"qcache", required_argument, NULL, 'q'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *server = "127.0.0.1", *names_file = NULL, *prefix = "n", *domain = "bench.test";
    const char *mode = "legacy", *qcache = NULL;
    long port = 0, n = 20000, inflight = 100, rcvbuf = 4L << 20, timeout = -1, tries = -1;
    void (*send_one)(struct bench *, const char *) = send_legacy;
    struct bench b;
    struct ares_options opts;
    int optmask, opt, rc, fd;
    char rcpath[] = "/tmp/c_client_resolvconf.XXXXXX", csv[128];
    struct epoll_event events[MAX_EVENTS];
    struct rusage ru0, ru1;
    struct timespec t0, t1;
    double wall, user, sys;

    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (opt) {
        case 's': server = optarg; break;
        case 'p': port = strtol(optarg, NULL, 10); break;
        case 'n': n = strtol(optarg, NULL, 10); break;
        case 'k': inflight = strtol(optarg, NULL, 10); break;
        case 'm': mode = optarg; break;
        case 'f': names_file = optarg; break;
        case 'P': prefix = optarg; break;
        case 'd': domain = optarg; break;
        case 'r': rcvbuf = strtol(optarg, NULL, 10); break;
        case 't': timeout = strtol(optarg, NULL, 10); break;
        case 'T': tries = strtol(optarg, NULL, 10); break;
        case 'q': qcache = optarg; break;
        case 'V': printf("%s %s\n", ares_version(NULL), cares_library_path()); return 0;
        default: usage();
        }
    }
    if (port <= 0 || port > 65535 || inflight <= 0 || (names_file == NULL && n <= 0))
        usage();
    if (strcmp(mode, "dnsrec") == 0) {
#if HAVE_DNSREC
        send_one = send_dnsrec;
#else
        die("--mode dnsrec needs c-ares >= 1.28, linked", ares_version(NULL));
#endif
    } else if (strcmp(mode, "legacy") != 0) {
        usage();
    }

    memset(&b, 0, sizeof b);
    b.names = names_file ? names_from_file(names_file, &n) : names_from_range(n, prefix, domain);
    b.n = n;
    b.epfd = epoll_create1(EPOLL_CLOEXEC);
    if (b.epfd < 0)
        die("epoll_create1", strerror(errno));

    if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS)
        die("ares_library_init failed", NULL);

    /* An empty resolv.conf: nothing of the host's configuration is read. */
    fd = mkstemp(rcpath);
    if (fd < 0)
        die("mkstemp", strerror(errno));
    close(fd);

    memset(&opts, 0, sizeof opts);
    optmask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_SOCK_RCVBUF | ARES_OPT_RESOLVCONF;
    opts.sock_state_cb = on_sock_state;
    opts.sock_state_cb_data = &b;
    opts.socket_receive_buffer_size = (int)rcvbuf;
    opts.resolvconf_path = rcpath;
    if (timeout > 0) {
        opts.timeout = (int)timeout;
        optmask |= ARES_OPT_TIMEOUTMS;
    }
    if (tries > 0) {
        opts.tries = (int)tries;
        optmask |= ARES_OPT_TRIES;
    }
    if (qcache == NULL)
        qcache = strcmp(mode, "dnsrec") == 0 ? "off" : "default";
    if (strcmp(qcache, "default") != 0) {
#ifdef ARES_OPT_QUERY_CACHE
        if (strcmp(qcache, "off") == 0)
            opts.qcache_max_ttl = 0;
        else if (strcmp(qcache, "on") == 0)
            opts.qcache_max_ttl = 3600;
        else
            usage();
        optmask |= ARES_OPT_QUERY_CACHE;
#else
        if (strcmp(qcache, "off") != 0)
            die("--qcache on needs c-ares >= 1.23", ares_version(NULL));
#endif
    }
    rc = ares_init_options(&b.channel, &opts, optmask);
    unlink(rcpath);
    if (rc != ARES_SUCCESS)
        die("ares_init_options", ares_strerror(rc));

    if (strchr(server, ':') != NULL)
        snprintf(csv, sizeof csv, "[%s]:%ld", server, port);
    else
        snprintf(csv, sizeof csv, "%s:%ld", server, port);
    rc = ares_set_servers_ports_csv(b.channel, csv);
    if (rc != ARES_SUCCESS)
        die("ares_set_servers_ports_csv", ares_strerror(rc));

    /* ---- resolve phase ---- */
    getrusage(RUSAGE_SELF, &ru0);
    clock_gettime(CLOCK_MONOTONIC, &t0);

    while (b.done < b.n) {
        int nev, i;

        while (b.next < b.n && b.inflight < inflight) {
            b.inflight++;
            send_one(&b, b.names[b.next++]);
        }
        if (b.done >= b.n) /* every query may have failed synchronously */
            break;
        nev = epoll_wait(b.epfd, events, MAX_EVENTS, timeout_ms(b.channel));
        if (nev < 0) {
            if (errno == EINTR)
                continue;
            die("epoll_wait", strerror(errno));
        }
        if (nev == 0) {
            ares_process_fd(b.channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
            continue;
        }
        for (i = 0; i < nev; i++) {
            uint32_t e = events[i].events;
            ares_socket_t rfd = (e & (EPOLLIN | EPOLLERR | EPOLLHUP)) ? events[i].data.fd : ARES_SOCKET_BAD;
            ares_socket_t wfd = (e & EPOLLOUT) ? events[i].data.fd : ARES_SOCKET_BAD;

            ares_process_fd(b.channel, rfd, wfd);
        }
    }

    clock_gettime(CLOCK_MONOTONIC, &t1);
    getrusage(RUSAGE_SELF, &ru1);

    wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    user = seconds(&ru1.ru_utime) - seconds(&ru0.ru_utime);
    sys = seconds(&ru1.ru_stime) - seconds(&ru0.ru_stime);

    printf("{\"client\": \"c\", \"api\": \"%s\", \"qcache\": \"%s\", \"cares\": \"%s\", \"n\": %ld, \"inflight\": %ld, "
           "\"ok\": %ld, \"failed\": %ld, \"wall_s\": %.6f, \"cpu_user_s\": %.6f, "
           "\"cpu_sys_s\": %.6f, \"qps\": %.1f, \"cpu_us_per_query\": %.3f, \"checksum\": %llu, "
           "\"cares_lib\": \"%s\"}\n",
           mode, qcache, ares_version(NULL), b.n, inflight, b.ok, b.failed, wall, user, sys,
           wall > 0 ? (double)b.n / wall : 0.0, (user + sys) * 1e6 / (double)b.n, b.checksum, cares_library_path());

    ares_destroy(b.channel);
    ares_library_cleanup();
    close(b.epfd);
    for (long i = 0; i < b.n; i++)
        free(b.names[i]);
    free(b.names);
    return b.ok == b.n ? 0 : 1;
}
