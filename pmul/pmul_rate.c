/*
 * NAME
 *	pmul_rate - link-rate pacing and adaptive retransmission timeout
 * SYNOPSIS
 *	#include "pmul/pmul_rate.h"
 * DESCRIPTION
 *	The configured link rate is a ceiling: every datagram the engine emits
 *	(Acks included) is paced by its airtime, IP/UDP overhead counted
 *	(docs/wire.md 7.5).  The pacer keeps the time the link becomes free in
 *	microseconds; a caller that wakes at the rounded-up millisecond is
 *	scheduled from that exact time, so the long-run rate is exact.
 *
 *	The retransmission timeout replaces ACP 142's fixed 5 s timer with one
 *	derived from what must still happen after the last Data_PDU of a
 *	round: the receivers' Ack delay, their Acks' airtime on the shared
 *	link and the measured round-trip.  The measured part uses the RFC 6298
 *	estimator on Ack delays.  Integer arithmetic only: same inputs, same
 *	timers, on every machine.
 * SECURITY
 *	Samples come from peers' Acks (and their timestamp option); they are
 *	clamped to the configured bounds before use, so a peer can at worst
 *	move our timer between min and max.
 * DIAGNOSTICS
 *	None.
 * SEE ALSO
 *	pmul_tx(3), docs/engine.md
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "pmul/pmul_rate.h"

#include <string.h>

/* PDU airtimes in the retransmission timer's floor. */
#define RTO_FLOOR_PDUS 4

/* Before any sample: assume two Data_PDU airtimes of network delay plus
 * a fixed 300 ms of processing (radio turn-around, queueing). */
#define INITIAL_EXTRA_MS 300u

void
pmul_rate_init(pmul_rate *r, uint64_t bps, uint32_t min_ms, uint32_t max_ms,
               uint32_t backoff_pct, bool fixed)
{
    memset(r, 0, sizeof(*r));
    r->bps = bps;
    r->min_ms = min_ms;
    r->max_ms = max_ms < min_ms ? min_ms : max_ms;
    r->backoff_pct = backoff_pct < 100 ? 100 : backoff_pct;
    r->fixed = fixed;
}

uint64_t
pmul_rate_airtime_us(const pmul_rate *r, size_t len)
{
    uint64_t bits;

    if (r->bps == 0)
        return 0;
    /* len <= 65535: no overflow in (len + 28) * 8 * 1e6. */
    bits = ((uint64_t)len + PMUL_IPUDP_OVERHEAD) * 8u;
    return (bits * 1000000u + r->bps - 1) / r->bps;
}

uint32_t
pmul_rate_airtime_ms(const pmul_rate *r, size_t len)
{
    uint64_t us = pmul_rate_airtime_us(r, len);

    return (uint32_t)((us + 999) / 1000);
}

bool
pmul_rate_ready(const pmul_rate *r, uint64_t now_ms)
{
    return r->bps == 0 || now_ms >= pmul_rate_next_ms(r);
}

uint64_t
pmul_rate_next_ms(const pmul_rate *r)
{
    return (r->free_us + 999) / 1000;
}

void
pmul_rate_sent(pmul_rate *r, uint64_t now_ms, size_t len)
{
    uint64_t now_us = now_ms * 1000u, base;

    if (r->bps == 0)
        return;
    /* Called within the millisecond the link became free: continue from
     * the exact free time so sub-millisecond remainders do not drift.
     * Later than that, the link sat idle: start from now. */
    base = now_us < r->free_us + 1000u ? r->free_us : now_us;
    r->free_us = base + pmul_rate_airtime_us(r, len);
}

void
pmul_rate_sample(pmul_rate *r, uint32_t sample_ms)
{
    uint32_t err;

    if (sample_ms > r->max_ms)
        sample_ms = r->max_ms;
    if (!r->have_sample) {
        r->srtt_ms = sample_ms;
        r->rttvar_ms = sample_ms / 2;
        r->have_sample = true;
        return;
    }
    err = sample_ms > r->srtt_ms ? sample_ms - r->srtt_ms : r->srtt_ms - sample_ms;
    r->rttvar_ms = (3 * r->rttvar_ms + err) / 4;
    r->srtt_ms = (7 * r->srtt_ms + sample_ms) / 8;
}

void
pmul_rate_sample_raw(pmul_rate *r, uint32_t delay_ms)
{
    if (delay_ms > r->max_ms)
        delay_ms = r->max_ms;
    r->raw[r->raw_pos] = delay_ms;
    r->raw_pos = (r->raw_pos + 1) % PMUL_RATE_MINWIN;
    if (r->raw_cnt < PMUL_RATE_MINWIN)
        r->raw_cnt++;
}

void
pmul_rate_heard(pmul_rate *r, uint64_t now_ms, size_t len)
{
    uint64_t now_us = now_ms * 1000u, air, from;

    if (r->bps == 0)
        return;
    /* It was on the air up to now; one transmission at a time, so what
     * overlaps air already counted is not counted twice (a flood of
     * datagrams, or a peer faster than our configured rate, cannot push
     * ours back faster than time passes). */
    air = pmul_rate_airtime_us(r, len);
    from = now_us > air ? now_us - air : 0;
    if (from < r->heard_us)
        from = r->heard_us;
    air = now_us > from ? now_us - from : 0;
    if (now_us > r->heard_us)
        r->heard_us = now_us;
    /* With nothing of ours queued the channel is free again now: the
     * datagram has been received.  Otherwise the radio sent it while ours
     * waited, and the queue drains that much later. */
    if (r->free_us > now_us)
        r->free_us += air;
}

uint32_t
pmul_rate_rtt_ms(const pmul_rate *r)
{
    uint32_t i, lo = UINT32_MAX;

    if (r->have_sample)
        return r->srtt_ms + 4u * r->rttvar_ms;
    if (r->raw_cnt == 0)
        return 0;
    /* The smallest recent delay is the one with the least receiver
     * holding time in it: closest to the network round trip. */
    for (i = 0; i < r->raw_cnt; i++)
        if (r->raw[i] < lo)
            lo = r->raw[i];
    return lo + lo / 2;
}

static uint64_t
sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/*
 * The timer's floor: a few PDU airtimes plus the round trip, derived from
 * the link, with the configured ack_rtx_min_ms as its upper clamp (issue
 * 12 fix 3: a fixed 2 s is 15 PDU airtimes at 64 kbit/s, and every lossy
 * round waited for it).  Without a configured rate (or in ACP fixed
 * mode) the configured floor stands.
 */
static uint64_t
rto_floor_ms(const pmul_rate *r, const pmul_rto_in *in)
{
    uint64_t f;

    if (r->fixed || r->bps == 0)
        return r->min_ms;
    f = (uint64_t)RTO_FLOOR_PDUS * pmul_rate_airtime_ms(r, in->pdu_len);
    if (r->have_sample || r->raw_cnt > 0)
        f = sat_add(f, pmul_rate_rtt_ms(r));
    return f < r->min_ms ? f : r->min_ms;
}

/* What every wait for answers covers once the round's data has left: the
 * receivers' spreading and batching delays and the Acks' airtime. */
static uint64_t
answer_terms(const pmul_rate *r, const pmul_rto_in *in)
{
    uint64_t t = in->ack_spread_ms;

    t = sat_add(t, in->ack_batch_ms);
    return sat_add(t, ((uint64_t)in->pending_dests * pmul_rate_airtime_us(r, in->ack_len) + 999) /
                          1000);
}

uint32_t
pmul_rate_answers_ms(const pmul_rate *r, const pmul_rto_in *in)
{
    uint64_t t = sat_add(pmul_rate_rtt_ms(r), answer_terms(r, in));

    return t > UINT32_MAX ? UINT32_MAX : (uint32_t)t;
}

/*
 * The wait for answers, backed off per round; then the airtime of what is
 * queued before the message, which is no sign of a slow peer and is not
 * backed off.  Backing it off too kept a message whose round was the
 * third at the 120 s bound behind 20 s of queue, and when the queue
 * emptied the link idled for the rest (netsim-bench air, 100 mails to 4
 * receivers: 49 s of idle air at the end of seed 8).
 */
uint32_t
pmul_rate_rto_ms(const pmul_rate *r, const pmul_rto_in *in)
{
    uint64_t base;
    uint32_t i;

    if (r->fixed) {
        base = r->min_ms;
    } else {
        if (r->have_sample || r->raw_cnt > 0)
            base = pmul_rate_rtt_ms(r);
        else
            base = 2u * (uint64_t)pmul_rate_airtime_ms(r, in->pdu_len) + INITIAL_EXTRA_MS;
        base = sat_add(base, answer_terms(r, in));
        base = sat_add(base, in->tail_ms);
    }
    for (i = 0; i < in->round && base < r->max_ms; i++)
        base = base * r->backoff_pct / 100u;
    if (!r->fixed && r->bps != 0 && in->queued_len > 0)
        base = sat_add(base, in->queued_len > UINT64_MAX / 8000000u ? UINT64_MAX / 1000u
                             : (in->queued_len * 8000u + r->bps - 1) / r->bps);
    if (base < rto_floor_ms(r, in))
        base = rto_floor_ms(r, in);
    if (base > r->max_ms)
        base = r->max_ms;
    return (uint32_t)base;
}

uint32_t
pmul_rate_tail_ms(const pmul_rate *r, uint32_t remaining_pdus, size_t pdu_len,
                  uint32_t floor_ms, uint32_t cap_ms)
{
    uint64_t t = ((uint64_t)remaining_pdus * 2u + 1u) * pmul_rate_airtime_us(r, pdu_len) / 2u;

    t = (t + 999) / 1000;
    if (t < floor_ms)
        t = floor_ms;
    if (t > cap_ms)
        t = cap_ms;
    return (uint32_t)t;
}

uint32_t
pmul_rate_ack_spread_ms(const pmul_rate *r, uint32_t ndests, size_t ack_len, uint32_t bound_ms)
{
    uint64_t t;

    if (ndests == 0 || r->bps == 0)
        return bound_ms;
    t = ((uint64_t)ndests * 2u * pmul_rate_airtime_us(r, ack_len) + 999) / 1000;
    return t < bound_ms ? (uint32_t)t : bound_ms;
}
