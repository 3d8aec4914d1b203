#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The MariaDB plugin on a real mariadbd (Debian's mariadb-server), against
# the fixture's PyKMIP server: encrypted tables, redo log, binlog and
# temporary files; restart; rotation and re-encryption; the KMIP server
# going away and coming back; FORCE with the KMIP server down; a second
# mariadbd sharing the object group.
# Usage: test_mariadb.sh PLUGIN_DIR FIXTURE_DIR HARNESS KEYRING_KMIP
# PLUGIN_DIR holds kmip_key_management.so: the build's, or the installed
# package's (/usr/lib/mysql/plugin, scripts/test.sh after dpkg -i).
set -u
plugin_dir=$1
fixture=$2
harness=$3
cli=$4
. "$fixture/env"
tmp=$(mktemp -d)
group="mariadb-test-$$-$(date +%s)"
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
cleanup() {
    for s in a b c; do
        [ -f "$tmp/$s/pid" ] && kill "$(cat "$tmp/$s/pid")" 2> /dev/null
    done
    sleep 1
    rm -rf "$tmp"
}
trap cleanup EXIT

cat > "$tmp/keyring.cnf" << JSON
{"server_addr": "127.0.0.1", "server_port": $PORT, "client_ca": "$CLIENT_CERT",
 "client_key": "$CLIENT_KEY", "server_ca": "$CA", "object_group": "$group"}
JSON

. "$(dirname "$0")/mariadbd.sh"
version_of() { # current key version of table t.x on server $1
    sql "$1" "SELECT CURRENT_KEY_VERSION FROM information_schema.INNODB_TABLESPACES_ENCRYPTION WHERE NAME='t/$2'"
}

# 1. encrypted data at rest
if start a; then ok; else bad "mariadbd a did not start"; cat "$tmp/a/err.log"; exit 1; fi
# the plugin as mariadbd loaded it: from PLUGIN_DIR (the build's, or the installed package's), GPL
loaded=$(sql a "SELECT @@plugin_dir")
[ "${loaded%/}" = "${plugin_dir%/}" ] && ok || bad "plugin_dir is $loaded, not $plugin_dir"
[ "$(sql a "SELECT PLUGIN_STATUS, PLUGIN_LIBRARY, PLUGIN_LICENSE FROM information_schema.PLUGINS
            WHERE PLUGIN_NAME='kmip_key_management'")" = "ACTIVE	kmip_key_management.so	GPL" ] &&
    ok || bad "kmip_key_management not active as a GPL plugin from $plugin_dir"
sql a "CREATE DATABASE t; CREATE TABLE t.x (id INT PRIMARY KEY, s VARCHAR(100)) ENCRYPTED=YES;
       INSERT INTO t.x VALUES (1, 'PLAINTEXT_MARKER_4711'), (2, 'PLAINTEXT_MARKER_4711');
       CREATE TABLE t.y (id INT PRIMARY KEY, s TEXT); INSERT INTO t.y VALUES (1, 'PLAINTEXT_MARKER_4711');" > /dev/null
sql a "FLUSH TABLES; FLUSH BINARY LOGS; SET GLOBAL innodb_max_dirty_pages_pct=0;" > /dev/null
sleep 3
for f in "$tmp/a/data/t/x.ibd" "$tmp/a/data/t/y.ibd" "$tmp/a/data/ib_logfile0" "$tmp/a/data"/binlog.0*; do
    if grep -q PLAINTEXT_MARKER_4711 "$f"; then bad "$f holds the plaintext"; else ok; fi
done
[ "$(version_of a x)" = "1" ] && ok || bad "table x not at key version 1: $(version_of a x)"
"$cli" list --config "$tmp/keyring.cnf" | grep -q "^mariadb-1-1" && ok || bad "key 1 version 1 not on the KMIP server"

# 2. restart, rows read back
stop a
start a && ok || bad "restart failed"
[ "$(sql a "SELECT COUNT(*) FROM t.x WHERE s='PLAINTEXT_MARKER_4711'")" = "2" ] && ok || bad "rows lost after restart"

# 3. rotation and re-encryption, old versions kept
sql a "SET GLOBAL kmip_key_management_rotate_key = 1" | grep -q . && bad "rotation failed" || ok
sql a "SET GLOBAL innodb_encryption_rotate_key_age = 1" > /dev/null
for i in $(seq 1 60); do [ "$(version_of a x)" = "2" ] && break; sleep 0.5; done
[ "$(version_of a x)" = "2" ] && ok || bad "table x not re-encrypted to version 2"
stop a
start a && ok || bad "restart after rotation failed"
[ "$(sql a "SELECT s FROM t.x WHERE id=1")" = "PLAINTEXT_MARKER_4711" ] && ok || bad "row unreadable after rotation"
"$cli" list --config "$tmp/keyring.cnf" > "$tmp/keys"
grep -q "^mariadb-1-1" "$tmp/keys" && grep -q "^mariadb-1-2" "$tmp/keys" && ok || bad "old version gone: $(cat "$tmp/keys")"

# 4. the KMIP server goes away: reads and writes go on, rotation fails clearly
/usr/bin/python3 "$harness" kill "$fixture"
sql a "INSERT INTO t.x VALUES (3, 'during outage')" | grep -q . && bad "write failed during the outage" || ok
[ "$(sql a "SELECT COUNT(*) FROM t.x")" = "3" ] && ok || bad "read failed during the outage"
sql a "SET GLOBAL kmip_key_management_rotate_key = 1" > "$tmp/out"
grep -q "key rotation failed: .*cannot connect" "$tmp/out" && ok || bad "rotation error unclear: $(cat "$tmp/out")"
/usr/bin/python3 "$harness" restart "$fixture"
sql a "SET GLOBAL kmip_key_management_rotate_key = 1" | grep -q . && bad "rotation after recovery failed" || ok

# 5. a second server sharing the object group sees versions made by the first
start b --kmip-key-management-refresh-seconds=2 && ok || bad "mariadbd b did not start"
sql b "CREATE DATABASE t; CREATE TABLE t.z (id INT) ENCRYPTED=YES" > /dev/null
[ "$(version_of b z)" = "3" ] && ok || bad "b does not use the latest version 3: $(version_of b z)"
sql a "SET GLOBAL kmip_key_management_rotate_key = 1" > /dev/null
sleep 5 # b's refresh runs every 2 s
sql b "CREATE TABLE t.w (id INT) ENCRYPTED=YES" > /dev/null
[ "$(version_of b w)" = "4" ] && ok || bad "b did not pick up version 4: $(version_of b w)"
stop b
stop a

# 5b. names that are not canonical versions are not versions of ours: a
# leading zero (mariadb-1-05) or ENCRYPTION_KEY_VERSION_INVALID as a version
k32=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
"$cli" store mariadb-1-05 --type AES --hex $k32 --config "$tmp/keyring.cnf" > /dev/null 2>&1 || bad "store mariadb-1-05"
"$cli" store mariadb-1-4294967295 --type AES --hex $k32 --config "$tmp/keyring.cnf" > /dev/null 2>&1 || bad "store mariadb-1-4294967295"
start a && ok || bad "restart with non-canonical names failed"
sql a "CREATE TABLE t.v (id INT) ENCRYPTED=YES" > /dev/null
[ "$(version_of a v)" = "4" ] && ok || bad "a non-canonical name was taken as a version: $(version_of a v)"
stop a

# 6. FORCE with the KMIP server down at startup: mariadbd refuses to start
/usr/bin/python3 "$harness" kill "$fixture"
if start c; then bad "mariadbd c started without its keys"; stop c; else ok; fi
grep -q "kmip_key_management: cannot load the keys: cannot reach the KMIP server" "$tmp/c/err.log" &&
    ok || bad "error log does not say why: $(grep -i kmip "$tmp/c/err.log" | head -3)"
/usr/bin/python3 "$harness" restart "$fixture"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
