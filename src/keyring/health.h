/* SPDX-License-Identifier: GPL-2.0-only */
/* Internal: what the keyring shows of its KMIP servers' health (metadata
 * rows, the summary for front ends) and the certificate expiry warnings
 * (health.c). */
#ifndef KRK_HEALTH_H
#define KRK_HEALTH_H

#include <stddef.h>

#include "keyring_kmip/krk.h"
#include "state.h"

/* The end of validity of the first certificate in a PEM file (Unix
 * seconds); false when it cannot be read. */
bool krk_cert_not_after(const char *path, long long *out);

/* At the end of an open or reload: the client certificate's end (into
 * s->client_cert_not_after) and a warning in d (and the state's
 * cert_warning) when it or a server's certificate ends within
 * cfg.cert_warning_days. */
void krk_health_check_certs(krk_state *s, krk_diag *d);
/* The same into the given fields (a refresh computes them outside the
 * readers' lock); warns in d only when the warning changed from was. */
void krk_health_cert_fields(const krk_state *s, long long *not_after, char *warning,
                            size_t cap, const char *was, krk_diag *d);

/* A fingerprint of the client certificate, key and CA files (device,
 * inode, size, modification time): a refresh reads them again only when it
 * changed. */
void krk_cred_stamp(const krk_config *cfg, unsigned long long out[4]);

/* Appends the row key = printf(fmt, ...) at items[n] when n < cap; returns
 * the new n (n again when full). */
__attribute__((format(printf, 5, 6))) size_t krk_metadata_row(krk_metadata_item *items, size_t n,
                                                              size_t cap, const char *key,
                                                              const char *fmt, ...);

/* Appends the health rows (Servers, Current_server, Failovers, Server_1..N,
 * Client_cert_expires, Cert_warning) to items[n..cap); returns the new n. */
size_t krk_health_rows(const krk_state *s, krk_metadata_item *items, size_t n, size_t cap);

/* The summary of a state (NULL: all zero). */
void krk_health_summary(const krk_state *s, krk_health *out);

#endif
