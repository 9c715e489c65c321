/*
 * test_mule_node.c: unit tests of mule/mule_node, the one place where a
 * node turns P_MUL messages and SMTP transactions into MULE decisions.
 *
 * The node under test is n1 (198.18.0.1) in a table with a local domain,
 * domains on n2 and n3, and a domain served by n2 and n3 together.  Each
 * case checks what the caller would act on: the local part with its
 * "with MULE" trace, the P_MUL messages to send (to whom), and the DSN,
 * decoded back from its CompressedData the way the originator's node
 * would read it.  The last cases fail every allocation in turn.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bsmtp/bsmtp_err.h"
#include "bsmtp/bsmtp_payload.h"
#include "mule/mule_cdt.h"
#include "mule/mule_err.h"
#include "mule/mule_node.h"
#include "test_common.h"

#define SELF 0xc6120001u        /* 198.18.0.1 */
#define N2   0xc6120002u
#define N3   0xc6120003u
#define N4   0xc6120004u

static const char routes_cfg[] =
    "route here.example  local\n"
    "route two.example   group 239.1.1.2 nodes 198.18.0.2\n"
    "route three.example group 239.1.1.3 nodes 198.18.0.3\n"
    "route both.example  group 239.1.1.4 nodes 198.18.0.2,198.18.0.3\n";

static const char content[] =
    "From: alice@two.example\r\n"
    "To: someone\r\n"
    "Subject: node test\r\n"
    "Message-ID: <n1@two.example>\r\n"
    "\r\n"
    "Body line\r\n";

#define DATE  "Tue, 2 Jan 2024 10:00:00 +0000"
#define NOW   1704189600
#define MSGID "<dsn.1@n1.example>"

struct fixture {
    mule_route_table *routes;
    mule_cdt_config cdt;
    mule_node_config cfg;
    mule_node_clock clk;
};

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return -1;
    if (mule_route_table_parse(routes_cfg, sizeof(routes_cfg) - 1, NULL, NULL, &f->routes,
                               NULL) != 0) {
        free(f);
        return -1;
    }
    mule_cdt_config_init(&f->cdt);
    f->cfg.hostname = "n1.example";
    f->cfg.node_id = SELF;
    f->cfg.cdt = &f->cdt;
    f->clk.now_s = NOW;
    f->clk.now_date = DATE;
    f->clk.dsn_msgid = MSGID;
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    mule_route_table_free(f->routes);
    free(f);
    return 0;
}

/* A CompressedData payload of "env_lines CRLF content", owned by *out. */
static void
wrap_with(const struct fixture *f, const char *env_lines, const char *body, buf *out)
{
    char p[4096];
    int n = snprintf(p, sizeof(p), "%s\r\n%s", env_lines, body);

    assert_true(n > 0 && (size_t)n < sizeof(p));
    buf_init(out, NULL, SIZE_MAX);
    assert_int_equal(mule_cdt_encode(&f->cdt, NULL, (const uint8_t *)p, (size_t)n, out), 0);
}

static void
wrap(const struct fixture *f, const char *env_lines, buf *out)
{
    wrap_with(f, env_lines, content, out);
}

static mule_node_in
in_msg(const buf *payload, const uint32_t *dests, size_t dest_cnt)
{
    mule_node_in in;

    memset(&in, 0, sizeof(in));
    in.src = N2;
    in.msid = 7;
    in.dests = dests;
    in.dest_cnt = dest_cnt;
    in.payload = payload->data;
    in.payload_len = payload->len;
    in.arrival_s = NOW;
    in.id = "7";
    return in;
}

static bool
has(const uint8_t *p, size_t len, const char *needle)
{
    size_t n = strlen(needle);

    for (size_t i = 0; n <= len && i <= len - n; i++)
        if (memcmp(p + i, needle, n) == 0)
            return true;
    return false;
}

/* A DSN as the originator's node reads it: CompressedData decoded, BSMTP
 * parsed; reverse-path <>, one RCPT (want_rcpt), a multipart/report. */
static void
expect_dsn_payload(const struct fixture *f, const buf *payload, const char *want_rcpt,
                   const char *const *needles)
{
    bsmtp_envelope *env = NULL;
    size_t off = 0;
    buf plain;

    buf_init(&plain, NULL, SIZE_MAX);
    assert_int_equal(mule_cdt_decode(&f->cdt, NULL, payload->data, payload->len, &plain, NULL),
                     0);
    assert_int_equal(bsmtp_payload_parse(plain.data, plain.len, NULL, NULL, &env, &off), 0);
    assert_string_equal(env->reverse_path, "");
    assert_int_equal(env->rcpt_cnt, 1);
    assert_string_equal(env->rcpts[0].addr, want_rcpt);
    assert_true(has(plain.data + off, plain.len - off,
                    "multipart/report; report-type=delivery-status"));
    assert_true(has(plain.data + off, plain.len - off, "Message-ID: " MSGID));
    for (; needles != NULL && *needles != NULL; needles++)
        if (!has(plain.data + off, plain.len - off, *needles))
            fail_msg("DSN lacks \"%s\":\n%s", *needles,
                     tshow(0, plain.data + off, plain.len - off));
    bsmtp_envelope_free(env);
    buf_fini(&plain);
}

/* An envelope for the outbound calls. */
static bsmtp_envelope *
envelope(const char *from, const char *const *rcpts)
{
    bsmtp_envelope *env = NULL;

    assert_int_equal(bsmtp_envelope_new(from, NULL, NULL, &env), 0);
    for (; *rcpts != NULL; rcpts++)
        assert_int_equal(bsmtp_envelope_add_rcpt(env, *rcpts, NULL), 0);
    return env;
}

/* RFC 6758: the MT-Priority header field counts only from a trusted
 * client and only when the envelope has no MT-PRIORITY. */
static void
test_mule_node_tunnelled_priority(void **state)
{
    static const char *const rcpts[] = {"bob@two.example", NULL};
    static const char msg[] = "MT-Priority: 6\r\nSubject: x\r\n\r\nbody\r\n";
    bsmtp_envelope *env = envelope("alice@here.example", rcpts);

    (void)state;
    assert_false(mule_node_tunnelled_priority(env, (const uint8_t *)msg, strlen(msg), false));
    assert_false(env->mail.has_mt_priority);
    assert_true(mule_node_tunnelled_priority(env, (const uint8_t *)msg, strlen(msg), true));
    assert_true(env->mail.has_mt_priority);
    assert_int_equal(env->mail.mt_priority, 6);
    assert_int_equal(mule_relay_priority(&env->mail, NULL), 0);
    assert_int_equal(env->param_cnt, 1);
    assert_string_equal(env->params[0].keyword, "MT-PRIORITY");
    assert_string_equal(env->params[0].value, "6");
    /* The envelope's own value wins over the header. */
    assert_false(mule_node_tunnelled_priority(env, (const uint8_t *)msg, strlen(msg), true));
    assert_int_equal(env->param_cnt, 1);
    bsmtp_envelope_free(env);
}

/* Inbound for a local recipient: delivered here, traced "with MULE". */
static void
test_mule_node_inbound_local(void **state)
{
    struct fixture *f = *state;
    uint32_t dests[] = { SELF };
    mule_node_result r;
    buf p;

    wrap(f, "<alice@two.example>\r\n<bob@here.example>\r\n", &p);
    mule_node_in in = in_msg(&p, dests, 1);
    assert_int_equal(mule_node_inbound(&f->cfg, f->routes, &in, &f->clk, NULL, NULL, &r), 0);
    assert_true(r.has_relay);
    assert_false(r.has_dsn);
    assert_int_equal(r.relay.out_cnt, 0);
    assert_non_null(r.relay.local_env);
    assert_int_equal(r.relay.local_env->rcpt_cnt, 1);
    assert_string_equal(r.relay.local_env->rcpts[0].addr, "bob@here.example");
    assert_string_equal(r.relay.local_env->reverse_path, "alice@two.example");
    assert_true(has(r.relay.content.data, r.relay.content.len,
                    "by n1.example with MULE id 7"));
    assert_true(has(r.relay.content.data, r.relay.content.len, "from 198.18.0.2"));
    /* The original content follows the trace unchanged. */
    assert_true(r.relay.content.len > sizeof(content) - 1);
    assert_memory_equal(r.relay.content.data + r.relay.content.len - (sizeof(content) - 1),
                        content, sizeof(content) - 1);
    assert_true(r.inflated.len > 0);
    mule_node_result_fini(&r);
    mule_node_result_fini(&r);          /* twice is harmless */
    buf_fini(&p);
}

/* A recipient routed via this node to n3: one P_MUL message, to n3 only;
 * with a route to n2 and n3 and n2 an addressee, to n3 only as well. */
static void
test_mule_node_inbound_relay(void **state)
{
    struct fixture *f = *state;
    uint32_t dests1[] = { SELF };
    uint32_t dests2[] = { N2, SELF };
    mule_node_result r;
    buf p;

    wrap(f, "<alice@two.example>\r\n<carol@three.example>\r\n", &p);
    mule_node_in in = in_msg(&p, dests1, 1);
    assert_int_equal(mule_node_inbound(&f->cfg, f->routes, &in, &f->clk, NULL, NULL, &r), 0);
    assert_true(r.has_relay);
    assert_false(r.has_dsn);
    assert_null(r.relay.local_env);
    assert_int_equal(r.relay.out_cnt, 1);
    assert_int_equal(r.relay.outs[0].group, 0xef010103u);
    assert_int_equal(r.relay.outs[0].node_cnt, 1);
    assert_int_equal(r.relay.outs[0].nodes[0], N3);
    assert_true(r.relay.outs[0].compressed);
    mule_node_result_fini(&r);
    buf_fini(&p);

    wrap(f, "<alice@two.example>\r\n<dora@both.example>\r\n", &p);
    in = in_msg(&p, dests2, 2);
    in.src = N4;
    assert_int_equal(mule_node_inbound(&f->cfg, f->routes, &in, &f->clk, NULL, NULL, &r), 0);
    assert_true(r.has_relay);
    assert_int_equal(r.relay.out_cnt, 1);
    assert_int_equal(r.relay.outs[0].node_cnt, 1);
    assert_int_equal(r.relay.outs[0].nodes[0], N3);
    mule_node_result_fini(&r);
    buf_fini(&p);
}

/* The route of a recipient leads back to the node the message came from
 * (two tables disagree): a loop, failed with 5.4.6, never sent back (it
 * ping-ponged until the hop limit in netsim before). */
static void
test_mule_node_inbound_route_back_is_a_loop(void **state)
{
    struct fixture *f = *state;
    uint32_t dests[] = { SELF };
    mule_node_result r;
    buf p;

    wrap(f, "<alice@three.example>\r\n<bob@two.example>\r\n", &p);
    mule_node_in in = in_msg(&p, dests, 1);        /* from n2; two.example -> n2 */
    assert_int_equal(mule_node_inbound(&f->cfg, f->routes, &in, &f->clk, NULL, NULL, &r), 0);
    assert_true(r.has_relay);
    assert_int_equal(r.relay.out_cnt, 0);
    assert_int_equal(r.relay.failed_cnt, 1);
    assert_int_equal(r.relay.notes[0].kind, MULE_DSN_LOOP);
    assert_true(r.has_dsn);                         /* to alice, via n3 */
    mule_node_result_fini(&r);
    buf_fini(&p);
}

/* No route and this node the only addressee: the DSN goes back to the
 * originator's node (n2), with Action failed and Status 5.4.4. */
static void
test_mule_node_inbound_noroute_dsn(void **state)
{
    struct fixture *f = *state;
    uint32_t dests[] = { SELF };
    static const char *const want[] = { "Action: failed", "Status: 5.4.4",
                                        "Final-Recipient: rfc822; dave@nowhere.test",
                                        "Reporting-MTA: dns; n1.example", NULL };
    mule_node_result r;
    buf p;

    wrap(f, "<alice@two.example>\r\n<dave@nowhere.test>\r\n<bob@here.example>\r\n", &p);
    mule_node_in in = in_msg(&p, dests, 1);
    assert_int_equal(mule_node_inbound(&f->cfg, f->routes, &in, &f->clk, NULL, NULL, &r), 0);
    assert_true(r.has_relay);
    assert_int_equal(r.relay.failed_cnt, 1);
    assert_int_equal(r.relay.note_cnt, 1);
    assert_int_equal(r.relay.notes[0].kind, MULE_DSN_NO_ROUTE);
    assert_non_null(r.relay.local_env);         /* bob is still delivered */
    assert_true(r.has_dsn);
    assert_int_equal(r.dsn_err, 0);
    assert_null(r.dsn.local_env);
    assert_int_equal(r.dsn.out_cnt, 1);
    assert_int_equal(r.dsn.outs[0].group, 0xef010102u);
    assert_int_equal(r.dsn.outs[0].node_cnt, 1);
    assert_int_equal(r.dsn.outs[0].nodes[0], N2);
    expect_dsn_payload(f, &r.dsn.outs[0].payload, "alice@two.example", want);
    mule_node_result_fini(&r);
    buf_fini(&p);
}

/* The same failure from the null sender: no DSN, and why. */
static void
test_mule_node_inbound_null_sender(void **state)
{
    struct fixture *f = *state;
    mule_node_result r;
    buf p;

    wrap(f, "<>\r\n<dave@nowhere.test>\r\n", &p);
    mule_node_in in = in_msg(&p, NULL, 0);     /* NULL list: only us */
    assert_int_equal(mule_node_inbound(&f->cfg, f->routes, &in, &f->clk, NULL, NULL, &r), 0);
    assert_true(r.has_relay);
    assert_int_equal(r.relay.failed_cnt, 1);
    assert_false(r.has_dsn);
    assert_int_equal(r.dsn_err, MULE_ERR_DSN_NULL_SENDER);
    assert_int_equal(r.dsn.out_cnt, 0);
    mule_node_result_fini(&r);
    buf_fini(&p);
}

/* The DSN's Arrival-Date is when the message reached this node, not when
 * the DSN was made (a message run again after a deferral); an unknown
 * arrival (0) is now. */
static void
test_mule_node_inbound_dsn_arrival_date(void **state)
{
    struct fixture *f = *state;
    uint32_t dests[] = { SELF };
    static const char *const earlier[] = { "Arrival-Date: Tue, 02 Jan 2024 09:00:00 +0000",
                                           NULL };
    static const char *const now[] = { "Arrival-Date: " DATE, NULL };
    mule_node_result r;
    buf p;

    wrap(f, "<alice@two.example>\r\n<dave@nowhere.test>\r\n", &p);
    mule_node_in in = in_msg(&p, dests, 1);
    in.arrival_s = NOW - 3600;
    assert_int_equal(mule_node_inbound(&f->cfg, f->routes, &in, &f->clk, NULL, NULL, &r), 0);
    assert_true(r.has_dsn);
    assert_int_equal(r.dsn.out_cnt, 1);
    expect_dsn_payload(f, &r.dsn.outs[0].payload, "alice@two.example", earlier);
    mule_node_result_fini(&r);

    in.arrival_s = 0;
    assert_int_equal(mule_node_inbound(&f->cfg, f->routes, &in, &f->clk, NULL, NULL, &r), 0);
    assert_true(r.has_dsn);
    assert_int_equal(r.dsn.out_cnt, 1);
    expect_dsn_payload(f, &r.dsn.outs[0].payload, "alice@two.example", now);
    mule_node_result_fini(&r);
    buf_fini(&p);
}

/* RFC 2852 4 over P_MUL: the payload's BY= counts from the previous MULE
 * node's intake (the date of its Received field on top), so the 100 s the
 * mail spent there and on the air come off the deadline handed on.  Not
 * for a top field of another protocol, nor a date in our future. */
static void
test_mule_node_inbound_by_counts_from_previous_mule_node(void **state)
{
    static const struct {
        const char *trace;
        long by;
    } cases[] = {
        { "Received: from 198.18.0.3\r\n\tby n2.example with MULE id 198.18.0.3-1;\r\n"
          "\tTue, 2 Jan 2024 09:58:20 +0000\r\n", 3500 },
        { "Received: from 198.18.0.3 by n2.example with mule; "
          "2 Jan 2024 10:58:20 +0100 (CET)\r\n", 3500 },
        { "Received: from a.example by n2.example with ESMTP id 1; "
          "Tue, 2 Jan 2024 09:58:20 +0000\r\n", 3600 },
        { "Received: from 198.18.0.3 by n2.example with MULE; "
          "Tue, 2 Jan 2024 10:01:00 +0000\r\n", 3600 },
        { "", 3600 },
    };
    struct fixture *f = *state;
    uint32_t dests[] = { SELF };
    char body[1024];
    mule_node_result r;
    buf p;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(body, sizeof(body), "%s%s", cases[i].trace, content);
        wrap_with(f, "<alice@two.example> BY=3600;R\r\n<bob@here.example>\r\n", body, &p);
        mule_node_in in = in_msg(&p, dests, 1);
        assert_int_equal(mule_node_inbound(&f->cfg, f->routes, &in, &f->clk, NULL, NULL, &r),
                         0);
        assert_non_null(r.relay.local_env);
        assert_int_equal(r.relay.local_env->mail.by_mode, BSMTP_BY_RETURN);
        assert_int_equal(r.relay.local_env->mail.by_time_s, cases[i].by);
        mule_node_result_fini(&r);
        buf_fini(&p);
    }
}

/* A DSN whose originator has no route either: dropped with a log line,
 * and has_dsn stays false (nothing to send or deliver), with the reason
 * in dsn_err, so that the caller neither stores nor counts an empty DSN. */
static void
test_mule_node_inbound_dsn_without_route(void **state)
{
    struct fixture *f = *state;
    uint32_t dests[] = { SELF };
    mule_node_result r;
    buf p;

    wrap(f, "<zed@nowhere.test>\r\n<dave@nowhere.test>\r\n<bob@here.example>\r\n", &p);
    mule_node_in in = in_msg(&p, dests, 1);
    assert_int_equal(mule_node_inbound(&f->cfg, f->routes, &in, &f->clk, NULL, NULL, &r), 0);
    assert_true(r.has_relay);
    assert_non_null(r.relay.local_env);         /* bob is still delivered */
    assert_int_equal(r.relay.failed_cnt, 1);
    assert_false(r.has_dsn);
    assert_int_equal(r.dsn_err, MULE_ERR_NO_ROUTE);
    assert_int_equal(r.dsn.out_cnt, 0);
    assert_null(r.dsn.local_env);
    mule_node_result_fini(&r);
    buf_fini(&p);
}

/* Unusable payloads: the code in err, return 0 (acknowledge, keep aside). */
static void
test_mule_node_inbound_bad(void **state)
{
    struct fixture *f = *state;
    /* CompressedData with contentType 4 (P7), from test_mule_cdt.c. */
    static const uint8_t p7[] = { 0x30, 0x14, 0x80, 0x01, 0x01, 0x30, 0x0f, 0x80,
                                  0x01, 0x04, 0xa0, 0x0a, 0x04, 0x08, 0x78, 0x9c,
                                  0x03, 0x00, 0x00, 0x00, 0x00, 0x01 };
    static const uint8_t junk[] = "not BER at all";
    mule_node_result r;
    mule_node_in in;
    buf p;

    memset(&in, 0, sizeof(in));
    in.src = N2;
    in.payload = junk;
    in.payload_len = sizeof(junk) - 1;
    assert_int_equal(mule_node_inbound(&f->cfg, f->routes, &in, &f->clk, NULL, NULL, &r), 0);
    assert_false(r.has_relay);
    assert_int_equal(r.err, MULE_ERR_BER);
    mule_node_result_fini(&r);

    in.payload = p7;
    in.payload_len = sizeof(p7);
    assert_int_equal(mule_node_inbound(&f->cfg, f->routes, &in, &f->clk, NULL, NULL, &r), 0);
    assert_false(r.has_relay);
    assert_int_equal(r.err, MULE_ERR_NOT_MULE);
    mule_node_result_fini(&r);

    /* MULE content that is no BSMTP-like payload; what decoded is kept. */
    buf_init(&p, NULL, SIZE_MAX);
    assert_int_equal(mule_cdt_encode(&f->cdt, NULL, (const uint8_t *)"<a@b>\r\nno empty line",
                                     20, &p), 0);
    in.payload = p.data;
    in.payload_len = p.len;
    assert_int_equal(mule_node_inbound(&f->cfg, f->routes, &in, &f->clk, NULL, NULL, &r), 0);
    assert_false(r.has_relay);
    assert_false(r.has_dsn);
    assert_true(bsmtp_is_err(r.err));
    assert_false(mule_node_is_temporary(r.err));
    assert_int_equal(r.inflated.len, 20);
    mule_node_result_fini(&r);
    buf_fini(&p);

    /* Missing arguments are the caller's bug, not the message's. */
    assert_int_equal(mule_node_inbound(&f->cfg, f->routes, NULL, &f->clk, NULL, NULL, &r),
                     MULE_ERR_INVAL);
    mule_node_result_fini(&r);
    assert_int_equal(mule_node_inbound(&f->cfg, f->routes, &in, NULL, NULL, NULL, &r),
                     MULE_ERR_INVAL);
    mule_node_result_fini(&r);
    assert_int_equal(mule_node_inbound(&f->cfg, f->routes, &in, &f->clk, NULL, NULL, NULL),
                     MULE_ERR_INVAL);
}

/* n3 was an addressee and the recipient's route is n3: not ours. */
static void
test_mule_node_inbound_not_responsible(void **state)
{
    struct fixture *f = *state;
    uint32_t dests[] = { SELF, N3 };
    mule_node_result r;
    buf p;

    wrap(f, "<alice@two.example>\r\n<carol@three.example>\r\n", &p);
    mule_node_in in = in_msg(&p, dests, 2);
    assert_int_equal(mule_node_inbound(&f->cfg, f->routes, &in, &f->clk, NULL, NULL, &r), 0);
    assert_false(r.has_relay);
    assert_false(r.has_dsn);
    assert_int_equal(r.err, MULE_ERR_NOT_RESPONSIBLE);
    mule_node_result_fini(&r);
    buf_fini(&p);
    /* A recipient without a route, another addressee left: not ours either. */
    wrap(f, "<alice@two.example>\r\n<dave@nowhere.test>\r\n", &p);
    in = in_msg(&p, dests, 2);
    assert_int_equal(mule_node_inbound(&f->cfg, f->routes, &in, &f->clk, NULL, NULL, &r), 0);
    assert_int_equal(r.err, MULE_ERR_NOT_RESPONSIBLE);
    assert_false(r.has_dsn);
    mule_node_result_fini(&r);
    buf_fini(&p);
}

/* Mail submitted here for two destinations: two P_MUL messages, each
 * carrying only its recipient. */
static void
test_mule_node_outbound_split(void **state)
{
    struct fixture *f = *state;
    static const char *const rcpts[] = { "x@two.example", "y@three.example", NULL };
    bsmtp_envelope *env = envelope("alice@here.example", rcpts);
    mule_node_result r;

    assert_int_equal(mule_node_outbound(&f->cfg, f->routes, env, (const uint8_t *)content,
                                        sizeof(content) - 1, "client.example", "Q1", &f->clk,
                                        NULL, NULL, &r), 0);
    assert_true(r.has_relay);
    assert_false(r.has_dsn);
    assert_int_equal(r.relay.out_cnt, 2);
    for (size_t i = 0; i < 2; i++) {
        const mule_relay_out *o = &r.relay.outs[i];
        bsmtp_envelope *e = NULL;
        size_t off;
        buf plain;

        assert_int_equal(o->node_cnt, 1);
        assert_int_equal(o->nodes[0], o->group == 0xef010102u ? N2 : N3);
        buf_init(&plain, NULL, SIZE_MAX);
        assert_int_equal(mule_cdt_decode(&f->cdt, NULL, o->payload.data, o->payload.len,
                                         &plain, NULL), 0);
        assert_int_equal(bsmtp_payload_parse(plain.data, plain.len, NULL, NULL, &e, &off), 0);
        assert_int_equal(e->rcpt_cnt, 1);
        assert_string_equal(e->rcpts[0].addr,
                            o->nodes[0] == N2 ? "x@two.example" : "y@three.example");
        assert_true(has(plain.data + off, plain.len - off, "with MULE id Q1"));
        bsmtp_envelope_free(e);
        buf_fini(&plain);
    }
    mule_node_result_fini(&r);
    bsmtp_envelope_free(env);
}

/* The originator is local and a recipient has no route: the DSN is
 * delivered here (dsn.local_env), nothing of it goes over P_MUL. */
static void
test_mule_node_outbound_local_dsn(void **state)
{
    struct fixture *f = *state;
    static const char *const rcpts[] = { "x@two.example", "z@nowhere.test", NULL };
    bsmtp_envelope *env = envelope("alice@here.example", rcpts);
    mule_node_result r;

    assert_int_equal(mule_node_outbound(&f->cfg, f->routes, env, (const uint8_t *)content,
                                        sizeof(content) - 1, NULL, NULL, &f->clk, NULL, NULL,
                                        &r), 0);
    assert_true(r.has_relay);
    assert_int_equal(r.relay.out_cnt, 1);
    assert_int_equal(r.relay.failed_cnt, 1);
    assert_true(r.has_dsn);
    assert_int_equal(r.dsn.out_cnt, 0);
    assert_non_null(r.dsn.local_env);
    assert_string_equal(r.dsn.local_env->reverse_path, "");
    assert_int_equal(r.dsn.local_env->rcpt_cnt, 1);
    assert_string_equal(r.dsn.local_env->rcpts[0].addr, "alice@here.example");
    assert_true(has(r.dsn.content.data, r.dsn.content.len, "Status: 5.4.4"));
    assert_true(has(r.dsn.content.data, r.dsn.content.len, "z@nowhere.test"));
    mule_node_result_fini(&r);
    bsmtp_envelope_free(env);
}

/* The local MTA rejected a recipient after acceptance: the DSN carries its
 * enhanced code and reply, towards the originator's node. */
static void
test_mule_node_report_rejected(void **state)
{
    struct fixture *f = *state;
    static const char *const rcpts[] = { "bob@here.example", NULL };
    static const char *const want[] = {
        "Action: failed", "Status: 5.1.1",
        "Diagnostic-Code: smtp; 550 5.1.1 <bob@here.example>: user unknown",
        "Remote-MTA: dns; mta.here.example", NULL };
    bsmtp_envelope *env = envelope("alice@two.example", rcpts);
    mule_node_failure fl;
    mule_node_result r;

    memset(&fl, 0, sizeof(fl));
    fl.rcpt_idx = 0;
    fl.kind = MULE_DSN_REJECTED;
    fl.reply = "550 5.1.1 <bob@here.example>: user unknown";
    fl.remote_mta = "mta.here.example";
    assert_int_equal(mule_node_report(&f->cfg, f->routes, env, (const uint8_t *)content,
                                      sizeof(content) - 1, &fl, 1, DATE, &f->clk, NULL, NULL,
                                      &r), 0);
    assert_false(r.has_relay);
    assert_true(r.has_dsn);
    assert_int_equal(r.dsn.out_cnt, 1);
    assert_int_equal(r.dsn.outs[0].nodes[0], N2);
    expect_dsn_payload(f, &r.dsn.outs[0].payload, "alice@two.example", want);
    mule_node_result_fini(&r);

    /* An index beyond the envelope is the caller's bug. */
    fl.rcpt_idx = 1;
    assert_int_equal(mule_node_report(&f->cfg, f->routes, env, (const uint8_t *)content,
                                      sizeof(content) - 1, &fl, 1, DATE, &f->clk, NULL, NULL,
                                      &r), MULE_ERR_INVAL);
    mule_node_result_fini(&r);
    bsmtp_envelope_free(env);
}

/* A payload over payload_max is the mail's problem: err, no relay. */
static void
test_mule_node_payload_max(void **state)
{
    struct fixture *f = *state;
    static const char *const rcpts[] = { "x@two.example", NULL };
    bsmtp_envelope *env = envelope("alice@here.example", rcpts);
    uint32_t dests[] = { SELF };
    mule_node_result r;
    buf p;

    f->cfg.payload_max = 40;
    assert_int_equal(mule_node_outbound(&f->cfg, f->routes, env, (const uint8_t *)content,
                                        sizeof(content) - 1, NULL, NULL, &f->clk, NULL, NULL,
                                        &r), 0);
    assert_false(r.has_relay);
    assert_true(r.err == MULE_ERR_NOSPACE || r.err == BSMTP_ERR_CAP);
    assert_false(mule_node_is_temporary(r.err));
    assert_int_equal(r.relay.out_cnt, 0);
    mule_node_result_fini(&r);

    /* The same inbound for relaying: unusable here, not temporary. */
    wrap(f, "<alice@two.example>\r\n<carol@three.example>\r\n", &p);
    mule_node_in in = in_msg(&p, dests, 1);
    assert_int_equal(mule_node_inbound(&f->cfg, f->routes, &in, &f->clk, NULL, NULL, &r), 0);
    assert_false(r.has_relay);
    assert_true(r.err == MULE_ERR_NOSPACE || r.err == BSMTP_ERR_CAP);
    mule_node_result_fini(&r);
    buf_fini(&p);
    f->cfg.payload_max = 0;
    bsmtp_envelope_free(env);
}

/* Which call an allocation-failure round makes. */
enum call { C_INBOUND, C_OUTBOUND, C_REPORT };

static int
run_call(struct fixture *f, enum call c, const buf *p, const bsmtp_envelope *env, const mem *m,
         mule_node_result *r)
{
    static const uint32_t dests[] = { SELF };
    mule_node_failure fl;

    switch (c) {
    case C_INBOUND: {
        mule_node_in in = in_msg(p, dests, 1);

        return mule_node_inbound(&f->cfg, f->routes, &in, &f->clk, m, NULL, r);
    }
    case C_OUTBOUND:
        return mule_node_outbound(&f->cfg, f->routes, env, (const uint8_t *)content,
                                  sizeof(content) - 1, "c.example", "Q2", &f->clk, m, NULL, r);
    case C_REPORT:
        memset(&fl, 0, sizeof(fl));
        fl.rcpt_idx = 1;
        fl.kind = MULE_DSN_REJECTED;
        fl.reply = "550 5.1.1 no such user";
        return mule_node_report(&f->cfg, f->routes, env, (const uint8_t *)content,
                                sizeof(content) - 1, &fl, 1, DATE, &f->clk, m, NULL, r);
    }
    return -1;
}

/*
 * Each call with a local part, a relayed part and a DSN, failing the
 * k-th allocation for every k: a temporary code, or success with the
 * same decision as without failures; never a crash, and cmocka finds no
 * leak.
 */
static void
test_mule_node_alloc_failure(void **state)
{
    struct fixture *f = *state;
    static const char *const rcpts[] = { "x@two.example", "bob@here.example",
                                         "z@nowhere.test", NULL };
    struct tmem tm = { false, 0, 0 };
    mem m = tmem_make(&tm);
    bsmtp_envelope *env = envelope("alice@three.example", rcpts);
    mule_node_result r, base;
    long total, k;
    int rc;
    buf p;

    wrap(f, "<alice@three.example>\r\n<x@two.example>\r\n<bob@here.example>\r\n"
            "<z@nowhere.test>\r\n", &p);
    for (enum call c = C_INBOUND; c <= C_REPORT; c++) {
        tm.armed = false;
        tm.calls = 0;
        assert_int_equal(run_call(f, c, &p, env, &m, &base), 0);
        assert_true(base.has_dsn);
        total = tm.calls;
        for (k = 0; k < total; k++) {
            tm.armed = true;
            tm.left = k;
            rc = run_call(f, c, &p, env, &m, &r);
            tm.armed = false;
            if (rc != 0 && !mule_node_is_temporary(rc))
                fail_msg("call %d: fail at alloc %ld of %ld: got %s", (int)c, k, total,
                         mule_errname(rc));
            if (rc == 0 && (r.has_relay != base.has_relay || r.has_dsn != base.has_dsn ||
                            r.err != base.err || r.dsn_err != base.dsn_err ||
                            r.relay.out_cnt != base.relay.out_cnt ||
                            r.dsn.out_cnt != base.dsn.out_cnt))
                fail_msg("call %d: fail at alloc %ld of %ld: success with another result "
                         "(relay %d/%d err %s, dsn %d/%d dsn_err %s)", (int)c, k, total,
                         r.has_relay, base.has_relay, mule_errname(r.err), r.has_dsn,
                         base.has_dsn, mule_errname(r.dsn_err));
            mule_node_result_fini(&r);
        }
        mule_node_result_fini(&base);
        assert_int_equal(tm.live, 0);
    }
    buf_fini(&p);
    bsmtp_envelope_free(env);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mule_node_inbound_local),
        cmocka_unit_test(test_mule_node_inbound_relay),
        cmocka_unit_test(test_mule_node_inbound_route_back_is_a_loop),
        cmocka_unit_test(test_mule_node_inbound_noroute_dsn),
        cmocka_unit_test(test_mule_node_inbound_null_sender),
        cmocka_unit_test(test_mule_node_inbound_dsn_arrival_date),
        cmocka_unit_test(test_mule_node_inbound_by_counts_from_previous_mule_node),
        cmocka_unit_test(test_mule_node_inbound_dsn_without_route),
        cmocka_unit_test(test_mule_node_inbound_bad),
        cmocka_unit_test(test_mule_node_inbound_not_responsible),
        cmocka_unit_test(test_mule_node_outbound_split),
        cmocka_unit_test(test_mule_node_outbound_local_dsn),
        cmocka_unit_test(test_mule_node_report_rejected),
        cmocka_unit_test(test_mule_node_payload_max),
        cmocka_unit_test(test_mule_node_alloc_failure),
        cmocka_unit_test(test_mule_node_tunnelled_priority),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
