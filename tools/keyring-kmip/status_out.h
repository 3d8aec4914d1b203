/* SPDX-License-Identifier: GPL-2.0-only */
/* keyring-kmip status/check output of the keyring's metadata rows
 * (status_out.c). */
#ifndef KEYRING_KMIP_STATUS_OUT_H
#define KEYRING_KMIP_STATUS_OUT_H

#include <stddef.h>

#include "keyring_kmip/krk.h"

typedef enum status_format { STATUS_TEXT, STATUS_JSON, STATUS_PROMETHEUS } status_format;

/* The rows as "Key   value" lines, one JSON object (plus "servers": the
 * Server_N rows as objects), or Prometheus text exposition. */
void status_print(const krk_metadata_item *md, size_t n, status_format f);
/* For check: one line per server and the certificate warning, if any. */
void status_print_servers(const krk_metadata_item *md, size_t n);
/* For check: each configured server that is not up, named on stderr with
 * its state and last error; returns how many. */
size_t status_servers_down(const krk_metadata_item *md, size_t n);

#endif
