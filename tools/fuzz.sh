#!/usr/bin/env bash
# fuzz.sh: soak one libFuzzer target for a fixed time.
#
# usage: tools/fuzz.sh TARGET SECONDS [libFuzzer options...]
#        tools/fuzz.sh --list
#
# The test suite only replays each target's seeds and regression corpus
# (tests/fuzz/meson.build); real searching happens here.  The script builds
# the clang ASan+UBSan+fuzz tree build/asan if needed (the same tree
# tools/run-tests.sh uses), regenerates the target's seeds, and runs
# libFuzzer for SECONDS on two directories: build/asan/tests/fuzz/TARGET_soak
# (new inputs it finds, kept across runs) and the seeds.  Crash, leak and
# timeout inputs land in build/asan/tests/fuzz/TARGET_artifacts/.
#
# A crash found here: reproduce it with
#     build/asan/tests/fuzz/TARGET build/asan/tests/fuzz/TARGET_artifacts/crash-...
# fix the code, then commit the input to the regression corpus so that every
# CI run replays it from now on:
#     mkdir -p tests/fuzz/corpus/TARGET
#     cp build/asan/tests/fuzz/TARGET_artifacts/crash-... tests/fuzz/corpus/TARGET/
# (reconfigure, `meson setup --reconfigure build/asan`, when the directory is
# new: meson looks for it at configure time).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bd=build/asan

usage() { echo "usage: tools/fuzz.sh TARGET SECONDS [libFuzzer options...] | --list" >&2; exit 2; }

[ $# -ge 1 ] || usage
if [ ! -f "$bd/build.ninja" ]; then
    CC=clang meson setup "$bd" -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
targets=$(sed -n "s/^ *{'name' : '\(fuzz_[a-z0-9_]*\)'.*/\1/p" tests/fuzz/meson.build)
if [ "$1" = --list ]; then
    echo "$targets"
    exit 0
fi
[ $# -ge 2 ] || usage
target=$1 secs=$2
shift 2
grep -qx "$target" <<<"$targets" || { echo "fuzz.sh: no target '$target' (see --list)" >&2; exit 2; }
[[ "$secs" =~ ^[1-9][0-9]{0,6}$ ]] || { echo "fuzz.sh: SECONDS must be 1..9999999, not '$secs'" >&2; exit 2; }

ninja -C "$bd" "tests/fuzz/$target" "tests/fuzz/${target}_seeds.stamp" >/dev/null
fd=$bd/tests/fuzz
mkdir -p "$fd/${target}_soak" "$fd/${target}_artifacts"
dirs=("$fd/${target}_soak" "$fd/${target}_seeds")
[ -d "tests/fuzz/corpus/$target" ] && dirs+=("tests/fuzz/corpus/$target")
export MULE_VECTORS="$top/tests/vectors" MULE_SRCDIR="$top"
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
exec "$fd/$target" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$fd/${target}_artifacts/" "$@" "${dirs[@]}"
