/*
 * NAME
 *	mule_hdr - RFC 5322 header section scanning and the MULE trace field
 * SYNOPSIS
 *	#include "mule/mule_hdr.h"
 * DESCRIPTION
 *	A small, read-only scanner over the header section of a message
 *	(RFC 5322 2.2 and 3.6): it finds where the header ends, walks the
 *	fields with their folded values, unfolds a value into a bounded,
 *	sanitised copy, and writes the Received field that a MULE relay adds
 *	(RFC 5321 4.4, RFC 8494 section 3 step 4 and section 6.2: "with
 *	MULE").
 *
 *	The scanner is deliberately lenient in what it reads, like the MTAs
 *	it sits between: CRLF or bare LF, obsolete "name SP :" syntax, and a
 *	header that ends without an empty line.  A line that is neither a
 *	field nor a continuation ends the header section; everything after it
 *	is body.  It never writes to the message.
 * SECURITY
 *	Sees untrusted message content.  All reads go through a read cursor
 *	over the caller's bytes; copies out are bounded by the caller's
 *	buffer and control characters are replaced, so nothing a sender
 *	writes can inject lines into logs or into the fields we generate.
 * DIAGNOSTICS
 *	mule_hdr_trace() returns MULE_ERR_INVAL, MULE_ERR_NOMEM or
 *	MULE_ERR_NOSPACE.  Nothing is logged.
 * SEE ALSO
 *	RFC 5322 (message format), RFC 5321 4.4 (trace fields), RFC 8494
 *	6.2, mmhs-profile 3.3.9 (submission time stamp).
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "mule/mule_hdr.h"

#include <string.h>

#include "mule/mule_err.h"

/* Octets up to (not including) the next LF, or all that is left. */
static size_t
line_len(const cur *c)
{
    const uint8_t *nl = memchr(c->p, '\n', c->left);

    return nl != NULL ? (size_t)(nl - c->p) : c->left;
}

/*
 * Take the next line off c: *line views its text without CR LF / LF,
 * *len its length.  Returns false at the end of the input.
 */
static bool
take_line(cur *c, const uint8_t **line, size_t *len)
{
    size_t n;

    if (c->left == 0)
        return false;
    n = line_len(c);
    if (!cur_view(c, line, n))
        return false;
    (void)cur_skip(c, c->left > 0 ? 1 : 0);     /* the LF, if any */
    *len = n > 0 && (*line)[n - 1] == '\r' ? n - 1 : n;
    return true;
}

static bool
is_wsp(uint8_t b)
{
    return b == ' ' || b == '\t';
}

/* Offset of the colon when line[0..len) starts a field ("name:" or the
 * obsolete "name WSP* :"), else 0 (a name is never empty). */
static size_t
field_colon(const uint8_t *line, size_t len)
{
    size_t i = 0;

    while (i < len && line[i] >= 33 && line[i] <= 126 && line[i] != ':')
        i++;
    if (i == 0)
        return 0;
    while (i < len && is_wsp(line[i]))
        i++;
    return i < len && line[i] == ':' ? i : 0;
}

void
mule_hdr_section(const uint8_t *msg, size_t len, size_t *hdr_len, size_t *body_off)
{
    cur c;
    const uint8_t *line;
    size_t n, start, hl = len, bo = len;
    bool first = true;

    cur_init(&c, msg, msg != NULL ? len : 0);
    for (;;) {
        start = (msg != NULL ? len : 0) - c.left;
        if (!take_line(&c, &line, &n))
            break;
        if (n == 0) {
            /* The empty line: header ends before it, body after it. */
            hl = start;
            bo = len - c.left;
            break;
        }
        if ((is_wsp(line[0]) && !first) || field_colon(line, n) != 0) {
            first = false;
            continue;
        }
        /* Not a field: the body starts here, without an empty line. */
        hl = start;
        bo = start;
        break;
    }
    if (msg == NULL)
        hl = bo = 0;
    if (hdr_len != NULL)
        *hdr_len = hl;
    if (body_off != NULL)
        *body_off = bo;
}

void
mule_hdr_iter_init(mule_hdr_iter *it, const uint8_t *msg, size_t len)
{
    size_t hl;

    mule_hdr_section(msg, len, &hl, NULL);
    cur_init(&it->c, msg, hl);
}

bool
mule_hdr_next(mule_hdr_iter *it, mule_hdr_field *f)
{
    cur t = it->c;
    const uint8_t *line, *all;
    size_t n, colon, total, end;

    if (!take_line(&t, &line, &n))
        return false;
    colon = field_colon(line, n);
    if (colon == 0)
        return false;       /* cannot happen inside a header section */
    /* Continuation lines belong to this field. */
    for (;;) {
        cur look = t;
        const uint8_t *l2;
        size_t n2;

        if (!take_line(&look, &l2, &n2) || n2 == 0 || !is_wsp(l2[0]))
            break;
        t = look;
    }
    total = it->c.left - t.left;
    if (!cur_view(&it->c, &all, total))
        return false;
    /* Drop the final line end from the value. */
    end = total;
    if (end > 0 && all[end - 1] == '\n')
        end--;
    if (end > 0 && all[end - 1] == '\r')
        end--;
    f->name = all;
    f->name_len = colon;
    while (f->name_len > 0 && is_wsp(all[f->name_len - 1]))
        f->name_len--;
    f->raw = all + colon + 1;
    f->raw_len = end > colon ? end - colon - 1 : 0;
    return true;
}

bool
mule_hdr_is(const mule_hdr_field *f, const char *name)
{
    size_t i, n = strlen(name);
    uint8_t a, b;

    if (f->name_len != n)
        return false;
    for (i = 0; i < n; i++) {
        a = f->name[i];
        b = (uint8_t)name[i];
        if (a >= 'A' && a <= 'Z')
            a = (uint8_t)(a + 32);
        if (b >= 'A' && b <= 'Z')
            b = (uint8_t)(b + 32);
        if (a != b)
            return false;
    }
    return true;
}

size_t
mule_hdr_unfold(const uint8_t *raw, size_t raw_len, bool keep_8bit, char *out,
                size_t outlen, bool *truncated)
{
    size_t i, o = 0;
    bool ws = false, cut = false;
    uint8_t b;
    char ch;

    if (truncated != NULL)
        *truncated = false;
    if (outlen == 0)
        return 0;
    for (i = 0; i < raw_len; i++) {
        b = raw[i];
        if (b == ' ' || b == '\t' || b == '\r' || b == '\n') {
            ws = true;
            continue;
        }
        if (b < 0x20 || b == 0x7f || (b >= 0x80 && !keep_8bit))
            ch = '?';
        else
            ch = (char)b;
        /* Room for a pending space, the octet and the NUL. */
        if (o + (ws && o > 0) + 1 >= outlen) {
            cut = true;
            break;
        }
        if (ws && o > 0)
            out[o++] = ' ';
        ws = false;
        out[o++] = ch;
    }
    if (cut && keep_8bit) {
        /* Do not leave half a UTF-8 sequence at the end. */
        size_t k = o;

        while (k > 0 && ((uint8_t)out[k - 1] & 0xc0) == 0x80)
            k--;
        if (k > 0 && (uint8_t)out[k - 1] >= 0xc0)
            o = k - 1;
        /* Dropping the sequence may leave the space before it last:
         * trailing whitespace is dropped as everywhere else. */
        while (o > 0 && out[o - 1] == ' ')
            o--;
    }
    out[o] = '\0';
    if (truncated != NULL)
        *truncated = cut;
    return o;
}

bool
mule_hdr_get(const uint8_t *msg, size_t len, const char *name, size_t nth,
             bool keep_8bit, char *out, size_t outlen)
{
    mule_hdr_iter it;
    mule_hdr_field f;

    if (outlen > 0)
        out[0] = '\0';
    mule_hdr_iter_init(&it, msg, len);
    while (mule_hdr_next(&it, &f)) {
        if (!mule_hdr_is(&f, name))
            continue;
        if (nth-- > 0)
            continue;
        (void)mule_hdr_unfold(f.raw, f.raw_len, keep_8bit, out, outlen, NULL);
        return true;
    }
    return false;
}

bool
mule_hdr_mt_priority(const uint8_t *msg, size_t len, int *prio)
{
    char v[64];
    const char *p = v;
    int sign = 1;

    /* Two fields disagree or repeat: neither is trusted (RFC 6758 allows
     * one). */
    if (mule_hdr_count(msg, len, "MT-Priority") != 1 ||
        !mule_hdr_get(msg, len, "MT-Priority", 0, false, v, sizeof v))
        return false;
    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    if (*p < '0' || *p > '9')
        return false;
    *prio = sign * (*p++ - '0');
    /* [CFWS] after the value: blanks (unfolded to one) and one comment. */
    if (*p == ' ')
        p++;
    if (*p == '(') {
        const char *e = strchr(p, ')');
        if (e == NULL)
            return false;
        p = e + 1;
        if (*p == ' ')
            p++;
    }
    return *p == '\0';
}

size_t
mule_hdr_count(const uint8_t *msg, size_t len, const char *name)
{
    mule_hdr_iter it;
    mule_hdr_field f;
    size_t n = 0;

    mule_hdr_iter_init(&it, msg, len);
    while (mule_hdr_next(&it, &f))
        if (mule_hdr_is(&f, name))
            n++;
    return n;
}

bool
mule_hdr_submission_date(const uint8_t *msg, size_t len, char *out, size_t outlen)
{
    mule_hdr_iter it;
    mule_hdr_field f, last;
    bool found = false;
    const uint8_t *semi;
    size_t i;

    if (outlen > 0)
        out[0] = '\0';
    mule_hdr_iter_init(&it, msg, len);
    while (mule_hdr_next(&it, &f)) {
        if (mule_hdr_is(&f, "Received")) {
            last = f;
            found = true;
        }
    }
    if (!found)
        return false;
    /* RFC 5321 4.4: the date-time follows the last ";". */
    semi = NULL;
    for (i = last.raw_len; i > 0; i--) {
        if (last.raw[i - 1] == ';') {
            semi = last.raw + i;
            break;
        }
    }
    if (semi == NULL)
        return false;
    (void)mule_hdr_unfold(semi, last.raw_len - i, false, out, outlen, NULL);
    return out[0] != '\0';
}

/* Printable ASCII including space, at most MULE_TRACE_MAX octets. */
static bool
trace_ok(const char *s)
{
    size_t i;

    for (i = 0; s[i] != '\0'; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e || i >= MULE_TRACE_MAX)
            return false;
    return true;
}

int
mule_hdr_trace(const mule_trace *t, buf *out)
{
    /* Clauses in RFC 5321 4.4 order; each one is folded onto its own line
     * when the whole field does not fit in 78 octets. */
    const char *cl_pre[3] = { NULL, NULL, NULL };
    size_t oneline, start = out != NULL ? out->len : 0;
    int rc;

    if (t == NULL || out == NULL || t->by == NULL || t->date == NULL || t->by[0] == '\0' ||
        t->date[0] == '\0')
        return MULE_ERR_INVAL;
    if ((t->from != NULL && !trace_ok(t->from)) || !trace_ok(t->by) ||
        (t->id != NULL && !trace_ok(t->id)) ||
        (t->for_addr != NULL && !trace_ok(t->for_addr)) || !trace_ok(t->date))
        return MULE_ERR_INVAL;
    oneline = strlen("Received: ") + (t->from != NULL ? 6 + strlen(t->from) : 0) +
              3 + strlen(t->by) + strlen(" with MULE") +
              (t->id != NULL ? 4 + strlen(t->id) : 0) +
              (t->for_addr != NULL ? 7 + strlen(t->for_addr) : 0) + 2 + strlen(t->date);
    if (oneline <= 78) {
        cl_pre[0] = " ";
        cl_pre[1] = " ";
        cl_pre[2] = " ";
    } else {
        cl_pre[0] = "\r\n\t";
        cl_pre[1] = "\r\n\t";
        cl_pre[2] = "\r\n\t";
    }
    rc = buf_append_str(out, "Received:");
    if (rc == 0 && t->from != NULL)
        rc = buf_printf(out, " from %s%s", t->from, cl_pre[0]);
    else if (rc == 0)
        rc = buf_append_str(out, " ");
    if (rc == 0)
        rc = buf_printf(out, "by %s with MULE", t->by);
    if (rc == 0 && t->id != NULL)
        rc = buf_printf(out, " id %s", t->id);
    if (rc == 0 && t->for_addr != NULL)
        rc = buf_printf(out, "%sfor <%s>", cl_pre[1], t->for_addr);
    if (rc == 0)
        rc = buf_printf(out, ";%s%s\r\n", cl_pre[2], t->date);
    if (rc != 0) {
        out->len = start;
        return mule_err_from_buf(rc);
    }
    return 0;
}
