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
#include <strings.h>

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

/* ---- date-time (RFC 5322 3.3 and 4.3) ----------------------------------- */

/* Past white space and (nested, quoted-pair aware) comments. */
static const char *
skip_cfws(const char *p)
{
    int depth;

    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
            p++;
        if (*p != '(')
            return p;
        for (depth = 0; *p != '\0'; p++) {
            if (*p == '\\' && p[1] != '\0')
                p++;
            else if (*p == '(')
                depth++;
            else if (*p == ')' && --depth == 0) {
                p++;
                break;
            }
        }
        if (depth != 0)
            return p;               /* unclosed: at the NUL */
    }
}

/* 1..maxd digits into *v; the pointer after them, or NULL. */
static const char *
digits(const char *p, int mind, int maxd, int *v)
{
    int n = 0;

    *v = 0;
    while (n < maxd && *p >= '0' && *p <= '9') {
        *v = *v * 10 + (*p++ - '0');
        n++;
    }
    return n >= mind && !(*p >= '0' && *p <= '9') ? p : NULL;
}

/* A run of letters, case-insensitively one of names[0..n); its index. */
static const char *
word(const char *p, const char *const *names, int n, int *idx)
{
    size_t len = 0;
    int k;

    while ((p[len] >= 'A' && p[len] <= 'Z') || (p[len] >= 'a' && p[len] <= 'z'))
        len++;
    for (k = 0; k < n; k++) {
        if (strlen(names[k]) == len && strncasecmp(p, names[k], len) == 0) {
            *idx = k;
            return p + len;
        }
    }
    return NULL;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

bool
mule_hdr_parse_date(const char *s, int64_t *t)
{
    static const char *const dows[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
    static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    /* RFC 5322 4.3: the obsolete zone names and their offsets in hours. */
    static const char *const zones[] = { "UT", "GMT", "EST", "EDT", "CST", "CDT",
                                         "MST", "MDT", "PST", "PDT" };
    static const int zone_h[] = { 0, 0, -5, -4, -6, -5, -7, -6, -8, -7 };
    static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    const char *p, *q;
    int k, day, mon, year, hh, mm, ss = 0, zh, zm, off = 0, sign;

    if (s == NULL || t == NULL)
        return false;
    /* Comments must close: skip_cfws() stops at the end of an open one. */
    for (p = s, k = 0; *p != '\0'; p++) {
        if (*p == '\\' && p[1] != '\0')
            p++;
        else if (*p == '(')
            k++;
        else if (*p == ')' && --k < 0)
            return false;
    }
    if (k != 0)
        return false;
    p = skip_cfws(s);
    if ((q = word(p, dows, 7, &k)) != NULL) {
        p = skip_cfws(q);
        if (*p++ != ',')
            return false;
        p = skip_cfws(p);
    }
    if ((p = digits(p, 1, 2, &day)) == NULL)
        return false;
    if ((p = word(skip_cfws(p), months, 12, &mon)) == NULL)
        return false;
    q = skip_cfws(p);
    if ((p = digits(q, 2, 4, &year)) == NULL)
        return false;
    if (p - q == 2)
        year += year < 50 ? 2000 : 1900;
    else if (p - q == 3)
        year += 1900;
    if ((p = digits(skip_cfws(p), 2, 2, &hh)) == NULL)
        return false;
    p = skip_cfws(p);
    if (*p++ != ':' || (p = digits(skip_cfws(p), 2, 2, &mm)) == NULL)
        return false;
    q = skip_cfws(p);
    if (*q == ':' && (p = digits(skip_cfws(q + 1), 2, 2, &ss)) == NULL)
        return false;
    p = skip_cfws(p);
    if (*p == '+' || *p == '-') {
        sign = *p == '-' ? -1 : 1;
        if ((q = digits(p + 1, 4, 4, &zh)) == NULL || q - p != 5)
            return false;
        zm = zh % 100;
        zh /= 100;
        if (zm > 59)
            return false;
        off = sign * (zh * 3600 + zm * 60);
        p = q;
    } else if ((q = word(p, zones, 10, &k)) != NULL) {
        off = zone_h[k] * 3600;
        p = q;
    } else if (((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')) &&
               !((p[1] >= 'A' && p[1] <= 'Z') || (p[1] >= 'a' && p[1] <= 'z'))) {
        p++;                        /* military zone: -0000 (4.3) */
    } else {
        return false;
    }
    if (*skip_cfws(p) != '\0')
        return false;
    /* 60: a leap second (RFC 5322 3.3). */
    if (year < 1900 || year > 9999 || day < 1 || day > mdays[mon] ||
        (mon == 1 && day == 29 && !(year % 4 == 0 && (year % 100 != 0 || year % 400 == 0))) ||
        hh > 23 || mm > 59 || ss > 60)
        return false;
    *t = days_from_civil(year, mon + 1, day) * 86400 + hh * 3600 + mm * 60 + ss - off;
    return true;
}

bool
mule_hdr_mule_trace_time(const uint8_t *msg, size_t len, int64_t *t)
{
    char v[MULE_TRACE_MAX + 1];
    char *semi, *w;
    const char *x;

    if (!mule_hdr_get(msg, len, "Received", 0, false, v, sizeof(v)) ||
        (semi = strrchr(v, ';')) == NULL)
        return false;
    *semi = '\0';
    /* The protocol clause, "with MULE" (RFC 8494 6.2), before the date. */
    for (w = v; (w = strchr(w, ' ')) != NULL; w++) {
        if (strncasecmp(w + 1, "with", 4) == 0 && (w[5] == ' ' || w[5] == '\t')) {
            x = skip_cfws(w + 5);
            /* strchr finds the NUL too: "with MULE" may end the text. */
            if (strncasecmp(x, "mule", 4) == 0 && strchr(" \t(", x[4]) != NULL)
                return mule_hdr_parse_date(semi + 1, t);
        }
    }
    return false;
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
