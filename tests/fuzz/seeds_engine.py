#!/usr/bin/env python3
"""Write the seed corpus of fuzz_pmul_engine (tests/fuzz/fuzz_pmul_engine.c).

Usage: seeds_engine.py VECTORS_JSON OUTDIR [STAMP]

Each seed is a sequence of records ctl(1) length(2, big-endian) datagram;
ctl bits 0-1: 0 to the receiver R (192.0.2.2), 1 to the transmitter T
(192.0.2.9), 2 both, 3 nobody; bit 2: fix Length_of_PDU and the Fletcher
checksum; bit 3: lose this step's T<->R traffic; bits 4-7: time step index
(0 ms .. 1 h, see steps_ms in the harness).  The seeds are valid exchanges:
T's own message delivered over a clean and a lossy channel, the pmul_basic
vectors (sender 192.0.2.1) to R including a MAP-split list, early data and
Discard, Acks for T's message from its second destination (complete and
with a missing list), long steps that reach expiry, and a message with FEC
repair (docs/wire.md 10) whose lost sources the repairs rebuild, the
repairs once after and once before the FEC_Address_PDU; and joint rounds
(docs/wire.md 10.8, version 2 FEC_Parameters): two single-block messages
with losses completed by joint repairs of a carrier, one delivered first
and kept, one holding a repair of its own block, and a hostile set (30 members of 8 PDUs we never heard of,
repairs of the wrong length).  Standard library only.
"""
import struct
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import seedlib  # noqa: E402  (tests/fuzz/seedlib.py)

TO_R, TO_T, TO_BOTH, TO_NONE = 0, 1, 2, 3
FIX, LOSE = 0x04, 0x08
STEP = {0: 0, 1: 1, 5: 2, 20: 3, 50: 4, 100: 5, 200: 6, 500: 7, 1000: 8,
        2000: 9, 5000: 10, 10000: 11, 30000: 12, 60000: 13, 300000: 14,
        3600000: 15}
NODE_R2, NODE_T, T_MSID = 0xC0000203, 0xC0000209, 0x00090001


def rec(to, data=b'', step=500, fix=True, lose=False):
    ctl = to | (FIX if fix else 0) | (LOSE if lose else 0) | (STEP[step] << 4)
    return struct.pack('>BH', ctl, len(data)) + data


def ack(acker, src, msid, missing=()):
    """Ack_PDU with one entry; length and checksum are fixed by the harness."""
    entry = struct.pack('>HII', 10 + 2 * len(missing), src, msid)
    entry += b''.join(struct.pack('>H', m) for m in missing)
    body = struct.pack('>IH', acker, 1) + entry
    return struct.pack('>HBBHH', 8 + len(body), 3, 1, 0, 0) + body


# ---- FEC_ID 0x81 (docs/wire.md 10.5): Cauchy rows over GF(2^8), 0x11d ----

def gf_mul(a, b):
    r = 0
    while b:
        if b & 1:
            r ^= a
        a <<= 1
        if a & 0x100:
            a ^= 0x11d
        b >>= 1
    return r


def gf_inv(a):
    # a^254 = a^-1 in GF(2^8)
    r, e = 1, 254
    while e:
        if e & 1:
            r = gf_mul(r, a)
        a = gf_mul(a, a)
        e >>= 1
    return r


FEC_SRC, FEC_MSID, FEC_N, FEC_S, FEC_LAST, FEC_K, FEC_Z = (
    0xC0000201, 0x00010009, 6, 32, 10, 3, 2)
FEC_PAYLOAD = bytes((i * 7 + 3) & 0xff for i in range((FEC_N - 1) * FEC_S + FEC_LAST))


def fec_source(seq):
    off = (seq - 1) * FEC_S
    return FEC_PAYLOAD[off:off + (FEC_LAST if seq == FEC_N else FEC_S)]


def fec_repair(b, j):
    """Repair j of block b (blocks of FEC_K sources) and its number."""
    out = bytearray(FEC_S)
    for t in range(FEC_K):
        sym = fec_source(b * FEC_K + t + 1).ljust(FEC_S, b'\0')
        c = gf_inv((FEC_K + j) ^ t)
        for i in range(FEC_S):
            out[i] ^= gf_mul(c, sym[i])
    return FEC_N + 1 + j * FEC_Z + b, bytes(out)


def fec_data(seq, frag, msid=FEC_MSID):
    head = struct.pack('>HBBHHII', 16 + len(frag), 5, 0, seq, 0, FEC_SRC, msid)
    return head + frag


def fec_addr(msid, total, par, msn=7):
    """FEC_Address_PDU of FEC_SRC's message msid listing R."""
    body = struct.pack('>IBB', 1700000000 + 7200, len(par), 0x81) + par
    body += struct.pack('>HHII', 1, 0, 0xC0000202, msn)
    head = struct.pack('>HBBHHII', 16 + len(body), 5, 8, total, 0, FEC_SRC, msid)
    return head + body


def fec_address():
    """FEC_Address_PDU listing R: 6 sources of 32 octets (the last 10), two
    blocks, two repairs each (FEC_Parameters 01 02 0002 0020 000a)."""
    return fec_addr(FEC_MSID, FEC_N, struct.pack('>BBHHH', 1, 2, FEC_Z, FEC_S, FEC_LAST))


# ---- joint repair (docs/wire.md 10.8) ----

def cauchy_repair(syms, esi):
    """Repair ESI esi of the block of source symbols syms (equal length)."""
    out = bytearray(len(syms[0]))
    for t, sym in enumerate(syms):
        c = gf_inv(esi ^ t)
        for i in range(len(out)):
            out[i] ^= gf_mul(c, sym[i])
    return bytes(out)


class Member:
    """A single-block message of FEC_SRC with FEC_S-octet fragments."""

    def __init__(self, msid, n, last):
        self.msid, self.n, self.last = msid, n, last
        self.payload = bytes((i * 11 + msid * 5) & 0xff for i in range((n - 1) * FEC_S + last))

    def frag(self, s):
        off = (s - 1) * FEC_S
        return self.payload[off:off + (self.last if s == self.n else FEC_S)]

    def params(self):
        return struct.pack('>BBHHH', 1, 0, 1, FEC_S, self.last)

    def address(self, msn=7):
        return fec_addr(self.msid, self.n, self.params(), msn)

    def own_repair(self, j):
        """Repair j of its own (single) block, number N + 1 + j."""
        syms = [self.frag(s).ljust(FEC_S, b'\0') for s in range(1, self.n + 1)]
        return rec(TO_R, fec_data(self.n + 1 + j, cauchy_repair(syms, self.n + j), self.msid),
                   step=100)

    def sources(self, lost=()):
        return b''.join(rec(TO_R, fec_data(s, self.frag(s), self.msid), step=100)
                        for s in range(1, self.n + 1) if s not in lost)


def joint_params(carrier, members, repairs):
    par = bytearray(carrier.params())
    par[0] = 2
    par += struct.pack('>BBH', len(members), repairs, 0)     # R, j0 0
    for m in members:
        par += struct.pack('>IHH', m.msid, m.n, m.last)
    return bytes(par)


def joint_repairs(carrier, members, js, length=FEC_S):
    """Joint repairs j in js, Data_PDUs of the carrier numbered G + j."""
    syms = [m.frag(s).ljust(FEC_S, b'\0') for m in members for s in range(1, m.n + 1)]
    g = carrier.n + 255 + 1
    return b''.join(rec(TO_R, fec_data(g + j, cauchy_repair(syms, len(syms) + j)[:length]
                                       .ljust(length, b'\1'), carrier.msid), step=100)
                    for j in js)


def joint_seeds():
    a, b = Member(0x00010020, 3, 10), Member(0x00010021, 2, 20)
    ab = [a, b]
    both = rec(TO_R, fec_addr(a.msid, a.n, joint_params(a, ab, 3)))
    strangers = [Member(0x00020000 + i, 8, 32) for i in range(29)]
    crowd = strangers + [a]
    crowd_addr = rec(TO_R, fec_addr(a.msid, a.n, joint_params(a, crowd, 14)))
    return {
        # A lost 1 and 3 (the short last), B lost 2; three joint repairs
        # carried by A rebuild both, then the closing copy.
        'joint': rec(TO_R, a.address()) + a.sources((1, 3)) + rec(TO_R, b.address(), step=100) +
                 b.sources((2,)) + both + joint_repairs(a, ab, (0, 1, 2)) + both +
                 idle(4, step=1000),
        # B delivered whole first (kept), A lost two: the set [B, A]
        # carried by A; its closing copy is answered for A.
        'joint_kept': rec(TO_R, b.address()) + b.sources() + rec(TO_R, a.address(), step=100) +
                      a.sources((1, 2)) + rec(TO_R, fec_addr(a.msid, a.n, joint_params(a, [b, a], 3))) +
                      joint_repairs(a, [b, a], (0, 1, 2)) +
                      rec(TO_R, fec_addr(a.msid, a.n, joint_params(a, [b, a], 3))) + idle(4, step=1000),
        # A lost 1 and 2 and holds a repair of its own block, B lost 2:
        # two joint repairs and the own one decode both (mixed solve).
        'joint_own': rec(TO_R, a.address()) + a.sources((1, 2)) + a.own_repair(0) +
                     rec(TO_R, b.address(), step=100) + b.sources((2,)) +
                     rec(TO_R, fec_addr(a.msid, a.n, joint_params(a, ab, 2))) +
                     joint_repairs(a, ab, (0, 1)) +
                     rec(TO_R, fec_addr(a.msid, a.n, joint_params(a, ab, 2))) + idle(4, step=1000),
        # The round's first copy said R 1 (lost copies of later rounds):
        # repairs 1 and 2 wait past the range until the closing copy says
        # R 3 and places them (docs/wire.md 10.8, receiver 3).
        'joint_pending': rec(TO_R, a.address()) + a.sources((1, 3)) +
                         rec(TO_R, b.address(), step=100) + b.sources((2,)) +
                         rec(TO_R, fec_addr(a.msid, a.n, joint_params(a, ab, 1))) +
                         joint_repairs(a, ab, (0, 1, 2)) + both + idle(4, step=1000),
        # The round's first copy lost: its repairs come before any copy of
        # the set and are held; the closing copy places them (receiver 3).
        'joint_early': rec(TO_R, a.address()) + a.sources((1, 3)) +
                       rec(TO_R, b.address(), step=100) + b.sources((2,)) +
                       joint_repairs(a, ab, (0, 1, 2)) + both + idle(4, step=1000),
        # 29 members never heard of (8 PDUs each) and A: K = 235; repairs
        # of the wrong length, then a few right ones.
        'joint_crowd': rec(TO_R, a.address()) + a.sources((2,)) + crowd_addr +
                       joint_repairs(a, crowd, (0, 1), FEC_S - 1) +
                       joint_repairs(a, crowd, (2, 3), FEC_S + 1) +
                       joint_repairs(a, crowd, range(4, 8)) + crowd_addr + idle(4, step=1000),
    }


def fec_seeds():
    srcs = [rec(TO_R, fec_data(s, fec_source(s)), step=100) for s in range(1, FEC_N + 1)
            if s not in (2, 6)]
    reps = [rec(TO_R, fec_data(*fec_repair(b, j)), step=100) for j in (0, 1) for b in (0, 1)]
    return {
        # Sources 2 and 6 (the short last one) lost, repairs rebuild them;
        # the later repairs come after completion.
        'fec': rec(TO_R, fec_address()) + b''.join(srcs) + b''.join(reps) + idle(4, step=1000),
        # The repairs first, as early data, then the announcement.
        'fec_early': b''.join(reps[:2]) + b''.join(srcs) + rec(TO_R, fec_address()) +
                     idle(4, step=1000),
    }


def idle(n, step=500, lose=False):
    return b''.join(rec(TO_NONE, step=step, lose=lose) for _ in range(n))


def main(argv):
    if len(argv) not in (3, 4):
        sys.stderr.write('usage: seeds_engine.py VECTORS_JSON OUTDIR [STAMP]\n')
        return 2
    v = seedlib.load_vectors(argv[1])
    seeds = {
        # T's message to R over a clean channel; R2's Ack completes it.
        'clean': idle(20) + rec(TO_T, ack(NODE_R2, NODE_T, T_MSID)) + idle(10),
        # The first rounds lost, then recovery by retransmission.
        'lossy': idle(6, lose=True) + idle(20, step=1000) +
                 rec(TO_T, ack(NODE_R2, NODE_T, T_MSID, (2, 3))) + idle(20, step=1000) +
                 rec(TO_T, ack(NODE_R2, NODE_T, T_MSID)) + idle(5),
        # pmul_basic as seen by 192.0.2.2, plus the second message's
        # Discard, while T's message goes on.
        'basic': b''.join(rec(TO_R, v[k], fix=False) for k in (
            'address_2dest', 'data_seq1', 'data_seq2', 'address_retx_rx2',
            'data_seq2_retx', 'address_ackack', 'address_msg2', 'discard_msg2')) +
                 idle(5),
        # Early data, then the Address_PDU; a MAP-split list.
        'early_map': rec(TO_R, v['data_seq2'], fix=False) +
                     rec(TO_R, v['data_seq1'], step=1000, fix=False) +
                     rec(TO_R, v['address_map_first'], fix=False) +
                     rec(TO_R, v['address_map_last'], fix=False) +
                     rec(TO_R, v['address_2dest'], fix=False) + idle(8, step=1000),
        # MULE messages, group management, odd PDUs to both.
        'mule_both': b''.join(rec(TO_BOTH, v[k], fix=False) for k in sorted(v)
                              if k.startswith(('mule_address', 'mule_data', 'announce',
                                               'reject', 'release', 'extra', 'fec',
                                               'ack_'))) + idle(4),
        # Nobody answers for R2: T retries until the message expires.
        'expiry': idle(10) + idle(4, step=3600000),
        # Gaps in Message_Sequence_Numbers (msg 2 before msg 1).
        'gap': rec(TO_R, v['address_msg2'], fix=False) +
               rec(TO_R, v['address_2dest'], step=60000, fix=False) + idle(3, step=300000),
    }
    seeds.update(fec_seeds())
    seeds.update(joint_seeds())
    n = seedlib.write_seeds(argv[2], seeds)
    if len(argv) == 4:
        seedlib.write_stamp(argv[3], '%d seeds in %s\n' % (n, argv[2]))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
