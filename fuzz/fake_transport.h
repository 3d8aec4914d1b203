/* SPDX-License-Identifier: GPL-2.0-only */
/* The fuzz targets' socketless transport (fake_transport.c). */
#ifndef KMIP_FUZZ_FAKE_TRANSPORT_H
#define KMIP_FUZZ_FAKE_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

/* Every kt_recv of the next `times` answers with data (borrowed; it must
 * outlive the client's use), then the connection breaks. */
void fake_transport_answer(const uint8_t *data, size_t len, int times);

#endif
