# SPDX-License-Identifier: GPL-2.0-only
"""Captures real KMIP messages from a PyKMIP server for KMIP 1.0 to 2.0:
PyKMIP's own client performs Create, Register, Get, Get Attributes, Locate,
Activate, Revoke, Destroy and a failing Get against a PyKMIP server whose
DEBUG log holds every request and response in hex. Writes one file per
message (NN-<version>-request|response.hex) into OUTDIR.

Usage: capture_messages.py OUTDIR WORKDIR
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pykmip_harness import PyKmipServer  # noqa: E402

from kmip.core import enums  # noqa: E402
from kmip.core.factories.attributes import AttributeFactory  # noqa: E402
from kmip.pie import objects  # noqa: E402
from kmip.pie.client import ProxyKmipClient  # noqa: E402

VERSIONS = [("1.0", enums.KMIPVersion.KMIP_1_0), ("1.1", enums.KMIPVersion.KMIP_1_1),
            ("1.2", enums.KMIPVersion.KMIP_1_2), ("1.3", enums.KMIPVersion.KMIP_1_3),
            ("1.4", enums.KMIPVersion.KMIP_1_4), ("2.0", enums.KMIPVersion.KMIP_2_0)]


def exercise(srv, version):
    with ProxyKmipClient(hostname="127.0.0.1", port=srv.port, cert=srv.client_cert,
                         key=srv.client_key, ca=srv.ca, config_file="/dev/null",
                         kmip_version=version) as c:
        uid = c.create(enums.CryptographicAlgorithm.AES, 256, name="capture-key")
        key = objects.SymmetricKey(enums.CryptographicAlgorithm.AES, 128, b"\x01" * 16,
                                   name="registered-key")
        rid = c.register(key)
        c.get(rid)
        c.get_attributes(rid, ["Name", "Cryptographic Length"])
        name = AttributeFactory().create_attribute(enums.AttributeType.NAME, "capture-key")
        c.locate(attributes=[name])
        c.activate(uid)
        c.revoke(enums.RevocationReasonCode.CESSATION_OF_OPERATION, uid)
        c.destroy(uid)
        c.destroy(rid)
        try:
            c.get("no-such-object")
        except Exception:  # the failure response is what we want
            pass


def main():
    out, work = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    with PyKmipServer(work) as srv:
        marks = []
        for label, version in VERSIONS:
            exercise(srv, version)
            with open(srv.log_path) as f:
                marks.append((label, f.read().count("encoding: b'")))
    with open(srv.log_path) as f:
        log = f.read()
    n = 0
    start = 0
    for label, end in marks:
        # PyKMIP logs a request in two pieces (its 8-byte header, then the
        # body); join them into one message.
        messages = []
        for kind, hexdata in re.findall(r"(Request|Response) encoding: b'([0-9a-f]+)'",
                                        log)[start:end]:
            if messages and kind == "Request" and messages[-1][0] == "Request" and \
                    len(messages[-1][1]) == 16:
                messages[-1] = (kind, messages[-1][1] + hexdata)
            else:
                messages.append((kind, hexdata))
        start = end
        for kind, hexdata in messages:
            n += 1
            name = "%02d-%s-%s.hex" % (n, label, kind.lower())
            with open(os.path.join(out, name), "w") as f:
                f.write(hexdata + "\n")
    print("captured %d messages" % n)
    return 0 if n else 1


if __name__ == "__main__":
    sys.exit(main())
