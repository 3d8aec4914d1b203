#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# mariadbd with the plugin on two KMIP servers of one cluster: two PyKMIP
# servers of our own sharing one SQLite database in the scratch directory
# (the fixture's certificates, their own ports; the fixture's database is
# left alone). The first is stopped while mariadbd runs:
# rotation goes on through the second, the status variables
# (SHOW STATUS LIKE 'kmip_key_management%') show the failover, and a
# restart with the first still stopped loads the keys from the second.
# Usage: test_mariadb_failover.sh PLUGIN_DIR FIXTURE_DIR
set -u
plugin_dir=$(cd "$1" && pwd)
fixture=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$fixture/env"
tmp=$(mktemp -d)
group="mariadb-failover-$$-$(date +%s)"
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
second_pid=
other_pid=
stop_group() { # process group id
    kill -TERM "-$1" 2> /dev/null
    for i in $(seq 1 50); do
        kill -0 "-$1" 2> /dev/null || break
        sleep 0.1
    done
    kill -KILL "-$1" 2> /dev/null
}
stop_second() {
    [ -n "$second_pid" ] && stop_group "$second_pid"
    second_pid=
}
cleanup() {
    if [ "$fail" -gt 0 ] && [ -f "$tmp/a/err.log" ]; then
        echo "== the plugin's lines of the error log"
        grep -i kmip "$tmp/a/err.log" | tail -30
    fi
    [ -f "$tmp/a/mariadbd.pid" ] && kill "$(cat "$tmp/a/mariadbd.pid")" 2> /dev/null
    stop_second
    [ -n "$other_pid" ] && stop_group "$other_pid"
    sleep 1
    rm -rf "$tmp"
}
trap cleanup EXIT
. "$here/mariadbd.sh"

# two PyKMIP servers: the fixture's configuration on other ports and one
# database of their own (PyKMIP servers sharing one SQLite database are a
# cluster: what one registers the other serves)
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
configure() { # name port
    mkdir -p "$tmp/$1/policies"
    sed -e "s/^port=.*/port=$2/" -e "s#^policy_path=.*#policy_path=$tmp/$1/policies#" \
        -e "s#^database_path=.*#database_path=$tmp/cluster.db#" \
        "$fixture/server.conf" > "$tmp/$1/server.conf"
}
start_pykmip() { # name port: sets started_pid
    setsid /usr/bin/python3 -c "from kmip.services.server.server import main; main()" \
        -f "$tmp/$1/server.conf" -l "$tmp/$1/server.log" > "$tmp/$1/out" 2>&1 &
    started_pid=$!
    for i in $(seq 1 100); do
        /usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1', $2), 0.5)" \
            2> /dev/null && return 0
        sleep 0.2
    done
    return 1
}
port2=$(free_port)
port3=$(free_port)
configure second "$port2"
configure other "$port3"
start_pykmip second "$port2" || { bad "the first PyKMIP server did not start"; cat "$tmp/second/out"; exit 1; }
second_pid=$started_pid
start_pykmip other "$port3" || { bad "the second PyKMIP server did not start"; cat "$tmp/other/out"; exit 1; }
other_pid=$started_pid

first=127.0.0.1:$port2
second=127.0.0.1:$port3
servers="--kmip-key-management-server-addr=$first,$second --kmip-key-management-refresh-seconds=2"
status() { sql a "SHOW STATUS LIKE 'kmip_key_management%'"; }
value() { status | awk -v k="kmip_key_management_$1" 'tolower($1) == k { print $2 }'; }
expect() { # variable value
    got=$(value "$1")
    if [ "$got" = "$2" ]; then ok; else bad "$1 is '$got', expected '$2'"; status; fi
}

if start a $servers; then ok; else bad "mariadbd did not start"; cat "$tmp/a/err.log"; exit 1; fi
sql a "CREATE DATABASE t; CREATE TABLE t.r (n INT PRIMARY KEY, s VARCHAR(64)) ENCRYPTED=YES;
       INSERT INTO t.r VALUES (0, 'FAILOVER_ROW');" > /dev/null
expect servers 2
expect servers_up 1      # the second not contacted yet
expect current_server "$first"
expect failovers 0
expect keys 1
expect key_versions 1
days=$(value client_cert_days_left)
if [ "$days" -ge 1 ] 2> /dev/null; then ok; else bad "client_cert_days_left is '$days'"; fi
if sql a "SET GLOBAL kmip_key_management_rotate_key = 1" | grep -q ERROR; then
    bad "rotation with both servers up failed"
else ok; fi
expect key_versions 2

# the first server stops: rotation goes on through the second
stop_second
# (a rotation whose Create was on the kept connection when the server died
# is reported failed with nothing generated, the documented outcome of an
# interrupted write; the operator's retry goes to the second server)
for n in 1 2 3; do
    out=$(sql a "SET GLOBAL kmip_key_management_rotate_key = 1")
    case $out in
        *"nothing was generated"*) out=$(sql a "SET GLOBAL kmip_key_management_rotate_key = 1") ;;
    esac
    case $out in
        *ERROR*) bad "rotation $n with the first server stopped: $out" ;;
        *) ok ;;
    esac
    sql a "INSERT INTO t.r VALUES ($n, 'ROW_$n')" > /dev/null
done
expect key_versions 5
expect current_server "$second"
expect servers_up 1
f=$(value failovers)
if [ "$f" -ge 1 ] 2> /dev/null; then ok; else bad "failovers is '$f' after the first stopped"; fi
sleep 3 # one refresh (every 2 s) through the second
r=$(value last_refresh)
if [ "$r" -gt 0 ] 2> /dev/null; then ok; else bad "last_refresh is '$r'"; fi
if grep -q "KMIP failover: now using $second" "$tmp/a/err.log"; then ok
else bad "no failover line in the error log"; fi
if [ "$(sql a "SELECT CURRENT_KEY_VERSION FROM information_schema.INNODB_TABLESPACES_ENCRYPTION WHERE NAME = 't/r'")" = 5 ]; then
    ok
else
    bad "t/r does not use version 5"
fi

# a restart with the first server still down: the keys load from the second
stop a
if start a $servers; then ok; else bad "mariadbd did not restart with the first server down"; fi
if [ "$(sql a "SELECT COUNT(*) FROM t.r")" = 4 ]; then ok; else bad "rows lost"; fi
expect current_server "$second"
expect key_versions 5
stop a
echo "mariadb_failover: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
