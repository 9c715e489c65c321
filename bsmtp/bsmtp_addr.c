/*
 * NAME
 *	bsmtp_addr - RFC 5321 path syntax, domain extraction, xtext
 * SYNOPSIS
 *	#include "bsmtp/bsmtp_addr.h"
 * DESCRIPTION
 *	Validates the text between the angle brackets of a reverse-path or
 *	forward-path exactly as RFC 5321 section 4.1.2 defines it: an
 *	optional (obsolete) source route, then a Mailbox whose local part is
 *	a Dot-string or a Quoted-string and whose domain is a Domain or an
 *	address literal (IPv4, IPv6 in its full, compressed and IPv4-embedded
 *	forms, or a General-address-literal, section 4.1.3).  The length
 *	limits of section 4.5.3.1 are applied after the syntax.  With
 *	SMTPUTF8 (RFC 6531 section 3.3) atoms, quoted strings and domain
 *	labels may also hold well-formed UTF-8.
 *
 *	It also extracts the routing domain of a path and converts xtext
 *	(RFC 3461 section 4) both ways.
 * SECURITY
 *	Sees untrusted text from MULE payloads and SMTP commands.  Every
 *	read goes through a bounds-checked cursor; nothing is allocated
 *	except by the xtext helpers, into a capped buf.
 * DIAGNOSTICS
 *	Returns BSMTP_ERR_PATH, BSMTP_ERR_PATH_TOO_LONG, BSMTP_ERR_UTF8,
 *	BSMTP_ERR_XTEXT, BSMTP_ERR_CAP, BSMTP_ERR_NOMEM, BSMTP_ERR_INVAL.
 *	Logs nothing.
 * SEE ALSO
 *	RFC 5321 4.1.2, 4.1.3, 4.5.3.1; RFC 6531 3.3; RFC 3461 4; RFC 3629.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "bsmtp/bsmtp_addr.h"

#include <string.h>
#include <strings.h>

#include "pmul/util/cur.h"

/* Longest DNS label in octets (RFC 1035 2.3.4); applied to ASCII labels
 * only, because a U-label's UTF-8 form may legitimately be longer than
 * its A-label. */
#define LABEL_MAX 63u

/*
 * Small cursor helpers.  The cursor is the only reader of the input
 * (style.md 7); these just give it a character-oriented face.
 */
static int
peekc(const cur *c)
{
    uint8_t v;

    return cur_peek_u8(c, &v) ? (int)v : -1;
}

static bool
eat(cur *c, int ch)
{
    if (peekc(c) != ch)
        return false;
    return cur_skip(c, 1);
}

/* Octets consumed from a cursor started over total octets. */
static size_t
used(const cur *c, size_t total)
{
    return total - c->left;
}

static bool
is_alpha(int ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');
}

static bool
is_digit(int ch)
{
    return ch >= '0' && ch <= '9';
}

static bool
is_hex(int ch)
{
    return is_digit(ch) || (ch >= 'A' && ch <= 'F') || (ch >= 'a' && ch <= 'f');
}

static bool
is_let_dig(int ch)
{
    return is_alpha(ch) || is_digit(ch);
}

/* RFC 5322 atext, which RFC 5321 uses for Atom. */
static bool
is_atext(int ch)
{
    if (is_let_dig(ch))
        return true;
    return ch > 0 && ch < 128 && strchr("!#$%&'*+-/=?^_`{|}~", ch) != NULL;
}

size_t
bsmtp_utf8_seq_len(const uint8_t *s, size_t len)
{
    uint32_t cp;
    size_t n, i;

    if (s == NULL || len == 0)
        return 0;
    if (s[0] < 0x80)
        return 1;
    /* RFC 3629 section 4: C0, C1 and F5..FF never start a sequence. */
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        n = 2;
        cp = s[0] & 0x1Fu;
    } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        n = 3;
        cp = s[0] & 0x0Fu;
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        n = 4;
        cp = s[0] & 0x07u;
    } else {
        return 0;
    }
    if (len < n)
        return 0;
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xC0u) != 0x80u)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    /* Overlong forms, UTF-16 surrogates and values past U+10FFFF. */
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000))
        return 0;
    if (cp >= 0xD800 && cp <= 0xDFFF)
        return 0;
    if (cp > 0x10FFFF)
        return 0;
    return n;
}

/*
 * Consume one non-ASCII character at the cursor.  Without SMTPUTF8 any
 * octet over 127 is refused outright (RFC 5321 is ASCII only).
 */
static int
take_utf8(cur *c, unsigned flags)
{
    size_t n;

    if (!(flags & BSMTP_ADDR_UTF8))
        return BSMTP_ERR_UTF8;
    n = bsmtp_utf8_seq_len(c->p, c->left);
    if (n == 0)
        return BSMTP_ERR_UTF8;
    (void)cur_skip(c, n);
    return 0;
}

/* Dot-string = Atom *("." Atom); Atom = 1*atext (RFC 6531: or UTF-8). */
static int
parse_dot_string(cur *c, unsigned flags)
{
    size_t atom;
    int ch, rc;

    for (;;) {
        atom = 0;
        for (;;) {
            ch = peekc(c);
            if (ch >= 0x80) {
                if ((rc = take_utf8(c, flags)) != 0)
                    return rc;
            } else if (ch >= 0 && is_atext(ch)) {
                (void)cur_skip(c, 1);
            } else {
                break;
            }
            atom++;
        }
        /* Empty atoms: a leading, trailing or doubled dot. */
        if (atom == 0)
            return BSMTP_ERR_PATH;
        if (!eat(c, '.'))
            return 0;
    }
}

/*
 * Quoted-string = DQUOTE *QcontentSMTP DQUOTE, where qtextSMTP is
 * %d32-33 / %d35-91 / %d93-126 (plus UTF-8 under SMTPUTF8) and
 * quoted-pairSMTP is "\" followed by %d32-126.  RFC 6531 does not extend
 * quoted-pair, so a backslash before a non-ASCII octet is refused.
 */
static int
parse_quoted(cur *c, unsigned flags)
{
    int ch, rc;

    (void)cur_skip(c, 1);
    for (;;) {
        ch = peekc(c);
        if (ch < 0)
            return BSMTP_ERR_PATH;
        if (ch == '"') {
            (void)cur_skip(c, 1);
            return 0;
        }
        if (ch == '\\') {
            (void)cur_skip(c, 1);
            ch = peekc(c);
            if (ch < 32 || ch > 126)
                return BSMTP_ERR_PATH;
            (void)cur_skip(c, 1);
            continue;
        }
        if (ch >= 0x80) {
            if ((rc = take_utf8(c, flags)) != 0)
                return rc;
            continue;
        }
        if (ch < 32 || ch == 127)
            return BSMTP_ERR_PATH;
        (void)cur_skip(c, 1);
    }
}

static int
parse_local(cur *c, unsigned flags)
{
    if (peekc(c) == '"')
        return parse_quoted(c, flags);
    return parse_dot_string(c, flags);
}

/*
 * Domain = sub-domain *("." sub-domain); sub-domain = Let-dig [Ldh-str]:
 * letters, digits and inner hyphens, starting and ending with a letter or
 * digit.  Under SMTPUTF8 a sub-domain may be a U-label; we accept UTF-8
 * characters wherever a letter may stand (IDNA validity is the resolver's
 * business).  Stops at the first octet that cannot continue the domain.
 */
static int
parse_domain(cur *c, unsigned flags)
{
    size_t label;
    bool ascii, last_hyphen;
    int ch, rc;

    for (;;) {
        label = 0;
        ascii = true;
        last_hyphen = false;
        for (;;) {
            ch = peekc(c);
            if (ch >= 0x80) {
                if ((rc = take_utf8(c, flags)) != 0)
                    return rc;
                ascii = false;
                last_hyphen = false;
            } else if (ch >= 0 && is_let_dig(ch)) {
                (void)cur_skip(c, 1);
                last_hyphen = false;
            } else if (ch == '-' && label > 0) {
                (void)cur_skip(c, 1);
                last_hyphen = true;
            } else {
                break;
            }
            label++;
        }
        if (label == 0 || last_hyphen)
            return BSMTP_ERR_PATH;
        if (ascii && label > LABEL_MAX)
            return BSMTP_ERR_PATH_TOO_LONG;
        if (!eat(c, '.'))
            return 0;
    }
}

/* Snum = 1*3DIGIT with a value of 0..255; IPv4 = Snum 3("." Snum).
 * Leading zeros are allowed by the grammar. */
static bool
parse_ipv4(cur *c)
{
    unsigned v;
    int i, n, ch;

    for (i = 0; i < 4; i++) {
        if (i > 0 && !eat(c, '.'))
            return false;
        v = 0;
        for (n = 0; n < 3 && is_digit(ch = peekc(c)); n++) {
            v = v * 10 + (unsigned)(ch - '0');
            (void)cur_skip(c, 1);
        }
        if (n == 0 || v > 255 || is_digit(peekc(c)))
            return false;
    }
    return true;
}

/*
 * IPv6-addr = IPv6-full / IPv6-comp / IPv6v4-full / IPv6v4-comp
 * (RFC 5321 4.1.3).  An embedded IPv4 address counts as two groups.
 * Without "::" there must be exactly 8 groups; with it at most 6, which
 * is also the IPv6v4-comp bound of 4 hex groups plus the IPv4 part.
 * The whole cursor must be consumed.
 */
static bool
parse_ipv6(cur *c)
{
    unsigned groups = 0;
    bool compressed = false;
    cur save;
    int n;

    if (eat(c, ':')) {
        if (!eat(c, ':'))
            return false;
        compressed = true;
        if (c->left == 0)
            return true;
    }
    for (;;) {
        /* An IPv4 tail may stand wherever a group may, if it ends the
         * literal. */
        save = *c;
        if (parse_ipv4(&save) && save.left == 0) {
            *c = save;
            groups += 2;
            break;
        }
        for (n = 0; n < 4 && is_hex(peekc(c)); n++)
            (void)cur_skip(c, 1);
        if (n == 0 || is_hex(peekc(c)))
            return false;
        groups++;
        if (c->left == 0)
            break;
        if (!eat(c, ':'))
            return false;
        if (eat(c, ':')) {
            if (compressed)
                return false;
            compressed = true;
            if (c->left == 0)
                break;
        } else if (c->left == 0) {
            return false;          /* a single trailing ':' */
        }
    }
    if (c->left != 0)
        return false;
    return compressed ? groups <= 6 : groups == 8;
}

/* dcontent = %d33-90 / %d94-126: printable ASCII except "[", "\", "]". */
static bool
is_dcontent(int ch)
{
    return (ch >= 33 && ch <= 90) || (ch >= 94 && ch <= 126);
}

/*
 * address-literal = "[" ( IPv4-address-literal / IPv6-address-literal /
 * General-address-literal ) "]".  The content is isolated first (it can
 * contain no "]"), then classified: no ':' means IPv4; a tag equal to
 * "IPv6" (any case) must be followed by a valid IPv6 address; any other
 * tag is a Standardized-tag (Ldh-str) followed by 1*dcontent.
 */
static int
parse_addr_literal(cur *c)
{
    cur in, content, t;
    size_t n = 0, tag_len = 0, i;
    bool colon = false, last_hyphen = false;
    uint8_t b[4];
    int ch;

    (void)cur_skip(c, 1);
    in = *c;
    while ((ch = peekc(c)) >= 0 && is_dcontent(ch)) {
        if (ch == ':' && !colon) {
            colon = true;
            tag_len = n;
        }
        (void)cur_skip(c, 1);
        n++;
    }
    if (!eat(c, ']') || n == 0)
        return BSMTP_ERR_PATH;
    (void)cur_sub(&in, &content, n);    /* the text between the brackets */
    t = content;
    if (!colon)
        return parse_ipv4(&t) && t.left == 0 ? 0 : BSMTP_ERR_PATH;
    if (tag_len == 4 && cur_bytes(&t, b, 4) && strncasecmp((const char *)b, "IPv6", 4) == 0) {
        (void)cur_skip(&t, 1);          /* the ':' */
        return parse_ipv6(&t) ? 0 : BSMTP_ERR_PATH;
    }
    /* Standardized-tag = Ldh-str: letters, digits and hyphens, ending in
     * a letter or digit.  The scan above already proved every octet is
     * dcontent; the part after the colon must only be non-empty. */
    if (tag_len == 0 || n == tag_len + 1)
        return BSMTP_ERR_PATH;
    t = content;
    for (i = 0; i < tag_len; i++) {
        ch = peekc(&t);
        if (!(is_let_dig(ch) || ch == '-'))
            return BSMTP_ERR_PATH;
        last_hyphen = ch == '-';
        (void)cur_skip(&t, 1);
    }
    return last_hyphen ? BSMTP_ERR_PATH : 0;
}

/* Domain or address-literal at the cursor; *len gets its octet count. */
static int
parse_domain_or_literal(cur *c, unsigned flags, size_t *len)
{
    size_t start = c->left;
    int rc;

    if (peekc(c) == '[')
        rc = parse_addr_literal(c);
    else
        rc = parse_domain(c, flags);
    if (rc != 0)
        return rc;
    *len = start - c->left;
    return *len > BSMTP_DOMAIN_MAX ? BSMTP_ERR_PATH_TOO_LONG : 0;
}

/* Where the parts of a path lie, in octets from its start. */
struct parts {
    size_t local_off, local_len, domain_off, domain_len;
};

/*
 * Mailbox = Local-part "@" ( Domain / address-literal ), consuming the
 * rest of the cursor.  Syntax errors win over length errors, except
 * inside the domain, where a label over 63 octets is reported at once.
 */
static int
parse_mailbox(cur *c, size_t total, unsigned flags, struct parts *pt)
{
    int rc;

    pt->local_off = used(c, total);
    if ((rc = parse_local(c, flags)) != 0)
        return rc;
    pt->local_len = used(c, total) - pt->local_off;
    if (!eat(c, '@'))
        return BSMTP_ERR_PATH;
    pt->domain_off = used(c, total);
    if ((rc = parse_domain_or_literal(c, flags, &pt->domain_len)) != 0)
        return rc;
    if (c->left != 0)
        return BSMTP_ERR_PATH;
    if (pt->local_len > BSMTP_LOCAL_MAX)
        return BSMTP_ERR_PATH_TOO_LONG;
    return 0;
}

static bool
is_postmaster(const char *s, size_t len)
{
    return len == 10 && strncasecmp(s, "Postmaster", 10) == 0;
}

/*
 * The common walk behind the public checkers: null path, bare
 * Postmaster, optional A-d-l ("@dom,@dom:"), then the Mailbox.
 */
static int
parse_path(const char *s, size_t len, unsigned flags, struct parts *pt)
{
    size_t dlen;
    cur c;
    int rc;

    memset(pt, 0, sizeof(*pt));
    if (s == NULL && len > 0)
        return BSMTP_ERR_INVAL;
    if (len == 0)
        return (flags & BSMTP_ADDR_NULL_OK) ? 0 : BSMTP_ERR_PATH;
    if ((flags & BSMTP_ADDR_POSTMASTER) && is_postmaster(s, len)) {
        pt->local_len = len;
        return 0;
    }
    cur_init(&c, s, len);
    if (peekc(&c) == '@') {
        /* A-d-l = At-domain *( "," At-domain ) ":"  (RFC 5321 4.1.2:
         * must be accepted, should be ignored; we keep it as written). */
        do {
            if (!eat(&c, '@'))
                return BSMTP_ERR_PATH;
            if ((rc = parse_domain_or_literal(&c, flags, &dlen)) != 0)
                return rc;
        } while (eat(&c, ','));
        if (!eat(&c, ':'))
            return BSMTP_ERR_PATH;
    }
    if ((rc = parse_mailbox(&c, len, flags, pt)) != 0)
        return rc;
    /* RFC 5321 4.5.3.1.3: the path, brackets included, is at most 256. */
    if (len > BSMTP_PATH_MAX - 2)
        return BSMTP_ERR_PATH_TOO_LONG;
    return 0;
}

int
bsmtp_addr_check_path(const char *s, size_t len, unsigned flags)
{
    struct parts pt;

    return parse_path(s, len, flags, &pt);
}

int
bsmtp_addr_check_mailbox(const char *s, size_t len, unsigned flags)
{
    struct parts pt;
    cur c;
    int rc;

    if (s == NULL && len > 0)
        return BSMTP_ERR_INVAL;
    cur_init(&c, s, len);
    if ((rc = parse_mailbox(&c, len, flags, &pt)) != 0)
        return rc;
    if (len > BSMTP_PATH_MAX - 2)
        return BSMTP_ERR_PATH_TOO_LONG;
    return 0;
}

int
bsmtp_addr_check_domain(const char *s, size_t len, unsigned flags)
{
    size_t dlen;
    cur c;
    int rc;

    if (s == NULL && len > 0)
        return BSMTP_ERR_INVAL;
    cur_init(&c, s, len);
    if ((rc = parse_domain_or_literal(&c, flags, &dlen)) != 0)
        return rc;
    return c.left == 0 ? 0 : BSMTP_ERR_PATH;
}

int
bsmtp_addr_split(const char *s, size_t len, unsigned flags,
                 size_t *local_off, size_t *local_len,
                 size_t *domain_off, size_t *domain_len)
{
    struct parts pt;
    int rc;

    if (local_off == NULL || local_len == NULL || domain_off == NULL || domain_len == NULL)
        return BSMTP_ERR_INVAL;
    if ((rc = parse_path(s, len, flags, &pt)) != 0)
        return rc;
    *local_off = pt.local_off;
    *local_len = pt.local_len;
    *domain_off = pt.domain_off;
    *domain_len = pt.domain_len;
    return 0;
}

ssize_t
bsmtp_addr_domain(const char *s, size_t len, unsigned flags, char *out, size_t cap)
{
    struct parts pt;
    const uint8_t *d;
    bool literal;
    size_t i;
    cur c;
    int rc;

    if (out == NULL || cap == 0)
        return BSMTP_ERR_INVAL;
    if ((rc = parse_path(s, len, flags, &pt)) != 0)
        return rc;
    if (pt.domain_len >= cap)
        return BSMTP_ERR_CAP;
    cur_init(&c, s, len);
    if (!cur_skip(&c, pt.domain_off) || !cur_view(&c, &d, pt.domain_len))
        return BSMTP_ERR_INVAL;    /* cannot happen: parse_path measured it */
    /* Domains compare case-insensitively (RFC 5321 2.4), so routing keys
     * are lowercase; address literals are kept exactly as written. */
    literal = pt.domain_len > 0 && d[0] == '[';
    for (i = 0; i < pt.domain_len; i++)
        out[i] = (char)(!literal && d[i] >= 'A' && d[i] <= 'Z' ? d[i] + ('a' - 'A') : d[i]);
    out[pt.domain_len] = '\0';
    return (ssize_t)pt.domain_len;
}

/*
 * xtext (RFC 3461 section 4): xchar is "!".."~" except "+" and "=";
 * hexchar is "+" and two uppercase hex digits.
 */
static bool
is_xchar(int ch)
{
    return ch >= 33 && ch <= 126 && ch != '+' && ch != '=';
}

static int
hexval_upper(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Decode one xtext unit at the cursor into *v; false if malformed. */
static bool
xtext_unit(cur *c, uint8_t *v)
{
    uint8_t ch, h1, h2;
    int a, b;

    if (!cur_u8(c, &ch))
        return false;
    if (ch != '+') {
        *v = ch;
        return is_xchar(ch);
    }
    if (!cur_u8(c, &h1) || !cur_u8(c, &h2))
        return false;
    a = hexval_upper(h1);
    b = hexval_upper(h2);
    if (a < 0 || b < 0)
        return false;
    *v = (uint8_t)(a * 16 + b);
    return true;
}

bool
bsmtp_is_xtext(const char *s, size_t len)
{
    uint8_t v;
    cur c;

    if (s == NULL)
        return len == 0;
    cur_init(&c, s, len);
    while (c.left > 0)
        if (!xtext_unit(&c, &v))
            return false;
    return true;
}

static int
buf_rc(int rc)
{
    if (rc == 0)
        return 0;
    return rc == BUF_ERR_CAP ? BSMTP_ERR_CAP : BSMTP_ERR_NOMEM;
}

int
bsmtp_xtext_encode(buf *out, const void *in, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    uint8_t ch, enc[3];
    size_t start;
    cur c;
    int rc;

    if (out == NULL || (in == NULL && len > 0))
        return BSMTP_ERR_INVAL;
    start = out->len;
    cur_init(&c, in, len);
    while (cur_u8(&c, &ch)) {
        if (is_xchar(ch)) {
            rc = buf_append(out, &ch, 1);
        } else {
            enc[0] = '+';
            enc[1] = (uint8_t)hex[ch >> 4];
            enc[2] = (uint8_t)hex[ch & 0xF];
            rc = buf_append(out, enc, 3);
        }
        if (rc != 0) {
            out->len = start;
            return buf_rc(rc);
        }
    }
    return 0;
}

int
bsmtp_xtext_decode(buf *out, const char *s, size_t len)
{
    size_t start;
    uint8_t v;
    cur c;
    int rc;

    if (out == NULL || (s == NULL && len > 0))
        return BSMTP_ERR_INVAL;
    start = out->len;
    cur_init(&c, s, len);
    while (c.left > 0) {
        if (!xtext_unit(&c, &v)) {
            out->len = start;
            return BSMTP_ERR_XTEXT;
        }
        if ((rc = buf_append(out, &v, 1)) != 0) {
            out->len = start;
            return buf_rc(rc);
        }
    }
    return 0;
}
