/*
 * NAME
 *	pmul-fec-bench - FEC codec rate, and the EMCON completion model
 * SYNOPSIS
 *	pmul-fec-bench [speed [scale] | emcon [trials [seed]]]
 * DESCRIPTION
 *	speed (the default): encode and decode rate of pmul_fec for 1 KiB
 *	symbols, for blocks of k = 32 with r = 4 repairs and k = 239 with
 *	r = 16 (the largest block that leaves 16 repairs: k + r <= 255 in
 *	GF(2^8)).  Encode is timed two ways: all r repairs of a block in one
 *	call (what a transmitter preparing a round does) and one repair per
 *	call (what a per-PDU transmit path does).  Decode loses r source
 *	symbols of each block, the worst case, and times pmul_fec_recover()
 *	including its matrix inversion.  Rates are MB/s (10^6 octets) of
 *	source data of the block per second; each figure is the fastest of
 *	three rounds.
 *
 *	emcon: the chance that a silent (EMCON) receiver completes a 20 KB
 *	message (20 Data_PDUs of 1 KiB) from one transmission at 10 %
 *	independent loss with r = 0, 2, 4, 6, 8, 10 repair PDUs.  It is computed
 *	exactly (binomial: any 20 of 20 + r suffice) and by simulation with
 *	the real codec (each trial draws the losses, feeds the decoder by
 *	sequence number, recovers and compares the bytes), and then also
 *	counting the FEC_Address_PDU, which must arrive too: sent once,
 *	twice or three times in the transmission.
 *
 *	Timing is the process's CPU time (CLOCK_PROCESS_CPUTIME_ID): the
 *	codec is single-threaded and does no I/O, and CPU time stays honest
 *	on a shared, loaded machine where wall time does not.  The
 *	simulation uses its own xorshift generator; programs may read clocks
 *	and draw numbers, the cores may not.  Not a test: speed depends on
 *	the machine (and on which ISA-L kernel the CPU selects).
 * SECURITY
 *	Feeds the codec only data it built itself.
 * DIAGNOSTICS
 *	Exits 1 with a message on stderr if the codec fails or recovers
 *	wrong bytes.
 * SEE ALSO
 *	pmul/pmul_fec.h, docs/benchmarks.md ("FEC codec", "EMCON and FEC").
 * LICENSE
 *	MIT, see LICENSE.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "netsim/netsim_rng.h"
#include "pmul/pmul_fec.h"

#define SYM      1024u
#define ROUNDS   3

static uint8_t src_buf[PMUL_FEC_N_MAX][SYM];
static uint8_t rep_buf[PMUL_FEC_N_MAX][SYM];
static uint8_t out_buf[PMUL_FEC_N_MAX][SYM];

static void
die(const char *what, int err)
{
    fprintf(stderr, "pmul-fec-bench: %s: %s\n", what, pmul_strerror(err));
    exit(1);
}

static double
now_s(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0) {
        perror("pmul-fec-bench: clock_gettime");
        exit(1);
    }
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- speed ---------------------------------------------------------------- */

enum op { ENC_BLOCK, ENC_ONE, DEC };

/* Seconds for iters runs of op on a block of k with r repairs. */
static double
run(pmul_fec *f, enum op op, unsigned k, unsigned r, long iters)
{
    const uint8_t *src[PMUL_FEC_N_MAX], *sym[PMUL_FEC_N_MAX];
    uint8_t *rep[PMUL_FEC_N_MAX], *out[PMUL_FEC_N_MAX];
    pmul_fec_block b;
    unsigned i, j;
    double t0;
    long it;
    int err;

    for (i = 0; i < k; i++)
        src[i] = src_buf[i];
    for (i = 0; i < r; i++)
        rep[i] = rep_buf[i];
    if ((err = pmul_fec_encode_n(f, src, k, SYM, SYM, 0, r, rep)) != 0)
        die("encode", err);
    /* Decode: the first r sources lost, all r repairs held. */
    pmul_fec_block_init(&b, k);
    memset(sym, 0, sizeof(sym));
    memset(out, 0, sizeof(out));
    for (i = 0; i < k + r; i++) {
        if (i < r) {
            out[i] = out_buf[i];
            continue;
        }
        if ((err = pmul_fec_block_add(&b, i)) != 0)
            die("block_add", err);
        sym[i] = i < k ? src[i] : rep[i - k];
    }
    t0 = now_s();
    for (it = 0; it < iters; it++) {
        switch (op) {
        case ENC_BLOCK:
            err = pmul_fec_encode_n(f, src, k, SYM, SYM, 0, r, rep);
            break;
        case ENC_ONE:
            for (j = 0, err = 0; j < r && err == 0; j++)
                err = pmul_fec_encode(f, src, k, SYM, SYM, j, rep[j]);
            break;
        case DEC:
            err = pmul_fec_recover(f, &b, sym, k + r, SYM, SYM, out);
            break;
        }
        if (err != 0)
            die("run", err);
    }
    t0 = now_s() - t0;
    if (op == DEC)
        for (i = 0; i < r; i++)
            if (memcmp(out_buf[i], src_buf[i], SYM) != 0)
                die("recovered bytes differ", PMUL_ERR_FATAL);
    return t0;
}

static int
speed(long scale)
{
    static const unsigned kr[][2] = { { 32, 4 }, { 239, 16 } };
    static const char *names[] = { "encode, r repairs per call", "encode, 1 repair per call",
                                   "decode, r sources lost" };
    netsim_rng rng;
    pmul_fec *f;
    size_t i, x;
    int err, op, round;

    if ((err = pmul_fec_new(&f, NULL)) != 0)
        die("new", err);
    netsim_rng_seed(&rng, 1, netsim_label("fec-speed"));
    for (i = 0; i < PMUL_FEC_N_MAX; i++)
        for (x = 0; x < SYM; x++)
            src_buf[i][x] = (uint8_t)netsim_rng_next(&rng);
    printf("| k | r | operation | blocks/s | MB/s (source) |\n");
    printf("|---|---|---|---|---|\n");
    for (i = 0; i < sizeof(kr) / sizeof(kr[0]); i++) {
        unsigned k = kr[i][0], r = kr[i][1];
        /* About 0.2 s per round on a 2020s x86 core. */
        long iters = scale * (k == 32 ? 20000L : 2000L);

        if ((err = pmul_fec_prepare(f, k, r)) != 0)
            die("prepare", err);
        for (op = ENC_BLOCK; op <= DEC; op++) {
            double best = 1e30;

            for (round = 0; round < ROUNDS; round++) {
                double t = run(f, (enum op)op, k, r, iters);

                if (t < best)
                    best = t;
            }
            printf("| %u | %u | %s | %.0f | %.0f |\n", k, r, names[op], (double)iters / best,
                   (double)iters * k * SYM / best / 1e6);
        }
    }
    pmul_fec_free(f);
    return 0;
}

/* ---- EMCON model ----------------------------------------------------------- */

/* P(at least need of n arrive), each independently with probability q. */
static double
at_least(unsigned need, unsigned n, double q)
{
    double sum = 0.0;
    unsigned i;

    for (i = need; i <= n; i++) {
        double c = 1.0;
        unsigned j;

        for (j = 0; j < i; j++)
            c = c * (double)(n - j) / (double)(j + 1);
        sum += c * pow(q, i) * pow(1.0 - q, n - i);
    }
    return sum;
}

/* One simulated transmission of N PDUs plus r repairs (one block); true
 * when the receiver ends with the whole message, checked byte by byte. */
static bool
trial(pmul_fec *f, const pmul_fec_blocks *l, unsigned r, uint64_t loss_thr, netsim_rng *rng)
{
    const uint8_t *sym[PMUL_FEC_N_MAX];
    uint8_t *out[PMUL_FEC_N_MAX];
    unsigned k = l->k_large, i;
    pmul_fec_block b;
    int err;

    pmul_fec_block_init(&b, k);
    memset(sym, 0, sizeof(sym));
    memset(out, 0, sizeof(out));
    for (i = 0; i < k + r; i++) {
        uint16_t seq;

        if (netsim_rng_chance(rng, loss_thr))
            continue;
        if ((err = pmul_fec_seq_of(l, 0, i, &seq)) != 0 || (err = pmul_fec_feed(l, &b, seq)) != 0)
            die("feed", err);
        sym[i] = i < k ? src_buf[i] : rep_buf[i - k];
    }
    if (pmul_fec_block_is_complete(&b))
        return true;
    if (!pmul_fec_can_recover(&b))
        return false;
    for (i = 0; i < k; i++)
        if (sym[i] == NULL)
            out[i] = out_buf[i];
    if ((err = pmul_fec_recover(f, &b, sym, k + r, SYM, SYM, out)) != 0)
        die("recover", err);
    for (i = 0; i < k; i++)
        if (out[i] != NULL && memcmp(out_buf[i], src_buf[i], SYM) != 0)
            die("recovered bytes differ", PMUL_ERR_FATAL);
    return true;
}

static int
emcon(long trials, uint64_t seed)
{
    static const unsigned rs[] = { 0, 2, 4, 6, 8, 10 };
    const unsigned n = 20;
    const double loss = 0.10;
    const uint8_t *src[PMUL_FEC_N_MAX];
    uint8_t *rep[PMUL_FEC_N_MAX];
    uint64_t thr = netsim_prob_threshold(loss);
    pmul_fec_blocks l;
    netsim_rng rng;
    pmul_fec *f;
    size_t i, x;
    int err;

    if ((err = pmul_fec_new(&f, NULL)) != 0 || (err = pmul_fec_layout(n, 255, &l)) != 0)
        die("setup", err);
    netsim_rng_seed(&rng, seed, netsim_label("fec-emcon"));
    for (i = 0; i < n; i++) {
        for (x = 0; x < SYM; x++)
            src_buf[i][x] = (uint8_t)netsim_rng_next(&rng);
        src[i] = src_buf[i];
    }
    for (i = 0; i < 10; i++)
        rep[i] = rep_buf[i];
    if ((err = pmul_fec_encode_n(f, src, n, SYM, SYM, 0, 10, rep)) != 0)
        die("encode", err);
    printf("| repair PDUs r | PDUs sent | overhead | P(data complete), exact | simulated (%ld trials) |"
           " and FEC_Address_PDU sent once | twice | 3 times |\n", trials);
    printf("|---|---|---|---|---|---|---|---|\n");
    for (i = 0; i < sizeof(rs) / sizeof(rs[0]); i++) {
        unsigned r = rs[i];
        double p = at_least(n, n + r, 1.0 - loss);
        long ok = 0, t;

        for (t = 0; t < trials; t++)
            ok += trial(f, &l, r, thr, &rng);
        printf("| %u | %u | %.0f %% | %.4f | %.4f | %.4f | %.4f | %.4f |\n", r, n + r,
               100.0 * r / n, p, (double)ok / (double)trials, p * (1.0 - loss),
               p * (1.0 - loss * loss), p * (1.0 - loss * loss * loss));
    }
    pmul_fec_free(f);
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "speed") == 0)
        return speed(argc > 2 ? atol(argv[2]) > 0 ? atol(argv[2]) : 1 : 1);
    if (strcmp(argv[1], "emcon") == 0)
        return emcon(argc > 2 && atol(argv[2]) > 0 ? atol(argv[2]) : 100000L,
                     argc > 3 ? strtoull(argv[3], NULL, 0) : 42u);
    fprintf(stderr, "usage: pmul-fec-bench [speed [scale] | emcon [trials [seed]]]\n");
    return 2;
}
