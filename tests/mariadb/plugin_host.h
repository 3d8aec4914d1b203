/* SPDX-License-Identifier: GPL-2.0-only */
/* Test tooling: kmip_key_management.so loaded outside mariadbd, the way the
 * server loads it: dlopen, the error service the server provides, the
 * plugin's system variables set through its declaration, then init and
 * deinit. One plugin per process (the plugin's state is static). */
#ifndef PLUGIN_HOST_H
#define PLUGIN_HOST_H

#include <stdbool.h>

#include <mysql/plugin_encryption.h>

typedef struct plugin_host {
    void *handle;
    struct st_maria_plugin *decl;
    struct st_mariadb_encryption *enc;
} plugin_host;

/* Loads the module; false with the reason on stderr. */
bool ph_load(plugin_host *h, const char *so_path);
/* Sets a string, unsigned or boolean system variable by its short name
 * ("server_addr", "timeout_ms", "tls_peer_verification"); the string is
 * not copied and must outlive the plugin. False if there is no such one. */
bool ph_set_str(plugin_host *h, const char *name, char *value);
bool ph_set_uint(plugin_host *h, const char *name, unsigned value);
bool ph_set_bool(plugin_host *h, const char *name, bool value);
/* The plugin's error log lines (my_printf_error) since the last call, as
 * one string; cleared by the call. */
const char *ph_take_log(void);

#endif
