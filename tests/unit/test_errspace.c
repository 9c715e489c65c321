/*
 * NAME
 *	test_errspace - one error space: disjoint ranges, names that round-trip
 * SYNOPSIS
 *	meson test -C BUILD --no-rebuild -v errspace
 * DESCRIPTION
 *	Expands every library's X-macro error table (pmul, bsmtp, mule,
 *	netsim, pmul/util) and checks that each code lies in its library's
 *	range (ERRTAB_RANGES in pmul/util/errtab.h), that no two codes are
 *	equal, that every library's NOMEM is the one shared code, and that
 *	mule_errname() names every code with its library's prefix and
 *	mule_errcode() turns the name back into the code.  The per-library
 *	functions name the codes of the layers below them too.  Finally a
 *	bsmtp verdict passed through mule_gw is named as bsmtp's, which is
 *	what a daemon's "reason=" needs.
 * SECURITY
 *	Test code.
 * DIAGNOSTICS
 *	cmocka.
 * SEE ALSO
 *	pmul/util/errtab.h, mule/mule_err.h.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bsmtp/bsmtp_err.h"
#include "mule/mule_err.h"
#include "mule/mule_gw.h"
#include "netsim/netsim_err.h"
#include "pmul/pmul_err.h"
#include "pmul/util/buf.h"
#include "pmul/util/errtab.h"
#include "pmul/util/util_err.h"

struct code {
    int val;
    const char *lib;            /* "PMUL" ... */
    const char *name;           /* without prefix */
    const char *text;
};

#define ENT_UTIL(n, v, t)   { (v), "UTIL", #n, (t) },
#define ENT_PMUL(n, v, t)   { (v), "PMUL", #n, (t) },
#define ENT_BSMTP(n, v, t)  { (v), "BSMTP", #n, (t) },
#define ENT_MULE(n, v, t)   { (v), "MULE", #n, (t) },
#define ENT_NETSIM(n, v, t) { (v), "NETSIM", #n, (t) },

static const struct code codes[] = {
    UTIL_ERRNO_MAP(ENT_UTIL)
    PMUL_ERRNO_MAP(ENT_PMUL)
    BSMTP_ERRNO_MAP(ENT_BSMTP)
    MULE_ERRNO_MAP(ENT_MULE)
    NETSIM_ERRNO_MAP(ENT_NETSIM)
};
#define NCODES (sizeof(codes) / sizeof(codes[0]))

struct range {
    const char *lib;
    int first, last;
};

#define RANGE_ENT(P, f, l) { #P, (f), (l) },
static const struct range ranges[] = { ERRTAB_RANGES(RANGE_ENT) };
#define NRANGES (sizeof(ranges) / sizeof(ranges[0]))

static void
test_errspace_ranges_disjoint(void **state)
{
    size_t i, j;

    (void)state;
    for (i = 0; i < NRANGES; i++) {
        assert_true(ranges[i].first < 0);
        assert_true(ranges[i].last <= ranges[i].first);
        for (j = 0; j < i; j++)
            if (!(ranges[i].last > ranges[j].first || ranges[i].first < ranges[j].last))
                fail_msg("ranges %s and %s overlap", ranges[i].lib, ranges[j].lib);
    }
}

static void
test_errspace_codes_in_range_and_unique(void **state)
{
    size_t i, j;
    bool found;

    (void)state;
    assert_true(NCODES > 50);
    for (i = 0; i < NCODES; i++) {
        found = false;
        for (j = 0; j < NRANGES; j++) {
            if (strcmp(ranges[j].lib, codes[i].lib) != 0)
                continue;
            found = true;
            if (codes[i].val > ranges[j].first || codes[i].val < ranges[j].last)
                fail_msg("%s_ERR_%s = %d: outside %s's range %d..%d", codes[i].lib,
                         codes[i].name, codes[i].val, codes[i].lib, ranges[j].first,
                         ranges[j].last);
        }
        if (!found)
            fail_msg("library %s has no range", codes[i].lib);
        for (j = 0; j < i; j++)
            if (codes[i].val == codes[j].val)
                fail_msg("%s_ERR_%s and %s_ERR_%s are both %d", codes[i].lib, codes[i].name,
                         codes[j].lib, codes[j].name, codes[i].val);
    }
}

/* Out of memory has one code whichever layer ran out. */
static void
test_errspace_nomem_shared(void **state)
{
    (void)state;
    assert_int_equal(PMUL_ERR_NOMEM, UTIL_ERR_NOMEM);
    assert_int_equal(BSMTP_ERR_NOMEM, UTIL_ERR_NOMEM);
    assert_int_equal(MULE_ERR_NOMEM, UTIL_ERR_NOMEM);
    assert_int_equal(NETSIM_ERR_NOMEM, UTIL_ERR_NOMEM);
    /* pmul: NOMEM still means "tear down". */
    assert_true(PMUL_ERR_NOMEM < PMUL_ERR_FATAL);
    assert_false(bsmtp_is_err(BSMTP_ERR_NOMEM));
    assert_true(bsmtp_is_err(BSMTP_ERR_PATH));
    assert_false(bsmtp_is_err(MULE_ERR_INVAL));
}

static void
test_errspace_names_round_trip(void **state)
{
    char want[64];
    size_t i;

    (void)state;
    for (i = 0; i < NCODES; i++) {
        (void)snprintf(want, sizeof(want), "%s_ERR_%s", codes[i].lib, codes[i].name);
        if (strcmp(mule_errname(codes[i].val), want) != 0)
            fail_msg("mule_errname(%d): got %s, want %s", codes[i].val,
                     mule_errname(codes[i].val), want);
        if (mule_errcode(want) != codes[i].val)
            fail_msg("mule_errcode(%s): got %d, want %d", want, mule_errcode(want),
                     codes[i].val);
        assert_string_equal(mule_strerror(codes[i].val), codes[i].text);
    }
    assert_string_equal(mule_errname(0), "OK");
    assert_int_equal(mule_errcode("OK"), 0);
    assert_string_equal(mule_strerror(0), "success");
    assert_string_equal(mule_errname(-999), "UNKNOWN");
    assert_string_equal(mule_strerror(-999), "unknown error");
    assert_string_equal(mule_errname(1), "UNKNOWN");
    assert_int_equal(mule_errcode("NOMEM"), 1);
    assert_int_equal(mule_errcode("PMUL_ERR_NOPE"), 1);
    assert_int_equal(mule_errcode(NULL), 1);
}

/* Each library's own functions name its codes and those of the layers
 * below it, so a code passed through is never "UNKNOWN". */
static void
test_errspace_library_chains(void **state)
{
    (void)state;
    assert_string_equal(pmul_errname(PMUL_ERR_CHECKSUM), "CHECKSUM");
    assert_string_equal(pmul_errname(PMUL_ERR_NOMEM), "NOMEM");
    assert_string_equal(pmul_strerror(PMUL_ERR_NOMEM), "out of memory");
    assert_string_equal(bsmtp_errname(BSMTP_ERR_NOMEM), "NOMEM");
    assert_string_equal(bsmtp_errname(BSMTP_ERR_XTEXT), "XTEXT");
    assert_string_equal(netsim_errname(PMUL_ERR_BUSY), "BUSY");
    assert_string_equal(netsim_errname(NETSIM_ERR_PARSE), "PARSE");
    assert_string_equal(netsim_strerror(UTIL_ERR_FULL), "configured cap reached");
    assert_string_equal(util_errname(UTIL_ERR_QUOTE), "QUOTE");
    /* Not their business: unknown, never another library's name. */
    assert_string_equal(pmul_errname(MULE_ERR_NO_ROUTE), "UNKNOWN");
    assert_string_equal(bsmtp_errname(PMUL_ERR_SHORT), "UNKNOWN");
}

/* The one translation left: a buf's cap is the mule caller's output
 * limit; out of memory passes unchanged. */
static void
test_errspace_mule_err_from_buf(void **state)
{
    (void)state;
    assert_int_equal(mule_err_from_buf(0), 0);
    assert_int_equal(mule_err_from_buf(BUF_ERR_NOMEM), MULE_ERR_NOMEM);
    assert_int_equal(mule_err_from_buf(BUF_ERR_CAP), MULE_ERR_NOSPACE);
}

/* What a daemon logs: the code that reached it, named for the layer that
 * produced it (was MULE_ERR_ENVELOPE, whatever bsmtp had said). */
static void
test_errspace_reason_through_layers(void **state)
{
    static const mule_smtp_rcpt rcpt[] = { { "a@example.net", NULL } };
    bsmtp_envelope *env = NULL;
    size_t bad;
    int rc;

    (void)state;
    rc = mule_gw_from_smtp("not a path", NULL, rcpt, 1, NULL, &env, &bad);
    assert_null(env);
    assert_string_equal(mule_errname(rc), "BSMTP_ERR_PATH");
    assert_string_equal(mule_strerror(rc), bsmtp_strerror(BSMTP_ERR_PATH));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errspace_ranges_disjoint),
        cmocka_unit_test(test_errspace_codes_in_range_and_unique),
        cmocka_unit_test(test_errspace_nomem_shared),
        cmocka_unit_test(test_errspace_names_round_trip),
        cmocka_unit_test(test_errspace_library_chains),
        cmocka_unit_test(test_errspace_mule_err_from_buf),
        cmocka_unit_test(test_errspace_reason_through_layers),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
