/* SPDX-License-Identifier: GPL-2.0-only */
/* The keyring's own memory for key material (see secure.h): chunks mapped
 * with mmap, excluded from core dumps (MADV_DONTDUMP), locked in memory
 * (mlock) where RLIMIT_MEMLOCK allows, carved into blocks of power-of-two
 * size classes with one free list per class. Blocks are wiped when freed.
 * OpenSSL's secure heap is never touched: it belongs to the host process
 * (CRYPTO_secure_malloc_init would take it over for the whole process and
 * starve the host's own DRBGs and ECDHE of it). */
#include "secure.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kmip/kmip_ttlv.h"

#define MIN_SHIFT 4                        /* the smallest block: 16 bytes */
#define CLASS_COUNT 11                     /* 16 .. 16384 bytes */
#define MAX_BLOCK ((size_t)1 << (MIN_SHIFT + CLASS_COUNT - 1))
#define MAX_CHUNKS (KRK_ARENA_MAX_BYTES / KRK_ARENA_CHUNK_BYTES)

typedef struct chunk {
    uint8_t *base;
    size_t used; /* bytes handed out from the start (bump pointer) */
    bool locked;
    /* per 16-byte unit: 1 + the size class of the block handed out that
     * starts there, 0 for none; a free is checked against it, so a double
     * free, a pointer into a block or a wrong size never puts a block on a
     * free list twice or on the wrong one (two keys sharing bytes) */
    uint8_t *starts;
} chunk;

typedef struct free_block {
    struct free_block *next;
} free_block;

static struct {
    pthread_mutex_t lock;
    chunk chunks[MAX_CHUNKS];
    size_t chunk_count;
    free_block *free[CLASS_COUNT];
    size_t in_use;           /* bytes of blocks handed out */
    uint64_t ordinary;       /* allocations that went to the ordinary heap */
    bool unmappable;         /* mmap failed once: do not retry on every key */
} arena = {.lock = PTHREAD_MUTEX_INITIALIZER};

static unsigned class_of(size_t n)
{
    unsigned c = 0;
    while (((size_t)1 << (MIN_SHIFT + c)) < n)
        c++;
    return c;
}

static size_t class_size(unsigned c)
{
    return (size_t)1 << (MIN_SHIFT + c);
}

/* A new chunk: mapped, excluded from dumps (required), locked (if allowed). */
static chunk *grow(void)
{
    if (arena.chunk_count == MAX_CHUNKS || arena.unmappable)
        return NULL;
    void *p = mmap(NULL, KRK_ARENA_CHUNK_BYTES, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        arena.unmappable = true;
        return NULL;
    }
    if (madvise(p, KRK_ARENA_CHUNK_BYTES, MADV_DONTDUMP) != 0) {
        munmap(p, KRK_ARENA_CHUNK_BYTES);
        arena.unmappable = true;
        return NULL;
    }
    /* mapped like the chunk, not from the heap: the chunks live as long as
     * the process (the library may be unloaded; blocks are wiped on free),
     * and so does this; zero-filled */
    uint8_t *starts = mmap(NULL, KRK_ARENA_CHUNK_BYTES >> MIN_SHIFT, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (starts == MAP_FAILED) {
        munmap(p, KRK_ARENA_CHUNK_BYTES);
        return NULL;
    }
    chunk *c = &arena.chunks[arena.chunk_count++];
    c->base = p;
    c->starts = starts;
    c->used = 0;
    /* the system call itself: sanitizers replace mlock() by a no-op that
     * reports success, and status must say what really happened */
    c->locked = syscall(SYS_mlock, p, KRK_ARENA_CHUNK_BYTES) == 0;
    return c;
}

static chunk *chunk_of(const void *p)
{
    uintptr_t a = (uintptr_t)p;
    for (size_t i = 0; i < arena.chunk_count; i++) {
        uintptr_t base = (uintptr_t)arena.chunks[i].base;
        if (a >= base && a - base < KRK_ARENA_CHUNK_BYTES)
            return &arena.chunks[i];
    }
    return NULL;
}

static void mark(const void *p, uint8_t v)
{
    chunk *ch = chunk_of(p);
    ch->starts[((const uint8_t *)p - ch->base) >> MIN_SHIFT] = v;
}

static void *arena_alloc(size_t n)
{
    unsigned c = class_of(n);
    size_t size = class_size(c);
    if (arena.free[c]) {
        free_block *b = arena.free[c];
        arena.free[c] = b->next;
        b->next = NULL;
        arena.in_use += size;
        mark(b, (uint8_t)(c + 1));
        return b;
    }
    chunk *ch = arena.chunk_count ? &arena.chunks[arena.chunk_count - 1] : NULL;
    if (ch == NULL || KRK_ARENA_CHUNK_BYTES - ch->used < size)
        ch = grow();
    if (ch == NULL)
        return NULL;
    void *p = ch->base + ch->used;
    ch->starts[ch->used >> MIN_SHIFT] = (uint8_t)(c + 1);
    ch->used += size;
    arena.in_use += size;
    return p;
}

static bool in_arena(const void *p)
{
    return chunk_of(p) != NULL;
}

void *krk_secret_alloc(size_t n)
{
    if (n == 0)
        n = 1;
    void *p = NULL;
    if (n <= MAX_BLOCK) {
        pthread_mutex_lock(&arena.lock);
        p = arena_alloc(n);
        if (p == NULL)
            arena.ordinary++;
        pthread_mutex_unlock(&arena.lock);
    } else {
        pthread_mutex_lock(&arena.lock);
        arena.ordinary++;
        pthread_mutex_unlock(&arena.lock);
    }
    return p ? p : malloc(n);
}

bool krk_secret_is_secure(const void *p)
{
    if (p == NULL)
        return false;
    pthread_mutex_lock(&arena.lock);
    bool yes = in_arena(p);
    pthread_mutex_unlock(&arena.lock);
    return yes;
}

void krk_secret_free(void *p, size_t n)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&arena.lock);
    chunk *ch = chunk_of(p);
    if (ch) {
        /* the block's own class, whatever n says; a pointer where no block
         * handed out starts (freed twice, or into a block) is left alone:
         * it is not ours to free, and listing it would hand it out twice */
        size_t off = (size_t)((uint8_t *)p - ch->base);
        unsigned c = off % class_size(0) ? 0 : ch->starts[off >> MIN_SHIFT];
        if (c == 0) {
            pthread_mutex_unlock(&arena.lock);
            return;
        }
        c--;
        ch->starts[off >> MIN_SHIFT] = 0;
        kmip_secure_zero(p, class_size(c));
        free_block *b = p;
        b->next = arena.free[c];
        arena.free[c] = b;
        arena.in_use -= class_size(c);
        pthread_mutex_unlock(&arena.lock);
        return;
    }
    pthread_mutex_unlock(&arena.lock);
    kmip_secure_free(p, n ? n : 1);
}

void krk_secure_status_get(krk_secure_status *s)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_lock(&arena.lock);
    s->heap = arena.chunk_count > 0;
    s->locked = arena.chunk_count > 0;
    for (size_t i = 0; i < arena.chunk_count; i++)
        s->locked = s->locked && arena.chunks[i].locked;
    s->chunks = arena.chunk_count;
    s->mapped_bytes = arena.chunk_count * (size_t)KRK_ARENA_CHUNK_BYTES;
    s->in_use_bytes = arena.in_use;
    s->ordinary_allocations = arena.ordinary;
    pthread_mutex_unlock(&arena.lock);
}

void krk_secure_describe(char *out, size_t cap)
{
    krk_secure_status s;
    krk_secure_status_get(&s);
    int n = snprintf(out, cap, "keyring arena (not OpenSSL's secure heap): %zu KiB in use of "
                     "%zu KiB mapped, excluded from core dumps, %s, wiped on free",
                     s.in_use_bytes / 1024, s.mapped_bytes / 1024,
                     !s.heap ? "nothing mapped yet"
                     : s.locked ? "locked in memory"
                                : "not locked in memory (RLIMIT_MEMLOCK too low)");
    if (s.ordinary_allocations && n > 0 && (size_t)n < cap)
        snprintf(out + n, cap - (size_t)n, "; %llu keys in ordinary memory (wiped on free, not "
                 "excluded from core dumps)", (unsigned long long)s.ordinary_allocations);
}
