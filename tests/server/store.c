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
