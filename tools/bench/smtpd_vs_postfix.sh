#!/usr/bin/env bash
# smtpd_vs_postfix.sh: ingress throughput of muled's SMTP listener against
# a Postfix smtpd on the same machine in the same run (issue 10,
# "Measured"): Postfix's smtp-source sends N mails of SIZE octets over S
# parallel sessions to each; both acknowledge a mail only once it is on
# disk (muled: spool fsync; Postfix: cleanup's queue file fsync).  Prints
# msgs/s for each and the ratio.
#
# usage: bash tools/bench/smtpd_vs_postfix.sh [BUILDDIR [N [SIZE]]]
#   defaults: build/plain, 500, 4096; sessions 1 and 20.  Needs root,
#   postfix (smtp-source).
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
bld=$(realpath "${1:-$src/build/plain}")
n=${2:-500}
size=${3:-4096}
command -v smtp-source >/dev/null || { echo "no smtp-source (postfix)"; exit 77; }
source "$src/netsim/nsnet.sh"
source "$src/tests/integ/muled_lib.sh"
source "$src/tests/integ/mta_lib.sh"
prefix=mi$$
work=$(mktemp -d /tmp/muled-ingress.XXXXXX)
chmod 755 "$work"
trap 'ml_cleanup 1; mta_cleanup; rm -rf "$work"' EXIT
nsnet_up "$prefix" 1 ""
cat > "$work/routes.conf" <<'R'
route all.mule.test group 239.1.1.2 nodes 198.18.0.9
R
ml_conf 1 "smtpd_listen=127.0.0.1:2525" "log_level=warn" "smtpd_max_clients=100" \
    "smtpd_max_per_client=100"
ml_start 1
mta_postfix "$prefix-n1" "$work/postfix" 2626
ml_wait 10 ip netns exec "$prefix-n1" bash -c 'exec 3<>/dev/tcp/127.0.0.1/2525' 2>/dev/null
run() {     # run PORT SESSIONS RCPT -> msgs/s
    local t0 t1
    t0=$(date +%s.%N)
    ip netns exec "$prefix-n1" smtp-source -s "$2" -m "$n" -l "$size" -f a@hq.mule.test \
        -t "$3" 127.0.0.1:"$1" >/dev/null
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" -v n="$n" 'BEGIN { printf "%.0f", n / (b - a) }'
}
for s in 1 20; do
    m=$(run 2525 "$s" b@all.mule.test)
    p=$(run 2626 "$s" b@x.test)
    awk -v s="$s" -v m="$m" -v p="$p" -v n="$n" -v z="$size" \
        'BEGIN { printf "smtpd-ingress: mails=%d size=%d sessions=%d muled=%d/s postfix=%d/s ratio=%.2f\n", n, z, s, m, p, m / p }'
done
q=$(ls "$work/n1/spool/q" | wc -l)
echo "muled queued $q entries (want $((2 * n)))"
