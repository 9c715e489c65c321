/*
 * test_mule_dsn.c: unit tests of mule/mule_dsn (RFC 3464 / RFC 6522
 * delivery status notifications).
 *
 * Structure of the report for each failure kind, NOTIFY and RET rules,
 * the null reverse-path, ENVID/ORCPT decoding, SMTP reply handling,
 * boundary collision avoidance, the BSMTP payload of the DSN, argument
 * checks, caps and allocation failure.  tests/integ/check_dsn.py parses
 * the same kinds of DSN with Python's email package.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bsmtp/bsmtp_payload.h"
#include "mule/mule_dsn.h"
#include "mule/mule_err.h"
#include "mule/mule_hdr.h"
#include "test_common.h"

static const char orig_msg[] =
    "Received: from a by b with MULE id 1; Mon, 1 Jan 2024 00:00:00 +0000\r\n"
    "From: from@example.com\r\n"
    "To: To1 <to1@example.net>\r\n"
    "Subject: a test\r\n"
    "Message-ID: <orig-1@example.com>\r\n"
    "\r\n"
    "This is the body.\r\n";

static const mule_dsn_config cfg = {
    "relay.example", "Tue, 2 Jan 2024 10:00:00 +0000", "<dsn-1@relay.example>", 0, 0,
};

static mule_dsn_orig
orig_default(void)
{
    mule_dsn_orig o;

    memset(&o, 0, sizeof(o));
    o.reverse_path = "from@example.com";
    o.envid = "QQ314159";
    o.arrival_date = "Mon, 1 Jan 2024 00:00:05 +0000";
    o.content = (const uint8_t *)orig_msg;
    o.content_len = sizeof(orig_msg) - 1;
    return o;
}

/* ------------------------------------------------------------------ */
/* A tiny MIME splitter for the checks                                */
/* ------------------------------------------------------------------ */

struct part {
    char ctype[128];
    const char *body;
    size_t body_len;
};

static char content_text[1 << 20];

/* Split a DSN into its parts; returns the part count. */
static size_t
split_parts(const mule_dsn *d, struct part *parts, size_t max)
{
    char ct[512], delim[128];
    const char *bd, *p, *end, *next;
    size_t n = 0, dl, hl, bo;

    assert_true(d->content.len < sizeof(content_text));
    memcpy(content_text, d->content.data, d->content.len);
    content_text[d->content.len] = '\0';
    assert_true(mule_hdr_get(d->content.data, d->content.len, "Content-Type", 0, false, ct,
                             sizeof(ct)));
    assert_non_null(strstr(ct, "multipart/report; report-type=delivery-status;"));
    bd = strstr(ct, "boundary=\"");
    assert_non_null(bd);
    bd += 10;
    snprintf(delim, sizeof(delim), "\r\n--%.*s", (int)(strchr(bd, '"') - bd), bd);
    dl = strlen(delim);
    p = strstr(content_text, delim);
    assert_non_null(p);
    end = content_text + d->content.len;
    for (;;) {
        p += dl;
        if (p[0] == '-' && p[1] == '-')
            break;                      /* close delimiter */
        assert_true(p[0] == '\r' && p[1] == '\n');
        p += 2;
        next = strstr(p, delim);
        assert_non_null(next);
        assert_true(n < max);
        mule_hdr_section((const uint8_t *)p, (size_t)(next - p), &hl, &bo);
        assert_true(mule_hdr_get((const uint8_t *)p, (size_t)(next - p), "Content-Type", 0,
                                 false, parts[n].ctype, sizeof(parts[n].ctype)));
        parts[n].body = p + bo;
        parts[n].body_len = (size_t)(next - p) - bo;
        n++;
        p = next;
    }
    assert_true(p + 4 <= end);
    return n;
}

/* The n-th (0-based) recipient group of a delivery-status body has
 * field: value? */
static bool
status_has(const struct part *ds, size_t group, const char *line)
{
    char *copy = strndup(ds->body, ds->body_len), *g = copy, *nextg;
    size_t k;
    bool found;

    assert_non_null(copy);
    /* Group 0 is the per-message block. */
    for (k = 0; k < group + 1; k++) {
        nextg = strstr(g, "\r\n\r\n");
        if (nextg == NULL) {
            free(copy);
            return false;
        }
        g = nextg + 4;
    }
    nextg = strstr(g, "\r\n\r\n");
    if (nextg != NULL)
        nextg[2] = '\0';      /* keep the last field's CRLF */
    found = strstr(g, line) != NULL;
    free(copy);
    return found;
}

static bool
msg_has(const struct part *p, const char *s)
{
    char *copy = strndup(p->body, p->body_len);
    bool found;

    assert_non_null(copy);
    found = strstr(copy, s) != NULL;
    free(copy);
    return found;
}

/* ------------------------------------------------------------------ */
/* Each failure kind                                                  */
/* ------------------------------------------------------------------ */

static void
check_kind(enum mule_dsn_kind kind, const char *action, const char *status)
{
    mule_dsn_orig o = orig_default();
    mule_dsn_rcpt r;
    mule_dsn d;
    struct part parts[4];
    char subj[128];

    memset(&r, 0, sizeof(r));
    r.addr = "to1@example.net";
    r.kind = kind;
    r.notify = BSMTP_NOTIFY_SUCCESS | BSMTP_NOTIFY_FAILURE | BSMTP_NOTIFY_DELAY;
    assert_int_equal(mule_dsn_build(&cfg, &o, &r, 1, NULL, NULL, &d), 0);
    assert_int_equal(split_parts(&d, parts, 4), 3);
    assert_string_equal(parts[0].ctype, "text/plain; charset=us-ascii");
    assert_string_equal(parts[1].ctype, "message/delivery-status");
    assert_true(status_has(&parts[1], 0, "Final-Recipient: rfc822; to1@example.net\r\n"));
    {
        char want[64];

        snprintf(want, sizeof(want), "Action: %s\r\n", action);
        if (!status_has(&parts[1], 0, want))
            fail_msg("kind %d: no \"%s\" in %.*s", (int)kind, want, (int)parts[1].body_len,
                     parts[1].body);
        snprintf(want, sizeof(want), "Status: %s\r\n", status);
        if (!status_has(&parts[1], 0, want))
            fail_msg("kind %d: no \"%s\"", (int)kind, want);
    }
    assert_true(msg_has(&parts[1], "Reporting-MTA: dns; relay.example\r\n"));
    assert_true(msg_has(&parts[1], "Original-Envelope-Id: QQ314159\r\n"));
    assert_true(msg_has(&parts[1], "Arrival-Date: Mon, 1 Jan 2024 00:00:05 +0000\r\n"));
    /* Failures return the small message whole; other reports headers. */
    if (strcmp(action, "failed") == 0) {
        assert_string_equal(parts[2].ctype, "message/rfc822");
        assert_true(msg_has(&parts[2], "This is the body."));
        assert_true(d.failed);
        assert_true(d.full);
    } else {
        assert_string_equal(parts[2].ctype, "text/rfc822-headers");
        assert_false(msg_has(&parts[2], "This is the body."));
        assert_true(msg_has(&parts[2], "Subject: a test\r\n"));
        assert_false(d.full);
    }
    /* The header of the DSN itself. */
    assert_true(mule_hdr_get(d.content.data, d.content.len, "From", 0, false, subj, sizeof(subj)));
    assert_string_equal(subj, "Mail Delivery System <MAILER-DAEMON@relay.example>");
    assert_true(mule_hdr_get(d.content.data, d.content.len, "To", 0, false, subj, sizeof(subj)));
    assert_string_equal(subj, "<from@example.com>");
    assert_true(mule_hdr_get(d.content.data, d.content.len, "Auto-Submitted", 0, false, subj,
                             sizeof(subj)));
    assert_string_equal(subj, "auto-replied");
    assert_true(mule_hdr_get(d.content.data, d.content.len, "Message-ID", 0, false, subj,
                             sizeof(subj)));
    assert_string_equal(subj, "<dsn-1@relay.example>");
    assert_true(mule_hdr_get(d.content.data, d.content.len, "Date", 0, false, subj, sizeof(subj)));
    assert_string_equal(subj, "Tue, 2 Jan 2024 10:00:00 +0000");
    /* The envelope: <> and the original sender as the one RCPT. */
    assert_string_equal(d.env->reverse_path, "");
    assert_int_equal(d.env->rcpt_cnt, 1);
    assert_string_equal(d.env->rcpts[0].addr, "from@example.com");
    assert_int_equal(d.reported_cnt, 1);
    mule_dsn_fini(&d);
}

static void
test_mule_dsn_kind_no_route(void **state)
{
    (void)state;
    check_kind(MULE_DSN_NO_ROUTE, "failed", "5.4.4");
}

static void
test_mule_dsn_kind_expired(void **state)
{
    (void)state;
    check_kind(MULE_DSN_EXPIRED, "failed", "5.4.7");
}

static void
test_mule_dsn_kind_delayed(void **state)
{
    (void)state;
    check_kind(MULE_DSN_DELAYED, "delayed", "4.4.7");
}

static void
test_mule_dsn_kind_discarded(void **state)
{
    (void)state;
    check_kind(MULE_DSN_DISCARDED, "failed", "5.4.0");
}

static void
test_mule_dsn_kind_loop(void **state)
{
    (void)state;
    check_kind(MULE_DSN_LOOP, "failed", "5.4.6");
}

static void
test_mule_dsn_kind_delivered(void **state)
{
    (void)state;
    check_kind(MULE_DSN_DELIVERED, "delivered", "2.0.0");
}

static void
test_mule_dsn_kind_relayed(void **state)
{
    (void)state;
    check_kind(MULE_DSN_RELAYED, "relayed", "2.0.0");
}

static void
test_mule_dsn_kind_deleted(void **state)
{
    (void)state;
    check_kind(MULE_DSN_DELETED, "failed", "5.3.0");
}

/* An MTA rejection: its enhanced code, Remote-MTA and Diagnostic-Code. */
static void
test_mule_dsn_rejected_by_mta(void **state)
{
    mule_dsn_orig o = orig_default();
    mule_dsn_rcpt r[3];
    mule_dsn d;
    struct part parts[4];

    (void)state;
    memset(r, 0, sizeof(r));
    r[0].addr = "bob@example.net";
    r[0].kind = MULE_DSN_REJECTED;
    r[0].reply = "550 5.1.1 <bob@example.net>: Recipient address rejected:\r\n User unknown\x01";
    r[0].remote_mta = "mx.example.net";
    r[0].last_attempt_date = "Tue, 2 Jan 2024 09:59:00 +0000";
    r[1].addr = "carol@example.net";
    r[1].kind = MULE_DSN_REJECTED;
    r[1].reply = "452 too many recipients";   /* no enhanced code */
    r[2].addr = "dave@example.net";
    r[2].kind = MULE_DSN_REJECTED;
    r[2].reply = "554 4.4.4 class mismatch";  /* 4.x.x after 5yz: ignored */
    assert_int_equal(mule_dsn_build(&cfg, &o, r, 3, NULL, NULL, &d), 0);
    assert_int_equal(split_parts(&d, parts, 4), 3);
    assert_true(status_has(&parts[1], 0, "Status: 5.1.1\r\n"));
    assert_true(status_has(&parts[1], 0, "Remote-MTA: dns; mx.example.net\r\n"));
    assert_true(status_has(&parts[1], 0, "Diagnostic-Code: smtp; 550 5.1.1 <bob@example.net>: "
                                         "Recipient address rejected: User unknown?\r\n"));
    assert_true(status_has(&parts[1], 0, "Last-Attempt-Date: Tue, 2 Jan 2024 09:59:00 +0000\r\n"));
    assert_true(status_has(&parts[1], 1, "Final-Recipient: rfc822; carol@example.net\r\n"));
    assert_true(status_has(&parts[1], 1, "Action: failed\r\n"));
    assert_true(status_has(&parts[1], 1, "Status: 4.0.0\r\n"));
    assert_false(status_has(&parts[1], 1, "Remote-MTA"));
    assert_true(status_has(&parts[1], 2, "Status: 5.0.0\r\n"));
    assert_true(msg_has(&parts[0], "said: 550 5.1.1"));
    mule_dsn_fini(&d);
}

/* ------------------------------------------------------------------ */
/* NOTIFY, RET, null sender                                           */
/* ------------------------------------------------------------------ */

static int
build_one(enum mule_dsn_kind kind, unsigned notify, mule_dsn *d)
{
    mule_dsn_orig o = orig_default();
    mule_dsn_rcpt r;

    memset(&r, 0, sizeof(r));
    r.addr = "to1@example.net";
    r.kind = kind;
    r.notify = notify;
    return mule_dsn_build(&cfg, &o, &r, 1, NULL, NULL, d);
}

static void
test_mule_dsn_notify_rules(void **state)
{
    static const struct {
        enum mule_dsn_kind kind;
        unsigned notify;
        int want;
    } cases[] = {
        { MULE_DSN_NO_ROUTE, 0, 0 },
        { MULE_DSN_NO_ROUTE, BSMTP_NOTIFY_NEVER, MULE_ERR_DSN_NOT_REQUESTED },
        { MULE_DSN_NO_ROUTE, BSMTP_NOTIFY_SUCCESS, MULE_ERR_DSN_NOT_REQUESTED },
        { MULE_DSN_NO_ROUTE, BSMTP_NOTIFY_DELAY, MULE_ERR_DSN_NOT_REQUESTED },
        { MULE_DSN_NO_ROUTE, BSMTP_NOTIFY_FAILURE, 0 },
        { MULE_DSN_EXPIRED, BSMTP_NOTIFY_SUCCESS | BSMTP_NOTIFY_FAILURE, 0 },
        { MULE_DSN_REJECTED, BSMTP_NOTIFY_DELAY | BSMTP_NOTIFY_FAILURE, 0 },
        { MULE_DSN_DELIVERED, 0, MULE_ERR_DSN_NOT_REQUESTED },
        { MULE_DSN_DELIVERED, BSMTP_NOTIFY_FAILURE, MULE_ERR_DSN_NOT_REQUESTED },
        { MULE_DSN_DELIVERED, BSMTP_NOTIFY_SUCCESS, 0 },
        { MULE_DSN_DELIVERED, BSMTP_NOTIFY_NEVER, MULE_ERR_DSN_NOT_REQUESTED },
        { MULE_DSN_RELAYED, BSMTP_NOTIFY_SUCCESS, 0 },
        { MULE_DSN_DELAYED, 0, MULE_ERR_DSN_NOT_REQUESTED },
        { MULE_DSN_DELAYED, BSMTP_NOTIFY_FAILURE, MULE_ERR_DSN_NOT_REQUESTED },
        { MULE_DSN_DELAYED, BSMTP_NOTIFY_DELAY, 0 },
    };
    mule_dsn d;
    size_t i;
    int rc;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rc = build_one(cases[i].kind, cases[i].notify, &d);
        if (rc != cases[i].want)
            fail_msg("case %zu (kind %d notify %#x): got %s, want %s", i, (int)cases[i].kind,
                     cases[i].notify, mule_errname(rc), mule_errname(cases[i].want));
        mule_dsn_fini(&d);
    }
}

/* Only the recipients NOTIFY allows appear; the others are left out. */
static void
test_mule_dsn_notify_filters_recipients(void **state)
{
    mule_dsn_orig o = orig_default();
    mule_dsn_rcpt r[3];
    mule_dsn d;
    struct part parts[4];

    (void)state;
    memset(r, 0, sizeof(r));
    r[0].addr = "never@example.net";
    r[0].kind = MULE_DSN_NO_ROUTE;
    r[0].notify = BSMTP_NOTIFY_NEVER;
    r[1].addr = "fail@example.net";
    r[1].kind = MULE_DSN_NO_ROUTE;
    r[1].orcpt = "rfc822;Bob+2BTag@enterprise.example.net";
    r[2].addr = "ok@example.net";
    r[2].kind = MULE_DSN_DELIVERED;
    r[2].notify = BSMTP_NOTIFY_SUCCESS;
    assert_int_equal(mule_dsn_build(&cfg, &o, r, 3, NULL, NULL, &d), 0);
    assert_int_equal(d.reported_cnt, 2);
    assert_int_equal(split_parts(&d, parts, 4), 3);
    assert_false(msg_has(&parts[1], "never@"));
    assert_false(msg_has(&parts[0], "never@"));
    /* ORCPT is xtext-decoded (RFC 3464 2.3.1). */
    assert_true(status_has(&parts[1], 0, "Original-Recipient: rfc822;Bob+Tag@enterprise.example.net\r\n"));
    assert_true(status_has(&parts[1], 0, "Action: failed\r\n"));
    assert_true(status_has(&parts[1], 1, "Action: delivered\r\n"));
    assert_false(status_has(&parts[1], 1, "Original-Recipient"));
    mule_dsn_fini(&d);
}

static void
test_mule_dsn_null_sender(void **state)
{
    mule_dsn_orig o = orig_default();
    mule_dsn_rcpt r;
    mule_dsn d;

    (void)state;
    memset(&r, 0, sizeof(r));
    r.addr = "to1@example.net";
    r.kind = MULE_DSN_NO_ROUTE;
    o.reverse_path = "";
    assert_int_equal(mule_dsn_build(&cfg, &o, &r, 1, NULL, NULL, &d), MULE_ERR_DSN_NULL_SENDER);
    assert_null(d.env);
    assert_int_equal(d.content.len, 0);
    mule_dsn_fini(&d);
}

static const char *
returned_type(enum bsmtp_ret ret, enum bsmtp_body body, size_t full_max, size_t len)
{
    static char ct[128];
    mule_dsn_config c = cfg;
    mule_dsn_orig o = orig_default();
    mule_dsn_rcpt r;
    mule_dsn d;
    struct part parts[4];

    memset(&r, 0, sizeof(r));
    r.addr = "to1@example.net";
    r.kind = MULE_DSN_EXPIRED;
    o.ret = ret;
    o.body = body;
    o.content_len = len;
    c.full_max = full_max;
    assert_int_equal(mule_dsn_build(&c, &o, &r, 1, NULL, NULL, &d), 0);
    assert_int_equal(split_parts(&d, parts, 4), 3);
    snprintf(ct, sizeof(ct), "%s", parts[2].ctype);
    if (strcmp(ct, "text/rfc822-headers") == 0) {
        assert_false(msg_has(&parts[2], "This is the body."));
        assert_true(msg_has(&parts[2], "Message-ID: <orig-1@example.com>\r\n"));
    } else {
        assert_int_equal(parts[2].body_len, len);
        assert_memory_equal(parts[2].body, orig_msg, len);
    }
    mule_dsn_fini(&d);
    return ct;
}

static void
test_mule_dsn_ret_rules(void **state)
{
    size_t len = sizeof(orig_msg) - 1;

    (void)state;
    assert_string_equal(returned_type(BSMTP_RET_FULL, BSMTP_BODY_NONE, 10, len), "message/rfc822");
    assert_string_equal(returned_type(BSMTP_RET_HDRS, BSMTP_BODY_NONE, 0, len),
                        "text/rfc822-headers");
    /* No RET: small comes back whole, large as headers. */
    assert_string_equal(returned_type(BSMTP_RET_NONE, BSMTP_BODY_NONE, len, len), "message/rfc822");
    assert_string_equal(returned_type(BSMTP_RET_NONE, BSMTP_BODY_NONE, len - 1, len),
                        "text/rfc822-headers");
    /* Binary content never goes into message/rfc822. */
    assert_string_equal(returned_type(BSMTP_RET_FULL, BSMTP_BODY_BINARYMIME, 0, len),
                        "text/rfc822-headers");
}

/* ENVID is xtext-decoded; without ENVID there is no Original-Envelope-Id. */
static void
test_mule_dsn_envid(void **state)
{
    mule_dsn_orig o = orig_default();
    mule_dsn_rcpt r;
    mule_dsn d;
    struct part parts[4];

    (void)state;
    memset(&r, 0, sizeof(r));
    r.addr = "to1@example.net";
    r.kind = MULE_DSN_NO_ROUTE;
    o.envid = "ID+2B1+3Dx";
    assert_int_equal(mule_dsn_build(&cfg, &o, &r, 1, NULL, NULL, &d), 0);
    split_parts(&d, parts, 4);
    assert_true(msg_has(&parts[1], "Original-Envelope-Id: ID+1=x\r\n"));
    mule_dsn_fini(&d);
    /* Decoding to a control character keeps the xtext form. */
    o.envid = "ID+0A";
    assert_int_equal(mule_dsn_build(&cfg, &o, &r, 1, NULL, NULL, &d), 0);
    split_parts(&d, parts, 4);
    assert_true(msg_has(&parts[1], "Original-Envelope-Id: ID+0A\r\n"));
    mule_dsn_fini(&d);
    o.envid = NULL;
    assert_int_equal(mule_dsn_build(&cfg, &o, &r, 1, NULL, NULL, &d), 0);
    split_parts(&d, parts, 4);
    assert_false(msg_has(&parts[1], "Original-Envelope-Id"));
    mule_dsn_fini(&d);
}

/* Content that contains the first boundary candidate gets another one. */
static void
test_mule_dsn_boundary_avoids_content(void **state)
{
    static const char evil[] =
        "Subject: trap\r\n\r\n--=_mule_dsn-1relay.example_0\r\n--=_mule_dsn-1relay.example_1--\r\n";
    mule_dsn_orig o = orig_default();
    mule_dsn_rcpt r;
    mule_dsn d;
    struct part parts[4];
    char ct[256];

    (void)state;
    memset(&r, 0, sizeof(r));
    r.addr = "to1@example.net";
    r.kind = MULE_DSN_NO_ROUTE;
    o.content = (const uint8_t *)evil;
    o.content_len = sizeof(evil) - 1;
    o.ret = BSMTP_RET_FULL;
    assert_int_equal(mule_dsn_build(&cfg, &o, &r, 1, NULL, NULL, &d), 0);
    assert_true(mule_hdr_get(d.content.data, d.content.len, "Content-Type", 0, false, ct,
                             sizeof(ct)));
    assert_non_null(strstr(ct, "boundary=\"=_mule_dsn-1relay.example_2\""));
    assert_int_equal(split_parts(&d, parts, 4), 3);
    assert_int_equal(parts[2].body_len, sizeof(evil) - 1);
    mule_dsn_fini(&d);
}

/* The DSN as a BSMTP payload parses back: <> and the sender. */
static void
test_mule_dsn_payload_roundtrip(void **state)
{
    mule_dsn d;
    buf b;
    bsmtp_envelope *env = NULL;
    size_t off;

    (void)state;
    assert_int_equal(build_one(MULE_DSN_NO_ROUTE, 0, &d), 0);
    buf_init(&b, NULL, SIZE_MAX);
    assert_int_equal(mule_dsn_payload(&d, &b), 0);
    assert_memory_equal(b.data, "<>\r\n<from@example.com>\r\n\r\nFrom: Mail Delivery", 44);
    assert_int_equal(bsmtp_payload_parse(b.data, b.len, NULL, NULL, &env, &off), 0);
    assert_string_equal(env->reverse_path, "");
    assert_int_equal(env->rcpt_cnt, 1);
    assert_int_equal(b.len - off, d.content.len);
    bsmtp_envelope_free(env);
    buf_fini(&b);
    mule_dsn_fini(&d);
}

/* 8-bit content (returned whole) makes the DSN BODY=8BITMIME, and SMTPUTF8
 * carries over so that a UTF-8 sender can be the recipient. */
static void
test_mule_dsn_8bit_and_smtputf8(void **state)
{
    static const char msg8[] = "Subject: caf\xc3\xa9\r\n\r\nna\xc3\xafve\r\n";
    mule_dsn_orig o = orig_default();
    mule_dsn_rcpt r;
    mule_dsn d;
    struct part parts[4];

    (void)state;
    memset(&r, 0, sizeof(r));
    r.addr = "j\xc3\xb8rn@example.net";
    r.kind = MULE_DSN_NO_ROUTE;
    o.reverse_path = "s\xc3\xa9nder@example.com";
    o.smtputf8 = true;
    o.body = BSMTP_BODY_8BITMIME;
    o.content = (const uint8_t *)msg8;
    o.content_len = sizeof(msg8) - 1;
    assert_int_equal(mule_dsn_build(&cfg, &o, &r, 1, NULL, NULL, &d), 0);
    assert_true(d.env->mail.smtputf8);
    assert_int_equal(d.env->mail.body, BSMTP_BODY_8BITMIME);
    assert_string_equal(d.env->rcpts[0].addr, "s\xc3\xa9nder@example.com");
    split_parts(&d, parts, 4);
    assert_string_equal(parts[0].ctype, "text/plain; charset=utf-8");
    mule_dsn_fini(&d);
    /* Without SMTPUTF8 a UTF-8 address is refused as a caller bug. */
    o.smtputf8 = false;
    assert_int_equal(mule_dsn_build(&cfg, &o, &r, 1, NULL, NULL, &d), MULE_ERR_INVAL);
}

/* True when want[0..n) occurs in b. */
static bool
buf_has(const buf *b, const char *want, size_t n)
{
    size_t i;

    for (i = 0; i + n <= b->len; i++)
        if (memcmp(b->data + i, want, n) == 0)
            return true;
    return false;
}

/* Regression (fuzz_mule_relay): an original with bare LF lines, as RFC
 * 8494's own example is written, was returned with its bare LFs, so the
 * DSN was not all CRLF.  Both the whole message and the header section
 * now come back with CRLF lines (a stray CR too). */
static void
test_mule_dsn_bare_lf_returned_as_crlf(void **state)
{
    static const char lf_msg[] = "From: a@x.example\nSubject: s\r\n\nbody\rline\n";
    mule_dsn_orig o = orig_default();
    mule_dsn_rcpt r;
    mule_dsn d;
    size_t i;
    int round;

    (void)state;
    memset(&r, 0, sizeof(r));
    r.addr = "to1@example.net";
    r.kind = MULE_DSN_NO_ROUTE;
    o.content = (const uint8_t *)lf_msg;
    o.content_len = sizeof(lf_msg) - 1;
    for (round = 0; round < 2; round++) {
        o.ret = round == 0 ? BSMTP_RET_FULL : BSMTP_RET_HDRS;
        assert_int_equal(mule_dsn_build(&cfg, &o, &r, 1, NULL, NULL, &d), 0);
        assert_true(d.full == (round == 0));
        for (i = 0; i < d.content.len; i++) {
            if (d.content.data[i] == '\n' && (i == 0 || d.content.data[i - 1] != '\r'))
                fail_msg("round %d: bare LF at %zu", round, i);
            if (d.content.data[i] == '\r' &&
                (i + 1 == d.content.len || d.content.data[i + 1] != '\n'))
                fail_msg("round %d: bare CR at %zu", round, i);
        }
        assert_true(buf_has(&d.content,
                            round == 0 ? "From: a@x.example\r\nSubject: s\r\n\r\nbody\r\n"
                                         "line\r\n"
                                       : "From: a@x.example\r\nSubject: s\r\n\r\n--",
                            round == 0 ? 45 : 35));
        mule_dsn_fini(&d);
    }
}

/* Regression (fuzz_mule_relay): a failed recipient whose ORCPT is of
 * type utf-8 with UTF-8 octets (RFC 6533, accepted by bsmtp under
 * SMTPUTF8) made the DSN fail with MULE_ERR_INVAL, so no report went
 * out.  It is reported now; without SMTPUTF8 it is still refused. */
static void
test_mule_dsn_utf8_orcpt_not_refused(void **state)
{
    mule_dsn_orig o = orig_default();
    mule_dsn_rcpt r;
    mule_dsn d;

    (void)state;
    memset(&r, 0, sizeof(r));
    r.addr = "\xe7\x94\xa8@nowhere.example";
    r.orcpt = "utf-8;\xe7\x94\xa8@x";
    r.notify = BSMTP_NOTIFY_FAILURE;
    r.kind = MULE_DSN_NO_ROUTE;
    o.reverse_path = "\xc3\xbc@example.com";
    o.smtputf8 = true;
    assert_int_equal(mule_dsn_build(&cfg, &o, &r, 1, NULL, NULL, &d), 0);
    assert_true(buf_has(&d.content, "Original-Recipient: utf-8;\xe7\x94\xa8@x\r\n", 33));
    mule_dsn_fini(&d);
    o.smtputf8 = false;
    o.reverse_path = "u@example.com";
    r.addr = "u@nowhere.example";
    assert_int_equal(mule_dsn_build(&cfg, &o, &r, 1, NULL, NULL, &d), MULE_ERR_INVAL);
}

static void
test_mule_dsn_bad_arguments(void **state)
{
    mule_dsn_config c = cfg;
    mule_dsn_orig o = orig_default();
    mule_dsn_rcpt r;
    mule_dsn d;

    (void)state;
    memset(&r, 0, sizeof(r));
    r.addr = "to1@example.net";
    r.kind = MULE_DSN_NO_ROUTE;
    assert_int_equal(mule_dsn_build(&cfg, &o, &r, 0, NULL, NULL, &d), MULE_ERR_INVAL);
    assert_int_equal(mule_dsn_build(NULL, &o, &r, 1, NULL, NULL, &d), MULE_ERR_INVAL);
    assert_int_equal(mule_dsn_build(&cfg, &o, &r, 1, NULL, NULL, NULL), MULE_ERR_INVAL);
    c.reporting_mta = "relay.example\r\nBcc: x@y";
    assert_int_equal(mule_dsn_build(&c, &o, &r, 1, NULL, NULL, &d), MULE_ERR_INVAL);
    c = cfg;
    c.message_id = NULL;
    assert_int_equal(mule_dsn_build(&c, &o, &r, 1, NULL, NULL, &d), MULE_ERR_INVAL);
    r.status = "5.1";
    assert_int_equal(mule_dsn_build(&cfg, &o, &r, 1, NULL, NULL, &d), MULE_ERR_INVAL);
    r.status = "3.1.1";
    assert_int_equal(mule_dsn_build(&cfg, &o, &r, 1, NULL, NULL, &d), MULE_ERR_INVAL);
    r.status = "5.7.1";
    assert_int_equal(mule_dsn_build(&cfg, &o, &r, 1, NULL, NULL, &d), 0);
    mule_dsn_fini(&d);
    r.status = NULL;
    r.kind = (enum mule_dsn_kind)99;
    assert_int_equal(mule_dsn_build(&cfg, &o, &r, 1, NULL, NULL, &d), MULE_ERR_INVAL);
    r.kind = MULE_DSN_NO_ROUTE;
    o.arrival_date = NULL;
    assert_int_equal(mule_dsn_build(&cfg, &o, &r, 1, NULL, NULL, &d), MULE_ERR_INVAL);
}

static void
test_mule_dsn_out_cap(void **state)
{
    mule_dsn_config c = cfg;
    mule_dsn_orig o = orig_default();
    mule_dsn_rcpt r;
    mule_dsn d;

    (void)state;
    memset(&r, 0, sizeof(r));
    r.addr = "to1@example.net";
    r.kind = MULE_DSN_NO_ROUTE;
    c.out_max = 300;
    assert_int_equal(mule_dsn_build(&c, &o, &r, 1, NULL, NULL, &d), MULE_ERR_NOSPACE);
    assert_null(d.env);
}

static void
test_mule_dsn_alloc_failure(void **state)
{
    struct tmem tm = { false, 0, 0 };
    mem m = tmem_make(&tm);
    mule_dsn_orig o = orig_default();
    mule_dsn_rcpt r;
    mule_dsn d;
    long total, k;
    int rc;

    (void)state;
    memset(&r, 0, sizeof(r));
    r.addr = "to1@example.net";
    r.kind = MULE_DSN_REJECTED;
    r.reply = "550 5.1.1 no";
    r.orcpt = "rfc822;to1@example.net";
    assert_int_equal(mule_dsn_build(&cfg, &o, &r, 1, &m, NULL, &d), 0);
    mule_dsn_fini(&d);
    total = tm.calls;
    for (k = 0; k < total; k++) {
        tm.armed = true;
        tm.left = k;
        rc = mule_dsn_build(&cfg, &o, &r, 1, &m, NULL, &d);
        tm.armed = false;
        /* An allocation whose failure has a fallback (xtext decoding)
         * may still succeed; everything else must be NOMEM. */
        if (rc != MULE_ERR_NOMEM && rc != 0)
            fail_msg("fail at alloc %ld: got %s, want NOMEM", k, mule_errname(rc));
        mule_dsn_fini(&d);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mule_dsn_kind_no_route),
        cmocka_unit_test(test_mule_dsn_kind_expired),
        cmocka_unit_test(test_mule_dsn_kind_delayed),
        cmocka_unit_test(test_mule_dsn_kind_discarded),
        cmocka_unit_test(test_mule_dsn_kind_loop),
        cmocka_unit_test(test_mule_dsn_kind_delivered),
        cmocka_unit_test(test_mule_dsn_kind_relayed),
        cmocka_unit_test(test_mule_dsn_kind_deleted),
        cmocka_unit_test(test_mule_dsn_rejected_by_mta),
        cmocka_unit_test(test_mule_dsn_notify_rules),
        cmocka_unit_test(test_mule_dsn_notify_filters_recipients),
        cmocka_unit_test(test_mule_dsn_null_sender),
        cmocka_unit_test(test_mule_dsn_ret_rules),
        cmocka_unit_test(test_mule_dsn_envid),
        cmocka_unit_test(test_mule_dsn_boundary_avoids_content),
        cmocka_unit_test(test_mule_dsn_payload_roundtrip),
        cmocka_unit_test(test_mule_dsn_8bit_and_smtputf8),
        cmocka_unit_test(test_mule_dsn_bare_lf_returned_as_crlf),
        cmocka_unit_test(test_mule_dsn_utf8_orcpt_not_refused),
        cmocka_unit_test(test_mule_dsn_bad_arguments),
        cmocka_unit_test(test_mule_dsn_out_cap),
        cmocka_unit_test(test_mule_dsn_alloc_failure),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
