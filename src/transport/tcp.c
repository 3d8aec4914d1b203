/* SPDX-License-Identifier: GPL-2.0-only */
#include "tcp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "kmip/kmip_ttlv.h"

int kt_wait(int fd, bool want_write, int64_t deadline, const kt_abort *abort)
{
    for (;;) {
        if (kt_abort_fired(abort))
            return KT_WAIT_ABORTED;
        int64_t left = deadline - kmip_monotonic_ms();
        if (left <= 0)
            return KT_WAIT_TIMEOUT;
        /* the switch's eventfd (-1 without one: poll skips it) */
        struct pollfd p[2] = {{fd, (short)(want_write ? POLLOUT : POLLIN), 0},
                              {kt_abort_fd(abort), POLLIN, 0}};
        int r = poll(p, 2, left > 60000 ? 60000 : (int)left);
        if (r > 0 && p[1].revents != 0)
            return KT_WAIT_ABORTED;
        if (r > 0)
            return KT_WAIT_READY;
        if (r < 0 && errno != EINTR)
            return KT_WAIT_ERROR;
    }
}

int kt_wait_send(int fd, int64_t deadline, const kt_abort *abort)
{
    for (;;) {
        if (kt_abort_fired(abort))
            return KT_WAIT_ABORTED;
        int64_t left = deadline - kmip_monotonic_ms();
        if (left <= 0)
            return KT_WAIT_TIMEOUT;
        struct pollfd p[2] = {{fd, POLLIN | POLLOUT, 0}, {kt_abort_fd(abort), POLLIN, 0}};
        int r = poll(p, 2, left > 60000 ? 60000 : (int)left);
        if (r > 0 && p[1].revents != 0)
            return KT_WAIT_ABORTED;
        if (r > 0) /* anything but room to write (an error, a hang-up) is for the read to say */
            return p[0].revents & POLLOUT ? KT_WRITABLE | (p[0].revents & ~POLLOUT ? KT_READABLE : 0)
                                          : KT_READABLE;
        if (r < 0 && errno != EINTR)
            return KT_WAIT_ERROR;
    }
}

bool kt_is_ip(const char *host)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

/* One address: 0 connected, else an errno value (ETIMEDOUT at the
 * deadline, -1 when aborted). */
static int connect_one(int fd, const struct addrinfo *ai, int64_t deadline, const kt_abort *abort)
{
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
        return 0;
    if (errno != EINPROGRESS)
        return errno;
    int w = kt_wait(fd, true, deadline, abort);
    if (w == KT_WAIT_TIMEOUT)
        return ETIMEDOUT;
    if (w == KT_WAIT_ABORTED)
        return -1;
    if (w < 0)
        return errno;
    int so = 0;
    socklen_t len = sizeof so;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &len) != 0)
        return errno;
    return so;
}

static int aborted(const char *host, unsigned port, const char *when, kt_error *err)
{
    err->code = KMIP_CLIENT_E_ABORTED;
    snprintf(err->message, sizeof err->message, "connecting to the KMIP server %s:%u was "
             "aborted%s (kmip_client_abort)", host, port, when);
    return -1;
}

int kt_tcp_connect(const char *host, unsigned port, int64_t deadline, const kt_abort *abort,
                   kt_error *err)
{
    if (kt_abort_fired(abort))
        return aborted(host, port, " before it began", err);
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    char port_s[8];
    snprintf(port_s, sizeof port_s, "%u", port);
    int g = getaddrinfo(host, port_s, &hints, &res); /* not interruptible */
    if (g == 0 && kt_abort_fired(abort)) {
        freeaddrinfo(res);
        return aborted(host, port, " while its name was resolved", err);
    }
    if (g != 0) {
        err->code = KMIP_CLIENT_E_CONNECT;
        snprintf(err->message, sizeof err->message, "cannot resolve KMIP server host %s: %s",
                 host, gai_strerror(g));
        return -1;
    }
    int last = 0, fd = -1;
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            last = errno;
            continue;
        }
        last = connect_one(fd, ai, deadline, abort);
        if (last == 0)
            break;
        close(fd);
        fd = -1;
        if (last == ETIMEDOUT || last < 0)
            break;
    }
    freeaddrinfo(res);
    if (last < 0)
        return aborted(host, port, "", err);
    if (fd < 0) {
        err->code = last == ETIMEDOUT ? KMIP_CLIENT_E_TIMEOUT : KMIP_CLIENT_E_CONNECT;
        snprintf(err->message, sizeof err->message, "cannot connect to KMIP server %s:%u: %s",
                 host, port, last == ETIMEDOUT ? "connect timed out" : strerror(last));
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}
