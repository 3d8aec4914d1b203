/* SPDX-License-Identifier: GPL-2.0-only */
/* keyring-kmip migrate: the set of keys being moved, and jansson's
 * allocations through wiping functions. */
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "kmip/kmip_ttlv.h"
#include "migrate.h"

bool mig_keys_add(mig_keys *s, const char *data_id, const char *auth_id, const char *type,
                  const uint8_t *data, size_t len)
{
    if (s->count == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        mig_key *items = realloc(s->items, cap * sizeof *items);
        if (items == NULL)
            return false;
        s->items = items;
        s->cap = cap;
    }
    mig_key *k = &s->items[s->count];
    memset(k, 0, sizeof *k);
    k->data_id = strdup(data_id);
    k->auth_id = strdup(auth_id);
    k->data = malloc(len ? len : 1);
    if (k->data_id == NULL || k->auth_id == NULL || k->data == NULL) {
        free(k->data_id);
        free(k->auth_id);
        free(k->data);
        return false;
    }
    if (len)
        memcpy(k->data, data, len);
    k->len = len;
    snprintf(k->type, sizeof k->type, "%s", type);
    s->count++;
    return true;
}

mig_key *mig_keys_find(const mig_keys *s, const char *data_id, const char *auth_id)
{
    for (size_t i = 0; i < s->count; i++)
        if (strcmp(s->items[i].data_id, data_id) == 0 &&
            strcmp(s->items[i].auth_id, auth_id) == 0)
            return &s->items[i];
    return NULL;
}

void mig_keys_free(mig_keys *s)
{
    for (size_t i = 0; i < s->count; i++) {
        free(s->items[i].data_id);
        free(s->items[i].auth_id);
        kmip_secure_free(s->items[i].data, s->items[i].len ? s->items[i].len : 1);
    }
    free(s->items);
    memset(s, 0, sizeof *s);
}

/* Each block remembers its size in front of it, so that free can wipe it
 * (jansson's free gets the pointer only). */
#define HEADER ((size_t)alignof(max_align_t))

static void *wiping_malloc(size_t n)
{
    if (n > SIZE_MAX - HEADER)
        return NULL;
    unsigned char *b = malloc(n + HEADER);
    if (b == NULL)
        return NULL;
    memcpy(b, &n, sizeof n);
    return b + HEADER;
}

static void wiping_free(void *p)
{
    if (p == NULL)
        return;
    unsigned char *b = (unsigned char *)p - HEADER;
    size_t n;
    memcpy(&n, b, sizeof n);
    kmip_secure_free(b, n + HEADER);
}

void mig_json_wipe_allocs(void)
{
    json_set_alloc_funcs(wiping_malloc, wiping_free);
}
