#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Test (CTest cluster_failover): a cluster of three PyKMIP servers sharing
one SQLite database, each on its own port with its own certificate, the
first behind the fault proxy. keyring-kmip (one process per command, as an
operator runs it) with the three servers in "server_addr":

1. opens with the first server stopped;
2. stores, reads and lists while servers are killed and restarted one at a
   time in a bounded loop, one stalled now and then (SIGSTOP, or a proxy
   stall for the first): every store must be acknowledged;
3. a store whose Register answer is lost (the proxy cuts it) is settled
   against the next server: acknowledged, exactly one object, Active;
4. every acknowledged key reads back, byte for byte, from every server
   alone, and PyKMIP's own client sees no duplicate and no Pre-Active;
5. with every server down (stalled: each costs its whole connect timeout)
   the open fails within servers x connect timeout + 1 s, naming each server
   and its error.

Usage: test_cluster.py KEYRING_KMIP CLUSTER_WRITE FAULT_PROXY HARNESS_DIR"""
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time

cli, cluster_write, proxy_bin, harness_dir = sys.argv[1:5]
sys.path.insert(0, harness_dir)
import pykmip_harness as H  # noqa: E402
from cryptography.x509.oid import ExtendedKeyUsageOID  # noqa: E402

# (server, fault) per round: each server killed once, the second and third
# stopped (SIGSTOP), the first stalled by the proxy
ROUNDS = [(0, "kill"), (1, "kill"), (2, "stop"), (0, "stall"), (1, "stop"), (2, "kill")]
CONNECT_MS = 1000
failures = []


def fail(what):
    failures.append(what)
    print("FAIL:", what, flush=True)


def run(args, timeout=60, stdout_only=False):
    """(status, output, seconds); output is stdout then stderr (the
    failover warnings), or stdout alone."""
    t0 = time.monotonic()
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=subprocess.DEVNULL, timeout=timeout)
    out = p.stdout.decode(errors="replace")
    if not stdout_only:
        out += p.stderr.decode(errors="replace")
    return p.returncode, out, time.monotonic() - t0


class Server:
    def __init__(self, d, i, db):
        self.dir = os.path.join(d, "s%d" % i)
        os.makedirs(os.path.join(self.dir, "policies"), exist_ok=True)
        self.port = H.free_port()
        self.conf = os.path.join(self.dir, "server.conf")
        with open(self.conf, "w") as f:
            f.write("[server]\nhostname=127.0.0.1\nport=%d\n" % self.port)
            f.write("certificate_path=%s/server%d.crt\nkey_path=%s/server%d.key\n" % (d, i, d, i))
            f.write("ca_path=%s/ca.crt\nauth_suite=TLS1.2\n" % d)
            f.write("policy_path=%s/policies\nenable_tls_client_auth=True\n" % self.dir)
            f.write("logging_level=INFO\ndatabase_path=%s\n" % db)
        self.proc = None

    def start(self):
        log = open(os.path.join(self.dir, "pykmip.out"), "ab")
        self.proc = subprocess.Popen(
            [H.PYTHON, "-c", "from kmip.services.server.server import main; main()",
             "-f", self.conf, "-l", os.path.join(self.dir, "server.log")],
            stdout=log, stderr=log, start_new_session=True)
        H.wait_port(self.port, self.proc, "PyKMIP server on %d" % self.port)

    def kill(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGCONT)
            H.stop_proc(self.proc)
        self.proc = None

    def signal(self, sig):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)


def main():
    d = tempfile.mkdtemp(prefix="krk-cluster-")
    servers, proxy = [], None
    try:
        ca = H._ca(d, "ca", "keyring_kmip cluster CA")
        H._leaf(d, "client", ca, "keyring_client", eku=ExtendedKeyUsageOID.CLIENT_AUTH)
        for i in range(3):
            H._leaf(d, "server%d" % i, ca, "localhost", dns=["localhost"], ips=["127.0.0.1"])
        db = os.path.join(d, "cluster.db")
        servers = [Server(d, i, db) for i in range(3)]
        for s in servers:  # one after the other: the first creates the tables
            s.start()
        pf, cf = os.path.join(d, "proxy.port"), os.path.join(d, "proxy.ctl")
        proxy = subprocess.Popen([proxy_bin, "--target", str(servers[0].port), "--port-file", pf,
                                  "--control-port-file", cf, "--lifetime", "600"],
                                 start_new_session=True)
        for _ in range(100):
            if all(os.path.exists(f) and os.path.getsize(f) for f in (cf, pf)):
                break
            time.sleep(0.05)
        pport, pctl = int(open(pf).read()), int(open(cf).read())
        names = ["127.0.0.1:%d" % pport] + ["127.0.0.1:%d" % s.port for s in servers[1:]]
        group = "cluster-%d" % os.getpid()

        def config(path, addrs):
            with open(path, "w") as f:
                json.dump({"server_addr": addrs, "server_port": 5696,
                           "client_ca": d + "/client.crt", "client_key": d + "/client.key",
                           "server_ca": d + "/ca.crt", "object_group": group,
                           "kmip_timeout_ms": 4000, "kmip_connect_timeout_ms": CONNECT_MS}, f)
            os.chmod(path, 0o600)
            return path

        cfg = config(os.path.join(d, "cluster.cnf"), names)
        alone = [config(os.path.join(d, "alone%d.cnf" % i),
                        "127.0.0.1:%d" % s.port) for i, s in enumerate(servers)]
        acked = {}

        def store(kid):
            hexkey = secrets.token_hex(32)
            rc, out, _ = run([cli, "store", kid, "--type", "AES", "--hex", hexkey,
                              "--config", cfg])
            if rc == 0:
                acked[kid] = hexkey
            else:
                fail("store %s: status %d: %s" % (kid, rc, out))
            return rc == 0

        def get_and_list(kid):
            if kid in acked:
                rc, out, _ = run([cli, "get", kid, "--hex", "--config", cfg], stdout_only=True)
                if rc != 0 or out.strip() != acked[kid]:
                    fail("get %s: status %d: %s" % (kid, rc, out))
            rc, out, _ = run([cli, "list", "--config", cfg], stdout_only=True)
            listed = {line.split("\t")[0] for line in out.splitlines()}
            if rc != 0 or not set(acked) <= listed:
                fail("list: status %d, missing %s: %s" % (rc, set(acked) - listed, out))

        # 1. the first server stopped at open
        servers[0].kill()
        store("first-down")
        get_and_list("first-down")
        servers[0].start()
        # 2. kills, restarts and stalls, one server at a time
        for r, (victim, fault) in enumerate(ROUNDS):
            if fault == "stall":
                run_ctl(pctl, "stall 20")
            elif fault == "stop":
                servers[victim].signal(signal.SIGSTOP)
            else:
                servers[victim].kill()
            kid = "round%d" % r
            store(kid)
            get_and_list(kid)
            if fault == "stall":
                run_ctl(pctl, "clear")
                run_ctl(pctl, "reset")
            elif fault == "stop":
                servers[victim].signal(signal.SIGCONT)
            else:
                servers[victim].start()
            print("round %d (server %d: %s): %d keys acknowledged" %
                  (r, victim, fault, len(acked)), flush=True)
        # 3. a store whose answer is lost on the first server
        run_ctl(pctl, "clear")
        hexkey = secrets.token_hex(32)
        rc, out, _ = run([cluster_write, cfg, str(pctl), "interrupted", hexkey])
        print(out, end="")
        if rc != 0:
            fail("interrupted store not settled: %s" % out)
        else:
            acked["interrupted"] = hexkey
        # 4. every acknowledged key from every server alone
        for i, a in enumerate(alone):
            for kid, hexkey in acked.items():
                rc, out, _ = run([cli, "get", kid, "--hex", "--config", a], stdout_only=True)
                if rc != 0 or out.strip() != hexkey:
                    fail("server %d: get %s: status %d: %s" % (i, kid, rc, out))
        with open(os.path.join(d, "env"), "w") as f:
            f.write("PORT=%d\nCA=%s/ca.crt\nCLIENT_CERT=%s/client.crt\nCLIENT_KEY=%s/client.key\n"
                    % (servers[2].port, d, d, d))
        rc, out, _ = run([H.PYTHON, os.path.join(harness_dir, "..", "mariadb",
                                                 "kmip_inventory.py"), d, group])
        rows = [line.split("\t") for line in out.splitlines() if line.count("\t") == 3]
        if rc != 0:
            fail("inventory: %s" % out)
        names_seen = [row[1] for row in rows]
        if len(rows) != len(acked) or len(set(names_seen)) != len(rows):
            fail("the server holds %d objects (%d names) for %d acknowledged keys:\n%s" %
                 (len(rows), len(set(names_seen)), len(acked), out))
        if any(row[2] != "ACTIVE" and "Active" not in row[2] for row in rows):
            fail("an object is not Active:\n%s" % out)
        # status shows the servers' health
        rc, out, _ = run([cli, "status", "--json", "--config", cfg])
        if rc != 0 or '"servers"' not in out:
            fail("status --json: %d: %s" % (rc, out))
        # 5. every server down: stalled, so each costs its connect timeout
        run_ctl(pctl, "stall 30")
        for s in servers[1:]:
            s.signal(signal.SIGSTOP)
        rc, out, took = run([cli, "list", "--config", cfg])
        bound = 3 * CONNECT_MS / 1000 + 1
        print("all down: status %d after %.2f s (bound %.1f s): %s" % (rc, took, bound, out))
        if rc == 0 or took > bound:
            fail("all servers down: status %d after %.2f s (bound %.1f s)" % (rc, took, bound))
        for n in names:
            if n not in out:
                fail("the error does not name %s: %s" % (n, out))
        for s in servers[1:]:
            s.signal(signal.SIGCONT)
        # and killed (refused at once)
        for s in servers:
            s.kill()
        rc, out, took = run([cli, "list", "--config", cfg])
        if rc == 0 or took > bound or any(n not in out for n in names):
            fail("all servers killed: status %d after %.2f s: %s" % (rc, took, out))
    finally:
        for s in servers:
            s.kill()
        if proxy:
            H.stop_proc(proxy)
        shutil.rmtree(d, ignore_errors=True)
    print("%d failures" % len(failures))
    return 1 if failures else 0


def run_ctl(port, cmd):
    import socket
    with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
        c.sendall((cmd + "\n").encode())
        return c.recv(200).decode()


if __name__ == "__main__":
    sys.exit(main())
