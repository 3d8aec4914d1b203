#!/usr/bin/env bash
# Installs every Debian 12 package the build and the tests use.
set -euo pipefail
packages=(
  build-essential cmake pkg-config python3 ca-certificates openssl
  libssl-dev libjansson-dev libxml2-dev libcmocka-dev
  clang llvm libclang-rt-14-dev valgrind
  python3-pykmip
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
fi
