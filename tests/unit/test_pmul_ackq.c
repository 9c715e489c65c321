/*
 * NAME
 *	test_pmul_ackq - unit tests for Ack scheduling and batching
 * SYNOPSIS
 *	meson test -C BUILD --no-rebuild -v pmul_ackq
 * DESCRIPTION
 *	pmul/pmul_ackq.c: due times, one entry per message (the earlier due
 *	wins), all entries of one transmitter sharing the earliest due time,
 *	peek order (due, then insertion) and the batch window, the cap on a
 *	peek, removal, re-spreading with one draw per transmitter in
 *	insertion order, the hard cap and allocation failure.
 * SECURITY
 *	Test code.
 * DIAGNOSTICS
 *	cmocka.
 * SEE ALSO
 *	pmul/pmul_ackq.h
 * LICENSE
 *	MIT, see LICENSE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "pmul/pmul_ackq.h"
#include "pmul/pmul_err.h"
#include "tests/common/alloc.h"

static void
test_pmul_ackq_due_and_dedup(void **state)
{
    pmul_ackq q;
    pmul_ackq_ent out[8];

    (void)state;
    pmul_ackq_init(&q, NULL, 16);
    assert_int_equal(pmul_ackq_next_due(&q), UINT64_MAX);
    assert_int_equal(pmul_ackq_schedule(&q, 1, 10, 500), 0);
    assert_int_equal(pmul_ackq_schedule(&q, 1, 10, 900), 0);    /* keeps 500 */
    assert_int_equal(q.cnt, 1);
    assert_int_equal(pmul_ackq_next_due(&q), 500);
    assert_int_equal(pmul_ackq_schedule(&q, 1, 10, 300), 0);    /* earlier wins */
    assert_int_equal(pmul_ackq_next_due(&q), 300);
    assert_int_equal(pmul_ackq_peek(&q, 299, 0, out, 8), 0);
    assert_int_equal(pmul_ackq_peek(&q, 300, 0, out, 8), 1);
    assert_int_equal(out[0].msid, 10);
    assert_true(pmul_ackq_has(&q, 1, 10));
    pmul_ackq_remove(&q, 1, 10);
    assert_false(pmul_ackq_has(&q, 1, 10));
    pmul_ackq_remove(&q, 1, 10);                                /* no-op */
    assert_int_equal(pmul_ackq_next_due(&q), UINT64_MAX);
    pmul_ackq_fini(&q);
}

/* Entries for one transmitter share the earliest due time; other
 * transmitters are separate batches. */
static void
test_pmul_ackq_batching(void **state)
{
    pmul_ackq q;
    pmul_ackq_ent out[8];
    size_t n;

    (void)state;
    pmul_ackq_init(&q, NULL, 16);
    assert_int_equal(pmul_ackq_schedule(&q, 7, 1, 800), 0);
    assert_int_equal(pmul_ackq_schedule(&q, 9, 5, 400), 0);
    assert_int_equal(pmul_ackq_schedule(&q, 7, 2, 600), 0);     /* pulls 1 in */
    assert_int_equal(pmul_ackq_schedule(&q, 7, 3, 700), 0);     /* joins at 600 */
    n = pmul_ackq_peek(&q, 1000, 0, out, 8);
    assert_int_equal(n, 1);                                     /* src 9 first */
    assert_int_equal(out[0].src, 9);
    pmul_ackq_remove(&q, 9, 5);
    n = pmul_ackq_peek(&q, 600, 0, out, 8);
    assert_int_equal(n, 3);
    assert_int_equal(out[0].msid, 1);                           /* insertion order */
    assert_int_equal(out[1].msid, 2);
    assert_int_equal(out[2].msid, 3);
    assert_int_equal(out[0].due_ms, 600);
    /* A peek returns at most max entries, the first ones. */
    n = pmul_ackq_peek(&q, 600, 0, out, 2);
    assert_int_equal(n, 2);
    assert_int_equal(out[1].msid, 2);
    pmul_ackq_fini(&q);
}

/* Re-key one entry behind the module's back (as if scheduled apart). */
static void
set_due(pmul_ackq *q, uint32_t src, uint32_t msid, uint64_t due)
{
    pmul_ackq_ent *e;
    size_t i;

    for (i = 0; i < heap_len(&q->h); i++) {
        e = heap_at(&q->h, i);
        if (e->src == src && e->msid == msid) {
            e->due_ms = due;
            heap_fix_at(&q->h, i);
            return;
        }
    }
    fail();
}

/* The batch window lets a peek take entries due a little later (after a
 * removal broke the shared due time, for example). */
static void
test_pmul_ackq_batch_window(void **state)
{
    pmul_ackq q;
    pmul_ackq_ent out[8];

    (void)state;
    pmul_ackq_init(&q, NULL, 16);
    assert_int_equal(pmul_ackq_schedule(&q, 7, 1, 100), 0);
    assert_int_equal(pmul_ackq_schedule(&q, 8, 2, 100), 0);
    assert_int_equal(pmul_ackq_schedule(&q, 7, 3, 100), 0);
    set_due(&q, 7, 3, 250);                 /* as if scheduled apart */
    assert_int_equal(pmul_ackq_peek(&q, 100, 100, out, 8), 1);
    assert_int_equal(pmul_ackq_peek(&q, 100, 200, out, 8), 2);
    assert_int_equal(out[1].msid, 3);
    pmul_ackq_fini(&q);
}

static uint64_t draws[4];
static size_t ndraws;

static uint64_t
due_fn(void *arg, uint32_t src)
{
    (void)arg;
    draws[ndraws] = src;
    return 1000 + 100 * ndraws++;
}

static void
test_pmul_ackq_respread(void **state)
{
    pmul_ackq q;
    pmul_ackq_ent out[8];

    (void)state;
    pmul_ackq_init(&q, NULL, 16);
    assert_int_equal(pmul_ackq_schedule(&q, 7, 1, 10), 0);
    assert_int_equal(pmul_ackq_schedule(&q, 8, 2, 5), 0);
    assert_int_equal(pmul_ackq_schedule(&q, 7, 3, 20), 0);
    pmul_ackq_remove(&q, 7, 1);                         /* permutes the array */
    assert_int_equal(pmul_ackq_schedule(&q, 7, 1, 30), 0);
    ndraws = 0;
    pmul_ackq_respread(&q, due_fn, NULL);
    assert_int_equal(ndraws, 2);                        /* one per transmitter */
    assert_int_equal(draws[0], 8);                      /* oldest entry first */
    assert_int_equal(draws[1], 7);
    assert_int_equal(pmul_ackq_next_due(&q), 1000);
    assert_int_equal(pmul_ackq_peek(&q, 1100, 0, out, 8), 1);
    assert_int_equal(out[0].src, 8);
    pmul_ackq_remove(&q, 8, 2);
    assert_int_equal(pmul_ackq_peek(&q, 1100, 0, out, 8), 2);
    pmul_ackq_fini(&q);
}

static void
test_pmul_ackq_caps(void **state)
{
    struct tmem t;
    mem failing = tmem_make(&t);
    pmul_ackq q;
    uint32_t i;

    (void)state;
    tmem_fail_after(&t, 0);
    pmul_ackq_init(&q, NULL, 3);
    for (i = 0; i < 3; i++)
        assert_int_equal(pmul_ackq_schedule(&q, 1, i, 5), 0);
    assert_int_equal(pmul_ackq_schedule(&q, 1, 99, 5), PMUL_ERR_BUSY);
    assert_int_equal(pmul_ackq_schedule(&q, 1, 2, 1), 0);       /* existing: fine */
    pmul_ackq_fini(&q);
    pmul_ackq_init(&q, &failing, 3);
    assert_int_equal(pmul_ackq_schedule(&q, 1, 1, 5), PMUL_ERR_NOMEM);
    assert_int_equal(q.cnt, 0);
    pmul_ackq_fini(&q);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pmul_ackq_due_and_dedup),
        cmocka_unit_test(test_pmul_ackq_batching),
        cmocka_unit_test(test_pmul_ackq_batch_window),
        cmocka_unit_test(test_pmul_ackq_respread),
        cmocka_unit_test(test_pmul_ackq_caps),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
