/*
 * test_bsmtp_addr.c: unit tests of bsmtp/bsmtp_addr (RFC 5321 paths,
 * address literals, length limits, SMTPUTF8, domain extraction, xtext).
 *
 * The path table holds what RFC 5321 (and RFC 6531 under SMTPUTF8)
 * allows and forbids, one line per case with its reason; lengths are
 * checked on both sides of each limit; xtext is checked against
 * hand-written encodings and round trips.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bsmtp/bsmtp_addr.h"
#include "bsmtp/bsmtp_err.h"
#include "test_common.h"

#define U BSMTP_ADDR_UTF8
#define N BSMTP_ADDR_NULL_OK
#define P BSMTP_ADDR_POSTMASTER
#define OK 0
#define EPATH BSMTP_ERR_PATH
#define ELONG BSMTP_ERR_PATH_TOO_LONG
#define EUTF8 BSMTP_ERR_UTF8

/* S() gives a literal and its exact length, so cases may contain NUL. */
#define S(x) x, sizeof(x) - 1

struct path_case {
    const char *s;
    size_t len;
    unsigned flags;
    int want;
    const char *why;
};

static const struct path_case path_cases[] = {
    /* Dot-string local parts. */
    {S("user@example.com"), 0, OK, "plain mailbox"},
    {S("first.last@example.com"), 0, OK, "dotted local part"},
    {S("user+tag@example.com"), 0, OK, "plus in atom"},
    {S("!#$%&'*+-/=?^_`{|}~@example.com"), 0, OK, "every atext special"},
    {S("1@example.com"), 0, OK, "digit local part"},
    {S(".user@example.com"), 0, EPATH, "leading dot"},
    {S("user.@example.com"), 0, EPATH, "trailing dot"},
    {S("us..er@example.com"), 0, EPATH, "double dot"},
    {S("us er@example.com"), 0, EPATH, "space outside quotes"},
    {S("us(er)@example.com"), 0, EPATH, "comment characters"},
    {S("us,er@example.com"), 0, EPATH, "comma in atom"},
    {S("user"), 0, EPATH, "no @"},
    {S("user@"), 0, EPATH, "empty domain"},
    {S("@example.com"), 0, EPATH, "empty local part"},
    {S("a@b@example.com"), 0, EPATH, "two @"},
    /* Quoted local parts. */
    {S("\"john doe\"@example.com"), 0, OK, "quoted with space"},
    {S("\"a\\\"b\"@example.com"), 0, OK, "escaped quote"},
    {S("\"a\\\\b\"@example.com"), 0, OK, "escaped backslash"},
    {S("\"a\\ b\"@example.com"), 0, OK, "escaped space"},
    {S("\"\"@example.com"), 0, OK, "empty quoted string"},
    {S("\"a@b\"@example.com"), 0, OK, "@ inside quotes"},
    {S("\"a>b\"@example.com"), 0, OK, "> inside quotes"},
    {S("\"unterminated@example.com"), 0, EPATH, "unterminated quote"},
    {S("\"a\"b@example.com"), 0, EPATH, "text after closing quote"},
    {S("\"a\\\x01\"@example.com"), 0, EPATH, "quoted-pair of a control"},
    {S("\"a\x01\"@example.com"), 0, EPATH, "raw control in quotes"},
    {S("\"a\\"), 0, EPATH, "backslash at the end"},
    {S("\"a\tb\"@example.com"), 0, EPATH, "tab in quotes"},
    /* Domains. */
    {S("user@example"), 0, OK, "single-label domain"},
    {S("user@a-b.example"), 0, OK, "inner hyphen"},
    {S("user@1.example"), 0, OK, "digit label"},
    {S("user@EXAMPLE.Com"), 0, OK, "mixed case"},
    {S("user@example..com"), 0, EPATH, "empty label"},
    {S("user@-example.com"), 0, EPATH, "leading hyphen"},
    {S("user@example-.com"), 0, EPATH, "trailing hyphen"},
    {S("user@example.com."), 0, EPATH, "trailing dot"},
    {S("user@.example.com"), 0, EPATH, "leading dot"},
    {S("user@exa_mple.com"), 0, EPATH, "underscore"},
    {S("user@example.com "), 0, EPATH, "trailing space"},
    /* Address literals. */
    {S("user@[192.0.2.1]"), 0, OK, "IPv4 literal"},
    {S("user@[0.0.0.0]"), 0, OK, "IPv4 zeros"},
    {S("user@[255.255.255.255]"), 0, OK, "IPv4 max"},
    {S("user@[010.001.1.1]"), 0, OK, "IPv4 leading zeros (1*3DIGIT)"},
    {S("user@[192.0.2.256]"), 0, EPATH, "IPv4 octet 256"},
    {S("user@[192.0.2]"), 0, EPATH, "IPv4 three octets"},
    {S("user@[1.2.3.4.5]"), 0, EPATH, "IPv4 five octets"},
    {S("user@[1.2.3.0004]"), 0, EPATH, "IPv4 four digits"},
    {S("user@[1..2.3]"), 0, EPATH, "IPv4 empty octet"},
    {S("user@[IPv6:2001:db8:0:0:0:0:0:1]"), 0, OK, "IPv6 full"},
    {S("user@[IPv6:2001:db8::1]"), 0, OK, "IPv6 compressed"},
    {S("user@[IPv6:::1]"), 0, OK, "IPv6 loopback"},
    {S("user@[IPv6:::]"), 0, OK, "IPv6 unspecified"},
    {S("user@[IPv6:fe80::]"), 0, OK, "IPv6 trailing ::"},
    {S("user@[ipv6:1::2]"), 0, OK, "IPv6 tag in lowercase"},
    {S("user@[IPv6:1:2:3:4:5:6::]"), 0, OK, "IPv6 six groups and ::"},
    {S("user@[IPv6:1:2:3:4:5:6:7::]"), 0, EPATH, "IPv6 seven groups and ::"},
    {S("user@[IPv6:1:2:3:4:5:6:7]"), 0, EPATH, "IPv6 seven groups"},
    {S("user@[IPv6:1:2:3:4:5:6:7:8:9]"), 0, EPATH, "IPv6 nine groups"},
    {S("user@[IPv6:1::2::3]"), 0, EPATH, "IPv6 two ::"},
    {S("user@[IPv6:12345::]"), 0, EPATH, "IPv6 five hex digits"},
    {S("user@[IPv6:g::1]"), 0, EPATH, "IPv6 non-hex"},
    {S("user@[IPv6:1:2:3:4:5:6:7:]"), 0, EPATH, "IPv6 trailing colon"},
    {S("user@[IPv6::1:2]"), 0, EPATH, "IPv6 single leading colon"},
    {S("user@[IPv6:]"), 0, EPATH, "IPv6 empty"},
    {S("user@[IPv6:1:2:3:4:5:6:192.0.2.1]"), 0, OK, "IPv6v4 full"},
    {S("user@[IPv6:::ffff:192.0.2.1]"), 0, OK, "IPv6v4 compressed"},
    {S("user@[IPv6:::192.0.2.1]"), 0, OK, "IPv6v4 only ::"},
    {S("user@[IPv6:1:2:3:4::192.0.2.1]"), 0, OK, "IPv6v4 four groups and ::"},
    {S("user@[IPv6:1:2:3:4:5::192.0.2.1]"), 0, EPATH, "IPv6v4 five groups and ::"},
    {S("user@[IPv6:1:2:3:4:5:192.0.2.1]"), 0, EPATH, "IPv6v4 five groups, no ::"},
    {S("user@[IPv6:192.0.2.1]"), 0, EPATH, "IPv6 tag with bare IPv4"},
    {S("user@[IPv6:1:2:3:4:5:6:192.0.2.1:1]"), 0, EPATH, "IPv4 not last"},
    {S("user@[x-tag:any+thing]"), 0, OK, "General-address-literal"},
    {S("user@[x:a>b]"), 0, OK, "general literal holding >"},
    {S("user@[x-:y]"), 0, EPATH, "tag ending in hyphen"},
    {S("user@[:y]"), 0, EPATH, "empty tag"},
    {S("user@[x:]"), 0, EPATH, "empty general content"},
    {S("user@[]"), 0, EPATH, "empty literal"},
    {S("user@[a\\b]"), 0, EPATH, "backslash in literal"},
    {S("user@[192.0.2.1"), 0, EPATH, "unclosed literal"},
    {S("user@[192.0.2.1]x"), 0, EPATH, "text after literal"},
    /* Source routes, null path, Postmaster. */
    {S("@a.example:user@c.example"), 0, OK, "source route"},
    {S("@a.example,@b.example:user@c.example"), 0, OK, "two-hop source route"},
    {S("@a.example,b.example:user@c.example"), 0, EPATH, "route hop without @"},
    {S("@a.example user@c.example"), 0, EPATH, "route without colon"},
    {S(""), N, OK, "null path where allowed"},
    {S(""), 0, EPATH, "null path where not allowed"},
    {S("Postmaster"), P, OK, "bare Postmaster where allowed"},
    {S("POSTMASTER"), P, OK, "Postmaster in any case"},
    {S("Postmaster"), 0, EPATH, "bare Postmaster where not allowed"},
    {S("Postmistress"), P, EPATH, "not Postmaster"},
    /* Octets that must never pass. */
    {S("us\0er@example.com"), U, EPATH, "NUL in local part"},
    {S("user@exam\0ple.com"), U, EPATH, "NUL in domain"},
    {S("user\r\n@example.com"), U, EPATH, "CRLF in local part"},
    {S("user@exa\nmple.com"), U, EPATH, "LF in domain"},
    {S("\"us\rer\"@example.com"), U, EPATH, "CR in quotes"},
    {S("us\x7f" "er@example.com"), U, EPATH, "DEL"},
    /* UTF-8 (RFC 6531) with and without SMTPUTF8. */
    {S("\xc3\xbcser@example.com"), U, OK, "UTF-8 local part with SMTPUTF8"},
    {S("\xc3\xbcser@example.com"), 0, EUTF8, "UTF-8 local part without SMTPUTF8"},
    {S("user@b\xc3\xbc" "cher.example"), U, OK, "U-label with SMTPUTF8"},
    {S("user@b\xc3\xbc" "cher.example"), 0, EUTF8, "U-label without SMTPUTF8"},
    {S("\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9\xbf\xe5\x91\x8a"), U, OK,
     "all-CJK address"},
    {S("\"\xc3\xbc x\"@example.com"), U, OK, "UTF-8 in quotes"},
    {S("\"\\\xc3\xbc\"@example.com"), U, EPATH, "quoted-pair of UTF-8"},
    {S("\xf0\x9f\x93\xa7@example.com"), U, OK, "4-octet sequence"},
    {S("\xc0\xaf@example.com"), U, EUTF8, "overlong 2-octet"},
    {S("\xe0\x80\xaf@example.com"), U, EUTF8, "overlong 3-octet"},
    {S("\xf0\x80\x80\xaf@example.com"), U, EUTF8, "overlong 4-octet"},
    {S("\xed\xa0\x80@example.com"), U, EUTF8, "surrogate U+D800"},
    {S("\xf4\x90\x80\x80@example.com"), U, EUTF8, "above U+10FFFF"},
    {S("\xe4\xb8@example.com"), U, EUTF8, "truncated sequence"},
    {S("\x80user@example.com"), U, EUTF8, "stray continuation"},
    {S("user@example.\xff"), U, EUTF8, "0xFF octet"},
    {S("user@[\xc3\xbc]"), U, EPATH, "UTF-8 in address literal"},
};

static void
test_bsmtp_addr_path_table(void **state)
{
    size_t i, bad = 0;
    int rc;

    (void)state;
    for (i = 0; i < sizeof(path_cases) / sizeof(path_cases[0]); i++) {
        const struct path_case *t = &path_cases[i];

        rc = bsmtp_addr_check_path(t->s, t->len, t->flags);
        if (rc != t->want) {
            print_error("path \"%s\" (%s): got %s, want %s\n", tshow(0, t->s, t->len), t->why,
                        bsmtp_errname(rc), bsmtp_errname(t->want));
            bad++;
        }
    }
    assert_true(i >= 40);
    assert_int_equal(bad, 0);
}

/* Fill buf with a domain of exactly len octets: labels of 63 octets. */
static void
make_domain(char *out, size_t len)
{
    size_t i, in_label = 0;

    for (i = 0; i < len; i++) {
        if (in_label == 63 && i + 1 < len) {
            out[i] = '.';
            in_label = 0;
        } else {
            out[i] = (char)('a' + (i % 26));
            in_label++;
        }
    }
    out[len] = '\0';
}

static void
test_bsmtp_addr_length_limits(void **state)
{
    char s[600], dom[300];
    size_t n;
    int rc;

    (void)state;
    /* Local part 63 / 64 / 65. */
    for (n = 63; n <= 65; n++) {
        memset(s, 'l', n);
        strcpy(s + n, "@example.com");
        rc = bsmtp_addr_check_path(s, strlen(s), 0);
        if (rc != (n <= 64 ? 0 : ELONG))
            fail_msg("local part %zu: got %s, want %s", n, bsmtp_errname(rc),
                     n <= 64 ? "OK" : "PATH_TOO_LONG");
    }
    /* Quoted local part counts its quotes: 62 inside + 2 = 64. */
    s[0] = '"';
    memset(s + 1, 'q', 62);
    strcpy(s + 63, "\"@example.com");
    assert_int_equal(bsmtp_addr_check_path(s, strlen(s), 0), 0);
    s[0] = '"';
    memset(s + 1, 'q', 63);
    strcpy(s + 64, "\"@example.com");
    assert_int_equal(bsmtp_addr_check_path(s, strlen(s), 0), ELONG);

    /* Domain 254 / 255 / 256 on its own. */
    for (n = 254; n <= 256; n++) {
        make_domain(dom, n);
        assert_int_equal(strlen(dom), n);
        rc = bsmtp_addr_check_domain(dom, n, 0);
        if (rc != (n <= 255 ? 0 : ELONG))
            fail_msg("domain %zu: got %s, want %s", n, bsmtp_errname(rc),
                     n <= 255 ? "OK" : "PATH_TOO_LONG");
    }
    /* Labels 63 / 64. */
    memset(dom, 'x', 63);
    strcpy(dom + 63, ".example");
    assert_int_equal(bsmtp_addr_check_domain(dom, strlen(dom), 0), 0);
    memset(dom, 'x', 64);
    strcpy(dom + 64, ".example");
    assert_int_equal(bsmtp_addr_check_domain(dom, strlen(dom), 0), ELONG);

    /* Path 254 / 255 / 256 octets inside <> (256 / 257 / 258 with them). */
    for (n = 254; n <= 256; n++) {
        memset(s, 'a', 60);
        s[60] = '@';
        make_domain(s + 61, n - 61);
        rc = bsmtp_addr_check_path(s, n, 0);
        if (rc != (n <= 254 ? 0 : ELONG))
            fail_msg("path of %zu octets: got %s, want %s", n, bsmtp_errname(rc),
                     n <= 254 ? "OK" : "PATH_TOO_LONG");
    }
    /* A domain over 255 inside a path is too long, not a syntax error. */
    s[0] = 'a';
    s[1] = '@';
    make_domain(s + 2, 256);
    assert_int_equal(bsmtp_addr_check_path(s, strlen(s), 0), ELONG);
}

static void
test_bsmtp_addr_mailbox_and_domain_alone(void **state)
{
    (void)state;
    assert_int_equal(bsmtp_addr_check_mailbox(S("a@b.example"), 0), 0);
    assert_int_equal(bsmtp_addr_check_mailbox(S("@r.example:a@b.example"), 0), EPATH);
    assert_int_equal(bsmtp_addr_check_mailbox(S(""), N), EPATH);
    assert_int_equal(bsmtp_addr_check_domain(S("[IPv6:::1]"), 0), 0);
    assert_int_equal(bsmtp_addr_check_domain(S("example.com"), 0), 0);
    assert_int_equal(bsmtp_addr_check_domain(S("example.com:25"), 0), EPATH);
    assert_int_equal(bsmtp_addr_check_domain(S(""), 0), EPATH);
    assert_int_equal(bsmtp_addr_check_path(NULL, 3, 0), BSMTP_ERR_INVAL);
}

struct dom_case {
    const char *path;
    unsigned flags;
    const char *want;
};

static void
test_bsmtp_addr_domain_extraction(void **state)
{
    static const struct dom_case cases[] = {
        {"User@Example.COM", 0, "example.com"},
        {"\"Q@X\"@MiXeD.Example", 0, "mixed.example"},
        {"x@[IPv6:2001:DB8::1]", 0, "[IPv6:2001:DB8::1]"},
        {"x@[192.0.2.1]", 0, "[192.0.2.1]"},
        {"@Relay.Example:u@Final.Example", 0, "final.example"},
        {"Postmaster", P, ""},
        {"", N, ""},
        {"u@B\xc3\x9c" "CHER.example", U, "b\xc3\x9c" "cher.example"},
    };
    char out[BSMTP_DOMAIN_MAX + 1];
    size_t i;
    ssize_t n;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        n = bsmtp_addr_domain(cases[i].path, strlen(cases[i].path), cases[i].flags, out,
                              sizeof(out));
        if (n < 0 || strcmp(out, cases[i].want) != 0)
            fail_msg("domain of \"%s\": got %zd \"%s\", want \"%s\"", cases[i].path, n,
                     n < 0 ? bsmtp_errname((int)n) : out, cases[i].want);
        assert_int_equal((size_t)n, strlen(cases[i].want));
    }
    assert_int_equal(bsmtp_addr_domain(S("u@example.com"), 0, out, 11), BSMTP_ERR_CAP);
    assert_int_equal(bsmtp_addr_domain(S("u@example.com"), 0, out, 12), 11);
    assert_int_equal(bsmtp_addr_domain(S("u@@example.com"), 0, out, sizeof(out)), EPATH);
    assert_int_equal(bsmtp_addr_domain(S("u@example.com"), 0, NULL, 10), BSMTP_ERR_INVAL);
}

static void
test_bsmtp_addr_split_offsets(void **state)
{
    size_t lo, ll, dof, dl;
    const char *s = "@r.example:\"a b\"@Dom.Example";

    (void)state;
    assert_int_equal(bsmtp_addr_split(s, strlen(s), 0, &lo, &ll, &dof, &dl), 0);
    assert_int_equal(lo, 11);
    assert_int_equal(ll, 5);
    assert_int_equal(dof, 17);
    assert_int_equal(dl, 11);
    assert_int_equal(bsmtp_addr_split(S("Postmaster"), P, &lo, &ll, &dof, &dl), 0);
    assert_int_equal(ll, 10);
    assert_int_equal(dl, 0);
    assert_int_equal(bsmtp_addr_split(S("x"), 0, &lo, &ll, &dof, &dl), EPATH);
}

struct xtext_case {
    const char *raw;
    size_t raw_len;
    const char *enc;
};

static void
test_bsmtp_addr_xtext(void **state)
{
    static const struct xtext_case cases[] = {
        {S("plain"), "plain"},
        {S("a+b=c"), "a+2Bb+3Dc"},
        {S("sp ace"), "sp+20ace"},
        {S("nul\0byte"), "nul+00byte"},
        {S("\xff\x80"), "+FF+80"},
        {S("~!"), "~!"},
        {S(""), ""},
    };
    struct tmem tm;
    mem m = tmem_make(&tm);
    size_t i;
    buf b;

    (void)state;
    buf_init(&b, &m, 4096);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        buf_reset(&b);
        assert_int_equal(bsmtp_xtext_encode(&b, cases[i].raw, cases[i].raw_len), 0);
        if (b.len != strlen(cases[i].enc) || memcmp(b.data, cases[i].enc, b.len) != 0)
            fail_msg("encode \"%s\": got \"%s\", want \"%s\"",
                     tshow(0, cases[i].raw, cases[i].raw_len), tshow(1, b.data, b.len),
                     cases[i].enc);
        assert_true(bsmtp_is_xtext(cases[i].enc, strlen(cases[i].enc)));
        buf_reset(&b);
        assert_int_equal(bsmtp_xtext_decode(&b, cases[i].enc, strlen(cases[i].enc)), 0);
        assert_int_equal(b.len, cases[i].raw_len);
        if (b.len > 0)
            assert_memory_equal(b.data, cases[i].raw, b.len);
    }
    /* Malformed xtext: lowercase hex, short escapes, '=', space, 8-bit. */
    {
        static const char *bad[] = {"a+2b", "a+2", "a+", "+G0", "a=b", "a b", "\xc3\xbc", "+"};
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            buf_reset(&b);
            assert_int_equal(buf_append(&b, "x", 1), 0);
            if (bsmtp_is_xtext(bad[i], strlen(bad[i])))
                fail_msg("is_xtext(\"%s\"): got true, want false", bad[i]);
            assert_int_equal(bsmtp_xtext_decode(&b, bad[i], strlen(bad[i])), BSMTP_ERR_XTEXT);
            assert_int_equal(b.len, 1);    /* unchanged on error */
        }
    }
    buf_fini(&b);
    /* A capped buffer reports the cap and keeps its old length. */
    buf_init(&b, &m, 4);
    assert_int_equal(bsmtp_xtext_encode(&b, "a+b", 3), BSMTP_ERR_CAP);
    assert_int_equal(b.len, 0);
    buf_fini(&b);
    assert_int_equal(tm.live, 0);
}

static void
test_bsmtp_addr_utf8_seq_len(void **state)
{
    (void)state;
    assert_int_equal(bsmtp_utf8_seq_len((const uint8_t *)"a", 1), 1);
    assert_int_equal(bsmtp_utf8_seq_len((const uint8_t *)"\xc2\x80", 2), 2);
    assert_int_equal(bsmtp_utf8_seq_len((const uint8_t *)"\xdf\xbf", 2), 2);
    assert_int_equal(bsmtp_utf8_seq_len((const uint8_t *)"\xe0\xa0\x80", 3), 3);
    assert_int_equal(bsmtp_utf8_seq_len((const uint8_t *)"\xef\xbf\xbf", 3), 3);
    assert_int_equal(bsmtp_utf8_seq_len((const uint8_t *)"\xf4\x8f\xbf\xbf", 4), 4);
    assert_int_equal(bsmtp_utf8_seq_len((const uint8_t *)"\xc1\xbf", 2), 0);
    assert_int_equal(bsmtp_utf8_seq_len((const uint8_t *)"\xe0\x9f\xbf", 3), 0);
    assert_int_equal(bsmtp_utf8_seq_len((const uint8_t *)"\xed\xbf\xbf", 3), 0);
    assert_int_equal(bsmtp_utf8_seq_len((const uint8_t *)"\xf0\x8f\xbf\xbf", 4), 0);
    assert_int_equal(bsmtp_utf8_seq_len((const uint8_t *)"\xf5\x80\x80\x80", 4), 0);
    assert_int_equal(bsmtp_utf8_seq_len((const uint8_t *)"\xe2\x82", 2), 0);
    assert_int_equal(bsmtp_utf8_seq_len((const uint8_t *)"\xe2\x28\xa1", 3), 0);
    assert_int_equal(bsmtp_utf8_seq_len(NULL, 0), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bsmtp_addr_path_table),
        cmocka_unit_test(test_bsmtp_addr_length_limits),
        cmocka_unit_test(test_bsmtp_addr_mailbox_and_domain_alone),
        cmocka_unit_test(test_bsmtp_addr_domain_extraction),
        cmocka_unit_test(test_bsmtp_addr_split_offsets),
        cmocka_unit_test(test_bsmtp_addr_xtext),
        cmocka_unit_test(test_bsmtp_addr_utf8_seq_len),
    };

    return cmocka_run_group_tests_name("bsmtp_addr", tests, NULL, NULL);
}
