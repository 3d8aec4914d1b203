/* SPDX-License-Identifier: GPL-2.0-only */
/* The peer projects' TTLV vectors (CORPUS/peer-vectors, see its README):
 *   valid.txt          each vector decodes with the strict decoder (default
 *                      limits) and encodes back to the identical bytes; it
 *                      also goes through KMIP XML (written with secrets
 *                      shown, read back) to the identical bytes; a Request
 *                      or Response Message is also decoded by the typed
 *                      message layer, and one it covers entirely encodes
 *                      back to the identical bytes (one the layer refuses,
 *                      a vector valid as TTLV but not as a message, is
 *                      printed with the reason, not counted as a failure);
 *   invalid.txt        each vector is refused with a message, nothing else;
 *   informational.txt  each vector is decoded and the outcome printed, not
 *                      counted (limits the specification does not set).
 * Lines are `SOURCE:PATH:TEST HEX`. Every valid vector that does not round
 * trip and every invalid one that decodes is printed with its name; the exit
 * status is 1 if there is any, or if a file holds no vector.
 *
 * Usage: peer_vectors CORPUS   (KMIP_CORPUS_DIR overrides it, see corpus.h;
 * an absent CORPUS is reported as skipped, exit 77). PEER_VECTORS_VERBOSE=1
 * prints every invalid vector's refusal. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmip/kmip_message.h"
#include "kmip/kmip_ttlv.h"
#include "kmip/kmip_xml.h"

#include "corpus.h"

typedef enum kind { VALID, INVALID, INFORMATIONAL } kind;

typedef struct tally {
    int vectors, passed;
    int xml_passed;                                /* valid: the XML round trip */
    int messages, typed, typed_passed, refused;    /* valid: the typed message layer */
} tally;

/* TTLV -> KMIP XML -> TTLV gives the same bytes. */
static bool xml_round_trip(const char *name, const kmip_item *root, const uint8_t *bytes,
                           size_t len)
{
    char *xml = NULL;
    size_t xml_len = 0;
    kmip_tree *back = NULL;
    uint8_t *out = NULL;
    size_t out_len = 0;
    kmip_xml_reader *r = kmip_xml_reader_new();
    bool ok = false;
    if (r == NULL)
        printf("FAIL %s: out of memory\n", name);
    else if (kmip_xml_write(root, KMIP_XML_SHOW_SECRETS, &xml, &xml_len) != KMIP_OK)
        printf("FAIL %s: cannot be written as KMIP XML\n", name);
    else if (kmip_xml_read(r, xml, xml_len, &back) != KMIP_OK)
        printf("FAIL %s: its KMIP XML does not read back: %s\n", name,
               kmip_xml_reader_error_detail(r));
    else if (kmip_encode_tree(kmip_tree_root(back), &out, &out_len) != KMIP_OK ||
             out_len != len || memcmp(out, bytes, len) != 0)
        printf("FAIL %s: TTLV -> XML -> TTLV differs\n", name);
    else
        ok = true;
    kmip_secure_free(out, out_len);
    kmip_tree_free(back);
    kmip_secure_free(xml, xml_len);
    kmip_xml_reader_free(r);
    return ok;
}

/* A Request or Response Message through the typed layer (counted in c). */
static bool typed_round_trip(const char *name, const uint8_t *bytes, size_t len, tally *c)
{
    kmip_message *m = NULL;
    kmip_msg_error merr;
    c->messages++;
    kmip_err err = kmip_message_decode(bytes, len, &m, &merr);
    if (err != KMIP_OK) {
        c->refused++;
        printf("not a message %s: %s: %s\n", name, kmip_strerror(err), merr.detail);
        return true;
    }
    bool ok = true;
    if (kmip_message_fully_typed(m)) {
        uint8_t *out = NULL;
        size_t out_len = 0;
        c->typed++;
        ok = kmip_message_encode(m, &out, &out_len) == KMIP_OK && out_len == len &&
             memcmp(out, bytes, len) == 0;
        if (ok)
            c->typed_passed++;
        else
            printf("FAIL %s: typed message re-encoding differs\n", name);
        kmip_secure_free(out, out_len);
    }
    kmip_message_free(m);
    return ok;
}

/* Strict hex of even length into a new buffer; false on anything else. */
static bool parse_hex(const char *hex, size_t hex_len, uint8_t **out, size_t *len)
{
    if (hex_len % 2 != 0)
        return false;
    uint8_t *b = malloc(hex_len / 2 + 1);
    if (b == NULL)
        return false;
    for (size_t i = 0; i < hex_len; i += 2) {
        int v[2];
        for (int k = 0; k < 2; k++) {
            char c = hex[i + (size_t)k];
            v[k] = c >= '0' && c <= '9'   ? c - '0'
                   : c >= 'a' && c <= 'f' ? c - 'a' + 10
                   : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                          : -1;
            if (v[k] < 0) {
                free(b);
                return false;
            }
        }
        b[i / 2] = (uint8_t)(v[0] << 4 | v[1]);
    }
    *out = b;
    *len = hex_len / 2;
    return true;
}

/* Decodes one vector; for a valid one also re-encodes and compares. Returns
 * whether the vector behaved as its file says. */
static bool check_vector(kind k, const char *name, const uint8_t *bytes, size_t len, tally *c)
{
    kmip_decoder *d = kmip_decoder_new();
    if (d == NULL) {
        printf("FAIL %s: out of memory\n", name);
        return false;
    }
    kmip_tree *t = NULL;
    kmip_err err = kmip_decoder_decode(d, bytes, len, &t);
    bool ok = false;
    if (k == VALID) {
        uint8_t *out = NULL;
        size_t out_len = 0;
        if (err != KMIP_OK) {
            printf("FAIL %s: valid vector refused: %s\n", name, kmip_decoder_error_detail(d));
        } else if (kmip_encode_tree(kmip_tree_root(t), &out, &out_len) != KMIP_OK) {
            printf("FAIL %s: decoded, but encoding it again failed\n", name);
        } else if (out_len != len || memcmp(out, bytes, len) != 0) {
            size_t at = 0;
            while (at < len && at < out_len && out[at] == bytes[at])
                at++;
            printf("FAIL %s: re-encoding differs from byte %zu (%zu bytes in, %zu out)\n", name,
                   at, len, out_len);
        } else if (xml_round_trip(name, kmip_tree_root(t), bytes, len)) {
            c->xml_passed++;
            uint32_t tag = kmip_tree_root(t)->tag;
            ok = tag != KMIP_TAG_REQUEST_MESSAGE && tag != KMIP_TAG_RESPONSE_MESSAGE
                     ? true
                     : typed_round_trip(name, bytes, len, c);
        }
        kmip_secure_free(out, out_len);
    } else if (err == KMIP_OK) {
        printf("%s %s: decoded (%zu items)\n", k == INVALID ? "FAIL" : "informational", name,
               kmip_tree_item_count(t));
    } else {
        const char *detail = kmip_decoder_error_detail(d);
        ok = detail != NULL && detail[0] != '\0';
        if (!ok)
            printf("FAIL %s: refused without a message\n", name);
        else if (k == INFORMATIONAL || getenv("PEER_VECTORS_VERBOSE"))
            printf("%s %s: refused: %s\n", k == INVALID ? "refused" : "informational", name,
                   detail);
    }
    kmip_tree_free(t);
    kmip_decoder_free(d);
    return ok;
}

/* Reads one vector file; false when it cannot be read at all. */
static bool check_file(const char *dir, const char *file, kind k, tally *c)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", dir, file) >= (int)sizeof path)
        return false;
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        printf("FAIL cannot open %s\n", path);
        return false;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int number = 0;
    bool readable = true;
    while ((n = getline(&line, &cap, f)) >= 0) {
        number++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0)
            continue;
        char *space = strrchr(line, ' ');
        uint8_t *bytes = NULL;
        size_t len = 0;
        c->vectors++;
        if (space == NULL || !parse_hex(space + 1, strlen(space + 1), &bytes, &len)) {
            printf("FAIL %s:%d: expected `SOURCE:PATH:TEST HEX`\n", path, number);
            readable = false;
            continue;
        }
        *space = '\0';
        if (check_vector(k, line, bytes, len, c))
            c->passed++;
        free(bytes);
    }
    free(line);
    fclose(f);
    return readable;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: peer_vectors CORPUS\n");
        return 2;
    }
    const char *root = corpus_root(argv[1]);
    corpus_require(root, "peer_vectors", "peer TTLV vectors peer-vectors/{valid,invalid}.txt");
    char dir[4096];
    if (snprintf(dir, sizeof dir, "%s/peer-vectors", root) >= (int)sizeof dir)
        return 1;
    tally valid = {0}, invalid = {0}, info = {0};
    bool readable = check_file(dir, "valid.txt", VALID, &valid);
    readable &= check_file(dir, "invalid.txt", INVALID, &invalid);
    readable &= check_file(dir, "informational.txt", INFORMATIONAL, &info);
    printf("peer vectors: %d/%d valid round-trip byte for byte, %d/%d invalid refused with a "
           "message; %d informational printed above, not counted\n",
           valid.passed, valid.vectors, invalid.passed, invalid.vectors, info.vectors);
    printf("valid vectors: %d/%d also round-trip through KMIP XML; %d are messages: %d decode as "
           "typed messages (%d refused, printed above), %d/%d covered entirely re-encode byte "
           "for byte\n",
           valid.xml_passed, valid.vectors, valid.messages, valid.messages - valid.refused,
           valid.refused, valid.typed_passed, valid.typed);
    return readable && valid.vectors > 0 && invalid.vectors > 0 && valid.passed == valid.vectors &&
                   invalid.passed == invalid.vectors
               ? 0
               : 1;
}
