#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Builds the libFuzzer targets with clang (ASan+UBSan) and runs each for a
# bounded time on seed corpora made from the test data.
# Usage: fuzz/run.sh [SECONDS_PER_TARGET]   (default 60)
# The OASIS test cases of the KMIP corpus seed the TTLV and XML targets: the
# corpus is KMIP_CORPUS_DIR (environment, else the build's CMake cache).
set -eu
seconds=${1:-60}
top=$(cd "$(dirname "$0")/.." && pwd)
build=${FUZZ_BUILD_DIR:-$top/build-fuzz}
CC=clang cmake -S "$top" -B "$build" -DKMIP_FUZZ=ON -DKMIP_WERROR=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build "$build" -j"$(nproc)" > /dev/null
corpus=$build/corpus
rm -rf "$corpus"
kmip_corpus=${KMIP_CORPUS_DIR:-$(sed -n 's/^KMIP_CORPUS_DIR:PATH=//p' "$build/CMakeCache.txt")}
python3 "$top/fuzz/make_corpus.py" "$build/tests/conformance" \
    "$kmip_corpus" "$top/tests/data/pykmip" "$corpus"
# checked-in seeds; libFuzzer adds to the copies
cp -r "$top/fuzz/corpus/config" "$corpus/config"
cp -r "$top/fuzz/corpus/client" "$corpus/client"
cp -r "$top/fuzz/corpus/core" "$corpus/core"
cp -r "$top/fuzz/corpus/mycnf" "$corpus/mycnf"
cp -r "$top/fuzz/corpus/keyring_file" "$corpus/keyring_file"
cp -r "$top/fuzz/corpus/mariadb_keyfile" "$corpus/mariadb_keyfile"
mkdir -p "$build/artifacts"
for target in ttlv xml config client core mycnf keyring_file mariadb_keyfile; do
    echo "fuzz_$target: $seconds s"
    "$build/fuzz/fuzz_$target" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 \
        -timeout=10 -print_final_stats=1 -artifact_prefix="$build/artifacts/" \
        "$corpus/$target" 2>&1 | grep -E 'stat::number_of_executed_units|stat::peak_rss|ERROR|SUMMARY|Done' || true
    if ls "$build/artifacts/" | grep -q .; then
        echo "fuzz_$target found a failure: $(ls "$build/artifacts/")"
        exit 1
    fi
done
echo "fuzzing found nothing"
