#!/usr/bin/env python3
"""seeds_mule_relay.py: write the seed corpus of fuzz_mule_relay.

Usage: seeds_mule_relay.py VECTORS_JSON SEED_DIR STAMP

Each seed is the 4 control octets of fuzz_mule_relay.c (flags, now,
situation, knob) followed by a BSMTP-like MULE payload.  The payloads are
the RFC 8494 example (the CompressedData vector "cdt_rfc8494_example" of
vectors.json, inflated here with zlib) and a few written below to reach
loops, DELIVERBY deadlines, SMTPUTF8, DSN requests, binary content and
odd header sections.  Every payload is written with a handful of control
prefixes (from SMTP, from P_MUL with and without this node, compressed,
tiny caps).  STAMP is written last.  Standard library only; the output is
deterministic.
"""
import sys
import zlib

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import seedlib  # noqa: E402  (tests/fuzz/seedlib.py)


def rfc8494_example(vectors):
    ber = seedlib.load_vectors(vectors)["cdt_rfc8494_example"]
    # The zlib stream is the OCTET STRING at the end of the BER: find the
    # first offset where a complete stream starts.
    for i in range(len(ber)):
        if ber[i] != 0x78:
            continue
        d = zlib.decompressobj()
        try:
            out = d.decompress(ber[i:])
        except zlib.error:
            continue
        if d.eof:
            return out
    sys.exit("seeds_mule_relay.py: no zlib stream in cdt_rfc8494_example")


CONTENT = (b"From: from@example.com\r\nTo: many\r\nSubject: a test\r\n"
           b"Message-ID: <m1@example.com>\r\n"
           b"Received: from x by y with MULE id 1;\r\n\tMon, 1 Jan 2024 00:00:00 +0000\r\n"
           b"\r\nBody line\r\n.\r\n")

PAYLOADS = {
    "split": (b"<from@example.com> MT-PRIORITY=4 BODY=8BITMIME RET=HDRS ENVID=QQ314159 X-U=1\r\n"
              b"<u1@a.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Bob@enterprise.example.net\r\n"
              b"<u2@x.B.example> NOTIFY=SUCCESS,FAILURE\r\n<u3@d.example> FOO=bar\r\n"
              b"<u4@c.example>\r\n<u5@here.example>\r\n<u6@nowhere.test> NOTIFY=FAILURE\r\n"
              b"<Postmaster>\r\n<u7@self.example>\r\n<u8@[192.0.2.1]>\r\n\r\n" + CONTENT),
    "by_return": (b"<from@example.com> BY=600;R RET=FULL\r\n<u1@a.example> NOTIFY=FAILURE\r\n"
                  b"<u5@here.example>\r\n\r\n" + CONTENT),
    "by_notify": (b"<from@example.com> BY=60;NT\r\n<u1@a.example> NOTIFY=DELAY,FAILURE\r\n"
                  b"<u2@y.b.example> NOTIFY=DELAY\r\n\r\n" + CONTENT),
    "loop": (b"<from@example.com>\r\n<u1@a.example>\r\n<u9@nowhere.test>\r\n\r\n" +
             b"Received: a; Mon, 1 Jan 2024 00:00:00 +0000\r\n" * 4 + CONTENT),
    "utf8": ("<\u00fc@\u00e4.example> SMTPUTF8 BODY=8BITMIME\n"
             "<\u7528@nowhere.example> ORCPT=utf-8;\u7528@x NOTIFY=FAILURE\n"
             "<b@a.example>\n\nSubject: \u00fc\u00fc\u00fc\nMessage-ID: <\u00e4@x>\n\n"
             "\u00e4\n").encode("utf-8"),
    "binary": (b"<s@x.example> BODY=BINARYMIME\r\n<u@nowhere.test>\r\n<v@here.example>\r\n\r\n"
               b"X: \x00\x01\xff\r\n\r\n\x00\r\x0a\x0d--=_mule_dsn.42relay.example_0\r\n"),
    "null_sender": (b"<> RET=HDRS\r\n<u@nowhere.test>\r\n\r\n" + CONTENT),
    "boundary_clash": (b"<s@x.example> RET=FULL\r\n<u@nowhere.test>\r\n\r\n"
                       b"Subject: x\r\n\r\n--=_mule_dsn.42relay.example_0\r\n"
                       b"--=_mule_dsn.42relay.example_1\r\n"),
    "odd_header": (b"<s@x.example>\n<u@nowhere.test>\n\n"
                   b" cont first\nName : v\nReceived:no-semicolon\nX:\r\r\n\tfold\n"),
    "lf_full": (b"<s@x.example> RET=FULL\n<u@nowhere.test>\n\nA: 1\nB: 2\n\nbody\rx\n"),
}

PREFIXES = [
    bytes([0x00, 0, 0, 0]),     # from SMTP, now, arrived now
    bytes([0x01, 0, 7, 0]),     # only this node addressed, 600 s ago
    bytes([0x02, 1, 9, 0]),     # this node and N2, an hour ago
    bytes([0x04, 0, 0, 0]),     # N2 and N3 only
    bytes([0x08, 0, 8, 0]),     # compressed output, 601 s ago
    bytes([0x10, 0, 0x10, 0]),  # tiny caps, small DSN full_max
    bytes([0x80, 0, 0x80, 2]),  # max_hops 3, table without default
]


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: seeds_mule_relay.py VECTORS_JSON SEED_DIR STAMP")
    vectors, seed_dir, stamp = sys.argv[1:]
    payloads = dict(PAYLOADS)
    payloads["rfc8494_example"] = rfc8494_example(vectors)
    seeds = {"%s_%d" % (name, k): pre + p
             for name, p in payloads.items() for k, pre in enumerate(PREFIXES)}
    n = seedlib.write_seeds(seed_dir, seeds)
    seedlib.write_stamp(stamp, "%d seeds\n" % n)


if __name__ == "__main__":
    main()
