/*
 * netsim_testlib.h: helpers shared by test_netsim and test_netsim_attack:
 * a scenario parsed or the test failed, and the allocation-failure sweep
 * of a whole run.  Test code only.
 */
#ifndef NETSIM_TESTLIB_H
#define NETSIM_TESTLIB_H

#include "netsim/netsim.h"

/* The scenario of text (free with netsim_scen_free); a parse error fails
 * the test with its message. */
netsim_scenario *netsim_test_parse(const char *text);

/*
 * Run sc on ops once to count allocations, then again with the k-th
 * allocation failing: every k below every_first, then about
 * samples k spread over the rest.  Each failure must give
 * NETSIM_ERR_NOMEM from netsim_new, NOMEM or ENGINE from netsim_run, or a
 * run; nothing may leak (cmocka's allocator and the block count watch).
 */
void netsim_alloc_sweep(const netsim_scenario *sc, const netsim_engine_ops *ops,
                        long every_first, long samples);

#endif
