/*
 * test_netsim.c: unit tests of netsim (event heap, PRNG, loss models,
 * queue, scenario parser, mail generator, the driver with a toy engine:
 * delivery, EMCON enforcement, determinism, allocation failure; the MULE
 * layer on the P_MUL engine: a relay hop, its checks failing when they
 * must, allocation failure).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "netsim/netsim.h"
#include "netsim/netsim_pmul.h"
#include "netsim_testlib.h"
#include "netsim_toy.h"
#include "pmul/pmul_pdu.h"
#include "test_common.h"

/* ---- heap ----------------------------------------------------------- */

static void
test_netsim_heap_order(void **state)
{
    netsim_heap h;
    netsim_ev_ent e, prev;
    netsim_rng rng;
    size_t i, n = 5000;

    (void)state;
    netsim_heap_init(&h, NULL, 0);
    netsim_rng_seed(&rng, 7, 0);
    for (i = 0; i < n; i++) {
        memset(&e, 0, sizeof(e));
        /* Few distinct times, so ties are frequent. */
        e.time_us = netsim_rng_below(&rng, 50);
        e.gen = i;
        assert_int_equal(netsim_heap_push(&h, &e), 0);
    }
    assert_int_equal(h.len, n);
    assert_int_equal(netsim_heap_pop(&h, &prev), 0);
    for (i = 1; i < n; i++) {
        assert_int_equal(netsim_heap_pop(&h, &e), 0);
        assert_true(e.time_us >= prev.time_us);
        /* Equal times come out in push order. */
        if (e.time_us == prev.time_us)
            assert_true(e.gen > prev.gen);
        prev = e;
    }
    assert_int_equal(netsim_heap_pop(&h, &e), -1);
    assert_null(netsim_heap_peek(&h));
    netsim_heap_fini(&h);
}

static void
test_netsim_heap_cap(void **state)
{
    netsim_heap h;
    netsim_ev_ent e;

    (void)state;
    memset(&e, 0, sizeof(e));
    netsim_heap_init(&h, NULL, 3);
    assert_int_equal(netsim_heap_push(&h, &e), 0);
    assert_int_equal(netsim_heap_push(&h, &e), 0);
    assert_int_equal(netsim_heap_push(&h, &e), 0);
    assert_int_equal(netsim_heap_push(&h, &e), NETSIM_ERR_LIMIT);
    netsim_heap_fini(&h);
}

/* ---- rng and loss models -------------------------------------------- */

static void
test_netsim_rng_streams(void **state)
{
    netsim_rng a, b, c;
    int i, same = 0;

    (void)state;
    netsim_rng_seed(&a, 42, 1);
    netsim_rng_seed(&b, 42, 1);
    netsim_rng_seed(&c, 42, 2);
    for (i = 0; i < 100; i++) {
        uint64_t x = netsim_rng_next(&a);

        assert_true(x == netsim_rng_next(&b));
        same += x == netsim_rng_next(&c);
        assert_true(netsim_rng_below(&a, 10) < 10);
        (void)netsim_rng_below(&b, 10);
    }
    assert_int_equal(same, 0);
    assert_int_equal(netsim_prob_threshold(0.0), 0);
    assert_true(netsim_prob_threshold(1.0) == (uint64_t)1 << 53);
}

static void
test_netsim_loss_bernoulli_rate(void **state)
{
    netsim_loss_cfg cfg;
    netsim_loss l;
    size_t i, n = 200000, drops = 0;
    double rate;

    (void)state;
    memset(&cfg, 0, sizeof(cfg));
    cfg.kind = NETSIM_LOSS_BERNOULLI;
    cfg.p = 0.1;
    netsim_loss_init(&l, &cfg, 1234, 5);
    for (i = 0; i < n; i++)
        drops += netsim_loss_drop(&l, PMUL_PDU_DATA);
    rate = (double)drops / (double)n;
    if (rate < 0.097 || rate > 0.103)
        fail_msg("bernoulli 0.1: got rate %.4f, want 0.1 +- 0.003", rate);
    assert_true(l.dropped == drops && l.seen == n);
    assert_true(netsim_loss_mean(&cfg) == 0.1);
}

static void
test_netsim_loss_ge_bursts(void **state)
{
    netsim_loss_cfg cfg;
    netsim_loss l;
    size_t i, n = 400000, drops = 0, bursts = 0;
    bool prev = false, d;
    double rate, burst;

    (void)state;
    memset(&cfg, 0, sizeof(cfg));
    cfg.kind = NETSIM_LOSS_GE;
    cfg.p = 0.05;
    cfg.r = 0.2;
    cfg.loss_good = 0.0;
    cfg.loss_bad = 1.0;
    /* Stationary loss p / (p + r) = 0.2; mean burst 1 / r = 5. */
    assert_true(netsim_loss_mean(&cfg) > 0.1999 && netsim_loss_mean(&cfg) < 0.2001);
    netsim_loss_init(&l, &cfg, 99, 3);
    for (i = 0; i < n; i++) {
        d = netsim_loss_drop(&l, -1);
        drops += d;
        bursts += d && !prev;
        prev = d;
    }
    rate = (double)drops / (double)n;
    burst = (double)drops / (double)bursts;
    if (rate < 0.19 || rate > 0.21)
        fail_msg("GE: got loss %.4f, want 0.2 +- 0.01", rate);
    if (burst < 4.6 || burst > 5.4)
        fail_msg("GE: got mean burst %.3f, want 5 +- 0.4", burst);
}

static void
test_netsim_loss_masks(void **state)
{
    netsim_loss_cfg cfg;
    netsim_loss l;
    static const int types[] = { 2, 0, 0, 0, 2, 0, 1, 0, 2, 0 };
    /* Drop the 2nd Address_PDU and datagrams 3 and 7-8 overall. */
    static const bool want[] = { false, false, true, false, true, false, true, true, false, false };
    size_t i;

    (void)state;
    memset(&cfg, 0, sizeof(cfg));
    cfg.mask[0].type = PMUL_PDU_ADDRESS;
    cfg.mask[0].lo = cfg.mask[0].hi = 2;
    cfg.mask[1].type = NETSIM_MASK_ANY;
    cfg.mask[1].lo = cfg.mask[1].hi = 3;
    cfg.mask[2].type = NETSIM_MASK_ANY;
    cfg.mask[2].lo = 7;
    cfg.mask[2].hi = 8;
    cfg.mask_cnt = 3;
    netsim_loss_init(&l, &cfg, 1, 1);
    for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        bool got = netsim_loss_drop(&l, types[i]);

        if (got != want[i])
            fail_msg("datagram %zu: got drop=%d, want %d", i + 1, got, want[i]);
    }
}

static void
test_netsim_jitter_dup_rate(void **state)
{
    netsim_jitter_cfg cfg;
    netsim_jitter j;
    uint64_t extra, dx;
    size_t i, n = 100000, dups = 0, late = 0;

    (void)state;
    memset(&cfg, 0, sizeof(cfg));
    cfg.dup_p = 0.05;
    cfg.dup_delay_us = 500;
    cfg.reorder_p = 0.2;
    cfg.reorder_us = 100000;
    netsim_jitter_init(&j, &cfg, 5, 5);
    for (i = 0; i < n; i++) {
        if (netsim_jitter_apply(&j, &extra, &dx)) {
            dups++;
            assert_true(dx == 500);
        }
        assert_true(extra <= 100000);
        late += extra > 0;
    }
    assert_true(dups > 4700 && dups < 5300);
    assert_true(late > 19000 && late < 21000);
}

static void
test_netsim_tx_time(void **state)
{
    (void)state;
    /* (100 + 28) octets at 9600 bit/s = 106666.67 us, rounded up. */
    assert_true(netsim_tx_time_us(100, 28, 9600) == 106667);
    assert_true(netsim_tx_time_us(1000, 0, 64000) == 125000);
    assert_true(netsim_tx_time_us(65535, 28, 0) == 0);
}

static void
test_netsim_txq_limit(void **state)
{
    netsim_txq q;
    int a, b, c;

    (void)state;
    netsim_txq_init(&q, NULL, 100);
    assert_int_equal(netsim_txq_push(&q, &a, 60), 0);
    assert_int_equal(netsim_txq_push(&q, &b, 41), NETSIM_ERR_LIMIT);
    assert_int_equal(netsim_txq_push(&q, &b, 40), 0);
    assert_true(netsim_txq_pop(&q) == &a);
    assert_int_equal(netsim_txq_push(&q, &c, 60), 0);
    assert_true(netsim_txq_pop(&q) == &b);
    assert_true(netsim_txq_pop(&q) == &c);
    assert_null(netsim_txq_pop(&q));
    netsim_txq_fini(&q);
}

/* ---- scenario parser ------------------------------------------------ */

static const char good_scen[] =
    "# a comment\n"
    "seed 77\n"
    "time-limit 10m\n"
    "defaults rate 9.6k delay 20ms queue 32Ki\n"
    "node A 198.18.0.1 rate 64k\n"
    "nodes R 3 198.18.0.11\n"
    "loss R* rx bernoulli 10%\n"
    "loss R2 rx ge 0.05 0.2\n"
    "loss R3 rx mask address:1,5-6\n"
    "dup R1 0.01 2ms\n"
    "reorder R1 0.1 300ms\n"
    "emcon R3 0 2m\n"
    "engine mm 20\n"
    "msg m1 from A to * size 4k prio 2 at 1.5s expiry 600s\n"
    "msg m2 from A to R1 text \"hi\\r\\nthere\"  # trailing comment\n"
    "msgs b 5 from A to R1,R2 size 100-200 prio 0-7 every 1s text binary\n"
    "expect delivered m1 R* within 5m\n"
    "expect failed m2 R1\n"
    "expect prio-before 0 7\n"
    "expect count early-data >= 1\n";

static void
test_netsim_scen_parse_good(void **state)
{
    netsim_scenario *sc;
    char err[200];
    size_t i;

    (void)state;
    if (netsim_scen_parse(&sc, good_scen, strlen(good_scen), NULL, err, sizeof(err)) != 0)
        fail_msg("got error '%s', want success", err);
    assert_true(sc->seed == 77);
    assert_true(sc->time_limit_us == 600000000ull);
    assert_int_equal(sc->node_cnt, 4);
    assert_string_equal(sc->nodes[2].name, "R2");
    assert_true(sc->nodes[0].rate_bps == 64000 && sc->nodes[1].rate_bps == 9600);
    assert_true(sc->nodes[1].delay_us == 20000 && sc->nodes[1].queue_limit == 32768);
    assert_true(sc->nodes[3].ip == 0xC612000Du);
    assert_int_equal(sc->nodes[1].rx_loss.kind, NETSIM_LOSS_BERNOULLI);
    assert_int_equal(sc->nodes[2].rx_loss.kind, NETSIM_LOSS_GE);
    assert_true(sc->nodes[2].rx_loss.loss_bad == 1.0);
    assert_int_equal(sc->nodes[3].rx_loss.mask_cnt, 2);
    assert_int_equal(sc->nodes[3].rx_loss.mask[1].lo, 5);
    assert_int_equal(sc->nodes[3].rx_loss.mask[0].type, PMUL_PDU_ADDRESS);
    assert_true(sc->nodes[1].jitter.reorder_us == 300000);
    assert_int_equal(sc->nodes[3].emcon_cnt, 1);
    assert_true(netsim_scen_in_emcon(&sc->nodes[3], 119999999) && !netsim_scen_in_emcon(&sc->nodes[3], 120000000));
    assert_int_equal(sc->msg_cnt, 7);
    assert_int_equal(sc->msgs[0].to_cnt, 3);        /* "*" minus the sender */
    assert_true(sc->msgs[0].size == 4000 && sc->msgs[0].at_us == 1500000);
    assert_true(sc->msgs[0].expiry_us == 600000000ull);
    assert_int_equal(sc->msgs[1].text, NETSIM_TEXT_LITERAL);
    assert_int_equal(sc->msgs[1].size, 9);
    assert_memory_equal(sc->msgs[1].literal, "hi\r\nthere", 9);
    for (i = 2; i < 7; i++) {
        assert_true(sc->msgs[i].size >= 100 && sc->msgs[i].size <= 200);
        assert_true(sc->msgs[i].prio <= 7);
        assert_true(sc->msgs[i].at_us == (i - 2) * 1000000ull);
    }
    assert_string_equal(sc->msgs[6].name, "b5");
    assert_int_equal(sc->expect_cnt, 4);
    assert_int_equal(sc->expects[0].node_cnt, 3);
    assert_int_equal(sc->expects[3].counter, NETSIM_C_EARLY_DATA);
    assert_int_equal(sc->kv_cnt, 1);
    netsim_scen_free(sc);
}

static void
test_netsim_scen_parse_errors(void **state)
{
    static const struct { const char *text; const char *want; } cases[] = {
        { "node A 1.2.3.4\nnode B 1.2.3.5\nbogus\n", "3: unknown keyword 'bogus'" },
        { "node A 1.2.3.4\nnode A 1.2.3.5\n", "2: node 'A' defined twice" },
        { "node A 1.2.3.4\nnode B 1.2.3.4\n", "2: address of 'B' already used" },
        { "node A 1.2.3.256\n", "1: bad address" },
        { "node A 239.1.1.1\n", "1: node address must be a unicast" },
        { "node A 1.2.3.4 rate fast\n", "1: bad rate 'fast'" },
        { "node A 1.2.3.4\nnode B 1.2.3.5\nmsg m from A to C\n", "3: no node matches 'C'" },
        { "node A 1.2.3.4\nnode B 1.2.3.5\nmsg m from A to A\n", "3: message 'm' has no destination" },
        { "node A 1.2.3.4\nnode B 1.2.3.5\nmsg m from A to B size 0\n", "3: bad size" },
        { "node A 1.2.3.4\nnode B 1.2.3.5\nmsg m from A to B text \"abc\n", "3: unterminated string" },
        { "node A 1.2.3.4\nloss A rx bernoulli 1.5\n", "2: usage: bernoulli" },
        { "node A 1.2.3.4\nloss A rx mask 0\n", "2: bad mask range" },
        { "node A 1.2.3.4\nloss A rx mask foo:1\n", "2: unknown PDU type" },
        { "node A 1.2.3.4\nloss A up none\n", "2: loss direction" },
        { "node A 1.2.3.4\nemcon A 5s 1s\n", "2: bad end time" },
        { "node A 1.2.3.4\nemcon A 0 10s\nemcon A 5s 20s\n", "3: EMCON interval of 'A' overlaps" },
        /* Shared medium and outages. */
        { "medium shared 0\n", "1: bad rate '0'" },
        { "medium radio\n", "1: usage: medium per-node | medium shared" },
        { "medium shared 9600 delay\n", "1: usage: medium" },
        { "medium shared 9600 lag 1s\n", "1: usage: medium" },
        { "medium shared 9600 delay 2h\n", "1: bad delay '2h'" },
        { "node A 1.2.3.4\noutage A 5s 1s\n", "2: bad end time" },
        { "node A 1.2.3.4\noutage A 5s\n", "2: usage: outage NODES FROM TO|end" },
        { "node A 1.2.3.4\noutage A 0 10s\noutage A 9s end\n", "3: outage interval of 'A' overlaps" },
        { "node A 1.2.3.4\nnode B 1.2.3.5\nmsg m from A to B\nexpect count nothing == 1\n", "4: unknown counter" },
        /* The authenticated mode. */
        { "node A 1.2.3.4\nauth A key \"short\"\n", "2: auth key of 5 octets: give 16..64" },
        { "node A 1.2.3.4\nauth A \"0123456789abcdef\"\n", "2: usage: auth NODES key" },
        { "node A 1.2.3.4\nauth A key \"0123456789abcdef\" key-id 256\n", "2: bad key-id '256'" },
        { "node A 1.2.3.4\nauth A key \"0123456789abcdef\" kid 1\n", "2: usage: auth NODES key" },
        { "node A 1.2.3.4\nauth Z key \"0123456789abcdef\"\n", "2: no node matches 'Z'" },
        { "node A 1.2.3.4\nnode B 1.2.3.5\nmsg m from A to B\nexpect delivered x B\n", "4: no message matches 'x'" },
        { "node A 1.2.3.4\nnode B 1.2.3.5\nmsg m from A to B\nexpect done m within soon\n", "4: 'within' needs a time" },
        { "node A 1.2.3.4\nnode B 1.2.3.5\n", "2: a scenario needs at least one message" },
        { "node A 1.2.3.4\n", "1: a scenario needs at least two nodes" },
        { "time-limit 0\n", "1: time-limit must be" },
        { "group 10.0.0.1\n", "1: usage: group" },
        { "node A 1.2.3.4\nnode B 1.2.3.5\nmsg m from A to B text \"x\" size 10\n", "3: a literal text sets the size" },
        /* MULE keys. */
        { "node A 1.2.3.4\nmule maybe\n", "2: usage: mule on|off" },
        { "node A 1.2.3.4\nroute A x.example\n", "2: usage: route NODES" },
        { "node A 1.2.3.4\nroute A x.example group 10.0.0.1 nodes 1.2.3.5\n", "2: route for 'A':" },
        { "node A 1.2.3.4\nroute A default local\nroute A default local\n", "3: route for 'A':" },
        { "node A 1.2.3.4\nnode B 1.2.3.5\nmsg m from A to B rcpt b@x.example\n", "3: a MULE mail needs both" },
        { "node A 1.2.3.4\nnode B 1.2.3.5\nmsg m from A to B mail-from a@x rcpt b@@x\n", "3: bad rcpt 'b@@x'" },
        { "node A 1.2.3.4\nnode B 1.2.3.5\nmsg m from A to B mail-from a@x rcpt b@x,\n", "3: bad rcpt list" },
        { "node A 1.2.3.4\nnode B 1.2.3.5\nmsg m from A to B mail-from \"a b\" rcpt b@x\n", "3: bad mail-from" },
        { "node A 1.2.3.4\nnode B 1.2.3.5\nmsg m from A to B\nexpect local B b@x same m\n", "4: message 'm' is not a MULE mail" },
        { "node A 1.2.3.4\nnode B 1.2.3.5\nmsg m from A to B\nexpect local A,B b@x\n", "4: expect local names one node" },
        { "node A 1.2.3.4\nnode B 1.2.3.5\nmsg m from A to B\nexpect local B b@x count\n", "4: usage: expect local" },
        { "node A 1.2.3.4\nnode B 1.2.3.5\nmsg m from A to B\nexpect local B b@x size 3\n", "4: unknown expect local option" },
    };
    netsim_scenario *sc;
    char err[200];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = netsim_scen_parse(&sc, cases[i].text, strlen(cases[i].text), NULL, err, sizeof(err));

        if (rc != NETSIM_ERR_PARSE || strstr(err, cases[i].want) == NULL)
            fail_msg("case %zu: got rc=%d err='%s', want '%s'", i, rc, err, cases[i].want);
        assert_null(sc);
    }
}

/*
 * Every prefix of a valid scenario, each parsed from a heap copy of exactly
 * that length: a scenario, or NETSIM_ERR_PARSE with "LINE: reason" where
 * LINE is within the prefix; never a crash, an over-read or a leak.
 */
static void
test_netsim_scen_parse_truncation_loop(void **state)
{
    struct tmem tm = { false, 0, 0 };
    mem m = tmem_make(&tm);
    size_t len, lines, i, full = strlen(good_scen);
    netsim_scenario *sc;
    char err[200], *p;
    int rc, line;

    (void)state;
    for (len = 0; len <= full; len++) {
        p = test_malloc(len != 0 ? len : 1);
        memcpy(p, good_scen, len);
        for (lines = 1, i = 0; i < len; i++)
            lines += p[i] == '\n';
        rc = netsim_scen_parse(&sc, p, len, &m, err, sizeof(err));
        if (rc == 0) {
            assert_non_null(sc);
            assert_true(sc->node_cnt >= 2 && sc->msg_cnt >= 1);
            netsim_scen_free(sc);
        } else if (rc != NETSIM_ERR_PARSE || sc != NULL || sscanf(err, "%d: ", &line) != 1 ||
                   line < 0 || (size_t)line > lines) {
            fail_msg("prefix %zu: got rc=%d err='%s', want OK or 'LINE: reason'", len, rc, err);
        }
        assert_int_equal(tm.live, 0);
        test_free(p);
    }
}

/* ---- mail generator ------------------------------------------------- */

static void
test_netsim_mail_exact_size(void **state)
{
    static const char *const to[] = { "B", "C", "D", "E", "F" };
    netsim_mail_params p;
    buf a, b;
    size_t size, i, col;

    (void)state;
    p.from = "A";
    p.to = to;
    p.to_cnt = 5;
    p.msg_name = "m1";
    p.date_s = 1700000000;
    for (size = 1; size < 9000; size += size < 600 ? 1 : 97) {
        buf_init(&a, NULL, SIZE_MAX);
        p.size = size;
        assert_int_equal(netsim_mail_gen(&a, 3, &p), 0);
        if (a.len != size)
            fail_msg("size %zu: got %zu octets", size, a.len);
        for (i = 0, col = 0; i < a.len; i++) {
            uint8_t c = a.data[i];

            assert_true(c == '\r' || c == '\n' || (c >= 0x20 && c < 0x7f));
            if (c == '\n') {
                /* CRLF only, no bare LF. */
                assert_true(i > 0 && a.data[i - 1] == '\r');
                col = 0;
            } else if (c != '\r' && ++col > 78) {
                fail_msg("size %zu: line longer than 78 at octet %zu", size, i);
            }
        }
        buf_fini(&a);
    }
    /* Deterministic per seed, different across seeds; looks like mail. */
    buf_init(&a, NULL, SIZE_MAX);
    buf_init(&b, NULL, SIZE_MAX);
    p.size = 4000;
    assert_int_equal(netsim_mail_gen(&a, 9, &p), 0);
    assert_int_equal(netsim_mail_gen(&b, 9, &p), 0);
    assert_memory_equal(a.data, b.data, 4000);
    assert_true(memcmp(a.data, "From: ", 6) == 0);
    assert_non_null(strstr((const char *)a.data, "\r\nSubject: "));
    /* The same words under every compiler: the Subject's draws were once
     * arguments of one call, whose order C leaves open (gcc and clang
     * made different mails, and netsim transcripts, from one seed). */
    {
        const char *s = strstr((const char *)a.data, "\r\nSubject: ");
        const char *e = strstr(s + 2, "\r\n");
        char got[128];

        snprintf(got, sizeof(got), "%.*s", (int)(e - s - 11), s + 11);
        assert_string_equal(got, "Re: aircraft some us");
    }
    assert_non_null(strstr((const char *)a.data, "Date: Tue, 14 Nov 2023 22:13:20 +0000"));
    assert_non_null(strstr((const char *)a.data, " wrote:\r\n> "));
    assert_non_null(strstr((const char *)a.data, "\r\n-- \r\n"));
    buf_reset(&b);
    assert_int_equal(netsim_mail_gen(&b, 10, &p), 0);
    assert_true(memcmp(a.data, b.data, 4000) != 0);
    buf_fini(&a);
    buf_fini(&b);
}

/* ---- the driver with the toy engine --------------------------------- */

typedef struct run_result {
    long fails;
    uint64_t hash;
    uint64_t violations_seen;
    netsim_summary sum;
    char fail_text[2048];
} run_result;

static void
run_ops(const netsim_engine_ops *ops, const netsim_scenario *sc, bool seed_set, uint64_t seed,
        const mem *m, run_result *r)
{
    netsim_opts o;
    netsim *s;
    buf out;

    memset(&o, 0, sizeof(o));
    memset(r, 0, sizeof(*r));
    o.ops = ops;
    o.m = m;
    o.seed_set = seed_set;
    o.seed = seed;
    assert_int_equal(netsim_new(&s, sc, &o), 0);
    assert_int_equal(netsim_run(s), 0);
    buf_init(&out, NULL, SIZE_MAX);
    r->fails = netsim_check(s, &out);
    if (out.len > 0)
        snprintf(r->fail_text, sizeof(r->fail_text), "%.*s", (int)out.len, (const char *)out.data);
    buf_fini(&out);
    r->hash = netsim_hash(s);
    netsim_summarize(s, &r->sum);
    netsim_free(s);
}

static void
run(const netsim_scenario *sc, bool seed_set, uint64_t seed, const mem *m, run_result *r)
{
    run_ops(&toy_ops, sc, seed_set, seed, m, r);
}

/* Parse and run text with the toy engine; every expectation must hold. */
static void
run_clean(const char *text, run_result *r)
{
    netsim_scenario *sc = netsim_test_parse(text);

    run(sc, false, 0, NULL, r);
    if (r->fails != 0)
        fail_msg("%ld failures:\n%s", r->fails, r->fail_text);
    netsim_scen_free(sc);
}

static const char lossy_scen[] =
    "node A 198.18.0.1 rate 9600 delay 10ms\n"
    "nodes R 3 198.18.0.11 rate 9600 delay 10ms\n"
    "loss R* rx bernoulli 0.2\n"
    "reorder R2 0.1 50ms\n"
    "dup R3 0.05\n"
    "msgs m 4 from A to R* size 1500-3000 every 2s\n";

/* The shared medium and outages: what the parser fills in.  An outage may
 * overlap an EMCON interval (they are different things). */
static void
test_netsim_scen_parse_medium_outage(void **state)
{
    static const char text[] =
        "medium shared 2.4k delay 300ms\n"
        "node A 1.2.3.4\n"
        "node B 1.2.3.5\n"
        "emcon B 0 20s\n"
        "outage B 10s 30s\n"
        "outage A,B 1h end\n"
        "msg m from A to B\n"
        "expect count outage >= 1\n";
    netsim_scenario *sc = netsim_test_parse(text);

    (void)state;
    assert_true(sc->shared);
    assert_true(sc->shared_rate_bps == 2400 && sc->shared_delay_us == 300000);
    assert_int_equal(sc->nodes[0].outage_cnt, 1);
    assert_int_equal(sc->nodes[1].outage_cnt, 2);
    assert_false(netsim_scen_in_outage(&sc->nodes[1], 9999999));
    assert_true(netsim_scen_in_outage(&sc->nodes[1], 10000000));
    assert_false(netsim_scen_in_outage(&sc->nodes[1], 30000000));
    assert_true(netsim_scen_in_outage(&sc->nodes[0], UINT64_MAX - 1));
    assert_int_equal(sc->expects[0].counter, NETSIM_C_OUTAGE);
    assert_string_equal(netsim_counter_name(NETSIM_C_OUTAGE), "outage");
    netsim_scen_free(sc);
    sc = netsim_test_parse("medium shared 9600\nmedium per-node\nnode A 1.2.3.4\nnode B 1.2.3.5\n"
               "msg m from A to B\n");
    assert_false(sc->shared);
    netsim_scen_free(sc);
}

/* "auth": keys per node (an attacker only by its name), and a run in the
 * authenticated mode: the nodes with the key talk, a keyless attacker's
 * datagrams are refused by every keyed node and counted, the same seed
 * gives the same transcript. */
static void
test_netsim_auth_mode(void **state)
{
    static const char text[] =
        "node A 198.18.0.1\n"
        "nodes R 2 198.18.0.11\n"
        "attacker X 198.18.0.66 rate 0\n"
        "attacker Y 198.18.0.67 rate 0\n"
        "attack X flood-data count 4 sources 2 at 1s\n"
        "attack Y flood-data count 3 sources 1 at 1s\n"
        "auth * key \"netsim network key 0123456789\" key-id 7\n"
        "auth Y key \"not the network key 0123456789\"\n"
        "msg m from A to R* size 3000 at 2s\n"
        "expect delivered m R1,R2\n"
        "expect count auth-drop == 21\n"
        "expect stat R1 drop.malformed == 0\n";
    netsim_scenario *sc = netsim_test_parse(text);
    run_result a, b;

    (void)state;
    assert_int_equal(sc->nodes[0].auth_key_len, 29);
    assert_int_equal(sc->nodes[0].auth_key_id, 7);
    assert_int_equal(sc->nodes[2].auth_key_len, 29);
    assert_int_equal(sc->nodes[3].auth_key_len, 0);     /* "*" skips attackers */
    assert_int_equal(sc->nodes[4].auth_key_len, 30);
    assert_int_equal(sc->nodes[4].auth_key_id, 1);
    assert_string_equal(netsim_counter_name(NETSIM_C_AUTH_DROP), "auth-drop");
    run_ops(&netsim_pmul_ops, sc, true, 3, NULL, &a);
    run_ops(&netsim_pmul_ops, sc, true, 3, NULL, &b);
    if (a.fails != 0)
        fail_msg("%ld failures:\n%s", a.fails, a.fail_text);
    assert_int_equal(a.sum.delivered, 2);
    assert_true(a.hash == b.hash);
    netsim_scen_free(sc);
}

static void
test_netsim_run_toy_delivers(void **state)
{
    run_result r;

    (void)state;
    run_clean(lossy_scen, &r);
    assert_int_equal(r.sum.delivered, 12);
    assert_int_equal(r.sum.total, 12);
    assert_int_equal(r.sum.msgs_done, 4);
    assert_true(r.sum.time_us > 0 && r.sum.ratio > 1.0);
}

static void
test_netsim_determinism_same_seed_same_hash(void **state)
{
    netsim_scenario *sc = netsim_test_parse(lossy_scen);
    run_result a, b, c;

    (void)state;
    run(sc, true, 11, NULL, &a);
    run(sc, true, 11, NULL, &b);
    run(sc, true, 12, NULL, &c);
    assert_true(a.hash == b.hash);
    assert_true(a.sum.time_us == b.sum.time_us && a.sum.air_bytes == b.sum.air_bytes);
    if (a.hash == c.hash)
        fail_msg("seeds 11 and 12 gave the same transcript hash %016llx",
                 (unsigned long long)a.hash);
    netsim_scen_free(sc);
}

/* The same with the real P_MUL engine: loss, bursts, duplication and
 * reordering, so that every random stream is exercised. */
static void
test_netsim_pmul_determinism_same_seed_same_hash(void **state)
{
    static const char text[] =
        "defaults rate 9600 delay 30ms\n"
        "node A 198.18.0.1\n"
        "nodes R 3 198.18.0.11\n"
        "loss R1 rx bernoulli 15%\n"
        "loss R2 rx ge 0.05 0.2\n"
        "dup R3 0.1\n"
        "reorder R3 0.2 400ms\n"
        "msgs m 4 from A to R* size 1k-5k prio 2-6 every 1s expiry 1h\n";
    netsim_scenario *sc = netsim_test_parse(text);
    run_result a, b, c;

    (void)state;
    run_ops(&netsim_pmul_ops, sc, true, 21, NULL, &a);
    run_ops(&netsim_pmul_ops, sc, true, 21, NULL, &b);
    run_ops(&netsim_pmul_ops, sc, true, 22, NULL, &c);
    if (a.fails != 0)
        fail_msg("%ld failures:\n%s", a.fails, a.fail_text);
    assert_int_equal(a.sum.delivered, 12);
    assert_true(a.hash == b.hash);
    assert_true(a.sum.time_us == b.sum.time_us && a.sum.air_bytes == b.sum.air_bytes);
    if (a.hash == c.hash)
        fail_msg("seeds 21 and 22 gave the same transcript hash");
    netsim_scen_free(sc);
}

static const char emcon_scen[] =
    "node A 198.18.0.1\n"
    "node B 198.18.0.2\n"
    "node C 198.18.0.3\n"
    "emcon C 0 20s\n"
    "msg m1 from A to B,C size 2000\n"
    "expect delivered m1 C within 20s\n"
    "expect acked m1 C after 20s\n";

static void
test_netsim_emcon_respected(void **state)
{
    run_result r;

    (void)state;
    run_clean(emcon_scen, &r);
}

static void
test_netsim_emcon_violation_detected(void **state)
{
    static const char rogue[] =
        "node A 198.18.0.1\n"
        "node B 198.18.0.2\n"
        "emcon B 0 20s\n"
        "engine rogue 1\n"
        "msg m1 from A to B size 600\n";
    netsim_scenario *sc = netsim_test_parse(rogue);
    run_result r;

    (void)state;
    run(sc, false, 0, NULL, &r);
    /* B acknowledges at once although it is in EMCON: netsim must refuse to
     * send it and report it. */
    assert_true(r.fails >= 1);
    assert_non_null(strstr(r.fail_text, "node B transmitted Ack_PDU in EMCON"));
    netsim_scen_free(sc);
}

static void
test_netsim_expect_mismatch_reported(void **state)
{
    static const char text[] =
        "node A 198.18.0.1\n"
        "node B 198.18.0.2\n"
        "loss B rx mask 1-1000000\n"
        "time-limit 30s\n"
        "msg m1 from A to B size 600\n"
        "expect count lost == 0\n";
    netsim_scenario *sc = netsim_test_parse(text);
    run_result r;

    (void)state;
    run(sc, false, 0, NULL, &r);
    assert_non_null(strstr(r.fail_text, "message m1: B did not get it"));
    assert_non_null(strstr(r.fail_text, "transmitter A never finished it"));
    assert_non_null(strstr(r.fail_text, "FAIL line 6: counter lost is"));
    assert_int_equal(r.sum.delivered, 0);
    netsim_scen_free(sc);
}

/* What the tx hook saw: start time, length and sender of each datagram. */
typedef struct air_log {
    uint64_t t_us[4096];
    size_t len[4096];
    uint32_t src[4096];
    size_t n;
} air_log;

static int
air_log_tx(void *arg, uint64_t t_us, uint32_t src_ip, uint16_t src_port, uint32_t dst_ip,
           uint16_t dst_port, const uint8_t *p, size_t len)
{
    air_log *a = arg;

    (void)src_port, (void)dst_ip, (void)dst_port, (void)p;
    if (a->n < sizeof(a->t_us) / sizeof(a->t_us[0])) {
        a->t_us[a->n] = t_us;
        a->len[a->n] = len;
        a->src[a->n] = src_ip;
        a->n++;
    }
    return 0;
}

/* Run text with the toy engine and count the datagrams that started
 * before the previous one (of any node) ended, and those not from A. */
static void
air_overlaps(const char *text, size_t *overlaps, size_t *others)
{
    netsim_scenario *sc = netsim_test_parse(text);
    static air_log a;
    netsim_opts o;
    netsim *s;
    buf out;
    size_t i;
    uint64_t end = 0;

    memset(&a, 0, sizeof(a));
    memset(&o, 0, sizeof(o));
    o.ops = &toy_ops;
    o.on_tx = air_log_tx;
    o.hook_arg = &a;
    assert_int_equal(netsim_new(&s, sc, &o), 0);
    assert_int_equal(netsim_run(s), 0);
    buf_init(&out, NULL, SIZE_MAX);
    if (netsim_check(s, &out) != 0)
        fail_msg("failures:\n%.*s", (int)out.len, (const char *)out.data);
    buf_fini(&out);
    assert_true(a.n > 20 && a.n < sizeof(a.t_us) / sizeof(a.t_us[0]));
    *overlaps = *others = 0;
    for (i = 0; i < a.n; i++) {
        if (a.t_us[i] < end)
            (*overlaps)++;
        if (a.t_us[i] + netsim_tx_time_us(a.len[i], sc->overhead, 9600) > end)
            end = a.t_us[i] + netsim_tx_time_us(a.len[i], sc->overhead, 9600);
        if (a.src[i] != 0xC6120001u)
            (*others)++;
    }
    netsim_free(s);
    netsim_scen_free(sc);
}

/*
 * On a shared channel no transmission starts before the previous one (of
 * any node) has ended, the receivers' Acks among them; the same traffic
 * on per-node uplinks does overlap (which shows the check can see it).
 */
static void
test_netsim_shared_one_transmission_at_a_time(void **state)
{
    static const char traffic[] =
        "node A 198.18.0.1\n"
        "nodes R 4 198.18.0.11\n"
        "loss * rx bernoulli 0.1\n"
        "msgs m 6 from A to R* size 1000-3000 every 1s\n";
    char text[sizeof(traffic) + 64];
    size_t overlaps, others;

    (void)state;
    air_overlaps(traffic, &overlaps, &others);
    assert_true(overlaps > 0 && others >= 4);
    assert_true(snprintf(text, sizeof(text), "medium shared 9600 delay 20ms\n%s", traffic) > 0);
    air_overlaps(text, &overlaps, &others);
    if (overlaps != 0)
        fail_msg("got %zu overlapping transmissions on the shared channel, want 0", overlaps);
    assert_true(others >= 4);
}

/*
 * An outage drops what the node sends and what reaches it, and its engine
 * is not told.  The toy engine resends every 3 s: A's link is out for the
 * first 4 s, so nothing of its first pass reaches anyone; B's link is out
 * from 4 s to 10 s, so B gets m1 only after that, C before.
 */
static void
test_netsim_outage_in_and_out(void **state)
{
    static const char text[] =
        "node A 198.18.0.1\n"
        "node B 198.18.0.2\n"
        "node C 198.18.0.3\n"
        "outage A 0 4s\n"
        "outage B 4s 10s\n"
        "msg m1 from A to B,C size 2000\n"
        "expect delivered m1 B after 10s\n"
        "expect delivered m1 C after 4s within 10s\n"
        "expect count outage >= 10\n";
    run_result r;

    (void)state;
    run_clean(text, &r);
    assert_int_equal(r.sum.delivered, 2);
}

/*
 * Every failure point of netsim_new and, unless new_only, of netsim_run
 * must give NOMEM (or succeed) and release everything: ASan's leak check
 * watches.  new_only stops at the first budget netsim_new survives (the
 * run's allocations are the same on both media), then runs once with
 * enough for everything.
 */
static void
new_alloc_failure_loop(const char *text, bool new_only)
{
    netsim_scenario *sc = netsim_test_parse(text);
    struct tmem tm;
    mem m = tmem_make(&tm);
    netsim_opts o;
    netsim *s;
    long budget;
    int rc = -1;

    memset(&o, 0, sizeof(o));
    o.ops = &toy_ops;
    o.m = &m;
    for (budget = 0; budget <= 600; budget++) {
        /* The last round has enough for the whole run. */
        tmem_fail_after(&tm, budget);
        tm.armed = budget < 600;
        rc = netsim_new(&s, sc, &o);
        if (rc != 0) {
            assert_int_equal(rc, NETSIM_ERR_NOMEM);
            assert_null(s);
            assert_int_equal(tm.live, 0);
            continue;
        }
        rc = netsim_run(s);
        assert_true(rc == 0 || rc == NETSIM_ERR_NOMEM);
        netsim_free(s);
        assert_int_equal(tm.live, 0);
        if (new_only && budget < 600)
            budget = 599;
    }
    assert_int_equal(rc, 0);
    netsim_scen_free(sc);
}

static void
test_netsim_new_alloc_failure(void **state)
{
    char shared[sizeof(lossy_scen) + 64];

    (void)state;
    new_alloc_failure_loop(lossy_scen, false);
    /* The shared channel's waiting line is one more allocation. */
    assert_true(snprintf(shared, sizeof(shared), "medium shared 9600\n%s", lossy_scen) > 0);
    new_alloc_failure_loop(shared, true);
}

static void
test_netsim_scen_parse_alloc_failure(void **state)
{
    struct tmem tm;
    mem m = tmem_make(&tm);
    netsim_scenario *sc;
    char err[200];
    long budget;
    int rc = -1;

    (void)state;
    for (budget = 0; budget < 200 && rc != 0; budget++) {
        tmem_fail_after(&tm, budget);
        rc = netsim_scen_parse(&sc, good_scen, strlen(good_scen), &m, err, sizeof(err));
        if (rc != 0 && rc != NETSIM_ERR_NOMEM)
            fail_msg("budget %ld: got %d (%s), want 0 or NOMEM", budget, rc, err);
    }
    assert_int_equal(rc, 0);
    netsim_scen_free(sc);
}

/* n1 -> n2, relayed by n2 to n3 (netsim/scenarios/relay_hop.sim, no loss). */
static const char mule_scen[] =
    "seed 3\n"
    "mule on\n"
    "defaults rate 64k delay 10ms\n"
    "node n1 198.18.0.1\n"
    "node n2 198.18.0.2\n"
    "node n3 198.18.0.3\n"
    "route n1 one.example local\n"
    "route n2 one.example group 239.1.1.1 nodes 198.18.0.1\n"
    "route n2 three.example group 239.1.1.3 nodes 198.18.0.3\n"
    "route n3 three.example local\n"
    "msg m1 from n1 to n2 size 1500 mail-from alice@one.example rcpt carol@three.example,x@nowhere.example\n"
    "expect local n3 carol@three.example from alice@one.example same m1 has \"by n2 with MULE\"\n"
    "expect local n1 alice@one.example from <> has \"Status: 5.4.4\"\n"
    "expect count mule-relay == 1\n"
    "expect count mule-dsn == 1\n";

/* The relay and the DSN of one mail: both checks pass, and fail when
 * they must (a wrong count, a text the DSN lacks, another mail). */
static void
test_netsim_mule_relay_and_dsn(void **state)
{
    static const char bad[] =
        "expect local n3 carol@three.example count 2\n"
        "expect local n1 alice@one.example has \"Status: 5.1.1\"\n"
        "msg m2 from n1 to n3 size 1400 mail-from bob@one.example rcpt dan@three.example\n"
        "expect local n3 carol@three.example same m2\n";
    char text[4096];
    netsim_scenario *sc = netsim_test_parse(mule_scen);
    run_result r;

    (void)state;
    run_ops(&netsim_pmul_ops, sc, false, 0, NULL, &r);
    if (r.fails != 0)
        fail_msg("%s", r.fail_text);
    /* m1 and the two messages the MULE layer made, all delivered. */
    assert_int_equal(r.sum.msgs, 3);
    assert_int_equal(r.sum.delivered, 3);
    netsim_scen_free(sc);

    snprintf(text, sizeof(text), "%s%s", mule_scen, bad);
    sc = netsim_test_parse(text);
    run_ops(&netsim_pmul_ops, sc, false, 0, NULL, &r);
    assert_int_equal(r.fails, 3);
    assert_non_null(strstr(r.fail_text, "FAIL line 16: n3 delivered 1 mail to carol@three.example, want 2"));
    assert_non_null(strstr(r.fail_text, "FAIL line 17: n1: mail to alice@one.example (via m1/n2/dsn) lacks"));
    assert_non_null(strstr(r.fail_text, "FAIL line 19: n3: mail to carol@three.example (via m1/n2) differs from m2"));
    netsim_scen_free(sc);
}

/* Every allocation failure on the way (parse aside) gives NOMEM from
 * netsim_new or netsim_run, or a run; nothing leaks (ASan, tmem). */
static void
test_netsim_mule_alloc_failure(void **state)
{
    netsim_scenario *sc = netsim_test_parse(mule_scen);

    (void)state;
    netsim_alloc_sweep(sc, &netsim_pmul_ops, 400, 200);
    netsim_scen_free(sc);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_netsim_heap_order),
        cmocka_unit_test(test_netsim_heap_cap),
        cmocka_unit_test(test_netsim_rng_streams),
        cmocka_unit_test(test_netsim_loss_bernoulli_rate),
        cmocka_unit_test(test_netsim_loss_ge_bursts),
        cmocka_unit_test(test_netsim_loss_masks),
        cmocka_unit_test(test_netsim_jitter_dup_rate),
        cmocka_unit_test(test_netsim_tx_time),
        cmocka_unit_test(test_netsim_txq_limit),
        cmocka_unit_test(test_netsim_scen_parse_good),
        cmocka_unit_test(test_netsim_scen_parse_medium_outage),
        cmocka_unit_test(test_netsim_scen_parse_errors),
        cmocka_unit_test(test_netsim_scen_parse_truncation_loop),
        cmocka_unit_test(test_netsim_mail_exact_size),
        cmocka_unit_test(test_netsim_run_toy_delivers),
        cmocka_unit_test(test_netsim_determinism_same_seed_same_hash),
        cmocka_unit_test(test_netsim_pmul_determinism_same_seed_same_hash),
        cmocka_unit_test(test_netsim_emcon_respected),
        cmocka_unit_test(test_netsim_emcon_violation_detected),
        cmocka_unit_test(test_netsim_expect_mismatch_reported),
        cmocka_unit_test(test_netsim_shared_one_transmission_at_a_time),
        cmocka_unit_test(test_netsim_outage_in_and_out),
        cmocka_unit_test(test_netsim_auth_mode),
        cmocka_unit_test(test_netsim_new_alloc_failure),
        cmocka_unit_test(test_netsim_scen_parse_alloc_failure),
        cmocka_unit_test(test_netsim_mule_relay_and_dsn),
        cmocka_unit_test(test_netsim_mule_alloc_failure),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
