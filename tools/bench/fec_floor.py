#!/usr/bin/env python3
"""fec_floor.py: the lowest completion time any P_MUL transmitter can reach on
netsim-bench's "air" case, as a ratio to its limit (issue 12's goal table).

ACP 142 codes nothing across messages: each message is its own erasure code.
Take the best such code there is (an ideal MDS code: any k symbols rebuild a
k-PDU message) and feedback that costs nothing and arrives at once: each round
sends exactly as many fresh symbols as the neediest receiver still lacks, and
every symbol is lost at each receiver independently with probability p.  The
transmitter's airtime is then the sum over messages of those symbols (payload
PDU_DATA octets each plus P_MUL's 16 and IP/UDP's 28) and two Address_PDUs
(the announcement and its repeat, 24 + 8 per destination, plus 28) and one
Ack-Ack (24 + 28).  netsim-bench divides the time by the limit, payload bits /
rate / (1 - p), which no per-message code reaches once there is more than one
receiver: the neediest of R receivers needs more than the mean.

With --joint W, the same for joint repair (docs/wire.md 10.8): each message's
first transmission is its k sources, and the repairs of W consecutive messages
are coded together, so each receiver's losses add up over the W messages before
the neediest is served; every repair round costs one more Address_PDU pair (the
announcement and its closing copy, listing the W members).

usage: fec_floor.py [-r RECEIVERS] [-p LOSS] [--lo 2048] [--hi 8192] [-n MAILS]
                    [-t TRIALS] [--seed S] [--joint W]
Prints one Markdown row per receiver count: the floor ratio, and the part of it
that the code alone costs (symbols sent / (k / (1 - p))).
"""
import argparse
import random

PDU_DATA = 1008        # pdu_max_len 1024 minus the 16-octet Data_PDU header
HDR = 16 + 28
IPUDP = 28


def symbols_sent(k, receivers, p, rng):
    need = [k] * receivers
    sent = 0
    while max(need) > 0:
        n = max(need)
        sent += n
        for i in range(receivers):
            got = sum(1 for _ in range(n) if rng.random() >= p)
            need[i] = max(0, need[i] - got)
    return sent


def lost(n, p, rng):
    return sum(1 for _ in range(n) if rng.random() < p)


def joint_floor(receivers, p, lo, hi, mails, trials, seed, w):
    rng = random.Random(seed)
    ratio = code = 0.0
    addr = 24 + 8 * receivers + IPUDP
    for _ in range(trials):
        air = payload = syms = ideal = 0
        sizes = [rng.randint(lo, hi) for _ in range(mails)]
        for g in range(0, mails, w):
            need = [0] * receivers
            for size in sizes[g:g + w]:
                k = -(-size // PDU_DATA)
                last = size - (k - 1) * PDU_DATA
                air += (k - 1) * (PDU_DATA + HDR) + last + HDR + 2 * addr + 24 + IPUDP
                payload += size
                syms += k
                ideal += k / (1 - p)
                for i in range(receivers):
                    need[i] += lost(k, p, rng)
            members = len(sizes[g:g + w])
            while max(need) > 0:
                n = max(need)
                air += n * (PDU_DATA + HDR) + 2 * (addr + 2 + 8 * members)
                syms += n
                need = [max(0, x - (n - lost(n, p, rng))) for x in need]
        ratio += air / (payload / (1 - p))
        code += syms / ideal
    return ratio / trials, code / trials


def floor(receivers, p, lo, hi, mails, trials, seed):
    rng = random.Random(seed)
    ratio = code = 0.0
    for _ in range(trials):
        air = payload = syms = ideal = 0
        for _ in range(mails):
            size = rng.randint(lo, hi)
            k = -(-size // PDU_DATA)
            last = size - (k - 1) * PDU_DATA
            n = symbols_sent(k, receivers, p, rng)
            # Repairs are full-length symbols; the sources' last is short.
            air += (n - 1) * (PDU_DATA + HDR) + last + HDR
            air += 2 * (24 + 8 * receivers + IPUDP) + 24 + IPUDP
            payload += size
            syms += n
            ideal += k / (1 - p)
        ratio += air / (payload / (1 - p))
        code += syms / ideal
    return ratio / trials, code / trials


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-r", "--receivers", type=int, nargs="*", default=[1, 2, 3, 4])
    ap.add_argument("-p", "--loss", type=float, default=0.10)
    ap.add_argument("--lo", type=int, default=2048)
    ap.add_argument("--hi", type=int, default=8192)
    ap.add_argument("-n", "--mails", type=int, default=100)
    ap.add_argument("-t", "--trials", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--joint", type=int, default=0)
    a = ap.parse_args()
    print("| receivers | floor (x limit) | of which the per-message code |")
    print("|---:|---:|---:|")
    for r in a.receivers:
        if a.joint > 1:
            f, c = joint_floor(r, a.loss, a.lo, a.hi, a.mails, a.trials, a.seed, a.joint)
        else:
            f, c = floor(r, a.loss, a.lo, a.hi, a.mails, a.trials, a.seed)
        print(f"| {r} | {f:.3f} | {c:.3f} |")


if __name__ == "__main__":
    main()
