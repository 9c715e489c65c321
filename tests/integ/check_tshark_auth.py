#!/usr/bin/env python3
"""check_tshark_auth.py: what Wireshark shows for sealed (authenticated) P_MUL.

Runs pdu_pcap_gen twice, plain and with --auth (every datagram followed by
the 30-octet trailer of docs/pmul-auth.md), dissects both captures with
tshark the way docs/wire.md section 8 says, and fails unless, frame by
frame:

  * the sealed frame is dissected as P_MUL with every header and list
    field equal to the plain frame's (type, length field, priority,
    checksum, Source_ID, MSID, Expiry_Time, destinations, Ack entries,
    missing numbers, group fields);
  * its checksum is still good (the trailer's balance octets);
  * its Note-level expert items (sequence analysis, retransmissions,
    missing numbers) are the plain frame's;
  * it has exactly one Warn more than the plain frame, and it is the one
    expected for its type: "Incorrect length field" for a Data_PDU (the
    dissector takes the rest of the datagram as the fragment, so it is 30
    octets longer) and for an Ack_PDU without the timestamp option (the
    first 8 trailer octets read as one), "More data in packet" otherwise.

It prints one line per PDU type with what Wireshark shows; docs/pmul-auth.md
quotes them.  Exit 0 pass, 1 failure, 2 usage or tool error, 77 tshark
absent.  Python 3 standard library only.
"""

import argparse
import os
import shutil
import subprocess
import sys

SEP = "\x1f"
PORTS = "udp.port==2751-2754,p_mul"
TRAILER = 30
COMPARED = [
    "p_mul.pdu_type_value", "p_mul.length", "p_mul.priority", "p_mul.first",
    "p_mul.last", "p_mul.no_pdus", "p_mul.seq_no", "p_mul.checksum",
    "p_mul.source_id", "p_mul.source_id_ack", "p_mul.message_id",
    "p_mul.expiry_time", "p_mul.mc_group", "p_mul.ann_mc_group",
    "p_mul.dest_count", "p_mul.reserved_length", "p_mul.dest_id", "p_mul.msg_seq_no",
    "p_mul.ack_count", "p_mul.ack_length", "p_mul.missing_seq_no", "p_mul.fec.id",
    "p_mul.fec.length", "p_mul.reassembled.in",
]
EXTRA = ["frame.number", "p_mul.checksum_good", "p_mul.reassembled.length",
         "p_mul.fragment.count",
         "p_mul.timestamp", "_ws.expert.message", "_ws.expert.severity"]
SEV_WARN = "6291456"        # 0x00600000
NAMES = {0: "Data_PDU", 1: "Ack_PDU", 2: "Address_PDU", 3: "Discard_Message_PDU",
         4: "Announce_PDU", 5: "Request_PDU", 6: "Reject_PDU", 7: "Release_PDU",
         8: "FEC_Address_PDU", 18: "Extra_Address_PDU", 24: "Extra_FEC_Address_PDU"}


def dissect(tshark, pcap):
    fields = COMPARED + EXTRA
    cmd = [tshark, "-n", "-2", "-r", pcap, "-d", PORTS, "-o", "p_mul.relative_msgid:FALSE",
           "-T", "fields", "-E", "separator=" + SEP, "-E", "occurrence=a"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, env=dict(os.environ, TZ="UTC"), capture_output=True,
                         text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        vals = line.split(SEP)
        rows.append(dict(zip(fields, vals)))
    return rows


def experts(row):
    msgs = row["_ws.expert.message"].split(",") if row["_ws.expert.message"] else []
    sevs = row["_ws.expert.severity"].split(",") if row["_ws.expert.severity"] else []
    warns = [m for m, s in zip(msgs, sevs) if s == SEV_WARN]
    notes = [m for m, s in zip(msgs, sevs) if s != SEV_WARN]
    return warns, notes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--generator", required=True)
    ap.add_argument("--outdir", required=True)
    ap.add_argument("--tshark")
    a = ap.parse_args()
    tshark = a.tshark or shutil.which("tshark")
    if not tshark:
        print("SKIP: tshark not found")
        return 77
    os.makedirs(a.outdir, exist_ok=True)
    plain = os.path.join(a.outdir, "plain.pcap")
    sealed = os.path.join(a.outdir, "sealed.pcap")
    try:
        subprocess.run([a.generator, plain, plain + ".json"], check=True, capture_output=True)
        subprocess.run([a.generator, "--auth", sealed, sealed + ".json"], check=True,
                       capture_output=True)
        p_rows, s_rows = dissect(tshark, plain), dissect(tshark, sealed)
    except (OSError, subprocess.CalledProcessError) as e:
        print("ERROR: %s" % e)
        return 2
    failed = passed = 0
    shown = {}
    reasm = []
    if len(p_rows) != len(s_rows) or not p_rows:
        print("FAIL: %d plain frames, %d sealed" % (len(p_rows), len(s_rows)))
        return 1
    for p, s in zip(p_rows, s_rows):
        why = []
        n = s["frame.number"]
        for f in COMPARED:
            if p[f] != s[f]:
                why.append("%s: got %r, want %r" % (f, s[f], p[f]))
        if s["p_mul.checksum_good"] not in ("1", "True"):
            why.append("checksum not good: %r" % s["p_mul.checksum_good"])
        pw, pn = experts(p)
        sw, sn = experts(s)
        if sn != pn:
            why.append("notes: got %s, want %s" % (sn, pn))
        t = int(p["p_mul.pdu_type_value"] or -1)
        no_ts = t == 1 and not p["p_mul.timestamp"]
        want = "Incorrect length field" if t == 0 or no_ts else "More data in packet"
        if sw != pw + [want]:
            why.append("warnings: got %s, want %s" % (sw, pw + [want]))
        if p["p_mul.reassembled.length"]:
            cnt = int(p["p_mul.fragment.count"] or 0)
            pl, sl = int(p["p_mul.reassembled.length"]), int(s["p_mul.reassembled.length"] or 0)
            if sl != pl + cnt * TRAILER:
                why.append("reassembled: got %d octets, want %d" % (sl, pl + cnt * TRAILER))
            reasm.append(n)
        if why:
            failed += 1
            print("FAIL frame %s: %s" % (n, "; ".join(why)))
            continue
        passed += 1
        key = NAMES.get(t, str(t)) + (" (no timestamp)" if no_ts else "")
        extra = ""
        if t == 0:
            extra = ", fragment %d octets longer (reassembled messages hold the trailers)" % TRAILER
        elif no_ts:
            extra = ", first 8 trailer octets shown as Timestamp %s" % s["p_mul.timestamp"]
        shown[key] = "fields and checksum as plain, notes as plain, Warn '%s'%s" % (want, extra)
    if not reasm:
        failed += 1
        print("FAIL: no message was reassembled: the reassembly check did not run")
    else:
        print("reassembled messages checked in frames %s" % ",".join(reasm))
    for k in sorted(shown):
        print("%-32s %s" % (k, shown[k]))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
