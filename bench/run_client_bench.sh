#!/bin/sh
# Starts a PyKMIP server on loopback (tests/pykmip/pykmip_harness.py), then
# runs our client and PyKMIP's client against it in the same run.
# Usage: bench/run_client_bench.sh BUILD_DIR [gets-per-run]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=$1
gets=${2:-200}
dir=$(mktemp -d)
trap '/usr/bin/python3 "$top/tests/pykmip/pykmip_harness.py" stop "$dir"; rm -rf "$dir"' EXIT
/usr/bin/python3 "$top/tests/pykmip/pykmip_harness.py" start "$dir" > /dev/null
echo "| client, figure                           |     median |        min |        max |"
echo "|------------------------------------------|-----------:|-----------:|-----------:|"
"$build/bench/bench_client" "$dir" "$gets"
/usr/bin/python3 "$top/bench/pykmip_client_bench.py" "$dir" "$gets"
