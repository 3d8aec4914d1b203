#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The main job: a local KMIP server (PyKMIP, certificates generated now), a
# scratch MySQL-style installation with the manifest mysqld.my and the
# configuration component_keyring_kmip.cnf, and keyring-kmip running the
# component through its manifest to store, list, fetch, generate and
# remove keys. Then a captured KMIP message decoded to XML and back.
# Usage: demo.sh [--installed]
#   --installed: run the installed packages (/usr/bin/keyring-kmip and
#   /usr/lib/mysql/plugin/component_keyring_kmip.so) instead of building
#   (under $KRK_DEMO_ROOT when set: packages unpacked into a scratch root).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
if [ "${1:-}" = --installed ]; then
  cli=${KRK_DEMO_ROOT:-}/usr/bin/keyring-kmip
  component=${KRK_DEMO_ROOT:-}/usr/lib/mysql/plugin/component_keyring_kmip.so
  echo "== the installed packages: $cli, $component"
else
  bash "$top/scripts/deps.sh"
  cmake -S "$top" -B "$top/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
  cmake --build "$top/build" -j"$(nproc)" > /dev/null
  cli=$top/build/tools/keyring-kmip/keyring-kmip
  component=$top/build/src/component_keyring_kmip.so
fi
work=$(mktemp -d)
trap '/usr/bin/python3 "$top/tests/pykmip/pykmip_harness.py" stop "$work/kms" > /dev/null 2>&1; rm -rf "$work"' EXIT

echo "== a local KMIP server: PyKMIP on loopback, mutual TLS, certificates generated now"
/usr/bin/python3 "$top/tests/pykmip/pykmip_harness.py" start "$work/kms"
. "$work/kms/env"

echo "== a scratch installation: option file, manifest, component, configuration"
mkdir -p "$work/mysql/bin" "$work/mysql/lib/plugin" "$work/mysql/data"
cp "$component" "$work/mysql/lib/plugin/"
cat > "$work/mysql/my.cnf" <<CNF
[mysqld]
basedir    = $work/mysql
plugin_dir = $work/mysql/lib/plugin
datadir    = $work/mysql/data
CNF
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
cat "$work/mysql/my.cnf" "$work/mysql/bin/mysqld.my" "$work/mysql/lib/plugin/component_keyring_kmip.cnf"
# the installation as mysqld sees it: its option file (on a server host,
# keyring-kmip reads /etc/my.cnf and /etc/mysql/my.cnf without any option)
at=(--defaults-file "$work/mysql/my.cnf")
run() { echo "\$ keyring-kmip $*"; "$cli" "$@" "${at[@]}"; }
run check
# key material on standard input, never on the command line (hex with --hex-stdin, else raw bytes)
echo "\$ echo 000102...1f | keyring-kmip store percona_binlog --type AES --hex-stdin"
echo 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f |
  "$cli" store percona_binlog --type AES --hex-stdin "${at[@]}"
echo "\$ printf 's3cr3t!' | keyring-kmip store app_secret --type SECRET --auth-id alice"
printf 's3cr3t!' | "$cli" store app_secret --type SECRET --auth-id alice "${at[@]}"
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
