#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""PyKMIP's own Python client doing what bench_client does: Gets of one
symmetric key over one connection, KMIP 1.4. Same output lines as the C
benchmarks (bench/bench_util.h).
Usage: pykmip_client_bench.py FIXTURE_DIR PORT_KEY SECTION [gets-per-run]"""
import resource
import sys
import time

from kmip.core import enums
from kmip.pie import objects
from kmip.pie.client import ProxyKmipClient

RUNS = 5


def cpu():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def row(section, what, values, unit):
    v = sorted(values)
    print("ROW|%s|%s|%.6g|%.6g|%.6g|%s" % (section, what, v[RUNS // 2], v[0], v[-1], unit))


def main():
    env = dict(l.strip().split("=", 1) for l in open(sys.argv[1] + "/env") if "=" in l)
    port_key, section = sys.argv[2], sys.argv[3]
    gets = int(sys.argv[4]) if len(sys.argv) > 4 else 200
    with ProxyKmipClient(hostname="127.0.0.1", port=int(env[port_key]), cert=env["CLIENT_CERT"],
                         key=env["CLIENT_KEY"], ca=env["CA"], config_file="/dev/null",
                         kmip_version=enums.KMIPVersion.KMIP_1_4) as c:
        uid = c.register(objects.SymmetricKey(enums.CryptographicAlgorithm.AES, 256,
                                              b"\x01" + b"\x00" * 31))
        rate, cpu_us = [], []
        for _ in range(RUNS):
            t0, c0 = time.monotonic(), cpu()
            for _ in range(gets):
                c.get(uid)
            t1, c1 = time.monotonic(), cpu()
            rate.append(gets / (t1 - t0))
            cpu_us.append((c1 - c0) / gets * 1e6)
        c.destroy(uid)
    row(section, "PyKMIP Python client: Gets/s, 1 Get per message", rate, "Gets/s")
    row(section, "PyKMIP Python client: CPU per Get", cpu_us, "us")


if __name__ == "__main__":
    main()
