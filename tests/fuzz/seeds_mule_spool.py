#!/usr/bin/env python3
"""seeds_mule_spool.py: write the seed corpus of fuzz_mule_spool.

Usage: seeds_mule_spool.py SEED_DIR STAMP

Seeds are spool files in the format of docs/spool.md ("File format"):
an outbound and an inbound entry file, each bare and with a state
journal, one with a torn last record and one with a zero-filled tail,
and a node journal.  This script is a second writer of the format on
purpose: it is built from the document alone.  When it was written every
entry seed loaded with mule_spool_load() and both node seeds with
mule_spool_load_node() (the torn ones with good_len short of the end),
which checked docs/spool.md against the C reader; the unit tests pin the
header and META octets by hand (test_mule_spool_encode_bytes).
Standard library only; the output is deterministic.
"""
import struct
import sys
import zlib

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import seedlib  # noqa: E402  (tests/fuzz/seedlib.py)


def rec(rtype, payload):
    head = struct.pack(">BI", rtype, len(payload))
    return head + payload + struct.pack(">I", zlib.crc32(head + payload))


def s16(b):
    return struct.pack(">H", len(b)) + b


def entry(kind, qid, rcpts, nodes, dests, body, prio=0, src=0, msid=0):
    meta = struct.pack(">BBb", kind, 1, prio) + qid + struct.pack(
        ">qqIIHHH", 1700000000, 1700086400, src, msid, len(rcpts), len(nodes), len(dests))
    out = b"MSPL\x01\x01\x00\x00" + rec(1, meta)
    out += rec(2, s16(b"a@example.org") + s16(b"BODY=8BITMIME"))
    for r in rcpts:
        out += rec(3, s16(r) + s16(b"NOTIFY=FAILURE"))
    out += rec(4, b"".join(struct.pack(">I", n) for n in nodes))
    out += rec(5, b"".join(struct.pack(">I", d) for d in dests))
    out += rec(6, body) + rec(7, b"")
    return out


def tstate(idx, state, attempts=0, reason=0, msid=0, msn=0, next_try=0):
    return rec(16, struct.pack(">HBHiIIq", idx, state, attempts, reason, msid, msn, next_try))


def main():
    outdir, stamp = sys.argv[1], sys.argv[2]
    body = b"From: a@example.org\r\nSubject: seed\r\n\r\nhello\r\n"
    out = entry(1, b"0ABCDEFGHIJK", [b"b@x", b"c@y"], [2, 3], [], body, prio=3)
    inb = entry(2, b"0ABCDEFGHIJL", [b"b@x"], [0], [2, 3, 4], body, src=5, msid=77)
    jout = out + tstate(0, 1, msid=9, msn=1) + tstate(1, 1, msid=9, msn=2) + \
        tstate(0, 2, msid=9, msn=1) + tstate(1, 4, reason=-241) + tstate(1, 5) + \
        rec(17, b"h") + rec(17, b"r")
    jin = inb + tstate(0, 3, attempts=1, reason=451, next_try=1700000060) + tstate(0, 2)
    node = b"MSPL\x01\x02\x00\x00" + rec(32, struct.pack(">I", 1025)) + \
        rec(35, struct.pack(">Bq", 1, 1700000000)) + rec(33, struct.pack(">II", 3, 42)) + \
        rec(34, struct.pack(">IIIq", 5, 70, 90, 1700086400))
    seeds = {
        "entry_out": out,
        "entry_in": inb,
        "entry_out_journal": jout,
        "entry_in_journal": jin,
        "entry_torn": jout[:-20],
        "entry_zero_tail": jin + b"\x00" * 34,
        "node": node,
        "node_torn": node[:-7],
    }
    seedlib.write_seeds(outdir, seeds)
    seedlib.write_stamp(stamp, "%d seeds\n" % len(seeds))


if __name__ == "__main__":
    main()
