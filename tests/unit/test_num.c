/*
 * NAME
 *	test_num - unit tests for pmul/util/num (strict numbers with units)
 * SYNOPSIS
 *	meson test -C BUILD -v num
 * DESCRIPTION
 *	Table-driven: every kind of number accepted with its value, and
 *	every way a number is refused (the demo node once read "2h" as 2
 *	seconds and "xyz" as no EMCON: such input must now be an error),
 *	with the error it gets; overflow at the 64-bit edge; ranges.
 * SECURITY
 *	Test code.
 * DIAGNOSTICS
 *	cmocka.
 * SEE ALSO
 *	pmul/util/num.h.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pmul/util/num.h"
#include "pmul/util/util_err.h"

enum kind { DUR_S, DUR_MS, RATE, SIZE, U64 };

typedef struct tcase {
    enum kind k;
    const char *s;
    int rc;
    uint64_t v;
} tcase;

static int
parse(const tcase *t, uint64_t *v)
{
    switch (t->k) {
    case DUR_S: return num_parse_duration_ms(t->s, 1000, 0, UINT64_MAX, v);
    case DUR_MS: return num_parse_duration_ms(t->s, 1, 0, UINT64_MAX, v);
    case RATE: return num_parse_rate_bps(t->s, 0, UINT64_MAX, v);
    case SIZE: return num_parse_size(t->s, 0, UINT64_MAX, v);
    case U64: return num_parse_u64(t->s, 0, UINT64_MAX, v);
    }
    return -1;
}

static void
test_num_table(void **state)
{
    static const tcase cases[] = {
        { DUR_S, "90", 0, 90000 },
        { DUR_S, "2h", 0, 7200000 },
        { DUR_S, "30m", 0, 1800000 },
        { DUR_S, "30min", 0, 1800000 },
        { DUR_S, "1.5h", 0, 5400000 },
        { DUR_S, "250ms", 0, 250 },
        { DUR_S, "0.25s", 0, 250 },
        { DUR_S, "7d", 0, 604800000 },
        { DUR_S, "0", 0, 0 },
        { DUR_MS, "500", 0, 500 },
        { DUR_MS, "2s", 0, 2000 },
        { RATE, "9600", 0, 9600 },
        { RATE, "9.6k", 0, 9600 },
        { RATE, "64k", 0, 64000 },
        { RATE, "64kbit", 0, 64000 },
        { RATE, "64kbps", 0, 64000 },
        { RATE, "2.4kbit/s", 0, 2400 },
        { RATE, "2M", 0, 2000000 },
        { SIZE, "1024", 0, 1024 },
        { SIZE, "64k", 0, 65536 },
        { SIZE, "64KiB", 0, 65536 },
        { SIZE, "4M", 0, 4194304 },
        { SIZE, "1.5k", 0, 1536 },
        { SIZE, "512B", 0, 512 },
        { U64, "18446744073709551615", 0, UINT64_MAX },
        /* Refused. */
        { DUR_S, "", UTIL_ERR_NUM_SYNTAX, 0 },
        { DUR_S, "xyz", UTIL_ERR_NUM_SYNTAX, 0 },
        { DUR_S, "2x", UTIL_ERR_NUM_SYNTAX, 0 },
        { DUR_S, "2 h", UTIL_ERR_NUM_SYNTAX, 0 },
        { DUR_S, " 2", UTIL_ERR_NUM_SYNTAX, 0 },
        { DUR_S, "-2", UTIL_ERR_NUM_SYNTAX, 0 },
        { DUR_S, "+2", UTIL_ERR_NUM_SYNTAX, 0 },
        { DUR_S, ".5h", UTIL_ERR_NUM_SYNTAX, 0 },
        { DUR_S, "2.h", UTIL_ERR_NUM_SYNTAX, 0 },
        { DUR_S, "1.0001ms", UTIL_ERR_NUM_SYNTAX, 0 },
        { DUR_S, "0x10", UTIL_ERR_NUM_SYNTAX, 0 },
        { DUR_S, "1e3", UTIL_ERR_NUM_SYNTAX, 0 },
        { RATE, "abc", UTIL_ERR_NUM_SYNTAX, 0 },
        { RATE, "64kb", UTIL_ERR_NUM_SYNTAX, 0 },
        { RATE, "9.65432k", UTIL_ERR_NUM_SYNTAX, 0 },
        { SIZE, "4Mb", UTIL_ERR_NUM_SYNTAX, 0 },
        { U64, "1.5", UTIL_ERR_NUM_SYNTAX, 0 },
        { U64, "12k", UTIL_ERR_NUM_SYNTAX, 0 },
        { U64, "18446744073709551616", UTIL_ERR_NUM_RANGE, 0 },
        { DUR_S, "18446744073709551615", UTIL_ERR_NUM_RANGE, 0 },
        { SIZE, "17179869184G", UTIL_ERR_NUM_RANGE, 0 },
        { DUR_S, "1.0000000001s", UTIL_ERR_NUM_SYNTAX, 0 },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t v = 12345;
        int rc = parse(&cases[i], &v);

        if (rc != cases[i].rc || (rc == 0 && v != cases[i].v))
            fail_msg("'%s': rc %d value %llu, want rc %d value %llu", cases[i].s, rc,
                     (unsigned long long)v, cases[i].rc, (unsigned long long)cases[i].v);
        if (rc != 0)
            assert_int_equal(v, 12345);          /* untouched on failure */
    }
}

static void
test_num_range(void **state)
{
    uint64_t v = 0;

    (void)state;
    assert_int_equal(num_parse_rate_bps("64k", 300, 10000000, &v), 0);
    assert_int_equal(v, 64000);
    assert_int_equal(num_parse_rate_bps("100", 300, 10000000, &v), UTIL_ERR_NUM_RANGE);
    assert_int_equal(num_parse_rate_bps("11M", 300, 10000000, &v), UTIL_ERR_NUM_RANGE);
    assert_int_equal(num_parse_u64("65535", 1, 65535, &v), 0);
    assert_int_equal(num_parse_u64("65536", 1, 65535, &v), UTIL_ERR_NUM_RANGE);
    assert_int_equal(num_parse_u64("0", 1, 65535, &v), UTIL_ERR_NUM_RANGE);
    assert_int_equal(num_parse_u64(NULL, 0, 1, &v), UTIL_ERR_NUM_SYNTAX);
    assert_int_equal(num_parse_duration_ms("1", 0, 0, 1, &v), UTIL_ERR_INVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_num_table),
        cmocka_unit_test(test_num_range),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
