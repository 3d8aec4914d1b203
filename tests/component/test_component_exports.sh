#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# component_keyring_kmip.so exports list_components and nothing else of
# ours, and every symbol it needs resolves when it is loaded on its own
# (dlopen RTLD_NOW in mysqld or mysql_migrate_keyring: nothing of a server).
# Usage: test_component_exports.sh COMPONENT_SO
set -u
so=$1
fail=0
defined=$(nm -D --defined-only "$so" | awk '{print $3}' | sort)
if [ "$defined" != "list_components" ]; then
    echo "FAIL: $so exports more than list_components:"
    echo "$defined"
    fail=1
fi
undefined=$(ldd -r "$so" 2>&1 | grep -i "undefined symbol\|not found")
if [ -n "$undefined" ]; then
    echo "FAIL: $so has unresolved symbols or libraries:"
    echo "$undefined"
    fail=1
fi
if ! readelf -d "$so" | grep -q "BIND_NOW\|FLAGS.*NOW"; then
    echo "FAIL: $so is not linked with immediate binding"
    fail=1
fi
[ $fail -eq 0 ] && echo "ok: $so exports only list_components; ldd -r: nothing unresolved"
exit $fail
