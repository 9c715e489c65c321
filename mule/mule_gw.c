/*
 * NAME
 *	mule_gw - SMTP transaction <-> MULE envelope (RFC 8494 sections 4, 5)
 * SYNOPSIS
 *	#include "mule/mule_gw.h"
 * DESCRIPTION
 *	The gateway halves that are not the relay algorithm itself.  SMTP to
 *	MULE builds the bsmtp_envelope from what an SMTP server accepted
 *	(bsmtp re-validates every path and parameter, so a gateway cannot
 *	emit an envelope a MULE peer would refuse).  MULE to SMTP prefixes
 *	the FROM-line with "MAIL FROM:" and each RCPT-line with "RCPT TO:"
 *	(section 5 step 3), keeping the parameters as they were written, and
 *	says whether BDAT is needed (BODY=BINARYMIME, RFC 3030) and which
 *	extensions the parameters rely on.  Deciding what to do when the next
 *	server lacks one of them (section 5.1) is the SMTP client's job; this
 *	module only reports the needs.
 * SECURITY
 *	The envelope side is validated input; the SMTP side is checked by
 *	bsmtp before anything is built.  Output lines contain only what the
 *	validated envelope holds, so no CR or LF can be injected.
 * DIAGNOSTICS
 *	BSMTP_ERR_* (passed through unchanged), MULE_ERR_INVAL, MULE_ERR_NOMEM.
 *	Logs nothing.
 * SEE ALSO
 *	RFC 8494 sections 4, 4.1, 5, 5.1; RFC 3030; RFC 5321 4.1.1.2-3.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "mule/mule_gw.h"

#include <string.h>

#include "mule/mule_err.h"
#include "pmul/util/buf.h"

int
mule_gw_from_smtp(const char *reverse_path, const char *mail_params,
                  const mule_smtp_rcpt *rcpts, size_t rcpt_cnt, const mem *m,
                  bsmtp_envelope **out, size_t *bad_rcpt)
{
    bsmtp_envelope *e = NULL;
    size_t i;
    int rc;

    if (bad_rcpt != NULL)
        *bad_rcpt = SIZE_MAX;
    if (out == NULL)
        return MULE_ERR_INVAL;
    *out = NULL;
    if (reverse_path == NULL || rcpts == NULL || rcpt_cnt == 0)
        return MULE_ERR_INVAL;
    if ((rc = bsmtp_envelope_new(reverse_path, mail_params, m, &e)) != 0)
        return rc;
    for (i = 0; i < rcpt_cnt; i++) {
        if (rcpts[i].addr == NULL) {
            rc = MULE_ERR_INVAL;
            break;
        }
        rc = bsmtp_envelope_add_rcpt(e, rcpts[i].addr, rcpts[i].params);
        if (rc != 0)
            break;
    }
    if (rc != 0) {
        if (bad_rcpt != NULL)
            *bad_rcpt = i;
        bsmtp_envelope_free(e);
        return rc;
    }
    *out = e;
    return 0;
}

/* "<cmd><path>[ kw[=v] ...]" as a new NUL-terminated string. */
static char *
cmd_line(const char *cmd, const char *path, const bsmtp_param *p, size_t cnt, const mem *m)
{
    buf b;
    size_t i, len;
    int rc;

    buf_init(&b, m, SIZE_MAX);
    rc = buf_printf(&b, "%s<%s>", cmd, path);
    for (i = 0; rc == 0 && i < cnt; i++)
        rc = buf_printf(&b, " %s%s%s", p[i].keyword, p[i].value != NULL ? "=" : "",
                        p[i].value != NULL ? p[i].value : "");
    if (rc == 0)
        rc = buf_append(&b, "", 1);
    if (rc != 0) {
        buf_fini(&b);
        return NULL;
    }
    return (char *)buf_steal(&b, &len);
}

static unsigned
mail_needs(const bsmtp_mail_info *mi)
{
    unsigned n = 0;

    if (mi->has_size)
        n |= MULE_GW_EXT_SIZE;
    if (mi->body == BSMTP_BODY_8BITMIME)
        n |= MULE_GW_EXT_8BITMIME;
    if (mi->body == BSMTP_BODY_BINARYMIME)
        n |= MULE_GW_EXT_BINARYMIME | MULE_GW_EXT_CHUNKING;
    if (mi->ret != BSMTP_RET_NONE || mi->envid != NULL)
        n |= MULE_GW_EXT_DSN;
    if (mi->has_mt_priority)
        n |= MULE_GW_EXT_MT_PRIORITY;
    if (mi->by_mode != BSMTP_BY_NONE)
        n |= MULE_GW_EXT_DELIVERBY;
    if (mi->smtputf8)
        n |= MULE_GW_EXT_SMTPUTF8;
    if (mi->auth != NULL)
        n |= MULE_GW_EXT_AUTH;
    return n;
}

int
mule_gw_to_smtp(const bsmtp_envelope *env, const size_t *idx, size_t cnt,
                const uint8_t *content, size_t content_len, const mem *m,
                mule_smtp_txn *out)
{
    size_t i, k;
    const bsmtp_rcpt *r;

    if (out == NULL)
        return MULE_ERR_INVAL;
    memset(out, 0, sizeof(*out));
    out->m = m;
    if (env == NULL || (content == NULL && content_len > 0))
        return MULE_ERR_INVAL;
    if (idx == NULL)
        cnt = env->rcpt_cnt;
    if (cnt == 0)
        return MULE_ERR_INVAL;
    for (i = 0; idx != NULL && i < cnt; i++)
        if (idx[i] >= env->rcpt_cnt)
            return MULE_ERR_INVAL;
    out->rcpt_to = mem_calloc(m, cnt, sizeof(*out->rcpt_to));
    out->mail_from = cmd_line("MAIL FROM:", env->reverse_path, env->params, env->param_cnt, m);
    if (out->rcpt_to == NULL || out->mail_from == NULL)
        goto nomem;
    out->needs = mail_needs(&env->mail);
    for (i = 0; i < cnt; i++) {
        k = idx != NULL ? idx[i] : i;
        r = &env->rcpts[k];
        out->rcpt_to[i] = cmd_line("RCPT TO:", r->addr, r->params, r->param_cnt, m);
        if (out->rcpt_to[i] == NULL)
            goto nomem;
        out->rcpt_cnt = i + 1;
        if (r->info.notify != 0 || r->info.orcpt != NULL)
            out->needs |= MULE_GW_EXT_DSN;
    }
    /* Section 5 step 3: binary content cannot go through DATA. */
    out->use_bdat = env->mail.body == BSMTP_BODY_BINARYMIME;
    out->content = content;
    out->content_len = content_len;
    return 0;

nomem:
    mule_gw_txn_fini(out);
    return MULE_ERR_NOMEM;
}

void
mule_gw_txn_fini(mule_smtp_txn *t)
{
    size_t i;

    if (t == NULL)
        return;
    for (i = 0; t->rcpt_to != NULL && i < t->rcpt_cnt; i++)
        mem_free(t->m, t->rcpt_to[i]);
    mem_free(t->m, t->rcpt_to);
    mem_free(t->m, t->mail_from);
    memset(t, 0, sizeof(*t));
}
