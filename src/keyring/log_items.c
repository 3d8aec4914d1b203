/* SPDX-License-Identifier: GPL-2.0-only */
/* Reading log_builtins->message's item list (see log_items.h). */
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "keyring_kmip/krk_mysql_abi.h"
#include "log_items.h"

void krk_log_read_items(va_list ap, krk_log_record *out)
{
    out->prio = KRK_LOG_ERROR_LEVEL;
    out->component = "";
    out->message[0] = '\0';
    for (int i = 0; i < 64; i++) { /* a list longer than that is not ours */
        int type = va_arg(ap, int);
        if (type == KRK_LOG_ITEM_LOG_PRIO) {
            out->prio = (int)va_arg(ap, long long);
        } else if (type == KRK_LOG_ITEM_SRV_COMPONENT) {
            const char *c = va_arg(ap, const char *);
            out->component = c ? c : "";
        } else if (type == KRK_LOG_ITEM_LOG_MESSAGE) {
            const char *fmt = va_arg(ap, const char *);
            /* the format is the caller's, as in the server's log_vmessage */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
            if (fmt)
                vsnprintf(out->message, sizeof out->message, fmt, ap);
#pragma GCC diagnostic pop
            return;
        } else {
            snprintf(out->message, sizeof out->message, "(a log item of type %d not understood)",
                     type);
            return;
        }
    }
}

const char *krk_log_label(int prio)
{
    switch (prio) {
    case KRK_LOG_SYSTEM_LEVEL:
        return "System";
    case KRK_LOG_ERROR_LEVEL:
        return "Error";
    case KRK_LOG_WARNING_LEVEL:
        return "Warning";
    default:
        return "Note";
    }
}

void krk_log_to_stderr(const krk_log_record *r)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    time_t t = tv.tv_sec;
    gmtime_r(&t, &tm);
    char line[2300];
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ [%s] [Keyring] %s%s%s\n",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, (long)tv.tv_usec, krk_log_label(r->prio), r->component,
                     r->component[0] ? ": " : "", r->message);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    if (len && line[len - 1] != '\n')
        line[len - 1] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w; /* nothing to do when the error log itself cannot be written */
}
