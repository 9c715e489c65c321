#!/usr/bin/env python3
"""seeds_pmul_fec.py: write the seed corpus of fuzz_pmul_fec.

Usage: seeds_pmul_fec.py SEED_DIR STAMP

Input layout (see fuzz_pmul_fec.c): FEC_ID, Total_Number_of_PDUs (u16),
allocation-failure count, FEC_Parameter_Length, FEC_Parameters, then
16-bit sequence numbers.  Seeds: the 20-PDU EMCON message with 4 repairs
and various losses, two and many blocks, the 16-bit limits, a failing
allocator, and the refusals (other FEC_ID, version 2, truncated and long
parameters, blocks of 256, k + r over 255), and version 2 sets (joint
repair) with 2 and 30 members.  Standard library only; the
output is deterministic.
"""
import struct
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import seedlib  # noqa: E402  (tests/fuzz/seedlib.py)

FEC_ID = 0x81


def params(r, z, s, last, version=1):
    return struct.pack(">BBHHH", version, r, z, s, last)


def seed(total, prm, seqs, fec_id=FEC_ID, fail=0, plen=None):
    plen = len(prm) if plen is None else plen
    return (struct.pack(">BHBB", fec_id, total, fail, plen) + prm +
            b"".join(struct.pack(">H", q) for q in seqs))


def joint(r, s, last, members, jr=0, z=1, j0=0):
    """Version 2: the carrier's own part, the set (members, R, j0), then
    the members (msid, N, last)."""
    return (params(r, z, s, last, version=2) + struct.pack(">BBH", len(members), jr, j0) +
            b"".join(struct.pack(">IHH", *m) for m in members))


def without(seqs, lost):
    return [q for q in seqs if q not in lost]


SEEDS = {
    # 20 PDUs of 1 KiB (the last 300), 4 repairs (seqs 21..24).
    "emcon_no_loss": seed(20, params(4, 1, 1024, 300), range(1, 21)),
    "emcon_lost2": seed(20, params(4, 1, 1024, 300), without(range(1, 25), {3, 17})),
    "emcon_lost4_last": seed(20, params(4, 1, 1024, 300), without(range(1, 25), {1, 2, 19, 20})),
    "emcon_lost5": seed(20, params(4, 1, 1024, 300), without(range(1, 25), {1, 5, 9, 13, 20})),
    "emcon_dups": seed(20, params(4, 1, 1024, 300), [1, 1, 21, 21, 0, 65535]),
    # 21 PDUs in two blocks (11 + 10), repairs interleaved from 22.
    "two_blocks": seed(21, params(2, 2, 64, 64), without(range(1, 26), {4, 15, 16})),
    "many_blocks": seed(1000, params(8, 5, 33, 1), without(range(1, 1041), set(range(1, 1000, 97)))),
    "max_k": seed(255, params(0, 1, 16, 16), range(2, 256)),
    "k239_r16": seed(239, params(16, 1, 40, 7), without(range(1, 256), set(range(1, 17)))),
    "seq_space": seed(65000, params(1, 300, 8, 8), [65000, 65300, 65301, 65535]),
    "fail_alloc": seed(20, params(4, 1, 1024, 300), without(range(1, 25), {3, 17}), fail=1),
    "fail_alloc2": seed(20, params(4, 1, 1024, 300), without(range(1, 25), {3, 17}), fail=2),
    # Version 2 (joint repair, docs/wire.md 10.8): the carrier's Message_ID
    # follows the parameters (fuzz_pmul_fec.c reads it there), then numbers.
    "joint2": seed(3, joint(0, 1000, 100, [(9, 2, 40), (7, 3, 100)], jr=3),
                   [0, 0, 0, 7, 1, 2, 259, 260]),
    "joint30": seed(8, joint(0, 64, 64, [(i, 8, 64) for i in range(1, 31)], jr=14, j0=40),
                    [0, 0, 0, 30, 304, 317]),
    "joint_k254": seed(254, joint(0, 16, 16, [(5, 254, 16), (6, 1, 16)]), [0, 0, 0, 5]),
    # Refusals.
    "other_id": seed(20, params(4, 1, 1024, 300), [1], fec_id=0x80),
    "version2": seed(20, params(4, 1, 1024, 300, version=2), [1]),
    "truncated": seed(20, params(4, 1, 1024, 300)[:5], [1], plen=8),
    "long": seed(20, params(4, 1, 1024, 300) + b"\0", [1]),
    "blocks_256": seed(511, params(0, 2, 8, 8), [1]),
    "k_plus_r_256": seed(21, params(245, 2, 8, 8), [1]),
    "total_zero": seed(0, params(0, 1, 8, 8), [1]),
}


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: seeds_pmul_fec.py SEED_DIR STAMP")
    seed_dir, stamp = sys.argv[1:]
    n = seedlib.write_seeds(seed_dir, SEEDS)
    seedlib.write_stamp(stamp, "%d seeds\n" % n)


if __name__ == "__main__":
    main()
