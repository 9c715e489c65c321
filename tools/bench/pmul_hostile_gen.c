/*
 * NAME
 *	pmul-hostile-gen - write a hostile P_MUL capture for pmul-dump
 * SYNOPSIS
 *	pmul-hostile-gen [-s SEED] [-b BYTES] [-S SOURCES] [-N NODES]
 *	    [-l LEGIT_EVERY] [-c COMPLETE_PCT] -o FILE
 * DESCRIPTION
 *	The capture a hostile node on the multicast network produces (issue
 *	13, "Hostile peers"), to measure how pmul-dump copes with it: time
 *	per datagram and peak memory (docs/benchmarks.md, tests/integ
 *	check_dump_hostile.py).  Every PDU is built by the codec's encoder
 *	(pmul_pdu_encode), so checksums are valid and the receiver engines
 *	take them seriously; the mix, per datagram:
 *
 *	  35 %  Data_PDU from one of SOURCES spoofed Source_IDs (the IP
 *	        source is the Source_ID, so source binding passes), a random
 *	        MSID of that source, Sequence 1..65535, 0..511 octets;
 *	  25 %  Address_PDU, Total 65535, Expiry_Time 0xFFFFFFFF (2106),
 *	        1..8 destinations drawn from NODES node IDs, 1 in 64 of them
 *	        with 100..400 destinations; 1 in 4 also lists a victim, one
 *	        of the legitimate receivers below;
 *	  10 %  Ack_PDU, 1..4 entries with random missing lists;
 *	   5 %  Discard_Message_PDU; 5 % Announce_PDU (expiry 2106);
 *	   5 %  Request/Reject/Release;
 *	  15 %  noise: random octets on the P_MUL port (bad checksums).
 *
 *	With -l N (default 2000) a legitimate sender, 198.18.0.1, sends one
 *	message every N datagrams to three receivers (198.18.0.2..4): an
 *	Address_PDU and 8 Data_PDUs of 200 octets, interleaved with the
 *	flood over the next 40 datagrams.  Its messages tell whether the
 *	analysis still sees real mail under attack.  -l 0: none.
 *
 *	With -c P (default 0), P % of the hostile Address_PDUs instead
 *	announce a one-PDU message (Total 1) and its Data_PDU follows at
 *	once: garbage that is complete on the air, so a receiver would
 *	deliver it, to spoofed nodes (the costliest input for pmul-dump,
 *	which then runs an engine for each).
 *
 *	Datagrams are 100 us apart from 2026-01-01.  The output depends only
 *	on the options: the same seed gives the same file, byte for byte.
 * SECURITY
 *	A benchmark tool: reads no input, trusts its arguments.
 * DIAGNOSTICS
 *	Exit 0 when the file is complete, 1 when encoding or writing fails,
 *	2 on usage errors.  The counts written go to stderr.
 * SEE ALSO
 *	pmul-dump(1), docs/benchmarks.md.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pmul/pmul_pcap.h"
#include "pmul/pmul_pdu.h"

#define IP4(a, b, c, d) \
    ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

#define GROUP       IP4(239, 1, 1, 2)
#define GG          IP4(239, 1, 1, 1)
#define TPORT 2751
#define RPORT 2752
#define DPORT 2753
#define APORT 2754
#define TS_START_US UINT64_C(1767225600000000)     /* 2026-01-01 */
#define TS_STEP_US  100u
#define EXPIRY_2106 UINT32_C(0xFFFFFFFF)
#define MAX_DESTS   400u
#define LEGIT_SRC   IP4(198, 18, 0, 1)
#define LEGIT_PDUS  8u
#define LEGIT_SPAN  40u                 /* datagrams one legit message spans */

typedef struct gen {
    uint64_t rng;
    uint32_t sources, nodes, complete_pct;
    pmul_pcap_writer *w;
    uint64_t ts;
    uint64_t n_pdu[5];                  /* data, address, ack, other, noise */
    uint64_t datagrams, bytes;
    uint8_t pkt[65536];
    pmul_dest_entry dests[MAX_DESTS];
    pmul_ack_entry acks[4];
    uint16_t missing[4][32];
    uint32_t ids[64];
    /* The legitimate message in progress. */
    uint32_t legit_msid;
    unsigned legit_next;                /* 0: Address, 1..8: Data, 9: done */
    uint64_t legit_msgs;
} gen;

/* xorshift64*: deterministic, seeded. */
static uint32_t
rnd(gen *g)
{
    g->rng ^= g->rng >> 12;
    g->rng ^= g->rng << 25;
    g->rng ^= g->rng >> 27;
    return (uint32_t)((g->rng * UINT64_C(2685821657736338717)) >> 32);
}

static uint32_t
below(gen *g, uint32_t n)
{
    return n == 0 ? 0 : rnd(g) % n;
}

/* Spoofed transmitters in 10.0.0.0/8, nodes in 10.128.0.0/9... kept apart
 * from the legitimate ones in 198.18.0.0/15. */
static uint32_t
spoofed_src(gen *g)
{
    return IP4(10, 0, 0, 0) + 1u + below(g, g->sources);
}

static uint32_t
node_id(gen *g)
{
    return IP4(10, 128, 0, 0) + 1u + below(g, g->nodes);
}

static int
put(gen *g, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
    const uint8_t *p, size_t len)
{
    int rc = pmul_pcap_write_udp4(g->w, g->ts, src, sport, dst, dport, p, len);

    if (rc != 0) {
        fprintf(stderr, "pmul-hostile-gen: writing: %s\n", pmul_pcap_strerror(rc));
        return -1;
    }
    g->ts += TS_STEP_US;
    g->datagrams++;
    g->bytes += len + 42u;              /* Ethernet, IPv4, UDP */
    return 0;
}

static int
send_pdu(gen *g, const pmul_pdu *p, uint16_t sport, uint32_t dst, uint16_t dport)
{
    ssize_t n = pmul_pdu_encode(p, g->pkt, sizeof(g->pkt));

    if (n < 0) {
        fprintf(stderr, "pmul-hostile-gen: encoding type %u: %zd\n", p->type, n);
        return -1;
    }
    return put(g, p->source_id, sport, dst, dport, g->pkt, (size_t)n);
}

static void
fill(gen *g, uint8_t *p, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++)
        p[i] = (uint8_t)rnd(g);
}

static int
hostile_one(gen *g)
{
    static uint8_t frag[512];
    uint32_t r = below(g, 100), i, n;
    pmul_pdu p;

    memset(&p, 0, sizeof(p));
    p.priority = (uint8_t)below(g, 8);
    p.source_id = spoofed_src(g);
    /* Few MSIDs per source, so Data and Address PDUs meet. */
    p.msid = below(g, 16) + 1u;
    if (r < 35) {
        p.type = PMUL_PDU_DATA;
        p.u.data.seq = (uint16_t)(below(g, 65535) + 1u);
        p.u.data.frag_len = below(g, sizeof(frag));
        fill(g, frag, p.u.data.frag_len);
        p.u.data.frag = frag;
        g->n_pdu[0]++;
        return send_pdu(g, &p, DPORT, GROUP, DPORT);
    }
    if (r < 60) {
        p.type = PMUL_PDU_ADDRESS;
        p.u.address.total_pdus = 65535;
        p.u.address.expiry_time = EXPIRY_2106;
        n = below(g, 64) == 0 ? 100u + below(g, MAX_DESTS - 99u) : 1u + below(g, 8);
        for (i = 0; i < n; i++) {
            g->dests[i].dest_id = node_id(g);
            g->dests[i].msg_seq_no = rnd(g);
        }
        if (below(g, 4) == 0)
            g->dests[below(g, n)].dest_id = LEGIT_SRC + 1u + below(g, 3);
        p.u.address.dest_cnt = (uint16_t)n;
        p.u.address.dests = g->dests;
        g->n_pdu[1]++;
        if (g->complete_pct != 0 && below(g, 100) < g->complete_pct) {
            /* A fresh MSID, so the message is new and completes. */
            p.msid = 1000u + rnd(g) % 1000000u;
            p.u.address.total_pdus = 1;
            if (send_pdu(g, &p, DPORT, GROUP, DPORT) != 0)
                return -1;
            memset(&p.u, 0, sizeof(p.u));
            p.type = PMUL_PDU_DATA;
            p.u.data.seq = 1;
            p.u.data.frag_len = 1u + below(g, 64);
            fill(g, frag, p.u.data.frag_len);
            p.u.data.frag = frag;
            g->n_pdu[0]++;
        }
        return send_pdu(g, &p, DPORT, GROUP, DPORT);
    }
    if (r < 70) {
        p.type = PMUL_PDU_ACK;
        p.source_id = node_id(g);
        n = 1u + below(g, 4);
        for (i = 0; i < n; i++) {
            uint16_t k, m = (uint16_t)below(g, 32);

            /* Now and then the Java deviation: the acker names itself. */
            g->acks[i].source_id = below(g, 8) == 0 ? p.source_id : spoofed_src(g);
            g->acks[i].msid = below(g, 16) + 1u;
            for (k = 0; k < m; k++)
                g->missing[i][k] = (uint16_t)(below(g, 65535) + 1u);
            g->acks[i].missing = g->missing[i];
            g->acks[i].missing_cnt = m;
        }
        p.u.ack.entry_cnt = (uint16_t)n;
        p.u.ack.entries = g->acks;
        g->n_pdu[2]++;
        return send_pdu(g, &p, APORT, spoofed_src(g), APORT);
    }
    g->n_pdu[3]++;
    if (r < 75) {
        p.type = PMUL_PDU_DISCARD;
        return send_pdu(g, &p, DPORT, GROUP, DPORT);
    }
    if (r < 80) {
        p.type = PMUL_PDU_ANNOUNCE;
        p.priority = 0;
        p.u.announce.expiry_time = EXPIRY_2106;
        p.u.announce.mcast_group = IP4(239, 2, 0, 0) + below(g, 4096);
        n = 1u + below(g, 64);
        for (i = 0; i < n; i++)
            g->ids[i] = node_id(g);
        p.u.announce.dest_cnt = (uint16_t)n;
        p.u.announce.dest_ids = g->ids;
        return send_pdu(g, &p, RPORT, GG, RPORT);
    }
    if (r < 85) {
        static const uint8_t types[3] = { PMUL_PDU_REQUEST, PMUL_PDU_REJECT,
                                          PMUL_PDU_RELEASE };

        p.type = types[below(g, 3)];
        p.priority = 0;
        p.u.group.mcast_group = IP4(239, 2, 0, 0) + below(g, 4096);
        return send_pdu(g, &p, TPORT, GG, TPORT);
    }
    /* Noise on the data port: short random datagrams. */
    g->n_pdu[3]--;
    g->n_pdu[4]++;
    n = 1u + below(g, 200);
    fill(g, g->pkt, n);
    return put(g, spoofed_src(g), DPORT, GROUP, DPORT, g->pkt, n);
}

/* The next PDU of the legitimate message (Address, then its Data). */
static int
legit_one(gen *g)
{
    static const char text[] = "legitimate mail under attack ";
    uint8_t frag[200];
    pmul_pdu p;
    size_t i;
    unsigned k;

    memset(&p, 0, sizeof(p));
    p.source_id = LEGIT_SRC;
    p.msid = g->legit_msid;
    p.priority = 2;
    if (g->legit_next == 0) {
        p.type = PMUL_PDU_ADDRESS;
        p.u.address.total_pdus = LEGIT_PDUS;
        p.u.address.expiry_time = (uint32_t)(g->ts / 1000000u) + 86400u;
        for (k = 0; k < 3; k++) {
            g->dests[k].dest_id = LEGIT_SRC + 1u + k;
            g->dests[k].msg_seq_no = g->legit_msid;
        }
        p.u.address.dest_cnt = 3;
        p.u.address.dests = g->dests;
    } else {
        p.type = PMUL_PDU_DATA;
        p.u.data.seq = (uint16_t)g->legit_next;
        for (i = 0; i < sizeof(frag); i++)
            frag[i] = (uint8_t)text[(i + g->legit_msid) % (sizeof(text) - 1)];
        p.u.data.frag = frag;
        p.u.data.frag_len = sizeof(frag);
    }
    g->legit_next++;
    if (g->legit_next > LEGIT_PDUS)
        g->legit_msgs++;
    return send_pdu(g, &p, DPORT, GROUP, DPORT);
}

static int
parse_u64(const char *s, uint64_t *v)
{
    char *end;

    if (*s < '0' || *s > '9')
        return -1;
    *v = strtoull(s, &end, 10);
    if (*end == 'k' || *end == 'K')
        *v *= 1000u, end++;
    else if (*end == 'M')
        *v *= 1000000u, end++;
    return *end == '\0' ? 0 : -1;
}

int
main(int argc, char **argv)
{
    uint64_t seed = 1, size = 20000000u, sources = 300, nodes = 2000, legit = 2000, v;
    uint64_t complete = 0;
    const char *out = NULL;
    uint64_t since = 0;
    gen *g;
    int opt, rc = 0;

    while ((opt = getopt(argc, argv, "s:b:S:N:l:c:o:")) != -1) {
        if (opt == 'o') {
            out = optarg;
            continue;
        }
        if (opt == '?' || parse_u64(optarg, &v) != 0) {
            fprintf(stderr, "usage: pmul-hostile-gen [-s SEED] [-b BYTES] [-S SOURCES] "
                    "[-N NODES] [-l LEGIT_EVERY] [-c COMPLETE_PCT] -o FILE\n");
            return 2;
        }
        switch (opt) {
        case 's': seed = v; break;
        case 'b': size = v; break;
        case 'S': sources = v; break;
        case 'N': nodes = v; break;
        case 'c': complete = v; break;
        default: legit = v; break;
        }
    }
    if (out == NULL || optind != argc || sources == 0 || sources > 0x7fffff ||
        nodes == 0 || nodes > 0x7fffff || complete > 100) {
        fprintf(stderr, "usage: pmul-hostile-gen [-s SEED] [-b BYTES] [-S SOURCES (1..8M)] "
                "[-N NODES (1..8M)] [-l LEGIT_EVERY] [-c COMPLETE_PCT (0..100)] -o FILE\n");
        return 2;
    }
    g = calloc(1, sizeof(*g));
    if (g == NULL) {
        fprintf(stderr, "pmul-hostile-gen: out of memory\n");
        return 1;
    }
    g->rng = seed * UINT64_C(0x9E3779B97F4A7C15) + 1u;
    g->sources = (uint32_t)sources;
    g->nodes = (uint32_t)nodes;
    g->complete_pct = (uint32_t)complete;
    g->ts = TS_START_US;
    g->legit_next = LEGIT_PDUS + 1u;
    if (pmul_pcap_writer_open(&g->w, out) != 0) {
        perror(out);
        free(g);
        return 1;
    }
    while (rc == 0 && g->bytes < size) {
        if (legit != 0 && ++since >= legit) {
            since = 0;
            g->legit_msid++;
            g->legit_next = 0;
        }
        /* Spread the legitimate message over LEGIT_SPAN datagrams. */
        if (g->legit_next <= LEGIT_PDUS && below(g, LEGIT_SPAN / (LEGIT_PDUS + 1u)) == 0)
            rc = legit_one(g);
        else
            rc = hostile_one(g);
    }
    if (pmul_pcap_writer_close(g->w) != 0 && rc == 0) {
        fprintf(stderr, "pmul-hostile-gen: closing %s failed\n", out);
        rc = -1;
    }
    if (rc == 0)
        fprintf(stderr, "pmul-hostile-gen: %" PRIu64 " datagrams, %" PRIu64 " octets: "
                "data=%" PRIu64 " address=%" PRIu64 " ack=%" PRIu64 " other=%" PRIu64
                " noise=%" PRIu64 " legit_msgs=%" PRIu64 "\n", g->datagrams, g->bytes,
                g->n_pdu[0], g->n_pdu[1], g->n_pdu[2], g->n_pdu[3], g->n_pdu[4],
                g->legit_msgs);
    free(g);
    return rc == 0 ? 0 : 1;
}
