#!/usr/bin/env bash
# crash-test.sh: the long kill -9 run of issue 9 (CI runs 20 kills in
# tests/integ/test_muled_crash.sh; this runs KILLS in rounds of 50, each
# round a fresh three-node network with MAILS mails) and prints the totals
# for docs/benchmarks.md.  Lost and duplicated mails are counted apart:
# the goal is 0 and 0.
#
# usage: bash tools/crash-test.sh [BUILDDIR [KILLS [MAILS_PER_ROUND]]]
#   defaults: build/plain, 1000 kills, 200 mails per round.  Needs root.
set -uo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
bld=${1:-$src/build/plain}
kills=${2:-1000}
mails=${3:-200}
per=50
rounds=$(( (kills + per - 1) / per ))
tl=0 td=0 tm=0 tk=0 failed=0
for r in $(seq 1 "$rounds"); do
    k=$(( kills - tk < per ? kills - tk : per ))
    out=$(bash "$src/tests/integ/test_muled_crash.sh" "$bld" "$mails" "$k" "$r" 2>&1)
    rc=$?
    line=$(echo "$out" | grep '^crash-test:' | tail -1)
    echo "round $r/$rounds: ${line:-no result (exit $rc)}"
    [ $rc = 0 ] || failed=$(( failed + 1 ))
    [ $rc = 77 ] && { echo "$out" | tail -1; exit 77; }
    l=$(echo "$line" | sed -n 's/.*lost=\([0-9]*\).*/\1/p')
    d=$(echo "$line" | sed -n 's/.*duplicated=\([0-9]*\).*/\1/p')
    tl=$(( tl + ${l:-0} )); td=$(( td + ${d:-0} ))
    tm=$(( tm + mails )); tk=$(( tk + k ))
done
echo "crash-test total: rounds=$rounds kills=$tk mails=$tm (x2 receivers) lost=$tl duplicated=$td failed_rounds=$failed"
[ $failed = 0 ]
