#!/usr/bin/env bash
# The main job from a fresh Debian/Ubuntu machine (as root): install libc-ares-dev and NSD,
# build pycares_ng into a venv, start NSD on loopback and resolve names of several types.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash .ci/setup_system.sh
python=${PYTHON:-python3}
venv="$root/build/venv-demo"
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/pip" install -q ".[test]"
cd "$root/build" && exec "$venv/bin/python" "$root/examples/resolve_demo.py"
