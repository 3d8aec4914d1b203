#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Test tooling (not product code): what the KMIP server itself holds in an
object group, read with PyKMIP's own client, independent of our code.

Usage: kmip_inventory.py FIXTURE_DIR OBJECT_GROUP
Prints one line per object: UNIQUE_ID<TAB>NAME<TAB>STATE<TAB>DIGEST, where
DIGEST is the first 16 hex digits of SHA-256 of the key bytes (never the key
itself), or "-" when the object cannot be read."""
import hashlib
import sys

from kmip.core import enums
from kmip.core.factories import attributes
from kmip.pie.client import ProxyKmipClient


def main():
    env = dict(l.strip().split("=", 1) for l in open(sys.argv[1] + "/env") if "=" in l)
    group = sys.argv[2]
    group_attr = attributes.AttributeFactory().create_attribute(
        enums.AttributeType.OBJECT_GROUP, group)
    with ProxyKmipClient(hostname="127.0.0.1", port=int(env["PORT"]), cert=env["CLIENT_CERT"],
                         key=env["CLIENT_KEY"], ca=env["CA"], config_file="/dev/null",
                         kmip_version=enums.KMIPVersion.KMIP_1_4) as c:
        uids = c.locate(attributes=[group_attr])
        for uid in uids:
            _, attrs = c.get_attributes(uid, ["Name", "State"])
            name, state = "-", "-"
            for a in attrs:
                n = a.attribute_name.value
                if n == "Name":
                    name = a.attribute_value.name_value.value
                elif n == "State":
                    state = a.attribute_value.value.name
            try:
                digest = hashlib.sha256(c.get(uid).value).hexdigest()[:16]
            except Exception:  # noqa: BLE001 (a Pre-Active or odd object)
                digest = "-"
            print("%s\t%s\t%s\t%s" % (uid, name, state, digest))


if __name__ == "__main__":
    main()
