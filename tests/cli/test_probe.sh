#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# keyring-kmip probe against the fixture's PyKMIP server and TLS decoys:
# the report on success, and a clear message and exit status per refusal.
# Usage: test_probe.sh KEYRING_KMIP FIXTURE_DIR
set -u
cli=$1
. "$2/env"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
check() { # expected-status pattern args...
    want=$1 pattern=$2
    shift 2
    "$cli" probe "$@" > "$tmp/out" 2>&1
    status=$?
    if [ $status -eq "$want" ] && grep -q -- "$pattern" "$tmp/out"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL: probe $* gave status $status:"
        cat "$tmp/out"
    fi
}
auth="--ca $CA --cert $CLIENT_CERT --key $CLIENT_KEY"
check 0 "TLS: *TLSv1.2" --server "127.0.0.1:$PORT" $auth
check 0 "KMIP version: *2.0; the server supports 2.0 1.4 1.3 1.2 1.1 1.0" --server "127.0.0.1:$PORT" $auth
check 0 "vendor: *PyKMIP" --server "localhost:$PORT" $auth
check 0 "operations: .*Register.*Locate" --server "127.0.0.1:$PORT" $auth
check 0 "KMIP version: *1.2" --server "127.0.0.1:$PORT" $auth --kmip-version 1.2
check 0 "server certificate: /CN=localhost, valid until" --server "127.0.0.1:$PORT" \
    --ca "$CA" --cert "$EC_CLIENT_CERT" --key "$EC_CLIENT_KEY"
check 7 "not signed by the configured CA" --server "127.0.0.1:$OTHER_CA_PORT" $auth
check 7 "does not match host 127.0.0.1: its names are kms.example.com" \
    --server "127.0.0.1:$WRONG_NAME_PORT" $auth
check 7 "expired" --server "127.0.0.1:$EXPIRED_PORT" $auth
check 7 "does not offer TLS 1.2 or newer" --server "127.0.0.1:$TLS11_PORT" $auth
check 3 "refused the TLS handshake" --server "127.0.0.1:$PORT" --ca "$CA"
check 3 "cannot connect to KMIP server 127.0.0.1:1" --server 127.0.0.1:1 $auth
check 1 "cannot load the client certificate" --server "127.0.0.1:$PORT" --ca "$CA" \
    --cert /nonexistent --key "$CLIENT_KEY"
check 2 "is not HOST\[:PORT\]" --server "127.0.0.1:99999" $auth
check 2 "unknown or incomplete option" --server
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
