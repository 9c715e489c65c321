/*
 * NAME
 *	bsmtp_param - ESMTP MAIL/RCPT parameters and their MULE-required values
 * SYNOPSIS
 *	#include "bsmtp/bsmtp_param.h"
 * DESCRIPTION
 *	Splits "esmtp-param *(SP esmtp-param)" (RFC 5321 4.1.2) into owned
 *	keyword/value pairs kept in their original order and spelling, and
 *	checks the parameters of the extensions MULE requires (draft
 *	section 2): SIZE (RFC 1870), BODY (RFC 6152, RFC 3030), RET, ENVID,
 *	NOTIFY, ORCPT (RFC 3461), MT-PRIORITY (RFC 6710), BY (RFC 2852),
 *	AUTH (RFC 4954) and SMTPUTF8 (RFC 6531).  Unknown parameters are kept
 *	untouched because MULE relays pass on what they do not understand
 *	(section 3.3); they must still be valid esmtp-keyword ["=" value].
 *
 *	Choices the RFCs leave open, made strict here because a malformed
 *	envelope is answered with a DSN rather than guessed at:
 *	- any keyword given twice on one line is refused, known or not;
 *	- a MAIL keyword on an RCPT line (or the reverse) is refused;
 *	- NOTIFY may not repeat a keyword ("SUCCESS,SUCCESS");
 *	- ENVID must decode to 1..100 printable ASCII characters;
 *	- BODY=BINARY, written in MULE draft section 4.1 where RFC 3030
 *	  names the value BINARYMIME, is accepted as BINARYMIME only when
 *	  the caller asks (BSMTP_MAIL_BODY_BINARY: the MULE payload parser,
 *	  tolerant in what it accepts from MULE peers) and is refused on
 *	  SMTP ingress.  bsmtp_param_body_canon() rewrites it as BINARYMIME,
 *	  so the alias is never passed on.
 * SECURITY
 *	Sees untrusted parameter text.  The number of entries allocated is
 *	bounded by the caller's cap and counted from the text before any
 *	allocation; all reads go through a bounds-checked cursor.
 * DIAGNOSTICS
 *	Returns BSMTP_ERR_PARAM_SYNTAX, _VALUE, _DUP, _PLACE, _CAP,
 *	BSMTP_ERR_UTF8, BSMTP_ERR_NOMEM, BSMTP_ERR_INVAL.  Logs nothing.
 * SEE ALSO
 *	bsmtp_addr(3) for xtext; RFC 5321, 1870, 2852, 3030, 3461, 4954,
 *	6152, 6531, 6710.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "bsmtp/bsmtp_param.h"

#include <string.h>
#include <strings.h>

#include "bsmtp/bsmtp_addr.h"
#include "pmul/util/cur.h"

/* Which line a known keyword belongs on. */
enum place { PLACE_MAIL, PLACE_RCPT };

static const struct known {
    const char *kw;
    enum place place;
} known_params[] = {
    {"SIZE", PLACE_MAIL},
    {"BODY", PLACE_MAIL},
    {"RET", PLACE_MAIL},
    {"ENVID", PLACE_MAIL},
    {"MT-PRIORITY", PLACE_MAIL},
    {"BY", PLACE_MAIL},
    {"AUTH", PLACE_MAIL},
    {"SMTPUTF8", PLACE_MAIL},
    {"NOTIFY", PLACE_RCPT},
    {"ORCPT", PLACE_RCPT},
};

static const struct known *
find_known(const char *kw)
{
    size_t i;

    for (i = 0; i < sizeof(known_params) / sizeof(known_params[0]); i++)
        if (strcasecmp(kw, known_params[i].kw) == 0)
            return &known_params[i];
    return NULL;
}

static bool
is_alnum(int ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

static bool
is_digit(int ch)
{
    return ch >= '0' && ch <= '9';
}

/* A cursor over a NUL-terminated value (our own copy of peer text). */
static void
cur_str(cur *c, const char *s)
{
    cur_init(c, s, strlen(s));
}

/* Octets before the first stop octet (or all that are left), without
 * moving the cursor. */
static size_t
span_until(const cur *c, uint8_t stop)
{
    cur t = *c;
    size_t n = 0;
    uint8_t ch;

    while (cur_u8(&t, &ch) && ch != stop)
        n++;
    return n;
}

/* True when the next n octets equal word, ignoring ASCII case. */
static bool
next_is(const cur *c, size_t n, const char *word)
{
    const uint8_t *v;
    cur t = *c;

    return strlen(word) == n && cur_view(&t, &v, n) &&
           strncasecmp((const char *)v, word, n) == 0;
}

bool
bsmtp_is_esmtp_keyword(const char *kw, size_t len)
{
    uint8_t ch;
    cur c;

    if (kw == NULL || len == 0)
        return false;
    cur_init(&c, kw, len);
    (void)cur_u8(&c, &ch);
    if (!is_alnum(ch))
        return false;
    while (cur_u8(&c, &ch))
        if (!is_alnum(ch) && ch != '-')
            return false;
    return true;
}

/* esmtp-value octet: %d33-60 / %d62-126 (RFC 5321), nothing else ASCII. */
static bool
is_value_ascii(int ch)
{
    return ch >= 33 && ch <= 126 && ch != '=';
}

/*
 * Classify a value: 0 when it is a valid esmtp-value, BSMTP_ERR_UTF8 when
 * the only fault is non-ASCII (without utf8) or malformed UTF-8, else
 * BSMTP_ERR_PARAM_SYNTAX.
 */
static int
check_value(const char *val, size_t len, bool utf8)
{
    bool bad_utf8 = false;
    size_t n;
    uint8_t b;
    cur c;
    int ch;

    if (val == NULL || len == 0)
        return BSMTP_ERR_PARAM_SYNTAX;
    cur_init(&c, val, len);
    while (cur_peek_u8(&c, &b)) {
        ch = b;
        if (ch >= 0x80) {
            n = utf8 ? bsmtp_utf8_seq_len(c.p, c.left) : 0;
            if (n == 0) {
                bad_utf8 = true;
                n = 1;
            }
            (void)cur_skip(&c, n);
            continue;
        }
        if (!is_value_ascii(ch))
            return BSMTP_ERR_PARAM_SYNTAX;
        (void)cur_skip(&c, 1);
    }
    return bad_utf8 ? BSMTP_ERR_UTF8 : 0;
}

bool
bsmtp_is_esmtp_value(const char *val, size_t len, bool utf8)
{
    return check_value(val, len, utf8) == 0;
}

/* Allocate one entry: keyword and value in a single block. */
static int
param_set(bsmtp_param *p, const mem *m, const char *kw, size_t kw_len,
          const char *val, size_t val_len)
{
    size_t need;
    char *blk;

    /* kw_len and val_len are bounded by the caller's line, far below
     * SIZE_MAX; the check keeps the sum honest anyway. */
    if (kw_len > SIZE_MAX / 2 || val_len > SIZE_MAX / 2 - 2)
        return BSMTP_ERR_INVAL;
    need = kw_len + 1 + (val != NULL ? val_len + 1 : 0);
    blk = mem_alloc(m, need);
    if (blk == NULL)
        return BSMTP_ERR_NOMEM;
    memcpy(blk, kw, kw_len);
    blk[kw_len] = '\0';
    p->keyword = blk;
    p->value = NULL;
    if (val != NULL) {
        p->value = blk + kw_len + 1;
        memcpy(p->value, val, val_len);
        p->value[val_len] = '\0';
    }
    return 0;
}

void
bsmtp_param_list_free(bsmtp_param *p, size_t cnt, const mem *m)
{
    size_t i;

    if (p == NULL)
        return;
    for (i = 0; i < cnt; i++)
        mem_free(m, p[i].keyword);
    mem_free(m, p);
}

/*
 * Split one "kw[=value]" token of a list.  The token ends at SP or at the
 * end of the text.  Only the generic shape is checked here (keyword
 * octets, one '=', no control octets or '=' in the value, non-empty
 * value); non-ASCII octets in the value are judged later against
 * SMTPUTF8, and the keyword's first octet in bsmtp_is_esmtp_keyword().
 */
static int
split_token(cur *c, const uint8_t **kw, size_t *kw_len, const uint8_t **val,
            size_t *val_len, bool *has_val)
{
    cur start = *c;
    size_t n = 0;
    uint8_t ch;

    while (cur_peek_u8(c, &ch) && (is_alnum(ch) || ch == '-')) {
        (void)cur_skip(c, 1);
        n++;
    }
    if (n == 0 || !cur_peek_u8(&start, &ch) || !is_alnum(ch))
        return BSMTP_ERR_PARAM_SYNTAX;
    (void)cur_view(&start, kw, n);
    *kw_len = n;
    *has_val = false;
    *val = NULL;
    *val_len = 0;
    if (!cur_peek_u8(c, &ch) || ch == ' ')
        return 0;
    if (ch != '=')
        return BSMTP_ERR_PARAM_SYNTAX;
    (void)cur_skip(c, 1);
    start = *c;
    n = 0;
    while (cur_peek_u8(c, &ch) && ch != ' ') {
        if (ch < 0x80 && !is_value_ascii(ch))
            return BSMTP_ERR_PARAM_SYNTAX;
        (void)cur_skip(c, 1);
        n++;
    }
    if (n == 0)
        return BSMTP_ERR_PARAM_SYNTAX;
    (void)cur_view(&start, val, n);
    *val_len = n;
    *has_val = true;
    return 0;
}

int
bsmtp_param_list_parse(const char *text, size_t len, size_t cap, const mem *m,
                       bsmtp_param **out, size_t *cnt)
{
    const uint8_t *kw, *val;
    size_t kw_len, val_len, n, i;
    bsmtp_param *arr = NULL;
    bool has_val;
    uint8_t ch;
    cur c;
    int rc;

    if (out == NULL || cnt == NULL || (text == NULL && len > 0))
        return BSMTP_ERR_INVAL;
    *out = NULL;
    *cnt = 0;
    if (len == 0)
        return 0;

    /* First pass: validate the shape and count, so that the array is
     * sized by what is really there and never beyond the cap. */
    cur_init(&c, text, len);
    n = 0;
    for (;;) {
        if ((rc = split_token(&c, &kw, &kw_len, &val, &val_len, &has_val)) != 0)
            return rc;
        if (++n > cap)
            return BSMTP_ERR_PARAM_CAP;
        if (!cur_u8(&c, &ch))
            break;
        /* ch is the single SP; a parameter must follow it. */
        if (c.left == 0)
            return BSMTP_ERR_PARAM_SYNTAX;
    }

    arr = mem_calloc(m, n, sizeof(*arr));
    if (arr == NULL)
        return BSMTP_ERR_NOMEM;
    cur_init(&c, text, len);
    for (i = 0; i < n; i++) {
        (void)split_token(&c, &kw, &kw_len, &val, &val_len, &has_val);
        rc = param_set(&arr[i], m, (const char *)kw, kw_len,
                       has_val ? (const char *)val : NULL, val_len);
        if (rc != 0) {
            bsmtp_param_list_free(arr, i, m);
            return rc;
        }
        (void)cur_skip(&c, 1);
    }
    *out = arr;
    *cnt = n;
    return 0;
}

const bsmtp_param *
bsmtp_param_find(const bsmtp_param *p, size_t cnt, const char *kw)
{
    size_t i;

    if (p == NULL || kw == NULL)
        return NULL;
    for (i = 0; i < cnt; i++)
        if (p[i].keyword != NULL && strcasecmp(p[i].keyword, kw) == 0)
            return &p[i];
    return NULL;
}

/*
 * Generic checks shared by MAIL and RCPT lists: keyword and value syntax,
 * duplicates (case-insensitive), and known keywords on the wrong line.
 */
static int
check_generic(const bsmtp_param *p, size_t cnt, bool utf8, enum place place)
{
    const struct known *k;
    size_t i, j;
    int rc;

    if (p == NULL && cnt > 0)
        return BSMTP_ERR_INVAL;
    for (i = 0; i < cnt; i++) {
        if (p[i].keyword == NULL)
            return BSMTP_ERR_INVAL;
        if (!bsmtp_is_esmtp_keyword(p[i].keyword, strlen(p[i].keyword)))
            return BSMTP_ERR_PARAM_SYNTAX;
        if (p[i].value != NULL &&
            (rc = check_value(p[i].value, strlen(p[i].value), utf8)) != 0)
            return rc;
        k = find_known(p[i].keyword);
        if (k != NULL && k->place != place)
            return BSMTP_ERR_PARAM_PLACE;
        /* Lists are capped (32 by default), so the quadratic scan is
         * cheaper than any index. */
        for (j = 0; j < i; j++)
            if (strcasecmp(p[i].keyword, p[j].keyword) == 0)
                return BSMTP_ERR_PARAM_DUP;
    }
    return 0;
}

/* Read 1..maxdig decimal digits at the cursor into *v (stops at the
 * first non-digit; overflow of uint64_t is refused). */
static bool
take_uint(cur *c, size_t maxdig, uint64_t *v)
{
    uint64_t acc = 0;
    size_t n = 0;
    uint8_t ch;

    while (cur_peek_u8(c, &ch) && is_digit(ch)) {
        if (++n > maxdig || acc > (UINT64_MAX - (uint64_t)(ch - '0')) / 10)
            return false;
        acc = acc * 10 + (uint64_t)(ch - '0');
        (void)cur_skip(c, 1);
    }
    *v = acc;
    return n > 0;
}

/* A whole string of 1..maxdig digits. */
static bool
parse_uint(const char *s, size_t maxdig, uint64_t *v)
{
    cur c;

    cur_str(&c, s);
    return take_uint(&c, maxdig, v) && c.left == 0;
}

/* ENVID: xtext decoding to 1..100 printable US-ASCII characters
 * (RFC 3461 4.4: the DSN format allows nothing else).  The xtext was
 * already checked, so each "+" is followed by two uppercase hex digits. */
static bool
envid_ok(const char *v)
{
    uint8_t ch, h[2];
    size_t n = 0;
    cur c;

    if (!bsmtp_is_xtext(v, strlen(v)))
        return false;
    cur_str(&c, v);
    while (cur_u8(&c, &ch)) {
        if (ch == '+' && cur_bytes(&c, h, 2))
            ch = (uint8_t)(((h[0] <= '9' ? h[0] - '0' : h[0] - 'A' + 10) << 4) |
                           (h[1] <= '9' ? h[1] - '0' : h[1] - 'A' + 10));
        if (ch < 32 || ch > 126)
            return false;
        n++;
    }
    return n >= 1 && n <= BSMTP_ENVID_MAX;
}

/*
 * BY=by-time;by-mode[by-trace] (RFC 2852 4): by-time is ["-" / "+"]
 * 1*9DIGIT, by-mode "R" or "N", by-trace "T" (ABNF literals, so any
 * case).  With R the time must be positive: a deadline already passed
 * cannot be met by returning the message.
 */
static bool
parse_by(const char *v, bsmtp_mail_info *info)
{
    bool neg = false;
    uint8_t ch;
    uint64_t t;
    cur c;

    cur_str(&c, v);
    if (cur_peek_u8(&c, &ch) && (ch == '-' || ch == '+')) {
        neg = ch == '-';
        (void)cur_skip(&c, 1);
    }
    if (!take_uint(&c, 9, &t) || !cur_u8(&c, &ch) || ch != ';')
        return false;
    if (!cur_u8(&c, &ch))
        return false;
    if (ch == 'R' || ch == 'r')
        info->by_mode = BSMTP_BY_RETURN;
    else if (ch == 'N' || ch == 'n')
        info->by_mode = BSMTP_BY_NOTIFY;
    else
        return false;
    if (cur_u8(&c, &ch)) {
        if (ch != 'T' && ch != 't')
            return false;
        info->by_trace = true;
    }
    if (c.left != 0)
        return false;
    info->by_time_s = neg ? -(long)t : (long)t;
    return !(info->by_mode == BSMTP_BY_RETURN && info->by_time_s <= 0);
}

/* MT-PRIORITY=["-" / "+"] DIGIT, i.e. -9..9 (RFC 6710 3). */
static bool
parse_mt_priority(const char *v, int *out)
{
    bool neg = false;
    uint8_t ch;
    cur c;

    cur_str(&c, v);
    if (cur_peek_u8(&c, &ch) && (ch == '-' || ch == '+')) {
        neg = ch == '-';
        (void)cur_skip(&c, 1);
    }
    if (!cur_u8(&c, &ch) || !is_digit(ch) || c.left != 0)
        return false;
    *out = neg ? -(ch - '0') : ch - '0';
    return true;
}

/* Apply one known MAIL parameter; false when its value is wrong. */
static bool
apply_mail(const bsmtp_param *p, unsigned flags, bsmtp_mail_info *info)
{
    const char *kw = p->keyword, *v = p->value;

    if (find_known(kw) == NULL)
        return true;            /* unknown: kept as written (section 3.3) */
    if (strcasecmp(kw, "SMTPUTF8") == 0) {
        info->smtputf8 = true;
        return v == NULL;
    }
    if (v == NULL)
        return false;           /* every other known keyword needs a value */
    if (strcasecmp(kw, "SIZE") == 0) {
        info->has_size = true;
        return parse_uint(v, 20, &info->size);
    }
    if (strcasecmp(kw, "BODY") == 0) {
        if (strcasecmp(v, "7BIT") == 0)
            info->body = BSMTP_BODY_7BIT;
        else if (strcasecmp(v, "8BITMIME") == 0)
            info->body = BSMTP_BODY_8BITMIME;
        else if (strcasecmp(v, "BINARYMIME") == 0)
            info->body = BSMTP_BODY_BINARYMIME;
        else if ((flags & BSMTP_MAIL_BODY_BINARY) != 0 && strcasecmp(v, "BINARY") == 0)
            info->body = BSMTP_BODY_BINARYMIME;     /* the MULE draft's alias */
        else
            return false;
        return true;
    }
    if (strcasecmp(kw, "RET") == 0) {
        if (strcasecmp(v, "FULL") == 0)
            info->ret = BSMTP_RET_FULL;
        else if (strcasecmp(v, "HDRS") == 0)
            info->ret = BSMTP_RET_HDRS;
        else
            return false;
        return true;
    }
    if (strcasecmp(kw, "ENVID") == 0) {
        info->envid = v;
        return envid_ok(v);
    }
    if (strcasecmp(kw, "MT-PRIORITY") == 0) {
        info->has_mt_priority = true;
        return parse_mt_priority(v, &info->mt_priority);
    }
    if (strcasecmp(kw, "BY") == 0)
        return parse_by(v, info);
    if (strcasecmp(kw, "AUTH") == 0) {
        /* RFC 4954 5: xtext of an addr-spec, or "<>" for "unknown". */
        info->auth = v;
        return bsmtp_is_xtext(v, strlen(v));
    }
    return true;                /* RCPT keywords never get here */
}

int
bsmtp_mail_info_from_params(const bsmtp_param *p, size_t cnt, bsmtp_mail_info *info)
{
    return bsmtp_mail_info_parse(p, cnt, 0, info);
}

int
bsmtp_mail_info_parse(const bsmtp_param *p, size_t cnt, unsigned flags,
                      bsmtp_mail_info *info)
{
    bool utf8;
    size_t i;
    int rc;

    if (info == NULL || (p == NULL && cnt > 0))
        return BSMTP_ERR_INVAL;
    memset(info, 0, sizeof(*info));
    /* SMTPUTF8 may stand anywhere on the line, and it decides how every
     * value is read, so look for it first. */
    utf8 = bsmtp_param_find(p, cnt, "SMTPUTF8") != NULL;
    if ((rc = check_generic(p, cnt, utf8, PLACE_MAIL)) != 0)
        goto fail;
    for (i = 0; i < cnt; i++) {
        if (!apply_mail(&p[i], flags, info)) {
            rc = BSMTP_ERR_PARAM_VALUE;
            goto fail;
        }
    }
    return 0;
fail:
    memset(info, 0, sizeof(*info));
    return rc;
}

int
bsmtp_param_body_canon(bsmtp_param *p, size_t cnt, const mem *m)
{
    static const char canon[] = "BINARYMIME";
    bsmtp_param np;
    size_t i;
    int rc;

    if (p == NULL && cnt > 0)
        return BSMTP_ERR_INVAL;
    for (i = 0; i < cnt; i++) {
        if (strcasecmp(p[i].keyword, "BODY") != 0 || p[i].value == NULL ||
            strcasecmp(p[i].value, "BINARY") != 0)
            continue;
        /* keyword and value share one block: build the new entry first,
         * then free the old block, so a failure changes nothing. */
        rc = param_set(&np, m, p[i].keyword, strlen(p[i].keyword), canon,
                       sizeof(canon) - 1);
        if (rc != 0)
            return rc;
        mem_free(m, p[i].keyword);
        p[i] = np;
    }
    return 0;
}

/* NOTIFY="NEVER" / 1#( "SUCCESS" / "FAILURE" / "DELAY" ) (RFC 3461 4.1). */
static bool
parse_notify(const char *v, unsigned *out)
{
    static const struct {
        const char *name;
        unsigned bit;
    } words[] = {
        {"NEVER", BSMTP_NOTIFY_NEVER},
        {"SUCCESS", BSMTP_NOTIFY_SUCCESS},
        {"FAILURE", BSMTP_NOTIFY_FAILURE},
        {"DELAY", BSMTP_NOTIFY_DELAY},
    };
    unsigned bits = 0, bit;
    size_t n, i;
    uint8_t ch;
    cur c;

    cur_str(&c, v);
    for (;;) {
        n = span_until(&c, ',');
        bit = 0;
        for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
            if (next_is(&c, n, words[i].name))
                bit = words[i].bit;
        if (bit == 0 || (bits & bit) != 0)
            return false;
        bits |= bit;
        (void)cur_skip(&c, n);
        if (!cur_u8(&c, &ch))
            break;
        /* ch is the ','; an item must follow (checked by the loop). */
    }
    /* NEVER excludes every other keyword. */
    if ((bits & BSMTP_NOTIFY_NEVER) && bits != BSMTP_NOTIFY_NEVER)
        return false;
    *out = bits;
    return true;
}

/*
 * ORCPT=addr-type ";" xtext (RFC 3461 4.2), at most 500 characters.
 * addr-type is an atom; we accept the registered shape (letters, digits,
 * hyphens).  Under SMTPUTF8 the "utf-8" type (RFC 6533) may carry UTF-8
 * (utf-8-addr-unitext) instead of xtext; check_value() has already vetted
 * those octets as esmtp-value and well-formed UTF-8.
 */
static bool
orcpt_ok(const char *v, bool utf8)
{
    size_t tlen, i;
    uint8_t ch;
    cur c, t;

    cur_str(&c, v);
    if (c.left > BSMTP_ORCPT_MAX)
        return false;
    tlen = span_until(&c, ';');
    if (tlen == 0 || tlen == c.left)
        return false;
    t = c;
    for (i = 0; i < tlen; i++) {
        (void)cur_u8(&t, &ch);
        if (!is_alnum(ch) && ch != '-')
            return false;
    }
    if (utf8 && next_is(&c, tlen, "utf-8"))
        return t.left > 1;
    (void)cur_skip(&t, 1);             /* the ';' */
    return t.left > 0 && bsmtp_is_xtext((const char *)t.p, t.left);
}

int
bsmtp_rcpt_info_from_params(const bsmtp_param *p, size_t cnt, bool smtputf8,
                            bsmtp_rcpt_info *info)
{
    size_t i;
    int rc;

    if (info == NULL || (p == NULL && cnt > 0))
        return BSMTP_ERR_INVAL;
    memset(info, 0, sizeof(*info));
    if ((rc = check_generic(p, cnt, smtputf8, PLACE_RCPT)) != 0)
        return rc;
    for (i = 0; i < cnt; i++) {
        const char *kw = p[i].keyword, *v = p[i].value;
        bool ok = true;

        if (strcasecmp(kw, "NOTIFY") == 0) {
            ok = v != NULL && parse_notify(v, &info->notify);
        } else if (strcasecmp(kw, "ORCPT") == 0) {
            ok = v != NULL && orcpt_ok(v, smtputf8);
            info->orcpt = v;
        }
        if (!ok) {
            memset(info, 0, sizeof(*info));
            return BSMTP_ERR_PARAM_VALUE;
        }
    }
    return 0;
}
