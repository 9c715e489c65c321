#!/usr/bin/env python3
"""Write a libFuzzer seed corpus from tests/vectors/vectors.json.

Usage: make_seeds.py VECTORS_JSON OUTDIR [STAMP]

One file per vector (named after it, raw bytes of its hex), including the
CompressedData and payload blobs: as P_MUL input they are just more
malformed datagrams.  OUTDIR is created if needed; files in it that are not
vectors are left alone.  STAMP, if given, is written last (the file meson
tracks as the custom_target's output).  Standard library only.
"""
import json
import os
import sys


def main(argv):
    if len(argv) not in (3, 4):
        sys.stderr.write('usage: make_seeds.py VECTORS_JSON OUTDIR [STAMP]\n')
        return 2
    with open(argv[1], encoding='ascii') as f:
        vectors = json.load(f)
    if not isinstance(vectors, dict) or not vectors:
        sys.stderr.write('make_seeds.py: %s: no vectors\n' % argv[1])
        return 1
    os.makedirs(argv[2], exist_ok=True)
    for name, hexdata in sorted(vectors.items()):
        if not name.replace('_', '').isalnum():
            sys.stderr.write('make_seeds.py: odd vector name %r\n' % name)
            return 1
        data = bytes.fromhex(hexdata)
        tmp = os.path.join(argv[2], '.' + name + '.tmp')
        with open(tmp, 'wb') as f:
            f.write(data)
        os.replace(tmp, os.path.join(argv[2], name))
    if len(argv) == 4:
        with open(argv[3], 'w', encoding='ascii') as f:
            f.write('%d seeds in %s\n' % (len(vectors), argv[2]))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
