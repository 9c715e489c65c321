/*
 * NAME
 *	netsim-bench - throughput and engine cost of P_MUL on netsim
 * SYNOPSIS
 *	netsim-bench [air|cpu|all] [SEEDS]
 * DESCRIPTION
 *	air: 100 generated mails of 2-8 kB (RFC 5322 text from netsim_mail,
 *	not random bytes) from one transmitter to 1, 2, 3 and 4 receivers at
 *	9.6 kbit/s with 10% Bernoulli loss on every receiver, all submitted
 *	at time 0.  Prints, per receiver count, the completion time (first
 *	submit to last MSG_DONE), the physical limit payload bits / rate /
 *	(1 - loss), their ratio, and octets on the air (all nodes, 28 octets
 *	of IP/UDP per datagram included) per payload octet.  Each row is the
 *	mean over SEEDS runs (default 3) with the range of the ratio.
 *
 *	cpu: one transmitter and one receiver with no rate limit, no delay
 *	and no loss; 10000 mails of 4 kB.  Prints messages/s and PDUs/s on
 *	the air per second of process CPU time, for the whole simulation
 *	(both engines plus netsim's own work: classification, heap, copies).
 *
 *	Output is Markdown tables for docs/benchmarks.md.
 * SECURITY
 *	A benchmark program; no untrusted input.
 * SEE ALSO
 *	docs/benchmarks.md, netsim(7).
 * LICENSE
 *	MIT, see LICENSE.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "netsim/netsim.h"
#include "netsim/netsim_pmul.h"
#include "pmul/util/num.h"

static double
cpu_now(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) != 0) {
        perror("clock_gettime");
        exit(1);
    }
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct result {
    netsim_summary sum;
    uint64_t datagrams, data_pdus, lost;
    long fails;
    double cpu_s;
} result;

static void
run_text(const char *text, uint64_t seed, result *r)
{
    netsim_scenario *sc;
    netsim_opts o;
    netsim *s;
    buf fails;
    char err[300];
    double t0;
    int rc;

    rc = netsim_scen_parse(&sc, text, strlen(text), NULL, err, sizeof(err));
    if (rc != 0) {
        fprintf(stderr, "netsim-bench: scenario: %s\n", err);
        exit(1);
    }
    memset(&o, 0, sizeof(o));
    o.ops = &netsim_pmul_ops;
    o.seed_set = true;
    o.seed = seed;
    if ((rc = netsim_new(&s, sc, &o)) != 0) {
        fprintf(stderr, "netsim-bench: %s\n", netsim_strerror(rc));
        exit(1);
    }
    t0 = cpu_now();
    rc = netsim_run(s);
    r->cpu_s = cpu_now() - t0;
    if (rc != 0) {
        fprintf(stderr, "netsim-bench: run: %s\n", netsim_strerror(rc));
        exit(1);
    }
    buf_init(&fails, NULL, SIZE_MAX);
    r->fails = netsim_check(s, &fails);
    if (r->fails != 0)
        fprintf(stderr, "netsim-bench: seed %llu: %ld failures\n%.*s",
                (unsigned long long)seed, r->fails, (int)(fails.len > 2000 ? 2000 : fails.len),
                (const char *)fails.data);
    buf_fini(&fails);
    netsim_summarize(s, &r->sum);
    r->datagrams = netsim_counter(s, NETSIM_C_DATAGRAMS);
    r->data_pdus = netsim_counter(s, NETSIM_C_DATA);
    r->lost = netsim_counter(s, NETSIM_C_LOST);
    netsim_free(s);
    netsim_scen_free(sc);
}

static void
bench_air(unsigned seeds)
{
    char text[1024];
    unsigned n, k;

    printf("| receivers | delivered | time s | limit s | ratio (min-max) | air octets per payload octet | datagrams |\n");
    printf("|---:|---:|---:|---:|---|---:|---:|\n");
    for (n = 1; n <= 4; n++) {
        double t = 0, lim = 0, ratio = 0, rmin = 1e9, rmax = 0, per = 0, dg = 0;
        size_t deliv = 0, total = 0;
        result r;

        (void)snprintf(text, sizeof(text),
                       "time-limit 24h\n"
                       "defaults rate 9600 delay 50ms queue 256Ki\n"
                       "node A 198.18.0.1\n"
                       "nodes R %u 198.18.0.11\n"
                       "loss R* rx bernoulli 10%%\n"
                       "msgs m 100 from A to R* size 2k-8k prio 6 expiry 12h text mail\n", n);
        for (k = 1; k <= seeds; k++) {
            run_text(text, k, &r);
            t += (double)r.sum.time_us / 1e6;
            lim += r.sum.limit_s;
            ratio += r.sum.ratio;
            if (r.sum.ratio < rmin)
                rmin = r.sum.ratio;
            if (r.sum.ratio > rmax)
                rmax = r.sum.ratio;
            per += (double)r.sum.air_bytes / (double)r.sum.payload_bytes;
            dg += (double)r.datagrams;
            deliv += r.sum.delivered;
            total += r.sum.total;
        }
        printf("| %u | %zu/%zu | %.1f | %.1f | %.2f (%.2f-%.2f) | %.3f | %.0f |\n", n, deliv, total,
               t / seeds, lim / seeds, ratio / seeds, rmin, rmax, per / seeds, dg / seeds);
        fflush(stdout);
    }
}

static void
bench_cpu(void)
{
    static const char text[] =
        "time-limit 24h\n"
        "defaults rate 0 delay 0 queue 0\n"
        "node A 198.18.0.1\n"
        "node B 198.18.0.2\n"
        "engine link-rate-bps 0\n"
        "msgs m 10000 from A to B size 4k prio 6 expiry 12h text mail\n";
    result r;

    run_text(text, 1, &r);
    printf("| messages | PDUs on the air | Data_PDUs | CPU s | messages/s | PDUs/s |\n");
    printf("|---:|---:|---:|---:|---:|---:|\n");
    printf("| %zu | %llu | %llu | %.3f | %.0f | %.0f |\n", r.sum.msgs_done,
           (unsigned long long)r.datagrams, (unsigned long long)r.data_pdus, r.cpu_s,
           (double)r.sum.msgs_done / r.cpu_s, (double)r.datagrams / r.cpu_s);
}

int
main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "all";
    uint64_t seeds = 3;

    if ((argc > 2 && num_parse_u64(argv[2], 1, 100, &seeds) != 0) ||
        (strcmp(mode, "air") != 0 && strcmp(mode, "cpu") != 0
                                      && strcmp(mode, "all") != 0)) {
        fprintf(stderr, "usage: netsim-bench [air|cpu|all] [SEEDS]\n");
        return 2;
    }
    if (strcmp(mode, "cpu") != 0)
        bench_air((unsigned)seeds);
    if (strcmp(mode, "air") != 0) {
        if (strcmp(mode, "all") == 0)
            printf("\n");
        bench_cpu();
    }
    return 0;
}
