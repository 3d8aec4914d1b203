/* SPDX-License-Identifier: GPL-2.0-only */
/* Internal: the client's server list, per-server back-off and the health
 * bookkeeping shared by the clients of one keyring (servers.c). client.c
 * calls these around connecting and every exchange; everything that
 * touches the shared kmip_health takes its lock. */
#ifndef KMIP_SERVERS_H
#define KMIP_SERVERS_H

#include <stddef.h>
#include <stdint.h>

#include "kmip/kmip_client.h"

struct kmip_client;

/* Attaches the client to its options' health object (or a new one of its
 * own) and registers the servers; false when out of memory. */
bool kh_attach(struct kmip_client *c);
/* Drops the client's reference. */
void kh_detach(struct kmip_client *c);

/* The servers to try for a new connection, in order: those not backing
 * off in the configured order, or, when every one is, the one whose
 * window ends first. Returns the count written to order. */
size_t kh_order(struct kmip_client *c, size_t *order);

/* A connection to server i was set up after the servers in failed
 * failed in this attempt (counted as failovers; logged, as a recovery or
 * a return to a higher-priority server is). */
void kh_connected(struct kmip_client *c, size_t i, const size_t *failed, size_t failed_count,
                  const char *cert_not_after);
/* Server i failed (connect, TLS or exchange): its back-off grows, logged
 * with the cause. */
void kh_failed(struct kmip_client *c, size_t i, const char *cause);
/* A probe of server i (kmip_client_probe) succeeded in rtt_us: it is up,
 * its back-off ends; which server is current does not change. */
void kh_probed(struct kmip_client *c, size_t i, unsigned rtt_us, const char *cert_not_after);
/* An exchange with the current server succeeded in rtt_us. */
void kh_exchanged(struct kmip_client *c, unsigned rtt_us);

/* A new reference to h (NULL stays NULL), for copies of options. */
kmip_health *kh_options_ref(kmip_health *h);

/* "host:port" of server i ("[v6]:port" for IPv6). */
void kh_name(const kmip_server_addr *a, char *buf, size_t cap);

#endif
