#!/usr/bin/env python3
"""check_dump_extract.py: pmul-dump --extract recovers the mail exactly.

Runs pmul-dump -x DIR on pmul_mule_cdt.pcap (three MULE messages: the
RFC 8494 example in the EXPLICIT form of its ASN.1 module, and a small
message in both the EXPLICIT and the IMPLICIT form) and checks every
message against an independent decoding of the CompressedData vectors in
vectors.json: a few lines of BER walking and Python's own zlib.

For each message: SRC_MSID.env + SRC_MSID.eml must be the inflated MULE
payload byte for byte; the .env must end with the empty line that closes
the envelope and hold nothing after it; the files must be mode 0600.  A
second run into the same directory must give the same files (replaced,
not appended), and the report must say extract=mule for each message.

Usage: check_dump_extract.py --dump PMUL_DUMP --vectors DIR --outdir DIR
Exit status: 0 pass, 1 failure, 2 usage or tool error.
"""

import argparse
import json
import os
import shutil
import stat
import subprocess
import sys
import zlib

# (MSID in pmul_mule_cdt.pcap, key of the CompressedData in vectors.json)
MESSAGES = [(131073, "cdt_explicit"), (131074, "cdt_implicit"),
            (131075, "cdt_rfc8494_example")]
SOURCE = "192.0.2.1"


def tlv(b, i):
    """One BER TLV at b[i]: (tag, content start, content end)."""
    tag = b[i]
    n = b[i + 1]
    i += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(b[i:i + k], "big")
        i += k
    return tag, i, i + n


def inflate_cdt(ber):
    """CompressedData -> inflated content, walking only what we need:
    SEQUENCE { algorithm, SEQUENCE { contentType, [0] { OCTET STRING } } }."""
    _, s, e = tlv(ber, 0)                   # CompressedData
    _, _, alg_end = tlv(ber, s)             # compressionAlgorithm
    _, s2, _ = tlv(ber, alg_end)            # compressedContentInfo
    _, _, ct_end = tlv(ber, s2)             # contentType
    tag, s3, _ = tlv(ber, ct_end)           # [0] EXPLICIT
    assert tag == 0xA0, "compressedContent tag %#x" % tag
    tag, s4, e4 = tlv(ber, s3)              # OCTET STRING
    assert tag == 0x04, "OCTET STRING tag %#x" % tag
    return zlib.decompress(bytes(ber[s4:e4]))


def run(dump, pcap, outdir):
    p = subprocess.run([dump, "-r", pcap, "-x", outdir, "--json", "-q"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, check=False)
    if p.returncode != 0:
        sys.stderr.write(p.stderr)
        raise SystemExit("check_dump_extract: pmul-dump exited with %d"
                         % p.returncode)
    return [json.loads(l) for l in p.stdout.splitlines()]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dump", required=True)
    ap.add_argument("--vectors", required=True)
    ap.add_argument("--outdir", required=True)
    a = ap.parse_args()

    with open(os.path.join(a.vectors, "vectors.json"), encoding="ascii") as fh:
        vec = json.load(fh)
    pcap = os.path.join(a.vectors, "pmul_mule_cdt.pcap")
    shutil.rmtree(a.outdir, ignore_errors=True)
    os.makedirs(a.outdir)

    fails = []
    for attempt in (1, 2):
        lines = run(a.dump, pcap, a.outdir)
        report = {o["msid"]: o for o in lines if o["kind"] == "message"}
        for msid, key in MESSAGES:
            want = inflate_cdt(bytes.fromhex(vec[key]))
            base = os.path.join(a.outdir, "%s_%d" % (SOURCE, msid))
            what = "run %d, message %d (%s)" % (attempt, msid, key)
            try:
                env = open(base + ".env", "rb").read()
                eml = open(base + ".eml", "rb").read()
            except OSError as e:
                fails.append("%s: %s" % (what, e))
                continue
            if env + eml != want:
                fails.append("%s: .env + .eml differ from the payload "
                             "(%d + %d octets, want %d)"
                             % (what, len(env), len(eml), len(want)))
            end = want.find(b"\r\n\r\n")
            end_lf = want.find(b"\n\n")
            cut = min(x for x in (end + 4 if end >= 0 else len(want),
                                  end_lf + 2 if end_lf >= 0 else len(want)))
            if env != want[:cut]:
                fails.append("%s: .env is not the envelope up to the empty "
                             "line" % what)
            for ext in (".env", ".eml"):
                mode = stat.S_IMODE(os.stat(base + ext).st_mode)
                if mode != 0o600:
                    fails.append("%s: %s mode %o, want 600" % (what, ext, mode))
            got = report.get(msid, {}).get("extract")
            if got != "mule":
                fails.append("%s: report extract=%r, want 'mule'" % (what, got))
        names = sorted(os.listdir(a.outdir))
        want_names = sorted("%s_%d%s" % (SOURCE, m, x) for m, _ in MESSAGES
                            for x in (".env", ".eml"))
        if names != want_names:
            fails.append("run %d: files %s, want %s" % (attempt, names,
                                                        want_names))

    rfc = inflate_cdt(bytes.fromhex(vec["cdt_rfc8494_example"]))
    for f in fails:
        print("FAIL " + f)
    print("check_dump_extract: %d messages, RFC 8494 example %d octets, "
          "%d failures" % (len(MESSAGES), len(rfc), len(fails)))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
