/* SPDX-License-Identifier: GPL-2.0-only */
#include "xml_values.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil); exact for every year we accept. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

void xmlv_format_time(int64_t seconds, long micro, char out[XMLV_DATE_MAX])
{
    int64_t days = seconds / 86400, rem = seconds % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    int h = (int)(rem / 3600), mi = (int)(rem / 60 % 60), s = (int)(rem % 60);
    if (y < 0 || y > 9999) {
        /* ISO 8601 needs four year digits: give the number itself, which
         * the reader accepts too */
        int64_t raw = seconds;
        /* the microseconds it came from, without overflow near INT64_MIN
         * (seconds were floored there) */
        if (micro > 0 && seconds < 0)
            raw = (seconds + 1) * 1000000 - (1000000 - micro);
        else if (micro >= 0)
            raw = seconds * 1000000 + micro;
        snprintf(out, XMLV_DATE_MAX, "%" PRId64, raw);
        return;
    }
    if (micro >= 0)
        snprintf(out, XMLV_DATE_MAX, "%04" PRId64 "-%02u-%02uT%02d:%02d:%02d.%06ld+00:00", y, m, d,
                 h, mi, s, micro);
    else
        snprintf(out, XMLV_DATE_MAX, "%04" PRId64 "-%02u-%02uT%02d:%02d:%02d+00:00", y, m, d, h, mi,
                 s);
}

/* Reads exactly n digits at *p. */
static bool digits(const char **p, int n, int *v)
{
    int acc = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return false;
        acc = acc * 10 + (c - '0');
    }
    *p += n;
    *v = acc;
    return true;
}

static bool expect(const char **p, char c)
{
    if (**p != c)
        return false;
    (*p)++;
    return true;
}

bool xmlv_parse_time(const char *s, int64_t *seconds, long *micro)
{
    int y, mo, d, h, mi, se;
    const char *p = s;
    if (!digits(&p, 4, &y) || !expect(&p, '-') || !digits(&p, 2, &mo) || !expect(&p, '-') ||
        !digits(&p, 2, &d) || !expect(&p, 'T') || !digits(&p, 2, &h) || !expect(&p, ':') ||
        !digits(&p, 2, &mi) || !expect(&p, ':') || !digits(&p, 2, &se))
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return false;
    long frac = 0;
    if (*p == '.') {
        p++;
        int n = 0;
        while (*p >= '0' && *p <= '9' && n < 6) {
            frac = frac * 10 + (*p++ - '0');
            n++;
        }
        if (n == 0 || (*p >= '0' && *p <= '9'))
            return false;
        while (n++ < 6)
            frac *= 10;
    }
    long offset = 0;
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, oh, om;
        if (!digits(&p, 2, &oh) || !expect(&p, ':') || !digits(&p, 2, &om) || oh > 23 || om > 59)
            return false;
        offset = sign * (oh * 3600L + om * 60L);
    } else {
        return false;
    }
    if (*p != '\0')
        return false;
    *seconds = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se -
               offset;
    *micro = frac;
    return true;
}

void xmlv_format_mask(const kmip_enum_def *m, uint32_t v, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    uint32_t rest = v;
    for (size_t i = 0; i < m->count; i++) {
        uint32_t bit = m->values[i].value;
        if (bit == 0 || (v & bit) != bit)
            continue;
        int n = snprintf(out + used, cap - used, "%s%s", used ? " " : "", m->values[i].xml_name);
        if (n < 0 || (size_t)n >= cap - used)
            break;
        used += (size_t)n;
        rest &= ~bit;
    }
    if (rest != 0 || used == 0)
        snprintf(out + used, cap - used, "%s0x%08" PRIX32, used ? " " : "", rest);
}

bool xmlv_parse_uint(const char *s, unsigned long long max, unsigned long long *v)
{
    if (*s == '\0' || *s == '-' || *s == '+' || *s == ' ')
        return false;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 0);
    if (errno != 0 || *end != '\0' || x > max)
        return false;
    *v = x;
    return true;
}

bool xmlv_parse_int(const char *s, unsigned bits, int64_t *v)
{
    if (*s == '\0' || *s == ' ')
        return false;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        /* hex is a bit pattern: 0xFFFFFFFF is -1 for a 32-bit Integer */
        unsigned long long u;
        if (!xmlv_parse_uint(s, bits == 32 ? UINT32_MAX : UINT64_MAX, &u))
            return false;
        *v = bits == 32 ? (int64_t)(int32_t)(uint32_t)u : (int64_t)u;
        return true;
    }
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    if (bits == 32 && (x < INT32_MIN || x > INT32_MAX))
        return false;
    *v = x;
    return true;
}

bool xmlv_parse_mask(const kmip_enum_def *m, const char *s, uint32_t *v)
{
    char buf[512];
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, s, n + 1);
    uint32_t acc = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        uint32_t bit;
        unsigned long long num;
        if (m && kmip_enum_value_by_xml_name(m, tok, &bit))
            acc |= bit;
        else if (xmlv_parse_uint(tok, UINT32_MAX, &num))
            acc |= (uint32_t)num;
        else
            return false;
    }
    *v = acc;
    return true;
}

bool xmlv_is_secret(uint32_t tag)
{
    switch (tag) {
    case KMIP_TAG_KEY_MATERIAL:
    case KMIP_TAG_KEY_VALUE:
    case KMIP_TAG_OPAQUE_DATA_VALUE:
    case KMIP_TAG_PASSWORD:
    case KMIP_TAG_PRIVATE_EXPONENT:
    case KMIP_TAG_PRIME_EXPONENT_P:
    case KMIP_TAG_PRIME_EXPONENT_Q:
    case KMIP_TAG_CRT_COEFFICIENT:
    case KMIP_TAG_P:
    case KMIP_TAG_Q:
    case KMIP_TAG_X:
    case KMIP_TAG_D:
        return true;
    default:
        return false;
    }
}

uint32_t xmlv_value_tag(uint32_t item_tag, const char *attr_name)
{
    uint32_t named;
    if (item_tag == KMIP_TAG_ATTRIBUTE_VALUE && attr_name && kmip_tag_by_name(attr_name, &named))
        return named;
    return item_tag;
}

static char *format_enum(const kmip_item *it, uint32_t value_tag, char *buf, size_t cap)
{
    const char *name = NULL;
    if (it->tag == KMIP_TAG_ATTRIBUTE_REFERENCE) {
        name = kmip_tag_xml_name(it->v.u32); /* 2.x: the value is a tag */
    } else {
        const kmip_value_def *v = kmip_enum_value(kmip_enum_for_tag(value_tag), it->v.u32);
        name = v ? v->xml_name : NULL;
    }
    if (name)
        snprintf(buf, cap, "%s", name);
    else
        snprintf(buf, cap, "0x%08" PRIX32, it->v.u32);
    return buf;
}

static void format_scalar(const kmip_item *it, uint32_t value_tag, char *buf, size_t cap)
{
    switch (it->type) {
    case KMIP_TYPE_INTEGER: {
        const kmip_enum_def *mask = kmip_mask_for_tag(value_tag);
        if (mask)
            xmlv_format_mask(mask, (uint32_t)it->v.i32, buf, cap);
        else
            snprintf(buf, cap, "%" PRId32, it->v.i32);
        break;
    }
    case KMIP_TYPE_LONG_INTEGER:
        snprintf(buf, cap, "%" PRId64, it->v.i64);
        break;
    case KMIP_TYPE_INTERVAL:
        snprintf(buf, cap, "%" PRIu32, it->v.u32);
        break;
    case KMIP_TYPE_ENUMERATION:
        format_enum(it, value_tag, buf, cap);
        break;
    case KMIP_TYPE_BOOLEAN:
        snprintf(buf, cap, "%s", it->v.boolean ? "true" : "false");
        break;
    case KMIP_TYPE_DATE_TIME:
        xmlv_format_time(it->v.i64, -1, buf);
        break;
    default: { /* Date-Time Extended */
        int64_t sec = it->v.i64 / 1000000, us = it->v.i64 % 1000000;
        if (us < 0) {
            us += 1000000;
            sec--;
        }
        xmlv_format_time(sec, (long)us, buf);
        break;
    }
    }
}

char *xmlv_value_text(const kmip_item *it, uint32_t value_tag, unsigned flags, size_t *cap,
                      bool *redacted)
{
    bool bytes = it->type == KMIP_TYPE_TEXT_STRING || it->type == KMIP_TYPE_BYTE_STRING ||
                 it->type == KMIP_TYPE_BIG_INTEGER;
    *redacted = bytes && xmlv_is_secret(it->tag) && !(flags & XMLV_SHOW_SECRETS);
    size_t n = it->v.bytes.len;
    if (!bytes || *redacted)
        *cap = 600;
    else if (n > (SIZE_MAX - 1) / 2)
        return NULL;
    else
        *cap = it->type == KMIP_TYPE_TEXT_STRING ? n + 1 : 2 * n + 1;
    char *out = malloc(*cap);
    if (out == NULL)
        return NULL;
    if (*redacted) {
        snprintf(out, *cap, "%zu bytes", n);
    } else if (!bytes) {
        format_scalar(it, value_tag, out, *cap);
    } else if (it->type == KMIP_TYPE_TEXT_STRING) {
        memcpy(out, it->v.bytes.data, n);
        out[n] = '\0';
    } else {
        kmip_hex_encode(it->v.bytes.data, n, out);
    }
    return out;
}
