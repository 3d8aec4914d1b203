/* SPDX-License-Identifier: GPL-2.0-only */
/* The project's one monotonic clock (kmip_ttlv.h). */
#include <time.h>

#include "kmip/kmip_ttlv.h"

int64_t kmip_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t kmip_monotonic_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
