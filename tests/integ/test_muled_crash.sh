#!/usr/bin/env bash
# test_muled_crash.sh: kill -9 muled at random moments, nothing lost, nothing
# twice (issue 9, "Crash test").
#
# n1 sends MAILS mails, each to both n2 and n3 (one multicast message),
# over lossy multicast.  While they flow, a random node (sender or
# receiver) is killed with SIGKILL and restarted, KILLS times at random
# intervals.  Afterwards every spool must drain and each receiver's
# Maildir must hold every mail exactly once.  Lost and duplicated mails
# are counted separately.
#
# usage: test_muled_crash.sh BUILDDIR [MAILS [KILLS [SEED]]]
#   (defaults 200 mails, 20 kills; tools/crash-test.sh runs 1,000 kills)
# Exit 0 pass, 1 fail, 77 skip.  Prints "crash-test: mails=.. kills=..
# lost=.. duplicated=.." for the benchmark log.
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
mails=${2:-200}
kills=${3:-20}
seed=${4:-$$}
source "$src/tests/integ/muled_lib.sh"
ml_begin muled-crash 3 "${1:-}" nft
RANDOM=$seed

nsnet_up "$prefix" 3 ""
nsnet_loss "$prefix" 2 5
nsnet_loss "$prefix" 3 5
ml_routes
echo "route both.mule.test group 239.1.1.2 nodes 198.18.0.2,198.18.0.3" >> "$work/routes.conf"
ML_RATE=2000000
ml_conf 1 "ack_rtx_min=500ms" "ack_rtx_max=5s"
ml_conf 2 "ack_rtx_min=500ms" "ack_rtx_max=5s"
ml_conf 3 "ack_rtx_min=500ms" "ack_rtx_max=5s"
for i in 1 2 3; do ml_start "$i"; done
sleep 0.5

# Submit in the background while the killer runs.
(
    for k in $(seq 1 "$mails"); do
        { printf 'From: alice@hq.mule.test\r\nTo: staff@both.mule.test\r\nSubject: crash %d\r\nMessage-ID: <c%d.%d@hq.mule.test>\r\n\r\n' \
            "$k" "$k" "$seed"
          for l in $(seq 1 20); do printf 'mail %d line %d: nothing accepted may ever be lost\r\n' "$k" "$l"; done
        } | ml_submit 1 alice@hq.mule.test staff@both.mule.test
        sleep 0.02
    done
) &
sub_pid=$!

for k in $(seq 1 "$kills"); do
    sleep "0.$(( RANDOM % 9 + 1 ))$(( RANDOM % 10 ))"
    i=$(( RANDOM % 3 + 1 ))
    ml_stop "$i" KILL
    ml_start "$i"
done
wait "$sub_pid"

drained() { for i in 1 2 3; do [ -z "$(ls -A "$work/n$i/spool/q")" ] || return 1;
            [ -z "$(ls -A "$work/n$i/spool/pickup")" ] || return 1; done; }
ok=1
ml_wait 180 drained || { echo "FAIL: spools did not drain"; ok=0; }
sleep 1
lost=0 dup=0
for i in 2 3; do
    find "$work/n$i/spool/maildir" -type f -path '*/new/*' -exec grep -h -m1 '^Message-ID:' {} + \
        | tr -d '\r' | sort | uniq -c > "$work/ids$i.txt" || true
    got=$(grep -c . "$work/ids$i.txt" || true)
    d=$(awk '$1 > 1 { n += $1 - 1 } END { print n + 0 }' "$work/ids$i.txt")
    lost=$(( lost + mails - got ))
    dup=$(( dup + d ))
    echo "n$i: $got distinct of $mails, $d duplicate(s)"
done
echo "crash-test: mails=$mails kills=$kills seed=$seed lost=$lost duplicated=$dup"
[ $lost = 0 ] && [ $dup = 0 ] && [ $ok = 1 ] && { echo PASS; exit 0; }
for i in 1 2 3; do echo "-- n$i"; grep -v ' info: ' "$work/n$i/log" | tail -10; done
exit 1
