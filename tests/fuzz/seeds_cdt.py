#!/usr/bin/env python3
"""seeds_cdt.py: write the seed corpus of fuzz_mule_cdt.

  seeds_cdt.py VECTORS_JSON SEED_DIR WORK_DIR STAMP

Writes the BER vectors cdt_implicit, cdt_explicit and cdt_rfc8494_example
of tests/vectors/vectors.json (a flat object of name -> hex) as one file
each into SEED_DIR, creates WORK_DIR (libFuzzer's writable corpus, which
it needs to exist), then writes STAMP, the file meson tracks.  Python 3
standard library only.
"""

import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import seedlib  # noqa: E402  (tests/fuzz/seedlib.py)

SEEDS = ["cdt_implicit", "cdt_explicit", "cdt_rfc8494_example"]


def main():
    if len(sys.argv) != 5:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    vectors, seed_dir, work_dir, stamp = sys.argv[1:]
    table = seedlib.load_vectors(vectors)
    seedlib.write_seeds(seed_dir, {name: table[name] for name in SEEDS})
    os.makedirs(work_dir, exist_ok=True)
    seedlib.write_stamp(stamp, "\n".join(SEEDS) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
