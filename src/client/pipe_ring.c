/* SPDX-License-Identifier: GPL-2.0-only */
/* The ring of pipelined requests in flight (pipeline.c) and what the rest
 * of the client does to it: a request handle's slots, the oldest leaving,
 * all abandoned (kmip_client_disconnect, kmip_client_free), all sent again
 * after the connection was closed (kmip_client_reload_credentials). */
#include "client_internal.h"

_Static_assert(KMIP_CLIENT_MAX_IN_FLIGHT == KT_MAX_IN_FLIGHT,
               "the transport keeps as many answers as may be in flight");

kc_armed *kc_pipe_slot(kmip_client *c, size_t i)
{
    return &c->pipe[(c->pipe_head + i) % KMIP_CLIENT_MAX_IN_FLIGHT];
}

int64_t *kc_pipe_sent_at(kmip_client *c, size_t i)
{
    return &c->pipe_sent_us[(c->pipe_head + i) % KMIP_CLIENT_MAX_IN_FLIGHT];
}

/* The oldest request leaves the ring (its bytes wiped); it returns it. */
const kmip_message *kc_pipe_pop(kmip_client *c)
{
    kc_armed *a = kc_pipe_slot(c, 0);
    const kmip_message *req = a->req;
    kc_armed_drop(a);
    c->pipe_head = (c->pipe_head + 1) % KMIP_CLIENT_MAX_IN_FLIGHT;
    c->pipe_count--;
    if (c->pipe_count == 0)
        c->pipe_head = 0;
    return req;
}

void kc_pipe_clear(kmip_client *c)
{
    while (c->pipe_count > 0)
        kc_pipe_pop(c);
    c->pipe_failed_n = 0;
    kmip_secure_zero(&c->pipe_failed, sizeof c->pipe_failed);
}

void kc_pipe_unsend(kmip_client *c)
{
    for (size_t i = 0; i < c->pipe_count; i++) {
        kc_armed *a = kc_pipe_slot(c, i);
        if (a->ev == KC_EV_RECV) {
            a->ev = KC_EV_SEND;
            a->sent = false;
        }
    }
}

size_t kmip_client_in_flight(const kmip_client *c)
{
    return c->pipe_count;
}

