/* SPDX-License-Identifier: GPL-2.0-only */
/* Test tooling: the KMIP operations of the test server, from memory.
 * Register, Create (AES), Get, Get Attributes, Get Attribute List, Locate
 * (paged), Activate, Revoke, Destroy, Query, Discover Versions, with ID
 * placeholders as KMIP 1.x defines them. */
#include "engine.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct ctx {
    kts_store *store;
    const kts_options *opt;
    const char *owner;
    kmip_message *resp;
    char placeholder[320];
    kts_fault fault;
    bool fault_used; /* one-item faults: the first matching item only */
} ctx;

/* The engine-level fault for this item, once. */
static bool injected(ctx *c, kts_fault f)
{
    if (c->fault != f || c->fault_used)
        return false;
    c->fault_used = f == KTS_FAULT_DENY_GET || f == KTS_FAULT_GONE_GET;
    return true;
}

static void fail(kmip_batch_item *ri, uint32_t reason, const char *message, kmip_message *resp)
{
    ri->result_status = KMIP_RESULT_STATUS_OPERATION_FAILED;
    ri->has_result_reason = true;
    ri->result_reason = reason;
    ri->has_result_message = true;
    ri->result_message = kmip_message_copy_bytes(resp, message, strlen(message));
    ri->payload = NULL;
}

static void text_of(const kmip_item *it, char *out, size_t cap)
{
    out[0] = '\0';
    if (it && it->type == KMIP_TYPE_TEXT_STRING && it->v.bytes.len < cap) {
        memcpy(out, it->v.bytes.data, it->v.bytes.len);
        out[it->v.bytes.len] = '\0';
    }
}

/* Reads the attributes the server keeps from a request's list. */
static void take_attributes(kts_object *o, const kmip_attr_list *l)
{
    for (const kmip_attribute *a = l->first; a; a = a->next) {
        const kmip_item *v = a->value;
        if (v == NULL)
            continue;
        switch (a->tag) {
        case KMIP_TAG_CRYPTOGRAPHIC_ALGORITHM:
            o->algorithm = v->v.u32;
            break;
        case KMIP_TAG_CRYPTOGRAPHIC_LENGTH:
            o->length_bits = v->v.i32;
            break;
        case KMIP_TAG_CRYPTOGRAPHIC_USAGE_MASK:
            o->usage_mask = v->v.i32;
            break;
        case KMIP_TAG_OBJECT_GROUP:
            text_of(v, o->group, sizeof o->group);
            break;
        case KMIP_TAG_NAME:
            text_of(kmip_item_child(v, KMIP_TAG_NAME_VALUE), o->name, sizeof o->name);
            break;
        case KMIP_TAG_APPLICATION_SPECIFIC_INFORMATION:
            if (o->app_count == KTS_MAX_APP_INFO)
                break;
            text_of(kmip_item_child(v, KMIP_TAG_APPLICATION_NAMESPACE),
                    o->app_namespace[o->app_count], sizeof o->app_namespace[0]);
            text_of(kmip_item_child(v, KMIP_TAG_APPLICATION_DATA), o->app_data[o->app_count],
                    sizeof o->app_data[0]);
            o->app_count++;
            break;
        default:
            break;
        }
    }
}

static kts_object *add(ctx *c, kts_object *o)
{
    snprintf(o->owner, sizeof o->owner, "%s", c->owner);
    o->state = KMIP_STATE_PRE_ACTIVE;
    o->created = (int64_t)time(NULL);
    kts_object *stored = kts_store_add(c->store, o);
    if (stored && injected(c, KTS_FAULT_LONG_UID)) { /* 300 bytes, unique by its prefix */
        char uid[sizeof stored->uid];
        size_t n = strlen(stored->uid);
        memcpy(uid, stored->uid, n);
        memset(uid + n, 'u', 300 - n);
        uid[300] = '\0';
        kts_store_set_uid(c->store, stored, uid);
        memcpy(o->uid, stored->uid, sizeof o->uid);
    }
    if (stored)
        snprintf(c->placeholder, sizeof c->placeholder, "%s", stored->uid);
    return stored;
}

static kmip_uid uid_bytes(kmip_message *resp, const char *uid)
{
    kmip_uid u = {0};
    u.text = kmip_message_copy_bytes(resp, uid, strlen(uid));
    return u;
}

static void do_create(ctx *c, const kmip_create_request *r, kmip_batch_item *ri)
{
    kts_object o = {0};
    o.object_type = r->object_type;
    take_attributes(&o, &r->attributes);
    if (o.object_type != KMIP_OBJECT_TYPE_SYMMETRIC_KEY || o.length_bits <= 0 ||
        o.length_bits % 8 || o.length_bits > 4096) {
        fail(ri, KMIP_RESULT_REASON_INVALID_FIELD, "Create: symmetric keys of a whole number of bytes only", c->resp);
        return;
    }
    o.material_len = (size_t)o.length_bits / 8;
    o.material = malloc(o.material_len);
    if (o.material == NULL || RAND_bytes(o.material, (int)o.material_len) != 1 ||
        add(c, &o) == NULL) {
        free(o.material);
        fail(ri, KMIP_RESULT_REASON_GENERAL_FAILURE, "out of memory", c->resp);
        return;
    }
    kmip_create_response *p = ri->payload;
    p->object_type = o.object_type;
    p->unique_identifier = uid_bytes(c->resp, o.uid);
}

static bool material_of(const kmip_object *obj, kts_object *o)
{
    const kmip_key_block *kb = NULL;
    const uint8_t *data = NULL;
    size_t len = 0;
    if (obj->has_symmetric_key) {
        kb = &obj->symmetric_key.key_block;
    } else if (obj->has_secret_data) {
        kb = &obj->secret_data.key_block;
        o->secret_data_type = obj->secret_data.secret_data_type;
    } else if (obj->has_opaque_object) {
        data = obj->opaque_object.opaque_data_value.data;
        len = obj->opaque_object.opaque_data_value.len;
    } else {
        return false;
    }
    if (kb) {
        if (!kb->has_key_value || kb->key_value.key_material == NULL ||
            kb->key_value.key_material->type != KMIP_TYPE_BYTE_STRING)
            return false;
        data = kb->key_value.key_material->v.bytes.data;
        len = kb->key_value.key_material->v.bytes.len;
        if (kb->has_cryptographic_algorithm)
            o->algorithm = kb->cryptographic_algorithm;
        if (kb->has_cryptographic_length)
            o->length_bits = kb->cryptographic_length;
    }
    o->material = malloc(len ? len : 1);
    if (o->material == NULL)
        return false;
    memcpy(o->material, data, len);
    o->material_len = len;
    return true;
}

static void do_register(ctx *c, const kmip_register_request *r, kmip_batch_item *ri)
{
    kts_object o = {0};
    o.object_type = r->object_type;
    take_attributes(&o, &r->attributes);
    if (!material_of(&r->object, &o)) {
        fail(ri, KMIP_RESULT_REASON_INVALID_FIELD,
             "Register: symmetric keys, secret data and opaque objects with raw bytes only",
             c->resp);
        return;
    }
    if (add(c, &o) == NULL) {
        kmip_secure_free(o.material, o.material_len);
        fail(ri, KMIP_RESULT_REASON_GENERAL_FAILURE, "out of memory", c->resp);
        return;
    }
    kmip_register_response *p = ri->payload;
    p->unique_identifier = uid_bytes(c->resp, o.uid);
}

/* The object a request names, or the ID placeholder's. */
static kts_object *target(ctx *c, bool has_uid, const kmip_uid *uid, kmip_batch_item *ri)
{
    const char *id = c->placeholder;
    size_t len = strlen(c->placeholder);
    if (has_uid && !uid->is_enum) {
        id = (const char *)uid->text.data;
        len = uid->text.len;
    }
    kts_object *o = len ? kts_store_find(c->store, id, len, c->owner) : NULL;
    if (o == NULL)
        fail(ri, KMIP_RESULT_REASON_ITEM_NOT_FOUND, "no such object", c->resp);
    else
        snprintf(c->placeholder, sizeof c->placeholder, "%s", o->uid);
    return o;
}

static void key_block(ctx *c, kmip_key_block *kb, const kts_object *o)
{
    kb->key_format_type = o->object_type == KMIP_OBJECT_TYPE_SYMMETRIC_KEY
                              ? KMIP_KEY_FORMAT_TYPE_RAW
                              : KMIP_KEY_FORMAT_TYPE_OPAQUE;
    kb->has_key_value = true;
    kb->key_value.key_material = kmip_add_bytes(kmip_message_arena(c->resp),
                                                kmip_message_arena_root(c->resp),
                                                KMIP_TAG_KEY_MATERIAL, o->material, o->material_len);
    if (o->object_type == KMIP_OBJECT_TYPE_SYMMETRIC_KEY) {
        kb->has_cryptographic_algorithm = true;
        kb->cryptographic_algorithm = o->algorithm;
        kb->has_cryptographic_length = true;
        kb->cryptographic_length = o->length_bits;
    }
}

static void do_get(ctx *c, const kmip_get_request *r, kmip_batch_item *ri)
{
    if (injected(c, KTS_FAULT_DENY_GET)) {
        fail(ri, KMIP_RESULT_REASON_PERMISSION_DENIED, "not allowed (injected)", c->resp);
        return;
    }
    if (injected(c, KTS_FAULT_GONE_GET)) {
        fail(ri, KMIP_RESULT_REASON_ITEM_NOT_FOUND, "no such object (injected)", c->resp);
        return;
    }
    kts_object *o = target(c, r->has_unique_identifier, &r->unique_identifier, ri);
    if (o == NULL)
        return;
    kmip_get_response *p = ri->payload;
    p->object_type = o->object_type;
    p->unique_identifier = uid_bytes(c->resp, o->uid);
    if (o->object_type == KMIP_OBJECT_TYPE_SYMMETRIC_KEY) {
        p->object.has_symmetric_key = true;
        key_block(c, &p->object.symmetric_key.key_block, o);
    } else if (o->object_type == KMIP_OBJECT_TYPE_SECRET_DATA) {
        p->object.has_secret_data = true;
        p->object.secret_data.secret_data_type = o->secret_data_type;
        key_block(c, &p->object.secret_data.key_block, o);
    } else {
        p->object.has_opaque_object = true;
        p->object.opaque_object.opaque_data_type = 0x80000000u;
        p->object.opaque_object.opaque_data_value =
            kmip_message_copy_bytes(c->resp, o->material, o->material_len);
    }
}

/* The attribute item for tag (its instance-th value for a multi-valued
 * one), built in the response's arena, or NULL when the object does not
 * have it. */
static kmip_item *attribute_value(ctx *c, const kts_object *o, uint32_t tag, size_t instance)
{
    if (instance > 0 && tag != KMIP_TAG_APPLICATION_SPECIFIC_INFORMATION)
        return NULL;
    kmip_tree *t = kmip_message_arena(c->resp);
    kmip_item *h = kmip_message_arena_root(c->resp);
    switch (tag) {
    case KMIP_TAG_UNIQUE_IDENTIFIER:
        return kmip_add_text(t, h, tag, o->uid, strlen(o->uid));
    case KMIP_TAG_OBJECT_TYPE:
        return kmip_add_enum(t, h, tag, o->object_type);
    case KMIP_TAG_STATE:
        return c->fault == KTS_FAULT_NO_STATE ? NULL : kmip_add_enum(t, h, tag, o->state);
    case KMIP_TAG_INITIAL_DATE:
        return kmip_add_datetime(t, h, tag, o->created);
    case KMIP_TAG_CRYPTOGRAPHIC_ALGORITHM:
        return o->algorithm ? kmip_add_enum(t, h, tag, o->algorithm) : NULL;
    case KMIP_TAG_CRYPTOGRAPHIC_LENGTH:
        return o->length_bits ? kmip_add_int(t, h, tag, o->length_bits) : NULL;
    case KMIP_TAG_CRYPTOGRAPHIC_USAGE_MASK:
        return o->usage_mask ? kmip_add_int(t, h, tag, o->usage_mask) : NULL;
    case KMIP_TAG_OBJECT_GROUP:
        return o->group[0] ? kmip_add_text(t, h, tag, o->group, strlen(o->group)) : NULL;
    case KMIP_TAG_NAME: {
        if (o->name[0] == '\0')
            return NULL;
        kmip_item *n = kmip_add_struct(t, h, tag);
        if (n && kmip_add_text(t, n, KMIP_TAG_NAME_VALUE, o->name, strlen(o->name)) &&
            kmip_add_enum(t, n, KMIP_TAG_NAME_TYPE, KMIP_NAME_TYPE_UNINTERPRETED_TEXT_STRING))
            return n;
        return NULL;
    }
    case KMIP_TAG_APPLICATION_SPECIFIC_INFORMATION: {
        if (instance >= o->app_count)
            return NULL;
        kmip_item *s = kmip_add_struct(t, h, tag);
        if (s && kmip_add_text(t, s, KMIP_TAG_APPLICATION_NAMESPACE, o->app_namespace[instance],
                               strlen(o->app_namespace[instance])) &&
            kmip_add_text(t, s, KMIP_TAG_APPLICATION_DATA, o->app_data[instance],
                          strlen(o->app_data[instance])))
            return s;
        return NULL;
    }
    default:
        return NULL;
    }
}

static const uint32_t all_attributes[] = {
    KMIP_TAG_UNIQUE_IDENTIFIER, KMIP_TAG_OBJECT_TYPE, KMIP_TAG_STATE, KMIP_TAG_INITIAL_DATE,
    KMIP_TAG_CRYPTOGRAPHIC_ALGORITHM, KMIP_TAG_CRYPTOGRAPHIC_LENGTH,
    KMIP_TAG_CRYPTOGRAPHIC_USAGE_MASK, KMIP_TAG_OBJECT_GROUP, KMIP_TAG_NAME,
    KMIP_TAG_APPLICATION_SPECIFIC_INFORMATION,
};

static void do_get_attributes(ctx *c, const kmip_get_attributes_request *r, kmip_batch_item *ri)
{
    kts_object *o = target(c, r->has_unique_identifier, &r->unique_identifier, ri);
    if (o == NULL)
        return;
    kmip_get_attributes_response *p = ri->payload;
    p->unique_identifier = uid_bytes(c->resp, o->uid);
    p->attributes.present = true;
    size_t asked = r->attribute_name_count + r->attribute_reference_count;
    size_t n = asked ? asked : sizeof all_attributes / sizeof all_attributes[0];
    for (size_t i = 0; i < n; i++) {
        uint32_t tag = 0;
        if (asked == 0) {
            tag = all_attributes[i];
        } else if (i < r->attribute_name_count) {
            char name[128];
            size_t len = r->attribute_names[i].len;
            if (len >= sizeof name)
                continue;
            memcpy(name, r->attribute_names[i].data, len);
            name[len] = '\0';
            if (!kmip_tag_by_name(name, &tag))
                continue;
        } else {
            const kmip_item *ref = r->attribute_references[i - r->attribute_name_count];
            if (ref->type != KMIP_TYPE_ENUMERATION)
                continue;
            tag = ref->v.u32;
        }
        kmip_item *v;
        for (size_t k = 0; (v = attribute_value(c, o, tag, k)) != NULL; k++) {
            if (kmip_attr_append(c->resp, &p->attributes, tag, v) == NULL) {
                fail(ri, KMIP_RESULT_REASON_GENERAL_FAILURE, "out of memory", c->resp);
                return;
            }
        }
    }
}

static void do_get_attribute_list(ctx *c, const kmip_uid_request *r, kmip_batch_item *ri)
{
    kts_object *o = target(c, r->has_unique_identifier, &r->unique_identifier, ri);
    if (o == NULL)
        return;
    kmip_get_attribute_list_response *p = ri->payload;
    p->has_unique_identifier = true;
    p->unique_identifier = uid_bytes(c->resp, o->uid);
    size_t n = sizeof all_attributes / sizeof all_attributes[0];
    p->attribute_names = kmip_message_alloc(c->resp, n * sizeof *p->attribute_names);
    p->attribute_references = kmip_message_alloc(c->resp, n * sizeof *p->attribute_references);
    if (p->attribute_names == NULL || p->attribute_references == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        if (attribute_value(c, o, all_attributes[i], 0) == NULL)
            continue;
        const char *name = kmip_tag_name(all_attributes[i]);
        p->attribute_names[p->attribute_name_count].data = (const uint8_t *)name;
        p->attribute_names[p->attribute_name_count++].len = strlen(name);
        p->attribute_references[p->attribute_reference_count++] =
            kmip_add_enum(kmip_message_arena(c->resp), kmip_message_arena_root(c->resp),
                          KMIP_TAG_ATTRIBUTE_REFERENCE, all_attributes[i]);
    }
}

static bool matches(const kts_object *o, const kmip_attr_list *filter)
{
    kts_object want = {0};
    take_attributes(&want, filter);
    for (const kmip_attribute *a = filter->first; a; a = a->next) {
        if (a->value == NULL)
            continue;
        if (a->tag == KMIP_TAG_OBJECT_TYPE && o->object_type != a->value->v.u32)
            return false;
        if (a->tag == KMIP_TAG_STATE && o->state != a->value->v.u32)
            return false;
    }
    if (want.name[0] && strcmp(want.name, o->name) != 0)
        return false;
    if (want.group[0] && strcmp(want.group, o->group) != 0)
        return false;
    for (size_t w = 0; w < want.app_count; w++) { /* each asked for must be one of o's */
        bool found = false;
        for (size_t i = 0; i < o->app_count && !found; i++)
            found = strcmp(want.app_namespace[w], o->app_namespace[i]) == 0 &&
                    (want.app_data[w][0] == '\0' || strcmp(want.app_data[w], o->app_data[i]) == 0);
        if (!found)
            return false;
    }
    return true;
}

/* Paging through a Locate (Offset Items) without scanning every object for
 * every page: where the previous page of the same filter ended, and how many
 * it matched in all, valid while the store has not changed. Guarded by the
 * store's lock (kts_process holds it). */
static struct {
    const kts_store *store;
    uint64_t generation;
    char key[2048];
    size_t next_offset, next_index, total;
    size_t last_index; /* the last object of the page (valid when next_offset > 0) */
} cursor;

static void filter_key(const ctx *c, const kmip_attr_list *filter, char *key, size_t cap)
{
    kts_object want = {0};
    take_attributes(&want, filter);
    unsigned long type = 0, state = 0;
    for (const kmip_attribute *a = filter->first; a; a = a->next) {
        if (a->value && a->tag == KMIP_TAG_OBJECT_TYPE)
            type = a->value->v.u32 + 1ul;
        if (a->value && a->tag == KMIP_TAG_STATE)
            state = a->value->v.u32 + 1ul;
    }
    int n = snprintf(key, cap, "%s|%lu|%lu|%s|%s", c->owner, type, state, want.name, want.group);
    for (size_t i = 0; i < want.app_count && n > 0 && (size_t)n < cap; i++)
        n += snprintf(key + n, cap - (size_t)n, "|%s=%s", want.app_namespace[i],
                      want.app_data[i]);
}

static void do_locate(ctx *c, const kmip_locate_request *r, kmip_batch_item *ri, unsigned version)
{
    kmip_locate_response *p = ri->payload;
    size_t total = 0, n = kts_store_count(c->store);
    size_t offset = r->has_offset_items && r->offset_items > 0 ? (size_t)r->offset_items : 0;
    if (injected(c, KTS_FAULT_IGNORE_OFFSET))
        offset = 0;
    size_t max = r->has_maximum_items && r->maximum_items > 0 ? (size_t)r->maximum_items : n;
    if (max > n)
        max = n;
    /* a server capping its pages below Maximum Items (Vault: 16) */
    bool capped = injected(c, KTS_FAULT_LOCATE_PAGE_CAP);
    bool no_total = injected(c, KTS_FAULT_LOCATE_PAGE_CAP_NO_TOTAL);
    size_t cap = capped || no_total ? kts_fault_value() : 0;
    if (cap > 0 && max > cap)
        max = cap;
    bool total_sent = version >= KMIP_VERSION(1, 3) && !no_total;
    p->unique_identifiers = kmip_message_alloc(c->resp, (max ? max : 1) * sizeof(kmip_uid));
    if (p->unique_identifiers == NULL)
        return;
    if (injected(c, KTS_FAULT_LOCATE_NEWEST_FIRST)) { /* PyKMIP's order, a plain scan */
        size_t cap_n = kts_fault_value();
        if (cap_n > 0 && max > cap_n)
            max = cap_n;
        for (size_t i = n; i-- > 0;) {
            kts_object *o = kts_store_at(c->store, i);
            if (strcmp(o->owner, c->owner) != 0 || !matches(o, &r->attributes))
                continue;
            if (total >= offset && p->unique_identifier_count < max)
                p->unique_identifiers[p->unique_identifier_count++] = uid_bytes(c->resp, o->uid);
            total++;
        }
        return; /* no Located Items, as PyKMIP */
    }
    kts_object want = {0};
    take_attributes(&want, &r->attributes);
    if (want.name[0]) { /* by the Name index */
        size_t named = kts_store_by_name(c->store, want.name, NULL, 0);
        kts_object **list = kmip_message_alloc(c->resp, (named ? named : 1) * sizeof *list);
        if (list == NULL)
            return;
        named = kts_store_by_name(c->store, want.name, list, named);
        for (size_t i = 0; i < named; i++) {
            kts_object *o = list[i];
            if (strcmp(o->owner, c->owner) != 0 || !matches(o, &r->attributes))
                continue;
            if (total >= offset && p->unique_identifier_count < max)
                p->unique_identifiers[p->unique_identifier_count++] = uid_bytes(c->resp, o->uid);
            total++;
        }
        p->has_located_items = total_sent;
        p->located_items = (int32_t)total;
        return;
    }
    char key[sizeof cursor.key];
    filter_key(c, &r->attributes, key, sizeof key);
    /* resumed where the last page ended, or at its last object: the
     * client's anchored pages start again at the last identifier it got */
    bool same = cursor.store == c->store &&
                cursor.generation == kts_store_generation(c->store) && offset > 0 &&
                strcmp(cursor.key, key) == 0;
    bool at_next = same && cursor.next_offset == offset;
    bool at_last = same && !at_next && cursor.next_offset == offset + 1 &&
                   cursor.last_index < n;
    bool resume = at_next || at_last;
    size_t i = at_next ? cursor.next_index : at_last ? cursor.last_index : 0, end = n;
    size_t last = n;
    total = resume ? offset : 0;
    for (; i < n; i++) {
        kts_object *o = kts_store_at(c->store, i);
        if (strcmp(o->owner, c->owner) != 0 || !matches(o, &r->attributes))
            continue;
        if (total >= offset && p->unique_identifier_count < max) {
            p->unique_identifiers[p->unique_identifier_count++] = uid_bytes(c->resp, o->uid);
            end = i + 1;
            last = i;
        }
        total++;
        if (resume && p->unique_identifier_count == max)
            break; /* the total is known from the first page */
    }
    if (resume) {
        total = cursor.total;
    } else {
        cursor.store = c->store;
        memcpy(cursor.key, key, sizeof key);
        cursor.total = total;
    }
    cursor.generation = kts_store_generation(c->store);
    cursor.next_offset = offset + p->unique_identifier_count;
    cursor.next_index = p->unique_identifier_count ? end : n;
    cursor.last_index = last;
    p->has_located_items = total_sent;
    p->located_items = (int32_t)total;
}

static void do_state_change(ctx *c, uint32_t op, const kmip_batch_item *rq, kmip_batch_item *ri)
{
    const kmip_uid_request *r = rq->payload; /* Revoke starts the same way */
    kts_object *o = target(c, r->has_unique_identifier, &r->unique_identifier, ri);
    if (o == NULL)
        return;
    kmip_uid_response *p = ri->payload;
    p->unique_identifier = uid_bytes(c->resp, o->uid);
    if (op == KMIP_OPERATION_ACTIVATE) {
        if (o->state != KMIP_STATE_PRE_ACTIVE)
            fail(ri, KMIP_RESULT_REASON_PERMISSION_DENIED, "object is not Pre-Active", c->resp);
        else
            o->state = KMIP_STATE_ACTIVE;
        kts_store_touch(c->store);
    } else if (op == KMIP_OPERATION_REVOKE) {
        const kmip_revoke_request *rr = rq->payload;
        o->state = rr->revocation_reason.code == KMIP_REVOCATION_REASON_CODE_KEY_COMPROMISE
                       ? KMIP_STATE_COMPROMISED
                       : KMIP_STATE_DEACTIVATED;
        kts_store_touch(c->store);
    } else if (o->state == KMIP_STATE_ACTIVE) {
        fail(ri, KMIP_RESULT_REASON_PERMISSION_DENIED, "an Active object cannot be destroyed",
             c->resp);
    } else if (injected(c, KTS_FAULT_REFUSE_DESTROY)) {
        fail(ri, KMIP_RESULT_REASON_PERMISSION_DENIED, "Destroy needs an approval (injected)",
             c->resp);
    } else {
        kts_store_remove(c->store, o);
    }
}

static void do_discover(ctx *c, const kmip_discover_versions_request *r, kmip_batch_item *ri)
{
    static const unsigned ours[] = {KMIP_VERSION(2, 1), KMIP_VERSION(2, 0), KMIP_VERSION(1, 4),
                                    KMIP_VERSION(1, 3), KMIP_VERSION(1, 2), KMIP_VERSION(1, 1),
                                    KMIP_VERSION(1, 0)};
    kmip_discover_versions_response *p = ri->payload;
    p->versions = kmip_message_alloc(c->resp, sizeof ours / sizeof ours[0] * sizeof *p->versions);
    if (p->versions == NULL)
        return;
    for (size_t i = 0; i < sizeof ours / sizeof ours[0]; i++) {
        if (c->opt->max_version && ours[i] > c->opt->max_version)
            continue;
        bool asked = r->version_count == 0;
        for (size_t k = 0; k < r->version_count; k++)
            asked |= KMIP_VERSION(r->versions[k].major, r->versions[k].minor) == ours[i];
        if (asked) {
            p->versions[p->version_count].major = (int32_t)(ours[i] >> 8);
            p->versions[p->version_count++].minor = (int32_t)(ours[i] & 0xFF);
        }
    }
}

static void do_query(ctx *c, kmip_batch_item *ri)
{
    static const uint32_t ops[] = {KMIP_OPERATION_CREATE, KMIP_OPERATION_REGISTER,
                                   KMIP_OPERATION_LOCATE, KMIP_OPERATION_GET,
                                   KMIP_OPERATION_GET_ATTRIBUTES, KMIP_OPERATION_GET_ATTRIBUTE_LIST,
                                   KMIP_OPERATION_ACTIVATE, KMIP_OPERATION_REVOKE,
                                   KMIP_OPERATION_DESTROY, KMIP_OPERATION_QUERY,
                                   KMIP_OPERATION_DISCOVER_VERSIONS};
    static const uint32_t types[] = {KMIP_OBJECT_TYPE_SYMMETRIC_KEY, KMIP_OBJECT_TYPE_SECRET_DATA,
                                     KMIP_OBJECT_TYPE_OPAQUE_OBJECT};
    kmip_query_response *p = ri->payload;
    p->operations = kmip_message_alloc(c->resp, sizeof ops);
    p->object_types = kmip_message_alloc(c->resp, sizeof types);
    if (p->operations == NULL || p->object_types == NULL)
        return;
    memcpy(p->operations, ops, sizeof ops);
    p->operation_count = sizeof ops / sizeof ops[0];
    memcpy(p->object_types, types, sizeof types);
    p->object_type_count = sizeof types / sizeof types[0];
    static const char vendor[] = "keyring_kmip test server";
    p->has_vendor_identification = true;
    p->vendor_identification = kmip_message_copy_bytes(c->resp, vendor, sizeof vendor - 1);
}

static void process_item(ctx *c, const kmip_batch_item *rq, kmip_batch_item *ri, unsigned version)
{
    ri->has_result_status = true;
    ri->result_status = KMIP_RESULT_STATUS_SUCCESS;
    if (rq->payload == NULL ||
        (rq->operation == KMIP_OPERATION_DISCOVER_VERSIONS && c->opt->no_discover_versions)) {
        fail(ri, KMIP_RESULT_REASON_OPERATION_NOT_SUPPORTED, "operation not supported", c->resp);
        return;
    }
    switch (rq->operation) {
    case KMIP_OPERATION_CREATE:
        do_create(c, rq->payload, ri);
        break;
    case KMIP_OPERATION_REGISTER:
        do_register(c, rq->payload, ri);
        break;
    case KMIP_OPERATION_GET:
        do_get(c, rq->payload, ri);
        break;
    case KMIP_OPERATION_GET_ATTRIBUTES:
        do_get_attributes(c, rq->payload, ri);
        break;
    case KMIP_OPERATION_GET_ATTRIBUTE_LIST:
        do_get_attribute_list(c, rq->payload, ri);
        break;
    case KMIP_OPERATION_LOCATE:
        do_locate(c, rq->payload, ri, version);
        if (injected(c, KTS_FAULT_LOCATE_DUPLICATE_ID)) {
            kmip_locate_response *p = ri->payload;
            if (p != NULL && p->unique_identifier_count >= 2)
                p->unique_identifiers[p->unique_identifier_count - 1] = p->unique_identifiers[0];
        }
        break;
    case KMIP_OPERATION_ACTIVATE:
    case KMIP_OPERATION_REVOKE:
    case KMIP_OPERATION_DESTROY:
        do_state_change(c, rq->operation, rq, ri);
        break;
    case KMIP_OPERATION_DISCOVER_VERSIONS:
        do_discover(c, rq->payload, ri);
        break;
    case KMIP_OPERATION_QUERY:
        do_query(c, ri);
        break;
    default:
        fail(ri, KMIP_RESULT_REASON_OPERATION_NOT_SUPPORTED, "operation not supported", c->resp);
    }
}

kmip_message *kts_process(kts_store *store, const kts_options *opt, const char *owner,
                          const kmip_message *req, kts_fault f)
{
    unsigned version = kmip_message_version(req);
    bool too_new = opt->max_version && version > opt->max_version;
    kmip_message *resp = kmip_message_new(true, too_new ? opt->max_version : version);
    if (resp == NULL)
        return NULL;
    resp->response_header.time_stamp = (int64_t)time(NULL);
    ctx c = {store, opt, owner, resp, "", f, false};
    kts_store_lock(store);
    for (size_t i = 0; i < req->item_count; i++) {
        const kmip_batch_item *rq = &req->items[i];
        kmip_batch_item *ri = kmip_message_add_item(resp, rq->operation);
        if (ri == NULL)
            break;
        ri->has_unique_batch_item_id = rq->has_unique_batch_item_id;
        ri->unique_batch_item_id = kmip_message_copy_bytes(resp, rq->unique_batch_item_id.data,
                                                           rq->unique_batch_item_id.len);
        if (too_new) {
            ri->has_result_status = true;
            fail(ri, KMIP_RESULT_REASON_INVALID_MESSAGE, "protocol version not supported",
                 resp);
            continue;
        }
        process_item(&c, rq, ri, version);
    }
    kts_store_unlock(store);
    return resp;
}
