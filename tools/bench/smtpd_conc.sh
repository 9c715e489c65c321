#!/usr/bin/env bash
# smtpd_conc.sh: muled's SMTP listener under many connections (issue 10,
# "concurrency"): 1,000 idle connections (greeted, EHLO sent, then silent)
# and 100 slow clients (each trickling its message one line every 2 s)
# while one normal client sends mails one after another; prints the normal
# client's per-mail latency (connect .. 250 after DATA) with and without
# that load, muled's RSS, and whether every connection was served.
#
# usage: bash tools/bench/smtpd_conc.sh [BUILDDIR [IDLE [SLOW [MAILS]]]]
#   defaults: build/plain, 1000, 100, 50.  Needs root (network namespace).
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
bld=$(realpath "${1:-$src/build/plain}")
idle=${2:-1000}
slow=${3:-100}
mails=${4:-50}
source "$src/netsim/nsnet.sh"
source "$src/tests/integ/muled_lib.sh"
prefix=mk$$
work=$(mktemp -d /tmp/muled-conc.XXXXXX)
chmod 755 "$work"
trap 'ml_cleanup 1; rm -rf "$work"' EXIT
nsnet_up "$prefix" 1 ""
cat > "$work/routes.conf" <<'R'
route all.mule.test group 239.1.1.2 nodes 198.18.0.9
R
total=$((idle + slow + 20))
ml_conf 1 "smtpd_listen=127.0.0.1:2525" "log_level=warn" "smtpd_max_clients=$total" \
    "smtpd_max_per_client=$total" "smtpd_timeout=10m"
ulimit -n $((total * 2 + 256))
ml_start 1
ml_wait 10 ip netns exec "$prefix-n1" bash -c 'exec 3<>/dev/tcp/127.0.0.1/2525' 2>/dev/null
cat > "$work/load.py" <<'PY'
import socket, statistics, sys, threading, time
idle, slow, mails = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
ADDR = ("127.0.0.1", 2525)

def reply(f):
    while True:
        l = f.readline().decode()
        if not l or l[3:4] != "-":
            return l

def normal(tag):
    lat = []
    for i in range(mails):
        t0 = time.perf_counter()
        s = socket.create_connection(ADDR, timeout=30)
        f = s.makefile("rb")
        reply(f)
        for c in ("EHLO normal", "MAIL FROM:<n@hq.mule.test>", "RCPT TO:<x@all.mule.test>",
                  "DATA"):
            s.sendall((c + "\r\n").encode()); reply(f)
        s.sendall(("Subject: %s %d\r\n\r\nbody\r\n.\r\n" % (tag, i)).encode())
        r = reply(f)
        lat.append((time.perf_counter() - t0) * 1000)
        assert r.startswith("250"), r
        s.sendall(b"QUIT\r\n"); reply(f); s.close()
    lat.sort()
    return lat

def held(n, trickle, out):
    socks = []
    for i in range(n):
        s = socket.create_connection(ADDR, timeout=60)
        f = s.makefile("rb")
        g = reply(f)
        if not g.startswith("220"):
            out.append("refused: " + g.strip()); s.close(); continue
        s.sendall(b"EHLO held\r\n"); reply(f)
        if trickle:
            for c in ("MAIL FROM:<s@hq.mule.test>", "RCPT TO:<y@all.mule.test>", "DATA"):
                s.sendall((c + "\r\n").encode()); reply(f)
        socks.append((s, f))
    out.append(len(socks))
    return socks

def show(tag, lat):
    print("%-28s median %6.1f ms  p95 %6.1f ms  max %6.1f ms  (%d mails)" % (
        tag, statistics.median(lat), lat[int(len(lat) * 0.95) - 1], lat[-1], len(lat)))

show("no load", normal("base"))
res_i, res_s = [], []
t0 = time.time()
idle_socks = held(idle, False, res_i)
slow_socks = held(slow, True, res_s)
print("connections held: %s idle, %s slow (set up in %.1f s)" % (res_i[-1], res_s[-1],
                                                                  time.time() - t0))
stop = False
def trickler():
    n = 0
    while not stop:
        for s, _ in slow_socks:
            s.sendall(b"trickle line %d\r\n" % n)
        n += 1
        time.sleep(2)
th = threading.Thread(target=trickler); th.start()
show("%d idle + %d slow" % (idle, slow), normal("load"))
stop = True; th.join()
done = 0
for s, f in slow_socks:
    s.sendall(b".\r\n")
    if reply(f).startswith("250"):
        done += 1
print("slow clients finished with 250: %d of %d" % (done, len(slow_socks)))
for s, _ in idle_socks:
    s.close()
PY
ip netns exec "$prefix-n1" python3 "$work/load.py" "$idle" "$slow" "$mails" | tee "$work/out.txt" &
lp=$!
peak=0
while kill -0 $lp 2>/dev/null; do
    r=$(awk '/^VmRSS/ {print $2}' "/proc/${ml_pid[1]}/status" 2>/dev/null || echo 0)
    [ "${r:-0}" -gt "$peak" ] && peak=$r
    sleep 0.5
done
wait $lp
echo "muled peak RSS: $((peak / 1024)) MiB"
