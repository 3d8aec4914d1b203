/* SPDX-License-Identifier: GPL-2.0-only */
#include "plugin_host.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct str_var {
    MYSQL_PLUGIN_VAR_HEADER;
    char **value;
};
struct uint_var {
    MYSQL_PLUGIN_VAR_HEADER;
    unsigned int *value;
};
struct bool_var {
    MYSQL_PLUGIN_VAR_HEADER;
    char *value;
};

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_text[65536], log_taken[65536];

static void print_error(unsigned int nr, const char *fmt, unsigned long flags, ...)
{
    (void)nr;
    (void)flags;
    char line[2048];
    va_list ap;
    va_start(ap, flags);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "plugin: %s\n", line);
    pthread_mutex_lock(&log_lock);
    size_t used = strlen(log_text);
    snprintf(log_text + used, sizeof log_text - used, "%s\n", line);
    pthread_mutex_unlock(&log_lock);
}

static struct my_print_error_service_st service = {NULL, print_error, NULL};

const char *ph_take_log(void)
{
    pthread_mutex_lock(&log_lock);
    memcpy(log_taken, log_text, sizeof log_taken);
    log_text[0] = '\0';
    pthread_mutex_unlock(&log_lock);
    return log_taken;
}

bool ph_load(plugin_host *h, const char *so_path)
{
    h->handle = dlopen(so_path, RTLD_NOW);
    if (h->handle == NULL) {
        fprintf(stderr, "%s\n", dlerror());
        return false;
    }
    struct my_print_error_service_st **svc = dlsym(h->handle, "my_print_error_service");
    h->decl = dlsym(h->handle, "_maria_plugin_declarations_");
    if (svc == NULL || h->decl == NULL) {
        fprintf(stderr, "%s: not a MariaDB plugin\n", so_path);
        return false;
    }
    *svc = &service;
    h->enc = h->decl->info;
    return true;
}

static struct st_mysql_sys_var *find_var(plugin_host *h, const char *name)
{
    for (struct st_mysql_sys_var **v = h->decl->system_vars; *v; v++)
        if (strcmp(((struct str_var *)*v)->name, name) == 0)
            return *v;
    fprintf(stderr, "the plugin has no system variable %s\n", name);
    return NULL;
}

bool ph_set_str(plugin_host *h, const char *name, char *value)
{
    struct st_mysql_sys_var *v = find_var(h, name);
    if (v)
        *((struct str_var *)v)->value = value;
    return v != NULL;
}

bool ph_set_uint(plugin_host *h, const char *name, unsigned value)
{
    struct st_mysql_sys_var *v = find_var(h, name);
    if (v)
        *((struct uint_var *)v)->value = value;
    return v != NULL;
}

bool ph_set_bool(plugin_host *h, const char *name, bool value)
{
    struct st_mysql_sys_var *v = find_var(h, name);
    if (v)
        *((struct bool_var *)v)->value = value;
    return v != NULL;
}
