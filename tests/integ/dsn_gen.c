/*
 * dsn_gen.c: write one DSN of each kind for tests/integ/check_dsn.py.
 *
 * Usage: dsn_gen OUTDIR
 *
 * For each case it writes OUTDIR/<name>.eml (the RFC 5322 DSN content),
 * OUTDIR/<name>.bsmtp (the DSN as a BSMTP-like MULE payload), and one
 * line per case to OUTDIR/manifest.json (a JSON array) with what the
 * checker must find: Action/Status/Final-Recipient per recipient, the
 * Original-Envelope-Id, the type of the returned part and the sender.
 * Exit status 0 when every case was built and written.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mule/mule_dsn.h"
#include "mule/mule_err.h"
#include "mule/mule_relay.h"

static const char small_msg[] =
    "Received: from mua.example by msa.example with ESMTPSA id 1;\r\n"
    "\tMon, 1 Jan 2024 08:00:00 +0000\r\n"
    "From: Sender <from@example.com>\r\n"
    "To: To1 <to1@example.net>, To2 <to2@example.net>\r\n"
    "Date: Mon, 1 Jan 2024 08:00:00 +0000\r\n"
    "Subject: a test\r\n"
    "Message-ID: <orig-1@example.com>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=us-ascii\r\n"
    "\r\n"
    "This is the body.\r\n"
    "--=_mule_dsn-0relay.example_0\r\n"
    "A line that looks like the first boundary candidate.\r\n";

static const char utf8_msg[] =
    "From: Sender <from@example.com>\r\n"
    "To: bob@example.net\r\n"
    "Subject: a test\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "\r\n"
    "Caf\xc3\xa9 na\xc3\xafve\r\n";

struct rc_exp {
    const char *addr;
    const char *orcpt;
    unsigned notify;
    enum mule_dsn_kind kind;
    const char *reply;
    const char *remote;
    const char *want_status;    /* NULL: mule_dsn_default_status(kind) */
    int reported;               /* expected in the DSN */
};

struct dcase {
    const char *name;
    const char *envid;
    enum bsmtp_ret ret;
    enum bsmtp_body body;
    const char *msg;
    size_t full_max;
    const char *want_part3;
    struct rc_exp r[4];
    size_t cnt;
};

static char big_msg[64 * 1024];

static int
write_file(const char *dir, const char *name, const char *ext, const void *p, size_t n)
{
    char path[4096];
    FILE *f;
    int ok;

    if (snprintf(path, sizeof(path), "%s/%s%s", dir, name, ext) >= (int)sizeof(path))
        return -1;
    f = fopen(path, "wb");
    if (f == NULL) {
        fprintf(stderr, "dsn_gen: %s: %s\n", path, strerror(errno));
        return -1;
    }
    ok = fwrite(p, 1, n, f) == n;
    if (fclose(f) != 0)
        ok = 0;
    return ok ? 0 : -1;
}

/* JSON string (our own ASCII test data; only quotes and backslashes). */
static void
jstr(FILE *f, const char *s)
{
    if (s == NULL) {
        fputs("null", f);
        return;
    }
    fputc('"', f);
    for (; *s != '\0'; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static int
run_case(const char *dir, const struct dcase *c, FILE *man, int first)
{
    mule_dsn_config cfg = { "relay.example", "Tue, 2 Jan 2024 10:00:00 +0000",
                            "<dsn-0@relay.example>", c->full_max, 0 };
    mule_dsn_orig o;
    mule_dsn_rcpt r[4];
    mule_dsn d;
    buf b;
    size_t i;
    int rc;

    memset(&o, 0, sizeof(o));
    o.reverse_path = "from@example.com";
    o.envid = c->envid;
    o.ret = c->ret;
    o.body = c->body;
    o.arrival_date = "Mon, 1 Jan 2024 08:00:05 +0000";
    o.content = (const uint8_t *)c->msg;
    o.content_len = strlen(c->msg);
    memset(r, 0, sizeof(r));
    for (i = 0; i < c->cnt; i++) {
        r[i].addr = c->r[i].addr;
        r[i].orcpt = c->r[i].orcpt;
        r[i].notify = c->r[i].notify;
        r[i].kind = c->r[i].kind;
        r[i].reply = c->r[i].reply;
        r[i].remote_mta = c->r[i].remote;
    }
    rc = mule_dsn_build(&cfg, &o, r, c->cnt, NULL, NULL, &d);
    if (rc != 0) {
        fprintf(stderr, "dsn_gen: %s: %s\n", c->name, mule_strerror(rc));
        return -1;
    }
    buf_init(&b, NULL, SIZE_MAX);
    rc = mule_dsn_payload(&d, &b);
    if (rc != 0 || write_file(dir, c->name, ".eml", d.content.data, d.content.len) != 0 ||
        write_file(dir, c->name, ".bsmtp", b.data, b.len) != 0) {
        buf_fini(&b);
        mule_dsn_fini(&d);
        return -1;
    }
    buf_fini(&b);
    mule_dsn_fini(&d);

    fprintf(man, "%s\n {\"name\": ", first ? "" : ",");
    jstr(man, c->name);
    fputs(", \"sender\": \"from@example.com\", \"envid\": ", man);
    jstr(man, c->envid);
    fputs(", \"part3\": ", man);
    jstr(man, c->want_part3);
    fputs(", \"subject\": \"a test\", \"rcpts\": [", man);
    first = 1;
    for (i = 0; i < c->cnt; i++) {
        if (!c->r[i].reported)
            continue;
        fprintf(man, "%s{\"final\": ", first ? "" : ", ");
        jstr(man, c->r[i].addr);
        fputs(", \"action\": ", man);
        jstr(man, mule_dsn_action(c->r[i].kind));
        fputs(", \"status\": ", man);
        jstr(man, c->r[i].want_status != NULL ? c->r[i].want_status
                                              : mule_dsn_default_status(c->r[i].kind));
        fputs(", \"remote\": ", man);
        jstr(man, c->r[i].remote);
        fputs("}", man);
        first = 0;
    }
    fputs("]}", man);
    return 0;
}

int
main(int argc, char **argv)
{
    const struct dcase cases[] = {
        { "no_route", "QQ314159", BSMTP_RET_NONE, BSMTP_BODY_NONE, small_msg, 0, "message/rfc822",
          { { "to1@nowhere.test", "rfc822;to1@nowhere.test", 0, MULE_DSN_NO_ROUTE, NULL, NULL,
              NULL, 1 } }, 1 },
        { "expired", "ENV+2Bexp", BSMTP_RET_FULL, BSMTP_BODY_NONE, small_msg, 0, "message/rfc822",
          { { "to1@example.net", NULL, BSMTP_NOTIFY_FAILURE, MULE_DSN_EXPIRED, NULL, NULL, NULL,
              1 } }, 1 },
        { "delayed", "D1", BSMTP_RET_FULL, BSMTP_BODY_NONE, small_msg, 0, "text/rfc822-headers",
          { { "to1@example.net", NULL, BSMTP_NOTIFY_DELAY, MULE_DSN_DELAYED, NULL, NULL, NULL,
              1 } }, 1 },
        { "discarded", NULL, BSMTP_RET_HDRS, BSMTP_BODY_NONE, small_msg, 0, "text/rfc822-headers",
          { { "to1@example.net", NULL, 0, MULE_DSN_DISCARDED, NULL, NULL, NULL, 1 } }, 1 },
        { "loop", "L1", BSMTP_RET_NONE, BSMTP_BODY_NONE, small_msg, 0, "message/rfc822",
          { { "to1@example.net", NULL, 0, MULE_DSN_LOOP, NULL, NULL, NULL, 1 } }, 1 },
        { "rejected", "R1", BSMTP_RET_HDRS, BSMTP_BODY_NONE, small_msg, 0, "text/rfc822-headers",
          { { "bob@example.net", "rfc822;Bob@enterprise.example.net", 0, MULE_DSN_REJECTED,
              "550 5.1.1 <bob@example.net>: Recipient address rejected: User unknown",
              "mx.example.net", "5.1.1", 1 },
            { "carol@example.net", NULL, 0, MULE_DSN_REJECTED, "452 4.2.2 Mailbox full",
              "mx.example.net", "4.2.2", 1 } }, 2 },
        { "delivered", "S1", BSMTP_RET_FULL, BSMTP_BODY_NONE, small_msg, 0, "text/rfc822-headers",
          { { "to1@example.net", NULL, BSMTP_NOTIFY_SUCCESS, MULE_DSN_DELIVERED,
              "250 2.0.0 Ok: queued as 4F2A", "mx.example.net", "2.0.0", 1 } }, 1 },
        { "relayed", NULL, BSMTP_RET_NONE, BSMTP_BODY_NONE, small_msg, 0, "text/rfc822-headers",
          { { "to1@example.net", NULL, BSMTP_NOTIFY_SUCCESS | BSMTP_NOTIFY_FAILURE,
              MULE_DSN_RELAYED, NULL, NULL, NULL, 1 } }, 1 },
        { "mixed_notify", "M1", BSMTP_RET_NONE, BSMTP_BODY_NONE, small_msg, 0, "message/rfc822",
          { { "never@example.net", NULL, BSMTP_NOTIFY_NEVER, MULE_DSN_NO_ROUTE, NULL, NULL,
              NULL, 0 },
            { "fail@nowhere.test", NULL, 0, MULE_DSN_NO_ROUTE, NULL, NULL, NULL, 1 },
            { "ok@example.net", NULL, BSMTP_NOTIFY_SUCCESS, MULE_DSN_DELIVERED, NULL, NULL,
              NULL, 1 },
            { "quiet@example.net", NULL, BSMTP_NOTIFY_FAILURE, MULE_DSN_DELIVERED, NULL, NULL,
              NULL, 0 } }, 4 },
        { "large_no_ret", "B1", BSMTP_RET_NONE, BSMTP_BODY_NONE, big_msg, 1024,
          "text/rfc822-headers",
          { { "to1@nowhere.test", NULL, 0, MULE_DSN_NO_ROUTE, NULL, NULL, NULL, 1 } }, 1 },
        { "eightbit", "U1", BSMTP_RET_FULL, BSMTP_BODY_8BITMIME, utf8_msg, 0, "message/rfc822",
          { { "bob@example.net", NULL, 0, MULE_DSN_EXPIRED, NULL, NULL, NULL, 1 } }, 1 },
    };
    FILE *man;
    char path[4096];
    size_t i, off;
    int failed = 0;

    if (argc != 2) {
        fprintf(stderr, "usage: dsn_gen OUTDIR\n");
        return 2;
    }
    /* A large message (RET absent: only its headers come back). */
    off = (size_t)snprintf(big_msg, sizeof(big_msg), "%s",
                           "From: from@example.com\r\nSubject: a test\r\n\r\n");
    while (off + 80 < sizeof(big_msg)) {
        memset(big_msg + off, 'x', 76);
        memcpy(big_msg + off + 76, "\r\n", 2);
        off += 78;
    }
    big_msg[off] = '\0';
    if (snprintf(path, sizeof(path), "%s/manifest.json", argv[1]) >= (int)sizeof(path))
        return 1;
    man = fopen(path, "w");
    if (man == NULL) {
        fprintf(stderr, "dsn_gen: %s: %s\n", path, strerror(errno));
        return 1;
    }
    fputs("[", man);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (run_case(argv[1], &cases[i], man, i == 0) != 0)
            failed = 1;
    fputs("\n]\n", man);
    if (fclose(man) != 0)
        failed = 1;
    return failed;
}
