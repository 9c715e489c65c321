#!/usr/bin/env bash
# test_muled_deliverby.sh: DELIVERBY (RFC 2852) end to end through a real
# MTA on both sides: sendmail -> muled -> P_MUL -> muled -> sendmail
# (issue 10, "End to end").  Sendmail is the one MTA in Debian that
# implements DELIVERBY (docs/operations.md, "DELIVERBY and the node's
# MTA"); tools/install-deps.sh unpacks it from the archive into
# /opt/mule-sendmail, beside the installed Postfix.
#
# n1: a client sends MAIL FROM:<..> BY=3600;R to sendmail on port 25,
#     which queues it; 3 s later a queue run relays it to muled's
#     smtpd_listen (mule.test by mailertable) and, since muled announces
#     DELIVERBY, with the time left in BY=.
# n2: muled's first hand-off finds no MTA on port 2590 and defers; then
#     sendmail starts there (announces DELIVERBY), muled's retry hands the
#     mail over with the time left by then, sendmail holds it in its queue,
#     and one queue run delivers it to the local mbox DIR/mail/bob.
# Checks: the BY= sendmail n1 sent muled (its -X traffic log), at least
# 3 s short of 3600; n1's P_MUL Expiry_Time is the deadline (submission +
# 3600 s, mule-relay-done expiry=); sendmail n2's queue file records the
# envelope deadline ("!" line: the R flag and the seconds left, counted
# from its "T" arrival time), fewer seconds than hop 1 had, and that
# deadline is still the one the client set; the delivered mail carries
# each hop's Received field in order, muled's two among them.
# With Postfix installed, also what a Postfix hop does with BY= (it does
# not announce DELIVERBY and refuses the parameter).
#
# usage: test_muled_deliverby.sh BUILDDIR   Exit 0 pass, 1 fail, 77 skip.
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$src/tests/integ/muled_lib.sh"
source "$src/tests/integ/mta_lib.sh"
[ -x "$MTA_SENDMAIL/usr/libexec/sendmail/sendmail" ] ||
    ml_skip "no sendmail in $MTA_SENDMAIL (tools/install-deps.sh unpacks it from Debian's archive)"
ml_begin muled-by 2 "${1:-}" m4 unshare python3
ml_atexit mta_cleanup

nsnet_up "$prefix" 2 ""
ml_routes
ml_conf 1 "smtpd_listen=127.0.0.1:2525"
ml_conf 2 "deliver=smtp:127.0.0.1:2590"
ml_start 1
ml_start 2
ml_wait 10 ip netns exec "$prefix-n1" bash -c 'exec 3<>/dev/tcp/127.0.0.1/2525' 2>/dev/null ||
    { echo "FAIL: muled does not listen"; exit 1; }
sm1=$work/sendmail-n1
sm2=$work/sendmail-n2
mta_sendmail "$prefix-n1" "$sm1" 25 mule.test=2525 hold ||
    { echo "FAIL: sendmail on n1 did not start"; exit 1; }

t0=$(date +%s)
ip netns exec "$prefix-n1" python3 - <<'PY'
import smtplib
s = smtplib.SMTP("127.0.0.1", 25, timeout=30)
s.ehlo("client.test")
assert s.has_extn("deliverby"), "sendmail does not announce DELIVERBY"
msg = ("From: alice@hq.mule.test\r\nTo: bob@n2.mule.test\r\nSubject: deliver by\r\n"
       "Message-ID: <by.1@hq.mule.test>\r\n\r\nwithin the hour\r\n")
s.sendmail("alice@hq.mule.test", ["bob@n2.mule.test"], msg, mail_options=["BY=3600;R"])
s.quit()
PY
ok=1
# by_ok SECONDS MAX: the time left after some seconds of hops.
by_ok() { [ -n "$1" ] && [ "$1" -le "$2" ] && [ "$1" -gt 3500 ]; }
# deadline_ok EPOCH: the client's deadline, give or take the seconds that
# each hop rounds to.
deadline_ok() { [ -n "$1" ] && [ $(($1 - t0)) -ge 3590 ] && [ $(($1 - t0)) -le 3610 ]; }
queued() { ls "$1"/queue/qf* >/dev/null 2>&1; }

# Hop 1: sendmail n1 -> muled n1, 3 s after the client.
ml_wait 10 queued "$sm1" || { echo "FAIL: sendmail on n1 did not queue the mail"; exit 1; }
sleep 3
mta_sendmail_run "$prefix-n1" "$sm1" >>"$sm1/start.log" 2>&1 || true
mail=$(grep -a -i -m1 '>>> MAIL From:' "$sm1/traffic.log" 2>/dev/null || true)
echo "  sendmail n1 -> muled:${mail#*>>>}"
by=$(sed -n 's/.* BY=\([0-9]*\);R.*/\1/p' <<<"$mail")
by_ok "$by" 3597 || { echo "FAIL: want BY=<3501..3597>;R to muled, got '${by:-none}'"; ok=0; }
relayed() { grep -q 'mule-relay-done id=- ' "$work/n1/log"; }
ml_wait 10 relayed || true
exp=$(grep -o 'mule-relay-done id=- .*expiry=[0-9]*' "$work/n1/log" | sed 's/.*expiry=//' | head -1 || true)
echo "  n1 P_MUL Expiry_Time: ${exp:-none} (submitted at $t0, want +3600)"
deadline_ok "$exp" || { echo "FAIL: the P_MUL expiry is not the DELIVERBY deadline"; ok=0; }

# n2: no MTA yet; muled defers, then its retry finds sendmail.
deferred() { grep -q 'to=<bob@n2.mule.test>.*status=deferred' "$work/n2/log"; }
ml_wait 30 deferred || { echo "FAIL: muled n2 did not try its MTA"; ok=0; }
sleep 2
mta_sendmail "$prefix-n2" "$sm2" 2590 n2.mule.test=mbox hold ||
    { echo "FAIL: sendmail on n2 did not start"; exit 1; }
ml_wait 60 queued "$sm2" || { echo "FAIL: sendmail on n2 got nothing"; ok=0; }

# Hop 2: muled n2 -> sendmail n2.  Its queue file holds the envelope:
# "T<arrival>" and "!<flags> <seconds>", flags 0x02 for ;R (sendmail's
# DLVR_RETURN); the wire's MAIL command is in its traffic log.
mail=$(grep -a -i -m1 '<<< MAIL From:' "$sm2/traffic.log" 2>/dev/null || true)
echo "  muled n2 -> sendmail:${mail#*<<<}"
qf=$(ls "$sm2"/queue/qf* 2>/dev/null | head -1 || true)
qline=$(grep -a -m1 '^!' "$qf" 2>/dev/null || true)
qflag=$(printf '%s' "${qline:1:1}" | od -An -tx1 | tr -d ' ')
qby=$(sed -n 's/^!. \([0-9]*\)$/\1/p' <<<"$qline")
qt=$(sed -n 's/^T\([0-9]*\)$/\1/p' "$qf" 2>/dev/null || true)
echo "  sendmail n2 queue file: deliver-by flags=0x${qflag:-none} seconds=${qby:-none} arrival=${qt:-none}"
by_ok "$qby" $((${by:-3600} - 1)) && [ "$qflag" = 02 ] ||
    { echo "FAIL: want the R flag and <3501..$((${by:-3600} - 1))> s in sendmail n2's envelope"; ok=0; }
deadline_ok $((${qt:-0} + ${qby:-0})) || { echo "FAIL: sendmail n2's deadline is not the client's"; ok=0; }

# Delivery: one queue run, then the mbox.
mta_sendmail_run "$prefix-n2" "$sm2" >>"$sm2/start.log" 2>&1 || true
python3 - "$sm2/mail/bob" "$prefix" <<'PY' || { echo "FAIL: the delivered mail"; ok=0; }
import mailbox, re, sys
box, prefix = sys.argv[1], sys.argv[2]
msgs = list(mailbox.mbox(box, create=False))
assert len(msgs) == 1, f"got {len(msgs)} mails in {box}, want 1"
hops = [re.search(r"\bby (\S+)", " ".join(r.split())).group(1) for r in msgs[0].get_all("Received")]
print("  delivered; Received by (newest first):", " ".join(hops))
want = [f"mta.{prefix}-n2.mule.test", "n2.mule.test", "n1.mule.test", f"mta.{prefix}-n1.mule.test"]
assert hops == want, f"want {want}"
PY
if command -v postfix >/dev/null; then
    mta_postfix "$prefix-n1" "$work/postfix" 2626
    ml_wait 10 ip netns exec "$prefix-n1" bash -c 'exec 3<>/dev/tcp/127.0.0.1/2626' 2>/dev/null
    ip netns exec "$prefix-n1" python3 - <<'PY' || { echo "FAIL: Postfix took BY="; ok=0; }
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", 2626, timeout=30)
s.ehlo("client.test")
print("  postfix announces DELIVERBY:", s.has_extn("deliverby"))
try:
    s.sendmail("a@hq.mule.test", ["b@x.test"], "Subject: by\r\n\r\nx\r\n",
               mail_options=["BY=3600;R"])
except smtplib.SMTPSenderRefused as e:
    print("  postfix on MAIL FROM:<..> BY=3600;R:", e.smtp_code, e.smtp_error.decode())
    sys.exit(0)
sys.exit(1)
PY
fi
[ $ok = 1 ] && { echo PASS; exit 0; }
for i in 1 2; do echo "-- n$i"; tail -10 "$work/n$i/log"; done
exit 1
