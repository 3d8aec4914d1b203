/* SPDX-License-Identifier: GPL-2.0-only */
/* keyring-kmip check|list|get|store|generate|remove|status: the keyring as
 * the database would load it (manifest, component, configuration), or
 * directly from a configuration file (--config). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "keyring_kmip/krk_loader.h"
#include "kmip/kmip_ttlv.h"

enum { KR_KMIP = 3, KR_CONFIG = 4, KR_NOT_FOUND = 5, KR_EXISTS = 6 };

typedef struct kr_opts {
    const char *command;
    const char *basedir, *datadir, *plugin_dir, *config;
    const char *id, *auth_id, *type, *hex, *file;
    long length;
    bool json, as_hex;
} kr_opts;

static void kr_usage(FILE *f)
{
    fputs("Usage: keyring-kmip COMMAND [--config FILE | --basedir DIR --plugin-dir DIR "
          "[--datadir DIR]] ...\n"
          "\n"
          "  check                         validate manifest and configuration, connect, load\n"
          "  status                        the keyring's metadata\n"
          "  list [--json]                 keys: data_id and auth_id\n"
          "  get ID [--auth-id U] [--hex]  print a key (raw bytes, or hex)\n"
          "  store ID --type T [--auth-id U] (--hex H | --file F)\n"
          "  generate ID --type T --length BYTES [--auth-id U]\n"
          "  remove ID [--auth-id U]\n"
          "\n"
          "--basedir holds mysqld.my (the manifest), --plugin-dir component_keyring_kmip.so\n"
          "and component_keyring_kmip.cnf, --datadir the local manifest and configuration.\n"
          "--config FILE reads that configuration directly instead. Types: AES, RSA, DSA,\n"
          "SECRET. Exit status: 0 success, 1 bad input, 2 usage, 3 KMIP server or\n"
          "connection failure, 4 manifest or configuration problem, 5 no such key,\n"
          "6 key exists.\n",
          f);
}

static int exit_for(krk_err e)
{
    switch (e) {
    case KRK_OK:
        return CLI_OK;
    case KRK_E_KMIP:
        return KR_KMIP;
    case KRK_E_NO_MANIFEST:
    case KRK_E_MANIFEST:
    case KRK_E_CONFIG:
        return KR_CONFIG;
    case KRK_E_NOT_FOUND:
        return KR_NOT_FOUND;
    case KRK_E_EXISTS:
        return KR_EXISTS;
    default:
        return CLI_BAD_INPUT;
    }
}

static int parse(int argc, char **argv, kr_opts *o)
{
    o->command = argv[1];
    o->auth_id = "";
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        const char **slot = NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            kr_usage(stdout);
            return CLI_OK;
        } else if (strcmp(a, "--json") == 0) {
            o->json = true;
            continue;
        } else if (strcmp(a, "--hex") == 0 && strcmp(o->command, "get") == 0) {
            o->as_hex = true;
            continue;
        }
        static const struct {
            const char *flag;
            size_t offset;
        } flags[] = {{"--basedir", offsetof(kr_opts, basedir)},
                     {"--datadir", offsetof(kr_opts, datadir)},
                     {"--plugin-dir", offsetof(kr_opts, plugin_dir)},
                     {"--config", offsetof(kr_opts, config)},
                     {"--auth-id", offsetof(kr_opts, auth_id)},
                     {"--type", offsetof(kr_opts, type)},
                     {"--hex", offsetof(kr_opts, hex)},
                     {"--file", offsetof(kr_opts, file)}};
        for (size_t f = 0; f < sizeof flags / sizeof flags[0]; f++)
            if (strcmp(a, flags[f].flag) == 0)
                slot = (const char **)((char *)o + flags[f].offset);
        if (slot && v) {
            *slot = v;
            i++;
        } else if (strcmp(a, "--length") == 0 && v) {
            o->length = strtol(v, NULL, 10);
            i++;
        } else if (a[0] != '-' && o->id == NULL) {
            o->id = a;
        } else {
            fprintf(stderr, "keyring-kmip %s: unknown or incomplete option '%s'\n", o->command, a);
            return CLI_USAGE;
        }
    }
    bool needs_id = strcmp(o->command, "get") == 0 || strcmp(o->command, "store") == 0 ||
                    strcmp(o->command, "generate") == 0 || strcmp(o->command, "remove") == 0;
    if ((needs_id && o->id == NULL) || (o->config == NULL && (!o->basedir || !o->plugin_dir))) {
        fprintf(stderr, "keyring-kmip %s: %s\n", o->command,
                needs_id && o->id == NULL ? "a key ID is required"
                                          : "give --config FILE, or --basedir and --plugin-dir");
        return CLI_USAGE;
    }
    return -1;
}

static void print_diag(const krk_diag *d)
{
    for (size_t i = 0; i < d->warning_count; i++)
        fprintf(stderr, "keyring-kmip: warning: %s\n", d->warnings[i]);
}

/* "loading keys: 500/1000" on a terminal while a large keyring loads. */
static void show_progress(void *ctx, size_t loaded, size_t total)
{
    (void)ctx;
    fprintf(stderr, "\rloading keys: %zu/%zu", loaded, total);
    if (loaded == total)
        fputs("\r\033[K", stderr);
}

/* Opens the keyring through the manifest and component, or --config. */
static krk_err open_keyring(const kr_opts *o, krk_loaded *l, krk_diag *d)
{
    memset(l, 0, sizeof *l);
    krk_progress_fn progress = isatty(STDERR_FILENO) ? show_progress : NULL;
    if (o->config == NULL)
        return krk_loader_open(o->basedir, o->datadir, o->plugin_dir, progress, NULL, l, d);
    l->api = krk_component_table();
    krk_err e = l->api->config_read(o->config, &l->config, d);
    return e == KRK_OK ? l->api->open_progress(&l->config, progress, NULL, &l->keyring, d) : e;
}

static int do_list(const krk_loaded *l, bool json)
{
    const krk_component_v1 *api = l->api;
    krk_iter *it;
    if (api->iter_init(l->keyring, &it) != KRK_OK)
        return CLI_BAD_INPUT;
    json_t *list = json ? json_array() : NULL;
    for (; api->iter_is_valid(it); (void)api->iter_next(it)) {
        char d[KRK_MAX_ID_BYTES + 1], a[KRK_MAX_ID_BYTES + 1];
        if (api->iter_get(it, d, sizeof d, a, sizeof a) != KRK_OK)
            break;
        if (list)
            json_array_append_new(list, json_pack("{s:s, s:s}", "data_id", d, "auth_id", a));
        else
            printf("%s\t%s\n", d, a);
    }
    api->iter_deinit(it);
    if (list) {
        json_dumpf(list, stdout, JSON_COMPACT);
        putchar('\n');
        json_decref(list);
    }
    return CLI_OK;
}

static int do_get(const krk_loaded *l, const kr_opts *o)
{
    const krk_component_v1 *api = l->api;
    krk_reader *r;
    krk_err e = api->reader_init(l->keyring, o->id, o->auth_id, &r);
    if (e != KRK_OK) {
        fprintf(stderr, "keyring-kmip: no key %s (auth_id \"%s\")\n", o->id, o->auth_id);
        return exit_for(e);
    }
    static uint8_t data[KRK_MAX_KEY_BYTES];
    char type[16];
    size_t len, tl;
    e = api->reader_fetch(r, data, sizeof data, &len, type, sizeof type, &tl);
    api->reader_deinit(r);
    if (e != KRK_OK)
        return exit_for(e);
    if (o->json) {
        char *hex = malloc(2 * len + 1);
        for (size_t i = 0; hex && i < len; i++)
            snprintf(hex + 2 * i, 3, "%02x", data[i]);
        json_t *j = hex ? json_pack("{s:s, s:s, s:s, s:s}", "data_id", o->id, "auth_id",
                                    o->auth_id, "type", type, "hex", hex)
                        : NULL;
        if (j) {
            json_dumpf(j, stdout, JSON_COMPACT);
            putchar('\n');
        }
        json_decref(j);
        kmip_secure_free(hex, 2 * len + 1);
    } else if (o->as_hex) {
        for (size_t i = 0; i < len; i++)
            printf("%02x", data[i]);
        putchar('\n');
    } else {
        fwrite(data, 1, len, stdout);
    }
    kmip_secure_zero(data, len);
    return CLI_OK;
}

static int do_store(const krk_loaded *l, const kr_opts *o)
{
    if (o->type == NULL || (o->hex == NULL) == (o->file == NULL)) {
        fprintf(stderr, "keyring-kmip store: --type and one of --hex or --file are required\n");
        return CLI_USAGE;
    }
    cli_input in;
    if (o->file) {
        if (!cli_read_input(o->file, &in))
            return CLI_BAD_INPUT;
    } else {
        memset(&in, 0, sizeof in);
        size_t n = strlen(o->hex);
        in.data = malloc(n + 1);
        if (in.data == NULL)
            return CLI_BAD_INPUT;
        memcpy(in.data, o->hex, n + 1);
        in.len = in.cap = n;
        if (!cli_unhex_inplace("--hex", &in)) {
            cli_input_free(&in);
            return CLI_BAD_INPUT;
        }
    }
    krk_err e = l->api->store(l->keyring, o->id, o->auth_id, in.data, in.len, o->type);
    cli_input_free(&in);
    if (e != KRK_OK)
        fprintf(stderr, "keyring-kmip: %s\n", l->api->last_error(l->keyring));
    return exit_for(e);
}

static int do_status(const krk_loaded *l, bool json)
{
    krk_metadata_item md[KRK_METADATA_MAX];
    size_t n = l->api->metadata(l->keyring, md, KRK_METADATA_MAX);
    json_t *obj = json ? json_object() : NULL;
    for (size_t i = 0; i < n; i++) {
        if (obj)
            json_object_set_new(obj, md[i].key, json_string(md[i].value));
        else
            printf("%-20s %s\n", md[i].key, md[i].value);
    }
    if (obj) {
        json_dumpf(obj, stdout, JSON_COMPACT);
        putchar('\n');
        json_decref(obj);
    }
    return CLI_OK;
}

static int run(const krk_loaded *l, const kr_opts *o, double load_seconds)
{
    const krk_component_v1 *api = l->api;
    const char *c = o->command;
    krk_err e = KRK_OK;
    if (strcmp(c, "check") == 0) {
        krk_metadata_item md[KRK_METADATA_MAX];
        size_t n = api->metadata(l->keyring, md, KRK_METADATA_MAX);
        printf("configuration: %s\n", l->config.path);
        if (l->manifest.path[0])
            printf("manifest:      %s (%s)\n", l->manifest.path, l->manifest.component_url);
        for (size_t i = 0; i < n; i++)
            if (strcmp(md[i].key, "KMIP_version") == 0 || strcmp(md[i].key, "TLS_version") == 0 ||
                strcmp(md[i].key, "Server_addr") == 0 || strcmp(md[i].key, "Key_count") == 0)
                printf("%-14s %s\n", md[i].key, md[i].value);
        printf("loaded in:     %.3f s, %llu request messages\n", load_seconds,
               (unsigned long long)api->load_requests(l->keyring));
        return CLI_OK;
    }
    if (strcmp(c, "status") == 0)
        return do_status(l, o->json);
    if (strcmp(c, "list") == 0)
        return do_list(l, o->json);
    if (strcmp(c, "get") == 0)
        return do_get(l, o);
    if (strcmp(c, "store") == 0)
        return do_store(l, o);
    if (strcmp(c, "generate") == 0) {
        if (o->type == NULL || o->length <= 0) {
            fprintf(stderr, "keyring-kmip generate: --type and --length BYTES are required\n");
            return CLI_USAGE;
        }
        e = api->generate(l->keyring, o->id, o->auth_id, o->type, (size_t)o->length);
    } else if (strcmp(c, "remove") == 0) {
        e = api->remove(l->keyring, o->id, o->auth_id);
    }
    if (e != KRK_OK)
        fprintf(stderr, "keyring-kmip: %s\n", api->last_error(l->keyring));
    return exit_for(e);
}

bool cmd_is_keyring(const char *command)
{
    static const char *const commands[] = {"check", "status", "list", "get",
                                           "store", "generate", "remove"};
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(command, commands[i]) == 0)
            return true;
    return false;
}

int cmd_keyring(int argc, char **argv)
{
    kr_opts o;
    memset(&o, 0, sizeof o);
    int rc = parse(argc, argv, &o);
    if (rc >= 0)
        return rc;
    krk_loaded l;
    krk_diag d;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    krk_err e = open_keyring(&o, &l, &d);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    print_diag(&d);
    if (e != KRK_OK) {
        fprintf(stderr, "keyring-kmip: %s\n", d.error[0] ? d.error : krk_strerror(e));
        return exit_for(e);
    }
    rc = run(&l, &o, (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    if (o.config) {
        l.api->close(l.keyring);
    } else {
        krk_loader_close(&l);
    }
    return rc;
}
