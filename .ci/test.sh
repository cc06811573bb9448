#!/usr/bin/env bash
# The whole test suite, from a fresh Debian/Ubuntu machine (as root):
#   1. system packages (libc-ares-dev 1.18, NSD, clang for the fuzzer, cmake for c-ares 1.34);
#   2. c-ares 1.34 from Debian 13 sources into a local prefix (the system library is untouched);
#   3. for each c-ares era: a venv, pycares_ng built with warnings as errors, the pytest suite;
#   4. the suite (c-ares 1.18) on the oldest and newest CPython the machine has besides (3.9 and
#      3.13: on PATH or under pyenv; one that is absent is skipped, and the run says so);
#   5. the DNS parser and the hosts-file reader under libFuzzer (ASan+UBSan) for a bounded time;
#   6. the suite once more on an ASan+UBSan build.
# Prints pytest's summary line for every run and a total line; exits non-zero on any failure,
# including a pytest run that collected no tests.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
python=${PYTHON:-python3}
extra_pythons=${PYCARES_NG_EXTRA_PYTHONS:-3.9 3.13}
build="$root/build"
cares134=${PYCARES_NG_CARES134_PREFIX:-/opt/pycares-ng/cares-1.34}
fuzz_seconds=${PYCARES_NG_FUZZ_SECONDS:-60}
mkdir -p "$build"
status=0 passed=0 failed=0

bash .ci/setup_system.sh --full || exit 1
bash .ci/cares_trixie.sh "$cares134" >"$build/cares-1.34.log" 2>&1 || { tail -n 30 "$build/cares-1.34.log"; exit 1; }

# run_suite LABEL [PYTHON]: build into a fresh venv with BUILD_ENV, then run pytest with RUN_ENV.
# (suite_build, suite_test and suite_report are its three steps, for suites run side by side.)
BUILD_ENV=() RUN_ENV=() PYTEST_EXTRA=()
suite_build() {
    local label=$1 py=${2:-$python}
    local venv="$build/venv-$label"
    echo "== $label: build ($("$py" -c 'import sys; print("Python", sys.version.split()[0])'))"
    rm -rf "$venv" && "$py" -m venv "$venv" || return 1
    env PYCARES_NG_WERROR=1 "${BUILD_ENV[@]}" "$venv/bin/pip" install -q --no-cache-dir ".[test]" >"$build/pip-$label.log" 2>&1 \
        || { tail -n 40 "$build/pip-$label.log"; return 1; }
    # pycares 5.2.1 (the pycares_ng.v5 oracle) and aiodns 4.0.4 share distribution names with the test
    # extra's pycares 4.11 / aiodns 3.6.1: beside the venv, put on PYTHONPATH by the tests that
    # compare with them. pycares 5.2.1 needs Python >= 3.11 (those tests say so on older ones).
    if "$venv/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        "$venv/bin/pip" install -q --no-cache-dir --target "$venv/oracle-pycares5" pycares==5.2.1 aiodns==4.0.4 \
            >>"$build/pip-$label.log" 2>&1 || { tail -n 40 "$build/pip-$label.log"; return 1; }
    fi
    (cd "$build" && env "${RUN_ENV[@]}" "$venv/bin/python" -c "import pycares_ng as p, pycares_ng._core as c; print('   c-ares', p.ARES_VERSION, '(built against', c.ARES_BUILD_VERSION + ')')") || return 1
}
suite_test() {  # the exit status of pytest
    local label=$1
    # Run from build/ so the source tree's pycares_ng/ (no compiled core) is not imported.
    (cd "$build" && env "${RUN_ENV[@]}" "$build/venv-$label/bin/python" -m pytest -p no:cacheprovider -q "$root/tests" "${PYTEST_EXTRA[@]}") >"$build/pytest-$label.log" 2>&1
}
suite_report() {
    local label=$1 rc=$2 log="$build/pytest-$1.log" summary p f
    summary=$(grep -E "^(=+ )?[0-9]+ (passed|failed|error)|no tests ran" "$log" | tail -n 1)
    echo "   $label: ${summary:-no pytest summary}"
    [ "$rc" -ne 0 ] && tail -n 60 "$log"
    p=$(grep -oE '[0-9]+ passed' <<<"$summary" | grep -oE '[0-9]+'); f=$(grep -oE '[0-9]+ failed' <<<"$summary" | grep -oE '[0-9]+')
    passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
    [ "$rc" -eq 0 ] && [ "${p:-0}" -gt 0 ]
}
run_suite() {
    local label=$1 rc
    suite_build "$@" || return 1
    echo "== $label: tests"
    suite_test "$label"; rc=$?
    suite_report "$label" $rc
}

# side_by_side LABEL...: the test phases of suites already built, run at once (the suite mostly
# waits on timers and sockets, so two share the machine's cores well), reported in order.
# RUN_ENV_<n> holds each suite's environment (bash has no arrays of arrays).
side_by_side() {
    local pids=() i=0 label rc
    echo "== $*: tests, side by side"
    for label in "$@"; do
        eval "RUN_ENV=(\"\${RUN_ENV_$i[@]}\")"
        suite_test "$label" & pids+=($!)
        i=$((i + 1))
    done
    i=0
    for label in "$@"; do
        wait "${pids[$i]}"; rc=$?
        suite_report "$label" $rc || status=1
        i=$((i + 1))
    done
}

BUILD_ENV=() RUN_ENV=(PYCARES_NG_EXPECT_CARES=1.18) RUN_ENV_0=(PYCARES_NG_EXPECT_CARES=1.18)
era_labels=()
suite_build cares-1.18 && era_labels+=(cares-1.18) || status=1
BUILD_ENV=(PYCARES_NG_CARES_PREFIX="$cares134") RUN_ENV=(PYCARES_NG_EXPECT_CARES=1.34)
RUN_ENV_1=(PYCARES_NG_EXPECT_CARES=1.34)
if suite_build cares-1.34; then
    [ ${#era_labels[@]} -eq 0 ] && RUN_ENV_0=("${RUN_ENV_1[@]}")
    era_labels+=(cares-1.34)
else
    status=1
fi
[ ${#era_labels[@]} -gt 0 ] && side_by_side "${era_labels[@]}"

# find_python X.Y: that interpreter from PATH or pyenv, if the machine has it.
find_python() {
    local v=$1 p
    for p in "$(command -v "python$v" 2>/dev/null)" "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$v".*/bin/"python$v"; do
        [ -n "$p" ] && [ -x "$p" ] && "$p" -c 'import venv, ensurepip' 2>/dev/null && { echo "$p"; return 0; }
    done
    return 1
}
BUILD_ENV=() RUN_ENV=(PYCARES_NG_EXPECT_CARES=1.18)
# The oracle tables (pycares 4.11 / aiodns 3.6.1, pycares 5.2.1 / aiodns 4.0.4) ran in both era suites above;
# the other Python versions run the rest, to stay within the time budget.
PYTEST_EXTRA=(--ignore="$root/tests/oracle")
# Both are built first, then tested side by side: the suite mostly waits on timers and sockets.
extra_labels=()
for v in $extra_pythons; do
    if py=$(find_python "$v"); then
        suite_build "py$v-cares-1.18" "$py" && extra_labels+=("py$v-cares-1.18") || status=1
    else
        echo "== py$v-cares-1.18: skipped, no Python $v with venv on this machine"
    fi
done
RUN_ENV_0=("${RUN_ENV[@]}") RUN_ENV_1=("${RUN_ENV[@]}")
[ ${#extra_labels[@]} -gt 0 ] && side_by_side "${extra_labels[@]}"

echo "== fuzz: DNS parser and hosts-file reader, ${fuzz_seconds}s"
if FUZZ_WORKDIR="$build/fuzz" FUZZ_PYTHON="$build/venv-cares-1.18/bin/python" bash tests/fuzz/run.sh "$fuzz_seconds" >"$build/fuzz.log" 2>&1; then
    grep -E "^Done|number_of_executed_units" "$build/fuzz.log" | sed 's/^/   /'
else
    tail -n 40 "$build/fuzz.log"; status=1
fi

asan_lib=$(gcc -print-file-name=libasan.so)
# Two things this sanitizer runtime (GCC 12's libasan) cannot do, so the step leaves them to the
# runs above: follow gevent's greenlets, which switch C stacks (it aborts inside the hub), and
# fork a multi-threaded process safely (it has no fork handlers for its allocator, so a child can
# inherit its lock held). The gevent backend is pure Python over the core checked here, and the
# fork code paths run in both plain runs.
BUILD_ENV=(PYCARES_NG_SANITIZE=1)
RUN_ENV=(PYCARES_NG_EXPECT_CARES=1.18 LD_PRELOAD="$asan_lib" ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:halt_on_error=1
         UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1)
PYTEST_EXTRA=(--ignore="$root/tests/test_backend_gevent.py" --ignore="$root/tests/oracle" -k "not fork and not gevent")
run_suite asan || status=1

echo "total: $passed passed, $failed failed"
exit $status
