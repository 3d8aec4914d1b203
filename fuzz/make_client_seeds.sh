#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Regenerates fuzz/corpus/client (checked in): real responses of our KMIP
# test server to the client's own requests (probe, store, generate, list,
# remove through keyring-kmip), each prefixed with every scenario byte of
# fuzz_client.c. Needs a build (BUILD, default build) and the PyKMIP
# fixture's certificates (FIXTURE, default BUILD/tests/pykmip-fixture).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
fixture=${FIXTURE:-$build/tests/pykmip-fixture}
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir "$work/dump"
"$build/tests/server/kmip_test_server" --cert "$fixture/server.crt" --key "$fixture/server.key" \
    --ca "$fixture/ca.crt" --port-file "$work/port" --dump-dir "$work/dump" 2>/dev/null &
pid=$!
while [ ! -s "$work/port" ]; do sleep 0.1; done
port=$(cat "$work/port")
cli="$build/tools/keyring-kmip/keyring-kmip"
"$cli" probe --server "127.0.0.1:$port" --ca "$fixture/ca.crt" --cert "$fixture/client.crt" \
    --key "$fixture/client.key" > /dev/null
printf '{"server_addr": "127.0.0.1", "server_port": %s, "client_ca": "%s", "client_key": "%s", "server_ca": "%s", "object_group": "seeds"}\n' \
    "$port" "$fixture/client.crt" "$fixture/client.key" "$fixture/ca.crt" > "$work/k.cnf"
"$cli" store one --type AES --hex 000102030405060708090a0b0c0d0e0f --config "$work/k.cnf" > /dev/null
"$cli" generate two --type AES --length 32 --config "$work/k.cnf" > /dev/null
"$cli" list --config "$work/k.cnf" > /dev/null
"$cli" remove one --config "$work/k.cnf" > /dev/null
out="$top/fuzz/corpus/client"
rm -rf "$out"
mkdir -p "$out"
for f in "$work"/dump/*.bin; do
    n=$(basename "$f" .bin)
    for s in 0 1 2 3 4 5 6 7 8 24; do
        { printf "\\$(printf '%03o' "$s")"; cat "$f"; } > "$out/$n-s$s"
    done
done
echo "$(ls "$out" | wc -l) seeds in $out"
