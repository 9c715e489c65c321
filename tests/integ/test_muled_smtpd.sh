#!/usr/bin/env bash
# test_muled_smtpd.sh: muled's SMTP and LMTP listeners (issue 10), with
# Python's smtplib as the client and a real Postfix relaying into muled.
#
# n1 runs muled with smtpd_listen = 0.0.0.0:2525 (mynetworks: loopback
# only, smtpd_tls = may with a test CA for server and client
# certificates) and lmtpd_listen on a Unix socket; n2 is a Maildir
# receiver that also listens with smtpd_tls = required.  Checks: a pipelined SMTP transaction with one routable and one
# route-less recipient (250 and 550 5.1.2); the same after STARTTLS; an
# LMTP transaction (one reply per recipient); a client on n2's address
# without a certificate refused (554 5.7.1: never an open relay) and with
# a certificate of the CA accepted after STARTTLS; openssl s_client
# -starttls smtp verifies the chain; under smtpd_tls = required plaintext
# MAIL gets 530 5.7.0 and MAIL after STARTTLS 250; mails handed to real
# Postfix instances on n1 that relay to muled over SMTP and over LMTP on
# its Unix socket; a client trickling one line a second is cut off by
# smtpd_txn_timeout (421 4.4.2); swaks (EHLO keywords, pipelining, TLS,
# LMTP, 550 5.1.2, 552 5.3.4); Exim relaying into muled with BDAT; every
# accepted mail reaches n2 exactly once.
#
# usage: test_muled_smtpd.sh BUILDDIR      Exit 0 pass, 1 fail, 77 skip.
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$src/tests/integ/muled_lib.sh"
ml_begin muled-smtpd 2 "${1:-}"
source "$src/tests/integ/mta_lib.sh"
ml_atexit mta_cleanup

nsnet_up "$prefix" 2 ""
ml_routes
ML_RATE=1000000
# A test CA, a server certificate and a client certificate.
(
    cd "$work"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 \
        -subj /CN=mule-test-ca 2>/dev/null
    for who in server client; do
        openssl req -newkey rsa:2048 -nodes -keyout $who.key -out $who.csr \
            -subj /CN=$who.mule.test 2>/dev/null
        openssl x509 -req -in $who.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
            -out $who.pem -days 2 2>/dev/null
    done
)
ml_conf 1 "smtpd_listen=0.0.0.0:2525" "lmtpd_listen=unix:$work/n1/lmtp.sock" \
    "smtpd_tls=may" "smtpd_tls_cert=$work/server.pem" "smtpd_tls_key=$work/server.key" \
    "smtpd_tls_ca=$work/ca.pem" "smtpd_timeout=3s" "smtpd_txn_timeout=6s"
# n2 listens with smtpd_tls = required: plaintext MAIL must get 530 5.7.0.
ml_conf 2 "smtpd_listen=127.0.0.1:2525" "smtpd_tls=required" \
    "smtpd_tls_cert=$work/server.pem" "smtpd_tls_key=$work/server.key"
ml_start 1
ml_start 2
ml_wait 10 test -S "$work/n1/lmtp.sock" || { echo "FAIL: no LMTP socket"; exit 1; }
ok=1
cat > "$work/client.py" <<'PY'
import smtplib, ssl, sys
mode, target = sys.argv[1], sys.argv[2]
cert = sys.argv[3] if len(sys.argv) > 3 else None
msg = ("From: alice@hq.mule.test\r\nTo: bob@n2.mule.test\r\nSubject: via %s\r\n"
       "Message-ID: <%s.smtpd@hq.mule.test>\r\n\r\nhello over %s\r\n" % (mode, mode, mode))
try:
    if mode == "lmtp":
        s = smtplib.LMTP(target)
        s.ehlo_or_helo_if_needed()
    else:
        host, port = target.rsplit(":", 1)
        s = smtplib.SMTP(host, int(port), timeout=20)
        s.ehlo()
        if mode == "tls":
            ctx = ssl.create_default_context(cafile=cert.rsplit("/", 1)[0] + "/ca.pem")
            ctx.check_hostname = False
            if cert.endswith("/client"):
                ctx.load_cert_chain(cert + ".pem", cert + ".key")
            print("starttls:", s.starttls(context=ctx)[0], s.sock.version())
            s.ehlo()
    print("ESMTP:", " ".join(sorted(s.esmtp_features)))
    refused = s.sendmail("alice@hq.mule.test", ["bob@n2.mule.test", "x@nowhere.test"],
                         msg.encode())
    print("refused:", refused)
    s.quit()
except smtplib.SMTPException as e:
    print("error:", e)
PY
out=$(ip netns exec "$prefix-n1" python3 "$work/client.py" smtp 127.0.0.1:2525)
echo "$out" | sed 's/^/  smtp: /'
grep -q "pipelining" <<<"$out" && grep -q "mt-priority" <<<"$out" &&
    grep -q "chunking" <<<"$out" || { echo "FAIL: EHLO extensions"; ok=0; }
grep -q "x@nowhere.test': (550, b'5.1.2" <<<"$out" || { echo "FAIL: route-less RCPT not 550 5.1.2"; ok=0; }
out=$(ip netns exec "$prefix-n1" python3 "$work/client.py" lmtp "$work/n1/lmtp.sock")
echo "$out" | sed 's/^/  lmtp: /'
grep -q "x@nowhere.test': (550" <<<"$out" || { echo "FAIL: LMTP refusal"; ok=0; }
out=$(ip netns exec "$prefix-n1" python3 "$work/client.py" tls 127.0.0.1:2525 "$work/nocert")
echo "$out" | sed 's/^/  tls: /'
grep -q "starttls: 220 TLSv1.[23]" <<<"$out" || { echo "FAIL: STARTTLS"; ok=0; }
grep -q "x@nowhere.test': (550" <<<"$out" || { echo "FAIL: RCPT over TLS"; ok=0; }
out=$(ip netns exec "$prefix-n2" python3 "$work/client.py" tls 198.18.0.1:2525 "$work/nocert" 2>&1 || true)
echo "$out" | sed 's/^/  from n2, no certificate: /'
grep -q "554" <<<"$out" || { echo "FAIL: a client outside mynetworks was not refused"; ok=0; }
out=$(ip netns exec "$prefix-n2" python3 "$work/client.py" tls 198.18.0.1:2525 "$work/client" 2>&1 || true)
echo "$out" | sed 's/^/  from n2, certificate: /'
grep -q "x@nowhere.test': (550" <<<"$out" || { echo "FAIL: a client with a certificate was refused"; ok=0; }
# OpenSSL's own client: STARTTLS and a chain that verifies against the CA.
out=$(echo QUIT | ip netns exec "$prefix-n1" timeout 10 openssl s_client -starttls smtp \
      -connect 127.0.0.1:2525 -CAfile "$work/ca.pem" -verify_return_error \
      -servername server.mule.test 2>&1 || true)
echo "$out" | grep -E "^(Verify return code|New,|Protocol)" | sed 's/^/  s_client: /'
grep -q "Verify return code: 0 (ok)" <<<"$out" || { echo "FAIL: s_client STARTTLS"; ok=0; }
# smtpd_tls = required (n2): plaintext MAIL refused, MAIL after STARTTLS taken.
out=$(ip netns exec "$prefix-n2" python3 - "$work/ca.pem" <<'PY'
import smtplib, ssl, sys
s = smtplib.SMTP("127.0.0.1", 2525, timeout=10)
s.ehlo("plain")
print("ehlo plain: STARTTLS offered" if s.has_extn("starttls") else "no STARTTLS")
print("plain MAIL:", *s.mail("a@hq.mule.test"))
ctx = ssl.create_default_context(cafile=sys.argv[1])
ctx.check_hostname = False
s.starttls(context=ctx)
s.ehlo("tls")
print("tls MAIL:", *s.mail("a@hq.mule.test"))
s.quit()
PY
)
echo "$out" | sed 's/^/  required: /'
grep -q "plain MAIL: 530 b'5.7.0" <<<"$out" || { echo "FAIL: plaintext MAIL under required"; ok=0; }
grep -q "tls MAIL: 250" <<<"$out" || { echo "FAIL: MAIL after STARTTLS under required"; ok=0; }
# Slowloris: one line a second keeps resetting smtpd_timeout (3 s) but not
# smtpd_txn_timeout (6 s): 421 4.4.2 before the 12 lines are through.
out=$(ip netns exec "$prefix-n1" python3 - <<'PY'
import socket, time
s = socket.create_connection(("127.0.0.1", 2525), timeout=20)
f = s.makefile("rb")
def reply():
    while True:
        l = f.readline().decode()
        if not l or l[3:4] != "-":
            return l.strip()
reply()
for c in ("EHLO slow", "MAIL FROM:<a@hq.mule.test>", "RCPT TO:<bob@n2.mule.test>", "DATA"):
    s.sendall((c + "\r\n").encode()); reply()
t0 = time.time()
try:
    for i in range(12):
        s.sendall(b"trickle\r\n")
        time.sleep(1)
    s.sendall(b".\r\n")
except OSError:
    pass
print("after %.0fs: %s" % (time.time() - t0, reply()))
PY
)
echo "  slowloris: $out"
grep -q "421 4.4.2" <<<"$out" || { echo "FAIL: a trickling client was not cut off"; ok=0; }
# swaks, the operator's SMTP test tool: the EHLO keywords, a pipelined
# mail, STARTTLS with the chain verified, LMTP on the Unix socket, and the
# refusals an operator meets first (no route, over SIZE).
sw_ok=0
if command -v swaks >/dev/null; then
    sw() { set +e; out=$(ip netns exec "$prefix-n1" swaks --timeout 20 \
           --from alice@hq.mule.test "$@" 2>&1); rc=$?; set -e; }
    sw --server 127.0.0.1:2525 --to bob@n2.mule.test --quit-after EHLO
    for kw in PIPELINING "SIZE 10485760" 8BITMIME BINARYMIME CHUNKING SMTPUTF8 DSN \
              "MT-PRIORITY STANAG4406" DELIVERBY ENHANCEDSTATUSCODES STARTTLS; do
        grep -q "<-  250[- ]$kw\$" <<<"$out" || { echo "FAIL: swaks: EHLO lacks $kw"; ok=0; }
    done
    sw --server 127.0.0.1:2525 --to bob@n2.mule.test --pipeline --h-Subject "swaks pipelined"
    [ $rc = 0 ] || { echo "FAIL: swaks --pipeline exit $rc"; echo "$out" | tail -5; ok=0; }
    sw --server 127.0.0.1:2525 --to bob@n2.mule.test --tls --tls-verify \
       --tls-ca-path "$work/ca.pem" --tls-sni server.mule.test --h-Subject "swaks tls"
    [ $rc = 0 ] && grep -q "TLS started" <<<"$out" ||
        { echo "FAIL: swaks --tls exit $rc"; echo "$out" | tail -5; ok=0; }
    sw --socket "$work/n1/lmtp.sock" --protocol LMTP --to bob@n2.mule.test --h-Subject "swaks lmtp"
    [ $rc = 0 ] || { echo "FAIL: swaks LMTP exit $rc"; echo "$out" | tail -5; ok=0; }
    sw --server 127.0.0.1:2525 --to x@nowhere.test
    grep -q "<\*\* *550 5.1.2" <<<"$out" || { echo "FAIL: swaks: no 550 5.1.2"; ok=0; }
    head -c $((11 << 20)) /dev/zero | tr '\0' 'x' | fold -w 76 > "$work/big.txt"
    sw --server 127.0.0.1:2525 --to bob@n2.mule.test --body "$work/big.txt"
    grep -q "<\*\* *552 5.3.4" <<<"$out" ||
        { echo "FAIL: swaks: no 552 5.3.4 over SIZE"; echo "$out" | tail -8; ok=0; }
    echo "  swaks: EHLO keywords, pipelined, TLS (verified), LMTP, 550 5.1.2, 552 5.3.4 checked"
    sw_ok=3
fi
# A real Postfix on n1 relaying mule.test to muled over SMTP.
pf_ok=0
if command -v postfix >/dev/null; then
    # Once over SMTP, once over LMTP on muled's Unix socket (0660 as muled
    # makes it; Postfix's lmtp client runs as user postfix here).
    chmod 0666 "$work/n1/lmtp.sock"
    mta_postfix_relay "$prefix-n1" "$work/n1/postfix" 2626 "smtp:[127.0.0.1]:2525"
    mta_postfix_relay "$prefix-n1" "$work/n1/postfix-lmtp" 2627 "lmtp:unix:$work/n1/lmtp.sock"
    for port in 2626 2627; do
        printf 'From: alice@hq.mule.test\r\nTo: bob@n2.mule.test\r\nSubject: via postfix\r\nMessage-ID: <postfix.%s@hq.mule.test>\r\n\r\nrelayed by Postfix %s\r\n' $port $port |
            ip netns exec "$prefix-n1" python3 -c '
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=20)
s.sendmail("alice@hq.mule.test", ["bob@n2.mule.test"], sys.stdin.buffer.read())
s.quit()' $port
    done
    pf_ok=2
fi
# Exim relaying into muled: its smtp transport sends BDAT (CHUNKING).
ex_ok=0
if mta_exim_relay "$prefix-n1" "$work/n1/exim" 2628 2525; then
    printf 'From: alice@hq.mule.test\r\nTo: bob@n2.mule.test\r\nSubject: via exim\r\nMessage-ID: <exim.%s@hq.mule.test>\r\n\r\nrelayed by Exim with BDAT\r\n' $$ |
        ip netns exec "$prefix-n1" python3 -c '
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", 2628, timeout=20)
s.sendmail("alice@hq.mule.test", ["bob@n2.mule.test"], sys.stdin.buffer.read())
s.quit()'
    exim_sent() { grep -q "=> bob@n2.mule.test .* K C=\"250" "$work/n1/exim/log/mainlog" 2>/dev/null; }
    if ml_wait 30 exim_sent; then
        grep -h "=> bob@n2.mule.test" "$work/n1/exim/log/mainlog" | cut -c1-150 | sed 's/^/  exim: /'
        ex_ok=1
    else
        echo "FAIL: Exim did not hand the mail to muled with BDAT (K)"
        tail -5 "$work/n1/exim/log/mainlog" 2>/dev/null
        ok=0
    fi
else
    echo "  (no Exim: tools/install-deps.sh unpacks it into /opt/mule-exim)"
fi
want=$(( 4 + sw_ok + pf_ok + ex_ok ))
arrived() { [ "$(ml_count "$work/n2/spool/maildir")" -ge "$want" ]; }
ml_wait 60 arrived || { echo "FAIL: not all accepted mail reached n2"; ok=0; }
sleep 1
n=$(ml_count "$work/n2/spool/maildir")
echo "n2 Maildir: $n message(s), want $want"
[ "$n" = "$want" ] || ok=0
if [ $pf_ok = 2 ]; then
    for port in 2626 2627; do
        grep -rl "relayed by Postfix $port" "$work/n2/spool/maildir" >/dev/null ||
            { echo "FAIL: the mail Postfix relayed from port $port is missing"; ok=0; }
    done
fi
grep -h "smtpd" "$work/n1/log" | cut -c1-150 | sed -n 1,12p | sed 's/^/  /'
[ $ok = 1 ] && { echo PASS; exit 0; }
for i in 1 2; do echo "-- n$i"; tail -15 "$work/n$i/log"; done
exit 1
