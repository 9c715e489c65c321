#!/usr/bin/env python3
"""check_capture_errors.py: bad captures give clean errors, never crashes.

pmul-dump and pmul-replay (offline) are run on captures built here:

  * link layers and IP versions: a P_MUL PDU behind an 802.1Q tag, over
    IPv6 with a hop-by-hop header, in a Linux cooked (SLL) capture, in a
    nanosecond pcap and in pcapng (converted by editcap when present);
    each must decode like the plain Ethernet/IPv4 original;
  * frames that are not clean datagrams: an IPv4 fragment, a frame cut by
    the snapshot length, ARP, UDP on another port; the first two must be
    reported with their verdict (FRAGMENT, IP_TRUNC), the others counted;
  * broken files: cut inside the file header, empty, random octets
    (exit 2, one message on stderr); cut inside a record, a record whose
    length is absurd (exit 1, the frames before it reported, the summary
    printed);
  * a few hundred mutations of the test vectors with random octets
    changed anywhere in the file (seeded, so reproducible): every run
    must exit 0, 1 or 2 with no sanitizer report, and when the file was
    read to its end, print one line per frame.

The captures are written with the stdlib (struct), so the reader under
test meets files it did not write itself.

Usage: check_capture_errors.py --dump D --replay R --vectors DIR [--mutations N]
Exit status: 0 pass, 1 failure, 2 usage error.
"""

import argparse
import json
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile

# A Discard_Message_PDU (docs/wire.md 3.2 worked example).
PDU = bytes.fromhex("0010010300006fb5c000020100010002")
SRC4 = bytes([192, 0, 2, 1])
DST4 = bytes([239, 0, 0, 1])
SRC6 = bytes.fromhex("20010db8000000000000000000000001")
DST6 = bytes.fromhex("ff0e0000000000000000000000000009")
T0 = 1700000000


def pcap_file(path, linktype, records, nano=False, snaplen=262144):
    """records: (ts_sec, ts_frac, frame bytes, wire length or None)."""
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    with open(path, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype))
        for sec, frac, frame, wire in records:
            fh.write(struct.pack("<IIII", sec, frac, len(frame),
                                 wire if wire is not None else len(frame)))
            fh.write(frame)


def udp(payload, sport=2753, dport=2753):
    return struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload


def ipv4(payload, proto=17, frag=0):
    hdr = struct.pack(">BBHHHBBH", 0x45, 0, 20 + len(payload), 7, frag, 64,
                      proto, 0) + SRC4 + DST4
    return hdr + payload


def ipv6(payload, nh=17, ext=b""):
    return (struct.pack(">IHBB", 0x60000000, len(ext) + len(payload), nh, 1)
            + SRC6 + DST6 + ext + payload)


def eth(payload, ethertype=0x0800, vlan=None):
    h = bytes.fromhex("01005e000001020000c00201")
    if vlan is not None:
        h += struct.pack(">HH", 0x8100, vlan)
    return h + struct.pack(">H", ethertype) + payload


def sll(payload, proto=0x0800):
    return struct.pack(">HHH", 0, 1, 6) + bytes(8) + struct.pack(">H", proto) \
        + payload


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       check=False)
    return p.returncode, p.stdout.decode("utf-8", "replace"), \
        p.stderr.decode("utf-8", "replace")


def sanitizer_report(err):
    return ("AddressSanitizer" in err or "runtime error:" in err
            or "LeakSanitizer" in err)


class Checker:
    def __init__(self, dump, replay):
        self.dump = dump
        self.replay = replay
        self.fails = []
        self.runs = 0

    def fail(self, what):
        self.fails.append(what)

    def dump_json(self, path, what, want_rc=0):
        rc, out, err = run([self.dump, "-r", path, "--json"])
        self.runs += 1
        if rc != want_rc or sanitizer_report(err):
            self.fail("%s: pmul-dump exit %d (want %d): %s" % (what, rc, want_rc,
                                                               err.strip()[:300]))
            return []
        return [json.loads(l) for l in out.splitlines()]

    def one_pdu(self, path, what):
        """The capture holds one frame carrying PDU: it must decode."""
        objs = self.dump_json(path, what)
        pdus = [o for o in objs if o["kind"] == "pdu"]
        if len(pdus) != 1:
            self.fail("%s: %d PDU lines, want 1" % (what, len(pdus)))
            return None
        o = pdus[0]
        if o["verdict"] != "OK" or o["type"] != 3 or o["msid"] != 65538:
            self.fail("%s: decoded as %s" % (what, o))
        return o

    def verdicts(self, path, what, want):
        objs = self.dump_json(path, what)
        got = [(o["frame"], o["verdict"]) for o in objs
               if o["kind"] in ("pdu", "frame")]
        if got != want:
            self.fail("%s: verdicts %s, want %s" % (what, got, want))
        return objs

    def broken(self, path, what, want_rc, frames_before=None):
        for tool, cmd in (("pmul-dump", [self.dump, "-r", path]),
                          ("pmul-replay", [self.replay, "-r", path, "--as",
                                           "192.0.2.2"])):
            rc, out, err = run(cmd)
            self.runs += 1
            lines = [l for l in err.splitlines() if l.strip()]
            if rc != want_rc or sanitizer_report(err):
                self.fail("%s: %s exit %d, want %d: %s" % (what, tool, rc, want_rc,
                                                           err.strip()[:300]))
            elif len(lines) != 1 or not lines[0].startswith(tool + ": "):
                self.fail("%s: %s stderr is not one clean line: %r"
                          % (what, tool, err[:300]))
            if want_rc == 1 and "summary " not in out:
                self.fail("%s: %s printed no summary" % (what, tool))
            if tool == "pmul-dump" and frames_before is not None:
                nums = [int(l.split()[0]) for l in out.splitlines()
                        if l[:1].isdigit()]
                if nums != list(range(1, frames_before + 1)):
                    self.fail("%s: frames reported %s, want 1..%d"
                              % (what, nums, frames_before))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dump", required=True)
    ap.add_argument("--replay", required=True)
    ap.add_argument("--vectors", required=True)
    ap.add_argument("--mutations", type=int, default=300)
    a = ap.parse_args()
    c = Checker(a.dump, a.replay)
    tmp = tempfile.mkdtemp(prefix="check_capture_errors.")
    try:
        p = lambda n: os.path.join(tmp, n)  # noqa: E731

        # Usage: man-page style --help (exit 0), bad options (exit 2).
        for tool in (a.dump, a.replay):
            rc, out, err = run([tool, "--help"])
            for sect in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS",
                         "EXIT STATUS", "EXAMPLES", "SEE ALSO"):
                if rc != 0 or not re.search(r"^([A-Z]+ )?%s$" % sect, out, re.M):
                    c.fail("%s --help: exit %d, section %s missing"
                           % (os.path.basename(tool), rc, sect))
            for args in (["--no-such-option"], [], ["-r"],
                         ["-r", "x.pcap", "--ports", "0"],
                         ["-r", "x.pcap", "--ports", "2753-2751"],
                         ["-r", "x.pcap", "-c", "12x"]):
                rc, out, err = run([tool] + args)
                if rc != 2 or sanitizer_report(err):
                    c.fail("%s %s: exit %d, want 2" % (os.path.basename(tool),
                                                       args, rc))
        for args in (["--as", "300.1.1.1"], ["--send", "--as", "192.0.2.2"],
                     ["--send", "--group", "10.0.0.1"],
                     ["--send", "--rewrite-source", "192.0.2.1"],
                     ["--as", "192.0.2.2", "--drop-frames", "5-3"],
                     ["--send", "--port", "70000"]):
            rc, out, err = run([a.replay, "-r", "x.pcap"] + args)
            if rc != 2:
                c.fail("pmul-replay %s: exit %d, want 2" % (args, rc))

        # Link layers, IP versions, file formats.
        plain = eth(ipv4(udp(PDU)))
        pcap_file(p("plain.pcap"), 1, [(T0, 0, plain, None)])
        c.one_pdu(p("plain.pcap"), "Ethernet/IPv4")
        pcap_file(p("vlan.pcap"), 1, [(T0, 0, eth(ipv4(udp(PDU)), vlan=42),
                                       None)])
        c.one_pdu(p("vlan.pcap"), "802.1Q")
        hbh = bytes([17, 0, 1, 4, 0, 0, 0, 0])
        pcap_file(p("v6.pcap"), 1, [(T0, 0, eth(ipv6(udp(PDU), 0, hbh),
                                                 0x86DD), None)])
        o = c.one_pdu(p("v6.pcap"), "IPv6 + hop-by-hop")
        if o and o["ip_dst"] != "ff0e::9":
            c.fail("IPv6: destination %s" % o["ip_dst"])
        pcap_file(p("sll.pcap"), 113, [(T0, 0, sll(ipv4(udp(PDU))), None)])
        c.one_pdu(p("sll.pcap"), "Linux cooked")
        pcap_file(p("nano.pcap"), 1, [(T0, 123456789, plain, None)], nano=True)
        o = c.one_pdu(p("nano.pcap"), "nanosecond pcap")
        if o and o["ts_us"] != T0 * 1000000 + 123456:
            c.fail("nanosecond pcap: ts_us %d" % o["ts_us"])
        editcap = shutil.which("editcap")
        if editcap:
            subprocess.run([editcap, "-F", "pcapng", p("plain.pcap"),
                            p("plain.pcapng")], check=True)
            c.one_pdu(p("plain.pcapng"), "pcapng")

        # Frames that are not clean datagrams.
        whole = eth(ipv4(udp(PDU)))
        recs = [
            (T0, 0, eth(ipv4(udp(PDU), frag=0x2000)), None),   # fragment
            (T0, 1, whole[:40], len(whole)),                   # snaplen cut
            (T0, 2, eth(bytes(28), 0x0806), None),             # ARP
            (T0, 3, eth(ipv4(udp(PDU, 53, 53))), None),        # DNS port
            (T0, 4, whole, None),                              # good
        ]
        pcap_file(p("frames.pcap"), 1, recs)
        objs = c.verdicts(p("frames.pcap"), "frame verdicts",
                          [(1, "FRAGMENT"), (2, "IP_TRUNC"), (5, "OK")])
        summ = [o for o in objs if o["kind"] == "summary"]
        if not summ or summ[0]["other"] != 2 or summ[0]["bad_frames"] != 2:
            c.fail("frame verdicts: summary %s" % summ)

        # Broken files.
        basic = open(os.path.join(a.vectors, "pmul_basic.pcap"), "rb").read()
        with open(p("cut_header.pcap"), "wb") as fh:
            fh.write(basic[:10])
        c.broken(p("cut_header.pcap"), "cut inside the file header", 2)
        open(p("empty.pcap"), "wb").close()
        c.broken(p("empty.pcap"), "empty file", 2)
        with open(p("garbage.pcap"), "wb") as fh:
            fh.write(random.Random(1).randbytes(500))
        c.broken(p("garbage.pcap"), "random octets", 2)
        c.broken(os.path.join(tmp, "missing.pcap"), "missing file", 2)
        with open(p("cut_record.pcap"), "wb") as fh:
            fh.write(basic[:-7])
        c.broken(p("cut_record.pcap"), "cut inside the last record", 1, 10)
        bad = bytearray(basic)
        struct.pack_into("<I", bad, 24 + 8, 0x7FFFFFFF)   # record 1 caplen
        with open(p("huge_caplen.pcap"), "wb") as fh:
            fh.write(bad)
        c.broken(p("huge_caplen.pcap"), "absurd record length", 1, 0)

        # Seeded mutations of the vectors.
        rng = random.Random(8494)
        sources = [open(os.path.join(a.vectors, n), "rb").read()
                   for n in sorted(os.listdir(a.vectors)) if n.endswith(".pcap")]
        read_to_end = 0
        for i in range(a.mutations):
            data = bytearray(rng.choice(sources))
            # Mostly inside the frames; sometimes the headers too.
            lo = 24 if rng.random() < 0.9 else 0
            for _ in range(rng.randint(1, 8)):
                data[rng.randrange(lo, len(data))] = rng.randrange(256)
            path = p("mut.pcap")
            with open(path, "wb") as fh:
                fh.write(data)
            for tool, cmd in (("pmul-dump", [a.dump, "-r", path, "--json"]),
                              ("pmul-replay", [a.replay, "-r", path, "--as",
                                               "192.0.2.2", "--json"])):
                rc, out, err = run(cmd)
                c.runs += 1
                if rc not in (0, 1, 2) or sanitizer_report(err):
                    c.fail("mutation %d: %s exit %d: %s" % (i, tool, rc,
                                                           err.strip()[:400]))
                    shutil.copy(path, p("mut-fail-%d.pcap" % i))
                    continue
                if tool != "pmul-dump" or rc != 0:
                    continue
                objs = [json.loads(l) for l in out.splitlines()]
                summ = [o for o in objs if o["kind"] == "summary"][0]
                shown = sum(1 for o in objs if o["kind"] in ("pdu", "frame"))
                if shown != summ["pdus"] + summ["bad_frames"]:
                    c.fail("mutation %d: %d lines for %d PDUs + %d bad frames"
                           % (i, shown, summ["pdus"], summ["bad_frames"]))
                read_to_end += 1
    finally:
        if not c.fails:
            shutil.rmtree(tmp, ignore_errors=True)

    for f in c.fails:
        print("FAIL " + f)
    print("check_capture_errors: %d runs, %d mutated captures read to the end, "
          "%d failures%s" % (c.runs, read_to_end, len(c.fails),
                             "" if not c.fails else " (files kept in %s)" % tmp))
    return 1 if c.fails else 0


if __name__ == "__main__":
    sys.exit(main())
