/* SPDX-License-Identifier: GPL-2.0-only */
/* TLS and response hardening against our test server (issue 13): no
 * SIGPIPE when the server sends FIN then RST right after the handshake
 * (this process keeps SIGPIPE at its default disposition, so a stray one
 * kills the test), and answers naming other batch items or other objects
 * refused as protocol errors (the key of another object never handed out);
 * the key bytes of a Get answer not left in memory OpenSSL frees
 * (SSL_OP_CLEANSE_PLAINTEXT); encrypted client keys, pass phrase files,
 * key permissions, FIFOs and the cipher policy at the client API.
 * Usage: test_tls_hardening FIXTURE_DIR TEST_SERVER */
#define _GNU_SOURCE /* memmem */
#include <malloc.h>
#include <openssl/crypto.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault_env.h"
#include "kmip/kmip_client.h"

#define TIMEOUT_MS 2000

static const char *fixture, *server_bin;
static fenv E;

static kmip_client *client_to(unsigned port)
{
    kmip_client_options *o = kmip_client_options_new();
    assert_non_null(o);
    assert_int_equal(kmip_client_options_set_server(o, "127.0.0.1", port), KMIP_CLIENT_OK);
    assert_int_equal(kmip_client_options_set_ca(o, E.ca), KMIP_CLIENT_OK);
    assert_int_equal(kmip_client_options_set_cert(o, E.cert, E.key), KMIP_CLIENT_OK);
    kmip_client_options_set_timeouts(o, TIMEOUT_MS, TIMEOUT_MS);
    kmip_client_options_set_operation_timeout(o, TIMEOUT_MS);
    kmip_client *c = kmip_client_new(o);
    kmip_client_options_free(o);
    assert_non_null(c);
    return c;
}

static void arm(const char *command)
{
    char out[256];
    assert_true(fenv_clear(&E));
    if (!fenv_ctl(E.server_ctl, command, out, sizeof out))
        fail_msg("arming \"%s\": %s", command, out);
}

/* FIN then RST right after the handshake, on every connection (the retry
 * of Discover Versions meets it too), 20 rounds: each call fails with a
 * connection error, and the process is still alive to say so. */
static void test_fin_rst_no_sigpipe(void **state)
{
    (void)state;
    struct sigaction sa;
    assert_int_equal(sigaction(SIGPIPE, NULL, &sa), 0);
    assert_true(sa.sa_handler == SIG_DFL);
    arm("fault fin_rst times=0");
    for (int round = 0; round < 20; round++) {
        kmip_client *c = client_to(E.server_port);
        kmip_client_err e = kmip_client_connect(c);
        if (e != KMIP_CLIENT_E_CLOSED && e != KMIP_CLIENT_E_IO && e != KMIP_CLIENT_E_TLS)
            fail_msg("round %d: %s (%s)", round, kmip_client_strerror(e),
                     kmip_client_error_message(c));
        /* the sentence is whole ("... while reading from it", not "...
         * while reading from") */
        const char *m = kmip_client_error_message(c);
        if (e == KMIP_CLIENT_E_CLOSED && strcmp(m + strlen(m) - 3, " it") != 0)
            fail_msg("round %d: %s", round, m);
        kmip_client_free(c);
    }
    assert_true(fenv_clear(&E));
    kmip_client *c = client_to(E.server_port);
    assert_int_equal(kmip_client_connect(c), KMIP_CLIENT_OK);
    kmip_client_free(c);
}

static kmip_key_spec secret_spec(void)
{
    kmip_key_spec s = {0};
    s.object_type = KMIP_OBJECT_TYPE_SECRET_DATA;
    s.secret_data_type = KMIP_SECRET_DATA_TYPE_PASSWORD;
    s.object_group = "tls-hardening";
    return s;
}

static void expect(const char *what, kmip_client_err got, kmip_client_err want, kmip_client *c,
                   const char *pattern)
{
    const char *m = kmip_client_error_message(c);
    print_message("%-44s %s: %s\n", what, kmip_client_strerror(got), m);
    if (got != want || (pattern && strstr(m, pattern) == NULL))
        fail_msg("%s: expected %s (\"%s\"), got %s (%s)", what, kmip_client_strerror(want),
                 pattern ? pattern : "", kmip_client_strerror(got), m);
}

static bool count_uid(void *ctx, const char *uid, size_t len)
{
    (void)uid;
    (void)len;
    (*(size_t *)ctx)++;
    return true;
}

/* Answers that name another object or another batch item are protocol
 * errors; the key of another object is never handed out. */
static void test_answers_must_match(void **state)
{
    (void)state;
    kmip_client *c = client_to(E.server_port);
    kmip_key_spec spec = secret_spec();
    char uid[128], pre[128];
    static const uint8_t secret[] = "the key of one object";
    assert_true(fenv_clear(&E));
    assert_int_equal(kmip_client_register_activate(c, &spec, secret, sizeof secret, uid,
                                                   sizeof uid), KMIP_CLIENT_OK);
    assert_int_equal(kmip_client_register(c, &spec, secret, sizeof secret, pre, sizeof pre),
                     KMIP_CLIENT_OK);

    uint8_t *k = NULL;
    size_t len = 0;
    uint32_t type = 0;
    arm("fault wrong_uid op=Get");
    expect("Get answered for another object", kmip_client_get_key(c, uid, &k, &len, &type),
           KMIP_CLIENT_E_PROTOCOL, c, "names object \"X");
    assert_null(k);
    arm("fault wrong_uid op=Activate");
    expect("Activate answered for another object", kmip_client_activate(c, pre),
           KMIP_CLIENT_E_PROTOCOL, c, "the request asked for");
    arm("fault wrong_uid op=Revoke");
    expect("Revoke answered for another object",
           kmip_client_revoke(c, pre, KMIP_REVOCATION_REASON_CODE_CESSATION_OF_OPERATION),
           KMIP_CLIENT_E_PROTOCOL, c, "the request asked for");
    arm("fault wrong_uid op=Destroy");
    expect("Destroy answered for another object", kmip_client_destroy(c, pre),
           KMIP_CLIENT_E_PROTOCOL, c, "the request asked for");
    kmip_message *resp = NULL;
    arm("fault wrong_uid op=GetAttributes");
    expect("Get Attributes answered for another object",
           kmip_client_get_attributes(c, uid, NULL, 0, &resp), KMIP_CLIENT_E_PROTOCOL, c,
           "the request asked for");
    kmip_message_free(resp);

    kmip_locate_filter f = {0};
    f.object_group = "tls-hardening";
    size_t found = 0;
    arm("fault extra_batch_id op=Locate");
    expect("batch item id the request never sent", kmip_client_locate(c, &f, count_uid, &found),
           KMIP_CLIENT_E_PROTOCOL, c, "did not send");
    char again[128];
    arm("fault no_batch_id op=Register");
    expect("batch answered without batch item ids",
           kmip_client_register_activate(c, &spec, secret, sizeof secret, again, sizeof again),
           KMIP_CLIENT_E_PROTOCOL, c, "no Unique Batch Item ID");
    /* the items using the ID placeholder answered for another object than
     * the one Register/Create made: never a success, never its key */
    char made[128];
    arm("fault wrong_later_uid op=Register");
    expect("placeholder Activate answered for another object",
           kmip_client_register_activate(c, &spec, secret, sizeof secret, made, sizeof made),
           KMIP_CLIENT_E_PROTOCOL, c, "names object \"X");
    kmip_key_spec aes = {0};
    aes.object_type = KMIP_OBJECT_TYPE_SYMMETRIC_KEY;
    aes.algorithm = KMIP_CRYPTOGRAPHIC_ALGORITHM_AES;
    aes.length_bits = 256;
    aes.object_group = "tls-hardening";
    uint8_t *created = NULL;
    size_t created_len = 0;
    arm("fault wrong_later_uid op=Create");
    expect("placeholder Activate and Get answered for another object",
           kmip_client_create_activate_get(c, &aes, made, sizeof made, &created, &created_len),
           KMIP_CLIENT_E_PROTOCOL, c, "names object \"X");
    assert_null(created);
    assert_true(made[0] != '\0' && made[0] != 'X'); /* the object made, named with the error */
    arm("fault no_batch_id op=Get");
    expect("one-item request answered without its id", kmip_client_get_key(c, uid, &k, &len,
                                                                            &type),
           KMIP_CLIENT_OK, c, NULL);
    assert_int_equal(len, sizeof secret);
    kmip_secure_free(k, len);
    assert_true(fenv_clear(&E));
    k = NULL;
    assert_int_equal(kmip_client_get_key(c, uid, &k, &len, &type), KMIP_CLIENT_OK);
    kmip_secure_free(k, len);
    kmip_client_free(c);
}

/* ---- memory OpenSSL frees, scanned for the key (CRYPTO_set_mem_functions) ---- */

static const uint8_t *watched;
static size_t watched_len;
static atomic_int left_behind;

static void scan(void *p)
{
    if (p && watched && memmem(p, malloc_usable_size(p), watched, watched_len))
        atomic_fetch_add(&left_behind, 1);
}

static void *os_malloc(size_t n, const char *file, int line)
{
    (void)file, (void)line;
    return malloc(n);
}

static void *os_realloc(void *p, size_t n, const char *file, int line)
{
    (void)file, (void)line;
    scan(p); /* the old block may be released as it is */
    return realloc(p, n);
}

static void os_free(void *p, const char *file, int line)
{
    (void)file, (void)line;
    scan(p);
    free(p);
}

/* A Get through a connection that is then closed: no buffer OpenSSL
 * frees holds the key's bytes (its record buffers are cleansed). */
static void test_record_buffers_cleansed(void **state)
{
    (void)state;
    static const uint8_t key[32] = "0123456789abcdef-key-under-watch";
    kmip_client *c = client_to(E.server_port);
    kmip_key_spec spec = secret_spec();
    char uid[128];
    assert_true(fenv_clear(&E));
    assert_int_equal(kmip_client_register_activate(c, &spec, key, sizeof key, uid, sizeof uid),
                     KMIP_CLIENT_OK);
    kmip_client_free(c);
    for (int round = 0; round < 3; round++) {
        c = client_to(E.server_port);
        watched = key;
        watched_len = sizeof key;
        uint8_t *k = NULL;
        size_t len = 0;
        uint32_t type = 0;
        assert_int_equal(kmip_client_get_key(c, uid, &k, &len, &type), KMIP_CLIENT_OK);
        assert_memory_equal(k, key, sizeof key);
        kmip_secure_free(k, len);
        kmip_client_free(c);
        watched = NULL;
    }
    assert_int_equal(atomic_load(&left_behind), 0);
}

/* ---- client key files, pass phrases, permissions, cipher policy ---- */

static char logged[4096];

static void capture_log(void *ctx, int level, const char *message)
{
    (void)ctx;
    size_t n = strlen(logged);
    snprintf(logged + n, sizeof logged - n, "%d:%s\n", level, message);
}

static kmip_client_err connect_with(const char *key, const char *password_file, const char *ca,
                                    const char *ciphers, char *message, size_t cap)
{
    kmip_client_options *o = kmip_client_options_new();
    assert_non_null(o);
    assert_int_equal(kmip_client_options_set_server(o, "127.0.0.1", E.server_port),
                     KMIP_CLIENT_OK);
    assert_int_equal(kmip_client_options_set_ca(o, ca ? ca : E.ca), KMIP_CLIENT_OK);
    assert_int_equal(kmip_client_options_set_cert(o, E.cert, key), KMIP_CLIENT_OK);
    if (password_file)
        assert_int_equal(kmip_client_options_set_key_password_file(o, password_file),
                         KMIP_CLIENT_OK);
    if (ciphers)
        assert_int_equal(kmip_client_options_set_ciphers(o, ciphers, NULL), KMIP_CLIENT_OK);
    kmip_client_options_set_timeouts(o, TIMEOUT_MS, TIMEOUT_MS);
    logged[0] = '\0';
    kmip_client_options_set_log(o, capture_log, NULL);
    kmip_client *c = kmip_client_new(o);
    kmip_client_options_free(o);
    assert_non_null(c);
    kmip_client_err e = kmip_client_connect(c);
    snprintf(message, cap, "%s", kmip_client_error_message(c));
    kmip_client_free(c);
    return e;
}

static void test_client_key_files(void **state)
{
    (void)state;
    char enc[1200], pw[1200], wrong[1200], shared[1200], fifo[1200], m[600];
    snprintf(enc, sizeof enc, "%s/client-encrypted.key", fixture);
    snprintf(pw, sizeof pw, "%s/client-pass.txt", fixture);
    snprintf(wrong, sizeof wrong, "%s/wrong-pass.txt", E.dir);
    snprintf(shared, sizeof shared, "%s/shared.key", E.dir);
    snprintf(fifo, sizeof fifo, "%s/ca.fifo", E.dir);
    FILE *f = fopen(wrong, "w");
    assert_non_null(f);
    fputs("not the pass phrase\n", f);
    fclose(f);
    chmod(wrong, 0600);
    assert_true(fenv_clear(&E));
    /* an encrypted PKCS#8 key with its pass phrase; without: a clear error, no prompt */
    kmip_client_err e = connect_with(enc, pw, NULL, NULL, m, sizeof m);
    if (e != KMIP_CLIENT_OK)
        fail_msg("encrypted key with its pass phrase: %s", m);
    e = connect_with(enc, NULL, NULL, NULL, m, sizeof m);
    print_message("encrypted key, no pass phrase: %s\n", m);
    assert_int_equal(e, KMIP_CLIENT_E_CONFIG);
    assert_non_null(strstr(m, "is encrypted and no pass phrase was given"));
    e = connect_with(enc, wrong, NULL, NULL, m, sizeof m);
    assert_int_equal(e, KMIP_CLIENT_E_CONFIG);
    assert_non_null(strstr(m, "does not decrypt the client key"));
    char cmd[3600];
    /* a key that is not the certificate's: refused before any connection */
    char other[1200];
    snprintf(other, sizeof other, "%s/other.key", E.dir);
    snprintf(cmd, sizeof cmd, "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 "
             "-out '%s' 2>/dev/null && chmod 600 '%s'", other, other);
    assert_int_equal(system(cmd), 0);
    e = connect_with(other, NULL, NULL, NULL, m, sizeof m);
    print_message("another key: %s\n", m);
    assert_int_equal(e, KMIP_CLIENT_E_CONFIG);
    assert_non_null(strstr(m, "does not match the certificate"));
    /* a key readable by its group: used, with a warning */
    snprintf(cmd, sizeof cmd, "cp '%s' '%s' && chmod 640 '%s'", E.key, shared, shared);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(connect_with(shared, NULL, NULL, NULL, m, sizeof m), KMIP_CLIENT_OK);
    assert_non_null(strstr(logged, "is readable by its group"));
    /* a FIFO as the CA file: refused at once, naming it */
    unlink(fifo);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    e = connect_with(E.key, NULL, fifo, NULL, m, sizeof m);
    assert_int_equal(e, KMIP_CLIENT_E_CONFIG);
    assert_non_null(strstr(m, "is a FIFO, not a regular file"));
    assert_non_null(strstr(m, fifo));
    /* the cipher policy: a static-RSA TLS 1.2 list is allowed, with a warning */
    assert_int_equal(connect_with(E.key, NULL, NULL, "AES256-GCM-SHA384", m, sizeof m),
                     KMIP_CLIENT_OK);
    assert_non_null(strstr(logged, "without forward secrecy (AES256-GCM-SHA384)"));
    assert_int_equal(connect_with(E.key, NULL, NULL, NULL, m, sizeof m), KMIP_CLIENT_OK);
    assert_null(strstr(logged, "forward secrecy"));
    assert_int_equal(connect_with(E.key, NULL, NULL, "NO-SUCH-CIPHER", m, sizeof m),
                     KMIP_CLIENT_E_CONFIG);
}

static int setup(void **state)
{
    (void)state;
    E.stateless = true;
    if (!fenv_init(&E, fixture, "tls-hardening", server_bin, "") || !fenv_server_start(&E))
        return -1;
    return 0;
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
    /* the disposition a host program starts with: a SIGPIPE would end us */
    signal(SIGPIPE, SIG_DFL);
    /* before OpenSSL allocates anything */
    if (!CRYPTO_set_mem_functions(os_malloc, os_realloc, os_free)) {
        fprintf(stderr, "cannot hook OpenSSL's allocator\n");
        return 1;
    }
    fixture = argv[1];
    server_bin = argv[2];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fin_rst_no_sigpipe),
        cmocka_unit_test(test_answers_must_match),
        cmocka_unit_test(test_record_buffers_cleansed),
        cmocka_unit_test(test_client_key_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
