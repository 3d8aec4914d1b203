/* SPDX-License-Identifier: GPL-2.0-only */
/* Test tooling: objects in memory, guarded by one mutex. Found by Unique
 * Identifier and by Name through hash tables (chained, grown with the
 * count), so that the server is not what a benchmark with 100,000 keys
 * measures; the array keeps insertion order for Locate. */
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
    uint64_t next_id, next_seq, generation;
    kts_object **by_uid, **by_name; /* nbuckets heads each */
    size_t nbuckets;                /* a power of two */
};

static size_t hash_of(const char *p, size_t len)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)p[i]) * 1099511628211ull;
    return (size_t)(h ^ (h >> 29));
}

static void index_add(kts_store *s, kts_object *o)
{
    size_t m = s->nbuckets - 1;
    size_t u = hash_of(o->uid, strlen(o->uid)) & m, n = hash_of(o->name, strlen(o->name)) & m;
    o->uid_next = s->by_uid[u];
    s->by_uid[u] = o;
    o->name_next = s->by_name[n];
    s->by_name[n] = o;
}

static void index_remove(kts_store *s, kts_object *o)
{
    size_t m = s->nbuckets - 1;
    kts_object **p = &s->by_uid[hash_of(o->uid, strlen(o->uid)) & m];
    while (*p && *p != o)
        p = &(*p)->uid_next;
    if (*p)
        *p = o->uid_next;
    p = &s->by_name[hash_of(o->name, strlen(o->name)) & m];
    while (*p && *p != o)
        p = &(*p)->name_next;
    if (*p)
        *p = o->name_next;
}

/* Keeps at most one object per bucket on average. */
static bool index_grow(kts_store *s)
{
    if (s->count < s->nbuckets)
        return true;
    size_t n = s->nbuckets ? s->nbuckets * 2 : 1024;
    kts_object **u = calloc(n, sizeof *u), **nm = calloc(n, sizeof *nm);
    if (u == NULL || nm == NULL) {
        free(u);
        free(nm);
        return false;
    }
    free(s->by_uid);
    free(s->by_name);
    s->by_uid = u;
    s->by_name = nm;
    s->nbuckets = n;
    for (size_t i = 0; i < s->count; i++)
        index_add(s, s->objects[i]);
    return true;
}

kts_store *kts_store_new(void)
{
    kts_store *s = calloc(1, sizeof *s);
    if (s)
        pthread_mutex_init(&s->lock, NULL);
    if (s && !index_grow(s)) {
        free(s);
        return NULL;
    }
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
    free(s->by_uid);
    free(s->by_name);
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
    if (!index_grow(s))
        return NULL;
    kts_object *copy = malloc(sizeof *copy);
    if (copy == NULL)
        return NULL;
    snprintf(o->uid, sizeof o->uid, "kts-%08llu", (unsigned long long)++s->next_id);
    *copy = *o;
    copy->seq = s->next_seq++;
    s->objects[s->count++] = copy;
    index_add(s, copy);
    s->generation++;
    return copy;
}

kts_object *kts_store_find(kts_store *s, const char *uid, size_t len, const char *owner)
{
    for (kts_object *o = s->by_uid[hash_of(uid, len) & (s->nbuckets - 1)]; o; o = o->uid_next)
        if (strlen(o->uid) == len && memcmp(o->uid, uid, len) == 0 &&
            strcmp(o->owner, owner) == 0)
            return o;
    return NULL;
}

void kts_store_set_uid(kts_store *s, kts_object *o, const char *uid)
{
    index_remove(s, o);
    snprintf(o->uid, sizeof o->uid, "%s", uid);
    index_add(s, o);
    s->generation++;
}

static int by_seq(const void *a, const void *b)
{
    const kts_object *x = *(kts_object *const *)a, *y = *(kts_object *const *)b;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

size_t kts_store_by_name(kts_store *s, const char *name, kts_object **out, size_t cap)
{
    size_t n = 0;
    for (kts_object *o = s->by_name[hash_of(name, strlen(name)) & (s->nbuckets - 1)]; o;
         o = o->name_next)
        if (strcmp(o->name, name) == 0) {
            if (n < cap)
                out[n] = o;
            n++;
        }
    if (out && n && cap)
        qsort(out, n < cap ? n : cap, sizeof *out, by_seq);
    return n;
}

uint64_t kts_store_generation(const kts_store *s)
{
    return s->generation;
}

void kts_store_touch(kts_store *s)
{
    s->generation++;
}

void kts_store_remove(kts_store *s, kts_object *o)
{
    size_t lo = 0, hi = s->count; /* the array is in seq order */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->objects[mid]->seq < o->seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < s->count; i++) {
        if (s->objects[i] == o) {
            memmove(&s->objects[i], &s->objects[i + 1], (s->count - i - 1) * sizeof o);
            s->count--;
            index_remove(s, o);
            s->generation++;
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
            kts_store_set_uid(s, added, uid);
            s->next_id = id;
        } else {
            free(o.material);
            ok = false;
        }
    }
    fclose(f);
    return ok;
}
