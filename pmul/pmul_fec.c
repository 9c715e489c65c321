/*
 * NAME
 *	pmul_fec - systematic Reed-Solomon repair symbols for P_MUL messages
 * SYNOPSIS
 *	#include "pmul/pmul_fec.h"
 * DESCRIPTION
 *	The FEC scheme mule announces in a FEC_Address_PDU with FEC_ID 0x81
 *	(docs/wire.md, "FEC repair"; the PDU header is docs/wire.md 4.3).
 *	Layout and parameter codec are pure functions.  The arithmetic is
 *	Intel ISA-L's GF(2^8) code: a systematic code whose repair rows are
 *	the Cauchy rows of gf_gen_cauchy1_matrix(), coef(esi, t) =
 *	1 / (esi ^ t) for esi >= k > t, so every square submatrix of the
 *	repair part is invertible and any k of the k + r symbols rebuild the
 *	block, for any k + r <= 255.
 *
 *	The encoder caches ISA-L's expanded tables (32 octets per
 *	coefficient) per k, for as many repair rows as asked so far; a
 *	message uses at most two k values (large and small blocks), so a
 *	small cache with least-recently-used eviction suffices.  Decoding
 *	solves only for the missing source symbols: with E the e missing
 *	source ESIs and R the first e held repair ESIs, the e x e Cauchy
 *	submatrix C[R][E] is inverted (e^3, not k^3: 16 x 16 instead of
 *	239 x 239 for a k = 239 block losing 16), and
 *	x_E = C[R][E]^-1 * (y_R + C[R][held] * x_held), folded into one
 *	e x k matrix that ISA-L applies in one pass.
 *
 *	The last PDU of a message is usually short.  It is not copied into
 *	a padded buffer: the coding pass runs over its length with all k
 *	inputs, then over the rest with the other k - 1 (the padding is zero
 *	and contributes nothing); ISA-L's table layout makes the first k - 1
 *	inputs' tables a prefix of each row.
 * SECURITY
 *	pmul_fec_params_decode() and pmul_fec_block_add()/pmul_fec_feed()
 *	see peer data (FEC_Parameters, sequence numbers); every count is
 *	checked against the spec's 16-bit fields and GF(2^8)'s 255 symbols
 *	before use, and nothing is allocated by a count the peer claims
 *	(scratch and tables are bounded by 255 x 255 coefficients).
 * DIAGNOSTICS
 *	PMUL_ERR_FEC_ID, PMUL_ERR_FEC_PARAM, PMUL_ERR_RANGE, PMUL_ERR_INVAL,
 *	PMUL_ERR_NOSPACE, PMUL_ERR_DUPLICATE, PMUL_ERR_INCONSISTENT,
 *	PMUL_ERR_NOMEM.  Logs nothing.
 * SEE ALSO
 *	RFC 5052 9.1 (block partitioning), ISA-L erasure_code.h,
 *	docs/wire.md, tests/unit/test_pmul_fec.c
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "pmul/pmul_fec.h"

#include <isa-l/erasure_code.h>
#include <string.h>

#include "pmul/util/cur.h"

/* ISA-L expands each GF(2^8) coefficient into 32 octets of tables. */
#define TAB_LEN 32u
/* Distinct k values cached; a message needs two. */
#define CACHE_CNT 4u

struct fec_tab {
    unsigned k;            /* 0: slot unused */
    unsigned rows;         /* repair rows built, ESIs k..k+rows-1 */
    unsigned long used;    /* LRU clock */
    uint8_t *tbls;         /* rows x k x TAB_LEN */
};

struct pmul_fec {
    const mem *m;
    struct fec_tab tab[CACHE_CNT];
    unsigned long clock;
    uint8_t *scratch;      /* decoder matrices and tables */
    size_t scratch_cap;
    /* GF(2^8) log and antilog of ISA-L's field (x^8+x^4+x^3+x^2+1,
     * generator 2), built from its gf_mul() so both always agree.  The
     * decoder's matrix work is a few k * e^2 products, and ISA-L's
     * gf_mul() per product was 60 % of a k = 239 decode; exp has 512
     * entries so that log a + log b needs no reduction. */
    uint8_t gf_log[256];
    uint8_t gf_exp[512];
};

/* ---- layout and parameters --------------------------------------------- */

static int
blocks_make(uint16_t total, unsigned block_cnt, pmul_fec_blocks *out)
{
    unsigned k_large;

    if (total == 0 || block_cnt == 0 || block_cnt > total)
        return PMUL_ERR_RANGE;
    k_large = (total + block_cnt - 1u) / block_cnt;
    if (k_large > PMUL_FEC_N_MAX)
        return PMUL_ERR_RANGE;
    out->total_pdus = total;
    out->block_cnt = (uint16_t)block_cnt;
    out->k_large = (uint8_t)k_large;
    out->k_small = (uint8_t)(total / block_cnt);
    /* RFC 5052 9.1: I_large = T - A_small * Z blocks of A_large. */
    out->large_cnt = (uint16_t)(total - (unsigned)out->k_small * block_cnt);
    return 0;
}

int
pmul_fec_layout(uint16_t total_pdus, unsigned max_block, pmul_fec_blocks *out)
{
    if (out == NULL)
        return PMUL_ERR_INVAL;
    if (max_block == 0 || max_block > PMUL_FEC_N_MAX || total_pdus == 0)
        return PMUL_ERR_RANGE;
    return blocks_make(total_pdus, (total_pdus + max_block - 1u) / max_block, out);
}

unsigned
pmul_fec_block_k(const pmul_fec_blocks *l, uint16_t b)
{
    if (l == NULL || b >= l->block_cnt)
        return 0;
    return b < l->large_cnt ? l->k_large : l->k_small;
}

int
pmul_fec_seq_map(const pmul_fec_blocks *l, uint16_t seq, uint16_t *block, uint8_t *esi)
{
    unsigned s, n_large, b, e;

    if (l == NULL || block == NULL || esi == NULL || seq == 0 || l->block_cnt == 0 ||
        l->k_small == 0)
        return PMUL_ERR_RANGE;
    s = (unsigned)seq - 1u;
    if (seq <= l->total_pdus) {
        n_large = (unsigned)l->large_cnt * l->k_large;
        if (s < n_large) {
            b = s / l->k_large;
            e = s % l->k_large;
        } else {
            b = l->large_cnt + (s - n_large) / l->k_small;
            e = (s - n_large) % l->k_small;
        }
    } else {
        /* Repair j of block b is N + 1 + j*Z + b: round j of repairs
         * covers every block once, so a receiver that stops listening
         * early still got repairs spread over all blocks. */
        s -= l->total_pdus;
        b = s % l->block_cnt;
        e = pmul_fec_block_k(l, (uint16_t)b) + s / l->block_cnt;
        if (e > PMUL_FEC_ESI_MAX)
            return PMUL_ERR_RANGE;
    }
    *block = (uint16_t)b;
    *esi = (uint8_t)e;
    return 0;
}

int
pmul_fec_seq_of(const pmul_fec_blocks *l, uint16_t b, unsigned esi, uint16_t *seq)
{
    unsigned k, v;

    if (l == NULL || seq == NULL)
        return PMUL_ERR_RANGE;
    k = pmul_fec_block_k(l, b);
    if (k == 0 || esi > PMUL_FEC_ESI_MAX)
        return PMUL_ERR_RANGE;
    if (esi < k) {
        if (b < l->large_cnt)
            v = 1u + (unsigned)b * l->k_large + esi;
        else
            v = 1u + (unsigned)l->large_cnt * l->k_large +
                (unsigned)(b - l->large_cnt) * l->k_small + esi;
    } else {
        /* At most 65535 + 254 * 65535: no overflow in unsigned. */
        v = (unsigned)l->total_pdus + 1u + (esi - k) * (unsigned)l->block_cnt + b;
        if (v > UINT16_MAX)
            return PMUL_ERR_RANGE;
    }
    *seq = (uint16_t)v;
    return 0;
}

/* The rules a parameter set must meet, for both directions: reject
 * unless each holds, success only on the last line. */
static int
params_check(const pmul_fec_params *p)
{
    const pmul_fec_blocks *l = &p->blocks;
    pmul_fec_blocks want;
    unsigned last_seq;

    if (blocks_make(l->total_pdus, l->block_cnt, &want) != 0)
        return PMUL_ERR_FEC_PARAM;
    if (memcmp(&want, l, sizeof(want)) != 0)
        return PMUL_ERR_FEC_PARAM;
    if (p->symbol_len == 0 || p->symbol_len > PMUL_FEC_SYMBOL_MAX)
        return PMUL_ERR_FEC_PARAM;
    if (p->last_len == 0 || p->last_len > p->symbol_len)
        return PMUL_ERR_FEC_PARAM;
    if ((unsigned)l->k_large + p->repair_cnt > PMUL_FEC_N_MAX)
        return PMUL_ERR_FEC_PARAM;
    /* Every repair PDU announced for this transmission needs a sequence
     * number: the last is repair r-1 of the last block. */
    last_seq = (unsigned)l->total_pdus + (unsigned)p->repair_cnt * l->block_cnt;
    if (last_seq > UINT16_MAX)
        return PMUL_ERR_FEC_PARAM;
    return 0;
}

ssize_t
pmul_fec_params_encode(const pmul_fec_params *p, uint8_t *out, size_t cap)
{
    wcur w;

    if (p == NULL || params_check(p) != 0)
        return PMUL_ERR_FEC_PARAM;
    if (out == NULL || cap < PMUL_FEC_PARAM_LEN)
        return PMUL_ERR_NOSPACE;
    wcur_init(&w, out, cap);
    wcur_u8(&w, PMUL_FEC_VERSION);
    wcur_u8(&w, p->repair_cnt);
    wcur_u16be(&w, p->blocks.block_cnt);
    wcur_u16be(&w, p->symbol_len);
    wcur_u16be(&w, p->last_len);
    if (w.overflow)
        return PMUL_ERR_NOSPACE;
    return (ssize_t)w.len;
}

/* The first 8 octets of either version (after the version octet). */
static int
params_body(cur *c, uint16_t total_pdus, pmul_fec_params *v)
{
    uint16_t block_cnt;

    memset(v, 0, sizeof(*v));
    if (!cur_u8(c, &v->repair_cnt) || !cur_u16be(c, &block_cnt) ||
        !cur_u16be(c, &v->symbol_len) || !cur_u16be(c, &v->last_len))
        return PMUL_ERR_FEC_PARAM;
    if (blocks_make(total_pdus, block_cnt, &v->blocks) != 0)
        return PMUL_ERR_FEC_PARAM;
    if (params_check(v) != 0)
        return PMUL_ERR_FEC_PARAM;
    return 0;
}

static int params_decode(pmul_fec_params *p, pmul_fec_joint *g, bool joint, uint8_t fec_id,
                         const uint8_t *buf, size_t len, uint16_t total_pdus, uint32_t msid);

int
pmul_fec_params_decode(pmul_fec_params *p, uint8_t fec_id, const uint8_t *buf, size_t len,
                       uint16_t total_pdus)
{
    return params_decode(p, NULL, false, fec_id, buf, len, total_pdus, 0);
}

/* ---- joint repair of several messages (version 2) ----------------------------------------- */

unsigned
pmul_fec_joint_base(const pmul_fec_blocks *l)
{
    if (l == NULL)
        return 0;
    return (unsigned)l->total_pdus + 255u * (unsigned)l->block_cnt + 1u;
}

unsigned
pmul_fec_joint_offset(const pmul_fec_joint *g, unsigned i)
{
    unsigned off = 0, n;

    if (g == NULL)
        return 0;
    n = i < g->cnt ? i : g->cnt;
    for (unsigned t = 0; t < n; t++)
        off += g->mem[t].total_pdus;
    return off;
}

int
pmul_fec_joint_find(const pmul_fec_joint *g, uint32_t msid)
{
    if (g == NULL)
        return -1;
    for (unsigned i = 0; i < g->cnt; i++)
        if (g->mem[i].msid == msid)
            return (int)i;
    return -1;
}

/* The rules of a joint set for carrier msid with parameters p (version 1 part
 * already checked): reject unless each holds. */
static int
joint_check(const pmul_fec_params *p, const pmul_fec_joint *g, uint32_t msid)
{
    unsigned k = 0;
    int me;

    if (g->cnt < 2 || g->cnt > PMUL_FEC_JOINT_MAX)
        return PMUL_ERR_FEC_PARAM;
    for (unsigned i = 0; i < g->cnt; i++) {
        const pmul_fec_member *m = &g->mem[i];

        if (m->total_pdus == 0 || m->total_pdus > PMUL_FEC_N_MAX)
            return PMUL_ERR_FEC_PARAM;
        if (m->last_len == 0 || m->last_len > p->symbol_len)
            return PMUL_ERR_FEC_PARAM;
        for (unsigned t = 0; t < i; t++)
            if (g->mem[t].msid == m->msid)
                return PMUL_ERR_FEC_PARAM;
        k += m->total_pdus;
    }
    if (k != g->k || k > PMUL_FEC_ESI_MAX)
        return PMUL_ERR_FEC_PARAM;
    if (k + (unsigned)g->repair_cnt > PMUL_FEC_N_MAX)
        return PMUL_ERR_FEC_PARAM;
    me = pmul_fec_joint_find(g, msid);
    if (me < 0 || g->mem[me].total_pdus != p->blocks.total_pdus ||
        g->mem[me].last_len != p->last_len)
        return PMUL_ERR_FEC_PARAM;
    /* Every number of the set's repairs so far (G + j0 .. + R - 1). */
    if (pmul_fec_joint_base(&p->blocks) + g->j0 + (unsigned)g->repair_cnt > UINT16_MAX + 1u)
        return PMUL_ERR_FEC_PARAM;
    return 0;
}

int
pmul_fec_joint_seq_of(const pmul_fec_blocks *l, const pmul_fec_joint *g, unsigned j,
                      uint16_t *seq)
{
    unsigned v;

    if (l == NULL || g == NULL || seq == NULL || g->cnt == 0)
        return PMUL_ERR_RANGE;
    if ((unsigned)g->k + j > PMUL_FEC_ESI_MAX)
        return PMUL_ERR_RANGE;
    v = pmul_fec_joint_base(l) + g->j0 + j;
    if (v > UINT16_MAX)
        return PMUL_ERR_RANGE;
    *seq = (uint16_t)v;
    return 0;
}

int
pmul_fec_joint_seq_map(const pmul_fec_blocks *l, const pmul_fec_joint *g, uint16_t seq,
                       uint8_t *esi)
{
    unsigned base, e;

    if (l == NULL || g == NULL || esi == NULL || g->cnt == 0)
        return PMUL_ERR_RANGE;
    base = pmul_fec_joint_base(l) + g->j0;
    if (seq < base || (unsigned)seq - base >= g->repair_cnt)
        return PMUL_ERR_RANGE;
    e = (unsigned)g->k + ((unsigned)seq - base);
    if (e > PMUL_FEC_ESI_MAX)
        return PMUL_ERR_RANGE;
    *esi = (uint8_t)e;
    return 0;
}

ssize_t
pmul_fec_params_encode2(const pmul_fec_params *p, const pmul_fec_joint *g, uint32_t msid,
                        uint8_t *out, size_t cap)
{
    ssize_t n;
    wcur w;

    if (g == NULL || g->cnt == 0)
        return pmul_fec_params_encode(p, out, cap);
    if (p == NULL || params_check(p) != 0 || joint_check(p, g, msid) != 0)
        return PMUL_ERR_FEC_PARAM;
    if (out == NULL || cap < PMUL_FEC_JOINT_PARAM_LEN(g->cnt))
        return PMUL_ERR_NOSPACE;
    n = pmul_fec_params_encode(p, out, cap);
    if (n < 0)
        return n;
    out[0] = PMUL_FEC_VERSION_JOINT;
    wcur_init(&w, out + n, cap - (size_t)n);
    wcur_u8(&w, g->cnt);
    wcur_u8(&w, g->repair_cnt);
    wcur_u16be(&w, g->j0);
    for (unsigned i = 0; i < g->cnt; i++) {
        wcur_u32be(&w, g->mem[i].msid);
        wcur_u16be(&w, g->mem[i].total_pdus);
        wcur_u16be(&w, g->mem[i].last_len);
    }
    if (w.overflow)
        return PMUL_ERR_NOSPACE;
    return n + (ssize_t)w.len;
}

/* Both versions; a joint set only when joint (else version 2 is a version
 * this caller does not know: PMUL_ERR_FEC_ID, plain reception). */
static int
params_decode(pmul_fec_params *p, pmul_fec_joint *g, bool joint, uint8_t fec_id,
              const uint8_t *buf, size_t len, uint16_t total_pdus, uint32_t msid)
{
    pmul_fec_params v;
    pmul_fec_joint gv;
    uint8_t version;
    cur c;

    if (p == NULL)
        return PMUL_ERR_INVAL;
    if (fec_id != PMUL_FEC_ID_RS8)
        return PMUL_ERR_FEC_ID;
    if (buf == NULL && len != 0)
        return PMUL_ERR_FEC_PARAM;
    cur_init(&c, buf, len);
    if (!cur_u8(&c, &version))
        return PMUL_ERR_FEC_PARAM;
    /* A later version may change the layout: a receiver that does not
     * know it falls back to plain selective repeat rather than guess. */
    if (version != PMUL_FEC_VERSION && !(joint && version == PMUL_FEC_VERSION_JOINT))
        return PMUL_ERR_FEC_ID;
    if (params_body(&c, total_pdus, &v) != 0)
        return PMUL_ERR_FEC_PARAM;
    memset(&gv, 0, sizeof(gv));
    if (version == PMUL_FEC_VERSION_JOINT) {
        /* The count bounds the loop, and the length must be exactly what
         * it says, before any member is read. */
        if (!cur_u8(&c, &gv.cnt) || !cur_u8(&c, &gv.repair_cnt) || !cur_u16be(&c, &gv.j0))
            return PMUL_ERR_FEC_PARAM;
        if (gv.cnt < 2 || gv.cnt > PMUL_FEC_JOINT_MAX || len != PMUL_FEC_JOINT_PARAM_LEN(gv.cnt))
            return PMUL_ERR_FEC_PARAM;
        for (unsigned i = 0; i < gv.cnt; i++) {
            pmul_fec_member *m = &gv.mem[i];

            if (!cur_u32be(&c, &m->msid) || !cur_u16be(&c, &m->total_pdus) ||
                !cur_u16be(&c, &m->last_len) || m->total_pdus > PMUL_FEC_N_MAX)
                return PMUL_ERR_FEC_PARAM;
            gv.k = (uint16_t)(gv.k + m->total_pdus);
        }
        if (joint_check(&v, &gv, msid) != 0)
            return PMUL_ERR_FEC_PARAM;
    }
    if (c.left != 0)
        return PMUL_ERR_FEC_PARAM;
    *p = v;
    if (g != NULL)
        *g = gv;
    return 0;
}

int
pmul_fec_params_decode2(pmul_fec_params *p, pmul_fec_joint *g, uint8_t fec_id,
                        const uint8_t *buf, size_t len, uint16_t total_pdus, uint32_t msid)
{
    return params_decode(p, g, true, fec_id, buf, len, total_pdus, msid);
}

/* ---- context and table cache ------------------------------------------- */

int
pmul_fec_new(pmul_fec **out, const mem *m)
{
    pmul_fec *f;
    unsigned i;
    uint8_t x;

    if (out == NULL)
        return PMUL_ERR_INVAL;
    *out = NULL;
    if ((f = mem_calloc(m, 1, sizeof(*f))) == NULL)
        return PMUL_ERR_NOMEM;
    f->m = m;
    for (i = 0, x = 1; i < 255u; i++) {
        f->gf_exp[i] = x;
        f->gf_exp[i + 255u] = x;
        f->gf_log[x] = (uint8_t)i;
        x = gf_mul(x, 2);
    }
    *out = f;
    return 0;
}

void
pmul_fec_free(pmul_fec *f)
{
    unsigned i;

    if (f == NULL)
        return;
    for (i = 0; i < CACHE_CNT; i++)
        mem_free(f->m, f->tab[i].tbls);
    mem_free(f->m, f->scratch);
    mem_free(f->m, f);
}

/* Cauchy coefficient of source t in the row of ESI esi (esi >= k > t):
 * 1 / (esi ^ t), the entry gf_gen_cauchy1_matrix() puts there (the unit
 * test compares them). */
static uint8_t
cauchy(const pmul_fec *f, unsigned esi, unsigned t)
{
    return f->gf_exp[255u - f->gf_log[(esi ^ t) & 0xffu]];
}

/* log of cauchy(esi, t). */
static uint8_t
cauchy_log(const pmul_fec *f, unsigned esi, unsigned t)
{
    return (uint8_t)((255u - f->gf_log[(esi ^ t) & 0xffu]) % 255u);
}

/* Tables for blocks of k with at least `rows` repair rows, built or grown
 * as needed.  On NOMEM the cache stays consistent: a grown entry keeps its
 * old rows, and a slot emptied for eviction stays empty. */
static int
tab_get(pmul_fec *f, unsigned k, unsigned rows, struct fec_tab **out)
{
    struct fec_tab *t = NULL;
    unsigned i, r, want;
    uint8_t coef[PMUL_FEC_N_MAX], *p;
    size_t row_len = (size_t)k * TAB_LEN;

    for (i = 0; i < CACHE_CNT; i++)
        if (f->tab[i].k == k)
            t = &f->tab[i];
    if (t == NULL) {
        /* Evict the least recently used slot (an empty one first). */
        t = &f->tab[0];
        for (i = 1; i < CACHE_CNT; i++)
            if (f->tab[i].k == 0 || (t->k != 0 && f->tab[i].used < t->used))
                t = &f->tab[i];
        if (t->k != 0) {
            mem_free(f->m, t->tbls);
            memset(t, 0, sizeof(*t));
        }
    }
    if (t->k == k && t->rows >= rows)
        goto done;
    /* Grow geometrically, so a transmitter sending one more repair per
     * round rebuilds the tables O(log r) times, not r times. */
    want = t->k == k ? t->rows * 2u : 0u;
    if (want < rows)
        want = rows;
    if (want < 8u)
        want = 8u;
    if (want > PMUL_FEC_N_MAX - k)
        want = PMUL_FEC_N_MAX - k;
    if ((p = mem_realloc(f->m, t->tbls, row_len * want)) == NULL)
        return PMUL_ERR_NOMEM;
    t->tbls = p;
    if (t->k != k)
        t->rows = 0;
    t->k = k;
    for (r = t->rows; r < want; r++) {
        for (i = 0; i < k; i++)
            coef[i] = cauchy(f, k + r, i);
        ec_init_tables((int)k, 1, coef, t->tbls + row_len * r);
    }
    t->rows = want;
done:
    t->used = ++f->clock;
    *out = t;
    return 0;
}

int
pmul_fec_prepare(pmul_fec *f, unsigned k, unsigned r)
{
    struct fec_tab *t;

    if (f == NULL)
        return PMUL_ERR_INVAL;
    if (k == 0 || k > PMUL_FEC_N_MAX || r > PMUL_FEC_N_MAX - k)
        return PMUL_ERR_RANGE;
    if (r == 0 || k == PMUL_FEC_N_MAX)
        return 0;
    return tab_get(f, k, r, &t);
}

/*
 * dst[0..rows) = the rows of tbls applied to src[0..k), over len octets,
 * where src[k-1] has only short_len (>= 1) octets and zeros after.  The
 * tail runs with k - 1 inputs per row: a row's tables are k consecutive
 * TAB_LEN slots, so its first k - 1 are the tables of the first k - 1
 * inputs.  ISA-L does not write through src; its prototype is not const.
 */
static void
mix(size_t len, size_t short_len, unsigned k, unsigned rows, uint8_t *tbls, uint8_t **src,
    uint8_t *const *dst)
{
    uint8_t *ts[PMUL_FEC_N_MAX], *td[PMUL_FEC_N_MAX];
    unsigned i, r;

    for (r = 0; r < rows; r++)
        td[r] = dst[r];
    ec_encode_data((int)short_len, (int)k, (int)rows, tbls, src, td);
    if (short_len == len)
        return;
    for (i = 0; i + 1u < k; i++)
        ts[i] = src[i] + short_len;
    for (r = 0; r < rows; r++) {
        uint8_t *tail = dst[r] + short_len;

        if (k == 1u)
            memset(tail, 0, len - short_len);
        else
            ec_encode_data((int)(len - short_len), (int)k - 1, 1,
                           tbls + (size_t)r * k * TAB_LEN, ts, &tail);
    }
}

int
pmul_fec_encode_n(pmul_fec *f, const uint8_t *const *src, unsigned k, size_t sym_len,
                  size_t last_len, unsigned j0, unsigned cnt, uint8_t *const *out)
{
    uint8_t *s[PMUL_FEC_N_MAX];
    struct fec_tab *t;
    unsigned i;
    int err;

    if (f == NULL || src == NULL || out == NULL)
        return PMUL_ERR_INVAL;
    if (k == 0 || k > PMUL_FEC_N_MAX || j0 > PMUL_FEC_N_MAX - k ||
        cnt > PMUL_FEC_N_MAX - k - j0)
        return PMUL_ERR_RANGE;
    if (sym_len == 0 || sym_len > PMUL_FEC_SYMBOL_MAX || last_len == 0 || last_len > sym_len)
        return PMUL_ERR_INVAL;
    if (cnt == 0)
        return 0;
    for (i = 0; i < k; i++) {
        if (src[i] == NULL)
            return PMUL_ERR_INVAL;
        s[i] = (uint8_t *)(uintptr_t)src[i];
    }
    for (i = 0; i < cnt; i++)
        if (out[i] == NULL)
            return PMUL_ERR_INVAL;
    if ((err = tab_get(f, k, j0 + cnt, &t)) != 0)
        return err;
    mix(sym_len, last_len, k, cnt, t->tbls + (size_t)j0 * k * TAB_LEN, s, out);
    return 0;
}

int
pmul_fec_encode(pmul_fec *f, const uint8_t *const *src, unsigned k, size_t sym_len,
                size_t last_len, unsigned j, uint8_t *out)
{
    uint8_t *o[1] = { out };

    return pmul_fec_encode_n(f, src, k, sym_len, last_len, j, 1, o);
}

/* ---- decoder ------------------------------------------------------------ */

void
pmul_fec_block_init(pmul_fec_block *b, unsigned k)
{
    memset(b, 0, sizeof(*b));
    b->k = k <= PMUL_FEC_N_MAX ? (uint8_t)k : 0;
}

bool
pmul_fec_block_has(const pmul_fec_block *b, unsigned esi)
{
    return esi <= PMUL_FEC_ESI_MAX && (b->held[esi / 64u] >> (esi % 64u) & 1u) != 0;
}

int
pmul_fec_block_add(pmul_fec_block *b, unsigned esi)
{
    if (b->k == 0 || esi > PMUL_FEC_ESI_MAX)
        return PMUL_ERR_RANGE;
    if (pmul_fec_block_has(b, esi))
        return PMUL_ERR_DUPLICATE;
    b->held[esi / 64u] |= (uint64_t)1 << (esi % 64u);
    b->held_cnt++;
    if (esi < b->k)
        b->src_cnt++;
    return 0;
}

bool
pmul_fec_block_is_complete(const pmul_fec_block *b)
{
    return b->k != 0 && b->src_cnt == b->k;
}

bool
pmul_fec_can_recover(const pmul_fec_block *b)
{
    return b->k != 0 && b->held_cnt >= b->k;
}

int
pmul_fec_feed(const pmul_fec_blocks *l, pmul_fec_block *blocks, uint16_t seq)
{
    uint16_t b;
    uint8_t esi;
    int err;

    if (blocks == NULL)
        return PMUL_ERR_INVAL;
    if ((err = pmul_fec_seq_map(l, seq, &b, &esi)) != 0)
        return err;
    return pmul_fec_block_add(&blocks[b], esi);
}

static int
scratch_get(pmul_fec *f, size_t need, uint8_t **out)
{
    uint8_t *p;

    if (need > f->scratch_cap) {
        /* Contents need not survive: free first so peak memory stays at
         * one buffer. */
        mem_free(f->m, f->scratch);
        f->scratch = NULL;
        f->scratch_cap = 0;
        if ((p = mem_alloc(f->m, need)) == NULL)
            return PMUL_ERR_NOMEM;
        f->scratch = p;
        f->scratch_cap = need;
    }
    *out = f->scratch;
    return 0;
}

int
pmul_fec_recover(pmul_fec *f, const pmul_fec_block *b, const uint8_t *const *sym, size_t sym_cnt,
                 size_t sym_len, size_t short_len, uint8_t *const *out)
{
    uint8_t miss[PMUL_FEC_N_MAX], rep[PMUL_FEC_N_MAX], col[PMUL_FEC_N_MAX];
    uint8_t *src[PMUL_FEC_N_MAX], *dst[PMUL_FEC_N_MAX];
    uint8_t *mat, *inv, *cr, *dec, *tbls;
    unsigned k, e = 0, nrep = 0, ncol = 0, nsrc, i, t, u, x;
    bool short_held;
    int err;

    if (f == NULL || b == NULL || sym == NULL || out == NULL || b->k == 0)
        return PMUL_ERR_INVAL;
    k = b->k;
    if (sym_len == 0 || sym_len > PMUL_FEC_SYMBOL_MAX || short_len == 0 || short_len > sym_len)
        return PMUL_ERR_INVAL;
    /* sym must say exactly what b says: a mismatch would read a buffer
     * that is not there or decode from the wrong symbols. */
    for (i = 0; i <= PMUL_FEC_ESI_MAX; i++) {
        bool have = i < sym_cnt && sym[i] != NULL;

        if (have != pmul_fec_block_has(b, i))
            return PMUL_ERR_INVAL;
    }
    if (pmul_fec_block_is_complete(b))
        return 0;
    if (!pmul_fec_can_recover(b))
        return PMUL_ERR_INCONSISTENT;
    for (i = 0; i < k; i++) {
        if (pmul_fec_block_has(b, i))
            continue;
        if (out[i] == NULL)
            return PMUL_ERR_INVAL;
        dst[e] = out[i];
        miss[e++] = (uint8_t)i;
    }
    for (i = k; i <= PMUL_FEC_ESI_MAX && nrep < e; i++)
        if (pmul_fec_block_has(b, i))
            rep[nrep++] = (uint8_t)i;
    /* Columns: held full-length sources, the e repairs, and the short
     * source last so that mix() can leave it out of the tail. */
    short_held = short_len < sym_len && pmul_fec_block_has(b, k - 1u);
    for (i = 0; i < k; i++)
        if (pmul_fec_block_has(b, i) && !(short_held && i == k - 1u))
            col[ncol++] = (uint8_t)i;
    nsrc = ncol;
    for (t = 0; t < e; t++)
        col[ncol++] = rep[t];
    if (short_held)
        col[ncol++] = (uint8_t)(k - 1u);

    /* mat, inv: e x e; cr, dec: e x k; tbls: e x k x TAB_LEN.  e <= 255 - k,
     * so e * k <= 127 * 128 and the sum stays far below SIZE_MAX. */
    if ((err = scratch_get(f, (size_t)e * e * 2u + (size_t)e * k * (2u + TAB_LEN), &mat)) != 0)
        return err;
    inv = mat + (size_t)e * e;
    cr = inv + (size_t)e * e;
    dec = cr + (size_t)e * k;
    tbls = dec + (size_t)e * k;
    for (t = 0; t < e; t++) {
        for (u = 0; u < e; u++)
            mat[t * e + u] = cauchy(f, rep[t], miss[u]);
        /* log C[R][held], computed once rather than per output row. */
        for (u = 0; u < ncol; u++)
            cr[t * k + u] = cauchy_log(f, rep[t], col[u]);
    }
    /* A Cauchy matrix is never singular; failing here is a broken
     * invariant (bad ISA-L build), not bad input. */
    if (gf_invert_matrix(mat, inv, (int)e) != 0)
        return PMUL_ERR_FATAL;
    for (t = 0; t < e; t++) {
        const uint8_t *irow = inv + (size_t)t * e;
        uint8_t *drow = dec + (size_t)t * k;

        /* Held sources move to the right-hand side: weight
         * sum_x inv[t][x] * C[R_x][c].  Repair column x: inv[t][x]. */
        memset(drow, 0, k);
        for (x = 0; x < e; x++) {
            const uint8_t *crow = cr + (size_t)x * k;
            const uint8_t *ew;
            uint8_t w = irow[x];

            drow[nsrc + x] = w;
            if (w == 0)
                continue;
            ew = f->gf_exp + f->gf_log[w];
            for (u = 0; u < nsrc; u++)
                drow[u] ^= ew[crow[u]];
            if (ncol > nsrc + e)
                drow[ncol - 1u] ^= ew[crow[ncol - 1u]];
        }
    }
    for (u = 0; u < ncol; u++)
        src[u] = (uint8_t *)(uintptr_t)sym[col[u]];
    ec_init_tables((int)k, (int)e, dec, tbls);
    mix(sym_len, short_held ? short_len : sym_len, k, e, tbls, src, dst);
    return 0;
}

/* Work bound of pmul_fec_solve() (u x u x sym_len octet products): a peer
 * that builds huge mixed systems gets no decoding, not seconds of CPU.
 * 100 mails of 2-8 kB in 1 KiB PDUs need about 12 x 12 x 1024. */
#define SOLVE_OPS_MAX ((size_t)1 << 24)

/* Coefficient of equation q on ESI t of the block. */
static uint8_t
eq_coef(const pmul_fec *f, const pmul_fec_eq *q, unsigned t)
{
    if (q->n == 0)
        return cauchy(f, q->esi, t);
    if (t < q->off || t >= (unsigned)q->off + q->n)
        return 0;
    return cauchy(f, q->esi, t - q->off);
}

int
pmul_fec_solve(pmul_fec *f, unsigned k, const uint8_t *const *sym, uint8_t *const *out,
               const pmul_fec_eq *q, unsigned u, size_t sym_len)
{
    uint8_t miss[PMUL_FEC_N_MAX], held[PMUL_FEC_N_MAX];
    uint8_t *in[PMUL_FEC_N_MAX], *syn[PMUL_FEC_N_MAX], *dst[PMUL_FEC_N_MAX];
    uint8_t *mat, *inv, *coef, *tbls, *s;
    unsigned t, r, nm = 0, nh = 0;
    size_t i;
    int err;

    if (f == NULL || sym == NULL || out == NULL || q == NULL || k == 0 || k > PMUL_FEC_N_MAX ||
        sym_len == 0 || sym_len > PMUL_FEC_SYMBOL_MAX)
        return PMUL_ERR_INVAL;
    for (t = 0; t < k; t++) {
        if (sym[t] != NULL) {
            in[nh] = (uint8_t *)(uintptr_t)sym[t];
            held[nh++] = (uint8_t)t;
        } else {
            if (out[t] == NULL)
                return PMUL_ERR_INVAL;
            dst[nm] = out[t];
            miss[nm++] = (uint8_t)t;
        }
    }
    if (nm != u || u == 0 || (size_t)u * u * sym_len > SOLVE_OPS_MAX)
        return PMUL_ERR_INCONSISTENT;
    for (r = 0; r < u; r++)
        if (q[r].sym == NULL || (q[r].n == 0 ? q[r].esi < k :
                                 q[r].esi < q[r].n || (unsigned)q[r].off + q[r].n > k))
            return PMUL_ERR_INVAL;
    /* syn: u symbols; mat, inv: u x u; coef: u x max(held, u); tbls: its
     * expanded tables.  u, held <= 255: a few MB at most. */
    t = nh > u ? nh : u;
    if ((err = scratch_get(f, (size_t)u * sym_len + (size_t)u * u * 2u +
                                  (size_t)u * t * (1u + TAB_LEN), &s)) != 0)
        return err;
    mat = s + (size_t)u * sym_len;
    inv = mat + (size_t)u * u;
    coef = inv + (size_t)u * u;
    tbls = coef + (size_t)u * t;
    /* Each equation minus its row over the held symbols leaves its row
     * over the missing ones: syn = A x. */
    for (r = 0; r < u; r++) {
        syn[r] = s + (size_t)r * sym_len;
        for (t = 0; t < nh; t++)
            coef[r * nh + t] = eq_coef(f, &q[r], held[t]);
        for (t = 0; t < u; t++)
            mat[r * u + t] = eq_coef(f, &q[r], miss[t]);
    }
    if (nh > 0) {
        ec_init_tables((int)nh, (int)u, coef, tbls);
        ec_encode_data((int)sym_len, (int)nh, (int)u, tbls, in, syn);
    } else {
        for (r = 0; r < u; r++)
            memset(syn[r], 0, sym_len);
    }
    for (r = 0; r < u; r++)
        for (i = 0; i < sym_len; i++)
            syn[r][i] ^= q[r].sym[i];
    if (gf_invert_matrix(mat, inv, (int)u) != 0)
        return PMUL_ERR_INCONSISTENT;
    ec_init_tables((int)u, (int)u, inv, tbls);
    ec_encode_data((int)sym_len, (int)u, (int)u, tbls, syn, dst);
    return 0;
}
