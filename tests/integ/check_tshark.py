#!/usr/bin/env python3
"""check_tshark.py: judge P_MUL PDUs in a pcap with Wireshark's dissector.

tshark is the conformance oracle of docs/wire.md section 8.  This script
runs it on a capture the way that section says (TZ=UTC tshark -n -2 -r FILE
-d udp.port==2751-2754,p_mul -o p_mul.relative_msgid:FALSE) and fails when

  * a frame is not dissected as P_MUL, or its checksum is not good;
  * a frame carries an expert item of severity Warn or Error (Notes such
    as "Retransmission", "Missing seq numbers", "Message discarded",
    "Address PDU missing" or "Ack PDU missing" are normal);
  * with --json: a field tshark prints differs from what the generator
    (pdu_pcap_gen) says it encoded, or a message it sent completely is
    not reassembled byte for byte.

Pass 1 reads the P_MUL fields with -T fields; pass 2 is `-q -z expert`,
whose Warn/Error totals must agree with pass 1; with --json, pass 3 turns
on the IPv4 and UDP checksum checks to validate the frames pmul_pcap wrote.

Modes:
  check_tshark.py --pcap F --json J          check F against J
  check_tshark.py --generator EXE --outdir D run EXE D/x.pcap D/x.json first
  check_tshark.py --expect-fail --pcap F [--expect-failed-frames 1,3]
        self-test: succeed only if the checker finds failures (exactly in
        the listed frames, when given).

Exit status: 0 pass, 1 failure, 2 usage or tool error, 77 tshark absent
(meson's "skipped").  The last line is "N passed, N failed", counting
frames.  Python 3 standard library only.
"""

import argparse
import calendar
import json
import os
import re
import shutil
import subprocess
import sys
import time

SEP = "\x1f"        # field separator: cannot occur in tshark's text
AGG = "\x1e"        # separator of repeated occurrences of one field

# Expert severities (epan/proto.h PI_*).
SEV_NOTE = 0x00400000
SEV_WARN = 0x00600000
SEV_ERROR = 0x00800000

PMUL_PORTS = "udp.port==2751-2754,p_mul"

FIELDS = [
    "frame.number", "frame.time_epoch", "eth.dst", "eth.src",
    "ip.src", "ip.dst", "udp.srcport", "udp.dstport", "udp.length",
    "udp.payload", "_ws.col.Info",
    "p_mul.length", "p_mul.priority", "p_mul.first", "p_mul.last",
    "p_mul.pdu_type_value", "p_mul.no_pdus", "p_mul.seq_no",
    "p_mul.checksum", "p_mul.checksum_good", "p_mul.checksum_bad",
    "p_mul.source_id", "p_mul.source_id_ack", "p_mul.message_id",
    "p_mul.expiry_time", "p_mul.mc_group", "p_mul.ann_mc_group",
    "p_mul.fec.length", "p_mul.fec.id", "p_mul.dest_count",
    "p_mul.reserved_length", "p_mul.dest_id", "p_mul.msg_seq_no",
    "p_mul.ack_count", "p_mul.ack_length", "p_mul.missing_seq_no",
    "p_mul.missing_seq_range.from", "p_mul.missing_seq_range.delimiter",
    "p_mul.missing_seq_range.to", "p_mul.no_missing_seq_no",
    "p_mul.timestamp", "data.data",
    "_ws.expert.severity", "_ws.expert.message",
]

# What tshark's Info column calls each PDU type (packet-p_mul.c).
LABELS = {
    0x00: "Data PDU", 0x01: "Ack PDU", 0x02: "Address PDU",
    0x03: "Discard Message PDU", 0x04: "Announce PDU", 0x05: "Request PDU",
    0x06: "Reject PDU", 0x07: "Release PDU", 0x08: "FEC Address PDU",
    0x12: "Extra Address PDU", 0x18: "Extra FEC Address PDU",
}


def tshark_base(tshark, pcap, opts=()):
    """The command of docs/wire.md section 8 (no CDT decoding), plus the
    extra preference options opts (e.g. ["-o", "p_mul.decode:cdt"])."""
    return [tshark, "-n", "-2", "-r", pcap, "-d", PMUL_PORTS,
            "-o", "p_mul.relative_msgid:FALSE"] + list(opts)


def run(cmd, status=1):
    """Run tshark; its stderr (e.g. the running-as-root warning) is noise
    unless it fails.  A failure exits with status (the callers' "tool
    error" code) after printing tshark's stderr."""
    env = dict(os.environ, TZ="UTC", LC_ALL="C")
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, check=False)
    if p.returncode != 0:
        sys.stderr.write(p.stderr)
        sys.stderr.write("check_tshark: %s exited with %d\n"
                         % (" ".join(cmd[:1] + cmd[1:6]), p.returncode))
        raise SystemExit(status)
    return p.stdout


def read_fields(tshark, pcap, fields, opts=(), status=1):
    """One dict per frame, field -> list of occurrences (tshark -T fields
    with every occurrence)."""
    cmd = tshark_base(tshark, pcap, opts) + [
        "-T", "fields", "-E", "separator=" + SEP, "-E", "occurrence=a",
        "-E", "aggregator=" + AGG]
    for f in fields:
        cmd += ["-e", f]
    frames = []
    # Not splitlines(): it also splits at \x1c-\x1e, our aggregator.
    for line in run(cmd, status).split("\n"):
        if line == "":
            continue
        cols = line.split(SEP)
        if len(cols) != len(fields):
            sys.stderr.write("check_tshark: cannot parse tshark line %r\n"
                             % line[:200])
            raise SystemExit(status)
        frames.append({f: (c.split(AGG) if c != "" else [])
                       for f, c in zip(fields, cols)})
    return frames


def pass_fields(tshark, pcap):
    """Pass 1: one dict per frame, field -> list of occurrences."""
    return read_fields(tshark, pcap, FIELDS)


def expert(tshark, pcap, opts=(), status=1):
    """`-q -z expert`: totals per severity (Errors, Warns, ...; absent
    ones 0) and the text."""
    out = run(tshark_base(tshark, pcap, opts) + ["-q", "-z", "expert"], status)
    totals = {k: 0 for k in ("Errors", "Warns", "Notes", "Chats", "Comments")}
    for m in re.finditer(r"^(Errors|Warns|Notes|Chats|Comments) \((\d+)\)",
                         out, re.M):
        totals[m.group(1)] = int(m.group(2))
    return totals, out


def pass_expert(tshark, pcap):
    """Pass 2: `-q -z expert` totals per severity, and its text."""
    return expert(tshark, pcap)


def pass_network(tshark, pcap):
    """Pass 3: IPv4 header and UDP checksum verdicts (1 = good)."""
    out = run(tshark_base(tshark, pcap) + [
        "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
        "-T", "fields", "-E", "separator=" + SEP,
        "-e", "frame.number", "-e", "ip.checksum.status",
        "-e", "udp.checksum.status"])
    return {int(c[0]): (c[1], c[2])
            for c in (l.split(SEP) for l in out.split("\n") if l)}


class Frame:
    """Failures found in one frame."""

    def __init__(self, number, name):
        self.number = number
        self.name = name
        self.errors = []

    def fail(self, what, got, want):
        self.errors.append("%s: got %s, want %s" % (what, got, want))

    def check(self, field, got, want):
        if got != want:
            self.fail(field, got, want)

    def __str__(self):
        return "frame %d%s" % (self.number,
                               " (%s)" % self.name if self.name else "")


def one(fr, field):
    """The single value of field, '' if absent, or the list if repeated."""
    v = fr[field]
    if not v:
        return ""
    return v[0] if len(v) == 1 else ",".join(v)


def as_int(s):
    if s == "":
        return None
    try:
        return int(s, 0)
    except ValueError:
        return s


def ints(values):
    return [as_int(v) for v in values]


def check_generic(f, fr):
    """Checks that need no expectations: P_MUL present, checksum good, no
    Warn/Error expert item.  Returns the number of Warn/Error items."""
    if not fr["p_mul.length"]:
        f.fail("p_mul", "not dissected as P_MUL", "a P_MUL PDU")
        return 0
    f.check("p_mul.checksum_good", one(fr, "p_mul.checksum_good"), "1")
    f.check("p_mul.checksum_bad", one(fr, "p_mul.checksum_bad"), "0")
    bad = 0
    for sev, msg in zip(fr["_ws.expert.severity"], fr["_ws.expert.message"]):
        sev = as_int(sev)
        if isinstance(sev, int) and sev >= SEV_WARN:
            bad += 1
            f.fail("expert", "%s \"%s\"" % ("Error" if sev >= SEV_ERROR
                                            else "Warn", msg),
                   "Notes only")
    return bad


def parse_expiry(s):
    """tshark's FT_ABSOLUTE_TIME text ("Nov 15, 2023 22:13:20.000000000
    UTC", TZ=UTC) as Unix seconds."""
    m = re.match(r"(\w{3}) +(\d+), (\d{4}) (\d\d):(\d\d):(\d\d)(\.\d+)? UTC$",
                 s)
    if not m:
        return s
    t = time.strptime("%s %s %s %s:%s:%s" % m.groups()[:6],
                      "%b %d %Y %H:%M:%S")
    return calendar.timegm(t)


def expected_mac(ip):
    a = [int(x) for x in ip.split(".")]
    if a[0] >> 4 == 0xE:
        return "01:00:5e:%02x:%02x:%02x" % (a[1] & 0x7F, a[2], a[3])
    if a == [255, 255, 255, 255]:
        return "ff:ff:ff:ff:ff:ff"
    return "02:00:%02x:%02x:%02x:%02x" % tuple(a)


def missing_split(words):
    """Singles and (from, to) ranges of a missing list, as tshark shows
    them (docs/wire.md 4.4.1)."""
    singles, ranges, i = [], [], 0
    while i < len(words):
        if i + 2 < len(words) and words[i + 1] == 0:
            ranges.append((words[i], words[i + 2]))
            i += 3
        else:
            singles.append(words[i])
            i += 1
    return singles, ranges


def check_expected(f, fr, want):
    """Compare every field the generator encoded with tshark's view."""
    # Network layer: what pmul_pcap wrote.
    f.check("ip.src", one(fr, "ip.src"), want["ip_src"])
    f.check("eth.src", one(fr, "eth.src"), expected_mac(want.pop("ip_src")))
    f.check("ip.dst", one(fr, "ip.dst"), want["ip_dst"])
    f.check("eth.dst", one(fr, "eth.dst"), expected_mac(want.pop("ip_dst")))
    f.check("udp.srcport", as_int(one(fr, "udp.srcport")), want.pop("sport"))
    f.check("udp.dstport", as_int(one(fr, "udp.dstport")), want.pop("dport"))
    sec, _, frac = one(fr, "frame.time_epoch").partition(".")
    got_us = int(sec) * 1000000 + int((frac + "000000")[:6]) if sec else None
    f.check("frame.time_epoch (us)", got_us, want.pop("time_us"))
    f.check("udp.payload", one(fr, "udp.payload").replace(":", ""),
            want.pop("hex"))
    f.check("udp.length - 8", as_int(one(fr, "udp.length")) - 8,
            want["length"])

    typ = want.pop("type_value")
    name = want.pop("type")
    f.check("p_mul.pdu_type_value", as_int(one(fr, "p_mul.pdu_type_value")),
            typ)
    label = LABELS.get(typ, "?")
    if typ == 0x02 and want.get("dest_count") == 0:
        label = "Ack-Ack PDU"
    info = re.sub(r"^(\[[^]]*\] )+", "", one(fr, "_ws.col.Info"))
    if not re.match(re.escape(label) + r"(,|$)", info):
        f.fail("_ws.col.Info (%s)" % name, repr(info), repr(label + ", ..."))

    f.check("p_mul.length", as_int(one(fr, "p_mul.length")),
            want.pop("length"))
    f.check("p_mul.checksum", as_int(one(fr, "p_mul.checksum")),
            want.pop("checksum"))

    if "entries" in want:               # Ack_PDU: its own layout
        check_ack(f, fr, want)
    else:
        f.check("p_mul.source_id", one(fr, "p_mul.source_id"),
                want.pop("source_id"))
        f.check("p_mul.message_id", as_int(one(fr, "p_mul.message_id")),
                want.pop("msid"))

    simple = {
        "priority": "p_mul.priority",
        "seq": "p_mul.seq_no",
        "total": "p_mul.no_pdus",
        "dest_count": "p_mul.dest_count",
        "reserved_len": "p_mul.reserved_length",
        "fec_param_len": "p_mul.fec.length",
        "fec_id": "p_mul.fec.id",
        "ack_count": "p_mul.ack_count",
        "timestamp": "p_mul.timestamp",
    }
    for key, field in simple.items():
        if key in want:
            f.check(field, as_int(one(fr, field)), want.pop(key))
    for key, field in (("map_not_first", "p_mul.first"),
                       ("map_not_last", "p_mul.last")):
        if key in want:
            # Wireshark names the raw bits: "First" is 0x80 (not first).
            f.check(field + " (MAP)", one(fr, field),
                    "1" if want.pop(key) else "0")
    if "expiry_time" in want:
        f.check("p_mul.expiry_time",
                parse_expiry(one(fr, "p_mul.expiry_time")),
                want.pop("expiry_time"))
    if "mcast_group" in want:
        # Request/Reject/Release and Announce print the group under
        # p_mul.ann_mc_group in 4.0; accept either field.
        got = one(fr, "p_mul.mc_group") or one(fr, "p_mul.ann_mc_group")
        f.check("p_mul.mc_group", as_int(got), want.pop("mcast_group"))
    if "frag_len" in want:
        f.check("Fragment_of_Data length (p_mul.length - 16)",
                as_int(one(fr, "p_mul.length")) - 16, want.pop("frag_len"))
    if "dests" in want:
        dests = want.pop("dests")
        f.check("p_mul.dest_id", fr["p_mul.dest_id"], [d["id"] for d in dests])
        f.check("p_mul.msg_seq_no", ints(fr["p_mul.msg_seq_no"]),
                [d["msg_seq_no"] for d in dests])
        # Reserved_Field (tshark's "Symmetric Key") has no printable
        # value; its octets are covered by the udp.payload comparison.
    if "dest_ids" in want:
        f.check("p_mul.dest_id", fr["p_mul.dest_id"], want.pop("dest_ids"))
    # FEC_Parameters have no printable value either (udp.payload covers).
    want.pop("fec_params", None)
    for key in ("frame", "name"):
        want.pop(key, None)
    for key in sorted(want):
        f.fail("JSON field %r" % key, "no check in check_tshark.py",
               "a check for every encoded field")


def check_ack(f, fr, want):
    f.check("p_mul.source_id_ack", one(fr, "p_mul.source_id_ack"),
            want.pop("source_id"))
    entries = want.pop("entries")
    f.check("p_mul.ack_length", ints(fr["p_mul.ack_length"]),
            [e["length"] for e in entries])
    f.check("p_mul.source_id (entries)", fr["p_mul.source_id"],
            [e["source_id"] for e in entries])
    f.check("p_mul.message_id (entries)", ints(fr["p_mul.message_id"]),
            [e["msid"] for e in entries])
    singles, ranges, total = [], [], 0
    for e in entries:
        s, r = missing_split(e["missing"])
        singles += s
        ranges += r
        total += e["missing_count"]
    f.check("p_mul.missing_seq_no", ints(fr["p_mul.missing_seq_no"]), singles)
    f.check("p_mul.missing_seq_range.from",
            ints(fr["p_mul.missing_seq_range.from"]), [a for a, _ in ranges])
    f.check("p_mul.missing_seq_range.delimiter",
            ints(fr["p_mul.missing_seq_range.delimiter"]), [0] * len(ranges))
    f.check("p_mul.missing_seq_range.to",
            ints(fr["p_mul.missing_seq_range.to"]), [b for _, b in ranges])
    # Wireshark shows the total once per PDU, and only when it is not 0.
    f.check("p_mul.no_missing_seq_no", ints(fr["p_mul.no_missing_seq_no"]),
            [total] if total else [])


# JSON keys the field comparison does not read: bookkeeping ("frame",
# "name", the type's name) and octets tshark prints no value for, which
# the udp.payload comparison covers ("fec_params", "reserved").
NOT_COMPARED = {"frame", "name", "type", "fec_params", "reserved"}


def leaf_paths(obj, path=()):
    """Paths to every scalar in a frame description, except NOT_COMPARED."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k not in NOT_COMPARED:
                yield from leaf_paths(v, path + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from leaf_paths(v, path + (i,))
    else:
        yield path


def mutated(want, path):
    """A deep copy of want with the scalar at path changed."""
    w = json.loads(json.dumps(want))
    parent = w
    for k in path[:-1]:
        parent = parent[k]
    v = parent[path[-1]]
    if isinstance(v, bool):
        v = not v
    elif isinstance(v, int):
        v = v + 1
    elif re.match(r"^\d+\.\d+\.\d+\.\d+$", v):
        a = v.split(".")
        v = ".".join(a[:3] + [str((int(a[3]) + 1) % 256)])
    else:
        v = ("0" if v[:1] != "0" else "1") + v[1:]
    parent[path[-1]] = v
    return w


def blind_spots(fr, want):
    """Self-test of the comparison: change each encoded value in turn and
    return the paths whose change check_expected() does not notice."""
    blind, tried = [], 0
    for path in leaf_paths(want):
        tried += 1
        f = Frame(0, "")
        check_expected(f, fr, mutated(want, path))
        if not f.errors:
            blind.append(path)
    return tried, blind


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pcap")
    ap.add_argument("--json")
    ap.add_argument("--generator", help="pdu_pcap_gen to run first")
    ap.add_argument("--outdir", help="where --generator writes")
    ap.add_argument("--tshark", default=None)
    ap.add_argument("--expect-fail", action="store_true")
    ap.add_argument("--expect-failed-frames", default=None,
                    help="comma-separated frames that must fail")
    a = ap.parse_args()

    tshark = a.tshark or shutil.which("tshark")
    if not tshark or not os.access(tshark, os.X_OK):
        print("check_tshark: tshark not found, skipping")
        return 77

    if a.generator:
        if not a.outdir:
            ap.error("--generator needs --outdir")
        os.makedirs(a.outdir, exist_ok=True)
        a.pcap = os.path.join(a.outdir, "pdu_pcap_gen.pcap")
        a.json = os.path.join(a.outdir, "pdu_pcap_gen.json")
        p = subprocess.run([a.generator, a.pcap, a.json], check=False)
        if p.returncode != 0:
            print("check_tshark: generator failed with %d" % p.returncode)
            return 1
    if not a.pcap:
        ap.error("--pcap or --generator is required")
    if not a.expect_fail and not a.json:
        ap.error("--json is required unless --expect-fail")

    want_frames = []
    messages = []
    if a.json:
        with open(a.json, encoding="ascii") as fh:
            doc = json.load(fh)
        want_frames = doc["frames"]
        messages = doc.get("messages", [])

    frames = pass_fields(tshark, a.pcap)
    results = []
    warn_total = 0
    mutations = 0
    for i, fr in enumerate(frames):
        want = want_frames[i] if i < len(want_frames) else None
        f = Frame(int(one(fr, "frame.number")), want["name"] if want else "")
        warn_total += check_generic(f, fr)
        if want is not None and fr["p_mul.length"]:
            check_expected(f, fr, dict(want))
            if not f.errors:
                tried, blind = blind_spots(fr, want)
                mutations += tried
                for path in blind:
                    f.fail("self-test: JSON %s changed" % "/".join(
                        map(str, path)), "no difference reported",
                        "a failure")
        results.append(f)
    if a.json and len(frames) != len(want_frames):
        extra = Frame(0, "capture")
        extra.fail("frame count", len(frames), len(want_frames))
        results.append(extra)

    # Each completely sent message must come out of reassembly intact; a
    # failure is charged to the frame of its last Data_PDU.
    reassembled = {v for fr in frames for v in fr["data.data"]}
    for m in messages:
        if m["text_hex"] in reassembled:
            continue
        last = max((w["frame"] for w in want_frames
                    if w["type_value"] == 0 and w["msid"] == m["msid"]),
                   default=None)
        f = next((r for r in results if r.number == last), results[-1])
        f.fail("reassembled message %d (data.data)" % m["msid"],
               "not found", "%d octets of text" % (len(m["text_hex"]) // 2))

    totals, expert_text = pass_expert(tshark, a.pcap)
    bad2 = totals.get("Errors", 0) + totals.get("Warns", 0)
    if bad2 != warn_total:
        f = results[-1] if results else Frame(0, "capture")
        f.fail("-z expert Warn+Error total", bad2,
               "%d (as pass 1 found)" % warn_total)

    if a.json:
        net = pass_network(tshark, a.pcap)
        for f in results:
            if f.number in net:
                ipst, udpst = net[f.number]
                f.check("ip.checksum.status", ipst, "1")
                f.check("udp.checksum.status", udpst, "1")

    failed = [r for r in results if r.errors]
    for r in failed:
        for e in r.errors:
            print("FAIL %s: %s" % (r, e))
    print("check_tshark: %s: %d frames, %d Warn/Error expert items, "
          "%d Notes, %d messages reassembled%s"
          % (os.path.basename(a.pcap), len(frames), bad2,
             totals.get("Notes", 0), len(reassembled),
             " (%d expected), %d altered values caught"
             % (len(messages), mutations) if a.json else ""))

    passed = len(results) - len(failed)
    verdict = 1 if failed else 0
    if a.expect_fail:
        # Inverted: passing means the checker caught what it should.
        verdict = 1
        got = sorted(r.number for r in failed)
        want = None
        if a.expect_failed_frames is not None:
            want = sorted(int(x) for x in a.expect_failed_frames.split(","))
        if not failed:
            print("check_tshark: --expect-fail: the checker found nothing "
                  "wrong in %s" % a.pcap)
        elif want is not None and got != want:
            print("check_tshark: --expect-fail: failed frames: got %s, "
                  "want %s" % (got, want))
        else:
            print("check_tshark: --expect-fail: failures detected in frames "
                  "%s, as expected" % ",".join(map(str, got)))
            verdict = 0
        # The closing line counts the negative control itself, so that a
        # reader of "N passed, N failed" lines sees planted faults caught
        # as a pass, not as failures.
        print("check_tshark: --expect-fail: %d frames clean, %d flagged"
              % (passed, len(failed)))
        print("%d passed, %d failed" % (1 - verdict, verdict))
        return verdict
    print("%d passed, %d failed" % (passed, len(failed)))
    return verdict


if __name__ == "__main__":
    sys.exit(main())
