#!/usr/bin/env python3
"""seeds_muled.py: seed corpora of fuzz_bsmtp_client and fuzz_mule_conf.

Usage: seeds_muled.py client|server|conf SEED_DIR STAMP

client: server byte streams (first octet = mode: LMTP, BDAT, needs, step)
for whole SMTP and LMTP sessions, refusals, multi-line replies and junk.
server: client byte streams (first octet = mode) for fuzz_bsmtp_server.
conf: muled.conf texts: the minimal one, every option, and broken lines.
Standard library only; deterministic.
"""
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import seedlib  # noqa: E402  (tests/fuzz/seedlib.py)

SMTP = (b"220 mx\r\n250-mx\r\n250-PIPELINING\r\n250-DSN\r\n250-CHUNKING\r\n"
        b"250 BINARYMIME\r\n250 ok\r\n250 ok\r\n550 5.1.1 no\r\n250 ok\r\n"
        b"354 go\r\n250 2.0.0 queued\r\n221 bye\r\n")
LMTP = (b"220 lmtp\r\n250-lmtp\r\n250 PIPELINING\r\n250 ok\r\n250 ok\r\n"
        b"452 4.2.2 full\r\n250 ok\r\n354 go\r\n250 2.0.0 a\r\n550 5.2.1 c\r\n221 bye\r\n")
CLIENT = {
    "smtp_pipelined": b"\x00" + SMTP,
    "lmtp": b"\x01" + LMTP,
    "smtp_bdat": b"\x02" + SMTP.replace(b"354 go\r\n", b""),
    "smtp_lockstep_bytewise": b"\x00" + SMTP.replace(b"250-PIPELINING\r\n", b""),
    "needs_missing": b"\x04220 mx\r\n250 mx\r\n",
    "helo_fallback": b"\x08220 old\r\n502 no\r\n250 hi\r\n250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n250 ok\r\n",
    "greeting_refused": b"\x00554 go away\r\n",
    "junk": b"\x10" + b"hello there\r\n\x00\xff" * 4,
}
SERVER = {
    "smtp": (b"\x00EHLO c\r\nMAIL FROM:<a@h.test> SIZE=10\r\nRCPT TO:<b@h.test>\r\n"
             b"RCPT TO:<no@h.test>\r\nDATA\r\n..x\r\n.\r\nQUIT\r\n"),
    "lmtp_bdat": (b"\x01LHLO c\r\nMAIL FROM:<a@h.test> BODY=BINARYMIME\r\n"
                  b"RCPT TO:<b@h.test>\r\nBDAT 3\r\n\x00\x01\x02BDAT 1 LAST\r\nz"),
    "starttls": b"\x08EHLO c\r\nSTARTTLS\r\nEHLO c\r\nQUIT\r\n",
    "pregreet": b"\x02EHLO early\r\n",
    "long": b"\x04NOOP " + b"A" * 700 + b"\r\nMAIL FROM:<a@h.test>\r\n",
}
CONF = {
    "minimal": b"node_id = 198.18.0.1\nspool_dir = /s\nroutes = /r\n",
    "all": (b"node_id = 198.18.0.2\r\nspool_dir = /s\r\nroutes = /r\r\nhostname = h\r\n"
            b"deliver = lmtp:[::1]:24\r\nmaildir = /m\r\nemcon = yes\r\n"
            b"emcon_destinations = 198.18.0.3,198.18.0.4\r\ngroup = 239.1.1.9\r\n"
            b"interface = 198.18.0.2\r\nmcast_ttl = 4\r\nrate = 64kbit\r\npdu_size = 1k\r\n"
            b"max_message_size = 1M\r\nexpiry = 2h\r\ndelivery_lifetime = 3d\r\n"
            b"backoff_min = 10s\r\nbackoff_max = 1h\r\negress_timeout = 1m\r\n"
            b"egress_concurrency = 2\r\npickup_interval = 1s\r\nack_rtx_min = 1s\r\n"
            b"ack_rtx_max = 1m\r\nemcon_rti = 30s\r\nemcon_rtc = 4\r\ncompress_level = 6\r\n"
            b"log_level = warn\r\n"),
    "errors": b"# c\nbogus = 1\nrate = fast\nnode_id 1\n",
    "dup": b"rate = 1\nrate = 2\n",
}


def main():
    sets = {"client": CLIENT, "server": SERVER, "conf": CONF}
    if len(sys.argv) != 4 or sys.argv[1] not in sets:
        sys.exit("usage: seeds_muled.py client|server|conf SEED_DIR STAMP")
    kind, seed_dir, stamp = sys.argv[1:]
    n = seedlib.write_seeds(seed_dir, sets[kind])
    seedlib.write_stamp(stamp, "%d seeds\n" % n)


if __name__ == "__main__":
    main()
