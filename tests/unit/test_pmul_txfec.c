/*
 * NAME
 *	test_pmul_txfec - scripted tests of the transmitter's FEC repair
 * SYNOPSIS
 *	meson test -C BUILD --no-rebuild -v pmul_txfec
 * DESCRIPTION
 *	Drives one engine as a transmitter with cfg.fec on (docs/wire.md 10,
 *	fec-contract.md): round 1 is a FEC_Address_PDU, the N sources and
 *	floor(ratio x k) repairs per block in sequence-number order, with
 *	repair bytes equal to pmul_fec_encode()'s; on Acks, a block gets
 *	max need fresh repairs when that is fewer PDUs than the union of the
 *	listed sources, sources otherwise; a plain peer (no-fec) gets its
 *	sources, which count toward the FEC receivers' needs; a message to
 *	plain peers only goes without FEC; EMCON repetitions are three
 *	FEC_Address_PDUs and fresh repairs; and a receiver that does not
 *	decode FEC (this engine's receiver, which drops numbers above Total)
 *	completes by selective repeat.
 * SECURITY
 *	Test code.
 * DIAGNOSTICS
 *	cmocka.
 * SEE ALSO
 *	test_pmul_engine.h, test_pmul_tx.c, pmul/pmul_txfec.c, pmul/pmul_tx.c
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "test_pmul_engine.h"

#include "pmul/pmul_fec.h"

#define FRAG 1008u

static h_node *
fec_tx(uint32_t ratio_pct, uint32_t max_block)
{
    pmul_config c;

    h_config(&c, H_TX);
    c.link_rate_bps = 0;
    c.fec = true;
    c.fec_ratio_pct = ratio_pct;
    c.fec_max_block = max_block;
    /* These tests pin the repair rules; the loss estimate's margins have
     * tests of their own (test_pmul_txfec_adaptive_*). */
    c.fec_adaptive = false;
    c.fec_joint = false;    /* per-message rounds (test_pmul_txjoint) */
    return h_node_new_cfg(&c);
}

/* The FEC parameters of FEC_Address_PDU i, checked against Total. */
static pmul_fec_params
fec_params_of(const h_node *n, size_t i)
{
    pmul_pdu p = h_pdu(n, i);
    pmul_fec_params fp;

    assert_int_equal(p.type, PMUL_PDU_FEC_ADDRESS);
    assert_int_equal(p.u.address.fec_id, PMUL_FEC_ID_RS8);
    assert_int_equal(p.u.address.fec_param_len, PMUL_FEC_PARAM_LEN);
    assert_int_equal(pmul_fec_params_decode(&fp, p.u.address.fec_id, p.u.address.fec_params,
                                            p.u.address.fec_param_len, p.u.address.total_pdus),
                     0);
    return fp;
}

/* Data_PDU numbers of packets [from, to). */
static void
seqs_are(const h_node *n, size_t from, const uint16_t *want, size_t cnt)
{
    size_t i;

    for (i = 0; i < cnt; i++) {
        pmul_pdu p = h_pdu(n, from + i);

        assert_int_equal(p.type, PMUL_PDU_DATA);
        assert_int_equal(p.u.data.seq, want[i]);
    }
}

/* 20 PDUs, the last 508 octets, one block, 10 %: FEC_Address_PDU, 1..20,
 * repairs 21 and 22 with the codec's bytes. */
static void
test_pmul_txfec_round1_sources_then_repairs(void **state)
{
    h_node *n = fec_tx(10, 128);
    uint32_t dest = H_RX;
    size_t len = 19 * FRAG + 508, i;
    uint8_t *msg = malloc(len), rep[FRAG];
    const uint8_t *src[20];
    pmul_fec_params fp;
    pmul_fec *f;
    pmul_pdu p;

    (void)state;
    h_submit(n, 0, len, &dest, 1, 6);
    assert_int_equal(h_drain(n, 0), 1 + 20 + 2);
    fp = fec_params_of(n, 0);
    assert_int_equal(fp.blocks.total_pdus, 20);
    assert_int_equal(fp.blocks.block_cnt, 1);
    assert_int_equal(fp.symbol_len, FRAG);
    assert_int_equal(fp.last_len, 508);
    assert_int_equal(fp.repair_cnt, 2);
    assert_int_equal(h_pdu(n, 0).u.address.dest_cnt, 1);
    for (i = 0; i < 22; i++)
        assert_int_equal(h_pdu(n, 1 + i).u.data.seq, i + 1);

    for (i = 0; i < len; i++)
        msg[i] = (uint8_t)(i * 13u + 7u);
    for (i = 0; i < 20; i++)
        src[i] = msg + i * FRAG;
    assert_int_equal(pmul_fec_new(&f, NULL), 0);
    for (i = 0; i < 2; i++) {
        assert_int_equal(pmul_fec_encode(f, src, 20, FRAG, 508, (unsigned)i, rep), 0);
        p = h_pdu(n, 21 + i);
        assert_int_equal(p.u.data.frag_len, FRAG);
        assert_memory_equal(p.u.data.frag, rep, FRAG);
    }
    pmul_fec_free(f);
    free(msg);
    h_node_free(n);
}

/* Three blocks (7, 7, 6) at 34 %: two repairs each (rounded down), j = 0
 * of every block (21, 22, 23), then j = 1 (24, 25, 26). */
static void
test_pmul_txfec_round1_blocks_in_seq_order(void **state)
{
    h_node *n = fec_tx(34, 8);
    uint32_t dest = H_RX;
    static const uint16_t rep[] = { 21, 22, 23, 24, 25, 26 };
    pmul_fec_params fp;

    (void)state;
    h_submit(n, 0, 20 * FRAG, &dest, 1, 6);
    assert_int_equal(h_drain(n, 0), 1 + 20 + 6);
    fp = fec_params_of(n, 0);
    assert_int_equal(fp.blocks.block_cnt, 3);
    assert_int_equal(fp.blocks.k_large, 7);
    assert_int_equal(fp.repair_cnt, 2);
    seqs_are(n, 21, rep, 6);
    h_node_free(n);
}

/* Three FEC receivers miss different PDUs of the one block: 3 fresh
 * repairs (j = 2, 3, 4 after round 1's 0 and 1) instead of 6 sources. */
static void
test_pmul_txfec_rtx_max_need_fresh_repairs(void **state)
{
    h_node *n = fec_tx(10, 128);
    uint32_t dests[] = { H_RX, H_RX2, H_RX3 }, msid;
    static const uint16_t a[] = { 2, 5 }, b[] = { 7 }, c[] = { 3, 9, 11 }, d[] = { 9 };
    static const uint16_t want[] = { 23, 24, 25 }, want2[] = { 26 };
    size_t first;

    (void)state;
    msid = h_submit(n, 0, 20 * FRAG, dests, 3, 6);
    assert_int_equal(h_drain(n, 0), 23);
    assert_int_equal(h_feed_ack(n, 100, H_RX, H_TX, msid, a, 2), 0);
    assert_int_equal(h_feed_ack(n, 110, H_RX2, H_TX, msid, b, 1), 0);
    assert_int_equal(h_feed_ack(n, 120, H_RX3, H_TX, msid, c, 3), 0);
    first = n->npkt;
    assert_int_equal(h_drain(n, 120), 1 + 3);
    assert_int_equal(fec_params_of(n, first).repair_cnt, 3);
    assert_int_equal(h_pdu(n, first).u.address.dest_cnt, 3);
    seqs_are(n, first + 1, want, 3);
    /* The next round's repairs are fresh again. */
    assert_int_equal(h_feed_ack(n, 200, H_RX, H_TX, msid, b, 1), 0);
    assert_int_equal(h_feed_ack(n, 210, H_RX2, H_TX, msid, d, 1), 0);
    assert_int_equal(h_feed_ack(n, 220, H_RX3, H_TX, msid, NULL, 0), 0);
    first = n->npkt;
    assert_int_equal(h_drain(n, 220), 1 + 1);
    seqs_are(n, first + 1, want2, 1);
    h_node_free(n);
}

/* When the union is no larger than the largest need, sources go. */
static void
test_pmul_txfec_rtx_sources_when_not_fewer(void **state)
{
    h_node *n = fec_tx(10, 128);
    uint32_t dests[] = { H_RX, H_RX2 }, msid;
    static const uint16_t a[] = { 2, 3 }, want[] = { 2, 3 };
    size_t first;

    (void)state;
    msid = h_submit(n, 0, 20 * FRAG, dests, 2, 6);
    h_drain(n, 0);
    assert_int_equal(h_feed_ack(n, 100, H_RX, H_TX, msid, a, 2), 0);
    assert_int_equal(h_feed_ack(n, 110, H_RX2, H_TX, msid, a, 2), 0);
    first = n->npkt;
    assert_int_equal(h_drain(n, 110), 1 + 2);
    assert_int_equal(h_pdu(n, first).type, PMUL_PDU_FEC_ADDRESS);
    seqs_are(n, first + 1, want, 2);
    h_node_free(n);
}

/* A plain peer gets its listed sources; they count toward the FEC
 * receivers' needs. */
static void
test_pmul_txfec_plain_peer_gets_sources(void **state)
{
    h_node *n = fec_tx(10, 128);
    uint32_t dests[] = { H_RX, H_RX2, H_RX3 }, plain = H_RX3, msid;
    static const uint16_t a[] = { 2, 5 }, b[] = { 7 }, c[] = { 4 }, c2[] = { 2, 5 };
    static const uint16_t want[] = { 4, 23, 24 }, want2[] = { 2, 5, 7 };
    size_t first;

    (void)state;
    assert_int_equal(pmul_engine_set_no_fec_peers(n->e, &plain, 1), 0);
    msid = h_submit(n, 0, 20 * FRAG, dests, 3, 6);
    assert_int_equal(h_drain(n, 0), 23);
    assert_int_equal(h_feed_ack(n, 100, H_RX, H_TX, msid, a, 2), 0);
    assert_int_equal(h_feed_ack(n, 110, H_RX2, H_TX, msid, b, 1), 0);
    assert_int_equal(h_feed_ack(n, 120, H_RX3, H_TX, msid, c, 1), 0);
    first = n->npkt;
    /* Plain: 4.  FEC: needs 2 and 1, union {2, 5, 7}: 2 repairs. */
    assert_int_equal(h_drain(n, 120), 1 + 3);
    seqs_are(n, first + 1, want, 3);

    /* Now the plain peer misses 2 and 5: those cover the first FEC
     * receiver, the second needs one of {7}: a source is no worse. */
    assert_int_equal(h_feed_ack(n, 200, H_RX, H_TX, msid, a, 2), 0);
    assert_int_equal(h_feed_ack(n, 210, H_RX2, H_TX, msid, b, 1), 0);
    assert_int_equal(h_feed_ack(n, 220, H_RX3, H_TX, msid, c2, 2), 0);
    first = n->npkt;
    assert_int_equal(h_drain(n, 220), 1 + 3);
    seqs_are(n, first + 1, want2, 3);
    h_node_free(n);
}

/* Only plain peers: no FEC at all (Address_PDU, sources only). */
static void
test_pmul_txfec_only_plain_peers_no_fec(void **state)
{
    h_node *n = fec_tx(10, 128);
    uint32_t dests[] = { H_RX, H_RX2 };

    (void)state;
    assert_int_equal(pmul_engine_set_no_fec_peers(n->e, dests, 2), 0);
    h_submit(n, 0, 20 * FRAG, dests, 2, 6);
    assert_int_equal(h_drain(n, 0), 21);
    assert_int_equal(h_type(n, 0), PMUL_PDU_ADDRESS);
    assert_int_equal(h_count(n, 0, PMUL_PDU_FEC_ADDRESS), 0);
    assert_int_equal(pmul_engine_set_no_fec_peers(n->e, NULL, 0), 0);
    h_node_free(n);
}

/* EMCON: the first transmission is 3 FEC_Address_PDUs, the sources and 8
 * repairs; each repetition 3 FEC_Address_PDUs and 8 fresh repairs.  The
 * copies of the announcement are spread over the round, a third of its
 * Data_PDUs apart (after 9 and 18 of the first round's 28; 2 and 4 of a
 * repetition's 8), so that one loss burst cannot take them all. */
static void
test_pmul_txfec_emcon_repetitions_fresh_repairs(void **state)
{
    pmul_config c;
    h_node *n;
    uint32_t dest = H_RX;
    size_t i, nrep = 0, naddr = 0, nsrc = 0;
    uint16_t next = 21;

    (void)state;
    h_config(&c, H_TX);
    c.link_rate_bps = 0;
    c.fec = true;
    c.emcon_dests = &dest;
    c.emcon_dest_cnt = 1;
    n = h_node_new_cfg(&c);
    h_submit(n, 0, 20 * FRAG, &dest, 1, 6);
    assert_int_equal(h_drain(n, 0), 3 + 20 + 8);
    for (i = 0; i < n->npkt; i++)
        assert_int_equal(h_type(n, i) == PMUL_PDU_FEC_ADDRESS, i == 0 || i == 10 || i == 20);
    assert_int_equal(fec_params_of(n, 0).repair_cnt, 8);
    h_run(n, 0, 3000000);
    for (i = 0; i < n->npkt; i++) {
        pmul_pdu p = h_pdu(n, i);

        if (p.type == PMUL_PDU_FEC_ADDRESS) {
            naddr++;
        } else if (p.u.data.seq <= 20) {
            nsrc++;
        } else {
            assert_int_equal(p.u.data.seq, next);   /* every one fresh */
            next++;
            nrep++;
        }
    }
    assert_int_equal(naddr, 3 * 5);                 /* first + EMCON_RTC */
    assert_int_equal(nsrc, 20);                     /* sources only once */
    assert_int_equal(nrep, 8 * 5);
    assert_int_equal(h_type(n, 31), PMUL_PDU_FEC_ADDRESS);
    assert_int_equal(n->pkt[31].t, n->pkt[30].t + 30000);
    for (i = 31; i < 31 + 11; i++)                  /* A r r A r r A r r r r */
        assert_int_equal(h_type(n, i) == PMUL_PDU_FEC_ADDRESS, i == 31 || i == 34 || i == 37);
    h_node_free(n);
}

/* Feed t's packets [from, to) to r; the FEC_Address_PDUs with another
 * FEC_ID when `plain` (a receiver that does not know the scheme). */
static void
forward_fec(h_node *t, size_t from, size_t to, h_node *r, uint64_t now, const uint64_t *drop,
            bool plain)
{
    uint8_t buf[PMUL_PDU_MAX_LEN];
    size_t i;

    for (i = from; i < to; i++) {
        pmul_pdu p = h_pdu(t, i);

        if (drop != NULL && i - from < 64 && ((*drop >> (i - from)) & 1u))
            continue;
        if (plain && p.type == PMUL_PDU_FEC_ADDRESS) {
            p.u.address.fec_id = 0x7f;
            (void)h_feed_raw(r, now, buf, h_encode(&p, buf, sizeof(buf)));
        } else {
            (void)h_feed_raw(r, now, t->pkt[i].buf, t->pkt[i].len);
        }
    }
}

/* Run t and r against each other until t's message is done; round 1's
 * packets of t whose bit is set in drop are lost, and with hold_acks so
 * is every Ack of r until t sent a plain Address_PDU. */
static void
run_pair(h_node *t, h_node *r, uint64_t drop, bool plain, bool hold_acks)
{
    uint64_t now = 0, a, b;
    size_t tf = 0, rf = 0, guard;

    for (guard = 0; guard < 300 && h_count_ev(t, PMUL_EV_MSG_DONE) == 0; guard++) {
        pmul_engine_expire(t->e, h_now(now));
        h_drain(t, now);
        forward_fec(t, tf, t->npkt, r, now + 10, tf == 0 ? &drop : NULL, plain);
        hold_acks &= h_count(t, tf, PMUL_PDU_ADDRESS) == 0;
        tf = t->npkt;
        now += 10;
        pmul_engine_expire(r->e, h_now(now));
        h_drain(r, now);
        if (!hold_acks)
            h_forward(r, rf, r->npkt, t, now + 10, NULL);
        rf = r->npkt;
        now += 10;
        a = pmul_engine_next_deadline(t->e);
        b = pmul_engine_next_deadline(r->e);
        if ((a < b ? a : b) != UINT64_MAX && (a < b ? a : b) > now)
            now = a < b ? a : b;
    }
    assert_int_equal(h_count_ev(r, PMUL_EV_DELIVERED), 1);
    assert_int_equal(h_count_ev(t, PMUL_EV_DEST_ACKED), 1);
    assert_int_equal(h_count_ev(t, PMUL_EV_MSG_DONE), 1);
}

/* Our receiver completes from round 1's repairs with no retransmission,
 * or asks for exactly the one symbol more it needs; a receiver that does
 * not know the FEC_ID drops the repairs and completes by selective
 * repeat. */
static void
test_pmul_txfec_receivers_complete(void **state)
{
    static const struct {
        uint64_t drop;          /* round-1 packets lost (0: FEC_Address) */
        bool plain;
        uint64_t retx;          /* Data_PDUs sent again */
    } cases[] = {
        { (1u << 3) | (1u << 8), false, 0 },
        { (1u << 3) | (1u << 8) | (1u << 9), false, 1 },
        { (1u << 3) | (1u << 8) | (1u << 9), true, 3 },
    };
    uint32_t dest = H_RX;
    pmul_stats st;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        h_node *t = fec_tx(10, 128), *r = h_node_new(H_RX);

        h_submit(t, 0, 20 * FRAG, &dest, 1, 6);
        run_pair(t, r, cases[i].drop, cases[i].plain, false);
        pmul_engine_stats(t->e, &st);
        assert_int_equal(st.retx_data_pdus, cases[i].retx);
        assert_int_equal(h_find_ev(r, PMUL_EV_DELIVERED, 0)->ev.payload_len, 20 * FRAG);
        assert_int_equal(h_find_ev(r, PMUL_EV_DELIVERED, 0)->payload[FRAG * 8 + 5],
                         (uint8_t)((FRAG * 8 + 5) * 13u + 7u));
        h_node_free(t);
        h_node_free(r);
    }
}

/* ---- receivers that do not know PDU type 8 ------------------------------- */

/* Step t to its next deadlines until a plain Address_PDU leaves. */
static size_t
run_to_plain(h_node *n, uint64_t *t, size_t from)
{
    size_t guard, i;

    for (guard = 0; guard < 100; guard++) {
        *t = pmul_engine_next_deadline(n->e);
        assert_true(*t != UINT64_MAX);
        pmul_engine_expire(n->e, h_now(*t));
        h_drain(n, *t);
        for (i = from; i < n->npkt; i++)
            if (h_type(n, i) == PMUL_PDU_ADDRESS)
                return i;
    }
    fail();
    return 0;
}

/* Complete message msid at both destinations. */
static void
ack_both(h_node *n, uint64_t t, uint32_t msid)
{
    assert_int_equal(h_feed_ack(n, t, H_RX, H_TX, msid, NULL, 0), 0);
    assert_int_equal(h_feed_ack(n, t + 1, H_RX2, H_TX, msid, NULL, 0), 0);
    h_drain(n, t + 1);
}

/*
 * A receiver of the original ACP 142 drops FEC_Address_PDUs as an unknown
 * type and never learns it is addressed.  H_RX2 stays silent: three asks
 * (a FEC_Address_PDU alone each), then three by a plain Address_PDU, then
 * the whole message under a plain Address_PDU and without repairs.  Its answer to that, after four silent
 * FEC rounds, makes it a node that does not know type 8: the next four
 * messages to it go plain (Address_PDU, sources only), the fifth with FEC
 * again (a trial), and its answer to that clears it.
 */
static void
test_pmul_txfec_silent_dest_gets_plain_address_after_asks(void **state)
{
    h_node *n = fec_tx(10, 128);
    uint32_t dests[] = { H_RX, H_RX2 }, msid;
    pmul_stats st;
    size_t first, plain, i, k;
    uint64_t t;

    (void)state;
    msid = h_submit(n, 0, 20 * FRAG, dests, 2, 6);
    assert_int_equal(h_drain(n, 0), 1 + 20 + 2);
    assert_int_equal(h_feed_ack(n, 100, H_RX, H_TX, msid, NULL, 0), 0);
    first = n->npkt;
    t = 100;
    plain = run_to_plain(n, &t, first);
    assert_int_equal(plain - first, 3);                 /* the asks */
    for (i = first; i < plain; i++)
        assert_int_equal(h_type(n, i), PMUL_PDU_FEC_ADDRESS);
    assert_int_equal(h_pdu(n, plain).u.address.total_pdus, 20);
    assert_int_equal(h_pdu(n, plain).u.address.dest_cnt, 1);
    assert_int_equal(h_pdu(n, plain).u.address.dests[0].dest_id, H_RX2);
    /* It is asked again plainly (it may hold the data as unidentified
     * Data_PDUs), three times; then the whole message, without repair. */
    for (k = 0; k < 3; k++) {
        assert_int_equal(n->npkt, plain + 1);
        plain = run_to_plain(n, &t, plain + 1);
    }
    assert_int_equal(n->npkt, plain + 1 + 20);
    for (i = 0; i < 20; i++)
        assert_int_equal(h_pdu(n, plain + 1 + i).u.data.seq, i + 1);
    assert_int_equal(h_feed_ack(n, t + 100, H_RX2, H_TX, msid, NULL, 0), 0);
    h_drain(n, t + 100);
    assert_int_equal(h_count_ev(n, PMUL_EV_MSG_DONE), 1);
    pmul_engine_stats(n->e, &st);
    assert_int_equal(st.fec_plain_fallbacks, 1);
    assert_int_equal(st.fec_blind_learned, 1);

    for (k = 0; k < 5; k++) {
        t += 1000;
        first = n->npkt;
        msid = h_submit(n, t, 20 * FRAG, dests, 2, 6);
        /* Plain: Address_PDU and the 20 sources; the trial: FEC. */
        assert_int_equal(h_drain(n, t), k < 4 ? 1 + 20 : 1 + 20 + 2);
        assert_int_equal(h_type(n, first), k < 4 ? PMUL_PDU_ADDRESS : PMUL_PDU_FEC_ADDRESS);
        ack_both(n, t + 100, msid);
    }
    /* The answer to the trial cleared it: FEC from now on. */
    first = n->npkt;
    h_submit(n, t + 1000, 20 * FRAG, dests, 2, 6);
    h_drain(n, t + 1000);
    assert_int_equal(h_type(n, first), PMUL_PDU_FEC_ADDRESS);
    pmul_engine_stats(n->e, &st);
    assert_int_equal(st.fec_blind_learned, 1);
    h_node_free(n);
}

/*
 * A node that once answered a FEC_Address_PDU reads them: its silence is
 * a lost Ack or an outage, and its message keeps FEC (the asks, then the
 * whole message under a FEC_Address_PDU with its repairs).
 */
static void
test_pmul_txfec_silent_fec_reader_keeps_fec(void **state)
{
    h_node *n = fec_tx(10, 128);
    uint32_t dests[] = { H_RX, H_RX2 }, msid;
    pmul_stats st;
    size_t first, i;
    uint64_t t;

    (void)state;
    msid = h_submit(n, 0, 20 * FRAG, dests, 2, 6);
    h_drain(n, 0);
    ack_both(n, 100, msid);
    msid = h_submit(n, 1000, 20 * FRAG, dests, 2, 6);
    h_drain(n, 1000);
    assert_int_equal(h_feed_ack(n, 1100, H_RX, H_TX, msid, NULL, 0), 0);
    first = n->npkt;
    h_run(n, 1100, 60000);
    assert_true(n->npkt > first + 3 + 20);
    for (i = first; i < n->npkt; i++)
        assert_int_not_equal(h_type(n, i), PMUL_PDU_ADDRESS);
    assert_true(h_count(n, first, PMUL_PDU_FEC_ADDRESS) > 3);
    pmul_engine_stats(n->e, &st);
    assert_int_equal(st.fec_plain_fallbacks, 0);
    (void)t;
    h_node_free(n);
}

/*
 * Our receiver, announced by FEC_Address_PDUs, then plainly: it lost 3
 * sources of round 1 and kept its 2 repairs, and every Ack of it is lost
 * until the transmitter has fallen back to a plain Address_PDU (a node
 * never heard on a FEC_Address_PDU).  The plain announcement leaves its
 * decoder be: the first source of the whole resend it lacks completes
 * the block from the repairs it holds, and it delivers the message
 * exactly, once, without a Total raised.
 */
static void
test_pmul_txfec_fec_receiver_then_plain_address(void **state)
{
    h_node *t = fec_tx(10, 128), *r = h_node_new(H_RX);
    uint32_t dest = H_RX;
    pmul_stats st;

    (void)state;
    h_submit(t, 0, 20 * FRAG, &dest, 1, 6);
    run_pair(t, r, (1u << 4) | (1u << 5) | (1u << 6), false, true);   /* sources 4-6 */
    pmul_engine_stats(t->e, &st);
    assert_int_equal(st.fec_plain_fallbacks, 1);
    assert_int_equal(h_find_ev(r, PMUL_EV_DELIVERED, 0)->ev.payload_len, 20 * FRAG);
    assert_int_equal(h_find_ev(r, PMUL_EV_DELIVERED, 0)->payload[FRAG * 4 + 5],
                     (uint8_t)((FRAG * 4 + 5) * 13u + 7u));
    pmul_engine_stats(r->e, &st);
    assert_int_equal(st.rx_total_raised, 0);
    assert_true(st.rx_fec_recovered > 0);
    h_node_free(t);
    h_node_free(r);
}

/*
 * A receiver that reads FEC_Address_PDUs but does not decode lists the
 * same sources after every round of repairs.  H_RX decodes: its list
 * shrinks by one per round (4, 3, 2, 1 of them), so every round is 4 fresh
 * repairs (the union of both lists is larger).  H_RX3's list of 4 stays:
 * after 16 repairs it is a plain peer and gets its 4 sources.  In the next
 * message it is still one: its source 3 is planned as a source, and
 * H_RX's 4 then goes as a source too (a tie), where two FEC receivers
 * missing 3 and 4 got one repair.
 */
static void
test_pmul_txfec_repairs_unused_plain_peer(void **state)
{
    h_node *n = fec_tx(10, 128);
    uint32_t dests[] = { H_RX, H_RX3 }, msid;
    static const uint16_t rx[] = { 2, 5, 6, 8 }, rx3[] = { 3, 9, 11, 13 };
    static const uint16_t want[] = { 2, 3, 9, 11, 13 };
    static const uint16_t a3[] = { 3 }, a4[] = { 4 }, want2[] = { 3, 4 };
    pmul_stats st;
    uint64_t t = 100;
    size_t first;
    unsigned k;

    (void)state;
    msid = h_submit(n, 0, 20 * FRAG, dests, 2, 6);
    h_drain(n, 0);
    for (k = 0; k < 5; k++, t += 100) {
        assert_int_equal(h_feed_ack(n, t, H_RX, H_TX, msid, rx, (uint16_t)(4 - (k > 0 ? k - 1 : 0))), 0);
        assert_int_equal(h_feed_ack(n, t + 1, H_RX3, H_TX, msid, rx3, 4), 0);
        first = n->npkt;
        h_drain(n, t + 1);
        if (k < 4)
            assert_int_equal(h_count(n, first, PMUL_PDU_DATA), 4);  /* repairs */
    }
    /* After 4 rounds of 4 repairs: H_RX3 gets its sources, and H_RX's
     * one missing goes as a source too (a tie). */
    seqs_are(n, first + 1, want, 5);
    pmul_engine_stats(n->e, &st);
    assert_int_equal(st.fec_nodec_learned, 1);
    assert_int_equal(h_feed_ack(n, t, H_RX, H_TX, msid, NULL, 0), 0);
    assert_int_equal(h_feed_ack(n, t + 1, H_RX3, H_TX, msid, NULL, 0), 0);
    h_drain(n, t + 1);
    assert_int_equal(h_count_ev(n, PMUL_EV_MSG_DONE), 1);

    t += 1000;
    msid = h_submit(n, t, 20 * FRAG, dests, 2, 6);
    assert_int_equal(h_drain(n, t), 1 + 20 + 2);
    assert_int_equal(h_feed_ack(n, t + 100, H_RX, H_TX, msid, a4, 1), 0);
    assert_int_equal(h_feed_ack(n, t + 101, H_RX3, H_TX, msid, a3, 1), 0);
    first = n->npkt;
    assert_int_equal(h_drain(n, t + 101), 1 + 2);
    seqs_are(n, first + 1, want2, 2);
    h_node_free(n);
}

/* ---- the loss estimate (cfg.fec_adaptive) -------------------------------- */

static h_node *
fec_tx_adaptive(uint32_t rate_bps)
{
    pmul_config c;

    h_config(&c, H_TX);
    c.link_rate_bps = rate_bps;
    c.fec = true;
    /* Per-message rounds are the subject: a candidate waiting for a
     * joint round (test_pmul_txjoint) would move them. */
    c.fec_joint = false;
    return h_node_new_cfg(&c);
}

/*
 * The first Ack after round 1 (20 sources + 2 repairs) lists 6 sources.
 * A receiver that has not shown that it decodes: only the sources count
 * (one that drops repairs would look lossier than it is): 14 of 20
 * arrived, a loss of 300 per mille.  Round 2 sends the 6 sources and, for
 * the margin, 5 repairs: 11 symbols give the 6 needed with about 84 %
 * probability at that loss (with_margin).  The next message to that
 * receiver carries floor(20 x 300 / 700) = 8 proactive repairs instead of
 * the ratio's 2.  One that has shown it (dec_ok): the repairs count too,
 * 14 of 22 arrived, 364 per mille: 6 sources and 7 repairs, then
 * floor(20 x 364 / 636) = 11 proactive repairs.
 */
static void
adaptive_first_ack(bool proven, size_t reps2, uint8_t reps_next)
{
    h_node *n = fec_tx_adaptive(0);
    uint32_t dest = H_RX, msid;
    static const uint16_t miss[] = { 1, 2, 3, 4, 5, 6 };
    static const uint16_t want[] = { 1, 2, 3, 4, 5, 6, 23, 24, 25, 26, 27, 28, 29 };
    pmul_dststate *ds;
    size_t first;

    msid = h_submit(n, 0, 20 * FRAG, &dest, 1, 6);
    assert_int_equal(h_drain(n, 0), 1 + 20 + 2);
    assert_int_equal(pmul__dst_get(n->e, H_RX, &ds), 0);
    ds->dec_ok = proven;
    assert_int_equal(h_feed_ack(n, 100, H_RX, H_TX, msid, miss, 6), 0);
    first = n->npkt;
    assert_int_equal(h_drain(n, 100), 1 + 6 + reps2);
    seqs_are(n, first + 1, want, 6 + reps2);
    assert_int_equal(h_feed_ack(n, 200, H_RX, H_TX, msid, NULL, 0), 0);
    h_drain(n, 200);
    assert_int_equal(h_count_ev(n, PMUL_EV_MSG_DONE), 1);

    first = n->npkt;
    h_submit(n, 300, 20 * FRAG, &dest, 1, 6);
    assert_int_equal(h_drain(n, 300), 1 + 20 + reps_next);
    assert_int_equal(fec_params_of(n, first).repair_cnt, reps_next);
    h_node_free(n);
}

static void
test_pmul_txfec_adaptive_margin_from_first_ack(void **state)
{
    (void)state;
    adaptive_first_ack(false, 5, 8);
    adaptive_first_ack(true, 7, 11);
}

/* While another message is being sent, no margin: the same Ack gets its
 * 6 sources alone, and the airtime goes to the other message. */
static void
test_pmul_txfec_adaptive_none_while_link_busy(void **state)
{
    h_node *n = fec_tx_adaptive(0);
    uint32_t dest = H_RX, msid;
    static const uint16_t miss[] = { 1, 2, 3, 4, 5, 6 };
    size_t first;

    (void)state;
    msid = h_submit(n, 0, 20 * FRAG, &dest, 1, 6);
    assert_int_equal(h_drain(n, 0), 1 + 20 + 2);
    h_submit(n, 50, 20 * FRAG, &dest, 1, 6);        /* not drained yet */
    assert_int_equal(h_feed_ack(n, 100, H_RX, H_TX, msid, miss, 6), 0);
    first = n->npkt;
    h_drain(n, 100);
    assert_int_equal(h_count_msg(n, first, PMUL_PDU_DATA, msid), 6);
    h_node_free(n);
}

/*
 * Mid-round Acks trim the margin.  Two receivers lose 6 and 4 sources of
 * round 1 (9600 bit/s, so the round takes time); round 2 is the 6 sources
 * and 7 repairs.  Two repairs into it, one receiver acks complete and the
 * other lists one source: it needs 1, and with the margin at 364 per mille
 * 3 symbols, so 3 of the 5 repairs left go (11 Data_PDUs, not 13).
 */
static void
test_pmul_txfec_adaptive_trim_mid_round(void **state)
{
    h_node *n = fec_tx_adaptive(9600);
    uint32_t dests[] = { H_RX, H_RX2 }, msid;
    static const uint16_t m1[] = { 1, 2, 3, 4, 5, 6 }, m2[] = { 1, 2, 3, 4 }, m3[] = { 1 };
    size_t first, i, k;
    uint64_t t;

    (void)state;
    msid = h_submit(n, 0, 20 * FRAG, dests, 2, 6);
    h_run(n, 0, 21000);
    assert_int_equal(n->npkt, 1 + 20 + 2);
    t = n->pkt[n->npkt - 1].t + 100;
    assert_int_equal(h_feed_ack(n, t, H_RX, H_TX, msid, m1, 6), 0);
    assert_int_equal(h_feed_ack(n, t + 10, H_RX2, H_TX, msid, m2, 4), 0);
    first = n->npkt;
    /* Run until the 6 sources and 2 repairs of round 2 are out. */
    for (k = 0; h_count_msg(n, first, PMUL_PDU_DATA, msid) < 8; k++) {
        assert_true(k < 1000);
        t = pmul_engine_next_deadline(n->e);
        pmul_engine_expire(n->e, h_now(t));
        h_drain(n, t);
    }
    assert_int_equal(h_feed_ack(n, t + 1, H_RX, H_TX, msid, NULL, 0), 0);
    assert_int_equal(h_feed_ack(n, t + 2, H_RX2, H_TX, msid, m3, 1), 0);
    h_run(n, t + 2, t + 30000);
    k = 0;
    for (i = first; i < n->npkt && h_count_ev(n, PMUL_EV_MSG_DONE) == 0; i++) {
        if (i > first && h_type(n, i) != PMUL_PDU_DATA)
            break;                      /* the next round */
        k += h_type(n, i) == PMUL_PDU_DATA;
    }
    assert_int_equal(k, 6 + 2 + 3);
    h_node_free(n);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pmul_txfec_round1_sources_then_repairs),
        cmocka_unit_test(test_pmul_txfec_round1_blocks_in_seq_order),
        cmocka_unit_test(test_pmul_txfec_rtx_max_need_fresh_repairs),
        cmocka_unit_test(test_pmul_txfec_rtx_sources_when_not_fewer),
        cmocka_unit_test(test_pmul_txfec_plain_peer_gets_sources),
        cmocka_unit_test(test_pmul_txfec_only_plain_peers_no_fec),
        cmocka_unit_test(test_pmul_txfec_emcon_repetitions_fresh_repairs),
        cmocka_unit_test(test_pmul_txfec_receivers_complete),
        cmocka_unit_test(test_pmul_txfec_silent_dest_gets_plain_address_after_asks),
        cmocka_unit_test(test_pmul_txfec_silent_fec_reader_keeps_fec),
        cmocka_unit_test(test_pmul_txfec_fec_receiver_then_plain_address),
        cmocka_unit_test(test_pmul_txfec_repairs_unused_plain_peer),
        cmocka_unit_test(test_pmul_txfec_adaptive_margin_from_first_ack),
        cmocka_unit_test(test_pmul_txfec_adaptive_none_while_link_busy),
        cmocka_unit_test(test_pmul_txfec_adaptive_trim_mid_round),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
