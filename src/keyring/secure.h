/* SPDX-License-Identifier: GPL-2.0-only */
/* Internal: memory for key material. Keys live in the keyring's own arena
 * (arena.c): chunks of KRK_ARENA_CHUNK_BYTES mapped apart from the
 * ordinary heap, excluded from core dumps (MADV_DONTDUMP), locked in
 * memory (mlock) where RLIMIT_MEMLOCK allows, wiped on free, growing a
 * chunk at a time up to KRK_ARENA_MAX_BYTES per process. Beyond that (or
 * for a key larger than 16 KiB, or when mmap fails) the ordinary heap is
 * used, still wiped on free, and counted: the keyring warns when it opens.
 * OpenSSL's process-wide secure heap is never used nor set up. */
#ifndef KRK_SECURE_H
#define KRK_SECURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KRK_ARENA_CHUNK_BYTES ((size_t)1 << 20)
#define KRK_ARENA_MAX_BYTES ((size_t)256 << 20) /* 8 million keys of 32 bytes */

void *krk_secret_alloc(size_t n);
/* Wipes n bytes (the whole block in the arena) and frees; NULL is fine. */
void krk_secret_free(void *p, size_t n);
/* True when p lies in the arena. */
bool krk_secret_is_secure(const void *p);

typedef struct krk_secure_status {
    bool heap;     /* the arena holds memory */
    bool locked;   /* ... and all of it is locked in memory */
    size_t chunks, mapped_bytes, in_use_bytes;
    uint64_t ordinary_allocations; /* keys that had to go to the ordinary heap */
} krk_secure_status;
void krk_secure_status_get(krk_secure_status *s);
/* One line for status: where key memory lives. */
void krk_secure_describe(char *out, size_t cap);

#endif
