#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# keyring-kmip keyring commands through a scratch installation (manifest,
# component module, configuration) against the fixture's PyKMIP server.
# Usage: test_keyring_cli.sh KEYRING_KMIP COMPONENT_SO FIXTURE_DIR
set -u
cli=$1
module=$2
. "$3/env"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
mkdir -p "$tmp/base" "$tmp/plugin" "$tmp/data"
cp "$module" "$tmp/plugin/"
echo '{"components": "file://component_keyring_kmip"}' > "$tmp/base/mysqld.my"
group="cli-$$-$(date +%s)"
cat > "$tmp/plugin/component_keyring_kmip.cnf" <<JSON
{"server_addr": "127.0.0.1", "server_port": $PORT, "client_ca": "$CLIENT_CERT",
 "client_key": "$CLIENT_KEY", "server_ca": "$CA", "object_group": "$group",
 "kmip_timeout_ms": 3000}
JSON
at="--basedir $tmp/base --plugin-dir $tmp/plugin --datadir $tmp/data"
check() { # status pattern args...
    want=$1 pattern=$2
    shift 2
    "$cli" "$@" > "$tmp/out" 2>&1
    status=$?
    if [ $status -eq "$want" ] && { [ -z "$pattern" ] || grep -q -- "$pattern" "$tmp/out"; }; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL: keyring-kmip $* gave status $status:"
        cat "$tmp/out"
    fi
}
check 0 "KMIP_version   2.0" check $at
check 0 "Key_count      0" check $at
# the seed's file:/// loads here, but mysqld's path filter refuses it: check says so
echo '{"components": "file:///component_keyring_kmip"}' > "$tmp/base/mysqld.my"
check 0 "warning: .*write \"file://component_keyring_kmip\"" check $at
echo '{"components": "file://component_keyring_kmip"}' > "$tmp/base/mysqld.my"
# a module that is not a MySQL component (no list_components) is refused
cp "$tmp/plugin/component_keyring_kmip.so" "$tmp/good.so"
cp /bin/true "$tmp/plugin/component_keyring_kmip.so" 2>/dev/null
check 4 "cannot load" list $at
printf '' > "$tmp/plugin/component_keyring_kmip.so"
check 4 "cannot load" list $at
cp "$tmp/good.so" "$tmp/plugin/component_keyring_kmip.so"
check 0 "" store k1 --type aes --hex 00112233445566778899aabbccddeeff $at
check 6 "exists already" store k1 --type AES --hex 00 $at
check 0 "" store k1 --type SECRET --auth-id bob --hex 626f62 $at
check 0 "" generate g1 --type AES --length 32 $at
check 0 "^k1	bob$" list $at
check 0 '"data_id":"g1"' list --json $at
check 0 "^00112233445566778899aabbccddeeff$" get k1 --hex $at
check 0 '"type":"SECRET","hex":"626f62"' get k1 --auth-id bob --json $at
check 5 "no key nope" get nope $at
check 0 "Key_count            3" status $at
check 0 "License              GPL-2.0-only" status $at
check 0 "Key_count      3" check $at
check 1 "unknown key type" store k9 --type blowfish --hex 00 $at
check 1 "not a hex digit" store k9 --type AES --hex zz $at
check 0 "" remove k1 $at
check 0 "" remove k1 --auth-id bob $at
check 0 "" remove g1 $at
check 5 "no key" remove k1 $at
check 2 "a key ID is required" get $at
KRK_MYSQL_OPTION_FILES=$tmp/none check 2 "no MySQL option file" list
# an empty or over-long id says so (not "no key")
check 1 "the key id (data_id) is empty" get "" $at
long=$(printf '%02000d' 0)
check 1 "the key id (data_id) has 2000 bytes, more than the 1024 allowed" get "$long" $at
check 1 "the auth_id has 2000 bytes, more than the 1024 allowed" remove k1 --auth-id "$long" $at
# the server's identity refused: its own status in every command (7)
sed "s|\"server_ca\": \"$CA\"|\"server_ca\": \"$OTHER_CA\"|" "$tmp/plugin/component_keyring_kmip.cnf" > "$tmp/other.cnf"
for cmd in check status list "get k1" "store k9 --type AES --hex 00" "generate g9 --type AES --length 16" "remove k1"; do
    check 7 "server certificate is not signed by the configured CA" $cmd --config "$tmp/other.cnf"
done
# directly from a configuration file
check 0 "Key_count      0" check --config "$tmp/plugin/component_keyring_kmip.cnf"
# a configuration problem is named, and is its own exit status
cp "$tmp/plugin/component_keyring_kmip.cnf" "$tmp/good.cnf"
echo '{"server_addr": "127.0.0.1"}' > "$tmp/plugin/component_keyring_kmip.cnf"
check 4 "component_keyring_kmip.cnf: missing required key \"server_port\"" check $at
mv "$tmp/base/mysqld.my" "$tmp/base/old.my"
check 4 "no manifest, so no keyring component is loaded" check $at
mv "$tmp/base/old.my" "$tmp/base/mysqld.my"
# the server unreachable: a clear failure, within the configured timeout
sed "s/\"server_port\": $PORT/\"server_port\": 1/" "$tmp/good.cnf" > "$tmp/plugin/component_keyring_kmip.cnf"
start=$(date +%s)
check 3 "cannot reach the KMIP server 127.0.0.1:1" check $at
[ $(( $(date +%s) - start )) -le 5 ] && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: slow failure"; }
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
