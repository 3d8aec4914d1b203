/* SPDX-License-Identifier: GPL-2.0-only */
/* Conformance harness over the OASIS KMIP mandatory test cases.
 *
 * For every RequestMessage and ResponseMessage in the given directories:
 *   1. fill placeholders ($NOW, $NOW-3600, $KEY_MATERIAL_0, ...) with fixed
 *      values (Text String placeholders such as $UNIQUE_IDENTIFIER_0 are valid
 *      text and stay as they are);
 *   2. XML -> tree A -> TTLV -> tree B (the strict decoder): A == B;
 *   3. tree B -> XML -> tree C: A == C, and the element names, types and
 *      text/enumeration values of the output equal the input's;
 *   4. if the typed message layer covers every operation in the message:
 *      TTLV -> typed message -> TTLV is byte-identical.
 * Prints per-version counts; exits non-zero if any message fails.
 *
 * Usage: conformance CORPUS SUBDIR [SUBDIR ...]
 *   CORPUS is the corpus root (KMIP_CORPUS_DIR in the environment overrides
 *   it, see corpus.h); each SUBDIR (e.g. testcases/1.4) holds *.xml test
 *   cases. An absent CORPUS is reported as skipped (exit 77). */
#include <dirent.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "kmip/kmip_message.h"
#include "kmip/kmip_registry.h"
#include "kmip/kmip_ttlv.h"
#include "kmip/kmip_xml.h"

#include "corpus.h"

/* A fixed "now" so that runs are repeatable: 2026-01-01T00:00:00Z. */
#define FIXED_NOW 1767225600LL

typedef struct counts {
    int messages, passed, typed, typed_passed;
} counts;

static void fill_bytes(const char *name, char *hex, size_t cap)
{
    /* 32 deterministic bytes derived from the placeholder's name (FNV-1a) */
    unsigned h = 2166136261u;
    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    size_t i = 0;
    for (; i < 32 && 2 * i + 2 < cap; i++) {
        h = h * 1103515245u + 12345u;
        snprintf(hex + 2 * i, 3, "%02x", (h >> 16) & 0xffu);
    }
    hex[2 * i] = '\0';
}

/* Replaces placeholder values in place in the DOM; false on an unknown
 * placeholder shape. */
static bool fill_placeholders(xmlNode *n)
{
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        char *v = (char *)xmlGetProp(n, BAD_CAST "value");
        char *t = (char *)xmlGetProp(n, BAD_CAST "type");
        bool ok = true;
        if (v && v[0] == '$' && t) {
            char buf[80];
            if (strcmp(t, "DateTime") == 0 && strncmp(v, "$NOW", 4) == 0) {
                long long when = FIXED_NOW + (v[4] ? atoll(v + 4) : 0);
                time_t tt = (time_t)when;
                struct tm tm;
                gmtime_r(&tt, &tm);
                strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S+00:00", &tm);
                xmlSetProp(n, BAD_CAST "value", BAD_CAST buf);
            } else if (strcmp(t, "ByteString") == 0 || strcmp(t, "BigInteger") == 0) {
                fill_bytes(v, buf, sizeof buf);
                xmlSetProp(n, BAD_CAST "value", BAD_CAST buf);
            } else if (strcmp(t, "TextString") != 0) {
                fprintf(stderr, "unhandled placeholder %s of type %s\n", v, t);
                ok = false;
            }
        }
        xmlFree(v);
        xmlFree(t);
        if (!ok || !fill_placeholders(n->children))
            return false;
    }
    return true;
}

static char *node_text(xmlDoc *doc, xmlNode *n)
{
    xmlBufferPtr b = xmlBufferCreate();
    xmlNodeDump(b, doc, n, 0, 0);
    char *s = strdup((const char *)xmlBufferContent(b));
    xmlBufferFree(b);
    return s;
}

static bool same_prop(xmlNode *a, xmlNode *b, const char *name, bool ci)
{
    char *x = (char *)xmlGetProp(a, BAD_CAST name);
    char *y = (char *)xmlGetProp(b, BAD_CAST name);
    bool same = (x == NULL && y == NULL) ||
                (x && y && (ci ? strcasecmp(x, y) == 0 : strcmp(x, y) == 0));
    xmlFree(x);
    xmlFree(y);
    return same;
}

static xmlNode *next_element(xmlNode *n)
{
    while (n && n->type != XML_ELEMENT_NODE)
        n = n->next;
    return n;
}

/* Element names and types equal; Text String, Byte String and Enumeration
 * values equal as text (masks and date-times are compared by value, in the
 * trees, since their text has more than one spelling). */
static bool same_shape(xmlNode *a, xmlNode *b, const char **why)
{
    a = next_element(a);
    b = next_element(b);
    for (; a && b; a = next_element(a->next), b = next_element(b->next)) {
        if (strcmp((const char *)a->name, (const char *)b->name) != 0) {
            *why = "element names differ";
            return false;
        }
        if (!same_prop(a, b, "type", false)) {
            *why = "types differ";
            return false;
        }
        char *t = (char *)xmlGetProp(a, BAD_CAST "type");
        bool textual = t && (strcmp(t, "TextString") == 0 || strcmp(t, "Enumeration") == 0 ||
                             strcmp(t, "ByteString") == 0 || strcmp(t, "BigInteger") == 0);
        bool ci = t && t[0] == 'B'; /* hex */
        xmlFree(t);
        if (textual && !same_prop(a, b, "value", ci)) {
            *why = "values differ";
            return false;
        }
        if (!same_shape(a->children, b->children, why))
            return false;
    }
    if (a || b) {
        *why = "element counts differ";
        return false;
    }
    return true;
}

/* Step 4: the typed layer. Returns 1 pass, 0 fail, -1 not covered. */
static int typed_round_trip(const uint8_t *bytes, size_t len, const char **why)
{
    kmip_message *m = NULL;
    kmip_msg_error merr;
    kmip_err err = kmip_message_decode(bytes, len, &m, &merr);
    if (err == KMIP_E_UNSUPPORTED)
        return -1;
    if (err != KMIP_OK) {
        static char detail[sizeof merr.detail];
        memcpy(detail, merr.detail, sizeof detail);
        *why = detail;
        return 0;
    }
    if (!kmip_message_fully_typed(m)) {
        bool ops_typed = true;
        for (size_t i = 0; i < m->item_count; i++)
            ops_typed &= m->items[i].has_operation && kmip_operation_is_typed(m->items[i].operation);
        if (ops_typed && getenv("CONFORMANCE_VERBOSE"))
            printf("note: typed operations but fields outside the typed layer\n");
        kmip_message_free(m);
        return -1;
    }
    uint8_t *out = NULL;
    size_t out_len = 0;
    err = kmip_message_encode(m, &out, &out_len);
    int rc = err == KMIP_OK && out_len == len && memcmp(out, bytes, len) == 0;
    if (!rc)
        *why = err != KMIP_OK ? kmip_strerror(err) : "typed re-encoding differs";
    kmip_secure_free(out, out_len);
    kmip_message_free(m);
    return rc;
}

/* With CONFORMANCE_CORPUS_DIR set, every encoded message is also written
 * there (the TTLV fuzzer's seed corpus). */
static void save_seed(const char *name, const uint8_t *bytes, size_t len)
{
    const char *dir = getenv("CONFORMANCE_CORPUS_DIR");
    if (dir == NULL)
        return;
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s.bin", dir, name) >= (int)sizeof path)
        return;
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(bytes, 1, len, f);
        fclose(f);
    }
}

static bool check_message(const char *text, const char *name, counts *c, const char **why)
{
    bool ok = false;
    kmip_xml_reader *r = kmip_xml_reader_new();
    kmip_decoder *d = kmip_decoder_new();
    kmip_tree *a = NULL, *b = NULL, *cc = NULL;
    uint8_t *bytes = NULL;
    size_t len = 0;
    char *xml = NULL;
    size_t xml_len = 0;
    xmlDoc *in_doc = NULL, *out_doc = NULL;
    if (kmip_xml_read(r, text, strlen(text), &a) != KMIP_OK) {
        *why = kmip_xml_reader_error_detail(r);
        goto out;
    }
    if (kmip_encode_tree(kmip_tree_root(a), &bytes, &len) != KMIP_OK) {
        *why = "encode failed";
        goto out;
    }
    save_seed(name, bytes, len);
    if (kmip_decoder_decode(d, bytes, len, &b) != KMIP_OK) {
        *why = kmip_decoder_error_detail(d);
        goto out;
    }
    if (!kmip_item_equal(kmip_tree_root(a), kmip_tree_root(b))) {
        *why = "decoded tree differs from the XML";
        goto out;
    }
    if (kmip_xml_write(kmip_tree_root(b), KMIP_XML_SHOW_SECRETS, &xml, &xml_len) != KMIP_OK ||
        kmip_xml_read(r, xml, xml_len, &cc) != KMIP_OK ||
        !kmip_item_equal(kmip_tree_root(a), kmip_tree_root(cc))) {
        *why = "XML written from TTLV does not read back to the same tree";
        goto out;
    }
    in_doc = xmlReadMemory(text, (int)strlen(text), NULL, NULL, XML_PARSE_NONET);
    out_doc = xmlReadMemory(xml, (int)xml_len, NULL, NULL, XML_PARSE_NONET);
    if (!in_doc || !out_doc ||
        !same_shape(xmlDocGetRootElement(in_doc), xmlDocGetRootElement(out_doc), why))
        goto out;
    int typed = typed_round_trip(bytes, len, why);
    if (typed >= 0)
        c->typed++;
    if (typed == 0)
        goto out;
    if (typed == 1)
        c->typed_passed++;
    ok = true;
out:
    xmlFreeDoc(in_doc);
    xmlFreeDoc(out_doc);
    kmip_secure_free(xml, xml_len);
    kmip_secure_free(bytes, len);
    kmip_tree_free(a);
    kmip_tree_free(b);
    kmip_tree_free(cc);
    kmip_decoder_free(d);
    kmip_xml_reader_free(r);
    return ok;
}

static int cmp_names(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

static void check_file(const char *path, counts *c)
{
    xmlDoc *doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
    if (doc == NULL) {
        printf("FAIL %s: not well-formed\n", path);
        c->messages++;
        return;
    }
    int index = 0;
    for (xmlNode *n = xmlDocGetRootElement(doc)->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        index++;
        c->messages++;
        const char *why = "placeholder";
        bool ok = fill_placeholders(n->children);
        char *text = node_text(doc, n);
        char name[512];
        const char *base = strrchr(path, '/');
        if (snprintf(name, sizeof name, "%s-%d", base ? base + 1 : path, index) >= (int)sizeof name)
            ok = false;
        if (ok)
            ok = check_message(text, name, c, &why);
        if (ok)
            c->passed++;
        else
            printf("FAIL %s message %d (%s): %s\n", path, index, (const char *)n->name, why);
        free(text);
    }
    xmlFreeDoc(doc);
}

static void check_dir(const char *dir, counts *c)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        printf("FAIL cannot open %s\n", dir);
        c->messages++;
        return;
    }
    char *names[512];
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL && n < 512;) {
        size_t l = strlen(e->d_name);
        if (l > 4 && strcmp(e->d_name + l - 4, ".xml") == 0)
            names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof names[0], cmp_names);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        if (snprintf(path, sizeof path, "%s/%s", dir, names[i]) < (int)sizeof path) {
            check_file(path, c);
        } else {
            printf("FAIL %s/%s: path too long\n", dir, names[i]);
            c->messages++;
        }
        free(names[i]);
    }
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: conformance CORPUS SUBDIR [SUBDIR ...]\n");
        return 2;
    }
    const char *root = corpus_root(argv[1]);
    char what[1024] = "OASIS KMIP test cases";
    for (int i = 2; i < argc && strlen(what) + strlen(argv[i]) + 3 < sizeof what; i++) {
        strcat(what, i == 2 ? " " : ", ");
        strcat(what, argv[i]);
    }
    corpus_require(root, "conformance", what);
    int failed = 0;
    for (int i = 2; i < argc; i++) {
        counts c = {0};
        char dir[4096];
        if (snprintf(dir, sizeof dir, "%s/%s", root, argv[i]) >= (int)sizeof dir) {
            printf("FAIL %s/%s: path too long\n", root, argv[i]);
            failed = 1;
            continue;
        }
        check_dir(dir, &c);
        printf("KMIP %s: %d/%d messages pass XML -> TTLV -> XML; %d/%d pass the typed round trip\n",
               argv[i], c.passed, c.messages, c.typed_passed, c.typed);
        if (c.passed != c.messages || c.messages == 0)
            failed = 1;
    }
    return failed;
}
