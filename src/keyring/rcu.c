/* SPDX-License-Identifier: GPL-2.0-only */
/* Epoch-based reclamation (rcu.h). Each thread that reads owns a slot,
 * padded to a cache line; a slot holds the global epoch the thread saw when
 * it entered its read section, 0 while it is outside. synchronize advances
 * the epoch and waits for every slot that holds an older one.
 * The argument needs all four accesses in one total order: the reader's
 * epoch store and its loads of published pointers, the writer's
 * unpublishing store and its loads of the slots. So every one of them is
 * sequentially consistent, here and on the readers' path (keyring.c's
 * state, cache.c's table, bucket heads, next and conflict pointers, and the
 * writers' stores that unpublish them): an acquire load could be satisfied
 * before the reader's earlier epoch store is visible (store-to-load
 * reordering: POWER, ARMv8.3 RCpc), the writer would read epoch 0 and free
 * what the reader is copying (review of issue 17, F2). On x86 a seq_cst
 * load is a plain mov. No stand-alone fences (ThreadSanitizer does not
 * model them). Then either the writer sees the reader's epoch (and waits),
 * or the reader's loads come after the writer's store and see the new
 * pointers. */
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

typedef struct rcu_slot {
    _Atomic uint64_t epoch; /* 0: not in a read section */
    _Atomic bool taken;
    struct rcu_slot *_Atomic next;
    unsigned nesting; /* the owner thread's only */
} __attribute__((aligned(64))) rcu_slot; /* one cache line each */

static _Atomic uint64_t global_epoch = 1;
static rcu_slot *_Atomic slots; /* a list that only grows; slots are reused */
static pthread_key_t slot_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static __thread rcu_slot *mine;

/* The pthread-key destructor, on the exiting thread. Other destructors may
 * run after it (another library's, a C++ thread_local's) and read a key:
 * `mine` is cleared so such a read claims a slot again (and registers it,
 * so glibc runs this again, up to PTHREAD_DESTRUCTOR_ITERATIONS times;
 * after that the slot stays taken: 64 bytes, never shared). A slot whose
 * thread is inside a read section is never freed: another thread would
 * claim it and its unlock would end our section for the writers. */
static void give_back(void *p)
{
    rcu_slot *s = p;
    if (s->nesting > 0) {
        if (slot_key != (pthread_key_t)-1)
            pthread_setspecific(slot_key, s); /* try again next round */
        return;
    }
    if (mine == s)
        mine = NULL;
    atomic_store(&s->epoch, 0);
    atomic_store(&s->taken, false);
}

/* The library may be unloaded (the component, the plugin) while threads
 * live on: no destructor of ours may run after that. Their slots stay: 64
 * bytes per thread that ever read, per load of the module (a thread still
 * walking the list at exit could not be told that a slot was freed). */
__attribute__((destructor)) static void delete_key(void)
{
    if (atomic_load(&slots) != NULL && slot_key != (pthread_key_t)-1)
        pthread_key_delete(slot_key);
}

/* In a child of fork() only the forking thread lives on: the other
 * threads' slots are given back, or one that was inside a read section at
 * the fork would keep its epoch and the child's first synchronize (a
 * remove, a reload, the cache growing) would wait for ever (review of
 * issue 17, F3). glibc drops the handler when the library is unloaded. */
static void after_fork_child(void)
{
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
    if (pthread_key_create(&slot_key, give_back) != 0)
        slot_key = (pthread_key_t)-1;
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
        s->nesting = 0;
        rcu_slot *head = atomic_load(&slots);
        do
            atomic_store(&s->next, head);
        while (!atomic_compare_exchange_weak(&slots, &head, s));
    }
    s->nesting = 0;
    if (slot_key != (pthread_key_t)-1)
        pthread_setspecific(slot_key, s);
    return s;
}

bool krk_rcu_read_lock(void)
{
    rcu_slot *s = mine;
    if (s == NULL && (s = mine = claim()) == NULL)
        return false;
    if (s->nesting++ == 0)
        atomic_store(&s->epoch, atomic_load(&global_epoch));
    return true;
}

void krk_rcu_read_unlock(void)
{
    rcu_slot *s = mine;
    if (--s->nesting == 0)
        atomic_store(&s->epoch, 0);
}

void krk_rcu_synchronize(void)
{
    uint64_t target = atomic_fetch_add(&global_epoch, 1) + 1;
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
