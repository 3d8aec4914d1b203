/* SPDX-License-Identifier: GPL-2.0-only */
/* Internal: how the transport's waits and sockets are tied to an abort
 * switch (kt_abort, transport.h). */
#ifndef KMIP_TRANSPORT_ABORT_H
#define KMIP_TRANSPORT_ABORT_H

#include "transport.h"

/* A socket an abort shuts down: one per connection, linked into its
 * switch's list while the socket is open. */
typedef struct kt_abort_link {
    int fd;
    struct kt_abort_link *next, *prev;
} kt_abort_link;

/* The descriptor every wait polls besides its socket: readable once the
 * switch is thrown, for ever after (nothing reads it). -1 for NULL. */
int kt_abort_fd(const kt_abort *a);
/* Links fd in, before the first wait on it (a NULL switch: nothing): an
 * abort from then on shuts the socket down (shutdown(2), SHUT_RDWR), which
 * also ends a blocking recv(2) that no poll watches. When the switch was
 * thrown already, the socket is shut down at once. */
void kt_abort_attach(kt_abort *a, kt_abort_link *l, int fd);
/* Unlinks it: before the socket is closed, so that an abort never shuts
 * down a descriptor number the process has reused meanwhile. */
void kt_abort_detach(kt_abort *a, kt_abort_link *l);

#endif
