/* SPDX-License-Identifier: GPL-2.0-only */
/* Secrets: key material never reaches a log line or an error message,
 * every buffer that held it is wiped before it is freed, and the keyring's
 * copy lives in memory excluded from core dumps (and locked where the
 * system allows).
 *
 * The wiping check wraps free() for our code (-Wl,--wrap=free): a block
 * freed while it still holds the test key's bytes is a violation. The
 * check is shown to work by freeing one such block on purpose first.
 * Usage: test_secrets FIXTURE_DIR TEST_SERVER */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <malloc.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/keyring/cache.h"
#include "../../src/keyring/secure.h"
#include "fault_env.h"
#include "keyring_kmip/krk.h"
#include "kmip/kmip_client.h"

static const uint8_t secret[32] = {0xC0, 0xFF, 0xEE, 0x5E, 0xC2, 0xE7, 'k', 'e', 'y', '!', 0x01,
                                   0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF, 0x10, 0x32, 0x54,
                                   0x76, 0x98, 0xBA, 0xDC, 0xFE, 0x0F, 0x1E, 0x2D, 0x3C, 0x4B,
                                   0x5A};
static const char secret_hex[] = "c0ffee5ec2e76b657921";  /* its first 10 bytes */
static const char secret_hex_uc[] = "C0FFEE5EC2E76B657921";

/* ---- free() hook ---- */

void __real_free(void *p);
void __wrap_free(void *p);
static atomic_int unwiped_frees;

void __wrap_free(void *p)
{
    if (p) {
        size_t n = malloc_usable_size(p);
        if (n >= 16 && memmem(p, n, secret, 16) != NULL)
            atomic_fetch_add(&unwiped_frees, 1);
    }
    __real_free(p);
}

/* ---- text checks ---- */

static bool leaks(const char *text)
{
    return memmem(text, strlen(text), secret, 16) != NULL || strstr(text, secret_hex) ||
           strstr(text, secret_hex_uc);
}

static char logged[1 << 16];
static size_t logged_len;

static void capture_log(void *ctx, int level, const char *message)
{
    (void)ctx;
    (void)level;
    size_t n = strlen(message);
    if (logged_len + n + 1 < sizeof logged) {
        memcpy(logged + logged_len, message, n);
        logged_len += n;
        logged[logged_len++] = '\n';
        logged[logged_len] = '\0';
    }
}

static fenv E;
static const char *fixture, *server_bin;

static void test_hook_detects_unwiped_free(void **state)
{
    (void)state;
    uint8_t *copy = malloc(sizeof secret);
    assert_non_null(copy);
    memcpy(copy, secret, sizeof secret);
    int before = atomic_load(&unwiped_frees);
    free(copy); /* deliberately not wiped */
    assert_int_equal(atomic_load(&unwiped_frees), before + 1);
    copy = malloc(sizeof secret);
    assert_non_null(copy);
    memcpy(copy, secret, sizeof secret);
    kmip_secure_free(copy, sizeof secret);
    assert_int_equal(atomic_load(&unwiped_frees), before + 1);
    atomic_store(&unwiped_frees, 0);
}

static kmip_client *client(bool insecure)
{
    kmip_client_options *o = kmip_client_options_new();
    assert_non_null(o);
    assert_int_equal(kmip_client_options_set_server(o, "127.0.0.1", E.server_port), 0);
    assert_int_equal(kmip_client_options_set_ca(o, E.ca), 0);
    assert_int_equal(kmip_client_options_set_cert(o, E.cert, E.key), 0);
    kmip_client_options_set_log(o, capture_log, NULL);
    kmip_client_options_insecure_skip_hostname(o, insecure);
    kmip_client_options_set_timeouts(o, 1000, 1000);
    kmip_client *c = kmip_client_new(o);
    kmip_client_options_free(o);
    assert_non_null(c);
    return c;
}

/* Every client path that carries the key, with its log captured, under
 * faults that make it log and fail. */
static void test_client_logs_and_errors(void **state)
{
    (void)state;
    kmip_client *c = client(true); /* insecure mode logs a warning */
    kmip_key_spec spec = {0};
    spec.object_type = KMIP_OBJECT_TYPE_SYMMETRIC_KEY;
    spec.algorithm = KMIP_CRYPTOGRAPHIC_ALGORITHM_AES;
    spec.length_bits = 256;
    char uid[128], out[128];
    assert_int_equal(kmip_client_register_activate(c, &spec, secret, sizeof secret, uid, sizeof uid),
                     KMIP_CLIENT_OK);
    uint8_t *k = NULL;
    size_t len = 0;
    assert_int_equal(kmip_client_get_key(c, uid, &k, &len, NULL), KMIP_CLIENT_OK);
    assert_memory_equal(k, secret, sizeof secret);
    kmip_secure_free(k, len);
    static const char *const faults[] = {"fault truncate op=Get", "fault wrong_batch_id op=Get",
                                         "fault no_result_status op=Get",
                                         "fault lose op=Register", "fault slow op=Get"};
    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) {
        assert_true(fenv_ctl(E.server_ctl, faults[i], out, sizeof out));
        kmip_client_err e = strstr(faults[i], "Register")
                                ? kmip_client_register(c, &spec, secret, sizeof secret, out,
                                                       sizeof out)
                                : kmip_client_get_key(c, uid, &k, &len, NULL);
        if (e == KMIP_CLIENT_OK)
            kmip_secure_free(k, len);
        assert_false(leaks(kmip_client_error_message(c)));
        assert_true(fenv_clear(&E));
    }
    assert_true(logged_len > 0); /* the insecure mode and the retries were logged */
    assert_false(leaks(logged));
    assert_int_equal(kmip_client_revoke_destroy(c, uid), KMIP_CLIENT_OK);
    kmip_client_free(c);
    assert_int_equal(atomic_load(&unwiped_frees), 0);
}

/* ---- memory maps ---- */

typedef struct region {
    uintptr_t from, to;
    bool dontdump, locked;
} region;

/* The mappings of this process with their VmFlags. */
static size_t regions(region *out, size_t cap)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    assert_non_null(f);
    char line[512];
    size_t n = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long a, b;
        if (sscanf(line, "%lx-%lx ", &a, &b) == 2 && strchr(line, '-') < strchr(line, ' ')) {
            if (n < cap)
                out[n++] = (region){a, b, false, false};
        } else if (strncmp(line, "VmFlags:", 8) == 0 && n > 0) {
            out[n - 1].dontdump = strstr(line, " dd") != NULL;
            out[n - 1].locked = strstr(line, " lo") != NULL;
        }
    }
    fclose(f);
    return n;
}

static const region *region_of(const region *r, size_t n, const void *p)
{
    for (size_t i = 0; i < n; i++)
        if ((uintptr_t)p >= r[i].from && (uintptr_t)p < r[i].to)
            return &r[i];
    return NULL;
}

/* Copies of the key in memory excluded from core dumps. Mappings beyond
 * 64 MiB are skipped: sanitizers mark their shadow memory (terabytes of
 * reservation) the same way; the keyring's arena grows by 1 MiB chunks. */
static int copies_in_dontdump_memory(void)
{
    static region r[4096];
    size_t n = regions(r, 4096);
    int fd = open("/proc/self/mem", O_RDONLY);
    assert_true(fd >= 0);
    int found = 0;
    enum { CHUNK = 1 << 20 };
    uint8_t *buf = malloc(CHUNK);
    assert_non_null(buf);
    for (size_t i = 0; i < n; i++) {
        if (!r[i].dontdump || r[i].to - r[i].from > (64u << 20))
            continue;
        /* chunks overlap by 15 bytes so that no copy is split unseen */
        for (uintptr_t at = r[i].from; at < r[i].to; at += CHUNK - 15) {
            size_t len = r[i].to - at < CHUNK ? r[i].to - at : CHUNK;
            ssize_t got = pread(fd, buf, len, (off_t)at);
            for (uint8_t *p = buf; got > 0 && (p = memmem(p, (size_t)got - (size_t)(p - buf),
                                                          secret, 16));
                 p++)
                found++;
            if (len < CHUNK)
                break;
        }
    }
    kmip_secure_free(buf, CHUNK);
    close(fd);
    return found;
}

static void test_cache_memory_not_dumped(void **state)
{
    (void)state;
    krk_key *key = krk_key_new("dump", "", KRK_TYPE_AES, secret, sizeof secret, "uid");
    assert_non_null(key);
    assert_true(krk_secret_is_secure(key->material));
    static region r[4096];
    size_t n = regions(r, 4096);
    const region *where = region_of(r, n, key->material);
    assert_non_null(where);
    assert_true(where->dontdump);
    krk_secure_status st;
    krk_secure_status_get(&st);
    print_message("key memory: keyring arena %s, %s\n", st.heap ? "yes" : "no",
                  where->locked ? "locked (mlock)" : "not locked (RLIMIT_MEMLOCK)");
    assert_int_equal(st.locked, where->locked);
    krk_key_free(key);
}

/* The host's OpenSSL is left alone: with 200,000 keys of 32 bytes and 256
 * of 16 KiB held (the old secure heap of 4 MiB was full after 131,072 such
 * keys, or 256 large ones, and then DRBG creation and ECDHE failed for the
 * whole process), every key is in the keyring's arena, OpenSSL's secure
 * heap was never set up, and TLS handshakes (ECDHE), EC key generation,
 * new DRBGs and RAND_bytes all still work in this process. */
static void test_many_keys_leave_openssl_alone(void **state)
{
    (void)state;
    enum { SMALL = 200000, LARGE = 256 };
    krk_cache c;
    assert_true(krk_cache_init(&c));
    uint8_t material[16384];
    size_t outside = 0;
    for (unsigned i = 0; i < SMALL + LARGE; i++) {
        size_t len = i < SMALL ? 32 : sizeof material;
        memset(material, 0x5A, len);
        memcpy(material, &i, sizeof i);
        char id[32];
        snprintf(id, sizeof id, "k%u", i);
        krk_key *k = krk_key_new(id, "", KRK_TYPE_AES, material, len, "uid");
        assert_non_null(k);
        outside += !krk_secret_is_secure(k->material);
        assert_true(krk_cache_insert(&c, k));
    }
    kmip_secure_zero(material, sizeof material);
    krk_secure_status st;
    krk_secure_status_get(&st);
    print_message("%u keys: %zu outside the arena, %zu KiB in use of %zu KiB mapped in %zu "
                  "chunks, %s\n", SMALL + LARGE, outside, st.in_use_bytes / 1024,
                  st.mapped_bytes / 1024, st.chunks, st.locked ? "locked" : "not locked");
    assert_int_equal(outside, 0);
    assert_false(CRYPTO_secure_malloc_initialized());
    /* the host's cryptography, in the same process */
    for (int i = 0; i < 20; i++) {
        kmip_client_options *o = kmip_client_options_new();
        assert_non_null(o);
        assert_int_equal(kmip_client_options_set_server(o, "127.0.0.1", E.server_port),
                         KMIP_CLIENT_OK);
        assert_int_equal(kmip_client_options_set_ca(o, E.ca), KMIP_CLIENT_OK);
        assert_int_equal(kmip_client_options_set_cert(o, E.cert, E.key), KMIP_CLIENT_OK);
        kmip_client *cl = kmip_client_new(o);
        kmip_client_options_free(o);
        assert_non_null(cl);
        if (kmip_client_connect(cl) != KMIP_CLIENT_OK)
            fail_msg("handshake %d: %s", i, kmip_client_error_message(cl));
        kmip_client_tls_info tls;
        assert_int_equal(kmip_client_tls(cl, &tls), KMIP_CLIENT_OK);
        if (i == 0)
            print_message("handshakes: %s, %s\n", tls.protocol, tls.cipher);
        kmip_client_free(cl);
    }
    for (int i = 0; i < 10; i++) {
        EVP_PKEY *k = EVP_EC_gen("P-256");
        assert_non_null(k);
        EVP_PKEY_free(k);
        EVP_RAND *r = EVP_RAND_fetch(NULL, "CTR-DRBG", NULL);
        assert_non_null(r);
        EVP_RAND_CTX *ctx = EVP_RAND_CTX_new(r, NULL);
        EVP_RAND_free(r);
        assert_non_null(ctx);
        EVP_RAND_CTX_free(ctx);
    }
    uint8_t random[64];
    for (int i = 0; i < 1000; i++)
        assert_int_equal(RAND_bytes(random, sizeof random), 1);
    assert_false(CRYPTO_secure_malloc_initialized());
    krk_cache_clear(&c);
    krk_secure_status_get(&st);
    assert_int_equal(st.in_use_bytes, 0);
}

/* The keyring end to end: its copy of a stored key is in dump-excluded
 * memory, no error or metadata shows the key, and every buffer is wiped. */
static void test_keyring(void **state)
{
    (void)state;
    char path[1200];
    snprintf(path, sizeof path, "%s/secrets.cnf", E.dir);
    assert_true(fenv_write_keyring_config(&E, path, E.server_port, "secrets", 1000, NULL, NULL));
    krk_config cfg;
    krk_diag d;
    assert_int_equal(krk_config_read(path, &cfg, &d), KRK_OK);
    krk_keyring *k = NULL;
    assert_int_equal(krk_open(&cfg, &k, &d), KRK_OK);
    int before = copies_in_dontdump_memory();
    assert_int_equal(krk_store(k, "s", "u", secret, sizeof secret, "AES"), KRK_OK);
    assert_true(copies_in_dontdump_memory() > before);
    assert_int_equal(krk_store(k, "s", "u", secret, sizeof secret, "AES"), KRK_E_EXISTS);
    assert_false(leaks(krk_last_error(k)));
    char out[128];
    assert_true(fenv_ctl(E.server_ctl, "fault silent op=Register", out, sizeof out));
    assert_int_equal(krk_store(k, "t", "u", secret, sizeof secret, "SECRET"), KRK_E_KMIP);
    assert_false(leaks(krk_last_error(k)));
    assert_true(fenv_clear(&E));
    krk_reader *r = NULL;
    assert_int_equal(krk_reader_init(k, "s", "u", &r), KRK_OK);
    uint8_t got[64];
    size_t len, tl;
    char type[16];
    assert_int_equal(krk_reader_fetch(r, got, sizeof got, &len, type, sizeof type, &tl), KRK_OK);
    assert_memory_equal(got, secret, sizeof secret);
    kmip_secure_zero(got, sizeof got);
    krk_reader_deinit(r);
    uint8_t iv[16] = {0}, ct[64];
    size_t ct_len;
    assert_int_equal(krk_aes_encrypt(k, "s", "u", "cbc", 256, iv, true, (const uint8_t *)"x", 1, ct,
                                     sizeof ct, &ct_len),
                     KRK_OK);
    assert_int_equal(krk_reload_with(k, &cfg, &d), KRK_OK);
    krk_metadata_item items[32];
    size_t n = krk_metadata(k, items, 32);
    for (size_t i = 0; i < n; i++)
        assert_false(leaks(items[i].value));
    assert_int_equal(krk_remove(k, "s", "u"), KRK_OK);
    krk_close(k);
    assert_int_equal(copies_in_dontdump_memory(), before);
    assert_int_equal(atomic_load(&unwiped_frees), 0);
}

static int setup(void **state)
{
    (void)state;
    return fenv_init(&E, fixture, "secrets", server_bin, "") && fenv_server_start(&E) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    fenv_stop(&E);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s FIXTURE_DIR TEST_SERVER\n", argv[0]);
        return 2;
    }
    fixture = argv[1];
    server_bin = argv[2];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hook_detects_unwiped_free),
        cmocka_unit_test(test_cache_memory_not_dumped),
        cmocka_unit_test(test_client_logs_and_errors),
        cmocka_unit_test(test_keyring),
        cmocka_unit_test(test_many_keys_leave_openssl_alone),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
