#!/usr/bin/env python3
"""seeds_mule_auditlog.py: write the seed corpus of fuzz_mule_auditlog.

Usage: seeds_mule_auditlog.py SEED_DIR STAMP

A real chain under the harness's key (chain record, MMHS record, event),
the same with one byte edited, records swapped, a torn last line, and
lines wrong in one field each.  Standard library only; deterministic.
"""
import hashlib
import hmac
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import seedlib  # noqa: E402  (tests/fuzz/seedlib.py)

KEY = b"fuzz-key-fuzz-key-fuzz-key-fuzz!"


def chain(texts, t=1796475944):
    prev, seq, out = bytes(32), 0, b""
    for text in texts:
        seq += 1
        body = b"%d %d %s" % (seq, t, text)
        mac = hmac.new(KEY, prev + body, hashlib.sha256).digest()
        out += body + b" mac=" + mac.hex().encode() + b"\n"
        prev = mac
    return out


GOOD = chain([
    b"mule-audit event=chain prev_file=- prev_seq=0 prev_mac=" + b"0" * 64,
    b"mule-audit dir=in outcome=accepted time=1 id=1LH831900000 msgid=<a@x> rcpts=b@y",
    b"mule-audit event=deleted node=198.18.0.1 id=1LH831900000 by=mulectl",
])
lines = GOOD.split(b"\n")
SEEDS = {
    "good": GOOD,
    "edited": GOOD.replace(b"accepted", b"acceptex"),
    "swapped": lines[0] + b"\n" + lines[2] + b"\n" + lines[1] + b"\n",
    "torn": GOOD[:-20],
    "bad_seq": b"0 1 x mac=" + b"0" * 64 + b"\n",
    "bad_hex": b"1 1 x mac=" + b"g" * 64 + b"\n",
    "no_mac": b"1 1 hello\n",
    "ctl_char": b"1 1 a\x01b mac=" + b"0" * 64 + b"\n",
    "bad_link": b"1 1 mule-audit event=chain prev_file= prev_seq=x mac=" + b"0" * 64 + b"\n",
}

if __name__ == "__main__":
    seedlib.write_seeds(sys.argv[1], SEEDS)
    seedlib.write_stamp(sys.argv[2], "%d seeds\n" % len(SEEDS))
