/* SPDX-License-Identifier: GPL-2.0-only */
/* Test tooling: rows of the reliability table (docs/RELIABILITY.md), printed
 * as Markdown at the end of a run and appended to $KRK_RELIABILITY_OUT when
 * that is set. */
#ifndef FAULT_REPORT_H
#define FAULT_REPORT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct report_row {
    char level[12], fault[96], operation[48], result[64], message[200], recovery[32],
        invariant[64];
    long long elapsed_ms;
} report_row;

static report_row report_rows[128];
static size_t report_count;

static void report_add(const char *level, const char *fault, const char *operation,
                       const char *result, const char *message, long long elapsed_ms,
                       long long recovery_ms, const char *invariant)
{
    if (report_count == sizeof report_rows / sizeof report_rows[0])
        return;
    report_row *r = &report_rows[report_count++];
    snprintf(r->level, sizeof r->level, "%s", level);
    snprintf(r->fault, sizeof r->fault, "%s", fault);
    snprintf(r->operation, sizeof r->operation, "%s", operation);
    snprintf(r->result, sizeof r->result, "%s", result);
    /* the first clause of the message, without '|' (a table separator) */
    snprintf(r->message, sizeof r->message, "%s", message ? message : "");
    for (char *p = r->message; *p; p++)
        if (*p == '|' || *p == '\n')
            *p = '/';
    r->elapsed_ms = elapsed_ms;
    if (recovery_ms < 0)
        snprintf(r->recovery, sizeof r->recovery, "-");
    else
        snprintf(r->recovery, sizeof r->recovery, "%lld ms", recovery_ms);
    snprintf(r->invariant, sizeof r->invariant, "%s", invariant);
}

static void report_print(FILE *f)
{
    fprintf(f, "| Level | Fault | Operation | Result | Time to fail | Recovery | Invariant | "
               "Message (start) |\n|---|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < report_count; i++) {
        report_row *r = &report_rows[i];
        char msg[96];
        size_t n = strlen(r->message); /* cut on purpose: the start says enough */
        if (n >= sizeof msg) {
            memcpy(msg, r->message, sizeof msg - 4);
            memcpy(msg + sizeof msg - 4, "...", 4);
        } else {
            memcpy(msg, r->message, n + 1);
        }
        fprintf(f, "| %s | %s | %s | %s | %lld ms | %s | %s | %s |\n", r->level, r->fault,
                r->operation, r->result, r->elapsed_ms, r->recovery, r->invariant, msg);
    }
}

static void report_flush(void)
{
    report_print(stdout);
    const char *out = getenv("KRK_RELIABILITY_OUT");
    FILE *f = out ? fopen(out, "a") : NULL;
    if (f) {
        report_print(f);
        fclose(f);
    }
    report_count = 0;
}

#endif
