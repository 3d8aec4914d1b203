#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The hardening of the shipped binaries of an optimised build: full RELRO
# (GNU_RELRO and BIND_NOW), no executable stack, position-independent
# executables, fortified libc calls (_FORTIFY_SOURCE=2: __*_chk imports),
# the stack protector, and on x86-64 -fcf-protection's ENDBR64 landing pads
# (Debian 12's own start files carry no CET property note, so the linked
# files have none either; the instrumentation is checked instead). Lists
# what is missing and fails.
# Usage: scripts/check_hardening.sh BUILD_DIR
set -eu
build=$1
bad=0
for f in tools/keyring-kmip/keyring-kmip src/component_keyring_kmip.so src/libkmip_proto.so.0 \
    src/libkmip_client.so.0 src/libkeyring_kmip.so.0 plugins/mariadb/kmip_key_management.so; do
    p=$build/$f
    [ -f "$p" ] || { [ "${f#plugins/}" != "$f" ] && continue; echo "missing: $p"; bad=1; continue; }
    missing=""
    readelf -lW "$p" | grep -q GNU_RELRO || missing="$missing relro"
    readelf -dW "$p" | grep -Eq 'BIND_NOW|FLAGS.*NOW' || missing="$missing bind-now"
    readelf -lW "$p" | grep GNU_STACK | grep -q RWE && missing="$missing non-exec-stack"
    readelf -hW "$p" | grep -q 'DYN' || missing="$missing pie"
    nm -D "$p" | grep -q '__[a-z_]*_chk' || missing="$missing fortify"
    nm -D "$p" | grep -q '__stack_chk_fail' || missing="$missing stack-protector"
    if [ "$(uname -m)" = x86_64 ] && ! objdump -d "$p" | grep -q endbr64; then
        missing="$missing cf-protection"
    fi
    if [ -n "$missing" ]; then
        echo "$f lacks:$missing"
        bad=1
    else
        echo "$f: relro, bind-now, non-exec stack, PIE/PIC, fortify, stack protector, cf-protection"
    fi
done
exit $bad
