/*
 * NAME
 *	pmul_rxfec - the receiver's FEC decoding: decoder, symbols, recovery
 * SYNOPSIS
 *	#include "pmul/pmul_engine_int.h"
 * DESCRIPTION
 *	FEC repair on the receiver (docs/wire.md 10.7), split from the
 *	message state machine in pmul_rx.c.  The first FEC_Address_PDU
 *	listing us whose parameters describe the message attaches a decoder
 *	(one pmul_fec_block per source block, charged to the message's
 *	reassembly budgets) and maps the fragments held already; each stored
 *	fragment is then recorded as a symbol of its block, and a block that
 *	holds k_b symbols is decoded into the rob as if its missing sources
 *	had arrived.  Repairs are wanted only while their block cannot be
 *	decoded yet.  Parameters that fail, or a source whose length the
 *	layout contradicts, end FEC for the message: it is received plainly
 *	from then on.  The Ack rule of a FEC receiver (its missing list names
 *	k_b - held_b sources of each block it cannot decode yet, never a
 *	repair) is pmul__rx_fec_next_missing(), used by pmul_rxack.c.
 *
 *	The codec context and the recovered-symbol scratch are per engine,
 *	created at the first recovery.  A version 2 announcement (joint
 *	repair, pmul_rxjoint.c) attaches the carrier's decoder from its
 *	version 1 part, exactly as a version 1 one.
 * SECURITY
 *	Everything here is peer input.  FEC parameters are decoded and
 *	checked by pmul_fec_params_decode() against the message's Total and
 *	max_msg_len before anything is allocated; the decoder's size follows
 *	the block count of those checked parameters and is charged to the
 *	message's byte budget.  Symbols are mapped only through
 *	pmul_fec_seq_map(), which checks the range.
 * DIAGNOSTICS
 *	Stats rx_fec_rejected and rx_fec_recovered; an info line when FEC is
 *	given up for a message.  Shortage of memory or budget is counted as
 *	a drop and retried later.
 * SEE ALSO
 *	pmul_rx.c (the message state machine), pmul_rxack.c (Acks),
 *	pmul_fec(3), docs/wire.md 10
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "pmul/pmul_engine_int.h"

#include <string.h>

/* ---- FEC repair (docs/wire.md 10.7) ----------------------------------- */

/* Give m's FEC state back (memory and budget charge).  The message goes on
 * plainly; m->fec stays, so numbers above its Total are still repairs. */
void
pmul__rx_fec_drop(pmul_engine *e, pmul_rxmsg *m)
{
    if (m->fecd == NULL)
        return;
    pmul_rob_uncharge(&m->rob, m->fecd->charged);
    pmul_rob_set_extra(&m->rob, 0);
    mem_free(e->m, m->fecd);
    m->fecd = NULL;
}

/* The layout and the PDUs disagree (or the parameters are unusable): the
 * message is received by plain selective repeat from now on. */
static void
fec_give_up(pmul_engine *e, pmul_rxmsg *m, const char *why)
{
    e->st.rx_fec_rejected++;
    log_emit(&e->env.log, LOG_LVL_INFO, "pmul-rx src=%08x msid=%08x: FEC not used (%s)",
             (unsigned)m->src, (unsigned)m->msid, why);
    pmul__rx_fec_drop(e, m);
    m->fec_plain = true;
}

/* A FEC_Address_PDU (or its extended form): numbers above its Total are
 * repair symbols. */
bool
pmul__rx_is_fec_pdu(const pmul_pdu *pdu)
{
    return pdu->type == PMUL_PDU_FEC_ADDRESS || pdu->type == PMUL_PDU_EXTRA_FEC_ADDRESS;
}

/* Record ESI esi of block b as held, and what the message still needs.
 * A duplicate changes nothing, and fec_sym() checked the range. */
static void
fec_hold(pmul_rxfec *fd, uint16_t b, unsigned esi)
{
    pmul_fec_block *blk = &fd->blk[b];

    if (pmul_fec_block_add(blk, esi) == 0 && blk->held_cnt <= blk->k)
        fd->need--;
}

/* Block and ESI of fragment seq of len octets, when the layout has such a
 * symbol with that length (only Data_PDU N may be short). */
static bool
fec_sym(const pmul_rxfec *fd, uint16_t seq, size_t len, uint16_t *b, uint8_t *esi)
{
    size_t want = seq == fd->p.blocks.total_pdus ? fd->p.last_len : fd->p.symbol_len;

    return pmul_fec_seq_map(&fd->p.blocks, seq, b, esi) == 0 && len == want;
}

/*
 * Rebuild the missing sources of block b once it holds k symbols, into the
 * rob as if their Data_PDUs had arrived.  *hit is set when one of them is
 * the highest number of our last missing list (the Ack trigger of 7.3).
 * Short of memory or budget, the rest waits for the next try (the Ack
 * timer, pmul__rx_fec_recover_all).  Returns the number of sources stored.
 */
static unsigned
fec_recover(pmul_engine *e, pmul_rxmsg *m, uint16_t b, bool *hit)
{
    pmul_rxfec *fd = m->fecd;
    pmul_fec_block *blk = &fd->blk[b];
    const uint8_t *sym[PMUL_FEC_N_MAX];
    uint8_t *out[PMUL_FEC_N_MAX];
    size_t sym_len = fd->p.symbol_len, short_len = sym_len, len, need, i = 0;
    uint16_t n_total = fd->p.blocks.total_pdus, s0, seq;
    unsigned esi, k = blk->k, stored = 0;
    void *p;
    int rc;

    if (!pmul_fec_can_recover(blk) || pmul_fec_block_is_complete(blk) ||
        pmul_fec_seq_of(&fd->p.blocks, b, 0, &s0) != 0)
        return 0;
    need = (size_t)(k - blk->src_cnt) * sym_len;
    if (need > e->fec_out_cap) {
        if ((p = mem_realloc(e->m, e->fec_out, need)) == NULL) {
            (void)pmul__drop(e, PMUL_DROP_NOMEM, PMUL_ERR_NOMEM);
            return 0;
        }
        e->fec_out = p;
        e->fec_out_cap = need;
    }
    if (e->rx_fec == NULL && pmul_fec_new(&e->rx_fec, e->m) != 0) {
        (void)pmul__drop(e, PMUL_DROP_NOMEM, PMUL_ERR_NOMEM);
        return 0;
    }
    memset(sym, 0, sizeof(sym));
    memset(out, 0, sizeof(out));
    for (esi = 0; esi < PMUL_FEC_N_MAX; esi++) {
        if (!pmul_fec_block_has(blk, esi)) {
            if (esi < k)
                out[esi] = e->fec_out + i++ * sym_len;
            continue;
        }
        if (pmul_fec_seq_of(&fd->p.blocks, b, esi, &seq) != 0 ||
            !pmul_rob_get(&m->rob, seq, &sym[esi], &len)) {
            fec_give_up(e, m, "held symbol not found");
            return 0;
        }
    }
    if (s0 + k - 1u == n_total)
        short_len = fd->p.last_len;
    rc = pmul_fec_recover(e->rx_fec, blk, sym, PMUL_FEC_N_MAX, sym_len, short_len, out);
    if (rc == PMUL_ERR_NOMEM) {
        (void)pmul__drop(e, PMUL_DROP_NOMEM, PMUL_ERR_NOMEM);
        return 0;
    }
    if (rc != 0) {
        fec_give_up(e, m, pmul_errname(rc));
        return 0;
    }
    for (esi = 0; esi < k; esi++) {
        if (out[esi] == NULL)
            continue;                   /* held */
        seq = (uint16_t)(s0 + esi);
        rc = pmul_rob_put(&m->rob, seq, out[esi], seq == n_total ? fd->p.last_len : sym_len);
        if (rc < 0) {
            (void)pmul__drop(e, rc == PMUL_ERR_BUSY ? PMUL_DROP_CAP_BYTES : PMUL_DROP_NOMEM, rc);
            break;
        }
        fec_hold(fd, b, esi);
        if (rc == 1) {
            stored++;
            e->st.rx_fec_recovered++;
            if (seq == m->reported_hi)
                *hit = true;
        }
    }
    return stored;
}

/* Every block that can be decoded and is not yet (after the layout became
 * known, or a recovery that ran short of memory). */
void
pmul__rx_fec_recover_all(pmul_engine *e, pmul_rxmsg *m, bool *hit)
{
    uint16_t b;

    for (b = 0; m->fecd != NULL && b < m->fecd->p.blocks.block_cnt; b++)
        (void)fec_recover(e, m, b, hit);
}

/*
 * A fragment of m was stored (state ACTIVE, decoder set): record its
 * symbol and decode its block when it can be.  A source whose length the
 * layout contradicts ends FEC for the message.
 */
void
pmul__rx_fec_feed(pmul_engine *e, pmul_rxmsg *m, uint16_t seq, size_t len, bool *hit)
{
    uint16_t b;
    uint8_t esi;

    if (!fec_sym(m->fecd, seq, len, &b, &esi)) {
        fec_give_up(e, m, "fragment length differs from the parameters");
        return;
    }
    fec_hold(m->fecd, b, esi);
    (void)fec_recover(e, m, b, hit);
}

/* A source a joint recovery stored (pmul_rxjoint.c checked its length):
 * recorded only, since decoding its block here would reuse the scratch
 * that still holds the joint block's other symbols. */
void
pmul__rx_fec_note(pmul_rxmsg *m, uint16_t seq, size_t len)
{
    uint16_t b;
    uint8_t esi;

    if (m->fecd != NULL && fec_sym(m->fecd, seq, len, &b, &esi))
        fec_hold(m->fecd, b, esi);
}

/* Is Data_PDU seq (above m's Total) a repair m can use?  Only while its
 * block cannot be decoded yet: at most k_b - sources held are ever kept. */
bool
pmul__rx_fec_repair_wanted(const pmul_rxmsg *m, uint16_t seq, size_t len)
{
    uint16_t b;
    uint8_t esi;

    return m->fecd != NULL && fec_sym(m->fecd, seq, len, &b, &esi) &&
           !pmul_fec_can_recover(&m->fecd->blk[b]);
}

static bool
fec_same_layout(const pmul_fec_params *a, const pmul_fec_params *b)
{
    return a->blocks.total_pdus == b->blocks.total_pdus &&
           a->blocks.block_cnt == b->blocks.block_cnt && a->symbol_len == b->symbol_len &&
           a->last_len == b->last_len;
}

/*
 * A FEC_Address_PDU listing us for the ACTIVE message m.  The first whose
 * parameters decode fixes the layout; later ones only update the repair
 * count, and one with another layout is ignored.  Parameters that fail
 * make the message plain for good (counted).  Fragments held already
 * (early data, sources of a plain start) are mapped: sources first, then
 * repairs while their block still needs symbols.  A shortage of budget or
 * memory leaves the message plain until the next announcement.  Returns
 * true when the decoder was set up by this call.
 */
bool
pmul__rx_fec_attach(pmul_engine *e, pmul_rxmsg *m, const pmul_pdu *pdu)
{
    const pmul_rob_frag *f;
    pmul_fec_params p;
    pmul_rxfec *fd;
    size_t size, i;
    unsigned pass;
    uint16_t b;
    uint8_t esi;
    int rc;

    if (!pmul__rx_is_fec_pdu(pdu) || !m->fec || m->fec_plain)
        return false;
    /* Version 2 (a joint round, docs/wire.md 10.8) carries the carrier's
     * own layout in its version 1 part; pmul_rxjoint.c takes the rest. */
    rc = pmul_fec_params_decode2(&p, NULL, pdu->u.address.fec_id, pdu->u.address.fec_params,
                                 pdu->u.address.fec_param_len, pdu->u.address.total_pdus,
                                 pdu->msid);
    if (m->fecd != NULL) {
        if (rc == 0 && fec_same_layout(&p, &m->fecd->p))
            m->fecd->repair_cnt = p.repair_cnt;
        else
            e->st.rx_fec_rejected++;    /* keep the first layout */
        return false;
    }
    /* The layout must describe this message, and one we could hold. */
    if (rc == 0 && (p.blocks.total_pdus != m->total ||
                    (uint64_t)(p.blocks.total_pdus - 1u) * p.symbol_len + p.last_len >
                        e->cfg.max_msg_len))
        rc = PMUL_ERR_FEC_PARAM;
    if (rc != 0) {
        fec_give_up(e, m, pmul_errname(rc));
        return false;
    }
    size = sizeof(*fd) + (size_t)p.blocks.block_cnt * sizeof(fd->blk[0]);
    if (pmul_rob_charge(&m->rob, size) != 0) {
        (void)pmul__drop(e, PMUL_DROP_CAP_BYTES, PMUL_ERR_BUSY);
        return false;
    }
    if ((fd = mem_alloc(e->m, size)) == NULL) {
        pmul_rob_uncharge(&m->rob, size);
        (void)pmul__drop(e, PMUL_DROP_NOMEM, PMUL_ERR_NOMEM);
        return false;
    }
    fd->p = p;
    fd->repair_cnt = p.repair_cnt;
    fd->charged = size;
    fd->need = p.blocks.total_pdus;     /* the sum of the k_b */
    for (b = 0; b < p.blocks.block_cnt; b++)
        pmul_fec_block_init(&fd->blk[b], pmul_fec_block_k(&p.blocks, b));
    m->fecd = fd;
    pmul_rob_set_extra(&m->rob, UINT16_MAX);
    for (pass = 0; pass < 2; pass++) {
        for (i = 0; i < m->rob.idx_cnt; i++) {
            f = &m->rob.idx[i];
            if ((f->seq > m->total) != (pass == 1))
                continue;
            if (!fec_sym(fd, f->seq, f->len, &b, &esi)) {
                if (pass == 0) {
                    fec_give_up(e, m, "fragment length differs from the parameters");
                    return false;
                }
                continue;               /* a repair we cannot use */
            }
            if (pass == 1 && pmul_fec_can_recover(&fd->blk[b]))
                continue;
            fec_hold(fd, b, esi);
        }
    }
    return true;
}

/*
 * The FEC Ack rule (fec-contract 3): of each block that cannot be decoded
 * yet, its lowest need_b = k_b - held_b missing sources, nothing of the
 * others.  A block that holds k symbols but whose decoding ran short of
 * memory lists every missing source: an Ack of an incomplete message must
 * never come out empty (that says "received").  Called in ascending order
 * from build_missing, so the missing sources of the block below `from`
 * are the ones already listed.
 */
uint16_t
pmul__rx_fec_next_missing(const pmul_rxmsg *m, uint32_t from)
{
    const pmul_rxfec *fd = m->fecd;
    const pmul_fec_block *blk;
    uint32_t need, listed, end;
    uint16_t b, seq;
    uint8_t esi;

    while (from >= 1 && from <= m->total) {
        if (pmul_fec_seq_map(&fd->p.blocks, (uint16_t)from, &b, &esi) != 0)
            return 0;
        blk = &fd->blk[b];
        end = from - esi + blk->k - 1u;
        need = blk->held_cnt < blk->k ? (uint32_t)(blk->k - blk->held_cnt)
                                      : (uint32_t)(blk->k - blk->src_cnt);
        listed = esi - (pmul_seqset_count_upto(&m->rob.have, (uint16_t)(from - 1u)) -
                        pmul_seqset_count_upto(&m->rob.have, (uint16_t)(from - esi - 1u)));
        if (listed < need &&
            (seq = pmul_seqset_next_clear(&m->rob.have, (uint16_t)from, (uint16_t)end)) != 0)
            return seq;
        from = end + 1u;
    }
    return 0;
}

/* Free the engine's codec context and recovery scratch (engine teardown;
 * the messages' decoders go with the messages). */
void
pmul__rx_fec_fini(pmul_engine *e)
{
    pmul_fec_free(e->rx_fec);
    e->rx_fec = NULL;
    mem_free(e->m, e->fec_out);
    e->fec_out = NULL;
    e->fec_out_cap = 0;
}
