#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Runs every benchmark in one go and writes one report.

Usage: run_benchmarks.py BUILD_DIR [OUTPUT.md]
  (configure with -DKMIP_BUILD_BENCH=ON; `cmake --build build --target bench`
  writes BUILD_DIR/PERFORMANCE.md, `--target bench-docs` docs/PERFORMANCE.md)

Starts the test fixture (tests/pykmip/pykmip_harness.py: certificates made
now, PyKMIP 0.10 and our KMIP test server on loopback), runs the bench_*
programs and PyKMIP's own client, collects their ROW/NOTE lines
(bench/bench_util.h) and prints the report; with OUTPUT it also writes it
there. Every figure is a median of several runs with
min and max; comparisons are ratios from this same run.
"""
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HARNESS = os.path.join(TOP, "tests", "pykmip", "pykmip_harness.py")

SECTIONS = [
    ("codec", "Codec throughput",
     "`bench/bench_codec.c`: a Get response with a 32-byte AES key, the Register + Activate "
     "request the keyring sends for a 32-byte key, and a Locate response with 10,000 "
     "identifiers, KMIP 1.4. \"Decode to items\" is the strict TTLV decoder alone, \"typed\" adds "
     "the message layer, \"encode\" is typed message to TTLV bytes; one thread."),
    ("codec-mbs", "Codec throughput in MB/s", "The same runs, in megabytes (10^6 bytes) of TTLV per second."),
    ("client-testsrv", "Client round trips against our test server",
     "`bench/bench_client.c` against `kmip_test_server` on loopback over TLS 1.3, one persistent "
     "connection, KMIP 1.4: Gets of one key, one per request message and 100 per message. CPU is "
     "the client process's user + system time (`getrusage`): TLS and system calls included."),
    ("client-pykmip", "Client round trips against PyKMIP: our client next to PyKMIP's",
     "The same Gets against a PyKMIP 0.10 server (TLS 1.2), by our client and by PyKMIP's own "
     "Python client (`bench/pykmip_client_bench.py`), in the same run. Throughput is bound by the "
     "Python server, which handles one request at a time; the clients' own cost is the CPU row."),
    ("startup", "Keyring startup over a 1 ms round trip",
     "`bench/bench_startup.c`: N AES keys in an object group on the test server, the fault proxy "
     "(`tests/proxy`) adding 0.5 ms each way. Ours: `krk_open` (connect, Discover Versions, "
     "Locate in pages of 256, then Get + Get Attributes for 50 keys per request message). Per "
     "key, the pattern of the existing component: Locate, then for every key a Get on a new TLS "
     "connection and a Get Attributes on another. Both in the same run, alternating."),
    ("reads", "Reads from the cache",
     "`bench/bench_reads.c`: `krk_reader_init` + `krk_reader_fetch` + `krk_reader_deinit` of a "
     "random one of 1,000 32-byte keys, nanoseconds per call as each reader thread sees it, "
     "without and with a writer thread storing and removing keys on the test server at the same "
     "time."),
    ("plugin", "MariaDB plugin",
     "`bench/bench_mariadb_plugin.c`: `kmip_key_management.so` loaded with dlopen, its system "
     "variables set through its declaration as mariadbd does, initialized against the test "
     "server; then the two functions MariaDB calls on its hot path."),
    ("memory", "Memory",
     "Resident memory (`VmRSS`) of the `bench_startup` process with the keyring open (one "
     "measurement per size, taken during the first run, before any per-key load). It includes "
     "the process's fixed part: the C library, OpenSSL, and the 4 MiB secure heap for key "
     "material, which is locked in memory and so resident from its first use."),
]


def run(cmd, env=None):
    print("$ " + " ".join(cmd), file=sys.stderr, flush=True)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, env=env)
    if p.returncode != 0:
        sys.exit("benchmark failed: %s (exit %d)" % (" ".join(cmd), p.returncode))
    return p.stdout


def parse(text, rows, notes):
    for line in text.splitlines():
        parts = line.split("|")
        if parts[0] == "ROW" and len(parts) == 7:
            rows.setdefault(parts[1], []).append(
                (parts[2], float(parts[3]), float(parts[4]), float(parts[5]), parts[6]))
        elif parts[0] == "NOTE" and len(parts) >= 3:
            notes.setdefault(parts[1], []).append("|".join(parts[2:]))


def machine():
    def read(path, pattern):
        try:
            m = re.search(pattern, open(path).read(), re.M)
            return m.group(1).strip() if m else "?"
        except OSError:
            return "?"
    cpu = read("/proc/cpuinfo", r"^model name\s*:\s*(.*)$")
    mem = read("/proc/meminfo", r"^MemTotal:\s*(\d+)")
    gcc = subprocess.run(["gcc", "--version"], stdout=subprocess.PIPE, text=True).stdout.split("\n")[0]
    ssl = subprocess.run(["openssl", "version"], stdout=subprocess.PIPE, text=True).stdout.strip()
    deb = read("/etc/debian_version", r"(.*)")
    return ("%s, %d CPU cores, %.1f GiB RAM; Linux %s, Debian %s; %s; %s; RelWithDebInfo (-O2 -g)"
            % (cpu, os.cpu_count(), int(mem) / 1048576 if mem.isdigit() else 0,
               platform.release(), deb, gcc, ssl))


def fmt(v):
    if v >= 1000:
        return "{:,.0f}".format(v)
    if v >= 100:
        return "%.0f" % v
    if v >= 10:
        return "%.1f" % v
    return "%.2f" % v


def report(rows, notes, started, seconds):
    out = ["# Performance", "",
           "Produced by `cmake --build build --target bench-docs` (`bench/run_benchmarks.py`, "
           "configured with `-DKMIP_BUILD_BENCH=ON`) on %s, "
           "in %.0f s. Each figure is the median of several runs (the program's source says how "
           "many) with min and max; ratios compare figures of this same run. No test asserts on "
           "time." % (started, seconds), "",
           "Machine: " + machine() + ".", ""]
    for key, title, intro in SECTIONS:
        if key not in rows and key not in notes:
            continue
        out += ["## " + title, "", intro, ""]
        if key in rows:
            out += ["| figure | median | min | max | unit |", "|---|---:|---:|---:|---|"]
            for label, med, lo, hi, unit in rows[key]:
                out.append("| %s | %s | %s | %s | %s |" % (label, fmt(med), fmt(lo), fmt(hi), unit))
            out.append("")
        for n in notes.get(key, []):
            out.append("- " + n)
        if key in notes:
            out.append("")
        out += derived(key, rows)
    return "\n".join(out) + "\n"


def value(rows, key, label_part):
    for label, med, _, _, _ in rows.get(key, []):
        if label_part in label:
            return med
    return None


def derived(key, rows):
    """Ratios from this run."""
    lines = []
    if key == "client-pykmip":
        ours = value(rows, key, "keyring_kmip C client: CPU per Get")
        theirs = value(rows, key, "PyKMIP Python client: CPU per Get")
        if ours and theirs:
            lines.append("- Client CPU per Get: PyKMIP's Python client %.1f times ours." % (theirs / ours))
    if key == "client-testsrv":
        one = value(rows, key, "Gets/s, 1 Get per message")
        hundred = value(rows, key, "Gets/s, 100 Gets per message")
        if one and hundred:
            lines.append("- 100 Gets per message give %.1f times the Gets per second of one per "
                         "message." % (hundred / one))
    if key == "memory":
        small = value(rows, key, "of 1000 keys")
        big = value(rows, key, "of 10000 keys")
        if small and big:
            lines.append("- Each key beyond the first 1,000 costs %.0f bytes of resident memory "
                         "((%s KiB - %s KiB) / 9,000 keys: 32-byte keys, ids of 9 characters, KMIP "
                         "identifiers of 12)." % ((big - small) * 1024 / 9000, fmt(big), fmt(small)))
    if key == "startup":
        for n in ("1000", "10000"):
            ours = value(rows, key, "%s keys: keyring_kmip" % n)
            theirs = value(rows, key, "%s keys: per-key" % n)
            if ours and theirs:
                lines.append("- %s keys: the batched load is %.1f times faster than the per-key "
                             "pattern (%.2f s against %.1f s)." % (
                                 "{:,}".format(int(n)), theirs / ours, ours, theirs))
    return lines + ([""] if lines else [])


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    build = os.path.abspath(sys.argv[1])
    output = sys.argv[2] if len(sys.argv) == 3 else None
    b = lambda *p: os.path.join(build, *p)
    server, proxy = b("tests", "server", "kmip_test_server"), b("tests", "proxy", "kmip_fault_proxy")
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    t0 = time.time()
    fixture = tempfile.mkdtemp(prefix="kmip-bench-")
    rows, notes = {}, {}
    try:
        subprocess.run(["/usr/bin/python3", HARNESS, "start", fixture, server], check=True,
                       stdout=subprocess.DEVNULL)
        parse(run([b("bench", "bench_codec"), "20000"]), rows, notes)
        parse(run([b("bench", "bench_client"), fixture, "TESTSRV_PORT", "client-testsrv", "2000"]),
              rows, notes)
        parse(run([b("bench", "bench_client"), fixture, "PORT", "client-pykmip", "200"]), rows, notes)
        parse(run(["/usr/bin/python3", os.path.join(TOP, "bench", "pykmip_client_bench.py"),
                   fixture, "PORT", "client-pykmip", "200"]), rows, notes)
        parse(run([b("bench", "bench_startup"), fixture, server, proxy, "1000", "5"]), rows, notes)
        parse(run([b("bench", "bench_startup"), fixture, server, proxy, "10000", "3"]), rows, notes)
        parse(run([b("bench", "bench_reads"), fixture, server]), rows, notes)
        plugin = b("plugins", "mariadb", "kmip_key_management.so")
        if os.path.exists(b("bench", "bench_mariadb_plugin")) and os.path.exists(plugin):
            parse(run([b("bench", "bench_mariadb_plugin"), plugin, fixture, "TESTSRV_PORT"]),
                  rows, notes)
    finally:
        subprocess.run(["/usr/bin/python3", HARNESS, "stop", fixture], stdout=subprocess.DEVNULL)
        shutil.rmtree(fixture, ignore_errors=True)
    text = report(rows, notes, started, time.time() - t0)
    print(text)
    if output:
        with open(output, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
