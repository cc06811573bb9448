#!/usr/bin/env bash
# The whole test suite, from a fresh Debian/Ubuntu machine (as root):
#   1. system packages (libc-ares-dev 1.18, NSD, clang for the fuzzer, cmake for c-ares 1.34);
#   2. c-ares 1.34 from Debian 13 sources into a local prefix (the system library is untouched);
#   3. for each c-ares era: a venv, pycares_ng built with warnings as errors, the pytest suite;
#   4. the suite (c-ares 1.18) on the oldest and newest CPython the machine has besides (3.9 and
#      3.13: on PATH or under pyenv; one that is absent is skipped, and the run says so);
#   5. the DNS parser and the hosts-file reader under libFuzzer (ASan+UBSan) for a bounded time;
#   6. the suite once more on an ASan+UBSan build.
# To fit the time budget on a 2-core machine the work overlaps: the two era builds run at once;
# the era suites (the longest, with the oracle tables) run side by side while the 3.9, 3.13 and
# ASan builds and the fuzzer run in the background; then the 3.9, 3.13 and ASan suites run
# side by side. Each step is printed with the seconds since the start ("[+123s]"); full logs
# are in build/ (pip-*.log, pytest-*.log, fuzz.log).
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

echo "[+${SECONDS}s] == system packages, c-ares 1.34 in $cares134"
bash .ci/setup_system.sh --full || exit 1
bash .ci/cares_trixie.sh "$cares134" >"$build/cares-1.34.log" 2>&1 || { tail -n 30 "$build/cares-1.34.log"; exit 1; }

# Every stage line carries the seconds since the start, so the log shows where the time goes.
stamp() { echo "[+${SECONDS}s] $*"; }

# Each suite's settings, kept per label (bash has no arrays of arrays): save_cfg LABEL stores the
# current BUILD_ENV / RUN_ENV / PYTEST_EXTRA under LABEL, load_cfg LABEL brings them back.
BUILD_ENV=() RUN_ENV=() PYTEST_EXTRA=()
cfg_key() { local k=${1//[^A-Za-z0-9]/_}; echo "$k"; }
save_cfg() {
    local k; k=$(cfg_key "$1")
    eval "CFG_BUILD_$k=(\"\${BUILD_ENV[@]}\") CFG_RUN_$k=(\"\${RUN_ENV[@]}\") CFG_EXTRA_$k=(\"\${PYTEST_EXTRA[@]}\")"
}
load_cfg() {
    local k; k=$(cfg_key "$1")
    eval "BUILD_ENV=(\"\${CFG_BUILD_$k[@]}\") RUN_ENV=(\"\${CFG_RUN_$k[@]}\") PYTEST_EXTRA=(\"\${CFG_EXTRA_$k[@]}\")"
}

# The test extra's requirements (pyproject.toml; tomllib needs Python >= 3.11, without it the
# cached first step of suite_build is skipped and the second installs everything).
test_reqs=()
mapfile -t test_reqs < <("$python" -c 'import tomllib
for r in tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["test"]: print(r)' 2>/dev/null)

# suite_build LABEL [PYTHON]: a fresh venv with pycares_ng built (BUILD_ENV) from a private copy of
# the source tree, so builds can run at once and beside running suites (setup.py builds in the
# tree's build/ directory). Two steps: first the test extra's requirements, through pip's cache
# and --prefer-binary: where the newest release has no wheel for this Python (gevent on 3.9) the
# newest that has one is taken rather than compiled (many minutes on a fresh machine); then pycares_ng itself with --no-cache-dir, on purpose: pip keeps wheels it
# builds from a directory whose name looks like NAME-VERSION (e.g. a checkout in "ci-trim" or
# build/src-cares-1.18) and reuses them by path alone, which would hand the c-ares 1.34 venv the
# 1.18 build, or any run the last run's. --no-compile: the suites byte-compile what they import
# (a fraction of the test extra) instead of pip compiling everything up front.
suite_build() {
    local label=$1 py=${2:-$python}
    local venv="$build/venv-$label" src="$build/src-$label"
    load_cfg "$label"
    stamp "== $label: build ($("$py" -c 'import sys; print("Python", sys.version.split()[0])'))"
    rm -rf "$venv" "$src" && mkdir -p "$src" || return 1
    tar -C "$root" --exclude=./build --exclude=./.git --exclude='./*.egg-info' -cf - . | tar -C "$src" -xf - || return 1
    "$py" -m venv "$venv" || return 1
    : >"$build/pip-$label.log"
    if [ ${#test_reqs[@]} -gt 0 ]; then
        "$venv/bin/pip" install -q --no-compile --prefer-binary "${test_reqs[@]}" >>"$build/pip-$label.log" 2>&1 \
            || { tail -n 40 "$build/pip-$label.log"; return 1; }
    fi
    (cd "$src" && env PYCARES_NG_WERROR=1 "${BUILD_ENV[@]}" "$venv/bin/pip" install -q --no-cache-dir --no-compile ".[test]") >>"$build/pip-$label.log" 2>&1 \
        || { tail -n 40 "$build/pip-$label.log"; return 1; }
    # pycares 5.2.1 (the pycares_ng.v5 oracle) and aiodns 4.0.4 share distribution names with the test
    # extra's pycares 4.11 / aiodns 3.6.1: beside the venv, put on PYTHONPATH by the tests that
    # compare with them. pycares 5.2.1 needs Python >= 3.11 (those tests say so on older ones).
    if "$venv/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        "$venv/bin/pip" install -q --no-cache-dir --target "$venv/oracle-pycares5" pycares==5.2.1 aiodns==4.0.4 \
            >>"$build/pip-$label.log" 2>&1 || { tail -n 40 "$build/pip-$label.log"; return 1; }
    fi
    (cd "$build" && env "${RUN_ENV[@]}" "$venv/bin/python" -c "import pycares_ng as p, pycares_ng._core as c; print('   c-ares', p.ARES_VERSION, '(built against', c.ARES_BUILD_VERSION + ')')") || return 1
    stamp "   $label: built"
}
suite_test() {  # the exit status of pytest
    local label=$1
    load_cfg "$label"
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

# build_all LIST LABEL:PYTHON...: suite_build for each, at once (each in its own venv and source
# copy), their output printed in order; the labels that built are written to the file LIST.
build_all() {
    local list=$1 pids=() spec label py rc
    shift
    : >"$list"
    for spec in "$@"; do
        label=${spec%%:*} py=${spec#*:}
        suite_build "$label" "$py" >"$build/build-$label.out" 2>&1 & pids+=($!)
    done
    for spec in "$@"; do
        label=${spec%%:*}
        wait "${pids[0]}"; rc=$?; pids=("${pids[@]:1}")
        cat "$build/build-$label.out"
        [ "$rc" -eq 0 ] && echo "$label" >>"$list" || stamp "   $label: build FAILED"
    done
}

# side_by_side LABEL...: the test phases of suites already built, run at once (the suite mostly
# waits on timers and sockets, so several share the machine's cores well), reported in order.
side_by_side() {
    local pids=() i=0 label rc
    stamp "== $*: tests, side by side"
    for label in "$@"; do
        suite_test "$label" & pids+=($!)
    done
    for label in "$@"; do
        wait "${pids[$i]}"; rc=$?
        stamp "   $label: done"
        suite_report "$label" $rc || status=1
        i=$((i + 1))
    done
}

# Settings of every suite.
BUILD_ENV=() RUN_ENV=(PYCARES_NG_EXPECT_CARES=1.18) PYTEST_EXTRA=()
save_cfg cares-1.18
BUILD_ENV=(PYCARES_NG_CARES_PREFIX="$cares134") RUN_ENV=(PYCARES_NG_EXPECT_CARES=1.34)
save_cfg cares-1.34
# The oracle tables (pycares 4.11 / aiodns 3.6.1, pycares 5.2.1 / aiodns 4.0.4) run in both era
# suites; the other Python versions run the rest, to stay within the time budget.
BUILD_ENV=() RUN_ENV=(PYCARES_NG_EXPECT_CARES=1.18) PYTEST_EXTRA=(--ignore="$root/tests/oracle")
for v in $extra_pythons; do save_cfg "py$v-cares-1.18"; done
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
save_cfg asan

# find_python X.Y: that interpreter from PATH or pyenv, if the machine has it.
find_python() {
    local v=$1 p
    for p in "$(command -v "python$v" 2>/dev/null)" "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$v".*/bin/"python$v"; do
        [ -n "$p" ] && [ -x "$p" ] && "$p" -c 'import venv, ensurepip' 2>/dev/null && { echo "$p"; return 0; }
    done
    return 1
}

run_fuzz() {
    stamp "== fuzz: DNS parser and hosts-file reader, ${fuzz_seconds}s"
    if FUZZ_WORKDIR="$build/fuzz" FUZZ_PYTHON="$build/venv-cares-1.18/bin/python" bash tests/fuzz/run.sh "$fuzz_seconds" >"$build/fuzz.log" 2>&1; then
        grep -E "^Done|number_of_executed_units" "$build/fuzz.log" | sed 's/^/   /'
        stamp "   fuzz: done"
    else
        tail -n 40 "$build/fuzz.log"; return 1
    fi
}

# Stage 1: the two c-ares eras, built at once.
era_labels=()
build_all "$build/era-built" cares-1.18:"$python" cares-1.34:"$python"
mapfile -t era_labels <"$build/era-built"
[ ${#era_labels[@]} -eq 2 ] || status=1

# Stage 2: the era suites side by side (the longest: they alone run the oracle tables) while, in
# the background, the other suites are built and the fuzzer runs, all at once (it needs the
# cares-1.18 venv's dnspython for its seeds). That output is printed after the era reports.
later_specs=()
for v in $extra_pythons; do
    if py=$(find_python "$v"); then
        later_specs+=("py$v-cares-1.18:$py")
    else
        stamp "== py$v-cares-1.18: skipped, no Python $v with venv on this machine"
    fi
done
later_specs+=("asan:$python")
# Each a background job of its own. Not niced: on a shared machine a niced job loses to every
# other user's processes, not only to the suites (measured: the fuzzer ran ~5x fewer inputs).
rm -f "$build"/later-*.out "$build"/later-*.ok
bg_pids=()
for spec in "${later_specs[@]}"; do
    label=${spec%%:*} py=${spec#*:}
    ( suite_build "$label" "$py" && touch "$build/later-$label.ok" ) \
        >"$build/later-$label.out" 2>&1 & bg_pids+=($!)
done
if [ -x "$build/venv-cares-1.18/bin/python" ]; then
    run_fuzz >"$build/later-fuzz.out" 2>&1 & bg_pids+=($!)
else
    stamp "== fuzz: not run, the cares-1.18 venv did not build"; status=1
fi
[ ${#era_labels[@]} -gt 0 ] && side_by_side "${era_labels[@]}"
for pid in "${bg_pids[@]}"; do wait "$pid" || status=1; done
later_labels=()
for spec in "${later_specs[@]}"; do
    label=${spec%%:*}
    cat "$build/later-$label.out"
    if [ -f "$build/later-$label.ok" ]; then later_labels+=("$label"); else stamp "   $label: build FAILED"; fi
done
[ -f "$build/later-fuzz.out" ] && cat "$build/later-fuzz.out"

# Stage 3: the other Python versions and the ASan+UBSan build, side by side.
[ ${#later_labels[@]} -gt 0 ] && side_by_side "${later_labels[@]}"

stamp "== end"
echo "total: $passed passed, $failed failed"
exit $status
