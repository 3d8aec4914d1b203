#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Checks that every include under src/ and include/ points down the layer
order of the house (README, docs/ARCHITECTURE.md), and that the client's
sans-I/O core (src/client/core*) includes nothing that does I/O:

    codec -> registry -> messages -> transport -> client -> keyring

A file may include headers of its own layer and of layers below it, never
one above. The codec, registry and message layers link no OpenSSL (and the
codec no libxml2 or jansson). Front ends (tools/, plugins/, the component's
own folder) sit above every layer and are not checked. A project header
that is in no layer is an error: add it to the table below.

Usage: check_layers.py [REPO]   (exit 0 when clean, 1 with one line per
offending include, naming the file, the line and the layers involved)."""
import os
import re
import sys

ORDER = ["codec", "registry", "messages", "transport", "client", "keyring"]

# Folders of src/ (internal headers and sources) by layer.
FOLDERS = {
    "src/codec": "codec",
    "src/registry": "registry",
    "src/messages": "messages",
    "src/transport": "transport",
    "src/client": "client",
    "src/keyring": "keyring",
}
# Folders of src/ above every layer (front ends built from src/).
FRONT_END_FOLDERS = {"src/component"}

# Public headers by layer (include/ paths as written in an #include).
PUBLIC = {
    "kmip/kmip_export.h": "codec",
    "kmip/kmip_errors.h": "codec",
    "kmip/kmip_ttlv.h": "codec",
    "kmip/kmip_registry.h": "registry",
    "kmip/kmip_tags.h": "registry",  # generated
    "kmip/kmip_message.h": "messages",
    "kmip/kmip_xml.h": "messages",
    "kmip/kmip_common.h": "transport",
    "kmip/kmip_client.h": "client",
    "keyring_kmip/krk.h": "keyring",
    "keyring_kmip/krk_config.h": "keyring",
    "keyring_kmip/krk_loader.h": "keyring",
    "keyring_kmip/krk_mysql_abi.h": "keyring",  # MySQL's component ABI, our declarations
    "keyring_kmip/krk_admin.h": "keyring",
    "keyring_kmip/krk_chassis.h": "keyring",
}

# System libraries a layer may not use: prefix of the <...> include.
FORBIDDEN_SYSTEM = {
    "codec": ("openssl/", "libxml/", "jansson.h"),
    "registry": ("openssl/", "libxml/", "jansson.h"),
    "messages": ("openssl/", "jansson.h"),
}

# The client's sans-I/O core (src/client/core*.c, core.h): no sockets, no
# clock, no threads, no OpenSSL, nothing of the transport layer or of the
# client's I/O side (client_internal.h, servers.h); its drivers do the I/O.
SANS_IO = re.compile(r"^src/client/core[^/]*\.[ch]$")
SANS_IO_SYSTEM = ("openssl/", "sys/", "netdb.h", "netinet/", "arpa/", "poll.h", "unistd.h",
                  "time.h", "pthread.h", "fcntl.h")
SANS_IO_LOCAL = ("client_internal.h", "servers.h", "transport.h")

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def rank(layer):
    return ORDER.index(layer)


def layer_of_file(rel):
    folder = os.path.dirname(rel)
    if folder in FRONT_END_FOLDERS:
        return None
    if folder in FOLDERS:
        return FOLDERS[folder]
    if rel.startswith("include/"):
        return PUBLIC.get(rel[len("include/"):], "unknown")
    return "unknown"


def layer_of_include(src_rel, target, quoted):
    """The layer of the header `target` included from src_rel."""
    if not quoted:
        return None
    if "/" in target and not target.startswith("."):
        if target in PUBLIC:
            return PUBLIC[target]
    here = os.path.dirname(src_rel)
    local = os.path.normpath(os.path.join(here, target))
    if local.startswith("include/"):
        return PUBLIC.get(local[len("include/"):], "unknown")
    folder = os.path.dirname(local)
    if folder in FOLDERS:
        return FOLDERS[folder]
    if folder in FRONT_END_FOLDERS:
        return "front end"
    return "unknown"


def main():
    repo = sys.argv[1] if len(sys.argv) > 1 else "."
    problems = []
    checked = 0
    for top in ("src", "include"):
        for dirpath, _, files in os.walk(os.path.join(repo, top)):
            for name in sorted(files):
                if not name.endswith((".c", ".h")):
                    continue
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, repo)
                layer = layer_of_file(rel)
                if layer is None:
                    continue
                if layer == "unknown":
                    problems.append(f"{rel}: is in no layer (add its folder or header to scripts/check_layers.py)")
                    continue
                checked += 1
                with open(path, encoding="utf-8") as f:
                    for lineno, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        quoted, target = m.group(1) == '"', m.group(2)
                        if SANS_IO.match(rel.replace(os.sep, "/")):
                            if (not quoted and target.startswith(SANS_IO_SYSTEM)) or (
                                    quoted and (os.path.basename(target) in SANS_IO_LOCAL or
                                                layer_of_include(rel, target, True) == "transport")):
                                shown = f'"{target}"' if quoted else f"<{target}>"
                                problems.append(f"{rel}:{lineno}: the sans-I/O client core includes {shown}, which does I/O")
                                continue
                        if not quoted:
                            for bad in FORBIDDEN_SYSTEM.get(layer, ()):
                                if target.startswith(bad):
                                    problems.append(f"{rel}:{lineno}: the {layer} layer includes <{target}>, which it must not use")
                            continue
                        inc = layer_of_include(rel, target, quoted)
                        if inc == "unknown":
                            problems.append(f"{rel}:{lineno}: \"{target}\" is in no layer (add it to scripts/check_layers.py)")
                        elif inc == "front end":
                            problems.append(f"{rel}:{lineno}: the {layer} layer includes \"{target}\" of a front end")
                        elif rank(inc) > rank(layer):
                            problems.append(f"{rel}:{lineno}: the {layer} layer includes \"{target}\" of the {inc} layer above it")
    for p in problems:
        print(p)
    if problems:
        print(f"check_layers: {len(problems)} include(s) point up or out of the layers")
        return 1
    print(f"check_layers: {checked} files, every include points down ({' -> '.join(ORDER)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
