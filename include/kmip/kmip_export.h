/* SPDX-License-Identifier: GPL-2.0-only */
/* Export and attribute macros for the KMIP protocol library.
 *
 * The library is built with -fvisibility=hidden: only declarations marked
 * KMIP_API are part of the ABI. KMIP_MUST_CHECK marks every fallible
 * function so that an ignored error is a compiler warning (an error in CI). */
#ifndef KMIP_EXPORT_H
#define KMIP_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define KMIP_API __attribute__((visibility("default")))
#define KMIP_MUST_CHECK __attribute__((warn_unused_result))
#else
#define KMIP_API
#define KMIP_MUST_CHECK
#endif

#endif
