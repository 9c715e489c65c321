#!/usr/bin/env bash
# test_muled_smtpd_gc.sh: group commit of SMTP ingress (issue 10): N
# parallel sessions all get 250, share batches, and every acknowledged
# mail survives a kill -9 sent right after the last 250.
#
# n1 runs muled with smtpd_listen on loopback; every mail is for
# hq.mule.test, which routes to n1 itself (local Maildir delivery), so a
# mail is either still in the spool or already in the Maildir.  A Python
# client opens SESSIONS sessions at once, each sending MAILS mails with
# unique Message-IDs; the moment the last 250 arrives it sends SIGKILL to
# muled itself.  Checks: every mail got 250; muled's log shows batches of
# more than one mail (one sync and one q/ fsync shared); every acknowledged
# Message-ID has its "accepted" audit record, written before the 250 (the
# batch's records are made durable by the same sync as its q/ entries; a
# kill -9 cannot show the sync, the unit tests and docs/spool.md argue it);
# after a restart every acknowledged Message-ID is in the Maildir exactly
# once (nothing lost, nothing twice); no spool file is corrupt.  An entry
# planted in tmp/ before the restart (a mail whose rename did not survive)
# is purged and audited "withdrawn" (rule 2 of the audit contract), and no
# acknowledged mail is.
#
# usage: test_muled_smtpd_gc.sh BUILDDIR [SESSIONS [MAILS]]
#   defaults 20 sessions x 5 mails.  Exit 0 pass, 1 fail, 77 skip.
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
sessions=${2:-20}
mails=${3:-5}
source "$src/tests/integ/muled_lib.sh"
ml_begin muled-gc 1 "${1:-}"

nsnet_up "$prefix" 1 ""
ml_routes
ml_conf 1 "smtpd_listen=127.0.0.1:2525" "smtpd_max_clients=200" "smtpd_max_per_client=200"
ml_start 1
ml_wait 10 ip netns exec "$prefix-n1" bash -c 'exec 3<>/dev/tcp/127.0.0.1/2525' 2>/dev/null ||
    { echo "FAIL: muled does not listen"; exit 1; }
# The pid of muled itself (ml_start's $! is ip netns exec, which execs it).
pid=${ml_pid[1]}

cat > "$work/client.py" <<'PY'
import os, signal, smtplib, sys, threading
sessions, mails, pid, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
go = threading.Barrier(sessions)
lock = threading.Lock()
acked, failed = [], []
left = [sessions * mails]

def session(k):
    s = smtplib.SMTP("127.0.0.1", 2525, timeout=60)
    s.ehlo("client%d.test" % k)
    go.wait()
    for j in range(mails):
        mid = "<gc.%d.%d.%d@hq.mule.test>" % (os.getpid(), k, j)
        msg = ("From: a@hq.mule.test\r\nTo: b@hq.mule.test\r\nSubject: gc %d %d\r\n"
               "Message-ID: %s\r\n\r\n" % (k, j, mid)) + ("x" * 70 + "\r\n") * 50
        try:
            s.sendmail("a@hq.mule.test", ["b@hq.mule.test"], msg)
            ok = True
        except smtplib.SMTPException as e:
            ok = False
            err = str(e)
        with lock:
            (acked if ok else failed).append(mid if ok else "%s %s" % (mid, err))
            left[0] -= 1
            if left[0] == 0:
                # The last reply is in: kill muled now, before it does anything more.
                os.kill(pid, signal.SIGKILL)
    # No QUIT: muled is gone (or about to be).

threads = [threading.Thread(target=session, args=(k,)) for k in range(sessions)]
for t in threads: t.start()
for t in threads: t.join()
with open(out, "w") as f:
    f.write("\n".join(acked) + "\n")
print("acked=%d failed=%d" % (len(acked), len(failed)))
for x in failed[:5]: print("  refused:", x)
sys.exit(0 if not failed else 1)
PY
ok=1
ip netns exec "$prefix-n1" python3 "$work/client.py" "$sessions" "$mails" "$pid" "$work/acked" ||
    { echo "FAIL: not every mail got 250"; ok=0; }
wait "$pid" 2>/dev/null || true
ml_pid[1]=
kill -0 "$pid" 2>/dev/null && { echo "FAIL: muled survived SIGKILL?"; ok=0; }
batches=$(grep -o 'spool event=queued batch=[0-9]*' "$work/n1/log" | sed 's/.*=//' | sort -n |
          uniq -c | awk '{ printf "%s%dx%d", (NR > 1 ? " " : ""), $1 / $2, $2 }')
maxb=$(grep -o 'spool event=queued batch=[0-9]*' "$work/n1/log" | sed 's/.*=//' | sort -n | tail -1)
echo "  batches (how many x files each): $batches"
[ "${maxb:-0}" -gt 1 ] || { echo "FAIL: no batch held more than one mail"; ok=0; }

noaudit=0
grep -h "outcome=accepted" "$work/n1/spool/audit/"*.log > "$work/accepted" 2>/dev/null || true
while read -r mid; do
    [ -n "$mid" ] || continue
    m=${mid#<}
    grep -qF "${m%>}" "$work/accepted" || noaudit=$((noaudit + 1))
done < "$work/acked"
echo "  acknowledged without an accepted audit record: $noaudit"
[ "$noaudit" = 0 ] || { echo "FAIL: a 250 came before its audit record"; ok=0; }

# A mail synced into tmp/ whose rename a crash lost: recovery purges it
# and withdraws the "accepted" record it may have.
left=0WITHDRAWN01
printf 'x' > "$work/n1/spool/tmp/$left"

# Restart: recovery loads what was acknowledged; the Maildir gets it all.
ml_start 1
want=$(grep -c . "$work/acked" || true)
delivered() { [ "$(ml_count "$work/n1/spool/maildir")" -ge "$want" ]; }
ml_wait 60 delivered || echo "  (not all delivered after 60 s)"
sleep 1
grep -o 'started node=.*corrupt' "$work/n1/log" | tail -1 | sed 's/^/  /'
grep -q ', [1-9][0-9]* corrupt' "$work/n1/log" && { echo "FAIL: corrupt spool files"; ok=0; }
lost=0 dup=0
while read -r mid; do
    [ -n "$mid" ] || continue
    c=$(grep -rlF "Message-ID: $mid" "$work/n1/spool/maildir" 2>/dev/null | wc -l)
    [ "$c" = 0 ] && lost=$((lost + 1))
    [ "$c" -gt 1 ] && dup=$((dup + 1))
done < "$work/acked"
[ -e "$work/n1/spool/tmp/$left" ] && { echo "FAIL: tmp/$left not purged"; ok=0; }
grep -h "outcome=withdrawn" "$work/n1/spool/audit/"*.log > "$work/withdrawn" 2>/dev/null || true
grep "id=$left " "$work/withdrawn" | grep -qF 'status="recovery: not in q/ at restart"' ||
    { echo "FAIL: no withdrawn audit record for tmp/$left"; ok=0; }
nwd=$(grep -c . "$work/withdrawn" || true)
echo "  withdrawn audit records: $nwd (want 1: tmp/$left)"
[ "$nwd" = 1 ] || { echo "FAIL: acknowledged mails withdrawn"; ok=0; }
echo "smtpd-gc: sessions=$sessions mails=$((sessions * mails)) acked=$want lost=$lost duplicated=$dup max_batch=${maxb:-0}"
[ "$lost" = 0 ] && [ "$dup" = 0 ] || ok=0
[ $ok = 1 ] && { echo PASS; exit 0; }
tail -20 "$work/n1/log"
exit 1
