#!/usr/bin/env python3
"""check_tshark_cdt.py: does Wireshark inflate our MULE CompressedData?

Runs cdt_pcap_gen (MULE messages wrapped by mule_cdt_encode and split into
Data_PDUs by the P_MUL codec), then tshark as docs/wire.md section 8 says,
with -o p_mul.decode:cdt, and fails unless, for every message the generator
lists in its .expect file:

  * tshark reassembled it and its CDT dissector inflated it (data.data in
    the frame that completes the message) to exactly the content bytes;
  * the IMPLICIT form shows algorithmID-ShortForm 0 and
    contentType-ShortForm 25 (the EXPLICIT form is misread by Wireshark's
    IMPLICIT-only cdt.asn as 131328 / 131353, docs/wire.md 6.2; only the
    inflated content is checked for it);
  * no frame carries cdt.unable_uncompress_content,
    cdt.unable_compress_content, _ws.malformed, or an expert item of
    severity Warn or Error (also checked with `-q -z expert`).

  check_tshark_cdt.py --generator EXE --outdir D [--tshark T] [--expect-fail]

--expect-fail runs the generator with --corrupt and succeeds only if the
checks fail (the negative control).  Exit status: 0 pass, 1 failure, 2
usage or tool error, 77 tshark absent (meson's "skipped").  The last line
is "N passed, N failed", counting checks.  Python 3 standard library only.
"""

import argparse
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_tshark as ct  # noqa: E402  (one copy of the tshark helpers)

SEV_WARN = 0x00600000
FIELDS = [
    "frame.number", "p_mul.message_id", "p_mul.seq_no",
    "cdt.algorithmID_ShortForm", "cdt.contentType_ShortForm",
    "cdt.unable_uncompress_content", "cdt.unable_compress_content",
    "_ws.malformed", "_ws.expert.severity", "data.data",
]
# docs/wire.md section 8's command (check_tshark.tshark_base) plus CDT.
CDT_OPTS = ["-o", "p_mul.decode:cdt"]


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, what):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL: " + what)


def run(cmd):
    env = dict(os.environ, TZ="UTC")
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=env, universal_newlines=True)
    if p.returncode != 0:
        print("error: %s exited %d: %s" % (cmd[0], p.returncode, p.stderr.strip()))
        sys.exit(2)
    return p.stdout


def read_expect(path):
    msgs = []
    with open(path) as f:
        for line in f:
            msid, form, hexdata = line.split()
            msgs.append((int(msid), form, hexdata.lower()))
    return msgs


def frames(tshark, pcap):
    """One dict per frame, field -> its occurrences joined with ","."""
    return [{f: ",".join(v) for f, v in fr.items()}
            for fr in ct.read_fields(tshark, pcap, FIELDS, CDT_OPTS, status=2)]


def expert_totals(tshark, pcap):
    """Warn and Error counts from `-q -z expert`."""
    return ct.expert(tshark, pcap, CDT_OPTS, status=2)[0]


def check_capture(tshark, pcap, expect, c):
    msgs = read_expect(expect)
    rows = frames(tshark, pcap)
    c.check(len(rows) > 0, "tshark read no frame from %s" % pcap)
    for r in rows:
        n = r["frame.number"]
        c.check(r["cdt.unable_uncompress_content"] == "",
                "frame %s: cdt.unable_uncompress_content" % n)
        c.check(r["cdt.unable_compress_content"] == "",
                "frame %s: cdt.unable_compress_content" % n)
        c.check(r["_ws.malformed"] == "", "frame %s: malformed" % n)
        sev = [int(s, 0) for s in r["_ws.expert.severity"].split(",") if s]
        c.check(all(s < SEV_WARN for s in sev),
                "frame %s: expert severity %s" % (n, r["_ws.expert.severity"]))
    for msid, form, content in msgs:
        done = [r for r in rows
                if r["p_mul.message_id"] == str(msid) and r["data.data"]]
        c.check(len(done) == 1, "message %d: %d inflated frames, want 1"
                % (msid, len(done)))
        if not done:
            continue
        r = done[0]
        got = r["data.data"].replace(":", "").lower()
        c.check(got == content,
                "message %d (%s): inflated content differs (got %d octets, "
                "want %d)" % (msid, form, len(got) // 2, len(content) // 2))
        if form == "implicit":
            c.check(r["cdt.algorithmID_ShortForm"] == "0",
                    "message %d: algorithmID-ShortForm %r, want 0"
                    % (msid, r["cdt.algorithmID_ShortForm"]))
            c.check(r["cdt.contentType_ShortForm"] == "25",
                    "message %d: contentType-ShortForm %r, want 25"
                    % (msid, r["cdt.contentType_ShortForm"]))
    totals = expert_totals(tshark, pcap)
    c.check(totals["Errors"] == 0 and totals["Warns"] == 0,
            "tshark -z expert: %d errors, %d warnings"
            % (totals["Errors"], totals["Warns"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--generator", required=True)
    ap.add_argument("--outdir", required=True)
    ap.add_argument("--tshark", default=shutil.which("tshark"))
    ap.add_argument("--expect-fail", action="store_true")
    args = ap.parse_args()
    if not args.tshark or not os.access(args.tshark, os.X_OK):
        print("tshark not found: skipped")
        print("0 passed, 0 failed")
        return 77
    os.makedirs(args.outdir, exist_ok=True)
    pcap = os.path.join(args.outdir, "cdt.pcap")
    expect = os.path.join(args.outdir, "cdt.expect")
    gen = [args.generator] + (["--corrupt"] if args.expect_fail else [])
    run(gen + [pcap, expect])

    c = Checks()
    check_capture(args.tshark, pcap, expect, c)
    if args.expect_fail:
        if c.failed == 0:
            print("FAIL: the corrupted capture passed every check")
        else:
            print("negative control: the checker caught the corruption")
        # Count the control, not the planted faults (see check_tshark.py).
        print("negative control: %d checks clean, %d flagged" % (c.passed, c.failed))
        ok = c.failed != 0
        print("%d passed, %d failed" % (int(ok), int(not ok)))
        return 0 if ok else 1
    print("%d passed, %d failed" % (c.passed, c.failed))
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
