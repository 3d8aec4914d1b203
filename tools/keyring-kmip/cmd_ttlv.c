/* SPDX-License-Identifier: GPL-2.0-only */
/* keyring-kmip ttlv decode|encode: TTLV <-> KMIP XML, for operators who
 * need to read a captured message or build one by hand. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "kmip/kmip_ttlv.h"
#include "kmip/kmip_xml.h"

typedef struct ttlv_opts {
    const char *in_format;
    const char *out_format;
    const char *path;
    bool show_secrets;
} ttlv_opts;

static void ttlv_usage(FILE *f)
{
    cli_help(f, "ttlv");
}

/* Parses options; returns -1 to continue, else an exit code. */
static int parse_opts(int argc, char **argv, bool decode, ttlv_opts *o)
{
    o->in_format = decode ? "bin" : "xml";
    o->out_format = decode ? "xml" : "bin";
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            ttlv_usage(stdout);
            return CLI_OK;
        } else if ((strcmp(a, "--in") == 0 || strcmp(a, "--out") == 0) && i + 1 < argc) {
            *(a[2] == 'i' ? &o->in_format : &o->out_format) = argv[++i];
        } else if (strcmp(a, "--show-secrets") == 0 && decode) {
            o->show_secrets = true;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "keyring-kmip ttlv: unknown or incomplete option '%s'\n", a);
            return CLI_USAGE;
        } else if (o->path == NULL) {
            o->path = a;
        } else {
            fprintf(stderr, "keyring-kmip ttlv: more than one input file\n");
            return CLI_USAGE;
        }
    }
    bool in_ok = decode ? strcmp(o->in_format, "bin") == 0 || strcmp(o->in_format, "hex") == 0
                        : strcmp(o->in_format, "xml") == 0;
    bool out_ok = decode ? strcmp(o->out_format, "xml") == 0 || strcmp(o->out_format, "text") == 0
                         : strcmp(o->out_format, "bin") == 0 || strcmp(o->out_format, "hex") == 0;
    if (!in_ok || !out_ok) {
        fprintf(stderr, "keyring-kmip ttlv %s: unsupported format '%s'\n",
                decode ? "decode" : "encode", in_ok ? o->out_format : o->in_format);
        return CLI_USAGE;
    }
    return -1;
}

static int do_decode(const ttlv_opts *o, cli_input *in)
{
    if (strcmp(o->in_format, "hex") == 0 && !cli_unhex_inplace(o->path, in, false))
        return CLI_BAD_INPUT;
    kmip_decoder *d = kmip_decoder_new();
    if (d == NULL)
        return CLI_BAD_INPUT;
    kmip_tree *tree = NULL;
    kmip_err err = kmip_decoder_decode(d, in->data, in->len, &tree);
    int rc = CLI_OK;
    if (err != KMIP_OK) {
        fprintf(stderr, "keyring-kmip: %s: %s (%s)\n", cli_input_name(o->path),
                kmip_decoder_error_detail(d), kmip_strerror(err));
        rc = CLI_BAD_INPUT;
    } else {
        unsigned flags = o->show_secrets ? KMIP_XML_SHOW_SECRETS : 0;
        if (strcmp(o->out_format, "text") == 0) {
            err = kmip_text_write(kmip_tree_root(tree), flags, stdout);
        } else {
            char *xml = NULL;
            size_t n = 0;
            err = kmip_xml_write(kmip_tree_root(tree), flags, &xml, &n);
            if (err == KMIP_OK)
                fwrite(xml, 1, n, stdout);
            kmip_secure_free(xml, n);
        }
        if (err != KMIP_OK) {
            fprintf(stderr, "keyring-kmip: %s\n", kmip_strerror(err));
            rc = CLI_BAD_INPUT;
        }
    }
    kmip_tree_free(tree);
    kmip_decoder_free(d);
    return rc;
}

/* False (and said) when there is no memory for the text. */
static bool print_hex(const uint8_t *p, size_t n)
{
    char *hex = malloc(2 * n + 1);
    if (hex == NULL) {
        fprintf(stderr, "keyring-kmip: out of memory for %zu bytes of hex\n", 2 * n + 1);
        return false;
    }
    kmip_hex_encode(p, n, hex);
    puts(hex);
    kmip_secure_free(hex, 2 * n + 1);
    return true;
}

static int do_encode(const ttlv_opts *o, cli_input *in)
{
    kmip_xml_reader *r = kmip_xml_reader_new();
    if (r == NULL)
        return CLI_BAD_INPUT;
    kmip_tree *tree = NULL;
    kmip_err err = kmip_xml_read(r, (const char *)in->data, in->len, &tree);
    int rc = CLI_OK;
    if (err != KMIP_OK) {
        fprintf(stderr, "keyring-kmip: %s:%ld: %s\n", cli_input_name(o->path),
                kmip_xml_reader_error_line(r), kmip_xml_reader_error_detail(r));
        rc = CLI_BAD_INPUT;
    } else {
        uint8_t *bytes = NULL;
        size_t n = 0;
        err = kmip_encode_tree(kmip_tree_root(tree), &bytes, &n);
        if (err != KMIP_OK) {
            fprintf(stderr, "keyring-kmip: %s: cannot encode: %s\n", cli_input_name(o->path),
                    kmip_strerror(err));
            rc = CLI_BAD_INPUT;
        } else if (strcmp(o->out_format, "hex") == 0) {
            if (!print_hex(bytes, n))
                rc = CLI_BAD_INPUT;
        } else {
            fwrite(bytes, 1, n, stdout);
        }
        kmip_secure_free(bytes, n);
    }
    kmip_tree_free(tree);
    kmip_xml_reader_free(r);
    return rc;
}

int cmd_ttlv(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        ttlv_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    bool decode = strcmp(argv[1], "decode") == 0;
    if (!decode && strcmp(argv[1], "encode") != 0) {
        fprintf(stderr, "keyring-kmip ttlv: unknown subcommand '%s'\n", argv[1]);
        ttlv_usage(stderr);
        return CLI_USAGE;
    }
    ttlv_opts o = {0};
    int rc = parse_opts(argc, argv, decode, &o);
    if (rc >= 0)
        return rc;
    cli_input in;
    if (!cli_read_input(o.path, &in))
        return CLI_BAD_INPUT;
    rc = decode ? do_decode(&o, &in) : do_encode(&o, &in);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "keyring-kmip: cannot write output\n");
        rc = CLI_BAD_INPUT;
    }
    cli_input_free(&in);
    return rc;
}
