#!/usr/bin/env python3
"""check_dsn.py: parse the DSNs of tests/integ/dsn_gen.c with Python's
email package (an independent MIME parser) and check their structure.

Usage: check_dsn.py --generator DSN_GEN --outdir DIR

For every case in DIR/manifest.json it checks, on
email.message_from_bytes(..., policy=email.policy.default):
  - multipart/report with report-type=delivery-status, no parser defects;
  - part 1 text/plain;
  - part 2 message/delivery-status whose per-message block has
    Reporting-MTA, Arrival-Date and (when ENVID was given)
    Original-Envelope-Id, and one per-recipient block per reported
    recipient with the expected Final-Recipient, Action and Status
    (and Remote-MTA when given);
  - part 3 text/rfc822-headers or message/rfc822 as RET asks, whose
    header still has the original Subject;
  - the .bsmtp file is "<>" + the sender + empty line + the same DSN.
Prints one line per failed check and "N passed, N failed" last; exits 1
if anything failed.
"""
import argparse
import email
import email.policy
import json
import os
import subprocess
import sys


def check_case(case, outdir):
    """Return a list of problems (empty when the case passes)."""
    errs = []
    name = case["name"]
    with open(os.path.join(outdir, name + ".eml"), "rb") as f:
        raw = f.read()
    msg = email.message_from_bytes(raw, policy=email.policy.default)

    def want(cond, what):
        if not cond:
            errs.append(f"{name}: {what}")

    want(msg.get_content_type() == "multipart/report",
         f"top type {msg.get_content_type()}, want multipart/report")
    want(msg.get_param("report-type") == "delivery-status",
         f"report-type {msg.get_param('report-type')!r}")
    want(str(msg["Auto-Submitted"]) == "auto-replied", "Auto-Submitted")
    want(str(msg["To"]) == "<" + case["sender"] + ">" or
         msg["To"].addresses[0].addr_spec == case["sender"], f"To {msg['To']!r}")
    want(msg["Message-ID"] is not None and msg["Date"] is not None,
         "Message-ID and Date present")
    want(b"\n" not in raw.replace(b"\r\n", b""), "bare LF in the DSN")
    for part in msg.walk():
        if part.defects:
            errs.append(f"{name}: defects {part.defects} in {part.get_content_type()}")
    parts = msg.get_payload()
    want(isinstance(parts, list) and len(parts) == 3, f"{len(parts)} parts, want 3")
    if not isinstance(parts, list) or len(parts) < 3:
        return errs
    want(parts[0].get_content_type() == "text/plain",
         f"part 1 {parts[0].get_content_type()}")
    ds = parts[1]
    want(ds.get_content_type() == "message/delivery-status",
         f"part 2 {ds.get_content_type()}")
    blocks = ds.get_payload()
    want(isinstance(blocks, list) and len(blocks) == 1 + len(case["rcpts"]),
         f"{len(blocks)} delivery-status blocks, want {1 + len(case['rcpts'])}")
    if isinstance(blocks, list) and blocks:
        per_msg = blocks[0]
        want(str(per_msg["Reporting-MTA"]) == "dns; relay.example",
             f"Reporting-MTA {per_msg['Reporting-MTA']!r}")
        want(per_msg["Arrival-Date"] is not None, "Arrival-Date missing")
        envid = case["envid"]
        if envid is None:
            want(per_msg["Original-Envelope-Id"] is None, "unexpected Original-Envelope-Id")
        else:
            # The DSN carries the xtext-decoded ENVID (RFC 3464 2.2.1).
            decoded = envid.replace("+2B", "+")
            want(str(per_msg["Original-Envelope-Id"]) == decoded,
                 f"Original-Envelope-Id {per_msg['Original-Envelope-Id']!r}, want {decoded!r}")
        for blk, rc in zip(blocks[1:], case["rcpts"]):
            fr = str(blk["Final-Recipient"])
            want(fr.replace(" ", "") == "rfc822;" + rc["final"],
                 f"Final-Recipient {fr!r}, want {rc['final']}")
            want(str(blk["Action"]) == rc["action"],
                 f"{rc['final']}: Action {blk['Action']!r}, want {rc['action']}")
            want(str(blk["Status"]) == rc["status"],
                 f"{rc['final']}: Status {blk['Status']!r}, want {rc['status']}")
            if rc["remote"] is not None:
                want(str(blk["Remote-MTA"]) == "dns; " + rc["remote"],
                     f"{rc['final']}: Remote-MTA {blk['Remote-MTA']!r}")
                want(str(blk["Diagnostic-Code"]).startswith("smtp; "),
                     f"{rc['final']}: Diagnostic-Code {blk['Diagnostic-Code']!r}")
    ret = parts[2]
    want(ret.get_content_type() == case["part3"],
         f"part 3 {ret.get_content_type()}, want {case['part3']}")
    if ret.get_content_type() == "message/rfc822":
        inner = ret.get_payload()
        inner = inner[0] if isinstance(inner, list) else inner
        want(str(inner["Subject"]) == case["subject"], f"returned Subject {inner['Subject']!r}")
        want(len(inner.get_content()) > 0, "returned body empty")
    elif ret.get_content_type() == "text/rfc822-headers":
        hdrs = email.message_from_bytes(ret.get_payload(decode=True) or b"",
                                        policy=email.policy.default)
        want(str(hdrs["Subject"]) == case["subject"], f"returned headers Subject {hdrs['Subject']!r}")
    # The payload: the envelope of a DSN is <> and the original sender.
    with open(os.path.join(outdir, name + ".bsmtp"), "rb") as f:
        payload = f.read()
    lines = payload.split(b"\r\n", 2)
    want(len(lines) == 3 and lines[0].split(b" ")[0] == b"<>" and
         lines[1] == b"<" + case["sender"].encode() + b">",
         f"payload starts {payload[:60]!r}")
    if any(b > 127 for b in raw):
        want(b"BODY=8BITMIME" in lines[0], "8-bit DSN without BODY=8BITMIME")
    sep = payload.find(b"\r\n\r\n")
    want(sep > 0 and payload[sep + 4:] == raw, "payload content differs from the .eml")
    return errs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--generator", required=True)
    ap.add_argument("--outdir", required=True)
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    gen = subprocess.run([a.generator, a.outdir])
    if gen.returncode != 0:
        print(f"generator failed with {gen.returncode}")
        print("0 passed, 1 failed")
        return 1
    with open(os.path.join(a.outdir, "manifest.json")) as f:
        cases = json.load(f)
    passed = failed = 0
    for case in cases:
        try:
            errs = check_case(case, a.outdir)
        except Exception as e:  # a parse crash is a failure of this case
            errs = [f"{case['name']}: exception {e!r}"]
        if errs:
            failed += 1
            for e in errs:
                print("FAIL", e)
        else:
            passed += 1
            print("ok  ", case["name"])
    if not cases:
        failed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
