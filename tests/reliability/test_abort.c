/* SPDX-License-Identifier: GPL-2.0-only */
#define _GNU_SOURCE /* accept4 */
/* kmip_client_abort from another thread, in real processes and sockets:
 * - before any connection: the connect fails at once, nothing connects;
 * - in the TCP connect (a listener whose accept queue is full: the SYN is
 *   dropped and retransmitted, the connect waits);
 * - in the TLS handshake (a listener that accepts and never answers);
 * - waiting for an answer (our test server's `silent` fault: it executes
 *   the request and never answers): a Get fails E_ABORTED, a Register
 *   E_AMBIGUOUS (it may have been made) saying it was aborted;
 * and afterwards every call fails at once, without a connection, and the
 * server's health is not marked failed. Every timeout is 600 s: a wait the
 * abort did not end would be caught by the bounded waits here (hang
 * detectors, no timing is asserted) and by the ctest TIMEOUT.
 * Usage: test_abort FIXTURE_DIR TEST_SERVER FAULT_PROXY */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fault_env.h"
#include "kmip/kmip_client.h"

#define LONG_MS 600000u /* every timeout: far beyond the hang detectors */
#define HANG_MS 60000   /* the hang detectors' bound */

static const char *fixture, *server_bin, *proxy_bin;
static fenv E;

static kmip_client *client_to(unsigned port)
{
    kmip_client_options *o = kmip_client_options_new();
    assert_non_null(o);
    assert_int_equal(kmip_client_options_set_server(o, "127.0.0.1", port), KMIP_CLIENT_OK);
    assert_int_equal(kmip_client_options_set_ca(o, E.ca), KMIP_CLIENT_OK);
    assert_int_equal(kmip_client_options_set_cert(o, E.cert, E.key), KMIP_CLIENT_OK);
    kmip_client_options_set_timeouts(o, LONG_MS, LONG_MS);
    kmip_client_options_pin_version(o, KMIP_VERSION(1, 4)); /* no Discover Versions */
    kmip_client *c = kmip_client_new(o);
    kmip_client_options_free(o);
    assert_non_null(c);
    return c;
}

/* A listening socket on 127.0.0.1 (any port) that nobody serves. */
static int listener(int backlog, unsigned *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, backlog), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* A connection waiting in fd's accept queue (up to HANG_MS for one to
 * come); -1 when none came. */
static int accept_within(int fd, int ms)
{
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, ms) != 1)
        return -1;
    return accept4(fd, NULL, NULL, SOCK_CLOEXEC);
}

/* True when no connection waits in fd's accept queue. */
static bool nothing_queued(int fd)
{
    struct pollfd p = {fd, POLLIN, 0};
    return poll(&p, 1, 0) == 0;
}

/* A connect of ours in SYN-SENT to 127.0.0.1:port (/proc/net/tcp: state
 * 02, the remote address 0100007F:PORT). */
static bool syn_sent_to(unsigned port)
{
    FILE *f = fopen("/proc/net/tcp", "r");
    if (f == NULL)
        return false;
    char line[512], want[32];
    snprintf(want, sizeof want, "0100007F:%04X 02", port);
    bool found = false;
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, want) != NULL;
    fclose(f);
    return found;
}

/* ---- a call on another thread ---- */

typedef enum { OP_CONNECT, OP_GET, OP_REGISTER } op_kind;

typedef struct job {
    kmip_client *c;
    op_kind op;
    const char *uid; /* OP_GET */
    kmip_client_err e;
    char message[1024];
    char made[128]; /* OP_REGISTER: the uid, if the client learnt it */
    volatile int done;
} job;

static void *job_main(void *arg)
{
    job *j = arg;
    uint8_t *key = NULL;
    size_t len = 0;
    uint32_t type = 0;
    kmip_key_spec spec = {.object_type = KMIP_OBJECT_TYPE_SECRET_DATA,
                          .secret_data_type = KMIP_SECRET_DATA_TYPE_PASSWORD,
                          .name = "abort-register"};
    switch (j->op) {
    case OP_CONNECT:
        j->e = kmip_client_connect(j->c);
        break;
    case OP_GET:
        j->e = kmip_client_get_key(j->c, j->uid, &key, &len, &type);
        if (j->e == KMIP_CLIENT_OK)
            kmip_secure_free(key, len);
        break;
    case OP_REGISTER:
        j->e = kmip_client_register(j->c, &spec, (const uint8_t *)"abortabort", 10, j->made,
                                    sizeof j->made);
        break;
    }
    snprintf(j->message, sizeof j->message, "%s", kmip_client_error_message(j->c));
    __atomic_store_n(&j->done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static bool wait_done(job *j, int ms)
{
    for (int i = 0; i < ms / 20 && !__atomic_load_n(&j->done, __ATOMIC_SEQ_CST); i++)
        usleep(20000);
    return __atomic_load_n(&j->done, __ATOMIC_SEQ_CST) != 0;
}

/* Aborts j's client from this thread and checks that the call ended with
 * `want` and a message containing `says`. `release` ends the wait
 * otherwise (so that a failing test does not hang) before the join. */
static void abort_and_check(job *j, pthread_t t, kmip_client_err want, const char *says,
                            void (*release)(void *), void *release_ctx)
{
    assert_false(__atomic_load_n(&j->done, __ATOMIC_SEQ_CST)); /* still waiting */
    kmip_client_abort(j->c);
    kmip_client_abort(j->c); /* twice: harmless */
    bool ended = wait_done(j, HANG_MS);
    if (!ended && release)
        release(release_ctx);
    assert_int_equal(pthread_join(t, NULL), 0);
    print_message("%-40s %s: %s\n", says, kmip_client_strerror(j->e), j->message);
    assert_true(ended);
    assert_int_equal(j->e, want);
    assert_non_null(strstr(j->message, says));
    assert_non_null(strstr(j->message, "aborted"));
}

/* After an abort: every call fails at once with E_ABORTED, connecting to
 * nothing (listen_fd, when >= 0, sees no connection), and the health
 * table does not blame the server. */
static void check_aborted_for_good(kmip_client *c, int listen_fd)
{
    assert_int_equal(kmip_client_connect(c), KMIP_CLIENT_E_ABORTED);
    assert_non_null(strstr(kmip_client_error_message(c), "aborted"));
    uint8_t *key = NULL;
    size_t len = 0;
    uint32_t type = 0;
    assert_int_equal(kmip_client_get_key(c, "1", &key, &len, &type), KMIP_CLIENT_E_ABORTED);
    if (listen_fd >= 0)
        assert_true(nothing_queued(listen_fd));
    kmip_server_health h[1];
    assert_int_equal(kmip_health_snapshot(kmip_client_health(c), h, 1), 1);
    assert_int_equal(h[0].failures, 0);
    assert_int_not_equal(h[0].state, KMIP_SERVER_BACKING_OFF);
    assert_int_not_equal(h[0].state, KMIP_SERVER_DOWN);
    assert_string_equal(kmip_client_strerror(KMIP_CLIENT_E_ABORTED),
                        "aborted by the application (kmip_client_abort)");
}

static void test_abort_before_connect(void **state)
{
    (void)state;
    unsigned port;
    int l = listener(8, &port);
    kmip_client *c = client_to(port);
    kmip_client_abort(c);
    assert_int_equal(kmip_client_connect(c), KMIP_CLIENT_E_ABORTED);
    assert_non_null(strstr(kmip_client_error_message(c), "aborted"));
    assert_true(nothing_queued(l)); /* no connection was even begun */
    check_aborted_for_good(c, l);
    kmip_client_free(c);
    close(l);
}

static void close_fd(void *fd)
{
    close(*(int *)fd);
    *(int *)fd = -1;
}

/* A listener whose accept queue is full: Linux drops the SYN of the next
 * connect, which retransmits it and waits in its poll for writability. */
static void test_abort_in_tcp_connect(void **state)
{
    (void)state;
    unsigned port;
    int l = listener(0, &port); /* a queue of one */
    int filler = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(connect(filler, (struct sockaddr *)&a, sizeof a), 0);
    job j = {.c = client_to(port), .op = OP_CONNECT};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, job_main, &j), 0);
    bool waiting = false;
    for (int i = 0; i < HANG_MS / 20 && !waiting; i++) { /* bounded: the SYN goes out at once */
        waiting = syn_sent_to(port);
        if (!waiting)
            usleep(20000);
    }
    assert_true(waiting);
    abort_and_check(&j, t, KMIP_CLIENT_E_ABORTED, "connecting to the KMIP server", close_fd, &l);
    check_aborted_for_good(j.c, -1);
    kmip_client_free(j.c);
    close(filler);
    if (l >= 0)
        close(l);
}

/* A server that accepts the TCP connection and never answers TLS: the
 * client waits in its handshake. */
static void test_abort_in_tls_handshake(void **state)
{
    (void)state;
    unsigned port;
    int l = listener(8, &port);
    job j = {.c = client_to(port), .op = OP_CONNECT};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, job_main, &j), 0);
    int peer = accept_within(l, HANG_MS);
    assert_true(peer >= 0);
    /* the ClientHello: the client is in its handshake, waiting for us */
    struct pollfd p = {peer, POLLIN, 0};
    assert_int_equal(poll(&p, 1, HANG_MS), 1);
    abort_and_check(&j, t, KMIP_CLIENT_E_ABORTED, "the TLS handshake with", close_fd, &peer);
    if (peer >= 0) { /* the aborted client closed its socket: EOF here */
        char buf[4096];
        ssize_t r;
        while ((r = recv(peer, buf, sizeof buf, 0)) > 0)
            ;
        assert_int_equal(r, 0);
        close(peer);
    }
    check_aborted_for_good(j.c, l);
    kmip_client_free(j.c);
    close(l);
}

static long server_requests(void)
{
    char out[256];
    assert_true(fenv_ctl(E.server_ctl, "stats", out, sizeof out));
    const char *r = strstr(out, "requests=");
    assert_non_null(r);
    return atol(r + strlen("requests="));
}

static void clear_server(void *ctx)
{
    (void)ctx;
    fenv_server_kill(&E); /* the held connections close with it */
}

/* A call waiting for the answer (a blocking read bounded by SO_RCVTIMEO,
 * 600 s here) ends at once: the abort shuts the socket down. */
static void run_silent(op_kind op, const char *uid, kmip_client_err want)
{
    char out[128];
    job j = {.c = client_to(E.server_port), .op = op, .uid = uid};
    assert_int_equal(kmip_client_connect(j.c), KMIP_CLIENT_OK);
    long before = server_requests();
    if (!fenv_ctl(E.server_ctl, op == OP_GET ? "fault silent op=Get" : "fault silent op=Register",
                  out, sizeof out) || strncmp(out, "ok", 2) != 0)
        fail_msg("arming silent: %s", out);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, job_main, &j), 0);
    bool arrived = false; /* the request is at the server: the client waits for the answer */
    for (int i = 0; i < HANG_MS / 20 && !arrived; i++) {
        arrived = server_requests() > before;
        if (!arrived)
            usleep(20000);
    }
    assert_true(arrived);
    abort_and_check(&j, t, want, "reading from the KMIP server", clear_server, NULL);
    check_aborted_for_good(j.c, -1);
    kmip_client_free(j.c);
    assert_true(fenv_clear(&E));
}

static void test_abort_waiting_for_get(void **state)
{
    (void)state;
    kmip_client *c = client_to(E.server_port);
    kmip_key_spec spec = {.object_type = KMIP_OBJECT_TYPE_SECRET_DATA,
                          .secret_data_type = KMIP_SECRET_DATA_TYPE_PASSWORD,
                          .name = "abort-get"};
    char uid[128];
    if (kmip_client_register_activate(c, &spec, (const uint8_t *)"abortget", 8, uid, sizeof uid) !=
        KMIP_CLIENT_OK)
        fail_msg("register: %s", kmip_client_error_message(c));
    kmip_client_free(c);
    run_silent(OP_GET, uid, KMIP_CLIENT_E_ABORTED); /* a read: nothing uncertain */
}

static void test_abort_waiting_for_register(void **state)
{
    (void)state;
    /* the server made the object and never said so: outcome unknown */
    run_silent(OP_REGISTER, NULL, KMIP_CLIENT_E_AMBIGUOUS);
}

static int setup(void **state)
{
    (void)state;
    if (!fenv_init(&E, fixture, "abort", server_bin, proxy_bin) || !fenv_server_start(&E))
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
    if (!fenv_args(argc, argv, &fixture, &server_bin, &proxy_bin))
        return 2;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_abort_before_connect),
        cmocka_unit_test(test_abort_in_tcp_connect),
        cmocka_unit_test(test_abort_in_tls_handshake),
        cmocka_unit_test(test_abort_waiting_for_get),
        cmocka_unit_test(test_abort_waiting_for_register),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
