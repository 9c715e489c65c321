#!/usr/bin/env bash
# test_muled_auth.sh: authenticated P_MUL between real muled (pmul_auth = on).
#
# Three nodes in network namespaces, all with pmul_auth = on: n1 and n2 share
# the network key, n3 has another one.  n1 sends one mail to n2 and one to n3.
# n2 must get its mail (every datagram sealed and opened); n3 must get
# nothing and count n1's datagrams as auth-bad in `mulectl stats`, while
# n1's mail to n3 stays queued, and `mulectl status` (pmul_peers) says the
# authentication is on.  Before that, n3 is started once with a key
# file that others may read: muled must refuse to start.
#
# usage: test_muled_auth.sh BUILDDIR      Exit 0 pass, 1 fail, 77 skip.
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$src/tests/integ/muled_lib.sh"
ml_begin muled-auth 3 "${1:-}"

nsnet_up "$prefix" 3
ml_routes
head -c 32 /dev/urandom > "$work/net.key"
head -c 32 /dev/urandom > "$work/other.key"
chmod 400 "$work/net.key" "$work/other.key"
ml_conf 1 "pmul_auth=on" "pmul_auth_key=$work/net.key"
ml_conf 2 "pmul_auth=on" "pmul_auth_key=$work/net.key"
ok=1

# A key others may read is refused at start-up.
cp "$work/other.key" "$work/loose.key"
chmod 644 "$work/loose.key"
ml_conf 3 "pmul_auth=on" "pmul_auth_key=$work/loose.key"
ml_start 3
ml_wait 10 bash -c "! kill -0 ${ml_pid[3]} 2>/dev/null" ||
    { echo "FAIL: muled started with a key file others may read"; ok=0; }
grep -q "pmul_auth_key .*readable by group or others" "$work/n3/log" ||
    { echo "FAIL: no reason given for the refused key"; ok=0; }
ml_stop 3
echo "loose key refused: $(grep -h 'pmul_auth_key' "$work/n3/log" | head -1)"

ml_conf 3 "pmul_auth=on" "pmul_auth_key=$work/other.key"
ml_start 1
ml_start 2
ml_start 3
sleep 0.5
for r in bob@n2.mule.test carol@n3.mule.test; do
    printf 'From: alice@hq.mule.test\r\nTo: %s\r\nSubject: auth\r\nMessage-ID: <a.%s.%d@hq.mule.test>\r\n\r\nauthenticated body\r\n' \
        "$r" "${r%%@*}" $$ | ml_submit 1 alice@hq.mule.test "$r"
done
got2() { [ "$(ml_count "$work/n2/spool/maildir")" -ge 1 ]; }
ml_wait 60 got2 || { echo "FAIL: n2 (same key) did not receive its mail"; ok=0; }
# Give n1 time to retransmit to n3 at least once.
sleep 8
n2=$(ml_count "$work/n2/spool/maildir")
n3=$(ml_count "$work/n3/spool/maildir")
echo "Maildirs: n2 $n2 (want 1), n3 $n3 (want 0)"
[ "$n2" = 1 ] || { echo "FAIL: n2 holds $n2 mails"; ok=0; }
[ "$n3" = 0 ] || { echo "FAIL: n3 (other key) holds $n3 mails"; ok=0; }
stat_of() { ml_ctl "$1" stats | awk -v k="$2" -F': *' '$1 ~ "^ *"k"$" { print $2 }'; }
bad3=$(stat_of 3 auth_bad)
bad2=$(stat_of 2 auth_bad)
echo "auth_bad: n3 ${bad3:-?} (want > 0), n2 ${bad2:-?} (want 0)"
[ "${bad3:-0}" -gt 0 ] || { echo "FAIL: n3 did not count n1's datagrams as auth-bad"; ok=0; }
[ "${bad2:-x}" = 0 ] || { echo "FAIL: n2 counted auth-bad datagrams"; ok=0; }
# Captured first: with pipefail, grep -q closing the pipe early would
# fail the pipeline.
st=$(ml_ctl 2 status)
grep -q 'authentication.*on (pmul_auth)' <<<"$st" ||
    { echo "FAIL: mulectl status (pmul_peers) does not say authentication is on"; ok=0; }
prom=$(ml_ctl 3 stats --prometheus)
grep -q 'mule_pmul_drops_total{reason="auth-bad"} [1-9]' <<<"$prom" ||
    { echo "FAIL: the Prometheus form does not show the auth-bad drops"; ok=0; }
[ -n "$(ls -A "$work/n1/spool/q" 2>/dev/null)" ] ||
    { echo "FAIL: n1's mail to n3 left the queue"; ok=0; }
[ $ok = 1 ] && { echo PASS; exit 0; }
exit 1
