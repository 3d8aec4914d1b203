/* SPDX-License-Identifier: GPL-2.0-only */
/* Shared by the read benchmarks: N threads running one loop for a fixed
 * time, so that what is measured is the code under test, not the
 * benchmark:
 *  - every thread's counters live in a cache line of their own and are
 *    written once, after its loop (a counter bumped in the loop next to
 *    another thread's is false sharing: two readers that share nothing in
 *    the library would still bounce a line between the cores);
 *  - the threads start together (a barrier) and the clock starts then, not
 *    while threads are still being created;
 *  - with 2 or more threads and no more than the CPUs in the process's
 *    affinity mask, thread i is pinned to the i-th of them
 *    (sched_setaffinity, here only: the library never pins a thread), so
 *    two threads do not take turns on one core while the other idles; one
 *    thread alone is not pinned (pinned to a core another process keeps
 *    busy, it would get half of it and flatter the 2-thread ratio);
 *  - each thread's own CPU time (CLOCK_THREAD_CPUTIME_ID) is taken, so a
 *    run on a loaded machine shows that the threads did not get their
 *    cores (CPU share below 100 %) instead of passing for poor scaling.
 * The load average is printed by bench_print_load. */
#ifndef BENCH_THREADS_H
#define BENCH_THREADS_H

#ifndef _GNU_SOURCE
#error "define _GNU_SOURCE before any include (sched_setaffinity, getloadavg)"
#endif

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

#define BENCH_MAX_THREADS 8

/* The loop: runs until *stop, returns how many calls it made. Its state
 * (counters, random numbers) must be locals, not shared memory. */
typedef unsigned long (*bench_loop_fn)(void *ctx, int thread, const atomic_bool *stop);

typedef struct bench_mt_result {
    double wall;   /* seconds from the common start to the last thread's end */
    double calls;  /* of all threads */
    double cpu;    /* seconds of CPU time, all threads */
    bool pinned;
} bench_mt_result;

typedef struct bench_mt_slot {
    pthread_t t;
    int index, cpu; /* cpu -1: not pinned */
    bench_loop_fn fn;
    void *ctx;
    pthread_barrier_t *go;
    const atomic_bool *stop;
    unsigned long calls; /* written once, after the loop */
    double cpu_seconds;
} __attribute__((aligned(64))) bench_mt_slot;

static inline double bench_thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline void *bench_mt_main(void *p)
{
    bench_mt_slot *s = p;
    if (s->cpu >= 0) {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET((size_t)s->cpu, &one);
        if (sched_setaffinity(0, sizeof one, &one) != 0)
            s->cpu = -1; /* not fatal: it runs unpinned */
    }
    pthread_barrier_wait(s->go);
    double c0 = bench_thread_cpu();
    unsigned long n = s->fn(s->ctx, s->index, s->stop);
    s->cpu_seconds = bench_thread_cpu() - c0;
    s->calls = n;
    return NULL;
}

/* The CPUs of this process's affinity mask, in order; their count. */
static inline int bench_cpus(int *list, int cap)
{
    cpu_set_t set;
    int n = 0;
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return 0;
    for (int c = 0; c < CPU_SETSIZE && n < cap; c++)
        if (CPU_ISSET((size_t)c, &set))
            list[n++] = c;
    return n;
}

/* Runs fn on `threads` threads (at most BENCH_MAX_THREADS) for `seconds`. */
static inline bench_mt_result bench_mt_run(int threads, double seconds, bench_loop_fn fn,
                                           void *ctx)
{
    static bench_mt_slot slot[BENCH_MAX_THREADS];
    static _Alignas(64) atomic_bool stop; /* read by every thread, written once */
    int cpus[CPU_SETSIZE];
    int ncpu = bench_cpus(cpus, CPU_SETSIZE);
    bool pin = threads >= 2 && ncpu >= threads && getenv("BENCH_NO_PIN") == NULL;
    pthread_barrier_t go;
    if (threads < 1 || threads > BENCH_MAX_THREADS ||
        pthread_barrier_init(&go, NULL, (unsigned)threads + 1) != 0)
        exit(1);
    atomic_store(&stop, false);
    for (int i = 0; i < threads; i++) {
        slot[i] = (bench_mt_slot){.index = i, .cpu = pin ? cpus[i] : -1, .fn = fn, .ctx = ctx,
                                  .go = &go, .stop = &stop};
        if (pthread_create(&slot[i].t, NULL, bench_mt_main, &slot[i]) != 0)
            exit(1);
    }
    pthread_barrier_wait(&go);
    double t0 = bench_now();
    struct timespec nap = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    while (nanosleep(&nap, &nap) != 0)
        ;
    atomic_store(&stop, true);
    bench_mt_result r = {0, 0, 0, pin};
    for (int i = 0; i < threads; i++) {
        pthread_join(slot[i].t, NULL);
        r.calls += (double)slot[i].calls;
        r.cpu += slot[i].cpu_seconds;
        if (slot[i].cpu < 0)
            r.pinned = false;
    }
    r.wall = bench_now() - t0;
    pthread_barrier_destroy(&go);
    return r;
}

/* "load average 0.42 (1 min) with 2 CPUs online": a loaded run is visible. */
static inline void bench_print_load(const char *section, const char *when)
{
    double l[3] = {-1, -1, -1};
    if (getloadavg(l, 3) < 1)
        l[0] = -1;
    bench_note(section, "load average %s: %.2f %.2f %.2f (1, 5, 15 min) with %ld CPUs online",
               when, l[0], l[1], l[2], sysconf(_SC_NPROCESSORS_ONLN));
}

#endif
