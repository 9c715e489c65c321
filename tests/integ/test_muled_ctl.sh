#!/usr/bin/env bash
# test_muled_ctl.sh: operating muled (issue 11): mulectl's commands against
# two running muled in network namespaces, the privilege drop and the
# confinement, the Prometheus text, the Postfix-like log lines and the
# audit log (verify online, and offline on tampered copies).
#
# n2 starts in EMCON, so n1's mails to it stay in n1's queue while mulectl
# looks at them: status, queue, show, hold/release, flush, delete (with a
# DSN back to the sender) and delete -n (without), then "emcon off" on n2
# lets the rest through; "peers" on n1 then lists n2 with its next MSN.
# reload with a broken file must keep the running configuration and name
# file:line; a user outside group mule is refused.
#
# usage: test_muled_ctl.sh BUILDDIR      Exit 0 pass, 1 fail, 77 skip.
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$src/tests/integ/muled_lib.sh"
ml_begin muled-ctl 2 "${1:-}" user:mule tools/mulectl
outside=$(mktemp -d /tmp/muled-outside.XXXXXX)
ml_atexit 'rm -rf "$outside"'

ok=1
fail() { echo "FAIL: $*"; ok=0; }
# Run mulectl, keep stdout and the exit status (set -e must not stop us).
ctl() { local i=$1; shift; set +e; out=$(ml_ctl "$i" "$@" 2>&1); rc=$?; set -e; }

nsnet_up "$prefix" 2 64kbit
ml_routes
ml_conf 1
ml_conf 2 "emcon=yes"
ml_start 1
ml_start 2
sleep 1

echo "-- privilege drop and confinement"
mule_uid=$(id -u mule)
for i in 1 2; do
    dropped() { grep -q "running as uid=" "$work/n$1/log"; }
    ml_wait 30 dropped "$i" || fail "n$i never said whom it runs as"
    st=/proc/${ml_pid[$i]}/status
    uids=$(awk '/^Uid:/ {print $2, $3, $4, $5}' "$st")
    [ "$uids" = "$mule_uid $mule_uid $mule_uid $mule_uid" ] || fail "n$i runs with Uid: $uids"
    grep -q '^NoNewPrivs:[[:space:]]*1' "$st" || fail "n$i: NoNewPrivs not set"
    grep -q '^CapEff:[[:space:]]*0*$' "$st" || fail "n$i keeps capabilities: $(grep CapEff "$st")"
    grep -q "running as uid=$mule_uid .*landlock.*(probe refused)" "$work/n$i/log" ||
        fail "n$i: no confinement line in its log"
done
owner=$(stat -c %U "$work/n1/spool/q")
[ "$owner" = mule ] || fail "n1 spool owned by $owner"

echo "-- mail queued for n2 (in EMCON) and for a local recipient"
for k in 1 2 3; do
    printf 'From: alice@hq.mule.test\r\nTo: bob@n2.mule.test\r\nSubject: ctl %d\r\nMessage-ID: <c%d.%d@hq.mule.test>\r\n\r\nbody %d\r\n' \
        $k $k $$ $k | ml_submit 1 alice@hq.mule.test bob@n2.mule.test
done
queued() { [ "$(ml_ctl 1 queue | grep -c 'inflight')" -ge 3 ]; }
ml_wait 30 queued || fail "n1 does not show 3 mails in flight"

ctl 1 status
echo "$out" | sed -n 1,12p | sed 's/^/  /'
[ $rc = 0 ] || fail "status exit $rc"
grep -q '^node: 198.18.0.1$' <<<"$out" || fail "status has no node line"
ctl 1 --json status
python3 - "$out" <<'EOF' || fail "status --json"
import json, sys
d = json.loads(sys.argv[1])
assert d["node"] == "198.18.0.1", d["node"]
assert d["emcon"]["on"] is False
assert d["queue"]["out"]["inflight"] >= 3, d["queue"]
assert "landlock" in d["confinement"]
EOF
ctl 2 emcon status
grep -q '^emcon: yes' <<<"$out" || fail "n2 emcon status: $out"

ctl 1 queue
echo "$out" | sed 's/^/  /'
ids=($(echo "$out" | awk '$2 == "out" {print $1}'))
[ ${#ids[@]} = 3 ] || fail "queue lists ${#ids[@]} mails, want 3"
ctl 1 --json queue
python3 - "$out" <<'EOF' || fail "queue --json"
import json, sys
q = json.loads(sys.argv[1])["queue"]
assert len(q) == 3, q
for e in q:
    assert e["sender"] == "<alice@hq.mule.test>", e
    assert e["to"][0]["node"] == "198.18.0.2" and e["to"][0]["state"] == "inflight", e
EOF

ctl 1 show "${ids[0]}"
grep -q '^  bob@n2.mule.test$' <<<"$out" || fail "show: no recipient line"
grep -q 'node=198.18.0.2 state=inflight' <<<"$out" || fail "show: no target line"
ctl 1 show NOSUCHID0000
[ $rc = 1 ] || fail "show of a missing ID exits $rc"

echo "-- hold, release, flush"
ctl 1 hold "${ids[1]}"
[ $rc = 0 ] || fail "hold: $out"
ml_ctl 1 queue | grep "^${ids[1]}" | grep -q ' held ' || fail "held mail not shown held"
ctl 1 hold "${ids[1]}"
[ $rc = 1 ] || fail "second hold exits $rc"
ctl 1 release "${ids[1]}"
[ $rc = 0 ] || fail "release: $out"
ctl 1 flush
[ $rc = 0 ] || fail "flush: $out"

echo "-- delete with a DSN, delete -n without"
ctl 1 delete "${ids[0]}"
echo "  $out"
[ $rc = 0 ] || fail "delete: $out"
ctl 1 delete -n "${ids[1]}"
echo "  $out"
[ $rc = 0 ] || fail "delete -n: $out"
ctl 1 queue
[ "$(echo "$out" | grep -c ' out ')" = 1 ] || fail "after two deletes: $out"
dsn_in() { [ "$(ml_count "$work/n1/spool/maildir/alice@hq.mule.test")" -ge 1 ]; }
ml_wait 20 dsn_in || fail "no DSN for the deleted mail in alice's Maildir"
dsn=$(find "$work/n1/spool/maildir/alice@hq.mule.test" -type f | head -1)
grep -q '^Status: 5.3.0' "$dsn" || fail "DSN has no Status: 5.3.0"
grep -q '^Action: failed' "$dsn" || fail "DSN has no Action: failed"
[ "$(ml_count "$work/n1/spool/maildir/alice@hq.mule.test")" = 1 ] || fail "delete -n sent a DSN"

echo "-- reload: a broken file keeps the running configuration"
cp "$work/n1/muled.conf" "$work/n1/muled.conf.good"
echo "mcast_ttl = many" >> "$work/n1/muled.conf"
ctl 1 reload
echo "  $out"
[ $rc = 1 ] || fail "reload of a bad file exits $rc"
grep -q "refused.*muled.conf:[0-9][0-9]*: mcast_ttl" <<<"$out" || fail "reload did not name file:line"
cp "$work/n1/muled.conf.good" "$work/n1/muled.conf"
echo "log_level = debug" >> "$work/n1/muled.conf"
echo "pdu_size = 2000" >> "$work/n1/muled.conf"
ctl 1 reload
echo "  $out"
[ $rc = 0 ] || fail "reload of a good file: $out"
grep -q "kept: pdu_size" <<<"$out" || fail "reload did not say pdu_size needs a restart"
kill -0 "${ml_pid[1]}" || fail "n1 died on reload"

echo "-- confinement holds after reload: a Maildir outside the allowed tree"
chmod 777 "$outside"
cp "$work/n1/muled.conf.good" "$work/n1/muled.conf"
echo "maildir = $outside" >> "$work/n1/muled.conf"
ctl 1 reload
[ $rc = 0 ] || fail "reload to the outside maildir: $out"
printf 'Subject: local\r\n\r\nlocal\r\n' | ml_submit 1 alice@hq.mule.test carol@hq.mule.test
deferred() { grep -q 'to=<carol@hq.mule.test>, relay=maildir, delay=[0-9.]*, status=deferred' \
             "$work/n1/log"; }
ml_wait 20 deferred || fail "the write outside the spool was not refused"
[ -z "$(find "$outside" -type f)" ] || fail "muled wrote outside its directories"
cp "$work/n1/muled.conf.good" "$work/n1/muled.conf"
ctl 1 reload
ctl 1 flush
delivered() { [ "$(ml_count "$work/n1/spool/maildir/carol@hq.mule.test")" = 1 ]; }
ml_wait 20 delivered || fail "the deferred local mail was not delivered after flush"

echo "-- who may ask"
# mulectl as user nobody with group GROUP.
ctl_as() {
    set +e
    out=$(setpriv --reuid=nobody --regid="$1" --clear-groups "$bld/tools/mulectl" \
          -s "$work/n1/run/muled.sock" emcon status 2>&1)
    rc=$?
    set -e
}
chmod 755 "$work/n1/run"
ctl_as nogroup
echo "  nobody, socket 0660: rc=$rc $out"
[ $rc = 77 ] || fail "nobody got rc $rc"
chmod 666 "$work/n1/run/muled.sock"
ctl_as nogroup
echo "  nobody, socket opened up: rc=$rc $out"
[ $rc = 77 ] && grep -q "not allowed" <<<"$out" || fail "muled did not refuse nobody"
ctl_as mule
[ $rc = 0 ] || fail "a member of group mule was refused: $out"
chmod 660 "$work/n1/run/muled.sock"
chmod 750 "$work/n1/run"
printf '\x00\x00\x00\x05\x01Q\x00\x01\x00' |
    timeout 5 python3 -c "
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(sys.stdin.buffer.read()); s.shutdown(socket.SHUT_WR); print(len(s.recv(100)))" \
    "$work/n1/run/muled.sock" >/dev/null || true
kill -0 "${ml_pid[1]}" || fail "n1 died on a malformed request"

echo "-- EMCON off on n2: the rest drains"
ctl 2 emcon off
[ $rc = 0 ] || fail "emcon off: $out"
drained() { [ -z "$(ls -A "$work/n1/spool/q")" ]; }
ml_wait 60 drained || fail "n1's queue did not drain"
# n2 received all three while silent (EMCON stops only its Acks): a delete
# at the sender cannot recall them, and each arrives exactly once.
n=$(ml_count "$work/n2/spool/maildir")
[ "$n" = 3 ] || fail "n2 holds $n mails, want 3"

echo "-- peers: what n1's engine knows of n2"
ctl 1 peers
echo "$out" | sed 's/^/  /'
[ $rc = 0 ] || fail "peers exit $rc"
line=$(grep ' node=198.18.0.2 ' <<<"$out" || true)
msn=$(sed -n 's/.* next_msn=\([0-9]*\) .*/\1/p' <<<"$line")
[ -n "$msn" ] && [ "$msn" -gt 1 ] || fail "peers: n2 not listed with next_msn > 1"
grep -Eq '^  - node=198\.18\.0\.2 next_msn=[0-9]+ emcon=no no_fec=no loss_pct=[0-9]+\.[0-9] loss_samples=[0-9]+ fec=(unknown|reads|blind|nodec) plain_for=[0-9]+ decodes=(yes|no) joint_decodes=(yes|no) nojoint_for=[0-9]+$' \
    <<<"$line" || fail "peers line not as documented: $line"
ctl 1 --json peers
python3 - "$out" <<'EOF' || fail "peers --json"
import json, sys
p = json.loads(sys.argv[1])["peers"]
n2 = [x for x in p if x["node"] == "198.18.0.2"]
assert len(n2) == 1 and n2[0]["next_msn"] > 1, p
assert n2[0]["emcon"] is False and n2[0]["no_fec"] is False, n2
assert isinstance(n2[0]["loss_pct"], (int, float)) and n2[0]["fec"] in ("unknown", "reads", "blind", "nodec"), n2
assert isinstance(n2[0]["joint_decodes"], bool) and n2[0]["nojoint_for"] == 0, n2
EOF

echo "-- Postfix-like log lines"
grep -E ': to=<bob@n2.mule.test>, relay=pmul:198.18.0.2, delay=[0-9.]+, status=sent \(acknowledged' \
    "$work/n1/log" | sed -n 1p | sed 's/^/  /' | grep -q . || fail "no Postfix-like sent line on n1"
grep -E ': to=<bob@n2.mule.test>, relay=maildir, delay=[0-9.]+, status=sent' "$work/n2/log" |
    grep -q . || fail "no Postfix-like sent line on n2"
grep -E ': from=<alice@hq.mule.test>, size=[0-9]+, nrcpt=1 \(queue active' "$work/n1/log" |
    grep -q . || fail "no from= line on n1"

echo "-- stats --prometheus"
ctl 1 stats --prometheus
[ $rc = 0 ] || fail "stats: $out"
python3 - "$out" <<'EOF' || fail "Prometheus text"
import re, sys
text = sys.argv[1]
typed, seen = set(), {}
for line in text.splitlines():
    if line.startswith("# TYPE "):
        typed.add(line.split()[2]); continue
    if line.startswith("#"):
        continue
    m = re.fullmatch(r'([a-z_]+)(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? ([0-9.e+-]+)', line)
    assert m, "bad line: " + line
    assert m.group(1) in typed, "no TYPE for " + m.group(1)
    seen[m.group(1) + (m.group(2) or "")] = float(m.group(4))
assert seen['mule_pmul_pdus_sent_total{type="Data_PDU"}'] >= 3, seen
assert seen['mule_submitted_total{source="pickup"}'] == 4, seen
assert seen['mule_dsn_queued_total'] == 1, seen
assert seen['mule_control_denied_total'] >= 1, seen
for m in ('repair_pdus_sent', 'recovered_pdus', 'unused_pdus', 'rejected', 'plain_fallbacks',
          'peers_learned', 'joint_rounds', 'joint_members', 'joint_repair_pdus',
          'joint_recovered_pdus', 'joint_unusable', 'keep_evicted'):
    assert 'mule_pmul_fec_%s_total' % m in typed, m
assert seen['mule_pmul_fec_peers_learned_total{kind="nodec"}'] == 0, seen
assert seen['mule_pmul_fec_peers_learned_total{kind="nojoint"}'] == 0, seen
print("  %d samples, %d metrics" % (len(seen), len(typed)))
EOF

echo "-- audit log"
ctl 1 audit verify
echo "$out" | sed 's/^/  /'
[ $rc = 0 ] || fail "audit verify on n1: $out"
grep -q "outcome=accepted" "$work/n1/spool/audit/"*.log || fail "no accepted record"
grep -q "event=deleted" "$work/n1/spool/audit/"*.log || fail "no deleted record"
grep -q "outcome=acked" "$work/n1/spool/audit/"*.log || fail "no acked record"
cp -r "$work/n1/spool/audit" "$work/audit-copy"
f=$(ls "$work/audit-copy"/*.log | tail -1)
sed -i '3s/outcome=/outcome=X/' "$f"
set +e
out=$("$bld/tools/mulectl" audit verify -d "$work/audit-copy" -k "$work/n1/spool/audit.key" 2>&1)
rc=$?
set -e
echo "$out" | sed 's/^/  tampered: /'
[ $rc = 1 ] && grep -q "bad_line: 3" <<<"$out" || fail "offline verify missed the edit"

echo "-- the audit log survives kill -9"
ml_stop 2 KILL
ml_start 2
up2() { [ "$(grep -c 'running as uid=' "$work/n2/log")" -ge 2 ]; }
ml_wait 30 up2 || fail "n2 did not come back"
ctl 2 audit verify
echo "$out" | sed 's/^/  n2 after kill -9: /'
[ $rc = 0 ] || fail "n2's audit log does not verify after kill -9"
grep -q "event=started" "$work/n2/spool/audit/"*.log || fail "no started record on n2"

echo "-- muled stopped: mulectl says so"
ml_stop 1
ctl 1 status
[ $rc = 69 ] || fail "mulectl with muled stopped exits $rc"
[ ! -e "$work/n1/run/muled.sock" ] || fail "the control socket was left behind"

[ $ok = 1 ] && { echo PASS; exit 0; }
for i in 1 2; do echo "-- n$i"; tail -20 "$work/n$i/log"; done
exit 1
