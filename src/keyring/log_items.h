/* SPDX-License-Identifier: GPL-2.0-only */
/* log_builtins->message(type, ...) read back: the item list a keyring
 * component passes (MySQL's log_vmessage convention: item type as int,
 * integer items as long long, string items as char *, LOG_ITEM_LOG_MESSAGE
 * a printf format with its arguments, ending the list). Shared by the
 * component's fallback log_builtins and the chassis's host log_builtins. */
#ifndef KRK_LOG_ITEMS_H
#define KRK_LOG_ITEMS_H

#include <stdarg.h>
#include <stddef.h>

#include "keyring_kmip/krk_mysql_abi.h"

typedef struct krk_log_record {
    int prio;              /* KRK_LOG_*_LEVEL; ERROR when not given */
    const char *component; /* "" when not given */
    char message[2048];
} krk_log_record;

/* Reads the items after the log type. An item type it does not know ends
 * the reading (its argument's class is unknown): the message then says so. */
void krk_log_read_items(va_list ap, krk_log_record *out);
/* The same from within the variadic message(log_type, ...) itself: last
 * is its last named parameter. */
#define KRK_LOG_READ_ARGS(last, out)                                                               \
    do {                                                                                           \
        va_list ap_;                                                                               \
        va_start(ap_, last);                                                                       \
        krk_log_read_items(ap_, out);                                                              \
        va_end(ap_);                                                                               \
    } while (0)
/* "Error", "Warning", "Note", "System". */
const char *krk_log_label(int prio);
/* "2026-12-01T11:40:21.123456Z [Warning] [Keyring] component: message\n"
 * written to stderr in one call (no interleaving within a line). */
void krk_log_to_stderr(const krk_log_record *r);

/* log_builtins with every method inert: message() logs nothing, line_init
 * returns NULL (MySQL's LogEvent checks it), the rest answer "nothing";
 * copied and given a message() by those who log (the component's fallback,
 * the chassis's host log). */
extern const mysql_service_log_builtins_t krk_log_builtins_inert;
/* log_builtins_string over the C library. */
extern const mysql_service_log_builtins_string_t krk_log_builtins_string_libc;

#endif
