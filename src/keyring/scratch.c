/* SPDX-License-Identifier: GPL-2.0-only */
/* A load's transient lists, mapped apart from the heap (scratch.h). */
#include "scratch.h"

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#define FIRST_BLOCK ((size_t)64 << 10)
#define LARGEST_BLOCK ((size_t)1 << 20) /* blocks double up to this size */

struct krk_scratch_block {
    krk_scratch_block *prev;
    size_t size, used; /* bytes of the mapping, from its start (this header included) */
};

static krk_scratch_block *block_new(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    krk_scratch_block *b = p;
    b->prev = NULL;
    b->size = size;
    b->used = sizeof *b;
    return b;
}

char *krk_scratch_strndup(krk_scratch *s, const char *p, size_t len)
{
    krk_scratch_block *b = s->last;
    if (len >= SIZE_MAX / 4)
        return NULL;
    if (b == NULL || b->size - b->used < len + 1) {
        size_t size = b == NULL ? FIRST_BLOCK : b->size < LARGEST_BLOCK ? 2 * b->size : b->size;
        while (size - sizeof *b < len + 1)
            size *= 2; /* an identifier longer than a block: a block of its own size */
        krk_scratch_block *n = block_new(size);
        if (n == NULL)
            return NULL;
        n->prev = b;
        s->last = b = n;
    }
    char *out = (char *)b + b->used;
    memcpy(out, p, len);
    out[len] = '\0';
    b->used += len + 1;
    return out;
}

void krk_scratch_free(krk_scratch *s)
{
    krk_scratch_block *b = s->last;
    while (b) {
        krk_scratch_block *prev = b->prev;
        munmap(b, b->size);
        b = prev;
    }
    s->last = NULL;
}

void *krk_scratch_map(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void krk_scratch_unmap(void *p, size_t bytes)
{
    if (p && bytes)
        munmap(p, bytes);
}
