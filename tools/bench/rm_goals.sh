#!/bin/bash
# rm_goals.sh: issue 12's goals table, measured side by side with the testbed's rm-bench.sh.
#
# usage: tools/bench/rm_goals.sh [-n RUNS] [-o DIR] [-p "PROTOS"] [-x "MULE_OPTS"] [CASE...]
#   CASE   bin96 (100 KB random bytes as a base64 mail, 1->3, 9.6 kbit/s, 10 % loss),
#          text96 (100 KB English text mail, 1->3, 9.6 kbit/s, 10 %),
#          text10k (10 KB text mail, 1->2, 9.6 kbit/s, 10 %),
#          text64 (100 KB text mail, 1->3, 64 kbit/s, 30 %); default: all four
#   PROTOS any of mule (its defaults: FEC on, ratio 10), mule-fec20 (--fec-ratio 20),
#          mule-nofec (--fec off), norm (tuned: backoff=0,gsize=3, sends the raw payload),
#          norm-mail (the same, sending the mail file), uftp (sends the raw payload);
#          default "mule norm norm-mail uftp"
#   -x     extra mule-node options (e.g. "--fec off"), passed with rm-bench's -x
#   -o DIR raw rm-bench output (one file per run) and summary.md; default /tmp/rm-goals.PID
# Runs are interleaved (run 1 of every case and protocol, then run 2, ...), so slow drift of
# the machine spreads over all protocols instead of biasing one. Every protocol gets 97.5 %
# of the tbf frame rate (rm-bench.sh's header explains the per-tool -R values).
# Must run as root from a project checkout with build/plain built; needs what rm-bench needs
# (apt-get install libnorm-dev g++ uftp for the NORM and UFTP peers).
set -euo pipefail
runs=5 out= protos="mule norm norm-mail uftp" mx=
while getopts "n:o:p:x:" o; do
    case $o in n) runs=$OPTARG;; o) out=$OPTARG;; p) protos=$OPTARG;; x) mx=$OPTARG;;
               *) exit 2;; esac
done
shift $((OPTIND - 1))
cases=${*:-bin96 text96 text10k text64}
[[ $runs =~ ^[1-9][0-9]?$ ]] || { echo "rm_goals: -n takes 1..99" >&2; exit 2; }
bench=${RM_BENCH:-$(dirname "$(realpath "$0")")/../../../shared/testbed/bench/rm-bench.sh}
[ -x "$bench" ] || [ -f "$bench" ] || { echo "rm_goals: no rm-bench.sh at $bench (set RM_BENCH)" >&2; exit 2; }
out=${out:-/tmp/rm-goals.$$}
mkdir -p "$out"

# 100 KB of English text, lines under 998 octets: the licence texts every Debian system has.
text=$out/english.txt
if [ ! -s "$text" ]; then
    cat /usr/share/common-licenses/{GPL-3,GPL-2,LGPL-2.1,Apache-2.0,MPL-2.0,GFDL-1.3,Artistic} > "$text.all"
    head -c 102400 "$text.all" > "$text" && rm -f "$text.all"
fi

case_args() {   # case -> rm-bench options common to every protocol
    case $1 in
    bin96)   echo "-r 9600bit -l 10 -n 4 -s 102400 -t b64";;
    text96)  echo "-r 9600bit -l 10 -n 4 -f $text -t text";;
    text10k) head -c 10240 "$text" > "$out/english10k.txt"; echo "-r 9600bit -l 10 -n 3 -f $out/english10k.txt -t text";;
    text64)  echo "-r 64kbit -l 30 -n 4 -f $text -t text";;
    *) echo "rm_goals: unknown case $1" >&2; return 2;;
    esac
}
proto_args() {  # case protocol -> rm-bench protocol, rate and tuning
    local fast=0
    [ "$1" = text64 ] && fast=1
    case $2 in
    mule|mule-fec20|mule-nofec) echo "mule -R $([ $fast = 1 ] && echo 61580 || echo 9237)";;
    norm)      echo "norm -R $([ $fast = 1 ] && echo 60000 || echo 9000) -x backoff=0,gsize=3";;
    norm-mail) echo "norm -E -R $([ $fast = 1 ] && echo 60000 || echo 9000) -x backoff=0,gsize=3";;
    uftp)      echo "uftp -R $([ $fast = 1 ] && echo 60000 || echo 9000)";;
    *) echo "rm_goals: unknown protocol $2" >&2; return 2;;
    esac
}

for i in $(seq 1 "$runs"); do
    for c in $cases; do
        ca=$(case_args "$c")
        for p in $protos; do
            f=$out/$c.$p.$i.txt
            [ -s "$f" ] && grep -q ' time=' "$f" && continue     # resume after an interruption
            # shellcheck disable=SC2086
            x=$mx
            case $p in mule-fec20) x="--fec-ratio 20 $mx";; mule-nofec) x="--fec off $mx";; esac
            if [ "${p%%-*}" = mule ] && [ -n "$x" ]; then
                bash "$bench" $(proto_args "$c" "$p") $ca -x "$x" > "$f" 2>&1 || true
            else
                bash "$bench" $(proto_args "$c" "$p") $ca > "$f" 2>&1 || true
            fi
            echo "$c $p run $i: $(grep -o 'time=[0-9.]*s.*complete=[0-9/]*' "$f" || echo FAILED)"
        done
    done
done

# Summary: median, min, max of time= per case and protocol; incomplete runs are named.
python3 - "$out" "$cases" "$protos" > "$out/summary.md" <<'PYEOF'
import glob, os, re, statistics, sys
out, cases, protos = sys.argv[1], sys.argv[2].split(), sys.argv[3].split()
print("| case | " + " | ".join(protos) + " |")
print("|---|" + "---|" * len(protos))
for c in cases:
    row = [c]
    for p in protos:
        ts, bad = [], 0
        for f in sorted(glob.glob(os.path.join(out, f"{c}.{p}.*.txt"))):
            m = re.search(r"time=([0-9.]+)s.*complete=(\d+)/(\d+)", open(f).read())
            if m and m.group(2) == m.group(3):
                ts.append(float(m.group(1)))
            else:
                bad += 1
        if ts:
            cell = f"{statistics.median(ts):.1f} s ({min(ts):.1f}-{max(ts):.1f}, n={len(ts)})"
        else:
            cell = "-"
        if bad:
            cell += f", {bad} incomplete"
        row.append(cell)
    print("| " + " | ".join(row) + " |")
PYEOF
cat "$out/summary.md"
