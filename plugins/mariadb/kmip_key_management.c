/* SPDX-License-Identifier: GPL-2.0-only */
/* kmip_key_management: a MariaDB encryption plugin keeping its keys in a
 * KMIP server, through the keyring library (libkeyring_kmip).
 *
 * Every MariaDB key id and version is its own KMIP Symmetric Key (AES-256,
 * Active), named "mariadb-<id>-<version>" in the configured object group
 * (the keyring's layout: Name = that data_id, plus our Application
 * Specific Information). Versions start at 1 and are never destroyed by the
 * plugin: redo logs, binlogs, backups and pages not yet re-encrypted keep
 * old versions alive.
 *
 * get_latest_key_version and get_key answer from memory without a lock:
 * the keyring's cache (lock-free readers, krk_reader_init) and a table of
 * latest versions (any number of key ids) published under a sequence
 * counter that readers only read (a seqlock: a reader that overlaps an
 * update reads again). A version not in memory
 * (rotated by another server sharing the object group) is fetched alone
 * (krk_lookup: its own client, bounded, never a reload in the caller's
 * thread); a periodic refresh fetches only versions not held yet
 * (krk_refresh). Rotation creates the next version with the keyring's
 * write protocol: when another server made that version at the same time
 * exactly one wins, the other reports "another server rotated at the same
 * time: retry" and takes the winner's version. Deactivated versions are
 * read, never chosen for new encryption. Encryption is MariaDB's own AES
 * (its my_crypt service) in the mode file_key_management uses for the same
 * setting, so that data written under file_key_management stays readable
 * after the switch: kmip_key_management_encryption_algorithm = aes_cbc (the
 * default, MariaDB's built-in choice) or aes_ctr (AES-CTR for unpadded
 * data, AES-GCM otherwise, exactly as file_key_management's aes_ctr). */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Debian's MariaDB is built with OpenSSL, which has AES-CTR and AES-GCM: its
 * my_config.h defines these, and the server's enum my_aes_mode (MY_AES_ECB,
 * MY_AES_CBC, MY_AES_CTR, MY_AES_GCM) has those members only when they are
 * defined, so ours must say so too to get the same numbers. */
#define HAVE_EncryptAes128Ctr 1
#define HAVE_EncryptAes128Gcm 1
#include <mysql/plugin_encryption.h>

#include "keyring_kmip/krk.h"

#define KEY_BYTES 32
#define ER_UNKNOWN 1105 /* ER_UNKNOWN_ERROR */

/* ---- system variables (kmip_key_management_*) ---- */

static char *server_addr, *client_cert, *client_key, *server_ca, *object_group;
static unsigned int server_port, timeout_ms, refresh_seconds;
static char tls_peer_verification, tls_hostname_verification, create_key_1;
static int rotate_key;

/* ---- state ---- */

typedef struct version_entry {
    unsigned int id;
    unsigned int latest;
} version_entry;

static krk_keyring *keyring;
static krk_config config; /* built from the system variables at startup */
/* The table's writers' copy (rebuild, rotation's snapshot), under its lock. */
static pthread_mutex_t versions_lock = PTHREAD_MUTEX_INITIALIZER;
static version_entry *versions; /* any number of key ids */
static size_t version_count, version_cap;

/* What readers see: a mirror of the table under a sequence counter (odd
 * while an update runs). Every field is atomic, so a reader racing an
 * update reads stale or mixed values, sees the counter changed and reads
 * again. The mirror is a hash table on the key id (open addressing, linear
 * probing, at most half full, latest 0 = an empty entry: versions start at
 * 1), so a lookup costs the same with 1 or 10,000 key ids (a scan of every
 * id cost 44 ns at 100 ids). An array outgrown is kept (on the retired
 * list, freed at deinit: a reader may still be reading it; growth doubles,
 * so the retired arrays together are smaller than the live one). */
typedef struct live_entry {
    _Atomic unsigned int id, latest;
} live_entry;
typedef struct live_array {
    struct live_array *retired_next;
    size_t cap;     /* a power of two, at least twice the ids */
    unsigned shift; /* 32 - log2(cap): the hash's top bits pick the entry */
    live_entry e[];
} live_array;

static size_t live_home(const live_array *a, unsigned int id)
{
    return (size_t)((uint32_t)(id * 2654435761u) >> a->shift); /* Fibonacci hashing */
}

/* Puts (v, n) into a, which is empty (entries 0). */
static void live_fill(live_array *a, const version_entry *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t at = live_home(a, v[i].id);
        while (atomic_load_explicit(&a->e[at].latest, memory_order_relaxed) != 0)
            at = (at + 1) & (a->cap - 1);
        atomic_store_explicit(&a->e[at].id, v[i].id, memory_order_relaxed);
        atomic_store_explicit(&a->e[at].latest, v[i].latest, memory_order_relaxed);
    }
}
/* What get_latest_key_version reads on every call, in a cache line of its
 * own: nothing written more often than a publication may share it (a
 * store to the line from another core, of anything, is a cache miss for
 * every reader). */
static struct {
    _Atomic unsigned long seq;
    live_array *_Atomic array;
    _Atomic size_t count;
} __attribute__((aligned(64))) live_view;
static live_array *retired;
static pthread_mutex_t write_lock = PTHREAD_MUTEX_INITIALIZER; /* rotation, reload */
static pthread_t refresher;
static pthread_mutex_t refresh_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t refresh_cond = PTHREAD_COND_INITIALIZER;
static int refresher_running, stopping;
/* for the status variables (atomics: SHOW STATUS reads them in any thread) */
static long long last_refresh;             /* Unix seconds of the last successful refresh */
static unsigned long long refresh_failures; /* refreshes that failed */

static void log_error(const char *fmt, const char *detail)
{
    my_printf_error(ER_UNKNOWN, fmt, ME_ERROR_LOG, detail);
}

/* The keyring's messages after open (the KMIP client's warnings when it
 * reconnects): MariaDB's error log. */
static void log_to_server(void *ctx, int level, const char *message)
{
    (void)ctx;
    if (level <= 1)
        my_printf_error(ER_UNKNOWN, "kmip_key_management: %s",
                        ME_ERROR_LOG | (level == 1 ? ME_WARNING : 0), message);
}

static char *put_decimal(char *p, unsigned int v)
{
    char digits[10];
    int n = 0;
    do
        digits[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    while (n > 0)
        *p++ = digits[--n];
    return p;
}

/* "mariadb-<id>-<version>" (on the hot path of get_key: not snprintf,
 * which costs as much as the rest of the read). cap is at least 30. */
static void data_id_of(unsigned int id, unsigned int version, char *out, size_t cap)
{
    (void)cap;
    memcpy(out, "mariadb-", 8);
    char *p = put_decimal(out + 8, id);
    *p++ = '-';
    p = put_decimal(p, version);
    *p = '\0';
}

/* A decimal number as data_id_of writes it: digits only, no sign, no
 * leading zero, below UINT_MAX; *end after it. */
static int parse_number(const char *s, const char **end, unsigned int *out)
{
    if (s[0] < '0' || s[0] > '9' || (s[0] == '0' && s[1] >= '0' && s[1] <= '9'))
        return 0;
    unsigned long long v = 0;
    const char *p = s;
    for (; *p >= '0' && *p <= '9'; p++) {
        v = v * 10 + (unsigned)(*p - '0');
        if (v >= UINT_MAX)
            return 0;
    }
    *end = p;
    *out = (unsigned int)v;
    return 1;
}

/* "mariadb-<id>-<version>" exactly as data_id_of writes it (round trip
 * checked): a non-canonical name (mariadb-1-02) or a version that is
 * ENCRYPTION_KEY_VERSION_INVALID (mariadb-1-4294967295) is not a key of
 * ours. */
static int parse_data_id(const char *s, unsigned int *id, unsigned int *version)
{
    const char *p;
    if (strncmp(s, "mariadb-", 8) != 0 || !parse_number(s + 8, &p, id) || *p != '-' ||
        !parse_number(p + 1, &p, version) || *p != '\0' || *version == 0 ||
        *version == ENCRYPTION_KEY_VERSION_INVALID)
        return 0;
    char back[64];
    data_id_of(*id, *version, back, sizeof back);
    return strcmp(back, s) == 0;
}

typedef struct version_table {
    version_entry *v;
    size_t n, cap;
    unsigned int *active; /* per entry: the latest Active version, 0: none */
} version_table;

static version_entry *table_entry(version_table *t, unsigned int id)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->v[i].id == id)
            return &t->v[i];
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        version_entry *v = realloc(t->v, cap * sizeof *v);
        unsigned int *a = v ? realloc(t->active, cap * sizeof *a) : NULL;
        if (v)
            t->v = v;
        if (a == NULL)
            return NULL;
        t->active = a;
        t->cap = cap;
    }
    t->active[t->n] = 0;
    t->v[t->n] = (version_entry){id, 0};
    return &t->v[t->n++];
}

/* Copies a table that is to become the writers' (v, n) to the readers'
 * mirror (versions_lock held). False, with the readers' table as it was,
 * when out of memory: the caller then keeps its old table too, so that
 * rotation computes the next version from what readers see (review of
 * issue 17, F11). */
static bool publish_versions(const version_entry *v, size_t n_new)
{
    live_array *a = atomic_load_explicit(&live_view.array, memory_order_relaxed);
    if (a == NULL || a->cap < 2 * n_new) {
        size_t cap = 64;
        unsigned bits = 6;
        while (cap < 2 * n_new && bits < 31) {
            cap *= 2;
            bits++;
        }
        live_array *b = cap >= 2 * n_new ? calloc(1, sizeof *b + cap * sizeof b->e[0]) : NULL;
        if (b == NULL) {
            log_error("kmip_key_management: %s", "out of memory publishing key versions");
            return false; /* readers keep the previous table */
        }
        b->cap = cap;
        b->shift = 32 - bits;
        live_fill(b, v, n_new); /* whole before any reader can see it */
        if (a) {
            a->retired_next = retired;
            retired = a;
        }
        atomic_fetch_add_explicit(&live_view.seq, 1, memory_order_acq_rel);
        atomic_thread_fence(memory_order_release); /* as below */
        atomic_store_explicit(&live_view.array, b, memory_order_release);
        atomic_store_explicit(&live_view.count, n_new, memory_order_relaxed);
        atomic_fetch_add_explicit(&live_view.seq, 1, memory_order_release);
        return true;
    }
    atomic_fetch_add_explicit(&live_view.seq, 1, memory_order_acq_rel); /* odd: updating */
    /* the entry stores below must not become visible before the odd count
     * (a release RMW orders only what precedes it: on ARMv8 and POWER a
     * reader could see a new id with an old latest between two equal even
     * counts; Boehm's seqlock writer, Linux's write_seqcount_begin) */
    atomic_thread_fence(memory_order_release);
    for (size_t i = 0; i < a->cap; i++)
        atomic_store_explicit(&a->e[i].latest, 0, memory_order_relaxed);
    live_fill(a, v, n_new);
    atomic_store_explicit(&live_view.count, n_new, memory_order_relaxed);
    atomic_fetch_add_explicit(&live_view.seq, 1, memory_order_release); /* even: stable */
    return true;
}

/* Rebuilds the table of latest versions from the keyring's keys: the
 * latest Active version of each key id (a Deactivated or Compromised
 * version stays readable but is never chosen for new encryption; only
 * when a key id has no Active version left is its highest one kept). */
static pthread_mutex_t rebuild_lock = PTHREAD_MUTEX_INITIALIZER;

static bool rebuild_versions_locked(void);

/* Rebuilds are serialized, snapshot and publication together: two of them
 * (get_key's lookup on one InnoDB thread, a rotation or the refresh on
 * another) would otherwise publish in any order, the older snapshot last,
 * and key ids' latest versions would go back after a rotation (review of
 * issue 17, F13). Lock order: the plugin's write_lock, rebuild_lock, the
 * keyring's lock, versions_lock. */
static void rebuild_versions(void)
{
    pthread_mutex_lock(&rebuild_lock);
    bool done = false;
    for (int attempt = 0; attempt < 8 && !done; attempt++)
        done = rebuild_versions_locked();
    if (!done)
        log_error("kmip_key_management: %s", "the keys kept changing while the table of latest "
                  "versions was rebuilt: it stays as it was until the next change");
    pthread_mutex_unlock(&rebuild_lock);
}

/* False when the keyring changed during the snapshot (a key added by a
 * lookup on another thread invalidates the iterator): nothing is
 * published, since a partial snapshot would lower latest versions. */
static bool rebuild_versions_locked(void)
{
    version_table t = {NULL, 0, 0, NULL};
    krk_iter *it;
    if (krk_iter_init(keyring, &it) != KRK_OK)
        return true; /* not initialized or no memory: nothing to retry */
    int failed = 0;
    krk_err end = KRK_OK;
    for (bool more = krk_iter_is_valid(it); more;
         more = (end = krk_iter_next(it)) == KRK_OK && krk_iter_is_valid(it)) {
        char d[KRK_MAX_ID_BYTES + 1], a[KRK_MAX_ID_BYTES + 1];
        unsigned int id, version;
        krk_key_state st;
        if (krk_iter_get(it, d, sizeof d, a, sizeof a) != KRK_OK || a[0] != '\0' ||
            !parse_data_id(d, &id, &version) || krk_iter_get_state(it, &st) != KRK_OK ||
            st == KRK_KEY_CONFLICT)
            continue;
        version_entry *e = table_entry(&t, id);
        if (e == NULL) {
            failed = 1;
            break;
        }
        if (e->latest < version)
            e->latest = version;
        size_t i = (size_t)(e - t.v);
        if (st == KRK_KEY_ACTIVE && t.active[i] < version)
            t.active[i] = version;
    }
    if (end == KRK_OK && !krk_iter_is_valid(it) && krk_iter_next(it) == KRK_E_INVALIDATED)
        end = KRK_E_INVALIDATED; /* changed before the first key or after the last */
    krk_iter_deinit(it);
    if (end == KRK_E_INVALIDATED) {
        free(t.v);
        free(t.active);
        return false;
    }
    if (failed) {
        log_error("kmip_key_management: %s", "out of memory listing key versions");
        free(t.v);
        free(t.active);
        return true;
    }
    for (size_t i = 0; i < t.n; i++)
        if (t.active[i])
            t.v[i].latest = t.active[i];
    pthread_mutex_lock(&versions_lock);
    /* Never forget a key id: InnoDB aborts on ENCRYPTION_KEY_VERSION_INVALID
     * for a key it has used. */
    for (size_t i = 0; i < version_count && !failed; i++) {
        size_t k = 0;
        while (k < t.n && t.v[k].id != versions[i].id)
            k++;
        if (k == t.n) {
            version_entry *e = table_entry(&t, versions[i].id);
            if (e)
                e->latest = versions[i].latest;
            else
                failed = 1;
        }
    }
    if (!failed && publish_versions(t.v, t.n)) {
        free(versions);
        versions = t.v;
        version_count = t.n;
        version_cap = t.cap;
        t.v = NULL;
    }
    pthread_mutex_unlock(&versions_lock);
    free(t.v);
    free(t.active);
    return true;
}

/* The hot path: no lock, no store to shared memory. */
static unsigned int latest_of(unsigned int id)
{
    for (unsigned spins = 0;; spins++) {
        unsigned long before = atomic_load_explicit(&live_view.seq, memory_order_acquire);
        if (before & 1) { /* an update is running: it is short */
            if (spins > 100)
                sched_yield(); /* unless its thread was preempted */
            continue;
        }
        unsigned int v = ENCRYPTION_KEY_VERSION_INVALID;
        live_array *a = atomic_load_explicit(&live_view.array, memory_order_acquire);
        /* bounded by cap even when torn by an update (then retried) */
        for (size_t i = 0, at = a ? live_home(a, id) : 0; a && i < a->cap; i++) {
            unsigned int latest = atomic_load_explicit(&a->e[at].latest, memory_order_relaxed);
            if (latest == 0)
                break; /* an empty entry: not there */
            if (atomic_load_explicit(&a->e[at].id, memory_order_relaxed) == id) {
                v = latest;
                break;
            }
            at = (at + 1) & (a->cap - 1);
        }
        atomic_thread_fence(memory_order_acquire); /* the reads above before the check */
        if (atomic_load_explicit(&live_view.seq, memory_order_relaxed) == before)
            return v;
    }
}

/* Reads the versions made elsewhere (other servers sharing the group): a
 * Locate, and Gets only of objects not held yet. On failure the keys in
 * memory stay in service. */
static int refresh(void)
{
    krk_diag d;
    int ok = krk_refresh(keyring, NULL, &d) == KRK_OK;
    for (size_t i = 0; i < d.warning_count && i < KRK_DIAG_WARNINGS; i++)
        my_printf_error(ER_UNKNOWN, "kmip_key_management: %s", ME_ERROR_LOG | ME_WARNING,
                        d.warnings[i]);
    if (ok)
        __atomic_store_n(&last_refresh, (long long)time(NULL), __ATOMIC_RELAXED);
    else
        __atomic_add_fetch(&refresh_failures, 1, __ATOMIC_RELAXED);
    if (ok)
        rebuild_versions();
    else
        log_error("kmip_key_management: refreshing keys from the KMIP server failed; the keys "
                  "in memory stay in service: %s", d.error);
    return ok;
}

/* ---- the encryption plugin interface ---- */

static unsigned int get_latest_key_version(unsigned int key_id)
{
    return latest_of(key_id);
}

static unsigned int fetch(unsigned int key_id, unsigned int version, unsigned char *key,
                          unsigned int *key_length)
{
    char id[64];
    data_id_of(key_id, version, id, sizeof id);
    krk_reader *r;
    if (krk_reader_init(keyring, id, "", &r) != KRK_OK)
        return ENCRYPTION_KEY_VERSION_INVALID;
    size_t len, tl;
    krk_reader_fetch_length(r, &len, &tl);
    unsigned int rc = 0;
    if (key == NULL || *key_length < len) {
        rc = ENCRYPTION_KEY_BUFFER_TOO_SMALL;
    } else {
        char type[16];
        if (krk_reader_fetch(r, key, *key_length, &len, type, sizeof type, &tl) != KRK_OK)
            rc = ENCRYPTION_KEY_VERSION_INVALID;
    }
    *key_length = (unsigned int)len;
    krk_reader_deinit(r);
    return rc;
}

static unsigned int get_key(unsigned int key_id, unsigned int version, unsigned char *key,
                            unsigned int *key_length)
{
    if (version == 0 || version == ENCRYPTION_KEY_VERSION_INVALID)
        return ENCRYPTION_KEY_VERSION_INVALID;
    unsigned int rc = fetch(key_id, version, key, key_length);
    if (rc != ENCRYPTION_KEY_VERSION_INVALID)
        return rc;
    /* not in memory: perhaps made by another server sharing the group. One
     * bounded lookup of this key alone (its own client: no reload in this
     * thread, no wait for rotations or the refresh) */
    char id[64];
    data_id_of(key_id, version, id, sizeof id);
    krk_err e = krk_lookup(keyring, id, "");
    if (e != KRK_OK) {
        if (e != KRK_E_NOT_FOUND)
            log_error("kmip_key_management: %s", krk_last_error(keyring));
        return ENCRYPTION_KEY_VERSION_INVALID;
    }
    rebuild_versions();
    return fetch(key_id, version, key, key_length);
}

/* Creates version `version` of key `id` on the KMIP server (server-side
 * AES-256). Returns 0 or an error message in `why`. */
static int create_version(unsigned int id, unsigned int version, char *why, size_t cap)
{
    char data_id[64];
    data_id_of(id, version, data_id, sizeof data_id);
    krk_err e = krk_generate(keyring, data_id, "", "AES", KEY_BYTES);
    if (e == KRK_E_EXISTS) {
        /* the write protocol saw another object of this version: another
         * server rotated at the same time (its key is adopted here once
         * Active); nothing of ours is left on the server */
        snprintf(why, cap, "another server rotated key %u to version %u at the same time: retry "
                 "(%s)", id, version, krk_last_error(keyring));
        return 1;
    }
    if (e != KRK_OK) {
        snprintf(why, cap, "%s", krk_last_error(keyring));
        return 1;
    }
    return 0;
}

static int rotate_one(unsigned int id, char *why, size_t cap)
{
    unsigned int latest = latest_of(id);
    unsigned int next = latest == ENCRYPTION_KEY_VERSION_INVALID ? 1 : latest + 1;
    if (next == ENCRYPTION_KEY_VERSION_INVALID) {
        snprintf(why, cap, "key %u has no version left", id);
        return 1;
    }
    int failed = create_version(id, next, why, cap);
    rebuild_versions(); /* also after a lost race: the other server's version */
    return failed;
}

/* SET GLOBAL kmip_key_management_rotate_key = <id> | -1: checked (and done)
 * in the check function so that a failure is an SQL error with the reason,
 * and nothing changes. */
static int check_rotate(MYSQL_THD thd, struct st_mysql_sys_var *var, void *save,
                        struct st_mysql_value *value)
{
    (void)thd;
    (void)var;
    long long v;
    if (value->val_int(value, &v) != 0 || v < -1 || v > UINT_MAX || v == 0) {
        my_printf_error(ER_UNKNOWN, "kmip_key_management_rotate_key takes a key id or -1", 0);
        return 1;
    }
    char why[768] = "";
    int failed = 0;
    pthread_mutex_lock(&write_lock);
    if (v == -1) {
        pthread_mutex_lock(&versions_lock);
        size_t n = version_count;
        version_entry *snapshot = malloc((n ? n : 1) * sizeof *snapshot);
        if (snapshot)
            memcpy(snapshot, versions, n * sizeof *snapshot);
        pthread_mutex_unlock(&versions_lock);
        if (snapshot == NULL) {
            snprintf(why, sizeof why, "out of memory");
            failed = 1;
        }
        for (size_t i = 0; snapshot && i < n && !failed; i++)
            failed = rotate_one(snapshot[i].id, why, sizeof why);
        free(snapshot);
    } else {
        failed = rotate_one((unsigned int)v, why, sizeof why);
    }
    pthread_mutex_unlock(&write_lock);
    if (failed) {
        my_printf_error(ER_UNKNOWN, "kmip_key_management: key rotation failed: %s", 0, why);
        return 1;
    }
    *(int *)save = (int)v;
    return 0;
}

static void update_rotate(MYSQL_THD thd, struct st_mysql_sys_var *var, void *ptr,
                          const void *save)
{
    (void)thd;
    (void)var;
    (void)ptr;
    (void)save;
    rotate_key = 0; /* an action, not a setting */
}

static void *refresh_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&refresh_lock);
    while (!stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += refresh_seconds;
        int r = pthread_cond_timedwait(&refresh_cond, &refresh_lock, &until);
        if (stopping)
            break;
        if (r == ETIMEDOUT) {
            pthread_mutex_unlock(&refresh_lock);
            pthread_mutex_lock(&write_lock);
            refresh();
            pthread_mutex_unlock(&write_lock);
            pthread_mutex_lock(&refresh_lock);
        }
    }
    pthread_mutex_unlock(&refresh_lock);
    return NULL;
}

/* ---- startup and shutdown ---- */

static int copy_setting(char *dst, size_t cap, const char *value, const char *name)
{
    if (value == NULL || value[0] == '\0' || strlen(value) >= cap) {
        my_printf_error(ER_UNKNOWN, "kmip_key_management: kmip_key_management_%s must be set",
                        ME_ERROR_LOG, name);
        return 1;
    }
    snprintf(dst, cap, "%s", value);
    return 0;
}

static int build_config(void)
{
    memset(&config, 0, sizeof config);
    snprintf(config.path, sizeof config.path, "(system variables kmip_key_management_*)");
    if (copy_setting(config.server_addr, sizeof config.server_addr, server_addr, "server_addr") ||
        copy_setting(config.client_cert, sizeof config.client_cert, client_cert, "client_cert") ||
        copy_setting(config.client_key, sizeof config.client_key, client_key, "client_key") ||
        copy_setting(config.server_ca, sizeof config.server_ca, server_ca, "server_ca"))
        return 1;
    if (object_group && object_group[0])
        snprintf(config.object_group, sizeof config.object_group, "%s", object_group);
    config.server_port = server_port;
    config.timeout_ms = timeout_ms;
    config.tls_peer_verification = tls_peer_verification;
    config.tls_hostname_verification = tls_hostname_verification;
    config.log = log_to_server; /* the client's warnings after open: MariaDB's error log */
    if (!tls_peer_verification || !tls_hostname_verification)
        my_printf_error(ER_UNKNOWN, "kmip_key_management: TLS %s verification is turned off",
                        ME_ERROR_LOG | ME_WARNING,
                        !tls_peer_verification ? "certificate" : "host name");
    return 0;
}

/* A version held by two objects with different bytes could decrypt with
 * the wrong key: the server does not start until an operator resolves it
 * (both Unique Identifiers are in the log). */
static int refuse_conflicts(void)
{
    krk_iter *it;
    if (krk_iter_init(keyring, &it) != KRK_OK)
        return 1;
    int conflicts = 0;
    for (bool more = krk_iter_is_valid(it); more;
         more = krk_iter_next(it) == KRK_OK && krk_iter_is_valid(it)) {
        char d[KRK_MAX_ID_BYTES + 1], a[KRK_MAX_ID_BYTES + 1];
        unsigned int id, version;
        krk_key_state st;
        krk_reader *r = NULL;
        if (krk_iter_get(it, d, sizeof d, a, sizeof a) != KRK_OK || a[0] != '\0' ||
            !parse_data_id(d, &id, &version) || krk_iter_get_state(it, &st) != KRK_OK ||
            st != KRK_KEY_CONFLICT)
            continue;
        if (krk_reader_init(keyring, d, "", &r) == KRK_E_CONFLICT)
            log_error("kmip_key_management: refusing to start: %s", krk_last_error(keyring));
        krk_reader_deinit(r);
        conflicts++;
    }
    krk_iter_deinit(it);
    return conflicts ? 1 : 0;
}

static int plugin_init(void *p)
{
    (void)p;
    if (build_config() != 0)
        return 1;
    krk_diag d;
    if (krk_open(&config, &keyring, &d) != KRK_OK) {
        log_error("kmip_key_management: cannot load the keys: %s", d.error);
        return 1;
    }
    for (size_t i = 0; i < d.warning_count; i++)
        my_printf_error(ER_UNKNOWN, "kmip_key_management: %s", ME_ERROR_LOG | ME_WARNING,
                        d.warnings[i]);
    if (refuse_conflicts() != 0) {
        krk_close(keyring);
        keyring = NULL;
        return 1;
    }
    rebuild_versions();
    if (latest_of(1) == ENCRYPTION_KEY_VERSION_INVALID) {
        char why[768];
        if (!create_key_1) {
            log_error("kmip_key_management: %s", "key id 1 does not exist on the KMIP server and "
                      "kmip_key_management_create_key is OFF");
            krk_close(keyring);
            keyring = NULL;
            return 1;
        }
        if (create_version(1, 1, why, sizeof why) != 0) {
            log_error("kmip_key_management: cannot create key 1 on the KMIP server: %s", why);
            krk_close(keyring);
            keyring = NULL;
            return 1;
        }
        rebuild_versions();
    }
    stopping = 0;
    if (refresh_seconds > 0)
        refresher_running = pthread_create(&refresher, NULL, refresh_main, NULL) == 0;
    return 0;
}

static int plugin_deinit(void *p)
{
    (void)p;
    if (refresher_running) {
        pthread_mutex_lock(&refresh_lock);
        stopping = 1;
        pthread_cond_signal(&refresh_cond);
        pthread_mutex_unlock(&refresh_lock);
        pthread_join(refresher, NULL);
        refresher_running = 0;
    }
    krk_close(keyring);
    keyring = NULL;
    free(versions);
    versions = NULL;
    version_count = version_cap = 0;
    free(atomic_exchange(&live_view.array, NULL)); /* MariaDB calls no reader any more */
    atomic_store(&live_view.count, 0);
    while (retired) {
        live_array *next = retired->retired_next;
        free(retired);
        retired = next;
    }
    return 0;
}

static MYSQL_SYSVAR_STR(server_addr, server_addr, PLUGIN_VAR_RQCMDARG | PLUGIN_VAR_READONLY,
                        "KMIP server(s): host, host:port or [v6addr]:port, several separated by "
                        "commas (tried in that order; all share the TLS settings)", NULL, NULL,
                        "");
static MYSQL_SYSVAR_UINT(server_port, server_port, PLUGIN_VAR_RQCMDARG | PLUGIN_VAR_READONLY,
                         "KMIP server port", NULL, NULL, 5696, 1, 65535, 0);
static MYSQL_SYSVAR_STR(client_cert, client_cert, PLUGIN_VAR_RQCMDARG | PLUGIN_VAR_READONLY,
                        "client certificate (PEM file)", NULL, NULL, "");
static MYSQL_SYSVAR_STR(client_key, client_key, PLUGIN_VAR_RQCMDARG | PLUGIN_VAR_READONLY,
                        "client private key (PEM file)", NULL, NULL, "");
static MYSQL_SYSVAR_STR(server_ca, server_ca, PLUGIN_VAR_RQCMDARG | PLUGIN_VAR_READONLY,
                        "CA certificate that signs the KMIP server's certificate (PEM file)",
                        NULL, NULL, "");
static MYSQL_SYSVAR_STR(object_group, object_group, PLUGIN_VAR_RQCMDARG | PLUGIN_VAR_READONLY,
                        "KMIP Object Group of this server's keys", NULL, NULL, "mariadb");
static MYSQL_SYSVAR_UINT(timeout_ms, timeout_ms, PLUGIN_VAR_RQCMDARG | PLUGIN_VAR_READONLY,
                         "KMIP operation, read and write timeout in milliseconds (connecting "
                         "to one server is bounded by 1000 ms)", NULL, NULL,
                         10000, 100, 3600000, 0);
static MYSQL_SYSVAR_BOOL(tls_peer_verification, tls_peer_verification,
                         PLUGIN_VAR_RQCMDARG | PLUGIN_VAR_READONLY,
                         "verify the KMIP server's certificate (ON by default)", NULL, NULL, 1);
static MYSQL_SYSVAR_BOOL(tls_hostname_verification, tls_hostname_verification,
                         PLUGIN_VAR_RQCMDARG | PLUGIN_VAR_READONLY,
                         "verify the KMIP server's host name (ON by default)", NULL, NULL, 1);
static MYSQL_SYSVAR_BOOL(create_key, create_key_1, PLUGIN_VAR_RQCMDARG | PLUGIN_VAR_READONLY,
                         "create key id 1 on the KMIP server when it is missing", NULL, NULL, 1);
static MYSQL_SYSVAR_UINT(refresh_seconds, refresh_seconds,
                         PLUGIN_VAR_RQCMDARG | PLUGIN_VAR_READONLY,
                         "re-read key versions from the KMIP server every N seconds (0: never)",
                         NULL, NULL, 60, 0, 86400, 0);
static MYSQL_SYSVAR_INT(rotate_key, rotate_key, PLUGIN_VAR_RQCMDARG,
                        "set to a key id (or -1 for all) to create its next version", check_rotate,
                        update_rotate, 0, -1, INT_MAX, 0);

static const char *algorithm_names[] = {"aes_cbc", "aes_ctr", NULL};
static TYPELIB algorithm_typelib = {2, "", algorithm_names, NULL};
static unsigned long encryption_algorithm; /* 0 aes_cbc, 1 aes_ctr */
static MYSQL_SYSVAR_ENUM(encryption_algorithm, encryption_algorithm,
                         PLUGIN_VAR_RQCMDARG | PLUGIN_VAR_READONLY,
                         "AES mode of the encrypted data, as file_key_management_encryption_"
                         "algorithm: aes_cbc (default) or aes_ctr; must be what the data was "
                         "written with",
                         NULL, NULL, 0, &algorithm_typelib);

static struct st_mysql_sys_var *settings[] = {
    MYSQL_SYSVAR(encryption_algorithm),
    MYSQL_SYSVAR(server_addr),     MYSQL_SYSVAR(server_port),
    MYSQL_SYSVAR(client_cert),     MYSQL_SYSVAR(client_key),
    MYSQL_SYSVAR(server_ca),       MYSQL_SYSVAR(object_group),
    MYSQL_SYSVAR(timeout_ms),      MYSQL_SYSVAR(tls_peer_verification),
    MYSQL_SYSVAR(tls_hostname_verification), MYSQL_SYSVAR(create_key),
    MYSQL_SYSVAR(refresh_seconds), MYSQL_SYSVAR(rotate_key),
    NULL,
};

/* The AES mode for a piece of data: aes_ctr means CTR when the caller asks
 * for no padding and GCM otherwise (file_key_management's rule), aes_cbc CBC. */
static enum my_aes_mode aes_mode(int flags)
{
    if (encryption_algorithm == 0)
        return MY_AES_CBC;
    return (flags & ENCRYPTION_FLAG_NOPAD) ? MY_AES_CTR : MY_AES_GCM;
}

static unsigned int crypt_ctx_size(unsigned int key_id, unsigned int key_version)
{
    (void)key_id;
    (void)key_version;
    return my_aes_ctx_size(aes_mode(0));
}

static int crypt_ctx_init(void *ctx, const unsigned char *key, unsigned int klen,
                          const unsigned char *iv, unsigned int ivlen, int flags,
                          unsigned int key_id, unsigned int key_version)
{
    (void)key_id;
    (void)key_version;
    return my_aes_crypt_init(ctx, aes_mode(flags), flags, key, klen, iv, ivlen);
}

static int crypt_ctx_update(void *ctx, const unsigned char *src, unsigned int slen,
                            unsigned char *dst, unsigned int *dlen)
{
    return my_aes_crypt_update(ctx, src, slen, dst, dlen);
}

static int crypt_ctx_finish(void *ctx, unsigned char *dst, unsigned int *dlen)
{
    return my_aes_crypt_finish(ctx, dst, dlen);
}

static unsigned int encrypted_length(unsigned int slen, unsigned int key_id,
                                     unsigned int key_version)
{
    (void)key_id;
    (void)key_version;
    return my_aes_get_size(aes_mode(0), slen);
}

/* ---- status variables (SHOW STATUS LIKE 'kmip_key_management%') ----
 * Each is computed when asked, from the keyring's health (its own lock,
 * never a wait for the network) and the version table. */

static krk_health health_now(void)
{
    krk_health h;
    memset(&h, 0, sizeof h);
    if (keyring)
        krk_health_get(keyring, &h);
    return h;
}

static int show_longlong(struct st_mysql_show_var *var, void *buff, long long v)
{
    *(long long *)buff = v;
    var->type = SHOW_SLONGLONG;
    var->value = buff;
    return 0;
}

static int show_servers(MYSQL_THD thd, struct st_mysql_show_var *var, void *buff,
                        struct system_status_var *sv, enum enum_var_type scope)
{
    (void)thd, (void)sv, (void)scope;
    return show_longlong(var, buff, (long long)health_now().servers);
}

static int show_servers_up(MYSQL_THD thd, struct st_mysql_show_var *var, void *buff,
                           struct system_status_var *sv, enum enum_var_type scope)
{
    (void)thd, (void)sv, (void)scope;
    return show_longlong(var, buff, (long long)health_now().servers_up);
}

static int show_current_server(MYSQL_THD thd, struct st_mysql_show_var *var, void *buff,
                               struct system_status_var *sv, enum enum_var_type scope)
{
    (void)thd, (void)sv, (void)scope;
    krk_health h = health_now();
    snprintf(buff, SHOW_VAR_FUNC_BUFF_SIZE, "%s", h.current);
    var->type = SHOW_CHAR;
    var->value = buff;
    return 0;
}

static int show_failovers(MYSQL_THD thd, struct st_mysql_show_var *var, void *buff,
                          struct system_status_var *sv, enum enum_var_type scope)
{
    (void)thd, (void)sv, (void)scope;
    return show_longlong(var, buff, (long long)health_now().failovers);
}

static int show_keys(MYSQL_THD thd, struct st_mysql_show_var *var, void *buff,
                     struct system_status_var *sv, enum enum_var_type scope)
{
    (void)thd, (void)sv, (void)scope;
    pthread_mutex_lock(&versions_lock);
    long long n = (long long)version_count;
    pthread_mutex_unlock(&versions_lock);
    return show_longlong(var, buff, n);
}

static int show_versions(MYSQL_THD thd, struct st_mysql_show_var *var, void *buff,
                         struct system_status_var *sv, enum enum_var_type scope)
{
    (void)thd, (void)sv, (void)scope;
    return show_longlong(var, buff, keyring ? (long long)krk_key_count(keyring) : 0);
}

static int show_last_refresh(MYSQL_THD thd, struct st_mysql_show_var *var, void *buff,
                             struct system_status_var *sv, enum enum_var_type scope)
{
    (void)thd, (void)sv, (void)scope;
    return show_longlong(var, buff, __atomic_load_n(&last_refresh, __ATOMIC_RELAXED));
}

static int show_refresh_failures(MYSQL_THD thd, struct st_mysql_show_var *var, void *buff,
                                 struct system_status_var *sv, enum enum_var_type scope)
{
    (void)thd, (void)sv, (void)scope;
    return show_longlong(var, buff,
                         (long long)__atomic_load_n(&refresh_failures, __ATOMIC_RELAXED));
}

/* Whole days until the client certificate expires (negative: expired;
 * 0 also when it could not be read, which the open would have refused). */
static int show_cert_days(MYSQL_THD thd, struct st_mysql_show_var *var, void *buff,
                          struct system_status_var *sv, enum enum_var_type scope)
{
    (void)thd, (void)sv, (void)scope;
    krk_health h = health_now();
    long long now = (long long)time(NULL);
    long long left = h.client_cert_not_after - now;
    return show_longlong(var, buff, h.client_cert_not_after == 0
                                        ? 0
                                        : (left >= 0 ? left / 86400 : -((-left + 86399) / 86400)));
}

/* MariaDB's status variable API stores the function in a void * (ISO C
 * does not define that conversion; every platform MariaDB runs on does) */
#define FUNC(f) __extension__(void *) f, SHOW_FUNC
static struct st_mysql_show_var status_variables[] = {
    {"kmip_key_management_servers", FUNC(show_servers)},
    {"kmip_key_management_servers_up", FUNC(show_servers_up)},
    {"kmip_key_management_current_server", FUNC(show_current_server)},
    {"kmip_key_management_failovers", FUNC(show_failovers)},
    {"kmip_key_management_keys", FUNC(show_keys)},
    {"kmip_key_management_key_versions", FUNC(show_versions)},
    {"kmip_key_management_last_refresh", FUNC(show_last_refresh)},
    {"kmip_key_management_refresh_failures", FUNC(show_refresh_failures)},
    {"kmip_key_management_client_cert_days_left", FUNC(show_cert_days)},
    {NULL, NULL, SHOW_UNDEF},
};

static struct st_mariadb_encryption kmip_plugin = {
    MariaDB_ENCRYPTION_INTERFACE_VERSION,
    get_latest_key_version,
    get_key,
    crypt_ctx_size,
    crypt_ctx_init,
    crypt_ctx_update,
    crypt_ctx_finish,
    encrypted_length,
};

maria_declare_plugin(kmip_key_management){
    MariaDB_ENCRYPTION_PLUGIN,
    &kmip_plugin,
    "kmip_key_management",
    "keyring_kmip developers",
    "Encryption keys kept in a KMIP server (keyring_kmip)",
    PLUGIN_LICENSE_GPL,
    plugin_init,
    plugin_deinit,
    0x0100,
    status_variables,
    settings,
    "0.1",
    MariaDB_PLUGIN_MATURITY_EXPERIMENTAL,
} maria_declare_plugin_end;
