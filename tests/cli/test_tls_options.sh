#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The keyring's TLS options and diagnostics end to end, through
# `keyring-kmip check|status --config` against the fixture's PyKMIP server and
# decoys: warnings of the configuration reader survive the open, turning
# verification off warns at every open and shows in status, an encrypted
# PKCS#8 client key with client_key_password_file (and a clear error without
# it), a client key readable by its group warned about, the default cipher
# policy refusing a static-RSA-only server and tls_cipher_list allowing it
# with a forward-secrecy warning, and a CN-only certificate refused by name.
# Usage: test_tls_options.sh KEYRING_KMIP FIXTURE_DIR
set -u
cli=$1
. "$2/env"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
run() { # expected-status pattern args... (pattern "!x": x must not appear)
    want=$1 pattern=$2
    shift 2
    "$cli" "$@" > "$tmp/out" 2>&1
    status=$?
    case $pattern in
    !*) grep -q -- "${pattern#!}" "$tmp/out" && found=1 || found=0; [ $found = 0 ] && ok=1 || ok=0 ;;
    *) grep -q -- "$pattern" "$tmp/out" && ok=1 || ok=0 ;;
    esac
    if [ $status -eq "$want" ] && [ $ok = 1 ]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL: keyring-kmip $* gave status $status (expected $want, /$pattern/):"
        cat "$tmp/out"
    fi
}
config() { # port extra-json [key]
    printf '{"server_addr": "127.0.0.1", "server_port": %s, "client_ca": "%s", "client_key": "%s", "server_ca": "%s", "object_group": "tls-options-%s", "kmip_timeout_ms": 5000%s}\n' \
        "$1" "$CLIENT_CERT" "${3:-$CLIENT_KEY}" "$CA" "$$" "$2" > "$tmp/k.cnf"
    chmod 600 "$tmp/k.cnf"
}
# verification off: the reader's warning and the connection's, at every open; status says so
config "$PORT" ', "tls_peer_verification": false'
run 0 '"tls_peer_verification" is false' check --config "$tmp/k.cnf"
run 0 "warning: TLS server certificate verification is turned off" check --config "$tmp/k.cnf"
run 0 "TLS_verification *OFF: the server's certificate is not verified" status --config "$tmp/k.cnf"
config "$PORT" ""
run 0 "TLS_verification *certificate and host name verified" status --config "$tmp/k.cnf"
run 0 "Key_memory *keyring arena (not OpenSSL's secure heap): .*excluded from core dumps" \
    status --config "$tmp/k.cnf"
run 0 "!warning" check --config "$tmp/k.cnf"
# a world-writable configuration: its warning survives the open
chmod 666 "$tmp/k.cnf"
run 0 "is writable by other users" check --config "$tmp/k.cnf"
# an encrypted client key: with its pass phrase file, and without
config "$PORT" ", \"client_key_password_file\": \"$CLIENT_KEY_PASSWORD_FILE\"" "$ENCRYPTED_CLIENT_KEY"
run 0 "Key_count      0" check --config "$tmp/k.cnf"
config "$PORT" "" "$ENCRYPTED_CLIENT_KEY"
run 4 "is encrypted: name a file holding its pass phrase in \"client_key_password_file\"" \
    check --config "$tmp/k.cnf" < /dev/null
# a client key readable by its group: used, with a warning
cp "$CLIENT_KEY" "$tmp/group.key"
chmod 640 "$tmp/group.key"
config "$PORT" "" "$tmp/group.key"
run 0 "client key $tmp/group.key is readable by its group" check --config "$tmp/k.cnf"
# a server that offers only static-RSA key exchange: refused by default ...
config "$STATIC_RSA_PORT" ""
run 3 "TLS handshake\|refused the TLS handshake" check --config "$tmp/k.cnf"
# ... and reached with tls_cipher_list, warned about (the decoy speaks no KMIP)
config "$STATIC_RSA_PORT" ', "tls_cipher_list": "AES256-GCM-SHA384"'
run 3 "without forward secrecy (AES256-GCM-SHA384)" check --config "$tmp/k.cnf"
# CN=localhost and no subjectAltName: not a name (RFC 9525)
run 7 "does not match host localhost: its names are (none; no subjectAltName" \
    probe --server "localhost:$CN_ONLY_PORT" --ca "$CA" --cert "$CLIENT_CERT" --key "$CLIENT_KEY"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
