#!/usr/bin/env python3
"""check_conf_docs.py: every muled.conf option is documented and shown.

usage: check_conf_docs.py SRCDIR

Reads the option table of mule/mule_conf.c ({"name", K_...} rows) and
checks that docs/configuration.md has a table row for each (`name` in the
first column, alone or with another option), that
tools/muled/muled.conf.example mentions each as "name =" (commented or
not), and that the manual page docs/man/muled.conf.5 describes each in an
entry of its own (the tag line after a .TP).  Also checks that the example
contains no key the parser would refuse.
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
    man = open(src + "/docs/man/muled.conf.5", encoding="utf-8").read().splitlines()
    described = set()
    for prev, tag in zip(man, man[1:]):
        if prev.strip() == ".TP":
            # Font escapes (\fB) would glue to the name; the first word of
            # a .BI/.BR tag is the key itself.
            described.update(re.findall(r"[a-z_]+", re.sub(r"\\f.|^\.B[IR]? ", " ", tag)))
    bad = 0
    for o in opts:
        if o not in documented:
            print("FAIL: %s has no row in docs/configuration.md" % o)
            bad += 1
        if o not in shown:
            print("FAIL: %s is missing from tools/muled/muled.conf.example" % o)
            bad += 1
        if o not in described:
            print("FAIL: %s has no entry in docs/man/muled.conf.5" % o)
            bad += 1
    for k in sorted(shown - set(opts)):
        print("FAIL: the example sets %s, which muled.conf does not know" % k)
        bad += 1
    print("%d options, %d documented, %d in the example, %d in the man page"
          % (len(opts), len(documented & set(opts)), len(shown & set(opts)),
             len(described & set(opts))))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
