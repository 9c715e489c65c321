# muled_lib.sh: what the muled end-to-end tests share (source it; bash).
# A test sets $src (the source tree), sources this file and calls ml_begin,
# which checks what the test needs, sets $bld (build dir), $work (temp dir)
# and $prefix (namespace prefix), sources netsim/nsnet.sh and installs the
# EXIT trap that cleans up.
#
#   ml_begin NAME NODES BUILDDIR [NEED...]
#                              skip (exit 77) unless root with ip netns,
#                              muled and mule-submit built, and each NEED
#                              there: a command on PATH, tools/X built in
#                              BUILDDIR, or user:NAME; work dir /tmp/NAME.*
#   ml_bg PID                  a background process to kill at exit (before
#                              muled stops); ml_bg_pids lists them
#   ml_bg_stop                 kill and reap those now, and forget them
#   ml_atexit CMD              eval CMD at exit, after muled stopped and the
#                              namespaces went (umount, MTAs, extra dirs)
#   ML_KEEP=1                  keep $work even when the test passes
#   ml_conf I [KEY=VALUE...]   write $work/n$I/muled.conf for node I (routes:
#                              $work/routes-n$I.conf if it exists, else
#                              $work/routes.conf written by ml_routes)
#   ml_start I                 start muled -f in node I (log $work/n$I/log)
#   ml_stop I [SIG]            stop it (default TERM), wait (bounded)
#   ml_submit I FROM [OPTS] RCPT... < MESSAGE   mule-submit on node I
#   ml_wait SECONDS CMD...     poll CMD every 0.2 s until it succeeds
#   ml_count DIR               messages in a Maildir tree (new/ and cur/)
#   ml_cleanup N               stop every muled, delete the namespaces

declare -A ml_pid
ml_bg_pids=()
ml_atexit_cmds=()
ML_KEEP=${ML_KEEP:-0}

ml_skip() { echo "SKIP: $*"; exit 77; }

ml_begin() {
    local name=$1 need
    ml_nodes=$2
    bld=$(realpath "${3:?BUILDDIR}")
    shift 3
    [ "$(id -u)" = 0 ] || ml_skip "needs root"
    ip netns list >/dev/null 2>&1 || ml_skip "no ip netns"
    for need in tools/muled tools/mule-submit "$@"; do
        case $need in
        tools/*) [ -x "$bld/$need" ] || ml_skip "$need not built" ;;
        user:*) getent passwd "${need#user:}" >/dev/null ||
                ml_skip "no user ${need#user:} (tools/install-deps.sh creates it)" ;;
        *) command -v "$need" >/dev/null || ml_skip "no $need" ;;
        esac
    done
    source "$src/netsim/nsnet.sh"
    prefix=$name-$$
    work=$(mktemp -d "/tmp/$name.XXXXXX")
    chmod 755 "$work"
    trap ml_end EXIT
}

# The EXIT trap: the test's own background processes, every muled, the
# namespaces, then the test's extra steps; $work stays when the test failed.
ml_end() {
    local rc=$? c
    ml_bg_stop
    ml_cleanup "$ml_nodes"
    for c in "${ml_atexit_cmds[@]}"; do eval "$c" || true; done
    if [ $rc != 0 ] || [ "$ML_KEEP" = 1 ]; then echo "logs kept in $work"; else rm -rf "$work"; fi
    exit $rc
}

ml_bg() { ml_bg_pids+=("$1"); }

ml_bg_stop() {
    local p
    # Only the processes the test started, by PID.
    for p in "${ml_bg_pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${ml_bg_pids[@]}"; do wait "$p" 2>/dev/null || true; done
    ml_bg_pids=()
}

ml_atexit() { ml_atexit_cmds+=("$1"); }

ml_routes() {
    cat > "$work/routes.conf" <<'EOF'
# Every node reads the same table: a route naming the node's own ID is
# local delivery there (docs/configuration.md, "Routing table").
route hq.mule.test   group 239.1.1.2 nodes 198.18.0.1
route n2.mule.test   group 239.1.1.2 nodes 198.18.0.2
route n3.mule.test   group 239.1.1.2 nodes 198.18.0.3
route n4.mule.test   group 239.1.1.2 nodes 198.18.0.4
route all.mule.test  group 239.1.1.2 nodes 198.18.0.2,198.18.0.3,198.18.0.4
EOF
}

ml_conf() {
    local i=$1 kv r=$work/routes.conf
    shift
    mkdir -p "$work/n$i"
    # muled runs as user mule (muled.conf "user"): it must reach its spool.
    chmod 755 "$work" "$work/n$i"
    [ -f "$work/routes-n$i.conf" ] && r=$work/routes-n$i.conf
    {
        echo "node_id = 198.18.0.$i"
        echo "spool_dir = $work/n$i/spool"
        echo "routes = $r"
        echo "hostname = n$i.mule.test"
        echo "rate = ${ML_RATE:-56000}"
        echo "shared_medium = no"     # nsnet: a tbf uplink per node
        echo "backoff_min = 2s"
        echo "backoff_max = 10s"
        echo "pickup_interval = 200ms"
        echo "control_socket = $work/n$i/run/muled.sock"
        for kv in "$@"; do echo "${kv%%=*} = ${kv#*=}"; done
    } > "$work/n$i/muled.conf"
}

ml_start() {
    local i=$1
    ip netns exec "$prefix-n$i" "$bld/tools/muled" -f -c "$work/n$i/muled.conf" \
        >>"$work/n$i/log" 2>&1 &
    ml_pid[$i]=$!
}

ml_stop() {
    local i=$1 sig=${2:-TERM} p=${ml_pid[$1]:-}
    [ -n "$p" ] || return 0
    kill -"$sig" "$p" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
    ml_pid[$i]=
}

# mulectl against node i's muled (its control socket from its muled.conf).
ml_ctl() {
    local i=$1
    shift
    "$bld/tools/mulectl" -c "$work/n$i/muled.conf" "$@"
}

ml_submit() {
    local i=$1 from=$2
    shift 2
    ip netns exec "$prefix-n$i" "$bld/tools/mule-submit" -d "$work/n$i/spool" -f "$from" "$@"
}

ml_wait() {
    local secs=$1 n
    shift
    n=$(( secs * 5 ))
    for _ in $(seq 1 "$n"); do "$@" && return 0; sleep 0.2; done
    return 1
}

ml_count() {
    { find "$1" -type f \( -path '*/new/*' -o -path '*/cur/*' \) 2>/dev/null || true; } | wc -l
}

ml_cleanup() {
    local n=$1 i
    for i in "${!ml_pid[@]}"; do ml_stop "$i" KILL; done
    nsnet_down "$prefix" "$n"
}
