/*
 * NAME
 *	test_pmul_fec - unit tests for the FEC repair codec
 * SYNOPSIS
 *	meson test -C BUILD --no-rebuild -v pmul_fec
 * DESCRIPTION
 *	pmul/pmul_fec.c: the RFC 5052 block partition (table cases and the
 *	16-bit limits), sequence number <-> (block, ESI) both ways over whole
 *	layouts, the FEC_Parameters codec against hand-built bytes with a
 *	truncation loop and every field at its bounds, repair symbols against
 *	a hand-computed GF(2^8) value and against ISA-L's own
 *	gf_gen_cauchy1_matrix() rows, encode/erase/recover round trips for
 *	every k = 1..255 with r = 1..32 (k + r <= 255) and random erasure
 *	patterns of up to r symbols, with and without a short last symbol
 *	(allocated at its true length, so reading past it is caught by
 *	cmocka's guards and ASan), 1 KiB symbols, the decoder's refusals,
 *	the table cache (no allocation once prepared; eviction), and an
 *	allocation-failure loop over the whole life of a context.
 * SECURITY
 *	Test code.
 * DIAGNOSTICS
 *	cmocka.
 * SEE ALSO
 *	pmul/pmul_fec.h, docs/wire.md ("FEC repair")
 * LICENSE
 *	MIT, see LICENSE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <isa-l/erasure_code.h>

#include "pmul/pmul_err.h"
#include "pmul/pmul_fec.h"
#include "test_common.h"

#define SYM_MAX 1024u

static uint8_t src_buf[PMUL_FEC_N_MAX][SYM_MAX];
static uint8_t rep_buf[PMUL_FEC_N_MAX][SYM_MAX];
static uint8_t out_buf[PMUL_FEC_N_MAX][SYM_MAX];

/* xorshift32: deterministic patterns, no libc rand(). */
static uint32_t
rnd(uint32_t *s)
{
    uint32_t x = *s;

    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *s = x;
    return x;
}

static void
fill(uint8_t *p, size_t n, uint32_t *s)
{
    size_t i;

    for (i = 0; i < n; i++)
        p[i] = (uint8_t)rnd(s);
}

/* ---- layout ------------------------------------------------------------ */

static void
test_pmul_fec_layout_cases(void **state)
{
    static const struct {
        uint16_t n;
        unsigned max;
        uint16_t z, large_cnt;
        uint8_t k_large, k_small;
    } tc[] = {
        { 1, 255, 1, 0, 1, 1 },
        { 20, 255, 1, 0, 20, 20 },
        { 20, 16, 2, 0, 10, 10 },
        { 21, 16, 2, 1, 11, 10 },
        { 100, 32, 4, 0, 25, 25 },
        { 101, 32, 4, 1, 26, 25 },
        { 255, 255, 1, 0, 255, 255 },
        { 256, 255, 2, 0, 128, 128 },
        { 65535, 255, 257, 0, 255, 255 },
        { 65534, 255, 257, 256, 255, 254 },
        { 65535, 1, 65535, 0, 1, 1 },
    };
    pmul_fec_blocks l;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(tc) / sizeof(tc[0]); i++) {
        assert_int_equal(pmul_fec_layout(tc[i].n, tc[i].max, &l), 0);
        if (l.block_cnt != tc[i].z || l.k_large != tc[i].k_large ||
            l.k_small != tc[i].k_small || l.large_cnt != tc[i].large_cnt)
            fail_msg("case %zu: got Z=%u k=%u/%u large=%u, want Z=%u k=%u/%u large=%u", i,
                     l.block_cnt, l.k_large, l.k_small, l.large_cnt, tc[i].z, tc[i].k_large,
                     tc[i].k_small, tc[i].large_cnt);
        assert_int_equal(pmul_fec_block_k(&l, 0), tc[i].large_cnt > 0 ? tc[i].k_large : tc[i].k_small);
        assert_int_equal(pmul_fec_block_k(&l, l.block_cnt), 0);
    }
    assert_int_equal(pmul_fec_layout(0, 16, &l), PMUL_ERR_RANGE);
    assert_int_equal(pmul_fec_layout(10, 0, &l), PMUL_ERR_RANGE);
    assert_int_equal(pmul_fec_layout(10, 256, &l), PMUL_ERR_RANGE);
    assert_int_equal(pmul_fec_layout(10, 16, NULL), PMUL_ERR_INVAL);
}

static void
test_pmul_fec_seq_map_hand(void **state)
{
    pmul_fec_blocks l;
    uint16_t b, seq;
    uint8_t e;

    (void)state;
    /* N = 21, Z = 2: seqs 1..11 block 0, 12..21 block 1; repairs
     * interleave: 22 = block 0 ESI 11, 23 = block 1 ESI 10, 24 = block 0
     * ESI 12. */
    assert_int_equal(pmul_fec_layout(21, 16, &l), 0);
    assert_int_equal(pmul_fec_seq_map(&l, 1, &b, &e), 0);
    assert_true(b == 0 && e == 0);
    assert_int_equal(pmul_fec_seq_map(&l, 11, &b, &e), 0);
    assert_true(b == 0 && e == 10);
    assert_int_equal(pmul_fec_seq_map(&l, 12, &b, &e), 0);
    assert_true(b == 1 && e == 0);
    assert_int_equal(pmul_fec_seq_map(&l, 21, &b, &e), 0);
    assert_true(b == 1 && e == 9);
    assert_int_equal(pmul_fec_seq_map(&l, 22, &b, &e), 0);
    assert_true(b == 0 && e == 11);
    assert_int_equal(pmul_fec_seq_map(&l, 23, &b, &e), 0);
    assert_true(b == 1 && e == 10);
    assert_int_equal(pmul_fec_seq_map(&l, 24, &b, &e), 0);
    assert_true(b == 0 && e == 12);
    assert_int_equal(pmul_fec_seq_map(&l, 0, &b, &e), PMUL_ERR_RANGE);
    assert_int_equal(pmul_fec_seq_of(&l, 1, 10, &seq), 0);
    assert_int_equal(seq, 23);
    assert_int_equal(pmul_fec_seq_of(&l, 2, 0, &seq), PMUL_ERR_RANGE);
    assert_int_equal(pmul_fec_seq_of(&l, 0, 255, &seq), PMUL_ERR_RANGE);
    /* Block 0 (k 11) has ESIs up to 254: repair 243 at 21+1+243*2. */
    assert_int_equal(pmul_fec_seq_of(&l, 0, 254, &seq), 0);
    assert_int_equal(seq, 21 + 1 + 243 * 2);
    assert_int_equal(pmul_fec_seq_map(&l, seq + 2, &b, &e), PMUL_ERR_RANGE);
    /* Block 1 (k 10) can go one further: repair 244 at 21+1+244*2+1. */
    assert_int_equal(pmul_fec_seq_map(&l, seq + 3, &b, &e), 0);
    assert_true(b == 1 && e == 254);
    /* The 16-bit field runs out before ESI 254 of a long message. */
    assert_int_equal(pmul_fec_layout(65000, 200, &l), 0);
    assert_int_equal(pmul_fec_seq_of(&l, 0, 254, &seq), PMUL_ERR_RANGE);
    assert_int_equal(pmul_fec_seq_map(&l, 65535, &b, &e), 0);
}

static void
test_pmul_fec_seq_map_roundtrip(void **state)
{
    static const uint16_t ns[] = { 1, 2, 20, 21, 254, 255, 256, 1000, 65535 };
    static const unsigned maxes[] = { 1, 3, 16, 200, 255 };
    size_t i, j;

    (void)state;
    for (i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
        for (j = 0; j < sizeof(maxes) / sizeof(maxes[0]); j++) {
            pmul_fec_blocks l;
            unsigned s, hits = 0;

            if (pmul_fec_layout(ns[i], maxes[j], &l) != 0)
                fail_msg("layout %u/%u", ns[i], maxes[j]);
            /* Every sequence number maps to a symbol that maps back, or
             * to nothing; sources exactly once. */
            for (s = 1; s <= UINT16_MAX; s++) {
                uint16_t b, back;
                uint8_t e;

                if (pmul_fec_seq_map(&l, (uint16_t)s, &b, &e) != 0) {
                    if (s <= ns[i])
                        fail_msg("N=%u max=%u: source seq %u unmapped", ns[i], maxes[j], s);
                    continue;
                }
                assert_true(b < l.block_cnt);
                assert_true(e <= PMUL_FEC_ESI_MAX);
                assert_int_equal(e < pmul_fec_block_k(&l, b), s <= ns[i]);
                if (pmul_fec_seq_of(&l, b, e, &back) != 0 || back != s)
                    fail_msg("N=%u max=%u: seq %u -> (%u,%u) -> %u", ns[i], maxes[j], s, b, e,
                             back);
                hits += s <= ns[i];
            }
            assert_int_equal(hits, ns[i]);
        }
    }
}

/* ---- parameters --------------------------------------------------------- */

static const uint8_t params_vec[] = { 0x01, 0x04, 0x00, 0x02, 0x04, 0x00, 0x01, 0x2c };

static void
test_pmul_fec_params_vector(void **state)
{
    pmul_fec_params p, q;
    uint8_t out[16];
    size_t n;

    (void)state;
    /* 21 PDUs of 1024 octets, the last 300; two blocks; 4 repairs each. */
    memset(&p, 0, sizeof(p));
    assert_int_equal(pmul_fec_layout(21, 16, &p.blocks), 0);
    p.symbol_len = 1024;
    p.last_len = 300;
    p.repair_cnt = 4;
    assert_int_equal(pmul_fec_params_encode(&p, out, sizeof(out)), PMUL_FEC_PARAM_LEN);
    assert_memory_equal(out, params_vec, sizeof(params_vec));
    assert_int_equal(pmul_fec_params_encode(&p, out, 7), PMUL_ERR_NOSPACE);
    assert_int_equal(pmul_fec_params_decode(&q, PMUL_FEC_ID_RS8, params_vec, sizeof(params_vec), 21), 0);
    assert_memory_equal(&p, &q, sizeof(p));
    /* Every truncation and one extra octet are refused. */
    for (n = 0; n < sizeof(params_vec); n++)
        assert_int_equal(pmul_fec_params_decode(&q, PMUL_FEC_ID_RS8, params_vec, n, 21),
                         PMUL_ERR_FEC_PARAM);
    memcpy(out, params_vec, sizeof(params_vec));
    out[8] = 0;
    assert_int_equal(pmul_fec_params_decode(&q, PMUL_FEC_ID_RS8, out, 9, 21), PMUL_ERR_FEC_PARAM);
    /* Another scheme or version: not ours, fall back to plain. */
    assert_int_equal(pmul_fec_params_decode(&q, 0x80, params_vec, sizeof(params_vec), 21),
                     PMUL_ERR_FEC_ID);
    out[0] = 2;
    assert_int_equal(pmul_fec_params_decode(&q, PMUL_FEC_ID_RS8, out, 8, 21), PMUL_ERR_FEC_ID);
    assert_int_equal(pmul_fec_params_decode(&q, PMUL_FEC_ID_RS8, NULL, 0, 21), PMUL_ERR_FEC_PARAM);
    assert_int_equal(pmul_fec_params_decode(NULL, PMUL_FEC_ID_RS8, params_vec, 8, 21), PMUL_ERR_INVAL);
}

/* Decode of the vector with one field replaced. */
static int
params_with(unsigned r, unsigned z, unsigned s, unsigned last, uint16_t total)
{
    uint8_t v[8] = { 1, (uint8_t)r, (uint8_t)(z >> 8), (uint8_t)z, (uint8_t)(s >> 8), (uint8_t)s,
                     (uint8_t)(last >> 8), (uint8_t)last };
    pmul_fec_params p;

    return pmul_fec_params_decode(&p, PMUL_FEC_ID_RS8, v, sizeof(v), total);
}

static void
test_pmul_fec_params_bounds(void **state)
{
    pmul_fec_params p;
    uint8_t out[8];

    (void)state;
    assert_int_equal(params_with(4, 2, 1024, 300, 21), 0);
    /* Total_Number_of_PDUs 0. */
    assert_int_equal(params_with(4, 1, 1024, 300, 0), PMUL_ERR_FEC_PARAM);
    /* Block count: 0 and N + 1 refused, N accepted. */
    assert_int_equal(params_with(4, 0, 1024, 300, 21), PMUL_ERR_FEC_PARAM);
    assert_int_equal(params_with(4, 22, 1024, 300, 21), PMUL_ERR_FEC_PARAM);
    assert_int_equal(params_with(4, 21, 1024, 300, 21), 0);
    /* Blocks of 256 refused, 255 accepted. */
    assert_int_equal(params_with(0, 2, 1024, 300, 511), PMUL_ERR_FEC_PARAM);
    assert_int_equal(params_with(0, 2, 1024, 300, 510), 0);
    /* k + r: 255 accepted, 256 refused. */
    assert_int_equal(params_with(244, 2, 1024, 300, 21), 0);
    assert_int_equal(params_with(245, 2, 1024, 300, 21), PMUL_ERR_FEC_PARAM);
    /* Symbol length 0, 65519, 65520. */
    assert_int_equal(params_with(4, 2, 0, 1, 21), PMUL_ERR_FEC_PARAM);
    assert_int_equal(params_with(4, 2, 65519, 300, 21), 0);
    assert_int_equal(params_with(4, 2, 65520, 300, 21), PMUL_ERR_FEC_PARAM);
    /* Last length 0, S, S + 1. */
    assert_int_equal(params_with(4, 2, 1024, 0, 21), PMUL_ERR_FEC_PARAM);
    assert_int_equal(params_with(4, 2, 1024, 1024, 21), 0);
    assert_int_equal(params_with(4, 2, 1024, 1025, 21), PMUL_ERR_FEC_PARAM);
    /* Repair numbers must fit in 16 bits: N + r*Z <= 65535. */
    assert_int_equal(params_with(1, 300, 1024, 300, 65000), 0);
    assert_int_equal(params_with(2, 300, 1024, 300, 65000), PMUL_ERR_FEC_PARAM);
    /* The encoder refuses what the decoder would, and a hand-made layout
     * that is not the RFC 5052 one. */
    memset(&p, 0, sizeof(p));
    assert_int_equal(pmul_fec_layout(21, 16, &p.blocks), 0);
    p.symbol_len = 1024;
    p.last_len = 1025;
    assert_int_equal(pmul_fec_params_encode(&p, out, sizeof(out)), PMUL_ERR_FEC_PARAM);
    p.last_len = 1;
    p.blocks.k_small = 11;
    assert_int_equal(pmul_fec_params_encode(&p, out, sizeof(out)), PMUL_ERR_FEC_PARAM);
    assert_int_equal(pmul_fec_params_encode(NULL, out, sizeof(out)), PMUL_ERR_FEC_PARAM);
}

/* ---- encoder ------------------------------------------------------------ */

static void
test_pmul_fec_encode_hand(void **state)
{
    const uint8_t a[1] = { 1 }, bz[1] = { 0 }, c[1] = { 0x57 };
    const uint8_t *src[2];
    uint8_t out[1];
    pmul_fec *f;

    (void)state;
    assert_int_equal(pmul_fec_new(&f, NULL), 0);
    /* k = 1: repair 0 has coefficient 1/(1^0) = 1, a copy. */
    src[0] = c;
    assert_int_equal(pmul_fec_encode(f, src, 1, 1, 1, 0, out), 0);
    assert_int_equal(out[0], 0x57);
    /* k = 2, repair 0 (ESI 2): 1/(2^0) * 1 + 1/(2^1) * 0 = 1/2 = 0x8e in
     * GF(2^8) mod x^8+x^4+x^3+x^2+1 (0x8e * 2 = 0x11c ^ 0x11d = 1). */
    src[0] = a;
    src[1] = bz;
    assert_int_equal(pmul_fec_encode(f, src, 2, 1, 1, 0, out), 0);
    assert_int_equal(out[0], 0x8e);
    /* ...and 1/(2^1) = 1/3 = 0xf4 for the second source. */
    src[0] = bz;
    src[1] = a;
    assert_int_equal(pmul_fec_encode(f, src, 2, 1, 1, 0, out), 0);
    assert_int_equal(out[0], 0xf4);
    pmul_fec_free(f);
}

/* Repairs equal the rows of ISA-L's own Cauchy matrix applied byte by
 * byte with gf_mul(). */
static void
test_pmul_fec_encode_matches_isal_matrix(void **state)
{
    static const unsigned ks[] = { 1, 2, 5, 32, 100, 239 };
    static uint8_t a[PMUL_FEC_N_MAX * PMUL_FEC_N_MAX];
    const uint8_t *src[PMUL_FEC_N_MAX];
    uint8_t *out[16];
    uint32_t seed = 7;
    pmul_fec *f;
    size_t i, t, x, j;
    const size_t len = 77;

    (void)state;
    assert_int_equal(pmul_fec_new(&f, NULL), 0);
    for (i = 0; i < sizeof(ks) / sizeof(ks[0]); i++) {
        unsigned k = ks[i], r = 16;

        gf_gen_cauchy1_matrix(a, (int)(k + r), (int)k);
        for (t = 0; t < k; t++) {
            fill(src_buf[t], len, &seed);
            src[t] = src_buf[t];
        }
        for (j = 0; j < r; j++)
            out[j] = rep_buf[j];
        assert_int_equal(pmul_fec_encode_n(f, src, k, len, len, 0, r, out), 0);
        for (j = 0; j < r; j++) {
            for (x = 0; x < len; x++) {
                uint8_t want = 0;

                for (t = 0; t < k; t++)
                    want ^= gf_mul(a[(k + j) * k + t], src_buf[t][x]);
                if (rep_buf[j][x] != want)
                    fail_msg("k=%u repair %zu octet %zu: got %02x, want %02x", k, j, x,
                             rep_buf[j][x], want);
            }
        }
        /* One at a time, from a later index, gives the same symbols. */
        assert_int_equal(pmul_fec_encode(f, src, k, len, len, 5, out_buf[0]), 0);
        assert_memory_equal(out_buf[0], rep_buf[5], len);
    }
    pmul_fec_free(f);
}

static void
test_pmul_fec_encode_refusals(void **state)
{
    const uint8_t *src[3] = { src_buf[0], src_buf[1], NULL };
    uint8_t *out[2] = { rep_buf[0], NULL };
    pmul_fec *f;

    (void)state;
    assert_int_equal(pmul_fec_new(NULL, NULL), PMUL_ERR_INVAL);
    assert_int_equal(pmul_fec_new(&f, NULL), 0);
    assert_int_equal(pmul_fec_encode(f, src, 0, 8, 8, 0, rep_buf[0]), PMUL_ERR_RANGE);
    assert_int_equal(pmul_fec_encode(f, src, 2, 8, 8, 253, rep_buf[0]), PMUL_ERR_RANGE);
    assert_int_equal(pmul_fec_encode(f, src, 2, 8, 8, 252, rep_buf[0]), 0);
    assert_int_equal(pmul_fec_encode(f, src, 3, 8, 8, 0, rep_buf[0]), PMUL_ERR_INVAL);
    assert_int_equal(pmul_fec_encode(f, src, 2, 0, 1, 0, rep_buf[0]), PMUL_ERR_INVAL);
    assert_int_equal(pmul_fec_encode(f, src, 2, 8, 0, 0, rep_buf[0]), PMUL_ERR_INVAL);
    assert_int_equal(pmul_fec_encode(f, src, 2, 8, 9, 0, rep_buf[0]), PMUL_ERR_INVAL);
    assert_int_equal(pmul_fec_encode(f, src, 2, 65520, 8, 0, rep_buf[0]), PMUL_ERR_INVAL);
    assert_int_equal(pmul_fec_encode(f, src, 2, 8, 8, 0, NULL), PMUL_ERR_INVAL);
    assert_int_equal(pmul_fec_encode_n(f, src, 2, 8, 8, 0, 2, out), PMUL_ERR_INVAL);
    assert_int_equal(pmul_fec_encode_n(f, src, 2, 8, 8, 0, 0, out), 0);
    assert_int_equal(pmul_fec_encode(NULL, src, 2, 8, 8, 0, rep_buf[0]), PMUL_ERR_INVAL);
    assert_int_equal(pmul_fec_prepare(f, 0, 1), PMUL_ERR_RANGE);
    assert_int_equal(pmul_fec_prepare(f, 200, 56), PMUL_ERR_RANGE);
    assert_int_equal(pmul_fec_prepare(f, 255, 0), 0);
    assert_int_equal(pmul_fec_prepare(NULL, 1, 1), PMUL_ERR_INVAL);
    pmul_fec_free(f);
    pmul_fec_free(NULL);
}

/* ---- round trips -------------------------------------------------------- */

/*
 * Encode r repairs of k random symbols of sym_len (the last last_len, in a
 * block of exactly that size), erase up to r of the k + r symbols at
 * random, recover, compare.  Returns the erasure count.
 */
static unsigned
roundtrip(pmul_fec *f, unsigned k, unsigned r, size_t sym_len, size_t last_len, uint32_t *seed)
{
    const uint8_t *src[PMUL_FEC_N_MAX], *sym[PMUL_FEC_N_MAX];
    uint8_t *rep[PMUL_FEC_N_MAX], *out[PMUL_FEC_N_MAX], *shortsym;
    uint8_t order[PMUL_FEC_N_MAX];
    unsigned i, n = k + r, nerr;
    pmul_fec_block b;

    shortsym = test_malloc(last_len);
    for (i = 0; i < k; i++) {
        fill(src_buf[i], sym_len, seed);
        src[i] = src_buf[i];
    }
    /* The true last symbol lives in a buffer of its own length. */
    memset(src_buf[k - 1] + last_len, 0, sym_len - last_len);
    memcpy(shortsym, src_buf[k - 1], last_len);
    src[k - 1] = shortsym;
    for (i = 0; i < r; i++)
        rep[i] = rep_buf[i];
    if (pmul_fec_encode_n(f, src, k, sym_len, last_len, 0, r, rep) != 0)
        fail_msg("encode k=%u r=%u", k, r);
    /* Erase a random subset of up to r symbols (Fisher-Yates prefix). */
    for (i = 0; i < n; i++)
        order[i] = (uint8_t)i;
    nerr = rnd(seed) % (r + 1u);
    for (i = 0; i < nerr; i++) {
        unsigned j = i + rnd(seed) % (n - i);
        uint8_t t = order[i];

        order[i] = order[j];
        order[j] = t;
    }
    pmul_fec_block_init(&b, k);
    memset(sym, 0, sizeof(sym));
    memset(out, 0, sizeof(out));
    for (i = nerr; i < n; i++) {
        unsigned e = order[i];

        assert_int_equal(pmul_fec_block_add(&b, e), 0);
        sym[e] = e < k ? src[e] : rep[e - k];
    }
    for (i = 0; i < k; i++) {
        memset(out_buf[i], 0xa5, sym_len);
        if (sym[i] == NULL)
            out[i] = out_buf[i];
    }
    assert_true(pmul_fec_can_recover(&b));
    if (pmul_fec_recover(f, &b, sym, n, sym_len, last_len, out) != 0)
        fail_msg("recover k=%u r=%u erased %u", k, r, nerr);
    for (i = 0; i < k; i++) {
        if (out[i] == NULL)
            continue;
        if (memcmp(out_buf[i], src_buf[i], sym_len) != 0)
            fail_msg("k=%u r=%u sym_len=%zu last=%zu: ESI %u wrong after %u erasures", k, r,
                     sym_len, last_len, i, nerr);
    }
    test_free(shortsym);
    return nerr;
}

static void
test_pmul_fec_roundtrip_all_k(void **state)
{
    /* Lengths around ISA-L's 16/32/64-octet vector paths. */
    static const size_t lens[] = { 1, 7, 16, 31, 32, 33, 64, 100 };
    uint32_t seed = 12345;
    unsigned k, r, erased = 0, runs = 0;
    pmul_fec *f;

    (void)state;
    assert_int_equal(pmul_fec_new(&f, NULL), 0);
    for (k = 1; k <= PMUL_FEC_N_MAX - 1u; k++) {
        for (r = 1; r <= 32 && k + r <= PMUL_FEC_N_MAX; r++) {
            size_t len = lens[rnd(&seed) % (sizeof(lens) / sizeof(lens[0]))];
            size_t last = rnd(&seed) & 1u ? len : 1u + rnd(&seed) % len;

            erased += roundtrip(f, k, r, len, last, &seed);
            runs++;
        }
    }
    /* k = 255 leaves no room for repair: only r = 0, nothing to do. */
    assert_int_equal(roundtrip(f, PMUL_FEC_N_MAX, 0, 16, 5, &seed), 0);
    /* The patterns must really have erased things. */
    assert_true(erased > runs * 8u);
    pmul_fec_free(f);
}

static void
test_pmul_fec_roundtrip_1k_symbols(void **state)
{
    static const unsigned kr[][2] = { { 32, 4 }, { 20, 6 }, { 239, 16 }, { 128, 127 } };
    uint32_t seed = 99;
    pmul_fec *f;
    size_t i;
    int round;

    (void)state;
    assert_int_equal(pmul_fec_new(&f, NULL), 0);
    for (i = 0; i < sizeof(kr) / sizeof(kr[0]); i++)
        for (round = 0; round < 8; round++)
            (void)roundtrip(f, kr[i][0], kr[i][1], SYM_MAX, round & 1 ? SYM_MAX : 300, &seed);
    pmul_fec_free(f);
}

/* ---- decoder ------------------------------------------------------------ */

static void
test_pmul_fec_feed(void **state)
{
    pmul_fec_block blocks[2];
    pmul_fec_blocks l;
    unsigned s;

    (void)state;
    assert_int_equal(pmul_fec_layout(21, 16, &l), 0);
    pmul_fec_block_init(&blocks[0], pmul_fec_block_k(&l, 0));
    pmul_fec_block_init(&blocks[1], pmul_fec_block_k(&l, 1));
    /* Block 0 (k 11): ten sources and one repair make it recoverable. */
    for (s = 1; s <= 10; s++)
        assert_int_equal(pmul_fec_feed(&l, blocks, (uint16_t)s), 0);
    assert_false(pmul_fec_can_recover(&blocks[0]));
    assert_false(pmul_fec_block_is_complete(&blocks[0]));
    assert_int_equal(pmul_fec_feed(&l, blocks, 5), PMUL_ERR_DUPLICATE);
    assert_int_equal(pmul_fec_feed(&l, blocks, 22), 0);
    assert_true(pmul_fec_can_recover(&blocks[0]));
    assert_false(pmul_fec_block_is_complete(&blocks[0]));
    assert_true(pmul_fec_block_has(&blocks[0], 11));
    assert_false(pmul_fec_block_has(&blocks[0], 10));
    assert_false(pmul_fec_block_has(&blocks[0], 999));
    assert_int_equal(blocks[1].held_cnt, 0);
    assert_int_equal(pmul_fec_feed(&l, blocks, 0), PMUL_ERR_RANGE);
    assert_int_equal(pmul_fec_feed(&l, blocks, 21 + 1 + 244 * 2), PMUL_ERR_RANGE);
    assert_int_equal(pmul_fec_feed(&l, NULL, 1), PMUL_ERR_INVAL);
    assert_int_equal(pmul_fec_block_add(&blocks[0], 255), PMUL_ERR_RANGE);
    pmul_fec_block_init(&blocks[0], 0);
    assert_int_equal(pmul_fec_block_add(&blocks[0], 0), PMUL_ERR_RANGE);
    assert_false(pmul_fec_can_recover(&blocks[0]));
    pmul_fec_block_init(&blocks[0], 256);
    assert_int_equal(blocks[0].k, 0);
}

static void
test_pmul_fec_recover_refusals(void **state)
{
    const uint8_t *sym[8] = { NULL };
    uint8_t *out[8] = { NULL };
    pmul_fec_block b;
    pmul_fec *f;

    (void)state;
    assert_int_equal(pmul_fec_new(&f, NULL), 0);
    pmul_fec_block_init(&b, 4);
    /* Three of four: not yet. */
    assert_int_equal(pmul_fec_block_add(&b, 0), 0);
    assert_int_equal(pmul_fec_block_add(&b, 1), 0);
    assert_int_equal(pmul_fec_block_add(&b, 5), 0);
    sym[0] = src_buf[0];
    sym[1] = src_buf[1];
    sym[5] = rep_buf[1];
    out[2] = out_buf[2];
    out[3] = out_buf[3];
    assert_int_equal(pmul_fec_recover(f, &b, sym, 8, 16, 16, out), PMUL_ERR_INCONSISTENT);
    /* sym and the block disagree, both ways. */
    sym[6] = rep_buf[2];
    assert_int_equal(pmul_fec_recover(f, &b, sym, 8, 16, 16, out), PMUL_ERR_INVAL);
    sym[6] = NULL;
    assert_int_equal(pmul_fec_block_add(&b, 6), 0);
    assert_int_equal(pmul_fec_recover(f, &b, sym, 8, 16, 16, out), PMUL_ERR_INVAL);
    /* Held ESI beyond sym_cnt. */
    sym[6] = rep_buf[2];
    assert_int_equal(pmul_fec_recover(f, &b, sym, 6, 16, 16, out), PMUL_ERR_INVAL);
    /* Missing output buffer, bad lengths, NULLs. */
    out[3] = NULL;
    assert_int_equal(pmul_fec_recover(f, &b, sym, 8, 16, 16, out), PMUL_ERR_INVAL);
    out[3] = out_buf[3];
    assert_int_equal(pmul_fec_recover(f, &b, sym, 8, 0, 1, out), PMUL_ERR_INVAL);
    assert_int_equal(pmul_fec_recover(f, &b, sym, 8, 16, 17, out), PMUL_ERR_INVAL);
    assert_int_equal(pmul_fec_recover(f, &b, sym, 8, 16, 0, out), PMUL_ERR_INVAL);
    assert_int_equal(pmul_fec_recover(f, &b, NULL, 8, 16, 16, out), PMUL_ERR_INVAL);
    assert_int_equal(pmul_fec_recover(NULL, &b, sym, 8, 16, 16, out), PMUL_ERR_INVAL);
    assert_int_equal(pmul_fec_recover(f, &b, sym, 8, 16, 16, out), 0);
    /* A complete block needs nothing and touches no output. */
    pmul_fec_block_init(&b, 2);
    memset(sym, 0, sizeof(sym));
    assert_int_equal(pmul_fec_block_add(&b, 0), 0);
    assert_int_equal(pmul_fec_block_add(&b, 1), 0);
    sym[0] = src_buf[0];
    sym[1] = src_buf[1];
    assert_int_equal(pmul_fec_recover(f, &b, sym, 8, 16, 16, NULL), PMUL_ERR_INVAL);
    assert_int_equal(pmul_fec_recover(f, &b, sym, 8, 16, 16, out), 0);
    pmul_fec_free(f);
}

/* ---- memory ------------------------------------------------------------- */

static void
test_pmul_fec_cache_no_alloc_when_prepared(void **state)
{
    const uint8_t *src[PMUL_FEC_N_MAX];
    struct tmem t;
    mem m = tmem_make(&t);
    uint32_t seed = 5;
    unsigned i, k, j;
    pmul_fec *f;
    long calls;

    (void)state;
    assert_int_equal(pmul_fec_new(&f, &m), 0);
    assert_int_equal(pmul_fec_prepare(f, 32, 4), 0);
    assert_int_equal(pmul_fec_prepare(f, 31, 4), 0);
    for (i = 0; i < 32; i++) {
        fill(src_buf[i], 64, &seed);
        src[i] = src_buf[i];
    }
    calls = t.calls;
    for (j = 0; j < 4; j++) {
        assert_int_equal(pmul_fec_encode(f, src, 32, 64, 64, j, rep_buf[j]), 0);
        assert_int_equal(pmul_fec_encode(f, src, 31, 64, 10, j, rep_buf[j]), 0);
    }
    assert_int_equal(t.calls, calls);
    /* Five k values in a four-slot cache: evictions, still right. */
    for (k = 10; k < 15; k++)
        assert_int_equal(pmul_fec_encode(f, src, k, 64, 64, 3, rep_buf[k]), 0);
    for (k = 10; k < 15; k++) {
        assert_int_equal(pmul_fec_encode(f, src, k, 64, 64, 3, out_buf[0]), 0);
        assert_memory_equal(out_buf[0], rep_buf[k], 64);
    }
    pmul_fec_free(f);
    assert_int_equal(t.live, 0);
}

/* One context's whole life (new, prepare, encode growing the cache,
 * recover needing scratch) with the n-th allocation failing, for every n
 * until it succeeds: each failure is NOMEM, nothing leaks, and the work
 * done after a failure is still right. */
static void
test_pmul_fec_alloc_failure(void **state)
{
    const uint8_t *src[8], *sym[12];
    uint8_t *rep[4], *out[8];
    pmul_fec_block b;
    uint32_t seed = 11;
    struct tmem t;
    mem m;
    long n;
    int rc, i;
    bool done = false;

    (void)state;
    for (i = 0; i < 8; i++) {
        fill(src_buf[i], 48, &seed);
        src[i] = src_buf[i];
    }
    for (i = 0; i < 4; i++)
        rep[i] = rep_buf[i];
    for (n = 0; !done && n < 100; n++) {
        pmul_fec *f = NULL;

        m = tmem_make(&t);
        tmem_fail_after(&t, n);
        if ((rc = pmul_fec_new(&f, &m)) != 0) {
            assert_int_equal(rc, PMUL_ERR_NOMEM);
            assert_null(f);
            assert_int_equal(t.live, 0);
            continue;
        }
        if ((rc = pmul_fec_prepare(f, 8, 2)) != 0)
            goto fail;
        if ((rc = pmul_fec_encode_n(f, src, 8, 48, 48, 0, 4, rep)) != 0)
            goto fail;
        /* Lose sources 1, 4, 7; recover from repairs 0, 2, 3. */
        pmul_fec_block_init(&b, 8);
        memset(sym, 0, sizeof(sym));
        memset(out, 0, sizeof(out));
        for (i = 0; i < 12; i++) {
            if (i == 1 || i == 4 || i == 7 || i == 9) {
                if (i < 8)
                    out[i] = out_buf[i];
                continue;
            }
            assert_int_equal(pmul_fec_block_add(&b, (unsigned)i), 0);
            sym[i] = i < 8 ? src[i] : rep[i - 8];
        }
        if ((rc = pmul_fec_recover(f, &b, sym, 12, 48, 48, out)) != 0)
            goto fail;
        assert_memory_equal(out_buf[1], src_buf[1], 48);
        assert_memory_equal(out_buf[4], src_buf[4], 48);
        assert_memory_equal(out_buf[7], src_buf[7], 48);
        done = true;
    fail:
        if (!done)
            assert_int_equal(rc, PMUL_ERR_NOMEM);
        pmul_fec_free(f);
        assert_int_equal(t.live, 0);
    }
    assert_true(done);
    assert_true(n > 2);
}

/* Version 2: a carrier (MSID 7, 3 PDUs of 1000, the last 100) listing
 * itself and MSID 9 (2 PDUs, last 40), a set whose repairs start at
 * number G + 5 and of which 3 went: the octets, the way back, the
 * numbers, and each rule of a joint set broken once. */
static void
test_pmul_fec_joint_params(void **state)
{
    static const uint8_t vec[] = {
        0x02, 0x00, 0x00, 0x01, 0x03, 0xe8, 0x00, 0x64, /* v2, r 0, Z 1, S 1000, last 100 */
        0x02, 0x03, 0x00, 0x05,                         /* 2 members, R 3, j0 5 */
        0x00, 0x00, 0x00, 0x09, 0x00, 0x02, 0x00, 0x28, /* MSID 9: N 2, last 40 */
        0x00, 0x00, 0x00, 0x07, 0x00, 0x03, 0x00, 0x64, /* MSID 7: N 3, last 100 */
    };
    pmul_fec_params p;
    pmul_fec_joint g;
    uint8_t out[255], bad[sizeof(vec)], esi;
    uint16_t seq;

    (void)state;
    assert_int_equal(pmul_fec_params_decode2(&p, &g, PMUL_FEC_ID_RS8, vec, sizeof(vec), 3, 7), 0);
    assert_int_equal(g.cnt, 2);
    assert_int_equal(g.k, 5);
    assert_int_equal(g.repair_cnt, 3);
    assert_int_equal(g.j0, 5);
    assert_int_equal(pmul_fec_joint_find(&g, 7), 1);
    assert_int_equal(pmul_fec_joint_offset(&g, 1), 2);
    assert_int_equal(pmul_fec_joint_offset(&g, 2), 5);
    assert_int_equal(pmul_fec_params_encode2(&p, &g, 7, out, sizeof(out)), (ssize_t)sizeof(vec));
    assert_memory_equal(out, vec, sizeof(vec));
    assert_int_equal(pmul_fec_params_encode2(&p, &g, 7, out, sizeof(vec) - 1), PMUL_ERR_NOSPACE);
    /* Joint repairs number from G = N + 255 Z + 1, above any repair of the
     * carrier's own block (which pmul_fec_seq_map() refuses there); this
     * set's from G + j0, and only its R so far map. */
    assert_int_equal(pmul_fec_joint_base(&p.blocks), 3 + 255 + 1);
    assert_int_equal(pmul_fec_joint_seq_of(&p.blocks, &g, 0, &seq), 0);
    assert_int_equal(seq, 264);
    assert_int_equal(pmul_fec_joint_seq_map(&p.blocks, &g, 264, &esi), 0);
    assert_int_equal(esi, 5);
    assert_int_equal(pmul_fec_joint_seq_map(&p.blocks, &g, 266, &esi), 0);
    assert_int_equal(esi, 7);
    assert_int_equal(pmul_fec_joint_seq_map(&p.blocks, &g, 267, &esi), PMUL_ERR_RANGE);
    assert_int_equal(pmul_fec_joint_seq_map(&p.blocks, &g, 263, &esi), PMUL_ERR_RANGE);
    assert_int_equal(pmul_fec_joint_seq_of(&p.blocks, &g, 250, &seq), PMUL_ERR_RANGE);
    {
        uint16_t b;
        uint8_t e;

        assert_int_equal(pmul_fec_seq_map(&p.blocks, 259, &b, &e), PMUL_ERR_RANGE);
    }
    /* Every truncation is refused, and refused whole. */
    for (size_t len = 0; len < sizeof(vec); len++)
        assert_int_equal(pmul_fec_params_decode2(&p, &g, PMUL_FEC_ID_RS8, vec, len, 3, 7),
                         PMUL_ERR_FEC_PARAM);
    /* Version 1's decoder does not know version 2: plain reception. */
    assert_int_equal(pmul_fec_params_decode(&p, PMUL_FEC_ID_RS8, vec, sizeof(vec), 3),
                     PMUL_ERR_FEC_ID);
    /* Version 1 through decode2: no joint set. */
    assert_int_equal(pmul_fec_params_decode2(&p, &g, PMUL_FEC_ID_RS8, params_vec,
                                             sizeof(params_vec), 21, 1), 0);
    assert_int_equal(g.cnt, 0);
    /* The carrier must be a member with its own N and last_len. */
    assert_int_equal(pmul_fec_params_decode2(&p, &g, PMUL_FEC_ID_RS8, vec, sizeof(vec), 3, 8),
                     PMUL_ERR_FEC_PARAM);
    assert_int_equal(pmul_fec_params_decode2(&p, &g, PMUL_FEC_ID_RS8, vec, sizeof(vec), 4, 7),
                     PMUL_ERR_FEC_PARAM);
    /* Length other than 12 + 8 x cnt, one member, duplicate members,
     * a member's last_len above S, K + R past 255, numbers past 65535. */
    assert_int_equal(pmul_fec_params_decode2(&p, &g, PMUL_FEC_ID_RS8, vec, sizeof(vec) - 1, 3, 7),
                     PMUL_ERR_FEC_PARAM);
    memcpy(bad, vec, sizeof(vec));
    bad[8] = 1;
    assert_int_equal(pmul_fec_params_decode2(&p, &g, PMUL_FEC_ID_RS8, bad, 20, 3, 7),
                     PMUL_ERR_FEC_PARAM);
    memcpy(bad, vec, sizeof(vec));
    bad[15] = 0x07;
    assert_int_equal(pmul_fec_params_decode2(&p, &g, PMUL_FEC_ID_RS8, bad, sizeof(bad), 3, 7),
                     PMUL_ERR_FEC_PARAM);
    memcpy(bad, vec, sizeof(vec));
    bad[18] = 0x03;
    bad[19] = 0xe9;
    assert_int_equal(pmul_fec_params_decode2(&p, &g, PMUL_FEC_ID_RS8, bad, sizeof(bad), 3, 7),
                     PMUL_ERR_FEC_PARAM);
    memcpy(bad, vec, sizeof(vec));
    bad[9] = 251;
    assert_int_equal(pmul_fec_params_decode2(&p, &g, PMUL_FEC_ID_RS8, bad, sizeof(bad), 3, 7),
                     PMUL_ERR_FEC_PARAM);
    bad[9] = 250;
    assert_int_equal(pmul_fec_params_decode2(&p, &g, PMUL_FEC_ID_RS8, bad, sizeof(bad), 3, 7), 0);
    /* G 259 + j0 + R 250 - 1 = 65535 at most: j0 65027 fits, 65028 not. */
    bad[10] = 0xfe;
    bad[11] = 0x03;
    assert_int_equal(pmul_fec_params_decode2(&p, &g, PMUL_FEC_ID_RS8, bad, sizeof(bad), 3, 7), 0);
    bad[11] = 0x04;
    assert_int_equal(pmul_fec_params_decode2(&p, &g, PMUL_FEC_ID_RS8, bad, sizeof(bad), 3, 7),
                     PMUL_ERR_FEC_PARAM);
    /* Unknown versions stay PMUL_ERR_FEC_ID; a joint set of one is refused. */
    memcpy(bad, vec, sizeof(vec));
    bad[0] = 3;
    assert_int_equal(pmul_fec_params_decode2(&p, &g, PMUL_FEC_ID_RS8, bad, sizeof(bad), 3, 7),
                     PMUL_ERR_FEC_ID);
    g.cnt = 1;
    assert_int_equal(pmul_fec_params_encode2(&p, &g, 7, out, sizeof(out)), PMUL_ERR_FEC_PARAM);
}

/* pmul_fec_solve(): a joint block of 12 (members of 5 and 7 symbols)
 * missing three, rebuilt from one joint repair and two of the second
 * member's own; a system that is singular, or short of equations, waits. */
static void
test_pmul_fec_solve_mixed(void **state)
{
    enum { K = 12, S = 40 };
    const uint8_t *srcp[K], *sym[K];
    uint8_t *out[K];
    pmul_fec_eq q[3];
    pmul_fec *f = NULL;
    uint32_t seed = 77;
    unsigned t;

    (void)state;
    assert_int_equal(pmul_fec_new(&f, NULL), 0);
    for (t = 0; t < K; t++) {
        fill(src_buf[t], S, &seed);
        srcp[t] = src_buf[t];
    }
    /* Joint repair j = 1 (ESI 13) over all 12; own repairs ESI 7 and 8 of
     * the second member's block (its sources are ESIs 5..11). */
    assert_int_equal(pmul_fec_encode(f, srcp, K, S, S, 1, rep_buf[0]), 0);
    assert_int_equal(pmul_fec_encode(f, srcp + 5, 7, S, S, 0, rep_buf[1]), 0);
    assert_int_equal(pmul_fec_encode(f, srcp + 5, 7, S, S, 1, rep_buf[2]), 0);
    q[0] = (pmul_fec_eq){ rep_buf[0], 13, 0, 0 };
    q[1] = (pmul_fec_eq){ rep_buf[1], 7, 5, 7 };
    q[2] = (pmul_fec_eq){ rep_buf[2], 8, 5, 7 };
    for (t = 0; t < K; t++) {
        bool lost = t == 2 || t == 6 || t == 11;

        sym[t] = lost ? NULL : src_buf[t];
        out[t] = lost ? out_buf[t] : NULL;
    }
    assert_int_equal(pmul_fec_solve(f, K, sym, out, q, 3, S), 0);
    assert_memory_equal(out_buf[2], src_buf[2], S);
    assert_memory_equal(out_buf[6], src_buf[6], S);
    assert_memory_equal(out_buf[11], src_buf[11], S);
    /* The first member's loss (ESI 2) is not in the own repairs' rows:
     * without the joint repair the system is singular. */
    q[0] = (pmul_fec_eq){ rep_buf[1], 7, 5, 7 };
    assert_int_equal(pmul_fec_solve(f, K, sym, out, q, 3, S), PMUL_ERR_INCONSISTENT);
    /* Fewer equations than symbols missing; an equation out of the block. */
    assert_int_equal(pmul_fec_solve(f, K, sym, out, q, 2, S), PMUL_ERR_INCONSISTENT);
    q[0] = (pmul_fec_eq){ rep_buf[1], 7, 6, 7 };
    assert_int_equal(pmul_fec_solve(f, K, sym, out, q, 3, S), PMUL_ERR_INVAL);
    q[0] = (pmul_fec_eq){ rep_buf[0], 11, 0, 0 };
    assert_int_equal(pmul_fec_solve(f, K, sym, out, q, 3, S), PMUL_ERR_INVAL);
    pmul_fec_free(f);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pmul_fec_layout_cases),
        cmocka_unit_test(test_pmul_fec_seq_map_hand),
        cmocka_unit_test(test_pmul_fec_seq_map_roundtrip),
        cmocka_unit_test(test_pmul_fec_params_vector),
        cmocka_unit_test(test_pmul_fec_params_bounds),
        cmocka_unit_test(test_pmul_fec_encode_hand),
        cmocka_unit_test(test_pmul_fec_encode_matches_isal_matrix),
        cmocka_unit_test(test_pmul_fec_encode_refusals),
        cmocka_unit_test(test_pmul_fec_roundtrip_all_k),
        cmocka_unit_test(test_pmul_fec_roundtrip_1k_symbols),
        cmocka_unit_test(test_pmul_fec_feed),
        cmocka_unit_test(test_pmul_fec_recover_refusals),
        cmocka_unit_test(test_pmul_fec_cache_no_alloc_when_prepared),
        cmocka_unit_test(test_pmul_fec_alloc_failure),
        cmocka_unit_test(test_pmul_fec_joint_params),
        cmocka_unit_test(test_pmul_fec_solve_mixed),
    };

    return cmocka_run_group_tests_name("pmul_fec", tests, NULL, NULL);
}
