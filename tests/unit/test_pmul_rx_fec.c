/*
 * NAME
 *	test_pmul_rx_fec - scripted tests of FEC repair on the P_MUL receiver
 * SYNOPSIS
 *	meson test -C BUILD --no-rebuild -v pmul_rx_fec
 * DESCRIPTION
 *	Drives one engine as a receiver of messages announced by a
 *	FEC_Address_PDU (docs/wire.md 10, fec-contract): the announcement,
 *	source Data_PDUs and repair Data_PDUs are built with the codec and the
 *	FEC encoder, fed in with losses, and the DELIVERED payload and the
 *	Ack_PDUs are checked.  Covered: repairs rebuilding lost sources in two
 *	blocks (the short last PDU among them) byte-identical; repairs before
 *	the announcement; a repair after completion draws no Ack; the missing
 *	list names exactly k_b - held_b sources per block; bad parameters and
 *	a changed layout; allocation failure at every step while a repair
 *	completes the message.
 * SECURITY
 *	Test code.
 * DIAGNOSTICS
 *	cmocka.
 * SEE ALSO
 *	test_pmul_engine.h, pmul/pmul_rx.c, pmul/pmul_fec.h
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "test_pmul_engine.h"

#include "pmul/pmul_fec.h"

/* A message of N = 10 source PDUs of 100 octets, the last 40, in two
 * blocks of 5, announced with 3 repairs per block. */
#define F_N 10
#define F_S 100
#define F_LAST 40
#define F_LEN ((F_N - 1) * F_S + F_LAST)
#define F_MSID 9

typedef struct fmsg {
    uint8_t payload[F_LEN];
    pmul_fec_params p;
    pmul_fec *enc;
} fmsg;

static void
fm_init(fmsg *fm)
{
    size_t i;

    for (i = 0; i < F_LEN; i++)
        fm->payload[i] = (uint8_t)(i * 7u + (i >> 3) + F_MSID);
    memset(&fm->p, 0, sizeof(fm->p));
    assert_int_equal(pmul_fec_layout(F_N, 5, &fm->p.blocks), 0);
    assert_int_equal(fm->p.blocks.block_cnt, 2);
    fm->p.symbol_len = F_S;
    fm->p.last_len = F_LAST;
    fm->p.repair_cnt = 3;
    assert_int_equal(pmul_fec_new(&fm->enc, NULL), 0);
}

static void
fm_fini(fmsg *fm)
{
    pmul_fec_free(fm->enc);
}

static h_node *
fec_node(void)
{
    pmul_config c;

    h_config(&c, H_RX);
    c.link_rate_bps = 0;
    return h_node_new_cfg(&c);
}

/* FEC_Address_PDU of msid listing dest, with the given FEC_ID and
 * parameters. */
static int
f_addr_for(h_node *n, uint64_t t, uint32_t msid, uint32_t dest, uint8_t fec_id,
           const uint8_t *par, uint8_t par_len)
{
    pmul_dest_entry d;
    pmul_pdu p;

    d.dest_id = dest;
    d.msg_seq_no = 1;
    d.reserved = NULL;
    memset(&p, 0, sizeof(p));
    p.type = PMUL_PDU_FEC_ADDRESS;
    p.priority = 5;
    p.source_id = H_TX;
    p.msid = msid;
    p.u.address.total_pdus = F_N;
    p.u.address.expiry_time = H_WALL0 + 3600;
    p.u.address.fec_id = fec_id;
    p.u.address.fec_param_len = par_len;
    p.u.address.fec_params = par;
    p.u.address.dest_cnt = 1;
    p.u.address.dests = &d;
    return h_feed_pdu(n, t, &p);
}

/* The same listing H_RX for our message. */
static int
f_addr_raw(h_node *n, uint64_t t, uint8_t fec_id, const uint8_t *par, uint8_t par_len)
{
    return f_addr_for(n, t, F_MSID, H_RX, fec_id, par, par_len);
}

/* FEC_Address_PDU of msid listing dest with the parameters par. */
static int
f_addr_msg(h_node *n, uint64_t t, uint32_t msid, uint32_t dest, const pmul_fec_params *par)
{
    uint8_t b[PMUL_FEC_PARAM_LEN];

    assert_int_equal(pmul_fec_params_encode(par, b, sizeof(b)), PMUL_FEC_PARAM_LEN);
    return f_addr_for(n, t, msid, dest, PMUL_FEC_ID_RS8, b, sizeof(b));
}

static int
f_addr(h_node *n, uint64_t t, const pmul_fec_params *par)
{
    return f_addr_msg(n, t, F_MSID, H_RX, par);
}

static int
f_data(h_node *n, uint64_t t, uint16_t seq, const uint8_t *frag, size_t len)
{
    return h_feed_frag(n, t, H_TX, F_MSID, seq, frag, len);
}

static int
f_src(h_node *n, uint64_t t, const fmsg *fm, uint16_t seq)
{
    return f_data(n, t, seq, fm->payload + (size_t)(seq - 1) * F_S, seq == F_N ? F_LAST : F_S);
}

/* Sources 1..N except those in lost[] (ascending), 10 ms apart from t. */
static void
f_srcs_but(h_node *n, uint64_t t, const fmsg *fm, const uint16_t *lost, size_t lost_cnt)
{
    uint16_t s;
    size_t i = 0;

    for (s = 1; s <= F_N; s++, t += 10) {
        if (i < lost_cnt && lost[i] == s) {
            i++;
            continue;
        }
        assert_int_equal(f_src(n, t, fm, s), 0);
    }
}

/* Repair j of block b, as the transmitter numbers it. */
static int
f_rep(h_node *n, uint64_t t, fmsg *fm, uint16_t b, unsigned j)
{
    const uint8_t *src[5];
    uint8_t out[F_S];
    unsigned k = pmul_fec_block_k(&fm->p.blocks, b), i;
    uint16_t s0, seq;

    assert_int_equal(pmul_fec_seq_of(&fm->p.blocks, b, 0, &s0), 0);
    assert_int_equal(pmul_fec_seq_of(&fm->p.blocks, b, k + j, &seq), 0);
    for (i = 0; i < k; i++)
        src[i] = fm->payload + (size_t)(s0 - 1 + i) * F_S;
    assert_int_equal(pmul_fec_encode(fm->enc, src, k, F_S, s0 + k - 1u == F_N ? F_LAST : F_S, j,
                                     out), 0);
    return f_data(n, t, seq, out, F_S);
}

static void
check_delivered(const h_node *n, const fmsg *fm)
{
    const h_ev *ev = h_find_ev(n, PMUL_EV_DELIVERED, 0);

    assert_non_null(ev);
    assert_int_equal(h_count_ev(n, PMUL_EV_DELIVERED), 1);
    assert_int_equal(ev->ev.payload_len, F_LEN);
    assert_memory_equal(ev->payload, fm->payload, F_LEN);
}

/* The Ack entries for our message the node sent. */
typedef struct f_ackinfo {
    size_t acks;                /* entries */
    size_t complete;            /* of which complete */
    uint16_t miss[64];          /* the last entry's missing list */
    uint16_t miss_cnt;
} f_ackinfo;

static f_ackinfo
f_acks(const h_node *n)
{
    f_ackinfo a;
    size_t i;
    uint16_t j, x;

    memset(&a, 0, sizeof(a));
    for (i = 0; i < n->npkt; i++) {
        pmul_pdu p = h_pdu(n, i);

        if (p.type != PMUL_PDU_ACK)
            continue;
        for (j = 0; j < p.u.ack.entry_cnt; j++) {
            if (p.u.ack.entries[j].msid != F_MSID)
                continue;
            a.acks++;
            if (p.u.ack.entries[j].missing_cnt == 0)
                a.complete++;
            a.miss_cnt = p.u.ack.entries[j].missing_cnt;
            for (x = 0; x < a.miss_cnt && x < 64; x++)
                a.miss[x] = p.u.ack.entries[j].missing[x];
        }
    }
    return a;
}

static pmul_stats
f_stats(const h_node *n)
{
    pmul_stats st;

    pmul_engine_stats(n->e, &st);
    return st;
}

/* Run until the message is delivered, check it, its complete Ack (sent
 * twice for a FEC message on a link of its own: pmul_rxack.c
 * complete_copy_pays) and the sources FEC rebuilt, and free everything. */
static void
f_end(h_node *n, fmsg *fm, uint64_t t, uint64_t recovered)
{
    f_ackinfo a;

    h_run(n, t, t + 20000);
    check_delivered(n, fm);
    a = f_acks(n);
    assert_int_equal(a.complete, 2);
    assert_int_equal(f_stats(n).rx_fec_recovered, recovered);
    assert_int_equal(f_stats(n).rx_held_bytes, 0);
    fm_fini(fm);
    h_node_free(n);
}

/* A receiver that heard the announcement and the sources but lost[]. */
static h_node *
f_start(fmsg *fm, const uint16_t *lost, size_t lost_cnt)
{
    h_node *n = fec_node();

    fm_init(fm);
    assert_int_equal(f_addr(n, 0, &fm->p), 0);
    f_srcs_but(n, 10, fm, lost, lost_cnt);
    return n;
}

/* Two sources lost in each block (the short last PDU among them); two
 * repairs per block rebuild them byte for byte, and the complete Ack
 * follows the DELIVERED event. */
static void
test_fec_repairs_complete_two_blocks(void **state)
{
    static const uint16_t lost[] = { 2, 4, 7, 10 };
    h_node *n;
    fmsg fm;

    (void)state;
    n = f_start(&fm, lost, 4);
    h_drain(n, 200);
    assert_int_equal(h_count_ev(n, PMUL_EV_DELIVERED), 0);
    assert_int_equal(f_rep(n, 300, &fm, 0, 0), 0);
    assert_int_equal(f_rep(n, 310, &fm, 1, 0), 0);
    assert_int_equal(f_rep(n, 320, &fm, 0, 1), 0);
    h_drain(n, 320);
    assert_int_equal(h_count_ev(n, PMUL_EV_DELIVERED), 0);     /* block 1 short */
    assert_int_equal(f_stats(n).rx_fec_recovered, 2);
    assert_int_equal(f_rep(n, 330, &fm, 1, 1), 0);
    assert_int_equal(f_stats(n).rx_fec_rejected, 0);
    f_end(n, &fm, 330, 4);
}

/* Repairs that arrive before the announcement are held as early data and
 * used once the layout is known: the announcement completes the message. */
static void
test_fec_repairs_before_announcement(void **state)
{
    static const uint16_t lost[] = { 1, 3, 8 };
    h_node *n = fec_node();
    fmsg fm;

    (void)state;
    fm_init(&fm);
    assert_int_equal(f_rep(n, 0, &fm, 0, 0), 0);
    assert_int_equal(f_rep(n, 5, &fm, 1, 0), 0);
    assert_int_equal(f_rep(n, 6, &fm, 0, 1), 0);
    assert_int_equal(f_rep(n, 7, &fm, 1, 1), 0);       /* one more than needed */
    f_srcs_but(n, 10, &fm, lost, 3);
    h_drain(n, 200);
    assert_int_equal(h_count_ev(n, PMUL_EV_DELIVERED), 0);
    assert_int_equal(f_addr(n, 300, &fm.p), 0);
    f_end(n, &fm, 300, 3);
}

/* Proactive repair (round 1 sends r repairs per block after the sources):
 * Data_PDU N is not the round's last, so no Ack leaves before the repairs;
 * the first repair of the block rebuilds the lost source and the one Ack
 * is the complete one. */
static void
test_fec_proactive_no_ack_before_repairs(void **state)
{
    h_node *n = fec_node();
    uint64_t t = 10;
    uint16_t s;
    unsigned j;
    fmsg fm;

    (void)state;
    fm_init(&fm);
    assert_int_equal(f_addr(n, 0, &fm.p), 0);
    for (s = 1; s <= F_N; s++, t += 10) {
        if (s != 3)
            assert_int_equal(f_src(n, t, &fm, s), 0);
        h_drain(n, t);
    }
    assert_int_equal(f_acks(n).acks, 0);
    for (j = 0; j < 3; j++) {
        assert_int_equal(f_rep(n, t, &fm, 0, j), 0);
        h_drain(n, t);
        t += 10;
        assert_int_equal(f_rep(n, t, &fm, 1, j), 0);
        h_drain(n, t);
        t += 10;
    }
    assert_int_equal(f_stats(n).rx_fec_unused, 5);
    assert_int_equal(f_acks(n).acks, 1);
    f_end(n, &fm, t, 1);
}

/* A repair after completion is dropped silently: no complete Ack again
 * (a duplicate source still draws one, as before). */
static void
test_fec_repair_after_complete_no_reack(void **state)
{
    h_node *n;
    fmsg fm;

    (void)state;
    n = f_start(&fm, NULL, 0);
    h_run(n, 200, 5000);
    check_delivered(n, &fm);
    assert_int_equal(f_acks(n).complete, 2);           /* and its copy */
    /* Past ACK_PDU_TIME, when a duplicate would re-ack. */
    assert_int_equal(f_rep(n, 20000, &fm, 0, 0), 0);
    assert_int_equal(f_rep(n, 20010, &fm, 1, 2), 0);
    h_run(n, 20010, 40000);
    assert_int_equal(f_acks(n).complete, 2);
    assert_int_equal(f_stats(n).rx_fec_unused, 2);
    assert_int_equal(f_src(n, 40000, &fm, 3), PMUL_ERR_DUPLICATE);
    h_run(n, 40000, 60000);
    assert_int_equal(f_acks(n).complete, 3);
    fm_fini(&fm);
    h_node_free(n);
}

/* Ack rule 3: per undecodable block exactly k_b - held_b of its lowest
 * missing sources, never a repair number. */
static void
test_fec_missing_list_counts_needs(void **state)
{
    static const uint16_t lost[] = { 1, 2, 3, 6, 7, 8 };
    static const uint16_t want[] = { 1, 2, 6 };
    h_node *n;
    f_ackinfo a;
    fmsg fm;

    (void)state;
    n = f_start(&fm, lost, 6);
    /* Block 0 holds 2 sources + 1 repair (needs 2); block 1 holds
     * 2 sources + 2 repairs (needs 1). */
    assert_int_equal(f_rep(n, 200, &fm, 0, 0), 0);
    assert_int_equal(f_rep(n, 210, &fm, 1, 0), 0);
    assert_int_equal(f_rep(n, 220, &fm, 1, 1), 0);
    h_run(n, 220, 9000);
    a = f_acks(n);
    assert_true(a.acks >= 1);
    assert_int_equal(a.complete, 0);
    assert_int_equal(a.miss_cnt, 3);
    assert_memory_equal(a.miss, want, sizeof(want));
    /* The transmitter resends exactly the listed sources: complete. */
    assert_int_equal(f_src(n, 10000, &fm, 1), 0);
    assert_int_equal(f_src(n, 10010, &fm, 2), 0);
    assert_int_equal(f_src(n, 10020, &fm, 6), 0);
    f_end(n, &fm, 10020, 3);             /* 3, 7 and 8 rebuilt */
}

/* Parameters that fail to decode: counted, the message is received
 * plainly (all its missing sources listed, repairs dropped silently). */
static void
test_fec_bad_params_plain(void **state)
{
    static const uint8_t bad[PMUL_FEC_PARAM_LEN] = { 1, 3, 0, 0, 0, F_S, 0, F_LAST };
    static const uint16_t lost[] = { 2, 3 };
    h_node *n = fec_node();
    f_ackinfo a;
    fmsg fm;

    (void)state;
    fm_init(&fm);
    assert_int_equal(f_addr_raw(n, 0, PMUL_FEC_ID_RS8, bad, sizeof(bad)), 0);
    assert_int_equal(f_stats(n).rx_fec_rejected, 1);
    f_srcs_but(n, 10, &fm, lost, 2);
    assert_int_equal(f_rep(n, 200, &fm, 0, 0), 0);
    assert_int_equal(f_rep(n, 210, &fm, 0, 1), 0);
    assert_int_equal(f_stats(n).rx_fec_unused, 2);
    assert_int_equal(f_stats(n).rx_total_raised, 0);
    h_run(n, 210, 9000);
    a = f_acks(n);
    assert_int_equal(a.miss_cnt, 2);
    assert_int_equal(a.miss[0], 2);
    assert_int_equal(a.miss[1], 3);
    /* A later valid announcement does not switch FEC on midway. */
    assert_int_equal(f_addr(n, 9500, &fm.p), 0);
    assert_int_equal(f_rep(n, 9600, &fm, 0, 0), 0);
    assert_int_equal(h_count_ev(n, PMUL_EV_DELIVERED), 0);
    assert_int_equal(f_src(n, 10000, &fm, 2), 0);
    assert_int_equal(f_src(n, 10010, &fm, 3), 0);
    f_end(n, &fm, 10010, 0);
}

/* An unknown FEC_ID is received plainly too; a later announcement with
 * another layout is ignored and the first one kept. */
static void
test_fec_unknown_id_and_changed_layout(void **state)
{
    static const uint16_t lost[] = { 4 };
    uint8_t par[PMUL_FEC_PARAM_LEN];
    pmul_fec_params other;
    h_node *n = fec_node();
    fmsg fm;

    (void)state;
    fm_init(&fm);
    assert_int_equal(pmul_fec_params_encode(&fm.p, par, sizeof(par)), PMUL_FEC_PARAM_LEN);
    assert_int_equal(f_addr_raw(n, 0, 0x82, par, sizeof(par)), 0);
    assert_int_equal(f_stats(n).rx_fec_rejected, 1);
    h_node_free(n);

    n = fec_node();
    assert_int_equal(f_addr(n, 0, &fm.p), 0);
    other = fm.p;
    assert_int_equal(pmul_fec_layout(F_N, 10, &other.blocks), 0);   /* one block */
    assert_int_equal(f_addr(n, 5, &other), 0);
    assert_int_equal(f_stats(n).rx_fec_rejected, 1);
    f_srcs_but(n, 10, &fm, lost, 1);
    assert_int_equal(f_rep(n, 200, &fm, 0, 0), 0);     /* first layout's numbering */
    f_end(n, &fm, 200, 1);
}

/*
 * Every allocation from the k-th on fails while the repair that completes
 * the message arrives, for every k: never a complete Ack without the
 * DELIVERED event; once memory is back the message is delivered exactly
 * once, byte-identical, and nothing leaks.
 */
static void
test_fec_alloc_failure_every_step(void **state)
{
    static const uint16_t lost[] = { 2, 7 };
    bool reached_end = false;
    fmsg fm;
    long k;

    (void)state;
    fm_init(&fm);
    for (k = 0; !reached_end; k++) {
        h_node *n = fec_node();

        assert_int_equal(f_addr(n, 0, &fm.p), 0);
        f_srcs_but(n, 10, &fm, lost, 2);
        assert_int_equal(f_rep(n, 150, &fm, 0, 0), 0);
        h_drain(n, 150);
        tmem_fail_after(&n->tm, k);
        (void)f_rep(n, 200, &fm, 1, 0);
        h_run(n, 200, 5000);
        reached_end = h_failed(&n->tm) == 0;
        if (f_acks(n).complete > 0)
            assert_int_equal(h_count_ev(n, PMUL_EV_DELIVERED), 1);
        n->tm.armed = false;
        /* The transmitter answers the Acks with another repair. */
        (void)f_rep(n, 6000, &fm, 1, 1);
        h_run(n, 6000, 70000);
        check_delivered(n, &fm);
        assert_true(f_acks(n).complete >= 1);
        h_node_free(n);
    }
    print_message("allocation failure loop: %ld steps\n", k);
    assert_true(k > 3);
    fm_fini(&fm);
}

/* A block holds k symbols but decoding it runs short of memory: the Acks
 * meanwhile list its missing source (never an empty list, which would say
 * "received"), and the Ack timer decodes it once memory is back. */
static void
test_fec_recovery_short_of_memory_acks_missing(void **state)
{
    static const uint16_t lost[] = { 7 };
    h_node *n;
    f_ackinfo a;
    fmsg fm;

    (void)state;
    n = f_start(&fm, lost, 1);
    h_run(n, 110, 3000);                /* the round's Ack: [7] */
    a = f_acks(n);
    assert_int_equal(a.acks, 1);
    n->tm.max_len = F_S - 1;            /* the recovered symbols' scratch */
    assert_int_equal(f_rep(n, 3000, &fm, 1, 0), 0);
    h_run(n, 3000, 15000);              /* ACK_PDU_TIME after the repair */
    assert_int_equal(f_stats(n).rx_fec_recovered, 0);
    assert_int_equal(h_count_ev(n, PMUL_EV_DELIVERED), 0);
    a = f_acks(n);
    assert_true(a.acks >= 2);
    assert_int_equal(a.complete, 0);
    assert_int_equal(a.miss_cnt, 1);
    assert_int_equal(a.miss[0], 7);
    n->tm.max_len = 0;
    f_end(n, &fm, 15000, 1);
}

/* The rob's side of it: repairs above the Total held (budgets charged, not
 * in the message length, never assembled), lookup after out-of-order
 * arrival, and state charged beside the fragments. */
static void
test_fec_rob_extra_fragments(void **state)
{
    static const uint8_t a[3] = { 1, 2, 3 }, b[3] = { 4, 5, 6 }, x[3] = { 9, 9, 9 };
    pmul_budget src = { 0, 4096 }, all = { 0, 4096 };
    struct tmem tm = { false, 0, 0, 0, 0 };
    mem m = tmem_make(&tm);
    const uint8_t *f;
    uint8_t *out;
    size_t len;
    pmul_rob r;

    (void)state;
    pmul_rob_init(&r, &m, 6, &src, &all);
    assert_int_equal(pmul_rob_put(&r, 5, x, 3), 1);          /* early: any number */
    assert_int_equal(pmul_rob_put(&r, 2, b, 3), 1);
    assert_int_equal(pmul_rob_set_total(&r, 2), 0);
    assert_int_equal(r.data_len, 3);                            /* 5 is above */
    assert_int_equal(pmul_rob_put(&r, 4, x, 3), PMUL_ERR_INCONSISTENT);
    pmul_rob_set_extra(&r, 10);
    assert_int_equal(pmul_rob_put(&r, 4, x, 3), 1);          /* not against max_len */
    assert_int_equal(pmul_rob_put(&r, 11, x, 3), PMUL_ERR_INCONSISTENT);
    assert_int_equal(r.data_len, 3);
    assert_true(pmul_rob_get(&r, 2, &f, &len));
    assert_int_equal(len, 3);
    assert_memory_equal(f, b, 3);
    assert_false(pmul_rob_get(&r, 1, &f, &len));
    assert_int_equal(pmul_rob_charge(&r, 5000), PMUL_ERR_BUSY);
    assert_int_equal(pmul_rob_charge(&r, 100), 0);
    assert_int_equal(src.used, r.charged);
    pmul_rob_uncharge(&r, 100);
    assert_int_equal(src.used, r.charged);
    assert_int_equal(pmul_rob_put(&r, 1, a, 3), 1);
    assert_true(pmul_rob_is_complete(&r));
    assert_int_equal(pmul_rob_assemble(&r, &out, &len), 0);
    assert_int_equal(len, 6);
    assert_memory_equal(out, a, 3);
    assert_memory_equal(out + 3, b, 3);
    mem_free(&m, out);
    assert_int_equal(src.used, 0);
    assert_int_equal(all.used, 0);
    pmul_rob_fini(&r);
    assert_int_equal(tm.live, 0);
}

/* The source announced with FEC_Address_PDUs before (here another node's
 * message); every FEC_Address_PDU of ours was lost, sources 2 and 7 too,
 * and one repair per block came as early data.  Then the transmitter's
 * plain fallback announces it (pmul_txpeer.c).  The repairs must not
 * raise the Total (the Java tolerance is for sources that never use FEC):
 * the message completes at its true length from the resent sources. */
static h_node *
f_plain_after_fec_source(fmsg *fm)
{
    static const uint16_t lost[] = { 2, 7 };
    h_node *n = fec_node();

    fm_init(fm);
    assert_int_equal(f_addr_msg(n, 0, F_MSID + 1, H_RX + 1, &fm->p), PMUL_ERR_NOT_FOR_US);
    f_srcs_but(n, 10, fm, lost, 2);
    assert_int_equal(f_rep(n, 200, fm, 0, 0), 0);
    assert_int_equal(f_rep(n, 210, fm, 1, 0), 0);
    assert_int_equal(h_feed_addr1(n, 300, H_TX, F_MSID, F_N, H_RX, 1), 0);
    assert_int_equal(f_stats(n).rx_total_raised, 0);
    assert_int_equal(h_count_ev(n, PMUL_EV_DELIVERED), 0);
    return n;
}

static void
test_fec_plain_fallback_keeps_total(void **state)
{
    const h_ev *ev;
    h_node *n;
    f_ackinfo a;
    fmsg fm;

    (void)state;
    n = f_plain_after_fec_source(&fm);
    h_run(n, 300, 9000);
    a = f_acks(n);
    assert_int_equal(a.miss_cnt, 2);
    assert_int_equal(a.miss[0], 2);
    assert_int_equal(a.miss[1], 7);
    /* A later repair is dropped as unusable, not taken as a Total. */
    assert_int_equal(f_rep(n, 9100, &fm, 0, 1), 0);
    assert_int_equal(f_stats(n).rx_total_raised, 0);
    assert_int_equal(f_src(n, 10000, &fm, 2), 0);
    assert_int_equal(f_src(n, 10010, &fm, 7), 0);
    h_drain(n, 10010);
    ev = h_find_ev(n, PMUL_EV_DELIVERED, 0);
    assert_non_null(ev);
    assert_false(ev->ev.total_raised);
    f_end(n, &fm, 10010, 0);
}

/* The same, then a FEC_Address_PDU of the message gets through: the
 * decoder attaches and the early repairs rebuild sources 2 and 7. */
static void
test_fec_plain_then_fec_address_decodes(void **state)
{
    h_node *n;
    fmsg fm;

    (void)state;
    n = f_plain_after_fec_source(&fm);
    assert_int_equal(f_addr(n, 400, &fm.p), 0);
    f_end(n, &fm, 400, 2);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fec_repairs_complete_two_blocks),
        cmocka_unit_test(test_fec_repairs_before_announcement),
        cmocka_unit_test(test_fec_proactive_no_ack_before_repairs),
        cmocka_unit_test(test_fec_repair_after_complete_no_reack),
        cmocka_unit_test(test_fec_missing_list_counts_needs),
        cmocka_unit_test(test_fec_bad_params_plain),
        cmocka_unit_test(test_fec_unknown_id_and_changed_layout),
        cmocka_unit_test(test_fec_alloc_failure_every_step),
        cmocka_unit_test(test_fec_recovery_short_of_memory_acks_missing),
        cmocka_unit_test(test_fec_rob_extra_fragments),
        cmocka_unit_test(test_fec_plain_fallback_keeps_total),
        cmocka_unit_test(test_fec_plain_then_fec_address_decodes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
