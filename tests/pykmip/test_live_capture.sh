#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Starts a PyKMIP server on loopback (certificates made now), captures the
# messages PyKMIP's client exchanges with it for KMIP 1.0 to 2.0, and
# round-trips each through keyring-kmip ttlv decode/encode.
# Usage: test_live_capture.sh KEYRING_KMIP TESTS_DIR
set -eu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
timeout 300 /usr/bin/python3 "$2/pykmip/capture_messages.py" "$tmp/captures" "$tmp/work"
"$2/cli/test_cli.sh" "$1" "$2/data" "$tmp/captures"
