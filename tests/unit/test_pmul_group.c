/*
 * NAME
 *	test_pmul_group - unit tests for dynamic group bookkeeping
 * SYNOPSIS
 *	meson test -C BUILD --no-rebuild -v pmul_group
 * DESCRIPTION
 *	pmul/pmul_group.c: picking pool groups in order, owning and releasing
 *	them, foreign claims and their expiry, the answer to another node's
 *	Request (reject when owned, the lower node ID winning simultaneous
 *	requests), Release from the foreign owner; receiver joins counted per
 *	message (JOIN on the first, LEAVE on the last), expiry of joins, the
 *	join cap.
 * SECURITY
 *	Test code.
 * DIAGNOSTICS
 *	cmocka.
 * SEE ALSO
 *	pmul/pmul_group.h, docs/wire.md 7.4
 * LICENSE
 *	MIT, see LICENSE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pmul/pmul_err.h"
#include "pmul/pmul_group.h"

#define G1 0xEF020001u
#define G2 0xEF020002u
#define G3 0xEF020003u

static void
test_pmul_group_pick_own_release(void **state)
{
    static const uint32_t pool[] = { G1, G2 };
    pmul_groups g;
    uint32_t grp = 0;

    (void)state;
    assert_int_equal(pmul_groups_init(&g, NULL, 50, pool, 2, 8), 0);
    assert_int_equal(pmul_groups_pick(&g, 0, 100, &grp), 0);
    assert_int_equal(grp, G1);
    assert_int_equal(pmul_groups_state(&g, G1), PMUL_GRP_REQUESTING);
    assert_int_equal(pmul_groups_pick(&g, 0, 101, &grp), 0);
    assert_int_equal(grp, G2);
    assert_int_equal(pmul_groups_pick(&g, 0, 102, &grp), PMUL_ERR_NOTFOUND);
    pmul_groups_set_owned(&g, G1);
    assert_int_equal(pmul_groups_state(&g, G1), PMUL_GRP_OWNED);
    pmul_groups_release(&g, G1);
    assert_int_equal(pmul_groups_state(&g, G1), PMUL_GRP_FREE);
    assert_int_equal(pmul_groups_state(&g, G3), -1);
    pmul_groups_fini(&g);
}

static void
test_pmul_group_foreign_claims(void **state)
{
    static const uint32_t pool[] = { G1, G2 };
    pmul_groups g;
    uint32_t grp = 0;

    (void)state;
    assert_int_equal(pmul_groups_init(&g, NULL, 50, pool, 2, 8), 0);
    pmul_groups_mark_foreign(&g, G1, 60, 1000);
    assert_int_equal(pmul_groups_pick(&g, 10, 1, &grp), 0);
    assert_int_equal(grp, G2);
    pmul_groups_release(&g, G2);
    /* A Release from someone else does not free it; from the owner does. */
    pmul_groups_on_release(&g, 61, G1);
    assert_int_equal(pmul_groups_state(&g, G1), PMUL_GRP_FOREIGN);
    pmul_groups_on_release(&g, 60, G1);
    assert_int_equal(pmul_groups_state(&g, G1), PMUL_GRP_FREE);
    /* A claim expires by itself (lost Release). */
    pmul_groups_mark_foreign(&g, G1, 60, 1000);
    pmul_groups_mark_foreign(&g, G2, 60, 1000);
    assert_int_equal(pmul_groups_pick(&g, 999, 1, &grp), PMUL_ERR_NOTFOUND);
    assert_int_equal(pmul_groups_pick(&g, 1000, 1, &grp), 0);
    assert_int_equal(grp, G1);
    /* Our own claims are not overridden. */
    pmul_groups_mark_foreign(&g, G1, 60, 5000);
    assert_int_equal(pmul_groups_state(&g, G1), PMUL_GRP_REQUESTING);
    pmul_groups_fini(&g);
}

static void
test_pmul_group_requests(void **state)
{
    static const uint32_t pool[] = { G1, G2, G3 };
    pmul_groups g;
    uint32_t grp = 0, msid = 0;

    (void)state;
    assert_int_equal(pmul_groups_init(&g, NULL, 50, pool, 3, 8), 0);
    assert_int_equal(pmul_groups_pick(&g, 0, 7, &grp), 0);     /* G1 requesting */
    assert_int_equal(pmul_groups_pick(&g, 0, 8, &grp), 0);     /* G2 requesting */
    pmul_groups_set_owned(&g, G2);
    /* Owned: reject. */
    assert_int_equal(pmul_groups_on_request(&g, 40, G2, 100, &msid), PMUL_GRP_ACT_REJECT);
    /* Both requesting G1: the higher ID (60) is rejected by us (50). */
    assert_int_equal(pmul_groups_on_request(&g, 60, G1, 100, &msid), PMUL_GRP_ACT_REJECT);
    /* ... but a lower ID (40) wins: we yield, the group becomes foreign. */
    assert_int_equal(pmul_groups_on_request(&g, 40, G1, 100, &msid), PMUL_GRP_ACT_YIELD);
    assert_int_equal(msid, 7);
    assert_int_equal(pmul_groups_state(&g, G1), PMUL_GRP_FOREIGN);
    /* Free group requested by someone: noted as theirs. */
    assert_int_equal(pmul_groups_on_request(&g, 70, G3, 100, &msid), PMUL_GRP_ACT_NONE);
    assert_int_equal(pmul_groups_state(&g, G3), PMUL_GRP_FOREIGN);
    /* Not in our pool: nothing to say. */
    assert_int_equal(pmul_groups_on_request(&g, 70, 0xEF990001u, 100, &msid),
                     PMUL_GRP_ACT_NONE);
    pmul_groups_fini(&g);
}

static void
test_pmul_group_joins(void **state)
{
    pmul_groups g;
    uint32_t grp = 0;
    bool first = false, last = false;

    (void)state;
    assert_int_equal(pmul_groups_init(&g, NULL, 50, NULL, 0, 3), 0);
    assert_int_equal(pmul_groups_join(&g, G1, 10, 1, 500, &first), 0);
    assert_true(first);
    assert_int_equal(pmul_groups_join(&g, G1, 10, 1, 900, &first), 0);   /* same */
    assert_false(first);
    assert_int_equal(g.join_cnt, 1);
    assert_int_equal(g.joins[0].until_ms, 900);
    assert_int_equal(pmul_groups_join(&g, G1, 11, 4, 300, &first), 0);
    assert_false(first);
    assert_int_equal(pmul_groups_join(&g, G2, 10, 2, 800, &first), 0);
    assert_true(first);
    assert_int_equal(pmul_groups_join(&g, G3, 10, 3, 800, &first), PMUL_ERR_BUSY);
    assert_int_equal(pmul_groups_next_deadline(&g), 300);
    assert_true(pmul_groups_leave(&g, 10, 1, &grp, &last));
    assert_int_equal(grp, G1);
    assert_false(last);                                 /* (11, 4) still uses it */
    assert_false(pmul_groups_leave(&g, 10, 1, &grp, &last));
    assert_false(pmul_groups_expire_one(&g, 299, &grp, &last));
    assert_true(pmul_groups_expire_one(&g, 300, &grp, &last));
    assert_int_equal(grp, G1);
    assert_true(last);
    assert_true(pmul_groups_is_joined(&g, G2));
    assert_false(pmul_groups_is_joined(&g, G1));
    pmul_groups_fini(&g);
}

/* Issue 13, spoofed Announce_PDUs: distinct groups are capped below the
 * kernel's membership limit (more entries on a joined group still fit);
 * a join the driver could not make is forgotten; a message that came
 * extends its join. */
static void
test_pmul_group_join_cap_and_failure(void **state)
{
    pmul_groups g;
    bool first = false;

    (void)state;
    assert_int_equal(pmul_groups_init(&g, NULL, 50, NULL, 0, 100), 0);
    g.group_max = 2;
    assert_int_equal(pmul_groups_join(&g, G1, 10, 1, 500, &first), 0);
    assert_int_equal(pmul_groups_join(&g, G2, 11, 1, 500, &first), 0);
    assert_int_equal(pmul_groups_join(&g, G3, 12, 1, 500, &first), PMUL_ERR_BUSY);
    assert_int_equal(pmul_groups_join(&g, G2, 13, 1, 500, &first), 0);
    assert_false(first);
    pmul_groups_extend(&g, 13, 1, 9000);
    pmul_groups_extend(&g, 99, 1, 9000);                /* not joined: nothing */
    assert_int_equal(pmul_groups_next_deadline(&g), 500);
    assert_int_equal(pmul_groups_drop_group(&g, G2), 2);
    assert_false(pmul_groups_is_joined(&g, G2));
    assert_int_equal(pmul_groups_join(&g, G3, 12, 1, 500, &first), 0);
    assert_true(first);
    assert_int_equal(g.join_cnt, 2);
    pmul_groups_fini(&g);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pmul_group_pick_own_release),
        cmocka_unit_test(test_pmul_group_foreign_claims),
        cmocka_unit_test(test_pmul_group_requests),
        cmocka_unit_test(test_pmul_group_joins),
        cmocka_unit_test(test_pmul_group_join_cap_and_failure),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
