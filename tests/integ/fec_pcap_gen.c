/*
 * NAME
 *	fec_pcap_gen - write a P_MUL exchange with FEC repair to a pcap
 * SYNOPSIS
 *	fec_pcap_gen out.pcap out.txt [plain|joint]
 * DESCRIPTION
 *	The wire proposal of docs/wire.md "FEC repair", as a capture for
 *	tshark to judge (tests/integ/check_fec_pcap.sh).  One message of
 *	three Data_PDUs (64 octets each, the last shorter) is announced by a
 *	FEC_Address_PDU (Total_Number_of_PDUs 5, FEC_ID 0x81 and the 8-octet
 *	FEC_Parameters of pmul_fec_params_encode()) to two receivers; the
 *	three source Data_PDUs follow, then two repair symbols of the one
 *	block as Data_PDUs 4 and 5 (made by pmul_fec_encode()), both
 *	receivers' complete Ack_PDUs and the Ack-Ack.  A second message
 *	(nine PDUs, blocks of at most four: three blocks, repairs
 *	interleaved as 10, 11, 12) is sent the same way and acknowledged by
 *	one receiver that lost Data_PDU 5 and repaired it from 11.
 *
 *	With "joint", the file holds a joint round (docs/wire.md 10.8): two
 *	messages (three and two Data_PDUs) announced and sent with FEC, then
 *	a version 2 FEC_Address_PDU of the first (the carrier) naming both,
 *	its second copy, two joint repairs numbered G + j0 + j (j0 5) and the
 *	closing copy, the receivers' Acks of both and the Ack-Acks.
 *
 *	With "plain", the file holds instead the counter-example of
 *	docs/wire.md: a message announced by a plain Address_PDU with repairs
 *	above Total and a source Data_PDU sent again after them, which
 *	Wireshark 4.0 reassembles wrongly (the repairs become message data).
 *
 *	out.txt gets one line per message: "msid hex-of-the-text", the
 *	bytes tshark's reassembly must produce.  Deterministic: no clock,
 *	no randomness.
 * SECURITY
 *	A test program: reads no input, trusts its arguments.
 * DIAGNOSTICS
 *	Exit 0 when both files are complete; 1 with a message on stderr when
 *	encoding, writing or closing fails; 2 on bad usage.
 * SEE ALSO
 *	check_fec_pcap.sh, pmul_fec.h, pmul_pcap.h, docs/wire.md.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmul/pmul_fec.h"
#include "pmul/pmul_pcap.h"
#include "pmul/pmul_pdu.h"

#define IP4(a, b, c, d) \
    ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

#define NODE_T     IP4(198, 18, 0, 1)
#define NODE_R1    IP4(198, 18, 0, 2)
#define NODE_R2    IP4(198, 18, 0, 3)
#define GROUP_DATA IP4(239, 0, 0, 1)
#define DPORT      2753
#define APORT      2754
#define EXPIRY_S   1893456000u      /* 2030-01-01T00:00:00Z */
#define SYM        64u

struct gen {
    pmul_pcap_writer *pw;
    pmul_fec *fec;
    uint64_t ts_us;
    FILE *txt;
};

static void __attribute__((noreturn, format(printf, 1, 2)))
fatal(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("fec_pcap_gen: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static void
emit(struct gen *g, const pmul_pdu *p, uint32_t src, uint32_t dst, uint16_t port)
{
    uint8_t buf[2048];
    ssize_t n = pmul_pdu_encode(p, buf, sizeof(buf));
    int rc;

    if (n < 0)
        fatal("encode type %u: %s", p->type, pmul_strerror((int)n));
    g->ts_us += 100000;
    rc = pmul_pcap_write_udp4(g->pw, g->ts_us, src, port, dst, port, buf, (size_t)n);
    if (rc != 0)
        fatal("write: %s", pmul_pcap_strerror(rc));
}

/* The fields every PDU of the transmitter shares. */
static void
pdu_init(pmul_pdu *p, uint8_t type, uint32_t msid)
{
    memset(p, 0, sizeof(*p));
    p->type = type;
    p->priority = 2;
    p->source_id = NODE_T;
    p->msid = msid;
}

static void
emit_data(struct gen *g, uint32_t msid, uint16_t seq, const uint8_t *frag, size_t len)
{
    pmul_pdu p;

    pdu_init(&p, PMUL_PDU_DATA, msid);
    p.u.data.seq = seq;
    p.u.data.frag = frag;
    p.u.data.frag_len = len;
    emit(g, &p, NODE_T, GROUP_DATA, DPORT);
}

static void
emit_ack(struct gen *g, uint32_t from, uint32_t msid)
{
    pmul_ack_entry e = { NODE_T, msid, NULL, 0 };
    pmul_pdu p;

    pdu_init(&p, PMUL_PDU_ACK, 0);
    p.source_id = from;
    p.u.ack.entry_cnt = 1;
    p.u.ack.entries = &e;
    emit(g, &p, from, NODE_T, APORT);
}

/* A message's announcement to both receivers: a FEC_Address_PDU with
 * fp (version 1, or the joint set js when not NULL), or with plain an
 * Address_PDU. */
static void
announce(struct gen *g, uint32_t msid, uint16_t n, const pmul_fec_params *fp,
         const pmul_fec_joint *js, bool plain)
{
    static const uint32_t dests[] = { NODE_R1, NODE_R2 };
    uint8_t prm[PMUL_FEC_JOINT_PARAM_LEN(PMUL_FEC_JOINT_MAX)];
    pmul_dest_entry de[2];
    ssize_t plen;
    pmul_pdu p;
    size_t i;

    pdu_init(&p, plain ? PMUL_PDU_ADDRESS : PMUL_PDU_FEC_ADDRESS, msid);
    p.u.address.total_pdus = n;
    p.u.address.expiry_time = EXPIRY_S;
    if (!plain) {
        plen = pmul_fec_params_encode2(fp, js, msid, prm, sizeof(prm));
        if (plen < 0)
            fatal("params: %s", pmul_strerror((int)plen));
        p.u.address.fec_id = PMUL_FEC_ID_RS8;
        p.u.address.fec_param_len = (uint8_t)plen;
        p.u.address.fec_params = prm;
    }
    for (i = 0; i < 2; i++) {
        de[i].dest_id = dests[i];
        de[i].msg_seq_no = msid;
        de[i].reserved = NULL;
    }
    p.u.address.dest_cnt = 2;
    p.u.address.dests = de;
    emit(g, &p, NODE_T, GROUP_DATA, DPORT);
}

/* One message: FEC_Address_PDU, sources, r repairs per block, the Acks of
 * the receivers in acks[0..nack), the Ack-Ack. */
static void
message(struct gen *g, uint32_t msid, const char *text, unsigned max_block, unsigned r,
        const uint32_t *acks, size_t nack, bool plain, uint16_t late)
{
    uint8_t sym[PMUL_FEC_N_MAX][SYM], rep[PMUL_FEC_N_MAX][SYM];
    const uint8_t *src[PMUL_FEC_N_MAX];
    size_t len = strlen(text), i;
    pmul_fec_params fp;
    uint16_t b, n, seq;
    unsigned k, j;
    pmul_pdu p;
    int rc;

    memset(&fp, 0, sizeof(fp));
    memset(sym, 0, sizeof(sym));
    n = (uint16_t)((len + SYM - 1) / SYM);
    for (i = 0; i < n; i++)
        memcpy(sym[i], text + i * SYM, len - i * SYM < SYM ? len - i * SYM : SYM);
    if ((rc = pmul_fec_layout(n, max_block, &fp.blocks)) != 0)
        fatal("layout: %s", pmul_strerror(rc));
    fp.symbol_len = SYM;
    fp.last_len = (uint16_t)(len - (size_t)(n - 1) * SYM);
    fp.repair_cnt = (uint8_t)r;
    announce(g, msid, n, &fp, NULL, plain);

    for (seq = 1; seq <= n; seq++)
        if (seq != late)
            emit_data(g, msid, seq, sym[seq - 1], seq == n ? fp.last_len : SYM);
    /* Repairs in sequence-number order: repair j of every block, then
     * j + 1 (pmul_fec_seq_of() numbers them so). */
    for (j = 0; j < r; j++) {
        for (b = 0; b < fp.blocks.block_cnt; b++) {
            uint16_t first;

            k = pmul_fec_block_k(&fp.blocks, b);
            if ((rc = pmul_fec_seq_of(&fp.blocks, b, 0, &first)) != 0 ||
                (rc = pmul_fec_seq_of(&fp.blocks, b, k + j, &seq)) != 0)
                fatal("seq_of: %s", pmul_strerror(rc));
            for (i = 0; i < k; i++)
                src[i] = sym[first - 1 + i];
            rc = pmul_fec_encode(g->fec, src, k, SYM,
                                 b + 1u == fp.blocks.block_cnt ? fp.last_len : SYM, j, rep[b]);
            if (rc != 0)
                fatal("fec encode: %s", pmul_strerror(rc));
            emit_data(g, msid, seq, rep[b], SYM);
        }
    }
    /* A source Data_PDU sent again after the repairs, as a selective
     * retransmission for a receiver without FEC would be. */
    if (late != 0)
        emit_data(g, msid, late, sym[late - 1], late == n ? fp.last_len : SYM);
    for (i = 0; i < nack; i++)
        emit_ack(g, acks[i], msid);
    /* Ack-Ack: an Address_PDU with no destinations. */
    pdu_init(&p, PMUL_PDU_ADDRESS, msid);
    p.u.address.total_pdus = n;
    p.u.address.expiry_time = EXPIRY_S;
    emit(g, &p, NODE_T, GROUP_DATA, DPORT);

    fprintf(g->txt, "%u ", msid);
    for (i = 0; i < len; i++)
        fprintf(g->txt, "%02x", (unsigned char)text[i]);
    fputc('\n', g->txt);
}

/* Messages 4 and 5 and one joint round for both, carried by 4. */
static void
joint_round(struct gen *g)
{
    static const char *const text[2] = {
        "Message four: three Data_PDUs, the first member and the carrier of the "
        "joint round that follows.\r\n.\r\n",
        "Message five: two Data_PDUs, its second member.\r\n.\r\n",
    };
    uint8_t sym[5][SYM], rep[SYM];
    const uint8_t *src[5];
    pmul_fec_params fp[2];
    pmul_fec_joint js;
    unsigned m, s, k = 0, j;
    uint16_t seq;
    size_t len, i;
    int rc;

    memset(sym, 0, sizeof(sym));
    memset(&js, 0, sizeof(js));
    for (m = 0; m < 2; m++) {
        uint16_t n;

        len = strlen(text[m]);
        n = (uint16_t)((len + SYM - 1) / SYM);
        memset(&fp[m], 0, sizeof(fp[m]));
        if ((rc = pmul_fec_layout(n, 255, &fp[m].blocks)) != 0)
            fatal("layout: %s", pmul_strerror(rc));
        fp[m].symbol_len = SYM;
        fp[m].last_len = (uint16_t)(len - (size_t)(n - 1) * SYM);
        js.mem[m].msid = 4 + m;
        js.mem[m].total_pdus = n;
        js.mem[m].last_len = fp[m].last_len;
        js.k = (uint16_t)(js.k + n);
        announce(g, 4 + m, n, &fp[m], NULL, false);
        for (s = 0; s < n; s++, k++) {
            size_t off = (size_t)s * SYM;

            /* The joint block pads each member's last fragment. */
            memcpy(sym[k], text[m] + off, len - off < SYM ? len - off : SYM);
            src[k] = sym[k];
            emit_data(g, 4 + m, (uint16_t)(s + 1), sym[k], s + 1u == n ? fp[m].last_len : SYM);
        }
    }
    js.cnt = 2;
    js.repair_cnt = 2;
    js.j0 = 5;
    announce(g, 4, js.mem[0].total_pdus, &fp[0], &js, false);
    for (j = 0; j < 2; j++) {
        if (j == 1)
            announce(g, 4, js.mem[0].total_pdus, &fp[0], &js, false);  /* its second copy */
        if ((rc = pmul_fec_joint_seq_of(&fp[0].blocks, &js, j, &seq)) != 0 ||
            (rc = pmul_fec_encode(g->fec, src, js.k, SYM, SYM, j, rep)) != 0)
            fatal("joint repair: %s", pmul_strerror(rc));
        emit_data(g, 4, seq, rep, SYM);
    }
    announce(g, 4, js.mem[0].total_pdus, &fp[0], &js, false);          /* closing copy */
    for (m = 0; m < 2; m++) {
        pmul_pdu p;

        emit_ack(g, NODE_R1, 4 + m);
        emit_ack(g, NODE_R2, 4 + m);
        pdu_init(&p, PMUL_PDU_ADDRESS, 4 + m);
        p.u.address.total_pdus = js.mem[m].total_pdus;
        p.u.address.expiry_time = EXPIRY_S;
        emit(g, &p, NODE_T, GROUP_DATA, DPORT);
        fprintf(g->txt, "%u ", 4 + m);
        for (i = 0; i < strlen(text[m]); i++)
            fprintf(g->txt, "%02x", (unsigned char)text[m][i]);
        fputc('\n', g->txt);
    }
}

int
main(int argc, char **argv)
{
    static const uint32_t both[] = { NODE_R1, NODE_R2 }, one[] = { NODE_R2 };
    struct gen g;
    int rc;

    if (argc != 3 && !(argc == 4 && (strcmp(argv[3], "plain") == 0 ||
                                     strcmp(argv[3], "joint") == 0))) {
        fprintf(stderr, "usage: fec_pcap_gen out.pcap out.txt [plain|joint]\n");
        return 2;
    }
    memset(&g, 0, sizeof(g));
    g.ts_us = 1700000000ull * 1000000ull;
    if ((rc = pmul_fec_new(&g.fec, NULL)) != 0)
        fatal("fec: %s", pmul_strerror(rc));
    if ((rc = pmul_pcap_writer_open(&g.pw, argv[1])) != 0)
        fatal("%s: %s", argv[1], pmul_pcap_strerror(rc));
    if ((g.txt = fopen(argv[2], "w")) == NULL)
        fatal("%s: cannot create", argv[2]);
    if (argc == 3) {
        message(&g, 1,
                "From: ops@hq.mule.test\r\nTo: watch@n2.mule.test\r\nSubject: FEC\r\n\r\n"
                "Three Data_PDUs carry this text; two repair PDUs follow.\r\n"
                "A plain receiver drops them.\r\n.\r\n",
                255, 2, both, 2, false, 0);
        message(&g, 2,
                "Nine PDUs, three blocks of three, one repair per block, interleaved: the "
                "receiver that lost Data_PDU 5 rebuilt it from Data_PDU 11, the repair of "
                "block 1. Sequence numbers 10, 11, 12 are above Total_Number_of_PDUs, so a "
                "receiver without FEC drops them and asks for 5 again. That is all. "
                "The end of the second message is here......................................"
                "..............................................................\r\n"
                "Padding so that the ninth and last Data_PDU is short: it carries the last "
                "octets only.\r\n",
                4, 1, one, 1, false, 0);
    } else if (strcmp(argv[3], "joint") == 0) {
        joint_round(&g);
    } else {
        /* The counter-example: repairs under a plain Address_PDU. */
        message(&g, 3,
                "Four PDUs announced by a plain Address_PDU: repairs 5 and 6 come before "
                "Data_PDU 2, sent again for a receiver without FEC. Wireshark takes the "
                "repairs for message data and reassembles too much.",
                255, 2, both, 2, true, 2);
    }
    rc = pmul_pcap_writer_close(g.pw);
    if (rc != 0)
        fatal("%s: %s", argv[1], pmul_pcap_strerror(rc));
    if (fclose(g.txt) != 0)
        fatal("%s: write failed", argv[2]);
    pmul_fec_free(g.fec);
    return 0;
}
