#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# keyring-kmip ttlv: round trips of real server messages and clear failures
# on bad input. Usage: test_cli.sh KEYRING_KMIP DATA_DIR [CAPTURE_DIR]
# CAPTURE_DIR defaults to DATA_DIR/pykmip (messages captured from PyKMIP).
set -u
cli=$1
data=$2
captures=${3:-$data/pykmip}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# 1. every captured message: hex -> XML -> hex and hex -> bin -> XML -> bin
for f in "$captures"/*.hex; do
    want=$(tr -d ' \n' < "$f")
    got=$("$cli" ttlv decode --in hex --show-secrets "$f" | "$cli" ttlv encode --out hex)
    [ "$got" = "$want" ] && ok || bad "hex round trip of $f"
    "$cli" ttlv decode --in hex --show-secrets "$f" | "$cli" ttlv encode > "$tmp/m.bin"
    "$cli" ttlv decode --show-secrets < "$tmp/m.bin" | "$cli" ttlv encode --out hex > "$tmp/m.hex"
    [ "$(cat "$tmp/m.hex")" = "$want" ] && ok || bad "binary round trip of $f"
done
versions=$(ls "$captures" | sed -n 's/^[0-9]*-\([0-9.]*\)-.*/\1/p' | sort -u | tr '\n' ' ')
echo "round-tripped $(ls "$captures"/*.hex | wc -l) captured messages, KMIP versions: $versions"

# 2. an error response decodes with its result
errs=0
for f in "$captures"/*response.hex; do
    "$cli" ttlv decode --in hex "$f" | grep -q 'ResultStatus type="Enumeration" value="OperationFailed"' &&
        errs=$((errs + 1))
done
[ "$errs" -gt 0 ] && ok || bad "no error response among the captures"

# 3. key material is redacted unless asked for
get=$(grep -l 42004308 "$captures"/*response.hex | head -n 1)
if [ -n "$get" ]; then
    "$cli" ttlv decode --in hex "$get" > "$tmp/red.xml"
    grep -q 'KeyMaterial type="ByteString" redacted=' "$tmp/red.xml" && ok || bad "key material not redacted"
    "$cli" ttlv encode < "$tmp/red.xml" > /dev/null 2> "$tmp/err"
    [ $? -eq 1 ] && grep -q redacted "$tmp/err" && ok || bad "redacted XML was encoded"
    "$cli" ttlv decode --in hex --out text "$get" | grep -q 'KeyMaterial (ByteString): \[redacted' &&
        ok || bad "text output not redacted"
else
    bad "no Get response with key material among the captures"
fi

# 4. bad input: exit status 1 and a message naming the place
expect_fail() { # status, stderr pattern, command...
    want_status=$1 pattern=$2
    shift 2
    "$@" > /dev/null 2> "$tmp/err"
    status=$?
    if [ $status -eq "$want_status" ] && grep -q -- "$pattern" "$tmp/err"; then
        ok
    else
        bad "'$*' gave status $status: $(cat "$tmp/err")"
    fi
}
printf '42007801 000000zz\n' > "$tmp/badhex"
expect_fail 1 "character 15: 'z' is not a hex digit" "$cli" ttlv decode --in hex "$tmp/badhex"
printf '420078 01 00000010 420077 01 00000000' > "$tmp/short.hex"
expect_fail 1 "byte 0: tag 0x420078 declares 16 value bytes, 8 remain" \
    "$cli" ttlv decode --in hex "$tmp/short.hex"
printf '4200200700000002 C0AF000000000000' > "$tmp/utf8.hex"
expect_fail 1 "byte 8: Text String is not valid UTF-8" "$cli" ttlv decode --in hex "$tmp/utf8.hex"
printf '<RequestMessage>\n  <Bogus/>\n</RequestMessage>\n' > "$tmp/bad.xml"
expect_fail 1 "bad.xml:2: <Bogus> is not a KMIP tag name" "$cli" ttlv encode "$tmp/bad.xml"
printf '<RequestMessage>\n' > "$tmp/broken.xml"
expect_fail 1 "not well-formed XML" "$cli" ttlv encode "$tmp/broken.xml"
expect_fail 1 "No such file" "$cli" ttlv decode "$tmp/does-not-exist"
expect_fail 2 "unknown or incomplete option '--frobnicate'" "$cli" ttlv decode --frobnicate
expect_fail 2 "unsupported format 'json'" "$cli" ttlv decode --out json
expect_fail 2 "unknown command 'nope'" "$cli" nope
"$cli" --help | grep -q "ttlv decode" && ok || bad "--help"
"$cli" ttlv --help | grep -q -- "--show-secrets" && ok || bad "ttlv --help"

# 5. any single item, not only messages
printf '<UniqueIdentifier type="TextString" value="abc"/>' | "$cli" ttlv encode --out hex |
    grep -qx '42009407000000036162630000000000' && ok || bad "single item encode"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
