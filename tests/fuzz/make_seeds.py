#!/usr/bin/env python3
"""Write a libFuzzer seed corpus from tests/vectors/vectors.json.

Usage: make_seeds.py VECTORS_JSON OUTDIR [STAMP]

One file per vector (named after it, raw bytes of its hex), including the
CompressedData and payload blobs: as P_MUL input they are just more
malformed datagrams.  OUTDIR is created if needed; files in it that are not
vectors are left alone.  STAMP, if given, is written last (the file meson
tracks as the custom_target's output).  Standard library only.
"""
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import seedlib  # noqa: E402  (tests/fuzz/seedlib.py)


def main(argv):
    if len(argv) not in (3, 4):
        sys.stderr.write('usage: make_seeds.py VECTORS_JSON OUTDIR [STAMP]\n')
        return 2
    vectors = seedlib.load_vectors(argv[1])
    if not vectors:
        sys.stderr.write('make_seeds.py: %s: no vectors\n' % argv[1])
        return 1
    for name in vectors:
        if not name.replace('_', '').isalnum():
            sys.stderr.write('make_seeds.py: odd vector name %r\n' % name)
            return 1
    n = seedlib.write_seeds(argv[2], vectors)
    if len(argv) == 4:
        seedlib.write_stamp(argv[3], '%d seeds in %s\n' % (n, argv[2]))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
