#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Compares the ABI of the three shared libraries just built with the ABI
# dumps committed in abi/ (libabigail's abidw/abidiff, Debian abigail-tools):
# the dumps are the last release's ABI. Added functions are compatible and
# only reported; a removed or changed function, or a changed public type,
# is an incompatible change and fails (it needs a new SONAME or a new
# version node in src/*.map, and an updated dump).
#
# Usage: check_abi.sh BUILD_DIR            compare, exit 1 on incompatible change
#        check_abi.sh BUILD_DIR --update   write abi/*.abi from BUILD_DIR (a release)
set -eu
build=$1
mode=${2:-check}
top=$(cd "$(dirname "$0")/.." && pwd)
# Overridable for the script's own test (tests/cli/test_check_scripts.sh).
abi=${ABI_DIR:-$top/abi}
headers=${ABI_HEADERS:-$top/include}
status=0
# Opaque handles (declared "typedef struct X X;" in a public header, defined
# only in src/): callers never see their layout, so a change inside one (or
# in a type reached only through one) is not an ABI change.
suppr=$(mktemp)
trap 'rm -f "$suppr"' EXIT
for t in $(grep -rhoE 'typedef struct ([a-z_]+) \1;' "$headers" | sed -E 's/typedef struct ([a-z_]+) .*/\1/' | sort -u); do
    grep -rqE "struct $t \{" "$headers" || printf '[suppress_type]\n  name = %s\n\n' "$t" >> "$suppr"
done
# Enumerators added at the end of an enum whose last member counts them
# (KMIP_CLIENT_E__COUNT): the count's new value is the only change to an
# existing enumerator, which libabigail reports unless told (an enumerator
# inserted before others, or another value changed, still fails).
counts=$(grep -rhoE '\b[A-Z0-9_]+__COUNT\b' "$headers" | sort -u | paste -sd, -)
[ -z "$counts" ] || printf '[suppress_type]\n  type_kind = enum\n  changed_enumerators = %s\n\n' "$counts" >> "$suppr"
for lib in ${ABI_LIBS:-libkmip_proto libkmip_client libkeyring_kmip}; do
    so=$build/src/$lib.so.0
    [ -f "$so" ] || { echo "check_abi: $so is missing (build first)" >&2; exit 2; }
    # Public headers only: what is in src/ is not part of the ABI.
    set -- --headers-dir "$headers" --headers-dir "$build/include" --no-show-locs
    if [ "$mode" = --update ]; then
        mkdir -p "$abi"
        abidw "$@" --out-file "$abi/$lib.abi" "$so"
        echo "check_abi: wrote abi/$lib.abi"
        continue
    fi
    [ -f "$abi/$lib.abi" ] || { echo "check_abi: abi/$lib.abi is missing (check_abi.sh BUILD --update)" >&2; exit 2; }
    abidw "$@" --out-file "$build/$lib.abi" "$so"
    rc=0
    abidiff --no-show-locs --suppressions "$suppr" "$abi/$lib.abi" "$build/$lib.abi" \
        > "$build/$lib.abidiff" || rc=$?
    # abidiff's status is a bit field: 1 error, 2 usage, 4 ABI change, 8 incompatible change.
    if [ $((rc & 3)) -ne 0 ]; then
        echo "check_abi: abidiff failed on $lib ($rc)" >&2
        cat "$build/$lib.abidiff" >&2
        status=1
    elif [ $((rc & 8)) -ne 0 ] || grep -Eq '(^|[^0-9])[1-9][0-9]* (Removed|Changed)' "$build/$lib.abidiff"; then
        # abidiff flags only some breaks as incompatible (8): a changed
        # parameter type is "an ABI change" (4). Anything removed or changed
        # fails here; only additions pass.
        echo "check_abi: $lib: INCOMPATIBLE change against abi/$lib.abi:"
        cat "$build/$lib.abidiff"
        status=1
    elif [ $((rc & 4)) -ne 0 ]; then
        echo "check_abi: $lib: compatible additions against abi/$lib.abi:"
        cat "$build/$lib.abidiff"
    else
        echo "check_abi: $lib: same ABI as abi/$lib.abi"
    fi
done
exit $status
