/* SPDX-License-Identifier: GPL-2.0-only */
/* Shared by the benchmarks: clocks, and one output line per figure that
 * bench/run_benchmarks.py turns into docs/PERFORMANCE.md:
 *   ROW|section|label|median|min|max|unit
 *   NOTE|section|text
 * Every figure is the median of several runs with their min and max. */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* User + system CPU seconds of this process. */
static inline double bench_cpu(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec / 1e6 +
           (double)u.ru_stime.tv_sec + (double)u.ru_stime.tv_usec / 1e6;
}

static inline int bench_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts v[0..n) and prints its median, min and max. */
static inline void bench_row(const char *section, const char *label, double *v, int n,
                             const char *unit)
{
    qsort(v, (size_t)n, sizeof *v, bench_cmp);
    double median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    printf("ROW|%s|%s|%.6g|%.6g|%.6g|%s\n", section, label, median, v[0], v[n - 1], unit);
    fflush(stdout);
}

__attribute__((format(printf, 2, 3))) static inline void bench_note(const char *section,
                                                                    const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("NOTE|%s|", section);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
}

/* Resident set size of this process in KiB (/proc/self/status VmRSS). */
static inline long bench_rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kib = atol(line + 6);
    if (f)
        fclose(f);
    return kib;
}

#endif
