#!/usr/bin/env bash
# smtpd_vs_postfix.sh: ingress throughput of muled's SMTP listener against
# a Postfix smtpd on the same machine in the same run (issue 10,
# "Measured"): Postfix's smtp-source sends N mails of SIZE octets over S
# parallel sessions (1 and 20) to each.  Both acknowledge a mail only once
# it is on disk (muled: spool file synced, q/ fsync'd, group commit across
# sessions; Postfix: cleanup's fsync of the queue file).
#
# To make the comparison conclusive rather than a single timing:
#   - the targets are interleaved (muled, Postfix, then Postfix, muled in
#     the next repetition) over REPS repetitions, and each cell reports the
#     median and the range (min..max);
#   - MODE ingress (default) measures acceptance only, with nothing else
#     running: Postfix holds what it accepts (access map action HOLD: the
#     queue manager never sees it) and muled is in EMCON (it spools, never
#     transmits); MODE deliver lets both deliver to a Maildir as well
#     (Postfix: virtual(8); muled: its embedded Maildir, the route points
#     at itself) and waits between runs until both queues drained
#     (postqueue -p empty; muled's spool empty);
#   - before the timed runs, one counting run per target and session
#     count (strace -f on every process of each, NCOUNT mails) reports
#     fsync-class calls per mail (fsync, fdatasync, syncfs), so the
#     figures are explained, not just timed;
#   - FS picks where both queues live: disk (default: /tmp on the root
#     filesystem), tmpfs (syncs cost nothing: CPU only), or ext4 (a loop
#     device made here in /tmp, the same for both).
#
# usage: bash tools/bench/smtpd_vs_postfix.sh [BUILDDIR [N [SIZE [REPS [FS [MODE]]]]]]
#   defaults: build/plain, 500, 4096, 5, disk, ingress.  Needs root,
#   postfix (smtp-source, postqueue), strace for the counts.  Extra muled
#   options: MULED_CONF="key=value ..." (e.g. audit_fsync=no); NCOUNT:
#   mails per counting run (200); KEEP=1 keeps the work directory.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
bld=$(realpath "${1:-$src/build/plain}")
n=${2:-500}
size=${3:-4096}
reps=${4:-5}
fs=${5:-disk}
mode=${6:-ingress}
ncount=${NCOUNT:-200}
command -v smtp-source >/dev/null || { echo "no smtp-source (postfix)"; exit 77; }
source "$src/netsim/nsnet.sh"
source "$src/tests/integ/muled_lib.sh"
source "$src/tests/integ/mta_lib.sh"
prefix=mi$$
base=$(mktemp -d /tmp/muled-ingress.XXXXXX)
chmod 755 "$base"
work=$base
mnt=
loopdev=
finish() {
    ml_cleanup 1
    mta_cleanup
    if [ -n "$mnt" ]; then
        umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true
    fi
    [ -n "$loopdev" ] && losetup -d "$loopdev" 2>/dev/null
    [ -n "${KEEP:-}" ] && { echo "kept $base"; return; }
    rm -rf "$base"
}
trap finish EXIT
case $fs in
disk) ;;
tmpfs)
    mnt=$base/mnt; mkdir "$mnt"
    mount -t tmpfs -o size=2g,mode=755 tmpfs "$mnt"
    work=$mnt ;;
ext4)
    mnt=$base/mnt; mkdir "$mnt"
    truncate -s 2G "$base/fs.img"
    mkfs.ext4 -q -F "$base/fs.img"
    loopdev=$(losetup -f --show "$base/fs.img")
    mount "$loopdev" "$mnt"
    chmod 755 "$mnt"
    work=$mnt ;;
*) echo "FS: disk, tmpfs or ext4"; exit 2 ;;
esac

nsnet_up "$prefix" 1 ""
if [ "$mode" = deliver ]; then
    ml_routes                   # hq.mule.test: node 1 itself (Maildir)
    mrcpt=b@hq.mule.test
else
    cat > "$work/routes.conf" <<'R'
route all.mule.test group 239.1.1.2 nodes 198.18.0.9
R
    mrcpt=b@all.mule.test
fi
# shellcheck disable=SC2086
ml_conf 1 "smtpd_listen=127.0.0.1:2525" "log_level=warn" "smtpd_max_clients=100" \
    "smtpd_max_per_client=100" ${MULED_CONF:-}
ml_start 1
ml_wait 10 ip netns exec "$prefix-n1" bash -c 'exec 3<>/dev/tcp/127.0.0.1/2525' 2>/dev/null
[ "$mode" = deliver ] || ml_ctl 1 emcon on >/dev/null
pfx=$work/postfix
if [ "$mode" = deliver ]; then
    mta_postfix "$prefix-n1" "$pfx" 2626
else
    mta_postfix_common "$prefix-n1" "$pfx" 2626 \
        "smtpd_recipient_restrictions = check_recipient_access inline:{ {b@x.test=HOLD} }, permit
virtual_mailbox_domains = static:all"
fi
ml_wait 10 ip netns exec "$prefix-n1" bash -c 'exec 3<>/dev/tcp/127.0.0.1/2626' 2>/dev/null

# Nothing of an earlier run may still be working when a run starts.
drain() {
    local i
    for i in $(seq 1 600); do
        if [ "$mode" = deliver ]; then
            postqueue -c "$pfx/etc" -p 2>/dev/null | grep -q "Mail queue is empty" &&
                [ -z "$(ls "$work/n1/spool/q")" ] && break
        else
            # Held mail stays; nothing else may be queued.
            postsuper -c "$pfx/etc" -d ALL hold >/dev/null 2>&1 || true
            [ -z "$(find "$pfx/spool/incoming" "$pfx/spool/active" "$pfx/spool/maildrop" \
                    -type f 2>/dev/null)" ] && break
        fi
        sleep 0.2
    done
    sync
    sleep 1
}

send() {     # send PORT SESSIONS RCPT COUNT
    ip netns exec "$prefix-n1" smtp-source -s "$2" -m "$4" -l "$size" -f a@hq.mule.test \
        -t "$3" 127.0.0.1:"$1" >/dev/null
}

run() {     # run PORT SESSIONS RCPT -> msgs/s
    local t0 t1
    drain
    t0=$(date +%s.%N)
    send "$1" "$2" "$3" "$n"
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" -v n="$n" 'BEGIN { printf "%.0f", n / (b - a) }'
}

# fsync-class calls per mail: strace on every process of the target while
# ncount mails go in; Postfix's counted by process name.
count_syncs() {     # count_syncs WHO PORT SESSIONS RCPT
    local pids p out
    command -v strace >/dev/null || { echo "no strace"; return; }
    drain
    if [ "$1" = muled ]; then
        pids=${ml_pid[1]}
    else
        p=$(cat "$pfx/spool/pid/master.pid" | tr -d ' ')
        pids="$p $(pgrep -P "$p" | tr '\n' ' ')"
    fi
    out=$work/strace.$1.$3
    # shellcheck disable=SC2046
    strace -f -qq -y -e trace=fsync,fdatasync,syncfs -o "$out" $(printf -- '-p %s ' $pids) &
    local sp=$!
    sleep 1
    send "$2" "$3" "$4" "$ncount"
    [ "$1" = postfix ] && [ "$mode" = deliver ] && drain
    sleep 1
    kill -INT "$sp" 2>/dev/null; wait "$sp" 2>/dev/null || true
    awk -v m="$ncount" -v who="$1" -v s="$3" '
        / (fsync|fdatasync|syncfs)\(/ { c++ }
        END { printf "syncs: %s sessions=%d mails=%d fsync-class calls=%d per mail=%.2f\n",
                     who, s, m, c, c / m }' "$out"
}

echo "smtpd-ingress: fs=$fs mode=$mode mails=$n size=$size reps=$reps muled_conf=[${MULED_CONF:-}]"
for s in 1 20; do
    count_syncs muled 2525 "$s" "$mrcpt"
    count_syncs postfix 2626 "$s" b@x.test
done

declare -A res
for r in $(seq 1 "$reps"); do
    for s in 1 20; do
        if [ $((r % 2)) = 1 ]; then
            res[m$s]+="$(run 2525 "$s" "$mrcpt") "
            res[p$s]+="$(run 2626 "$s" b@x.test) "
        else
            res[p$s]+="$(run 2626 "$s" b@x.test) "
            res[m$s]+="$(run 2525 "$s" "$mrcpt") "
        fi
    done
    echo "rep $r: msgs/s so far: muled(1)=[${res[m1]}] postfix(1)=[${res[p1]}]" \
         "muled(20)=[${res[m20]}] postfix(20)=[${res[p20]}]"
done
stats() {   # median min max of a list
    tr ' ' '\n' <<<"$1" | grep . | sort -n |
        awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
                                 printf "%d %d %d", m, v[1], v[NR] }'
}
for s in 1 20; do
    read -r mm ml mh <<<"$(stats "${res[m$s]}")"
    read -r pm pl ph <<<"$(stats "${res[p$s]}")"
    awk -v s="$s" -v mm="$mm" -v ml="$ml" -v mh="$mh" -v pm="$pm" -v pl="$pl" -v ph="$ph" \
        -v fs="$fs" -v mode="$mode" -v r="$reps" \
        'BEGIN { printf "smtpd-ingress: fs=%s mode=%s sessions=%d reps=%d muled=%d/s (%d..%d) postfix=%d/s (%d..%d) ratio=%.2f\n",
                 fs, mode, s, r, mm, ml, mh, pm, pl, ph, mm / pm }'
done
