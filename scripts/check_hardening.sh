#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The hardening of the shipped binaries of an optimised build: full RELRO
# (GNU_RELRO and BIND_NOW), no executable stack, position-independent
# executables, fortified libc calls (_FORTIFY_SOURCE=2: __*_chk imports),
# the stack protector, and on x86-64 -fcf-protection's ENDBR64 landing pads
# (Debian 12's own start files carry no CET property note, so the linked
# files have none either; the instrumentation is checked instead: every
# global function of the file's own begins with ENDBR64, since the start
# files bring landing pads of their own). Lists what is missing and fails.
# Usage: scripts/check_hardening.sh BUILD_DIR
set -eu
build=$1
bad=0
# cf_protected FILE: every global function not named _* (the start files'
# and libc's) begins with endbr64, and so do most functions of the file
# (static ones only called directly may lack it; the MariaDB plugin
# exports no function at all)
cf_protected() {
    fns=$({ nm --defined-only "$1" 2> /dev/null; nm -D --defined-only "$1" 2> /dev/null; } |
        awk '$2 == "T" && $3 !~ /^_/ { sub(/@.*/, "", $3); print $3 }' | sort -u)
    objdump -d --no-show-raw-insn "$1" | awk -v list="$fns" '
        BEGIN { n = split(list, a, "\n"); for (i = 1; i <= n; i++) global[a[i]] = 1 }
        /^[0-9a-f]+ <.*>:$/ {
            name = substr($2, 2, length($2) - 3)
            # not the PLT, nor the functions of crtstuff (never built with CET)
            first = name !~ /^_|@plt|^(deregister_tm_clones|register_tm_clones|frame_dummy)$/
            next
        }
        first && NF {
            first = 0
            if ($0 ~ /endbr64/) with++
            else { without++; if (name in global) bad++ }
        }
        END { exit !(bad == 0 && with > without) }'
}

for f in tools/keyring-kmip/keyring-kmip src/component_keyring_kmip.so src/libkmip_proto.so.0 \
    src/libkmip_client.so.0 src/libkeyring_kmip.so.0 plugins/mariadb/kmip_key_management.so; do
    p=$build/$f
    [ -f "$p" ] || { [ "${f#plugins/}" != "$f" ] && continue; echo "missing: $p"; bad=1; continue; }
    missing=""
    readelf -lW "$p" | grep -q GNU_RELRO || missing="$missing relro"
    readelf -dW "$p" | grep -Eq 'BIND_NOW|FLAGS.*NOW' || missing="$missing bind-now"
    readelf -lW "$p" | grep GNU_STACK | grep -q RWE && missing="$missing non-exec-stack"
    readelf -hW "$p" | grep -q 'DYN' || missing="$missing pie"
    # a fortified call (__memcpy_chk...), not the stack protector's __stack_chk_fail
    nm -D "$p" | grep -Eq ' __[a-z0-9_]+_chk(@|$)' || missing="$missing fortify"
    nm -D "$p" | grep -q '__stack_chk_fail' || missing="$missing stack-protector"
    if [ "$(uname -m)" = x86_64 ] && ! cf_protected "$p"; then
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
