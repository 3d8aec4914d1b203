/* SPDX-License-Identifier: GPL-2.0-only */
/* Certificates over time (issue 15), against the test server: a client
 * certificate ending within cert_expiry_warning_days is warned about at
 * open (diag, metadata Cert_warning, krk_health_get); a renewed file is
 * taken up by a refresh (the MariaDB plugin's path) and by a reload
 * without a restart, and the warning goes; a certificate file replaced by
 * something unusable leaves the previous credentials in service (the
 * refresh warns, the reload fails, writes go on); so does a certificate
 * the server refuses (another CA): the refresh tries it on a connection of
 * its own first, and the expiry shown stays the one in service.
 * Usage: test_cert_renewal FIXTURE_DIR TEST_SERVER FAULT_PROXY */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fault_env.h"
#include "keyring_kmip/krk.h"

static const char *fixture, *server_bin, *proxy_bin;
static fenv E;
static char cert[1200], cfg_path[1200];

/* A client certificate for the fixture's client key, signed by its CA,
 * valid for `days`, written over `cert` (through a rename: a new file). */
static void issue(int days)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "set -e; cd '%s'; printf 'extendedKeyUsage=clientAuth\\n' > ext.cnf; "
             "openssl req -new -key '%s' -subj /CN=keyring_client -out c.csr 2>/dev/null; "
             "openssl x509 -req -in c.csr -CA '%s/ca.crt' -CAkey '%s/ca.key' -days %d "
             "-extfile ext.cnf -out new.pem 2>/dev/null; mv new.pem '%s'",
             E.dir, E.key, fixture, fixture, days, cert);
    assert_int_equal(system(cmd), 0);
}

static const char *meta(krk_keyring *k, const char *key, krk_metadata_item *md)
{
    size_t n = krk_metadata(k, md, KRK_METADATA_MAX);
    for (size_t i = 0; i < n; i++)
        if (strcmp(md[i].key, key) == 0)
            return md[i].value;
    return NULL;
}

static long long days_left(krk_keyring *k)
{
    krk_health h;
    krk_health_get(k, &h);
    return (h.client_cert_not_after - (long long)time(NULL)) / 86400;
}

static void store_ok(krk_keyring *k, const char *id)
{
    static const uint8_t key[32] = "renewal test key, 32 bytes long";
    krk_err e = krk_store(k, id, "", key, sizeof key, "AES");
    if (e != KRK_OK)
        fail_msg("store %s: %s", id, krk_last_error(k));
}

static void test_renewal(void **state)
{
    (void)state;
    krk_metadata_item *md = calloc(KRK_METADATA_MAX, sizeof *md);
    assert_non_null(md);
    snprintf(cert, sizeof cert, "%s/client-renewed.crt", E.dir);
    snprintf(cfg_path, sizeof cfg_path, "%s/keyring.cnf", E.dir);
    issue(5);
    assert_true(fenv_write_keyring_config(&E, cfg_path, E.server_port, "renewal", 3000, cert,
                                          E.key));
    krk_config cfg;
    krk_diag d;
    assert_int_equal(krk_config_read(cfg_path, &cfg, &d), KRK_OK);
    krk_keyring *k = NULL;
    krk_err e = krk_open(&cfg, &k, &d);
    if (e != KRK_OK)
        fail_msg("open: %s", d.error);
    /* 1. ending within 14 days: warned at open and shown */
    bool warned = false;
    for (size_t i = 0; i < d.warning_count; i++)
        warned |= strstr(d.warnings[i], "the client certificate") != NULL &&
                  strstr(d.warnings[i], "days (within \"cert_expiry_warning_days\" 14)");
    if (!warned)
        for (size_t i = 0; i < d.warning_count; i++)
            printf("warning: %s\n", d.warnings[i]);
    assert_true(warned);
    assert_non_null(strstr(meta(k, "Cert_warning", md), "ends in"));
    assert_in_range(days_left(k), 4, 5); /* 5 days from the second it was signed */
    store_ok(k, "before");
    /* 2. renewed: a refresh takes the new file up, the warning goes */
    issue(30);
    assert_int_equal(krk_refresh(k, NULL, &d), KRK_OK);
    assert_in_range(days_left(k), 29, 30);
    assert_string_equal(meta(k, "Cert_warning", md), "");
    store_ok(k, "after-refresh"); /* connects with the new certificate */
    /* and a reload too */
    issue(6);
    assert_int_equal(krk_reload_with(k, &cfg, &d), KRK_OK);
    assert_in_range(days_left(k), 5, 6);
    assert_non_null(strstr(meta(k, "Cert_warning", md), "ends in"));
    /* 3. an unusable file: the previous credentials stay in service */
    FILE *f = fopen(cert, "w");
    assert_non_null(f);
    fputs("not a certificate\n", f);
    fclose(f);
    assert_int_equal(krk_refresh(k, NULL, &d), KRK_OK);
    bool kept = false;
    for (size_t i = 0; i < d.warning_count; i++)
        kept |= strstr(d.warnings[i], "the previous credentials stay in service") != NULL;
    assert_true(kept);
    assert_int_not_equal(krk_reload_with(k, &cfg, &d), KRK_OK);
    assert_true(krk_is_initialized(k));
    store_ok(k, "after-failed-reload");
    assert_int_equal(krk_key_count(k), 3);
    /* 4. a good-looking certificate the server refuses (same key, another
     * issuer: self-signed, valid 30 days): not taken into service, warned,
     * the expiry shown stays the one in service (the 6-day one) */
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "openssl req -new -x509 -key '%s' -subj /CN=keyring_client -days 30 "
             "-out '%s.new' 2>/dev/null && mv '%s.new' '%s'", E.key, cert, cert, cert);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(krk_refresh(k, NULL, &d), KRK_OK);
    kept = false;
    for (size_t i = 0; i < d.warning_count; i++)
        kept |= strstr(d.warnings[i], "the previous credentials stay in service") != NULL &&
                strstr(d.warnings[i], "no KMIP server accepted the new credentials") != NULL;
    if (!kept)
        for (size_t i = 0; i < d.warning_count; i++)
            printf("warning: %s\n", d.warnings[i]);
    assert_true(kept);
    assert_in_range(days_left(k), 5, 6);
    assert_non_null(strstr(meta(k, "Cert_warning", md), "ends in"));
    store_ok(k, "after-refused-refresh"); /* the old credentials still connect */
    assert_int_equal(krk_key_count(k), 4);
    krk_close(k);
    free(md);
}

static int setup(void **state)
{
    (void)state;
    return fenv_init(&E, fixture, "cert-renewal", server_bin, proxy_bin) && fenv_server_start(&E)
               ? 0
               : -1;
}

static int teardown(void **state)
{
    (void)state;
    fenv_stop(&E);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s FIXTURE_DIR TEST_SERVER FAULT_PROXY\n", argv[0]);
        return 2;
    }
    fixture = argv[1];
    server_bin = argv[2];
    proxy_bin = argv[3];
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_renewal)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
