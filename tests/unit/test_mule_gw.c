/*
 * test_mule_gw.c: unit tests of mule/mule_gw (RFC 8494 sections 4 and 5).
 *
 * SMTP transaction -> envelope -> relay payload, and payload -> SMTP
 * transaction with DATA or BDAT and the extensions the parameters need.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bsmtp/bsmtp_payload.h"
#include "mule/mule_err.h"
#include "mule/mule_gw.h"
#include "mule/mule_relay.h"
#include "test_common.h"

static const char msg[] = "Subject: hi\r\n\r\nbody\r\n";

/* Section 4: what an SMTP server accepted becomes the MULE payload. */
static void
test_mule_gw_smtp_to_mule_payload(void **state)
{
    static const mule_smtp_rcpt rcpts[] = {
        { "to1@example.net", "NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Bob@enterprise.example.net" },
        { "to2@example.net", "NOTIFY=SUCCESS,FAILURE" },
    };
    static const char cfgtext[] = "route example.net group 239.1.1.1 nodes 198.18.0.2\n";
    static const char want[] =
        "<from@example.com> MT-PRIORITY=4 BODY=8BITMIME RET=HDRS ENVID=QQ314159\r\n"
        "<to1@example.net> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Bob@enterprise.example.net\r\n"
        "<to2@example.net> NOTIFY=SUCCESS,FAILURE\r\n"
        "\r\n"
        "Received: from client.example ([192.0.2.1])\r\n"
        "\tby gw.example with MULE id Q1;\r\n"
        "\tTue, 2 Jan 2024 10:00:00 +0000\r\n"
        "Subject: hi\r\n\r\nbody\r\n";
    bsmtp_envelope *env = NULL;
    mule_route_table *t = NULL;
    mule_relay_config c;
    mule_relay_input in;
    mule_relay_result r;
    size_t bad;

    (void)state;
    assert_int_equal(mule_gw_from_smtp("from@example.com",
                                       "MT-PRIORITY=4 BODY=8BITMIME RET=HDRS ENVID=QQ314159",
                                       rcpts, 2, NULL, &env, &bad), 0);
    assert_int_equal(bad, SIZE_MAX);
    assert_int_equal(mule_route_table_parse(cfgtext, sizeof(cfgtext) - 1, NULL, NULL, &t, NULL), 0);
    memset(&c, 0, sizeof(c));
    c.hostname = "gw.example";
    c.node_id = 0xc6120001u;
    memset(&in, 0, sizeof(in));
    in.env = env;
    in.content = (const uint8_t *)msg;
    in.content_len = sizeof(msg) - 1;
    in.from = "client.example ([192.0.2.1])";
    in.id = "Q1";
    in.now_s = 1704189600;
    in.now_date = "Tue, 2 Jan 2024 10:00:00 +0000";
    assert_int_equal(mule_relay_run(&c, t, &in, NULL, NULL, &r), 0);
    assert_int_equal(r.out_cnt, 1);
    assert_int_equal(r.outs[0].priority, 2);
    if (r.outs[0].payload.len != sizeof(want) - 1 ||
        memcmp(r.outs[0].payload.data, want, sizeof(want) - 1) != 0)
        fail_msg("got \"%.*s\"", (int)r.outs[0].payload.len, (const char *)r.outs[0].payload.data);
    mule_relay_result_fini(&r);
    mule_route_table_free(t);
    bsmtp_envelope_free(env);
}

static void
test_mule_gw_smtp_refused(void **state)
{
    static const mule_smtp_rcpt good[] = { { "a@example.net", NULL } };
    static const mule_smtp_rcpt bad_rcpt[] = {
        { "a@example.net", NULL }, { "b@example.net", "NOTIFY=SOMETIMES" },
    };
    bsmtp_envelope *env = (bsmtp_envelope *)1;
    size_t bad;

    (void)state;
    /* bsmtp's verdicts arrive unchanged (one error space). */
    assert_true(bsmtp_is_err(mule_gw_from_smtp("f@example.com", "MT-PRIORITY=12", good, 1,
                                               NULL, &env, &bad)));
    assert_null(env);
    assert_int_equal(bad, SIZE_MAX);
    assert_int_equal(mule_gw_from_smtp("f@example.com", NULL, bad_rcpt, 2, NULL, &env, &bad),
                     BSMTP_ERR_PARAM_VALUE);
    assert_int_equal(bad, 1);
    assert_int_equal(mule_gw_from_smtp("not a path", NULL, good, 1, NULL, &env, &bad),
                     BSMTP_ERR_PATH);
    assert_int_equal(mule_gw_from_smtp("f@example.com", NULL, good, 0, NULL, &env, &bad),
                     MULE_ERR_INVAL);
    assert_int_equal(mule_gw_from_smtp("f@example.com", NULL, good, 1, NULL, NULL, &bad),
                     MULE_ERR_INVAL);
}

static bsmtp_envelope *
parse(const char *text, size_t *off)
{
    bsmtp_envelope *env = NULL;

    assert_int_equal(bsmtp_payload_parse((const uint8_t *)text, strlen(text), NULL, NULL, &env,
                                         off), 0);
    return env;
}

/* Section 5: FROM-line -> MAIL FROM:, RCPT-lines -> RCPT TO:, DATA. */
static void
test_mule_gw_mule_to_smtp(void **state)
{
    static const char p[] =
        "<from@example.com> MT-PRIORITY=4 BODY=8BITMIME RET=HDRS ENVID=QQ314159 BY=120;R X-Y\r\n"
        "<to1@example.net> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Bob@enterprise.example.net\r\n"
        "<to2@example.net>\r\n"
        "\r\n"
        "Subject: x\r\n\r\nbody\r\n";
    size_t off, idx[1] = { 1 };
    bsmtp_envelope *env = parse(p, &off);
    mule_smtp_txn tx;

    (void)state;
    assert_int_equal(mule_gw_to_smtp(env, NULL, 0, (const uint8_t *)p + off, strlen(p) - off,
                                     NULL, &tx), 0);
    assert_string_equal(tx.mail_from, "MAIL FROM:<from@example.com> MT-PRIORITY=4 BODY=8BITMIME "
                                      "RET=HDRS ENVID=QQ314159 BY=120;R X-Y");
    assert_int_equal(tx.rcpt_cnt, 2);
    assert_string_equal(tx.rcpt_to[0], "RCPT TO:<to1@example.net> NOTIFY=SUCCESS,FAILURE "
                                       "ORCPT=rfc822;Bob@enterprise.example.net");
    assert_string_equal(tx.rcpt_to[1], "RCPT TO:<to2@example.net>");
    assert_false(tx.use_bdat);
    assert_int_equal(tx.needs, MULE_GW_EXT_8BITMIME | MULE_GW_EXT_DSN | MULE_GW_EXT_MT_PRIORITY |
                                   MULE_GW_EXT_DELIVERBY);
    assert_ptr_equal(tx.content, p + off);
    assert_int_equal(tx.content_len, strlen("Subject: x\r\n\r\nbody\r\n"));
    mule_gw_txn_fini(&tx);
    /* Only some recipients. */
    assert_int_equal(mule_gw_to_smtp(env, idx, 1, NULL, 0, NULL, &tx), 0);
    assert_int_equal(tx.rcpt_cnt, 1);
    assert_string_equal(tx.rcpt_to[0], "RCPT TO:<to2@example.net>");
    mule_gw_txn_fini(&tx);
    idx[0] = 2;
    assert_int_equal(mule_gw_to_smtp(env, idx, 1, NULL, 0, NULL, &tx), MULE_ERR_INVAL);
    assert_int_equal(mule_gw_to_smtp(env, idx, 0, NULL, 0, NULL, &tx), MULE_ERR_INVAL);
    assert_int_equal(mule_gw_to_smtp(NULL, NULL, 0, NULL, 0, NULL, &tx), MULE_ERR_INVAL);
    mule_gw_txn_fini(&tx);
    bsmtp_envelope_free(env);
}

/* BODY=BINARYMIME needs BDAT (section 5 step 3); a null path stays <>. */
static void
test_mule_gw_binarymime_needs_bdat(void **state)
{
    static const char p[] = "<> BODY=BINARYMIME SIZE=5 SMTPUTF8\r\n<Postmaster>\r\n\r\n\x00\x01\x02\r\n";
    size_t off;
    bsmtp_envelope *env = NULL;
    mule_smtp_txn tx;

    (void)state;
    assert_int_equal(bsmtp_payload_parse((const uint8_t *)p, sizeof(p) - 1, NULL, NULL, &env, &off),
                     0);
    assert_int_equal(mule_gw_to_smtp(env, NULL, 0, (const uint8_t *)p + off, sizeof(p) - 1 - off,
                                     NULL, &tx), 0);
    assert_true(tx.use_bdat);
    assert_string_equal(tx.mail_from, "MAIL FROM:<> BODY=BINARYMIME SIZE=5 SMTPUTF8");
    assert_string_equal(tx.rcpt_to[0], "RCPT TO:<Postmaster>");
    assert_int_equal(tx.needs, MULE_GW_EXT_BINARYMIME | MULE_GW_EXT_CHUNKING | MULE_GW_EXT_SIZE |
                                   MULE_GW_EXT_SMTPUTF8);
    assert_int_equal(tx.content_len, 5);
    mule_gw_txn_fini(&tx);
    bsmtp_envelope_free(env);
}

/* The MULE draft (section 4.1) writes BODY=BINARY: accepted from a MULE
 * payload as BINARYMIME, passed to SMTP as BODY=BINARYMIME (never the
 * alias, which RFC 3030 servers refuse), refused on SMTP ingress. */
static void
test_mule_gw_body_binary_alias(void **state)
{
    static const char p[] = "<f@example.com> body=binary\r\n<a@x.example>\r\n\r\n\x00\x01\r\n";
    static const mule_smtp_rcpt r[] = { { "a@x.example", NULL } };
    size_t off, bad = 0;
    bsmtp_envelope *env = NULL;
    mule_smtp_txn tx;

    (void)state;
    assert_int_equal(bsmtp_payload_parse((const uint8_t *)p, sizeof(p) - 1, NULL, NULL, &env, &off),
                     0);
    assert_int_equal(env->mail.body, BSMTP_BODY_BINARYMIME);
    assert_int_equal(mule_gw_to_smtp(env, NULL, 0, (const uint8_t *)p + off, sizeof(p) - 1 - off,
                                     NULL, &tx), 0);
    assert_true(tx.use_bdat);
    assert_string_equal(tx.mail_from, "MAIL FROM:<f@example.com> body=BINARYMIME");
    assert_true(tx.needs & MULE_GW_EXT_BINARYMIME);
    mule_gw_txn_fini(&tx);
    bsmtp_envelope_free(env);

    env = NULL;
    assert_true(bsmtp_is_err(mule_gw_from_smtp("f@example.com", "BODY=BINARY", r, 1, NULL,
                                               &env, &bad)));
    assert_int_equal(bad, SIZE_MAX);
    assert_null(env);
}

static void
test_mule_gw_alloc_failure(void **state)
{
    static const char p[] = "<f@example.com> BODY=8BITMIME\r\n<a@x.example>\r\n<b@x.example>\r\n\r\n";
    static const mule_smtp_rcpt rcpts[] = { { "a@x.example", "NOTIFY=NEVER" }, { "b@x.example", NULL } };
    struct tmem tm = { false, 0, 0 };
    mem m = tmem_make(&tm);
    size_t off;
    bsmtp_envelope *env = parse(p, &off), *e2;
    mule_smtp_txn tx;
    long total, k;
    int rc, round;

    (void)state;
    for (round = 0; round < 2; round++) {
        tm.armed = false;
        tm.calls = 0;
        if (round == 0) {
            assert_int_equal(mule_gw_to_smtp(env, NULL, 0, NULL, 0, &m, &tx), 0);
            mule_gw_txn_fini(&tx);
        } else {
            assert_int_equal(mule_gw_from_smtp("f@example.com", "BODY=8BITMIME", rcpts, 2, &m,
                                               &e2, NULL), 0);
            bsmtp_envelope_free(e2);
        }
        total = tm.calls;
        for (k = 0; k < total; k++) {
            tm.armed = true;
            tm.left = k;
            if (round == 0)
                rc = mule_gw_to_smtp(env, NULL, 0, NULL, 0, &m, &tx);
            else
                rc = mule_gw_from_smtp("f@example.com", "BODY=8BITMIME", rcpts, 2, &m, &e2, NULL);
            tm.armed = false;
            if (rc != MULE_ERR_NOMEM)
                fail_msg("round %d alloc %ld: got %s, want NOMEM", round, k, mule_errname(rc));
        }
    }
    bsmtp_envelope_free(env);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mule_gw_smtp_to_mule_payload),
        cmocka_unit_test(test_mule_gw_smtp_refused),
        cmocka_unit_test(test_mule_gw_mule_to_smtp),
        cmocka_unit_test(test_mule_gw_binarymime_needs_bdat),
        cmocka_unit_test(test_mule_gw_body_binary_alias),
        cmocka_unit_test(test_mule_gw_alloc_failure),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
