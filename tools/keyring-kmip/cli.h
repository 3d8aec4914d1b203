/* SPDX-License-Identifier: GPL-2.0-only */
/* keyring-kmip: the operator's command-line tool. */
#ifndef KEYRING_KMIP_CLI_H
#define KEYRING_KMIP_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit codes shared by every command. */
enum { CLI_OK = 0, CLI_BAD_INPUT = 1, CLI_USAGE = 2 };

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
 * bytes in place. On failure prints the offset of the bad character. */
bool cli_unhex_inplace(const char *path, cli_input *in);
/* The name to show for an input path. */
const char *cli_input_name(const char *path);

int cmd_ttlv(int argc, char **argv);
int cmd_probe(int argc, char **argv);
int cmd_keyring(int argc, char **argv);
bool cmd_is_keyring(const char *command);

#endif
