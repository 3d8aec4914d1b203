#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Every test: the warnings-as-errors build with all CTest suites (unit,
# conformance, CLI, PyKMIP integration), the same suites in a copy of the
# repository alone in an empty directory (no KMIP corpus beside it: the
# corpus-based tests say they are skipped), the same suites under
# AddressSanitizer + UndefinedBehaviorSanitizer (LeakSanitizer on), the
# threaded integration tests under ThreadSanitizer, valgrind
# memcheck over the unit tests and the conformance harness, and each fuzz
# target for FUZZ_SECONDS (default 60).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc)
bash "$top/scripts/deps.sh"

echo "== licence: every source file carries the SPDX line"
sh "$top/scripts/check_spdx.sh"

# What a failing stage leaves behind is removed on exit: the copy of the
# repository, the packages' scratch root or the installed packages, the
# KMIP fixture.
fresh= root= fixture= installed=
cleanup() {
  [ -z "$fixture" ] || /usr/bin/python3 "$top/tests/pykmip/pykmip_harness.py" stop "$fixture/kms" \
    > /dev/null 2>&1 || true
  # shellcheck disable=SC2086
  [ -z "$installed" ] || dpkg -r $installed > /dev/null || true
  rm -rf "$fresh" "$root" "$fixture"
}
trap cleanup EXIT

# The lines the corpus-based tests print when they skip (tests/conformance/corpus.h).
skipped_corpus_tests() { grep -h 'SKIPPED (' "$1/Testing/Temporary/LastTest.log" || true; }

echo "== build (-Werror) and test"
cmake -S "$top" -B "$top/build" -DKMIP_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DKMIP_BUILD_BENCH=ON > /dev/null
cmake --build "$top/build" -j"$jobs"
sh "$top/scripts/check_hardening.sh" "$top/build"
# The shared libraries' ABI against the dumps of the last release (abi/).
sh "$top/scripts/check_abi.sh" "$top/build"
# The KMIP conformance corpus (OASIS test cases, peer TTLV vectors): the
# environment's KMIP_CORPUS_DIR, else the CMake cache's (its default is
# documented in CMakeLists.txt). CI must have it, and runs every corpus test.
corpus=${KMIP_CORPUS_DIR:-$(sed -n 's/^KMIP_CORPUS_DIR:PATH=//p' "$top/build/CMakeCache.txt")}
if [ ! -d "$corpus" ]; then
  if [ "${CI:-}" = true ]; then
    echo "CI: no KMIP corpus at $corpus: CI must run the corpus-based tests (set KMIP_CORPUS_DIR)" >&2
    exit 1
  fi
  echo "note: no KMIP corpus at $corpus: the corpus-based tests are skipped (set KMIP_CORPUS_DIR)"
fi
export KMIP_CORPUS_DIR=$corpus
(cd "$top/build" && ctest --output-on-failure -j"$jobs")
if [ "${CI:-}" = true ] && [ -n "$(skipped_corpus_tests "$top/build")" ]; then
  skipped_corpus_tests "$top/build" >&2
  echo "CI: corpus-based tests were skipped" >&2
  exit 1
fi

echo "== a copy of the repository alone in an empty directory (no corpus beside it)"
fresh=$(mktemp -d)
mkdir "$fresh/keyring_kmip"
if git -C "$top" rev-parse --is-inside-work-tree > /dev/null 2>&1; then
  # the tracked (and new, not ignored) files as they are in the working tree
  git -C "$top" ls-files -z --cached --others --exclude-standard | tar -C "$top" --null --ignore-failed-read -T - -cf - 2> /dev/null |
    tar -C "$fresh/keyring_kmip" -xf -
else
  tar -C "$top" --exclude='./build*' -cf - . | tar -C "$fresh/keyring_kmip" -xf -
fi
(
  unset KMIP_CORPUS_DIR
  cd "$fresh/keyring_kmip"
  cmake -S . -B build -DKMIP_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
  cmake --build build -j"$jobs" > /dev/null
  (cd build && ctest --output-on-failure -j"$jobs")
  echo "skipped in the copy:"
  skipped_corpus_tests build
  [ -n "$(skipped_corpus_tests build)" ] || { echo "the copy skipped no corpus test" >&2; exit 1; }
)
rm -rf "$fresh"
fresh=

echo "== Debian packages: build, lintian, install, the installed plugin and CLI"
bash "$top/scripts/package.sh"
lintian --allow-root --fail-on error --display-level '>=warning' "$top"/build/*.deb
echo "lintian: no errors"
pkgs=$(for f in "$top"/build/*.deb; do dpkg-deb -f "$f" Package; done)
if [ "${CI:-}" = true ] || [ "${KRK_INSTALL_PACKAGES:-}" = 1 ]; then
  # CI is root on a throwaway machine: install into the machine itself
  installed=$pkgs
  dpkg -i "$top"/build/*.deb
  root=
else
  # elsewhere the packages are unpacked into a scratch root (CI=true or
  # KRK_INSTALL_PACKAGES=1 installs them with dpkg -i)
  root=$(mktemp -d)
  for f in "$top"/build/*.deb; do dpkg-deb -x "$f" "$root"; done
  echo "unpacked into $root (not installed: CI=true or KRK_INSTALL_PACKAGES=1 runs dpkg -i)"
fi
installed_cli=$root/usr/bin/keyring-kmip
installed_lib=$root/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)
installed_plugin_dir=$root/usr/lib/mysql/plugin
[ -x "$installed_cli" ] && [ -f "$installed_plugin_dir/kmip_key_management.so" ] &&
  [ -f "$installed_plugin_dir/component_keyring_kmip.so" ] ||
  { echo "the packages did not install the CLI, the component and the plugin" >&2; exit 1; }
fixture=$(mktemp -d)
/usr/bin/python3 "$top/tests/pykmip/pykmip_harness.py" start "$fixture/kms" \
  "$top/build/tests/server/kmip_test_server" > /dev/null
LD_LIBRARY_PATH=${root:+$installed_lib} sh "$top/tests/mariadb/test_mariadb.sh" "$installed_plugin_dir" \
  "$fixture/kms" "$top/tests/pykmip/pykmip_harness.py" "$installed_cli"
/usr/bin/python3 "$top/tests/pykmip/pykmip_harness.py" stop "$fixture/kms" > /dev/null
rm -rf "$fixture"
fixture=
echo "the installed CLI runs the README's main job (scripts/demo.sh --installed):"
LD_LIBRARY_PATH=${root:+$installed_lib} KRK_DEMO_ROOT=$root bash "$top/scripts/demo.sh" --installed > "$top/build/demo-installed.log" 2>&1 ||
  { cat "$top/build/demo-installed.log"; exit 1; }
tail -3 "$top/build/demo-installed.log"
# shellcheck disable=SC2086
[ -z "$installed" ] || dpkg -r $installed > /dev/null
rm -rf "$root"
installed= root=

echo "== ASan + UBSan"
cmake -S "$top" -B "$top/build-asan" -DKMIP_WERROR=ON -DKMIP_SANITIZE=ON \
  -DCMAKE_BUILD_TYPE=Debug > /dev/null
cmake --build "$top/build-asan" -j"$jobs" > /dev/null
(cd "$top/build-asan" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j"$jobs")

echo "== ThreadSanitizer (the threaded tests: keyring readers and writers, the stress test, reload under load, client pool, the component read during loads)"
cmake -S "$top" -B "$top/build-tsan" -DKMIP_WERROR=ON -DKMIP_TSAN=ON \
  -DCMAKE_BUILD_TYPE=Debug > /dev/null
cmake --build "$top/build-tsan" -j"$jobs" > /dev/null
(cd "$top/build-tsan" && TSAN_OPTIONS=halt_on_error=1 \
  ctest --output-on-failure -R "keyring_interop|client_interop|keyring_stress|keyring_reload|component_host|mariadb_plugin_readers")

echo "== valgrind memcheck (unit tests and conformance)"
for t in test_codec test_framer test_registry test_xml test_message test_message_decode test_config test_core; do
  valgrind --quiet --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,possible \
    "$top/build/tests/$t" > "$top/build/memcheck-$t.log" 2>&1 ||
    { cat "$top/build/memcheck-$t.log"; exit 1; }
  echo "$t: no valgrind errors"
done
if [ -d "$corpus" ]; then
  valgrind --quiet --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,possible \
    "$top/build/tests/conformance" "$corpus" testcases/1.4 testcases/2.1
  valgrind --quiet --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,possible \
    "$top/build/tests/peer_vectors" "$corpus"
fi

echo "== fuzzing"
FUZZ_BUILD_DIR="$top/build-fuzz" bash "$top/fuzz/run.sh" "${FUZZ_SECONDS:-60}"

echo "== all tests passed"
