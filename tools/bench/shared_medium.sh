#!/bin/bash
# shared_medium.sh: mule-node with and without --shared-medium on ONE shared
# radio channel built from network namespaces (the testbed's netsim-up.sh -s:
# a single tbf in the hub carries every node's frames), 10 % loss at every
# node's input.  The transmitter sends MAILS text mails of 2.6-8 kB to
# RECEIVERS nodes as one group; each run prints the time until every
# destination acknowledged, the deliveries, and the transmitter's
# retransmitted Data_PDUs and Acks received.  Runs alternate off/on so that
# drift of a shared machine spreads over both.
#
# usage: tools/bench/shared_medium.sh [-n PAIRS] [-r RECEIVERS] [-m MAILS]
#   defaults: 4 pairs, 10 receivers, 10 mails.  Needs root, a built
#   build/plain/tools/mule-node, and the testbed (TESTBED, default
#   ../shared/testbed beside the checkout).  Results: docs/benchmarks.md,
#   "Shared channel: received air counted in the pacing".
set -euo pipefail
pairs=4 rx=10 mails=10
while getopts "n:r:m:" o; do
    case $o in n) pairs=$OPTARG;; r) rx=$OPTARG;; m) mails=$OPTARG;; *) exit 2;; esac
done
[[ $pairs =~ ^[1-9][0-9]?$ && $rx =~ ^[1-9][0-9]?$ && $mails =~ ^[1-9][0-9]?$ ]] ||
    { echo "shared_medium: -n 1..99, -r 1..99, -m 1..99" >&2; exit 2; }
src=$(cd "$(dirname "$0")/../.." && pwd)
tb=${TESTBED:-$src/../shared/testbed}
bin=$src/build/plain/tools/mule-node
[ -x "$tb/netsim-up.sh" ] && [ -x "$bin" ] || { echo "shared_medium: need $tb/netsim-up.sh and $bin" >&2; exit 2; }
text=/usr/share/common-licenses/GPL-3
P=shm$$ N=$((rx + 1))
w=$(mktemp -d /tmp/shared-medium.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    "$tb/netsim-down.sh" -p "$P" >/dev/null 2>&1 || true
    rm -rf "$w"
}
trap cleanup EXIT

nodes=$(for i in $(seq 2 "$N"); do printf '198.18.0.%d,' "$i"; done)
printf 'route hq.bench.test local\nroute all.bench.test group 239.1.1.2 nodes %s\n' \
    "${nodes%,}" > "$w/routes.conf"
mkdir -p "$w/mail"
for k in $(seq 1 "$mails"); do
    printf '<bench@hq.bench.test>\n<all@all.bench.test>\n' > "$w/mail/m$k.env"
    { printf 'From: bench@hq.bench.test\r\nTo: all@all.bench.test\r\nSubject: shared %d\r\n\r\n' "$k"
      head -c $((2000 + 600 * (k % 10 + 1))) "$text" | sed 's/$/\r/'; } > "$w/mail/m$k.eml"
done

run() {     # run on|off
    local mode=$1 t0 t1 got i
    "$tb/netsim-up.sh" -p "$P" -n "$N" -r 9600bit -s -l 10 >/dev/null
    pids=()
    for i in $(seq 2 "$N"); do
        rm -rf "$w/rx$i"; mkdir -p "$w/rx$i"
        ip netns exec "$P-n$i" "$bin" --id "198.18.0.$i" --routes "$w/routes.conf" \
            --hostname "n$i.bench.test" --rate 9237 --deliver "$w/rx$i" --expect "$mails" \
            --timeout 1200 --shared-medium "$mode" >"$w/rx$i.log" 2>&1 &
        pids+=($!)
    done
    sleep 0.5
    t0=$(date +%s%N)
    ip netns exec "$P-n1" timeout 1300 "$bin" --id 198.18.0.1 --routes "$w/routes.conf" \
        --hostname hq.bench.test --rate 9237 --send "$w/mail" --timeout 1200 \
        --shared-medium "$mode" >"$w/tx.log" 2>&1 || true
    t1=$(date +%s%N)
    sleep 1
    for i in "${pids[@]}"; do kill "$i" 2>/dev/null || true; done
    wait 2>/dev/null || true
    pids=()
    got=$(find "$w" -path "$w/rx*" -name '*.eml' | wc -l)
    printf 'shared-medium=%s time=%d.%01ds delivered=%d/%d %s\n' "$mode" \
        $(((t1 - t0) / 1000000000)) $(((t1 - t0) / 100000000 % 10)) "$got" $((rx * mails)) \
        "$(grep summary "$w/tx.log" |
           grep -o 'acked=[0-9]* failed=[0-9]*\|retx_data=[0-9]*\|acks_rx=[0-9]*' | tr '\n' ' ')"
    "$tb/netsim-down.sh" -p "$P" >/dev/null 2>&1 || true
}

for k in $(seq 1 "$pairs"); do
    run off
    run on
done
