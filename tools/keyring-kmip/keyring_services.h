/* SPDX-License-Identifier: GPL-2.0-only */
/* keyring-kmip's one door to the keyring: component_keyring_kmip loaded
 * through the chassis the way mysqld loads it (manifest, plugin directory,
 * keyring_load.load(plugin_dir, datadir)), or, with --config, the component
 * linked into the program loaded from that file; every call then goes
 * through the component's MySQL keyring services (and keyring_kmip_admin
 * for what those cannot say). The commands call only these functions.
 *
 * Messages the component logs while a call is running reach stderr as
 * "keyring-kmip: warning: ..."; an error it logs during a call is not
 * repeated, since the call's failure comes back as its krk_err with
 * ks_error's text (the caller says it). Notes are not shown. */
#ifndef KEYRING_KMIP_KEYRING_SERVICES_H
#define KEYRING_KMIP_KEYRING_SERVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keyring_kmip/krk.h"

typedef struct ks_keyring ks_keyring;

typedef struct ks_where {
    const char *config;                        /* --config FILE; else the installation: */
    const char *basedir, *datadir, *plugin_dir; /* datadir may be NULL */
    bool progress;                             /* "loading keys: n/m" on stderr */
    bool migrate_keyring; /* no host log services, as in mysql_migrate_keyring */
} ks_where;

/* Opens; on failure *out is NULL and diag has the error; diag's warnings
 * (the manifest's) are for the caller to print either way. */
krk_err ks_open(const ks_where *where, ks_keyring **out, krk_diag *diag);
void ks_close(ks_keyring *k);

/* The last failed call's message (of this thread). */
const char *ks_error(ks_keyring *k);

krk_err ks_store(ks_keyring *k, const char *data_id, const char *auth_id, const uint8_t *data,
                 size_t len, const char *type);
krk_err ks_generate(ks_keyring *k, const char *data_id, const char *auth_id, const char *type,
                    size_t len);
krk_err ks_remove(ks_keyring *k, const char *data_id, const char *auth_id);
/* The key's bytes (cap at least KRK_MAX_KEY_BYTES) and type name;
 * KRK_E_NOT_FOUND when there is no such key. */
krk_err ks_get(ks_keyring *k, const char *data_id, const char *auth_id, uint8_t *data,
               size_t cap, size_t *len, char *type, size_t type_cap);

/* Every key, through the keys-metadata iterator; fn returns false to stop. */
typedef bool (*ks_key_fn)(void *ctx, const char *data_id, const char *auth_id,
                          krk_key_state state, const char *state_name);
krk_err ks_each_key(ks_keyring *k, ks_key_fn fn, void *ctx);

/* Every row of keyring_component_metadata_query (what
 * performance_schema.keyring_component_status shows). */
typedef void (*ks_row_fn)(void *ctx, const char *key, const char *value);
krk_err ks_each_status(ks_keyring *k, ks_row_fn fn, void *ctx);
/* One row's value into buf ("" and false when absent). */
bool ks_status_value(ks_keyring *k, const char *key, char *buf, size_t cap);

krk_err ks_check_server(ks_keyring *k, bool repair, krk_check_fn fn, void *ctx,
                        krk_check_result *out);
/* Probes the configured servers not contacted yet (a Discover Versions
 * each, bounded by the connect timeout): the status rows then show every
 * server's real state. Returns how many were probed. */
size_t ks_probe_servers(ks_keyring *k);
uint64_t ks_load_requests(ks_keyring *k);
/* The configuration file in service; the manifest ("" path for --config). */
const char *ks_config_path(ks_keyring *k);
const krk_manifest *ks_manifest(ks_keyring *k);

/* The exit status for a keyring error (cli.h, docs/CLI.md). A key in
 * conflict is CLI_CONFLICT when conflict_status (migrate: the destination
 * holds the key with other bytes, status 8 as for `check`), else a refusal
 * like any other (CLI_BAD_INPUT: `get` or `remove` of a key in conflict). */
int ks_exit_for(krk_err e, bool conflict_status);

#endif
