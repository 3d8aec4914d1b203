#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Test tooling: writes a MySQL component_keyring_file data file with COUNT
random keys of every kind migrate must carry: AES of 16, 24 and 32 bytes and
odd lengths (1, 7, 33, 100, 1000, 16384 bytes), SECRET and RSA keys (an RSA
private key in DER), keys with and without an owner (user), data_ids with
spaces and ':' (and with --unicode non-ASCII text in ids and users; PyKMIP
0.10 refuses a Register whose Name is not ASCII). The hex is upper case, as
MySQL writes it.
Usage: make_keyring_file.py OUT COUNT [PREFIX] [--unicode]"""
import json
import os
import sys

unicode = "--unicode" in sys.argv
args = [a for a in sys.argv if a != "--unicode"]
out, count = args[1], int(args[2])
prefix = args[3] if len(args) > 3 else "k"
lengths = [16, 24, 32, 16, 24, 32, 1, 7, 33, 100, 1000, 16384]
types = ["AES", "AES", "AES", "SECRET", "RSA", "SECRET", "AES", "SECRET"]
users = ["", "root@localhost", "", "app:user", "", "Ünïcode user" if unicode else "u5"]
elements = []
for i in range(count):
    t = types[i % len(types)]
    n = lengths[i % len(lengths)] if t != "RSA" else 1190 + i
    data_id = "%s%d" % (prefix, i) if i % 7 else "%s %d:with spaces%s" % (prefix, i, " é" if unicode else "")
    elements.append({"user": users[i % len(users)], "data_id": data_id, "data_type": t,
                     "data": os.urandom(n).hex().upper(), "extension": []})
with open(out, "w") as f:
    json.dump({"version": "1.0", "elements": elements}, f, separators=(",", ":"))
os.chmod(out, 0o600)
