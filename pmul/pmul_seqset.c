/*
 * NAME
 *	pmul_seqset - sets of Data_PDU sequence numbers
 * SYNOPSIS
 *	#include "pmul/pmul_seqset.h"
 * DESCRIPTION
 *	A bitmap over the 16-bit Sequence_Number_of_PDU space (docs/wire.md
 *	4.1).  Receivers use it for the fragments they hold and the numbers
 *	they already reported missing (the MM rule of 7.3); transmitters use
 *	it for the Data_PDUs a round must send.  A bitmap was chosen over a
 *	range list because loss on radio links fragments ranges badly and
 *	every operation here must stay O(1) or O(words) per PDU.
 * SECURITY
 *	Sequence numbers come from peers, but the 16-bit field bounds the
 *	bitmap at 8 KiB; callers charge the size to the sender's budget.
 * DIAGNOSTICS
 *	PMUL_ERR_NOMEM, PMUL_ERR_RANGE (sequence number 0).  Logs nothing.
 * SEE ALSO
 *	pmul_rob(3), pmul_rx(3), pmul_tx(3)
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "pmul/pmul_seqset.h"

#include <string.h>

#include "pmul/pmul_err.h"

#define WORD_BITS 64u
/* 65535 sequence numbers need 1024 words. */
#define MAX_WORDS 1024u

void
pmul_seqset_init(pmul_seqset *g, const mem *m)
{
    memset(g, 0, sizeof(*g));
    g->m = m;
}

void
pmul_seqset_fini(pmul_seqset *g)
{
    mem_free(g->m, g->w);
    g->w = NULL;
    g->nwords = 0;
    g->cnt = 0;
    g->hi = 0;
}

int
pmul_seqset_reserve(pmul_seqset *g, uint16_t maxseq)
{
    size_t need, n;
    uint64_t *w;

    if (maxseq == 0)
        return 0;
    need = ((size_t)maxseq + WORD_BITS - 1) / WORD_BITS;
    if (need <= g->nwords)
        return 0;
    /* Grow geometrically (but never past the 16-bit space) so a message
     * arriving in order costs O(log) reallocations, not one per PDU. */
    n = g->nwords * 2;
    if (n < need)
        n = need;
    if (n < 4)
        n = 4;
    if (n > MAX_WORDS)
        n = MAX_WORDS;
    w = mem_realloc(g->m, g->w, n * sizeof(*w));
    if (w == NULL)
        return PMUL_ERR_NOMEM;
    memset(w + g->nwords, 0, (n - g->nwords) * sizeof(*w));
    g->w = w;
    g->nwords = n;
    return 0;
}

/* Set a bit already covered by the allocation. */
static int
set_bit(pmul_seqset *g, uint16_t seq)
{
    size_t i;
    uint64_t bit;

    i = (size_t)(seq - 1) / WORD_BITS;
    bit = (uint64_t)1 << ((seq - 1) % WORD_BITS);
    if (g->w[i] & bit)
        return 0;
    g->w[i] |= bit;
    g->cnt++;
    if (seq > g->hi)
        g->hi = seq;
    return 1;
}

int
pmul_seqset_set(pmul_seqset *g, uint16_t seq)
{
    int err;

    if (seq == 0)
        return PMUL_ERR_RANGE;
    if ((err = pmul_seqset_reserve(g, seq)) != 0)
        return err;
    return set_bit(g, seq);
}

int
pmul_seqset_set_range(pmul_seqset *g, uint16_t lo, uint16_t hi)
{
    uint32_t s;
    int err;

    if (lo == 0 || lo > hi)
        return PMUL_ERR_RANGE;
    if ((err = pmul_seqset_reserve(g, hi)) != 0)
        return err;
    for (s = lo; s <= hi; s++)
        (void)set_bit(g, (uint16_t)s);
    return 0;
}

bool
pmul_seqset_has(const pmul_seqset *g, uint16_t seq)
{
    size_t i;

    if (seq == 0)
        return false;
    i = (size_t)(seq - 1) / WORD_BITS;
    if (i >= g->nwords)
        return false;
    return (g->w[i] >> ((seq - 1) % WORD_BITS)) & 1u;
}

void
pmul_seqset_clear(pmul_seqset *g, uint16_t seq)
{
    size_t i;
    uint64_t bit;

    if (!pmul_seqset_has(g, seq))
        return;
    i = (size_t)(seq - 1) / WORD_BITS;
    bit = (uint64_t)1 << ((seq - 1) % WORD_BITS);
    g->w[i] &= ~bit;
    g->cnt--;
    if (seq == g->hi) {
        /* Find the new highest member, scanning down from its word. */
        g->hi = 0;
        for (i = i + 1; i > 0; i--)
            if (g->w[i - 1] != 0) {
                g->hi = (uint16_t)((i - 1) * WORD_BITS +
                                   (WORD_BITS - (unsigned)__builtin_clzll(g->w[i - 1])));
                break;
            }
    }
}

void
pmul_seqset_clear_all(pmul_seqset *g)
{
    if (g->w != NULL)
        memset(g->w, 0, g->nwords * sizeof(*g->w));
    g->cnt = 0;
    g->hi = 0;
}

uint32_t
pmul_seqset_count_upto(const pmul_seqset *g, uint16_t n)
{
    size_t full, i;
    uint32_t c = 0;
    unsigned rest;

    if (n >= g->hi)
        return g->cnt;
    full = (size_t)n / WORD_BITS;
    for (i = 0; i < full && i < g->nwords; i++)
        c += (uint32_t)__builtin_popcountll(g->w[i]);
    rest = n % WORD_BITS;
    if (rest != 0 && full < g->nwords)
        c += (uint32_t)__builtin_popcountll(g->w[full] & (((uint64_t)1 << rest) - 1));
    return c;
}

uint16_t
pmul_seqset_next_set(const pmul_seqset *g, uint16_t from)
{
    size_t i;
    uint64_t w;

    if (from == 0)
        from = 1;
    if (from > g->hi)
        return 0;
    i = (size_t)(from - 1) / WORD_BITS;
    w = g->w[i] & (~(uint64_t)0 << ((from - 1) % WORD_BITS));
    for (;;) {
        if (w != 0)
            return (uint16_t)(i * WORD_BITS + (unsigned)__builtin_ctzll(w) + 1);
        if (++i >= g->nwords)
            return 0;
        w = g->w[i];
    }
}

uint16_t
pmul_seqset_next_clear(const pmul_seqset *g, uint16_t from, uint16_t n)
{
    size_t i;
    uint64_t w;
    uint32_t s;

    if (from == 0)
        from = 1;
    if (from > n)
        return 0;
    if (from > g->hi)
        return from;
    i = (size_t)(from - 1) / WORD_BITS;
    w = ~g->w[i] & (~(uint64_t)0 << ((from - 1) % WORD_BITS));
    for (;;) {
        if (w != 0) {
            s = (uint32_t)(i * WORD_BITS + (unsigned)__builtin_ctzll(w) + 1);
            return s <= n ? (uint16_t)s : 0;
        }
        if (++i >= g->nwords) {
            s = (uint32_t)(i * WORD_BITS + 1);
            return s <= n ? (uint16_t)s : 0;
        }
        w = ~g->w[i];
    }
}

uint32_t
pmul_seqset_count_neither(const pmul_seqset *a, const pmul_seqset *b, uint16_t n)
{
    size_t i, words = ((size_t)n + WORD_BITS - 1) / WORD_BITS;
    uint64_t w, mask;
    uint32_t c = 0;

    for (i = 0; i < words; i++) {
        w = i < a->nwords ? a->w[i] : 0;
        if (b != NULL && i < b->nwords)
            w |= b->w[i];
        mask = ~(uint64_t)0;
        if (i == words - 1 && n % WORD_BITS != 0)
            mask = ((uint64_t)1 << (n % WORD_BITS)) - 1;
        c += (uint32_t)__builtin_popcountll(~w & mask);
    }
    return c;
}

size_t
pmul_seqset_bytes(const pmul_seqset *g)
{
    return g->nwords * sizeof(*g->w);
}
