/*
 * NAME
 *	test_map - unit tests for pmul/util/map and pmul/util/arr
 * SYNOPSIS
 *	meson test -C BUILD --no-rebuild -v map
 * DESCRIPTION
 *	map: put, get, replace, delete, insertion-ordered iteration across
 *	deletions and compaction, duplicate keys with map_add and
 *	map_probe, the cap, map_reserve, a long random run checked against
 *	a plain array model (which exercises backward-shift deletion over
 *	wrapped probe runs), and allocation failure at every step of a
 *	build (the map is unchanged after each failure).
 *	arr: doubling, the cap (reachable exactly, one more is FULL),
 *	multiplication overflow refused without calling the allocator,
 *	allocation failure leaving the array unchanged, zeroing.
 * SECURITY
 *	Test code.
 * DIAGNOSTICS
 *	cmocka.
 * SEE ALSO
 *	pmul/util/map.h, pmul/util/arr.h.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_common.h"

#include "pmul/util/arr.h"
#include "pmul/util/map.h"

static uint64_t rng = 88172645463325252ull;

static uint64_t
xorshift(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Keys of the map in iteration order, into keys[] (at most max). */
static size_t
walk(const map *mp, uint64_t *keys, uint64_t *vals, size_t max)
{
    size_t it = 0, n = 0;
    uint64_t k, v;

    while (map_next(mp, &it, &k, &v)) {
        assert_true(n < max);
        keys[n] = k;
        vals[n] = v;
        n++;
    }
    return n;
}

static void
test_map_basic(void **state)
{
    map mp;
    uint64_t v, keys[8], vals[8];

    (void)state;
    map_init(&mp, NULL, 0);
    assert_false(map_get(&mp, 1, &v));
    assert_int_equal(map_del(&mp, 1), UTIL_ERR_NOTFOUND);
    assert_int_equal(map_put(&mp, 30, 300), 0);
    assert_int_equal(map_put(&mp, 10, 100), 0);
    assert_int_equal(map_put(&mp, 20, 200), 0);
    assert_int_equal(map_cnt(&mp), 3);
    assert_true(map_get(&mp, 10, &v));
    assert_int_equal(v, 100);
    /* Replacing keeps the entry's place in the order. */
    assert_int_equal(map_put(&mp, 30, 301), 0);
    assert_int_equal(map_cnt(&mp), 3);
    assert_int_equal(walk(&mp, keys, vals, 8), 3);
    assert_int_equal(keys[0], 30);
    assert_int_equal(vals[0], 301);
    assert_int_equal(keys[1], 10);
    assert_int_equal(keys[2], 20);
    /* Deleting keeps the others' order; a re-added key goes last. */
    assert_int_equal(map_del(&mp, 10), 0);
    assert_false(map_get(&mp, 10, NULL));
    assert_int_equal(map_put(&mp, 10, 102), 0);
    assert_int_equal(walk(&mp, keys, vals, 8), 3);
    assert_int_equal(keys[0], 30);
    assert_int_equal(keys[1], 20);
    assert_int_equal(keys[2], 10);
    assert_int_equal(vals[2], 102);
    /* Key 0 and UINT64_MAX are ordinary keys. */
    assert_int_equal(map_put(&mp, 0, 7), 0);
    assert_int_equal(map_put(&mp, UINT64_MAX, 8), 0);
    assert_true(map_get(&mp, 0, &v));
    assert_int_equal(v, 7);
    assert_true(map_get(&mp, UINT64_MAX, &v));
    assert_int_equal(v, 8);
    map_clear(&mp);
    assert_int_equal(map_cnt(&mp), 0);
    assert_false(map_get(&mp, 30, NULL));
    assert_int_equal(walk(&mp, keys, vals, 8), 0);
    map_fini(&mp);
    map_fini(&mp);
}

/* Deleting the entry just returned by map_next is allowed. */
static void
test_map_delete_while_iterating(void **state)
{
    map mp;
    size_t it = 0, seen = 0;
    uint64_t k, i;

    (void)state;
    map_init(&mp, NULL, 0);
    for (i = 0; i < 100; i++)
        assert_int_equal(map_put(&mp, i * 7, i), 0);
    while (map_next(&mp, &it, &k, NULL)) {
        assert_int_equal(k, seen * 7);
        seen++;
        if (k % 2 == 0)
            assert_int_equal(map_del(&mp, k), 0);
    }
    assert_int_equal(seen, 100);
    assert_int_equal(map_cnt(&mp), 50);
    for (i = 0; i < 100; i++)
        assert_int_equal(map_get(&mp, i * 7, NULL), (i * 7) % 2 != 0);
    map_fini(&mp);
}

static void
test_map_duplicates_and_probe(void **state)
{
    map mp;
    size_t pos = 0;
    uint64_t v, sum = 0;
    int n = 0;

    (void)state;
    map_init(&mp, NULL, 0);
    assert_int_equal(map_add(&mp, 5, 1), 0);
    assert_int_equal(map_add(&mp, 6, 9), 0);
    assert_int_equal(map_add(&mp, 5, 2), 0);
    assert_int_equal(map_add(&mp, 5, 3), 0);
    while (map_probe(&mp, 5, &pos, &v)) {
        sum += v;
        n++;
    }
    assert_int_equal(n, 3);
    assert_int_equal(sum, 6);
    assert_int_equal(map_del_val(&mp, 5, 2), 0);
    assert_int_equal(map_del_val(&mp, 5, 2), UTIL_ERR_NOTFOUND);
    pos = 0;
    n = 0;
    sum = 0;
    while (map_probe(&mp, 5, &pos, &v)) {
        sum += v;
        n++;
    }
    assert_int_equal(n, 2);
    assert_int_equal(sum, 4);
    pos = 0;
    assert_false(map_probe(&mp, 7, &pos, &v));
    map_fini(&mp);
}

static void
test_map_cap(void **state)
{
    struct tmem t;
    mem m = tmem_make(&t);
    map mp;
    uint64_t i;

    (void)state;
    map_init(&mp, &m, 5);
    for (i = 0; i < 5; i++)
        assert_int_equal(map_put(&mp, i, i), 0);
    assert_int_equal(map_put(&mp, 99, 0), UTIL_ERR_FULL);
    assert_int_equal(map_add(&mp, 1, 0), UTIL_ERR_FULL);
    /* Replacing a present key is not an insertion. */
    assert_int_equal(map_put(&mp, 3, 33), 0);
    assert_int_equal(map_cnt(&mp), 5);
    assert_int_equal(map_reserve(&mp, 6), UTIL_ERR_FULL);
    /* After a deletion there is room again. */
    assert_int_equal(map_del(&mp, 0), 0);
    assert_int_equal(map_put(&mp, 99, 0), 0);
    map_fini(&mp);
    assert_int_equal(t.live, 0);
}

/* After map_reserve(n), n insertions cannot fail for lack of memory. */
static void
test_map_reserve(void **state)
{
    struct tmem t;
    mem m = tmem_make(&t);
    map mp;
    uint64_t i;

    (void)state;
    map_init(&mp, &m, 0);
    assert_int_equal(map_reserve(&mp, 1000), 0);
    tmem_fail_after(&t, 0);
    for (i = 0; i < 1000; i++)
        assert_int_equal(map_put(&mp, xorshift(), i), 0);
    assert_int_equal(t.calls, 0);
    assert_int_equal(map_put(&mp, 1u << 31, 0), UTIL_ERR_NOMEM);
    assert_int_equal(map_cnt(&mp), 1000);
    map_fini(&mp);
    assert_int_equal(t.live, 0);
}

/*
 * A long random run of puts, adds of fresh keys and deletes over a small
 * key space (so probe runs collide and wrap), checked after every step
 * against an array that records what the map should hold, in order.
 */
static void
test_map_random_against_model(void **state)
{
    enum { KEYS = 300, STEPS = 20000 };
    static uint64_t mk[KEYS], mv[KEYS];
    static uint64_t gk[KEYS], gv[KEYS];
    size_t n = 0, i, j;
    map mp;
    uint64_t k, v;
    int step;

    (void)state;
    map_init(&mp, NULL, 0);
    for (step = 0; step < STEPS; step++) {
        k = xorshift() % KEYS * 0x100000001ull;
        v = xorshift();
        for (i = 0; i < n && mk[i] != k; i++)
            ;
        if (xorshift() % 3 == 0) {
            assert_int_equal(map_del(&mp, k), i < n ? 0 : UTIL_ERR_NOTFOUND);
            if (i < n) {
                memmove(mk + i, mk + i + 1, (n - i - 1) * sizeof(*mk));
                memmove(mv + i, mv + i + 1, (n - i - 1) * sizeof(*mv));
                n--;
            }
        } else {
            assert_int_equal(map_put(&mp, k, v), 0);
            if (i == n) {
                mk[n] = k;
                n++;
            }
            mv[i] = v;
        }
        assert_int_equal(map_cnt(&mp), n);
        if (step % 97 == 0 || step == STEPS - 1) {
            assert_int_equal(walk(&mp, gk, gv, KEYS), n);
            for (j = 0; j < n; j++) {
                assert_int_equal(gk[j], mk[j]);
                assert_int_equal(gv[j], mv[j]);
                assert_true(map_get(&mp, mk[j], &v));
                assert_int_equal(v, mv[j]);
            }
        }
    }
    map_fini(&mp);
}

/* Fail the k-th allocation of a 200-key build, for every k: each failing
 * call returns NOMEM and leaves every key added before it in place. */
static void
test_map_alloc_failure_every_step(void **state)
{
    struct tmem t;
    mem m = tmem_make(&t);
    map mp;
    uint64_t i, v;
    long k, failures;
    int rc;

    (void)state;
    for (k = 0;; k++) {
        m = tmem_make(&t);
        map_init(&mp, &m, 0);
        tmem_fail_after(&t, k);
        failures = 0;
        for (i = 0; i < 200; i++) {
            rc = map_put(&mp, i * 1000003u, i);
            if (rc != 0) {
                assert_int_equal(rc, UTIL_ERR_NOMEM);
                failures++;
                assert_int_equal(map_cnt(&mp), i);
                assert_false(map_get(&mp, i * 1000003u, NULL));
                t.armed = false;
                /* The same put succeeds once memory is back. */
                assert_int_equal(map_put(&mp, i * 1000003u, i), 0);
                t.armed = true;
                t.left = 0;
            }
        }
        for (i = 0; i < 200; i++) {
            assert_true(map_get(&mp, i * 1000003u, &v));
            assert_int_equal(v, i);
        }
        map_fini(&mp);
        assert_int_equal(t.live, 0);
        if (failures == 0)
            break;
    }
    assert_true(k > 2);
}

/* ---- arr ------------------------------------------------------------ */

static void
test_arr_grow_doubles_and_caps(void **state)
{
    struct tmem t;
    mem m = tmem_make(&t);
    uint32_t *a = NULL;
    size_t cap = 0, i;

    (void)state;
    assert_int_equal(arr_grow(&m, (void **)&a, &cap, 1, sizeof(*a), 20), 0);
    assert_int_equal(cap, ARR_MIN_CAP);
    for (i = 0; i < cap; i++)
        a[i] = (uint32_t)i;
    assert_int_equal(arr_grow(&m, (void **)&a, &cap, cap, sizeof(*a), 20), 0);
    assert_int_equal(cap, ARR_MIN_CAP);
    assert_int_equal(arr_grow(&m, (void **)&a, &cap, 9, sizeof(*a), 20), 0);
    assert_int_equal(cap, 16);
    for (i = 0; i < ARR_MIN_CAP; i++)
        assert_int_equal(a[i], i);
    /* Doubling would pass the cap: the cap itself is allocated. */
    assert_int_equal(arr_grow(&m, (void **)&a, &cap, 17, sizeof(*a), 20), 0);
    assert_int_equal(cap, 20);
    assert_int_equal(arr_grow(&m, (void **)&a, &cap, 21, sizeof(*a), 20), UTIL_ERR_FULL);
    assert_int_equal(cap, 20);
    /* A need far beyond doubling is met in one step. */
    assert_int_equal(arr_grow(&m, (void **)&a, &cap, 1000, sizeof(*a), 0), 0);
    assert_int_equal(cap, 1000);
    assert_int_equal(arr_grow(&m, (void **)&a, &cap, 1001, 0, 0), UTIL_ERR_INVAL);
    mem_free(&m, a);
    assert_int_equal(t.live, 0);
}

static void
test_arr_grow_overflow(void **state)
{
    struct tmem t;
    mem m = tmem_make(&t);
    void *a = NULL;
    size_t cap = 0;

    (void)state;
    /* need * elem overflows: refused before the allocator is called. */
    assert_int_equal(arr_grow(&m, &a, &cap, SIZE_MAX / 16 + 1, 16, 0), UTIL_ERR_NOMEM);
    assert_int_equal(arr_grow(&m, &a, &cap, 2, SIZE_MAX / 2 + 1, 0), UTIL_ERR_NOMEM);
    assert_int_equal(arr_grow(&m, &a, &cap, SIZE_MAX, 1, SIZE_MAX), UTIL_ERR_NOMEM);
    assert_int_equal(t.calls, 1);       /* only the last one, SIZE_MAX octets */
    assert_null(a);
    assert_int_equal(cap, 0);
    /* Doubling near the top saturates instead of wrapping. */
    cap = SIZE_MAX / 2 + 2;
    a = NULL;
    t.calls = 0;
    t.max_len = 1;
    assert_int_equal(arr_grow(&m, &a, &cap, cap + 1, 1, 0), UTIL_ERR_NOMEM);
    assert_int_equal(t.calls, 1);
    assert_int_equal(cap, SIZE_MAX / 2 + 2);
}

static void
test_arr_grow_alloc_failure_unchanged(void **state)
{
    struct tmem t;
    mem m = tmem_make(&t);
    uint8_t *a = NULL;
    size_t cap = 0;

    (void)state;
    assert_int_equal(arr_grow_zero(&m, (void **)&a, &cap, 3, 1, 0), 0);
    assert_int_equal(cap, ARR_MIN_CAP);
    for (size_t i = 0; i < cap; i++)
        assert_int_equal(a[i], 0);
    memset(a, 0x5a, cap);
    tmem_fail_after(&t, 0);
    assert_int_equal(arr_grow_zero(&m, (void **)&a, &cap, 9, 1, 0), UTIL_ERR_NOMEM);
    assert_int_equal(cap, ARR_MIN_CAP);
    assert_int_equal(a[ARR_MIN_CAP - 1], 0x5a);
    t.armed = false;
    assert_int_equal(arr_grow_zero(&m, (void **)&a, &cap, 9, 1, 0), 0);
    assert_int_equal(cap, 16);
    assert_int_equal(a[ARR_MIN_CAP - 1], 0x5a);
    for (size_t i = ARR_MIN_CAP; i < cap; i++)
        assert_int_equal(a[i], 0);
    mem_free(&m, a);
    assert_int_equal(t.live, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_map_basic),
        cmocka_unit_test(test_map_delete_while_iterating),
        cmocka_unit_test(test_map_duplicates_and_probe),
        cmocka_unit_test(test_map_cap),
        cmocka_unit_test(test_map_reserve),
        cmocka_unit_test(test_map_random_against_model),
        cmocka_unit_test(test_map_alloc_failure_every_step),
        cmocka_unit_test(test_arr_grow_doubles_and_caps),
        cmocka_unit_test(test_arr_grow_overflow),
        cmocka_unit_test(test_arr_grow_alloc_failure_unchanged),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
