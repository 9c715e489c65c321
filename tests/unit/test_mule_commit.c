/*
 * test_mule_commit.c: unit tests of mule/mule_commit (group commit of
 * SMTP/LMTP mail: which mails join a batch, which reply each gets).
 *
 * Scripts of (now_ms, push/take/done) steps: window 0 takes what is ready
 * at once; a window holds the first mail until it ends or the batch is
 * full; one batch at a time, the mails of the next wait; each mail's
 * reply follows its own spool result (one failure does not fail the
 * others); a session that leaves before its batch is forgotten, one that
 * leaves during it gets no reply but is released; caps and bad calls;
 * allocation failure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mule/mule_commit.h"
#include "mule/mule_err.h"
#include "test_common.h"

static mule_commit *
mk(uint64_t window_ms, size_t max_batch, size_t max_waiting)
{
    mule_commit_cfg cfg = {window_ms, max_batch, max_waiting};
    mule_commit *c = NULL;

    assert_int_equal(mule_commit_new(&c, &cfg, NULL), 0);
    return c;
}

static void
test_mule_commit_window0_takes_ready(void **state)
{
    mule_commit *c = mk(0, 0, 0);
    uint64_t tok[8];
    int rc[3] = {0, 0, 0};
    mule_commit_reply r;
    (void)state;

    assert_int_equal(mule_commit_deadline(c), UINT64_MAX);
    assert_int_equal(mule_commit_take(c, 10, tok, 8), 0);
    for (uint64_t t = 1; t <= 3; t++)
        assert_int_equal(mule_commit_push(c, 10, t), 0);
    assert_int_equal(mule_commit_deadline(c), 10);
    assert_int_equal(mule_commit_take(c, 10, tok, 8), 3);
    assert_int_equal(tok[0], 1);
    assert_int_equal(tok[2], 3);
    assert_true(mule_commit_busy(c));
    assert_false(mule_commit_poll(c, &r));
    assert_int_equal(mule_commit_done(c, rc, 3), 0);
    for (uint64_t t = 1; t <= 3; t++) {
        assert_true(mule_commit_poll(c, &r));
        assert_int_equal(r.token, t);
        assert_int_equal(r.code, 250);
        assert_string_equal(r.enh, "2.0.0");
        assert_false(r.cancelled);
    }
    assert_false(mule_commit_poll(c, &r));
    mule_commit_free(c);
}

/* Mails completed while a batch is written wait and form the next one. */
static void
test_mule_commit_one_batch_at_a_time(void **state)
{
    mule_commit *c = mk(0, 0, 0);
    uint64_t tok[8];
    int ok[4] = {0, 0, 0, 0};
    mule_commit_reply r;
    (void)state;

    assert_int_equal(mule_commit_push(c, 0, 100), 0);
    assert_int_equal(mule_commit_take(c, 0, tok, 8), 1);
    assert_int_equal(mule_commit_push(c, 1, 101), 0);
    assert_int_equal(mule_commit_push(c, 2, 102), 0);
    assert_int_equal(mule_commit_deadline(c), UINT64_MAX);
    assert_int_equal(mule_commit_take(c, 5, tok, 8), 0);
    assert_int_equal(mule_commit_done(c, ok, 1), 0);
    assert_int_equal(mule_commit_take(c, 6, tok, 8), 2);
    assert_int_equal(tok[0], 101);
    assert_int_equal(tok[1], 102);
    /* The first batch's reply is still there before the second's. */
    assert_true(mule_commit_poll(c, &r));
    assert_int_equal(r.token, 100);
    assert_false(mule_commit_poll(c, &r));
    assert_int_equal(mule_commit_done(c, ok, 2), 0);
    assert_true(mule_commit_poll(c, &r));
    assert_int_equal(r.token, 101);
    assert_true(mule_commit_poll(c, &r));
    assert_int_equal(r.token, 102);
    mule_commit_free(c);
}

/* A window holds the batch open until it ends or max_batch is reached;
 * take() returns at most cap and max_batch tokens. */
static void
test_mule_commit_window_and_caps(void **state)
{
    mule_commit *c = mk(5, 3, 0);
    uint64_t tok[8];
    int ok[3] = {0, 0, 0};
    (void)state;

    assert_int_equal(mule_commit_push(c, 100, 1), 0);
    assert_int_equal(mule_commit_deadline(c), 105);
    assert_int_equal(mule_commit_take(c, 104, tok, 8), 0);
    assert_int_equal(mule_commit_take(c, 105, tok, 8), 1);
    assert_int_equal(mule_commit_done(c, ok, 1), 0);
    /* Full before the window ends: at once. */
    for (uint64_t t = 2; t <= 5; t++)
        assert_int_equal(mule_commit_push(c, 200, t), 0);
    assert_int_equal(mule_commit_deadline(c), 200);
    assert_int_equal(mule_commit_take(c, 200, tok, 2), 2);     /* cap */
    assert_int_equal(mule_commit_done(c, ok, 2), 0);
    assert_int_equal(mule_commit_take(c, 201, tok, 8), 0);     /* 1 left, window */
    assert_int_equal(mule_commit_deadline(c), 205);
    assert_int_equal(mule_commit_take(c, 205, tok, 8), 2);
    assert_int_equal(tok[0], 4);
    assert_int_equal(tok[1], 5);
    assert_int_equal(mule_commit_done(c, ok, 2), 0);
    mule_commit_free(c);

    /* A window near UINT64_MAX saturates instead of wrapping. */
    c = mk(UINT64_MAX - 1, 0, 0);
    assert_int_equal(mule_commit_push(c, 10, 1), 0);
    assert_int_equal(mule_commit_deadline(c), UINT64_MAX);
    assert_int_equal(mule_commit_take(c, UINT64_MAX - 1, tok, 8), 0);
    mule_commit_free(c);
}

/* Each mail's reply follows its own spool result. */
static void
test_mule_commit_failure_is_per_mail(void **state)
{
    static const struct { int rc, code; const char *enh; } want[] = {
        {0, 250, "2.0.0"},
        {MULE_ERR_SPOOL_FULL, 452, "4.3.1"},
        {0, 250, "2.0.0"},
        {MULE_ERR_SPOOL_IO, 452, "4.3.1"},
        {MULE_ERR_INVAL, 554, "5.3.4"},
        {MULE_ERR_NOMEM, 452, "4.3.1"},
        {MULE_ERR_SPOOL_FULL_Q, 452, "4.3.1"},
    };
    size_t n = sizeof(want) / sizeof(want[0]);
    mule_commit *c = mk(0, 0, 0);
    uint64_t tok[8];
    int rc[8];
    mule_commit_reply r;
    (void)state;

    for (size_t i = 0; i < n; i++) {
        assert_int_equal(mule_commit_push(c, 0, 1000 + i), 0);
        rc[i] = want[i].rc;
    }
    assert_int_equal(mule_commit_take(c, 0, tok, 8), n);
    assert_int_equal(mule_commit_done(c, rc, n), 0);
    for (size_t i = 0; i < n; i++) {
        assert_true(mule_commit_poll(c, &r));
        if (r.token != 1000 + i || r.code != want[i].code || strcmp(r.enh, want[i].enh) != 0)
            fail_msg("mail %zu: got token %llu %d %s, want %d %s", i,
                     (unsigned long long)r.token, r.code, r.enh, want[i].code, want[i].enh);
        assert_int_equal(r.rc, want[i].rc);
    }
    mule_commit_free(c);
}

/* Leaving before the batch: forgotten at once.  During: released with
 * cancelled set, after the batch. */
static void
test_mule_commit_cancel(void **state)
{
    mule_commit *c = mk(0, 0, 0);
    uint64_t tok[8];
    int ok[2] = {0, 0};
    mule_commit_reply r;
    (void)state;

    assert_int_equal(mule_commit_push(c, 0, 1), 0);
    assert_int_equal(mule_commit_push(c, 0, 2), 0);
    assert_true(mule_commit_cancel(c, 1));
    assert_false(mule_commit_cancel(c, 1));     /* unknown now */
    assert_int_equal(mule_commit_take(c, 0, tok, 8), 1);
    assert_int_equal(tok[0], 2);
    assert_int_equal(mule_commit_push(c, 0, 3), 0);
    assert_false(mule_commit_cancel(c, 2));     /* being written */
    assert_true(mule_commit_cancel(c, 3));      /* waiting */
    assert_int_equal(mule_commit_done(c, ok, 1), 0);
    assert_true(mule_commit_poll(c, &r));
    assert_int_equal(r.token, 2);
    assert_true(r.cancelled);
    assert_false(mule_commit_poll(c, &r));
    assert_int_equal(mule_commit_deadline(c), UINT64_MAX);
    /* Cancelled after done, before poll: still released once. */
    assert_int_equal(mule_commit_push(c, 0, 4), 0);
    assert_int_equal(mule_commit_take(c, 0, tok, 8), 1);
    assert_int_equal(mule_commit_done(c, ok, 1), 0);
    assert_false(mule_commit_cancel(c, 4));
    assert_true(mule_commit_poll(c, &r));
    assert_true(r.cancelled);
    mule_commit_free(c);
}

static void
test_mule_commit_limits_and_misuse(void **state)
{
    mule_commit *c = mk(0, 0, 2);
    uint64_t tok[4];
    int ok[4] = {0, 0, 0, 0};
    struct tmem tm = {false, 0, 0};
    mem m = tmem_make(&tm);
    (void)state;

    assert_int_equal(mule_commit_push(c, 0, 1), 0);
    assert_int_equal(mule_commit_push(c, 0, 1), MULE_ERR_INVAL);    /* held */
    assert_int_equal(mule_commit_push(c, 0, 2), 0);
    assert_int_equal(mule_commit_push(c, 0, 3), MULE_ERR_SPOOL_FULL_Q);
    assert_int_equal(mule_commit_done(c, ok, 0), MULE_ERR_INVAL);   /* no batch */
    assert_int_equal(mule_commit_take(c, 0, NULL, 4), 0);
    assert_int_equal(mule_commit_take(c, 0, tok, 0), 0);
    assert_int_equal(mule_commit_take(c, 0, tok, 4), 2);
    assert_int_equal(mule_commit_done(c, ok, 1), MULE_ERR_INVAL);   /* wrong n */
    assert_int_equal(mule_commit_done(c, NULL, 2), MULE_ERR_INVAL);
    assert_true(mule_commit_busy(c));
    assert_int_equal(mule_commit_done(c, ok, 2), 0);
    mule_commit_free(c);                /* replies not polled: no leak */
    mule_commit_free(NULL);
    assert_int_equal(mule_commit_new(NULL, NULL, NULL), MULE_ERR_INVAL);
    assert_int_equal(mule_commit_push(NULL, 0, 1), MULE_ERR_INVAL);
    assert_false(mule_commit_cancel(NULL, 1));
    assert_false(mule_commit_busy(NULL));

    /* Every allocation failing in turn: NOMEM and nothing left behind. */
    for (long k = 0;; k++) {
        int rc;

        tm.armed = true;
        tm.left = k;
        c = NULL;
        rc = mule_commit_new(&c, NULL, &m);
        tm.armed = false;
        if (rc == 0) {
            mule_commit_free(c);
            assert_true(k >= 2);
            break;
        }
        assert_int_equal(rc, MULE_ERR_NOMEM);
        assert_null(c);
        assert_int_equal(tm.live, 0);
    }
    assert_int_equal(tm.live, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mule_commit_window0_takes_ready),
        cmocka_unit_test(test_mule_commit_one_batch_at_a_time),
        cmocka_unit_test(test_mule_commit_window_and_caps),
        cmocka_unit_test(test_mule_commit_failure_is_per_mail),
        cmocka_unit_test(test_mule_commit_cancel),
        cmocka_unit_test(test_mule_commit_limits_and_misuse),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
