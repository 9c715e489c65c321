#!/usr/bin/env python3
"""check_muled_mail.py: what the muled end-to-end tests delivered.

usage: check_muled_mail.py WORK BOX2 BOX3 BOX4 HQBOX DSNS

WORK holds the submitted originals m*.eml.  Each BOX is a Maildir tree (any
depth).  Every message found in BOX2..BOX4 must match an original by
Message-ID, exactly once per box, with the original's body byte for byte
(trace fields on top may differ).  HQBOX must hold at least DSNS delivery
status notifications (RFC 3464, multipart/report parsed by Python's email
package) with Action: failed for the submitted recipients that could not
be delivered.  Exit 0 when all holds, 1 otherwise (each problem printed).
"""
import email
import email.policy
import glob
import os
import sys


def files(box):
    out = []
    for root, _dirs, names in os.walk(box):
        if os.path.basename(root) in ("new", "cur"):
            out += [os.path.join(root, n) for n in names]
    return sorted(out)


def split(raw):
    for sep in (b"\r\n\r\n", b"\n\n"):
        i = raw.find(sep)
        if i >= 0:
            return raw[:i], raw[i + len(sep):]
    return raw, b""


def msgid(raw):
    m = email.message_from_bytes(raw, policy=email.policy.compat32)
    return (m.get("Message-ID") or "").strip()


def main():
    work, boxes, hq, dsns = sys.argv[1], sys.argv[2:5], sys.argv[5], int(sys.argv[6])
    originals = {}
    for path in glob.glob(os.path.join(work, "m*.eml")):
        raw = open(path, "rb").read()
        originals[msgid(raw)] = raw
    bad = 0
    for box in boxes:
        seen = {}
        for path in files(box):
            raw = open(path, "rb").read()
            mid = msgid(raw)
            if mid not in originals:
                print(f"FAIL: {path}: Message-ID {mid!r} was never submitted")
                bad += 1
                continue
            seen[mid] = seen.get(mid, 0) + 1
            body = split(raw)[1].replace(b"\r\n", b"\n")
            want = split(originals[mid])[1].replace(b"\r\n", b"\n")
            if body != want:
                print(f"FAIL: {path}: body differs from the original {mid}")
                bad += 1
        for mid, n in seen.items():
            if n != 1:
                print(f"FAIL: {box}: {mid} delivered {n} times")
                bad += 1
        print(f"{box}: {sum(seen.values())} message(s), bodies identical, no duplicate"
              if not bad else f"{box}: checked")
    reports = 0
    for path in files(hq):
        m = email.message_from_bytes(open(path, "rb").read(), policy=email.policy.default)
        if m.get_content_type() != "multipart/report":
            continue
        if m.get_param("report-type") != "delivery-status":
            print(f"FAIL: {path}: report-type is not delivery-status")
            bad += 1
            continue
        parts = [p for p in m.walk() if p.get_content_type() == "message/delivery-status"]
        if not parts:
            print(f"FAIL: {path}: no message/delivery-status part")
            bad += 1
            continue
        text = parts[0].as_string()
        actions = [l.split(":", 1)[1].strip() for l in text.splitlines()
                   if l.lower().startswith("action:")]
        status = [l.split(":", 1)[1].strip() for l in text.splitlines()
                  if l.lower().startswith("status:")]
        final = [l.split(":", 1)[1].strip() for l in text.splitlines()
                 if l.lower().startswith("final-recipient:")]
        print(f"DSN {os.path.basename(path)}: {final} action={actions} status={status}")
        if "failed" not in actions or not any(s.startswith("5.") for s in status):
            print(f"FAIL: {path}: not a failure report")
            bad += 1
            continue
        reports += 1
    if reports < dsns:
        print(f"FAIL: {reports} DSN(s) at the originator, want {dsns}")
        bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
