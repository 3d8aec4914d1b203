/* SPDX-License-Identifier: GPL-2.0-only */
/* Key material memory: see secure.h. */
#include "secure.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "kmip/kmip_ttlv.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool heap_ready, heap_locked;
static atomic_uint_least64_t ordinary;

static void setup(void)
{
    if (CRYPTO_secure_malloc_initialized()) { /* the host's heap: we share it */
        heap_ready = true;
        heap_locked = true; /* its owner chose; we cannot tell */
        return;
    }
    /* 1: mapped, locked and excluded from dumps; 2: the same but mlock was
     * refused (RLIMIT_MEMLOCK); 0: no secure heap */
    int r = CRYPTO_secure_malloc_init(KRK_SECURE_HEAP_BYTES, 16);
    heap_ready = r != 0;
    heap_locked = r == 1;
}

void *krk_secret_alloc(size_t n)
{
    pthread_once(&once, setup);
    void *p = heap_ready ? OPENSSL_secure_malloc(n ? n : 1) : NULL;
    if (p == NULL) {
        atomic_fetch_add(&ordinary, 1);
        p = malloc(n ? n : 1);
    }
    return p;
}

bool krk_secret_is_secure(const void *p)
{
    return p != NULL && heap_ready && CRYPTO_secure_allocated(p);
}

void krk_secret_free(void *p, size_t n)
{
    if (p == NULL)
        return;
    if (krk_secret_is_secure(p))
        OPENSSL_secure_clear_free(p, n);
    else
        kmip_secure_free(p, n);
}

void krk_secure_status_get(krk_secure_status *s)
{
    pthread_once(&once, setup);
    s->heap = heap_ready;
    s->locked = heap_locked;
    s->ordinary_allocations = atomic_load(&ordinary);
}
