/*
 * NAME
 *	pmul_txpeer - the transmitter's destination table; what it learns of
 *	each destination's FEC
 * SYNOPSIS
 *	#include "pmul/pmul_engine_int.h"
 * DESCRIPTION
 *	The destination table (pmul_dststate, sorted by node ID) holds what
 *	outlives a message: the next Message_Sequence_Number, EMCON, the
 *	loss samples (pmul_txfec.c) and the findings below.
 *
 *	Issue 12: FEC is an option a receiver that does not know it must not
 *	notice (docs/wire.md 10).  Two kinds of receiver need another
 *	treatment than a FEC receiver, and nothing on the wire says which
 *	one a destination is, so the transmitter learns it from the Acks, per
 *	destination, for the engine's lifetime (pmul_dststate):
 *
 *	blind	a receiver of the original ACP 142 drops FEC_Address_PDUs as
 *		an unknown PDU type and never learns it is addressed.  When
 *		such a suspect stays silent through the asks, the message
 *		falls back to plain ACP 142 (pmul__txp_go_plain()); an answer
 *		to that after BLIND_MIN_ROUNDS silent FEC rounds makes its
 *		next messages plain for a span, with a trial after it.
 *	nodec	a receiver that reads FEC_Address_PDUs as Address_PDUs but
 *		knows no FEC scheme lists every source it lacks and drops the
 *		repairs: its lists do not shrink while repairs go.  It becomes
 *		a plain peer (sources, never repairs), as `peer ... no-fec`
 *		would make it, for a span.
 *	nojoint	a receiver that decodes repairs but not joint ones (one
 *		built before docs/wire.md 10.8, or one that kept too little
 *		of the members): the carrier's list does not shrink after a
 *		joint round that sent it its need.  Its messages are no
 *		candidates for joint rounds for a span.
 *
 *	docs/engine.md section 6, "Receivers that do not know PDU type 8",
 *	states the rules and what a misreading costs.
 * SECURITY
 *	Acts on Acks that pmul_tx.c accepted (the acking node is a
 *	destination of the message).  A node can only make the transmitter
 *	send itself (and its group) plainly, which it could ask for by never
 *	acking a FEC message anyway.
 * DIAGNOSTICS
 *	Stats fec_plain_fallbacks, fec_blind_learned, fec_nodec_learned,
 *	fec_nojoint_learned; one info line per finding.
 * SEE ALSO
 *	pmul_tx.c, docs/engine.md
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "pmul/pmul_engine_int.h"
#include "pmul/util/arr.h"

#include <stddef.h>
#include <string.h>

/*
 * Receivers that do not know PDU type 8 (docs/engine.md 6).  A destination
 * that stayed silent through this many FEC-announced rounds of a message
 * and then answered its plain announcement is taken for one: a FEC
 * receiver fails that way with (1 - (1 - p^2)(1 - p))^4 per message, 1.7 %
 * at 30 % loss, and only before it first answers a FEC_Address_PDU (which
 * it is never again taken for).  Its next PLAIN_SPAN_MIN messages go plain;
 * then one goes with FEC again (a trial), and each new finding doubles the
 * span up to PLAIN_SPAN_MAX.
 */
#define BLIND_MIN_ROUNDS (1u + PMUL__PROBE_MAX)
#define PLAIN_SPAN_MIN 4u
#define PLAIN_SPAN_MAX 64u
/* Receivers that read FEC_Address_PDUs but do not decode (learn_dec): a
 * FEC receiver whose list does not shrink after this many repairs of its
 * one block lost them all, p^16 (4e-9 at 30 % loss).  The same count of
 * joint repairs that covered its summed need (learn_joint). */
#define STALL_MIN 16u
/* A receiver of 10.8 answers the carrier alone when it lost the round's
 * first copy (its repairs are then unusable) or every repair: 10-20 % of
 * rounds at 10 % loss, 1-4 % twice in a row. */
#define JUNANS_MIN 1u
/* Joint rounds in a row that covered its need and left its lists as they
 * were: a decoder fails so with p x (each of them lost a repair or a
 * copy), about 0.1 % for three at 10 %; a receiver built before 10.8
 * that needs the carrier alone gives no other evidence, and one repair
 * a round took 16 rounds to reach STALL_MIN. */
#define JFAILS_MIN 3u

/* ---- destination table ------------------------------------------------- */

static size_t
dst_pos(const pmul_engine *e, uint32_t id)
{
    return arr_lower_u32(e->dst, e->dst_cnt, sizeof(*e->dst), offsetof(pmul_dststate, id), id);
}

int
pmul__dst_get(pmul_engine *e, uint32_t id, pmul_dststate **out)
{
    size_t pos = dst_pos(e, id), n;
    pmul_dststate *v;

    if (pos < e->dst_cnt && e->dst[pos].id == id) {
        *out = &e->dst[pos];
        return 0;
    }
    if (e->dst_cnt == e->dst_cap) {
        n = e->dst_cap != 0 ? e->dst_cap * 2 : 16;
        if ((v = mem_realloc(e->m, e->dst, n * sizeof(*v))) == NULL)
            return PMUL_ERR_NOMEM;
        e->dst = v;
        e->dst_cap = n;
    }
    memmove(&e->dst[pos + 1], &e->dst[pos], (e->dst_cnt - pos) * sizeof(*e->dst));
    e->dst_cnt++;
    e->dst[pos].id = id;
    e->dst[pos].next_msn = 1;
    e->dst[pos].emcon = false;
    e->dst[pos].ls_sent = e->dst[pos].ls_got = 0;
    e->dst[pos].fec_ok = e->dst[pos].dec_ok = false;
    e->dst[pos].plain_left = e->dst[pos].plain_span = 0;
    e->dst[pos].nodec_left = e->dst[pos].nodec_span = e->dst[pos].stall = 0;
    e->dst[pos].jdec_ok = false;
    e->dst[pos].nojoint_left = e->dst[pos].nojoint_span = e->dst[pos].jstall = 0;
    e->dst[pos].jstall_round = e->dst[pos].jseen_round = 0;
    e->dst[pos].jaware = false;
    e->dst[pos].junans = e->dst[pos].jfails = 0;
    *out = &e->dst[pos];
    return 0;
}

pmul_dststate *
pmul__dst_find(const pmul_engine *e, uint32_t id)
{
    size_t pos = dst_pos(e, id);

    return pos < e->dst_cnt && e->dst[pos].id == id ? &e->dst[pos] : NULL;
}

/* The next Message_Sequence_Number for dest (1 for a destination never
 * sent to). */
uint32_t
pmul__dst_next_msn(const pmul_engine *e, uint32_t id)
{
    size_t pos = dst_pos(e, id);

    return pos < e->dst_cnt && e->dst[pos].id == id ? e->dst[pos].next_msn : 1;
}

/* ---- what it learns of FEC -------------------------------------------- */

/* Has dest answered a message announced by FEC_Address_PDUs before? */
bool
pmul__txp_reads_fec(const pmul_engine *e, uint32_t id)
{
    const pmul_dststate *ds = pmul__dst_find(e, id);

    return ds != NULL && ds->fec_ok;
}

/* A destination to serve never answered this message and never answered
 * a FEC_Address_PDU at all: it may not know PDU type 8.  With `known`,
 * only one already found not to (another message learnt it meanwhile:
 * asking it again is pointless). */
bool
pmul__txp_blind_suspect(const pmul_engine *e, const pmul_txmsg *m, bool known)
{
    const pmul_dststate *ds;
    size_t i;

    for (i = 0; i < m->dest_cnt; i++) {
        const pmul_txdest *d = &m->dests[i];

        if (d->state != PMUL_TXD_WAIT || d->emcon || pmul__txp_reads_fec(e, d->id))
            continue;
        ds = pmul__dst_find(e, d->id);
        if (!known || (ds != NULL && ds->plain_left > 0))
            return true;
    }
    return false;
}

/*
 * The asks of a destination that never answered have failed.  A receiver
 * of the original ACP 142 drops a FEC_Address_PDU as an unknown type and
 * never learns it is addressed: from now on the message is announced by
 * Address_PDUs (same MSID, Total, Expiry_Time and destination list) and
 * sent without repairs, so that such a receiver sees a plain ACP 142
 * exchange and completes by selective repeat (asked again first).  A FEC
 * receiver loses nothing it holds: its missing lists name the sources it
 * still needs (rule 3), and a plain Address_PDU after a FEC_Address_PDU
 * leaves its decoder be.
 */
void
pmul__txp_go_plain(pmul_engine *e, pmul_txmsg *m)
{
    m->fec = false;
    m->plain_fb = true;
    e->st.fec_plain_fallbacks++;
    log_emit(&e->env.log, LOG_LVL_INFO,
             "pmul-tx msid=%08x event=fec-plain-fallback reason=silent-after-asks",
             (unsigned)m->msid);
}

/* A new finding: the span (plain_span, nodec_span) starts at
 * PLAIN_SPAN_MIN or doubles, up to PLAIN_SPAN_MAX, and runs anew. */
static void
span_start(uint16_t *span, uint16_t *left)
{
    *span = *span == 0 ? PLAIN_SPAN_MIN
            : *span >= PLAIN_SPAN_MAX / 2 ? PLAIN_SPAN_MAX : (uint16_t)(*span * 2u);
    *left = *span;
}

/*
 * What d's Ack tells of whether it reads FEC_Address_PDUs.  Any answer to
 * a message announced only by them does.  An answer to the plain
 * announcement after BLIND_MIN_ROUNDS silent FEC rounds, from a node
 * never heard on a FEC_Address_PDU, most likely comes from a receiver
 * that drops type 8: its next messages go plain (pmul__txf_setup) for a span
 * that doubles with each new finding; a later answer to a FEC_Address_PDU
 * (a trial message after the span) clears it.
 */
static void
learn_fec(pmul_engine *e, const pmul_txmsg *m, const pmul_txdest *d)
{
    pmul_dststate *ds = pmul__dst_find(e, d->id);
    size_t i;

    if (ds == NULL)
        return;
    if (m->fec) {
        ds->fec_ok = true;
        ds->plain_left = ds->plain_span = 0;
        return;
    }
    /* Found already (by a message sent at the same time): no new
     * evidence. */
    if (!m->plain_fb || ds->fec_ok || ds->plain_left > 0 || d->state != PMUL_TXD_WAIT ||
        d->fec_silent < BLIND_MIN_ROUNDS)
        return;
    span_start(&ds->plain_span, &ds->plain_left);
    e->st.fec_blind_learned++;
    /* The other FEC messages waiting for it will not hear it either: their
     * timer round falls back now (tx_timers) rather than after its asks. */
    for (i = 0; i < e->tx_cnt; i++) {
        pmul_txmsg *o = e->tx[i];
        const pmul_txdest *od = pmul__txdest_find(o, d->id);

        if (o != m && o->fec && o->phase == PMUL_TXP_WAIT && od != NULL &&
            od->state == PMUL_TXD_WAIT && !od->emcon && o->rtx_at != UINT64_MAX)
            o->rtx_at = e->now_ms;
    }
    log_emit(&e->env.log, LOG_LVL_INFO,
             "pmul-tx dest=%08x event=fec-blind msid=%08x silent_rounds=%u plain_msgs=%u",
             (unsigned)d->id, (unsigned)m->msid, (unsigned)d->fec_silent,
             (unsigned)ds->plain_span);
}

/* The sources of m that entry a lists. */
static uint32_t
ack_listed(const pmul_txmsg *m, const pmul_ack_entry *a)
{
    uint32_t n = 0;
    size_t k = 0;
    uint16_t lo, hi;

    while (pmul_missing_next(a->missing, a->missing_cnt, &k, &lo, &hi))
        if (lo <= m->npdus)
            n += (uint32_t)((hi > m->npdus ? m->npdus : hi) - lo) + 1u;
    return n;
}

/*
 * What d's Ack tells of whether it decodes repairs.  A FEC receiver lists
 * k_b - held_b sources of a block (rule 3), so every repair of the block
 * it gets shortens its list; one that reads FEC_Address_PDUs as
 * Address_PDUs but ignores the FEC fields drops repairs and lists every
 * source it lacks.  A list that shrank when only repairs were sent since
 * the last one proves decoding (dec_ok).  Lists that did not shrink while
 * STALL_MIN repairs went (over messages, until such a proof: a message
 * rarely has that many rounds, and the sources that end it shrink a
 * non-decoder's list too) make d a plain peer for the rest of the message
 * (sources for its list, not repairs it cannot use) and, unless it proved
 * decoding before, for its next nodec_span messages (then one trial with
 * FEC, as for plain_span).  One-block messages only (up to fec_max_block
 * PDUs): the repairs of other blocks say nothing of d's; and lists of MM
 * entries, which may be cut short, are no evidence.
 */
static void
learn_dec(pmul_engine *e, const pmul_txmsg *m, pmul_txdest *d, const pmul_ack_entry *a)
{
    uint32_t reps = m->rep_tx - d->rep_mark, old, now;
    pmul_dststate *ds = pmul__dst_find(e, d->id);

    if (!m->fec || d->no_fec || d->emcon || d->state != PMUL_TXD_PARTIAL ||
        m->lay.block_cnt != 1 || reps == 0 || a->missing_cnt >= e->cfg.mm || ds == NULL)
        return;
    now = ack_listed(m, a);
    old = pmul__tx_listed_need(m, d);
    if (now < old) {
        /* Shrunk: by repairs when nothing else was sent (a proof), or
         * by sources it got, which says nothing either way. */
        if (m->sym_tx - d->sym_mark == reps) {
            ds->dec_ok = true;
            ds->stall = ds->nodec_left = ds->nodec_span = 0;
        }
        return;
    }
    if (ds->stall + reps < STALL_MIN) {
        ds->stall = (uint16_t)(ds->stall + reps);
        return;
    }
    ds->stall = 0;
    d->no_fec = true;
    if (ds->dec_ok || ds->nodec_left > 0)
        return;
    span_start(&ds->nodec_span, &ds->nodec_left);
    e->st.fec_nodec_learned++;
    log_emit(&e->env.log, LOG_LVL_INFO,
             "pmul-tx dest=%08x event=fec-repairs-unused msid=%08x plain_peer_msgs=%u",
             (unsigned)d->id, (unsigned)m->msid, (unsigned)ds->nodec_span);
}

/*
 * docs/wire.md 10.8, transmitter 4: d's first answer to a member m after
 * a joint round (the carrier's to the closing copy; a receiver built
 * before 10.8 answers the others only when their timers ask again).  A
 * receiver that decodes the joint block recovers every member, so a list
 * that shrank proves it (jdec_ok).  One that did not shrink although the
 * set's repairs covered d's need summed over the members is a receiver
 * that leaves joint repairs unused, or one that lost some: a round sized
 * to the need exactly fails for the neediest decoder whenever one of its
 * repairs is lost (65 % for 10 at 10 %), and the set's next round makes
 * up for it.  So such rounds' repairs add up in jstall, and only
 * STALL_MIN of them without a proof make its messages no candidates for
 * a span (nojoint_left, messages kept from joint rounds), doubling as for
 * plain_span, unless it proved decoding before.  Learning from one such
 * round took jrx's receivers to "no joint" for the rest of a batch (100
 * mails queued at once: the span never ran down) in 188 of 244 rounds.
 * Lists of MM entries, which may be cut short, are no evidence either way.
 */
static void
learn_joint(pmul_engine *e, const pmul_txmsg *m, pmul_txdest *d, const pmul_ack_entry *a)
{
    pmul_dststate *ds = pmul__dst_find(e, d->id);
    uint16_t need = d->jneed;

    if (!m->jlearn || need == 0 || ds == NULL || a->missing_cnt >= e->cfg.mm)
        return;
    d->jneed = 0;
    if (a->missing_cnt == 0 || ack_listed(m, a) < need) {
        ds->jdec_ok = true;
        ds->nojoint_left = ds->nojoint_span = ds->jstall = ds->jfails = 0;
        return;
    }
    pmul__txj_members_stand(e, m, d->id);
    if (d->jsent == 0 || ds->jdec_ok || ds->nojoint_left > 0 || ds->jstall_round == d->jround)
        return;
    ds->jstall_round = d->jround;
    if (ds->jstall + d->jsent < STALL_MIN && ds->jfails + 1u < JFAILS_MIN) {
        ds->jstall = (uint16_t)(ds->jstall + d->jsent);
        ds->jfails++;
        return;
    }
    ds->jstall = ds->jfails = 0;
    span_start(&ds->nojoint_span, &ds->nojoint_left);
    e->st.fec_nojoint_learned++;
    log_emit(&e->env.log, LOG_LVL_INFO,
             "pmul-tx dest=%08x event=fec-joint-unused msid=%08x nojoint_msgs=%u",
             (unsigned)d->id, (unsigned)m->msid, (unsigned)ds->nojoint_span);
}

/* Does pdu have an entry for a member of c's set other than c that the
 * acker still needs (*needs: such a member exists)? */
static bool
names_member(const pmul_engine *e, const pmul_txmsg *c, const pmul_pdu *pdu, bool *needs)
{
    const pmul_txmsg *o;
    const pmul_txdest *od;
    unsigned i;
    uint16_t k;
    bool named = false;

    *needs = false;
    for (i = 1; i < c->jt->g.cnt; i++) {
        if ((o = pmul__tx_find(e, c->jt->g.mem[i].msid)) == NULL ||
            (od = pmul__txdest_find(o, pdu->source_id)) == NULL || !pmul__txd_incomplete(od))
            continue;
        *needs = true;
        for (k = 0; k < pdu->u.ack.entry_cnt; k++)
            named |= pdu->u.ack.entries[k].msid == o->msid;
    }
    return named;
}

/*
 * docs/wire.md 10.8, receiver 4: a receiver that reads version 2 answers
 * the closing copy of a joint round with one Ack_PDU with an entry for
 * the carrier and for every member it still holds ACTIVE.  One built
 * before 10.8 answers the carrier alone: an Ack_PDU from d with the
 * carrier's entry after a joint round, none for a member d still needs,
 * and d never seen answering so (jaware), is such a receiver (its messages
 * are no candidates for a span), after JUNANS_MIN such rounds in a row,
 * without waiting for STALL_MIN repairs (learn_joint): with 10 such
 * receivers on one channel that wait took the 20 mails of netsim
 * shared_medium_rx10 past their bounds (626 Acks, bound 560).  Only the
 * first such Ack_PDU after the round's closing copy tells, and only with
 * a missing list for the carrier.  One that comes during the round left
 * before it; and a complete one is no answer to the round: a receiver
 * of 10.8 that decoded the set acks each member's delivery on its own
 * spreading delay, and the carrier's may come first, or it is the copy
 * of an earlier complete Ack (pmul_rxack.c complete_copy_pays).  Both
 * took receivers of 10.8 for ones built before (netsim
 * fec_joint_rx4_loss10, seeds 1 and 2).
 */
void
pmul__txp_on_ack_pdu(pmul_engine *e, const pmul_pdu *pdu)
{
    const pmul_txmsg *c;
    pmul_txdest *d;
    pmul_dststate *ds;
    uint16_t k;
    bool needs;

    for (k = 0; k < pdu->u.ack.entry_cnt; k++) {
        if ((c = pmul__tx_find(e, pdu->u.ack.entries[k].msid)) == NULL || !c->jlearn ||
            c->phase != PMUL_TXP_WAIT || pdu->u.ack.entries[k].missing_cnt == 0 ||
            c->jt == NULL || c->jt->g.cnt < 2 || c->jt->g.mem[0].msid != c->msid ||
            (d = pmul__txdest_find(c, pdu->source_id)) == NULL ||
            (ds = pmul__dst_find(e, d->id)) == NULL || d->jround == ds->jseen_round)
            continue;
        ds->jseen_round = d->jround;
        if (names_member(e, c, pdu, &needs)) {
            ds->jaware = true;
            ds->junans = 0;
        } else if (needs && !ds->jaware && !ds->jdec_ok && ds->nojoint_left == 0 &&
                   ++ds->junans >= JUNANS_MIN) {
            ds->junans = 0;
            span_start(&ds->nojoint_span, &ds->nojoint_left);
            e->st.fec_nojoint_learned++;
            log_emit(&e->env.log, LOG_LVL_INFO,
                     "pmul-tx dest=%08x event=fec-joint-unanswered msid=%08x nojoint_msgs=%u",
                     (unsigned)d->id, (unsigned)c->msid, (unsigned)ds->nojoint_span);
        }
    }
}

void
pmul__txp_on_ack(pmul_engine *e, const pmul_txmsg *m, pmul_txdest *d, const pmul_ack_entry *a)
{
    learn_joint(e, m, d, a);
    learn_dec(e, m, d, a);
    learn_fec(e, m, d);
}
