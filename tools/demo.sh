#!/usr/bin/env bash
# demo.sh: carry real mail with muled over P_MUL multicast between network
# namespaces.
#
#   n1 (198.18.0.1)  hq.mule.test: a real Postfix (127.0.0.1:25) relaying
#                    *.mule.test to muled's SMTP listener; the mails of
#                    tools/demo/mail/*.env + *.eml are submitted to Postfix
#                    (mule-submit's pickup directory when Postfix is missing)
#   n2..n4           muled -> LMTP -> a real Dovecot -> Maildir
#   hub              a bridge joining them (multicast flooded, like a radio
#                    net); dumpcap records the air there
# Each node: tbf 64 kbit/s on its egress; each receiver: 10 % random UDP loss
# (nftables) on input, Acks included; n4 is in EMCON (receive only, from its
# config) until SIGUSR2 lifts it.  At the end it shows what Dovecot stored,
# one mail's story from the logs (grep its queue ID), tshark's view of the
# capture, then prints a verdict.  Everything it creates (namespaces,
# processes, temp dirs) is removed on exit, Ctrl-C included.
#
# usage: bash tools/demo.sh [--quick] [--no-build] [--builddir DIR] [--keep]
#   --quick     shorter EMCON and timeouts (the integration test)
#   --no-build  do not install packages or build; use --builddir as it is
#   --builddir  meson build directory (default build/demo)
#   --keep      keep the temp dir (logs, pcap, Maildirs) and print its path
# Needs root.  Exit 0 on success, 1 on failure, 77 when it cannot run here
# (not root, no ip netns, no dovecot) and --no-build was given.
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
quick=0 build=1 keep=0 builddir=$src/build/demo
while [ $# -gt 0 ]; do
    case $1 in
    --quick) quick=1;;
    --no-build) build=0;;
    --builddir) builddir=$(realpath -m "$2"); shift;;
    --keep) keep=1;;
    -h|--help) sed -n '2,24p' "$0"; exit 0;;
    *) echo "demo: unknown option $1" >&2; exit 2;;
    esac
    shift
done

skip() { echo "demo: SKIP: $*" >&2; exit $(( build ? 1 : 77 )); }
[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces)"

if [ $quick = 1 ]; then emcon_s=5 timeout_s=60; else emcon_s=10 timeout_s=90; fi
rate_tc=64kbit
loss_pct=10
receivers=(2 3 4)
emcon_node=4
mail_dir=$src/tools/demo/mail

step() { printf '\n== %s\n' "$*"; }

# --- 1. dependencies and build ----------------------------------------------
if [ $build = 1 ]; then
    step "installing what is missing, building muled and mule-submit"
    bash "$src/tools/install-deps.sh"
    if [ ! -f "$builddir/build.ninja" ]; then
        meson setup "$builddir" "$src" >/dev/null
    fi
    ninja -C "$builddir" -j2 tools/muled tools/mule-submit tools/mulectl >/dev/null
fi
bld=$builddir
[ -x "$bld/tools/muled" ] && [ -x "$bld/tools/mulectl" ] && [ -x "$bld/tools/mule-submit" ] || skip "no muled in $bld (build first)"
command -v ip >/dev/null && ip netns list >/dev/null 2>&1 || skip "no ip netns"
command -v dovecot >/dev/null || skip "no dovecot"
[ -x /usr/lib/dovecot/lmtp ] || skip "no dovecot-lmtpd"
command -v nft >/dev/null || skip "no nft"
command -v tshark >/dev/null || skip "no tshark"

source "$src/netsim/nsnet.sh"
source "$src/tests/integ/muled_lib.sh"
source "$src/tests/integ/mta_lib.sh"

# --- cleanup: everything below is undone here --------------------------------
prefix=mdemo$$
work=$(mktemp -d /tmp/mule-demo.XXXXXX)
chmod 755 "$work"
cap_pid=
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    [ -n "$cap_pid" ] && { kill "$cap_pid" 2>/dev/null || true; wait "$cap_pid" 2>/dev/null || true; }
    ml_cleanup 4
    mta_cleanup
    if [ $keep = 1 ]; then echo "demo: kept $work"; else rm -rf "$work"; fi
    exit $rc
}
trap cleanup EXIT
trap 'echo "demo: interrupted" >&2; exit 130' INT TERM

# --- 2. the network ----------------------------------------------------------
step "network: namespaces $prefix-{hub,n1..n4}, bridge, tbf $rate_tc, $loss_pct% loss on receivers"
nsnet_up "$prefix" 4 "$rate_tc"
for i in "${receivers[@]}"; do nsnet_loss "$prefix" "$i" "$loss_pct"; done

# --- 3. Dovecot LMTP in each receiver ----------------------------------------
step "Dovecot LMTP servers in n2, n3, n4 (127.0.0.1:24 in each namespace)"
for i in "${receivers[@]}"; do
    mta_dovecot_lmtp "$prefix-n$i" "$work/n$i/dovecot" 24
    echo "n$i: dovecot $(dovecot --version | cut -d' ' -f1) up"
done

# --- 4. capture the air --------------------------------------------------------
pcap=$work/air.pcap
touch "$pcap"
ip netns exec "$prefix-hub" dumpcap -q -i br0 -f udp -P -w "$pcap" 2>"$work/dumpcap.log" &
cap_pid=$!
for _ in $(seq 1 50); do grep -q "Capturing" "$work/dumpcap.log" 2>/dev/null && break; sleep 0.1; done

# --- 5. the nodes --------------------------------------------------------------------
# Mails each receiver must get: the routes send each mail to its domains' nodes.
declare -A expect=([2]=3 [3]=2 [4]=2)
via=postfix
command -v postfix >/dev/null || via=mule-submit
step "muled on n1..n4 (n$emcon_node in EMCON until lifted after ${emcon_s}s); mail enters n1 by $via"
ml_routes
ML_RATE=56000       # engine pacing, a little under tbf's frame-counted 64 kbit/s
ml_conf 1 "smtpd_listen=127.0.0.1:2525"
for i in "${receivers[@]}"; do
    extra=("deliver=lmtp:127.0.0.1:24")
    [ "$i" = "$emcon_node" ] && extra+=("emcon=yes")
    ml_conf "$i" "${extra[@]}"
done
for i in 1 2 3 4; do ml_start "$i"; done
if [ $via = postfix ]; then
    mta_postfix_relay "$prefix-n1" "$work/n1/postfix" 25 "smtp:[127.0.0.1]:2525"
    echo "  n1: Postfix $(postconf -c "$work/n1/postfix/etc" -h mail_version 2>/dev/null)" \
         "on 127.0.0.1:25, transport mule.test -> smtp:[127.0.0.1]:2525 (muled)"
fi
sleep 0.5
t0=$(date +%s.%N)
for env in "$mail_dir"/*.env; do
    name=$(basename "$env" .env)
    from=$(head -1 "$env" | sed 's/^<\([^>]*\)>.*/\1/')
    prio=$(head -1 "$env" | sed -n 's/.*MT-PRIORITY=\(-\{0,1\}[0-9]\).*/\1/p')
    rcpts=$(tail -n +2 "$env" | sed -n 's/^<\([^>]*\)>.*/\1/p')
    if [ $via = postfix ]; then
        # Postfix cannot carry MT-PRIORITY; the mails' MT-Priority header
        # field tunnels it (RFC 6758) and muled trusts it from loopback.
        # shellcheck disable=SC2086
        ip netns exec "$prefix-n1" python3 -c '
import smtplib, sys
msg = sys.stdin.buffer.read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
s = smtplib.SMTP("127.0.0.1", 25, timeout=30)
s.sendmail(sys.argv[1], sys.argv[2:], msg)
s.quit()' "$from" $rcpts < "$mail_dir/$name.eml"
    else
        # shellcheck disable=SC2086
        ml_submit 1 "$from" ${prio:+-p "$prio"} $rcpts < "$mail_dir/$name.eml"
    fi
    echo "  submitted $name from <$from> to $(echo $rcpts)${prio:+ (MT-PRIORITY $prio)} by $via"
done
sleep 3
step "the operator's view on n1 while n$emcon_node is silent: mulectl status, mulectl queue"
ml_ctl 1 status | sed -n '1,/^queue:/p;/^  out:/,/^  in:/p' | sed 's/^/  /'
ml_ctl 1 queue | sed 's/^/  /'
echo "  n$emcon_node: mulectl emcon status"
ml_ctl "$emcon_node" emcon status | sed 's/^/    /'
sleep "$((emcon_s > 3 ? emcon_s - 3 : 0))"
echo "  lifting EMCON on n$emcon_node (mulectl emcon off)"
ml_ctl "$emcon_node" emcon off | sed 's/^/    /'
dovecot_box() { echo "$work/n$1/dovecot/mail"; }
all_in() { for i in "${receivers[@]}"; do
               [ "$(ml_count "$(dovecot_box "$i")")" -ge "${expect[$i]}" ] || return 1; done; }
drained() { for i in 1 2 3 4; do [ -z "$(ls -A "$work/n$i/spool/q")" ] || return 1; done; }
set +e
ml_wait "$timeout_s" all_in
ml_wait 30 drained
drained_rc=$?
set -e
t1=$(date +%s.%N)
sleep 1
kill "$cap_pid" 2>/dev/null || true
wait "$cap_pid" 2>/dev/null || true
cap_pid=

# --- 6. what happened --------------------------------------------------------------
fail=0
[ $drained_rc = 0 ] || { echo "spools not drained: some mail is not yet acknowledged"; fail=1; }
body() { sed '1,/^\r\{0,1\}$/d' "$1" | tr -d '\r'; }
step "what Dovecot stored (Maildir), bodies compared with the originals"
for i in "${receivers[@]}"; do
    files=$(find "$work/n$i/dovecot/mail" -path '*/Maildir/new/*' -type f 2>/dev/null | sort)
    cnt=$(printf '%s' "$files" | grep -c . || true)
    echo "n$i: $cnt message(s) in Maildir (expected ${expect[$i]})"
    [ "$cnt" = "${expect[$i]}" ] || fail=1
    for f in $files; do
        subj=$(grep -m1 '^Subject:' "$f" | tr -d '\r')
        mid=$(grep -m1 -i '^Message-ID:' "$f" | tr -d '\r' | sed 's/^[^:]*: *//')
        user=$(echo "$f" | sed 's|.*/mail/\([^/]*\)/\([^/]*\)/Maildir.*|\2@\1|')
        orig=$(grep -l -F -- "$mid" "$mail_dir"/*.eml | head -1)
        if [ -z "$orig" ]; then
            echo "  $user  $subj  [no original found]"; fail=1; continue
        fi
        if diff <(body "$orig") <(body "$f") >"$work/diff.txt"; then
            verdict="body identical to $(basename "$orig")"
        else
            verdict="BODY DIFFERS from $(basename "$orig")"; fail=1
            sed 's/^/      /' "$work/diff.txt" | head -20
        fi
        echo "  $user  $subj  [$verdict]"
    done
done
echo "Trace fields of one delivered message (MULE Received fields, Dovecot's own):"
f=$(find "$work/n2/dovecot/mail" -path '*/Maildir/new/*' -type f 2>/dev/null | sort | sed -n 1p)
[ -n "$f" ] && grep -E '^(Return-Path|Delivered-To|Received|[[:space:]]+(by|with|for|id))' "$f" \
    | tr -d '\r' | sed -n 1,12p | sed 's/^/  /'

step "one mail's story: grep its queue ID on n1, its MSID and local queue ID on n2"
line=$(grep -m1 ': transmitted msid=' "$work/n1/log" || true)
if [ -n "$line" ]; then
    qid=$(echo "$line" | sed 's/.* \([0-9A-Z]\{12\}\): transmitted.*/\1/')
    msid=$(echo "$line" | sed 's/.*msid=\([0-9a-f]*\).*/\1/')
    grep -h -- "$qid" "$work/n1/log" | cut -c1-150 | sed 's/^/  n1 /'
    for i in "${receivers[@]}"; do
        rx=$(grep -m1 -- "198.18.0.1-$msid: received from" "$work/n$i/log" || true)
        [ -n "$rx" ] || continue
        echo "  n$i $(echo "$rx" | cut -c1-150)"
        lq=$(grep -m1 -- "received 198.18.0.1-$msid)" "$work/n$i/log" |
             sed 's/.* \([0-9A-Z]\{12\}\): from=.*/\1/' || true)
        [ -n "$lq" ] && grep -h -- "$lq" "$work/n$i/log" | cut -c1-150 | sed "s/^/  n$i /"
        break
    done
fi

step "the air, as tshark decodes it (-o p_mul.decode:cdt)"
ts=(tshark -n -r "$pcap" -d 'udp.port==2751-2754,p_mul'
    -o p_mul.relative_msgid:FALSE -o p_mul.decode:cdt)
"${ts[@]}" -T fields -e p_mul.pdu_type -e p_mul.analysis.retrans_no -Y p_mul \
    2>/dev/null >"$work/types.txt" || true
total=$(grep -c . "$work/types.txt" || true)
echo "$total P_MUL datagrams captured on the hub bridge; by PDU type:"
awk -F'\t' 'BEGIN { split("Data Ack Address Discard_Message Announce Request Reject Release FEC_Address", n, " ")
                    n[19] = "Extra_Address"; n[25] = "Extra_FEC_Address" }
    { t = n[$1 + 1]; if (t == "") t = "type-" $1; c[t]++; if ($2 != "") r[t]++ }
    END { for (t in c) printf "  %6d %s_PDU%s\n", c[t], t, r[t] ? " (" r[t] " retransmitted)" : "" }' \
    "$work/types.txt" | sort -rn
echo "first lines (Data_PDUs show as CDT: tshark inflated the CompressedData):"
"${ts[@]}" -Y p_mul 2>/dev/null | sed -n 1,6p | cut -c1-120 | sed 's/^/  /'
"${ts[@]}" -q -z expert 2>/dev/null >"$work/expert.txt" || true
echo "tshark expert summary (its Notes: Ack-Acks, retransmissions, and \"Address PDU missing\""
echo "  where a FEC_Address_PDU announced the message, docs/wire.md 10.6):"
grep -E '^(Errors|Warns|Notes|Chats) \(' "$work/expert.txt" | sed 's/^/  /' || echo "  (none)"
experts=$(grep -cE '^(Errors|Warns) \(' "$work/expert.txt" || true)
if [ "$experts" != 0 ]; then
    echo "expert items of severity Warn or Error:"; sed 's/^/  /' "$work/expert.txt" | head -30
    fail=1
fi
[ "$total" -gt 0 ] || fail=1

step "verdict"
awk -v a="$t0" -v b="$t1" 'BEGIN { printf "mail phase %.1f s (submission to the last Ack)\n", b - a }'
if [ $fail = 0 ]; then
    echo "DEMO PASSED: every mail acknowledged over P_MUL and stored by Dovecot unchanged"
    exit 0
fi
keep=1; echo "DEMO FAILED (logs kept in $work)"
for i in 1 2 3 4; do echo "-- n$i log:"; tail -8 "$work/n$i/log"; done
exit 1
