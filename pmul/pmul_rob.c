/*
 * NAME
 *	pmul_rob - reassembly buffer with per-sender byte budgets
 * SYNOPSIS
 *	#include "pmul/pmul_rob.h"
 * DESCRIPTION
 *	Holds the Data_PDU fragments of one message until all of
 *	1..Total_Number_of_PDUs are present (docs/wire.md 4.1, 7.3), then
 *	concatenates them.  Fragments are copied into one arena in arrival
 *	order: when they arrive in sequence (the common case) the arena
 *	already is the message and is handed over without a copy.
 *
 *	Memory is charged as it is used: fragment octets, one index entry
 *	per fragment and the sequence bitmap.  The arena and index grow
 *	geometrically, so there is no allocation per PDU in the steady state;
 *	their slack is not charged (it is at most the charged amount).
 * SECURITY
 *	Fragments and sequence numbers are untrusted.  Nothing is allocated
 *	by a count the peer claims: growth follows the bytes actually
 *	received, each checked against both budgets and max_len first.
 * DIAGNOSTICS
 *	PMUL_ERR_RANGE, PMUL_ERR_INCONSISTENT, PMUL_ERR_BUSY, PMUL_ERR_NOMEM,
 *	PMUL_ERR_INVAL.  Logs nothing.
 * SEE ALSO
 *	pmul_seqset(3), pmul_rx(3)
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "pmul/pmul_rob.h"

#include <string.h>

#include "pmul/pmul_err.h"

void
pmul_rob_init(pmul_rob *r, const mem *m, size_t max_len, pmul_budget *b_src,
              pmul_budget *b_all)
{
    memset(r, 0, sizeof(*r));
    pmul_seqset_init(&r->have, m);
    r->m = m;
    r->max_len = max_len;
    r->b_src = b_src;
    r->b_all = b_all;
    r->in_order = true;
}

/* Add n octets to what the rob holds and to both budgets (checked). */
static void
add_charge(pmul_rob *r, size_t n)
{
    r->charged += n;
    if (r->b_src != NULL)
        r->b_src->used += n;
    if (r->b_all != NULL)
        r->b_all->used += n;
}

static void
uncharge(pmul_rob *r)
{
    pmul_rob_uncharge(r, r->charged);
}

void
pmul_rob_fini(pmul_rob *r)
{
    uncharge(r);
    pmul_seqset_fini(&r->have);
    mem_free(r->m, r->arena);
    mem_free(r->m, r->idx);
    r->arena = NULL;
    r->idx = NULL;
    r->arena_len = r->arena_size = r->idx_cnt = r->idx_cap = 0;
    r->data_len = 0;
}

static bool
budget_fits(const pmul_budget *b, size_t n)
{
    return b == NULL || n <= b->cap - b->used;
}

/* Grow *p (of *size elements of esz octets) to hold need elements. */
static int
grow(const mem *m, void **p, size_t *size, size_t need, size_t esz, size_t floor)
{
    size_t n;
    void *q;

    if (need <= *size)
        return 0;
    n = *size > SIZE_MAX / 2 ? SIZE_MAX : *size * 2;
    if (n < need)
        n = need;
    if (n < floor)
        n = floor;
    if (n > SIZE_MAX / esz)
        return PMUL_ERR_NOMEM;
    q = mem_realloc(m, *p, n * esz);
    if (q == NULL)
        return PMUL_ERR_NOMEM;
    *p = q;
    *size = n;
    return 0;
}

int
pmul_rob_put(pmul_rob *r, uint16_t seq, const uint8_t *frag, size_t len)
{
    size_t gap_before, gap_after, cost;
    pmul_rob_frag *f;
    bool extra;
    int err;

    if (seq == 0)
        return PMUL_ERR_RANGE;
    /* A repair symbol: its number is above the total; the caller bounds
     * how many it keeps, the budgets still apply. */
    extra = r->total != 0 && seq > r->total;
    if (extra && seq > r->extra_hi)
        return PMUL_ERR_INCONSISTENT;
    if (pmul_seqset_has(&r->have, seq))
        return 0;
    /* Budget checks first, with sizes computed before anything grows:
     * len is bounded by one datagram, so the sums cannot overflow. */
    if (!extra && len > r->max_len - r->data_len)
        return PMUL_ERR_BUSY;
    gap_before = pmul_seqset_bytes(&r->have);
    gap_after = gap_before;
    if ((size_t)seq > gap_before * 8)
        gap_after = ((size_t)seq + 63) / 64 * 8;        /* at least this */
    cost = len + sizeof(pmul_rob_frag) + (gap_after - gap_before);
    if (!budget_fits(r->b_src, cost) || !budget_fits(r->b_all, cost))
        return PMUL_ERR_BUSY;

    if ((err = grow(r->m, (void **)&r->arena, &r->arena_size, r->arena_len + len, 1, 256)) != 0)
        return err;
    if ((err = grow(r->m, (void **)&r->idx, &r->idx_cap, r->idx_cnt + 1,
                    sizeof(pmul_rob_frag), 8)) != 0)
        return err;
    if ((err = pmul_seqset_set(&r->have, seq)) < 0)
        return err;
    /* The bitmap may have grown geometrically past gap_after: charge what
     * it really is (still bounded by 8 KiB). */
    cost = len + sizeof(pmul_rob_frag) + (pmul_seqset_bytes(&r->have) - gap_before);
    if (len > 0)
        memcpy(r->arena + r->arena_len, frag, len);
    f = &r->idx[r->idx_cnt++];
    f->seq = seq;
    f->off = (uint32_t)r->arena_len;
    f->len = (uint32_t)len;
    if (r->in_order && seq != r->idx_cnt)
        r->in_order = false;
    if (r->idx_cnt > 1 && seq < r->idx[r->idx_cnt - 2].seq)
        r->unsorted = true;
    r->arena_len += len;
    if (!extra)
        r->data_len += len;
    add_charge(r, cost);
    return 1;
}

int
pmul_rob_set_total(pmul_rob *r, uint16_t total)
{
    size_t i, n = 0;

    if (total == 0)
        return PMUL_ERR_RANGE;
    r->total = total;
    /* Early fragments above it (repair symbols, or a peer's junk) no
     * longer count toward the message length. */
    for (i = 0; i < r->idx_cnt; i++)
        if (r->idx[i].seq <= total)
            n += r->idx[i].len;
    r->data_len = n;
    return 0;
}

void
pmul_rob_set_extra(pmul_rob *r, uint16_t hi)
{
    r->extra_hi = hi;
}

int
pmul_rob_charge(pmul_rob *r, size_t n)
{
    if (!budget_fits(r->b_src, n) || !budget_fits(r->b_all, n))
        return PMUL_ERR_BUSY;
    add_charge(r, n);
    return 0;
}

void
pmul_rob_uncharge(pmul_rob *r, size_t n)
{
    if (n > r->charged)
        n = r->charged;
    r->charged -= n;
    if (r->b_src != NULL)
        r->b_src->used -= n;
    if (r->b_all != NULL)
        r->b_all->used -= n;
}

bool
pmul_rob_has(const pmul_rob *r, uint16_t seq)
{
    return pmul_seqset_has(&r->have, seq);
}

uint32_t
pmul_rob_count(const pmul_rob *r)
{
    return r->total != 0 ? pmul_seqset_count_upto(&r->have, r->total) : r->have.cnt;
}

bool
pmul_rob_is_complete(const pmul_rob *r)
{
    return r->total != 0 && pmul_seqset_count_upto(&r->have, r->total) == r->total;
}

/* Order index entries by sequence number (insertion sort is enough for the
 * nearly sorted arrays retransmissions produce; worst case O(n^2) only on
 * a message whose fragments arrived in reverse). */
static void
sort_idx(pmul_rob_frag *v, size_t n)
{
    size_t i, j;
    pmul_rob_frag t;

    for (i = 1; i < n; i++) {
        t = v[i];
        for (j = i; j > 0 && v[j - 1].seq > t.seq; j--)
            v[j] = v[j - 1];
        v[j] = t;
    }
}

static void
ensure_sorted(pmul_rob *r)
{
    if (r->unsorted)
        sort_idx(r->idx, r->idx_cnt);
    r->unsorted = false;
}

bool
pmul_rob_get(pmul_rob *r, uint16_t seq, const uint8_t **frag, size_t *len)
{
    size_t lo = 0, hi, mid;

    if (!pmul_seqset_has(&r->have, seq))
        return false;
    ensure_sorted(r);
    hi = r->idx_cnt;
    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        if (r->idx[mid].seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == r->idx_cnt || r->idx[lo].seq != seq)
        return false;
    *frag = r->arena + r->idx[lo].off;
    *len = r->idx[lo].len;
    return true;
}

int
pmul_rob_assemble(pmul_rob *r, uint8_t **out, size_t *len)
{
    size_t i, n = 0, total_len = 0;
    uint8_t *p;

    if (!pmul_rob_is_complete(r))
        return PMUL_ERR_INVAL;
    if (r->in_order && r->idx_cnt == r->total) {
        /* Fast path: the arena is the message.  Hand it over. */
        *out = r->arena;
        *len = r->arena_len;
        if (*out == NULL) {
            /* All fragments empty: give the caller a real 1-byte buffer so
             * that it can free it like any other. */
            if ((*out = mem_alloc(r->m, 1)) == NULL)
                return PMUL_ERR_NOMEM;
        }
        r->arena = NULL;
        r->arena_len = r->arena_size = 0;
        pmul_rob_fini(r);
        return 0;
    }
    ensure_sorted(r);
    for (i = 0; i < r->idx_cnt && r->idx[i].seq <= r->total; i++)
        total_len += r->idx[i].len;
    if ((p = mem_alloc(r->m, total_len != 0 ? total_len : 1)) == NULL)
        return PMUL_ERR_NOMEM;
    for (i = 0; i < r->idx_cnt && r->idx[i].seq <= r->total; i++) {
        if (r->idx[i].len > 0)
            memcpy(p + n, r->arena + r->idx[i].off, r->idx[i].len);
        n += r->idx[i].len;
    }
    *out = p;
    *len = total_len;
    pmul_rob_fini(r);
    return 0;
}
