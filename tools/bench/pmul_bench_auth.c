/*
 * NAME
 *	pmul-bench-auth - cost per datagram of the authenticated P_MUL mode
 * SYNOPSIS
 *	pmul-bench-auth [scale]
 * DESCRIPTION
 *	Measures pmul_auth_seal() and pmul_auth_open() (HMAC-SHA-256 over
 *	the trailer header, IP source and PDU; balance octets; replay
 *	window) on a 1040-octet Data_PDU (1024-octet fragment), a 16-octet
 *	Discard_Message_PDU and a 24-octet Ack_PDU, and for comparison
 *	pmul_pdu_decode() of the same Data_PDU.  Each operation runs three
 *	rounds of batches of 1000 datagrams (open gets datagrams sealed
 *	beforehand, outside the clock, and a fresh receiver per batch so
 *	that none is a replay) and reports the fastest round as ns per
 *	datagram and datagrams/s in a Markdown table on stdout.
 *
 *	Timing uses clock_gettime(CLOCK_MONOTONIC), which programs may read
 *	(the cores may not).  Not a test: numbers depend on the machine.
 * SECURITY
 *	Feeds the module only datagrams it sealed itself.
 * DIAGNOSTICS
 *	Exits 1 with a message on stderr if a datagram does not open.
 * SEE ALSO
 *	pmul/pmul_auth.h, docs/pmul-auth.md, docs/benchmarks.md.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pmul/pmul_auth.h"
#include "pmul/pmul_pdu.h"

#define BATCH   1000
#define ROUNDS  3
#define SLOT    (1040 + PMUL_AUTH_TRAILER_LEN)

static const char key[] = "pmul-bench-auth key, 32 octets!!";
static uint8_t sealed[BATCH][SLOT];
static volatile uint32_t sink;

static double now_s(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        perror("pmul-bench-auth: clock_gettime");
        exit(1);
    }
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static pmul_auth *ctx(void)
{
    pmul_auth_config c = {(const uint8_t *)key, sizeof key - 1, 1, 0, 0};
    pmul_auth *a = NULL;
    int rc = pmul_auth_new(&a, &c, NULL);

    if (rc != 0) {
        fprintf(stderr, "pmul-bench-auth: pmul_auth_new: %s\n", pmul_strerror(rc));
        exit(1);
    }
    return a;
}

static void seal_batch(pmul_auth *tx, const uint8_t *pdu, size_t len, uint64_t *wall)
{
    for (int i = 0; i < BATCH; i++) {
        memcpy(sealed[i], pdu, len);
        if (pmul_auth_seal(tx, (*wall)++, 0xC6120001u, sealed[i], len, SLOT) < 0) {
            fprintf(stderr, "pmul-bench-auth: seal failed\n");
            exit(1);
        }
    }
}

/* Best round, in seconds per datagram, of op on pdu[0..len). */
static double bench(const char *op, const uint8_t *pdu, size_t len, long batches)
{
    static uint8_t buf[SLOT];
    pmul_auth *tx = ctx();
    uint64_t wall = UINT64_C(1764950400000);
    double best = 0;

    for (int round = 0; round < ROUNDS; round++) {
        double total = 0;

        for (long b = 0; b < batches; b++) {
            pmul_auth *rx = NULL;
            double t0;

            if (strcmp(op, "open") == 0) {
                seal_batch(tx, pdu, len, &wall);
                rx = ctx();
            }
            t0 = now_s();
            for (int i = 0; i < BATCH; i++) {
                if (strcmp(op, "seal") == 0) {
                    memcpy(buf, pdu, len);
                    sink += (uint32_t)pmul_auth_seal(tx, wall, 0xC6120001u, buf, len, SLOT);
                } else if (strcmp(op, "open") == 0) {
                    if (pmul_auth_open(rx, wall, 0xC6120001u, sealed[i],
                                       len + PMUL_AUTH_TRAILER_LEN) != (ssize_t)len) {
                        fprintf(stderr, "pmul-bench-auth: open refused its own datagram\n");
                        exit(1);
                    }
                } else {
                    static pmul_dest_entry dests[1];
                    pmul_pdu_scratch s = {dests, 1, NULL, 0, NULL, 0, NULL, 0, 0, 0};
                    pmul_pdu p;

                    if (pmul_pdu_decode(&p, &s, pdu, len) != 0) {
                        fprintf(stderr, "pmul-bench-auth: decode failed\n");
                        exit(1);
                    }
                    sink += p.msid;
                }
            }
            total += now_s() - t0;
            pmul_auth_free(rx);
        }
        if (round == 0 || total < best)
            best = total;
    }
    pmul_auth_free(tx);
    return best / ((double)batches * BATCH);
}

static void row(const char *op, const char *what, const uint8_t *pdu, size_t len, long batches)
{
    double s = bench(op, pdu, len, batches);

    printf("| %-6s | %-32s | %6zu | %8.0f | %10.0f |\n", op, what, len, s * 1e9, 1.0 / s);
}

int main(int argc, char **argv)
{
    static uint8_t data[1040], frag[1024], ack[24], discard[16];
    pmul_pdu p;
    long scale = argc > 1 ? strtol(argv[1], NULL, 10) : 1;
    long batches = 200 * (scale > 0 ? scale : 1);

    memset(&p, 0, sizeof p);
    p.type = PMUL_PDU_DATA;
    p.priority = 3;
    p.source_id = 0xC6120001u;
    p.msid = 7;
    p.u.data.seq = 1;
    for (size_t i = 0; i < sizeof frag; i++)
        frag[i] = (uint8_t)(i * 31);
    p.u.data.frag = frag;
    p.u.data.frag_len = 1024;
    if (pmul_pdu_encode(&p, data, sizeof data) != (ssize_t)sizeof data) {
        fprintf(stderr, "pmul-bench-auth: cannot encode the Data_PDU\n");
        return 1;
    }
    /* Octets only (the mode does not parse the PDU): the Ack is 24. */
    memcpy(ack, data, sizeof ack);
    memcpy(discard, data, sizeof discard);
    printf("| op     | datagram                         | PDU    | ns each  | per second |\n");
    printf("|--------|----------------------------------|-------:|---------:|-----------:|\n");
    row("seal", "Data_PDU, 1024-octet fragment", data, sizeof data, batches);
    row("open", "Data_PDU, 1024-octet fragment", data, sizeof data, batches);
    row("decode", "Data_PDU (pmul_pdu_decode)", data, sizeof data, batches);
    row("seal", "24 octets (an Ack_PDU's size)", ack, sizeof ack, batches);
    row("open", "24 octets (an Ack_PDU's size)", ack, sizeof ack, batches);
    row("seal", "16 octets (Discard_Message_PDU)", discard, sizeof discard, batches);
    row("open", "16 octets (Discard_Message_PDU)", discard, sizeof discard, batches);
    return 0;
}
