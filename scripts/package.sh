#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Builds the Debian packages (debian/, dpkg-buildpackage with debhelper)
# from the tracked files, in a scratch copy under build/packaging, and puts
# the .deb files into build/:
#   libkmip-proto0, libkmip-client0, libkeyring-kmip0   runtime libraries
#   libkeyring-kmip-dev                                 headers, .so links, .pc files
#   keyring-kmip                                        the CLI and keyring-kmip(1)
#   mysql-component-keyring-kmip                        /usr/lib/mysql/plugin/component_keyring_kmip.so
#   mariadb-plugin-kmip-key-management                  kmip_key_management.so in mariadbd's plugin dir
# Usage: scripts/package.sh   (then: lintian build/*.deb; dpkg -i build/*.deb)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bash "$top/scripts/deps.sh"
version=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
work=$top/build/packaging
rm -rf "$work"
mkdir -p "$work/keyring-kmip-$version"
if git -C "$top" rev-parse --is-inside-work-tree > /dev/null 2>&1; then
  git -C "$top" ls-files -z --cached --others --exclude-standard | tar -C "$top" --null --ignore-failed-read -T - -cf - 2> /dev/null |
    tar -C "$work/keyring-kmip-$version" -xf -
else
  tar -C "$top" --exclude='./build*' -cf - . | tar -C "$work/keyring-kmip-$version" -xf -
fi
(cd "$work/keyring-kmip-$version" &&
  DEB_BUILD_OPTIONS="parallel=$(nproc)${DEB_BUILD_OPTIONS:+ $DEB_BUILD_OPTIONS}" \
    dpkg-buildpackage -b -us -uc > "$work/build.log" 2>&1) ||
  { tail -50 "$work/build.log"; echo "package build failed: $work/build.log" >&2; exit 1; }
rm -f "$top"/build/*.deb
mv "$work"/*.deb "$top/build/"
ls -1 "$top"/build/*.deb
