#!/usr/bin/env python3
"""seeds_mule_route.py: write the seed corpus of fuzz_mule_route.

Usage: seeds_mule_route.py CONFIGURATION_MD TEST_MULE_ROUTE_C SEED_DIR STAMP

Seeds are routing-table configs: the example block under "### Example" in
the "## Routing table" section of docs/configuration.md, and every
`static const char NAME[] = "..." "...";` table (plus the string
literals of config test cases that contain "route" or "default") of
tests/unit/test_mule_route.c, with C escapes decoded.  STAMP is written
last.  Standard library only; the output is deterministic.
"""
import re
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import seedlib  # noqa: E402  (tests/fuzz/seedlib.py)

ESC = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", '"': '"', "'": "'", "0": "\0"}


def c_unescape(s):
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            n = s[i + 1]
            if n == "x":
                m = re.match(r"[0-9a-fA-F]{1,2}", s[i + 2:])
                out.append(chr(int(m.group(0), 16)))
                i += 2 + len(m.group(0))
                continue
            out.append(ESC.get(n, n))
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def docs_example(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    sec = text.index("## Routing table")
    ex = text.index("### Example", sec)
    start = text.index("```\n", ex) + 4
    return text[start:text.index("```", start)]


def test_tables(path):
    with open(path, encoding="utf-8") as f:
        src = f.read()
    lit = r'"(?:[^"\\\n]|\\.)*"'
    tables = []
    # Whole tables: static const char NAME[] = "..." "...";
    for m in re.finditer(r"static const char \w+\[\]\s*=\s*((?:%s\s*)+);" % lit, src):
        tables.append("".join(c_unescape(s[1:-1]) for s in re.findall(lit, m.group(1))))
    # Single-line configs in test cases.
    for s in re.findall(lit, src):
        t = c_unescape(s[1:-1])
        if ("route " in t or "default " in t) and t not in tables:
            tables.append(t)
    return tables


def main():
    if len(sys.argv) != 5:
        sys.exit("usage: seeds_mule_route.py CONFIGURATION_MD TEST_MULE_ROUTE_C SEED_DIR STAMP")
    docs, test_c, seed_dir, stamp = sys.argv[1:]
    seeds = [docs_example(docs)] + test_tables(test_c)
    files = {"route_%02d.cf" % i: text.encode("utf-8", "surrogateescape")
             for i, text in enumerate(seeds)}
    n = seedlib.write_seeds(seed_dir, files)
    seedlib.write_stamp(stamp, "%d seeds\n" % n)


if __name__ == "__main__":
    main()
