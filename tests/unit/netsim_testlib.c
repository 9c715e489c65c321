/*
 * netsim_testlib.c: helpers of the netsim unit tests (netsim_testlib.h),
 * one copy for test_netsim and test_netsim_attack.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "netsim_testlib.h"
#include "test_common.h"

netsim_scenario *
netsim_test_parse(const char *text)
{
    netsim_scenario *sc;
    char err[200];

    if (netsim_scen_parse(&sc, text, strlen(text), NULL, err, sizeof(err)) != 0)
        fail_msg("scenario: %s", err);
    return sc;
}

void
netsim_alloc_sweep(const netsim_scenario *sc, const netsim_engine_ops *ops, long every_first,
                   long samples)
{
    struct tmem tm;
    mem m = tmem_make(&tm);
    netsim_opts o;
    netsim *s;
    long budget, total, step;
    int rc;

    memset(&o, 0, sizeof(o));
    o.ops = ops;
    o.m = &m;
    assert_int_equal(netsim_new(&s, sc, &o), 0);
    assert_int_equal(netsim_run(s), 0);
    netsim_free(s);
    total = tm.calls;
    assert_int_equal(tm.live, 0);
    /* Every point early on (netsim_new, the first datagrams), then a
     * sample: a full run per budget. */
    for (budget = 0; budget < total; budget += step) {
        step = budget < every_first ? 1 : total / samples + 1;
        tmem_fail_after(&tm, budget);
        rc = netsim_new(&s, sc, &o);
        if (rc != 0) {
            assert_int_equal(rc, NETSIM_ERR_NOMEM);
            assert_int_equal(tm.live, 0);
            continue;
        }
        rc = netsim_run(s);
        if (rc != 0 && rc != NETSIM_ERR_NOMEM && rc != NETSIM_ERR_ENGINE)
            fail_msg("budget %ld of %ld: netsim_run gave %d", budget, total, rc);
        netsim_free(s);
        assert_int_equal(tm.live, 0);
    }
}
