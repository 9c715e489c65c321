/*
 * NAME
 *	pmul_txack - the transmitter's side of Ack_PDUs
 * SYNOPSIS
 *	#include "pmul/pmul_engine_int.h"
 * DESCRIPTION
 *	What an Ack_PDU changes for the messages we send (docs/wire.md 7.2
 *	step 4, pmul_tx.c for the rounds it starts):
 *
 *	entry	each Ack_Info_Entry naming one of our messages and sent by a
 *		destination of it: an empty list completes the destination,
 *		a missing list is kept as ranges (cut-short lists extended,
 *		store_missing()); the round trip is sampled; what it tells of
 *		the destination's FEC and loss goes to pmul_txpeer.c and
 *		pmul_txfec.c.
 *	fast	once every outstanding destination answered the round, the
 *		next round starts at once (pmul__tx_check_fast(), also called
 *		when a round ends), or waits for a joint round
 *		(pmul_txjoint.c).
 *	quirk	entries that name the acker itself (a deployed Java peer)
 *		are matched by MSID and acker; a self-naming copy beside a
 *		conformant entry carries nothing more.
 * SECURITY
 *	Ack_PDUs are untrusted: an entry changes only the state of the
 *	destination that sent it, lists are clamped to the message's PDU
 *	count and kept up to max_missing ranges.
 * DIAGNOSTICS
 *	Drops counted by reason.
 * SEE ALSO
 *	pmul_tx.c, pmul_txfec.c, pmul_txpeer.c, pmul_txjoint.c, docs/engine.md 2
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "pmul/pmul_engine_int.h"

#include <string.h>

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
        if (a->missing_cnt == 0 && pmul__tx_memo_ackack(e, a->msid))
            return pmul__drop(e, PMUL_DROP_DUPLICATE, PMUL_ERR_DUPLICATE);
        return pmul__drop(e, PMUL_DROP_NOT_FOR_US, PMUL_ERR_NOTFOUND);
    }
    if ((d = pmul__txdest_find(m, acker)) == NULL)
        return pmul__drop(e, PMUL_DROP_NOT_FOR_US, PMUL_ERR_NOT_FOR_US);
    if (!pmul__txd_incomplete(d))
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
    if (after_round && d->state == PMUL_TXD_WAIT && m->data_rounds == 1)
        pmul__txf_loss_sample(e, m, d, a);
    if (after_round) {
        d->answered = true;
        m->answer_seen = true;
    }
    if (m->phase == PMUL_TXP_SEND)
        d->heard = true;
    pmul__txp_on_ack(e, m, d, a);
    d->sym_mark = m->sym_tx;
    d->rep_mark = m->rep_tx;
    if (d->emcon) {
        /* A receiver that acknowledges is no longer in EMCON for this
         * message (7.2 step 4). */
        d->emcon = false;
        pmul__tx_event(e, m, PMUL_EV_DEST_EMCON_OFF, d->id, PMUL_REASON_NONE);
    }
    if (a->missing_cnt == 0) {
        d->state = PMUL_TXD_DONE;
        d->miss_cnt = 0;
        m->done_cnt++;
        e->st.dests_acked++;
        pmul__tx_event(e, m, PMUL_EV_DEST_ACKED, d->id, PMUL_REASON_NONE);
        if (m->done_cnt + m->failed_cnt == m->dest_cnt) {
            pmul__tx_finish(e, m, PMUL_REASON_NONE);
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
    if (m->phase == PMUL_TXP_SEND && m->fec && m->all_sent && m->rep_left > 0 &&
        !pmul__txj_active(m))
        pmul__txf_trim(m);
    if (m->phase != PMUL_TXP_WAIT)
        return 0;
    return pmul__tx_check_fast(e, m);
}

/*
 * Everyone outstanding answered after the round: retransmit now instead
 * of waiting for the timer (and without a back-off step: nothing was
 * lost, the transmitter just knows all it is going to learn).
 */
int
pmul__tx_check_fast(pmul_engine *e, pmul_txmsg *m)
{
    uint32_t normal, emcon;
    bool never;
    uint64_t at;

    pmul__tx_count_pending(m, &normal, &emcon, &never);
    if (normal == 0) {
        m->rtx_at = UINT64_MAX;
        return 0;
    }
    if (m->jwait)
        return 0;       /* its round is due already, in a joint one */
    /* The timer was armed on the guessed round trip (2 PDU airtimes +
     * 300 ms: 2 s at 9.6 kbit/s) and this Ack brought the first sample:
     * arm it from the sample.  A receiver whose Ack was lost after the
     * first round otherwise cost the whole guess (netsim, rm-bench's 10 kB
     * mail to 2 receivers: the timer 3.15 s, the answers in 0.1 s). */
    if (m->rtt_guess && m->rtx_at != UINT64_MAX && m->phase == PMUL_TXP_WAIT &&
        (e->rate.have_sample || e->rate.raw_cnt > 0)) {
        m->rtt_guess = false;
        at = pmul__add_ms(m->round_end_ms, pmul__tx_rto_for(e, m, normal, m->round_probe));
        if (at < e->now_ms)
            at = e->now_ms;     /* a late sample: due now, never in the past */
        if (at < m->rtx_at)
            m->rtx_at = at;
    }
    /* Someone answered with a need: once every answer the round can
     * bring has had time to come, serve it rather than wait out the
     * timer for the silent ones, which that round asks again (tx_timers).
     * At 64 kbit/s the timer is 5-8 PDU airtimes and the answers come
     * in one (netsim, issue 12).  The same when the answers that came
     * need nothing and only silent ones remain: their answer was lost,
     * and asking them once the window has passed costs an Address_PDU
     * where the timer cost 3 s at 9.6 kbit/s (netsim, 10 KB to 2
     * receivers at 10 %: a lost round-1 Ack took the mail past 2x its
     * limit).  Only while m is alone on the link (pmul__tx_others_sending). */
    if (m->rtx_at != UINT64_MAX && m->phase == PMUL_TXP_WAIT &&
        (e->rate.have_sample || e->rate.raw_cnt > 0) &&
        (pmul__tx_fresh_need(m) || (m->answer_seen && pmul__tx_can_ask(e, m, normal))) &&
        !pmul__tx_others_sending(e, m)) {
        at = pmul__add_ms(m->round_end_ms, pmul__tx_collect_ms(e, m, normal));
        if (at < e->now_ms)
            at = e->now_ms;     /* the window is over: due now */
        if (at < m->rtx_at) {
            m->rtx_at = at;
            m->collect = true;
        }
    }
    if (!never) {
        size_t i;
        bool all = true;

        for (i = 0; i < m->dest_cnt; i++)
            if (pmul__txd_incomplete(&m->dests[i]) && !m->dests[i].emcon && !m->dests[i].answered)
                all = false;
        if (all) {
            e->st.retx_rounds++;
            m->asks = 0;
            if (!pmul__txj_wait(e, m))
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
    size_t k;

    pmul__txp_on_ack_pdu(e, pdu);
    e->jt_in_ack = true;
    for (i = 0; i < pdu->u.ack.entry_cnt; i++) {
        if (self_naming_copy(e, pdu, i))
            continue;
        r = ack_entry(e, pdu, &pdu->u.ack.entries[i], i == 0);
        if (r != 0 && err == 0)
            err = r;
    }
    /* Members of a joint round whose answers stand (pmul_txjoint.c). */
    for (k = 0; k < e->tx_cnt; k++)
        if (e->tx[k]->jkick) {
            e->tx[k]->jkick = false;
            (void)pmul__tx_check_fast(e, e->tx[k]);
        }
    /* One Ack_PDU answers every member of a joint round (10.8, receiver
     * 4): serve the candidates once all of it is read, so that the set
     * can go again whole rather than as the first member alone. */
    e->jt_in_ack = false;
    pmul__txj_flush(e);
    return err;
}
