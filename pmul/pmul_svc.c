/*
 * NAME
 *	pmul_svc - the engine's shared services
 * SYNOPSIS
 *	#include "pmul/pmul_engine_int.h"
 * DESCRIPTION
 *	What the transmitter (pmul_tx.c, pmul_txgroup.c), the receiver
 *	(pmul_rx.c) and the public API (pmul_engine.c) all use: the event
 *	queue (with a reservation so that a DELIVERED event cannot be lost),
 *	the queue of encoded control PDUs, counting drops, time and random
 *	helpers, and the names of events, drops and reasons.  It sits below
 *	the transmitter and the receiver and calls neither, so the engine's
 *	modules call each other in one direction only (pmul_engine.c -> tx, rx
 *	-> svc).
 * SECURITY
 *	No untrusted input: PDUs queued here were built by the engine.
 * DIAGNOSTICS
 *	PMUL_ERR_NOMEM, PMUL_ERR_BUSY (control queue full); drops are logged
 *	at debug level.
 * SEE ALSO
 *	pmul_engine_int.h, pmul_engine(3).
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "pmul/pmul_engine_int.h"

#include <string.h>

#define CTL_MAX         4096u   /* control PDUs queued at most */

const char *
pmul_event_name(int kind)
{
    switch (kind) {
    case PMUL_EV_NONE: return "NONE";
    case PMUL_EV_DELIVERED: return "DELIVERED";
    case PMUL_EV_RX_DISCARDED: return "RX_DISCARDED";
    case PMUL_EV_LOST_MESSAGE: return "LOST_MESSAGE";
    case PMUL_EV_JOIN_GROUP: return "JOIN_GROUP";
    case PMUL_EV_LEAVE_GROUP: return "LEAVE_GROUP";
    case PMUL_EV_DEST_ACKED: return "DEST_ACKED";
    case PMUL_EV_DEST_FAILED: return "DEST_FAILED";
    case PMUL_EV_MSG_DONE: return "MSG_DONE";
    case PMUL_EV_DEST_EMCON_OFF: return "DEST_EMCON_OFF";
    }
    return "UNKNOWN";
}

const char *
pmul_drop_name(int drop)
{
    switch (drop) {
    case PMUL_DROP_MALFORMED: return "malformed";
    case PMUL_DROP_OWN: return "own";
    case PMUL_DROP_NOT_FOR_US: return "not-for-us";
    case PMUL_DROP_DUPLICATE: return "duplicate";
    case PMUL_DROP_EXPIRED: return "expired";
    case PMUL_DROP_CAP_SOURCES: return "cap-sources";
    case PMUL_DROP_CAP_MSGS: return "cap-msgs";
    case PMUL_DROP_CAP_BYTES: return "cap-bytes";
    case PMUL_DROP_INCONSISTENT: return "inconsistent";
    case PMUL_DROP_EARLY_TIMEOUT: return "early-timeout";
    case PMUL_DROP_NOMEM: return "nomem";
    case PMUL_DROP_UNEXPECTED: return "unexpected";
    case PMUL_DROP_SOURCE_MISMATCH: return "source-mismatch";
    case PMUL_DROP_NOT_ALLOWED: return "not-allowed";
    }
    return "unknown";
}

const char *
pmul_reason_name(int reason)
{
    switch (reason) {
    case PMUL_REASON_NONE: return "none";
    case PMUL_REASON_EXPIRED: return "expired";
    case PMUL_REASON_DISCARDED: return "discarded";
    case PMUL_REASON_CANCELLED: return "cancelled";
    case PMUL_REASON_CAP: return "cap";
    case PMUL_REASON_NOMEM: return "nomem";
    case PMUL_REASON_NOT_ADDRESSED: return "not-addressed";
    case PMUL_REASON_IDLE: return "idle";
    }
    return "unknown";
}

/* ---- small helpers ----------------------------------------------------- */

uint64_t
pmul__add_ms(uint64_t t, uint64_t ms)
{
    return t > UINT64_MAX - ms ? UINT64_MAX : t + ms;
}

uint32_t
pmul__rand(pmul_engine *e)
{
    uint64_t x;

    if (e->env.rand != NULL)
        return e->env.rand(e->env.rand_arg);
    /* xorshift64*: deterministic fallback for tests and tools only. */
    x = e->rand_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    e->rand_state = x;
    return (uint32_t)((x * 0x2545F4914F6CDD1Dull) >> 32);
}

uint64_t
pmul__rand_delay(pmul_engine *e, uint32_t bound)
{
    if (bound == 0)
        return 0;
    return pmul__rand(e) % ((uint64_t)bound + 1);
}

size_t
pmul__ack_len(const pmul_engine *e)
{
    return PMUL_ACK_HDR_LEN + PMUL_ACK_ENTRY_HDR_LEN + 2u * (size_t)e->cfg.mm;
}

/* Octets on the air, IP/UDP included, of n Acks at the budgeted size and
 * of n full Data_PDUs: what the transmitter's probe rule and the
 * receivers' shared-channel rules weigh against each other. */
uint64_t
pmul__acks_air(const pmul_engine *e, uint64_t n)
{
    return n * (pmul__ack_len(e) + PMUL_IPUDP_OVERHEAD);
}

uint64_t
pmul__pdus_air(const pmul_engine *e, uint64_t n)
{
    return n * ((uint64_t)e->cfg.pdu_max_len + PMUL_IPUDP_OVERHEAD);
}

uint64_t
pmul__wall_to_mono(const pmul_engine *e, int64_t wall_s)
{
    uint64_t d;

    int64_t t;

    if (wall_s <= e->wall_s)
        return e->now_ms;
    d = (uint64_t)(wall_s - e->wall_s);
    if (d > (uint64_t)INT64_MAX / 2000)
        return UINT64_MAX;
    /* From the clock offset (pmul_engine.c advance()), not from now: the
     * same answer on every call while the clocks run together. */
    t = e->clock_off_ms + wall_s * 1000;
    if (t <= (int64_t)e->now_ms)
        return e->now_ms;
    return (uint64_t)t;
}

pmul_addr
pmul__group_addr(uint32_t group, uint16_t port)
{
    pmul_addr a;

    a.ip = group;
    a.port = port;
    a.is_multicast = true;
    return a;
}

int
pmul__drop(pmul_engine *e, int reason, int err)
{
    if (reason >= 0 && reason < PMUL_DROP_COUNT)
        e->st.drops[reason]++;
    log_emit(&e->env.log, LOG_LVL_DEBUG, "pmul-drop node=%08x reason=%s err=%s",
             (unsigned)e->cfg.node_id, pmul_drop_name(reason), pmul_errname(err));
    return err;
}

/* ---- events ------------------------------------------------------------ */

int
pmul__ev_push(pmul_engine *e, const pmul_event *ev, uint8_t *owned)
{
    return pmul__ev_push2(e, ev, owned, NULL);
}

/* Room for one more event in the ring, growing it if needed. */
int
pmul__ev_reserve(pmul_engine *e)
{
    pmul_evq_ent *v;
    size_t n, i;

    if (e->ev_cnt < e->ev_cap)
        return 0;
    n = e->ev_cap != 0 ? e->ev_cap * 2 : 64;
    if (n > SIZE_MAX / sizeof(*v) || (v = mem_alloc(e->m, n * sizeof(*v))) == NULL)
        return PMUL_ERR_NOMEM;
    for (i = 0; i < e->ev_cnt; i++)
        v[i] = e->ev[(e->ev_head + i) % e->ev_cap];
    mem_free(e->m, e->ev);
    e->ev = v;
    e->ev_cap = n;
    e->ev_head = 0;
    return 0;
}

int
pmul__ev_push2(pmul_engine *e, const pmul_event *ev, uint8_t *owned, uint32_t *owned_dests)
{
    pmul_evq_ent *v;

    /* Diagnostics may be dropped when the application does not poll;
     * events about messages never are (they are bounded by the caps on
     * messages anyway). */
    if (ev->kind == PMUL_EV_LOST_MESSAGE && e->ev_cnt >= e->cfg.max_events) {
        e->st.events_dropped++;
        return 0;
    }
    if (pmul__ev_reserve(e) != 0) {
        mem_free(e->m, owned);
        mem_free(e->m, owned_dests);
        e->st.events_dropped++;
        return PMUL_ERR_NOMEM;
    }
    v = &e->ev[(e->ev_head + e->ev_cnt) % e->ev_cap];
    v->ev = *ev;
    v->owned = owned;
    v->owned_dests = owned_dests;
    e->ev_cnt++;
    return 0;
}

/* ---- control PDU queue ------------------------------------------------- */

int
pmul__ctl_push(pmul_engine *e, const pmul_pdu *pdu, const pmul_addr *to)
{
    pmul_ctl *v;
    ssize_t n;
    uint8_t *b;
    size_t cap, i;

    if (e->ctl_cnt >= CTL_MAX)
        return PMUL_ERR_BUSY;
    if ((n = pmul_pdu_encoded_len(pdu)) < 0)
        return (int)n;
    if ((b = mem_alloc(e->m, (size_t)n)) == NULL)
        return PMUL_ERR_NOMEM;
    if ((n = pmul_pdu_encode(pdu, b, (size_t)n)) < 0) {
        mem_free(e->m, b);
        return (int)n;
    }
    if (e->ctl_cnt == e->ctl_cap) {
        cap = e->ctl_cap != 0 ? e->ctl_cap * 2 : 16;
        if ((v = mem_alloc(e->m, cap * sizeof(*v))) == NULL) {
            mem_free(e->m, b);
            return PMUL_ERR_NOMEM;
        }
        for (i = 0; i < e->ctl_cnt; i++)
            v[i] = e->ctl[(e->ctl_head + i) % e->ctl_cap];
        mem_free(e->m, e->ctl);
        e->ctl = v;
        e->ctl_cap = cap;
        e->ctl_head = 0;
    }
    v = &e->ctl[(e->ctl_head + e->ctl_cnt) % e->ctl_cap];
    v->to = *to;
    v->bytes = b;
    v->len = (size_t)n;
    e->ctl_cnt++;
    return 0;
}

ssize_t
pmul__ctl_poll(pmul_engine *e, uint8_t *out, size_t cap, pmul_addr *to)
{
    pmul_ctl *c;
    size_t n;

    if (e->ctl_cnt == 0)
        return 0;
    c = &e->ctl[e->ctl_head];
    if (c->len > cap)
        return PMUL_ERR_NOSPACE;
    memcpy(out, c->bytes, c->len);
    *to = c->to;
    n = c->len;
    mem_free(e->m, c->bytes);
    e->ctl_head = (e->ctl_head + 1) % e->ctl_cap;
    e->ctl_cnt--;
    return (ssize_t)n;
}
