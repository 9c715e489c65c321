#!/usr/bin/env python3
"""seeds_bsmtp_reply.py: write the seed corpus of fuzz_bsmtp_reply.

Usage: seeds_bsmtp_reply.py SEED_DIR STAMP

Writes SEED_DIR/ with SMTP and LMTP server reply streams that reach every
branch family of bsmtp_reply: greeting, multi-line EHLO and LHLO replies,
pipelined MAIL/RCPT/DATA replies, per-recipient LMTP replies, enhanced
status codes (good and malformed), bare codes, LF-only line ends, and the
errors (bad code, mixed codes, bare CR, NUL, over-long line).  Standard
library only; the output is deterministic.
"""
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import seedlib  # noqa: E402  (tests/fuzz/seedlib.py)

SEEDS = {
    "greeting": b"220 mx.example.net ESMTP ready\r\n",
    "ehlo": (b"250-mx.example.net\r\n250-PIPELINING\r\n250-CHUNKING\r\n"
             b"250-BINARYMIME\r\n250-8BITMIME\r\n250-SIZE 10485760\r\n"
             b"250-DSN\r\n250-SMTPUTF8\r\n250-MT-PRIORITY MIXER\r\n"
             b"250 DELIVERBY 120\r\n"),
    "pipelined": (b"250 2.1.0 ok\r\n250 2.1.5 ok\r\n550 5.1.1 no such user\r\n"
                  b"354 go ahead\r\n"),
    "lmtp_data": b"250 2.0.0 <a@x> ok\r\n452 4.2.2 <b@x> mailbox full\r\n550 5.1.1 <c@x>\r\n",
    "bare_lf": b"220 hi\n250-a\n250 b\n354\n",
    "enh_bad": b"550 4.1.1 mismatch\r\n550 5.1.1000 long\r\n550 5.1 short\r\n",
    "bad_code": b"150 no\r\n",
    "mixed_codes": b"250-a\r\n251 b\r\n",
    "bare_cr": b"250 a\rb\r\n",
    "nul": b"250 a\x00b\r\n",
    "long_line": b"250 " + b"x" * 600 + b"\r\n",
}


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: seeds_bsmtp_reply.py SEED_DIR STAMP")
    seed_dir, stamp = sys.argv[1:]
    n = seedlib.write_seeds(seed_dir, SEEDS)
    seedlib.write_stamp(stamp, "%d seeds\n" % n)


if __name__ == "__main__":
    main()
