#!/usr/bin/env bash
# muled_e2e.sh: end-to-end benchmark of muled in network namespaces
# (issue 9, "Measured"): MAILS text mails submitted on n1, each to one
# recipient domain routed to n2..n5 at once (one P_MUL message per mail to
# four nodes), tbf RATE on every node, LOSS % random UDP loss at each
# receiver's input (Acks from the receivers are not lost; the sender's
# input is not lossy).  Prints the time from the first submission to the
# last Ack (every spool empty) against the physical limit
# (uncompressed octets / rate / (1 - loss)) and the compressed limit.
#
# usage: bash tools/bench/muled_e2e.sh [BUILDDIR [MAILS [RATE_BPS [LOSS]]]]
#   defaults: build/plain, 100, 9600, 10.  Needs root; takes minutes.
#   MULED_E2E_CONF="key=value ..." adds muled.conf lines on every node
#   (pmul_fec_joint=no, for instance).  The last line gives n1's joint
#   repair counters (docs/wire.md 10.8).
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
bld=$(realpath "${1:-$src/build/plain}")
mails=${2:-100}
rate=${3:-9600}
loss=${4:-10}
source "$src/netsim/nsnet.sh"
source "$src/tests/integ/muled_lib.sh"
prefix=mb$$
work=$(mktemp -d /tmp/muled-bench.XXXXXX)
chmod 755 "$work"
trap 'ml_cleanup 5; rm -rf "$work"' EXIT

nsnet_up "$prefix" 5 "${rate}bit"
for i in 2 3 4 5; do nsnet_loss "$prefix" "$i" "$loss"; done
cat > "$work/routes.conf" <<'R'
route hq.mule.test    group 239.1.1.2 nodes 198.18.0.1
route all.mule.test   group 239.1.1.2 nodes 198.18.0.2,198.18.0.3,198.18.0.4,198.18.0.5
R
# 97.5 % of the tbf frame rate, as rm-bench.sh gives every protocol.
ML_RATE=$(( rate * 9237 / 9600 ))
read -r -a extra <<< "${MULED_E2E_CONF:-}"
for i in 1 2 3 4 5; do ml_conf "$i" "${extra[@]}"; ml_start "$i"; done
sleep 1.5
# Mail text: paragraphs of the project's own documentation (English prose,
# compresses like staff mail), about 3 KB per mail, all different.
python3 - "$work" "$mails" "$src" <<'PY'
import glob, os, sys
work, n, src = sys.argv[1], int(sys.argv[2]), sys.argv[3]
text = []
for p in sorted(glob.glob(os.path.join(src, "docs", "*.md"))):
    text += [l.rstrip() for l in open(p, encoding="utf-8") if l.strip() and not l.startswith(("|", "```"))]
for k in range(n):
    body, i = [], (k * 37) % len(text)
    while sum(len(l) + 2 for l in body) < 2800:
        body.append(text[i % len(text)][:900]); i += 1
    hdr = ("From: Ops <ops@hq.mule.test>\r\nTo: all@all.mule.test\r\n"
           "Subject: report %d\r\nMessage-ID: <b%d@hq.mule.test>\r\n"
           "Date: Sat, 05 Dec 2026 10:00:00 +0000\r\n\r\n" % (k, k))
    open(os.path.join(work, "m%03d.eml" % k), "w", newline="").write(hdr + "\r\n".join(body) + "\r\n")
PY
bytes=$(cat "$work"/m*.eml | wc -c)
t0=$(date +%s.%N)
for f in "$work"/m*.eml; do ml_submit 1 ops@hq.mule.test all@all.mule.test < "$f"; done
drained() { for i in 1 2 3 4 5; do [ -z "$(ls -A "$work/n$i/spool/q")" ] || return 1; done
            [ -z "$(ls -A "$work/n1/spool/pickup")" ]; }
ml_wait 3600 drained || { echo "muled-e2e: not drained after an hour"; exit 1; }
t1=$(date +%s.%N)
got=0
for i in 2 3 4 5; do got=$(( got + $(ml_count "$work/n$i/spool/maildir") )); done
comp=$(grep -o 'transmitted msid=[0-9a-f]* to=[^ ]* size=[0-9]*' "$work/n1/log" |
       sed 's/.*size=//' | awk '{ s += $1 } END { print s + 0 }')
awk -v a="$t0" -v b="$t1" -v by="$bytes" -v c="$comp" -v r="$rate" -v l="$loss" -v n="$mails" \
    -v got="$got" '
BEGIN { t = b - a; lim = by * 8 / r / (1 - l / 100); clim = c * 8 / r / (1 - l / 100);
        printf "muled-e2e: mails=%d rate=%d loss=%d%% receivers=4 delivered=%d/%d uncompressed=%d compressed=%d time=%.1fs limit=%.1fs (%.2fx) compressed-limit=%.1fs (%.2fx)\n",
               n, r, l, got, 4 * n, by, c, t, lim, t / lim, clim, t / clim }'
ml_ctl 1 stats 2>/dev/null | grep -E 'fec_joint_(rounds|members|repair_pdus)|fec_repair_pdus_sent' |
    tr -s ' ' | tr '\n' ' ' | sed 's/^/muled-e2e: n1 /; s/ *$/\n/'
[ "$got" = $(( 4 * mails )) ]
