/*
 * test_mule_audit.c: unit tests of mule/mule_audit (MMHS 7.2 records).
 *
 * Fields taken from the envelope and the header (Message-ID unfolded,
 * ENVID, submission time stamp from the last Received field, priority),
 * the exact one-line rendering, quoting and escaping of hostile values,
 * bounds, and records built from a relay result.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bsmtp/bsmtp_payload.h"
#include "mule/mule_audit.h"
#include "mule/mule_err.h"
#include "mule/mule_relay.h"
#include "test_common.h"

static const char payload_text[] =
    "<from@example.com> MT-PRIORITY=-2 ENVID=QQ314159\r\n"
    "<u1@a.example>\r\n"
    "<u2@b.example>\r\n"
    "\r\n"
    "Received: from relay2 by relay3 with MULE id 7; Tue, 2 Jan 2024 10:00:00 +0000\r\n"
    "Received: from mua.example by msa.example with ESMTPSA id 1;\r\n"
    "\tMon, 1 Jan 2024 08:00:00 +0000\r\n"
    "Message-ID:\r\n"
    " <m1@example.com>\r\n"
    "Subject: x\r\n"
    "\r\n"
    "body\r\n";

static bsmtp_envelope *
parse(const char *text, size_t *off)
{
    bsmtp_envelope *env = NULL;

    assert_int_equal(bsmtp_payload_parse((const uint8_t *)text, strlen(text), NULL, NULL, &env,
                                         off), 0);
    return env;
}

static void
test_mule_audit_fields_and_line(void **state)
{
    size_t off;
    bsmtp_envelope *env = parse(payload_text, &off);
    mule_audit_rec r;
    char line[MULE_AUDIT_LINE_MAX];
    ssize_t n;
    static const char want[] =
        "mule-audit dir=in outcome=accepted time=1704189600 id=0000002a"
        " msgid=<m1@example.com> envid=QQ314159"
        " submitted=\"Mon, 1 Jan 2024 08:00:00 +0000\" mt_priority=-2 priority=8"
        " from=<from@example.com> rcpt_cnt=2 rcpts=u1@a.example,u2@b.example"
        " peer=198.18.0.2 dest=- status=- size=";

    (void)state;
    mule_audit_init(&r, MULE_AUDIT_IN, MULE_AUDIT_ACCEPTED, 1704189600);
    mule_audit_set_message(&r, env, NULL, 0, (const uint8_t *)payload_text + off,
                           strlen(payload_text) - off);
    MULE_AUDIT_SET(&r, peer, "198.18.0.2");
    MULE_AUDIT_SET(&r, id, "0000002a");
    assert_string_equal(r.msgid, "<m1@example.com>");
    assert_string_equal(r.envid, "QQ314159");
    assert_string_equal(r.submitted, "Mon, 1 Jan 2024 08:00:00 +0000");
    assert_int_equal(r.priority, 8);
    assert_int_equal(r.rcpt_cnt, 2);
    n = mule_audit_format(&r, line, sizeof(line));
    assert_true(n > 0);
    assert_int_equal((size_t)n, strlen(line));
    if (strncmp(line, want, sizeof(want) - 1) != 0)
        fail_msg("got  %s\nwant %s...", line, want);
    assert_null(strchr(line, '\n'));
    bsmtp_envelope_free(env);
}

/* Only the listed recipients; no envelope (malformed payload): content
 * facts only. */
static void
test_mule_audit_subset_and_no_envelope(void **state)
{
    size_t off, idx[1] = { 1 };
    bsmtp_envelope *env = parse(payload_text, &off);
    mule_audit_rec r;
    char line[MULE_AUDIT_LINE_MAX];

    (void)state;
    mule_audit_init(&r, MULE_AUDIT_OUT, MULE_AUDIT_RELAYED, 5);
    mule_audit_set_message(&r, env, idx, 1, NULL, 0);
    assert_string_equal(r.rcpts, "u2@b.example");
    assert_int_equal(r.rcpt_cnt, 1);
    assert_string_equal(r.msgid, "");
    mule_audit_init(&r, MULE_AUDIT_IN, MULE_AUDIT_MALFORMED, 5);
    mule_audit_set_message(&r, NULL, NULL, 0, (const uint8_t *)"Message-ID: <x@y>\r\n\r\n", 21);
    assert_string_equal(r.msgid, "<x@y>");
    assert_true(mule_audit_format(&r, line, sizeof(line)) > 0);
    assert_non_null(strstr(line, " outcome=malformed "));
    assert_non_null(strstr(line, " mt_priority=- priority=6 from=<> rcpt_cnt=0 rcpts=- "));
    /* The record that takes an "accepted" one back (docs/operations.md). */
    mule_audit_init(&r, MULE_AUDIT_IN, MULE_AUDIT_WITHDRAWN, 5);
    assert_true(mule_audit_format(&r, line, sizeof(line)) > 0);
    assert_non_null(strstr(line, "mule-audit dir=in outcome=withdrawn "));
    bsmtp_envelope_free(env);
}

/* A hostile Message-ID cannot break the line or forge keys. */
static void
test_mule_audit_escaping(void **state)
{
    static const char msg[] =
        "Message-ID: <a\"b\\c\x01=\xc3\xa9 outcome=delivered>\r\n\r\n";
    mule_audit_rec r;
    char line[MULE_AUDIT_LINE_MAX];

    (void)state;
    mule_audit_init(&r, MULE_AUDIT_IN, MULE_AUDIT_ACCEPTED, 1);
    mule_audit_set_message(&r, NULL, NULL, 0, (const uint8_t *)msg, sizeof(msg) - 1);
    MULE_AUDIT_SET(&r, status, "line1\r\nline2");
    MULE_AUDIT_SET(&r, peer, "j\xc3\xb8rn");
    assert_true(mule_audit_format(&r, line, sizeof(line)) > 0);
    assert_non_null(strstr(line, " msgid=\"<a\\\"b\\\\c?=?? outcome=delivered>\" "));
    assert_non_null(strstr(line, " status=\"line1 line2\" "));
    assert_non_null(strstr(line, " peer=\"j\\xc3\\xb8rn\" "));
    assert_non_null(strstr(line, " outcome=accepted "));
    assert_null(strchr(line, '\r'));
    assert_null(strchr(line, '\n'));
}

static void
test_mule_audit_bounds(void **state)
{
    char big[2000], text[4000], line[MULE_AUDIT_LINE_MAX], small[40];
    size_t i, off = 0;
    bsmtp_envelope *env;
    mule_audit_rec r;

    (void)state;
    /* An over-long Message-ID is cut to the field. */
    memset(big, 'x', sizeof(big));
    memcpy(big, "Message-ID: <", 13);
    memcpy(big + sizeof(big) - 5, ">\r\n\r\n", 5);
    mule_audit_init(&r, MULE_AUDIT_IN, MULE_AUDIT_ACCEPTED, 1);
    mule_audit_set_message(&r, NULL, NULL, 0, (const uint8_t *)big, sizeof(big));
    assert_int_equal(strlen(r.msgid), MULE_AUDIT_MSGID_MAX - 1);
    /* Many recipients: the list ends in ",..." but the count is exact. */
    off += (size_t)snprintf(text + off, sizeof(text) - off, "<f@example.com>\r\n");
    for (i = 0; i < 100; i++)
        off += (size_t)snprintf(text + off, sizeof(text) - off, "<user%02zu@a.example>\r\n", i);
    off += (size_t)snprintf(text + off, sizeof(text) - off, "\r\n");
    env = parse(text, &off);
    mule_audit_set_message(&r, env, NULL, 0, NULL, 0);
    assert_int_equal(r.rcpt_cnt, 100);
    assert_true(strlen(r.rcpts) < MULE_AUDIT_RCPTS_MAX);
    assert_string_equal(r.rcpts + strlen(r.rcpts) - 4, ",...");
    assert_true(mule_audit_format(&r, line, sizeof(line)) > 0);
    assert_int_equal(mule_audit_format(&r, small, sizeof(small)), MULE_ERR_NOSPACE);
    assert_string_equal(small, "");
    assert_int_equal(mule_audit_format(NULL, line, sizeof(line)), MULE_ERR_INVAL);
    bsmtp_envelope_free(env);
}

/* One record per relay output, as the daemon will log them. */
static void
test_mule_audit_from_relay_result(void **state)
{
    static const char cfgtext[] =
        "route a.example group 239.1.1.1 nodes 198.18.0.2\n"
        "route b.example group 239.1.1.2 nodes 198.18.0.3\n";
    mule_route_table *t = NULL;
    mule_relay_config c;
    mule_relay_input in;
    mule_relay_result res;
    mule_audit_rec r;
    char line[MULE_AUDIT_LINE_MAX], dest[MULE_AUDIT_SHORT_MAX];
    mule_dest d;
    size_t i;

    (void)state;
    assert_int_equal(mule_route_table_parse(cfgtext, sizeof(cfgtext) - 1, NULL, NULL, &t, NULL), 0);
    memset(&c, 0, sizeof(c));
    c.hostname = "relay.example";
    c.node_id = 0xc6120001u;
    memset(&in, 0, sizeof(in));
    in.payload = (const uint8_t *)payload_text;
    in.payload_len = sizeof(payload_text) - 1;
    in.now_s = 1704189600;
    in.now_date = "Tue, 2 Jan 2024 10:00:00 +0000";
    assert_int_equal(mule_relay_run(&c, t, &in, NULL, NULL, &res), 0);
    assert_int_equal(res.out_cnt, 2);
    for (i = 0; i < res.out_cnt; i++) {
        mule_audit_init(&r, MULE_AUDIT_OUT, MULE_AUDIT_RELAYED, in.now_s);
        mule_audit_set_message(&r, res.env, res.outs[i].rcpt_idx, res.outs[i].rcpt_cnt,
                               res.content.data, res.content.len);
        memset(&d, 0, sizeof(d));
        d.group = res.outs[i].group;
        d.nodes = res.outs[i].nodes;
        d.node_cnt = res.outs[i].node_cnt;
        MULE_AUDIT_SET(&r, dest, mule_dest_format(&d, dest, sizeof(dest)));
        r.priority = res.outs[i].priority;
        assert_true(mule_audit_format(&r, line, sizeof(line)) > 0);
        assert_int_equal(r.rcpt_cnt, 1);
        /* The submission stamp stays the oldest Received, not ours. */
        assert_string_equal(r.submitted, "Mon, 1 Jan 2024 08:00:00 +0000");
        assert_non_null(strstr(line, i == 0 ? " dest=\"group=239.1.1.1 nodes=198.18.0.2\" "
                                            : " dest=\"group=239.1.1.2 nodes=198.18.0.3\" "));
        assert_non_null(strstr(line, " priority=8 "));
    }
    mule_relay_result_fini(&res);
    mule_route_table_free(t);
}

/* An event about a queue entry: no message facts, no made-up defaults. */
static void
test_mule_audit_event_without_message(void **state)
{
    mule_audit_rec r;
    char line[MULE_AUDIT_LINE_MAX];

    (void)state;
    mule_audit_init(&r, MULE_AUDIT_OUT, MULE_AUDIT_ACKED, 1704189600);
    MULE_AUDIT_SET(&r, id, "1LH81N900000");
    MULE_AUDIT_SET(&r, dest, "pmul:198.18.0.2");
    MULE_AUDIT_SET(&r, status, "acknowledged");
    assert_true(mule_audit_format(&r, line, sizeof line) > 0);
    assert_string_equal(line, "mule-audit dir=out outcome=acked time=1704189600 "
                              "id=1LH81N900000 peer=- dest=pmul:198.18.0.2 status=acknowledged");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mule_audit_fields_and_line),
        cmocka_unit_test(test_mule_audit_subset_and_no_envelope),
        cmocka_unit_test(test_mule_audit_escaping),
        cmocka_unit_test(test_mule_audit_bounds),
        cmocka_unit_test(test_mule_audit_from_relay_result),
        cmocka_unit_test(test_mule_audit_event_without_message),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
