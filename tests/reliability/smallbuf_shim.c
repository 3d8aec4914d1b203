/* SPDX-License-Identifier: GPL-2.0-only */
/* LD_PRELOAD shim (review s7): every connect(2) of the process gets
 * R7_BUF-byte socket buffers (4 KiB by default): the client's own socket,
 * which the kernel otherwise autotunes past the pipeline's 256 KiB of
 * requests on loopback, as small as a host with a small tcp_wmem or an
 * SO_SNDBUF has it; and every accept(2) too (the test server, started by
 * the test, inherits the preload: its send buffer would otherwise hold
 * answers by the megabyte). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

typedef int (*connect_fn)(int, __CONST_SOCKADDR_ARG, socklen_t);
typedef int (*accept_fn)(int, __SOCKADDR_ARG, socklen_t *);
typedef int (*accept4_fn)(int, __SOCKADDR_ARG, socklen_t *, int);

static void small(int fd)
{
    if (fd < 0)
        return;
    const char *e = getenv("R7_BUF");
    int v = e ? atoi(e) : 4096;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof v);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v);
}

static void *next_fn(const char *name)
{
    return dlsym(RTLD_NEXT, name);
}

__attribute__((visibility("default"))) int accept(int fd, __SOCKADDR_ARG a, socklen_t *l)
{
    static accept_fn real;
    if (!real) {
        void *p = next_fn("accept");
        memcpy(&real, &p, sizeof real);
    }
    int r = real(fd, a, l);
    small(r);
    return r;
}

__attribute__((visibility("default"))) int accept4(int fd, __SOCKADDR_ARG a, socklen_t *l, int flags)
{
    static accept4_fn real;
    if (!real) {
        void *p = next_fn("accept4");
        memcpy(&real, &p, sizeof real);
    }
    int r = real(fd, a, l, flags);
    small(r);
    return r;
}

__attribute__((visibility("default"))) int connect(int fd, __CONST_SOCKADDR_ARG a, socklen_t l)
{
    static connect_fn real;
    if (!real) {
        void *p = dlsym(RTLD_NEXT, "connect");
        memcpy(&real, &p, sizeof real);
    }
    small(fd);
    return real(fd, a, l);
}
