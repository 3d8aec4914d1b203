/* SPDX-License-Identifier: GPL-2.0-only */
/* Build-time generator of the typed decoder's per-structure fast paths
 * (msg_fast.inc, included by msg_decode.c). It reads the tables of
 * msg_schema.c themselves (compiled into this program), so the tables stay
 * the one source of truth: nothing here describes a KMIP structure.
 *
 * For each described structure it writes one function that expects the
 * children in table order, with a branch of its own per field (tag, type,
 * presence, store, nested structure), each item read through the checked
 * primitive: a field of one type compares the child's header word with the
 * one it expects (tag, type, and the length of a fixed-size type) and
 * leaves the rest of ttlv_next's checks to ttlv_next_typed; a field of
 * several types (an identifier, an item kept as is) reads the child with
 * ttlv_next itself. A child is accepted only as ttlv_next accepts it, and
 * one no field takes goes to the walk. Anything the
 * straight line does not expect (an unknown, repeated, reordered or
 * duplicated child, a missing mandatory field, a field the version does not
 * define, a repeated field, any error) sends the structure back to the table
 * walk (fast_fallback in msg_decode.c), which starts it over: the result,
 * the errors, their offsets and details are the walk's.
 *
 * The offsets written as numbers are checked against the tables once per
 * process (the fv_ functions); a mismatch turns the fast paths off.
 *
 * It writes the encoder's per-structure functions too (msg_fast_enc.inc,
 * included by msg_encode.c): one write per field, in table order, with its
 * presence test; byte for byte what the walk writes.
 * Usage: msg_fastgen DECODERS ENCODERS */
#include <stdio.h>
#include <stdlib.h>

#include "msg_schema.c"

#define MAX_DESCS 256

static const struct_desc *descs[MAX_DESCS];
static size_t ndescs;

static size_t index_of(const struct_desc *d)
{
    for (size_t i = 0; i < ndescs; i++)
        if (descs[i] == d)
            return i;
    return SIZE_MAX;
}

static void visit(const struct_desc *d)
{
    if (d == NULL || index_of(d) != SIZE_MAX)
        return;
    if (ndescs == MAX_DESCS) {
        fprintf(stderr, "msg_fastgen: more than %d structures\n", MAX_DESCS);
        exit(1);
    }
    descs[ndescs++] = d;
    for (size_t i = 0; i < d->nfields; i++)
        visit(d->fields[i].sub);
}

/* The item types a field kind accepts: the decoder's own table. */
static unsigned type_mask(const field_desc *f)
{
    return msg_kind_types[f->kind];
}

/* The value length of a fixed-size item type, 0 for the others (1.4
 * section 9.1.1.3): the same numbers as the reader's ttlv_type_rules. */
static unsigned fixed_len(unsigned type)
{
    switch (type) {
    case KMIP_TYPE_INTEGER:
    case KMIP_TYPE_ENUMERATION:
    case KMIP_TYPE_INTERVAL:
        return 4;
    case KMIP_TYPE_LONG_INTEGER:
    case KMIP_TYPE_BOOLEAN:
    case KMIP_TYPE_DATE_TIME:
    case KMIP_TYPE_DATE_TIME_EXTENDED:
        return 8;
    default:
        return 0;
    }
}

static bool is_response_item(const struct_desc *d)
{
    return d == &kmip_desc_response_item;
}

static void emit_payload(FILE *o, const struct_desc *d, size_t i)
{
    const field_desc *f = &d->fields[i];
    bool resp = is_response_item(d);
    fprintf(o, "        {\n");
    fprintf(o, "            kmip_batch_item *bi = base;\n");
    fprintf(o, "            void **slot = (void **)((char *)base + %zu);\n", f->offset);
    fprintf(o, "            if (*slot != NULL || *(const kmip_item **)((char *)base + %zu) != NULL)\n",
            f->aux);
    fprintf(o, "                goto fallback;\n");
    fprintf(o, "            const struct_desc *pd = bi->has_operation ? "
               "kmip_payload_desc(bi->operation, %s) : NULL;\n",
            resp ? "true" : "false");
    fprintf(o, "            if (pd == NULL)\n                goto fallback;\n");
    fprintf(o, "            void *p = kmip_tree_alloc_fast(c->m->arena, pd->size);\n");
    fprintf(o, "            if (p == NULL)\n                goto fallback;\n");
    fprintf(o, "            *slot = p;\n");
    fprintf(o, "            kmip_err e;\n");
    fprintf(o, "            switch (bi->operation) {\n");
    for (size_t k = 0; k < sizeof payloads / sizeof payloads[0]; k++) {
        const struct_desc *pd = resp ? payloads[k].response : payloads[k].request;
        fprintf(o, "            case %uu:\n", (unsigned)payloads[k].operation);
        fprintf(o, "                e = fd_%zu(c, pd, p, &h, cd, NULL);\n", index_of(pd));
        fprintf(o, "                break;\n");
    }
    fprintf(o, "            default:\n                goto fallback;\n            }\n");
    fprintf(o, "            if (e != KMIP_OK)\n                goto fallback;\n");
    fprintf(o, "        }\n");
}

static void emit_store(FILE *o, const struct_desc *d, size_t i)
{
    const field_desc *f = &d->fields[i];
    unsigned op = d->cache.dop[i];
    if (f->flags & F_REP) {
        fprintf(o, "        goto fallback; /* repeated: the walk sizes its array */\n");
        return;
    }
    if (f->kind == K_PAYLOAD) {
        emit_payload(o, d, i);
        return;
    }
    if (op == D_GENERIC) {
        /* attribute lists and the like: the walk's own store, per field */
        fprintf(o, "        if (!mark_present(&d->fields[%zu], base) ||\n", i);
        fprintf(o, "            store(c, &d->fields[%zu], base, (char *)base + %zu, &h, cd) != KMIP_OK)\n",
                i, f->offset);
        fprintf(o, "            goto fallback;\n");
        return;
    }
    if (op & D_HAS) {
        fprintf(o, "        if (*(bool *)((char *)base + %zu))\n            goto fallback;\n", f->aux);
        fprintf(o, "        *(bool *)((char *)base + %zu) = true;\n", f->aux);
    }
    switch (op & ~(unsigned)D_HAS) {
    case D_U32:
        fprintf(o, "        *(uint32_t *)((char *)base + %zu) = ttlv_u32(&h);\n", f->offset);
        break;
    case D_U64:
        fprintf(o, "        *(uint64_t *)((char *)base + %zu) = ttlv_u64(&h);\n", f->offset);
        break;
    case D_BOOL:
        fprintf(o, "        *(bool *)((char *)base + %zu) = ttlv_u64(&h) == 1;\n", f->offset);
        break;
    case D_BYTES:
        fprintf(o, "        if (copy_value(c, &h, (kmip_bytes *)((char *)base + %zu)) != KMIP_OK)\n",
                f->offset);
        fprintf(o, "            goto fallback;\n");
        break;
    case D_UID:
        fprintf(o, "        {\n");
        fprintf(o, "            kmip_uid *u = (kmip_uid *)((char *)base + %zu);\n", f->offset);
        fprintf(o, "            u->is_enum = h.type == KMIP_TYPE_ENUMERATION;\n");
        fprintf(o, "            if (u->is_enum)\n                u->enum_value = ttlv_u32(&h);\n");
        fprintf(o, "            else if (copy_value(c, &h, &u->text) != KMIP_OK)\n");
        fprintf(o, "                goto fallback;\n");
        fprintf(o, "        }\n");
        break;
    case D_ITEM:
        fprintf(o, "        if (*(const kmip_item **)((char *)base + %zu) != NULL ||\n", f->offset);
        fprintf(o, "            keep_item(c, &h, cd, (const kmip_item **)((char *)base + %zu)) != KMIP_OK)\n",
                f->offset);
        fprintf(o, "            goto fallback;\n");
        break;
    case D_STRUCT:
        fprintf(o, "        if (fd_%zu(c, d->fields[%zu].sub, (char *)base + %zu, &h, cd, NULL) != KMIP_OK)\n",
                index_of(f->sub), i, f->offset);
        fprintf(o, "            goto fallback;\n");
        break;
    default:
        fprintf(stderr, "msg_fastgen: unknown decode op %u\n", op);
        exit(1);
    }
}

static void emit_decoder(FILE *o, size_t k)
{
    const struct_desc *d = descs[k];
    fprintf(o, "/* %s */\n", d->name);
    fprintf(o, "static kmip_err fd_%zu(dctx *c, const struct_desc *d, void *base, const ttlv_hdr *sh,\n"
               "                     unsigned depth, uint32_t *seen_out)\n{\n", k);
    fprintf(o, "    const fast_mark mark = fast_begin(c);\n");
    fprintf(o, "    const uint8_t *pos = sh->val, *end = sh->val + sh->len;\n");
    fprintf(o, "    const unsigned cd = depth + 1;\n");
    fprintf(o, "    uint32_t seen = 0;\n");
    fprintf(o, "    bool have;\n");
    fprintf(o, "    uint64_t hw = 0;\n");
    fprintf(o, "    ttlv_hdr h;\n");
    fprintf(o, "    FAST_NEXT();\n");
    for (size_t i = 0; i < d->nfields; i++) {
        const field_desc *f = &d->fields[i];
        unsigned mask = type_mask(f);
        fprintf(o, "    /* field %zu: %s */\n", i, kmip_tag_name(f->tag) ? kmip_tag_name(f->tag) : "?");
        if (mask != 0 && (mask & (mask - 1u)) == 0) {
            /* one type: the header word compared (with the length for a
             * fixed-size type), the rest checked by ttlv_next_typed */
            unsigned type = (unsigned)__builtin_ctz(mask);
            unsigned fixed = fixed_len(type);
            if (fixed)
                fprintf(o, "    if (have && hw == 0x%06X%02X%08Xull) {\n", f->tag, type, fixed);
            else
                fprintf(o, "    if (have && (hw >> 32) == 0x%06X%02Xu) {\n", f->tag, type);
            fprintf(o, "        if (!ttlv_next_typed(&c->r, pos, end, cd, hw, %uu, &h))\n"
                       "            goto fallback;\n", type);
        } else {
            if (mask == 0xFFFFu)
                fprintf(o, "    if (have && (hw >> 40) == 0x%06Xu) {\n", f->tag);
            else
                fprintf(o, "    if (have && (hw >> 40) == 0x%06Xu && fast_type_in(hw, 0x%04Xu)) {\n",
                        f->tag, mask);
            fprintf(o, "        if (ttlv_next(&c->r, pos, end, cd, &h) != KMIP_OK)\n"
                       "            goto fallback;\n");
        }
        if (f->flags & F_VER) {
            fprintf(o, "        if (c->version_known && !(");
            if (f->min_ver && f->max_ver)
                fprintf(o, "c->version >= %uu && c->version <= %uu", f->min_ver, f->max_ver);
            else if (f->min_ver)
                fprintf(o, "c->version >= %uu", f->min_ver);
            else
                fprintf(o, "c->version <= %uu", f->max_ver);
            fprintf(o, "))\n            goto fallback;\n");
        }
        emit_store(o, d, i);
        fprintf(o, "        seen |= 0x%Xu;\n", 1u << i);
        fprintf(o, "        pos = h.next;\n");
        fprintf(o, "        FAST_NEXT();\n");
        if (d->cache.required >> i & 1u)
            fprintf(o, "    } else {\n        goto fallback; /* mandatory */\n    }\n");
        else
            fprintf(o, "    }\n");
    }
    fprintf(o, "    if (have)\n        goto fallback; /* a child out of the table's order */\n");
    fprintf(o, "    if (seen_out != NULL)\n        *seen_out = seen;\n");
    fprintf(o, "    return KMIP_OK;\n");
    fprintf(o, "fallback:\n");
    fprintf(o, "    return fast_fallback(c, &mark, d, base, sh, depth, seen_out);\n");
    fprintf(o, "}\n\n");
}

/* fv_K: the numbers fd_K was written with are still the table's. */
static void emit_verifier(FILE *o, size_t k)
{
    const struct_desc *d = descs[k];
    fprintf(o, "static bool fv_%zu(const struct_desc *d)\n{\n", k);
    fprintf(o, "    if (d == NULL || d->size != %zuu || d->nfields != %zuu)\n        return false;\n",
            d->size, d->nfields);
    for (size_t i = 0; i < d->nfields; i++) {
        const field_desc *f = &d->fields[i];
        fprintf(o, "    if (!fv_field(&d->fields[%zu], 0x%06Xu, %u, %u, %zuu, ", i, f->tag, f->kind,
                f->flags, f->offset);
        if (f->aux == NO_AUX)
            fprintf(o, "NO_AUX");
        else
            fprintf(o, "%zuu", f->aux);
        fprintf(o, ", %u, %u)", f->min_ver, f->max_ver);
        if (f->sub != NULL)
            fprintf(o, " || !fv_%zu(d->fields[%zu].sub)", index_of(f->sub), i);
        fprintf(o, ")\n        return false;\n");
        if (f->kind == K_PAYLOAD && !(f->flags & F_REP)) {
            bool resp = is_response_item(d);
            for (size_t p = 0; p < sizeof payloads / sizeof payloads[0]; p++) {
                const struct_desc *pd = resp ? payloads[p].response : payloads[p].request;
                fprintf(o, "    if (!fv_%zu(kmip_payload_desc(%uu, %s)))\n        return false;\n",
                        index_of(pd), (unsigned)payloads[p].operation, resp ? "true" : "false");
            }
        }
    }
    fprintf(o, "    return true;\n}\n\n");
}

/* ---- the encoder's fast paths (msg_fast_enc.inc, included by msg_encode.c) ----
 * Per structure, one write per field in table order with its own presence
 * test; fields of the general path (versioned, repeated, Booleans,
 * attribute lists) go through the walk's encode_field, payloads through
 * their own structure's function. */
static void emit_enc_payload(FILE *o, const struct_desc *d, size_t i)
{
    const field_desc *f = &d->fields[i];
    bool resp = is_response_item(d);
    fprintf(o, "    {\n");
    fprintf(o, "        const kmip_batch_item *bi = base;\n");
    fprintf(o, "        const struct_desc *pd = bi->has_operation ? "
               "kmip_payload_desc(bi->operation, %s) : NULL;\n", resp ? "true" : "false");
    fprintf(o, "        if (bi->payload != NULL && pd != NULL) {\n");
    fprintf(o, "            switch (bi->operation) {\n");
    for (size_t k = 0; k < sizeof payloads / sizeof payloads[0]; k++) {
        const struct_desc *pd = resp ? payloads[k].response : payloads[k].request;
        fprintf(o, "            case %uu:\n", (unsigned)payloads[k].operation);
        fprintf(o, "                fe_%zu(c, pd, bi->payload, 0x%06Xu);\n", index_of(pd), f->tag);
        fprintf(o, "                break;\n");
    }
    fprintf(o, "            default:\n                encode_struct(c, pd, bi->payload, 0x%06Xu);\n",
            f->tag);
    fprintf(o, "            }\n");
    fprintf(o, "        } else {\n");
    fprintf(o, "            encode_payload(c, &d->fields[%zu], base);\n", i);
    fprintf(o, "        }\n    }\n");
}

/* A field of the general path: the walk's encode_field, called only when
 * the field is defined by the version and present (the tests encode_field
 * begins with, so that an absent field costs a comparison, not a call). */
static void emit_enc_general(FILE *o, const field_desc *f, size_t i)
{
    char cond[256] = "";
    size_t n = 0;
    if (f->flags & F_VER) {
        if (f->min_ver && f->max_ver)
            n += (size_t)snprintf(cond + n, sizeof cond - n, "c->version >= %uu && c->version <= %uu",
                                  f->min_ver, f->max_ver);
        else if (f->min_ver)
            n += (size_t)snprintf(cond + n, sizeof cond - n, "c->version >= %uu", f->min_ver);
        else
            n += (size_t)snprintf(cond + n, sizeof cond - n, "c->version <= %uu", f->max_ver);
    }
    const char *and = n ? " && " : "";
    if (f->presence == P_FLAG)
        snprintf(cond + n, sizeof cond - n, "%s*(const bool *)(b + %zu)", and, f->aux);
    else if (f->presence == P_ITEM)
        snprintf(cond + n, sizeof cond - n, "%s*(const kmip_item *const *)(b + %zu) != NULL", and,
                 f->offset);
    else if (f->presence == P_REP)
        snprintf(cond + n, sizeof cond - n, "%s*(const size_t *)(b + %zu) != 0", and, f->aux);
    else if (f->kind == K_ATTR1) /* each Attribute of the list, none when it is empty */
        snprintf(cond + n, sizeof cond - n, "%s((const kmip_attr_list *)(b + %zu))->first != NULL",
                 and, f->offset);
    else if (f->kind > K_ATTR1 && f->kind <= K_ATTR_WRAP) /* the container when it is sent */
        snprintf(cond + n, sizeof cond - n, "%s((const kmip_attr_list *)(b + %zu))->present", and,
                 f->offset);
    if (cond[0])
        fprintf(o, "    if (%s)\n        encode_field(c, d, &d->fields[%zu], base);\n", cond, i);
    else
        fprintf(o, "    encode_field(c, d, &d->fields[%zu], base);\n", i);
}

static void emit_encoder(FILE *o, size_t k)
{
    const struct_desc *d = descs[k];
    fprintf(o, "/* %s */\n", d->name);
    fprintf(o, "static void fe_%zu(ectx *c, const struct_desc *d, const void *base, uint32_t tag)\n{\n",
            k);
    fprintf(o, "    size_t at = ttlv_begin(&c->w, tag);\n");
    fprintf(o, "    const char *b = base;\n");
    fprintf(o, "    (void)b;\n");
    fprintf(o, "    (void)d;\n");
    for (size_t i = 0; i < d->nfields; i++) {
        const field_desc *f = &d->fields[i];
        unsigned op = d->cache.eop[i];
        unsigned etype = d->cache.etype[i];
        fprintf(o, "    /* field %zu: %s */\n", i,
                kmip_tag_name(f->tag) ? kmip_tag_name(f->tag) : "?");
        if (f->kind == K_PAYLOAD && !(f->flags & (F_VER | F_REP))) {
            emit_enc_payload(o, d, i);
            continue;
        }
        const char *indent = "    ";
        if (op & E_FLAG) {
            fprintf(o, "    if (*(const bool *)(b + %zu))\n", f->aux);
            indent = "        ";
        }
        switch (op & ~(unsigned)E_FLAG) {
        case E_U32:
            fprintf(o, "%sttlv_w32(&c->w, 0x%06Xu, (kmip_type)%u, *(const uint32_t *)(b + %zu));\n",
                    indent, f->tag, etype, f->offset);
            break;
        case E_U64:
            fprintf(o, "%sttlv_w64(&c->w, 0x%06Xu, (kmip_type)%u, *(const uint64_t *)(b + %zu));\n",
                    indent, f->tag, etype, f->offset);
            break;
        case E_BYTES:
            fprintf(o, "%sttlv_wbytes(&c->w, 0x%06Xu, (kmip_type)%u, ((const kmip_bytes *)(b + %zu))->data,\n"
                       "%s            ((const kmip_bytes *)(b + %zu))->len);\n",
                    indent, f->tag, etype, f->offset, indent, f->offset);
            break;
        case E_UID:
            fprintf(o, "%sencode_uid(c, 0x%06Xu, (const kmip_uid *)(b + %zu));\n", indent, f->tag,
                    f->offset);
            break;
        case E_ITEM:
            fprintf(o, "%s{\n", indent);
            fprintf(o, "%s    const kmip_item *it = *(const kmip_item *const *)(b + %zu);\n", indent,
                    f->offset);
            if (f->flags & F_BYTAG)
                fprintf(o, "%s    if (it != NULL && it->tag == 0x%06Xu)\n", indent, f->tag);
            else
                fprintf(o, "%s    if (it != NULL)\n", indent);
            fprintf(o, "%s        ttlv_witem(&c->w, 0x%06Xu, it);\n%s}\n", indent, f->tag, indent);
            break;
        case E_STRUCT:
            fprintf(o, "%sfe_%zu(c, d->fields[%zu].sub, b + %zu, 0x%06Xu);\n", indent,
                    index_of(f->sub), i, f->offset, f->tag);
            break;
        default:
            emit_enc_general(o, f, i);
            break;
        }
    }
    fprintf(o, "    encode_extras_end(c, base, at);\n");
    fprintf(o, "}\n\n");
}

static void emit_field_check(FILE *o)
{
    fprintf(o, "/* One field of a table is still what its fast path was generated from\n"
               " * (how it is stored, written and whether it is mandatory follow from these). */\n");
    fprintf(o, "static bool fv_field(const field_desc *f, uint32_t tag, unsigned kind, unsigned flags,\n"
               "                     size_t offset, size_t aux, unsigned min_ver, unsigned max_ver)\n{\n"
               "    return f->tag == tag && f->kind == kind && f->flags == flags && f->offset == offset &&\n"
               "           f->aux == aux && f->min_ver == min_ver && f->max_ver == max_ver;\n}\n\n");
}

static const struct_desc *const roots[] = {&kmip_desc_request_header, &kmip_desc_response_header,
                                           &kmip_desc_request_item, &kmip_desc_response_item};

static void emit_verifiers(FILE *o)
{
    for (size_t k = 0; k < ndescs; k++)
        fprintf(o, "static bool fv_%zu(const struct_desc *d);\n", k);
    for (size_t k = 0; k < ndescs; k++)
        emit_verifier(o, k);
    fprintf(o, "static bool fast_tables_match(void)\n{\n");
    fprintf(o, "    return fv_%zu(&kmip_desc_request_header) && fv_%zu(&kmip_desc_response_header) &&\n"
               "           fv_%zu(&kmip_desc_request_item) && fv_%zu(&kmip_desc_response_item);\n}\n\n",
            index_of(roots[0]), index_of(roots[1]), index_of(roots[2]), index_of(roots[3]));
}

static int write_encoders(const char *path)
{
    FILE *o = fopen(path, "w");
    if (o == NULL) {
        perror(path);
        return 1;
    }
    fprintf(o, "/* Generated by src/messages/msg_fastgen.c from the tables of msg_schema.c:\n"
               " * do not edit. Included by msg_encode.c. */\n\n");
    for (size_t k = 0; k < ndescs; k++)
        fprintf(o, "static void fe_%zu(ectx *c, const struct_desc *d, const void *base, uint32_t tag);\n",
                k);
    fprintf(o, "\n");
    for (size_t k = 0; k < ndescs; k++)
        emit_encoder(o, k);
    emit_field_check(o);
    emit_verifiers(o);
    fprintf(o, "#define FAST_REQUEST_HEADER fe_%zu\n", index_of(roots[0]));
    fprintf(o, "#define FAST_RESPONSE_HEADER fe_%zu\n", index_of(roots[1]));
    fprintf(o, "#define FAST_REQUEST_ITEM fe_%zu\n", index_of(roots[2]));
    fprintf(o, "#define FAST_RESPONSE_ITEM fe_%zu\n", index_of(roots[3]));
    if (fclose(o) != 0) {
        perror(path);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: msg_fastgen DECODERS ENCODERS\n");
        return 2;
    }
    msg_schema_init();
    for (size_t i = 0; i < 4; i++)
        visit(roots[i]);
    for (size_t i = 0; i < sizeof payloads / sizeof payloads[0]; i++) {
        visit(payloads[i].request);
        visit(payloads[i].response);
    }
    FILE *o = fopen(argv[1], "w");
    if (o == NULL) {
        perror(argv[1]);
        return 1;
    }
    fprintf(o, "/* Generated by src/messages/msg_fastgen.c from the tables of msg_schema.c:\n"
               " * do not edit. Included by msg_decode.c. */\n\n");
    for (size_t k = 0; k < ndescs; k++)
        fprintf(o, "static kmip_err fd_%zu(dctx *c, const struct_desc *d, void *base, "
                   "const ttlv_hdr *sh,\n                     unsigned depth, uint32_t *seen_out);\n",
                k);
    fprintf(o, "\n");
    for (size_t k = 0; k < ndescs; k++)
        emit_decoder(o, k);
    emit_field_check(o);
    emit_verifiers(o);
    fprintf(o, "/* The fast path of each root: request header, response header, request\n"
               " * item, response item. */\n");
    fprintf(o, "#define FAST_REQUEST_HEADER fd_%zu\n", index_of(roots[0]));
    fprintf(o, "#define FAST_RESPONSE_HEADER fd_%zu\n", index_of(roots[1]));
    fprintf(o, "#define FAST_REQUEST_ITEM fd_%zu\n", index_of(roots[2]));
    fprintf(o, "#define FAST_RESPONSE_ITEM fd_%zu\n\n", index_of(roots[3]));
    if (fclose(o) != 0) {
        perror(argv[1]);
        return 1;
    }
    return write_encoders(argv[2]);
}
