/*
 * NAME
 *	mule_dsn - delivery status notifications carried over MULE
 * SYNOPSIS
 *	#include "mule/mule_dsn.h"
 * DESCRIPTION
 *	Builds the multipart/report (RFC 6522) with a message/delivery-status
 *	part (RFC 3464) that RFC 8494 section 3.3 requires whenever a MULE
 *	node cannot relay or deliver a message, plus the success, relayed and
 *	delay reports NOTIFY can request (RFC 3461 4.1).
 *
 *	The report is assembled part by part into separate buffers first; only
 *	then is a boundary chosen, derived from the caller's Message-ID plus a
 *	counter and checked against every part body, so it can never occur in
 *	the returned message (RFC 2046 5.1.1).  The "=_" in the boundary also
 *	cannot occur in base64 or quoted-printable text, which makes a clash
 *	unlikely in the first place.
 *
 *	Field values that come from peers (reply text of an MTA, ENVID, ORCPT)
 *	are unfolded, bounded and stripped of control characters before they
 *	go into the report; values from the caller (host name, dates,
 *	Message-ID) are refused if they could break a header line.
 *
 *	Which part 3 is returned: message/rfc822 for RET=FULL, or without RET
 *	when the message is at most full_max octets; otherwise
 *	text/rfc822-headers.  Reports without a failure (delivered, relayed,
 *	delayed) and BODY=BINARYMIME messages always return headers only: the
 *	former because RFC 3461 4.3 asks for the content only with failures,
 *	the latter because binary content cannot be a message/rfc822 body
 *	in a 7bit/8bit multipart.
 * SECURITY
 *	Sees untrusted content (the returned message and the MTA reply); it
 *	is copied, never interpreted, except for the header scan of
 *	mule_hdr.c.  Output size is bounded by out_max.
 * DIAGNOSTICS
 *	MULE_ERR_DSN_NULL_SENDER, MULE_ERR_DSN_NOT_REQUESTED, MULE_ERR_INVAL,
 *	MULE_ERR_NOSPACE, MULE_ERR_DSN, MULE_ERR_NOMEM, and bsmtp's codes
 *	passed through unchanged (a sender bsmtp refuses as a recipient).  Logs
 *	"mule-dsn-built rcpts=N action=... return=full|headers" at debug.
 * SEE ALSO
 *	RFC 3461, RFC 3462/6522, RFC 3463, RFC 3464, RFC 3834 (Auto-
 *	Submitted), RFC 8494 section 3.3.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "mule/mule_dsn.h"

#include <stdio.h>
#include <string.h>

#include "bsmtp/bsmtp_addr.h"
#include "mule/mule_err.h"
#include "mule/mule_hdr.h"

/* Longest single caller-supplied field value we accept (RFC 5322 2.1.1
 * line limit minus room for the field name). */
#define FIELD_MAX 900

/* Attempts at a boundary before giving up (each one differs by counter;
 * a clash needs the content to contain the exact candidate). */
#define BOUNDARY_TRIES 64

bool
mule_dsn_wanted(const mule_dsn_rcpt *r)
{
    unsigned n = r->notify;

    if (n & BSMTP_NOTIFY_NEVER)
        return false;
    switch (r->kind) {
    case MULE_DSN_DELIVERED:
    case MULE_DSN_RELAYED:
        return (n & BSMTP_NOTIFY_SUCCESS) != 0;
    case MULE_DSN_DELAYED:
        /* NOTIFY absent behaves as FAILURE only (RFC 3461 4.1 allows it). */
        return (n & BSMTP_NOTIFY_DELAY) != 0;
    case MULE_DSN_NO_ROUTE:
    case MULE_DSN_EXPIRED:
    case MULE_DSN_DISCARDED:
    case MULE_DSN_LOOP:
    case MULE_DSN_REJECTED:
    case MULE_DSN_DELETED:
        return n == 0 || (n & BSMTP_NOTIFY_FAILURE) != 0;
    }
    return false;
}

const char *
mule_dsn_action(enum mule_dsn_kind kind)
{
    switch (kind) {
    case MULE_DSN_DELAYED:
        return "delayed";
    case MULE_DSN_DELIVERED:
        return "delivered";
    case MULE_DSN_RELAYED:
        return "relayed";
    case MULE_DSN_NO_ROUTE:
    case MULE_DSN_EXPIRED:
    case MULE_DSN_DISCARDED:
    case MULE_DSN_LOOP:
    case MULE_DSN_REJECTED:
    case MULE_DSN_DELETED:
        break;
    }
    return "failed";
}

const char *
mule_dsn_default_status(enum mule_dsn_kind kind)
{
    switch (kind) {
    case MULE_DSN_NO_ROUTE:
        return "5.4.4";     /* unable to route */
    case MULE_DSN_EXPIRED:
        return "5.4.7";     /* delivery time expired */
    case MULE_DSN_DELAYED:
        return "4.4.7";
    case MULE_DSN_DISCARDED:
        return "5.4.0";     /* other network or routing status */
    case MULE_DSN_LOOP:
        return "5.4.6";     /* routing loop detected */
    case MULE_DSN_REJECTED:
        return "5.0.0";
    case MULE_DSN_DELETED:
        return "5.3.0";     /* other or undefined mail system status */
    case MULE_DSN_DELIVERED:
    case MULE_DSN_RELAYED:
        return "2.0.0";
    }
    return "5.0.0";
}

static const char *
reason_text(enum mule_dsn_kind kind)
{
    switch (kind) {
    case MULE_DSN_NO_ROUTE:
        return "no MULE route to the recipient's domain";
    case MULE_DSN_EXPIRED:
        return "delivery time expired before the message could be delivered";
    case MULE_DSN_DELAYED:
        return "the requested delivery time has passed; delivery continues";
    case MULE_DSN_DISCARDED:
        return "the message was discarded by the ACP 142 (P_MUL) transport";
    case MULE_DSN_LOOP:
        return "mail loop detected (too many Received header fields)";
    case MULE_DSN_REJECTED:
        return "rejected by the receiving mail system";
    case MULE_DSN_DELIVERED:
        return "delivered";
    case MULE_DSN_RELAYED:
        return "relayed to a system that does not send delivery reports";
    case MULE_DSN_DELETED:
        return "removed from the MULE queue by the operator before its delivery was confirmed";
    }
    return "failed";
}

/* ------------------------------------------------------------------ */
/* Validation of caller strings                                       */
/* ------------------------------------------------------------------ */

/* Printable ASCII and space, 1..FIELD_MAX octets. */
static bool
safe_str(const char *s)
{
    size_t i;

    if (s == NULL || s[0] == '\0')
        return false;
    for (i = 0; s[i] != '\0'; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e || i >= FIELD_MAX)
            return false;
    return true;
}

/* An ORCPT value: like safe_str(), but with SMTPUTF8 its octets may be
 * UTF-8 (RFC 6533 3: "utf-8" addr-type with utf-8-addr-xtext), as bsmtp
 * accepts them on the RCPT-line. */
static bool
safe_orcpt(const char *s, bool utf8)
{
    size_t i;
    unsigned char c;

    if (s == NULL || s[0] == '\0')
        return false;
    for (i = 0; s[i] != '\0'; i++) {
        c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || (c >= 0x80 && !utf8) || i >= FIELD_MAX)
            return false;
    }
    return true;
}

/* An address from a validated envelope: no controls, bounded; octets
 * >= 0x80 only with SMTPUTF8. */
static bool
safe_addr(const char *s, bool utf8)
{
    size_t i;
    unsigned char c;

    if (s == NULL)
        return false;
    for (i = 0; s[i] != '\0'; i++) {
        c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || (c >= 0x80 && !utf8) || i >= BSMTP_PATH_MAX)
            return false;
    }
    return true;
}

/* "class.subject.detail", class 2/4/5, 1-3 digits each (RFC 3463 2).
 * Returns its length at s, or 0. */
static size_t
status_len(const char *s, size_t max)
{
    size_t i = 0, part, digits;

    if (max < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.')
        return 0;
    i = 2;
    for (part = 0; part < 2; part++) {
        for (digits = 0; i < max && s[i] >= '0' && s[i] <= '9'; i++)
            digits++;
        if (digits == 0 || digits > 3)
            return 0;
        if (part == 0) {
            if (i >= max || s[i] != '.')
                return 0;
            i++;
        }
    }
    return i;
}

static bool
valid_status(const char *s)
{
    size_t n = strlen(s);

    return status_len(s, n) == n;
}

/*
 * The enhanced status code in an SMTP reply "550 5.1.1 text" (RFC 2034):
 * after the three-digit code and SP or '-', with the same class as the
 * reply code.  Copies it to out (>= 12 octets) and returns true if found.
 */
static bool
status_from_reply(const char *reply, char *out, size_t outlen)
{
    size_t n = strlen(reply), k;

    if (n < 4 || reply[0] < '2' || reply[0] > '5' || reply[1] < '0' || reply[1] > '9' ||
        reply[2] < '0' || reply[2] > '9' || (reply[3] != ' ' && reply[3] != '-'))
        return false;
    k = status_len(reply + 4, n - 4);
    if (k == 0 || reply[4] != reply[0] || k >= outlen)
        return false;
    if (4 + k < n && reply[4 + k] != ' ')
        return false;
    memcpy(out, reply + 4, k);
    out[k] = '\0';
    return true;
}

/* ------------------------------------------------------------------ */
/* Output helpers                                                     */
/* ------------------------------------------------------------------ */

/*
 * Append the decoding of an xtext value when it decodes to printable
 * ASCII; otherwise the value as written (still safe: xtext is printable).
 * RFC 3464 2.2.1 and 2.3.1 carry the decoded ENVID and ORCPT.
 */
static int
put_xtext_decoded(buf *out, const mem *m, const char *x, size_t len)
{
    buf dec;
    size_t i;
    bool ok;
    int rc;

    buf_init(&dec, m, FIELD_MAX);
    ok = bsmtp_xtext_decode(&dec, x, len) == 0 && dec.len > 0;
    for (i = 0; ok && i < dec.len; i++)
        if (dec.data[i] < 0x20 || dec.data[i] > 0x7e)
            ok = false;
    if (ok)
        rc = buf_append(out, dec.data, dec.len);
    else
        rc = buf_append(out, x, len);
    buf_fini(&dec);
    return mule_err_from_buf(rc);
}

static bool
has_8bit(const uint8_t *p, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++)
        if (p[i] >= 0x80)
            return true;
    return false;
}

/* The address part of a path: a source route "@a,@b:" is dropped for
 * the To: field (RFC 5321 C: it is obsolete and not a 5322 address). */
static const char *
strip_route(const char *path)
{
    const char *colon;

    if (path[0] != '@')
        return path;
    colon = strchr(path, ':');
    return colon != NULL ? colon + 1 : path;
}

/* ------------------------------------------------------------------ */
/* The parts                                                          */
/* ------------------------------------------------------------------ */

struct ctx {
    const mule_dsn_config *cfg;
    const mule_dsn_orig *orig;
    const mem *m;
    bool any_failed, any_delayed;
};

/* Sanitised reply text (unfolded, controls replaced, bounded). */
static void
clean_reply(const char *reply, char *out, size_t outlen)
{
    (void)mule_hdr_unfold((const uint8_t *)reply, strlen(reply), false, out, outlen, NULL);
}

static int
build_text(struct ctx *x, const mule_dsn_rcpt *r, size_t cnt, const bool *use, buf *b)
{
    char reply[MULE_DSN_REPLY_MAX];
    size_t i;
    int rc;

    rc = buf_printf(b, "This is the MULE mail system at host %s.\r\n\r\n",
                    x->cfg->reporting_mta);
    if (rc == 0 && x->any_failed)
        rc = buf_append_str(b, "Your message could not be delivered to one or more "
                            "recipients.\r\nIt is attached below.\r\n");
    else if (rc == 0 && x->any_delayed)
        rc = buf_append_str(b, "Delivery of your message has been delayed. The mail "
                            "system will keep trying;\r\nyou do not need to resend it.\r\n");
    else if (rc == 0)
        rc = buf_append_str(b, "Your message was successfully delivered to the "
                            "recipients listed below.\r\n");
    if (rc == 0)
        rc = buf_append_str(b, "\r\n");
    for (i = 0; rc == 0 && i < cnt; i++) {
        if (!use[i])
            continue;
        rc = buf_printf(b, "<%s>: %s", r[i].addr, reason_text(r[i].kind));
        if (rc == 0 && r[i].remote_mta != NULL)
            rc = buf_printf(b, "\r\n    (host %s)", r[i].remote_mta);
        if (rc == 0 && r[i].reply != NULL) {
            clean_reply(r[i].reply, reply, sizeof(reply));
            rc = buf_printf(b, "\r\n    said: %s", reply);
        }
        if (rc == 0)
            rc = buf_append_str(b, "\r\n");
    }
    return mule_err_from_buf(rc);
}

/* message/delivery-status body: per-message fields, then one group per
 * recipient, each preceded by an empty line (RFC 3464 2.1). */
static int
build_status(struct ctx *x, const mule_dsn_rcpt *r, size_t cnt, const bool *use, buf *b)
{
    const mule_dsn_orig *o = x->orig;
    char reply[MULE_DSN_REPLY_MAX], st[16];
    const char *status, *semi;
    size_t i;
    int rc;

    rc = mule_err_from_buf(buf_printf(b, "Reporting-MTA: dns; %s\r\n", x->cfg->reporting_mta));
    if (rc == 0 && o->envid != NULL && o->envid[0] != '\0') {
        rc = mule_err_from_buf(buf_append_str(b, "Original-Envelope-Id: "));
        if (rc == 0)
            rc = put_xtext_decoded(b, x->m, o->envid, strlen(o->envid));
        if (rc == 0)
            rc = mule_err_from_buf(buf_append_str(b, "\r\n"));
    }
    if (rc == 0)
        rc = mule_err_from_buf(buf_printf(b, "Arrival-Date: %s\r\n", o->arrival_date));
    for (i = 0; rc == 0 && i < cnt; i++) {
        if (!use[i])
            continue;
        rc = mule_err_from_buf(buf_append_str(b, "\r\n"));
        /* ORCPT is "addr-type;xtext" (RFC 3461 4.2). */
        if (rc == 0 && r[i].orcpt != NULL && (semi = strchr(r[i].orcpt, ';')) != NULL &&
            semi != r[i].orcpt && semi[1] != '\0') {
            rc = mule_err_from_buf(buf_printf(b, "Original-Recipient: %.*s;",
                                    (int)(semi - r[i].orcpt), r[i].orcpt));
            if (rc == 0)
                rc = put_xtext_decoded(b, x->m, semi + 1, strlen(semi + 1));
            if (rc == 0)
                rc = mule_err_from_buf(buf_append_str(b, "\r\n"));
        }
        if (r[i].status != NULL)
            status = r[i].status;
        else if (r[i].reply != NULL && status_from_reply(r[i].reply, st, sizeof(st)))
            status = st;
        else if (r[i].kind == MULE_DSN_REJECTED && r[i].reply != NULL && r[i].reply[0] == '4')
            status = "4.0.0";   /* a temporary reply we gave up on */
        else
            status = mule_dsn_default_status(r[i].kind);
        if (rc == 0)
            rc = mule_err_from_buf(buf_printf(b, "Final-Recipient: rfc822; %s\r\nAction: %s\r\n"
                                    "Status: %s\r\n", r[i].addr,
                                    mule_dsn_action(r[i].kind), status));
        if (rc == 0 && r[i].remote_mta != NULL)
            rc = mule_err_from_buf(buf_printf(b, "Remote-MTA: dns; %s\r\n", r[i].remote_mta));
        if (rc == 0 && r[i].reply != NULL) {
            clean_reply(r[i].reply, reply, sizeof(reply));
            rc = mule_err_from_buf(buf_printf(b, "Diagnostic-Code: smtp; %s\r\n", reply));
        }
        if (rc == 0 && r[i].last_attempt_date != NULL)
            rc = mule_err_from_buf(buf_printf(b, "Last-Attempt-Date: %s\r\n", r[i].last_attempt_date));
    }
    return rc;
}

/*
 * Append p[0..len) to b with every line end made CRLF.  The original may
 * use bare LF (RFC 8494 payloads are often written that way, decision
 * 5) or hold a stray CR, but the DSN is an RFC 5322 message with CRLF
 * lines throughout, and a message/rfc822 part is no exception (RFC 2046
 * 5.2.1), so a bare LF or a CR not followed by LF becomes CRLF.
 */
static int
append_crlf(buf *b, const uint8_t *p, size_t len)
{
    size_t i, run = 0;
    int rc = 0;

    for (i = 0; rc == 0 && i < len; i++) {
        bool bare_lf = p[i] == '\n' && (i == 0 || p[i - 1] != '\r');
        bool bare_cr = p[i] == '\r' && (i + 1 == len || p[i + 1] != '\n');

        if (!bare_lf && !bare_cr)
            continue;
        rc = buf_append(b, p + run, i - run);
        if (rc == 0)
            rc = buf_append_str(b, "\r\n");
        run = i + 1;
    }
    if (rc == 0)
        rc = buf_append(b, p + run, len - run);
    return rc;
}

/* Part 3: the whole message or its header section, with CRLF lines. */
static int
build_returned(struct ctx *x, bool full, buf *b)
{
    const mule_dsn_orig *o = x->orig;
    size_t hl;
    int rc;

    if (o->content_len == 0)
        return 0;
    if (full)
        return mule_err_from_buf(append_crlf(b, o->content, o->content_len));
    mule_hdr_section(o->content, o->content_len, &hl, NULL);
    rc = append_crlf(b, o->content, hl);
    /* A header section must end in a line end to stand as a part body. */
    if (rc == 0 && (b->len == 0 || b->data[b->len - 1] != '\n'))
        rc = buf_append_str(b, "\r\n");
    return mule_err_from_buf(rc);
}

/* Is "--" boundary anywhere in p[0..len)? */
static bool
contains_delim(const uint8_t *p, size_t len, const char *bd, size_t bdlen)
{
    const uint8_t *hit;
    size_t i = 0, n = bdlen + 2;

    if (p == NULL || len < n)
        return false;
    while (len - i >= n) {
        hit = memchr(p + i, '-', len - i - n + 1);
        if (hit == NULL)
            return false;
        i = (size_t)(hit - p);
        if (p[i + 1] == '-' && memcmp(p + i + 2, bd, bdlen) == 0)
            return true;
        i++;
    }
    return false;
}

/*
 * Choose a boundary that none of the parts contains: "=_mule_" + up to
 * 40 safe characters of the Message-ID + "_" + a counter.
 */
static int
choose_boundary(const char *msgid, const buf *parts, size_t nparts, char *out, size_t outlen)
{
    char tok[41];
    size_t t = 0, i, k, bl;
    int n;

    for (i = 0; msgid[i] != '\0' && t < sizeof(tok) - 1; i++) {
        char c = msgid[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '.' || c == '-')
            tok[t++] = c;
    }
    tok[t] = '\0';
    for (k = 0; k < BOUNDARY_TRIES; k++) {
        n = snprintf(out, outlen, "=_mule_%s_%zu", tok, k);
        if (n < 0 || (size_t)n >= outlen)
            return MULE_ERR_DSN;
        bl = (size_t)n;
        for (i = 0; i < nparts; i++)
            if (contains_delim(parts[i].data, parts[i].len, out, bl))
                break;
        if (i == nparts)
            return 0;
    }
    return MULE_ERR_DSN;
}

/* ------------------------------------------------------------------ */
/* The DSN                                                            */
/* ------------------------------------------------------------------ */

static int
check_args(const mule_dsn_config *cfg, const mule_dsn_orig *o, const mule_dsn_rcpt *r,
           size_t cnt)
{
    size_t i;

    if (cfg == NULL || o == NULL || r == NULL || cnt == 0)
        return MULE_ERR_INVAL;
    if (!safe_str(cfg->reporting_mta) || !safe_str(cfg->date) ||
        !safe_str(cfg->message_id) || !safe_str(o->arrival_date) ||
        o->reverse_path == NULL || !safe_addr(o->reverse_path, o->smtputf8) ||
        (o->content == NULL && o->content_len > 0) ||
        (o->envid != NULL && !safe_str(o->envid)))
        return MULE_ERR_INVAL;
    for (i = 0; i < cnt; i++) {
        if (r[i].addr == NULL || r[i].addr[0] == '\0' || !safe_addr(r[i].addr, o->smtputf8) ||
            r[i].kind < MULE_DSN_NO_ROUTE || r[i].kind > MULE_DSN_DELETED ||
            (r[i].orcpt != NULL && !safe_orcpt(r[i].orcpt, o->smtputf8)) ||
            (r[i].remote_mta != NULL && !safe_str(r[i].remote_mta)) ||
            (r[i].last_attempt_date != NULL && !safe_str(r[i].last_attempt_date)) ||
            (r[i].status != NULL && !valid_status(r[i].status)))
            return MULE_ERR_INVAL;
    }
    return 0;
}

/* Write one part: delimiter, part header, empty line, body. */
static int
put_part(buf *b, const char *bd, const char *hdr, const buf *body)
{
    int rc;

    rc = buf_printf(b, "\r\n--%s\r\n%s\r\n", bd, hdr);
    if (rc == 0 && body->len > 0)
        rc = buf_append(b, body->data, body->len);
    return mule_err_from_buf(rc);
}

int
mule_dsn_build(const mule_dsn_config *cfg, const mule_dsn_orig *orig,
               const mule_dsn_rcpt *rcpts, size_t cnt, const mem *m,
               const logger *lg, mule_dsn *out)
{
    struct ctx x;
    buf parts[3];
    bool *use = NULL, full, eightbit;
    char bd[80], hdr3[160];
    size_t i, used = 0;
    int rc;

    if (out == NULL)
        return MULE_ERR_INVAL;
    memset(out, 0, sizeof(*out));
    buf_init(&out->content, m, SIZE_MAX);
    for (i = 0; i < 3; i++)
        buf_init(&parts[i], m, SIZE_MAX);
    if ((rc = check_args(cfg, orig, rcpts, cnt)) != 0)
        return rc;
    /* RFC 3461 6.2 / RFC 5321 6.1: never report to the null path. */
    if (orig->reverse_path[0] == '\0')
        return MULE_ERR_DSN_NULL_SENDER;
    if (cfg->out_max != 0)
        out->content.max = cfg->out_max;

    use = mem_calloc(m, cnt, sizeof(*use));
    if (use == NULL)
        return MULE_ERR_NOMEM;
    memset(&x, 0, sizeof(x));
    x.cfg = cfg;
    x.orig = orig;
    x.m = m;
    for (i = 0; i < cnt; i++) {
        use[i] = mule_dsn_wanted(&rcpts[i]);
        if (!use[i])
            continue;
        used++;
        if (strcmp(mule_dsn_action(rcpts[i].kind), "failed") == 0)
            x.any_failed = true;
        else if (rcpts[i].kind == MULE_DSN_DELAYED)
            x.any_delayed = true;
    }
    if (used == 0) {
        rc = MULE_ERR_DSN_NOT_REQUESTED;
        goto fail;
    }
    full = x.any_failed && orig->body != BSMTP_BODY_BINARYMIME &&
           (orig->ret == BSMTP_RET_FULL ||
            (orig->ret == BSMTP_RET_NONE &&
             orig->content_len <= (cfg->full_max != 0 ? cfg->full_max
                                                      : MULE_DSN_FULL_MAX_DEFAULT)));
    if ((rc = build_text(&x, rcpts, cnt, use, &parts[0])) != 0 ||
        (rc = build_status(&x, rcpts, cnt, use, &parts[1])) != 0 ||
        (rc = build_returned(&x, full, &parts[2])) != 0)
        goto fail;
    if ((rc = choose_boundary(cfg->message_id, parts, 3, bd, sizeof(bd))) != 0)
        goto fail;
    eightbit = false;
    for (i = 0; i < 3; i++)
        eightbit = eightbit || has_8bit(parts[i].data, parts[i].len);

    /* The envelope: <> and the original sender (RFC 3461 6.2). */
    rc = bsmtp_envelope_new("",
                            orig->smtputf8 ? (eightbit ? "BODY=8BITMIME SMTPUTF8" : "SMTPUTF8")
                            : eightbit ? "BODY=8BITMIME" : NULL,
                            m, &out->env);
    if (rc == 0)
        rc = bsmtp_envelope_add_rcpt(out->env, orig->reverse_path, NULL);
    if (rc != 0)
        goto fail;

    /* The header.  Auto-Submitted: auto-replied marks it as a report
     * (RFC 3834 5), so that nobody auto-responds to it. */
    rc = mule_err_from_buf(buf_printf(&out->content,
                            "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n"
                            "To: <%s>\r\n"
                            "Subject: %s\r\n"
                            "Date: %s\r\n"
                            "Message-ID: %s\r\n"
                            "Auto-Submitted: auto-replied\r\n"
                            "MIME-Version: 1.0\r\n"
                            "Content-Type: multipart/report; report-type=delivery-status;\r\n"
                            "\tboundary=\"%s\"\r\n"
                            "\r\n"
                            "This is a MIME-encapsulated delivery status notification.\r\n",
                            cfg->reporting_mta, strip_route(orig->reverse_path),
                            x.any_failed ? "Undelivered Mail Returned to Sender"
                            : x.any_delayed ? "Delayed Mail (still being retried)"
                                            : "Successful Mail Delivery Report",
                            cfg->date, cfg->message_id, bd));
    if (rc != 0)
        goto fail;
    rc = put_part(&out->content, bd,
                  has_8bit(parts[0].data, parts[0].len)
                      ? "Content-Type: text/plain; charset=utf-8\r\n"
                        "Content-Transfer-Encoding: 8bit\r\n"
                        "Content-Description: Notification\r\n"
                      : "Content-Type: text/plain; charset=us-ascii\r\n"
                        "Content-Description: Notification\r\n",
                  &parts[0]);
    if (rc == 0)
        rc = put_part(&out->content, bd,
                      has_8bit(parts[1].data, parts[1].len)
                          ? "Content-Type: message/delivery-status\r\n"
                            "Content-Transfer-Encoding: 8bit\r\n"
                            "Content-Description: Delivery report\r\n"
                          : "Content-Type: message/delivery-status\r\n"
                            "Content-Description: Delivery report\r\n",
                      &parts[1]);
    if (rc == 0 && orig->content_len > 0) {
        if (snprintf(hdr3, sizeof(hdr3), "Content-Type: %s\r\n%s"
                     "Content-Description: %s\r\n",
                     full ? "message/rfc822" : "text/rfc822-headers",
                     has_8bit(parts[2].data, parts[2].len)
                         ? "Content-Transfer-Encoding: 8bit\r\n" : "",
                     full ? "Undelivered Message" : "Message Headers") >= (int)sizeof(hdr3)) {
            rc = MULE_ERR_DSN;
            goto fail;
        }
        rc = put_part(&out->content, bd, hdr3, &parts[2]);
    }
    if (rc == 0)
        rc = mule_err_from_buf(buf_printf(&out->content, "\r\n--%s--\r\n", bd));
    if (rc != 0)
        goto fail;
    out->reported_cnt = used;
    out->failed = x.any_failed;
    out->full = full;
    log_emit(lg, LOG_LVL_DEBUG, "mule-dsn-built rcpts=%zu action=%s return=%s len=%zu",
             used, x.any_failed ? "failed" : x.any_delayed ? "delayed" : "delivered",
             full ? "full" : "headers", out->content.len);
    for (i = 0; i < 3; i++)
        buf_fini(&parts[i]);
    mem_free(m, use);
    return 0;

fail:
    for (i = 0; i < 3; i++)
        buf_fini(&parts[i]);
    mem_free(m, use);
    mule_dsn_fini(out);
    return rc;
}

int
mule_dsn_payload(const mule_dsn *d, buf *out)
{
    if (d == NULL || d->env == NULL || out == NULL)
        return MULE_ERR_INVAL;
    return bsmtp_payload_build(d->env, d->content.data, d->content.len, out);
}

void
mule_dsn_fini(mule_dsn *d)
{
    if (d == NULL)
        return;
    bsmtp_envelope_free(d->env);
    d->env = NULL;
    buf_fini(&d->content);
}
