/* SPDX-License-Identifier: GPL-2.0-only */
/* Secure memory helpers: wiping that the optimiser cannot remove and
 * comparison whose time does not depend on the data. */
#include <stdlib.h>
#include <string.h>

#include "kmip/kmip_ttlv.h"

void kmip_secure_zero(void *p, size_t len)
{
    if (p == NULL || len == 0)
        return;
    /* explicit_bzero (glibc >= 2.25) is documented never to be elided. */
    explicit_bzero(p, len);
}

void kmip_secure_free(void *p, size_t len)
{
    if (p == NULL)
        return;
    kmip_secure_zero(p, len);
    free(p);
}

bool kmip_ct_equal(const void *a, const void *b, size_t len)
{
    const volatile unsigned char *x = a;
    const volatile unsigned char *y = b;
    unsigned char diff = 0;
    for (size_t i = 0; i < len; i++)
        diff |= (unsigned char)(x[i] ^ y[i]);
    return diff == 0;
}
