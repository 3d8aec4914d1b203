/* SPDX-License-Identifier: GPL-2.0-only */
/* Test tooling: processes and control ports of the fault matrix. */
#include "fault_env.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

long long fenv_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool fenv_args(int argc, char **argv, const char **fixture, const char **server_bin,
               const char **proxy_bin)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s FIXTURE_DIR TEST_SERVER FAULT_PROXY\n", argv[0]);
        return false;
    }
    *fixture = argv[1];
    *server_bin = argv[2];
    *proxy_bin = argv[3];
    return true;
}

static void env_value(const char *line, const char *key, char *out, size_t cap)
{
    size_t n = strlen(key);
    if (strncmp(line, key, n) == 0 && line[n] == '=')
        snprintf(out, cap, "%s", line + n + 1);
}

bool fenv_init(fenv *e, const char *fixture, const char *name, const char *server_bin,
               const char *proxy_bin)
{
    memset(e, 0, sizeof *e);
    char path[1100], line[2048], other[16] = "", wrong[16] = "", expired[16] = "";
    snprintf(path, sizeof path, "%s/env", fixture);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return false;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        env_value(line, "CA", e->ca, sizeof e->ca);
        env_value(line, "CLIENT_CERT", e->cert, sizeof e->cert);
        env_value(line, "CLIENT_KEY", e->key, sizeof e->key);
        env_value(line, "OTHER_CA_PORT", other, sizeof other);
        env_value(line, "WRONG_NAME_PORT", wrong, sizeof wrong);
        env_value(line, "EXPIRED_PORT", expired, sizeof expired);
    }
    fclose(f);
    e->other_ca_port = (unsigned)atoi(other);
    e->wrong_name_port = (unsigned)atoi(wrong);
    e->expired_port = (unsigned)atoi(expired);
    snprintf(e->server_cert, sizeof e->server_cert, "%s/server.crt", fixture);
    snprintf(e->server_key, sizeof e->server_key, "%s/server.key", fixture);
    snprintf(e->dir, sizeof e->dir, "%s/%s", fixture, name);
    snprintf(e->server_bin, sizeof e->server_bin, "%s", server_bin);
    snprintf(e->proxy_bin, sizeof e->proxy_bin, "%s", proxy_bin);
    mkdir(e->dir, 0700);
    snprintf(path, sizeof path, "%s/state", e->dir);
    unlink(path);
    return e->ca[0] && e->cert[0] && e->key[0];
}

static pid_t spawn(char *const argv[], const char *log)
{
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        setsid();
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

/* Waits for a port file the child writes once it listens. */
static unsigned wait_port_file(const char *path, pid_t pid)
{
    for (int i = 0; i < 200; i++) {
        FILE *f = fopen(path, "r");
        unsigned port = 0;
        if (f) {
            if (fscanf(f, "%u", &port) != 1)
                port = 0;
            fclose(f);
        }
        if (port)
            return port;
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return 0;
        usleep(50000);
    }
    return 0;
}

bool fenv_server_start(fenv *e)
{
    char port_file[1100], ctl_file[1100], state[1100], log[1100], port[16];
    snprintf(port_file, sizeof port_file, "%s/server.port", e->dir);
    snprintf(ctl_file, sizeof ctl_file, "%s/server.ctl", e->dir);
    snprintf(state, sizeof state, "%s/state", e->dir);
    snprintf(log, sizeof log, "%s/server.log", e->dir);
    snprintf(port, sizeof port, "%u", e->server_port);
    unlink(port_file);
    unlink(ctl_file);
    char *argv[20] = {e->server_bin, "--cert", e->server_cert, "--key", e->server_key, "--ca",
                      e->ca, "--port", port, "--port-file", port_file, "--control-port-file",
                      ctl_file};
    size_t n = 13;
    if (!e->stateless) {
        argv[n++] = "--state";
        argv[n++] = state;
    }
    if (e->max_version[0]) {
        argv[n++] = "--max-version";
        argv[n++] = e->max_version;
    }
    argv[n] = NULL;
    for (int attempt = 0; attempt < 50; attempt++) { /* the old port may be in TIME_WAIT */
        e->server_pid = spawn(argv, log);
        unsigned p = wait_port_file(port_file, e->server_pid);
        if (p) {
            e->server_port = p;
            e->server_ctl = wait_port_file(ctl_file, e->server_pid);
            return e->server_ctl != 0;
        }
        waitpid(e->server_pid, NULL, 0);
        usleep(100000);
    }
    return false;
}

void fenv_server_kill(fenv *e)
{
    if (e->server_pid > 0) {
        kill(e->server_pid, SIGKILL);
        waitpid(e->server_pid, NULL, 0);
    }
    e->server_pid = 0;
}

bool fenv_server_wait_exit(fenv *e, int ms)
{
    for (int waited = 0; waited <= ms; waited += 20) {
        if (waitpid(e->server_pid, NULL, WNOHANG) == e->server_pid) {
            e->server_pid = 0;
            return true;
        }
        usleep(20000);
    }
    return false;
}

bool fenv_proxy_start(fenv *e)
{
    char port_file[1100], ctl_file[1100], log[1100], target[16];
    snprintf(port_file, sizeof port_file, "%s/proxy.port", e->dir);
    snprintf(ctl_file, sizeof ctl_file, "%s/proxy.ctl", e->dir);
    snprintf(log, sizeof log, "%s/proxy.log", e->dir);
    snprintf(target, sizeof target, "%u", e->server_port);
    unlink(port_file);
    unlink(ctl_file);
    char *argv[] = {e->proxy_bin, "--target", target, "--port-file", port_file,
                    "--control-port-file", ctl_file, "--lifetime", "1800", NULL};
    e->proxy_pid = spawn(argv, log);
    e->proxy_ctl = wait_port_file(ctl_file, e->proxy_pid);
    e->proxy_port = wait_port_file(port_file, e->proxy_pid);
    return e->proxy_port && e->proxy_ctl;
}

void fenv_stop(fenv *e)
{
    fenv_server_kill(e);
    if (e->proxy_pid > 0) {
        kill(e->proxy_pid, SIGKILL);
        waitpid(e->proxy_pid, NULL, 0);
    }
    e->proxy_pid = 0;
}

/* A TCP connection to 127.0.0.1:port, or -1. */
static int connect_loopback(unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0)
        return fd;
    if (fd >= 0)
        close(fd);
    return -1;
}

bool fenv_ctl(unsigned port, const char *cmd, char *out, size_t cap)
{
    int fd = connect_loopback(port);
    bool ok = fd >= 0;
    char line[512];
    int n = snprintf(line, sizeof line, "%s\n", cmd);
    ok = ok && send(fd, line, (size_t)n, MSG_NOSIGNAL) == n; /* a dead server must not kill the test */
    size_t used = 0;
    while (ok && used < cap - 1) {
        ssize_t r = read(fd, out + used, 1);
        if (r <= 0 || out[used] == '\n')
            break;
        used++;
    }
    out[used] = '\0';
    if (fd >= 0)
        close(fd);
    return ok && strncmp(out, "error", 5) != 0;
}

static bool accepting(unsigned port)
{
    int fd = connect_loopback(port);
    if (fd >= 0)
        close(fd);
    return fd >= 0;
}

bool fenv_clear(fenv *e)
{
    char out[128];
    bool ok = true;
    if (e->server_pid > 0)
        ok = fenv_ctl(e->server_ctl, "clear", out, sizeof out);
    if (e->proxy_pid > 0) {
        ok = fenv_ctl(e->proxy_ctl, "clear", out, sizeof out) && ok;
        /* after "refuse" the proxy listens again within its 20 ms poll */
        bool up = false;
        for (int i = 0; i < 100 && !(up = accepting(e->proxy_port)); i++)
            usleep(10000);
        ok = ok && up;
    }
    return ok;
}

bool fenv_quiesce(fenv *e)
{
    char out[128];
    if (!fenv_clear(e))
        return false;
    if (e->proxy_pid > 0 && !fenv_ctl(e->proxy_ctl, "reset", out, sizeof out))
        return false;
    usleep(60000); /* the relays notice the reset within their 50 ms poll */
    return true;
}

long fenv_server_objects(fenv *e)
{
    char out[128];
    if (!fenv_ctl(e->server_ctl, "stats", out, sizeof out))
        return -1;
    const char *p = strstr(out, "objects=");
    return p ? atol(p + 8) : -1;
}

bool fenv_write_keyring_config(const fenv *e, const char *path, unsigned port, const char *group,
                               unsigned timeout_ms, const char *cert, const char *key)
{
    return fenv_write_keyring_config_with(e, path, port, group, timeout_ms, cert, key, NULL);
}

bool fenv_write_keyring_config_with(const fenv *e, const char *path, unsigned port,
                                    const char *group, unsigned timeout_ms, const char *cert,
                                    const char *key, const char *more)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return false;
    fprintf(f, "{\"server_addr\": \"127.0.0.1\", \"server_port\": %u, \"client_ca\": \"%s\", "
               "\"client_key\": \"%s\", \"server_ca\": \"%s\", \"object_group\": \"%s\"",
            port, cert ? cert : e->cert, key ? key : e->key, e->ca, group);
    if (timeout_ms)
        fprintf(f, ", \"kmip_timeout_ms\": %u", timeout_ms);
    if (more)
        fprintf(f, ", %s", more);
    return fputs("}\n", f) >= 0 && fclose(f) == 0;
}

unsigned fenv_fixture_port(const char *fixture)
{
    char path[1100], line[2048];
    snprintf(path, sizeof path, "%s/env", fixture);
    FILE *f = fopen(path, "r");
    unsigned p = 0;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "PORT=", 5) == 0)
            p = (unsigned)atoi(line + 5);
    if (f)
        fclose(f);
    return p;
}

bool fenv_copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    bool ok = in != NULL && out != NULL;
    char buf[8192];
    size_t n;
    while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0)
        ok = fwrite(buf, 1, n, out) == n;
    ok = ok && !ferror(in);
    if (in)
        fclose(in);
    if (out && fclose(out) != 0)
        ok = false;
    return ok && chmod(to, 0600) == 0;
}
