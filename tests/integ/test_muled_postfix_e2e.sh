#!/usr/bin/env bash
# test_muled_postfix_e2e.sh: Postfix -> muled -> P_MUL -> muled -> Postfix,
# and the DSN all the way back (issue 10, "End to end").
#
# n1: a real Postfix (the node's MTA) takes the mail on 127.0.0.1:2626 and
#     relays n2.mule.test to muled's SMTP listener; hq.mule.test (the
#     originator's domain) is its own virtual Maildir domain, and muled on
#     n1 hands received mail (the DSN) back to this Postfix over SMTP.
# n2: muled hands received mail to another real Postfix, which refuses
#     reject@n2.mule.test with 550 5.1.1.
# Checks: bob's copy arrives in n2's Postfix Maildir once, with the MULE
# Received fields; the DSN for reject@ (built by n2's muled from the
# envelope that crossed P_MUL: ENVID, ORCPT, NOTIFY and RET survived the
# trip) travels back over P_MUL, n1's muled hands it to Postfix, and it
# lands in alice's Maildir on n1 as a multipart/report with
# Original-Envelope-Id E2E-1, Original-Recipient and Status 5.1.1
# (Python's email package).
# MT-PRIORITY: stock Postfix has no MT-PRIORITY extension, so the mail's
# own "MT-Priority: 4" header field tunnels it (RFC 6758); muled on n1
# trusts its loopback Postfix and takes it: P_MUL priority 2 on the air
# (6 - 4), MT-PRIORITY 4 in n2's spool.  DELIVERBY cannot pass stock
# Postfix at all (test_muled_deliverby, docs/operations.md).
#
# usage: test_muled_postfix_e2e.sh BUILDDIR   Exit 0 pass, 1 fail, 77 skip.
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$src/tests/integ/muled_lib.sh"
ml_begin muled-pfe2e 2 "${1:-}" postfix
source "$src/tests/integ/mta_lib.sh"
ml_atexit mta_cleanup

nsnet_up "$prefix" 2 64kbit
nsnet_loss "$prefix" 2 10
ml_routes
ML_RATE=56000
# n1's Postfix: hq.mule.test is local (virtual Maildir), n2.mule.test goes
# to muled.
mta_postfix_common "$prefix-n1" "$work/n1/postfix" 2626 "relay_domains = n2.mule.test
virtual_mailbox_domains = hq.mule.test
transport_maps = inline:{ n2.mule.test=smtp:[127.0.0.1]:2525 }"
mta_postfix "$prefix-n2" "$work/n2/postfix" 2525 "reject@n2.mule.test"
ml_conf 1 "smtpd_listen=127.0.0.1:2525" "deliver=smtp:127.0.0.1:2626"
ml_conf 2 "deliver=smtp:127.0.0.1:2525"
ml_start 1
ml_start 2
ml_wait 10 ip netns exec "$prefix-n1" bash -c 'exec 3<>/dev/tcp/127.0.0.1/2525' 2>/dev/null
ip netns exec "$prefix-n1" python3 - <<'PY'
import smtplib
msg = (b"From: alice@hq.mule.test\r\nTo: bob@n2.mule.test, reject@n2.mule.test\r\n"
       b"Subject: through Postfix and MULE\r\nMessage-ID: <pfe2e@hq.mule.test>\r\n"
       b"MT-Priority: 4\r\n\r\n"
       b"end to end\r\n")
s = smtplib.SMTP("127.0.0.1", 2626, timeout=20)
s.ehlo()
s.mail("alice@hq.mule.test", ["RET=HDRS", "ENVID=E2E-1"])
for r in ("bob@n2.mule.test", "reject@n2.mule.test"):
    code, text = s.rcpt(r, ["NOTIFY=FAILURE", "ORCPT=rfc822;" + r])
    assert code == 250, (r, code, text)
code, text = s.data(msg)
assert code == 250, (code, text)
s.quit()
print("submitted to Postfix on n1")
PY
ok=1
bob() { [ "$(ml_count "$work/n2/postfix/Maildir")" -ge 1 ]; }
dsn() { [ "$(ml_count "$work/n1/postfix/Maildir")" -ge 1 ]; }
ml_wait 120 bob || { echo "FAIL: bob's copy never reached n2's Postfix"; ok=0; }
ml_wait 120 dsn || { echo "FAIL: no DSN reached alice on n1"; ok=0; }
sleep 2
n=$(ml_count "$work/n2/postfix/Maildir")
echo "n2 Postfix Maildir: $n message(s) (want 1)"
[ "$n" = 1 ] || ok=0
f=$(find "$work/n2/postfix/Maildir" -type f -path '*/new/*' | sed -n 1p)
[ -n "$f" ] && tr -d '\r' < "$f" | grep -E '^Received|^[[:space:]]+by' | sed -n 1,8p | sed 's/^/  /'
[ -n "$f" ] && { [ "$(grep -c 'with MULE' "$f")" -ge 2 ] ||
    { echo "FAIL: MULE Received fields missing"; ok=0; }; }
# The tunnelled priority: on the air from n1, and in n2's inbound queue entry.
grep -q 'transmitted msid=.* prio=2$' "$work/n1/log" ||
    { echo "FAIL: n1 did not transmit at P_MUL priority 2 (MT-Priority: 4)"; ok=0; }
grep -q 'from=<alice@hq.mule.test>.*prio=4,' "$work/n2/log" ||
    { echo "FAIL: n2 did not queue the mail with MT-PRIORITY 4"; ok=0; }
grep -hE 'transmitted msid=.* prio=|from=<alice@hq.mule.test>.*prio=' "$work"/n[12]/log |
    sed -n 1,3p | sed 's/^/  /'
python3 - "$work/n1/postfix/Maildir" <<'PY' || ok=0
import email, email.policy, os, sys
found = False
for root, _d, names in os.walk(sys.argv[1]):
    for n in names:
        m = email.message_from_bytes(open(os.path.join(root, n), "rb").read(),
                                     policy=email.policy.default)
        if m.get_content_type() != "multipart/report":
            continue
        ds = [p for p in m.walk() if p.get_content_type() == "message/delivery-status"][0]
        t = ds.as_string()
        print("  DSN at alice:", " | ".join(l for l in t.splitlines()
              if l.split(":")[0] in ("Original-Envelope-Id", "Final-Recipient",
                                     "Original-Recipient", "Action", "Status")))
        assert "E2E-1" in t and "5.1.1" in t and "failed" in t, t
        assert "Original-Recipient: rfc822;reject@n2.mule.test" in t, t
        found = True
if not found:
    sys.exit("FAIL: no multipart/report in alice's Maildir")
PY
[ $ok = 1 ] && { echo PASS; exit 0; }
for i in 1 2; do echo "-- n$i"; tail -15 "$work/n$i/log"; done
exit 1
