#!/usr/bin/env python3
"""Builds the fuzzers' seed corpora from the test data:
  - ttlv/: every OASIS test-case message as TTLV (written by the conformance
    harness, which encodes them all) and every message captured from PyKMIP;
  - xml/: every OASIS test-case message as KMIP XML, placeholders filled.
Usage: make_corpus.py CONFORMANCE TESTCASES_DIR PYKMIP_HEX_DIR OUT_DIR
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
    conformance, cases, hexdir, out = sys.argv[1:5]
    xml_dir = os.path.join(out, "xml")
    ttlv_dir = os.path.join(out, "ttlv")
    os.makedirs(xml_dir, exist_ok=True)
    os.makedirs(ttlv_dir, exist_ok=True)
    subprocess.run([conformance, os.path.join(cases, "1.4"), os.path.join(cases, "2.1")],
                   env=dict(os.environ, CONFORMANCE_CORPUS_DIR=ttlv_dir),
                   stdout=subprocess.DEVNULL, check=True)
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
    print("seed corpora: %d TTLV, %d XML" % (len(os.listdir(ttlv_dir)), len(os.listdir(xml_dir))))


if __name__ == "__main__":
    main()
