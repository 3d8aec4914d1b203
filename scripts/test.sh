#!/usr/bin/env bash
# Every test: the warnings-as-errors build with all CTest suites (unit,
# conformance, CLI, PyKMIP integration), the same suites under
# AddressSanitizer + UndefinedBehaviorSanitizer (LeakSanitizer on), the
# threaded integration tests under ThreadSanitizer, valgrind
# memcheck over the unit tests and the conformance harness, and each fuzz
# target for FUZZ_SECONDS (default 60).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc)
bash "$top/scripts/deps.sh"

echo "== build (-Werror) and test"
cmake -S "$top" -B "$top/build" -DKMIP_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build "$top/build" -j"$jobs"
(cd "$top/build" && ctest --output-on-failure -j"$jobs")

echo "== ASan + UBSan"
cmake -S "$top" -B "$top/build-asan" -DKMIP_WERROR=ON -DKMIP_SANITIZE=ON \
  -DCMAKE_BUILD_TYPE=Debug > /dev/null
cmake --build "$top/build-asan" -j"$jobs" > /dev/null
(cd "$top/build-asan" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j"$jobs")

echo "== ThreadSanitizer (the threaded tests: keyring readers and writers, the stress test, client pool)"
cmake -S "$top" -B "$top/build-tsan" -DKMIP_WERROR=ON -DKMIP_TSAN=ON \
  -DCMAKE_BUILD_TYPE=Debug > /dev/null
cmake --build "$top/build-tsan" -j"$jobs" > /dev/null
(cd "$top/build-tsan" && TSAN_OPTIONS=halt_on_error=1 \
  ctest --output-on-failure -R "keyring_interop|client_interop|keyring_stress")

echo "== valgrind memcheck (unit tests and conformance)"
for t in test_codec test_framer test_registry test_xml test_message test_config; do
  valgrind --quiet --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,possible \
    "$top/build/tests/$t" > "$top/build/memcheck-$t.log" 2>&1 ||
    { cat "$top/build/memcheck-$t.log"; exit 1; }
  echo "$t: no valgrind errors"
done
valgrind --quiet --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,possible \
  "$top/build/tests/conformance" "$top/../shared/kmip/testcases/1.4" "$top/../shared/kmip/testcases/2.1"

echo "== fuzzing"
FUZZ_BUILD_DIR="$top/build-fuzz" bash "$top/fuzz/run.sh" "${FUZZ_SECONDS:-60}"

echo "== all tests passed"
