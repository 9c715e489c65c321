#!/usr/bin/env bash
# run-tests.sh: the whole test suite, as the README's second command and CI run it.
#
# Installs what is missing (tools/install-deps.sh), then configures, builds
# and runs every test in two trees:
#   build/plain  gcc, -Werror, unit + integration tests (the demo included)
#   build/asan   clang, AddressSanitizer + UndefinedBehaviorSanitizer with
#                libFuzzer instrumentation: the unit tests, the integration
#                tests (slow replay checks on a representative subset, no
#                demo) and every fuzz target replaying its seeds and its
#                committed regression corpus (-runs=0: seconds, and the same
#                verdict every run).  Soak fuzzing is tools/fuzz.sh.
# Every stage runs even when an earlier one failed, so one run reports
# everything; the exit status is non-zero if any stage failed.
# `meson test -v` prints cmocka's per-test lines, which CI counts.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

bash tools/install-deps.sh || { echo "run-tests: installing dependencies failed" >&2; exit 1; }

jobs=$(nproc 2>/dev/null || echo 2)
failed=()

# setup DIR [meson options...]: configure, or reconfigure an existing dir.
setup() {
    local dir=$1; shift
    if [ -f "$dir/build.ninja" ]; then
        meson setup --reconfigure "$dir" "$@" >"$dir.setup.log" 2>&1
    else
        mkdir -p "$(dirname "$dir")"
        meson setup "$dir" "$@" >"$dir.setup.log" 2>&1
    fi || { cat "$dir.setup.log"; return 1; }
}

# stage NAME DIR SUITES [meson options...]
stage() {
    local name=$1 dir=$2 suites=$3; shift 3
    local args=()
    for s in $suites; do args+=(--suite "$s"); done
    echo "=== $name: configure and build ($dir)"
    if ! setup "$dir" "$@" || ! ninja -C "$dir" -j "$jobs"; then
        failed+=("$name (build)")
        return
    fi
    echo "=== $name: test"
    if ! meson test -C "$dir" -v --num-processes "$jobs" --print-errorlogs "${args[@]}"; then
        failed+=("$name (tests)")
    fi
}

stage plain build/plain "unit integ"
CC=clang stage asan build/asan "unit integ fuzz" -Dfuzz=true \
    -Db_sanitize=address,undefined -Db_lundef=false

if [ ${#failed[@]} -ne 0 ]; then
    echo "run-tests: FAILED: ${failed[*]}" >&2
    exit 1
fi
echo "run-tests: all stages passed"
