/* SPDX-License-Identifier: GPL-2.0-only */
#include "diag.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "kmip/kmip_client.h"

static const char *const messages[KRK_E__COUNT] = {
    [KRK_OK] = "success",
    [KRK_E_NOMEM] = "out of memory",
    [KRK_E_ARG] = "invalid argument",
    [KRK_E_NO_MANIFEST] = "no manifest: no keyring component is loaded",
    [KRK_E_MANIFEST] = "invalid manifest",
    [KRK_E_CONFIG] = "invalid keyring configuration",
    [KRK_E_NOT_FOUND] = "no such key",
    [KRK_E_EXISTS] = "the key exists already",
    [KRK_E_TOO_BIG] = "key or identifier too large",
    [KRK_E_BUFFER] = "buffer too small",
    [KRK_E_TYPE] = "unknown key type (AES, RSA, DSA or SECRET)",
    [KRK_E_KMIP] = "KMIP server or connection failure",
    [KRK_E_NOT_INITIALIZED] = "the keyring is not initialized",
    [KRK_E_INVALIDATED] = "the keyring changed: iterator invalidated",
    [KRK_E_TLS_IDENTITY] = "the KMIP server's identity was refused (certificate, name, TLS)",
    /* one literal: clang's -Wstring-concatenation (fuzz build) */
    [KRK_E_CONFLICT] = "two objects on the KMIP server hold this key with different bytes: it is not served until an operator resolves the conflict",
};

const char *krk_strerror(krk_err err)
{
    if ((unsigned)err >= (unsigned)KRK_E__COUNT)
        return "unknown error";
    return messages[err];
}

krk_err krk_fail(krk_diag *d, krk_err code, const char *fmt, ...)
{
    if (d && d->error[0] == '\0') {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(d->error, sizeof d->error, fmt, ap);
        va_end(ap);
    }
    return code;
}

void krk_warn(krk_diag *d, const char *fmt, ...)
{
    if (d == NULL || d->warning_count >= KRK_DIAG_WARNINGS)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->warnings[d->warning_count++], sizeof d->warnings[0], fmt, ap);
    va_end(ap);
}

void krk_diag_clear(krk_diag *d)
{
    if (d)
        memset(d, 0, sizeof *d);
}

const char *krk_json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

bool krk_join(char *out, size_t cap, const char *dir, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);
    return n > 0 && (size_t)n < cap;
}

#define MAX_JSON_BYTES ((size_t)1 << 20)

krk_err krk_json_load(const char *path, krk_err code, const char *what, json_t **out,
                      bool *missing, krk_diag *d)
{
    *out = NULL;
    *missing = false;
    /* read once through a checked descriptor: what is checked is what is
     * parsed, and a FIFO or device never blocks the caller */
    kmip_file f;
    char why[600];
    if (kmip_file_read(path, MAX_JSON_BYTES, &f, why, sizeof why) != KMIP_CLIENT_OK) {
        if (f.error == ENOENT) {
            *missing = true;
            return krk_fail(d, code, "%s: %s not found", path, what);
        }
        if (f.error)
            return krk_fail(d, code, "%s: cannot read the %s: %s", path, what, strerror(f.error));
        return krk_fail(d, code, "%s: the %s cannot be used: %s", path, what, why);
    }
    if (f.mode & S_IWOTH)
        krk_warn(d, "%s: the %s is writable by other users; make it writable by its owner only",
                 path, what);
    if (f.len >= 3 && memcmp(f.data, "\xEF\xBB\xBF", 3) == 0) {
        kmip_file_free(&f);
        return krk_fail(d, code, "%s: the %s starts with a UTF-8 byte order mark (BOM): save it "
                        "as UTF-8 without a BOM", path, what);
    }
    json_error_t e;
    json_t *root = json_loadb((const char *)f.data, f.len, JSON_REJECT_DUPLICATES, &e);
    kmip_file_free(&f);
    if (root == NULL) {
        if (e.line < 1)
            return krk_fail(d, code, "%s: cannot read the %s: %s", path, what, e.text);
        return krk_fail(d, code, "%s:%d:%d: JSON syntax error: %s", path, e.line, e.column,
                        e.text);
    }
    if (!json_is_object(root)) {
        krk_err r = krk_fail(d, code, "%s: the %s must be a JSON object, found %s", path, what,
                             krk_json_kind(root));
        json_decref(root);
        return r;
    }
    *out = root;
    return KRK_OK;
}
