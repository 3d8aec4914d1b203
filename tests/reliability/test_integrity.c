/* SPDX-License-Identifier: GPL-2.0-only */
/* The server's state is not ours (docs/RELIABILITY.md, invariants 1, 3, 4
 * and 5): the test server's injections and objects made behind the
 * keyring's back, one case each.
 * Usage: test_integrity FIXTURE_DIR TEST_SERVER [KEYRING_KMIP] */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "fault_env.h"
#include "keyring_kmip/krk.h"
#include "kmip/kmip_client.h"
#include "kmip/kmip_registry.h"

static const char *fixture, *server_bin, *cli;
static fenv E;
static kmip_client *direct;
static krk_config cfg;
static unsigned serial;

static void arm(const char *cmd)
{
    char out[160];
    assert_true(fenv_ctl(E.server_ctl, cmd, out, sizeof out));
    assert_string_equal(out, "ok");
}

/* A keyring on a fresh object group. */
static krk_keyring *fresh(char *group, size_t cap)
{
    snprintf(group, cap, "integrity-%u", ++serial);
    char path[1200];
    snprintf(path, sizeof path, "%s/integrity.cnf", E.dir);
    assert_true(fenv_write_keyring_config(&E, path, E.server_port, group, 2000, NULL, NULL));
    krk_diag d;
    if (krk_config_read(path, &cfg, &d) != KRK_OK)
        fail_msg("%s", d.error);
    krk_keyring *k = NULL;
    if (krk_open(&cfg, &k, &d) != KRK_OK)
        fail_msg("open: %s", d.error);
    return k;
}

static void hex(const char *s, char *out)
{
    for (; *s; s++, out += 2)
        snprintf(out, 3, "%02x", (unsigned char)*s);
    *out = '\0';
}

static const char *tag_for_next; /* a write tag for make_object, or NULL */

/* An object of key data_id made the keyring's way (our Application
 * Specific Information), behind its back, in state `state`. */
static void make_object(const char *group, const char *data_id, const uint8_t *bytes,
                        size_t len, uint32_t state, char *uid, size_t cap)
{
    char app[256], h[128];
    hex(data_id, h);
    snprintf(app, sizeof app, "v1;SECRET;;%s%s%s", h, tag_for_next ? ";" : "",
             tag_for_next ? tag_for_next : "");
    kmip_key_spec spec = {0};
    spec.object_type = KMIP_OBJECT_TYPE_SECRET_DATA;
    spec.secret_data_type = KMIP_SECRET_DATA_TYPE_PASSWORD;
    spec.name = data_id;
    spec.object_group = group;
    spec.app_namespace = "keyring_kmip";
    spec.app_data = app;
    if (state == KMIP_STATE_PRE_ACTIVE)
        assert_int_equal(kmip_client_register(direct, &spec, bytes, len, uid, cap), 0);
    else
        assert_int_equal(kmip_client_register_activate(direct, &spec, bytes, len, uid, cap), 0);
    if (state == KMIP_STATE_DEACTIVATED)
        assert_int_equal(kmip_client_revoke(direct, uid,
                                            KMIP_REVOCATION_REASON_CODE_CESSATION_OF_OPERATION),
                         0);
}

static uint32_t server_state(const char *uid)
{
    static const uint32_t wanted[] = {KMIP_TAG_STATE};
    kmip_message *resp = NULL;
    uint32_t st = 0;
    if (kmip_client_get_attributes(direct, uid, wanted, 1, &resp) == KMIP_CLIENT_OK) {
        const kmip_get_attributes_response *ga = resp->items[0].payload;
        for (const kmip_attribute *a = ga ? ga->attributes.first : NULL; a; a = a->next)
            if (a->tag == KMIP_TAG_STATE && a->value)
                st = a->value->v.u32;
    }
    kmip_message_free(resp);
    return st;
}

static krk_key_state state_in_keyring(krk_keyring *k, const char *data_id)
{
    krk_iter *it = NULL;
    krk_key_state found = (krk_key_state)99;
    assert_int_equal(krk_iter_init(k, &it), KRK_OK);
    for (; krk_iter_is_valid(it); assert_int_equal(krk_iter_next(it), KRK_OK)) {
        char d[64], a[64];
        assert_int_equal(krk_iter_get(it, d, sizeof d, a, sizeof a), KRK_OK);
        if (strcmp(d, data_id) == 0)
            assert_int_equal(krk_iter_get_state(it, &found), KRK_OK);
    }
    krk_iter_deinit(it);
    return found;
}

static bool readable(krk_keyring *k, const char *data_id, const char *want)
{
    krk_reader *r = NULL;
    if (krk_reader_init(k, data_id, "", &r) != KRK_OK)
        return false;
    uint8_t b[64];
    char t[16];
    size_t len = 0, tl;
    bool ok = krk_reader_fetch(r, b, sizeof b, &len, t, sizeof t, &tl) == KRK_OK &&
              len == strlen(want) && memcmp(b, want, len) == 0;
    krk_reader_deinit(r);
    return ok;
}

static void store3(krk_keyring *k)
{
    assert_int_equal(krk_store(k, "a", "", (const uint8_t *)"aa", 2, "SECRET"), KRK_OK);
    assert_int_equal(krk_store(k, "b", "", (const uint8_t *)"bb", 2, "SECRET"), KRK_OK);
    assert_int_equal(krk_store(k, "c", "", (const uint8_t *)"cc", 2, "SECRET"), KRK_OK);
}

/* Permission Denied on one Get: the load fails, the old state stays. */
static void test_denied_get_fails_the_load(void **state)
{
    (void)state;
    char g[64];
    krk_keyring *k = fresh(g, sizeof g);
    store3(k);
    arm("fault deny_get op=Get");
    krk_diag d;
    assert_int_equal(krk_reload_with(k, &cfg, &d), KRK_E_KMIP);
    assert_non_null(strstr(d.error, "Get of object"));
    assert_non_null(strstr(d.error, "not allowed"));
    assert_non_null(strstr(krk_last_error(k), "previous keys stay in service"));
    assert_int_equal(krk_key_count(k), 3);
    assert_true(readable(k, "a", "aa") && readable(k, "b", "bb") && readable(k, "c", "cc"));
    krk_close(k);
}

/* Item Not Found on one Get (destroyed meanwhile): skipped and counted. */
static void test_vanished_object_is_skipped(void **state)
{
    (void)state;
    char g[64];
    krk_keyring *k = fresh(g, sizeof g);
    store3(k);
    arm("fault gone_get op=Get");
    krk_diag d;
    assert_int_equal(krk_reload_with(k, &cfg, &d), KRK_OK);
    assert_int_equal(krk_key_count(k), 2);
    assert_int_equal(d.warning_count, 1);
    assert_non_null(strstr(d.warnings[0], "destroyed on the server while the keys were loading"));
    assert_int_equal(krk_reload_with(k, &cfg, &d), KRK_OK);
    assert_int_equal(krk_key_count(k), 3);
    krk_close(k);
}

/* Two objects, one identity, different bytes: a conflict, not served;
 * identical bytes: deduplicated. Deactivated: loaded and readable;
 * Pre-Active: never served. */
static void test_duplicates_and_states(void **state)
{
    (void)state;
    char g[64], u1[400], u2[400], u3[400], u4[400], u5[400], u6[400];
    krk_keyring *k = fresh(g, sizeof g);
    make_object(g, "dup", (const uint8_t *)"one", 3, KMIP_STATE_ACTIVE, u1, sizeof u1);
    make_object(g, "dup", (const uint8_t *)"two", 3, KMIP_STATE_ACTIVE, u2, sizeof u2);
    make_object(g, "same", (const uint8_t *)"xx", 2, KMIP_STATE_ACTIVE, u3, sizeof u3);
    make_object(g, "same", (const uint8_t *)"xx", 2, KMIP_STATE_DEACTIVATED, u4, sizeof u4);
    make_object(g, "old", (const uint8_t *)"od", 2, KMIP_STATE_DEACTIVATED, u5, sizeof u5);
    make_object(g, "pending", (const uint8_t *)"pp", 2, KMIP_STATE_PRE_ACTIVE, u6, sizeof u6);
    krk_diag d;
    assert_int_equal(krk_reload_with(k, &cfg, &d), KRK_OK);
    krk_reader *r = NULL;
    assert_int_equal(krk_reader_init(k, "dup", "", &r), KRK_E_CONFLICT);
    assert_null(r);
    assert_non_null(strstr(krk_last_error(k), u1));
    assert_non_null(strstr(krk_last_error(k), u2));
    assert_int_equal(state_in_keyring(k, "dup"), KRK_KEY_CONFLICT);
    assert_int_equal(krk_remove(k, "dup", ""), KRK_E_CONFLICT);
    assert_int_equal(krk_store(k, "dup", "", (const uint8_t *)"3", 1, "SECRET"), KRK_E_EXISTS);
    assert_true(readable(k, "same", "xx"));
    assert_int_equal(state_in_keyring(k, "same"), KRK_KEY_ACTIVE);
    assert_true(readable(k, "old", "od"));
    assert_int_equal(state_in_keyring(k, "old"), KRK_KEY_DEACTIVATED);
    assert_false(readable(k, "pending", "pp"));
    /* a Pre-Active object within its lease counts for a writer */
    assert_int_equal(krk_store(k, "pending", "", (const uint8_t *)"mine", 4, "SECRET"),
                     KRK_E_EXISTS);
    assert_non_null(strstr(krk_last_error(k), u6));
    assert_int_equal(server_state(u6), KMIP_STATE_PRE_ACTIVE);
    assert_int_equal(krk_key_count(k), 3);
    krk_metadata_item md[KRK_METADATA_MAX];
    size_t n = krk_metadata(k, md, KRK_METADATA_MAX);
    bool shown = false;
    for (size_t i = 0; i < n; i++)
        shown |= strcmp(md[i].key, "Key_states") == 0 &&
                 strstr(md[i].value, "1 Active, 1 Deactivated, 0 Compromised, 1 in conflict");
    assert_true(shown);
    krk_close(k);
}

/* A server ignoring Offset Items: Locate stops, the load fails with a
 * message (it paged forever). */
static void test_ignored_offset_stops(void **state)
{
    (void)state;
    char g[64], uid[400];
    krk_keyring *k = fresh(g, sizeof g);
    kmip_message *req = NULL, *resp = NULL;
    assert_int_equal(kmip_client_request(direct, &req), 0);
    kmip_key_spec spec = {0};
    spec.object_type = KMIP_OBJECT_TYPE_SECRET_DATA;
    spec.object_group = g;
    for (int i = 0; i < 300; i++)
        assert_int_equal(kmip_req_add_register(req, &spec, (const uint8_t *)"s", 1), 0);
    assert_int_equal(kmip_client_call(direct, req, &resp), 0);
    kmip_message_free(req);
    kmip_message_free(resp);
    (void)uid;
    arm("fault ignore_offset times=0");
    krk_diag d;
    assert_int_equal(krk_reload_with(k, &cfg, &d), KRK_E_KMIP);
    assert_non_null(strstr(d.error, "ignores Offset Items"));
    assert_true(fenv_clear(&E));
    krk_close(k);
}

/* A 300-byte Unique Identifier: stored, loaded and removed correctly. */
static void test_long_unique_identifier(void **state)
{
    (void)state;
    char g[64];
    krk_keyring *k = fresh(g, sizeof g);
    long before = fenv_server_objects(&E);
    arm("fault long_uid op=Register");
    assert_int_equal(krk_store(k, "long", "", (const uint8_t *)"LL", 2, "SECRET"), KRK_OK);
    assert_true(fenv_clear(&E));
    krk_diag d;
    assert_int_equal(krk_reload_with(k, &cfg, &d), KRK_OK);
    assert_true(readable(k, "long", "LL"));
    assert_int_equal(krk_remove(k, "long", ""), KRK_OK);
    assert_int_equal(fenv_server_objects(&E), before);
    krk_close(k);
}

/* Revoke succeeds, Destroy refused: reported as revoked on the server, and
 * the cache agrees (Deactivated, readable); a later remove finishes it. */
static void test_destroy_refused(void **state)
{
    (void)state;
    char g[64];
    krk_keyring *k = fresh(g, sizeof g);
    assert_int_equal(krk_store(k, "r", "", (const uint8_t *)"rr", 2, "SECRET"), KRK_OK);
    arm("fault refuse_destroy times=0");
    assert_int_equal(krk_remove(k, "r", ""), KRK_E_KMIP);
    assert_non_null(strstr(krk_last_error(k), "revoked it (now Deactivated)"));
    assert_int_equal(state_in_keyring(k, "r"), KRK_KEY_DEACTIVATED);
    assert_true(readable(k, "r", "rr"));
    krk_diag d;
    assert_int_equal(krk_reload_with(k, &cfg, &d), KRK_OK);
    assert_int_equal(state_in_keyring(k, "r"), KRK_KEY_DEACTIVATED);
    assert_true(fenv_clear(&E));
    assert_int_equal(krk_remove(k, "r", ""), KRK_OK);
    assert_int_equal(krk_key_count(k), 0);
    krk_close(k);
}

/* A Create whose answer was lost: the reconciliation touches only objects
 * with the writer's nonce; an older Deactivated key of the name survives,
 * and nothing Pre-Active is left. */
static void test_lost_create_spares_others(void **state)
{
    (void)state;
    char g[64], old[400];
    krk_keyring *k = fresh(g, sizeof g);
    char app[128], h[64];
    hex("gen", h);
    snprintf(app, sizeof app, "v1;AES;;%s", h);
    kmip_key_spec spec = {0};
    spec.object_type = KMIP_OBJECT_TYPE_SYMMETRIC_KEY;
    spec.algorithm = KMIP_CRYPTOGRAPHIC_ALGORITHM_AES;
    spec.length_bits = 256;
    spec.name = "gen";
    spec.object_group = g;
    spec.app_namespace = "keyring_kmip";
    spec.app_data = app;
    uint8_t key[32] = {7};
    assert_int_equal(kmip_client_register_activate(direct, &spec, key, 32, old, sizeof old), 0);
    assert_int_equal(kmip_client_revoke(direct, old,
                                        KMIP_REVOCATION_REASON_CODE_CESSATION_OF_OPERATION), 0);
    long before = fenv_server_objects(&E);
    arm("fault lose op=Create");
    krk_err e = krk_generate(k, "gen", "", "AES", 32);
    assert_true(e == KRK_E_EXISTS || e == KRK_E_KMIP);
    assert_int_equal(server_state(old), KMIP_STATE_DEACTIVATED);
    assert_int_equal(fenv_server_objects(&E), before); /* ours was removed, nothing else */
    krk_close(k);
}

/* The periodic refresh of the MariaDB plugin: 1,000 unchanged keys cost
 * the Locate and no Get; a key made elsewhere is fetched alone. A key
 * missing from memory is looked up alone. */
static void test_refresh_and_lookup(void **state)
{
    (void)state;
    char g[64];
    krk_keyring *k = fresh(g, sizeof g);
    /* 1,000 keys behind the keyring's back, in one request message */
    kmip_message *req = NULL, *resp = NULL;
    assert_int_equal(kmip_client_request(direct, &req), 0);
    char names[1000][16], apps[1000][64];
    for (int i = 0; i < 1000; i++) {
        char h[32];
        snprintf(names[i], sizeof names[i], "k%d", i);
        hex(names[i], h);
        snprintf(apps[i], sizeof apps[i], "v1;SECRET;;%s", h);
        kmip_key_spec spec = {0};
        spec.object_type = KMIP_OBJECT_TYPE_SECRET_DATA;
        spec.name = names[i];
        spec.object_group = g;
        spec.app_namespace = "keyring_kmip";
        spec.app_data = apps[i];
        assert_int_equal(kmip_req_add_register(req, &spec, (const uint8_t *)names[i],
                                               strlen(names[i])), 0);
        assert_int_equal(kmip_req_add_uid_op(req, KMIP_OPERATION_ACTIVATE, NULL), 0);
    }
    assert_int_equal(kmip_client_call(direct, req, &resp), 0);
    kmip_message_free(req);
    kmip_message_free(resp);
    /* one of them is looked up alone, before anything else */
    assert_true(!readable(k, "k7", "k7"));
    assert_int_equal(krk_lookup(k, "k7", ""), KRK_OK);
    assert_true(readable(k, "k7", "k7"));
    assert_int_equal(krk_lookup(k, "nothing", ""), KRK_E_NOT_FOUND);
    krk_diag d;
    size_t added = 0;
    assert_int_equal(krk_refresh(k, &added, &d), KRK_OK);
    assert_int_equal(added, 999);
    assert_int_equal(krk_key_count(k), 1000);
    /* unchanged: Locates only, not one Get */
    char out[160];
    assert_true(fenv_ctl(E.server_ctl, "stats", out, sizeof out));
    long r0 = atol(strstr(out, "requests=") + 9);
    assert_int_equal(krk_refresh(k, &added, &d), KRK_OK);
    assert_int_equal(added, 0);
    assert_true(fenv_ctl(E.server_ctl, "stats", out, sizeof out));
    long r1 = atol(strstr(out, "requests=") + 9);
    assert_int_equal(krk_load_requests(k), (uint64_t)(r1 - r0));
    /* 4 pages of Secret Data (the last short), the page holding its anchor
     * alone (Located Items ends nothing: review s5b S5-3), 1 of keys */
    assert_int_equal(r1 - r0, 6);
    /* a new key made elsewhere: one more request message, for it alone */
    char uid[400];
    make_object(g, "late", (const uint8_t *)"lt", 2, KMIP_STATE_ACTIVE, uid, sizeof uid);
    assert_int_equal(krk_refresh(k, &added, &d), KRK_OK);
    assert_int_equal(added, 1);
    assert_int_equal(krk_load_requests(k), 7);
    assert_true(readable(k, "late", "lt"));
    /* the server down: a lookup fails, the next one at once without asking */
    fenv_server_kill(&E);
    assert_int_equal(krk_lookup(k, "k9999", ""), KRK_E_KMIP);
    assert_int_equal(krk_lookup(k, "k9998", ""), KRK_E_KMIP);
    assert_non_null(strstr(krk_last_error(k), "not asked, the KMIP server failed"));
    assert_true(readable(k, "k7", "k7")); /* readers never wait for it */
    assert_true(fenv_server_start(&E));
    krk_close(k);
}

/* A server whose Get Attributes answers leave State out: the load cannot
 * tell an Active key from a Destroyed one, so it fails naming the object
 * and the old keys stay in service. Such objects were counted as "not
 * served" without a word: the reload succeeded with no keys at all. */
static void test_missing_state_fails_the_load(void **state)
{
    (void)state;
    char g[64];
    krk_keyring *k = fresh(g, sizeof g);
    store3(k);
    arm("fault no_state times=0");
    krk_diag d;
    krk_err e = krk_reload_with(k, &cfg, &d);
    assert_true(fenv_clear(&E));
    if (e != KRK_E_KMIP)
        fail_msg("reload without States: %s, %zu keys held, %zu warnings", krk_strerror(e),
                 krk_key_count(k), d.warning_count);
    assert_non_null(strstr(d.error, "State"));
    assert_int_equal(krk_key_count(k), 3);
    assert_true(readable(k, "a", "aa") && readable(k, "b", "bb") && readable(k, "c", "cc"));
    krk_close(k);
}

/* A refresh that finds two new objects for a key the cache holds, one with
 * its bytes and one with others: a conflict (invariant 3), whatever the
 * order the server lists them in. The object with the held bytes coming
 * first hid the other (the fresh state's conflict was dropped by the
 * merge, the key stayed served with the first bytes). */
static void test_refresh_keeps_conflicts(void **state)
{
    (void)state;
    char g[64], u1[400], u2[400];
    krk_keyring *k = fresh(g, sizeof g);
    assert_int_equal(krk_store(k, "rc", "", (const uint8_t *)"one", 3, "SECRET"), KRK_OK);
    make_object(g, "rc", (const uint8_t *)"one", 3, KMIP_STATE_ACTIVE, u1, sizeof u1);
    make_object(g, "rc", (const uint8_t *)"two", 3, KMIP_STATE_ACTIVE, u2, sizeof u2);
    krk_diag d;
    size_t added = 0;
    assert_int_equal(krk_refresh(k, &added, &d), KRK_OK);
    assert_int_equal(state_in_keyring(k, "rc"), KRK_KEY_CONFLICT);
    krk_reader *r = NULL;
    assert_int_equal(krk_reader_init(k, "rc", "", &r), KRK_E_CONFLICT);
    assert_null(r);
    assert_non_null(strstr(krk_last_error(k), u2));
    /* a reload agrees */
    assert_int_equal(krk_reload_with(k, &cfg, &d), KRK_OK);
    assert_int_equal(state_in_keyring(k, "rc"), KRK_KEY_CONFLICT);
    krk_close(k);
}

/* Keys the keyring accepted load again: 55 keys of KRK_MAX_KEY_BYTES with
 * ids of KRK_MAX_ID_BYTES (PyKMIP: the test server cuts Names at 255
 * bytes). Batches were sized by the bytes of their identifiers only, so 50
 * such keys made one answer over the client's 1 MiB response limit, and
 * every load of the group failed: the keyring could not be opened again
 * after writes it had acknowledged. */
static void test_load_of_the_largest_keys(void **state)
{
    (void)state;
    char group[64], path[1200];
    snprintf(group, sizeof group, "integrity-big-%ld", (long)time(NULL));
    snprintf(path, sizeof path, "%s/integrity-big.cnf", E.dir);
    assert_true(fenv_write_keyring_config(&E, path, fenv_fixture_port(fixture), group, 20000,
                                          NULL, NULL));
    krk_config big;
    krk_diag d;
    if (krk_config_read(path, &big, &d) != KRK_OK)
        fail_msg("%s", d.error);
    krk_keyring *k = NULL;
    if (krk_open(&big, &k, &d) != KRK_OK)
        fail_msg("open: %s", d.error);
    static uint8_t key[KRK_MAX_KEY_BYTES];
    static char data_id[KRK_MAX_ID_BYTES + 1], auth_id[KRK_MAX_ID_BYTES + 1];
    memset(auth_id, 'a', KRK_MAX_ID_BYTES);
    memset(data_id, 'd', KRK_MAX_ID_BYTES);
    for (int i = 0; i < 55; i++) {
        char n[8];
        snprintf(n, sizeof n, "%06d", i);
        memcpy(data_id, n, 6);
        memset(key, i + 1, sizeof key);
        if (krk_store(k, data_id, auth_id, key, sizeof key, "SECRET") != KRK_OK)
            fail_msg("store %d: %s", i, krk_last_error(k));
    }
    krk_err e = krk_reload_with(k, &big, &d);
    if (e != KRK_OK)
        fail_msg("reload of 55 keys the keyring stored: %s: %s", krk_strerror(e),
                 d.error);
    assert_int_equal(krk_key_count(k), 55);
    krk_close(k);
}

static void collect(void *ctx, const char *line)
{
    char *all = ctx;
    strncat(all, line, 8000 - strlen(all) - 2);
    strcat(all, "\n");
}

/* Pre-Active objects: a crashed writer's leftover past its lease is
 * ignored by writers, reported by check and removed by check --repair; one
 * within its lease is a write in progress. check lists conflicts and the
 * CLI exits 7 on them. */
static void test_check_and_leases(void **state)
{
    (void)state;
    char g[64], old[400], young[400], c1[400], c2[400], tag[80];
    krk_keyring *k = fresh(g, sizeof g);
    snprintf(tag, sizeof tag, "w1;0123456789abcdef0123456789abcdef;%lld",
             (long long)time(NULL) - 700);
    tag_for_next = tag;
    make_object(g, "crashed", (const uint8_t *)"cr", 2, KMIP_STATE_PRE_ACTIVE, old, sizeof old);
    snprintf(tag, sizeof tag, "w1;fedcba9876543210fedcba9876543210;%lld",
             (long long)time(NULL));
    make_object(g, "busy", (const uint8_t *)"bz", 2, KMIP_STATE_PRE_ACTIVE, young, sizeof young);
    tag_for_next = NULL;
    make_object(g, "twice", (const uint8_t *)"t1", 2, KMIP_STATE_ACTIVE, c1, sizeof c1);
    make_object(g, "twice", (const uint8_t *)"t2", 2, KMIP_STATE_ACTIVE, c2, sizeof c2);
    /* a leftover past its lease does not block its key */
    assert_int_equal(krk_store(k, "crashed", "", (const uint8_t *)"new", 3, "SECRET"), KRK_OK);
    assert_int_equal(krk_store(k, "busy", "", (const uint8_t *)"new", 3, "SECRET"), KRK_E_EXISTS);
    static char lines[8000];
    lines[0] = '\0';
    krk_check_result r;
    krk_diag d;
    assert_int_equal(krk_check_server(&cfg, false, collect, lines, &r, &d), KRK_OK);
    assert_int_equal(r.conflicts, 1);
    assert_int_equal(r.leftovers, 1);
    assert_int_equal(r.in_progress, 1);
    assert_int_equal(r.removed, 0);
    assert_non_null(strstr(lines, c1));
    assert_non_null(strstr(lines, c2));
    assert_non_null(strstr(lines, old));
    assert_int_equal(server_state(old), KMIP_STATE_PRE_ACTIVE);
    lines[0] = '\0';
    assert_int_equal(krk_check_server(&cfg, true, collect, lines, &r, &d), KRK_OK);
    assert_int_equal(r.removed, 1);
    assert_int_equal(server_state(old), 0);
    assert_int_equal(server_state(young), KMIP_STATE_PRE_ACTIVE);
    if (cli) { /* the CLI: exit 8, both identifiers listed */
        char cmd[2600], path[1200];
        snprintf(path, sizeof path, "%s/integrity.cnf", E.dir);
        snprintf(cmd, sizeof cmd, "%s check --config %s 2>&1", cli, path);
        FILE *p = popen(cmd, "r");
        assert_non_null(p);
        lines[0] = '\0';
        size_t n = fread(lines, 1, sizeof lines - 1, p);
        lines[n] = '\0';
        int st = pclose(p);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 8);
        assert_non_null(strstr(lines, c1));
        assert_non_null(strstr(lines, c2));
        /* list shows the state of a key that is not Active */
        snprintf(cmd, sizeof cmd, "%s list --config %s 2>&1", cli, path);
        p = popen(cmd, "r");
        assert_non_null(p);
        n = fread(lines, 1, sizeof lines - 1, p);
        lines[n] = '\0';
        assert_int_equal(pclose(p), 0);
        assert_non_null(strstr(lines, "twice\t\tConflict\n"));
        assert_non_null(strstr(lines, "crashed\t\n"));
    }
    krk_close(k);
}

static int setup(void **state)
{
    (void)state;
    if (!fenv_init(&E, fixture, "integrity", server_bin, "") || !fenv_server_start(&E))
        return -1;
    kmip_client_options *o = kmip_client_options_new();
    if (o == NULL || kmip_client_options_set_server(o, "127.0.0.1", E.server_port) ||
        kmip_client_options_set_ca(o, E.ca) || kmip_client_options_set_cert(o, E.cert, E.key))
        return -1;
    direct = kmip_client_new(o);
    kmip_client_options_free(o);
    return direct ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    kmip_client_free(direct);
    fenv_stop(&E);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: %s FIXTURE_DIR TEST_SERVER [KEYRING_KMIP]\n", argv[0]);
        return 2;
    }
    fixture = argv[1];
    server_bin = argv[2];
    cli = argc == 4 ? argv[3] : NULL;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_denied_get_fails_the_load),
        cmocka_unit_test(test_vanished_object_is_skipped),
        cmocka_unit_test(test_duplicates_and_states),
        cmocka_unit_test(test_ignored_offset_stops),
        cmocka_unit_test(test_long_unique_identifier),
        cmocka_unit_test(test_destroy_refused),
        cmocka_unit_test(test_lost_create_spares_others),
        cmocka_unit_test(test_refresh_and_lookup),
        cmocka_unit_test(test_check_and_leases),
        cmocka_unit_test(test_missing_state_fails_the_load),
        cmocka_unit_test(test_refresh_keeps_conflicts),
        cmocka_unit_test(test_load_of_the_largest_keys),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
