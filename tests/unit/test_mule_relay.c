/*
 * test_mule_relay.c: unit tests of mule/mule_relay (RFC 8494 section 3
 * steps 3-6).
 *
 * The split into one payload per ACP 142 destination (each with only its
 * RCPT-lines, MAIL and unknown parameters kept), responsibility and the
 * not-responsible drop, the Received field, priority mapping and
 * clamping, DELIVERBY expiry and by-time hand-over, loops, compression,
 * the DSN of the failures, bad payloads, caps and allocation failure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bsmtp/bsmtp_payload.h"
#include "mule/mule_cdt.h"
#include "mule/mule_err.h"
#include "mule/mule_hdr.h"
#include "mule/mule_relay.h"
#include "test_common.h"

#define SELF 0xc6120001u        /* 198.18.0.1 */
#define N2   0xc6120002u
#define N3   0xc6120003u
#define N4   0xc6120004u
#define N5   0xc6120005u

static const char routes_cfg[] =
    "route a.example   group 239.1.1.1 nodes 198.18.0.2\n"
    "route .b.example  group 239.1.1.2 nodes 198.18.0.3,198.18.0.4\n"
    "route c.example   group 239.1.1.1 nodes 198.18.0.2\n"
    "route d.example   group 239.1.1.3 nodes 198.18.0.5\n"
    "route here.example local\n"
    "route self.example group 239.1.1.1 nodes 198.18.0.1,198.18.0.2\n";

static const char content[] =
    "From: from@example.com\r\n"
    "To: many\r\n"
    "Subject: a test\r\n"
    "Message-ID: <m1@example.com>\r\n"
    "\r\n"
    "Body line\r\n"
    ".\r\n";

#define DATE "Tue, 2 Jan 2024 10:00:00 +0000"
#define NOW  1704189600

static mule_route_table *
routes(void)
{
    mule_route_table *t = NULL;

    assert_int_equal(mule_route_table_parse(routes_cfg, sizeof(routes_cfg) - 1, NULL, NULL,
                                            &t, NULL), 0);
    return t;
}

static mule_relay_config
config(void)
{
    mule_relay_config c;

    memset(&c, 0, sizeof(c));
    c.hostname = "relay.example";
    c.node_id = SELF;
    return c;
}

/* envelope lines + CRLF + content, in a static buffer */
static const uint8_t *
payload(const char *env_lines, size_t *len)
{
    static char p[65536];
    int n = snprintf(p, sizeof(p), "%s\r\n%s", env_lines, content);

    assert_true(n > 0 && (size_t)n < sizeof(p));
    *len = (size_t)n;
    return (const uint8_t *)p;
}

static mule_relay_input
input(const char *env_lines)
{
    mule_relay_input in;

    memset(&in, 0, sizeof(in));
    in.payload = payload(env_lines, &in.payload_len);
    in.from = "gw.example";
    in.id = "42";
    in.now_s = NOW;
    in.now_date = DATE;
    return in;
}

static const char split_env[] =
    "<from@example.com> MT-PRIORITY=4 BODY=8BITMIME RET=HDRS ENVID=QQ314159 X-UNKNOWN=1\r\n"
    "<u1@a.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Bob@enterprise.example.net\r\n"
    "<u2@x.B.example> NOTIFY=SUCCESS,FAILURE\r\n"
    "<u3@d.example> FOO=bar\r\n"
    "<u4@c.example>\r\n"
    "<u5@here.example>\r\n"
    "<u6@nowhere.test> NOTIFY=FAILURE\r\n";

/* 90 octets on one line: folded (mule_hdr_trace()). */
#define TRACE "Received: from gw.example\r\n\tby relay.example with MULE id 42;\r\n\t" DATE "\r\n"

static const mule_relay_out *
find_out(const mule_relay_result *r, uint32_t group)
{
    size_t i;

    for (i = 0; i < r->out_cnt; i++)
        if (r->outs[i].group == group)
            return &r->outs[i];
    fail_msg("no output for group %08x", group);
    return NULL;
}

static void
expect_payload(const mule_relay_out *o, const char *env_lines)
{
    char want[65536];
    int n = snprintf(want, sizeof(want), "%s\r\n" TRACE "%s", env_lines, content);

    assert_true(n > 0);
    if (o->payload.len != (size_t)n || memcmp(o->payload.data, want, (size_t)n) != 0)
        fail_msg("payload:\ngot  \"%.*s\"\nwant \"%s\"", (int)o->payload.len,
                 (const char *)o->payload.data, want);
}

/* Recipients on three destinations give three payloads, each with only
 * its RCPT-lines; MAIL parameters and unknown parameters are kept. */
static void
test_mule_relay_split_three_destinations(void **state)
{
    mule_route_table *t = routes();
    mule_relay_config c = config();
    mule_relay_input in = input(split_env);
    mule_relay_result r;
    const mule_relay_out *o;

    (void)state;
    assert_int_equal(mule_relay_run(&c, t, &in, NULL, NULL, &r), 0);
    /* Results do not point into the table: free it first. */
    mule_route_table_free(t);
    assert_int_equal(r.out_cnt, 3);

    o = find_out(&r, 0xef010101u);
    assert_int_equal(o->node_cnt, 1);
    assert_int_equal(o->nodes[0], N2);
    assert_int_equal(o->rcpt_cnt, 2);
    expect_payload(o, "<from@example.com> MT-PRIORITY=4 BODY=8BITMIME RET=HDRS ENVID=QQ314159 X-UNKNOWN=1\r\n"
                      "<u1@a.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Bob@enterprise.example.net\r\n"
                      "<u4@c.example>\r\n");
    o = find_out(&r, 0xef010102u);
    assert_int_equal(o->node_cnt, 2);
    assert_int_equal(o->nodes[0], N3);
    assert_int_equal(o->nodes[1], N4);
    expect_payload(o, "<from@example.com> MT-PRIORITY=4 BODY=8BITMIME RET=HDRS ENVID=QQ314159 X-UNKNOWN=1\r\n"
                      "<u2@x.B.example> NOTIFY=SUCCESS,FAILURE\r\n");
    o = find_out(&r, 0xef010103u);
    expect_payload(o, "<from@example.com> MT-PRIORITY=4 BODY=8BITMIME RET=HDRS ENVID=QQ314159 X-UNKNOWN=1\r\n"
                      "<u3@d.example> FOO=bar\r\n");
    assert_int_equal(o->priority, 2);
    assert_int_equal(o->expiry_s, NOW + MULE_RELAY_DEFAULT_EXPIRY_S);
    assert_false(o->compressed);

    /* Local part and the failure. */
    assert_non_null(r.local_env);
    assert_int_equal(r.local_env->rcpt_cnt, 1);
    assert_string_equal(r.local_env->rcpts[0].addr, "u5@here.example");
    assert_int_equal(r.local_cnt, 1);
    assert_int_equal(r.local_idx[0], 4);
    assert_int_equal(r.note_cnt, 1);
    assert_int_equal(r.notes[0].rcpt_idx, 5);
    assert_int_equal(r.notes[0].kind, MULE_DSN_NO_ROUTE);
    assert_int_equal(r.failed_cnt, 1);
    assert_int_equal(r.skipped_cnt, 0);
    /* The traced content. */
    assert_true(r.content.len == strlen(TRACE) + sizeof(content) - 1);
    assert_memory_equal(r.content.data, TRACE, strlen(TRACE));
    mule_relay_result_fini(&r);
}

/* The same message given as a parsed envelope gives the same result. */
static void
test_mule_relay_envelope_input(void **state)
{
    mule_route_table *t = routes();
    mule_relay_config c = config();
    mule_relay_input in = input(split_env);
    mule_relay_result r1, r2;
    bsmtp_envelope *env = NULL;
    size_t off, i;

    (void)state;
    assert_int_equal(bsmtp_payload_parse(in.payload, in.payload_len, NULL, NULL, &env, &off), 0);
    assert_int_equal(mule_relay_run(&c, t, &in, NULL, NULL, &r1), 0);
    in.env = env;
    in.content = in.payload + off;
    in.content_len = in.payload_len - off;
    in.payload = NULL;
    assert_int_equal(mule_relay_run(&c, t, &in, NULL, NULL, &r2), 0);
    bsmtp_envelope_free(env);
    assert_int_equal(r1.out_cnt, r2.out_cnt);
    for (i = 0; i < r1.out_cnt; i++) {
        assert_int_equal(r1.outs[i].payload.len, r2.outs[i].payload.len);
        assert_memory_equal(r1.outs[i].payload.data, r2.outs[i].payload.data,
                            r1.outs[i].payload.len);
    }
    mule_relay_result_fini(&r1);
    mule_relay_result_fini(&r2);
    mule_route_table_free(t);
}

/* Step 3: nothing for this node -> discard. */
static void
test_mule_relay_not_responsible_drop(void **state)
{
    static const uint32_t in_dests[] = { SELF, N2, N3, N4 };
    mule_route_table *t = routes();
    mule_relay_config c = config();
    mule_relay_input in = input("<from@example.com>\r\n"
                                "<u1@a.example>\r\n"      /* N2 had it already */
                                "<u2@x.b.example>\r\n"    /* N3, N4 too */
                                "<u6@nowhere.test>\r\n"); /* someone else's */
    mule_relay_result r;
    struct tlog tl;
    logger lg = tlog_make(&tl);

    (void)state;
    in.in_dests = in_dests;
    in.in_dest_cnt = 4;
    assert_int_equal(mule_relay_run(&c, t, &in, NULL, &lg, &r), MULE_ERR_NOT_RESPONSIBLE);
    assert_int_equal(r.out_cnt, 0);
    assert_null(r.env);
    assert_int_equal(tl.count[LOG_LVL_INFO], 0);
    mule_route_table_free(t);
}

/* Partly covered destinations are sent only to the nodes that did not
 * get the inbound message; unrouted recipients are ours only when this
 * node was the sole addressee. */
static void
test_mule_relay_responsibility(void **state)
{
    static const uint32_t some[] = { SELF, N3 };
    static const uint32_t only_self[] = { SELF };
    mule_route_table *t = routes();
    mule_relay_config c = config();
    mule_relay_input in = input("<from@example.com>\r\n"
                                "<u2@x.b.example>\r\n"
                                "<u6@nowhere.test>\r\n"
                                "<u7@self.example>\r\n");
    mule_relay_result r;

    (void)state;
    in.in_dests = some;
    in.in_dest_cnt = 2;
    assert_int_equal(mule_relay_run(&c, t, &in, NULL, NULL, &r), 0);
    assert_int_equal(r.out_cnt, 1);
    assert_int_equal(r.outs[0].node_cnt, 1);
    assert_int_equal(r.outs[0].nodes[0], N4);
    assert_int_equal(r.skipped_cnt, 1);         /* u6 */
    assert_int_equal(r.note_cnt, 0);
    /* A route naming this node delivers here. */
    assert_int_equal(r.local_cnt, 1);
    assert_string_equal(r.local_env->rcpts[0].addr, "u7@self.example");
    mule_relay_result_fini(&r);

    in.in_dests = only_self;
    in.in_dest_cnt = 1;
    assert_int_equal(mule_relay_run(&c, t, &in, NULL, NULL, &r), 0);
    assert_int_equal(r.skipped_cnt, 0);
    assert_int_equal(r.note_cnt, 1);
    assert_int_equal(r.notes[0].kind, MULE_DSN_NO_ROUTE);
    assert_int_equal(r.outs[0].node_cnt, 2);
    mule_relay_result_fini(&r);
    mule_route_table_free(t);
}

/* Step 4: the exact trace field, folded when long. */
static void
test_mule_relay_received_header(void **state)
{
    mule_route_table *t = routes();
    mule_relay_config c = config();
    mule_relay_input in = input("<from@example.com>\r\n<u5@here.example>\r\n");
    mule_relay_result r;
    /* Exactly 78 octets: one line. */
    static const char want[] =
        "Received: from gw by r.example with MULE id 42;"
        " Tue, 2 Jan 2024 10:00:00 +0000\r\n"
        "From: from@example.com\r\n";
    static const char want_folded[] =
        "Received: from 198.18.0.77\r\n"
        "\tby relay.example with MULE id 00000000deadbeef;\r\n"
        "\tTue, 2 Jan 2024 10:00:00 +0000\r\n"
        "From: from@example.com\r\n";

    (void)state;
    in.from = "gw";
    c.hostname = "r.example";
    assert_int_equal(mule_relay_run(&c, t, &in, NULL, NULL, &r), 0);
    assert_memory_equal(r.content.data, want, sizeof(want) - 1);
    c.hostname = "relay.example";
    assert_int_equal(mule_hdr_count(r.content.data, r.content.len, "Received"), 1);
    mule_relay_result_fini(&r);
    in.from = "198.18.0.77";
    in.id = "00000000deadbeef";
    assert_int_equal(mule_relay_run(&c, t, &in, NULL, NULL, &r), 0);
    assert_memory_equal(r.content.data, want_folded, sizeof(want_folded) - 1);
    mule_relay_result_fini(&r);
    /* A hostname that could inject header lines is refused. */
    c.hostname = "relay.example\r\nX-Evil: 1";
    assert_int_equal(mule_relay_run(&c, t, &in, NULL, NULL, &r), MULE_ERR_INVAL);
    mule_route_table_free(t);
}

static void
test_mule_relay_priority_mapping(void **state)
{
    static const struct {
        bool has;
        int mt;
        unsigned want;
        bool clamped;
    } cases[] = {
        { false, 0, 6, false }, { true, 0, 6, false }, { true, 4, 2, false },
        { true, 6, 0, false },  { true, 7, 0, true },  { true, 9, 0, true },
        { true, -1, 7, false }, { true, -9, 15, false }, { true, -10, 15, true },
    };
    bsmtp_mail_info mi;
    bool clamped;
    size_t i;
    uint8_t p;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&mi, 0, sizeof(mi));
        mi.has_mt_priority = cases[i].has;
        mi.mt_priority = cases[i].mt;
        p = mule_relay_priority(&mi, &clamped);
        if (p != cases[i].want || clamped != cases[i].clamped)
            fail_msg("MT-PRIORITY %d: got %u%s, want %u%s", cases[i].mt, p,
                     clamped ? " clamped" : "", cases[i].want, cases[i].clamped ? " clamped" : "");
    }
    assert_int_equal(mule_relay_priority(NULL, NULL), 6);
}

/* Clamping is logged and the outputs carry the clamped value. */
static void
test_mule_relay_priority_clamp_logged(void **state)
{
    mule_route_table *t = routes();
    mule_relay_config c = config();
    mule_relay_input in = input("<from@example.com> MT-PRIORITY=9\r\n<u1@a.example>\r\n");
    mule_relay_result r;
    struct tlog tl;
    logger lg = tlog_make(&tl);

    (void)state;
    assert_int_equal(mule_relay_run(&c, t, &in, NULL, &lg, &r), 0);
    assert_int_equal(r.outs[0].priority, 0);
    assert_true(r.priority_clamped);
    assert_int_equal(tl.count[LOG_LVL_WARN], 1);
    mule_relay_result_fini(&r);
    mule_route_table_free(t);
}

/* Expiry = min(default, BY deadline); the by-time handed on shrinks. */
static void
test_mule_relay_deliverby_expiry(void **state)
{
    mule_route_table *t = routes();
    mule_relay_config c = config();
    mule_relay_input in = input("<from@example.com> BY=3600;R\r\n<u3@d.example>\r\n");
    mule_relay_result r;

    (void)state;
    in.arrival_s = NOW - 100;
    assert_int_equal(mule_relay_run(&c, t, &in, NULL, NULL, &r), 0);
    assert_int_equal(r.expiry_s, NOW - 100 + 3600);
    assert_int_equal(r.outs[0].expiry_s, NOW + 3500);
    assert_false(r.deadline_passed);
    expect_payload(&r.outs[0], "<from@example.com> BY=3500;R\r\n<u3@d.example>\r\n");
    mule_relay_result_fini(&r);
    /* A default shorter than the deadline wins. */
    c.default_expiry_s = 600;
    assert_int_equal(mule_relay_run(&c, t, &in, NULL, NULL, &r), 0);
    assert_int_equal(r.expiry_s, NOW + 600);
    mule_relay_result_fini(&r);
    /* BY;N: late delivery is still wanted, so no shorter P_MUL expiry. */
    {
        bsmtp_mail_info mi;
        bool passed;

        memset(&mi, 0, sizeof(mi));
        mi.by_mode = BSMTP_BY_NOTIFY;
        mi.by_time_s = 3600;
        assert_int_equal(mule_relay_expiry(&mi, NOW - 100, NOW, 86400, &passed), NOW + 86400);
        assert_false(passed);
        mi.by_mode = BSMTP_BY_RETURN;
        assert_int_equal(mule_relay_expiry(&mi, NOW - 100, NOW, 86400, &passed), NOW + 3500);
        mi.by_time_s = 100;
        assert_int_equal(mule_relay_expiry(&mi, NOW - 100, NOW, 86400, &passed), NOW + 86400);
        assert_true(passed);
        assert_int_equal(mule_relay_expiry(NULL, 0, NOW, 60, NULL), NOW + 60);
    }
    /* Arrived now: the BY parameter is passed on as written. */
    in.arrival_s = 0;
    c.default_expiry_s = 0;
    assert_int_equal(mule_relay_run(&c, t, &in, NULL, NULL, &r), 0);
    assert_int_equal(r.expiry_s, NOW + 3600);
    expect_payload(&r.outs[0], "<from@example.com> BY=3600;R\r\n<u3@d.example>\r\n");
    mule_relay_result_fini(&r);
    mule_route_table_free(t);
}

/* A passed BY;R deadline fails every recipient with 5.4.7, and the DSN
 * says so. */
static void
test_mule_relay_deliverby_return_expired(void **state)
{
    mule_route_table *t = routes();
    mule_relay_config c = config();
    mule_relay_input in = input("<from@example.com> BY=60;R ENVID=E1\r\n"
                                "<u3@d.example>\r\n<u5@here.example> NOTIFY=NEVER\r\n");
    mule_relay_result r;
    mule_dsn_config dc = { "relay.example", DATE, "<dsn-7@relay.example>", 0, 0 };
    mule_dsn d;
    char *txt;

    (void)state;
    in.arrival_s = NOW - 100;
    assert_int_equal(mule_relay_run(&c, t, &in, NULL, NULL, &r), 0);
    assert_true(r.deadline_passed);
    assert_int_equal(r.out_cnt, 0);
    assert_null(r.local_env);
    assert_int_equal(r.note_cnt, 2);
    assert_int_equal(r.notes[0].kind, MULE_DSN_EXPIRED);
    assert_int_equal(r.notes[1].kind, MULE_DSN_EXPIRED);
    assert_int_equal(mule_relay_dsn(&r, &dc, "Tue, 2 Jan 2024 09:58:20 +0000", NULL, &d), 0);
    /* NOTIFY=NEVER keeps u5 out of the report. */
    assert_int_equal(d.reported_cnt, 1);
    txt = strndup((const char *)d.content.data, d.content.len);
    assert_non_null(strstr(txt, "Final-Recipient: rfc822; u3@d.example\r\nAction: failed\r\n"
                                "Status: 5.4.7\r\n"));
    assert_non_null(strstr(txt, "Original-Envelope-Id: E1\r\n"));
    assert_null(strstr(txt, "u5@here.example"));
    free(txt);
    mule_dsn_fini(&d);
    mule_relay_result_fini(&r);
    mule_route_table_free(t);
}

/* A passed BY;N deadline relays anyway, without the deadline, with a
 * negative by-time, and notes a delay (reported only for NOTIFY=DELAY). */
static void
test_mule_relay_deliverby_notify_late(void **state)
{
    mule_route_table *t = routes();
    mule_relay_config c = config();
    mule_relay_input in = input("<from@example.com> BY=60;NT\r\n"
                                "<u3@d.example> NOTIFY=DELAY\r\n<u1@a.example>\r\n");
    mule_relay_result r;
    mule_dsn_config dc = { "relay.example", DATE, "<dsn-8@relay.example>", 0, 0 };
    mule_dsn d;

    (void)state;
    in.arrival_s = NOW - 100;
    assert_int_equal(mule_relay_run(&c, t, &in, NULL, NULL, &r), 0);
    assert_true(r.deadline_passed);
    assert_int_equal(r.out_cnt, 2);
    assert_int_equal(r.expiry_s, NOW + MULE_RELAY_DEFAULT_EXPIRY_S);
    expect_payload(find_out(&r, 0xef010103u),
                   "<from@example.com> BY=-40;NT\r\n<u3@d.example> NOTIFY=DELAY\r\n");
    assert_int_equal(r.note_cnt, 2);
    assert_int_equal(r.notes[0].kind, MULE_DSN_DELAYED);
    assert_int_equal(r.failed_cnt, 0);
    assert_int_equal(mule_relay_dsn(&r, &dc, DATE, NULL, &d), 0);
    assert_int_equal(d.reported_cnt, 1);      /* only u3 asked for DELAY */
    assert_false(d.failed);
    mule_dsn_fini(&d);
    mule_relay_result_fini(&r);
    mule_route_table_free(t);
}

/*
 * A mail that waited at this node (its MTA was down) is handed on with
 * BY= as the time left at the hand-off, not as it was when spooled (found
 * with sendmail behind muled, test_muled_deliverby).  Table: spooled BY=,
 * seconds since, want BY= (NULL: no copy, the envelope is right as it is).
 */
static void
test_mule_relay_by_left_after_waiting_in_queue(void **state)
{
    static const struct {
        const char *params;
        int64_t waited_s;
        const char *want;
        long want_s;
    } cases[] = {
        { "SIZE=10 BY=3597;R", 6, "3591;R", 3591 },
        { "BY=3597;RT SIZE=10", 1, "3596;RT", 3596 },
        { "BY=5;N", 10, "-5;N", -5 },
        { "BY=-999999990;N", 20, "-999999999;N", -999999999 },
        { "BY=600;R", 0, NULL, 0 },
        { "SIZE=10", 60, NULL, 0 },
    };
    struct tmem tm = { false, 0, 0 };
    mem m = tmem_make(&tm);
    size_t i, k;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bsmtp_envelope *env = NULL, *out = NULL;
        const char *by = NULL;

        assert_int_equal(bsmtp_envelope_new("from@example.com", cases[i].params, NULL, &env), 0);
        assert_int_equal(bsmtp_envelope_add_rcpt(env, "u1@a.example", "NOTIFY=DELAY"), 0);
        assert_int_equal(bsmtp_envelope_add_rcpt(env, "u2@b.example", NULL), 0);
        assert_int_equal(mule_relay_by_left(env, NOW - cases[i].waited_s, NOW, &m, &out), 0);
        if (cases[i].want == NULL) {
            if (out != NULL)
                fail_msg("%s after %lld s: got a copy, want none", cases[i].params,
                         (long long)cases[i].waited_s);
            bsmtp_envelope_free(env);
            continue;
        }
        assert_non_null(out);
        for (k = 0; k < out->param_cnt; k++)
            if (strcmp(out->params[k].keyword, "BY") == 0)
                by = out->params[k].value;
        if (by == NULL || strcmp(by, cases[i].want) != 0)
            fail_msg("%s after %lld s: got BY=%s, want BY=%s", cases[i].params,
                     (long long)cases[i].waited_s, by != NULL ? by : "(none)", cases[i].want);
        assert_int_equal(out->mail.by_time_s, cases[i].want_s);
        /* Everything else as it was: the other parameters, every recipient. */
        assert_int_equal(out->param_cnt, env->param_cnt);
        assert_string_equal(out->reverse_path, env->reverse_path);
        assert_int_equal(out->rcpt_cnt, 2);
        assert_string_equal(out->rcpts[0].addr, "u1@a.example");
        assert_int_equal(out->rcpts[0].info.notify, BSMTP_NOTIFY_DELAY);
        assert_string_equal(out->rcpts[1].addr, "u2@b.example");
        /* Every allocation failure is reported, and nothing leaks. */
        tm.calls = 0;
        bsmtp_envelope_free(out);
        out = NULL;
        assert_int_equal(mule_relay_by_left(env, NOW - cases[i].waited_s, NOW, &m, &out), 0);
        bsmtp_envelope_free(out);
        for (long total = tm.calls, n = 0; n < total; n++) {
            int rc;

            tm.armed = true;
            tm.left = n;
            rc = mule_relay_by_left(env, NOW - cases[i].waited_s, NOW, &m, &out);
            tm.armed = false;
            if (rc != MULE_ERR_NOMEM || out != NULL)
                fail_msg("fail at alloc %ld of %ld: got %s, want NOMEM and no copy", n, total,
                         mule_errname(rc));
        }
        bsmtp_envelope_free(env);
    }
    assert_int_equal(mule_relay_by_left(NULL, 0, NOW, NULL, NULL), MULE_ERR_INVAL);
}

/* Too many Received fields: a loop, every recipient fails with 5.4.6. */
static void
test_mule_relay_loop_detected(void **state)
{
    mule_route_table *t = routes();
    mule_relay_config c = config();
    char *p = malloc(65536);
    size_t off = 0;
    int i;
    mule_relay_input in;
    mule_relay_result r;

    (void)state;
    assert_non_null(p);
    off += (size_t)snprintf(p + off, 65536 - off, "<from@example.com>\r\n<u1@a.example>\r\n\r\n");
    for (i = 0; i < 5; i++)
        off += (size_t)snprintf(p + off, 65536 - off, "Received: by hop%d with MULE; " DATE "\r\n", i);
    off += (size_t)snprintf(p + off, 65536 - off, "\r\nbody\r\n");
    memset(&in, 0, sizeof(in));
    in.payload = (const uint8_t *)p;
    in.payload_len = off;
    in.now_s = NOW;
    in.now_date = DATE;
    c.max_hops = 5;
    assert_int_equal(mule_relay_run(&c, t, &in, NULL, NULL, &r), 0);
    assert_int_equal(r.out_cnt, 0);
    assert_int_equal(r.note_cnt, 1);
    assert_int_equal(r.notes[0].kind, MULE_DSN_LOOP);
    mule_relay_result_fini(&r);
    c.max_hops = 6;
    assert_int_equal(mule_relay_run(&c, t, &in, NULL, NULL, &r), 0);
    assert_int_equal(r.out_cnt, 1);
    mule_relay_result_fini(&r);
    free(p);
    mule_route_table_free(t);
}

/* With a CDT config the outputs are CompressedData that decodes back to
 * exactly the plain payload. */
static void
test_mule_relay_compressed_output(void **state)
{
    mule_route_table *t = routes();
    mule_relay_config c = config();
    mule_relay_input in = input(split_env);
    mule_relay_result plain, comp;
    mule_cdt_config cc;
    buf back;
    size_t i;
    int ct;

    (void)state;
    mule_cdt_config_init(&cc);
    assert_int_equal(mule_relay_run(&c, t, &in, NULL, NULL, &plain), 0);
    c.cdt = &cc;
    assert_int_equal(mule_relay_run(&c, t, &in, NULL, NULL, &comp), 0);
    assert_int_equal(plain.out_cnt, comp.out_cnt);
    for (i = 0; i < comp.out_cnt; i++) {
        assert_true(comp.outs[i].compressed);
        buf_init(&back, NULL, SIZE_MAX);
        assert_int_equal(mule_cdt_decode(&cc, NULL, comp.outs[i].payload.data,
                                         comp.outs[i].payload.len, &back, &ct), 0);
        assert_int_equal(ct, 25);
        assert_int_equal(back.len, plain.outs[i].payload.len);
        assert_memory_equal(back.data, plain.outs[i].payload.data, back.len);
        buf_fini(&back);
    }
    mule_relay_result_fini(&plain);
    mule_relay_result_fini(&comp);
    mule_route_table_free(t);
}

static void
test_mule_relay_bad_input(void **state)
{
    mule_route_table *t = routes();
    mule_relay_config c = config();
    mule_relay_input in = input("<from@example.com>\r\n<not an address>\r\n");
    mule_relay_result r;
    static const uint8_t no_empty_line[] = "<a@b.example>\r\n<c@a.example>\r\n";

    (void)state;
    /* bsmtp's verdict on the payload arrives unchanged (one error space). */
    assert_int_equal(mule_relay_run(&c, t, &in, NULL, NULL, &r), BSMTP_ERR_PATH);
    in.payload = no_empty_line;
    in.payload_len = sizeof(no_empty_line) - 1;
    assert_int_equal(mule_relay_run(&c, t, &in, NULL, NULL, &r), BSMTP_ERR_NO_EMPTY_LINE);
    assert_int_equal(mule_relay_run(&c, t, &in, NULL, NULL, NULL), MULE_ERR_INVAL);
    assert_int_equal(mule_relay_run(NULL, t, &in, NULL, NULL, &r), MULE_ERR_INVAL);
    in.now_date = NULL;
    assert_int_equal(mule_relay_run(&c, t, &in, NULL, NULL, &r), MULE_ERR_INVAL);
    /* No table: every recipient is unroutable, and ours from SMTP. */
    in = input("<from@example.com>\r\n<u1@a.example>\r\n");
    assert_int_equal(mule_relay_run(&c, NULL, &in, NULL, NULL, &r), 0);
    assert_int_equal(r.notes[0].kind, MULE_DSN_NO_ROUTE);
    mule_relay_result_fini(&r);
    mule_relay_result_fini(&r);     /* twice is harmless */
    assert_int_equal(mule_relay_dsn(&r, NULL, DATE, NULL, NULL), MULE_ERR_INVAL);
    mule_route_table_free(t);
}

static void
test_mule_relay_payload_cap(void **state)
{
    mule_route_table *t = routes();
    mule_relay_config c = config();
    mule_relay_input in = input("<from@example.com>\r\n<u1@a.example>\r\n");
    mule_relay_result r;

    (void)state;
    c.payload_max = 64;
    /* bsmtp hit the cap while building the payload: its code, unchanged. */
    assert_int_equal(mule_relay_run(&c, t, &in, NULL, NULL, &r), BSMTP_ERR_CAP);
    assert_int_equal(r.out_cnt, 0);
    mule_route_table_free(t);
}

/* Every allocation fails once, for a plain split, a by-time rewrite
 * (envelopes rebuilt) and compressed output; each run gives NOMEM and
 * cmocka finds no leak. */
static void
test_mule_relay_alloc_failure(void **state)
{
    struct tmem tm = { false, 0, 0 };
    mem m = tmem_make(&tm);
    mule_route_table *t = routes();
    mule_relay_config c = config();
    mule_relay_input in;
    mule_relay_result r;
    mule_cdt_config cc;
    long total, k;
    int rc, round;

    (void)state;
    mule_cdt_config_init(&cc);
    for (round = 0; round < 3; round++) {
        in = input(round == 1 ? "<from@example.com> BY=600;R\r\n<u1@a.example> FOO=1\r\n"
                                "<u5@here.example>\r\n<u3@d.example>\r\n"
                              : split_env);
        in.arrival_s = NOW - 5;
        c.cdt = round == 2 ? &cc : NULL;
        tm.armed = false;
        tm.calls = 0;
        assert_int_equal(mule_relay_run(&c, t, &in, &m, NULL, &r), 0);
        mule_relay_result_fini(&r);
        total = tm.calls;
        for (k = 0; k < total; k++) {
            tm.armed = true;
            tm.left = k;
            rc = mule_relay_run(&c, t, &in, &m, NULL, &r);
            tm.armed = false;
            if (rc != MULE_ERR_NOMEM)
                fail_msg("round %d: fail at alloc %ld of %ld: got %s, want NOMEM", round, k,
                         total, mule_errname(rc));
        }
    }
    mule_route_table_free(t);
}

/*
 * Every prefix of a payload, each run on a heap copy of exactly that
 * length (ASan catches over-reads; cmocka's allocator catches leaks):
 * the relay either refuses it as an envelope error or relays it, and
 * whatever it relays parses again into exactly its recipients.
 */
static void
test_mule_relay_truncation_loop(void **state)
{
    struct tmem tm = { false, 0, 0 };
    mem m = tmem_make(&tm);
    mule_route_table *t = routes();
    mule_relay_config c = config();
    mule_relay_input in = input("<from@example.com> BY=600;N RET=HDRS\r\n"
                                "<u1@a.example> NOTIFY=DELAY\r\n<u5@here.example>\r\n"
                                "<u6@nowhere.test>\n<u2@x.b.example>\r\n");
    const uint8_t *full = in.payload;
    size_t len, full_len = in.payload_len, i, off;
    bsmtp_envelope *e;
    mule_relay_result r;
    uint8_t *p;
    int rc;

    (void)state;
    in.arrival_s = NOW - 900;       /* the BY;N deadline has passed */
    for (len = 0; len <= full_len; len++) {
        p = test_malloc(len != 0 ? len : 1);
        memcpy(p, full, len);
        in.payload = p;
        in.payload_len = len;
        rc = mule_relay_run(&c, t, &in, &m, NULL, &r);
        if (rc != 0 && !bsmtp_is_err(rc))
            fail_msg("prefix %zu: got %s, want OK or a BSMTP_ERR_*", len, mule_errname(rc));
        if (rc == 0) {
            for (i = 0; i < r.out_cnt; i++) {
                e = NULL;
                assert_int_equal(bsmtp_payload_parse(r.outs[i].payload.data,
                                                     r.outs[i].payload.len, NULL, NULL, &e,
                                                     &off), 0);
                assert_int_equal(e->rcpt_cnt, r.outs[i].rcpt_cnt);
                bsmtp_envelope_free(e);
            }
            assert_true(r.note_cnt >= 1);   /* the delay or no route */
            mule_relay_result_fini(&r);
        }
        assert_int_equal(tm.live, 0);
        test_free(p);
    }
    mule_route_table_free(t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mule_relay_split_three_destinations),
        cmocka_unit_test(test_mule_relay_envelope_input),
        cmocka_unit_test(test_mule_relay_not_responsible_drop),
        cmocka_unit_test(test_mule_relay_responsibility),
        cmocka_unit_test(test_mule_relay_received_header),
        cmocka_unit_test(test_mule_relay_priority_mapping),
        cmocka_unit_test(test_mule_relay_priority_clamp_logged),
        cmocka_unit_test(test_mule_relay_deliverby_expiry),
        cmocka_unit_test(test_mule_relay_deliverby_return_expired),
        cmocka_unit_test(test_mule_relay_deliverby_notify_late),
        cmocka_unit_test(test_mule_relay_by_left_after_waiting_in_queue),
        cmocka_unit_test(test_mule_relay_loop_detected),
        cmocka_unit_test(test_mule_relay_compressed_output),
        cmocka_unit_test(test_mule_relay_bad_input),
        cmocka_unit_test(test_mule_relay_payload_cap),
        cmocka_unit_test(test_mule_relay_alloc_failure),
        cmocka_unit_test(test_mule_relay_truncation_loop),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
