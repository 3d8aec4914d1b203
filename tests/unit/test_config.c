/* SPDX-License-Identifier: GPL-2.0-only */
/* Table-driven: manifests and configurations, good and bad, each with the
 * exact message it must produce. Certificates are generated at test time.
 * A FIFO must be refused without blocking: a hang fails the test by its
 * CTest timeout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keyring_kmip/krk_config.h"

static char root[256];

enum kind { MANIFEST, CONFIG };

typedef struct file_spec {
    const char *path; /* relative to the case directory */
    const char *content;
    unsigned mode;
} file_spec;

typedef struct config_case {
    const char *name;
    enum kind kind;
    file_spec files[4];
    krk_err code;
    const char *message; /* %D is the case directory */
    const char *warning; /* a substring of the first warning, or NULL */
} config_case;

#define GOOD_CNF(extra)                                                                            \
    "{\"server_addr\": \"127.0.0.1\", \"server_port\": \"5696\", \"client_ca\": \"client.pem\","   \
    " \"client_key\": \"client.key\", \"server_ca\": \"ca.pem\"" extra "}"
#define GOOD_CNF2(key, extra)                                                                      \
    "{\"server_addr\": \"127.0.0.1\", \"server_port\": \"5696\", \"client_ca\": \"client.pem\","   \
    " \"client_key\": \"" key "\", \"server_ca\": \"ca.pem\"" extra "}"
#define CNF "plugin/component_keyring_kmip.cnf"
/* a good configuration with this "server_addr" value (JSON) */
#define ADDR_CNF(addr)                                                                             \
    "{\"server_addr\": " addr ", \"server_port\": \"5696\", \"client_ca\": \"client.pem\","       \
    " \"client_key\": \"client.key\", \"server_ca\": \"ca.pem\"}"
#define LIST_ERR(entry, why)                                                                       \
    "%D/plugin/component_keyring_kmip.cnf: \"server_addr\": server entry \"" entry "\": " why       \
    " (expected \"host\", \"host:port\" or \"[v6addr]:port\", several as a JSON array or "         \
    "separated by commas)"
/* file contents that make a FIFO or a directory instead of a file */
static const char MAKE_FIFO[] = "(fifo)";
static const char MAKE_DIR[] = "(directory)";
static const char MAKE_BIG[] = "(5 MiB)"; /* larger than any PEM file we read */
#define MY "base/mysqld.my"

static const config_case cases[] = {
    /* ---- manifests ---- */
    {"no manifest", MANIFEST, {{0}}, KRK_E_NO_MANIFEST,
     "%D/base/mysqld.my: no manifest, so no keyring component is loaded", NULL},
    {"manifest syntax", MANIFEST, {{MY, "{\"components\": }", 0644}}, KRK_E_MANIFEST,
     "%D/base/mysqld.my:1:16: JSON syntax error: unexpected token near '}'", NULL},
    {"manifest is an array", MANIFEST, {{MY, "[]", 0644}}, KRK_E_MANIFEST,
     "%D/base/mysqld.my: the manifest must be a JSON object, found an array", NULL},
    {"manifest empty file", MANIFEST, {{MY, "", 0644}}, KRK_E_MANIFEST,
     "%D/base/mysqld.my:1:0: JSON syntax error: '[' or '{' expected near end of file", NULL},
    {"components is a number", MANIFEST, {{MY, "{\"components\": 5}", 0644}}, KRK_E_MANIFEST,
     "%D/base/mysqld.my: \"components\" must be a string, found a number", NULL},
    {"components missing", MANIFEST, {{MY, "{}", 0644}}, KRK_E_MANIFEST,
     "%D/base/mysqld.my: missing \"components\" (expected \"file://component_keyring_kmip\")",
     NULL},
    {"components not a URL", MANIFEST, {{MY, "{\"components\": \"component_keyring_kmip\"}", 0644}},
     KRK_E_MANIFEST,
     "%D/base/mysqld.my: \"components\" entry \"component_keyring_kmip\" is not a "
     "file://component URL",
     NULL},
    {"another keyring", MANIFEST,
     {{MY, "{\"components\": \"file://component_keyring_file\"}", 0644}}, KRK_E_MANIFEST,
     "%D/base/mysqld.my: \"components\" does not load component_keyring_kmip (it is "
     "\"file://component_keyring_file\"); write \"file://component_keyring_kmip\"",
     NULL},
    {"two keyrings", MANIFEST,
     {{MY, "{\"components\": \"file://component_keyring_kmip,file://component_keyring_file\"}",
       0644}},
     KRK_E_MANIFEST,
     "%D/base/mysqld.my: \"components\" loads more than one keyring component "
     "(file://component_keyring_kmip,file://component_keyring_file); load only one, or keys can "
     "be lost",
     NULL},
    {"manifest unknown key", MANIFEST,
     {{MY, "{\"components\": \"file://component_keyring_kmip\", \"componets\": 1}", 0644}},
     KRK_E_MANIFEST,
     "%D/base/mysqld.my: unknown key \"componets\" (a manifest holds \"components\" and "
     "\"read_local_manifest\")",
     NULL},
    {"read_local_manifest not boolean", MANIFEST, {{MY, "{\"read_local_manifest\": \"yes\"}", 0644}},
     KRK_E_MANIFEST, "%D/base/mysqld.my: \"read_local_manifest\" must be true or false, found a string",
     NULL},
    {"local manifest missing", MANIFEST, {{MY, "{\"read_local_manifest\": true}", 0644}},
     KRK_E_MANIFEST,
     "%D/data/mysqld.my: \"read_local_manifest\" is true in %D/base/mysqld.my but the local "
     "manifest does not exist",
     NULL},
    {"local manifest syntax", MANIFEST,
     {{MY, "{\"read_local_manifest\": true}", 0644}, {"data/mysqld.my", "{\"components\"", 0644}},
     KRK_E_MANIFEST, "%D/data/mysqld.my:1:13: JSON syntax error: ':' expected near end of file", NULL},
    {"local manifest wrong component", MANIFEST,
     {{MY, "{\"read_local_manifest\": true}", 0644},
      {"data/mysqld.my", "{\"components\": \"file://component_keyring_vault\"}", 0644}},
     KRK_E_MANIFEST,
     "%D/data/mysqld.my: \"components\" does not load component_keyring_kmip (it is "
     "\"file://component_keyring_vault\"); write \"file://component_keyring_kmip\"",
     NULL},
    {"duplicate key", MANIFEST,
     {{MY, "{\"components\": \"file://component_keyring_kmip\", \"components\": \"x\"}", 0644}},
     KRK_E_MANIFEST, "%D/base/mysqld.my:1:60: JSON syntax error: duplicate object key near '\"components\"'",
     NULL},
    {"good manifest", MANIFEST, {{MY, "{\"components\": \"file://component_keyring_kmip\"}", 0644}},
     KRK_OK, "", NULL},
    {"good manifest, seed's triple slash", MANIFEST,
     {{MY, "{\"read_local_manifest\": false, \"components\": \"file:///component_keyring_kmip\"}",
       0644}},
     KRK_OK, "", "mysqld's path filter refuses, so MySQL would not start with this manifest; "
     "write \"file://component_keyring_kmip\""},
    {"good local manifest", MANIFEST,
     {{MY, "{\"read_local_manifest\": true, \"components\": \"file://component_keyring_kmip\"}",
       0644},
      {"data/mysqld.my", "{\"components\": \"file://component_keyring_kmip\"}", 0644}},
     KRK_OK, "", "\"components\" is ignored because \"read_local_manifest\" is true"},
    {"world-writable manifest", MANIFEST,
     {{MY, "{\"components\": \"file://component_keyring_kmip\"}", 0666}}, KRK_OK, "",
     "the manifest is writable by other users"},
    /* ---- configurations ---- */
    {"no configuration", CONFIG, {{0}}, KRK_E_CONFIG,
     "%D/plugin/component_keyring_kmip.cnf: keyring configuration not found", NULL},
    {"config syntax", CONFIG, {{CNF, "{\n  \"server_addr\": \"x\",\n}", 0644}}, KRK_E_CONFIG,
     "%D/plugin/component_keyring_kmip.cnf:3:1: JSON syntax error: string or '}' expected near '}'",
     NULL},
    {"config is a string", CONFIG, {{CNF, "\"x\"", 0644}}, KRK_E_CONFIG,
     "%D/plugin/component_keyring_kmip.cnf:1:3: JSON syntax error: '[' or '{' expected near '\"x\"'",
     NULL},
    {"config is an array", CONFIG, {{CNF, "[1]", 0644}}, KRK_E_CONFIG,
     "%D/plugin/component_keyring_kmip.cnf: the keyring configuration must be a JSON object, found "
     "an array",
     NULL},
    {"missing server_addr", CONFIG, {{CNF, "{\"server_port\": 5696}", 0644}}, KRK_E_CONFIG,
     "%D/plugin/component_keyring_kmip.cnf: missing required key \"server_addr\"", NULL},
    {"server_addr is a number", CONFIG, {{CNF, "{\"server_addr\": 127}", 0644}}, KRK_E_CONFIG,
     "%D/plugin/component_keyring_kmip.cnf: \"server_addr\" must be a string, found a number", NULL},
    {"server_addr empty", CONFIG, {{CNF, "{\"server_addr\": \"\"}", 0644}}, KRK_E_CONFIG,
     "%D/plugin/component_keyring_kmip.cnf: \"server_addr\" must not be empty", NULL},
    {"missing server_port", CONFIG, {{CNF, "{\"server_addr\": \"h\"}", 0644}}, KRK_E_CONFIG,
     "%D/plugin/component_keyring_kmip.cnf: missing required key \"server_port\"", NULL},
    {"server_port not a number", CONFIG,
     {{CNF, "{\"server_addr\": \"h\", \"server_port\": \"abc\"}", 0644}}, KRK_E_CONFIG,
     "%D/plugin/component_keyring_kmip.cnf: \"server_port\" must be a number from 1 to 65535, "
     "found \"abc\"",
     NULL},
    {"server_port out of range", CONFIG,
     {{CNF, "{\"server_addr\": \"h\", \"server_port\": 70000}", 0644}}, KRK_E_CONFIG,
     "%D/plugin/component_keyring_kmip.cnf: \"server_port\" must be a number from 1 to 65535, "
     "found 70000",
     NULL},
    {"server_port boolean", CONFIG,
     {{CNF, "{\"server_addr\": \"h\", \"server_port\": true}", 0644}}, KRK_E_CONFIG,
     "%D/plugin/component_keyring_kmip.cnf: \"server_port\" must be a number from 1 to 65535, "
     "found a boolean",
     NULL},
    {"missing client_ca", CONFIG,
     {{CNF, "{\"server_addr\": \"h\", \"server_port\": 1}", 0644}}, KRK_E_CONFIG,
     "%D/plugin/component_keyring_kmip.cnf: missing required key \"client_ca\"", NULL},
    {"misspelt key", CONFIG, {{CNF, GOOD_CNF(", \"server_adr\": \"x\""), 0644}}, KRK_E_CONFIG,
     "%D/plugin/component_keyring_kmip.cnf: unknown key \"server_adr\" (did you mean "
     "\"server_addr\"?)",
     NULL},
    {"unknown key", CONFIG, {{CNF, GOOD_CNF(", \"colour\": \"blue\""), 0644}}, KRK_E_CONFIG,
     "%D/plugin/component_keyring_kmip.cnf: unknown key \"colour\"", NULL},
    {"certificate file missing", CONFIG,
     {{CNF, "{\"server_addr\": \"h\", \"server_port\": 1, \"client_ca\": \"nope.pem\", "
            "\"client_key\": \"client.key\", \"server_ca\": \"ca.pem\"}",
       0644}},
     KRK_E_CONFIG,
     "%D/plugin/component_keyring_kmip.cnf: \"client_ca\" names %D/plugin/nope.pem, which cannot "
     "be read: No such file or directory",
     NULL},
    {"certificate not PEM", CONFIG,
     {{CNF, "{\"server_addr\": \"h\", \"server_port\": 1, \"client_ca\": \"junk.pem\", "
            "\"client_key\": \"client.key\", \"server_ca\": \"ca.pem\"}",
       0644},
      {"plugin/junk.pem", "not a certificate\n", 0644}},
     KRK_E_CONFIG,
     "%D/plugin/component_keyring_kmip.cnf: \"client_ca\" (%D/plugin/junk.pem) holds no PEM "
     "certificate; it names the client certificate",
     NULL},
    {"key does not match", CONFIG,
     {{CNF, "{\"server_addr\": \"h\", \"server_port\": 1, \"client_ca\": \"client.pem\", "
            "\"client_key\": \"other.key\", \"server_ca\": \"ca.pem\"}",
       0644}},
     KRK_E_CONFIG,
     "%D/plugin/component_keyring_kmip.cnf: \"client_key\" (%D/plugin/other.key) does not match "
     "the certificate in \"client_ca\" (%D/plugin/client.pem)",
     NULL},
    {"server_ca not PEM", CONFIG,
     {{CNF, "{\"server_addr\": \"h\", \"server_port\": 1, \"client_ca\": \"client.pem\", "
            "\"client_key\": \"client.key\", \"server_ca\": \"client.key\"}",
       0644}},
     KRK_E_CONFIG,
     "%D/plugin/component_keyring_kmip.cnf: \"server_ca\" (%D/plugin/client.key) holds no PEM "
     "certificate",
     NULL},
    {"verification flag not boolean", CONFIG,
     {{CNF, GOOD_CNF(", \"tls_peer_verification\": \"no\""), 0644}}, KRK_E_CONFIG,
     "%D/plugin/component_keyring_kmip.cnf: \"tls_peer_verification\" must be true or false, "
     "found a string",
     NULL},
    {"timeout zero", CONFIG, {{CNF, GOOD_CNF(", \"kmip_timeout_ms\": 0"), 0644}}, KRK_E_CONFIG,
     "%D/plugin/component_keyring_kmip.cnf: \"kmip_timeout_ms\" must be a number from 1 to "
     "3600000, found 0",
     NULL},
    {"object_group empty", CONFIG, {{CNF, GOOD_CNF(", \"object_group\": \"\""), 0644}},
     KRK_E_CONFIG, "%D/plugin/component_keyring_kmip.cnf: \"object_group\" must not be empty", NULL},
    {"read_local_config not boolean", CONFIG, {{CNF, "{\"read_local_config\": \"true\"}", 0644}},
     KRK_E_CONFIG,
     "%D/plugin/component_keyring_kmip.cnf: \"read_local_config\" must be true or false, found a "
     "string",
     NULL},
    {"local configuration missing", CONFIG, {{CNF, "{\"read_local_config\": true}", 0644}},
     KRK_E_CONFIG,
     "%D/data/component_keyring_kmip.cnf: keyring configuration not found "
     "(%D/plugin/component_keyring_kmip.cnf has \"read_local_config\": true)",
     NULL},
    {"good configuration", CONFIG, {{CNF, GOOD_CNF(", \"object_group\": \"g\""), 0644}}, KRK_OK,
     "", NULL},
    {"hostname verification off", CONFIG,
     {{CNF, GOOD_CNF(", \"tls_hostname_verification\": false"), 0644}}, KRK_OK, "",
     "\"tls_hostname_verification\" is false"},
    /* ---- several servers (issue 15) ---- */
    {"server list as an array", CONFIG,
     {{CNF, ADDR_CNF("[\"kms1\", \"kms2:5697\", \"[::1]:5698\", \"[fe80::1]\"]"), 0644}},
     KRK_OK, "", NULL},
    {"server list comma separated", CONFIG,
     {{CNF, ADDR_CNF("\"kms1:1, 10.0.0.2 ,[::1]:2\""), 0644}}, KRK_OK, "", NULL},
    {"server list: empty entry", CONFIG, {{CNF, ADDR_CNF("\"kms1,,kms2\""), 0644}},
     KRK_E_CONFIG, LIST_ERR("", "empty (two commas in a row, or a comma at an end?)"), NULL},
    {"server list: bad port", CONFIG, {{CNF, ADDR_CNF("\"kms1,kms2:99999\""), 0644}},
     KRK_E_CONFIG, LIST_ERR("kms2:99999", "the port must be a number from 1 to 65535"), NULL},
    {"server list: port not a number", CONFIG, {{CNF, ADDR_CNF("[\"kms1\", \"kms2:x1\"]"), 0644}},
     KRK_E_CONFIG, LIST_ERR("kms2:x1", "the port must be a number from 1 to 65535"), NULL},
    {"server list: unclosed bracket", CONFIG, {{CNF, ADDR_CNF("\"[::1:5696\""), 0644}},
     KRK_E_CONFIG, LIST_ERR("[::1:5696", "\"[\" without \"]\" (write \"[v6addr]:port\")"), NULL},
    {"server list: a server twice", CONFIG, {{CNF, ADDR_CNF("\"kms1:5696, kms2, KMS1\""), 0644}},
     KRK_E_CONFIG,
     LIST_ERR("KMS1", "the same server as entry 1 (kms1:5696): list each server once"), NULL},
    {"server list: bare IPv6 with a port-like end", CONFIG, {{CNF, ADDR_CNF("\"::1:5697\""), 0644}},
     KRK_E_CONFIG,
     LIST_ERR("::1:5697", "ambiguous: write \"[::1]:5697\" for port 5697, or \"[::1:5697]\" for "
              "that address"), NULL},
    {"server list: bare IPv6 still works", CONFIG, {{CNF, ADDR_CNF("\"fe80::1, 2001:db8::5\""), 0644}},
     KRK_OK, "", NULL},
    {"server list: control character", CONFIG, {{CNF, ADDR_CNF("\"kms1,k\\u0001s\""), 0644}},
     KRK_E_CONFIG, LIST_ERR("k?s", "a control character or \"\\\" in the host name"), NULL},
    {"server list: no port after colon", CONFIG, {{CNF, ADDR_CNF("\"kms1:\""), 0644}},
     KRK_E_CONFIG, LIST_ERR("kms1:", "no port after \":\""), NULL},
    {"server list: entry not a string", CONFIG, {{CNF, ADDR_CNF("[\"kms1\", 5]"), 0644}},
     KRK_E_CONFIG,
     "%D/plugin/component_keyring_kmip.cnf: \"server_addr\" entry 2 must be a string, found a "
     "number", NULL},
    {"server list: empty array", CONFIG, {{CNF, ADDR_CNF("[]"), 0644}}, KRK_E_CONFIG,
     "%D/plugin/component_keyring_kmip.cnf: \"server_addr\" must name at least one server", NULL},
    {"server list: 17 servers", CONFIG,
     {{CNF, ADDR_CNF("\"a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q\""), 0644}}, KRK_E_CONFIG,
     "%D/plugin/component_keyring_kmip.cnf: \"server_addr\": more than 16 servers (expected "
     "\"host\", \"host:port\" or \"[v6addr]:port\", several as a JSON array or separated by "
     "commas)", NULL},
    {"connect timeout zero", CONFIG, {{CNF, GOOD_CNF(", \"kmip_connect_timeout_ms\": 0"), 0644}},
     KRK_E_CONFIG,
     "%D/plugin/component_keyring_kmip.cnf: \"kmip_connect_timeout_ms\" must be a number from 1 "
     "to 3600000, found 0", NULL},
    {"good local configuration", CONFIG,
     {{CNF, "{\"read_local_config\": true}", 0644},
      {"data/component_keyring_kmip.cnf",
       "{\"server_addr\": \"::1\", \"server_port\": 5696, \"client_ca\": \"../plugin/client.pem\","
       " \"client_key\": \"../plugin/client.key\", \"server_ca\": \"../plugin/ca.pem\"}",
       0644}},
     KRK_OK, "", NULL},
    {"world-writable configuration", CONFIG, {{CNF, GOOD_CNF(""), 0646}}, KRK_OK, "",
     "is writable by other users"},
    /* ---- strict numbers, BOM, files that are not regular files ---- */
    {"server_port with a space", CONFIG,
     {{CNF, "{\"server_addr\": \"h\", \"server_port\": \" 5696\"}", 0644}}, KRK_E_CONFIG,
     "%D/plugin/component_keyring_kmip.cnf: \"server_port\" must be a number from 1 to 65535, "
     "found \" 5696\"",
     NULL},
    {"server_port with a sign", CONFIG,
     {{CNF, "{\"server_addr\": \"h\", \"server_port\": \"+5696\"}", 0644}}, KRK_E_CONFIG,
     "%D/plugin/component_keyring_kmip.cnf: \"server_port\" must be a number from 1 to 65535, "
     "found \"+5696\"",
     NULL},
    {"server_port with trailing junk", CONFIG,
     {{CNF, "{\"server_addr\": \"h\", \"server_port\": \"5696 \"}", 0644}}, KRK_E_CONFIG,
     "%D/plugin/component_keyring_kmip.cnf: \"server_port\" must be a number from 1 to 65535, "
     "found \"5696 \"",
     NULL},
    {"server_port with a fraction", CONFIG,
     {{CNF, "{\"server_addr\": \"h\", \"server_port\": 5696.0}", 0644}}, KRK_E_CONFIG,
     "%D/plugin/component_keyring_kmip.cnf: \"server_port\" must be a number from 1 to 65535, "
     "found a number with a fraction or an exponent",
     NULL},
    {"unknown cipher", CONFIG, {{CNF, GOOD_CNF(", \"tls_cipher_list\": \"BOGUS\""), 0644}},
     KRK_E_CONFIG,
     "%D/plugin/component_keyring_kmip.cnf: \"tls_cipher_list\" (\"BOGUS\") names no cipher "
     "OpenSSL knows",
     NULL},
    {"unknown cipher among known ones", CONFIG,
     {{CNF, GOOD_CNF(", \"tls_cipher_list\": \"ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-"
                     "SHA348:!aNULL\""), 0644}},
     KRK_E_CONFIG,
     "%D/plugin/component_keyring_kmip.cnf: \"tls_cipher_list\" (\"ECDHE-RSA-AES128-GCM-SHA256:"
     "ECDHE-RSA-AES256-GCM-SHA348:!aNULL\") names \"ECDHE-RSA-AES256-GCM-SHA348\", a cipher "
     "OpenSSL does not know",
     NULL},
    {"unknown TLS 1.3 suite", CONFIG,
     {{CNF, GOOD_CNF(", \"tls_ciphersuites\": \"TLS_BOGUS\""), 0644}}, KRK_E_CONFIG,
     "%D/plugin/component_keyring_kmip.cnf: \"tls_ciphersuites\" (\"TLS_BOGUS\") names no TLS "
     "1.3 suite OpenSSL knows",
     NULL},
    {"unknown TLS 1.3 suite among known ones", CONFIG,
     {{CNF, GOOD_CNF(", \"tls_ciphersuites\": \"TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM\""),
       0644}},
     KRK_E_CONFIG,
     "%D/plugin/component_keyring_kmip.cnf: \"tls_ciphersuites\" (\"TLS_AES_256_GCM_SHA384:"
     "TLS_AES_128_GCM\") names \"TLS_AES_128_GCM\", a TLS 1.3 suite OpenSSL does not know",
     NULL},
    {"good cipher options", CONFIG,
     {{CNF, GOOD_CNF(", \"tls_cipher_list\": \"ECDHE+AESGCM:!aNULL:@SECLEVEL=1\", "
                     "\"tls_ciphersuites\": \"TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256\""),
       0644}},
     KRK_OK, "", NULL},
    {"configuration with a BOM", CONFIG, {{CNF, "\xEF\xBB\xBF" GOOD_CNF(""), 0644}},
     KRK_E_CONFIG,
     "%D/plugin/component_keyring_kmip.cnf: the keyring configuration starts with a UTF-8 byte "
     "order mark (BOM): save it as UTF-8 without a BOM",
     NULL},
    {"manifest with a BOM", MANIFEST,
     {{MY, "\xEF\xBB\xBF{\"components\": \"file://component_keyring_kmip\"}", 0644}},
     KRK_E_MANIFEST,
     "%D/base/mysqld.my: the manifest starts with a UTF-8 byte order mark (BOM): save it as UTF-8 "
     "without a BOM",
     NULL},
    {"configuration is a FIFO", CONFIG, {{CNF, MAKE_FIFO, 0600}}, KRK_E_CONFIG,
     "%D/plugin/component_keyring_kmip.cnf: the keyring configuration cannot be used: "
     "%D/plugin/component_keyring_kmip.cnf is a FIFO, not a regular file",
     NULL},
    {"server_ca is a FIFO", CONFIG,
     {{CNF, "{\"server_addr\": \"h\", \"server_port\": 1, \"client_ca\": \"client.pem\", "
            "\"client_key\": \"client.key\", \"server_ca\": \"fifo.pem\"}",
       0644},
      {"plugin/fifo.pem", MAKE_FIFO, 0644}},
     KRK_E_CONFIG,
     "%D/plugin/component_keyring_kmip.cnf: \"server_ca\": %D/plugin/fifo.pem is a FIFO, not a "
     "regular file",
     NULL},
    {"client_key is a directory", CONFIG,
     {{CNF, "{\"server_addr\": \"h\", \"server_port\": 1, \"client_ca\": \"client.pem\", "
            "\"client_key\": \"keys\", \"server_ca\": \"ca.pem\"}",
       0644},
      {"plugin/keys", MAKE_DIR, 0755}},
     KRK_E_CONFIG,
     "%D/plugin/component_keyring_kmip.cnf: \"client_key\": %D/plugin/keys is a directory, not "
     "a regular file",
     NULL},
    {"server_ca too large", CONFIG,
     {{CNF, "{\"server_addr\": \"h\", \"server_port\": 1, \"client_ca\": \"client.pem\", "
            "\"client_key\": \"client.key\", \"server_ca\": \"big.pem\"}",
       0644},
      {"plugin/big.pem", MAKE_BIG, 0644}},
     KRK_E_CONFIG,
     "%D/plugin/component_keyring_kmip.cnf: \"server_ca\": %D/plugin/big.pem is larger than "
     "the limit of 4194304 bytes",
     NULL},
    {"client_ca is a device", CONFIG,
     {{CNF, "{\"server_addr\": \"h\", \"server_port\": 1, \"client_ca\": \"/dev/zero\", "
            "\"client_key\": \"client.key\", \"server_ca\": \"ca.pem\"}",
       0644}},
     KRK_E_CONFIG,
     "%D/plugin/component_keyring_kmip.cnf: \"client_ca\": /dev/zero is a character device, "
     "not a regular file",
     NULL},
    /* ---- encrypted client keys (PKCS#8, AES-256-CBC) ---- */
    {"encrypted key without pass phrase", CONFIG,
     {{CNF, "{\"server_addr\": \"h\", \"server_port\": 1, \"client_ca\": \"client.pem\", "
            "\"client_key\": \"encrypted.key\", \"server_ca\": \"ca.pem\"}",
       0644}},
     KRK_E_CONFIG,
     "%D/plugin/component_keyring_kmip.cnf: \"client_key\" (%D/plugin/encrypted.key) is "
     "encrypted: name a file holding its pass phrase in \"client_key_password_file\"",
     NULL},
    {"encrypted key with its pass phrase", CONFIG,
     {{CNF, GOOD_CNF2("encrypted.key", ", \"client_key_password_file\": \"pass.txt\""), 0644}},
     KRK_OK, "", NULL},
    {"encrypted key, wrong pass phrase", CONFIG,
     {{CNF, GOOD_CNF2("encrypted.key", ", \"client_key_password_file\": \"wrong.txt\""), 0644}},
     KRK_E_CONFIG,
     "%D/plugin/component_keyring_kmip.cnf: the pass phrase in \"client_key_password_file\" "
     "(%D/plugin/wrong.txt) does not decrypt \"client_key\" (%D/plugin/encrypted.key)",
     NULL},
    {"pass phrase file missing", CONFIG,
     {{CNF, GOOD_CNF2("encrypted.key", ", \"client_key_password_file\": \"nope.txt\""), 0644}},
     KRK_E_CONFIG,
     "%D/plugin/component_keyring_kmip.cnf: \"client_key_password_file\" names "
     "%D/plugin/nope.txt, which cannot be read: No such file or directory",
     NULL},
    /* ---- cipher policy ---- */
    {"unknown TLS 1.2 cipher", CONFIG,
     {{CNF, GOOD_CNF(", \"tls_cipher_list\": \"NO-SUCH-CIPHER\""), 0644}}, KRK_E_CONFIG,
     "%D/plugin/component_keyring_kmip.cnf: \"tls_cipher_list\" (\"NO-SUCH-CIPHER\") names no "
     "cipher OpenSSL knows",
     NULL},
    {"unknown TLS 1.3 suite", CONFIG,
     {{CNF, GOOD_CNF(", \"tls_ciphersuites\": \"TLS_NOPE\""), 0644}}, KRK_E_CONFIG,
     "%D/plugin/component_keyring_kmip.cnf: \"tls_ciphersuites\" (\"TLS_NOPE\") names no TLS "
     "1.3 suite OpenSSL knows",
     NULL},
    {"static RSA allowed explicitly", CONFIG,
     {{CNF, GOOD_CNF(", \"tls_cipher_list\": \"AES256-GCM-SHA384\""), 0644}}, KRK_OK, "", NULL},
};

/* ---- certificates made now ---- */

static EVP_PKEY *write_key(const char *path)
{
    EVP_PKEY *k = EVP_EC_gen("P-256"); /* fast, even under valgrind */
    FILE *f = fopen(path, "w");
    assert_non_null(k);
    assert_non_null(f);
    assert_int_equal(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL), 1);
    fclose(f);
    return k;
}

static void write_cert(const char *path, EVP_PKEY *k)
{
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)"test", -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    X509_set_pubkey(x, k);
    assert_true(X509_sign(x, k, EVP_sha256()) > 0);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    PEM_write_X509(f, x);
    fclose(f);
    X509_free(x);
}

/* Keys and certificates are made once, then copied into every case. */
static void make_templates(void)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/template", root);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/template/client.key", root);
    EVP_PKEY *k = write_key(p);
    snprintf(p, sizeof p, "%s/template/client.pem", root);
    write_cert(p, k);
    snprintf(p, sizeof p, "%s/template/ca.pem", root);
    write_cert(p, k);
    /* the same key encrypted (PKCS#8, AES-256-CBC), its pass phrase and a wrong one */
    snprintf(p, sizeof p, "%s/template/encrypted.key", root);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    assert_int_equal(PEM_write_PKCS8PrivateKey(f, k, EVP_aes_256_cbc(), "correct horse", 13,
                                               NULL, NULL),
                     1);
    fclose(f);
    chmod(p, 0600);
    snprintf(p, sizeof p, "%s/template/pass.txt", root);
    f = fopen(p, "w");
    assert_non_null(f);
    fputs("correct horse\n", f);
    fclose(f);
    snprintf(p, sizeof p, "%s/template/wrong.txt", root);
    f = fopen(p, "w");
    assert_non_null(f);
    fputs("battery staple\n", f);
    fclose(f);
    EVP_PKEY_free(k);
    snprintf(p, sizeof p, "%s/template/other.key", root);
    EVP_PKEY_free(write_key(p));
}

static void make_dirs(const char *dir)
{
    char p[1024];
    mkdir(dir, 0755);
    const char *subs[] = {"base", "data", "plugin"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, subs[i]);
        mkdir(p, 0755);
    }
    char cmd[2400];
    snprintf(cmd, sizeof cmd, "cp %s/template/* %s/plugin/", root, dir);
    assert_int_equal(system(cmd), 0);
}

static void expand(const char *in, const char *dir, char *out, size_t cap)
{
    size_t n = 0;
    for (; *in && n + 1 < cap; in++) {
        if (in[0] == '%' && in[1] == 'D') {
            n += (size_t)snprintf(out + n, cap - n, "%s", dir);
            in++;
        } else {
            out[n++] = *in;
        }
    }
    out[n < cap ? n : cap - 1] = '\0';
}

static void run_case(void **state)
{
    const config_case *c = *state;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/case%d", root, (int)(c - cases));
    make_dirs(dir);
    for (int i = 0; i < 4 && c->files[i].path; i++) {
        char p[2048];
        snprintf(p, sizeof p, "%s/%s", dir, c->files[i].path);
        if (c->files[i].content == MAKE_FIFO || c->files[i].content == MAKE_DIR) {
            unlink(p);
            assert_int_equal(c->files[i].content == MAKE_FIFO ? mkfifo(p, c->files[i].mode)
                                                              : mkdir(p, c->files[i].mode),
                             0);
            continue;
        }
        FILE *f = fopen(p, "w");
        assert_non_null(f);
        if (c->files[i].content == MAKE_BIG)
            assert_int_equal(ftruncate(fileno(f), 5 << 20), 0);
        else
            fputs(c->files[i].content, f);
        fclose(f);
        chmod(p, c->files[i].mode);
    }
    char base[1024], data[1024], plugin[1024];
    snprintf(base, sizeof base, "%s/base", dir);
    snprintf(data, sizeof data, "%s/data", dir);
    snprintf(plugin, sizeof plugin, "%s/plugin", dir);
    krk_diag d;
    krk_err e;
    if (c->kind == MANIFEST) {
        krk_manifest m;
        e = krk_manifest_read(base, data, &m, &d);
        if (e == KRK_OK)
            assert_string_equal(m.component_url + strlen(m.component_url) - 22,
                                "component_keyring_kmip");
    } else {
        krk_config cfg;
        e = krk_config_find(plugin, data, &cfg, &d);
        if (e == KRK_OK) {
            assert_true(cfg.server_port == 5696);
            assert_true(cfg.tls_peer_verification);
            assert_int_equal(access(cfg.client_cert, R_OK), 0);
        }
    }
    char want[2048];
    expand(c->message, dir, want, sizeof want);
    if (e != c->code || strcmp(d.error, want) != 0)
        fail_msg("%s:\n  got  %s (%s)\n  want %s (%s)", c->name, d.error, krk_strerror(e), want,
                 krk_strerror(c->code));
    if (c->warning) {
        assert_true(d.warning_count >= 1);
        if (strstr(d.warnings[0], c->warning) == NULL)
            fail_msg("%s: warning '%s' lacks '%s'", c->name, d.warnings[0], c->warning);
    }
}

int main(void)
{
    snprintf(root, sizeof root, "/tmp/krk-config-test-XXXXXX");
    if (mkdtemp(root) == NULL)
        return 1;
    make_templates();
    enum { N = sizeof cases / sizeof cases[0] };
    struct CMUnitTest tests[N];
    for (size_t i = 0; i < N; i++) {
        tests[i] = (struct CMUnitTest){cases[i].name, run_case, NULL, NULL, (void *)&cases[i]};
    }
    int failed = cmocka_run_group_tests_name("manifest and configuration", tests, NULL, NULL);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    if (system(cmd) != 0)
        failed = 1;
    return failed;
}
