/* SPDX-License-Identifier: GPL-2.0-only */
/* Internal: TCP connect with a deadline, and waiting on a socket. */
#ifndef KMIP_TRANSPORT_TCP_H
#define KMIP_TRANSPORT_TCP_H

#include <stdbool.h>
#include <stdint.h>

#include "abort.h"
#include "transport.h"

/* A non-blocking, close-on-exec socket connected to host:port before the
 * deadline, trying every address the name resolves to; -1 on failure
 * (KMIP_CLIENT_E_ABORTED in err once abort, which may be NULL, is thrown). */
int kt_tcp_connect(const char *host, unsigned port, int64_t deadline, const kt_abort *abort,
                   kt_error *err);

/* What kt_wait found. */
enum {
    KT_WAIT_ABORTED = -2, /* the abort switch is thrown */
    KT_WAIT_ERROR = -1,   /* poll failed: errno says why */
    KT_WAIT_TIMEOUT = 0,  /* the deadline passed */
    KT_WAIT_READY = 1
};
/* Waits until fd is readable (want_write false) or writable, the deadline
 * passes or abort (NULL: none) is thrown; one poll of both descriptors,
 * so that an abort ends the wait at once. */
int kt_wait(int fd, bool want_write, int64_t deadline, const kt_abort *abort);
/* Waits until fd is writable or readable (a writer that must not stop
 * reading: kt_send with answers in flight), the deadline passes or abort
 * is thrown: KT_WRITABLE | KT_READABLE as they are, or KT_WAIT_TIMEOUT,
 * KT_WAIT_ERROR, KT_WAIT_ABORTED. */
#define KT_WRITABLE 1
#define KT_READABLE 2
int kt_wait_send(int fd, int64_t deadline, const kt_abort *abort);
/* True when host is an IPv4 or IPv6 literal. */
bool kt_is_ip(const char *host);

#endif
