/*
 * test_bsmtp_payload.c: unit tests of bsmtp/bsmtp_payload (the BSMTP-like
 * MULE payload of RFC 8494 section 3.1).
 *
 * Covers: the section 3.1 example (build -> parse -> build gives the same
 * bytes), the RFC 8494 vector of docs/wire.md 6.4 taken from
 * tests/vectors/vectors.json and inflated with the real zlib (bare LF),
 * LF/CRLF mixes, content kept untouched (lone "." lines, NULs, bare CRs),
 * one malformed envelope per error code, every cap at its boundary, a
 * truncation loop over a whole payload, the envelope helpers the relay
 * uses (new, add_param, add_rcpt, copy_subset) against hand-written
 * bytes, and allocation failure at every allocation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "bsmtp/bsmtp_err.h"
#include "bsmtp/bsmtp_payload.h"
#include "test_common.h"

/* MULE draft section 3.1 example, with CRLF as the section requires.
 * (The draft wraps the first RCPT-line; it is one line.) */
static const char example31[] =
    "<from@example.com> MT-PRIORITY=4 BODY=8BITMIME RET=HDRS ENVID=QQ314159\r\n"
    "<to1@example.net> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;Bob@enterprise.example.net\r\n"
    "<to2@example.net> NOTIFY=SUCCESS,FAILURE\r\n"
    "\r\n"
    "From: from@example.com\r\n"
    "To: To1 <to1@example.net>, To2 <to2@example.net>\r\n"
    "Date: 27 Apr 2017 16:17 +0100\r\n"
    "Subject: a test\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-type: text/plain; charset=utf-8\r\n"
    "Content-transfer-encoding: 8bit\r\n"
    "\r\n"
    "This is worth \xc2\xa3" "100\r\n";

static const char *
content_of(const char *payload)
{
    return strstr(payload, "\r\n\r\n") + 4;
}

static bsmtp_envelope *
parse_ok(const void *p, size_t len, const bsmtp_limits *lim, size_t *off)
{
    bsmtp_envelope *env = NULL;
    int rc;

    rc = bsmtp_payload_parse(p, len, lim, NULL, &env, off);
    if (rc != 0)
        fail_msg("parse \"%s\": got %s, want OK", tshow(0, p, len), bsmtp_errname(rc));
    return env;
}

static void
expect_bytes(const buf *b, const void *want, size_t want_len)
{
    if (b->len != want_len || memcmp(b->data, want, want_len) != 0)
        fail_msg("got \"%s\", want \"%s\"", tshow(0, b->data, b->len), tshow(1, want, want_len));
}

static void
test_bsmtp_payload_example31_round_trip(void **state)
{
    const char *content = content_of(example31);
    size_t len = sizeof(example31) - 1, off;
    bsmtp_envelope *env, *env2;
    buf b, b2;

    (void)state;
    env = parse_ok(example31, len, NULL, &off);
    assert_int_equal(off, (size_t)(content - example31));
    assert_string_equal(env->reverse_path, "from@example.com");
    assert_int_equal(env->param_cnt, 4);
    assert_true(env->mail.has_mt_priority);
    assert_int_equal(env->mail.mt_priority, 4);
    assert_int_equal(env->mail.body, BSMTP_BODY_8BITMIME);
    assert_int_equal(env->mail.ret, BSMTP_RET_HDRS);
    assert_string_equal(env->mail.envid, "QQ314159");
    assert_int_equal(env->rcpt_cnt, 2);
    assert_string_equal(env->rcpts[0].addr, "to1@example.net");
    assert_int_equal(env->rcpts[0].info.notify, BSMTP_NOTIFY_SUCCESS | BSMTP_NOTIFY_FAILURE);
    assert_string_equal(env->rcpts[0].info.orcpt, "rfc822;Bob@enterprise.example.net");
    assert_string_equal(env->rcpts[1].addr, "to2@example.net");
    assert_null(env->rcpts[1].info.orcpt);

    /* parse -> build gives the input back. */
    buf_init(&b, NULL, SIZE_MAX);
    assert_int_equal(bsmtp_payload_build(env, (const uint8_t *)content, len - off, &b), 0);
    expect_bytes(&b, example31, len);

    /* build -> parse -> build gives the same bytes again. */
    env2 = parse_ok(b.data, b.len, NULL, &off);
    buf_init(&b2, NULL, SIZE_MAX);
    assert_int_equal(bsmtp_payload_build(env2, b.data + off, b.len - off, &b2), 0);
    expect_bytes(&b2, b.data, b.len);
    buf_fini(&b);
    buf_fini(&b2);
    bsmtp_envelope_free(env);
    bsmtp_envelope_free(env2);
}

/*
 * Read tests/vectors/vectors.json, find the hex of one vector, and inflate
 * the zlib stream inside it (it starts at the RFC 1950 header 78 9c).
 * The payload is returned in a malloc'd buffer.
 */
static uint8_t *
vector_payload(const char *name, size_t *out_len)
{
    const char *dir = getenv("MULE_VECTORS");
    char path[1024], key[128], *json, *hex, *end, *z;
    uint8_t *raw, *out;
    size_t n, i, rawlen;
    z_stream zs;
    FILE *f;
    long sz;

    if (dir == NULL)
        dir = "tests/vectors";
    assert_true((size_t)snprintf(path, sizeof(path), "%s/vectors.json", dir) < sizeof(path));
    f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s (set MULE_VECTORS)", path);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    sz = ftell(f);
    assert_true(sz > 0);
    rewind(f);
    json = malloc((size_t)sz + 1);
    assert_non_null(json);
    assert_int_equal(fread(json, 1, (size_t)sz, f), (size_t)sz);
    json[sz] = '\0';
    fclose(f);

    assert_true((size_t)snprintf(key, sizeof(key), "\"%s\"", name) < sizeof(key));
    hex = strstr(json, key);
    assert_non_null(hex);
    hex = strchr(hex + strlen(key), '"');
    assert_non_null(hex);
    hex++;
    end = strchr(hex, '"');
    assert_non_null(end);
    *end = '\0';
    z = strstr(hex, "789c");
    assert_non_null(z);
    rawlen = strlen(z) / 2;
    raw = malloc(rawlen);
    assert_non_null(raw);
    for (i = 0; i < rawlen; i++) {
        unsigned v;
        assert_int_equal(sscanf(z + 2 * i, "%2x", &v), 1);
        raw[i] = (uint8_t)v;
    }
    n = 64 * 1024;
    out = malloc(n);
    assert_non_null(out);
    memset(&zs, 0, sizeof(zs));
    assert_int_equal(inflateInit(&zs), Z_OK);
    zs.next_in = raw;
    zs.avail_in = (uInt)rawlen;
    zs.next_out = out;
    zs.avail_out = (uInt)n;
    assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
    *out_len = n - zs.avail_out;
    inflateEnd(&zs);
    free(raw);
    free(json);
    return out;
}

static void
test_bsmtp_payload_rfc8494_vector_lf(void **state)
{
    static const char want_env[] =
        "<from@example.com> MT-PRIORITY=4 BODY=8BITMIME RET=HDRS ENVID=QQ314159\r\n"
        "<to1@example.net> NOTIFY=FAILURE ORCPT=rfc822;Bob@ent.example.net\r\n"
        "<to2@example.net> NOTIFY=SUCCESS,FAILURE\r\n"
        "\r\n";
    bsmtp_envelope *env;
    uint8_t *p;
    size_t len, off;
    buf b;

    (void)state;
    p = vector_payload("cdt_rfc8494_example", &len);
    /* The vector uses bare LF throughout (docs/wire.md 6.4). */
    assert_null(memchr(p, '\r', len));
    env = parse_ok(p, len, NULL, &off);
    assert_int_equal(env->rcpt_cnt, 2);
    assert_int_equal(env->rcpts[0].info.notify, BSMTP_NOTIFY_FAILURE);
    assert_string_equal(env->rcpts[0].info.orcpt, "rfc822;Bob@ent.example.net");
    assert_int_equal(env->mail.mt_priority, 4);
    assert_memory_equal(p + off, "From: from@example.com\n", 23);

    /* Rebuilt with CRLF in the envelope; the content stays as it was. */
    buf_init(&b, NULL, SIZE_MAX);
    assert_int_equal(bsmtp_payload_build(env, p + off, len - off, &b), 0);
    assert_true(b.len == sizeof(want_env) - 1 + len - off);
    assert_memory_equal(b.data, want_env, sizeof(want_env) - 1);
    assert_memory_equal(b.data + sizeof(want_env) - 1, p + off, len - off);
    buf_fini(&b);
    bsmtp_envelope_free(env);
    free(p);

    /* The CRLF vector of the CDT tests round-trips byte for byte. */
    p = vector_payload("cdt_implicit", &len);
    env = parse_ok(p, len, NULL, &off);
    assert_string_equal(env->reverse_path, "alice@a.example");
    assert_string_equal(env->rcpts[0].addr, "bob@b.example");
    buf_init(&b, NULL, SIZE_MAX);
    assert_int_equal(bsmtp_payload_build(env, p + off, len - off, &b), 0);
    expect_bytes(&b, p, len);
    buf_fini(&b);
    bsmtp_envelope_free(env);
    free(p);
}

static void
test_bsmtp_payload_line_end_mixes(void **state)
{
    static const char *inputs[] = {
        "<a@x.example>\n<b@y.example>\n\nbody",
        "<a@x.example>\r\n<b@y.example>\n\r\nbody",
        "<a@x.example>\n<b@y.example>\r\n\nbody",
        "<a@x.example>\r\n<b@y.example>\r\n\r\nbody",
    };
    static const char want[] = "<a@x.example>\r\n<b@y.example>\r\n\r\nbody";
    bsmtp_envelope *env;
    size_t i, off;
    buf b;

    (void)state;
    for (i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
        env = parse_ok(inputs[i], strlen(inputs[i]), NULL, &off);
        assert_string_equal(inputs[i] + off, "body");
        buf_init(&b, NULL, SIZE_MAX);
        assert_int_equal(bsmtp_payload_build(env, (const uint8_t *)"body", 4, &b), 0);
        expect_bytes(&b, want, sizeof(want) - 1);
        buf_fini(&b);
        bsmtp_envelope_free(env);
    }
}

static void
test_bsmtp_payload_content_untouched(void **state)
{
    /* Lone dots, a dot-stuffed-looking line, the SMTP terminator, bare CR
     * and LF, NULs and 8-bit octets: all content, none interpreted. */
    static const uint8_t content[] = "line\r\n.\r\n..two\r\n\r\n.\r\n\0\0\r\xff\xfe\n.";
    static const char env_text[] = "<a@x.example>\r\n<b@y.example>\r\n\r\n";
    uint8_t in[sizeof(env_text) - 1 + sizeof(content)];
    bsmtp_envelope *env;
    size_t off;
    buf b;

    (void)state;
    memcpy(in, env_text, sizeof(env_text) - 1);
    memcpy(in + sizeof(env_text) - 1, content, sizeof(content));
    env = parse_ok(in, sizeof(in), NULL, &off);
    assert_int_equal(off, sizeof(env_text) - 1);
    assert_memory_equal(in + off, content, sizeof(content));
    buf_init(&b, NULL, SIZE_MAX);
    assert_int_equal(bsmtp_payload_build(env, in + off, sizeof(in) - off, &b), 0);
    expect_bytes(&b, in, sizeof(in));
    buf_fini(&b);

    /* Empty content is allowed: the payload ends with the empty line. */
    bsmtp_envelope_free(env);
    env = parse_ok(env_text, sizeof(env_text) - 1, NULL, &off);
    assert_int_equal(off, sizeof(env_text) - 1);
    buf_init(&b, NULL, SIZE_MAX);
    assert_int_equal(bsmtp_payload_build(env, NULL, 0, &b), 0);
    expect_bytes(&b, env_text, sizeof(env_text) - 1);
    buf_fini(&b);
    bsmtp_envelope_free(env);
}

static void
test_bsmtp_payload_special_paths(void **state)
{
    static const char in[] =
        "<> RET=FULL\r\n"
        "<Postmaster>\r\n"
        "<\"a>b c\"@x.example>\r\n"
        "<u@[x-tag:a>b]> NOTIFY=NEVER\r\n"
        "<@r.example:u@[IPv6:2001:db8::1]>\r\n"
        "\r\n";
    bsmtp_envelope *env;
    size_t off;
    buf b;

    (void)state;
    env = parse_ok(in, sizeof(in) - 1, NULL, &off);
    assert_string_equal(env->reverse_path, "");
    assert_int_equal(env->rcpt_cnt, 4);
    assert_string_equal(env->rcpts[0].addr, "Postmaster");
    assert_string_equal(env->rcpts[1].addr, "\"a>b c\"@x.example");
    assert_string_equal(env->rcpts[2].addr, "u@[x-tag:a>b]");
    assert_string_equal(env->rcpts[3].addr, "@r.example:u@[IPv6:2001:db8::1]");
    buf_init(&b, NULL, SIZE_MAX);
    assert_int_equal(bsmtp_payload_build(env, NULL, 0, &b), 0);
    expect_bytes(&b, in, sizeof(in) - 1);
    buf_fini(&b);
    bsmtp_envelope_free(env);
}

static void
test_bsmtp_payload_smtputf8(void **state)
{
    static const char ok[] = "<\xc3\xbc@x.example> SMTPUTF8\n<b@\xc3\xbc.example>\n\n";
    static const char no[] = "<a@x.example>\n<b@\xc3\xbc.example>\n\n";
    bsmtp_envelope *env = NULL;
    size_t off;

    (void)state;
    env = parse_ok(ok, sizeof(ok) - 1, NULL, &off);
    assert_true(env->mail.smtputf8);
    bsmtp_envelope_free(env);
    assert_int_equal(bsmtp_payload_parse((const uint8_t *)no, sizeof(no) - 1, NULL, NULL, &env, &off),
                     BSMTP_ERR_UTF8);
    assert_null(env);
}

struct bad_case {
    const char *in;
    size_t len;
    int want;
    const char *why;
};

#define B(x) x, sizeof(x) - 1

static const struct bad_case bad_cases[] = {
    {B(""), BSMTP_ERR_NO_EMPTY_LINE, "empty payload"},
    {B("<a@x.example>\r\n<b@y.example>\r\n"), BSMTP_ERR_NO_EMPTY_LINE, "no empty line"},
    {B("<a@x.example>\r\n<b@y.example>"), BSMTP_ERR_NO_EMPTY_LINE, "cut inside a line"},
    {B("<a@x.example>\r\n\r\nbody"), BSMTP_ERR_NO_RCPT, "no RCPT-line"},
    {B("\r\n<b@y.example>\r\n\r\n"), BSMTP_ERR_PATH, "empty FROM-line"},
    {B("<a@x.example>\r\r\n<b@y.example>\r\n\r\n"), BSMTP_ERR_BARE_CR, "CR CR LF"},
    {B("<a@x.ex\rample>\r\n<b@y.example>\r\n\r\n"), BSMTP_ERR_BARE_CR, "CR inside a line"},
    {B("<a@x.example>\r\n<b@y.example>\r\n\r\r\n"), BSMTP_ERR_BARE_CR, "CR before the empty line"},
    {B("a@x.example\r\n<b@y.example>\r\n\r\n"), BSMTP_ERR_PATH, "no angle brackets"},
    {B("<a@x.example\r\n<b@y.example>\r\n\r\n"), BSMTP_ERR_PATH, "no closing >"},
    {B("<a@x.example>x\r\n<b@y.example>\r\n\r\n"), BSMTP_ERR_PATH, "junk after >"},
    {B("<a@x.example>\r\n <b@y.example>\r\n\r\n"), BSMTP_ERR_PATH, "leading space"},
    {B("<a@x.example>\r\nRCPT TO:<b@y.example>\r\n\r\n"), BSMTP_ERR_PATH, "SMTP verb kept"},
    {B("<a@x.example>\r\n<>\r\n\r\n"), BSMTP_ERR_PATH, "null forward-path"},
    {B("<a@x.example>\r\n<b@y..example>\r\n\r\n"), BSMTP_ERR_PATH, "bad domain"},
    {B("<a@x.example>\r\n<b\0@y.example>\r\n\r\n"), BSMTP_ERR_PATH, "NUL in a path"},
    {B("<a@x.example> \r\n<b@y.example>\r\n\r\n"), BSMTP_ERR_PARAM_SYNTAX, "trailing space"},
    {B("<a@x.example>  SIZE=1\r\n<b@y.example>\r\n\r\n"), BSMTP_ERR_PARAM_SYNTAX, "two spaces"},
    {B("<a@x.example> SIZE=x\r\n<b@y.example>\r\n\r\n"), BSMTP_ERR_PARAM_VALUE, "bad SIZE"},
    {B("<a@x.example> RET=FULL RET=FULL\r\n<b@y.example>\r\n\r\n"), BSMTP_ERR_PARAM_DUP,
     "duplicate"},
    {B("<a@x.example> NOTIFY=NEVER\r\n<b@y.example>\r\n\r\n"), BSMTP_ERR_PARAM_PLACE,
     "NOTIFY on FROM-line"},
    {B("<a@x.example>\r\n<b@y.example> ENVID=x\r\n\r\n"), BSMTP_ERR_PARAM_PLACE,
     "ENVID on RCPT-line"},
    {B("<a@x.example>\r\n<b@y.example> NOTIFY=NEVER,DELAY\r\n\r\n"), BSMTP_ERR_PARAM_VALUE,
     "NEVER with DELAY"},
    {B("<\xc3\xa4@x.example>\r\n<b@y.example>\r\n\r\n"), BSMTP_ERR_UTF8, "UTF-8 without SMTPUTF8"},
};

static void
test_bsmtp_payload_malformed_table(void **state)
{
    bsmtp_envelope *env;
    size_t i, off, bad = 0;
    int rc;

    (void)state;
    for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        env = (bsmtp_envelope *)&env;     /* must come back NULL */
        off = 99;
        rc = bsmtp_payload_parse((const uint8_t *)bad_cases[i].in, bad_cases[i].len, NULL, NULL,
                                 &env, &off);
        if (rc != bad_cases[i].want || env != NULL || off != 0) {
            print_error("\"%s\" (%s): got %s, want %s\n",
                        tshow(0, bad_cases[i].in, bad_cases[i].len), bad_cases[i].why,
                        bsmtp_errname(rc), bsmtp_errname(bad_cases[i].want));
            bad++;
        }
    }
    assert_int_equal(bad, 0);
    assert_int_equal(bsmtp_payload_parse(NULL, 1, NULL, NULL, &env, &off), BSMTP_ERR_INVAL);
    assert_int_equal(bsmtp_payload_parse((const uint8_t *)"x", 1, NULL, NULL, NULL, &off),
                     BSMTP_ERR_INVAL);
}

/* Build "<a@x.example>\r\n" plus n RCPT-lines and the empty line. */
static void
make_rcpts(buf *b, size_t n)
{
    size_t i;

    buf_reset(b);
    assert_int_equal(buf_append_str(b, "<a@x.example>\r\n"), 0);
    for (i = 0; i < n; i++)
        assert_int_equal(buf_printf(b, "<r%zu@y.example>\r\n", i), 0);
    assert_int_equal(buf_append_str(b, "\r\n"), 0);
}

static void
test_bsmtp_payload_caps(void **state)
{
    bsmtp_limits lim = {0};
    bsmtp_envelope *env = NULL;
    char line[128];
    size_t off;
    buf b;

    (void)state;
    buf_init(&b, NULL, SIZE_MAX);

    /* Recipients: rcpt_max 3 takes 3, refuses 4. */
    lim.rcpt_max = 3;
    make_rcpts(&b, 3);
    env = parse_ok(b.data, b.len, &lim, &off);
    assert_int_equal(env->rcpt_cnt, 3);
    bsmtp_envelope_free(env);
    make_rcpts(&b, 4);
    assert_int_equal(bsmtp_payload_parse(b.data, b.len, &lim, NULL, &env, &off),
                     BSMTP_ERR_RCPT_CAP);
    /* The default cap is 1000. */
    make_rcpts(&b, 1000);
    env = parse_ok(b.data, b.len, NULL, &off);
    bsmtp_envelope_free(env);
    make_rcpts(&b, 1001);
    assert_int_equal(bsmtp_payload_parse(b.data, b.len, NULL, NULL, &env, &off),
                     BSMTP_ERR_RCPT_CAP);

    /* Line length: the cap excludes the line end, CRLF or LF. */
    memset(&lim, 0, sizeof(lim));
    lim.line_max = 20;
    snprintf(line, sizeof(line), "<%s>\r\n<b@y.example>\r\n\r\n", "aaaaaaaaaaa@x.example"); /* 23 */
    assert_int_equal(bsmtp_payload_parse((const uint8_t *)line, strlen(line), &lim, NULL, &env, &off),
                     BSMTP_ERR_LINE_TOO_LONG);
    snprintf(line, sizeof(line), "<%s>\r\n<b@y.example>\r\n\r\n", "aaaaaaaa@x.example"); /* 20 */
    env = parse_ok(line, strlen(line), &lim, &off);
    bsmtp_envelope_free(env);
    snprintf(line, sizeof(line), "<%s>\n<b@y.example>\n\n", "aaaaaaaa@x.example");
    env = parse_ok(line, strlen(line), &lim, &off);
    bsmtp_envelope_free(env);
    snprintf(line, sizeof(line), "<%s>\r\n<b@y.example>\r\n\r\n", "aaaaaaaaa@x.example"); /* 21 */
    assert_int_equal(bsmtp_payload_parse((const uint8_t *)line, strlen(line), &lim, NULL, &env, &off),
                     BSMTP_ERR_LINE_TOO_LONG);
    /* A long line without any LF stops at the cap, not at the end. */
    memset(line, 'x', 100);
    assert_int_equal(bsmtp_payload_parse((const uint8_t *)line, 100, &lim, NULL, &env, &off),
                     BSMTP_ERR_LINE_TOO_LONG);

    /* Parameters per line. */
    memset(&lim, 0, sizeof(lim));
    lim.param_max = 2;
    snprintf(line, sizeof(line), "<a@x.example> A B\r\n<b@y.example> C D\r\n\r\n");
    env = parse_ok(line, strlen(line), &lim, &off);
    bsmtp_envelope_free(env);
    snprintf(line, sizeof(line), "<a@x.example>\r\n<b@y.example> C D E\r\n\r\n");
    assert_int_equal(bsmtp_payload_parse((const uint8_t *)line, strlen(line), &lim, NULL, &env, &off),
                     BSMTP_ERR_PARAM_CAP);

    /* Whole envelope, empty line included: 32 octets here. */
    snprintf(line, sizeof(line), "<a@x.example>\r\n<b@y.example>\r\n\r\nbody");
    memset(&lim, 0, sizeof(lim));
    lim.envelope_max = 32;
    env = parse_ok(line, strlen(line), &lim, &off);
    assert_int_equal(off, 32);
    bsmtp_envelope_free(env);
    lim.envelope_max = 31;
    assert_int_equal(bsmtp_payload_parse((const uint8_t *)line, strlen(line), &lim, NULL, &env, &off),
                     BSMTP_ERR_ENVELOPE_TOO_LONG);
    lim.envelope_max = 15;
    assert_int_equal(bsmtp_payload_parse((const uint8_t *)line, strlen(line), &lim, NULL, &env, &off),
                     BSMTP_ERR_ENVELOPE_TOO_LONG);
    buf_fini(&b);
}

/*
 * Every prefix of a full payload: before the empty line is complete the
 * parser must say NO_EMPTY_LINE (never crash, never succeed); from then
 * on it must succeed with the same envelope and the shorter content.
 */
static void
test_bsmtp_payload_truncation_loop(void **state)
{
    const size_t len = sizeof(example31) - 1;
    const size_t env_end = (size_t)(content_of(example31) - example31);
    bsmtp_envelope *env;
    size_t n, off;
    int rc;

    (void)state;
    for (n = 0; n <= len; n++) {
        env = NULL;
        rc = bsmtp_payload_parse((const uint8_t *)example31, n, NULL, NULL, &env, &off);
        if (n < env_end) {
            if (rc != BSMTP_ERR_NO_EMPTY_LINE || env != NULL)
                fail_msg("prefix %zu: got %s, want NO_EMPTY_LINE", n, bsmtp_errname(rc));
            continue;
        }
        if (rc != 0)
            fail_msg("prefix %zu: got %s, want OK", n, bsmtp_errname(rc));
        assert_int_equal(off, env_end);
        assert_int_equal(env->rcpt_cnt, 2);
        bsmtp_envelope_free(env);
    }
}

static void
test_bsmtp_payload_envelope_api(void **state)
{
    static const char want[] =
        "<> RET=HDRS\r\n"
        "<sender@a.example> NOTIFY=NEVER\r\n"
        "<Postmaster>\r\n"
        "\r\n"
        "dsn";
    static const char want_subset[] =
        "<from@example.com> MT-PRIORITY=4 BODY=8BITMIME RET=HDRS ENVID=QQ314159\r\n"
        "<to2@example.net> NOTIFY=SUCCESS,FAILURE\r\n"
        "\r\n";
    bsmtp_envelope *env, *src, *sub;
    size_t idx[2], off;
    buf b;

    (void)state;
    /* A DSN-shaped envelope built from scratch. */
    assert_int_equal(bsmtp_envelope_new("", "RET=HDRS", NULL, &env), 0);
    assert_int_equal(bsmtp_envelope_add_rcpt(env, "sender@a.example", "NOTIFY=NEVER"), 0);
    assert_int_equal(bsmtp_envelope_add_rcpt(env, "Postmaster", NULL), 0);
    /* Refusals leave the envelope as it was. */
    assert_int_equal(bsmtp_envelope_add_rcpt(env, "bad path", NULL), BSMTP_ERR_PATH);
    assert_int_equal(bsmtp_envelope_add_rcpt(env, "ok@x.example", "SIZE=1"), BSMTP_ERR_PARAM_PLACE);
    assert_int_equal(bsmtp_envelope_add_rcpt(env, "\xc3\xbc@x.example", NULL), BSMTP_ERR_UTF8);
    assert_int_equal(bsmtp_envelope_add_param(env, "RET", "FULL"), BSMTP_ERR_PARAM_DUP);
    assert_int_equal(bsmtp_envelope_add_param(env, "MT-PRIORITY", "12"), BSMTP_ERR_PARAM_VALUE);
    assert_int_equal(bsmtp_envelope_add_param(env, "BAD KW", NULL), BSMTP_ERR_PARAM_SYNTAX);
    assert_int_equal(env->rcpt_cnt, 2);
    assert_int_equal(env->param_cnt, 1);
    assert_int_equal(env->mail.ret, BSMTP_RET_HDRS);
    buf_init(&b, NULL, SIZE_MAX);
    assert_int_equal(bsmtp_payload_build(env, (const uint8_t *)"dsn", 3, &b), 0);
    expect_bytes(&b, want, sizeof(want) - 1);
    /* add_param updates the parsed view; SMTPUTF8 then admits UTF-8. */
    assert_int_equal(bsmtp_envelope_add_param(env, "SMTPUTF8", NULL), 0);
    assert_true(env->mail.smtputf8);
    assert_int_equal(env->mail.ret, BSMTP_RET_HDRS);
    assert_int_equal(bsmtp_envelope_add_rcpt(env, "\xc3\xbc@x.example", NULL), 0);
    assert_int_equal(env->rcpt_cnt, 3);
    bsmtp_envelope_free(env);
    assert_int_equal(bsmtp_envelope_new("not a path", NULL, NULL, &env), BSMTP_ERR_PATH);
    assert_null(env);
    assert_int_equal(bsmtp_envelope_new("\xc3\xbc@x.example", NULL, NULL, &env), BSMTP_ERR_UTF8);
    assert_int_equal(bsmtp_envelope_new("\xc3\xbc@x.example", "SMTPUTF8", NULL, &env), 0);
    bsmtp_envelope_free(env);

    /* The relay's per-destination copy keeps only the chosen RCPT-lines. */
    src = parse_ok(example31, sizeof(example31) - 1, NULL, &off);
    idx[0] = 1;
    assert_int_equal(bsmtp_envelope_copy_subset(src, idx, 1, NULL, &sub), 0);
    buf_reset(&b);
    assert_int_equal(bsmtp_payload_build(sub, NULL, 0, &b), 0);
    expect_bytes(&b, want_subset, sizeof(want_subset) - 1);
    assert_string_equal(sub->mail.envid, "QQ314159");
    assert_int_equal(sub->rcpts[0].info.notify, BSMTP_NOTIFY_SUCCESS | BSMTP_NOTIFY_FAILURE);
    bsmtp_envelope_free(sub);
    /* Order follows idx. */
    idx[0] = 1;
    idx[1] = 0;
    assert_int_equal(bsmtp_envelope_copy_subset(src, idx, 2, NULL, &sub), 0);
    assert_string_equal(sub->rcpts[0].addr, "to2@example.net");
    assert_string_equal(sub->rcpts[1].addr, "to1@example.net");
    assert_string_equal(sub->rcpts[1].info.orcpt, "rfc822;Bob@enterprise.example.net");
    bsmtp_envelope_free(sub);
    /* No recipients: copy works, build refuses. */
    assert_int_equal(bsmtp_envelope_copy_subset(src, NULL, 0, NULL, &sub), 0);
    assert_int_equal(bsmtp_payload_build(sub, NULL, 0, &b), BSMTP_ERR_NO_RCPT);
    bsmtp_envelope_free(sub);
    /* Bad and repeated indexes. */
    idx[0] = 2;
    assert_int_equal(bsmtp_envelope_copy_subset(src, idx, 1, NULL, &sub), BSMTP_ERR_INVAL);
    assert_null(sub);
    idx[0] = 0;
    idx[1] = 0;
    assert_int_equal(bsmtp_envelope_copy_subset(src, idx, 2, NULL, &sub), BSMTP_ERR_INVAL);
    bsmtp_envelope_free(src);
    buf_fini(&b);
    bsmtp_envelope_free(NULL);
}

static void
test_bsmtp_payload_build_checks(void **state)
{
    bsmtp_envelope *env;
    char *saved;
    size_t off;
    buf b;

    (void)state;
    env = parse_ok(example31, sizeof(example31) - 1, NULL, &off);
    /* A hand-edited path that would break the framing is refused. */
    saved = env->rcpts[1].addr;
    env->rcpts[1].addr = (char *)(uintptr_t)"x@y>\r\nRCPT";
    buf_init(&b, NULL, SIZE_MAX);
    assert_int_equal(bsmtp_payload_build(env, NULL, 0, &b), BSMTP_ERR_PATH);
    env->rcpts[1].addr = saved;
    buf_fini(&b);
    /* The buffer cap is reported as such. */
    buf_init(&b, NULL, 40);
    assert_int_equal(bsmtp_payload_build(env, NULL, 0, &b), BSMTP_ERR_CAP);
    buf_fini(&b);
    buf_init(&b, NULL, SIZE_MAX);
    assert_int_equal(bsmtp_payload_build(env, NULL, 5, &b), BSMTP_ERR_INVAL);
    assert_int_equal(bsmtp_payload_build(NULL, NULL, 0, &b), BSMTP_ERR_INVAL);
    buf_fini(&b);
    bsmtp_envelope_free(env);
}

/*
 * Fail the 1st, 2nd, ... allocation of each operation until it succeeds:
 * every failure must be a clean NOMEM with nothing leaked.
 */
static void
test_bsmtp_payload_alloc_failure(void **state)
{
    struct tmem tm;
    mem m = tmem_make(&tm);
    bsmtp_envelope *env, *sub;
    size_t idx[2] = {1, 0}, off;
    long k;
    int rc;

    (void)state;
    for (k = 0;; k++) {
        tmem_fail_after(&tm, k);
        rc = bsmtp_payload_parse((const uint8_t *)example31, sizeof(example31) - 1, NULL, &m, &env,
                                 &off);
        if (rc == 0)
            break;
        if (rc != BSMTP_ERR_NOMEM)
            fail_msg("parse, failing allocation %ld: got %s, want NOMEM", k, bsmtp_errname(rc));
        assert_null(env);
        assert_int_equal(tm.live, 0);
    }
    assert_true(k > 5);
    for (k = 0;; k++) {
        tmem_fail_after(&tm, k);
        rc = bsmtp_envelope_copy_subset(env, idx, 2, &m, &sub);
        if (rc == 0)
            break;
        assert_int_equal(rc, BSMTP_ERR_NOMEM);
        assert_null(sub);
    }
    bsmtp_envelope_free(sub);
    bsmtp_envelope_free(env);
    assert_int_equal(tm.live, 0);

    for (k = 0;; k++) {
        tmem_fail_after(&tm, k);
        env = NULL;
        rc = bsmtp_envelope_new("", "RET=HDRS", &m, &env);
        if (rc == 0)
            rc = bsmtp_envelope_add_rcpt(env, "a@x.example", "NOTIFY=NEVER");
        if (rc == 0)
            rc = bsmtp_envelope_add_param(env, "ENVID", "e1");
        if (rc == 0)
            break;
        assert_int_equal(rc, BSMTP_ERR_NOMEM);
        bsmtp_envelope_free(env);
        assert_int_equal(tm.live, 0);
    }
    assert_int_equal(env->param_cnt, 2);
    bsmtp_envelope_free(env);
    assert_int_equal(tm.live, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bsmtp_payload_example31_round_trip),
        cmocka_unit_test(test_bsmtp_payload_rfc8494_vector_lf),
        cmocka_unit_test(test_bsmtp_payload_line_end_mixes),
        cmocka_unit_test(test_bsmtp_payload_content_untouched),
        cmocka_unit_test(test_bsmtp_payload_special_paths),
        cmocka_unit_test(test_bsmtp_payload_smtputf8),
        cmocka_unit_test(test_bsmtp_payload_malformed_table),
        cmocka_unit_test(test_bsmtp_payload_caps),
        cmocka_unit_test(test_bsmtp_payload_truncation_loop),
        cmocka_unit_test(test_bsmtp_payload_envelope_api),
        cmocka_unit_test(test_bsmtp_payload_build_checks),
        cmocka_unit_test(test_bsmtp_payload_alloc_failure),
    };

    return cmocka_run_group_tests_name("bsmtp_payload", tests, NULL, NULL);
}
