/* SPDX-License-Identifier: GPL-2.0-only */
/* keyring_kmip: the keyring (libkeyring_kmip, prefix krk_), with the
 * semantics of the MySQL keyring component services.
 *
 * Keys are identified by (data_id, auth_id); auth_id may be empty (a key of
 * the server itself). All keys are loaded into memory when the keyring is
 * opened; reads (reader, iterator, metadata) never touch the network and
 * never wait behind it. Writes (store, generate, remove) go to the KMIP
 * server first and change the cache only after the server confirmed; they
 * are serialized among themselves but do not block readers while the
 * network round trip is under way.
 *
 * Return codes (krk_err, see krk_config.h): KRK_OK; KRK_E_NOT_FOUND (no
 * such key); KRK_E_EXISTS (store/generate of a pair that exists: no silent
 * overwrite); KRK_E_TOO_BIG (more than KRK_MAX_KEY_BYTES); KRK_E_BUFFER (a
 * caller's buffer is too small: nothing is written); KRK_E_TYPE (unknown
 * data type); KRK_E_KMIP (the KMIP server or the connection failed; the
 * message says which); KRK_E_NOT_INITIALIZED; KRK_E_INVALIDATED (an
 * iterator after a concurrent change); KRK_E_CONFIG; KRK_E_NOMEM; KRK_E_ARG;
 * KRK_E_CONFLICT (reader, AES, remove: two objects on the server hold the
 * key with different bytes; the message names both Unique Identifiers).
 *
 * A load (open, reload) has every key of the group or fails and keeps the
 * old state: only an object destroyed between Locate and Get (Item Not
 * Found) is skipped. Active, Deactivated and Compromised keys are loaded
 * (krk_iter_get_state), Pre-Active ones never served.
 * krk_last_error gives the message of the calling thread's last failed
 * call: per thread (thread-local), so that no thread reads a message
 * another thread is writing; the keyring's own last error (any thread) is
 * the Last_error item of krk_metadata.
 *
 * Memory: key material handed out is copied into the caller's buffers;
 * every copy the keyring holds is wiped when it is dropped. */
#ifndef KRK_H
#define KRK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "krk_config.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KRK_MAX_KEY_BYTES 16384
#define KRK_MAX_ID_BYTES 1024

typedef enum krk_key_type {
    KRK_TYPE_AES = 0,
    KRK_TYPE_RSA,
    KRK_TYPE_DSA,
    KRK_TYPE_SECRET,
} krk_key_type;

/* "AES", "RSA", "DSA", "SECRET". */
KRK_API const char *krk_type_name(krk_key_type t);
/* Case-insensitive. */
KRK_API bool krk_type_parse(const char *s, krk_key_type *t);

typedef struct krk_keyring krk_keyring;

/* Opens a keyring on a configuration: connects, negotiates, loads every
 * key of the configured object group (Locate, then Gets batched many per
 * request message). Fails with the cause when the server cannot be reached
 * or the keys cannot be loaded: it never comes up empty by mistake. Stray
 * objects (not keys of ours, or unreadable) are skipped and counted as
 * warnings in diag. */
KRK_API KRK_MUST_CHECK krk_err krk_open(const krk_config *cfg, krk_keyring **out, krk_diag *diag);
/* The same, calling fn(ctx, loaded, total) after batches of keys, always
 * on the calling thread (never on the load's helper threads) and with no
 * lock of the library held. */
typedef void (*krk_progress_fn)(void *ctx, size_t loaded, size_t total);
KRK_API KRK_MUST_CHECK krk_err krk_open_progress(const krk_config *cfg, krk_progress_fn fn,
                                                 void *ctx, krk_keyring **out, krk_diag *diag);
KRK_API void krk_close(krk_keyring *k);
/* Re-reads configuration and keys (the plugin directory and data
 * directory as for krk_config_find) into a new state and swaps it in; on
 * failure the old state stays in service and diag says why. The load holds
 * the writers' lock for its whole length (writes wait, readers keep
 * reading the old state), so no acknowledged write is lost by a reload. */
KRK_API KRK_MUST_CHECK krk_err krk_reload(krk_keyring *k, const char *plugin_dir,
                                          const char *datadir, krk_diag *diag);
/* The same with a configuration given directly (front ends configured by
 * other means, like the MariaDB plugin's system variables). */
KRK_API KRK_MUST_CHECK krk_err krk_reload_with(krk_keyring *k, const krk_config *cfg,
                                               krk_diag *diag);
KRK_API bool krk_is_initialized(const krk_keyring *k);
/* The calling thread's last error message (valid until its next call). */
KRK_API const char *krk_last_error(const krk_keyring *k);

/* ---- writer and generator ---- */

KRK_API KRK_MUST_CHECK krk_err krk_store(krk_keyring *k, const char *data_id, const char *auth_id,
                                         const uint8_t *data, size_t size, const char *type);
KRK_API KRK_MUST_CHECK krk_err krk_remove(krk_keyring *k, const char *data_id,
                                          const char *auth_id);
KRK_API KRK_MUST_CHECK krk_err krk_generate(krk_keyring *k, const char *data_id,
                                            const char *auth_id, const char *type, size_t size);

/* ---- reader ---- */

typedef struct krk_reader krk_reader;

/* KRK_OK and *out when the key exists; KRK_E_NOT_FOUND (and *out NULL)
 * when it does not; another code on error. */
KRK_API KRK_MUST_CHECK krk_err krk_reader_init(krk_keyring *k, const char *data_id,
                                               const char *auth_id, krk_reader **out);
KRK_API void krk_reader_fetch_length(const krk_reader *r, size_t *data_len, size_t *type_len);
/* Copies the key and its type name: type_cap must hold type_len bytes, and
 * the name is NUL-terminated when it holds one more (MySQL's keyring_common
 * convention: mysqld passes exactly type_len). KRK_E_BUFFER, with nothing
 * written, when either does not fit. */
KRK_API KRK_MUST_CHECK krk_err krk_reader_fetch(const krk_reader *r, uint8_t *data,
                                                size_t data_cap, size_t *data_len, char *type,
                                                size_t type_cap, size_t *type_len);
KRK_API void krk_reader_deinit(krk_reader *r);

/* ---- keys-metadata iterator ---- */

typedef struct krk_iter krk_iter;

KRK_API KRK_MUST_CHECK krk_err krk_iter_init(krk_keyring *k, krk_iter **out);
/* False at the end, and after any change to the keyring (invalidated). */
KRK_API bool krk_iter_is_valid(const krk_iter *it);
KRK_API KRK_MUST_CHECK krk_err krk_iter_next(krk_iter *it);
KRK_API KRK_MUST_CHECK krk_err krk_iter_get_length(const krk_iter *it, size_t *data_id_len,
                                                   size_t *auth_id_len);
/* The state of a key as the KMIP server holds it. Deactivated and
 * Compromised keys are served (data encrypted with them stays readable);
 * a key in conflict (two objects with different bytes) is not. */
typedef enum krk_key_state {
    KRK_KEY_ACTIVE = 0,
    KRK_KEY_DEACTIVATED,
    KRK_KEY_COMPROMISED,
    KRK_KEY_CONFLICT,
} krk_key_state;
/* "Active", "Deactivated", "Compromised", "Conflict". */
KRK_API const char *krk_key_state_name(krk_key_state state);
KRK_API KRK_MUST_CHECK krk_err krk_iter_get_state(const krk_iter *it, krk_key_state *state);
/* NUL-terminated copies; KRK_E_BUFFER when a buffer is too small. */
KRK_API KRK_MUST_CHECK krk_err krk_iter_get(const krk_iter *it, char *data_id, size_t data_id_cap,
                                            char *auth_id, size_t auth_id_cap);
KRK_API void krk_iter_deinit(krk_iter *it);

/* ---- AES with keyring keys (MySQL's keyring_aes semantics) ---- */

/* mode: "cbc", "cfb1", "cfb8", "cfb128" or "ofb" (any case); block_size
 * must be 256. The AES-256 key is the SHA-256 of the stored key, which must
 * be of type AES (else KRK_E_TYPE). iv: 16 bytes. padding (PKCS#7) applies
 * to cbc; cbc without padding takes whole 16-byte blocks. KRK_E_ARG for a
 * bad mode, block size, length, or padding that does not check out on
 * decryption; KRK_E_BUFFER when out_cap is below what get_size says. */
KRK_API KRK_MUST_CHECK krk_err krk_aes_get_size(size_t input_length, const char *mode,
                                                size_t block_size, size_t *out_size);
KRK_API KRK_MUST_CHECK krk_err krk_aes_encrypt(krk_keyring *k, const char *data_id,
                                               const char *auth_id, const char *mode,
                                               size_t block_size, const uint8_t *iv,
                                               bool padding, const uint8_t *in, size_t in_len,
                                               uint8_t *out, size_t out_cap, size_t *out_len);
KRK_API KRK_MUST_CHECK krk_err krk_aes_decrypt(krk_keyring *k, const char *data_id,
                                               const char *auth_id, const char *mode,
                                               size_t block_size, const uint8_t *iv,
                                               bool padding, const uint8_t *in, size_t in_len,
                                               uint8_t *out, size_t out_cap, size_t *out_len);

/* ---- incremental reads (the MariaDB plugin) ---- */

/* Locates the group's objects and fetches only those the keyring does not
 * hold yet (new keys made elsewhere): N unchanged keys cost the Locate and
 * no Get. Keys already held are not re-read (a state changed on the
 * server shows at the next reload). *added (may be NULL) counts the new
 * keys; krk_load_requests then gives the request messages it took. Holds
 * the writers' lock (bounded by load_timeout_ms); on failure the keys in
 * memory stay. */
KRK_API KRK_MUST_CHECK krk_err krk_refresh(krk_keyring *k, size_t *added, krk_diag *diag);
/* Fetches one key missing from memory from the server (a Locate of its
 * name and a Get, bounded by kmip_timeout_ms), on a client of its own:
 * it never waits for writers or reloads, and readers never wait for it.
 * KRK_OK: the key is now in the cache (Active, Deactivated or
 * Compromised); KRK_E_NOT_FOUND: the server has no served object for it;
 * KRK_E_CONFLICT, KRK_E_KMIP. Concurrent lookups run one at a time; for
 * 2 s after the server failed one, lookups fail at once (KRK_E_KMIP, the
 * message says so) instead of each costing the timeout while it is down. */
KRK_API KRK_MUST_CHECK krk_err krk_lookup(krk_keyring *k, const char *data_id,
                                          const char *auth_id);

/* ---- checking the server (keyring-kmip check) ---- */

typedef struct krk_check_result {
    size_t conflicts;   /* keys held by objects with different bytes (not served) */
    size_t leftovers;   /* Pre-Active objects of ours past their write lease */
    size_t removed;     /* of those, destroyed (repair) */
    size_t in_progress; /* Pre-Active objects of ours within their lease: writes going on */
    size_t foreign;     /* Pre-Active objects of our keys without a write tag */
} krk_check_result;
typedef void (*krk_check_fn)(void *ctx, const char *line);
/* Loads the keys of cfg's group like krk_open and reports, a line each
 * through fn: every conflict (both Unique Identifiers), every Pre-Active
 * object of a key (a write in progress, or a leftover of a writer that
 * crashed between Register and Activate once its lease of 600 s ran out).
 * repair destroys the leftovers (they were never served: their writer
 * gives up before half the lease). Errors as krk_open. */
KRK_API KRK_MUST_CHECK krk_err krk_check_server(const krk_config *cfg, bool repair,
                                                krk_check_fn fn, void *ctx,
                                                krk_check_result *out, krk_diag *diag);

/* ---- status and metadata ---- */

typedef struct krk_metadata_item {
    char key[32];
    char value[4352];
} krk_metadata_item;

#define KRK_METADATA_MAX 48

/* Component_name, Author, License, Implementation_name, Version,
 * Component_status, Server_addr, Server_port, Client_ca, Client_key,
 * Server_ca, Object_group, TLS_verification, and KMIP_version,
 * TLS_version, Key_count, Key_memory, Last_error, and the KMIP servers'
 * health: Servers ("3 configured, 2 up"), Current_server, Failovers,
 * Server_1 .. Server_N ("host:port; state=up; current=yes;
 * last_success=2026-12-01T12:00:00Z; rtt_ms=1.234; requests=N;
 * failures=N; failovers=N; backoff_ms=N; cert_not_after=...;
 * last_error=..." with last_error always last), Client_cert_expires and
 * Cert_warning. Returns the number of items written. */
KRK_API size_t krk_metadata(const krk_keyring *k, krk_metadata_item *items, size_t cap);
/* The KMIP servers at a glance (for status variables): how many are
 * configured and up, the current one, failovers so far, the client
 * certificate's end. Thread-safe; never waits for the network. */
typedef struct krk_health {
    size_t servers, servers_up;
    char current[272];               /* "host:port", "" before any connection */
    unsigned long long failovers;    /* times a client left a server for another */
    long long client_cert_not_after; /* Unix seconds, 0: unknown */
    char cert_warning[512];          /* "" or which certificate ends soon */
} krk_health;
KRK_API void krk_health_get(const krk_keyring *k, krk_health *out);
/* Probes every configured server this keyring has no result for yet (a
 * standby never contacted): TLS and Discover Versions each, bounded by the
 * connect timeout, in turn, so a dead standby shows as down in the health
 * rows and a live one as up. Waits for the network (for keyring-kmip status
 * and check, never for mysqld's status queries). Returns how many it probed. */
KRK_API size_t krk_probe_servers(krk_keyring *k);

/* Keys in the cache and the request messages the last load took. */
KRK_API size_t krk_key_count(const krk_keyring *k);
KRK_API uint64_t krk_load_requests(const krk_keyring *k);

#ifdef __cplusplus
}
#endif
#endif
