/*
 * test_mule_node.c: unit tests of mule/mule_node (one node's MULE
 * decisions).
 *
 * A routing table for node 198.18.0.2 (n2): hq (n1) and far (n3) are
 * remote, here.example is local.  Cases: inbound to a local recipient;
 * inbound relayed on to a node that was not addressed; inbound with a
 * route-less recipient and this node the only addressee (DSN relayed to
 * the originator's node, decoded back); null sender (no DSN); malformed
 * CompressedData and payload; not responsible; outbound split over two
 * destinations; a report of an MTA rejection; allocation failure at every
 * step of an inbound decision.
 */
#define _GNU_SOURCE             /* memmem */
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
#include "mule/mule_node.h"
#include "test_common.h"

#define N1 0xC6120001u
#define N2 0xC6120002u
#define N3 0xC6120003u

static const char routes_cfg[] =
    "route hq.example    group 239.1.1.2 nodes 198.18.0.1\n"
    "route far.example   group 239.1.1.2 nodes 198.18.0.3\n"
    "route other.example group 239.1.1.3 nodes 198.18.0.4\n"
    "route here.example  local\n";

static mule_route_table *routes;
static mule_cdt_config cdt;
static mule_node_config ncfg;
static mule_node_clock clk = {1796464000, "Sat, 05 Dec 2026 10:00:00 +0000",
                              "<dsn1@n2.example>"};

static int
setup(void **state)
{
    (void)state;
    mule_cdt_config_init(&cdt);
    memset(&ncfg, 0, sizeof(ncfg));
    ncfg.hostname = "n2.example";
    ncfg.node_id = N2;
    ncfg.cdt = &cdt;
    return mule_route_table_parse(routes_cfg, sizeof(routes_cfg) - 1, NULL, NULL, &routes, NULL);
}

static int
teardown(void **state)
{
    (void)state;
    mule_route_table_free(routes);
    return 0;
}

/* A CompressedData payload for FROM -> RCPTs (NULL-terminated). */
static void
payload(buf *out, const char *from, const char *const *rcpts)
{
    buf plain;

    buf_init(&plain, NULL, SIZE_MAX);
    buf_init(out, NULL, SIZE_MAX);
    assert_int_equal(buf_printf(&plain, "<%s>\r\n", from), 0);
    for (; *rcpts != NULL; rcpts++)
        assert_int_equal(buf_printf(&plain, "<%s>\r\n", *rcpts), 0);
    assert_int_equal(buf_printf(&plain, "\r\nSubject: t\r\nMessage-ID: <m@hq.example>\r\n\r\n"
                                        "body\r\n"), 0);
    assert_int_equal(mule_cdt_encode(&cdt, NULL, plain.data, plain.len, out), 0);
    buf_fini(&plain);
}

static int
inbound(const char *from, const char *const *rcpts, const uint32_t *dests, size_t dn,
        mule_node_result *res, const mem *m)
{
    mule_node_in in;
    buf p;
    int rc;

    payload(&p, from, rcpts);
    memset(&in, 0, sizeof(in));
    in.src = N1;
    in.msid = 7;
    in.dests = dests;
    in.dest_cnt = dn;
    in.payload = p.data;
    in.payload_len = p.len;
    rc = mule_node_inbound(&ncfg, routes, &in, &clk, m, NULL, res);
    buf_fini(&p);
    return rc;
}

static void
test_mule_node_inbound_local(void **state)
{
    static const char *const r[] = {"bob@here.example", NULL};
    static const uint32_t d[] = {N2};
    mule_node_result res;

    (void)state;
    assert_int_equal(inbound("alice@hq.example", r, d, 1, &res, NULL), 0);
    assert_true(res.has_relay);
    assert_non_null(res.relay.local_env);
    assert_int_equal(res.relay.local_env->rcpt_cnt, 1);
    assert_int_equal(res.relay.out_cnt, 0);
    assert_non_null(strstr((const char *)res.relay.content.data, "by n2.example with MULE"));
    assert_false(res.has_dsn);
    mule_node_result_fini(&res);
}

/* far.example is reached through n3, which was not addressed: relay. */
static void
test_mule_node_inbound_relays_on(void **state)
{
    static const char *const r[] = {"carol@far.example", NULL};
    static const uint32_t d[] = {N2};
    mule_node_result res;

    (void)state;
    assert_int_equal(inbound("alice@hq.example", r, d, 1, &res, NULL), 0);
    assert_true(res.has_relay);
    assert_null(res.relay.local_env);
    assert_int_equal(res.relay.out_cnt, 1);
    assert_int_equal(res.relay.outs[0].node_cnt, 1);
    assert_int_equal(res.relay.outs[0].nodes[0], N3);
    mule_node_result_fini(&res);

    /* n3 was an addressee too: it got the message directly. */
    {
        static const uint32_t d2[] = {N2, N3};

        assert_int_equal(inbound("alice@hq.example", r, d2, 2, &res, NULL), 0);
        assert_false(res.has_relay);
        assert_int_equal(res.err, MULE_ERR_NOT_RESPONSIBLE);
        mule_node_result_fini(&res);
    }
}

/* No route and this node the only addressee: a DSN to the originator,
 * relayed to n1 (hq.example), that decodes as a failure report. */
static void
test_mule_node_inbound_no_route_dsn(void **state)
{
    static const char *const r[] = {"x@nowhere.example", "bob@here.example", NULL};
    static const uint32_t d[] = {N2};
    mule_node_result res;
    buf plain;
    bsmtp_envelope *env = NULL;
    size_t off = 0;

    (void)state;
    assert_int_equal(inbound("alice@hq.example", r, d, 1, &res, NULL), 0);
    assert_true(res.has_relay);
    assert_int_equal(res.relay.failed_cnt, 1);
    assert_non_null(res.relay.local_env);
    assert_true(res.has_dsn);
    assert_int_equal(res.dsn.out_cnt, 1);
    assert_int_equal(res.dsn.outs[0].nodes[0], N1);
    buf_init(&plain, NULL, SIZE_MAX);
    assert_int_equal(mule_cdt_decode(&cdt, NULL, res.dsn.outs[0].payload.data,
                                     res.dsn.outs[0].payload.len, &plain, NULL), 0);
    assert_int_equal(bsmtp_payload_parse(plain.data, plain.len, NULL, NULL, &env, &off), 0);
    assert_string_equal(env->reverse_path, "");
    assert_int_equal(env->rcpt_cnt, 1);
    assert_string_equal(env->rcpts[0].addr, "alice@hq.example");
    assert_non_null(memmem(plain.data, plain.len, "multipart/report", 16));
    assert_non_null(memmem(plain.data, plain.len, "Status: 5.4.4", 13));
    bsmtp_envelope_free(env);
    buf_fini(&plain);
    mule_node_result_fini(&res);

    /* Null sender: no DSN. */
    assert_int_equal(inbound("", r, d, 1, &res, NULL), 0);
    assert_false(res.has_dsn);
    assert_int_equal(res.dsn_err, MULE_ERR_DSN_NULL_SENDER);
    mule_node_result_fini(&res);
}

static void
test_mule_node_inbound_malformed(void **state)
{
    static const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x00};
    mule_node_in in;
    mule_node_result res;
    buf b;

    (void)state;
    memset(&in, 0, sizeof(in));
    in.src = N1;
    in.msid = 9;
    in.payload = junk;
    in.payload_len = sizeof(junk);
    assert_int_equal(mule_node_inbound(&ncfg, routes, &in, &clk, NULL, NULL, &res), 0);
    assert_false(res.has_relay);
    assert_true(res.err < 0 && res.err != MULE_ERR_NOT_RESPONSIBLE);
    mule_node_result_fini(&res);
    /* CompressedData fine, payload not BSMTP. */
    buf_init(&b, NULL, SIZE_MAX);
    assert_int_equal(mule_cdt_encode(&cdt, NULL, (const uint8_t *)"no envelope", 11, &b), 0);
    in.payload = b.data;
    in.payload_len = b.len;
    assert_int_equal(mule_node_inbound(&ncfg, routes, &in, &clk, NULL, NULL, &res), 0);
    assert_false(res.has_relay);
    assert_true(res.err < 0);
    mule_node_result_fini(&res);
    buf_fini(&b);
}

static void
test_mule_node_outbound_split(void **state)
{
    bsmtp_envelope *env = NULL;
    mule_node_result res;
    static const char msg[] = "Subject: s\r\n\r\nhello\r\n";

    (void)state;
    assert_int_equal(bsmtp_envelope_new("bob@here.example", NULL, NULL, &env), 0);
    assert_int_equal(bsmtp_envelope_add_rcpt(env, "alice@hq.example", NULL), 0);
    assert_int_equal(bsmtp_envelope_add_rcpt(env, "dan@other.example", NULL), 0);
    assert_int_equal(mule_node_outbound(&ncfg, routes, env, (const uint8_t *)msg,
                                        sizeof(msg) - 1, NULL, NULL, &clk, NULL, NULL, &res),
                     0);
    assert_true(res.has_relay);
    assert_int_equal(res.relay.out_cnt, 2);
    assert_false(res.has_dsn);
    mule_node_result_fini(&res);
    bsmtp_envelope_free(env);
}

/* The local MTA refused a recipient: the DSN carries its status and
 * reply, and goes to the originator's node. */
static void
test_mule_node_report_rejected(void **state)
{
    bsmtp_envelope *env = NULL;
    mule_node_result res;
    mule_node_failure f;
    static const char msg[] = "Subject: s\r\n\r\nhello\r\n";
    buf plain;

    (void)state;
    assert_int_equal(bsmtp_envelope_new("alice@hq.example", NULL, NULL, &env), 0);
    assert_int_equal(bsmtp_envelope_add_rcpt(env, "bob@here.example", NULL), 0);
    memset(&f, 0, sizeof(f));
    f.rcpt_idx = 0;
    f.kind = MULE_DSN_REJECTED;
    f.reply = "550 5.1.1 <bob@here.example>: no such user";
    f.remote_mta = "lmtp:127.0.0.1:24";
    assert_int_equal(mule_node_report(&ncfg, routes, env, (const uint8_t *)msg,
                                      sizeof(msg) - 1, &f, 1, clk.now_date, &clk, NULL, NULL,
                                      &res), 0);
    assert_true(res.has_dsn);
    assert_int_equal(res.dsn.out_cnt, 1);
    buf_init(&plain, NULL, SIZE_MAX);
    assert_int_equal(mule_cdt_decode(&cdt, NULL, res.dsn.outs[0].payload.data,
                                     res.dsn.outs[0].payload.len, &plain, NULL), 0);
    assert_non_null(memmem(plain.data, plain.len, "Status: 5.1.1", 13));
    assert_non_null(memmem(plain.data, plain.len, "no such user", 12));
    buf_fini(&plain);
    mule_node_result_fini(&res);
    assert_int_equal(mule_node_report(&ncfg, routes, env, (const uint8_t *)msg, 5, &f, 0,
                                      clk.now_date, &clk, NULL, NULL, &res), MULE_ERR_INVAL);
    mule_node_result_fini(&res);
    bsmtp_envelope_free(env);
}

/* Every allocation of an inbound decision with a DSN fails in turn: a
 * temporary code (or success), never a crash or a leak. */
static void
test_mule_node_alloc_failure(void **state)
{
    static const char *const r[] = {"x@nowhere.example", "bob@here.example", NULL};
    static const uint32_t d[] = {N2};

    (void)state;
    for (long k = 0; k < 400; k++) {
        struct tmem tm = {false, 0, 0, 0, 0};
        mem m = tmem_make(&tm);
        mule_node_result res;
        int rc;

        tmem_fail_after(&tm, k);
        rc = inbound("alice@hq.example", r, d, 1, &res, &m);
        assert_true(rc == 0 || mule_node_is_temporary(rc));
        mule_node_result_fini(&res);
        assert_int_equal(tm.live, 0);
        if (rc == 0 && res.has_relay && !tm.armed)
            break;
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mule_node_inbound_local),
        cmocka_unit_test(test_mule_node_inbound_relays_on),
        cmocka_unit_test(test_mule_node_inbound_no_route_dsn),
        cmocka_unit_test(test_mule_node_inbound_malformed),
        cmocka_unit_test(test_mule_node_outbound_split),
        cmocka_unit_test(test_mule_node_report_rejected),
        cmocka_unit_test(test_mule_node_alloc_failure),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
