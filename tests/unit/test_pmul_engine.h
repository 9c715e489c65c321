/*
 * test_pmul_engine.h: harness for the scripted engine tests
 * (test_pmul_engine.c, test_pmul_tx.c, test_pmul_rx.c).
 *
 * A test is a script of (integer time, input) pairs.  Inputs are PDUs
 * built with the codec (never by hand), fed with h_feed(); outputs are
 * drained with h_drain() and decoded again with the codec for the
 * assertions; events are collected with h_events().  Time is one integer
 * of milliseconds; wall-clock seconds are derived from it (H_WALL0 + t /
 * 1000) so expiry times can be written relative to the script.
 *
 * Randomness is a scripted source: h_rand_value fixes what the engine
 * draws (0 by default, so Ack spreading delays are 0 unless a test says
 * otherwise).  Allocation goes through a counting allocator that can be
 * told to fail.
 *
 * Header-only (static functions), shared by three executables.
 */
#ifndef TEST_PMUL_ENGINE_H
#define TEST_PMUL_ENGINE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pmul/pmul_engine.h"
#include "pmul/pmul_engine_int.h"
#include "pmul/pmul_pdu.h"
#include "tests/common/alloc.h"

#define H_WALL0 1700000000
#define H_MAXPKT 4096
#define H_MAXEV 4096

#define IP(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))
#define H_TX IP(10, 0, 0, 1)
#define H_RX IP(10, 0, 0, 2)
#define H_RX2 IP(10, 0, 0, 3)
#define H_RX3 IP(10, 0, 0, 4)

static inline pmul_now
h_now(uint64_t t)
{
    pmul_now n;

    n.mono_ms = t;
    n.wall_s = H_WALL0 + (int64_t)(t / 1000);
    return n;
}

/* ---- scripted randomness and a failing allocator ---------------------- */

typedef struct h_rand {
    uint64_t xs;                /* nonzero: xorshift64* generator instead */
    uint32_t value;             /* returned when seq is exhausted */
    const uint32_t *seq;
    size_t seq_len, pos;
    size_t calls;
} h_rand;

static inline uint32_t
h_rand_fn(void *arg)
{
    h_rand *r = arg;

    r->calls++;
    if (r->xs != 0) {
        r->xs ^= r->xs >> 12;
        r->xs ^= r->xs << 25;
        r->xs ^= r->xs >> 27;
        return (uint32_t)((r->xs * 0x2545F4914F6CDD1Dull) >> 32);
    }
    if (r->pos < r->seq_len)
        return r->seq[r->pos++];
    return r->value;
}

/* The allocator is the tests' one failing allocator (tests/common/alloc.h):
 * tmem_fail_after(&n->tm, k) fails every allocation after k more, and
 * h_failed() says how many failed. */
static inline long
h_failed(const struct tmem *t)
{
    return t->armed && t->left < 0 ? -t->left : 0;
}

/* ---- a node: engine plus what it emitted ------------------------------- */

typedef struct h_pkt {
    uint64_t t;
    pmul_addr to;
    uint8_t *buf;
    size_t len;
} h_pkt;

typedef struct h_ev {
    pmul_event ev;
    uint8_t *payload;           /* copy */
    uint64_t t;
} h_ev;

typedef struct h_node {
    pmul_engine *e;
    pmul_config cfg;
    pmul_env env;
    h_rand rnd;
    struct tmem tm;
    mem m;
    h_pkt pkt[H_MAXPKT];
    size_t npkt;
    h_ev ev[H_MAXEV];
    size_t nev;
} h_node;

/* Configuration every script starts from: the defaults (9600 bit/s,
 * 1024-octet PDUs), no spreading (rand returns 0), and no repeated
 * Address_PDU at the end of a round, so that scripts see the plain ACP 142
 * pattern unless they ask for the repeat (test_pmul_tx checks it). */
static inline void
h_config(pmul_config *c, uint32_t id)
{
    pmul_config_default(c);
    c->node_id = id;
    c->addr_repeat = false;
}

static inline h_node *
h_node_new_cfg(const pmul_config *c)
{
    h_node *n = calloc(1, sizeof(*n));

    assert_non_null(n);
    n->cfg = *c;
    n->m = tmem_make(&n->tm);
    n->env.mem = &n->m;
    n->env.rand = h_rand_fn;
    n->env.rand_arg = &n->rnd;
    assert_int_equal(pmul_engine_new(&n->e, &n->cfg, &n->env), 0);
    return n;
}

static inline h_node *
h_node_new(uint32_t id)
{
    pmul_config c;

    h_config(&c, id);
    return h_node_new_cfg(&c);
}

static inline void
h_node_free(h_node *n)
{
    size_t i;

    if (n == NULL)
        return;
    pmul_engine_free(n->e);
    assert_int_equal(n->tm.live, 0);        /* nothing leaked */
    for (i = 0; i < n->npkt; i++)
        free(n->pkt[i].buf);
    for (i = 0; i < n->nev; i++)
        free(n->ev[i].payload);
    free(n);
}

/* Forget collected packets and events (keeps the engine). */
static inline void
h_clear(h_node *n)
{
    size_t i;

    for (i = 0; i < n->npkt; i++)
        free(n->pkt[i].buf);
    for (i = 0; i < n->nev; i++)
        free(n->ev[i].payload);
    n->npkt = n->nev = 0;
}

/* Collect events at time t. */
static inline size_t
h_events(h_node *n, uint64_t t)
{
    pmul_event ev;
    size_t k = 0;

    while (pmul_engine_poll_event(n->e, &ev) == 1) {
        assert_true(n->nev < H_MAXEV);
        n->ev[n->nev].ev = ev;
        n->ev[n->nev].t = t;
        n->ev[n->nev].payload = NULL;
        if (ev.payload_len > 0) {
            n->ev[n->nev].payload = malloc(ev.payload_len);
            memcpy(n->ev[n->nev].payload, ev.payload, ev.payload_len);
        }
        n->nev++;
        k++;
    }
    return k;
}

/* Poll at most max datagrams the engine will send at time t (pacing
 * permitting): a script can feed input between two datagrams of a round. */
static inline size_t
h_drain_max(h_node *n, uint64_t t, size_t max)
{
    uint8_t buf[PMUL_PDU_MAX_LEN];
    pmul_addr to;
    ssize_t len = 0;
    size_t k = 0;

    while (k < max && (len = pmul_engine_poll_tx(n->e, h_now(t), buf, sizeof(buf), &to)) > 0) {
        assert_true(n->npkt < H_MAXPKT);
        n->pkt[n->npkt].t = t;
        n->pkt[n->npkt].to = to;
        n->pkt[n->npkt].len = (size_t)len;
        n->pkt[n->npkt].buf = malloc((size_t)len);
        memcpy(n->pkt[n->npkt].buf, buf, (size_t)len);
        n->npkt++;
        k++;
    }
    assert_true(len >= 0);    /* an error is never an end */
    h_events(n, t);
    return k;
}

/* Poll every datagram the engine will send at time t (pacing permitting). */
static inline size_t
h_drain(h_node *n, uint64_t t)
{
    return h_drain_max(n, t, SIZE_MAX);
}

/* Run the engine alone until time `until`: at every deadline expire and
 * drain.  Returns the number of datagrams emitted. */
static inline size_t
h_run(h_node *n, uint64_t from, uint64_t until)
{
    uint64_t t = from, dl;
    size_t k = 0, guard = 0;

    pmul_engine_expire(n->e, h_now(t));
    k += h_drain(n, t);
    for (;;) {
        dl = pmul_engine_next_deadline(n->e);
        if (dl > until)
            break;
        t = dl > t ? dl : t;
        pmul_engine_expire(n->e, h_now(t));
        k += h_drain(n, t);
        assert_true(++guard < 100000);
    }
    h_events(n, until);
    return k;
}

/* ---- decoding what came out ------------------------------------------- */

/* One decoder scratch per harness user; views valid until the next call. */
static pmul_dest_entry h_dsc_dests[8192];
static pmul_ack_entry h_dsc_acks[1024];
static uint16_t h_dsc_missing[32768];
static uint32_t h_dsc_ids[16384];

static inline pmul_pdu
h_decode_bytes(const uint8_t *b, size_t len)
{
    pmul_pdu_scratch s;
    pmul_pdu p;

    memset(&s, 0, sizeof(s));
    s.dests = h_dsc_dests;
    s.dests_cap = 8192;
    s.acks = h_dsc_acks;
    s.acks_cap = 1024;
    s.missing = h_dsc_missing;
    s.missing_cap = 32768;
    s.dest_ids = h_dsc_ids;
    s.dest_ids_cap = 16384;
    s.max_reserved_len = 64;
    assert_int_equal(pmul_pdu_decode(&p, &s, b, len), 0);
    return p;
}

static inline pmul_pdu
h_pdu(const h_node *n, size_t i)
{
    assert_true(i < n->npkt);
    return h_decode_bytes(n->pkt[i].buf, n->pkt[i].len);
}

static inline uint8_t
h_type(const h_node *n, size_t i)
{
    assert_true(i < n->npkt);
    return n->pkt[i].buf[3] & 0x3f;
}

/* Count emitted packets of a type in [from, npkt). */
static inline size_t
h_count(const h_node *n, size_t from, uint8_t type)
{
    size_t i, c = 0;

    for (i = from; i < n->npkt; i++)
        if (h_type(n, i) == type)
            c++;
    return c;
}

/* The same, of one message only. */
static inline size_t
h_count_msg(const h_node *n, size_t from, uint8_t type, uint32_t msid)
{
    size_t i, c = 0;

    for (i = from; i < n->npkt; i++)
        if (h_type(n, i) == type && h_pdu(n, i).msid == msid)
            c++;
    return c;
}

static inline size_t
h_count_ev(const h_node *n, int kind)
{
    size_t i, c = 0;

    for (i = 0; i < n->nev; i++)
        if (n->ev[i].ev.kind == kind)
            c++;
    return c;
}

static inline const h_ev *
h_find_ev(const h_node *n, int kind, size_t nth)
{
    size_t i;

    for (i = 0; i < n->nev; i++)
        if (n->ev[i].ev.kind == kind && nth-- == 0)
            return &n->ev[i];
    return NULL;
}

/* ---- building input PDUs with the codec ------------------------------- */

static inline size_t
h_encode(const pmul_pdu *p, uint8_t *out, size_t cap)
{
    ssize_t n = pmul_pdu_encode(p, out, cap);

    assert_true(n > 0);
    return (size_t)n;
}

static inline int
h_feed_pdu(h_node *n, uint64_t t, const pmul_pdu *p)
{
    uint8_t buf[PMUL_PDU_MAX_LEN];
    size_t len = h_encode(p, buf, sizeof(buf));
    pmul_addr from;

    from.ip = p->source_id;
    from.port = 2753;
    from.is_multicast = false;
    return pmul_engine_recv(n->e, h_now(t), &from, buf, len);
}

static inline int
h_feed_raw(h_node *n, uint64_t t, const uint8_t *b, size_t len)
{
    pmul_addr from = { 0, 0, false };

    return pmul_engine_recv(n->e, h_now(t), &from, b, len);
}

/* Address_PDU from src listing dests[] (with msns[], or 1.. when NULL). */
static inline int
h_feed_address(h_node *n, uint64_t t, uint32_t src, uint32_t msid, uint8_t prio,
               uint16_t total, uint32_t expiry, const uint32_t *dests, const uint32_t *msns,
               size_t cnt, uint8_t map_bits)
{
    pmul_dest_entry d[512];
    pmul_pdu p;
    size_t i;

    assert_true(cnt <= 512);
    for (i = 0; i < cnt; i++) {
        d[i].dest_id = dests[i];
        d[i].msg_seq_no = msns != NULL ? msns[i] : (uint32_t)(i + 1);
        d[i].reserved = NULL;
    }
    memset(&p, 0, sizeof(p));
    p.type = PMUL_PDU_ADDRESS;
    p.priority = prio;
    p.map = map_bits;
    p.source_id = src;
    p.msid = msid;
    p.u.address.total_pdus = total;
    p.u.address.expiry_time = expiry;
    p.u.address.dest_cnt = (uint16_t)cnt;
    p.u.address.dests = d;
    return h_feed_pdu(n, t, &p);
}

/* Address_PDU listing only `me` with Message_Sequence_Number msn. */
static inline int
h_feed_addr1(h_node *n, uint64_t t, uint32_t src, uint32_t msid, uint16_t total,
             uint32_t me, uint32_t msn)
{
    return h_feed_address(n, t, src, msid, 5, total, H_WALL0 + 3600, &me, &msn, 1, 0);
}

/* Data_PDU seq of a message whose fragments are frag_len octets of the
 * pattern h_byte(msid, seq, i). */
static inline uint8_t
h_byte(uint32_t msid, uint16_t seq, size_t i)
{
    return (uint8_t)(msid * 31u + seq * 7u + i);
}

/* Data_PDU seq carrying the given fragment octets. */
static inline int
h_feed_frag(h_node *n, uint64_t t, uint32_t src, uint32_t msid, uint16_t seq, const uint8_t *frag,
            size_t frag_len)
{
    pmul_pdu p;

    memset(&p, 0, sizeof(p));
    p.type = PMUL_PDU_DATA;
    p.priority = 5;
    p.source_id = src;
    p.msid = msid;
    p.u.data.seq = seq;
    p.u.data.frag = frag;
    p.u.data.frag_len = frag_len;
    return h_feed_pdu(n, t, &p);
}

static inline int
h_feed_data(h_node *n, uint64_t t, uint32_t src, uint32_t msid, uint16_t seq, size_t frag_len)
{
    uint8_t frag[PMUL_PDU_MAX_LEN];
    size_t i;

    for (i = 0; i < frag_len; i++)
        frag[i] = h_byte(msid, seq, i);
    return h_feed_frag(n, t, src, msid, seq, frag, frag_len);
}

/* Ack_PDU from acker with one entry (src_id, msid, missing singles). */
static inline int
h_feed_ack(h_node *n, uint64_t t, uint32_t acker, uint32_t src_id, uint32_t msid,
           const uint16_t *missing, uint16_t mcnt)
{
    pmul_ack_entry a;
    pmul_pdu p;

    a.source_id = src_id;
    a.msid = msid;
    a.missing = missing;
    a.missing_cnt = mcnt;
    memset(&p, 0, sizeof(p));
    p.type = PMUL_PDU_ACK;
    p.source_id = acker;
    p.u.ack.entry_cnt = 1;
    p.u.ack.entries = &a;
    return h_feed_pdu(n, t, &p);
}

static inline int
h_feed_group(h_node *n, uint64_t t, uint8_t type, uint32_t src, uint32_t msid, uint32_t group)
{
    pmul_pdu p;

    memset(&p, 0, sizeof(p));
    p.type = type;
    p.source_id = src;
    p.msid = msid;
    p.u.group.mcast_group = group;
    return h_feed_pdu(n, t, &p);
}

/* Submit payload[0..len) to dests; its MSID. */
static inline uint32_t
h_submit_bytes(h_node *n, uint64_t t, const uint8_t *payload, size_t len,
               const uint32_t *dests, size_t cnt, uint8_t prio)
{
    pmul_msg m;
    uint32_t msid = 0;

    memset(&m, 0, sizeof(m));
    m.payload = payload;
    m.payload_len = len;
    m.dests = dests;
    m.dest_cnt = cnt;
    m.priority = prio;
    assert_int_equal(pmul_engine_submit(n->e, h_now(t), &m, &msid), 0);
    return msid;
}

/* Submit a message of len octets (byte i = i * 13 + msid-independent salt)
 * to dests. */
static inline uint32_t
h_submit(h_node *n, uint64_t t, size_t len, const uint32_t *dests, size_t cnt, uint8_t prio)
{
    uint8_t *b = malloc(len);
    uint32_t msid;
    size_t i;

    for (i = 0; i < len; i++)
        b[i] = (uint8_t)(i * 13u + 7u);
    msid = h_submit_bytes(n, t, b, len, dests, cnt, prio);
    free(b);
    return msid;
}

/* Feed every packet n emitted in [from, to) into dst (as if multicast
 * delivered them), except those whose bit is set in drop (by index). */
static inline void
h_forward(h_node *src, size_t from, size_t to, h_node *dst, uint64_t t,
          const uint64_t *drop_mask)
{
    size_t i;

    for (i = from; i < to; i++) {
        if (drop_mask != NULL && i - from < 64 && ((drop_mask[0] >> (i - from)) & 1u))
            continue;
        (void)h_feed_raw(dst, t, src->pkt[i].buf, src->pkt[i].len);
    }
}

#endif
