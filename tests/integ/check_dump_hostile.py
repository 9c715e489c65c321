#!/usr/bin/env python3
"""check_dump_hostile.py: pmul-dump stays bounded on a hostile capture.

Issue 13: pmul-dump on a hostile capture took 1.5 GB after 1 MB of input
and did not finish 200 MB in 600 s.  This test writes a hostile capture
with pmul-hostile-gen (random checksum-valid PDUs from spoofed sources,
floods of Address_PDUs with Total 65535 and Expiry_Time in 2106, noise,
and a legitimate sender among them), runs pmul-dump on it and checks:

  - it reads the whole capture (exit 0, frames = datagrams written) in
    less than --max-seconds, with a peak RSS (getrusage of the child)
    under --max-rss-mb;
  - the legitimate messages are seen complete on the air;
  - the summary carries the eviction and refusal counters;
  - with tiny caps (--max-nodes 1 --max-msgs 50 --msg-mem 64k) records
    are evicted, each reported once with "evicted", the counters agree,
    and memory stays lower;
  - the generator is deterministic (same seed, same bytes).

Usage: check_dump_hostile.py --gen GEN --dump PMUL_DUMP --outdir DIR
           [--mb 20] [--max-seconds 60] [--max-rss-mb 256]
Exit status: 0 pass, 1 failure, 2 usage or tool error.
"""

import argparse
import filecmp
import os
import re
import resource
import subprocess
import sys
import time


def run_gen(gen, out, size, seed=1):
    p = subprocess.run([gen, "-s", str(seed), "-b", str(size), "-o", out],
                       capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("pmul-hostile-gen failed: %s" % p.stderr)
    m = re.search(r"(\d+) datagrams.* legit_msgs=(\d+)", p.stderr)
    if not m:
        sys.exit("pmul-hostile-gen said: %s" % p.stderr)
    return int(m.group(1)), int(m.group(2))


def run_dump(dump, args):
    """Run pmul-dump alone as a child; (rc, stdout, stderr, seconds, peak RSS MB)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.monotonic()
    p = subprocess.Popen([dump] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    out, err = p.communicate()
    secs = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the largest of any child waited for so far
    # (the generator is far smaller): good for checking a bound.
    return p.returncode, out, err, secs, max(before, after) / 1024.0


def summary(out):
    for line in out.splitlines():
        if line.startswith("summary "):
            return dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gen", required=True)
    ap.add_argument("--dump", required=True)
    ap.add_argument("--outdir", required=True)
    ap.add_argument("--mb", type=int, default=20)
    ap.add_argument("--max-seconds", type=float, default=60.0)
    ap.add_argument("--max-rss-mb", type=float, default=256.0)
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    fails = []

    # Determinism of the generator.
    d1, d2 = os.path.join(a.outdir, "det1.pcap"), os.path.join(a.outdir, "det2.pcap")
    run_gen(a.gen, d1, 300000, seed=7)
    run_gen(a.gen, d2, 300000, seed=7)
    if not filecmp.cmp(d1, d2, shallow=False):
        fails.append("pmul-hostile-gen: same seed, different captures")

    cap = os.path.join(a.outdir, "hostile.pcap")
    dgrams, legit = run_gen(a.gen, cap, a.mb * 1000000)
    rc, out, err, secs, rss = run_dump(a.dump, ["-q", "-M", "-r", cap])
    print("pmul-dump -q -M: %d datagrams (%d MB) in %.2f s = %.0f datagrams/s, "
          "peak RSS %.1f MB" % (dgrams, a.mb, secs, dgrams / secs if secs else 0, rss))
    s = summary(out)
    if rc != 0 or s is None:
        sys.exit("pmul-dump failed (exit %d): %s" % (rc, err[-2000:]))
    print("  " + " ".join("%s=%s" % kv for kv in s.items()))
    if int(s["frames"]) != dgrams:
        fails.append("frames=%s, want %d" % (s["frames"], dgrams))
    if secs > a.max_seconds:
        fails.append("took %.1f s, bound %.0f s" % (secs, a.max_seconds))
    if rss > a.max_rss_mb:
        fails.append("peak RSS %.1f MB, bound %.0f MB" % (rss, a.max_rss_mb))
    if int(s["complete"]) < legit:
        fails.append("complete=%s, want at least the %d legitimate messages"
                     % (s["complete"], legit))
    for k in ("msgs_evicted", "nodes_evicted", "nodes_refused", "early_dropped",
              "early_not_kept", "engine_cap_drops"):
        if k not in s:
            fails.append("summary lacks %s" % k)

    # Tiny caps: evictions happen, are reported once each, and counted.
    rc, out, err, secs2, _ = run_dump(a.dump, ["-q", "--max-nodes", "1", "--max-msgs", "50",
                                               "--msg-mem", "64k", "-r", cap])
    s2 = summary(out)
    if rc != 0 or s2 is None:
        fails.append("tiny caps: exit %d: %s" % (rc, err[-500:]))
    else:
        evicted_lines = sum(1 for l in out.splitlines()
                            if l.startswith("message ") and l.endswith(" evicted"))
        held_lines = sum(1 for l in out.splitlines()
                         if l.startswith("message ") and not l.endswith(" evicted"))
        print("tiny caps: %.2f s, msgs_evicted=%s (lines %d), held %d, messages=%s" %
              (secs2, s2["msgs_evicted"], evicted_lines, held_lines, s2["messages"]))
        if int(s2["msgs_evicted"]) == 0:
            fails.append("tiny caps: nothing evicted")
        if evicted_lines != int(s2["msgs_evicted"]):
            fails.append("tiny caps: %d evicted report lines, summary says %s"
                         % (evicted_lines, s2["msgs_evicted"]))
        if evicted_lines + held_lines != int(s2["messages"]):
            fails.append("tiny caps: %d report lines, summary says messages=%s"
                         % (evicted_lines + held_lines, s2["messages"]))
        if held_lines > 50:
            fails.append("tiny caps: %d records held at the end, cap 50" % held_lines)
        if "caps reached" not in err:
            fails.append("tiny caps: no 'caps reached' line on stderr")

    for f in fails:
        print("FAIL: " + f)
    print("%s" % ("PASS" if not fails else "%d failure(s)" % len(fails)))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
