#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages the build, the tests and the demo need (root; idempotent).
set -euo pipefail
pkgs=(libc-ares-dev pkg-config nsd build-essential)
[ "${1:-}" = "--full" ] && pkgs+=(clang libclang-rt-14-dev cmake patch)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
fi
