/* SPDX-License-Identifier: GPL-2.0-only */
/* The keyring's key arena (src/keyring/arena.c) attacked directly: sizes
 * at the edges of the size classes, a double free, a pointer into a block,
 * a free with the wrong size, and many threads allocating and freeing at
 * once. A block must never be handed out twice (two keys in the same
 * bytes) and every block must come back wiped.
 * Usage: test_arena */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../src/keyring/secure.h"

/* RLIMIT_MEMLOCK 0 (and, as root, no CAP_IPC_LOCK: the child becomes
 * nobody): mlock fails, keys still go to the arena, status says so. Runs
 * first, in a child, so that the child maps the arena's first chunk. */
static void test_memlock_zero(void **state)
{
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct rlimit none = {0, 0};
        if (setrlimit(RLIMIT_MEMLOCK, &none) != 0 || (getuid() == 0 && setuid(65534) != 0))
            _exit(10);
        uint8_t *p = krk_secret_alloc(32);
        if (p == NULL || !krk_secret_is_secure(p))
            _exit(11);
        krk_secure_status s;
        krk_secure_status_get(&s);
        char line[512];
        krk_secure_describe(line, sizeof line);
        if (!s.heap || s.locked || strstr(line, "not locked in memory") == NULL)
            _exit(12);
        krk_secret_free(p, 32);
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_edge_sizes(void **state)
{
    (void)state;
    const size_t sizes[] = {0, 1, 15, 16, 17, 16384, 16385};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint8_t *p = krk_secret_alloc(sizes[i]);
        assert_non_null(p);
        memset(p, 0xA5, sizes[i] ? sizes[i] : 1);
        assert_int_equal(krk_secret_is_secure(p), sizes[i] <= 16384);
        krk_secret_free(p, sizes[i]);
    }
}

static void test_double_free_hands_out_once(void **state)
{
    (void)state;
    uint8_t *a = krk_secret_alloc(32);
    assert_true(krk_secret_is_secure(a));
    krk_secret_free(a, 32);
    krk_secret_free(a, 32); /* a caller's bug: must not list the block twice */
    uint8_t *b = krk_secret_alloc(32);
    uint8_t *c = krk_secret_alloc(32);
    assert_ptr_not_equal(b, c);
    krk_secret_free(b, 32);
    krk_secret_free(c, 32);
}

static void test_interior_and_wrong_size_free(void **state)
{
    (void)state;
    uint8_t *a = krk_secret_alloc(64);
    memset(a, 0x5A, 64);
    krk_secret_free(a + 16, 48); /* into the block: ignored */
    assert_int_equal(a[16], 0x5A);
    /* freed with a smaller size: the block's own 64 bytes are wiped and it
     * goes back to its own class, not the 16-byte one */
    krk_secret_free(a, 1);
    for (size_t i = sizeof(void *); i < 64; i++)
        assert_int_equal(a[i], 0);
    uint8_t *s[4];
    for (size_t i = 0; i < 4; i++) {
        s[i] = krk_secret_alloc(16);
        assert_false(s[i] >= a + 16 && s[i] < a + 64);
    }
    for (size_t i = 0; i < 4; i++)
        krk_secret_free(s[i], 16);
    /* freed with a size over 16 KiB: still the arena's, never free()d */
    uint8_t *d = krk_secret_alloc(32);
    assert_true(krk_secret_is_secure(d));
    krk_secret_free(d, 20000);
}

#define THREADS 8
#define ROUNDS 20000

static void *churn(void *arg)
{
    uint8_t tag = (uint8_t)(uintptr_t)arg;
    uint8_t *held[16] = {0};
    for (unsigned r = 0; r < ROUNDS; r++) {
        unsigned slot = r % 16;
        if (held[slot]) {
            for (size_t i = 0; i < 32; i++)
                if (held[slot][i] != tag)
                    return (void *)1; /* another thread wrote into our block */
            krk_secret_free(held[slot], 32);
        }
        held[slot] = krk_secret_alloc(32);
        if (held[slot] == NULL)
            return (void *)1;
        memset(held[slot], tag, 32);
    }
    for (unsigned i = 0; i < 16; i++)
        krk_secret_free(held[i], 32);
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    pthread_t t[THREADS];
    for (uintptr_t i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, churn, (void *)(i + 1)), 0);
    for (unsigned i = 0; i < THREADS; i++) {
        void *r;
        assert_int_equal(pthread_join(t[i], &r), 0);
        assert_null(r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memlock_zero),
        cmocka_unit_test(test_edge_sizes),
        cmocka_unit_test(test_double_free_hands_out_once),
        cmocka_unit_test(test_interior_and_wrong_size_free),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
