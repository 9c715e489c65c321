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
with a missing list), and long steps that reach expiry.  Standard library
only.
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
    n = seedlib.write_seeds(argv[2], seeds)
    if len(argv) == 4:
        seedlib.write_stamp(argv[3], '%d seeds in %s\n' % (n, argv[2]))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
