/*
 * NAME
 *	pmul-bench-held - per-Data_PDU cost of a receiving engine that holds
 *	many completed messages
 * SYNOPSIS
 *	pmul-bench-held [-k] [HELD...]
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
 *	pmul_engine_poll_event(), and pmul_engine_next_deadline().  The
 *	datagrams are encoded before the clock starts (encoding is the
 *	sender's work).  Each case runs three times; the fastest run is
 *	reported in nanoseconds per Data_PDU, wall clock and process CPU time
 *	(the CPU column stays meaningful on a loaded machine), with the minor
 *	page faults of the timed part, as a Markdown table for
 *	docs/benchmarks.md.  Instructions of the timed part alone (all three
 *	runs), a measure a busy machine does not disturb: valgrind
 *	--tool=callgrind --toggle-collect='timed_part*' pmul-bench-held HELD.
 *
 *	The engine runs with its default caps and no pacing (link_rate_bps
 *	0): as in a real receiver, the latest max_rx_done_per_src (1024)
 *	delivered messages are kept as entries and the older ones are retired
 *	into the delivered set (pmul_doneset, ranges of MSIDs), which still
 *	answers a late copy with a complete Ack.  After the timed part the
 *	bench checks that: a late Address_PDU of message 1 must be answered
 *	with an Ack_PDU and not delivered again.
 *
 *	-k keeps every delivered message as an entry (max_rx_done_per_src
 *	above HELD), the configuration the bench ran with before; 32,768
 *	entries take about 15 MB, and freeing them between runs lets the C
 *	library hand the timed message's buffers fresh pages (about 1,000
 *	page faults per run), which is what made the cost look like it grew
 *	with HELD.
 * SECURITY
 *	Feeds the engine only PDUs it built itself.
 * DIAGNOSTICS
 *	Exits 1 with a message on stderr when the engine refuses a PDU, a
 *	message is not delivered, or the late copy is not answered.
 * SEE ALSO
 *	pmul/pmul_engine.h, docs/benchmarks.md.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/resource.h>

#include "pmul/pmul_engine.h"
#include "pmul/pmul_pdu.h"

#define SRC_ID      0xC6120001u     /* 198.18.0.1 */
#define RCV_ID      0xC6120002u     /* 198.18.0.2 */
#define BIG_PDUS    4000u
#define FRAG_LEN    1000u
#define ROUNDS      3
#define WALL_START  1800000000
#define PKT_MAX     2048u

typedef struct bench {
    pmul_engine *e;
    pmul_now now;
    uint8_t pkt[PKT_MAX];
    uint8_t out[65536];
    uint64_t delivered;
    uint64_t acks_sent;
} bench;

typedef struct result {
    double wall_ns, cpu_ns;     /* per Data_PDU */
    long faults;                /* minor page faults of the timed part */
} result;

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
clock_s(clockid_t id)
{
    struct timespec ts;

    if (clock_gettime(id, &ts) != 0) {
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

    /* The PDU type is the low bits of octet 3 (MAP in the high ones). */
    while ((n = pmul_engine_poll_tx(b->e, b->now, b->out, sizeof(b->out), &to)) > 0)
        if (n > 3 && (b->out[3] & (uint8_t)~PMUL_MAP_MASK) == PMUL_PDU_ACK)
            b->acks_sent++;
    if (n < 0)
        die("poll_tx", (int)n);
    while (pmul_engine_poll_event(b->e, &ev) == 1)
        if (ev.kind == PMUL_EV_DELIVERED)
            b->delivered++;
    (void)pmul_engine_next_deadline(b->e);
}

/* Hand one datagram to the engine as a driver does.  A duplicate is
 * answered and then reported as dropped: dup_ok accepts that. */
static void
recv_pkt(bench *b, const uint8_t *pkt, size_t len, bool dup_ok)
{
    pmul_addr from = { SRC_ID, PMUL_DPORT_DEFAULT, true };
    int rc;

    if ((rc = pmul_engine_recv(b->e, b->now, &from, pkt, len)) != 0 &&
        !(dup_ok && rc == PMUL_ERR_DUPLICATE))
        die("recv", rc);
    drain(b);
}

static void
feed(bench *b, const pmul_pdu *p, bool dup_ok)
{
    ssize_t n = pmul_pdu_encode(p, b->pkt, sizeof(b->pkt));

    if (n < 0)
        die("encode", (int)n);
    recv_pkt(b, b->pkt, (size_t)n, dup_ok);
}

static void
feed_address(bench *b, uint32_t msid, uint16_t total, bool dup_ok)
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
    feed(b, &p, dup_ok);
}

static pmul_pdu
data_pdu(uint32_t msid, uint16_t seq, const uint8_t *frag, size_t len)
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
    return p;
}

/* The late copy of a message delivered long ago: a transmitter that
 * missed our Ack asks again.  The engine must answer it with an Ack_PDU
 * (within the Ack spread, 10 s here at most) and deliver nothing. */
static void
check_late_copy(bench *b, uint32_t msid)
{
    uint64_t acks = b->acks_sent, delivered = b->delivered, until;

    feed_address(b, msid, 1, true);
    for (until = b->now.mono_ms + 10000; b->acks_sent == acks && b->now.mono_ms < until;) {
        b->now.mono_ms += 10;
        drain(b);
    }
    if (b->acks_sent == acks || b->delivered != delivered) {
        fprintf(stderr, "pmul-bench-held: late copy of message %u: %s\n", msid,
                b->delivered != delivered ? "delivered again" : "not acked");
        exit(1);
    }
}

/* The timed part, a function of its own so that a profiler can count
 * only it (gcc names it timed_part.constprop.0, hence the pattern):
 * valgrind --tool=callgrind --toggle-collect='timed_part*'. */
__attribute__((noinline)) static void
timed_part(bench *b, uint8_t (*pkts)[PKT_MAX], const size_t *lens)
{
    for (uint32_t s = 0; s < BIG_PDUS; s++) {
        recv_pkt(b, pkts[s], lens[s], false);
        b->now.mono_ms++;
    }
}

/* One run: fill HELD completed messages, then time the big one. */
static result
run(uint32_t held, bool keep_all)
{
    static uint8_t frag[FRAG_LEN];
    static uint8_t pkts[BIG_PDUS][PKT_MAX];
    static size_t lens[BIG_PDUS];
    uint32_t seed = 0x9e3779b9u;
    struct rusage r0, r1;
    pmul_config cfg;
    pmul_env env;
    result res;
    pmul_pdu p;
    bench b;
    double w0, w1, c0, c1;
    ssize_t n;
    int rc;

    memset(&b, 0, sizeof(b));
    memset(frag, 'x', sizeof(frag));
    pmul_config_default(&cfg);
    cfg.node_id = RCV_ID;
    cfg.link_rate_bps = 0;
    cfg.pdu_max_len = 1024;
    if (keep_all)
        cfg.max_rx_done_per_src = (size_t)held + 16;
    memset(&env, 0, sizeof(env));
    env.rand = xorshift;
    env.rand_arg = &seed;
    if ((rc = pmul_engine_new(&b.e, &cfg, &env)) != 0)
        die("engine_new", rc);
    b.now.mono_ms = 1000;
    b.now.wall_s = WALL_START;

    for (uint32_t i = 1; i <= held; i++) {
        feed_address(&b, i, 1, false);
        p = data_pdu(i, 1, frag, 16);
        feed(&b, &p, false);
        b.now.mono_ms += 2;         /* past the Ack spread of the last one */
    }
    if (b.delivered != held) {
        fprintf(stderr, "pmul-bench-held: %" PRIu64 " of %u delivered\n", b.delivered, held);
        exit(1);
    }

    for (uint32_t s = 1; s <= BIG_PDUS; s++) {
        p = data_pdu(held + 1, (uint16_t)s, frag, sizeof(frag));
        if ((n = pmul_pdu_encode(&p, pkts[s - 1], PKT_MAX)) < 0)
            die("encode", (int)n);
        lens[s - 1] = (size_t)n;
    }
    feed_address(&b, held + 1, (uint16_t)BIG_PDUS, false);
    if (getrusage(RUSAGE_SELF, &r0) != 0) {
        perror("getrusage");
        exit(1);
    }
    w0 = clock_s(CLOCK_MONOTONIC);
    c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    timed_part(&b, pkts, lens);
    c1 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    w1 = clock_s(CLOCK_MONOTONIC);
    if (getrusage(RUSAGE_SELF, &r1) != 0) {
        perror("getrusage");
        exit(1);
    }
    if (b.delivered != (uint64_t)held + 1) {
        fprintf(stderr, "pmul-bench-held: the %u-PDU message was not delivered\n", BIG_PDUS);
        exit(1);
    }
    check_late_copy(&b, 1);
    pmul_engine_free(b.e);
    res.wall_ns = (w1 - w0) * 1e9 / BIG_PDUS;
    res.cpu_ns = (c1 - c0) * 1e9 / BIG_PDUS;
    res.faults = r1.ru_minflt - r0.ru_minflt;
    return res;
}

int
main(int argc, char **argv)
{
    static const uint32_t def[] = { 1, 1024, 16384, 32768 };
    uint32_t held[32];
    size_t cnt = 0;
    bool keep_all = false;
    int i = 1;

    if (argc > 1 && strcmp(argv[1], "-k") == 0) {
        keep_all = true;
        i++;
    }
    if (argc - i > 32) {
        fprintf(stderr, "usage: pmul-bench-held [-k] [HELD...] (at most 32)\n");
        return 2;
    }
    for (; i < argc; i++) {
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

    printf("| completed messages held | ns per Data_PDU, wall | ns per Data_PDU, CPU "
           "| page faults |\n");
    printf("|---:|---:|---:|---:|\n");
    for (size_t k = 0; k < cnt; k++) {
        result best = { 0, 0, 0 };

        /* Fastest of each column; the faults are the CPU-fastest run's. */
        for (int r = 0; r < ROUNDS; r++) {
            result res = run(held[k], keep_all);

            if (r == 0 || res.wall_ns < best.wall_ns)
                best.wall_ns = res.wall_ns;
            if (r == 0 || res.cpu_ns < best.cpu_ns) {
                best.cpu_ns = res.cpu_ns;
                best.faults = res.faults;
            }
        }
        printf("| %u | %.0f | %.0f | %ld |\n", held[k], best.wall_ns, best.cpu_ns, best.faults);
        fflush(stdout);
    }
    return 0;
}
