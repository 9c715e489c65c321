/*
 * NAME
 *	mule_audit - MMHS audit records (mmhs-profile-09 section 7.2)
 * SYNOPSIS
 *	#include "mule/mule_audit.h"
 * DESCRIPTION
 *	Collects, for one message in or out, the attributes the MMHS
 *	profile's MTA audit trail requires (MM Identification = Message-ID,
 *	Message Identification = ENVID, Submission Time Stamp = date of the
 *	last Received field, priority, time of transfer) plus direction,
 *	peer, destination, recipients and outcome, into a fixed-size struct,
 *	and renders it as one key=value line for the daemon's audit log.
 *
 *	The record is self-contained (no pointers), so it can outlive the
 *	message.  Everything copied in from a message is bounded and has its
 *	control characters replaced; the renderer then quotes and escapes any
 *	value that is not a plain token, so a hostile Message-ID cannot forge
 *	a second record or a second key.
 * SECURITY
 *	Sees untrusted header text and envelope addresses; copies them
 *	bounded and sanitised, never interprets them.
 * DIAGNOSTICS
 *	mule_audit_format() returns MULE_ERR_NOSPACE or MULE_ERR_INVAL.
 *	Logs nothing: the caller persists the line.
 * SEE ALSO
 *	draft-melnikov-mmhs-profile-09 sections 3.3.5, 3.3.6, 3.3.9, 7.2;
 *	mule_hdr(3).
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "mule/mule_audit.h"

#include <stdio.h>
#include <string.h>

#include "mule/mule_err.h"
#include "mule/mule_hdr.h"
#include "mule/mule_relay.h"

void
mule_audit_init(mule_audit_rec *r, enum mule_audit_dir dir, enum mule_audit_outcome outcome,
                int64_t transfer_s)
{
    memset(r, 0, sizeof(*r));
    r->dir = dir;
    r->outcome = outcome;
    r->transfer_s = transfer_s;
    r->priority = MULE_RELAY_PRIORITY_DEFAULT;
}

void
mule_audit_set_text(char *field, size_t field_size, const char *text)
{
    if (field_size == 0)
        return;
    field[0] = '\0';
    if (text == NULL)
        return;
    /* Unfolding also turns CR, LF and other controls into safe text; the
     * 8-bit octets of UTF-8 addresses are kept (the renderer escapes). */
    (void)mule_hdr_unfold((const uint8_t *)text, strlen(text), true, field, field_size, NULL);
}

/* Append "a@x" (with a comma first when not empty) to r->rcpts; once a
 * recipient does not fit, end the list with ",..." and stop. */
static void
add_rcpt(mule_audit_rec *r, const char *addr, bool *full)
{
    size_t used = strlen(r->rcpts), need = strlen(addr) + (used > 0);

    if (*full)
        return;
    if (used + need + 4 >= sizeof(r->rcpts)) {
        /* Room for ",..." is always kept, see the + 4 above. */
        memcpy(r->rcpts + used, used > 0 ? ",..." : "...", (used > 0 ? 4 : 3) + 1);
        *full = true;
        return;
    }
    if (used > 0)
        r->rcpts[used++] = ',';
    mule_audit_set_text(r->rcpts + used, sizeof(r->rcpts) - used, addr);
}

void
mule_audit_set_message(mule_audit_rec *r, const bsmtp_envelope *env, const size_t *idx,
                       size_t cnt, const uint8_t *content, size_t content_len)
{
    bool clamped, full = false;
    size_t i, k;

    r->has_message = true;
    r->size = content_len;
    if (content != NULL) {
        /* Message-IDs are ASCII (RFC 5322 3.6.4): anything else becomes '?'. */
        (void)mule_hdr_get(content, content_len, "Message-ID", 0, false, r->msgid,
                           sizeof(r->msgid));
        (void)mule_hdr_submission_date(content, content_len, r->submitted,
                                       sizeof(r->submitted));
    }
    if (env == NULL)
        return;
    mule_audit_set_text(r->envid, sizeof(r->envid), env->mail.envid);
    mule_audit_set_text(r->reverse_path, sizeof(r->reverse_path), env->reverse_path);
    r->has_mt_priority = env->mail.has_mt_priority;
    r->mt_priority = env->mail.mt_priority;
    r->priority = mule_relay_priority(&env->mail, &clamped);
    if (idx == NULL)
        cnt = env->rcpt_cnt;
    r->rcpt_cnt = 0;
    r->rcpts[0] = '\0';
    for (i = 0; i < cnt; i++) {
        k = idx != NULL ? idx[i] : i;
        if (k >= env->rcpt_cnt)
            continue;
        r->rcpt_cnt++;
        add_rcpt(r, env->rcpts[k].addr, &full);
    }
}

const char *
mule_audit_dir_name(enum mule_audit_dir dir)
{
    return dir == MULE_AUDIT_IN ? "in" : dir == MULE_AUDIT_OUT ? "out" : "?";
}

const char *
mule_audit_outcome_name(enum mule_audit_outcome outcome)
{
    switch (outcome) {
    case MULE_AUDIT_ACCEPTED:
        return "accepted";
    case MULE_AUDIT_NOT_RESPONSIBLE:
        return "not-responsible";
    case MULE_AUDIT_MALFORMED:
        return "malformed";
    case MULE_AUDIT_RELAYED:
        return "relayed";
    case MULE_AUDIT_ACKED:
        return "acked";
    case MULE_AUDIT_DELIVERED:
        return "delivered";
    case MULE_AUDIT_FAILED:
        return "failed";
    case MULE_AUDIT_DELAYED:
        return "delayed";
    case MULE_AUDIT_EXPIRED:
        return "expired";
    case MULE_AUDIT_WITHDRAWN:
        return "withdrawn";
    }
    return "?";
}

/* Output cursor over the caller's line buffer. */
struct line {
    char *p;
    size_t cap, len;
    bool overflow;
};

static void
put(struct line *l, const char *s, size_t n)
{
    if (l->overflow || n >= l->cap - l->len) {
        l->overflow = true;
        return;
    }
    memcpy(l->p + l->len, s, n);
    l->len += n;
    l->p[l->len] = '\0';
}

static void
puts_(struct line *l, const char *s)
{
    put(l, s, strlen(s));
}

/* A plain token needs no quotes: printable ASCII except blank, '"', '\'
 * and '=' (which would confuse a key=value reader). */
static bool
is_token(const char *v)
{
    size_t i;

    if (v[0] == '\0')
        return false;
    for (i = 0; v[i] != '\0'; i++) {
        unsigned char c = (unsigned char)v[i];

        if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '=')
            return false;
    }
    return true;
}

static void
put_kv(struct line *l, const char *key, const char *v)
{
    static const char hex[] = "0123456789abcdef";
    char esc[4];
    size_t i;

    puts_(l, " ");
    puts_(l, key);
    puts_(l, "=");
    if (v == NULL || v[0] == '\0') {
        puts_(l, "-");
        return;
    }
    if (is_token(v)) {
        puts_(l, v);
        return;
    }
    puts_(l, "\"");
    for (i = 0; v[i] != '\0'; i++) {
        unsigned char c = (unsigned char)v[i];

        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            put(l, esc, 2);
        } else if (c < 0x20 || c >= 0x7f) {
            esc[0] = '\\';
            esc[1] = 'x';
            esc[2] = hex[c >> 4];
            esc[3] = hex[c & 15];
            put(l, esc, 4);
        } else {
            put(l, (const char *)&v[i], 1);
        }
    }
    puts_(l, "\"");
}

static void
put_num(struct line *l, const char *key, long long v)
{
    char n[32];

    (void)snprintf(n, sizeof(n), "%lld", v);
    put_kv(l, key, n);
}

ssize_t
mule_audit_format(const mule_audit_rec *r, char *out, size_t outlen)
{
    struct line l;
    char path[MULE_AUDIT_PATH_MAX + 2];

    if (r == NULL || out == NULL || outlen == 0)
        return MULE_ERR_INVAL;
    l.p = out;
    l.cap = outlen;
    l.len = 0;
    l.overflow = false;
    out[0] = '\0';
    puts_(&l, "mule-audit");
    put_kv(&l, "dir", mule_audit_dir_name(r->dir));
    put_kv(&l, "outcome", mule_audit_outcome_name(r->outcome));
    put_num(&l, "time", (long long)r->transfer_s);
    put_kv(&l, "id", r->id);
    if (r->has_message) {
        put_kv(&l, "msgid", r->msgid);
        put_kv(&l, "envid", r->envid);
        put_kv(&l, "submitted", r->submitted);
        if (r->has_mt_priority)
            put_num(&l, "mt_priority", r->mt_priority);
        else
            put_kv(&l, "mt_priority", NULL);
        put_num(&l, "priority", (long long)r->priority);
        (void)snprintf(path, sizeof(path), "<%s>", r->reverse_path);
        put_kv(&l, "from", path);
    }
    if (r->has_message || r->rcpt_cnt > 0) {
        put_num(&l, "rcpt_cnt", (long long)r->rcpt_cnt);
        put_kv(&l, "rcpts", r->rcpts);
    }
    put_kv(&l, "peer", r->peer);
    put_kv(&l, "dest", r->dest);
    put_kv(&l, "status", r->status);
    if (r->has_message)
        put_num(&l, "size", (long long)r->size);
    if (l.overflow) {
        out[0] = '\0';
        return MULE_ERR_NOSPACE;
    }
    return (ssize_t)l.len;
}
