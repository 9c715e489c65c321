/*
 * test_bsmtp_client.c: unit tests of bsmtp/bsmtp_client (the sans-I/O
 * SMTP/LMTP client session), driven by scripted server replies.
 *
 * Covers SMTP with and without PIPELINING, LMTP per-recipient replies,
 * BDAT for BINARYMIME, the 5.6.3 / 5.6.7 refusals, parameters dropped for
 * missing extensions, dot-stuffing and LF to CRLF, HELO fallback, greeting
 * refusals, end of connection at every step, malformed replies, replies
 * fed one octet at a time, and allocation failure at every step.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bsmtp/bsmtp_client.h"
#include "bsmtp/bsmtp_err.h"
#include "test_common.h"

/* What the client wrote so far (all output drained). */
static char sent[1 << 17];
static size_t sent_len;

static void
drain(bsmtp_client *c)
{
    const uint8_t *p;
    size_t n;

    while ((n = bsmtp_client_output(c, &p)) > 0) {
        assert_true(sent_len + n < sizeof(sent));
        memcpy(sent + sent_len, p, n);
        sent_len += n;
        sent[sent_len] = '\0';
        bsmtp_client_consumed(c, n);
    }
}

static void
say(bsmtp_client *c, const char *s, bool bytewise)
{
    if (bytewise) {
        for (size_t i = 0; s[i] != '\0'; i++)
            (void)bsmtp_client_feed(c, (const uint8_t *)s + i, 1);
    } else {
        (void)bsmtp_client_feed(c, (const uint8_t *)s, strlen(s));
    }
    drain(c);
}

static const char *const rcpts2[] = {"RCPT TO:<a@x.test> NOTIFY=FAILURE",
                                     "RCPT TO:<b@x.test>"};

static bsmtp_client *
client(bool lmtp, const char *mail, const char *const *rc, size_t n, bool bdat, unsigned needs,
       const char *content)
{
    bsmtp_client_cfg cfg = {lmtp, "n2.mule.test"};
    bsmtp_client_txn t;
    bsmtp_client *c;

    memset(&t, 0, sizeof(t));
    t.mail_from = mail;
    t.rcpt_to = rc;
    t.rcpt_cnt = n;
    t.use_bdat = bdat;
    t.needs = needs;
    t.content = (const uint8_t *)content;
    t.content_len = strlen(content);
    sent_len = 0;
    sent[0] = '\0';
    assert_int_equal(bsmtp_client_new(&c, &cfg, &t, NULL), 0);
    drain(c);
    return c;
}

static void
test_bsmtp_client_smtp_pipelined(void **state)
{
    bsmtp_client *c;

    (void)state;
    c = client(false, "MAIL FROM:<s@h.test> RET=HDRS", rcpts2, 2, false, BSMTP_EXT_DSN,
               "Subject: x\r\n\r\n.dot line\r\nlast");
    assert_int_equal(sent_len, 0);                  /* waits for the greeting */
    say(c, "220 mx ready\r\n", false);
    assert_string_equal(sent, "EHLO n2.mule.test\r\n");
    say(c, "250-mx\r\n250-PIPELINING\r\n250-DSN\r\n250 8BITMIME\r\n", false);
    /* MAIL, both RCPTs and DATA in one write, DSN parameters kept. */
    assert_non_null(strstr(sent, "MAIL FROM:<s@h.test> RET=HDRS\r\n"
                                 "RCPT TO:<a@x.test> NOTIFY=FAILURE\r\n"
                                 "RCPT TO:<b@x.test>\r\nDATA\r\n"));
    say(c, "250 ok\r\n250 ok\r\n550 5.1.1 no such user\r\n354 go\r\n", false);
    /* Dot-stuffed, CRLF added to the unterminated last line, final dot. */
    assert_non_null(strstr(sent, "Subject: x\r\n\r\n..dot line\r\nlast\r\n.\r\n"));
    say(c, "250 2.0.0 queued as X\r\n", false);
    assert_non_null(strstr(sent, "QUIT\r\n"));
    assert_true(bsmtp_client_done(c));
    assert_int_equal(bsmtp_client_rcpt(c, 0)->outcome, BSMTP_CLIENT_OK);
    assert_string_equal(bsmtp_client_rcpt(c, 0)->status, "2.0.0");
    assert_int_equal(bsmtp_client_rcpt(c, 1)->outcome, BSMTP_CLIENT_PERM);
    assert_int_equal(bsmtp_client_rcpt(c, 1)->code, 550);
    assert_string_equal(bsmtp_client_rcpt(c, 1)->status, "5.1.1");
    assert_string_equal(bsmtp_client_rcpt(c, 1)->text, "no such user");
    assert_false(bsmtp_client_downgraded(c));
    bsmtp_client_free(c);
}

/* Lock-step without PIPELINING; parameters of missing extensions go. */
static void
test_bsmtp_client_smtp_lockstep_drops_params(void **state)
{
    bsmtp_client *c;

    (void)state;
    c = client(false, "MAIL FROM:<s@h.test> RET=HDRS MT-PRIORITY=4 BODY=8BITMIME", rcpts2, 2,
               false, BSMTP_EXT_DSN | BSMTP_EXT_MT_PRIORITY | BSMTP_EXT_8BITMIME,
               "a\nb\n.\rc\n");
    say(c, "220 mx\r\n", false);
    say(c, "250-mx\r\n250 8BITMIME\r\n", false);
    assert_non_null(strstr(sent, "MAIL FROM:<s@h.test> BODY=8BITMIME\r\n"));
    assert_null(strstr(sent, "RCPT"));
    say(c, "250 ok\r\n", false);
    assert_non_null(strstr(sent, "RCPT TO:<a@x.test>\r\n"));
    say(c, "250 ok\r\n", false);
    say(c, "250 ok\r\n", false);
    assert_non_null(strstr(sent, "DATA\r\n"));
    say(c, "354 go\r\n", false);
    /* Bare LF and bare CR made CRLF; the dot after the bare CR stuffed. */
    assert_non_null(strstr(sent, "a\r\nb\r\n..\r\nc\r\n.\r\n"));
    say(c, "451 4.3.0 try later\r\n", false);
    assert_int_equal(bsmtp_client_rcpt(c, 0)->outcome, BSMTP_CLIENT_TEMP);
    assert_int_equal(bsmtp_client_rcpt(c, 1)->outcome, BSMTP_CLIENT_TEMP);
    assert_true(bsmtp_client_downgraded(c));
    bsmtp_client_free(c);
}

static void
test_bsmtp_client_lmtp_per_recipient(void **state)
{
    static const char *const r3[] = {"RCPT TO:<a@x.test>", "RCPT TO:<b@x.test>",
                                     "RCPT TO:<c@x.test>"};
    bsmtp_client *c;

    (void)state;
    c = client(true, "MAIL FROM:<s@h.test>", r3, 3, false, 0, "body\r\n");
    say(c, "220 lmtp\r\n", true);
    assert_string_equal(sent, "LHLO n2.mule.test\r\n");
    say(c, "250-lmtp\r\n250-PIPELINING\r\n250 ENHANCEDSTATUSCODES\r\n", true);
    say(c, "250 ok\r\n250 ok\r\n452 4.2.2 over quota\r\n250 ok\r\n354 go\r\n", true);
    /* One reply per accepted recipient (a and c), in order. */
    say(c, "250 2.0.0 a saved\r\n550 5.2.1 c disabled\r\n", true);
    assert_true(bsmtp_client_done(c));
    assert_int_equal(bsmtp_client_rcpt(c, 0)->outcome, BSMTP_CLIENT_OK);
    assert_int_equal(bsmtp_client_rcpt(c, 1)->outcome, BSMTP_CLIENT_TEMP);
    assert_string_equal(bsmtp_client_rcpt(c, 1)->status, "4.2.2");
    assert_int_equal(bsmtp_client_rcpt(c, 2)->outcome, BSMTP_CLIENT_PERM);
    assert_string_equal(bsmtp_client_rcpt(c, 2)->status, "5.2.1");
    bsmtp_client_free(c);
}

static void
test_bsmtp_client_bdat(void **state)
{
    static const char body[] = "binary\x00\x01\n.\n";
    bsmtp_client_cfg cfg = {false, "h"};
    bsmtp_client_txn t;
    bsmtp_client *c;

    (void)state;
    memset(&t, 0, sizeof(t));
    t.mail_from = "MAIL FROM:<s@h.test> BODY=BINARYMIME";
    t.rcpt_to = rcpts2 + 1;
    t.rcpt_cnt = 1;
    t.use_bdat = true;
    t.needs = BSMTP_EXT_BINARYMIME | BSMTP_EXT_CHUNKING;
    t.content = (const uint8_t *)body;
    t.content_len = sizeof(body) - 1;
    sent_len = 0;
    assert_int_equal(bsmtp_client_new(&c, &cfg, &t, NULL), 0);
    say(c, "220 mx\r\n", false);
    say(c, "250-mx\r\n250-CHUNKING\r\n250 BINARYMIME\r\n", false);
    say(c, "250 ok\r\n", false);
    say(c, "250 ok\r\n", false);
    /* BDAT with the exact octets: no stuffing, no CRLF conversion. */
    {
        const char *b = strstr(sent, "BDAT 11 LAST\r\n");

        assert_non_null(b);
        assert_memory_equal(b + 14, body, sizeof(body) - 1);
    }
    say(c, "250 2.0.0 ok\r\n", false);
    assert_int_equal(bsmtp_client_rcpt(c, 0)->outcome, BSMTP_CLIENT_OK);
    bsmtp_client_free(c);

    /* Without CHUNKING/BINARYMIME: permanent 5.6.3, nothing sent. */
    sent_len = 0;
    assert_int_equal(bsmtp_client_new(&c, &cfg, &t, NULL), 0);
    say(c, "220 mx\r\n", false);
    say(c, "250-mx\r\n250 PIPELINING\r\n", false);
    assert_null(strstr(sent, "MAIL FROM"));
    assert_int_equal(bsmtp_client_rcpt(c, 0)->outcome, BSMTP_CLIENT_PERM);
    assert_string_equal(bsmtp_client_rcpt(c, 0)->status, "5.6.3");
    assert_true(bsmtp_client_done(c));
    bsmtp_client_free(c);
}

static void
test_bsmtp_client_smtputf8_refused(void **state)
{
    bsmtp_client *c;

    (void)state;
    c = client(false, "MAIL FROM:<s@h.test> SMTPUTF8", rcpts2 + 1, 1, false, BSMTP_EXT_SMTPUTF8,
               "x\r\n");
    say(c, "220 mx\r\n", false);
    say(c, "250 mx\r\n", false);
    assert_int_equal(bsmtp_client_rcpt(c, 0)->outcome, BSMTP_CLIENT_PERM);
    assert_string_equal(bsmtp_client_rcpt(c, 0)->status, "5.6.7");
    bsmtp_client_free(c);
}

static void
test_bsmtp_client_helo_fallback_and_greeting(void **state)
{
    bsmtp_client *c;

    (void)state;
    c = client(false, "MAIL FROM:<s@h.test>", rcpts2 + 1, 1, false, 0, "x\r\n");
    say(c, "220 old\r\n", false);
    say(c, "502 what\r\n", false);
    assert_non_null(strstr(sent, "HELO n2.mule.test\r\n"));
    say(c, "250 hi\r\n", false);
    assert_non_null(strstr(sent, "MAIL FROM:<s@h.test>\r\n"));
    bsmtp_client_free(c);

    c = client(false, "MAIL FROM:<s@h.test>", rcpts2 + 1, 1, false, 0, "x\r\n");
    say(c, "554 go away\r\n", false);
    assert_true(bsmtp_client_done(c));
    assert_int_equal(bsmtp_client_rcpt(c, 0)->outcome, BSMTP_CLIENT_PERM);
    bsmtp_client_free(c);

    c = client(false, "MAIL FROM:<s@h.test>", rcpts2 + 1, 1, false, 0, "x\r\n");
    say(c, "421 busy\r\n", false);
    assert_int_equal(bsmtp_client_rcpt(c, 0)->outcome, BSMTP_CLIENT_TEMP);
    bsmtp_client_free(c);
}

/* The server script of a whole pipelined SMTP session, cut at every
 * octet: the recipients without a final reply are temporary failures,
 * never a crash, never OK. */
static void
test_bsmtp_client_eof_at_every_step(void **state)
{
    static const char script[] = "220 mx\r\n250-mx\r\n250 PIPELINING\r\n250 ok\r\n250 ok\r\n"
                                 "250 ok\r\n354 go\r\n250 done\r\n";
    (void)state;
    for (size_t cut = 0; cut < sizeof(script) - 1; cut++) {
        bsmtp_client *c = client(false, "MAIL FROM:<s@h.test>", rcpts2, 2, false, 0, "x\r\n");

        (void)bsmtp_client_feed(c, (const uint8_t *)script, cut);
        drain(c);
        bsmtp_client_eof(c, NULL);
        assert_true(bsmtp_client_done(c));
        for (size_t i = 0; i < 2; i++) {
            assert_int_equal(bsmtp_client_rcpt(c, i)->outcome, BSMTP_CLIENT_TEMP);
            assert_string_equal(bsmtp_client_rcpt(c, i)->status, "4.4.2");
        }
        bsmtp_client_free(c);
    }
}

static void
test_bsmtp_client_malformed_reply(void **state)
{
    bsmtp_client *c;

    (void)state;
    c = client(false, "MAIL FROM:<s@h.test>", rcpts2, 2, false, 0, "x\r\n");
    assert_true(bsmtp_client_feed(c, (const uint8_t *)"2x0 what\r\n", 10) < 0);
    assert_true(bsmtp_client_done(c));
    assert_int_equal(bsmtp_client_rcpt(c, 0)->outcome, BSMTP_CLIENT_TEMP);
    assert_null(bsmtp_client_rcpt(c, 2));
    bsmtp_client_free(c);
}

static void
test_bsmtp_client_bad_arguments(void **state)
{
    bsmtp_client_cfg cfg = {false, "h"};
    bsmtp_client_txn t;
    bsmtp_client *c;
    static const char *const bad[] = {"RCPT TO:<a@x>\r\nRSET"};

    (void)state;
    memset(&t, 0, sizeof(t));
    t.mail_from = "MAIL FROM:<>";
    t.rcpt_to = bad;
    t.rcpt_cnt = 1;
    assert_int_equal(bsmtp_client_new(&c, &cfg, &t, NULL), BSMTP_ERR_INVAL);
    t.rcpt_cnt = 0;
    assert_int_equal(bsmtp_client_new(&c, &cfg, &t, NULL), BSMTP_ERR_INVAL);
}

static void
test_bsmtp_client_alloc_failure(void **state)
{
    bsmtp_client_cfg cfg = {true, "h"};
    bsmtp_client_txn t;
    static const char *const r1[] = {"RCPT TO:<a@x.test>"};

    (void)state;
    memset(&t, 0, sizeof(t));
    t.mail_from = "MAIL FROM:<s@h.test>";
    t.rcpt_to = r1;
    t.rcpt_cnt = 1;
    t.content = (const uint8_t *)"body\r\n";
    t.content_len = 6;
    for (long k = 0; k < 40; k++) {
        struct tmem tm = {false, 0, 0, 0, 0};
        mem m = tmem_make(&tm);
        bsmtp_client *c;
        static const char script[] = "220 x\r\n250 x\r\n250 ok\r\n250 ok\r\n354 go\r\n250 ok\r\n";

        tmem_fail_after(&tm, k);
        if (bsmtp_client_new(&c, &cfg, &t, &m) != 0)
            continue;
        for (size_t i = 0; i < sizeof(script) - 1; i++) {
            (void)bsmtp_client_feed(c, (const uint8_t *)script + i, 1);
            {
                const uint8_t *p;
                size_t n;

                while ((n = bsmtp_client_output(c, &p)) > 0)
                    bsmtp_client_consumed(c, n);
            }
        }
        assert_true(bsmtp_client_rcpt(c, 0)->outcome != BSMTP_CLIENT_PENDING ||
                    !bsmtp_client_done(c));
        bsmtp_client_free(c);
        assert_int_equal(tm.live, 0);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bsmtp_client_smtp_pipelined),
        cmocka_unit_test(test_bsmtp_client_smtp_lockstep_drops_params),
        cmocka_unit_test(test_bsmtp_client_lmtp_per_recipient),
        cmocka_unit_test(test_bsmtp_client_bdat),
        cmocka_unit_test(test_bsmtp_client_smtputf8_refused),
        cmocka_unit_test(test_bsmtp_client_helo_fallback_and_greeting),
        cmocka_unit_test(test_bsmtp_client_eof_at_every_step),
        cmocka_unit_test(test_bsmtp_client_malformed_reply),
        cmocka_unit_test(test_bsmtp_client_bad_arguments),
        cmocka_unit_test(test_bsmtp_client_alloc_failure),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
