/*
 * NAME
 *	test_pmul_engine - engine-level tests: loopback, determinism, memory,
 *	dynamic groups, input hygiene
 * SYNOPSIS
 *	meson test -C BUILD --no-rebuild -v pmul_engine
 * DESCRIPTION
 *	Engines are connected directly by a tiny discrete-event loop (fixed
 *	propagation delay, per-receiver loss masks or seeded random loss, no
 *	other model): a transmitter engine sends one message to three
 *	receiver engines and every receiver must deliver byte-identical
 *	payloads, the transmitter must see every destination acknowledged,
 *	and at the end nothing may be left alive in any engine.  The same
 *	scenario run twice with the same seeds must give the same transcript
 *	hash (determinism).
 *
 *	Also: allocation failure at every allocation of pmul_engine_new, of
 *	a submit and of a receive (through the injected mem; nothing leaks,
 *	nothing is half-done, later calls succeed); the dynamic group
 *	procedure of docs/wire.md 7.4 between engines (Request, Reject ->
 *	Release + retry with another group, ANNOUNCE_CT Announces spread over
 *	ANNOUNCE_DELAY, JOIN_GROUP at the receiver, data on the new group,
 *	Ack-Ack and Release at the end, LEAVE_GROUP), an owner rejecting (and
 *	not in EMCON), the fallback to the default group; malformed and
 *	looped-back datagrams; configuration validation; the poll_tx buffer
 *	check; the destination view (pmul_engine_dest_info: what the
 *	transmitter knows of each node, mulectl peers); the name tables.
 * SECURITY
 *	Test code.
 * DIAGNOSTICS
 *	cmocka.  The loopback test prints its numbers (time to completion,
 *	datagrams, retransmissions) with print_message.
 * SEE ALSO
 *	test_pmul_engine.h, pmul/pmul_engine.c
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "test_pmul_engine.h"

#include "pmul/util/fnv.h"

/* ---- a minimal network between engines ---------------------------------- */

#define SIM_NODES 4
#define SIM_Q 16384

typedef struct sim_pkt {
    uint64_t at;
    uint64_t seq;
    int dst;
    uint8_t *b;
    size_t len;
} sim_pkt;

typedef struct sim {
    h_node *node[SIM_NODES];
    int cnt;
    uint64_t delay_ms;
    uint64_t mask[SIM_NODES];   /* drop the i-th datagram delivered to node */
    uint32_t loss_pct[SIM_NODES];
    uint64_t loss_rng;
    uint32_t delivered[SIM_NODES];
    sim_pkt q[SIM_Q];
    size_t nq;
    uint64_t seq;
    uint64_t hash;              /* FNV-1a over (time, sender, bytes) */
    size_t sent;
} sim;

static void
sim_hash(sim *s, const void *p, size_t n)
{
    s->hash = fnv64_update(s->hash, p, n);
}

static bool
sim_lose(sim *s, int dst)
{
    uint32_t idx = s->delivered[dst]++;
    uint64_t x;

    if (idx < 64 && ((s->mask[dst] >> idx) & 1u))
        return true;
    if (s->loss_pct[dst] == 0)
        return false;
    x = s->loss_rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    s->loss_rng = x;
    return (uint32_t)((x * 0x2545F4914F6CDD1Dull) >> 40) % 100u < s->loss_pct[dst];
}

static void
sim_enqueue(sim *s, int dst, uint64_t at, const uint8_t *b, size_t len)
{
    assert_true(s->nq < SIM_Q);
    s->q[s->nq].at = at;
    s->q[s->nq].seq = s->seq++;
    s->q[s->nq].dst = dst;
    s->q[s->nq].b = malloc(len);
    memcpy(s->q[s->nq].b, b, len);
    s->q[s->nq].len = len;
    s->nq++;
}

/* Route what node i emitted since `from`. */
static void
sim_route(sim *s, int i, size_t from, uint64_t t)
{
    h_node *n = s->node[i];
    size_t k;
    int d;

    for (k = from; k < n->npkt; k++) {
        const h_pkt *p = &n->pkt[k];

        s->sent++;
        sim_hash(s, &t, sizeof(t));
        sim_hash(s, &i, sizeof(i));
        sim_hash(s, p->buf, p->len);
        for (d = 0; d < s->cnt; d++) {
            if (d == i)
                continue;
            if (!p->to.is_multicast && s->node[d]->cfg.node_id != p->to.ip)
                continue;
            if (sim_lose(s, d))
                continue;
            sim_enqueue(s, d, t + s->delay_ms, p->buf, p->len);
        }
    }
}

/* Run until `until`; returns the last time anything happened. */
static uint64_t
sim_run(sim *s, uint64_t until)
{
    uint64_t t = 0, next, dl, last = 0;
    size_t k, best, guard = 0, from[SIM_NODES];
    int i;

    for (;;) {
        next = UINT64_MAX;
        for (i = 0; i < s->cnt; i++) {
            dl = pmul_engine_next_deadline(s->node[i]->e);
            next = dl < next ? dl : next;
        }
        for (k = 0; k < s->nq; k++)
            next = s->q[k].at < next ? s->q[k].at : next;
        if (next == UINT64_MAX || next > until)
            break;
        t = next > t ? next : t;
        last = t;
        for (i = 0; i < s->cnt; i++)
            from[i] = s->node[i]->npkt;
        /* Arrivals due now, in (time, send order). */
        for (;;) {
            best = SIZE_MAX;
            for (k = 0; k < s->nq; k++)
                if (s->q[k].at <= t && (best == SIZE_MAX || s->q[k].seq < s->q[best].seq))
                    best = k;
            if (best == SIZE_MAX)
                break;
            (void)h_feed_raw(s->node[s->q[best].dst], t, s->q[best].b, s->q[best].len);
            free(s->q[best].b);
            s->q[best] = s->q[--s->nq];
        }
        for (i = 0; i < s->cnt; i++) {
            if (pmul_engine_next_deadline(s->node[i]->e) <= t)
                pmul_engine_expire(s->node[i]->e, h_now(t));
            h_drain(s->node[i], t);
            sim_route(s, i, from[i], t);
        }
        assert_true(++guard < 1000000);
    }
    return last;
}

static void
sim_free(sim *s)
{
    size_t k;
    int i;

    for (k = 0; k < s->nq; k++)
        free(s->q[k].b);
    for (i = 0; i < s->cnt; i++)
        h_node_free(s->node[i]);
}

/* One transmitter, three receivers with different losses. */
static void
loopback_scenario(sim *s, size_t len, uint64_t *done_at, uint64_t seed)
{
    uint32_t dests[] = { H_RX, H_RX2, H_RX3 }, msid = 0;
    uint8_t *payload = malloc(len);
    pmul_config c;
    pmul_msg m;
    size_t i, k;
    int r;

    memset(s, 0, sizeof(*s));
    s->hash = FNV64_INIT;
    s->delay_ms = 60;
    s->loss_rng = seed;
    for (i = 0; i < 4; i++) {
        h_config(&c, i == 0 ? H_TX : dests[i - 1]);
        c.addr_repeat = true;                       /* the default */
        c.first_msid = 1000;
        s->node[i] = h_node_new_cfg(&c);
        s->node[i]->rnd.xs = seed + i + 1;
    }
    s->cnt = 4;
    s->mask[1] = 1u << 0;                           /* RX loses the Address_PDU */
    s->mask[2] = (1u << 5) | (1u << 6) | (1u << 21); /* RX2: 2 in the middle, the last */
    s->loss_pct[3] = 20;                            /* RX3: 20 % random */
    for (i = 0; i < len; i++)
        payload[i] = (uint8_t)(seed * 7 + i * 131 + (i >> 8));
    memset(&m, 0, sizeof(m));
    m.payload = payload;
    m.payload_len = len;
    m.dests = dests;
    m.dest_cnt = 3;
    m.priority = 4;
    m.expiry_s = H_WALL0 + 900;
    assert_int_equal(pmul_engine_submit(s->node[0]->e, h_now(0), &m, &msid), 0);
    sim_run(s, 2000000);
    /* Every receiver delivered the payload exactly once, byte for byte. */
    for (r = 1; r < 4; r++) {
        h_node *n = s->node[r];

        assert_int_equal(h_count_ev(n, PMUL_EV_DELIVERED), 1);
        for (k = 0; k < n->nev; k++)
            if (n->ev[k].ev.kind == PMUL_EV_DELIVERED) {
                assert_int_equal(n->ev[k].ev.payload_len, len);
                assert_memory_equal(n->ev[k].payload, payload, len);
                assert_int_equal(n->ev[k].ev.msid, msid);
            }
        assert_true(pmul_engine_is_idle(n->e));
    }
    assert_int_equal(h_count_ev(s->node[0], PMUL_EV_DEST_ACKED), 3);
    assert_int_equal(h_count_ev(s->node[0], PMUL_EV_MSG_DONE), 1);
    *done_at = h_find_ev(s->node[0], PMUL_EV_MSG_DONE, 0)->t;
    assert_true(pmul_engine_is_idle(s->node[0]->e));
    free(payload);
}

static void
test_pmul_engine_loopback_byte_identical(void **state)
{
    sim *s = malloc(sizeof(*s));
    pmul_stats st;
    uint64_t done;

    (void)state;
    loopback_scenario(s, 20000, &done, 42);
    pmul_engine_stats(s->node[0]->e, &st);
    print_message("loopback 20000 octets, 3 receivers, 9600 bit/s: done at %llu ms, "
                  "%zu datagrams, %llu retransmitted Data_PDUs, %llu rounds, srtt %u ms\n",
                  (unsigned long long)done, s->sent, (unsigned long long)st.retx_data_pdus,
                  (unsigned long long)st.retx_rounds, st.srtt_ms);
    sim_free(s);
    free(s);
}

static void
test_pmul_engine_deterministic_transcript(void **state)
{
    sim *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
    uint64_t da, db;

    (void)state;
    loopback_scenario(a, 9000, &da, 7);
    loopback_scenario(b, 9000, &db, 7);
    assert_int_equal(a->hash, b->hash);
    assert_int_equal(a->sent, b->sent);
    assert_int_equal(da, db);
    sim_free(b);
    loopback_scenario(b, 9000, &db, 8);             /* other seed: other run */
    assert_int_not_equal(a->hash, b->hash);
    sim_free(a);
    sim_free(b);
    free(a);
    free(b);
}

/* Many messages of mixed priority between two engines with loss: every
 * one arrives once, the urgent ones first. */
static void
test_pmul_engine_loopback_many_messages(void **state)
{
    sim *s = calloc(1, sizeof(*s));
    pmul_config c;
    uint32_t dest = H_RX;
    uint8_t payload[3000];
    pmul_msg m;
    size_t i, k;
    int j;

    (void)state;
    s->hash = FNV64_INIT;
    s->delay_ms = 30;
    s->loss_rng = 99;
    for (j = 0; j < 2; j++) {
        h_config(&c, j == 0 ? H_TX : H_RX);
        c.addr_repeat = true;
        c.link_rate_bps = 64000;
        s->node[j] = h_node_new_cfg(&c);
        s->node[j]->rnd.xs = 5 + (uint64_t)j;
    }
    s->cnt = 2;
    s->loss_pct[0] = 10;                            /* Acks lost too */
    s->loss_pct[1] = 10;
    for (i = 0; i < 20; i++) {
        memset(payload, (int)i, sizeof(payload));
        memset(&m, 0, sizeof(m));
        m.payload = payload;
        m.payload_len = 1000 + i * 100;
        m.dests = &dest;
        m.dest_cnt = 1;
        m.priority = (uint8_t)(i % 2 == 0 ? 9 : 1);
        m.tag = i;
        assert_int_equal(pmul_engine_submit(s->node[0]->e, h_now(0), &m, NULL), 0);
    }
    sim_run(s, 3600000);
    assert_int_equal(h_count_ev(s->node[1], PMUL_EV_DELIVERED), 20);
    assert_int_equal(h_count_ev(s->node[0], PMUL_EV_MSG_DONE), 20);
    for (k = 0; k < s->node[1]->nev; k++) {
        const h_ev *ev = &s->node[1]->ev[k];

        if (ev->ev.kind != PMUL_EV_DELIVERED)
            continue;
        assert_int_equal(ev->payload[0], (uint8_t)((ev->ev.payload_len - 1000) / 100));
    }
    /* The first five deliveries are urgent ones. */
    for (k = 0, i = 0; k < s->node[1]->nev && i < 5; k++)
        if (s->node[1]->ev[k].ev.kind == PMUL_EV_DELIVERED) {
            assert_int_equal(s->node[1]->ev[k].ev.priority, 1);
            i++;
        }
    assert_true(pmul_engine_is_idle(s->node[0]->e));
    sim_free(s);
    free(s);
}

/* ---- allocation failure ----------------------------------------------- */

static void
test_pmul_engine_new_alloc_failure(void **state)
{
    struct tmem t;
    mem m = tmem_make(&t);
    pmul_config c;
    pmul_env env;
    pmul_engine *e = NULL;
    long k;
    int err;
    uint32_t pool[] = { IP(239, 2, 0, 1) }, em[] = { H_RX };

    (void)state;
    h_config(&c, H_TX);
    c.group_pool = pool;
    c.group_pool_cnt = 1;
    c.emcon_dests = em;
    c.emcon_dest_cnt = 1;
    memset(&env, 0, sizeof(env));
    env.mem = &m;
    c.first_msid = 1;                   /* no rand needed */
    for (k = 0;; k++) {
        m = tmem_make(&t);
        tmem_fail_after(&t, k);
        err = pmul_engine_new(&e, &c, &env);
        if (err == 0)
            break;
        assert_int_equal(err, PMUL_ERR_NOMEM);
        assert_null(e);
        assert_int_equal(t.live, 0);
        assert_true(k < 1000);
    }
    assert_true(k > 5);
    pmul_engine_free(e);
    assert_int_equal(t.live, 0);
}

static void
test_pmul_engine_submit_alloc_failure(void **state)
{
    h_node *n = h_node_new(H_TX);
    uint32_t dests[] = { H_RX, H_RX2, IP(10, 9, 9, 9) };
    uint8_t b[5000] = { 3 };
    pmul_msg m;
    pmul_stats st;
    long k, live;
    int err;

    (void)state;
    memset(&m, 0, sizeof(m));
    m.payload = b;
    m.payload_len = sizeof(b);
    m.dests = dests;
    m.dest_cnt = 3;
    for (k = 0;; k++) {
        live = n->tm.live;
        tmem_fail_after(&n->tm, k);
        err = pmul_engine_submit(n->e, h_now(0), &m, NULL);
        n->tm.armed = false;
        if (err == 0)
            break;
        assert_int_equal(err, PMUL_ERR_NOMEM);
        pmul_engine_stats(n->e, &st);
        assert_int_equal(st.tx_msgs, 0);
        assert_int_equal(h_drain(n, 0), 0);
        /* Destination-table entries may stay (harmless); messages not. */
        assert_true(n->tm.live <= live + 1);
        assert_true(k < 100);
    }
    assert_true(k >= 3);
    assert_int_equal(h_drain(n, 0), 1);             /* the Address_PDU */
    h_node_free(n);
}

/* Receiving while allocations fail: the datagram is dropped and counted,
 * the engine stays consistent, the retransmission works. */
static void
test_pmul_engine_recv_alloc_failure(void **state)
{
    pmul_config c;
    h_node *n;
    pmul_stats st;
    uint16_t s;

    (void)state;
    h_config(&c, H_RX);
    c.link_rate_bps = 0;
    n = h_node_new_cfg(&c);
    tmem_fail_after(&n->tm, 0);
    assert_int_equal(h_feed_addr1(n, 0, H_TX, 5, 3, H_RX, 1), PMUL_ERR_NOMEM);
    assert_int_equal(h_feed_data(n, 1, H_TX, 5, 1, 100), PMUL_ERR_NOMEM);
    pmul_engine_stats(n->e, &st);
    assert_int_equal(st.drops[PMUL_DROP_NOMEM], 2);
    n->tm.armed = false;
    assert_int_equal(h_feed_addr1(n, 10, H_TX, 5, 3, H_RX, 1), 0);
    for (s = 1; s <= 2; s++)
        assert_int_equal(h_feed_data(n, 10 + s, H_TX, 5, s, 100), 0);
    /* The last fragment arrives while memory is short: stored, then the
     * delivery (which allocates) fails and is retried by the timer. */
    tmem_fail_after(&n->tm, 2);
    (void)h_feed_data(n, 20, H_TX, 5, 3, 100);
    n->tm.armed = false;
    h_run(n, 20, 30000);
    assert_int_equal(h_count_ev(n, PMUL_EV_DELIVERED), 1);
    assert_int_equal(h_find_ev(n, PMUL_EV_DELIVERED, 0)->ev.payload_len, 300);
    h_node_free(n);
}

/* ---- dynamic groups --------------------------------------------------- */

#define G1 IP(239, 2, 0, 1)
#define G2 IP(239, 2, 0, 2)
#define GG IP(239, 1, 1, 1)
#define OTHER IP(10, 0, 0, 9)

static void
test_pmul_engine_dynamic_group_flow(void **state)
{
    uint32_t pool[] = { G1, G2 }, dest = H_RX, msid = 0;
    h_node *t, *r;
    pmul_config c;
    pmul_msg m;
    uint8_t b[1500];
    pmul_pdu p;
    size_t i, first, ann = 0;
    const h_ev *ev;

    (void)state;
    h_config(&c, H_TX);
    c.link_rate_bps = 0;
    c.group_pool = pool;
    c.group_pool_cnt = 2;
    t = h_node_new_cfg(&c);
    h_config(&c, H_RX);
    c.link_rate_bps = 0;
    r = h_node_new_cfg(&c);
    memset(b, 0x5a, sizeof(b));
    memset(&m, 0, sizeof(m));
    m.payload = b;
    m.payload_len = sizeof(b);
    m.dests = &dest;
    m.dest_cnt = 1;
    m.group = PMUL_GROUP_DYNAMIC;
    assert_int_equal(pmul_engine_submit(t->e, h_now(0), &m, &msid), 0);

    /* Request_PDU for the first pool group, to GG:TPORT. */
    assert_int_equal(h_drain(t, 0), 1);
    p = h_pdu(t, 0);
    assert_int_equal(p.type, PMUL_PDU_REQUEST);
    assert_int_equal(p.msid, msid);
    assert_int_equal(p.u.group.mcast_group, G1);
    assert_int_equal(p.priority, 0);
    assert_int_equal(t->pkt[0].to.ip, GG);
    assert_int_equal(t->pkt[0].to.port, 2751);

    /* Another node owns G1: Reject -> Release(G1), Request(G2). */
    assert_int_equal(h_feed_group(t, 100, PMUL_PDU_REJECT, OTHER, msid, G1), 0);
    assert_int_equal(h_drain(t, 100), 2);
    assert_int_equal(h_type(t, 1), PMUL_PDU_RELEASE);
    assert_int_equal(h_pdu(t, 1).u.group.mcast_group, G1);
    assert_int_equal(h_type(t, 2), PMUL_PDU_REQUEST);
    assert_int_equal(h_pdu(t, 2).u.group.mcast_group, G2);
    /* A Reject for a group we no longer ask for is ignored. */
    assert_int_equal(h_feed_group(t, 200, PMUL_PDU_REJECT, OTHER, msid, G1),
                     PMUL_ERR_UNEXPECTED);

    /* No Reject within WAIT_FOR_REJECT_TIME: 5 Announces, 1 s apart, to
     * GG:RPORT, then the Address_PDU on G2 at ANNOUNCE_DELAY. */
    first = t->npkt;
    h_run(t, 200, 10100);
    for (i = first; i < t->npkt; i++) {
        if (h_type(t, i) != PMUL_PDU_ANNOUNCE)
            continue;
        p = h_pdu(t, i);
        assert_int_equal(t->pkt[i].t, 5100 + 1000 * ann);
        assert_int_equal(t->pkt[i].to.ip, GG);
        assert_int_equal(t->pkt[i].to.port, 2752);
        assert_int_equal(p.u.announce.mcast_group, G2);
        assert_int_equal(p.u.announce.dest_cnt, 1);
        assert_int_equal(p.u.announce.dest_ids[0], H_RX);
        assert_int_equal(p.msid, msid);
        ann++;
        (void)h_feed_raw(r, t->pkt[i].t, t->pkt[i].buf, t->pkt[i].len);
    }
    assert_int_equal(ann, 5);
    h_events(r, 10000);
    assert_int_equal(h_count_ev(r, PMUL_EV_JOIN_GROUP), 1);
    assert_int_equal(h_find_ev(r, PMUL_EV_JOIN_GROUP, 0)->ev.group, G2);
    i = first + 5;
    assert_int_equal(h_type(t, i), PMUL_PDU_ADDRESS);
    assert_int_equal(t->pkt[i].t, 10100);
    assert_int_equal(t->pkt[i].to.ip, G2);
    assert_int_equal(t->pkt[i].to.port, 2753);
    assert_int_equal(t->npkt - i, 3);               /* Address + 2 Data */

    /* Deliver to R, its Ack back to T. */
    h_forward(t, i, t->npkt, r, 10150, NULL);
    assert_int_equal(h_drain(r, 10150), 1);
    assert_int_equal(h_count_ev(r, PMUL_EV_DELIVERED), 1);
    first = t->npkt;
    (void)h_feed_raw(t, 10200, r->pkt[0].buf, r->pkt[0].len);
    assert_int_equal(h_drain(t, 10200), 2);
    p = h_pdu(t, first);
    assert_int_equal(p.type, PMUL_PDU_ADDRESS);     /* Ack-Ack on G2 */
    assert_int_equal(p.u.address.dest_cnt, 0);
    assert_int_equal(t->pkt[first].to.ip, G2);
    p = h_pdu(t, first + 1);
    assert_int_equal(p.type, PMUL_PDU_RELEASE);
    assert_int_equal(p.u.group.mcast_group, G2);
    assert_int_equal(t->pkt[first + 1].to.ip, GG);
    ev = h_find_ev(t, PMUL_EV_MSG_DONE, 0);
    assert_non_null(ev);
    assert_int_equal(ev->ev.group, G2);
    /* R frees its state on the Ack-Ack and leaves G2. */
    h_forward(t, first, t->npkt, r, 10250, NULL);
    h_events(r, 10250);
    assert_int_equal(h_count_ev(r, PMUL_EV_LEAVE_GROUP), 1);
    assert_int_equal(h_find_ev(r, PMUL_EV_LEAVE_GROUP, 0)->ev.group, G2);
    assert_true(pmul_engine_is_idle(r->e));
    assert_true(pmul_engine_is_idle(t->e));
    h_node_free(t);
    h_node_free(r);
}

/* A node that owns a group rejects a Request for it, unless in EMCON. */
static void
test_pmul_engine_group_owner_rejects(void **state)
{
    uint32_t pool[] = { G1 }, dest = H_RX;
    pmul_config c;
    h_node *o;
    pmul_msg m;
    uint8_t b[10] = { 0 };
    pmul_pdu p;
    size_t first;

    (void)state;
    h_config(&c, OTHER);
    c.link_rate_bps = 0;
    c.group_pool = pool;
    c.group_pool_cnt = 1;
    o = h_node_new_cfg(&c);
    memset(&m, 0, sizeof(m));
    m.payload = b;
    m.payload_len = sizeof(b);
    m.dests = &dest;
    m.dest_cnt = 1;
    m.group = PMUL_GROUP_DYNAMIC;
    assert_int_equal(pmul_engine_submit(o->e, h_now(0), &m, NULL), 0);
    h_run(o, 0, 6000);                              /* owns G1, announcing */
    first = o->npkt;
    assert_int_equal(h_feed_group(o, 6000, PMUL_PDU_REQUEST, H_TX, 77, G1), 0);
    assert_int_equal(h_drain(o, 6000), 1);
    p = h_pdu(o, first);
    assert_int_equal(p.type, PMUL_PDU_REJECT);
    assert_int_equal(p.msid, 77);
    assert_int_equal(p.u.group.mcast_group, G1);
    assert_int_equal(o->pkt[first].to.ip, H_TX);
    assert_int_equal(o->pkt[first].to.port, 2751);
    assert_false(o->pkt[first].to.is_multicast);
    pmul_engine_set_emcon(o->e, h_now(6100), true);
    assert_int_equal(h_feed_group(o, 6100, PMUL_PDU_REQUEST, H_TX, 78, G1), 0);
    pmul_engine_set_emcon(o->e, h_now(6200), false);
    assert_int_equal(h_count(o, first + 1, PMUL_PDU_REJECT), 0);
    h_drain(o, 6200);
    assert_int_equal(h_count(o, first + 1, PMUL_PDU_REJECT), 0);
    h_node_free(o);
}

/* Rejected max_group_tries times: the message goes on the default group. */
static void
test_pmul_engine_group_fallback(void **state)
{
    uint32_t pool[] = { G1, G2 }, dest = H_RX, msid = 0;
    pmul_config c;
    h_node *t;
    pmul_msg m;
    uint8_t b[10] = { 0 };
    size_t i;

    (void)state;
    h_config(&c, H_TX);
    c.link_rate_bps = 0;
    c.group_pool = pool;
    c.group_pool_cnt = 2;
    c.max_group_tries = 1;
    t = h_node_new_cfg(&c);
    memset(&m, 0, sizeof(m));
    m.payload = b;
    m.payload_len = sizeof(b);
    m.dests = &dest;
    m.dest_cnt = 1;
    m.group = PMUL_GROUP_DYNAMIC;
    assert_int_equal(pmul_engine_submit(t->e, h_now(0), &m, &msid), 0);
    h_drain(t, 0);
    h_feed_group(t, 10, PMUL_PDU_REJECT, OTHER, msid, G1);
    h_drain(t, 10);
    assert_int_equal(h_type(t, 1), PMUL_PDU_RELEASE);
    for (i = 2; i < t->npkt; i++)
        assert_int_not_equal(h_type(t, i), PMUL_PDU_REQUEST);
    assert_int_equal(h_type(t, 2), PMUL_PDU_ADDRESS);
    assert_int_equal(t->pkt[2].to.ip, c.default_group);
    h_node_free(t);
}

/* Someone else's Announce (or Request) takes the group out of our pool. */
static void
test_pmul_engine_group_foreign_skipped(void **state)
{
    uint32_t pool[] = { G1, G2 }, dest = H_RX, other_dest = H_RX2;
    pmul_config c;
    h_node *t;
    pmul_msg m;
    uint8_t b[10] = { 0 };
    pmul_pdu p;

    (void)state;
    h_config(&c, H_TX);
    c.link_rate_bps = 0;
    c.group_pool = pool;
    c.group_pool_cnt = 2;
    t = h_node_new_cfg(&c);
    memset(&p, 0, sizeof(p));
    p.type = PMUL_PDU_ANNOUNCE;
    p.source_id = OTHER;
    p.msid = 1;
    p.u.announce.expiry_time = H_WALL0 + 600;
    p.u.announce.mcast_group = G1;
    p.u.announce.dest_cnt = 1;
    p.u.announce.dest_ids = &other_dest;
    assert_int_equal(h_feed_pdu(t, 0, &p), 0);
    memset(&m, 0, sizeof(m));
    m.payload = b;
    m.payload_len = sizeof(b);
    m.dests = &dest;
    m.dest_cnt = 1;
    m.group = PMUL_GROUP_DYNAMIC;
    assert_int_equal(pmul_engine_submit(t->e, h_now(1), &m, NULL), 0);
    h_drain(t, 1);
    assert_int_equal(h_pdu(t, 0).u.group.mcast_group, G2);
    h_node_free(t);
}

/* ---- input hygiene, configuration, names ------------------------------ */

static void
test_pmul_engine_malformed_and_own(void **state)
{
    h_node *n = h_node_new(H_RX);
    uint8_t junk[40];
    pmul_stats st;

    (void)state;
    memset(junk, 0xa5, sizeof(junk));
    assert_int_equal(h_feed_raw(n, 0, junk, sizeof(junk)), PMUL_ERR_LENGTH);
    assert_int_equal(h_feed_raw(n, 0, junk, 3), PMUL_ERR_SHORT);
    assert_int_equal(h_feed_data(n, 0, H_RX, 1, 1, 10), PMUL_ERR_OWN);
    pmul_engine_stats(n->e, &st);
    assert_int_equal(st.drops[PMUL_DROP_MALFORMED], 2);
    assert_int_equal(st.drops[PMUL_DROP_OWN], 1);
    assert_int_equal(st.rx_pdus[PMUL_PDU_DATA], 1);
    assert_true(pmul_engine_is_idle(n->e));
    h_node_free(n);
}

static void
test_pmul_engine_config_validation(void **state)
{
    pmul_config c;
    pmul_engine *e = (pmul_engine *)&c;

    (void)state;
    pmul_config_default(&c);
    assert_int_equal(c.tport, 2751);
    assert_int_equal(c.rport, 2752);
    assert_int_equal(c.dport, 2753);
    assert_int_equal(c.aport, 2754);
    assert_int_equal(c.emcon_rtc, 4);
    assert_int_equal(c.emcon_rti_ms, 30000);
    assert_int_equal(c.mm, 20);
    assert_int_equal(c.ack_pdu_time_ms, 10000);
    assert_int_equal(pmul_engine_new(&e, &c, NULL), PMUL_ERR_INVAL);   /* node_id 0 */
    assert_null(e);
    c.node_id = H_TX;
    c.pdu_max_len = 63;
    assert_int_equal(pmul_engine_new(&e, &c, NULL), PMUL_ERR_INVAL);
    c.pdu_max_len = 1024;
    c.mm = 0;
    assert_int_equal(pmul_engine_new(&e, &c, NULL), PMUL_ERR_INVAL);
    c.mm = 20;
    c.group_pool_cnt = 2;
    assert_int_equal(pmul_engine_new(&e, &c, NULL), PMUL_ERR_INVAL);
    c.group_pool_cnt = 0;
    /* No rand: refused, since the first MSID would repeat after every
     * restart; allowed when the application chose the first MSID. */
    assert_int_equal(pmul_engine_new(&e, &c, NULL), PMUL_ERR_INVAL);
    assert_null(e);
    c.first_msid = 77;
    assert_int_equal(pmul_engine_new(&e, &c, NULL), 0);     /* libc, no rand */
    assert_int_equal(pmul_engine_next_msid(e), 77);
    assert_int_equal(pmul_engine_next_deadline(e), UINT64_MAX);
    pmul_engine_free(e);
    pmul_engine_free(NULL);
}

static void
test_pmul_engine_poll_tx_buffer_check(void **state)
{
    h_node *n = h_node_new(H_TX);
    uint32_t dest = H_RX;
    uint8_t small[100];
    pmul_addr to;

    (void)state;
    h_submit(n, 0, 10, &dest, 1, 6);
    assert_int_equal(pmul_engine_poll_tx(n->e, h_now(0), small, sizeof(small), &to),
                     PMUL_ERR_NOSPACE);
    assert_int_equal(h_drain(n, 0), 1);             /* nothing was consumed */
    h_node_free(n);
}

/* Own EMCON: nothing at all leaves, and everything resumes after. */
static void
test_pmul_engine_own_emcon_transmitter(void **state)
{
    pmul_config c;
    h_node *n;
    uint32_t dest = H_RX;

    (void)state;
    h_config(&c, H_TX);
    c.link_rate_bps = 0;
    c.emcon = true;
    n = h_node_new_cfg(&c);
    h_submit(n, 0, 10, &dest, 1, 6);
    assert_int_equal(h_run(n, 0, 60000), 0);
    pmul_engine_set_emcon(n->e, h_now(60000), false);
    assert_true(h_drain(n, 60000) >= 2);
    h_node_free(n);
}

/* mulectl peers: after the loopback message every destination is listed
 * in id order with its next MSN and a loss sample; configured EMCON and
 * no-fec show; an index past the end is refused. */
static void
test_pmul_engine_dest_info_after_message(void **state)
{
    static const uint32_t ids[] = { H_RX, H_RX2, H_RX3 };
    sim *s = malloc(sizeof(*s));
    uint32_t nofec = H_RX2;
    pmul_dest_info di;
    pmul_engine *e;
    uint64_t done;
    size_t i;

    (void)state;
    assert_non_null(s);
    loopback_scenario(s, 20000, &done, 1);
    e = s->node[0]->e;
    assert_int_equal(pmul_engine_set_no_fec_peers(e, &nofec, 1), 0);
    assert_int_equal(pmul_engine_set_dest_emcon(e, h_now(done), H_RX3, true), 0);
    assert_int_equal(pmul_engine_dest_count(e), 3);
    for (i = 0; i < 3; i++) {
        memset(&di, 0xa5, sizeof(di));
        assert_int_equal(pmul_engine_dest_info(e, i, &di), 0);
        assert_int_equal(di.id, ids[i]);
        assert_int_equal(di.next_msn, 2);
        assert_int_equal(di.emcon, ids[i] == H_RX3);
        assert_int_equal(di.no_fec, ids[i] == H_RX2);
        assert_true(di.loss_got <= di.loss_sent);
        assert_int_equal(di.fec, PMUL_DEST_FEC_UNKNOWN);    /* cfg.fec is off */
        assert_int_equal(di.fec_left, 0);
        assert_false(di.fec_decodes);
    }
    /* RX2 lost two Data_PDUs of the first round, and its Ack said so. */
    assert_int_equal(pmul_engine_dest_info(e, 1, &di), 0);
    assert_true(di.loss_sent >= 8);
    assert_true(di.loss_got + 2 <= di.loss_sent);
    assert_int_equal(pmul_engine_dest_info(e, 3, &di), PMUL_ERR_NOTFOUND);
    sim_free(s);
    free(s);
}

/* The transmitter's findings of docs/engine.md 6 as one verdict: a blind
 * node (its messages go wholly plain) wins over the others. */
static void
test_pmul_engine_dest_info_fec_findings(void **state)
{
    static const struct {
        bool fec_ok, dec_ok;
        uint16_t plain_left, plain_span, nodec_left, nodec_span;
        int want;
        uint16_t left, span;
    } cases[] = {
        { false, false, 0, 0, 0, 0, PMUL_DEST_FEC_UNKNOWN, 0, 0 },
        { false, false, 0, 4, 0, 0, PMUL_DEST_FEC_UNKNOWN, 0, 0 },  /* trial due */
        { true, false, 0, 0, 0, 0, PMUL_DEST_FEC_READS, 0, 0 },
        { true, true, 0, 0, 0, 0, PMUL_DEST_FEC_READS, 0, 0 },
        { false, false, 3, 4, 0, 0, PMUL_DEST_FEC_BLIND, 3, 4 },
        { true, false, 0, 0, 7, 8, PMUL_DEST_FEC_NODEC, 7, 8 },
        { false, false, 2, 16, 5, 8, PMUL_DEST_FEC_BLIND, 2, 16 },
    };
    h_node *n = h_node_new(H_TX);
    pmul_dststate *ds;
    pmul_dest_info di;
    size_t i;

    (void)state;
    assert_int_equal(pmul_engine_dest_count(n->e), 0);
    assert_int_equal(pmul_engine_dest_info(n->e, 0, &di), PMUL_ERR_NOTFOUND);
    assert_int_equal(pmul__dst_get(n->e, H_RX, &ds), 0);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ds->fec_ok = cases[i].fec_ok;
        ds->dec_ok = cases[i].dec_ok;
        ds->plain_left = cases[i].plain_left;
        ds->plain_span = cases[i].plain_span;
        ds->nodec_left = cases[i].nodec_left;
        ds->nodec_span = cases[i].nodec_span;
        assert_int_equal(pmul_engine_dest_info(n->e, 0, &di), 0);
        if (di.fec != cases[i].want || di.fec_left != cases[i].left ||
            di.fec_span != cases[i].span || di.fec_decodes != cases[i].dec_ok)
            fail_msg("case %zu: got %s left=%u span=%u decodes=%d, want %s left=%u span=%u",
                     i, pmul_dest_fec_name(di.fec), di.fec_left, di.fec_span, di.fec_decodes,
                     pmul_dest_fec_name(cases[i].want), cases[i].left, cases[i].span);
    }
    assert_string_equal(pmul_dest_fec_name(PMUL_DEST_FEC_NODEC), "nodec");
    assert_string_equal(pmul_dest_fec_name(-1), "?");
    h_node_free(n);
}

static void
test_pmul_engine_names(void **state)
{
    (void)state;
    assert_string_equal(pmul_event_name(PMUL_EV_DELIVERED), "DELIVERED");
    assert_string_equal(pmul_event_name(PMUL_EV_DEST_EMCON_OFF), "DEST_EMCON_OFF");
    assert_string_equal(pmul_event_name(999), "UNKNOWN");
    assert_string_equal(pmul_drop_name(PMUL_DROP_CAP_BYTES), "cap-bytes");
    assert_string_equal(pmul_reason_name(PMUL_REASON_EXPIRED), "expired");
    assert_string_equal(pmul_errname(PMUL_ERR_DUPLICATE), "DUPLICATE");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pmul_engine_loopback_byte_identical),
        cmocka_unit_test(test_pmul_engine_deterministic_transcript),
        cmocka_unit_test(test_pmul_engine_loopback_many_messages),
        cmocka_unit_test(test_pmul_engine_new_alloc_failure),
        cmocka_unit_test(test_pmul_engine_submit_alloc_failure),
        cmocka_unit_test(test_pmul_engine_recv_alloc_failure),
        cmocka_unit_test(test_pmul_engine_dynamic_group_flow),
        cmocka_unit_test(test_pmul_engine_group_owner_rejects),
        cmocka_unit_test(test_pmul_engine_group_fallback),
        cmocka_unit_test(test_pmul_engine_group_foreign_skipped),
        cmocka_unit_test(test_pmul_engine_malformed_and_own),
        cmocka_unit_test(test_pmul_engine_config_validation),
        cmocka_unit_test(test_pmul_engine_poll_tx_buffer_check),
        cmocka_unit_test(test_pmul_engine_own_emcon_transmitter),
        cmocka_unit_test(test_pmul_engine_dest_info_after_message),
        cmocka_unit_test(test_pmul_engine_dest_info_fec_findings),
        cmocka_unit_test(test_pmul_engine_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
