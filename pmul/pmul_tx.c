/*
 * NAME
 *	pmul_tx - the P_MUL transmitter: rounds, retransmission, EMCON, expiry
 * SYNOPSIS
 *	#include "pmul/pmul_engine_int.h"
 * DESCRIPTION
 *	Transmit state of every message we send (docs/wire.md 7.2):
 *
 *	submit	copies the payload, fragments it at the configured PDU size,
 *		sorts the destinations and gives each its next
 *		Message_Sequence_Number (per destination, gap-free).
 *	group	for PMUL_GROUP_DYNAMIC: the procedure of 7.4, in
 *		pmul_txgroup.c, before the first round.
 *	round	Address_PDU(s) listing the incomplete destinations (sorted,
 *		MAP-split when they do not fit one PDU), then the Data_PDUs
 *		of the round's plan in ascending order.  The first round and
 *		any round for a destination that never answered (or an EMCON
 *		repetition) send the whole message; otherwise only the union
 *		of the missing lists of the destinations that answered.
 *		With FEC, pmul_txfec.c plans the round's repairs; a round
 *		on Acks of a one-block message may wait and go as part of a
 *		joint round of several (pmul_txjoint.c, docs/wire.md 10.8).
 *	wait	after the last PDU of a round: the retransmission timer
 *		(pmul_rate: derived from the link rate, the receivers still
 *		to answer and the measured Ack delays, times BACK-OFF_FACTOR
 *		per timer round) for non-EMCON destinations, and the EMCON
 *		timer (EMCON_RTI, at most EMCON_RTC repetitions) for EMCON
 *		ones.  When every outstanding non-EMCON destination has
 *		answered after the round, the next round starts at once: the
 *		transmitter knows all it will learn, so waiting is pure loss.
 *	probe	a destination that never answered has most likely lost the
 *		Address_PDU(s) and holds the data: the first timer round
 *		after such silence sends the Address_PDU(s) alone, with a
 *		short timer; only continued silence costs the whole message.
 *	end	all acked: one Ack-Ack (Address_PDU with no destinations,
 *		decision 9).  Expiry or cancel: Discard_Message_PDU and one
 *		DEST_FAILED per incomplete destination.  Then Release_PDU for
 *		a dynamic group, and MSG_DONE.
 *
 *	Acks (pmul_txack.c) are matched by MSID and by the acking node,
 *	which must be a destination of the message.  A deployed Java implementation puts its
 *	own ID instead of ours in Ack_Info_Entry.Source_ID; such an entry is
 *	accepted exactly when the MSID names a message we sent to that node.
 * SECURITY
 *	Ack, Reject and Request PDUs are untrusted.  An Ack only changes the
 *	state of the destination that sent it, and missing lists are clamped
 *	to the message's PDU count and stored up to max_missing ranges.
 * DIAGNOSTICS
 *	PMUL_ERR_INVAL, _RANGE, _EXPIRED, _BUSY, _NOMEM from submit; drops of
 *	Acks are counted by reason.
 * SEE ALSO
 *	pmul_txack.c (Acks), pmul_txfec.c, pmul_txjoint.c, pmul_txpeer.c,
 *	pmul_txgroup.c, pmul_engine(3), pmul_rate(3), pmul_group(3),
 *	docs/engine.md
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "pmul/pmul_engine_int.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Messages of more Data_PDUs than this probe silent receivers first. */
#define PROBE_MIN_PDUS 2u
/* Rounds that ask a silent destination again before it gets the whole
 * message: an ask is lost with 1-(1-p)^2 (the Address_PDU or the Ack),
 * 51 % at 30 % loss, and three cost less than one whole message. */
#define PROBE_MAX PMUL__PROBE_MAX

static bool probe_pays(const pmul_engine *e, const pmul_txmsg *m, uint32_t pending);

/* ---- message table ----------------------------------------------------- */

pmul_txmsg *
pmul__tx_find(const pmul_engine *e, uint32_t msid)
{
    size_t i;

    for (i = 0; i < e->tx_cnt; i++)
        if (e->tx[i]->msid == msid)
            return e->tx[i];
    return NULL;
}

pmul_txdest *
pmul__txdest_find(const pmul_txmsg *m, uint32_t id)
{
    size_t lo = 0, hi = m->dest_cnt, mid;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        if (m->dests[mid].id == id)
            return &m->dests[mid];
        if (m->dests[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static void
tx_msg_free(pmul_engine *e, pmul_txmsg *m)
{
    size_t i;

    if (m == NULL)
        return;
    if (m->dests != NULL)
        for (i = 0; i < m->dest_cnt; i++)
            mem_free(e->m, m->dests[i].miss);
    mem_free(e->m, m->dests);
    mem_free(e->m, m->round_idx);
    mem_free(e->m, m->payload);
    mem_free(e->m, m->fec_next);
    pmul__txj_free(e, m->jt);
    pmul_seqset_fini(&m->plan);
    pmul_seqset_fini(&m->fecset);
    mem_free(e->m, m);
}

/* Sorted by (priority, submission order): the scheduling order. */
static void
tx_insert(pmul_engine *e, pmul_txmsg *m)
{
    size_t pos = e->tx_cnt;

    while (pos > 0 && (e->tx[pos - 1]->prio > m->prio ||
                       (e->tx[pos - 1]->prio == m->prio && e->tx[pos - 1]->order > m->order)))
        pos--;
    memmove(&e->tx[pos + 1], &e->tx[pos], (e->tx_cnt - pos) * sizeof(*e->tx));
    e->tx[pos] = m;
    e->tx_cnt++;
}

static void
tx_remove(pmul_engine *e, pmul_txmsg *m)
{
    size_t i;

    for (i = 0; i < e->tx_cnt; i++)
        if (e->tx[i] == m) {
            memmove(&e->tx[i], &e->tx[i + 1], (e->tx_cnt - i - 1) * sizeof(*e->tx));
            e->tx_cnt--;
            return;
        }
}

void
pmul__tx_free_all(pmul_engine *e)
{
    size_t i;

    for (i = 0; i < e->tx_cnt; i++)
        tx_msg_free(e, e->tx[i]);
    mem_free(e->m, e->tx);
    e->tx = NULL;
    e->tx_cnt = e->tx_cap = 0;
    pmul__txj_fini(e);
}

/* ---- events and control PDUs ------------------------------------------- */

void
pmul__tx_event(pmul_engine *e, const pmul_txmsg *m, int kind, uint32_t dest, int reason)
{
    pmul_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.kind = kind;
    ev.source_id = e->cfg.node_id;
    ev.msid = m->msid;
    ev.dest_id = dest;
    ev.tag = m->tag;
    ev.priority = m->prio;
    ev.reason = reason;
    ev.expiry_s = m->expiry_s;
    ev.acked_cnt = (uint32_t)m->done_cnt;
    ev.failed_cnt = (uint32_t)m->failed_cnt;
    ev.group = m->group;
    (void)pmul__ev_push(e, &ev, NULL);
}

static void
ctl_ackack(pmul_engine *e, uint32_t msid, uint8_t prio, uint16_t npdus, int64_t expiry_s,
           uint32_t group)
{
    pmul_pdu p;
    pmul_addr to = pmul__group_addr(group, e->cfg.dport);

    memset(&p, 0, sizeof(p));
    p.type = PMUL_PDU_ADDRESS;
    p.priority = prio;
    p.source_id = e->cfg.node_id;
    p.msid = msid;
    p.u.address.total_pdus = npdus;
    p.u.address.expiry_time = (uint32_t)expiry_s;
    if (pmul__ctl_push(e, &p, &to) == 0)
        e->st.ack_acks++;
}

/* Remember a finished message so that a late complete Ack (its sender
 * missed our Ack-Ack) can be answered with another Ack-Ack. */
static void
memo_add(pmul_engine *e, const pmul_txmsg *m)
{
    pmul_txdone *d = &e->done[e->done_next];

    e->done_next = (e->done_next + 1) % PMUL_TXDONE_CNT;
    d->used = true;
    d->msid = m->msid;
    d->group = m->group;
    d->prio = m->prio;
    d->ackack_ms = e->now_ms;
}

bool
pmul__tx_memo_ackack(pmul_engine *e, uint32_t msid)
{
    size_t i;
    pmul_txdone *d;

    for (i = 0; i < PMUL_TXDONE_CNT; i++) {
        d = &e->done[i];
        if (!d->used || d->msid != msid)
            continue;
        /* At most one repeat per ack_rtx_min_ms: a receiver whose Acks
         * keep coming must not turn us into an Ack-Ack generator. */
        if (e->now_ms - d->ackack_ms >= e->cfg.ack_rtx_min_ms) {
            ctl_ackack(e, msid, d->prio, 0, 0, d->group);
            d->ackack_ms = e->now_ms;
        }
        return true;
    }
    return false;
}

/* ---- finishing --------------------------------------------------------- */

/* reason NONE: every destination acknowledged.  Otherwise the incomplete
 * ones fail with reason.  Frees m. */
void
pmul__tx_finish(pmul_engine *e, pmul_txmsg *m, int reason)
{
    size_t i;
    pmul_pdu p;
    pmul_addr to = pmul__group_addr(m->group, e->cfg.dport);

    if (reason == PMUL_REASON_NONE) {
        ctl_ackack(e, m->msid, m->prio, m->npdus, m->expiry_s, m->group);
        memo_add(e, m);
    } else {
        /* Receivers may hold fragments only once a round has started. */
        if (m->phase == PMUL_TXP_SEND || m->phase == PMUL_TXP_WAIT || m->phase == PMUL_TXP_JOINT) {
            memset(&p, 0, sizeof(p));
            p.type = PMUL_PDU_DISCARD;
            p.priority = m->prio;
            p.source_id = e->cfg.node_id;
            p.msid = m->msid;
            (void)pmul__ctl_push(e, &p, &to);
        }
        for (i = 0; i < m->dest_cnt; i++) {
            pmul_txdest *d = &m->dests[i];

            if (d->state == PMUL_TXD_DONE || d->state == PMUL_TXD_FAILED)
                continue;
            d->state = PMUL_TXD_FAILED;
            m->failed_cnt++;
            e->st.dests_failed++;
            pmul__tx_event(e, m, PMUL_EV_DEST_FAILED, d->id, reason);
        }
    }
    if (m->dynamic) {
        pmul__txg_release(e, m->msid, m->group);
        pmul_groups_release(&e->groups, m->group);
    }
    pmul__tx_event(e, m, PMUL_EV_MSG_DONE, 0, reason);
    e->st.msgs_done++;
    log_emit(&e->env.log, LOG_LVL_DEBUG,
             "pmul-tx done msid=%08x acked=%zu failed=%zu reason=%s",
             (unsigned)m->msid, m->done_cnt, m->failed_cnt, pmul_reason_name(reason));
    tx_remove(e, m);
    pmul__txj_gone(e, m);
    tx_msg_free(e, m);
}

/* ---- rounds ------------------------------------------------------------ */

void
pmul__tx_count_pending(const pmul_txmsg *m, uint32_t *normal, uint32_t *emcon, bool *never)
{
    size_t i;

    *normal = *emcon = 0;
    *never = false;
    for (i = 0; i < m->dest_cnt; i++) {
        const pmul_txdest *d = &m->dests[i];

        if (!pmul__txd_incomplete(d))
            continue;
        if (d->emcon) {
            (*emcon)++;
        } else {
            (*normal)++;
            if (d->state == PMUL_TXD_WAIT)
                *never = true;
        }
    }
}

/*
 * Another message is being sent: the link is busy whatever m does.  What
 * only shortens m's own completion (margins, serving answers early, the
 * repeated Address_PDU after a retransmission) then costs airtime, Acks
 * and rounds that the others would have used: on one shared channel with
 * 20 receivers, serving answers early took 100 mails from 4.4x to 8.9x
 * the limit (netsim-bench shared).
 */
bool
pmul__tx_others_sending(const pmul_engine *e, const pmul_txmsg *m)
{
    size_t i;

    for (i = 0; i < e->tx_cnt; i++)
        if (e->tx[i] != m && e->tx[i]->phase == PMUL_TXP_SEND)
            return true;
    return false;
}

/*
 * Start a round: list every incomplete destination in the Address_PDU(s)
 * and plan the Data_PDUs, the whole message or the union of the missing
 * lists of the non-EMCON destinations that answered.  The plan bitmap was
 * reserved for npdus at submit, so nothing here allocates.
 */
void
pmul__tx_start_round(pmul_engine *e, pmul_txmsg *m, bool whole, bool emcon_round)
{
    size_t i, k;
    uint16_t lo, hi;
    bool emcon_tx = emcon_round, joint = pmul__txj_active(m);

    m->round_cnt = 0;
    m->loss_pm = pmul__txf_round_loss_pm(e, m);
    for (i = 0; i < m->dest_cnt; i++) {
        m->dests[i].heard = false;
        if (pmul__txd_incomplete(&m->dests[i])) {
            m->round_idx[m->round_cnt++] = i;
            if (m->fec && m->dests[i].state == PMUL_TXD_WAIT && !m->dests[i].emcon &&
                m->dests[i].fec_silent < UINT16_MAX)
                m->dests[i].fec_silent++;
            /* The first transmission to an EMCON destination is its
             * first EMCON transmission; a plain peer in EMCON can only
             * complete from sources (fec-contract 5). */
            if (m->dests[i].emcon && m->sent_rounds == 0)
                emcon_tx = true;
            if (m->dests[i].emcon && m->dests[i].no_fec && emcon_round)
                whole = true;
        }
    }
    pmul_seqset_clear_all(&m->plan);
    pmul_seqset_clear_all(&m->fecset);
    m->rep_left = 0;
    m->rep_active = false;
    m->addr_copies = 0;
    m->jwait = false;
    if (!m->probe)
        m->jlearn = false;      /* answers tell of this round now; a probe
                                 * sends nothing they could shrink by */
    if (!joint)
        pmul__txj_drop(e, m);
    if (joint) {
        pmul__txj_round(e, m);
        whole = false;
        /* Its announcement goes once before the repairs and once after
         * (the closing copy).  A receiver that lost the first holds the
         * repairs by number until the closing copy places them
         * (pmul_rxjoint.c early_repair()); a second copy mid-round, which
         * was for that receiver, cost 100 mails to 4 receivers 1.6 s of
         * 555 (netsim-bench air, 100 seeds) once it held them. */
    }
    if (m->probe) {
        whole = false;
        goto planned;
    }
    if (!whole && !joint) {
        for (i = 0; i < m->dest_cnt; i++) {
            const pmul_txdest *d = &m->dests[i];
            /* FEC receivers' lists go to fecset first: a block may be
             * cheaper to repair than to resend (pmul__txf_plan). */
            pmul_seqset *to = m->fec && !d->no_fec ? &m->fecset : &m->plan;

            if (d->state != PMUL_TXD_PARTIAL || d->emcon || (m->fresh_only && !d->answered))
                continue;
            for (k = 0; k < d->miss_cnt; k++) {
                lo = d->miss[2 * k];
                hi = d->miss[2 * k + 1];
                if (pmul_seqset_set_range(to, lo, hi) != 0)
                    whole = true;   /* cannot happen: reserved */
            }
        }
    }
    if (m->fec && !joint) {
        pmul__txf_plan(e, m, whole, emcon_tx);
        if (emcon_tx && e->cfg.fec_emcon_addr > 1)
            m->addr_copies = e->cfg.fec_emcon_addr - 1;
    }
    if (whole || (m->plan.cnt == 0 && m->rep_left == 0 && !joint))
        if (pmul_seqset_set_range(&m->plan, 1, m->npdus) != 0)
            m->plan.cnt = 0;        /* cannot happen: reserved */
    /* EMCON: spread the copies of the announcement over the round (one
     * loss burst took all of them back to back); too short a round for
     * that sends them back to back. */
    m->copy_pdus = 0;
    m->copy_gap = m->addr_copies > 0 ? (m->plan.cnt + m->rep_left) / (m->addr_copies + 1u) : 0u;
    /* A probe only asks the silent ones: the others' answers stand. */
    for (i = 0; i < m->dest_cnt; i++)
        m->dests[i].answered = false;
    m->data_rounds++;
planned:
    m->fresh_only = false;
    m->answer_seen = false;
    m->addr_next = 0;
    m->addr_tail = false;
    m->data_next = 1;
    m->sent_rounds++;
    m->phase = PMUL_TXP_SEND;
    m->round_emcon = emcon_round;
    m->rtx_at = UINT64_MAX;
    log_emit(&e->env.log, LOG_LVL_DEBUG,
             "pmul-tx round msid=%08x dests=%zu pdus=%u repairs=%u whole=%d emcon=%d probe=%d",
             (unsigned)m->msid, m->round_cnt, (unsigned)m->plan.cnt, (unsigned)m->rep_left,
             whole, emcon_round, m->probe);
}

/*
 * Octets still to send for messages at least as urgent as m: they will
 * leave before m could be retransmitted, so waiting for them costs
 * nothing ("outstanding bytes" in the timer).  Less urgent ones would be
 * pre-empted and do not count.  IP/UDP overhead included.
 */
static uint64_t
queued_before(const pmul_engine *e, const pmul_txmsg *m)
{
    uint64_t bytes = 0, pdus;
    size_t i;

    for (i = 0; i < e->tx_cnt; i++) {
        const pmul_txmsg *o = e->tx[i];

        if (o == m || o->prio > m->prio || o->phase != PMUL_TXP_SEND)
            continue;
        pdus = o->plan.cnt;
        if (o->data_next > 1)
            pdus -= pmul_seqset_count_upto(&o->plan, (uint16_t)(o->data_next - 1));
        pdus += o->rep_left;
        if (o->addr_tail)
            pdus = 0;
        bytes += pmul__pdus_air(e, pdus);
    }
    return bytes;
}

/* What the waits for m's answers depend on, tail, queue and round aside. */
static void
rto_in(pmul_engine *e, const pmul_txmsg *m, uint32_t pending, pmul_rto_in *in)
{
    memset(in, 0, sizeof(*in));
    in->pending_dests = pending;
    in->ack_len = pmul__ack_len(e);
    in->pdu_len = e->cfg.pdu_max_len;
    /* The receivers scale their spreading delay by the destination count
     * of the Address_PDU when it fits one PDU (pmul_rx.c). */
    in->ack_spread_ms = pmul_rate_ack_spread_ms(&e->rate,
                                                m->round_cnt <= e->enc_dests_cap ?
                                                (uint32_t)m->round_cnt : 0,
                                                in->ack_len, e->cfg.ack_spread_ms);
    in->ack_batch_ms = e->cfg.ack_batch_ms;
}

uint32_t
pmul__tx_rto_for(pmul_engine *e, const pmul_txmsg *m, uint32_t pending, bool probe)
{
    pmul_rto_in in;

    rto_in(e, m, pending, &in);
    /* After a probe, receivers answer the Address_PDU once about one PDU
     * interval has passed without data (pmul_rx.c probe_wait: 1.5
     * intervals).  Budgeting nothing for that wait made the timer fire
     * just before a receiver's answer and cost a whole-message round
     * (netsim: 10 of 100 seeds of one 100 kB message to 3 receivers). */
    in.tail_ms = pmul_rate_tail_ms(&e->rate, probe ? 1 : 0, e->cfg.pdu_max_len,
                                   e->cfg.tail_floor_ms, e->cfg.ack_pdu_time_ms);
    in.round = m->rounds;
    in.queued_len = queued_before(e, m);
    return pmul_rate_rto_ms(&e->rate, &in);
}

/* Arm the timers after the last PDU of a round has left. */
static void
end_round(pmul_engine *e, pmul_txmsg *m)
{
    uint32_t normal, emcon, rto;
    bool never;

    /* A joint round's closing copy ends every member's round too. */
    if (pmul__txj_active(m))
        pmul__txj_round_end(e, m);
    m->phase = PMUL_TXP_WAIT;   /* all_sent: set by round_over(), always first */
    m->round_end_ms = e->now_ms;
    m->collect = false;
    pmul__tx_count_pending(m, &normal, &emcon, &never);
    m->rtx_at = UINT64_MAX;
    m->rtt_guess = !e->rate.have_sample && e->rate.raw_cnt == 0;
    m->round_probe = m->probe;
    if (normal > 0) {
        rto = pmul__tx_rto_for(e, m, normal, m->probe);
        m->rtx_at = pmul__add_ms(e->now_ms, rto);
        e->st.rto_ms = rto;
        log_emit(&e->env.log, LOG_LVL_DEBUG, "pmul-tx wait msid=%08x rto=%u rtt=%u",
                 (unsigned)m->msid, (unsigned)rto, (unsigned)pmul_rate_rtt_ms(&e->rate));
    }
    if (emcon > 0 && m->emcon_rounds < e->cfg.emcon_rtc) {
        /* EMCON_RTI runs from the end of the first transmission and of
         * each repetition; a non-EMCON round in between leaves it be. */
        if (m->round_emcon || m->emcon_at == UINT64_MAX)
            m->emcon_at = pmul__add_ms(e->now_ms, e->cfg.emcon_rti_ms);
    } else {
        m->emcon_at = UINT64_MAX;
    }
    m->probe = false;
    /* Answers may all be in already (they came during the repeated
     * Address_PDU). */
    if (normal > 0)
        (void)pmul__tx_check_fast(e, m);
    /* A first transmission that ended may have been what candidates
     * waited for. */
    pmul__txj_flush(e);
}

void
pmul__tx_end_round(pmul_engine *e, pmul_txmsg *m)
{
    end_round(e, m);
}

/*
 * Every Address_PDU lists only the destinations that have not acked the
 * whole message by the time it leaves (7.2 step 5: "an updated
 * Address_PDU that lists only the not-yet-complete destinations"): the
 * others need nothing, and each would answer its listing with its
 * complete Ack again.  With 1,000 receivers the list is 8 Address_PDUs
 * (7 s at 9.6 kbit/s) and most receivers ack while the repeat goes out;
 * and a round's first copy can wait long after the round was planned,
 * behind the pacer or more urgent messages, while late Acks of the last
 * round come in.  A receiver left out of a sorted list that spans its ID
 * reads it as "not listed after my complete Ack" and forgets the message,
 * which is right: it was acked.  The parts already sent stay as they were.
 */
static void
drop_acked(pmul_txmsg *m)
{
    size_t i, k = m->addr_next;

    for (i = m->addr_next; i < m->round_cnt; i++)
        if (pmul__txd_incomplete(&m->dests[m->round_idx[i]]) ||
            pmul__txj_listed(m, m->round_idx[i]))
            m->round_idx[k++] = m->round_idx[i];
    m->round_cnt = k;
}

/*
 * The repeated Address_PDU lets a receiver that lost the first copy ack
 * (it holds the data as early fragments) and makes every receiver answer
 * at the end of the round instead of after its tail wait.  Once each
 * listed destination has answered before it knows the message, and while
 * other messages are being sent the quicker answer buys nothing: the link
 * is busy anyway.  Then the repeat is dropped: with 4 receivers of 2-8 kB
 * mails, a retransmission round is often one repair, and its two
 * Address_PDUs were 16 % of it.
 */
static bool
repeat_useful(const pmul_engine *e, const pmul_txmsg *m)
{
    size_t i;

    if (m->sent_rounds <= 1)
        return true;
    for (i = 0; i < m->round_cnt; i++)
        if (m->dests[m->round_idx[i]].state == PMUL_TXD_WAIT)
            return true;
    return !pmul__tx_others_sending(e, m);
}

/*
 * The round's Data_PDUs are out.  With addr_repeat the Address_PDU(s) go
 * once more: a receiver that lost the first copy holds the Data_PDUs as
 * early fragments and can only ack once it learns it is addressed; without
 * the repeat it stays silent and the next round must be the whole message
 * again (7.2 step 5a).  One small PDU against a whole retransmission.
 */
static void
round_over(pmul_engine *e, pmul_txmsg *m)
{
    /* Every Data_PDU has left now (the first round carries them all):
     * from here a complete Ack can be true.  Setting this only at the end
     * of the round (after the repeated Address_PDUs) refused the complete
     * Acks that came meanwhile: with 1,000 receivers, 8 Address_PDUs of
     * repeat took 7 s and most receivers' only Ack was dropped. */
    m->all_sent = true;
    /* A joint round always closes with its copy (docs/wire.md 10.8). */
    if (!m->addr_tail && ((e->cfg.addr_repeat && repeat_useful(e, m)) || pmul__txj_active(m))) {
        m->addr_tail = true;
        m->addr_next = 0;
        drop_acked(m);
        if (m->round_cnt > 0)
            return;
    }
    end_round(e, m);
}

/* ---- submit ------------------------------------------------------------ */

static int
cmp_dest(const void *a, const void *b)
{
    uint32_t x = ((const pmul_txdest *)a)->id, y = ((const pmul_txdest *)b)->id;

    return x < y ? -1 : x > y;
}

/*
 * Admission by priority (issue 13, priority under load): a message of
 * priority prio counts against max_tx_msgs only the messages in flight
 * that are at least as urgent, so routine mail filling the cap never keeps
 * a flash message waiting for a slot; it is sent first (tx[] is in
 * priority order) and pre-empts the routine rounds.  Less urgent messages
 * may then exceed the cap, up to twice it in all.
 */
static bool
admitted(const pmul_engine *e, uint8_t prio)
{
    size_t i, ahead = 0;

    if (e->tx_cnt >= 2 * e->cfg.max_tx_msgs)
        return false;
    for (i = 0; i < e->tx_cnt && e->tx[i]->prio <= prio; i++)
        ahead++;                        /* tx[] is sorted by priority */
    return ahead < e->cfg.max_tx_msgs;
}

int
pmul__tx_submit(pmul_engine *e, const pmul_msg *in, uint32_t *msid)
{
    const pmul_config *c = &e->cfg;
    pmul_txmsg *m;
    pmul_dststate *ds;
    size_t frag, npdus, i, n;
    int64_t expiry;
    void *p;
    int err = PMUL_ERR_NOMEM;

    if (in->payload == NULL || in->payload_len == 0 || in->payload_len > c->max_msg_len)
        return PMUL_ERR_INVAL;
    if (in->dests == NULL || in->dest_cnt == 0 || in->dest_cnt > c->max_dests)
        return PMUL_ERR_INVAL;
    frag = pmul_pdu_data_max_frag(c->pdu_max_len);
    npdus = (in->payload_len + frag - 1) / frag;
    if (npdus > 0xffff)
        return PMUL_ERR_RANGE;
    expiry = in->expiry_s != 0 ? in->expiry_s : e->wall_s + (int64_t)c->default_expiry_s;
    if (expiry <= e->wall_s)
        return PMUL_ERR_EXPIRED;
    if (expiry > (int64_t)UINT32_MAX)
        return PMUL_ERR_RANGE;
    if (!admitted(e, in->priority))
        return PMUL_ERR_BUSY;
    if (in->msid != 0 && pmul__tx_find(e, in->msid) != NULL)
        return PMUL_ERR_INVAL;          /* that MSID is in flight */

    if ((m = mem_calloc(e->m, 1, sizeof(*m))) == NULL)
        return PMUL_ERR_NOMEM;
    pmul_seqset_init(&m->plan, e->m);
    pmul_seqset_init(&m->fecset, e->m);
    m->dests = mem_calloc(e->m, in->dest_cnt, sizeof(*m->dests));
    m->round_idx = mem_calloc(e->m, in->dest_cnt, sizeof(*m->round_idx));
    m->payload = mem_alloc(e->m, in->payload_len);
    if (m->dests == NULL || m->round_idx == NULL || m->payload == NULL)
        goto fail;
    m->dest_cnt = in->dest_cnt;
    if ((err = pmul_seqset_reserve(&m->plan, (uint16_t)npdus)) != 0)
        goto fail;
    for (i = 0; i < in->dest_cnt; i++) {
        m->dests[i].id = in->dests[i];
        m->dests[i].emcon = in->dest_emcon != NULL && in->dest_emcon[i];
        m->dests[i].msn = in->dest_msns != NULL ? in->dest_msns[i] : 0;
    }
    /* Destinations are sent sorted ascending (docs/wire.md 4.2). */
    qsort(m->dests, m->dest_cnt, sizeof(*m->dests), cmp_dest);
    err = PMUL_ERR_INVAL;
    for (i = 0; i < m->dest_cnt; i++)
        if (m->dests[i].id == 0 || m->dests[i].id == c->node_id ||
            (i > 0 && m->dests[i].id == m->dests[i - 1].id))
            goto fail;
    for (i = 0; i < m->dest_cnt; i++)
        if ((err = pmul__dst_get(e, m->dests[i].id, &ds)) != 0)
            goto fail;
    if ((err = pmul__txf_setup(e, m, (uint16_t)npdus, frag, in->payload_len)) != 0)
        goto fail;
    if (e->tx_cnt == e->tx_cap) {
        n = e->tx_cap != 0 ? e->tx_cap * 2 : 16;
        if ((p = mem_realloc(e->m, e->tx, n * sizeof(*e->tx))) == NULL) {
            err = PMUL_ERR_NOMEM;
            goto fail;
        }
        e->tx = p;
        e->tx_cap = n;
    }

    /* Nothing can fail from here on: commit. */
    memcpy(m->payload, in->payload, in->payload_len);
    m->len = in->payload_len;
    m->frag = frag;
    m->npdus = (uint16_t)npdus;
    m->prio = in->priority;
    m->tag = in->tag;
    m->expiry_s = expiry;
    m->order = e->tx_order++;
    m->resumed = in->resumed;
    if (in->msid != 0) {
        m->msid = in->msid;             /* resumed, or chosen by the caller */
    } else {
        if (e->next_msid == 0)
            e->next_msid = 1;
        m->msid = e->next_msid++;
    }
    for (i = 0; i < m->dest_cnt; i++) {
        (void)pmul__dst_get(e, m->dests[i].id, &ds);     /* exists */
        if (in->dest_msns != NULL) {
            /* A resumed message keeps the numbers it was first sent
             * with; the counter moves past them. */
            if (m->dests[i].msn >= ds->next_msn)
                ds->next_msn = m->dests[i].msn + 1;
        } else {
            m->dests[i].msn = ds->next_msn++;
        }
        if (ds->emcon)
            m->dests[i].emcon = true;
        if (!m->fec && c->fec && ds->plain_left > 0)
            ds->plain_left--;           /* one message of its plain span */
        if (m->fec && ds->nodec_left > 0)
            ds->nodec_left--;           /* one message as a plain peer */
    }
    m->rtx_at = m->emcon_at = UINT64_MAX;
    m->group = in->group == 0 ? c->default_group : in->group;
    m->dynamic = in->group == PMUL_GROUP_DYNAMIC;
    tx_insert(e, m);
    e->st.msgs_submitted++;
    if (m->dynamic)
        pmul__txg_request(e, m);
    else
        pmul__tx_start_round(e, m, true, false);
    *msid = m->msid;
    log_emit(&e->env.log, LOG_LVL_DEBUG,
             "pmul-tx submit msid=%08x len=%zu pdus=%u dests=%zu prio=%u",
             (unsigned)m->msid, m->len, (unsigned)m->npdus, m->dest_cnt, (unsigned)m->prio);
    return 0;

fail:
    tx_msg_free(e, m);
    return err;
}

int
pmul__tx_cancel(pmul_engine *e, uint32_t msid, int reason)
{
    pmul_txmsg *m = pmul__tx_find(e, msid);

    if (m == NULL)
        return PMUL_ERR_NOTFOUND;
    pmul__tx_finish(e, m, reason);
    return 0;
}

void
pmul__tx_dest_emcon(pmul_engine *e, uint32_t dest, bool on)
{
    size_t i;
    pmul_txdest *d;
    pmul_txmsg *m;
    uint32_t normal, emcon;
    bool never;

    for (i = 0; i < e->tx_cnt; i++) {
        m = e->tx[i];
        if ((d = pmul__txdest_find(m, dest)) == NULL || !pmul__txd_incomplete(d) || d->emcon == on)
            continue;
        d->emcon = on;
        if (m->phase != PMUL_TXP_WAIT)
            continue;
        pmul__tx_count_pending(m, &normal, &emcon, &never);
        if (!on && m->rtx_at == UINT64_MAX)
            m->rtx_at = pmul__add_ms(e->now_ms, pmul__tx_rto_for(e, m, normal, false));
        if (on && m->emcon_at == UINT64_MAX && m->emcon_rounds < e->cfg.emcon_rtc)
            m->emcon_at = pmul__add_ms(e->now_ms, e->cfg.emcon_rti_ms);
        if (normal == 0)
            m->rtx_at = UINT64_MAX;
    }
}

/* ---- timers ------------------------------------------------------------ */

/* Someone still to serve has not answered since the last round. */
static bool
unheard(const pmul_txmsg *m)
{
    size_t i;

    for (i = 0; i < m->dest_cnt; i++)
        if (pmul__txd_incomplete(&m->dests[i]) && !m->dests[i].emcon && !m->dests[i].answered)
            return true;
    return false;
}

/* The PDUs d's last list names; the whole message if it never answered. */
uint32_t
pmul__tx_listed_need(const pmul_txmsg *m, const pmul_txdest *d)
{
    uint32_t need = d->state == PMUL_TXD_WAIT ? m->npdus : 0u;
    size_t k;

    for (k = 0; k < d->miss_cnt; k++)
        need += (uint32_t)(d->miss[2 * k + 1] - d->miss[2 * k]) + 1u;
    return need;
}

/* The silent ones may be asked again rather than sent their lists or the
 * whole message (tx_timers): by the round that serves fresh answers, or
 * by a probe where it pays (probe_pays). */
bool
pmul__tx_can_ask(const pmul_engine *e, const pmul_txmsg *m, uint32_t pending)
{
    return m->npdus > PROBE_MIN_PDUS && unheard(m) &&
           (pmul__tx_fresh_need(m) || probe_pays(e, m, pending)) &&
           (m->asks < PROBE_MAX || (m->asks < 2 * PROBE_MAX && pmul__txf_unheard_covered(e, m)));
}

/* Someone who answered since the last round still misses something. */
bool
pmul__tx_fresh_need(const pmul_txmsg *m)
{
    size_t i;

    for (i = 0; i < m->dest_cnt; i++)
        if (m->dests[i].state == PMUL_TXD_PARTIAL && !m->dests[i].emcon && m->dests[i].answered)
            return true;
    return false;
}

/*
 * A probe (Address_PDU(s) alone) draws an Ack from every destination it
 * lists, the answered ones included, and brings no data.  It pays only
 * when those Acks take less air than what it may save: the largest need a
 * silent destination stands for (its last list, or the whole message if
 * it never answered), which the round a probe replaces would resend.
 * With 100 receivers on one shared 9.6 kbit/s channel a probe drew about
 * 100 Acks (6 kB, five Data_PDUs of air) to save a Data_PDU or two, and
 * took 100 mails from 53x to 56x the limit (netsim-bench shared); a few
 * receivers' Acks are always cheaper than one Data_PDU.  Octets, not
 * airtime: the comparison holds without a link rate.
 */
static bool
probe_pays(const pmul_engine *e, const pmul_txmsg *m, uint32_t pending)
{
    uint32_t need, max = 0;
    size_t i;

    for (i = 0; i < m->dest_cnt; i++) {
        const pmul_txdest *d = &m->dests[i];

        if (!pmul__txd_incomplete(d) || d->emcon || d->answered)
            continue;
        if ((need = pmul__tx_listed_need(m, d)) > max)
            max = need;
    }
    return pmul__acks_air(e, pending) < pmul__pdus_air(e, max);
}

/* How long after the end of a round its answers arrive: the round trip,
 * the receivers' spreading and batching delays and the Acks' airtime.
 * No tail: a receiver that lost the closing Address_PDU is asked again. */
uint32_t
pmul__tx_collect_ms(pmul_engine *e, const pmul_txmsg *m, uint32_t pending)
{
    pmul_rto_in in;

    rto_in(e, m, pending, &in);
    return pmul_rate_answers_ms(&e->rate, &in);
}

/* Returns true when m was freed. */
static bool
tx_timers(pmul_engine *e, pmul_txmsg *m)
{
    uint32_t normal, emcon;
    bool never, rtx_fire, emcon_fire, whole;

    if (e->wall_s >= m->expiry_s) {
        pmul__tx_finish(e, m, PMUL_REASON_EXPIRED);
        return true;
    }
    switch (m->phase) {
    case PMUL_TXP_REQUEST:
    case PMUL_TXP_ANNOUNCE:
        pmul__txg_timers(e, m);
        break;
    case PMUL_TXP_WAIT:
        pmul__tx_count_pending(m, &normal, &emcon, &never);
        rtx_fire = normal > 0 && e->now_ms >= m->rtx_at;
        emcon_fire = emcon > 0 && e->now_ms >= m->emcon_at &&
                     m->emcon_rounds < e->cfg.emcon_rtc;
        if (!rtx_fire && !emcon_fire)
            break;
        /* Serving answers early is no timeout: no back-off step. */
        if (rtx_fire && !m->collect)
            m->rounds++;
        m->collect = false;
        if (emcon_fire)
            m->emcon_rounds++;
        e->st.retx_rounds++;
        /*
         * Destinations that never answered get the whole message (7.2
         * step 5a); so do EMCON ones, which cannot answer (step 6).  But
         * a silent receiver has most often just lost the Address_PDU(s)
         * and holds the data as early fragments: first probe with the
         * Address_PDU(s) alone and a short timer, and resend the message
         * only if it stays silent.  Not worth it for one or two PDUs.
         */
        m->probe = false;
        whole = never || (emcon_fire && !m->fec);
        /* A silent destination that may not know PDU type 8, once the
         * asks by FEC_Address_PDU are over (or at once, when another
         * message found it so): ask again plainly.  Such a receiver holds
         * the Data_PDUs as unidentified (7.3) and answers an Address_PDU
         * with what it lacks, so that the whole message need not go. */
        if (!emcon_fire && never && m->fec &&
            (pmul__txp_blind_suspect(e, m, true) ||
             (pmul__txp_blind_suspect(e, m, false) && !pmul__tx_can_ask(e, m, normal)))) {
            m->asks = 0;
            pmul__txp_go_plain(e, m);
        }
        /* Destinations silent since their last list (an Ack of theirs or
         * our closing copy was lost) are asked by a joint round as well as
         * by a probe: its announcement lists them, and its repairs are
         * sized for their last lists.  Counted as an ask.  Only when
         * others may join: alone, the probe is cheaper. */
        if (!whole && !emcon_fire && pmul__txj_company(e, m) && pmul__txj_wait(e, m)) {
            if (!pmul__txj_all_answered(m))
                m->asks++;
            break;
        }
        if (!emcon_fire && pmul__tx_can_ask(e, m, normal)) {
            /* Whoever was listed in the last round and is silent since
             * most often lost our Address_PDU or its Ack went, and holds
             * that round's data: ask again rather than resend what it
             * reported earlier, or the whole message (issue 12: one lost
             * Ack cost 4 s of a 5 s limit at 64 kbit/s).  Those who did
             * answer are served meanwhile, and their round, which lists
             * the silent ones too, asks them as well. */
            m->asks++;
            whole = false;
            if (pmul__tx_fresh_need(m))
                m->fresh_only = true;
            else
                m->probe = true;
        } else {
            m->asks = 0;
        }
        /* With FEC an EMCON repetition is fresh repairs, not the
         * sources again (fec-contract 5). */
        if (whole || emcon_fire || !pmul__txj_wait(e, m))
            pmul__tx_start_round(e, m, whole, emcon_fire);
        break;
    default:
        break;
    }
    return false;
}

void
pmul__tx_expire(pmul_engine *e)
{
    size_t i = 0;

    while (i < e->tx_cnt)
        if (!tx_timers(e, e->tx[i]))
            i++;
    pmul__txj_flush(e);         /* the candidates' wait bound */
}

uint64_t
pmul__tx_deadline(const pmul_engine *e)
{
    uint64_t t = UINT64_MAX, x;
    size_t i;
    const pmul_txmsg *m;

    for (i = 0; i < e->tx_cnt; i++) {
        m = e->tx[i];
        x = pmul__wall_to_mono(e, m->expiry_s);
        t = x < t ? x : t;
        switch (m->phase) {
        case PMUL_TXP_REQUEST:
            t = m->phase_at < t ? m->phase_at : t;
            break;
        case PMUL_TXP_ANNOUNCE:
            if (m->announces < e->cfg.announce_ct && m->phase_at < t)
                t = m->phase_at;
            t = m->data_at < t ? m->data_at : t;
            break;
        case PMUL_TXP_WAIT:
            t = m->rtx_at < t ? m->rtx_at : t;
            t = m->emcon_at < t ? m->emcon_at : t;
            if (m->jwait) {         /* a call per message showed in CPU */
                x = pmul__txj_deadline(e, m);
                t = x < t ? x : t;
            }
            break;
        default:
            break;
        }
    }
    return t;
}

/* ---- output ------------------------------------------------------------ */

bool
pmul__tx_ready(const pmul_engine *e)
{
    size_t i;

    for (i = 0; i < e->tx_cnt; i++)
        if (e->tx[i]->phase == PMUL_TXP_SEND)
            return true;
    return false;
}

/*
 * The last part of a copy of the round's Address_PDU(s) has left, or the
 * parts still to go listed only destinations that acked meanwhile (the
 * copy ended with the part sent before).
 */
static void
addr_done(pmul_engine *e, pmul_txmsg *m)
{
    if (m->addr_tail) {
        end_round(e, m);
    } else if (m->addr_copies > 0 && m->copy_gap == 0) {
        /* EMCON: receivers cannot ask for a lost announcement. */
        m->addr_copies--;
        m->addr_next = 0;
    }
}

static ssize_t
send_address(pmul_engine *e, pmul_txmsg *m, uint8_t *out, size_t cap)
{
    size_t k0, n, j;
    pmul_pdu p;
    ssize_t len;
    /* Version 2 (a joint round) is up to 250 octets. */
    uint8_t fparams[PMUL_FEC_JOINT_PARAM_LEN(PMUL_FEC_JOINT_MAX)];
    size_t cap_d = m->fec ? e->fec_dests_cap : e->enc_dests_cap;

    drop_acked(m);
    if (m->addr_next >= m->round_cnt) {
        addr_done(e, m);            /* the rest acked meanwhile */
        return 0;
    }
    k0 = m->addr_next;
    n = m->round_cnt - k0;
    if (pmul__txj_active(m))
        cap_d = m->jt->dests_cap;       /* longer parameters, fewer dests */
    if (n > cap_d)
        n = cap_d;
    for (j = 0; j < n; j++) {
        const pmul_txdest *d = &m->dests[m->round_idx[k0 + j]];

        e->enc_dests[j].dest_id = d->id;
        e->enc_dests[j].msg_seq_no = d->msn;
        e->enc_dests[j].reserved = NULL;
    }
    memset(&p, 0, sizeof(p));
    p.type = PMUL_PDU_ADDRESS;
    p.priority = m->prio;
    if (k0 > 0)
        p.map |= PMUL_MAP_NOT_FIRST;
    if (k0 + n < m->round_cnt)
        p.map |= PMUL_MAP_NOT_LAST;
    p.source_id = e->cfg.node_id;
    p.msid = m->msid;
    p.u.address.total_pdus = m->npdus;
    p.u.address.expiry_time = (uint32_t)m->expiry_s;
    p.u.address.dest_cnt = (uint16_t)n;
    p.u.address.dests = e->enc_dests;
    if (m->fec) {
        /* Every announcement of a message with repair carries the same
         * layout (fec-contract 1); only repair_cnt follows the round. */
        pmul_fec_params fp;
        ssize_t pl;

        memset(&fp, 0, sizeof(fp));
        fp.blocks = m->lay;
        fp.symbol_len = m->sym_len;
        fp.last_len = (uint16_t)(m->len - (size_t)(m->npdus - 1) * m->frag);
        fp.repair_cnt = m->fec_round_r;
        if (pmul__txj_active(m))
            pl = pmul_fec_params_encode2(&fp, &m->jt->g, m->msid, fparams, sizeof(fparams));
        else
            pl = pmul_fec_params_encode(&fp, fparams, sizeof(fparams));
        if (pl < 0)
            return pl;
        p.type = PMUL_PDU_FEC_ADDRESS;
        p.u.address.fec_id = PMUL_FEC_ID_RS8;
        p.u.address.fec_param_len = (uint8_t)pl;
        p.u.address.fec_params = fparams;
    }
    if ((len = pmul_pdu_encode(&p, out, cap)) < 0)
        return len;
    m->addr_next += n;
    /* An Ack's hold time counts from the last part sent (rtt_sample). */
    m->addr_sent_ms = e->now_ms;
    if (m->addr_next >= m->round_cnt)
        addr_done(e, m);
    return len;
}

static ssize_t
encode_data(const pmul_engine *e, const pmul_txmsg *m, uint16_t seq, const uint8_t *frag,
            size_t flen, uint8_t *out, size_t cap)
{
    pmul_pdu p;

    memset(&p, 0, sizeof(p));
    p.type = PMUL_PDU_DATA;
    p.priority = m->prio;
    p.source_id = e->cfg.node_id;
    p.msid = m->msid;
    p.u.data.seq = seq;
    p.u.data.frag = frag;
    p.u.data.frag_len = flen;
    return pmul_pdu_encode(&p, out, cap);
}

/*
 * EMCON: receivers cannot ask for a lost announcement, so it goes
 * fec_emcon_addr times; the next copy follows copy_gap Data_PDUs after
 * the last one, while the round goes on (the repeat after the round
 * closes it).  Back to back, one loss burst could take every copy: at a
 * 20 % burst loss with bursts of 5 PDUs, three FEC_Address_PDUs of about
 * 50 octets in a row fall into one burst together.
 */
static void
copy_due(pmul_txmsg *m)
{
    if (m->addr_copies == 0 || m->copy_gap == 0 || m->phase != PMUL_TXP_SEND || m->addr_tail)
        return;
    if (++m->copy_pdus < m->copy_gap)
        return;
    m->copy_pdus = 0;
    m->addr_copies--;
    m->addr_next = 0;
}

/*
 * The round's next repair PDU (pmul__txf_repair()).  Returns 0 when none
 * is left (the round is over) or the codec failed (that repair is
 * skipped: the receivers ask again).
 */
static ssize_t
send_repair(pmul_engine *e, pmul_txmsg *m, uint8_t *out, size_t cap)
{
    uint16_t seq;
    ssize_t len = 0;

    if (pmul__txj_active(m)) {
        /* Not the carrier's own symbols: its sym_tx and rep_tx (the
         * evidence of pmul_txpeer.c) leave them out. */
        if (pmul__txj_repair(e, m, &seq) &&
            (len = encode_data(e, m, seq, e->fec_sym, m->sym_len, out, cap)) > 0) {
            e->st.fec_repair_pdus++;
            e->st.fec_joint_repairs++;
        }
    } else if (pmul__txf_repair(e, m, &seq) &&
               (len = encode_data(e, m, seq, e->fec_sym, m->sym_len, out, cap)) > 0) {
        e->st.fec_repair_pdus++;
        m->sym_tx++;
        m->rep_tx++;
    }
    if (m->rep_left == 0)
        round_over(e, m);
    else
        copy_due(m);
    return len;
}

static ssize_t
send_data(pmul_engine *e, pmul_txmsg *m, uint8_t *out, size_t cap)
{
    uint16_t seq = m->rep_active ? 0 : pmul_seqset_next_set(&m->plan, m->data_next);
    size_t off, flen;
    ssize_t len;

    if (seq == 0 && m->rep_left > 0) {
        m->rep_active = true;
        return send_repair(e, m, out, cap);
    }
    if (seq == 0) {
        round_over(e, m);
        return 0;
    }
    off = (size_t)(seq - 1) * m->frag;
    flen = m->len - off < m->frag ? m->len - off : m->frag;
    if ((len = encode_data(e, m, seq, m->payload + off, flen, out, cap)) < 0)
        return len;
    m->sym_tx++;
    if (seq > m->sent_hi)
        m->sent_hi = seq;
    /* Every source has left: a FEC receiver may complete from here on,
     * before the round's repairs are out, and its complete Ack is true
     * (netsim, 64 kbit/s at 30 %: such Acks refused cost a whole resend). */
    if (seq == m->npdus)
        m->all_sent = true;
    /* Close the round with its last PDU, so the timer starts when the
     * data has really left (pacing may have held it for minutes). */
    if (seq == 0xffff || pmul_seqset_next_set(&m->plan, (uint16_t)(seq + 1)) == 0) {
        if (m->rep_left > 0) {
            m->rep_active = true;       /* the repairs follow */
            copy_due(m);
        } else {
            round_over(e, m);
        }
    } else {
        m->data_next = (uint16_t)(seq + 1);
        copy_due(m);
    }
    return len;
}

ssize_t
pmul__tx_poll(pmul_engine *e, uint8_t *out, size_t cap, pmul_addr *to)
{
    size_t i, k;
    pmul_txmsg *m;
    ssize_t n;

    for (i = 0; i < e->tx_cnt; i++) {
        m = e->tx[i];
        /* At most four times: Address_PDU parts that all acked meanwhile
         * give way to the data; an empty remainder of the plan turns into
         * the repeated Address_PDU, whose parts may all have acked too,
         * which ends the round. */
        for (k = 0, n = 0; n == 0 && m->phase == PMUL_TXP_SEND && k < 4; k++)
            n = m->addr_next < m->round_cnt ? send_address(e, m, out, cap)
                                            : send_data(e, m, out, cap);
        if (n == 0)
            continue;
        if (n > 0) {
            *to = pmul__group_addr(m->group, e->cfg.dport);
            if (out[3] == PMUL_PDU_DATA && m->sent_rounds > 1)
                e->st.retx_data_pdus++;
        }
        return n;
    }
    return 0;
}
