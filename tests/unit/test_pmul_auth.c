/*
 * test_pmul_auth.c: unit tests of pmul/pmul_auth (the authenticated
 * P_MUL mode: MAC trailer and replay window).
 *
 * Covers the trailer against hand-assembled bytes and an independent
 * HMAC (EVP_Q_mac), Wireshark's checksum over the whole sealed payload,
 * the round trip, every single-bit flip and every truncation rejected,
 * replays inside and outside the window and its exact edge, reordering
 * within the window, a wrong key, key ID or IP source, a plain PDU from a
 * node not in the mode, the sender's epoch across a restart, a counter
 * wrap and a re-anchor, the age limit against replays to a restarted
 * receiver, LRU eviction at the source cap, and allocation
 * failure at every step of pmul_auth_new() (and none afterwards).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "pmul/pmul_auth.h"
#include "pmul/pmul_pdu.h"
#include "test_common.h"

#define IP_A 0xC6120001u        /* 198.18.0.1 */
#define IP_B 0xC6120002u
#define IP_C 0xC6120003u
#define T0_MS UINT64_C(1764950400000)   /* 2025-12-05 16:00 UTC */

static const uint8_t key1[32] = "0123456789abcdef0123456789abcdef";
static const uint8_t key2[32] = "0123456789abcdef0123456789abcdeX";

/* The Discard_Message_PDU worked example of docs/wire.md 3.2. */
static const uint8_t discard[16] = {0x00, 0x10, 0x01, 0x03, 0x00, 0x00, 0x6f, 0xb5,
                                    0xc0, 0x00, 0x02, 0x01, 0x00, 0x01, 0x00, 0x02};

static pmul_auth *new_ctx(const uint8_t *key, uint8_t key_id, size_t max_sources)
{
    pmul_auth_config cfg = {key, 32, key_id, max_sources, 0};
    pmul_auth *a = NULL;

    assert_int_equal(pmul_auth_new(&a, &cfg, NULL), 0);
    return a;
}

/* Seal the Discard example into buf; returns the datagram length. */
static size_t seal_discard(pmul_auth *a, uint64_t wall_ms, uint8_t *buf, size_t cap)
{
    ssize_t n;

    memcpy(buf, discard, sizeof discard);
    n = pmul_auth_seal(a, wall_ms, IP_A, buf, sizeof discard, cap);
    assert_int_equal(n, (ssize_t)(sizeof discard + PMUL_AUTH_TRAILER_LEN));
    return (size_t)n;
}

/* The sequence number written in a sealed datagram's trailer. */
static uint64_t seq_of(const uint8_t *pkt, size_t len)
{
    const uint8_t *p = pkt + len - PMUL_AUTH_TRAILER_LEN + 4;
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* The Discard example sealed with key1, key ID 7, at T0_MS from
 * 198.18.0.1: docs/pmul-auth.md's worked example, computed there (and in
 * tests/fuzz/seeds_pmul_auth.py) with Python's hmac, not with this code. */
static const uint8_t discard_sealed[46] = {
    0x00, 0x10, 0x01, 0x03, 0x00, 0x00, 0x6f, 0xb5, 0xc0, 0x00, 0x02, 0x01, 0x00, 0x01,
    0x00, 0x02, 0x4d, 0x41, 0x01, 0x07, 0x01, 0x9a, 0xef, 0x3d, 0xdc, 0x00, 0x00, 0x00,
    0x89, 0x2d, 0x50, 0x2a, 0xea, 0x3d, 0xd3, 0xeb, 0xda, 0x82, 0x52, 0x3b, 0xfc, 0xff,
    0x1f, 0x19, 0xc1, 0xc8};

static void test_pmul_auth_trailer_bytes(void **state)
{
    uint8_t buf[128], in[12 + 4 + sizeof discard], mac[32];
    pmul_auth *a = new_ctx(key1, 7, 0);
    size_t n, outl = 0;
    (void)state;

    n = seal_discard(a, T0_MS, buf, sizeof buf);
    assert_int_equal(n, sizeof discard_sealed);
    assert_memory_equal(buf, discard_sealed, sizeof discard_sealed);
    /* Magic, version, key ID, sequence = epoch_ms << 16 | 0. */
    assert_int_equal(buf[16], 0x4d);
    assert_int_equal(buf[17], 0x41);
    assert_int_equal(buf[18], 1);
    assert_int_equal(buf[19], 7);
    assert_true(seq_of(buf, n) == (T0_MS << 16));
    /* MAC: HMAC-SHA-256 over trailer header || IP source || PDU. */
    memcpy(in, buf + 16, 12);
    in[12] = 198, in[13] = 18, in[14] = 0, in[15] = 1;
    memcpy(in + 16, discard, sizeof discard);
    assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key1, sizeof key1, in,
                              sizeof in, mac, sizeof mac, &outl));
    assert_int_equal(outl, 32);
    assert_memory_equal(buf + 28, mac, PMUL_AUTH_MAC_LEN);
    /* Balance: Wireshark's Fletcher over the whole payload finds the
     * PDU's own checksum (0x6fb5) again. */
    assert_int_equal(pmul_cksum_fletcher(buf, n), 0x6fb5);
    /* The next datagram counts on. */
    n = seal_discard(a, T0_MS + 5, buf, sizeof buf);
    assert_true(seq_of(buf, n) == ((T0_MS << 16) | 1));
    pmul_auth_free(a);
}

static void test_pmul_auth_round_trip(void **state)
{
    pmul_auth *tx = new_ctx(key1, 1, 0), *rx = new_ctx(key1, 1, 0);
    static uint8_t buf[65535 + PMUL_AUTH_TRAILER_LEN];
    pmul_auth_stats st;
    size_t sizes[] = {12, 16, 1024, 65535};
    (void)state;

    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        for (size_t i = 0; i < sizes[k]; i++)
            buf[i] = (uint8_t)(i * 7 + k);
        assert_int_equal(pmul_auth_seal(tx, T0_MS, IP_A, buf, sizes[k], sizes[k] + 29),
                         PMUL_ERR_NOSPACE);
        assert_int_equal(pmul_auth_seal(tx, T0_MS, IP_A, buf, sizes[k], sizeof buf),
                         (ssize_t)(sizes[k] + PMUL_AUTH_TRAILER_LEN));
        assert_int_equal(pmul_auth_open(rx, T0_MS, IP_A, buf, sizes[k] + PMUL_AUTH_TRAILER_LEN),
                         (ssize_t)sizes[k]);
        for (size_t i = 0; i < sizes[k]; i++)
            if (buf[i] != (uint8_t)(i * 7 + k))
                fail_msg("size %zu: octet %zu changed", sizes[k], i);
    }
    assert_int_equal(pmul_auth_seal(tx, T0_MS, IP_A, buf, 11, sizeof buf), PMUL_ERR_INVAL);
    assert_int_equal(pmul_auth_seal(tx, T0_MS, IP_A, buf, 65536, sizeof buf), PMUL_ERR_INVAL);
    pmul_auth_get_stats(rx, &st);
    assert_int_equal(st.opened, 4);
    assert_int_equal(st.sources, 1);
    pmul_auth_get_stats(tx, &st);
    assert_int_equal(st.sealed, 4);
    pmul_auth_free(tx);
    pmul_auth_free(rx);
}

static void test_pmul_auth_every_bit_flip_rejected(void **state)
{
    pmul_auth *tx = new_ctx(key1, 1, 0), *rx = new_ctx(key1, 1, 0);
    uint8_t buf[128];
    pmul_auth_stats st;
    size_t n;
    (void)state;

    n = seal_discard(tx, T0_MS, buf, sizeof buf);
    for (size_t bit = 0; bit < n * 8; bit++) {
        ssize_t rc;

        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        rc = pmul_auth_open(rx, T0_MS, IP_A, buf, n);
        if (rc >= 0)
            fail_msg("bit %zu flipped: got %zd, want a rejection", bit, rc);
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    /* Nothing was recorded: the intact datagram still opens. */
    assert_int_equal(pmul_auth_open(rx, T0_MS, IP_A, buf, n), (ssize_t)sizeof discard);
    pmul_auth_get_stats(rx, &st);
    assert_int_equal(st.drops[PMUL_AUTH_DROP_MISSING] + st.drops[PMUL_AUTH_DROP_BAD], n * 8);
    assert_int_equal(st.drops[PMUL_AUTH_DROP_REPLAY], 0);
    pmul_auth_free(tx);
    pmul_auth_free(rx);
}

static void test_pmul_auth_every_truncation_rejected(void **state)
{
    pmul_auth *tx = new_ctx(key1, 1, 0), *rx = new_ctx(key1, 1, 0);
    uint8_t buf[128];
    size_t n;
    (void)state;

    n = seal_discard(tx, T0_MS, buf, sizeof buf);
    for (size_t len = 0; len < n; len++) {
        ssize_t rc = pmul_auth_open(rx, T0_MS, IP_A, len > 0 ? buf : NULL, len);

        if (rc != PMUL_ERR_AUTH_MISSING && rc != PMUL_ERR_AUTH_BAD)
            fail_msg("truncated to %zu: got %zd, want AUTH_MISSING or AUTH_BAD", len, rc);
    }
    /* An extra octet moves the trailer: refused too. */
    buf[n] = 0;
    assert_true(pmul_auth_open(rx, T0_MS, IP_A, buf, n + 1) < 0);
    assert_int_equal(pmul_auth_open(rx, T0_MS, IP_A, buf, n), (ssize_t)sizeof discard);
    assert_int_equal(pmul_auth_open(NULL, T0_MS, IP_A, buf, n), PMUL_ERR_INVAL);
    pmul_auth_free(tx);
    pmul_auth_free(rx);
}

static void test_pmul_auth_replay_window(void **state)
{
    pmul_auth *tx = new_ctx(key1, 1, 0), *rx = new_ctx(key1, 1, 0);
    static uint8_t keep[PMUL_AUTH_WINDOW + 2][64];
    uint8_t buf[64];
    size_t n = 0;
    pmul_auth_stats st;
    (void)state;

    /* Seal WINDOW + 2 datagrams; open the newest first, then the rest
     * newest to oldest: everything within the window is accepted. */
    for (size_t i = 0; i < PMUL_AUTH_WINDOW + 2; i++)
        n = seal_discard(tx, T0_MS, keep[i], sizeof keep[i]);
    for (size_t i = PMUL_AUTH_WINDOW + 2; i-- > 2;)
        if (pmul_auth_open(rx, T0_MS, IP_A, keep[i], n) != (ssize_t)sizeof discard)
            fail_msg("datagram %zu within the window refused", i);
    /* keep[1] is WINDOW below the top (keep[WINDOW+1]): outside. */
    assert_int_equal(pmul_auth_open(rx, T0_MS, IP_A, keep[1], n), PMUL_ERR_AUTH_REPLAY);
    assert_int_equal(pmul_auth_open(rx, T0_MS, IP_A, keep[0], n), PMUL_ERR_AUTH_REPLAY);
    /* Every one seen is a replay now. */
    assert_int_equal(pmul_auth_open(rx, T0_MS, IP_A, keep[2], n), PMUL_ERR_AUTH_REPLAY);
    assert_int_equal(pmul_auth_open(rx, T0_MS, IP_A, keep[PMUL_AUTH_WINDOW + 1], n),
                     PMUL_ERR_AUTH_REPLAY);
    /* A gap: skip 5, then take them late (reordering), once each. */
    for (int i = 0; i < 5; i++)
        n = seal_discard(tx, T0_MS, keep[i], sizeof keep[i]);
    n = seal_discard(tx, T0_MS, buf, sizeof buf);
    assert_int_equal(pmul_auth_open(rx, T0_MS, IP_A, buf, n), (ssize_t)sizeof discard);
    for (int i = 4; i >= 0; i--)
        assert_int_equal(pmul_auth_open(rx, T0_MS, IP_A, keep[i], n), (ssize_t)sizeof discard);
    for (int i = 0; i < 5; i++)
        assert_int_equal(pmul_auth_open(rx, T0_MS, IP_A, keep[i], n), PMUL_ERR_AUTH_REPLAY);
    pmul_auth_get_stats(rx, &st);
    assert_int_equal(st.drops[PMUL_AUTH_DROP_REPLAY], 9);
    assert_string_equal(pmul_auth_drop_name(PMUL_AUTH_DROP_REPLAY), "auth-replay");
    assert_string_equal(pmul_auth_drop_name(PMUL_AUTH_DROP_COUNT), "unknown");
    pmul_auth_free(tx);
    pmul_auth_free(rx);
}

static void test_pmul_auth_window_far_jump(void **state)
{
    pmul_auth *tx = new_ctx(key1, 1, 0), *rx = new_ctx(key1, 1, 0);
    uint8_t old[64], buf[64];
    size_t n;
    (void)state;

    n = seal_discard(tx, T0_MS, old, sizeof old);
    /* A minute later the epoch is re-anchored to the clock: a jump far
     * beyond the window, which is cleared; the old one is then too old. */
    n = seal_discard(tx, T0_MS + PMUL_AUTH_REANCHOR_MS, buf, sizeof buf);
    assert_true(seq_of(buf, n) == (T0_MS + PMUL_AUTH_REANCHOR_MS) << 16);
    assert_int_equal(pmul_auth_open(rx, T0_MS, IP_A, buf, n), (ssize_t)sizeof discard);
    assert_int_equal(pmul_auth_open(rx, T0_MS, IP_A, old, n), PMUL_ERR_AUTH_REPLAY);
    pmul_auth_free(tx);
    pmul_auth_free(rx);
}

static void test_pmul_auth_wrong_key_id_source_or_plain(void **state)
{
    pmul_auth *tx = new_ctx(key1, 1, 0), *rx = new_ctx(key1, 1, 0);
    pmul_auth *other = new_ctx(key2, 1, 0), *other_id = new_ctx(key1, 2, 0);
    uint8_t buf[64];
    pmul_auth_stats st;
    size_t n;
    (void)state;

    n = seal_discard(other, T0_MS, buf, sizeof buf);
    assert_int_equal(pmul_auth_open(rx, T0_MS, IP_A, buf, n), PMUL_ERR_AUTH_BAD);
    n = seal_discard(other_id, T0_MS, buf, sizeof buf);
    assert_int_equal(pmul_auth_open(rx, T0_MS, IP_A, buf, n), PMUL_ERR_AUTH_BAD);
    /* Right key, but replayed from another address. */
    n = seal_discard(tx, T0_MS, buf, sizeof buf);
    assert_int_equal(pmul_auth_open(rx, T0_MS, IP_B, buf, n), PMUL_ERR_AUTH_BAD);
    /* A node not in the mode: a plain PDU. */
    assert_int_equal(pmul_auth_open(rx, T0_MS, IP_A, discard, sizeof discard), PMUL_ERR_AUTH_MISSING);
    memcpy(buf, discard, sizeof discard);
    memset(buf + sizeof discard, 0, PMUL_AUTH_TRAILER_LEN);
    assert_int_equal(pmul_auth_open(rx, T0_MS, IP_A, buf, n), PMUL_ERR_AUTH_MISSING);
    pmul_auth_get_stats(rx, &st);
    assert_int_equal(st.drops[PMUL_AUTH_DROP_BAD], 3);
    assert_int_equal(st.drops[PMUL_AUTH_DROP_MISSING], 2);
    assert_int_equal(st.opened, 0);
    assert_int_equal(st.sources, 0);
    pmul_auth_free(tx);
    pmul_auth_free(rx);
    pmul_auth_free(other);
    pmul_auth_free(other_id);
}

static void test_pmul_auth_restart_not_a_replay(void **state)
{
    pmul_auth *tx = new_ctx(key1, 1, 0), *rx = new_ctx(key1, 1, 0), *tx2;
    uint8_t buf[64];
    size_t n;
    (void)state;

    for (int i = 0; i < 100; i++) {
        n = seal_discard(tx, T0_MS + (uint64_t)i, buf, sizeof buf);
        assert_int_equal(pmul_auth_open(rx, T0_MS, IP_A, buf, n), (ssize_t)sizeof discard);
    }
    pmul_auth_free(tx);
    /* The node restarts a second later with a fresh counter. */
    tx2 = new_ctx(key1, 1, 0);
    n = seal_discard(tx2, T0_MS + 1000, buf, sizeof buf);
    assert_int_equal(pmul_auth_open(rx, T0_MS, IP_A, buf, n), (ssize_t)sizeof discard);
    pmul_auth_free(tx2);
    /* With its clock set back an hour, it looks like a replay (the
     * documented hazard). */
    tx2 = new_ctx(key1, 1, 0);
    n = seal_discard(tx2, T0_MS - 3600000, buf, sizeof buf);
    assert_int_equal(pmul_auth_open(rx, T0_MS, IP_A, buf, n), PMUL_ERR_AUTH_REPLAY);
    pmul_auth_free(tx2);
    pmul_auth_free(rx);
}

static void test_pmul_auth_counter_wrap(void **state)
{
    pmul_auth *tx = new_ctx(key1, 1, 0), *rx = new_ctx(key1, 1, 0);
    uint8_t buf[64];
    size_t n = 0;
    (void)state;

    /* 65,536 datagrams in one millisecond: the epoch moves on by one and
     * the sequence stays contiguous, so the window carries over. */
    for (uint32_t i = 0; i <= 0xffffu; i++)
        n = seal_discard(tx, T0_MS, buf, sizeof buf);
    assert_true(seq_of(buf, n) == ((T0_MS << 16) | 0xffffu));
    assert_int_equal(pmul_auth_open(rx, T0_MS, IP_A, buf, n), (ssize_t)sizeof discard);
    n = seal_discard(tx, T0_MS, buf, sizeof buf);
    assert_true(seq_of(buf, n) == (T0_MS + 1) << 16);
    assert_int_equal(pmul_auth_open(rx, T0_MS, IP_A, buf, n), (ssize_t)sizeof discard);
    pmul_auth_free(tx);
    pmul_auth_free(rx);
}

static void test_pmul_auth_source_cap_evicts_lru(void **state)
{
    pmul_auth *tx = new_ctx(key1, 1, 0), *rx = new_ctx(key1, 1, 2);
    uint8_t a1[64], b1[64], c1[64], a2[64];
    pmul_auth_stats st;
    size_t n;
    (void)state;

    /* One sender context seals for three addresses (the MAC covers the
     * address the receiver is told). */
    memcpy(a1, discard, sizeof discard);
    n = (size_t)pmul_auth_seal(tx, T0_MS, IP_A, a1, sizeof discard, sizeof a1);
    memcpy(b1, discard, sizeof discard);
    assert_int_equal(pmul_auth_seal(tx, T0_MS, IP_B, b1, sizeof discard, sizeof b1), (ssize_t)n);
    memcpy(a2, discard, sizeof discard);
    assert_int_equal(pmul_auth_seal(tx, T0_MS, IP_A, a2, sizeof discard, sizeof a2), (ssize_t)n);
    memcpy(c1, discard, sizeof discard);
    assert_int_equal(pmul_auth_seal(tx, T0_MS, IP_C, c1, sizeof discard, sizeof c1), (ssize_t)n);

    assert_int_equal(pmul_auth_open(rx, T0_MS, IP_A, a1, n), (ssize_t)sizeof discard);
    assert_int_equal(pmul_auth_open(rx, T0_MS, IP_B, b1, n), (ssize_t)sizeof discard);
    assert_int_equal(pmul_auth_open(rx, T0_MS, IP_A, a2, n), (ssize_t)sizeof discard);
    /* A third sender: B is the least recently heard, and goes. */
    assert_int_equal(pmul_auth_open(rx, T0_MS, IP_C, c1, n), (ssize_t)sizeof discard);
    pmul_auth_get_stats(rx, &st);
    assert_int_equal(st.sources, 2);
    assert_int_equal(st.evicted, 1);
    /* A's state survived; B's did not (its replay gets through once:
     * the documented cost of the cap). */
    assert_int_equal(pmul_auth_open(rx, T0_MS, IP_A, a1, n), PMUL_ERR_AUTH_REPLAY);
    assert_int_equal(pmul_auth_open(rx, T0_MS, IP_B, b1, n), (ssize_t)sizeof discard);
    assert_int_equal(pmul_auth_open(rx, T0_MS, IP_B, b1, n), PMUL_ERR_AUTH_REPLAY);
    pmul_auth_get_stats(rx, &st);
    assert_int_equal(st.evicted, 2);
    pmul_auth_free(tx);
    pmul_auth_free(rx);
}

/*
 * With max_age_ms a captured datagram cannot be replayed, once it is old
 * enough, to a receiver that has no window for its sender (restarted).
 */
static void test_pmul_auth_max_age_stops_old_replays(void **state)
{
    pmul_auth_config c = {key1, 32, 1, 0, PMUL_AUTH_MIN_AGE_MS};
    pmul_auth *tx = new_ctx(key1, 1, 0), *rx = NULL;
    uint8_t old[64], buf[64];
    size_t n;
    (void)state;

    assert_int_equal(pmul_auth_new(&rx, &c, NULL), 0);
    n = seal_discard(tx, T0_MS, old, sizeof old);
    /* Late but within the limit: accepted; its epoch in the future (a
     * sender's clock ahead of ours) is fine too. */
    assert_int_equal(pmul_auth_open(rx, T0_MS + PMUL_AUTH_MIN_AGE_MS, IP_A, old, n),
                     (ssize_t)sizeof discard);
    n = seal_discard(tx, T0_MS + 5000, buf, sizeof buf);
    assert_int_equal(pmul_auth_open(rx, T0_MS, IP_A, buf, n), (ssize_t)sizeof discard);
    pmul_auth_free(rx);
    /* The receiver restarts: the old datagram, replayed a minute past
     * the limit, is refused although there is no window for A. */
    assert_int_equal(pmul_auth_new(&rx, &c, NULL), 0);
    assert_int_equal(pmul_auth_open(rx, T0_MS + PMUL_AUTH_MIN_AGE_MS + 60001, IP_A, old, n),
                     PMUL_ERR_AUTH_REPLAY);
    /* A's next datagram after an idle spell carries a fresh epoch. */
    n = seal_discard(tx, T0_MS + 3600000, buf, sizeof buf);
    assert_int_equal(pmul_auth_open(rx, T0_MS + 3600000 + 2000, IP_A, buf, n),
                     (ssize_t)sizeof discard);
    pmul_auth_free(rx);
    pmul_auth_free(tx);
    /* Below two re-anchors the limit would refuse good datagrams. */
    c.max_age_ms = PMUL_AUTH_MIN_AGE_MS - 1;
    assert_int_equal(pmul_auth_new(&rx, &c, NULL), PMUL_ERR_INVAL);
}

static void test_pmul_auth_config_refused(void **state)
{
    pmul_auth_config cfg = {key1, PMUL_AUTH_KEY_MIN - 1, 0, 0, 0};
    pmul_auth *a = (pmul_auth *)&cfg;
    (void)state;

    assert_int_equal(pmul_auth_new(&a, &cfg, NULL), PMUL_ERR_INVAL);
    assert_null(a);
    cfg.key_len = PMUL_AUTH_KEY_MAX + 1;
    assert_int_equal(pmul_auth_new(&a, &cfg, NULL), PMUL_ERR_INVAL);
    cfg.key_len = PMUL_AUTH_KEY_MIN;
    cfg.max_sources = ((size_t)1 << 20) + 1;
    assert_int_equal(pmul_auth_new(&a, &cfg, NULL), PMUL_ERR_INVAL);
    assert_int_equal(pmul_auth_new(&a, NULL, NULL), PMUL_ERR_INVAL);
    assert_int_equal(pmul_auth_new(NULL, &cfg, NULL), PMUL_ERR_INVAL);
    cfg.key = NULL;
    assert_int_equal(pmul_auth_new(&a, &cfg, NULL), PMUL_ERR_INVAL);
    pmul_auth_free(NULL);
}

static void test_pmul_auth_alloc_failure(void **state)
{
    struct tmem t;
    mem m = tmem_make(&t);
    pmul_auth_config cfg = {key1, 32, 1, 3, 0};
    pmul_auth *a = NULL, *tx = new_ctx(key1, 1, 0);
    uint8_t buf[64];
    size_t n;
    long k;
    (void)state;

    for (k = 0; k < 100; k++) {
        tmem_fail_after(&t, k);
        int rc = pmul_auth_new(&a, &cfg, &m);
        if (rc == 0)
            break;
        assert_int_equal(rc, PMUL_ERR_NOMEM);
        assert_null(a);
        assert_int_equal(t.live, 0);
    }
    assert_true(k > 0 && k < 100);
    /* Once made, nothing a peer sends allocates: fail every call and let
     * ten senders churn through three slots. */
    tmem_fail_after(&t, 0);
    for (uint32_t round = 0; round < 3; round++)
        for (uint32_t ip = 1; ip <= 10; ip++) {
            memcpy(buf, discard, sizeof discard);
            n = (size_t)pmul_auth_seal(tx, T0_MS, ip, buf, sizeof discard, sizeof buf);
            assert_int_equal(pmul_auth_open(a, T0_MS, ip, buf, n), (ssize_t)sizeof discard);
        }
    assert_int_equal(t.calls, 0);
    pmul_auth_free(a);
    assert_int_equal(t.live, 0);
    pmul_auth_free(tx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pmul_auth_trailer_bytes),
        cmocka_unit_test(test_pmul_auth_round_trip),
        cmocka_unit_test(test_pmul_auth_every_bit_flip_rejected),
        cmocka_unit_test(test_pmul_auth_every_truncation_rejected),
        cmocka_unit_test(test_pmul_auth_replay_window),
        cmocka_unit_test(test_pmul_auth_window_far_jump),
        cmocka_unit_test(test_pmul_auth_wrong_key_id_source_or_plain),
        cmocka_unit_test(test_pmul_auth_restart_not_a_replay),
        cmocka_unit_test(test_pmul_auth_counter_wrap),
        cmocka_unit_test(test_pmul_auth_source_cap_evicts_lru),
        cmocka_unit_test(test_pmul_auth_max_age_stops_old_replays),
        cmocka_unit_test(test_pmul_auth_config_refused),
        cmocka_unit_test(test_pmul_auth_alloc_failure),
    };

    return cmocka_run_group_tests_name("pmul_auth", tests, NULL, NULL);
}
