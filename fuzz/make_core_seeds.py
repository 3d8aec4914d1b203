#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Writes the seeds of fuzz_core (fuzz/corpus/core, checked in): for each
scenario of fuzz/fuzz_core.c a configuration byte and the server's side of
the exchanges, as events [kind][length, 2 bytes][bytes]. The responses are
built here (TTLV, KMIP 1.4 section 9.1) as a server answers the core's own
requests: Unique Batch Item IDs are the item's position (4 bytes, as
src/client/requests.c numbers them), Locate pages of Maximum Items, a
server that ignores Offset Items, one that refuses ID placeholders, a
connection that breaks. Usage: make_core_seeds.py [OUT_DIR]"""
import os
import struct
import sys

OPS = {"create": 1, "register": 3, "locate": 8, "get": 0x0A, "get_attributes": 0x0B,
       "get_attribute_list": 0x0C, "activate": 0x12, "revoke": 0x13, "destroy": 0x14,
       "discover": 0x1E}


def item(tag, typ, value):
    pad = (8 - len(value) % 8) % 8
    return struct.pack(">I", tag)[1:] + bytes([typ]) + struct.pack(">I", len(value)) + value + b"\0" * pad


def st(tag, *children):
    return item(tag, 0x01, b"".join(children))


def integer(tag, v):
    return item(tag, 0x02, struct.pack(">i", v))


def enum(tag, v):
    return item(tag, 0x05, struct.pack(">I", v))


def text(tag, s):
    return item(tag, 0x07, s.encode())


def octets(tag, b):
    return item(tag, 0x08, b)


def stamp():
    return item(0x420092, 0x09, struct.pack(">q", 1764590400))


def version(major, minor, tag=0x420069):
    return st(tag, integer(0x42006A, major), integer(0x42006B, minor))


def uid(s):
    return text(0x420094, s)


def batch_item(op, payload=b"", ubi=None, status=0, reason=None, message=None):
    parts = [enum(0x42005C, OPS[op])]
    if ubi is not None:
        parts.append(octets(0x420093, struct.pack(">I", ubi)))
    parts.append(enum(0x42007F, status))
    if reason is not None:
        parts.append(enum(0x42007E, reason))
    if message is not None:
        parts.append(text(0x42007D, message))
    if status == 0:
        parts.append(st(0x42007C, payload))
    return st(0x42000F, *parts)


def response(*items, ver=(1, 4)):
    header = st(0x42007A, version(*ver), stamp(), integer(0x42000D, len(items)))
    return st(0x42007B, header, *items)


def discover(*versions):
    return response(batch_item("discover", b"".join(version(a, b) for a, b in versions)),
                    ver=(1, 1))


def locate(*ids, located=None):
    p = b"" if located is None else integer(0x4200D5, located)
    return response(batch_item("locate", p + b"".join(uid(i) for i in ids)))


def key_object(u):
    block = st(0x420040, enum(0x420042, 1), st(0x420045, octets(0x420043, bytes(range(32)))),
               enum(0x420028, 3), integer(0x42002A, 256))
    return enum(0x420057, 2) + uid(u) + st(0x42008F, block)


def refused():
    return response(batch_item("register", status=1, reason=4,
                               message="ID placeholders are not supported"))


def ev(data, kind=0):
    return bytes([kind]) + struct.pack(">H", len(data)) + data


def broken(after_send=True):
    return ev(b"", 1 if after_send else 3)


DV = discover((2, 1), (1, 4), (1, 0))
REG_ACT = response(batch_item("register", uid("k1"), 1), batch_item("activate", uid("k1"), 2))
CAG = response(batch_item("create", enum(0x420057, 2) + uid("k2"), 1),
               batch_item("activate", uid("k2"), 2), batch_item("get", key_object("k2"), 3))
STEPS_REG = [response(batch_item("register", uid("k1"), 1)),
             response(batch_item("activate", uid("k1"), 1))]
STEPS_CAG = [response(batch_item("create", enum(0x420057, 2) + uid("k2"), 1)),
             response(batch_item("activate", uid("k2"), 1)),
             response(batch_item("get", key_object("k2"), 1))]
READS = response(batch_item("get", key_object("uid-1"), 1),
                 batch_item("get_attributes", uid("uid-2"), 2),
                 batch_item("get_attribute_list", uid("uid-3") + text(0x42000A, "Name"), 3))
REV_DES = response(batch_item("revoke", uid("uid-1"), 1), batch_item("destroy", uid("uid-1"), 2))
# without Located Items a short page may be a server's cap: an empty page ends it
PAGES2 = [locate("a", "b"), locate("c", "d"), locate("e"), locate()]


def seed(cfg, *events):
    return bytes([cfg]) + b"".join(ev(e) if isinstance(e, bytes) and e[:3] == b"\x42\x00\x7b"
                                   else e for e in events)


SEEDS = {
    "locate-pages": seed(0x00, *PAGES2),
    "locate-pages-located-items": seed(0x00, locate("a", "b", located=5), locate("c", "d", located=5),
                                       locate("e", located=5)),
    "locate-ignores-offset": seed(0x00, locate("a", "b"), locate("a", "b"), locate("a", "b")),
    "locate-too-many": seed(0x00, locate("a", "b", "c")),
    "locate-capped": seed(0x00, locate("a"), locate("b", "c"), locate("d"), locate()),
    "locate-capped-located-items": seed(0x00, locate("a", located=3), locate("b", located=3),
                                        locate("c", located=3)),
    "locate-cycling": seed(0x00, locate("a", "b"), locate("c", "d"), locate("a", "b")),
    "locate-shifted": seed(0x00, locate("a", "b"), locate("b", "c"), locate()),
    "locate-broken-retried": seed(0x00, locate("a", "b"), broken(), locate("c")),
    "locate-split": seed(0x00, ev(PAGES2[0][:13]), ev(PAGES2[0][13:]), PAGES2[1], PAGES2[2]),
    "locate-negotiated": seed(0x08, DV, *PAGES2),
    "locate-negotiated-1.0": seed(0x08, discover((1, 0)), locate("a", "b", "c")),
    "locate-negotiation-failover": seed(0x68, broken(False), broken(), DV, *PAGES2),
    "register-activate": seed(0x01, REG_ACT),
    "register-activate-negotiated": seed(0x08 | 0x01, DV, REG_ACT),
    "register-activate-refused": seed(0x01, refused(), *STEPS_REG),
    "register-activate-known-refusing": seed(0x81, *STEPS_REG),
    "register-activate-lost": seed(0x21, broken()),
    "register-activate-other-object": seed(0x01, response(batch_item("register", uid("k1"), 1),
                                                          batch_item("activate", uid("k9"), 2))),
    "register-activate-refused-as-activate": seed(0x01, response(
        batch_item("activate", ubi=2, status=1, reason=4)), *STEPS_REG),
    "create-activate-get": seed(0x02, CAG),
    "create-activate-get-other-object": seed(0x02, response(
        batch_item("create", enum(0x420057, 2) + uid("k2"), 1),
        batch_item("activate", uid("k9"), 2), batch_item("get", key_object("k9"), 3))),
    "create-activate-get-refused": seed(0x02, refused(), *STEPS_CAG),
    "batch-reads": seed(0x03, READS),
    "batch-reads-2.0": seed(0x13, READS),
    "batch-reads-failover": seed(0x63, ev(b"", 2), READS),
    "revoke-destroy": seed(0x04, REV_DES),
    "revoke-destroy-lost": seed(0x04, broken()),
    "session": seed(0x05, locate("a"), locate("b"), locate(), REG_ACT, locate("x")),
    "session-refused": seed(0x0D, DV, locate("a"), locate(), refused(), *STEPS_REG, locate("x")),
    "register-then-create": seed(0x06, STEPS_REG[0], CAG),
    "everything": seed(0x07, *PAGES2, REG_ACT, CAG, READS, REV_DES),
}


def main():
    top = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(top, "corpus", "core")
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print(f"{len(SEEDS)} seeds in {out}")


if __name__ == "__main__":
    main()
