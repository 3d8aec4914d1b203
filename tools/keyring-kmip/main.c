/* SPDX-License-Identifier: GPL-2.0-only */
/* keyring-kmip: entry point and command dispatch. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f)
{
    fputs("Usage: keyring-kmip <command> [options]\n"
          "\n"
          "Commands:\n"
          "  ttlv decode   decode a KMIP TTLV message to XML or text\n"
          "  ttlv encode   encode a KMIP XML message to TTLV bytes or hex\n"
          "  probe         connect to a KMIP server and report TLS, versions, operations\n"
          "  check         validate manifest and configuration, connect, load the keys\n"
          "  status        the keyring's metadata\n"
          "  list          list keys\n"
          "  get           print a key\n"
          "  store         store a key\n"
          "  generate      generate and store a key\n"
          "  remove        remove a key\n"
          "\n"
          "Run 'keyring-kmip <command> --help' for a command's options.\n",
          f);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        puts("keyring-kmip " KEYRING_KMIP_VERSION);
        return CLI_OK;
    }
    if (strcmp(argv[1], "ttlv") == 0)
        return cmd_ttlv(argc - 1, argv + 1);
    if (strcmp(argv[1], "probe") == 0)
        return cmd_probe(argc, argv);
    if (cmd_is_keyring(argv[1]))
        return cmd_keyring(argc, argv);
    fprintf(stderr, "keyring-kmip: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return CLI_USAGE;
}
