/* SPDX-License-Identifier: GPL-2.0-only */
/* Test helper: records the largest single allocation, to prove that a
 * decoder never allocates a size claimed by hostile input, and counts the
 * allocations (a steady state that allocates nothing). The test
 * executable is linked with -Wl,--wrap=malloc,--wrap=calloc. */
#ifndef ALLOC_PROBE_H
#define ALLOC_PROBE_H
#include <stddef.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);

static size_t probe_largest;
static size_t probe_count; /* allocations so far */

void *__wrap_malloc(size_t n)
{
    probe_count++;
    if (n > probe_largest)
        probe_largest = n;
    return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t m)
{
    probe_count++;
    if (m && n > (size_t)-1 / m)
        return NULL;
    if (n * m > probe_largest)
        probe_largest = n * m;
    return __real_calloc(n, m);
}

#endif
