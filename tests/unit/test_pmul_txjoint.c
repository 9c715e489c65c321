/*
 * NAME
 *	test_pmul_txjoint - scripted tests of the transmitter's joint repair rounds
 * SYNOPSIS
 *	meson test -C BUILD --no-rebuild -v pmul_txjoint
 * DESCRIPTION
 *	Drives one engine as a transmitter with cfg.fec and cfg.fec_joint on
 *	(docs/wire.md 10.8, "Transmitter"): candidates wait while a message of
 *	the same destinations and priority has its first transmission to
 *	send, then go in one joint round (version 2 FEC_Address_PDU, joint
 *	repairs G + j whose bytes rebuild dropped sources of two members,
 *	closing copy); a new set's carrier is the member its neediest
 *	destination needs most, not the oldest, and the oldest finishing
 *	mid-round does not end the round; a lone candidate gets its plain
 *	round; the wait bound flushes; another destination list or priority is
 *	not joined; fec_joint off keeps the per-message rounds; a destination
 *	whose lists did not shrink over STALL_MIN joint repairs is learned, one
 *	whose list shrank proves decoding; an unchanged carrier list makes the
 *	members' lists stand; a member that finishes mid-round does not stop
 *	the joint repairs; a set that failed at one destination goes again,
 *	carried by its own carrier also when the oldest waiting candidate is
 *	a member, and an older candidate does not take its members into a new
 *	set; MAP-split copies fit pdu_max_len.
 * SECURITY
 *	Test code.
 * DIAGNOSTICS
 *	cmocka.
 * SEE ALSO
 *	test_pmul_engine.h, test_pmul_txfec.c, pmul/pmul_txjoint.c
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "test_pmul_engine.h"

#include "pmul/pmul_fec.h"

#define FRAG 1008u
#define WAIT_MS 5000u

static h_node *
joint_tx(bool joint, uint32_t link_bps)
{
    pmul_config c;

    h_config(&c, H_TX);
    c.link_rate_bps = link_bps;
    c.fec = true;
    /* No proactive repairs and no margins: round 1 is the sources, and a
     * round's repairs are exactly the need (test_pmul_txfec pins those). */
    c.fec_ratio_pct = 0;
    c.fec_adaptive = false;
    c.fec_joint = joint;
    c.fec_joint_wait_ms = WAIT_MS;
    return h_node_new_cfg(&c);
}

/* Payload byte i of a message salted s: members differ byte for byte. */
static uint8_t
salted(unsigned s, size_t i)
{
    return (uint8_t)(i * 31u + s * 101u + (i >> 8) * 7u + 1u);
}

static uint32_t
submit_salted(h_node *n, uint64_t t, size_t len, const uint32_t *dests, size_t cnt, uint8_t prio,
              unsigned s)
{
    uint8_t *b = malloc(len);
    uint32_t msid;
    size_t i;

    for (i = 0; i < len; i++)
        b[i] = salted(s, i);
    msid = h_submit_bytes(n, t, b, len, dests, cnt, prio);
    free(b);
    return msid;
}

/* Index of the first FEC_Address_PDU of msid from packet `from`, or -1. */
static long
find_addr(const h_node *n, size_t from, uint32_t msid)
{
    size_t i;

    for (i = from; i < n->npkt; i++) {
        pmul_pdu p = h_pdu(n, i);

        if ((p.type == PMUL_PDU_FEC_ADDRESS || p.type == PMUL_PDU_ADDRESS) && p.msid == msid &&
            p.u.address.dest_cnt > 0)
            return (long)i;
    }
    return -1;
}

/* Version 2 parameters of FEC_Address_PDU i (0: decoded). */
static int
params2_of(const h_node *n, size_t i, pmul_fec_params *fp, pmul_fec_joint *g)
{
    pmul_pdu p = h_pdu(n, i);

    assert_int_equal(p.type, PMUL_PDU_FEC_ADDRESS);
    return pmul_fec_params_decode2(fp, g, p.u.address.fec_id, p.u.address.fec_params,
                                   p.u.address.fec_param_len, p.u.address.total_pdus, p.msid);
}

/* Packet i is a FEC_Address_PDU with version 1 parameters (a round per
 * message). */
static bool
is_v1(const h_node *n, size_t i)
{
    pmul_pdu p = h_pdu(n, i);
    pmul_fec_params fp;

    return p.type == PMUL_PDU_FEC_ADDRESS &&
           pmul_fec_params_decode(&fp, p.u.address.fec_id, p.u.address.fec_params,
                                  p.u.address.fec_param_len, p.u.address.total_pdus) == 0;
}

static const uint32_t two[] = { H_RX, H_RX2 };

/* One Ack_PDU from acker with an entry for each of msid[0..cnt), missing
 * miss[i][0..mcnt[i]) (a receiver of docs/wire.md 10.8 answers a joint
 * round so, receiver 4). */
static int
feed_ackn(h_node *n, uint64_t t, uint32_t acker, size_t cnt, const uint32_t *msid,
          const uint16_t *const *miss, const uint16_t *mcnt)
{
    pmul_ack_entry a[PMUL_FEC_JOINT_MAX];
    pmul_pdu p;
    size_t i;

    assert_true(cnt <= PMUL_FEC_JOINT_MAX);
    memset(a, 0, sizeof(a));
    for (i = 0; i < cnt; i++) {
        a[i].source_id = H_TX;
        a[i].msid = msid[i];
        a[i].missing = miss[i];
        a[i].missing_cnt = mcnt[i];
    }
    memset(&p, 0, sizeof(p));
    p.type = PMUL_PDU_ACK;
    p.source_id = acker;
    p.u.ack.entry_cnt = (uint16_t)cnt;
    p.u.ack.entries = a;
    return h_feed_pdu(n, t, &p);
}

/* feed_ackn() for m1 and m2. */
static int
feed_ack2(h_node *n, uint64_t t, uint32_t acker, uint32_t m1, const uint16_t *miss1, uint16_t c1,
          uint32_t m2, const uint16_t *miss2, uint16_t c2)
{
    const uint32_t m[2] = { m1, m2 };
    const uint16_t *const miss[2] = { miss1, miss2 };
    const uint16_t c[2] = { c1, c2 };

    return feed_ackn(n, t, acker, 2, m, miss, c);
}

/* RX and RX2 decoded a joint round before: candidates wait for
 * fec_joint_max others, not for one (a trial, pmul_txjoint.c worth()). */
static void
prove(h_node *n, const uint32_t *dests, size_t cnt)
{
    pmul_dststate *ds;
    size_t i;

    for (i = 0; i < cnt; i++) {
        assert_int_equal(pmul__dst_get(n->e, dests[i], &ds), 0);
        ds->jdec_ok = true;
    }
}
#define LEN_A (2 * FRAG + 100)  /* 3 PDUs */
#define LEN_B (FRAG + 40)       /* 2 PDUs */
#define LEN_C (3 * FRAG)

/* At t RX lists A's 2 and B's 1, RX2 A's 1 and 3 and acks B complete. */
static void
ab_lists(h_node *n, uint64_t t, uint32_t a, uint32_t b)
{
    static const uint16_t ra[] = { 2 }, rb[] = { 1 }, r2a[] = { 1, 3 };

    assert_int_equal(h_feed_ack(n, t, H_RX, H_TX, a, ra, 1), 0);
    assert_int_equal(h_feed_ack(n, t, H_RX2, H_TX, a, r2a, 2), 0);
    assert_int_equal(h_feed_ack(n, t, H_RX, H_TX, b, rb, 1), 0);
    assert_int_equal(h_feed_ack(n, t, H_RX2, H_TX, b, NULL, 0), 0);
}

/*
 * A (3 PDUs) and B (2 PDUs) to RX and RX2 went; C, to the same, is
 * submitted but not sent yet.  ab_lists(): both candidates, and with
 * `proven` both wait for C's first transmission (else they are a trial
 * and go at once).
 */
static void
two_waiting(h_node *n, uint32_t *a, uint32_t *b, uint32_t *c, bool proven)
{
    if (proven)
        prove(n, two, 2);
    *a = submit_salted(n, 0, LEN_A, two, 2, 6, 1);
    *b = submit_salted(n, 0, LEN_B, two, 2, 6, 2);
    assert_int_equal(h_drain(n, 0), 1 + 3 + 1 + 2);
    *c = submit_salted(n, 50, LEN_C, two, 2, 6, 3);     /* not drained yet */
    ab_lists(n, 100, *a, *b);
}

/*
 * Once C's first transmission is out, A carries one joint round for A and
 * B: a version 2 FEC_Address_PDU (A's own repair_cnt 0; members A then B,
 * K 5), both destinations listed, 2 joint repairs (the most either needs,
 * summed: RX 1 + 1, RX2 2 + 0) numbered G, G + 1 with G = 3 + 255 + 1,
 * and the closing copy.  Per message it was 2 repairs for A and a source
 * for B.  The repairs with the three sources left rebuild A's 2 and B's 1
 * byte for byte.  Afterwards both A and B wait for their Acks.
 */
static void
test_pmul_txjoint_two_waiting_one_round(void **state)
{
    h_node *n = joint_tx(true, 0);
    uint32_t a, b, c;
    size_t first, i, S = FRAG;
    long at;
    pmul_fec_params fp;
    pmul_fec_joint g;
    pmul_pdu p;
    pmul_txmsg *ma, *mb;
    uint8_t src[5][FRAG], rep[2][FRAG], out1[FRAG], out3[FRAG];
    const uint8_t *sym[7];
    uint8_t *outs[7];
    pmul_fec_block blk;
    pmul_fec *f;

    (void)state;
    two_waiting(n, &a, &b, &c, true);
    assert_true(pmul__tx_find(n->e, a)->jwait);
    assert_true(pmul__tx_find(n->e, b)->jwait);
    assert_int_equal(n->e->st.fec_joint_rounds, 0);
    first = n->npkt;
    /* C's first transmission, then the joint round: its announcement,
     * two repairs, the closing copy. */
    assert_int_equal(h_drain(n, 100), 1 + 3 + (1 + 1 + 1 + 1));
    assert_int_equal(h_pdu(n, first).msid, c);
    at = find_addr(n, first + 1, a);
    assert_int_equal(at, (long)first + 4);
    assert_int_equal(params2_of(n, (size_t)at, &fp, &g), 0);
    assert_int_equal(fp.repair_cnt, 0);
    assert_int_equal(g.cnt, 2);
    assert_int_equal(g.k, 5);
    assert_int_equal(g.repair_cnt, 2);
    assert_int_equal(g.mem[0].msid, a);
    assert_int_equal(g.mem[0].total_pdus, 3);
    assert_int_equal(g.mem[0].last_len, 100);
    assert_int_equal(g.mem[1].msid, b);
    assert_int_equal(g.mem[1].total_pdus, 2);
    assert_int_equal(g.mem[1].last_len, 40);
    assert_int_equal(pmul_fec_joint_base(&fp.blocks), 259);
    assert_int_equal(h_pdu(n, (size_t)at).u.address.dest_cnt, 2);
    for (i = 0; i < 2; i++) {
        p = h_pdu(n, (size_t)at + 1 + i);
        assert_int_equal(p.type, PMUL_PDU_DATA);
        assert_int_equal(p.msid, a);
        assert_int_equal(p.u.data.seq, 259 + i);
        assert_int_equal(p.u.data.frag_len, S);
        memcpy(rep[i], p.u.data.frag, S);
    }
    assert_int_equal(params2_of(n, (size_t)at + 3, &fp, &g), 0);       /* closing copy */
    assert_int_equal(h_pdu(n, (size_t)at + 3).u.address.dest_cnt, 2);
    assert_int_equal(n->e->st.fec_joint_rounds, 1);
    assert_int_equal(n->e->st.fec_joint_members, 2);
    assert_int_equal(n->e->st.fec_joint_repairs, 2);
    assert_int_equal(n->e->st.fec_repair_pdus, 2);
    ma = pmul__tx_find(n->e, a);
    mb = pmul__tx_find(n->e, b);
    assert_int_equal(ma->phase, PMUL_TXP_WAIT);
    assert_int_equal(mb->phase, PMUL_TXP_WAIT);
    assert_int_equal(mb->data_rounds, 2);
    assert_int_equal(mb->sent_rounds, 2);
    assert_true(ma->rtx_at != UINT64_MAX);
    assert_true(mb->rtx_at != UINT64_MAX);

    /* The joint block: A 1..3 (3 padded), B 1..2 (2 padded). */
    memset(src, 0, sizeof(src));
    for (i = 0; i < LEN_A; i++)
        src[i / FRAG][i % FRAG] = salted(1, i);
    for (i = 0; i < LEN_B; i++)
        src[3 + i / FRAG][i % FRAG] = salted(2, i);
    assert_int_equal(pmul_fec_new(&f, NULL), 0);
    /* Drop A's 2 (ESI 1) and B's 1 (ESI 3): held 0, 2, 4 and repairs 5, 6. */
    pmul_fec_block_init(&blk, 5);
    memset(sym, 0, sizeof(sym));
    memset(outs, 0, sizeof(outs));
    for (i = 0; i < 7; i++) {
        if (i == 1 || i == 3)
            continue;
        assert_int_equal(pmul_fec_block_add(&blk, (unsigned)i), 0);
        sym[i] = i < 5 ? src[i] : rep[i - 5];
    }
    outs[1] = out1;
    outs[3] = out3;
    assert_true(pmul_fec_can_recover(&blk));
    assert_int_equal(pmul_fec_recover(f, &blk, sym, 7, S, S, outs), 0);
    assert_memory_equal(out1, src[1], S);
    assert_memory_equal(out3, src[3], S);
    pmul_fec_free(f);
    h_node_free(n);
}

/* Without the change C's round is not what they wait for: fec_joint off,
 * A's and B's rounds start at their Acks, per message (version 1, A 2
 * repairs at 4 and 5, B its source 1), before C's first transmission. */
static void
test_pmul_txjoint_off_is_per_message(void **state)
{
    h_node *n = joint_tx(false, 0);
    uint32_t a, b, c;
    size_t first;
    long at;

    (void)state;
    two_waiting(n, &a, &b, &c, false);
    assert_false(pmul__tx_find(n->e, a)->jwait);
    first = n->npkt;
    assert_int_equal(h_drain(n, 100), (1 + 2) + (1 + 1) + (1 + 3));
    at = find_addr(n, first, a);
    assert_int_equal(at, (long)first);
    assert_true(is_v1(n, first));
    assert_int_equal(h_pdu(n, first + 1).u.data.seq, 4);
    assert_int_equal(h_pdu(n, first + 2).u.data.seq, 5);
    assert_int_equal(h_pdu(n, first + 3).msid, b);
    assert_int_equal(h_pdu(n, first + 4).u.data.seq, 1);
    assert_int_equal(h_pdu(n, first + 5).msid, c);
    assert_int_equal(n->e->st.fec_joint_rounds, 0);
    h_node_free(n);
}

/* A lone candidate: no other message like it is being sent, so its round
 * starts at once, per message (version 1). */
static void
test_pmul_txjoint_lone_gets_plain_round(void **state)
{
    h_node *n = joint_tx(true, 0);
    static const uint16_t ra[] = { 2 }, r2a[] = { 1, 3 };
    uint32_t a;
    size_t first;

    (void)state;
    a = submit_salted(n, 0, LEN_A, two, 2, 6, 1);
    h_drain(n, 0);
    assert_int_equal(h_feed_ack(n, 100, H_RX, H_TX, a, ra, 1), 0);
    assert_int_equal(h_feed_ack(n, 100, H_RX2, H_TX, a, r2a, 2), 0);
    assert_false(pmul__tx_find(n->e, a)->jwait);
    first = n->npkt;
    assert_int_equal(h_drain(n, 100), 1 + 2);
    assert_true(is_v1(n, first));
    assert_int_equal(h_pdu(n, first + 1).u.data.seq, 4);
    assert_int_equal(n->e->st.fec_joint_rounds, 0);
    h_node_free(n);
}

/*
 * The wait bound: at 9600 bit/s C (20 PDUs) takes about 18 s, but A and
 * B, waiting since their Acks, go in a joint round fec_joint_wait_ms
 * after them, ahead of the rest of C (same priority, older).  The engine's
 * deadline shows the bound.
 */
static void
test_pmul_txjoint_wait_bound_flushes(void **state)
{
    h_node *n = joint_tx(true, 9600);
    uint32_t a, b, c;
    size_t first, i;
    long at;
    pmul_fec_params fp;
    pmul_fec_joint g;
    uint64_t t0;

    (void)state;
    prove(n, two, 2);
    a = submit_salted(n, 0, LEN_A, two, 2, 6, 1);
    b = submit_salted(n, 0, LEN_B, two, 2, 6, 2);
    h_run(n, 0, 6000);
    assert_int_equal(pmul__tx_find(n->e, a)->phase, PMUL_TXP_WAIT);
    assert_int_equal(pmul__tx_find(n->e, b)->phase, PMUL_TXP_WAIT);
    c = submit_salted(n, 6000, 20 * FRAG, two, 2, 6, 3);
    t0 = 6100;
    ab_lists(n, t0, a, b);
    assert_true(pmul__tx_find(n->e, a)->jwait);
    assert_int_equal(pmul__txj_deadline(n->e, pmul__tx_find(n->e, a)), t0 + WAIT_MS);
    first = n->npkt;
    h_run(n, 6000, t0 + WAIT_MS - 1);
    assert_int_equal(find_addr(n, first + 1, a), -1);
    assert_int_equal(n->e->st.fec_joint_rounds, 0);
    h_run(n, t0 + WAIT_MS - 1, t0 + WAIT_MS + 3000);
    assert_int_equal(n->e->st.fec_joint_rounds, 1);
    at = find_addr(n, first, a);
    assert_true(at > 0);
    assert_true(n->pkt[at].t >= t0 + WAIT_MS && n->pkt[at].t < t0 + WAIT_MS + 1500);
    assert_int_equal(params2_of(n, (size_t)at, &fp, &g), 0);
    assert_int_equal(g.cnt, 2);
    /* C's first transmission is not over. */
    for (i = (size_t)at; i < n->npkt; i++)
        assert_false(h_pdu(n, i).msid == c && h_pdu(n, i).type == PMUL_PDU_DATA &&
                     h_pdu(n, i).u.data.seq == 20);
    h_node_free(n);
}

/*
 * A and A2 (priority 6) and B (priority 5, or another destination list)
 * all wait, each behind a message like it that is being sent: A and A2
 * (RX lost A's 2, RX2 A2's 1: one joint repair for two) go in one joint
 * round, B gets its plain round.
 */
static void
not_joined(uint8_t prio_b, const uint32_t *dests_b)
{
    h_node *n = joint_tx(true, 0);
    static const uint16_t r1[] = { 2 }, r2[] = { 1 };
    uint32_t a, a2, b;
    size_t first;
    long at;
    pmul_fec_params fp;
    pmul_fec_joint g;

    prove(n, two, 2);
    prove(n, dests_b, 2);
    a = submit_salted(n, 0, LEN_A, two, 2, 6, 1);
    b = submit_salted(n, 0, LEN_A, dests_b, 2, prio_b, 2);
    a2 = submit_salted(n, 0, LEN_B, two, 2, 6, 3);
    h_drain(n, 0);
    submit_salted(n, 50, LEN_C, two, 2, 6, 4);
    submit_salted(n, 50, LEN_C, dests_b, 2, prio_b, 5);
    assert_int_equal(h_feed_ack(n, 100, H_RX, H_TX, a, r1, 1), 0);
    assert_int_equal(h_feed_ack(n, 100, H_RX2, H_TX, a, NULL, 0), 0);
    assert_int_equal(h_feed_ack(n, 100, dests_b[0], H_TX, b, r1, 1), 0);
    assert_int_equal(h_feed_ack(n, 100, dests_b[1], H_TX, b, r2, 1), 0);
    assert_int_equal(h_feed_ack(n, 100, H_RX, H_TX, a2, NULL, 0), 0);
    assert_int_equal(h_feed_ack(n, 100, H_RX2, H_TX, a2, r2, 1), 0);
    assert_true(pmul__tx_find(n->e, a)->jwait);
    assert_true(pmul__tx_find(n->e, b)->jwait);
    assert_true(pmul__tx_find(n->e, a2)->jwait);
    first = n->npkt;
    h_drain(n, 100);
    assert_int_equal(n->e->st.fec_joint_rounds, 1);
    assert_int_equal(n->e->st.fec_joint_members, 2);
    at = find_addr(n, first, a);
    assert_int_equal(params2_of(n, (size_t)at, &fp, &g), 0);
    assert_int_equal(g.cnt, 2);
    assert_int_equal(g.mem[0].msid, a);
    assert_int_equal(g.mem[1].msid, a2);
    at = find_addr(n, first, b);
    assert_true(is_v1(n, (size_t)at));
    h_node_free(n);
}

static void
test_pmul_txjoint_other_priority_not_joined(void **state)
{
    (void)state;
    not_joined(5, two);
}

static void
test_pmul_txjoint_other_dests_not_joined(void **state)
{
    static const uint32_t other[] = { H_RX, H_RX3 };

    (void)state;
    not_joined(6, other);
}

/*
 * Until its destinations have decoded a joint round, two candidates are
 * enough (a trial): A and B go together at B's Ack, ahead of C's first
 * transmission, rather than wait for fec_joint_max.
 */
static void
test_pmul_txjoint_trial_two_at_once(void **state)
{
    h_node *n = joint_tx(true, 0);
    uint32_t a, b, c;
    size_t first;
    pmul_fec_params fp;
    pmul_fec_joint g;

    (void)state;
    two_waiting(n, &a, &b, &c, false);
    assert_false(pmul__tx_find(n->e, a)->jwait);
    assert_true(pmul__txj_active(pmul__tx_find(n->e, a)));
    assert_int_equal(pmul__tx_find(n->e, b)->phase, PMUL_TXP_JOINT);
    first = n->npkt;
    assert_int_equal(h_drain(n, 100), (1 + 2 + 1) + (1 + 3));
    assert_int_equal(params2_of(n, first, &fp, &g), 0);
    assert_int_equal(g.cnt, 2);
    assert_int_equal(h_pdu(n, first + 4).msid, c);
    h_node_free(n);
}

/*
 * After the trial round of two_waiting() (2 repairs), RX answers A and B
 * in one Ack_PDU with the same lists, as a receiver of 10.8 that could
 * not decode does: that round's repairs go to its stall count, which is
 * no finding yet (a decoder sent its need exactly fails whenever one
 * repair is lost).  Another answer of the same round counts no more.
 */
static void
test_pmul_txjoint_short_round_no_finding(void **state)
{
    h_node *n = joint_tx(true, 0);
    static const uint16_t ra[] = { 2 }, r1[] = { 1 };
    uint32_t a, b, c;
    const pmul_dststate *rx;

    (void)state;
    two_waiting(n, &a, &b, &c, false);
    h_drain(n, 100);
    assert_int_equal(n->e->st.fec_joint_rounds, 1);
    assert_int_equal(feed_ack2(n, 200, H_RX, a, ra, 1, b, r1, 1), 0);
    rx = pmul__dst_find(n->e, H_RX);
    assert_true(rx->jaware);
    assert_int_equal(rx->jstall, 2);
    assert_int_equal(rx->nojoint_left, 0);
    assert_int_equal(h_feed_ack(n, 210, H_RX, H_TX, b, r1, 1), 0);
    assert_int_equal(rx->jstall, 2);
    assert_int_equal(n->e->st.fec_nojoint_learned, 0);
    h_node_free(n);
}

/*
 * After the trial round of two_waiting(), RX answers A alone although it
 * still needs B: a receiver built before 10.8 (it read the carrier's
 * announcement as a plain one), learned at once, unless it answered a
 * joint round with member entries before (`aware`: a receiver of 10.8
 * that lost this round's first copy answers so too).  Its list of B
 * stands as an answer either way (not after B's timer and a probe).
 */
static void
member_unanswered(bool aware)
{
    h_node *n = joint_tx(true, 0);
    static const uint16_t ra[] = { 2 };
    uint32_t a, b, c;
    pmul_dststate *rx;
    pmul_txmsg *mb;

    two_waiting(n, &a, &b, &c, false);
    h_drain(n, 100);
    rx = pmul__dst_find(n->e, H_RX);
    rx->jaware = aware;
    mb = pmul__tx_find(n->e, b);
    assert_int_equal(mb->phase, PMUL_TXP_WAIT);
    assert_int_equal(h_feed_ack(n, 200, H_RX, H_TX, a, ra, 1), 0);
    assert_int_equal(n->e->st.fec_nojoint_learned, aware ? 0 : 1);
    assert_int_equal(rx->nojoint_span, aware ? 0 : 4);
    /* Unaware: its own round.  Aware: it waits for A's answers, so that
     * the set can go again. */
    assert_int_equal(mb->phase, aware ? PMUL_TXP_WAIT : PMUL_TXP_SEND);
    assert_int_equal(mb->jwait, aware);
    assert_false(pmul__txj_active(mb));
    h_node_free(n);
}

static void
test_pmul_txjoint_member_unanswered_learned(void **state)
{
    (void)state;
    member_unanswered(false);
}

static void
test_pmul_txjoint_member_unanswered_aware(void **state)
{
    (void)state;
    member_unanswered(true);
}

/*
 * The set goes again: after the joint round of two_waiting(), RX2
 * decodes (A complete) but RX answers A and B with the same lists.  Both
 * wait again, no message like them is being sent: the same set goes
 * again with fresh numbers (j from 2: 261) and only what RX most likely
 * still lacks (of its 2, the 2 sent arrived but for at least one: 1);
 * failing again, twice that (2: 262, 263).
 */
static void
test_pmul_txjoint_set_goes_again(void **state)
{
    h_node *n = joint_tx(true, 0);
    static const uint16_t ra[] = { 2 }, rb[] = { 1 };
    uint32_t a, b, c;
    size_t first;
    pmul_fec_params fp;
    pmul_fec_joint g;

    (void)state;
    two_waiting(n, &a, &b, &c, true);
    h_drain(n, 100);
    assert_int_equal(n->e->st.fec_joint_rounds, 1);
    assert_int_equal(feed_ack2(n, 200, H_RX, a, ra, 1, b, rb, 1), 0);
    assert_int_equal(h_feed_ack(n, 200, H_RX2, H_TX, a, NULL, 0), 0);
    first = n->npkt;
    /* One repair between the announcement and the closing copy. */
    assert_int_equal(h_drain(n, 200), 1 + 1 + 1);
    assert_int_equal(n->e->st.fec_joint_rounds, 2);
    assert_int_equal(params2_of(n, first, &fp, &g), 0);
    assert_int_equal(g.cnt, 2);
    assert_int_equal(g.mem[0].msid, a);
    assert_int_equal(g.mem[1].msid, b);
    assert_int_equal(g.repair_cnt, 3);          /* R: the set's so far */
    assert_int_equal(g.j0, 0);
    assert_int_equal(h_pdu(n, first).u.address.dest_cnt, 1);
    assert_int_equal(h_pdu(n, first + 1).u.data.seq, 261);

    assert_int_equal(feed_ack2(n, 300, H_RX, a, ra, 1, b, rb, 1), 0);
    first = n->npkt;
    assert_int_equal(h_drain(n, 300), 1 + 1 + 1 + 1);
    assert_int_equal(params2_of(n, first, &fp, &g), 0);
    assert_int_equal(g.repair_cnt, 5);
    assert_int_equal(h_pdu(n, first + 1).u.data.seq, 262);
    assert_int_equal(h_pdu(n, first + 2).u.data.seq, 263);
    h_node_free(n);
}

/*
 * One destination lost both: per message its rounds carry 1 + 1, a joint
 * round 2, nothing saved, and a joint block that fails is lost unless its
 * set goes again: A and B get their own rounds.
 */
static void
test_pmul_txjoint_no_gain_no_joint(void **state)
{
    h_node *n = joint_tx(true, 0);
    static const uint16_t ra[] = { 2 }, rb[] = { 1 };
    uint32_t a, b;

    (void)state;
    prove(n, two, 2);
    a = submit_salted(n, 0, LEN_A, two, 2, 6, 1);
    b = submit_salted(n, 0, LEN_B, two, 2, 6, 2);
    h_drain(n, 0);
    submit_salted(n, 50, LEN_C, two, 2, 6, 3);
    assert_int_equal(h_feed_ack(n, 100, H_RX, H_TX, a, ra, 1), 0);
    assert_int_equal(h_feed_ack(n, 100, H_RX2, H_TX, a, NULL, 0), 0);
    assert_int_equal(h_feed_ack(n, 100, H_RX, H_TX, b, rb, 1), 0);
    assert_int_equal(h_feed_ack(n, 100, H_RX2, H_TX, b, NULL, 0), 0);
    h_drain(n, 100);
    assert_int_equal(n->e->st.fec_joint_rounds, 0);
    assert_true(is_v1(n, (size_t)find_addr(n, 0 + 7, a)));
    assert_true(is_v1(n, (size_t)find_addr(n, 0 + 7, b)));
    h_node_free(n);
}

/*
 * A (17 PDUs) and B (8) to RX and RX2, C to both not sent yet: RX lost
 * all of A, RX2 all of B.  The trial round carries 17 joint repairs (25
 * per message); RX answers A with its whole list again: 17 repairs that
 * covered its need left it as it was (STALL_MIN 16), so it is no
 * candidate for its next 4 messages; RX2 answers B complete (it decoded),
 * which proves it.  A new message to both then gets its plain round at
 * its Acks although a message like it is being sent.
 */
static void
test_pmul_txjoint_learning(void **state)
{
    h_node *n = joint_tx(true, 0);
    static const uint16_t all[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17 };
    static const uint16_t r1[] = { 1 }, ra[] = { 2 };
    uint32_t a, b, d1;
    const pmul_dststate *rx, *rx2;
    pmul_fec_params fp;
    pmul_fec_joint g;
    size_t first;

    (void)state;
    a = submit_salted(n, 0, 17 * FRAG, two, 2, 6, 1);
    b = submit_salted(n, 0, 8 * FRAG, two, 2, 6, 2);
    h_drain(n, 0);
    submit_salted(n, 50, LEN_C, two, 2, 6, 3);         /* not drained yet */
    assert_int_equal(h_feed_ack(n, 100, H_RX, H_TX, a, all, 17), 0);
    assert_int_equal(h_feed_ack(n, 100, H_RX2, H_TX, a, NULL, 0), 0);
    assert_int_equal(h_feed_ack(n, 100, H_RX, H_TX, b, NULL, 0), 0);
    assert_int_equal(h_feed_ack(n, 100, H_RX2, H_TX, b, all, 8), 0);
    first = n->npkt;
    assert_int_equal(h_drain(n, 100), (1 + 17 + 1) + (1 + 3));
    assert_int_equal(params2_of(n, first, &fp, &g), 0);
    assert_int_equal(g.repair_cnt, 17);
    assert_int_equal(h_feed_ack(n, 200, H_RX, H_TX, a, all, 17), 0);
    assert_int_equal(h_feed_ack(n, 200, H_RX2, H_TX, b, NULL, 0), 0);
    rx = pmul__dst_find(n->e, H_RX);
    rx2 = pmul__dst_find(n->e, H_RX2);
    assert_int_equal(n->e->st.fec_nojoint_learned, 1);
    assert_int_equal(rx->nojoint_span, 4);
    /* A's round, kept from a joint one, is 1 of its 4 messages. */
    assert_int_equal(rx->nojoint_left, 3);
    assert_false(rx->jdec_ok);
    assert_true(rx2->jdec_ok);
    assert_int_equal(rx2->nojoint_left, 0);

    /* Not a candidate: its round starts at its Acks, and it is the second. */
    d1 = submit_salted(n, 300, LEN_A, two, 2, 6, 9);
    assert_int_equal(rx->nojoint_left, 3);
    h_drain(n, 300);
    submit_salted(n, 310, LEN_C, two, 2, 6, 10);
    assert_int_equal(h_feed_ack(n, 400, H_RX, H_TX, d1, ra, 1), 0);
    assert_int_equal(h_feed_ack(n, 400, H_RX2, H_TX, d1, r1, 1), 0);
    assert_false(pmul__tx_find(n->e, d1)->jwait);
    assert_int_equal(pmul__tx_find(n->e, d1)->phase, PMUL_TXP_SEND);
    assert_int_equal(rx->nojoint_left, 2);
    h_node_free(n);
}

/*
 * B finishes during A's joint round (a late complete Ack): its payload
 * stays with A's set, so the round's joint repairs go on (and the set may
 * go again); A then waits for its Acks.
 */
static void
test_pmul_txjoint_member_done_mid_round(void **state)
{
    h_node *n = joint_tx(true, 9600);
    static const uint16_t ra[] = { 2 }, r1[] = { 1 }, big[] = { 1, 2, 3 };
    uint32_t a, b;
    size_t first, i, reps = 0;
    long at;

    (void)state;
    prove(n, two, 2);
    a = submit_salted(n, 0, LEN_A, two, 2, 6, 1);
    b = submit_salted(n, 0, LEN_B, two, 2, 6, 2);
    h_run(n, 0, 6000);
    submit_salted(n, 6000, 2 * FRAG, two, 2, 6, 3);
    /* RX misses all of A, RX2 A's 2 and B's 1: 3 joint repairs. */
    assert_int_equal(h_feed_ack(n, 6100, H_RX, H_TX, a, big, 3), 0);
    assert_int_equal(h_feed_ack(n, 6100, H_RX2, H_TX, a, ra, 1), 0);
    assert_int_equal(h_feed_ack(n, 6100, H_RX, H_TX, b, NULL, 0), 0);
    assert_int_equal(h_feed_ack(n, 6100, H_RX2, H_TX, b, r1, 1), 0);
    first = n->npkt;
    /* C's 3 PDUs, then the joint round's announcement and first repair. */
    h_run(n, 6100, 8500);
    at = find_addr(n, first, a);
    assert_true(at > 0);
    assert_int_equal(n->e->st.fec_joint_rounds, 1);
    assert_true(n->e->st.fec_joint_repairs >= 1 && n->e->st.fec_joint_repairs < 3);
    assert_int_equal(pmul__tx_find(n->e, b)->phase, PMUL_TXP_JOINT);
    assert_int_equal(h_feed_ack(n, 8500, H_RX2, H_TX, b, NULL, 0), 0);
    assert_null(pmul__tx_find(n->e, b));
    /* B's payload stays with A's set: the round goes on. */
    assert_non_null(pmul__tx_find(n->e, a)->jt->own[1]);
    h_run(n, 8500, 20000);
    for (i = (size_t)at + 1; i < n->npkt; i++)
        if (h_pdu(n, i).type == PMUL_PDU_DATA && h_pdu(n, i).msid == a)
            reps++;
    assert_int_equal(reps, n->e->st.fec_joint_repairs);
    assert_int_equal(reps, 3);
    assert_int_equal(pmul__tx_find(n->e, a)->phase, PMUL_TXP_WAIT);
    assert_false(pmul__txj_active(pmul__tx_find(n->e, a)));
    h_node_free(n);
}

/* Member index of msid in joint set g, or -1. */
static int
member_of(const pmul_fec_joint *g, uint32_t msid)
{
    unsigned i;

    for (i = 0; i < g->cnt; i++)
        if (g->mem[i].msid == msid)
            return (int)i;
    return -1;
}

/*
 * The next joint round's announcement from packet `from` (the first
 * version 2 FEC_Address_PDU) into fp and g, checked to be carrier's (the
 * first member); its index.
 */
static size_t
joint_at(const h_node *n, size_t from, uint32_t carrier, pmul_fec_params *fp, pmul_fec_joint *g)
{
    size_t i;

    for (i = from; i < n->npkt; i++) {
        if (h_type(n, i) != PMUL_PDU_FEC_ADDRESS || params2_of(n, i, fp, g) != 0 || g->cnt == 0)
            continue;
        assert_int_equal(h_pdu(n, i).msid, carrier);
        assert_int_equal(g->mem[0].msid, carrier);
        return i;
    }
    fail_msg("no joint round from packet %zu", from);
    return 0;
}

/*
 * The Data_PDUs of msid from packet `from` on: exactly cnt, numbered
 * seq0, seq0 + 1, ... (joint repairs in order).
 */
static void
repairs_are(const h_node *n, size_t from, uint32_t msid, unsigned seq0, unsigned cnt)
{
    unsigned got = 0;
    size_t i;

    for (i = from; i < n->npkt; i++) {
        pmul_pdu p = h_pdu(n, i);

        if (p.type != PMUL_PDU_DATA || p.msid != msid)
            continue;
        assert_true(got < cnt);
        assert_int_equal(p.u.data.seq, seq0 + got);
        got++;
    }
    assert_int_equal(got, cnt);
}

#define LEN_D (4 * FRAG)        /* 4 PDUs */

/* Lists of missing PDUs. */
static const uint16_t lost1[] = { 1 }, lost12[] = { 1, 2 }, lost23[] = { 2, 3 };

/*
 * A (3 PDUs, oldest), B (2) and D (4) to RX and RX2 went; E, to the same,
 * is submitted but not sent yet.  RX lists A's 1, B's 1 and D's 1 and 2
 * (4 in all, 2 of them D's), RX2 A's 2 and 3 and acks B and D complete:
 * three candidates, proven, waiting for E's first transmission.  One
 * joint round of 4 repairs (5 per message) then follows it, carried by D.
 */
static void
three_waiting(h_node *n, uint32_t *a, uint32_t *b, uint32_t *d, uint32_t *e)
{
    prove(n, two, 2);
    *a = submit_salted(n, 0, LEN_A, two, 2, 6, 1);
    *b = submit_salted(n, 0, LEN_B, two, 2, 6, 2);
    *d = submit_salted(n, 0, LEN_D, two, 2, 6, 4);
    assert_int_equal(h_drain(n, 0), (1 + 3) + (1 + 2) + (1 + 4));
    *e = submit_salted(n, 50, LEN_C, two, 2, 6, 3);    /* not drained yet */
    assert_int_equal(h_feed_ack(n, 100, H_RX, H_TX, *a, lost1, 1), 0);
    assert_int_equal(h_feed_ack(n, 100, H_RX2, H_TX, *a, lost23, 2), 0);
    assert_int_equal(h_feed_ack(n, 100, H_RX, H_TX, *b, lost1, 1), 0);
    assert_int_equal(h_feed_ack(n, 100, H_RX2, H_TX, *b, NULL, 0), 0);
    assert_int_equal(h_feed_ack(n, 100, H_RX, H_TX, *d, lost12, 2), 0);
    assert_int_equal(h_feed_ack(n, 100, H_RX2, H_TX, *d, NULL, 0), 0);
    assert_true(pmul__tx_find(n->e, *a)->jwait);
    assert_true(pmul__tx_find(n->e, *b)->jwait);
    assert_true(pmul__tx_find(n->e, *d)->jwait);
}

/*
 * The carrier is the member the neediest destination needs most, not the
 * oldest: a carrier that finishes ends the round, and the oldest often
 * finished while the neediest still needed the rest of the round.  In
 * three_waiting()'s round D's version 2 FEC_Address_PDU lists A, B and D
 * (K 9), and the repairs are D's Data_PDUs from D's G = 4 + 255 + 1.
 * A then completes at both destinations after the first repair: the
 * round goes on (A's payload stays with the set), all 4 repairs and the
 * closing copy go.  With A as carrier, A's end ended the round there
 * (after 1 repair, before 3c61c45).
 */
static void
test_pmul_txjoint_carrier_most_needed(void **state)
{
    h_node *n = joint_tx(true, 0);
    uint32_t a, b, d, e;
    size_t first, at, last = 0, i;
    pmul_fec_params fp;
    pmul_fec_joint g;
    pmul_txmsg *md;

    (void)state;
    three_waiting(n, &a, &b, &d, &e);
    first = n->npkt;
    /* E's first transmission, then the announcement and the first repair. */
    assert_int_equal(h_drain_max(n, 100, (1 + 3) + 2), (1 + 3) + 2);
    assert_int_equal(h_pdu(n, first).msid, e);
    assert_int_equal(n->e->st.fec_joint_rounds, 1);
    at = joint_at(n, first, d, &fp, &g);
    assert_int_equal(at, first + 4);
    assert_int_equal(fp.blocks.total_pdus, 4);
    assert_int_equal(g.cnt, 3);
    assert_int_equal(g.k, 3 + 2 + 4);
    assert_int_equal(g.repair_cnt, 4);
    assert_true(member_of(&g, a) > 0);
    assert_true(member_of(&g, b) > 0);
    assert_int_equal(g.mem[member_of(&g, a)].total_pdus, 3);
    assert_int_equal(g.mem[member_of(&g, b)].total_pdus, 2);
    assert_int_equal(pmul_fec_joint_base(&fp.blocks), 4 + 255 + 1);
    assert_int_equal(h_pdu(n, at).u.address.dest_cnt, 2);
    assert_int_equal(pmul__tx_find(n->e, a)->phase, PMUL_TXP_JOINT);

    /* A completes everywhere mid-round (both decoded it some other way). */
    assert_int_equal(h_feed_ack(n, 100, H_RX, H_TX, a, NULL, 0), 0);
    assert_int_equal(h_feed_ack(n, 100, H_RX2, H_TX, a, NULL, 0), 0);
    assert_null(pmul__tx_find(n->e, a));
    md = pmul__tx_find(n->e, d);
    assert_true(pmul__txj_active(md));
    h_drain(n, 100);
    repairs_are(n, at + 1, d, pmul_fec_joint_base(&fp.blocks) + g.j0, 4);
    assert_int_equal(n->e->st.fec_joint_repairs, 4);
    /* The closing copy: the round's last PDU, D's set unchanged. */
    for (i = at + 1; i < n->npkt; i++)
        if (h_pdu(n, i).type == PMUL_PDU_FEC_ADDRESS && h_pdu(n, i).msid == d)
            last = i;
    assert_int_equal(last, n->npkt - 1);
    assert_int_equal(params2_of(n, last, &fp, &g), 0);
    assert_int_equal(g.mem[0].msid, d);
    assert_int_equal(g.cnt, 3);
    assert_false(pmul__txj_active(md));
    assert_int_equal(md->phase, PMUL_TXP_WAIT);
    h_node_free(n);
}

/*
 * The oldest waiting candidate is a member, not the carrier, of a set
 * that may go again: the set goes again, carried by its own carrier.
 * Before 3c61c45 only the oldest's own set could go again, so a set
 * carried by a younger member was taken apart (here: plain rounds, as
 * A, B and D anew save nothing), and RX's 4 repairs of it were lost.
 * After three_waiting()'s round RX2 decodes, RX answers A, B and D with
 * the same lists: D's set again, same members and j0, R 4 -> 5, the
 * repair numbered on from D's G + 4.
 */
static void
member_oldest_again(bool rx2_first)
{
    h_node *n = joint_tx(true, 0);
    uint32_t a, b, d, e, m[3];
    const uint16_t *const miss[3] = { lost1, lost1, lost12 };
    static const uint16_t mcnt[3] = { 1, 1, 2 };
    size_t first, at;
    pmul_fec_params fp;
    pmul_fec_joint g, g1;

    three_waiting(n, &a, &b, &d, &e);
    first = n->npkt;
    h_drain(n, 100);
    assert_int_equal(n->e->st.fec_joint_rounds, 1);
    (void)joint_at(n, first, d, &fp, &g1);
    m[0] = a;
    m[1] = b;
    m[2] = d;
    /* Either order of the answers: with RX's first, A still awaits RX2's
     * and the set cannot go again without it; B and D wait for it
     * (set_pending()) instead of going out alone, D's own round
     * dropping the set. */
    if (rx2_first)
        assert_int_equal(h_feed_ack(n, 200, H_RX2, H_TX, a, NULL, 0), 0);
    assert_int_equal(feed_ackn(n, 200, H_RX, 3, m, miss, mcnt), 0);
    if (!rx2_first) {
        h_drain(n, 200);
        assert_int_equal(n->e->st.fec_joint_rounds, 1);
        assert_int_equal(h_feed_ack(n, 210, H_RX2, H_TX, a, NULL, 0), 0);
    }
    first = n->npkt;
    h_drain(n, 210);
    assert_int_equal(n->e->st.fec_joint_rounds, 2);
    at = joint_at(n, first, d, &fp, &g);
    assert_int_equal(g.cnt, 3);
    assert_memory_equal(g.mem, g1.mem, sizeof(g.mem));
    assert_int_equal(g.j0, g1.j0);
    assert_int_equal(g.repair_cnt, 5);
    assert_int_equal(h_pdu(n, at).u.address.dest_cnt, 1);
    repairs_are(n, at + 1, d, pmul_fec_joint_base(&fp.blocks) + g1.j0 + 4, 1);
    h_node_free(n);
}

static void
test_pmul_txjoint_member_oldest_set_goes_again(void **state)
{
    (void)state;
    member_oldest_again(true);
    member_oldest_again(false);
}

/*
 * A set that failed at one destination goes again, and an older message
 * that becomes a candidate meanwhile does not take its members: a new
 * set would drop it, and the repairs the failing receiver holds of it
 * would be lost.  O, A and B to RX and RX2 go; A and B (two_waiting()'s
 * lists) go in a joint round carried by A while O's answers are not in.
 * RX then answers A and B with the same lists (its block failed), RX2
 * completes A, and O's answers come (RX2 lost O's 1) while F, to the
 * same, waits to be sent.  After F: O gets its plain round, and A's set
 * goes again (same members, same j0, R 2 -> 3, repair G + 2).  A new set
 * of O, A and B would have cost 2 repairs where O's own takes 1 and the
 * set's next 1, and left RX's 2 repairs of A's set unused.
 */
static void
test_pmul_txjoint_live_set_not_taken(void **state)
{
    h_node *n = joint_tx(true, 0);
    static const uint16_t ra[] = { 2 }, rb[] = { 1 };
    uint32_t o, a, b;
    size_t first, at;
    long ato;
    pmul_fec_params fp;
    pmul_fec_joint g, g1;

    (void)state;
    prove(n, two, 2);
    o = submit_salted(n, 0, LEN_A, two, 2, 6, 5);
    a = submit_salted(n, 0, LEN_A, two, 2, 6, 1);
    b = submit_salted(n, 0, LEN_B, two, 2, 6, 2);
    assert_int_equal(h_drain(n, 0), (1 + 3) + (1 + 3) + (1 + 2));
    submit_salted(n, 50, LEN_C, two, 2, 6, 3);         /* not drained yet */
    ab_lists(n, 100, a, b);
    first = n->npkt;
    h_drain(n, 100);
    assert_int_equal(n->e->st.fec_joint_rounds, 1);
    at = joint_at(n, first, a, &fp, &g1);
    assert_int_equal(g1.cnt, 2);
    assert_int_equal(g1.repair_cnt, 2);
    repairs_are(n, at + 1, a, pmul_fec_joint_base(&fp.blocks) + g1.j0, 2);

    submit_salted(n, 150, LEN_C, two, 2, 6, 6);        /* F, not drained yet */
    assert_int_equal(feed_ack2(n, 200, H_RX, a, ra, 1, b, rb, 1), 0);
    assert_int_equal(h_feed_ack(n, 200, H_RX2, H_TX, a, NULL, 0), 0);
    assert_int_equal(h_feed_ack(n, 200, H_RX, H_TX, o, NULL, 0), 0);
    assert_int_equal(h_feed_ack(n, 200, H_RX2, H_TX, o, lost1, 1), 0);
    assert_true(pmul__tx_find(n->e, o)->jwait);
    assert_true(pmul__tx_find(n->e, a)->jwait);
    assert_true(pmul__tx_find(n->e, b)->jwait);
    assert_int_equal(n->e->st.fec_joint_rounds, 1);
    first = n->npkt;
    h_drain(n, 200);
    assert_int_equal(n->e->st.fec_joint_rounds, 2);
    at = joint_at(n, first, a, &fp, &g);
    assert_int_equal(g.cnt, 2);
    assert_int_equal(g.mem[1].msid, b);
    assert_int_equal(g.k, g1.k);
    assert_int_equal(g.j0, g1.j0);
    assert_int_equal(g.repair_cnt, 3);
    assert_int_equal(member_of(&g, o), -1);
    repairs_are(n, at + 1, a, pmul_fec_joint_base(&fp.blocks) + g1.j0 + 2, 1);
    /* O went alone, per message. */
    ato = find_addr(n, first, o);
    assert_true(ato >= (long)first);
    assert_true(is_v1(n, (size_t)ato));
    h_node_free(n);
}

/*
 * 64 destinations in 300-octet PDUs: the version 2 parameters take 26
 * octets, so the FEC_Address_PDUs are MAP-split into more parts than with
 * version 1, and every datagram still fits pdu_max_len.
 */
static void
test_pmul_txjoint_map_split_fits(void **state)
{
    pmul_config cfg;
    h_node *n;
    uint32_t dests[64], a, b;
    static const uint16_t r1[] = { 1 };
    size_t i, first, parts = 0;

    (void)state;
    h_config(&cfg, H_TX);
    cfg.link_rate_bps = 0;
    cfg.fec = true;
    cfg.fec_ratio_pct = 0;
    cfg.fec_adaptive = false;
    cfg.pdu_max_len = 300;
    n = h_node_new_cfg(&cfg);
    for (i = 0; i < 64; i++)
        dests[i] = IP(10, 0, 1, (unsigned)i + 1);
    a = submit_salted(n, 0, 500, dests, 64, 6, 1);
    b = submit_salted(n, 0, 400, dests, 64, 6, 2);
    h_drain(n, 0);
    submit_salted(n, 50, 500, dests, 64, 6, 3);
    /* Even destinations lost A's 1, odd ones B's 1: one joint repair. */
    for (i = 0; i < 64; i++) {
        assert_int_equal(h_feed_ack(n, 100, dests[i], H_TX, a, i % 2 ? NULL : r1, i % 2 ? 0u : 1u),
                         0);
        assert_int_equal(h_feed_ack(n, 100, dests[i], H_TX, b, i % 2 ? r1 : NULL, i % 2 ? 1u : 0u),
                         0);
    }
    first = n->npkt;
    h_drain(n, 100);
    assert_int_equal(n->e->st.fec_joint_rounds, 1);
    for (i = first; i < n->npkt; i++) {
        pmul_pdu p = h_pdu(n, i);

        assert_true(n->pkt[i].len <= 300);
        if (p.type == PMUL_PDU_FEC_ADDRESS && p.msid == a && p.u.address.fec_param_len > 8)
            parts++;
    }
    /* 33 destinations fit a version 1 part, 30 a version 2 one of two
     * members: 3 parts, not 2, for each of the two copies (the
     * announcement and the closing copy). */
    assert_int_equal(n->e->fec_dests_cap, 33);
    assert_int_equal(pmul__tx_find(n->e, a)->jt->dests_cap, 30);
    assert_int_equal(parts, 2 * 3);
    h_node_free(n);
}

/*
 * On a shared channel (cfg.shared_medium) no joint rounds: every answer to
 * a round's copies takes the transmitter's air there, and measured joint
 * rounds cost more than they saved (docs/benchmarks.md).  A and B of
 * two_waiting() get their own rounds at their Acks.
 */
static void
test_pmul_txjoint_not_on_shared_medium(void **state)
{
    pmul_config cfg;
    h_node *n;
    uint32_t a, b, c;
    uint64_t t;

    (void)state;
    h_config(&cfg, H_TX);
    cfg.fec = true;
    cfg.fec_ratio_pct = 0;
    cfg.fec_adaptive = false;
    cfg.fec_joint = true;
    cfg.fec_joint_wait_ms = WAIT_MS;
    cfg.shared_medium = true;
    n = h_node_new_cfg(&cfg);
    prove(n, two, 2);
    a = submit_salted(n, 0, LEN_A, two, 2, 6, 1);
    b = submit_salted(n, 0, LEN_B, two, 2, 6, 2);
    /* Paced by what it hears too: drained over time. */
    for (t = 0; t <= 20000; t += 500)
        h_drain(n, t);
    c = submit_salted(n, 20000, LEN_C, two, 2, 6, 3);
    assert_true(c != 0);
    ab_lists(n, 20100, a, b);
    for (t = 20100; t <= 60000; t += 500)
        h_drain(n, t);
    assert_false(pmul__tx_find(n->e, b) != NULL && pmul__tx_find(n->e, b)->jwait);
    assert_int_equal(n->e->st.fec_joint_rounds, 0);
    assert_true(n->e->st.fec_repair_pdus > 0);      /* their own rounds went */
    h_node_free(n);
}

/*
 * A destination that answered a closing copy for its members (jaware, a
 * receiver of 10.8) counts as proven like one that decoded a round: with
 * both so, A and B wait for C's first transmission (fec_joint_max), no
 * trial of two.  On the real daemon only one of four nodes had decoded a
 * round after 7 trials of 30 mails: one that needed nothing of a round
 * cannot show a list that shrank.
 */
static void
test_pmul_txjoint_aware_counts_as_proven(void **state)
{
    h_node *n = joint_tx(true, 0);
    pmul_dststate *ds;
    uint32_t a, b, c;
    size_t i;

    (void)state;
    for (i = 0; i < 2; i++) {
        assert_int_equal(pmul__dst_get(n->e, two[i], &ds), 0);
        ds->jaware = true;
    }
    two_waiting(n, &a, &b, &c, false);
    assert_true(pmul__tx_find(n->e, a)->jwait);
    assert_true(pmul__tx_find(n->e, b)->jwait);
    assert_int_equal(n->e->st.fec_joint_rounds, 0);
    h_node_free(n);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pmul_txjoint_two_waiting_one_round),
        cmocka_unit_test(test_pmul_txjoint_off_is_per_message),
        cmocka_unit_test(test_pmul_txjoint_lone_gets_plain_round),
        cmocka_unit_test(test_pmul_txjoint_trial_two_at_once),
        cmocka_unit_test(test_pmul_txjoint_wait_bound_flushes),
        cmocka_unit_test(test_pmul_txjoint_other_priority_not_joined),
        cmocka_unit_test(test_pmul_txjoint_other_dests_not_joined),
        cmocka_unit_test(test_pmul_txjoint_short_round_no_finding),
        cmocka_unit_test(test_pmul_txjoint_member_unanswered_learned),
        cmocka_unit_test(test_pmul_txjoint_member_unanswered_aware),
        cmocka_unit_test(test_pmul_txjoint_set_goes_again),
        cmocka_unit_test(test_pmul_txjoint_no_gain_no_joint),
        cmocka_unit_test(test_pmul_txjoint_learning),
        cmocka_unit_test(test_pmul_txjoint_member_done_mid_round),
        cmocka_unit_test(test_pmul_txjoint_carrier_most_needed),
        cmocka_unit_test(test_pmul_txjoint_member_oldest_set_goes_again),
        cmocka_unit_test(test_pmul_txjoint_live_set_not_taken),
        cmocka_unit_test(test_pmul_txjoint_map_split_fits),
        cmocka_unit_test(test_pmul_txjoint_not_on_shared_medium),
        cmocka_unit_test(test_pmul_txjoint_aware_counts_as_proven),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
