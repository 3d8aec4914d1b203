/* SPDX-License-Identifier: GPL-2.0-only */
/* Epoch-based reclamation (rcu.h). Each thread that reads owns a slot,
 * in cache lines of its own; a slot holds the global epoch the thread saw when
 * it entered its read section, 0 while it is outside. synchronize advances
 * the epoch and waits for every slot that holds an older one.
 * The argument needs all four accesses in one total order: the reader's
 * epoch store and its loads of published pointers, the writer's
 * unpublishing store and its loads of the slots. So every one of them is
 * sequentially consistent, here and on the readers' path (reader.c's
 * state, cache.c's table, bucket heads, next and conflict pointers, and the
 * writers' stores that unpublish them): an acquire load could be satisfied
 * before the reader's earlier epoch store is visible (store-to-load
 * reordering: POWER, ARMv8.3 RCpc), the writer would read epoch 0 and free
 * what the reader is copying (review of issue 17, F2). On x86 a seq_cst
 * load is a plain mov. No stand-alone fences (ThreadSanitizer does not
 * model them). Then either the writer sees the reader's epoch (and waits),
 * or the reader's loads come after the writer's store and see the new
 * pointers. Leaving the section (the epoch back to 0) is not one of the
 * four: a release store (a plain mov on x86) orders the section's loads
 * before it, which is all the writer that reads 0 needs. */
#include "rcu.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

/* A slot outlives an unloaded module on purpose (delete_key): in sanitizer
 * builds LeakSanitizer is told so, or every dlclose of the component or the
 * plugin after reads on other threads is reported as a leak. */
#if defined(__SANITIZE_ADDRESS__)
#define KRK_RCU_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KRK_RCU_LSAN 1
#endif
#endif
#ifdef KRK_RCU_LSAN
#include <sanitizer/lsan_interface.h>
#endif

/* The spare block (rcu.h) and its flag: its own two cache lines. */
typedef struct rcu_spare {
    _Atomic bool busy; /* set by the slot's thread only, cleared by whoever gives it back */
    _Alignas(16) unsigned char bytes[KRK_RCU_SPARE_BYTES];
} rcu_spare;

typedef struct krk_rcu_thread {
    _Atomic uint64_t epoch; /* 0: not in a read section */
    _Atomic bool taken;
    struct krk_rcu_thread *_Atomic next;
    unsigned nesting; /* the owner thread's only */
    _Alignas(64) rcu_spare spare; /* not in the epoch's line: writers poll that one */
} __attribute__((aligned(64))) rcu_slot; /* whole cache lines, one slot per thread */

/* read by every read section: a cache line of its own (sizeof is 64) */
static struct {
    _Atomic uint64_t v;
} __attribute__((aligned(64))) global_epoch = {1};
static rcu_slot *_Atomic slots; /* a list that only grows; slots are reused */
/* The pthread key lives from the first claim until the library's
 * destructor deletes it (dlclose, or exit() while other threads may still
 * run and read): after that, glibc may hand the same key index to another
 * library, so a thread claiming a slot then must not set it (its
 * destructor would get our slot), nor give_back ask to be called again.
 * key_lock makes "live? then set" one step against the delete; it is
 * taken only when a thread first reads and when it exits, never on the
 * read path (review of issue 17, F10). */
static pthread_mutex_t key_lock = PTHREAD_MUTEX_INITIALIZER;
static bool key_live, unloaded; /* under key_lock */
static pthread_key_t slot_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static __thread rcu_slot *mine;

/* pthread_setspecific(slot_key, s) unless the key was deleted. */
static void set_thread_slot(rcu_slot *s)
{
    pthread_mutex_lock(&key_lock);
    if (key_live)
        pthread_setspecific(slot_key, s);
    pthread_mutex_unlock(&key_lock);
}

/* The pthread-key destructor, on the exiting thread. Other destructors may
 * run after it (another library's, a C++ thread_local's) and read a key:
 * `mine` is cleared so such a read claims a slot again (and registers it,
 * so glibc runs this again, up to PTHREAD_DESTRUCTOR_ITERATIONS times;
 * after that the slot stays taken: one slot, never shared). A slot whose
 * thread is inside a read section is never freed: another thread would
 * claim it and its unlock would end our section for the writers. */
static void give_back(void *p)
{
    rcu_slot *s = p;
    if (s->nesting > 0) {
        set_thread_slot(s); /* try again next round */
        return;
    }
    if (mine == s)
        mine = NULL;
    atomic_store(&s->epoch, 0);
    atomic_store(&s->taken, false);
}

/* The library may be unloaded (the component, the plugin) while threads
 * live on: no destructor of ours may run after that. Their slots stay:
 * one per thread that ever read, per load of the module (a thread still
 * walking the list at exit could not be told that a slot was freed).
 * Slots are process-wide, one domain per loaded module: a writer's
 * synchronize also waits for readers of another keyring handle of the same
 * module (each section is a few hundred ns; review of issue 17, F10). */
__attribute__((destructor)) static void delete_key(void)
{
    krk_rcu_unload();
}

void krk_rcu_unload(void)
{
    pthread_mutex_lock(&key_lock);
    if (key_live) {
        key_live = false;
        pthread_key_delete(slot_key);
    }
    unloaded = true; /* and none is made after this (a first read during exit) */
    pthread_mutex_unlock(&key_lock);
}

/* In a child of fork() only the forking thread lives on: the other
 * threads' slots are given back, or one that was inside a read section at
 * the fork would keep its epoch and the child's first synchronize (a
 * remove, a reload, the cache growing) would wait for ever (review of
 * issue 17, F3). The spare blocks keep their flags: a block in use may be
 * held by the forking thread (a reader made on another thread). key_lock
 * may have been held by a thread that is gone: it is made anew. glibc
 * drops the handler when the library is unloaded. */
static void after_fork_child(void)
{
    pthread_mutex_init(&key_lock, NULL);
    for (rcu_slot *t = atomic_load(&slots); t; t = atomic_load(&t->next)) {
        if (t == mine)
            continue;
        t->nesting = 0;
        atomic_store(&t->epoch, 0);
        atomic_store(&t->taken, false);
    }
}

static void make_key(void)
{
    pthread_mutex_lock(&key_lock);
    key_live = !unloaded && pthread_key_create(&slot_key, give_back) == 0;
    pthread_mutex_unlock(&key_lock);
    (void)pthread_atfork(NULL, NULL, after_fork_child); /* else forks keep the old slots */
}

static rcu_slot *claim(void)
{
    pthread_once(&key_once, make_key);
    rcu_slot *s = NULL;
    for (rcu_slot *t = atomic_load(&slots); t && s == NULL; t = atomic_load(&t->next)) {
        bool free_slot = false;
        if (atomic_compare_exchange_strong(&t->taken, &free_slot, true))
            s = t;
    }
    if (s == NULL) {
        s = aligned_alloc(64, sizeof *s);
        if (s == NULL)
            return NULL;
#ifdef KRK_RCU_LSAN
        __lsan_ignore_object(s); /* kept on purpose: delete_key */
#endif
        atomic_init(&s->epoch, 0);
        atomic_init(&s->taken, true);
        atomic_init(&s->spare.busy, false);
        s->nesting = 0;
        rcu_slot *head = atomic_load(&slots);
        do
            atomic_store(&s->next, head);
        while (!atomic_compare_exchange_weak(&slots, &head, s));
    }
    s->nesting = 0;
    set_thread_slot(s);
    return s;
}

krk_rcu_thread *krk_rcu_read_lock(void)
{
    rcu_slot *s = mine;
    if (s == NULL && (s = mine = claim()) == NULL)
        return NULL;
    if (s->nesting++ == 0)
        atomic_store(&s->epoch, atomic_load(&global_epoch.v));
    return s;
}

/* A release store is enough to leave: it orders the section's loads
 * before it, and the writer that reads 0 with its seq_cst load then frees
 * after them. Entering needs seq_cst (the store must not pass the loads
 * that follow it). */
void krk_rcu_read_unlock(krk_rcu_thread *s)
{
    if (--s->nesting == 0)
        atomic_store_explicit(&s->epoch, 0, memory_order_release);
}

void *krk_rcu_spare_take(krk_rcu_thread *s)
{
    /* acquire: the last user's wipe (on any thread) before our reuse */
    if (atomic_load_explicit(&s->spare.busy, memory_order_acquire))
        return NULL;
    atomic_store_explicit(&s->spare.busy, true, memory_order_relaxed);
    return s->spare.bytes;
}

void krk_rcu_spare_give_back(void *block)
{
    rcu_spare *sp = (rcu_spare *)((unsigned char *)block - offsetof(rcu_spare, bytes));
    atomic_store_explicit(&sp->busy, false, memory_order_release);
}

void krk_rcu_synchronize(void)
{
    uint64_t target = atomic_fetch_add(&global_epoch.v, 1) + 1;
    for (rcu_slot *s = atomic_load(&slots); s; s = atomic_load(&s->next)) {
        for (unsigned spins = 0;; spins++) {
            uint64_t e = atomic_load(&s->epoch);
            if (e == 0 || e >= target)
                break;
            if (spins > 64)
                sched_yield();
        }
    }
}
