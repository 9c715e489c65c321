#!/usr/bin/env bash
# test_muled_relay.sh: multi-hop relay and a DSN that travels back
# (RFC 8494 section 3), between real muled daemons in network namespaces.
#
# Each node has its own routing table: n1 (hq) reaches far.mule.test and
# lost.mule.test only through n2; n2 forwards far.mule.test to n3 and has
# no route for lost.mule.test.  One mail from hq to bob@far and to
# x@lost: n2 relays bob's copy to n3 over P_MUL again (n3 gets it once,
# with three Received fields: pickup on n1, MULE on n2, MULE on n3), and,
# being the only addressee, reports x@lost as failed (5.4.4) with a DSN
# routed back to n1, which delivers it to the originator's Maildir.
#
# usage: test_muled_relay.sh BUILDDIR      Exit 0 pass, 1 fail, 77 skip.
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$src/tests/integ/muled_lib.sh"
ml_begin muled-relay 3 "${1:-}"

nsnet_up "$prefix" 3 64kbit
cat > "$work/routes-n1.conf" <<'R'
route hq.mule.test    group 239.1.1.2 nodes 198.18.0.1
route far.mule.test   group 239.1.1.2 nodes 198.18.0.2
route lost.mule.test  group 239.1.1.2 nodes 198.18.0.2
R
cat > "$work/routes-n2.conf" <<'R'
route hq.mule.test    group 239.1.1.2 nodes 198.18.0.1
route far.mule.test   group 239.1.1.2 nodes 198.18.0.3
R
cat > "$work/routes-n3.conf" <<'R'
route hq.mule.test    group 239.1.1.2 nodes 198.18.0.2
route far.mule.test   group 239.1.1.2 nodes 198.18.0.3
R
for i in 1 2 3; do ml_conf "$i"; ml_start "$i"; done
sleep 0.5
printf 'From: alice@hq.mule.test\r\nTo: bob@far.mule.test, x@lost.mule.test\r\nSubject: two hops\r\nMessage-ID: <r1.%d@hq.mule.test>\r\n\r\nrelay me\r\n' $$ \
    > "$work/m1.eml"
ml_submit 1 alice@hq.mule.test bob@far.mule.test x@lost.mule.test < "$work/m1.eml"
far() { [ "$(ml_count "$work/n3/spool/maildir")" -ge 1 ]; }
dsn() { [ "$(ml_count "$work/n1/spool/maildir")" -ge 1 ]; }
drained() { for i in 1 2 3; do [ -z "$(ls -A "$work/n$i/spool/q")" ] || return 1; done; }
ok=1
ml_wait 60 far || { echo "FAIL: bob@far never reached n3"; ok=0; }
ml_wait 60 dsn || { echo "FAIL: no DSN reached hq"; ok=0; }
ml_wait 60 drained || { echo "FAIL: spools did not drain"; ok=0; }
sleep 1
n3=$(ml_count "$work/n3/spool/maildir")
n2=$(ml_count "$work/n2/spool/maildir")
echo "n3 (far): $n3 message(s); n2 (relay): $n2 delivered locally"
[ "$n3" = 1 ] && [ "$n2" = 0 ] || ok=0
f=$(find "$work/n3/spool/maildir" -path '*/new/*' -type f | sed -n 1p)
if [ -n "$f" ]; then
    tr -d '\r' < "$f" | grep -E '^Received|^[[:space:]]+by' | sed 's/^/  /'
    hops=$(grep -c '^Received:' "$f")
    [ "$hops" = 3 ] || { echo "FAIL: $hops Received fields, want 3"; ok=0; }
fi
python3 "$src/tests/integ/check_muled_mail.py" "$work" "$work/n3/spool/maildir" \
    /nonexistent /nonexistent "$work/n1/spool/maildir" 1 || ok=0
grep -h "relay=1\|queued pmul" "$work/n2/log" | cut -c1-160 | sed 's/^/  n2 /'
[ $ok = 1 ] && { echo PASS; exit 0; }
for i in 1 2 3; do echo "-- n$i"; tail -12 "$work/n$i/log"; done
exit 1
