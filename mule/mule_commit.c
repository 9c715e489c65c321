/*
 * NAME
 *	mule_commit - group commit of SMTP/LMTP mail: who joins a batch,
 *	who gets which reply
 * SYNOPSIS
 *	#include "mule/mule_commit.h"
 * DESCRIPTION
 *	Every mail accepted over SMTP must be durable before its 250
 *	(durability contract line 1).  Making each one durable alone costs
 *	a file fsync and a directory fsync per mail; sessions that finish
 *	at about the same time can share them.  This module holds the
 *	mails that wait, in arrival order, each as a token of the driver,
 *	in one of three states: waiting, in the running batch, or done
 *	(reply ready).  It decides only; the driver writes.
 *
 *	Policy: one batch at a time.  When none runs, a batch starts with
 *	every waiting mail (up to max_batch) as soon as the oldest has
 *	waited window_ms (0: at once).  Mails completed while a batch is
 *	being written wait for its end and form the next batch, so under
 *	load batches grow by themselves and at low load no mail waits for
 *	a timer.  Each mail's verdict depends only on its own spool result.
 * SECURITY
 *	Sees no peer bytes; the number of tokens is capped (max_waiting).
 * DIAGNOSTICS
 *	Returns MULE_ERR_* codes; logs nothing.
 * SEE ALSO
 *	mule_spool_fs(3) (mule_spool_fs_batch_*), tools/muled/muled_smtpd.c,
 *	docs/architecture.md (durability contract).
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "mule/mule_commit.h"

#include <string.h>

#include "mule/mule_err.h"

enum { ST_WAITING, ST_BATCH, ST_DONE };

typedef struct slot {
    uint64_t token;
    uint64_t since_ms;          /* when it was pushed */
    int rc;                     /* ST_DONE: the spool result */
    uint8_t st;
    bool cancelled;
} slot;

struct mule_commit {
    const mem *m;
    mule_commit_cfg cfg;
    slot *s;                    /* push order; cfg.max_waiting of them */
    size_t cnt;
    size_t batch_cnt;           /* tokens in the running batch */
    bool busy;
};

int
mule_commit_new(mule_commit **out, const mule_commit_cfg *cfg, const mem *m)
{
    mule_commit *c;

    if (out == NULL)
        return MULE_ERR_INVAL;
    *out = NULL;
    if ((c = mem_calloc(m, 1, sizeof(*c))) == NULL)
        return MULE_ERR_NOMEM;
    c->m = m;
    if (cfg != NULL)
        c->cfg = *cfg;
    if (c->cfg.max_batch == 0)
        c->cfg.max_batch = 64;
    if (c->cfg.max_waiting == 0)
        c->cfg.max_waiting = 4096;
    if ((c->s = mem_calloc(m, c->cfg.max_waiting, sizeof(*c->s))) == NULL) {
        mem_free(m, c);
        return MULE_ERR_NOMEM;
    }
    *out = c;
    return 0;
}

void
mule_commit_free(mule_commit *c)
{
    if (c == NULL)
        return;
    mem_free(c->m, c->s);
    mem_free(c->m, c);
}

static slot *
find(mule_commit *c, uint64_t token)
{
    for (size_t i = 0; i < c->cnt; i++)
        if (c->s[i].token == token)
            return &c->s[i];
    return NULL;
}

static void
drop(mule_commit *c, slot *p)
{
    size_t i = (size_t)(p - c->s);

    memmove(&c->s[i], &c->s[i + 1], (c->cnt - i - 1) * sizeof(*c->s));
    c->cnt--;
}

int
mule_commit_push(mule_commit *c, uint64_t now_ms, uint64_t token)
{
    if (c == NULL || find(c, token) != NULL)
        return MULE_ERR_INVAL;
    if (c->cnt >= c->cfg.max_waiting)
        return MULE_ERR_SPOOL_FULL_Q;
    memset(&c->s[c->cnt], 0, sizeof(c->s[c->cnt]));
    c->s[c->cnt].token = token;
    c->s[c->cnt].since_ms = now_ms;
    c->s[c->cnt].st = ST_WAITING;
    c->cnt++;
    return 0;
}

bool
mule_commit_cancel(mule_commit *c, uint64_t token)
{
    slot *p = c != NULL ? find(c, token) : NULL;

    if (p == NULL)
        return false;
    if (p->st == ST_WAITING) {
        drop(c, p);
        return true;
    }
    /* Its file is being written: the batch decides its fate, and the
     * driver's data for it must live until the reply is polled. */
    p->cancelled = true;
    return false;
}

/* The oldest waiting slot and how many wait. */
static const slot *
waiting(const mule_commit *c, size_t *n)
{
    const slot *first = NULL;

    *n = 0;
    for (size_t i = 0; i < c->cnt; i++)
        if (c->s[i].st == ST_WAITING) {
            if (first == NULL)
                first = &c->s[i];
            (*n)++;
        }
    return first;
}

uint64_t
mule_commit_deadline(const mule_commit *c)
{
    const slot *first;
    size_t n;

    if (c == NULL || c->busy || (first = waiting(c, &n)) == NULL)
        return UINT64_MAX;
    if (c->cfg.window_ms == 0 || n >= c->cfg.max_batch)
        return first->since_ms;
    /* Saturate: a huge window must not wrap to "now". */
    return first->since_ms > UINT64_MAX - c->cfg.window_ms ? UINT64_MAX
                                                           : first->since_ms + c->cfg.window_ms;
}

size_t
mule_commit_take(mule_commit *c, uint64_t now_ms, uint64_t *tokens, size_t cap)
{
    size_t n = 0, lim;

    if (c == NULL || tokens == NULL || cap == 0 || now_ms < mule_commit_deadline(c))
        return 0;
    lim = cap < c->cfg.max_batch ? cap : c->cfg.max_batch;
    for (size_t i = 0; i < c->cnt && n < lim; i++)
        if (c->s[i].st == ST_WAITING) {
            c->s[i].st = ST_BATCH;
            tokens[n++] = c->s[i].token;
        }
    c->batch_cnt = n;
    c->busy = n > 0;
    return n;
}

bool
mule_commit_busy(const mule_commit *c)
{
    return c != NULL && c->busy;
}

int
mule_commit_done(mule_commit *c, const int *rc, size_t n)
{
    size_t k = 0;

    if (c == NULL || !c->busy || n != c->batch_cnt || (n > 0 && rc == NULL))
        return MULE_ERR_INVAL;
    /* Batch slots are in push order, as take() listed them. */
    for (size_t i = 0; i < c->cnt; i++)
        if (c->s[i].st == ST_BATCH) {
            c->s[i].st = ST_DONE;
            c->s[i].rc = rc[k++];
        }
    c->busy = false;
    c->batch_cnt = 0;
    return 0;
}

void
mule_commit_verdict(int rc, mule_commit_reply *r)
{
    r->rc = rc;
    if (rc == 0) {
        r->code = 250;
        r->enh = "2.0.0";
        r->text = "queued";
    } else if (rc == MULE_ERR_INVAL) {
        /* The mail breaks a spool format limit: sending it again will not
         * help (the SIZE limit should have caught it earlier). */
        r->code = 554;
        r->enh = "5.3.4";
        r->text = "message exceeds a spool limit";
    } else {
        /* Disk full, I/O error, memory, queue full: the environment, so
         * temporary (style.md 4): the client keeps the mail and retries. */
        r->code = 452;
        r->enh = "4.3.1";
        r->text = "insufficient system storage";
    }
}

bool
mule_commit_poll(mule_commit *c, mule_commit_reply *r)
{
    for (size_t i = 0; c != NULL && i < c->cnt; i++)
        if (c->s[i].st == ST_DONE) {
            memset(r, 0, sizeof(*r));
            r->token = c->s[i].token;
            r->cancelled = c->s[i].cancelled;
            mule_commit_verdict(c->s[i].rc, r);
            drop(c, &c->s[i]);
            return true;
        }
    return false;
}
