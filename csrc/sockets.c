/* Socket functions for libcares; see sockets.h. c-ares >= 1.34 takes the full set
 * (ares_set_socket_functions_ex: options, bind, interface names too); older ones take the
 * legacy four plus close and configure the socket themselves. */
#include "sockets.h"
#include "dns_parse.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* libcares closes a socket right after recording its "closed" state (lock held). If that record
 * is still queued for sock_state_cb, the socket is closed once it has been delivered
 * (sock_deliver); otherwise now. */
static int sock_close(ares_socket_t fd, void *user_data)
{
    chan_core *c = user_data;
    sock_event *mark = NULL;
    if (!c->threaded && c->want_sock_events) {
        for (event *e = c->q_head; e != NULL; e = e->next) {
            sock_event *s = (sock_event *)e;
            if (e->kind == EV_SOCK && s->fd == (int)fd && !s->readable && !s->writable && !s->close_fd)
                mark = s;
        }
    }
    if (mark != NULL) {
        mark->close_fd = 1;
        return 0;
    }
    return close(fd);
}

static int sock_connect(ares_socket_t fd, const struct sockaddr *addr, ares_socklen_t len,
#if ARES_VERSION >= 0x012200
                        unsigned int flags,
#endif
                        void *user_data)
{
#if ARES_VERSION >= 0x012200
    (void)flags; /* Linux does TCP Fast Open through the socket option: a plain connect() */
#endif
    (void)user_data;
    return connect(fd, addr, len);
}

#if ARES_VERSION >= 0x012200

static ares_socket_t sock_open(int domain, int type, int protocol, void *user_data)
{
    (void)user_data;
    int fd = socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
    if (fd < 0)
        return ARES_SOCKET_BAD;
    if (type == SOCK_STREAM) {
        int one = 1; /* one small request, one reply: no batching wanted */
        if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0) {
            close(fd);
            return ARES_SOCKET_BAD;
        }
    }
    return fd;
}

static int sock_setopt(ares_socket_t fd, ares_socket_opt_t opt, const void *val, ares_socklen_t size,
                       void *user_data)
{
    (void)user_data;
    switch (opt) {
    case ARES_SOCKET_OPT_SENDBUF_SIZE:
    case ARES_SOCKET_OPT_RECVBUF_SIZE:
        if (size != sizeof(int)) {
            errno = EINVAL;
            return -1;
        }
        return setsockopt(fd, SOL_SOCKET, opt == ARES_SOCKET_OPT_SENDBUF_SIZE ? SO_SNDBUF : SO_RCVBUF, val, size);
    case ARES_SOCKET_OPT_BIND_DEVICE: {
        const char *dev = val;
        size_t n = strnlen(dev, (size_t)size);
        for (size_t i = 0; i < n; i++) {
            if (dev[i] < 0x20 || dev[i] > 0x7e) {
                errno = EINVAL;
                return -1;
            }
        }
        return setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, val, size);
    }
    case ARES_SOCKET_OPT_TCP_FASTOPEN:
#ifdef TCP_FASTOPEN_CONNECT
        if (size != sizeof(ares_bool_t)) {
            errno = EINVAL;
            return -1;
        }
        {
            int on = (int)*(const ares_bool_t *)val;
            return setsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, &on, sizeof(on));
        }
#else
        break;
#endif
    }
    errno = ENOSYS;
    return -1;
}

static ares_ssize_t sock_recvfrom(ares_socket_t fd, void *buf, size_t len, int flags, struct sockaddr *from,
                                  ares_socklen_t *fromlen, void *user_data)
{
    (void)user_data;
    return recvfrom(fd, buf, len, flags, from, fromlen);
}

static ares_ssize_t sock_sendto(ares_socket_t fd, const void *buf, size_t len, int flags,
                                const struct sockaddr *to, ares_socklen_t tolen, void *user_data)
{
    (void)user_data;
    return to != NULL ? sendto(fd, buf, len, flags, to, tolen) : send(fd, buf, len, flags);
}

static int sock_getsockname(ares_socket_t fd, struct sockaddr *addr, ares_socklen_t *len, void *user_data)
{
    (void)user_data;
    return getsockname(fd, addr, len);
}

static int sock_bind(ares_socket_t fd, unsigned int flags, const struct sockaddr *addr, socklen_t len,
                     void *user_data)
{
    (void)user_data;
#ifdef IP_BIND_ADDRESS_NO_PORT
    if ((flags & ARES_SOCKET_BIND_TCP) && (flags & ARES_SOCKET_BIND_CLIENT)) {
        int one = 1; /* the port is chosen at connect(): more client ports to go round */
        (void)setsockopt(fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
    }
#endif
    return bind(fd, addr, len);
}

static unsigned int sock_nametoindex(const char *name, void *user_data)
{
    (void)user_data;
    return if_nametoindex(name);
}

static const char *sock_indextoname(unsigned int index, char *buf, size_t len, void *user_data)
{
    (void)user_data;
    if (len < IF_NAMESIZE)
        return NULL;
    return if_indextoname(index, buf);
}

static const struct ares_socket_functions_ex SOCKET_FUNCTIONS = {
    .version = 1,
    .flags = ARES_SOCKFUNC_FLAG_NONBLOCKING,
    .asocket = sock_open,
    .aclose = sock_close,
    .asetsockopt = sock_setopt,
    .aconnect = sock_connect,
    .arecvfrom = sock_recvfrom,
    .asendto = sock_sendto,
    .agetsockname = sock_getsockname,
    .abind = sock_bind,
    .aif_nametoindex = sock_nametoindex,
    .aif_indextoname = sock_indextoname,
};

int sockets_install(chan_core *c, ares_channel ch)
{
    return ares_set_socket_functions_ex(ch, &SOCKET_FUNCTIONS, c);
}

#else /* c-ares < 1.34 configures no socket of user-supplied functions: do what it would */

/* What c-ares 1.18's own socket setup does: non-blocking, close-on-exec, buffer sizes, the
 * device and the local address to send from, no Nagle for TCP. -1 with errno on failure. */
static int configure(chan_core *c, int fd, int domain, int type)
{
    int size, one = 1;
    if ((c->optmask & ARES_OPT_SOCK_SNDBUF) && (size = c->opts.socket_send_buffer_size) > 0 &&
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)) != 0)
        return -1;
    if ((c->optmask & ARES_OPT_SOCK_RCVBUF) && (size = c->opts.socket_receive_buffer_size) > 0 &&
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) != 0)
        return -1;
    if (c->local_dev != NULL) /* needs privileges; c-ares goes on without it */
        (void)setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, c->local_dev, (socklen_t)strlen(c->local_dev) + 1);
    if (domain == AF_INET && c->local_family == AF_INET) {
        struct sockaddr_in sa;
        memset(&sa, 0, sizeof(sa));
        sa.sin_family = AF_INET;
        memcpy(&sa.sin_addr, c->local_addr, 4);
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
            return -1;
    } else if (domain == AF_INET6 && c->local_family == AF_INET6) {
        struct sockaddr_in6 sa;
        memset(&sa, 0, sizeof(sa));
        sa.sin6_family = AF_INET6;
        memcpy(&sa.sin6_addr, c->local_addr, 16);
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
            return -1;
    }
    if (type == SOCK_STREAM && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
        return -1;
    return 0;
}

static ares_socket_t sock_open(int domain, int type, int protocol, void *user_data)
{
    int fd = socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
    if (fd < 0)
        return ARES_SOCKET_BAD;
    if (configure(user_data, fd, domain, type) != 0) {
        int err = errno;
        close(fd);
        errno = err;
        return ARES_SOCKET_BAD;
    }
    return fd;
}

static ares_ssize_t sock_recvfrom(ares_socket_t fd, void *buf, size_t len, int flags, struct sockaddr *from,
                                  ares_socklen_t *fromlen, void *user_data)
{
    chan_core *c = user_data;
    ares_ssize_t n;
    c->reply_status = 0;
    n = recvfrom(fd, buf, len, flags, from, fromlen);
    if (n <= 0 || from == NULL) /* from == NULL: a TCP read */
        return n;
    const uint8_t *m = buf;
    if (dns_message_rejected(m, (size_t)n)) {
        c->reply_status = ARES_EBADRESP;
        errno = EPROTO;
        return -1;
    }
    if (m[2] & 0x80) {
        switch (m[3] & 0x0F) {
        case 2: c->reply_status = ARES_ESERVFAIL; break;
        case 4: c->reply_status = ARES_ENOTIMP; break;
        case 5: c->reply_status = ARES_EREFUSED; break;
        default: break;
        }
    }
    return n;
}

static ares_ssize_t sock_sendv(ares_socket_t fd, const struct iovec *iov, int n, void *user_data)
{
    (void)user_data;
    return writev(fd, iov, n);
}

static const struct ares_socket_functions SOCKET_FUNCTIONS = {
    sock_open, sock_close, sock_connect, sock_recvfrom, sock_sendv,
};

int sockets_install(chan_core *c, ares_channel ch)
{
    ares_set_socket_functions(ch, &SOCKET_FUNCTIONS, c);
    return ARES_SUCCESS;
}

#endif
