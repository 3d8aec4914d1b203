/* SPDX-License-Identifier: GPL-2.0-only */
/* kmip_test_server: TEST TOOLING, NOT A PRODUCT. A KMIP server over mutual
 * TLS that keeps objects in memory, built on our own codec and message
 * layer and OpenSSL, so that tests can exercise what PyKMIP cannot (ID
 * placeholders in every operation, large numbers of objects, speed).
 *
 * Usage: kmip_test_server --cert FILE --key FILE --ca FILE
 *                         [--port N] [--port-file FILE] [--no-discover-versions]
 *                         [--max-version MAJOR.MINOR]
 *                         [--control-port-file FILE] [--state FILE] [--dump-dir DIR]
 * Listens on 127.0.0.1 only (port 0: any free port, written to the port
 * file). The client certificate is required; its CN owns the objects.
 * --control-port-file opens the control port through which tests arm
 * misbehaviours (faults.h); --state keeps the objects in a file, saved
 * after every request, so that a killed server can be started again with
 * its objects. Stops on SIGTERM or SIGINT. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine.h"
#include "faults.h"
#include "kmip/kmip_message.h"

typedef struct server {
    SSL_CTX *ctx;
    kts_store *store;
    kts_options opt;
    const char *state_file;
    const char *dump_dir; /* --dump-dir: every response written there (fuzz seeds) */
} server;

typedef struct session {
    server *srv;
    int fd;
} session;

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

/* Reads one whole request; false on EOF or error. */
static bool read_request(SSL *ssl, uint8_t **msg, size_t *len)
{
    kmip_framer *f = kmip_framer_new();
    if (f == NULL)
        return false;
    kmip_framer_set_expected_tag(f, KMIP_TAG_REQUEST_MESSAGE);
    uint8_t buf[16384];
    bool ok = true;
    while (ok && !kmip_framer_ready(f)) {
        size_t want = kmip_framer_needed(f);
        int r = SSL_read(ssl, buf, (int)(want < sizeof buf ? want : sizeof buf));
        size_t used;
        ok = r > 0 && kmip_framer_feed(f, buf, (size_t)r, &used) == KMIP_OK;
    }
    ok = ok && kmip_framer_take(f, msg, len) == KMIP_OK;
    kmip_framer_free(f);
    return ok;
}

static bool write_all(SSL *ssl, const uint8_t *p, size_t n)
{
    while (n > 0) {
        int w = SSL_write(ssl, p, (int)(n > 65536 ? 65536 : n));
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

static void owner_of(SSL *ssl, char *out, size_t cap)
{
    out[0] = '\0';
    X509 *peer = SSL_get0_peer_certificate(ssl);
    if (peer)
        X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, out, (int)cap);
}

/* Waits until the client gives up on this connection (bounded by the
 * socket's receive timeout). */
static void hold_open(SSL *ssl)
{
    uint8_t b[256];
    while (SSL_read(ssl, b, sizeof b) > 0)
        ;
}

/* Holds back what the session writes until uncorked, then sends it as one
 * TCP segment: records written one after the other arrive together, in
 * the client's one read. */
static void cork(SSL *ssl, bool on)
{
    int v = on;
    setsockopt(SSL_get_fd(ssl), IPPROTO_TCP, TCP_CORK, &v, sizeof v);
}

static bool write_slowly(SSL *ssl, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!write_all(ssl, p + i, 1))
            return false;
        sleep(1);
    }
    return true;
}

static size_t object_count(void *ctx)
{
    kts_store *store = ctx;
    kts_store_lock(store);
    size_t n = kts_store_count(store);
    kts_store_unlock(store);
    return n;
}

/* Sends a response as the armed fault wants; false ends the session. */
static bool send_response(SSL *ssl, kts_fault f, uint8_t *out, size_t out_len)
{
    size_t len = out_len;
    uint8_t *bytes = kts_fault_mutate(f, out, &len);
    bool keep = false;
    if (bytes == NULL) {
        keep = false;
    } else if (f == KTS_FAULT_TRUNCATE) {
        write_all(ssl, bytes, len / 2);
    } else if (f == KTS_FAULT_SLOW) {
        keep = write_slowly(ssl, bytes, len);
    } else if (f == KTS_FAULT_LONG_LENGTH || f == KTS_FAULT_HUGE_LENGTH) {
        if (write_all(ssl, bytes, len))
            hold_open(ssl);
    } else if (f == KTS_FAULT_DUPLICATE) {
        keep = write_all(ssl, bytes, len) && write_all(ssl, bytes, len);
    } else if (f == KTS_FAULT_DUPLICATE_PACKED) {
        cork(ssl, true);
        keep = write_all(ssl, bytes, len) && write_all(ssl, bytes, len);
        cork(ssl, false);
    } else if (f == KTS_FAULT_NOTIFY_AFTER) {
        cork(ssl, true);
        if (write_all(ssl, bytes, len))
            SSL_shutdown(ssl);
        cork(ssl, false);
        hold_open(ssl);
    } else if (f == KTS_FAULT_KEY_UPDATE) {
        cork(ssl, true);
        keep = write_all(ssl, bytes, len) &&
               SSL_key_update(ssl, SSL_KEY_UPDATE_REQUESTED) == 1 && SSL_do_handshake(ssl) == 1;
        cork(ssl, false);
    } else {
        keep = write_all(ssl, bytes, len);
    }
    if (bytes != out)
        kmip_secure_free(bytes, len);
    return keep;
}

static void dump(const server *srv, const uint8_t *p, size_t n)
{
    static atomic_uint serial;
    if (srv->dump_dir == NULL)
        return;
    char path[4096];
    snprintf(path, sizeof path, "%s/response-%04u.bin", srv->dump_dir, atomic_fetch_add(&serial, 1));
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(p, 1, n, f);
        fclose(f);
    }
}

static bool mutating(const kmip_message *req)
{
    for (size_t i = 0; i < req->item_count; i++)
        switch (req->items[i].operation) {
        case KMIP_OPERATION_CREATE:
        case KMIP_OPERATION_REGISTER:
        case KMIP_OPERATION_ACTIVATE:
        case KMIP_OPERATION_REVOKE:
        case KMIP_OPERATION_DESTROY:
            return true;
        default:
            break;
        }
    return false;
}

static void save_state(server *srv, const kmip_message *req)
{
    if (srv->state_file == NULL || !mutating(req))
        return;
    kts_store_lock(srv->store);
    if (!kts_store_save(srv->store, srv->state_file))
        fprintf(stderr, "kmip_test_server: cannot save %s\n", srv->state_file);
    kts_store_unlock(srv->store);
}

static void serve(server *srv, SSL *ssl)
{
    char owner[128];
    owner_of(ssl, owner, sizeof owner);
    for (;;) {
        uint8_t *req_bytes = NULL;
        size_t req_len = 0;
        if (!read_request(ssl, &req_bytes, &req_len))
            return;
        kmip_message *req = NULL;
        kmip_msg_error err;
        kmip_err de = kmip_message_decode(req_bytes, req_len, &req, &err);
        kmip_secure_free(req_bytes, req_len);
        if (de != KMIP_OK) {
            fprintf(stderr, "kmip_test_server: bad request: %s\n", err.detail);
            return;
        }
        kts_stats_request();
        kts_fault f = kts_faults_take_request(req);
        if (f == KTS_FAULT_CRASH_BEFORE)
            _exit(3);
        kmip_message *resp = kts_process(srv->store, &srv->opt, owner, req, f);
        save_state(srv, req);
        if (f == KTS_FAULT_CRASH)
            _exit(3);
        uint8_t *out = NULL;
        size_t out_len = 0;
        bool ok = resp && kmip_message_encode(resp, &out, &out_len) == KMIP_OK;
        if (ok)
            dump(srv, out, out_len);
        if (ok && f == KTS_FAULT_SILENT)
            hold_open(ssl);
        ok = ok && f != KTS_FAULT_LOSE && f != KTS_FAULT_SILENT &&
             send_response(ssl, f, out, out_len);
        kmip_secure_free(out, out_len);
        kmip_message_free(resp);
        kmip_message_free(req);
        if (!ok)
            return;
    }
}

static int refuse_certificate(int ok, X509_STORE_CTX *x)
{
    (void)ok;
    X509_STORE_CTX_set_error(x, X509_V_ERR_CERT_REJECTED);
    return 0;
}

static void *session_main(void *arg)
{
    session *s = arg;
    struct timeval tv = {30, 0};
    setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(s->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1; /* small TLS records must not wait for delayed ACKs */
    setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    SSL *ssl = SSL_new(s->srv->ctx);
    kts_stats_connection();
    kts_fault f = kts_faults_take_connection();
    if (ssl && f == KTS_FAULT_TLS_ALERT)
        SSL_set_verify(ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                       refuse_certificate);
    bool up = ssl && SSL_set_fd(ssl, s->fd) == 1 && SSL_accept(ssl) == 1;
    if (up && f == KTS_FAULT_FIN_RST) { /* no close_notify: FIN, then RST (linger 0) */
        shutdown(s->fd, SHUT_WR);
        struct linger now = {1, 0};
        setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &now, sizeof now);
        SSL_free(ssl);
        ssl = NULL;
    } else if (up && f != KTS_FAULT_CLOSE_AFTER_HANDSHAKE) {
        serve(s->srv, ssl);
    }
    if (ssl) {
        SSL_shutdown(ssl);
        SSL_free(ssl);
    }
    ERR_clear_error();
    close(s->fd);
    free(s);
    return NULL;
}

static SSL_CTX *make_ctx(const char *cert, const char *key, const char *ca)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL || SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
        ERR_print_errors_fp(stderr);
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    return ctx;
}

static int listen_on(unsigned port, unsigned *bound)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 64) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        perror("kmip_test_server: listen");
        return -1;
    }
    *bound = ntohs(a.sin_port);
    return fd;
}

int main(int argc, char **argv)
{
    const char *cert = NULL, *key = NULL, *ca = NULL, *port_file = NULL;
    const char *control_file = NULL, *state_file = NULL, *dump_dir = NULL;
    unsigned port = 0;
    kts_options opt = {false};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--no-discover-versions") == 0) {
            opt.no_discover_versions = true;
            continue;
        }
        if (i + 1 >= argc)
            break;
        if (strcmp(argv[i], "--cert") == 0)
            cert = argv[i + 1];
        else if (strcmp(argv[i], "--key") == 0)
            key = argv[i + 1];
        else if (strcmp(argv[i], "--ca") == 0)
            ca = argv[i + 1];
        else if (strcmp(argv[i], "--port") == 0)
            port = (unsigned)atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--port-file") == 0)
            port_file = argv[i + 1];
        else if (strcmp(argv[i], "--control-port-file") == 0)
            control_file = argv[i + 1];
        else if (strcmp(argv[i], "--state") == 0)
            state_file = argv[i + 1];
        else if (strcmp(argv[i], "--dump-dir") == 0)
            dump_dir = argv[i + 1];
        else if (strcmp(argv[i], "--max-version") == 0) {
            unsigned major = 0, minor = 0;
            if (sscanf(argv[i + 1], "%u.%u", &major, &minor) != 2 || major > 255 || minor > 255) {
                fprintf(stderr, "kmip_test_server: --max-version wants MAJOR.MINOR\n");
                return 2;
            }
            opt.max_version = KMIP_VERSION(major, minor);
        }
        i++;
    }
    if (cert == NULL || key == NULL || ca == NULL) {
        fprintf(stderr, "usage: kmip_test_server --cert F --key F --ca F [--port N] "
                        "[--port-file F]\n");
        return 2;
    }
    server srv = {make_ctx(cert, key, ca), kts_store_new(), opt, state_file, dump_dir};
    if (srv.store && state_file && !kts_store_load(srv.store, state_file)) {
        fprintf(stderr, "kmip_test_server: %s is not a state file of ours\n", state_file);
        return 1;
    }
    unsigned bound = 0;
    int lfd = srv.ctx && srv.store ? listen_on(port, &bound) : -1;
    if (lfd < 0)
        return 1;
    unsigned control_port = 0;
    int cfd = control_file ? listen_on(0, &control_port) : -1;
    if (control_file &&
        (cfd < 0 || !kts_control_start(cfd, control_port, control_file, object_count, srv.store))) {
        fprintf(stderr, "kmip_test_server: cannot open the control port\n");
        return 1;
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_signal; /* no SA_RESTART: accept returns EINTR */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN); /* a program of its own may do this */
    if (port_file) {
        FILE *f = fopen(port_file, "w");
        if (f == NULL || fprintf(f, "%u\n", bound) < 0 || fclose(f) != 0)
            return 1;
    }
    fprintf(stderr, "kmip_test_server: listening on 127.0.0.1:%u\n", bound);
    while (!stopping) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        session *s = malloc(sizeof *s);
        pthread_t t;
        if (s == NULL) {
            close(fd);
            continue;
        }
        *s = (session){&srv, fd};
        if (pthread_create(&t, NULL, session_main, s) != 0) {
            close(fd);
            free(s);
            continue;
        }
        pthread_detach(t);
    }
    close(lfd);
    /* sessions still running keep the store: the process exits here */
    return 0;
}
