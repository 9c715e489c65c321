#!/usr/bin/env bash
# test_muled_emcon.sh: EMCON survives a reboot (issue 9, "EMCON reboot test").
#
# n2 starts in EMCON (emcon = yes) and receives three mails from n1 without
# sending anything.  It is then killed with SIGKILL and restarted with a
# configuration WITHOUT emcon = yes: the EMCON state persisted in its spool
# must keep it silent.  A capture on the hub bridge must show not one UDP
# datagram from n2 (198.18.0.2) until SIGUSR2 lifts EMCON; then its deferred
# Acks go out, n1's spool drains, and n2's Maildir holds each mail once.
#
# usage: test_muled_emcon.sh BUILDDIR      Exit 0 pass, 1 fail, 77 skip.
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$src/tests/integ/muled_lib.sh"
ml_begin muled-emcon 2 "${1:-}" tshark dumpcap

nsnet_up "$prefix" 2 64kbit
ml_routes
ml_conf 1
ml_conf 2 "emcon=yes"
touch "$work/air.pcap"
ip netns exec "$prefix-hub" dumpcap -q -i br0 -f udp -P -w "$work/air.pcap" 2>"$work/dumpcap.log" &
ml_bg $!
for _ in $(seq 1 50); do grep -q Capturing "$work/dumpcap.log" 2>/dev/null && break; sleep 0.1; done
ml_start 1
ml_start 2
sleep 0.5
for k in 1 2 3; do
    printf 'From: alice@hq.mule.test\r\nTo: bob@n2.mule.test\r\nSubject: emcon %d\r\nMessage-ID: <e%d.%d@hq.mule.test>\r\n\r\nbody %d\r\n' \
        $k $k $$ $k | ml_submit 1 alice@hq.mule.test bob@n2.mule.test
done
received() { [ "$(grep -c 'received from' "$work/n2/log")" -ge 3 ]; }
ok=1
ml_wait 60 received || { echo "FAIL: n2 did not receive the 3 mails in EMCON"; ok=0; }
ml_stop 2 KILL
echo "n2 killed in EMCON; restarting without emcon in its config"
ml_conf 2
ml_start 2
sleep 6
t_lift=$(date +%s.%N)
kill -USR2 "${ml_pid[2]}"
drained() { [ -z "$(ls -A "$work/n1/spool/q")" ]; }
ml_wait 90 drained || { echo "FAIL: n1's spool did not drain after EMCON was lifted"; ok=0; }
sleep 1
ml_bg_stop

tshark -n -r "$work/air.pcap" -d 'udp.port==2751-2754,p_mul' -Y 'ip.src==198.18.0.2' \
    -T fields -e frame.time_epoch -e p_mul.pdu_type 2>/dev/null > "$work/n2.txt" || true
total=$(grep -c . "$work/n2.txt" || true)
early=$(awk -v t="$t_lift" '$1 < t' "$work/n2.txt" | grep -c . || true)
acks=$(awk -v t="$t_lift" '$1 >= t && $2 == 1' "$work/n2.txt" | grep -c . || true)
echo "datagrams from n2: $total in all, $early before EMCON was lifted, $acks Ack_PDUs after"
[ "$early" = 0 ] || { echo "FAIL: n2 transmitted while in EMCON"; ok=0; }
[ "$acks" -ge 1 ] || { echo "FAIL: no deferred Ack from n2 after EMCON was lifted"; ok=0; }
n=$(ml_count "$work/n2/spool/maildir")
echo "n2 Maildir: $n message(s)"
[ "$n" = 3 ] || { echo "FAIL: want exactly 3"; ok=0; }
grep -h "EMCON" "$work/n2/log" | sed 's/^/  /'
[ $ok = 1 ] && { echo PASS; exit 0; }
for i in 1 2; do echo "-- n$i"; tail -20 "$work/n$i/log"; done
exit 1
