/*
 * mule_node.c: one MULE node's decisions (see mule_node.h).  A thin layer
 * over mule_cdt (unwrap), bsmtp_payload (parse), mule_relay (route and
 * split) and mule_dsn (report): the order of those steps and what a
 * failure of each means for the P_MUL message are decided here, once.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mule/mule_node.h"

#include "bsmtp/bsmtp_err.h"
#include "mule/mule_err.h"
#include "mule/mule_hdr.h"

bool
mule_node_is_temporary(int err)
{
    return err == MULE_ERR_NOMEM || err == BSMTP_ERR_NOMEM || err == MULE_ERR_DEFLATE ||
           err == MULE_ERR_SPOOL_IO || err == MULE_ERR_SPOOL_FULL ||
           err == MULE_ERR_SPOOL_FULL_Q;
}

bool
mule_node_is_not_whole(int err)
{
    return err == MULE_ERR_BER || err == MULE_ERR_INFLATE;
}

static void
result_init(mule_node_result *res, const mule_node_config *cfg, const mem *m)
{
    memset(res, 0, sizeof(*res));
    res->m = m;
    buf_init(&res->inflated, m, cfg != NULL && cfg->cdt != NULL ? cfg->cdt->max_inflated
                                                                : SIZE_MAX);
}

void
mule_node_result_fini(mule_node_result *res)
{
    if (res == NULL)
        return;
    mule_relay_result_fini(&res->relay);
    mule_relay_result_fini(&res->dsn);
    buf_fini(&res->inflated);
    memset(res, 0, sizeof(*res));
}

static void
relay_config(const mule_node_config *cfg, mule_relay_config *rc)
{
    memset(rc, 0, sizeof(*rc));
    rc->hostname = cfg->hostname;
    rc->node_id = cfg->node_id;
    rc->default_expiry_s = cfg->default_expiry_s;
    rc->max_hops = cfg->max_hops;
    rc->limits = cfg->limits;
    rc->cdt = cfg->cdt;
    rc->payload_max = cfg->payload_max;
}

static void
relay_input(mule_relay_input *ri, const bsmtp_envelope *env, const uint8_t *content,
            size_t content_len, const char *from, const char *id, const mule_node_clock *clk)
{
    memset(ri, 0, sizeof(*ri));
    ri->env = env;
    ri->content = content;
    ri->content_len = content_len;
    ri->from = from;
    ri->id = id;
    ri->now_s = clk->now_s;
    ri->now_date = clk->now_date;
}

static bool
config_ok(const mule_node_config *cfg, const mule_node_clock *clk)
{
    return cfg != NULL && cfg->hostname != NULL && cfg->node_id != 0 && cfg->cdt != NULL &&
           clk != NULL && clk->now_date != NULL;
}

/*
 * A built DSN goes out like mail submitted here: relayed from this node
 * (every recipient ours), towards the originator.  A DSN that itself has
 * no route is dropped with a log line (a DSN is never reported on: its
 * reverse-path is <>).
 */
static int
relay_dsn(const mule_node_config *cfg, const mule_route_table *routes, mule_dsn *d,
          const mule_node_clock *clk, const mem *m, const logger *lg, mule_node_result *res)
{
    mule_relay_config rc;
    mule_relay_input in;
    int err;

    relay_config(cfg, &rc);
    relay_input(&in, d->env, d->content.data, d->content.len, NULL, NULL, clk);
    err = mule_relay_run(&rc, routes, &in, m, lg, &res->dsn);
    if (err < 0) {
        res->dsn_err = err;
        return mule_node_is_temporary(err) ? err : 0;
    }
    if (res->dsn.failed_cnt > 0)
        log_emit(lg, LOG_LVL_WARN, "DSN to <%s> has no route: dropped", d->env->rcpts[0].addr);
    /* Its one recipient failed: nothing to send, and a caller that counts
     * or stores has_dsn must not count or store an empty DSN. */
    if (res->dsn.out_cnt == 0 && res->dsn.local_env == NULL) {
        res->dsn_err = MULE_ERR_NO_ROUTE;
        return 0;
    }
    res->has_dsn = true;
    return 0;
}

/*
 * Arrival-Date of an inbound message's DSN: when it reached this node
 * (RFC 3464 2.2.5), not when the DSN is made, which is later when the
 * caller ran the message again after a deferral.  The caller's now_date
 * serves when it is the same second (or the arrival is unknown, 0), so
 * that the caller's time zone is kept; otherwise UTC.
 */
static const char *
arrival_date(const mule_node_in *in, const mule_node_clock *clk, char *out, size_t len)
{
    time_t t = (time_t)in->arrival_s;
    struct tm tm;

    if (in->arrival_s == 0 || in->arrival_s == clk->now_s || (int64_t)t != in->arrival_s ||
        gmtime_r(&t, &tm) == NULL || strftime(out, len, "%a, %d %b %Y %H:%M:%S +0000", &tm) == 0)
        return clk->now_date;
    return out;
}

/* The DSN due for res->relay's notes, if any. */
static int
dsn_for_notes(const mule_node_config *cfg, const mule_route_table *routes,
              const mule_node_clock *clk, const char *arrival, const mem *m,
              const logger *lg, mule_node_result *res)
{
    mule_dsn_config dc;
    mule_dsn d;
    int err;

    if (res->relay.note_cnt == 0)
        return 0;
    if (clk->dsn_msgid == NULL) {
        res->dsn_err = MULE_ERR_INVAL;
        return 0;
    }
    memset(&dc, 0, sizeof(dc));
    dc.reporting_mta = cfg->hostname;
    dc.date = clk->now_date;
    dc.message_id = clk->dsn_msgid;
    err = mule_relay_dsn(&res->relay, &dc, arrival, lg, &d);
    if (err < 0) {
        res->dsn_err = err;
        return mule_node_is_temporary(err) ? err : 0;
    }
    err = relay_dsn(cfg, routes, &d, clk, m, lg, res);
    mule_dsn_fini(&d);
    return err;
}

int
mule_node_inbound(const mule_node_config *cfg, const mule_route_table *routes,
                  const mule_node_in *in, const mule_node_clock *clk, const mem *m,
                  const logger *lg, mule_node_result *res)
{
    mule_relay_config rc;
    mule_relay_input ri;
    bsmtp_envelope *env = NULL;
    size_t off = 0;
    char src[16], arrival[64];
    int64_t t;
    int err;

    if (res == NULL)
        return MULE_ERR_INVAL;
    result_init(res, cfg, m);
    if (!config_ok(cfg, clk) || in == NULL || (in->payload == NULL && in->payload_len > 0))
        return MULE_ERR_INVAL;
    err = mule_cdt_decode(cfg->cdt, m, in->payload, in->payload_len, &res->inflated, NULL);
    if (err == 0)
        err = bsmtp_payload_parse(res->inflated.data, res->inflated.len, cfg->limits, m,
                                  &env, &off);
    if (err < 0) {
        res->err = err;
        return mule_node_is_temporary(err) ? err : 0;
    }
    relay_config(cfg, &rc);
    relay_input(&ri, env, res->inflated.data + off, res->inflated.len - off,
                mule_route_ntoa(in->src, src), in->id, clk);
    ri.arrival_s = in->arrival_s;
    /* RFC 2852 4: the payload's BY= is the time that was left when the
     * previous MULE node took the mail in (mule_relay wrote it and that
     * node's Received field at the same second), so count it from that
     * field's date, not from our arrival: the time the mail waited in that
     * node's queue (EMCON, a busy link) and on the air comes off too.
     * Like Expiry_Time this trusts the nodes' clocks; a date in our future
     * changes nothing. */
    if (env->mail.by_mode != BSMTP_BY_NONE &&
        mule_hdr_mule_trace_time(res->inflated.data + off, res->inflated.len - off, &t) &&
        t > 0 && t < (in->arrival_s != 0 ? in->arrival_s : clk->now_s))
        ri.arrival_s = t;
    /* The addressees got the message directly and are never sent it
     * again; a list without us (not expected) counts as us alone. */
    if (in->dests != NULL && in->dest_cnt > 0) {
        ri.in_dests = in->dests;
        ri.in_dest_cnt = in->dest_cnt;
    } else {
        ri.in_dests = &cfg->node_id;
        ri.in_dest_cnt = 1;
    }
    ri.in_src = in->src;
    err = mule_relay_run(&rc, routes, &ri, m, lg, &res->relay);
    bsmtp_envelope_free(env);
    if (err < 0) {
        res->err = err;
        return mule_node_is_temporary(err) ? err : 0;
    }
    res->has_relay = true;
    return dsn_for_notes(cfg, routes, clk, arrival_date(in, clk, arrival, sizeof(arrival)), m,
                         lg, res);
}

int
mule_node_outbound(const mule_node_config *cfg, const mule_route_table *routes,
                   const bsmtp_envelope *env, const uint8_t *content, size_t content_len,
                   const char *from, const char *id, const mule_node_clock *clk,
                   const mem *m, const logger *lg, mule_node_result *res)
{
    mule_relay_config rc;
    mule_relay_input ri;
    int err;

    if (res == NULL)
        return MULE_ERR_INVAL;
    result_init(res, cfg, m);
    if (!config_ok(cfg, clk) || env == NULL || (content == NULL && content_len > 0))
        return MULE_ERR_INVAL;
    relay_config(cfg, &rc);
    relay_input(&ri, env, content, content_len, from, id, clk);
    err = mule_relay_run(&rc, routes, &ri, m, lg, &res->relay);
    if (err < 0) {
        res->err = err;
        return mule_node_is_temporary(err) ? err : 0;
    }
    res->has_relay = true;
    return dsn_for_notes(cfg, routes, clk, clk->now_date, m, lg, res);
}

int
mule_node_report(const mule_node_config *cfg, const mule_route_table *routes,
                 const bsmtp_envelope *env, const uint8_t *content, size_t content_len,
                 const mule_node_failure *fails, size_t cnt, const char *arrival_date,
                 const mule_node_clock *clk, const mem *m, const logger *lg,
                 mule_node_result *res)
{
    mule_dsn_config dc;
    mule_dsn_orig o;
    mule_dsn_rcpt *list;
    mule_dsn d;
    int err;

    if (res == NULL)
        return MULE_ERR_INVAL;
    result_init(res, cfg, m);
    res->err = MULE_ERR_NOT_RESPONSIBLE;        /* no message of its own */
    if (!config_ok(cfg, clk) || env == NULL || fails == NULL || cnt == 0 ||
        clk->dsn_msgid == NULL || arrival_date == NULL)
        return MULE_ERR_INVAL;
    for (size_t i = 0; i < cnt; i++)
        if (fails[i].rcpt_idx >= env->rcpt_cnt)
            return MULE_ERR_INVAL;
    list = mem_calloc(m, cnt, sizeof(*list));
    if (list == NULL)
        return MULE_ERR_NOMEM;
    for (size_t i = 0; i < cnt; i++) {
        const bsmtp_rcpt *r = &env->rcpts[fails[i].rcpt_idx];

        list[i].addr = r->addr;
        list[i].orcpt = r->info.orcpt;
        list[i].notify = r->info.notify;
        list[i].kind = fails[i].kind;
        list[i].status = fails[i].status;
        list[i].reply = fails[i].reply;
        list[i].remote_mta = fails[i].remote_mta;
        list[i].last_attempt_date = clk->now_date;
    }
    memset(&o, 0, sizeof(o));
    o.reverse_path = env->reverse_path;
    o.smtputf8 = env->mail.smtputf8;
    o.envid = env->mail.envid;
    o.ret = env->mail.ret;
    o.body = env->mail.body;
    o.arrival_date = arrival_date;
    o.content = content;
    o.content_len = content_len;
    memset(&dc, 0, sizeof(dc));
    dc.reporting_mta = cfg->hostname;
    dc.date = clk->now_date;
    dc.message_id = clk->dsn_msgid;
    err = mule_dsn_build(&dc, &o, list, cnt, m, lg, &d);
    mem_free(m, list);
    if (err < 0) {
        res->dsn_err = err;
        return mule_node_is_temporary(err) ? err : 0;
    }
    err = relay_dsn(cfg, routes, &d, clk, m, lg, res);
    mule_dsn_fini(&d);
    return err;
}

bool
mule_node_tunnelled_priority(bsmtp_envelope *env, const uint8_t *content, size_t len,
                             bool trusted)
{
    char v[4];
    int p;

    if (env == NULL || env->mail.has_mt_priority || !trusted ||
        !mule_hdr_mt_priority(content, len, &p))
        return false;
    /* As a MAIL parameter, so that the BSMTP payload carries it on. */
    snprintf(v, sizeof v, "%d", p);
    return bsmtp_envelope_add_param(env, "MT-PRIORITY", v) == 0;
}
