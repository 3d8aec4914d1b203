/* SPDX-License-Identifier: GPL-2.0-only */
/* Locate with paging: Maximum Items and Offset Items (KMIP 1.3+), page after
 * page until a short page; a page repeating the previous one (a server
 * ignoring Offset Items) stops it with an error. Located Items is not trusted: PyKMIP omits it and
 * some servers send 0. */
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"

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

/* One Locate request; *count is the number of identifiers returned. */
static kmip_client_err locate_page(kmip_client *c, const kmip_locate_filter *f, bool paged,
                                   int32_t page, int32_t offset, kmip_uid_fn fn, void *ctx,
                                   size_t *count, bool *stopped, char **first)
{
    *first = NULL;
    kmip_message *req, *resp = NULL;
    kmip_client_err e = kmip_client_request(c, &req);
    if (e != KMIP_CLIENT_OK)
        return e;
    kmip_batch_item *bi = kmip_message_add_item(req, KMIP_OPERATION_LOCATE);
    kmip_locate_request *r = bi ? bi->payload : NULL;
    if (r == NULL || !build_filter(req, r, f)) {
        kmip_message_free(req);
        return kc_fail(c, KMIP_CLIENT_E_NOMEM, "out of memory");
    }
    if (paged) {
        r->has_maximum_items = true;
        r->maximum_items = page;
        r->has_offset_items = offset > 0;
        r->offset_items = offset;
    }
    e = kmip_client_call(c, req, &resp);
    kmip_message_free(req);
    *count = 0;
    if (e == KMIP_CLIENT_OK) {
        const kmip_locate_response *l = resp->items[0].payload;
        *count = l->unique_identifier_count;
        if (l->unique_identifier_count && !l->unique_identifiers[0].is_enum) {
            const kmip_uid *u = &l->unique_identifiers[0];
            *first = malloc(u->text.len + 1);
            if (*first == NULL) {
                kmip_message_free(resp);
                return kc_fail(c, KMIP_CLIENT_E_NOMEM, "out of memory");
            }
            memcpy(*first, u->text.data, u->text.len);
            (*first)[u->text.len] = '\0';
        }
        for (size_t i = 0; i < l->unique_identifier_count && !*stopped; i++) {
            const kmip_uid *u = &l->unique_identifiers[i];
            if (!u->is_enum && !fn(ctx, (const char *)u->text.data, u->text.len))
                *stopped = true;
        }
    }
    kmip_message_free(resp);
    return e;
}

kmip_client_err kmip_client_locate(kmip_client *c, const kmip_locate_filter *filter,
                                   kmip_uid_fn fn, void *ctx)
{
    kc_clear(c);
    if (filter == NULL || fn == NULL)
        return kc_fail(c, KMIP_CLIENT_E_ARG, "a filter and a callback are needed");
    if (c->version == 0) {
        kmip_client_err e = kmip_client_connect(c);
        if (e != KMIP_CLIENT_OK)
            return e;
    }
    /* Offset Items arrived in KMIP 1.3: older versions get one request */
    bool paged = c->version >= KMIP_VERSION(1, 3);
    int32_t page = filter->page_size > 0 ? filter->page_size : DEFAULT_PAGE;
    int32_t offset = 0;
    bool stopped = false;
    char *previous = NULL; /* the first identifier of the previous page */
    for (;;) {
        size_t got = 0;
        char *first = NULL;
        kmip_client_err e = locate_page(c, filter, paged, page, offset, fn, ctx, &got, &stopped,
                                        &first);
        /* a page that starts where the previous one did: the server ignores
         * Offset Items, and would page forever */
        bool repeated = e == KMIP_CLIENT_OK && previous && first && strcmp(previous, first) == 0;
        free(previous);
        previous = first;
        if (e == KMIP_CLIENT_OK && repeated && !stopped)
            e = kc_fail(c, KMIP_CLIENT_E_PROTOCOL, "Locate stopped: the server ignores Offset "
                        "Items (the page at offset %d starts with the same identifier as the "
                        "one before)", (int)offset);
        if (e != KMIP_CLIENT_OK || !paged || stopped || got < (size_t)page) {
            free(previous);
            return e;
        }
        if (got > (size_t)page || offset > INT32_MAX - page) {
            free(previous);
            return kc_fail(c, KMIP_CLIENT_E_PROTOCOL,
                           "the server returned more identifiers than Maximum Items allows");
        }
        offset += page;
    }
}
