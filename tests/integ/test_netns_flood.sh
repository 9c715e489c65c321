#!/usr/bin/env bash
# test_netns_flood.sh: muled under a flood of forged P_MUL PDUs (issue 13,
# "Hostile peers"), in network namespaces.
#
# n1 (hq.mule.test) mails n2 three times while n3, a hostile node on the
# same multicast network, runs pmul-flood: Address_PDUs listing n2 from
# 300 forged Source_IDs (Total 65535, Expiry_Time 2106), Data_PDUs from
# 300 more, checksum-valid garbage, Announce_PDUs of new groups listing n2,
# and Address_PDUs in n1's name (the Source_ID is forged, the IP source is
# n3's own).  Checks: n2's Maildir holds each mail exactly once, within
# 60 s of submission; n2's muled stays under an RSS bound (sampled while
# the flood runs); n2 counts the forged PDUs as drops (source-mismatch,
# not-allowed, malformed) in `mulectl stats --prometheus`.
#
# usage: test_netns_flood.sh BUILDDIR
# Exit 0 pass, 1 fail, 77 skip (not root, no netns, tools not built).
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$src/tests/integ/muled_lib.sh"
ml_begin netns-flood 3 "${1:-}" tools/mulectl tools/bench/pmul-flood
RSS_MAX_KB=${RSS_MAX_KB:-65536}

nsnet_up "$prefix" 3 1mbit
ml_routes
ml_conf 1
ml_conf 2
for i in 1 2; do ml_start "$i"; done
sleep 0.5

flood() {   # flood NAME ARGS...: pmul-flood in n3, 400 datagrams/s for 20 s
    local name=$1
    shift
    nsnet_exec "$prefix" 3 "$bld/tools/bench/pmul-flood" --count 8000 --rate 400 "$@" \
        >"$work/flood-$name.log" 2>&1 &
    ml_bg $!
}
flood address --kind address --sources 300 --dest 198.18.0.2 --expiry far
flood data --kind data --sources 300 --source-base 10.98.0.1
flood garbage --kind garbage --sources 300 --source-base 10.97.0.1
flood announce --kind announce --sources 40 --dest 198.18.0.2 --source-base 10.96.0.1
flood as-n1 --kind address --sources 1 --source-base 198.18.0.1 --dest 198.18.0.2
sleep 2

msg() {     # msg N
    printf 'From: Alice <alice@hq.mule.test>\r\nTo: bob@n2.mule.test\r\nSubject: under attack %s\r\nMessage-ID: <f%s.%s@hq.mule.test>\r\nDate: Sat, 05 Dec 2026 10:00:00 +0000\r\n\r\n' \
        "$1" "$1" "$$"
    for l in $(seq 1 30); do printf 'Line %d of mail %s, sent while n3 floods.\r\n' "$l" "$1"; done
}
t0=$(date +%s)
for n in 1 2 3; do
    msg "$n" > "$work/m$n.eml"
    ml_submit 1 alice@hq.mule.test bob@n2.mule.test < "$work/m$n.eml"
done

rss_max=0
rss() {     # the largest VmRSS of n2's muled seen so far, in kB
    local kb
    kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/${ml_pid[2]}/status" 2>/dev/null || echo 0)
    [ "${kb:-0}" -gt "$rss_max" ] && rss_max=$kb
    return 0
}
got3() { rss; [ "$(ml_count "$work/n2/spool/maildir")" -ge 3 ]; }
ok=1
ml_wait 60 got3 || { echo "FAIL: n2 did not get 3 mails within 60 s"; ok=0; }
t1=$(date +%s)
echo "mails delivered $((t1 - t0)) s after submission"
# Let the flood run out (bounded), sampling the RSS, then look for copies.
for p in "${ml_bg_pids[@]}"; do
    for _ in $(seq 1 150); do kill -0 "$p" 2>/dev/null || break; rss; sleep 0.2; done
done
for p in "${ml_bg_pids[@]}"; do wait "$p" 2>/dev/null || { echo "FAIL: a flooder failed"; ok=0; }; done
ml_bg_pids=()
cat "$work"/flood-*.log | sed 's/^/  /'
sleep 3
rss

n=$(ml_count "$work/n2/spool/maildir")
echo "n2: $n mail(s); muled RSS at most $rss_max kB (bound $RSS_MAX_KB kB)"
[ "$n" = 3 ] || { echo "FAIL: n2 holds $n mails, want exactly 3"; ok=0; }
for m in 1 2 3; do
    c=$(grep -rl "Subject: under attack $m" "$work/n2/spool/maildir" 2>/dev/null | wc -l)
    [ "$c" = 1 ] || { echo "FAIL: mail $m is there $c times"; ok=0; }
done
[ "$rss_max" -gt 0 ] && [ "$rss_max" -le "$RSS_MAX_KB" ] || { echo "FAIL: RSS $rss_max kB"; ok=0; }

ml_ctl 2 stats --prometheus > "$work/n2-stats.txt" || { echo "FAIL: mulectl stats"; ok=0; }
drops() {   # drops REASON: n2's count of PDUs dropped for REASON
    awk -v r="mule_pmul_drops_total{reason=\"$1\"}" '$1 == r { print $2 }' "$work/n2-stats.txt"
}
forged=0
for r in source-mismatch not-allowed malformed; do
    v=$(drops "$r")
    echo "n2 drops $r: ${v:-none}"
    forged=$((forged + ${v:-0}))
done
# 40000 datagrams were sent; a bridge under load may lose some, but most
# must have reached n2 and been counted.
[ "$forged" -ge 20000 ] || { echo "FAIL: only $forged forged PDUs counted as dropped"; ok=0; }
grep "mule_pmul_messages{dir=\"rx\"}" "$work/n2-stats.txt" | sed 's/^/  /'

[ $ok = 1 ] && { echo "PASS"; exit 0; }
ML_KEEP=1
for i in 1 2; do echo "-- n$i"; tail -15 "$work/n$i/log"; done
exit 1
