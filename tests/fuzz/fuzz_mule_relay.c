/*
 * NAME
 *	fuzz_mule_relay - libFuzzer target for the MULE relay pipeline
 * SYNOPSIS
 *	fuzz_mule_relay [libFuzzer options] CORPUS_DIR...
 * DESCRIPTION
 *	Everything a MULE node runs on a received payload, driven by one
 *	input:
 *
 *	    flags(1) now(1) situation(1) knob(1) payload(rest)
 *
 *	flags bits 0-2 pick the P_MUL destinations of the inbound message
 *	(in_dests: NULL, i.e. from SMTP, or one of seven lists with and
 *	without this node), bit 3 asks for CompressedData output, bit 4
 *	sets tiny bsmtp limits and a small payload cap, bit 5 leaves out
 *	"from" and "id", bit 6 fails every allocation after `knob` of them,
 *	bit 7 sets max_hops to 1 + (knob & 7).  `now` moves the clock by
 *	hours; `situation` bits 0-3 choose how long ago the message arrived
 *	(so BY;R and BY;N deadlines pass or not), bit 4 a small DSN
 *	full_max, bit 5 a small DSN out_max, bit 7 the routing table
 *	without a default route.
 *
 *	For each input: mule_hdr on the payload bytes as if they were a
 *	message (section, fields, unfold at several output sizes, counts,
 *	submission date, the MT-Priority field with a truncation loop); mule_relay_run(); mule_relay_dsn() and
 *	mule_dsn_payload() when there are notes; mule_gw_to_smtp() for the
 *	local part and every output; mule_audit records in and out.
 *
 *	Invariants (a failure prints and traps, so libFuzzer keeps the
 *	input): no crash or sanitizer report; every allocation returned
 *	(counting allocator); only documented return codes; every output
 *	payload (inflated first when compressed) parses again with
 *	bsmtp_payload_parse() to exactly its recipients and the traced
 *	content, and respects the payload cap; node lists ascending without
 *	this node or an inbound addressee; each recipient is relayed, local,
 *	failed or skipped exactly once; the DSN has CRLF line ends only, a
 *	boundary that does not occur in the returned content, and parses
 *	as a payload from <>; SMTP command lines carry no CR or LF; audit
 *	lines are printable ASCII on one line; unfolded header values are
 *	NUL-terminated, bounded and free of controls.
 *
 *	Seeds: tests/fuzz/seeds_mule_relay.py (the RFC 8494 example payload
 *	inflated from vectors.json, and payloads for loops, deadlines,
 *	SMTPUTF8, DSN requests and odd header sections).
 * SECURITY
 *	Test code: the inputs are hostile on purpose.
 * DIAGNOSTICS
 *	A broken invariant prints what differs and traps.
 * SEE ALSO
 *	mule/mule_relay.h, mule/mule_hdr.h, mule/mule_dsn.h, mule/mule_gw.h,
 *	mule/mule_audit.h, tests/fuzz/fuzz_common.h,
 *	tests/fuzz/meson.build.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bsmtp/bsmtp_payload.h"
#include "mule/mule_audit.h"
#include "mule/mule_cdt.h"
#include "mule/mule_dsn.h"
#include "mule/mule_err.h"
#include "mule/mule_gw.h"
#include "mule/mule_hdr.h"
#include "mule/mule_relay.h"
#include "mule/mule_route.h"

#define FUZZ_NAME "fuzz_mule_relay"
#include "tests/fuzz/fuzz_common.h"

#define SELF    0xc6120001u     /* 198.18.0.1 */
#define N2      0xc6120002u
#define N3      0xc6120003u
#define N4      0xc6120004u
#define N5      0xc6120005u
#define NOW0    1704189600      /* Tue, 2 Jan 2024 10:00:00 +0000 */
#define DATE    "Tue, 2 Jan 2024 10:00:00 +0000"

/* ---- fixtures ------------------------------------------------------------ */

static const char routes_with_default[] =
    "route a.example     group 239.1.1.1 nodes 198.18.0.2\n"
    "route .b.example    group 239.1.1.2 nodes 198.18.0.3,198.18.0.4\n"
    "route c.example     group 239.1.1.1 nodes 198.18.0.2\n"
    "route d.example     group 239.1.1.3 nodes 198.18.0.5\n"
    "route here.example  local\n"
    "route self.example  group 239.1.1.1 nodes 198.18.0.1,198.18.0.2\n"
    "route example.net   group 239.1.1.4 nodes 198.18.0.2,198.18.0.3\n"
    "route .example.net  group 239.1.1.4 nodes 198.18.0.5\n"
    "route [192.0.2.1]   local\n"
    "default group 239.9.9.9 nodes 198.18.0.4\n";

static const uint32_t dests_1[] = { SELF };
static const uint32_t dests_2[] = { SELF, N2 };
static const uint32_t dests_3[] = { N2 };
static const uint32_t dests_4[] = { N2, N3 };
static const uint32_t dests_5[] = { SELF, N2, N3, N4 };
static const uint32_t dests_6[] = { N5 };
static const uint32_t dests_7[] = { SELF, N5 };
static const struct { const uint32_t *v; size_t n; } in_dests[8] = {
    { NULL, 0 }, { dests_1, 1 }, { dests_2, 2 }, { dests_3, 1 },
    { dests_4, 2 }, { dests_5, 4 }, { dests_6, 1 }, { dests_7, 2 },
};

/* How long ago the message arrived (seconds). */
static const int64_t ago_s[16] = {
    0, 1, 5, 59, 60, 61, 599, 600, 601, 3600, 86399, 86400, 86401, 999999998,
    999999999, 1000000000,
};

static mule_route_table *tables[2];

static void
setup(void)
{
    size_t n;

    if (tables[0] != NULL)
        return;
    /* The table without a default is the first lines of the other. */
    n = (size_t)(strstr(routes_with_default, "default") - routes_with_default);
    CHECK(mule_route_table_parse(routes_with_default, sizeof(routes_with_default) - 1, NULL,
                                 NULL, &tables[0], NULL) == 0, "table 0");
    CHECK(mule_route_table_parse(routes_with_default, n, NULL, NULL, &tables[1], NULL) == 0,
          "table 1");
}

/* ---- helpers -------------------------------------------------------------- */

static void
check_printable_line(const char *what, const char *s, size_t len)
{
    size_t i;

    CHECK(strlen(s) == len, "%s: length %zu, strlen %zu", what, len, strlen(s));
    for (i = 0; i < len; i++)
        CHECK((unsigned char)s[i] >= 0x20 && (unsigned char)s[i] != 0x7f,
              "%s: octet 0x%02x at %zu", what, (unsigned char)s[i], i);
}

/* mule_hdr over arbitrary bytes taken as a message. */
static void
fuzz_hdr(const uint8_t *msg, size_t len)
{
    static const size_t outlens[] = { 1, 2, 7, 64, 1000 };
    char out[1000];
    size_t hl, bo, k, n, fields = 0;
    mule_hdr_iter it;
    mule_hdr_field f;
    bool cut;

    mule_hdr_section(msg, len, &hl, &bo);
    CHECK(hl <= bo && bo <= len, "section hl=%zu bo=%zu len=%zu", hl, bo, len);
    mule_hdr_iter_init(&it, msg, len);
    while (mule_hdr_next(&it, &f)) {
        fields++;
        CHECK(f.name_len >= 1 && f.name >= msg && f.name + f.name_len <= msg + hl,
              "field name outside the header");
        CHECK(f.raw >= f.name + f.name_len && f.raw + f.raw_len <= msg + hl,
              "field value outside the header");
        for (k = 0; k < sizeof(outlens) / sizeof(outlens[0]); k++) {
            n = mule_hdr_unfold(f.raw, f.raw_len, (k & 1) != 0, out, outlens[k], &cut);
            CHECK(n < outlens[k] && out[n] == '\0', "unfold n=%zu outlen=%zu", n, outlens[k]);
            check_printable_line("unfold", out, n);
            CHECK(n == 0 || (out[0] != ' ' && out[n - 1] != ' '), "unfold: blank at an end");
        }
    }
    CHECK(fields == 0 || hl > 0, "fields without a header section");
    CHECK(mule_hdr_count(msg, len, "Received") <= fields, "count");
    if (mule_hdr_get(msg, len, "Message-ID", 0, true, out, 256))
        check_printable_line("get", out, strlen(out));
    if (mule_hdr_get(msg, len, "Subject", 1, false, out, 9))
        CHECK(strlen(out) < 9, "get cut");
    if (mule_hdr_submission_date(msg, len, out, sizeof(out))) {
        int64_t t;

        check_printable_line("date", out, strlen(out));
        /* Any accepted date-time lies in years 1900..9999 (+-1 day of zone). */
        if (mule_hdr_parse_date(out, &t))
            CHECK(t >= -2209075200LL - 86400 && t <= 253402300800LL + 86400, "date %lld",
                  (long long)t);
    }
    {
        int64_t t;

        /* The date parser on the raw bytes too, as one string. */
        n = len < sizeof(out) - 1 ? len : sizeof(out) - 1;
        memcpy(out, msg, n);
        out[n] = '\0';
        if (mule_hdr_parse_date(out, &t))
            CHECK(t >= -2209075200LL - 86400 && t <= 253402300800LL + 86400, "raw date %lld",
                  (long long)t);
        if (mule_hdr_mule_trace_time(msg, len, &t))
            CHECK(t >= -2209075200LL - 86400 && t <= 253402300800LL + 86400,
                  "trace date %lld", (long long)t);
    }
    {
        int prio = 99;
        if (mule_hdr_mt_priority(msg, len, &prio))
            CHECK(prio >= -9 && prio <= 9, "MT-Priority %d", prio);
        /* Truncation loop: a prefix never yields a value out of range. */
        for (k = 0; k < len && k < 256; k++)
            if (mule_hdr_mt_priority(msg, k, &prio))
                CHECK(prio >= -9 && prio <= 9, "MT-Priority prefix %d", prio);
    }
}

/* The DSN for res: CRLF only, a boundary foreign to the content, and a
 * payload from <> to the original sender that parses again. */
static void
check_dsn(const mule_relay_result *res, const mule_dsn *d)
{
    const uint8_t *c = d->content.data, *b, *e;
    size_t len = d->content.len, i, off = 0, n, dl;
    char delim[100], close[110];
    bsmtp_envelope *env = NULL;
    buf pb;

    for (i = 0; i < len; i++) {
        if (c[i] == '\n')
            CHECK(i > 0 && c[i - 1] == '\r', "DSN: bare LF at %zu of %zu", i, len);
        if (c[i] == '\r')
            CHECK(i + 1 < len && c[i + 1] == '\n', "DSN: bare CR at %zu of %zu", i, len);
    }
    b = NULL;
    for (i = 0; i + 10 <= len; i++)
        if (memcmp(c + i, "boundary=\"", 10) == 0) {
            b = c + i + 10;
            break;
        }
    CHECK(b != NULL, "DSN: no boundary parameter");
    e = memchr(b, '"', len - (size_t)(b - c));
    CHECK(e != NULL && e > b && (size_t)(e - b) < 90, "DSN: bad boundary");
    snprintf(delim, sizeof(delim), "--%.*s", (int)(e - b), (const char *)b);
    snprintf(close, sizeof(close), "\r\n%s--\r\n", delim);
    /* In the body (the top-level header, where To: holds the sender's
     * address, is not searched by MIME parsers) the delimiter occurs only
     * as a delimiter line: the DSN's own two or three parts and the
     * close, never inside the returned content. */
    n = 0;
    dl = strlen(delim);
    for (i = 0; i + 4 <= len && memcmp(c + i, "\r\n\r\n", 4) != 0; i++)
        ;
    for (; i + dl <= len; i++) {
        if (memcmp(c + i, delim, dl) != 0)
            continue;
        n++;
        CHECK(i >= 2 && c[i - 2] == '\r' && c[i - 1] == '\n' &&
              ((i + dl + 2 <= len && memcmp(c + i + dl, "\r\n", 2) == 0) ||
               (i + dl + 4 == len && memcmp(c + i + dl, "--\r\n", 4) == 0)),
              "DSN: boundary %s inside a part at %zu", delim, i);
    }
    CHECK(n >= 3 && n <= 4, "DSN: %zu delimiters", n);
    (void)res;
    CHECK(len >= strlen(close) && memcmp(c + len - strlen(close), close, strlen(close)) == 0,
          "DSN: does not end with the closing delimiter");
    CHECK(d->env != NULL && d->env->reverse_path[0] == '\0' && d->env->rcpt_cnt == 1,
          "DSN: envelope");
    buf_init(&pb, NULL, SIZE_MAX);
    CHECK(mule_dsn_payload(d, &pb) == 0, "DSN payload");
    CHECK(bsmtp_payload_parse(pb.data, pb.len, NULL, NULL, &env, &off) == 0,
          "DSN payload does not parse");
    CHECK(env->rcpt_cnt == 1 && pb.len - off == len && memcmp(pb.data + off, c, len) == 0,
          "DSN payload content");
    bsmtp_envelope_free(env);
    buf_fini(&pb);
}

/* One output: nodes, payload parse-back, cap. */
static void
check_out(const mule_relay_result *res, const mule_relay_out *o, const mule_relay_input *in,
          size_t cap)
{
    static const bsmtp_limits wide = { 1u << 20, 1u << 20, 1u << 20, SIZE_MAX };
    bsmtp_envelope *env = NULL;
    size_t i, off = 0;
    buf raw;
    int rc;

    CHECK(o->node_cnt >= 1 && o->rcpt_cnt >= 1, "empty output");
    for (i = 0; i < o->node_cnt; i++) {
        CHECK(i == 0 || o->nodes[i - 1] < o->nodes[i], "nodes not ascending");
        CHECK(o->nodes[i] != SELF, "sends to itself");
        if (in->in_dests != NULL)
            for (size_t k = 0; k < in->in_dest_cnt; k++)
                CHECK(o->nodes[i] != in->in_dests[k], "sends to an inbound addressee");
    }
    CHECK(cap == 0 || o->payload.len <= cap, "payload %zu over cap %zu", o->payload.len, cap);
    CHECK(o->priority <= MULE_RELAY_PRIORITY_MAX, "priority");
    buf_init(&raw, NULL, SIZE_MAX);
    if (o->compressed) {
        rc = mule_cdt_decode(NULL, NULL, o->payload.data, o->payload.len, &raw, NULL);
        CHECK(rc == 0, "own CompressedData does not decode: %s", mule_errname(rc));
    } else {
        CHECK(buf_append(&raw, o->payload.data, o->payload.len) == 0, "copy");
    }
    rc = bsmtp_payload_parse(raw.data, raw.len, &wide, NULL, &env, &off);
    CHECK(rc == 0, "output payload does not parse: %s", bsmtp_errname(rc));
    CHECK(env->rcpt_cnt == o->rcpt_cnt, "rcpts %zu, want %zu", env->rcpt_cnt, o->rcpt_cnt);
    for (i = 0; i < o->rcpt_cnt; i++) {
        CHECK(o->rcpt_idx[i] < res->env->rcpt_cnt, "rcpt index");
        CHECK(strcmp(env->rcpts[i].addr, res->env->rcpts[o->rcpt_idx[i]].addr) == 0,
              "rcpt %zu differs", i);
    }
    CHECK(strcmp(env->reverse_path, res->env->reverse_path) == 0, "reverse path differs");
    CHECK(raw.len - off == res->content.len &&
          memcmp(raw.data + off, res->content.data, res->content.len) == 0, "content differs");
    bsmtp_envelope_free(env);
    buf_fini(&raw);
}

static void
check_txn(const mule_smtp_txn *t, size_t cnt)
{
    size_t i;

    CHECK(strncmp(t->mail_from, "MAIL FROM:<", 11) == 0, "MAIL line");
    CHECK(strpbrk(t->mail_from, "\r\n") == NULL, "CR/LF in MAIL line");
    CHECK(t->rcpt_cnt == cnt, "txn rcpts");
    for (i = 0; i < t->rcpt_cnt; i++) {
        CHECK(strncmp(t->rcpt_to[i], "RCPT TO:<", 9) == 0, "RCPT line");
        CHECK(strpbrk(t->rcpt_to[i], "\r\n") == NULL, "CR/LF in RCPT line");
    }
}

static void
audit(enum mule_audit_dir dir, enum mule_audit_outcome oc, const bsmtp_envelope *env,
      const size_t *idx, size_t cnt, const uint8_t *content, size_t len, const char *peer)
{
    static char line[MULE_AUDIT_LINE_MAX];
    mule_audit_rec r;
    ssize_t n;

    mule_audit_init(&r, dir, oc, NOW0);
    mule_audit_set_message(&r, env, idx, cnt, content, len);
    MULE_AUDIT_SET(&r, peer, peer);
    MULE_AUDIT_SET(&r, id, "42");
    n = mule_audit_format(&r, line, sizeof(line));
    CHECK(n > 0 && (size_t)n < sizeof(line), "audit format: %zd", n);
    for (ssize_t i = 0; i < n; i++)
        CHECK((unsigned char)line[i] >= 0x20 && (unsigned char)line[i] < 0x7f,
              "audit: octet 0x%02x", (unsigned char)line[i]);
    check_printable_line("audit", line, (size_t)n);
}

/* ---- the target ------------------------------------------------------------ */

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const bsmtp_limits tiny = { 128, 3, 3, 512 };
    struct tmem cm;
    mem m = tmem_make(&cm);
    uint8_t flags, nowb, sit, knob;
    mule_relay_config cfg;
    mule_relay_input in;
    mule_relay_result res;
    mule_cdt_config cc;
    mule_dsn_config dc;
    mule_dsn d;
    mule_smtp_txn txn;
    size_t i, sum;
    bool failing;
    int rc;

    cm.max_len = (size_t)256 << 20;
    setup();
    if (size < 4)
        return 0;
    flags = data[0];
    nowb = data[1];
    sit = data[2];
    knob = data[3];
    data += 4;
    size -= 4;
    failing = (flags & 0x40) != 0;

    fuzz_hdr(data, size);

    mule_cdt_config_init(&cc);
    memset(&cfg, 0, sizeof(cfg));
    cfg.hostname = "relay.example";
    cfg.node_id = SELF;
    cfg.cdt = (flags & 0x08) ? &cc : NULL;
    cfg.limits = (flags & 0x10) ? &tiny : NULL;
    cfg.payload_max = (flags & 0x10) ? 700 : 0;
    cfg.max_hops = (flags & 0x80) ? 1u + (knob & 7u) : 0;
    memset(&in, 0, sizeof(in));
    in.payload = size > 0 ? data : (const uint8_t *)"";
    in.payload_len = size;
    in.from = (flags & 0x20) ? NULL : "198.18.0.9";
    in.id = (flags & 0x20) ? NULL : "42";
    in.now_s = NOW0 + (int64_t)nowb * 3600;
    in.now_date = DATE;
    in.arrival_s = in.now_s - ago_s[sit & 15];
    in.in_dests = in_dests[flags & 7].v;
    in.in_dest_cnt = in_dests[flags & 7].n;

    if (failing) {
        cm.armed = true;
        cm.left = knob;
    }
    rc = mule_relay_run(&cfg, tables[(sit >> 7) & 1], &in, &m, NULL, &res);
    CHECK(rc == 0 || rc == MULE_ERR_NOT_RESPONSIBLE || bsmtp_is_err(rc) ||
          rc == MULE_ERR_NOSPACE || (failing && rc == MULE_ERR_NOMEM),
          "relay: %s", mule_errname(rc));
    if (rc != 0) {
        CHECK(cm.live == 0, "relay failed with %ld blocks live", cm.live);
        if (!failing)
            audit(MULE_AUDIT_IN, rc == MULE_ERR_NOT_RESPONSIBLE ? MULE_AUDIT_NOT_RESPONSIBLE
                                                                : MULE_AUDIT_MALFORMED,
                  NULL, NULL, 0, data, size, in.from);
        return 0;
    }

    /* The result: every recipient has exactly one fate. */
    CHECK(res.env != NULL && res.content.len >= 10 &&
          memcmp(res.content.data, "Received:", 9) == 0, "traced content");
    sum = res.local_cnt + res.failed_cnt + res.skipped_cnt;
    for (i = 0; i < res.out_cnt; i++) {
        sum += res.outs[i].rcpt_cnt;
        check_out(&res, &res.outs[i], &in, cfg.payload_max);
    }
    CHECK(sum == res.env->rcpt_cnt, "fates %zu for %zu recipients", sum, res.env->rcpt_cnt);
    CHECK(res.note_cnt <= res.env->rcpt_cnt, "notes");
    for (i = 0; i < res.note_cnt; i++)
        CHECK(res.notes[i].rcpt_idx < res.env->rcpt_cnt, "note index");
    CHECK((res.local_cnt > 0) == (res.local_env != NULL), "local part");
    if (res.local_env != NULL)
        CHECK(res.local_env->rcpt_cnt == res.local_cnt, "local rcpts");

    audit(MULE_AUDIT_IN, MULE_AUDIT_ACCEPTED, res.env, NULL, 0, res.content.data,
          res.content.len, in.from);

    /* Section 5: the local part to SMTP, and every output as if it were. */
    if (res.local_cnt > 0) {
        rc = mule_gw_to_smtp(res.env, res.local_idx, res.local_cnt, res.content.data,
                             res.content.len, &m, &txn);
        CHECK(rc == 0 || (failing && rc == MULE_ERR_NOMEM), "gw: %s", mule_errname(rc));
        if (rc == 0) {
            check_txn(&txn, res.local_cnt);
            CHECK(txn.use_bdat == (res.env->mail.body == BSMTP_BODY_BINARYMIME), "BDAT");
            mule_gw_txn_fini(&txn);
        }
        rc = mule_gw_to_smtp(res.local_env, NULL, 0, res.content.data, res.content.len, &m,
                             &txn);
        CHECK(rc == 0 || (failing && rc == MULE_ERR_NOMEM), "gw local_env: %s",
              mule_errname(rc));
        if (rc == 0) {
            check_txn(&txn, res.local_cnt);
            mule_gw_txn_fini(&txn);
        }
        audit(MULE_AUDIT_OUT, MULE_AUDIT_DELIVERED, res.env, res.local_idx, res.local_cnt,
              res.content.data, res.content.len, "localhost");
    }
    for (i = 0; i < res.out_cnt; i++) {
        rc = mule_gw_to_smtp(res.env, res.outs[i].rcpt_idx, res.outs[i].rcpt_cnt,
                             res.content.data, res.content.len, &m, &txn);
        CHECK(rc == 0 || (failing && rc == MULE_ERR_NOMEM), "gw out: %s", mule_errname(rc));
        if (rc == 0) {
            check_txn(&txn, res.outs[i].rcpt_cnt);
            mule_gw_txn_fini(&txn);
        }
        audit(MULE_AUDIT_OUT, MULE_AUDIT_RELAYED, res.env, res.outs[i].rcpt_idx,
              res.outs[i].rcpt_cnt, res.content.data, res.content.len, "239.1.1.1");
    }

    /* The DSN for failures and delays. */
    if (res.note_cnt > 0) {
        memset(&dc, 0, sizeof(dc));
        dc.reporting_mta = "relay.example";
        dc.date = DATE;
        dc.message_id = "<dsn.42@relay.example>";
        dc.full_max = (sit & 0x10) ? 64 : 0;
        dc.out_max = (sit & 0x20) ? 2048 : 0;
        rc = mule_relay_dsn(&res, &dc, DATE, NULL, &d);
        CHECK(rc == 0 || rc == MULE_ERR_DSN_NULL_SENDER || rc == MULE_ERR_DSN_NOT_REQUESTED ||
              ((sit & 0x20) && rc == MULE_ERR_NOSPACE) || (failing && rc == MULE_ERR_NOMEM),
              "DSN: %s", mule_errname(rc));
        if (rc == 0) {
            check_dsn(&res, &d);
            audit(MULE_AUDIT_OUT, MULE_AUDIT_FAILED, d.env, NULL, 0, d.content.data,
                  d.content.len, "relay.example");
        }
        mule_dsn_fini(&d);
    }
    mule_relay_result_fini(&res);
    CHECK(cm.live == 0, "%ld blocks live after fini", cm.live);
    return 0;
}
