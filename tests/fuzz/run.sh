#!/usr/bin/env bash
# Builds the libFuzzer target for the DNS parser with ASan+UBSan and runs it for a bounded time.
# usage: tests/fuzz/run.sh [SECONDS]   (needs clang and libclang-rt-14-dev / a clang with libFuzzer)
set -euo pipefail
seconds=${1:-60}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=${FUZZ_WORKDIR:-"$root/build/fuzz"}
mkdir -p "$work/corpus"
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I"$root/csrc" "$root/csrc/dns_parse.c" "$root/tests/fuzz/fuzz_dns_parse.c" -o "$work/fuzz_dns_parse"
python3 "$root/tests/fuzz/make_corpus.py" "$work/seeds"
# -max_total_time bounds the run; any crash, leak or UB report makes libFuzzer exit non-zero.
"$work/fuzz_dns_parse" -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 \
    "$work/corpus" "$work/seeds" 2>&1 | tail -n 25
