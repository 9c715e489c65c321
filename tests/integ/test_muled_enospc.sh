#!/usr/bin/env bash
# test_muled_enospc.sh: a full disk refuses new mail temporarily and
# harms nothing (durability contract line 6).
#
# n2's spool is on a small tmpfs that a ballast file fills.  n1 sends MAILS
# mails to n2: n2 cannot store them and defers them (no Ack: n1 keeps
# them and retransmits), and mule-submit on n2 itself fails with a
# temporary error.  When the ballast goes, n2 recovers by itself: every mail
# arrives exactly once and both spools drain.
#
# usage: test_muled_enospc.sh BUILDDIR      Exit 0 pass, 1 fail, 77 skip.
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
mails=10
source "$src/tests/integ/muled_lib.sh"
ml_begin muled-enospc 2 "${1:-}"
ml_atexit 'umount "$work/n2/spool" 2>/dev/null'

nsnet_up "$prefix" 2 ""
ml_routes
mkdir -p "$work/n2/spool"
mount -t tmpfs -o size=4m tmpfs "$work/n2/spool"
ML_RATE=1000000
ml_conf 1 "ack_rtx_min=500ms" "ack_rtx_max=3s"
ml_conf 2 "ack_rtx_min=500ms" "ack_rtx_max=3s"
ml_start 1
ml_start 2
ml_wait 10 test -d "$work/n2/spool/q" || true
# Fill the disk, leaving a few KiB: the first spool write fails.
dd if=/dev/zero of="$work/n2/spool/ballast" bs=64k 2>/dev/null || true
sync
ok=1
body() {
    printf 'From: alice@hq.mule.test\r\nTo: bob@n2.mule.test\r\nSubject: full %d\r\nMessage-ID: <f%d.%d@hq.mule.test>\r\n\r\n' "$1" "$1" $$
    head -c 20000 /dev/urandom | base64 | sed 's/$/\r/'
}
for k in $(seq 1 $mails); do body "$k" | ml_submit 1 alice@hq.mule.test bob@n2.mule.test; done
set +e
body 99 | ml_submit 2 bob@n2.mule.test alice@hq.mule.test
src_rc=$?
set -e
echo "mule-submit on the full node: exit $src_rc (75 = EX_TEMPFAIL wanted)"
[ "$src_rc" = 75 ] || { echo "FAIL: submission on a full disk did not fail temporarily"; ok=0; }
deferred() { grep -q 'deferred' "$work/n2/log"; }
ml_wait 60 deferred || { echo "FAIL: n2 never deferred a message"; ok=0; }
n=$(ml_count "$work/n2/spool/maildir")
echo "while full: n2 Maildir $n message(s); n1 queue $(ls "$work/n1/spool/q" | wc -l) entries"
rm -f "$work/n2/spool/ballast"
echo "space returned"
drained() { [ -z "$(ls -A "$work/n1/spool/q")" ] && [ -z "$(ls -A "$work/n2/spool/q")" ]; }
ml_wait 120 drained || { echo "FAIL: spools did not drain after space returned"; ok=0; }
n=$(ml_count "$work/n2/spool/maildir")
echo "n2 Maildir: $n message(s), want $mails"
[ "$n" = $mails ] || ok=0
grep -h "deferred\|refused" "$work/n2/log" | sed -n 1,5p | sed 's/^/  /'
[ $ok = 1 ] && { echo PASS; exit 0; }
for i in 1 2; do echo "-- n$i"; tail -20 "$work/n$i/log"; done
exit 1
