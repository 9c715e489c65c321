#!/usr/bin/env python3
"""seeds_mule_ctl.py: write the seed corpus of fuzz_mule_ctl.

Usage: seeds_mule_ctl.py SEED_DIR STAMP

Requests for every mulectl command (with and without --json), two
requests back to back, replies (final, MORE + final), and frames wrong in
one field each.  Standard library only; deterministic.
"""
import struct
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import seedlib  # noqa: E402  (tests/fuzz/seedlib.py)


def req(args, flags=0):
    body = bytes([1, ord("Q"), flags, len(args)])
    for a in args:
        a = a.encode()
        body += struct.pack(">H", len(a)) + a
    return struct.pack(">I", len(body)) + body


def reply(status, text):
    body = bytes([1, ord("R"), status]) + text
    return struct.pack(">I", len(body)) + body


SEEDS = {
    "status": req(["status"]),
    "status_json": req(["status"], 1),
    "queue": req(["queue"]),
    "show": req(["show", "M0ABCDEF1234"]),
    "delete_n": req(["delete", "-n", "M0ABCDEF1234"]),
    "emcon": req(["emcon", "on"]),
    "audit": req(["audit", "verify"]),
    "stats": req(["stats", "--prometheus"]),
    "two": req(["hold", "X"]) + req(["release", "X"]),
    "reply_ok": reply(0, b"node 198.18.0.1\n"),
    "reply_more": reply(4, b"part one\n") + reply(0, b"part two\n"),
    "reply_denied": reply(3, b"not allowed\n"),
    "bad_len": b"\xff\xff\xff\xff\x01Q",
    "bad_argc": struct.pack(">I", 4) + bytes([1, ord("Q"), 0, 0]),
    "bad_arglen": struct.pack(">I", 7) + bytes([1, ord("Q"), 0, 1, 0, 9, ord("x")]),
}

if __name__ == "__main__":
    seedlib.write_seeds(sys.argv[1], SEEDS)
    seedlib.write_stamp(sys.argv[2], "%d seeds\n" % len(SEEDS))
