# nsnet.sh: real multi-node networks in Linux network namespaces, for the
# demo and the end-to-end tests (source it; bash).  What netsim simulates,
# this builds with the kernel: one namespace per node with its address in
# 198.18.0.0/15 on a veth into a hub namespace whose bridge floods
# multicast to every port (like a radio net), a tbf rate on each node's
# egress, nftables random loss on a node's UDP input, and EMCON is the
# daemon's business.
#
#   nsnet_up PREFIX N RATE        namespaces PREFIX-hub, PREFIX-n1..nN;
#                                 node i has 198.18.0.i; RATE like 64kbit
#                                 ("" or 0: no tbf)
#   nsnet_loss PREFIX I PCT       drop PCT % of UDP arriving at node I
#   nsnet_exec PREFIX I CMD...    run CMD in node I
#   nsnet_down PREFIX N           delete them all (idempotent)
#
# Every loop is bounded; callers delete the namespaces in their EXIT trap.

nsnet_up() {
    local p=$1 n=$2 rate=${3:-} hub=$1-hub i ns
    ip netns add "$hub" || return 1
    ip -n "$hub" link set lo up
    ip -n "$hub" link add br0 type bridge mcast_snooping 0 stp_state 0 forward_delay 0
    ip -n "$hub" link set br0 up
    for i in $(seq 1 "$n"); do
        ns=$p-n$i
        ip netns add "$ns" || return 1
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
            net.ipv6.conf.default.disable_ipv6=1
        ip link add eth0 netns "$ns" type veth peer name "port$i" netns "$hub"
        ip -n "$ns" link set lo up
        ip -n "$ns" addr add "198.18.0.$i/15" dev eth0
        ip -n "$ns" link set eth0 up
        ip -n "$ns" route add 224.0.0.0/4 dev eth0
        ip -n "$hub" link set "port$i" master br0 up
        if [ -n "$rate" ] && [ "$rate" != 0 ]; then
            # About 4 s of queue at 64 kbit/s, as a radio modem buffers.
            ip netns exec "$ns" tc qdisc add dev eth0 root tbf rate "$rate" burst 1600 \
                limit 32000
        fi
    done
    for _ in $(seq 1 100); do
        [ "$(bridge -n "$hub" link show | grep -c 'state forwarding')" = "$n" ] && return 0
        sleep 0.1
    done
    echo "nsnet: bridge ports of $hub not forwarding" >&2
    return 1
}

nsnet_loss() {
    local p=$1 i=$2 pct=$3
    ip netns exec "$p-n$i" nft -f - <<EOF
table inet nsnet {
    chain input {
        type filter hook input priority -10; policy accept;
        iifname "eth0" meta l4proto udp numgen random mod 100 < $pct counter drop
    }
}
EOF
}

nsnet_exec() {
    local p=$1 i=$2
    shift 2
    ip netns exec "$p-n$i" "$@"
}

nsnet_down() {
    local p=$1 n=$2 i
    for i in $(seq 1 "$n"); do ip netns del "$p-n$i" 2>/dev/null || true; done
    ip netns del "$p-hub" 2>/dev/null || true
}
