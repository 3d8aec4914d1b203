#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The checks test.sh relies on fail when what they check is missing:
# check_spdx.sh on a source file without the SPDX line (tracked, or new and
# not yet added), check_hardening.sh on files built without each hardening
# flag in turn (small programs built here with the C compiler),
# check_layers.py on includes that point up a layer, out of the layers, or
# at a library a layer must not use, check_file_cycles.py on files that call
# each other in a circle.
# Usage: test_check_scripts.sh SCRIPTS_DIR CC
set -u
scripts=$1
cc=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
expect() { # status pattern command...
    want=$1 pattern=$2
    shift 2
    "$@" > "$tmp/out" 2>&1
    status=$?
    if [ $status -eq "$want" ] && grep -q -- "$pattern" "$tmp/out"; then
        ok
    else
        bad "$* gave status $status (wanted $want and '$pattern'):"
        cat "$tmp/out"
    fi
}

echo "== check_spdx.sh"
repo=$tmp/repo
mkdir -p "$repo/src"
git -C "$repo" init -q
printf '/* SPDX-License-Identifier: GPL-2.0-only */\nint a;\n' > "$repo/src/a.c"
printf '#!/bin/sh\n# SPDX-License-Identifier: GPL-2.0-only\ntrue\n' > "$repo/run.sh"
git -C "$repo" add src/a.c run.sh
expect 0 "every source file says GPL-2.0-only" sh "$scripts/check_spdx.sh" "$repo"
printf 'int b;\n' > "$repo/src/b.c" # new, not added yet
expect 1 "no 'SPDX-License-Identifier: GPL-2.0-only' on line 1: src/b.c" \
    sh "$scripts/check_spdx.sh" "$repo"
git -C "$repo" add src/b.c
expect 1 "src/b.c" sh "$scripts/check_spdx.sh" "$repo"
rm "$repo/src/b.c"
git -C "$repo" rm -q --cached src/b.c
printf '#!/bin/sh\ntrue\n' > "$repo/run.sh"
expect 1 "on line 2: run.sh" sh "$scripts/check_spdx.sh" "$repo"

echo "== check_hardening.sh"
cat > "$tmp/prog.c" << 'C'
#include <stdio.h>
#include <string.h>
static int (*volatile out)(const char *, ...) = printf;
int main(int argc, char **argv)
{
    char b[64];
    strcpy(b, argv[0]);
    return out("%s %d\n", b, argc) < 0;
}
C
cat > "$tmp/lib.c" << 'C'
#include <stdio.h>
#include <string.h>
int lib_entry(const char *s)
{
    char b[64];
    strcpy(b, s);
    return printf("%s", b);
}
C
all="-O2 -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fcf-protection -Wl,-z,relro,-z,now -Wl,-z,noexecstack"
# layout FLAGS...: the files check_hardening.sh reads, built with FLAGS
layout() {
    b=$tmp/build
    rm -rf "$b"
    mkdir -p "$b/tools/keyring-kmip" "$b/src"
    $cc "$@" -fPIE -pie "$tmp/prog.c" -o "$b/tools/keyring-kmip/keyring-kmip" || bad "cc $*"
    for l in component_keyring_kmip.so libkmip_proto.so.0 libkmip_client.so.0 libkeyring_kmip.so.0; do
        $cc "$@" -fPIC -shared "$tmp/lib.c" -o "$b/src/$l" || bad "cc $*"
    done
}
# shellcheck disable=SC2086 # $all is a list of flags
layout $all
expect 0 "keyring-kmip: relro, bind-now, non-exec stack, PIE/PIC, fortify, stack protector" \
    sh "$scripts/check_hardening.sh" "$tmp/build"
# each flag removed in turn: the check names what is missing
for case in "-D_FORTIFY_SOURCE=2|-U_FORTIFY_SOURCE|fortify" \
    "-fstack-protector-strong|-fno-stack-protector|stack-protector" \
    "-Wl,-z,relro,-z,now|-Wl,-z,norelro,-z,now|relro" \
    "-Wl,-z,relro,-z,now|-Wl,-z,relro,-z,lazy|bind-now" \
    "-Wl,-z,noexecstack|-Wl,-z,execstack|non-exec-stack"; do
    drop=${case%%|*}
    rest=${case#*|}
    add=${rest%|*}
    what=${rest##*|}
    flags=$(echo " $all " | sed "s| $drop | $add |")
    # shellcheck disable=SC2086
    layout $flags
    expect 1 "keyring-kmip lacks:.* $what" sh "$scripts/check_hardening.sh" "$tmp/build"
done
if [ "$(uname -m)" = x86_64 ]; then
    # shellcheck disable=SC2086
    layout $(echo " $all " | sed "s| -fcf-protection | -fcf-protection=none |")
    expect 1 "keyring-kmip lacks:.* cf-protection" sh "$scripts/check_hardening.sh" "$tmp/build"
    expect 1 "libkmip_proto.so.0 lacks:.* cf-protection" sh "$scripts/check_hardening.sh" "$tmp/build"
fi

echo "== check_layers.py"
# A tree laid out like ours: clean, then with each kind of wrong include.
layers=$tmp/layers
mkdir -p "$layers/src/codec" "$layers/src/transport" "$layers/src/client" "$layers/include/kmip"
printf '#include "kmip/kmip_ttlv.h"\n' > "$layers/src/codec/a.c"
printf '#include "kmip/kmip_common.h"\n#include "kmip/kmip_ttlv.h"\n' > "$layers/src/transport/t.c"
printf '#include "kmip/kmip_client.h"\n#include "../transport/t.h"\n' > "$layers/src/client/c.c"
printf '#include "kmip_common.h"\n' > "$layers/include/kmip/kmip_client.h"
: > "$layers/include/kmip/kmip_ttlv.h"
: > "$layers/include/kmip/kmip_common.h"
: > "$layers/src/transport/t.h"
expect 0 "every include points down" python3 "$scripts/check_layers.py" "$layers"
printf '#include "kmip/kmip_client.h"\n' >> "$layers/src/transport/t.c"
expect 1 "src/transport/t.c:3: the transport layer includes \"kmip/kmip_client.h\" of the client layer above it" \
    python3 "$scripts/check_layers.py" "$layers"
printf '#include "kmip/kmip_ttlv.h"\n' > "$layers/src/transport/t.c"
printf '#include "../client/c.h"\n' > "$layers/src/transport/t.h"
expect 1 "src/transport/t.h:1: the transport layer includes \"../client/c.h\" of the client layer above it" \
    python3 "$scripts/check_layers.py" "$layers"
: > "$layers/src/transport/t.h"
printf '#include <openssl/ssl.h>\n' >> "$layers/src/codec/a.c"
expect 1 "src/codec/a.c:2: the codec layer includes <openssl/ssl.h>" python3 "$scripts/check_layers.py" "$layers"
printf '#include "kmip/kmip_ttlv.h"\n#include "kmip/kmip_new.h"\n' > "$layers/src/codec/a.c"
expect 1 "\"kmip/kmip_new.h\" is in no layer" python3 "$scripts/check_layers.py" "$layers"
printf '#include "kmip/kmip_ttlv.h"\n' > "$layers/src/codec/a.c"
mkdir -p "$layers/src/newlayer"
: > "$layers/src/newlayer/n.c"
expect 1 "src/newlayer/n.c: is in no layer" python3 "$scripts/check_layers.py" "$layers"
rm -r "$layers/src/newlayer"
# the client's sans-I/O core: no sockets, no transport
printf '#include "kmip/kmip_client.h"\n#include <sys/socket.h>\n' > "$layers/src/client/core.c"
expect 1 "src/client/core.c:2: the sans-I/O client core includes <sys/socket.h>, which does I/O" \
    python3 "$scripts/check_layers.py" "$layers"
printf '#include "kmip/kmip_client.h"\n#include "transport.h"\n' > "$layers/src/client/core.c"
expect 1 "src/client/core.c:2: the sans-I/O client core includes \"transport.h\", which does I/O" \
    python3 "$scripts/check_layers.py" "$layers"
printf '#include "kmip/kmip_client.h"\n' > "$layers/src/client/core.c"
printf '#include "kmip/kmip_client.h"\n#include <sys/socket.h>\n' > "$layers/src/client/c.c"
expect 0 "every include points down" python3 "$scripts/check_layers.py" "$layers"

echo "== check_file_cycles.py"
# Objects laid out as CMake builds them: a.c -> b.c -> c.c is clean; then
# c.c calls a.c back; a stale object (its source removed) is no arrow.
cyc=$tmp/cycles
mkdir -p "$cyc/src/f" "$cyc/build/src/CMakeFiles/t.dir/f"
build_cyc() { # name source-text
    printf '%s\n' "$2" > "$cyc/src/f/$1.c"
    "$cc" -c "$cyc/src/f/$1.c" -o "$cyc/build/src/CMakeFiles/t.dir/f/$1.c.o" || bad "cc $1.c"
}
build_cyc a 'int b_one(void); int a_one(void) { return b_one(); }'
build_cyc b 'int c_one(void); int b_one(void) { return c_one(); }'
build_cyc c 'int c_one(void) { return 1; }'
expect 0 "src/f: 3 files, no cycle" python3 "$scripts/check_file_cycles.py" --source "$cyc" \
    "$cyc/build" src/f
expect 0 "  2: a.c" python3 "$scripts/check_file_cycles.py" --source "$cyc" "$cyc/build" src/f
build_cyc d 'int a_one(void); int d_one(void) { return a_one(); }'
build_cyc c 'int d_one(void); int c_one(void) { return d_one(); }'
rm "$cyc/src/f/d.c"
expect 0 "src/f: 3 files, no cycle" python3 "$scripts/check_file_cycles.py" --source "$cyc" \
    "$cyc/build" src/f
build_cyc c 'int a_one(void); static int c_local(void) { return 2; } int c_one(void) { return a_one() + c_local(); }'
expect 1 "cycle a.c -> b.c -> c.c -> a.c" python3 "$scripts/check_file_cycles.py" --source "$cyc" \
    "$cyc/build" src/f
expect 1 "src/f/c.c -> src/f/a.c: a_one" python3 "$scripts/check_file_cycles.py" --source "$cyc" \
    "$cyc/build" src/f
expect 1 "src/f: 1 cycle(s) among 3 files" python3 "$scripts/check_file_cycles.py" \
    --source "$cyc" "$cyc/build" src/f
expect 2 "no object files for src/g" python3 "$scripts/check_file_cycles.py" --source "$cyc" \
    "$cyc/build" src/f src/g

echo "== check_abi.sh"
# A library with a dump, then an added function (compatible), then a
# changed parameter type (incompatible).
if command -v abidw > /dev/null; then
    abit=$tmp/abi
    mkdir -p "$abit/b/src" "$abit/b/include" "$abit/h" "$abit/dumps"
    printf 'int f(int x);\n' > "$abit/h/l.h"
    printf '#include "l.h"\nint f(int x) { return x; }\n' > "$abit/l.c"
    "$cc" -g -shared -fPIC -I"$abit/h" -o "$abit/b/src/libl.so.0" "$abit/l.c"
    export ABI_DIR="$abit/dumps" ABI_LIBS=libl ABI_HEADERS="$abit/h"
    expect 0 "wrote" sh "$scripts/check_abi.sh" "$abit/b" --update
    expect 0 "same ABI" sh "$scripts/check_abi.sh" "$abit/b"
    printf 'int f(int x);\nint g(void);\n' > "$abit/h/l.h"
    printf '#include "l.h"\nint f(int x) { return x; }\nint g(void) { return 1; }\n' > "$abit/l.c"
    "$cc" -g -shared -fPIC -I"$abit/h" -o "$abit/b/src/libl.so.0" "$abit/l.c"
    expect 0 "compatible additions" sh "$scripts/check_abi.sh" "$abit/b"
    printf 'int f(long x);\nint g(void);\n' > "$abit/h/l.h"
    printf '#include "l.h"\nint f(long x) { return (int)x; }\nint g(void) { return 1; }\n' > "$abit/l.c"
    "$cc" -g -shared -fPIC -I"$abit/h" -o "$abit/b/src/libl.so.0" "$abit/l.c"
    expect 1 "INCOMPATIBLE" sh "$scripts/check_abi.sh" "$abit/b"
    unset ABI_DIR ABI_LIBS ABI_HEADERS
else
    bad "abidw is not installed (Debian abigail-tools, in scripts/packages.txt)"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
