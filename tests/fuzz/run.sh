#!/usr/bin/env bash
# Builds the libFuzzer targets (the DNS parser, the hosts-file reader) with ASan+UBSan and runs
# each for a bounded time (the hosts-file one for a quarter of it).
# usage: tests/fuzz/run.sh [SECONDS]   (needs clang and libclang-rt-14-dev / a clang with libFuzzer)
# The seed corpus is made with dnspython: FUZZ_PYTHON names an interpreter that has it (.ci/test.sh
# passes its test venv's); the default is the python3 on PATH.
set -euo pipefail
seconds=${1:-60}
python=${FUZZ_PYTHON:-python3}
"$python" -c "import dns.message" 2>/dev/null \
    || { echo "fuzz: $python has no dnspython (pip install dnspython, or set FUZZ_PYTHON to a venv's python)" >&2; exit 1; }
root=$(cd "$(dirname "$0")/../.." && pwd)
work=${FUZZ_WORKDIR:-"$root/build/fuzz"}
mkdir -p "$work/corpus"
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I"$root/csrc" "$root/csrc/dns_parse.c" "$root/tests/fuzz/fuzz_dns_parse.c" -o "$work/fuzz_dns_parse"
"$python" "$root/tests/fuzz/make_corpus.py" "$work/seeds"
# -max_total_time bounds the run; any crash, leak or UB report makes libFuzzer exit non-zero.
"$work/fuzz_dns_parse" -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 \
    "$work/corpus" "$work/seeds" 2>&1 | tail -n 25
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I"$root/csrc" "$root/csrc/hostsfile.c" "$root/tests/fuzz/fuzz_hostsfile.c" -o "$work/fuzz_hostsfile"
mkdir -p "$work/hosts-corpus" "$work/hosts-seeds"
printf '127.0.0.1 localhost\n::1 localhost ip6-localhost\n# comment\n192.0.2.77/24 a b c\n' >"$work/hosts-seeds/one"
printf '0192.0.2.1\ta\r\n0x7f000001 a\n::ffff:192.0.2.4/128 a\n2001:db8::77/128 a # x\n1:2:3::4/16 a\n' >"$work/hosts-seeds/two"
"$work/fuzz_hostsfile" -max_total_time=$(( (seconds + 3) / 4 )) -max_len=2048 -print_final_stats=1 \
    "$work/hosts-corpus" "$work/hosts-seeds" 2>&1 | tail -n 25
