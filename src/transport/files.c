/* SPDX-License-Identifier: GPL-2.0-only */
/* Reading a certificate, key, pass phrase or configuration file: opened
 * once, without blocking (a FIFO or a device never hangs the caller), and
 * checked through the open descriptor (fstat) before a byte is read, so
 * what was checked is what is read. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kmip/kmip_common.h"
#include "kmip/kmip_ttlv.h"

static const char *kind_of(mode_t m)
{
    if (S_ISDIR(m))
        return "a directory";
    if (S_ISFIFO(m))
        return "a FIFO";
    if (S_ISCHR(m))
        return "a character device";
    if (S_ISBLK(m))
        return "a block device";
    if (S_ISSOCK(m))
        return "a socket";
    return "not a regular file";
}

kmip_client_err kmip_file_read(const char *path, size_t max, kmip_file *f, char *msg, size_t cap)
{
    memset(f, 0, sizeof *f);
    if (msg && cap)
        msg[0] = '\0';
    if (path == NULL || path[0] == '\0') {
        if (msg)
            snprintf(msg, cap, "no file name given");
        return KMIP_CLIENT_E_ARG;
    }
    /* O_NONBLOCK: opening a FIFO for reading would wait for a writer */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        f->error = errno;
        if (msg)
            snprintf(msg, cap, "%s cannot be opened: %s", path, strerror(errno));
        return KMIP_CLIENT_E_CONFIG;
    }
    struct stat st;
    kmip_client_err e = KMIP_CLIENT_OK;
    if (fstat(fd, &st) != 0) {
        f->error = errno;
        if (msg)
            snprintf(msg, cap, "%s cannot be examined: %s", path, strerror(errno));
        e = KMIP_CLIENT_E_CONFIG;
    } else if (!S_ISREG(st.st_mode)) {
        if (msg)
            snprintf(msg, cap, "%s is %s, not a regular file", path, kind_of(st.st_mode));
        e = KMIP_CLIENT_E_CONFIG;
    } else if ((uint64_t)st.st_size > max) {
        if (msg)
            snprintf(msg, cap, "%s is larger than the limit of %zu bytes", path, max);
        e = KMIP_CLIENT_E_CONFIG;
    }
    size_t size = e == KMIP_CLIENT_OK ? (size_t)st.st_size : 0;
    uint8_t *data = e == KMIP_CLIENT_OK ? malloc(size + 1) : NULL;
    if (e == KMIP_CLIENT_OK && data == NULL) {
        if (msg)
            snprintf(msg, cap, "out of memory reading %s", path);
        e = KMIP_CLIENT_E_NOMEM;
    }
    size_t used = 0;
    while (e == KMIP_CLIENT_OK && used < size) {
        ssize_t r = read(fd, data + used, size - used);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            if (msg)
                snprintf(msg, cap, "%s cannot be read: %s", path, strerror(errno));
            e = KMIP_CLIENT_E_CONFIG;
        } else if (r == 0) {
            break; /* the file shrank: take what is there */
        } else {
            used += (size_t)r;
        }
    }
    close(fd);
    if (e != KMIP_CLIENT_OK) {
        kmip_secure_free(data, size + 1);
        return e;
    }
    data[used] = '\0';
    f->data = data;
    f->len = used;
    f->cap = size + 1;
    f->mode = (unsigned)st.st_mode;
    f->owner = (unsigned)st.st_uid;
    return KMIP_CLIENT_OK;
}

void kmip_file_free(kmip_file *f)
{
    if (f == NULL)
        return;
    kmip_secure_free(f->data, f->cap);
    memset(f, 0, sizeof *f);
}
