/*
 * NAME
 *	test_tok - unit tests for pmul/util/tok, the line tokenizer
 * SYNOPSIS
 *	meson test -C BUILD --no-rebuild -v tok
 * DESCRIPTION
 *	Table-driven: each case is a text and the words it must give, line
 *	by line ("3:a|b" is line 3 with words a and b), or the error code,
 *	line and reason it must fail with.  Covers comments, blank lines,
 *	CRLF, a missing final LF, quoted words and escapes, the line cap
 *	at +-1, the word cap at +-1, control characters (NUL, CR inside a
 *	line, DEL), the sticky error, every truncation of a text, and
 *	tok_where()'s "file:line: reason" format.
 * SECURITY
 *	Test code.
 * DIAGNOSTICS
 *	cmocka.
 * SEE ALSO
 *	pmul/util/tok.h.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pmul/util/tok.h"

/* Render every line as "LINE:w1|w2" joined by " / ", or "ERR LINE reason". */
static const char *
run(const char *text, size_t len, size_t line_max, unsigned flags, size_t w_max, int *rc_out)
{
    static char out[1024];
    char buf[64];
    tok_word w[8];
    tok t;
    size_t o = 0, i;
    int rc;

    out[0] = '\0';
    tok_init(&t, text, len, line_max, flags, buf, sizeof(buf), w, w_max);
    while ((rc = tok_next(&t)) == 1) {
        o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%u:", o != 0 ? " / " : "", t.line);
        for (i = 0; i < t.n; i++) {
            assert_int_equal(strlen(w[i].p), w[i].len);
            o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s%s", i != 0 ? "|" : "",
                                  w[i].quoted ? "Q" : "", w[i].p);
        }
    }
    if (rc < 0) {
        (void)snprintf(out + o, sizeof(out) - o, "%sERR %u %s", o != 0 ? " / " : "", t.line,
                       t.reason);
        /* Sticky. */
        assert_int_equal(tok_next(&t), rc);
    }
    *rc_out = rc;
    return out;
}

static void
test_tok_table(void **state)
{
    static const struct {
        const char *text;
        unsigned flags;
        int rc;
        const char *want;
    } cases[] = {
        { "", 0, 0, "" },
        { "\n\n  \t\n# only a comment\n", 0, 0, "" },
        { "a b\tc\n", 0, 0, "1:a|b|c" },
        { "  lead   trail  \n", 0, 0, "1:lead|trail" },
        { "a\r\nb c\r\n", 0, 0, "1:a / 2:b|c" },
        { "no final lf", 0, 0, "1:no|final|lf" },
        { "cr at end\r", 0, 0, "1:cr|at|end" },
        { "\n\nx # comment\ny#glued\n", 0, 0, "3:x / 4:y" },
        { "q \"a b\" \"#x\" \"\"\n", TOK_QUOTES, 0, "1:q|Qa b|Q#x|Q" },
        { "\"e\\n\\t\\\\\\\"\"\n", TOK_QUOTES, 0, "1:Qe\n\t\\\"" },
        { "\"a b\"\n", 0, 0, "1:\"a|b\"" },
        { "x\n\"abc\n", TOK_QUOTES, UTIL_ERR_QUOTE, "1:x / ERR 2 unterminated string" },
        { "\"ab\\", TOK_QUOTES, UTIL_ERR_QUOTE, "ERR 1 unterminated string" },
        { "\"a\\q\"\n", TOK_QUOTES, UTIL_ERR_QUOTE, "ERR 1 unknown escape \\q" },
        { "\"a\"b\n", TOK_QUOTES, UTIL_ERR_QUOTE, "ERR 1 text after closing quote" },
        { "a\n\nb\x01\n", 0, UTIL_ERR_CONTROL, "1:a / ERR 3 control character 0x01" },
        { "a\rb\n", 0, UTIL_ERR_CONTROL, "ERR 1 control character 0x0d" },
        { "a\x7f\n", 0, UTIL_ERR_CONTROL, "ERR 1 control character 0x7f" },
        { "# \x02 comment\n", 0, UTIL_ERR_CONTROL, "ERR 1 control character 0x02" },
        { "1 2 3 4\n", 0, 0, "1:1|2|3|4" },
        { "1 2 3 4 5\n", 0, UTIL_ERR_TOO_MANY_WORDS, "ERR 1 too many words (more than 4)" },
        { "1 2 3 4 # 5 6\n", 0, 0, "1:1|2|3|4" },
        { "0123456789abcdefghij\n", 0, 0, "1:0123456789abcdefghij" },
        { "0123456789abcdefghij\r\n", 0, 0, "1:0123456789abcdefghij" },
        { "0123456789abcdefghijk\n", 0, UTIL_ERR_LINE_TOO_LONG,
          "ERR 1 line longer than 20 octets" },
        { "                     \n", 0, UTIL_ERR_LINE_TOO_LONG,
          "ERR 1 line longer than 20 octets" },
    };
    size_t i;
    const char *got;
    int rc;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        got = run(cases[i].text, strlen(cases[i].text), 20, cases[i].flags, 4, &rc);
        if (rc != cases[i].rc || strcmp(got, cases[i].want) != 0)
            fail_msg("case %zu: got rc=%d \"%s\", want rc=%d \"%s\"", i, rc, got, cases[i].rc,
                     cases[i].want);
    }
    /* A NUL octet is a control character, not the end of the text. */
    got = run("a\0b\n", 4, 20, 0, 4, &rc);
    assert_int_equal(rc, UTIL_ERR_CONTROL);
    assert_string_equal(got, "ERR 1 control character 0x00");
}

/* The line cap is clamped to the buffer: 64 octets hold a 63-octet line. */
static void
test_tok_buffer_clamps_line_cap(void **state)
{
    char text[80];
    int rc;

    (void)state;
    memset(text, 'x', sizeof(text));
    (void)run(text, 63, 1000, 0, 4, &rc);
    assert_int_equal(rc, 0);
    (void)run(text, 64, 1000, 0, 4, &rc);
    assert_int_equal(rc, UTIL_ERR_LINE_TOO_LONG);
}

static void
test_tok_bad_init(void **state)
{
    tok t;
    tok_word w[1];
    char buf[4];

    (void)state;
    tok_init(&t, "a", 1, 10, 0, NULL, 0, w, 1);
    assert_int_equal(tok_next(&t), UTIL_ERR_INVAL);
    tok_init(&t, "a", 1, 10, 0, buf, sizeof(buf), NULL, 0);
    assert_int_equal(tok_next(&t), UTIL_ERR_INVAL);
    tok_init(&t, NULL, 5, 10, 0, buf, sizeof(buf), w, 1);
    assert_int_equal(tok_next(&t), 0);
}

/* Every prefix of a text, from a heap copy of exactly that length (ASan
 * sees any over-read): lines or a clean error, never more words than the
 * whole text has. */
static void
test_tok_truncation_loop(void **state)
{
    static const char text[] = "route a.example local # c\r\n\n\"q \\\" x\" y\nlast";
    size_t len, n;
    char *p;
    int rc;

    (void)state;
    for (len = 0; len <= sizeof(text) - 1; len++) {
        p = malloc(len != 0 ? len : 1);
        assert_non_null(p);
        memcpy(p, text, len);
        n = strlen(run(p, len, 60, TOK_QUOTES, 8, &rc));
        assert_true(rc == 0 || rc == UTIL_ERR_QUOTE);
        assert_true(n < 1024);
        free(p);
    }
}

static void
test_tok_is_and_where(void **state)
{
    char k[] = "Route";
    tok_word w = { k, 5, false };
    char out[64];

    (void)state;
    assert_true(tok_is(&w, "route"));
    assert_true(tok_is(&w, "ROUTE"));
    assert_false(tok_is(&w, "rout"));
    assert_false(tok_is(&w, "routes"));
    assert_int_equal(tok_where(out, sizeof(out), "muled.conf", 12, "bad %s", "value"), 24);
    assert_string_equal(out, "muled.conf:12: bad value");
    (void)tok_where(out, sizeof(out), NULL, 3, "x");
    assert_string_equal(out, "3: x");
    (void)tok_where(out, sizeof(out), "f", 0, "y");
    assert_string_equal(out, "f: y");
    assert_true(tok_where(out, 8, "file", 123, "long reason") >= 8);
    assert_string_equal(out, "file:12");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tok_table),
        cmocka_unit_test(test_tok_buffer_clamps_line_cap),
        cmocka_unit_test(test_tok_bad_init),
        cmocka_unit_test(test_tok_truncation_loop),
        cmocka_unit_test(test_tok_is_and_where),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
