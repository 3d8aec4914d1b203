#!/usr/bin/env bash
# The main job, for now: build keyring-kmip; decode a KMIP message that a
# real PyKMIP server sent into readable KMIP XML and back to identical bytes;
# then start a local PyKMIP server with certificates generated on the spot
# and probe it the way the keyring will connect.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bash "$top/scripts/deps.sh"
cmake -S "$top" -B "$top/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build "$top/build" -j"$(nproc)" > /dev/null
cli=$top/build/tools/keyring-kmip/keyring-kmip
msg=$top/tests/data/pykmip/14-1.0-response.hex
echo "== keyring-kmip ttlv decode --in hex --out xml $msg"
"$cli" ttlv decode --in hex --out xml "$msg"
echo "== decode with --show-secrets, encode again, compare"
if [ "$("$cli" ttlv decode --in hex --show-secrets "$msg" | "$cli" ttlv encode --out hex)" = \
     "$(tr -d ' \n' < "$msg")" ]; then
  echo "identical bytes"
else
  echo "round trip differs" >&2
  exit 1
fi
echo "== a local PyKMIP server (certificates generated now), probed over mutual TLS"
dir=$(mktemp -d)
trap '/usr/bin/python3 "$top/tests/pykmip/pykmip_harness.py" stop "$dir" > /dev/null; rm -rf "$dir"' EXIT
/usr/bin/python3 "$top/tests/pykmip/pykmip_harness.py" start "$dir"
. "$dir/env"
"$cli" probe --server "127.0.0.1:$PORT" --ca "$CA" --cert "$CLIENT_CERT" --key "$CLIENT_KEY"
echo "== a TLS server whose certificate names another host: refused"
"$cli" probe --server "127.0.0.1:$WRONG_NAME_PORT" --ca "$CA" --cert "$CLIENT_CERT" \
  --key "$CLIENT_KEY" || echo "(exit status $?, as expected)"
