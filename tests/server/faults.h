/* SPDX-License-Identifier: GPL-2.0-only */
/* Test tooling: the scripted misbehaviours of the KMIP test server.
 *
 * A test arms a fault over the control port (a plain-text TCP socket on
 * 127.0.0.1, one command per line, one answer line):
 *
 *   fault NAME [op=OPERATION] [times=N]   arm NAME for the next N requests
 *                                         (default 1, 0 = until cleared) that
 *                                         contain OPERATION (default: any)
 *   clear                                 disarm everything
 *   stats                                 "requests=R connections=C objects=O"
 *
 * Per request: truncate, long_length, huge_length, wrong_tag, wrong_type,
 * batch_count, no_result_status, wrong_operation, wrong_batch_id,
 * no_batch_id, extra_batch_id, wrong_uid,
 * unknown_tags, unknown_enum, deep_nesting, slow, silent, lose, crash,
 * crash_before, deny_get, gone_get, ignore_offset, refuse_destroy, long_uid, duplicate,
 * duplicate_packed, notify_after, key_update, locate_page_cap=N, locate_page_cap_no_total=N,
 * wrong_later_uid, locate_newest_first=N, locate_duplicate_id, no_state (NAME=N arms NAME with the value N, kts_fault_value). Per connection (the
 * next one accepted):
 * close_after_handshake, tls_alert, fin_rst. See kts_fault_names for each meaning. */
#ifndef KTS_FAULTS_H
#define KTS_FAULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kmip/kmip_message.h"

typedef enum kts_fault {
    KTS_FAULT_NONE,
    KTS_FAULT_TRUNCATE,         /* half the response, then close */
    KTS_FAULT_LONG_LENGTH,      /* declared length 64 bytes beyond the data; connection held */
    KTS_FAULT_HUGE_LENGTH,      /* a 4 GiB length in the header; connection held */
    KTS_FAULT_WRONG_TAG,        /* top-level tag Request Message */
    KTS_FAULT_WRONG_TYPE,       /* top-level type Integer */
    KTS_FAULT_BATCH_COUNT,      /* Batch Count one more than the items */
    KTS_FAULT_NO_RESULT_STATUS, /* Result Status removed from every item */
    KTS_FAULT_WRONG_OPERATION,  /* items answer another operation */
    KTS_FAULT_WRONG_BATCH_ID,   /* items carry another Unique Batch Item ID */
    KTS_FAULT_UNKNOWN_TAGS,     /* extension tags added to every structure (harmless) */
    KTS_FAULT_UNKNOWN_ENUM,     /* Cryptographic Algorithm 0x8000FF01 (harmless) */
    KTS_FAULT_DEEP_NESTING,     /* a response nested 1,000 structures deep */
    KTS_FAULT_SLOW,             /* the response at one byte per second */
    KTS_FAULT_SILENT,           /* never answers; connection held */
    KTS_FAULT_LOSE,             /* executes the request, then closes without answering */
    KTS_FAULT_CRASH,            /* executes the request, saves state, exits (status 3) */
    KTS_FAULT_CRASH_BEFORE,     /* exits (status 3) without executing */
    KTS_FAULT_CLOSE_AFTER_HANDSHAKE,
    KTS_FAULT_TLS_ALERT,        /* refuses the client certificate: a TLS alert */
    KTS_FAULT_FIN_RST,
    KTS_FAULT_NO_BATCH_ID,      /* Unique Batch Item IDs removed from every item */
    KTS_FAULT_EXTRA_BATCH_ID,   /* a Unique Batch Item ID on items whose request had none */
    KTS_FAULT_WRONG_UID,        /* payloads name another Unique Identifier */          /* right after the handshake FIN (no close_notify), then RST */
    /* the server's state and policies (engine.c) */
    KTS_FAULT_DENY_GET,         /* the request's first Get answered Permission Denied */
    KTS_FAULT_GONE_GET,         /* the request's first Get answered Item Not Found */
    KTS_FAULT_IGNORE_OFFSET,    /* Locate ignores Offset Items (honours Maximum Items) */
    KTS_FAULT_REFUSE_DESTROY,   /* Destroy refused (Permission Denied: "needs an approval") */
    KTS_FAULT_LONG_UID,         /* objects made get a 300-byte Unique Identifier */
    KTS_FAULT_DUPLICATE,        /* the response sent twice, as two TLS records (a server
                                   answering twice, a replayed record) */
    KTS_FAULT_DUPLICATE_PACKED, /* the same, both records in one TCP segment (TCP_CORK): the
                                   client's one read takes the answer and the extra record */
    KTS_FAULT_NOTIFY_AFTER,     /* the response and a close_notify in one TCP segment, then
                                   the connection held until the client closes (a server
                                   with a requests-per-connection limit) */
    KTS_FAULT_KEY_UPDATE,       /* the response and a TLS 1.3 KeyUpdate (update requested) in
                                   one TCP segment: no application data, harmless */
    KTS_FAULT_LOCATE_PAGE_CAP,  /* locate_page_cap=N: Locate answers at most N identifiers
                                   whatever Maximum Items says (Vault: 16), Located Items
                                   kept */
    KTS_FAULT_LOCATE_PAGE_CAP_NO_TOTAL, /* locate_page_cap_no_total=N: the same, without
                                           Located Items (as PyKMIP) */
    KTS_FAULT_WRONG_LATER_UID,  /* payloads of the items after the first name another
                                   Unique Identifier (placeholder items answered for
                                   another object) */
    KTS_FAULT_LOCATE_NEWEST_FIRST, /* locate_newest_first=N: Locate lists the newest object
                                      first, as PyKMIP does (a Destroy shifts every later
                                      object down, a Create every object), at most N per
                                      page (0: Maximum Items), without Located Items */
    KTS_FAULT_LOCATE_DUPLICATE_ID, /* a Locate page of two or more identifiers names its first
                                      object again in place of its last (a server listing
                                      an object twice, review s5b S5-8) */
    KTS_FAULT_NO_STATE,         /* Get Attributes answers leave State out (a server that does
                                   not return it for some objects) */
    KTS_FAULT__COUNT
} kts_fault;

extern const char *const kts_fault_names[KTS_FAULT__COUNT];

bool kts_fault_is_connection_level(kts_fault f);

/* The fault for a request (consumes one arming), or KTS_FAULT_NONE. */
kts_fault kts_faults_take_request(const kmip_message *req);
/* The fault for a new connection (consumes one arming), or KTS_FAULT_NONE. */
kts_fault kts_faults_take_connection(void);

/* The value the armed fault was armed with (NAME=N), 0 for none. */
unsigned kts_fault_value(void);

/* Counters shown by "stats". */
void kts_stats_request(void);
void kts_stats_connection(void);

/* Serves control commands on listen_fd (listening on 127.0.0.1:port) and
 * writes the port to port_file; objects() answers the object count. */
bool kts_control_start(int listen_fd, unsigned port, const char *port_file,
                       size_t (*objects)(void *), void *ctx);

/* Applies a response-changing fault to an encoded response; returns the
 * bytes to send (new allocation, or resp itself when unchanged) and their
 * length; NULL when out of memory. */
uint8_t *kts_fault_mutate(kts_fault f, uint8_t *resp, size_t *len);

#endif
