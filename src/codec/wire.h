/* SPDX-License-Identifier: GPL-2.0-only */
/* Internal: TTLV wire constants and big-endian helpers (KMIP 1.4 section
 * 9.1.1: a 3-byte tag, a 1-byte type, a 4-byte length, then the value padded
 * with zeros to a multiple of 8 bytes). */
#ifndef KMIP_CODEC_WIRE_H
#define KMIP_CODEC_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define KMIP_HEADER_LEN 8u

static inline uint32_t wire_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static inline uint64_t wire_get_u64(const uint8_t *p)
{
    return (uint64_t)wire_get_u32(p) << 32 | wire_get_u32(p + 4);
}

static inline uint32_t wire_get_tag(const uint8_t *p)
{
    return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | (uint32_t)p[2];
}

static inline void wire_put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline void wire_put_u64(uint8_t *p, uint64_t v)
{
    wire_put_u32(p, (uint32_t)(v >> 32));
    wire_put_u32(p + 4, (uint32_t)v);
}

/* Bytes of padding after a value of len bytes. */
static inline size_t wire_pad(size_t len)
{
    return (8u - (len & 7u)) & 7u;
}

/* KMIP tags are 0x42XXXX (standard) or 0x54XXXX (extensions), 1.4 9.1.3.1. */
static inline int wire_tag_valid(uint32_t tag)
{
    return (tag >> 16) == 0x42 || (tag >> 16) == 0x54;
}

/* The value length a fixed-size type must carry; 0 for variable ones. */
static inline uint32_t wire_fixed_len(unsigned type)
{
    switch (type) {
    case 0x02: /* Integer */
    case 0x05: /* Enumeration */
    case 0x0A: /* Interval */
        return 4;
    case 0x03: /* Long Integer */
    case 0x06: /* Boolean */
    case 0x09: /* Date-Time */
    case 0x0B: /* Date-Time Extended */
        return 8;
    default:
        return 0;
    }
}

#endif
