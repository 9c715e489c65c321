/*
 * NAME
 *	pmul_rxsrc - the receiver's sources and lost-message tracking
 * SYNOPSIS
 *	#include "pmul/pmul_engine_int.h"
 * DESCRIPTION
 *	Per transmitter (Source_ID) the receiver keeps its byte budget, how
 *	many messages it holds, and its Message_Sequence_Number history:
 *	gaps in the numbers addressed to us are held for a grace period
 *	(cfg.lost_grace_ms, or four times the source's message pace) and
 *	reported as LOST_MESSAGE only if the messages never come
 *	(docs/wire.md 5 item 3, docs/engine.md 3).  The source table is
 *	bounded by cfg.max_sources; past it the least recently active
 *	source that holds nothing is evicted.
 * SECURITY
 *	Source_IDs and sequence numbers come from untrusted PDUs; every
 *	structure they grow is capped.
 * DIAGNOSTICS
 *	PMUL_ERR_BUSY (source cap), PMUL_ERR_NOMEM, counted as drops.
 * SEE ALSO
 *	pmul_rx.c (the message state machine), pmul_engine_int.h.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "pmul/pmul_engine_int.h"

#include <string.h>

static void src_remove_at(pmul_engine *e, size_t i);
static uint32_t lost_grace_ms(const pmul_engine *e, const pmul_rxsrc *s);
static void lost_event(pmul_engine *e, pmul_rxsrc *s, uint32_t lo, uint32_t hi);
static void gap_report_at(pmul_engine *e, pmul_rxsrc *s, size_t i);
static void gap_forget_at(pmul_engine *e, pmul_rxsrc *s, size_t i);
static void gap_add(pmul_engine *e, pmul_rxsrc *s, uint32_t lo, uint32_t hi);
static bool gap_fill(pmul_engine *e, pmul_rxsrc *s, uint32_t msn);

/* ---- sources ----------------------------------------------------------- */

pmul_rxsrc *
pmul__src_find(const pmul_engine *e, uint32_t id)
{
    size_t i;

    for (i = 0; i < e->src_cnt; i++)
        if (e->srcs[i]->id == id)
            return e->srcs[i];
    return NULL;
}

void
pmul__src_note_sent(pmul_rxsrc *s, const pmul_pdu *pdu)
{
    s->sent_known = true;
    s->sent_prio = pdu->priority;
    s->sent_msid = pdu->msid;
}

/*
 * A transmitter sends its rounds in (priority, submission) order: the
 * most urgent message with something to send goes first, and of equal
 * priority the oldest (pmul_tx.c; ACP 142 leaves the order to the
 * implementation).  So a PDU of a message after m in that order - less
 * urgent (a larger Priority octet), or as urgent and numbered after it
 * (MSIDs are consecutive, compared modulo 2^32) - means m has nothing
 * left to send in this round: the transmitter moved on.  A PDU of a
 * message before m proves nothing: it may pre-empt m's round, or follow
 * its end.  A peer whose MSIDs do not follow its submissions makes this
 * guess wrong in both directions; the cost is an Ack that leaves early
 * (after the tail wait, not after the source's pause) or, as before,
 * late.
 */
bool
pmul__src_moved_past(const pmul_rxsrc *s, const pmul_rxmsg *m)
{
    if (!s->sent_known || s->sent_msid == m->msid)
        return false;
    if (s->sent_prio != m->prio)
        return s->sent_prio > m->prio;
    return (int32_t)(s->sent_msid - m->msid) > 0;
}

static void
src_remove_at(pmul_engine *e, size_t i)
{
    pmul__rx_keep_forget_source(e, e->srcs[i]->id);
    pmul_doneset_fini(&e->srcs[i]->delivered);
    mem_free(e->m, e->srcs[i]);
    memmove(&e->srcs[i], &e->srcs[i + 1], (e->src_cnt - i - 1) * sizeof(*e->srcs));
    e->src_cnt--;
}

/* The least recently active source that holds nothing (unproven false)
 * or nothing but EARLY and IGNORED entries (unproven true); SIZE_MAX if
 * none. */
static size_t
src_victim(const pmul_engine *e, bool unproven)
{
    const pmul_rxsrc *s;
    size_t i, victim = SIZE_MAX;

    for (i = 0; i < e->src_cnt; i++) {
        s = e->srcs[i];
        if (s->delivered.cnt != 0)
            continue;
        if (unproven ? s->msgs != s->early || s->done != s->ignored
                     : s->msgs != 0 || s->done != 0)
            continue;
        if (victim == SIZE_MAX || s->last_ms < e->srcs[victim]->last_ms)
            victim = i;
    }
    return victim;
}

int
pmul__src_get(pmul_engine *e, uint32_t id, pmul_rxsrc **out)
{
    pmul_rxsrc *s;
    size_t victim, n;
    void *p;

    if ((s = pmul__src_find(e, id)) != NULL) {
        s->last_ms = e->now_ms;
        *out = s;
        return 0;
    }
    if (e->src_cnt >= e->cfg.max_sources) {
        /* Evict the least recently active source that holds nothing; its
         * Message_Sequence_Number history is the only loss.  Failing
         * that, the least recently active one that holds only what a peer
         * can claim with a single PDU (early data, messages not for us):
         * otherwise a burst of one Data_PDU from each of max_sources
         * spoofed Source_IDs locks every new sender out for early_data_ms
         * (issue 13, source table lock-out).  A source that is receiving
         * or delivered a message (whose memory guards exactly-once
         * delivery) is never evicted. */
        victim = src_victim(e, false);
        if (victim == SIZE_MAX && (victim = src_victim(e, true)) != SIZE_MAX) {
            e->st.src_evicted++;
            pmul__rx_forget_source(e, e->srcs[victim]->id);
        }
        if (victim == SIZE_MAX)
            return pmul__drop(e, PMUL_DROP_CAP_SOURCES, PMUL_ERR_BUSY);
        pmul__gap_report_all(e, e->srcs[victim]);    /* its history goes */
        src_remove_at(e, victim);
    }
    if (e->src_cnt == e->src_cap) {
        n = e->src_cap != 0 ? e->src_cap * 2 : 16;
        if ((p = mem_realloc(e->m, e->srcs, n * sizeof(*e->srcs))) == NULL)
            return pmul__drop(e, PMUL_DROP_NOMEM, PMUL_ERR_NOMEM);
        e->srcs = p;
        e->src_cap = n;
    }
    if ((s = mem_calloc(e->m, 1, sizeof(*s))) == NULL)
        return pmul__drop(e, PMUL_DROP_NOMEM, PMUL_ERR_NOMEM);
    s->id = id;
    pmul_doneset_init(&s->delivered, e->m, e->cfg.max_rx_done_ranges);
    s->budget.cap = e->cfg.max_rx_bytes_per_src;
    s->last_ms = e->now_ms;
    s->order = e->src_order++;
    e->srcs[e->src_cnt++] = s;
    *out = s;
    return 0;
}

/* ---- lost messages ---------------------------------------------------- */

/*
 * Message_Sequence_Numbers are given at submit time, but the transmitter
 * sends the most urgent message first, so a gap in the numbers is most
 * often a message still queued behind more urgent ones, or one whose
 * Address_PDU was lost and comes again with the next round.  A gap is
 * therefore held as pending and reported only when it is still open after
 * a grace period: max(lost_grace_ms, 4 x the interval at which this source
 * starts new messages), counted from the gap's detection and restarted
 * whenever the source starts another message (it is still working through
 * its queue).  A hard limit of 8 grace periods since the oldest pending
 * gap keeps a busy source from holding a real loss forever.
 */
static uint32_t
lost_grace_ms(const pmul_engine *e, const pmul_rxsrc *s)
{
    uint64_t g = s->addr_cnt >= 2 ? 4u * (uint64_t)s->pace_ms : 0;

    if (g < e->cfg.lost_grace_ms)
        g = e->cfg.lost_grace_ms;
    return g > UINT32_MAX / 8 ? UINT32_MAX / 8 : (uint32_t)g;
}

uint64_t
pmul__gap_deadline(const pmul_engine *e, const pmul_rxsrc *s)
{
    uint32_t g;
    uint64_t a, b;

    if (s->gap_cnt == 0)
        return UINT64_MAX;
    g = lost_grace_ms(e, s);
    a = pmul__add_ms(s->gap_progress, g);
    /* A source that keeps starting new messages may still be working
     * through a backlog of less urgent ones: 500 mixed-priority mails at
     * 2.4 kbit/s kept routine ones waiting over 1,000 s, and a limit of 8
     * grace periods raised 66-80 false alarms a run (issue 13 item 6).
     * The alarm must be true more than it must be early: a busy source's
     * gap is reported once it pauses, or after rx_idle_ms at the latest. */
    b = pmul__add_ms(s->gap_since, 8u * (uint64_t)g > e->cfg.rx_idle_ms ? 8u * (uint64_t)g
                                                                        : e->cfg.rx_idle_ms);
    return a < b ? a : b;
}

static void
lost_event(pmul_engine *e, pmul_rxsrc *s, uint32_t lo, uint32_t hi)
{
    pmul_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.kind = PMUL_EV_LOST_MESSAGE;
    ev.source_id = s->id;
    ev.dest_id = e->cfg.node_id;
    ev.seq_first = lo;
    ev.seq_last = hi;
    e->st.msgs_lost += (uint64_t)(hi - lo) + 1;
    log_emit(&e->env.log, LOG_LVL_INFO, "pmul-rx lost src=%08x seq=%u-%u", (unsigned)s->id,
             (unsigned)lo, (unsigned)hi);
    (void)pmul__ev_push(e, &ev, NULL);
}

/* Drop the pending gap at index i, keeping the others in order. */
static void
gap_remove_at(pmul_rxsrc *s, size_t i)
{
    memmove(&s->gap[i], &s->gap[i + 1], (s->gap_cnt - i - 1) * sizeof(s->gap[0]));
    s->gap_cnt--;
}

/* Report the pending gap at index i as lost and drop it. */
static void
gap_report_at(pmul_engine *e, pmul_rxsrc *s, size_t i)
{
    lost_event(e, s, s->gap[i].lo, s->gap[i].hi);
    gap_remove_at(s, i);
}

/*
 * Stop tracking the pending gap at index i without an alarm: past
 * PMUL_LOST_RANGES gaps (many priorities interleaved) the oldest is more
 * likely a message still queued than a loss, and an alarm must be true
 * (issue 13 item 6: reporting it raised 81 false alarms in 300 mixed
 * mails at 2.4 kbit/s).  Counted as lost_untracked.
 */
static void
gap_forget_at(pmul_engine *e, pmul_rxsrc *s, size_t i)
{
    e->st.lost_untracked += (uint64_t)(s->gap[i].hi - s->gap[i].lo) + 1;
    gap_remove_at(s, i);
}

/* Report every pending gap of s (grace over, or s is being forgotten). */
void
pmul__gap_report_all(pmul_engine *e, pmul_rxsrc *s)
{
    while (s->gap_cnt > 0)
        gap_report_at(e, s, 0);
}

/* Hold lo..hi (above every pending gap) as pending. */
static void
gap_add(pmul_engine *e, pmul_rxsrc *s, uint32_t lo, uint32_t hi)
{
    if (s->gap_cnt == 0)
        s->gap_since = e->now_ms;
    else if (s->gap_cnt == PMUL_LOST_RANGES)
        gap_forget_at(e, s, 0);         /* bounded: the oldest goes */
    s->gap[s->gap_cnt].lo = lo;
    s->gap[s->gap_cnt].hi = hi;
    s->gap_cnt++;
}

/* The message numbered msn arrived: it was not lost.  Returns false when
 * msn was in no gap. */
static bool
gap_fill(pmul_engine *e, pmul_rxsrc *s, uint32_t msn)
{
    pmul_msnrange *r;
    size_t i;

    for (i = 0; i < s->gap_cnt; i++) {
        r = &s->gap[i];
        if (msn < r->lo || msn > r->hi)
            continue;
        if (r->lo == r->hi) {
            gap_remove_at(s, i);
        } else if (msn == r->lo) {
            r->lo++;
        } else if (msn == r->hi) {
            r->hi--;
        } else if (s->gap_cnt < PMUL_LOST_RANGES) {
            memmove(r + 1, r, (s->gap_cnt - i) * sizeof(*r));
            s->gap_cnt++;
            r->hi = msn - 1;
            r[1].lo = msn + 1;
        } else {
            /* No room to split: the lower part is forgotten (the cap
             * bounds per-source state). */
            e->st.lost_untracked += (uint64_t)(msn - r->lo);
            r->lo = msn + 1;
        }
        return true;
    }
    return false;
}

/* A listed message numbered msn was activated. */
void
pmul__check_lost(pmul_engine *e, pmul_rxsrc *s, uint32_t msn)
{
    uint64_t gap;

    /* The source's pace: smoothed interval between new messages. */
    if (s->addr_cnt > 0) {
        gap = e->now_ms - s->new_ms;
        if (gap > UINT32_MAX)
            gap = UINT32_MAX;
        s->pace_ms = s->addr_cnt == 1 ? (uint32_t)gap
                                      : (uint32_t)((3u * (uint64_t)s->pace_ms + gap) / 4);
    }
    if (s->addr_cnt < UINT16_MAX)
        s->addr_cnt++;
    s->new_ms = e->now_ms;
    s->gap_progress = e->now_ms;
    if (!s->msn_known) {
        s->msn_known = true;
        s->last_msn = msn;
        return;
    }
    if (s->msn_unreliable)
        return;
    if (msn <= s->last_msn) {
        /* A late message fills its gap.  A new message numbered at or
         * below the highest seen, outside every gap, means the peer's
         * numbers are not per-destination counters (one deployed
         * implementation sends positions in the destination list): its
         * gaps prove nothing, and an alarm that is false is worse than
         * none.  Three such numbers turn detection off for the source. */
        if (!gap_fill(e, s, msn) && ++s->msn_backward >= 3) {
            s->msn_unreliable = true;
            s->gap_cnt = 0;
            log_emit(&e->env.log, LOG_LVL_INFO,
                     "pmul-rx src=%08x: Message_Sequence_Numbers are not per-destination "
                     "counters: lost-message detection off for this source", (unsigned)s->id);
        }
        return;
    }
    if (msn > s->last_msn + 1)
        gap_add(e, s, s->last_msn + 1, msn - 1);
    s->last_msn = msn;
}
