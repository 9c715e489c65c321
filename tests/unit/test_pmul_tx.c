/*
 * NAME
 *	test_pmul_tx - scripted tests of the P_MUL transmitter
 * SYNOPSIS
 *	meson test -C BUILD --no-rebuild -v pmul_tx
 * DESCRIPTION
 *	Drives one engine as a transmitter with integer timestamps: messages
 *	are submitted, Acks built with the codec are fed back, and every PDU
 *	the engine emits is decoded with the codec and checked, with the
 *	time it left (pacing) and the events.  Covered (docs/wire.md 7.2 and
 *	docs/decisions.md decisions): fragmentation sizes, MAP split of 300
 *	destinations, sorted destinations, per-destination
 *	Message_Sequence_Number, pacing at 9600 bit/s, the adaptive and the
 *	fixed retransmission timer with BACK-OFF_FACTOR, whole versus
 *	selective resend, the updated Address_PDU, immediate retransmission
 *	once everyone answered, Ack-Ack (and again for a late Ack), expiry
 *	and cancel (Discard + DEST_FAILED for exactly the incomplete
 *	destinations), EMCON repetition count and interval and the switch to
 *	normal on an Ack, priority pre-emption, the Java Ack deviation, the
 *	Ack timestamp option feeding the estimator, submit validation.
 * SECURITY
 *	Test code.
 * DIAGNOSTICS
 *	cmocka.
 * SEE ALSO
 *	test_pmul_engine.h, pmul/pmul_tx.c
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "test_pmul_engine.h"

/* A transmitter without pacing: a whole round leaves at once. */
static h_node *
unpaced_tx(void)
{
    pmul_config c;

    h_config(&c, H_TX);
    c.link_rate_bps = 0;
    return h_node_new_cfg(&c);
}

/* Every datagram of one round of a message to one destination, with
 * times: Address at 0, then Data paced at 9600 bit/s. */
/* A restarted transmitter resumes a message in flight: same MSID, same
 * Message_Sequence_Number to the destination still pending, the
 * counters restored, and fresh messages continue after them. */
static void
test_pmul_tx_resume_after_restart_keeps_msid_and_msns(void **state)
{
    h_node *a = h_node_new(H_TX), *b;
    uint32_t dests[2] = { H_RX, H_RX2 }, pending = H_RX2, msid, msn_rx2, next_msid;
    uint32_t fresh;
    uint8_t payload[100];
    pmul_msg m;
    pmul_pdu p;
    pmul_config c;

    (void)state;
    h_submit(a, 0, 100, dests, 2, 6);               /* MSNs 1, 1 */
    msid = h_submit(a, 0, 100, dests, 2, 6);        /* MSNs 2, 2 */
    h_drain(a, 0);
    msn_rx2 = 2;
    next_msid = pmul_engine_next_msid(a->e);
    assert_int_equal(next_msid, msid + 1);
    assert_int_equal(pmul_engine_next_msn(a->e, H_RX2), 3);
    assert_int_equal(pmul_engine_next_msn(a->e, IP(10, 9, 9, 9)), 1);

    /* Restart: what the application persisted comes back. */
    h_config(&c, H_TX);
    c.first_msid = next_msid;
    b = h_node_new_cfg(&c);
    assert_int_equal(pmul_engine_set_next_msn(b->e, H_RX, 3), 0);
    assert_int_equal(pmul_engine_set_next_msn(b->e, H_RX2, 3), 0);
    memset(payload, 0x5a, sizeof(payload));
    memset(&m, 0, sizeof(m));
    m.payload = payload;
    m.payload_len = sizeof(payload);
    m.dests = &pending;                 /* H_RX had acked it */
    m.dest_cnt = 1;
    m.priority = 6;
    m.msid = msid;
    m.dest_msns = &msn_rx2;
    assert_int_equal(pmul_engine_submit(b->e, h_now(0), &m, &fresh), 0);
    assert_int_equal(fresh, msid);
    /* The same MSID again while in flight: refused. */
    assert_int_equal(pmul_engine_submit(b->e, h_now(0), &m, &fresh), PMUL_ERR_INVAL);
    h_drain(b, 0);
    p = h_pdu(b, 0);
    assert_int_equal(p.type, PMUL_PDU_ADDRESS);
    assert_int_equal(p.msid, msid);
    assert_int_equal(p.u.address.dest_cnt, 1);
    assert_int_equal(p.u.address.dests[0].dest_id, H_RX2);
    assert_int_equal(p.u.address.dests[0].msg_seq_no, 2);
    /* A new message gets the next MSID and MSN 3 to both. */
    fresh = h_submit(b, 10, 100, dests, 2, 6);
    assert_int_equal(fresh, next_msid);
    h_run(b, 10, 20000);
    for (size_t i = 0; i < b->npkt; i++) {
        p = h_pdu(b, i);
        if (p.type == PMUL_PDU_ADDRESS && p.msid == fresh && p.u.address.dest_cnt == 2) {
            assert_int_equal(p.u.address.dests[0].msg_seq_no, 3);
            assert_int_equal(p.u.address.dests[1].msg_seq_no, 3);
        }
    }
    h_node_free(a);
    h_node_free(b);
}

static void
test_pmul_tx_fragmentation_and_pacing(void **state)
{
    h_node *n = h_node_new(H_TX);
    uint32_t dest = H_RX, msid;
    pmul_pdu p;
    size_t i, off;
    /* Address (32 octets) 60*8/9600 s = 50 ms; full Data_PDU 1052*8/9600 s
     * = 876.667 ms, carried exactly (no drift from rounding). */
    static const uint64_t want_t[] = { 0, 50, 927, 1804 };
    static const size_t want_len[] = { 1008, 1008, 484 };

    (void)state;
    msid = h_submit(n, 0, 2500, &dest, 1, 6);
    assert_int_equal(h_drain(n, 0), 1);
    assert_int_equal(pmul_engine_next_deadline(n->e), 50);
    assert_int_equal(h_drain(n, 49), 0);            /* pacing holds it */
    h_run(n, 50, 1804);
    assert_int_equal(n->npkt, 4);
    for (i = 0; i < 4; i++)
        assert_int_equal(n->pkt[i].t, want_t[i]);

    p = h_pdu(n, 0);
    assert_int_equal(p.type, PMUL_PDU_ADDRESS);
    assert_int_equal(p.map, 0);
    assert_int_equal(p.priority, 6);
    assert_int_equal(p.source_id, H_TX);
    assert_int_equal(p.msid, msid);
    assert_int_equal(p.u.address.total_pdus, 3);
    assert_int_equal(p.u.address.expiry_time, H_WALL0 + 86400);
    assert_int_equal(p.u.address.dest_cnt, 1);
    assert_int_equal(p.u.address.dests[0].dest_id, H_RX);
    assert_int_equal(p.u.address.dests[0].msg_seq_no, 1);
    assert_int_equal(n->pkt[0].to.ip, n->cfg.default_group);
    assert_int_equal(n->pkt[0].to.port, 2753);
    assert_true(n->pkt[0].to.is_multicast);
    for (i = 0, off = 0; i < 3; i++) {
        size_t k;

        p = h_pdu(n, i + 1);
        assert_int_equal(p.type, PMUL_PDU_DATA);
        assert_int_equal(p.u.data.seq, i + 1);
        assert_int_equal(p.u.data.frag_len, want_len[i]);
        for (k = 0; k < p.u.data.frag_len; k++, off++)
            assert_int_equal(p.u.data.frag[k], (uint8_t)(off * 13u + 7u));
        assert_int_equal(n->pkt[i + 1].to.port, 2753);
    }
    h_node_free(n);
}

static void
test_pmul_tx_fragment_size_follows_pdu_max(void **state)
{
    pmul_config c;
    h_node *n;
    uint32_t dest = H_RX;
    pmul_pdu p;

    (void)state;
    h_config(&c, H_TX);
    c.pdu_max_len = 100;                    /* 84 octets of data per PDU */
    c.link_rate_bps = 0;                    /* unpaced: all at once */
    n = h_node_new_cfg(&c);
    h_submit(n, 0, 200, &dest, 1, 6);
    assert_int_equal(h_drain(n, 0), 4);
    p = h_pdu(n, 0);
    assert_int_equal(p.u.address.total_pdus, 3);
    assert_int_equal(h_pdu(n, 1).u.data.frag_len, 84);
    assert_int_equal(h_pdu(n, 2).u.data.frag_len, 84);
    assert_int_equal(h_pdu(n, 3).u.data.frag_len, 32);
    for (size_t i = 0; i < 4; i++)
        assert_true(n->pkt[i].len <= 100);
    h_node_free(n);
}

/* 300 destinations, given in descending order: three Address_PDUs of
 * 125, 125 and 50 entries chained with MAP, sorted ascending overall. */
static void
test_pmul_tx_address_map_split_300_sorted(void **state)
{
    h_node *n;
    uint32_t dests[300], prev = 0, k = 0;
    static const uint8_t want_map[] = { PMUL_MAP_NOT_LAST,
                                        PMUL_MAP_NOT_FIRST | PMUL_MAP_NOT_LAST,
                                        PMUL_MAP_NOT_FIRST };
    static const uint16_t want_cnt[] = { 125, 125, 50 };
    size_t i, j;
    pmul_pdu p;

    (void)state;
    for (i = 0; i < 300; i++)
        dests[i] = IP(10, 1, 0, 0) + (uint32_t)(300 - i) * 7u;
    n = unpaced_tx();
    h_submit(n, 0, 10, dests, 300, 6);
    assert_int_equal(h_drain(n, 0), 4);
    for (i = 0; i < 3; i++) {
        p = h_pdu(n, i);
        assert_int_equal(p.type, PMUL_PDU_ADDRESS);
        assert_int_equal(p.map, want_map[i]);
        assert_int_equal(p.u.address.dest_cnt, want_cnt[i]);
        assert_int_equal(p.length, 24 + 8 * want_cnt[i]);
        for (j = 0; j < p.u.address.dest_cnt; j++, k++) {
            assert_true(p.u.address.dests[j].dest_id > prev);
            prev = p.u.address.dests[j].dest_id;
            assert_int_equal(p.u.address.dests[j].msg_seq_no, 1);
        }
    }
    assert_int_equal(k, 300);
    assert_int_equal(h_type(n, 3), PMUL_PDU_DATA);
    h_node_free(n);
}

static uint32_t
msn_of(const pmul_pdu *p, uint32_t dest)
{
    for (uint16_t i = 0; i < p->u.address.dest_cnt; i++)
        if (p->u.address.dests[i].dest_id == dest)
            return p->u.address.dests[i].msg_seq_no;
    fail_msg("dest %08x not listed", (unsigned)dest);
    return 0;
}

/* Message_Sequence_Number counts per destination, without gaps. */
static void
test_pmul_tx_msn_per_destination(void **state)
{
    h_node *n;
    uint32_t ab[] = { H_RX, H_RX2 }, bc[] = { H_RX2, H_RX3 }, ac[] = { H_RX3, H_RX };
    pmul_pdu p;

    (void)state;
    n = unpaced_tx();
    h_submit(n, 0, 10, ab, 2, 6);
    h_submit(n, 0, 10, bc, 2, 6);
    h_submit(n, 0, 10, ac, 2, 6);
    assert_int_equal(h_drain(n, 0), 6);
    p = h_pdu(n, 0);
    assert_int_equal(msn_of(&p, H_RX), 1);
    assert_int_equal(msn_of(&p, H_RX2), 1);
    p = h_pdu(n, 2);
    assert_int_equal(msn_of(&p, H_RX2), 2);
    assert_int_equal(msn_of(&p, H_RX3), 1);
    p = h_pdu(n, 4);
    assert_int_equal(msn_of(&p, H_RX), 2);
    assert_int_equal(msn_of(&p, H_RX3), 2);
    /* Sorted even though submitted as {RX3, RX}. */
    assert_int_equal(p.u.address.dests[0].dest_id, H_RX);
    h_node_free(n);
}

/*
 * Nobody answers: the whole message again when the timer fires.  The
 * timer after the first round (ends at 1804) is, with no measurement yet:
 * 2 PDU airtimes + 300 (2054) + the receivers' spreading bound for one
 * receiver, 2 Ack airtimes (154) + ack_batch 200 + one Ack of 64 octets
 * (77) + the receivers' tail wait of half a PDU airtime (439) = 2924 ms
 * (it was 2 airtimes, 1754, and 4239 ms before the tail was shortened);
 * then times BACK-OFF_FACTOR 1.25 per timer round (integer steps).
 *
 * A receiver that never answered has most likely lost the Address_PDU:
 * the timer rounds probe with the Address_PDU alone (its timer's tail
 * term is the receivers' probe wait, 1.5 PDU airtimes: (2485 + 1315)
 * * 1.25 = 4750), PROBE_MAX (3) times, each timer longer by the back-off;
 * only then is the message resent whole.
 */
static void
test_pmul_tx_probe_then_whole_and_backoff(void **state)
{
    static const uint32_t probe_rto[] = { 4750, 5937, 7421 };
    h_node *n = h_node_new(H_TX);
    uint32_t dest = H_RX;
    pmul_stats st;
    size_t first, i;
    uint64_t t;

    (void)state;
    h_submit(n, 0, 2500, &dest, 1, 6);
    h_run(n, 0, 1804);
    assert_int_equal(n->npkt, 4);
    assert_int_equal(pmul_engine_next_deadline(n->e), 1804 + 2924);
    pmul_engine_stats(n->e, &st);
    assert_int_equal(st.rto_ms, 2924);
    assert_int_equal(st.retx_data_pdus, 0);

    /* The probes: one Address_PDU each; a round ends when the pacer lets
     * the next PDU go (its 50 ms of airtime later). */
    t = 1804 + 2924;
    for (i = 0; i < 3; i++) {
        first = n->npkt;
        h_run(n, t - 1, t + 50);
        assert_int_equal(n->npkt - first, 1);
        assert_int_equal(n->pkt[first].t, t);
        assert_int_equal(h_type(n, first), PMUL_PDU_ADDRESS);
        assert_int_equal(h_pdu(n, first).u.address.dest_cnt, 1);
        pmul_engine_stats(n->e, &st);
        assert_int_equal(st.rto_ms, probe_rto[i]);
        assert_int_equal(st.retx_data_pdus, 0);
        assert_int_equal(pmul_engine_next_deadline(n->e), t + 50 + probe_rto[i]);
        t += 50 + probe_rto[i];
    }

    /* Still silent: the whole message, then 2924 * 1.25^4. */
    first = n->npkt;
    h_run(n, t - 1, t + 1804);
    assert_int_equal(n->npkt - first, 4);
    assert_int_equal(n->pkt[first].t, t);
    assert_int_equal(h_type(n, first), PMUL_PDU_ADDRESS);
    assert_int_equal(h_count(n, first, PMUL_PDU_DATA), 3);
    pmul_engine_stats(n->e, &st);
    assert_int_equal(st.retx_rounds, 4);
    assert_int_equal(st.retx_data_pdus, 3);
    assert_int_equal(st.rto_ms, 7137);              /* 2924 -> 3655 -> 4568 -> 5710 -> 7137 */
    assert_int_equal(pmul_engine_next_deadline(n->e), n->pkt[n->npkt - 1].t + 7137);
    h_node_free(n);
}

/* The probe was the right guess: the receiver had the data, answers the
 * Address_PDU at once, and nothing is resent. */
static void
test_pmul_tx_probe_answered_saves_the_resend(void **state)
{
    h_node *n;
    uint32_t dest = H_RX, msid;
    pmul_stats st;
    size_t first;

    (void)state;
    n = unpaced_tx();
    msid = h_submit(n, 0, 5 * 1008, &dest, 1, 6);
    h_run(n, 0, 0);
    first = n->npkt;
    h_run(n, 1, pmul_engine_next_deadline(n->e));
    assert_int_equal(n->npkt - first, 1);           /* the probe */
    h_feed_ack(n, n->pkt[first].t + 300, H_RX, H_TX, msid, NULL, 0);
    h_drain(n, n->pkt[first].t + 300);
    assert_int_equal(h_count_ev(n, PMUL_EV_MSG_DONE), 1);
    pmul_engine_stats(n->e, &st);
    assert_int_equal(st.retx_data_pdus, 0);
    h_node_free(n);
}

/*
 * A probe draws an Ack from every destination it lists: it is sent only
 * when those Acks (92 octets each on the air, an Ack of MM = 20 missing
 * numbers plus IP/UDP) take less air than the resend it may save.  A
 * 3-PDU message nobody answered: 30 destinations' Acks (2760 octets) are
 * cheaper than the 3 Data_PDUs (3156), so the timer round probes; 40
 * (3680) are dearer, so it resends the whole message, as a probe answered
 * by 100 receivers on one shared 9.6 kbit/s channel took 100 mails from
 * 53x to 56x the limit (netsim-bench shared).
 */
static void
test_pmul_tx_probe_dearer_than_resend_many_dests(void **state)
{
    static const struct {
        uint32_t dests;
        size_t want_data;               /* Data_PDUs of the timer round */
    } cases[] = { { 1, 0 }, { 30, 0 }, { 40, 3 } };
    uint32_t dests[40];
    size_t c, i, first;
    h_node *n;

    (void)state;
    for (i = 0; i < 40; i++)
        dests[i] = IP(10, 0, 1, (unsigned)i + 1);
    for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        n = unpaced_tx();
        h_submit(n, 0, 3 * 1008, dests, cases[c].dests, 6);
        h_drain(n, 0);
        first = n->npkt;
        h_run(n, 1, pmul_engine_next_deadline(n->e));
        if (h_type(n, first) != PMUL_PDU_ADDRESS ||
            h_count(n, first, PMUL_PDU_DATA) != cases[c].want_data)
            fail_msg("%u dests: got %s then %zu Data_PDUs, want the Address_PDU then %zu",
                     (unsigned)cases[c].dests,
                     h_type(n, first) == PMUL_PDU_ADDRESS ? "Address_PDU" : "other",
                     h_count(n, first, PMUL_PDU_DATA), cases[c].want_data);
        h_node_free(n);
    }
}

/*
 * The first round's timer is armed on the guessed round trip (no sample
 * yet).  The first Ack brings a sample: the timer of the receivers still
 * silent is armed again from it, and the probe leaves then (netsim,
 * rm-bench's 10 kB mail to 2 receivers: a lost round-1 Ack waited the
 * guessed 3.15 s while the other answer had come 0.1 s after the round).
 */
static void
test_pmul_tx_first_rtt_sample_rearms_guessed_timer(void **state)
{
    uint32_t dests[] = { H_RX, H_RX2 }, msid;
    uint64_t guessed, end, rearmed;
    h_node *n = h_node_new(H_TX);
    size_t first;

    (void)state;
    msid = h_submit(n, 0, 2500, dests, 2, 6);
    h_run(n, 0, 2000);                  /* Address, 3 Data, the repeat */
    end = n->pkt[n->npkt - 1].t;
    guessed = pmul_engine_next_deadline(n->e);
    h_feed_ack(n, end + 100, H_RX, H_TX, msid, NULL, 0);
    h_drain(n, end + 100);
    rearmed = pmul_engine_next_deadline(n->e);
    if (rearmed >= guessed)
        fail_msg("timer after the first sample: got %llu, want before the guess %llu",
                 (unsigned long long)rearmed, (unsigned long long)guessed);
    assert_true(rearmed > end + 100);
    first = n->npkt;
    h_run(n, end + 101, rearmed);
    assert_int_equal(n->npkt - first, 1);   /* the probe for H_RX2 */
    assert_int_equal(n->pkt[first].t, rearmed);
    assert_int_equal(h_type(n, first), PMUL_PDU_ADDRESS);
    assert_int_equal(h_pdu(n, first).u.address.dest_cnt, 1);
    h_node_free(n);
}

/* ACP mode: the configured timer, multiplied by BACK-OFF_FACTOR. */
static void
test_pmul_tx_fixed_timer_backoff(void **state)
{
    pmul_config c;
    h_node *n;
    uint32_t dest = H_RX;
    size_t i, rounds = 0;
    uint64_t starts[4], ends[4];

    (void)state;
    h_config(&c, H_TX);
    c.link_rate_bps = 0;
    c.ack_rtx_fixed = true;
    c.ack_rtx_min_ms = 5000;
    c.backoff_factor_pct = 200;
    n = h_node_new_cfg(&c);
    h_submit(n, 0, 100, &dest, 1, 6);
    h_run(n, 0, 5000 + 10000 + 20000);
    for (i = 0; i < n->npkt; i++)
        if (h_type(n, i) == PMUL_PDU_ADDRESS) {
            starts[rounds] = n->pkt[i].t;
            ends[rounds] = n->pkt[i + 1].t;
            rounds++;
        }
    assert_int_equal(rounds, 4);
    assert_int_equal(starts[1], ends[0] + 5000);
    assert_int_equal(starts[2], ends[1] + 10000);
    assert_int_equal(starts[3], ends[2] + 20000);
    h_node_free(n);
}

/* A and B both answer with missing lists: the next round starts at once
 * and carries only the union of what they miss. */
static void
test_pmul_tx_selective_resend_after_all_answered(void **state)
{
    h_node *n;
    uint32_t dests[] = { H_RX, H_RX2 }, msid;
    static const uint16_t miss_a[] = { 2, 4 }, miss_b[] = { 4 };
    size_t first;
    pmul_pdu p;

    (void)state;
    n = unpaced_tx();
    msid = h_submit(n, 0, 5 * 1008, dests, 2, 6);
    assert_int_equal(h_drain(n, 0), 6);
    assert_int_equal(h_feed_ack(n, 100, H_RX, H_TX, msid, miss_a, 2), 0);
    assert_int_equal(h_drain(n, 100), 0);           /* B has not answered */
    assert_int_equal(h_feed_ack(n, 200, H_RX2, H_TX, msid, miss_b, 1), 0);
    first = n->npkt;
    assert_int_equal(h_drain(n, 200), 3);
    p = h_pdu(n, first);
    assert_int_equal(p.type, PMUL_PDU_ADDRESS);
    assert_int_equal(p.u.address.dest_cnt, 2);
    assert_int_equal(h_pdu(n, first + 1).u.data.seq, 2);
    assert_int_equal(h_pdu(n, first + 2).u.data.seq, 4);

    /* Both complete: DEST_ACKED twice, MSG_DONE, then one Ack-Ack. */
    assert_int_equal(h_feed_ack(n, 300, H_RX, H_TX, msid, NULL, 0), 0);
    assert_int_equal(h_feed_ack(n, 310, H_RX2, H_TX, msid, NULL, 0), 0);
    first = n->npkt;
    assert_int_equal(h_drain(n, 310), 1);
    p = h_pdu(n, first);
    assert_int_equal(p.type, PMUL_PDU_ADDRESS);
    assert_int_equal(p.u.address.dest_cnt, 0);
    assert_int_equal(p.msid, msid);
    assert_int_equal(h_count_ev(n, PMUL_EV_DEST_ACKED), 2);
    assert_int_equal(h_count_ev(n, PMUL_EV_MSG_DONE), 1);
    assert_int_equal(h_find_ev(n, PMUL_EV_MSG_DONE, 0)->ev.acked_cnt, 2);
    assert_int_equal(h_find_ev(n, PMUL_EV_MSG_DONE, 0)->ev.failed_cnt, 0);
    assert_true(pmul_engine_is_idle(n->e));
    h_node_free(n);
}

/*
 * A round is planned when its answers are in, but its Address_PDU leaves
 * only when the link (pacer, more urgent messages) lets it: a destination
 * whose complete Ack arrives meanwhile is no longer listed (7.2 step 5:
 * only the not-yet-complete destinations), or it would answer the listing
 * with its complete Ack again (each an Ack of air on a shared channel).
 */
static void
test_pmul_tx_round_address_drops_acked_before_it_leaves(void **state)
{
    h_node *n;
    uint32_t dests[] = { H_RX, H_RX2, H_RX3 }, msid;
    static const uint16_t miss[] = { 2 };
    size_t first;
    pmul_pdu p;

    (void)state;
    n = unpaced_tx();
    msid = h_submit(n, 0, 3 * 1008, dests, 3, 6);
    assert_int_equal(h_drain(n, 0), 4);
    assert_int_equal(h_feed_ack(n, 10, H_RX, H_TX, msid, miss, 1), 0);
    assert_int_equal(h_feed_ack(n, 20, H_RX2, H_TX, msid, miss, 1), 0);
    /* All answered: the next round is planned now, nothing sent yet. */
    assert_int_equal(h_feed_ack(n, 30, H_RX3, H_TX, msid, miss, 1), 0);
    assert_int_equal(h_feed_ack(n, 30, H_RX2, H_TX, msid, NULL, 0), 0);
    first = n->npkt;
    assert_int_equal(h_drain(n, 30), 2);
    p = h_pdu(n, first);
    assert_int_equal(p.type, PMUL_PDU_ADDRESS);
    assert_int_equal(p.map, 0);
    assert_int_equal(p.u.address.dest_cnt, 2);
    assert_int_equal(p.u.address.dests[0].dest_id, H_RX);
    assert_int_equal(p.u.address.dests[1].dest_id, H_RX3);
    assert_int_equal(h_pdu(n, first + 1).u.data.seq, 2);
    h_node_free(n);
}

/*
 * The same for a MAP-split list: each part lists the destinations still
 * incomplete when it leaves, and when every one of the parts still to go
 * has acked, the copy ends with the part before it (its NOT_LAST flag
 * only keeps receivers beyond it from concluding anything) and the data
 * follows; no empty part goes.
 */
static void
test_pmul_tx_map_split_address_drops_acked_parts(void **state)
{
    h_node *n;
    uint32_t dests[130], msid;
    static const uint16_t miss[] = { 1 };
    uint8_t buf[PMUL_PDU_MAX_LEN];
    pmul_addr to;
    ssize_t len;
    size_t i, first;
    pmul_pdu p;
    int all;

    (void)state;
    for (i = 0; i < 130; i++)
        dests[i] = IP(10, 1, 0, 0) + (uint32_t)i;
    for (all = 0; all < 2; all++) {
        n = unpaced_tx();
        msid = h_submit(n, 0, 10, dests, 130, 6);
        assert_int_equal(h_drain(n, 0), 3);     /* 125 + 5 listed, Data */
        for (i = 0; i < 130; i++)
            assert_int_equal(h_feed_ack(n, 10, dests[i], H_TX, msid, miss, 1), 0);
        /* The second round is planned; its first part goes, then the
         * last part's destinations (all of them, or two) ack complete. */
        first = n->npkt;
        len = pmul_engine_poll_tx(n->e, h_now(20), buf, sizeof(buf), &to);
        assert_true(len > 0);
        p = h_decode_bytes(buf, (size_t)len);
        assert_int_equal(p.u.address.dest_cnt, 125);
        assert_int_equal(p.map, PMUL_MAP_NOT_LAST);
        for (i = all ? 125 : 128; i < 130; i++)
            assert_int_equal(h_feed_ack(n, 30, dests[i], H_TX, msid, NULL, 0), 0);
        assert_int_equal(h_drain(n, 30), all ? 1u : 2u);
        if (!all) {
            p = h_pdu(n, first);
            assert_int_equal(p.type, PMUL_PDU_ADDRESS);
            assert_int_equal(p.map, PMUL_MAP_NOT_FIRST);
            assert_int_equal(p.u.address.dest_cnt, 3);
            assert_int_equal(p.u.address.dests[2].dest_id, dests[127]);
        }
        assert_int_equal(h_type(n, n->npkt - 1), PMUL_PDU_DATA);
        h_node_free(n);
    }
}

/* A complete, B partial, C silent: once the round's answers are in, B is
 * served (its list alone, not C's whole message) by a round that lists B
 * and C, and so asks C again; C gets the whole message only after
 * PROBE_MAX asks went unanswered. */
static void
test_pmul_tx_updated_address_lists_incomplete(void **state)
{
    h_node *n;
    uint32_t dests[] = { H_RX3, H_RX, H_RX2 }, msid;
    static const uint16_t miss_b[] = { 1 };
    size_t first, i;
    pmul_pdu p;

    (void)state;
    n = unpaced_tx();
    msid = h_submit(n, 0, 3 * 1008, dests, 3, 6);
    assert_int_equal(h_drain(n, 0), 4);
    h_feed_ack(n, 10, H_RX, H_TX, msid, NULL, 0);
    h_feed_ack(n, 20, H_RX2, H_TX, msid, miss_b, 1);
    first = n->npkt;
    h_run(n, 20, 20000);
    p = h_pdu(n, first);
    assert_int_equal(p.type, PMUL_PDU_ADDRESS);
    assert_int_equal(p.u.address.dest_cnt, 2);
    assert_int_equal(p.u.address.dests[0].dest_id, H_RX2);
    assert_int_equal(p.u.address.dests[1].dest_id, H_RX3);
    assert_int_equal(p.u.address.dests[0].msg_seq_no, 1);
    assert_int_equal(h_pdu(n, first + 1).u.data.seq, 1);
    /* C stays silent (and B, whose answer to that round is not fed):
     * two probes listing both, then the whole message. */
    for (i = 2; i < 4; i++) {
        p = h_pdu(n, first + i);
        assert_int_equal(p.type, PMUL_PDU_ADDRESS);
        assert_int_equal(p.u.address.dest_cnt, 2);
    }
    assert_int_equal(h_type(n, first + 4), PMUL_PDU_ADDRESS);
    assert_int_equal(h_pdu(n, first + 5).u.data.seq, 1);
    assert_int_equal(h_pdu(n, first + 6).u.data.seq, 2);
    assert_int_equal(h_pdu(n, first + 7).u.data.seq, 3);
    h_node_free(n);
}

/* Answers are served early (once the round's answers can all be in, not
 * at the retransmission timer) only while the message is alone on the
 * link: with another message being sent, the timer stands. */
static void
test_pmul_tx_answers_served_early_only_when_alone(void **state)
{
    static const uint16_t miss_b[] = { 1 };
    uint32_t dests[] = { H_RX3, H_RX, H_RX2 }, msid, dest = H_RX;
    uint64_t dl[2];
    h_node *n;
    int busy;

    (void)state;
    for (busy = 0; busy < 2; busy++) {
        n = unpaced_tx();
        msid = h_submit(n, 0, 3 * 1008, dests, 3, 6);
        assert_int_equal(h_drain(n, 0), 4);
        if (busy)
            h_submit(n, 5, 2000, &dest, 1, 6);      /* not drained yet */
        h_feed_ack(n, 10, H_RX, H_TX, msid, NULL, 0);
        h_feed_ack(n, 20, H_RX2, H_TX, msid, miss_b, 1);
        h_drain(n, 20);                 /* the other message leaves */
        dl[busy] = pmul_engine_next_deadline(n->e);
        h_node_free(n);
    }
    assert_true(dl[0] < dl[1]);
    assert_true(dl[0] < 2000);          /* the answers' window, from the round's end */
}

/* A answered complete and C is silent: its answer was most likely lost.
 * Once the round's answers can all be in, C is asked (an Address_PDU
 * listing C alone, no Data_PDU), not at the retransmission timer; with
 * another message on the link, the timer stands. */
static void
test_pmul_tx_silent_asked_once_answers_are_in(void **state)
{
    uint32_t dests[] = { H_RX3, H_RX }, msid, dest = H_RX;
    uint64_t dl[2];
    size_t first;
    h_node *n;
    int busy;

    (void)state;
    for (busy = 0; busy < 2; busy++) {
        n = unpaced_tx();
        msid = h_submit(n, 0, 3 * 1008, dests, 2, 6);
        assert_int_equal(h_drain(n, 0), 4);
        if (busy)
            h_submit(n, 5, 2000, &dest, 1, 6);      /* not drained yet */
        h_feed_ack(n, 10, H_RX, H_TX, msid, NULL, 0);
        h_drain(n, 10);                 /* the other message leaves */
        dl[busy] = pmul_engine_next_deadline(n->e);
        if (!busy) {
            first = n->npkt;
            h_run(n, dl[0], dl[0]);
            assert_true(n->npkt > first);
            for (; first < n->npkt; first++) {
                assert_int_equal(h_type(n, first), PMUL_PDU_ADDRESS);
                assert_int_equal(h_pdu(n, first).u.address.dest_cnt, 1);
                assert_int_equal(h_pdu(n, first).u.address.dests[0].dest_id, H_RX3);
            }
        }
        h_node_free(n);
    }
    assert_true(dl[0] < dl[1]);
    assert_true(dl[0] < 2000);          /* the answers' window, from the round's end */
}

/* Expiry: Discard_Message_PDU, DEST_FAILED for exactly B and C. */
static void
test_pmul_tx_expiry_discard_failed_dests(void **state)
{
    h_node *n;
    uint32_t dests[] = { H_RX, H_RX2, H_RX3 }, msid = 0;
    static const uint16_t miss_b[] = { 1 };
    uint8_t payload[50] = { 1 };
    pmul_msg m;
    size_t first, i;
    const h_ev *ev;

    (void)state;
    n = unpaced_tx();
    memset(&m, 0, sizeof(m));
    m.payload = payload;
    m.payload_len = sizeof(payload);
    m.dests = dests;
    m.dest_cnt = 3;
    m.priority = 2;
    m.expiry_s = H_WALL0 + 30;
    m.tag = 77;
    assert_int_equal(pmul_engine_submit(n->e, h_now(0), &m, &msid), 0);
    h_drain(n, 0);
    h_feed_ack(n, 10, H_RX, H_TX, msid, NULL, 0);
    h_feed_ack(n, 20, H_RX2, H_TX, msid, miss_b, 1);
    h_run(n, 20, 29999);
    assert_int_equal(h_count_ev(n, PMUL_EV_DEST_FAILED), 0);
    first = n->npkt;
    h_run(n, 30000, 30000);
    assert_int_equal(n->npkt - first, 1);
    assert_int_equal(h_type(n, first), PMUL_PDU_DISCARD);
    assert_int_equal(h_pdu(n, first).msid, msid);
    assert_int_equal(h_pdu(n, first).priority, 2);
    assert_int_equal(h_count_ev(n, PMUL_EV_DEST_FAILED), 2);
    for (i = 0; i < 2; i++) {
        ev = h_find_ev(n, PMUL_EV_DEST_FAILED, i);
        assert_int_equal(ev->ev.dest_id, i == 0 ? H_RX2 : H_RX3);
        assert_int_equal(ev->ev.reason, PMUL_REASON_EXPIRED);
        assert_int_equal(ev->ev.tag, 77);
        assert_int_equal(ev->t, 30000);
    }
    ev = h_find_ev(n, PMUL_EV_MSG_DONE, 0);
    assert_non_null(ev);
    assert_int_equal(ev->ev.acked_cnt, 1);
    assert_int_equal(ev->ev.failed_cnt, 2);
    assert_int_equal(ev->ev.reason, PMUL_REASON_EXPIRED);
    assert_true(pmul_engine_is_idle(n->e));
    h_node_free(n);
}

static void
test_pmul_tx_cancel(void **state)
{
    h_node *n;
    uint32_t dest = H_RX, msid;
    size_t first;

    (void)state;
    n = unpaced_tx();
    msid = h_submit(n, 0, 10, &dest, 1, 6);
    h_drain(n, 0);
    assert_int_equal(pmul_engine_cancel(n->e, h_now(5), msid + 1), PMUL_ERR_NOTFOUND);
    assert_int_equal(pmul_engine_cancel(n->e, h_now(5), msid), 0);
    first = n->npkt;
    assert_int_equal(h_drain(n, 5), 1);
    assert_int_equal(h_type(n, first), PMUL_PDU_DISCARD);
    assert_int_equal(h_find_ev(n, PMUL_EV_DEST_FAILED, 0)->ev.reason, PMUL_REASON_CANCELLED);
    assert_int_equal(h_count_ev(n, PMUL_EV_MSG_DONE), 1);
    h_node_free(n);
}

/*
 * An EMCON destination: no retransmission timer, EMCON_RTC (4)
 * repetitions of the whole message EMCON_RTI (30 s) after the end of the
 * previous transmission, then silence until expiry.
 */
static void
test_pmul_tx_emcon_repetitions(void **state)
{
    pmul_config c;
    h_node *n;
    uint32_t dest = H_RX;
    uint64_t starts[8], ends[8];
    size_t i, rounds = 0;

    (void)state;
    h_config(&c, H_TX);
    c.link_rate_bps = 0;
    c.emcon_dests = &dest;
    c.emcon_dest_cnt = 1;
    n = h_node_new_cfg(&c);
    h_submit(n, 0, 2 * 1008, &dest, 1, 6);
    h_run(n, 0, 3000000);
    for (i = 0; i < n->npkt; i++)
        if (h_type(n, i) == PMUL_PDU_ADDRESS) {
            starts[rounds] = n->pkt[i].t;
            ends[rounds] = n->pkt[i + 2].t;
            assert_int_equal(h_type(n, i + 2), PMUL_PDU_DATA);
            rounds++;
        }
    assert_int_equal(rounds, 5);                    /* first + EMCON_RTC */
    for (i = 1; i < rounds; i++)
        assert_int_equal(starts[i], ends[i - 1] + 30000);
    assert_int_equal(n->npkt, 15);
    assert_int_equal(h_count_ev(n, PMUL_EV_MSG_DONE), 0);
    h_node_free(n);
}

/* An EMCON destination that acks is switched to normal mode at once. */
static void
test_pmul_tx_emcon_dest_acks_switches_to_normal(void **state)
{
    h_node *n;
    uint32_t dest = H_RX, msid;
    static const uint16_t miss[] = { 2 };
    size_t first;
    const h_ev *ev;

    (void)state;
    n = unpaced_tx();
    assert_int_equal(pmul_engine_set_dest_emcon(n->e, h_now(0), H_RX, true), 0);
    msid = h_submit(n, 0, 3 * 1008, &dest, 1, 6);
    assert_int_equal(h_drain(n, 0), 4);
    assert_int_equal(pmul_engine_next_deadline(n->e), 30000);   /* EMCON_RTI only */
    h_feed_ack(n, 1000, H_RX, H_TX, msid, miss, 1);
    ev = h_find_ev(n, PMUL_EV_DEST_EMCON_OFF, 0);
    first = n->npkt;
    h_drain(n, 1000);
    ev = h_find_ev(n, PMUL_EV_DEST_EMCON_OFF, 0);
    assert_non_null(ev);
    assert_int_equal(ev->ev.dest_id, H_RX);
    /* It answered: selective round at once, only PDU 2. */
    assert_int_equal(n->npkt - first, 2);
    assert_int_equal(h_pdu(n, first + 1).u.data.seq, 2);
    /* Then the normal retransmission timer, not EMCON_RTI. */
    assert_true(pmul_engine_next_deadline(n->e) < 1000 + 30000);
    h_node_free(n);
}

/* A more urgent message pre-empts between PDUs; the other resumes. */
static void
test_pmul_tx_priority_preemption(void **state)
{
    h_node *n = h_node_new(H_TX);
    uint32_t dest = H_RX, low, high;
    uint64_t t;
    size_t i;
    pmul_pdu p;
    static const struct { int urgent; uint8_t type; uint16_t seq; } want[] = {
        { 0, PMUL_PDU_ADDRESS, 0 }, { 0, PMUL_PDU_DATA, 1 },
        { 1, PMUL_PDU_ADDRESS, 0 }, { 1, PMUL_PDU_DATA, 1 }, { 1, PMUL_PDU_DATA, 2 },
        { 0, PMUL_PDU_DATA, 2 }, { 0, PMUL_PDU_DATA, 3 },
    };

    (void)state;
    low = h_submit(n, 0, 3 * 1008, &dest, 1, 9);
    h_drain(n, 0);
    t = pmul_engine_next_deadline(n->e);
    h_drain(n, t);                                  /* low: Data 1 */
    high = h_submit(n, t + 10, 2 * 1008, &dest, 1, 1);
    h_run(n, t + 10, 8000);
    for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        p = h_pdu(n, i);
        assert_int_equal(p.type, want[i].type);
        assert_int_equal(p.msid, want[i].urgent ? high : low);
        assert_int_equal(p.priority, want[i].urgent ? 1 : 9);
        if (p.type == PMUL_PDU_DATA)
            assert_int_equal(p.u.data.seq, want[i].seq);
    }
    h_node_free(n);
}

/* Java deviation (1): Ack_Info_Entry.Source_ID = the acker's own ID. */
static void
test_pmul_tx_java_ack_with_own_id(void **state)
{
    h_node *n;
    uint32_t d1 = H_RX, d2 = H_RX2, m1, m2;
    pmul_stats st;

    (void)state;
    n = unpaced_tx();
    m1 = h_submit(n, 0, 10, &d1, 1, 6);
    m2 = h_submit(n, 0, 10, &d2, 1, 6);
    h_drain(n, 0);
    /* RX acks m2, which was not sent to it, with its own ID: refused. */
    assert_int_equal(h_feed_ack(n, 10, H_RX, H_RX, m2, NULL, 0), PMUL_ERR_NOT_FOR_US);
    /* A third node's ID as Source_ID: refused. */
    assert_int_equal(h_feed_ack(n, 10, H_RX, H_RX3, m1, NULL, 0), PMUL_ERR_NOT_FOR_US);
    assert_int_equal(h_count_ev(n, PMUL_EV_DEST_ACKED), 0);
    /* RX acks m1 (sent to it) with its own ID: accepted. */
    assert_int_equal(h_feed_ack(n, 20, H_RX, H_RX, m1, NULL, 0), 0);
    h_events(n, 20);
    assert_int_equal(h_count_ev(n, PMUL_EV_DEST_ACKED), 1);
    assert_int_equal(h_find_ev(n, PMUL_EV_DEST_ACKED, 0)->ev.msid, m1);
    pmul_engine_stats(n->e, &st);
    assert_int_equal(st.drops[PMUL_DROP_NOT_FOR_US], 2);
    h_node_free(n);
}

/* Issue 13 item 4: a complete Ack before every Data_PDU left cannot be
 * true (a spoofed one completed a message that never left): dropped.
 * After the round, or for a message resumed after a restart, it counts. */
/* Issue 13 item 5: a missing list of MM (20) entries says nothing of the
 * PDUs above its highest entry.  Taking them as received left the last
 * PDUs unsent for ever while the same stale list was resent until
 * expiry; they must be in the next round. */
static void
test_pmul_tx_capped_missing_list_does_not_livelock(void **state)
{
    pmul_config c;
    h_node *n;
    uint32_t dest = H_RX, msid;
    uint16_t miss[20], npdus = 0, k;
    size_t i, before;
    pmul_pdu p;
    bool resent[64] = {false};

    (void)state;
    h_config(&c, H_TX);
    c.link_rate_bps = 0;                    /* unpaced: a round at once */
    n = h_node_new_cfg(&c);
    msid = h_submit(n, 0, 50000, &dest, 1, 6);
    h_drain(n, 0);
    for (i = 0; i < n->npkt; i++)
        if (h_type(n, i) == PMUL_PDU_DATA)
            npdus++;
    assert_true(npdus > 40 && npdus < 64);
    for (k = 0; k < 20; k++)
        miss[k] = (uint16_t)(2 * k + 1);     /* 1, 3, ..., 39 */
    before = n->npkt;
    assert_int_equal(h_feed_ack(n, 10, H_RX, H_TX, msid, miss, 20), 0);
    h_drain(n, 10);
    for (i = before; i < n->npkt; i++) {
        if (h_type(n, i) != PMUL_PDU_DATA)
            continue;
        p = h_pdu(n, i);
        resent[p.u.data.seq] = true;
    }
    for (k = 0; k < 20; k++)
        assert_true(resent[miss[k]]);
    for (k = 40; k <= npdus; k++)
        assert_true(resent[k]);
    assert_false(resent[2]);                    /* below the top: received */
    h_node_free(n);
}

/* Issue 13, priority under load: with routine messages filling
 * max_tx_msgs, a flash message is still admitted (and sent first); more
 * routine ones wait; twice the cap is the hard limit. */
static void
test_pmul_tx_flash_admitted_past_routine_cap(void **state)
{
    pmul_config c;
    h_node *n;
    uint32_t dest = H_RX, flash;
    uint8_t pay[100];
    pmul_msg m;
    pmul_pdu p;
    size_t i;

    (void)state;
    h_config(&c, H_TX);
    c.max_tx_msgs = 2;
    n = h_node_new_cfg(&c);
    memset(pay, 7, sizeof pay);
    memset(&m, 0, sizeof m);
    m.payload = pay;
    m.payload_len = sizeof pay;
    m.dests = &dest;
    m.dest_cnt = 1;
    m.priority = 6;
    assert_int_equal(pmul_engine_submit(n->e, h_now(0), &m, NULL), 0);
    assert_int_equal(pmul_engine_submit(n->e, h_now(0), &m, NULL), 0);
    assert_int_equal(pmul_engine_submit(n->e, h_now(0), &m, NULL), PMUL_ERR_BUSY);
    m.priority = 0;
    assert_int_equal(pmul_engine_submit(n->e, h_now(0), &m, &flash), 0);
    assert_int_equal(pmul_engine_submit(n->e, h_now(0), &m, NULL), 0);
    assert_int_equal(pmul_engine_submit(n->e, h_now(0), &m, NULL), PMUL_ERR_BUSY);   /* 2 x cap */
    h_drain(n, 0);
    for (i = 0; i < n->npkt && h_type(n, i) != PMUL_PDU_ADDRESS; i++)
        ;
    assert_true(i < n->npkt);
    p = h_pdu(n, i);
    assert_int_equal(p.priority, 0);            /* the flash message first */
    assert_int_equal(p.msid, flash);
    h_node_free(n);
}

/* Issue 13 item 8: an Ack_PDU with a conformant entry and the copy
 * naming the acker (a compatibility mode for quirk D1 peers): the copy is
 * ignored, the destination acked once, nothing counted as a drop. */
static void
test_pmul_tx_self_naming_copy_ignored(void **state)
{
    h_node *n;
    uint32_t dest = H_RX, msid;
    pmul_ack_entry two[2];
    pmul_stats st;
    pmul_pdu p;
    unsigned k;

    (void)state;
    n = unpaced_tx();
    msid = h_submit(n, 0, 500, &dest, 1, 6);
    h_drain(n, 0);
    memset(two, 0, sizeof two);
    two[0].source_id = H_TX;
    two[0].msid = msid;
    two[1].source_id = H_RX;
    two[1].msid = msid;
    memset(&p, 0, sizeof p);
    p.type = PMUL_PDU_ACK;
    p.source_id = H_RX;
    p.u.ack.entry_cnt = 2;
    p.u.ack.entries = two;
    assert_int_equal(h_feed_pdu(n, 10, &p), 0);
    h_events(n, 10);
    assert_int_equal(h_count_ev(n, PMUL_EV_DEST_ACKED), 1);
    pmul_engine_stats(n->e, &st);
    for (k = 0; k < PMUL_DROP_COUNT; k++)
        assert_int_equal(st.drops[k], 0);
    h_node_free(n);
}

/* A complete Ack that arrives after the last Data_PDU left but while the
 * repeated Address_PDU(s) are still going out is true and counts (it was
 * refused as "before the data": with 1,000 receivers, whose 8 Address_PDUs
 * take 7 s to repeat, most receivers' only Ack was lost that way and two
 * small mails took 123 s instead of 34 s). */
static void
test_pmul_tx_complete_ack_during_address_repeat_counts(void **state)
{
    pmul_config c;
    h_node *n;
    uint32_t dest = H_RX, msid;
    uint64_t t;
    size_t i;

    (void)state;
    h_config(&c, H_TX);                         /* paced at 9600 bit/s */
    c.addr_repeat = true;
    n = h_node_new_cfg(&c);
    msid = h_submit(n, 0, 500, &dest, 1, 6);
    /* Until the Data_PDU has left, not the repeat. */
    for (t = 0; t < 5000; t++) {
        h_run(n, t, t + 1);
        for (i = 0; i < n->npkt && h_type(n, i) != PMUL_PDU_DATA; i++)
            ;
        if (i < n->npkt)
            break;
    }
    assert_true(t < 5000);
    assert_int_equal(h_count(n, 0, PMUL_PDU_ADDRESS), 1);  /* no repeat yet */
    assert_int_equal(h_feed_ack(n, t + 1, H_RX, H_TX, msid, NULL, 0), 0);
    h_events(n, t + 1);
    assert_int_equal(h_count_ev(n, PMUL_EV_DEST_ACKED), 1);
    h_node_free(n);
}

/* A retransmission round to destinations that have all answered before
 * repeats its Address_PDU only while nothing else is being sent: with
 * another message waiting, the repeat would only hurry an answer the
 * busy link does not wait for. */
static void
test_pmul_tx_repeat_dropped_while_link_busy(void **state)
{
    static const uint16_t miss[] = { 1 };
    pmul_config c;
    h_node *n;
    uint32_t dest = H_RX, msid;
    size_t first;
    int busy;

    (void)state;
    for (busy = 0; busy < 2; busy++) {
        h_config(&c, H_TX);
        c.link_rate_bps = 0;
        c.addr_repeat = true;
        n = h_node_new_cfg(&c);
        msid = h_submit(n, 0, 3 * 1008, &dest, 1, 6);
        assert_int_equal(h_drain(n, 0), 1 + 3 + 1);
        if (busy)
            h_submit(n, 50, 2000, &dest, 1, 6);     /* not drained yet */
        assert_int_equal(h_feed_ack(n, 100, H_RX, H_TX, msid, miss, 1), 0);
        first = n->npkt;
        h_drain(n, 100);
        assert_int_equal(h_count_msg(n, first, PMUL_PDU_ADDRESS, msid), busy ? 1 : 2);
        h_node_free(n);
    }
}

/* The repeated Address_PDU lists only the destinations that have not
 * acked the whole message by then; when all have, it is not sent. */
static void
test_pmul_tx_repeat_lists_only_unacked(void **state)
{
    pmul_config c;
    h_node *n;
    uint32_t dests[3] = {H_RX, H_RX2, H_RX3}, msid;
    pmul_pdu p;
    uint64_t t;
    size_t i, first;

    (void)state;
    h_config(&c, H_TX);
    c.addr_repeat = true;
    n = h_node_new_cfg(&c);
    msid = h_submit(n, 0, 500, dests, 3, 6);
    for (t = 0; t < 5000 && h_count(n, 0, PMUL_PDU_DATA) == 0; t++)
        h_run(n, t, t + 1);
    assert_int_equal(h_feed_ack(n, t + 1, H_RX2, H_TX, msid, NULL, 0), 0);
    first = n->npkt;
    h_run(n, t + 1, t + 3000);
    for (i = first; i < n->npkt && h_type(n, i) != PMUL_PDU_ADDRESS; i++)
        ;
    assert_true(i < n->npkt);
    p = h_pdu(n, i);
    assert_int_equal(p.u.address.dest_cnt, 2);
    assert_int_equal(p.u.address.dests[0].dest_id, H_RX);
    assert_int_equal(p.u.address.dests[1].dest_id, H_RX3);
    h_node_free(n);

    /* Everyone acked before the repeat: no repeat at all. */
    n = h_node_new_cfg(&c);
    msid = h_submit(n, 0, 500, dests, 3, 6);
    for (t = 0; t < 5000 && h_count(n, 0, PMUL_PDU_DATA) == 0; t++)
        h_run(n, t, t + 1);
    for (i = 0; i < 3; i++)
        assert_int_equal(h_feed_ack(n, t + 1, dests[i], H_TX, msid, NULL, 0), 0);
    h_run(n, t + 1, t + 3000);
    assert_int_equal(h_count(n, 0, PMUL_PDU_ADDRESS), 2);   /* first + Ack-Ack */
    h_node_free(n);
}

static void
test_pmul_tx_complete_ack_before_data_refused(void **state)
{
    pmul_config c;
    h_node *n;
    uint32_t dest = H_RX, msid;
    pmul_stats st;
    uint8_t pay[3000];
    pmul_msg m;

    (void)state;
    h_config(&c, H_TX);
    c.link_rate_bps = 9600;                 /* paced: the round takes a while */
    n = h_node_new_cfg(&c);
    msid = h_submit(n, 0, 3000, &dest, 1, 6);
    h_drain(n, 0);                          /* the Address_PDU, maybe a Data_PDU */
    assert_int_equal(h_feed_ack(n, 5, H_RX, H_TX, msid, NULL, 0), PMUL_ERR_INCONSISTENT);
    h_events(n, 5);
    assert_int_equal(h_count_ev(n, PMUL_EV_DEST_ACKED), 0);
    pmul_engine_stats(n->e, &st);
    assert_int_equal(st.drops[PMUL_DROP_INCONSISTENT], 1);
    /* Once the round is out, the same Ack is believed. */
    h_run(n, 5, 10000);
    assert_int_equal(h_feed_ack(n, 10001, H_RX, H_TX, msid, NULL, 0), 0);
    h_events(n, 10001);
    assert_int_equal(h_count_ev(n, PMUL_EV_DEST_ACKED), 1);
    h_node_free(n);

    /* A resumed message: its receiver may hold it whole already. */
    n = h_node_new_cfg(&c);
    memset(pay, 1, sizeof pay);
    memset(&m, 0, sizeof m);
    m.payload = pay;
    m.payload_len = sizeof pay;
    m.dests = &dest;
    m.dest_cnt = 1;
    m.priority = 6;
    m.msid = 77;
    m.resumed = true;
    assert_int_equal(pmul_engine_submit(n->e, h_now(0), &m, NULL), 0);
    h_drain(n, 0);
    assert_int_equal(h_feed_ack(n, 5, H_RX, H_TX, 77, NULL, 0), 0);
    h_events(n, 5);
    assert_int_equal(h_count_ev(n, PMUL_EV_DEST_ACKED), 1);
    h_node_free(n);
}

/* A complete Ack for a finished message (our Ack-Ack was lost) gets
 * another Ack-Ack, at most once per ack_rtx_min_ms. */
static void
test_pmul_tx_late_ack_gets_ackack(void **state)
{
    h_node *n;
    uint32_t dest = H_RX, msid;
    size_t first;

    (void)state;
    n = unpaced_tx();
    msid = h_submit(n, 0, 10, &dest, 1, 6);
    h_drain(n, 0);
    h_feed_ack(n, 10, H_RX, H_TX, msid, NULL, 0);
    assert_int_equal(h_drain(n, 10), 1);            /* Ack-Ack */
    first = n->npkt;
    h_feed_ack(n, 500, H_RX, H_TX, msid, NULL, 0);  /* too soon */
    assert_int_equal(h_drain(n, 500), 0);
    h_feed_ack(n, 2010, H_RX, H_TX, msid, NULL, 0);
    assert_int_equal(h_drain(n, 2010), 1);
    assert_int_equal(h_pdu(n, first).u.address.dest_cnt, 0);
    assert_int_equal(h_pdu(n, first).msid, msid);
    h_node_free(n);
}

/* The timestamp option removes the receiver's holding time from the
 * sample: what remains is the network round trip. */
static void
test_pmul_tx_ack_timestamp_feeds_estimator(void **state)
{
    h_node *n;
    uint32_t dest = H_RX, msid;
    pmul_ack_entry a;
    pmul_pdu p;
    pmul_stats st;

    (void)state;
    n = unpaced_tx();
    msid = h_submit(n, 0, 10, &dest, 1, 6);
    h_drain(n, 1000);                               /* Address left at 1000 */
    memset(&a, 0, sizeof(a));
    a.source_id = H_TX;
    a.msid = msid;
    memset(&p, 0, sizeof(p));
    p.type = PMUL_PDU_ACK;
    p.source_id = H_RX;
    p.u.ack.entry_cnt = 1;
    p.u.ack.entries = &a;
    p.u.ack.has_timestamp = true;
    p.u.ack.timestamp = 25;                         /* held 2.5 s */
    assert_int_equal(h_feed_pdu(n, 3800, &p), 0);
    pmul_engine_stats(n->e, &st);
    /* First sample 2800 - 2500 = 300: srtt 300, rttvar 150; the timer
     * uses srtt + 4 rttvar. */
    assert_int_equal(st.srtt_ms, 900);
    h_node_free(n);
}

static void
test_pmul_tx_submit_validation(void **state)
{
    pmul_config c;
    h_node *n;
    uint32_t dests[] = { H_RX, H_RX }, one = H_RX, self = H_TX, msid;
    uint8_t b[16] = { 0 };
    pmul_msg m;
    pmul_stats st;

    (void)state;
    h_config(&c, H_TX);
    c.max_tx_msgs = 2;
    c.pdu_max_len = 64;                             /* 48 octets per PDU */
    n = h_node_new_cfg(&c);
    memset(&m, 0, sizeof(m));
    m.payload = b;
    m.payload_len = 0;
    m.dests = &one;
    m.dest_cnt = 1;
    assert_int_equal(pmul_engine_submit(n->e, h_now(0), &m, &msid), PMUL_ERR_INVAL);
    m.payload_len = sizeof(b);
    m.dest_cnt = 0;
    assert_int_equal(pmul_engine_submit(n->e, h_now(0), &m, &msid), PMUL_ERR_INVAL);
    m.dests = dests;
    m.dest_cnt = 2;                                 /* duplicate */
    assert_int_equal(pmul_engine_submit(n->e, h_now(0), &m, &msid), PMUL_ERR_INVAL);
    m.dests = &self;
    m.dest_cnt = 1;
    assert_int_equal(pmul_engine_submit(n->e, h_now(0), &m, &msid), PMUL_ERR_INVAL);
    m.dests = &one;
    m.expiry_s = H_WALL0;                           /* not after now */
    assert_int_equal(pmul_engine_submit(n->e, h_now(0), &m, &msid), PMUL_ERR_EXPIRED);
    m.expiry_s = 0;
    {
        size_t big = 48u * 65535u + 1u;
        uint8_t *p = calloc(1, big);

        m.payload = p;
        m.payload_len = big;
        assert_int_equal(pmul_engine_submit(n->e, h_now(0), &m, &msid), PMUL_ERR_RANGE);
        free(p);
        m.payload = b;
        m.payload_len = sizeof(b);
    }
    assert_int_equal(pmul_engine_submit(n->e, h_now(0), &m, &msid), 0);
    assert_int_equal(pmul_engine_submit(n->e, h_now(0), &m, &msid), 0);
    assert_int_equal(pmul_engine_submit(n->e, h_now(0), &m, &msid), PMUL_ERR_BUSY);
    pmul_engine_stats(n->e, &st);
    assert_int_equal(st.msgs_submitted, 2);
    assert_int_equal(st.tx_msgs, 2);
    h_node_free(n);
}

/* addr_repeat (the default): the round's Address_PDU goes again after its
 * last Data_PDU, and the timer starts after it.  An Ack arriving while
 * the repeat is pending already counts as an answer. */
static void
test_pmul_tx_address_repeated_after_round(void **state)
{
    pmul_config c;
    h_node *n;
    uint32_t dests[] = { H_RX, H_RX2 }, msid;
    static const uint16_t miss[] = { 1 };
    size_t first;

    (void)state;
    h_config(&c, H_TX);
    c.addr_repeat = true;
    n = h_node_new_cfg(&c);
    msid = h_submit(n, 0, 2 * 1008, dests, 2, 6);
    /* Address (40 octets: 56.7 ms), Data 1 at 57, Data 2 at 934. */
    h_run(n, 0, 1000);
    assert_int_equal(n->npkt, 3);
    assert_int_equal(n->pkt[2].t, 934);
    /* RX acks after the last Data_PDU, before the repeat left. */
    assert_int_equal(h_feed_ack(n, 1000, H_RX, H_TX, msid, miss, 1), 0);
    h_run(n, 1000, 1811);
    assert_int_equal(n->npkt, 4);
    assert_int_equal(h_type(n, 3), PMUL_PDU_ADDRESS);
    assert_int_equal(n->pkt[3].t, 1811);
    assert_int_equal(h_pdu(n, 3).u.address.dest_cnt, 2);
    assert_int_equal(h_pdu(n, 3).u.address.total_pdus, 2);
    /* The timer runs from the repeat. */
    assert_true(pmul_engine_next_deadline(n->e) > 1811 + 2000);
    /* RX2 answers: both answered, the selective round starts at once. */
    h_feed_ack(n, 2000, H_RX2, H_TX, msid, NULL, 0);
    first = n->npkt;
    h_run(n, 2000, 2000);
    assert_int_equal(n->npkt - first, 1);
    assert_int_equal(h_type(n, first), PMUL_PDU_ADDRESS);
    assert_int_equal(h_pdu(n, first).u.address.dest_cnt, 1);
    h_run(n, 2001, 2100);
    assert_int_equal(h_pdu(n, first + 1).u.data.seq, 1);
    h_node_free(n);
}

/* More urgent data queued behind the end of a round lengthens its timer
 * by that data's airtime: the retransmission could not leave earlier. */
static void
test_pmul_tx_timer_counts_urgent_queued_data(void **state)
{
    h_node *n = h_node_new(H_TX);
    uint32_t dest = H_RX;
    pmul_stats st;

    (void)state;
    h_submit(n, 0, 100, &dest, 1, 6);
    h_run(n, 0, 50);                                /* Address, Data 1: round over */
    pmul_engine_stats(n->e, &st);
    assert_int_equal(st.rto_ms, 2924);
    /* Again, with a message of the same priority and 3 full Data_PDUs
     * queued behind it: + 3 * 1052 octets at 9600 bit/s = 2630 ms.  A
     * less urgent one queued as well does not count. */
    h_node_free(n);
    n = h_node_new(H_TX);
    h_submit(n, 0, 100, &dest, 1, 6);
    h_submit(n, 0, 3 * 1008, &dest, 1, 6);
    h_submit(n, 0, 3 * 1008, &dest, 1, 9);
    h_run(n, 0, 50);
    pmul_engine_stats(n->e, &st);
    assert_int_equal(st.rto_ms, 2924 + 2630);
    h_node_free(n);
}

/* The MSIDs come from the configured first value (or rand) and count up. */
static void
test_pmul_tx_msid_allocation(void **state)
{
    pmul_config c;
    h_node *n;
    uint32_t dest = H_RX;

    (void)state;
    h_config(&c, H_TX);
    c.first_msid = 0x10000;
    n = h_node_new_cfg(&c);
    assert_int_equal(h_submit(n, 0, 5, &dest, 1, 6), 0x10000);
    assert_int_equal(h_submit(n, 0, 5, &dest, 1, 6), 0x10001);
    h_node_free(n);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pmul_tx_fragmentation_and_pacing),
        cmocka_unit_test(test_pmul_tx_resume_after_restart_keeps_msid_and_msns),
        cmocka_unit_test(test_pmul_tx_fragment_size_follows_pdu_max),
        cmocka_unit_test(test_pmul_tx_address_map_split_300_sorted),
        cmocka_unit_test(test_pmul_tx_msn_per_destination),
        cmocka_unit_test(test_pmul_tx_probe_then_whole_and_backoff),
        cmocka_unit_test(test_pmul_tx_probe_answered_saves_the_resend),
        cmocka_unit_test(test_pmul_tx_probe_dearer_than_resend_many_dests),
        cmocka_unit_test(test_pmul_tx_first_rtt_sample_rearms_guessed_timer),
        cmocka_unit_test(test_pmul_tx_fixed_timer_backoff),
        cmocka_unit_test(test_pmul_tx_selective_resend_after_all_answered),
        cmocka_unit_test(test_pmul_tx_updated_address_lists_incomplete),
        cmocka_unit_test(test_pmul_tx_expiry_discard_failed_dests),
        cmocka_unit_test(test_pmul_tx_cancel),
        cmocka_unit_test(test_pmul_tx_emcon_repetitions),
        cmocka_unit_test(test_pmul_tx_emcon_dest_acks_switches_to_normal),
        cmocka_unit_test(test_pmul_tx_priority_preemption),
        cmocka_unit_test(test_pmul_tx_java_ack_with_own_id),
        cmocka_unit_test(test_pmul_tx_complete_ack_before_data_refused),
        cmocka_unit_test(test_pmul_tx_capped_missing_list_does_not_livelock),
        cmocka_unit_test(test_pmul_tx_flash_admitted_past_routine_cap),
        cmocka_unit_test(test_pmul_tx_self_naming_copy_ignored),
        cmocka_unit_test(test_pmul_tx_complete_ack_during_address_repeat_counts),
        cmocka_unit_test(test_pmul_tx_repeat_lists_only_unacked),
        cmocka_unit_test(test_pmul_tx_round_address_drops_acked_before_it_leaves),
        cmocka_unit_test(test_pmul_tx_map_split_address_drops_acked_parts),
        cmocka_unit_test(test_pmul_tx_late_ack_gets_ackack),
        cmocka_unit_test(test_pmul_tx_ack_timestamp_feeds_estimator),
        cmocka_unit_test(test_pmul_tx_submit_validation),
        cmocka_unit_test(test_pmul_tx_msid_allocation),
        cmocka_unit_test(test_pmul_tx_address_repeated_after_round),
        cmocka_unit_test(test_pmul_tx_repeat_dropped_while_link_busy),
        cmocka_unit_test(test_pmul_tx_answers_served_early_only_when_alone),
        cmocka_unit_test(test_pmul_tx_silent_asked_once_answers_are_in),
        cmocka_unit_test(test_pmul_tx_timer_counts_urgent_queued_data),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
