/*
 * test_bsmtp_cmd.c: unit tests of bsmtp/bsmtp_cmd, the SMTP/LMTP command
 * line parser: every verb in any case, MAIL/RCPT paths and parameters
 * split in place, BDAT sizes and LAST, and each malformed argument.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "bsmtp/bsmtp_cmd.h"

static bsmtp_cmd
parse(const char *text, char *buf, size_t len)
{
    bsmtp_cmd c;

    snprintf(buf, len, "%s", text);
    bsmtp_cmd_parse(buf, &c);
    return c;
}

static void
test_verbs(void **state)
{
    static const struct { const char *line; enum bsmtp_verb v; const char *arg; } t[] = {
        {"EHLO client.example", BSMTP_CMD_EHLO, "client.example"},
        {"helo x", BSMTP_CMD_HELO, "x"},
        {"LhLo y", BSMTP_CMD_LHLO, "y"},
        {"DATA", BSMTP_CMD_DATA, ""},
        {"RSET", BSMTP_CMD_RSET, ""},
        {"noop whatever", BSMTP_CMD_NOOP, "whatever"},
        {"VRFY a", BSMTP_CMD_VRFY, "a"},
        {"HELP", BSMTP_CMD_HELP, ""},
        {"QUIT", BSMTP_CMD_QUIT, ""},
        {"STARTTLS", BSMTP_CMD_STARTTLS, ""},
        {"XYZZY", BSMTP_CMD_UNKNOWN, ""},
        {"EHLOX a", BSMTP_CMD_UNKNOWN, "a"},
        {"", BSMTP_CMD_UNKNOWN, ""},
    };
    char b[128];

    (void)state;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        bsmtp_cmd c = parse(t[i].line, b, sizeof b);
        if (c.verb != t[i].v || strcmp(c.arg, t[i].arg) != 0 || !c.syntax_ok)
            fail_msg("%s: verb %d arg '%s'", t[i].line, c.verb, c.arg);
    }
    assert_string_equal(bsmtp_cmd_name(BSMTP_CMD_STARTTLS), "STARTTLS");
    assert_string_equal(bsmtp_cmd_name(BSMTP_CMD_UNKNOWN), "?");
}

static void
test_mail_rcpt(void **state)
{
    char b[256];
    bsmtp_cmd c;

    (void)state;
    c = parse("MAIL FROM:<a@b.example> SIZE=10 BODY=8BITMIME", b, sizeof b);
    assert_true(c.syntax_ok);
    assert_string_equal(c.path, "a@b.example");
    assert_string_equal(c.params, "SIZE=10 BODY=8BITMIME");
    c = parse("mail from: <>", b, sizeof b);
    assert_true(c.syntax_ok);
    assert_string_equal(c.path, "");
    assert_null(c.params);
    c = parse("RCPT TO:<c@d>   NOTIFY=NEVER", b, sizeof b);
    assert_true(c.syntax_ok);
    assert_string_equal(c.path, "c@d");
    assert_string_equal(c.params, "NOTIFY=NEVER");
    static const char *const bad[] = {
        "MAIL <a@b>", "MAIL FROM:a@b", "MAIL FROM:<a@b>junk", "MAIL FROM:<a@b",
        "RCPT FROM:<a@b>", "RCPT", "MAIL",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        c = parse(bad[i], b, sizeof b);
        if (c.syntax_ok || c.path != NULL || c.params != NULL)
            fail_msg("accepted: %s", bad[i]);
    }
}

static void
test_bdat(void **state)
{
    char b[128];
    bsmtp_cmd c;

    (void)state;
    c = parse("BDAT 1000", b, sizeof b);
    assert_true(c.syntax_ok);
    assert_int_equal(c.bdat_size, 1000);
    assert_false(c.bdat_last);
    c = parse("bdat 0 last", b, sizeof b);
    assert_true(c.syntax_ok);
    assert_int_equal(c.bdat_size, 0);
    assert_true(c.bdat_last);
    static const char *const bad[] = {
        "BDAT", "BDAT x", "BDAT 10 MORE", "BDAT -1", "BDAT 1 LAST x",
        "BDAT 18446744073709551615",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        c = parse(bad[i], b, sizeof b);
        if (c.syntax_ok || c.bdat_size != 0 || c.bdat_last)
            fail_msg("accepted: %s", bad[i]);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verbs),
        cmocka_unit_test(test_mail_rcpt),
        cmocka_unit_test(test_bdat),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
