/*
 * test_bsmtp_server.c: unit tests of bsmtp/bsmtp_server (the sans-I/O
 * SMTP/LMTP server session), one hostile or friendly client per case.
 *
 * Covers: the EHLO reply (every extension, STARTTLS only when offered),
 * a pipelined SMTP transaction with a refused recipient and dot-unstuffing,
 * LMTP per-recipient replies, BDAT chunks (binary kept exactly), SIZE
 * declared and undeclared, too many recipients, command lines over 512
 * and text lines over 1,000 octets (no buffering past them), NUL in a
 * command and in DATA, input before a delayed greeting, the error limit,
 * STARTTLS resetting the session, tls_required, BINARYMIME with DATA,
 * commands out of order, a byte-at-a-time client, and allocation failure.
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
#include "bsmtp/bsmtp_server.h"
#include "test_common.h"

static char out[1 << 16];
static size_t out_len;

static void
drain(bsmtp_server *s)
{
    const uint8_t *p;
    size_t n;

    while ((n = bsmtp_server_output(s, &p)) > 0) {
        assert_true(out_len + n < sizeof(out));
        memcpy(out + out_len, p, n);
        out_len += n;
        out[out_len] = '\0';
        bsmtp_server_consumed(s, n);
    }
}

/* Feed all of text; answer every event as told (rcpt: refuse addresses
 * starting with "no"; message: 250).  Returns the last event. */
static int
talk(bsmtp_server *s, const char *text, size_t len, bool bytewise)
{
    size_t off = 0;
    int ev = 0;

    while (off < len) {
        size_t used = 0, n = bytewise ? 1 : len - off;

        ev = bsmtp_server_feed(s, (const uint8_t *)text + off, n, &used);
        off += used;
        drain(s);
        if (ev == BSMTP_SRV_RCPT) {
            const bsmtp_server_txn *t = bsmtp_server_txn_get(s);

            if (strncmp(t->rcpt_addr, "no", 2) == 0)
                bsmtp_server_rcpt_verdict(s, 550, "5.1.2", "no route");
            else
                bsmtp_server_rcpt_verdict(s, 250, NULL, NULL);
        } else if (ev == BSMTP_SRV_MESSAGE) {
            bsmtp_server_message_verdict(s, 250, "2.0.0", "queued");
        } else if (ev == BSMTP_SRV_CLOSE || ev == BSMTP_SRV_STARTTLS) {
            break;
        } else if (used == 0 && n > 0) {
            fail_msg("feed consumed nothing without an event");
        }
        drain(s);
    }
    return ev;
}

static bsmtp_server *
server(bool lmtp, uint64_t size_max, bool delay)
{
    bsmtp_server_cfg cfg;
    bsmtp_server *s;

    memset(&cfg, 0, sizeof(cfg));
    cfg.lmtp = lmtp;
    cfg.hostname = "n1.mule.test";
    cfg.size_max = size_max;
    cfg.rcpt_max = 3;
    cfg.max_errors = 4;
    cfg.starttls = true;
    cfg.delay_greeting = delay;
    out_len = 0;
    out[0] = '\0';
    assert_int_equal(bsmtp_server_new(&s, &cfg, NULL), 0);
    drain(s);
    return s;
}

#define TALK(s, lit) talk((s), (lit), sizeof(lit) - 1, false)

static void
test_bsmtp_server_ehlo_and_pipelined_txn(void **state)
{
    bsmtp_server *s = server(false, 0, false);
    static const char cl[] =
        "EHLO client.test\r\n"
        "MAIL FROM:<a@hq.mule.test> BODY=8BITMIME MT-PRIORITY=4\r\n"
        "RCPT TO:<b@n2.mule.test> NOTIFY=FAILURE\r\n"
        "RCPT TO:<nobody@nowhere.test>\r\n"
        "DATA\r\n"
        "Subject: t\r\n\r\n..dot\r\nend\r\n.\r\n"
        "QUIT\r\n";
    const bsmtp_server_txn *t;

    (void)state;
    assert_non_null(strstr(out, "220 n1.mule.test ESMTP"));
    /* Stop at the message event to look at it. */
    {
        size_t off = 0, used;
        int ev;

        while ((ev = bsmtp_server_feed(s, (const uint8_t *)cl + off, sizeof(cl) - 1 - off,
                                       &used)) != BSMTP_SRV_MESSAGE) {
            off += used;
            drain(s);
            assert_int_equal(ev, BSMTP_SRV_RCPT);
            t = bsmtp_server_txn_get(s);
            bsmtp_server_rcpt_verdict(s, strncmp(t->rcpt_addr, "no", 2) == 0 ? 550 : 250,
                                      "5.1.2", "no route");
        }
        off += used;
        drain(s);
        t = bsmtp_server_txn_get(s);
        assert_string_equal(t->helo, "client.test");
        assert_string_equal(t->env->reverse_path, "a@hq.mule.test");
        assert_true(t->env->mail.has_mt_priority);
        assert_int_equal(t->env->rcpt_cnt, 1);
        assert_string_equal(t->env->rcpts[0].addr, "b@n2.mule.test");
        assert_int_equal(t->content_len, strlen("Subject: t\r\n\r\n.dot\r\nend\r\n"));
        assert_memory_equal(t->content, "Subject: t\r\n\r\n.dot\r\nend\r\n", t->content_len);
        /* No reply before the verdict (the spool's fsync). */
        assert_null(strstr(out, "queued"));
        bsmtp_server_message_verdict(s, 250, "2.0.0", "queued as X");
        assert_int_equal(talk(s, cl + off, sizeof(cl) - 1 - off, false), BSMTP_SRV_CLOSE);
    }
    assert_non_null(strstr(out, "250-PIPELINING\r\n"));
    assert_non_null(strstr(out, "250-SIZE 10485760\r\n"));
    assert_non_null(strstr(out, "250-CHUNKING\r\n250-SMTPUTF8\r\n250-DSN\r\n"
                                "250-MT-PRIORITY STANAG4406\r\n250-DELIVERBY\r\n"
                                "250-STARTTLS\r\n250 ENHANCEDSTATUSCODES\r\n"));
    assert_non_null(strstr(out, "250 2.1.0 OK\r\n250 2.1.5 OK\r\n550 5.1.2 <nobody@nowhere.test>"));
    assert_non_null(strstr(out, "354 "));
    assert_non_null(strstr(out, "250 2.0.0 queued as X\r\n221 2.0.0"));
    assert_true(bsmtp_server_closing(s));
    bsmtp_server_free(s);
}

static void
test_bsmtp_server_lmtp_per_recipient(void **state)
{
    bsmtp_server *s = server(true, 0, false);

    (void)state;
    TALK(s, "EHLO x\r\n");
    assert_non_null(strstr(out, "500 5.5.2"));           /* LMTP wants LHLO */
    TALK(s, "LHLO x\r\nMAIL FROM:<a@h.test>\r\nRCPT TO:<b@h.test>\r\nRCPT TO:<c@h.test>\r\n"
            "DATA\r\nhi\r\n.\r\n");
    assert_non_null(strstr(out, "250 2.0.0 <b@h.test> queued\r\n250 2.0.0 <c@h.test> queued\r\n"));
    bsmtp_server_free(s);
}

static void
test_bsmtp_server_bdat_binary(void **state)
{
    bsmtp_server *s = server(false, 0, false);
    static const char cl[] = "EHLO x\r\nMAIL FROM:<a@h.test> BODY=BINARYMIME\r\n"
                             "RCPT TO:<b@h.test>\r\nDATA\r\n"
                             "BDAT 5\r\n\x00\r\n.\n"
                             "BDAT 3 LAST\r\nxyz";
    size_t off = 0, used;
    int ev;

    (void)state;
    while ((ev = bsmtp_server_feed(s, (const uint8_t *)cl + off, sizeof(cl) - 1 - off,
                                   &used)) != BSMTP_SRV_MESSAGE) {
        off += used;
        drain(s);
        assert_true(ev == BSMTP_SRV_RCPT || ev == BSMTP_SRV_NONE);
        if (ev == BSMTP_SRV_RCPT)
            bsmtp_server_rcpt_verdict(s, 250, NULL, NULL);
        assert_true(off < sizeof(cl) - 1);
    }
    drain(s);
    assert_non_null(strstr(out, "503 5.5.1 BODY=BINARYMIME requires BDAT"));
    assert_non_null(strstr(out, "250 2.0.0 5 octets received"));
    {
        const bsmtp_server_txn *t = bsmtp_server_txn_get(s);

        assert_true(t->binary);
        assert_int_equal(t->content_len, 8);
        assert_memory_equal(t->content, "\x00\r\n.\nxyz", 8);
    }
    bsmtp_server_free(s);
}

static void
test_bsmtp_server_size_limits(void **state)
{
    bsmtp_server *s = server(false, 64, false);

    (void)state;
    TALK(s, "EHLO x\r\nMAIL FROM:<a@h.test> SIZE=65\r\n");
    assert_non_null(strstr(out, "552 5.3.4"));
    /* Undeclared and too big: refused at the end, nothing kept past 64. */
    TALK(s, "MAIL FROM:<a@h.test>\r\nRCPT TO:<b@h.test>\r\nDATA\r\n");
    for (int i = 0; i < 20; i++)
        TALK(s, "0123456789\r\n");
    out_len = 0;
    TALK(s, ".\r\n");
    assert_non_null(strstr(out, "552 5.3.4"));
    bsmtp_server_free(s);
}

static void
test_bsmtp_server_too_many_recipients(void **state)
{
    bsmtp_server *s = server(false, 0, false);

    (void)state;
    TALK(s, "EHLO x\r\nMAIL FROM:<a@h.test>\r\nRCPT TO:<b1@h.test>\r\nRCPT TO:<b2@h.test>\r\n"
            "RCPT TO:<b3@h.test>\r\nRCPT TO:<b4@h.test>\r\n");
    assert_non_null(strstr(out, "452 4.5.3 too many recipients"));
    bsmtp_server_free(s);
}

static void
test_bsmtp_server_long_lines_and_nul(void **state)
{
    bsmtp_server *s = server(false, 0, false);
    char big[5000];

    (void)state;
    memset(big, 'A', sizeof(big));
    memcpy(big, "NOOP ", 5);
    talk(s, big, sizeof(big), false);
    assert_null(strstr(out, "500 5.5.2 line too long"));      /* no newline yet */
    TALK(s, "\r\n");
    assert_non_null(strstr(out, "500 5.5.2 line too long"));
    TALK(s, "NO\x00OP\r\n");
    assert_non_null(strstr(out, "NUL octet in a command"));
    TALK(s, "EHLO x\r\nMAIL FROM:<a@h.test>\r\nRCPT TO:<b@h.test>\r\nDATA\r\n");
    talk(s, big, 1500, false);
    TALK(s, "\r\n.\r\n");
    assert_non_null(strstr(out, "500 5.5.2 line too long\r\n"));
    TALK(s, "MAIL FROM:<a@h.test>\r\nRCPT TO:<b@h.test>\r\nDATA\r\na\x00" "b\r\n.\r\n");
    assert_non_null(strstr(out, "554 5.6.0"));
    bsmtp_server_free(s);
}

static void
test_bsmtp_server_pregreet_and_errors(void **state)
{
    bsmtp_server *s = server(false, 0, true);

    (void)state;
    assert_int_equal(out_len, 0);
    assert_int_equal(TALK(s, "EHLO early\r\n"), BSMTP_SRV_CLOSE);
    drain(s);
    assert_non_null(strstr(out, "554 5.5.1"));
    bsmtp_server_free(s);

    s = server(false, 0, false);
    assert_int_equal(TALK(s, "X\r\nY\r\nZ\r\nW\r\nV\r\n"), BSMTP_SRV_CLOSE);
    assert_non_null(strstr(out, "421 4.7.0"));
    assert_true(bsmtp_server_closing(s));
    bsmtp_server_free(s);
}

static void
test_bsmtp_server_order_and_starttls(void **state)
{
    bsmtp_server *s = server(false, 0, false);
    bsmtp_server_cfg cfg;

    (void)state;
    TALK(s, "MAIL FROM:<a@h.test>\r\n");
    assert_non_null(strstr(out, "503 5.5.1 send EHLO first"));
    TALK(s, "EHLO x\r\nRCPT TO:<b@h.test>\r\n");
    assert_non_null(strstr(out, "503 5.5.1 need MAIL"));
    TALK(s, "MAIL FROM:<a@h.test>\r\nDATA\r\n");
    assert_non_null(strstr(out, "554 5.5.1 no valid recipients"));
    TALK(s, "RSET\r\n");
    assert_int_equal(TALK(s, "STARTTLS\r\nEHLO must-not-be-read\r\n"), BSMTP_SRV_STARTTLS);
    assert_non_null(strstr(out, "220 2.0.0"));
    bsmtp_server_tls_started(s);
    out_len = 0;
    TALK(s, "MAIL FROM:<a@h.test>\r\n");
    assert_non_null(strstr(out, "503 5.5.1 send EHLO first"));      /* state forgotten */
    TALK(s, "EHLO x\r\n");
    assert_null(strstr(out, "STARTTLS"));
    bsmtp_server_free(s);

    memset(&cfg, 0, sizeof(cfg));
    cfg.hostname = "h";
    cfg.starttls = true;
    cfg.tls_required = true;
    out_len = 0;
    assert_int_equal(bsmtp_server_new(&s, &cfg, NULL), 0);
    TALK(s, "EHLO x\r\nMAIL FROM:<a@h.test>\r\n");
    assert_non_null(strstr(out, "530 5.7.0"));
    bsmtp_server_free(s);
}

/* The friendly transaction, one octet per feed call: same replies. */
static void
test_bsmtp_server_bytewise(void **state)
{
    static const char cl[] = "EHLO x\r\nMAIL FROM:<a@h.test>\r\nRCPT TO:<b@h.test>\r\n"
                             "DATA\r\nline\r\n.\r\nQUIT\r\n";
    char whole[sizeof(out)];
    bsmtp_server *s = server(false, 0, false);

    (void)state;
    talk(s, cl, sizeof(cl) - 1, false);
    memcpy(whole, out, out_len + 1);
    bsmtp_server_free(s);
    s = server(false, 0, false);
    talk(s, cl, sizeof(cl) - 1, true);
    assert_string_equal(out, whole);
    bsmtp_server_free(s);
}

static void
test_bsmtp_server_alloc_failure(void **state)
{
    static const char cl[] = "EHLO x\r\nMAIL FROM:<a@h.test>\r\nRCPT TO:<b@h.test>\r\n"
                             "RCPT TO:<no@h.test>\r\nDATA\r\nline\r\n.\r\nQUIT\r\n";

    (void)state;
    for (long k = 0; k < 60; k++) {
        struct tmem tm = {false, 0, 0, 0, 0};
        mem m = tmem_make(&tm);
        bsmtp_server_cfg cfg;
        bsmtp_server *s;

        memset(&cfg, 0, sizeof(cfg));
        cfg.hostname = "h";
        tmem_fail_after(&tm, k);
        out_len = 0;
        if (bsmtp_server_new(&s, &cfg, &m) != 0)
            continue;
        talk(s, cl, sizeof(cl) - 1, false);
        bsmtp_server_free(s);
        assert_int_equal(tm.live, 0);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bsmtp_server_ehlo_and_pipelined_txn),
        cmocka_unit_test(test_bsmtp_server_lmtp_per_recipient),
        cmocka_unit_test(test_bsmtp_server_bdat_binary),
        cmocka_unit_test(test_bsmtp_server_size_limits),
        cmocka_unit_test(test_bsmtp_server_too_many_recipients),
        cmocka_unit_test(test_bsmtp_server_long_lines_and_nul),
        cmocka_unit_test(test_bsmtp_server_pregreet_and_errors),
        cmocka_unit_test(test_bsmtp_server_order_and_starttls),
        cmocka_unit_test(test_bsmtp_server_bytewise),
        cmocka_unit_test(test_bsmtp_server_alloc_failure),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
