# SPDX-License-Identifier: GPL-2.0-only
# Test tooling, sourced by the MariaDB tests: a scratch mariadbd with the
# plugin against the fixture's KMIP server. The caller sets tmp (scratch
# directory), plugin_dir, group, and the fixture's PORT, CA, CLIENT_CERT,
# CLIENT_KEY; options given to start come last and win. With
# key_management=file the kmip_key_management options are left out (the
# caller gives file_key_management's).
# start NAME [extra mariadbd options]: returns non-zero if it did not come up
start() {
    name=$1
    shift
    if [ "${key_management:-kmip}" = kmip ]; then
        set -- --plugin-maturity=experimental --plugin-dir="$plugin_dir" \
            --plugin-load-add=kmip_key_management --kmip-key-management=FORCE \
            --kmip-key-management-server-addr=127.0.0.1 --kmip-key-management-server-port="$PORT" \
            --kmip-key-management-client-cert="$CLIENT_CERT" \
            --kmip-key-management-client-key="$CLIENT_KEY" \
            --kmip-key-management-server-ca="$CA" --kmip-key-management-object-group="$group" \
            --kmip-key-management-timeout-ms=3000 "$@"
    fi
    d=$tmp/$name
    if [ ! -d "$d/data" ]; then
        mkdir -p "$d/tmp"
        # a private tmpdir: the bootstrap's temporary tables in a shared /tmp
        # were seen to vanish under another process's feet
        mariadb-install-db --no-defaults --datadir="$d/data" --user=root --skip-test-db \
            --tmpdir="$d/tmp" \
            > "$d/install.log" 2>&1 || { cat "$d/install.log"; return 1; }
    fi
    mariadbd --no-defaults --datadir="$d/data" --socket="$d/sock" --skip-networking \
        --tmpdir="$d/tmp" \
        --user=root --pid-file="$d/pid" --log-error="$d/err.log" \
        --innodb-encrypt-tables=ON --innodb-encrypt-log=ON --innodb-encryption-threads=2 \
        --log-bin="$d/data/binlog" --encrypt-binlog=ON --encrypt-tmp-files=ON \
        "$@" > /dev/null 2>&1 &
    echo $! > "$d/mariadbd.pid"
    for i in $(seq 1 120); do
        [ -S "$d/sock" ] && mariadb -S "$d/sock" -e "SELECT 1" > /dev/null 2>&1 && return 0
        kill -0 "$(cat "$d/mariadbd.pid")" 2> /dev/null || return 1
        sleep 0.5
    done
    return 1
}
stop() {
    mariadb-admin -S "$tmp/$1/sock" shutdown 2> /dev/null
    for i in $(seq 1 60); do
        kill -0 "$(cat "$tmp/$1/mariadbd.pid")" 2> /dev/null || return 0
        sleep 0.5
    done
    echo "mariadbd $1 did not stop"
}
sql() { mariadb -S "$tmp/$1/sock" -N -B -e "$2" 2>&1; }
