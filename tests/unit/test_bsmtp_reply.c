/*
 * test_bsmtp_reply.c: unit tests of bsmtp/bsmtp_reply (the incremental
 * SMTP/LMTP reply parser).
 *
 * Covers single and multi-line replies, bare codes, enhanced status
 * codes (present, absent, class mismatch, malformed), pipelined replies
 * in one buffer, every split point of a reply (byte-at-a-time feeding
 * gives the same result), the line and line-count caps on both sides,
 * text truncation, and the sticky syntax errors.
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
#include "bsmtp/bsmtp_reply.h"
#include "test_common.h"

static bsmtp_reply rep;

/* Feeds s whole; returns the feed result and stores what was used. */
static int
feed_str(bsmtp_reply_parser *p, const char *s, size_t *used)
{
    return bsmtp_reply_feed(p, (const uint8_t *)s, strlen(s), used, &rep);
}

static void
test_bsmtp_reply_single_and_multi(void **state)
{
    bsmtp_reply_parser p;
    size_t used;
    const char *ehlo = "250-mx.example.net hello\r\n250-PIPELINING\r\n"
                       "250-CHUNKING\r\n250 BINARYMIME\r\n";
    (void)state;

    bsmtp_reply_parser_init(&p);
    assert_int_equal(feed_str(&p, "220 mx.example.net ESMTP\r\n", &used), 1);
    assert_int_equal(used, 26);
    assert_int_equal(rep.code, 220);
    assert_int_equal(rep.nlines, 1);
    assert_int_equal(rep.enh_class, 0);
    assert_string_equal(rep.text, "mx.example.net ESMTP");
    assert_false(bsmtp_reply_parser_busy(&p));

    assert_int_equal(feed_str(&p, ehlo, &used), 1);
    assert_int_equal(used, strlen(ehlo));
    assert_int_equal(rep.code, 250);
    assert_int_equal(rep.nlines, 4);
    assert_string_equal(rep.text,
                        "mx.example.net hello\nPIPELINING\nCHUNKING\nBINARYMIME");

    /* A bare code ends a reply; LF alone is accepted as a line end. */
    assert_int_equal(feed_str(&p, "354\n", &used), 1);
    assert_int_equal(rep.code, 354);
    assert_int_equal(rep.text_len, 0);
    assert_string_equal(rep.text, "");
}

static void
test_bsmtp_reply_enhanced_codes(void **state)
{
    static const struct {
        const char *in;
        int cls, subj, det;
    } cases[] = {
        {"550 5.1.1 no such user\r\n", 5, 1, 1},
        {"250 2.0.0\r\n", 2, 0, 0},
        {"452 4.3.999 full\r\n", 4, 3, 999},
        {"550 4.1.1 class differs from the code\r\n", 0, 0, 0},
        {"550 5.1.1000 detail too long\r\n", 0, 0, 0},
        {"550 5.1 two parts\r\n", 0, 0, 0},
        {"550 5.1.1x glued\r\n", 0, 0, 0},
        {"550 3.1.1 class 3 is not a status class\r\n", 0, 0, 0},
        {"550 no code here\r\n", 0, 0, 0},
    };
    size_t i, used;
    (void)state;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bsmtp_reply_parser p;

        bsmtp_reply_parser_init(&p);
        assert_int_equal(feed_str(&p, cases[i].in, &used), 1);
        assert_int_equal(rep.enh_class, cases[i].cls);
        assert_int_equal(rep.enh_subject, cases[i].subj);
        assert_int_equal(rep.enh_detail, cases[i].det);
    }
}

static void
test_bsmtp_reply_pipelined(void **state)
{
    bsmtp_reply_parser p;
    const char *in = "250 2.1.0 ok\r\n250 2.1.5 ok\r\n550 5.1.1 unknown\r\n354 go";
    size_t len = strlen(in), off = 0, used;
    int codes[3], n = 0;
    (void)state;

    bsmtp_reply_parser_init(&p);
    for (;;) {
        int rc = bsmtp_reply_feed(&p, (const uint8_t *)in + off, len - off,
                                  &used, &rep);
        off += used;
        if (rc == 0)
            break;
        assert_int_equal(rc, 1);
        assert_true(n < 3);
        codes[n++] = rep.code;
    }
    assert_int_equal(n, 3);
    assert_int_equal(codes[0], 250);
    assert_int_equal(codes[2], 550);
    assert_int_equal(off, len);
    /* "354 go" waits for its line end. */
    assert_true(bsmtp_reply_parser_busy(&p));
    assert_int_equal(feed_str(&p, "\r\n", &used), 1);
    assert_int_equal(rep.code, 354);
    assert_string_equal(rep.text, "go");
}

/* Every split of a multi-line reply into two feeds, and byte-at-a-time
 * feeding, give the same reply. */
static void
test_bsmtp_reply_every_split(void **state)
{
    const char *in = "250-a.example\r\n250-SIZE 1000\r\n250 2.0.0 DSN\r\n";
    size_t len = strlen(in), cut, used;
    (void)state;

    for (cut = 0; cut <= len; cut++) {
        bsmtp_reply_parser p;
        int rc;

        bsmtp_reply_parser_init(&p);
        rc = bsmtp_reply_feed(&p, (const uint8_t *)in, cut, &used, &rep);
        if (cut < len) {
            assert_int_equal(rc, 0);
            assert_int_equal(used, cut);
            rc = bsmtp_reply_feed(&p, (const uint8_t *)in + cut, len - cut,
                                  &used, &rep);
            assert_int_equal(used, len - cut);
        }
        assert_int_equal(rc, 1);
        assert_int_equal(rep.code, 250);
        assert_int_equal(rep.nlines, 3);
        assert_int_equal(rep.enh_class, 0); /* first line has none */
        assert_string_equal(rep.text, "a.example\nSIZE 1000\n2.0.0 DSN");
    }
    {
        bsmtp_reply_parser p;
        size_t i;
        int got = 0;

        bsmtp_reply_parser_init(&p);
        for (i = 0; i < len; i++) {
            int rc = bsmtp_reply_feed(&p, (const uint8_t *)in + i, 1, &used, &rep);
            assert_int_equal(used, 1);
            assert_int_equal(rc, i + 1 == len ? 1 : 0);
            got += rc;
        }
        assert_int_equal(got, 1);
        assert_int_equal(rep.nlines, 3);
    }
}

static void
test_bsmtp_reply_syntax_errors(void **state)
{
    static const char *bad[] = {
        "25 short\r\n",
        "2500 four digits\r\n",
        "150 class 1\r\n",
        "650 class 6\r\n",
        "260 second digit 6\r\n",
        "25x letter\r\n",
        "250_underscore\r\n",
        "250-first\r\n251 other code\r\n",
        "250 bare\rCR\r\n",
        "\r\n",
    };
    size_t i, used;
    (void)state;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        bsmtp_reply_parser p;

        bsmtp_reply_parser_init(&p);
        assert_int_equal(feed_str(&p, bad[i], &used), BSMTP_ERR_REPLY_SYNTAX);
        /* Sticky: a good reply after it is refused too. */
        assert_int_equal(feed_str(&p, "250 ok\r\n", &used),
                         BSMTP_ERR_REPLY_SYNTAX);
    }
    {
        bsmtp_reply_parser p;
        const uint8_t nul[] = {'2', '5', '0', ' ', 0, '\r', '\n'};

        bsmtp_reply_parser_init(&p);
        assert_int_equal(bsmtp_reply_feed(&p, nul, sizeof(nul), &used, &rep),
                         BSMTP_ERR_REPLY_SYNTAX);
        assert_int_equal(used, 5);
    }
    {
        bsmtp_reply_parser p;

        bsmtp_reply_parser_init(&p);
        assert_int_equal(bsmtp_reply_feed(&p, NULL, 1, &used, &rep),
                         BSMTP_ERR_INVAL);
        assert_int_equal(bsmtp_reply_feed(NULL, NULL, 0, &used, &rep),
                         BSMTP_ERR_INVAL);
        assert_int_equal(bsmtp_reply_feed(&p, NULL, 0, &used, &rep), 0);
    }
}

/* A line of exactly 512 octets with CRLF passes; one more octet fails.
 * BSMTP_REPLY_LINES_MAX lines pass; one more fails. */
static void
test_bsmtp_reply_caps(void **state)
{
    static char line[BSMTP_REPLY_LINE_MAX + 8];
    bsmtp_reply_parser p;
    size_t used, i, n;
    (void)state;

    n = BSMTP_REPLY_LINE_MAX - 2;
    memcpy(line, "250 ", 4);
    memset(line + 4, 'x', n - 4);
    memcpy(line + n, "\r\n", 3);
    bsmtp_reply_parser_init(&p);
    assert_int_equal(feed_str(&p, line, &used), 1);
    assert_int_equal(rep.text_len, n - 4);

    memcpy(line + n, "x\r\n", 4);
    bsmtp_reply_parser_init(&p);
    assert_int_equal(feed_str(&p, line, &used), BSMTP_ERR_REPLY_TOO_LONG);

    bsmtp_reply_parser_init(&p);
    for (i = 0; i + 1 < BSMTP_REPLY_LINES_MAX; i++)
        assert_int_equal(feed_str(&p, "250-0123456789abcdef\r\n", &used), 0);
    assert_int_equal(feed_str(&p, "250 last\r\n", &used), 1);
    assert_int_equal(rep.nlines, BSMTP_REPLY_LINES_MAX);
    /* 256 lines of 16 octets exceed the text cap: the tail is dropped. */
    assert_true(rep.truncated);
    assert_true(rep.text_len <= BSMTP_REPLY_TEXT_MAX);
    assert_int_equal(strlen(rep.text), rep.text_len);

    bsmtp_reply_parser_init(&p);
    for (i = 0; i < BSMTP_REPLY_LINES_MAX; i++)
        assert_int_equal(feed_str(&p, "250-x\r\n", &used), 0);
    assert_int_equal(feed_str(&p, "250 x\r\n", &used), BSMTP_ERR_REPLY_TOO_LONG);
}

static void
test_bsmtp_reply_ehlo_ext(void **state)
{
    bsmtp_reply_parser p;
    bsmtp_ext ext;
    size_t used;
    const char *all = "250-mx.example.net PIPELINING CHUNKING\r\n"
                      "250-pipelining\r\n250-CHUNKING\r\n250-BINARYMIME\r\n"
                      "250-8BITMIME\r\n250-SIZE 10485760\r\n250-DSN\r\n"
                      "250-SMTPUTF8\r\n250-MT-PRIORITY MIXER\r\n"
                      "250-X-UNKNOWN 1 2\r\n250-ENHANCEDSTATUSCODES\r\n"
                      "250-AUTH PLAIN LOGIN\r\n"
                      "250 DELIVERBY 120\r\n";
    (void)state;

    bsmtp_reply_parser_init(&p);
    assert_int_equal(feed_str(&p, all, &used), 1);
    assert_int_equal(bsmtp_reply_ehlo_ext(&rep, &ext), 0);
    assert_int_equal(ext.flags,
                     BSMTP_EXT_PIPELINING | BSMTP_EXT_CHUNKING | BSMTP_EXT_BINARYMIME
                         | BSMTP_EXT_8BITMIME | BSMTP_EXT_SIZE | BSMTP_EXT_DSN
                         | BSMTP_EXT_SMTPUTF8 | BSMTP_EXT_MT_PRIORITY
                         | BSMTP_EXT_DELIVERBY | BSMTP_EXT_ENHANCEDSTATUSCODES
                         | BSMTP_EXT_AUTH);
    assert_int_equal(ext.size_max, 10485760);
    assert_int_equal(ext.deliverby_min_s, 120);

    /* The greeting line's words are not extensions; a one-line reply has
     * none; bad numbers leave the keyword with no number; prefixes of a
     * keyword do not count. */
    assert_int_equal(feed_str(&p, "250 mx PIPELINING\r\n", &used), 1);
    assert_int_equal(bsmtp_reply_ehlo_ext(&rep, &ext), 0);
    assert_int_equal(ext.flags, 0);
    assert_int_equal(feed_str(&p, "250-mx\r\n250-SIZE 99999999999999999999\r\n"
                                  "250-DELIVERBY x1\r\n250-SIZ\r\n250 DSNX\r\n",
                              &used), 1);
    assert_int_equal(bsmtp_reply_ehlo_ext(&rep, &ext), 0);
    assert_int_equal(ext.flags, BSMTP_EXT_SIZE | BSMTP_EXT_DELIVERBY);
    assert_int_equal(ext.size_max, 0);
    assert_int_equal(ext.deliverby_min_s, 0);
    assert_int_equal(feed_str(&p, "250-mx\r\n250 SIZE 18446744073709551615\r\n",
                              &used), 1);
    assert_int_equal(bsmtp_reply_ehlo_ext(&rep, &ext), 0);
    assert_true(ext.size_max == UINT64_MAX);

    assert_int_equal(feed_str(&p, "502 5.5.1 no EHLO\r\n", &used), 1);
    assert_int_equal(bsmtp_reply_ehlo_ext(&rep, &ext), BSMTP_ERR_INVAL);
    assert_int_equal(bsmtp_reply_ehlo_ext(NULL, &ext), BSMTP_ERR_INVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bsmtp_reply_single_and_multi),
        cmocka_unit_test(test_bsmtp_reply_enhanced_codes),
        cmocka_unit_test(test_bsmtp_reply_pipelined),
        cmocka_unit_test(test_bsmtp_reply_every_split),
        cmocka_unit_test(test_bsmtp_reply_syntax_errors),
        cmocka_unit_test(test_bsmtp_reply_caps),
        cmocka_unit_test(test_bsmtp_reply_ehlo_ext),
    };

    return cmocka_run_group_tests_name("bsmtp_reply", tests, NULL, NULL);
}
