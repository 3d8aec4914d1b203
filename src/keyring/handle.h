/* SPDX-License-Identifier: GPL-2.0-only */
/* Internal: the keyring handle (krk_keyring of krk.h) and what the files
 * implementing its operations share: errors, the checks every operation on
 * a key starts with, the bracket of a write.
 *
 * Locks: `lock` guards the state pointer and the cache (readers share it,
 * a change of the cache takes it for writing; the lock-free readers of
 * reader.c take none); `write_lock` lets one writer (store, generate,
 * remove, refresh, reload, probe) at a time use the state's client, and is
 * held across the writer's round trip while `lock` is not; `lookup_lock`
 * serializes lookups on their own client; `err_lock` guards last_error. */
#ifndef KRK_HANDLE_H
#define KRK_HANDLE_H

#include <pthread.h>
#include <sys/types.h>
#include <stdbool.h>
#include <stdint.h>

#include "state.h"

/* Bytes of an error message (krk_last_error, metadata's Last_error). */
#define KRK_ERROR_CAP 768

struct krk_keyring {
    pthread_rwlock_t lock;      /* the state pointer and the cache */
    pthread_mutex_t write_lock; /* one writer (or reload) at a time */
    pthread_mutex_t err_lock;
    krk_state *state;
    uint64_t epoch;         /* changes with every swap of the state */
    pthread_mutex_t lookup_lock; /* krk_lookup, one at a time, on its own client */
    kmip_client *lookup;
    krk_log_sink lookup_sink; /* outlives the lookup client */
    uint64_t lookup_epoch;
    long long lookup_failed_ms; /* when the server last failed a lookup (monotonic), 0: never */
    char lookup_failure[KRK_ERROR_CAP];
    char last_error[KRK_ERROR_CAP]; /* the keyring's last error, for metadata (err_lock) */
    pid_t pid; /* the process that opened it (krk_close in a forked child) */
};

/* Sets the calling thread's error (krk_last_error) and the keyring's last
 * one (metadata) to the message; returns code. */
__attribute__((format(printf, 3, 4))) krk_err krk_set_error(krk_keyring *k, krk_err code,
                                                           const char *fmt, ...);

/* The checks every operation on one key starts with: the keyring is open,
 * the ids are not empty and not too long. An absent *auth_id becomes the
 * empty one. */
krk_err krk_begin_key_op(krk_keyring *k, const char *data_id, const char **auth_id);

/* The bracket of a write, with write_lock held: the write and the check of
 * its outcome together take at most kmip_timeout_ms; the end copies the
 * connection's details for status (state.h). */
void krk_begin_write(krk_keyring *k);
void krk_end_write(krk_keyring *k);

/* True when the cache holds (data_id, auth_id) (takes the read lock). */
bool krk_cached(krk_keyring *k, const char *data_id, const char *auth_id);

/* KRK_E_CONFLICT, with the message naming both objects (lock held). */
krk_err krk_conflict_error(krk_keyring *k, const krk_key *key);

#endif
