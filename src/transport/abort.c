/* SPDX-License-Identifier: GPL-2.0-only */
/* The abort switch of a client's connections. Throwing it wakes every wait
 * at once without signals or polling loops: an eventfd that every poll of
 * the transport watches besides its socket becomes readable, and the open
 * sockets are shut down (for the one wait that is a blocking read bounded
 * by SO_RCVTIMEO, not a poll: kt_recv). The flag makes it permanent and
 * lets a call check it without a system call. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "abort.h"

struct kt_abort {
    pthread_mutex_t lock; /* the list, and the shutdowns against a close */
    int efd;
    int fired;            /* atomic: set once, never cleared */
    kt_abort_link *open;  /* the sockets of open connections */
};

kt_abort *kt_abort_new(void)
{
    kt_abort *a = calloc(1, sizeof *a);
    if (a == NULL)
        return NULL;
    a->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (a->efd < 0 || pthread_mutex_init(&a->lock, NULL) != 0) {
        if (a->efd >= 0)
            close(a->efd);
        free(a);
        return NULL;
    }
    return a;
}

void kt_abort_free(kt_abort *a)
{
    if (a == NULL)
        return;
    pthread_mutex_destroy(&a->lock);
    close(a->efd);
    free(a);
}

void kt_abort_fire(kt_abort *a)
{
    if (a == NULL)
        return;
    pthread_mutex_lock(&a->lock);
    if (!__atomic_load_n(&a->fired, __ATOMIC_ACQUIRE)) {
        __atomic_store_n(&a->fired, 1, __ATOMIC_RELEASE);
        uint64_t one = 1;
        /* a fresh eventfd's counter cannot overflow with one write: it
         * never fails but for a bad descriptor, and then the shutdowns
         * below still end the waits on a connection */
        ssize_t w;
        do {
            w = write(a->efd, &one, sizeof one);
        } while (w < 0 && errno == EINTR);
    }
    for (kt_abort_link *l = a->open; l != NULL; l = l->next)
        shutdown(l->fd, SHUT_RDWR); /* each socket stays open: its owner closes it */
    pthread_mutex_unlock(&a->lock);
}

bool kt_abort_fired(const kt_abort *a)
{
    return a != NULL && __atomic_load_n(&a->fired, __ATOMIC_ACQUIRE);
}

int kt_abort_fd(const kt_abort *a)
{
    return a ? a->efd : -1;
}

void kt_abort_attach(kt_abort *a, kt_abort_link *l, int fd)
{
    l->fd = fd;
    l->next = l->prev = NULL;
    if (a == NULL)
        return;
    pthread_mutex_lock(&a->lock);
    l->next = a->open;
    if (a->open)
        a->open->prev = l;
    a->open = l;
    if (__atomic_load_n(&a->fired, __ATOMIC_ACQUIRE))
        shutdown(fd, SHUT_RDWR);
    pthread_mutex_unlock(&a->lock);
}

void kt_abort_detach(kt_abort *a, kt_abort_link *l)
{
    if (a == NULL)
        return;
    pthread_mutex_lock(&a->lock);
    if (l->prev)
        l->prev->next = l->next;
    else if (a->open == l)
        a->open = l->next;
    if (l->next)
        l->next->prev = l->prev;
    l->next = l->prev = NULL;
    pthread_mutex_unlock(&a->lock);
}
