/* SPDX-License-Identifier: GPL-2.0-only */
/* keyring-kmip migrate --from SOURCE --to DEST [--dry-run] [--json]
 * [--filekey SECRET|FILE:PATH]: moves keys between MySQL's
 * component_keyring_file data file (keyring-file:PATH), the KMIP keyring
 * (kmip: the one the location options name) and, as a source only,
 * MariaDB's file_key_management key file (mariadb-file:PATH).
 *
 * Safe by construction:
 * - a key the destination holds with the same type and bytes is skipped
 *   (a migration run again after an interruption goes on where it stopped);
 *   with other bytes or another type it is a conflict: reported, never
 *   overwritten, the other keys go on, the exit status is 8;
 * - writes to KMIP go through the keyring's write protocol one key at a
 *   time; a keyring file is written once, atomically (keyring_file.c), and
 *   an existing destination file keeps its keys;
 * - after writing, the destination is read again from scratch (a fresh
 *   load of the KMIP keyring, the file re-read from disk) and every key of
 *   the source is compared with it in constant time;
 * - SIGINT or SIGTERM stops after the key being written; what is done stays
 *   done and is verified, the rest is reported as not attempted.
 * Key bytes are never printed; their buffers are wiped when freed. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <jansson.h>

#include "keyring_kmip/krk.h"
#include "kmip/kmip_ttlv.h"
#include "migrate.h"

typedef enum side_kind { SIDE_KMIP, SIDE_FILE, SIDE_MARIADB } side_kind;

typedef struct side {
    side_kind kind;
    const char *path; /* files */
    const char *text; /* as given */
} side;

typedef enum outcome {
    OUT_PENDING = 0,
    OUT_MIGRATED,
    OUT_SKIPPED,
    OUT_CONFLICT,
    OUT_FAILED,
    OUT_NOT_ATTEMPTED,
} outcome;

typedef struct result {
    outcome out;
    int status; /* exit status of a failure */
    char message[512];
} result;

typedef struct mig_opts {
    side from, to;
    bool dry_run, json;
    const char *filekey;
} mig_opts;

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    stop_requested = sig;
}

static bool parse_side(const char *text, side *s, bool source)
{
    s->text = text;
    s->path = NULL;
    if (strcmp(text, "kmip") == 0) {
        s->kind = SIDE_KMIP;
        return true;
    }
    if (strncmp(text, "keyring-file:", 13) == 0 && text[13]) {
        s->kind = SIDE_FILE;
        s->path = text + 13;
        return true;
    }
    if (source && strncmp(text, "mariadb-file:", 13) == 0 && text[13]) {
        s->kind = SIDE_MARIADB;
        s->path = text + 13;
        return true;
    }
    fprintf(stderr,
            "keyring-kmip migrate: %s %s: expected kmip, keyring-file:PATH%s\n",
            source ? "--from" : "--to", text, source ? " or mariadb-file:PATH" : "");
    return false;
}

static int parse(int argc, char **argv, mig_opts *o)
{
    const char *from = NULL, *to = NULL;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            cli_help(stdout, "migrate");
            return CLI_OK;
        }
        if (strcmp(a, "--dry-run") == 0) {
            o->dry_run = true;
            continue;
        }
        if (strcmp(a, "--json") == 0) {
            o->json = true;
            continue;
        }
        const char **slot = strcmp(a, "--from") == 0      ? &from
                            : strcmp(a, "--to") == 0      ? &to
                            : strcmp(a, "--filekey") == 0 ? &o->filekey
                                                          : NULL;
        if (slot == NULL) {
            fprintf(stderr, "keyring-kmip migrate: unknown %s '%s' (keyring-kmip migrate "
                            "--help)\n",
                    a[0] == '-' ? "option" : "argument", a);
            return CLI_USAGE;
        }
        if (v == NULL) {
            fprintf(stderr, "keyring-kmip migrate: %s needs a value\n", a);
            return CLI_USAGE;
        }
        *slot = v;
        i++;
    }
    if (from == NULL || to == NULL) {
        fprintf(stderr, "keyring-kmip migrate: --from SOURCE and --to DEST are required\n");
        return CLI_USAGE;
    }
    if (!parse_side(from, &o->from, true) || !parse_side(to, &o->to, false))
        return CLI_USAGE;
    if (o->from.kind == SIDE_KMIP && o->to.kind == SIDE_KMIP) {
        fprintf(stderr, "keyring-kmip migrate: one KMIP keyring can be named; from kmip to "
                        "kmip is not a migration\n");
        return CLI_USAGE;
    }
    if (o->from.kind == SIDE_FILE && o->to.kind == SIDE_FILE &&
        strcmp(o->from.path, o->to.path) == 0) {
        fprintf(stderr, "keyring-kmip migrate: --from and --to name the same file\n");
        return CLI_USAGE;
    }
    if (o->filekey && o->from.kind != SIDE_MARIADB) {
        fprintf(stderr, "keyring-kmip migrate: --filekey is for a mariadb-file: source only\n");
        return CLI_USAGE;
    }
    return -1;
}

/* Reads a key file source (keyring-file or mariadb-file) into keys. */
static int read_source_file(const mig_opts *o, mig_keys *keys)
{
    cli_input in;
    if (!cli_read_input(o->from.path, &in))
        return CLI_BAD_INPUT;
    char why[512];
    bool ok;
    if (o->from.kind == SIDE_FILE) {
        ok = kf_parse(in.data, in.len, keys, why, sizeof why);
    } else {
        char secret[MK_MAX_SECRET + 1] = "";
        uint8_t *plain = NULL;
        size_t plain_len = 0;
        ok = (o->filekey == NULL || mk_filekey(o->filekey, secret, why, sizeof why)) &&
             mk_decrypt(in.data, in.len, secret, &plain, &plain_len, why, sizeof why) &&
             mk_parse(plain, plain_len, keys, why, sizeof why);
        kmip_secure_zero(secret, sizeof secret);
        if (plain)
            kmip_secure_free(plain, plain_len + 1);
    }
    cli_input_free(&in);
    if (!ok) {
        fprintf(stderr, "keyring-kmip migrate: %s: %s\n", o->from.path, why);
        return CLI_BAD_INPUT;
    }
    return -1;
}

/* A keyring file destination: its keys, or none when it does not exist
 * yet. A file that exists and is not a data file is never overwritten. */
static int read_dest_file(const char *path, mig_keys *keys)
{
    if (access(path, F_OK) != 0 && errno == ENOENT)
        return -1;
    cli_input in;
    if (!cli_read_input(path, &in))
        return CLI_BAD_INPUT;
    char why[512];
    bool ok = in.len == 0 || kf_parse(in.data, in.len, keys, why, sizeof why);
    cli_input_free(&in);
    if (!ok) {
        fprintf(stderr, "keyring-kmip migrate: the destination %s: %s (it is left as it is)\n",
                path, why);
        return CLI_BAD_INPUT;
    }
    return -1;
}

static const char *outcome_name(outcome o, bool dry_run)
{
    switch (o) {
    case OUT_MIGRATED:
        return dry_run ? "would migrate" : "migrated";
    case OUT_SKIPPED:
        return dry_run ? "would skip" : "skipped";
    case OUT_CONFLICT:
        return "conflict";
    case OUT_FAILED:
        return "failed";
    case OUT_NOT_ATTEMPTED:
        return "not attempted";
    default:
        return "pending";
    }
}

__attribute__((format(printf, 4, 5))) static void set(result *r, outcome out, int status,
                                                       const char *fmt, ...)
{
    r->out = out;
    r->status = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof r->message, fmt, ap);
    va_end(ap);
}

/* Compares a source key with what the destination holds. */
static void compare(const mig_key *k, const char *type, const uint8_t *data, size_t len,
                    result *r, bool verifying)
{
    if (strcmp(type, k->type) != 0) {
        char msg[64];
        snprintf(msg, sizeof msg, "%s", type);
        set(r, verifying ? OUT_FAILED : OUT_CONFLICT, verifying ? CLI_SERVER : CLI_CONFLICT,
            verifying ? "read back as type %s" : "the destination holds it as type %s", msg);
    } else if (len != k->len || !kmip_ct_equal(data, k->data, len)) {
        set(r, verifying ? OUT_FAILED : OUT_CONFLICT, verifying ? CLI_SERVER : CLI_CONFLICT,
            verifying ? "read back with other bytes%s"
                      : "the destination holds other bytes%s (left as they are)",
            "");
    }
}

static void show_progress(size_t done, size_t total)
{
    fprintf(stderr, "\rmigrating keys: %zu/%zu", done, total);
    if (done == total)
        fputs("\r\033[K", stderr);
}

/* Into a KMIP keyring: look, store, settle. */
static void to_kmip_one(mig_kmip *dst, const mig_key *k, bool dry_run, uint8_t *buf,
                        result *r)
{
    char type[16];
    size_t len = 0;
    if (k->len == 0 || k->len > KRK_MAX_KEY_BYTES) {
        char msg[96];
        snprintf(msg, sizeof msg, "%zu bytes: a KMIP keyring key is 1 to %d bytes", k->len,
                 KRK_MAX_KEY_BYTES);
        set(r, OUT_FAILED, CLI_BAD_INPUT, "%s", msg);
        return;
    }
    int e = mig_kmip_read(dst, k->data_id, k->auth_id, buf, KRK_MAX_KEY_BYTES, &len, type,
                          sizeof type);
    if (e == KRK_OK) {
        set(r, OUT_SKIPPED, CLI_OK, "%s", "");
        compare(k, type, buf, len, r, false);
    } else if (e == KRK_E_CONFLICT) {
        set(r, OUT_CONFLICT, CLI_CONFLICT, "%s", mig_kmip_error(dst));
    } else if (e != KRK_E_NOT_FOUND) {
        set(r, OUT_FAILED, mig_kmip_exit_for(e), "%s", mig_kmip_error(dst));
    } else if (dry_run) {
        set(r, OUT_MIGRATED, CLI_OK, "%s", "");
    } else if ((e = mig_kmip_store(dst, k)) == KRK_OK) {
        set(r, OUT_MIGRATED, CLI_OK, "%s", "");
    } else if (e == KRK_E_EXISTS) {
        /* another writer holds the identity: what is there now? */
        char why[512];
        snprintf(why, sizeof why, "%s", mig_kmip_error(dst));
        e = mig_kmip_read(dst, k->data_id, k->auth_id, buf, KRK_MAX_KEY_BYTES, &len, type,
                          sizeof type);
        if (e == KRK_OK) {
            set(r, OUT_SKIPPED, CLI_OK, "%s", "");
            compare(k, type, buf, len, r, false);
        } else if (strstr(why, "Pre-Active") != NULL) {
            /* a write in progress, or one killed between its Register and
             * its Activate: no one may take the key within its lease */
            set(r, OUT_FAILED, CLI_EXISTS,
                "%s (if no other writer is running, a migration was interrupted here less "
                "than 600 s ago: run it again after that; keyring-kmip check lists the object)",
                why);
        } else {
            set(r, OUT_FAILED, CLI_EXISTS, "%s", why);
        }
    } else {
        set(r, OUT_FAILED, mig_kmip_exit_for(e), "%s", mig_kmip_error(dst));
    }
    kmip_secure_zero(buf, len);
}

/* Into a keyring file (in memory: written once afterwards). */
static void to_file_one(mig_keys *dst, const mig_key *k, bool dry_run, result *r)
{
    const mig_key *have = mig_keys_find(dst, k->data_id, k->auth_id);
    if (have) {
        set(r, OUT_SKIPPED, CLI_OK, "%s", "");
        compare(k, have->type, have->data, have->len, r, false);
    } else if (dry_run || mig_keys_add(dst, k->data_id, k->auth_id, k->type, k->data, k->len)) {
        set(r, OUT_MIGRATED, CLI_OK, "%s", "");
    } else {
        set(r, OUT_FAILED, CLI_BAD_INPUT, "%s", "out of memory");
    }
}

/* Reads the destination again from scratch and compares every key that
 * should be there now (migrated or skipped). */
static int verify(const mig_opts *o, const mig_kmip_where *w, const mig_keys *src,
                  result *res)
{
    if (o->to.kind == SIDE_KMIP) {
        mig_kmip *dst;
        int rc = mig_kmip_open(w, &dst);
        if (rc >= 0)
            return rc;
        uint8_t *buf = malloc(KRK_MAX_KEY_BYTES);
        if (buf == NULL) {
            mig_kmip_close(dst);
            return CLI_BAD_INPUT;
        }
        for (size_t i = 0; i < src->count; i++) {
            if (res[i].out != OUT_MIGRATED && res[i].out != OUT_SKIPPED)
                continue;
            const mig_key *k = &src->items[i];
            char type[16];
            size_t len = 0;
            int e = mig_kmip_read(dst, k->data_id, k->auth_id, buf, KRK_MAX_KEY_BYTES, &len,
                                  type, sizeof type);
            if (e != KRK_OK)
                set(&res[i], OUT_FAILED, mig_kmip_exit_for(e), "not read back: %s",
                    mig_kmip_error(dst));
            else
                compare(k, type, buf, len, &res[i], true);
            kmip_secure_zero(buf, len);
        }
        free(buf);
        mig_kmip_close(dst);
        return -1;
    }
    mig_keys back = {0};
    int rc = read_dest_file(o->to.path, &back);
    if (rc >= 0)
        return rc;
    for (size_t i = 0; i < src->count; i++) {
        if (res[i].out != OUT_MIGRATED && res[i].out != OUT_SKIPPED)
            continue;
        const mig_key *k = &src->items[i];
        const mig_key *have = mig_keys_find(&back, k->data_id, k->auth_id);
        if (have == NULL)
            set(&res[i], OUT_FAILED, CLI_BAD_INPUT, "%s", "not in the file read back");
        else
            compare(k, have->type, have->data, have->len, &res[i], true);
    }
    mig_keys_free(&back);
    return -1;
}

static void report(const mig_opts *o, const mig_keys *src, const result *res, size_t unreadable)
{
    size_t n[OUT_NOT_ATTEMPTED + 1] = {0};
    for (size_t i = 0; i < src->count; i++)
        n[res[i].out]++;
    size_t failed = n[OUT_FAILED] + unreadable;
    if (o->json) {
        json_t *keys = json_array();
        for (size_t i = 0; keys && i < src->count; i++) {
            const mig_key *k = &src->items[i];
            json_t *e = json_pack("{s:s, s:s, s:s, s:I, s:s}", "data_id", k->data_id,
                                  "auth_id", k->auth_id, "type", k->type, "length",
                                  (json_int_t)k->len, "result",
                                  outcome_name(res[i].out, o->dry_run));
            if (e && res[i].message[0])
                json_object_set_new(e, "message", json_string(res[i].message));
            json_array_append_new(keys, e);
        }
        json_t *j = json_pack("{s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:b, s:o}", "from",
                              o->from.text, "to", o->to.text, "dry_run", o->dry_run,
                              "migrated", (json_int_t)n[OUT_MIGRATED], "skipped",
                              (json_int_t)n[OUT_SKIPPED], "conflicts",
                              (json_int_t)n[OUT_CONFLICT], "failed", (json_int_t)failed,
                              "not_attempted", (json_int_t)n[OUT_NOT_ATTEMPTED],
                              "interrupted", stop_requested != 0, "keys", keys);
        if (j) {
            json_dumpf(j, stdout, JSON_COMPACT);
            putchar('\n');
        }
        json_decref(j);
        return;
    }
    for (size_t i = 0; i < src->count; i++) {
        const mig_key *k = &src->items[i];
        FILE *f = res[i].out == OUT_CONFLICT || res[i].out == OUT_FAILED ? stderr : stdout;
        fprintf(f, "%-13s %s (auth_id \"%s\", %s, %zu bytes)%s%s\n",
                outcome_name(res[i].out, o->dry_run), k->data_id, k->auth_id, k->type, k->len,
                res[i].message[0] ? ": " : "", res[i].message);
    }
    fflush(stderr);
    printf("%s%s -> %s: %zu %s, %zu %s, %zu conflicts, %zu failed", o->dry_run ? "dry run: " : "",
           o->from.text, o->to.text, n[OUT_MIGRATED], o->dry_run ? "to migrate" : "migrated",
           n[OUT_SKIPPED], o->dry_run ? "to skip" : "skipped", n[OUT_CONFLICT], failed);
    if (n[OUT_NOT_ATTEMPTED])
        printf(", %zu not attempted (interrupted)", n[OUT_NOT_ATTEMPTED]);
    putchar('\n');
}

/* An exclusive flock on PATH.lock (created 0600 beside the file), waited
 * for; the descriptor, or -1 after saying why. */
static int lock_destination(const char *path)
{
    char lock[PATH_MAX + 8];
    if (snprintf(lock, sizeof lock, "%s.lock", path) >= (int)sizeof lock) {
        fprintf(stderr, "keyring-kmip migrate: %s: path too long\n", path);
        return -1;
    }
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        fprintf(stderr, "keyring-kmip migrate: cannot create the lock file %s: %s\n", lock,
                strerror(errno));
        return -1;
    }
    while (flock(fd, LOCK_EX) != 0) {
        if (errno == EINTR)
            continue;
        fprintf(stderr, "keyring-kmip migrate: cannot lock %s: %s\n", lock, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int cmd_migrate(int argc, char **argv, const cli_globals *g)
{
    mig_opts o;
    memset(&o, 0, sizeof o);
    int rc = parse(argc, argv, &o);
    if (rc >= 0)
        return rc;
    mig_json_wipe_allocs(); /* before anything of jansson is allocated */
    mig_kmip_where w = {0};
    cli_location loc;
    if (o.from.kind == SIDE_KMIP || o.to.kind == SIDE_KMIP) {
        if ((rc = cli_locate(g, "migrate", &loc)) >= 0)
            return rc;
        w.config = loc.config;
        w.basedir = loc.manifest_dir;
        w.plugin_dir = loc.plugin_dir.value;
        w.datadir = loc.datadir.set ? loc.datadir.value : NULL;
    } else if (cli_globals_locate(g)) {
        fprintf(stderr, "keyring-kmip migrate: the location options name the KMIP keyring; "
                        "neither --from nor --to is kmip\n");
        return CLI_USAGE;
    }
    mig_keys src = {0}, dst_file = {0};
    mig_kmip *kmip = NULL;
    int lock_fd = -1;
    size_t unreadable = 0;
    result *res = NULL;
    uint8_t *buf = NULL;
    /* the source, whole, before anything is written */
    if (o.from.kind == SIDE_KMIP) {
        rc = mig_kmip_open(&w, &kmip);
        if (rc < 0)
            rc = mig_kmip_list(kmip, &src, &unreadable);
        mig_kmip_close(kmip);
        kmip = NULL;
    } else {
        rc = read_source_file(&o, &src);
    }
    if (rc >= 0)
        goto out;
    /* the destination as it is; a destination file is locked (flock on
     * PATH.lock, kept) from this read to the end of the verification, so two
     * runs into one file take turns instead of each renaming its own merge
     * over the other's */
    if (o.to.kind == SIDE_KMIP) {
        rc = mig_kmip_open(&w, &kmip);
    } else {
        if (!o.dry_run && (lock_fd = lock_destination(o.to.path)) < 0)
            rc = CLI_BAD_INPUT;
        else
            rc = read_dest_file(o.to.path, &dst_file);
    }
    if (rc >= 0)
        goto out;
    res = calloc(src.count ? src.count : 1, sizeof *res);
    buf = malloc(KRK_MAX_KEY_BYTES);
    if (res == NULL || buf == NULL) {
        fputs("keyring-kmip migrate: out of memory\n", stderr);
        rc = CLI_BAD_INPUT;
        goto out;
    }
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    bool progress = isatty(STDERR_FILENO) && !o.json;
    for (size_t i = 0; i < src.count; i++) {
        if (stop_requested) {
            set(&res[i], OUT_NOT_ATTEMPTED, CLI_OK, "%s", "");
            continue;
        }
        if (o.to.kind == SIDE_KMIP)
            to_kmip_one(kmip, &src.items[i], o.dry_run, buf, &res[i]);
        else
            to_file_one(&dst_file, &src.items[i], o.dry_run, &res[i]);
        if (progress)
            show_progress(i + 1, src.count);
    }
    if (progress && stop_requested)
        fputs("\r\033[K", stderr);
    if (o.to.kind == SIDE_KMIP) {
        mig_kmip_close(kmip);
        kmip = NULL;
    }
    bool wrote = false;
    for (size_t i = 0; i < src.count; i++)
        wrote |= res[i].out == OUT_MIGRATED;
    if (!o.dry_run && wrote && o.to.kind == SIDE_FILE) {
        char why[1024];
        if (!kf_write(o.to.path, &dst_file, why, sizeof why)) {
            fprintf(stderr, "keyring-kmip migrate: %s\n", why);
            for (size_t i = 0; i < src.count; i++)
                if (res[i].out == OUT_MIGRATED)
                    set(&res[i], OUT_FAILED, CLI_BAD_INPUT, "%s", "the file was not written");
        }
    }
    if (!o.dry_run && (rc = verify(&o, &w, &src, res)) >= 0) {
        fputs("keyring-kmip migrate: the destination could not be read back to verify it\n",
              stderr);
        for (size_t i = 0; i < src.count; i++)
            if (res[i].out == OUT_MIGRATED || res[i].out == OUT_SKIPPED)
                set(&res[i], OUT_FAILED, rc, "%s", "not verified");
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    report(&o, &src, res, unreadable);
    rc = CLI_OK;
    for (size_t i = 0; i < src.count; i++)
        if (res[i].out == OUT_CONFLICT && rc == CLI_OK)
            rc = CLI_CONFLICT;
    for (size_t i = 0; i < src.count; i++)
        if (res[i].out == OUT_FAILED) {
            rc = res[i].status ? res[i].status : CLI_SERVER;
            break;
        }
    if (rc == CLI_OK && unreadable)
        rc = CLI_CONFLICT;
    if (stop_requested)
        rc = 128 + (int)stop_requested;
out:
    if (lock_fd >= 0)
        close(lock_fd); /* releases the flock */
    mig_kmip_close(kmip);
    kmip_secure_free(buf, buf ? KRK_MAX_KEY_BYTES : 0);
    free(res);
    mig_keys_free(&src);
    mig_keys_free(&dst_file);
    return rc;
}
