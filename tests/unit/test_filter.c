/*
 * NAME
 *	test_filter - run only some cmocka cases of a unit test
 * SYNOPSIS
 *	CMOCKA_TEST_FILTER='*ack*' meson test -C build/plain -v pmul_rx
 *	CMOCKA_SKIP_FILTER='*slow*' build/plain/tests/unit/test_pmul_rx
 * DESCRIPTION
 *	Linked into every unit test executable (tests/unit/meson.build adds
 *	it to the cmocka dependency), so no test main has to do anything:
 *	before main() runs, the two environment variables, when set and not
 *	empty, become cmocka_set_test_filter() and cmocka_set_skip_filter()
 *	patterns (cmocka's glob: '*' and '?').  cmocka then runs only the
 *	matching cases, or skips the matching ones, and its closing lines
 *	count only what ran.  docs/hacking.md shows the use.
 * SECURITY
 *	Test code; reads two environment variables.
 * SEE ALSO
 *	cmocka.h, docs/hacking.md.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

__attribute__((constructor)) static void
test_filter_init(void)
{
    const char *run = getenv("CMOCKA_TEST_FILTER");
    const char *skip = getenv("CMOCKA_SKIP_FILTER");

    if (run != NULL && *run != '\0')
        cmocka_set_test_filter(run);
    if (skip != NULL && *skip != '\0')
        cmocka_set_skip_filter(skip);
}
