/*
 * NAME
 *	pmul_rxack - the receiver's Acks: when they are owed, the tail timer,
 *	the missing lists and the Ack_PDUs
 * SYNOPSIS
 *	#include "pmul/pmul_engine_int.h"
 * DESCRIPTION
 *	The Ack half of the receiver (docs/wire.md 7.3), split from the
 *	message state machine in pmul_rx.c: a message owes an Ack (spread
 *	over a random delay against implosion, batched per transmitter by
 *	pmul_ackq); the tail timer calls a round quiet after the airtime of
 *	the PDUs still missing; missing lists carry at most MM new numbers
 *	and stay a prefix of the missing set; re-acks of a message whose
 *	transmitter sends nothing are bounded, and on a shared channel
 *	with many receivers wait for the source to go quiet; after EMCON
 *	every owed Ack is re-spread.  Transmitters configured for it get a self-naming copy of
 *	each entry (pmul_engine_set_self_naming_acks).
 * SECURITY
 *	Everything here answers peer input; the number of Acks a message
 *	draws is bounded (RX_IDLE_ACKS_MAX) and Acks never starve our own
 *	traffic (pmul_engine.c).
 * SEE ALSO
 *	pmul_rx.c (the message state machine), pmul_ackq(3)
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "pmul/pmul_engine_int.h"

#include <string.h>

/* ---- Acks -------------------------------------------------------------- */

/*
 * Owe an Ack, due after a random delay against Ack implosion.  Its bound
 * grows with the number of receivers listed in the Address_PDU (two Ack
 * airtimes each, ack_spread_ms at most): three receivers need not wait a
 * second to avoid colliding, three hundred must.
 */
uint64_t
pmul__rx_ack_due(pmul_engine *e, const pmul_rxmsg *m)
{
    uint32_t bound = pmul_rate_ack_spread_ms(&e->rate, m->ndests, pmul__ack_len(e),
                                             e->cfg.ack_spread_ms);

    return pmul__add_ms(e->now_ms, pmul__rand_delay(e, bound));
}

void
pmul__rx_owe_ack(pmul_engine *e, pmul_rxmsg *m)
{
    pmul__rx_owe_ack_at(e, m, pmul__rx_ack_due(e, m));
}

/* The joint answer (pmul_rxjoint.c) owes several at one draw: pmul_ackq
 * batches a source's entries due together into one Ack_PDU. */
void
pmul__rx_owe_ack_at(pmul_engine *e, pmul_rxmsg *m, uint64_t due)
{
    if (pmul_ackq_schedule(&e->ackq, m->src, m->msid, due) != 0) {
        /* Owed all the same: the message timer tries again (for a
         * complete message nothing else would: the transmitter waits for
         * this Ack). */
        (void)pmul__drop(e, PMUL_DROP_NOMEM, PMUL_ERR_NOMEM);
        m->ack_at = pmul__add_ms(e->now_ms, 1000);
    }
}

/* Missing Data_PDUs after the last one seen this round: what the tail
 * timer waits for.  With FEC, after a source also the round's announced
 * repairs; after a repair (numbered above Total) the symbols still
 * needed, since further repairs may follow. */
static uint32_t
missing_after_last(const pmul_rxmsg *m)
{
    uint16_t last = m->last_seq < m->total ? m->last_seq : m->total;
    uint32_t have = pmul_seqset_count_upto(&m->rob.have, m->total) -
                    pmul_seqset_count_upto(&m->rob.have, last);
    uint32_t miss = (uint32_t)(m->total - last) - have;

    if (m->fecd == NULL)
        return miss;
    if (m->last_seq > m->total)
        return m->fecd->need;
    return miss + (uint32_t)m->fecd->repair_cnt * m->fecd->p.blocks.block_cnt;
}

/*
 * How long a round may stay silent before we call it over: (missing PDUs
 * after the last one seen + 1/2) inter-PDU intervals (the half interval
 * covers the repeated Address_PDU and jitter; it was + 2, which kept the
 * link idle for 1.5 intervals per lossy round: docs/engine.md).  The interval is the
 * larger of the airtime of a full PDU at the configured rate and the
 * interval observed between this message's PDUs (a slower link, a
 * transmitter pacing below our configured rate, or a capture replayed
 * at its own pace: pmul_basic.pcap sends a PDU every 500 ms, and a
 * rate-only wait acked "missing 2" just before Data 2 arrived).  At
 * least tail_floor_ms (the transmitter budgets the same floor), at most
 * ACK_PDU_TIME.
 */
static uint32_t
wait_ms(const pmul_engine *e, const pmul_rxmsg *m, uint32_t miss)
{
    uint32_t t = pmul_rate_tail_ms(&e->rate, miss, e->cfg.pdu_max_len, e->cfg.tail_floor_ms,
                                   e->cfg.ack_pdu_time_ms);
    uint64_t obs = ((uint64_t)miss * 2u + 1u) * m->pdu_gap_ms / 2u;

    if (obs > e->cfg.ack_pdu_time_ms)
        obs = e->cfg.ack_pdu_time_ms;
    return obs > t ? (uint32_t)obs : t;
}

uint32_t
pmul__rx_tail_ms(const pmul_engine *e, const pmul_rxmsg *m)
{
    return m->probe_wait ? wait_ms(e, m, 1) : wait_ms(e, m, missing_after_last(m));
}

/*
 * A Data_PDU of m arrived: sample the interval since its previous PDU
 * (Address or Data) while the round is going on.  Between rounds (after
 * our Ack) the interval is the transmitter's timer, not its pace, so it is
 * not sampled.  The estimate follows increases at once and decays by 1/4
 * of the difference per sample.
 */
void
pmul__rx_note_pdu_gap(const pmul_engine *e, pmul_rxmsg *m)
{
    uint64_t d;

    if (m->state == PMUL_RXS_ACTIVE && !m->round_acked && m->pdu_rx_ms != 0 &&
        e->now_ms >= m->pdu_rx_ms) {
        d = e->now_ms - m->pdu_rx_ms;
        if (d > e->cfg.ack_pdu_time_ms)
            d = e->cfg.ack_pdu_time_ms;
        if (d >= m->pdu_gap_ms)
            m->pdu_gap_ms = (uint32_t)d;
        else
            m->pdu_gap_ms = (uint32_t)((3u * (uint64_t)m->pdu_gap_ms + d) / 4);
    }
    m->pdu_rx_ms = e->now_ms;
}

/*
 * Do the Acks of m's receivers take the air its source sends on, more of
 * it than one full Data_PDU?  On a shared channel (cfg.shared_medium)
 * every receiver's Ack does, and each listed receiver answers on its own
 * rules: once the destinations' Acks (at the size the transmitter
 * budgets, pmul__ack_len) exceed a Data_PDU, from 12 receivers on, an
 * Ack that most likely carries nothing new costs the source more than it
 * may save.  The same comparison as the transmitter's probe_pays(): a few
 * receivers' Acks are always cheaper than one Data_PDU.  A list split
 * over several Address_PDUs (ndests 0) is longer than one PDU holds.
 */
bool
pmul__rx_acks_take_air(const pmul_engine *e, const pmul_rxmsg *m)
{
    if (!e->cfg.shared_medium)
        return false;
    if (m->ndests == 0)
        return true;
    return pmul__acks_air(e, m->ndests) > pmul__pdus_air(e, 1);
}

/*
 * Until when the source's last PDU (s->last_ms, any message of it) holds
 * back the Ack that m's timer owes; 0 if it does not.
 *
 * The tail: pre-emption by another message is not the end of a round,
 * so the quiet it waits for restarts with any PDU of the source.  Not
 * when that PDU was our own Address_PDU in a probe wait: a copy of the
 * probe, which must not postpone the answer (rx_on_address_body).
 *
 * The re-ack (ACK_PDU_TIME after an Ack with missing numbers, when
 * "neither the missing Data_PDUs nor a new Address_PDU arrive", ACP 142
 * 7.3): where the Acks take the source's air (pmul__rx_acks_take_air), the timer
 * restarts with any PDU of the source, so that ACK_PDU_TIME is counted
 * from the source's last transmission.  A transmitter that keeps sending
 * is alive and working through its queue; the Ack it lacks (ours lost)
 * it asks for itself, by its retransmission timer (a probe, or the round
 * that resends the last lists).  On one shared 9.6 kbit/s channel with
 * 100 receivers, 100 mails (netsim-bench shared, seed 1) drew 39,903
 * re-acks beside 106,035 Ack_PDUs in all, 99.6 % of them within 10 s of
 * a PDU of the source, and each
 * one with a need drew a round, whose Address_PDU drew an Ack from every
 * pending receiver.  On links of their own the receivers' Acks cost the
 * source nothing, while its timer, which counts its queue, sits at its
 * 120 s maximum behind 100 mails: there the re-ack every ACK_PDU_TIME is
 * what drives a lost round, and taking it away made 100 mails to 1-4
 * receivers 1-2 % slower.  The re-ack still leaves ACK_PDU_TIME after
 * the source goes quiet (then RX_IDLE_ACKS_MAX bounds them).
 */
uint64_t
pmul__rx_held_until(const pmul_engine *e, const pmul_rxmsg *m, const pmul_rxsrc *s)
{
    if (!m->round_acked)
        return (m->probe_wait && s->last_ms == m->addr_rx_ms) || pmul__src_moved_past(s, m)
               ? 0 : pmul__add_ms(s->last_ms, pmul__rx_tail_ms(e, m));
    return pmul__rx_acks_take_air(e, m) ? pmul__add_ms(s->last_ms, e->cfg.ack_pdu_time_ms) : 0;
}

/* Tail mode until an Ack leaves in this round, ACK_PDU_TIME after. */
void
pmul__rx_arm_tail(pmul_engine *e, pmul_rxmsg *m)
{
    m->ack_at = pmul__add_ms(e->now_ms, pmul__rx_tail_ms(e, m));
}

/*
 * Gaps found since the last Ack was built: missing numbers between the
 * highest number held then and the highest held now.  Numbers below were
 * either reported or cut by the MM limit; those are reported again by the
 * "highest previously missing" trigger, not by this count (which would
 * otherwise fire on every PDU after an MM-limited Ack).
 */
/* Highest source number held (repair symbols live above the Total). */
static uint16_t
held_hi(const pmul_rxmsg *m)
{
    return m->total != 0 && m->rob.have.hi > m->total ? m->total : m->rob.have.hi;
}

uint32_t
pmul__rx_new_gaps(const pmul_rxmsg *m)
{
    uint16_t hi = held_hi(m);

    if (hi <= m->ack_hi)
        return 0;
    return (uint32_t)(hi - m->ack_hi) -
           (pmul_seqset_count_upto(&m->rob.have, hi) - pmul_seqset_count_upto(&m->rob.have, m->ack_hi));
}

/*
 * Write the missing list of m into out (at most avail words): ascending,
 * every number already reported and at most MM new ones, stopping at the
 * first new number beyond MM so that the list stays a prefix.  A FEC
 * message lists, of each block it cannot decode yet, exactly as many of
 * its lowest missing sources as it needs symbols (fec-contract 3), never
 * a repair number.
 */
static uint16_t
build_missing(pmul_engine *e, pmul_rxmsg *m, uint16_t *out, size_t avail)
{
    uint32_t s = 1, fresh = 0;
    uint16_t n = 0, last = 0, seq;

    while (n < avail && s <= m->total) {
        seq = m->fecd != NULL ? pmul__rx_fec_next_missing(m, s)
                              : pmul_seqset_next_clear(&m->rob.have, (uint16_t)s, m->total);
        if (seq == 0)
            break;
        if (!pmul_seqset_has(&m->reported, seq)) {
            if (fresh >= e->cfg.mm)
                break;
            if (pmul_seqset_set(&m->reported, seq) < 0)
                break;
            fresh++;
        }
        out[n++] = seq;
        last = seq;
        s = (uint32_t)seq + 1;
    }
    m->reported_hi = last;
    m->ack_hi = held_hi(m);
    return n;
}

/* Re-acks of an incomplete message while its transmitter sends nothing
 * of it (ACK_PDU_TIME apart: a minute at the default). */
#define RX_IDLE_ACKS_MAX 6

/*
 * The complete Ack is the one whose loss costs most: the receiver has
 * everything and says nothing more unless asked, and at 30 % loss in
 * each direction half the transmitter's asks fail too (rm-bench, 100 KB
 * text at 64 kbit/s: the last complete Acks took 0.85 s of 7.8 s on
 * average).  Where our Acks cost the source no air (a link of our own),
 * a copy follows one full PDU's airtime later, so that one loss, or a
 * short burst, does not take both: when a missing list left before, and
 * for every message announced with FEC, even one that lost nothing: a
 * transmitter that never heard of a destination keeps the message out of
 * joint rounds (pmul_txjoint.c) and asks it by a probe after its timer,
 * which sits at its maximum behind a queue (100 mails to 4 receivers at
 * 10 %: a third of the mails; netsim-bench air 1.26x the limit without
 * the copy, 1.25x with it).  The transmitter answers
 * a late complete Ack of a finished message with at most one Ack-Ack
 * per ack_rtx_min, more than the copy's gap.
 */
static bool
complete_copy_pays(const pmul_engine *e, const pmul_rxmsg *m, bool lost_some)
{
    return (lost_some || m->fec) && !e->cfg.shared_medium;
}

static uint32_t
complete_copy_gap_ms(const pmul_engine *e)
{
    uint32_t t = pmul_rate_airtime_ms(&e->rate, e->cfg.pdu_max_len);

    return t < 20 ? 20 : t > 1000 ? 1000 : t;
}

static void
ack_sent(pmul_engine *e, pmul_rxmsg *m)
{
    bool lost_some = m->acked_once;     /* a missing list left before */

    m->tail_owed = false;
    m->probe_wait = false;
    m->acked_once = true;
    m->round_acked = true;
    m->last_ack_ms = e->now_ms;
    if (m->idle_acks < UINT8_MAX)
        m->idle_acks++;
    if (m->state == PMUL_RXS_COMPLETE) {
        bool first = !m->complete_acked;

        m->complete_acked = true;
        m->ack_at = UINT64_MAX;
        if (first && complete_copy_pays(e, m, lost_some))
            m->ack_at = pmul__add_ms(e->now_ms, complete_copy_gap_ms(e));
    } else if (m->idle_acks >= RX_IDLE_ACKS_MAX) {
        /* The transmitter has sent nothing of it through that many Acks:
         * gone, in EMCON, or a hostile node that made us track a message
         * to make us Ack for ever (issue 13, Ack storm).  Stay quiet until
         * it sends again; its next Address_PDU or Data_PDU re-arms us. */
        m->ack_at = UINT64_MAX;
    } else {
        m->ack_at = pmul__add_ms(e->now_ms, e->cfg.ack_pdu_time_ms);
    }
}

/*
 * May an Ack entry for m leave now?  An incomplete message: its missing
 * list.  A complete one: the complete Ack, unless the application has not
 * accepted it yet (accept mode).  Never for a message that holds every
 * fragment but was not delivered (the DELIVERED event or the accept room
 * is still to come): its missing list would be empty, and an empty list
 * says "received" to the transmitter.
 */
static bool
ackable(const pmul_rxmsg *m)
{
    if (m->state == PMUL_RXS_ACTIVE)
        return !pmul_rob_is_complete(&m->rob);
    return m->state == PMUL_RXS_COMPLETE && !m->awaiting;
}

ssize_t
pmul__rx_poll_ack(pmul_engine *e, uint8_t *out, size_t cap, pmul_addr *to)
{
    size_t n, k, space, avail, used, cnt;
    uint64_t ts_hold = 0;
    pmul_rxmsg *m, *first;
    uint32_t src;
    uint8_t prio;
    pmul_pdu p;
    ssize_t len;
    bool self_ack;
    size_t msgs;

    for (;;) {
        n = pmul_ackq_peek(&e->ackq, e->now_ms, e->cfg.ack_batch_ms, e->enc_batch,
                           e->enc_batch_cap);
        if (n == 0)
            return 0;
        src = e->enc_batch[0].src;
        self_ack = pmul__wants_self_ack(e, src);
        msgs = 0;
        space = e->cfg.pdu_max_len - PMUL_ACK_HDR_LEN -
                (e->cfg.ack_timestamp ? PMUL_ACK_TIMESTAMP_LEN : 0);
        used = cnt = 0;
        prio = 0xff;
        first = NULL;
        for (k = 0; k < n; k++) {
            m = pmul__rx_find(e, src, e->enc_batch[k].msid);
            if (m == NULL || !ackable(m)) {
                pmul_ackq_remove(&e->ackq, src, e->enc_batch[k].msid);
                continue;
            }
            /* A self-naming copy needs a second entry header and as many
             * missing words again. */
            if (space < (self_ack ? 2u : 1u) * PMUL_ACK_ENTRY_HDR_LEN ||
                cnt + (self_ack ? 2u : 1u) > e->enc_batch_cap)
                break;                  /* the rest go in the next Ack_PDU */
            if (msgs == 1 && e->cfg.ack_timestamp)
                break;                  /* one message per timestamped Ack */
            avail = (space - (self_ack ? 2u : 1u) * PMUL_ACK_ENTRY_HDR_LEN) /
                    (self_ack ? 4u : 2u);
            if (avail > e->enc_missing_cap - used)
                avail = e->enc_missing_cap - used;
            e->enc_acks[cnt].source_id = src;
            e->enc_acks[cnt].msid = m->msid;
            e->enc_acks[cnt].missing_cnt = m->state == PMUL_RXS_COMPLETE ? 0 :
                                           build_missing(e, m, e->enc_missing + used, avail);
            e->enc_acks[cnt].missing = e->enc_missing + used;
            used += e->enc_acks[cnt].missing_cnt;
            space -= PMUL_ACK_ENTRY_HDR_LEN + 2u * e->enc_acks[cnt].missing_cnt;
            cnt++;
            msgs++;
            if (self_ack) {
                /* The same entry naming us (quirk D1), sharing its list. */
                e->enc_acks[cnt] = e->enc_acks[cnt - 1];
                e->enc_acks[cnt].source_id = e->cfg.node_id;
                space -= PMUL_ACK_ENTRY_HDR_LEN + 2u * e->enc_acks[cnt].missing_cnt;
                cnt++;
            }
            if (m->prio < prio)
                prio = m->prio;
            if (first == NULL) {
                first = m;
                ts_hold = (e->now_ms - m->addr_rx_ms) / 100;
            }
            ack_sent(e, m);
            pmul__rx_retime(e, m);
            pmul_ackq_remove(&e->ackq, src, m->msid);
        }
        if (cnt == 0)
            continue;
        memset(&p, 0, sizeof(p));
        p.type = PMUL_PDU_ACK;
        p.priority = prio;
        p.source_id = e->cfg.node_id;
        p.u.ack.entry_cnt = (uint16_t)cnt;
        p.u.ack.entries = e->enc_acks;
        /* Decision 8: the timestamp option only when configured.  It is
         * the holding time since the Address_PDU, and an Ack_PDU has one
         * timestamp: with the option on, each Ack_PDU carries the entry
         * of one message only, so the time is unambiguous for any peer
         * (a batch would time only its first entry; 22 octets more per
         * extra message, and the option is off by default). */
        p.u.ack.has_timestamp = e->cfg.ack_timestamp;
        p.u.ack.timestamp = ts_hold;
        if ((len = pmul_pdu_encode(&p, out, cap)) < 0)
            return len;
        to->ip = src;
        to->port = e->cfg.aport;
        to->is_multicast = false;
        return len;
    }
}

static uint64_t
spread_due(void *arg, uint32_t src)
{
    pmul_engine *e = arg;

    (void)src;
    return pmul__add_ms(e->now_ms, pmul__rand_delay(e, e->cfg.ack_spread_ms));
}

void
pmul__rx_emcon_lifted(pmul_engine *e)
{
    size_t i;
    pmul_rxmsg *m;

    /* Every message we hold state for is owed an Ack: the complete ones
     * not yet acknowledged, and the incomplete ones with their lists. */
    for (i = 0; i < e->rx_cnt; i++) {
        m = e->rx[i];
        if ((m->state == PMUL_RXS_ACTIVE && ackable(m)) ||
            (m->state == PMUL_RXS_COMPLETE && !m->complete_acked && !m->awaiting))
            if (pmul_ackq_schedule(&e->ackq, m->src, m->msid, e->now_ms) != 0)
                (void)pmul__drop(e, PMUL_DROP_NOMEM, PMUL_ERR_NOMEM);
    }
    pmul_ackq_respread(&e->ackq, spread_due, e);
}
