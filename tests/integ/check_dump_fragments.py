#!/usr/bin/env python3
"""check_dump_fragments.py: pmul-dump and pmul-replay read IP-fragmented P_MUL.

Another ACP 142 implementation sends 3840-octet PDUs, which an Ethernet LAN
carries as IPv4 fragments.  This builds such a capture (docs/wire.md 1):
an Address_PDU, three 3840-octet Data_PDUs cut at a 1500-octet MTU (one in
order, one in reverse order with a duplicated fragment, one interleaved
with the next), the receiver's complete Ack in that implementation's
self-naming form (docs/decisions.md, deviations), and a datagram whose
overlapping fragments disagree.  Then:

  * tshark (which reassembles IP by default) and pmul-dump --json must
    report the same PDUs at the same frame numbers, with the same types,
    sequence numbers and checksum verdicts;
  * pmul-dump reports the other fragments as FRAGMENT and the forged
    overlap as FRAG_BAD, counts the self-naming Ack for the message it
    acknowledges (no phantom message), delivers the message with the
    right length, and its summary counts no bad PDU;
  * pmul-replay --as the destination delivers the message, byte-identical
    (FNV-1a of the payload) to what was sent.

Usage: check_dump_fragments.py --dump PMUL_DUMP --replay PMUL_REPLAY
       [--tshark T] --outdir DIR
Exit status: 0 pass, 1 mismatch, 2 tool error, 77 no tshark.
"""

import argparse
import json
import os
import random
import shutil
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_tshark as ct  # noqa: E402
from check_capture_errors import eth, pcap_file, udp  # noqa: E402

SRC = bytes([198, 18, 0, 1])
DST = bytes([198, 18, 0, 2])
GROUP = bytes([239, 1, 1, 2])
MSID = 0x1000
PDU_LEN = 3840
T0 = 1800000000


def fletcher(pdu):
    """ACP 142 Annex B checksum of pdu (octets 6-7 zero), docs/wire.md 3.1."""
    c0 = c1 = 0
    for b in pdu:
        c0 = (c0 + b) % 255
        c1 = (c1 + c0) % 255
    k = len(pdu) - 7
    x = (k * c0 - c1) % 255
    y = (c1 - (k + 1) * c0) % 255
    return pdu[:6] + bytes([x, y]) + pdu[8:]


def address_pdu(total):
    body = struct.pack(">I", T0 + 3600)                    # Expiry_Time
    body += struct.pack(">HH", 1, 0) + DST + struct.pack(">I", 1)
    hdr = struct.pack(">HBBHH", 24 + 8, 3, 0x02, total, 0) + SRC
    return fletcher(hdr + struct.pack(">I", MSID) + body)


def data_pdu(seq, frag):
    hdr = struct.pack(">HBBHH", 16 + len(frag), 3, 0x00, seq, 0) + SRC
    return fletcher(hdr + struct.pack(">I", MSID) + frag)


def ack_pdu():
    # The Java peer's form: the entry names the acknowledging node itself
    # (docs/decisions.md, deviations); pmul-dump must still count it for
    # the message it acknowledges.
    entry = struct.pack(">H", 10) + DST + struct.pack(">I", MSID)
    hdr = struct.pack(">HBBHH", 14 + len(entry), 3, 0x01, 0, 0) + DST
    return fletcher(hdr + struct.pack(">H", 1) + entry)


def ip4_frags(payload, ident, src, dst, mtu=1500):
    """IPv4 fragments of payload (the UDP datagram), in order."""
    step = (mtu - 20) // 8 * 8
    out = []
    for off in range(0, len(payload), step):
        part = payload[off:off + step]
        more = 0x2000 if off + step < len(payload) else 0
        hdr = struct.pack(">BBHHHBBH", 0x45, 0, 20 + len(part), ident,
                          more | (off // 8), 64, 17, 0) + src + dst
        out.append(hdr + part)
    return out


def ip4(payload, ident, src, dst):
    return struct.pack(">BBHHHBBH", 0x45, 0, 20 + len(payload), ident, 0, 64,
                       17, 0) + src + dst + payload


def fnv1a64(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def build(path):
    rnd = random.Random(142)
    frag = PDU_LEN - 16
    message = bytes(rnd.getrandbits(8) for _ in range(3 * frag))
    data = [data_pdu(i + 1, message[i * frag:(i + 1) * frag]) for i in range(3)]
    frames = [eth(ip4(udp(address_pdu(3)), 1, SRC, GROUP))]
    d1 = ip4_frags(udp(data[0]), 2, SRC, GROUP)
    d2 = ip4_frags(udp(data[1]), 3, SRC, GROUP)
    d3 = ip4_frags(udp(data[2]), 4, SRC, GROUP)
    frames += [eth(f) for f in d1]                          # in order
    frames += [eth(f) for f in [d2[2], d2[0], d2[1], d2[0]]]  # reversed + dup
    frames += [eth(d3[0]), eth(d3[1])]
    # A forged datagram whose second fragment overlaps the first with
    # other octets, interleaved before data 3 completes.
    bad = ip4_frags(udp(bytes(64) + bytes(range(200))), 99, SRC, GROUP, mtu=84)
    forged = bytearray(bad[0])
    forged[20 + 10] ^= 0xFF
    frames += [eth(bad[0]), eth(bytes(forged))]
    frames += [eth(d3[2])]
    frames += [eth(ip4(udp(ack_pdu(), 2754, 2754), 5, DST, SRC))]
    pcap_file(path, 1, [(T0, i * 1000, f, None) for i, f in enumerate(frames)])
    return message, len(frames)


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, check=False)
    if p.returncode not in (0, 1):
        sys.stderr.write(p.stderr)
        print("check_dump_fragments: %s exited with %d" % (cmd[0], p.returncode))
        raise SystemExit(2)
    return p.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dump", required=True)
    ap.add_argument("--replay", required=True)
    ap.add_argument("--tshark")
    ap.add_argument("--outdir", required=True)
    a = ap.parse_args()
    tshark = a.tshark or shutil.which("tshark")
    if not tshark:
        print("check_dump_fragments: tshark not found, skipping")
        return 77
    os.makedirs(a.outdir, exist_ok=True)
    pcap = os.path.join(a.outdir, "fragments.pcap")
    message, nframes = build(pcap)
    fails = []
    checks = 0

    def check(what, got, want):
        nonlocal checks
        checks += 1
        if got != want:
            fails.append("%s: got %r, want %r" % (what, got, want))

    # tshark's view: the frames that carry a (reassembled) P_MUL PDU.
    theirs = []
    for fr in ct.pass_fields(tshark, pcap):
        if fr["p_mul.pdu_type_value"]:
            theirs.append((int(ct.one(fr, "frame.number")),
                           ct.as_int(ct.one(fr, "p_mul.pdu_type_value")),
                           ct.as_int(fr["p_mul.seq_no"][0]) if fr["p_mul.seq_no"] else None,
                           "good" if fr["p_mul.checksum_good"] == ["1"] else "bad"))

    ours, others, summary, deliveries, messages = [], {}, None, [], []
    for line in run([a.dump, "-r", pcap, "--json"]).splitlines():
        obj = json.loads(line)
        if obj["kind"] == "pdu":
            ours.append((obj["frame"], obj["type"], obj.get("seq"),
                         "good" if obj["cksum"] in ("fletcher", "inet") else "bad"))
        elif obj["kind"] == "frame":
            others[obj["frame"]] = obj["verdict"]
        elif obj["kind"] == "summary":
            summary = obj
        elif obj["kind"] == "delivery":
            deliveries.append(obj)
        elif obj["kind"] == "message":
            messages.append(obj)

    check("PDUs (frame, type, seq, checksum) pmul-dump vs tshark", ours, theirs)
    check("PDU types in order", [t for _, t, _, _ in ours], [2, 0, 0, 0, 1])
    check("frames accounted for", len(ours) + len(others), nframes)
    check("fragment verdicts", sorted(set(others.values())),
          ["FRAGMENT", "FRAG_BAD"])
    check("frames with FRAG_BAD", sum(v == "FRAG_BAD" for v in others.values()), 1)
    check("summary bad_pdus", summary and summary["bad_pdus"], 0)
    check("deliveries", [(d["node"], d["len"], d["fnv"]) for d in deliveries],
          [("198.18.0.2", len(message), fnv1a64(message))])

    check("messages (no phantom one for the self-naming Ack)",
          [(m["source_id"], m["msid"]) for m in messages], [("198.18.0.1", MSID)])
    check("the self-naming Ack acknowledges the destination",
          [(x["id"], x["ack"]) for m in messages for x in m["dests"]],
          [("198.18.0.2", "complete")])

    out = run([a.replay, "-r", pcap, "--as", "198.18.0.2", "--json"])
    got = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
    dl = [o for o in got if o.get("kind") == "delivery"]
    check("pmul-replay deliveries", [(d.get("len"), d.get("fnv")) for d in dl],
          [(len(message), fnv1a64(message))])

    for f in fails:
        print("FAIL " + f)
    print("check_dump_fragments: %d frames, %d PDUs; %d passed, %d failed"
          % (nframes, len(ours), checks - len(fails), len(fails)))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
