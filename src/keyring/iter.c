/* SPDX-License-Identifier: GPL-2.0-only */
/* The iterator: a snapshot of the ids (and states) of the cache, invalid
 * once the cache or the state changed. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "handle.h"
#include "types.h"

struct krk_iter {
    krk_keyring *k;
    uint64_t epoch;
    uint64_t generation;
    char **data_ids;
    char **auth_ids;
    krk_key_state *states;
    size_t count, pos;
};

typedef struct snap {
    krk_iter *it;
    bool failed;
} snap;

static void take_ids(void *ctx, const krk_key *key)
{
    snap *s = ctx;
    krk_iter *it = s->it;
    it->data_ids[it->count] = strdup(key->data_id);
    it->auth_ids[it->count] = strdup(key->auth_id);
    it->states[it->count] = krk_key_state_of(key);
    if (it->data_ids[it->count] == NULL || it->auth_ids[it->count] == NULL)
        s->failed = true;
    it->count++;
}

krk_err krk_iter_init(krk_keyring *k, krk_iter **out)
{
    *out = NULL;
    if (!krk_is_initialized(k))
        return KRK_E_NOT_INITIALIZED;
    krk_iter *it = calloc(1, sizeof *it);
    if (it == NULL)
        return krk_set_error(k, KRK_E_NOMEM, "out of memory");
    it->k = k;
    pthread_rwlock_rdlock(&k->lock);
    const krk_cache *c = &k->state->cache;
    it->epoch = k->epoch;
    it->generation = c->generation;
    it->data_ids = calloc(c->count + 1, sizeof(char *));
    it->auth_ids = calloc(c->count + 1, sizeof(char *));
    it->states = calloc(c->count + 1, sizeof *it->states);
    snap s = {it, it->data_ids == NULL || it->auth_ids == NULL || it->states == NULL};
    if (!s.failed)
        krk_cache_each(c, take_ids, &s);
    pthread_rwlock_unlock(&k->lock);
    if (s.failed) {
        krk_iter_deinit(it);
        return krk_set_error(k, KRK_E_NOMEM, "out of memory");
    }
    *out = it;
    return KRK_OK;
}

static bool unchanged(const krk_iter *it)
{
    pthread_rwlock_rdlock(&it->k->lock);
    bool same = it->k->epoch == it->epoch && it->k->state->cache.generation == it->generation;
    pthread_rwlock_unlock(&it->k->lock);
    return same;
}

bool krk_iter_is_valid(const krk_iter *it)
{
    return it != NULL && it->pos < it->count && unchanged(it);
}

krk_err krk_iter_next(krk_iter *it)
{
    if (!unchanged(it))
        return KRK_E_INVALIDATED;
    if (it->pos >= it->count)
        return KRK_E_NOT_FOUND;
    it->pos++;
    return KRK_OK;
}

krk_err krk_iter_get_length(const krk_iter *it, size_t *data_id_len, size_t *auth_id_len)
{
    if (!krk_iter_is_valid(it))
        return unchanged(it) ? KRK_E_NOT_FOUND : KRK_E_INVALIDATED;
    *data_id_len = strlen(it->data_ids[it->pos]);
    *auth_id_len = strlen(it->auth_ids[it->pos]);
    return KRK_OK;
}

krk_err krk_iter_get(const krk_iter *it, char *data_id, size_t data_id_cap, char *auth_id,
                     size_t auth_id_cap)
{
    size_t dl, al;
    krk_err e = krk_iter_get_length(it, &dl, &al);
    if (e != KRK_OK)
        return e;
    if (data_id == NULL || auth_id == NULL || data_id_cap <= dl || auth_id_cap <= al)
        return KRK_E_BUFFER;
    memcpy(data_id, it->data_ids[it->pos], dl + 1);
    memcpy(auth_id, it->auth_ids[it->pos], al + 1);
    return KRK_OK;
}

krk_err krk_iter_get_state(const krk_iter *it, krk_key_state *state)
{
    size_t dl, al;
    krk_err e = krk_iter_get_length(it, &dl, &al);
    if (e == KRK_OK)
        *state = it->states[it->pos];
    return e;
}

void krk_iter_deinit(krk_iter *it)
{
    if (it == NULL)
        return;
    for (size_t i = 0; i < it->count; i++) {
        free(it->data_ids[i]);
        free(it->auth_ids[i]);
    }
    free(it->data_ids);
    free(it->auth_ids);
    free(it->states);
    free(it);
}
