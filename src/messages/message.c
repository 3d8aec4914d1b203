/* SPDX-License-Identifier: GPL-2.0-only */
/* Message objects: creation, the arena, builders (KMIP 1.4 section 7.1,
 * 2.1 section 8). The lowest file of the message layer above the tables:
 * the decoder (msg_decode.c) and the encoder (msg_encode.c) use it, it uses
 * neither.
 *
 * A message and the first block of its arena are one allocation: the
 * kmip_message, then an embedded item tree whose first chunk fills the
 * rest. Decoding sizes that block from the message length, so a typical
 * response costs one malloc and one free; kmip_message_free wipes exactly
 * the bytes the arena handed out, then the message itself. */
#include <stdlib.h>
#include <string.h>

#include "../codec/ttlv_internal.h"
#include "kmip/kmip_message.h"
#include "message_internal.h"
#include "msg_schema.h"

/* Private tag of the arena's holder structure; never encoded. */
#define HOLDER_TAG 0x54FFFFu

/* The first arena block of a message that is built, not decoded: enough
 * for the requests the client sends (a Register with its attributes). */
#define BUILD_BLOCK 2048u

static size_t message_head(void)
{
    return (sizeof(kmip_message) + 7u) & ~(size_t)7u;
}

kmip_message *msg_create(bool is_response, size_t first_block)
{
    size_t fixed = message_head() + kmip_tree_embed_overhead();
    if (first_block > SIZE_MAX - fixed - 7u)
        return NULL;
    size_t size = fixed + ((first_block + 7u) & ~(size_t)7u);
    kmip_message *m = malloc(size);
    if (m == NULL)
        return NULL;
    memset(m, 0, sizeof *m);
    m->is_response = is_response;
    m->arena = kmip_tree_embed((uint8_t *)m + message_head(), size - message_head());
    return m;
}

kmip_message *kmip_message_new(bool is_response, unsigned version)
{
    kmip_message *m = msg_create(is_response, BUILD_BLOCK);
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
    kmip_tree_embed_release(m->arena);
    kmip_secure_zero(m, sizeof *m);
    free(m);
}

void kmip_message_reset(kmip_message *m)
{
    if (m == NULL)
        return;
    kmip_tree *arena = m->arena;
    kmip_tree_embed_reset(arena);
    kmip_secure_zero(m, sizeof *m);
    m->arena = arena;
}

size_t msg_block_capacity(const kmip_message *m)
{
    return kmip_tree_embed_capacity(m->arena);
}

size_t msg_bytes_used(const kmip_message *m)
{
    return kmip_tree_bytes_used(m->arena);
}

void *kmip_message_alloc(kmip_message *m, size_t size)
{
    return kmip_tree_alloc_fast(m->arena, size);
}

kmip_tree *kmip_message_arena(kmip_message *m)
{
    return m->arena;
}

kmip_item *kmip_message_arena_root(kmip_message *m)
{
    /* made on first use: a decoded message never needs it */
    kmip_item *root = kmip_tree_root(m->arena);
    return root ? root : kmip_add_struct(m->arena, NULL, HOLDER_TAG);
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
