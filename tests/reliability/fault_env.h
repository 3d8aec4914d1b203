/* SPDX-License-Identifier: GPL-2.0-only */
/* Test tooling for the fault matrix: starts our KMIP test server (with a
 * state file, so it can be killed and started again with its objects) and
 * the fault proxy in front of it, and talks to their control ports. */
#ifndef FAULT_ENV_H
#define FAULT_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct fenv {
    char dir[1024]; /* scratch directory for state, port files and logs */
    char ca[1100], cert[1100], key[1100], server_cert[1100], server_key[1100];
    char server_bin[1024], proxy_bin[1024];
    pid_t server_pid, proxy_pid;
    unsigned server_port, server_ctl, proxy_port, proxy_ctl;
    unsigned other_ca_port, wrong_name_port, expired_port; /* TLS decoys of the fixture */
    bool stateless; /* set before starting: no --state file (benchmarks) */
    char max_version[8]; /* set before starting: "MAJOR.MINOR", the server speaks no later */
} fenv;

/* Reads the PyKMIP fixture's env file (certificates, decoy ports) and
 * prepares dir (FIXTURE/name). */
bool fenv_init(fenv *e, const char *fixture, const char *name, const char *server_bin,
               const char *proxy_bin);
/* Starts the test server (on its previous port after the first start). */
bool fenv_server_start(fenv *e);
void fenv_server_kill(fenv *e);
/* Waits up to ms for the server to exit by itself (a crash fault). */
bool fenv_server_wait_exit(fenv *e, int ms);
bool fenv_proxy_start(fenv *e);
void fenv_stop(fenv *e);

/* One command on a control port; the answer line in out. */
bool fenv_ctl(unsigned port, const char *cmd, char *out, size_t cap);
/* Disarms every fault of the server and the proxy. */
bool fenv_clear(fenv *e);
/* Before arming a fault: everything cleared, and every connection still
 * open through the proxy reset, so that bytes a finished case left queued
 * (a stall) cannot take the next case's one-shot cut. */
bool fenv_quiesce(fenv *e);
/* The server's object count ("stats"), -1 on error. */
long fenv_server_objects(fenv *e);

/* Writes a keyring configuration (component_keyring_kmip.cnf) to path:
 * 127.0.0.1:port, object group, the fixture's CA, and cert/key (NULL: the
 * fixture's client certificate); timeout_ms 0 keeps the default. */
bool fenv_write_keyring_config(const fenv *e, const char *path, unsigned port, const char *group,
                               unsigned timeout_ms, const char *cert, const char *key);
/* The same with more members: more is JSON text put inside the object
 * ("\"kmip_connect_timeout_ms\": 20000"), NULL for none. */
bool fenv_write_keyring_config_with(const fenv *e, const char *path, unsigned port,
                                    const char *group, unsigned timeout_ms, const char *cert,
                                    const char *key, const char *more);

long long fenv_now_ms(void);

/* The PyKMIP fixture's port (PORT= in FIXTURE_DIR/env), 0 when missing. */
unsigned fenv_fixture_port(const char *fixture);
/* Copies a file (a server's state, a certificate) and makes the copy 0600;
 * false on any error. */
bool fenv_copy_file(const char *from, const char *to);

/* A fault-matrix program's arguments FIXTURE_DIR TEST_SERVER FAULT_PROXY;
 * false (usage printed) when they are not three. */
bool fenv_args(int argc, char **argv, const char **fixture, const char **server_bin,
               const char **proxy_bin);

#endif
