#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Test (CTest cli_prometheus): `keyring-kmip status --prometheus` is
Prometheus text exposition (format 0.0.4) that a parser accepts, with the
figures of the keyring's servers. The keyring lists two servers: a port
where nothing listens, then the fixture's PyKMIP server, so the output has
one server down and one failover.

Checked twice: by python3-prometheus-client's parser (the reference
implementation's Python port), and by a strict line grammar of our own (a
HELP and a TYPE per family, once, before its samples; metric and label
names; escaped label values; counters named *_total; no series twice;
every value a number).

Usage: test_prometheus.py KEYRING_KMIP FIXTURE_DIR"""
import json
import os
import re
import socket
import subprocess
import sys
import tempfile

from prometheus_client.parser import text_string_to_metric_families

cli, fixture = sys.argv[1:3]
env = dict(l.strip().split("=", 1) for l in open(os.path.join(fixture, "env")) if "=" in l)
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABELS = r'\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")*)?\}'
SAMPLE = re.compile(r"^(%s)(%s)? (-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|NaN|[+-]Inf)$" % (NAME, LABELS))
HELP = re.compile(r"^# HELP (%s) \S.*$" % NAME)
TYPE = re.compile(r"^# TYPE (%s) (counter|gauge|histogram|summary|untyped)$" % NAME)


def strict(text):
    """Our own grammar check; returns {series: value}."""
    helped, typed, seen, types = set(), set(), {}, {}
    check(text.endswith("\n"), "the output does not end with a line feed")
    for n, line in enumerate(text.split("\n")[:-1], 1):
        m = HELP.match(line)
        if m:
            check(m.group(1) not in helped, "line %d: second HELP for %s" % (n, m.group(1)))
            helped.add(m.group(1))
            continue
        m = TYPE.match(line)
        if m:
            name = m.group(1)
            check(name not in typed, "line %d: second TYPE for %s" % (n, name))
            check(name in helped, "line %d: TYPE before HELP for %s" % (n, name))
            check(not any(s.split("{")[0] == name for s in seen),
                  "line %d: TYPE after samples of %s" % (n, name))
            typed.add(name)
            types[name] = m.group(2)
            if m.group(2) == "counter":
                check(name.endswith("_total"), "line %d: counter %s not named *_total" % (n, name))
            continue
        m = SAMPLE.match(line)
        check(m is not None, "line %d is not a sample, HELP or TYPE: %r" % (n, line))
        if m:
            series = m.group(1) + (m.group(2) or "")
            check(m.group(1) in typed, "line %d: sample of %s before its TYPE" % (n, m.group(1)))
            check(series not in seen, "line %d: series %s twice" % (n, series))
            seen[series] = float(m.group(3))
    return seen


def main():
    d = tempfile.mkdtemp(prefix="krk-prom-")
    dead = "127.0.0.1:%d" % free_port()
    live = "127.0.0.1:%s" % env["PORT"]
    cfg = os.path.join(d, "keyring.cnf")
    with open(cfg, "w") as f:
        json.dump({"server_addr": [dead, live], "server_port": 5696,
                   "client_ca": env["CLIENT_CERT"], "client_key": env["CLIENT_KEY"],
                   "server_ca": env["CA"], "object_group": "prometheus-%d" % os.getpid(),
                   "kmip_timeout_ms": 5000}, f)
    os.chmod(cfg, 0o600)
    p = subprocess.run([cli, "status", "--prometheus", "--config", cfg], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=60)
    text = p.stdout.decode()
    print(text, end="")
    check(p.returncode == 0, "status --prometheus: status %d: %s" % (p.returncode, p.stderr))
    series = strict(text)
    # the parser of python3-prometheus-client
    families = {}
    try:
        for fam in text_string_to_metric_families(text):
            families[fam.name] = fam
    except Exception as e:  # noqa: BLE001 (any parse error fails the test)
        check(False, "prometheus_client's parser refused the output: %s" % e)
    check("keyring_kmip_servers" in families, "no keyring_kmip_servers family")
    check(families.get("keyring_kmip_failovers") is not None and
          families["keyring_kmip_failovers"].type == "counter",
          "keyring_kmip_failovers_total is not parsed as a counter")
    want = {
        "keyring_kmip_up": 1, "keyring_kmip_servers": 2, "keyring_kmip_servers_up": 1,
        "keyring_kmip_failovers_total": 1,
        'keyring_kmip_server_up{server="%s"}' % dead: 0,
        'keyring_kmip_server_up{server="%s"}' % live: 1,
        'keyring_kmip_server_backing_off{server="%s"}' % dead: 1,
        'keyring_kmip_server_current{server="%s"}' % live: 1,
        'keyring_kmip_server_failures_total{server="%s"}' % dead: 1,
        'keyring_kmip_server_failovers_total{server="%s"}' % dead: 1,
    }
    for k, v in want.items():
        check(series.get(k) == v, "%s is %s, expected %s" % (k, series.get(k), v))
    check(series.get('keyring_kmip_server_rtt_seconds{server="%s"}' % live, 0) > 0,
          "no round trip for the live server")
    check(series.get("keyring_kmip_client_cert_expiry_timestamp_seconds", 0) > 1.7e9,
          "no client certificate expiry")
    # status --json carries the same as a "servers" array
    p = subprocess.run([cli, "status", "--json", "--config", cfg], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=60)
    try:
        st = json.loads(p.stdout)
        servers = st["servers"]
        check([s["name"] for s in servers] == [dead, live], "servers: %s" % servers)
        check(servers[0]["state"] == "backing off" and servers[1]["state"] == "up" and
              servers[1]["current"] and "refused" in servers[0]["last_error"],
              "servers: %s" % servers)
        check(st["Servers"] == "2 configured, 1 up", "Servers row: %s" % st.get("Servers"))
    except (ValueError, KeyError) as e:
        check(False, "status --json: %s: %s" % (e, p.stdout))
    # check prints a line per server
    p = subprocess.run([cli, "check", "--config", cfg], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=60)
    out = p.stdout.decode()
    check("server:        %s: backing off" % dead in out and
          "server:        %s: up (current)" % live in out, "check: %s" % out)
    # every configured server's real state: [live, live, dead] -- the
    # standbys are probed (Discover Versions), so the second live one is up
    # and the dead one is down, and check fails naming it
    dead2 = "127.0.0.1:%d" % free_port()
    live2 = "localhost:%s" % env["PORT"]
    cfg3 = os.path.join(d, "three.cnf")
    with open(cfg3, "w") as f:
        json.dump({"server_addr": [live, live2, dead2], "server_port": 5696,
                   "client_ca": env["CLIENT_CERT"], "client_key": env["CLIENT_KEY"],
                   "server_ca": env["CA"], "object_group": "prometheus-%d" % os.getpid(),
                   "kmip_timeout_ms": 5000}, f)
    os.chmod(cfg3, 0o600)
    p = subprocess.run([cli, "status", "--prometheus", "--config", cfg3], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=60)
    s3 = strict(p.stdout.decode())
    want3 = {
        "keyring_kmip_servers": 3, "keyring_kmip_servers_up": 2,
        'keyring_kmip_server_up{server="%s"}' % live: 1,
        'keyring_kmip_server_current{server="%s"}' % live: 1,
        'keyring_kmip_server_up{server="%s"}' % live2: 1,
        'keyring_kmip_server_current{server="%s"}' % live2: 0,
        'keyring_kmip_server_up{server="%s"}' % dead2: 0,
        'keyring_kmip_server_failures_total{server="%s"}' % dead2: 1,
    }
    for k, v in want3.items():
        check(s3.get(k) == v, "three servers: %s is %s, expected %s" % (k, s3.get(k), v))
    check(s3.get('keyring_kmip_server_rtt_seconds{server="%s"}' % live2, 0) > 0,
          "three servers: no round trip for the probed standby")
    p = subprocess.run([cli, "status", "--json", "--config", cfg3], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=60)
    try:
        st = json.loads(p.stdout)
        states = [(s["name"], s["state"]) for s in st["servers"]]
        check(states == [(live, "up"), (live2, "up"), (dead2, "backing off")],
              "three servers, json: %s" % states)
        check(st["Servers"] == "3 configured, 2 up", "Servers row: %s" % st.get("Servers"))
    except (ValueError, KeyError) as e:
        check(False, "three servers, status --json: %s: %s" % (e, p.stdout))
    p = subprocess.run([cli, "status", "--config", cfg3], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=60)
    check(p.returncode == 0 and "3 configured, 2 up" in p.stdout.decode(),
          "three servers, status: %d %s" % (p.returncode, p.stdout))
    p = subprocess.run([cli, "check", "--config", cfg3], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=60)
    out, err = p.stdout.decode(), p.stderr.decode()
    check(p.returncode != 0, "check with a dead standby exited 0: %s" % out)
    check("KMIP server %s (Server_3) is backing off" % dead2 in err,
          "check does not name the dead standby: %s" % err)
    check("server:        %s: up" % live2 in out, "check: standby not up: %s" % out)
    os.unlink(cfg3)
    # the certificates end within 40 days (the fixture's are valid 30):
    # warned on stderr at open and in status, client and server alike
    with open(cfg) as f:
        c = json.load(f)
    c["cert_expiry_warning_days"] = 40
    with open(cfg, "w") as f:
        json.dump(c, f)
    p = subprocess.run([cli, "status", "--json", "--config", cfg], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=60)
    try:
        w = json.loads(p.stdout)["Cert_warning"]
    except (ValueError, KeyError):
        w = ""
    check("the client certificate" in w and "the certificate of KMIP server %s ends in" % live
          in w, "Cert_warning: %r" % w)
    check("the client certificate" in p.stderr.decode(), "no warning at open: %s" % p.stderr)
    p = subprocess.run([cli, "status", "--prometheus", "--config", cfg], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=60)
    check(strict(p.stdout.decode()).get("keyring_kmip_cert_warning") == 1,
          "keyring_kmip_cert_warning is not 1")
    os.unlink(cfg)
    os.rmdir(d)
    print("%d failures" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
