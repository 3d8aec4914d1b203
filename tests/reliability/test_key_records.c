/* SPDX-License-Identifier: GPL-2.0-only */
/* A key's record (src/keyring/cache.c) and a load's scratch memory
 * (src/keyring/scratch.c), attacked directly: a record is one block with
 * its ids and Unique Identifier inline, whatever their lengths, whose
 * identifier can be replaced (and replaced again) without freeing what is
 * inline; the hash table grows past the size mapped apart from the heap;
 * scratch strings never move while more are made (a load's
 * helpers read them without the lock), however many and however long.
 * Usage: test_key_records */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/keyring/cache.h"
#include "../../src/keyring/scratch.h"
#include "kmip/kmip_registry.h"

static char *filled(size_t n, char c)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* ids of every length class, the longest allowed included: one block,
 * fields where they belong, the material copied into the key arena */
static void test_record_is_one_block(void **state)
{
    (void)state;
    static const size_t lens[] = {0, 1, 9, 15, 16, 17, 255, KRK_MAX_ID_BYTES};
    uint8_t material[32];
    memset(material, 0xA5, sizeof material);
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        char *data = filled(lens[i] ? lens[i] : 1, 'd'), *auth = filled(lens[i], 'a'),
             *uid = filled(lens[i] + 3, 'u');
        krk_key *k = krk_key_new(data, auth, KRK_TYPE_AES, material, sizeof material, uid);
        assert_non_null(k);
        assert_string_equal(k->data_id, data);
        assert_string_equal(k->auth_id, auth);
        assert_string_equal(k->uid, uid);
        assert_ptr_equal(k->auth_id, k->data_id + strlen(data) + 1);
        assert_ptr_equal(k->uid, k->auth_id + strlen(auth) + 1);
        assert_null(k->conflict_uid);
        assert_int_equal(k->state, KMIP_STATE_ACTIVE);
        assert_int_equal(k->material_len, sizeof material);
        assert_memory_equal(k->material, material, sizeof material);
        /* exact size: at most one malloc granule beyond what it holds */
        size_t need = sizeof *k + strlen(data) + strlen(auth) + strlen(uid) + 3;
        assert_true(malloc_usable_size(k) >= need);
        assert_true(malloc_usable_size(k) < need + 32);
        krk_key_free(k);
        free(data);
        free(auth);
        free(uid);
    }
    /* no Unique Identifier: an empty one, inline */
    krk_key *k = krk_key_new("x", "", KRK_TYPE_SECRET, material, 1, NULL);
    assert_non_null(k);
    assert_string_equal(k->uid, "");
    assert_ptr_equal(k->uid, k->auth_id + 1);
    krk_key_free(k);
}

/* the identifier replaced by a longer one, then a shorter one, then one of
 * the same length: the ids stay, each replacement its own block (freed
 * with the key or by the next replacement: ASan and valgrind see a leak or
 * a double free) */
static void test_replaced_uid(void **state)
{
    (void)state;
    uint8_t material[16] = {1};
    krk_key *k = krk_key_new("key-1", "user", KRK_TYPE_AES, material, sizeof material, "kts-1");
    assert_non_null(k);
    char *longer = filled(3000, 'L');
    assert_true(krk_key_set_uid(k, longer));
    assert_string_equal(k->uid, longer);
    assert_true(krk_key_set_uid(k, "s"));
    assert_string_equal(k->uid, "s");
    assert_true(krk_key_set_uid(k, "kts-2"));
    assert_string_equal(k->uid, "kts-2");
    assert_string_equal(k->data_id, "key-1");
    assert_string_equal(k->auth_id, "user");
    krk_key_free(k);
    free(longer);
    /* a record whose identifier was never replaced and one that was, in a
     * cache cleared whole */
    krk_cache c;
    assert_true(krk_cache_init(&c));
    for (int i = 0; i < 300; i++) {
        char id[32], uid[32];
        snprintf(id, sizeof id, "key-%05d", i);
        snprintf(uid, sizeof uid, "kts-%08d", i);
        krk_key *r = krk_key_new(id, "", KRK_TYPE_AES, material, sizeof material, uid);
        assert_non_null(r);
        if (i % 3 == 0)
            assert_true(krk_key_set_uid(r, "replaced"));
        assert_true(krk_cache_insert(&c, r));
    }
    const krk_key *f = krk_cache_find(&c, "key-00150", "");
    assert_non_null(f);
    assert_string_equal(f->uid, "replaced");
    f = krk_cache_find(&c, "key-00151", "");
    assert_non_null(f);
    assert_string_equal(f->uid, "kts-00000151");
    krk_cache_clear(&c);
}

/* a table grown past the size that is mapped apart from the heap (and
 * each outgrown one unmapped): every key found, removed ones gone */
static void test_cache_grows_mapped(void **state)
{
    (void)state;
    enum { N = 20000 };
    uint8_t material[32] = {7};
    krk_cache c;
    assert_true(krk_cache_init(&c));
    char id[32], uid[32];
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof id, "key-%05d", i);
        snprintf(uid, sizeof uid, "kts-%08d", i);
        krk_key *k = krk_key_new(id, i % 2 ? "auth" : "", KRK_TYPE_AES, material, sizeof material,
                                 uid);
        assert_non_null(k);
        assert_true(krk_cache_insert(&c, k));
    }
    assert_int_equal(c.count, N);
    assert_true(c.table->n >= N);
    for (int i = 0; i < N; i += 2) {
        snprintf(id, sizeof id, "key-%05d", i);
        krk_key *k = krk_cache_find(&c, id, "");
        assert_non_null(k);
        krk_cache_remove(&c, k);
    }
    for (int i = 0; i < N; i++) {
        snprintf(id, sizeof id, "key-%05d", i);
        snprintf(uid, sizeof uid, "kts-%08d", i);
        const krk_key *k = krk_cache_find_rcu(&c, id, i % 2 ? "auth" : "");
        if (i % 2 == 0) {
            assert_null(k);
        } else {
            assert_non_null(k);
            assert_string_equal(k->uid, uid);
        }
    }
    assert_int_equal(c.count, N / 2);
    krk_cache_clear(&c);
}

/* thousands of strings over many blocks, one longer than a block: each
 * where it was made, with its bytes, to the end */
static void test_scratch_strings_never_move(void **state)
{
    (void)state;
    enum { N = 40000 };
    krk_scratch s = {0};
    char **at = malloc(N * sizeof *at);
    assert_non_null(at);
    char buf[64];
    for (int i = 0; i < N; i++) {
        int len = snprintf(buf, sizeof buf, "uid-%d-%0*d", i, i % 40, 7);
        at[i] = krk_scratch_strndup(&s, buf, (size_t)len);
        assert_non_null(at[i]);
        if (i == N / 2) { /* longer than the largest block: a block of its own */
            char *big = filled((size_t)3 << 20, 'B');
            char *copy = krk_scratch_strndup(&s, big, strlen(big));
            assert_non_null(copy);
            assert_int_equal(strlen(copy), (size_t)3 << 20);
            assert_int_equal(copy[0], 'B');
            free(big);
        }
    }
    for (int i = 0; i < N; i++) {
        snprintf(buf, sizeof buf, "uid-%d-%0*d", i, i % 40, 7);
        assert_string_equal(at[i], buf);
    }
    /* only len bytes are read: the copy ends there */
    char *part = krk_scratch_strndup(&s, "abcdef", 3);
    assert_string_equal(part, "abc");
    krk_scratch_free(&s);
    assert_null(s.last);
    krk_scratch_free(&s); /* empty: nothing to do */
    free(at);
    uint32_t *arr = krk_scratch_map(4096 * sizeof *arr);
    assert_non_null(arr);
    for (int i = 0; i < 4096; i++)
        assert_int_equal(arr[i], 0);
    krk_scratch_unmap(arr, 4096 * sizeof *arr);
    krk_scratch_unmap(NULL, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_is_one_block),
        cmocka_unit_test(test_replaced_uid),
        cmocka_unit_test(test_cache_grows_mapped),
        cmocka_unit_test(test_scratch_strings_never_move),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
