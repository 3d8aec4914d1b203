/* SPDX-License-Identifier: GPL-2.0-only */
/* Internal: memory for key material. Keys live in OpenSSL's secure heap,
 * which is mapped apart from the ordinary heap, excluded from core dumps
 * (MADV_DONTDUMP), locked in memory (mlock) where RLIMIT_MEMLOCK allows,
 * and wiped on free. The heap is set up once per process (KRK_SECURE_HEAP_BYTES)
 * unless the host program set one up already, whose we then share. When it
 * is unavailable or full, the ordinary heap is used, still wiped on free,
 * and counted. */
#ifndef KRK_SECURE_H
#define KRK_SECURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KRK_SECURE_HEAP_BYTES (4u << 20) /* 131,072 keys of 32 bytes */

void *krk_secret_alloc(size_t n);
/* Wipes n bytes and frees (either heap); NULL is fine. */
void krk_secret_free(void *p, size_t n);
/* True when p lies in the secure heap. */
bool krk_secret_is_secure(const void *p);

typedef struct krk_secure_status {
    bool heap;     /* the secure heap is in use */
    bool locked;   /* ... and locked in memory */
    uint64_t ordinary_allocations; /* keys that had to go to the ordinary heap */
} krk_secure_status;
void krk_secure_status_get(krk_secure_status *s);

#endif
