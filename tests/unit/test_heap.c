/*
 * NAME
 *	test_heap - unit tests of the generic binary heap (pmul/util/heap)
 * SYNOPSIS
 *	meson test -C BUILD --no-rebuild -v heap
 * DESCRIPTION
 *	Order with frequent ties (equal keys come out in push order), the
 *	size cap, remove and re-key at an index with handles kept through the
 *	moved callback, rebuild after many re-keys, a seeded random sequence
 *	of operations checked against a plain sorted reference, elements
 *	whose size is not a multiple of 8, and allocation failure through an
 *	injected allocator (a failed push changes nothing).
 * SECURITY
 *	Test code.
 * DIAGNOSTICS
 *	cmocka.
 * SEE ALSO
 *	pmul/util/heap.h
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

#include "pmul/util/heap.h"

typedef struct item {
    uint32_t key;
    uint32_t id;
    size_t idx;                 /* kept by the moved callback */
} item;

static int
item_cmp(const void *a, const void *b, void *arg)
{
    const item *x = a, *y = b;

    (void)arg;
    return x->key < y->key ? -1 : x->key > y->key;
}

/* Handles: where element id lives now (arg = size_t table). */
static void
item_moved(void *elem, size_t idx, void *arg)
{
    item *it = elem;
    size_t *where = arg;

    it->idx = idx;
    where[it->id] = idx;
}

static uint64_t rng = 88172645463325252ull;

static uint32_t
rnd(uint32_t below)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % below);
}

static void
test_heap_order_ties_fifo(void **state)
{
    heap h;
    item it, prev;
    uint32_t i, n = 3000;

    (void)state;
    heap_init(&h, NULL, sizeof(item), 0, item_cmp, NULL, NULL);
    assert_null(heap_peek(&h));
    assert_int_equal(heap_pop(&h, &it), HEAP_ERR_EMPTY);
    for (i = 0; i < n; i++) {
        memset(&it, 0, sizeof(it));
        it.key = rnd(20);       /* few keys: ties are frequent */
        it.id = i;
        assert_int_equal(heap_push(&h, &it), 0);
    }
    assert_int_equal(heap_len(&h), n);
    assert_int_equal(heap_pop(&h, &prev), 0);
    for (i = 1; i < n; i++) {
        assert_int_equal(heap_pop(&h, &it), 0);
        assert_true(it.key >= prev.key);
        if (it.key == prev.key)
            assert_true(it.id > prev.id);       /* got later id first? */
        prev = it;
    }
    assert_int_equal(heap_len(&h), 0);
    heap_fini(&h);
    heap_fini(&h);                              /* idempotent */
}

static void
test_heap_cap(void **state)
{
    heap h;
    item it;

    (void)state;
    memset(&it, 0, sizeof(it));
    heap_init(&h, NULL, sizeof(item), 3, item_cmp, NULL, NULL);
    assert_int_equal(heap_push(&h, &it), 0);
    assert_int_equal(heap_push(&h, &it), 0);
    assert_int_equal(heap_push(&h, &it), 0);
    assert_int_equal(heap_push(&h, &it), HEAP_ERR_FULL);
    assert_int_equal(heap_len(&h), 3);
    assert_int_equal(heap_pop(&h, NULL), 0);
    assert_int_equal(heap_push(&h, &it), 0);
    heap_fini(&h);
}

/* Remove and re-key by handle; a seeded random run against a sorted
 * reference of (key, seq). */
static void
test_heap_handles_remove_fix_random(void **state)
{
    enum { N = 400 };
    heap h;
    size_t where[N], i, k, live = 0, n;
    uint32_t keys[N];
    uint64_t seqs[N];
    bool in[N];
    item it, *p;
    uint32_t id, best;
    int step;

    (void)state;
    memset(in, 0, sizeof(in));
    heap_init(&h, NULL, sizeof(item), 0, item_cmp, item_moved, where);
    for (step = 0; step < 20000; step++) {
        id = rnd(N);
        switch (rnd(4)) {
        case 0:                 /* push if absent */
            if (in[id])
                break;
            memset(&it, 0, sizeof(it));
            it.key = rnd(50);
            it.id = id;
            seqs[id] = h.next_seq;
            assert_int_equal(heap_push(&h, &it), 0);
            keys[id] = it.key;
            in[id] = true;
            live++;
            break;
        case 1:                 /* remove by handle */
            if (!in[id])
                break;
            p = heap_at(&h, where[id]);
            assert_non_null(p);
            assert_int_equal(p->id, id);
            assert_int_equal(p->idx, where[id]);
            assert_int_equal(heap_seq_at(&h, where[id]), seqs[id]);
            assert_int_equal(heap_remove_at(&h, where[id], &it), 0);
            assert_int_equal(it.id, id);
            in[id] = false;
            live--;
            break;
        case 2:                 /* re-key by handle */
            if (!in[id])
                break;
            p = heap_at(&h, where[id]);
            p->key = keys[id] = rnd(50);
            heap_fix_at(&h, where[id]);
            break;
        default:                /* pop: must be the reference minimum */
            if (live == 0) {
                assert_int_equal(heap_pop(&h, &it), HEAP_ERR_EMPTY);
                break;
            }
            best = N;
            for (k = 0; k < N; k++)
                if (in[k] && (best == N || keys[k] < keys[best] ||
                              (keys[k] == keys[best] && seqs[k] < seqs[best])))
                    best = (uint32_t)k;
            assert_int_equal(heap_pop(&h, &it), 0);
            assert_int_equal(it.id, best);
            in[best] = false;
            live--;
            break;
        }
        assert_int_equal(heap_len(&h), live);
    }
    /* Re-key everything, rebuild, drain in order. */
    n = heap_len(&h);
    for (i = 0; i < n; i++) {
        p = heap_at(&h, i);
        p->key = keys[p->id] = rnd(5);
    }
    heap_rebuild(&h);
    for (i = 0; i < n; i++) {
        best = N;
        for (k = 0; k < N; k++)
            if (in[k] && (best == N || keys[k] < keys[best] ||
                          (keys[k] == keys[best] && seqs[k] < seqs[best])))
                best = (uint32_t)k;
        assert_int_equal(heap_pop(&h, &it), 0);
        assert_int_equal(it.id, best);
        in[best] = false;
    }
    assert_int_equal(heap_remove_at(&h, 0, NULL), HEAP_ERR_EMPTY);
    heap_fini(&h);
}

/* 3-octet elements: the sequence number sits at an aligned offset. */
static int
b3_cmp(const void *a, const void *b, void *arg)
{
    (void)arg;
    return memcmp(a, b, 3);
}

static void
test_heap_odd_element_size(void **state)
{
    heap h;
    unsigned char e[3], out[3];
    int i;

    (void)state;
    heap_init(&h, NULL, 3, 0, b3_cmp, NULL, NULL);
    for (i = 99; i >= 0; i--) {
        e[0] = (unsigned char)(i / 10);
        e[1] = (unsigned char)(i % 10);
        e[2] = 0xA5;
        assert_int_equal(heap_push(&h, e), 0);
    }
    for (i = 0; i < 100; i++) {
        assert_int_equal(heap_pop(&h, out), 0);
        assert_int_equal(out[0], i / 10);
        assert_int_equal(out[1], i % 10);
        assert_int_equal(out[2], 0xA5);
    }
    heap_fini(&h);
}

/* Allocation failure: the push is refused and the heap is unchanged. */
static void
test_heap_nomem(void **state)
{
    struct tmem t;
    mem m = tmem_make(&t);
    heap h;
    item it;
    uint32_t i;

    (void)state;
    heap_init(&h, &m, sizeof(item), 0, item_cmp, NULL, NULL);
    tmem_fail_after(&t, 0);
    memset(&it, 0, sizeof(it));
    assert_int_equal(heap_push(&h, &it), HEAP_ERR_NOMEM);
    assert_int_equal(heap_len(&h), 0);
    t.armed = false;
    for (i = 0; i < 16; i++) {
        it.key = 100 - i;
        assert_int_equal(heap_push(&h, &it), 0);
    }
    tmem_fail_after(&t, 0);             /* the 17th needs to grow */
    it.key = 1;
    assert_int_equal(heap_push(&h, &it), HEAP_ERR_NOMEM);
    assert_int_equal(heap_len(&h), 16);
    assert_int_equal(((item *)heap_peek(&h))->key, 85);
    t.armed = false;
    heap_fini(&h);
    assert_int_equal(t.live, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heap_order_ties_fifo),
        cmocka_unit_test(test_heap_cap),
        cmocka_unit_test(test_heap_handles_remove_fix_random),
        cmocka_unit_test(test_heap_odd_element_size),
        cmocka_unit_test(test_heap_nomem),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
