/* SPDX-License-Identifier: GPL-2.0-only */
/* Internal: table-driven decoding and encoding of described structures. */
#ifndef KMIP_MSG_CODEC_H
#define KMIP_MSG_CODEC_H

#include "kmip/kmip_message.h"
#include "msg_schema.h"

typedef struct msg_dctx {
    kmip_message *m;
    kmip_msg_error *err;
    bool version_known; /* false while the header is read the first time */
    unsigned version;   /* the message's protocol version */
} msg_dctx;

/* True when the protocol version defines the field. */
bool msg_version_defines(unsigned version, const field_desc *f);

/* Fills the C struct at base from a structure item. */
kmip_err msg_decode_struct(msg_dctx *c, const struct_desc *d, void *base, const kmip_item *item);

typedef struct msg_ectx {
    kmip_encoder *e;
    unsigned version;
    bool response;
    kmip_err err; /* errors the encoder cannot see (KMIP_E_UNSUPPORTED) */
} msg_ectx;

/* Encodes the C struct at base as a structure with `tag`. */
void msg_encode_struct(msg_ectx *c, const struct_desc *d, const void *base, uint32_t tag);

__attribute__((format(printf, 3, 4))) kmip_err msg_fail(msg_dctx *c, kmip_err err,
                                                        const char *fmt, ...);

#endif
