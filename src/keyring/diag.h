/* SPDX-License-Identifier: GPL-2.0-only */
/* Internal: diagnostics and JSON file helpers of the keyring layer. */
#ifndef KRK_DIAG_H
#define KRK_DIAG_H

#include <jansson.h>

#include "keyring_kmip/krk_config.h"

__attribute__((format(printf, 3, 4))) krk_err krk_fail(krk_diag *d, krk_err code,
                                                       const char *fmt, ...);
__attribute__((format(printf, 2, 3))) void krk_warn(krk_diag *d, const char *fmt, ...);
void krk_diag_clear(krk_diag *d);

/* "a string", "a number", ... for messages. */
const char *krk_json_kind(const json_t *v);

/* Loads a JSON object from path. *missing tells a file that does not exist
 * apart from other failures (which are errors with `code`). Warns when the
 * file is writable by other users. */
krk_err krk_json_load(const char *path, krk_err code, const char *what, json_t **out,
                      bool *missing, krk_diag *d);

/* path = dir + "/" + name; false if it does not fit. */
bool krk_join(char *out, size_t cap, const char *dir, const char *name);

#endif
