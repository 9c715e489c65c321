/*
 * test_mule_spool.c: unit tests of mule/mule_spool (the sans-I/O spool:
 * file format, queue model, recovery).
 *
 * A hand-checked entry file header and first record; encode/decode round
 * trips for both kinds; every truncation of an entry file and of a
 * journal; every single-octet corruption of the creation section; a wrong
 * version; every target state transition (legal ones applied, illegal
 * ones refused, also when replayed from disk); hold/release/delete;
 * priority order, back-off and lifetime of next_due; the node state
 * (MSID reservation across a restart, done set ranges, MSNs, EMCON);
 * allocation failure at every allocation of load and snapshot; memory
 * per entry.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mule/mule_spool.h"
#include "test_common.h"

/* ------------------------------------------------------------------ */
/* Fixtures */

static const char BODY[] = "From: a@x\r\nTo: b@y\r\nSubject: t\r\n\r\nhello\r\n";

static mule_spool_rcpt RCPTS[2] = {
    {{"b@y", 3}, {"NOTIFY=FAILURE", 14}},
    {{"c@z", 3}, {"", 0}},
};
static const uint32_t NODES[2] = {7, 9};
static const uint32_t DESTS[3] = {2, 3, 4};

static mule_spool_msg
msg_out(int8_t prio, int64_t arrival)
{
    mule_spool_msg m = {0};

    m.kind = MULE_SPOOL_OUT;
    m.content_kind = MULE_SPOOL_C_MESSAGE;
    m.priority = prio;
    m.arrival_s = arrival;
    m.expiry_s = arrival + 86400;
    m.mail_from = (mule_spool_str){"a@x", 3};
    m.mail_params = (mule_spool_str){"BODY=8BITMIME", 13};
    m.rcpts = RCPTS;
    m.rcpt_cnt = 2;
    m.target_nodes = NODES;
    m.target_cnt = 2;
    m.content = (const uint8_t *)BODY;
    m.content_len = sizeof BODY - 1;
    return m;
}

static mule_spool_msg
msg_in(void)
{
    mule_spool_msg m = msg_out(0, 1000);

    m.kind = MULE_SPOOL_IN;
    m.content_kind = MULE_SPOOL_C_PAYLOAD;
    m.src_node = 5;
    m.msid = 77;
    m.target_nodes = NULL;
    m.dests = DESTS;
    m.dest_cnt = 3;
    return m;
}

static void
encode(const mule_spool_msg *m, const char *id, buf *b)
{
    buf_init(b, NULL, SIZE_MAX);
    assert_int_equal(mule_spool_encode_entry(m, id, b), 0);
}

static mule_spool *
model(void)
{
    mule_spool *sp;
    mule_spool_policy pol = {10, 80, 4, 0};

    assert_int_equal(mule_spool_new(&sp, &pol, NULL), 0);
    return sp;
}

/* Apply a target change through prep + apply, appending the record to
 * the file image j (as the adapter would). */
static int
move(mule_spool *sp, buf *j, const char *id, size_t idx, uint8_t state, uint32_t msid,
     int64_t now)
{
    mule_spool_target t = {0};
    mule_spool_rec rec;
    int rc;

    t.state = state;
    t.msid = msid;
    t.msn = msid ? msid + 100 : 0;
    if ((rc = mule_spool_prep_target(sp, id, idx, &t, now, &rec)) != 0)
        return rc;
    if (j != NULL)
        assert_int_equal(buf_append(j, rec.b, rec.len), 0);
    return mule_spool_apply(sp, id, rec.b, rec.len);
}

/* ------------------------------------------------------------------ */
/* Format */

static void
test_mule_spool_encode_bytes(void **state)
{
    mule_spool_msg m = msg_out(3, 1000);
    buf b;
    /* File header, then META: type 1, length 45, kind 1, content 1,
     * priority 3, the ID. */
    static const uint8_t want[] = {'M', 'S', 'P', 'L', 1, 1, 0, 0,
                                   1, 0, 0, 0, 45, 1, 1, 3,
                                   'A', 'B', 'C', 'D', 'E', 'F', '0', '1', '2', '3', '4', '5'};

    (void)state;
    encode(&m, "ABCDEF012345", &b);
    assert_true(b.len > sizeof want);
    if (memcmp(b.data, want, sizeof want) != 0)
        fail_msg("got %s", tshow(0, b.data, sizeof want));
    /* It ends with END: type 7, length 0, crc32. */
    assert_int_equal(b.data[b.len - 9], 7);
    assert_int_equal(b.data[b.len - 5], 0);
    buf_fini(&b);
}

static void
test_mule_spool_roundtrip(void **state)
{
    mule_spool_msg ms[2] = {msg_out(-2, 1234), msg_in()};

    (void)state;
    for (size_t k = 0; k < 2; k++) {
        mule_spool_msg d;
        mule_spool_rcpt r[4];
        uint32_t nodes[4], dests[4];
        char id[MULE_SPOOL_ID_SIZE];
        buf b;

        encode(&ms[k], "000000000ZZZ", &b);
        assert_int_equal(mule_spool_decode_entry(b.data, b.len, &d, id, r, 4, nodes, dests, 4),
                         0);
        assert_string_equal(id, "000000000ZZZ");
        assert_int_equal(d.kind, ms[k].kind);
        assert_int_equal(d.content_kind, ms[k].content_kind);
        assert_int_equal(d.priority, ms[k].priority);
        assert_int_equal(d.arrival_s, ms[k].arrival_s);
        assert_int_equal(d.expiry_s, ms[k].expiry_s);
        assert_int_equal(d.src_node, ms[k].src_node);
        assert_int_equal(d.msid, ms[k].msid);
        assert_int_equal(d.mail_from.len, 3);
        assert_memory_equal(d.mail_from.p, "a@x", 3);
        assert_memory_equal(d.mail_params.p, "BODY=8BITMIME", 13);
        assert_int_equal(d.rcpt_cnt, 2);
        assert_memory_equal(d.rcpts[0].params.p, "NOTIFY=FAILURE", 14);
        assert_memory_equal(d.rcpts[1].addr.p, "c@z", 3);
        assert_int_equal(d.rcpts[1].params.len, 0);
        assert_int_equal(d.target_cnt, 2);
        if (ms[k].kind == MULE_SPOOL_OUT) {
            assert_int_equal(d.target_nodes[1], 9);
        } else {
            assert_null(d.target_nodes);
            assert_int_equal(d.dest_cnt, 3);
            assert_int_equal(d.dests[2], 4);
        }
        assert_int_equal(d.content_len, sizeof BODY - 1);
        assert_memory_equal(d.content, BODY, sizeof BODY - 1);
        /* Arrays too small: NOSPACE, never an overrun. */
        assert_int_equal(mule_spool_decode_entry(b.data, b.len, &d, id, r, 1, nodes, dests, 4),
                         MULE_ERR_NOSPACE);
        buf_fini(&b);
    }
}

static void
test_mule_spool_encode_limits(void **state)
{
    mule_spool_msg m = msg_out(0, 1);
    static uint32_t many[MULE_SPOOL_MAX_TARGETS + 1];
    buf b;

    (void)state;
    buf_init(&b, NULL, SIZE_MAX);
    m.target_nodes = many;
    m.target_cnt = MULE_SPOOL_MAX_TARGETS + 1;
    assert_int_equal(mule_spool_encode_entry(&m, "000000000001", &b), MULE_ERR_INVAL);
    m.target_cnt = 0;
    assert_int_equal(mule_spool_encode_entry(&m, "000000000001", &b), MULE_ERR_INVAL);
    m.target_cnt = MULE_SPOOL_MAX_TARGETS;
    assert_int_equal(mule_spool_encode_entry(&m, "000000000001", &b), 0);
    buf_reset(&b);
    m = msg_out(0, 1);
    m.mail_from.len = MULE_SPOOL_MAX_STR + 1;
    assert_int_equal(mule_spool_encode_entry(&m, "000000000001", &b), MULE_ERR_INVAL);
    m = msg_out(0, 1);
    assert_int_equal(mule_spool_encode_entry(&m, "short", &b), MULE_ERR_INVAL);
    assert_int_equal(mule_spool_encode_entry(&m, "abcdefghijkl", &b), MULE_ERR_INVAL);
    m = msg_in();
    m.rcpt_cnt = 1;             /* IN: one target per recipient */
    assert_int_equal(mule_spool_encode_entry(&m, "000000000001", &b), MULE_ERR_INVAL);
    assert_int_equal(b.len, 0);
    buf_fini(&b);
}

/* Every prefix of an entry file: the creation section cut anywhere is
 * corrupt; cut inside the journal it loads, with good_len at the last
 * whole record. */
static void
test_mule_spool_truncation_loop(void **state)
{
    mule_spool_msg m = msg_out(0, 1000);
    mule_spool *sp = model();
    mule_spool_load_res res;
    buf b;
    size_t creation, rec1;

    (void)state;
    encode(&m, "00000000000A", &b);
    creation = b.len;
    assert_int_equal(mule_spool_load(sp, "00000000000A", b.data, b.len, &res), 0);
    assert_int_equal(move(sp, &b, "00000000000A", 0, MULE_SPOOL_T_INFLIGHT, 42, 1001), 0);
    rec1 = b.len;
    assert_int_equal(move(sp, &b, "00000000000A", 0, MULE_SPOOL_T_DONE, 0, 1002), 0);
    mule_spool_free(sp);
    for (size_t n = 0; n <= b.len; n++) {
        mule_spool_msg d;

        sp = model();
        if (n < creation) {
            int rc = mule_spool_decode_entry(b.data, n, &d, NULL, NULL, 0, NULL, NULL, 0);

            if (rc != MULE_ERR_SPOOL_CORRUPT)
                fail_msg("prefix %zu: decode got %d, want CORRUPT", n, rc);
            assert_int_equal(mule_spool_load(sp, NULL, b.data, n, &res),
                             MULE_ERR_SPOOL_CORRUPT);
            assert_int_equal(mule_spool_count(sp), 0);
        } else {
            mule_spool_target t;

            assert_int_equal(mule_spool_load(sp, NULL, b.data, n, &res), 0);
            assert_int_equal(res.good_len, n < rec1 ? creation : n < b.len ? rec1 : b.len);
            assert_int_equal(mule_spool_target_get(sp, "00000000000A", 0, &t), 0);
            assert_int_equal(t.state, n < rec1 ? MULE_SPOOL_T_PENDING
                                      : n < b.len ? MULE_SPOOL_T_INFLIGHT
                                                  : MULE_SPOOL_T_DONE);
        }
        mule_spool_free(sp);
    }
    buf_fini(&b);
}

/* Flip every octet of the creation section: never loaded as if good. */
static void
test_mule_spool_corrupt_every_octet(void **state)
{
    mule_spool_msg m = msg_out(0, 1000);
    mule_spool_load_res res;
    buf b;

    (void)state;
    encode(&m, "00000000000B", &b);
    for (size_t i = 0; i < b.len; i++) {
        mule_spool *sp = model();
        int rc;

        b.data[i] ^= 0x41;
        rc = mule_spool_load(sp, "00000000000B", b.data, b.len, &res);
        if (rc != MULE_ERR_SPOOL_CORRUPT && rc != MULE_ERR_SPOOL_VERSION)
            fail_msg("octet %zu flipped: got %d", i, rc);
        assert_int_equal(res.err, rc);
        assert_int_equal(mule_spool_count(sp), 0);
        b.data[i] ^= 0x41;
        mule_spool_free(sp);
    }
    buf_fini(&b);
}

static void
test_mule_spool_wrong_version(void **state)
{
    mule_spool_msg m = msg_out(0, 1000);
    mule_spool_load_res res;
    mule_spool *sp = model();
    uint8_t node[MULE_SPOOL_HDR_LEN];
    buf b;

    (void)state;
    encode(&m, "00000000000C", &b);
    b.data[4] = 2;
    assert_int_equal(mule_spool_load(sp, NULL, b.data, b.len, &res), MULE_ERR_SPOOL_VERSION);
    b.data[4] = 1;
    b.data[5] = 2;              /* a node journal where an entry belongs */
    assert_int_equal(mule_spool_load(sp, NULL, b.data, b.len, &res), MULE_ERR_SPOOL_CORRUPT);
    b.data[5] = 1;
    /* File name and ID disagree. */
    assert_int_equal(mule_spool_load(sp, "00000000000D", b.data, b.len, &res),
                     MULE_ERR_SPOOL_CORRUPT);
    assert_int_equal(mule_spool_load(sp, "00000000000C", b.data, b.len, &res), 0);
    /* The same ID twice. */
    assert_int_equal(mule_spool_load(sp, "00000000000C", b.data, b.len, &res),
                     MULE_ERR_SPOOL_EXISTS);
    mule_spool_node_header(node);
    node[4] = 9;
    assert_int_equal(mule_spool_load_node(sp, node, sizeof node, &res), MULE_ERR_SPOOL_VERSION);
    mule_spool_free(sp);
    buf_fini(&b);
}

/* A journal record in the middle that fails its checksum is corruption;
 * the same at the very end is a torn append. */
static void
test_mule_spool_journal_bad_crc(void **state)
{
    mule_spool_msg m = msg_out(0, 1000);
    mule_spool_load_res res;
    mule_spool *sp = model();
    buf b;
    size_t mid;

    (void)state;
    encode(&m, "00000000000E", &b);
    assert_int_equal(mule_spool_load(sp, NULL, b.data, b.len, &res), 0);
    mid = b.len;
    assert_int_equal(move(sp, &b, "00000000000E", 0, MULE_SPOOL_T_INFLIGHT, 1, 1), 0);
    assert_int_equal(move(sp, &b, "00000000000E", 1, MULE_SPOOL_T_INFLIGHT, 1, 1), 0);
    mule_spool_free(sp);
    b.data[mid + 7] ^= 1;
    sp = model();
    assert_int_equal(mule_spool_load(sp, NULL, b.data, b.len, &res), MULE_ERR_SPOOL_CORRUPT);
    assert_int_equal(mule_spool_count(sp), 0);
    b.data[mid + 7] ^= 1;
    b.data[b.len - 1] ^= 1;
    assert_int_equal(mule_spool_load(sp, NULL, b.data, b.len, &res), 0);
    assert_int_equal(res.good_len, b.len - 34);
    mule_spool_free(sp);
    /* A zero-filled tail (size grew, data lost) is torn too. */
    b.data[b.len - 1] ^= 1;
    memset(b.data + b.len - 34, 0, 34);
    sp = model();
    assert_int_equal(mule_spool_load(sp, NULL, b.data, b.len, &res), 0);
    assert_int_equal(res.good_len, b.len - 34);
    mule_spool_free(sp);
    buf_fini(&b);
}

/* ------------------------------------------------------------------ */
/* State machine */

static bool
legal(uint8_t kind, uint8_t from, uint8_t to)
{
    static const char *const ok[6] = {
        /* to:  P I D T F S   from: */
        "011110",               /* PENDING */
        "101110",               /* INFLIGHT */
        "000000",               /* DONE */
        "011110",               /* TEMPFAIL */
        "000001",               /* FAILED */
        "000000",               /* DSN_SENT */
    };

    (void)kind;                 /* IN targets go INFLIGHT while handed off */
    return ok[from][to] == '1';
}

/* Reach state s for target 0 by a legal path. */
static void
reach(mule_spool *sp, const char *id, uint8_t kind, uint8_t s)
{
    switch (s) {
    case MULE_SPOOL_T_PENDING:
        break;
    case MULE_SPOOL_T_INFLIGHT:
        assert_int_equal(move(sp, NULL, id, 0, s, 5, 1), 0);
        break;
    case MULE_SPOOL_T_DSN_SENT:
        assert_int_equal(move(sp, NULL, id, 0, MULE_SPOOL_T_FAILED, 0, 1), 0);
        assert_int_equal(move(sp, NULL, id, 0, s, 0, 1), 0);
        break;
    default:
        assert_int_equal(move(sp, NULL, id, 0, s, 0, 1), 0);
    }
    (void)kind;
}

static void
test_mule_spool_transitions(void **state)
{
    (void)state;
    for (int k = 0; k < 2; k++) {
        mule_spool_msg m = k == 0 ? msg_out(0, 0) : msg_in();

        for (uint8_t from = 0; from < 6; from++) {
            for (uint8_t to = 0; to < 7; to++) {
                mule_spool *sp = model();
                mule_spool_target t;
                buf b, j;
                int rc;

                encode(&m, "0000000000TT", &b);
                assert_int_equal(mule_spool_add(sp, b.data, b.len), 0);
                reach(sp, "0000000000TT", m.kind, from);
                buf_init(&j, NULL, SIZE_MAX);
                rc = move(sp, &j, "0000000000TT", 0, to, to == MULE_SPOOL_T_INFLIGHT ? 9 : 0,
                          50);
                assert_int_equal(mule_spool_target_get(sp, "0000000000TT", 0, &t), 0);
                if (to < 6 && legal(m.kind, from, to)) {
                    if (rc != 0)
                        fail_msg("kind %u %u->%u refused: %d", m.kind, from, to, rc);
                    assert_int_equal(t.state, to);
                } else {
                    if (rc != MULE_ERR_SPOOL_STATE)
                        fail_msg("kind %u %u->%u: got %d, want STATE", m.kind, from, to, rc);
                    assert_int_equal(t.state, from);
                }
                mule_spool_free(sp);
                buf_fini(&j);
                buf_fini(&b);
            }
        }
    }
}

/* An illegal transition written into a file (by hand or by a bug) is
 * refused on replay: the file is corrupt, not half-applied. */
static void
test_mule_spool_replay_illegal(void **state)
{
    mule_spool_msg m = msg_out(0, 0);
    mule_spool *sp = model();
    mule_spool_load_res res;
    mule_spool_rec done, pend;
    mule_spool_target t = {0};
    buf b;

    (void)state;
    encode(&m, "0000000000RR", &b);
    assert_int_equal(mule_spool_add(sp, b.data, b.len), 0);
    t.state = MULE_SPOOL_T_DONE;
    assert_int_equal(mule_spool_prep_target(sp, "0000000000RR", 0, &t, 1, &done), 0);
    assert_int_equal(mule_spool_prep_target(sp, "0000000000RR", 7, &t, 1, &pend),
                     MULE_ERR_INVAL);
    /* A PENDING record made where it is legal (from INFLIGHT)... */
    assert_int_equal(move(sp, NULL, "0000000000RR", 0, MULE_SPOOL_T_INFLIGHT, 3, 1), 0);
    t.state = MULE_SPOOL_T_PENDING;
    assert_int_equal(mule_spool_prep_target(sp, "0000000000RR", 0, &t, 1, &pend), 0);
    mule_spool_free(sp);
    /* ...replayed after DONE: DONE -> PENDING is illegal. */
    assert_int_equal(buf_append(&b, done.b, done.len), 0);
    assert_int_equal(buf_append(&b, pend.b, pend.len), 0);
    sp = model();
    assert_int_equal(mule_spool_load(sp, NULL, b.data, b.len, &res), MULE_ERR_SPOOL_CORRUPT);
    assert_int_equal(mule_spool_count(sp), 0);
    mule_spool_free(sp);
    buf_fini(&b);
}

static void
test_mule_spool_flags(void **state)
{
    mule_spool_msg m = msg_out(0, 100);
    mule_spool *sp = model();
    mule_spool_info info;
    mule_spool_rec rec;
    buf b;

    (void)state;
    encode(&m, "0000000000FF", &b);
    assert_int_equal(mule_spool_add(sp, b.data, b.len), 0);
    assert_true(mule_spool_next_due(sp, 100, &info));
    assert_int_equal(mule_spool_prep_flag(sp, "0000000000FF", 'r', &rec),
                     MULE_ERR_SPOOL_STATE);
    assert_int_equal(mule_spool_prep_flag(sp, "0000000000FF", 'h', &rec), 0);
    assert_int_equal(mule_spool_apply(sp, "0000000000FF", rec.b, rec.len), 0);
    assert_false(mule_spool_next_due(sp, 100, &info));     /* held: never due */
    assert_int_equal(mule_spool_next_deadline(sp), INT64_MAX);
    assert_int_equal(mule_spool_prep_flag(sp, "0000000000FF", 'h', &rec),
                     MULE_ERR_SPOOL_STATE);
    assert_int_equal(mule_spool_prep_flag(sp, "0000000000FF", 'r', &rec), 0);
    assert_int_equal(mule_spool_apply(sp, "0000000000FF", rec.b, rec.len), 0);
    assert_true(mule_spool_next_due(sp, 100, &info));
    assert_false(mule_spool_is_removable(sp, "0000000000FF"));
    assert_int_equal(mule_spool_prep_flag(sp, "0000000000FF", 'd', &rec), 0);
    assert_int_equal(mule_spool_apply(sp, "0000000000FF", rec.b, rec.len), 0);
    assert_true(mule_spool_is_removable(sp, "0000000000FF"));
    assert_false(mule_spool_next_due(sp, 100, &info));
    assert_int_equal(mule_spool_prep_flag(sp, "0000000000FF", 'd', &rec),
                     MULE_ERR_SPOOL_STATE);
    assert_int_equal(move(sp, NULL, "0000000000FF", 0, MULE_SPOOL_T_DONE, 0, 1),
                     MULE_ERR_SPOOL_STATE);
    assert_int_equal(mule_spool_prep_flag(sp, "0000000000FF", 'x', &rec), MULE_ERR_INVAL);
    assert_int_equal(mule_spool_prep_flag(sp, "000000000000", 'h', &rec),
                     MULE_ERR_SPOOL_NOENT);
    assert_int_equal(mule_spool_info_get(sp, "0000000000FF", &info), 0);
    assert_int_equal(info.flags, MULE_SPOOL_F_DELETED);
    mule_spool_free(sp);
    buf_fini(&b);
}

/* ------------------------------------------------------------------ */
/* Scheduling */

static void
test_mule_spool_due_order(void **state)
{
    mule_spool *sp = model();
    mule_spool_info info;
    struct { const char *id; int8_t prio; int64_t arr; } e[] = {
        {"00000000000A", 0, 100}, {"00000000000B", 5, 300}, {"00000000000C", 0, 50},
        {"00000000000D", -3, 10}, {"00000000000E", 5, 200},
    };
    const char *want[] = {"00000000000E", "00000000000B", "00000000000C", "00000000000A",
                          "00000000000D"};

    (void)state;
    for (size_t i = 0; i < 5; i++) {
        mule_spool_msg m = msg_out(e[i].prio, e[i].arr);
        buf b;

        encode(&m, e[i].id, &b);
        assert_int_equal(mule_spool_add(sp, b.data, b.len), 0);
        buf_fini(&b);
    }
    /* Nothing is due before it arrived. */
    assert_false(mule_spool_next_due(sp, 9, &info));
    assert_int_equal(mule_spool_next_deadline(sp), 10);
    for (size_t i = 0; i < 5; i++) {
        assert_true(mule_spool_next_due(sp, 1000, &info));
        if (strcmp(info.id, want[i]) != 0)
            fail_msg("rank %zu: got %s, want %s", i, info.id, want[i]);
        /* Returned again until its targets move on. */
        assert_true(mule_spool_next_due(sp, 1000, &info));
        assert_string_equal(info.id, want[i]);
        assert_int_equal(move(sp, NULL, info.id, 0, MULE_SPOOL_T_INFLIGHT, 1, 1000), 0);
        assert_true(mule_spool_next_due(sp, 1000, &info));
        assert_string_equal(info.id, want[i]);
        assert_int_equal(move(sp, NULL, info.id, 1, MULE_SPOOL_T_INFLIGHT, 1, 1000), 0);
    }
    assert_false(mule_spool_next_due(sp, 1000, &info));
    assert_int_equal(mule_spool_next_deadline(sp), INT64_MAX);
    mule_spool_free(sp);
}

static void
test_mule_spool_backoff_expiry(void **state)
{
    mule_spool *sp = model();   /* back-off 10 s .. 80 s */
    mule_spool_msg m = msg_in();
    mule_spool_target t;
    mule_spool_info info;
    buf b;
    const uint32_t want[] = {10, 20, 40, 80, 80};

    (void)state;
    for (uint32_t a = 1; a <= 5; a++)
        assert_int_equal(mule_spool_backoff_s(sp, a), want[a - 1]);
    m.arrival_s = 0;
    m.expiry_s = 100;
    m.rcpt_cnt = m.target_cnt = 1;
    encode(&m, "0000000000BO", &b);
    assert_int_equal(mule_spool_add(sp, b.data, b.len), 0);
    assert_int_equal(move(sp, NULL, "0000000000BO", 0, MULE_SPOOL_T_TEMPFAIL, 0, 0), 0);
    assert_int_equal(mule_spool_target_get(sp, "0000000000BO", 0, &t), 0);
    assert_int_equal(t.attempts, 1);
    assert_int_equal(t.next_try_s, 10);
    assert_false(mule_spool_next_due(sp, 9, &info));
    assert_true(mule_spool_next_due(sp, 10, &info));
    assert_int_equal(move(sp, NULL, "0000000000BO", 0, MULE_SPOOL_T_TEMPFAIL, 0, 10), 0);
    assert_int_equal(mule_spool_target_get(sp, "0000000000BO", 0, &t), 0);
    assert_int_equal(t.attempts, 2);
    assert_int_equal(t.next_try_s, 30);
    /* Operator's flush: due now, attempts kept; held entries stay put. */
    assert_false(mule_spool_next_due(sp, 12, &info));
    assert_int_equal(mule_spool_flush(sp, NULL, 12), 1);
    assert_int_equal(mule_spool_flush(sp, "0000000000BO", 12), 0);
    assert_int_equal(mule_spool_flush(sp, "NOSUCHENTRY0", 12), 0);
    assert_true(mule_spool_next_due(sp, 12, &info));
    assert_int_equal(mule_spool_target_get(sp, "0000000000BO", 0, &t), 0);
    assert_int_equal(t.attempts, 2);
    assert_int_equal(t.next_try_s, 12);
    assert_int_equal(move(sp, NULL, "0000000000BO", 0, MULE_SPOOL_T_TEMPFAIL, 0, 12), 0);
    {
        mule_spool_rec rec;
        assert_int_equal(mule_spool_prep_flag(sp, "0000000000BO", 'h', &rec), 0);
        assert_int_equal(mule_spool_apply(sp, "0000000000BO", rec.b, rec.len), 0);
        assert_int_equal(mule_spool_flush(sp, NULL, 13), 0);
        assert_false(mule_spool_next_due(sp, 13, &info));
        assert_int_equal(mule_spool_prep_flag(sp, "0000000000BO", 'r', &rec), 0);
        assert_int_equal(mule_spool_apply(sp, "0000000000BO", rec.b, rec.len), 0);
    }
    assert_int_equal(move(sp, NULL, "0000000000BO", 0, MULE_SPOOL_T_TEMPFAIL, 0, 95), 0);
    /* The next try (135) is after the lifetime: due at expiry instead. */
    assert_int_equal(mule_spool_next_deadline(sp), 100);
    assert_true(mule_spool_next_due(sp, 100, &info));
    assert_true(info.expiry_s <= 100);
    assert_int_equal(move(sp, NULL, "0000000000BO", 0, MULE_SPOOL_T_FAILED, 0, 100), 0);
    assert_false(mule_spool_is_removable(sp, "0000000000BO"));
    assert_int_equal(move(sp, NULL, "0000000000BO", 0, MULE_SPOOL_T_DSN_SENT, 0, 100), 0);
    assert_true(mule_spool_is_removable(sp, "0000000000BO"));
    mule_spool_drop(sp, "0000000000BO");
    assert_int_equal(mule_spool_count(sp), 0);
    mule_spool_free(sp);
    buf_fini(&b);
}

/* ------------------------------------------------------------------ */
/* Node state */

static int
done_collect(void *arg, uint32_t src, uint32_t lo, uint32_t hi, int64_t exp)
{
    char *s = arg;
    size_t n = strlen(s);

    snprintf(s + n, 256 - n, "%u:%u-%u@%lld ", src, lo, hi, (long long)exp);
    return 0;
}

static void
test_mule_spool_node_state(void **state)
{
    mule_spool *sp = model();   /* MSID block 4 */
    mule_spool_load_res res;
    mule_spool_rec rec;
    uint32_t msid, seen = 0;
    char walk[256] = "";
    buf snap;
    int64_t since;
    const uint32_t adds[][2] = {{1, 10}, {1, 12}, {1, 11}, {2, 10}, {1, 9}, {1, 20}, {1, 13}};

    (void)state;
    /* MSIDs: a block must be reserved before the first one. */
    for (int i = 0; i < 10; i++) {
        int rc = mule_spool_msid_next(sp, &msid);

        if (rc == MULE_ERR_SPOOL_RESERVE) {
            mule_spool_prep_msid_hw(mule_spool_msid_want(sp), &rec);
            assert_int_equal(mule_spool_apply(sp, NULL, rec.b, rec.len), 0);
            assert_int_equal(mule_spool_msid_next(sp, &msid), 0);
        } else {
            assert_int_equal(rc, 0);
        }
        assert_true(msid > seen);
        seen = msid;
    }
    for (size_t i = 0; i < sizeof adds / sizeof adds[0]; i++) {
        mule_spool_prep_done(adds[i][0], adds[i][1], 1000 + (int64_t)i, &rec);
        assert_int_equal(mule_spool_apply(sp, NULL, rec.b, rec.len), 0);
    }
    assert_true(mule_spool_done_has(sp, 1, 9));
    assert_true(mule_spool_done_has(sp, 1, 13));
    assert_false(mule_spool_done_has(sp, 1, 14));
    assert_false(mule_spool_done_has(sp, 2, 11));
    assert_false(mule_spool_done_has(sp, 3, 10));
    assert_int_equal(mule_spool_done_walk(sp, done_collect, walk), 0);
    assert_string_equal(walk, "1:9-13@1006 1:20-20@1005 2:10-10@1003 ");
    mule_spool_prep_msn(7, 99, &rec);
    assert_int_equal(mule_spool_apply(sp, NULL, rec.b, rec.len), 0);
    mule_spool_prep_emcon(true, 555, &rec);
    assert_int_equal(mule_spool_apply(sp, NULL, rec.b, rec.len), 0);

    /* Snapshot, reload: same state, and MSIDs go on above the mark. */
    buf_init(&snap, NULL, SIZE_MAX);
    assert_int_equal(mule_spool_node_snapshot(sp, &snap), 0);
    mule_spool_free(sp);
    sp = model();
    assert_int_equal(mule_spool_load_node(sp, snap.data, snap.len, &res), 0);
    assert_int_equal(res.good_len, snap.len);
    assert_true(mule_spool_emcon(sp, &since));
    assert_int_equal(since, 555);
    assert_int_equal(mule_spool_msn(sp, 7), 99);
    assert_int_equal(mule_spool_msn(sp, 8), 0);
    walk[0] = '\0';
    assert_int_equal(mule_spool_done_walk(sp, done_collect, walk), 0);
    assert_string_equal(walk, "1:9-13@1006 1:20-20@1005 2:10-10@1003 ");
    assert_int_equal(mule_spool_msid_next(sp, &msid), MULE_ERR_SPOOL_RESERVE);
    mule_spool_prep_msid_hw(mule_spool_msid_want(sp), &rec);
    assert_int_equal(mule_spool_apply(sp, NULL, rec.b, rec.len), 0);
    assert_int_equal(mule_spool_msid_next(sp, &msid), 0);
    assert_true(msid > seen);
    mule_spool_done_prune(sp, 1004);
    walk[0] = '\0';
    assert_int_equal(mule_spool_done_walk(sp, done_collect, walk), 0);
    assert_string_equal(walk, "1:9-13@1006 1:20-20@1005 ");
    /* Every truncation of the journal loads a prefix, never fails. */
    for (size_t n = MULE_SPOOL_HDR_LEN; n <= snap.len; n++) {
        mule_spool *s2 = model();

        assert_int_equal(mule_spool_load_node(s2, snap.data, n, &res), 0);
        assert_true(res.good_len <= n);
        mule_spool_free(s2);
    }
    mule_spool_free(sp);
    buf_fini(&snap);
}

/* ------------------------------------------------------------------ */
/* Allocation failure, IDs, memory */

static void
test_mule_spool_alloc_fail_every_step(void **state)
{
    mule_spool_msg m = msg_out(0, 1000);
    buf b, snap;
    long n;

    (void)state;
    encode(&m, "0000000000AF", &b);
    for (n = 0;; n++) {
        struct tmem tm = {false, 0, 0, 0, 0};
        mem mm = tmem_make(&tm);
        mule_spool *sp;
        mule_spool_load_res res;
        mule_spool_rec rec;
        int rc;

        tmem_fail_after(&tm, n);
        if ((rc = mule_spool_new(&sp, NULL, &mm)) != 0) {
            assert_int_equal(rc, MULE_ERR_NOMEM);
            continue;
        }
        rc = mule_spool_load(sp, "0000000000AF", b.data, b.len, &res);
        if (rc == 0) {
            mule_spool_prep_done(1, 2, 3, &rec);
            rc = mule_spool_apply(sp, NULL, rec.b, rec.len);
        }
        if (rc == 0) {
            buf_init(&snap, &mm, SIZE_MAX);
            rc = mule_spool_node_snapshot(sp, &snap);
            buf_fini(&snap);
        }
        if (rc != 0) {
            assert_int_equal(rc, MULE_ERR_NOMEM);
            mule_spool_free(sp);
            assert_int_equal(tm.live, 0);
            continue;
        }
        assert_int_equal(mule_spool_count(sp), 1);
        mule_spool_free(sp);
        assert_int_equal(tm.live, 0);
        break;
    }
    assert_true(n > 3);
    buf_fini(&b);
}

static void
test_mule_spool_ids_and_memory(void **state)
{
    mule_spool *sp = model();
    mule_spool_msg m = msg_out(0, 1000);
    char id[MULE_SPOOL_ID_SIZE], first[MULE_SPOOL_ID_SIZE];
    size_t before, after;
    buf b;

    (void)state;
    buf_init(&b, NULL, SIZE_MAX);
    before = mule_spool_mem_bytes(sp);
    for (int i = 0; i < 1000; i++) {
        mule_spool_mint_id(sp, 1700000000, id);
        assert_int_equal(strlen(id), MULE_SPOOL_ID_LEN);
        if (i == 0)
            memcpy(first, id, sizeof id);
        buf_reset(&b);
        assert_int_equal(mule_spool_encode_entry(&m, id, &b), 0);
        assert_int_equal(mule_spool_add(sp, b.data, b.len), 0);
    }
    /* Deterministic, and a minted ID never clashes with a loaded one. */
    {
        mule_spool *s2 = model();

        mule_spool_mint_id(s2, 1700000000, id);
        assert_string_equal(id, first);
        mule_spool_free(s2);
    }
    after = mule_spool_mem_bytes(sp);
    print_message("index: %zu bytes per entry with 2 targets\n", (after - before) / 1000);
    /* No body in memory: far below the 4 KB a mail would cost. */
    assert_true((after - before) / 1000 < 400);
    mule_spool_free(sp);
    buf_fini(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mule_spool_encode_bytes),
        cmocka_unit_test(test_mule_spool_roundtrip),
        cmocka_unit_test(test_mule_spool_encode_limits),
        cmocka_unit_test(test_mule_spool_truncation_loop),
        cmocka_unit_test(test_mule_spool_corrupt_every_octet),
        cmocka_unit_test(test_mule_spool_wrong_version),
        cmocka_unit_test(test_mule_spool_journal_bad_crc),
        cmocka_unit_test(test_mule_spool_transitions),
        cmocka_unit_test(test_mule_spool_replay_illegal),
        cmocka_unit_test(test_mule_spool_flags),
        cmocka_unit_test(test_mule_spool_due_order),
        cmocka_unit_test(test_mule_spool_backoff_expiry),
        cmocka_unit_test(test_mule_spool_node_state),
        cmocka_unit_test(test_mule_spool_alloc_fail_every_step),
        cmocka_unit_test(test_mule_spool_ids_and_memory),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
