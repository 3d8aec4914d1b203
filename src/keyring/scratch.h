/* SPDX-License-Identifier: GPL-2.0-only */
/* Internal: memory for what a load lists only while it runs (the Locate's
 * Unique Identifiers and their array), mapped apart from the malloc heap
 * and unmapped whole when the load ends. In the heap those thousands of
 * small blocks were allocated between the keys' records and freed after
 * them: free but resident pages under the keys for as long as the process
 * lives (about 60 bytes per key at 10,000 keys). The library lives inside
 * mysqld, so it changes no process-wide allocator setting (no mallopt, no
 * malloc_trim): it keeps its transient lists out of the heap instead. Not
 * locked, not excluded from dumps: never for key material (secure.h). */
#ifndef KRK_SCRATCH_H
#define KRK_SCRATCH_H

#include <stddef.h>

typedef struct krk_scratch_block krk_scratch_block;

/* Strings that never move once made; zero-initialised: empty. */
typedef struct krk_scratch {
    krk_scratch_block *last; /* the block being filled; each links to the one before */
} krk_scratch;

/* A NUL-terminated copy of the len bytes at p, living until
 * krk_scratch_free; NULL when out of memory. */
char *krk_scratch_strndup(krk_scratch *s, const char *p, size_t len);
/* Unmaps every block: the strings are gone. */
void krk_scratch_free(krk_scratch *s);

/* A mapped, zero-filled array of bytes (a list's array, grown by the
 * caller into a new one); NULL when out of memory. */
void *krk_scratch_map(size_t bytes);
/* Unmaps an array of krk_scratch_map of that many bytes; NULL is fine. */
void krk_scratch_unmap(void *p, size_t bytes);

#endif
