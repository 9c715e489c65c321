#!/bin/bash
# NAME
#	spool_vs_postfix.sh - durable local submissions/s: the muled spool
#	next to Postfix's sendmail/postdrop, same mail, same disk, same run
# SYNOPSIS
#	tools/bench/spool_vs_postfix.sh BUILD_DIR WORK_DIR [SECONDS]
# DESCRIPTION
#	WORK_DIR must not exist; it is created on the disk to measure (not
#	tmpfs) and removed at the end.  Starts a throw-away Postfix instance
#	(root needed: master starts as root) with its queue under WORK_DIR,
#	no network listener and every recipient discarded, so that only the
#	submission is measured: `sendmail -f FROM RCPT RCPT < mail` runs
#	back to back for SECONDS (default 10), each returning after postdrop
#	has written and fsync'd the maildrop file.  Then
#	`mule-bench-spool submit` runs for the same time on the same disk
#	with the same 4 KB mail (`mule-bench-spool mail`).  Prints Markdown
#	rows.  The Postfix figure includes a fork and exec of sendmail and
#	postdrop per mail: that is what local submission costs in Postfix.
# DIAGNOSTICS
#	Exits non-zero if Postfix does not start (see WORK_DIR/pf/maillog).
# SEE ALSO
#	tools/bench/mule_bench_spool.c, docs/benchmarks.md (section spool).
# LICENSE
#	MIT, see LICENSE.
set -euo pipefail

build=${1:?BUILD_DIR}; work=${2:?WORK_DIR}; secs=${3:-10}
bench=$build/tools/bench/mule-bench-spool
[ -x "$bench" ] || { echo "no $bench" >&2; exit 2; }
command -v postfix >/dev/null || { echo "postfix not installed" >&2; exit 77; }
mkdir "$work"
work=$(realpath "$work")
pf=$work/pf
master_pid=""

cleanup() {
    if [ -f "$pf/etc/main.cf" ]; then
        postfix -c "$pf/etc" stop >/dev/null 2>&1 || true
    fi
    # Wait for this instance's master (by its PID) to go, up to 5 s.
    if [ -n "$master_pid" ]; then
        for _ in $(seq 1 100); do
            st=$(awk '{print $3}' "/proc/$master_pid/stat" 2>/dev/null) || break
            [ "$st" = Z ] && break
            sleep 0.05
        done
    fi
    rm -rf "$work"
}
trap cleanup EXIT

"$bench" mail > "$work/mail"

mkdir -p "$pf/etc" "$pf/spool" "$pf/data"
chmod 755 "$work" "$pf"
p=$pf
while [ "$p" != / ]; do
    p=$(dirname "$p"); m=$(stat -c %a "$p")
    (( ${m: -1} & 1 )) || chmod o+x "$p"
done
chown postfix:postfix "$pf/data"
cat > "$pf/etc/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $pf/spool
data_directory = $pf/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = $pf/maillog
maillog_file_prefixes = $pf
myhostname = n1.mule.test
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
default_transport = discard
alias_maps =
alias_database =
smtp_dns_support_level = disabled
CF
cat > "$pf/etc/master.cf" <<CF
pickup     unix  n - n 60   1 pickup
cleanup    unix  n - n -    0 cleanup
qmgr       unix  n - n 300  1 qmgr
rewrite    unix  - - n -    - trivial-rewrite
bounce     unix  - - n -    0 bounce
defer      unix  - - n -    0 bounce
trace      unix  - - n -    0 bounce
discard    unix  - - n -    - discard
showq      unix  n - n -    - showq
postlog    unix-dgram n - n - 1 postlogd
CF
# Postfix waits while main.cf is younger than about 2 s: backdate it.
touch -d "@$(( $(date +%s) - 10 ))" "$pf"/etc/*
postfix -c "$pf/etc" start || { cat "$pf/maillog" >&2 2>/dev/null; exit 1; }
master_pid=$(tr -d ' ' < "$pf/spool/pid/master.pid")

# Time with bash's own clock ($EPOCHREALTIME, microseconds): no extra
# process per mail besides sendmail and its postdrop.
us() { local t=${EPOCHREALTIME/./}; echo $((10#$t)); }
n=0
start=$(us)
end=$((start + secs * 1000000))
while :; do
    /usr/sbin/sendmail -C "$pf/etc" -f ops@n1.example log@n2.example log@n3.example \
        < "$work/mail"
    n=$((n + 1))
    t=${EPOCHREALTIME/./}
    (( 10#$t >= end )) && break
done
el=$(( 10#$t - start ))
printf '| Postfix sendmail/postdrop, 4 KB, one process per mail | %d | %d/s | %d.%02d ms |\n' \
    "$n" $(( n * 1000000 / el )) $(( el / n / 1000 )) $(( el / n / 10 % 100 ))

"$bench" submit "$work/spool" "$secs"
