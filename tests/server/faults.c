/* SPDX-License-Identifier: GPL-2.0-only */
/* Test tooling: fault arming (control port) and response mutation. */
#include "faults.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kmip/kmip_registry.h"

const char *const kts_fault_names[KTS_FAULT__COUNT] = {
    "none",          "truncate",        "long_length",      "huge_length",
    "wrong_tag",     "wrong_type",      "batch_count",      "no_result_status",
    "wrong_operation", "wrong_batch_id", "unknown_tags",    "unknown_enum",
    "deep_nesting",  "slow",            "silent",           "lose",
    "crash",         "crash_before",    "close_after_handshake", "tls_alert",
    "fin_rst",       "no_batch_id",     "extra_batch_id",   "wrong_uid",
    "deny_get",      "gone_get",        "ignore_offset",    "refuse_destroy",
    "long_uid",      "duplicate",       "duplicate_packed", "notify_after",
    "key_update",    "locate_page_cap", "locate_page_cap_no_total", "wrong_later_uid",
    "locate_newest_first", "locate_duplicate_id", "no_state",
};

bool kts_fault_is_connection_level(kts_fault f)
{
    return f == KTS_FAULT_CLOSE_AFTER_HANDSHAKE || f == KTS_FAULT_TLS_ALERT ||
           f == KTS_FAULT_FIN_RST;
}

/* ---- arming ---- */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static kts_fault armed;
static uint32_t armed_op; /* 0: any operation */
static unsigned armed_times; /* 0: until cleared */
static unsigned armed_value; /* NAME=N */
static unsigned long requests, connections;

static kts_fault take_locked(void)
{
    kts_fault f = armed;
    if (armed_times > 0 && --armed_times == 0)
        armed = KTS_FAULT_NONE;
    return f;
}

kts_fault kts_faults_take_request(const kmip_message *req)
{
    pthread_mutex_lock(&lock);
    kts_fault f = KTS_FAULT_NONE;
    bool match = armed_op == 0;
    for (size_t i = 0; !match && i < req->item_count; i++)
        match = req->items[i].operation == armed_op;
    if (armed != KTS_FAULT_NONE && !kts_fault_is_connection_level(armed) && match)
        f = take_locked();
    pthread_mutex_unlock(&lock);
    return f;
}

kts_fault kts_faults_take_connection(void)
{
    pthread_mutex_lock(&lock);
    kts_fault f = kts_fault_is_connection_level(armed) ? take_locked() : KTS_FAULT_NONE;
    pthread_mutex_unlock(&lock);
    return f;
}

unsigned kts_fault_value(void)
{
    pthread_mutex_lock(&lock);
    unsigned v = armed_value;
    pthread_mutex_unlock(&lock);
    return v;
}

void kts_stats_request(void)
{
    pthread_mutex_lock(&lock);
    requests++;
    pthread_mutex_unlock(&lock);
}

void kts_stats_connection(void)
{
    pthread_mutex_lock(&lock);
    connections++;
    pthread_mutex_unlock(&lock);
}

/* ---- control port ---- */

typedef struct control {
    int fd;
    size_t (*objects)(void *);
    void *ctx;
} control;

static bool operation_by_name(const char *name, uint32_t *op)
{
    const kmip_enum_def *e = kmip_enum_for_tag(KMIP_TAG_OPERATION);
    for (size_t i = 0; e && i < e->count; i++) {
        if (strcmp(e->values[i].xml_name, name) == 0 || strcmp(e->values[i].name, name) == 0) {
            *op = e->values[i].value;
            return true;
        }
    }
    return false;
}

static const char *arm(char *args)
{
    kts_fault f = KTS_FAULT__COUNT;
    uint32_t op = 0;
    unsigned times = 1, value = 0;
    for (char *tok = strtok(args, " \t"); tok; tok = strtok(NULL, " \t")) {
        if (strncmp(tok, "op=", 3) == 0) {
            if (!operation_by_name(tok + 3, &op))
                return "error unknown operation";
        } else if (strncmp(tok, "times=", 6) == 0) {
            times = (unsigned)strtoul(tok + 6, NULL, 10);
        } else {
            char *eq = strchr(tok, '=');
            if (eq) {
                *eq = '\0';
                value = (unsigned)strtoul(eq + 1, NULL, 10);
            }
            for (int i = 1; i < KTS_FAULT__COUNT; i++)
                if (strcmp(tok, kts_fault_names[i]) == 0)
                    f = (kts_fault)i;
            if (f == KTS_FAULT__COUNT)
                return "error unknown fault";
        }
    }
    if (f == KTS_FAULT__COUNT)
        return "error which fault?";
    pthread_mutex_lock(&lock);
    armed = f;
    armed_op = op;
    armed_times = times;
    armed_value = value;
    pthread_mutex_unlock(&lock);
    return "ok";
}

static void answer(control *c, int fd, char *line)
{
    char out[160];
    line[strcspn(line, "\r\n")] = '\0';
    if (strncmp(line, "fault ", 6) == 0) {
        snprintf(out, sizeof out, "%s\n", arm(line + 6));
    } else if (strcmp(line, "clear") == 0) {
        pthread_mutex_lock(&lock);
        armed = KTS_FAULT_NONE;
        pthread_mutex_unlock(&lock);
        snprintf(out, sizeof out, "ok\n");
    } else if (strcmp(line, "stats") == 0) {
        pthread_mutex_lock(&lock);
        unsigned long r = requests, n = connections;
        pthread_mutex_unlock(&lock);
        snprintf(out, sizeof out, "requests=%lu connections=%lu objects=%zu\n", r, n,
                 c->objects(c->ctx));
    } else {
        snprintf(out, sizeof out, "error unknown command\n");
    }
    if (write(fd, out, strlen(out)) < 0)
        perror("kmip_test_server: control");
}

static void *control_main(void *arg)
{
    control *c = arg;
    for (;;) {
        int fd = accept(c->fd, NULL, NULL);
        if (fd < 0)
            continue;
        char line[256];
        size_t used = 0;
        ssize_t r;
        while ((r = read(fd, line + used, sizeof line - 1 - used)) > 0) {
            used += (size_t)r;
            line[used] = '\0';
            char *nl;
            while ((nl = strchr(line, '\n')) != NULL) {
                *nl = '\0';
                answer(c, fd, line);
                used -= (size_t)(nl + 1 - line);
                memmove(line, nl + 1, used + 1);
            }
            if (used == sizeof line - 1)
                used = 0; /* an overlong line is dropped */
        }
        close(fd);
    }
    return NULL;
}

bool kts_control_start(int listen_fd, unsigned port, const char *port_file,
                       size_t (*objects)(void *), void *ctx)
{
    control *c = malloc(sizeof *c);
    if (c == NULL)
        return false;
    *c = (control){listen_fd, objects, ctx};
    FILE *f = fopen(port_file, "w");
    if (f == NULL || fprintf(f, "%u\n", port) < 0 || fclose(f) != 0)
        return false;
    pthread_t t;
    if (pthread_create(&t, NULL, control_main, c) != 0)
        return false;
    pthread_detach(t);
    return true;
}

/* ---- response mutation ---- */

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Written by hand: our encoder refuses such depth, as a decoder should. */
static uint8_t *deep_nesting(size_t *len)
{
    enum { DEPTH = 1000 };
    *len = 8 * (DEPTH + 1);
    uint8_t *out = malloc(*len);
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i <= DEPTH; i++) {
        uint32_t tag = i == 0 ? KMIP_TAG_RESPONSE_MESSAGE : 0x54FF02u;
        put32(out + 8 * i, tag << 8 | KMIP_TYPE_STRUCTURE);
        put32(out + 8 * i + 4, (uint32_t)(8 * (DEPTH - i)));
    }
    return out;
}

static void unlink_child(kmip_item *parent, kmip_item *victim)
{
    kmip_item **pp = &parent->first_child, *prev = NULL;
    for (; *pp; prev = *pp, pp = &(*pp)->next) {
        if (*pp == victim) {
            *pp = victim->next;
            if (parent->last_child == victim)
                parent->last_child = prev;
            parent->child_count--;
            return;
        }
    }
}

static bool add_unknown(kmip_tree *t, kmip_item *s)
{
    for (kmip_item *c = s->first_child; c; c = c->next)
        if (c->type == KMIP_TYPE_STRUCTURE && !add_unknown(t, c))
            return false;
    return kmip_add_text(t, s, 0x54FF01u, "unknown to you", 14) != NULL;
}

static void set_algorithms(kmip_item *s)
{
    for (kmip_item *c = s->first_child; c; c = c->next) {
        if (c->type == KMIP_TYPE_STRUCTURE)
            set_algorithms(c);
        else if (c->tag == KMIP_TAG_CRYPTOGRAPHIC_ALGORITHM && c->type == KMIP_TYPE_ENUMERATION)
            c->v.u32 = 0x8000FF01u;
    }
}

/* A Unique Batch Item ID right after the Operation (where KMIP puts it). */
static bool add_batch_id(kmip_tree *t, kmip_item *bi, kmip_item *op)
{
    static const uint8_t never_sent[4] = {0xDE, 0xAD, 0xBE, 0xEF};
    kmip_item *id = kmip_add_bytes(t, bi, KMIP_TAG_UNIQUE_BATCH_ITEM_ID, never_sent, 4);
    if (id == NULL)
        return false;
    if (op == NULL || op == id)
        return true;
    unlink_child(bi, id);
    id->next = op->next;
    op->next = id;
    if (bi->last_child == op)
        bi->last_child = id;
    bi->child_count++;
    return true;
}

/* Changes made on the decoded item tree, then encoded again. */
static bool mutate_tree(kts_fault f, kmip_tree *t)
{
    kmip_item *root = kmip_tree_root(t);
    kmip_item *header = kmip_item_child(root, KMIP_TAG_RESPONSE_HEADER);
    if (f == KTS_FAULT_BATCH_COUNT) {
        kmip_item *bc = header ? kmip_item_child(header, KMIP_TAG_BATCH_COUNT) : NULL;
        if (bc)
            bc->v.i32++;
        return true;
    }
    if (f == KTS_FAULT_UNKNOWN_TAGS)
        return add_unknown(t, root);
    if (f == KTS_FAULT_UNKNOWN_ENUM) {
        set_algorithms(root);
        return true;
    }
    bool later = false;
    for (kmip_item *bi = kmip_item_child(root, KMIP_TAG_BATCH_ITEM); bi;
         bi = kmip_item_next_same(bi), later = true) {
        kmip_item *op = kmip_item_child(bi, KMIP_TAG_OPERATION);
        kmip_item *id = kmip_item_child(bi, KMIP_TAG_UNIQUE_BATCH_ITEM_ID);
        kmip_item *rs = kmip_item_child(bi, KMIP_TAG_RESULT_STATUS);
        if (f == KTS_FAULT_NO_RESULT_STATUS && rs)
            unlink_child(bi, rs);
        if (f == KTS_FAULT_WRONG_OPERATION && op)
            op->v.u32 = op->v.u32 == KMIP_OPERATION_LOCATE ? KMIP_OPERATION_GET
                                                           : KMIP_OPERATION_LOCATE;
        if (f == KTS_FAULT_WRONG_BATCH_ID && id && id->v.bytes.len > 0)
            id->v.bytes.data[0] ^= 0x5A;
        if (f == KTS_FAULT_NO_BATCH_ID && id)
            unlink_child(bi, id);
        if (f == KTS_FAULT_EXTRA_BATCH_ID && id == NULL && !add_batch_id(t, bi, op))
            return false;
        kmip_item *payload = kmip_item_child(bi, KMIP_TAG_RESPONSE_PAYLOAD);
        kmip_item *uid = payload ? kmip_item_child(payload, KMIP_TAG_UNIQUE_IDENTIFIER) : NULL;
        if ((f == KTS_FAULT_WRONG_UID || (f == KTS_FAULT_WRONG_LATER_UID && later)) && uid &&
            uid->type == KMIP_TYPE_TEXT_STRING && uid->v.bytes.len > 0)
            uid->v.bytes.data[0] = uid->v.bytes.data[0] == 'X' ? 'Y' : 'X';
    }
    return true;
}

uint8_t *kts_fault_mutate(kts_fault f, uint8_t *resp, size_t *len)
{
    switch (f) {
    case KTS_FAULT_WRONG_TAG:
        put32(resp, (uint32_t)KMIP_TAG_REQUEST_MESSAGE << 8 | KMIP_TYPE_STRUCTURE);
        return resp;
    case KTS_FAULT_WRONG_TYPE:
        resp[3] = KMIP_TYPE_INTEGER;
        return resp;
    case KTS_FAULT_LONG_LENGTH:
        put32(resp + 4, (uint32_t)(*len - 8 + 64));
        return resp;
    case KTS_FAULT_HUGE_LENGTH:
        put32(resp + 4, 0xFFFFFFF8u);
        return resp;
    case KTS_FAULT_DEEP_NESTING:
        return deep_nesting(len);
    case KTS_FAULT_BATCH_COUNT:
    case KTS_FAULT_NO_RESULT_STATUS:
    case KTS_FAULT_WRONG_OPERATION:
    case KTS_FAULT_WRONG_BATCH_ID:
    case KTS_FAULT_NO_BATCH_ID:
    case KTS_FAULT_EXTRA_BATCH_ID:
    case KTS_FAULT_WRONG_UID:
    case KTS_FAULT_WRONG_LATER_UID:
    case KTS_FAULT_UNKNOWN_TAGS:
    case KTS_FAULT_UNKNOWN_ENUM: {
        kmip_decoder *d = kmip_decoder_new();
        kmip_tree *t = NULL;
        uint8_t *out = NULL;
        if (d && kmip_decoder_decode(d, resp, *len, &t) == KMIP_OK && mutate_tree(f, t) &&
            kmip_encode_tree(kmip_tree_root(t), &out, len) != KMIP_OK)
            out = NULL;
        kmip_tree_free(t);
        kmip_decoder_free(d);
        return out;
    }
    default:
        return resp;
    }
}
