/* SPDX-License-Identifier: GPL-2.0-only */
/* Internal: how a keyring key is represented on the KMIP server.
 *
 * Compatible with Percona's component: AES keys are Symmetric Keys (AES,
 * length in bits, usage Encrypt|Decrypt, Raw); SECRET keys are Secret Data
 * (Password, usage Derive Key|Export); the Name is the data_id; the Object
 * Group is the configured one; objects are Active.
 *
 * Beyond it, every object we write carries Application Specific
 * Information with Application Namespace "keyring_kmip" and Application
 * Data "v1;TYPE;HEX(auth_id);HEX(data_id)[;WRITE_TAG]": an injective
 * encoding (hex cannot contain ';'); WRITE_TAG ("w1;NONCE;UNIX_SECONDS",
 * write.h) names the write that made the object. One Application Specific
 * Information instance only: PyKMIP 0.10 refuses two in one Register at
 * KMIP 2.0 (it asks for an Attribute Index 2.0 does not have), so auth_id and the type survive a restart and any
 * data_id or auth_id round-trips whatever its bytes and length. RSA and DSA
 * keys are Secret Data with their type in that field. When auth_id is not
 * empty the Name is "auth_id:data_id" (for people reading the server; the
 * Application Data is what counts). An object without our Application Data
 * is read the Percona way: type from the object type, auth_id empty,
 * data_id = Name. */
#ifndef KRK_LAYOUT_H
#define KRK_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>

#include "keyring_kmip/krk.h"

#define KRK_APP_NAMESPACE "keyring_kmip"

/* Application Data for a key, with the write tag (write.h) appended after
 * a ';' when tag is not NULL; false when it does not fit. */
bool krk_layout_encode(krk_key_type type, const char *data_id, const char *auth_id,
                       const char *tag, char *out, size_t cap);
/* Parses our Application Data into malloc'ed ids; false if it is not ours
 * or malformed. tag (may be NULL) points at the write tag inside app_data,
 * or is NULL when there is none. */
bool krk_layout_decode(const char *app_data, size_t len, krk_key_type *type, char **data_id,
                       char **auth_id, const char **tag, size_t *tag_len);
/* The Name to give an object. */
bool krk_layout_name(const char *data_id, const char *auth_id, char *out, size_t cap);

#endif
