/* SPDX-License-Identifier: GPL-2.0-only */
/* MySQL option files (my.cnf), read the way mysqld reads them, for the
 * settings the keyring commands need: basedir, plugin_dir and datadir of
 * the [mysqld] and [server] groups.
 *
 * The rules are MySQL's (mysys/my_default.cc): `[group]` lines; `name` or
 * `name = value` lines; comment lines starting with `#` or `;`, and a `#`
 * outside quotes ending a line; leading and trailing white space dropped
 * from names and values; a value in single or double quotes loses them;
 * the escapes \b \t \n \r \s \" \' \\ in values; `-` and `_` equivalent in
 * names; a `loose-` prefix ignored; `!include FILE` and `!includedir DIR`
 * (the *.cnf files of DIR in name order) anywhere, each included file
 * starting outside any group; an included file or directory that does not
 * exist is skipped, and so, with a warning, is an include nested deeper
 * than 10; later values win.
 *
 * Beyond mysqld: a file that includes itself (directly or through others)
 * is skipped with a warning, at most 256 files are read in all (mysqld's
 * depth limit alone lets a file that includes itself 8 times be read 8^9
 * times), a file is opened without blocking (a FIFO would wait forever for
 * a writer) and must be a regular file, a NUL byte is an error (it would
 * cut a value short unseen), and [mysqld-X.Y] groups, which only that
 * version of mysqld reads, are not used, with a warning when they set one
 * of the settings. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define MYCNF_MAX_DEPTH 10              /* includes within includes */
#define MYCNF_MAX_LINE ((size_t)64 << 10) /* longer lines are an error */
#define MYCNF_MAX_FILES 256             /* files read in all, and .cnf files in a directory */

typedef struct reader {
    mycnf *c;
    size_t opened;                          /* files read so far */
    struct stat open_files[MYCNF_MAX_DEPTH]; /* the files being read, outermost first */
    int open_count;
} reader;

static void note_file(mycnf *c, const char *path, bool present)
{
    if (c->file_count >= MYCNF_MAX_FILES)
        return;
    size_t used = strlen(c->files);
    snprintf(c->files + used, sizeof c->files - used, "%s%s%s", used ? ", " : "", path,
             present ? "" : " (absent)");
    c->file_count++;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

/* MySQL's remove_end_comment: a # outside quotes ends the line. */
static void remove_end_comment(char *p)
{
    char quote = 0;
    bool escape = false;
    for (; *p; p++) {
        if ((*p == '\'' || *p == '"') && !escape) {
            if (!quote)
                quote = *p;
            else if (quote == *p)
                quote = 0;
        } else if (!quote && *p == '#') {
            *p = '\0';
            return;
        }
        escape = quote && *p == '\\' && !escape;
    }
}

/* Quotes removed and escapes resolved in place. */
static void unquote(char *v)
{
    size_t n = strlen(v);
    char *end = v + n;
    char *p = v;
    if (n >= 2 && (v[0] == '\'' || v[0] == '"') && v[n - 1] == v[0]) {
        p++;
        end--;
    }
    char *out = v;
    for (; p < end; p++) {
        if (*p == '\\' && p + 1 < end) {
            p++;
            switch (*p) {
            case 'n':
                *out++ = '\n';
                break;
            case 't':
                *out++ = '\t';
                break;
            case 'r':
                *out++ = '\r';
                break;
            case 'b':
                *out++ = '\b';
                break;
            case 's':
                *out++ = ' ';
                break;
            case '"':
            case '\'':
            case '\\':
                *out++ = *p;
                break;
            default: /* unknown: MySQL keeps the backslash */
                *out++ = '\\';
                *out++ = *p;
                break;
            }
        } else {
            *out++ = *p;
        }
    }
    *out = '\0';
}

/* The option name in canonical form: `loose-` dropped, `_` as `-`. */
static void canonical_name(const char *name, char *out, size_t cap)
{
    size_t n = 0;
    if (strncmp(name, "loose", 5) == 0 && (name[5] == '-' || name[5] == '_'))
        name += 6;
    for (; *name && n + 1 < cap; name++)
        out[n++] = *name == '_' ? '-' : *name;
    out[n] = '\0';
}

static bool group_applies(const char *group)
{
    return strcasecmp(group, "mysqld") == 0 || strcasecmp(group, "server") == 0;
}

static void set_value(mycnf_setting *s, const char *value, const char *path, int line,
                      const char *group)
{
    snprintf(s->value, sizeof s->value, "%s", value);
    snprintf(s->source, sizeof s->source, "%s:%d, [%s]", path, line, group);
    s->set = true;
}

/* from, from_line: the !include or !includedir line, NULL for the top file */
static bool read_file(reader *r, const char *path, bool must_exist, int depth, const char *from,
                      int from_line);

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool read_dir(reader *r, const char *dir, int depth, const char *from, int from_line)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        note_file(r->c, dir, false);
        return true; /* as mysqld: a missing !includedir is skipped */
    }
    /* every name, then sorted: stopping early would keep an arbitrary
     * subset (readdir's order) and break "later values win" */
    char *names[MYCNF_MAX_FILES];
    size_t n = 0;
    bool ok = true;
    for (struct dirent *e; ok && (e = readdir(d)) != NULL;) {
        size_t l = strlen(e->d_name);
        if (l <= 4 || strcmp(e->d_name + l - 4, ".cnf") != 0)
            continue;
        if (n == MYCNF_MAX_FILES) {
            fprintf(stderr, "keyring-kmip: %s:%d: %s: more than %d .cnf files\n", from, from_line,
                    dir, MYCNF_MAX_FILES);
            ok = false;
        } else if ((names[n] = strdup(e->d_name)) == NULL) {
            fprintf(stderr, "keyring-kmip: %s:%d: %s: out of memory\n", from, from_line, dir);
            ok = false;
        } else {
            n++;
        }
    }
    closedir(d);
    qsort(names, n, sizeof names[0], cmp_names);
    size_t dir_len = strlen(dir);
    const char *sep = dir_len && dir[dir_len - 1] == '/' ? "" : "/";
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        if (ok && snprintf(path, sizeof path, "%s%s%s", dir, sep, names[i]) < (int)sizeof path)
            ok = read_file(r, path, false, depth + 1, from, from_line);
        free(names[i]);
    }
    return ok;
}

/* group: the file's current group, "" before its first group line. */
static bool read_line(reader *r, char *line, const char *path, int number, int depth,
                      char *group, size_t group_cap)
{
    char *s = trim(line);
    if (*s == '\0' || *s == '#' || *s == ';')
        return true;
    if (*s == '!') {
        bool dir = strncmp(s, "!includedir", 11) == 0 && (s[11] == ' ' || s[11] == '\t');
        bool file = strncmp(s, "!include", 8) == 0 && (s[8] == ' ' || s[8] == '\t');
        if (!dir && !file) {
            fprintf(stderr, "keyring-kmip: warning: %s:%d: unknown directive skipped (expected "
                            "!include FILE or !includedir DIR)\n", path, number);
            return true;
        }
        char *target = trim(s + (dir ? 11 : 8));
        if (depth + 1 >= MYCNF_MAX_DEPTH) {
            fprintf(stderr, "keyring-kmip: warning: %s:%d: %s skipped: includes nested deeper "
                            "than %d\n", path, number, target, MYCNF_MAX_DEPTH);
            return true;
        }
        if (r->c->skip_includes)
            return true;
        return dir ? read_dir(r, target, depth, path, number)
                   : read_file(r, target, false, depth + 1, path, number);
    }
    remove_end_comment(s);
    s = trim(s);
    if (*s == '[') {
        char *end = strchr(s, ']');
        if (end == NULL || *trim(end + 1) != '\0') {
            fprintf(stderr, "keyring-kmip: %s:%d: a group line must be [NAME]\n", path, number);
            return false;
        }
        *end = '\0';
        snprintf(group, group_cap, "%s", trim(s + 1));
        return true;
    }
    if (group[0] == '\0') {
        fprintf(stderr, "keyring-kmip: %s:%d: an option before any [group]\n", path, number);
        return false;
    }
    bool version_group = strncasecmp(group, "mysqld-", 7) == 0;
    if (!group_applies(group) && !version_group)
        return true;
    char *eq = strchr(s, '=');
    char *value = "";
    if (eq) {
        *eq = '\0';
        value = trim(eq + 1);
        unquote(value);
    }
    char name[128];
    canonical_name(trim(s), name, sizeof name);
    mycnf_setting *slot = strcmp(name, "basedir") == 0      ? &r->c->basedir
                          : strcmp(name, "plugin-dir") == 0 ? &r->c->plugin_dir
                          : strcmp(name, "datadir") == 0    ? &r->c->datadir
                                                            : NULL;
    if (slot == NULL)
        return true;
    if (version_group) { /* which mysqld reads it, only the server knows */
        fprintf(stderr, "keyring-kmip: warning: %s:%d: %s in [%s] not used: only mysqld %s "
                        "reads that group (give it in [mysqld] or on the command line)\n",
                path, number, name, group, group + 7);
        return true;
    }
    if (*value == '\0') {
        fprintf(stderr, "keyring-kmip: %s:%d: %s needs a value (%s=DIR)\n", path, number, name,
                name);
        return false;
    }
    set_value(slot, value, path, number, group);
    return true;
}

static bool read_file(reader *r, const char *path, bool must_exist, int depth, const char *from,
                      int from_line)
{
    char where[4200] = "";
    if (from)
        snprintf(where, sizeof where, "%s:%d: ", from, from_line);
    if (r->opened >= MYCNF_MAX_FILES) {
        fprintf(stderr, "keyring-kmip: %s%s: more than %d option files in all\n", where, path,
                MYCNF_MAX_FILES);
        return false;
    }
    /* O_NONBLOCK: opening a FIFO would wait for a writer */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        if (must_exist || errno != ENOENT) {
            fprintf(stderr, "keyring-kmip: %s%s: %s\n", where, path, strerror(errno));
            return false;
        }
        note_file(r->c, path, false);
        return true;
    }
    struct stat st;
    FILE *f = NULL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "keyring-kmip: %s%s: not a regular file\n", where, path);
        close(fd);
        return false;
    }
    for (int i = 0; i < r->open_count; i++)
        if (r->open_files[i].st_dev == st.st_dev && r->open_files[i].st_ino == st.st_ino) {
            fprintf(stderr, "keyring-kmip: warning: %s%s skipped: it is being read already "
                            "(an include loop)\n", where, path);
            close(fd);
            return true;
        }
    if (fcntl(fd, F_SETFL, 0) != 0 || (f = fdopen(fd, "r")) == NULL) {
        fprintf(stderr, "keyring-kmip: %s%s: %s\n", where, path, strerror(errno));
        close(fd);
        return false;
    }
    r->opened++;
    r->open_files[r->open_count++] = st;
    note_file(r->c, path, true);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int number = 0;
    bool ok = true;
    char group[256] = "";
    while (ok && (n = getline(&line, &cap, f)) >= 0) {
        number++;
        if ((size_t)n > MYCNF_MAX_LINE) {
            fprintf(stderr, "keyring-kmip: %s:%d: line longer than 64 KiB\n", path, number);
            ok = false;
        } else if (memchr(line, '\0', (size_t)n) != NULL) {
            fprintf(stderr, "keyring-kmip: %s:%d: a NUL byte in the line\n", path, number);
            ok = false;
        } else {
            ok = read_line(r, line, path, number, depth, group, sizeof group);
        }
    }
    if (ok && ferror(f)) {
        fprintf(stderr, "keyring-kmip: %s: read error\n", path);
        ok = false;
    }
    free(line);
    fclose(f);
    r->open_count--;
    return ok;
}

bool mycnf_read(mycnf *c, const char *path, bool must_exist)
{
    reader r = {c, 0, {{0}}, 0};
    return read_file(&r, path, must_exist, 0, NULL, 0);
}
