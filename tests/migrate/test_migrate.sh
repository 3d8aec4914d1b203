#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# keyring-kmip migrate between MySQL's component_keyring_file data file and
# the KMIP keyring, against the fixture's PyKMIP server (and our test server
# for non-ASCII ids, which PyKMIP 0.10 refuses): 50 keys of every kind into
# KMIP and back into a second file, equal; a re-run skips everything; a
# dry run writes nothing; conflicts are reported and nothing is overwritten;
# a migration stopped half-way (SIGTERM, and SIGKILL at any moment, slowed
# by the fault proxy) completes when run again, with no key held twice on
# the server (checked with PyKMIP's own client); key bytes never printed.
# Usage: test_migrate.sh KEYRING_KMIP FIXTURE_DIR FAULT_PROXY
set -u
cli=$1
fixture=$2
proxy=$3
here=$(cd "$(dirname "$0")" && pwd)
. "$fixture/env"
tmp=$(mktemp -d)
proxy_pid=
migrate_pid=
cleanup() {
    [ -n "$migrate_pid" ] && kill -9 "$migrate_pid" 2> /dev/null
    [ -n "$proxy_pid" ] && kill "$proxy_pid" 2> /dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
make_file() { /usr/bin/python3 "$here/make_keyring_file.py" "$@"; }
inventory() { /usr/bin/python3 "$here/../mariadb/kmip_inventory.py" "$fixture" "$1"; }
# the keys of two data files (identity -> type, bytes) are equal
same_keys() {
    /usr/bin/python3 - "$1" "$2" << 'EOF'
import json, sys
def keys(p):
    return {(e["user"], e["data_id"]): (e["data_type"], bytes.fromhex(e["data"]))
            for e in json.load(open(p))["elements"]}
a, b = keys(sys.argv[1]), keys(sys.argv[2])
sys.exit(0 if a == b and len(a) > 0 else 1)
EOF
}
config() { # FILE PORT GROUP
    cat > "$1" << JSON
{"server_addr": "127.0.0.1", "server_port": $2, "client_ca": "$CLIENT_CERT",
 "client_key": "$CLIENT_KEY", "server_ca": "$CA", "object_group": "$3",
 "kmip_timeout_ms": 5000}
JSON
}
# run WANT_STATUS OUT ARGS...: keyring-kmip ARGS, stdout+stderr into OUT
run() {
    want=$1 out=$2
    shift 2
    "$cli" "$@" > "$out" 2>&1
    status=$?
    if [ "$status" -eq "$want" ]; then ok; else bad "keyring-kmip $* gave $status, not $want:"; tail -5 "$out"; fi
}
has() { grep -q -- "$2" "$1" && ok || { bad "$1 lacks '$2':"; tail -5 "$1"; }; }
group="migrate-$$-$(date +%s)"
config "$tmp/kr.cnf" "$PORT" "$group"
kr="--config $tmp/kr.cnf"

# 1. 50 keys into PyKMIP and back into a second file
make_file "$tmp/src.json" 50
run 0 "$tmp/dry" migrate --from "keyring-file:$tmp/src.json" --to kmip --dry-run $kr
has "$tmp/dry" "dry run: keyring-file:$tmp/src.json -> kmip: 50 to migrate, 0 to skip, 0 conflicts, 0 failed"
run 0 "$tmp/list" list $kr
[ ! -s "$tmp/list" ] && ok || bad "the dry run wrote keys: $(head -3 "$tmp/list")"
run 0 "$tmp/m1" migrate --from "keyring-file:$tmp/src.json" --to kmip $kr
has "$tmp/m1" "50 migrated, 0 skipped, 0 conflicts, 0 failed"
run 0 "$tmp/m2" migrate --from "keyring-file:$tmp/src.json" --to kmip --json $kr
has "$tmp/m2" '"migrated":0,"skipped":50,"conflicts":0,"failed":0'
run 0 "$tmp/m3" migrate --from kmip --to "keyring-file:$tmp/back.json" $kr
has "$tmp/m3" "50 migrated, 0 skipped"
same_keys "$tmp/src.json" "$tmp/back.json" && ok || bad "the file read back differs from the source"
[ "$(stat -c %a "$tmp/back.json")" = 600 ] && ok || bad "back.json mode $(stat -c %a "$tmp/back.json")"
# back into the same file again: nothing to write, the file untouched
cp "$tmp/back.json" "$tmp/back.copy"
run 0 "$tmp/m4" migrate --from kmip --to "keyring-file:$tmp/back.json" $kr
has "$tmp/m4" "0 migrated, 50 skipped"
cmp -s "$tmp/back.json" "$tmp/back.copy" && ok || bad "a re-run rewrote the file"
# owners and types as MySQL would read them: MySQL's own field names
/usr/bin/python3 -c "
import json, sys
e = json.load(open('$tmp/back.json'))['elements']
types = {x['data_type'] for x in e}; users = {x['user'] for x in e}
sys.exit(0 if types == {'AES', 'SECRET', 'RSA'} and '' in users and 'root@localhost' in users
         and all(x['extension'] == [] and x['data'] == x['data'].upper() for x in e) else 1)" &&
    ok || bad "back.json lost types, owners or MySQL's form"
# every object once, Active (PyKMIP's own view)
inventory "$group" > "$tmp/inv"
[ "$(wc -l < "$tmp/inv")" = 50 ] && [ "$(cut -f2 "$tmp/inv" | sort -u | wc -l)" = 50 ] &&
    [ "$(cut -f3 "$tmp/inv" | sort -u)" = ACTIVE ] && ok || bad "server objects: $(cut -f3 "$tmp/inv" | sort | uniq -c)"
# no key bytes in any output (a 32-byte key's hex, either case)
k32=$(/usr/bin/python3 -c "
import json; print([x['data'] for x in json.load(open('$tmp/src.json'))['elements'] if len(x['data']) == 64][0])")
if cat "$tmp"/dry "$tmp"/m? | grep -qi "$k32"; then bad "a key was printed"; else ok; fi

# progress on a terminal only (script(1) gives the command one)
script -qec "'$cli' migrate --from 'keyring-file:$tmp/src.json' --to 'keyring-file:$tmp/tty.json'" \
    /dev/null > "$tmp/tty.out" 2>&1
grep -q "migrating keys: 50/50" "$tmp/tty.out" && ok || bad "no progress on a terminal: $(tail -2 "$tmp/tty.out")"
grep -q "migrating keys" "$tmp/m1" "$tmp/m3" && bad "progress shown without a terminal" || ok

# 2. non-ASCII ids and owners, through our test server (PyKMIP refuses them)
config "$tmp/ts.cnf" "$TESTSRV_PORT" "$group-u"
make_file "$tmp/uni.json" 50 u --unicode
run 0 "$tmp/u1" migrate --from "keyring-file:$tmp/uni.json" --to kmip --config "$tmp/ts.cnf"
has "$tmp/u1" "50 migrated"
run 0 "$tmp/u2" migrate --from kmip --to "keyring-file:$tmp/uni-back.json" --config "$tmp/ts.cnf"
same_keys "$tmp/uni.json" "$tmp/uni-back.json" && ok || bad "non-ASCII round trip differs"

# 3. conflicts: other bytes, another type; reported, nothing overwritten
/usr/bin/python3 - "$tmp/src.json" "$tmp/conflict.json" << 'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
e = d["elements"]
e[3]["data"] = "00" * (len(e[3]["data"]) // 2)     # other bytes
e[8]["data_type"] = "SECRET" if e[8]["data_type"] != "SECRET" else "AES"  # another type
e.append({"user": "", "data_id": "fresh", "data_type": "AES", "data": "11" * 32,
          "extension": []})
json.dump(d, open(sys.argv[2], "w"))
EOF
id3=$(/usr/bin/python3 -c "import json; print(json.load(open('$tmp/src.json'))['elements'][3]['data_id'])")
u3=$(/usr/bin/python3 -c "import json; print(json.load(open('$tmp/src.json'))['elements'][3]['user'])")
run 8 "$tmp/c1" migrate --from "keyring-file:$tmp/conflict.json" --to kmip $kr
has "$tmp/c1" "1 migrated, 48 skipped, 2 conflicts, 0 failed"
has "$tmp/c1" "^conflict .*the destination holds other bytes (left as they are)"
has "$tmp/c1" "^conflict .*the destination holds it as type"
"$cli" get "$id3" --auth-id "$u3" --json $kr > "$tmp/got" 2>&1
orig3=$(/usr/bin/python3 -c "import json; print(json.load(open('$tmp/src.json'))['elements'][3]['data'].lower())")
grep -q "\"hex\":\"$orig3\"" "$tmp/got" && ok || bad "the conflicting key was overwritten on the server"
# into a file: the file's own key stays, the new key is added
run 8 "$tmp/c2" migrate --from "keyring-file:$tmp/conflict.json" --to "keyring-file:$tmp/back.json"
has "$tmp/c2" "1 migrated, 48 skipped, 2 conflicts, 0 failed"
/usr/bin/python3 -c "
import json, sys
e = {(x['user'], x['data_id']): x for x in json.load(open('$tmp/back.json'))['elements']}
s = json.load(open('$tmp/src.json'))['elements']
sys.exit(0 if len(e) == 51 and all(e[(x['user'], x['data_id'])] == x for x in s) else 1)" &&
    ok || bad "the destination file's keys changed"
# a destination that is not a data file is never overwritten
echo "not json" > "$tmp/junk.json"
run 1 "$tmp/c3" migrate --from "keyring-file:$tmp/src.json" --to "keyring-file:$tmp/junk.json"
has "$tmp/c3" "the destination $tmp/junk.json: not JSON: line 1, column 3: "
has "$tmp/c3" "expected (it is left as it is)"
[ "$(cat "$tmp/junk.json")" = "not json" ] && ok || bad "junk.json was overwritten"
# bad source files: named, nothing written, no key text in the message
printf '{"version":"1.0","elements":[{"user":"","data_id":"a","data_type":"AES","data":"%sZZ","extension":[]}]}' "$k32" > "$tmp/badhex.json"
run 1 "$tmp/b1" migrate --from "keyring-file:$tmp/badhex.json" --to kmip $kr
has "$tmp/b1" "badhex.json: element 0: \"data\" is not hex"
if grep -qi "$k32" "$tmp/b1"; then bad "the bad key was printed"; else ok; fi
printf '{"version":"2.0","elements":[]}' > "$tmp/v2.json"
run 1 "$tmp/b2" migrate --from "keyring-file:$tmp/v2.json" --to kmip $kr
has "$tmp/b2" '"version" is "2.0", not "1.0"'
printf '{"version":"1.0","elements":[{"user":"","data_id":"a","data_type":"AES","data":"00"},{"user":"","data_id":"a","data_type":"AES","data":"01"}]}' > "$tmp/dup.json"
run 1 "$tmp/b3" migrate --from "keyring-file:$tmp/dup.json" --to kmip $kr
has "$tmp/b3" "element 1: a second key of this data_id and user"
run 2 "$tmp/b4" migrate --from kmip --to kmip $kr
run 2 "$tmp/b5" migrate --from "mariadb-file:$tmp/x" --to "mariadb-file:$tmp/y"
run 2 "$tmp/b6" migrate --from "keyring-file:$tmp/src.json" --to kmip --filekey x $kr

# 4. stopped half-way, run again: completes, no key twice on the server.
# The fault proxy slows every chunk by 10 ms each way so that the migration
# is still going when the signal comes.
"$proxy" --target "$PORT" --port-file "$tmp/pp" --control-port-file "$tmp/cp" --lifetime 300 &
proxy_pid=$!
for i in $(seq 1 50); do [ -s "$tmp/pp" ] && [ -s "$tmp/cp" ] && break; sleep 0.1; done
control() { /usr/bin/python3 -c "
import socket, sys
s = socket.create_connection(('127.0.0.1', int(open('$tmp/cp').read())))
s.sendall(b'$1\n'); s.recv(100)"; }
control "latency 10000 10000"
count_keys() { "$cli" list --config "$1" 2> /dev/null | wc -l; }
interrupt() { # SIGNAL GROUP: migrate through the proxy, signal once 15 keys are on the server
    config "$tmp/slow.cnf" "$(cat "$tmp/pp")" "$2"
    config "$tmp/direct.cnf" "$PORT" "$2"
    "$cli" migrate --from "keyring-file:$tmp/src.json" --to kmip --config "$tmp/slow.cnf" \
        > "$tmp/int.out" 2>&1 &
    migrate_pid=$!
    for i in $(seq 1 300); do
        [ "$(count_keys "$tmp/direct.cnf")" -ge 15 ] && break
        kill -0 $migrate_pid 2> /dev/null || break
        sleep 0.1
    done
    kill -"$1" $migrate_pid
    wait $migrate_pid
    int_status=$?
    migrate_pid=
}
interrupt TERM "$group-term"
[ "$int_status" = 143 ] && ok || bad "SIGTERM: status $int_status, not 143: $(tail -2 "$tmp/int.out")"
has "$tmp/int.out" "not attempted (interrupted)"
done_before=$(count_keys "$tmp/direct.cnf")
[ "$done_before" -ge 15 ] && [ "$done_before" -lt 50 ] && ok || bad "SIGTERM: $done_before keys written"
run 0 "$tmp/r1" migrate --from "keyring-file:$tmp/src.json" --to kmip --config "$tmp/direct.cnf"
has "$tmp/r1" "$((50 - done_before)) migrated, $done_before skipped, 0 conflicts, 0 failed"
inventory "$group-term" > "$tmp/inv"
[ "$(wc -l < "$tmp/inv")" = 50 ] && [ "$(cut -f2 "$tmp/inv" | sort -u | wc -l)" = 50 ] &&
    [ "$(cut -f3 "$tmp/inv" | sort -u)" = ACTIVE ] && ok || bad "after SIGTERM and a re-run: $(cut -f3 "$tmp/inv" | sort | uniq -c)"

# SIGKILL lands anywhere, also between a Register and its Activate: that
# object stays Pre-Active, and within its 600 s lease no other writer may
# take the key (invariant 1). The re-run migrates every other key, reports
# that one as failed (exit status 6) and writes no second object for it.
interrupt KILL "$group-kill"
[ "$int_status" = 137 ] && ok || bad "SIGKILL: status $int_status"
inventory "$group-kill" > "$tmp/inv0"
pre=$(grep -c PRE_ACTIVE "$tmp/inv0")
[ "$pre" -le 1 ] && ok || bad "$pre Pre-Active objects after one SIGKILL"
want=0
[ "$pre" = 1 ] && want=6
run $want "$tmp/r2" migrate --from "keyring-file:$tmp/src.json" --to kmip --config "$tmp/direct.cnf"
has "$tmp/r2" ", 0 conflicts, $pre failed"
[ "$pre" = 1 ] && has "$tmp/r2" "^failed .*exists already on the KMIP server as object .* (Pre-Active"
inventory "$group-kill" > "$tmp/inv"
[ "$(wc -l < "$tmp/inv")" = 50 ] && [ "$(cut -f2 "$tmp/inv" | sort -u | wc -l)" = 50 ] &&
    [ "$(cut -f3 "$tmp/inv" | grep -cx ACTIVE)" = $((50 - pre)) ] &&
    [ "$(grep -c PRE_ACTIVE "$tmp/inv")" = "$pre" ] &&
    ok || bad "after SIGKILL and a re-run: $(cut -f3 "$tmp/inv" | sort | uniq -c)"
echo "SIGKILL left $pre Pre-Active object(s)"

# 5. MariaDB key files, read as file_key_management reads them; the
# encrypted one made by MariaDB's documented command, decrypted by us
k1=$(openssl rand -hex 32) k2=$(openssl rand -hex 16) k7=$(openssl rand -hex 24)
printf '# comment\n\n  1;%s\r\n2;%s trailing text is ignored\n7;%s\n2;%s\n' \
    "$k1" "$(openssl rand -hex 16)" "$k7" "$k2" > "$tmp/md.txt"
openssl enc -aes-256-cbc -md sha1 -k "s3cret pass" -in "$tmp/md.txt" -out "$tmp/md.enc" 2> /dev/null
printf 's3cret pass\r\n' > "$tmp/filekey"
check_md() { # the keys of md.json are those of md.txt (the last line of id 2 wins)
    /usr/bin/python3 -c "
import json, sys
e = {x['data_id']: (x['user'], x['data_type'], x['data'].lower()) for x in json.load(open('$tmp/md.json'))['elements']}
sys.exit(0 if e == {'mariadb-1-1': ('', 'AES', '$k1'), 'mariadb-2-1': ('', 'AES', '$k2'),
                    'mariadb-7-1': ('', 'AES', '$k7')} else 1)" && ok || bad "mariadb keys ($1): $(cat "$tmp/md.json")"
    rm -f "$tmp/md.json"
}
run 0 "$tmp/md1" migrate --from "mariadb-file:$tmp/md.txt" --to "keyring-file:$tmp/md.json"
has "$tmp/md1" "3 migrated, 0 skipped, 0 conflicts, 0 failed"
check_md plain
run 0 "$tmp/md1" migrate --from "mariadb-file:$tmp/md.enc" --filekey "s3cret pass" --to "keyring-file:$tmp/md.json"
has "$tmp/md1" "3 migrated, 0 skipped, 0 conflicts, 0 failed"
check_md "encrypted, --filekey SECRET"
run 0 "$tmp/md1" migrate --from "mariadb-file:$tmp/md.enc" --filekey "FILE:$tmp/filekey" --to "keyring-file:$tmp/md.json"
has "$tmp/md1" "3 migrated, 0 skipped, 0 conflicts, 0 failed"
check_md "encrypted, --filekey FILE:"
run 1 "$tmp/md2" migrate --from "mariadb-file:$tmp/md.enc" --filekey wrong --to "keyring-file:$tmp/x.json"
has "$tmp/md2" "md.enc: cannot decrypt it: wrong filekey?"
run 1 "$tmp/md3" migrate --from "mariadb-file:$tmp/md.enc" --to "keyring-file:$tmp/x.json"
has "$tmp/md3" "md.enc: encrypted: give its filekey with --filekey"
run 1 "$tmp/md4" migrate --from "mariadb-file:$tmp/md.txt" --filekey x --to "keyring-file:$tmp/x.json"
has "$tmp/md4" "not encrypted, but a filekey was given"
printf '2;%s\n' "$k2" > "$tmp/no1.txt"
run 1 "$tmp/md5" migrate --from "mariadb-file:$tmp/no1.txt" --to "keyring-file:$tmp/x.json"
has "$tmp/md5" "key id 1 is missing"
printf '1;%s\n3;%s0\n' "$k1" "$k1" > "$tmp/badkey.txt"
run 1 "$tmp/md6" migrate --from "mariadb-file:$tmp/badkey.txt" --to "keyring-file:$tmp/x.json"
has "$tmp/md6" "badkey.txt: line 2, column 67: invalid key (16, 24 or 32 bytes in hex expected)"
if grep -qi "$k1" "$tmp"/md?; then bad "a MariaDB key was printed"; else ok; fi
[ ! -e "$tmp/x.json" ] && ok || bad "a refused source wrote a file"

echo "== two runs into one file at the same moment, and the written file's mode"
# Each run merges its keys into the destination file; without a lock the
# second rename drops the first run's keys while both report success.
make_file "$tmp/ra.json" 40 racea > /dev/null
make_file "$tmp/rb.json" 40 raceb > /dev/null
lost=0
for round in 1 2 3 4 5 6 7 8 9 10; do
    rm -f "$tmp/race.json" "$tmp/race.json.lock"
    "$cli" migrate --from "keyring-file:$tmp/ra.json" --to "keyring-file:$tmp/race.json" > "$tmp/ra.out" 2>&1 &
    pa=$!
    "$cli" migrate --from "keyring-file:$tmp/rb.json" --to "keyring-file:$tmp/race.json" > "$tmp/rb.out" 2>&1 &
    pb=$!
    wait $pa; sa=$?
    wait $pb; sb=$?
    n=$(/usr/bin/python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["elements"]))' "$tmp/race.json" 2> /dev/null || echo 0)
    if [ "$sa" -ne 0 ] || [ "$sb" -ne 0 ] || [ "$n" -ne 80 ]; then
        lost=$((lost + 1))
        echo "round $round: statuses $sa $sb, $n keys of 80 in the file"
    fi
done
[ "$lost" -eq 0 ] && ok || bad "$lost of 10 rounds of two concurrent runs lost keys or failed"
[ "$(stat -c %a "$tmp/race.json")" = 600 ] && ok || bad "a new key file is not 0600: $(stat -c %a "$tmp/race.json")"
chmod 0644 "$tmp/race.json"
make_file "$tmp/rc.json" 3 racec > /dev/null
run 0 "$tmp/mode.out" migrate --from "keyring-file:$tmp/rc.json" --to "keyring-file:$tmp/race.json"
has "$tmp/mode.out" "was open to other users (mode 0644); the new file has mode 0640"
[ "$(stat -c %a "$tmp/race.json")" = 640 ] && ok || bad "the rewritten key file is $(stat -c %a "$tmp/race.json"), not 640"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
