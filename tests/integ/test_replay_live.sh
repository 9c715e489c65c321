#!/bin/sh
# test_replay_live.sh: pmul-replay --send delivers a captured message to a
# receiving engine in a network namespace.
#
# The test creates namespace mule-rp-$$ with loopback up and multicast on,
# node addresses 198.18.0.1 (the replayed transmitter) and 198.18.0.2
# (the receiver) on lo, and a route for 239.0.0.0/8 on lo.  replay_rx (an
# engine bound to a UDP socket) runs inside as node 198.18.0.2; pmul-replay
# enters the namespace itself (--netns) and sends pmul_mule_cdt.pcap with
# the capture's node IDs rewritten to the lab's (so the Address_PDUs name
# the receiver), Expiry_Times moved to the present, and the spacing divided
# by 10.  Every rewritten datagram is re-encoded by the codec.
#
# Meanwhile pmul-dump captures live on lo inside the namespace (-i lo,
# a BPF filter for the data port) and is stopped with SIGINT at the end.
#
# Pass: the receiver delivers the three messages, each with the payload
# pmul-dump reports for the original capture (same length and FNV-1a); the
# live pmul-dump saw the rewritten PDUs with Fletcher checksums, reassembled
# the three messages for 198.18.0.2, and reported them after SIGINT.
# Skipped (77) unless root with `ip netns`.  The namespace and the receiver
# are removed by a trap whatever happens; every wait is bounded.
#
# usage: test_replay_live.sh PMUL_REPLAY PMUL_DUMP REPLAY_RX VECTORS_DIR
set -u

replay=$1 dump=$2 rx=$3 vectors=$4
pcap=$vectors/pmul_mule_cdt.pcap

if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null 2>&1; then
    echo "test_replay_live: needs root and ip(8); skipping"
    exit 77
fi
ns=mule-rp-$$
if ! ip netns add "$ns" 2>/dev/null; then
    echo "test_replay_live: ip netns add failed; skipping"
    exit 77
fi
tmp=$(mktemp -d /tmp/test_replay_live.XXXXXX)
rxpid=
dumppid=
cleanup() {
    for p in $rxpid $dumppid; do
        kill "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    ip netns del "$ns" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
    echo "FAIL test_replay_live: $*"
    for f in "$tmp"/*.out "$tmp"/*.err; do
        [ -f "$f" ] && { echo "--- $f"; cat "$f"; }
    done
    exit 1
}

ip -n "$ns" link set lo up multicast on || fail "lo up"
ip -n "$ns" addr add 198.18.0.1/32 dev lo || fail "address 198.18.0.1"
ip -n "$ns" addr add 198.18.0.2/32 dev lo || fail "address 198.18.0.2"
ip -n "$ns" route add 239.0.0.0/8 dev lo || fail "multicast route"

ip netns exec "$ns" "$rx" --node 198.18.0.2 --group 239.0.0.1 --count 3 \
    --timeout 30 >"$tmp/rx.out" 2>"$tmp/rx.err" &
rxpid=$!

# Live capture, bounded by -d in case the SIGINT below never comes.
ip netns exec "$ns" "$dump" -i lo -f 'udp dst port 2753' -d 60 --json \
    >"$tmp/live.out" 2>"$tmp/live.err" &
dumppid=$!

# Wait (at most 10 s) for the capture to run and the receiver to be bound
# and joined.
i=0
while ! grep -q '^ready$' "$tmp/rx.out" 2>/dev/null ||
      ! grep -q 'listening on lo' "$tmp/live.err" 2>/dev/null; do
    i=$((i + 1))
    [ $i -le 100 ] || fail "receiver not ready after 10 s"
    kill -0 "$rxpid" 2>/dev/null || fail "receiver exited early"
    kill -0 "$dumppid" 2>/dev/null || fail "pmul-dump -i exited early"
    sleep 0.1
done

"$replay" -r "$pcap" --send --netns "$ns" --speed 10 --refresh-expiry \
    --rewrite-source 192.0.2.1=198.18.0.1 --rewrite-source 192.0.2.2=198.18.0.2 \
    --bind 198.18.0.1 --mcast-if 198.18.0.1 >"$tmp/replay.out" 2>"$tmp/replay.err" \
    || fail "pmul-replay exited with $?"
grep -q '^summary frames=8 sent=8 rewritten=8 ' "$tmp/replay.out" \
    || fail "pmul-replay did not send and rewrite all 8 frames"

wait "$rxpid"
st=$?
rxpid=
[ $st -eq 0 ] || fail "receiver exited with $st"

# Stop the live capture; it must report and exit 0 within 10 s.
sleep 0.5
kill -INT "$dumppid" 2>/dev/null
i=0
while kill -0 "$dumppid" 2>/dev/null; do
    i=$((i + 1))
    [ $i -le 100 ] || fail "pmul-dump -i did not stop on SIGINT"
    sleep 0.1
done
wait "$dumppid"
st=$?
dumppid=
[ $st -eq 0 ] || fail "pmul-dump -i exited with $st"
grep -q '"kind":"summary"' "$tmp/live.out" || fail "pmul-dump -i printed no summary"
if grep '"kind":"pdu"' "$tmp/live.out" | grep -v '"cksum":"fletcher"' | grep -q .; then
    fail "pmul-dump -i saw a PDU without a Fletcher checksum"
fi
n=$(grep '"kind":"message"' "$tmp/live.out" | grep '"source_id":"198.18.0.1"' \
    | grep -c '"delivered":true')
[ "$n" -eq 3 ] || fail "pmul-dump -i reassembled $n messages, want 3"

# What pmul-dump says the original capture delivers, with the lab's IDs.
"$dump" -r "$pcap" -M | sed -n 's/^deliver node=192.0.2.2 src=192.0.2.1 \(msid=[0-9]* len=[0-9]* fnv=[0-9a-f]*\) .*/deliver src=198.18.0.1 \1/p' \
    | sort >"$tmp/want.out"
grep '^deliver ' "$tmp/rx.out" | sort >"$tmp/got.out"
[ "$(wc -l <"$tmp/want.out")" -eq 3 ] || fail "pmul-dump reports $(wc -l <"$tmp/want.out") deliveries, want 3"
cmp -s "$tmp/want.out" "$tmp/got.out" || fail "deliveries differ (want.out vs got.out)"
echo "test_replay_live: 3 messages delivered live, payloads identical;" \
    "live pmul-dump saw $(grep -c '"kind":"pdu"' "$tmp/live.out") PDUs"
exit 0
