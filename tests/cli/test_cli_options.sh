#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# keyring-kmip's command-line conventions against the fixture's PyKMIP
# server: global options before or after the command; --help of one
# command; --version; numbers parsed whole; a scratch MySQL-style layout
# described only by option files (--defaults-file with !include and
# !includedir, and the standard files through KRK_MYSQL_OPTION_FILES),
# with `check` naming the file that supplied each value; key bytes stored
# from standard input (raw and hex) and from a file, never in the
# process's argv.
# Usage: test_cli_options.sh KEYRING_KMIP COMPONENT_SO FIXTURE_DIR
set -u
cli=$1
module=$2
. "$3/env"
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2> /dev/null; rm -rf "$tmp"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { # status pattern args...
    want=$1 pattern=$2
    shift 2
    "$cli" "$@" > "$tmp/out" 2>&1
    status=$?
    if [ $status -eq "$want" ] && { [ -z "$pattern" ] || grep -q -- "$pattern" "$tmp/out"; }; then
        ok
    else
        bad "keyring-kmip $* gave status $status (wanted $want and '$pattern'):"
        cat "$tmp/out"
    fi
}
group="cliopt-$$-$(date +%s)"

# A scratch installation laid out as MySQL's packages lay it out, under $r:
# usr/sbin/mysqld (+ mysqld.my), usr/lib/mysql/plugin, var/lib/mysql, etc/mysql.
r=$tmp/root
mkdir -p "$r/usr/sbin" "$r/usr/lib/mysql/plugin" "$r/var/lib/mysql" "$r/etc/mysql/conf.d" \
    "$r/etc/mysql/mysql.conf.d"
: > "$r/usr/sbin/mysqld"
echo '{"components": "file://component_keyring_kmip"}' > "$r/usr/sbin/mysqld.my"
cp "$module" "$r/usr/lib/mysql/plugin/"
cfg=$r/usr/lib/mysql/plugin/component_keyring_kmip.cnf
cat > "$cfg" << JSON
{"server_addr": "127.0.0.1", "server_port": $PORT, "client_ca": "$CLIENT_CERT",
 "client_key": "$CLIENT_KEY", "server_ca": "$CA", "object_group": "$group",
 "kmip_timeout_ms": 3000}
JSON
chmod 600 "$cfg"
# my.cnf: quotes, a trailing comment, loose- prefix, !includedir and !include
cat > "$r/etc/mysql/my.cnf" << CNF
# the main option file
[client]
datadir = /nowhere/client
[mysqld]
loose-basedir = "$r/usr"   # quoted, with a comment
plugin-dir=/nowhere/first
!includedir $r/etc/mysql/conf.d/
!include $r/etc/mysql/mysql.conf.d/mysqld.cnf
CNF
printf '[mysqld]\nplugin_dir = /nowhere/second\n' > "$r/etc/mysql/conf.d/10-first.cnf"
printf '[mysqld]\nplugin_dir = %s/usr/lib/mysql/plugin\n' "$r" > "$r/etc/mysql/conf.d/20-later.cnf"
echo "ignored = not a .cnf file" > "$r/etc/mysql/conf.d/README"
printf '[mysqldump]\ndatadir=/nowhere/dump\n\n[server]\ndatadir\t= %s/var/lib/mysql\n' "$r" \
    > "$r/etc/mysql/mysql.conf.d/mysqld.cnf"

echo "== --defaults-file on the scratch layout"
check 0 "Key_count      0" check --defaults-file "$r/etc/mysql/my.cnf"
grep -q "^basedir:       $r/usr ($r/etc/mysql/my.cnf:5, \[mysqld\])$" "$tmp/out" && ok ||
    { bad "basedir not named with its file and line"; cat "$tmp/out"; }
grep -q "^plugin_dir:    $r/usr/lib/mysql/plugin ($r/etc/mysql/conf.d/20-later.cnf:2, \[mysqld\])$" \
    "$tmp/out" && ok || { bad "plugin_dir: the later value, with its file"; cat "$tmp/out"; }
grep -q "^datadir:       $r/var/lib/mysql ($r/etc/mysql/mysql.conf.d/mysqld.cnf:5, \[server\])$" \
    "$tmp/out" && ok || { bad "datadir from the !include'd file"; cat "$tmp/out"; }
grep -q "^manifest:      $r/usr/sbin/mysqld.my " "$tmp/out" && ok ||
    { bad "the manifest next to mysqld"; cat "$tmp/out"; }
grep -q "^option files:  $r/etc/mysql/my.cnf, $r/etc/mysql/conf.d/10-first.cnf, $r/etc/mysql/conf.d/20-later.cnf, $r/etc/mysql/mysql.conf.d/mysqld.cnf$" \
    "$tmp/out" && ok || { bad "the option files read, in order"; cat "$tmp/out"; }
# the command line wins over the option file, and says so
check 0 "^datadir:       $tmp (command line, --datadir)$" check --defaults-file="$r/etc/mysql/my.cnf" \
    --datadir "$tmp"
# plugin_dir not set: BASEDIR/lib/mysql/plugin, as the packages' mysqld
printf '[mysqld]\nbasedir=%s/usr\n' "$r" > "$tmp/basedir-only.cnf"
check 0 "^plugin_dir:    $r/usr/lib/mysql/plugin (default: BASEDIR/lib/mysql/plugin)$" \
    check --defaults-file "$tmp/basedir-only.cnf"

# quotes, escapes, comments after values and inside quotes, as mysqld reads them
printf '[mysqld]\nbasedir = "%s/usr"  # c\nplugin_dir=\047/p\\sq\047\ndatadir=/d # c\n[server]\ndatadir\t= "/e#f"\n' \
    "$r" > "$tmp/quoted.cnf"
check 4 "^plugin_dir:    /p q ($tmp/quoted.cnf:3, \[mysqld\])$" check --defaults-file "$tmp/quoted.cnf"
grep -q "^datadir:       /e#f ($tmp/quoted.cnf:6, \[server\])$" "$tmp/out" && ok ||
    { bad "quoted datadir with #"; cat "$tmp/out"; }

echo "== no location option: the standard option files (KRK_MYSQL_OPTION_FILES for the test)"
KRK_MYSQL_OPTION_FILES=$tmp/absent.cnf:$r/etc/mysql/my.cnf
export KRK_MYSQL_OPTION_FILES
check 0 "^option files:  $tmp/absent.cnf (absent), $r/etc/mysql/my.cnf," check
check 0 "" store k1 --type AES --hex 00112233445566778899aabbccddeeff
check 0 "^k1	$" list
KRK_MYSQL_OPTION_FILES=$tmp/absent.cnf check 2 "no MySQL option file ($tmp/absent.cnf (absent))" list
check 2 "give --config FILE" list --no-defaults
unset KRK_MYSQL_OPTION_FILES
# malformed option files are named with their line, and change nothing
printf 'basedir=/x\n' > "$tmp/nogroup.cnf"
check 4 "$tmp/nogroup.cnf:1: an option before any \[group\]" list --defaults-file "$tmp/nogroup.cnf"
printf '[mysqld\nbasedir=/x\n' > "$tmp/badgroup.cnf"
check 4 "$tmp/badgroup.cnf:1: a group line must be \[NAME\]" list --defaults-file "$tmp/badgroup.cnf"
check 4 "$tmp/missing.cnf: No such file or directory" list --defaults-file "$tmp/missing.cnf"
check 2 "give --config FILE or the installation" list --config "$cfg" --defaults-file "$r/etc/mysql/my.cnf"

echo "== hostile option files: no hang, every error names the file (and line)"
# timeout: a hang is a failure (status 124), not a stuck test
hostile() { # status pattern file
    timeout 20 "$cli" list --defaults-file "$3" > "$tmp/out" 2>&1
    status=$?
    if [ $status -eq "$1" ] && grep -q -- "$2" "$tmp/out"; then
        ok
    else
        bad "list --defaults-file $3 gave status $status (wanted $1 and '$2'):"
        head -c 2000 "$tmp/out"
    fi
}
mkfifo "$tmp/fifo.cnf"
hostile 4 "$tmp/fifo.cnf: not a regular file" "$tmp/fifo.cnf"
printf '[mysqld]\n!include %s\n' "$tmp/fifo.cnf" > "$tmp/incfifo.cnf"
hostile 4 "$tmp/incfifo.cnf:2: $tmp/fifo.cnf: not a regular file" "$tmp/incfifo.cnf"
hostile 4 "$tmp: not a regular file" "$tmp"
hostile 4 "/dev/zero: not a regular file" /dev/zero
# a file including itself 8 times: mysqld's depth limit alone reads it 8^9 times
printf '[mysqld]\nbasedir=%s\n' "$r/usr" > "$tmp/self.cnf"
for i in 1 2 3 4 5 6 7 8; do echo "!include $tmp/self.cnf" >> "$tmp/self.cnf"; done
printf 'plugin_dir=%s\n' "$r/usr/lib/mysql/plugin" >> "$tmp/self.cnf"
hostile 0 "^k1	$" "$tmp/self.cnf"
grep -q "$tmp/self.cnf:3: $tmp/self.cnf skipped: it is being read already (an include loop)" \
    "$tmp/out" && ok || { bad "the include loop is not named"; head -c 2000 "$tmp/out"; }
printf '[mysqld]\nbasedir=%s\n!include %s\n' "$r/usr" "$tmp/loop-b.cnf" > "$tmp/loop-a.cnf"
printf '[mysqld]\n!include %s\nplugin_dir=%s\n' "$tmp/loop-a.cnf" "$r/usr/lib/mysql/plugin" \
    > "$tmp/loop-b.cnf"
hostile 0 "$tmp/loop-b.cnf:2: $tmp/loop-a.cnf skipped: it is being read already" "$tmp/loop-a.cnf"
# !includedir reads every .cnf file in name order, or refuses: never an arbitrary subset
mkdir "$tmp/many"
i=1000
while [ $i -lt 1300 ]; do
    printf '[mysqld]\nplugin_dir=/nowhere/%s\n' $i > "$tmp/many/$i.cnf"
    i=$((i + 1))
done
printf '[mysqld]\nbasedir=%s\n!includedir %s\n' "$r/usr" "$tmp/many" > "$tmp/many.cnf"
hostile 4 "$tmp/many.cnf:3: $tmp/many: more than 256 .cnf files" "$tmp/many.cnf"
rm "$tmp"/many/11*.cnf "$tmp"/many/12*.cnf
printf '[mysqld]\nplugin_dir=%s\n' "$r/usr/lib/mysql/plugin" > "$tmp/many/1099.cnf"
hostile 0 "^k1	$" "$tmp/many.cnf"
# ... and at most 256 files in all
printf '[mysqld]\n!includedir %s\n!includedir %s\n!includedir %s\n' "$tmp/many" "$tmp/many" \
    "$tmp/many" > "$tmp/many3.cnf"
hostile 4 "$tmp/many3.cnf:4: $tmp/many/1055.cnf: more than 256 option files in all" "$tmp/many3.cnf"
# a NUL byte would cut the value short unseen
printf '[mysqld]\nbasedir=%s\0/elsewhere\n' "$r/usr" > "$tmp/nul.cnf"
hostile 4 "$tmp/nul.cnf:2: a NUL byte in the line" "$tmp/nul.cnf"
# [mysqld-8.0] is read by mysqld 8.0 only: not used, and said so
printf '[mysqld-8.0]\nplugin_dir=/nowhere\n[mysqld]\nbasedir=%s\n' "$r/usr" > "$tmp/ver.cnf"
hostile 0 "$tmp/ver.cnf:2: warning\|warning: $tmp/ver.cnf:2: plugin-dir in \[mysqld-8.0\] not used" \
    "$tmp/ver.cnf"

# relative paths mean what they mean to mysqld: plugin_dir and datadir
# relative to basedir; a relative basedir or ./X is relative to mysqld's
# working directory, unknown here: refused
printf '[mysqld]\nbasedir=%s\nplugin_dir=lib/mysql/plugin\n' "$r/usr" > "$tmp/rel.cnf"
cd "$tmp" && hostile 0 "^k1	$" "$tmp/rel.cnf"
check 0 "^plugin_dir:    $r/usr/lib/mysql/plugin ($tmp/rel.cnf:3, \[mysqld\])$" check \
    --defaults-file "$tmp/rel.cnf"
printf '[mysqld]\nbasedir=usr\nplugin_dir=%s\n' "$r/usr/lib/mysql/plugin" > "$tmp/relbase.cnf"
cd "$r" && hostile 4 "$tmp/relbase.cnf:2, \[mysqld\]: basedir usr is relative to mysqld's working directory" \
    "$tmp/relbase.cnf"
printf '[mysqld]\nbasedir=%s\nplugin_dir=./lib/mysql/plugin\n' "$r/usr" > "$tmp/reldot.cnf"
cd "$r/usr" && hostile 4 "$tmp/reldot.cnf:3, \[mysqld\]: plugin-dir ./lib/mysql/plugin is relative" \
    "$tmp/reldot.cnf"
cd /

echo "== global options before or after the command"
check 0 "^k1	$" --config "$cfg" list
check 0 "^k1	$" list --config "$cfg"
check 0 "^k1	$" --config="$cfg" list
check 0 "^00112233445566778899aabbccddeeff$" --config "$cfg" get --hex k1
check 0 "^00112233445566778899aabbccddeeff$" get k1 --hex --defaults-file "$r/etc/mysql/my.cnf"
check 0 "" --basedir "$r/usr/sbin" list --plugin-dir "$r/usr/lib/mysql/plugin"

echo "== help, version, usage"
check 0 "^Usage: keyring-kmip store ID --type T" store --help
grep -q "generate" "$tmp/out" && bad "store --help describes other commands" || ok
check 0 "^Usage: keyring-kmip generate ID" help generate
check 0 "^Usage: keyring-kmip ttlv decode" ttlv decode --help
grep -q "ttlv encode" "$tmp/out" && bad "ttlv decode --help describes encode" || ok
check 0 "^Usage: keyring-kmip probe" --help probe
check 0 "^keyring-kmip [0-9][0-9.]*$" --version
check 0 "^keyring-kmip [0-9][0-9.]*$" list --version
check 2 "unknown option '--type'" list --type AES --config "$cfg"
check 2 "unknown command 'lsit'" lsit
check 2 "apply to the keyring commands only" probe --server 127.0.0.1 --config "$cfg"

echo "== numbers are parsed whole"
for bad_length in 16abc 1e3 " 16" +16 -16 0 16384x 99999999999999999999 ""; do
    check 2 "--length takes a whole number from 1 to 16384, not '$bad_length'" \
        generate g --type AES --length "$bad_length" --config "$cfg"
done
check 2 "an AES key is 16, 24 or 32 bytes, not 17" generate g --type AES --length 17 --config "$cfg"
check 0 "" generate g17 --type AES --length 17 --any-length --config "$cfg"
check 0 "" generate g24 --type AES --length 24 --config "$cfg"
check 0 "" generate s5 --type SECRET --length 5 --config "$cfg"
check 2 "--timeout takes a whole number from 1 to 3600000, not '5s'" probe --server 127.0.0.1 \
    --timeout 5s
check 2 "the port of --server takes a whole number from 1 to 65535, not '56 96'" probe \
    --server "127.0.0.1:56 96"
check 2 "--kmip-version Y takes a whole number from 0 to 255, not '4x'" probe --server 127.0.0.1 \
    --kmip-version 1.4x

echo "== key bytes from standard input, never in argv"
# store_waiting ID HEX: `store --hex-stdin` blocks on a FIFO (its stdin)
# while its /proc/PID/cmdline and environ are read; then the key is written.
store_waiting() {
    id=$1 hex=$2
    rm -f "$tmp/fifo"
    mkfifo "$tmp/fifo"
    exec 3<> "$tmp/fifo"
    "$cli" store "$id" --type AES --config "$cfg" --hex-stdin < "$tmp/fifo" > "$tmp/out" 2>&1 3>&- &
    pid=$!
    i=0
    while [ $i -lt 100 ] && ! tr '\0' ' ' < "/proc/$pid/cmdline" 2> /dev/null | grep -q "store $id"; do
        sleep 0.1
        i=$((i + 1))
    done
    tr '\0' '\n' < "/proc/$pid/cmdline" > "$tmp/cmdline" 2> /dev/null
    tr '\0' '\n' < "/proc/$pid/environ" > "$tmp/environ" 2> /dev/null
    if grep -q "store" "$tmp/cmdline" && kill -0 "$pid" 2> /dev/null; then
        ok
    else
        bad "the CLI was not seen waiting on standard input"
    fi
    if grep -qi "$hex" "$tmp/cmdline" "$tmp/environ"; then
        bad "key bytes in /proc/$pid/cmdline or environ"
    else
        ok
    fi
    printf '%s\n' "$hex" >&3
    exec 3>&-
    wait "$pid"
    status=$?
    pid=
    [ $status -eq 0 ] && ok || { bad "store $id from stdin gave $status"; cat "$tmp/out"; }
    check 0 "^$hex$" get "$id" --hex --config "$cfg"
}
store_waiting sk1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
# raw bytes on standard input (the default)
printf '\377\376\375\374\373\372\371\370\367\366\365\364\363\362\361\360' > "$tmp/key.bin"
rm -f "$tmp/fifo"
mkfifo "$tmp/fifo"
exec 3<> "$tmp/fifo"
"$cli" store sk2 --type AES --config "$cfg" < "$tmp/fifo" > "$tmp/out" 2>&1 3>&- &
pid=$!
i=0
while [ $i -lt 100 ] && ! tr '\0' ' ' < "/proc/$pid/cmdline" 2> /dev/null | grep -q "store sk2"; do
    sleep 0.1
    i=$((i + 1))
done
if tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q "store sk2 --type AES --config $cfg $" &&
    kill -0 "$pid" 2> /dev/null; then
    ok
else
    bad "raw stdin: the CLI's argv is not just the command and its options"
fi
cat "$tmp/key.bin" >&3
exec 3>&-
wait "$pid"
status=$?
pid=
[ $status -eq 0 ] && ok || { bad "raw store from stdin gave $status"; cat "$tmp/out"; }
check 0 "^fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0$" get sk2 --hex --config "$cfg"
check 0 "" store sk3 --type SECRET --file "$tmp/key.bin" --config "$cfg"
check 0 "^fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0$" get sk3 --hex --config "$cfg"
check 1 "no key bytes on standard input" store sk4 --type AES --config "$cfg" < /dev/null
check 1 "not a hex digit" store sk4 --type AES --hex-stdin --config "$cfg" < "$tmp/key.bin"
check 2 "at most one of" store sk4 --type AES --hex-stdin --file "$tmp/key.bin" --config "$cfg"
check 5 "no key sk4" get sk4 --config "$cfg"
# a raw key given where hex was expected: its bytes are not in the message
printf 'Zsecretkey0123456' > "$tmp/raw.key"
check 1 "<stdin>: character 0 is not a hex digit" store sk4 --type AES --hex-stdin --config "$cfg" \
    < "$tmp/raw.key"
grep -q "Z\|secretkey" "$tmp/out" && { bad "key bytes in the message"; cat "$tmp/out"; } || ok
check 1 "--hex: character 2 is not a hex digit" store sk4 --type AES --hex "00Zsecretkey" --config "$cfg"
grep -q "Z\|secretkey" "$tmp/out" && { bad "key bytes in the message"; cat "$tmp/out"; } || ok
# unreadable inputs say why; a huge one is bounded
check 1 "<stdin>: Bad file descriptor" store sk4 --type AES --config "$cfg" <&-
check 1 "$tmp: Is a directory" store sk4 --type AES --file "$tmp" --config "$cfg"
check 1 "/dev/zero: input larger than 16 MiB" store sk4 --type AES --file /dev/zero --config "$cfg"
head -c 20971520 /dev/zero > "$tmp/big.key"
check 1 "<stdin>: input larger than 16 MiB" store sk4 --type AES --config "$cfg" < "$tmp/big.key"
rm -f "$tmp/big.key"

for k in k1 g17 g24 s5 sk1 sk2 sk3; do
    "$cli" remove "$k" --config "$cfg" > /dev/null 2>&1 || bad "remove $k"
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
