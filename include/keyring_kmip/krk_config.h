/* SPDX-License-Identifier: GPL-2.0-only */
/* keyring_kmip: the component's manifest and configuration files
 * (libkeyring_kmip, prefix krk_). See Percona Server's "Using the Key
 * Management Interoperability Protocol (KMIP)" and README.md ("Installation
 * and configuration").
 *
 * Every function reports problems in a krk_diag: one error (the first, with
 * the file, the key, what was expected and what was found) and any number
 * of warnings. Nothing is global. */
#ifndef KRK_CONFIG_H
#define KRK_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#if defined(__GNUC__) || defined(__clang__)
#define KRK_API __attribute__((visibility("default")))
#define KRK_MUST_CHECK __attribute__((warn_unused_result))
#else
#define KRK_API
#define KRK_MUST_CHECK
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef enum krk_err {
    KRK_OK = 0,
    KRK_E_NOMEM,
    KRK_E_ARG,
    KRK_E_NO_MANIFEST, /* no mysqld.my: no keyring is loaded (not a failure of ours) */
    KRK_E_MANIFEST,    /* a manifest exists but is wrong */
    KRK_E_CONFIG,      /* the configuration is missing or wrong */
    KRK_E_NOT_FOUND,   /* no such key */
    KRK_E_EXISTS,      /* the key exists already */
    KRK_E_TOO_BIG,     /* key or identifier larger than allowed */
    KRK_E_BUFFER,      /* a caller's buffer is too small */
    KRK_E_TYPE,        /* unknown data type */
    KRK_E_KMIP,        /* the KMIP server or the connection failed */
    KRK_E_NOT_INITIALIZED,
    KRK_E_INVALIDATED, /* an iterator after a concurrent change */
    KRK_E_TLS_IDENTITY, /* the KMIP server's identity was refused: its certificate (chain,
                           validity, CA), its name, or its TLS version */
    KRK_E_CONFLICT,    /* two objects on the server claim one key with different bytes */
    KRK_E__COUNT
} krk_err;

KRK_API const char *krk_strerror(krk_err err);

/* Log callback for messages after a keyring is open (the KMIP client's
 * warnings on reconnect, for example): level 0 error, 1 warning, 2 note.
 * Messages while opening go into the krk_diag instead. */
typedef void (*krk_log_fn)(void *ctx, int level, const char *message);

#define KRK_DIAG_WARNINGS 8

typedef struct krk_diag {
    char error[768];
    char warnings[KRK_DIAG_WARNINGS][512];
    size_t warning_count;
} krk_diag;

/* ---- manifest ---- */

#define KRK_MANIFEST_NAME "mysqld.my"
#define KRK_COMPONENT_NAME "component_keyring_kmip"

typedef struct krk_manifest {
    char path[4096];           /* the manifest that named the component */
    bool read_local;           /* the global manifest delegated to the data directory */
    char component_url[256];   /* "file://component_keyring_kmip" as written */
} krk_manifest;

/* Reads basedir/mysqld.my, and with "read_local_manifest": true
 * datadir/mysqld.my instead for "components". Succeeds only when the
 * manifest loads component_keyring_kmip and no other keyring component.
 * Errors: KRK_E_NO_MANIFEST, KRK_E_MANIFEST, KRK_E_ARG. */
KRK_API KRK_MUST_CHECK krk_err krk_manifest_read(const char *basedir, const char *datadir,
                                                 krk_manifest *out, krk_diag *diag);

/* ---- configuration ---- */

#define KRK_CONFIG_NAME "component_keyring_kmip.cnf"

typedef struct krk_config {
    char path[4096];         /* the file the settings came from */
    /* one server, or several as "a,b:5697,[::1]:5698" (the file may give a
     * JSON array); entries without a port use server_port */
    char server_addr[1024];
    unsigned server_port;
    char client_cert[4096];  /* "client_ca" in the file: the client certificate */
    char client_key[4096];
    char server_ca[4096];
    char object_group[256];  /* "" when not configured */
    unsigned timeout_ms;     /* kmip_timeout_ms, default 10000 */
    bool tls_peer_verification;     /* default true */
    bool tls_hostname_verification; /* default true */
    size_t max_objects;      /* 0: no limit; enforced while listing */
    unsigned load_timeout_ms; /* a whole open/reload, default 120000 */
    char client_key_password_file[4096]; /* "" when the key is not encrypted */
    char tls_cipher_list[1024];  /* TLS 1.2, OpenSSL syntax; "": the default policy */
    char tls_ciphersuites[512];  /* TLS 1.3; "": the default policy */
    unsigned connect_timeout_ms; /* kmip_connect_timeout_ms: one server's connect and TLS
                                    handshake, default 1000 (0 here: the default) */
    unsigned cert_warning_days;  /* cert_expiry_warning_days (0 here: the default, 14) */
    /* the warnings reading this configuration gave (a world-writable file,
     * verification turned off): krk_open and krk_reload_with repeat them in
     * their diag, so they reach the operator at every open */
    size_t warning_count;
    char warnings[KRK_DIAG_WARNINGS][512];
    /* set by the front end after reading, before krk_open (NULL: warnings
     * after open go to stderr, which is the database server's error log) */
    krk_log_fn log;
    void *log_ctx;
} krk_config;

/* Reads plugin_dir/component_keyring_kmip.cnf; with "read_local_config":
 * true there, only datadir/component_keyring_kmip.cnf is used. Relative
 * certificate and key paths are relative to the file's directory. Checks
 * every key and that the certificate files are readable PEM and that the
 * key matches the certificate. Errors: KRK_E_CONFIG, KRK_E_ARG. */
KRK_API KRK_MUST_CHECK krk_err krk_config_find(const char *plugin_dir, const char *datadir,
                                               krk_config *out, krk_diag *diag);
/* The same for one named file (no read_local_config indirection). */
KRK_API KRK_MUST_CHECK krk_err krk_config_read(const char *path, krk_config *out,
                                               krk_diag *diag);

#ifdef __cplusplus
}
#endif
#endif
