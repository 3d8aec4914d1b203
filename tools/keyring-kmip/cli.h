/* SPDX-License-Identifier: GPL-2.0-only */
/* keyring-kmip: the operator's command-line tool. */
#ifndef KEYRING_KMIP_CLI_H
#define KEYRING_KMIP_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit codes shared by every command (the table in docs/CLI.md, in
 * `keyring-kmip --help` and in the man page). */
enum {
    CLI_OK = 0,
    CLI_BAD_INPUT = 1, /* a bad value or local file given on the command line */
    CLI_USAGE = 2,
    CLI_SERVER = 3,    /* the KMIP server cannot be reached, refused us, or failed */
    CLI_CONFIG = 4,    /* the manifest, the keyring configuration or an option file is wrong */
    CLI_NOT_FOUND = 5, /* no such key */
    CLI_EXISTS = 6,    /* the key exists already */
    CLI_IDENTITY = 7,  /* the server's identity was refused: certificate, name, TLS version */
    CLI_CONFLICT = 8,  /* check: keys in conflict on the server */
};
/* A malformed option file: the "manifest or configuration problem" status. */
#define CLI_LOCATION CLI_CONFIG

/* Largest input any command reads (a KMIP message is at most 1 MiB on the
 * wire; its hex or XML text is larger). */
#define CLI_MAX_INPUT ((size_t)16 << 20)

typedef struct cli_input {
    uint8_t *data;
    size_t len;
    size_t cap;
} cli_input;

/* Reads a whole file, or stdin when path is NULL or "-". Prints a message
 * naming the file and returns false on failure. */
bool cli_read_input(const char *path, cli_input *in);
void cli_input_free(cli_input *in);
/* Converts hex text (white space allowed anywhere between digit pairs) to
 * bytes in place. On failure prints the offset of the bad character, and
 * the character itself unless secret (key material: a raw key given where
 * hex was expected must not appear in the message). */
bool cli_unhex_inplace(const char *path, cli_input *in, bool secret);
/* The name to show for an input path. */
const char *cli_input_name(const char *path);

/* Options that may stand before or after the command (git style): where
 * the keyring is. Set by main.c; NULL when not given. */
typedef struct cli_globals {
    const char *config;        /* --config FILE: the keyring configuration itself */
    const char *basedir;       /* --basedir DIR */
    const char *plugin_dir;    /* --plugin-dir DIR */
    const char *datadir;       /* --datadir DIR */
    const char *defaults_file; /* --defaults-file FILE: the only option file read */
    bool no_defaults;          /* --no-defaults: no option file read */
} cli_globals;

/* True when any option saying where the keyring is was given. */
bool cli_globals_locate(const cli_globals *g);

/* Parses a whole decimal number in [min, max]: digits only (no sign, white
 * space, exponent or suffix). On failure prints "keyring-kmip COMMAND: FLAG
 * takes ..., not 'TEXT'" and returns false. */
bool cli_parse_number(const char *command, const char *flag, const char *text, unsigned long min,
                      unsigned long max, unsigned long *out);

/* Help of one command ("check", "ttlv decode", ...), or of all when command
 * is NULL; false when there is no such command. */
bool cli_help(FILE *f, const char *command);

/* One value from a MySQL option file, with where it was set. */
typedef struct mycnf_setting {
    char value[4096];
    char source[4200]; /* "FILE:LINE, [GROUP]" */
    bool set;
} mycnf_setting;

/* What the option files said: basedir, plugin_dir, datadir of [mysqld] and
 * [server], later values winning, and the list of files looked at. */
typedef struct mycnf {
    mycnf_setting basedir, plugin_dir, datadir;
    char files[8192];
    size_t file_count;
    bool skip_includes; /* the fuzz target: !include and !includedir parsed, not followed */
} mycnf;

/* Reads one option file with its !include and !includedir directives into
 * c (mycnf.c describes the rules). A missing file is an error only when
 * must_exist. Prints a message naming file and line and returns false on a
 * malformed file. */
bool mycnf_read(mycnf *c, const char *path, bool must_exist);

/* The keyring's location: --config, or the installation's directories,
 * each with where its value came from. */
typedef struct cli_location {
    const char *config;
    mycnf_setting basedir, plugin_dir, datadir;
    char manifest_dir[4096]; /* where mysqld.my is read (location.c) */
    char files[8192];        /* the option files looked at, "" when none */
} cli_location;

/* Resolves the location from the global options and the option files
 * (location.c). Returns -1 to go on, else an exit status after a message. */
int cli_locate(const cli_globals *g, const char *command, cli_location *loc);
/* Prints the option files and which one supplied each directory. */
void cli_location_print(const cli_location *loc);

int cmd_ttlv(int argc, char **argv);
int cmd_probe(int argc, char **argv);
int cmd_keyring(int argc, char **argv, const cli_globals *g);
bool cmd_is_keyring(const char *command);

#endif
