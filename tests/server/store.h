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
} kts_object;

typedef struct kts_store kts_store;

kts_store *kts_store_new(void);
void kts_store_free(kts_store *s);
void kts_store_lock(kts_store *s);
void kts_store_unlock(kts_store *s);
/* Adds a copy of o with a fresh uid (written back to o->uid); NULL on NOMEM.
 * Call with the lock held, like every function below. */
kts_object *kts_store_add(kts_store *s, kts_object *o);
kts_object *kts_store_find(kts_store *s, const char *uid, size_t len, const char *owner);
void kts_store_remove(kts_store *s, kts_object *o);
size_t kts_store_count(const kts_store *s);
kts_object *kts_store_at(kts_store *s, size_t i);
/* Saves the whole store to path (atomically) / loads it (a missing file is
 * an empty store). */
bool kts_store_save(kts_store *s, const char *path);
bool kts_store_load(kts_store *s, const char *path);

#endif
