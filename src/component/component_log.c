/* SPDX-License-Identifier: GPL-2.0-only */
/* The component's fallback log_builtins and log_builtins_string
 * ("log_builtins.component_keyring_kmip"): registered with the component,
 * they become the defaults only when the host registered none before (as in
 * mysql_migrate_keyring), and then the component's own messages go to
 * stderr with a level. message() is implemented; the log-line methods other
 * components' C++ LogEvent uses answer "no line" (line_init returns NULL,
 * which LogEvent checks), so they log nothing and crash nothing; the other
 * methods are inert. */

#include "component.h"
#include "log_items.h"

static int fb_message(int log_type, ...)
{
    krk_log_record r;
    KRK_LOG_READ_ARGS(log_type, &r);
    krk_log_to_stderr(&r);
    return 0;
}

mysql_service_log_builtins_t comp_fallback_log_builtins;

void comp_fallback_fill(void)
{
    if (comp_fallback_log_builtins.message == fb_message)
        return;
    comp_fallback_log_builtins = krk_log_builtins_inert;
    comp_fallback_log_builtins.message = fb_message;
}
