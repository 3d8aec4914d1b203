#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# MariaDB from file_key_management to kmip_key_management with no
# re-encryption, on a real mariadbd (Debian's mariadb-server) and the
# fixture's PyKMIP server, three times: with a plain key file, with a key
# file encrypted by MariaDB's documented command (openssl enc -aes-256-cbc
# -md sha1 -k SECRET) and its filekey in a file, and with data written under
# file_key_management_encryption_algorithm=aes_ctr (read back with
# kmip_key_management_encryption_algorithm=aes_ctr). mariadbd with file_key_management
# writes encrypted InnoDB tables (key ids 1, 2 and 3: 32, 16 and 24 bytes),
# an encrypted Aria table, redo log and binlog; keyring-kmip migrate moves
# the keys into PyKMIP (and a re-run skips them all); mariadbd restarted with
# kmip_key_management only (file_key_management not loaded, key creation
# off) reads every row, takes inserts, rotates key 1 to version 2, and
# after one more restart reads everything again.
# Usage: test_mariadb_migrate.sh PLUGIN_DIR FIXTURE_DIR KEYRING_KMIP
set -u
plugin_dir=$1
fixture=$2
cli=$3
. "$fixture/env"
tmp=$(mktemp -d)
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
cleanup() {
    for s in plain encrypted ctr; do
        [ -f "$tmp/$s/pid" ] && kill -9 "$(cat "$tmp/$s/pid")" 2> /dev/null
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
. "$(dirname "$0")/mariadbd.sh"
file_plugin_dir=$(mariadbd --no-defaults --verbose --help 2> /dev/null | sed -n 's/^plugin-dir  *//p')
[ -f "$file_plugin_dir/file_key_management.so" ] || file_plugin_dir=/usr/lib/mysql/plugin

marker=PLAINTEXT_MARKER_0816
rows() { # server: every row of every table, in one line
    sql "$1" "SELECT GROUP_CONCAT(CONCAT(id, '=', s) ORDER BY id) FROM t.k1;
              SELECT GROUP_CONCAT(CONCAT(id, '=', s) ORDER BY id) FROM t.k2;
              SELECT GROUP_CONCAT(CONCAT(id, '=', s) ORDER BY id) FROM t.k3;
              SELECT GROUP_CONCAT(CONCAT(id, '=', s) ORDER BY id) FROM t.aria" | tr '\n' ' '
}

for mode in plain encrypted ctr; do
    group="mariadb-migrate-$mode-$$-$(date +%s)"
    cat > "$tmp/$mode.cnf" << JSON
{"server_addr": "127.0.0.1", "server_port": $PORT, "client_ca": "$CLIENT_CERT",
 "client_key": "$CLIENT_KEY", "server_ca": "$CA", "object_group": "$group"}
JSON
    { echo "# file_key_management keys"
      echo "1;$(openssl rand -hex 32)"
      echo "2;$(openssl rand -hex 16)"
      echo "3;$(openssl rand -hex 24)"; } > "$tmp/$mode.keys"
    keyfile=$tmp/$mode.keys
    filekey_opt=
    # ctr: the server encrypts with file_key_management_encryption_algorithm
    # = aes_ctr (CTR/GCM); kmip_key_management must be told the same
    file_algo=
    kmip_algo=
    if [ $mode = ctr ]; then
        file_algo=--file-key-management-encryption-algorithm=aes_ctr
        kmip_algo=--kmip-key-management-encryption-algorithm=aes_ctr
    fi
    ours=
    if [ $mode = encrypted ]; then
        openssl rand -hex 20 > "$tmp/filekey"
        openssl enc -aes-256-cbc -md sha1 -k "$(cat "$tmp/filekey")" -in "$tmp/$mode.keys" \
            -out "$tmp/$mode.enc" 2> /dev/null
        head -c 8 "$tmp/$mode.enc" | grep -q Salted__ && ok || bad "openssl enc made no Salted__ file"
        keyfile=$tmp/$mode.enc
        filekey_opt="--file-key-management-filekey=FILE:$tmp/filekey"
        ours="--filekey FILE:$tmp/filekey"
    fi

    # 1. file_key_management writes encrypted InnoDB and Aria tables
    key_management=file
    if start $mode --plugin-dir="$file_plugin_dir" --plugin-load-add=file_key_management \
        --file-key-management=FORCE --file-key-management-filename="$keyfile" $filekey_opt \
        --aria-encrypt-tables=ON $file_algo; then ok; else
        bad "$mode: mariadbd with file_key_management did not start"; cat "$tmp/$mode/err.log"; continue
    fi
    sql $mode "CREATE DATABASE t;
        CREATE TABLE t.k1 (id INT PRIMARY KEY, s VARCHAR(64)) ENCRYPTED=YES;
        CREATE TABLE t.k2 (id INT PRIMARY KEY, s VARCHAR(64)) ENCRYPTED=YES ENCRYPTION_KEY_ID=2;
        CREATE TABLE t.k3 (id INT PRIMARY KEY, s VARCHAR(64)) ENCRYPTED=YES ENCRYPTION_KEY_ID=3;
        CREATE TABLE t.aria (id INT PRIMARY KEY, s VARCHAR(64)) ENGINE=Aria ROW_FORMAT=PAGE;
        INSERT INTO t.k1 VALUES (1, '$marker'), (2, 'one');
        INSERT INTO t.k2 VALUES (1, '$marker'), (2, 'two');
        INSERT INTO t.k3 VALUES (1, '$marker'), (2, 'three');
        INSERT INTO t.aria VALUES (1, '$marker'), (2, 'aria');
        FLUSH TABLES; FLUSH BINARY LOGS;" > "$tmp/out"
    [ -s "$tmp/out" ] && bad "$mode: SQL failed: $(cat "$tmp/out")" || ok
    before=$(rows $mode)
    stop $mode
    for f in "$tmp/$mode/data/t/k1.ibd" "$tmp/$mode/data/t/k2.ibd" "$tmp/$mode/data/t/k3.ibd" \
        "$tmp/$mode/data/t/aria.MAD" "$tmp/$mode/data/ib_logfile0"; do
        if grep -q $marker "$f"; then bad "$mode: $f holds the plaintext"; else ok; fi
    done
    # the tables really use the key ids of the file
    case "$before" in
        "1=$marker,2=one 1=$marker,2=two 1=$marker,2=three 1=$marker,2=aria ") ok ;;
        *) bad "$mode: rows under file_key_management: $before" ;;
    esac

    # 2. the keys into PyKMIP; a re-run skips them
    "$cli" migrate --from "mariadb-file:$keyfile" $ours --to kmip --config "$tmp/$mode.cnf" \
        > "$tmp/m1" 2>&1 && ok || { bad "$mode: migrate failed"; cat "$tmp/m1"; }
    grep -q "3 migrated, 0 skipped, 0 conflicts, 0 failed" "$tmp/m1" && ok || bad "$mode: $(tail -1 "$tmp/m1")"
    "$cli" migrate --from "mariadb-file:$keyfile" $ours --to kmip --config "$tmp/$mode.cnf" \
        > "$tmp/m2" 2>&1 && grep -q "0 migrated, 3 skipped" "$tmp/m2" && ok || bad "$mode: re-run: $(tail -1 "$tmp/m2")"
    "$cli" list --config "$tmp/$mode.cnf" | sort > "$tmp/keys"
    [ "$(cut -f1 "$tmp/keys" | tr '\n' ' ')" = "mariadb-1-1 mariadb-2-1 mariadb-3-1 " ] && ok ||
        bad "$mode: keys on the KMIP server: $(cat "$tmp/keys")"

    # 3. kmip_key_management only: every row, inserts, rotation to version 2
    key_management=kmip
    if start $mode --kmip-key-management-create-key=OFF $kmip_algo; then ok; else
        bad "$mode: mariadbd with kmip_key_management did not start"; grep -i -E "kmip|error" "$tmp/$mode/err.log" | tail -5; continue
    fi
    [ "$(sql $mode "SELECT COUNT(*) FROM information_schema.PLUGINS WHERE PLUGIN_NAME='file_key_management'")" = 0 ] &&
        ok || bad "$mode: file_key_management is loaded"
    after=$(rows $mode)
    [ "$after" = "$before" ] && ok || bad "$mode: rows under kmip_key_management: '$after', before: '$before'"
    sql $mode "INSERT INTO t.k1 VALUES (3, 'after'); INSERT INTO t.k2 VALUES (3, 'after');
               INSERT INTO t.k3 VALUES (3, 'after'); INSERT INTO t.aria VALUES (3, 'after')" > "$tmp/out"
    [ -s "$tmp/out" ] && bad "$mode: inserts failed: $(cat "$tmp/out")" || ok
    sql $mode "SET GLOBAL kmip_key_management_rotate_key = 1" > "$tmp/out"
    [ -s "$tmp/out" ] && bad "$mode: rotation failed: $(cat "$tmp/out")" || ok
    sql $mode "CREATE TABLE t.k1b (id INT PRIMARY KEY, s VARCHAR(64)) ENCRYPTED=YES;
               INSERT INTO t.k1b VALUES (1, 'version 2')" > /dev/null
    [ "$(sql $mode "SELECT CURRENT_KEY_VERSION FROM information_schema.INNODB_TABLESPACES_ENCRYPTION WHERE NAME='t/k1b'")" = 2 ] &&
        ok || bad "$mode: key 1 not at version 2"
    expected="1=$marker,2=one,3=after 1=$marker,2=two,3=after 1=$marker,2=three,3=after 1=$marker,2=aria,3=after "
    stop $mode
    start $mode --kmip-key-management-create-key=OFF $kmip_algo && ok || bad "$mode: restart after rotation failed"
    [ "$(rows $mode)" = "$expected" ] && ok || bad "$mode: rows after restart: $(rows $mode)"
    [ "$(sql $mode "SELECT s FROM t.k1b")" = "version 2" ] && ok || bad "$mode: the version 2 table unreadable"
    stop $mode
    "$cli" list --config "$tmp/$mode.cnf" | grep -q "^mariadb-1-2" && ok || bad "$mode: no version 2 on the KMIP server"
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
