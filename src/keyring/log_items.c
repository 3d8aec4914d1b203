/* SPDX-License-Identifier: GPL-2.0-only */
/* Reading log_builtins->message's item list (see log_items.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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

/* ---- a log_builtins whose log-line methods answer "no line" ---- */

static int fb_message_inert(int log_type, ...)
{
    (void)log_type;
    return 0;
}
static int fb_int_type(krk_log_item_type t) { (void)t; return -1; }
static int fb_by_name(const char *key, size_t len) { (void)key; (void)len; return -1; }
static krk_log_item_type fb_get_type(unsigned idx) { (void)idx; return 0; }
static const char *fb_get_name(unsigned idx) { (void)idx; return NULL; }
static int fb_item_inconsistent(krk_log_item *li) { (void)li; return -1; }
static bool fb_generic(krk_log_item_type t) { (void)t; return false; }
static bool fb_class(krk_log_item_class c) { (void)c; return false; }
static bool fb_set_int(krk_log_item_data *d, long long i) { (void)d; (void)i; return true; }
static bool fb_set_float(krk_log_item_data *d, double f) { (void)d; (void)f; return true; }
static bool fb_set_lex(krk_log_item_data *d, const char *s, size_t n)
{
    (void)d; (void)s; (void)n;
    return true;
}
static bool fb_set_cstr(krk_log_item_data *d, const char *s) { (void)d; (void)s; return true; }
static krk_log_item_data *fb_item_set_key(krk_log_item *li, krk_log_item_type t, const char *k,
                                          uint32_t a)
{
    (void)li; (void)t; (void)k; (void)a;
    return NULL;
}
static krk_log_item_data *fb_item_set(krk_log_item *li, krk_log_item_type t)
{
    (void)li; (void)t;
    return NULL;
}
static krk_log_item_data *fb_line_set_key(krk_log_line *ll, krk_log_item_type t, const char *k,
                                          uint32_t a)
{
    (void)ll; (void)t; (void)k; (void)a;
    return NULL;
}
static krk_log_item_data *fb_line_set(krk_log_line *ll, krk_log_item_type t)
{
    (void)ll; (void)t;
    return NULL;
}
static krk_log_line *fb_line_init(void) { return NULL; }
static void fb_line_exit(krk_log_line *ll) { (void)ll; }
static int fb_line_count(krk_log_line *ll) { (void)ll; return 0; }
static krk_log_item_type_mask fb_seen(krk_log_line *ll, krk_log_item_type_mask m)
{
    (void)ll; (void)m;
    return 0;
}
static krk_log_item *fb_out_buffer(krk_log_line *ll) { (void)ll; return NULL; }
static krk_log_item_iter *fb_iter_acquire(krk_log_line *ll) { (void)ll; return NULL; }
static void fb_iter_release(krk_log_item_iter *it) { (void)it; }
static krk_log_item *fb_iter_item(krk_log_item_iter *it) { (void)it; return NULL; }
static int fb_line_submit(krk_log_line *ll) { (void)ll; return 0; }
static int fb_sanitize(krk_log_item *li) { (void)li; return 0; }
static const char *fb_errmsg(int code) { (void)code; return ""; }
static long long fb_errcode(const char *sym) { (void)sym; return -1; }
static const char *fb_label(int prio) { return krk_log_label(prio); }
static unsigned long long fb_iso8601(const char *ts, size_t len) { (void)ts; (void)len; return 0; }
static krk_log_service_error fb_open_es(const char *name, void **es)
{
    (void)name;
    if (es)
        *es = NULL;
    return -1;
}
static krk_log_service_error fb_write_es(void *es, const char *buf, size_t len)
{
    (void)es; (void)buf; (void)len;
    return -1;
}
static int fb_dedicated_es(void *es) { (void)es; return 0; }
static krk_log_service_error fb_close_es(void **es) { (void)es; return 0; }
static krk_log_service_error fb_reopen_es(const char *file, void **es)
{
    (void)file; (void)es;
    return -1;
}

const mysql_service_log_builtins_t krk_log_builtins_inert = {
    fb_int_type,     fb_by_name,      fb_get_type,     fb_get_name,     fb_item_inconsistent,
    fb_generic,      fb_class,        fb_class,        fb_set_int,      fb_set_float,
    fb_set_lex,      fb_set_cstr,     fb_item_set_key, fb_item_set,     fb_line_set_key,
    fb_line_set,     fb_line_init,    fb_line_exit,    fb_line_count,   fb_seen,
    fb_out_buffer,   fb_iter_acquire, fb_iter_release, fb_iter_item,    fb_iter_item,
    fb_iter_item,    fb_line_submit,  fb_message_inert,      fb_sanitize,     fb_errmsg,
    fb_errcode,      fb_label,        fb_iso8601,      fb_open_es,      fb_write_es,
    fb_dedicated_es, fb_close_es,     fb_reopen_es,
};

/* ---- log_builtins_string: plain C library equivalents ---- */

static void *fs_malloc(size_t len) { return malloc(len + 1); }
static char *fs_strndup(const char *from, size_t len)
{
    char *p = malloc(len + 1);
    if (p) {
        memcpy(p, from, len); /* a NUL in the input does not end the copy */
        p[len] = '\0';
    }
    return p;
}
static void fs_free(void *p) { free(p); }
static size_t fs_length(const char *s) { return strlen(s); }
static char *fs_find_first(const char *s, int c) { return strchr(s, c); }
static char *fs_find_last(const char *s, int c) { return strrchr(s, c); }
static int fs_compare(const char *a, const char *b, size_t len, bool case_insensitive)
{
    return case_insensitive ? strncasecmp(a, b, len) : strncmp(a, b, len);
}
__attribute__((format(printf, 3, 0))) static size_t fs_substitutev(char *to, size_t n,
                                                                     const char *fmt, va_list ap)
{
    int r = vsnprintf(to, n, fmt, ap);
    return r < 0 ? 0 : (size_t)r;
}
__attribute__((format(printf, 3, 4))) static size_t fs_substitute(char *to, size_t n,
                                                                    const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t r = fs_substitutev(to, n, fmt, ap);
    va_end(ap);
    return r;
}

const mysql_service_log_builtins_string_t krk_log_builtins_string_libc = {
    fs_malloc,     fs_strndup, fs_free, fs_length, fs_find_first, fs_find_last, fs_compare,
    fs_substitutev, fs_substitute,
};
