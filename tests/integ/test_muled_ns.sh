#!/usr/bin/env bash
# test_muled_ns.sh: muled end to end in network namespaces.
#
# n1 (hq.mule.test) submits mail with mule-submit; n2..n4 receive it over
# rate-limited (tbf 64 kbit/s), lossy (10 % of UDP dropped at each
# receiver's input, Acks included) multicast.  n4 starts in EMCON (from
# its config) and is released with SIGUSR2 after a few seconds.
# Hand-off: n2 to a real Dovecot LMTP, n3 to a real Postfix (SMTP), n4 to
# muled's own Maildir (with --maildir-only every node uses the Maildir).
# Checks: every mailbox holds exactly one copy, with the body of what was
# submitted; a recipient without a route and one that Postfix rejects each
# produce a DSN that reaches the originator's Maildir on n1 and parses as
# multipart/report with Python's email package; every spool drains.
#
# usage: test_muled_ns.sh BUILDDIR [--maildir-only]
# Exit 0 pass, 1 fail, 77 skip (not root, no netns/nft, no muled).
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
mode=${2:-full}
source "$src/tests/integ/muled_lib.sh"
ml_begin muled-ns 4 "${1:-}" nft
if [ "$mode" != --maildir-only ]; then
    command -v dovecot >/dev/null && [ -x /usr/lib/dovecot/lmtp ] || mode=--maildir-only
    command -v postfix >/dev/null || mode=--maildir-only
fi
source "$src/tests/integ/mta_lib.sh"
ml_atexit mta_cleanup

nsnet_up "$prefix" 4 64kbit
for i in 2 3 4; do nsnet_loss "$prefix" "$i" 10; done
ml_routes
ml_conf 1
if [ "$mode" = --maildir-only ]; then
    ml_conf 2
    ml_conf 3
else
    mta_dovecot_lmtp "$prefix-n2" "$work/n2/dovecot" 24
    mta_postfix "$prefix-n3" "$work/n3/postfix" 2525 "reject@n3.mule.test"
    ml_conf 2 "deliver=lmtp:127.0.0.1:24"
    ml_conf 3 "deliver=smtp:127.0.0.1:2525"
fi
ml_conf 4 "emcon=yes"
for i in 1 2 3 4; do ml_start "$i"; done
sleep 0.5

msg() {     # msg N SUBJECT TO
    printf 'From: Alice <alice@hq.mule.test>\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <m%s.%s@hq.mule.test>\r\nDate: Sat, 05 Dec 2026 10:00:00 +0000\r\n\r\n' \
        "$3" "$2" "$1" "$$"
    for l in $(seq 1 40); do printf 'Line %d of message %s: the quick brown fox jumps over the lazy dog.\r\n' "$l" "$1"; done
}
msg 1 "to n2" bob@n2.mule.test > "$work/m1.eml"
msg 2 "to n3" carol@n3.mule.test > "$work/m2.eml"
msg 3 "to n4 (in EMCON)" dave@n4.mule.test > "$work/m3.eml"
msg 4 "to all three, one multicast" staff@all.mule.test > "$work/m4.eml"
msg 5 "no route" x@nowhere.test > "$work/m5.eml"
ml_submit 1 alice@hq.mule.test bob@n2.mule.test < "$work/m1.eml"
ml_submit 1 alice@hq.mule.test carol@n3.mule.test < "$work/m2.eml"
ml_submit 1 alice@hq.mule.test dave@n4.mule.test < "$work/m3.eml"
ml_submit 1 alice@hq.mule.test staff@all.mule.test < "$work/m4.eml"
ml_submit 1 alice@hq.mule.test x@nowhere.test < "$work/m5.eml"
dsns=1
if [ "$mode" != --maildir-only ]; then
    msg 6 "rejected by Postfix" reject@n3.mule.test > "$work/m6.eml"
    ml_submit 1 alice@hq.mule.test reject@n3.mule.test < "$work/m6.eml"
    dsns=2
fi
sleep 5
kill -USR2 "${ml_pid[4]}"

# Where each node's mail lands.
box() {     # box NODE
    case "$mode:$1" in
    full:2) echo "$work/n2/dovecot/mail";;
    full:3) echo "$work/n3/postfix/Maildir";;
    *) echo "$work/n$1/spool/maildir";;
    esac
}
want() { [ "$(ml_count "$(box 2)")" -ge 2 ] && [ "$(ml_count "$(box 3)")" -ge 2 ] &&
         [ "$(ml_count "$(box 4)")" -ge 2 ] &&
         [ "$(ml_count "$work/n1/spool/maildir")" -ge $dsns ]; }
drained() { for i in 1 2 3 4; do [ -z "$(ls -A "$work/n$i/spool/q")" ] || return 1; done; }
ok=1
ml_wait 120 want || { echo "FAIL: not every mailbox filled in time"; ok=0; }
ml_wait 60 drained || { echo "FAIL: spools did not drain"; ok=0; }
sleep 2     # anything extra (a duplicate) would show up now

for i in 2 3 4; do
    n=$(ml_count "$(box "$i")")
    echo "n$i: $n message(s) in $(box "$i")"
    [ "$n" = 2 ] || { echo "FAIL: n$i holds $n, want exactly 2"; ok=0; }
done
python3 "$src/tests/integ/check_muled_mail.py" "$work" "$(box 2)" "$(box 3)" "$(box 4)" \
    "$work/n1/spool/maildir" "$dsns" || ok=0
for i in 1 2 3 4; do grep -c . "$work/n$i/log" | sed "s/^/n$i log lines: /"; done
grep -h "queued\|transmitted\|acked by\|received from\|delivered\|removed" "$work/n1/log" \
    | sed -n 1,20p | sed 's/^/  /'
[ $ok = 1 ] && { echo "PASS"; exit 0; }
ML_KEEP=1
for i in 1 2 3 4; do echo "-- n$i"; tail -15 "$work/n$i/log"; done
exit 1
