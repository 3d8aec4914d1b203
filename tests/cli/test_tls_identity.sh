#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The server's identity refused, through `keyring-kmip probe` and through the
# keyring open of `check` (--config): chains through an intermediate CA with
# an expired root, an expired intermediate, an intermediate not valid yet, an
# intermediate the server does not send, and a certificate with CN=localhost
# and no subjectAltName, and an iPAddress SAN of 3 bytes. Each is a clear message naming the certificate, and
# the exit status of a refused server identity; never a crash.
# Usage: test_tls_identity.sh KEYRING_KMIP FIXTURE_DIR
set -u
cli=$1
. "$2/env"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
identity=7 # the server's identity refused: the same status for probe and check
identity_kr=7
run() { # expected-status pattern args...
    want=$1 pattern=$2
    shift 2
    "$cli" "$@" > "$tmp/out" 2>&1
    status=$?
    if [ $status -eq "$want" ] && grep -q -- "$pattern" "$tmp/out"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL: keyring-kmip $* gave status $status (expected $want, /$pattern/):"
        cat "$tmp/out"
    fi
}
config() { # port ca
    printf '{"server_addr": "127.0.0.1", "server_port": %s, "client_ca": "%s", "client_key": "%s", "server_ca": "%s", "kmip_timeout_ms": 3000}\n' \
        "$1" "$CLIENT_CERT" "$CLIENT_KEY" "$2" > "$tmp/k.cnf"
}
auth="--cert $CLIENT_CERT --key $CLIENT_KEY"
both() { # port ca pattern
    run $identity "$3" probe --server "127.0.0.1:$1" --ca "$2" $auth
    config "$1" "$2"
    run $identity_kr "$3" check --config "$tmp/k.cnf"
}
# the good chain is accepted as far as TLS goes (the decoy speaks no KMIP)
"$cli" probe --server "127.0.0.1:$CHAIN_PORT" --ca "$CHAIN_CA" $auth --timeout 2000 \
    > "$tmp/out" 2>&1
if grep -q "certificate\|TLS handshake" "$tmp/out"; then
    fail=$((fail + 1)); echo "FAIL: the good chain:"; cat "$tmp/out"
else
    pass=$((pass + 1))
fi
both "$CHAIN_OLD_ROOT_PORT" "$EXPIRED_CA" \
    "CA certificate /CN=keyring_kmip expired root (chain depth 2) expired (not valid after"
both "$CHAIN_EXPIRED_INT_PORT" "$CHAIN_CA" \
    "CA certificate /CN=chain-expired-int intermediate (chain depth 1) expired (not valid after"
both "$CHAIN_FUTURE_INT_PORT" "$CHAIN_CA" \
    "CA certificate /CN=chain-future-int intermediate (chain depth 1) is not valid yet (not before"
both "$CHAIN_MISSING_INT_PORT" "$CHAIN_CA" \
    "not signed by the configured CA (unable to get local issuer certificate at the server certificate)"
both "$EXPIRED_PORT" "$CA" "server certificate expired (not valid after"
# an iPAddress SAN of 3 bytes is named as malformed, never read as 4
both "$BAD_IP_SAN_PORT" "$CA" "its names are kms.example.com, (a malformed 3-byte IP)"
# an address written as a DNS name is not an iPAddress entry, and the message says so
both "$DNS_IP_SAN_PORT" "$CA" \
    "its names are 127.0.0.1 (a DNS name: an IP address matches only an iPAddress entry)"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
