/*
 * NAME
 *	test_pmul_rxjoint - scripted tests of joint repair on the receiver
 * SYNOPSIS
 *	meson test -C BUILD --no-rebuild -v pmul_rxjoint
 * DESCRIPTION
 *	Drives one engine as a receiver of several single-block FEC messages
 *	of one source and of joint rounds over them (docs/wire.md 10.8): a
 *	version 2 FEC_Address_PDU of a carrier, joint repairs built with
 *	pmul_fec_encode() over the padded joint block, and its closing copy.
 *	Covered: two members with losses completed by joint repairs, byte-
 *	identical; a member delivered and kept completing the other; keep
 *	disabled (the round cannot be used, the Ack lists what is missing);
 *	an unknown member counted as erasures; the closing copy's one
 *	Ack_PDU naming every ACTIVE member, and complete ones; a member whose
 *	Total disagrees; repairs of the wrong length; repairs outside the
 *	round and before any copy of their set; the keep
 *	store's eviction by bytes and by expiry; accept mode keeping only
 *	accepted payloads.
 * SECURITY
 *	Test code.
 * DIAGNOSTICS
 *	cmocka.
 * SEE ALSO
 *	test_pmul_engine.h, test_pmul_rx_fec.c, pmul/pmul_rxjoint.c
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "test_pmul_engine.h"

#include "pmul/pmul_fec.h"

#define J_S 100                 /* symbol_len of every message */
#define J_MAX 4                 /* messages of a test */

/* A message of the source: msid, N, last_len and its payload. */
typedef struct jmsg {
    uint32_t msid;
    uint16_t n;
    uint16_t last;
    uint8_t payload[8 * J_S];
    size_t len;
} jmsg;

typedef struct jt {
    h_node *node;
    jmsg msg[J_MAX];
    size_t cnt;
    pmul_fec *enc;
    int64_t expiry;             /* Expiry_Time of announcements */
    uint32_t dest;              /* the destination they list */
} jt;

/* The receiver's configuration: the defaults, no pacing. */
static void
jt_config(pmul_config *c)
{
    h_config(c, H_RX);
    c->link_rate_bps = 0;
}

static void
jt_init(jt *t, const pmul_config *cfg)
{
    pmul_config c;

    memset(t, 0, sizeof(*t));
    if (cfg == NULL) {
        jt_config(&c);
        cfg = &c;
    }
    t->node = h_node_new_cfg(cfg);
    t->expiry = H_WALL0 + 3600;
    t->dest = H_RX;
    assert_int_equal(pmul_fec_new(&t->enc, NULL), 0);
}

static void
jt_fini(jt *t)
{
    pmul_fec_free(t->enc);
    h_node_free(t->node);
}

/* Message i: msid, n PDUs, the last of `last` octets. */
static jmsg *
jt_msg(jt *t, uint32_t msid, uint16_t n, uint16_t last)
{
    jmsg *m = &t->msg[t->cnt++];
    size_t i;

    m->msid = msid;
    m->n = n;
    m->last = last;
    m->len = (size_t)(n - 1u) * J_S + last;
    for (i = 0; i < m->len; i++)
        m->payload[i] = (uint8_t)(i * 13u + msid * 7u + (i >> 5));
    return m;
}

static pmul_fec_params
jt_params(const jmsg *m)
{
    pmul_fec_params p;

    memset(&p, 0, sizeof(p));
    assert_int_equal(pmul_fec_layout(m->n, 255, &p.blocks), 0);
    p.symbol_len = J_S;
    p.last_len = m->last;
    return p;
}

static int
jt_addr_raw(jt *t, uint64_t at, const jmsg *m, const uint8_t *par, size_t par_len)
{
    pmul_dest_entry d;
    pmul_pdu p;

    d.dest_id = t->dest;
    d.msg_seq_no = m->msid;
    d.reserved = NULL;
    memset(&p, 0, sizeof(p));
    p.type = PMUL_PDU_FEC_ADDRESS;
    p.priority = 5;
    p.source_id = H_TX;
    p.msid = m->msid;
    p.u.address.total_pdus = m->n;
    p.u.address.expiry_time = (uint32_t)t->expiry;
    p.u.address.fec_id = PMUL_FEC_ID_RS8;
    p.u.address.fec_param_len = (uint8_t)par_len;
    p.u.address.fec_params = par;
    p.u.address.dest_cnt = 1;
    p.u.address.dests = &d;
    return h_feed_pdu(t->node, at, &p);
}

/* The message's own (version 1) announcement. */
static int
jt_addr1(jt *t, uint64_t at, const jmsg *m)
{
    pmul_fec_params p = jt_params(m);
    uint8_t b[PMUL_FEC_PARAM_LEN];

    assert_int_equal(pmul_fec_params_encode(&p, b, sizeof(b)), PMUL_FEC_PARAM_LEN);
    return jt_addr_raw(t, at, m, b, sizeof(b));
}

/* The joint set of members ms[0..cnt) as listed. */
static pmul_fec_joint
jt_set(jmsg *const *ms, size_t cnt, uint8_t repairs)
{
    pmul_fec_joint g;
    size_t i;

    memset(&g, 0, sizeof(g));
    g.cnt = (uint8_t)cnt;
    g.repair_cnt = repairs;
    for (i = 0; i < cnt; i++) {
        g.mem[i].msid = ms[i]->msid;
        g.mem[i].total_pdus = ms[i]->n;
        g.mem[i].last_len = ms[i]->last;
        g.k = (uint16_t)(g.k + ms[i]->n);
    }
    return g;
}

/* Version 2 announcement of carrier c with set g. */
static int
jt_addr2(jt *t, uint64_t at, const jmsg *c, const pmul_fec_joint *g)
{
    pmul_fec_params p = jt_params(c);
    uint8_t b[256];
    ssize_t len = pmul_fec_params_encode2(&p, g, c->msid, b, sizeof(b));

    assert_int_equal(len, PMUL_FEC_JOINT_PARAM_LEN(g->cnt));
    return jt_addr_raw(t, at, c, b, (size_t)len);
}

/* A copy that may complete the carrier (then it is a duplicate of it). */
static void
jt_close(jt *t, uint64_t at, const jmsg *c, const pmul_fec_joint *g)
{
    int rc = jt_addr2(t, at, c, g);

    assert_true(rc == 0 || rc == PMUL_ERR_DUPLICATE);
}

static int
jt_src(jt *t, uint64_t at, const jmsg *m, uint16_t s)
{
    return h_feed_frag(t->node, at, H_TX, m->msid, s, m->payload + (size_t)(s - 1u) * J_S,
                       s == m->n ? m->last : J_S);
}

/* Sources of m but those in the bit mask lost (bit s-1), 10 ms apart. */
static uint64_t
jt_srcs(jt *t, uint64_t at, const jmsg *m, unsigned lost)
{
    uint16_t s;

    for (s = 1; s <= m->n; s++, at += 10)
        if (!(lost >> (s - 1u) & 1u))
            assert_int_equal(jt_src(t, at, m, s), 0);
    return at;
}

/* Announce m at time at (its own version 1 announcement) and send its
 * sources but the lost ones (bit s-1) 10 ms apart; what is emitted is
 * drained.  Returns the time of the last. */
static uint64_t
jt_send(jt *t, uint64_t at, const jmsg *m, unsigned lost)
{
    assert_int_equal(jt_addr1(t, at, m), 0);
    at = jt_srcs(t, at + 10, m, lost);
    h_drain(t->node, at);
    return at;
}

/* Two messages of n PDUs each (msids id and id + 1, last fragments of
 * la and lb octets) sent in turn, losing la_lost and lb_lost (bit s-1):
 * the set of most tests.  Returns the time of the last source. */
static uint64_t
jt_pair(jt *t, jmsg **ms, uint32_t id, uint16_t na, uint16_t la, unsigned a_lost, uint16_t nb,
        uint16_t lb, unsigned b_lost)
{
    ms[0] = jt_msg(t, id, na, la);
    ms[1] = jt_msg(t, id + 1u, nb, lb);
    return jt_send(t, jt_send(t, 0, ms[0], a_lost), ms[1], b_lost);
}

/* Joint repair j of set g (members ms[]), carried by c, len octets. */
static int
jt_rep_len(jt *t, uint64_t at, jmsg *const *ms, const pmul_fec_joint *g, const jmsg *c,
           unsigned j, size_t len)
{
    static uint8_t pad[J_MAX * PMUL_FEC_JOINT_MAX][J_S];
    const uint8_t *src[PMUL_FEC_N_MAX];
    pmul_fec_params p = jt_params(c);
    uint8_t out[J_S + 1];
    size_t i, k = 0, np = 0;
    uint16_t s, seq;

    for (i = 0; i < g->cnt; i++)
        for (s = 1; s <= ms[i]->n; s++) {
            src[k] = ms[i]->payload + (size_t)(s - 1u) * J_S;
            if (s == ms[i]->n && i + 1 < g->cnt) {
                memset(pad[np], 0, J_S);
                memcpy(pad[np], src[k], ms[i]->last);
                src[k] = pad[np++];
            }
            k++;
        }
    assert_int_equal(k, g->k);
    assert_int_equal(pmul_fec_encode(t->enc, src, k, J_S, ms[g->cnt - 1]->last, j, out), 0);
    out[J_S] = 0xee;
    assert_int_equal(pmul_fec_joint_seq_of(&p.blocks, g, j, &seq), 0);
    return h_feed_frag(t->node, at, H_TX, c->msid, seq, out, len);
}

static int
jt_rep(jt *t, uint64_t at, jmsg *const *ms, const pmul_fec_joint *g, const jmsg *c, unsigned j)
{
    return jt_rep_len(t, at, ms, g, c, j, J_S);
}

static pmul_stats
jt_stats(const jt *t)
{
    pmul_stats st;

    pmul_engine_stats(t->node->e, &st);
    return st;
}

static size_t
jt_delivered(const jt *t, const jmsg *m)
{
    const h_node *n = t->node;
    size_t i, c = 0;

    for (i = 0; i < n->nev; i++)
        if (n->ev[i].ev.kind == PMUL_EV_DELIVERED && n->ev[i].ev.msid == m->msid) {
            assert_int_equal(n->ev[i].ev.payload_len, m->len);
            assert_memory_equal(n->ev[i].payload, m->payload, m->len);
            c++;
        }
    return c;
}

/* Ack_PDUs sent at or after packet index from, and the entries for msid
 * in them (missing_cnt of the last one in *miss). */
static size_t
jt_acks(const jt *t, size_t from, uint32_t msid, size_t *entries, uint16_t *miss)
{
    size_t i, acks = 0;
    uint16_t k;

    *entries = 0;
    for (i = from; i < t->node->npkt; i++) {
        pmul_pdu p = h_pdu(t->node, i);

        if (p.type != PMUL_PDU_ACK)
            continue;
        acks++;
        for (k = 0; k < p.u.ack.entry_cnt; k++)
            if (p.u.ack.entries[k].msid == msid) {
                (*entries)++;
                if (miss != NULL)
                    *miss = p.u.ack.entries[k].missing_cnt;
            }
    }
    return acks;
}

/* A (3 PDUs) and B (2 PDUs) announced and sent, A losing 2, B losing 1;
 * a joint round carried by A with two repairs rebuilds both as soon as
 * the second arrives (its number places it in the announced set). */
static void
test_rxjoint_two_members_completed(void **state)
{
    jmsg *ms[2];
    pmul_fec_joint g;
    jt t;

    (void)state;
    jt_init(&t, NULL);
    (void)jt_pair(&t, ms, 21, 3, 40, 1u << 1, 2, 70, 1u << 0);
    g = jt_set(ms, 2, 2);
    assert_int_equal(jt_addr2(&t, 1000, ms[0], &g), 0);
    assert_int_equal(jt_rep(&t, 1010, ms, &g, ms[0], 0), 0);
    h_drain(t.node, 1010);
    assert_int_equal(jt_delivered(&t, ms[0]) + jt_delivered(&t, ms[1]), 0);
    assert_int_equal(jt_rep(&t, 1020, ms, &g, ms[0], 1), 0);
    h_drain(t.node, 1020);
    assert_int_equal(jt_delivered(&t, ms[0]), 1);
    assert_int_equal(jt_delivered(&t, ms[1]), 1);
    jt_close(&t, 1030, ms[0], &g);
    h_drain(t.node, 1030);
    assert_int_equal(jt_stats(&t).rx_joint_recovered, 2);
    assert_int_equal(jt_stats(&t).rx_joint_unusable, 0);
    /* Both kept now: the later copy's repairs are of no use. */
    assert_int_equal(t.node->e->keep_bytes, ms[0]->len + ms[1]->len);
    h_run(t.node, 1020, 30000);
    assert_int_equal(jt_delivered(&t, ms[0]) + jt_delivered(&t, ms[1]), 2);
    jt_fini(&t);
}

/* A (3 PDUs) received whole and delivered, then B (3 PDUs) losing its
 * first two: their set [A, B] (K = 6), two joint repairs announced. */
static pmul_fec_joint
jt_whole_and_lossy(jt *t, jmsg **ms)
{
    uint64_t at;

    ms[0] = jt_msg(t, 31, 3, 40);
    ms[1] = jt_msg(t, 32, 3, 100);
    at = jt_send(t, 0, ms[0], 0);
    assert_int_equal(jt_delivered(t, ms[0]), 1);
    (void)jt_send(t, at, ms[1], 3u);
    return jt_set(ms, 2, 2);
}

/* Repair j of m's own block (version 1, one block), as its own round
 * numbers it. */
static int
jt_own_rep(jt *t, uint64_t at, const jmsg *m, unsigned j)
{
    const uint8_t *src[8];
    pmul_fec_params p = jt_params(m);
    uint8_t out[J_S];
    uint16_t s, seq;

    for (s = 0; s < m->n; s++)
        src[s] = m->payload + (size_t)s * J_S;
    assert_int_equal(pmul_fec_encode(t->enc, src, m->n, J_S, m->last, j, out), 0);
    assert_int_equal(pmul_fec_seq_of(&p.blocks, 0, m->n + j, &seq), 0);
    return h_feed_frag(t->node, at, H_TX, m->msid, seq, out, J_S);
}

/* A (3 PDUs) lost two sources and holds one repair of its own block, B
 * lost one: its Acks list one missing for A, and two joint repairs (not
 * three) rebuild both, the own repair standing for one of A's symbols
 * (the mixed decoding); byte-identical. */
static void
test_rxjoint_own_repair_counts(void **state)
{
    jmsg *ms[2];
    pmul_fec_joint g;
    uint64_t at;
    jt t;

    (void)state;
    jt_init(&t, NULL);
    ms[0] = jt_msg(&t, 23, 3, 40);
    ms[1] = jt_msg(&t, 24, 2, 70);
    at = jt_send(&t, 0, ms[0], 3u);
    assert_int_equal(jt_own_rep(&t, at + 10, ms[0], 0), 0);
    (void)jt_send(&t, at + 20, ms[1], 1u);
    g = jt_set(ms, 2, 2);
    assert_int_equal(jt_addr2(&t, 1000, ms[0], &g), 0);
    assert_int_equal(jt_rep(&t, 1010, ms, &g, ms[0], 0), 0);
    assert_int_equal(jt_rep(&t, 1020, ms, &g, ms[0], 1), 0);
    jt_close(&t, 1040, ms[0], &g);
    h_drain(t.node, 1040);
    assert_int_equal(jt_delivered(&t, ms[0]), 1);
    assert_int_equal(jt_delivered(&t, ms[1]), 1);
    assert_int_equal(jt_stats(&t).rx_joint_recovered, 3);
    assert_int_equal(jt_stats(&t).rx_fec_recovered, 0);
    jt_fini(&t);
}

/* Allocation failing at every step of a joint round (the state, the
 * repairs, the scratch, the deliveries): nothing breaks, and the next
 * round completes both members exactly once, byte-identical. */
static void
test_rxjoint_alloc_failure_every_step(void **state)
{
    bool reached_end = false;
    jmsg *ms[2];
    pmul_fec_joint g;
    uint64_t at;
    long k;
    jt t;

    (void)state;
    for (k = 0; !reached_end; k++) {
        jt_init(&t, NULL);
        ms[0] = jt_msg(&t, 21, 3, 40);
        ms[1] = jt_msg(&t, 22, 2, 70);
        at = jt_send(&t, 0, ms[0], 1u << 1);
        (void)jt_send(&t, at, ms[1], 1u << 0);
        g = jt_set(ms, 2, 2);
        tmem_fail_after(&t.node->tm, k);
        (void)jt_addr2(&t, 1000, ms[0], &g);
        (void)jt_rep(&t, 1010, ms, &g, ms[0], 0);
        (void)jt_rep(&t, 1020, ms, &g, ms[0], 1);
        (void)jt_addr2(&t, 1030, ms[0], &g);
        h_run(t.node, 1030, 5000);
        reached_end = h_failed(&t.node->tm) == 0;
        t.node->tm.armed = false;
        /* The next round: two fresh repairs (the set's R grows to 4). */
        g.repair_cnt = 4;
        jt_close(&t, 6000, ms[0], &g);
        (void)jt_rep(&t, 6010, ms, &g, ms[0], 2);
        (void)jt_rep(&t, 6020, ms, &g, ms[0], 3);
        jt_close(&t, 6030, ms[0], &g);
        h_run(t.node, 6030, 70000);
        assert_int_equal(jt_delivered(&t, ms[0]), 1);
        assert_int_equal(jt_delivered(&t, ms[1]), 1);
        jt_fini(&t);
    }
    print_message("allocation failure loop: %ld steps\n", k);
    assert_true(k > 3);
}

/* A delivered and kept; B (3 PDUs) lost 2; a set [A, B] carried by B
 * with one repair completes B, and A is not delivered again. */
static void
test_rxjoint_kept_member_completes_other(void **state)
{
    jmsg *ms[2];
    pmul_fec_joint g;
    jt t;

    (void)state;
    jt_init(&t, NULL);
    g = jt_whole_and_lossy(&t, ms);
    assert_int_equal(jt_addr2(&t, 1000, ms[1], &g), 0);
    assert_int_equal(jt_rep(&t, 1010, ms, &g, ms[1], 0), 0);
    h_drain(t.node, 1010);
    assert_int_equal(jt_delivered(&t, ms[1]), 0);     /* 3 + 1 + 1 of 6 */
    assert_int_equal(jt_rep(&t, 1020, ms, &g, ms[1], 1), 0);
    /* A third is not needed: dropped. */
    assert_int_equal(jt_rep(&t, 1030, ms, &g, ms[1], 2), 0);
    jt_close(&t, 1040, ms[1], &g);
    h_drain(t.node, 1040);
    assert_int_equal(jt_delivered(&t, ms[1]), 1);
    assert_int_equal(jt_delivered(&t, ms[0]), 1);
    assert_int_equal(jt_stats(&t).rx_joint_recovered, 2);
    h_run(t.node, 1040, 30000);
    assert_int_equal(jt_delivered(&t, ms[0]) + jt_delivered(&t, ms[1]), 2);
    jt_fini(&t);
}

/* Keep disabled: the same round cannot decode (A counts as erasures);
 * the closing copy draws one Ack_PDU naming A (complete) and B with its
 * missing list. */
static void
test_rxjoint_keep_disabled_acks_missing(void **state)
{
    jmsg *ms[2];
    pmul_fec_joint g;
    pmul_config c;
    size_t ents, from;
    uint16_t miss = 0;
    jt t;

    (void)state;
    jt_config(&c);
    c.fec_keep_bytes = 0;
    jt_init(&t, &c);
    g = jt_whole_and_lossy(&t, ms);
    h_run(t.node, 100, 900);
    assert_int_equal(t.node->e->keep_bytes, 0);
    assert_int_equal(jt_addr2(&t, 1000, ms[0], &g), PMUL_ERR_DUPLICATE);
    assert_int_equal(jt_rep(&t, 1010, ms, &g, ms[0], 0), 0);
    assert_int_equal(jt_rep(&t, 1020, ms, &g, ms[0], 1), 0);
    h_drain(t.node, 1020);
    from = t.node->npkt;
    /* The closing copy: for the complete carrier a duplicate. */
    assert_int_equal(jt_addr2(&t, 1030, ms[0], &g), PMUL_ERR_DUPLICATE);
    h_run(t.node, 1030, 1030 + c.ack_spread_ms);
    assert_int_equal(jt_delivered(&t, ms[1]), 0);
    assert_int_equal(jt_stats(&t).rx_joint_recovered, 0);
    assert_int_equal(jt_acks(&t, from, ms[1]->msid, &ents, &miss), 1);
    assert_int_equal(ents, 1);
    assert_int_equal(miss, 2);                  /* k_b - held_b of its own block */
    assert_int_equal(jt_acks(&t, from, ms[0]->msid, &ents, &miss), 1);
    assert_int_equal(ents, 1);
    assert_int_equal(miss, 0);                  /* the carrier, complete */
    jt_fini(&t);
}

/* A member we never heard of, or one announced to another node (ignored
 * here), counts as erasures: X (2 PDUs) with A (3 PDUs, one lost), K = 5,
 * two counted, three repairs decode; X is not delivered. */
static void
test_rxjoint_unknown_member_erasures(void **state)
{
    jmsg *ms[2];
    pmul_fec_joint g;
    unsigned j, ignored;
    jt t;

    (void)state;
    for (ignored = 0; ignored < 2; ignored++) {
        jt_init(&t, NULL);
        ms[0] = jt_msg(&t, 40, 2, 60);
        ms[1] = jt_msg(&t, 41, 3, 30);
        if (ignored) {
            t.dest = H_RX2;
            assert_int_equal(jt_addr1(&t, 0, ms[0]), PMUL_ERR_NOT_FOR_US);
            t.dest = H_RX;
        }
        (void)jt_send(&t, 0, ms[1], 1u << 2);
        g = jt_set(ms, 2, 3);
        assert_int_equal(jt_addr2(&t, 1000, ms[1], &g), 0);
        for (j = 0; j < 2; j++)
            assert_int_equal(jt_rep(&t, 1010 + 10 * j, ms, &g, ms[1], j), 0);
        h_drain(t.node, 1030);
        assert_int_equal(jt_delivered(&t, ms[1]), 0);
        assert_int_equal(jt_rep(&t, 1030, ms, &g, ms[1], 2), 0);
        jt_close(&t, 1040, ms[1], &g);
        h_run(t.node, 1040, 30000);
        assert_int_equal(jt_delivered(&t, ms[1]), 1);
        assert_int_equal(jt_delivered(&t, ms[0]), 0);
        assert_int_equal(jt_stats(&t).rx_joint_recovered, 1);
        jt_fini(&t);
    }
}

/* The carrier A was delivered, then an announcement without us retired
 * its entry to the delivered set: the joint round it carries is still
 * taken (A kept) and completes B. */
static void
test_rxjoint_retired_carrier_still_carries(void **state)
{
    jmsg *ms[2];
    pmul_fec_joint g;
    jt t;

    (void)state;
    jt_init(&t, NULL);
    g = jt_whole_and_lossy(&t, ms);
    t.dest = H_RX2;
    assert_int_equal(jt_addr1(&t, 900, ms[0]), 0);          /* retired */
    t.dest = H_RX;
    assert_null(pmul__rx_find(t.node->e, H_TX, ms[0]->msid));
    assert_int_equal(jt_addr2(&t, 1000, ms[0], &g), PMUL_ERR_DUPLICATE);
    assert_int_equal(jt_rep(&t, 1010, ms, &g, ms[0], 0), 0);
    assert_int_equal(jt_rep(&t, 1020, ms, &g, ms[0], 1), 0);
    assert_int_equal(jt_addr2(&t, 1030, ms[0], &g), PMUL_ERR_DUPLICATE);
    h_run(t.node, 1030, 30000);
    assert_int_equal(jt_delivered(&t, ms[1]), 1);
    assert_int_equal(jt_delivered(&t, ms[0]), 1);
    jt_fini(&t);
}

/* Three ACTIVE members with losses, a round too short to decode: its
 * closing copy draws exactly one Ack_PDU with an entry for each, after
 * the spreading delay (also on a shared medium: not at once). */
static void
test_rxjoint_closing_copy_one_ack(void **state)
{
    jmsg *ms[3];
    pmul_fec_joint g;
    pmul_config c;
    size_t ents, from, acks, i;
    uint64_t at;
    unsigned shared;
    jt t;

    (void)state;
    for (shared = 0; shared < 2; shared++) {
        jt_config(&c);
        c.shared_medium = shared != 0;
        jt_init(&t, &c);
        t.node->rnd.value = UINT32_MAX / 2;    /* half the spreading bound */
        ms[0] = jt_msg(&t, 51, 4, 100);
        ms[1] = jt_msg(&t, 52, 3, 20);
        ms[2] = jt_msg(&t, 53, 5, 99);
        for (at = 0, i = 0; i < 3; i++)
            at = jt_send(&t, at, ms[i], 3u);
        h_run(t.node, at, 20000);
        g = jt_set(ms, 3, 4);
        assert_int_equal(jt_addr2(&t, 20000, ms[0], &g), 0);
        assert_int_equal(jt_rep(&t, 20010, ms, &g, ms[0], 0), 0);
        assert_int_equal(jt_rep(&t, 20020, ms, &g, ms[0], 1), 0);
        h_drain(t.node, 20020);
        from = t.node->npkt;
        assert_int_equal(jt_addr2(&t, 20030, ms[0], &g), 0);
        h_drain(t.node, 20030);
        assert_int_equal(h_count(t.node, from, PMUL_PDU_ACK), 0);
        h_run(t.node, 20030, 20030 + c.ack_spread_ms);
        for (i = 0; i < 3; i++) {
            acks = jt_acks(&t, from, ms[i]->msid, &ents, NULL);
            assert_int_equal(acks, 1);
            assert_int_equal(ents, 1);
        }
        assert_int_equal(jt_stats(&t).rx_joint_recovered, 0);
        jt_fini(&t);
    }
}

/* The set says A has 4 PDUs; we hold it with 3: unusable, counted once,
 * its repairs never decode. */
static void
test_rxjoint_disagreeing_total_unusable(void **state)
{
    jmsg *ms[2], liar;
    pmul_fec_joint g;
    uint64_t at;
    unsigned j;
    jt t;

    (void)state;
    jt_init(&t, NULL);
    ms[0] = jt_msg(&t, 61, 3, 50);
    ms[1] = jt_msg(&t, 62, 2, 50);
    at = jt_send(&t, 0, ms[0], 1u);
    at = jt_send(&t, at, ms[1], 1u);
    g = jt_set(ms, 2, 3);
    g.mem[0].total_pdus = 4;
    g.k = 6;
    assert_int_equal(jt_addr2(&t, 1000, ms[1], &g), 0);
    assert_int_equal(jt_stats(&t).rx_joint_unusable, 1);
    liar = *ms[0];
    liar.n = 4;
    liar.len = 3 * J_S + liar.last;
    for (j = 0; j < 3; j++) {
        jmsg *lm[2] = { &liar, ms[1] };

        assert_int_equal(jt_rep(&t, 1010 + 10 * j, lm, &g, ms[1], j), 0);
    }
    assert_int_equal(jt_addr2(&t, 1040, ms[1], &g), 0);
    h_run(t.node, 1040, 30000);
    assert_int_equal(jt_stats(&t).rx_joint_unusable, 1);
    assert_int_equal(jt_stats(&t).rx_joint_recovered, 0);
    assert_int_equal(jt_delivered(&t, ms[0]) + jt_delivered(&t, ms[1]), 0);
    jt_fini(&t);
}

/* Repairs one octet short or long are dropped; the right ones decode. */
static void
test_rxjoint_repair_wrong_length(void **state)
{
    jmsg *ms[2];
    pmul_fec_joint g;
    uint64_t at, unused;
    jt t;

    (void)state;
    jt_init(&t, NULL);
    ms[0] = jt_msg(&t, 71, 2, 100);
    ms[1] = jt_msg(&t, 72, 2, 10);
    at = jt_send(&t, 0, ms[0], 1u);
    at = jt_send(&t, at, ms[1], 0);
    g = jt_set(ms, 2, 2);
    assert_int_equal(jt_addr2(&t, 1000, ms[0], &g), 0);
    unused = jt_stats(&t).rx_fec_unused;
    assert_int_equal(jt_rep_len(&t, 1010, ms, &g, ms[0], 0, J_S - 1), 0);
    assert_int_equal(jt_rep_len(&t, 1020, ms, &g, ms[0], 0, J_S + 1), 0);
    h_drain(t.node, 1020);
    assert_int_equal(jt_stats(&t).rx_fec_unused, unused + 2);
    assert_int_equal(jt_delivered(&t, ms[0]), 0);
    assert_int_equal(jt_rep(&t, 1030, ms, &g, ms[0], 0), 0);
    jt_close(&t, 1040, ms[0], &g);
    h_drain(t.node, 1040);
    assert_int_equal(jt_delivered(&t, ms[0]), 1);
    jt_fini(&t);
}

/* A repair is placed by its number (docs/wire.md 10.8): a number within
 * the set's announced range at once; one past it (the round's first copy
 * was lost) when a later copy announces the range; one at or below the
 * highest number held is no fresh repair.  (Before any announcement of
 * its set: test_rxjoint_repairs_before_any_copy.) */
static void
test_rxjoint_repairs_placed_by_number(void **state)
{
    jmsg *ms[2];
    pmul_fec_joint g;
    jt t;

    (void)state;
    jt_init(&t, NULL);
    (void)jt_pair(&t, ms, 81, 3, 100, 3u, 3, 10, 0);
    g = jt_set(ms, 2, 2);
    assert_int_equal(jt_addr2(&t, 1000, ms[0], &g), 0);
    assert_int_equal(jt_rep(&t, 1010, ms, &g, ms[0], 1), 0);
    assert_int_equal(jt_addr2(&t, 1020, ms[0], &g), 0);
    h_drain(t.node, 1020);
    assert_int_equal(jt_delivered(&t, ms[0]), 0);      /* 4 + 1 of 6 */
    /* The next round's first copy (R 3) lost: a repeated number is no
     * fresh repair, and repair 2 waits, past the range it knows. */
    assert_int_equal(jt_rep(&t, 2010, ms, &g, ms[0], 1), 0);
    assert_int_equal(jt_rep(&t, 2020, ms, &g, ms[0], 2), 0);
    h_drain(t.node, 2020);
    assert_int_equal(jt_delivered(&t, ms[0]), 0);
    g.repair_cnt = 3;
    jt_close(&t, 2030, ms[0], &g);
    h_drain(t.node, 2030);
    assert_int_equal(jt_delivered(&t, ms[0]), 1);
    assert_int_equal(jt_stats(&t).rx_joint_recovered, 2);
    jt_fini(&t);
}

/*
 * The round's first copy lost: its repairs come before any announcement
 * of the set and are held, and the mid-round copy places them by number
 * (the round decodes without going again).  Held only while something of
 * the source is missing here: a receiver that lacks nothing keeps none.
 */
static void
test_rxjoint_repairs_before_any_copy(void **state)
{
    jmsg *ms[2];
    pmul_fec_joint g;
    jt t;

    (void)state;
    jt_init(&t, NULL);
    (void)jt_pair(&t, ms, 71, 3, 100, 4u, 3, 10, 1u);  /* 4 of 6 held */
    g = jt_set(ms, 2, 2);
    assert_int_equal(jt_rep(&t, 900, ms, &g, ms[0], 0), 0);
    assert_int_equal(jt_rep(&t, 910, ms, &g, ms[0], 1), 0);
    h_drain(t.node, 910);
    assert_int_equal(jt_delivered(&t, ms[0]), 0);
    assert_int_equal(jt_stats(&t).rx_fec_unused, 0);
    jt_close(&t, 920, ms[0], &g);                       /* the mid-round copy */
    h_drain(t.node, 920);
    assert_int_equal(jt_delivered(&t, ms[0]), 1);
    assert_int_equal(jt_delivered(&t, ms[1]), 1);
    assert_int_equal(jt_stats(&t).rx_joint_recovered, 2);
    /* Everything held: a later set's repairs before its copy are dropped. */
    g.j0 = 2;
    assert_int_equal(jt_rep(&t, 2000, ms, &g, ms[0], 0), 0);
    assert_int_equal(jt_stats(&t).rx_fec_unused, 1);
    jt_fini(&t);
}

/*
 * A listed destination answers the closing copy for a member it has
 * complete too: the transmitter still counts it as needing that member,
 * so its complete Ack (and the copy of it) were lost.  One Ack_PDU names
 * the ACTIVE member with its list (sources 1 and 3) and the complete one
 * as complete.
 */
static void
test_rxjoint_closing_copy_names_complete_member(void **state)
{
    jmsg *ms[2];
    pmul_fec_joint g;
    size_t ents, from, i, both;
    uint64_t at;
    jt t;

    (void)state;
    jt_init(&t, NULL);
    t.node->rnd.value = 0;
    /* A complete here, B missing 1 and 3. */
    at = jt_pair(&t, ms, 75, 4, 100, 0u, 3, 20, 5u);
    h_run(t.node, at, 20000);
    assert_int_equal(jt_delivered(&t, ms[0]), 1);
    g = jt_set(ms, 2, 1);                               /* carried by B */
    assert_int_equal(jt_addr2(&t, 20000, ms[1], &g), 0);
    assert_int_equal(jt_rep(&t, 20010, ms, &g, ms[1], 0), 0);
    h_drain(t.node, 20010);
    from = t.node->npkt;
    jt_close(&t, 20020, ms[1], &g);
    h_run(t.node, 20020, 20020 + 1000);
    /* The answer: one Ack_PDU with both entries. */
    for (i = from, both = 0; i < t.node->npkt; i++) {
        pmul_pdu p = h_pdu(t.node, i);
        int c0 = -1, c1 = -1;
        uint16_t k;

        if (p.type != PMUL_PDU_ACK)
            continue;
        for (k = 0; k < p.u.ack.entry_cnt; k++) {
            if (p.u.ack.entries[k].msid == ms[0]->msid)
                c0 = p.u.ack.entries[k].missing_cnt;
            if (p.u.ack.entries[k].msid == ms[1]->msid)
                c1 = p.u.ack.entries[k].missing_cnt;
        }
        both += c0 == 0 && c1 == 2;
    }
    assert_int_equal(both, 1);
    assert_int_equal(jt_acks(&t, from, ms[1]->msid, &ents, NULL), 1);
    assert_int_equal(ents, 1);
    jt_fini(&t);
}

/* The carrier's next round codes another set (C joined), numbered past
 * the old set's (j0 2), and its first copy is lost.  Its repairs are past
 * the old set's range, so they wait instead of being read under it (which
 * would decode garbage); the new set's closing copy places them, and the
 * old set's repair below the new range is dropped.  Byte-identical. */
static void
test_rxjoint_set_change_placed_by_number(void **state)
{
    jmsg *ms[3];
    pmul_fec_joint g2, g3;
    uint64_t at;
    unsigned j;
    jt t;

    (void)state;
    jt_init(&t, NULL);
    ms[0] = jt_msg(&t, 91, 3, 100);
    ms[1] = jt_msg(&t, 92, 3, 10);
    ms[2] = jt_msg(&t, 93, 2, 50);
    at = jt_send(&t, 0, ms[0], 3u);
    at = jt_send(&t, at, ms[1], 0);
    (void)jt_send(&t, at, ms[2], 1u);
    g2 = jt_set(ms, 2, 2);
    g3 = jt_set(ms, 3, 3);
    g3.j0 = 2;
    assert_int_equal(jt_addr2(&t, 1000, ms[0], &g2), 0);
    assert_int_equal(jt_rep(&t, 1010, ms, &g2, ms[0], 1), 0);  /* [A, B]'s, 1 of 2 */
    assert_int_equal(jt_addr2(&t, 1020, ms[0], &g2), 0);
    for (j = 0; j < 3; j++)                                 /* [A, B, C]'s */
        assert_int_equal(jt_rep(&t, 2000 + 10 * j, ms, &g3, ms[0], j), 0);
    h_drain(t.node, 2030);
    assert_int_equal(jt_stats(&t).rx_joint_recovered, 0);
    assert_int_equal(jt_delivered(&t, ms[0]) + jt_delivered(&t, ms[2]), 0);
    jt_close(&t, 2040, ms[0], &g3);
    h_drain(t.node, 2040);
    assert_int_equal(jt_delivered(&t, ms[0]), 1);           /* byte-identical */
    assert_int_equal(jt_delivered(&t, ms[2]), 1);
    assert_int_equal(jt_stats(&t).rx_joint_recovered, 3);
    jt_fini(&t);
}

/* The keep store holds at most fec_keep_bytes (oldest out, counted) and
 * lets each payload go at its Expiry_Time (not counted). */
static void
test_rxjoint_keep_eviction_bytes_and_expiry(void **state)
{
    pmul_config c;
    jmsg *a, *b, *d;
    uint64_t at;
    jt t;

    (void)state;
    jt_config(&c);
    c.fec_keep_bytes = 500;
    jt_init(&t, &c);
    a = jt_msg(&t, 91, 3, 100);                 /* 300 */
    b = jt_msg(&t, 92, 2, 50);                  /* 150 */
    d = jt_msg(&t, 93, 2, 100);                 /* 200 */
    at = jt_send(&t, 0, a, 0);
    t.expiry = H_WALL0 + 60;
    at = jt_send(&t, at + 10, b, 0);
    assert_int_equal(t.node->e->keep_bytes, 450);
    at = jt_send(&t, at + 10, d, 0);
    assert_int_equal(t.node->e->keep_bytes, 350);   /* a went */
    assert_int_equal(jt_stats(&t).rx_keep_evicted, 1);
    assert_true(pmul_engine_next_deadline(t.node->e) <= 60000);
    h_run(t.node, at, 61000);
    assert_int_equal(t.node->e->keep_bytes, 0);     /* b and d expired */
    assert_int_equal(jt_stats(&t).rx_keep_evicted, 1);
    assert_int_equal(jt_delivered(&t, a) + jt_delivered(&t, b) + jt_delivered(&t, d), 3);
    jt_fini(&t);
}

/* Accept mode: nothing is kept while the verdict is due; a rejected
 * payload is never kept, an accepted one is. */
static void
test_rxjoint_accept_mode_keeps_accepted(void **state)
{
    pmul_config c;
    jmsg *a, *b;
    uint64_t at;
    jt t;

    (void)state;
    jt_config(&c);
    c.deliver_needs_accept = true;
    jt_init(&t, &c);
    a = jt_msg(&t, 101, 2, 100);
    b = jt_msg(&t, 102, 3, 1);
    at = jt_send(&t, 0, a, 0);
    at = jt_send(&t, at + 10, b, 0);
    assert_int_equal(jt_delivered(&t, a) + jt_delivered(&t, b), 2);
    assert_int_equal(t.node->e->keep_bytes, 0);
    assert_int_equal(pmul_engine_reject(t.node->e, h_now(at), H_TX, a->msid), 0);
    assert_int_equal(t.node->e->keep_bytes, 0);
    assert_int_equal(pmul_engine_accept(t.node->e, h_now(at), H_TX, b->msid), 0);
    assert_int_equal(t.node->e->keep_bytes, b->len);
    jt_fini(&t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rxjoint_two_members_completed),
        cmocka_unit_test(test_rxjoint_alloc_failure_every_step),
        cmocka_unit_test(test_rxjoint_own_repair_counts),
        cmocka_unit_test(test_rxjoint_kept_member_completes_other),
        cmocka_unit_test(test_rxjoint_keep_disabled_acks_missing),
        cmocka_unit_test(test_rxjoint_unknown_member_erasures),
        cmocka_unit_test(test_rxjoint_retired_carrier_still_carries),
        cmocka_unit_test(test_rxjoint_closing_copy_one_ack),
        cmocka_unit_test(test_rxjoint_disagreeing_total_unusable),
        cmocka_unit_test(test_rxjoint_repair_wrong_length),
        cmocka_unit_test(test_rxjoint_repairs_placed_by_number),
        cmocka_unit_test(test_rxjoint_repairs_before_any_copy),
        cmocka_unit_test(test_rxjoint_closing_copy_names_complete_member),
        cmocka_unit_test(test_rxjoint_set_change_placed_by_number),
        cmocka_unit_test(test_rxjoint_keep_eviction_bytes_and_expiry),
        cmocka_unit_test(test_rxjoint_accept_mode_keeps_accepted),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
