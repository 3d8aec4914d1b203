/* SPDX-License-Identifier: GPL-2.0-only */
/* MariaDB's file_key_management key file, as a migration source.
 *
 * What MariaDB does (MariaDB/server plugin/file_key_management/parser.cc),
 * and what we therefore do, in our own code:
 * - The file is read up to 1 MiB (MariaDB silently ignores the rest; we
 *   refuse a larger file rather than migrate less than the operator has).
 * - A file starting with "Salted__" (and longer than that) is OpenSSL
 *   `enc` output: 8 bytes of salt, then AES-256-CBC with PKCS#7 padding.
 *   Key (32 bytes) and IV (16 bytes) are OpenSSL's EVP_BytesToKey with
 *   SHA-1 and one round: D1 = SHA1(secret || salt), Di = SHA1(Di-1 ||
 *   secret || salt), key and IV the first 48 bytes of D1 || D2 || D3. The
 *   secret is file_key_management_filekey as a C string, or with "FILE:"
 *   the first 256 bytes of that file without trailing CR/LF. MariaDB's
 *   documented command `openssl enc -aes-256-cbc -md sha1 -k SECRET -in
 *   keys.txt -out keys.enc` makes such a file. A file that is not
 *   encrypted while a filekey is given is refused (as MariaDB does).
 * - Lines: leading white space, then '#' (comment) or the end of the line
 *   (empty), or "<id>;<hex>": id decimal 1 to 4294967295, hex digit pairs
 *   making 16, 24 or 32 bytes; the rest of the line after the key is
 *   ignored. The text ends at its first NUL byte. The last line of an id
 *   wins. Key id 1 must be present.
 * Each key is version 1 of its id (file_key_management has no versions),
 * so it becomes data_id "mariadb-<id>-1", auth_id "", type AES: the name
 * kmip_key_management reads (plugins/mariadb/kmip_key_management.c). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "kmip/kmip_ttlv.h"
#include "migrate.h"

#define SALTED "Salted__"
#define SALT_LEN 8
#define AES_KEY_LEN 32
#define AES_IV_LEN 16
#define MK_KEY_MAX 32

bool mk_decrypt(const uint8_t *in, size_t len, const char *secret, uint8_t **out,
                size_t *out_len, char *why, size_t why_cap)
{
    *out = NULL;
    *out_len = 0;
    if (len > MK_MAX_FILE) {
        snprintf(why, why_cap, "%zu bytes, more than the 1 MiB file_key_management reads", len);
        return false;
    }
    bool encrypted = len > strlen(SALTED) && memcmp(in, SALTED, strlen(SALTED)) == 0;
    if (!encrypted) {
        if (secret[0] != '\0') {
            snprintf(why, why_cap, "not encrypted, but a filekey was given (MariaDB refuses "
                                   "this too)");
            return false;
        }
        *out = malloc(len + 1);
        if (*out == NULL) {
            snprintf(why, why_cap, "out of memory");
            return false;
        }
        memcpy(*out, in, len);
        (*out)[len] = '\0';
        *out_len = len;
        return true;
    }
    size_t body = len - strlen(SALTED) - SALT_LEN;
    if (len < strlen(SALTED) + SALT_LEN + AES_IV_LEN || body % AES_IV_LEN != 0) {
        snprintf(why, why_cap, "encrypted (\"Salted__\"), but %zu bytes is not a salt and "
                               "whole AES blocks",
                 len);
        return false;
    }
    const uint8_t *salt = in + strlen(SALTED);
    uint8_t key[AES_KEY_LEN], iv[AES_IV_LEN];
    uint8_t *plain = malloc(body + AES_IV_LEN + 1);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n1 = 0, n2 = 0;
    bool ok = plain && ctx &&
              EVP_BytesToKey(EVP_aes_256_cbc(), EVP_sha1(), salt, (const uint8_t *)secret,
                             (int)strlen(secret), 1, key, iv) == AES_KEY_LEN &&
              EVP_DecryptInit_ex(ctx, EVP_aes_256_cbc(), NULL, key, iv) == 1;
    if (ok && EVP_DecryptUpdate(ctx, plain, &n1, salt + SALT_LEN, (int)body) != 1)
        ok = false;
    bool padded = ok && EVP_DecryptFinal_ex(ctx, plain + n1, &n2) == 1;
    EVP_CIPHER_CTX_free(ctx);
    kmip_secure_zero(key, sizeof key);
    kmip_secure_zero(iv, sizeof iv);
    if (!ok || !padded) {
        kmip_secure_free(plain, plain ? body + AES_IV_LEN + 1 : 0);
        snprintf(why, why_cap, !ok ? "cannot decrypt it (out of memory or OpenSSL failed)"
                               : secret[0] ? "cannot decrypt it: wrong filekey?"
                                           : "encrypted: give its filekey with --filekey");
        return false;
    }
    size_t n = (size_t)n1 + (size_t)n2;
    plain[n] = '\0';
    /* the caller frees exactly *out_len + 1 bytes: shrink by copy-wipe */
    uint8_t *exact = malloc(n + 1);
    if (exact == NULL) {
        kmip_secure_free(plain, body + AES_IV_LEN + 1);
        snprintf(why, why_cap, "out of memory");
        return false;
    }
    memcpy(exact, plain, n + 1);
    kmip_secure_free(plain, body + AES_IV_LEN + 1);
    *out = exact;
    *out_len = n;
    return true;
}

bool mk_filekey(const char *arg, char *secret, char *why, size_t why_cap)
{
    if (strncmp(arg, "FILE:", 5) != 0) {
        if (strlen(arg) > MK_MAX_SECRET) {
            snprintf(why, why_cap, "the filekey is longer than %d bytes", MK_MAX_SECRET);
            return false;
        }
        snprintf(secret, MK_MAX_SECRET + 1, "%s", arg);
        return true;
    }
    const char *path = arg + 5;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, why_cap, "%s: %s", path, strerror(errno));
        return false;
    }
    char buf[MK_MAX_SECRET + 1];
    ssize_t len = read(fd, buf, sizeof buf); /* one read, as MariaDB does */
    int saved = errno;
    close(fd);
    if (len <= 0) {
        snprintf(why, why_cap, "%s: %s", path, len < 0 ? strerror(saved) : "empty");
        return false;
    }
    while (len > 0 && (buf[len - 1] == '\r' || buf[len - 1] == '\n'))
        len--;
    if (len > MK_MAX_SECRET) {
        kmip_secure_zero(buf, sizeof buf);
        snprintf(why, why_cap, "%s: the filekey is longer than %d bytes", path, MK_MAX_SECRET);
        return false;
    }
    memcpy(secret, buf, (size_t)len);
    secret[len] = '\0';
    kmip_secure_zero(buf, sizeof buf);
    return true;
}

typedef struct mk_entry {
    unsigned int id;
    size_t line; /* later lines win */
    uint8_t key[MK_KEY_MAX];
    size_t len;
} mk_entry;

static int by_id_then_line(const void *a, const void *b)
{
    const mk_entry *x = a, *y = b;
    if (x->id != y->id)
        return x->id < y->id ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

/* One line at *pos: 0 a key (in e), 1 a comment or empty line, -1 an error
 * (why set). Moves *pos past the line. */
static int parse_line(const char *text, size_t *pos, size_t line, mk_entry *e, char *why,
                      size_t why_cap)
{
    const char *start = text + *pos, *p = start;
    int res = 1;
    while (isspace((unsigned char)*p) && *p != '\n')
        p++;
    if (*p != '#' && *p != '\n') {
        const char *what = NULL;
        unsigned long long id = 0;
        if (!isdigit((unsigned char)*p))
            what = "syntax error (a key id expected)";
        while (what == NULL && isdigit((unsigned char)*p)) {
            id = id * 10 + (unsigned)(*p - '0');
            if (id > 0xffffffffull)
                what = "invalid key id (above 4294967295)";
            else
                p++;
        }
        if (what == NULL && id < 1)
            what = "invalid key id (0)";
        if (what == NULL && *p != ';')
            what = "syntax error (';' expected after the key id)";
        if (what == NULL) {
            p++;
            e->id = (unsigned int)id;
            e->line = line;
            e->len = 0;
            while (isxdigit((unsigned char)p[0]) && isxdigit((unsigned char)p[1]) &&
                   e->len < MK_KEY_MAX) {
                e->key[e->len++] = (uint8_t)(kmip_hex_digit(p[0], 0) << 4 | kmip_hex_digit(p[1], 0));
                p += 2;
            }
            if (isxdigit((unsigned char)*p) || (e->len != 16 && e->len != 24 && e->len != 32))
                what = "invalid key (16, 24 or 32 bytes in hex expected)";
        }
        if (what) {
            kmip_secure_zero(e->key, sizeof e->key);
            snprintf(why, why_cap, "line %zu, column %zu: %s", line, (size_t)(p - start) + 1,
                     what);
            return -1;
        }
        res = 0;
    }
    while (*p && *p != '\n')
        p++;
    *pos = (size_t)(p - text) + (*p == '\n');
    return res;
}

bool mk_parse(const uint8_t *data, size_t len, mig_keys *out, char *why, size_t why_cap)
{
    /* the text ends at its first NUL, as in MariaDB's parser */
    char *text = malloc(len + 1);
    if (text == NULL) {
        snprintf(why, why_cap, "out of memory");
        return false;
    }
    memcpy(text, data, len);
    text[len] = '\0';
    mk_entry *v = NULL;
    size_t n = 0, cap = 0, pos = 0, line = 0;
    bool ok = true;
    while (ok && text[pos]) {
        mk_entry e;
        line++;
        int r = parse_line(text, &pos, line, &e, why, why_cap);
        if (r < 0) {
            ok = false;
        } else if (r == 0) {
            if (n == cap) {
                size_t c = cap ? cap * 2 : 16;
                mk_entry *nv = malloc(c * sizeof *nv);
                if (nv == NULL) {
                    snprintf(why, why_cap, "out of memory");
                    ok = false;
                } else {
                    if (n)
                        memcpy(nv, v, n * sizeof *nv);
                    kmip_secure_free(v, cap * sizeof *v);
                    v = nv;
                    cap = c;
                }
            }
            if (ok)
                v[n++] = e;
            kmip_secure_zero(&e, sizeof e);
        }
    }
    kmip_secure_free(text, len + 1);
    if (ok) {
        if (n > 1)
            qsort(v, n, sizeof *v, by_id_then_line);
        if (n == 0 || v[0].id != 1) {
            snprintf(why, why_cap, "key id 1 is missing (file_key_management refuses such a "
                                   "file)");
            ok = false;
        }
    }
    size_t first = out->count;
    for (size_t i = 0; ok && i < n; i++) {
        if (i + 1 < n && v[i + 1].id == v[i].id)
            continue; /* a later line of the same id wins */
        char data_id[40];
        snprintf(data_id, sizeof data_id, "mariadb-%u-1", v[i].id);
        if (!mig_keys_add(out, data_id, "", "AES", v[i].key, v[i].len)) {
            snprintf(why, why_cap, "out of memory");
            ok = false;
        }
    }
    kmip_secure_free(v, cap * sizeof *v);
    if (!ok) {
        for (size_t i = first; i < out->count; i++) {
            free(out->items[i].data_id);
            free(out->items[i].auth_id);
            kmip_secure_free(out->items[i].data, out->items[i].len);
        }
        out->count = first;
    }
    return ok;
}
