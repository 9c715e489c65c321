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
 *	Acks are matched by MSID and by the acking node, which must be a
 *	destination of the message.  A deployed Java implementation puts its
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
 *	pmul_engine(3), pmul_rate(3), pmul_group(3), docs/engine.md
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "pmul/pmul_engine_int.h"
#include "pmul/util/arr.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Messages of more Data_PDUs than this probe silent receivers first. */
#define PROBE_MIN_PDUS 2u

static int check_fast(pmul_engine *e, pmul_txmsg *m);

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
    *out = &e->dst[pos];
    return 0;
}

/* The next Message_Sequence_Number for dest (1 for a destination never
 * sent to). */
uint32_t
pmul__dst_next_msn(const pmul_engine *e, uint32_t id)
{
    size_t pos = dst_pos(e, id);

    return pos < e->dst_cnt && e->dst[pos].id == id ? e->dst[pos].next_msn : 1;
}

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

static pmul_txdest *
dest_find(const pmul_txmsg *m, uint32_t id)
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
    pmul_seqset_fini(&m->plan);
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
}

/* ---- events and control PDUs ------------------------------------------- */

static void
tx_event(pmul_engine *e, const pmul_txmsg *m, int kind, uint32_t dest, int reason)
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

static bool
memo_ackack(pmul_engine *e, uint32_t msid)
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
static void
finish(pmul_engine *e, pmul_txmsg *m, int reason)
{
    size_t i;
    pmul_pdu p;
    pmul_addr to = pmul__group_addr(m->group, e->cfg.dport);

    if (reason == PMUL_REASON_NONE) {
        ctl_ackack(e, m->msid, m->prio, m->npdus, m->expiry_s, m->group);
        memo_add(e, m);
    } else {
        /* Receivers may hold fragments only once a round has started. */
        if (m->phase == PMUL_TXP_SEND || m->phase == PMUL_TXP_WAIT) {
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
            tx_event(e, m, PMUL_EV_DEST_FAILED, d->id, reason);
        }
    }
    if (m->dynamic) {
        pmul__txg_release(e, m->msid, m->group);
        pmul_groups_release(&e->groups, m->group);
    }
    tx_event(e, m, PMUL_EV_MSG_DONE, 0, reason);
    e->st.msgs_done++;
    log_emit(&e->env.log, LOG_LVL_DEBUG,
             "pmul-tx done msid=%08x acked=%zu failed=%zu reason=%s",
             (unsigned)m->msid, m->done_cnt, m->failed_cnt, pmul_reason_name(reason));
    tx_remove(e, m);
    tx_msg_free(e, m);
}

/* ---- rounds ------------------------------------------------------------ */

static bool
incomplete(const pmul_txdest *d)
{
    return d->state == PMUL_TXD_WAIT || d->state == PMUL_TXD_PARTIAL;
}

static void
count_pending(const pmul_txmsg *m, uint32_t *normal, uint32_t *emcon, bool *never)
{
    size_t i;

    *normal = *emcon = 0;
    *never = false;
    for (i = 0; i < m->dest_cnt; i++) {
        const pmul_txdest *d = &m->dests[i];

        if (!incomplete(d))
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

    m->round_cnt = 0;
    for (i = 0; i < m->dest_cnt; i++) {
        /* A probe only asks the silent ones: the others' answers stand. */
        if (!m->probe)
            m->dests[i].answered = false;
        if (incomplete(&m->dests[i]))
            m->round_idx[m->round_cnt++] = i;
    }
    pmul_seqset_clear_all(&m->plan);
    if (m->probe) {
        whole = false;
        goto planned;
    }
    if (!whole) {
        for (i = 0; i < m->dest_cnt; i++) {
            const pmul_txdest *d = &m->dests[i];

            if (d->state != PMUL_TXD_PARTIAL || d->emcon)
                continue;
            for (k = 0; k < d->miss_cnt; k++) {
                lo = d->miss[2 * k];
                hi = d->miss[2 * k + 1];
                if (pmul_seqset_set_range(&m->plan, lo, hi) != 0)
                    whole = true;   /* cannot happen: reserved */
            }
        }
    }
    if (whole || m->plan.cnt == 0)
        if (pmul_seqset_set_range(&m->plan, 1, m->npdus) != 0)
            m->plan.cnt = 0;        /* cannot happen: reserved */
planned:
    m->addr_next = 0;
    m->addr_tail = false;
    m->data_next = 1;
    m->sent_rounds++;
    m->phase = PMUL_TXP_SEND;
    m->round_emcon = emcon_round;
    m->rtx_at = UINT64_MAX;
    log_emit(&e->env.log, LOG_LVL_DEBUG,
             "pmul-tx round msid=%08x dests=%zu pdus=%u whole=%d emcon=%d probe=%d",
             (unsigned)m->msid, m->round_cnt, (unsigned)m->plan.cnt, whole, emcon_round,
             m->probe);
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
        if (o->addr_tail)
            pdus = 0;
        bytes += pdus * (e->cfg.pdu_max_len + PMUL_IPUDP_OVERHEAD);
    }
    return bytes;
}

static uint32_t
rto_for(pmul_engine *e, const pmul_txmsg *m, uint32_t pending, bool probe)
{
    pmul_rto_in in;

    memset(&in, 0, sizeof(in));
    in.pending_dests = pending;
    in.ack_len = pmul__ack_len(e);
    in.pdu_len = e->cfg.pdu_max_len;
    /* The receivers scale their spreading delay by the destination count
     * of the Address_PDU when it fits one PDU (pmul_rx.c). */
    in.ack_spread_ms = pmul_rate_ack_spread_ms(&e->rate,
                                               m->round_cnt <= e->enc_dests_cap ?
                                               (uint32_t)m->round_cnt : 0,
                                               in.ack_len, e->cfg.ack_spread_ms);
    in.ack_batch_ms = e->cfg.ack_batch_ms;
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

    m->phase = PMUL_TXP_WAIT;   /* all_sent: set by round_over(), always first */
    m->round_end_ms = e->now_ms;
    m->probed = m->probe;
    count_pending(m, &normal, &emcon, &never);
    m->rtx_at = UINT64_MAX;
    if (normal > 0) {
        rto = rto_for(e, m, normal, m->probe);
        m->rtx_at = pmul__add_ms(e->now_ms, rto);
        e->st.rto_ms = rto;
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
    if (normal > 0 && !never)
        (void)check_fast(e, m);
}

/*
 * The round's Data_PDUs are out.  With addr_repeat the Address_PDU(s) go
 * once more: a receiver that lost the first copy holds the Data_PDUs as
 * early fragments and can only ack once it learns it is addressed; without
 * the repeat it stays silent and the next round must be the whole message
 * again (7.2 step 5a).  One small PDU against a whole retransmission.
 */
/*
 * The repeated Address_PDU(s) list only the destinations that have not
 * acked the whole message by the time each part leaves: the others need
 * nothing, and each would answer its listing with its complete Ack again.
 * With 1,000 receivers the list is 8 Address_PDUs (7 s at 9.6 kbit/s) and
 * most receivers ack while it goes out.  A receiver left out of a sorted
 * list that spans its ID reads it as "not listed after my complete Ack"
 * and forgets the message, which is right: it was acked.
 */
static void
drop_acked_from_repeat(pmul_txmsg *m)
{
    size_t i, k = m->addr_next;

    for (i = m->addr_next; i < m->round_cnt; i++)
        if (incomplete(&m->dests[m->round_idx[i]]))
            m->round_idx[k++] = m->round_idx[i];
    m->round_cnt = k;
}

static void
round_over(pmul_engine *e, pmul_txmsg *m)
{
    /* Every Data_PDU has left now (the first round carries them all):
     * from here a complete Ack can be true.  Setting this only at the end
     * of the round (after the repeated Address_PDUs) refused the complete
     * Acks that came meanwhile: with 1,000 receivers, 8 Address_PDUs of
     * repeat took 7 s and most receivers' only Ack was dropped. */
    m->all_sent = true;
    if (e->cfg.addr_repeat && !m->addr_tail) {
        m->addr_tail = true;
        m->addr_next = 0;
        drop_acked_from_repeat(m);
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
    finish(e, m, reason);
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
        if ((d = dest_find(m, dest)) == NULL || !incomplete(d) || d->emcon == on)
            continue;
        d->emcon = on;
        if (m->phase != PMUL_TXP_WAIT)
            continue;
        count_pending(m, &normal, &emcon, &never);
        if (!on && m->rtx_at == UINT64_MAX)
            m->rtx_at = pmul__add_ms(e->now_ms, rto_for(e, m, normal, false));
        if (on && m->emcon_at == UINT64_MAX && m->emcon_rounds < e->cfg.emcon_rtc)
            m->emcon_at = pmul__add_ms(e->now_ms, e->cfg.emcon_rti_ms);
        if (normal == 0)
            m->rtx_at = UINT64_MAX;
    }
}

/* ---- Acks -------------------------------------------------------------- */

/*
 * Keep the missing list of one Ack_Info_Entry as ranges within 1..npdus.
 *
 * ACP 142 reads a missing list as "these are missing, the lower unlisted
 * ones arrived": it says nothing of the PDUs above its highest entry.
 * When the list may be cut short - it holds MM entries or more (the
 * receiver's cap) - those PDUs, up to the highest one sent, are kept as
 * missing too.  (A list sent before the round's last Data_PDU is not
 * extended: receivers answer the round's closing Address_PDU with a
 * fresh one, and extending it resent most of the message whenever that
 * answer was lost.)
 * Taking them as received (issue 13 item 5) left a receiver whose list
 * was full without its last PDUs and without an Ack trigger, and the
 * transmitter resent the same stale list until expiry (292 Data_PDUs in
 * 120 s for one 32-PDU message).  A later, complete list replaces this
 * one, so at worst a few PDUs go twice.
 */
static int
store_missing(pmul_engine *e, const pmul_txmsg *m, pmul_txdest *d, const pmul_ack_entry *a)
{
    size_t pos = 0;
    uint16_t lo, hi, top = 0, sent = m->all_sent ? m->npdus : m->sent_hi;
    uint32_t n = 0;
    bool tail;
    void *p;

    while (pmul_missing_next(a->missing, a->missing_cnt, &pos, &lo, &hi))
        if (lo <= m->npdus) {
            n++;
            top = hi > top ? hi : top;
        }
    tail = a->missing_cnt >= e->cfg.mm && top < sent;
    if (tail)
        n++;
    if (n > d->miss_cap) {
        if ((p = mem_realloc(e->m, d->miss, (size_t)n * 2 * sizeof(*d->miss))) == NULL)
            return PMUL_ERR_NOMEM;
        d->miss = p;
        d->miss_cap = n;
    }
    d->miss_cnt = 0;
    pos = 0;
    while (pmul_missing_next(a->missing, a->missing_cnt, &pos, &lo, &hi)) {
        if (lo > m->npdus)
            continue;
        d->miss[2 * d->miss_cnt] = lo;
        d->miss[2 * d->miss_cnt + 1] = hi > m->npdus ? m->npdus : hi;
        d->miss_cnt++;
    }
    if (tail) {
        d->miss[2 * d->miss_cnt] = (uint16_t)(top + 1);
        d->miss[2 * d->miss_cnt + 1] = sent;
        d->miss_cnt++;
    }
    return 0;
}

static void
rtt_sample(pmul_engine *e, const pmul_txmsg *m, const pmul_pdu *pdu, bool first)
{
    uint64_t hold, s;

    if (first && pdu->u.ack.has_timestamp) {
        /* The receiver held the Address_PDU this long before it acked:
         * what remains is the network round trip (docs/wire.md 7.5). */
        hold = pdu->u.ack.timestamp > UINT64_MAX / 100 ? UINT64_MAX : pdu->u.ack.timestamp * 100;
        s = e->now_ms - m->addr_sent_ms;
        if (s >= hold && s - hold <= UINT32_MAX)
            pmul_rate_sample(&e->rate, (uint32_t)(s - hold));
        return;
    }
    s = e->now_ms - m->round_end_ms;
    pmul_rate_sample_raw(&e->rate, s > UINT32_MAX ? UINT32_MAX : (uint32_t)s);
}

static int
ack_entry(pmul_engine *e, const pmul_pdu *pdu, const pmul_ack_entry *a, bool first)
{
    uint32_t acker = pdu->source_id;
    pmul_txmsg *m;
    pmul_txdest *d;
    bool after_round;

    /* Java deviation (1): Source_ID may be the acker's own ID; accepted
     * below only if the MSID names a message we sent to the acker. */
    if (a->source_id != e->cfg.node_id && a->source_id != acker)
        return pmul__drop(e, PMUL_DROP_NOT_FOR_US, PMUL_ERR_NOT_FOR_US);
    if ((m = pmul__tx_find(e, a->msid)) == NULL) {
        if (a->missing_cnt == 0 && memo_ackack(e, a->msid))
            return pmul__drop(e, PMUL_DROP_DUPLICATE, PMUL_ERR_DUPLICATE);
        return pmul__drop(e, PMUL_DROP_NOT_FOR_US, PMUL_ERR_NOTFOUND);
    }
    if ((d = dest_find(m, acker)) == NULL)
        return pmul__drop(e, PMUL_DROP_NOT_FOR_US, PMUL_ERR_NOT_FOR_US);
    if (!incomplete(d))
        return pmul__drop(e, PMUL_DROP_DUPLICATE, PMUL_ERR_DUPLICATE);
    /* "Everything received" before everything was sent cannot be true
     * (issue 13: a spoofed Ack completed a message that never left),
     * unless the message was sent before a restart. */
    if (a->missing_cnt == 0 && !m->all_sent && !m->resumed)
        return pmul__drop(e, PMUL_DROP_INCONSISTENT, PMUL_ERR_INCONSISTENT);

    /* An Ack that left after the round's last Data_PDU tells the whole
     * story of that round for its sender; earlier ones (MM, tail) may
     * not.  Only the former count as answers and as RTT samples. */
    if (m->phase == PMUL_TXP_WAIT && !d->answered)
        rtt_sample(e, m, pdu, first);
    after_round = m->phase == PMUL_TXP_WAIT || (m->phase == PMUL_TXP_SEND && m->addr_tail);
    if (after_round)
        d->answered = true;
    if (d->emcon) {
        /* A receiver that acknowledges is no longer in EMCON for this
         * message (7.2 step 4). */
        d->emcon = false;
        tx_event(e, m, PMUL_EV_DEST_EMCON_OFF, d->id, PMUL_REASON_NONE);
    }
    if (a->missing_cnt == 0) {
        d->state = PMUL_TXD_DONE;
        d->miss_cnt = 0;
        m->done_cnt++;
        e->st.dests_acked++;
        tx_event(e, m, PMUL_EV_DEST_ACKED, d->id, PMUL_REASON_NONE);
        if (m->done_cnt + m->failed_cnt == m->dest_cnt) {
            finish(e, m, PMUL_REASON_NONE);
            return 0;
        }
    } else if (store_missing(e, m, d, a) == 0) {
        d->state = PMUL_TXD_PARTIAL;
    } else {
        /* Without its list we must resend it everything. */
        d->state = PMUL_TXD_WAIT;
        d->miss_cnt = 0;
        (void)pmul__drop(e, PMUL_DROP_NOMEM, PMUL_ERR_NOMEM);
    }
    if (m->phase != PMUL_TXP_WAIT)
        return 0;
    return check_fast(e, m);
}

/*
 * Everyone outstanding answered after the round: retransmit now instead
 * of waiting for the timer (and without a back-off step: nothing was
 * lost, the transmitter just knows all it is going to learn).
 */
static int
check_fast(pmul_engine *e, pmul_txmsg *m)
{
    uint32_t normal, emcon;
    bool never;

    count_pending(m, &normal, &emcon, &never);
    if (normal == 0) {
        m->rtx_at = UINT64_MAX;
    } else if (!never) {
        size_t i;
        bool all = true;

        for (i = 0; i < m->dest_cnt; i++)
            if (incomplete(&m->dests[i]) && !m->dests[i].emcon && !m->dests[i].answered)
                all = false;
        if (all) {
            e->st.retx_rounds++;
            pmul__tx_start_round(e, m, false, false);
        }
    }
    return 0;
}

/*
 * Entry i names the acker itself (quirk D1) and the same Ack_PDU has a
 * conformant entry (naming us) for the same message: it is the copy that
 * a compatibility mode adds for transmitters that want it, and carries
 * nothing more.
 */
static bool
self_naming_copy(const pmul_engine *e, const pmul_pdu *pdu, uint16_t i)
{
    const pmul_ack_entry *a = &pdu->u.ack.entries[i];
    uint16_t k;

    if (a->source_id != pdu->source_id || a->source_id == e->cfg.node_id)
        return false;
    for (k = 0; k < pdu->u.ack.entry_cnt; k++)
        if (pdu->u.ack.entries[k].source_id == e->cfg.node_id &&
            pdu->u.ack.entries[k].msid == a->msid)
            return true;
    return false;
}

int
pmul__tx_on_ack(pmul_engine *e, const pmul_pdu *pdu)
{
    int err = 0, r;
    uint16_t i;

    for (i = 0; i < pdu->u.ack.entry_cnt; i++) {
        if (self_naming_copy(e, pdu, i))
            continue;
        r = ack_entry(e, pdu, &pdu->u.ack.entries[i], i == 0);
        if (r != 0 && err == 0)
            err = r;
    }
    return err;
}

/* ---- timers ------------------------------------------------------------ */

/* Returns true when m was freed. */
static bool
tx_timers(pmul_engine *e, pmul_txmsg *m)
{
    uint32_t normal, emcon;
    bool never, rtx_fire, emcon_fire;

    if (e->wall_s >= m->expiry_s) {
        finish(e, m, PMUL_REASON_EXPIRED);
        return true;
    }
    switch (m->phase) {
    case PMUL_TXP_REQUEST:
    case PMUL_TXP_ANNOUNCE:
        pmul__txg_timers(e, m);
        break;
    case PMUL_TXP_WAIT:
        count_pending(m, &normal, &emcon, &never);
        rtx_fire = normal > 0 && e->now_ms >= m->rtx_at;
        emcon_fire = emcon > 0 && e->now_ms >= m->emcon_at &&
                     m->emcon_rounds < e->cfg.emcon_rtc;
        if (!rtx_fire && !emcon_fire)
            break;
        if (rtx_fire)
            m->rounds++;
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
        m->probe = never && !emcon_fire && !m->probed && m->npdus > PROBE_MIN_PDUS;
        pmul__tx_start_round(e, m, never || emcon_fire, emcon_fire);
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

static ssize_t
send_address(pmul_engine *e, pmul_txmsg *m, uint8_t *out, size_t cap)
{
    size_t k0, n, j;
    pmul_pdu p;
    ssize_t len;

    if (m->addr_tail) {
        drop_acked_from_repeat(m);
        if (m->addr_next >= m->round_cnt) {
            end_round(e, m);        /* everyone acked meanwhile */
            return 0;
        }
    }
    k0 = m->addr_next;
    n = m->round_cnt - k0;
    if (n > e->enc_dests_cap)
        n = e->enc_dests_cap;
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
    if ((len = pmul_pdu_encode(&p, out, cap)) < 0)
        return len;
    m->addr_next += n;
    if (m->addr_next >= m->round_cnt) {
        m->addr_sent_ms = e->now_ms;
        if (m->addr_tail)
            end_round(e, m);
    }
    return len;
}

static ssize_t
send_data(pmul_engine *e, pmul_txmsg *m, uint8_t *out, size_t cap)
{
    uint16_t seq = pmul_seqset_next_set(&m->plan, m->data_next);
    size_t off, flen;
    pmul_pdu p;
    ssize_t len;

    if (seq == 0) {
        round_over(e, m);
        return 0;
    }
    off = (size_t)(seq - 1) * m->frag;
    flen = m->len - off < m->frag ? m->len - off : m->frag;
    memset(&p, 0, sizeof(p));
    p.type = PMUL_PDU_DATA;
    p.priority = m->prio;
    p.source_id = e->cfg.node_id;
    p.msid = m->msid;
    p.u.data.seq = seq;
    p.u.data.frag = m->payload + off;
    p.u.data.frag_len = flen;
    if ((len = pmul_pdu_encode(&p, out, cap)) < 0)
        return len;
    if (seq > m->sent_hi)
        m->sent_hi = seq;
    /* Close the round with its last PDU, so the timer starts when the
     * data has really left (pacing may have held it for minutes). */
    if (seq == 0xffff || pmul_seqset_next_set(&m->plan, (uint16_t)(seq + 1)) == 0)
        round_over(e, m);
    else
        m->data_next = (uint16_t)(seq + 1);
    return len;
}

ssize_t
pmul__tx_poll(pmul_engine *e, uint8_t *out, size_t cap, pmul_addr *to)
{
    size_t i;
    pmul_txmsg *m;
    ssize_t n;

    for (i = 0; i < e->tx_cnt; i++) {
        m = e->tx[i];
        /* At most twice: an empty remainder of the plan turns into the
         * repeated Address_PDU without a PDU in between. */
        for (n = 0; n == 0 && m->phase == PMUL_TXP_SEND;) {
            bool addr = m->addr_next < m->round_cnt;

            n = addr ? send_address(e, m, out, cap) : send_data(e, m, out, cap);
            if (n == 0 && addr)
                break;
        }
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
