# mta_lib.sh: real MTAs for the end-to-end tests and the demo (source it;
# bash, root).  Each runs inside a network namespace on its loopback, under
# a private directory, and is stopped by mta_cleanup (by PID, bounded).
# Recipes: ../shared/testbed/mta/ (measured there); written anew here.
#
#   mta_dovecot_lmtp NS DIR PORT         Dovecot LMTP on 127.0.0.1:PORT in NS;
#                                        any user; mail in DIR/mail/DOMAIN/USER/Maildir
#   mta_postfix NS DIR PORT [REJECT]     Postfix smtpd on 127.0.0.1:PORT in NS;
#                                        every recipient to DIR/Maildir (virtual),
#                                        except REJECT, refused "550 5.1.1"
#   mta_postfix_relay NS DIR PORT TRANSPORT
#                                        Postfix smtpd on 127.0.0.1:PORT in NS that
#                                        relays every *.mule.test recipient with the
#                                        Postfix TRANSPORT (smtp:[127.0.0.1]:2525,
#                                        lmtp:unix:/path: muled)
#   mta_exim_relay NS DIR PORT TARGET    Exim on 127.0.0.1:PORT in NS relaying
#                                        every *.mule.test recipient by SMTP to
#                                        127.0.0.1:TARGET (muled); Exim sends BDAT
#                                        when offered.  Needs $MTA_EXIM (default
#                                        /opt/mule-exim/usr/sbin/exim4, unpacked by
#                                        tools/install-deps.sh); returns 1 without it
#   mta_sendmail NS DIR PORT RULE...     sendmail on 127.0.0.1:PORT in NS, its
#                                        sendmail.cf made from the packaged m4.
#                                        RULE: DOMAIN=mbox (DOMAIN is local; a
#                                        recipient USER gets DIR/mail/USER, an mbox),
#                                        DOMAIN=TARGET (DOMAIN and its subdomains by
#                                        ESMTP to 127.0.0.1:TARGET; one TARGET per
#                                        instance) or hold (queue only: each mail
#                                        stays in DIR/queue until mta_sendmail_run).
#                                        SMTP traffic in DIR/traffic.log (-X).
#                                        Needs $MTA_SENDMAIL (default
#                                        /opt/mule-sendmail, unpacked by
#                                        tools/install-deps.sh) and m4; returns 1
#                                        without them
#   mta_sendmail_run NS DIR              one queue run of that sendmail, in the
#                                        foreground
#   mta_cleanup                          stop all of them

mta_dovecots=()
mta_postfixes=()
mta_exims=()
mta_sendmails=()
MTA_EXIM=${MTA_EXIM:-/opt/mule-exim/usr/sbin/exim4}
MTA_SENDMAIL=${MTA_SENDMAIL:-/opt/mule-sendmail}

mta_dovecot_lmtp() {
    local ns=$1 d=$2 port=$3
    mkdir -p "$d/run" "$d/state" "$d/mail"
    chmod 755 "$(dirname "$d")" "$d"
    chown nobody:nogroup "$d/mail"
    cat > "$d/dovecot.conf" <<EOF
# Throw-away Dovecot: LMTP on 127.0.0.1:$port inside $ns only.
instance_name = $ns-$port
base_dir = $d/run
state_dir = $d/state
log_path = $d/dovecot.log
info_log_path = $d/dovecot.log
protocols = lmtp
listen = 127.0.0.1
ssl = no
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
    port = $port
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
    ip netns exec "$ns" dovecot -c "$d/dovecot.conf" || return 1
    mta_dovecots+=("$ns|$d")
    mta_up "$ns" "$port" Dovecot "$d/dovecot.log"
}

# mta_up NS PORT NAME LOG: wait (5 s at most) until NAME listens on
# 127.0.0.1:PORT in NS; else show LOG and fail.
mta_up() {
    local ns=$1 port=$2
    for _ in $(seq 1 100); do
        ip netns exec "$ns" bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null && return 0
        sleep 0.05
    done
    echo "mta: $3 in $ns did not come up" >&2
    cat "$4" >&2 2>/dev/null || true
    return 1
}

mta_postfix() {
    mta_postfix_common "$1" "$2" "$3" "smtpd_recipient_restrictions = check_recipient_access inline:{ {${4:-nobody@invalid}=550 5.1.1 no such user here} }, permit
virtual_mailbox_domains = static:all"
}

mta_postfix_relay() {
    mta_postfix_common "$1" "$2" "$3" "relay_domains = mule.test
transport_maps = inline:{ mule.test=$4, .mule.test=$4 }
smtpd_relay_restrictions = permit_mynetworks, permit_auth_destination, reject"
}

mta_postfix_common() {
    local ns=$1 d=$2 port=$3 extra=$4 p uid gid
    mkdir -p "$d/etc" "$d/spool" "$d/data" "$d/Maildir"
    chmod 755 "$d"
    p=$d
    while [ "$p" != / ]; do p=$(dirname "$p"); chmod o+x "$p"; done
    chown postfix:postfix "$d/data"
    uid=$(id -u postfix)
    gid=$(id -g postfix)
    chown "$uid:$gid" "$d/Maildir"
    cat > "$d/etc/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $d/spool
data_directory = $d/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = $d/maillog
maillog_file_prefixes = $d
myhostname = mta.$ns.mule.test
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
$extra
virtual_mailbox_base = $d
virtual_mailbox_maps = static:Maildir/
virtual_uid_maps = static:$uid
virtual_gid_maps = static:$gid
virtual_minimum_uid = 1
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
alias_maps =
alias_database =
local_recipient_maps =
biff = no
smtputf8_enable = no
queue_run_delay = 5s
minimal_backoff_time = 5s
maximal_backoff_time = 30s
message_size_limit = 52428800
virtual_mailbox_limit = 0
EOF
    cat > "$d/etc/master.cf" <<EOF
127.0.0.1:$port inet n - n - - smtpd
pickup     unix  n - n 60   1 pickup
cleanup    unix  n - n -    0 cleanup
qmgr       unix  n - n 300  1 qmgr
rewrite    unix  - - n -    - trivial-rewrite
bounce     unix  - - n -    0 bounce
defer      unix  - - n -    0 bounce
trace      unix  - - n -    0 bounce
verify     unix  - - n -    1 verify
proxymap   unix  - - n -    - proxymap
smtp       unix  - - n -    - smtp
lmtp       unix  - - n -    - lmtp
showq      unix  n - n -    - showq
error      unix  - - n -    - error
retry      unix  - - n -    - error
discard    unix  - - n -    - discard
virtual    unix  - n n -    - virtual
anvil      unix  - - n -    1 anvil
scache     unix  - - n -    1 scache
postlog    unix-dgram n - n - 1 postlogd
EOF
    # Postfix waits while its config files are younger than ~2 s.
    touch -d "@$(( $(date +%s) - 10 ))" "$d"/etc/*
    ip netns exec "$ns" postfix -c "$d/etc" start >/dev/null 2>&1 ||
        { cat "$d/maillog" >&2 2>/dev/null; return 1; }
    mta_postfixes+=("$ns|$d")
    mta_up "$ns" "$port" Postfix "$d/maillog"
}

mta_exim_relay() {
    local ns=$1 d=$2 port=$3 target=$4 p
    [ -x "$MTA_EXIM" ] && getent passwd Debian-exim >/dev/null || return 1
    mkdir -p "$d/spool" "$d/log"
    chmod 755 "$d"
    p=$d
    while [ "$p" != / ]; do p=$(dirname "$p"); chmod o+x "$p"; done
    chown -R Debian-exim:Debian-exim "$d/spool" "$d/log"
    cat > "$d/exim.conf" <<EOF
# Throw-away Exim: 127.0.0.1:$port in $ns, relaying mule.test to muled.
primary_hostname = exim.$ns.mule.test
exim_path = $MTA_EXIM
spool_directory = $d/spool
log_file_path = $d/log/%slog
pid_file_path = $d/exim.pid
daemon_smtp_ports = $port
local_interfaces = 127.0.0.1
tls_advertise_hosts =
host_lookup =
rfc1413_hosts =
keep_environment =
domainlist to_mule = mule.test : *.mule.test
acl_smtp_rcpt = check_rcpt

begin acl
check_rcpt:
  accept hosts = 127.0.0.1
         domains = +to_mule
  deny   message = relay not permitted

begin routers
to_muled:
  driver = manualroute
  domains = +to_mule
  route_list = * 127.0.0.1
  self = send
  transport = muled_smtp

begin transports
muled_smtp:
  driver = smtp
  port = $target
  allow_localhost
  hosts_avoid_tls = *

begin retry
* * F,10m,5s
EOF
    ip netns exec "$ns" "$MTA_EXIM" -C "$d/exim.conf" -bd -q5s 2>>"$d/log/start.log" || return 1
    for _ in $(seq 1 50); do [ -s "$d/exim.pid" ] && break; sleep 0.1; done
    mta_exims+=("$d")
}

mta_sendmail() {
    local ns=$1 d=$2 port=$3 r target= hold=0 mode=background qrun=-q5s p
    local locals=() relays=()
    local bin=$MTA_SENDMAIL/usr/libexec/sendmail cf=$MTA_SENDMAIL/usr/share/sendmail/cf
    shift 3
    [ -x "$bin/sendmail" ] && [ -r "$cf/m4/cf.m4" ] && command -v m4 >/dev/null || return 1
    for r in "$@"; do
        case $r in
        hold) hold=1 ;;
        *=mbox) locals+=("${r%=mbox}") ;;
        *=[0-9]*)
            [ -z "$target" ] || [ "$target" = "${r#*=}" ] ||
                { echo "mta: one relay target per sendmail" >&2; return 1; }
            target=${r#*=}
            relays+=("${r%%=*}") ;;
        *) echo "mta: bad sendmail rule $r" >&2; return 1 ;;
        esac
    done
    # A held mail: accepted into the queue, and the daemon never runs the
    # queue by itself, so the queue file stays until mta_sendmail_run.
    [ $hold = 1 ] && { mode=queue; qrun=; }
    # sendmail refuses a queue or config it thinks others could change:
    # private directories, each parent searchable but not writable.
    mkdir -p "$d/queue" "$d/mail"
    chmod 755 "$d"
    chmod 700 "$d/queue"
    p=$d
    while [ "$p" != / ]; do p=$(dirname "$p"); chmod o+x "$p"; done
    # The local mailer runs as DefaultUser (nobody): the mbox directory is
    # open to it the way /var/mail is.
    chmod 1777 "$d/mail"
    # The local mailer appends to an mbox; sendmail writes the "From " line
    # (no F=n) and escapes body lines that start with "From " (F=E).
    printf '#!/bin/sh\n# The local mailer of the sendmail in %s; $1: the user.\n%s\n' \
        "$ns" "umask 077; { cat; echo; } >> \"$d/mail/\$1\"" > "$d/deliver"
    chmod 755 "$d/deliver"
    # No DNS in the namespace: hosts from files only.  Local delivery needs
    # an alias database, even one without a local user in it.
    printf 'hosts files\naliases files\n' > "$d/service.switch"
    printf 'postmaster: root\n' > "$d/aliases"
    : > "$d/mailertable"
    for r in "${relays[@]}"; do
        printf '%s esmtp:[127.0.0.1]\n.%s esmtp:[127.0.0.1]\n' "$r" "$r" >> "$d/mailertable"
    done
    {
        printf '%s\n' "divert(-1)" "# Throw-away sendmail: 127.0.0.1:$port inside $ns only." \
            "divert(0)dnl"
        # m4 quotes `like this'; written << >> here, out of the shell's way.
        # The machine's load must not make it queue or refuse (QueueLA,
        # RefuseLA: other tests share the cores), and the mailertable may
        # sit under /tmp (MapInUnsafeDirPath: a world-writable parent).
        sed "s/<</\`/g; s/>>/'/g" <<EOF
OSTYPE(<<linux>>)dnl
define(<<confDOMAIN_NAME>>, <<mta.$ns.mule.test>>)dnl
define(<<QUEUE_DIR>>, <<$d/queue>>)dnl
define(<<STATUS_FILE>>, <<$d/sendmail.st>>)dnl
define(<<ALIAS_FILE>>, <<$d/aliases>>)dnl
define(<<confPID_FILE>>, <<$d/sendmail.pid>>)dnl
define(<<HELP_FILE>>, <<$MTA_SENDMAIL/etc/mail/helpfile>>)dnl
define(<<confSERVICE_SWITCH_FILE>>, <<$d/service.switch>>)dnl
define(<<confDEAD_LETTER_DROP>>, <<$d/dead.letter>>)dnl
define(<<confDEF_USER_ID>>, <<nobody:nogroup>>)dnl
define(<<confTO_IDENT>>, <<0>>)dnl
define(<<confDONT_PROBE_INTERFACES>>, <<True>>)dnl
define(<<confBIND_OPTS>>, <<-DNSRCH -DEFNAMES>>)dnl
define(<<confDELIVERY_MODE>>, <<$mode>>)dnl
define(<<confQUEUE_LA>>, <<1000>>)dnl
define(<<confREFUSE_LA>>, <<1000>>)dnl
define(<<confDONT_BLAME_SENDMAIL>>, <<MapInUnsafeDirPath>>)dnl
define(<<ESMTP_MAILER_ARGS>>, <<TCP \$h ${target:-25}>>)dnl
define(<<LOCAL_MAILER_PATH>>, <<$d/deliver>>)dnl
define(<<LOCAL_MAILER_ARGS>>, <<deliver \$u>>)dnl
define(<<LOCAL_MAILER_FLAGS>>, <<PE9>>)dnl
MODIFY_MAILER_FLAGS(<<LOCAL>>, <<-w>>)dnl
DAEMON_OPTIONS(<<Port=$port, Addr=127.0.0.1, Name=MTA>>)dnl
FEATURE(<<no_default_msa>>)dnl
FEATURE(<<nocanonify>>)dnl
FEATURE(<<accept_unresolvable_domains>>)dnl
FEATURE(<<accept_unqualified_senders>>)dnl
FEATURE(<<mailertable>>, <<hash $d/mailertable>>)dnl
$(for r in "${relays[@]}"; do echo "RELAY_DOMAIN(<<$r>>)dnl"; done)
$(for r in "${locals[@]}"; do echo "LOCAL_DOMAIN(<<$r>>)dnl"; done)
MAILER(<<local>>)dnl
MAILER(<<smtp>>)dnl
EOF
    } > "$d/sendmail.mc"
    m4 -D_CF_DIR_="$cf/" "$cf/m4/cf.m4" "$d/sendmail.mc" > "$d/sendmail.cf" 2>"$d/m4.err" ||
        { cat "$d/m4.err" >&2; return 1; }
    # Its warnings (/tmp is world-writable) go to start.log, shown on failure.
    "$bin/makemap" -C "$d/sendmail.cf" hash "$d/mailertable" < "$d/mailertable" \
        2>>"$d/start.log" && mta_sendmail_cmd "$ns" "$d" -bi >>"$d/start.log" 2>&1 &&
        mta_sendmail_cmd "$ns" "$d" -bd $qrun 2>>"$d/start.log" ||
        { cat "$d/start.log" >&2; return 1; }
    mta_sendmails+=("$d")
    mta_up "$ns" "$port" sendmail "$d/start.log"
}

# -qf: the queue run stays in the foreground, so the mail has gone (or
# was deferred) when it returns.
mta_sendmail_run() { mta_sendmail_cmd "$1" "$2" -qf; }

# sendmail wants a qualified host name before it reads its config: with an
# unqualified one (no FQDN in /etc/hosts, no DNS in the namespace) it sleeps
# 60 s for retry.  So it runs in its own UTS namespace named after its
# config's $j, which leaves the machine's host name alone.
mta_sendmail_cmd() {
    local ns=$1 d=$2
    shift 2
    ip netns exec "$ns" unshare --uts sh -c 'hostname "$0" && exec "$@"' "mta.$ns.mule.test" \
        "$MTA_SENDMAIL/usr/libexec/sendmail/sendmail" -C "$d/sendmail.cf" -X "$d/traffic.log" "$@"
}

mta_cleanup() {
    local e ns d pid
    for d in "${mta_exims[@]}"; do
        pid=$(cat "$d/exim.pid" 2>/dev/null || true)
        [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    done
    mta_exims=()
    for d in "${mta_sendmails[@]}"; do
        # The pid file's first line is the daemon's PID (the second its argv).
        pid=$(head -1 "$d/sendmail.pid" 2>/dev/null || true)
        [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
        if [ -n "$pid" ]; then
            for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -9 "$pid" 2>/dev/null || true
        fi
    done
    mta_sendmails=()
    for e in "${mta_dovecots[@]}"; do
        ns=${e%%|*}; d=${e#*|}
        pid=$(cat "$d/run/master.pid" 2>/dev/null || true)
        ip netns exec "$ns" dovecot -c "$d/dovecot.conf" stop 2>/dev/null || true
        if [ -n "$pid" ]; then
            for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -9 "$pid" 2>/dev/null || true
        fi
    done
    for e in "${mta_postfixes[@]}"; do
        ns=${e%%|*}; d=${e#*|}
        pid=$(tr -d ' ' < "$d/spool/pid/master.pid" 2>/dev/null || true)
        ip netns exec "$ns" postfix -c "$d/etc" stop >/dev/null 2>&1 || true
        if [ -n "$pid" ]; then
            for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -9 "$pid" 2>/dev/null || true
        fi
    done
    mta_dovecots=()
    mta_postfixes=()
}
