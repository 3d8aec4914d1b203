/* SPDX-License-Identifier: GPL-2.0-only */
/* Internal: TCP connect with a deadline, and waiting on a socket. */
#ifndef KMIP_TRANSPORT_TCP_H
#define KMIP_TRANSPORT_TCP_H

#include <stdbool.h>
#include <stdint.h>

#include "transport.h"

/* A non-blocking, close-on-exec socket connected to host:port before the
 * deadline, trying every address the name resolves to; -1 on failure. */
int kt_tcp_connect(const char *host, unsigned port, int64_t deadline, kt_error *err);
/* Waits until fd is readable (want_write false) or writable. Returns 1 when
 * ready, 0 at the deadline, -1 on error. */
int kt_wait(int fd, bool want_write, int64_t deadline);
/* Waits until fd is writable or readable (a writer that must not stop
 * reading: kt_send with answers in flight): KT_WRITABLE | KT_READABLE as
 * they are, 0 at the deadline, -1 on a poll error. */
#define KT_WRITABLE 1
#define KT_READABLE 2
int kt_wait_send(int fd, int64_t deadline);
/* True when host is an IPv4 or IPv6 literal. */
bool kt_is_ip(const char *host);

#endif
