#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Builds the fuzzers' seed corpora from the test data:
  - ttlv/: every OASIS test-case message as TTLV (written by the conformance
    harness, which encodes them all), every message captured from PyKMIP and
    every peer TTLV vector (valid, invalid and informational);
  - xml/: every OASIS test-case message as KMIP XML, placeholders filled.
Usage: make_corpus.py CONFORMANCE CORPUS_DIR PYKMIP_HEX_DIR OUT_DIR
CORPUS_DIR is the KMIP corpus (KMIP_CORPUS_DIR); without it the seeds are the
PyKMIP captures only, and the script says so.
"""
import glob
import os
import re
import subprocess
import sys

PLACEHOLDER = re.compile(r'type="(\w+)" value="\$([A-Z_]+)([-+]\d+)?(_\d+)?"')


def fill(match):
    kind = match.group(1)
    if kind == "DateTime":
        return 'type="DateTime" value="2026-01-01T00:00:00+00:00"'
    if kind in ("ByteString", "BigInteger"):
        return 'type="%s" value="00112233445566778899aabbccddeeff"' % kind
    return match.group(0)


def main():
    conformance, corpus, hexdir, out = sys.argv[1:5]
    xml_dir = os.path.join(out, "xml")
    ttlv_dir = os.path.join(out, "ttlv")
    os.makedirs(xml_dir, exist_ok=True)
    os.makedirs(ttlv_dir, exist_ok=True)
    cases = os.path.join(corpus, "testcases")
    if os.path.isdir(corpus):
        subprocess.run([conformance, corpus, "testcases/1.4", "testcases/2.1"],
                       env=dict(os.environ, CONFORMANCE_CORPUS_DIR=ttlv_dir, KMIP_CORPUS_DIR=""),
                       stdout=subprocess.DEVNULL, check=True)
    else:
        print("seed corpora: no KMIP corpus at %s (KMIP_CORPUS_DIR), OASIS test cases left out"
              % corpus)
    for path in sorted(glob.glob(os.path.join(cases, "*", "*.xml"))):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for i, msg in enumerate(re.findall(
                r"<(?:Request|Response)Message>.*?</(?:Request|Response)Message>", text, re.S)):
            name = "%s-%d.xml" % (os.path.basename(path)[:-4], i)
            with open(os.path.join(xml_dir, name), "w", encoding="utf-8") as f:
                f.write(PLACEHOLDER.sub(fill, msg))
    for path in sorted(glob.glob(os.path.join(hexdir, "*.hex"))):
        with open(path) as f:
            data = bytes.fromhex(f.read().strip())
        with open(os.path.join(ttlv_dir, os.path.basename(path)[:-4] + ".bin"), "wb") as f:
            f.write(data)
    for name in ("valid", "invalid", "informational"):
        path = os.path.join(corpus, "peer-vectors", name + ".txt")
        if not os.path.isfile(path):
            continue
        with open(path) as f:
            for i, line in enumerate(f):
                if line.strip():
                    data = bytes.fromhex(line.rsplit(" ", 1)[1].strip())
                    with open(os.path.join(ttlv_dir, "peer-%s-%d.bin" % (name, i)), "wb") as out_f:
                        out_f.write(data)
    print("seed corpora: %d TTLV, %d XML" % (len(os.listdir(ttlv_dir)), len(os.listdir(xml_dir))))


if __name__ == "__main__":
    main()
