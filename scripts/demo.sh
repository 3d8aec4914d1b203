#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The main job: a local KMIP server (PyKMIP, certificates generated now), a
# scratch MySQL-style installation with the manifest mysqld.my and the
# configuration component_keyring_kmip.cnf, and keyring-kmip running the
# component through its manifest to store, list, fetch, generate and
# remove keys. Then a captured KMIP message decoded to XML and back.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bash "$top/scripts/deps.sh"
cmake -S "$top" -B "$top/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build "$top/build" -j"$(nproc)" > /dev/null
cli=$top/build/tools/keyring-kmip/keyring-kmip
work=$(mktemp -d)
trap '/usr/bin/python3 "$top/tests/pykmip/pykmip_harness.py" stop "$work/kms" > /dev/null 2>&1; rm -rf "$work"' EXIT

echo "== a local KMIP server: PyKMIP on loopback, mutual TLS, certificates generated now"
/usr/bin/python3 "$top/tests/pykmip/pykmip_harness.py" start "$work/kms"
. "$work/kms/env"

echo "== a scratch installation: manifest, component, configuration"
mkdir -p "$work/mysql/bin" "$work/mysql/lib/plugin" "$work/mysql/data"
cp "$top/build/src/component_keyring_kmip.so" "$work/mysql/lib/plugin/"
cat > "$work/mysql/bin/mysqld.my" <<JSON
{ "components": "file://component_keyring_kmip" }
JSON
cat > "$work/mysql/lib/plugin/component_keyring_kmip.cnf" <<JSON
{
  "server_addr": "127.0.0.1",
  "server_port": "$PORT",
  "client_ca": "$CLIENT_CERT",
  "client_key": "$CLIENT_KEY",
  "server_ca": "$CA",
  "object_group": "demo"
}
JSON
chmod 600 "$work/mysql/lib/plugin/component_keyring_kmip.cnf"
cat "$work/mysql/bin/mysqld.my" "$work/mysql/lib/plugin/component_keyring_kmip.cnf"
at=(--basedir "$work/mysql/bin" --plugin-dir "$work/mysql/lib/plugin" --datadir "$work/mysql/data")
run() { echo "\$ keyring-kmip $*"; "$cli" "$@" "${at[@]}"; }
run check
run store percona_binlog --type AES --hex 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
run store app_secret --type SECRET --auth-id alice --hex 73336372337421
run generate innodb_master --type AES --length 32
run list
run get percona_binlog --hex
run get app_secret --auth-id alice --json
run status
run remove percona_binlog
run remove app_secret --auth-id alice
run remove innodb_master
run list --json

echo "== the KMIP probe, and a server whose certificate names another host (refused)"
"$cli" probe --server "127.0.0.1:$PORT" --ca "$CA" --cert "$CLIENT_CERT" --key "$CLIENT_KEY"
"$cli" probe --server "127.0.0.1:$WRONG_NAME_PORT" --ca "$CA" --cert "$CLIENT_CERT" \
  --key "$CLIENT_KEY" || echo "(exit status $?, as expected)"

msg=$top/tests/data/pykmip/14-1.0-response.hex
echo "== keyring-kmip ttlv decode --in hex --out xml $msg (a Get response from PyKMIP)"
"$cli" ttlv decode --in hex --out xml "$msg"
if [ "$("$cli" ttlv decode --in hex --show-secrets "$msg" | "$cli" ttlv encode --out hex)" = \
     "$(tr -d ' \n' < "$msg")" ]; then
  echo "decoded with --show-secrets and encoded again: identical bytes"
else
  echo "round trip differs" >&2
  exit 1
fi
