#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages the build, the tests and the demo need (root; idempotent).
set -euo pipefail
# netbase: /etc/services and /etc/protocols, which minimal machines and containers lack and the
# tests read (service names such as "domain" and "http").
pkgs=(libc-ares-dev pkg-config nsd build-essential netbase)
# --full (the test suite): the fuzzer's clang, c-ares 1.34's build tools, and iproute2 for the
# tests that run in private network namespaces (they bring up loopback with `ip`).
[ "${1:-}" = "--full" ] && pkgs+=(clang libclang-rt-14-dev cmake patch iproute2)
missing=()
for p in "${pkgs[@]}"; do
    [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
fi
