/*
 * test_dump_msg.c: unit tests of tools/pmul-dump/dump_msg (pmul-dump's
 * per-message accounting) under its caps (issue 13).
 *
 * Covers the report order (first seen), eviction of the least recently
 * used record by count and by octets with the report written early and
 * marked, a message starting a new record after its eviction, the sorted
 * list of sequence numbers turning into a bitmap (missing ranges and
 * completion the same either way, checked against a plain array), the
 * "complete just now" result, the routing cache (refreshed on a new
 * listing and on a new epoch, not otherwise), and long destination lists
 * (indexed) giving the same records as short ones.  The module allocates from
 * libc: ASan's leak check covers it in the sanitizer tree.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pmul/pmul_pdu.h"
#include "pmul/util/buf.h"
#include "tools/pmul-dump/dump_msg.h"

#define SRC 0xC0000201u                 /* 192.0.2.1 */

static int
addr(dump_msgs *m, uint64_t ts, uint32_t msid, uint16_t total, const uint32_t *ids,
     uint16_t n)
{
    pmul_dest_entry d[16];
    pmul_pdu p;
    uint16_t i;

    memset(&p, 0, sizeof(p));
    memset(d, 0, sizeof(d));
    for (i = 0; i < n; i++)
        d[i].dest_id = ids[i];
    p.type = PMUL_PDU_ADDRESS;
    p.source_id = SRC;
    p.msid = msid;
    p.u.address.total_pdus = total;
    p.u.address.expiry_time = 2000000000u;
    p.u.address.dest_cnt = n;
    p.u.address.dests = d;
    return dump_msgs_pdu(m, ts, &p, 40, 68);
}

static int
data(dump_msgs *m, uint64_t ts, uint32_t msid, uint16_t seq)
{
    pmul_pdu p;

    memset(&p, 0, sizeof(p));
    p.type = PMUL_PDU_DATA;
    p.source_id = SRC;
    p.msid = msid;
    p.u.data.seq = seq;
    return dump_msgs_pdu(m, ts, &p, 20, 48);
}

/* A complete Ack from node acker for (SRC, msid). */
static int
ack(dump_msgs *m, uint64_t ts, uint32_t msid, uint32_t acker)
{
    pmul_ack_entry e;
    pmul_pdu p;

    memset(&p, 0, sizeof(p));
    memset(&e, 0, sizeof(e));
    e.source_id = SRC;
    e.msid = msid;
    p.type = PMUL_PDU_ACK;
    p.source_id = acker;
    p.u.ack.entry_cnt = 1;
    p.u.ack.entries = &e;
    return dump_msgs_pdu(m, ts, &p, 24, 52);
}

/* The msid= values of the message lines in b, in order, into out. */
static size_t
msids(const buf *b, uint32_t *out, size_t cap, size_t *evicted)
{
    const char *s = (const char *)b->data, *end = s + b->len;
    size_t n = 0;

    *evicted = 0;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        size_t len = nl ? (size_t)(nl - s) : (size_t)(end - s);

        if (len > 8 && memcmp(s, "message ", 8) == 0) {
            const char *k = strstr(s, " msid=");

            if (k != NULL && k < s + len && n < cap)
                out[n++] = (uint32_t)strtoul(k + 6, NULL, 10);
            if (len >= 8 && memcmp(s + len - 8, " evicted", 8) == 0)
                (*evicted)++;
        }
        s += len + 1;
    }
    return n;
}

static void
test_dump_msg_order_and_count_eviction(void **state)
{
    uint32_t ids[1] = { 0xC0000202u }, got[8];
    dump_msgs_totals t;
    dump_msgs *m;
    buf ev, rep;
    size_t it = 0, n, evicted;
    (void)state;

    buf_init(&ev, NULL, SIZE_MAX);
    buf_init(&rep, NULL, SIZE_MAX);
    assert_int_equal(dump_msgs_new(&m, 3, 16, 0), 0);
    dump_msgs_set_evict_sink(m, &ev, false, true);
    assert_int_equal(addr(m, 1, 10, 2, ids, 1), 0);
    assert_int_equal(addr(m, 2, 11, 2, ids, 1), 0);
    assert_int_equal(addr(m, 3, 12, 2, ids, 1), 0);
    /* 10 is used again: 11 is now the least recently used. */
    assert_int_equal(data(m, 4, 10, 1), 0);
    assert_int_equal(addr(m, 5, 13, 2, ids, 1), 0);
    n = msids(&ev, got, 8, &evicted);
    assert_int_equal(n, 1);
    assert_int_equal(got[0], 11);
    assert_int_equal(evicted, 1);
    /* The held ones in first-seen order. */
    while (dump_msgs_report_next(m, &it, &rep, false) == 1)
        ;
    n = msids(&rep, got, 8, &evicted);
    assert_int_equal(n, 3);
    assert_int_equal(evicted, 0);
    assert_int_equal(got[0], 10);
    assert_int_equal(got[1], 12);
    assert_int_equal(got[2], 13);
    /* 11 again: a new record, reported after 13. */
    assert_int_equal(data(m, 6, 11, 1), 0);
    dump_msgs_totals_get(m, &t);
    assert_int_equal(t.msgs, 5);
    assert_int_equal(t.evicted, 2);
    assert_int_equal(t.live, 3);
    dump_msgs_free(m);
    buf_fini(&ev);
    buf_fini(&rep);
}

static void
test_dump_msg_byte_cap(void **state)
{
    uint32_t ids[16];
    dump_msgs_totals t;
    dump_msgs *m;
    buf ev;
    uint32_t i, k;
    (void)state;

    buf_init(&ev, NULL, SIZE_MAX);
    for (k = 0; k < 16; k++)
        ids[k] = 0x0A000000u + k;
    /* Room for a few records of 16 destinations, not 100. */
    assert_int_equal(dump_msgs_new(&m, 1000, 64, 8192), 0);
    dump_msgs_set_evict_sink(m, &ev, true, true);
    for (i = 0; i < 100; i++) {
        assert_int_equal(addr(m, i, i + 1, 3, ids, 16), 0);
        dump_msgs_totals_get(m, &t);
        assert_true(t.bytes <= 8192 || t.live == 1);
    }
    dump_msgs_totals_get(m, &t);
    assert_true(t.evicted > 80);
    assert_int_equal(t.evicted + t.live, 100);
    assert_non_null(strstr((const char *)ev.data, "\"evicted\":true"));
    dump_msgs_free(m);
    buf_fini(&ev);
}

/* Random sequence numbers: the missing list and completion agree with a
 * plain array whether the numbers sit in the sorted list or the bitmap. */
static void
test_dump_msg_sparse_and_bitmap(void **state)
{
    static uint8_t seen[65536];
    uint32_t ids[1] = { 0xC0000202u }, x = 12345, i;
    dump_msgs *m;
    buf rep, want;
    size_t it = 0;
    int done = 0, rc;
    uint32_t s, lo;
    (void)state;

    memset(seen, 0, sizeof(seen));
    buf_init(&rep, NULL, SIZE_MAX);
    buf_init(&want, NULL, SIZE_MAX);
    assert_int_equal(dump_msgs_new(&m, 10, 16, 0), 0);
    assert_int_equal(addr(m, 1, 1, 3000, ids, 1), 0);
    for (i = 0; i < 200; i++) {
        x = x * 1103515245u + 12345u;
        s = (x >> 8) % 3000u + 1u;
        assert_int_not_equal(data(m, 2 + i, 1, (uint16_t)s), -1);
        seen[s] = 1;
    }
    assert_int_equal(dump_msgs_report_next(m, &it, &rep, false), 1);
    /* The same ranges from the plain array. */
    assert_int_equal(buf_append_str(&want, " missing="), 0);
    lo = 0;
    for (s = 1, i = 0; s <= 3001; s++) {
        bool miss = s <= 3000 && !seen[s];

        if (miss && lo == 0)
            lo = s;
        if (!miss && lo != 0) {
            assert_int_equal(lo == s - 1 ? buf_printf(&want, "%s%u", i++ ? "," : "", lo)
                             : buf_printf(&want, "%s%u-%u", i++ ? "," : "", lo, s - 1), 0);
            lo = 0;
        }
    }
    assert_int_equal(buf_append_str(&want, " data="), 0);
    assert_int_equal(buf_append(&want, (const uint8_t *)"", 1), 0);
    assert_int_equal(buf_append(&rep, (const uint8_t *)"", 1), 0);
    assert_non_null(strstr((const char *)rep.data, (const char *)want.data));

    /* Completion: reported exactly once, by the PDU that completes it,
     * through the list (total 40) and through the bitmap (total 100). */
    assert_int_equal(addr(m, 1000, 2, 40, ids, 1), 0);
    assert_int_equal(addr(m, 1000, 3, 100, ids, 1), 0);
    for (s = 40; s >= 1; s--) {
        rc = data(m, 1001, 2, (uint16_t)s);
        done += rc == 1;
        assert_int_equal(rc, s == 1 ? 1 : 0);
    }
    assert_int_equal(data(m, 1002, 2, 5), 0);
    for (s = 100; s >= 1; s--)
        assert_int_equal(data(m, 1003, 3, (uint16_t)s), s == 1 ? 1 : 0);
    assert_int_equal(done, 1);
    dump_msgs_free(m);
    buf_fini(&rep);
    buf_fini(&want);
}

static int has_calls;

static bool
has_even(void *arg, uint32_t id)
{
    (void)arg;
    has_calls++;
    return id % 2 == 0;
}

static void
test_dump_msg_route_cache(void **state)
{
    uint32_t ids[4] = { 2, 3, 4, 5 }, more[1] = { 6 }, out[8];
    dump_msgs *m;
    (void)state;

    assert_int_equal(dump_msgs_new(&m, 10, 16, 0), 0);
    assert_int_equal(addr(m, 1, 1, 2, ids, 4), 0);
    has_calls = 0;
    assert_int_equal(dump_msgs_route(m, SRC, 1, 1, has_even, NULL, out, 8), 2);
    assert_int_equal(out[0], 2);
    assert_int_equal(out[1], 4);
    assert_int_equal(has_calls, 4);
    /* Same epoch, same list: from the cache. */
    assert_int_equal(dump_msgs_route(m, SRC, 1, 1, has_even, NULL, out, 8), 2);
    assert_int_equal(has_calls, 4);
    /* A new destination listed: only it is looked at. */
    assert_int_equal(addr(m, 2, 1, 2, more, 1), 0);
    assert_int_equal(dump_msgs_route(m, SRC, 1, 1, has_even, NULL, out, 8), 3);
    assert_int_equal(out[2], 6);
    assert_int_equal(has_calls, 5);
    /* A new epoch: all again; cap respected. */
    assert_int_equal(dump_msgs_route(m, SRC, 1, 2, has_even, NULL, out, 1), 1);
    assert_int_equal(has_calls, 10);
    /* Known from an Ack first, listed later: all again. */
    assert_int_equal(ack(m, 3, 1, 8), 0);
    assert_int_equal(dump_msgs_route(m, SRC, 1, 2, has_even, NULL, out, 8), 3);
    assert_int_equal(has_calls, 10);
    more[0] = 8;
    assert_int_equal(addr(m, 4, 1, 2, more, 1), 0);
    assert_int_equal(dump_msgs_route(m, SRC, 1, 2, has_even, NULL, out, 8), 4);
    assert_int_equal(has_calls, 16);
    /* Unknown message. */
    assert_int_equal(dump_msgs_route(m, SRC, 99, 2, has_even, NULL, out, 8), 0);
    assert_int_equal(dump_msgs_listed(m, SRC, 1, out, 8), 6);
    dump_msgs_free(m);
}

/* Long destination lists go through the hash index: the same records as
 * one by one (first-seen order, no duplicates, max_dests respected), over
 * records that follow one another (the index is per PDU). */
static void
test_dump_msg_long_lists(void **state)
{
    uint32_t a[12], b[12], out[32];
    dump_msgs *m;
    size_t i, n;
    (void)state;

    for (i = 0; i < 12; i++) {
        a[i] = 100 + (uint32_t)i;
        b[i] = 106 + (uint32_t)i;
    }
    b[11] = b[0];                       /* listed twice in one PDU */
    assert_int_equal(dump_msgs_new(&m, 10, 16, 0), 0);
    assert_int_equal(addr(m, 1, 1, 2, a, 12), 0);
    assert_int_equal(addr(m, 2, 2, 2, b, 12), 0);
    assert_int_equal(addr(m, 3, 1, 2, b, 12), 0);
    n = dump_msgs_listed(m, SRC, 1, out, 32);
    /* 100..111, then 112..116 of b; 117 is past max_dests (16). */
    assert_int_equal(n, 16);
    for (i = 0; i < n; i++)
        assert_int_equal(out[i], 100 + i);
    n = dump_msgs_listed(m, SRC, 2, out, 32);
    assert_int_equal(n, 11);
    for (i = 0; i < n; i++)
        assert_int_equal(out[i], 106 + i);
    /* An Ack from one of them is the same destination. */
    assert_int_equal(ack(m, 4, 1, 111), 0);
    assert_int_equal(dump_msgs_listed(m, SRC, 1, out, 32), 16);
    dump_msgs_free(m);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dump_msg_order_and_count_eviction),
        cmocka_unit_test(test_dump_msg_byte_cap),
        cmocka_unit_test(test_dump_msg_sparse_and_bitmap),
        cmocka_unit_test(test_dump_msg_route_cache),
        cmocka_unit_test(test_dump_msg_long_lists),
    };

    return cmocka_run_group_tests_name("dump_msg", tests, NULL, NULL);
}
