/* SPDX-License-Identifier: GPL-2.0-only */
/* TLS and response hardening against our test server (issue 13): no
 * SIGPIPE when the server sends FIN then RST right after the handshake
 * (this process keeps SIGPIPE at its default disposition, so a stray one
 * kills the test), and answers naming other batch items or other objects
 * refused as protocol errors (the key of another object never handed out).
 * Usage: test_tls_hardening FIXTURE_DIR TEST_SERVER */
#include <setjmp.h>
#include <signal.h>
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
    fixture = argv[1];
    server_bin = argv[2];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fin_rst_no_sigpipe),
        cmocka_unit_test(test_answers_must_match),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
