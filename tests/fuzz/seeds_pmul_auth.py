#!/usr/bin/env python3
"""seeds_pmul_auth.py: write the seed corpus of fuzz_pmul_auth.

Usage: seeds_pmul_auth.py SEED_DIR STAMP

Each seed is the harness's 3-octet prefix (IP source selector, bit to
flip) and a datagram: plain PDUs (no trailer: auth-missing), datagrams
sealed here with the harness key (an independent implementation of the
trailer of docs/pmul-auth.md: they must open), and the same with a wrong
key ID, a wrong MAC, a wrong balance octet, a cut trailer, and one
sealed for another IP source.  Standard library only; deterministic.
"""
import hashlib
import hmac
import struct
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import seedlib  # noqa: E402  (tests/fuzz/seedlib.py)

KEY = b"fuzz_pmul_auth key, not a secret"
EPOCH_MS = 1764950400000 - 1000     # below the harness's own sealing clock
IP_BASE = 0xC6120000

# docs/wire.md 3.2: a Discard_Message_PDU with its Fletcher checksum.
DISCARD = bytes.fromhex("001001030000" "6fb5" "c0000201" "00010002")


def balance(b):
    c0 = c1 = 0
    for x in b:
        c0 = (c0 + x) % 255
        c1 = (c1 + c0) % 255
    x = (-(c0 + c1)) % 255
    return bytes([x, (-(c0 + x)) % 255])


def seal(pdu, ip, seq, key=KEY, key_id=1):
    hdr = b"MA" + bytes([1, key_id]) + struct.pack(">Q", seq)
    mac = hmac.new(key, hdr + struct.pack(">I", ip) + pdu, hashlib.sha256).digest()[:16]
    body = pdu + hdr + mac
    return body + balance(body)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: seeds_pmul_auth.py SEED_DIR STAMP")
    seed_dir, stamp = sys.argv[1:]
    seq = EPOCH_MS << 16
    data = bytes(range(256)) * 4
    ok = seal(DISCARD, IP_BASE | 1, seq)
    seeds = {
        "plain_discard": b"\x01\x00\x10" + DISCARD,
        "sealed_discard": b"\x01\x00\x10" + ok,
        "sealed_data_1k": b"\x02\x01\x00" + seal(DISCARD[:12] + data, IP_BASE | 2, seq + 5),
        "bad_key_id": b"\x01\x00\x01" + seal(DISCARD, IP_BASE | 1, seq, key_id=2),
        "bad_key": b"\x01\x00\x02" + seal(DISCARD, IP_BASE | 1, seq, key=b"x" * 32),
        "bad_mac": b"\x01\x00\x03" + ok[:30] + bytes([ok[30] ^ 1]) + ok[31:],
        "bad_balance": b"\x01\x00\x04" + ok[:-1] + bytes([(ok[-1] + 1) % 256]),
        "cut_trailer": b"\x01\x00\x05" + ok[:-7],
        "other_ip": b"\x03\x00\x06" + ok,
        "tiny": b"\x00\x00\x00" + b"MA",
    }
    n = seedlib.write_seeds(seed_dir, seeds)
    seedlib.write_stamp(stamp, "%d seeds\n" % n)


if __name__ == "__main__":
    main()
