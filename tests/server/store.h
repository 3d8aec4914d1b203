/* SPDX-License-Identifier: GPL-2.0-only */
/* Test tooling: the in-memory object store of the KMIP test server. */
#ifndef KTS_STORE_H
#define KTS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KTS_MAX_APP_INFO 4

typedef struct kts_object {
    char uid[320];
    char owner[128];
    uint32_t object_type;
    uint32_t state;
    uint32_t algorithm;
    int32_t length_bits;
    int32_t usage_mask;
    uint32_t secret_data_type;
    uint8_t *material;
    size_t material_len;
    char name[256];
    char group[256];
    /* Application Specific Information: multi-valued */
    char app_namespace[KTS_MAX_APP_INFO][128];
    char app_data[KTS_MAX_APP_INFO][256];
    size_t app_count;
    int64_t created;
    /* the store's indexes (not saved) */
    struct kts_object *uid_next, *name_next;
    uint64_t seq; /* insertion order */
} kts_object;

typedef struct kts_store kts_store;

kts_store *kts_store_new(void);
void kts_store_free(kts_store *s);
void kts_store_lock(kts_store *s);
void kts_store_unlock(kts_store *s);
/* Adds a copy of o with a fresh uid (written back to o->uid); NULL on NOMEM.
 * Call with the lock held, like every function below. */
kts_object *kts_store_add(kts_store *s, kts_object *o);
/* By Unique Identifier through a hash table: O(1). */
kts_object *kts_store_find(kts_store *s, const char *uid, size_t len, const char *owner);
/* Gives o (stored) another identifier, re-indexed. */
void kts_store_set_uid(kts_store *s, kts_object *o, const char *uid);
/* The objects named name, in insertion order, into out (at most cap);
 * returns how many there are (may be more than cap). O(objects so named). */
size_t kts_store_by_name(kts_store *s, const char *name, kts_object **out, size_t cap);
/* A counter that changes with every add, remove or state change (callers
 * call kts_store_touch after changing an object's state), so that a Locate
 * cursor cached for paging knows when it is stale. */
uint64_t kts_store_generation(const kts_store *s);
void kts_store_touch(kts_store *s);
void kts_store_remove(kts_store *s, kts_object *o);
size_t kts_store_count(const kts_store *s);
kts_object *kts_store_at(kts_store *s, size_t i);
/* Saves the whole store to path (atomically) / loads it (a missing file is
 * an empty store). */
bool kts_store_save(kts_store *s, const char *path);
bool kts_store_load(kts_store *s, const char *path);

#endif
