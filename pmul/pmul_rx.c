/*
 * NAME
 *	pmul_rx - the P_MUL receiver's message state machine and reassembly
 * SYNOPSIS
 *	#include "pmul/pmul_engine_int.h"
 * DESCRIPTION
 *	Receive state of every message sent to this node (docs/wire.md 7.3):
 *
 *	EARLY	Data_PDUs seen before their Address_PDU are held for
 *		early_data_ms (the Unidentified_Data_PDU validity timer).
 *	ACTIVE	the Address_PDU lists us: fragments are reassembled
 *		(pmul_rob), Acks are owed by the rules of 7.3 - the last
 *		Data_PDU seen for the first time, the highest previously
 *		missing one arriving, MM missing numbers not yet reported,
 *		ACK_PDU_TIME without progress after an Ack with missing
 *		numbers - and scheduled with a random spreading delay through
 *		pmul_ackq, which batches Acks to one transmitter.  A missing
 *		list carries at most MM new numbers and is a prefix of the
 *		missing set, so "lower unlisted numbers were received" holds.
 *		One more trigger of ours: when a round goes quiet before its
 *		last Data_PDU arrived (the "tail" timer, the airtime of the
 *		PDUs still missing plus half of one), the receiver acks its missing
 *		list; without it, a lost last PDU would cost a whole-message
 *		retransmission to every receiver that lost it.  (The Acks
 *		themselves - when owed, the tail timer, missing lists,
 *		Ack_PDUs - are in pmul_rxack.c.)
 *	COMPLETE delivered (DELIVERED event, payload handed over).  The
 *		entry stays, without data, to answer duplicates with the
 *		complete Ack, until an Ack-Ack (or a re-sent Address_PDU
 *		that no longer lists us), a Discard_Message_PDU or the
 *		expiry time; then its MSID is kept in the source's delivered
 *		set (pmul_doneset) until the expiry time, so that a late
 *		copy is never delivered twice.
 *	IGNORED	an Address_PDU said the message is not for us: its later
 *		PDUs are dropped without holding anything.
 *
 *	Whether an Address_PDU lists us is decided over MAP-split lists
 *	from the sorted order: a part that spans our ID without naming us,
 *	or the first (last) part starting above (ending below) it, proves
 *	absence; otherwise the answer waits for the other parts.
 *
 *	Message_Sequence_Number gaps are held as pending and reported
 *	(LOST_MESSAGE) only when still open after a grace period derived
 *	from the source's pace of new messages (cfg.lost_grace_ms floor):
 *	a more urgent message submitted later is sent first, so a gap is
 *	usually a message that is still coming.
 *
 *	Total_Number_of_PDUs never shrinks: a deployed Java implementation
 *	puts the number of PDUs resent in a round there.  A Data_PDU above
 *	it, or a larger Total, proves the one we had wrong: the largest
 *	number seen becomes the Total, and DELIVERED says so (total_raised)
 *	so that the application checks the payload whole.  Not for a source
 *	that has announced with FEC_Address_PDUs: no Java node, its numbers
 *	above Total are repairs, also in a plainly announced message.
 *
 *	In EMCON nothing is sent; Acks stay queued and messages keep their
 *	state until expiry.  When EMCON is lifted every owed Ack (complete,
 *	or with the current missing list) is re-spread over ack_spread_ms.
 * SECURITY
 *	Everything here is peer input.  Each source has a byte budget and a
 *	message count; the node has global ones.  A sender that exhausts its
 *	share gets PMUL_ERR_BUSY for its new PDUs and nobody else notices.
 *	Completed and ignored messages are capped per source too (the oldest
 *	is retired to the delivered set, itself capped: past it the source's
 *	new messages are refused, never a delivered one forgotten).  At a
 *	message cap a message addressed to us evicts early data or a
 *	stalled message; when the source table is full, sources holding
 *	nothing, or only early data and ignored messages, are evicted LRU.
 * DIAGNOSTICS
 *	Drops are counted by reason and returned as PMUL_ERR_* codes.
 *	Joint repair (docs/wire.md 10.8, pmul_rxjoint.c): a version 2
 *	FEC_Address_PDU listing us names a set of single-block messages whose
 *	repairs ride as Data_PDUs of its carrier; they are taken before the
 *	duplicate logic, also for a carrier already COMPLETE here, and a
 *	decoding may deliver other messages than the PDU's (callers find
 *	their message again afterwards).  Delivered single-block FEC payloads
 *	are kept for it until their expiry.
 * SEE ALSO
 *	pmul_rxack.c (Acks), pmul_rxsrc.c (sources and lost-message
 *	tracking), pmul_rxfec.c (FEC decoding), pmul_rxjoint.c (joint
 *	repair), pmul_engine(3),
 *	pmul_rob(3), pmul_ackq(3), pmul_seqset(3)
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "pmul/pmul_engine_int.h"
#include "pmul/util/arr.h"

#include <assert.h>
#include <string.h>

/* ---- messages ---------------------------------------------------------- */

static uint64_t
msg_key(uint32_t src, uint32_t msid)
{
    return (uint64_t)src << 32 | msid;
}

/* Every PDU looks its message up: a map, so that the cost does not grow
 * with the completed messages held for exactly-once delivery. */
pmul_rxmsg *
pmul__rx_find(const pmul_engine *e, uint32_t src, uint32_t msid)
{
    uint64_t v;

    if (!map_get(&e->rx_by_id, msg_key(src, msid), &v))
        return NULL;
    return (pmul_rxmsg *)(uintptr_t)v;
}

/* ---- the timer heap -------------------------------------------------- */

static int
dl_cmp(const void *a, const void *b, void *arg)
{
    const pmul_rxmsg *x = *(pmul_rxmsg *const *)a, *y = *(pmul_rxmsg *const *)b;

    (void)arg;
    return x->dl < y->dl ? -1 : x->dl > y->dl ? 1 : 0;
}

static void
dl_moved(void *elem, size_t idx, void *arg)
{
    (void)arg;
    (*(pmul_rxmsg **)elem)->heap_idx = idx;
}

void
pmul__rx_init(pmul_engine *e)
{
    map_init(&e->rx_by_id, e->m, 0);
    heap_init(&e->rx_dl_heap, e->m, sizeof(pmul_rxmsg *), 0, dl_cmp, dl_moved, NULL);
    pmul__rx_keep_init(e);
}

/* The earliest of m's timers: expiry, the early-data validity, the Ack
 * timer (incomplete messages, and complete ones with an Ack or a
 * redelivery owed). */
static uint64_t
msg_deadline(const pmul_engine *e, const pmul_rxmsg *m)
{
    uint64_t t = UINT64_MAX, x;

    if (m->expiry_s != 0) {
        x = pmul__wall_to_mono(e, m->expiry_s);
        t = x < t ? x : t;
    }
    if (m->state == PMUL_RXS_EARLY || m->state == PMUL_RXS_IGNORED)
        t = m->early_until < t ? m->early_until : t;
    if (m->state == PMUL_RXS_ACTIVE || m->state == PMUL_RXS_COMPLETE)
        t = m->ack_at < t ? m->ack_at : t;
    if (m->state == PMUL_RXS_ACTIVE && e->cfg.rx_idle_ms != 0) {
        x = pmul__add_ms(m->last_pdu_ms, e->cfg.rx_idle_ms);
        t = x < t ? x : t;
    }
    return t;
}

/* After m's timers may have changed: its place in the heap.  The expiry
 * is converted to monotonic time here, with the wall clock of this call. */
void
pmul__rx_retime(pmul_engine *e, pmul_rxmsg *m)
{
    uint64_t dl = msg_deadline(e, m);

    if (dl == m->dl)
        return;
    m->dl = dl;
    heap_fix_at(&e->rx_dl_heap, m->heap_idx);
}

/* The same for the message (src, msid), if it still exists. */
static void
retime_id(pmul_engine *e, uint32_t src, uint32_t msid)
{
    pmul_rxmsg *m = pmul__rx_find(e, src, msid);

    if (m != NULL)
        pmul__rx_retime(e, m);
}

static bool
is_open(const pmul_rxmsg *m)
{
    return m->state == PMUL_RXS_EARLY || m->state == PMUL_RXS_ACTIVE;
}

static void
rx_event(pmul_engine *e, const pmul_rxmsg *m, int kind, int reason)
{
    pmul_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.kind = kind;
    ev.source_id = m->src;
    ev.msid = m->msid;
    ev.dest_id = e->cfg.node_id;
    ev.priority = m->prio;
    ev.reason = reason;
    ev.expiry_s = m->expiry_s;
    (void)pmul__ev_push(e, &ev, NULL);
}

static void
group_event(pmul_engine *e, int kind, uint32_t group)
{
    pmul_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.kind = kind;
    ev.group = group;
    (void)pmul__ev_push(e, &ev, NULL);
}

/* Accept mode: drop the held payload of m and its place in the counts. */
static void
unhold(pmul_engine *e, pmul_rxmsg *m)
{
    if (m->awaiting) {
        e->rx_unacc_cnt--;
        e->rx_unacc_bytes -= m->held_len;
        m->awaiting = false;
        m->deferred = false;
    }
    mem_free(e->m, m->held);
    m->held = NULL;
    m->held_len = 0;
}

/* Forget a message: its data, its queued Ack, its group membership. */
static void
msg_free(pmul_engine *e, pmul_rxmsg *m)
{
    pmul_rxsrc *s = pmul__src_find(e, m->src);
    uint32_t group;
    bool last;
    size_t i;

    if (s != NULL) {
        if (is_open(m)) {
            s->msgs--;
            e->rx_active--;
            if (m->state == PMUL_RXS_EARLY)
                s->early--;
        } else {
            s->done--;
            if (m->state == PMUL_RXS_IGNORED)
                s->ignored--;
        }
    }
    pmul_ackq_remove(&e->ackq, m->src, m->msid);
    if (pmul_groups_leave(&e->groups, m->src, m->msid, &group, &last) && last)
        group_event(e, PMUL_EV_LEAVE_GROUP, group);
    unhold(e, m);
    pmul__rx_fec_drop(e, m);
    pmul__rx_joint_forget(e, m->src, m->msid);
    pmul_rob_fini(&m->rob);
    pmul_seqset_fini(&m->reported);
    mem_free(e->m, m->dests);
    (void)map_del(&e->rx_by_id, msg_key(m->src, m->msid));
    (void)heap_remove_at(&e->rx_dl_heap, m->heap_idx, NULL);
    for (i = 0; i < e->rx_cnt; i++)
        if (e->rx[i] == m) {
            memmove(&e->rx[i], &e->rx[i + 1], (e->rx_cnt - i - 1) * sizeof(*e->rx));
            e->rx_cnt--;
            break;
        }
    mem_free(e->m, m);
}

/*
 * Forget m.  A message delivered (and accepted) goes into its source's
 * delivered set first, so that a late copy of it - a duplicated or
 * held-back Address_PDU or Data_PDU, an EMCON repetition, a replay - is
 * recognised until its Expiry_Time and never delivered again (issue 13,
 * items 1 and 2).  Returns false and keeps m when that set cannot take
 * it (full, or out of memory): holding an entry costs memory, forgetting
 * it could cost a second delivery.
 */
static bool
retire(pmul_engine *e, pmul_rxmsg *m)
{
    pmul_rxsrc *s;

    if (m->state == PMUL_RXS_COMPLETE && !m->awaiting && m->expiry_s > e->wall_s &&
        (s = pmul__src_find(e, m->src)) != NULL &&
        pmul_doneset_remember(&s->delivered, m->msid, m->expiry_s, e->wall_s) != 0)
        return false;
    msg_free(e, m);
    return true;
}

/* Was (s, msid) delivered and forgotten as an entry since? */
static bool
was_delivered(const pmul_engine *e, const pmul_rxsrc *s, uint32_t msid)
{
    return pmul_doneset_has(&s->delivered, msid, e->wall_s);
}

/* Keep at most max_rx_done_per_src finished entries for s: the oldest
 * are retired to the delivered set (or, if not delivered, forgotten). */
static void
make_room_done(pmul_engine *e, pmul_rxsrc *s, const pmul_rxmsg *keep)
{
    size_t i = 0;
    pmul_rxmsg *m;

    while (s->done >= e->cfg.max_rx_done_per_src) {
        for (; i < e->rx_cnt; i++) {
            m = e->rx[i];
            /* Not one the application has still to accept: its DELIVERED
             * event points into it. */
            if (m->src == s->id && !is_open(m) && m != keep && !m->awaiting)
                break;                  /* rx[] is in creation order */
        }
        if (i == e->rx_cnt)
            return;
        if (!retire(e, e->rx[i]))
            i++;                        /* kept: try the next */
    }
}

/* An incomplete message still moving: a PDU of it came within this. */
#define RX_STALL_ACK_TIMES 4

/*
 * At a cap on incomplete messages, make room for a new one addressed to
 * us by evicting (of source src, or of any source when any) an EARLY
 * entry, or else an ACTIVE one that no PDU reached for
 * RX_STALL_ACK_TIMES x ACK_PDU_TIME: a transmitter that stopped, or a
 * hostile node that made us track messages it never sends (issue 13,
 * message table lock-out).  The oldest by last PDU goes.  An evicted
 * message was never delivered; its transmitter, if real, sends it again.
 * Returns true when one was evicted.
 */
static bool
evict_stalled(pmul_engine *e, uint32_t src, bool any)
{
    uint64_t stall = (uint64_t)RX_STALL_ACK_TIMES * e->cfg.ack_pdu_time_ms;
    pmul_rxmsg *m, *victim = NULL;
    int rank, best = 2;
    size_t i;

    for (i = 0; i < e->rx_cnt; i++) {
        m = e->rx[i];
        if (!is_open(m) || (!any && m->src != src))
            continue;
        if (m->state == PMUL_RXS_EARLY)
            rank = 0;
        else if (e->now_ms - m->last_pdu_ms >= stall)
            rank = 1;
        else
            continue;
        if (rank < best || (rank == best && m->last_pdu_ms < victim->last_pdu_ms)) {
            victim = m;
            best = rank;
        }
    }
    if (victim == NULL)
        return false;
    log_emit(&e->env.log, LOG_LVL_INFO, "pmul-rx evict %s src=%08x msid=%08x idle=%llums",
             best == 0 ? "early" : "stalled", (unsigned)victim->src, (unsigned)victim->msid,
             (unsigned long long)(e->now_ms - victim->last_pdu_ms));
    e->st.rx_evicted++;
    if (victim->state == PMUL_RXS_ACTIVE) {
        rx_event(e, victim, PMUL_EV_RX_DISCARDED, PMUL_REASON_IDLE);
        e->st.msgs_rx_discarded++;
    } else {
        e->st.drops[PMUL_DROP_EARLY_TIMEOUT] += victim->rob.idx_cnt;
    }
    msg_free(e, victim);
    return true;
}

void
pmul__rx_forget_source(pmul_engine *e, uint32_t src)
{
    size_t i = 0;

    while (i < e->rx_cnt) {
        if (e->rx[i]->src != src) {
            i++;
            continue;
        }
        if (e->rx[i]->state == PMUL_RXS_EARLY)
            e->st.drops[PMUL_DROP_EARLY_TIMEOUT] += e->rx[i]->rob.idx_cnt;
        msg_free(e, e->rx[i]);
    }
}

static int
msg_new(pmul_engine *e, pmul_rxsrc *s, uint32_t msid, uint8_t state, pmul_rxmsg **out)
{
    pmul_rxmsg *m;
    size_t n;
    void *p;

    if (state == PMUL_RXS_EARLY || state == PMUL_RXS_ACTIVE) {
        /* Only a message addressed to us (an Address_PDU listing us)
         * makes room; early data is refused at the cap as before. */
        if (s->msgs >= e->cfg.max_rx_msgs_per_src &&
            (state != PMUL_RXS_ACTIVE || !evict_stalled(e, s->id, false)))
            return pmul__drop(e, PMUL_DROP_CAP_MSGS, PMUL_ERR_BUSY);
        if (e->rx_active >= e->cfg.max_rx_msgs &&
            (state != PMUL_RXS_ACTIVE || !evict_stalled(e, s->id, true)))
            return pmul__drop(e, PMUL_DROP_CAP_MSGS, PMUL_ERR_BUSY);
        /* Finished entries that could not be retired (the delivered set
         * is full until some expire) stop this source's new messages:
         * refused, they are sent again later; accepted, they could not be
         * remembered once delivered. */
        make_room_done(e, s, NULL);
        if (s->done >= e->cfg.max_rx_done_per_src)
            return pmul__drop(e, PMUL_DROP_CAP_MSGS, PMUL_ERR_BUSY);
    } else {
        make_room_done(e, s, NULL);
    }
    if (e->rx_cnt == e->rx_cap) {
        n = e->rx_cap != 0 ? e->rx_cap * 2 : 16;
        if ((p = mem_realloc(e->m, e->rx, n * sizeof(*e->rx))) == NULL)
            return pmul__drop(e, PMUL_DROP_NOMEM, PMUL_ERR_NOMEM);
        e->rx = p;
        e->rx_cap = n;
    }
    if ((m = mem_calloc(e->m, 1, sizeof(*m))) == NULL)
        return pmul__drop(e, PMUL_DROP_NOMEM, PMUL_ERR_NOMEM);
    m->dl = UINT64_MAX;
    if (map_put(&e->rx_by_id, msg_key(s->id, msid), (uint64_t)(uintptr_t)m) != 0) {
        mem_free(e->m, m);
        return pmul__drop(e, PMUL_DROP_NOMEM, PMUL_ERR_NOMEM);
    }
    if (heap_push(&e->rx_dl_heap, &m) != 0) {
        (void)map_del(&e->rx_by_id, msg_key(s->id, msid));
        mem_free(e->m, m);
        return pmul__drop(e, PMUL_DROP_NOMEM, PMUL_ERR_NOMEM);
    }
    m->src = s->id;
    m->msid = msid;
    m->order = e->rx_order++;
    m->last_pdu_ms = e->now_ms;
    m->state = state;
    m->ack_at = UINT64_MAX;
    m->early_until = UINT64_MAX;
    pmul_rob_init(&m->rob, e->m, e->cfg.max_msg_len, &s->budget, &e->rx_all);
    pmul_seqset_init(&m->reported, e->m);
    if (state == PMUL_RXS_EARLY || state == PMUL_RXS_ACTIVE) {
        s->msgs++;
        e->rx_active++;
        if (state == PMUL_RXS_EARLY)
            s->early++;
    } else {
        s->done++;
        if (state == PMUL_RXS_IGNORED)
            s->ignored++;
    }
    e->rx[e->rx_cnt++] = m;
    *out = m;
    return 0;
}

static void deliver(pmul_engine *e, pmul_rxmsg *m);

/*
 * A Data_PDU numbered above Total_Number_of_PDUs, or an Address_PDU with
 * a larger Total, proves the Total we had wrong (issue 13 item 3: a peer
 * puts the count of PDUs resent in a round there, and we missed the
 * first Address_PDU).  Trusting it delivered 20,160 of 31,330 octets and
 * acked them as complete.  The Total becomes the largest number seen;
 * the message is delivered flagged total_raised, so that the application
 * checks it whole (MULE: the BER length and the zlib end) and rejects it
 * otherwise.
 */
static void
raise_total(pmul_engine *e, pmul_rxmsg *m, uint16_t total)
{
    if (m->fec)
        return;                 /* repair symbols live above Total */
    if (!m->total_raised) {
        e->st.rx_total_raised++;
        log_emit(&e->env.log, LOG_LVL_INFO,
                 "pmul-rx src=%08x msid=%08x: Total_Number_of_PDUs %u is wrong, now %u",
                 (unsigned)m->src, (unsigned)m->msid, (unsigned)m->total, (unsigned)total);
    }
    m->total_raised = true;
    m->total = total;
    (void)pmul_rob_set_total(&m->rob, total);
}

/* The Ack triggers of 7.3 after fragment seq was stored. */
static void
check_ack(pmul_engine *e, pmul_rxmsg *m, uint16_t seq)
{
    if (pmul_rob_is_complete(&m->rob)) {
        deliver(e, m);
        return;
    }
    /* With proactive repairs announced, Data_PDU N is not the round's
     * last: the tail timer or the closing Address_PDU ends it. */
    if ((seq == m->total && (m->fecd == NULL || m->fecd->repair_cnt == 0)) ||
        (m->reported_hi != 0 && seq == m->reported_hi) || pmul__rx_new_gaps(m) >= e->cfg.mm)
        pmul__rx_owe_ack(e, m);
}

/* ---- delivery ---------------------------------------------------------- */

void
pmul__rx_recovered(pmul_engine *e, pmul_rxmsg *m, bool hit)
{
    if (pmul_rob_is_complete(&m->rob))
        deliver(e, m);
    else if (hit)
        pmul__rx_owe_ack(e, m);
    pmul__rx_retime(e, m);
}

/* The DELIVERED event of m with payload/len; owned says whether the event
 * takes the payload and the destination list (accept mode: views into m,
 * which keeps them until accepted).  The caller reserved the slot. */
static void
push_delivered(pmul_engine *e, pmul_rxmsg *m, uint8_t *payload, size_t len, bool owned)
{
    pmul_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.kind = PMUL_EV_DELIVERED;
    ev.source_id = m->src;
    ev.msid = m->msid;
    ev.dest_id = e->cfg.node_id;
    ev.priority = m->prio;
    ev.expiry_s = m->expiry_s;
    ev.payload = payload;
    ev.payload_len = len;
    /* The destination list goes with the event (multi-hop relaying:
     * addressees of this message are not sent it again). */
    ev.dests = m->dests;
    ev.dest_cnt = m->dest_cnt;
    ev.total_raised = m->total_raised;
    if (pmul__ev_push2(e, &ev, owned ? payload : NULL, owned ? m->dests : NULL) != 0)
        assert(!"pmul__ev_push2 failed after pmul__ev_reserve");
    if (owned) {
        m->dests = NULL;
        m->dest_cnt = m->dest_cap = 0;
    }
}

static void
deliver(pmul_engine *e, pmul_rxmsg *m)
{
    pmul_rxsrc *s = pmul__src_find(e, m->src);
    bool accept_mode = e->cfg.deliver_needs_accept;
    uint8_t *payload;
    size_t len = m->rob.data_len;        /* what assembling will give */

    /* Accept mode bounds what waits for the application's verdict: past
     * the bound the message stays here, whole but undelivered and
     * unacknowledged, and is tried again shortly. */
    if (accept_mode && (e->rx_unacc_cnt >= e->cfg.max_rx_unaccepted ||
                        len > e->cfg.max_rx_unaccepted_bytes - e->rx_unacc_bytes)) {
        (void)pmul__drop(e, PMUL_DROP_CAP_MSGS, PMUL_ERR_BUSY);
        m->ack_at = pmul__add_ms(e->now_ms, 1000);
        return;
    }
    /* The event slot first: assembling may consume the fragments, and a
     * message whose DELIVERED event is lost must never be acknowledged
     * (the transmitter would count it as received and the mail would be
     * gone).  With the slot reserved the push below cannot fail. */
    if (pmul__ev_reserve(e) != 0 || pmul_rob_assemble(&m->rob, &payload, &len) != 0) {
        /* Retried from pmul__rx_expire(); the fragments stay. */
        (void)pmul__drop(e, PMUL_DROP_NOMEM, PMUL_ERR_NOMEM);
        m->ack_at = pmul__add_ms(e->now_ms, 1000);
        return;
    }
    pmul_ackq_remove(&e->ackq, m->src, m->msid);    /* no stale list */
    /* A message announced with FEC as one block may serve joint repair
     * later (docs/wire.md 10.8): kept now, or in accept mode once the
     * application accepts it (a rejected payload must not feed a decode). */
    if (m->fecd != NULL && m->fecd->p.blocks.block_cnt == 1)
        m->keep_sym = m->fecd->p.symbol_len;
    if (!accept_mode)
        pmul__rx_keep_add(e, m, payload, len);
    if (accept_mode) {
        m->held = payload;
        m->held_len = len;
        m->awaiting = true;
        e->rx_unacc_cnt++;
        e->rx_unacc_bytes += len;
    }
    push_delivered(e, m, payload, len, !accept_mode);
    e->st.msgs_delivered++;
    m->state = PMUL_RXS_COMPLETE;
    m->ack_at = UINT64_MAX;
    pmul_seqset_fini(&m->reported);
    pmul__rx_fec_drop(e, m);
    if (s != NULL) {
        s->msgs--;
        e->rx_active--;
        make_room_done(e, s, m);
        s->done++;
    }
    log_emit(&e->env.log, LOG_LVL_DEBUG, "pmul-rx delivered src=%08x msid=%08x len=%zu%s",
             (unsigned)m->src, (unsigned)m->msid, len, accept_mode ? " (awaiting accept)" : "");
    if (!accept_mode)
        pmul__rx_owe_ack(e, m);
}

/* ---- Address_PDU ------------------------------------------------------- */

/*
 * Add the Destination_IDs of one Address_PDU (one part of a MAP-split
 * list, or a later round's list) to m's list: ascending, no duplicates, at
 * most max_dests (the codec caps the count per PDU; this caps the union).
 * Allocation failure keeps the list as it was: it is advisory (relaying
 * avoids duplicates with it) and never blocks delivery.
 */
static void
dests_merge(pmul_engine *e, pmul_rxmsg *m, const pmul_pdu *pdu)
{
    const pmul_dest_entry *d = pdu->u.address.dests;
    uint16_t i;
    size_t lo, n;
    uint32_t id;
    void *p;

    for (i = 0; i < pdu->u.address.dest_cnt; i++) {
        id = d[i].dest_id;
        lo = arr_lower_u32(m->dests, m->dest_cnt, sizeof(*m->dests), 0, id);
        if (lo < m->dest_cnt && m->dests[lo] == id)
            continue;
        if (m->dest_cnt >= e->cfg.max_dests)
            return;
        if (m->dest_cnt == m->dest_cap) {
            n = m->dest_cap != 0 ? m->dest_cap * 2 : 8;
            if (n > e->cfg.max_dests)
                n = e->cfg.max_dests;
            if ((p = mem_realloc(e->m, m->dests, n * sizeof(*m->dests))) == NULL) {
                (void)pmul__drop(e, PMUL_DROP_NOMEM, PMUL_ERR_NOMEM);
                return;
            }
            m->dests = p;
            m->dest_cap = n;
        }
        memmove(&m->dests[lo + 1], &m->dests[lo], (m->dest_cnt - lo) * sizeof(*m->dests));
        m->dests[lo] = id;
        m->dest_cnt++;
    }
}

/*
 * Does this Address_PDU list us?  1 yes (*msn set), 0 provably not, -1
 * cannot tell from this part of a MAP-split list.
 */
static int
lists_us(const pmul_engine *e, const pmul_pdu *pdu, uint32_t *msn)
{
    const pmul_dest_entry *d = pdu->u.address.dests;
    uint16_t n = pdu->u.address.dest_cnt, i;
    uint32_t me = e->cfg.node_id;

    for (i = 0; i < n; i++)
        if (d[i].dest_id == me) {
            *msn = d[i].msg_seq_no;
            return 1;
        }
    if (n == 0 || pdu->map == 0)
        return 0;
    for (i = 1; i < n; i++)
        if (d[i].dest_id <= d[i - 1].dest_id)
            return -1;                  /* unsorted: no inference */
    if (d[0].dest_id < me && me < d[n - 1].dest_id)
        return 0;
    if (!(pdu->map & PMUL_MAP_NOT_FIRST) && me < d[0].dest_id)
        return 0;
    if (!(pdu->map & PMUL_MAP_NOT_LAST) && me > d[n - 1].dest_id)
        return 0;
    return -1;
}

/* Turn an EARLY entry (or nothing) into IGNORED: its PDUs are not for us. */
static void
ignore_msg(pmul_engine *e, pmul_rxsrc *s, pmul_rxmsg *m, uint32_t msid, uint32_t expiry)
{
    uint64_t until = pmul__add_ms(e->now_ms, e->cfg.early_data_ms);
    uint64_t exp = pmul__wall_to_mono(e, (int64_t)expiry);

    if (m != NULL) {
        pmul_rob_fini(&m->rob);
        mem_free(e->m, m->dests);
        m->dests = NULL;
        m->dest_cnt = m->dest_cap = 0;
        s->msgs--;
        e->rx_active--;
        s->early--;
        make_room_done(e, s, m);
        s->done++;
        s->ignored++;
        m->state = PMUL_RXS_IGNORED;
    } else if (msg_new(e, s, msid, PMUL_RXS_IGNORED, &m) != 0) {
        return;
    }
    m->early_until = exp < until ? exp : until;
}

static int
activate(pmul_engine *e, pmul_rxsrc *s, pmul_rxmsg *m, const pmul_pdu *pdu, uint32_t msn)
{
    bool hit = false;
    int err;

    if (pdu->u.address.total_pdus == 0)
        return pmul__drop(e, PMUL_DROP_INCONSISTENT, PMUL_ERR_INCONSISTENT);
    if (m == NULL && (err = msg_new(e, s, pdu->msid, PMUL_RXS_ACTIVE, &m)) != 0)
        return err;
    if (m->state == PMUL_RXS_EARLY)
        s->early--;
    m->state = PMUL_RXS_ACTIVE;
    /* A FEC transmitter falls back to plain Address_PDUs for a receiver
     * that never answered its FEC_Address_PDUs (pmul_txpeer.c): if we
     * were that receiver only by loss, repairs we hold as early data or
     * still get must not raise the Total (the message would be delivered
     * long and refused); a FEC_Address_PDU of it can still come and
     * attach the decoder (pmul__rx_fec_attach maps what is held). */
    m->fec = pmul__rx_is_fec_pdu(pdu) || s->fec_seen;
    m->prio = pdu->priority;
    m->expiry_s = pdu->u.address.expiry_time;
    m->total = pdu->u.address.total_pdus;
    m->msn = msn;
    m->early_until = UINT64_MAX;
    m->addr_rx_ms = e->now_ms;
    m->round_acked = false;
    m->last_seq = 0;
    m->ndests = pdu->map == 0 ? pdu->u.address.dest_cnt : 0;
    m->data_since_addr = false;
    m->pdu_rx_ms = e->now_ms;
    dests_merge(e, m, pdu);
    (void)pmul_rob_set_total(&m->rob, m->total);
    if (m->rob.have.hi > m->total && !m->fec)
        raise_total(e, m, m->rob.have.hi);
    if (pmul__rx_fec_attach(e, m, pdu))
        pmul__rx_fec_recover_all(e, m, &hit);    /* repairs that came early */
    pmul_groups_extend(&e->groups, m->src, m->msid, pmul__wall_to_mono(e, m->expiry_s));
    pmul__check_lost(e, s, msn);
    /* Early fragments may already complete the message or include its
     * last Data_PDU. */
    if (pmul_rob_is_complete(&m->rob)) {
        deliver(e, m);
        return 0;
    }
    pmul__rx_arm_tail(e, m);
    /* Data before its Address_PDU: the Address_PDU (or this copy) came
     * late, most often as the repeat after the round or the
     * transmitter's probe.  The round has passed us by: answer now. */
    if (m->rob.idx_cnt > 0 || pmul__rx_new_gaps(m) >= e->cfg.mm)
        pmul__rx_owe_ack(e, m);
    return 0;
}

static int
rx_on_address_body(pmul_engine *e, const pmul_pdu *pdu)
{
    pmul_rxsrc *s;
    pmul_rxmsg *m;
    uint32_t msn = 0;
    bool hit = false, stale, closing = false;
    int listed, err;

    if ((err = pmul__src_get(e, pdu->source_id, &s)) != 0)
        return err;
    /* An Ack-Ack is sent out of the rounds' order. */
    if (pdu->u.address.dest_cnt != 0)
        pmul__src_note_sent(s, pdu);
    if (pmul__rx_is_fec_pdu(pdu))
        s->fec_seen = true;
    m = pmul__rx_find(e, pdu->source_id, pdu->msid);
    if (m != NULL) {
        m->idle_acks = 0;       /* the transmitter is alive for it */
        m->last_pdu_ms = e->now_ms;
    }
    if (pdu->u.address.dest_cnt == 0) {
        /* Ack-Ack: the transmitter has every Ack it needs. */
        if (m == NULL)
            return pmul__drop(e, PMUL_DROP_NOT_FOR_US, PMUL_ERR_NOTFOUND);
        if (m->state == PMUL_RXS_ACTIVE || m->awaiting)
            return pmul__drop(e, PMUL_DROP_UNEXPECTED, PMUL_ERR_UNEXPECTED);
        (void)retire(e, m);
        return 0;
    }
    listed = lists_us(e, pdu, &msn);
    if (m == NULL && was_delivered(e, s, pdu->msid)) {
        e->st.rx_late_dups++;
        if (listed != 1)
            return pmul__drop(e, PMUL_DROP_DUPLICATE, PMUL_ERR_DUPLICATE);
        /* Delivered before and forgotten as an entry: the transmitter
         * still asks (our complete Ack was lost, or we were in EMCON when
         * it was retired).  Hold it as COMPLETE again to answer. */
        if ((err = msg_new(e, s, pdu->msid, PMUL_RXS_COMPLETE, &m)) != 0)
            return err;
        m->prio = pdu->priority;
        m->expiry_s = pdu->u.address.expiry_time;
        m->total = pdu->u.address.total_pdus;
        m->msn = msn;
        m->fec = pmul__rx_is_fec_pdu(pdu) || s->fec_seen;    /* its repairs are no news either */
        m->addr_rx_ms = e->now_ms;
        m->dup_addr = true;
        pmul__rx_owe_ack(e, m);
        /* It may carry a joint round for messages we still miss. */
        (void)pmul__rx_joint_on_address(e, m, pdu);
        return pmul__drop(e, PMUL_DROP_DUPLICATE, PMUL_ERR_DUPLICATE);
    }
    if (m == NULL || m->state == PMUL_RXS_EARLY) {
        if ((int64_t)pdu->u.address.expiry_time <= e->wall_s) {
            if (m != NULL)
                msg_free(e, m);
            return pmul__drop(e, PMUL_DROP_EXPIRED, PMUL_ERR_EXPIRED);
        }
        if (listed == 1) {
            if ((err = activate(e, s, m, pdu, msn)) == 0 &&
                (m = pmul__rx_find(e, pdu->source_id, pdu->msid)) != NULL)
                (void)pmul__rx_joint_on_address(e, m, pdu);     /* opens a round */
            return err;
        }
        if (listed == 0) {
            ignore_msg(e, s, m, pdu->msid, pdu->u.address.expiry_time);
        } else {
            /* One part of a MAP-split list that does not tell: keep its
             * destinations (as an EARLY entry, under the same caps as
             * early data) for the DELIVERED event, in case a later part
             * lists us. */
            if (m == NULL) {
                if ((err = msg_new(e, s, pdu->msid, PMUL_RXS_EARLY, &m)) != 0)
                    return err;
                m->early_until = pmul__add_ms(e->now_ms, e->cfg.early_data_ms);
                m->prio = pdu->priority;
            }
            dests_merge(e, m, pdu);
        }
        return pmul__drop(e, PMUL_DROP_NOT_FOR_US, PMUL_ERR_NOT_FOR_US);
    }
    if (listed == 1 && (m->state == PMUL_RXS_ACTIVE || m->state == PMUL_RXS_COMPLETE)) {
        /* A joint set (version 2) is taken before the carrier's own
         * state: decoding may deliver the carrier and other members. */
        closing = pmul__rx_joint_on_address(e, m, pdu);
        if ((m = pmul__rx_find(e, pdu->source_id, pdu->msid)) == NULL)
            return 0;
    }
    switch (m->state) {
    case PMUL_RXS_ACTIVE:
        dests_merge(e, m, pdu);         /* the other parts of its list */
        if (listed != 1)
            return 0;
        /* Total_Number_of_PDUs never shrinks (Java deviation 2: later
         * rounds carry the count resent); a larger one means the first
         * we saw was such a count. */
        if (pdu->u.address.total_pdus > m->total && !m->fec)
            raise_total(e, m, pdu->u.address.total_pdus);
        if (pmul__rx_fec_attach(e, m, pdu)) {
            /* The first usable layout came late: what we hold may decode. */
            pmul__rx_fec_recover_all(e, m, &hit);
            if (pmul_rob_is_complete(&m->rob)) {
                deliver(e, m);
                return 0;
            }
        }
        m->addr_rx_ms = e->now_ms;
        m->pdu_rx_ms = e->now_ms;
        m->ndests = pdu->map == 0 ? pdu->u.address.dest_cnt : 0;
        if (!closing && m->data_since_addr && m->round_acked && m->data_rx_ms <= m->last_ack_ms &&
            pmul__rx_acks_take_air(e, m)) {
            /* It closes a round we answered after the last Data_PDU we
             * saw of it: unless we lost the round's last Data_PDUs too,
             * our Ack reached the transmitter when the round was over
             * and counts as the round's answer there.  Where Acks take
             * the source's air, the copy is not answered again; should
             * our Ack have been lost (or not counted), the transmitter
             * asks (a probe or its next round, with no data before it).
             * With 100 receivers on one channel, 2,722 of 25,352 Acks
             * owed answered a copy closing a round already answered
             * (netsim-bench shared, seed 1). */
            m->data_since_addr = false;
            m->last_seq = 0;
            return 0;
        }
        if (m->data_since_addr || closing) {
            /* Data since the last Address_PDU: this one closes the round
             * (addr_repeat), or is the transmitter's probe after it.
             * Answer now: waiting for the tail timer would only delay the
             * retransmission, and an Ack already sent in this round may
             * have been lost or, sent mid-round (MM or highest-missing
             * trigger), not count as the round's answer at the
             * transmitter (issue 12.1, 12.2).  One more small PDU against
             * a timer round or a whole resend.  A joint round's closing
             * copy draws one Ack for every member still ACTIVE. */
            if (closing)
                pmul__rx_joint_answer(e, m);
            else
                pmul__rx_owe_ack(e, m);
            m->data_since_addr = false;
            m->round_acked = false;
            m->last_seq = 0;
            m->ack_at = pmul__add_ms(e->now_ms, e->cfg.ack_pdu_time_ms);
            return 0;
        }
        if (m->probe_wait) {
            /* Another copy of the Address_PDU while we wait for the data
             * of the last one (the probe's repeat, or the next probe): it
             * does not postpone the answer.  Re-arming the wait at each
             * copy pushed the answer past the transmitter's probe timer
             * whenever our interval estimate had grown (Data_PDUs lost in
             * a row stretch it): a 10 kB mail to 2 receivers at 10 % loss
             * took 14.4 s against a median of 5.2 (netsim, rm-bench's
             * case). */
            return 0;
        }
        /* A new round starts, or, after an Ack of ours, this may be the
         * transmitter's probe (our Ack was lost) or a repeat: then no
         * Data_PDU follows.  Waiting the whole tail (the airtime of every
         * PDU still missing) would outlast the probe timer and cost a
         * whole-message round (issue 12.1): wait about one PDU interval
         * for the round's first Data_PDU, then answer. */
        m->round_acked = false;
        m->last_seq = 0;
        m->probe_wait = m->acked_once;
        pmul__rx_arm_tail(e, m);
        return 0;
    case PMUL_RXS_COMPLETE:
        if (m->awaiting) {
            /* Delivered, the application's verdict still due: no Ack yet
             * and no second delivery. */
            return pmul__drop(e, PMUL_DROP_DUPLICATE, PMUL_ERR_DUPLICATE);
        }
        if (listed == 1) {
            /* Our complete Ack was lost: send it again.  Where Acks
             * take the source's air (pmul__rx_acks_take_air), not when
             * this is the closing copy of the round we completed in: no
             * Address_PDU since our complete Ack left, and Data_PDUs
             * since the previous one (a round with data, which this copy
             * closes).  It left before our Ack reached the transmitter,
             * which drops acked destinations from each copy as it leaves
             * (pmul_tx.c drop_acked).  With 100 receivers on one channel these answers
             * were half of the Acks owed (netsim-bench shared, seed 1:
             * 22,024 of 45,465).  Should our Ack have been lost after
             * all, the transmitter's next round or probe comes after
             * this copy, with no data between, and is answered.  With
             * few receivers, or links of their own, the answer costs the
             * source nothing and saves that round when our Ack was
             * lost. */
            stale = m->complete_acked && m->addr_rx_ms <= m->last_ack_ms &&
                    m->data_rx_ms > m->addr_rx_ms && pmul__rx_acks_take_air(e, m);
            m->addr_rx_ms = e->now_ms;
            m->dup_addr = true;
            if (closing)
                pmul__rx_joint_answer(e, m);    /* members still ACTIVE */
            else if (!stale)
                pmul__rx_owe_ack(e, m);
            return pmul__drop(e, PMUL_DROP_DUPLICATE, PMUL_ERR_DUPLICATE);
        }
        if (listed == 0)
            (void)retire(e, m); /* absent after our complete Ack: it arrived */
        return 0;
    default:
        return pmul__drop(e, PMUL_DROP_NOT_FOR_US, PMUL_ERR_NOT_FOR_US);
    }
}

/* ---- Data_PDU ---------------------------------------------------------- */

/* A Data_PDU of m that stores nothing new still shows its round is going
 * on: the closing Address_PDU is then answered, the tail waits. */
static void
round_goes_on(pmul_engine *e, pmul_rxmsg *m, uint16_t seq)
{
    if (m->state != PMUL_RXS_ACTIVE)
        return;
    m->data_since_addr = true;
    m->probe_wait = false;
    if (!m->round_acked) {
        m->last_seq = seq;
        pmul__rx_arm_tail(e, m);
    }
}

/* A joint repair (docs/wire.md 10.8) of carrier m, numbered above every
 * repair of its own blocks.  True when it was one (handled; m may be
 * gone, delivered or completed by the decoding). */
static bool
joint_data(pmul_engine *e, pmul_rxmsg *m, const pmul_pdu *pdu)
{
    if ((m->state != PMUL_RXS_ACTIVE && m->state != PMUL_RXS_COMPLETE) || !m->fec ||
        m->total == 0 || pdu->u.data.seq <= m->total || !pmul__rx_joint_on_data(e, m, pdu))
        return false;
    if ((m = pmul__rx_find(e, pdu->source_id, pdu->msid)) != NULL &&
        m->state == PMUL_RXS_ACTIVE) {
        pmul__rx_note_pdu_gap(e, m);
        round_goes_on(e, m, pdu->u.data.seq);
    }
    return true;
}

static int
rx_on_data_body(pmul_engine *e, const pmul_pdu *pdu)
{
    pmul_rxsrc *s;
    pmul_rxmsg *m;
    uint16_t seq = pdu->u.data.seq;
    bool created = false, unused, hit = false;
    int err, rc;

    if ((err = pmul__src_get(e, pdu->source_id, &s)) != 0)
        return err;
    pmul__src_note_sent(s, pdu);
    if ((m = pmul__rx_find(e, pdu->source_id, pdu->msid)) == NULL) {
        if (was_delivered(e, s, pdu->msid)) {
            e->st.rx_late_dups++;
            return pmul__drop(e, PMUL_DROP_DUPLICATE, PMUL_ERR_DUPLICATE);
        }
        if ((err = msg_new(e, s, pdu->msid, PMUL_RXS_EARLY, &m)) != 0)
            return err;
        m->early_until = pmul__add_ms(e->now_ms, e->cfg.early_data_ms);
        m->prio = pdu->priority;
        created = true;
    }
    m->idle_acks = 0;
    m->last_pdu_ms = e->now_ms;
    m->data_rx_ms = e->now_ms;
    if (joint_data(e, m, pdu))
        return 0;
    switch (m->state) {
    case PMUL_RXS_IGNORED:
        return pmul__drop(e, PMUL_DROP_NOT_FOR_US, PMUL_ERR_NOT_FOR_US);
    case PMUL_RXS_COMPLETE:
        if (seq > m->total && m->total != 0 && m->fec) {
            /* A repair after completion: nothing to do with it, and
             * never a reason to send the complete Ack again. */
            e->st.rx_fec_unused++;
            return 0;
        }
        if (seq > m->total && m->total != 0 && !m->fec) {
            /* Delivered with fewer PDUs than it has: only a peer's wrong
             * Total can do that, and the application's check of the
             * payload (total_raised, pmul_engine_reject) is what is left. */
            log_emit(&e->env.log, LOG_LVL_WARN,
                     "pmul-rx src=%08x msid=%08x: Data_PDU %u above the Total %u it was "
                     "delivered with", (unsigned)m->src, (unsigned)m->msid, (unsigned)seq,
                     (unsigned)m->total);
            return pmul__drop(e, PMUL_DROP_INCONSISTENT, PMUL_ERR_INCONSISTENT);
        }
        /* Duplicate after completion: our complete Ack may have been
         * lost, unless a re-sent Address_PDU already told us (7.3).  At
         * most once per ACK_PDU_TIME: a whole-message round for another
         * receiver would otherwise draw one Ack per Data_PDU. */
        if (!m->awaiting && m->complete_acked && !m->dup_addr &&
            e->now_ms - m->last_ack_ms >= e->cfg.ack_pdu_time_ms &&
            !pmul_ackq_has(&e->ackq, m->src, m->msid))
            pmul__rx_owe_ack(e, m);
        return pmul__drop(e, PMUL_DROP_DUPLICATE, PMUL_ERR_DUPLICATE);
    default:
        break;
    }
    pmul__rx_note_pdu_gap(e, m);
    if (m->state == PMUL_RXS_ACTIVE && seq > m->total && !m->fec)
        raise_total(e, m, seq);
    /* A repair we cannot use (its block decodes already, or the message
     * is received plainly) is dropped silently, like a duplicate. */
    unused = m->state == PMUL_RXS_ACTIVE && m->fec && seq > m->total &&
             !pmul__rx_fec_repair_wanted(m, seq, pdu->u.data.frag_len);
    if (unused)
        e->st.rx_fec_unused++;
    rc = unused ? 0 : pmul_rob_put(&m->rob, seq, pdu->u.data.frag, pdu->u.data.frag_len);
    if (rc == 0) {
        round_goes_on(e, m, seq);       /* a duplicate shows it too */
        return unused ? 0 : pmul__drop(e, PMUL_DROP_DUPLICATE, PMUL_ERR_DUPLICATE);
    }
    if (rc < 0) {
        if (created)
            msg_free(e, m);
        if (rc == PMUL_ERR_BUSY)
            return pmul__drop(e, PMUL_DROP_CAP_BYTES, rc);
        if (rc == PMUL_ERR_NOMEM)
            return pmul__drop(e, PMUL_DROP_NOMEM, rc);
        return pmul__drop(e, PMUL_DROP_INCONSISTENT, rc);
    }
    if (m->state != PMUL_RXS_ACTIVE)
        return 0;
    if (m->tail_owed) {
        /* The tail timer called the round quiet, but its Ack has not left
         * and data came after all (the transmitter is slower than we
         * assumed, e.g. the first Data_PDU after the Address_PDU): the
         * round goes on, withdraw the Ack.  The other triggers below and
         * the re-armed tail timer still apply. */
        pmul_ackq_remove(&e->ackq, m->src, m->msid);
        m->tail_owed = false;
    }
    m->data_since_addr = true;
    m->probe_wait = false;
    m->last_seq = seq;
    if (m->fecd != NULL)
        pmul__rx_fec_feed(e, m, seq, pdu->u.data.frag_len, &hit);
    if (m->round_acked)
        m->ack_at = pmul__add_ms(e->now_ms, e->cfg.ack_pdu_time_ms);
    else
        pmul__rx_arm_tail(e, m);
    check_ack(e, m, seq);
    /* A decoded block held the highest number of our last list: as if it
     * had arrived (7.3). */
    if (hit && m->state == PMUL_RXS_ACTIVE)
        pmul__rx_owe_ack(e, m);
    return 0;
}

/* ---- Discard, Announce, Release ---------------------------------------- */

int
pmul__rx_on_discard(pmul_engine *e, const pmul_pdu *pdu)
{
    pmul_rxmsg *m = pmul__rx_find(e, pdu->source_id, pdu->msid);

    if (m == NULL)
        return pmul__drop(e, PMUL_DROP_NOT_FOR_US, PMUL_ERR_NOTFOUND);
    /* Also after a DELIVERED that the application has not accepted: it
     * must drop what it stored (the transmitter counts us as failed). */
    if (m->state == PMUL_RXS_ACTIVE || m->awaiting) {
        rx_event(e, m, PMUL_EV_RX_DISCARDED, PMUL_REASON_DISCARDED);
        e->st.msgs_rx_discarded++;
    }
    (void)retire(e, m);
    return 0;
}

int
pmul__rx_on_announce(pmul_engine *e, const pmul_pdu *pdu)
{
    uint64_t until = pmul__wall_to_mono(e, (int64_t)pdu->u.announce.expiry_time);
    /* A join lasts early_data_ms unless its message comes (activate()
     * extends it to the message's expiry): spoofed Announce_PDUs with an
     * Expiry_Time in 2106 cannot hold the kernel's few memberships. */
    uint64_t join_until = pmul__add_ms(e->now_ms, e->cfg.early_data_ms);
    uint32_t group = pdu->u.announce.mcast_group;
    uint16_t i;
    bool first = false;
    int err;

    /* As a transmitter: that group is taken. */
    pmul_groups_mark_foreign(&e->groups, group, pdu->source_id, until);
    for (i = 0; i < pdu->u.announce.dest_cnt; i++)
        if (pdu->u.announce.dest_ids[i] == e->cfg.node_id)
            break;
    if (i == pdu->u.announce.dest_cnt)
        return 0;
    if ((int64_t)pdu->u.announce.expiry_time <= e->wall_s)
        return pmul__drop(e, PMUL_DROP_EXPIRED, PMUL_ERR_EXPIRED);
    err = pmul_groups_join(&e->groups, group, pdu->source_id, pdu->msid,
                           join_until < until ? join_until : until, &first);
    if (err != 0)
        return pmul__drop(e, err == PMUL_ERR_BUSY ? PMUL_DROP_CAP_MSGS : PMUL_DROP_NOMEM, err);
    if (first)
        group_event(e, PMUL_EV_JOIN_GROUP, group);
    return 0;
}

int
pmul__rx_on_release(pmul_engine *e, const pmul_pdu *pdu)
{
    uint32_t group;
    bool last;

    pmul_groups_on_release(&e->groups, pdu->source_id, pdu->u.group.mcast_group);
    if (pmul_groups_leave(&e->groups, pdu->source_id, pdu->msid, &group, &last) && last)
        group_event(e, PMUL_EV_LEAVE_GROUP, group);
    return 0;
}

/* ---- timers ------------------------------------------------------------ */

/* Returns true when m was freed. */
static bool
rx_timers(pmul_engine *e, pmul_rxmsg *m)
{
    pmul_rxsrc *s;
    bool hit = false;
    uint64_t t;

    if (m->expiry_s != 0 && e->wall_s >= m->expiry_s) {
        if (m->state == PMUL_RXS_ACTIVE || m->awaiting) {
            rx_event(e, m, PMUL_EV_RX_DISCARDED, PMUL_REASON_EXPIRED);
            e->st.msgs_rx_discarded++;
        }
        msg_free(e, m);
        return true;
    }
    if (m->state == PMUL_RXS_ACTIVE && !m->awaiting && e->cfg.rx_idle_ms != 0 &&
        e->now_ms >= pmul__add_ms(m->last_pdu_ms, e->cfg.rx_idle_ms)) {
        /* Never delivered: dropping it can lose nothing the transmitter
         * will not send again, and keeps a silent or hostile peer from
         * holding the slot until its Expiry_Time. */
        rx_event(e, m, PMUL_EV_RX_DISCARDED, PMUL_REASON_IDLE);
        e->st.msgs_rx_discarded++;
        msg_free(e, m);
        return true;
    }
    if ((m->state == PMUL_RXS_EARLY || m->state == PMUL_RXS_IGNORED) &&
        e->now_ms >= m->early_until) {
        if (m->state == PMUL_RXS_EARLY)
            e->st.drops[PMUL_DROP_EARLY_TIMEOUT] += m->rob.idx_cnt;
        msg_free(e, m);
        return true;
    }
    if (m->state == PMUL_RXS_COMPLETE && e->now_ms >= m->ack_at) {
        m->ack_at = UINT64_MAX;
        if (m->awaiting) {
            /* Deferred: offer it to the application again. */
            if (pmul__ev_reserve(e) != 0) {
                (void)pmul__drop(e, PMUL_DROP_NOMEM, PMUL_ERR_NOMEM);
                m->ack_at = pmul__add_ms(e->now_ms, 1000);
                return false;
            }
            m->deferred = false;
            push_delivered(e, m, m->held, m->held_len, false);
            return false;
        }
        /* The complete Ack's copy (pmul_rxack.c complete_copy_pays), or
         * an owed Ack that ran out of memory. */
        pmul__rx_owe_ack(e, m);
        return false;
    }
    if (m->state != PMUL_RXS_ACTIVE || e->now_ms < m->ack_at)
        return false;
    if (m->fecd != NULL)
        pmul__rx_fec_recover_all(e, m, &hit);    /* an earlier one ran out of memory */
    if (pmul_rob_is_complete(&m->rob)) {
        deliver(e, m);                  /* an earlier attempt ran out of memory */
        return false;
    }
    if ((s = pmul__src_find(e, m->src)) != NULL && (t = pmul__rx_held_until(e, m, s)) > e->now_ms) {
        /* The source is still sending: the round has not ended, or our
         * re-ack would take the air it sends on (pmul_rxack.c). */
        m->ack_at = t;
        return false;
    }
    m->ack_at = UINT64_MAX;             /* re-armed when the Ack leaves */
    m->tail_owed = !m->round_acked && !pmul_ackq_has(&e->ackq, m->src, m->msid);
    pmul__rx_owe_ack(e, m);
    return false;
}

void
pmul__rx_expire(pmul_engine *e)
{
    size_t i, guard = heap_len(&e->rx_dl_heap);
    pmul_rxmsg **top, *m;

    /* The due messages only, earliest first.  Each run of rx_timers()
     * frees the message or moves its timer past now; the guard bounds the
     * loop should one not (it is then tried at the next expire). */
    while (guard-- > 0 && (top = heap_peek(&e->rx_dl_heap)) != NULL &&
           (*top)->dl <= e->now_ms) {
        m = *top;
        if (!rx_timers(e, m)) {
            pmul__rx_retime(e, m);
            if (m->dl <= e->now_ms) {
                /* Not moved: keep it out of this pass. */
                m->dl = pmul__add_ms(e->now_ms, 1);
                heap_fix_at(&e->rx_dl_heap, m->heap_idx);
            }
        }
    }
    for (i = 0; i < e->src_cnt; i++)
        if (e->srcs[i]->gap_cnt > 0 && e->now_ms >= pmul__gap_deadline(e, e->srcs[i]))
            pmul__gap_report_all(e, e->srcs[i]);
    pmul__rx_keep_expire(e);
    /* Expired delivered ranges go once a minute: lookups already ignore
     * them; this gives their memory back, and lets an idle source be
     * evicted. */
    if (e->wall_s - e->done_pruned_s >= 60 || e->wall_s < e->done_pruned_s) {
        e->done_pruned_s = e->wall_s;
        for (i = 0; i < e->src_cnt; i++)
            pmul_doneset_prune(&e->srcs[i]->delivered, e->wall_s);
    }
}

bool
pmul__rx_gaps_pending(const pmul_engine *e)
{
    size_t i;

    for (i = 0; i < e->src_cnt; i++)
        if (e->srcs[i]->gap_cnt > 0)
            return true;
    return false;
}

uint64_t
pmul__rx_deadline(const pmul_engine *e)
{
    uint64_t t = UINT64_MAX, x;
    pmul_rxmsg *const *top = heap_peek(&e->rx_dl_heap);
    size_t i;

    if (top != NULL)
        t = (*top)->dl;
    x = pmul__rx_keep_deadline(e);
    t = x < t ? x : t;
    for (i = 0; i < e->src_cnt; i++) {
        x = pmul__gap_deadline(e, e->srcs[i]);
        t = x < t ? x : t;
    }
    return t;
}

void
pmul__rx_free_all(pmul_engine *e)
{
    size_t i;

    pmul__rx_joint_fini(e);
    for (i = 0; i < e->rx_cnt; i++) {
        mem_free(e->m, e->rx[i]->held);
        mem_free(e->m, e->rx[i]->fecd);
        pmul_rob_fini(&e->rx[i]->rob);
        pmul_seqset_fini(&e->rx[i]->reported);
        mem_free(e->m, e->rx[i]->dests);
        mem_free(e->m, e->rx[i]);
    }
    mem_free(e->m, e->rx);
    e->rx = NULL;
    e->rx_cnt = e->rx_cap = 0;
    pmul__rx_fec_fini(e);
    map_fini(&e->rx_by_id);
    heap_fini(&e->rx_dl_heap);
    for (i = 0; i < e->src_cnt; i++) {
        pmul_doneset_fini(&e->srcs[i]->delivered);
        mem_free(e->m, e->srcs[i]);
    }
    mem_free(e->m, e->srcs);
    e->srcs = NULL;
    e->src_cnt = e->src_cap = 0;
}

/* ---- accept mode and restart --------------------------------------------- */

/*
 * The application's verdict on a delivered message (accept mode): accept
 * (the complete Ack is owed), defer (DELIVERED again defer_retry_ms later,
 * no Ack), reject (not a whole message: forgotten, no Ack, not remembered
 * as delivered, so that the transmitter's next copy is received afresh).
 */
static int
rx_verdict_body(pmul_engine *e, uint32_t src, uint32_t msid, int verdict)
{
    pmul_rxmsg *m = pmul__rx_find(e, src, msid);

    if (!e->cfg.deliver_needs_accept)
        return PMUL_ERR_INVAL;
    if (m == NULL || m->state == PMUL_RXS_IGNORED)
        return PMUL_ERR_NOTFOUND;
    if (m->state != PMUL_RXS_COMPLETE)
        return PMUL_ERR_INVAL;
    if (!m->awaiting)
        return verdict == PMUL__VERDICT_ACCEPT ? 0 : PMUL_ERR_INVAL;  /* accepted before */
    switch (verdict) {
    case PMUL__VERDICT_ACCEPT:
        pmul__rx_keep_add(e, m, m->held, m->held_len);
        unhold(e, m);
        e->st.msgs_accepted++;
        m->ack_at = UINT64_MAX;
        if (!e->emcon)
            pmul__rx_owe_ack(e, m);
        /* In EMCON the complete Ack goes out when EMCON is lifted
         * (pmul__rx_emcon_lifted: complete and not yet acknowledged). */
        break;
    case PMUL__VERDICT_DEFER:
        m->deferred = true;
        m->ack_at = pmul__add_ms(e->now_ms, e->cfg.defer_retry_ms);
        e->st.msgs_deferred++;
        break;
    default:
        e->st.msgs_rejected++;
        log_emit(&e->env.log, LOG_LVL_WARN,
                 "pmul-rx src=%08x msid=%08x rejected by the application: forgotten, not acked",
                 (unsigned)src, (unsigned)msid);
        msg_free(e, m);                 /* not retire(): not delivered */
        break;
    }
    return 0;
}

static int
rx_restore_done_body(pmul_engine *e, uint32_t src, uint32_t msid, int64_t expiry_s)
{
    pmul_rxsrc *s;
    pmul_rxmsg *m;
    int err;

    if (expiry_s <= e->wall_s)
        return PMUL_ERR_EXPIRED;
    if ((m = pmul__rx_find(e, src, msid)) != NULL) {
        if (m->state == PMUL_RXS_COMPLETE)
            return 0;
        msg_free(e, m);                 /* what we held is older news */
    }
    if ((err = pmul__src_get(e, src, &s)) != 0)
        return err;
    /* Into the delivered set: a retransmitted Address_PDU that lists us
     * is answered with the complete Ack, a duplicate Data_PDU is dropped,
     * and nothing is delivered a second time. */
    return pmul_doneset_remember(&s->delivered, msid, expiry_s, e->wall_s);
}

/* ---- entry points: the body, then the message's place in the heap ------ */

int
pmul__rx_on_data(pmul_engine *e, const pmul_pdu *pdu)
{
    int rc = rx_on_data_body(e, pdu);

    retime_id(e, pdu->source_id, pdu->msid);
    return rc;
}

int
pmul__rx_on_address(pmul_engine *e, const pmul_pdu *pdu)
{
    int rc = rx_on_address_body(e, pdu);

    retime_id(e, pdu->source_id, pdu->msid);
    return rc;
}

int
pmul__rx_verdict(pmul_engine *e, uint32_t src, uint32_t msid, int verdict)
{
    int rc = rx_verdict_body(e, src, msid, verdict);

    retime_id(e, src, msid);
    return rc;
}

int
pmul__rx_restore_done(pmul_engine *e, uint32_t src, uint32_t msid, int64_t expiry_s)
{
    int rc = rx_restore_done_body(e, src, msid, expiry_s);

    retime_id(e, src, msid);
    return rc;
}
