/* SPDX-License-Identifier: GPL-2.0-only */
/* Test tooling: objects in memory, guarded by one mutex. */
#include "store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmip/kmip_ttlv.h"

struct kts_store {
    pthread_mutex_t lock;
    kts_object **objects;
    size_t count, cap;
    uint64_t next_id;
};

kts_store *kts_store_new(void)
{
    kts_store *s = calloc(1, sizeof *s);
    if (s)
        pthread_mutex_init(&s->lock, NULL);
    return s;
}

static void object_free(kts_object *o)
{
    kmip_secure_free(o->material, o->material_len);
    kmip_secure_free(o, sizeof *o);
}

void kts_store_free(kts_store *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->count; i++)
        object_free(s->objects[i]);
    free(s->objects);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

void kts_store_lock(kts_store *s)
{
    pthread_mutex_lock(&s->lock);
}

void kts_store_unlock(kts_store *s)
{
    pthread_mutex_unlock(&s->lock);
}

kts_object *kts_store_add(kts_store *s, kts_object *o)
{
    if (s->count == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        kts_object **grown = malloc(cap * sizeof *grown);
        if (grown == NULL)
            return NULL;
        if (s->count)
            memcpy(grown, s->objects, s->count * sizeof *grown);
        free(s->objects);
        s->objects = grown;
        s->cap = cap;
    }
    kts_object *copy = malloc(sizeof *copy);
    if (copy == NULL)
        return NULL;
    snprintf(o->uid, sizeof o->uid, "kts-%08llu", (unsigned long long)++s->next_id);
    *copy = *o;
    s->objects[s->count++] = copy;
    return copy;
}

kts_object *kts_store_find(kts_store *s, const char *uid, size_t len, const char *owner)
{
    for (size_t i = 0; i < s->count; i++) {
        kts_object *o = s->objects[i];
        if (strlen(o->uid) == len && memcmp(o->uid, uid, len) == 0 &&
            strcmp(o->owner, owner) == 0)
            return o;
    }
    return NULL;
}

void kts_store_remove(kts_store *s, kts_object *o)
{
    for (size_t i = 0; i < s->count; i++) {
        if (s->objects[i] == o) {
            memmove(&s->objects[i], &s->objects[i + 1], (s->count - i - 1) * sizeof o);
            s->count--;
            object_free(o);
            return;
        }
    }
}

size_t kts_store_count(const kts_store *s)
{
    return s->count;
}

kts_object *kts_store_at(kts_store *s, size_t i)
{
    return s->objects[i];
}

/* ---- persistence (--state): the whole store in one file, replaced
 * atomically, so that a test can kill the server and start it again ---- */

static const char magic[8] = "KTSTATE1";

bool kts_store_save(kts_store *s, const char *path)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (f == NULL)
        return false;
    bool ok = fwrite(magic, sizeof magic, 1, f) == 1 &&
              fwrite(&s->next_id, sizeof s->next_id, 1, f) == 1 &&
              fwrite(&s->count, sizeof s->count, 1, f) == 1;
    for (size_t i = 0; ok && i < s->count; i++) {
        kts_object o = *s->objects[i];
        o.material = NULL;
        ok = fwrite(&o, sizeof o, 1, f) == 1 &&
             (o.material_len == 0 ||
              fwrite(s->objects[i]->material, o.material_len, 1, f) == 1);
    }
    ok = fclose(f) == 0 && ok;
    return ok && rename(tmp, path) == 0;
}

bool kts_store_load(kts_store *s, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return true; /* nothing saved yet */
    char m[sizeof magic];
    size_t n = 0;
    bool ok = fread(m, sizeof m, 1, f) == 1 && memcmp(m, magic, sizeof m) == 0 &&
              fread(&s->next_id, sizeof s->next_id, 1, f) == 1 && fread(&n, sizeof n, 1, f) == 1;
    for (size_t i = 0; ok && i < n; i++) {
        kts_object o;
        ok = fread(&o, sizeof o, 1, f) == 1 && o.material_len <= 1u << 20;
        o.material = ok ? malloc(o.material_len ? o.material_len : 1) : NULL;
        ok = o.material && (o.material_len == 0 || fread(o.material, o.material_len, 1, f) == 1);
        uint64_t id = s->next_id;
        char uid[sizeof o.uid];
        memcpy(uid, o.uid, sizeof uid);
        kts_object *added = ok ? kts_store_add(s, &o) : NULL;
        if (added) { /* keep the saved identifier */
            memcpy(added->uid, uid, sizeof uid);
            s->next_id = id;
        } else {
            free(o.material);
            ok = false;
        }
    }
    fclose(f);
    return ok;
}
