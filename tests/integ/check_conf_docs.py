#!/usr/bin/env python3
"""check_conf_docs.py: every muled.conf option is documented and shown.

usage: check_conf_docs.py SRCDIR

Reads the option table of mule/mule_conf.c ({"name", K_...} rows) and
checks that docs/configuration.md has a table row for each (`name` in the
first column, alone or with another option) and that
tools/muled/muled.conf.example mentions each as "name =" (commented or
not).  Also checks that the example contains no key the parser would refuse.
Exit 0 when all hold; each problem is printed.
"""
import re
import sys


def main():
    src = sys.argv[1]
    table = open(src + "/mule/mule_conf.c", encoding="utf-8").read()
    opts = re.findall(r'\{"([a-z_]+)", K_[A-Z0-9]+,', table)
    docs = open(src + "/docs/configuration.md", encoding="utf-8").read()
    example = open(src + "/tools/muled/muled.conf.example", encoding="utf-8").read()
    rows = [l for l in docs.splitlines() if l.startswith("| `")]
    documented = set()
    for r in rows:
        documented.update(re.findall(r"`([a-z_]+)`", r.split("|")[1]))
    shown = set(re.findall(r"^#?([a-z_]+) =", example, re.M))
    bad = 0
    for o in opts:
        if o not in documented:
            print("FAIL: %s has no row in docs/configuration.md" % o)
            bad += 1
        if o not in shown:
            print("FAIL: %s is missing from tools/muled/muled.conf.example" % o)
            bad += 1
    for k in sorted(shown - set(opts)):
        print("FAIL: the example sets %s, which muled.conf does not know" % k)
        bad += 1
    print("%d options, %d documented, %d in the example" % (len(opts), len(documented & set(opts)),
                                                          len(shown & set(opts))))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
