/* SPDX-License-Identifier: GPL-2.0-only */
/* The keyring against a real PyKMIP server (the CTest fixture's): every
 * API function with its error cases, restart, owners, object groups,
 * Percona-created keys, stray objects, and concurrent readers and writers.
 * Usage: test_keyring FIXTURE_DIR */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keyring_kmip/krk.h"
#include "kmip/kmip_client.h"
#include <openssl/evp.h>
#include <openssl/sha.h>

static char fixture[1024], ca[2100], cert[2100], key[2100];
static unsigned port;
static char group[64], other_group[80];

static void load_env(void)
{
    char path[1100], line[2048];
    snprintf(path, sizeof path, "%s/env", fixture);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        exit(2);
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "PORT=", 5) == 0)
            port = (unsigned)atoi(line + 5);
        else if (strncmp(line, "CA=", 3) == 0)
            snprintf(ca, sizeof ca, "%s", line + 3);
        else if (strncmp(line, "CLIENT_CERT=", 12) == 0)
            snprintf(cert, sizeof cert, "%s", line + 12);
        else if (strncmp(line, "CLIENT_KEY=", 11) == 0)
            snprintf(key, sizeof key, "%s", line + 11);
    }
    fclose(f);
}

/* A configuration file for `grp` (NULL: no object group), read back. */
static krk_config config_for(const char *grp, unsigned p)
{
    char path[1200];
    if (snprintf(path, sizeof path, "%s/keyring-%s.cnf", fixture, grp ? grp : "nogroup") >= (int)sizeof path)
        fail();
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "{\"server_addr\": \"127.0.0.1\", \"server_port\": %u, \"client_ca\": \"%s\", "
               "\"client_key\": \"%s\", \"server_ca\": \"%s\", \"kmip_timeout_ms\": 5000",
            p, cert, key, ca);
    if (grp)
        fprintf(f, ", \"object_group\": \"%s\"", grp);
    fputs("}\n", f);
    fclose(f);
    krk_config cfg;
    krk_diag d;
    if (krk_config_read(path, &cfg, &d) != KRK_OK)
        fail_msg("%s", d.error);
    return cfg;
}

static krk_keyring *open_group(const char *grp)
{
    krk_config cfg = config_for(grp, port);
    krk_keyring *k = NULL;
    krk_diag d;
    if (krk_open(&cfg, &k, &d) != KRK_OK)
        fail_msg("open: %s", d.error);
    return k;
}

static void expect_key(krk_keyring *k, const char *data_id, const char *auth_id, const void *data,
                       size_t len, const char *type)
{
    krk_reader *r = NULL;
    krk_err e = krk_reader_init(k, data_id, auth_id, &r);
    if (e != KRK_OK)
        fail_msg("reader %s/%s: %s", data_id, auth_id, krk_strerror(e));
    size_t dl, tl;
    krk_reader_fetch_length(r, &dl, &tl);
    assert_int_equal(dl, len);
    uint8_t buf[KRK_MAX_KEY_BYTES];
    char t[16];
    assert_int_equal(krk_reader_fetch(r, buf, sizeof buf, &dl, t, sizeof t, &tl), KRK_OK);
    if (data)
        assert_memory_equal(buf, data, len);
    assert_string_equal(t, type);
    krk_reader_deinit(r);
}

static void test_store_fetch_remove(void **state)
{
    (void)state;
    krk_keyring *k = open_group(group);
    assert_true(krk_is_initialized(k));
    assert_int_equal(krk_key_count(k), 0);
    const uint8_t aes[32] = "0123456789abcdef0123456789abcdef";
    assert_int_equal(krk_store(k, "percona_binlog", "", aes, 32, "AES"), KRK_OK);
    expect_key(k, "percona_binlog", "", aes, 32, "AES");
    assert_int_equal(krk_store(k, "secret", "alice", (const uint8_t *)"pw-a", 4, "secret"), KRK_OK);
    assert_int_equal(krk_store(k, "secret", "bob", (const uint8_t *)"pw-b", 4, "SECRET"), KRK_OK);
    expect_key(k, "secret", "alice", "pw-a", 4, "SECRET");
    expect_key(k, "secret", "bob", "pw-b", 4, "SECRET");
    assert_int_equal(krk_store(k, "rsa", "u", (const uint8_t *)"-----BEGIN RSA", 14, "RSA"), KRK_OK);
    assert_int_equal(krk_store(k, "dsa", "u", (const uint8_t *)"dsa-bytes", 9, "dsa"), KRK_OK);
    const uint8_t odd[7] = {1, 2, 3, 4, 5, 6, 7};
    assert_int_equal(krk_store(k, "odd aes; with ; semicolons", "u:1", odd, 7, "AES"), KRK_OK);
    char long_id[300];
    memset(long_id, 'x', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    assert_int_equal(krk_store(k, long_id, "", (const uint8_t *)"L", 1, "SECRET"), KRK_OK);
    assert_int_equal(krk_generate(k, "generated", "", "AES", 32), KRK_OK);
    expect_key(k, "generated", "", NULL, 32, "AES");

    /* error cases */
    assert_int_equal(krk_store(k, "secret", "alice", (const uint8_t *)"x", 1, "SECRET"),
                     KRK_E_EXISTS);
    assert_non_null(strstr(krk_last_error(k), "exists already"));
    static uint8_t big[KRK_MAX_KEY_BYTES + 1];
    assert_int_equal(krk_store(k, "big", "", big, sizeof big, "SECRET"), KRK_E_TOO_BIG);
    assert_int_equal(krk_store(k, "t", "", big, 4, "blowfish"), KRK_E_TYPE);
    assert_int_equal(krk_store(k, "", "", big, 4, "AES"), KRK_E_ARG);
    assert_int_equal(krk_remove(k, "nothing", ""), KRK_E_NOT_FOUND);
    krk_reader *r = (krk_reader *)1;
    assert_int_equal(krk_reader_init(k, "nothing", "", &r), KRK_E_NOT_FOUND);
    assert_null(r);
    assert_int_equal(krk_reader_init(k, "percona_binlog", "", &r), KRK_OK);
    uint8_t small[8];
    char t[16];
    size_t dl, tl;
    assert_int_equal(krk_reader_fetch(r, small, sizeof small, &dl, t, sizeof t, &tl), KRK_E_BUFFER);
    /* the type needs its length, the NUL only when there is room (8a121ac) */
    assert_int_equal(krk_reader_fetch(r, big, 32, &dl, t, 2, &tl), KRK_E_BUFFER);
    assert_int_equal(krk_reader_fetch(r, big, 32, &dl, t, 3, &tl), KRK_OK);
    assert_int_equal(tl, 3);
    assert_memory_equal(t, "AES", 3);
    krk_reader_deinit(r);
    assert_int_equal(krk_key_count(k), 8);

    /* restart: a new keyring on the same server sees every key as it was */
    krk_close(k);
    k = open_group(group);
    assert_int_equal(krk_key_count(k), 8);
    expect_key(k, "percona_binlog", "", aes, 32, "AES");
    expect_key(k, "secret", "alice", "pw-a", 4, "SECRET");
    expect_key(k, "secret", "bob", "pw-b", 4, "SECRET");
    expect_key(k, "rsa", "u", "-----BEGIN RSA", 14, "RSA");
    expect_key(k, "dsa", "u", "dsa-bytes", 9, "DSA");
    expect_key(k, "odd aes; with ; semicolons", "u:1", odd, 7, "AES");
    expect_key(k, long_id, "", "L", 1, "SECRET");
    /* Discover Versions, 2 Locates (each a page and, PyKMIP omitting
     * Located Items, the empty page after it), 1 batch of Gets */
    assert_true(krk_load_requests(k) >= 3);
    assert_true(krk_load_requests(k) <= 6);

    /* remove, and it stays removed */
    assert_int_equal(krk_remove(k, "secret", "bob"), KRK_OK);
    assert_int_equal(krk_reader_init(k, "secret", "bob", &r), KRK_E_NOT_FOUND);
    expect_key(k, "secret", "alice", "pw-a", 4, "SECRET");
    krk_close(k);
    k = open_group(group);
    assert_int_equal(krk_key_count(k), 7);
    const char *ids[] = {"percona_binlog", "secret", "rsa", "dsa", "odd aes; with ; semicolons",
                         long_id, "generated"};
    const char *auths[] = {"", "alice", "u", "u", "u:1", "", ""};
    for (int i = 0; i < 7; i++)
        assert_int_equal(krk_remove(k, ids[i], auths[i]), KRK_OK);
    assert_int_equal(krk_key_count(k), 0);
    krk_close(k);
}

static void test_iterator_and_metadata(void **state)
{
    (void)state;
    char grp[80];
    snprintf(grp, sizeof grp, "%s-iter", group);
    krk_keyring *k = open_group(grp);
    for (int i = 0; i < 5; i++) {
        char id[16];
        snprintf(id, sizeof id, "key%d", i);
        assert_int_equal(krk_store(k, id, "owner", (const uint8_t *)id, strlen(id), "SECRET"),
                         KRK_OK);
    }
    krk_iter *it = NULL;
    assert_int_equal(krk_iter_init(k, &it), KRK_OK);
    int seen = 0;
    for (; krk_iter_is_valid(it); assert_int_equal(krk_iter_next(it), KRK_OK)) {
        size_t dl, al;
        assert_int_equal(krk_iter_get_length(it, &dl, &al), KRK_OK);
        char d[16], a[16];
        assert_int_equal(krk_iter_get(it, d, sizeof d, a, sizeof a), KRK_OK);
        assert_string_equal(a, "owner");
        assert_int_equal(krk_iter_get(it, d, dl, a, sizeof a), KRK_E_BUFFER);
        seen++;
    }
    assert_int_equal(seen, 5);
    krk_iter_deinit(it);
    /* a change invalidates an iterator, it does not corrupt it */
    assert_int_equal(krk_iter_init(k, &it), KRK_OK);
    assert_true(krk_iter_is_valid(it));
    assert_int_equal(krk_remove(k, "key0", "owner"), KRK_OK);
    assert_false(krk_iter_is_valid(it));
    assert_int_equal(krk_iter_next(it), KRK_E_INVALIDATED);
    krk_iter_deinit(it);
    krk_metadata_item md[KRK_METADATA_MAX];
    size_t n = krk_metadata(k, md, KRK_METADATA_MAX);
    bool status = false, count = false, addr = false;
    for (size_t i = 0; i < n; i++) {
        status |= strcmp(md[i].key, "Component_status") == 0 && strcmp(md[i].value, "Active") == 0;
        count |= strcmp(md[i].key, "Key_count") == 0 && strcmp(md[i].value, "4") == 0;
        addr |= strcmp(md[i].key, "Server_addr") == 0 && strcmp(md[i].value, "127.0.0.1") == 0;
    }
    assert_true(status && count && addr);
    for (int i = 1; i < 5; i++) {
        char id[16];
        snprintf(id, sizeof id, "key%d", i);
        assert_int_equal(krk_remove(k, id, "owner"), KRK_OK);
    }
    krk_close(k);
}

static kmip_client *raw_client(void)
{
    kmip_client_options *o = kmip_client_options_new();
    assert_int_equal(kmip_client_options_set_server(o, "127.0.0.1", port), KMIP_CLIENT_OK);
    assert_int_equal(kmip_client_options_set_ca(o, ca), KMIP_CLIENT_OK);
    assert_int_equal(kmip_client_options_set_cert(o, cert, key), KMIP_CLIENT_OK);
    kmip_client *c = kmip_client_new(o);
    kmip_client_options_free(o);
    return c;
}

static void test_groups_percona_keys_and_strays(void **state)
{
    (void)state;
    /* a key in another group is invisible */
    krk_keyring *other = open_group(other_group);
    assert_int_equal(krk_store(other, "elsewhere", "", (const uint8_t *)"e", 1, "SECRET"), KRK_OK);
    krk_close(other);
    /* a key made the Percona way: Symmetric Key, Name = data_id, in the group, Active */
    kmip_client *c = raw_client();
    kmip_key_spec spec = {0};
    spec.object_type = KMIP_OBJECT_TYPE_SYMMETRIC_KEY;
    spec.algorithm = KMIP_CRYPTOGRAPHIC_ALGORITHM_AES;
    spec.length_bits = 256;
    spec.name = "percona_innodb_master_key";
    spec.object_group = group;
    const uint8_t material[32] = {9, 9, 9};
    char uid[128], stray[128];
    assert_int_equal(kmip_client_register_activate(c, &spec, material, 32, uid, sizeof uid),
                     KMIP_CLIENT_OK);
    /* a stray object in the group: no Name, not ours */
    kmip_key_spec bare = {0};
    bare.object_type = KMIP_OBJECT_TYPE_SECRET_DATA;
    bare.object_group = group;
    assert_int_equal(kmip_client_register_activate(c, &bare, (const uint8_t *)"?", 1, stray,
                                                   sizeof stray),
                     KMIP_CLIENT_OK);
    krk_config cfg = config_for(group, port);
    krk_keyring *k = NULL;
    krk_diag d;
    if (krk_open(&cfg, &k, &d) != KRK_OK)
        fail_msg("open: %s", d.error);
    assert_int_equal(krk_key_count(k), 1);
    expect_key(k, "percona_innodb_master_key", "", material, 32, "AES");
    assert_int_equal(d.warning_count, 1);
    assert_non_null(strstr(d.warnings[0], stray));
    assert_int_equal(krk_reader_init(k, "elsewhere", "", &(krk_reader *){NULL}), KRK_E_NOT_FOUND);
    assert_int_equal(krk_remove(k, "percona_innodb_master_key", ""), KRK_OK);
    krk_close(k);
    assert_int_equal(kmip_client_revoke_destroy(c, stray), KMIP_CLIENT_OK);
    other = open_group(other_group);
    assert_int_equal(krk_remove(other, "elsewhere", ""), KRK_OK);
    krk_close(other);
    kmip_client_free(c);
}

static void write_plugin_config(const char *dir, const char *grp, bool broken)
{
    char path[1300];
    snprintf(path, sizeof path, "%s/component_keyring_kmip.cnf", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    if (broken)
        fputs("{\"server_addr\": \"127.0.0.1\"}\n", f);
    else
        fprintf(f, "{\"server_addr\": \"127.0.0.1\", \"server_port\": %u, \"client_ca\": "
                   "\"%s\", \"client_key\": \"%s\", \"server_ca\": \"%s\", "
                   "\"object_group\": \"%s\"}\n",
                port, cert, key, ca, grp);
    fclose(f);
}

static void test_generate_and_reload(void **state)
{
    (void)state;
    char grp[80], grp2[90], dir[1100];
    snprintf(grp, sizeof grp, "%s-gen", group);
    snprintf(grp2, sizeof grp2, "%s-gen2", group);
    krk_keyring *k = open_group(grp);
    /* AES 128/192/256: created by the server */
    assert_int_equal(krk_generate(k, "g16", "", "AES", 16), KRK_OK);
    assert_int_equal(krk_generate(k, "g32", "u", "aes", 32), KRK_OK);
    assert_int_equal(krk_generate(k, "g32", "u", "AES", 32), KRK_E_EXISTS);
    /* other sizes and types: random bytes stored */
    assert_int_equal(krk_generate(k, "s10", "", "SECRET", 10), KRK_OK);
    assert_int_equal(krk_generate(k, "x", "", "3DES", 8), KRK_E_TYPE);
    expect_key(k, "g16", "", NULL, 16, "AES");
    expect_key(k, "g32", "u", NULL, 32, "AES");
    expect_key(k, "s10", "", NULL, 10, "SECRET");
    assert_int_equal(krk_key_count(k), 3);
    /* reload onto another group, a broken configuration, and back */
    snprintf(dir, sizeof dir, "%s/reload-plugin", fixture);
    mkdir(dir, 0755);
    krk_diag d;
    write_plugin_config(dir, grp2, false);
    assert_int_equal(krk_reload(k, dir, NULL, &d), KRK_OK);
    assert_int_equal(krk_key_count(k), 0);
    write_plugin_config(dir, grp, true);
    assert_int_equal(krk_reload(k, dir, NULL, &d), KRK_E_CONFIG);
    assert_non_null(strstr(krk_last_error(k), "previous keys stay in service"));
    assert_int_equal(krk_key_count(k), 0); /* the old state stays */
    assert_true(krk_is_initialized(k));
    write_plugin_config(dir, grp, false);
    assert_int_equal(krk_reload(k, dir, NULL, &d), KRK_OK);
    assert_int_equal(krk_key_count(k), 3);
    expect_key(k, "g32", "u", NULL, 32, "AES");
    assert_int_equal(krk_remove(k, "g16", ""), KRK_OK);
    assert_int_equal(krk_remove(k, "g32", "u"), KRK_OK);
    assert_int_equal(krk_remove(k, "s10", ""), KRK_OK);
    krk_close(k);
}

static void test_server_unreachable(void **state)
{
    (void)state;
    krk_config cfg = config_for("unreachable", 1);
    krk_keyring *k = (krk_keyring *)1;
    krk_diag d;
    time_t t0 = time(NULL);
    assert_int_equal(krk_open(&cfg, &k, &d), KRK_E_KMIP);
    assert_null(k);
    assert_non_null(strstr(d.error, "cannot reach the KMIP server 127.0.0.1:1"));
    assert_true(time(NULL) - t0 <= 7);
}

/* A handle whose krk_open failed is NULL: the reader answers
 * KRK_E_NOT_INITIALIZED (it crashed once the lock-free path dereferenced
 * the handle first), and ids longer than KRK_MAX_ID_BYTES get KRK_E_TOO_BIG
 * whatever the cache holds. */
static void test_reader_null_handle_and_long_ids(void **state)
{
    (void)state;
    krk_reader *r = (krk_reader *)1;
    assert_int_equal(krk_reader_init(NULL, "k", "", &r), KRK_E_NOT_INITIALIZED);
    assert_null(r);
    r = (krk_reader *)1;
    assert_int_equal(krk_reader_init(NULL, "k", NULL, &r), KRK_E_NOT_INITIALIZED);
    assert_null(r);
    char grp[80];
    snprintf(grp, sizeof grp, "%s-null", group);
    krk_keyring *k = open_group(grp);
    char *longid = malloc(KRK_MAX_ID_BYTES + 2);
    assert_non_null(longid);
    memset(longid, 'x', KRK_MAX_ID_BYTES + 1);
    longid[KRK_MAX_ID_BYTES + 1] = '\0';
    assert_int_equal(krk_reader_init(k, longid, "", &r), KRK_E_TOO_BIG);
    assert_null(r);
    assert_int_equal(krk_reader_init(k, "k", longid, &r), KRK_E_TOO_BIG);
    assert_null(r);
    free(longid);
    krk_close(k);
}

static void test_aes(void **state)
{
    (void)state;
    char grp[80];
    snprintf(grp, sizeof grp, "%s-aes", group);
    krk_keyring *k = open_group(grp);
    const uint8_t stored[20] = "any length works....";
    assert_int_equal(krk_store(k, "aes", "", stored, sizeof stored, "AES"), KRK_OK);
    assert_int_equal(krk_store(k, "pw", "", (const uint8_t *)"pw", 2, "SECRET"), KRK_OK);
    uint8_t aes_key[32], iv[16] = {1, 2, 3};
    SHA256(stored, sizeof stored, aes_key);
    const uint8_t plain[37] = "thirty-seven bytes of plain text here";
    const struct {
        const char *mode;
        const EVP_CIPHER *(*cipher)(void);
        bool padding;
    } modes[] = {{"cbc", EVP_aes_256_cbc, true},     {"CBC", EVP_aes_256_cbc, false},
                 {"cfb1", EVP_aes_256_cfb1, false},  {"cfb8", EVP_aes_256_cfb8, false},
                 {"cfb128", EVP_aes_256_cfb128, false}, {"ofb", EVP_aes_256_ofb, false}};
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
        size_t in_len = modes[m].padding || modes[m].cipher != EVP_aes_256_cbc ? 37 : 32;
        size_t size;
        assert_int_equal(krk_aes_get_size(in_len, modes[m].mode, 256, &size), KRK_OK);
        uint8_t out[64], back[64], want[64];
        size_t out_len, back_len;
        assert_int_equal(krk_aes_encrypt(k, "aes", "", modes[m].mode, 256, iv, modes[m].padding,
                                         plain, in_len, out, sizeof out, &out_len),
                         KRK_OK);
        assert_true(out_len <= size);
        /* the same as OpenSSL with SHA-256(stored key) */
        EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
        int n1, n2;
        assert_int_equal(EVP_EncryptInit_ex(ctx, modes[m].cipher(), NULL, aes_key, iv), 1);
        EVP_CIPHER_CTX_set_padding(ctx, modes[m].padding);
        assert_int_equal(EVP_EncryptUpdate(ctx, want, &n1, plain, (int)in_len), 1);
        assert_int_equal(EVP_EncryptFinal_ex(ctx, want + n1, &n2), 1);
        EVP_CIPHER_CTX_free(ctx);
        assert_int_equal(out_len, (size_t)(n1 + n2));
        assert_memory_equal(out, want, out_len);
        assert_int_equal(krk_aes_decrypt(k, "aes", "", modes[m].mode, 256, iv, modes[m].padding,
                                         out, out_len, back, sizeof back, &back_len),
                         KRK_OK);
        assert_int_equal(back_len, in_len);
        assert_memory_equal(back, plain, in_len);
    }
    uint8_t out[64];
    size_t n;
    assert_int_equal(krk_aes_encrypt(k, "pw", "", "cbc", 256, iv, true, plain, 16, out,
                                     sizeof out, &n), KRK_E_TYPE);
    assert_int_equal(krk_aes_encrypt(k, "none", "", "cbc", 256, iv, true, plain, 16, out,
                                     sizeof out, &n), KRK_E_NOT_FOUND);
    assert_int_equal(krk_aes_encrypt(k, "aes", "", "ecb", 256, iv, true, plain, 16, out,
                                     sizeof out, &n), KRK_E_ARG);
    assert_int_equal(krk_aes_encrypt(k, "aes", "", "cbc", 128, iv, true, plain, 16, out,
                                     sizeof out, &n), KRK_E_ARG);
    assert_int_equal(krk_aes_encrypt(k, "aes", "", "cbc", 256, iv, false, plain, 17, out,
                                     sizeof out, &n), KRK_E_ARG);
    assert_int_equal(krk_aes_encrypt(k, "aes", "", "cbc", 256, iv, true, plain, 16, out, 16, &n),
                     KRK_E_BUFFER);
    assert_int_equal(krk_remove(k, "aes", ""), KRK_OK);
    assert_int_equal(krk_remove(k, "pw", ""), KRK_OK);
    krk_close(k);
}

/* ---- concurrency: 8 readers, 2 writers ---- */

typedef struct shared {
    krk_keyring *k;
    atomic_int stop;
    int torn, reads, writes;
    pthread_mutex_t m;
} shared;

/* The material of a key is derived from its id, so a reader can check it. */
static void material_for(const char *id, uint8_t out[32])
{
    for (int i = 0; i < 32; i++)
        out[i] = (uint8_t)(id[(size_t)i % strlen(id)] + i);
}

static void *reader_main(void *arg)
{
    shared *s = arg;
    int reads = 0, torn = 0;
    while (!atomic_load(&s->stop)) {
        char id[16];
        snprintf(id, sizeof id, "stable%d", reads % 4);
        krk_reader *r;
        if (krk_reader_init(s->k, id, "", &r) != KRK_OK) {
            torn++;
            continue;
        }
        uint8_t got[64], want[32];
        char t[16];
        size_t dl, tl;
        material_for(id, want);
        if (krk_reader_fetch(r, got, sizeof got, &dl, t, sizeof t, &tl) != KRK_OK || dl != 32 ||
            memcmp(got, want, 32) != 0)
            torn++;
        krk_reader_deinit(r);
        krk_iter *it;
        if (krk_iter_init(s->k, &it) == KRK_OK) {
            while (krk_iter_is_valid(it) && krk_iter_next(it) == KRK_OK) {
            }
            krk_iter_deinit(it);
        }
        reads++;
    }
    pthread_mutex_lock(&s->m);
    s->reads += reads;
    s->torn += torn;
    pthread_mutex_unlock(&s->m);
    return NULL;
}

typedef struct writer_arg {
    shared *s;
    int id;
    int kept[64];
    int kept_count;
} writer_arg;

static void *writer_main(void *arg)
{
    writer_arg *w = arg;
    for (int i = 0; i < 12 && !atomic_load(&w->s->stop); i++) {
        char id[32];
        uint8_t m[32];
        snprintf(id, sizeof id, "w%d-%d", w->id, i);
        material_for(id, m);
        if (krk_store(w->s->k, id, "", m, 32, "AES") != KRK_OK)
            continue;
        if (i % 3 == 0)
            w->kept[w->kept_count++] = i;
        else if (krk_remove(w->s->k, id, "") != KRK_OK)
            w->kept[w->kept_count++] = i;
        pthread_mutex_lock(&w->s->m);
        w->s->writes++;
        pthread_mutex_unlock(&w->s->m);
    }
    return NULL;
}

static void test_concurrent_readers_and_writers(void **state)
{
    (void)state;
    char grp[80];
    snprintf(grp, sizeof grp, "%s-conc", group);
    shared s = {open_group(grp), 0, 0, 0, 0, PTHREAD_MUTEX_INITIALIZER};
    for (int i = 0; i < 4; i++) {
        char id[16];
        uint8_t m[32];
        snprintf(id, sizeof id, "stable%d", i);
        material_for(id, m);
        assert_int_equal(krk_store(s.k, id, "", m, 32, "AES"), KRK_OK);
    }
    pthread_t readers[8], writers[2];
    writer_arg w[2] = {{&s, 0, {0}, 0}, {&s, 1, {0}, 0}};
    for (int i = 0; i < 8; i++)
        pthread_create(&readers[i], NULL, reader_main, &s);
    for (int i = 0; i < 2; i++)
        pthread_create(&writers[i], NULL, writer_main, &w[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(writers[i], NULL);
    atomic_store(&s.stop, 1);
    for (int i = 0; i < 8; i++)
        pthread_join(readers[i], NULL);
    assert_int_equal(s.torn, 0);
    assert_true(s.reads > 100);
    assert_int_equal(s.writes, 24);
    /* no lost keys: a fresh keyring sees exactly what this one holds */
    size_t held = krk_key_count(s.k);
    krk_close(s.k);
    krk_keyring *k = open_group(grp);
    assert_int_equal(krk_key_count(k), held);
    for (int t = 0; t < 2; t++) {
        for (int i = 0; i < w[t].kept_count; i++) {
            char id[32];
            uint8_t m[32];
            snprintf(id, sizeof id, "w%d-%d", t, w[t].kept[i]);
            material_for(id, m);
            expect_key(k, id, "", m, 32, "AES");
            assert_int_equal(krk_remove(k, id, ""), KRK_OK);
        }
    }
    for (int i = 0; i < 4; i++) {
        char id[16];
        snprintf(id, sizeof id, "stable%d", i);
        assert_int_equal(krk_remove(k, id, ""), KRK_OK);
    }
    assert_int_equal(krk_key_count(k), 0);
    krk_close(k);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_keyring FIXTURE_DIR\n");
        return 2;
    }
    snprintf(fixture, sizeof fixture, "%s", argv[1]);
    load_env();
    snprintf(group, sizeof group, "krk-%ld-%d", (long)time(NULL), (int)getpid());
    snprintf(other_group, sizeof other_group, "%s-other", group);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store_fetch_remove),
        cmocka_unit_test(test_iterator_and_metadata),
        cmocka_unit_test(test_groups_percona_keys_and_strays),
        cmocka_unit_test(test_server_unreachable),
        cmocka_unit_test(test_reader_null_handle_and_long_ids),
        cmocka_unit_test(test_aes),
        cmocka_unit_test(test_generate_and_reload),
        cmocka_unit_test(test_concurrent_readers_and_writers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
