#!/usr/bin/env bash
# demo.sh: carry real mail over P_MUL multicast between network namespaces.
#
#   n1 (198.18.0.1)  sender: mule-node reads tools/demo/mail/*.env + *.eml
#   n2..n4           receivers: mule-node -> LMTP -> a real Dovecot -> Maildir
#   hub              a bridge joining them (multicast flooded, like a radio net);
#                    dumpcap records the air there
# Each node: tbf 64 kbit/s on its egress; each receiver: 10 % random UDP loss
# (nftables) on input; n4 is in EMCON (receive only) for the first seconds.
# At the end it shows what Dovecot stored, the sender's summary and tshark's
# view of the capture, then prints a verdict.  Everything it creates
# (namespaces, processes, temp dirs) is removed on exit, Ctrl-C included.
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
    -h|--help) sed -n '2,22p' "$0"; exit 0;;
    *) echo "demo: unknown option $1" >&2; exit 2;;
    esac
    shift
done

skip() { echo "demo: SKIP: $*" >&2; exit $(( build ? 1 : 77 )); }
[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces)"

if [ $quick = 1 ]; then emcon_s=5 node_timeout=60; else emcon_s=10 node_timeout=90; fi
rate_tc=64kbit
rate_bps=56000          # engine pacing, a little under tbf's frame-counted 64 kbit/s
loss_pct=10
receivers=(2 3 4)
emcon_node=4
mail_dir=$src/tools/demo/mail
routes=$src/tools/demo/routes.conf

step() { printf '\n== %s\n' "$*"; }

# --- 1. dependencies and build ----------------------------------------------
if [ $build = 1 ]; then
    step "installing what is missing, building mule-node"
    bash "$src/tools/install-deps.sh"
    if [ ! -f "$builddir/build.ninja" ]; then
        meson setup "$builddir" "$src" >/dev/null
    fi
    ninja -C "$builddir" -j2 tools/mule-node >/dev/null
fi
node_bin=$builddir/tools/mule-node
[ -x "$node_bin" ] || skip "no $node_bin (build first)"
command -v ip >/dev/null && ip netns list >/dev/null 2>&1 || skip "no ip netns"
command -v dovecot >/dev/null || skip "no dovecot"
[ -x /usr/lib/dovecot/lmtp ] || skip "no dovecot-lmtpd"
command -v nft >/dev/null || skip "no nft"
command -v tshark >/dev/null || skip "no tshark"

# --- cleanup: everything below is undone here --------------------------------
prefix=mdemo$$
work=$(mktemp -d /tmp/mule-demo.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
    local rc=$? p
    trap - EXIT INT TERM
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do
        for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$p" 2>/dev/null || true
    done
    for i in "${receivers[@]}"; do
        local d=$work/n$i/dovecot mp
        [ -f "$d/dovecot.conf" ] || continue
        mp=$(cat "$d/run/master.pid" 2>/dev/null || true)
        ip netns exec "$prefix-n$i" dovecot -c "$d/dovecot.conf" stop 2>/dev/null || true
        if [ -n "$mp" ]; then
            for _ in $(seq 1 50); do kill -0 "$mp" 2>/dev/null || break; sleep 0.1; done
            kill -9 "$mp" 2>/dev/null || true
        fi
    done
    for ns in "$prefix-hub" "$prefix-n1" "$prefix-n2" "$prefix-n3" "$prefix-n4"; do
        ip netns del "$ns" 2>/dev/null || true
    done
    if [ $keep = 1 ]; then echo "demo: kept $work"; else rm -rf "$work"; fi
    exit $rc
}
trap cleanup EXIT
trap 'echo "demo: interrupted" >&2; exit 130' INT TERM

# --- 2. the network ----------------------------------------------------------
step "network: namespaces $prefix-{hub,n1..n4}, bridge, tbf $rate_tc, $loss_pct% loss on receivers"
hub=$prefix-hub
ip netns add "$hub"
ip -n "$hub" link set lo up
ip -n "$hub" link add br0 type bridge mcast_snooping 0 stp_state 0 forward_delay 0
ip -n "$hub" link set br0 up
for i in 1 2 3 4; do
    ns=$prefix-n$i
    ip netns add "$ns"
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
        net.ipv6.conf.default.disable_ipv6=1
    ip link add eth0 netns "$ns" type veth peer name "port$i" netns "$hub"
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add "198.18.0.$i/15" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" route add 224.0.0.0/4 dev eth0
    ip -n "$hub" link set "port$i" master br0 up
    # Radio-like link: 64 kbit/s, about 4 s of queue.
    ip netns exec "$ns" tc qdisc add dev eth0 root tbf rate $rate_tc burst 1600 limit 32000
    if [ "$i" != 1 ]; then
        ip netns exec "$ns" nft -f - <<EOF
table inet mdemo {
    chain input {
        type filter hook input priority -10; policy accept;
        iifname "eth0" meta l4proto udp numgen random mod 100 < $loss_pct counter drop
    }
}
EOF
    fi
done
# Wait (bounded) until the four bridge ports forward.
for _ in $(seq 1 50); do
    [ "$(bridge -n "$hub" link show | grep -c 'state forwarding')" = 4 ] && break
    sleep 0.1
done
[ "$(bridge -n "$hub" link show | grep -c 'state forwarding')" = 4 ] \
    || { echo "demo: bridge ports not forwarding" >&2; exit 1; }

# --- 3. Dovecot LMTP in each receiver ----------------------------------------
start_dovecot() {       # start_dovecot I
    local i=$1 d=$work/n$1/dovecot
    mkdir -p "$d/run" "$d/state" "$d/mail"
    chmod 755 "$work/n$i" "$d"
    chown nobody:nogroup "$d/mail"
    cat > "$d/dovecot.conf" <<EOF
# Throw-away Dovecot 2.3: LMTP on 127.0.0.1:24 inside $prefix-n$i only.
instance_name = $prefix-n$i
base_dir = $d/run
state_dir = $d/state
log_path = $d/dovecot.log
info_log_path = $d/dovecot.log
protocols = lmtp
listen = 127.0.0.1
ssl = no
auth_mechanisms = plain
disable_plaintext_auth = no
passdb {
  driver = static
  args = nopassword=y
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$d/mail/%d/%n
}
mail_location = maildir:~/Maildir
first_valid_uid = 1
recipient_delimiter =
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = 24
  }
  unix_listener lmtp {
    mode = 0600
  }
}
service imap-login {
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    port = 0
  }
}
service pop3-login {
  inet_listener pop3 {
    port = 0
  }
  inet_listener pop3s {
    port = 0
  }
}
service submission-login {
  inet_listener submission {
    port = 0
  }
}
EOF
    ip netns exec "$prefix-n$i" dovecot -c "$d/dovecot.conf"
    for _ in $(seq 1 100); do
        if ip netns exec "$prefix-n$i" bash -c 'exec 3<>/dev/tcp/127.0.0.1/24' 2>/dev/null; then
            return 0
        fi
        sleep 0.05
    done
    echo "demo: Dovecot in n$i did not come up:" >&2; cat "$d/dovecot.log" >&2 || true
    return 1
}
step "Dovecot LMTP servers in n2, n3, n4 (127.0.0.1:24 in each namespace)"
for i in "${receivers[@]}"; do start_dovecot "$i"; echo "n$i: dovecot $(dovecot --version | cut -d' ' -f1) up"; done

# --- 4. capture the air --------------------------------------------------------
pcap=$work/air.pcap
touch "$pcap"
ip netns exec "$hub" dumpcap -q -i br0 -f udp -P -w "$pcap" 2>"$work/dumpcap.log" &
pids+=($!)
for _ in $(seq 1 50); do grep -q "Capturing" "$work/dumpcap.log" 2>/dev/null && break; sleep 0.1; done

# --- 5. the nodes --------------------------------------------------------------------
# Mails each receiver must get: the routes send each mail to its domains' nodes.
declare -A expect=([2]=3 [3]=2 [4]=2)
step "mule-node receivers n2..n4 (n$emcon_node in EMCON for ${emcon_s}s), then the sender n1"
for i in "${receivers[@]}"; do
    extra=()
    [ "$i" = "$emcon_node" ] && extra=(--emcon-until "$emcon_s")
    ip netns exec "$prefix-n$i" "$node_bin" --id "198.18.0.$i" --routes "$routes" \
        --hostname "n$i.mule.test" --rate $rate_bps --deliver "$work/n$i/deliver" \
        --lmtp 127.0.0.1:24 --expect "${expect[$i]}" --timeout "$node_timeout" \
        "${extra[@]}" >"$work/n$i.out" 2>"$work/n$i.err" &
    pids+=($!)
    eval "rx_pid_$i=$!"
done
sleep 0.5
t0=$(date +%s.%N)
set +e
ip netns exec "$prefix-n1" "$node_bin" --id 198.18.0.1 --routes "$routes" \
    --hostname hq.mule.test --rate $rate_bps --send "$mail_dir" \
    --timeout "$node_timeout" 2>"$work/n1.err" | tee "$work/n1.out" | sed 's/^/  /'
sender_rc=${PIPESTATUS[0]}
set -e
t1=$(date +%s.%N)

# Receivers stop by themselves once they have everything and are idle;
# give them a few seconds, then ask them to stop.
declare -A rx_rc
for _ in $(seq 1 50); do
    alive=0
    for i in "${receivers[@]}"; do kill -0 "$(eval echo "\$rx_pid_$i")" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.1
done
for i in "${receivers[@]}"; do
    p=$(eval echo "\$rx_pid_$i")
    kill -TERM "$p" 2>/dev/null || true
    set +e; wait "$p"; rx_rc[$i]=$?; set -e
done
kill "${pids[0]}" 2>/dev/null || true     # dumpcap
set +e; wait "${pids[0]}" 2>/dev/null; set -e
sleep 0.2

# --- 6. what happened --------------------------------------------------------------
fail=0
step "receivers (mule-node events)"
for i in "${receivers[@]}"; do
    sed 's/^/  /' "$work/n$i.out"
    [ "${rx_rc[$i]}" = 0 ] || { echo "  n$i: mule-node exit ${rx_rc[$i]}"; fail=1; }
done

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
f=$(find "$work/n2/dovecot/mail" -path '*/Maildir/new/*' -type f 2>/dev/null | sort | head -1)
[ -n "$f" ] && grep -E '^(Return-Path|Delivered-To|Received|[[:space:]]+(by|with|for|id))' "$f" \
    | tr -d '\r' | head -12 | sed 's/^/  /'

step "the air, as tshark decodes it (-o p_mul.decode:cdt)"
ts=(tshark -n -r "$pcap" -d 'udp.port==2751-2754,p_mul'
    -o p_mul.relative_msgid:FALSE -o p_mul.decode:cdt)
"${ts[@]}" -T fields -e p_mul.pdu_type -e p_mul.analysis.retrans_no -Y p_mul \
    2>/dev/null >"$work/types.txt" || true
total=$(grep -c . "$work/types.txt" || true)
echo "$total P_MUL datagrams captured on the hub bridge; by PDU type:"
awk -F'\t' 'BEGIN { split("Data Ack Address Discard_Message Announce Request Reject Release", n, " ") }
    { t = n[$1 + 1]; if (t == "") t = "type-" $1; c[t]++; if ($2 != "") r[t]++ }
    END { for (t in c) printf "  %6d %s_PDU%s\n", c[t], t, r[t] ? " (" r[t] " retransmitted)" : "" }' \
    "$work/types.txt" | sort -rn
echo "first lines (Data_PDUs show as CDT: tshark inflated the CompressedData):"
"${ts[@]}" -Y p_mul 2>/dev/null | head -6 | cut -c1-120 | sed 's/^/  /'
"${ts[@]}" -q -z expert 2>/dev/null >"$work/expert.txt" || true
echo "tshark expert summary:"
grep -E '^(Errors|Warns|Notes|Chats) \(' "$work/expert.txt" | sed 's/^/  /' || echo "  (none)"
experts=$(grep -cE '^(Errors|Warns) \(' "$work/expert.txt" || true)
if [ "$experts" != 0 ]; then
    echo "expert items of severity Warn or Error:"; sed 's/^/  /' "$work/expert.txt" | head -30
    fail=1
fi
[ "$total" -gt 0 ] || fail=1

step "verdict"
awk -v a="$t0" -v b="$t1" -v rc="$sender_rc" 'BEGIN { printf "sender exit %s, mail phase %.1f s\n", rc, b - a }' 
[ "$sender_rc" = 0 ] || fail=1
if [ $fail = 0 ]; then
    echo "DEMO PASSED: every mail acknowledged over P_MUL and stored by Dovecot unchanged"
    exit 0
fi
keep=1; echo "DEMO FAILED (logs kept in $work)"
for i in 1 2 3 4; do [ -s "$work/n$i.err" ] && { echo "-- n$i stderr:"; tail -5 "$work/n$i.err"; }; done
exit 1
