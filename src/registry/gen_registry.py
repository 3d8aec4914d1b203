#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Generates the KMIP tag, enumeration and mask registry from the project's table.

Usage: gen_registry.py OUT_HEADER OUT_SOURCE TABLE.txt [TABLE.txt ...]

The table (src/registry/kmip_registry.txt) holds the values of the KMIP 1.4
specification, then the 2.0 additions, then our own 2.1 additions; its
header describes the format. Later statements add to earlier ones (a value
keeps its first name, every name is also accepted). Names are turned into
KMIP XML names by the normalisation of the KMIP XML encoding (KMIP Profiles
2.0 section 5.5.1.1, "Normalizing Names"), and into C identifiers for the
generated constants.
"""
import re
import sys


def xml_name(name, is_tag=False):
    """KMIP XML name normalisation."""
    s = name
    if is_tag:
        # Tag names drop hyphens and slashes ("Template-Attribute",
        # "IV/Counter/Nonce"), as the OASIS test cases spell them.
        s = s.replace("-", "").replace("/", "")
    s = re.sub(r"[()]", " ", s)
    # A non-word character after a capital or digit and before an
    # alphanumeric becomes an underscore ("PKCS#1" -> "PKCS_1", "SHA-256" ->
    # "SHA_256"); after a lower-case letter it separates words ("Re-key" ->
    # "ReKey", "Pre-Active" -> "PreActive"), as the OASIS test cases spell them.
    s = re.sub(r"(?<=[A-Z0-9])[^\w\s](?=[A-Za-z0-9])", "_", s)
    s = re.sub(r"[^\w\s]", " ", s)
    words = s.split()
    if words and words[0][0].isdigit():
        m = re.match(r"(\d+)(.*)", words[0])
        words[0] = m.group(2) + m.group(1)
    return "".join(w[0].upper() + w[1:] for w in words if w)


def c_ident(name):
    s = re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").upper()
    if s and s[0].isdigit():
        s = "_" + s
    return s


def cstr(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_value(text, bits, where):
    """A hexadecimal value (0x...) of at most `bits` bits."""
    v = None
    if text[:2] in ("0x", "0X"):
        try:
            v = int(text[2:], 16)
        except ValueError:
            pass
    if v is None or v >= 1 << bits:
        raise SystemExit("%s: expected a hexadecimal value of at most %d bits (0x...), found %r"
                         % (where, bits, text))
    return v


def load(paths):
    tags = {}  # value -> name
    enums = {}  # enum name -> {"values": {value: name}, "aliases": {name: value}, "tags": set}
    masks = {}
    for path in paths:
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        current = None  # the enumeration or mask that value and tags lines belong to
        current_name, current_tagged = None, False

        def end_block():
            # an enumeration or mask without a tags line is held by the tag of its name
            if current is not None and not current_tagged:
                current["tags"].add(current_name)

        for number, line in enumerate(lines, 1):
            where = "%s:%d" % (path, number)
            if not line.strip() or line.startswith("#"):
                continue
            word, _, rest = line.strip().partition(" ")
            rest = rest.strip()
            if word == "tag":
                value, _, name = rest.partition(" ")
                name = name.strip()
                if not name:
                    raise SystemExit("%s: expected 'tag 0xTTTTTT NAME'" % where)
                tags.setdefault(parse_value(value, 24, where), name)
                end_block()
                current = None
            elif word in ("enum", "mask"):
                if not rest:
                    raise SystemExit("%s: expected '%s NAME'" % (where, word))
                store = enums if word == "enum" else masks
                end_block()
                current = store.setdefault(rest, {"values": {}, "aliases": {}, "tags": set()})
                current_name, current_tagged = rest, False
            elif word in ("value", "tags") and current is None:
                raise SystemExit("%s: '%s' outside an enum or mask" % (where, word))
            elif word == "value":
                value, _, name = rest.partition(" ")
                name = name.strip()
                if not name:
                    raise SystemExit("%s: expected 'value 0xVVVVVVVV NAME'" % where)
                v = parse_value(value, 32, where)
                current["values"].setdefault(v, name)
                current["aliases"][name] = v
            elif word == "tags":
                names = [t.strip() for t in rest.split("|")]
                if not all(names):
                    raise SystemExit("%s: expected 'tags NAME | NAME ...'" % where)
                current["tags"].update(names)
                current_tagged = True
            else:
                raise SystemExit("%s: unknown statement %r (expected tag, enum, mask, value or tags)"
                                 % (where, word))
        end_block()
    return tags, enums, masks


def emit(out_h, out_c, tags, enums, masks):
    tag_by_name = {n: v for v, n in tags.items()}
    h = ["/* Generated by gen_registry.py from src/registry/kmip_registry.txt: do not edit. */",
         "#ifndef KMIP_TAGS_H", "#define KMIP_TAGS_H", ""]
    h.append("/* Tags (KMIP 1.4 section 9.1.3.1, 2.0/2.1 section 9.1.3.1). */")
    seen = set()
    for v in sorted(tags):
        ident = "KMIP_TAG_" + c_ident(tags[v])
        if ident in seen:
            continue
        seen.add(ident)
        h.append("#define %s 0x%06Xu" % (ident, v))
    for kind, store in (("enumeration", enums), ("mask", masks)):
        for ename in sorted(store):
            h.append("")
            h.append("/* %s %s */" % (ename, kind))
            pre = "KMIP_" + c_ident(ename) + "_"
            for vname, v in sorted(store[ename]["aliases"].items(), key=lambda kv: (kv[1], kv[0])):
                ident = pre + c_ident(vname)
                if ident in seen:
                    continue
                seen.add(ident)
                h.append("#define %s 0x%08Xu" % (ident, v))
    h += ["", "#endif", ""]
    with open(out_h, "w", encoding="utf-8") as f:
        f.write("\n".join(h))

    c = ["/* Generated by gen_registry.py from src/registry/kmip_registry.txt: do not edit. */",
         '#include "registry_data.h"', ""]
    tag_list = sorted(tags.items())
    c.append("const kmip_tag_def kmip_reg_tags[] = {")
    for v, n in tag_list:
        c.append("    {0x%06Xu, %s, %s}," % (v, cstr(n), cstr(xml_name(n, True))))
    c.append("};")
    c.append("const size_t kmip_reg_tag_count = %d;" % len(tag_list))
    for key, fn in (("xml", lambda t: xml_name(t[1], True)), ("name", lambda t: t[1])):
        idx = sorted(range(len(tag_list)), key=lambda i: fn(tag_list[i]).encode())
        c.append("const unsigned short kmip_reg_tags_by_%s[] = {%s};" %
                 (key, ", ".join(map(str, idx))))

    def emit_sets(store, label):
        names = sorted(store)
        for i, ename in enumerate(names):
            vals = sorted(store[ename]["values"].items())
            c.append("static const kmip_value_def %s_%d[] = {" % (label, i))
            for v, n in vals:
                c.append("    {0x%08Xu, %s, %s}," % (v, cstr(n), cstr(xml_name(n))))
            if not vals:
                c.append("    {0, NULL, NULL},")
            c.append("};")
            aliases = sorted(store[ename]["aliases"].items(), key=lambda kv: xml_name(kv[0]).encode())
            c.append("static const kmip_alias_def %s_%d_alias[] = {" % (label, i))
            for n, v in aliases:
                c.append("    {%s, 0x%08Xu}," % (cstr(xml_name(n)), v))
            if not aliases:
                c.append("    {NULL, 0},")
            c.append("};")
        c.append("const kmip_enum_def kmip_reg_%s[] = {" % label)
        for i, ename in enumerate(names):
            n_vals = len(store[ename]["values"])
            n_alias = len(store[ename]["aliases"])
            c.append("    {%s, %s_%d, %d, %s_%d_alias, %d}," %
                     (cstr(ename), label, i, n_vals, label, i, n_alias))
        c.append("};")
        pairs = []
        for i, ename in enumerate(names):
            for t in store[ename]["tags"]:
                if t not in tag_by_name:
                    raise SystemExit("%s %s names unknown tag %s" % (label, ename, t))
                pairs.append((tag_by_name[t], i))
        pairs.sort()
        c.append("const kmip_tag_set kmip_reg_%s_by_tag[] = {" % label)
        for t, i in pairs:
            c.append("    {0x%06Xu, %d}," % (t, i))
        c.append("};")
        c.append("const size_t kmip_reg_%s_by_tag_count = %d;" % (label, len(pairs)))

    emit_sets(enums, "enums")
    emit_sets(masks, "masks")
    c.append("")
    with open(out_c, "w", encoding="utf-8") as f:
        f.write("\n".join(c))


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    tags, enums, masks = load(sys.argv[3:])
    emit(sys.argv[1], sys.argv[2], tags, enums, masks)


if __name__ == "__main__":
    main()
