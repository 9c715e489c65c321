/*
 * test_mule_hdr.c: unit tests of mule/mule_hdr (header section scanning
 * and the MULE Received field).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mule/mule_err.h"
#include "mule/mule_hdr.h"
#include "test_common.h"

#define U(s) ((const uint8_t *)(s))

static void
test_mule_hdr_section_table(void **state)
{
    static const struct {
        const char *msg;
        size_t hdr_len, body_off;
    } cases[] = {
        { "A: 1\r\nB: 2\r\n\r\nbody\r\n", 12, 14 },
        { "A: 1\nB: 2\n\nbody\n", 10, 11 },
        { "A: 1\r\n folded\r\n\r\n", 15, 17 },
        { "A: 1\r\nB: 2", 10, 10 },                 /* no empty line, no EOL */
        { "A: 1\r\nnot a field\r\nC: 3\r\n", 6, 6 }, /* body without empty line */
        { "\r\nbody", 0, 2 },
        { "", 0, 0 },
        { " leading: space\r\n\r\n", 0, 0 },        /* continuation first: body */
        { "Name : obsolete\r\n\r\nx", 17, 19 },
        { "A:\r\n\r\n", 4, 6 },
        { ": no name\r\n", 0, 0 },
    };
    size_t i, hl, bo;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        mule_hdr_section(U(cases[i].msg), strlen(cases[i].msg), &hl, &bo);
        if (hl != cases[i].hdr_len || bo != cases[i].body_off)
            fail_msg("case %zu: got hdr_len=%zu body_off=%zu, want %zu %zu", i, hl, bo,
                     cases[i].hdr_len, cases[i].body_off);
    }
    mule_hdr_section(NULL, 5, &hl, &bo);
    assert_int_equal(hl, 0);
    assert_int_equal(bo, 0);
}

static void
test_mule_hdr_iter_fields(void **state)
{
    static const char msg[] =
        "Received: from a by b with MULE id 1;\r\n"
        "\tMon, 1 Jan 2024 00:00:00 +0000\r\n"
        "Subject : hello\r\n"
        "  world\r\n"
        "X-Empty:\r\n"
        "\r\n"
        "Body: not a header\r\n";
    mule_hdr_iter it;
    mule_hdr_field f;
    char out[128];

    (void)state;
    mule_hdr_iter_init(&it, U(msg), sizeof(msg) - 1);
    assert_true(mule_hdr_next(&it, &f));
    assert_true(mule_hdr_is(&f, "received"));
    assert_int_equal(f.raw_len, strlen(" from a by b with MULE id 1;\r\n\tMon, 1 Jan 2024 00:00:00 +0000"));
    assert_true(mule_hdr_next(&it, &f));
    assert_true(mule_hdr_is(&f, "SUBJECT"));
    mule_hdr_unfold(f.raw, f.raw_len, false, out, sizeof(out), NULL);
    assert_string_equal(out, "hello world");
    assert_true(mule_hdr_next(&it, &f));
    assert_true(mule_hdr_is(&f, "X-Empty"));
    assert_int_equal(f.raw_len, 0);
    assert_false(mule_hdr_next(&it, &f));
    assert_false(mule_hdr_get(U(msg), sizeof(msg) - 1, "Body", 0, false, out, sizeof(out)));
    assert_int_equal(mule_hdr_count(U(msg), sizeof(msg) - 1, "Received"), 1);
}

static void
test_mule_hdr_unfold_sanitises(void **state)
{
    static const uint8_t raw[] = "  a\r\n\tb \x01 c\x7f\xc3\xa9  ";
    char out[64], tiny[6];
    bool cut;
    size_t n;

    (void)state;
    n = mule_hdr_unfold(raw, sizeof(raw) - 1, false, out, sizeof(out), &cut);
    assert_string_equal(out, "a b ? c???");
    assert_int_equal(n, strlen("a b ? c???"));
    assert_false(cut);
    mule_hdr_unfold(raw, sizeof(raw) - 1, true, out, sizeof(out), NULL);
    assert_string_equal(out, "a b ? c?\xc3\xa9");
    /* Truncation never splits a UTF-8 sequence. */
    mule_hdr_unfold(U("abcd\xc3\xa9xyz"), 9, true, tiny, sizeof(tiny), &cut);
    assert_true(cut);
    assert_string_equal(tiny, "abcd");
    mule_hdr_unfold(U("abcdefgh"), 8, false, tiny, sizeof(tiny), &cut);
    assert_true(cut);
    assert_string_equal(tiny, "abcde");
    assert_int_equal(mule_hdr_unfold(U("x"), 1, false, out, 0, NULL), 0);
}

static void
test_mule_hdr_get_nth_and_count(void **state)
{
    static const char msg[] =
        "Received: one; d1\r\nMessage-ID:\r\n <id@x>\r\nreceived: two; d2\r\n"
        "RECEIVED: three; Tue, 2 Jan 2024 10:00:00 +0000\r\n\r\n";
    char out[64];

    (void)state;
    assert_true(mule_hdr_get(U(msg), sizeof(msg) - 1, "received", 1, false, out, sizeof(out)));
    assert_string_equal(out, "two; d2");
    assert_false(mule_hdr_get(U(msg), sizeof(msg) - 1, "received", 3, false, out, sizeof(out)));
    assert_true(mule_hdr_get(U(msg), sizeof(msg) - 1, "message-id", 0, false, out, sizeof(out)));
    assert_string_equal(out, "<id@x>");
    assert_int_equal(mule_hdr_count(U(msg), sizeof(msg) - 1, "Received"), 3);
    /* Submission time stamp: the last (oldest) Received field's date. */
    assert_true(mule_hdr_submission_date(U(msg), sizeof(msg) - 1, out, sizeof(out)));
    assert_string_equal(out, "Tue, 2 Jan 2024 10:00:00 +0000");
    assert_false(mule_hdr_submission_date(U("Subject: x\r\n\r\n"), 14, out, sizeof(out)));
    assert_false(mule_hdr_submission_date(U("Received: no date\r\n\r\n"), 21, out, sizeof(out)));
}

/* RFC 5322 3.3 date-times with the obsolete forms of 4.3, and what is
 * refused. */
static void
test_mule_hdr_parse_date(void **state)
{
    static const struct {
        const char *s;
        int64_t t;
    } good[] = {
        { "Tue, 2 Jan 2024 10:00:00 +0000", 1704189600 },
        { "  Tue ,  02 Jan 2024 10:00 +0000 (UTC)", 1704189600 },
        { "2 jan 2024 11:30:00 +0130", 1704189600 },
        { "Thu, 29 Feb 2024 23:59:60 -0000", 1709251200 },      /* leap second */
        { "31 Dec 99 23:59 EST", 946702740 },                    /* 4.3: 1999 */
        { "1 Jan 49 00:00:00 GMT", 2493072000 },                 /* 4.3: 2049 */
        { "1 Jan 050 00:00:00 Z", -631152000 },                  /* 1950, military */
        { "Sun, 06 Dec 2026 03:14:27 +0530", 1796507067 },
        { "Tue, 2 Jan 2024 10:00:00 (a (nested) comment) +0000", 1704189600 },
    };
    static const char *const bad[] = {
        "", "Tue, 2 Jan 2024", "Tue 2 Jan 2024 10:00:00 +0000", "32 Jan 2024 10:00 +0000",
        "29 Feb 2023 10:00 +0000", "2 Jnu 2024 10:00 +0000", "2 Jan 2024 24:00 +0000",
        "2 Jan 2024 10:60 +0000", "2 Jan 2024 10:00:61 +0000", "2 Jan 2024 10:00 +000",
        "2 Jan 2024 10:00 +0060", "2 Jan 2024 10:00 XYZ", "2 Jan 2024 10:00 +0000 x",
        "2 Jan 12024 10:00 +0000", "2 Jan 2024 10:00 +0000 (open", "123 Jan 2024 10:00 +0000",
    };
    int64_t t;

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        t = 0;
        assert_true(mule_hdr_parse_date(good[i].s, &t));
        assert_int_equal(t, good[i].t);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(mule_hdr_parse_date(bad[i], &t));
    assert_false(mule_hdr_parse_date(NULL, &t));
    /* Truncation loop: every prefix of every good form is read within its
     * bounds (ASan).  Some are dates themselves: "EST" cut to "E" is a
     * military zone (RFC 5322 4.3: -0000), a cut after the zone drops a
     * comment.  Those with a numeric zone and no comment have none. */
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char cut[64];
        size_t n = strlen(good[i].s);

        assert_true(n < sizeof(cut));
        for (size_t k = 0; k < n; k++) {
            memcpy(cut, good[i].s, k);
            cut[k] = '\0';
            (void)mule_hdr_parse_date(cut, &t);
        }
    }
    {
        static const char full[] = "Tue, 2 Jan 2024 10:00:00 +0000";
        char cut[sizeof(full)];

        for (size_t k = 0; k + 1 < sizeof(full); k++) {
            memcpy(cut, full, k);
            cut[k] = '\0';
            assert_false(mule_hdr_parse_date(cut, &t));
        }
    }
}

/* The previous MULE node's intake time: the date of the top Received field
 * when it says "with MULE", as mule_hdr_trace() writes it. */
static void
test_mule_hdr_mule_trace_time(void **state)
{
    mule_trace tr = { "198.18.0.1", "n2.example.test", "198.18.0.1-00000001", NULL,
                      "Tue, 2 Jan 2024 10:00:00 +0000" };
    static const char older[] = "Received: from a by b with ESMTP; 1 Jan 2024 00:00 +0000\r\n"
                                "Subject: x\r\n\r\nbody\r\n";
    buf b;
    int64_t t = 0;

    (void)state;
    buf_init(&b, NULL, SIZE_MAX);
    assert_int_equal(mule_hdr_trace(&tr, &b), 0);
    assert_int_equal(buf_append(&b, older, sizeof(older) - 1), 0);
    assert_true(mule_hdr_mule_trace_time(b.data, b.len, &t));
    assert_int_equal(t, 1704189600);
    /* Truncation loop: a cut message yields the same time or none. */
    for (size_t k = 0; k < b.len; k++) {
        t = 0;
        if (mule_hdr_mule_trace_time(b.data, k, &t))
            assert_int_equal(t, 1704189600);
    }
    /* The top field is another protocol's: no MULE intake time. */
    assert_false(mule_hdr_mule_trace_time(U(older), sizeof(older) - 1, &t));
    assert_false(mule_hdr_mule_trace_time(U("Received: by x with MULE\r\n\r\n"), 28, &t));
    assert_false(mule_hdr_mule_trace_time(
        U("Received: by x with MULEX; 2 Jan 2024 10:00 +0000\r\n\r\n"), 52, &t));
    buf_fini(&b);
}

/* Regression (fuzz_mule_relay): cutting a value at a UTF-8 sequence that
 * followed a space left that space at the end of the output, though
 * trailing whitespace is documented as dropped. */
static void
test_mule_hdr_unfold_no_trailing_space_after_utf8_cut(void **state)
{
    char tiny[5];
    bool cut;
    size_t n;

    (void)state;
    n = mule_hdr_unfold(U("ab \xe7\x94\xa8"), 6, true, tiny, sizeof(tiny), &cut);
    assert_true(cut);
    assert_string_equal(tiny, "ab");
    assert_int_equal(n, 2);
}

/*
 * Every prefix of a header block, each on a heap copy of exactly that
 * length (ASan catches any read past it): the section, the fields, the
 * unfolded values, counts and the submission date stay within the
 * prefix and are well formed, and the whole block gives the known facts.
 */
static void
test_mule_hdr_truncation_loop(void **state)
{
    static const char msg[] =
        "Received: from a by b with MULE id 1;\r\n"
        "\tMon, 1 Jan 2024 00:00:00 +0000\r\n"
        "Subject : caf\xc3\xa9\r\n"
        "  folded \x01 value\n"
        "Message-ID: <m1@example.com>\r\n"
        "X-Empty:\r\n"
        "Received: from c by d; Sun, 31 Dec 2023 23:59:59 +0000\r\n"
        "\r\n"
        "Body: not a header\r\n";
    size_t len, hl, bo, nf, i, n;
    mule_hdr_iter it;
    mule_hdr_field f;
    char out[64], tiny[6];
    uint8_t *p;

    (void)state;
    for (len = 0; len <= sizeof(msg) - 1; len++) {
        p = test_malloc(len != 0 ? len : 1);
        memcpy(p, msg, len);
        mule_hdr_section(p, len, &hl, &bo);
        if (hl > bo || bo > len)
            fail_msg("prefix %zu: got hdr_len=%zu body_off=%zu", len, hl, bo);
        nf = 0;
        mule_hdr_iter_init(&it, p, len);
        while (mule_hdr_next(&it, &f)) {
            nf++;
            if (f.name < p || f.name_len == 0 || f.raw + f.raw_len > p + hl)
                fail_msg("prefix %zu: field %zu outside the header", len, nf);
            n = mule_hdr_unfold(f.raw, f.raw_len, true, out, sizeof(out), NULL);
            assert_int_equal(strlen(out), n);
            n = mule_hdr_unfold(f.raw, f.raw_len, false, tiny, sizeof(tiny), NULL);
            assert_true(n < sizeof(tiny));
            for (i = 0; i < n; i++)
                assert_true(tiny[i] >= 0x20 && tiny[i] < 0x7f);
        }
        assert_true(mule_hdr_count(p, len, "Received") <= nf);
        (void)mule_hdr_get(p, len, "Subject", 0, true, out, sizeof(out));
        (void)mule_hdr_submission_date(p, len, tiny, sizeof(tiny));
        if (len == sizeof(msg) - 1) {
            assert_int_equal(nf, 5);
            assert_int_equal(mule_hdr_count(p, len, "received"), 2);
            assert_true(mule_hdr_get(p, len, "Subject", 0, true, out, sizeof(out)));
            assert_string_equal(out, "caf\xc3\xa9 folded ? value");
            assert_true(mule_hdr_submission_date(p, len, out, sizeof(out)));
            assert_string_equal(out, "Sun, 31 Dec 2023 23:59:59 +0000");
        }
        test_free(p);
    }
}

static void
expect_buf(const buf *b, const char *want)
{
    if (b->len != strlen(want) || memcmp(b->data, want, b->len) != 0)
        fail_msg("got \"%.*s\", want \"%s\"", (int)b->len, (const char *)b->data, want);
}

static void
test_mule_hdr_trace_exact(void **state)
{
    buf b;
    mule_trace t = { "198.18.0.1", "relay.example", "0000002a", NULL,
                     "Mon, 1 Jan 2024 00:00:00 +0000" };
    static const char want_short[] =
        "Received: from 198.18.0.1 by relay.example with MULE id 0000002a;"
        " Mon, 1 Jan 2024 00:00:00 +0000\r\n";
    static const char want_folded[] =
        "Received: from gw.army.example ([192.0.2.7])\r\n"
        "\tby relay.example with MULE id 0000002a\r\n"
        "\tfor <bob@army.example>;\r\n"
        "\tMon, 1 Jan 2024 00:00:00 +0000\r\n";

    (void)state;
    buf_init(&b, NULL, 4096);
    /* Up to 78 octets: one line. */
    t.date = "1 Jan 2024 00:00 +0000";
    t.from = "a";
    t.by = "b";
    assert_int_equal(mule_hdr_trace(&t, &b), 0);
    expect_buf(&b, "Received: from a by b with MULE id 0000002a; 1 Jan 2024 00:00 +0000\r\n");
    buf_reset(&b);
    t.from = "198.18.0.1";
    t.by = "relay.example";
    t.date = "Mon, 1 Jan 2024 00:00:00 +0000";
    assert_int_equal(mule_hdr_trace(&t, &b), 0);
    /* Over 78 octets on one line: folded form. */
    assert_true(strlen(want_short) - 2 > 78);
    expect_buf(&b, "Received: from 198.18.0.1\r\n\tby relay.example with MULE id 0000002a;\r\n"
               "\tMon, 1 Jan 2024 00:00:00 +0000\r\n");
    buf_reset(&b);
    t.from = "gw.army.example ([192.0.2.7])";
    t.for_addr = "bob@army.example";
    assert_int_equal(mule_hdr_trace(&t, &b), 0);
    expect_buf(&b, want_folded);
    /* No from and no id. */
    buf_reset(&b);
    t.from = NULL;
    t.id = NULL;
    t.for_addr = NULL;
    t.date = "1 Jan 2024 00:00 +0000";
    assert_int_equal(mule_hdr_trace(&t, &b), 0);
    expect_buf(&b, "Received: by relay.example with MULE; 1 Jan 2024 00:00 +0000\r\n");
    buf_fini(&b);
}

static void
test_mule_hdr_trace_refuses_bad_values(void **state)
{
    buf b;
    mule_trace t = { "a", "b", "c", NULL, "d" };

    (void)state;
    buf_init(&b, NULL, 4096);
    t.from = "evil\r\nX-Injected: 1";
    assert_int_equal(mule_hdr_trace(&t, &b), MULE_ERR_INVAL);
    t.from = "a";
    t.by = NULL;
    assert_int_equal(mule_hdr_trace(&t, &b), MULE_ERR_INVAL);
    t.by = "b";
    t.date = "";
    assert_int_equal(mule_hdr_trace(&t, &b), MULE_ERR_INVAL);
    t.date = "d";
    t.id = "\xc3\xa9";
    assert_int_equal(mule_hdr_trace(&t, &b), MULE_ERR_INVAL);
    assert_int_equal(b.len, 0);
    buf_fini(&b);
    /* Cap: nothing partial is left behind. */
    buf_init(&b, NULL, 10);
    t.id = "c";
    assert_int_equal(mule_hdr_trace(&t, &b), MULE_ERR_NOSPACE);
    assert_int_equal(b.len, 0);
    buf_fini(&b);
}

/* RFC 6758 MT-Priority: sign, comment, folding; bad or repeated = none. */
static void
test_mule_hdr_mt_priority(void **state)
{
    static const struct {
        const char *msg;
        bool ok;
        int prio;
    } cases[] = {
        {"MT-Priority: 4\r\n\r\nb", true, 4},
        {"Subject: x\r\nmt-priority:-9\r\n\r\n", true, -9},
        {"MT-Priority: +2 (FLASH)\r\n\r\n", true, 2},
        {"MT-Priority:\r\n  6\r\n\r\n", true, 6},
        {"MT-Priority: 10\r\n\r\n", false, 0},
        {"MT-Priority: high\r\n\r\n", false, 0},
        {"MT-Priority: 3 4\r\n\r\n", false, 0},
        {"MT-Priority: 3 (open\r\n\r\n", false, 0},
        {"MT-Priority: 1\r\nMT-Priority: 9\r\n\r\n", false, 0},
        {"Subject: none\r\n\r\nMT-Priority: 5\r\n", false, 0},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int p = 99;
        bool ok = mule_hdr_mt_priority((const uint8_t *)cases[i].msg, strlen(cases[i].msg), &p);
        if (ok != cases[i].ok || (ok && p != cases[i].prio))
            fail_msg("case %zu: got %d/%d", i, ok, p);
    }
    /* Truncation loop: a prefix cut inside the value or the comment has
     * no MT-Priority; one cut after it still has the same value. */
    {
        static const char m[] = "MT-Priority: -7 (urgent)\r\nSubject: x\r\n\r\nbody";
        for (size_t k = 0; k <= sizeof m - 1; k++) {
            int p = 99;
            bool ok = mule_hdr_mt_priority((const uint8_t *)m, k, &p);
            if (ok && p != -7)
                fail_msg("prefix %zu: %d", k, p);
            if (k < 15 && ok)
                fail_msg("prefix %zu cut in the value, yet %d", k, p);
        }
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mule_hdr_mt_priority),
        cmocka_unit_test(test_mule_hdr_section_table),
        cmocka_unit_test(test_mule_hdr_iter_fields),
        cmocka_unit_test(test_mule_hdr_unfold_sanitises),
        cmocka_unit_test(test_mule_hdr_get_nth_and_count),
        cmocka_unit_test(test_mule_hdr_unfold_no_trailing_space_after_utf8_cut),
        cmocka_unit_test(test_mule_hdr_truncation_loop),
        cmocka_unit_test(test_mule_hdr_trace_exact),
        cmocka_unit_test(test_mule_hdr_parse_date),
        cmocka_unit_test(test_mule_hdr_mule_trace_time),
        cmocka_unit_test(test_mule_hdr_trace_refuses_bad_values),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
