#!/usr/bin/env python3
"""Write the seed corpus of fuzz_pcap_frag.

Usage: seeds_pcap_frag.py OUTDIR STAMP

Each seed is a sequence of fragment records as fuzz_pcap_frag.c reads them
(8-octet head, then data): a 3848-octet UDP datagram cut at a 1500-octet
MTU in order, reversed, with a duplicate, interleaved with a second
datagram, over IPv6, with a conflicting overlap, and one that times out.
Standard library only.
"""
import struct
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import seedlib  # noqa: E402  (tests/fuzz/seedlib.py)


def rec(data, off_units, more, ident=7, v6=False, src=0, step_ms=1, proto=0):
    flags = (1 if v6 else 0) | (2 if more else 0) | (src << 2) | (proto << 4)
    return struct.pack(">BBHHH", flags, ident, off_units, len(data),
                       step_ms) + data


def cut(payload, ident=7, mtu=1500, **kw):
    step = (mtu - 20) // 8 * 8
    out = []
    for off in range(0, len(payload), step):
        part = payload[off:off + step]
        out.append(rec(part, off // 8, off + step < len(payload), ident, **kw))
    return out


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: seeds_pcap_frag.py OUTDIR STAMP\n")
        return 2
    dg = bytes((i * 7 + 3) & 0xFF for i in range(3848))
    other = bytes((i * 13) & 0xFF for i in range(2000))
    a = cut(dg)
    b = cut(other, ident=9)
    seeds = {
        "in_order": b"".join(a),
        "reversed": b"".join(reversed(a)),
        "duplicate": b"".join([a[0], a[0]] + a[1:]),
        "interleaved": b"".join(x for pair in zip(a, b) for x in pair) + a[2],
        "ipv6": b"".join(cut(dg, v6=True)),
        "overlap_conflict": a[0] + rec(bytes(64), 0, True) + b"".join(a[1:]),
        "timeout": a[0] + rec(dg[1480:2960], 185, True, step_ms=2000) + a[2],
        "two_sources": b"".join(cut(other, src=1)) + b"".join(cut(other, src=2)),
    }
    seedlib.write_seeds(argv[1], seeds)
    seedlib.write_stamp(argv[2], "%d seeds\n" % len(seeds))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
