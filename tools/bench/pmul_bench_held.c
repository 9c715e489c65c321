/*
 * NAME
 *	pmul-bench-held - per-Data_PDU cost of a receiving engine that holds
 *	many completed messages
 * SYNOPSIS
 *	pmul-bench-held [HELD...]
 * DESCRIPTION
 *	A receiving node remembers every message it delivered until the
 *	message's Expiry_Time, so that a late copy is answered with an Ack and
 *	never delivered twice.  A receiver in EMCON for hours holds thousands
 *	of them.  The cost of one received Data_PDU must not grow with that
 *	number (issue 8 item 5).
 *
 *	For each HELD count (default 1 1024 16384 32768) one receiving engine
 *	is fed HELD one-PDU messages from one source (Address_PDU then
 *	Data_PDU, delivered and acked, expiry one day ahead), then one
 *	message of 4000 Data_PDUs of 1000 octets is fed.  What is timed is
 *	what a driver does per datagram of that last message:
 *	pmul_engine_recv(), draining pmul_engine_poll_tx() and
 *	pmul_engine_poll_event(), and pmul_engine_next_deadline().  Each
 *	case runs three times; the fastest run is reported in nanoseconds per
 *	Data_PDU, as a Markdown table for docs/benchmarks.md.
 *
 *	The engine runs with no pacing (link_rate_bps 0) and caps raised so
 *	that nothing is forgotten or refused: max_rx_done_per_src and
 *	max_rx_msgs above the largest HELD.
 * SECURITY
 *	Feeds the engine only PDUs it built itself.
 * DIAGNOSTICS
 *	Exits 1 with a message on stderr when the engine refuses a PDU or a
 *	message is not delivered.
 * SEE ALSO
 *	pmul/pmul_engine.h, docs/benchmarks.md.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pmul/pmul_engine.h"
#include "pmul/pmul_pdu.h"

#define SRC_ID      0xC6120001u     /* 198.18.0.1 */
#define RCV_ID      0xC6120002u     /* 198.18.0.2 */
#define BIG_PDUS    4000u
#define FRAG_LEN    1000u
#define ROUNDS      3
#define WALL_START  1800000000

typedef struct bench {
    pmul_engine *e;
    pmul_now now;
    uint8_t pkt[2048];
    uint8_t out[65536];
    uint64_t delivered;
} bench;

static uint32_t
xorshift(void *arg)
{
    uint32_t *s = arg;

    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static double
mono_s(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        perror("clock_gettime");
        exit(1);
    }
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *what, int err)
{
    fprintf(stderr, "pmul-bench-held: %s: %s\n", what, pmul_strerror(err));
    exit(1);
}

/* What a driver does after every call: send what is due, take events,
 * ask for the next deadline. */
static void
drain(bench *b)
{
    pmul_addr to;
    pmul_event ev;
    ssize_t n;

    while ((n = pmul_engine_poll_tx(b->e, b->now, b->out, sizeof(b->out), &to)) > 0)
        continue;
    if (n < 0)
        die("poll_tx", (int)n);
    while (pmul_engine_poll_event(b->e, &ev) == 1)
        if (ev.kind == PMUL_EV_DELIVERED)
            b->delivered++;
    (void)pmul_engine_next_deadline(b->e);
}

static void
feed(bench *b, const pmul_pdu *p)
{
    pmul_addr from = { SRC_ID, PMUL_DPORT_DEFAULT, true };
    ssize_t n = pmul_pdu_encode(p, b->pkt, sizeof(b->pkt));
    int rc;

    if (n < 0)
        die("encode", (int)n);
    if ((rc = pmul_engine_recv(b->e, b->now, &from, b->pkt, (size_t)n)) != 0)
        die("recv", rc);
    drain(b);
}

static void
feed_address(bench *b, uint32_t msid, uint16_t total)
{
    pmul_dest_entry d = { RCV_ID, msid, NULL };
    pmul_pdu p;

    memset(&p, 0, sizeof(p));
    p.type = PMUL_PDU_ADDRESS;
    p.priority = 3;
    p.source_id = SRC_ID;
    p.msid = msid;
    p.u.address.total_pdus = total;
    p.u.address.expiry_time = (uint32_t)(b->now.wall_s + 86400);
    p.u.address.dest_cnt = 1;
    p.u.address.dests = &d;
    feed(b, &p);
}

static void
feed_data(bench *b, uint32_t msid, uint16_t seq, const uint8_t *frag, size_t len)
{
    pmul_pdu p;

    memset(&p, 0, sizeof(p));
    p.type = PMUL_PDU_DATA;
    p.priority = 3;
    p.source_id = SRC_ID;
    p.msid = msid;
    p.u.data.seq = seq;
    p.u.data.frag = frag;
    p.u.data.frag_len = len;
    feed(b, &p);
}

/* One run: fill HELD completed messages, then time the big one.  Returns
 * nanoseconds per Data_PDU of the big message. */
static double
run(uint32_t held)
{
    static uint8_t frag[FRAG_LEN];
    uint32_t seed = 0x9e3779b9u;
    pmul_config cfg;
    pmul_env env;
    bench b;
    double t0, t1;
    int rc;

    memset(&b, 0, sizeof(b));
    memset(frag, 'x', sizeof(frag));
    pmul_config_default(&cfg);
    cfg.node_id = RCV_ID;
    cfg.link_rate_bps = 0;
    cfg.pdu_max_len = 1024;
    cfg.max_rx_done_per_src = (size_t)held + 16;
    cfg.max_rx_msgs = (size_t)held + 16;
    memset(&env, 0, sizeof(env));
    env.rand = xorshift;
    env.rand_arg = &seed;
    if ((rc = pmul_engine_new(&b.e, &cfg, &env)) != 0)
        die("engine_new", rc);
    b.now.mono_ms = 1000;
    b.now.wall_s = WALL_START;

    for (uint32_t i = 1; i <= held; i++) {
        feed_address(&b, i, 1);
        feed_data(&b, i, 1, frag, 16);
        b.now.mono_ms += 2;         /* past the Ack spread of the last one */
    }
    if (b.delivered != held) {
        fprintf(stderr, "pmul-bench-held: %" PRIu64 " of %u delivered\n", b.delivered, held);
        exit(1);
    }

    feed_address(&b, held + 1, (uint16_t)BIG_PDUS);
    t0 = mono_s();
    for (uint32_t s = 1; s <= BIG_PDUS; s++) {
        feed_data(&b, held + 1, (uint16_t)s, frag, sizeof(frag));
        b.now.mono_ms++;
    }
    t1 = mono_s();
    if (b.delivered != (uint64_t)held + 1) {
        fprintf(stderr, "pmul-bench-held: the %u-PDU message was not delivered\n", BIG_PDUS);
        exit(1);
    }
    pmul_engine_free(b.e);
    return (t1 - t0) * 1e9 / BIG_PDUS;
}

int
main(int argc, char **argv)
{
    static const uint32_t def[] = { 1, 1024, 16384, 32768 };
    uint32_t held[32];
    size_t cnt = 0;

    if (argc > 33) {
        fprintf(stderr, "usage: pmul-bench-held [HELD...] (at most 32)\n");
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        char *end;
        unsigned long v = strtoul(argv[i], &end, 10);

        if (*argv[i] == '\0' || *end != '\0' || v == 0 || v > 1000000) {
            fprintf(stderr, "pmul-bench-held: HELD must be 1..1000000, not '%s'\n", argv[i]);
            return 2;
        }
        held[cnt++] = (uint32_t)v;
    }
    if (cnt == 0) {
        memcpy(held, def, sizeof(def));
        cnt = sizeof(def) / sizeof(def[0]);
    }

    printf("| completed messages held | ns per Data_PDU (recv + poll + deadline) |\n");
    printf("|---:|---:|\n");
    for (size_t i = 0; i < cnt; i++) {
        double best = 0;

        for (int r = 0; r < ROUNDS; r++) {
            double ns = run(held[i]);

            if (r == 0 || ns < best)
                best = ns;
        }
        printf("| %u | %.0f |\n", held[i], best);
        fflush(stdout);
    }
    return 0;
}
