/* SPDX-License-Identifier: GPL-2.0-only */
/* libFuzzer target: bytes as a MySQL option file read by keyring-kmip
 * (tools/keyring-kmip/mycnf.c; !include and !includedir are parsed but not
 * followed, so the input cannot name the fuzzing machine's files). Every
 * input must be read or refused, never crash, leak or hang; what is read
 * gives NUL-terminated values with their source, and reading the same file
 * again gives the same values. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            __builtin_trap();                                                                      \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[96];

static void check_setting(const mycnf_setting *s)
{
    CHECK(memchr(s->value, '\0', sizeof s->value) != NULL);
    CHECK(memchr(s->source, '\0', sizeof s->source) != NULL);
    CHECK(!s->set || (s->value[0] != '\0' && strstr(s->source, path) == s->source));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (path[0] == '\0')
        snprintf(path, sizeof path, "/tmp/fuzz-mycnf-%d.cnf", (int)getpid());
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    CHECK(fwrite(data, 1, size, f) == size);
    fclose(f);
    static mycnf a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    a.skip_includes = b.skip_includes = true;
    bool ok = mycnf_read(&a, path, true);
    CHECK(mycnf_read(&b, path, true) == ok);
    check_setting(&a.basedir);
    check_setting(&a.plugin_dir);
    check_setting(&a.datadir);
    CHECK(memcmp(&a, &b, sizeof a) == 0);
    unlink(path);
    return 0;
}
