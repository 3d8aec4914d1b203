/* SPDX-License-Identifier: GPL-2.0-only */
/* The core's paged Locate (no I/O): Maximum Items and Offset Items (KMIP
 * 1.3+), page after page until a short page; a page repeating the previous
 * one (a server ignoring Offset Items) or longer than Maximum Items stops
 * it with an error before any of its identifiers is handed on. Located
 * Items is not trusted: PyKMIP omits it and some servers send 0. */
#include <stdlib.h>
#include <string.h>

#include "core.h"

#define DEFAULT_PAGE 256

typedef struct filter_builder {
    kmip_message *m;
    kmip_tree *arena;
    kmip_item *holder;
    kmip_attr_list *list;
    bool failed;
} filter_builder;

static void add(filter_builder *b, uint32_t tag, kmip_item *v)
{
    if (v == NULL || kmip_attr_append(b->m, b->list, tag, v) == NULL)
        b->failed = true;
}

static void add_text_struct(filter_builder *b, uint32_t tag, uint32_t t1, const char *s1,
                            uint32_t t2, const char *s2, bool enum2)
{
    kmip_item *s = kmip_add_struct(b->arena, b->holder, tag);
    if (s == NULL) {
        b->failed = true;
        return;
    }
    b->failed |= kmip_add_text(b->arena, s, t1, s1, strlen(s1)) == NULL;
    if (enum2)
        b->failed |= kmip_add_enum(b->arena, s, t2, KMIP_NAME_TYPE_UNINTERPRETED_TEXT_STRING) == NULL;
    else
        b->failed |= kmip_add_text(b->arena, s, t2, s2, strlen(s2)) == NULL;
    add(b, tag, s);
}

static bool build_filter(kmip_message *m, kmip_locate_request *r, const kmip_locate_filter *f)
{
    filter_builder b = {m, kmip_message_arena(m), kmip_message_arena_root(m), &r->attributes, false};
    r->attributes.present = true;
    if (f->object_type)
        add(&b, KMIP_TAG_OBJECT_TYPE,
            kmip_add_enum(b.arena, b.holder, KMIP_TAG_OBJECT_TYPE, f->object_type));
    if (f->state)
        add(&b, KMIP_TAG_STATE, kmip_add_enum(b.arena, b.holder, KMIP_TAG_STATE, f->state));
    if (f->name)
        add_text_struct(&b, KMIP_TAG_NAME, KMIP_TAG_NAME_VALUE, f->name, KMIP_TAG_NAME_TYPE, NULL,
                        true);
    if (f->object_group)
        add(&b, KMIP_TAG_OBJECT_GROUP,
            kmip_add_text(b.arena, b.holder, KMIP_TAG_OBJECT_GROUP, f->object_group,
                          strlen(f->object_group)));
    if (f->app_namespace)
        add_text_struct(&b, KMIP_TAG_APPLICATION_SPECIFIC_INFORMATION,
                        KMIP_TAG_APPLICATION_NAMESPACE, f->app_namespace,
                        KMIP_TAG_APPLICATION_DATA, f->app_data ? f->app_data : "", false);
    return !b.failed;
}

void kc_op_locate(kc_op *op, const kmip_locate_filter *f, kmip_uid_fn fn, void *ctx)
{
    memset(op, 0, sizeof *op);
    op->kind = KC_OP_LOCATE;
    op->filter = f;
    op->fn = fn;
    op->fn_ctx = ctx;
}

/* The request for the page at op->offset. */
bool kc_locate_next(kc_core *k, kc_op *op, kmip_message **request)
{
    if (op->step == 0) {
        /* Offset Items arrived in KMIP 1.3: older versions get one request */
        op->paged = k->version >= KMIP_VERSION(1, 3);
        op->page = op->filter->page_size > 0 ? op->filter->page_size : DEFAULT_PAGE;
        op->step = 1;
    }
    kmip_message *req = kmip_message_new(false, k->version);
    kmip_batch_item *bi = req ? kmip_message_add_item(req, KMIP_OPERATION_LOCATE) : NULL;
    kmip_locate_request *r = bi ? bi->payload : NULL;
    if (r == NULL || !build_filter(req, r, op->filter)) {
        kmip_message_free(req);
        op->done = true;
        op->result = kc_status_fail(&k->st, KMIP_CLIENT_E_NOMEM, "out of memory");
        return false;
    }
    if (op->paged) {
        r->has_maximum_items = true;
        r->maximum_items = op->page;
        r->has_offset_items = op->offset > 0;
        r->offset_items = op->offset;
    }
    *request = req;
    return true;
}

static void locate_done(kc_op *op, kmip_client_err e)
{
    op->done = true;
    op->result = e;
}

void kc_locate_answer(kc_core *k, kc_op *op, kmip_client_err e, const kmip_message *resp)
{
    if (e != KMIP_CLIENT_OK) {
        locate_done(op, e);
        return;
    }
    const kmip_locate_response *l = resp->items[0].payload;
    size_t got = l->unique_identifier_count;
    if (op->paged && got > (size_t)op->page) {
        locate_done(op, kc_status_fail(&k->st, KMIP_CLIENT_E_PROTOCOL, "the server returned more "
                                       "identifiers than Maximum Items allows"));
        return;
    }
    char *first = NULL;
    if (got && !l->unique_identifiers[0].is_enum) {
        const kmip_uid *u = &l->unique_identifiers[0];
        first = malloc(u->text.len + 1);
        if (first == NULL) {
            locate_done(op, kc_status_fail(&k->st, KMIP_CLIENT_E_NOMEM, "out of memory"));
            return;
        }
        memcpy(first, u->text.data, u->text.len);
        first[u->text.len] = '\0';
    }
    /* a page that starts where the previous one did: the server ignores
     * Offset Items, and would page forever */
    bool repeated = op->previous && first && strcmp(op->previous, first) == 0;
    free(op->previous);
    op->previous = first;
    if (repeated) {
        locate_done(op, kc_status_fail(&k->st, KMIP_CLIENT_E_PROTOCOL,
                                       "Locate stopped: the server ignores Offset Items (the "
                                       "page at offset %d starts with the same identifier as "
                                       "the one before)", (int)op->offset));
        return;
    }
    for (size_t i = 0; i < got && !op->stopped; i++) {
        const kmip_uid *u = &l->unique_identifiers[i];
        if (!u->is_enum && !op->fn(op->fn_ctx, (const char *)u->text.data, u->text.len))
            op->stopped = true;
    }
    if (!op->paged || op->stopped || got < (size_t)op->page) {
        locate_done(op, KMIP_CLIENT_OK);
        return;
    }
    if (op->offset > INT32_MAX - op->page) {
        locate_done(op, kc_status_fail(&k->st, KMIP_CLIENT_E_PROTOCOL, "the server returned more "
                                       "identifiers than Maximum Items allows"));
        return;
    }
    op->offset += op->page;
}
