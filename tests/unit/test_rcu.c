/* SPDX-License-Identifier: GPL-2.0-only */
/* The keyring's epoch-based reclamation (src/keyring/rcu.c) with real
 * threads: a read section entered from a pthread-key destructor that runs
 * after the library's own (an exiting thread of the host reading a key on
 * its way out) must keep krk_rcu_synchronize waiting, even when another
 * thread claims a slot meanwhile (review of issue 17, F1: the exiting
 * thread kept using the slot it had given back, the other thread claimed
 * it and its unlock stored epoch 0 for both). Bounded: 200 rounds of at
 * most ~10 ms each. And fork() while another thread reads, the per-slot
 * spare block, and a first read after the library's destructor deleted
 * its pthread key (F10). Usage: test_rcu */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rcu.h"

typedef struct obj {
    atomic_int alive;
} obj;

static obj *_Atomic published;
static pthread_key_t late_key;
static atomic_int in_section, release_reader, violations, sync_done;

static void *writer(void *p)
{
    (void)p;
    krk_rcu_synchronize();
    atomic_store(&sync_done, 1);
    return NULL;
}

/* another library's TSD destructor (created after ours, so it runs later) */
static void late_destructor(void *p)
{
    (void)p;
    krk_rcu_thread *t = krk_rcu_read_lock();
    if (t == NULL)
        return;
    obj *o = atomic_load(&published);
    atomic_store(&in_section, 1);
    for (int i = 0; i < 20000 && !atomic_load(&release_reader); i++)
        usleep(50);
    if (atomic_load(&o->alive) != 1)
        atomic_fetch_add(&violations, 1); /* the writer reclaimed it under us */
    krk_rcu_read_unlock(t);
}

static void *exiting_reader(void *p)
{
    (void)p;
    pthread_setspecific(late_key, (void *)1);
    krk_rcu_thread *t = krk_rcu_read_lock(); /* claims this thread's slot */
    if (t)
        krk_rcu_read_unlock(t);
    return NULL; /* the library's destructor, then late_destructor */
}

static void *other_reader(void *p)
{
    (void)p;
    krk_rcu_thread *t = krk_rcu_read_lock(); /* a free slot: once the exiting thread's */
    if (t)
        krk_rcu_read_unlock(t);
    return NULL;
}

static void test_read_from_a_later_thread_destructor(void **state)
{
    (void)state;
    krk_rcu_thread *self = krk_rcu_read_lock(); /* the library's key first (lower index) */
    assert_non_null(self);
    krk_rcu_read_unlock(self);
    assert_int_equal(pthread_key_create(&late_key, late_destructor), 0);
    enum { ROUNDS = 200 };
    int stuck = 0;
    for (int r = 0; r < ROUNDS; r++) {
        obj *o = malloc(sizeof *o), *fresh = malloc(sizeof *fresh);
        assert_non_null(o);
        assert_non_null(fresh);
        atomic_init(&o->alive, 1);
        atomic_init(&fresh->alive, 1);
        atomic_store(&published, o);
        atomic_store(&in_section, 0);
        atomic_store(&release_reader, 0);
        atomic_store(&sync_done, 0);
        pthread_t a, b, w;
        assert_int_equal(pthread_create(&a, NULL, exiting_reader, NULL), 0);
        for (int i = 0; i < 100000 && !atomic_load(&in_section); i++)
            usleep(50);
        assert_true(atomic_load(&in_section));
        assert_int_equal(pthread_create(&b, NULL, other_reader, NULL), 0);
        pthread_join(b, NULL);
        atomic_store(&published, fresh); /* unpublish o, then wait for readers */
        assert_int_equal(pthread_create(&w, NULL, writer, NULL), 0);
        usleep(5000);
        if (atomic_load(&sync_done)) {
            stuck++;
            atomic_store(&o->alive, 0); /* what a writer frees now */
        }
        atomic_store(&release_reader, 1);
        pthread_join(a, NULL);
        pthread_join(w, NULL);
        free(o);
        free(fresh);
    }
    assert_int_equal(atomic_load(&violations), 0);
    assert_int_equal(stuck, 0);
    pthread_key_delete(late_key);
}

/* fork() while another thread is inside a read section: in the child that
 * thread does not exist, and its slot must not make the child's first
 * synchronize wait for ever (review of issue 17, F3). */
static atomic_int fork_inside, fork_stop;

static void *fork_reader(void *p)
{
    (void)p;
    krk_rcu_thread *t = krk_rcu_read_lock();
    if (t == NULL)
        return NULL;
    atomic_store(&fork_inside, 1);
    for (int i = 0; i < 100000 && !atomic_load(&fork_stop); i++)
        usleep(100);
    krk_rcu_read_unlock(t);
    return NULL;
}

static void test_fork_while_a_reader_is_inside(void **state)
{
    (void)state;
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, fork_reader, NULL), 0);
    for (int i = 0; i < 100000 && !atomic_load(&fork_inside); i++)
        usleep(50);
    assert_true(atomic_load(&fork_inside));
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(5); /* a hang ends as SIGALRM */
        krk_rcu_synchronize();
        krk_rcu_thread *c = krk_rcu_read_lock(); /* and the child reads on */
        assert_non_null(c);
        krk_rcu_read_unlock(c);
        krk_rcu_synchronize();
        _exit(0);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    atomic_store(&fork_stop, 1);
    pthread_join(t, NULL);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

/* The spare block: one per slot, taken by its thread only while free,
 * given back from any thread (a reader handed to another thread). */
static void *give_back_elsewhere(void *p)
{
    krk_rcu_spare_give_back(p);
    return NULL;
}

static void test_spare_block(void **state)
{
    (void)state;
    krk_rcu_thread *t = krk_rcu_read_lock();
    assert_non_null(t);
    unsigned char *b = krk_rcu_spare_take(t);
    assert_non_null(b);
    assert_true(((uintptr_t)b & 15) == 0);
    memset(b, 0xA5, KRK_RCU_SPARE_BYTES); /* the whole block is ours */
    assert_null(krk_rcu_spare_take(t)); /* in use */
    krk_rcu_read_unlock(t);
    pthread_t o;
    assert_int_equal(pthread_create(&o, NULL, give_back_elsewhere, b), 0);
    pthread_join(o, NULL);
    t = krk_rcu_read_lock();
    assert_ptr_equal(krk_rcu_spare_take(t), b); /* free again: the same block */
    krk_rcu_spare_give_back(b);
    krk_rcu_read_unlock(t);
}

/* After the library's destructor deleted its pthread key (dlclose, or
 * exit() while threads still run), glibc hands the key's index to the next
 * pthread_key_create. A thread that then reads for the first time must not
 * set that index: the other library's destructor would get our slot
 * (review of issue 17, F10). Runs last: the key is gone for this process. */
static pthread_key_t reused_key;
static atomic_int foreign_value_seen;

static void foreign_destructor(void *p)
{
    (void)p;
    atomic_fetch_add(&foreign_value_seen, 1);
}

static void *first_read_after_unload(void *p)
{
    (void)p;
    krk_rcu_thread *t = krk_rcu_read_lock();
    if (t)
        krk_rcu_read_unlock(t);
    if (pthread_getspecific(reused_key) != NULL)
        atomic_fetch_add(&foreign_value_seen, 100);
    return NULL; /* foreign_destructor runs if the key's value was set */
}

static void test_first_read_after_unload(void **state)
{
    (void)state;
    krk_rcu_thread *t = krk_rcu_read_lock(); /* the key exists */
    assert_non_null(t);
    krk_rcu_read_unlock(t);
    krk_rcu_unload();
    assert_int_equal(pthread_key_create(&reused_key, foreign_destructor), 0);
    pthread_t r;
    assert_int_equal(pthread_create(&r, NULL, first_read_after_unload, NULL), 0);
    pthread_join(r, NULL);
    assert_int_equal(atomic_load(&foreign_value_seen), 0);
    krk_rcu_unload(); /* again (the destructor will too): nothing happens */
    t = krk_rcu_read_lock(); /* and reads go on */
    assert_non_null(t);
    krk_rcu_read_unlock(t);
    pthread_key_delete(reused_key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_from_a_later_thread_destructor),
        cmocka_unit_test(test_spare_block),
        cmocka_unit_test(test_fork_while_a_reader_is_inside),
        cmocka_unit_test(test_first_read_after_unload), /* last */
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
