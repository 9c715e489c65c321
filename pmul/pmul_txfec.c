/*
 * NAME
 *	pmul_txfec - the transmitter's repair planning and loss estimate
 * SYNOPSIS
 *	#include "pmul/pmul_engine_int.h"
 * DESCRIPTION
 *	What pmul_tx.c asks about repair (docs/wire.md 10, fec-contract.md,
 *	docs/engine.md section 6) for a message sent with FEC:
 *
 *	setup	at submit: whether the message goes with repair at all (FEC
 *		on, some destination decodes, none known not to read PDU type
 *		8), its block layout, and the coding tables its repairs will
 *		likely need, so that sending allocates nothing.
 *	loss	per destination, what it lost of the first transmissions,
 *		from its first answer (pmul_dststate.ls_*), faded over a
 *		window; and over all destinations, for one not heard enough.
 *	plan	per round and block: proactive repairs on a whole
 *		transmission, and on Acks the fewer PDUs of fresh repairs
 *		(the largest need with a margin for the estimate) or the
 *		listed sources; trimmed when mid-round Acks show the margin
 *		was for losses that did not happen.
 *	repair	the round's next repair symbol, in sequence-number order.
 *	asks	whether a silent destination's last list is most likely
 *		covered by what went since (its Ack was lost, not its data).
 *
 *	pmul_tx.c owns the rounds and sends the PDUs; this file only fills
 *	the message's per-block counters, its plan and fecset, and
 *	the engine's symbol buffer.
 * SECURITY
 *	Sees only missing lists pmul_tx.c accepted from a destination of the
 *	message, clamped to the message's PDU count.  The loss estimate is
 *	capped (LOSS_MAX_PM), so forged Acks cannot make every round several
 *	times what it asks for.
 * DIAGNOSTICS
 *	PMUL_ERR_NOMEM and the codec's errors from pmul__txf_setup().
 * SEE ALSO
 *	pmul_tx.c, pmul_txpeer.c, pmul_fec(3), docs/engine.md
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "pmul/pmul_engine_int.h"

#include <string.h>

/* Loss estimate per destination (pmul_dststate.ls_*): samples fade by
 * halving past this many symbols; fewer than LOSS_MIN_SENT say nothing. */
#define LOSS_WINDOW 2048u
#define LOSS_MIN_SENT 8u
/* Above half the symbols lost the estimate is not believed: a receiver (or
 * whoever forges its Acks) could otherwise make every round several times
 * what it asks for. */
#define LOSS_MAX_PM 500u
/* Repairs on Acks cover a receiver's need with the probability of a
 * normal deviate z = MARGIN_Z100 / 100 (1.0: about 84 %): one more round
 * costs a round trip and timer, one more repair a PDU airtime
 * (docs/benchmarks.md, "Repair sizing"). */
#define MARGIN_Z100 100u

/* ---- loss estimate ----------------------------------------------------- */

static unsigned
loss_pm(const pmul_dststate *ds)
{
    uint64_t pm;

    if (ds->ls_got >= ds->ls_sent)
        return 0;
    pm = 1000u - (uint64_t)ds->ls_got * 1000u / ds->ls_sent;
    return pm > LOSS_MAX_PM ? LOSS_MAX_PM : (unsigned)pm;
}

/* Per mille of the symbols of first transmissions that dest lost; what
 * all destinations lost while it has not said enough (a receiver whose
 * first Ack was lost has no sample: taking 0 for it sent a lone source per
 * round at 30 % loss), 0 when nobody has. */
static unsigned
dst_loss_pm(const pmul_engine *e, uint32_t id)
{
    const pmul_dststate *ds = pmul__dst_find(e, id);

    if (ds != NULL && ds->ls_sent >= LOSS_MIN_SENT)
        return loss_pm(ds);
    return e->ls_all.ls_sent >= LOSS_MIN_SENT ? loss_pm(&e->ls_all) : 0u;
}

static void
loss_add(pmul_dststate *ds, uint32_t sent, uint32_t got)
{
    ds->ls_sent += sent;
    ds->ls_got += got;
    while (ds->ls_sent > LOSS_WINDOW) {
        ds->ls_sent /= 2u;
        ds->ls_got /= 2u;
    }
}

/*
 * The largest estimate over the destinations still to serve, or 0 while
 * another message is being sent.  The estimate buys margins: repairs the
 * losses will probably need, sent before anyone asks, so that a message
 * alone on the link completes in fewer rounds.  While others are sent the
 * link is not idle between rounds, and a repair nobody needed is airtime
 * taken from them (netsim-bench air, 100 mails to 4 receivers: 1.33x the
 * limit without margins, 1.43x with).
 */
uint16_t
pmul__txf_round_loss_pm(const pmul_engine *e, const pmul_txmsg *m)
{
    if (!m->fec || pmul__tx_others_sending(e, m))
        return 0;
    return pmul__txf_dests_loss_pm(e, m);
}

/* The largest estimate over the destinations m still serves, whatever
 * else is sent (0 without fec_adaptive). */
uint16_t
pmul__txf_dests_loss_pm(const pmul_engine *e, const pmul_txmsg *m)
{
    unsigned p, max = 0;
    size_t i;

    if (!e->cfg.fec_adaptive)
        return 0;
    for (i = 0; i < m->dest_cnt; i++)
        if (pmul__txd_incomplete(&m->dests[i]) && !m->dests[i].emcon &&
            (p = dst_loss_pm(e, m->dests[i].id)) > max)
            max = p;
    return (uint16_t)max;
}

/*
 * Symbols to send so that a receiver that needs `need` of them and loses
 * p per mille gets them with the probability of MARGIN_Z100: the smallest
 * n with n*q - need*1000 >= z * sqrt(n*p*q), q = 1000 - p (normal
 * approximation of the binomial, in integers).  Joint rounds size by it
 * too (pmul_txjoint.c).
 */
unsigned
pmul__txf_with_margin(unsigned need, unsigned p)
{
    uint64_t q = 1000u - p, n, d;

    if (need == 0 || p == 0)
        return need;
    for (n = need; n < need + 1024u; n++) {
        if (n * q < (uint64_t)need * 1000u)
            continue;
        d = n * q - (uint64_t)need * 1000u;
        if (d * d * 10000u >= (uint64_t)MARGIN_Z100 * MARGIN_Z100 * n * p * q)
            break;
    }
    return (unsigned)n;
}

/*
 * A destination's first answer after the first transmission (and nothing
 * else) tells what it lost of it: listed sources are missing, and under
 * rule 3 a FEC receiver lists k_b - held_b of block b.  A block it does
 * not list holds at least k_b of its k_b + r_b symbols: counted as k_b +
 * r_b / 2.  A list cut at MM entries says too little.  Until d has shown
 * that it decodes (dec_ok), the sources alone: a receiver that drops
 * repairs lists every source it lacks, and counting the repairs as lost
 * made it look three times as lossy as it was (netsim
 * fec_nodec_rx4_loss10: 8 proactive repairs per message for everyone
 * instead of 4).  fec_j0 is scratch between rounds (as in fec_needs).
 */
void
pmul__txf_loss_sample(pmul_engine *e, pmul_txmsg *m, const pmul_txdest *d,
                      const pmul_ack_entry *a)
{
    uint32_t sent = m->npdus, got, listed = 0;
    uint16_t lo, hi, seq, b;
    uint8_t esi;
    size_t pos = 0;
    pmul_dststate *ds;
    bool fec = m->fec && !d->no_fec;

    if (m->resumed || a->missing_cnt >= e->cfg.mm)
        return;
    if ((ds = pmul__dst_find(e, d->id)) == NULL)
        return;
    fec = fec && ds->dec_ok;
    if (fec)
        memset(m->fec_j0, 0, m->lay.block_cnt);
    while (pmul_missing_next(a->missing, a->missing_cnt, &pos, &lo, &hi)) {
        if (lo > m->npdus)
            continue;
        hi = hi > m->npdus ? m->npdus : hi;
        listed += (uint32_t)(hi - lo) + 1u;
        for (seq = lo; fec && seq != 0 && seq <= hi; seq++)
            if (pmul_fec_seq_map(&m->lay, seq, &b, &esi) == 0)
                m->fec_j0[b] = 1;
    }
    if (listed > m->npdus)
        return;
    got = m->npdus - listed;
    for (b = 0; fec && b < m->lay.block_cnt; b++) {
        sent += m->fec_next[b];
        if (m->fec_j0[b] == 0)
            got += m->fec_next[b] / 2u;
    }
    loss_add(ds, sent, got);
    loss_add(&e->ls_all, sent, got);
}

/* ---- FEC repair (docs/wire.md 10, fec-contract.md) ---------------------- */

/* Fresh repairs block b still has: ESIs up to 254 whose sequence number
 * N + 1 + j*Z + b fits 16 bits. */
static unsigned
fec_avail(const pmul_txmsg *m, uint16_t b)
{
    unsigned k = pmul_fec_block_k(&m->lay, b), j = m->fec_next[b], top;
    uint32_t room = 65535u - m->npdus - 1u;

    if (room < b)
        return 0;
    top = PMUL_FEC_ESI_MAX - k;                        /* highest j by ESI */
    if ((room - b) / m->lay.block_cnt < top)
        top = (room - b) / m->lay.block_cnt;           /* highest j by seq */
    return j > top ? 0 : top - j + 1;
}

static uint8_t
sat_add8(uint8_t a, uint32_t n)
{
    return a + n > 255u ? 255u : (uint8_t)(a + n);
}

/*
 * cnt[b] = how many sources of block b d lists (rule 3: how many symbols
 * it still needs there), not counting those already in the round's plan
 * when skip_planned.
 */
static void
dest_block_needs(const pmul_txmsg *m, const pmul_txdest *d, bool skip_planned, uint8_t *cnt)
{
    uint16_t seq, b;
    uint8_t esi;
    size_t k;

    memset(cnt, 0, m->lay.block_cnt);
    for (k = 0; k < d->miss_cnt; k++)
        for (seq = d->miss[2 * k]; seq != 0 && seq <= d->miss[2 * k + 1]; seq++)
            if (!(skip_planned && pmul_seqset_has(&m->plan, seq)) &&
                pmul_fec_seq_map(&m->lay, seq, &b, &esi) == 0)
                cnt[b] = sat_add8(cnt[b], 1);
}

/*
 * What the FEC receivers that answered still need, per block (rule 3: each
 * lists exactly as many of a block's sources as it needs symbols).  A
 * source already planned for a plain peer counts toward that need, so it
 * is not needed again.  Leaves in fec_cnt[b] the largest remaining need
 * over the receivers and in fec_j0[b] how many sources the union of their
 * lists adds to the plan.  fec_j0 is scratch until pmul__txf_plan() sets it.
 */
static void
fec_needs(pmul_txmsg *m)
{
    uint16_t Z = m->lay.block_cnt, b, seq;
    uint8_t esi, *cnt = m->fec_j0;
    size_t i;

    memset(m->fec_cnt, 0, Z);
    for (i = 0; i < m->dest_cnt; i++) {
        const pmul_txdest *d = &m->dests[i];

        if (d->state != PMUL_TXD_PARTIAL || d->emcon || d->no_fec ||
            (m->fresh_only && !d->answered))
            continue;
        dest_block_needs(m, d, true, cnt);
        for (b = 0; b < Z; b++)
            if (cnt[b] > m->fec_cnt[b])
                m->fec_cnt[b] = cnt[b];
    }
    memset(cnt, 0, Z);
    for (seq = pmul_seqset_next_set(&m->fecset, 1); seq != 0;
         seq = seq < m->npdus ? pmul_seqset_next_set(&m->fecset, (uint16_t)(seq + 1)) : 0)
        if (!pmul_seqset_has(&m->plan, seq) && pmul_fec_seq_map(&m->lay, seq, &b, &esi) == 0)
            cnt[b] = sat_add8(cnt[b], 1);
}

/* Add the FEC receivers' listed sources of block b to the plan. */
static void
fec_add_sources(pmul_txmsg *m, uint16_t b)
{
    uint16_t s0, seq;
    unsigned k = pmul_fec_block_k(&m->lay, b), t;

    if (pmul_fec_seq_of(&m->lay, b, 0, &s0) != 0)
        return;
    for (t = 0; t < k; t++) {
        seq = (uint16_t)(s0 + t);
        if (pmul_seqset_has(&m->fecset, seq) && pmul_seqset_set(&m->plan, seq) < 0)
            return;                     /* cannot happen: reserved */
    }
}

/*
 * Choose the round's repairs per block.  A whole transmission carries
 * floor(ratio x k / 100) proactive repairs, or the losses the destinations'
 * estimates expect, floor(k p / (1 - p)), when more; an EMCON transmission
 * at least fec_emcon_repairs (its receivers cannot ask).  On Acks (rule 4),
 * a block gets max_i need_i fresh repairs plus a margin for the loss
 * estimate (with_margin) when that is fewer PDUs than the union of the
 * listed sources; otherwise the sources plus the margin as repairs (or the
 * sources alone when repairs run out).  Every repair is fresh (next unused
 * j), so what receivers gather from different rounds adds up.
 */
void
pmul__txf_plan(pmul_engine *e, pmul_txmsg *m, bool whole, bool emcon_tx)
{
    uint16_t Z = m->lay.block_cnt, b;
    unsigned k, base, want, extra, need, infl, uni, avail, r = 0, rmax, p = m->loss_pm;

    if (whole) {
        memset(m->fec_cnt, 0, Z);
        memset(m->fec_j0, 0, Z);
    } else {
        fec_needs(m);
    }
    for (b = 0; b < Z; b++) {
        k = pmul_fec_block_k(&m->lay, b);
        /* Rounded down: a 5-PDU mail at 10 % expects half a loss, and a
         * whole repair for it cost every text mail ~10 % of airtime
         * (docs/benchmarks.md, "FEC transmitter"). */
        base = whole ? k * e->cfg.fec_ratio_pct / 100u : 0u;
        if (whole && p > 0 && k * p / (1000u - p) > base)
            base = k * p / (1000u - p);
        if (emcon_tx && base < e->cfg.fec_emcon_repairs)
            base = e->cfg.fec_emcon_repairs;
        need = m->fec_cnt[b];
        infl = pmul__txf_with_margin(need, p);
        uni = m->fec_j0[b];
        avail = fec_avail(m, b);
        /* Repairs alone, or the listed sources and the rest as repairs:
         * the fewer PDUs, sources on a tie. */
        want = infl > base ? infl : base;
        extra = infl - need > base ? infl - need : base;
        if (uni > 0 && (uni + extra <= want || want > avail)) {
            fec_add_sources(m, b);
            want = extra;
        }
        if (want > avail)
            want = avail;
        m->fec_j0[b] = m->fec_next[b];
        m->fec_cnt[b] = (uint8_t)want;
        m->fec_next[b] = (uint8_t)(m->fec_next[b] + want);
        m->rep_left += want;
        r = want > r ? want : r;
    }
    /* repair_cnt is informational (wire.md 10.3); keep it in range. */
    rmax = PMUL_FEC_N_MAX - m->lay.k_large;
    if ((65535u - m->npdus) / Z < rmax)
        rmax = (65535u - m->npdus) / Z;
    m->fec_round_r = (uint8_t)(r < rmax ? r : rmax);
    m->rep_j = PMUL_FEC_ESI_MAX;
    for (b = 0; b < Z; b++)
        if (m->fec_cnt[b] > 0 && m->fec_j0[b] < m->rep_j)
            m->rep_j = m->fec_j0[b];
    m->rep_b = 0;
}

/* Repairs of block b of the round the cursor has passed (next_repair()
 * examines j, then b). */
static unsigned
rep_sent(const pmul_txmsg *m, uint16_t b)
{
    long done = (long)m->rep_j - m->fec_j0[b] + (b < m->rep_b ? 1 : 0);

    return done < 0 ? 0u : done > m->fec_cnt[b] ? m->fec_cnt[b] : (unsigned)done;
}

/*
 * Mid-round Acks (a receiver acks once it completes, or when the highest
 * PDU it listed arrives) can show that the round carries more repairs
 * than its receivers still lack: the margin was for losses that did not
 * happen.  Cut each block's unsent repairs to what is still wanted: for a
 * receiver that acked during the round, its need now with the margin; for
 * one that did not, the round was sized for its earlier list, and what
 * that list wanted, less what the round has sent since, is still due.
 * Not while a destination that never answered or an EMCON one (neither
 * can tell) is served, and not in the first transmission.
 */
void
pmul__txf_trim(pmul_txmsg *m)
{
    uint16_t Z = m->lay.block_cnt, b;
    unsigned sent, w;
    size_t i;

    for (i = 0; i < m->dest_cnt; i++) {
        const pmul_txdest *d = &m->dests[i];

        if (pmul__txd_incomplete(d) && !d->no_fec && (d->emcon || d->state == PMUL_TXD_WAIT))
            return;
    }
    memset(m->fec_need, 0, Z);
    for (i = 0; i < m->dest_cnt; i++) {
        const pmul_txdest *d = &m->dests[i];

        if (d->state != PMUL_TXD_PARTIAL || d->no_fec)
            continue;
        dest_block_needs(m, d, false, m->fec_tmp);
        for (b = 0; b < Z; b++) {
            if (m->fec_tmp[b] == 0)
                continue;
            w = pmul__txf_with_margin(m->fec_tmp[b], m->loss_pm);
            if (!d->heard)
                w = w > (sent = rep_sent(m, b)) ? w - sent : 0u;
            m->fec_need[b] = sat_add8(0, w > m->fec_need[b] ? w : m->fec_need[b]);
        }
    }
    m->rep_left = 0;
    for (b = 0; b < Z; b++) {
        sent = rep_sent(m, b);
        if (m->fec_need[b] < m->fec_cnt[b] - sent) {
            m->fec_cnt[b] = (uint8_t)(sent + m->fec_need[b]);
            m->fec_next[b] = (uint8_t)(m->fec_j0[b] + m->fec_cnt[b]);
        }
        m->rep_left += m->fec_cnt[b] - sent;
    }
}

/* The next repair of the round in sequence-number order (j, then b). */
static bool
next_repair(pmul_txmsg *m, uint16_t *b, unsigned *j)
{
    while (m->rep_left > 0 && m->rep_j <= PMUL_FEC_ESI_MAX) {
        uint16_t x = m->rep_b;
        unsigned jj = m->rep_j;

        if (++m->rep_b == m->lay.block_cnt) {
            m->rep_b = 0;
            m->rep_j++;
        }
        if (jj >= m->fec_j0[x] && jj < (unsigned)m->fec_j0[x] + m->fec_cnt[x]) {
            *b = x;
            *j = jj;
            m->rep_left--;
            return true;
        }
    }
    m->rep_left = 0;
    return false;
}

/*
 * The round's next repair symbol, computed from the block's source
 * fragments into e->fec_sym (tables prepared at submit, so nothing
 * allocates), and its sequence number.  False when none is left or the
 * codec failed.
 */
bool
pmul__txf_repair(pmul_engine *e, pmul_txmsg *m, uint16_t *seq)
{
    uint16_t b, s0;
    unsigned j, k, t;
    size_t last;

    if (!next_repair(m, &b, &j))
        return false;
    k = pmul_fec_block_k(&m->lay, b);
    if (pmul_fec_seq_of(&m->lay, b, 0, &s0) != 0 || pmul_fec_seq_of(&m->lay, b, k + j, seq) != 0)
        return false;
    for (t = 0; t < k; t++)
        e->fec_src[t] = m->payload + (size_t)(s0 - 1 + t) * m->frag;
    last = s0 + k - 1u == m->npdus ? m->len - (size_t)(m->npdus - 1) * m->frag : m->sym_len;
    return pmul_fec_encode(e->fec_tx, e->fec_src, k, m->sym_len, last, j, e->fec_sym) == 0;
}

/* ---- setup at submit, and asks ---------------------------------------- */

/*
 * Decide whether m goes with repair and set it up: layout, per-block
 * repair counters, the FEC receivers' missing-list set, and the coding
 * tables for the repairs it will likely need, so that sending allocates
 * nothing.  Plain when FEC is off or every destination is a plain peer.
 */
int
pmul__txf_setup(pmul_engine *e, pmul_txmsg *m, uint16_t npdus, size_t frag, size_t len)
{
    const pmul_config *c = &e->cfg;
    unsigned k, r, i;
    bool any = false, emcon = false, blind = false;
    pmul_dststate *ds;
    int err;

    for (i = 0; i < m->dest_cnt; i++) {
        m->dests[i].no_fec = pmul__no_fec_peer(e, m->dests[i].id);
        emcon |= m->dests[i].emcon;
        if (pmul__dst_get(e, m->dests[i].id, &ds) == 0) {  /* exists */
            emcon |= ds->emcon;
            blind |= ds->plain_left > 0;
            m->dests[i].no_fec |= ds->nodec_left > 0;       /* learnt */
        }
        any |= !m->dests[i].no_fec;
    }
    /* A destination that reads no FEC_Address_PDU must see a plain
     * ACP 142 exchange: Address_PDUs and no Data_PDU above Total. */
    if (!c->fec || !any || blind || npdus == 0xffff ||
        pmul_fec_layout(npdus, c->fec_max_block, &m->lay) != 0)
        return 0;
    if ((m->fec_next = mem_calloc(e->m, 5, m->lay.block_cnt)) == NULL)
        return PMUL_ERR_NOMEM;
    m->fec_j0 = m->fec_next + m->lay.block_cnt;
    m->fec_cnt = m->fec_j0 + m->lay.block_cnt;
    m->fec_need = m->fec_cnt + m->lay.block_cnt;
    m->fec_tmp = m->fec_need + m->lay.block_cnt;
    if ((err = pmul_seqset_reserve(&m->fecset, npdus)) != 0)
        return err;
    for (i = 0; i < 2; i++) {
        k = i == 0 ? m->lay.k_large : m->lay.k_small;
        if (k == 0 || (i == 1 && k == m->lay.k_large))
            continue;
        /* Round 1's repairs, EMCON's over every repetition, and room
         * for a few retransmission rounds; more grow the cache later. */
        r = k * c->fec_ratio_pct / 100u + 16u;
        if (emcon)
            r += c->fec_emcon_repairs * (c->emcon_rtc + 1u);
        if (r > PMUL_FEC_N_MAX - k)
            r = PMUL_FEC_N_MAX - k;
        if ((err = pmul_fec_prepare(e->fec_tx, k, r)) != 0)
            return err;
    }
    m->fec = true;
    m->sym_len = (uint16_t)(npdus > 1 ? frag : len);
    return 0;
}

/*
 * Every destination not heard since the last round is one whose last list
 * (the whole message if it never answered)
 * the Data_PDUs sent since have most likely covered: at its loss, they
 * bring what pmul__txf_with_margin() asks for its whole listed need.
 * Its complete Ack was then lost, not its data, and asking again is cheaper than
 * resending its list (netsim, 64 kbit/s at 30 %: one receiver's complete
 * Ack lost four times in a row cost 10 Data_PDUs).  FEC only: a plain
 * receiver needs exactly its listed sources.
 */
bool
pmul__txf_unheard_covered(const pmul_engine *e, const pmul_txmsg *m)
{
    size_t i;

    if (!m->fec || !e->cfg.fec_adaptive)
        return false;
    for (i = 0; i < m->dest_cnt; i++) {
        const pmul_txdest *d = &m->dests[i];

        if (!pmul__txd_incomplete(d) || d->emcon || d->answered)
            continue;
        /* A node never heard on a FEC_Address_PDU may not read them: its
         * silence is no lost Ack (go_plain). */
        if (d->no_fec || (d->state == PMUL_TXD_WAIT && !pmul__txp_reads_fec(e, d->id)))
            return false;
        if (m->sym_tx - d->sym_mark <
            pmul__txf_with_margin(pmul__tx_listed_need(m, d), dst_loss_pm(e, d->id)))
            return false;
    }
    return true;
}
