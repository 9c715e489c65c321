/*
 * NAME
 *	netsim_sim - the discrete-event loop of netsim
 * SYNOPSIS
 *	#include "netsim/netsim.h"
 * DESCRIPTION
 *	Six event kinds drive a run: SUBMIT (a message is handed to its
 *	sender's engine), TIMER (an engine deadline), TX_END (a datagram has
 *	been serialised on its sender's uplink), ARRIVE (a copy reaches a
 *	node), EMCON (a node enters or leaves EMCON) and ATTACK (an attacker
 *	node sends, netsim_attack.c).  Events are ordered
 *	by (virtual time, push order), so equal times keep a fixed order.
 *
 *	After every call into an engine the node is "serviced": its events
 *	are collected, poll_tx is drained into the uplink queue, and its one
 *	timer is re-armed from next_deadline.  A stale timer is recognised by
 *	its generation and ignored, as in libuv's timer re-arming.  The
 *	engine paces itself to the link rate; the uplink queue (with a byte
 *	limit that drops like a full modem buffer) makes a pacing mistake
 *	visible as queueing delay or "qdrop" instead of hiding it.
 *
 *	A datagram is written to the tx hook (pcap) and counted as "on the
 *	air" when its serialisation starts; loss on the sender's side ("tx")
 *	drops it for everybody, loss on a receiver's side drops that copy.
 *	Multicast goes to every other node: engines filter by the destination
 *	list as P_MUL receivers must.  A node in EMCON starts no
 *	transmission; if its engine still produces a datagram, that is
 *	recorded as a violation and the datagram is not sent.
 *
 *	Two media: by default each node has its own uplink; with "medium
 *	shared" one channel carries one transmission at a time for every
 *	node, granted in FIFO order of readiness, one datagram per turn, so
 *	Acks compete with Data_PDUs for the air as on an HF/VHF net.  A node
 *	in a link outage ("outage") sends into nothing and hears nothing;
 *	its engine is not told, unlike EMCON.
 *
 *	The transcript hash covers every datagram (sent, lost, arrived,
 *	dropped at the queue) and every engine event with its virtual time,
 *	as fixed-width binary fields, so formatting never changes it.
 * SECURITY
 *	Datagrams come from the engines under test and are classified with
 *	pmul_pdu_decode() only (the one P_MUL parser).  Deliveries are
 *	compared with the submitted payload, never trusted.
 * DIAGNOSTICS
 *	NETSIM_ERR_NOMEM, NETSIM_ERR_LIMIT, NETSIM_ERR_SINK, NETSIM_ERR_ENGINE;
 *	invariant violations go to the problem list read by netsim_check().
 * SEE ALSO
 *	netsim(7), ngtcp2 sim.h, picoquic sim_link.c, pmul_engine(3).
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "netsim/netsim_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "pmul/util/arr.h"
#include "pmul/util/fnv.h"

enum { EV_SUBMIT = 1, EV_TIMER, EV_TX_END, EV_ARRIVE, EV_EMCON, EV_ATTACK };
_Static_assert(EV_ATTACK == NETSIM__EV_ATTACK, "netsim_int.h names the attack event");

/* Transcript record codes (hashed). */
enum { TR_SEND = 1, TR_TX, TR_TXLOST, TR_LOST, TR_QDROP, TR_RX, TR_EV, TR_EMCON,
       TR_VIOLATION, TR_SUBMIT, TR_BUSY, TR_MULE, TR_OUTAGE, TR_AUTH_DROP };

static const char *const tr_names[] = {
    "?", "send", "tx", "txlost", "lost", "qdrop", "rx", "event", "emcon",
    "EMCON-VIOLATION", "submit", "busy", "mule", "outage", "authdrop",
};

#define PROBLEM_LINES_MAX 64
#define BUSY_RETRY_US 1000000u
#define POLL_GUARD 1000000u

void
netsim__problem(netsim *s, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    int n;

    s->problem_cnt++;
    if (s->problem_cnt > PROBLEM_LINES_MAX)
        return;
    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    /* An allocation failure here loses a line of diagnosis, not the
     * count, which is what the verdict is made of. */
    if (buf_printf(&s->problems, "FAIL %llu.%06llu %s\n",
                   (unsigned long long)(s->now_us / 1000000),
                   (unsigned long long)(s->now_us % 1000000), line) != 0)
        return;
}

/* ---- transcript ----------------------------------------------------- */

static void
hash_u64(uint64_t *h, uint64_t v)
{
    uint8_t le[8];
    int i;

    /* Little-endian octets, so the hash is the same on every host. */
    for (i = 0; i < 8; i++)
        le[i] = (uint8_t)(v >> (8 * i));
    *h = fnv64_update(*h, le, sizeof(le));
}

static void
trace(netsim *s, int code, size_t node, uint64_t a, uint64_t b, uint64_t c, uint64_t d,
      const char *extra)
{
    char line[320];
    int n;

    hash_u64(&s->hash, s->now_us);
    hash_u64(&s->hash, (uint64_t)code);
    hash_u64(&s->hash, node);
    hash_u64(&s->hash, a);
    hash_u64(&s->hash, b);
    hash_u64(&s->hash, c);
    hash_u64(&s->hash, d);
    if (s->o.on_line == NULL)
        return;
    n = snprintf(line, sizeof(line), "%llu.%06llu %-6s %-8s %s",
                 (unsigned long long)(s->now_us / 1000000),
                 (unsigned long long)(s->now_us % 1000000), tr_names[code],
                 node < s->sc->node_cnt ? s->sc->nodes[node].name : "-",
                 extra != NULL ? extra : "");
    if (n > 0)
        s->o.on_line(s->o.hook_arg, line);
}

static void
trace_dgram(netsim *s, int code, size_t node, const netsim__dgram *d)
{
    char extra[200];

    if (s->o.on_line != NULL) {
        (void)snprintf(extra, sizeof(extra),
                       "%u.%u.%u.%u:%u > %u.%u.%u.%u:%u %s msid=%08x seq=%u map=%u dests=%u len=%zu",
                       d->src_ip >> 24, (d->src_ip >> 16) & 255, (d->src_ip >> 8) & 255,
                       d->src_ip & 255, d->src_port,
                       d->dst_ip >> 24, (d->dst_ip >> 16) & 255, (d->dst_ip >> 8) & 255,
                       d->dst_ip & 255, d->dst_port,
                       d->type >= 0 ? pmul_pdu_type_name((unsigned)d->type) : "undecodable",
                       d->msid, d->seq, d->map >> 6, d->dest_cnt, d->len);
    }
    trace(s, code, node, (uint64_t)d->src_ip << 32 | d->dst_ip,
          (uint64_t)(uint32_t)d->type << 32 | d->msid,
          (uint64_t)d->seq << 32 | (uint64_t)d->map << 16 | d->dest_cnt,
          d->len, s->o.on_line != NULL ? extra : NULL);
}

void
netsim__trace_mule(netsim *s, size_t node, uint64_t a, uint64_t b, uint64_t c,
                   const char *extra)
{
    trace(s, TR_MULE, node, a, b, c, 0, extra);
}

/* ---- lookups -------------------------------------------------------- */

/* Both tables are reserved for every node and message at netsim_new(),
 * so adding to them while the simulation runs cannot fail. */
static inline uint64_t
msg_key(uint32_t src_ip, uint32_t msid)
{
    return (uint64_t)src_ip << 32 | msid;
}

size_t
netsim__msg_find(const netsim *s, uint32_t src_ip, uint32_t msid)
{
    uint64_t v;

    return map_get(&s->msg_tab, msg_key(src_ip, msid), &v) ? (size_t)v : SIZE_MAX;
}

static int
msg_tab_add(netsim *s, size_t idx)
{
    const netsim__msg *mm = &s->msgs[idx];

    return map_put(&s->msg_tab, msg_key(s->sc->nodes[mm->cfg->from].ip, mm->msid), idx);
}

size_t
netsim__dest_pos(const netsim__msg *mm, size_t node)
{
    size_t lo = 0, hi = mm->cfg->to_cnt;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (mm->cfg->to[mid] < node)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < mm->cfg->to_cnt && mm->cfg->to[lo] == node ? lo : SIZE_MAX;
}

static size_t
node_by_ip(const netsim *s, uint32_t ip)
{
    uint64_t v;

    return map_get(&s->by_ip, ip, &v) ? (size_t)v : SIZE_MAX;
}

/* The rate node i sends at: its uplink's, or the shared channel's. */
static uint64_t
node_rate(const netsim *s, size_t i)
{
    return s->sc->shared ? s->sc->shared_rate_bps : s->sc->nodes[i].rate_bps;
}

double
netsim__path_loss(const netsim *s, size_t a, size_t b)
{
    double lt = netsim_loss_mean(&s->sc->nodes[a].tx_loss);
    double lr = netsim_loss_mean(&s->sc->nodes[b].rx_loss);

    return 1.0 - (1.0 - lt) * (1.0 - lr);
}

/* ---- datagrams ------------------------------------------------------ */

static void
dgram_release(netsim *s, netsim__dgram *d)
{
    if (d != NULL && --d->refs == 0)
        mem_free(s->m, d);
}

void
netsim__dgram_release(netsim *s, netsim__dgram *d)
{
    dgram_release(s, d);
}

int
netsim__decode(netsim *s, pmul_pdu *pdu, const uint8_t *p, size_t len)
{
    int rc = pmul_pdu_decode(pdu, &s->scratch, p, len);

    /* Only runs with keys look further, so the others classify (and
     * hash) exactly as before the authenticated mode existed. */
    if (rc != 0 && s->auth_any && len > PMUL_AUTH_TRAILER_LEN)
        rc = pmul_pdu_decode(pdu, &s->scratch, p, len - PMUL_AUTH_TRAILER_LEN);
    return rc;
}

/* Classify with the one P_MUL decoder: type, MSID and the fields the
 * transcript and the observers need. */
static void
classify(netsim *s, netsim__dgram *d)
{
    pmul_pdu pdu;

    d->type = -1;
    d->map = 0;
    d->seq = 0;
    d->dest_cnt = 0;
    d->msid = 0;
    d->msg = SIZE_MAX;
    if (netsim__decode(s, &pdu, d->data, d->len) != 0)
        return;
    d->type = pdu.type;
    d->map = pdu.map;
    if (pdu.type != PMUL_PDU_ACK) {
        d->msid = pdu.msid;
        d->msg = netsim__msg_find(s, pdu.source_id, pdu.msid);
    }
    if (pdu.type == PMUL_PDU_DATA)
        d->seq = pdu.u.data.seq;
    else if (pmul_pdu_is_address(pdu.type)) {
        d->seq = pdu.u.address.total_pdus;
        d->dest_cnt = pdu.u.address.dest_cnt;
    } else if (pdu.type == PMUL_PDU_ACK)
        d->dest_cnt = pdu.u.ack.entry_cnt;
}

/* Attribute a datagram's air octets to the messages it serves.  An
 * Ack_PDU is shared out by its entries (header to the first entry). */
static void
attribute_air(netsim *s, const netsim__dgram *d, uint64_t octets)
{
    pmul_pdu pdu;
    size_t i, m, share;

    if (d->msg != SIZE_MAX) {
        s->msgs[d->msg].air_bytes += octets;
        return;
    }
    if (d->type != PMUL_PDU_ACK || netsim__decode(s, &pdu, d->data, d->len) != 0)
        return;
    share = octets / pdu.u.ack.entry_cnt;
    for (i = 0; i < pdu.u.ack.entry_cnt; i++) {
        m = netsim__msg_find(s, pdu.u.ack.entries[i].source_id, pdu.u.ack.entries[i].msid);
        if (m != SIZE_MAX)
            s->msgs[m].air_bytes += i == 0 ? octets - share * (pdu.u.ack.entry_cnt - 1) : share;
    }
}

static int
push(netsim *s, uint64_t t, uint32_t kind, size_t node, uint64_t gen, void *ptr)
{
    netsim_ev_ent e;

    e.time_us = t;
    e.seq = 0;
    e.kind = kind;
    e.node = (uint32_t)node;
    e.gen = gen;
    e.ptr = ptr;
    return netsim_heap_push(&s->heap, &e);
}

int
netsim__push(netsim *s, uint64_t t, uint32_t kind, size_t node, uint64_t gen, void *ptr)
{
    return push(s, t, kind, node, gen, ptr);
}

/* Put the oldest datagram of node i's queue on the air (the caller has
 * checked that the node and, on a shared medium, the channel are free). */
static int
tx_begin(netsim *s, size_t i)
{
    netsim__node *n = &s->nodes[i];
    netsim__dgram *d;
    uint64_t octets;
    int rc;

    d = netsim_txq_pop(&n->q);
    if (d == NULL)
        return 0;
    n->tx_busy = true;
    if (s->sc->shared)
        s->chan_busy = true;
    octets = (uint64_t)d->len + s->sc->overhead;
    s->counters[NETSIM_C_DATAGRAMS]++;
    s->counters[NETSIM_C_AIR_BYTES] += octets;
    switch (d->type) {
    case PMUL_PDU_DATA:
        s->counters[NETSIM_C_DATA]++;
        break;
    case PMUL_PDU_ACK:
        s->counters[NETSIM_C_ACK]++;
        break;
    case PMUL_PDU_DISCARD:
        s->counters[NETSIM_C_DISCARD]++;
        break;
    case PMUL_PDU_ADDRESS:
    case PMUL_PDU_EXTRA_ADDRESS:
    case PMUL_PDU_FEC_ADDRESS:
    case PMUL_PDU_EXTRA_FEC_ADDRESS:
        s->counters[NETSIM_C_ADDRESS]++;
        if (d->map != 0)
            s->counters[NETSIM_C_ADDRESS_MAP]++;
        if (d->dest_cnt == 0)
            s->counters[NETSIM_C_ACKACK]++;
        break;
    default:
        break;
    }
    if (n->cfg->attacker)
        s->counters[NETSIM_C_ATTACK]++;
    attribute_air(s, d, octets);
    trace_dgram(s, TR_TX, i, d);
    if (s->o.on_tx != NULL
        && s->o.on_tx(s->o.hook_arg, (uint64_t)s->sc->wall_start_s * 1000000u + s->now_us,
                      d->src_ip, d->src_port, d->dst_ip, d->dst_port, d->data, d->len) != 0) {
        dgram_release(s, d);
        return NETSIM_ERR_SINK;
    }
    /* Attackers hear the medium as it is on the air (what they send
     * themselves excepted, or a replay would replay itself). */
    if (s->sc->attack_cnt > 0 && !n->cfg->attacker && (rc = netsim__attack_observe(s, d)) != 0) {
        dgram_release(s, d);
        return rc;
    }
    rc = push(s, s->now_us + netsim_tx_time_us(d->len, s->sc->overhead, node_rate(s, i)),
              EV_TX_END, i, 0, d);
    if (rc != 0)
        dgram_release(s, d);
    return rc;
}

/*
 * A node whose link is out (a dead modem, an antenna down) sends into
 * nothing: what it queued is dropped when it would go on the air, without
 * taking air time from anyone.  Its engine is not told, unlike EMCON.
 */
static void
outage_flush(netsim *s, size_t i)
{
    netsim__node *n = &s->nodes[i];
    netsim__dgram *d;

    if (n->cfg->outage_cnt == 0 || !netsim_scen_in_outage(n->cfg, s->now_us))
        return;
    while ((d = netsim_txq_pop(&n->q)) != NULL) {
        s->counters[NETSIM_C_OUTAGE]++;
        trace_dgram(s, TR_OUTAGE, i, d);
        dgram_release(s, d);
    }
}

/*
 * The shared channel: when it is free, the node that has waited longest
 * sends one datagram, then queues again behind the others if it has more
 * (FIFO by readiness, one datagram per turn).  This is a perfect MAC: no
 * collisions, no carrier-sense delay, no radio turnaround, so it is the
 * best a real HF/VHF net could do with the same traffic.  A node that
 * entered EMCON while waiting leaves the line; leaving EMCON puts it back
 * (do_emcon calls start_tx).
 */
static int
chan_next(netsim *s)
{
    size_t cnt = s->sc->node_cnt, k;

    while (!s->chan_busy && s->chan_len > 0) {
        k = s->chan_q[s->chan_head];
        s->chan_head = (s->chan_head + 1) % cnt;
        s->chan_len--;
        s->nodes[k].chan_wait = false;
        if (s->nodes[k].emcon)
            continue;
        outage_flush(s, k);
        if (s->nodes[k].q.len > 0)
            return tx_begin(s, k);
    }
    return 0;
}

/* Start node i's next transmission if its uplink (or its turn on the
 * shared channel) allows it. */
static int
start_tx(netsim *s, size_t i)
{
    netsim__node *n = &s->nodes[i];
    size_t cnt = s->sc->node_cnt;

    if (!n->tx_busy && !n->emcon) {
        outage_flush(s, i);
        if (n->q.len > 0 && !s->sc->shared)
            return tx_begin(s, i);
        if (n->q.len > 0 && !n->chan_wait) {
            /* At most node_cnt entries: a node is in the line once. */
            s->chan_q[(s->chan_head + s->chan_len) % cnt] = i;
            s->chan_len++;
            n->chan_wait = true;
        }
    }
    return s->sc->shared ? chan_next(s) : 0;
}

/* Virtual wall-clock milliseconds: the authenticated mode's sequence
 * numbers (pmul_auth_seal) come from them, so runs stay deterministic. */
static uint64_t
wall_ms(const netsim *s)
{
    return (uint64_t)s->sc->wall_start_s * 1000u + s->now_us / 1000u;
}

static netsim__dgram *
dgram_make(netsim *s, size_t node, uint32_t src_ip, uint32_t to_ip, uint16_t to_port,
           const uint8_t *p, size_t len, bool seal)
{
    pmul_auth *a = seal ? s->nodes[node].auth : NULL;
    netsim__dgram *d;
    ssize_t n;

    if (len > PMUL_PDU_MAX_LEN)
        return NULL;
    d = mem_alloc(s->m, sizeof(*d) + len + (a != NULL ? PMUL_AUTH_TRAILER_LEN : 0));
    if (d == NULL)
        return NULL;
    d->refs = 1;
    d->src = (uint32_t)node;
    d->src_ip = src_ip;
    /* P_MUL nodes send from the port of the service they talk to. */
    d->src_port = to_port;
    d->dst_ip = to_ip;
    d->dst_port = to_port;
    d->len = len;
    memcpy(d->data, p, len);
    if (a != NULL) {
        /* As pmul_uv does: the trailer covers the address the datagram
         * leaves from (an attacker's spoofed one too). */
        n = pmul_auth_seal(a, wall_ms(s), src_ip, d->data, len, len + PMUL_AUTH_TRAILER_LEN);
        if (n < 0) {
            netsim__problem(s, "%s: pmul_auth_seal failed (%s)", s->sc->nodes[node].name,
                            pmul_errname((int)n));
            mem_free(s->m, d);
            return NULL;
        }
        d->len = (size_t)n;
    }
    classify(s, d);
    return d;
}

netsim__dgram *
netsim__dgram_new(netsim *s, size_t node, uint32_t src_ip, uint32_t to_ip, uint16_t to_port,
                  const uint8_t *p, size_t len)
{
    return dgram_make(s, node, src_ip, to_ip, to_port, p, len, true);
}

netsim__dgram *
netsim__dgram_copy(netsim *s, size_t node, uint32_t src_ip, uint32_t to_ip, uint16_t to_port,
                   const uint8_t *p, size_t len)
{
    return dgram_make(s, node, src_ip, to_ip, to_port, p, len, false);
}

/* Put d on node i's uplink queue (or drop it at a full queue). */
static int
enqueue(netsim *s, size_t i, netsim__dgram *d)
{
    int rc;

    trace_dgram(s, TR_SEND, i, d);
    rc = netsim_txq_push(&s->nodes[i].q, d, d->len);
    if (rc == NETSIM_ERR_LIMIT) {
        s->counters[NETSIM_C_QDROP]++;
        trace_dgram(s, TR_QDROP, i, d);
        dgram_release(s, d);
        return 0;
    }
    if (rc != 0) {
        dgram_release(s, d);
        return rc;
    }
    return start_tx(s, i);
}

int
netsim__inject(netsim *s, size_t a, netsim__dgram *d)
{
    return enqueue(s, s->sc->attacks[a].node, d);
}

/* A datagram produced by node i's engine. */
static int
emit(netsim *s, size_t i, uint32_t to_ip, uint16_t to_port, size_t len)
{
    netsim__node *n = &s->nodes[i];
    netsim__dgram *d;

    d = netsim__dgram_new(s, i, n->cfg->ip, to_ip, to_port, s->txbuf, len);
    if (d == NULL)
        return NETSIM_ERR_NOMEM;
    if (n->emcon) {
        n->emcon_violations++;
        trace_dgram(s, TR_VIOLATION, i, d);
        netsim__problem(s, "node %s transmitted %s in EMCON", n->cfg->name,
                d->type >= 0 ? pmul_pdu_type_name((unsigned)d->type) : "a datagram");
        dgram_release(s, d);
        return 0;
    }
    return enqueue(s, i, d);
}

/* ---- engine events -------------------------------------------------- */

static int
on_delivered(netsim *s, size_t node, const netsim_event *ev)
{
    size_t m = netsim__msg_find(s, ev->source_id, ev->msid), pos;
    netsim__msg *mm;

    if (m == SIZE_MAX) {
        netsim__problem(s, "%s delivered an unknown message msid=%08x", s->sc->nodes[node].name, ev->msid);
        return 0;
    }
    mm = &s->msgs[m];
    pos = netsim__dest_pos(mm, node);
    if (pos == SIZE_MAX) {
        netsim__problem(s, "%s got message %s although it is not a destination",
                s->sc->nodes[node].name, mm->cfg->name);
        return 0;
    }
    if (mm->dcount[pos] < 255)
        mm->dcount[pos]++;
    if (mm->dcount[pos] > 1) {
        netsim__problem(s, "%s got message %s %u times", s->sc->nodes[node].name, mm->cfg->name,
                mm->dcount[pos]);
        return 0;
    }
    if (ev->payload_len != mm->len || (mm->len > 0 && memcmp(ev->payload, mm->payload, mm->len) != 0)) {
        mm->dflags[pos] |= NETSIM__D_BAD;
        netsim__problem(s, "%s got message %s with different content (%zu octets, want %zu)",
                s->sc->nodes[node].name, mm->cfg->name, ev->payload_len, mm->len);
        return 0;
    }
    mm->dflags[pos] |= NETSIM__D_DELIVERED;
    mm->deliver_us[pos] = s->now_us;
    /* The node's MULE takes it (once, and only as submitted). */
    return s->sc->mule ? netsim__mule_inbound(s, node, m, ev->payload, ev->payload_len) : 0;
}

static void
on_tx_event(netsim *s, size_t node, const netsim_event *ev)
{
    size_t m = netsim__msg_find(s, s->sc->nodes[node].ip, ev->msid), pos = SIZE_MAX, dn;
    netsim__msg *mm;

    if (m == SIZE_MAX) {
        netsim__problem(s, "%s reported %s for an unknown message msid=%08x",
                s->sc->nodes[node].name, s->o.ops->event_name(ev->engine_kind), ev->msid);
        return;
    }
    mm = &s->msgs[m];
    if (ev->kind != NETSIM_EV_MSG_DONE) {
        dn = node_by_ip(s, ev->dest_id);
        if (dn != SIZE_MAX)
            pos = netsim__dest_pos(mm, dn);
        if (pos == SIZE_MAX) {
            netsim__problem(s, "%s reported %s for %s, not a destination of it", s->sc->nodes[node].name,
                    s->o.ops->event_name(ev->engine_kind), mm->cfg->name);
            return;
        }
        if (mm->dflags[pos] & (NETSIM__D_ACKED | NETSIM__D_FAILED)) {
            netsim__problem(s, "%s reported the outcome of %s for %s twice", s->sc->nodes[node].name,
                    mm->cfg->name, s->sc->nodes[dn].name);
            return;
        }
    }
    switch (ev->kind) {
    case NETSIM_EV_DEST_ACKED:
        mm->dflags[pos] |= NETSIM__D_ACKED;
        mm->ack_us[pos] = s->now_us;
        break;
    case NETSIM_EV_DEST_FAILED:
        mm->dflags[pos] |= NETSIM__D_FAILED;
        break;
    case NETSIM_EV_MSG_DONE:
        if (++mm->done_cnt > 1) {
            netsim__problem(s, "%s finished message %s twice", s->sc->nodes[node].name, mm->cfg->name);
            return;
        }
        mm->done = true;
        mm->done_us = s->now_us;
        if (--s->msgs_left == 0)
            s->end_at = s->now_us + s->sc->linger_us;
        break;
    default:
        break;
    }
}

static void
on_rx_discarded(netsim *s, size_t node, const netsim_event *ev)
{
    size_t m = netsim__msg_find(s, ev->source_id, ev->msid), pos;

    if (m == SIZE_MAX)
        return;
    pos = netsim__dest_pos(&s->msgs[m], node);
    if (pos != SIZE_MAX)
        s->msgs[m].dflags[pos] |= NETSIM__D_RX_DISC;
}

static int
drain_events(netsim *s, size_t i)
{
    netsim__node *n = &s->nodes[i];
    netsim_event ev;
    char extra[160];
    int rc;

    while (s->o.ops->poll_event(n->eng, &ev) == 1) {
        if (s->o.on_line != NULL)
            (void)snprintf(extra, sizeof(extra), "%s src=%u.%u.%u.%u msid=%08x dest=%u.%u.%u.%u len=%zu reason=%d",
                           s->o.ops->event_name(ev.engine_kind),
                           ev.source_id >> 24, (ev.source_id >> 16) & 255,
                           (ev.source_id >> 8) & 255, ev.source_id & 255, ev.msid,
                           ev.dest_id >> 24, (ev.dest_id >> 16) & 255,
                           (ev.dest_id >> 8) & 255, ev.dest_id & 255,
                           ev.payload_len, ev.reason);
        trace(s, TR_EV, i, (uint64_t)(uint32_t)ev.engine_kind, (uint64_t)ev.source_id << 32 | ev.msid,
              ev.dest_id, (uint64_t)ev.payload_len << 8 | (uint8_t)ev.reason, extra);
        switch (ev.kind) {
        case NETSIM_EV_DELIVERED:
            s->counters[NETSIM_C_DELIVERIES]++;
            if ((rc = on_delivered(s, i, &ev)) != 0)
                return rc;
            break;
        case NETSIM_EV_RX_DISCARDED:
            on_rx_discarded(s, i, &ev);
            break;
        case NETSIM_EV_LOST_MESSAGE:
            s->counters[NETSIM_C_LOST_MESSAGE]++;
            break;
        case NETSIM_EV_DEST_ACKED:
        case NETSIM_EV_DEST_FAILED:
        case NETSIM_EV_MSG_DONE:
            on_tx_event(s, i, &ev);
            break;
        default:
            break;
        }
    }
    return 0;
}

static int
rearm(netsim *s, size_t i)
{
    netsim__node *n = &s->nodes[i];
    uint64_t t = s->o.ops->next_deadline_us(n->eng);

    if (t == NETSIM_FOREVER) {
        if (n->timer_at != NETSIM_FOREVER) {
            n->timer_gen++;
            n->timer_at = NETSIM_FOREVER;
        }
        return 0;
    }
    /* A deadline that is already due after the engine was just serviced
     * is taken at the next millisecond (the engine's clock granularity):
     * this can never loop at one instant. */
    if (t <= s->now_us)
        t = (s->now_us / 1000 + 1) * 1000;
    if (t == n->timer_at)
        return 0;
    n->timer_gen++;
    n->timer_at = t;
    return push(s, t, EV_TIMER, i, n->timer_gen, NULL);
}

/* Collect events, drain poll_tx, re-arm the timer of node i. */
static int
service(netsim *s, size_t i)
{
    netsim__node *n = &s->nodes[i];
    uint32_t to_ip;
    uint16_t to_port;
    ssize_t len;
    size_t guard = 0;
    int rc;

    if ((rc = drain_events(s, i)) != 0)
        return rc;
    for (;;) {
        len = s->o.ops->poll_tx(n->eng, s->now_us, s->txbuf, s->txbuf_cap, &to_ip, &to_port);
        if (len == 0)
            break;
        if (len < 0 || (size_t)len > s->txbuf_cap) {
            netsim__problem(s, "%s: poll_tx failed (%zd)", n->cfg->name, len);
            break;
        }
        rc = emit(s, i, to_ip, to_port, (size_t)len);
        if (rc != 0)
            return rc;
        if (++guard == POLL_GUARD) {
            netsim__problem(s, "%s: poll_tx does not stop", n->cfg->name);
            break;
        }
    }
    if ((rc = drain_events(s, i)) != 0)
        return rc;
    return rearm(s, i);
}

/* ---- event handlers ------------------------------------------------- */

static int
do_submit(netsim *s, size_t m)
{
    netsim__msg *mm = &s->msgs[m];
    const netsim_msg_cfg *c = mm->cfg;
    netsim__node *n = &s->nodes[c->from];
    netsim_submit sub;
    uint32_t *dests;
    bool *emc;
    size_t k;
    int rc;

    dests = mem_calloc(s->m, c->to_cnt, sizeof(*dests));
    emc = mem_calloc(s->m, c->to_cnt, sizeof(*emc));
    if (dests == NULL || emc == NULL) {
        mem_free(s->m, dests);
        mem_free(s->m, emc);
        return NETSIM_ERR_NOMEM;
    }
    for (k = 0; k < c->to_cnt; k++) {
        dests[k] = s->sc->nodes[c->to[k]].ip;
        emc[k] = s->nodes[c->to[k]].emcon;
    }
    sub.payload = mm->payload;
    sub.len = mm->len;
    sub.dests = dests;
    sub.dest_emcon = emc;
    sub.dest_cnt = c->to_cnt;
    sub.prio = c->prio;
    sub.expiry_us = c->expiry_us;
    sub.tag = m;
    rc = s->o.ops->submit(n->eng, s->now_us, &sub, &mm->msid);
    mem_free(s->m, dests);
    mem_free(s->m, emc);
    if (rc == NETSIM_ERR_LIMIT) {
        /* The engine is full: a real submitter keeps the mail and retries
         * (nothing accepted may be lost). */
        mm->busy_retries++;
        trace(s, TR_BUSY, c->from, m, mm->busy_retries, 0, 0, c->name);
        return push(s, s->now_us + BUSY_RETRY_US, EV_SUBMIT, m, 0, NULL);
    }
    if (rc != 0) {
        mm->submit_err = rc;
        netsim__problem(s, "%s refused message %s (%d)", n->cfg->name, c->name, rc);
        if (--s->msgs_left == 0)
            s->end_at = s->now_us + s->sc->linger_us;
        return service(s, c->from);
    }
    if (netsim__msg_find(s, n->cfg->ip, mm->msid) != SIZE_MAX) {
        netsim__problem(s, "%s reused MSID %08x for %s", n->cfg->name, mm->msid, c->name);
    } else if (msg_tab_add(s, m) != 0) {
        /* Reserved for every message at netsim_new(): a bug if reached. */
        netsim__problem(s, "message table full at %s", c->name);
    }
    mm->submitted = true;
    mm->submit_us = s->now_us;
    trace(s, TR_SUBMIT, c->from, m, mm->msid, mm->len, c->prio, c->name);
    return service(s, c->from);
}

static void
observe_arrival(netsim *s, size_t j, const netsim__dgram *d)
{
    netsim__msg *mm;
    size_t pos;

    if (d->msg == SIZE_MAX)
        return;
    mm = &s->msgs[d->msg];
    pos = netsim__dest_pos(mm, j);
    if (pos == SIZE_MAX)
        return;
    if (d->type == PMUL_PDU_DATA) {
        if (!(mm->dflags[pos] & NETSIM__D_ADDR_SEEN))
            s->counters[NETSIM_C_EARLY_DATA]++;
    } else if (d->type >= 0 && pmul_pdu_is_address((unsigned)d->type)) {
        mm->dflags[pos] |= NETSIM__D_ADDR_SEEN;
    } else if (d->type == PMUL_PDU_DISCARD) {
        mm->dflags[pos] |= NETSIM__D_DISCARD;
    }
}

static int
deliver_copy(netsim *s, netsim__dgram *d, size_t j)
{
    netsim__node *r = &s->nodes[j];
    uint64_t base, extra, dup_extra;
    bool dup;
    int rc;

    if (netsim_loss_drop(&r->rx_loss, d->type)) {
        s->counters[NETSIM_C_LOST]++;
        trace_dgram(s, TR_LOST, j, d);
        return 0;
    }
    base = s->now_us + s->sc->nodes[d->src].delay_us + r->cfg->delay_us
         + (s->sc->shared ? s->sc->shared_delay_us : 0);
    dup = netsim_jitter_apply(&r->jit, &extra, &dup_extra);
    if (extra > 0)
        s->counters[NETSIM_C_REORDER]++;
    d->refs++;
    rc = push(s, base + extra, EV_ARRIVE, j, 0, d);
    if (rc != 0) {
        d->refs--;
        return rc;
    }
    if (dup) {
        s->counters[NETSIM_C_DUP]++;
        d->refs++;
        rc = push(s, base + extra + dup_extra, EV_ARRIVE, j, 0, d);
        if (rc != 0)
            d->refs--;
    }
    return rc;
}

static int
do_tx_end(netsim *s, size_t i, netsim__dgram *d)
{
    netsim__node *n = &s->nodes[i];
    size_t j;
    int rc = 0;

    n->tx_busy = false;
    s->chan_busy = false;
    if (netsim_loss_drop(&n->tx_loss, d->type)) {
        /* Lost for everybody: count one lost copy per intended receiver. */
        s->counters[NETSIM_C_LOST] += (d->dst_ip >> 28) == 0xE ? s->sc->node_cnt - 1 : 1;
        trace_dgram(s, TR_TXLOST, i, d);
    } else if ((d->dst_ip >> 28) == 0xE) {
        /* Attackers run no engine: they hear the air (start_tx). */
        for (j = 0; j < s->sc->node_cnt && rc == 0; j++)
            if (j != i && !s->sc->nodes[j].attacker)
                rc = deliver_copy(s, d, j);
    } else {
        j = node_by_ip(s, d->dst_ip);
        if (s->sc->attack_cnt > 0 && (j == SIZE_MAX || s->sc->nodes[j].attacker)) {
            /* An Ack to a spoofed Source_ID or to the attacker itself:
             * what an attack makes a victim reflect, not a fault. */
            s->counters[NETSIM_C_UNROUTED]++;
        } else if (j == SIZE_MAX || j == i)
            netsim__problem(s, "%s sent to %u.%u.%u.%u, which is no other node", n->cfg->name,
                    d->dst_ip >> 24, (d->dst_ip >> 16) & 255, (d->dst_ip >> 8) & 255,
                    d->dst_ip & 255);
        else
            rc = deliver_copy(s, d, j);
    }
    dgram_release(s, d);
    if (rc != 0)
        return rc;
    return start_tx(s, i);
}

static int
do_arrive(netsim *s, size_t j, netsim__dgram *d)
{
    netsim__node *r = &s->nodes[j];
    size_t len;
    ssize_t n;
    int rc;

    /* Nothing reaches a node whose link is out; the copy had passed the
     * loss models already, so their random patterns do not shift. */
    if (r->cfg->outage_cnt != 0 && netsim_scen_in_outage(r->cfg, s->now_us)) {
        s->counters[NETSIM_C_OUTAGE]++;
        trace_dgram(s, TR_OUTAGE, j, d);
        dgram_release(s, d);
        return 0;
    }
    len = d->len;
    if (r->auth != NULL) {
        /* As pmul_uv does: checked before the engine sees anything. */
        n = pmul_auth_open(r->auth, wall_ms(s), d->src_ip, d->data, d->len);
        if (n < 0) {
            s->counters[NETSIM_C_AUTH_DROP]++;
            trace_dgram(s, TR_AUTH_DROP, j, d);
            dgram_release(s, d);
            return 0;
        }
        len = (size_t)n;
    }
    observe_arrival(s, j, d);
    trace_dgram(s, TR_RX, j, d);
    /* The engine's verdict (used, or dropped for a reason) is in its
     * stats; a drop is normal protocol behaviour, not a failure. */
    (void)s->o.ops->recv(r->eng, s->now_us, d->src_ip, d->src_port, d->data, len);
    dgram_release(s, d);
    rc = service(s, j);
    return rc;
}

static int
do_emcon(netsim *s, size_t i, bool on)
{
    netsim__node *n = &s->nodes[i];
    size_t k;
    int rc;

    if (n->emcon == on || n->cfg->attacker)
        return 0;
    n->emcon = on;
    trace(s, TR_EMCON, i, on, 0, 0, 0, on ? "on" : "off");
    s->o.ops->set_emcon(n->eng, s->now_us, on);
    /* The other nodes learn it out of band, as an operator would tell
     * them (docs/wire.md 7.2 step 3). */
    for (k = 0; k < s->sc->node_cnt; k++) {
        if (k == i || s->sc->nodes[k].attacker)
            continue;
        s->o.ops->set_dest_emcon(s->nodes[k].eng, s->now_us, n->cfg->ip, on);
        rc = service(s, k);
        if (rc != 0)
            return rc;
    }
    rc = service(s, i);
    if (rc == 0 && !on)
        rc = start_tx(s, i);
    return rc;
}

/* ---- life cycle ----------------------------------------------------- */

static int
build_text(netsim *s, netsim__msg *mm)
{
    const netsim_msg_cfg *c = mm->cfg;
    const char **names;
    netsim_mail_params mp;
    netsim_rng rng;
    buf b;
    size_t k;
    int rc = 0;

    if (c->text == NETSIM_TEXT_LITERAL) {
        mm->payload = mem_alloc(s->m, c->size);
        if (mm->payload == NULL)
            return NETSIM_ERR_NOMEM;
        memcpy(mm->payload, c->literal, c->size);
        mm->len = c->size;
        return 0;
    }
    if (c->text == NETSIM_TEXT_BINARY) {
        mm->payload = mem_alloc(s->m, c->size);
        if (mm->payload == NULL)
            return NETSIM_ERR_NOMEM;
        netsim_rng_seed(&rng, s->sc->text_seed, netsim_label(c->name));
        for (k = 0; k < c->size; k++)
            mm->payload[k] = (uint8_t)(netsim_rng_next(&rng) >> 56);
        mm->len = c->size;
        return 0;
    }
    names = mem_calloc(s->m, c->to_cnt, sizeof(*names));
    if (names == NULL)
        return NETSIM_ERR_NOMEM;
    for (k = 0; k < c->to_cnt; k++)
        names[k] = s->sc->nodes[c->to[k]].name;
    mp.from = s->sc->nodes[c->from].name;
    mp.to = names;
    mp.to_cnt = c->to_cnt;
    mp.msg_name = c->name;
    mp.date_s = s->sc->wall_start_s + (int64_t)(c->at_us / 1000000);
    mp.size = c->size;
    buf_init(&b, s->m, SIZE_MAX);
    if (netsim_mail_gen(&b, s->sc->text_seed, &mp) != 0)
        rc = NETSIM_ERR_NOMEM;
    mem_free(s->m, names);
    if (rc != 0) {
        buf_fini(&b);
        return rc;
    }
    mm->payload = buf_steal(&b, &mm->len);
    return 0;
}

/* The payload; a MULE mail's text goes into its CompressedData. */
static int
build_payload(netsim *s, netsim__msg *mm)
{
    int rc = build_text(s, mm);

    if (rc != 0 || mm->cfg->rcpt == NULL)
        return rc;
    return netsim__mule_wrap(s, mm);
}

static double
msg_limit(const netsim *s, const netsim__msg *mm)
{
    const netsim_msg_cfg *c = mm->cfg;
    uint64_t rate = node_rate(s, c->from);
    double loss = 0.0, l;
    size_t k;

    if (rate == 0)
        return 0.0;
    for (k = 0; k < c->to_cnt; k++) {
        l = netsim__path_loss(s, c->from, c->to[k]);
        if (l > loss)
            loss = l;
    }
    if (loss >= 1.0)
        return 0.0;
    return (double)mm->len * 8.0 / (double)rate / (1.0 - loss);
}

void
netsim__msg_fini(netsim *s, netsim__msg *mm)
{
    mem_free(s->m, mm->payload);
    mem_free(s->m, mm->dflags);
    mem_free(s->m, mm->dcount);
    mem_free(s->m, mm->deliver_us);
    mem_free(s->m, mm->ack_us);
    mem_free(s->m, mm->content);
    if (mm->own_cfg != NULL)
        mem_free(s->m, mm->own_cfg->to);
    mem_free(s->m, mm->own_cfg);
}

/* The per-destination arrays of a message (freed by netsim__msg_fini). */
static int
msg_alloc_dests(netsim *s, netsim__msg *mm, size_t dc)
{
    mm->dflags = mem_calloc(s->m, dc, 1);
    mm->dcount = mem_calloc(s->m, dc, 1);
    mm->deliver_us = mem_calloc(s->m, dc, sizeof(uint64_t));
    mm->ack_us = mem_calloc(s->m, dc, sizeof(uint64_t));
    if (mm->dflags == NULL || mm->dcount == NULL || mm->deliver_us == NULL
        || mm->ack_us == NULL)
        return NETSIM_ERR_NOMEM;
    return 0;
}

/* A message made during the run (a MULE relay or DSN): tracked and
 * checked like the scenario's own, submitted now. */
int
netsim__msg_add(netsim *s, netsim_msg_cfg *cfg, uint8_t *payload, size_t len)
{
    netsim__msg *mm;
    size_t dc = cfg->to_cnt;
    int rc;

    if (s->msg_cnt - s->sc->msg_cnt >= NETSIM_MULE_MSGS_MAX) {
        rc = NETSIM_ERR_LIMIT;
        goto fail;
    }
    rc = NETSIM_ERR_NOMEM;
    if (arr_grow_zero(s->m, (void **)&s->msgs, &s->msg_cap, s->msg_cnt + 1, sizeof(*s->msgs),
                      SIZE_MAX / sizeof(*s->msgs)) != 0 ||
        map_reserve(&s->msg_tab, s->msg_cnt + 1) != 0)
        goto fail;
    mm = &s->msgs[s->msg_cnt];
    memset(mm, 0, sizeof(*mm));
    mm->own_cfg = cfg;
    mm->cfg = cfg;
    mm->payload = payload;
    mm->len = len;
    s->msg_cnt++;               /* owns cfg and payload from here on */
    if (msg_alloc_dests(s, mm, dc) != 0)
        return NETSIM_ERR_NOMEM;
    mm->limit_s = msg_limit(s, mm);
    s->msgs_left++;
    return push(s, s->now_us, EV_SUBMIT, s->msg_cnt - 1, 0, NULL);
fail:
    mem_free(s->m, cfg->to);
    mem_free(s->m, cfg);
    mem_free(s->m, payload);
    return rc;
}

int
netsim_new(netsim **out, const netsim_scenario *sc, const netsim_opts *o)
{
    netsim *s;
    netsim_engine_init ei;
    size_t i, k;
    int rc;

    *out = NULL;
    if (o == NULL || o->ops == NULL || sc == NULL)
        return NETSIM_ERR_INVAL;
    s = mem_calloc(o->m, 1, sizeof(*s));
    if (s == NULL)
        return NETSIM_ERR_NOMEM;
    s->sc = sc;
    s->o = *o;
    s->m = o->m;
    s->seed = o->seed_set ? o->seed : sc->seed;
    s->hash = FNV64_INIT;
    hash_u64(&s->hash, s->seed);
    s->end_at = NETSIM_FOREVER;
    s->msgs_left = sc->msg_cnt;
    netsim_heap_init(&s->heap, s->m, o->max_events);
    buf_init(&s->problems, s->m, 1u << 20);
    rc = NETSIM_ERR_NOMEM;
    s->nodes = mem_calloc(s->m, sc->node_cnt, sizeof(*s->nodes));
    s->msgs = mem_calloc(s->m, sc->msg_cnt, sizeof(*s->msgs));
    s->msg_cap = sc->msg_cnt;
    map_init(&s->by_ip, s->m, sc->node_cnt);
    map_init(&s->msg_tab, s->m, sc->msg_cnt + (sc->mule ? NETSIM_MULE_MSGS_MAX : 0));
    s->txbuf_cap = PMUL_PDU_MAX_LEN;
    s->txbuf = mem_alloc(s->m, s->txbuf_cap);
    s->scratch.dests_cap = 8192;
    s->scratch.dests = mem_calloc(s->m, s->scratch.dests_cap, sizeof(pmul_dest_entry));
    s->scratch.acks_cap = 6554;
    s->scratch.acks = mem_calloc(s->m, s->scratch.acks_cap, sizeof(pmul_ack_entry));
    s->scratch.missing_cap = 32768;
    s->scratch.missing = mem_calloc(s->m, s->scratch.missing_cap, sizeof(uint16_t));
    s->scratch.dest_ids_cap = 16384;
    s->scratch.dest_ids = mem_calloc(s->m, s->scratch.dest_ids_cap, sizeof(uint32_t));
    s->scratch.max_reserved_len = 1024;
    if (sc->shared && (s->chan_q = mem_calloc(s->m, sc->node_cnt, sizeof(*s->chan_q))) == NULL)
        goto fail;
    if (s->nodes == NULL || s->msgs == NULL || map_reserve(&s->by_ip, sc->node_cnt) != 0
        || map_reserve(&s->msg_tab, sc->msg_cnt) != 0
        || s->txbuf == NULL || s->scratch.dests == NULL || s->scratch.acks == NULL
        || s->scratch.missing == NULL || s->scratch.dest_ids == NULL)
        goto fail;
    /* Node addresses for unicast routing (the parser refuses duplicates;
     * reserved above, so this cannot fail). */
    for (i = 0; i < sc->node_cnt; i++)
        if (map_put(&s->by_ip, sc->nodes[i].ip, i) != 0)
            goto fail;
    for (i = 0; i < sc->node_cnt; i++) {
        netsim__node *n = &s->nodes[i];
        const netsim_node_cfg *c = &sc->nodes[i];

        n->cfg = c;
        n->timer_at = NETSIM_FOREVER;
        netsim_loss_init(&n->tx_loss, &c->tx_loss, s->seed, (uint64_t)i << 8 | 1);
        netsim_loss_init(&n->rx_loss, &c->rx_loss, s->seed, (uint64_t)i << 8 | 2);
        netsim_jitter_init(&n->jit, &c->jitter, s->seed, (uint64_t)i << 8 | 3);
        netsim_txq_init(&n->q, s->m, c->queue_limit);
        if (c->auth_key_len != 0) {
            pmul_auth_config ac;

            memset(&ac, 0, sizeof(ac));
            ac.key = c->auth_key;
            ac.key_len = c->auth_key_len;
            ac.key_id = c->auth_key_id;
            /* No age limit: virtual clocks agree, and the replay window
             * is what a scenario tests. */
            if ((rc = pmul_auth_new(&n->auth, &ac, s->m)) != 0) {
                rc = rc == PMUL_ERR_NOMEM ? NETSIM_ERR_NOMEM : NETSIM_ERR_INVAL;
                goto fail;
            }
            s->auth_any = true;
        }
        if (c->attacker)
            continue;           /* no engine: netsim_attack.c sends */
        memset(&ei, 0, sizeof(ei));
        ei.node_id = c->ip;
        ei.rate_bps = node_rate(s, i);
        ei.overhead = sc->overhead;
        ei.seed = s->seed ^ ((uint64_t)i << 8 | 4) * 0x9e3779b97f4a7c15ull;
        ei.wall_start_s = sc->wall_start_s;
        ei.group = sc->group;
        ei.emcon = false;
        ei.kv = sc->kv;
        ei.kv_cnt = sc->kv_cnt;
        ei.m = s->m;
        ei.log = o->log;
        rc = o->ops->create(&n->eng, &ei);
        if (rc != 0) {
            if (rc != NETSIM_ERR_NOMEM)
                rc = NETSIM_ERR_ENGINE;
            goto fail;
        }
    }
    if (sc->mule && (rc = netsim__mule_new(s)) != 0)
        goto fail;
    rc = NETSIM_ERR_NOMEM;
    for (i = 0; i < sc->msg_cnt; i++) {
        netsim__msg *mm = &s->msgs[i];
        size_t dc = sc->msgs[i].to_cnt;

        s->msg_cnt = i + 1;     /* freed from here on */
        mm->cfg = &sc->msgs[i];
        if (msg_alloc_dests(s, mm, dc) != 0)
            goto fail;
        rc = build_payload(s, mm);
        if (rc != 0)
            goto fail;
        rc = NETSIM_ERR_NOMEM;
        mm->limit_s = msg_limit(s, mm);
    }
    /* EMCON edges first, so that an interval starting at 0 is in force
     * before a submission at 0 (equal times keep push order). */
    for (i = 0; i < sc->node_cnt; i++) {
        for (k = 0; k < sc->nodes[i].emcon_cnt; k++) {
            const netsim_interval *iv = &sc->nodes[i].emcon[k];

            if ((rc = push(s, iv->from_us, EV_EMCON, i, 1, NULL)) != 0)
                goto fail;
            if (iv->to_us != NETSIM_FOREVER && (rc = push(s, iv->to_us, EV_EMCON, i, 0, NULL)) != 0)
                goto fail;
        }
    }
    for (i = 0; i < sc->msg_cnt; i++)
        if ((rc = push(s, sc->msgs[i].at_us, EV_SUBMIT, i, 0, NULL)) != 0)
            goto fail;
    if (sc->attack_cnt > 0 && (rc = netsim__attack_new(s)) != 0)
        goto fail;
    *out = s;
    return 0;
fail:
    netsim_free(s);
    return rc;
}

int
netsim_run(netsim *s)
{
    netsim_ev_ent e;
    int rc = 0;

    while (rc == 0) {
        const netsim_ev_ent *top = netsim_heap_peek(&s->heap);

        if (top == NULL)
            break;
        if (top->time_us > s->sc->time_limit_us) {
            s->now_us = s->sc->time_limit_us;
            break;
        }
        if (s->msgs_left == 0 && top->time_us > s->end_at) {
            s->now_us = s->end_at;
            break;
        }
        (void)netsim_heap_pop(&s->heap, &e);
        s->now_us = e.time_us;
        switch (e.kind) {
        case EV_SUBMIT:
            rc = do_submit(s, e.node);
            break;
        case EV_TIMER:
            if (e.gen != s->nodes[e.node].timer_gen)
                break;          /* re-armed since: stale */
            s->nodes[e.node].timer_at = NETSIM_FOREVER;
            (void)s->o.ops->expire(s->nodes[e.node].eng, s->now_us);
            rc = service(s, e.node);
            break;
        case EV_TX_END:
            rc = do_tx_end(s, e.node, e.ptr);
            break;
        case EV_ARRIVE:
            rc = do_arrive(s, e.node, e.ptr);
            break;
        case EV_EMCON:
            rc = do_emcon(s, e.node, e.gen != 0);
            break;
        case EV_ATTACK:
            rc = netsim__attack_event(s, e.node, e.ptr);
            break;
        default:
            break;
        }
    }
    return rc;
}

void
netsim_free(netsim *s)
{
    netsim_ev_ent e;
    size_t i;

    if (s == NULL)
        return;
    while (netsim_heap_pop(&s->heap, &e) == 0)
        if (e.kind == EV_TX_END || e.kind == EV_ARRIVE || e.kind == EV_ATTACK)
            dgram_release(s, e.ptr);
    netsim_heap_fini(&s->heap);
    if (s->nodes != NULL) {
        for (i = 0; i < s->sc->node_cnt; i++) {
            void *d;

            while ((d = netsim_txq_pop(&s->nodes[i].q)) != NULL)
                dgram_release(s, d);
            netsim_txq_fini(&s->nodes[i].q);
            if (s->nodes[i].eng != NULL)
                s->o.ops->destroy(s->nodes[i].eng);
            pmul_auth_free(s->nodes[i].auth);
        }
    }
    for (i = 0; i < s->msg_cnt; i++)
        netsim__msg_fini(s, &s->msgs[i]);
    netsim__mule_free(s);
    netsim__attack_free(s);
    mem_free(s->m, s->nodes);
    mem_free(s->m, s->msgs);
    mem_free(s->m, s->chan_q);
    map_fini(&s->by_ip);
    map_fini(&s->msg_tab);
    mem_free(s->m, s->txbuf);
    mem_free(s->m, s->scratch.dests);
    mem_free(s->m, s->scratch.acks);
    mem_free(s->m, s->scratch.missing);
    mem_free(s->m, s->scratch.dest_ids);
    buf_fini(&s->problems);
    mem_free(s->m, s);
}

uint64_t
netsim_hash(const netsim *s)
{
    return s->hash;
}

uint64_t
netsim_counter(const netsim *s, int counter)
{
    if (counter < 0 || counter >= NETSIM_C_COUNT)
        return 0;
    return s->counters[counter];
}

uint64_t
netsim_now_us(const netsim *s)
{
    return s->now_us;
}
