/* SPDX-License-Identifier: GPL-2.0-only */
/* kmip_fault_proxy: TEST TOOLING, NOT A PRODUCT. A TCP proxy on 127.0.0.1
 * between a KMIP client and server; TLS passes through untouched. Tests
 * script network faults over a plain-text control port (one command per
 * line, one answer line):
 *
 *   latency UP_US DOWN_US   delay every chunk client->server (up) and
 *                           server->client (down) by that many microseconds
 *                           (to the microsecond: ppoll, 1 ns timer slack)
 *   cut up|down N           cut the first connection (open or new) through
 *                           which N more bytes went that way: both sides are
 *                           closed once those N bytes are through; one shot
 *   stall SECONDS           forward nothing for that long (at most 60 s)
 *   refuse                  close the listening socket: connects are refused
 *   serve N                 relay only N of the connections opened from now on;
 *                           later ones are accepted and held: nothing is read
 *                           or forwarded, nothing is closed, until `clear`
 *                           (then they are relayed) or their client closes
 *   reset                   reset (RST) every open connection now
 *   clear                   back to a plain proxy (listening again)
 *   stats                   "connections=C up=BYTES down=BYTES held=H"
 *                           (H: connections held by `serve` now)
 *
 * Usage: kmip_fault_proxy --target PORT --port-file FILE
 *                         --control-port-file FILE [--port N] [--lifetime S]
 * It exits by itself after --lifetime seconds (default 900). */
#define _GNU_SOURCE /* ppoll */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define QUEUE_LIMIT (1u << 20) /* stop reading a side with this much queued */

enum { UP, DOWN };

static struct {
    pthread_mutex_t lock;
    int64_t latency_us[2];
    bool cut_armed[2];
    uint64_t cut_after[2];
    unsigned cut_generation;
    int64_t stall_until_us;
    bool refuse, listening;
    unsigned reset_generation;
    uint64_t connections, bytes[2];
    bool serve_limited;   /* serve N given */
    uint64_t serve_left;  /* connections it still relays */
    uint64_t held;        /* connections it holds now */
} g = {.lock = PTHREAD_MUTEX_INITIALIZER};

static unsigned target_port;

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- one connection ---- */

typedef struct chunk {
    struct chunk *next;
    int64_t due_us;
    size_t len, off;
    uint8_t data[];
} chunk;

typedef struct direction {
    int from, to;
    chunk *head, *tail;
    size_t queued;
    uint64_t forwarded, cut_base;
    bool eof, shut;
} direction;

typedef struct settings {
    int64_t latency_us[2];
    bool cut_armed[2];
    uint64_t cut_after[2];
    unsigned cut_generation, reset_generation;
    int64_t stall_until_us;
} settings;

static settings snapshot(void)
{
    pthread_mutex_lock(&g.lock);
    settings s = {{g.latency_us[0], g.latency_us[1]}, {g.cut_armed[0], g.cut_armed[1]},
                  {g.cut_after[0], g.cut_after[1]}, g.cut_generation, g.reset_generation,
                  g.stall_until_us};
    pthread_mutex_unlock(&g.lock);
    return s;
}

static void count_bytes(int dir, size_t n)
{
    pthread_mutex_lock(&g.lock);
    g.bytes[dir] += n;
    pthread_mutex_unlock(&g.lock);
}

/* The connection that reaches the cut first takes it (one shot). */
static bool take_cut(int dir)
{
    pthread_mutex_lock(&g.lock);
    bool mine = g.cut_armed[dir];
    g.cut_armed[dir] = false;
    pthread_mutex_unlock(&g.lock);
    return mine;
}

static void reset_fd(int fd)
{
    struct linger l = {1, 0}; /* close with RST */
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
}

static void drain_queue(direction *d)
{
    while (d->head) {
        chunk *c = d->head;
        d->head = c->next;
        free(c);
    }
}

/* Reads what is there; false on error. */
static bool pull(direction *d, int64_t latency_us)
{
    uint8_t buf[16384];
    ssize_t r = read(d->from, buf, sizeof buf);
    if (r == 0) {
        d->eof = true;
        return true;
    }
    if (r < 0)
        return errno == EAGAIN || errno == EINTR;
    chunk *c = malloc(sizeof *c + (size_t)r);
    if (c == NULL)
        return false;
    c->next = NULL;
    c->due_us = now_us() + latency_us;
    c->len = (size_t)r;
    c->off = 0;
    memcpy(c->data, buf, (size_t)r);
    if (d->tail)
        d->tail->next = c;
    else
        d->head = c;
    d->tail = c;
    d->queued += (size_t)r;
    return true;
}

/* Forwards due data; false when the connection must end (error or cut). */
static bool push(direction *d, int dir, const settings *s)
{
    while (d->head && d->head->due_us <= now_us()) {
        chunk *c = d->head;
        size_t n = c->len - c->off;
        if (s->cut_armed[dir]) {
            uint64_t left = d->cut_base + s->cut_after[dir] - d->forwarded;
            if (left == 0 && take_cut(dir))
                return false;
            if (left == 0) /* another connection took the cut */
                return true;
            if (n > left)
                n = (size_t)left;
        }
        ssize_t w = write(d->to, c->data + c->off, n);
        if (w < 0)
            return errno == EAGAIN || errno == EINTR;
        c->off += (size_t)w;
        d->forwarded += (size_t)w;
        d->queued -= (size_t)w;
        count_bytes(dir, (size_t)w);
        if (c->off == c->len) {
            d->head = c->next;
            if (d->head == NULL)
                d->tail = NULL;
            free(c);
        }
    }
    if (d->eof && d->head == NULL && !d->shut) {
        shutdown(d->to, SHUT_WR);
        d->shut = true;
    }
    return true;
}

/* How long poll may sleep, in microseconds: delays are kept to the
 * microsecond (ppoll, and a timer slack of 1 ns set in main), so that a
 * 500 us latency is 500 us and not a rounded-up millisecond. */
static int64_t wait_us(const direction d[2], const settings *s, int64_t now)
{
    int64_t wait = 50000;
    if (s->stall_until_us > now && s->stall_until_us - now < wait)
        wait = s->stall_until_us - now;
    for (int i = 0; i < 2; i++)
        if (d[i].head && d[i].head->due_us > now && d[i].head->due_us - now < wait)
            wait = d[i].head->due_us - now;
    return wait;
}

static void relay(int client, int server)
{
    direction d[2] = {{.from = client, .to = server}, {.from = server, .to = client}};
    settings s = snapshot();
    unsigned cut_gen = s.cut_generation, reset_gen = s.reset_generation;
    bool alive = true;
    while (alive && !(d[UP].shut && d[DOWN].shut)) {
        s = snapshot();
        if (s.reset_generation != reset_gen) {
            reset_fd(client);
            reset_fd(server);
            break;
        }
        if (s.cut_generation != cut_gen) { /* count from the moment the cut was armed */
            cut_gen = s.cut_generation;
            d[UP].cut_base = d[UP].forwarded;
            d[DOWN].cut_base = d[DOWN].forwarded;
        }
        int64_t now = now_us();
        bool stalled = s.stall_until_us > now;
        for (int i = 0; alive && i < 2 && !stalled; i++)
            alive = push(&d[i], i, &s);
        if (!alive)
            break;
        struct pollfd p[2] = {{client, 0, 0}, {server, 0, 0}};
        for (int i = 0; i < 2; i++) {
            if (!d[i].eof && d[i].queued < QUEUE_LIMIT)
                p[i].events |= POLLIN;
            if (!stalled && d[i].head && d[i].head->due_us <= now)
                p[1 - i].events |= POLLOUT;
        }
        for (int i = 0; i < 2; i++)
            if (p[i].events == 0)
                p[i].fd = -1; /* a closed side would wake poll for nothing */
        int64_t w = wait_us(d, &s, now);
        struct timespec ts = {(time_t)(w / 1000000), (long)(w % 1000000) * 1000};
        if (ppoll(p, 2, &ts, NULL) < 0 && errno != EINTR)
            break;
        s = snapshot(); /* a command may have come while poll slept */
        for (int i = 0; alive && i < 2; i++)
            if (p[i].revents & (POLLIN | POLLHUP | POLLERR))
                alive = d[i].eof || pull(&d[i], s.latency_us[i]);
    }
    drain_queue(&d[UP]);
    drain_queue(&d[DOWN]);
    close(client);
    close(server);
}

static int connect_target(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)target_port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
        return fd;
    if (fd >= 0)
        close(fd);
    return -1;
}

/* A connection beyond `serve N`: holds it, reading nothing (a held TLS
 * client waits in its handshake), until `clear` or until the client closes.
 * True when it is to be relayed after all. */
static bool hold(int client)
{
    bool relay_it = false;
    for (;;) {
        pthread_mutex_lock(&g.lock);
        relay_it = !g.serve_limited;
        pthread_mutex_unlock(&g.lock);
        if (relay_it)
            break;
        struct pollfd p = {client, POLLRDHUP, 0};
        if (poll(&p, 1, 50) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
            break; /* the client gave up */
    }
    pthread_mutex_lock(&g.lock);
    g.held--;
    pthread_mutex_unlock(&g.lock);
    return relay_it;
}

/* What accept_one decided for a connection (held by `serve N` or not). */
typedef struct accepted {
    int fd;
    bool held;
} accepted;

static void *connection_main(void *arg)
{
    accepted a = *(accepted *)arg;
    free(arg);
    int client = a.fd;
    if (a.held && !hold(client)) {
        close(client);
        return NULL;
    }
    int server = connect_target();
    if (server < 0) { /* the server is down: the client sees a reset */
        reset_fd(client);
        close(client);
        return NULL;
    }
    prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL); /* a new thread has the default 50 us */
    int one = 1;
    setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(client, F_SETFL, O_NONBLOCK);
    fcntl(server, F_SETFL, O_NONBLOCK);
    relay(client, server);
    return NULL;
}

/* ---- control ---- */

static const char *command(char *line)
{
    char word[16] = "", arg1[32] = "";
    long long a = 0, b = 0;
    int n = sscanf(line, "%15s %31s %lld", word, arg1, &b);
    pthread_mutex_lock(&g.lock);
    const char *answer = "ok";
    if (strcmp(word, "latency") == 0 && n == 3) {
        a = atoll(arg1);
        g.latency_us[UP] = a < 0 ? 0 : a;
        g.latency_us[DOWN] = b < 0 ? 0 : b;
    } else if (strcmp(word, "cut") == 0 && n == 3 &&
               (strcmp(arg1, "up") == 0 || strcmp(arg1, "down") == 0)) {
        int dir = strcmp(arg1, "up") == 0 ? UP : DOWN;
        g.cut_armed[dir] = true;
        g.cut_after[dir] = b < 0 ? 0 : (uint64_t)b;
        g.cut_generation++;
    } else if (strcmp(word, "stall") == 0 && n >= 2) {
        a = atoll(arg1);
        g.stall_until_us = now_us() + (a < 0 ? 0 : a > 60 ? 60 : a) * 1000000;
    } else if (strcmp(word, "refuse") == 0) {
        g.refuse = true;
    } else if (strcmp(word, "serve") == 0 && n >= 2 && atoll(arg1) >= 0) {
        g.serve_limited = true;
        g.serve_left = (uint64_t)atoll(arg1);
    } else if (strcmp(word, "reset") == 0) {
        g.reset_generation++;
    } else if (strcmp(word, "clear") == 0) {
        g.latency_us[UP] = g.latency_us[DOWN] = 0;
        g.cut_armed[UP] = g.cut_armed[DOWN] = false;
        g.stall_until_us = 0;
        g.refuse = false;
        g.serve_limited = false;
    } else if (strcmp(word, "stats") != 0) {
        answer = "error unknown command";
    }
    pthread_mutex_unlock(&g.lock);
    /* answer "refuse" only once connects are refused indeed */
    for (int i = 0; strcmp(word, "refuse") == 0 && i < 100; i++) {
        pthread_mutex_lock(&g.lock);
        bool listening = g.listening;
        pthread_mutex_unlock(&g.lock);
        if (!listening)
            break;
        usleep(10000);
    }
    return answer;
}

static void *control_main(void *arg)
{
    int lfd = (int)(intptr_t)arg;
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0)
            continue;
        FILE *in = fdopen(fd, "r+");
        char line[256];
        while (in && fgets(line, sizeof line, in)) {
            const char *a = command(line);
            if (strncmp(line, "stats", 5) == 0) {
                pthread_mutex_lock(&g.lock);
                fprintf(in, "connections=%llu up=%llu down=%llu held=%llu\n",
                        (unsigned long long)g.connections, (unsigned long long)g.bytes[UP],
                        (unsigned long long)g.bytes[DOWN], (unsigned long long)g.held);
                pthread_mutex_unlock(&g.lock);
            } else {
                fprintf(in, "%s\n", a);
            }
            fflush(in);
        }
        if (in)
            fclose(in);
        else
            close(fd);
    }
    return NULL;
}

/* ---- main ---- */

static int listen_on(unsigned port, unsigned *bound)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 128) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *bound = ntohs(a.sin_port);
    return fd;
}

static bool write_port(const char *path, unsigned port)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    return f && fprintf(f, "%u\n", port) > 0 && fclose(f) == 0 && rename(tmp, path) == 0;
}

static void accept_one(int lfd)
{
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0)
        return;
    accepted *a = malloc(sizeof *a);
    if (a == NULL) {
        close(fd);
        return;
    }
    a->fd = fd;
    /* Counted and classified in one step: `stats` never shows a connection
     * accepted but not yet counted as held (a test read held=0 of 1). */
    pthread_mutex_lock(&g.lock);
    g.connections++;
    a->held = g.serve_limited && g.serve_left == 0;
    if (g.serve_limited && g.serve_left > 0)
        g.serve_left--;
    g.held += a->held;
    pthread_mutex_unlock(&g.lock);
    pthread_t t;
    if (pthread_create(&t, NULL, connection_main, a) != 0) {
        if (a->held) {
            pthread_mutex_lock(&g.lock);
            g.held--;
            pthread_mutex_unlock(&g.lock);
        }
        free(a);
        close(fd);
    } else {
        pthread_detach(t);
    }
}

int main(int argc, char **argv)
{
    const char *port_file = NULL, *control_file = NULL;
    unsigned port = 0, lifetime = 900;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--target") == 0)
            target_port = (unsigned)atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--port") == 0)
            port = (unsigned)atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--port-file") == 0)
            port_file = argv[i + 1];
        else if (strcmp(argv[i], "--control-port-file") == 0)
            control_file = argv[i + 1];
        else if (strcmp(argv[i], "--lifetime") == 0)
            lifetime = (unsigned)atoi(argv[i + 1]);
    }
    if (target_port == 0 || port_file == NULL || control_file == NULL) {
        fprintf(stderr, "usage: kmip_fault_proxy --target PORT --port-file F "
                        "--control-port-file F [--port N] [--lifetime S]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL); /* wake-ups to the microsecond */
    unsigned bound = 0, control_port = 0;
    int lfd = listen_on(port, &bound);
    int cfd = listen_on(0, &control_port);
    pthread_t t;
    if (lfd < 0 || cfd < 0 || pthread_create(&t, NULL, control_main, (void *)(intptr_t)cfd) != 0 ||
        !write_port(control_file, control_port) || !write_port(port_file, bound)) {
        perror("kmip_fault_proxy");
        return 1;
    }
    int64_t end = now_us() + (int64_t)lifetime * 1000000;
    while (now_us() < end) {
        pthread_mutex_lock(&g.lock);
        bool refuse = g.refuse;
        pthread_mutex_unlock(&g.lock);
        if (refuse && lfd >= 0) {
            close(lfd);
            lfd = -1;
        } else if (!refuse && lfd < 0) {
            lfd = listen_on(bound, &bound);
        }
        pthread_mutex_lock(&g.lock);
        g.listening = lfd >= 0;
        pthread_mutex_unlock(&g.lock);
        if (lfd < 0) {
            usleep(20000);
            continue;
        }
        struct pollfd p = {lfd, POLLIN, 0};
        if (poll(&p, 1, 20) > 0)
            accept_one(lfd);
    }
    fprintf(stderr, "kmip_fault_proxy: lifetime of %u s over, exiting\n", lifetime);
    return 0;
}
