/*
 * pmul_rate.h: pacing to the link rate, and the retransmission timeout.
 *
 * Pacing: every datagram occupies the link for (octets + 28) * 8 / rate
 * seconds (28 = IPv4 + UDP headers).  The pacer remembers when the link
 * becomes free, in microseconds, so rounding to whole milliseconds never
 * accumulates; a datagram may leave when that time has come.
 *
 * Timeout: instead of ACP 142's fixed ACK_RE-TRANSMISSION_TIME, the time a
 * transmitter waits after the last PDU of a round is
 *
 *     base = rtt                                (network round trip, below)
 *          + airtime(other data queued first)   (more urgent PDUs we send
 *                                                before we could resend)
 *          + ack_spread + ack_batch             (receivers' Ack delay)
 *          + D * airtime(Ack_PDU)               (D Acks share the link)
 *          + tail                               (receivers' wait for a
 *                                                lost last Data_PDU)
 *     rto(n) = clamp(base * BACK-OFF_FACTOR^n, min, max)
 *
 * where n counts the timer-driven retransmission rounds already made.
 * rtt comes from what the Acks show: with the timestamp option the
 * receiver's holding time is removed and what remains is smoothed
 * (srtt + 4 rttvar, RFC 6298); without it an Ack's delay after the end of
 * the round includes a random holding time, so the estimate is the
 * minimum of the last PMUL_RATE_MINWIN delays plus half of it (the
 * holding time is budgeted by the spread and tail terms instead).  Before
 * any Ack: two Data_PDU airtimes plus 300 ms.  docs/engine.md derives it.
 */
#ifndef PMUL_RATE_H
#define PMUL_RATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PMUL_IPUDP_OVERHEAD 28u

#define PMUL_RATE_MINWIN 8

typedef struct pmul_rate {
    uint64_t bps;           /* 0: no pacing */
    uint64_t free_us;       /* link busy until this time */
    uint64_t heard_us;      /* shared channel: received air counted up
                             * to this time (pmul_rate_heard) */
    uint32_t srtt_ms;       /* smoothed network RTT (timestamped Acks) */
    uint32_t rttvar_ms;
    bool have_sample;
    uint32_t raw[PMUL_RATE_MINWIN];  /* last Ack delays after round ends */
    uint32_t raw_cnt, raw_pos;
    uint32_t min_ms, max_ms;
    uint32_t backoff_pct;
    bool fixed;             /* ACP mode: rto = min_ms * backoff^n */
} pmul_rate;

/* What the timeout depends on besides the measurements. */
typedef struct pmul_rto_in {
    uint32_t pending_dests; /* receivers still to answer (non-EMCON) */
    size_t ack_len;         /* typical Ack_PDU octets */
    size_t pdu_len;         /* largest Data_PDU octets */
    uint64_t queued_len;    /* octets of more urgent PDUs queued */
    uint32_t ack_spread_ms;
    uint32_t ack_batch_ms;
    uint32_t tail_ms;       /* receiver tail wait, see pmul_rate_tail_ms */
    uint32_t round;         /* retransmission rounds so far */
} pmul_rto_in;

void pmul_rate_init(pmul_rate *r, uint64_t bps, uint32_t min_ms, uint32_t max_ms,
                    uint32_t backoff_pct, bool fixed);

/* Microseconds the link is busy with one datagram of len octets. */
uint64_t pmul_rate_airtime_us(const pmul_rate *r, size_t len);
/* The same in whole milliseconds, rounded up. */
uint32_t pmul_rate_airtime_ms(const pmul_rate *r, size_t len);

/* May a datagram leave at now_ms? */
bool pmul_rate_ready(const pmul_rate *r, uint64_t now_ms);
/* First millisecond at which one may (0 when the link is free). */
uint64_t pmul_rate_next_ms(const pmul_rate *r);
/* Account for a datagram of len octets leaving at now_ms. */
void pmul_rate_sent(pmul_rate *r, uint64_t now_ms, size_t len);
/* On a shared channel, a datagram of len octets from another node has
 * just been received: ours still queued then left that much later. */
void pmul_rate_heard(pmul_rate *r, uint64_t now_ms, size_t len);

/* Feed one network round-trip sample (from a timestamped Ack):
 * Jacobson/Karels smoothing, RFC 6298. */
void pmul_rate_sample(pmul_rate *r, uint32_t sample_ms);
/* Feed one Ack delay after the end of a round (receiver hold included). */
void pmul_rate_sample_raw(pmul_rate *r, uint32_t delay_ms);
/* The round-trip estimate the timeout uses, 0 before any sample. */
uint32_t pmul_rate_rtt_ms(const pmul_rate *r);

/* The timeout for the given situation, formula above. */
uint32_t pmul_rate_rto_ms(const pmul_rate *r, const pmul_rto_in *in);
/* How long after the end of a round its answers arrive: the round-trip
 * estimate, the spreading and batching delays and the Acks' airtime
 * (in's tail, queue and round are not used: no back-off, no floor). */
uint32_t pmul_rate_answers_ms(const pmul_rate *r, const pmul_rto_in *in);

/*
 * The random Ack delay bound receivers use and transmitters expect: two
 * Ack airtimes per receiver of the message (enough to spread D Acks on a
 * shared link), at most bound_ms.  With D unknown (0) or no link rate,
 * bound_ms.
 */
uint32_t pmul_rate_ack_spread_ms(const pmul_rate *r, uint32_t ndests, size_t ack_len,
                                 uint32_t bound_ms);

/*
 * How long a receiver waits, after its last progress on a message, before
 * it concludes the round ended without the last Data_PDUs and acks with
 * its missing list: the airtime of the remaining PDUs plus half of one
 * (slack for the repeated Address_PDU and pacing jitter; the wait restarts
 * with every PDU of the source), at least floor_ms, at most cap_ms.
 */
uint32_t pmul_rate_tail_ms(const pmul_rate *r, uint32_t remaining_pdus, size_t pdu_len,
                           uint32_t floor_ms, uint32_t cap_ms);

#endif
