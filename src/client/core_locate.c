/* SPDX-License-Identifier: GPL-2.0-only */
/* The core's paged Locate (no I/O): Maximum Items and Offset Items (KMIP
 * 1.3+), the next page at the offset plus what came back, until an empty
 * page or a short one after which Located Items says nothing follows (a
 * server may cap its pages: Vault answers 16 whatever Maximum Items says;
 * PyKMIP omits Located Items, so its last, short page costs one more
 * request, which comes back empty). Every identifier is handed on once; a
 * page of nothing new (a server ignoring Offset Items, cycling or
 * reordering pages) or longer than Maximum Items stops it with an error
 * before any of its identifiers is handed on. */
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

/* ---- the identifiers handed on: an open-addressing set of copies ---- */

typedef struct seen_id {
    size_t len;
    char text[];
} seen_id;

struct kc_seen {
    seen_id **slot;
    size_t cap; /* a power of two, at least twice count */
    size_t count, bytes;
};

static uint64_t hash_of(const uint8_t *p, size_t n)
{
    uint64_t h = 14695981039346656037u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211u;
    return h;
}

static size_t slot_of(const struct kc_seen *s, const uint8_t *p, size_t n)
{
    size_t i = (size_t)hash_of(p, n) & (s->cap - 1);
    while (s->slot[i] &&
           !(s->slot[i]->len == n && (n == 0 || memcmp(s->slot[i]->text, p, n) == 0)))
        i = (i + 1) & (s->cap - 1);
    return i;
}

static bool seen_grow(struct kc_seen *s)
{
    size_t cap = s->cap ? s->cap * 2 : 64;
    seen_id **slot = calloc(cap, sizeof *slot);
    if (slot == NULL)
        return false;
    struct kc_seen bigger = {slot, cap, s->count, s->bytes};
    for (size_t i = 0; i < s->cap; i++)
        if (s->slot[i])
            slot[slot_of(&bigger, (const uint8_t *)s->slot[i]->text, s->slot[i]->len)] =
                s->slot[i];
    free(s->slot);
    *s = bigger;
    return true;
}

typedef enum { SEEN_NEW, SEEN_BEFORE, SEEN_NOMEM } seen_result;

/* Adds the identifier; SEEN_BEFORE when it was there already. */
static seen_result seen_add(struct kc_seen *s, const uint8_t *p, size_t n)
{
    if (s->cap && s->slot[slot_of(s, p, n)])
        return SEEN_BEFORE;
    if ((s->count + 1) * 2 > s->cap && !seen_grow(s))
        return SEEN_NOMEM;
    seen_id *id = malloc(sizeof *id + n + 1);
    if (id == NULL)
        return SEEN_NOMEM;
    id->len = n;
    if (n)
        memcpy(id->text, p, n);
    id->text[n] = '\0';
    s->slot[slot_of(s, p, n)] = id;
    s->count++;
    s->bytes += n;
    return SEEN_NEW;
}

void kc_locate_free(kc_op *op)
{
    struct kc_seen *s = op->seen;
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->cap; i++)
        free(s->slot[i]);
    free(s->slot);
    free(s);
    op->seen = NULL;
}

/* Which identifiers of the page were not handed on before (fresh[i]);
 * their number, or -1 with the operation failed. */
static long take_page(kc_core *k, kc_op *op, const kmip_locate_response *l, bool *fresh)
{
    if (op->seen == NULL && (op->seen = calloc(1, sizeof *op->seen)) == NULL) {
        locate_done(op, kc_status_fail(&k->st, KMIP_CLIENT_E_NOMEM, "out of memory"));
        return -1;
    }
    long n = 0;
    for (size_t i = 0; i < l->unique_identifier_count; i++) {
        const kmip_uid *u = &l->unique_identifiers[i];
        fresh[i] = false;
        if (u->is_enum)
            continue;
        if (op->seen->count >= KC_LOCATE_MAX_IDS ||
            u->text.len > KC_LOCATE_MAX_BYTES - op->seen->bytes) {
            locate_done(op, kc_status_fail(&k->st, KMIP_CLIENT_E_PROTOCOL,
                                           "Locate stopped: the server returned more than %u "
                                           "identifiers (or %u bytes of them)",
                                           KC_LOCATE_MAX_IDS, KC_LOCATE_MAX_BYTES));
            return -1;
        }
        seen_result r = seen_add(op->seen, u->text.data, u->text.len);
        if (r == SEEN_NOMEM) {
            locate_done(op, kc_status_fail(&k->st, KMIP_CLIENT_E_NOMEM, "out of memory"));
            return -1;
        }
        fresh[i] = r == SEEN_NEW;
        n += fresh[i];
    }
    return n;
}

void kc_locate_answer(kc_core *k, kc_op *op, kmip_client_err e, const kmip_message *resp)
{
    if (e != KMIP_CLIENT_OK) {
        locate_done(op, e);
        return;
    }
    op->pages++;
    const kmip_locate_response *l = resp->items[0].payload;
    size_t got = l->unique_identifier_count;
    if (op->paged && got > (size_t)op->page) {
        locate_done(op, kc_status_fail(&k->st, KMIP_CLIENT_E_PROTOCOL, "the server returned more "
                                       "identifiers than Maximum Items allows"));
        return;
    }
    bool *fresh = malloc(got ? got : 1);
    if (fresh == NULL) {
        locate_done(op, kc_status_fail(&k->st, KMIP_CLIENT_E_NOMEM, "out of memory"));
        return;
    }
    long n = take_page(k, op, l, fresh);
    if (n < 0) {
        free(fresh);
        return;
    }
    /* a page of identifiers all handed on before: the server ignores
     * Offset Items, or cycles or reorders its pages, and would page
     * forever. Some repeated next to new ones is the shift of the
     * positions when another writer made objects between two pages. */
    if (got > 0 && n == 0) {
        free(fresh);
        locate_done(op, kc_status_fail(&k->st, KMIP_CLIENT_E_PROTOCOL,
                                       "Locate stopped: the server ignores Offset Items (the "
                                       "page at offset %d holds only identifiers of earlier "
                                       "pages)", (int)op->offset));
        return;
    }
    for (size_t i = 0; i < got && !op->stopped; i++) {
        const kmip_uid *u = &l->unique_identifiers[i];
        if (fresh[i] && !op->fn(op->fn_ctx, (const char *)u->text.data, u->text.len))
            op->stopped = true;
    }
    free(fresh);
    /* a short page ends the Locate only when Located Items says nothing
     * follows; without it (PyKMIP omits it, some servers send 0) only an
     * empty page does: a server may cap its pages below Maximum Items */
    bool told_all = l->has_located_items && l->located_items > 0 &&
                    (int64_t)op->offset + (int64_t)got >= (int64_t)l->located_items;
    if (!op->paged || op->stopped || got == 0 || (got < (size_t)op->page && told_all)) {
        locate_done(op, KMIP_CLIENT_OK);
        return;
    }
    if (op->offset > INT32_MAX - (int32_t)got) {
        locate_done(op, kc_status_fail(&k->st, KMIP_CLIENT_E_PROTOCOL, "Locate stopped: the "
                                       "server's identifiers go past Offset Items 2^31"));
        return;
    }
    op->offset += (int32_t)got;
}
