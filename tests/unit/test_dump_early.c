/*
 * test_dump_early.c: unit tests of tools/pmul-dump/dump_early (the PDUs
 * pmul-dump keeps for receiver engines created later).
 *
 * Covers the visit of one message's PDUs oldest first (others skipped),
 * the entry cap and the octet cap pushing out the oldest (counted), a
 * datagram larger than the whole cap (counted, not kept), more than 64
 * entries of one message (the large-batch path), copies that outlive
 * the caller's buffer, and the destination IDs kept with an Address-family
 * PDU (sorted, not charged to the octet cap).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tools/pmul-dump/dump_early.h"

typedef struct seen {
    uint64_t ts[256];
    size_t n;
} seen;

static void
collect(void *arg, const dump_early_ent *e)
{
    seen *s = arg;

    assert_true(s->n < 256);
    /* The copy holds the bytes put in: the timestamp's low octet. */
    assert_int_equal(e->len, 10);
    assert_int_equal(e->pkt[0], (uint8_t)e->ts_us);
    s->ts[s->n++] = e->ts_us;
}

static void
put(dump_early *b, uint64_t ts, uint32_t msid, size_t len)
{
    uint8_t pkt[512];
    dump_early_ent e;

    memset(pkt, (int)(uint8_t)ts, sizeof(pkt));
    memset(&e, 0, sizeof(e));
    e.ts_us = ts;
    e.src = 1;
    e.msid = msid;
    e.multicast = true;
    e.pkt = pkt;
    e.len = len;
    dump_early_put(b, &e, NULL, 0);
    memset(pkt, 0xEE, sizeof(pkt));     /* the buffer must have copied */
}

static void
test_dump_early_order_and_caps(void **state)
{
    dump_early_stats st;
    dump_early *b;
    seen s;
    uint64_t t;
    (void)state;

    assert_int_equal(dump_early_new(&b, 4, 1000), 0);
    put(b, 1, 7, 10);
    put(b, 2, 8, 10);
    put(b, 3, 7, 10);
    memset(&s, 0, sizeof(s));
    assert_int_equal(dump_early_each(b, 1, 7, collect, &s), 2);
    assert_int_equal(s.ts[0], 1);
    assert_int_equal(s.ts[1], 3);
    /* Entry cap 4: the fifth pushes out the first. */
    put(b, 4, 7, 10);
    put(b, 5, 7, 10);
    memset(&s, 0, sizeof(s));
    assert_int_equal(dump_early_each(b, 1, 7, collect, &s), 3);
    assert_int_equal(s.ts[0], 3);
    assert_int_equal(s.ts[2], 5);
    assert_int_equal(dump_early_each(b, 1, 9, collect, &s), 0);
    dump_early_stats_get(b, &st);
    assert_int_equal(st.kept, 5);
    assert_int_equal(st.dropped, 1);
    assert_int_equal(st.bytes, 40);
    /* Larger than the whole cap: not kept. */
    put(b, 6, 7, 1001);
    dump_early_stats_get(b, &st);
    assert_int_equal(st.too_big, 1);
    dump_early_free(b);

    /* The octet cap pushes out as many as needed. */
    assert_int_equal(dump_early_new(&b, 100, 25), 0);
    for (t = 1; t <= 5; t++)
        put(b, t, 7, 10);
    memset(&s, 0, sizeof(s));
    assert_int_equal(dump_early_each(b, 1, 7, collect, &s), 2);
    assert_int_equal(s.ts[0], 4);
    dump_early_stats_get(b, &st);
    assert_int_equal(st.dropped, 3);
    assert_true(st.peak_bytes <= 25);
    dump_early_free(b);
    dump_early_free(NULL);
}

static void
test_dump_early_many_of_one(void **state)
{
    dump_early *b;
    seen s;
    uint64_t t;
    size_t i;
    (void)state;

    assert_int_equal(dump_early_new(&b, 300, 1u << 20), 0);
    for (t = 1; t <= 200; t++)
        put(b, t, t % 3 == 0 ? 8 : 7, 10);
    memset(&s, 0, sizeof(s));
    assert_int_equal(dump_early_each(b, 1, 7, collect, &s), 134);
    for (i = 1; i < s.n; i++)
        assert_true(s.ts[i - 1] < s.ts[i]);
    dump_early_free(b);
    assert_int_equal(dump_early_new(&b, 0, 10), -1);
}

static void
check_ids(void *arg, const dump_early_ent *e)
{
    size_t *visits = arg;

    (*visits)++;
    assert_true(e->is_address);
    assert_int_equal(e->id_cnt, 3);
    assert_int_equal(e->ids[0], 5);
    assert_int_equal(e->ids[1], 9);
    assert_int_equal(e->ids[2], 0xC0000201u);
    assert_int_equal(e->len, 7);
    assert_int_equal(e->pkt[6], 0xA7);
}

static void
test_dump_early_dest_ids(void **state)
{
    pmul_dest_entry d[3];
    uint8_t pkt[7] = { 0, 0, 0, 0, 0, 0, 0xA7 };
    dump_early_stats st;
    dump_early_ent e;
    dump_early *b;
    size_t visits = 0;
    (void)state;

    memset(d, 0, sizeof(d));
    d[0].dest_id = 0xC0000201u;
    d[1].dest_id = 9;
    d[2].dest_id = 5;
    memset(&e, 0, sizeof(e));
    e.src = 1;
    e.msid = 2;
    e.is_address = true;
    e.pkt = pkt;
    e.len = sizeof(pkt);
    assert_int_equal(dump_early_new(&b, 4, 7), 0);
    dump_early_put(b, &e, d, 3);
    d[0].dest_id = 0;                   /* the buffer must have copied */
    assert_int_equal(dump_early_each(b, 1, 2, check_ids, &visits), 1);
    assert_int_equal(visits, 1);
    dump_early_stats_get(b, &st);
    assert_int_equal(st.bytes, 7);
    dump_early_free(b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dump_early_order_and_caps),
        cmocka_unit_test(test_dump_early_many_of_one),
        cmocka_unit_test(test_dump_early_dest_ids),
    };

    return cmocka_run_group_tests_name("dump_early", tests, NULL, NULL);
}
