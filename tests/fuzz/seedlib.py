"""seedlib.py: what the seed scripts of tests/fuzz/ share.

The seeds_*.py scripts (and make_seeds.py) each write one libFuzzer seed
corpus at build time; meson runs them as custom_targets and tracks the
STAMP file each writes last.  This module reads tests/vectors/vectors.json
(a flat JSON object of name -> hex) and writes seed files and stamps, so
that every script does it the same way:

  load_vectors(path)           {name: bytes} of vectors.json
  write_seeds(outdir, seeds)   one file per (name, bytes), sorted by name
  write_seed(outdir, name, b)  one file, written atomically
  write_stamp(path, text)      the file meson tracks, written last

Seed files are written to a hidden temporary name and renamed, so that an
interrupted build never leaves a half-written seed behind.  Standard
library only; the output is deterministic.
"""
import json
import os


def load_vectors(path):
    """Return vectors.json at path as {name: bytes}."""
    with open(path, encoding="ascii") as f:
        table = json.load(f)
    if not isinstance(table, dict):
        raise ValueError("%s: not a JSON object of name -> hex" % path)
    return {name: bytes.fromhex(hexdata) for name, hexdata in table.items()}


def write_seed(outdir, name, data):
    """Write data as outdir/name (outdir must exist)."""
    tmp = os.path.join(outdir, "." + name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, os.path.join(outdir, name))


def write_seeds(outdir, seeds):
    """Create outdir if needed and write each (name, bytes) of the dict
    or iterable seeds into it, in name order.  Files in outdir that are
    not seeds are left alone.  Returns the number of seeds written."""
    os.makedirs(outdir, exist_ok=True)
    items = sorted(seeds.items() if isinstance(seeds, dict) else seeds)
    for name, data in items:
        write_seed(outdir, name, data)
    return len(items)


def write_stamp(path, text):
    """Write the stamp file meson tracks; call it last."""
    with open(path, "w", encoding="ascii") as f:
        f.write(text)
