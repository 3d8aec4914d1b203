/* SPDX-License-Identifier: GPL-2.0-only */
/* Internal: the in-memory keys, a hash table on (auth_id, data_id). Not
 * locked itself: the keyring holds its lock around every call, except
 * krk_cache_find_rcu, which readers call inside an RCU read section
 * (rcu.h) without the lock: every link a reader follows is stored
 * atomically, a key is freed and a table replaced only after
 * krk_rcu_synchronize, and a key's fields are fixed once it is published
 * (but state, which lock-free readers do not read, and conflict_uid, set
 * once with krk_key_set_conflict). */
#ifndef KRK_CACHE_H
#define KRK_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keyring_kmip/krk.h"

typedef struct krk_key {
    struct krk_key *next; /* hash chain */
    uint64_t hash;        /* of (auth_id, data_id): compared before the bytes */
    uint8_t *material;
    size_t material_len;
    char *uid; /* the KMIP object's Unique Identifier (any length): in the key's own
                  block after auth_id, or its own block once replaced (krk_key_set_uid) */
    char *conflict_uid; /* another object with this identity and other bytes, or NULL:
                           the key is then not served (invariant 3) */
    char *auth_id;      /* = data_id + its length + 1, never changed */
    krk_key_type type;
    uint32_t state; /* its KMIP State: Active, Deactivated or Compromised */
    /* data_id, auth_id and uid, NUL-terminated: one heap block per key, its
     * size exact (a 9-character data_id, no auth_id and a 12-character
     * identifier: one 96-byte malloc chunk) */
    char data_id[];
} krk_key;

typedef struct krk_table {
    size_t n; /* buckets: a power of two */
    krk_key *head[];
} krk_table;

typedef struct krk_cache {
    krk_table *table; /* replaced whole (atomically) when it grows */
    size_t count;
    uint64_t generation; /* changes with every insert and removal */
} krk_cache;

bool krk_cache_init(krk_cache *c);
/* Wipes every key. */
void krk_cache_clear(krk_cache *c);
krk_key *krk_cache_find(const krk_cache *c, const char *data_id, const char *auth_id);
/* The same inside an RCU read section, without the keyring's lock. A key
 * being inserted or the table growing at the same time may be missed:
 * NULL means "look again under the lock", never "not there". An id longer
 * than KRK_MAX_ID_BYTES is never found here (the locked path refuses it:
 * one answer, cached or not); its length is found while hashing. */
const krk_key *krk_cache_find_rcu(const krk_cache *c, const char *data_id, const char *auth_id);
/* Sets a published key's conflict_uid (lock held; readers see it or not). */
void krk_key_set_conflict(krk_key *k, char *conflict_uid);
/* conflict_uid as a lock-free reader sees it. */
const char *krk_key_conflict(const krk_key *k);
/* Takes a new key made by krk_key_new; false when out of memory (the key
 * is then freed). */
bool krk_cache_insert(krk_cache *c, krk_key *key);
/* Unlinks the key, waits until no lock-free reader can hold it
 * (krk_rcu_synchronize), and wipes it. */
void krk_cache_remove(krk_cache *c, krk_key *key);
/* Calls fn for every key (order unspecified). */
void krk_cache_each(const krk_cache *c, void (*fn)(void *ctx, const krk_key *k), void *ctx);

/* Replaces the key's Unique Identifier with a copy of uid (lock held; not
 * read by lock-free readers); false when out of memory (nothing changed). */
bool krk_key_set_uid(krk_key *k, const char *uid);

krk_key *krk_key_new(const char *data_id, const char *auth_id, krk_key_type type,
                     const uint8_t *material, size_t len, const char *uid);
void krk_key_free(krk_key *k);

#endif
