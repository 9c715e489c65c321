/*
 * NAME
 *	bsmtp_payload - parse and build the BSMTP-like MULE payload
 * SYNOPSIS
 *	#include "bsmtp/bsmtp_payload.h"
 * DESCRIPTION
 *	The one parser and builder of the payload of MULE draft section 3.1
 *	(RFC 8494): a FROM-line "<reverse-path> [SP mail-parameters]", one
 *	RCPT-line "<forward-path> [SP rcpt-parameters]" per recipient, an
 *	empty line, then the message as opaque octets (no dot-stuffing, no
 *	terminator: the length is known from the compression wrapper).
 *
 *	Parsing reads the envelope line by line through a cursor, enforcing
 *	the caller's caps on line length, envelope size and recipient count
 *	while reading, before anything is allocated for a line.  Lines end in
 *	CRLF or a bare LF (docs/decisions.md decision 5); any other CR in the
 *	envelope is refused, as it would turn into a line break, or a
 *	smuggled command, when the envelope becomes an SMTP dialogue
 *	(section 5 step 3).  Each line is split into the path, whose end is
 *	found with quoted strings and address literals in mind (both may
 *	contain '>'), and the parameters, then checked by bsmtp_addr and
 *	bsmtp_param.  The content is not copied.
 *
 *	Building writes CRLF lines from a checked envelope, so what we send
 *	is exactly what we accept, and parse -> build reproduces a CRLF
 *	payload byte for byte.
 *
 *	The envelope helpers (new, add_param, add_rcpt, copy_subset) let the
 *	relay build one payload per ACP 142 destination with only that
 *	destination's RCPT-lines (section 2 step 6A) and build DSNs.
 * SECURITY
 *	Sees untrusted payloads after decompression.  Trusts nothing in them:
 *	every count is bounded by a configured cap, nothing is allocated by a
 *	count the peer states, and the result owns copies of everything.
 * DIAGNOSTICS
 *	Returns the BSMTP_ERR_* codes listed in bsmtp_payload.h; a distinct
 *	code per kind of malformation.  Logs nothing: the caller knows the
 *	message ID and logs with it.
 * SEE ALSO
 *	bsmtp_addr(3), bsmtp_param(3), MULE draft 3.1 and 3.3, RFC 5321.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "bsmtp/bsmtp_payload.h"

#include <string.h>

#include "bsmtp/bsmtp_addr.h"
#include "pmul/util/arr.h"
#include "pmul/util/cur.h"

/* The caps in force: the caller's, with zero fields replaced by defaults. */
static bsmtp_limits
limits_or_default(const bsmtp_limits *lim)
{
    bsmtp_limits l = {0};

    if (lim != NULL)
        l = *lim;
    if (l.line_max == 0)
        l.line_max = BSMTP_LINE_MAX_DEFAULT;
    if (l.rcpt_max == 0)
        l.rcpt_max = BSMTP_RCPT_MAX_DEFAULT;
    if (l.param_max == 0)
        l.param_max = BSMTP_PARAM_MAX_DEFAULT;
    if (l.envelope_max == 0)
        l.envelope_max = BSMTP_ENVELOPE_MAX_DEFAULT;
    return l;
}

static char *
dup_bytes(const mem *m, const void *p, size_t len)
{
    char *s;

    if (len == SIZE_MAX)
        return NULL;
    s = mem_alloc(m, len + 1);
    if (s == NULL)
        return NULL;
    if (len > 0)
        memcpy(s, p, len);
    s[len] = '\0';
    return s;
}

static void
rcpt_fini(bsmtp_rcpt *r, const mem *m)
{
    mem_free(m, r->addr);
    bsmtp_param_list_free(r->params, r->param_cnt, m);
    memset(r, 0, sizeof(*r));
}

void
bsmtp_envelope_free(bsmtp_envelope *env)
{
    const mem *m;
    size_t i;

    if (env == NULL)
        return;
    m = env->m;
    for (i = 0; i < env->rcpt_cnt; i++)
        rcpt_fini(&env->rcpts[i], m);
    mem_free(m, env->rcpts);
    bsmtp_param_list_free(env->params, env->param_cnt, m);
    mem_free(m, env->reverse_path);
    mem_free(m, env);
}

static bsmtp_envelope *
envelope_alloc(const mem *m)
{
    bsmtp_envelope *env = mem_calloc(m, 1, sizeof(*env));

    if (env != NULL)
        env->m = m;
    return env;
}

/* Make room for one more recipient (geometric growth, overflow-checked;
 * the recipient cap is checked by the caller). */
static int
rcpt_reserve(bsmtp_envelope *env)
{
    if (arr_grow(env->m, (void **)&env->rcpts, &env->rcpt_size, env->rcpt_cnt + 1,
                 sizeof(*env->rcpts), 0) != 0)
        return BSMTP_ERR_NOMEM;
    return 0;
}

/*
 * Split a line (without its line end) into the path text between '<' and
 * the matching '>' and the parameter text after one SP.  The closing '>'
 * is the first one outside a quoted string (where "\" escapes) and
 * outside an address literal, both of which may contain '>'.  The path
 * text itself is checked later by bsmtp_addr; here only the framing.
 */
static int
split_line(const cur *line, const char **path, size_t *path_len,
           const char **params, size_t *params_len)
{
    enum { NORMAL, QUOTED, LITERAL } st = NORMAL;
    const uint8_t *v;
    cur c = *line, start;
    size_t n = 0;
    uint8_t ch;

    if (!cur_u8(&c, &ch) || ch != '<')
        return BSMTP_ERR_PATH;
    start = c;
    for (;;) {
        if (!cur_u8(&c, &ch))
            return BSMTP_ERR_PATH;      /* no closing '>' */
        if (st == QUOTED) {
            if (ch == '\\') {
                if (!cur_skip(&c, 1))
                    return BSMTP_ERR_PATH;
                n++;
            } else if (ch == '"') {
                st = NORMAL;
            }
        } else if (st == LITERAL) {
            if (ch == ']')
                st = NORMAL;
        } else if (ch == '"') {
            st = QUOTED;
        } else if (ch == '[') {
            st = LITERAL;
        } else if (ch == '>') {
            break;
        }
        n++;
    }
    (void)cur_view(&start, &v, n);
    *path = (const char *)v;
    *path_len = n;
    *params = NULL;
    *params_len = 0;
    if (c.left == 0)
        return 0;
    /* Only SP may follow the path, and only if parameters follow it;
     * bsmtp_param_list_parse() refuses an empty or space-led rest. */
    if (!cur_u8(&c, &ch) || ch != ' ')
        return BSMTP_ERR_PATH;
    if (c.left == 0)
        return BSMTP_ERR_PARAM_SYNTAX;
    *params_len = c.left;
    (void)cur_view(&c, &v, c.left);
    *params = (const char *)v;
    return 0;
}

/*
 * Decode the FROM-line into env.  Parameters come first because
 * SMTPUTF8 among them decides whether the path may hold UTF-8.
 */
static int
decode_from(bsmtp_envelope *env, const cur *line, const bsmtp_limits *l)
{
    const char *path, *params;
    size_t path_len, params_len;
    unsigned flags = BSMTP_ADDR_NULL_OK;
    int rc;

    if ((rc = split_line(line, &path, &path_len, &params, &params_len)) != 0)
        return rc;
    rc = bsmtp_param_list_parse(params, params_len, l->param_max, env->m,
                                &env->params, &env->param_cnt);
    if (rc != 0)
        return rc;
    /* Tolerant in what MULE peers send: the draft's own example writes
     * BODY=BINARY.  It is kept as BINARYMIME, the only spelling we emit. */
    rc = bsmtp_mail_info_parse(env->params, env->param_cnt, BSMTP_MAIL_BODY_BINARY,
                               &env->mail);
    if (rc != 0)
        return rc;
    if ((rc = bsmtp_param_body_canon(env->params, env->param_cnt, env->m)) != 0)
        return rc;
    if (env->mail.smtputf8)
        flags |= BSMTP_ADDR_UTF8;
    if ((rc = bsmtp_addr_check_path(path, path_len, flags)) != 0)
        return rc;
    env->reverse_path = dup_bytes(env->m, path, path_len);
    return env->reverse_path == NULL ? BSMTP_ERR_NOMEM : 0;
}

/* Decode one RCPT-line from its path and parameter texts and append it.
 * env is unchanged on error. */
static int
append_rcpt(bsmtp_envelope *env, const char *path, size_t path_len,
            const char *params, size_t params_len, size_t param_max)
{
    unsigned flags = BSMTP_ADDR_POSTMASTER;
    bsmtp_rcpt r;
    int rc;

    memset(&r, 0, sizeof(r));
    if (env->mail.smtputf8)
        flags |= BSMTP_ADDR_UTF8;
    rc = bsmtp_param_list_parse(params, params_len, param_max, env->m,
                                &r.params, &r.param_cnt);
    if (rc != 0)
        return rc;
    rc = bsmtp_rcpt_info_from_params(r.params, r.param_cnt, env->mail.smtputf8, &r.info);
    if (rc != 0)
        goto fail;
    if ((rc = bsmtp_addr_check_path(path, path_len, flags)) != 0)
        goto fail;
    if ((rc = rcpt_reserve(env)) != 0)
        goto fail;
    if ((r.addr = dup_bytes(env->m, path, path_len)) == NULL) {
        rc = BSMTP_ERR_NOMEM;
        goto fail;
    }
    env->rcpts[env->rcpt_cnt++] = r;
    return 0;
fail:
    rcpt_fini(&r, env->m);
    return rc;
}

/*
 * Read one line from c: *line covers its octets without the line end,
 * and c moves past the LF.  A CR is allowed only right before the LF.
 * The line cap is enforced while scanning, so a missing LF cannot make
 * us walk further than line_max + 2 octets.
 */
static int
read_line(cur *c, size_t line_max, cur *line)
{
    cur start = *c;
    size_t n = 0;
    bool cr = false;
    uint8_t ch;

    for (;;) {
        if (!cur_u8(c, &ch)) {
            /* Data ended inside the envelope.  A partial line that is
             * already too long is reported as such. */
            return n > line_max ? BSMTP_ERR_LINE_TOO_LONG : BSMTP_ERR_NO_EMPTY_LINE;
        }
        if (ch == '\n')
            break;
        if (cr)
            return BSMTP_ERR_BARE_CR;
        if (ch == '\r') {
            cr = true;
            continue;
        }
        if (++n > line_max)
            return BSMTP_ERR_LINE_TOO_LONG;
    }
    (void)cur_sub(&start, line, n);
    return 0;
}

int
bsmtp_payload_parse(const uint8_t *p, size_t len, const bsmtp_limits *lim,
                    const mem *m, bsmtp_envelope **out, size_t *content_off)
{
    const char *path, *params;
    size_t path_len, params_len;
    bsmtp_envelope *env = NULL;
    bsmtp_limits l;
    cur c, line;
    int rc;

    if (out == NULL || content_off == NULL || (p == NULL && len > 0))
        return BSMTP_ERR_INVAL;
    *out = NULL;
    *content_off = 0;
    l = limits_or_default(lim);
    if ((env = envelope_alloc(m)) == NULL)
        return BSMTP_ERR_NOMEM;
    cur_init(&c, p, len);

    /* The FROM-line.  An empty first line means there is none. */
    if ((rc = read_line(&c, l.line_max, &line)) != 0)
        goto fail;
    if (line.left == 0) {
        rc = BSMTP_ERR_PATH;
        goto fail;
    }
    if ((rc = decode_from(env, &line, &l)) != 0)
        goto fail;

    /* RCPT-lines up to the empty line.  The envelope cap is checked
     * after each line, so at most one line over it is ever read. */
    for (;;) {
        if (len - c.left > l.envelope_max) {
            rc = BSMTP_ERR_ENVELOPE_TOO_LONG;
            goto fail;
        }
        if ((rc = read_line(&c, l.line_max, &line)) != 0)
            goto fail;
        if (line.left == 0)
            break;
        if (env->rcpt_cnt >= l.rcpt_max) {
            rc = BSMTP_ERR_RCPT_CAP;
            goto fail;
        }
        if ((rc = split_line(&line, &path, &path_len, &params, &params_len)) != 0)
            goto fail;
        rc = append_rcpt(env, path, path_len, params, params_len, l.param_max);
        if (rc != 0)
            goto fail;
    }
    if (len - c.left > l.envelope_max) {
        rc = BSMTP_ERR_ENVELOPE_TOO_LONG;
        goto fail;
    }
    if (env->rcpt_cnt == 0) {
        rc = BSMTP_ERR_NO_RCPT;
        goto fail;
    }
    *content_off = len - c.left;
    *out = env;
    return 0;
fail:
    bsmtp_envelope_free(env);
    return rc;
}

static int
buf_rc(int rc)
{
    if (rc == 0)
        return 0;
    return rc == BUF_ERR_CAP ? BSMTP_ERR_CAP : BSMTP_ERR_NOMEM;
}

/* Append one envelope line: "<" path ">" *(SP kw["=" value]) CRLF. */
static int
put_line(buf *out, const char *path, const bsmtp_param *p, size_t cnt)
{
    size_t i;
    int rc;

    if ((rc = buf_append(out, "<", 1)) != 0 ||
        (rc = buf_append_str(out, path)) != 0 ||
        (rc = buf_append(out, ">", 1)) != 0)
        return buf_rc(rc);
    for (i = 0; i < cnt; i++) {
        if ((rc = buf_append(out, " ", 1)) != 0 ||
            (rc = buf_append_str(out, p[i].keyword)) != 0)
            return buf_rc(rc);
        if (p[i].value != NULL &&
            ((rc = buf_append(out, "=", 1)) != 0 ||
             (rc = buf_append_str(out, p[i].value)) != 0))
            return buf_rc(rc);
    }
    return buf_rc(buf_append(out, "\r\n", 2));
}

/*
 * Check a whole envelope as the parser would, so that a struct edited by
 * hand cannot produce a payload that we (or a peer) would refuse.  The
 * views are recomputed into scratch structs and compared with nothing:
 * only validity matters here.
 */
static int
check_envelope(const bsmtp_envelope *env)
{
    bsmtp_mail_info mi;
    bsmtp_rcpt_info ri;
    unsigned flags;
    size_t i;
    int rc;

    if (env->reverse_path == NULL)
        return BSMTP_ERR_INVAL;
    if ((rc = bsmtp_mail_info_from_params(env->params, env->param_cnt, &mi)) != 0)
        return rc;
    flags = mi.smtputf8 ? BSMTP_ADDR_UTF8 : 0;
    rc = bsmtp_addr_check_path(env->reverse_path, strlen(env->reverse_path),
                               flags | BSMTP_ADDR_NULL_OK);
    if (rc != 0)
        return rc;
    if (env->rcpt_cnt == 0 || env->rcpts == NULL)
        return BSMTP_ERR_NO_RCPT;
    for (i = 0; i < env->rcpt_cnt; i++) {
        const bsmtp_rcpt *r = &env->rcpts[i];

        if (r->addr == NULL)
            return BSMTP_ERR_INVAL;
        rc = bsmtp_rcpt_info_from_params(r->params, r->param_cnt, mi.smtputf8, &ri);
        if (rc != 0)
            return rc;
        rc = bsmtp_addr_check_path(r->addr, strlen(r->addr), flags | BSMTP_ADDR_POSTMASTER);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int
bsmtp_payload_build(const bsmtp_envelope *env, const uint8_t *content, size_t len,
                    buf *out)
{
    size_t i;
    int rc;

    if (env == NULL || out == NULL || (content == NULL && len > 0))
        return BSMTP_ERR_INVAL;
    if ((rc = check_envelope(env)) != 0)
        return rc;
    if ((rc = put_line(out, env->reverse_path, env->params, env->param_cnt)) != 0)
        return rc;
    for (i = 0; i < env->rcpt_cnt; i++) {
        const bsmtp_rcpt *r = &env->rcpts[i];

        if ((rc = put_line(out, r->addr, r->params, r->param_cnt)) != 0)
            return rc;
    }
    if ((rc = buf_append(out, "\r\n", 2)) != 0)
        return buf_rc(rc);
    if (len > 0 && (rc = buf_append(out, content, len)) != 0)
        return buf_rc(rc);
    return 0;
}

/* Length of an optional C string argument. */
static size_t
opt_len(const char *s)
{
    return s != NULL ? strlen(s) : 0;
}

int
bsmtp_envelope_new(const char *reverse_path, const char *params, const mem *m,
                   bsmtp_envelope **out)
{
    bsmtp_envelope *env;
    unsigned flags = BSMTP_ADDR_NULL_OK;
    int rc;

    if (out == NULL)
        return BSMTP_ERR_INVAL;
    *out = NULL;
    if (reverse_path == NULL)
        return BSMTP_ERR_INVAL;
    if ((env = envelope_alloc(m)) == NULL)
        return BSMTP_ERR_NOMEM;
    /* Locally built envelopes are not capped by a peer's limits; the
     * parameter count is bounded by what the caller wrote. */
    rc = bsmtp_param_list_parse(params, opt_len(params), SIZE_MAX, m,
                                &env->params, &env->param_cnt);
    if (rc != 0)
        goto fail;
    if ((rc = bsmtp_mail_info_from_params(env->params, env->param_cnt, &env->mail)) != 0)
        goto fail;
    if (env->mail.smtputf8)
        flags |= BSMTP_ADDR_UTF8;
    if ((rc = bsmtp_addr_check_path(reverse_path, strlen(reverse_path), flags)) != 0)
        goto fail;
    if ((env->reverse_path = dup_bytes(m, reverse_path, strlen(reverse_path))) == NULL) {
        rc = BSMTP_ERR_NOMEM;
        goto fail;
    }
    *out = env;
    return 0;
fail:
    bsmtp_envelope_free(env);
    return rc;
}

/* Deep-copy n parameters (keyword and value share one block, as
 * bsmtp_param_list_parse() makes them). */
static int
params_copy(const mem *m, const bsmtp_param *src, size_t n, bsmtp_param **out)
{
    bsmtp_param *arr;
    size_t i, kl, vl;
    char *blk;

    *out = NULL;
    if (n == 0)
        return 0;
    if ((arr = mem_calloc(m, n, sizeof(*arr))) == NULL)
        return BSMTP_ERR_NOMEM;
    for (i = 0; i < n; i++) {
        kl = strlen(src[i].keyword);
        vl = src[i].value != NULL ? strlen(src[i].value) + 1 : 0;
        if ((blk = mem_alloc(m, kl + 1 + vl)) == NULL) {
            bsmtp_param_list_free(arr, i, m);
            return BSMTP_ERR_NOMEM;
        }
        memcpy(blk, src[i].keyword, kl + 1);
        arr[i].keyword = blk;
        if (src[i].value != NULL) {
            arr[i].value = blk + kl + 1;
            memcpy(arr[i].value, src[i].value, vl);
        }
    }
    *out = arr;
    return 0;
}

int
bsmtp_envelope_add_param(bsmtp_envelope *env, const char *keyword, const char *value)
{
    bsmtp_param *arr;
    bsmtp_mail_info mi;
    size_t n, kl, vl;
    char *blk;
    int rc;

    if (env == NULL || keyword == NULL)
        return BSMTP_ERR_INVAL;
    kl = strlen(keyword);
    vl = value != NULL ? strlen(value) + 1 : 0;
    if (env->param_cnt == SIZE_MAX / sizeof(*arr))
        return BSMTP_ERR_NOMEM;
    n = env->param_cnt + 1;
    if ((blk = mem_alloc(env->m, kl + 1 + vl)) == NULL)
        return BSMTP_ERR_NOMEM;
    arr = mem_realloc(env->m, env->params, n * sizeof(*arr));
    if (arr == NULL) {
        mem_free(env->m, blk);
        return BSMTP_ERR_NOMEM;
    }
    env->params = arr;
    memcpy(blk, keyword, kl + 1);
    arr[n - 1].keyword = blk;
    arr[n - 1].value = NULL;
    if (value != NULL) {
        arr[n - 1].value = blk + kl + 1;
        memcpy(arr[n - 1].value, value, vl);
    }
    /* Check the whole list as it would be; roll back on refusal.  The
     * array may stay one entry larger than needed, which is harmless. */
    rc = bsmtp_mail_info_from_params(arr, n, &mi);
    if (rc != 0) {
        mem_free(env->m, blk);
        return rc;
    }
    env->param_cnt = n;
    env->mail = mi;
    return 0;
}

int
bsmtp_envelope_add_rcpt(bsmtp_envelope *env, const char *addr, const char *params)
{
    if (env == NULL || addr == NULL)
        return BSMTP_ERR_INVAL;
    return append_rcpt(env, addr, strlen(addr), params, opt_len(params), SIZE_MAX);
}

int
bsmtp_envelope_copy_subset(const bsmtp_envelope *src, const size_t *idx, size_t idx_cnt,
                           const mem *m, bsmtp_envelope **out)
{
    bsmtp_envelope *env;
    size_t i, j;
    int rc;

    if (out == NULL)
        return BSMTP_ERR_INVAL;
    *out = NULL;
    if (src == NULL || src->reverse_path == NULL || (idx == NULL && idx_cnt > 0))
        return BSMTP_ERR_INVAL;
    /* Indexes must be in range and distinct; the quadratic check is fine
     * for recipient lists capped at rcpt_max. */
    for (i = 0; i < idx_cnt; i++) {
        if (idx[i] >= src->rcpt_cnt)
            return BSMTP_ERR_INVAL;
        for (j = 0; j < i; j++)
            if (idx[j] == idx[i])
                return BSMTP_ERR_INVAL;
    }
    if ((env = envelope_alloc(m)) == NULL)
        return BSMTP_ERR_NOMEM;
    rc = BSMTP_ERR_NOMEM;
    env->reverse_path = dup_bytes(m, src->reverse_path, strlen(src->reverse_path));
    if (env->reverse_path == NULL)
        goto fail;
    if ((rc = params_copy(m, src->params, src->param_cnt, &env->params)) != 0)
        goto fail;
    env->param_cnt = src->param_cnt;
    if ((rc = bsmtp_mail_info_from_params(env->params, env->param_cnt, &env->mail)) != 0)
        goto fail;
    if (idx_cnt > 0) {
        env->rcpts = mem_calloc(m, idx_cnt, sizeof(*env->rcpts));
        if (env->rcpts == NULL) {
            rc = BSMTP_ERR_NOMEM;
            goto fail;
        }
        env->rcpt_size = idx_cnt;
    }
    for (i = 0; i < idx_cnt; i++) {
        const bsmtp_rcpt *s = &src->rcpts[idx[i]];
        bsmtp_rcpt *d = &env->rcpts[i];

        rc = BSMTP_ERR_NOMEM;
        if ((d->addr = dup_bytes(m, s->addr, strlen(s->addr))) == NULL)
            goto fail;
        env->rcpt_cnt = i + 1;     /* so that free releases this entry */
        if ((rc = params_copy(m, s->params, s->param_cnt, &d->params)) != 0)
            goto fail;
        d->param_cnt = s->param_cnt;
        rc = bsmtp_rcpt_info_from_params(d->params, d->param_cnt, env->mail.smtputf8, &d->info);
        if (rc != 0)
            goto fail;
    }
    *out = env;
    return 0;
fail:
    bsmtp_envelope_free(env);
    return rc;
}
