/* SPDX-License-Identifier: GPL-2.0-only */
#include "cache.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "kmip/kmip_message.h"
#include "kmip/kmip_registry.h"
#include "rcu.h"
#include "secure.h"

/* FNV-1a over auth_id, a 0 byte, data_id; the ids' lengths on the way
 * (the lookup compares lengths and hashes before any byte). */
typedef struct id_hash {
    uint64_t h;
    size_t data_len, auth_len;
} id_hash;

/* False when an id is longer than max bytes (the rest is not read). */
static bool hash_ids(const char *data_id, const char *auth_id, size_t max, id_hash *out)
{
    uint64_t h = 1469598103934665603u;
    const char *p = auth_id;
    for (; *p; p++) {
        if ((size_t)(p - auth_id) == max)
            return false;
        h = (h ^ (uint8_t)*p) * 1099511628211u;
    }
    out->auth_len = (size_t)(p - auth_id);
    h = (h ^ 0u) * 1099511628211u;
    for (p = data_id; *p; p++) {
        if ((size_t)(p - data_id) == max)
            return false;
        h = (h ^ (uint8_t)*p) * 1099511628211u;
    }
    out->data_len = (size_t)(p - data_id);
    out->h = h;
    return true;
}

static uint64_t hash(const char *data_id, const char *auth_id)
{
    id_hash x;
    (void)hash_ids(data_id, auth_id, SIZE_MAX, &x);
    return x.h;
}

/* k is the key of x's ids: the hash, then the lengths (data_id's from the
 * ids' layout), then the bytes with their NULs. */
static bool same_ids(const krk_key *k, const id_hash *x, const char *data_id,
                     const char *auth_id)
{
    return k->hash == x->h && (size_t)(k->auth_id - k->data_id) == x->data_len + 1 &&
           memcmp(k->data_id, data_id, x->data_len + 1) == 0 &&
           memcmp(k->auth_id, auth_id, x->auth_len + 1) == 0;
}

/* Tables have a power of two of buckets (64, doubled as they grow): a
 * mask, not a division (a divq was a tenth of a lock-free read). */
static size_t bucket(const krk_table *t, uint64_t h)
{
    return (size_t)(h & (t->n - 1));
}

/* Tables of this many bytes or more are mapped apart from the malloc heap
 * (zero-filled) and unmapped when replaced: a table outgrown during a load
 * would otherwise stay in the heap under the keys as free but resident
 * pages (64 + 128 + ... KiB: about 14 bytes per key at 10,000 keys). */
#define TABLE_MAPPED_BYTES ((size_t)16 << 10)

static size_t table_bytes(size_t n)
{
    return sizeof(krk_table) + n * sizeof(krk_key *);
}

static krk_table *table_new(size_t n)
{
    size_t bytes = table_bytes(n);
    krk_table *t;
    if (bytes >= TABLE_MAPPED_BYTES) {
        t = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (t == MAP_FAILED)
            t = NULL;
    } else {
        t = calloc(1, bytes);
    }
    if (t)
        t->n = n;
    return t;
}

static void table_free(krk_table *t)
{
    if (t == NULL)
        return;
    if (table_bytes(t->n) >= TABLE_MAPPED_BYTES)
        munmap(t, table_bytes(t->n));
    else
        free(t);
}

bool krk_cache_init(krk_cache *c)
{
    memset(c, 0, sizeof *c);
    c->table = table_new(64);
    return c->table != NULL;
}

/* The bytes of k's own block after the header: data_id, auth_id and the
 * Unique Identifier it was made with, each NUL-terminated. */
static size_t ids_bytes(const krk_key *k)
{
    size_t ids = (size_t)(k->auth_id - k->data_id) + strlen(k->auth_id) + 1;
    return ids + strlen(k->data_id + ids) + 1;
}

/* True when uid is not the one in k's own block. */
static bool uid_apart(const krk_key *k)
{
    return k->uid != k->auth_id + strlen(k->auth_id) + 1;
}

void krk_key_free(krk_key *k)
{
    if (k == NULL)
        return;
    krk_secret_free(k->material, k->material_len);
    if (uid_apart(k))
        free(k->uid);
    free(k->conflict_uid);
    kmip_secure_zero(k, sizeof *k + ids_bytes(k));
    free(k);
}

krk_key *krk_key_new(const char *data_id, const char *auth_id, krk_key_type type,
                     const uint8_t *material, size_t len, const char *uid)
{
    if (uid == NULL)
        uid = "";
    size_t dl = strlen(data_id), al = strlen(auth_id), ul = strlen(uid);
    krk_key *k = malloc(sizeof *k + dl + al + ul + 3);
    if (k == NULL)
        return NULL;
    memset(k, 0, sizeof *k);
    memcpy(k->data_id, data_id, dl + 1);
    k->auth_id = k->data_id + dl + 1;
    memcpy(k->auth_id, auth_id, al + 1);
    k->uid = k->auth_id + al + 1;
    memcpy(k->uid, uid, ul + 1);
    k->hash = hash(data_id, auth_id);
    k->material = krk_secret_alloc(len);
    if (k->material == NULL) {
        krk_key_free(k);
        return NULL;
    }
    if (len)
        memcpy(k->material, material, len);
    k->material_len = len;
    k->type = type;
    k->state = KMIP_STATE_ACTIVE;
    return k;
}

bool krk_key_set_uid(krk_key *k, const char *uid)
{
    char *u = strdup(uid);
    if (u == NULL)
        return false;
    if (uid_apart(k))
        free(k->uid);
    k->uid = u;
    return true;
}

void krk_key_set_conflict(krk_key *k, char *conflict_uid)
{
    __atomic_store_n(&k->conflict_uid, conflict_uid, __ATOMIC_SEQ_CST);
}

const char *krk_key_conflict(const krk_key *k)
{
    return __atomic_load_n(&k->conflict_uid, __ATOMIC_SEQ_CST);
}

/* Called when no reader can see the cache any more (its state was
 * unpublished and krk_rcu_synchronize returned, or it never was). */
void krk_cache_clear(krk_cache *c)
{
    krk_table *t = c->table;
    for (size_t i = 0; t && i < t->n; i++) {
        krk_key *k = t->head[i];
        while (k) {
            krk_key *next = k->next;
            krk_key_free(k);
            k = next;
        }
    }
    table_free(t);
    memset(c, 0, sizeof *c);
}

krk_key *krk_cache_find(const krk_cache *c, const char *data_id, const char *auth_id)
{
    id_hash x;
    if (c->table == NULL)
        return NULL;
    (void)hash_ids(data_id, auth_id, SIZE_MAX, &x);
    krk_key *k = c->table->head[bucket(c->table, x.h)];
    for (; k; k = k->next)
        if (same_ids(k, &x, data_id, auth_id))
            return k;
    return NULL;
}

const krk_key *krk_cache_find_rcu(const krk_cache *c, const char *data_id, const char *auth_id)
{
    id_hash x;
    if (!hash_ids(data_id, auth_id, KRK_MAX_ID_BYTES, &x))
        return NULL;
    const krk_table *t = __atomic_load_n(&c->table, __ATOMIC_SEQ_CST);
    if (t == NULL)
        return NULL;
    const krk_key *k = __atomic_load_n(&t->head[bucket(t, x.h)], __ATOMIC_SEQ_CST);
    for (; k; k = __atomic_load_n(&k->next, __ATOMIC_SEQ_CST))
        if (same_ids(k, &x, data_id, auth_id))
            return k;
    return NULL;
}

/* A new table with every key relinked into it; the keys' next links
 * change in place (atomically), so a lock-free reader walking the old
 * table may be led astray and miss a key (it then looks again under the
 * lock), but never reaches freed memory: the old table is freed after
 * krk_rcu_synchronize. */
static bool grow(krk_cache *c)
{
    krk_table *old = c->table, *t = table_new(old->n * 2);
    if (t == NULL)
        return false;
    for (size_t i = 0; i < old->n; i++) {
        krk_key *k = old->head[i];
        while (k) {
            krk_key *next = k->next;
            size_t at = bucket(t, k->hash);
            __atomic_store_n(&k->next, t->head[at], __ATOMIC_SEQ_CST);
            t->head[at] = k;
            k = next;
        }
    }
    __atomic_store_n(&c->table, t, __ATOMIC_SEQ_CST);
    krk_rcu_synchronize();
    table_free(old);
    return true;
}

bool krk_cache_insert(krk_cache *c, krk_key *key)
{
    if (c->count + 1 > c->table->n && !grow(c)) {
        krk_key_free(key);
        return false;
    }
    size_t at = bucket(c->table, key->hash);
    key->next = c->table->head[at];
    __atomic_store_n(&c->table->head[at], key, __ATOMIC_SEQ_CST); /* published whole */
    c->count++;
    c->generation++;
    return true;
}

void krk_cache_remove(krk_cache *c, krk_key *key)
{
    krk_key **p = &c->table->head[bucket(c->table, key->hash)];
    for (; *p; p = &(*p)->next) {
        if (*p == key) {
            __atomic_store_n(p, key->next, __ATOMIC_SEQ_CST);
            c->count--;
            c->generation++;
            krk_rcu_synchronize(); /* no reader holds it any more */
            krk_key_free(key);
            return;
        }
    }
}

void krk_cache_each(const krk_cache *c, void (*fn)(void *ctx, const krk_key *k), void *ctx)
{
    for (size_t i = 0; c->table && i < c->table->n; i++)
        for (const krk_key *k = c->table->head[i]; k; k = k->next)
            fn(ctx, k);
}
