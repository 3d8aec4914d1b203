/* SPDX-License-Identifier: GPL-2.0-only */
/* keyring-kmip migrate: the keys moved between keyrings, the file formats
 * (keyring_file.c, mariadb_keyfile.c) and the KMIP keyring behind one small
 * adapter (migrate_kmip.c, over keyring_services.c). Key bytes live in buffers of their own, wiped
 * when freed (kmip_secure_free); no function here prints them. */
#ifndef KEYRING_KMIP_MIGRATE_H
#define KEYRING_KMIP_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h> /* cli.h uses FILE */

#include "cli.h"

/* One key: its identity (data_id, auth_id: auth_id "" for a key of the
 * server itself), its type ("AES", "RSA", "DSA", "SECRET") and its bytes. */
typedef struct mig_key {
    char *data_id;
    char *auth_id;
    char type[8];
    uint8_t *data; /* len bytes, kmip_secure_free(data, len) */
    size_t len;
} mig_key;

typedef struct mig_keys {
    mig_key *items;
    size_t count, cap;
} mig_keys;

/* Appends a copy of the key; false when out of memory. */
bool mig_keys_add(mig_keys *s, const char *data_id, const char *auth_id, const char *type,
                  const uint8_t *data, size_t len);
/* The key of that identity, or NULL. */
mig_key *mig_keys_find(const mig_keys *s, const char *data_id, const char *auth_id);
/* Wipes every key's bytes and frees everything; s is empty afterwards. */
void mig_keys_free(mig_keys *s);

/* Sends jansson's allocations through wiping functions (the JSON of a
 * keyring file holds key material in hex). Process-wide: called once, before
 * anything of jansson is used. */
void mig_json_wipe_allocs(void);

/* ---- component_keyring_file data file (keyring_file.c) ---- */

/* Most elements a data file may have. */
#define KF_MAX_ELEMENTS 1000000u

/* Parses MySQL's component_keyring_file JSON:
 *   {"version":"1.0","elements":[{"user":"...","data_id":"...",
 *    "data_type":"AES|RSA|DSA|SECRET","data":"<hex>","extension":[]}, ...]}
 * into out (appended). On a malformed file returns false with why naming
 * the element index and field (never a key byte); out is then left empty. */
bool kf_parse(const uint8_t *text, size_t len, mig_keys *out, char *why, size_t why_cap);
/* The data file's JSON text for keys (a fresh, NUL-terminated buffer of
 * *len bytes, freed with kmip_secure_free(text, *len + 1)); NULL when out
 * of memory. Hex in upper case, as MySQL writes it. */
char *kf_format(const mig_keys *keys, size_t *len);
/* Writes keys to path atomically: a temporary file in the same directory
 * (mode of the existing file, else 0600), fsync, rename over path, fsync of
 * the directory. Never leaves a partial file at path. */
bool kf_write(const char *path, const mig_keys *keys, char *why, size_t why_cap);

/* ---- MariaDB file_key_management key file (mariadb_keyfile.c) ---- */

/* file_key_management's limits. */
#define MK_MAX_FILE ((size_t)1 << 20)
#define MK_MAX_SECRET 256

/* Decrypts an OpenSSL `enc` file ("Salted__", 8-byte salt, AES-256-CBC with
 * key and IV from EVP_BytesToKey(SHA-1, one round) of secret and salt, as
 * MariaDB does) into a fresh buffer (*out, *out_len; kmip_secure_free(*out,
 * *out_len + 1), NUL-terminated). A file that is not encrypted is copied
 * when secret is empty, refused otherwise (MariaDB refuses it too). */
bool mk_decrypt(const uint8_t *in, size_t len, const char *secret, uint8_t **out,
                size_t *out_len, char *why, size_t why_cap);
/* Parses the (decrypted) key file as file_key_management does: lines
 * "<id>;<hex key>" (id 1 to 4294967295, key 16, 24 or 32 bytes), '#'
 * comments and empty lines; the last line of an id wins; key id 1 must be
 * there. Each key becomes data_id "mariadb-<id>-1" (version 1, the layout
 * of kmip_key_management), auth_id "", type AES. why names the line and
 * column, never a key byte. */
bool mk_parse(const uint8_t *text, size_t len, mig_keys *out, char *why, size_t why_cap);
/* --filekey: SECRET, or FILE:PATH (the file's text without trailing CR/LF,
 * at most 256 bytes), into secret (MK_MAX_SECRET + 1 bytes). */
bool mk_filekey(const char *arg, char *secret, char *why, size_t why_cap);

/* ---- the KMIP keyring (migrate_kmip.c) ---- */

typedef struct mig_kmip mig_kmip;

/* Where the KMIP keyring is: the global options, resolved (cli_locate). */
typedef struct mig_kmip_where {
    const char *config;
    const char *basedir, *plugin_dir, *datadir;
} mig_kmip_where;

/* Opens the keyring (loading every key); returns -1 when open, else the
 * exit status after a message on stderr. */
int mig_kmip_open(const mig_kmip_where *w, mig_kmip **out);
/* Every key of the keyring into out; keys that cannot be read (in
 * conflict on the server) are counted in *unreadable and named on stderr.
 * Returns -1 or an exit status. */
int mig_kmip_list(mig_kmip *k, mig_keys *out, size_t *unreadable);
/* Reads one key: KRK_OK with data (cap KRK_MAX_KEY_BYTES), *len and type,
 * KRK_E_NOT_FOUND, or an error (mig_kmip_error says why). */
int mig_kmip_read(mig_kmip *k, const char *data_id, const char *auth_id, uint8_t *data,
                  size_t cap, size_t *len, char *type, size_t type_cap);
/* Stores a key with the keyring's write protocol (one object per
 * identity). KRK_E_EXISTS when another object holds the identity. */
int mig_kmip_store(mig_kmip *k, const mig_key *key);
/* The message of the last failed call. */
const char *mig_kmip_error(mig_kmip *k);
/* The exit status for a keyring error code (ks_exit_for; a key the
 * destination holds with other bytes is CLI_CONFLICT). */
int mig_kmip_exit_for(int err);
void mig_kmip_close(mig_kmip *k);

int cmd_migrate(int argc, char **argv, const cli_globals *g);

#endif
