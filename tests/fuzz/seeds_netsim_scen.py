#!/usr/bin/env python3
"""seeds_netsim_scen.py: write the seed corpus of fuzz_netsim_scen.

Usage: seeds_netsim_scen.py SEED_DIR STAMP SCENARIO_DIR

Copies each scenario file SCENARIO_DIR/*.sim (netsim/scenarios) into
SEED_DIR, adds
one scenario that uses every keyword once (written below), then writes
STAMP.  Standard library only; the output is deterministic.
"""
import glob
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import seedlib  # noqa: E402  (tests/fuzz/seedlib.py)

ALL_KEYWORDS = b"""# every keyword once
seed 77
text-seed 3
time-limit 10m
linger 5s
wall-start 1700000000
overhead 28
group 239.1.1.1
defaults rate 9600 delay 10ms queue 32768
node A 198.18.0.1 rate 64000
nodes R 3 198.18.0.10 delay 20ms queue 1000
loss R1 rx bernoulli 10%
loss R2 rx ge 0.1 0.5 0 1
loss R3 rx mask address:1,5-7
loss A tx none
dup R1 0.1 50ms
reorder R2 0.2 300ms
emcon R3 0 2m
medium shared 9.6k delay 50ms
outage R1 1m 2m
engine ack_timeout_ms 2000
msg m1 from A to * size 4000 prio 3 at 1.5s expiry 10m
msg m2 from A to R1 text "hi\\r\\nthere"  # trailing comment
msgs b 5 from A to R1,R2 size 100-200 prio 0-7 every 1s text binary
expect delivered m1 R* within 5m
expect acked m1 R1,R2 after 1s
expect failed m2 R1
expect discarded m2 R1
expect done m1
expect before m1 b*
expect prio-before 0 7
expect max-time 9m
expect count early-data >= 1
expect count outage >= 1
"""


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: seeds_netsim_scen.py SEED_DIR STAMP SCENARIO_DIR")
    seed_dir, stamp = sys.argv[1], sys.argv[2]
    files = sorted(glob.glob(os.path.join(sys.argv[3], "*.sim")))
    seeds = {}
    for path in files:
        with open(path, "rb") as f:
            seeds[os.path.basename(path)] = f.read()
    seeds["all_keywords.sim"] = ALL_KEYWORDS
    seedlib.write_seeds(seed_dir, seeds)
    seedlib.write_stamp(stamp, "%d seeds\n" % (len(files) + 1))


if __name__ == "__main__":
    main()
