/*
 * NAME
 *	test_pmul_pcap_frag - unit tests for the capture fragment reassembler
 * SYNOPSIS
 *	meson test -C BUILD -v pmul_pcap_frag
 * DESCRIPTION
 *	Whole datagrams from fragments in order, reversed and in random
 *	orders with random sizes (IPv4 and IPv6), identical duplicates,
 *	and every way a fragment can contradict its datagram (different
 *	overlapping octets, a non-last fragment not a multiple of 8, two
 *	different ends, data past the end, beyond 65535 octets); the
 *	timeout on capture time, the datagram and byte limits, keys that
 *	differ only in one field, and allocation failure at every step.
 *	The reader's use of it on a real capture is checked by
 *	tests/integ/check_dump_fragments.py against tshark.
 * SECURITY
 *	Test code.
 * DIAGNOSTICS
 *	cmocka.
 * SEE ALSO
 *	pmul/pmul_pcap_frag.h.
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

#include "pmul/pmul_pcap_frag.h"
#include "pmul/util/errtab.h"
#include "tests/unit/test_common.h"

#define DG_MAX 65535u

static uint8_t dg[DG_MAX];

static void
fill(size_t len, uint32_t seed)
{
    for (size_t i = 0; i < len; i++) {
        seed = seed * 1103515245u + 12345u;
        dg[i] = (uint8_t)(seed >> 16);
    }
}

/* A fragment of dg[off, off+len) of datagram `id` from 198.18.0.1. */
static pmul_pcap_frame
frag4(uint32_t id, size_t off, size_t len, bool more, uint64_t ts_us)
{
    pmul_pcap_frame f;

    memset(&f, 0, sizeof(f));
    f.ip_version = 4;
    f.src_ip4 = 0xC6120001u;
    f.dst_ip4 = 0xEF010102u;
    f.ip_proto = 17;
    f.ip_id = id;
    f.frag_offset = (uint16_t)(off / 8u);
    f.more_frags = more;
    f.frag_data = dg + off;
    f.frag_len = len;
    f.ts_us = ts_us;
    return f;
}

static int
push(pmul_pcap_frag *r, const pmul_pcap_frame *f, const uint8_t **out, size_t *len)
{
    uint16_t parts;

    return pmul_pcap_frag_push(r, f, out, len, &parts);
}

static void
test_pmul_pcap_frag_in_order_and_reversed(void **state)
{
    pmul_pcap_frag *r;
    pmul_pcap_frame f[3];
    pmul_pcap_frag_stats st;
    const uint8_t *out = NULL;
    size_t len = 0;
    uint16_t parts = 0;

    (void)state;
    fill(3848, 1);
    assert_int_equal(pmul_pcap_frag_new(&r, NULL, NULL), 0);
    /* 3848 octets of UDP in 1480-octet pieces, as an Ethernet MTU cuts a
     * 3840-octet PDU. */
    f[0] = frag4(7, 0, 1480, true, 1000);
    f[1] = frag4(7, 1480, 1480, true, 1001);
    f[2] = frag4(7, 2960, 888, false, 1002);
    assert_int_equal(push(r, &f[0], &out, &len), 0);
    assert_int_equal(push(r, &f[1], &out, &len), 0);
    assert_int_equal(pmul_pcap_frag_push(r, &f[2], &out, &len, &parts), 1);
    assert_int_equal(len, 3848);
    assert_int_equal(parts, 3);
    assert_memory_equal(out, dg, 3848);

    assert_int_equal(push(r, &f[2], &out, &len), 0);
    assert_int_equal(push(r, &f[1], &out, &len), 0);
    assert_int_equal(push(r, &f[0], &out, &len), 1);
    assert_int_equal(len, 3848);
    assert_memory_equal(out, dg, 3848);

    pmul_pcap_frag_get_stats(r, &st);
    assert_int_equal(st.completed, 2);
    assert_int_equal(st.held_datagrams, 0);
    assert_int_equal(st.held_bytes, 0);
    pmul_pcap_frag_free(r);
}

/* Random fragment sizes (multiples of 8), random order, random identical
 * duplicates, IPv4 and IPv6: always the original datagram, exactly once. */
static void
test_pmul_pcap_frag_random_orders(void **state)
{
    struct tmem t;
    mem m = tmem_make(&t);
    pmul_pcap_frag *r;
    pmul_pcap_frame f[64];
    uint32_t seed = 12345u;
    const uint8_t *out;
    size_t len;

    (void)state;
    assert_int_equal(pmul_pcap_frag_new(&r, &m, NULL), 0);
    for (int round = 0; round < 300; round++) {
        size_t total, off = 0, n = 0, i, whole = 0;

        seed = seed * 1103515245u + 12345u;
        total = 16 + (seed >> 8) % 20000;
        fill(total, seed);
        while (off < total) {
            size_t piece;

            seed = seed * 1103515245u + 12345u;
            piece = (1 + (seed >> 8) % 200) * 8u;
            if (piece >= total - off || n == 62)
                piece = total - off;
            if (off == 0 && piece == total)     /* at least two parts */
                piece = (total - 1) / 8u * 8u;
            f[n] = frag4((uint32_t)round, off, piece, off + piece < total, 5);
            if (round % 2 == 1) {
                f[n].ip_version = 6;
                memset(f[n].src_ip6, 0x20, 16);
                memset(f[n].dst_ip6, 0xff, 16);
            }
            off += piece;
            n++;
        }
        /* One duplicate, then shuffle. */
        f[n] = f[(seed >> 4) % n];
        n++;
        for (i = n - 1; i > 0; i--) {
            pmul_pcap_frame tmp;
            size_t j;

            seed = seed * 1103515245u + 12345u;
            j = (seed >> 8) % (i + 1);
            tmp = f[i];
            f[i] = f[j];
            f[j] = tmp;
        }
        for (i = 0; i < n; i++) {
            int rc = push(r, &f[i], &out, &len);

            if (rc < 0)
                print_message("round %d frag %zu/%zu off %u len %zu more %d: %s\n", round, i, n,
                              f[i].frag_offset * 8u, f[i].frag_len, f[i].more_frags,
                              pmul_pcap_errname(rc));
            assert_true(rc == 0 || rc == 1);
            if (rc == 1) {
                whole++;
                assert_int_equal(len, total);
                assert_memory_equal(out, dg, total);
            }
        }
        /* The duplicate of the completing fragment may start a new
         * datagram that never completes; it times out later. */
        assert_int_equal(whole, 1);
    }
    pmul_pcap_frag_free(r);
    assert_int_equal(t.live, 0);
}

static void
test_pmul_pcap_frag_contradictions_are_bad(void **state)
{
    pmul_pcap_frag *r;
    pmul_pcap_frame a, b;
    pmul_pcap_frag_stats st;
    const uint8_t *out;
    size_t len;
    static uint8_t other[64];

    (void)state;
    fill(4000, 2);
    assert_int_equal(pmul_pcap_frag_new(&r, NULL, NULL), 0);

    /* Overlap with different octets. */
    a = frag4(1, 0, 64, true, 1);
    b = a;
    memset(other, 0x5a, sizeof(other));
    b.frag_data = other;
    assert_int_equal(push(r, &a, &out, &len), 0);
    assert_int_equal(push(r, &b, &out, &len), PMUL_PCAP_ERR_FRAG_BAD);

    /* A non-last fragment whose length is not a multiple of 8. */
    a = frag4(2, 0, 60, true, 1);
    assert_int_equal(push(r, &a, &out, &len), PMUL_PCAP_ERR_FRAG_BAD);

    /* Two different ends. */
    a = frag4(3, 64, 100, false, 1);
    b = frag4(3, 64, 108, false, 1);
    assert_int_equal(push(r, &a, &out, &len), 0);
    assert_int_equal(push(r, &b, &out, &len), PMUL_PCAP_ERR_FRAG_BAD);

    /* Data past the end the last fragment set. */
    a = frag4(4, 64, 100, false, 1);
    b = frag4(4, 160, 64, true, 1);
    assert_int_equal(push(r, &a, &out, &len), 0);
    assert_int_equal(push(r, &b, &out, &len), PMUL_PCAP_ERR_FRAG_BAD);

    /* ... and the other way round: the end comes after data beyond it. */
    a = frag4(5, 160, 64, false, 1);
    b = frag4(5, 64, 200, true, 1);
    assert_int_equal(push(r, &a, &out, &len), 0);
    assert_int_equal(push(r, &b, &out, &len), PMUL_PCAP_ERR_FRAG_BAD);

    /* Beyond 65535 octets (the ping-of-death shape). */
    a = frag4(6, 0, 16, true, 1);
    a.frag_offset = 8190;
    a.frag_len = 100;
    a.more_frags = false;
    assert_int_equal(push(r, &a, &out, &len), PMUL_PCAP_ERR_FRAG_BAD);

    /* An empty last part (found by fuzz_pcap_frag: it has no buffer yet)
     * is a valid end; the datagram completes when the rest comes. */
    a = frag4(8, 64, 0, false, 1);
    assert_int_equal(push(r, &a, &out, &len), 0);
    a = frag4(8, 0, 64, true, 1);
    assert_int_equal(push(r, &a, &out, &len), 1);
    assert_int_equal(len, 64);

    /* Not a fragment at all. */
    a = frag4(7, 0, 16, false, 1);
    assert_int_equal(push(r, &a, &out, &len), PMUL_PCAP_ERR_INVAL);

    pmul_pcap_frag_get_stats(r, &st);
    assert_int_equal(st.bad, 6);
    assert_int_equal(st.held_datagrams, 0);
    assert_int_equal(st.held_bytes, 0);
    pmul_pcap_frag_free(r);
}

static void
test_pmul_pcap_frag_keys_differ(void **state)
{
    pmul_pcap_frag *r;
    pmul_pcap_frame a, b;
    pmul_pcap_frag_stats st;
    const uint8_t *out;
    size_t len;

    (void)state;
    fill(200, 3);
    assert_int_equal(pmul_pcap_frag_new(&r, NULL, NULL), 0);
    a = frag4(9, 0, 64, true, 1);
    b = frag4(9, 64, 36, false, 1);
    b.src_ip4++;                        /* another sender, same ID */
    assert_int_equal(push(r, &a, &out, &len), 0);
    assert_int_equal(push(r, &b, &out, &len), 0);
    b = frag4(9, 64, 36, false, 1);
    b.ip_proto = 6;                     /* another protocol */
    assert_int_equal(push(r, &b, &out, &len), 0);
    pmul_pcap_frag_get_stats(r, &st);
    assert_int_equal(st.held_datagrams, 3);
    b = frag4(9, 64, 36, false, 1);
    assert_int_equal(push(r, &b, &out, &len), 1);
    assert_int_equal(len, 100);
    pmul_pcap_frag_free(r);
}

static void
test_pmul_pcap_frag_timeout_and_limits(void **state)
{
    pmul_pcap_frag_limits l;
    pmul_pcap_frag *r;
    pmul_pcap_frame a;
    pmul_pcap_frag_stats st;
    const uint8_t *out;
    size_t len;

    (void)state;
    fill(8192, 4);
    pmul_pcap_frag_limits_default(&l);
    l.max_datagrams = 3;
    l.timeout_us = 1000000;
    assert_int_equal(pmul_pcap_frag_new(&r, NULL, &l), 0);

    /* The first part of datagram 1 is too old when the rest arrives. */
    a = frag4(1, 0, 64, true, 0);
    assert_int_equal(push(r, &a, &out, &len), 0);
    a = frag4(1, 64, 10, false, 1000001);
    assert_int_equal(push(r, &a, &out, &len), 0);
    pmul_pcap_frag_get_stats(r, &st);
    assert_int_equal(st.expired, 1);
    assert_int_equal(st.held_datagrams, 1);

    /* Four incomplete datagrams with room for three: the oldest goes. */
    for (uint32_t id = 10; id < 14; id++) {
        a = frag4(id, 0, 64, true, 1000002 + id);
        assert_int_equal(push(r, &a, &out, &len), 0);
    }
    pmul_pcap_frag_get_stats(r, &st);
    assert_int_equal(st.held_datagrams, 3);
    assert_int_equal(st.evicted, 2);
    pmul_pcap_frag_free(r);

    /* A byte budget smaller than one datagram's buffer. */
    pmul_pcap_frag_limits_default(&l);
    l.max_bytes = 2048;
    assert_int_equal(pmul_pcap_frag_new(&r, NULL, &l), 0);
    a = frag4(1, 0, 64, true, 0);
    assert_int_equal(push(r, &a, &out, &len), PMUL_PCAP_ERR_FRAG_CAP);
    pmul_pcap_frag_get_stats(r, &st);
    assert_int_equal(st.held_bytes, 0);
    pmul_pcap_frag_free(r);

    l.max_datagrams = 0;
    assert_int_equal(pmul_pcap_frag_new(&r, NULL, &l), PMUL_PCAP_ERR_INVAL);
    assert_null(r);
}

/* Fail the k-th allocation of a three-datagram run for every k: the
 * failing push says NOMEM, nothing leaks, and later datagrams complete. */
static void
test_pmul_pcap_frag_alloc_failure_every_step(void **state)
{
    struct tmem t;
    mem m;
    pmul_pcap_frag *r;
    pmul_pcap_frame a;
    const uint8_t *out;
    size_t len;
    long k;
    int rc, fails;

    (void)state;
    fill(9000, 5);
    for (k = 0;; k++) {
        m = tmem_make(&t);
        tmem_fail_after(&t, k);
        rc = pmul_pcap_frag_new(&r, &m, NULL);
        if (rc != 0) {
            assert_int_equal(rc, PMUL_PCAP_ERR_NOMEM);
            assert_int_equal(t.live, 0);
            continue;
        }
        fails = 0;
        for (uint32_t id = 0; id < 3; id++) {
            a = frag4(id, 0, 4096, true, 1);
            rc = push(r, &a, &out, &len);
            fails += rc == PMUL_PCAP_ERR_NOMEM;
            assert_true(rc == 0 || rc == PMUL_PCAP_ERR_NOMEM);
            a = frag4(id, 4096, 4900, false, 1);
            rc = push(r, &a, &out, &len);
            fails += rc == PMUL_PCAP_ERR_NOMEM;
            assert_true(rc == 0 || rc == 1 || rc == PMUL_PCAP_ERR_NOMEM);
            if (rc == 1) {
                assert_int_equal(len, 8996);
                assert_memory_equal(out, dg, 8996);
            }
        }
        pmul_pcap_frag_free(r);
        assert_int_equal(t.live, 0);
        if (fails == 0)
            break;
    }
    assert_true(k > 3);
}

/* The capture library's codes lie in its own range of the project's one
 * error space (pmul/util/errtab.h) and each has a name. */
static void
test_pmul_pcap_errors_in_own_range(void **state)
{
#define CODE(name, val, text) val,
    static const int codes[] = { PMUL_PCAP_ERRNO_MAP(CODE) };
#undef CODE
    size_t i, j;

    (void)state;
    for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        assert_true(codes[i] <= PCAP_ERR_FIRST && codes[i] >= PCAP_ERR_LAST);
        assert_string_not_equal(pmul_pcap_errname(codes[i]), "UNKNOWN");
        for (j = 0; j < i; j++)
            assert_int_not_equal(codes[i], codes[j]);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pmul_pcap_frag_in_order_and_reversed),
        cmocka_unit_test(test_pmul_pcap_frag_random_orders),
        cmocka_unit_test(test_pmul_pcap_frag_contradictions_are_bad),
        cmocka_unit_test(test_pmul_pcap_frag_keys_differ),
        cmocka_unit_test(test_pmul_pcap_frag_timeout_and_limits),
        cmocka_unit_test(test_pmul_pcap_frag_alloc_failure_every_step),
        cmocka_unit_test(test_pmul_pcap_errors_in_own_range),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
