#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Key material in the command line tool's output: never in list, status,
# check or error output, --json included, nor in `ttlv decode` of the very
# responses that carried it (redacted), unless asked for (get, --show-secrets).
# Usage: test_secrets_cli.sh KEYRING_KMIP TEST_SERVER FIXTURE_DIR
set -u
cli=$1 server=$2 fixture=$(cd "$3" && pwd)
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$work"' EXIT
failures=0
check() { # description, expected exit status, command...: it must not show the key
    d=$1 want=$2; shift 2
    "$@" > "$work/out" 2>&1
    got=$?
    if [ "$got" != "$want" ]; then
        echo "FAIL: $d exited $got, expected $want:"; cat "$work/out"; failures=$((failures + 1))
    elif grep -qi "$hex" "$work/out" || grep -qF "$raw" "$work/out"; then
        echo "FAIL: $d shows the key"; failures=$((failures + 1))
    else
        echo "ok: $d"
    fi
}
hex=5ec2e7f00dfacade0123456789abcdef   # first 16 bytes of the key, in hex
raw='Z9#secret-KEY-bytes'
mkdir "$work/dump"
"$server" --cert "$fixture/server.crt" --key "$fixture/server.key" --ca "$fixture/ca.crt" \
    --port-file "$work/port" --dump-dir "$work/dump" 2>/dev/null &
pid=$!
while [ ! -s "$work/port" ]; do sleep 0.1; done
cnf=$work/k.cnf
printf '{"server_addr": "127.0.0.1", "server_port": %s, "client_ca": "%s", "client_key": "%s", "server_ca": "%s", "object_group": "cli-secrets"}\n' \
    "$(cat "$work/port")" "$fixture/client.crt" "$fixture/client.key" "$fixture/ca.crt" > "$cnf"

check "store (hex key)" 0 "$cli" store k1 --type AES --hex "${hex}fedcba9876543210fedcba9876543210" --config "$cnf"
printf '%s' "$raw" > "$work/raw"
check "store (key file)" 0 "$cli" store k2 --type SECRET --file "$work/raw" --config "$cnf"
check "store again (error)" 6 "$cli" store k1 --type AES --hex "${hex}00" --config "$cnf"
check "list" 0 "$cli" list --config "$cnf"
check "list --json" 0 "$cli" list --json --config "$cnf"
check "status" 0 "$cli" status --config "$cnf"
check "status --json" 0 "$cli" status --json --config "$cnf"
check "check" 0 "$cli" check --config "$cnf"
check "get of a missing key (error)" 5 "$cli" get nope --config "$cnf"
n=0
for f in "$work"/dump/*.bin; do
    check "ttlv decode $(basename "$f") (xml)" 0 "$cli" ttlv decode "$f"
    check "ttlv decode $(basename "$f") (text)" 0 "$cli" ttlv decode --out text "$f"
    n=$((n + 1))
done
[ $n -ge 6 ] || { echo "FAIL: only $n responses captured"; failures=$((failures + 1)); }
# asked for: the key is there
"$cli" get k1 --hex --config "$cnf" | grep -qi "$hex" && echo "ok: get --hex shows it" ||
    { echo "FAIL: get --hex"; failures=$((failures + 1)); }
shown=0
for f in "$work"/dump/*.bin; do
    "$cli" ttlv decode --show-secrets "$f" | grep -qi "$hex" && shown=1
done
[ $shown = 1 ] && echo "ok: ttlv decode --show-secrets shows it" ||
    { echo "FAIL: --show-secrets"; failures=$((failures + 1)); }
echo "$failures failures"
[ $failures = 0 ]
