/*
 * NAME
 *	bsmtp_reply - incremental SMTP/LMTP reply parser
 * SYNOPSIS
 *	#include "bsmtp/bsmtp_reply.h"
 * DESCRIPTION
 *	Assembles reply lines (RFC 5321 4.2: "ddd-text" continues a reply,
 *	"ddd text" or a bare "ddd" ends it) from bytes pushed in by the
 *	driver, in any fragmentation, and returns each complete reply with
 *	its code, the enhanced status code of its first line (RFC 2034,
 *	RFC 3463) and its text.  Pipelined replies arriving in one read come
 *	out one call at a time.  No socket, clock or allocation.
 *
 *	bsmtp_reply_ehlo_ext() reads the service extensions (RFC 5321
 *	4.1.1.1) out of a parsed EHLO or LHLO reply.
 * SECURITY
 *	Sees untrusted bytes from a remote server.  A line is buffered in a
 *	fixed array of BSMTP_REPLY_LINE_MAX octets; a longer line, more than
 *	BSMTP_REPLY_LINES_MAX lines in one reply, a NUL, a bare CR, a code
 *	outside 200..599 or a continuation line with another code is an
 *	error that sticks, so the driver closes the connection.
 * DIAGNOSTICS
 *	Returns BSMTP_ERR_REPLY_SYNTAX, BSMTP_ERR_REPLY_TOO_LONG,
 *	BSMTP_ERR_INVAL.  Logs nothing.
 * SEE ALSO
 *	RFC 5321 4.2, 4.5.3.1.5; RFC 2034; RFC 3463.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "bsmtp/bsmtp_reply.h"

#include <string.h>
#include <strings.h>

#include "bsmtp/bsmtp_err.h"
#include "pmul/util/num.h"

void
bsmtp_reply_parser_init(bsmtp_reply_parser *p)
{
    memset(p, 0, sizeof(*p));
}

bool
bsmtp_reply_parser_busy(const bsmtp_reply_parser *p)
{
    return p->line_len > 0 || p->cur.nlines > 0;
}

static bool
is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

/* Reads 1..3 digits at s[*i]; returns -1 when there are none or more. */
static int
enh_num(const uint8_t *s, size_t len, size_t *i)
{
    int v = 0;
    size_t n = 0;

    while (*i < len && is_digit(s[*i])) {
        if (++n > 3)
            return -1;
        v = v * 10 + (s[*i] - '0');
        (*i)++;
    }
    return n == 0 ? -1 : v;
}

/*
 * RFC 3463 status-code = class "." subject "." detail, followed by SP or
 * the end of the line; its class must agree with the reply's first digit
 * (RFC 2034 section 4), otherwise the text is just text.
 */
static void
parse_enh(bsmtp_reply *r, const uint8_t *s, size_t len)
{
    size_t i;
    int subject, detail;

    if (len < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5')
        || s[0] - '0' != r->code / 100 || s[1] != '.')
        return;
    i = 2;
    if ((subject = enh_num(s, len, &i)) < 0 || i >= len || s[i] != '.')
        return;
    i++;
    if ((detail = enh_num(s, len, &i)) < 0 || (i < len && s[i] != ' '))
        return;
    r->enh_class = s[0] - '0';
    r->enh_subject = subject;
    r->enh_detail = detail;
}

/* One complete line (terminator removed).  Returns 1 when it ended the
 * reply, 0 when the reply continues, or an error. */
static int
take_line(bsmtp_reply_parser *p, const uint8_t *s, size_t len)
{
    bsmtp_reply *r = &p->cur;
    const uint8_t *text;
    size_t tlen, room;
    int code;
    bool last;

    if (len < 3 || !is_digit(s[0]) || !is_digit(s[1]) || !is_digit(s[2])
        || s[0] < '2' || s[0] > '5' || s[1] > '5')
        return BSMTP_ERR_REPLY_SYNTAX;
    if (len > 3 && s[3] != ' ' && s[3] != '-')
        return BSMTP_ERR_REPLY_SYNTAX;
    code = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
    last = len == 3 || s[3] == ' ';
    text = len > 4 ? s + 4 : s;
    tlen = len > 4 ? len - 4 : 0;

    if (r->nlines == 0) {
        r->code = code;
        parse_enh(r, text, tlen);
    } else if (code != r->code) {
        return BSMTP_ERR_REPLY_SYNTAX;
    }
    if (r->nlines >= BSMTP_REPLY_LINES_MAX)
        return BSMTP_ERR_REPLY_TOO_LONG;

    /* Text: '\n' between lines; what does not fit is dropped whole-line
     * wise from the first line that does not fit, marked truncated. */
    room = BSMTP_REPLY_TEXT_MAX - r->text_len;
    if (!r->truncated) {
        size_t need = tlen + (r->nlines > 0 ? 1 : 0);

        if (need > room) {
            r->truncated = true;
        } else {
            if (r->nlines > 0)
                r->text[r->text_len++] = '\n';
            memcpy(r->text + r->text_len, text, tlen);
            r->text_len += tlen;
        }
    }
    r->text[r->text_len] = '\0';
    r->nlines++;
    return last ? 1 : 0;
}

int
bsmtp_reply_feed(bsmtp_reply_parser *p, const uint8_t *in, size_t len,
                 size_t *used, bsmtp_reply *out)
{
    size_t i;

    if (used)
        *used = 0;
    if (!p || !used || !out || (!in && len > 0))
        return BSMTP_ERR_INVAL;
    if (p->err)
        return p->err;

    for (i = 0; i < len; i++) {
        uint8_t c = in[i];
        int rc;

        if (c != '\n') {
            if (c == '\0') {
                rc = BSMTP_ERR_REPLY_SYNTAX;
                goto fail;
            }
            /* The byte before LF may be CR; it is checked when LF comes. */
            if (p->line_len >= BSMTP_REPLY_LINE_MAX - 1) {
                rc = BSMTP_ERR_REPLY_TOO_LONG;
                goto fail;
            }
            p->line[p->line_len++] = c;
            continue;
        }
        {
            size_t l = p->line_len;

            if (l > 0 && p->line[l - 1] == '\r')
                l--;
            if (memchr(p->line, '\r', l) != NULL) {
                rc = BSMTP_ERR_REPLY_SYNTAX;
                goto fail;
            }
            rc = take_line(p, p->line, l);
            p->line_len = 0;
        }
        if (rc < 0)
            goto fail;
        if (rc == 1) {
            *out = p->cur;
            memset(&p->cur, 0, sizeof(p->cur));
            *used = i + 1;
            return 1;
        }
        continue;
fail:
        p->err = rc;
        *used = i + 1;
        return rc;
    }
    *used = len;
    return 0;
}

/* Decimal argument of SIZE / DELIVERBY through the one number parser;
 * anything it refuses (or longer than 20 digits) counts as "no number
 * given", 0. */
static uint64_t
ext_number(const char *s, size_t len)
{
    char tmp[21];
    uint64_t v = 0;

    if (len == 0 || len >= sizeof(tmp))
        return 0;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    return num_parse_u64(tmp, 0, UINT64_MAX, &v) == 0 ? v : 0;
}

int
bsmtp_reply_ehlo_ext(const bsmtp_reply *r, bsmtp_ext *ext)
{
    static const struct {
        const char *kw;
        unsigned flag;
    } kws[] = {
        {"PIPELINING", BSMTP_EXT_PIPELINING},
        {"CHUNKING", BSMTP_EXT_CHUNKING},
        {"BINARYMIME", BSMTP_EXT_BINARYMIME},
        {"8BITMIME", BSMTP_EXT_8BITMIME},
        {"SIZE", BSMTP_EXT_SIZE},
        {"DSN", BSMTP_EXT_DSN},
        {"SMTPUTF8", BSMTP_EXT_SMTPUTF8},
        {"MT-PRIORITY", BSMTP_EXT_MT_PRIORITY},
        {"DELIVERBY", BSMTP_EXT_DELIVERBY},
        {"ENHANCEDSTATUSCODES", BSMTP_EXT_ENHANCEDSTATUSCODES},
        {"AUTH", BSMTP_EXT_AUTH},
    };
    const char *s, *end, *nl;

    if (!r || !ext || r->code / 100 != 2)
        return BSMTP_ERR_INVAL;
    memset(ext, 0, sizeof(*ext));
    end = r->text + r->text_len;
    /* The first line is "domain [greet]": not an extension. */
    nl = memchr(r->text, '\n', r->text_len);
    for (s = nl ? nl + 1 : end; s < end; s = nl ? nl + 1 : end) {
        const char *sp, *arg;
        size_t kwlen, arglen, k;

        nl = memchr(s, '\n', (size_t)(end - s));
        sp = memchr(s, ' ', (size_t)((nl ? nl : end) - s));
        kwlen = (size_t)((sp ? sp : (nl ? nl : end)) - s);
        arg = sp ? sp + 1 : NULL;
        arglen = arg ? (size_t)((nl ? nl : end) - arg) : 0;
        for (k = 0; k < sizeof(kws) / sizeof(kws[0]); k++) {
            if (strlen(kws[k].kw) != kwlen || strncasecmp(s, kws[k].kw, kwlen) != 0)
                continue;
            ext->flags |= kws[k].flag;
            if (kws[k].flag == BSMTP_EXT_SIZE && arg)
                ext->size_max = ext_number(arg, arglen);
            if (kws[k].flag == BSMTP_EXT_DELIVERBY && arg)
                ext->deliverby_min_s = ext_number(arg, arglen);
            break;
        }
    }
    return 0;
}
