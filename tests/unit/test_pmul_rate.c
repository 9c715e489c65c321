/*
 * NAME
 *	test_pmul_rate - unit tests for pacing and the retransmission timeout
 * SYNOPSIS
 *	meson test -C BUILD --no-rebuild -v pmul_rate
 * DESCRIPTION
 *	pmul/pmul_rate.c: airtime with the 28 octets of IP/UDP counted, pacing
 *	at 9600 bit/s without drift from millisecond rounding, an idle link
 *	restarting from now, no pacing at rate 0; the RFC 6298 estimator; the
 *	timeout formula term by term, BACK-OFF_FACTOR, the clamps, the fixed
 *	ACP mode; the receiver's tail wait.
 * SECURITY
 *	Test code.
 * DIAGNOSTICS
 *	cmocka.
 * SEE ALSO
 *	pmul/pmul_rate.h, docs/engine.md
 * LICENSE
 *	MIT, see LICENSE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pmul/pmul_rate.h"

static void
test_pmul_rate_airtime(void **state)
{
    pmul_rate r;

    (void)state;
    pmul_rate_init(&r, 9600, 1000, 60000, 100, false);
    /* (1024 + 28) * 8 / 9600 s = 876.667 ms, rounded up in us. */
    assert_int_equal(pmul_rate_airtime_us(&r, 1024), 876667);
    assert_int_equal(pmul_rate_airtime_ms(&r, 1024), 877);
    assert_int_equal(pmul_rate_airtime_us(&r, 32), 50000);
    pmul_rate_init(&r, 0, 1000, 60000, 100, false);
    assert_int_equal(pmul_rate_airtime_us(&r, 1024), 0);
    assert_true(pmul_rate_ready(&r, 0));
}

/* 100 full PDUs at 9600 bit/s, each sent at the first millisecond the
 * pacer allows: the 100th leaves at 99 * 876.667 ms, not later. */
static void
test_pmul_rate_pacing_no_drift(void **state)
{
    pmul_rate r;
    uint64_t t = 0;
    int i;

    (void)state;
    pmul_rate_init(&r, 9600, 1000, 60000, 100, false);
    for (i = 0; i < 100; i++) {
        assert_true(pmul_rate_ready(&r, t));
        if (t > 0)
            assert_false(pmul_rate_ready(&r, t - 1));
        pmul_rate_sent(&r, t, 1024);
        t = pmul_rate_next_ms(&r);
    }
    /* 100 * 876666.67 us = 87666.67 ms: the 101st may leave at 87667. */
    assert_int_equal(t, 87667);
}

static void
test_pmul_rate_idle_link_restarts(void **state)
{
    pmul_rate r;

    (void)state;
    pmul_rate_init(&r, 9600, 1000, 60000, 100, false);
    pmul_rate_sent(&r, 0, 32);
    assert_int_equal(pmul_rate_next_ms(&r), 50);
    pmul_rate_sent(&r, 5000, 32);                   /* idle in between */
    assert_int_equal(pmul_rate_next_ms(&r), 5050);
}

/* A shared channel: what we hear while ours waits delays ours by its
 * airtime; heard while nothing of ours waits, it changes nothing. */
static void
test_pmul_rate_heard_on_shared_channel(void **state)
{
    pmul_rate r;

    (void)state;
    pmul_rate_init(&r, 9600, 1000, 60000, 100, false);
    pmul_rate_heard(&r, 0, 32);                     /* idle: free now */
    assert_true(pmul_rate_ready(&r, 0));
    pmul_rate_sent(&r, 0, 1024);                    /* ours until 876.667 ms */
    pmul_rate_heard(&r, 100, 32);                   /* an Ack: 50 ms of air */
    assert_int_equal(pmul_rate_next_ms(&r), 927);
    assert_false(pmul_rate_ready(&r, 926));
    pmul_rate_heard(&r, 927, 32);                   /* ours has left */
    assert_int_equal(pmul_rate_next_ms(&r), 927);
    /* Ten full datagrams heard at 1100 ms: one transmission at a time, so
     * together they were on the air since the last one heard (927 ms), not
     * for ten airtimes: 173 ms count. */
    pmul_rate_sent(&r, 1000, 1024);                 /* ours until 1876.667 */
    for (int i = 0; i < 10; i++)
        pmul_rate_heard(&r, 1100, 1024);
    assert_int_equal(pmul_rate_next_ms(&r), 2050);  /* 1876.667 + 173 */
    pmul_rate_init(&r, 0, 1000, 60000, 100, false); /* unpaced */
    pmul_rate_heard(&r, 0, 1024);
    assert_true(pmul_rate_ready(&r, 0));
}

static void
test_pmul_rate_estimator(void **state)
{
    pmul_rate r;

    (void)state;
    pmul_rate_init(&r, 9600, 1000, 60000, 100, false);
    assert_false(r.have_sample);
    pmul_rate_sample(&r, 800);
    assert_int_equal(r.srtt_ms, 800);
    assert_int_equal(r.rttvar_ms, 400);
    pmul_rate_sample(&r, 1600);
    assert_int_equal(r.rttvar_ms, (3 * 400 + 800) / 4);
    assert_int_equal(r.srtt_ms, (7 * 800 + 1600) / 8);
    pmul_rate_sample(&r, 4000000);                  /* clamped to max */
    assert_true(r.srtt_ms < 60000);
}

/* Without timestamps: the smallest of the last 8 delays, plus half. */
static void
test_pmul_rate_raw_min_window(void **state)
{
    pmul_rate r;
    uint32_t i;

    (void)state;
    pmul_rate_init(&r, 9600, 1000, 60000, 100, false);
    assert_int_equal(pmul_rate_rtt_ms(&r), 0);
    pmul_rate_sample_raw(&r, 900);
    pmul_rate_sample_raw(&r, 400);
    pmul_rate_sample_raw(&r, 2000);
    assert_int_equal(pmul_rate_rtt_ms(&r), 600);
    for (i = 0; i < 7; i++)                         /* 400 falls out */
        pmul_rate_sample_raw(&r, 1000);
    assert_int_equal(pmul_rate_rtt_ms(&r), 1500);
    pmul_rate_sample(&r, 100);                      /* timestamped wins */
    assert_int_equal(pmul_rate_rtt_ms(&r), 100 + 4 * 50);
}

/* Octets of more urgent data queued first add their airtime. */
static void
test_pmul_rate_rto_queued(void **state)
{
    pmul_rate r;
    pmul_rto_in in;

    (void)state;
    pmul_rate_init(&r, 9600, 0, 600000, 100, false);
    memset(&in, 0, sizeof(in));
    pmul_rate_sample(&r, 100);                      /* 100 + 200 */
    assert_int_equal(pmul_rate_rto_ms(&r, &in), 300);
    in.queued_len = 1200;                           /* 1 s at 9600 bit/s */
    assert_int_equal(pmul_rate_rto_ms(&r, &in), 1300);
}

/* Back-off multiplies the wait for answers, not the queue's airtime: a
 * third round behind 20 s of queue waits 20 s + 4 x 300 ms, not 4 x
 * 20.3 s (which the 120 s bound then held long after the queue left). */
static void
test_pmul_rate_rto_queue_not_backed_off(void **state)
{
    pmul_rate r;
    pmul_rto_in in;

    (void)state;
    pmul_rate_init(&r, 9600, 0, 120000, 200, false);
    memset(&in, 0, sizeof(in));
    pmul_rate_sample(&r, 100);                      /* 100 + 200 */
    in.round = 2;
    assert_int_equal(pmul_rate_rto_ms(&r, &in), 1200);
    in.queued_len = 24000;                          /* 20 s at 9600 bit/s */
    assert_int_equal(pmul_rate_rto_ms(&r, &in), 21200);
    in.queued_len = 240000;                         /* 200 s: the bound holds */
    assert_int_equal(pmul_rate_rto_ms(&r, &in), 120000);
}

static void
test_pmul_rate_ack_spread(void **state)
{
    pmul_rate r;

    (void)state;
    pmul_rate_init(&r, 9600, 1000, 60000, 100, false);
    /* 64-octet Acks: 76.667 ms each, two per receiver. */
    assert_int_equal(pmul_rate_ack_spread_ms(&r, 3, 64, 1000), 461);
    assert_int_equal(pmul_rate_ack_spread_ms(&r, 30, 64, 1000), 1000);
    assert_int_equal(pmul_rate_ack_spread_ms(&r, 0, 64, 1000), 1000);
    pmul_rate_init(&r, 0, 1000, 60000, 100, false);
    assert_int_equal(pmul_rate_ack_spread_ms(&r, 3, 64, 1000), 1000);
}

static void
test_pmul_rate_rto_formula(void **state)
{
    pmul_rate r;
    pmul_rto_in in;

    (void)state;
    pmul_rate_init(&r, 9600, 1000, 600000, 150, false);
    memset(&in, 0, sizeof(in));
    in.pending_dests = 10;
    in.ack_len = 64;                                /* 92 octets: 76.667 ms */
    in.pdu_len = 1024;
    in.ack_spread_ms = 1000;
    in.ack_batch_ms = 200;
    in.tail_ms = 1754;
    /* No sample: 2 * 877 + 300, + 1000 + 200 + 767 (10 Acks) + 1754. */
    assert_int_equal(pmul_rate_rto_ms(&r, &in), 2054 + 1000 + 200 + 767 + 1754);
    pmul_rate_sample(&r, 400);                      /* srtt 400, var 200 */
    assert_int_equal(pmul_rate_rto_ms(&r, &in), 1200 + 1000 + 200 + 767 + 1754);
    in.round = 2;                                   /* x 1.5 x 1.5 */
    assert_int_equal(pmul_rate_rto_ms(&r, &in), (4921 * 150 / 100) * 150 / 100);
    in.round = 50;
    assert_int_equal(pmul_rate_rto_ms(&r, &in), 600000);
    in.round = 0;
    in.pending_dests = 0;
    in.ack_spread_ms = in.ack_batch_ms = in.tail_ms = 0;
    assert_int_equal(pmul_rate_rto_ms(&r, &in), 1200);
    pmul_rate_init(&r, 9600, 3000, 600000, 150, false);
    pmul_rate_sample(&r, 100);
    assert_int_equal(pmul_rate_rto_ms(&r, &in), 3000);  /* min clamp */
    /* Issue 12 fix 3: at 64 kbit/s the floor is four PDU airtimes plus
     * the round trip, not the configured 2 s (its upper clamp). */
    pmul_rate_init(&r, 64000, 2000, 600000, 150, false);
    pmul_rate_sample(&r, 100);
    assert_int_equal(pmul_rate_rto_ms(&r, &in), 4 * pmul_rate_airtime_ms(&r, 1024) + 300);
    pmul_rate_init(&r, 0, 2000, 600000, 150, false);     /* no rate: as configured */
    pmul_rate_sample(&r, 100);
    assert_int_equal(pmul_rate_rto_ms(&r, &in), 2000);
}

/* ACP mode: ACK_RE-TRANSMISSION_TIME x BACK-OFF_FACTOR^n. */
static void
test_pmul_rate_fixed_mode(void **state)
{
    pmul_rate r;
    pmul_rto_in in;

    (void)state;
    pmul_rate_init(&r, 9600, 5000, 600000, 200, true);
    memset(&in, 0, sizeof(in));
    in.pending_dests = 50;
    pmul_rate_sample(&r, 100);
    assert_int_equal(pmul_rate_rto_ms(&r, &in), 5000);
    in.round = 3;
    assert_int_equal(pmul_rate_rto_ms(&r, &in), 40000);
    pmul_rate_init(&r, 9600, 5000, 600000, 50, true);   /* below 1.0: 1.0 */
    assert_int_equal(pmul_rate_rto_ms(&r, &in), 5000);
}

static void
test_pmul_rate_tail(void **state)
{
    pmul_rate r;

    (void)state;
    pmul_rate_init(&r, 9600, 1000, 60000, 100, false);
    assert_int_equal(pmul_rate_tail_ms(&r, 0, 1024, 200, 10000), 439);
    assert_int_equal(pmul_rate_tail_ms(&r, 2, 1024, 200, 10000), 2192);
    assert_int_equal(pmul_rate_tail_ms(&r, 100, 1024, 200, 10000), 10000);
    pmul_rate_init(&r, 0, 1000, 60000, 100, false);
    assert_int_equal(pmul_rate_tail_ms(&r, 5, 1024, 200, 10000), 200);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pmul_rate_airtime),
        cmocka_unit_test(test_pmul_rate_pacing_no_drift),
        cmocka_unit_test(test_pmul_rate_idle_link_restarts),
        cmocka_unit_test(test_pmul_rate_heard_on_shared_channel),
        cmocka_unit_test(test_pmul_rate_estimator),
        cmocka_unit_test(test_pmul_rate_raw_min_window),
        cmocka_unit_test(test_pmul_rate_rto_queued),
        cmocka_unit_test(test_pmul_rate_rto_queue_not_backed_off),
        cmocka_unit_test(test_pmul_rate_ack_spread),
        cmocka_unit_test(test_pmul_rate_rto_formula),
        cmocka_unit_test(test_pmul_rate_fixed_mode),
        cmocka_unit_test(test_pmul_rate_tail),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
