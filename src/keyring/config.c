/* SPDX-License-Identifier: GPL-2.0-only */
/* component_keyring_kmip.cnf: the keyring's JSON configuration, as the
 * Percona documentation describes it, with Percona's later keys accepted
 * and verification on by default. Every problem names the file, the key,
 * what was expected and what was found. */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "kmip/kmip_client.h"

#define DEFAULT_TIMEOUT_MS 10000u
#define MAX_TIMEOUT_MS 3600000
#define DEFAULT_LOAD_TIMEOUT_MS 120000u
#define DEFAULT_CONNECT_TIMEOUT_MS 1000u
#define DEFAULT_CERT_WARNING_DAYS 14

static const char *const known_keys[] = {
    "server_addr",    "server_port",           "client_ca",
    "client_key",     "server_ca",             "object_group",
    "kmip_timeout_ms", "tls_peer_verification", "tls_hostname_verification",
    "max_objects",    "read_local_config",     "client_key_password_file",
    "tls_cipher_list", "tls_ciphersuites",
    "load_timeout_ms", "kmip_connect_timeout_ms", "cert_expiry_warning_days",
};

/* Levenshtein distance, for "did you mean". */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return 64;
    size_t row[64];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t prev = row[0]++;
        for (size_t j = 1; j <= lb; j++) {
            size_t cur = row[j];
            size_t best = prev + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            prev = cur;
        }
    }
    return row[lb];
}

static krk_err unknown_key(const char *path, const char *key, krk_diag *d)
{
    const char *best = NULL;
    size_t best_d = 4; /* suggest only close names */
    for (size_t i = 0; i < sizeof known_keys / sizeof known_keys[0]; i++) {
        size_t dist = distance(key, known_keys[i]);
        if (dist < best_d) {
            best_d = dist;
            best = known_keys[i];
        }
    }
    if (best)
        return krk_fail(d, KRK_E_CONFIG, "%s: unknown key \"%s\" (did you mean \"%s\"?)", path,
                        key, best);
    return krk_fail(d, KRK_E_CONFIG, "%s: unknown key \"%s\"", path, key);
}

static krk_err get_string(json_t *root, const char *path, const char *key, bool required,
                          char *out, size_t cap, krk_diag *d)
{
    json_t *v = json_object_get(root, key);
    if (v == NULL) {
        if (required)
            return krk_fail(d, KRK_E_CONFIG, "%s: missing required key \"%s\"", path, key);
        return KRK_OK;
    }
    if (!json_is_string(v))
        return krk_fail(d, KRK_E_CONFIG, "%s: \"%s\" must be a string, found %s", path, key,
                        krk_json_kind(v));
    const char *s = json_string_value(v);
    if (s[0] == '\0')
        return krk_fail(d, KRK_E_CONFIG, "%s: \"%s\" must not be empty", path, key);
    if (strlen(s) >= cap)
        return krk_fail(d, KRK_E_CONFIG, "%s: \"%s\" is longer than %zu characters", path, key,
                        cap - 1);
    snprintf(out, cap, "%s", s);
    return KRK_OK;
}

/* "server_addr": one string (a comma-separated list) or an array of
 * strings, kept as one comma-separated list; every entry is checked with
 * the client's own parser, so the error names the entry. */
static krk_err get_servers(json_t *root, const char *path, krk_config *c, krk_diag *d)
{
    json_t *v = json_object_get(root, "server_addr");
    if (json_is_array(v)) {
        size_t i, used = 0;
        json_t *item;
        if (json_array_size(v) == 0)
            return krk_fail(d, KRK_E_CONFIG, "%s: \"server_addr\" must name at least one server",
                            path);
        json_array_foreach(v, i, item)
        {
            if (!json_is_string(item))
                return krk_fail(d, KRK_E_CONFIG, "%s: \"server_addr\" entry %zu must be a "
                                "string, found %s", path, i + 1, krk_json_kind(item));
            const char *e = json_string_value(item);
            if (e[0] == '\0' || strchr(e, ','))
                return krk_fail(d, KRK_E_CONFIG, "%s: \"server_addr\" entry %zu (\"%.200s\") "
                                "must be one non-empty \"host\", \"host:port\" or "
                                "\"[v6addr]:port\"", path, i + 1, e);
            size_t n = strlen(e);
            if (used + n + 2 > sizeof c->server_addr)
                return krk_fail(d, KRK_E_CONFIG, "%s: \"server_addr\" is longer than %zu "
                                "characters", path, sizeof c->server_addr - 1);
            if (used)
                c->server_addr[used++] = ',';
            memcpy(c->server_addr + used, e, n + 1);
            used += n;
        }
        return KRK_OK;
    }
    return get_string(root, path, "server_addr", true, c->server_addr, sizeof c->server_addr, d);
}

static krk_err check_servers(const char *path, const krk_config *c, krk_diag *d)
{
    kmip_server_addr a[KMIP_MAX_SERVERS];
    size_t n = 0;
    char why[400];
    if (kmip_server_list_parse(c->server_addr, c->server_port, a, KMIP_MAX_SERVERS, &n, why,
                               sizeof why) != KMIP_CLIENT_OK)
        return krk_fail(d, KRK_E_CONFIG, "%s: \"server_addr\": %s (expected \"host\", "
                        "\"host:port\" or \"[v6addr]:port\", several as a JSON array or "
                        "separated by commas)", path, why);
    return KRK_OK;
}

static krk_err get_bool(json_t *root, const char *path, const char *key, bool *out, krk_diag *d)
{
    json_t *v = json_object_get(root, key);
    if (v == NULL)
        return KRK_OK;
    if (!json_is_boolean(v))
        return krk_fail(d, KRK_E_CONFIG, "%s: \"%s\" must be true or false, found %s", path, key,
                        krk_json_kind(v));
    *out = json_is_true(v);
    return KRK_OK;
}

/* A number, or a string holding one (as "server_port": "5696" is written). */
static krk_err get_uint(json_t *root, const char *path, const char *key, long long min,
                        long long max, long long *out, krk_diag *d)
{
    json_t *v = json_object_get(root, key);
    if (v == NULL)
        return KRK_OK;
    long long n;
    if (json_is_integer(v)) {
        n = json_integer_value(v);
    } else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        errno = 0;
        n = strtoll(s, &end, 10);
        /* digits only: no sign, no spaces, nothing after the number */
        if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0)
            return krk_fail(d, KRK_E_CONFIG, "%s: \"%s\" must be a number from %lld to %lld, "
                            "found \"%s\"", path, key, min, max, s);
    } else {
        /* 5696.0 or 1e3 is a JSON real: "must be a number, found a number"
         * would not tell the operator what is wrong */
        return krk_fail(d, KRK_E_CONFIG, "%s: \"%s\" must be a number from %lld to %lld, found "
                        "%s", path, key, min, max,
                        json_is_real(v) ? "a number with a fraction or an exponent"
                                        : krk_json_kind(v));
    }
    if (n < min || n > max)
        return krk_fail(d, KRK_E_CONFIG, "%s: \"%s\" must be a number from %lld to %lld, found "
                        "%lld", path, key, min, max, n);
    *out = n;
    return KRK_OK;
}

/* Relative file names are relative to the configuration file's directory. */
static krk_err resolve(const char *cfg_path, const char *key, char *file, size_t cap, krk_diag *d)
{
    if (file[0] == '/')
        return KRK_OK;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", cfg_path);
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
        return KRK_OK;
    *slash = '\0';
    char joined[4096];
    if (!krk_join(joined, sizeof joined, dir, file) || strlen(joined) >= cap)
        return krk_fail(d, KRK_E_CONFIG, "%s: \"%s\" path is too long", cfg_path, key);
    snprintf(file, cap, "%s", joined);
    return KRK_OK;
}

#define MAX_PEM_BYTES ((size_t)4 << 20)
#define MAX_PASSWORD_BYTES ((size_t)4096)

/* Reads a file named by key through one checked descriptor
 * (kmip_file_read: regular file, size limit, never blocks on a FIFO), as a
 * memory BIO over its bytes. */
static BIO *open_pem(const char *cfg, const char *key, const char *file, size_t max,
                     kmip_file *f, krk_diag *d)
{
    char why[600];
    if (kmip_file_read(file, max, f, why, sizeof why) != KMIP_CLIENT_OK) {
        if (f->error)
            krk_fail(d, KRK_E_CONFIG, "%s: \"%s\" names %s, which cannot be read: %s", cfg, key,
                     file, strerror(f->error));
        else
            krk_fail(d, KRK_E_CONFIG, "%s: \"%s\": %s", cfg, key, why);
        return NULL;
    }
    BIO *b = BIO_new_mem_buf(f->data, (int)f->len);
    if (b == NULL) {
        kmip_file_free(f);
        krk_fail(d, KRK_E_NOMEM, "out of memory");
    }
    return b;
}

/* The first certificate of the file; f keeps the file's bytes (the caller
 * frees them). */
static X509 *read_cert(const char *cfg, const char *key, const char *file, kmip_file *f,
                       krk_diag *d, bool *read)
{
    BIO *b = open_pem(cfg, key, file, MAX_PEM_BYTES, f, d);
    *read = b != NULL;
    X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    return x;
}

/* The client key decrypted with the pass phrase file's first line (never a
 * prompt) and checked against the client certificate, as the client's TLS
 * context will (kmip_key_check): each failure named with the fields. */
static krk_err read_key(const krk_config *c, const kmip_file *cert, krk_diag *d)
{
    const char *cfg = c->path;
    kmip_file pw_file = {0}, f;
    const char *pw = NULL;
    size_t pw_len = 0;
    if (c->client_key_password_file[0]) {
        BIO *pb = open_pem(cfg, "client_key_password_file", c->client_key_password_file,
                           MAX_PASSWORD_BYTES, &pw_file, d);
        if (pb == NULL)
            return KRK_E_CONFIG;
        BIO_free(pb);
        size_t n = 0; /* the first line */
        while (n < pw_file.len && pw_file.data[n] != '\n' && pw_file.data[n] != '\r')
            n++;
        if (n == 0) {
            kmip_file_free(&pw_file);
            return krk_fail(d, KRK_E_CONFIG, "%s: \"client_key_password_file\" (%s) is empty",
                            cfg, c->client_key_password_file);
        }
        pw = (const char *)pw_file.data;
        pw_len = n;
    }
    BIO *b = open_pem(cfg, "client_key", c->client_key, MAX_PEM_BYTES, &f, d);
    kmip_key_verdict v = b ? kmip_key_check(&f, pw, pw_len, cert) : KMIP_KEY_NONE;
    BIO_free(b);
    kmip_file_free(&f);
    kmip_file_free(&pw_file);
    krk_err e = KRK_OK;
    if (b == NULL)
        e = KRK_E_CONFIG;
    else if (v == KMIP_KEY_ENCRYPTED)
        e = krk_fail(d, KRK_E_CONFIG, "%s: \"client_key\" (%s) is encrypted: name a file "
                     "holding its pass phrase in \"client_key_password_file\"", cfg,
                     c->client_key);
    else if (v == KMIP_KEY_BAD_PASS_PHRASE)
        e = krk_fail(d, KRK_E_CONFIG, "%s: the pass phrase in \"client_key_password_file\" (%s) "
                     "does not decrypt \"client_key\" (%s)", cfg, c->client_key_password_file,
                     c->client_key);
    else if (v == KMIP_KEY_NONE)
        e = krk_fail(d, KRK_E_CONFIG, "%s: \"client_key\" (%s) holds no PEM private key", cfg,
                     c->client_key);
    else if (v == KMIP_KEY_NO_CERTIFICATE)
        e = krk_fail(d, KRK_E_CONFIG, "%s: \"client_ca\" (%s) holds no PEM certificate; it "
                     "names the client certificate", cfg, c->client_cert);
    else if (v == KMIP_KEY_MISMATCH)
        e = krk_fail(d, KRK_E_CONFIG, "%s: \"client_key\" (%s) does not match the certificate in "
                     "\"client_ca\" (%s)", cfg, c->client_key, c->client_cert);
    else if (v != KMIP_KEY_OK)
        e = krk_fail(d, KRK_E_NOMEM, "out of memory");
    return e;
}

static krk_err check_files(const krk_config *c, krk_diag *d)
{
    const char *cfg = c->path;
    bool read;
    kmip_file f;
    X509 *ca = read_cert(cfg, "server_ca", c->server_ca, &f, d, &read);
    X509_free(ca);
    kmip_file_free(&f);
    if (!read)
        return KRK_E_CONFIG;
    if (ca == NULL)
        return krk_fail(d, KRK_E_CONFIG, "%s: \"server_ca\" (%s) holds no PEM certificate", cfg,
                        c->server_ca);
    kmip_file cert; /* its bytes for the key check */
    X509 *x = read_cert(cfg, "client_ca", c->client_cert, &cert, d, &read);
    X509_free(x);
    if (!read || x == NULL) {
        kmip_file_free(&cert);
        return read ? krk_fail(d, KRK_E_CONFIG, "%s: \"client_ca\" (%s) holds no PEM "
                               "certificate; it names the client certificate", cfg,
                               c->client_cert)
                    : KRK_E_CONFIG;
    }
    krk_err e = read_key(c, &cert, d);
    kmip_file_free(&cert);
    ERR_clear_error();
    return e;
}

/* The first name in a list that OpenSSL does not know, or NULL. OpenSSL
 * takes a list as long as one name in it is known and drops the rest, so
 * "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA348" would silently
 * lose its second suite: each plain name is tried alone (operators such as
 * "!aNULL", "+RSA", "-X" or "@SECLEVEL=1" select nothing alone and are
 * left to the whole-list check). */
static const char *unknown_name(SSL_CTX *ctx, const char *list, bool suites, char *one,
                                size_t cap)
{
    const char *seps = suites ? ":" : ":, ";
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, seps);
        if (n > 0 && n < cap && (suites || !strchr("!+-@", p[0]))) {
            memcpy(one, p, n);
            one[n] = '\0';
            if ((suites ? SSL_CTX_set_ciphersuites(ctx, one) : SSL_CTX_set_cipher_list(ctx, one))
                != 1)
                return one;
        }
        p += n;
        p += *p != '\0';
    }
    return NULL;
}

/* The cipher options are checked by OpenSSL itself, so a typo is an error
 * here and not a failed connection later. */
static krk_err check_ciphers(const krk_config *c, krk_diag *d)
{
    char one[256];
    const char *bad;
    if (!c->tls_cipher_list[0] && !c->tls_ciphersuites[0])
        return KRK_OK;
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    krk_err e = KRK_OK;
    if (ctx == NULL)
        e = krk_fail(d, KRK_E_NOMEM, "out of memory");
    else if (c->tls_cipher_list[0] && SSL_CTX_set_cipher_list(ctx, c->tls_cipher_list) != 1)
        e = krk_fail(d, KRK_E_CONFIG, "%s: \"tls_cipher_list\" (\"%s\") names no cipher "
                     "OpenSSL knows", c->path, c->tls_cipher_list);
    else if (c->tls_ciphersuites[0] && SSL_CTX_set_ciphersuites(ctx, c->tls_ciphersuites) != 1)
        e = krk_fail(d, KRK_E_CONFIG, "%s: \"tls_ciphersuites\" (\"%s\") names no TLS 1.3 "
                     "suite OpenSSL knows", c->path, c->tls_ciphersuites);
    else if (c->tls_cipher_list[0] &&
             (bad = unknown_name(ctx, c->tls_cipher_list, false, one, sizeof one)))
        e = krk_fail(d, KRK_E_CONFIG, "%s: \"tls_cipher_list\" (\"%s\") names \"%s\", a cipher "
                     "OpenSSL does not know", c->path, c->tls_cipher_list, bad);
    else if (c->tls_ciphersuites[0] &&
             (bad = unknown_name(ctx, c->tls_ciphersuites, true, one, sizeof one)))
        e = krk_fail(d, KRK_E_CONFIG, "%s: \"tls_ciphersuites\" (\"%s\") names \"%s\", a TLS "
                     "1.3 suite OpenSSL does not know", c->path, c->tls_ciphersuites, bad);
    SSL_CTX_free(ctx);
    ERR_clear_error();
    return e;
}

static krk_err parse(json_t *root, krk_config *c, krk_diag *d)
{
    const char *p = c->path, *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        bool known = false;
        for (size_t i = 0; i < sizeof known_keys / sizeof known_keys[0]; i++)
            known |= strcmp(key, known_keys[i]) == 0;
        if (!known)
            return unknown_key(p, key, d);
    }
    long long port = 0, timeout = DEFAULT_TIMEOUT_MS, max_objects = 0,
              load_timeout = DEFAULT_LOAD_TIMEOUT_MS, connect_timeout = DEFAULT_CONNECT_TIMEOUT_MS,
              warn_days = DEFAULT_CERT_WARNING_DAYS;
    krk_err e;
    if ((e = get_servers(root, p, c, d)) ||
        (json_object_get(root, "server_port") == NULL &&
         (e = krk_fail(d, KRK_E_CONFIG, "%s: missing required key \"server_port\"", p))) ||
        (e = get_uint(root, p, "server_port", 1, 65535, &port, d)) ||
        (e = get_string(root, p, "client_ca", true, c->client_cert, sizeof c->client_cert, d)) ||
        (e = get_string(root, p, "client_key", true, c->client_key, sizeof c->client_key, d)) ||
        (e = get_string(root, p, "server_ca", true, c->server_ca, sizeof c->server_ca, d)) ||
        (e = get_string(root, p, "object_group", false, c->object_group, sizeof c->object_group,
                        d)) ||
        (e = get_uint(root, p, "kmip_timeout_ms", 1, MAX_TIMEOUT_MS, &timeout, d)) ||
        (e = get_uint(root, p, "max_objects", 1, 100000000, &max_objects, d)) ||
        (e = get_uint(root, p, "load_timeout_ms", 1, MAX_TIMEOUT_MS, &load_timeout, d)) ||
        (e = get_uint(root, p, "kmip_connect_timeout_ms", 1, MAX_TIMEOUT_MS, &connect_timeout,
                      d)) ||
        (e = get_uint(root, p, "cert_expiry_warning_days", 1, 3650, &warn_days, d)) ||
        (e = get_bool(root, p, "tls_peer_verification", &c->tls_peer_verification, d)) ||
        (e = get_bool(root, p, "tls_hostname_verification", &c->tls_hostname_verification, d)) ||
        (e = get_string(root, p, "client_key_password_file", false, c->client_key_password_file,
                        sizeof c->client_key_password_file, d)) ||
        (e = get_string(root, p, "tls_cipher_list", false, c->tls_cipher_list,
                        sizeof c->tls_cipher_list, d)) ||
        (e = get_string(root, p, "tls_ciphersuites", false, c->tls_ciphersuites,
                        sizeof c->tls_ciphersuites, d)))
        return e;
    c->server_port = (unsigned)port;
    c->timeout_ms = (unsigned)timeout;
    c->max_objects = (size_t)max_objects;
    c->load_timeout_ms = (unsigned)load_timeout;
    c->connect_timeout_ms = (unsigned)connect_timeout;
    c->cert_warning_days = (unsigned)warn_days;
    if ((e = check_servers(p, c, d)))
        return e;
    if ((e = resolve(p, "client_ca", c->client_cert, sizeof c->client_cert, d)) ||
        (e = resolve(p, "client_key", c->client_key, sizeof c->client_key, d)) ||
        (e = resolve(p, "server_ca", c->server_ca, sizeof c->server_ca, d)) ||
        (c->client_key_password_file[0] &&
         (e = resolve(p, "client_key_password_file", c->client_key_password_file,
                      sizeof c->client_key_password_file, d))) ||
        (e = check_ciphers(c, d)))
        return e;
    if (!c->tls_peer_verification)
        krk_warn(d, "%s: \"tls_peer_verification\" is false: the KMIP server's certificate is "
                 "not verified", p);
    else if (!c->tls_hostname_verification)
        krk_warn(d, "%s: \"tls_hostname_verification\" is false: the KMIP server's name is not "
                 "verified", p);
    return check_files(c, d);
}

static krk_err read_file(const char *path, krk_config *out, bool allow_local, bool *local,
                         krk_diag *d)
{
    memset(out, 0, sizeof *out);
    snprintf(out->path, sizeof out->path, "%s", path);
    out->tls_peer_verification = out->tls_hostname_verification = true;
    json_t *root;
    bool missing;
    krk_err e = krk_json_load(path, KRK_E_CONFIG, "keyring configuration", &root, &missing, d);
    if (e != KRK_OK)
        return e;
    json_t *rl = json_object_get(root, "read_local_config");
    if (rl && !json_is_boolean(rl))
        e = krk_fail(d, KRK_E_CONFIG, "%s: \"read_local_config\" must be true or false, found %s",
                     path, krk_json_kind(rl));
    else if (json_is_true(rl) && allow_local)
        *local = true;
    else
        e = parse(root, out, d);
    json_decref(root);
    return e;
}

/* The reader's warnings travel with the configuration (see krk_config). */
static krk_err keep_warnings(krk_err e, krk_config *out, const krk_diag *d)
{
    if (e != KRK_OK || d == NULL)
        return e;
    out->warning_count = d->warning_count < KRK_DIAG_WARNINGS ? d->warning_count
                                                               : KRK_DIAG_WARNINGS;
    for (size_t i = 0; i < out->warning_count; i++)
        memcpy(out->warnings[i], d->warnings[i], sizeof out->warnings[i]);
    return e;
}

krk_err krk_config_read(const char *path, krk_config *out, krk_diag *d)
{
    krk_diag_clear(d);
    if (path == NULL || out == NULL)
        return KRK_E_ARG;
    bool local = false;
    return keep_warnings(read_file(path, out, false, &local, d), out, d);
}

krk_err krk_config_find(const char *plugin_dir, const char *datadir, krk_config *out, krk_diag *d)
{
    krk_diag_clear(d);
    if (plugin_dir == NULL || out == NULL)
        return KRK_E_ARG;
    char path[4096];
    if (!krk_join(path, sizeof path, plugin_dir, KRK_CONFIG_NAME))
        return krk_fail(d, KRK_E_ARG, "%s: path too long", plugin_dir);
    bool local = false;
    krk_err e = read_file(path, out, true, &local, d);
    if (e != KRK_OK || !local)
        return keep_warnings(e, out, d);
    if (datadir == NULL)
        return krk_fail(d, KRK_E_CONFIG, "%s: \"read_local_config\" is true but no data "
                        "directory was given", path);
    char global[4096];
    snprintf(global, sizeof global, "%s", path);
    if (!krk_join(path, sizeof path, datadir, KRK_CONFIG_NAME))
        return krk_fail(d, KRK_E_ARG, "%s: path too long", datadir);
    e = read_file(path, out, false, &local, d);
    if (e != KRK_OK && strstr(d->error, "not found"))
        snprintf(d->error + strlen(d->error), sizeof d->error - strlen(d->error),
                 " (%s has \"read_local_config\": true)", global);
    return keep_warnings(e, out, d);
}
