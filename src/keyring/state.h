/* SPDX-License-Identifier: GPL-2.0-only */
/* Internal: one loaded keyring state (configuration, client, cache). A
 * reload builds a new state and swaps it in. */
#ifndef KRK_STATE_H
#define KRK_STATE_H

#include "cache.h"
#include "client_opts.h"
#include "kmip/kmip_client.h"
#include "keyring_kmip/krk.h"

#define KRK_DEFAULT_LOAD_TIMEOUT_MS 120000u

typedef struct krk_state {
    krk_config cfg;
    kmip_client *client; /* used by writers only, under the keyring's write lock */
    kmip_health *health; /* the servers' health, shared by this state's clients (own lock) */
    krk_cache cache;
    uint64_t load_requests;
    krk_log_sink log; /* the client's log messages (client_opts.h) */
    /* what the load found besides keys */
    size_t vanished;   /* destroyed between Locate and Get (Item Not Found): skipped */
    size_t not_served; /* Pre-Active (a write in progress or a leftover) or Destroyed */
    size_t duplicates; /* second objects with the same bytes: harmless */
    size_t conflicts;  /* keys held by objects with different bytes: not served */
    /* what status and metadata show of the connection: copied from the
     * client by the writer holding the keyring's write lock, so that
     * readers never touch the client */
    char kmip_version[16];
    char tls_version[32];
    char server_now[272]; /* scratch for messages naming the current server */
    long long client_cert_not_after; /* Unix seconds, 0: unknown (health.c) */
    char cert_warning[512];          /* "" or a certificate ending soon */
    unsigned long long cred_stamp[4]; /* krk_cred_stamp of the files the client uses */
    struct krk_fetcher *helpers; /* the load's helper connections still connecting when it
                                    ended, or NULL (load.c): joined when the state is freed */
} krk_state;

/* Copies the connection's details into kmip_version / tls_version. Called
 * by the writer, with the keyring's read/write lock held for writing. */
void krk_state_note_connection(krk_state *s);

/* A client for the configuration (not connected yet); NULL on NOMEM. */
kmip_client *krk_client_for(const krk_config *cfg, krk_log_sink *sink);
/* The same recording into (and sharing) h; NULL h: the client's own. */
kmip_client *krk_client_with_health(const krk_config *cfg, krk_log_sink *sink, kmip_health *h);

/* Connects and loads every key; diag gets the cause of a failure and a
 * warning per skipped object. */
krk_err krk_state_open(const krk_config *cfg, krk_progress_fn fn, void *ctx, krk_state **out,
                       krk_diag *d);
/* The same, except that a failed load whose helper connections are still
 * connecting is not freed here (freeing it waits for them: up to a
 * handshake's timeout) but handed back in *leftover (NULL when there is
 * nothing to wait for), for the caller to krk_state_free once it holds no
 * lock (review s4b R3-2: a failed reload kept the writers' lock that long).
 * On success *leftover is NULL. */
krk_err krk_state_open_leaving(const krk_config *cfg, krk_progress_fn fn, void *ctx,
                               krk_state **out, krk_state **leftover, krk_diag *d);
void krk_state_free(krk_state *s);

/* The objects of from's group that are not in known (Unique Identifiers,
 * sorted here): Locate, then Get and Get Attributes of the new ones only,
 * into `into` (a zeroed state whose cache this initialises; its client is
 * from's while it runs, NULL after). */
krk_err krk_state_fetch_new(krk_state *from, char **known, size_t known_count, krk_state *into,
                            krk_diag *d);

/* Identity of an object from its Get Attributes answer: ours (our
 * Application Specific Information) or Percona's (the Name, auth_id empty,
 * type from the object type). malloc'ed ids; false when it has neither. */
bool krk_identify(const kmip_get_attributes_response *ga, uint32_t object_type,
                  krk_key_type *type, char **data_id, char **auth_id, const char **tag,
                  size_t *tag_len);

/* The key spec for storing (name, group and application data filled into
 * the caller's buffers). */
typedef struct krk_spec_buffers {
    char name[2 * KRK_MAX_ID_BYTES + 2];
    char app_data[4 * KRK_MAX_ID_BYTES + 96];
} krk_spec_buffers;
/* tag: the write tag to put into the Application Data, or NULL. */
bool krk_spec_for(const krk_state *s, krk_key_type type, const char *data_id,
                  const char *auth_id, size_t size, const char *tag, kmip_key_spec *spec,
                  krk_spec_buffers *b);

#endif
