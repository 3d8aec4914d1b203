/* SPDX-License-Identifier: GPL-2.0-only */
/* component_keyring_kmip linked into a program (keyring-kmip): its
 * descriptor, what the module's list_components returns, for the chassis's
 * builtin:// scheme (krk_chassis_add_builtin, krk_loader_open_file). */
#ifndef KRK_COMPONENT_BUILTIN_H
#define KRK_COMPONENT_BUILTIN_H

#include "keyring_kmip/krk_mysql_abi.h"

mysql_component_t *krk_component_builtin(void);

#endif
