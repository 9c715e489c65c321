/*
 * test_dump_nodes.c: unit tests of tools/pmul-dump/dump_nodes (pmul-dump's
 * receiver engines, capped, least recently used evicted).
 *
 * Covers creation on demand up to the cap, "again" within one datagram,
 * eviction of the least recently used (a lookup counts as use), engines
 * of the current datagram never evicted for it (refused and counted),
 * the epoch changing on every creation (not on eviction), creation times, the
 * counters, and the argument checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tools/pmul-dump/dump_nodes.h"

static dump_nodes *
mk(size_t max)
{
    vnode_sink sink;
    vnode_opts o;
    dump_nodes *t;

    memset(&sink, 0, sizeof(sink));
    memset(&o, 0, sizeof(o));
    o.emcon = true;
    o.pdu_max_len = 1024;
    assert_int_equal(dump_nodes_new(&t, max, &o, &sink), 0);
    return t;
}

static void
test_dump_nodes_lru(void **state)
{
    dump_nodes_stats st;
    dump_nodes *t = mk(2);
    bool created, again;
    uint64_t ep;
    (void)state;

    dump_nodes_next_datagram(t);
    assert_non_null(dump_nodes_get(t, 10, 1000, &created, &again));
    assert_true(created);
    assert_false(again);
    /* Same datagram: handed out already. */
    assert_non_null(dump_nodes_get(t, 10, 1000, &created, &again));
    assert_false(created);
    assert_true(again);
    dump_nodes_next_datagram(t);
    assert_non_null(dump_nodes_get(t, 11, 2000, &created, &again));
    assert_int_equal(dump_nodes_born_us(t, 11), 2000);
    assert_int_equal(dump_nodes_born_us(t, 99), UINT64_MAX);
    /* Use 10: 11 becomes the least recently used. */
    dump_nodes_next_datagram(t);
    assert_non_null(dump_nodes_find(t, 10, &again));
    assert_false(again);
    ep = dump_nodes_epoch(t);
    dump_nodes_next_datagram(t);
    assert_non_null(dump_nodes_get(t, 12, 3000, &created, &again));
    assert_true(created);
    assert_int_not_equal(dump_nodes_epoch(t), ep);
    /* 11 was evicted for 12: only the creation moved the epoch on (a
     * cached list naming 11 finds no engine, and that is all). */
    assert_int_equal(dump_nodes_epoch(t), ep + 1);
    assert_true(dump_nodes_has(t, 10));
    assert_false(dump_nodes_has(t, 11));
    assert_true(dump_nodes_has(t, 12));
    assert_int_equal(dump_nodes_live(t), 2);
    dump_nodes_stats_get(t, &st);
    assert_int_equal(st.created, 3);
    assert_int_equal(st.evicted, 1);
    assert_int_equal(st.peak, 2);
    dump_nodes_advance_all(t, 4000);
    assert_int_equal(dump_nodes_stalls(t), 0);
    dump_nodes_free(t);
}

/* One datagram cannot evict what it uses itself. */
static void
test_dump_nodes_current_datagram_kept(void **state)
{
    dump_nodes_stats st;
    dump_nodes *t = mk(2);
    bool created, again;
    (void)state;

    dump_nodes_next_datagram(t);
    assert_non_null(dump_nodes_get(t, 1, 10, &created, &again));
    assert_non_null(dump_nodes_get(t, 2, 10, &created, &again));
    assert_null(dump_nodes_get(t, 3, 10, &created, &again));
    assert_false(created);
    dump_nodes_stats_get(t, &st);
    assert_int_equal(st.refused, 1);
    assert_int_equal(st.evicted, 0);
    /* The next datagram may. */
    dump_nodes_next_datagram(t);
    assert_non_null(dump_nodes_get(t, 3, 20, &created, &again));
    assert_true(created);
    /* Node ID 0 is refused by the engine: counted, nothing held. */
    dump_nodes_next_datagram(t);
    assert_null(dump_nodes_get(t, 0, 30, &created, &again));
    dump_nodes_stats_get(t, &st);
    assert_int_equal(st.create_failed, 1);
    dump_nodes_free(t);
    dump_nodes_free(NULL);
}

static void
test_dump_nodes_args(void **state)
{
    vnode_sink sink;
    vnode_opts o;
    dump_nodes *t;
    (void)state;

    memset(&sink, 0, sizeof(sink));
    memset(&o, 0, sizeof(o));
    assert_int_equal(dump_nodes_new(&t, 0, &o, &sink), -1);
    assert_null(t);
    assert_int_equal(dump_nodes_new(&t, 65537, &o, &sink), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dump_nodes_lru),
        cmocka_unit_test(test_dump_nodes_current_datagram_kept),
        cmocka_unit_test(test_dump_nodes_args),
    };

    return cmocka_run_group_tests_name("dump_nodes", tests, NULL, NULL);
}
