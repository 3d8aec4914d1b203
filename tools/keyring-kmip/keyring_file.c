/* SPDX-License-Identifier: GPL-2.0-only */
/* MySQL's component_keyring_file data file, read and written.
 *
 * The format (MySQL's components/keyrings/common/json_data: the reader's
 * schema version 1.0 and the writer): one JSON object
 *   {"version":"1.0","elements":[E, ...]}
 * where each element E is
 *   {"user":AUTH_ID,"data_id":DATA_ID,"data_type":TYPE,"data":HEX,"extension":[]}
 * TYPE is "AES", "RSA", "DSA" or "SECRET"; HEX the key bytes, written in
 * upper case by MySQL (read in either case). MySQL's schema requires all
 * five members; we require the first four and accept a missing extension
 * (it carries nothing in version 1.0). Members we do not know are ignored.
 * Refused, with the element's index and the member named: a version other
 * than "1.0", a missing or mistyped member, an empty or over-long data_id
 * (1024 bytes, the keyring's limit), an unknown type, hex that is not hex,
 * and two elements of one identity (which one MySQL would serve is not
 * defined; we never guess about a key). Key bytes never appear in a message
 * (jansson's own message is cut before the text it quotes). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "keyring_kmip/krk.h"
#include "kmip/kmip_ttlv.h"
#include "migrate.h"

/* Largest key a data file may hold: the input limit decides in practice. */
#define KF_MAX_KEY_BYTES ((size_t)1 << 20)

__attribute__((format(printf, 3, 5))) static bool fail(char *why, size_t cap, const char *fmt,
                                                       size_t index, ...)
{
    char what[160];
    va_list ap;
    va_start(ap, index);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(why, cap, "element %zu: %s", index, what);
    return false;
}

static bool string_member(json_t *e, const char *name, const char **out, size_t index,
                          char *why, size_t cap)
{
    json_t *v = json_object_get(e, name);
    if (v == NULL)
        return fail(why, cap, "\"%s\" is missing", index, name);
    if (!json_is_string(v))
        return fail(why, cap, "\"%s\" is not a string", index, name);
    *out = json_string_value(v);
    return true;
}

static bool parse_element(json_t *e, size_t index, mig_keys *out, char *why, size_t cap)
{
    if (!json_is_object(e))
        return fail(why, cap, "not an object", index);
    const char *user, *data_id, *type, *hex;
    if (!string_member(e, "user", &user, index, why, cap) ||
        !string_member(e, "data_id", &data_id, index, why, cap) ||
        !string_member(e, "data_type", &type, index, why, cap) ||
        !string_member(e, "data", &hex, index, why, cap))
        return false;
    json_t *ext = json_object_get(e, "extension");
    if (ext != NULL && !json_is_array(ext))
        return fail(why, cap, "\"%s\" is not an array", index, "extension");
    if (data_id[0] == '\0')
        return fail(why, cap, "\"%s\" is empty", index, "data_id");
    if (strlen(data_id) > KRK_MAX_ID_BYTES || strlen(user) > KRK_MAX_ID_BYTES)
        return fail(why, cap, "\"%s\" or \"user\" is longer than 1024 bytes", index, "data_id");
    krk_key_type t;
    if (!krk_type_parse(type, &t))
        return fail(why, cap, "\"%s\" is not AES, RSA, DSA or SECRET", index, "data_type");
    size_t hex_len = strlen(hex);
    if (hex_len % 2 != 0)
        return fail(why, cap, "\"%s\" has an odd number of hex digits", index, "data");
    if (hex_len / 2 > KF_MAX_KEY_BYTES)
        return fail(why, cap, "\"%s\" is larger than 1 MiB", index, "data");
    if (mig_keys_find(out, data_id, user) != NULL)
        return fail(why, cap, "a second key of this data_id and user (\"%s\")", index, data_id);
    size_t n = hex_len / 2, got = 0;
    uint8_t *bytes = malloc(n ? n : 1);
    if (bytes == NULL)
        return fail(why, cap, "out of memory", index);
    bool ok = kmip_hex_decode(hex, hex_len, 0, bytes, &got, NULL) && got == n;
    if (ok && !mig_keys_add(out, data_id, user, krk_type_name(t), bytes, n)) {
        kmip_secure_free(bytes, n ? n : 1);
        return fail(why, cap, "out of memory", index);
    }
    kmip_secure_free(bytes, n ? n : 1);
    if (!ok)
        return fail(why, cap, "\"%s\" is not hex", index, "data");
    return true;
}

bool kf_parse(const uint8_t *text, size_t len, mig_keys *out, char *why, size_t why_cap)
{
    json_error_t err;
    json_t *root = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, &err);
    if (root == NULL) {
        /* jansson quotes the text near the error: it may be key hex */
        char *near = strstr(err.text, " near ");
        if (near)
            *near = '\0';
        snprintf(why, why_cap, "not JSON: line %d, column %d: %s", err.line, err.column,
                 err.text);
        return false;
    }
    bool ok = false;
    json_t *version = json_object_get(root, "version");
    json_t *elements = json_object_get(root, "elements");
    if (!json_is_object(root))
        snprintf(why, why_cap, "not a JSON object");
    else if (!json_is_string(version))
        snprintf(why, why_cap, "\"version\" is missing or not a string");
    else if (strcmp(json_string_value(version), "1.0") != 0)
        snprintf(why, why_cap, "\"version\" is \"%.32s\", not \"1.0\" (the only one known)",
                 json_string_value(version));
    else if (!json_is_array(elements))
        snprintf(why, why_cap, "\"elements\" is missing or not an array");
    else if (json_array_size(elements) > KF_MAX_ELEMENTS)
        snprintf(why, why_cap, "more than %u elements", KF_MAX_ELEMENTS);
    else
        ok = true;
    size_t first = out->count;
    for (size_t i = 0; ok && i < json_array_size(elements); i++)
        ok = parse_element(json_array_get(elements, i), i, out, why, why_cap);
    json_decref(root);
    if (!ok) { /* nothing of a bad file is kept */
        for (size_t i = first; i < out->count; i++) {
            free(out->items[i].data_id);
            free(out->items[i].auth_id);
            kmip_secure_free(out->items[i].data, out->items[i].len ? out->items[i].len : 1);
        }
        out->count = first;
    }
    return ok;
}

char *kf_format(const mig_keys *keys, size_t *len)
{
    json_t *root = json_object();
    json_t *elements = json_array();
    bool ok = root && elements && json_object_set_new(root, "version", json_string("1.0")) == 0 &&
              json_object_set(root, "elements", elements) == 0;
    for (size_t i = 0; ok && i < keys->count; i++) {
        const mig_key *k = &keys->items[i];
        size_t cap = 2 * k->len + 1;
        char *hex = malloc(cap);
        ok = hex != NULL;
        if (ok) {
            kmip_hex_encode(k->data, k->len, hex);
            for (char *c = hex; *c; c++) /* MySQL writes upper case */
                *c = (char)toupper((unsigned char)*c);
        }
        json_t *e = ok ? json_object() : NULL;
        ok = e && json_object_set_new(e, "user", json_string(k->auth_id)) == 0 &&
             json_object_set_new(e, "data_id", json_string(k->data_id)) == 0 &&
             json_object_set_new(e, "data_type", json_string(k->type)) == 0 &&
             json_object_set_new(e, "data", json_string(hex)) == 0 &&
             json_object_set_new(e, "extension", json_array()) == 0 &&
             json_array_append(elements, e) == 0;
        json_decref(e);
        kmip_secure_free(hex, cap);
    }
    char *text = ok ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(elements);
    json_decref(root);
    if (text == NULL)
        return NULL;
    /* a copy the caller frees with kmip_secure_free: jansson's buffer goes
     * back through jansson's (wiping) free */
    *len = strlen(text);
    char *copy = malloc(*len + 1);
    if (copy)
        memcpy(copy, text, *len + 1);
    kmip_secure_zero(text, *len);
    json_free_t release;
    json_get_alloc_funcs(NULL, &release); /* json_dumps used jansson's allocator */
    release(text);
    return copy;
}

static bool write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

bool kf_write(const char *path, const mig_keys *keys, char *why, size_t why_cap)
{
    /* a symbolic link is followed: the file it names is replaced */
    char target[PATH_MAX];
    struct stat st;
    bool exists = stat(path, &st) == 0;
    if (exists && !S_ISREG(st.st_mode)) {
        snprintf(why, why_cap, "%s is not a regular file", path);
        return false;
    }
    if (exists && realpath(path, target) == NULL) {
        snprintf(why, why_cap, "%s: %s", path, strerror(errno));
        return false;
    }
    if (!exists)
        snprintf(target, sizeof target, "%s", path);
    char tmp[PATH_MAX + 16], dir[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", target) >= (int)sizeof tmp) {
        snprintf(why, why_cap, "%s: path too long", path);
        return false;
    }
    snprintf(dir, sizeof dir, "%s", target);
    const char *dirname_ = dirname(dir);
    size_t len = 0;
    char *text = kf_format(keys, &len);
    if (text == NULL) {
        snprintf(why, why_cap, "out of memory");
        return false;
    }
    int fd = mkstemp(tmp); /* mode 0600 */
    bool ok = fd >= 0;
    if (!ok)
        snprintf(why, why_cap, "creating a temporary file next to %s: %s", target,
                 strerror(errno));
    /* the old file's mode, but never readable or writable by others: it
     * holds keys */
    mode_t mode = exists ? (st.st_mode & 0770) : 0600;
    if (exists && (st.st_mode & 0007))
        fprintf(stderr,
                "keyring-kmip migrate: warning: %s was open to other users (mode %04o); the "
                "new file has mode %04o\n",
                target, (unsigned)(st.st_mode & 07777), (unsigned)mode);
    if (ok && exists && fchmod(fd, mode) != 0) {
        snprintf(why, why_cap, "%s: setting its mode: %s", tmp, strerror(errno));
        ok = false;
    }
    if (ok && exists && (st.st_uid != geteuid() || st.st_gid != getegid()) &&
        fchown(fd, st.st_uid, st.st_gid) != 0) {
        snprintf(why, why_cap, "%s: giving it the owner of %s: %s", tmp, target,
                 strerror(errno));
        ok = false;
    }
    if (ok && !write_all(fd, text, len)) {
        snprintf(why, why_cap, "writing %s: %s", tmp, strerror(errno));
        ok = false;
    }
    if (ok && fsync(fd) != 0) {
        snprintf(why, why_cap, "fsync of %s: %s", tmp, strerror(errno));
        ok = false;
    }
    if (fd >= 0 && close(fd) != 0 && ok) {
        snprintf(why, why_cap, "closing %s: %s", tmp, strerror(errno));
        ok = false;
    }
    kmip_secure_free(text, len + 1);
    if (ok && rename(tmp, target) != 0) {
        snprintf(why, why_cap, "renaming %s to %s: %s", tmp, target, strerror(errno));
        ok = false;
    }
    if (!ok) {
        if (fd >= 0)
            unlink(tmp);
        return false;
    }
    int dfd = open(dirname_, O_RDONLY | O_DIRECTORY);
    if (dfd < 0 || fsync(dfd) != 0) {
        snprintf(why, why_cap, "%s was written, but the fsync of its directory %s failed: %s",
                 target, dirname_, strerror(errno));
        if (dfd >= 0)
            close(dfd);
        return false;
    }
    close(dfd);
    return true;
}
