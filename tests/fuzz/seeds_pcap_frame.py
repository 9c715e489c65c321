#!/usr/bin/env python3
"""Write the seed corpus of fuzz_pcap_frame.

Usage: seeds_pcap_frame.py VECTORS_JSON OUTDIR STAMP

Each seed is: octet 0 = link type index (fuzz_pcap_frame.c), octet 1 =
octets missing from the capture (0), then a frame carrying one P_MUL PDU
of vectors.json over UDP: Ethernet/IPv4, Ethernet/802.1Q/IPv6 with a
hop-by-hop header, Linux cooked v1 and v2, raw IPv4, raw IPv6, DLT_NULL
and DLT_LOOP; plus an IPv4 fragment and an IPv6 fragment.  Standard
library only.
"""
import struct
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import seedlib  # noqa: E402  (tests/fuzz/seedlib.py)

SRC4, DST4 = bytes([192, 0, 2, 1]), bytes([239, 0, 0, 1])
SRC6 = bytes.fromhex("20010db8000000000000000000000001")
DST6 = bytes.fromhex("ff0e0000000000000000000000000009")


def udp(p):
    return struct.pack(">HHHH", 2753, 2753, 8 + len(p), 0) + p


def ip4(p, frag=0):
    return struct.pack(">BBHHHBBH", 0x45, 0, 20 + len(p), 1, frag, 64, 17,
                       0) + SRC4 + DST4 + p


def ip6(p, nh=17, ext=b""):
    return struct.pack(">IHBB", 0x60000000, len(ext) + len(p), nh, 1) + SRC6 \
        + DST6 + ext + p


def main(argv):
    if len(argv) != 4:
        sys.stderr.write("usage: seeds_pcap_frame.py VECTORS_JSON OUTDIR STAMP\n")
        return 2
    vectors = seedlib.load_vectors(argv[1])
    seeds = {}
    mac = bytes.fromhex("01005e000001020000c00201")
    hbh = bytes([17, 0, 1, 4, 0, 0, 0, 0])
    for name, pdu in sorted(vectors.items()):
        u = udp(pdu)
        frames = {
            "eth4": (0, mac + b"\x08\x00" + ip4(u)),
            "vlan6": (0, mac + b"\x81\x00\x00\x2a\x86\xdd" + ip6(u, 0, hbh)),
            "sll": (1, struct.pack(">HHH", 0, 1, 6) + bytes(8) + b"\x08\x00" + ip4(u)),
            "sll2": (2, b"\x86\xdd" + bytes(2) + struct.pack(">IHBB", 1, 1, 0, 6)
                     + bytes(8) + ip6(u)),
            "raw4": (3, ip4(u)),
            "raw6": (5, ip6(u)),
            "null": (6, b"\x02\x00\x00\x00" + ip4(u)),
            "loop": (7, b"\x00\x00\x00\x18" + ip6(u)),
        }
        for kind, (lt, fr) in frames.items():
            seeds["%s_%s" % (kind, name)] = bytes([lt, 0]) + fr
    u = udp(vectors["data_seq1"])
    seeds["frag4"] = bytes([3, 0]) + ip4(u, 0x2000)
    seeds["frag6"] = bytes([5, 0]) + ip6(u, 44, bytes([17, 0, 0, 1, 0, 0, 0, 9]))
    seedlib.write_seeds(argv[2], seeds)
    seedlib.write_stamp(argv[3], "ok\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
