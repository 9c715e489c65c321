/*
 * NAME
 *	test_pmul_doneset - the receiver's delivered-MSID ranges
 * SYNOPSIS
 *	meson test -C BUILD --no-rebuild -v pmul_doneset
 * DESCRIPTION
 *	Adds in every order merge into the fewest ranges; lookups honour
 *	expiry; the range cap refuses instead of growing (but still
 *	takes members and MSIDs that join a range); pruning gives memory back; the ends of the
 *	MSID space do not wrap; an allocation failure leaves the set as it
 *	was.  A brute-force model checks random adds against a plain array.
 * SECURITY
 *	Test code.
 * DIAGNOSTICS
 *	cmocka.
 * SEE ALSO
 *	pmul/pmul_doneset.h
 * LICENSE
 *	MIT, see LICENSE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pmul/pmul_doneset.h"
#include "pmul/pmul_err.h"
#include "tests/common/alloc.h"

static void
test_pmul_doneset_merges_consecutive(void **state)
{
    struct tmem t;
    mem m = tmem_make(&t);
    pmul_doneset d;
    uint32_t i;

    (void)state;
    pmul_doneset_init(&d, &m, 8);
    for (i = 100; i < 1100; i++)
        assert_int_equal(pmul_doneset_add(&d, i, 50), 0);
    assert_int_equal(d.cnt, 1);
    /* Out of order: 5, 3, then 4 joins them. */
    assert_int_equal(pmul_doneset_add(&d, 5, 60), 0);
    assert_int_equal(pmul_doneset_add(&d, 3, 40), 0);
    assert_int_equal(d.cnt, 3);
    assert_int_equal(pmul_doneset_add(&d, 4, 10), 0);
    assert_int_equal(d.cnt, 2);
    assert_int_equal(d.r[0].lo, 3);
    assert_int_equal(d.r[0].hi, 5);
    assert_int_equal(d.r[0].expiry_s, 60);     /* the latest member's */
    assert_true(pmul_doneset_has(&d, 4, 59));
    assert_false(pmul_doneset_has(&d, 4, 60));
    assert_false(pmul_doneset_has(&d, 6, 0));
    assert_false(pmul_doneset_has(&d, 99, 0));
    assert_true(pmul_doneset_has(&d, 1099, 0));
    assert_false(pmul_doneset_has(&d, 1100, 0));
    /* Re-adding a member extends its range's expiry only. */
    assert_int_equal(pmul_doneset_add(&d, 500, 70), 0);
    assert_int_equal(d.cnt, 2);
    assert_true(pmul_doneset_has(&d, 100, 69));
    pmul_doneset_fini(&d);
    assert_int_equal(t.live, 0);
}

static void
test_pmul_doneset_cap_and_prune(void **state)
{
    struct tmem t;
    mem m = tmem_make(&t);
    pmul_doneset d;

    (void)state;
    pmul_doneset_init(&d, &m, 2);
    assert_int_equal(pmul_doneset_add(&d, 10, 100), 0);
    assert_int_equal(pmul_doneset_add(&d, 20, 200), 0);
    assert_int_equal(pmul_doneset_add(&d, 30, 300), PMUL_ERR_BUSY);
    /* Full, yet a member, or an MSID that joins a range, still goes in. */
    assert_int_equal(pmul_doneset_add(&d, 20, 250), 0);
    assert_int_equal(pmul_doneset_add(&d, 19, 200), 0);
    assert_int_equal(pmul_doneset_add(&d, 11, 100), 0);
    assert_int_equal(d.cnt, 2);
    /* remember: still full, nothing expired yet at 99; at 100, 10-11 go. */
    assert_int_equal(pmul_doneset_remember(&d, 40, 400, 99), PMUL_ERR_BUSY);
    assert_int_equal(d.cnt, 2);
    pmul_doneset_prune(&d, 100);               /* 10-11 expired */
    assert_int_equal(d.cnt, 1);
    assert_int_equal(pmul_doneset_add(&d, 30, 300), 0);
    pmul_doneset_prune(&d, 1000);
    assert_int_equal(d.cnt, 0);
    assert_int_equal(pmul_doneset_bytes(&d), 0);
    assert_int_equal(t.live, 0);
    pmul_doneset_fini(&d);
}

static void
test_pmul_doneset_ends_of_msid_space(void **state)
{
    struct tmem t;
    mem m = tmem_make(&t);
    pmul_doneset d;

    (void)state;
    pmul_doneset_init(&d, &m, 4);
    assert_int_equal(pmul_doneset_add(&d, UINT32_MAX, 5), 0);
    assert_int_equal(pmul_doneset_add(&d, 0, 5), 0);
    assert_int_equal(d.cnt, 2);                /* no wrap-around merge */
    assert_int_equal(pmul_doneset_add(&d, UINT32_MAX - 1, 5), 0);
    assert_int_equal(pmul_doneset_add(&d, 1, 5), 0);
    assert_int_equal(d.cnt, 2);
    assert_true(pmul_doneset_has(&d, UINT32_MAX, 0));
    assert_true(pmul_doneset_has(&d, 0, 0));
    assert_false(pmul_doneset_has(&d, 2, 0));
    pmul_doneset_fini(&d);
    assert_int_equal(t.live, 0);
}

static void
test_pmul_doneset_alloc_failure_changes_nothing(void **state)
{
    struct tmem t;
    mem m = tmem_make(&t);
    pmul_doneset d;
    uint32_t i;

    (void)state;
    pmul_doneset_init(&d, &m, 64);
    for (i = 0; i < 32; i++) {
        tmem_fail_after(&t, 0);
        if (pmul_doneset_add(&d, i * 2, 9) != 0) {
            assert_false(pmul_doneset_has(&d, i * 2, 0));
            t.armed = false;
            assert_int_equal(pmul_doneset_add(&d, i * 2, 9), 0);
        }
        t.armed = false;
        assert_true(pmul_doneset_has(&d, i * 2, 0));
    }
    assert_int_equal(d.cnt, 32);
    pmul_doneset_fini(&d);
    assert_int_equal(t.live, 0);
}

/* Random adds against a bitmap model over a small MSID space. */
static void
test_pmul_doneset_matches_model(void **state)
{
    struct tmem t;
    mem m = tmem_make(&t);
    pmul_doneset d;
    bool model[512];
    uint64_t x = 88172645463325252ull;
    uint32_t i, k, v;
    size_t j;

    (void)state;
    memset(model, 0, sizeof model);
    pmul_doneset_init(&d, &m, 1000);
    for (i = 0; i < 3000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v = (uint32_t)(x % 512);
        assert_int_equal(pmul_doneset_add(&d, v, 1), 0);
        model[v] = true;
        if (i % 97 != 0)
            continue;
        for (k = 0; k < 512; k++)
            assert_int_equal(pmul_doneset_has(&d, k, 0), model[k]);
        /* Ranges ascending, disjoint, never adjacent. */
        for (j = 1; j < d.cnt; j++)
            assert_true(d.r[j - 1].hi + 1 < d.r[j].lo);
    }
    pmul_doneset_fini(&d);
    assert_int_equal(t.live, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pmul_doneset_merges_consecutive),
        cmocka_unit_test(test_pmul_doneset_cap_and_prune),
        cmocka_unit_test(test_pmul_doneset_ends_of_msid_space),
        cmocka_unit_test(test_pmul_doneset_alloc_failure_changes_nothing),
        cmocka_unit_test(test_pmul_doneset_matches_model),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
