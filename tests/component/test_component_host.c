/* SPDX-License-Identifier: GPL-2.0-only */
/* The component host: component_keyring_kmip.so in an installed layout
 * (usr/lib/mysql/plugin, usr/sbin/mysqld.my) loaded through the chassis the
 * way mysqld loads it, with our KMIP test server behind it. Checks the
 * descriptor (provides, requires, metadata, struct sizes), runs every method
 * of every service through the service tables and asserts keyring_common's
 * conventions: init without I/O, Disabled (every call an error) until a
 * load succeeds, reader not-found vs error, NUL conventions of the two
 * iterators, too-small buffers failing and receiving nothing, iterator
 * invalidation by a store, a failed reload keeping the old state; logging
 * through the host's log_builtins, and, with no host log services (as in
 * mysql_migrate_keyring), through the component's fallback to stderr,
 * nothing ever on stdout. Also the chassis itself: default by first
 * registration, acquire/acquire_related, batch rollback, unload refusal.
 * Usage: test_component_host FIXTURE_DIR TEST_SERVER COMPONENT_SO */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fault_env.h"
#include "keyring_kmip/krk_chassis.h"
#include "keyring_kmip/krk_loader.h"

static const char *fixture, *server_bin, *component_so;
static fenv E;
static char root[1200], plugin_dir[1300], sbin_dir[1300], data_dir[1300], urn[1400];
static char cnf[1400], cert_copy[1300], key_copy[1300];
static krk_keyring_services S;
static unsigned serial;

/* ---- files ---- */

static void copy_file(const char *from, const char *to, mode_t mode)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    assert_non_null(in);
    assert_non_null(out);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    assert_int_equal(fclose(out), 0);
    chmod(to, mode);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
    chmod(path, 0600);
}

/* The configuration for port (extra: more JSON members, "" for none). */
static void write_config(unsigned port, const char *group, const char *extra)
{
    char text[8192];
    snprintf(text, sizeof text,
             "{\"server_addr\": \"127.0.0.1\", \"server_port\": %u, \"client_ca\": \"%s\", "
             "\"client_key\": \"%s\", \"server_ca\": \"%s\", \"object_group\": \"%s\", "
             "\"kmip_timeout_ms\": 2000%s}\n",
             port, cert_copy, key_copy, E.ca, group, extra);
    write_file(cnf, text);
}

static const char *new_group(void)
{
    static char g[64];
    snprintf(g, sizeof g, "host-%d-%u", (int)getpid(), ++serial);
    return g;
}

/* ---- the host's log ---- */

typedef struct logged {
    int level;
    char text[2400];
} logged;
static logged log_lines[64];
static size_t log_count;

static void capture(void *ctx, int level, const char *text)
{
    (void)ctx;
    if (log_count < 64) {
        log_lines[log_count].level = level;
        snprintf(log_lines[log_count].text, sizeof log_lines[0].text, "%s", text);
        log_count++;
    }
}

static bool logged_with(int level, const char *part)
{
    for (size_t i = 0; i < log_count; i++)
        if (log_lines[i].level == level && strstr(log_lines[i].text, part))
            return true;
    return false;
}

/* ---- up, down ---- */

static void up(bool host_log)
{
    krk_diag d;
    assert_int_equal(krk_chassis_init(&d), KRK_OK);
    log_count = 0;
    if (host_log)
        assert_int_equal(krk_chassis_register_log(capture, NULL), KRK_OK);
    const char *urns[] = {urn};
    if (krk_chassis_load(urns, 1, &d) != KRK_OK)
        fail_msg("load: %s", d.error);
    if (krk_keyring_services_acquire(&S, &d) != KRK_OK)
        fail_msg("services: %s", d.error);
    assert_non_null(S.admin);
}

static void down(void)
{
    krk_keyring_services_release(&S);
    const char *urns[] = {urn};
    krk_diag d;
    assert_int_equal(krk_chassis_unload(urns, 1, &d), KRK_OK);
    krk_chassis_deinit();
}

/* ---- metadata rows through the service ---- */

typedef struct rows {
    char key[48][64];
    char value[48][1100];
    size_t count;
} rows;

/* next() returns 0 when it moved onto an entry: a non-zero return while
 * an entry is still valid would end mysql_migrate_keyring's loop
 * (next_ok = !next(it)) early and lose the keys after it. */
static void meta_step(const mysql_service_keyring_component_metadata_query_t *m,
                      my_h_keyring_component_metadata_iterator it)
{
    if (m->next(it) != 0)
        assert_int_equal(m->is_valid(it), 0);
}

static void keys_step(my_h_keyring_keys_metadata_iterator it);

static void read_rows(rows *r)
{
    memset(r, 0, sizeof *r);
    const mysql_service_keyring_component_metadata_query_t *m = S.metadata;
    my_h_keyring_component_metadata_iterator it = NULL;
    assert_int_equal(m->init(&it), 0);
    assert_non_null(it);
    for (; m->is_valid(it) != 0; meta_step(m, it)) {
        assert_true(r->count < 48);
        size_t kl = 0, vl = 0;
        assert_int_equal(m->get_length(it, &kl, &vl), 0);
        char k[64], v[1100];
        assert_true(kl <= sizeof k && vl <= sizeof v);
        /* get_length includes the NUL: one byte less does not fit */
        memset(k, 'x', sizeof k);
        assert_int_not_equal(m->get(it, k, kl - 1, v, vl), 0);
        assert_int_equal(k[0], 'x');
        assert_int_equal(m->get(it, k, kl, v, vl), 0);
        assert_int_equal(strlen(k) + 1, kl);
        assert_int_equal(strlen(v) + 1, vl);
        memcpy(r->key[r->count], k, kl);
        memcpy(r->value[r->count], v, vl);
        r->count++;
    }
    assert_int_equal(m->is_valid(it), 0);
    assert_int_not_equal(m->next(it), 0); /* at the end */
    assert_int_not_equal(m->get_length(it, &(size_t){0}, &(size_t){0}), 0);
    assert_int_equal(m->deinit(it), 0);
}

static const char *row(const rows *r, const char *key)
{
    for (size_t i = 0; i < r->count; i++)
        if (strcmp(r->key[i], key) == 0)
            return r->value[i];
    return NULL;
}

static const char *const percona[] = {
    "Component_name", "Author",      "License",      "Implementation_name", "Version",
    "Component_status", "Server_addr", "Server_port", "Client_ca",    "Client_key",
    "Server_ca",      "Object_group", "Max_objects", "Kmip_timeout_ms",
    "Tls_peer_verification", "Tls_hostname_verification",
};

static void assert_percona_first(const rows *r)
{
    assert_true(r->count > 16);
    for (size_t i = 0; i < 16; i++)
        assert_string_equal(r->key[i], percona[i]);
}

/* ---- every keyring call fails while Disabled ---- */

static void assert_every_call_fails(void)
{
    my_h_keyring_reader_object ro = (my_h_keyring_reader_object)(uintptr_t)1;
    assert_int_not_equal(S.reader->init("k", "", &ro), 0); /* an error, not "not found" */
    assert_null(ro);
    const unsigned char b[16] = {0};
    assert_int_not_equal(S.writer->store("k", "", b, 16, "AES"), 0);
    assert_int_not_equal(S.writer->remove("k", ""), 0);
    assert_int_not_equal(S.generator->generate("k", "", "AES", 32), 0);
    my_h_keyring_keys_metadata_iterator it = NULL;
    assert_int_not_equal(S.keys->init(&it), 0);
    size_t out = 0;
    /* get_size needs no key: it answers while Disabled, as keyring_common's */
    assert_int_equal(S.aes->get_size(16, "cbc", 256, &out), 0);
    assert_int_equal(out, 32);
    unsigned char o[64];
    assert_int_not_equal(S.aes->encrypt("k", "", "cbc", 256, b, 1, b, 16, o, sizeof o, &out), 0);
    assert_int_not_equal(S.aes->decrypt("k", "", "cbc", 256, b, 1, b, 16, o, sizeof o, &out), 0);
    assert_int_equal(S.status->is_initialized(), 0);
    char why[256];
    assert_int_equal(S.admin->last_error(why, sizeof why), KRK_E_NOT_INITIALIZED);
}

/* ---- tests ---- */

/* The ABI written down again from the reference's tables (function pointer
 * index by index, docs/MYSQL.md "How the component is built"), not from
 * krk_mysql_abi.h: the host shares that header with the component, so only
 * an independent statement of the order catches a member moved in it. */
#define AT(type, member, index) assert_int_equal(offsetof(type, member), (index) * sizeof(void *))
static void test_abi_layout_from_reference(void **state)
{
    (void)state;
    AT(mysql_component_t, name, 0);
    AT(mysql_component_t, provides, 1);
    AT(mysql_component_t, requires_service, 2);
    AT(mysql_component_t, metadata, 3);
    AT(mysql_component_t, init, 4);
    AT(mysql_component_t, deinit, 5);
    AT(mysql_service_registry_t, acquire, 0);
    AT(mysql_service_registry_t, acquire_related, 1);
    AT(mysql_service_registry_t, release, 2);
    AT(mysql_service_registry_registration_t, register_service, 0);
    AT(mysql_service_registry_registration_t, unregister, 1);
    AT(mysql_service_registry_registration_t, set_default, 2);
    AT(mysql_service_keyring_reader_with_status_t, init, 0);
    AT(mysql_service_keyring_reader_with_status_t, deinit, 1);
    AT(mysql_service_keyring_reader_with_status_t, fetch_length, 2);
    AT(mysql_service_keyring_reader_with_status_t, fetch, 3);
    AT(mysql_service_keyring_writer_t, store, 0);
    AT(mysql_service_keyring_writer_t, remove, 1);
    AT(mysql_service_keyring_generator_t, generate, 0);
    AT(mysql_service_keyring_keys_metadata_iterator_t, init, 0);
    AT(mysql_service_keyring_keys_metadata_iterator_t, deinit, 1);
    AT(mysql_service_keyring_keys_metadata_iterator_t, is_valid, 2);
    AT(mysql_service_keyring_keys_metadata_iterator_t, next, 3);
    AT(mysql_service_keyring_keys_metadata_iterator_t, get_length, 4);
    AT(mysql_service_keyring_keys_metadata_iterator_t, get, 5);
    AT(mysql_service_keyring_component_status_t, is_initialized, 0);
    AT(mysql_service_keyring_component_metadata_query_t, init, 0);
    AT(mysql_service_keyring_component_metadata_query_t, deinit, 1);
    AT(mysql_service_keyring_component_metadata_query_t, is_valid, 2);
    AT(mysql_service_keyring_component_metadata_query_t, next, 3);
    AT(mysql_service_keyring_component_metadata_query_t, get_length, 4);
    AT(mysql_service_keyring_component_metadata_query_t, get, 5);
    AT(mysql_service_keyring_load_t, load, 0);
    AT(mysql_service_keyring_aes_t, get_size, 0);
    AT(mysql_service_keyring_aes_t, encrypt, 1);
    AT(mysql_service_keyring_aes_t, decrypt, 2);
    /* log_builtins, 8.0.2x-8.4 column of the reference's section 6.3 */
    AT(mysql_service_log_builtins_t, wellknown_by_type, 0);
    AT(mysql_service_log_builtins_t, item_set_int, 8);
    AT(mysql_service_log_builtins_t, item_set_lexstring, 10);
    AT(mysql_service_log_builtins_t, item_set_cstring, 11);
    AT(mysql_service_log_builtins_t, item_set_with_key, 12);
    AT(mysql_service_log_builtins_t, item_set, 13);
    AT(mysql_service_log_builtins_t, line_item_set, 15);
    AT(mysql_service_log_builtins_t, line_init, 16);
    AT(mysql_service_log_builtins_t, line_exit, 17);
    AT(mysql_service_log_builtins_t, line_submit, 26);
    AT(mysql_service_log_builtins_t, message, 27);
    AT(mysql_service_log_builtins_t, sanitize, 28);
    AT(mysql_service_log_builtins_t, errmsg_by_errcode, 29);
    AT(mysql_service_log_builtins_t, close_errstream, 36);
    AT(mysql_service_log_builtins_t, reopen_errstream, 37);
    assert_int_equal(sizeof(mysql_service_log_builtins_t), 38 * sizeof(void *));
    AT(mysql_service_log_builtins_string_t, malloc, 0);
    AT(mysql_service_log_builtins_string_t, strndup, 1);
    AT(mysql_service_log_builtins_string_t, free, 2);
    AT(mysql_service_log_builtins_string_t, length, 3);
    AT(mysql_service_log_builtins_string_t, find_first, 4);
    AT(mysql_service_log_builtins_string_t, find_last, 5);
    AT(mysql_service_log_builtins_string_t, compare, 6);
}
#undef AT

static void test_descriptor(void **state)
{
    (void)state;
    assert_int_equal(sizeof(mysql_component_t), 48);
    assert_int_equal(sizeof(mysql_service_ref_t), 16);
    assert_int_equal(sizeof(mysql_service_placeholder_ref_t), 16);
    assert_int_equal(sizeof(mysql_metadata_ref_t), 16);
    assert_int_equal(sizeof(mysql_service_keyring_reader_with_status_t), 32);
    assert_int_equal(sizeof(mysql_service_keyring_writer_t), 16);
    assert_int_equal(sizeof(mysql_service_keyring_generator_t), 8);
    assert_int_equal(sizeof(mysql_service_keyring_keys_metadata_iterator_t), 48);
    assert_int_equal(sizeof(mysql_service_keyring_component_status_t), 8);
    assert_int_equal(sizeof(mysql_service_keyring_component_metadata_query_t), 48);
    assert_int_equal(sizeof(mysql_service_keyring_load_t), 8);
    assert_int_equal(sizeof(mysql_service_keyring_aes_t), 24);
    assert_int_equal(sizeof(mysql_service_log_builtins_t), 38 * sizeof(void *));
    assert_int_equal(sizeof(mysql_service_log_builtins_string_t), 9 * sizeof(void *));

    /* dlopen(RTLD_NOW) on its own: everything resolves; the one entry */
    char path[1500];
    snprintf(path, sizeof path, "%s.so", urn + 7);
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL)
        fail_msg("dlopen %s: %s", path, dlerror());
    assert_non_null(dlsym(h, "list_components"));
    assert_null(dlsym(h, "keyring_kmip_component_v1")); /* the old table ABI is gone */
    assert_null(dlsym(h, "krk_open"));
    dlclose(h);

    up(true);
    const mysql_component_t *c = krk_chassis_component(urn);
    assert_non_null(c);
    assert_string_equal(c->name, "component_keyring_kmip");
    static const char *const provides[] = {
        "keyring_aes", "keyring_generator", "keyring_load", "keyring_keys_metadata_iterator",
        "keyring_component_status", "keyring_component_metadata_query",
        "keyring_reader_with_status", "keyring_writer", "log_builtins", "log_builtins_string",
        "keyring_kmip_admin", "keyring_kmip_admin_v2",
    };
    size_t n = 0;
    for (const mysql_service_ref_t *p = c->provides; p->implementation; p++, n++) {
        assert_true(n < 12);
        char want[128];
        snprintf(want, sizeof want, "%s.component_keyring_kmip", provides[n]);
        assert_string_equal(p->name, want);
    }
    assert_int_equal(n, 12);
    static const char *const requires[] = {"registry", "log_builtins", "log_builtins_string"};
    n = 0;
    for (const mysql_service_placeholder_ref_t *r = c->requires_service; r->name; r++, n++) {
        assert_true(n < 3);
        assert_string_equal(r->name, requires[n]);
        assert_non_null(*r->implementation); /* filled by the loader */
    }
    assert_int_equal(n, 3);
    static const char *const md[][2] = {{"mysql.author", NULL},
                                        {"mysql.license", "GPL"},
                                        {"component_keyring_kmip_service", "1"}};
    n = 0;
    for (const mysql_metadata_ref_t *m = c->metadata; m->key; m++, n++) {
        assert_true(n < 3);
        assert_string_equal(m->key, md[n][0]);
        if (md[n][1])
            assert_string_equal(m->value, md[n][1]);
    }
    assert_int_equal(n, 3);
    /* what mysqld finds after the manifest: all eight under our name */
    assert_string_equal(S.implementation, "component_keyring_kmip");
    assert_ptr_equal(S.aes, c->provides[0].implementation);
    assert_ptr_equal(S.generator, c->provides[1].implementation);
    assert_ptr_equal(S.load, c->provides[2].implementation);
    assert_ptr_equal(S.keys, c->provides[3].implementation);
    assert_ptr_equal(S.status, c->provides[4].implementation);
    assert_ptr_equal(S.metadata, c->provides[5].implementation);
    assert_ptr_equal(S.reader, c->provides[6].implementation);
    assert_ptr_equal(S.writer, c->provides[7].implementation);
    /* the host's log_builtins were first: they are the default, the
     * component's placeholder has them, not its own fallback */
    my_h_service lb = NULL;
    assert_int_equal(krk_chassis_registry()->acquire("log_builtins", &lb), 0);
    assert_ptr_not_equal(lb, c->provides[8].implementation);
    assert_ptr_equal(*c->requires_service[1].implementation, lb);
    assert_int_equal(krk_chassis_registry()->release(lb), 0);
    /* unloading is refused while the host holds the services */
    const char *urns[] = {urn};
    krk_diag d;
    assert_int_equal(krk_chassis_unload(urns, 1, &d), KRK_E_EXISTS);
    assert_non_null(strstr(d.error, "references"));
    down();
}

static void test_disabled_until_loaded(void **state)
{
    (void)state;
    unlink(cnf);
    up(true);
    /* init did no I/O and read no configuration: nothing was there to read */
    assert_int_equal(log_count, 0);
    assert_every_call_fails();
    rows r;
    read_rows(&r);
    assert_percona_first(&r);
    assert_string_equal(row(&r, "Component_status"), "Disabled");
    for (size_t i = 6; i < 16; i++)
        assert_string_equal(r.value[i], "<NOT APPLICABLE>");
    /* a load without a configuration fails, logged through the host, and
     * the component stays Disabled, answering every call with an error */
    assert_int_not_equal(S.load->load(plugin_dir, data_dir), 0);
    assert_true(logged_with(0, "component_keyring_kmip: "));
    assert_true(logged_with(0, "keyring configuration not found"));
    char why[512];
    assert_int_equal(S.admin->last_error(why, sizeof why), KRK_E_CONFIG);
    assert_non_null(strstr(why, "component_keyring_kmip.cnf"));
    assert_every_call_fails();
    read_rows(&r);
    assert_string_equal(row(&r, "Component_status"), "Disabled");
    assert_non_null(strstr(row(&r, "Last_error"), "keyring configuration not found"));
    /* an unreachable server: Disabled too, never an empty keyring */
    write_config(1, new_group(), "");
    assert_int_not_equal(S.load->load(plugin_dir, NULL), 0);
    assert_every_call_fails();
    down();
}

static void put_key(const char *id, const char *auth, size_t len, const char *type)
{
    unsigned char b[64];
    for (size_t i = 0; i < len; i++)
        b[i] = (unsigned char)(i + 1);
    assert_int_equal(S.writer->store(id, auth, b, len, type), 0);
}

/* Readers through the service while loads run: each read finds the key. */
typedef struct reader_run {
    int rounds, failures;
} reader_run;

static void *read_loop(void *arg)
{
    reader_run *r = arg;
    for (int i = 0; i < r->rounds; i++) {
        my_h_keyring_reader_object ro = NULL;
        unsigned char data[64];
        char type[8];
        size_t dl = 0, tl = 0;
        if (S.reader->init("k2", "", &ro) != 0 || ro == NULL ||
            S.reader->fetch(ro, data, sizeof data, &dl, type, sizeof type, &tl) != 0 || dl != 16)
            r->failures++;
        if (ro)
            (void)S.reader->deinit(ro);
    }
    return NULL;
}

static void keys_step(my_h_keyring_keys_metadata_iterator it)
{
    if (S.keys->next(it) != 0)
        assert_int_equal(S.keys->is_valid(it), 0);
}

static void test_services(void **state)
{
    (void)state;
    const char *group = new_group();
    write_config(E.server_port, group, "");
    up(true);
    /* mysql_migrate_keyring passes instance_path NULL */
    if (S.load->load(plugin_dir, NULL) != 0) {
        char why[512];
        (void)S.admin->last_error(why, sizeof why);
        fail_msg("load: %s", why);
    }
    assert_int_not_equal(S.status->is_initialized(), 0);
    rows r;
    read_rows(&r);
    assert_percona_first(&r);
    assert_string_equal(row(&r, "Component_status"), "Active");
    assert_string_equal(row(&r, "Server_addr"), "127.0.0.1");
    char port[16];
    snprintf(port, sizeof port, "%u", E.server_port);
    assert_string_equal(row(&r, "Server_port"), port);
    assert_string_equal(row(&r, "Object_group"), group);
    assert_string_equal(row(&r, "Kmip_timeout_ms"), "2000");
    assert_string_equal(row(&r, "Tls_peer_verification"), "true");
    assert_string_equal(row(&r, "Key_count"), "0"); /* ours, after Percona's */
    assert_string_equal(row(&r, "Last_error"), "<NONE>");

    /* reader: not found is success with no object */
    my_h_keyring_reader_object ro = (my_h_keyring_reader_object)(uintptr_t)1;
    assert_int_equal(S.reader->init("absent", "", &ro), 0);
    assert_null(ro);
    put_key("k1", "", 32, "AES");
    put_key("k1", "bob", 7, "SECRET");
    assert_int_not_equal(S.writer->store("k1", "", (const unsigned char *)"x", 1, "AES"), 0);
    assert_int_equal(S.reader->init("k1", "", &ro), 0);
    assert_non_null(ro);
    size_t dl = 0, tl = 0;
    assert_int_equal(S.reader->fetch_length(ro, &dl, &tl), 0);
    assert_int_equal(dl, 32);
    assert_int_equal(tl, 3); /* "AES", without the NUL */
    unsigned char data[64];
    char type[16];
    size_t got = 99, got_type = 99;
    memset(data, 0xAA, sizeof data);
    memset(type, 'z', sizeof type);
    /* too small: fails and writes nothing */
    assert_int_not_equal(S.reader->fetch(ro, data, 31, &got, type, sizeof type, &got_type), 0);
    assert_int_equal(data[0], 0xAA);
    assert_int_equal(type[0], 'z');
    assert_int_not_equal(S.reader->fetch(ro, data, sizeof data, &got, type, 2, &got_type), 0);
    assert_int_equal(data[0], 0xAA);
    assert_int_equal(type[0], 'z');
    /* exactly the type's length, as mysqld's read_secret passes it
     * (buffer of length + 1, length given): succeeds, no NUL written */
    assert_int_equal(S.reader->fetch(ro, data, 32, &got, type, 3, &got_type), 0);
    assert_int_equal(got_type, 3);
    assert_memory_equal(type, "AES", 3);
    assert_int_equal(type[3], 'z');
    memset(type, 'z', sizeof type);
    assert_int_equal(S.reader->fetch(ro, data, 32, &got, type, 4, &got_type), 0);
    assert_int_equal(got, 32);
    assert_int_equal(got_type, 3);
    assert_string_equal(type, "AES");
    assert_int_equal(data[0], 1);
    assert_int_equal(data[31], 32);
    assert_int_equal(S.reader->deinit(ro), 0);

    /* generator, writer.remove (absent: fails, as keyring_common) */
    assert_int_equal(S.generator->generate("g1", "", "AES", 32), 0);
    assert_int_equal(S.writer->remove("k1", "bob"), 0);
    assert_int_not_equal(S.writer->remove("k1", "bob"), 0);
    assert_int_equal(S.reader->init("k1", "bob", &ro), 0);
    assert_null(ro);

    /* keys iterator: is_valid non-zero is valid, lengths without NUL,
     * buffers must be longer than the id */
    my_h_keyring_keys_metadata_iterator it = NULL;
    assert_int_equal(S.keys->init(&it), 0);
    size_t seen = 0;
    for (; S.keys->is_valid(it) != 0; keys_step(it)) {
        size_t il = 0, al = 0;
        assert_int_equal(S.keys->get_length(it, &il, &al), 0);
        char id[64], auth[64];
        memset(id, 'q', sizeof id);
        assert_int_not_equal(S.keys->get(it, id, il, auth, sizeof auth), 0);
        assert_int_equal(id[0], 'q');
        assert_int_equal(S.keys->get(it, id, il + 1, auth, al + 1), 0);
        assert_int_equal(strlen(id), il);
        assert_true(strcmp(id, "k1") == 0 || strcmp(id, "g1") == 0);
        krk_key_state st = KRK_KEY_CONFLICT;
        assert_int_equal(S.admin->iterator_state(it, &st), 0);
        assert_int_equal(st, KRK_KEY_ACTIVE);
        seen++;
    }
    assert_int_equal(seen, 2);
    assert_int_not_equal(S.keys->next(it), 0);
    assert_int_equal(S.keys->deinit(it), 0);
    /* mysql_migrate_keyring's own loop (Keyring_migrate::migrate_keys) sees
     * every key */
    assert_int_equal(S.keys->init(&it), 0);
    seen = 0;
    for (bool next_ok = true; S.keys->is_valid(it) && next_ok; next_ok = !S.keys->next(it))
        seen++;
    assert_int_equal(seen, 2);
    assert_int_equal(S.keys->deinit(it), 0);
    /* mysqld's own read of a key (mysys keyring_operations_helper::
     * read_secret, used for the InnoDB master key, binlog encryption and the
     * keyring UDFs): fetch with the type buffer's length given as the
     * type's length exactly, a failure taken as "key absent" */
    {
        my_h_keyring_reader_object rs = NULL;
        size_t secret_length = 0, secret_type_length = 0;
        assert_int_equal(S.reader->init("k1", "", &rs), 0);
        assert_non_null(rs);
        assert_int_equal(S.reader->fetch_length(rs, &secret_length, &secret_type_length), 0);
        unsigned char *secret = calloc(1, secret_length);
        char *secret_type = calloc(1, secret_type_length + 1);
        assert_non_null(secret);
        assert_non_null(secret_type);
        assert_int_equal(S.reader->fetch(rs, secret, secret_length, &secret_length, secret_type,
                                         secret_type_length, &secret_type_length),
                         0);
        assert_int_equal(secret_length, 32);
        assert_string_equal(secret_type, "AES");
        assert_int_equal(secret[0], 1);
        assert_int_equal(S.reader->deinit(rs), 0);
        free(secret);
        free(secret_type);
    }
    /* a store invalidates an open iterator */
    assert_int_equal(S.keys->init(&it), 0);
    assert_int_not_equal(S.keys->is_valid(it), 0);
    put_key("k2", "", 16, "AES");
    assert_int_equal(S.keys->is_valid(it), 0);
    size_t il, al;
    assert_int_not_equal(S.keys->get_length(it, &il, &al), 0);
    assert_int_equal(S.keys->deinit(it), 0);

    /* aes: get_size, a round trip, a too-small output */
    size_t need = 0;
    assert_int_equal(S.aes->get_size(20, "cbc", 256, &need), 0);
    assert_int_equal(need, 32);
    assert_int_not_equal(S.aes->get_size(20, "ecb", 256, &need), 0);
    const unsigned char iv[16] = {9}, plain[20] = "twenty bytes of text";
    unsigned char enc[64], dec[64];
    size_t el = 0, dl2 = 0;
    assert_int_not_equal(S.aes->encrypt("k1", "", "cbc", 256, iv, 1, plain, 20, enc, 16, &el), 0);
    assert_int_equal(S.aes->encrypt("k1", "", "cbc", 256, iv, 1, plain, 20, enc, sizeof enc, &el),
                     0);
    assert_int_equal(el, 32);
    assert_int_equal(S.aes->decrypt("k1", "", "cbc", 256, iv, 1, enc, el, dec, sizeof dec, &dl2),
                     0);
    assert_int_equal(dl2, 20);
    assert_memory_equal(dec, plain, 20);
    assert_int_not_equal(S.aes->encrypt("absent", "", "cbc", 256, iv, 1, plain, 20, enc,
                                        sizeof enc, &el), 0);

    /* a write the KMIP server cannot take fails, and is logged as an error */
    fenv_server_kill(&E);
    log_count = 0;
    unsigned char b16[16] = {7};
    assert_int_not_equal(S.writer->store("k3", "", b16, 16, "AES"), 0);
    assert_true(logged_with(0, "store of key \"k3\""));
    assert_int_equal(S.reader->init("k3", "", &ro), 0);
    assert_null(ro);
    assert_true(fenv_server_start(&E));

    /* a failed reload keeps the keys and the configuration in service */
    write_config(1, group, "");
    assert_int_not_equal(S.load->load(plugin_dir, data_dir), 0);
    assert_true(logged_with(0, "stay in service"));
    assert_int_not_equal(S.status->is_initialized(), 0);
    assert_int_equal(S.reader->init("k2", "", &ro), 0);
    assert_non_null(ro);
    assert_int_equal(S.reader->deinit(ro), 0);
    read_rows(&r);
    assert_string_equal(row(&r, "Component_status"), "Active");
    assert_string_equal(row(&r, "Server_port"), port);
    /* a reload that works: the configuration in service changes (insecure:
     * logged as a warning through the host) */
    write_config(E.server_port, group, ", \"tls_hostname_verification\": false");
    log_count = 0;
    assert_int_equal(S.load->load(plugin_dir, data_dir), 0);
    assert_true(logged_with(1, "component_keyring_kmip: "));
    assert_true(logged_with(1, "host name"));
    read_rows(&r);
    assert_string_equal(row(&r, "Tls_hostname_verification"), "false");
    assert_string_equal(row(&r, "Key_count"), "3");

    /* reloads (good and failing) while two threads read: no read fails */
    reader_run runs[2] = {{2000, 0}, {2000, 0}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, read_loop, &runs[i]), 0);
    for (int i = 0; i < 4; i++) {
        if (i % 2)
            write_config(1, group, "");
        else
            write_config(E.server_port, group, "");
        int st = S.load->load(plugin_dir, data_dir);
        assert_int_equal(st != 0, i % 2);
    }
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    assert_int_equal(runs[0].failures + runs[1].failures, 0);

    /* clean up the group */
    assert_int_equal(S.writer->remove("k1", ""), 0);
    assert_int_equal(S.writer->remove("k2", ""), 0);
    assert_int_equal(S.writer->remove("g1", ""), 0);
    down();
}

/* Runs fn with stdout and stderr in files; returns what each got. */
static void with_output_captured(void (*fn)(void), char *out, size_t out_cap, char *err,
                                 size_t err_cap)
{
    char po[1500], pe[1500];
    snprintf(po, sizeof po, "%s/stdout", E.dir);
    snprintf(pe, sizeof pe, "%s/stderr", E.dir);
    fflush(stdout);
    fflush(stderr);
    int so = dup(1), se = dup(2);
    int fo = open(po, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int fe = open(pe, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(so >= 0 && se >= 0 && fo >= 0 && fe >= 0);
    dup2(fo, 1);
    dup2(fe, 2);
    fn();
    fflush(stdout);
    fflush(stderr);
    dup2(so, 1);
    dup2(se, 2);
    close(so);
    close(se);
    close(fo);
    close(fe);
    FILE *f = fopen(po, "r");
    size_t n = fread(out, 1, out_cap - 1, f);
    out[n] = '\0';
    fclose(f);
    f = fopen(pe, "r");
    n = fread(err, 1, err_cap - 1, f);
    err[n] = '\0';
    fclose(f);
}

static int migrate_status[5];

/* no assertions in here: stdout and stderr are files while it runs */
static void migrate_session(void)
{
    unlink(cnf);
    migrate_status[0] = S.load->load(plugin_dir, NULL); /* fails: no configuration */
    write_config(E.server_port, new_group(), ", \"tls_peer_verification\": false");
    migrate_status[1] = S.load->load(plugin_dir, NULL);
    const unsigned char key[16] = {1, 2, 3};
    migrate_status[2] = S.writer->store("m1", "", key, sizeof key, "AES");
    migrate_status[3] = S.writer->remove("m1", "");
    migrate_status[4] = S.writer->remove("m1", "");
}

static void test_without_host_log(void **state)
{
    (void)state;
    up(false); /* mysql_migrate_keyring: the host registers no log services */
    const mysql_component_t *c = krk_chassis_component(urn);
    my_h_service lb = NULL;
    assert_int_equal(krk_chassis_registry()->acquire("log_builtins", &lb), 0);
    assert_ptr_equal(lb, c->provides[8].implementation); /* its own fallback is the default */
    assert_ptr_equal(*c->requires_service[1].implementation, lb);
    assert_int_equal(krk_chassis_registry()->release(lb), 0);
    char out[4096], err[16384];
    with_output_captured(migrate_session, out, sizeof out, err, sizeof err);
    assert_int_not_equal(migrate_status[0], 0);
    assert_int_equal(migrate_status[1], 0);
    assert_int_equal(migrate_status[2], 0);
    assert_int_equal(migrate_status[3], 0);
    assert_int_not_equal(migrate_status[4], 0);
    assert_string_equal(out, ""); /* nothing on stdout, ever */
    assert_non_null(strstr(err, "[Error] [Keyring] component_keyring_kmip: "));
    assert_non_null(strstr(err, "keyring configuration not found"));
    assert_non_null(strstr(err, "[Warning] [Keyring] component_keyring_kmip: "));
    assert_int_equal(log_count, 0);
    down();
}

static void test_loader_as_mysqld(void **state)
{
    (void)state;
    write_config(E.server_port, new_group(), "");
    char my[1500];
    snprintf(my, sizeof my, "%s/mysqld.my", sbin_dir);
    write_file(my, "{\"components\": \"file:///component_keyring_kmip\"}");
    krk_loader_options o = {0};
    o.log = capture;
    log_count = 0;
    krk_loaded l;
    krk_diag d;
    if (krk_loader_open(sbin_dir, data_dir, plugin_dir, &o, &l, &d) != KRK_OK)
        fail_msg("loader: %s", d.error);
    /* the seed's three slashes load here, but mysqld refuses them */
    bool warned = false;
    for (size_t i = 0; i < d.warning_count; i++)
        warned |= strstr(d.warnings[i], "write \"file://component_keyring_kmip\"") != NULL;
    assert_true(warned);
    assert_int_not_equal(l.svc.status->is_initialized(), 0);
    assert_non_null(strstr(l.urn, "/usr/lib/mysql/plugin/component_keyring_kmip"));
    krk_loader_close(&l);
    /* a server's own wrappers registered first are the defaults, yet the
     * keyring found is the component's (first non-mysql_server reader) */
    assert_int_equal(krk_chassis_init(&d), KRK_OK);
    static const mysql_service_keyring_reader_with_status_t server_reader;
    static const mysql_service_keyring_writer_t server_writer;
    assert_int_equal(krk_chassis_registration()->register_service(
                         "keyring_reader_with_status.mysql_server", (my_h_service)(void *)&server_reader), 0);
    assert_int_equal(krk_chassis_registration()->register_service(
                         "keyring_writer.mysql_server", (my_h_service)(void *)&server_writer), 0);
    assert_int_equal(krk_chassis_register_log(capture, NULL), KRK_OK);
    const char *urns[] = {urn};
    assert_int_equal(krk_chassis_load(urns, 1, &d), KRK_OK);
    krk_keyring_services s;
    assert_int_equal(krk_keyring_services_acquire(&s, &d), KRK_OK);
    assert_string_equal(s.implementation, "component_keyring_kmip");
    assert_ptr_not_equal(s.reader, &server_reader);
    assert_ptr_not_equal(s.writer, &server_writer);
    my_h_service def = NULL;
    assert_int_equal(krk_chassis_registry()->acquire("keyring_writer", &def), 0);
    assert_ptr_equal(def, &server_writer);
    assert_int_equal(krk_chassis_registry()->release(def), 0);
    krk_keyring_services_release(&s);
    krk_chassis_deinit();
}

static void test_local_config_and_urns(void **state)
{
    (void)state;
    /* read_local_config with instance_path NULL: the current directory */
    char local_dir[1500], local_cnf[1600], cwd[4096];
    snprintf(local_dir, sizeof local_dir, "%s/instance", E.dir);
    mkdir(local_dir, 0700);
    write_config(E.server_port, new_group(), "");
    snprintf(local_cnf, sizeof local_cnf, "%s/component_keyring_kmip.cnf", local_dir);
    assert_int_equal(rename(cnf, local_cnf), 0);
    write_file(cnf, "{\"read_local_config\": true}\n");
    assert_non_null(getcwd(cwd, sizeof cwd));
    up(true);
    assert_int_equal(chdir(local_dir), 0);
    int st = S.load->load(plugin_dir, NULL);
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(st, 0);
    rows r;
    read_rows(&r);
    assert_string_equal(row(&r, "Component_status"), "Active");
    char path[1700];
    assert_int_equal(S.admin->config_path(path, sizeof path), 0);
    if (strstr(path, "instance/component_keyring_kmip.cnf") == NULL)
        fail_msg("configuration in service: %s", path);
    /* the same library under a second name is refused (its list_components
     * was seen), and so is an unknown scheme; nothing changes */
    char link[1500], urn2[1500];
    snprintf(link, sizeof link, "%s/component_keyring_kmip_again.so", plugin_dir);
    unlink(link);
    assert_int_equal(symlink("component_keyring_kmip.so", link), 0);
    snprintf(urn2, sizeof urn2, "file://%s/component_keyring_kmip_again", plugin_dir);
    const char *again[] = {urn2};
    krk_diag d;
    assert_int_equal(krk_chassis_load(again, 1, &d), KRK_E_EXISTS);
    const char *bad[] = {"http://component_keyring_kmip"};
    assert_int_equal(krk_chassis_load(bad, 1, &d), KRK_E_MANIFEST);
    assert_non_null(strstr(d.error, "unknown scheme"));
    assert_int_not_equal(S.status->is_initialized(), 0);
    unlink(link);
    down();
    unlink(local_cnf);
}

/* ---- the chassis with components of the test's own ---- */

static int calls[8]; /* init A, deinit A, init B, deinit B, init D, deinit D */
static const mysql_service_registry_t *a_registry;
static void *a_b, *b_a, *c_missing, *d_registry, *e_exact;
static int svc_a_impl, svc_b_impl, svc_c_impl, svc_d_impl, svc_e_impl;

static mysql_service_status_t a_init(void) { calls[0]++; return a_registry && a_b ? 0 : 1; }
static mysql_service_status_t a_deinit(void)
{
    calls[1]++;
    return a_b != NULL ? 0 : 1; /* placeholders still filled at deinit */
}
static mysql_service_status_t b_init(void) { calls[2]++; return 0; }
static mysql_service_status_t b_deinit(void) { calls[3]++; return 0; }
static mysql_service_status_t d_init(void) { calls[4]++; return 1; }
static mysql_service_status_t d_deinit(void) { calls[5]++; return 0; }

static mysql_service_ref_t a_prov[] = {{"svc_a.fake_a", &svc_a_impl}, {NULL, NULL}};
static mysql_service_placeholder_ref_t a_req[] = {
    {"registry", (void **)&a_registry}, {"svc_b", &a_b}, {NULL, NULL}};
static mysql_service_ref_t b_prov[] = {{"svc_b.fake_b", &svc_b_impl}, {NULL, NULL}};
static mysql_service_placeholder_ref_t b_req[] = {{"svc_a", &b_a}, {NULL, NULL}};
static mysql_service_ref_t c_prov[] = {{"svc_c.fake_c", &svc_c_impl}, {NULL, NULL}};
static mysql_service_placeholder_ref_t c_req[] = {{"svc_missing", &c_missing}, {NULL, NULL}};
static mysql_service_ref_t d_prov[] = {{"svc_d.fake_d", &svc_d_impl}, {NULL, NULL}};
static mysql_service_placeholder_ref_t d_req[] = {{"registry", &d_registry}, {NULL, NULL}};
static mysql_service_ref_t e_prov[] = {{"svc_e.fake_e", &svc_e_impl}, {NULL, NULL}};
static mysql_service_placeholder_ref_t e_req[] = {{"svc_a.fake_a", &e_exact}, {NULL, NULL}};
static mysql_metadata_ref_t no_md[] = {{NULL, NULL}};
static mysql_component_t fake_a = {"fake_a", a_prov, a_req, no_md, a_init, a_deinit};
static mysql_component_t fake_b = {"fake_b", b_prov, b_req, no_md, b_init, b_deinit};
static mysql_component_t fake_c = {"fake_c", c_prov, c_req, no_md, NULL, NULL};
static mysql_component_t fake_d = {"fake_d", d_prov, d_req, no_md, d_init, d_deinit};
static mysql_component_t fake_e = {"fake_e", e_prov, e_req, no_md, NULL, NULL};
static mysql_component_t *list_a(void) { return &fake_a; }
static mysql_component_t *list_b(void) { return &fake_b; }
static mysql_component_t *list_c(void) { return &fake_c; }
static mysql_component_t *list_d(void) { return &fake_d; }
static mysql_component_t *list_e(void) { return &fake_e; }

static void test_chassis(void **state)
{
    (void)state;
    krk_diag d;
    assert_int_equal(krk_chassis_init(&d), KRK_OK);
    assert_int_equal(krk_chassis_init(&d), KRK_E_EXISTS);
    assert_int_equal(krk_chassis_add_builtin("a", list_a), KRK_OK);
    assert_int_equal(krk_chassis_add_builtin("b", list_b), KRK_OK);
    assert_int_equal(krk_chassis_add_builtin("c", list_c), KRK_OK);
    assert_int_equal(krk_chassis_add_builtin("d", list_d), KRK_OK);
    assert_int_equal(krk_chassis_add_builtin("e", list_e), KRK_OK);
    const mysql_service_registry_t *r = krk_chassis_registry();
    memset(calls, 0, sizeof calls);

    /* a requirement nothing provides: the whole batch fails, nothing stays */
    const char *ac[] = {"builtin://a", "builtin://b", "builtin://c"};
    assert_int_equal(krk_chassis_load(ac, 3, &d), KRK_E_MANIFEST);
    assert_non_null(strstr(d.error, "svc_missing"));
    assert_int_equal(calls[0] + calls[2], 0); /* no init ran */
    assert_int_equal(krk_chassis_each("svc_a", NULL, NULL), 0);
    assert_null(krk_chassis_component("builtin://a"));
    /* "svc.impl" is satisfied only by what is registered before the batch */
    const char *ae[] = {"builtin://a", "builtin://b", "builtin://e"};
    assert_int_equal(krk_chassis_load(ae, 3, &d), KRK_E_MANIFEST);
    assert_non_null(strstr(d.error, "svc_a.fake_a"));
    /* an init that fails: no deinit for it, deinit for those before it */
    const char *abd[] = {"builtin://a", "builtin://b", "builtin://d"};
    assert_int_equal(krk_chassis_load(abd, 3, &d), KRK_E_MANIFEST);
    assert_int_equal(calls[0], 1);
    assert_int_equal(calls[1], 1);
    assert_int_equal(calls[2], 1);
    assert_int_equal(calls[3], 1);
    assert_int_equal(calls[4], 1);
    assert_int_equal(calls[5], 0);
    assert_int_equal(krk_chassis_each("svc_", NULL, NULL), 0);
    assert_null(a_b); /* placeholders emptied */
    assert_int_equal(krk_chassis_refs("registry." KRK_CHASSIS_IMPL), 0);

    /* A and B satisfy each other within a batch */
    const char *ab[] = {"builtin://a", "builtin://b"};
    assert_int_equal(krk_chassis_load(ab, 2, &d), KRK_OK);
    assert_ptr_equal(a_b, &svc_b_impl);
    assert_ptr_equal(b_a, &svc_a_impl);
    assert_int_equal(krk_chassis_load(ab, 1, &d), KRK_E_EXISTS); /* loaded already */
    /* then E's exact requirement is met */
    const char *e1[] = {"builtin://e"};
    assert_int_equal(krk_chassis_load(e1, 1, &d), KRK_OK);
    assert_ptr_equal(e_exact, &svc_a_impl);

    /* the registry: the first registration is the default */
    static int second_a;
    assert_int_equal(krk_chassis_registration()->register_service("svc_a.second",
                                                                  (my_h_service)(void *)&second_a),
                     0);
    assert_int_not_equal(krk_chassis_registration()->register_service(
                             "svc_a.second", (my_h_service)(void *)&second_a),
                         0);
    my_h_service h = NULL, h2 = NULL;
    assert_int_equal(r->acquire("svc_a", &h), 0);
    assert_ptr_equal(h, &svc_a_impl);
    assert_int_equal(r->acquire("svc_a.second", &h2), 0);
    assert_ptr_equal(h2, &second_a);
    assert_int_not_equal(r->acquire("svc_a.nope", &h2), 0);
    assert_int_equal(r->release((my_h_service)(void *)&second_a), 0);
    /* acquire_related: svc_b + ".fake_a" does not exist: svc_b's default */
    my_h_service rel = NULL;
    assert_int_equal(r->acquire_related("svc_b", h, &rel), 0);
    assert_ptr_equal(rel, &svc_b_impl);
    assert_int_equal(r->release(rel), 0);
    static int b_second;
    assert_int_equal(krk_chassis_registration()->register_service("svc_b.second",
                                                                  (my_h_service)(void *)&b_second),
                     0);
    my_h_service hs = NULL;
    assert_int_equal(r->acquire("svc_a.second", &hs), 0);
    assert_int_equal(r->acquire_related("svc_b", hs, &rel), 0);
    assert_ptr_equal(rel, &b_second); /* the same implementation name */
    assert_int_equal(r->release(rel), 0);
    /* a handle the registry did not hand out: an error, not the default */
    static int stranger;
    rel = NULL;
    assert_int_not_equal(r->acquire_related("svc_b", (my_h_service)(void *)&stranger, &rel), 0);
    assert_null(rel);
    assert_int_equal(r->release(hs), 0);
    assert_int_not_equal(krk_chassis_registration()->unregister("svc_b.nope"), 0);
    assert_int_equal(krk_chassis_registration()->unregister("svc_b.second"), 0);
    assert_int_equal(krk_chassis_registration()->set_default("svc_a.second"), 0);
    assert_int_equal(r->acquire("svc_a", &h2), 0);
    assert_ptr_equal(h2, &second_a);
    assert_int_equal(r->release(h2), 0);
    assert_int_equal(krk_chassis_registration()->unregister("svc_a.second"), 0);
    assert_int_equal(r->acquire("svc_a", &h2), 0); /* the default moved back */
    assert_ptr_equal(h2, &svc_a_impl);
    assert_int_equal(r->release(h2), 0);

    /* unload: refused while referenced from outside (the host, E) */
    assert_int_equal(krk_chassis_unload(ab, 2, &d), KRK_E_EXISTS);
    assert_int_equal(r->release(h), 0);
    assert_int_equal(krk_chassis_unload(ab, 2, &d), KRK_E_EXISTS); /* E still holds svc_a */
    assert_int_equal(krk_chassis_unload(e1, 1, &d), KRK_OK);
    int deinits = calls[1];
    assert_int_equal(krk_chassis_unload(ab, 2, &d), KRK_OK);
    assert_int_equal(calls[1], deinits + 1); /* a_deinit saw its placeholders filled */
    assert_null(a_b);
    assert_int_equal(krk_chassis_each("svc_a", NULL, NULL), 0);
    assert_int_not_equal(r->release((my_h_service)(void *)&svc_a_impl), 0);
    krk_chassis_deinit();
}

/* After a failed case: nothing of it stays loaded for the next. */
static int reset(void **state)
{
    (void)state;
    krk_chassis_deinit();
    memset(&S, 0, sizeof S);
    return 0;
}

static int setup(void **state)
{
    (void)state;
    if (!fenv_init(&E, fixture, "component-host", server_bin, "") || !fenv_server_start(&E))
        return -1;
    snprintf(root, sizeof root, "%s/root", E.dir);
    snprintf(plugin_dir, sizeof plugin_dir, "%s/usr/lib/mysql/plugin", root);
    snprintf(sbin_dir, sizeof sbin_dir, "%s/usr/sbin", root);
    snprintf(data_dir, sizeof data_dir, "%s/var/lib/mysql", root);
    const char *dirs[] = {"", "/usr", "/usr/lib", "/usr/lib/mysql", "/usr/lib/mysql/plugin",
                          "/usr/sbin", "/var", "/var/lib", "/var/lib/mysql"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        char p[1500];
        snprintf(p, sizeof p, "%s%s", root, dirs[i]);
        mkdir(p, 0700);
    }
    char so[1500];
    snprintf(so, sizeof so, "%s/component_keyring_kmip.so", plugin_dir);
    copy_file(component_so, so, 0644);
    snprintf(urn, sizeof urn, "file://%s/component_keyring_kmip", plugin_dir);
    snprintf(cnf, sizeof cnf, "%s/component_keyring_kmip.cnf", plugin_dir);
    snprintf(cert_copy, sizeof cert_copy, "%s/client.crt", E.dir);
    snprintf(key_copy, sizeof key_copy, "%s/client.key", E.dir);
    copy_file(E.cert, cert_copy, 0600);
    copy_file(E.key, key_copy, 0600);
    return 0;
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
        fprintf(stderr, "usage: %s FIXTURE_DIR TEST_SERVER COMPONENT_SO\n", argv[0]);
        return 2;
    }
    static char abs_fixture[4096];
    if (realpath(argv[1], abs_fixture) == NULL) { /* the configuration's paths are absolute */
        perror(argv[1]);
        return 2;
    }
    fixture = abs_fixture;
    server_bin = argv[2];
    component_so = argv[3];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_abi_layout_from_reference),
        cmocka_unit_test_teardown(test_descriptor, reset),
        cmocka_unit_test_teardown(test_disabled_until_loaded, reset),
        cmocka_unit_test_teardown(test_services, reset),
        cmocka_unit_test_teardown(test_without_host_log, reset),
        cmocka_unit_test_teardown(test_loader_as_mysqld, reset),
        cmocka_unit_test_teardown(test_local_config_and_urns, reset),
        cmocka_unit_test_teardown(test_chassis, reset),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
