/*
 * NAME
 *	test_pmul_rob - unit tests for the reassembly buffer
 * SYNOPSIS
 *	meson test -C BUILD --no-rebuild -v pmul_rob
 * DESCRIPTION
 *	pmul/pmul_rob.c: in-order and out-of-order reassembly to the exact
 *	bytes, duplicates (the first copy wins), fragments before the total is
 *	known and above it, fragments of unequal and zero size, the two byte
 *	budgets and max_len (refusals change nothing), charges given back on
 *	fini and on assembly, and allocation failure.
 * SECURITY
 *	Test code.
 * DIAGNOSTICS
 *	cmocka.
 * SEE ALSO
 *	pmul/pmul_rob.h
 * LICENSE
 *	MIT, see LICENSE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pmul/pmul_err.h"
#include "pmul/pmul_rob.h"
#include "tests/common/alloc.h"

static void
frag_of(uint8_t *b, uint16_t seq, size_t len)
{
    for (size_t i = 0; i < len; i++)
        b[i] = (uint8_t)(seq * 17u + i);
}

static void
check_msg(const uint8_t *p, size_t len, uint16_t total, size_t flen)
{
    uint8_t want[256];
    size_t off = 0;

    assert_int_equal(len, total * flen);
    for (uint16_t s = 1; s <= total; s++, off += flen) {
        frag_of(want, s, flen);
        assert_memory_equal(p + off, want, flen);
    }
}

static void
run_order(const uint16_t *order, size_t n, uint16_t total)
{
    pmul_budget src = { 0, 100000 }, all = { 0, 100000 };
    pmul_rob r;
    uint8_t b[100], *out;
    size_t len, i;

    pmul_rob_init(&r, NULL, 1u << 20, &src, &all);
    assert_int_equal(pmul_rob_set_total(&r, total), 0);
    for (i = 0; i < n; i++) {
        frag_of(b, order[i], 100);
        assert_false(pmul_rob_is_complete(&r));
        assert_int_equal(pmul_rob_put(&r, order[i], b, 100), 1);
    }
    assert_true(pmul_rob_is_complete(&r));
    assert_true(src.used > total * 100u);
    assert_int_equal(src.used, all.used);
    assert_int_equal(pmul_rob_assemble(&r, &out, &len), 0);
    assert_int_equal(src.used, 0);
    assert_int_equal(all.used, 0);
    check_msg(out, len, total, 100);
    free(out);
    pmul_rob_fini(&r);
}

static void
test_pmul_rob_in_order(void **state)
{
    static const uint16_t o[] = { 1, 2, 3, 4, 5 };

    (void)state;
    run_order(o, 5, 5);
}

static void
test_pmul_rob_out_of_order(void **state)
{
    static const uint16_t o[] = { 5, 3, 1, 4, 2 };

    (void)state;
    run_order(o, 5, 5);
}

static void
test_pmul_rob_duplicates_first_wins(void **state)
{
    pmul_rob r;
    uint8_t a[10], z[10], *out;
    size_t len;

    (void)state;
    memset(z, 0, sizeof(z));
    frag_of(a, 1, 10);
    pmul_rob_init(&r, NULL, 1000, NULL, NULL);
    assert_int_equal(pmul_rob_put(&r, 1, a, 10), 1);
    assert_int_equal(pmul_rob_put(&r, 1, z, 10), 0);
    assert_int_equal(pmul_rob_put(&r, 0, a, 10), PMUL_ERR_RANGE);
    assert_int_equal(pmul_rob_set_total(&r, 1), 0);
    assert_int_equal(pmul_rob_assemble(&r, &out, &len), 0);
    assert_memory_equal(out, a, 10);
    free(out);
    pmul_rob_fini(&r);
}

/* Early fragments above the total that arrives later are never part of
 * the message; fragments above a known total are refused. */
static void
test_pmul_rob_total_after_fragments(void **state)
{
    pmul_budget src = { 0, 100000 };
    pmul_rob r;
    uint8_t b[50], *out;
    size_t len;

    (void)state;
    pmul_rob_init(&r, NULL, 100000, &src, NULL);
    frag_of(b, 4, 50);
    assert_int_equal(pmul_rob_put(&r, 4, b, 50), 1);
    frag_of(b, 2, 50);
    assert_int_equal(pmul_rob_put(&r, 2, b, 50), 1);
    assert_int_equal(pmul_rob_count(&r), 2);
    assert_int_equal(pmul_rob_set_total(&r, 0), PMUL_ERR_RANGE);
    assert_int_equal(pmul_rob_set_total(&r, 2), 0);
    assert_int_equal(pmul_rob_count(&r), 1);
    assert_int_equal(pmul_rob_put(&r, 3, b, 50), PMUL_ERR_INCONSISTENT);
    frag_of(b, 1, 50);
    assert_int_equal(pmul_rob_put(&r, 1, b, 50), 1);
    assert_true(pmul_rob_is_complete(&r));
    assert_int_equal(pmul_rob_assemble(&r, &out, &len), 0);
    check_msg(out, len, 2, 50);
    assert_int_equal(src.used, 0);
    free(out);
    pmul_rob_fini(&r);
}

/* Unequal and empty fragments are concatenated as they are. */
static void
test_pmul_rob_unequal_fragments(void **state)
{
    pmul_rob r;
    uint8_t *out;
    size_t len;

    (void)state;
    pmul_rob_init(&r, NULL, 1000, NULL, NULL);
    assert_int_equal(pmul_rob_set_total(&r, 3), 0);
    assert_int_equal(pmul_rob_put(&r, 3, (const uint8_t *)"xyz", 3), 1);
    assert_int_equal(pmul_rob_put(&r, 2, NULL, 0), 1);
    assert_int_equal(pmul_rob_put(&r, 1, (const uint8_t *)"ab", 2), 1);
    assert_int_equal(pmul_rob_assemble(&r, &out, &len), 0);
    assert_int_equal(len, 5);
    assert_memory_equal(out, "abxyz", 5);
    free(out);
    pmul_rob_fini(&r);
}

static void
test_pmul_rob_budgets(void **state)
{
    pmul_budget src = { 0, 1000 }, all = { 0, 1500 }, src2 = { 0, 1000 };
    pmul_rob r, r2;
    uint8_t b[400] = { 0 };
    size_t before;

    (void)state;
    pmul_rob_init(&r, NULL, 100000, &src, &all);
    pmul_rob_init(&r2, NULL, 100000, &src2, &all);
    assert_int_equal(pmul_rob_put(&r, 1, b, 400), 1);
    assert_int_equal(pmul_rob_put(&r, 2, b, 400), 1);
    before = src.used;
    /* The source budget stops it; nothing changes. */
    assert_int_equal(pmul_rob_put(&r, 3, b, 400), PMUL_ERR_BUSY);
    assert_int_equal(src.used, before);
    assert_false(pmul_rob_has(&r, 3));
    /* Another source has its own share, but the total is global. */
    assert_int_equal(pmul_rob_put(&r2, 1, b, 400), 1);
    assert_int_equal(pmul_rob_put(&r2, 2, b, 400), PMUL_ERR_BUSY);
    assert_true(all.used <= all.cap);
    pmul_rob_fini(&r);
    assert_int_equal(src.used, 0);
    assert_int_equal(pmul_rob_put(&r2, 2, b, 400), 1);
    pmul_rob_fini(&r2);
    assert_int_equal(all.used, 0);
    assert_int_equal(src2.used, 0);
}

static void
test_pmul_rob_max_len(void **state)
{
    pmul_rob r;
    uint8_t b[60] = { 0 };

    (void)state;
    pmul_rob_init(&r, NULL, 100, NULL, NULL);
    assert_int_equal(pmul_rob_put(&r, 1, b, 60), 1);
    assert_int_equal(pmul_rob_put(&r, 2, b, 41), PMUL_ERR_BUSY);
    assert_int_equal(pmul_rob_put(&r, 2, b, 40), 1);
    assert_int_equal(pmul_rob_set_total(&r, 3), 0);
    assert_int_equal(pmul_rob_assemble(&r, &(uint8_t *){ NULL }, &(size_t){ 0 }),
                     PMUL_ERR_INVAL);
    pmul_rob_fini(&r);
}

static void
test_pmul_rob_nomem(void **state)
{
    struct tmem t;
    mem m = tmem_make(&t);
    pmul_budget src = { 0, 100000 };
    pmul_rob r;
    uint8_t b[10] = { 1 }, *out;
    size_t len;

    (void)state;
    pmul_rob_init(&r, &m, 1000, &src, NULL);
    t.armed = true;
    t.left = 0;
    assert_int_equal(pmul_rob_put(&r, 1, b, 10), PMUL_ERR_NOMEM);
    assert_int_equal(src.used, 0);
    t.armed = false;
    assert_int_equal(pmul_rob_put(&r, 2, b, 10), 1);
    assert_int_equal(pmul_rob_put(&r, 1, b, 10), 1);
    assert_int_equal(pmul_rob_set_total(&r, 2), 0);
    t.armed = true;
    t.left = 0;                                   /* out of order: copies */
    assert_int_equal(pmul_rob_assemble(&r, &out, &len), PMUL_ERR_NOMEM);
    assert_true(pmul_rob_is_complete(&r));
    t.armed = false;
    assert_int_equal(pmul_rob_assemble(&r, &out, &len), 0);
    assert_int_equal(len, 20);
    mem_free(&m, out);
    pmul_rob_fini(&r);
    assert_int_equal(t.live, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pmul_rob_in_order),
        cmocka_unit_test(test_pmul_rob_out_of_order),
        cmocka_unit_test(test_pmul_rob_duplicates_first_wins),
        cmocka_unit_test(test_pmul_rob_total_after_fragments),
        cmocka_unit_test(test_pmul_rob_unequal_fragments),
        cmocka_unit_test(test_pmul_rob_budgets),
        cmocka_unit_test(test_pmul_rob_max_len),
        cmocka_unit_test(test_pmul_rob_nomem),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
