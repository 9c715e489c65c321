#!/usr/bin/env python3
"""seeds_bsmtp_cmd.py: write the seed corpus of fuzz_bsmtp_cmd.

Usage: seeds_bsmtp_cmd.py SEED_DIR STAMP

One session's command lines per seed: every verb, MAIL/RCPT with and
without parameters, BDAT with and without LAST, and lines wrong in one
way each (no colon, no <>, junk after the path, bad BDAT size, odd case).
Standard library only; deterministic.
"""
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import seedlib  # noqa: E402  (tests/fuzz/seedlib.py)

SEEDS = {
    "session": b"EHLO client.example\r\nMAIL FROM:<a@b.example> SIZE=100 BODY=8BITMIME\r\n"
               b"RCPT TO:<c@d.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;c@d.example\r\n"
               b"DATA\r\nRSET\r\nNOOP\r\nVRFY x\r\nHELP\r\nQUIT\r\n",
    "lmtp": b"LHLO x\r\nMAIL FROM:<> \r\nRCPT TO:<postmaster>\r\nBDAT 100 LAST\r\n",
    "bdat": b"BDAT 0\r\nBDAT 18446744073709551615\r\nBDAT 12 last\r\nBDAT 1 MORE\r\nBDAT x\r\n",
    "tls": b"STARTTLS\r\nstarttls now\r\n",
    "bad_mail": b"MAIL <a@b>\r\nMAIL FROM:a@b\r\nMAIL FROM:<a@b>junk\r\nMAIL FROM:<a@b\r\n",
    "bad_rcpt": b"RCPT TO: <x@y>   A=1  \r\nRCPT to:<x@y>\r\nRCPT\r\n",
    "case": b"ehLo X\r\nmAiL fRoM:<q@r>\r\n",
    "unknown": b"XYZZY\r\n \r\n\r\nEHLO\r\n",
}

if __name__ == "__main__":
    seedlib.write_seeds(sys.argv[1], SEEDS)
    seedlib.write_stamp(sys.argv[2], "%d seeds\n" % len(SEEDS))
