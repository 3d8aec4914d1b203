/* SPDX-License-Identifier: GPL-2.0-only */
/* Concurrency stress: 8 reader threads and 2 writer threads on one keyring
 * against our KMIP test server, for a bounded time (STRESS_SECONDS,
 * default 5). Invariants are checked after every step:
 *  - a reader sees either no key or a whole key, type AES, whose bytes are
 *    exactly a value that key held at some moment of the read: each writer
 *    records, per id it owns, the value every write leaves (the pattern it
 *    stores, the bytes a generate made, read back, or "absent") before the
 *    write begins, and the reader compares against every value from the
 *    last write done when its read began to the last one begun when it
 *    ended (review of issue 17, F7: generated keys were not checked, so
 *    freed, wiped or another key's bytes passed as "generated");
 *  - a writer owns its half of the ids and keeps a model of them: after
 *    each store, generate or remove the keyring agrees with the model;
 *  - at the end the keyring, the writers' models and the server (read by
 *    a separate client) agree, and again after a reload;
 *  - no reader is served a key whose removal had returned before its read
 *    began and that was not stored again since (readers take no lock: a
 *    key is freed only after every reader that could see it is done).
 * With "reload" (invariant 2 of docs/RELIABILITY.md): 2 writers, 4 readers,
 * 1 thread reloading in a loop and 1 calling krk_metadata for the same
 * bounded time; every write a writer saw acknowledged must be in the cache
 * and on the server afterwards (a reload loading outside the writers' lock
 * lost them), and the cache must equal the server. 300 more keys, never
 * written again, make every reload fetch on several connections at once
 * (load.c's helpers).
 * Usage: test_stress FIXTURE_DIR TEST_SERVER [reload] */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault_env.h"
#include "keyring_kmip/krk.h"
#include "kmip/kmip_client.h"

#define IDS 64
#define READERS 8
#define WRITERS 2
#define KEY_LEN 32
#define GROUP "stress"

static const char *fixture, *server_bin;
static fenv E;
static krk_keyring *K;
static krk_config cfg;
static atomic_bool stop, failed;
static atomic_ulong reads, writes, misses, reloads, metadata_calls;
/* per id: a number given when its removal returned, 0 once a write of it
 * begins again */
static atomic_ulong gone[IDS], gone_seq;
static int reader_count = READERS;
static int bulk; /* keys stored once at setup ("reload": 300) */

typedef struct model {
    bool present[IDS];
    uint8_t version[IDS];
    bool generated[IDS]; /* bytes chosen by the server: only presence is known */
} model;
static model models[WRITERS];

/* Per id, the values its writes left (history[idx].v[n % HIST] after write
 * n; write 0 is the start: absent). The test's own lock, taken by a reader
 * only after its read (never around a library call). */
#define HIST 8
typedef struct value {
    uint64_t n;
    bool present, known; /* known false: a generate whose bytes are not read back yet */
    uint8_t b[KEY_LEN];
} value;
typedef struct history {
    pthread_mutex_t lock;
    uint64_t begun, done; /* writes begun, writes returned */
    value v[HIST];
} history;
static history hist[IDS];
static atomic_ulong unverified; /* reads that overlapped HIST writes of their id */

static void id_of(int i, char *out, size_t cap)
{
    snprintf(out, cap, "stress-%02d", i);
}

static void pattern(int idx, uint8_t version, uint8_t out[KEY_LEN])
{
    out[0] = (uint8_t)idx;
    out[1] = version;
    for (int j = 2; j < KEY_LEN; j++)
        out[j] = (uint8_t)(idx * 31 + version * 7 + j);
}

#define CHECK(cond, ...)                                                                        \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, __VA_ARGS__);                                                      \
            fputc('\n', stderr);                                                               \
            atomic_store(&failed, true);                                                       \
            atomic_store(&stop, true);                                                         \
            return NULL;                                                                       \
        }                                                                                      \
    } while (0)

/* KRK_E_NOT_FOUND or the whole key; *got receives whether it exists. */
static krk_err read_key(int idx, uint8_t bytes[KEY_LEN], bool *got)
{
    char id[32], type[16];
    id_of(idx, id, sizeof id);
    krk_reader *r = NULL;
    krk_err e = krk_reader_init(K, id, "", &r);
    *got = e == KRK_OK;
    if (e != KRK_OK)
        return e;
    size_t len = 0, tl = 0;
    e = krk_reader_fetch(r, bytes, KEY_LEN, &len, type, sizeof type, &tl);
    krk_reader_deinit(r);
    if (e == KRK_OK && (len != KEY_LEN || strcmp(type, "AES") != 0))
        e = KRK_E_ARG;
    return e;
}

/* Whether (got, b) is a value of key idx from write lo (done when the read
 * began) to the last write begun now: 1 yes, 0 not verifiable (more than
 * HIST writes overlapped the read), -1 no. A value still being generated
 * is waited for (bounded). */
static int check_read(int idx, uint64_t lo, bool got, const uint8_t b[KEY_LEN])
{
    history *h = &hist[idx];
    for (int tries = 0; tries < 5000; tries++) {
        bool pending = false, match = false;
        pthread_mutex_lock(&h->lock);
        uint64_t hi = h->begun;
        if (hi - lo >= HIST) {
            pthread_mutex_unlock(&h->lock);
            atomic_fetch_add(&unverified, 1);
            return 0;
        }
        for (uint64_t n = lo; n <= hi && !match; n++) {
            const value *v = &h->v[n % HIST];
            if (v->present != got)
                continue;
            if (!got || (v->known && memcmp(v->b, b, KEY_LEN) == 0))
                match = true;
            else if (!v->known)
                pending = true;
        }
        pthread_mutex_unlock(&h->lock);
        if (match)
            return 1;
        if (!pending)
            return -1;
        usleep(1000); /* a generate's bytes are read back right after it */
    }
    return -1;
}

/* The writer of idx records the value write n will leave, before it. */
static uint64_t begin_write(int idx, bool present, const uint8_t *b)
{
    history *h = &hist[idx];
    pthread_mutex_lock(&h->lock);
    uint64_t n = ++h->begun;
    value *v = &h->v[n % HIST];
    v->n = n;
    v->present = present;
    v->known = b != NULL || !present;
    if (b)
        memcpy(v->b, b, KEY_LEN);
    pthread_mutex_unlock(&h->lock);
    return n;
}

static void end_write(int idx, uint64_t n, const uint8_t *generated)
{
    history *h = &hist[idx];
    pthread_mutex_lock(&h->lock);
    if (generated) {
        memcpy(h->v[n % HIST].b, generated, KEY_LEN);
        h->v[n % HIST].known = true;
    }
    h->done = n;
    pthread_mutex_unlock(&h->lock);
}

static void *reader_main(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg;
    while (!atomic_load(&stop)) {
        int idx = (int)(rand_r(&seed) % IDS);
        uint8_t b[KEY_LEN], want[KEY_LEN];
        bool got;
        unsigned long g1 = atomic_load(&gone[idx]);
        pthread_mutex_lock(&hist[idx].lock);
        uint64_t lo = hist[idx].done;
        pthread_mutex_unlock(&hist[idx].lock);
        krk_err e = read_key(idx, b, &got);
        unsigned long g2 = atomic_load(&gone[idx]);
        CHECK(e == KRK_OK || e == KRK_E_NOT_FOUND, "reader: %s", krk_strerror(e));
        CHECK(!(got && g1 != 0 && g1 == g2), "reader: key %d served after its removal returned",
              idx);
        atomic_fetch_add(&reads, 1);
        if (!got) {
            atomic_fetch_add(&misses, 1);
            CHECK(check_read(idx, lo, false, b) >= 0, "reader: key %d absent while it was "
                  "stored during the whole read", idx);
            continue;
        }
        (void)want;
        int verdict = check_read(idx, lo, got, b);
        CHECK(verdict >= 0, "reader: key %d served bytes it never held during the read (freed, "
              "wiped, torn or another key's: %02x %02x %02x %02x ...)", idx, b[0], b[1], b[2], b[3]);
        if (rand_r(&seed) % 64 == 0) { /* now and then a whole listing */
            krk_iter *it = NULL;
            CHECK(krk_iter_init(K, &it) == KRK_OK, "iterator");
            size_t n = 0;
            while (krk_iter_is_valid(it) && krk_iter_next(it) == KRK_OK)
                n++;
            krk_iter_deinit(it);
            CHECK(n <= IDS + (size_t)bulk, "iterator listed %zu keys", n);
        }
    }
    return NULL;
}

/* Keyring vs. this writer's model for one id. */
static bool agrees(const model *m, int idx)
{
    uint8_t b[KEY_LEN], want[KEY_LEN];
    bool got;
    krk_err e = read_key(idx, b, &got);
    if (e != KRK_OK && e != KRK_E_NOT_FOUND)
        return false;
    if (got != m->present[idx])
        return false;
    if (!got || m->generated[idx])
        return true;
    pattern(idx, m->version[idx], want);
    return memcmp(b, want, KEY_LEN) == 0;
}

static kmip_client *server_client(void)
{
    kmip_client_options *o = kmip_client_options_new();
    if (o == NULL || kmip_client_options_set_server(o, "127.0.0.1", E.server_port) != 0 ||
        kmip_client_options_set_ca(o, E.ca) != 0 ||
        kmip_client_options_set_cert(o, E.cert, E.key) != 0) {
        kmip_client_options_free(o);
        return NULL;
    }
    kmip_client *c = kmip_client_new(o);
    kmip_client_options_free(o);
    return c;
}

static bool first_uid(void *ctx, const char *uid, size_t len)
{
    char *out = ctx;
    if (out[0] == '\0' && len < 128) {
        memcpy(out, uid, len);
        out[len] = '\0';
    }
    return true;
}

/* The bytes of the Active object named id, from the server itself (not
 * through the keyring under test: a keyring that served wrong bytes would
 * otherwise record them as the truth). */
static bool server_bytes(kmip_client *c, const char *id, uint8_t out[KEY_LEN])
{
    char uid[128] = "";
    kmip_locate_filter f = {0};
    f.name = id;
    f.object_group = GROUP;
    f.state = KMIP_STATE_ACTIVE;
    uint8_t *key = NULL;
    size_t len = 0;
    uint32_t type = 0;
    if (kmip_client_locate(c, &f, first_uid, uid) != KMIP_CLIENT_OK || uid[0] == '\0' ||
        kmip_client_get_key(c, uid, &key, &len, &type) != KMIP_CLIENT_OK)
        return false;
    bool ok = len == KEY_LEN;
    if (ok)
        memcpy(out, key, KEY_LEN);
    kmip_secure_free(key, len);
    return ok;
}

static void *writer_main(void *arg)
{
    int w = (int)(intptr_t)arg;
    model *m = &models[w];
    kmip_client *direct = server_client();
    CHECK(direct != NULL, "writer: a client of its own");
    unsigned seed = (unsigned)(w * 7919 + 1);
    while (!atomic_load(&stop)) {
        int idx = (int)(rand_r(&seed) % (IDS / WRITERS)) * WRITERS + w;
        char id[32];
        id_of(idx, id, sizeof id);
        krk_err e;
        if (m->present[idx]) {
            uint64_t n = begin_write(idx, false, NULL);
            e = krk_remove(K, id, "");
            CHECK(e == KRK_OK, "remove %s: %s", id, krk_last_error(K));
            m->present[idx] = false;
            atomic_store(&gone[idx], atomic_fetch_add(&gone_seq, 1) + 1);
            end_write(idx, n, NULL);
        } else if (atomic_store(&gone[idx], 0), rand_r(&seed) % 4 == 0) {
            uint64_t n = begin_write(idx, true, NULL);
            e = krk_generate(K, id, "", "AES", KEY_LEN);
            CHECK(e == KRK_OK, "generate %s: %s", id, krk_last_error(K));
            uint8_t made[KEY_LEN];
            CHECK(server_bytes(direct, id, made), "%s from the server", id);
            m->present[idx] = m->generated[idx] = true;
            end_write(idx, n, made);
        } else {
            uint8_t b[KEY_LEN];
            m->version[idx]++;
            pattern(idx, m->version[idx], b);
            uint64_t n = begin_write(idx, true, b);
            e = krk_store(K, id, "", b, KEY_LEN, "AES");
            CHECK(e == KRK_OK, "store %s: %s", id, krk_last_error(K));
            m->present[idx] = true;
            m->generated[idx] = false;
            end_write(idx, n, NULL);
        }
        atomic_fetch_add(&writes, 1);
        CHECK(agrees(m, idx), "after a write the keyring disagrees with the model on %s", id);
    }
    kmip_client_free(direct);
    return NULL;
}

static bool count_uid(void *ctx, const char *uid, size_t len)
{
    (void)uid;
    (void)len;
    (*(size_t *)ctx)++;
    return true;
}

static size_t server_count(void)
{
    kmip_client_options *o = kmip_client_options_new();
    assert_non_null(o);
    assert_int_equal(kmip_client_options_set_server(o, "127.0.0.1", E.server_port), 0);
    assert_int_equal(kmip_client_options_set_ca(o, E.ca), 0);
    assert_int_equal(kmip_client_options_set_cert(o, E.cert, E.key), 0);
    kmip_client *c = kmip_client_new(o);
    kmip_client_options_free(o);
    assert_non_null(c);
    kmip_locate_filter f = {0};
    f.object_group = GROUP;
    f.state = KMIP_STATE_ACTIVE;
    size_t n = 0;
    assert_int_equal(kmip_client_locate(c, &f, count_uid, &n), KMIP_CLIENT_OK);
    kmip_client_free(c);
    return n;
}

static void check_final(void)
{
    size_t expected = 0;
    for (int w = 0; w < WRITERS; w++)
        for (int i = 0; i < IDS; i++)
            if (models[w].present[i]) {
                expected++;
                assert_true(agrees(&models[w], i));
            }
    expected += (size_t)bulk;
    assert_int_equal(krk_key_count(K), expected);
    assert_int_equal(server_count(), expected);
}

static void *reloader_main(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        krk_diag d;
        krk_err e = krk_reload_with(K, &cfg, &d);
        CHECK(e == KRK_OK, "reload: %s", d.error);
        atomic_fetch_add(&reloads, 1);
    }
    return NULL;
}

static void *metadata_main(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        krk_metadata_item md[KRK_METADATA_MAX];
        size_t n = krk_metadata(K, md, KRK_METADATA_MAX);
        bool active = false, version = false;
        for (size_t i = 0; i < n; i++) {
            active |= strcmp(md[i].key, "Component_status") == 0 &&
                      strcmp(md[i].value, "Active") == 0;
            version |= strcmp(md[i].key, "KMIP_version") == 0 && md[i].value[0] != '\0';
        }
        CHECK(active && version, "metadata without status or KMIP version");
        CHECK(krk_is_initialized(K), "not initialized");
        (void)krk_load_requests(K);
        atomic_fetch_add(&metadata_calls, 1);
    }
    return NULL;
}

static void run_threads(bool reload)
{
    const char *env = getenv("STRESS_SECONDS");
    int seconds = env ? atoi(env) : 5;
    if (seconds < 1 || seconds > 600)
        seconds = 5;
    pthread_t r[READERS], w[WRITERS], extra[2];
    for (int i = 0; i < reader_count; i++)
        assert_int_equal(pthread_create(&r[i], NULL, reader_main, (void *)(uintptr_t)(i + 1)), 0);
    for (int i = 0; i < WRITERS; i++)
        assert_int_equal(pthread_create(&w[i], NULL, writer_main, (void *)(intptr_t)i), 0);
    if (reload) {
        assert_int_equal(pthread_create(&extra[0], NULL, reloader_main, NULL), 0);
        assert_int_equal(pthread_create(&extra[1], NULL, metadata_main, NULL), 0);
    }
    for (int s = 0; s < seconds * 10 && !atomic_load(&stop); s++)
        usleep(100000);
    atomic_store(&stop, true);
    for (int i = 0; i < reader_count; i++)
        pthread_join(r[i], NULL);
    for (int i = 0; i < WRITERS; i++)
        pthread_join(w[i], NULL);
    for (int i = 0; reload && i < 2; i++)
        pthread_join(extra[i], NULL);
    print_message("%d s: %lu reads (%lu found no key, %lu overlapped too many writes to be "
                  "checked), %lu writes, %lu reloads, %lu metadata calls\n", seconds,
                  atomic_load(&reads), atomic_load(&misses), atomic_load(&unverified),
                  atomic_load(&writes), atomic_load(&reloads), atomic_load(&metadata_calls));
    assert_true(atomic_load(&unverified) * 100 <= atomic_load(&reads) + 100);
}

/* The load's progress function runs on the calling thread only, though
 * more than 200 keys are fetched on helper connections too (review of
 * issue 17, F9), and its last call reports every key. */
typedef struct progress_seen {
    pthread_t caller;
    unsigned calls, elsewhere;
    size_t loaded, total;
} progress_seen;

static void on_progress(void *ctx, size_t loaded, size_t total)
{
    progress_seen *p = ctx;
    p->calls++;
    if (!pthread_equal(pthread_self(), p->caller))
        p->elsewhere++;
    p->loaded = loaded;
    p->total = total;
}

static void test_reload_under_load(void **state)
{
    (void)state;
    run_threads(true);
    assert_false(atomic_load(&failed));
    assert_true(atomic_load(&writes) > 0);
    assert_true(atomic_load(&reloads) > 0);
    check_final();
    /* a fresh keyring: the same keys */
    krk_keyring *fresh = NULL;
    krk_diag d;
    progress_seen seen = {.caller = pthread_self()};
    assert_int_equal(krk_open_progress(&cfg, on_progress, &seen, &fresh, &d), KRK_OK);
    assert_int_equal(krk_key_count(fresh), krk_key_count(K));
    assert_true(seen.calls > 0);
    assert_int_equal(seen.elsewhere, 0);
    assert_int_equal(seen.loaded, seen.total);
    krk_close(fresh);
}

static void test_readers_and_writers(void **state)
{
    (void)state;
    run_threads(false);
    assert_false(atomic_load(&failed));
    assert_true(atomic_load(&writes) > 0);
    check_final();
    krk_diag d;
    assert_int_equal(krk_reload_with(K, &cfg, &d), KRK_OK);
    check_final();
}

static int setup(void **state)
{
    (void)state;
    for (int i = 0; i < IDS; i++)
        pthread_mutex_init(&hist[i].lock, NULL); /* the rest: write 0, absent */
    if (!fenv_init(&E, fixture, reader_count == READERS ? "stress" : "stress-reload", server_bin,
                   "") ||
        !fenv_server_start(&E))
        return -1;
    char path[1200];
    snprintf(path, sizeof path, "%s/stress.cnf", E.dir);
    if (!fenv_write_keyring_config(&E, path, E.server_port, GROUP, 0, NULL, NULL))
        return -1;
    krk_diag d;
    if (krk_config_read(path, &cfg, &d) != KRK_OK || krk_open(&cfg, &K, &d) != KRK_OK) {
        fprintf(stderr, "%s\n", d.error);
        return -1;
    }
    for (int i = 0; i < bulk; i++) {
        char id[32];
        uint8_t b[KEY_LEN];
        snprintf(id, sizeof id, "bulk-%03d", i);
        pattern(i % 256, 0, b);
        if (krk_store(K, id, "", b, KEY_LEN, "AES") != KRK_OK) {
            fprintf(stderr, "store %s: %s\n", id, krk_last_error(K));
            return -1;
        }
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    krk_close(K);
    fenv_stop(&E);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3 && !(argc == 4 && strcmp(argv[3], "reload") == 0)) {
        fprintf(stderr, "usage: %s FIXTURE_DIR TEST_SERVER [reload]\n", argv[0]);
        return 2;
    }
    fixture = argv[1];
    server_bin = argv[2];
    if (argc == 4) {
        reader_count = 4;
        bulk = 300;
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_reload_under_load)};
        return cmocka_run_group_tests(tests, setup, teardown);
    }
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_readers_and_writers)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
