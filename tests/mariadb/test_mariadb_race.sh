#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Two mariadbd sharing one object group of one PyKMIP server rotate key 1 at
# the same moment, ROUNDS times (default 20), writing rows in between; then
# both are restarted. Checked against the KMIP server itself (read with
# PyKMIP's own client, tests/mariadb/kmip_inventory.py):
#   - no key name (mariadb-ID-VERSION) is ever held by two objects;
#   - no Pre-Active object is left behind by a rotation;
#   - in every round at most one server created a given version (two may
#     both yield, never both win);
#   - after the restart both servers start, every row reads back, and the
#     MIN_KEY_VERSION and CURRENT_KEY_VERSION of every tablespace is a
#     version that exists exactly once on the server.
# Usage: test_mariadb_race.sh PLUGIN_DIR FIXTURE_DIR
set -u
plugin_dir=$(cd "$1" && pwd)
fixture=$2
rounds=${ROUNDS:-20}
here=$(cd "$(dirname "$0")" && pwd)
inventory="$here/kmip_inventory.py"
. "$fixture/env"
tmp=$(mktemp -d)
group="mariadb-race-$$-$(date +%s)"
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
cleanup() {
    if [ "$fail" -gt 0 ]; then
        for s in a b; do
            echo "== $s: the plugin's lines of the error log"
            grep -i kmip "$tmp/$s/err.log" | tail -20
        done
    fi
    for s in a b; do
        [ -f "$tmp/$s/mariadbd.pid" ] && kill "$(cat "$tmp/$s/mariadbd.pid")" 2> /dev/null
    done
    sleep 1
    rm -rf "$tmp"
}
trap cleanup EXIT

. "$here/mariadbd.sh"
# the race's servers: a fast refresh, pages re-encrypted in the background
race_options="--kmip-key-management-timeout-ms=5000 --kmip-key-management-refresh-seconds=2
    --innodb-encryption-rotate-key-age=1"
inv() { /usr/bin/python3 "$inventory" "$fixture" "$group"; }

# Both servers start on an empty group: the first creates mariadb-1-1, the
# second must not create another one (or, if it does at the same moment,
# one of them must yield). Started one after the other here; the race is
# in the rotations.
for s in a b; do
    if start $s $race_options; then ok; else bad "mariadbd $s did not start"; cat "$tmp/$s/err.log"; exit 1; fi
    sql $s "CREATE DATABASE t; CREATE TABLE t.r (round INT, server CHAR(1), s VARCHAR(64),
            PRIMARY KEY (round, server)) ENCRYPTED=YES;
            INSERT INTO t.r VALUES (0, '$s', 'RACE_ROW');" > /dev/null
done

# The rounds: both clients wait on one FIFO and are released together.
collisions=0
both_ok=0
both_failed=0
round=1
while [ "$round" -le "$rounds" ]; do
    rm -f "$tmp/go"
    mkfifo "$tmp/go"
    # held open read-write here, so neither side's open blocks and no byte is
    # lost whichever opens first
    exec 3<> "$tmp/go"
    waiters=""
    for s in a b; do
        (read -r _ < "$tmp/go"
         sql $s "SET GLOBAL kmip_key_management_rotate_key = 1" > "$tmp/rot.$s") 3>&- &
        waiters="$waiters $!"
    done
    sleep 0.2 # both clients are waiting in read
    # two readers, one line each (the shell's read takes a pipe byte by byte)
    printf 'go\ngo\n' >&3
    wait $waiters # (a plain wait would wait for the mariadbd too)
    exec 3>&-
    ra=$(cat "$tmp/rot.a")
    rb=$(cat "$tmp/rot.b")
    if [ -z "$ra" ] && [ -z "$rb" ]; then
        both_ok=$((both_ok + 1))
    elif [ -n "$ra" ] && [ -n "$rb" ]; then
        both_failed=$((both_failed + 1))
    else
        collisions=$((collisions + 1))
    fi
    for r in "$ra" "$rb"; do
        # a lost race is reported as such, anything else is a failure
        if [ -n "$r" ] && ! printf '%s' "$r" | grep -q "at the same time: retry"; then
            bad "round $round: rotation failed for another reason: $r"
        fi
    done
    for s in a b; do
        sql $s "INSERT INTO t.r VALUES ($round, '$s', 'RACE_ROW')" | grep . && bad "insert failed"
    done
    inv > "$tmp/inv.$round"
    dups=$(cut -f2 "$tmp/inv.$round" | sort | uniq -d | tr '\n' ' ')
    [ -z "$dups" ] && ok || bad "round $round: names held by two objects: $dups"
    round=$((round + 1))
done
echo "rounds: $rounds; one server yielded: $collisions; both rotated: $both_ok;" \
    "both yielded: $both_failed"

# Let the background re-encryption run a little, then restart both.
sleep 3
for s in a b; do stop $s; done
inv > "$tmp/inv.final"
grep -q "PRE_ACTIVE" "$tmp/inv.final" &&
    bad "Pre-Active objects left: $(grep PRE_ACTIVE "$tmp/inv.final")" || ok
dups=$(cut -f2 "$tmp/inv.final" | sort | uniq -d | tr '\n' ' ')
[ -z "$dups" ] && ok || bad "names held by two objects: $dups"
for s in a b; do
    if start $s $race_options; then ok; else
        bad "mariadbd $s did not restart: $(grep -i 'error' "$tmp/$s/err.log" | tail -5)"
        continue
    fi
    n=$(sql $s "SELECT COUNT(*) FROM t.r WHERE server='$s' AND s='RACE_ROW'")
    [ "$n" = "$((rounds + 1))" ] && ok || bad "$s: $n rows of $((rounds + 1)) read back"
    # key versions in use: "KEY_ID-VERSION" for the oldest and the newest of
    # every encrypted tablespace (version 0 is "not encrypted")
    sql $s "SELECT CONCAT(CURRENT_KEY_ID, '-', MIN_KEY_VERSION), CONCAT(CURRENT_KEY_ID, '-', CURRENT_KEY_VERSION)
            FROM information_schema.INNODB_TABLESPACES_ENCRYPTION WHERE ENCRYPTION_SCHEME = 1" |
        tr '\t' '\n' | grep -v -- '-0$' | sort -u > "$tmp/versions.$s"
    [ -s "$tmp/versions.$s" ] || bad "$s: no encrypted tablespaces listed"
    while read -r v; do
        c=$(cut -f2 "$tmp/inv.final" | grep -cx "mariadb-$v")
        [ "$c" = "1" ] && ok || bad "$s: a tablespace uses key $v, held by $c objects"
    done < "$tmp/versions.$s"
done
for s in a b; do stop $s; done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
