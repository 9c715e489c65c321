/*
 * NAME
 *	mule_relay - the MULE relay algorithm (RFC 8494 section 3)
 * SYNOPSIS
 *	#include "mule/mule_relay.h"
 * DESCRIPTION
 *	Implements steps 3 to 6 of RFC 8494 section 3 for one message, and
 *	through that also the sending half of the SMTP->MULE gateway (section
 *	4), whose input is the same envelope built from an SMTP transaction.
 *
 *	The order of work matters for "nothing accepted may be lost":
 *	every recipient ends in exactly one of four lists (an output
 *	destination, local delivery, a failure/delay note, or "left to other
 *	nodes"), and the whole result is built before it is returned, so a
 *	failure half-way (out of memory) returns an error and no partial
 *	result that could be mistaken for a complete one.
 *
 *	Recipients are grouped by their exact ACP 142 destination (group plus
 *	node set after removing this node and the nodes that already had the
 *	message), so two routes that name the same nodes share one P_MUL
 *	message.  Each output envelope is rebuilt from the original one
 *	through bsmtp's functions (they re-validate), keeping every MAIL and
 *	RCPT parameter as written except BY, whose by-time is reduced by the
 *	seconds the message spent on this node (RFC 2852 4: a relay passes on
 *	what is left of the time).
 *
 *	The BY deadline is a property of the whole message: when it has
 *	passed, BY;R fails every recipient this node is responsible for with
 *	5.4.7, and BY;N relays them anyway (without a P_MUL deadline beyond
 *	the default) and notes a "delayed" report, which the DSN builder
 *	sends only to recipients whose NOTIFY includes DELAY.
 * SECURITY
 *	The envelope and content come from a peer; the envelope has been
 *	validated by bsmtp_payload_parse() (or is parsed here), the content
 *	is only scanned for Received fields (mule_hdr.c) and copied.  Counts
 *	(recipients, destinations) are bounded by the envelope's own limits;
 *	nothing is sized by a number the peer states.
 * DIAGNOSTICS
 *	MULE_ERR_NOT_RESPONSIBLE, MULE_ERR_INVAL, MULE_ERR_NOSPACE,
 *	MULE_ERR_NOMEM, mule_cdt_encode()'s codes, and bsmtp's codes passed
 *	through unchanged (a payload or recipient that does not parse).
 *	Logs "mule-relay-priority-clamped" (warn), "mule-relay-bad-payload"
 *	(debug, with the bsmtp error) and "mule-relay-done" (info) with the
 *	counts per outcome.
 * SEE ALSO
 *	RFC 8494 sections 3, 3.3, 4; RFC 2852 (DELIVERBY); RFC 6710
 *	(MT-PRIORITY); docs/decisions.md decisions 4 and 11; mule_route(3),
 *	mule_dsn(3), mule_hdr(3).
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "mule/mule_relay.h"

#include <stdio.h>
#include <string.h>

#include "bsmtp/bsmtp_addr.h"
#include "mule/mule_err.h"
#include "mule/mule_hdr.h"
#include "pmul/util/arr.h"

/* What to do with one recipient, decided before anything is built. */
enum fate {
    FATE_SKIP = 0,          /* another node's */
    FATE_OUT,               /* relay via outs[slot] */
    FATE_LOCAL,
    FATE_FAIL,
};

struct plan {
    enum fate fate;
    size_t slot;            /* FATE_OUT: index into res->outs */
    enum mule_dsn_kind kind;/* FATE_FAIL */
    bool delayed;           /* relayed late (BY;N): note a delay */
};

uint8_t
mule_relay_priority(const bsmtp_mail_info *mail, bool *clamped)
{
    int p = MULE_RELAY_PRIORITY_DEFAULT;

    if (clamped != NULL)
        *clamped = false;
    if (mail != NULL && mail->has_mt_priority)
        p = MULE_RELAY_PRIORITY_DEFAULT - mail->mt_priority;
    /* RFC 6710 allows -9..9, which maps to -3..15: MT-PRIORITY 7..9 would
     * be negative, and the octet has no room for that (decision 4). */
    if (p < 0 || p > MULE_RELAY_PRIORITY_MAX) {
        if (clamped != NULL)
            *clamped = true;
        p = p < 0 ? 0 : MULE_RELAY_PRIORITY_MAX;
    }
    return (uint8_t)p;
}

int64_t
mule_relay_expiry(const bsmtp_mail_info *mail, int64_t arrival_s, int64_t now_s,
                  int64_t default_expiry_s, bool *passed)
{
    int64_t expiry = now_s + default_expiry_s, deadline;

    if (passed != NULL)
        *passed = false;
    if (mail == NULL || mail->by_mode == BSMTP_BY_NONE)
        return expiry;
    deadline = arrival_s + (int64_t)mail->by_time_s;
    if (deadline <= now_s) {
        if (passed != NULL)
            *passed = true;
        return expiry;
    }
    /* Only BY;R makes the deadline a lifetime: with BY;N the message must
     * still be delivered late (RFC 2852 4), so P_MUL must not drop it. */
    if (mail->by_mode != BSMTP_BY_RETURN)
        return expiry;
    return deadline < expiry ? deadline : expiry;
}

/* ------------------------------------------------------------------ */
/* Helpers                                                            */
/* ------------------------------------------------------------------ */

static bool
has_node(const uint32_t *v, size_t n, uint32_t id)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (v[i] == id)
            return true;
    return false;
}

static bool
ieq(const char *a, const char *b)
{
    for (; *a != '\0' && *b != '\0'; a++, b++) {
        char x = *a, y = *b;

        if (x >= 'a' && x <= 'z')
            x = (char)(x - 32);
        if (y >= 'a' && y <= 'z')
            y = (char)(y - 32);
        if (x != y)
            return false;
    }
    return *a == *b;
}

/*
 * Write params as "kw[=value] ..." into out (NUL-terminated), with the
 * value of BY replaced by by_value when that is non-NULL.
 */
static int
params_text(const bsmtp_param *p, size_t cnt, const char *by_value, buf *out)
{
    size_t i;
    int rc = 0;

    buf_reset(out);
    for (i = 0; rc == 0 && i < cnt; i++) {
        const char *v = p[i].value;

        if (by_value != NULL && ieq(p[i].keyword, "BY"))
            v = by_value;
        rc = buf_printf(out, "%s%s%s%s", i > 0 ? " " : "", p[i].keyword, v != NULL ? "=" : "",
                        v != NULL ? v : "");
    }
    if (rc == 0)
        rc = buf_append(out, "", 1);
    return mule_err_from_buf(rc);
}

/*
 * The BY= value with the time left at now_s of a deadline counted from
 * arrival_s, into out.  Returns 1 when written, 0 when there is nothing to
 * rewrite (no BY=, or no time has passed), MULE_ERR_INVAL when out is too
 * small.
 */
static int
by_left_text(const bsmtp_mail_info *mail, int64_t arrival_s, int64_t now_s, char *out,
             size_t cap)
{
    int64_t left;
    int n;

    if (mail->by_mode == BSMTP_BY_NONE || now_s <= arrival_s)
        return 0;
    left = arrival_s + (int64_t)mail->by_time_s - now_s;
    if (left < -BSMTP_BY_TIME_MAX)
        left = -BSMTP_BY_TIME_MAX;
    n = snprintf(out, cap, "%lld;%c%s", (long long)left,
                 mail->by_mode == BSMTP_BY_RETURN ? 'R' : 'N', mail->by_trace ? "T" : "");
    return n > 0 && (size_t)n < cap ? 1 : MULE_ERR_INVAL;
}

/*
 * A new envelope with the recipients idx[0..cnt) of src (idx NULL: all).  Without a BY
 * rewrite this is a plain subset copy; with one, the envelope is rebuilt
 * line by line so that bsmtp re-validates the new BY value.
 */
static int
subset_env(const bsmtp_envelope *src, const size_t *idx, size_t cnt, const char *by_value,
           const mem *m, bsmtp_envelope **out)
{
    bsmtp_envelope *e = NULL;
    buf t;
    size_t i;
    int rc;

    *out = NULL;
    if (by_value == NULL)
        return bsmtp_envelope_copy_subset(src, idx, cnt, m, out);
    buf_init(&t, m, SIZE_MAX);
    rc = params_text(src->params, src->param_cnt, by_value, &t);
    if (rc == 0)
        rc = bsmtp_envelope_new(src->reverse_path, (const char *)t.data, m, &e);
    for (i = 0; rc == 0 && i < cnt; i++) {
        const bsmtp_rcpt *r = &src->rcpts[idx != NULL ? idx[i] : i];

        rc = params_text(r->params, r->param_cnt, NULL, &t);
        if (rc == 0)
            rc = bsmtp_envelope_add_rcpt(e, r->addr, (const char *)t.data);
    }
    buf_fini(&t);
    if (rc != 0) {
        bsmtp_envelope_free(e);
        return rc;
    }
    *out = e;
    return 0;
}

/* The routing domain of a recipient ("" for Postmaster: this node).
 * Returns 0 or bsmtp's code, unchanged. */
static int
rcpt_domain(const bsmtp_envelope *env, const bsmtp_rcpt *r, char *out, size_t cap)
{
    unsigned flags = BSMTP_ADDR_POSTMASTER | (env->mail.smtputf8 ? BSMTP_ADDR_UTF8 : 0);
    ssize_t n = bsmtp_addr_domain(r->addr, strlen(r->addr), flags, out, cap);

    return n < 0 ? (int)n : 0;
}

/* ------------------------------------------------------------------ */
/* Building the result                                                */
/* ------------------------------------------------------------------ */

/*
 * Find or add the output for destination (group, nodes[cnt]).  The
 * node list is copied when a new output is made.
 */
static int
out_slot(mule_relay_result *res, size_t *cap, uint32_t group, const uint32_t *nodes,
         size_t cnt, size_t *slot)
{
    mule_relay_out *o;
    size_t i;

    for (i = 0; i < res->out_cnt; i++) {
        o = &res->outs[i];
        if (o->group == group && o->node_cnt == cnt &&
            memcmp(o->nodes, nodes, cnt * sizeof(*nodes)) == 0) {
            *slot = i;
            return 0;
        }
    }
    /* Outputs never outnumber recipients, which the envelope caps. */
    if (arr_grow(res->m, (void **)&res->outs, cap, res->out_cnt + 1, sizeof(*res->outs),
                 0) != 0)
        return MULE_ERR_NOMEM;
    o = &res->outs[res->out_cnt];
    memset(o, 0, sizeof(*o));
    buf_init(&o->payload, res->m, SIZE_MAX);
    o->nodes = mem_calloc(res->m, cnt, sizeof(*nodes));
    if (o->nodes == NULL)
        return MULE_ERR_NOMEM;
    memcpy(o->nodes, nodes, cnt * sizeof(*nodes));
    o->node_cnt = cnt;
    o->group = group;
    *slot = res->out_cnt++;
    return 0;
}

/*
 * Step 3 and 5 for recipient i: decide its fate.  scratch holds at least
 * MULE_ROUTE_MAX_NODES entries for the node set left after removing this
 * node and the inbound addressees.
 */
static int
plan_rcpt(const mule_relay_config *cfg, const mule_route_table *routes,
          const mule_relay_input *in, mule_relay_result *res, size_t *out_cap, size_t i,
          uint32_t *scratch, struct plan *pl)
{
    char dom[BSMTP_DOMAIN_MAX + 1];
    const mule_dest *d;
    size_t k, n = 0;
    bool back = false;
    int rc;

    memset(pl, 0, sizeof(*pl));
    if ((rc = rcpt_domain(res->env, &res->env->rcpts[i], dom, sizeof(dom))) != 0)
        return rc;
    if (dom[0] == '\0') {
        pl->fate = FATE_LOCAL;      /* <Postmaster> is always local */
        return 0;
    }
    d = mule_route_lookup(routes, dom, strlen(dom), NULL);
    if (d == NULL) {
        /* No route.  Ours to fail only if nobody else got the message. */
        if (in->in_dests == NULL ||
            (in->in_dest_cnt == 1 && in->in_dests[0] == cfg->node_id)) {
            pl->fate = FATE_FAIL;
            pl->kind = MULE_DSN_NO_ROUTE;
        } else {
            pl->fate = FATE_SKIP;
        }
        return 0;
    }
    if (d->local) {
        pl->fate = FATE_LOCAL;
        return 0;
    }
    /* A route naming this node means "deliver here" (tables shared by
     * several nodes may list every member). */
    if (has_node(d->nodes, d->node_cnt, cfg->node_id)) {
        pl->fate = FATE_LOCAL;
        return 0;
    }
    for (k = 0; k < d->node_cnt; k++) {
        uint32_t id = d->nodes[k];

        if (in->in_dests != NULL && has_node(in->in_dests, in->in_dest_cnt, id))
            continue;
        if (in->in_src != 0 && id == in->in_src) {
            back = true;        /* the node it came from has it */
            continue;
        }
        scratch[n++] = id;
    }
    if (n == 0 && back) {
        /* The route leads back to the transmitter: two tables disagree,
         * and sending it back would ping-pong until the hop limit. */
        pl->fate = FATE_FAIL;
        pl->kind = MULE_DSN_LOOP;
        return 0;
    }
    if (n == 0) {
        /* Every next-hop node was an addressee of the inbound message and
         * has its own copy: this recipient is theirs. */
        pl->fate = FATE_SKIP;
        return 0;
    }
    pl->fate = FATE_OUT;
    return out_slot(res, out_cap, d->group, scratch, n, &pl->slot);
}

static void
add_note(mule_relay_result *res, size_t idx, enum mule_dsn_kind kind)
{
    mule_relay_note *nt = &res->notes[res->note_cnt++];

    nt->rcpt_idx = idx;
    nt->kind = kind;
    if (strcmp(mule_dsn_action(kind), "failed") == 0)
        res->failed_cnt++;
}

/* Append index i to an owned index list (capacity = rcpt count). */
static int
push_idx(const mem *m, size_t **v, size_t *cnt, size_t total, size_t i)
{
    if (*v == NULL) {
        *v = mem_calloc(m, total, sizeof(**v));
        if (*v == NULL)
            return MULE_ERR_NOMEM;
    }
    (*v)[(*cnt)++] = i;
    return 0;
}

/* Build one output's payload from the traced content. */
static int
build_payload(const mule_relay_config *cfg, mule_relay_result *res, mule_relay_out *o,
              const char *by_value)
{
    bsmtp_envelope *e = NULL;
    buf raw;
    int rc;

    rc = subset_env(res->env, o->rcpt_idx, o->rcpt_cnt, by_value, res->m, &e);
    if (rc != 0)
        return rc;
    if (cfg->payload_max != 0)
        o->payload.max = cfg->payload_max;
    if (cfg->cdt == NULL) {
        rc = bsmtp_payload_build(e, res->content.data, res->content.len, &o->payload);
        bsmtp_envelope_free(e);
        return rc;
    }
    /* Step 6B: the payload is wrapped right away; only the compressed
     * form is kept. */
    buf_init(&raw, res->m, SIZE_MAX);
    rc = bsmtp_payload_build(e, res->content.data, res->content.len, &raw);
    bsmtp_envelope_free(e);
    if (rc == 0)
        rc = mule_cdt_encode(cfg->cdt, res->m, raw.data, raw.len, &o->payload);
    buf_fini(&raw);
    if (rc == 0)
        o->compressed = true;
    return rc;
}

/* Copy the caller's envelope (all recipients) or parse the payload. */
static int
take_envelope(const mule_relay_config *cfg, const mule_relay_input *in, const logger *lg,
              mule_relay_result *res, const uint8_t **content, size_t *content_len)
{
    size_t off, i, *all;
    int rc;

    if (in->env == NULL) {
        rc = bsmtp_payload_parse(in->payload, in->payload_len, cfg->limits, res->m, &res->env,
                                 &off);
        if (rc != 0) {
            log_emit(lg, LOG_LVL_DEBUG, "mule-relay-bad-payload error=%s len=%zu",
                     bsmtp_errname(rc), in->payload_len);
            return rc;
        }
        *content = in->payload + off;
        *content_len = in->payload_len - off;
        return 0;
    }
    all = mem_calloc(res->m, in->env->rcpt_cnt != 0 ? in->env->rcpt_cnt : 1, sizeof(*all));
    if (all == NULL)
        return MULE_ERR_NOMEM;
    for (i = 0; i < in->env->rcpt_cnt; i++)
        all[i] = i;
    rc = bsmtp_envelope_copy_subset(in->env, all, in->env->rcpt_cnt, res->m, &res->env);
    mem_free(res->m, all);
    *content = in->content;
    *content_len = in->content_len;
    return rc;
}

int
mule_relay_run(const mule_relay_config *cfg, const mule_route_table *routes,
               const mule_relay_input *in, const mem *m, const logger *lg,
               mule_relay_result *res)
{
    const uint8_t *content = NULL;
    size_t content_len = 0, i, n, out_cap = 0, responsible = 0;
    struct plan *plans = NULL;
    uint32_t *scratch = NULL;
    int64_t now, arrival;
    char by_buf[40];
    const char *by_value = NULL;
    bool passed, loop;
    mule_trace tr;
    int rc;

    if (res == NULL)
        return MULE_ERR_INVAL;
    memset(res, 0, sizeof(*res));
    res->m = m;
    buf_init(&res->content, m, SIZE_MAX);
    if (cfg == NULL || in == NULL || cfg->hostname == NULL || in->now_date == NULL ||
        (in->env == NULL && in->payload == NULL) || (in->env != NULL && in->content == NULL &&
                                                     in->content_len > 0) ||
        (in->in_dests == NULL && in->in_dest_cnt > 0))
        return MULE_ERR_INVAL;
    if ((rc = take_envelope(cfg, in, lg, res, &content, &content_len)) != 0)
        goto fail;
    n = res->env->rcpt_cnt;
    now = in->now_s;
    arrival = in->arrival_s != 0 ? in->arrival_s : now;

    /* Message-level facts: priority, expiry, the BY deadline, loops. */
    res->priority = mule_relay_priority(&res->env->mail, &res->priority_clamped);
    res->expiry_s = mule_relay_expiry(&res->env->mail, arrival, now,
                                      cfg->default_expiry_s != 0 ? cfg->default_expiry_s
                                                                 : MULE_RELAY_DEFAULT_EXPIRY_S,
                                      &passed);
    res->deadline_passed = passed;
    loop = mule_hdr_count(content, content_len, "Received") >=
           (cfg->max_hops != 0 ? cfg->max_hops : MULE_RELAY_DEFAULT_MAX_HOPS);

    plans = mem_calloc(m, n != 0 ? n : 1, sizeof(*plans));
    scratch = mem_calloc(m, MULE_ROUTE_MAX_NODES, sizeof(*scratch));
    res->notes = mem_calloc(m, n != 0 ? n : 1, sizeof(*res->notes));
    if (plans == NULL || scratch == NULL || res->notes == NULL) {
        rc = MULE_ERR_NOMEM;
        goto fail;
    }
    /* Steps 3 and 5: responsibility and next destination per recipient. */
    for (i = 0; i < n; i++) {
        if ((rc = plan_rcpt(cfg, routes, in, res, &out_cap, i, scratch, &plans[i])) != 0)
            goto fail;
        if (plans[i].fate == FATE_SKIP)
            continue;
        responsible++;
        /* Whole-message verdicts override routing for our recipients. */
        if (loop) {
            plans[i].fate = FATE_FAIL;
            plans[i].kind = MULE_DSN_LOOP;
        } else if (passed && res->env->mail.by_mode == BSMTP_BY_RETURN) {
            plans[i].fate = FATE_FAIL;
            plans[i].kind = MULE_DSN_EXPIRED;
        } else if (passed && plans[i].fate != FATE_FAIL) {
            /* At most one note per recipient: notes has n entries. */
            plans[i].delayed = true;
        }
    }
    if (responsible == 0) {
        rc = MULE_ERR_NOT_RESPONSIBLE;
        goto fail;
    }
    /* Sort the recipients into their lists. */
    for (i = 0; i < n; i++) {
        switch (plans[i].fate) {
        case FATE_SKIP:
            res->skipped_cnt++;
            break;
        case FATE_FAIL:
            add_note(res, i, plans[i].kind);
            break;
        case FATE_LOCAL:
            rc = push_idx(m, &res->local_idx, &res->local_cnt, n, i);
            break;
        case FATE_OUT: {
            mule_relay_out *o = &res->outs[plans[i].slot];

            rc = push_idx(m, &o->rcpt_idx, &o->rcpt_cnt, n, i);
            break;
        }
        }
        if (rc != 0)
            goto fail;
        if (plans[i].delayed)
            add_note(res, i, MULE_DSN_DELAYED);
    }
    /* Outputs whose every recipient failed were planned but stay empty:
     * drop them (their node lists are freed with the result later). */
    for (i = 0; i < res->out_cnt;) {
        if (res->outs[i].rcpt_cnt != 0) {
            i++;
            continue;
        }
        mem_free(m, res->outs[i].nodes);
        buf_fini(&res->outs[i].payload);
        memmove(&res->outs[i], &res->outs[i + 1], (res->out_cnt - i - 1) * sizeof(*res->outs));
        res->out_cnt--;
    }

    /* Step 4: the trace field on top of the content. */
    memset(&tr, 0, sizeof(tr));
    tr.from = in->from;
    tr.by = cfg->hostname;
    tr.id = in->id;
    tr.date = in->now_date;
    if ((rc = mule_hdr_trace(&tr, &res->content)) != 0 ||
        (rc = mule_err_from_buf(buf_append(&res->content, content, content_len))) != 0)
        goto fail;

    /* RFC 2852 4: pass on the time that is left. */
    if ((rc = by_left_text(&res->env->mail, arrival, now, by_buf, sizeof(by_buf))) < 0)
        goto fail;
    if (rc > 0)
        by_value = by_buf;
    /* Step 6: one payload per destination, and the local part. */
    for (i = 0; i < res->out_cnt; i++) {
        res->outs[i].priority = res->priority;
        res->outs[i].expiry_s = res->expiry_s;
        if ((rc = build_payload(cfg, res, &res->outs[i], by_value)) != 0)
            goto fail;
    }
    if (res->local_cnt > 0 &&
        (rc = subset_env(res->env, res->local_idx, res->local_cnt, by_value, m,
                         &res->local_env)) != 0)
        goto fail;

    if (res->priority_clamped)
        log_emit(lg, LOG_LVL_WARN, "mule-relay-priority-clamped mt_priority=%d priority=%u",
                 res->env->mail.mt_priority, (unsigned)res->priority);
    log_emit(lg, LOG_LVL_INFO,
             "mule-relay-done id=%s rcpts=%zu dests=%zu local=%zu failed=%zu skipped=%zu "
             "priority=%u expiry=%lld%s",
             in->id != NULL ? in->id : "-", n, res->out_cnt, res->local_cnt, res->failed_cnt,
             res->skipped_cnt, (unsigned)res->priority, (long long)res->expiry_s,
             passed ? " deadline=passed" : "");
    mem_free(m, plans);
    mem_free(m, scratch);
    return 0;

fail:
    mem_free(m, plans);
    mem_free(m, scratch);
    mule_relay_result_fini(res);
    return rc;
}

int
mule_relay_by_left(const bsmtp_envelope *env, int64_t arrival_s, int64_t now_s, const mem *m,
                   bsmtp_envelope **out)
{
    char by_buf[40];
    int rc;

    if (out != NULL)
        *out = NULL;
    if (env == NULL || out == NULL)
        return MULE_ERR_INVAL;
    /* The mail may have waited here for an MTA that was down: that time
     * is gone from the deadline too, not only the time before we spooled. */
    if ((rc = by_left_text(&env->mail, arrival_s, now_s, by_buf, sizeof(by_buf))) <= 0)
        return rc;
    return subset_env(env, NULL, env->rcpt_cnt, by_buf, m, out);
}

void
mule_relay_result_fini(mule_relay_result *res)
{
    size_t i;

    if (res == NULL)
        return;
    for (i = 0; i < res->out_cnt; i++) {
        mem_free(res->m, res->outs[i].nodes);
        mem_free(res->m, res->outs[i].rcpt_idx);
        buf_fini(&res->outs[i].payload);
    }
    mem_free(res->m, res->outs);
    bsmtp_envelope_free(res->local_env);
    bsmtp_envelope_free(res->env);
    mem_free(res->m, res->local_idx);
    mem_free(res->m, res->notes);
    buf_fini(&res->content);
    memset(res, 0, sizeof(*res));
}

int
mule_relay_dsn(const mule_relay_result *res, const mule_dsn_config *dcfg,
               const char *arrival_date, const logger *lg, mule_dsn *out)
{
    mule_dsn_rcpt *rc_list;
    mule_dsn_orig o;
    size_t i;
    int rc;

    if (out != NULL)
        memset(out, 0, sizeof(*out));
    if (res == NULL || res->env == NULL || res->note_cnt == 0 || out == NULL)
        return MULE_ERR_INVAL;
    rc_list = mem_calloc(res->m, res->note_cnt, sizeof(*rc_list));
    if (rc_list == NULL)
        return MULE_ERR_NOMEM;
    for (i = 0; i < res->note_cnt; i++) {
        const bsmtp_rcpt *r = &res->env->rcpts[res->notes[i].rcpt_idx];

        rc_list[i].addr = r->addr;
        rc_list[i].orcpt = r->info.orcpt;
        rc_list[i].notify = r->info.notify;
        rc_list[i].kind = res->notes[i].kind;
    }
    memset(&o, 0, sizeof(o));
    o.reverse_path = res->env->reverse_path;
    o.smtputf8 = res->env->mail.smtputf8;
    o.envid = res->env->mail.envid;
    o.ret = res->env->mail.ret;
    o.body = res->env->mail.body;
    o.arrival_date = arrival_date;
    o.content = res->content.data;
    o.content_len = res->content.len;
    rc = mule_dsn_build(dcfg, &o, rc_list, res->note_cnt, res->m, lg, out);
    mem_free(res->m, rc_list);
    return rc;
}
