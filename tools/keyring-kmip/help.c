/* SPDX-License-Identifier: GPL-2.0-only */
/* keyring-kmip: the help of each command (keyring-kmip COMMAND --help,
 * keyring-kmip help COMMAND) and the overview (keyring-kmip --help). The
 * man page docs/keyring-kmip.1 says the same at length. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define LOCATION                                                                                   \
    "Where the keyring is (before or after the command):\n"                                        \
    "  --config FILE          the keyring configuration (component_keyring_kmip.cnf) itself\n"     \
    "  --basedir DIR          the MySQL installation (mysqld.my is read next to mysqld: DIR,\n"    \
    "                         DIR/bin or DIR/sbin)\n"                                              \
    "  --plugin-dir DIR       component_keyring_kmip.so and component_keyring_kmip.cnf\n"          \
    "  --datadir DIR          the data directory (local manifest and configuration)\n"             \
    "  --defaults-file FILE   read basedir, plugin_dir, datadir from FILE's [mysqld] group\n"      \
    "  --no-defaults          read no option file\n"                                               \
    "With none of these, /etc/my.cnf and /etc/mysql/my.cnf (and what they !include) are read\n"    \
    "as mysqld reads them; options given on the command line win over option files.\n"

#define KEYRING_EXIT                                                                               \
    "Exit status: 0 success, 1 bad input, 2 usage, 3 KMIP server or connection failure,\n"         \
    "4 manifest or configuration problem, 5 no such key, 6 key exists, 7 the server's\n"           \
    "identity refused (certificate, name, TLS version); 8 keys in conflict\n"     \
    "(check, migrate); see keyring-kmip --help.\n"

typedef struct help_entry {
    const char *command;
    const char *text;
} help_entry;

static const help_entry entries[] = {
    {"check", "Usage: keyring-kmip check [--repair] [LOCATION]\n"
              "\n"
              "The preflight: says which option file supplied basedir, plugin_dir and datadir,\n"
              "validates the manifest and the configuration, connects to the KMIP server, loads\n"
              "every key, and prints the KMIP and TLS versions, the key count, the load time and\n"
              "the number of request messages. Then it lists keys in conflict (two objects with\n"
              "different bytes; exit status 8) and Pre-Active objects: writes in progress, and\n"
              "leftovers of writers that crashed before activating, past their 600 s lease;\n"
              "--repair removes those leftovers (they were never served).\n"
              "\n" LOCATION "\n" KEYRING_EXIT},
    {"status", "Usage: keyring-kmip status [--json | --prometheus] [LOCATION]\n"
               "\n"
               "Opens the keyring and prints its metadata (as the component reports it to the\n"
               "server): component, licence, version, server, certificates, object group, KMIP\n"
               "and TLS versions, key count, each KMIP server's health (state, last success,\n"
               "last error, round trip, failovers), certificate expiry, last error. --json\n"
               "prints one JSON object (servers as an array \"servers\"); --prometheus the\n"
               "Prometheus text format (for node_exporter's textfile collector).\n"
               "\n" LOCATION "\n" KEYRING_EXIT},
    {"list", "Usage: keyring-kmip list [--json] [LOCATION]\n"
             "\n"
             "Lists the keys: data_id and auth_id separated by a tab, one key a line, and a\n"
             "third column with the state of a key that is not Active (Deactivated and\n"
             "Compromised keys are still served for decryption, a key in Conflict is not);\n"
             "--json prints a JSON array of {\"data_id\", \"auth_id\", \"state\"}. Never prints\n"
             "key material.\n"
             "\n" LOCATION "\n" KEYRING_EXIT},
    {"get", "Usage: keyring-kmip get ID [--auth-id U] [--hex | --json] [LOCATION]\n"
            "\n"
            "Prints the key ID (of user U; default the empty auth_id): its raw bytes, or hex\n"
            "with --hex, or a JSON object with its type and hex with --json.\n"
            "\n" LOCATION "\n" KEYRING_EXIT},
    {"store", "Usage: keyring-kmip store ID --type T [--auth-id U] [--hex-stdin | --file F |\n"
              "                          --hex H] [LOCATION]\n"
              "\n"
              "Stores a key of type T (AES, RSA, DSA or SECRET). The key bytes are read from\n"
              "standard input (raw bytes up to end of file; with --hex-stdin as hex text, white\n"
              "space allowed), or from the file F (raw bytes). --hex H takes them on the command\n"
              "line, where every user of the machine can read them (/proc/PID/cmdline) and the\n"
              "shell keeps them in its history: meant for tests, not for real keys. A key that\n"
              "exists already is refused (exit status 6).\n"
              "  openssl rand 32 | keyring-kmip store mykey --type AES\n"
              "\n" LOCATION "\n" KEYRING_EXIT},
    {"generate", "Usage: keyring-kmip generate ID --type T --length BYTES [--any-length]\n"
                 "                             [--auth-id U] [LOCATION]\n"
                 "\n"
                 "Generates and stores a key of BYTES bytes (1 to 16384). AES keys are 16, 24 or\n"
                 "32 bytes and are created by the KMIP server; --any-length allows other AES\n"
                 "lengths, which are random bytes from OpenSSL like the keys of other types.\n"
                 "\n" LOCATION "\n" KEYRING_EXIT},
    {"remove", "Usage: keyring-kmip remove ID [--auth-id U] [LOCATION]\n"
               "\n"
               "Removes the key ID (of user U): revokes and destroys it on the KMIP server.\n"
               "\n" LOCATION "\n" KEYRING_EXIT},
    {"migrate",
     "Usage: keyring-kmip migrate --from SOURCE --to DEST [--dry-run] [--json]\n"
     "                            [--filekey SECRET | --filekey FILE:PATH] [LOCATION]\n"
     "\n"
     "Moves keys between keyrings. SOURCE and DEST are kmip (the keyring LOCATION names),\n"
     "keyring-file:PATH (MySQL's component_keyring_file data file) or, as a source only,\n"
     "mariadb-file:PATH (MariaDB's file_key_management key file; --filekey as\n"
     "file_key_management_filekey when it is encrypted). A MariaDB key id N becomes the key\n"
     "mariadb-N-1 that kmip_key_management reads as version 1 of N. auth_id and type are\n"
     "kept. A key the destination holds with the same bytes is skipped, so a migration can\n"
     "run again after an interruption; with other bytes it is a conflict: reported, never\n"
     "overwritten, the others go on (exit status 8). Every key is read back from the\n"
     "destination afterwards and compared. --dry-run writes nothing and says what would\n"
     "happen; --json prints one JSON object. SIGINT or SIGTERM stops after the current key\n"
     "(exit status 130 or 143). Key material is never printed.\n"
     "\n" LOCATION "\n" KEYRING_EXIT},
    {"probe", "Usage: keyring-kmip probe --server HOST[:PORT] --ca FILE --cert FILE --key FILE\n"
              "                          [--kmip-version X.Y] [--timeout MS]\n"
              "                          [--insecure-skip-verify] [--insecure-skip-hostname]\n"
              "\n"
              "Connects over TLS (1.2 or newer, server certificate and name verified), negotiates\n"
              "the KMIP version and runs Query. Prints the TLS version and cipher, the server\n"
              "certificate's subject and expiry, the negotiated and supported KMIP versions, the\n"
              "vendor identification and the supported operations. PORT defaults to 5696; an\n"
              "IPv6 address is written [::1]:5696. MS is 1 to 3600000.\n"
              "\n"
              "Exit status: 0 success, 1 bad local files, 2 usage, 3 cannot connect, the\n"
              "server refused the TLS handshake or failed, 7 the server's identity refused\n"
              "(certificate, name, TLS version); see keyring-kmip --help.\n"},
    {"ttlv decode",
     "Usage: keyring-kmip ttlv decode [--in bin|hex] [--out xml|text] [--show-secrets] [FILE]\n"
     "\n"
     "Decodes one KMIP TTLV message (or any single item) from FILE, or standard input when\n"
     "FILE is absent or '-': --in bin (default) or hex (white space allowed); --out xml\n"
     "(default, the KMIP XML encoding) or text. Key material is printed as 'redacted'\n"
     "unless --show-secrets is given; only unredacted XML can be encoded again.\n"
     "Exit status: 0 success, 1 bad input (the byte offset is named), 2 usage.\n"},
    {"ttlv encode", "Usage: keyring-kmip ttlv encode [--in xml] [--out bin|hex] [FILE]\n"
                    "\n"
                    "Encodes one KMIP XML message (or any single item) from FILE, or standard\n"
                    "input when FILE is absent or '-', as TTLV: --out bin (default) or hex.\n"
                    "Exit status: 0 success, 1 bad input (the XML line is named), 2 usage.\n"},
};

static const char overview[] =
    "Usage: keyring-kmip [GLOBAL OPTIONS] COMMAND [OPTIONS] [GLOBAL OPTIONS]\n"
    "\n"
    "Commands:\n"
    "  check         validate manifest and configuration, connect, load the keys\n"
    "  status        the keyring's metadata\n"
    "  list          list keys\n"
    "  get           print a key\n"
    "  store         store a key (read from standard input or a file)\n"
    "  generate      generate and store a key\n"
    "  remove        remove a key\n"
    "  migrate       move keys between keyring files, MariaDB key files and KMIP\n"
    "  probe         connect to a KMIP server and report TLS, versions, operations\n"
    "  ttlv decode   decode a KMIP TTLV message to XML or text\n"
    "  ttlv encode   encode a KMIP XML message to TTLV bytes or hex\n"
    "  help COMMAND  the options of one command\n"
    "\n" LOCATION "\n"
    "  --help, -h    this help, or a command's help after the command\n"
    "  --version     the version\n"
    "\n"
    "Run 'keyring-kmip COMMAND --help' for a command's options; man keyring-kmip for all.\n"
    "\n"
    "Exit status (every command):\n"
    "  0  success\n"
    "  1  bad input: a value or local file given on the command line\n"
    "  2  usage error\n"
    "  3  the KMIP server cannot be reached, refused the connection or failed\n"
    "  4  the manifest, the keyring configuration or an option file is wrong\n"
    "  5  no such key\n"
    "  6  the key exists already\n"
    "  7  the KMIP server's identity was refused: its certificate (chain, validity,\n"
    "     CA), its name, or its TLS version\n"
    "  8  keys in conflict (check: on the KMIP server; migrate: at the destination)\n";

bool cli_help(FILE *f, const char *command)
{
    if (command == NULL) {
        fputs(overview, f);
        return true;
    }
    for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++)
        if (strcmp(entries[i].command, command) == 0) {
            fputs(entries[i].text, f);
            return true;
        }
    if (strcmp(command, "ttlv") == 0) {
        cli_help(f, "ttlv decode");
        fputc('\n', f);
        return cli_help(f, "ttlv encode");
    }
    return false;
}
