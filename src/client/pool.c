/* SPDX-License-Identifier: GPL-2.0-only */
/* A small thread-safe pool of clients, created on demand. A thread takes a
 * client, uses it alone, and gives it back. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "client_internal.h"

struct kmip_pool {
    pthread_mutex_t lock;
    pthread_cond_t freed;
    kmip_client_options opt;
    kmip_client **idle;
    size_t idle_count;
    size_t size;
    size_t created;
};

kmip_pool *kmip_pool_new(const kmip_client_options *o, size_t size)
{
    if (o == NULL || size == 0)
        return NULL;
    kmip_pool *p = calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    p->idle = calloc(size, sizeof *p->idle);
    if (p->idle == NULL || !kmip_options_copy(&p->opt, o)) {
        free(p->idle);
        free(p);
        return NULL;
    }
    p->size = size;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->freed, NULL);
    return p;
}

void kmip_pool_free(kmip_pool *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->idle_count; i++)
        kmip_client_free(p->idle[i]);
    free(p->idle);
    kmip_options_clear(&p->opt);
    pthread_cond_destroy(&p->freed);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

kmip_client *kmip_pool_acquire(kmip_pool *p, unsigned timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += (time_t)(timeout_ms / 1000);
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&p->lock);
    kmip_client *c = NULL;
    bool create = false;
    for (;;) {
        if (p->idle_count > 0) {
            c = p->idle[--p->idle_count];
            break;
        }
        if (p->created < p->size) {
            p->created++;
            create = true;
            break;
        }
        int r = timeout_ms ? pthread_cond_timedwait(&p->freed, &p->lock, &until)
                           : pthread_cond_wait(&p->freed, &p->lock);
        if (r == ETIMEDOUT)
            break;
    }
    pthread_mutex_unlock(&p->lock);
    if (create) { /* outside the lock: creating does not connect, but stays cheap */
        c = kmip_client_new(&p->opt);
        if (c == NULL) {
            pthread_mutex_lock(&p->lock);
            p->created--;
            pthread_mutex_unlock(&p->lock);
        }
    }
    return c;
}

void kmip_pool_release(kmip_pool *p, kmip_client *c)
{
    if (c == NULL)
        return;
    pthread_mutex_lock(&p->lock);
    p->idle[p->idle_count++] = c;
    pthread_cond_signal(&p->freed);
    pthread_mutex_unlock(&p->lock);
}
