/*
 * NAME
 *	pmul-bench-codec - encode and decode rate of the P_MUL PDU codec
 * SYNOPSIS
 *	pmul-bench-codec [scale]
 * DESCRIPTION
 *	Measures pmul_pdu_encode() and pmul_pdu_decode() on two PDU shapes
 *	that dominate a transfer: a Data_PDU with a 1024-octet fragment, and
 *	an Ack_PDU with 50 ACK_Info_Entries, each naming three missing
 *	Data_PDUs (one receiver acknowledging 50 messages at once).  Each
 *	operation runs three rounds of a fixed number of iterations (about
 *	1-2 s in all on a 2020s x86 core; "scale" multiplies the counts) and
 *	reports the fastest round, which is the least disturbed by other
 *	load, as PDUs/s and MB/s (10^6 octets of PDU per second) in a
 *	Markdown table on stdout.  Both checksum computations dominate: decoding verifies the
 *	Fletcher sum, encoding computes it.
 *
 *	Timing uses clock_gettime(CLOCK_MONOTONIC), which programs may read
 *	(the cores may not).  Not a test: numbers depend on the machine.
 * SECURITY
 *	Feeds the codec only PDUs it built itself.
 * DIAGNOSTICS
 *	Exits 1 with a message on stderr if the codec rejects its own output.
 * SEE ALSO
 *	pmul/pmul_pdu.h, docs/benchmarks.md.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pmul/pmul_pdu.h"

#define FRAG_LEN        1024
#define ACK_ENTRIES     50
#define MISSING_PER     3
#define ROUNDS          3
#define DATA_ITERS      200000L         /* per round */
#define ACK_ITERS       200000L

static double
now_s(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        perror("pmul-bench-codec: clock_gettime");
        exit(1);
    }
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The result of every iteration feeds this, so the work cannot be
 * optimised away. */
static volatile uint32_t sink;

typedef struct result {
    const char *op;
    const char *pdu;
    size_t len;
    long iters;
    double secs;
} result;

static void
print_row(const result *r)
{
    double rate = (double)r->iters / r->secs;

    printf("| %-6s | %-34s | %6zu | %8ld | %6.3f | %10.0f | %8.1f |\n", r->op, r->pdu, r->len,
           r->iters, r->secs, rate, rate * (double)r->len / 1e6);
}

static void
bench_encode(const pmul_pdu *pdu, long iters, uint8_t *out, size_t cap, result *r)
{
    double t0, t;
    ssize_t n = 0;
    long i;
    int round;

    r->secs = 0;
    for (round = 0; round < ROUNDS; round++) {
        t0 = now_s();
        for (i = 0; i < iters; i++) {
            n = pmul_pdu_encode(pdu, out, cap);
            if (n < 0) {
                fprintf(stderr, "pmul-bench-codec: encode: %s\n", pmul_strerror((int)n));
                exit(1);
            }
            sink += out[6];
        }
        t = now_s() - t0;
        if (round == 0 || t < r->secs)
            r->secs = t;
    }
    r->iters = iters;
    r->len = (size_t)n;
}

static void
bench_decode(const uint8_t *pkt, size_t len, pmul_pdu_scratch *s, long iters, result *r)
{
    pmul_pdu pdu;
    double t0, t;
    long i;
    int err, round;

    r->secs = 0;
    for (round = 0; round < ROUNDS; round++) {
        t0 = now_s();
        for (i = 0; i < iters; i++) {
            if ((err = pmul_pdu_decode(&pdu, s, pkt, len)) != 0) {
                fprintf(stderr, "pmul-bench-codec: decode: %s\n", pmul_strerror(err));
                exit(1);
            }
            sink += pdu.msid;
        }
        t = now_s() - t0;
        if (round == 0 || t < r->secs)
            r->secs = t;
    }
    r->iters = iters;
    r->len = len;
}

int
main(int argc, char **argv)
{
    static uint8_t frag[FRAG_LEN], data_pkt[PMUL_PDU_MAX_LEN], ack_pkt[PMUL_PDU_MAX_LEN];
    static uint16_t words[ACK_ENTRIES][MISSING_PER], missing[ACK_ENTRIES * MISSING_PER];
    static pmul_ack_entry entries[ACK_ENTRIES], acks[ACK_ENTRIES];
    pmul_pdu_scratch s;
    pmul_pdu data, ack;
    result r[4];
    double scale = 1.0;
    ssize_t dlen, alen;
    size_t i, j;

    if (argc > 1) {
        char *end;

        scale = strtod(argv[1], &end);
        if (end == argv[1] || *end != '\0' || !(scale > 0.0 && scale <= 1000.0)) {
            fprintf(stderr, "usage: pmul-bench-codec [scale]  (0 < scale <= 1000)\n");
            return 2;
        }
    }

    for (i = 0; i < FRAG_LEN; i++)
        frag[i] = (uint8_t)(i * 131u + 7u);
    memset(&data, 0, sizeof(data));
    data.type = PMUL_PDU_DATA;
    data.priority = 6;
    data.source_id = 0xc0000201u;
    data.msid = 0x00010001u;
    data.u.data.seq = 17;
    data.u.data.frag = frag;
    data.u.data.frag_len = FRAG_LEN;

    /* 50 messages from one transmitter, each missing PDUs 3, 9 and 12. */
    for (i = 0; i < ACK_ENTRIES; i++) {
        for (j = 0; j < MISSING_PER; j++)
            words[i][j] = (uint16_t)(j == 0 ? 3 : j == 1 ? 9 : 12);
        entries[i].source_id = 0xc0000201u;
        entries[i].msid = (uint32_t)(0x00010000u + i);
        entries[i].missing = words[i];
        entries[i].missing_cnt = MISSING_PER;
    }
    memset(&ack, 0, sizeof(ack));
    ack.type = PMUL_PDU_ACK;
    ack.priority = 6;
    ack.source_id = 0xc0000202u;
    ack.u.ack.entry_cnt = ACK_ENTRIES;
    ack.u.ack.entries = entries;

    dlen = pmul_pdu_encode(&data, data_pkt, sizeof(data_pkt));
    alen = pmul_pdu_encode(&ack, ack_pkt, sizeof(ack_pkt));
    if (dlen < 0 || alen < 0) {
        fprintf(stderr, "pmul-bench-codec: cannot encode the sample PDUs\n");
        return 1;
    }
    memset(&s, 0, sizeof(s));
    s.acks = acks;
    s.acks_cap = ACK_ENTRIES;
    s.missing = missing;
    s.missing_cap = ACK_ENTRIES * MISSING_PER;

    r[0].op = "encode";
    r[0].pdu = "Data_PDU, 1024-octet fragment";
    bench_encode(&data, (long)(DATA_ITERS * scale), data_pkt, sizeof(data_pkt), &r[0]);
    r[1].op = "decode";
    r[1].pdu = "Data_PDU, 1024-octet fragment";
    bench_decode(data_pkt, (size_t)dlen, &s, (long)(DATA_ITERS * scale), &r[1]);
    r[2].op = "encode";
    r[2].pdu = "Ack_PDU, 50 entries x 3 missing";
    bench_encode(&ack, (long)(ACK_ITERS * scale), ack_pkt, sizeof(ack_pkt), &r[2]);
    r[3].op = "decode";
    r[3].pdu = "Ack_PDU, 50 entries x 3 missing";
    bench_decode(ack_pkt, (size_t)alen, &s, (long)(ACK_ITERS * scale), &r[3]);

    printf("| op     | PDU                                | octets | PDUs/rnd | best s "
           "| PDUs/s     | MB/s     |\n");
    printf("|--------|------------------------------------|-------:|---------:|-------:"
           "|-----------:|---------:|\n");
    for (i = 0; i < 4; i++)
        print_row(&r[i]);
    return sink == 0xdeadbeefu ? 3 : 0;
}
