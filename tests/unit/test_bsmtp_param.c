/*
 * test_bsmtp_param.c: unit tests of bsmtp/bsmtp_param (ESMTP MAIL and
 * RCPT parameters).
 *
 * One table of parameter texts per line kind, each valid and invalid form
 * of every parameter MULE requires (SIZE, BODY, RET, ENVID, MT-PRIORITY,
 * BY, AUTH, SMTPUTF8, NOTIFY, ORCPT) plus unknown ones, with the expected
 * code; then the parsed fields, the cap, and allocation failure.
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
#include "bsmtp/bsmtp_param.h"
#include "test_common.h"

#define OK 0
#define ESYN BSMTP_ERR_PARAM_SYNTAX
#define EVAL BSMTP_ERR_PARAM_VALUE
#define EDUP BSMTP_ERR_PARAM_DUP
#define EPLACE BSMTP_ERR_PARAM_PLACE
#define EUTF8 BSMTP_ERR_UTF8

enum kind { MAIL, RCPT, RCPT_UTF8 };

struct pcase {
    enum kind kind;
    const char *text;
    int want;
};

static const struct pcase cases[] = {
    /* Generic list syntax. */
    {MAIL, "", OK},
    {MAIL, "X-UNKNOWN=foo", OK},
    {MAIL, "XFOO", OK},
    {MAIL, "X-A=1 X-B X-C=[x]", OK},
    {MAIL, "9X=1", OK},
    {MAIL, "-X=1", ESYN},
    {MAIL, "X_Y=1", ESYN},
    {MAIL, "A=b=c", ESYN},
    {MAIL, "A=", ESYN},
    {MAIL, "=b", ESYN},
    {MAIL, "A=b  B=c", ESYN},
    {MAIL, " A=b", ESYN},
    {MAIL, "A=b ", ESYN},
    {MAIL, "A=\x01", ESYN},
    {MAIL, "A=\x7f", ESYN},
    {MAIL, "A=b\tB=c", ESYN},
    {MAIL, "X=\xc3\xbc", EUTF8},
    {MAIL, "SMTPUTF8 X=\xc3\xbc", OK},
    {MAIL, "X=\xc3\xbc SMTPUTF8", OK},
    {MAIL, "SMTPUTF8 X=\xc0\xaf", EUTF8},
    {MAIL, "X-A=1 x-a=2", EDUP},
    /* SIZE (RFC 1870: 1*20DIGIT). */
    {MAIL, "SIZE=0", OK},
    {MAIL, "SIZE=12345", OK},
    {MAIL, "size=18446744073709551615", OK},
    {MAIL, "SIZE=18446744073709551616", EVAL},
    {MAIL, "SIZE=123456789012345678901", EVAL},
    {MAIL, "SIZE=-1", EVAL},
    {MAIL, "SIZE=1a", EVAL},
    {MAIL, "SIZE", EVAL},
    {MAIL, "SIZE=1 size=2", EDUP},
    /* BODY (RFC 6152, RFC 3030). */
    {MAIL, "BODY=7BIT", OK},
    {MAIL, "BODY=8bitmime", OK},
    {MAIL, "BODY=BINARYMIME", OK},
    {MAIL, "BODY=BINARY", EVAL},
    {MAIL, "BODY=8BIT", EVAL},
    {MAIL, "BODY", EVAL},
    /* RET (RFC 3461 4.3). */
    {MAIL, "RET=FULL", OK},
    {MAIL, "RET=hdrs", OK},
    {MAIL, "RET=NONE", EVAL},
    {MAIL, "RET", EVAL},
    {MAIL, "RET=FULL RET=HDRS", EDUP},
    /* ENVID (RFC 3461 4.4: xtext of printable ASCII, at most 100). */
    {MAIL, "ENVID=QQ314159", OK},
    {MAIL, "ENVID=a+2Bb+20c", OK},
    {MAIL, "ENVID=+2", EVAL},
    {MAIL, "ENVID=+2b", EVAL},
    {MAIL, "ENVID=+00", EVAL},
    {MAIL, "ENVID=+C3+BC", EVAL},
    {MAIL, "ENVID", EVAL},
    /* MT-PRIORITY (RFC 6710: -9..9). */
    {MAIL, "MT-PRIORITY=-9", OK},
    {MAIL, "MT-PRIORITY=+9", OK},
    {MAIL, "MT-PRIORITY=0", OK},
    {MAIL, "mt-priority=4", OK},
    {MAIL, "MT-PRIORITY=10", EVAL},
    {MAIL, "MT-PRIORITY=-10", EVAL},
    {MAIL, "MT-PRIORITY=a", EVAL},
    {MAIL, "MT-PRIORITY=--1", EVAL},
    {MAIL, "MT-PRIORITY", EVAL},
    /* BY (RFC 2852: by-time;R|N[T]). */
    {MAIL, "BY=3600;R", OK},
    {MAIL, "BY=-10;N", OK},
    {MAIL, "BY=0;NT", OK},
    {MAIL, "BY=+60;rt", OK},
    {MAIL, "BY=999999999;R", OK},
    {MAIL, "BY=1234567890;N", EVAL},
    {MAIL, "BY=0;R", EVAL},
    {MAIL, "BY=-5;R", EVAL},
    {MAIL, "BY=3600", EVAL},
    {MAIL, "BY=3600;", EVAL},
    {MAIL, "BY=3600;X", EVAL},
    {MAIL, "BY=60;RX", EVAL},
    {MAIL, "BY=60;RTT", EVAL},
    {MAIL, "BY=;R", EVAL},
    {MAIL, "BY=-;N", EVAL},
    /* AUTH (RFC 4954 5). */
    {MAIL, "AUTH=<>", OK},
    {MAIL, "AUTH=user+40example.com", OK},
    {MAIL, "AUTH=a+zz", EVAL},
    {MAIL, "AUTH", EVAL},
    /* SMTPUTF8 (RFC 6531: no value). */
    {MAIL, "SMTPUTF8", OK},
    {MAIL, "SMTPUTF8=yes", EVAL},
    {MAIL, "SMTPUTF8 smtputf8", EDUP},
    /* RCPT keywords on the MAIL line. */
    {MAIL, "NOTIFY=NEVER", EPLACE},
    {MAIL, "ORCPT=rfc822;a@b", EPLACE},
    /* The RFC 8494 FROM-line. */
    {MAIL, "MT-PRIORITY=4 BODY=8BITMIME RET=HDRS ENVID=QQ314159", OK},
    /* NOTIFY (RFC 3461 4.1). */
    {RCPT, "NOTIFY=NEVER", OK},
    {RCPT, "NOTIFY=SUCCESS,FAILURE,DELAY", OK},
    {RCPT, "notify=delay", OK},
    {RCPT, "NOTIFY=FAILURE", OK},
    {RCPT, "NOTIFY=NEVER,SUCCESS", EVAL},
    {RCPT, "NOTIFY=SUCCESS,NEVER", EVAL},
    {RCPT, "NOTIFY=SUCCESS,SUCCESS", EVAL},
    {RCPT, "NOTIFY=SUCCESS,", EVAL},
    {RCPT, "NOTIFY=,SUCCESS", EVAL},
    {RCPT, "NOTIFY=SOMETIMES", EVAL},
    {RCPT, "NOTIFY=SUCCESSFAILURE", EVAL},
    {RCPT, "NOTIFY", EVAL},
    {RCPT, "NOTIFY=NEVER NOTIFY=NEVER", EDUP},
    /* ORCPT (RFC 3461 4.2). */
    {RCPT, "ORCPT=rfc822;Bob@ent.example.net", OK},
    {RCPT, "ORCPT=rfc822;a+2Bb@x", OK},
    {RCPT, "NOTIFY=FAILURE ORCPT=rfc822;x@y", OK},
    {RCPT, "ORCPT=rfc822", EVAL},
    {RCPT, "ORCPT=;x", EVAL},
    {RCPT, "ORCPT=rfc822;", EVAL},
    {RCPT, "ORCPT=rfc.822;x", EVAL},
    {RCPT, "ORCPT=rfc822;a+2x", EVAL},
    {RCPT, "ORCPT", EVAL},
    {RCPT, "ORCPT=utf-8;\xc3\xbc@x", EUTF8},
    {RCPT_UTF8, "ORCPT=utf-8;\xc3\xbc@x", OK},
    {RCPT_UTF8, "ORCPT=rfc822;\xc3\xbc@x", EVAL},
    /* MAIL keywords on an RCPT line; unknown ones kept. */
    {RCPT, "SIZE=5", EPLACE},
    {RCPT, "SMTPUTF8", EPLACE},
    {RCPT, "X-RCPT-EXT=1", OK},
};

static const char *
kind_name(enum kind k)
{
    return k == MAIL ? "MAIL" : k == RCPT ? "RCPT" : "RCPT+SMTPUTF8";
}

/* Split then check, as the payload parser and the SMTP server do. */
static int
check_text(enum kind k, const char *text, bsmtp_mail_info *mi, bsmtp_rcpt_info *ri,
           bsmtp_param **p, size_t *n)
{
    int rc;

    rc = bsmtp_param_list_parse(text, strlen(text), 32, NULL, p, n);
    if (rc != 0)
        return rc;
    if (k == MAIL)
        return bsmtp_mail_info_from_params(*p, *n, mi);
    return bsmtp_rcpt_info_from_params(*p, *n, k == RCPT_UTF8, ri);
}

static void
test_bsmtp_param_table(void **state)
{
    bsmtp_mail_info mi;
    bsmtp_rcpt_info ri;
    bsmtp_param *p;
    size_t i, n, bad = 0;
    int rc;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        p = NULL;
        n = 0;
        rc = check_text(cases[i].kind, cases[i].text, &mi, &ri, &p, &n);
        if (rc != cases[i].want) {
            print_error("%s \"%s\": got %s, want %s\n", kind_name(cases[i].kind),
                        tshow(0, cases[i].text, strlen(cases[i].text)), bsmtp_errname(rc),
                        bsmtp_errname(cases[i].want));
            bad++;
        }
        bsmtp_param_list_free(p, n, NULL);
    }
    assert_int_equal(bad, 0);
}

/* ENVID of exactly 100 characters passes, 101 does not; encoded
 * characters count once. */
static void
test_bsmtp_param_envid_length(void **state)
{
    char text[400];
    bsmtp_mail_info mi;
    bsmtp_param *p;
    size_t n;

    (void)state;
    strcpy(text, "ENVID=");
    memset(text + 6, 'e', 100);
    text[106] = '\0';
    assert_int_equal(check_text(MAIL, text, &mi, NULL, &p, &n), 0);
    assert_int_equal(strlen(mi.envid), 100);
    bsmtp_param_list_free(p, n, NULL);
    strcpy(text + 106, "e");
    assert_int_equal(check_text(MAIL, text, &mi, NULL, &p, &n), EVAL);
    bsmtp_param_list_free(p, n, NULL);
    /* 99 plain + one "+2B" = 100 characters. */
    strcpy(text + 6 + 99, "+2B");
    assert_int_equal(check_text(MAIL, text, &mi, NULL, &p, &n), 0);
    bsmtp_param_list_free(p, n, NULL);
}

static void
test_bsmtp_param_orcpt_length(void **state)
{
    char text[600];
    bsmtp_rcpt_info ri;
    bsmtp_param *p;
    size_t n;

    (void)state;
    /* "ORCPT=" + value of 500, then 501 characters. */
    strcpy(text, "ORCPT=rfc822;");
    memset(text + 13, 'o', 500 - 7);
    text[13 + 493] = '\0';
    assert_int_equal(strlen(text + 6), 500);
    assert_int_equal(check_text(RCPT, text, NULL, &ri, &p, &n), 0);
    bsmtp_param_list_free(p, n, NULL);
    strcat(text, "o");
    assert_int_equal(check_text(RCPT, text, NULL, &ri, &p, &n), EVAL);
    bsmtp_param_list_free(p, n, NULL);
}

static void
test_bsmtp_param_mail_fields(void **state)
{
    const char *text = "MT-PRIORITY=-4 BODY=8BITMIME RET=HDRS ENVID=QQ314159 SIZE=4096 "
                       "BY=120;NT AUTH=<> SMTPUTF8 X-Keep=Me";
    bsmtp_mail_info mi;
    bsmtp_param *p;
    size_t n;

    (void)state;
    assert_int_equal(check_text(MAIL, text, &mi, NULL, &p, &n), 0);
    assert_int_equal(n, 9);
    assert_true(mi.has_mt_priority);
    assert_int_equal(mi.mt_priority, -4);
    assert_int_equal(mi.body, BSMTP_BODY_8BITMIME);
    assert_int_equal(mi.ret, BSMTP_RET_HDRS);
    assert_string_equal(mi.envid, "QQ314159");
    assert_true(mi.has_size);
    assert_int_equal(mi.size, 4096);
    assert_int_equal(mi.by_mode, BSMTP_BY_NOTIFY);
    assert_int_equal(mi.by_time_s, 120);
    assert_true(mi.by_trace);
    assert_string_equal(mi.auth, "<>");
    assert_true(mi.smtputf8);
    /* Unknown parameters are kept exactly as written, in order. */
    assert_string_equal(p[8].keyword, "X-Keep");
    assert_string_equal(p[8].value, "Me");
    assert_null(p[7].value);
    assert_ptr_equal(bsmtp_param_find(p, n, "x-keep"), &p[8]);
    assert_null(bsmtp_param_find(p, n, "X-Other"));
    bsmtp_param_list_free(p, n, NULL);

    /* Nothing given: everything reads as absent. */
    assert_int_equal(check_text(MAIL, "", &mi, NULL, &p, &n), 0);
    assert_null(p);
    assert_false(mi.has_size || mi.has_mt_priority || mi.smtputf8);
    assert_int_equal(mi.body, BSMTP_BODY_NONE);
    assert_int_equal(mi.by_mode, BSMTP_BY_NONE);

    /* BY with a negative time in N mode. */
    assert_int_equal(check_text(MAIL, "BY=-999999999;N", &mi, NULL, &p, &n), 0);
    assert_int_equal(mi.by_time_s, -999999999L);
    assert_false(mi.by_trace);
    bsmtp_param_list_free(p, n, NULL);
}

static void
test_bsmtp_param_rcpt_fields(void **state)
{
    bsmtp_rcpt_info ri;
    bsmtp_param *p;
    size_t n;

    (void)state;
    assert_int_equal(check_text(RCPT, "NOTIFY=delay,Success ORCPT=rfc822;Bob@x", NULL, &ri, &p, &n),
                     0);
    assert_int_equal(ri.notify, BSMTP_NOTIFY_DELAY | BSMTP_NOTIFY_SUCCESS);
    assert_string_equal(ri.orcpt, "rfc822;Bob@x");
    bsmtp_param_list_free(p, n, NULL);
    assert_int_equal(check_text(RCPT, "NOTIFY=NEVER", NULL, &ri, &p, &n), 0);
    assert_int_equal(ri.notify, BSMTP_NOTIFY_NEVER);
    assert_null(ri.orcpt);
    bsmtp_param_list_free(p, n, NULL);
}

static void
test_bsmtp_param_cap(void **state)
{
    bsmtp_param *p;
    size_t n;

    (void)state;
    assert_int_equal(bsmtp_param_list_parse("A B C", 5, 2, NULL, &p, &n), BSMTP_ERR_PARAM_CAP);
    assert_null(p);
    assert_int_equal(n, 0);
    assert_int_equal(bsmtp_param_list_parse("A B C", 5, 3, NULL, &p, &n), 0);
    assert_int_equal(n, 3);
    bsmtp_param_list_free(p, n, NULL);
    assert_int_equal(bsmtp_param_list_parse(NULL, 1, 3, NULL, &p, &n), BSMTP_ERR_INVAL);
    assert_int_equal(bsmtp_param_list_parse("A", 1, 3, NULL, NULL, &n), BSMTP_ERR_INVAL);
    assert_int_equal(bsmtp_mail_info_from_params(NULL, 1, NULL), BSMTP_ERR_INVAL);
}

static void
test_bsmtp_param_keyword_value_predicates(void **state)
{
    (void)state;
    assert_true(bsmtp_is_esmtp_keyword("MT-PRIORITY", 11));
    assert_true(bsmtp_is_esmtp_keyword("8", 1));
    assert_false(bsmtp_is_esmtp_keyword("-A", 2));
    assert_false(bsmtp_is_esmtp_keyword("", 0));
    assert_false(bsmtp_is_esmtp_keyword("A B", 3));
    assert_true(bsmtp_is_esmtp_value("<>", 2, false));
    assert_false(bsmtp_is_esmtp_value("a=b", 3, false));
    assert_false(bsmtp_is_esmtp_value("", 0, false));
    assert_false(bsmtp_is_esmtp_value("\xc3\xbc", 2, false));
    assert_true(bsmtp_is_esmtp_value("\xc3\xbc", 2, true));
    assert_false(bsmtp_is_esmtp_value("\xed\xa0\x80", 3, true));
}

static void
test_bsmtp_param_alloc_failure(void **state)
{
    const char *text = "MT-PRIORITY=4 BODY=8BITMIME RET=HDRS ENVID=QQ314159";
    struct tmem tm;
    mem m = tmem_make(&tm);
    bsmtp_param *p;
    size_t n;
    long k;
    int rc;

    (void)state;
    for (k = 0;; k++) {
        tmem_fail_after(&tm, k);
        rc = bsmtp_param_list_parse(text, strlen(text), 32, &m, &p, &n);
        if (rc == 0)
            break;
        if (rc != BSMTP_ERR_NOMEM)
            fail_msg("failing allocation %ld: got %s, want NOMEM", k, bsmtp_errname(rc));
        assert_null(p);
        assert_int_equal(tm.live, 0);
    }
    assert_int_equal(k, 5);    /* the array and one block per parameter */
    assert_int_equal(n, 4);
    bsmtp_param_list_free(p, n, &m);
    assert_int_equal(tm.live, 0);
}

/* BODY=BINARY (MULE draft 4.1): refused by default (SMTP ingress, the
 * table above), accepted as BINARYMIME with BSMTP_MAIL_BODY_BINARY, and
 * rewritten as BINARYMIME by bsmtp_param_body_canon(), which leaves other
 * values alone and changes nothing when memory runs out. */
static void
test_bsmtp_param_body_binary_alias(void **state)
{
    static const char text[] = "Body=binary SIZE=10 X-BODY=BINARY";
    struct tmem tm;
    mem m = tmem_make(&tm);
    bsmtp_param *p = NULL;
    bsmtp_mail_info mi;
    size_t n = 0;

    (void)state;
    assert_int_equal(bsmtp_param_list_parse(text, strlen(text), 8, &m, &p, &n), 0);
    assert_int_equal(bsmtp_mail_info_from_params(p, n, &mi), BSMTP_ERR_PARAM_VALUE);
    assert_int_equal(bsmtp_mail_info_parse(p, n, 0, &mi), BSMTP_ERR_PARAM_VALUE);
    assert_int_equal(bsmtp_mail_info_parse(p, n, BSMTP_MAIL_BODY_BINARY, &mi), 0);
    assert_int_equal(mi.body, BSMTP_BODY_BINARYMIME);
    assert_int_equal(mi.size, 10);

    tmem_fail_after(&tm, 0);
    assert_int_equal(bsmtp_param_body_canon(p, n, &m), BSMTP_ERR_NOMEM);
    assert_string_equal(p[0].value, "binary");
    tm.armed = false;
    assert_int_equal(bsmtp_param_body_canon(p, n, &m), 0);
    assert_string_equal(p[0].keyword, "Body");
    assert_string_equal(p[0].value, "BINARYMIME");
    assert_string_equal(p[2].value, "BINARY");     /* not BODY: untouched */
    assert_int_equal(bsmtp_mail_info_from_params(p, n, &mi), 0);
    assert_int_equal(mi.body, BSMTP_BODY_BINARYMIME);
    assert_int_equal(bsmtp_param_body_canon(NULL, 1, &m), BSMTP_ERR_INVAL);
    bsmtp_param_list_free(p, n, &m);
    assert_int_equal(tm.live, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bsmtp_param_table),
        cmocka_unit_test(test_bsmtp_param_envid_length),
        cmocka_unit_test(test_bsmtp_param_orcpt_length),
        cmocka_unit_test(test_bsmtp_param_mail_fields),
        cmocka_unit_test(test_bsmtp_param_rcpt_fields),
        cmocka_unit_test(test_bsmtp_param_cap),
        cmocka_unit_test(test_bsmtp_param_keyword_value_predicates),
        cmocka_unit_test(test_bsmtp_param_alloc_failure),
        cmocka_unit_test(test_bsmtp_param_body_binary_alias),
    };

    return cmocka_run_group_tests_name("bsmtp_param", tests, NULL, NULL);
}
