#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Every source, script, CMake, build-template and man-page file
# carries the project's licence as an SPDX line on its first line (after a
# shebang): lists each file that does not and fails. Data (tests/data,
# fuzz/corpus, JSON), Markdown documents and scripts/packages.txt (read
# line by line by apt-get) are not source files.
# Usage: scripts/check_spdx.sh [REPO]   (default: this script's repository)
set -eu
top=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$top"
want='SPDX-License-Identifier: GPL-2.0-only'
missing=0
# tracked files and new ones not yet added (not the ignored ones: build/)
list=$(git ls-files --cached --others --exclude-standard 2> /dev/null) || list=$(find . -type f ! -path './build*' ! -path './.git/*' | sed 's|^\./||')
for f in $list; do
    case $f in
    tests/data/* | fuzz/corpus/*) continue ;;
    *.c | *.h | *.py | *.sh | *.cmake | *.in | *.1 | */CMakeLists.txt | CMakeLists.txt) ;;
    .ci/run | .clang-format | .gitignore | src/registry/kmip_registry.txt) ;;
    debian/rules | debian/control) ;;
    *) continue ;;
    esac
    [ -f "$f" ] || continue
    line=1
    [ "$(head -c 2 "$f")" = '#!' ] && line=2
    if ! sed -n "${line}p" "$f" | grep -q "$want"; then
        echo "no '$want' on line $line: $f"
        missing=$((missing + 1))
    fi
done
if [ "$missing" -gt 0 ]; then
    echo "$missing file(s) without the SPDX line" >&2
    exit 1
fi
echo "SPDX: every source file says GPL-2.0-only"
