/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "kmip/kmip_ttlv.h"

const char *cli_input_name(const char *path)
{
    return path == NULL || strcmp(path, "-") == 0 ? "<stdin>" : path;
}

/* Grows by allocate-copy-wipe: the input may be key material. */
static bool grow(cli_input *in)
{
    size_t cap = in->cap ? in->cap * 2 : 65536;
    uint8_t *fresh = malloc(cap + 1);
    if (fresh == NULL)
        return false;
    if (in->len)
        memcpy(fresh, in->data, in->len);
    kmip_secure_free(in->data, in->cap + 1);
    in->data = fresh;
    in->cap = cap;
    return true;
}

bool cli_read_input(const char *path, cli_input *in)
{
    memset(in, 0, sizeof *in);
    const char *name = cli_input_name(path);
    FILE *f = path == NULL || strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "keyring-kmip: %s: %s\n", name, strerror(errno));
        return false;
    }
    bool ok = true;
    for (;;) {
        if (in->len == in->cap && (in->cap >= CLI_MAX_INPUT || !grow(in))) {
            fprintf(stderr, "keyring-kmip: %s: %s\n", name,
                    in->cap >= CLI_MAX_INPUT ? "input larger than 16 MiB" : "out of memory");
            ok = false;
            break;
        }
        size_t n = fread(in->data + in->len, 1, in->cap - in->len, f);
        in->len += n;
        if (n == 0) {
            if (ferror(f)) { /* a directory (EISDIR), a closed standard input (EBADF) */
                fprintf(stderr, "keyring-kmip: %s: %s\n", name, strerror(errno));
                ok = false;
            }
            break;
        }
    }
    if (f != stdin)
        fclose(f);
    if (ok)
        in->data[in->len] = '\0'; /* room was kept for it */
    else
        cli_input_free(in);
    return ok;
}

void cli_input_free(cli_input *in)
{
    kmip_secure_free(in->data, in->cap + 1);
    memset(in, 0, sizeof *in);
}

bool cli_unhex_inplace(const char *path, cli_input *in, bool secret)
{
    size_t out = 0, bad = 0;
    if (!kmip_hex_decode((const char *)in->data, in->len, KMIP_HEX_SKIP_SPACE, in->data, &out,
                         &bad)) {
        if (bad == in->len)
            fprintf(stderr, "keyring-kmip: %s: odd number of hex digits\n", cli_input_name(path));
        else if (secret) /* the character itself may be part of the key */
            fprintf(stderr, "keyring-kmip: %s: character %zu is not a hex digit\n",
                    cli_input_name(path), bad);
        else
            fprintf(stderr, "keyring-kmip: %s: character %zu: '%c' is not a hex digit\n",
                    cli_input_name(path), bad,
                    in->data[bad] >= 0x20 && in->data[bad] < 0x7f ? in->data[bad] : '?');
        return false;
    }
    kmip_secure_zero(in->data + out, in->len - out);
    in->len = out;
    return true;
}

bool cli_parse_number(const char *command, const char *flag, const char *text, unsigned long min,
                      unsigned long max, unsigned long *out)
{
    /* strtoul alone would take " 16", "+16", "-16" (as a huge number) and
     * stop quietly at "16abc": only digits are a number here */
    unsigned long v = 0;
    bool ok = text[0] != '\0' && strlen(text) <= 20;
    for (const char *p = text; ok && *p; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (*p < '0' || *p > '9' || v > (max - d) / 10)
            ok = false;
        else
            v = v * 10 + d;
    }
    if (!ok || v < min || v > max) {
        fprintf(stderr, "keyring-kmip %s: %s takes a whole number from %lu to %lu, not '%s'\n",
                command, flag, min, max, text);
        return false;
    }
    *out = v;
    return true;
}
