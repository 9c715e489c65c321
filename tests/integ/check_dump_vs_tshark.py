#!/usr/bin/env python3
"""check_dump_vs_tshark.py: pmul-dump must see what Wireshark sees.

Runs pmul-dump --json and tshark (docs/wire.md section 8, through
check_tshark.py's helpers) on each capture and compares, frame by frame:

  * addresses, ports and timestamps;
  * the PDU fields: type, priority, MAP bits, Source_ID, MSID, sequence
    number, Total, expiry, destination IDs and Message_Sequence_Numbers,
    reserved and FEC lengths, group, Ack entries (sources, MSIDs, missing
    lists as singles and ranges, the total missing count), timestamp
    option, length and checksum value;
  * the checksum verdict (Fletcher or RFC 1071 = tshark "good", else
    "bad");
  * the verdict on malformed PDUs: each codec reason pmul-dump prints must
    be the Warn/Error tshark reports for that frame (and a clean PDU must
    have none).  Fields of a PDU the codec rejects only for its length or
    checksum ("salvaged") are compared too, its length field included.

Also checks that the plain-text output has one PDU line per frame.

Usage: check_dump_vs_tshark.py --dump PMUL_DUMP [--tshark T] PCAP...
Exit status: 0 pass, 1 mismatch, 2 usage or tool error, 77 no tshark.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_tshark as ct  # noqa: E402  (one copy of the tshark helpers)

# Our codec's reasons and the expert message tshark gives the same fault.
EXPERT_OF = {
    "CHECKSUM": "Bad checksum",
    "LENGTH": "Incorrect length field",
    "TRAILING": "More data in packet",
    "SEQ_ZERO": "Illegal seq number",
    "ACK_ENTRY_LEN": "Invalid ack info length",
    "ACK_RANGE": "Invalid missing sequence range",
    "ACK_MISSING": "Invalid missing seq number",
}

ADDRESS_TYPES = (0x02, 0x08, 0x12, 0x18)
FEC_TYPES = (0x08, 0x18)


def ip_int(s):
    a = [int(x) for x in s.split(".")]
    return a[0] << 24 | a[1] << 16 | a[2] << 8 | a[3]


def run_dump(dump, pcap, json_mode):
    args = [dump, "-r", pcap, "-M"] + (["--json"] if json_mode else [])
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, check=False)
    if p.returncode != 0:
        sys.stderr.write(p.stderr)
        raise SystemExit("check_dump_vs_tshark: pmul-dump exited with %d on %s"
                         % (p.returncode, pcap))
    return p.stdout


def warn_experts(fr):
    """Warn/Error expert messages of a tshark frame."""
    out = []
    for sev, msg in zip(fr["_ws.expert.severity"], fr["_ws.expert.message"]):
        sev = ct.as_int(sev)
        if isinstance(sev, int) and sev >= ct.SEV_WARN:
            out.append(msg)
    return out


def compare_fields(f, fr, d):
    """The PDU fields of one frame."""
    typ = d["type"]
    f.check("type", ct.as_int(ct.one(fr, "p_mul.pdu_type_value")), typ)
    # Group-management PDUs have no Priority (send 0): tshark omits it.
    f.check("priority", ct.as_int(ct.one(fr, "p_mul.priority")) or 0,
            d["prio"])
    # The Length_of_PDU field as received, salvaged PDUs included.
    f.check("length", ct.as_int(ct.one(fr, "p_mul.length")), d["len"])
    if "checksum" in d:
        f.check("checksum", ct.as_int(ct.one(fr, "p_mul.checksum")),
                d["checksum"])
    # MAP: tshark prints the raw bits where the type uses them.
    if fr["p_mul.first"]:
        f.check("MAP not-first bit", ct.one(fr, "p_mul.first"),
                "1" if d["map"] & 0x80 else "0")
        f.check("MAP not-last bit", ct.one(fr, "p_mul.last"),
                "1" if d["map"] & 0x40 else "0")
    else:
        f.check("MAP", d["map"], 0)

    if typ == 0x01:
        f.check("source_id_ack", ct.one(fr, "p_mul.source_id_ack"), d["src"])
        acks = d["acks"]
        f.check("ack_count", ct.as_int(ct.one(fr, "p_mul.ack_count")),
                d["ack_count"])
        f.check("ack entry source_ids", fr["p_mul.source_id"],
                [e["source_id"] for e in acks])
        f.check("ack entry msids", ct.ints(fr["p_mul.message_id"]),
                [e["msid"] for e in acks])
        singles, ranges, total = [], [], 0
        for e in acks:
            s, r = ct.missing_split(e["missing_words"])
            singles += s
            ranges += r
            total += e["missing_count"]
        f.check("missing_seq_no", ct.ints(fr["p_mul.missing_seq_no"]), singles)
        f.check("missing range from",
                ct.ints(fr["p_mul.missing_seq_range.from"]),
                [a for a, _ in ranges])
        f.check("missing range to", ct.ints(fr["p_mul.missing_seq_range.to"]),
                [b for _, b in ranges])
        # Wireshark 4.0 shows the total once per PDU, and only if not 0.
        f.check("no_missing_seq_no", ct.ints(fr["p_mul.no_missing_seq_no"]),
                [total] if total else [])
        f.check("timestamp", ct.as_int(ct.one(fr, "p_mul.timestamp")),
                d.get("timestamp"))
        return

    f.check("source_id", ct.one(fr, "p_mul.source_id"), d["src"])
    f.check("message_id", ct.as_int(ct.one(fr, "p_mul.message_id")), d["msid"])
    if typ == 0x00:
        f.check("seq_no", ct.as_int(ct.one(fr, "p_mul.seq_no")), d["seq"])
        f.check("fragment length", ct.as_int(ct.one(fr, "p_mul.length")) - 16
                if not d.get("salvaged") else d["frag_len"], d["frag_len"])
    elif typ in ADDRESS_TYPES:
        f.check("no_pdus", ct.as_int(ct.one(fr, "p_mul.no_pdus")), d["total"])
        f.check("expiry", ct.parse_expiry(ct.one(fr, "p_mul.expiry_time")),
                d["expiry"])
        f.check("dest_count", ct.as_int(ct.one(fr, "p_mul.dest_count")),
                d["dest_count"])
        f.check("reserved_length",
                ct.as_int(ct.one(fr, "p_mul.reserved_length")),
                d["reserved_len"])
        f.check("dest_id", fr["p_mul.dest_id"], [e["id"] for e in d["dests"]])
        f.check("msg_seq_no", ct.ints(fr["p_mul.msg_seq_no"]),
                [e["msg_seq_no"] for e in d["dests"]])
        if typ in FEC_TYPES:
            f.check("fec.id", ct.as_int(ct.one(fr, "p_mul.fec.id")),
                    d["fec_id"])
            f.check("fec.length", ct.as_int(ct.one(fr, "p_mul.fec.length")),
                    d["fec_len"])
        label = "Ack-Ack PDU" if d["dest_count"] == 0 else None
        if label:
            info = ct.one(fr, "_ws.col.Info")
            if label not in info:
                f.fail("Info (Ack-Ack)", repr(info), repr(label))
    elif typ == 0x04:
        f.check("expiry", ct.parse_expiry(ct.one(fr, "p_mul.expiry_time")),
                d["expiry"])
        f.check("dest_id", fr["p_mul.dest_id"], d["dest_ids"])
        got = ct.one(fr, "p_mul.mc_group") or ct.one(fr, "p_mul.ann_mc_group")
        f.check("mc_group", ct.as_int(got), ip_int(d["group"]))
    elif typ in (0x05, 0x06, 0x07):
        got = ct.one(fr, "p_mul.mc_group") or ct.one(fr, "p_mul.ann_mc_group")
        f.check("mc_group", ct.as_int(got), ip_int(d["group"]))


def compare_frame(f, fr, d):
    f.check("ip.src", ct.one(fr, "ip.src"), d["ip_src"])
    f.check("ip.dst", ct.one(fr, "ip.dst"), d["ip_dst"])
    f.check("udp.srcport", ct.as_int(ct.one(fr, "udp.srcport")), d["sport"])
    f.check("udp.dstport", ct.as_int(ct.one(fr, "udp.dstport")), d["dport"])
    sec, _, frac = ct.one(fr, "frame.time_epoch").partition(".")
    f.check("time (us)", int(sec) * 1000000 + int((frac + "000000")[:6]),
            d["ts_us"])
    if not fr["p_mul.length"]:
        f.fail("p_mul", "tshark did not dissect P_MUL", "a P_MUL PDU")
        return

    # Checksum verdict.
    good = ct.one(fr, "p_mul.checksum_good") == "1"
    bad = ct.one(fr, "p_mul.checksum_bad") == "1"
    want = "good" if good else "bad" if bad else "none"
    got = {"fletcher": "good", "inet": "good", "bad": "bad"}.get(d["cksum"],
                                                                  "none")
    f.check("checksum verdict", got, want)

    # Verdict against Wireshark's Warn/Error items.
    experts = warn_experts(fr)
    if d["verdict"] == "OK":
        if experts:
            f.fail("verdict", "OK", "a failure (tshark: %s)" % experts)
    else:
        text = EXPERT_OF.get(d["verdict"])
        if text is None or text not in experts:
            f.fail("verdict", d["verdict"], "tshark's %s" % (experts or
                                                             "no warning"))

    if d.get("type") is not None:
        compare_fields(f, fr, d)
    else:
        # No fields: "len" is the datagram's size.
        f.check("datagram length", ct.as_int(ct.one(fr, "udp.length")) - 8,
                d["len"])


# Scalars of our JSON whose change the comparison must notice.
MUTABLE = ("ip_src", "ip_dst", "sport", "dport", "ts_us", "type", "prio",
           "len", "checksum", "map", "src", "msid", "seq", "total", "expiry",
           "dest_count", "reserved_len", "fec_id", "fec_len", "group",
           "ack_count", "timestamp", "cksum", "verdict")


def mutate(v):
    if isinstance(v, bool):
        return not v
    if isinstance(v, int):
        return v + 1
    if v.count(".") == 3:
        a = v.split(".")
        return ".".join(a[:3] + [str((int(a[3]) + 1) % 256)])
    return {"fletcher": "bad", "inet": "bad", "bad": "fletcher",
            "OK": "CHECKSUM"}.get(v, v + "x")


def blind_spots(fr, d):
    """Self-test: change each compared value of our line in turn and
    return the keys whose change went unnoticed."""
    blind = []
    for k in MUTABLE:
        if k not in d or d[k] is None:
            continue
        m = dict(d)
        m[k] = d[k] ^ 0x40 if k == "map" else mutate(d[k])
        if k == "verdict" and d[k] != "OK":
            m[k] = "OK"
        f = ct.Frame(0, "")
        try:
            compare_frame(f, fr, m)
        except (KeyError, TypeError):
            continue            # e.g. a changed type reads other keys
        if not f.errors:
            blind.append(k)
    return blind


def check_pcap(dump, tshark, pcap):
    frames = ct.pass_fields(tshark, pcap)
    ours = {}
    for line in run_dump(dump, pcap, True).splitlines():
        obj = json.loads(line)
        if obj["kind"] in ("pdu", "frame"):
            ours[obj["frame"]] = obj
    results = []
    for fr in frames:
        n = int(ct.one(fr, "frame.number"))
        f = ct.Frame(n, os.path.basename(pcap))
        d = ours.get(n)
        if d is None:
            f.fail("pmul-dump line", "none", "one per frame")
        elif d["kind"] != "pdu":
            f.fail("pmul-dump kind", d["kind"], "pdu")
        else:
            compare_frame(f, fr, d)
            if not f.errors:
                for k in blind_spots(fr, d):
                    f.fail("self-test: %s changed" % k, "not noticed",
                           "a failure")
        results.append(f)
    if len(ours) != len(frames):
        f = ct.Frame(0, os.path.basename(pcap))
        f.fail("frames", len(ours), len(frames))
        results.append(f)

    # Text mode: one line per PDU before the summary, numbered in order.
    text = run_dump(dump, pcap, False).splitlines()
    nums = [int(l.split()[0]) for l in text if l[:1].isdigit()]
    if nums != list(range(1, len(frames) + 1)):
        f = ct.Frame(0, os.path.basename(pcap) + " (text)")
        f.fail("text PDU lines", nums, list(range(1, len(frames) + 1)))
        results.append(f)
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dump", required=True)
    ap.add_argument("--tshark")
    ap.add_argument("pcaps", nargs="+")
    a = ap.parse_args()
    tshark = a.tshark or shutil.which("tshark")
    if not tshark:
        print("check_dump_vs_tshark: tshark not found, skipping")
        return 77
    results = []
    for pcap in a.pcaps:
        results += check_pcap(a.dump, tshark, pcap)
    failed = [r for r in results if r.errors]
    for r in failed:
        for e in r.errors:
            print("FAIL %s: %s" % (r, e))
    print("check_dump_vs_tshark: %d frames in %d captures, %d passed, "
          "%d failed" % (len(results), len(a.pcaps),
                         len(results) - len(failed), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
