#!/usr/bin/env bash
# The main job, for now: build keyring-kmip and decode a KMIP message that a
# real PyKMIP server sent (a Get response) into readable KMIP XML, then
# encode it back and show that the bytes are identical.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bash "$top/scripts/deps.sh"
cmake -S "$top" -B "$top/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build "$top/build" -j"$(nproc)" > /dev/null
cli=$top/build/tools/keyring-kmip/keyring-kmip
msg=$top/tests/data/pykmip/14-1.0-response.hex
echo "== keyring-kmip ttlv decode --in hex --out xml $msg"
"$cli" ttlv decode --in hex --out xml "$msg"
echo "== the same as text"
"$cli" ttlv decode --in hex --out text "$msg"
echo "== decode with --show-secrets, encode again, compare"
if [ "$("$cli" ttlv decode --in hex --show-secrets "$msg" | "$cli" ttlv encode --out hex)" = \
     "$(tr -d ' \n' < "$msg")" ]; then
  echo "identical bytes"
else
  echo "round trip differs" >&2
  exit 1
fi
