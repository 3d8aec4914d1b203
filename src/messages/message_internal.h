/* SPDX-License-Identifier: GPL-2.0-only */
/* Internal: what the message decoder needs from message.c beyond the public
 * API. */
#ifndef KMIP_MESSAGE_INTERNAL_H
#define KMIP_MESSAGE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "kmip/kmip_message.h"

/* A new empty message whose arena's first block (in the same allocation)
 * has room for first_block bytes. NULL when out of memory. */
kmip_message *msg_create(bool is_response, size_t first_block);
/* Usable bytes of the message's first arena block. */
size_t msg_block_capacity(const kmip_message *m);
/* Bytes the message's arena handed out (all blocks). */
size_t msg_bytes_used(const kmip_message *m);

/* kmip_message_decode with the table walk alone (the generated fast paths
 * of msg_fast.inc off): for the differential tests and fuzzers, which check
 * that both give the same verdict, error and message. */
kmip_err msg_decode_walk(const uint8_t *data, size_t len, kmip_message **out,
                         kmip_msg_error *err);
/* kmip_message_encode with the table walk alone (msg_fast_enc.inc off). */
kmip_err msg_encode_walk(const kmip_message *m, uint8_t **out, size_t *out_len);
/* True when the fast paths are in use (their numbers match the tables). */
bool msg_decode_fast_enabled(void);
#endif
