/*
 * NAME
 *	cdt_pcap_gen - MULE messages as CompressedData in P_MUL, to a pcap
 * SYNOPSIS
 *	cdt_pcap_gen [--corrupt] out.pcap out.expect
 * DESCRIPTION
 *	Builds three real-looking MULE messages (BSMTP-like envelope, RFC
 *	5322 header, quoted reply and paragraphs; the third with a base64
 *	attachment), wraps each with mule_cdt_encode() (zlib in
 *	CompressedData, contentType 25), splits the BER into Data_PDUs of
 *	at most FRAG_LEN octets with the P_MUL codec (an Address_PDU with
 *	Total_Number_of_PDUs, then Data_PDUs 1..N) and writes every PDU as
 *	one UDP datagram with pmul_pcap (DPORT 2753, group 239.0.0.1),
 *	100 ms apart.  Message 1 and 3 use the default IMPLICIT tags, message
 *	2 the EXPLICIT form (docs/decisions.md decision 2).
 *
 *	tshark's p_mul dissector reassembles each message and, with
 *	-o p_mul.decode:cdt, its CDT dissector inflates the content;
 *	check_tshark_cdt.py compares that with the out.expect file, which
 *	holds one line per message: "<Message_ID> <form> <hex of content>".
 *	The output is deterministic: no clock, no randomness.
 *
 *	--corrupt flips one octet in the middle of message 1's zlib stream
 *	(after encoding; the P_MUL checksums are computed over the damaged
 *	bytes, so only the CDT layer can notice): the checker's negative
 *	control, which must then fail.
 * SECURITY
 *	A test program: reads no input, trusts its arguments.
 * DIAGNOSTICS
 *	Exit 0 when both files are complete; 1 with a message on stderr when
 *	encoding or writing fails; 2 on bad usage.
 * SEE ALSO
 *	check_tshark_cdt.py, mule_cdt.h, pmul_pdu.h, pmul_pcap.h,
 *	docs/wire.md sections 6 and 8.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mule/mule_cdt.h"
#include "pmul/pmul_pcap.h"
#include "pmul/pmul_pdu.h"
#include "pmul/util/text.h"

#define IP4(a, b, c, d) \
    ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

#define NODE_T      IP4(198, 18, 0, 1)
#define NODE_R      IP4(198, 18, 0, 2)
#define GROUP       IP4(239, 0, 0, 1)
#define DPORT       2753
#define FRAG_LEN    512             /* octets of BER per Data_PDU */
#define EXPIRY_S    1700086400u     /* fixed: output must not depend on time */
#define T0_US       UINT64_C(1700000000000000)
#define STEP_US     UINT64_C(100000)

struct gen {
    pmul_pcap_writer *w;
    uint64_t ts_us;
    uint8_t pdu[PMUL_PDU_MAX_LEN];
};

static void
die(const char *what, const char *why)
{
    fprintf(stderr, "cdt_pcap_gen: %s: %s\n", what, why);
    exit(1);
}

static void
put(buf *b, const char *s)
{
    if (buf_append_str(b, s) != 0)
        die("text", "out of memory");
}

/* The seeded generator behind the text (pmul/util/text.h). */
static uint64_t
lcg_below(void *arg, uint64_t n)
{
    uint32_t *seed = arg;

    *seed = *seed * 1103515245u + 12345u;
    return (*seed >> 8) % n;
}

/* Deterministic wrapped text of about n octets, CRLF line ends. */
static void
paragraphs(buf *b, size_t n, uint32_t *seed, const char *quote)
{
    if (text_paragraphs(b, n, quote, lcg_below, seed) != 0)
        die("text", "out of memory");
}

static void
make_mail(buf *b, int which)
{
    uint32_t seed = 0x5eed0000u + (uint32_t)which;
    char line[256];
    int i;

    snprintf(line, sizeof(line),
             "<ops%d@hq.example.mil> MT-PRIORITY=%d BODY=8BITMIME ENVID=MSG%04d\r\n",
             which, which, which);
    put(b, line);
    put(b, "<watch@ship1.example.mil> NOTIFY=SUCCESS,FAILURE\r\n");
    put(b, "<log@shore.example.mil> NOTIFY=NEVER ORCPT=rfc822;log@shore.example.mil\r\n");
    put(b, "\r\n");
    snprintf(line, sizeof(line), "From: Operations %d <ops%d@hq.example.mil>\r\n", which,
             which);
    put(b, line);
    put(b, "To: Watch Officer <watch@ship1.example.mil>\r\n");
    put(b, "Cc: Log <log@shore.example.mil>\r\n");
    snprintf(line, sizeof(line), "Date: Tue, 14 Nov 2023 22:%02d:00 +0000\r\n", 10 + which);
    put(b, line);
    snprintf(line, sizeof(line), "Subject: Re: Movement order %d, revised\r\n", which);
    put(b, line);
    snprintf(line, sizeof(line), "Message-ID: <cdt-%d.20231114@hq.example.mil>\r\n", which);
    put(b, line);
    put(b, "MIME-Version: 1.0\r\n");
    if (which != 3) {
        put(b, "Content-Type: text/plain; charset=us-ascii\r\n\r\n");
        paragraphs(b, 1500, &seed, "");
        put(b, "\r\nOn 14 Nov 2023, Watch Officer wrote:\r\n");
        paragraphs(b, 1200, &seed, "> ");
        put(b, "\r\n-- \r\nOperations, HQ\r\n");
        return;
    }
    put(b, "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n");
    put(b, "Content-Type: text/plain; charset=us-ascii\r\n\r\n");
    paragraphs(b, 2000, &seed, "");
    put(b, "\r\n--b1\r\nContent-Type: application/octet-stream; name=\"plan.bin\"\r\n"
           "Content-Transfer-Encoding: base64\r\n\r\n");
    for (i = 0; i < 200; i++) {
        static const char b64[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        char l[80];
        int k;

        for (k = 0; k < 76; k++) {
            seed = seed * 1103515245u + 12345u;
            l[k] = b64[(seed >> 16) & 63];
        }
        l[76] = '\r';
        l[77] = '\n';
        l[78] = '\0';
        put(b, l);
    }
    put(b, "\r\n--b1--\r\n");
}

static void
emit(struct gen *g, const pmul_pdu *p)
{
    ssize_t n = pmul_pdu_encode(p, g->pdu, sizeof(g->pdu));
    int rc;

    if (n < 0)
        die("pmul_pdu_encode", pmul_strerror((int)n));
    rc = pmul_pcap_write_udp4(g->w, g->ts_us, NODE_T, DPORT, GROUP, DPORT, g->pdu,
                              (size_t)n);
    if (rc != 0)
        die("pmul_pcap_write_udp4", pmul_pcap_strerror(rc));
    g->ts_us += STEP_US;
}

/* One P_MUL message: Address_PDU, then Data_PDUs 1..N carrying ber. */
static void
send_message(struct gen *g, uint32_t msid, const uint8_t *ber, size_t len)
{
    pmul_dest_entry dest = { NODE_R, msid & 0xffffu, NULL };
    size_t total = (len + FRAG_LEN - 1) / FRAG_LEN, i;
    pmul_pdu p;

    if (total == 0 || total > 0xffff)
        die("split", "message does not fit 1..65535 Data_PDUs");
    memset(&p, 0, sizeof(p));
    p.type = PMUL_PDU_ADDRESS;
    p.priority = 6;
    p.source_id = NODE_T;
    p.msid = msid;
    p.u.address.total_pdus = (uint16_t)total;
    p.u.address.expiry_time = EXPIRY_S;
    p.u.address.dest_cnt = 1;
    p.u.address.dests = &dest;
    emit(g, &p);

    for (i = 0; i < total; i++) {
        size_t off = i * FRAG_LEN;

        memset(&p, 0, sizeof(p));
        p.type = PMUL_PDU_DATA;
        p.priority = 6;
        p.source_id = NODE_T;
        p.msid = msid;
        p.u.data.seq = (uint16_t)(i + 1);
        p.u.data.frag = ber + off;
        p.u.data.frag_len = len - off < FRAG_LEN ? len - off : FRAG_LEN;
        emit(g, &p);
    }
}

int
main(int argc, char **argv)
{
    static struct gen g;
    bool corrupt = false;
    FILE *expect;
    int which, rc;

    if (argc == 4 && strcmp(argv[1], "--corrupt") == 0) {
        corrupt = true;
        argv++;
        argc--;
    }
    if (argc != 3) {
        fprintf(stderr, "usage: cdt_pcap_gen [--corrupt] out.pcap out.expect\n");
        return 2;
    }
    if ((rc = pmul_pcap_writer_open(&g.w, argv[1])) != 0)
        die(argv[1], pmul_pcap_strerror(rc));
    if ((expect = fopen(argv[2], "w")) == NULL)
        die(argv[2], "cannot create");
    g.ts_us = T0_US;

    for (which = 1; which <= 3; which++) {
        mule_cdt_config cfg;
        uint32_t msid = 0x00030000u + (uint32_t)which;
        buf mail, ber;
        size_t i;

        mule_cdt_config_init(&cfg);
        cfg.explicit_tags = which == 2;
        buf_init(&mail, NULL, SIZE_MAX);
        buf_init(&ber, NULL, SIZE_MAX);
        make_mail(&mail, which);
        if ((rc = mule_cdt_encode(&cfg, NULL, mail.data, mail.len, &ber)) != 0)
            die("mule_cdt_encode", mule_strerror(rc));
        if (corrupt && which == 1)
            ber.data[ber.len / 2] ^= 0x55;
        send_message(&g, msid, ber.data, ber.len);

        fprintf(expect, "%" PRIu32 " %s ", msid, cfg.explicit_tags ? "explicit" : "implicit");
        for (i = 0; i < mail.len; i++)
            fprintf(expect, "%02x", mail.data[i]);
        fprintf(expect, "\n");
        buf_fini(&mail);
        buf_fini(&ber);
    }
    if (ferror(expect) != 0 || fclose(expect) != 0)
        die(argv[2], "write failed");
    if ((rc = pmul_pcap_writer_close(g.w)) != 0)
        die(argv[1], pmul_pcap_strerror(rc));
    return 0;
}
