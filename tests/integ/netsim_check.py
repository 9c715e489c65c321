#!/usr/bin/env python3
"""netsim_check.py: integration checks of netsim-run (suite 'integ').

  netsim_check.py determinism NETSIM_RUN SCENARIO
      Runs the scenario twice with --seed 5 and requires byte-identical
      output (per-message lines, summary, transcript hash); runs it with
      --seed 6 and requires a different transcript hash.

  netsim_check.py pcap NETSIM_RUN SCENARIO
      Runs the scenario with --pcap and --json, then has tshark decode the
      capture as P_MUL (the command of docs/wire.md section 8): there must
      be as many frames as datagrams on the air, 0 Warn/Error expert items,
      0 bad checksums, and the first timestamp must be the scenario's
      wall-start (virtual time 0 + the first transmission).  Exits 77
      (skipped) when tshark is not installed.

  netsim_check.py noauth NETSIM_RUN SCENARIO
      Runs the scenario without its "auth" lines (and without expectations
      of the auth-drop counter) and requires it to fail (exit 1): the
      attack it withstands is then one only the authenticated mode stops.
      The scenario itself must pass.

Exit status 0 = pass, 1 = fail, 77 = skipped.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_tshark as ct  # noqa: E402  (one copy of the tshark helpers)


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout, p.stderr


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def determinism(prog, scen):
    rc1, out1, err1 = run([prog, "--hash", "--seed", "5", scen])
    rc2, out2, _ = run([prog, "--hash", "--seed", "5", scen])
    rc3, out3, _ = run([prog, "--hash", "--seed", "6", scen])
    sys.stdout.write(out1.decode(errors="replace"))
    if rc1 not in (0, 1):
        fail("netsim-run exited %d: %s" % (rc1, err1.decode(errors="replace")))
    if out1 != out2 or rc1 != rc2:
        fail("two runs with seed 5 differ")
    h1 = re.search(rb"^transcript ([0-9a-f]{16})$", out1, re.M)
    h3 = re.search(rb"^transcript ([0-9a-f]{16})$", out3, re.M)
    if not h1 or not h3:
        fail("no transcript hash in the output")
    if h1.group(1) == h3.group(1):
        fail("seeds 5 and 6 give the same transcript hash %s" % h1.group(1).decode())
    print("ok: seed 5 twice identical (%s), seed 6 differs (%s)"
          % (h1.group(1).decode(), h3.group(1).decode()))


def pcap(prog, scen):
    tshark = shutil.which("tshark")
    if tshark is None:
        print("SKIP: tshark not installed")
        sys.exit(77)
    with tempfile.TemporaryDirectory() as tmp:
        cap = os.path.join(tmp, "netsim.pcap")
        rc, out, err = run([prog, "--json", "--pcap", cap, scen])
        if rc != 0:
            sys.stdout.write(out.decode(errors="replace"))
            fail("netsim-run exited %d: %s" % (rc, err.decode(errors="replace")))
        summary = json.loads(out.decode().strip().splitlines()[-1])
        datagrams = summary["counters"]["datagrams"]
        totals, expert = ct.expert(tshark, cap)
        bad = [(k, str(totals[k])) for k in ("Errors", "Warns") if totals[k]]
        rows = ct.read_fields(tshark, cap, ["frame.time_epoch", "p_mul.checksum_bad",
                                            "p_mul.pdu_type"])
        frames = len(rows)
        bad_ck = sum(1 for r in rows
                     if any(v not in ("", "0", "False") for v in r["p_mul.checksum_bad"]))
        untyped = sum(1 for r in rows if not r["p_mul.pdu_type"])
        print("frames %d (datagrams %d), expert Warn/Error %s, bad checksums %d, "
              "not P_MUL %d" % (frames, datagrams, bad or "none", bad_ck, untyped))
        if frames != datagrams:
            fail("pcap has %d frames, netsim put %d datagrams on the air" % (frames, datagrams))
        if bad:
            fail("tshark reports expert items:\n" + expert)
        if bad_ck or untyped:
            fail("bad checksums or undecoded frames")
        times = [float(r["frame.time_epoch"][0]) for r in rows]
        if times != sorted(times):
            fail("timestamps go backwards")
        if not 1.6e9 < times[0] < 1.8e9:
            fail("first timestamp %.6f is not near the scenario's wall-start" % times[0])
    print("ok")


def noauth(prog, scen):
    rc, out, err = run([prog, scen])
    if rc != 0:
        sys.stdout.write(out.decode(errors="replace"))
        fail("with auth: netsim-run exited %d: %s" % (rc, err.decode(errors="replace")))
    with open(scen) as f:
        lines = f.readlines()
    kept = [l for l in lines
            if not l.startswith("auth ") and not re.match(r"expect\s+count\s+auth-drop\b", l)]
    if len(kept) == len(lines):
        fail("%s has no auth lines" % scen)
    with tempfile.TemporaryDirectory() as tmp:
        plain = os.path.join(tmp, "noauth.sim")
        with open(plain, "w") as f:
            f.writelines(kept)
        rc, out, err = run([prog, plain])
    text = out.decode(errors="replace")
    sys.stdout.write(text)
    if rc != 1 or "FAIL" not in text:
        fail("without auth: netsim-run exited %d, want 1 (the attack must succeed): %s"
             % (rc, err.decode(errors="replace")))
    print("ok: passes with auth, fails without")


def main():
    modes = {"determinism": determinism, "pcap": pcap, "noauth": noauth}
    if len(sys.argv) != 4 or sys.argv[1] not in modes:
        print(__doc__)
        sys.exit(2)
    modes[sys.argv[1]](sys.argv[2], sys.argv[3])


if __name__ == "__main__":
    main()
