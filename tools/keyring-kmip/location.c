/* SPDX-License-Identifier: GPL-2.0-only */
/* Where the keyring is: --config, or the MySQL installation's basedir,
 * plugin_dir and datadir from the command line, from --defaults-file, or,
 * with no location option at all, from the standard option files
 * (/etc/my.cnf, then /etc/mysql/my.cnf, as mysqld reads them; the
 * environment variable KRK_MYSQL_OPTION_FILES, a colon-separated list,
 * replaces that list for tests). The command line wins over option files;
 * within option files later values win. Each value keeps where it came
 * from, for `check`.
 *
 * A relative path from an option file means what it means to mysqld
 * (my_load_path in fix_paths): plugin_dir and datadir are relative to
 * basedir, but `./X`, `../X` and a relative basedir are relative to
 * mysqld's working directory, which this tool cannot know: refused. A
 * relative path on the command line is relative to ours, as usual. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

#define STANDARD_OPTION_FILES "/etc/my.cnf:/etc/mysql/my.cnf"
#define DEFAULT_BASEDIR "/usr" /* mysqld's basedir in MySQL's and Percona's packages */

static bool exists(const char *dir, const char *name)
{
    char path[8300];
    struct stat st;
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return false;
    return stat(path, &st) == 0;
}

/* false (nothing set) when value or source is too long */
static bool set(mycnf_setting *s, const char *value, const char *source)
{
    if (snprintf(s->value, sizeof s->value, "%s", value) >= (int)sizeof s->value ||
        snprintf(s->source, sizeof s->source, "%s", source) >= (int)sizeof s->source)
        return false;
    s->set = true;
    return true;
}

/* The standard option files; false when one is malformed. */
static bool read_standard(mycnf *c, bool *any)
{
    const char *env = getenv("KRK_MYSQL_OPTION_FILES");
    char list[8192];
    snprintf(list, sizeof list, "%s", env && env[0] ? env : STANDARD_OPTION_FILES);
    *any = false;
    for (char *save = NULL, *p = strtok_r(list, ":", &save); p; p = strtok_r(NULL, ":", &save)) {
        struct stat st;
        *any |= stat(p, &st) == 0;
        if (!mycnf_read(c, p, false))
            return false;
    }
    return true;
}

/* The directory of the global manifest mysqld.my: next to the server
 * binary. basedir itself when mysqld.my is there (the binary's directory
 * given as --basedir), else basedir/bin (MySQL's tarballs) or basedir/sbin
 * (Debian and RPM packages) where mysqld is, else basedir. */
static void manifest_dir(const char *basedir, char *out, size_t cap)
{
    snprintf(out, cap, "%s", basedir);
    if (exists(basedir, "mysqld.my"))
        return;
    static const char *const subdirs[] = {"bin", "sbin"};
    for (size_t i = 0; i < 2; i++) {
        char dir[4200];
        if (snprintf(dir, sizeof dir, "%s/%s", basedir, subdirs[i]) >= (int)sizeof dir)
            return;
        if ((exists(dir, "mysqld.my") || exists(dir, "mysqld")) &&
            snprintf(out, cap, "%s", dir) < (int)cap)
            return;
    }
}

int cli_locate(const cli_globals *g, const char *command, cli_location *loc)
{
    memset(loc, 0, sizeof *loc);
    bool installation = g->basedir || g->plugin_dir || g->datadir || g->defaults_file;
    if (g->config) {
        if (installation) {
            fprintf(stderr, "keyring-kmip %s: give --config FILE or the installation "
                            "(--defaults-file, --basedir, --plugin-dir, --datadir), not both\n",
                    command);
            return CLI_USAGE;
        }
        loc->config = g->config;
        return -1;
    }
    mycnf c;
    memset(&c, 0, sizeof c);
    bool files_read = false;
    if (g->defaults_file) {
        if (!mycnf_read(&c, g->defaults_file, true))
            return CLI_LOCATION;
        files_read = true;
    } else if (!installation && !g->no_defaults) {
        bool any;
        if (!read_standard(&c, &any))
            return CLI_LOCATION;
        if (!any) {
            fprintf(stderr, "keyring-kmip %s: no MySQL option file (%s); give --config FILE, "
                            "--defaults-file FILE, or --basedir DIR\n",
                    command, c.files);
            return CLI_USAGE;
        }
        files_read = true;
    }
    snprintf(loc->files, sizeof loc->files, "%s", c.files);
    const struct {
        const char *given, *flag;
        mycnf_setting *from_file, *out;
    } values[] = {{g->basedir, "--basedir", &c.basedir, &loc->basedir},
                  {g->plugin_dir, "--plugin-dir", &c.plugin_dir, &loc->plugin_dir},
                  {g->datadir, "--datadir", &c.datadir, &loc->datadir}};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        if (values[i].given) {
            char source[64];
            snprintf(source, sizeof source, "command line, %s", values[i].flag);
            if (!set(values[i].out, values[i].given, source)) {
                fprintf(stderr, "keyring-kmip %s: %s: path too long\n", command, values[i].flag);
                return CLI_USAGE;
            }
        } else if (values[i].from_file->set) {
            *values[i].out = *values[i].from_file;
            const char *v = values[i].out->value;
            bool cwd_relative = strncmp(v, "./", 2) == 0 || strncmp(v, "../", 3) == 0 ||
                                strcmp(v, ".") == 0 || strcmp(v, "..") == 0;
            if (v[0] != '/' && (i == 0 || cwd_relative)) {
                fprintf(stderr, "keyring-kmip %s: %s: %s %s is relative to mysqld's working "
                                "directory, which is not known here: give an absolute path\n",
                        command, values[i].out->source, values[i].flag + 2, v);
                return CLI_LOCATION;
            }
        }
    }
    if (!loc->basedir.set) {
        if (!files_read) {
            fprintf(stderr, "keyring-kmip %s: give --config FILE, or --basedir DIR (and "
                            "--plugin-dir DIR), or --defaults-file FILE\n",
                    command);
            return CLI_USAGE;
        }
        (void)set(&loc->basedir, DEFAULT_BASEDIR, "default: not set in the option files");
    }
    /* mysqld's plugin_dir and datadir relative to basedir */
    for (size_t i = 1; i < sizeof values / sizeof values[0]; i++) {
        mycnf_setting *s = values[i].out;
        if (values[i].given == NULL && s->set && s->value[0] != '/' && loc->basedir.set) {
            char joined[sizeof s->value];
            if (snprintf(joined, sizeof joined, "%s/%s", loc->basedir.value, s->value) >=
                (int)sizeof joined) {
                fprintf(stderr, "keyring-kmip %s: %s: path too long\n", command, s->source);
                return CLI_LOCATION;
            }
            memcpy(s->value, joined, sizeof joined);
        }
    }
    if (!loc->plugin_dir.set) {
        /* mysqld's default: BASEDIR/lib/plugin, or where the packages put it */
        static const char *const candidates[] = {"lib/plugin", "lib/mysql/plugin",
                                                 "lib64/mysql/plugin"};
        for (size_t i = 0; i < 3 && !loc->plugin_dir.set; i++)
            if (exists(loc->basedir.value, candidates[i])) {
                char dir[4200], source[64];
                snprintf(source, sizeof source, "default: BASEDIR/%s", candidates[i]);
                if (snprintf(dir, sizeof dir, "%s/%s", loc->basedir.value, candidates[i]) <
                    (int)sizeof dir)
                    (void)set(&loc->plugin_dir, dir, source);
            }
        if (!loc->plugin_dir.set) {
            fprintf(stderr, "keyring-kmip %s: no plugin directory: give --plugin-dir DIR or set "
                            "plugin_dir in [mysqld] (none of %s/lib/plugin, lib/mysql/plugin, "
                            "lib64/mysql/plugin exists)\n",
                    command, loc->basedir.value);
            return CLI_USAGE;
        }
    }
    manifest_dir(loc->basedir.value, loc->manifest_dir, sizeof loc->manifest_dir);
    return -1;
}

void cli_location_print(const cli_location *loc)
{
    if (loc->config)
        return;
    if (loc->files[0])
        printf("option files:  %s\n", loc->files);
    const struct {
        const char *label;
        const mycnf_setting *s;
    } rows[] = {{"basedir:      ", &loc->basedir},
                {"plugin_dir:   ", &loc->plugin_dir},
                {"datadir:      ", &loc->datadir}};
    for (size_t i = 0; i < 3; i++)
        if (rows[i].s->set)
            printf("%s %s (%s)\n", rows[i].label, rows[i].s->value, rows[i].s->source);
        else
            printf("%s (not set)\n", rows[i].label);
}
