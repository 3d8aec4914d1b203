/* SPDX-License-Identifier: GPL-2.0-only */
#include "cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmip/kmip_message.h"
#include "kmip/kmip_registry.h"
#include "secure.h"

static uint64_t hash(const char *data_id, const char *auth_id)
{
    uint64_t h = 1469598103934665603u; /* FNV-1a over auth_id, a 0 byte, data_id */
    for (const char *p = auth_id; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211u;
    h = (h ^ 0u) * 1099511628211u;
    for (const char *p = data_id; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211u;
    return h;
}

bool krk_cache_init(krk_cache *c)
{
    memset(c, 0, sizeof *c);
    c->bucket_count = 64;
    c->buckets = calloc(c->bucket_count, sizeof *c->buckets);
    return c->buckets != NULL;
}

void krk_key_free(krk_key *k)
{
    if (k == NULL)
        return;
    krk_secret_free(k->material, k->material_len);
    free(k->data_id);
    free(k->auth_id);
    free(k->uid);
    free(k->conflict_uid);
    kmip_secure_zero(k, sizeof *k);
    free(k);
}

krk_key *krk_key_new(const char *data_id, const char *auth_id, krk_key_type type,
                     const uint8_t *material, size_t len, const char *uid)
{
    krk_key *k = calloc(1, sizeof *k);
    if (k == NULL)
        return NULL;
    k->data_id = strdup(data_id);
    k->auth_id = strdup(auth_id);
    k->uid = strdup(uid ? uid : "");
    k->material = krk_secret_alloc(len);
    if (k->data_id == NULL || k->auth_id == NULL || k->uid == NULL || k->material == NULL) {
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

void krk_cache_clear(krk_cache *c)
{
    for (size_t i = 0; c->buckets && i < c->bucket_count; i++) {
        krk_key *k = c->buckets[i];
        while (k) {
            krk_key *next = k->next;
            krk_key_free(k);
            k = next;
        }
    }
    free(c->buckets);
    memset(c, 0, sizeof *c);
}

krk_key *krk_cache_find(const krk_cache *c, const char *data_id, const char *auth_id)
{
    if (c->buckets == NULL)
        return NULL;
    krk_key *k = c->buckets[hash(data_id, auth_id) % c->bucket_count];
    for (; k; k = k->next)
        if (strcmp(k->data_id, data_id) == 0 && strcmp(k->auth_id, auth_id) == 0)
            return k;
    return NULL;
}

static bool grow(krk_cache *c)
{
    size_t n = c->bucket_count * 2;
    krk_key **b = calloc(n, sizeof *b);
    if (b == NULL)
        return false;
    for (size_t i = 0; i < c->bucket_count; i++) {
        krk_key *k = c->buckets[i];
        while (k) {
            krk_key *next = k->next;
            size_t at = hash(k->data_id, k->auth_id) % n;
            k->next = b[at];
            b[at] = k;
            k = next;
        }
    }
    free(c->buckets);
    c->buckets = b;
    c->bucket_count = n;
    return true;
}

bool krk_cache_insert(krk_cache *c, krk_key *key)
{
    if (c->count + 1 > c->bucket_count && !grow(c)) {
        krk_key_free(key);
        return false;
    }
    size_t at = hash(key->data_id, key->auth_id) % c->bucket_count;
    key->next = c->buckets[at];
    c->buckets[at] = key;
    c->count++;
    c->generation++;
    return true;
}

void krk_cache_remove(krk_cache *c, krk_key *key)
{
    krk_key **p = &c->buckets[hash(key->data_id, key->auth_id) % c->bucket_count];
    for (; *p; p = &(*p)->next) {
        if (*p == key) {
            *p = key->next;
            c->count--;
            c->generation++;
            krk_key_free(key);
            return;
        }
    }
}

void krk_cache_each(const krk_cache *c, void (*fn)(void *ctx, const krk_key *k), void *ctx)
{
    for (size_t i = 0; i < c->bucket_count; i++)
        for (const krk_key *k = c->buckets[i]; k; k = k->next)
            fn(ctx, k);
}
