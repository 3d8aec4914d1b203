/* SPDX-License-Identifier: GPL-2.0-only */
/* Message objects: creation, arena, builders, and the message-level parts
 * of decoding and encoding (the structures inside are table-driven, see
 * msg_codec.c). KMIP 1.4 section 7.1, 2.1 section 8. */
#include <stdlib.h>
#include <string.h>

#include "kmip/kmip_message.h"
#include "msg_codec.h"

/* Private tag of the arena's holder structure; never encoded. */
#define HOLDER_TAG 0x54FFFFu

static kmip_message *message_alloc(bool is_response)
{
    kmip_message *m = calloc(1, sizeof *m);
    if (m == NULL)
        return NULL;
    m->is_response = is_response;
    m->arena = kmip_tree_new();
    if (m->arena == NULL || kmip_add_struct(m->arena, NULL, HOLDER_TAG) == NULL) {
        kmip_tree_free(m->arena);
        free(m);
        return NULL;
    }
    return m;
}

kmip_message *kmip_message_new(bool is_response, unsigned version)
{
    kmip_message *m = message_alloc(is_response);
    if (m == NULL)
        return NULL;
    kmip_protocol_version *v = is_response ? &m->response_header.protocol_version
                                           : &m->request_header.protocol_version;
    v->major = (int32_t)(version >> 8);
    v->minor = (int32_t)(version & 0xFFu);
    return m;
}

void kmip_message_free(kmip_message *m)
{
    if (m == NULL)
        return;
    kmip_tree_free(m->arena);
    kmip_tree_free(m->decoded);
    kmip_secure_zero(m, sizeof *m);
    free(m);
}

void *kmip_message_alloc(kmip_message *m, size_t size)
{
    return kmip_tree_alloc(m->arena, size);
}

kmip_tree *kmip_message_arena(kmip_message *m)
{
    return m->arena;
}

kmip_item *kmip_message_arena_root(kmip_message *m)
{
    return kmip_tree_root(m->arena);
}

kmip_bytes kmip_message_copy_bytes(kmip_message *m, const void *data, size_t len)
{
    kmip_bytes b = {NULL, 0};
    uint8_t *p = kmip_message_alloc(m, len);
    if (p == NULL)
        return b;
    if (len)
        memcpy(p, data, len);
    b.data = p;
    b.len = len;
    return b;
}

unsigned kmip_message_version(const kmip_message *m)
{
    const kmip_protocol_version *v = m->is_response ? &m->response_header.protocol_version
                                                    : &m->request_header.protocol_version;
    /* clamped: a version beyond 255.255 is treated as the newest */
    int32_t major = v->major < 0 ? 0 : v->major > 255 ? 255 : v->major;
    int32_t minor = v->minor < 0 ? 0 : v->minor > 255 ? 255 : v->minor;
    return KMIP_VERSION(major, minor);
}

bool kmip_message_fully_typed(const kmip_message *m)
{
    return m != NULL && !m->untyped;
}

kmip_batch_item *kmip_message_add_item(kmip_message *m, uint32_t operation)
{
    /* Items live in an array in the arena, grown by doubling: a new array
     * is allocated and the items copied (the old one is wiped now and freed
     * with the arena). Pointers handed out before therefore move; the
     * header documents the array as the message's, so callers index it
     * rather than keeping pointers. */
    if (m->item_count == m->item_cap) {
        size_t cap = m->item_cap ? 2 * m->item_cap : 4;
        kmip_batch_item *items = kmip_message_alloc(m, cap * sizeof *items);
        if (items == NULL)
            return NULL;
        if (m->item_count) {
            memcpy(items, m->items, m->item_count * sizeof *items);
            kmip_secure_zero(m->items, m->item_count * sizeof *items);
        }
        m->items = items;
        m->item_cap = cap;
    }
    kmip_batch_item *bi = &m->items[m->item_count];
    memset(bi, 0, sizeof *bi);
    bi->has_operation = true;
    bi->operation = operation;
    const struct_desc *pd = kmip_payload_desc(operation, m->is_response);
    if (pd != NULL) {
        bi->payload = kmip_message_alloc(m, pd->size);
        if (bi->payload == NULL)
            return NULL;
    }
    m->item_count++;
    return bi;
}

kmip_attribute *kmip_attr_append(kmip_message *m, kmip_attr_list *list, uint32_t tag,
                                 const kmip_item *value)
{
    kmip_attribute *a = kmip_message_alloc(m, sizeof *a);
    if (a == NULL)
        return NULL;
    a->tag = tag;
    a->value = value;
    if (list->last)
        list->last->next = a;
    else
        list->first = a;
    list->last = a;
    list->count++;
    list->present = true;
    return a;
}

bool kmip_object_key_material(const kmip_object *o, const uint8_t **p, size_t *len)
{
    if (o->has_opaque_object) {
        *p = o->opaque_object.opaque_data_value.data;
        *len = o->opaque_object.opaque_data_value.len;
        return true;
    }
    const kmip_key_block *kb = o->has_symmetric_key ? &o->symmetric_key.key_block
                               : o->has_secret_data ? &o->secret_data.key_block
                                                    : NULL;
    if (kb == NULL || !kb->has_key_value || kb->key_value.key_material == NULL ||
        kb->key_value.key_material->type != KMIP_TYPE_BYTE_STRING)
        return false;
    *p = kb->key_value.key_material->v.bytes.data;
    *len = kb->key_value.key_material->v.bytes.len;
    return true;
}

/* ---- decoding ---- */

static kmip_err decode_items(msg_dctx *c, const kmip_item *root)
{
    kmip_message *m = c->m;
    const struct_desc *item_desc = m->is_response ? &kmip_desc_response_item
                                                  : &kmip_desc_request_item;
    size_t n = 0;
    for (const kmip_item *ch = root->first_child; ch; ch = ch->next)
        n += ch->tag == KMIP_TAG_BATCH_ITEM && ch->type == KMIP_TYPE_STRUCTURE;
    if (n) {
        m->items = kmip_message_alloc(m, n * sizeof *m->items);
        m->item_cap = n;
        if (m->items == NULL)
            return msg_fail(c, KMIP_E_NOMEM, "out of memory");
    }
    for (const kmip_item *ch = root->first_child; ch; ch = ch->next) {
        if (ch->tag != KMIP_TAG_BATCH_ITEM || ch->type != KMIP_TYPE_STRUCTURE)
            continue;
        kmip_err err = msg_decode_struct(c, item_desc, &m->items[m->item_count], ch);
        if (err != KMIP_OK)
            return err;
        m->item_count++;
    }
    return KMIP_OK;
}

static kmip_err decode_message(msg_dctx *c, const kmip_item *root)
{
    kmip_message *m = c->m;
    uint32_t header_tag = m->is_response ? KMIP_TAG_RESPONSE_HEADER : KMIP_TAG_REQUEST_HEADER;
    const kmip_item *header = root->first_child;
    if (header == NULL || header->tag != header_tag || header->type != KMIP_TYPE_STRUCTURE)
        return msg_fail(c, KMIP_E_MISSING, "%s must start with its %s",
                        m->is_response ? "ResponseMessage" : "RequestMessage",
                        m->is_response ? "ResponseHeader" : "RequestHeader");
    kmip_err err = m->is_response
                       ? msg_decode_struct(c, &kmip_desc_response_header, &m->response_header, header)
                       : msg_decode_struct(c, &kmip_desc_request_header, &m->request_header, header);
    if (err != KMIP_OK)
        return err;
    /* Now that the version is known, decode again to see which fields it
     * defines (the header's own fields are version-dependent too). */
    c->version = kmip_message_version(m);
    c->version_known = true;
    if (m->is_response) {
        memset(&m->response_header, 0, sizeof m->response_header);
        err = msg_decode_struct(c, &kmip_desc_response_header, &m->response_header, header);
    } else {
        memset(&m->request_header, 0, sizeof m->request_header);
        err = msg_decode_struct(c, &kmip_desc_request_header, &m->request_header, header);
    }
    if (err != KMIP_OK)
        return err;
    /* Tags we do not know (extensions, later versions) are skipped, as
     * everywhere; a known tag out of place is an error. */
    size_t others = 0;
    for (const kmip_item *ch = header->next; ch; ch = ch->next) {
        bool unknown = kmip_tag_name(ch->tag) == NULL;
        m->untyped |= unknown; /* re-encoding drops it */
        others += !unknown && (ch->tag != KMIP_TAG_BATCH_ITEM || ch->type != KMIP_TYPE_STRUCTURE);
    }
    if (others)
        return msg_fail(c, KMIP_E_UNEXPECTED_TAG, "a message holds a header and batch items only");
    err = decode_items(c, root);
    if (err != KMIP_OK)
        return err;
    int32_t count = m->is_response ? m->response_header.batch_count
                                   : m->request_header.batch_count;
    if (count < 0 || (size_t)count != m->item_count)
        return msg_fail(c, KMIP_E_RANGE, "Batch Count is %d but the message holds %zu batch items",
                        (int)count, m->item_count);
    return KMIP_OK;
}

kmip_err kmip_message_from_tree(kmip_tree *tree, kmip_message **out, kmip_msg_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
    if (tree == NULL || out == NULL) {
        kmip_tree_free(tree);
        return KMIP_E_ARG;
    }
    *out = NULL;
    const kmip_item *root = kmip_tree_root(tree);
    msg_dctx c = {NULL, err, false, 0};
    if (root == NULL || root->type != KMIP_TYPE_STRUCTURE ||
        (root->tag != KMIP_TAG_REQUEST_MESSAGE && root->tag != KMIP_TAG_RESPONSE_MESSAGE)) {
        kmip_tree_free(tree);
        return msg_fail(&c, KMIP_E_UNEXPECTED_TAG,
                        "not a KMIP message: the top-level item must be a RequestMessage or "
                        "ResponseMessage structure");
    }
    c.m = message_alloc(root->tag == KMIP_TAG_RESPONSE_MESSAGE);
    if (c.m == NULL) {
        kmip_tree_free(tree);
        return msg_fail(&c, KMIP_E_NOMEM, "out of memory");
    }
    c.m->decoded = tree;
    kmip_err e = decode_message(&c, root);
    if (e != KMIP_OK) {
        kmip_message_free(c.m);
        return e;
    }
    *out = c.m;
    return KMIP_OK;
}

kmip_err kmip_message_decode(const uint8_t *data, size_t len, kmip_message **out,
                             kmip_msg_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
    if (out == NULL)
        return KMIP_E_ARG;
    *out = NULL;
    kmip_decoder *d = kmip_decoder_new();
    if (d == NULL)
        return KMIP_E_NOMEM;
    kmip_tree *tree = NULL;
    kmip_err e = kmip_decoder_decode(d, data, len, &tree);
    if (e != KMIP_OK && err != NULL) {
        err->offset = kmip_decoder_error_offset(d);
        strncpy(err->detail, kmip_decoder_error_detail(d), sizeof err->detail - 1);
    }
    kmip_decoder_free(d);
    if (e != KMIP_OK)
        return e;
    return kmip_message_from_tree(tree, out, err);
}

/* ---- encoding ---- */

kmip_err kmip_message_encode(const kmip_message *m, uint8_t **out, size_t *out_len)
{
    if (m == NULL || out == NULL || out_len == NULL || m->item_count > INT32_MAX)
        return KMIP_E_ARG;
    kmip_encoder *e = kmip_encoder_new();
    if (e == NULL)
        return KMIP_E_NOMEM;
    msg_ectx c = {e, kmip_message_version(m), m->is_response, KMIP_OK};
    kmip_enc_begin(e, m->is_response ? KMIP_TAG_RESPONSE_MESSAGE : KMIP_TAG_REQUEST_MESSAGE);
    if (m->is_response) {
        kmip_response_header h = m->response_header;
        h.batch_count = (int32_t)m->item_count;
        msg_encode_struct(&c, &kmip_desc_response_header, &h, KMIP_TAG_RESPONSE_HEADER);
    } else {
        kmip_request_header h = m->request_header;
        h.batch_count = (int32_t)m->item_count;
        msg_encode_struct(&c, &kmip_desc_request_header, &h, KMIP_TAG_REQUEST_HEADER);
    }
    const struct_desc *item_desc = m->is_response ? &kmip_desc_response_item
                                                  : &kmip_desc_request_item;
    for (size_t i = 0; i < m->item_count; i++)
        msg_encode_struct(&c, item_desc, &m->items[i], KMIP_TAG_BATCH_ITEM);
    kmip_enc_end(e);
    kmip_err err = c.err;
    if (err == KMIP_OK)
        err = kmip_encoder_take(e, out, out_len);
    kmip_encoder_free(e);
    return err;
}
