/*
 * NAME
 *	tok - the one line tokenizer for configuration-like text
 * SYNOPSIS
 *	#include "pmul/util/tok.h"
 * DESCRIPTION
 *	One pass per line: find the LF, check the length and the octets,
 *	then copy each word into the caller's buffer (unescaping quoted
 *	words).  The line is checked whole before any word is returned, so
 *	a caller never acts on part of a line that is later rejected.
 *
 *	The routing table, netsim's scenarios and muled's configuration had
 *	three splitters that disagreed on CRLF, comments inside words and
 *	control characters (issue 8, item 5); this is the rule for all.
 * SECURITY
 *	The text may be operator input or a file anyone could have edited:
 *	every index is checked against the line length, the output can
 *	never pass the caller's buffer (each word takes at most the octets
 *	it consumed plus its NUL, and the line is capped below the buffer
 *	size), and the word count is capped by the caller's array.
 * DIAGNOSTICS
 *	UTIL_ERR_LINE_TOO_LONG, UTIL_ERR_TOO_MANY_WORDS, UTIL_ERR_CONTROL,
 *	UTIL_ERR_QUOTE, UTIL_ERR_INVAL with t->line and t->reason; nothing
 *	is logged.
 * SEE ALSO
 *	docs/configuration.md, docs/netsim.md.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "tok.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void
tok_init(tok *t, const char *text, size_t len, size_t line_max, unsigned flags,
         char *buf, size_t buf_len, tok_word *w, size_t w_max)
{
    memset(t, 0, sizeof(*t));
    t->text = text;
    t->len = text != NULL ? len : 0;
    t->flags = flags;
    t->buf = buf;
    t->w = w;
    t->w_max = w_max;
    /* A line of L octets needs at most L + 1 octets of words. */
    t->line_max = buf_len == 0 ? 0 : (line_max < buf_len - 1 ? line_max : buf_len - 1);
    if (buf == NULL || buf_len == 0 || w == NULL || w_max == 0)
        t->err = UTIL_ERR_INVAL;
}

static int
fail(tok *t, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
fail(tok *t, int err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    /* A cut reason only shortens the diagnostic. */
    if (vsnprintf(t->reason, sizeof(t->reason), fmt, ap) < 0)
        t->reason[0] = '\0';
    va_end(ap);
    t->err = err;
    t->n = 0;
    return err;
}

static inline bool
is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Split line[0..len) (checked: no control characters but tab). */
static int
split(tok *t, const char *line, size_t len)
{
    size_t i = 0, o = 0;
    char c;

    t->n = 0;
    while (i < len) {
        c = line[i];
        if (is_blank(c)) {
            i++;
            continue;
        }
        if (c == '#')
            break;
        if (t->n == t->w_max)
            return fail(t, UTIL_ERR_TOO_MANY_WORDS, "too many words (more than %zu)", t->w_max);
        t->w[t->n].p = &t->buf[o];
        t->w[t->n].quoted = c == '"' && (t->flags & TOK_QUOTES) != 0;
        if (t->w[t->n].quoted) {
            i++;
            for (;;) {
                if (i == len)
                    return fail(t, UTIL_ERR_QUOTE, "unterminated string");
                c = line[i++];
                if (c == '"')
                    break;
                if (c == '\\') {
                    if (i == len)
                        return fail(t, UTIL_ERR_QUOTE, "unterminated string");
                    c = line[i++];
                    switch (c) {
                    case 'n': c = '\n'; break;
                    case 'r': c = '\r'; break;
                    case 't': c = '\t'; break;
                    case '\\': case '"': break;
                    default:
                        return fail(t, UTIL_ERR_QUOTE, "unknown escape \\%c", c);
                    }
                }
                t->buf[o++] = c;
            }
            if (i < len && !is_blank(line[i]))
                return fail(t, UTIL_ERR_QUOTE, "text after closing quote");
        } else {
            while (i < len && !is_blank(line[i]) && line[i] != '#')
                t->buf[o++] = line[i++];
        }
        t->w[t->n].len = (size_t)(&t->buf[o] - t->w[t->n].p);
        t->buf[o++] = '\0';
        t->n++;
    }
    return 0;
}

int
tok_next(tok *t)
{
    const char *line, *nl;
    size_t len, i;
    unsigned char c;
    int rc;

    if (t->err != 0)
        return t->err;
    while (t->pos < t->len) {
        line = t->text + t->pos;
        nl = memchr(line, '\n', t->len - t->pos);
        len = nl != NULL ? (size_t)(nl - line) : t->len - t->pos;
        t->pos += len + (nl != NULL);
        t->line++;
        if (len > 0 && line[len - 1] == '\r')
            len--;
        if (len > t->line_max)
            return fail(t, UTIL_ERR_LINE_TOO_LONG, "line longer than %zu octets", t->line_max);
        for (i = 0; i < len; i++) {
            c = (unsigned char)line[i];
            if ((c < 0x20 && c != '\t') || c == 0x7f)
                return fail(t, UTIL_ERR_CONTROL, "control character 0x%02x", c);
        }
        if ((rc = split(t, line, len)) != 0)
            return rc;
        if (t->n > 0)
            return 1;
    }
    t->n = 0;
    return 0;
}

bool
tok_is(const tok_word *w, const char *kw)
{
    size_t i;
    unsigned char a, b;

    for (i = 0; i < w->len; i++) {
        a = (unsigned char)w->p[i];
        b = (unsigned char)kw[i];
        if (b == '\0')
            return false;
        if (a >= 'A' && a <= 'Z')
            a = (unsigned char)(a + 32);
        if (b >= 'A' && b <= 'Z')
            b = (unsigned char)(b + 32);
        if (a != b)
            return false;
    }
    return kw[i] == '\0';
}

int
tok_where(char *out, size_t outlen, const char *file, unsigned line, const char *fmt, ...)
{
    char reason[256];
    va_list ap;
    int n;

    va_start(ap, fmt);
    if (vsnprintf(reason, sizeof(reason), fmt, ap) < 0)
        reason[0] = '\0';
    va_end(ap);
    if (file == NULL)
        n = snprintf(out, outlen, "%u: %s", line, reason);
    else if (line != 0)
        n = snprintf(out, outlen, "%s:%u: %s", file, line, reason);
    else
        n = snprintf(out, outlen, "%s: %s", file, reason);
    if (n < 0 && outlen > 0)
        out[0] = '\0';
    return n;
}
