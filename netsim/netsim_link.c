/*
 * NAME
 *	netsim_link - loss models, duplication, reordering and uplink queues
 * SYNOPSIS
 *	#include "netsim/netsim_link.h"
 * DESCRIPTION
 *	Bernoulli loss draws once per datagram.  Gilbert-Elliott first moves
 *	the two-state chain (good -> bad with p, bad -> good with r), then
 *	draws the loss of the new state; its stationary loss rate is
 *	(r * loss_good + p * loss_bad) / (p + r) and its mean burst length in
 *	the bad state is 1 / r datagrams.  Fixed masks count datagrams per
 *	PDU type and in total, so a scenario can say "the first Address_PDU
 *	that reaches C is lost" and make a Data_PDU arrive first.
 *
 *	Serialisation time is rounded up to the microsecond: a 9.6 kbit/s
 *	uplink spends 834 us per octet, never less, so the simulated
 *	throughput never beats the physical limit it is compared against.
 * SECURITY
 *	Sees datagram types only; trusts the scenario's numbers, which the
 *	parser has range-checked.
 * DIAGNOSTICS
 *	NETSIM_ERR_LIMIT, NETSIM_ERR_NOMEM from the queue.  Logs nothing.
 * SEE ALSO
 *	Gilbert (1960), Elliott (1963); picoquic sim_link.c; netsim(7).
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "netsim/netsim_link.h"

#include "netsim/netsim_err.h"

double
netsim_loss_mean(const netsim_loss_cfg *cfg)
{
    switch (cfg->kind) {
    case NETSIM_LOSS_BERNOULLI:
        return cfg->p;
    case NETSIM_LOSS_GE:
        if (cfg->p + cfg->r <= 0.0)
            return cfg->loss_good;
        return (cfg->r * cfg->loss_good + cfg->p * cfg->loss_bad) / (cfg->p + cfg->r);
    default:
        return 0.0;
    }
}

void
netsim_loss_init(netsim_loss *l, const netsim_loss_cfg *cfg, uint64_t seed, uint64_t label)
{
    size_t i;

    l->cfg = cfg;
    l->thr_p = netsim_prob_threshold(cfg->p);
    l->thr_r = netsim_prob_threshold(cfg->r);
    l->thr_good = netsim_prob_threshold(cfg->loss_good);
    l->thr_bad = netsim_prob_threshold(cfg->loss_bad);
    l->bad = false;
    l->cnt_all = 0;
    for (i = 0; i < sizeof(l->cnt_type) / sizeof(l->cnt_type[0]); i++)
        l->cnt_type[i] = 0;
    netsim_rng_seed(&l->rng, seed, label);
    l->seen = l->dropped = 0;
}

static bool
random_drop(netsim_loss *l)
{
    switch (l->cfg->kind) {
    case NETSIM_LOSS_BERNOULLI:
        return netsim_rng_chance(&l->rng, l->thr_p);
    case NETSIM_LOSS_GE:
        if (l->bad) {
            if (netsim_rng_chance(&l->rng, l->thr_r))
                l->bad = false;
        } else {
            if (netsim_rng_chance(&l->rng, l->thr_p))
                l->bad = true;
        }
        return netsim_rng_chance(&l->rng, l->bad ? l->thr_bad : l->thr_good);
    default:
        return false;
    }
}

bool
netsim_loss_drop(netsim_loss *l, int pdu_type)
{
    const netsim_loss_cfg *c = l->cfg;
    uint32_t nth_type = 0;
    bool drop;
    size_t i;

    l->seen++;
    l->cnt_all++;
    if (pdu_type >= 0 && (size_t)pdu_type < sizeof(l->cnt_type) / sizeof(l->cnt_type[0]))
        nth_type = ++l->cnt_type[pdu_type];
    drop = random_drop(l);
    for (i = 0; i < c->mask_cnt; i++) {
        const netsim_mask_ent *e = &c->mask[i];
        uint32_t n = e->type == NETSIM_MASK_ANY ? l->cnt_all
                   : e->type == pdu_type ? nth_type : 0;

        if (n != 0 && n >= e->lo && n <= e->hi)
            drop = true;
    }
    if (drop)
        l->dropped++;
    return drop;
}

void
netsim_jitter_init(netsim_jitter *j, const netsim_jitter_cfg *cfg, uint64_t seed, uint64_t label)
{
    j->thr_dup = netsim_prob_threshold(cfg->dup_p);
    j->thr_reorder = netsim_prob_threshold(cfg->reorder_p);
    j->dup_delay_us = cfg->dup_delay_us;
    j->reorder_us = cfg->reorder_us;
    netsim_rng_seed(&j->rng, seed, label);
    j->dups = j->reorders = 0;
}

bool
netsim_jitter_apply(netsim_jitter *j, uint64_t *extra_us, uint64_t *dup_extra_us)
{
    bool dup;

    *extra_us = 0;
    *dup_extra_us = 0;
    /* Draw both decisions every time, for the same reason as the loss
     * model: the pattern must not shift when one knob changes. */
    if (netsim_rng_chance(&j->rng, j->thr_reorder) && j->reorder_us > 0) {
        *extra_us = netsim_rng_below(&j->rng, j->reorder_us + 1);
        j->reorders++;
    }
    dup = netsim_rng_chance(&j->rng, j->thr_dup);
    if (dup) {
        *dup_extra_us = j->dup_delay_us;
        j->dups++;
    }
    return dup;
}

uint64_t
netsim_tx_time_us(size_t len, size_t overhead, uint64_t rate_bps)
{
    uint64_t bits;

    if (rate_bps == 0)
        return 0;
    /* len and overhead are at most 65535 + a small constant, so neither
     * the sum nor the product below can overflow 64 bits. */
    bits = ((uint64_t)len + overhead) * 8u;
    return (bits * 1000000u + rate_bps - 1) / rate_bps;
}

void
netsim_txq_init(netsim_txq *q, const mem *m, size_t limit)
{
    q->v = NULL;
    q->head = q->len = q->size = 0;
    q->bytes = 0;
    q->limit = limit;
    q->m = m;
}

void
netsim_txq_fini(netsim_txq *q)
{
    mem_free(q->m, q->v);
    q->v = NULL;
    q->head = q->len = q->size = 0;
    q->bytes = 0;
}

int
netsim_txq_push(netsim_txq *q, void *p, size_t len)
{
    netsim_txq_ent *nv;
    size_t i, nsize;

    if (q->limit != 0 && (len > q->limit || q->bytes > q->limit - len))
        return NETSIM_ERR_LIMIT;
    if (q->len == q->size) {
        nsize = q->size != 0 ? q->size * 2 : 16;
        if (nsize > SIZE_MAX / sizeof(*nv))
            return NETSIM_ERR_NOMEM;
        nv = mem_alloc(q->m, nsize * sizeof(*nv));
        if (nv == NULL)
            return NETSIM_ERR_NOMEM;
        /* Unroll the ring into the new array, oldest first. */
        for (i = 0; i < q->len; i++)
            nv[i] = q->v[(q->head + i) % q->size];
        mem_free(q->m, q->v);
        q->v = nv;
        q->head = 0;
        q->size = nsize;
    }
    q->v[(q->head + q->len) % q->size].p = p;
    q->v[(q->head + q->len) % q->size].len = len;
    q->len++;
    q->bytes += len;
    return 0;
}

void *
netsim_txq_pop(netsim_txq *q)
{
    netsim_txq_ent e;

    if (q->len == 0)
        return NULL;
    e = q->v[q->head];
    q->head = (q->head + 1) % q->size;
    q->len--;
    q->bytes -= e.len;
    return e.p;
}
