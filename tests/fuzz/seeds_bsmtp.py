#!/usr/bin/env python3
"""seeds_bsmtp.py: write the seed corpus of fuzz_bsmtp_payload.

Usage: seeds_bsmtp.py OUTDIR STAMP

Creates OUTDIR/fuzz_bsmtp_payload_seeds/ with a few BSMTP-like MULE
payloads (MULE draft section 3.1: FROM-line, RCPT-lines, empty line,
content) that reach every branch family of the parser: all known ESMTP
parameters, unknown ones, quoted local parts, address literals, source
routes, SMTPUTF8, LF and CRLF line ends, binary content.  Also creates the
empty, writable OUTDIR/fuzz_bsmtp_payload_corpus/ that libFuzzer grows,
and writes STAMP last so meson knows the step finished.  Standard library
only; the output is deterministic.
"""
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import seedlib  # noqa: E402  (tests/fuzz/seedlib.py)

SEEDS = {
    "rfc8494_lf": (
        b"<from@example.com> MT-PRIORITY=4 BODY=8BITMIME RET=HDRS ENVID=QQ314159\n"
        b"<to1@example.net> NOTIFY=FAILURE ORCPT=rfc822;Bob@ent.example.net\n"
        b"<to2@example.net> NOTIFY=SUCCESS,FAILURE\n"
        b"\n"
        b"From: from@example.com\nSubject: a test\n\nThis is worth \xc2\xa3100\n"
    ),
    "section31_crlf": (
        b"<from@example.com> MT-PRIORITY=4 BODY=8BITMIME RET=HDRS ENVID=QQ314159\r\n"
        b"<to1@example.net> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Bob@enterprise.example.net\r\n"
        b"<to2@example.net> NOTIFY=SUCCESS,FAILURE\r\n"
        b"\r\n"
        b"From: from@example.com\r\n\r\n.\r\n..\r\n"
    ),
    "all_params": (
        b"<s@a.example> SIZE=123 BODY=BINARYMIME RET=FULL ENVID=a+2Bb MT-PRIORITY=-9 "
        b"BY=3600;RT AUTH=<> X-UNKNOWN=1 XFLAG\r\n"
        b"<Postmaster> NOTIFY=NEVER\r\n"
        b"<\"quoted \\\" local\"@b.example> NOTIFY=DELAY ORCPT=rfc822;q+40b\r\n"
        b"<u@[192.0.2.1]>\r\n"
        b"<u@[IPv6:2001:db8::ffff:192.0.2.1]>\r\n"
        b"<u@[x-tag:a>b]>\r\n"
        b"<@r1.example,@r2.example:u@c.example>\r\n"
        b"\r\n"
        b"\x00\x01\x02\xff\r\n.\r\n"
    ),
    "smtputf8": (
        b"<\xc3\xbc@\xc3\xa4.example> SMTPUTF8 BODY=8BITMIME\n"
        b"<\xe7\x94\xa8@\xe4\xbe\x8b.example> ORCPT=utf-8;\xe7\x94\xa8@x\n"
        b"\n"
        b"Subject: \xc3\xbc\n"
    ),
    "null_sender_dsn": (
        b"<> RET=HDRS\r\n<sender@a.example> NOTIFY=NEVER\r\n\r\n"
    ),
    "mixed_line_ends": (
        b"<a@x.example>\r\n<b@y.example>\n<c@z.example> NOTIFY=SUCCESS\r\n\nbody\r"
    ),
}


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: seeds_bsmtp.py OUTDIR STAMP")
    outdir, stamp = sys.argv[1], sys.argv[2]
    seeds = os.path.join(outdir, "fuzz_bsmtp_payload_seeds")
    corpus = os.path.join(outdir, "fuzz_bsmtp_payload_corpus")
    n = seedlib.write_seeds(seeds, {name + ".bsmtp": data for name, data in SEEDS.items()})
    os.makedirs(corpus, exist_ok=True)
    seedlib.write_stamp(stamp, "%d seeds\n" % n)


if __name__ == "__main__":
    main()
