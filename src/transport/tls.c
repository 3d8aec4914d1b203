/* SPDX-License-Identifier: GPL-2.0-only */
/* TLS for the KMIP client: TLS 1.2 minimum, server certificate verified
 * against the CA and the host name or IP address by default, mutual
 * authentication with the client certificate. Failures are explained in
 * terms an operator can act on. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "kmip/kmip_registry.h"
#include "kmip/kmip_ttlv.h"
#include "abort.h"
#include "keys.h"
#include "tcp.h"
#include "transport.h"

struct kt_ctx {
    SSL_CTX *ssl_ctx;
};

/* Our read-ahead buffer: a whole TLS record of either version with room
 * to spare (TLS 1.2 allows 2,048 bytes of expansion), twice, so that one
 * recv(2) takes the answer to a 100-item batch too. */
#define KT_RBUF_SIZE ((size_t)2 * (16384 + 2048 + 5))

/* The socket under a connection, as our own BIO sees it. The read side
 * reads ahead into a buffer of ours, not OpenSSL's: one recv(2) takes a
 * record's header and body (and whatever arrived after it), and what
 * follows an answer (an unsolicited response, a close_notify: review of
 * issue 17, F4 and F8) is in buf[pos, end), where kt_stale looks before
 * anything else. Every byte that held data is wiped once read. */
typedef struct kt_sock {
    int fd;
    bool eof;        /* recv returned 0 */
    bool wait;       /* the next refill may block: SO_RCVTIMEO bounds it */
    unsigned timeo_ms; /* the socket's SO_RCVTIMEO (0: none set yet) */
    uint8_t *buf;    /* KT_RBUF_SIZE bytes */
    size_t pos, end; /* the bytes not yet handed to OpenSSL */
} kt_sock;

struct kt_conn {
    int fd;
    kt_sock sock;
    SSL *ssl;
    X509 *bad_cert;  /* the certificate verification first failed on, for messages */
    int bad_depth;   /* its depth in the chain (0: the server's own) */
    long bad_error;  /* the X509_V_ERR_* it failed with */
    bool skip_verify;
    kmip_log_fn log;
    void *log_ctx;
    int64_t last_io_ms; /* the end of the handshake or of the last exchange */
    kt_abort *abort;    /* the client's switch, or NULL */
    kt_abort_link link; /* the socket in its list while open */
    char host[256];
    /* Answers read while a write waited for room (kt_send): with requests
     * pipelined the server writes the answers to earlier ones while we
     * write the next; left unread, its writes and ours could each wait on
     * a full socket for ever. Decrypted application bytes, which kt_recv
     * takes before anything else; wiped as they are taken. At most
     * KT_STASH_MAX. */
    uint8_t *stash;
    size_t stash_pos, stash_end, stash_cap;
    size_t max_response;
};

/* What kt_send keeps of the server's answers while it writes: as many
 * whole answers of the largest size allowed as requests may be in flight
 * (KT_MAX_IN_FLIGHT) and one more; a server sending more while
 * we write is not answering requests. */
#define KT_STASH_MAX(c) (((size_t)KT_MAX_IN_FLIGHT + 1) * (c)->max_response)

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static BIO_METHOD *sock_method;

/* ---- a socket BIO that never raises SIGPIPE and reads ahead ----
 * OpenSSL's socket BIO writes with write(2): on a connection the peer has
 * reset that raises SIGPIPE, which kills a host process that did not
 * ignore it. OpenSSL writes on its own too (alerts inside SSL_read and
 * SSL_connect), so guarding our SSL_write calls is not enough: every byte
 * goes out through send(MSG_NOSIGNAL) here, and nothing touches the
 * process's signal handling. After the handshake the socket is blocking
 * (kt_connect): every call that must not wait says MSG_DONTWAIT, and the
 * one read that waits for an answer (kt_recv) is bounded by SO_RCVTIMEO,
 * so waiting and reading are one system call. */

static int sock_write(BIO *b, const char *p, int n)
{
    kt_sock *s = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    ssize_t r = send(s->fd, p, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        BIO_set_retry_write(b);
    return (int)r;
}

/* What recv(2) brought that OpenSSL has not taken, wiped and forgotten
 * (only the bytes that held data). */
static void sock_drop(kt_sock *s)
{
    kmip_secure_zero(s->buf, s->end);
    s->pos = s->end = 0;
}

static int sock_read(BIO *b, char *p, int n)
{
    kt_sock *s = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (n <= 0)
        return 0;
    if (s->pos == s->end) {
        /* one blocking read at most per kt_recv: a later one would wait
         * for the whole SO_RCVTIMEO again, past the exchange's deadline */
        int flags = s->wait ? 0 : MSG_DONTWAIT;
        s->wait = false;
        ssize_t r = recv(s->fd, s->buf, KT_RBUF_SIZE, flags);
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            BIO_set_retry_read(b);
        else if (r == 0)
            s->eof = true;
        if (r <= 0)
            return (int)r;
        s->end = (size_t)r;
    }
    size_t k = s->end - s->pos < (size_t)n ? s->end - s->pos : (size_t)n;
    memcpy(p, s->buf + s->pos, k);
    s->pos += k;
    if (s->pos == s->end)
        sock_drop(s);
    return (int)k;
}

static int sock_puts(BIO *b, const char *str)
{
    return sock_write(b, str, (int)strlen(str));
}

static long sock_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)num;
    kt_sock *s = BIO_get_data(b);
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1;
    case BIO_CTRL_EOF: /* tells an unexpected EOF apart from a retry */
        return s && s->eof;
    case BIO_CTRL_PENDING:
        return s ? (long)(s->end - s->pos) : 0;
    case BIO_C_GET_FD:
        if (s && ptr)
            *(int *)ptr = s->fd;
        return s ? s->fd : -1;
    default:
        return 0;
    }
}

static int sock_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

/* The BIO method is ours to free: when the library is unloaded (the
 * component or the plugin by dlclose), and at exit. */
__attribute__((destructor)) static void free_sock_method(void)
{
    BIO_meth_free(sock_method);
    sock_method = NULL;
}

static void init_once_fn(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK |
                                     BIO_TYPE_DESCRIPTOR, "kmip socket");
    if (m && BIO_meth_set_write(m, sock_write) == 1 && BIO_meth_set_read(m, sock_read) == 1 &&
        BIO_meth_set_puts(m, sock_puts) == 1 && BIO_meth_set_ctrl(m, sock_ctrl) == 1 &&
        BIO_meth_set_create(m, sock_create) == 1) {
        sock_method = m;
    } else {
        BIO_meth_free(m);
    }
}

__attribute__((format(printf, 3, 4))) static kmip_client_err set_err(kt_error *err,
                                                                     kmip_client_err code,
                                                                     const char *fmt, ...)
{
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return code;
}

/* After an abort (kt_abort_fire) every failure of c is the abort's: it shut
 * the socket down, and the read or write that failed then says "closed".
 * what: "reading from", "writing to", "the TLS handshake with". */
static kmip_client_err abort_or(kt_conn *c, kmip_client_err code, kt_error *err,
                                const char *what)
{
    if (code == KMIP_CLIENT_OK || code == KMIP_CLIENT_E_ABORTED || !kt_abort_fired(c->abort))
        return code;
    ERR_clear_error();
    return set_err(err, KMIP_CLIENT_E_ABORTED, "%s the KMIP server at %s was aborted "
                   "(kmip_client_abort)", what, c->host);
}

/* The newest OpenSSL error as text, and the queue cleared. */
static const char *openssl_reason(char *buf, size_t cap)
{
    unsigned long e = ERR_peek_last_error();
    if (e == 0)
        snprintf(buf, cap, "no detail from OpenSSL");
    else
        ERR_error_string_n(e, buf, cap);
    ERR_clear_error();
    return buf;
}

/* The default cipher policy (TLS 1.2): forward secrecy only (ECDHE, DHE),
 * AEAD first; the ECDHE CBC-SHA256/384 suites last, for PyKMIP, which
 * offers no AEAD ECDHE suite with an RSA certificate. TLS 1.3's suites all
 * have forward secrecy. */
#define KT_DEFAULT_CIPHERS                                                                         \
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                                   \
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"                                   \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                                   \
    "DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:"               \
    "ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES256-SHA384:"                                           \
    "ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256"
#define KT_DEFAULT_SUITES "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256"
#define KT_MAX_PEM ((size_t)4 << 20)  /* a CA bundle, a certificate chain, a key */
#define KT_MAX_PASSWORD ((size_t)4096)

typedef struct pass_phrase {
    const char *data; /* NULL: none given */
    size_t len;
} pass_phrase;

static int no_password(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return -1;
}

/* A secret file readable by group or others, or owned by another user
 * (who can replace it), is used, with a warning. */
static void warn_if_shared(const kt_config *cfg, const kmip_file *f, const char *what,
                           const char *path)
{
    if (cfg->log == NULL)
        return;
    char msg[600];
    if (f->mode & 044) {
        snprintf(msg, sizeof msg, "the %s %s is readable by %s: make it readable by its owner "
                 "only (chmod 600)", what, path, (f->mode & 004) ? "all users" : "its group");
        cfg->log(cfg->log_ctx, 1, msg);
    }
    uid_t me = geteuid();
    if (me != 0 && f->owner != 0 && f->owner != (unsigned)me) {
        snprintf(msg, sizeof msg, "the %s %s belongs to uid %u, not to the user the keyring runs "
                 "as (uid %u), who cannot protect it", what, path, f->owner, (unsigned)me);
        cfg->log(cfg->log_ctx, 1, msg);
    }
}

/* A PEM file read into memory and OpenSSL's view of it: opened by
 * read_pem, released (the bytes wiped) by pem_close. */
typedef struct pem_file {
    kmip_file f;
    BIO *bio;
} pem_file;

static kmip_client_err read_pem(const char *what, const char *path, pem_file *p, kt_error *err)
{
    char why[480];
    p->bio = NULL;
    kmip_client_err e = kmip_file_read(path, KT_MAX_PEM, &p->f, why, sizeof why);
    if (e != KMIP_CLIENT_OK)
        return set_err(err, e, "cannot load the %s: %s", what, why);
    if ((p->bio = BIO_new_mem_buf(p->f.data, (int)p->f.len)) == NULL) {
        kmip_file_free(&p->f);
        return set_err(err, KMIP_CLIENT_E_NOMEM, "out of memory");
    }
    return KMIP_CLIENT_OK;
}

static void pem_close(pem_file *p)
{
    BIO_free(p->bio);
    kmip_file_free(&p->f);
}

static kmip_client_err load_ca(SSL_CTX *s, const char *path, kt_error *err)
{
    pem_file pem;
    kmip_client_err e = read_pem("server CA file", path, &pem, err);
    if (e != KMIP_CLIENT_OK)
        return e;
    STACK_OF(X509_INFO) *infos = PEM_X509_INFO_read_bio(pem.bio, NULL, no_password, NULL);
    X509_STORE *store = SSL_CTX_get_cert_store(s);
    int added = 0;
    for (int i = 0; infos && i < sk_X509_INFO_num(infos); i++) {
        X509_INFO *in = sk_X509_INFO_value(infos, i);
        if (in->x509 && X509_STORE_add_cert(store, in->x509) == 1)
            added++;
    }
    sk_X509_INFO_pop_free(infos, X509_INFO_free);
    pem_close(&pem);
    char why[256];
    if (added == 0)
        return set_err(err, KMIP_CLIENT_E_CONFIG, "cannot load the server CA file %s: it holds "
                       "no PEM certificate (%s)", path, openssl_reason(why, sizeof why));
    ERR_clear_error();
    return KMIP_CLIENT_OK;
}

static kmip_client_err load_cert_chain(SSL_CTX *s, const char *path, kt_error *err)
{
    pem_file pem;
    kmip_client_err e = read_pem("client certificate", path, &pem, err);
    if (e != KMIP_CLIENT_OK)
        return e;
    char why[256];
    X509 *leaf = PEM_read_bio_X509_AUX(pem.bio, NULL, no_password, NULL);
    if (leaf == NULL || SSL_CTX_use_certificate(s, leaf) != 1)
        e = set_err(err, KMIP_CLIENT_E_CONFIG, "cannot load the client certificate %s: %s", path,
                    openssl_reason(why, sizeof why));
    X509_free(leaf);
    X509 *ca;
    while (e == KMIP_CLIENT_OK && (ca = PEM_read_bio_X509(pem.bio, NULL, no_password, NULL))) {
        if (SSL_CTX_add0_chain_cert(s, ca) != 1) {
            X509_free(ca);
            e = set_err(err, KMIP_CLIENT_E_CONFIG, "cannot use the chain in %s: %s", path,
                        openssl_reason(why, sizeof why));
        }
    }
    ERR_clear_error(); /* the end of the file reads as "no start line" */
    pem_close(&pem);
    return e;
}

/* The pass phrase: the file's first line (a trailing newline is not part
 * of it). */
static kmip_client_err read_password(const kt_config *cfg, kmip_file *f, pass_phrase *p,
                                     kt_error *err)
{
    char why[512];
    kmip_client_err e = kmip_file_read(cfg->key_password_file, KT_MAX_PASSWORD, f, why,
                                       sizeof why);
    if (e != KMIP_CLIENT_OK)
        return set_err(err, e, "cannot read the client key's pass phrase: %s", why);
    warn_if_shared(cfg, f, "pass phrase file", cfg->key_password_file);
    size_t n = 0;
    while (n < f->len && f->data[n] != '\n' && f->data[n] != '\r')
        n++;
    if (n == 0) {
        kmip_file_free(f);
        return set_err(err, KMIP_CLIENT_E_CONFIG, "the pass phrase file %s is empty",
                       cfg->key_password_file);
    }
    p->data = (const char *)f->data;
    p->len = n;
    return KMIP_CLIENT_OK;
}

static kmip_client_err load_key(SSL_CTX *s, const kt_config *cfg, kt_error *err)
{
    kmip_file pw_file = {0};
    pass_phrase pw = {NULL, 0};
    pem_file pem;
    kmip_client_err e = read_pem("client key", cfg->key_file, &pem, err);
    if (e != KMIP_CLIENT_OK)
        return e;
    warn_if_shared(cfg, &pem.f, "client key", cfg->key_file);
    if (cfg->key_password_file)
        e = read_password(cfg, &pw_file, &pw, err);
    EVP_PKEY *key = NULL;
    kmip_key_verdict v = e == KMIP_CLIENT_OK
                             ? kt_key_read(pem.f.data, pem.f.len, pw.data, pw.len, &key)
                             : KMIP_KEY_NONE;
    char why[256];
    if (e != KMIP_CLIENT_OK) /* the pass phrase file: err says why */
        key = NULL;
    else if (v == KMIP_KEY_ENCRYPTED)
        e = set_err(err, KMIP_CLIENT_E_CONFIG, "the client key %s is encrypted and no pass "
                    "phrase was given: name a file holding it (the keyring's "
                    "\"client_key_password_file\")", cfg->key_file);
    else if (v == KMIP_KEY_BAD_PASS_PHRASE)
        e = set_err(err, KMIP_CLIENT_E_CONFIG, "the pass phrase in %s does not decrypt the "
                    "client key %s", cfg->key_password_file, cfg->key_file);
    else if (v == KMIP_KEY_NOMEM)
        e = set_err(err, KMIP_CLIENT_E_NOMEM, "out of memory reading the client key %s",
                    cfg->key_file);
    else if (key == NULL)
        e = set_err(err, KMIP_CLIENT_E_CONFIG, "cannot load the client key %s: it holds no PEM "
                    "private key (%s)", cfg->key_file, openssl_reason(why, sizeof why));
    else if (SSL_CTX_use_PrivateKey(s, key) != 1)
        e = set_err(err, KMIP_CLIENT_E_CONFIG, "cannot use the client key %s: %s", cfg->key_file,
                    openssl_reason(why, sizeof why));
    ERR_clear_error();
    EVP_PKEY_free(key);
    pem_close(&pem);
    kmip_file_free(&pw_file);
    return e;
}

/* Names of the TLS 1.2 suites the context offers without forward secrecy
 * (static RSA, PSK): "" when there are none. */
static void suites_without_fs(SSL_CTX *s, char *out, size_t cap)
{
    out[0] = '\0';
    size_t used = 0;
    STACK_OF(SSL_CIPHER) *list = SSL_CTX_get_ciphers(s);
    for (int i = 0; list && i < sk_SSL_CIPHER_num(list); i++) {
        const SSL_CIPHER *c = sk_SSL_CIPHER_value(list, i);
        int kx = SSL_CIPHER_get_kx_nid(c);
        if (kx == NID_kx_ecdhe || kx == NID_kx_dhe || kx == NID_kx_any)
            continue;
        int n = snprintf(out + used, cap - used, "%s%s", used ? ", " : "", SSL_CIPHER_get_name(c));
        if (n < 0 || (size_t)n >= cap - used)
            break;
        used += (size_t)n;
    }
}

static kmip_client_err set_policy(SSL_CTX *s, const kt_config *cfg, kt_error *err)
{
    char why[256];
    SSL_CTX_set_min_proto_version(s, TLS1_2_VERSION);
    SSL_CTX_set_mode(s, SSL_MODE_AUTO_RETRY);
    /* No read-ahead (OpenSSL's default): with it one recv(2) pulled
     * whatever followed the answer (an unsolicited response, the server's
     * close_notify) into OpenSSL's buffer, where neither poll() nor
     * SSL_pending() sees it, and the next request was sent on a closed
     * session or its answer taken from the extra record (review of issue
     * 17, F4 and F8). The transport reads ahead instead, into a buffer
     * of its own (kt_sock) that kt_stale looks at: one recv per answer,
     * and what follows the answer in sight. */
    /* wipe record buffers once read (key bytes of Get answers); no
     * renegotiation (TLS 1.2) */
    SSL_CTX_set_options(s, SSL_OP_CLEANSE_PLAINTEXT | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_default_passwd_cb(s, no_password);
    const char *list = cfg->cipher_list ? cfg->cipher_list : KT_DEFAULT_CIPHERS;
    const char *suites = cfg->ciphersuites ? cfg->ciphersuites : KT_DEFAULT_SUITES;
    if (SSL_CTX_set_cipher_list(s, list) != 1)
        return set_err(err, KMIP_CLIENT_E_CONFIG, "the TLS 1.2 cipher list \"%s\" names no "
                       "usable cipher (%s)", list, openssl_reason(why, sizeof why));
    if (SSL_CTX_set_ciphersuites(s, suites) != 1)
        return set_err(err, KMIP_CLIENT_E_CONFIG, "the TLS 1.3 cipher suites \"%s\" name no "
                       "usable suite (%s)", suites, openssl_reason(why, sizeof why));
    char weak[400];
    suites_without_fs(s, weak, sizeof weak);
    if (weak[0] && cfg->log) {
        char msg[600];
        snprintf(msg, sizeof msg, "the TLS cipher list allows key exchange without forward "
                 "secrecy (%s): whoever gets the server's private key later can decrypt "
                 "recorded sessions and the keys in them", weak);
        cfg->log(cfg->log_ctx, 1, msg);
    }
    return KMIP_CLIENT_OK;
}

kmip_client_err kt_ctx_new(const kt_config *cfg, kt_ctx **out, kt_error *err)
{
    *out = NULL;
    ERR_clear_error();
    kt_ctx *ctx = calloc(1, sizeof *ctx);
    if (ctx == NULL || (ctx->ssl_ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
        free(ctx);
        return set_err(err, KMIP_CLIENT_E_NOMEM, "cannot create a TLS context");
    }
    char why[256];
    SSL_CTX *s = ctx->ssl_ctx;
    /* files are read once, through descriptors checked with fstat (a FIFO
     * or device is refused without blocking), then loaded from memory */
    kmip_client_err e = set_policy(s, cfg, err);
    if (e == KMIP_CLIENT_OK && cfg->ca_file)
        e = load_ca(s, cfg->ca_file, err);
    else if (e == KMIP_CLIENT_OK && SSL_CTX_set_default_verify_paths(s) != 1)
        e = set_err(err, KMIP_CLIENT_E_CONFIG, "cannot load the system CA store: %s",
                    openssl_reason(why, sizeof why));
    if (e == KMIP_CLIENT_OK && cfg->cert_file)
        e = load_cert_chain(s, cfg->cert_file, err);
    if (e == KMIP_CLIENT_OK && cfg->key_file)
        e = load_key(s, cfg, err);
    if (e == KMIP_CLIENT_OK && cfg->cert_file && cfg->key_file &&
        kt_key_matches(SSL_CTX_get0_certificate(s), SSL_CTX_get0_privatekey(s)) != KMIP_KEY_OK)
        e = set_err(err, KMIP_CLIENT_E_CONFIG, "the client key %s does not match the certificate %s",
                    cfg->key_file, cfg->cert_file);
    if (e != KMIP_CLIENT_OK) {
        kt_ctx_free(ctx);
        return e;
    }
    ERR_clear_error();
    *out = ctx;
    return KMIP_CLIENT_OK;
}

void kt_ctx_free(kt_ctx *ctx)
{
    if (ctx == NULL)
        return;
    SSL_CTX_free(ctx->ssl_ctx);
    free(ctx);
}

/* Keeps the certificate at the depth of the first verification error (the
 * leaf, an intermediate or the CA: a saved leaf may not exist when the
 * error is found higher up the chain); with verification explicitly turned
 * off, accepts whatever the chain is (and says so). */
static int verify_cb(int ok, X509_STORE_CTX *store)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    kt_conn *c = ssl ? SSL_get_app_data(ssl) : NULL;
    if (c == NULL)
        return ok;
    if (!ok && c->bad_cert == NULL) {
        X509 *cert = X509_STORE_CTX_get_current_cert(store);
        c->bad_depth = X509_STORE_CTX_get_error_depth(store);
        c->bad_error = X509_STORE_CTX_get_error(store);
        if (cert != NULL && X509_up_ref(cert) == 1)
            c->bad_cert = cert;
    }
    if (!ok && c->skip_verify) {
        if (c->log) {
            char msg[300];
            snprintf(msg, sizeof msg,
                     "server certificate not verified (verification turned off): %s",
                     X509_verify_cert_error_string(X509_STORE_CTX_get_error(store)));
            c->log(c->log_ctx, 1, msg);
        }
        return 1;
    }
    return ok;
}

/* "localhost, 127.0.0.1" from the certificate's SANs. */
static void cert_names(X509 *cert, char *out, size_t cap)
{
    snprintf(out, cap, "(unknown)");
    if (cert == NULL)
        return;
    out[0] = '\0';
    GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    size_t used = 0;
    for (int i = 0; names && i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
        char one[INET6_ADDRSTRLEN + 80] = "";
        if (g->type == GEN_DNS) {
            int n = snprintf(one, INET6_ADDRSTRLEN + 1, "%.*s", ASN1_STRING_length(g->d.dNSName),
                             (const char *)ASN1_STRING_get0_data(g->d.dNSName));
            /* "127.0.0.1" written as a DNS name never matches the address:
             * "connect by one of those names" alone would puzzle */
            uint8_t addr[16];
            if (n > 0 && n <= INET6_ADDRSTRLEN && (inet_pton(AF_INET, one, addr) == 1 ||
                                                   inet_pton(AF_INET6, one, addr) == 1))
                snprintf(one + n, sizeof one - (size_t)n,
                         " (a DNS name: an IP address matches only an iPAddress entry)");
        } else if (g->type == GEN_IPADD) {
            /* 4 bytes (IPv4) or 16 (IPv6); anything else is malformed and
             * must not be read as an address */
            int len = ASN1_STRING_length(g->d.iPAddress);
            if (len == 4 || len == 16)
                inet_ntop(len == 16 ? AF_INET6 : AF_INET, ASN1_STRING_get0_data(g->d.iPAddress),
                          one, sizeof one);
            else
                snprintf(one, sizeof one, "(a malformed %d-byte IP)", len);
        }
        if (one[0] && used < cap) {
            int n = snprintf(out + used, cap - used, "%s%s", used ? ", " : "", one);
            if (n > 0)
                used += (size_t)n;
        }
    }
    GENERAL_NAMES_free(names);
    if (used == 0) { /* the CN is never a name (RFC 9525): say so */
        char cn[128] = "";
        X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, (int)sizeof cn);
        snprintf(out, cap, "(none; no subjectAltName, and its CN %s is not used as a name)",
                 cn[0] ? cn : "(empty)");
    }
}

/* "(unknown)" when there is no time to print. */
static void cert_time(const ASN1_TIME *t, char *out, size_t cap)
{
    snprintf(out, cap, "(unknown)");
    BIO *b = t ? BIO_new(BIO_s_mem()) : NULL;
    if (b == NULL)
        return;
    if (ASN1_TIME_print(b, t) == 1) {
        int n = BIO_read(b, out, (int)cap - 1);
        out[n > 0 ? n : 0] = '\0';
    }
    BIO_free(b);
}

void kt_ctx_cert_not_after(const kt_ctx *x, char *out, size_t cap)
{
    X509 *own = x ? SSL_CTX_get0_certificate(x->ssl_ctx) : NULL;
    if (own)
        cert_time(X509_get0_notAfter(own), out, cap);
    else
        snprintf(out, cap, "%s", "");
}

/* "server certificate" or "CA certificate /CN=Root (chain depth 2)". */
static void cert_label(const kt_conn *c, char *out, size_t cap)
{
    if (c->bad_depth <= 0 || c->bad_cert == NULL) {
        snprintf(out, cap, "server certificate");
        return;
    }
    char subject[200];
    X509_NAME_oneline(X509_get_subject_name(c->bad_cert), subject, (int)sizeof subject);
    snprintf(out, cap, "CA certificate %s (chain depth %d)", subject, c->bad_depth);
}

static kmip_client_err explain_verify(kt_conn *c, long result, kt_error *err)
{
    char names[256], when[64], what[256];
    X509 *cert = c->bad_cert; /* may be NULL: every use below copes */
    if (c->bad_error != X509_V_OK)
        result = c->bad_error;
    cert_label(c, what, sizeof what);
    switch (result) {
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
        cert_names(cert, names, sizeof names);
        return set_err(err, KMIP_CLIENT_E_TLS_VERIFY,
                       "server certificate does not match host %s: its names are %s (connect "
                       "by one of those names, or fix the server certificate)",
                       c->host, names);
    case X509_V_ERR_CERT_HAS_EXPIRED:
        cert_time(cert ? X509_get0_notAfter(cert) : NULL, when, sizeof when);
        return set_err(err, KMIP_CLIENT_E_TLS_VERIFY,
                       "%s expired (not valid after %s): renew it%s", what, when,
                       c->bad_depth > 0 ? " and install the new one on the server and in the "
                                          "CA option" : " on the server");
    case X509_V_ERR_CERT_NOT_YET_VALID:
        cert_time(cert ? X509_get0_notBefore(cert) : NULL, when, sizeof when);
        return set_err(err, KMIP_CLIENT_E_TLS_VERIFY,
                       "%s is not valid yet (not before %s): check the clocks", what, when);
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
        return set_err(err, KMIP_CLIENT_E_TLS_VERIFY,
                       "server certificate is not signed by the configured CA (%s at the %s): "
                       "point the CA option at the CA that issued the server's certificate, "
                       "and have the server send its intermediate CA certificates",
                       X509_verify_cert_error_string(result), what);
    default:
        return set_err(err, KMIP_CLIENT_E_TLS_VERIFY, "%s rejected: %s", what,
                       X509_verify_cert_error_string(result));
    }
}

static kmip_client_err explain_handshake(kt_conn *c, int ssl_error, kt_error *err)
{
    long vr = SSL_get_verify_result(c->ssl);
    if (vr != X509_V_OK && !c->skip_verify)
        return explain_verify(c, vr, err);
    unsigned long e = ERR_peek_last_error();
    char why[256];
    if (e == 0 && (ssl_error == SSL_ERROR_SYSCALL || ssl_error == SSL_ERROR_ZERO_RETURN))
        return set_err(err, KMIP_CLIENT_E_TLS,
                       "the KMIP server at %s closed the connection during the TLS handshake "
                       "without a TLS alert: it may require a client certificate or not trust "
                       "ours, or a proxy in front of it could not reach it",
                       c->host);
    int reason = ERR_GET_REASON(e);
    openssl_reason(why, sizeof why);
    if (reason == SSL_R_UNSUPPORTED_PROTOCOL || reason == SSL_R_TLSV1_ALERT_PROTOCOL_VERSION ||
        reason == SSL_R_WRONG_VERSION_NUMBER)
        return set_err(err, KMIP_CLIENT_E_TLS_PROTOCOL,
                       "the KMIP server at %s does not offer TLS 1.2 or newer (%s)", c->host, why);
    if (reason == SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE || reason == SSL_R_TLSV1_ALERT_UNKNOWN_CA ||
        reason == SSL_R_SSLV3_ALERT_BAD_CERTIFICATE || reason == SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED ||
        reason == SSL_R_TLSV1_ALERT_ACCESS_DENIED ||
        reason == SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN)
        return set_err(err, KMIP_CLIENT_E_TLS,
                       "the KMIP server at %s refused the TLS handshake (%s): check that the "
                       "client certificate and key are set and signed by a CA the server trusts, "
                       "and that the server offers TLS 1.3 or a TLS 1.2 suite with ECDHE or DHE "
                       "key exchange (else see the cipher list option)",
                       c->host, why);
    return set_err(err, KMIP_CLIENT_E_TLS, "TLS handshake with %s failed: %s", c->host, why);
}

static kmip_client_err handshake(kt_conn *c, int64_t deadline, kt_error *err)
{
    for (;;) {
        ERR_clear_error();
        int r = SSL_connect(c->ssl);
        if (r == 1)
            return KMIP_CLIENT_OK;
        int e = SSL_get_error(c->ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            int w = kt_wait(c->fd, e == SSL_ERROR_WANT_WRITE, deadline, c->abort);
            if (w == KT_WAIT_TIMEOUT)
                return set_err(err, KMIP_CLIENT_E_TIMEOUT,
                               "TLS handshake with %s timed out", c->host);
            if (w == KT_WAIT_ABORTED)
                return abort_or(c, KMIP_CLIENT_E_IO, err, "the TLS handshake with");
            if (w < 0)
                return set_err(err, KMIP_CLIENT_E_IO, "TLS handshake with %s: %s", c->host,
                               strerror(errno));
            continue;
        }
        return explain_handshake(c, e, err);
    }
}

static kmip_client_err setup_ssl(kt_ctx *ctx, const kt_config *cfg, kt_conn *c, kt_error *err)
{
    pthread_once(&init_once, init_once_fn);
    c->ssl = SSL_new(ctx->ssl_ctx);
    c->sock.fd = c->fd;
    c->sock.buf = malloc(KT_RBUF_SIZE);
    BIO *bio = c->ssl && c->sock.buf && sock_method ? BIO_new(sock_method) : NULL;
    /* the connection rides on the SSL's own application-data slot: no
     * process-wide ex_data index is taken (the SSL is ours alone) */
    if (bio == NULL || SSL_set_app_data(c->ssl, c) != 1) {
        BIO_free(bio);
        return set_err(err, KMIP_CLIENT_E_NOMEM, "cannot set up TLS");
    }
    BIO_set_data(bio, &c->sock);
    SSL_set_bio(c->ssl, bio, bio); /* the SSL owns it now */
    bool ip = kt_is_ip(cfg->host);
    if (!ip && SSL_set_tlsext_host_name(c->ssl, cfg->host) != 1) /* SNI */
        return set_err(err, KMIP_CLIENT_E_ARG, "host name %s cannot be sent as SNI", cfg->host);
    if (!cfg->skip_hostname && !cfg->skip_verify) {
        /* names only from subjectAltName (RFC 9525: never the CN), and no
         * partial wildcards such as "k*.example.com" */
        X509_VERIFY_PARAM_set_hostflags(SSL_get0_param(c->ssl),
                                        X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS |
                                            X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
        int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), cfg->host)
                    : SSL_set1_host(c->ssl, cfg->host);
        if (ok != 1)
            return set_err(err, KMIP_CLIENT_E_ARG, "cannot verify against host %s", cfg->host);
    } else if (cfg->log) {
        cfg->log(cfg->log_ctx, 1,
                 cfg->skip_verify ? "TLS server certificate verification is turned off"
                                  : "TLS server host name verification is turned off");
    }
    SSL_set_verify(c->ssl, SSL_VERIFY_PEER, verify_cb);
    return KMIP_CLIENT_OK;
}

/* After the handshake the socket blocks, so that kt_recv's wait for the
 * answer is the read itself (SO_RCVTIMEO bounds it); every other call
 * passes MSG_DONTWAIT and waits with poll up to its deadline, as during
 * the handshake. */
static kmip_client_err make_blocking(kt_conn *c, kt_error *err)
{
    int fl = fcntl(c->fd, F_GETFL);
    if (fl < 0 || fcntl(c->fd, F_SETFL, fl & ~O_NONBLOCK) != 0)
        return set_err(err, KMIP_CLIENT_E_IO, "cannot set up the connection to %s: %s",
                       c->host, strerror(errno));
    return KMIP_CLIENT_OK;
}

/* SO_RCVTIMEO runs on the kernel's timer wheel, not a high-resolution
 * timer: its expiry is rounded up to the granularity of the wheel's level,
 * up to 64/504 (12.7 %) of the timeout, plus a tick (up to 10 ms at
 * HZ=100; sysconf cannot tell HZ). A blocking read is therefore given
 * ms/7 + RCVTIMEO_SLACK_MS less than the budget, and budgets shorter than
 * twice the slack are waited with poll instead (an hrtimer). Review s4 T2:
 * a 3 ms budget waited 7 ms late; review s5a T3-1: with a margin of ms/16
 * a 2,200 ms budget ended 109 ms late. */
#define RCVTIMEO_SLACK_MS 10u

/* Lets the next refill of the read buffer block for at most ms. The
 * socket's SO_RCVTIMEO is kept while it lies in [ms - keep, ms - margin]
 * (margin as above, keep the larger of ms/4 and margin + 20 ms): a
 * timeout a little shorter only means the rest of the wait is a poll up to
 * the deadline, and the window is never empty, so that a budget a few
 * milliseconds smaller at the next exchange (the time an operation has
 * left) keeps it (review s5a T3-2: budgets of 20-79 ms set it on every
 * exchange). When set, it is set in the middle of that window, so that
 * the budgets that follow, each a millisecond or a few smaller (the time
 * an operation has left) or larger again, still find it inside: a steady
 * timeout costs one setsockopt per connection, not one per exchange. */
static void allow_wait(kt_conn *c, unsigned ms)
{
    kt_sock *s = &c->sock;
    if (ms < 2 * RCVTIMEO_SLACK_MS) /* too short for a tick timer: kt_recv polls */
        return;
    unsigned margin = ms / 7 + RCVTIMEO_SLACK_MS;
    if (margin >= ms) /* a guard: an SO_RCVTIMEO of 0 would wait for ever */
        return;
    unsigned keep = ms / 4 > margin + 20 ? ms / 4 : margin + 20;
    unsigned lowest = keep < ms ? ms - keep : 1;
    if (s->timeo_ms == 0 || s->timeo_ms > ms - margin || s->timeo_ms < lowest) {
        unsigned set = ms - (margin + keep) / 2; /* the window's middle */
        struct timeval tv = {.tv_sec = (time_t)(set / 1000),
                             .tv_usec = (suseconds_t)(set % 1000) * 1000};
        if (setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0)
            return; /* no blocking read: kt_recv polls */
        s->timeo_ms = set;
    }
    s->wait = true;
}

kmip_client_err kt_connect(kt_ctx *ctx, const kt_config *cfg, kt_conn **out, kt_error *err)
{
    *out = NULL;
    kt_conn *c = calloc(1, sizeof *c);
    if (c == NULL)
        return set_err(err, KMIP_CLIENT_E_NOMEM, "out of memory");
    c->skip_verify = cfg->skip_verify;
    c->log = cfg->log;
    c->log_ctx = cfg->log_ctx;
    snprintf(c->host, sizeof c->host, "%s", cfg->host);
    c->abort = cfg->abort;
    c->max_response = cfg->max_response ? cfg->max_response : KMIP_DEFAULT_MAX_MESSAGE;
    int64_t deadline = kmip_monotonic_ms() + cfg->connect_ms;
    c->fd = kt_tcp_connect(cfg->host, cfg->port, deadline, c->abort, err);
    if (c->fd >= 0) /* from here an abort also shuts the socket down */
        kt_abort_attach(c->abort, &c->link, c->fd);
    kmip_client_err e = c->fd < 0 ? err->code : setup_ssl(ctx, cfg, c, err);
    if (e == KMIP_CLIENT_OK)
        e = handshake(c, deadline, err);
    if (e == KMIP_CLIENT_OK)
        e = make_blocking(c, err);
    if (c->fd >= 0)
        e = abort_or(c, e, err, "the TLS handshake with");
    if (e != KMIP_CLIENT_OK) {
        kt_close(c);
        return e;
    }
    c->last_io_ms = kmip_monotonic_ms();
    *out = c;
    return KMIP_CLIENT_OK;
}

void kt_close(kt_conn *c)
{
    if (c == NULL)
        return;
    kt_abort_detach(c->abort, &c->link); /* before the descriptor can be reused */
    if (c->ssl) {
        SSL_set_quiet_shutdown(c->ssl, 1);
        SSL_free(c->ssl);
    }
    X509_free(c->bad_cert);
    if (c->fd >= 0)
        close(c->fd);
    if (c->sock.buf) {
        sock_drop(&c->sock);
        free(c->sock.buf);
    }
    kmip_secure_free(c->stash, c->stash_cap);
    free(c);
}

/* Maps an SSL_read/SSL_write failure; 1 means "wait and retry". */
static int io_status(kt_conn *c, int r, bool *want_write, kmip_client_err *code, kt_error *err,
                     const char *what)
{
    int e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        *want_write = e == SSL_ERROR_WANT_WRITE;
        return 1;
    }
    char why[256];
    unsigned long ec = ERR_peek_error();
    if (e == SSL_ERROR_SSL && ERR_GET_LIB(ec) == ERR_LIB_SSL &&
        ERR_GET_REASON(ec) >= SSL_AD_REASON_OFFSET) {
        /* a TLS alert from the server after the handshake: with TLS 1.3 a
         * refused client certificate is reported at the first read */
        *code = set_err(err, KMIP_CLIENT_E_TLS, "the KMIP server at %s ended the TLS session "
                        "while %s it (%s): check the client certificate and that the server "
                        "trusts its CA", c->host, what, openssl_reason(why, sizeof why));
        return 0;
    }
    bool eof_without_notify = e == SSL_ERROR_SSL && ERR_GET_LIB(ec) == ERR_LIB_SSL &&
                              ERR_GET_REASON(ec) == SSL_R_UNEXPECTED_EOF_WHILE_READING;
    if (e == SSL_ERROR_ZERO_RETURN || eof_without_notify ||
        (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 &&
         (errno == 0 || errno == EPIPE || errno == ECONNRESET)))
        *code = set_err(err, KMIP_CLIENT_E_CLOSED, "the KMIP server at %s closed the connection "
                        "while %s it", c->host, what);
    else
        *code = set_err(err, KMIP_CLIENT_E_IO, "%s the KMIP server at %s failed: %s", what,
                        c->host, e == SSL_ERROR_SYSCALL ? strerror(errno) : openssl_reason(why, sizeof why));
    return 0;
}

/* A write failed because the server closed: if it said why with a TLS
 * alert (TLS 1.3 refuses a client certificate after the handshake), that
 * alert is already in our receive buffer and explains more. */
static kmip_client_err alert_after_write(kt_conn *c, kmip_client_err code, kt_error *err)
{
    uint8_t b[1];
    ERR_clear_error();
    errno = 0;
    int r = SSL_read(c->ssl, b, sizeof b);
    if (r > 0)
        return code;
    bool ignored;
    kt_error alert = {KMIP_CLIENT_OK, ""};
    kmip_client_err read_code = KMIP_CLIENT_OK;
    if (!io_status(c, r, &ignored, &read_code, &alert, "writing to") &&
        read_code == KMIP_CLIENT_E_TLS) {
        *err = alert;
        return read_code;
    }
    return code;
}

/* Reads what the server has sent (decrypted) into the stash, without
 * waiting: kt_send found the socket readable while it waited for room.
 * Grows the stash by allocate-copy-wipe. */
static kmip_client_err read_into_stash(kt_conn *c, size_t *got, kt_error *err)
{
    *got = 0;
    for (;;) {
        if (c->stash_end == c->stash_cap) {
            size_t held = c->stash_end - c->stash_pos;
            if (held >= KT_STASH_MAX(c))
                return set_err(err, KMIP_CLIENT_E_PROTOCOL, "the KMIP server at %s sent more "
                               "than %zu bytes that no request in flight asked for while a "
                               "request was being written", c->host, KT_STASH_MAX(c));
            /* moved to the front of a buffer as large when half of it or
             * more was taken already, else of one twice as large (up to
             * the limit) */
            size_t cap = c->stash_cap == 0 ? 16384
                         : held <= c->stash_cap / 2 ? c->stash_cap : 2 * c->stash_cap;
            if (cap > KT_STASH_MAX(c))
                cap = KT_STASH_MAX(c);
            uint8_t *grown = malloc(cap);
            if (grown == NULL)
                return set_err(err, KMIP_CLIENT_E_NOMEM, "out of memory");
            if (held)
                memcpy(grown, c->stash + c->stash_pos, held);
            kmip_secure_free(c->stash, c->stash_cap);
            c->stash = grown;
            c->stash_cap = cap;
            c->stash_pos = 0;
            c->stash_end = held;
        }
        size_t room = c->stash_cap - c->stash_end;
        ERR_clear_error();
        errno = 0;
        int r = SSL_read(c->ssl, c->stash + c->stash_end, room > (1u << 30) ? (1 << 30) : (int)room);
        if (r > 0) {
            c->stash_end += (size_t)r;
            *got += (size_t)r;
            continue;
        }
        bool want_write = false;
        kmip_client_err code = KMIP_CLIENT_OK;
        if (!io_status(c, r, &want_write, &code, err, "reading from"))
            return code;
        return KMIP_CLIENT_OK; /* nothing more without waiting */
    }
}

/* The end of a wait of io_ms from now, not past until (0: no bound). */
static int64_t wait_end(unsigned io_ms, int64_t until)
{
    int64_t end = kmip_monotonic_ms() + io_ms;
    return until != 0 && until < end ? until : end;
}

kmip_client_err kt_send(kt_conn *c, const uint8_t *data, size_t len, unsigned io_ms,
                        int64_t until, kt_error *err)
{
    if (kt_abort_fired(c->abort)) /* nothing of the request leaves */
        return abort_or(c, KMIP_CLIENT_E_IO, err, "writing to");
    int64_t deadline = wait_end(io_ms, until);
    size_t done = 0;
    while (done < len) {
        size_t chunk = len - done > (1u << 30) ? (1u << 30) : len - done;
        ERR_clear_error();
        errno = 0;
        int r = SSL_write(c->ssl, data + done, (int)chunk);
        if (r > 0) {
            done += (size_t)r;
            continue;
        }
        bool want_write = true;
        kmip_client_err code = KMIP_CLIENT_OK;
        if (!io_status(c, r, &want_write, &code, err, "writing to"))
            return abort_or(c, code == KMIP_CLIENT_E_CLOSED ? alert_after_write(c, code, err)
                                                            : code, err, "writing to");
        /* Waiting for room, we read too: the server may be writing the
         * answers to requests in flight and wait for us to take them before
         * it reads more of ours. (SSL_write is repeated with the same
         * arguments, as OpenSSL requires; reading in between is allowed.) */
        int w = want_write ? kt_wait_send(c->fd, deadline, c->abort)
                           : kt_wait(c->fd, false, deadline, c->abort);
        if (w == KT_WAIT_TIMEOUT)
            return set_err(err, KMIP_CLIENT_E_TIMEOUT, "writing to the KMIP server at %s timed "
                           "out after %u ms", c->host, io_ms);
        if (w == KT_WAIT_ABORTED)
            return abort_or(c, KMIP_CLIENT_E_IO, err, "writing to");
        if (w < 0)
            return set_err(err, KMIP_CLIENT_E_IO, "writing to %s: %s", c->host, strerror(errno));
        size_t got = 0;
        if (want_write && (w & KT_READABLE) &&
            (code = read_into_stash(c, &got, err)) != KMIP_CLIENT_OK)
            return abort_or(c, code, err, "writing to");
        /* answers arriving are the server at work on the requests before
         * this one, which it must finish before it reads this one: the
         * wait for room starts again (review s7 R7-2: on a slow link a
         * write was charged for all of them), up to until */
        if (got > 0)
            deadline = wait_end(io_ms, until);
    }
    c->last_io_ms = kmip_monotonic_ms();
    return KMIP_CLIENT_OK;
}

bool kt_room_for(kt_conn *c, size_t len)
{
    /* TLS adds a header, a MAC or tag and padding to each record of at
     * most 16 KiB (TLS 1.2 CBC-SHA384: up to 5 + 16 + 48 + 16 bytes) */
    size_t wire = len + (len / 16384 + 1) * 96;
    int queued = 0, sndbuf = 0;
    socklen_t sl = sizeof sndbuf;
    if (ioctl(c->fd, SIOCOUTQ, &queued) != 0 || queued < 0 ||
        getsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &sl) != 0 || sndbuf <= 0)
        return false; /* unknown: written once the answers before it came */
    /* the kernel's send buffer also holds its own bookkeeping per segment:
     * half of it for data is a safe reading */
    return (size_t)queued + wire <= (size_t)sndbuf / 2;
}

static kmip_client_err framer_error(kt_conn *c, kmip_err e, size_t max, kt_error *err)
{
    if (e == KMIP_E_LIMIT_SIZE)
        return set_err(err, KMIP_CLIENT_E_PROTOCOL, "the KMIP server at %s announced a response "
                       "larger than the limit of %zu bytes", c->host, max);
    return set_err(err, KMIP_CLIENT_E_PROTOCOL, "the KMIP server at %s sent something that is "
                   "not a KMIP response message (%s)", c->host, kmip_strerror(e));
}

kmip_client_err kt_recv(kt_conn *c, uint8_t **msg, size_t *len, unsigned io_ms, size_t max,
                        kt_error *err)
{
    if (kt_abort_fired(c->abort)) /* no read: an atomic load, no system call */
        return abort_or(c, KMIP_CLIENT_E_IO, err, "reading from");
    kmip_framer *f = kmip_framer_new();
    if (f == NULL)
        return set_err(err, KMIP_CLIENT_E_NOMEM, "out of memory");
    kmip_framer_set_max_message_size(f, max);
    kmip_framer_set_expected_tag(f, KMIP_TAG_RESPONSE_MESSAGE);
    int64_t deadline = kmip_monotonic_ms() + io_ms;
    uint8_t buf[16384];
    size_t held = 0; /* how much of buf ever held response bytes: what is wiped */
    kmip_client_err code = KMIP_CLIENT_OK;
    /* The answer is not there yet right after the request: the first
     * refill of the read buffer waits for it, bounded by io_ms (a blocking
     * recv with SO_RCVTIMEO: waiting and reading are one system call, and
     * the exchange is send + recv). Any later wait, for the rest of a long
     * answer, is a poll up to the deadline. */
    if (!SSL_has_pending(c->ssl) && c->sock.pos == c->sock.end && c->stash_pos == c->stash_end)
        allow_wait(c, io_ms);
    while (code == KMIP_CLIENT_OK && !kmip_framer_ready(f)) {
        size_t want = kmip_framer_needed(f);
        if (c->stash_pos < c->stash_end) { /* read while a request was written */
            size_t n = c->stash_end - c->stash_pos, used;
            kmip_err fe = kmip_framer_feed(f, c->stash + c->stash_pos, n < want ? n : want, &used);
            kmip_secure_zero(c->stash + c->stash_pos, used);
            c->stash_pos += used;
            if (c->stash_pos == c->stash_end) { /* all taken (and wiped): the memory goes */
                kmip_secure_free(c->stash, c->stash_cap);
                c->stash = NULL;
                c->stash_cap = c->stash_pos = c->stash_end = 0;
            }
            if (fe != KMIP_OK)
                code = framer_error(c, fe, max, err);
            continue;
        }
        ERR_clear_error();
        errno = 0;
        int r = SSL_read(c->ssl, buf, (int)(want < sizeof buf ? want : sizeof buf));
        if (r > 0) {
            size_t used;
            if ((size_t)r > held)
                held = (size_t)r;
            kmip_err fe = kmip_framer_feed(f, buf, (size_t)r, &used);
            if (fe != KMIP_OK)
                code = framer_error(c, fe, max, err);
            continue;
        }
        bool want_write = false;
        if (!io_status(c, r, &want_write, &code, err, "reading from"))
            break;
        int w = kt_wait(c->fd, want_write, deadline, c->abort);
        if (w == KT_WAIT_TIMEOUT)
            code = set_err(err, KMIP_CLIENT_E_TIMEOUT, "no complete response from the KMIP "
                           "server at %s within %u ms", c->host, io_ms);
        else if (w == KT_WAIT_ABORTED)
            code = KMIP_CLIENT_E_IO; /* abort_or below says so */
        else if (w < 0)
            code = set_err(err, KMIP_CLIENT_E_IO, "reading from %s: %s", c->host, strerror(errno));
    }
    c->sock.wait = false;
    /* an abort during the blocking read shut the socket down: the read
     * ended as if the server had closed */
    code = abort_or(c, code, err, "reading from");
    kmip_secure_zero(buf, held);
    if (code == KMIP_CLIENT_OK && kmip_framer_take(f, msg, len) != KMIP_OK)
        code = set_err(err, KMIP_CLIENT_E_NOMEM, "out of memory");
    kmip_framer_free(f);
    if (code == KMIP_CLIENT_OK)
        c->last_io_ms = kmip_monotonic_ms();
    return code;
}

bool kt_stale(kt_conn *c)
{
    /* An idle KMIP connection has nothing to read. What arrived with or
     * after the last answer is in our read buffer or OpenSSL's (decrypted
     * or not) and is looked at without a system call; otherwise one recv
     * (MSG_DONTWAIT) looks at the socket, and what it finds is in the
     * buffer for the SSL_read below. Checked before every request, reads
     * too: a record the client did not ask for would otherwise be taken
     * as the next answer (review of issue 17, F4 and F8). */
    kt_sock *s = &c->sock;
    if (c->stash_pos < c->stash_end) /* answers read while writing: nobody asked now */
        return true;
    if (s->pos == s->end && !SSL_has_pending(c->ssl)) {
        ssize_t r = recv(c->fd, s->buf, KT_RBUF_SIZE, MSG_DONTWAIT);
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return false;
        if (r <= 0) /* EOF, a reset, an error: the connection is done */
            return true;
        s->end = (size_t)r;
    }
    /* Readable is not stale by itself: TLS records without application
     * data (TLS 1.3 session tickets, a KeyUpdate) arrive after the
     * handshake. Let OpenSSL process what is there: only application data,
     * a close_notify, an alert, EOF or an error mean the connection is
     * done. A few rounds at most (each consumes at least one record, or
     * waits briefly for the rest of one that arrived in part). */
    for (int round = 0; round < 8; round++) {
        uint8_t b[1];
        ERR_clear_error();
        errno = 0;
        int r = SSL_read(c->ssl, b, sizeof b);
        if (r > 0) {
            kmip_secure_zero(b, sizeof b);
            return true;
        }
        int e = SSL_get_error(c->ssl, r);
        if (e != SSL_ERROR_WANT_READ)
            return true;
        /* WANT_READ: OpenSSL took every buffered byte and our recv found
         * the socket empty. Only records without data: still fresh, unless
         * one is still arriving. */
        if (!SSL_has_pending(c->ssl))
            return false;
        if (kt_wait(c->fd, false, kmip_monotonic_ms() + KT_PARTIAL_RECORD_WAIT_MS, c->abort) <=
            KT_WAIT_TIMEOUT)
            return true; /* a record begun and not completed */
    }
    return true;
}

void kt_info(const kt_conn *c, kmip_client_tls_info *info)
{
    memset(info, 0, sizeof *info);
    snprintf(info->protocol, sizeof info->protocol, "%s", SSL_get_version(c->ssl));
    snprintf(info->cipher, sizeof info->cipher, "%s", SSL_get_cipher_name(c->ssl));
    X509 *peer = SSL_get0_peer_certificate(c->ssl);
    if (peer) {
        X509_NAME_oneline(X509_get_subject_name(peer), info->peer_subject,
                          (int)sizeof info->peer_subject);
        cert_time(X509_get0_notAfter(peer), info->peer_not_after, sizeof info->peer_not_after);
    }
}
