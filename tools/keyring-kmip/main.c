/* SPDX-License-Identifier: GPL-2.0-only */
/* keyring-kmip: entry point, global options and command dispatch.
 *
 * Global options (where the keyring is, --help, --version) may stand before
 * or after the command, as with git: `keyring-kmip --config F list` and
 * `keyring-kmip list --config F` are the same. They are taken out here; the
 * command's own arguments go to its function in their order. `--name=value`
 * is the same as `--name value`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "migrate.h"

typedef struct command_info {
    const char *name;
    const char *const *value_options; /* the command's options that take a value */
} command_info;

static const char *const keyring_values[] = {"--auth-id", "--type", "--file", "--length", NULL};
static const char *const store_values[] = {"--auth-id", "--type", "--file", "--hex", NULL};
static const char *const probe_values[] = {"--server", "--ca",      "--cert",         "--key",
                                           "--timeout", "--kmip-version", NULL};
static const char *const migrate_values[] = {"--from", "--to", "--filekey", NULL};
static const char *const ttlv_values[] = {"--in", "--out", NULL};
static const char *const no_values[] = {NULL};

static const command_info commands[] = {
    {"check", keyring_values},    {"status", keyring_values}, {"list", keyring_values},
    {"get", keyring_values},      {"store", store_values},    {"generate", keyring_values},
    {"remove", keyring_values},   {"probe", probe_values},    {"ttlv", ttlv_values},
    {"migrate", migrate_values},
    {"help", no_values},
};

static const command_info *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static bool takes_value(const command_info *c, const char *option)
{
    for (const char *const *v = c->value_options; *v; v++)
        if (strcmp(*v, option) == 0)
            return true;
    return false;
}

bool cli_globals_locate(const cli_globals *g)
{
    return g->config || g->basedir || g->plugin_dir || g->datadir || g->defaults_file ||
           g->no_defaults;
}

/* The global option that takes a value, as a slot in g; NULL if none. */
static const char **global_slot(cli_globals *g, const char *name)
{
    if (strcmp(name, "--config") == 0)
        return &g->config;
    if (strcmp(name, "--basedir") == 0)
        return &g->basedir;
    if (strcmp(name, "--plugin-dir") == 0 || strcmp(name, "--plugin_dir") == 0)
        return &g->plugin_dir;
    if (strcmp(name, "--datadir") == 0)
        return &g->datadir;
    if (strcmp(name, "--defaults-file") == 0 || strcmp(name, "--defaults_file") == 0)
        return &g->defaults_file;
    return NULL;
}

static int usage_error(void)
{
    fputs("Run 'keyring-kmip --help' for the commands and their options.\n", stderr);
    return CLI_USAGE;
}

int main(int argc, char **argv)
{
    cli_globals g;
    memset(&g, 0, sizeof g);
    /* the command's arguments: at most one per argument, plus a split
     * `--name=value` as two */
    char **rest = calloc((size_t)argc * 2 + 1, sizeof *rest);
    char *split = NULL; /* the copies `--name=value` is split into */
    size_t split_used = 0, split_cap = 0;
    for (int i = 1; i < argc; i++)
        split_cap += strlen(argv[i]) + 2;
    split = malloc(split_cap + 1);
    if (rest == NULL || split == NULL) {
        fputs("keyring-kmip: out of memory\n", stderr);
        return CLI_BAD_INPUT;
    }
    int n = 0, rc = -1;
    rest[n++] = argv[0];
    const command_info *command = NULL;
    const char *subcommand = NULL; /* ttlv decode|encode, help COMMAND */
    bool help = false, version = false;
    for (int i = 1; i < argc && rc < 0; i++) {
        char *a = argv[i];
        const char *inline_value = NULL;
        char *eq = a[0] == '-' && a[1] == '-' ? strchr(a, '=') : NULL;
        if (eq) {
            char *name = split + split_used;
            size_t len = (size_t)(eq - a);
            memcpy(name, a, len);
            name[len] = '\0';
            split_used += len + 1;
            inline_value = eq + 1;
            a = name;
        }
        const char **slot = global_slot(&g, a);
        if (slot) {
            const char *v = inline_value ? inline_value : i + 1 < argc ? argv[++i] : NULL;
            if (v == NULL || v[0] == '\0') {
                fprintf(stderr, "keyring-kmip: %s needs a value\n", a);
                rc = usage_error();
            }
            *slot = v;
        } else if (strcmp(a, "--no-defaults") == 0 && !inline_value) {
            g.no_defaults = true;
        } else if (strcmp(a, "--version") == 0 && !inline_value) {
            version = true;
        } else if ((strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) && !inline_value) {
            help = true;
        } else if (command == NULL) {
            if (a[0] == '-') {
                fprintf(stderr, "keyring-kmip: unknown option '%s' before the command\n", argv[i]);
                rc = usage_error();
            } else if ((command = find_command(a)) == NULL) {
                fprintf(stderr, "keyring-kmip: unknown command '%s'\n", a);
                rc = usage_error();
            } else {
                rest[n++] = a;
            }
        } else {
            if (subcommand == NULL && a[0] != '-' &&
                (strcmp(command->name, "ttlv") == 0 || strcmp(command->name, "help") == 0))
                subcommand = a;
            rest[n++] = eq ? a : argv[i];
            if (takes_value(command, a)) {
                if (inline_value)
                    rest[n++] = (char *)inline_value;
                else if (i + 1 < argc)
                    rest[n++] = argv[++i];
            } else if (inline_value) {
                rest[n - 1] = argv[i]; /* `--flag=x`: the command says it is unknown */
            }
        }
    }
    rest[n] = NULL;
    if (rc < 0 && version) {
        puts("keyring-kmip " KEYRING_KMIP_VERSION);
        rc = CLI_OK;
    } else if (rc < 0 && (command == NULL || strcmp(command->name, "help") == 0)) {
        const char *topic = command ? subcommand : NULL;
        if (command && n > 3) /* help ttlv decode */
            topic = strcmp(rest[2], "ttlv") == 0 && strcmp(rest[3], "decode") == 0 ? "ttlv decode"
                    : strcmp(rest[2], "ttlv") == 0 && strcmp(rest[3], "encode") == 0
                        ? "ttlv encode"
                        : rest[2];
        if (!cli_help(command || help ? stdout : stderr, topic)) {
            fprintf(stderr, "keyring-kmip help: no command '%s'\n", topic);
            rc = usage_error();
        } else {
            rc = command || help ? CLI_OK : CLI_USAGE;
        }
    } else if (rc < 0 && help) {
        char topic[64];
        snprintf(topic, sizeof topic, "%s%s%s", command->name, subcommand ? " " : "",
                 subcommand ? subcommand : "");
        if (!cli_help(stdout, topic))
            cli_help(stdout, command->name);
        rc = CLI_OK;
    } else if (rc < 0 && !cmd_is_keyring(command->name) && cli_globals_locate(&g)) {
        fprintf(stderr,
                "keyring-kmip %s: --config, --basedir, --plugin-dir, --datadir, "
                "--defaults-file and --no-defaults apply to the keyring commands only\n",
                command->name);
        rc = usage_error();
    } else if (rc < 0 && strcmp(command->name, "ttlv") == 0) {
        rc = cmd_ttlv(n - 1, rest + 1);
    } else if (rc < 0 && strcmp(command->name, "probe") == 0) {
        rc = cmd_probe(n, rest);
    } else if (rc < 0 && strcmp(command->name, "migrate") == 0) {
        rc = cmd_migrate(n, rest, &g);
    } else if (rc < 0) {
        rc = cmd_keyring(n, rest, &g);
    }
    free(rest);
    free(split);
    return rc;
}
