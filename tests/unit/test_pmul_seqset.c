/*
 * NAME
 *	test_pmul_seqset - unit tests for sequence-number sets
 * SYNOPSIS
 *	meson test -C BUILD --no-rebuild -v pmul_seqset
 * DESCRIPTION
 *	pmul/pmul_seqset.c: set, test, clear, counting, walking members and
 *	non-members as ranges, the limits (0 refused, 65535 accepted, the
 *	bitmap never above 8 KiB), the highest-member bookkeeping, and
 *	allocation failure leaving the set unchanged.
 * SECURITY
 *	Test code.
 * DIAGNOSTICS
 *	cmocka.
 * SEE ALSO
 *	pmul/pmul_seqset.h
 * LICENSE
 *	MIT, see LICENSE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "pmul/pmul_err.h"
#include "pmul/pmul_seqset.h"
#include "tests/common/alloc.h"

static void
test_pmul_seqset_set_has_count(void **state)
{
    pmul_seqset g;

    (void)state;
    pmul_seqset_init(&g, NULL);
    assert_false(pmul_seqset_has(&g, 1));
    assert_int_equal(pmul_seqset_next_set(&g, 1), 0);
    assert_int_equal(pmul_seqset_next_clear(&g, 1, 10), 1);
    assert_int_equal(pmul_seqset_set(&g, 0), PMUL_ERR_RANGE);
    assert_int_equal(pmul_seqset_set(&g, 5), 1);
    assert_int_equal(pmul_seqset_set(&g, 5), 0);
    assert_int_equal(pmul_seqset_set(&g, 64), 1);
    assert_int_equal(pmul_seqset_set(&g, 65), 1);
    assert_int_equal(pmul_seqset_set(&g, 200), 1);
    assert_true(pmul_seqset_has(&g, 64));
    assert_false(pmul_seqset_has(&g, 63));
    assert_false(pmul_seqset_has(&g, 0));
    assert_false(pmul_seqset_has(&g, 60000));
    assert_int_equal(g.cnt, 4);
    assert_int_equal(g.hi, 200);
    assert_int_equal(pmul_seqset_count_upto(&g, 4), 0);
    assert_int_equal(pmul_seqset_count_upto(&g, 5), 1);
    assert_int_equal(pmul_seqset_count_upto(&g, 64), 2);
    assert_int_equal(pmul_seqset_count_upto(&g, 65), 3);
    assert_int_equal(pmul_seqset_count_upto(&g, 199), 3);
    assert_int_equal(pmul_seqset_count_upto(&g, 65535), 4);
    pmul_seqset_fini(&g);
}

static void
test_pmul_seqset_walk_ranges(void **state)
{
    pmul_seqset g;
    uint16_t s, lo, hi;
    int ranges = 0;

    (void)state;
    pmul_seqset_init(&g, NULL);
    assert_int_equal(pmul_seqset_set_range(&g, 1, 3), 0);
    assert_int_equal(pmul_seqset_set_range(&g, 7, 70), 0);
    assert_int_equal(pmul_seqset_set_range(&g, 5, 4), PMUL_ERR_RANGE);
    assert_int_equal(pmul_seqset_set_range(&g, 0, 4), PMUL_ERR_RANGE);
    assert_int_equal(g.cnt, 3 + 64);
    /* Missing in 1..100: 4..6 and 71..100. */
    for (s = 1; (lo = pmul_seqset_next_clear(&g, s, 100)) != 0; ranges++) {
        hi = pmul_seqset_next_set(&g, lo);
        hi = hi == 0 ? 100 : (uint16_t)(hi - 1);
        if (ranges == 0) {
            assert_int_equal(lo, 4);
            assert_int_equal(hi, 6);
        } else {
            assert_int_equal(lo, 71);
            assert_int_equal(hi, 100);
        }
        if (hi == 100)
            break;
        s = (uint16_t)(hi + 1);
    }
    assert_int_equal(ranges, 1);
    assert_int_equal(pmul_seqset_next_set(&g, 4), 7);
    assert_int_equal(pmul_seqset_next_set(&g, 71), 0);
    assert_int_equal(pmul_seqset_next_clear(&g, 7, 70), 0);
    assert_int_equal(pmul_seqset_next_clear(&g, 7, 71), 71);
    assert_int_equal(pmul_seqset_next_clear(&g, 0, 3), 0);
    pmul_seqset_fini(&g);
}

static void
test_pmul_seqset_clear_and_hi(void **state)
{
    pmul_seqset g;

    (void)state;
    pmul_seqset_init(&g, NULL);
    assert_int_equal(pmul_seqset_set(&g, 3), 1);
    assert_int_equal(pmul_seqset_set(&g, 130), 1);
    pmul_seqset_clear(&g, 130);
    assert_int_equal(g.hi, 3);
    assert_int_equal(g.cnt, 1);
    pmul_seqset_clear(&g, 130);                        /* absent: no-op */
    assert_int_equal(g.cnt, 1);
    pmul_seqset_clear(&g, 3);
    assert_int_equal(g.hi, 0);
    assert_int_equal(g.cnt, 0);
    assert_int_equal(pmul_seqset_set(&g, 9), 1);
    pmul_seqset_clear_all(&g);
    assert_int_equal(g.cnt, 0);
    assert_false(pmul_seqset_has(&g, 9));
    pmul_seqset_fini(&g);
}

static void
test_pmul_seqset_limits(void **state)
{
    pmul_seqset g;

    (void)state;
    pmul_seqset_init(&g, NULL);
    assert_int_equal(pmul_seqset_set(&g, 65535), 1);
    assert_int_equal(g.hi, 65535);
    assert_int_equal(pmul_seqset_bytes(&g), 8192);
    assert_int_equal(pmul_seqset_next_set(&g, 1), 65535);
    assert_int_equal(pmul_seqset_next_clear(&g, 65535, 65535), 0);
    assert_int_equal(pmul_seqset_next_clear(&g, 65534, 65535), 65534);
    assert_int_equal(pmul_seqset_set_range(&g, 1, 65535), 0);
    assert_int_equal(g.cnt, 65535);
    assert_int_equal(pmul_seqset_count_upto(&g, 65535), 65535);
    assert_int_equal(pmul_seqset_bytes(&g), 8192);
    pmul_seqset_fini(&g);
}

static void
test_pmul_seqset_count_neither(void **state)
{
    pmul_seqset a, b;

    (void)state;
    pmul_seqset_init(&a, NULL);
    pmul_seqset_init(&b, NULL);
    assert_int_equal(pmul_seqset_set_range(&a, 1, 10), 0);
    assert_int_equal(pmul_seqset_set_range(&b, 15, 20), 0);
    assert_int_equal(pmul_seqset_count_neither(&a, &b, 30), 4 + 10);
    assert_int_equal(pmul_seqset_count_neither(&a, NULL, 30), 20);
    assert_int_equal(pmul_seqset_count_neither(&a, &b, 64), 48);
    assert_int_equal(pmul_seqset_count_neither(&a, &b, 65), 49);
    pmul_seqset_fini(&a);
    pmul_seqset_fini(&b);
}

static void
test_pmul_seqset_nomem(void **state)
{
    struct tmem t;
    mem failing = tmem_make(&t);
    pmul_seqset g;

    (void)state;
    tmem_fail_after(&t, 0);
    pmul_seqset_init(&g, &failing);
    assert_int_equal(pmul_seqset_set(&g, 1), PMUL_ERR_NOMEM);
    assert_int_equal(pmul_seqset_reserve(&g, 100), PMUL_ERR_NOMEM);
    assert_int_equal(g.cnt, 0);
    assert_false(pmul_seqset_has(&g, 1));
    pmul_seqset_fini(&g);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pmul_seqset_set_has_count),
        cmocka_unit_test(test_pmul_seqset_walk_ranges),
        cmocka_unit_test(test_pmul_seqset_clear_and_hi),
        cmocka_unit_test(test_pmul_seqset_limits),
        cmocka_unit_test(test_pmul_seqset_count_neither),
        cmocka_unit_test(test_pmul_seqset_nomem),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
