/*
 * muled_ctl.c: the control socket mulectl talks to (mule/mule_ctl.h has
 * the framing).  One request per connection: read it (at most
 * MULE_CTL_REQ_MAX octets, within CTL_TIMEOUT_MS), check who asks
 * (SO_PEERCRED: root, muled's own user or a member of control_group),
 * run the command on the loop, write the answer, close.
 *
 * Answers are rendered as human lines or JSON (--json) from one
 * description of each answer (the r_* calls of muled_render.c), so both
 * forms always carry the same facts.  "stats --prometheus" is the Prometheus text format;
 * docs/operations.md lists every metric.
 */
#define _GNU_SOURCE     /* struct ucred */
#include <errno.h>
#include <grp.h>
#include <stdarg.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "bsmtp/bsmtp_payload.h"
#include "mule/mule_auditlog_fs.h"
#include "mule/mule_ctl.h"
#include "mule/mule_dsn.h"
#include "mule/mule_err.h"
#include "pmul/pmul_pdu.h"
#include "tools/muled/muled.h"
#include "tools/muled/muled_render.h"

#define CTL_TIMEOUT_MS 10000
#define CTL_MAX_CONNS  16

struct muled_ctl {
    uv_pipe_t lis;
    muled *d;
    size_t conns;
    bool listening;
};

typedef struct ctl_conn {
    uv_pipe_t h;
    uv_timer_t t;
    uv_write_t w;
    muled *d;
    uint8_t in[MULE_CTL_REQ_MAX];
    size_t in_len;
    buf out;
    int open_handles;
    bool done;          /* request answered (or refused) */
} ctl_conn;

/* ------------------------------------------------------------------ */
/* Facts shared by several commands                                    */

static const char *
tstate_name(unsigned st)
{
    static const char *const n[] = {"pending", "inflight", "done", "deferred", "failed",
                                    "dsn-sent"};
    return st < sizeof n / sizeof n[0] ? n[st] : "?";
}

static const char *
kind_name(unsigned k)
{
    return k == MULE_SPOOL_OUT ? "out" : k == MULE_SPOOL_IN ? "in" : "?";
}

/* "3d04h", "2h05m", "4m07s", "12s" */
static void
fmt_age(int64_t s, char *out, size_t len)
{
    if (s < 0)
        s = 0;
    if (s >= 86400)
        snprintf(out, len, "%" PRId64 "d%02" PRId64 "h", s / 86400, s % 86400 / 3600);
    else if (s >= 3600)
        snprintf(out, len, "%" PRId64 "h%02" PRId64 "m", s / 3600, s % 3600 / 60);
    else if (s >= 60)
        snprintf(out, len, "%" PRId64 "m%02" PRId64 "s", s / 60, s % 60);
    else
        snprintf(out, len, "%" PRId64 "s", s);
}

static void
fmt_time(int64_t t, char *out, size_t len)
{
    muled_date_fmt(t, "%Y-%m-%dT%H:%M:%SZ", out, len);
}

/* The entry's envelope as stored (no inflating: OUT entries keep the
 * sender and recipients beside the payload). */
typedef struct entry_view {
    buf file;
    mule_spool_msg msg;
    mule_spool_rcpt *rcpts;
    char from[300];
} entry_view;

static void
entry_free(entry_view *v)
{
    buf_fini(&v->file);
    free(v->rcpts);
    v->rcpts = NULL;
}

static int
entry_load(muled *d, const char *id, entry_view *v)
{
    int rc;

    buf_init(&v->file, NULL, SIZE_MAX);
    v->rcpts = NULL;
    rc = muled_entry_env(d, id, &v->file, &v->msg, &v->rcpts, NULL);
    if (rc < 0) {
        entry_free(v);
        return rc;
    }
    snprintf(v->from, sizeof v->from, "<%.*s>", (int)(v->msg.mail_from.len < 290 ?
             v->msg.mail_from.len : 290), v->msg.mail_from.p);
    return 0;
}

static void
rcpt_text(const mule_spool_msg *m, size_t i, char *out, size_t len)
{
    if (m == NULL || m->rcpts == NULL || i >= m->rcpt_cnt) {
        snprintf(out, len, "?");
        return;
    }
    snprintf(out, len, "%.*s", (int)(m->rcpts[i].addr.len < 300 ? m->rcpts[i].addr.len : 300),
             m->rcpts[i].addr.p);
}

/* Counts of targets by state, per entry kind; entries by priority. */
typedef struct qsum {
    size_t entries[3], held, deleted;
    size_t tstate[3][6];
    size_t prio[19];
    int64_t oldest[3];
} qsum;

static void
queue_sum(muled *d, qsum *q)
{
    const mule_spool *sp = mule_spool_fs_core(d->spool);
    mule_spool_info info;
    size_t pos = 0;

    memset(q, 0, sizeof *q);
    while (mule_spool_iter(sp, &pos, &info)) {
        unsigned k = info.kind <= 2 ? info.kind : 0;
        q->entries[k]++;
        if (info.flags & MULE_SPOOL_F_HELD)
            q->held++;
        if (info.flags & MULE_SPOOL_F_DELETED)
            q->deleted++;
        if (info.priority >= -9 && info.priority <= 9)
            q->prio[info.priority + 9]++;
        if (q->oldest[k] == 0 || info.arrival_s < q->oldest[k])
            q->oldest[k] = info.arrival_s;
        for (size_t i = 0; i < info.target_cnt; i++) {
            mule_spool_target t;
            if (mule_spool_target_get(sp, info.id, i, &t) == 0 && t.state < 6)
                q->tstate[k][t.state]++;
        }
    }
}

/* ------------------------------------------------------------------ */
/* Commands                                                            */

typedef struct ctl_cmd {
    muled *d;
    const mule_ctl_req *req;
    rend r;
    buf *b;
} ctl_cmd;

static int
cmd_status(ctl_cmd *c)
{
    muled *d = c->d;
    rend *r = &c->r;
    pmul_stats st;
    qsum q;
    int64_t now = muled_now_s();
    char t[64], age[32];
    static const char *const prio_names[19] = {
        "-9", "-8", "-7", "-6", "-5", "-4", "-3", "-2", "-1", "0",
        "1", "2", "3", "4", "5", "6", "7", "8", "9"};

    pmul_engine_stats(d->engine, &st);
    queue_sum(d, &q);
    r_open(r, NULL);
    r_str(r, "node", d->cf.node_id_text);
    r_str(r, "hostname", d->cf.hostname);
    r_u64(r, "pid", (uint64_t)getpid());
    fmt_time(d->started_s, t, sizeof t);
    r_str(r, "started", t);
    fmt_age(now - d->started_s, age, sizeof age);
    r_str(r, "uptime", age);
    r_open(r, "emcon");
    r_bool(r, "on", d->emcon);
    if (d->emcon_since_s > 0) {
        fmt_time(d->emcon_since_s, t, sizeof t);
        r_str(r, "since", t);
    } else {
        r_str(r, "since", "");
    }
    r_close(r);
    r_open(r, "listeners");
    {
        char grp[32];
        snprintf(grp, sizeof grp, "%s:%u", mule_route_ntoa(d->cf.group, t),
                 PMUL_TPORT_DEFAULT);
        r_str(r, "pmul", grp);
    }
    r_str(r, "smtp", d->cf.smtpd_listen);
    r_str(r, "lmtp", d->cf.lmtpd_listen);
    r_str(r, "control", d->cf.control_socket);
    r_close(r);
    r_str(r, "deliver", d->cf.deliver);
    r_str(r, "confinement", d->confinement);
    /* Who may talk to us over P_MUL: an operator checks this first when
     * a peer hears nothing. */
    r_open(r, "pmul_peers");
    r_str(r, "authentication", d->pauth != NULL ? "on (pmul_auth)" : "off");
    r_bool(r, "check_source_ip", d->cf.check_source_ip);
    r_str(r, "accept", d->cf.accept_unknown_nodes ? "any node" : "nodes the routing table names");
    r_close(r);
    r_open(r, "audit");
    r_str(r, "dir", d->cf.audit_dir);
    r_bool(r, "open", d->audit != NULL);
    r_u64(r, "last_seq", mule_auditlog_seq(d->audit));
    r_close(r);
    r_open(r, "queue");
    r_u64(r, "entries", mule_spool_count(mule_spool_fs_core(d->spool)));
    r_u64(r, "held", q.held);
    for (unsigned k = 1; k <= 2; k++) {
        r_open(r, k == 1 ? "out" : "in");
        r_u64(r, "entries", q.entries[k]);
        for (unsigned s = 0; s < 6; s++)
            r_u64(r, tstate_name(s), q.tstate[k][s]);
        fmt_age(q.oldest[k] != 0 ? now - q.oldest[k] : 0, age, sizeof age);
        r_str(r, "oldest", q.oldest[k] != 0 ? age : "");
        r_close(r);
    }
    r_open(r, "by_priority");
    for (int p = 18; p >= 0; p--)
        if (q.prio[p] > 0)
            r_u64(r, prio_names[p], q.prio[p]);
    r_close(r);
    r_close(r);
    r_open(r, "pmul");
    r_u64(r, "tx_messages", st.tx_msgs);
    r_u64(r, "rx_messages", st.rx_msgs);
    r_u64(r, "rx_held_bytes", st.rx_held_bytes);
    r_u64(r, "submitted", st.msgs_submitted);
    r_u64(r, "done", st.msgs_done);
    r_u64(r, "dests_acked", st.dests_acked);
    r_u64(r, "dests_failed", st.dests_failed);
    r_u64(r, "delivered", st.msgs_delivered);
    r_u64(r, "retransmitted_data_pdus", st.retx_data_pdus);
    r_u64(r, "srtt_ms", st.srtt_ms);
    r_u64(r, "rto_ms", st.rto_ms);
    r_u64(r, "fec_repair_pdus_sent", st.fec_repair_pdus);
    r_u64(r, "fec_recovered_pdus", st.rx_fec_recovered);
    r_close(r);
    r_close(r);
    return MULE_CTL_OK;
}

typedef struct qent {
    mule_spool_info info;
} qent;

static int
qent_cmp(const void *a, const void *b)
{
    const mule_spool_info *x = &((const qent *)a)->info, *y = &((const qent *)b)->info;

    if (x->arrival_s != y->arrival_s)
        return x->arrival_s < y->arrival_s ? -1 : 1;
    return strcmp(x->id, y->id);
}

/* Targets of one entry: nodes (OUT) or recipients (IN) with states. */
static void
r_targets(rend *r, muled *d, const mule_spool_info *info, const mule_spool_msg *m, bool full)
{
    const mule_spool *sp = mule_spool_fs_core(d->spool);
    char who[320], t[64];

    r_arr(r, full ? "targets" : "to");
    for (size_t i = 0; i < info->target_cnt; i++) {
        mule_spool_target tg;
        if (mule_spool_target_get(sp, info->id, i, &tg) != 0)
            continue;
        if (info->kind == MULE_SPOOL_OUT)
            mule_route_ntoa(tg.node, who);
        else
            rcpt_text(m, i, who, sizeof who);
        r_open(r, NULL);
        r_str(r, info->kind == MULE_SPOOL_OUT ? "node" : "rcpt", who);
        r_str(r, "state", tstate_name(tg.state));
        if (full) {
            r_u64(r, "attempts", tg.attempts);
            if (tg.reason != 0) {
                const char *why = tg.reason < 0 ? mule_strerror(tg.reason) : NULL;
                if (why != NULL)
                    r_str(r, "reason", why);
                else
                    r_i64(r, "reason", tg.reason);
            }
            if (tg.state == MULE_SPOOL_T_INFLIGHT || tg.state >= MULE_SPOOL_T_DONE) {
                if (info->kind == MULE_SPOOL_OUT) {
                    snprintf(t, sizeof t, "%08" PRIx32, tg.msid);
                    r_str(r, "msid", t);
                    r_u64(r, "msn", tg.msn);
                }
            }
            if ((tg.state == MULE_SPOOL_T_PENDING || tg.state == MULE_SPOOL_T_TEMPFAIL) &&
                tg.next_try_s > 0) {
                fmt_time(tg.next_try_s, t, sizeof t);
                r_str(r, "next_try", t);
            }
        }
        r_close(r);
    }
    r_close(r);
}

static int
cmd_queue(ctl_cmd *c)
{
    muled *d = c->d;
    const mule_spool *sp = mule_spool_fs_core(d->spool);
    size_t n = mule_spool_count(sp), k = 0, pos = 0;
    qent *v = calloc(n > 0 ? n : 1, sizeof *v);
    int64_t now = muled_now_s();
    rend *r = &c->r;

    if (v == NULL) {
        rd_puts(c->b, "out of memory\n");
        return MULE_CTL_FAILED;
    }
    while (k < n && mule_spool_iter(sp, &pos, &v[k].info))
        k++;
    qsort(v, k, sizeof *v, qent_cmp);
    if (!r->json) {
        /* mailq-like: a header, then one line per mail. */
        rd_putf(c->b, "%-12s %-3s %6s %9s %4s %-5s %s\n", "QUEUE-ID", "DIR", "AGE",
                         "SIZE", "PRIO", "FLAGS", "SENDER -> DESTINATIONS (STATE)");
    }
    if (r->json) {
        r_open(r, NULL);
        r_arr(r, "queue");
    }
    for (size_t i = 0; i < k; i++) {
        const mule_spool_info *in = &v[i].info;
        entry_view ev;
        char age[32], who[320];
        bool have = entry_load(d, in->id, &ev) == 0;

        fmt_age(now - in->arrival_s, age, sizeof age);
        if (!r->json) {
            rd_putf(c->b, "%-12s %-3s %6s %9zu %4d %-5s %s ->", in->id,
                             kind_name(in->kind), age, have ? ev.msg.content_len : 0,
                             in->priority, (in->flags & MULE_SPOOL_F_HELD) ? "held" :
                             (in->flags & MULE_SPOOL_F_DELETED) ? "del" : "-",
                             have ? ev.from : "<?>");
            for (size_t j = 0; j < in->target_cnt; j++) {
                mule_spool_target tg;
                if (mule_spool_target_get(sp, in->id, j, &tg) != 0)
                    continue;
                if (in->kind == MULE_SPOOL_OUT)
                    mule_route_ntoa(tg.node, who);
                else if (have)
                    rcpt_text(&ev.msg, j, who, sizeof who);
                else
                    snprintf(who, sizeof who, "#%zu", j);
                rd_puts(c->b, " ");
                r_human_str(c->b, who);
                rd_putf(c->b, " (%s)", tstate_name(tg.state));
            }
            rd_puts(c->b, "\n");
        } else {
            r_open(r, NULL);
            r_str(r, "id", in->id);
            r_str(r, "dir", kind_name(in->kind));
            r_i64(r, "arrival", in->arrival_s);
            r_i64(r, "age_s", now - in->arrival_s);
            r_u64(r, "size", have ? ev.msg.content_len : 0);
            r_i64(r, "priority", in->priority);
            r_bool(r, "held", (in->flags & MULE_SPOOL_F_HELD) != 0);
            r_str(r, "sender", have ? ev.from : "");
            r_targets(r, d, in, have ? &ev.msg : NULL, false);
            r_close(r);
        }
        if (have)
            entry_free(&ev);
    }
    if (r->json) {
        r_close(r);
        r_close(r);
    } else {
        rd_putf(c->b, "-- %zu mail(s)\n", k);
    }
    free(v);
    return MULE_CTL_OK;
}

static int
need_id(ctl_cmd *c, size_t argi, mule_spool_info *info)
{
    const char *id;

    if (c->req->argc != argi + 1) {
        rd_putf(c->b, "usage: %s ID\n", c->req->argv[0]);
        return MULE_CTL_USAGE;
    }
    id = c->req->argv[argi];
    if (strlen(id) != MULE_SPOOL_ID_LEN ||
        mule_spool_info_get(mule_spool_fs_core(c->d->spool), id, info) != 0) {
        rd_puts(c->b, "no such queue ID: ");
        r_human_str(c->b, id);
        rd_puts(c->b, "\n");
        return MULE_CTL_FAILED;
    }
    return MULE_CTL_OK;
}

static int
cmd_show(ctl_cmd *c)
{
    mule_spool_info info;
    entry_view ev;
    rend *r = &c->r;
    char t[64];
    int rc = need_id(c, 1, &info);

    if (rc != MULE_CTL_OK)
        return rc;
    if ((rc = entry_load(c->d, info.id, &ev)) < 0) {
        rd_putf(c->b, "%s: cannot read: %s\n", info.id, mule_strerror(rc));
        return MULE_CTL_FAILED;
    }
    r_open(r, NULL);
    r_str(r, "id", info.id);
    r_str(r, "dir", kind_name(info.kind));
    fmt_time(info.arrival_s, t, sizeof t);
    r_str(r, "arrival", t);
    fmt_time(info.expiry_s, t, sizeof t);
    r_str(r, "expiry", t);
    r_i64(r, "priority", info.priority);
    r_bool(r, "held", (info.flags & MULE_SPOOL_F_HELD) != 0);
    r_u64(r, "size", ev.msg.content_len);
    r_str(r, "content", ev.msg.content_kind == MULE_SPOOL_C_PAYLOAD ?
          (info.kind == MULE_SPOOL_OUT ? "CompressedData" : "BSMTP payload") : "message");
    if (info.src_node != 0) {
        char ip[16];
        r_str(r, "from_node", mule_route_ntoa(info.src_node, ip));
        snprintf(t, sizeof t, "%08" PRIx32, info.msid);
        r_str(r, "from_msid", t);
    }
    r_str(r, "sender", ev.from);
    {
        char params[600];
        snprintf(params, sizeof params, "%.*s", (int)(ev.msg.mail_params.len < 590 ?
                 ev.msg.mail_params.len : 590), ev.msg.mail_params.p);
        r_str(r, "mail_params", params);
    }
    r_arr(r, "recipients");
    for (size_t i = 0; i < ev.msg.rcpt_cnt; i++) {
        char a[320];
        rcpt_text(&ev.msg, i, a, sizeof a);
        r_str(r, NULL, a);
    }
    r_close(r);
    r_targets(r, c->d, &info, &ev.msg, true);
    r_close(r);
    entry_free(&ev);
    return MULE_CTL_OK;
}

static int
cmd_flag(ctl_cmd *c, int op)
{
    mule_spool_info info;
    int rc = need_id(c, 1, &info);

    if (rc != MULE_CTL_OK)
        return rc;
    rc = mule_spool_fs_flag(c->d->spool, info.id, op);
    if (rc < 0) {
        rd_putf(c->b, "%s: %s\n", info.id, rc == MULE_ERR_SPOOL_STATE ?
                         (op == 'h' ? "held already" : "not held") : mule_strerror(rc));
        return MULE_CTL_FAILED;
    }
    muled_log(c->d, LOG_LVL_INFO, "%s: %s by the operator", info.id,
              op == 'h' ? "held" : "released");
    muled_audit_event(c->d, op == 'h' ? "held" : "released", info.id, "by=mulectl");
    if (op == 'r')
        muled_kick(c->d);
    rd_putf(c->b, "%s: %s%s\n", info.id, op == 'h' ? "held" : "released",
                     op == 'h' && info.kind == MULE_SPOOL_OUT ?
                     " (a transmission already running goes on)" : "");
    return MULE_CTL_OK;
}

static int
cmd_delete(ctl_cmd *c)
{
    muled *d = c->d;
    const mule_spool *sp = mule_spool_fs_core(d->spool);
    bool no_dsn = c->req->argc == 3 && strcmp(c->req->argv[1], "-n") == 0;
    mule_spool_info info;
    int rc = need_id(c, no_dsn ? 2 : 1, &info);

    if (rc != MULE_CTL_OK)
        return rc;
    if (info.flags & MULE_SPOOL_F_DELETED) {
        rd_putf(c->b, "%s: being deleted already\n", info.id);
        return MULE_CTL_FAILED;
    }
    if (muled_dlv_busy(d, info.id)) {
        rd_putf(c->b, "%s: being handed to the MTA right now; try again in a moment\n",
                         info.id);
        return MULE_CTL_FAILED;
    }
    if (info.kind == MULE_SPOOL_OUT)
        (void)muled_tx_cancel(d, info.id);

    size_t nf = 0;
    size_t *tidx = calloc(info.target_cnt, sizeof *tidx);
    int *kinds = calloc(info.target_cnt, sizeof *kinds);
    if (tidx == NULL || kinds == NULL) {
        free(tidx);
        free(kinds);
        rd_puts(c->b, "out of memory\n");
        return MULE_CTL_FAILED;
    }
    for (size_t i = 0; i < info.target_cnt && !no_dsn; i++) {
        mule_spool_target tg;
        if (mule_spool_target_get(sp, info.id, i, &tg) != 0 || tg.state == MULE_SPOOL_T_DONE ||
            tg.state == MULE_SPOOL_T_FAILED || tg.state == MULE_SPOOL_T_DSN_SENT)
            continue;
        tidx[nf] = i;
        kinds[nf++] = MULE_DSN_DELETED;
    }
    /* The DSN first (durable, it marks the targets FAILED and DSN_SENT),
     * then the entry goes whatever is left in it. */
    if (nf > 0 && muled_fail_targets(d, info.id, tidx, kinds, NULL, nf) < 0)
        muled_log(d, LOG_LVL_WARN, "%s: delete: no DSN could be queued", info.id);
    free(tidx);
    free(kinds);
    if (mule_spool_info_get(sp, info.id, &info) == 0) {
        rc = mule_spool_fs_flag(d->spool, info.id, 'd');
        if (rc == 0)
            rc = mule_spool_fs_remove(d->spool, info.id);
        if (rc < 0) {
            rd_putf(c->b, "%s: %s\n", info.id, mule_strerror(rc));
            return MULE_CTL_FAILED;
        }
    }
    muled_log(d, LOG_LVL_INFO, "%s: deleted by the operator%s", info.id,
              nf > 0 ? ", DSN queued" : no_dsn ? ", no DSN (-n)" : "");
    muled_audit_event(d, "deleted", info.id, no_dsn ? "by=mulectl dsn=no" : "by=mulectl");
    rd_putf(c->b, "%s: deleted%s\n", info.id,
                     nf > 0 ? "; DSN to the sender queued" : no_dsn ? " without DSN" : "");
    muled_kick(d);
    return MULE_CTL_OK;
}

static int
cmd_flush(ctl_cmd *c)
{
    mule_spool_info info;
    const char *id = NULL;
    size_t n;

    if (c->req->argc == 2) {
        int rc = need_id(c, 1, &info);
        if (rc != MULE_CTL_OK)
            return rc;
        id = info.id;
    } else if (c->req->argc != 1) {
        rd_puts(c->b, "usage: flush [ID]\n");
        return MULE_CTL_USAGE;
    }
    n = mule_spool_flush(mule_spool_fs_core(c->d->spool), id, muled_now_s());
    muled_log(c->d, LOG_LVL_INFO, "flush: %zu waiting target(s) due now", n);
    muled_kick(c->d);
    rd_putf(c->b, "%zu waiting delivery target(s) retried now\n", n);
    return MULE_CTL_OK;
}

static int
cmd_emcon(ctl_cmd *c)
{
    const char *a = c->req->argc == 2 ? c->req->argv[1] : "";
    char msg[300], t[64];

    if (strcmp(a, "on") == 0 || strcmp(a, "off") == 0) {
        int rc = muled_set_emcon(c->d, a[1] == 'n', msg, sizeof msg);
        rd_putf(c->b, "%s\n", msg);
        return rc == 0 ? MULE_CTL_OK : MULE_CTL_FAILED;
    }
    if (strcmp(a, "status") != 0) {
        rd_puts(c->b, "usage: emcon on|off|status\n");
        return MULE_CTL_USAGE;
    }
    r_open(&c->r, NULL);
    r_bool(&c->r, "emcon", c->d->emcon);
    fmt_time(c->d->emcon_since_s, t, sizeof t);
    r_str(&c->r, "since", c->d->emcon_since_s > 0 ? t : "");
    r_close(&c->r);
    return MULE_CTL_OK;
}

/*
 * What the engine knows of each P_MUL destination (issue 12): one line per
 * node, in node order.  The loss is the transmitter's sample (first
 * transmissions only, halved past a window), so loss_samples says how much
 * it is worth; fec is its finding of docs/engine.md 6, plain_for the
 * messages a blind or non-decoding node is still served plainly.
 */
static int
cmd_peers(ctl_cmd *c)
{
    pmul_engine *e = c->d->engine;
    size_t n = pmul_engine_dest_count(e);
    rend *r = &c->r;

    r_open(r, NULL);
    r_arr(r, "peers");
    for (size_t i = 0; i < n; i++) {
        pmul_dest_info di;
        char who[16], loss[16];
        unsigned pm = 0;

        if (pmul_engine_dest_info(e, i, &di) != 0)
            break;
        if (di.loss_sent > 0 && di.loss_got < di.loss_sent)
            pm = (unsigned)(1000u - (uint64_t)di.loss_got * 1000u / di.loss_sent);
        snprintf(loss, sizeof loss, "%u.%u", pm / 10u, pm % 10u);
        r_open(r, NULL);
        r_str(r, "node", mule_route_ntoa(di.id, who));
        r_u64(r, "next_msn", di.next_msn);
        r_bool(r, "emcon", di.emcon);
        r_bool(r, "no_fec", di.no_fec);
        r_raw(r, "loss_pct", loss);
        r_u64(r, "loss_samples", di.loss_sent);
        r_str(r, "fec", pmul_dest_fec_name(di.fec));
        r_u64(r, "plain_for", di.fec_left);
        r_bool(r, "decodes", di.fec_decodes);
        r_bool(r, "joint_decodes", di.joint_decodes);
        r_u64(r, "nojoint_for", di.nojoint_left);
        r_close(r);
    }
    r_close(r);
    r_close(r);
    return MULE_CTL_OK;
}

static int
cmd_reload(ctl_cmd *c)
{
    char msg[700];
    int rc = muled_reload(c->d, msg, sizeof msg);

    rd_putf(c->b, "%s%s\n", rc == 0 ? "" : "refused, the running configuration stays: ",
                     msg);
    return rc == 0 ? MULE_CTL_OK : MULE_CTL_FAILED;
}

static int
cmd_audit(ctl_cmd *c)
{
    mule_auditlog_report rep;
    int rc;

    if (c->req->argc != 2 || strcmp(c->req->argv[1], "verify") != 0) {
        rd_puts(c->b, "usage: audit verify\n");
        return MULE_CTL_USAGE;
    }
    rc = mule_auditlog_verify_dir(c->d->cf.audit_dir, c->d->audit_key, c->d->audit_key_len,
                                  &rep);
    if (rc < 0) {
        rd_putf(c->b, "%s: %s\n", c->d->cf.audit_dir, mule_strerror(rc));
        return MULE_CTL_FAILED;
    }
    /* Records cut off the end leave a good but shorter chain: muled knows
     * how far it wrote, so the online check catches that too. */
    if (rep.ok && c->d->audit != NULL && rep.last_seq < mule_auditlog_seq(c->d->audit)) {
        rep.ok = false;
        snprintf(rep.bad_file, sizeof rep.bad_file, "(end of the log)");
        rep.bad_line = 0;
        snprintf(rep.why, sizeof rep.why, "the log ends at record %" PRIu64 " but muled wrote "
                 "%" PRIu64 ": records were removed from the end", rep.last_seq,
                 mule_auditlog_seq(c->d->audit));
    }
    r_open(&c->r, NULL);
    r_str(&c->r, "dir", c->d->cf.audit_dir);
    r_bool(&c->r, "ok", rep.ok);
    r_u64(&c->r, "files", rep.files);
    r_u64(&c->r, "records", rep.records);
    r_u64(&c->r, "last_seq", rep.last_seq);
    r_bool(&c->r, "torn_tail", rep.torn_tail);
    if (!rep.ok) {
        r_str(&c->r, "bad_file", rep.bad_file);
        r_u64(&c->r, "bad_line", rep.bad_line);
        r_str(&c->r, "why", rep.why);
    }
    r_close(&c->r);
    return rep.ok ? MULE_CTL_OK : MULE_CTL_FAILED;
}

/* ---- stats ---------------------------------------------------------- */

static void
prom_head(buf *b, const char *name, const char *type, const char *help)
{
    rd_putf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
prom_pdu(buf *b, const char *name, const char *help, const uint64_t *v)
{
    prom_head(b, name, "counter", help);
    for (unsigned t = 0; t < 32; t++)
        if (v[t] != 0 || t <= PMUL_PDU_FEC_ADDRESS)
            rd_putf(b, "%s{type=\"%s\"} %" PRIu64 "\n", name, pmul_pdu_type_name(t),
                             v[t]);
}

/* One table of the daemon's own counters serves both forms. */
typedef struct ctr_row {
    const char *name;       /* Prometheus name, without the mule_ prefix */
    const char *label;      /* label="value" or NULL */
    size_t off;
    const char *help;
} ctr_row;

#define C(f) offsetof(muled_counters, f)
static const ctr_row ctr_rows[] = {
    {"submitted_total", "source=\"pickup\"", C(pickup_accepted), "mails accepted for transmission"},
    {"submitted_total", "source=\"smtp\"", C(smtpd_accepted), NULL},
    {"submit_refused_total", "source=\"pickup\"", C(pickup_refused), "mails refused at submission"},
    {"submit_refused_total", "source=\"smtp\"", C(smtpd_refused), NULL},
    {"received_total", "result=\"accepted\"", C(rx_accepted), "P_MUL messages received, by what became of them"},
    {"received_total", "result=\"again\"", C(rx_again), NULL},
    {"received_total", "result=\"unusable\"", C(rx_bad), NULL},
    {"received_total", "result=\"deferred\"", C(rx_deferred), NULL},
    {"received_total", "result=\"rejected\"", C(rx_rejected), NULL},
    {"destinations_total", "result=\"acked\"", C(tx_acked), "P_MUL destinations of our messages, by outcome"},
    {"destinations_total", "result=\"failed\"", C(tx_failed), NULL},
    {"egress_total", "result=\"sent\"", C(egress_ok), "recipients handed to the local MTA or Maildir, by outcome"},
    {"egress_total", "result=\"deferred\"", C(egress_temp), NULL},
    {"egress_total", "result=\"bounced\"", C(egress_perm), NULL},
    {"dsn_queued_total", NULL, C(dsn_queued), "delivery status notifications queued"},
    {"control_requests_total", NULL, C(ctl_requests), "mulectl requests served"},
    {"control_denied_total", NULL, C(ctl_denied), "mulectl connections refused (not allowed)"},
};
#undef C

/* The engine's single counters, from pmul_stats (stats --prometheus only). */
#define P(f) offsetof(pmul_stats, f)
static const ctr_row pmul_rows[] = {
    {"pmul_retransmitted_data_pdus_total", NULL, P(retx_data_pdus),
     "Data_PDUs sent again after a missing list or a timeout"},
    {"pmul_retransmission_rounds_total", NULL, P(retx_rounds),
     "retransmission rounds (timer and EMCON repetitions)"},
    {"pmul_fec_repair_pdus_sent_total", NULL, P(fec_repair_pdus),
     "FEC repair Data_PDUs sent (proactive, EMCON and in answer to missing lists)"},
    {"pmul_fec_recovered_pdus_total", NULL, P(rx_fec_recovered),
     "received source Data_PDUs rebuilt from FEC repairs instead of waiting for them"},
    {"pmul_fec_unused_pdus_total", NULL, P(rx_fec_unused),
     "received repair Data_PDUs not kept (block already decodable, message plain or complete)"},
    {"pmul_fec_rejected_total", NULL, P(rx_fec_rejected),
     "FEC_Address_PDUs whose FEC fields were refused (the message is received plainly)"},
    {"pmul_fec_plain_fallbacks_total", NULL, P(fec_plain_fallbacks),
     "FEC messages announced plainly from some round on for a silent destination"},
    {"pmul_fec_peers_learned_total", "kind=\"blind\"", P(fec_blind_learned),
     "destinations found not to know FEC_Address_PDUs (kind=blind) or not to use repairs "
     "(kind=nodec): served plainly for a span"},
    {"pmul_fec_peers_learned_total", "kind=\"nodec\"", P(fec_nodec_learned), NULL},
    {"pmul_fec_peers_learned_total", "kind=\"nojoint\"", P(fec_nojoint_learned), NULL},
    {"pmul_fec_joint_rounds_total", NULL, P(fec_joint_rounds),
     "joint repair rounds sent: one round of repairs for several messages (docs/wire.md 10.8)"},
    {"pmul_fec_joint_members_total", NULL, P(fec_joint_members),
     "messages served by joint repair rounds, summed over the rounds"},
    {"pmul_fec_joint_repair_pdus_total", NULL, P(fec_joint_repairs),
     "joint repair Data_PDUs sent (also counted in pmul_fec_repair_pdus_sent_total)"},
    {"pmul_fec_joint_recovered_pdus_total", NULL, P(rx_joint_recovered),
     "received source Data_PDUs rebuilt from joint repairs"},
    {"pmul_fec_joint_unusable_total", NULL, P(rx_joint_unusable),
     "joint rounds listing this node that named a message it neither holds nor kept"},
    {"pmul_fec_keep_evicted_total", NULL, P(rx_keep_evicted),
     "kept payloads of delivered messages dropped for room before their expiry (pmul_fec_keep)"},
    {"pmul_late_duplicates_total", NULL, P(rx_late_dups),
     "PDUs of messages delivered before, recognised by the delivered set"},
};
#undef P

/* Counter rows as Prometheus text: one HELP/TYPE head per name, then a
 * sample per row, its value the uint64_t at row->off in base. */
static void
prom_ctr_rows(buf *b, const ctr_row *rows, size_t n, const void *base)
{
    const char *last = NULL;

    for (size_t i = 0; i < n; i++) {
        const ctr_row *row = &rows[i];
        char name[96];

        snprintf(name, sizeof name, "mule_%s", row->name);
        if (last == NULL || strcmp(last, row->name) != 0)
            prom_head(b, name, "counter", row->help);
        last = row->name;
        rd_putf(b, "%s%s%s%s %" PRIu64 "\n", name, row->label ? "{" : "",
             row->label ? row->label : "", row->label ? "}" : "",
             *(const uint64_t *)((const char *)base + row->off));
    }
}

static int
cmd_stats(ctl_cmd *c)
{
    muled *d = c->d;
    pmul_stats st;
    pmul_auth_stats ast;
    qsum q;
    buf *b = c->b;
    int64_t now = muled_now_s();
    bool prom = c->req->argc == 2 && strcmp(c->req->argv[1], "--prometheus") == 0;

    if (c->req->argc > 2 || (c->req->argc == 2 && !prom)) {
        rd_puts(b, "usage: stats [--prometheus]\n");
        return MULE_CTL_USAGE;
    }
    pmul_engine_stats(d->engine, &st);
    pmul_auth_get_stats(d->pauth, &ast);    /* all 0 when pmul_auth is off */
    queue_sum(d, &q);
    if (!prom) {
        rend *r = &c->r;
        r_open(r, NULL);
        for (size_t i = 0; i < sizeof ctr_rows / sizeof ctr_rows[0]; i++) {
            char key[96];
            const char *l = ctr_rows[i].label;
            const char *v = l != NULL ? strchr(l, '"') : NULL;
            snprintf(key, sizeof key, "%.*s%s%.*s", (int)(strlen(ctr_rows[i].name) - 6),
                     ctr_rows[i].name, v != NULL ? "_" : "", v != NULL ? (int)strlen(v) - 2 : 0,
                     v != NULL ? v + 1 : "");
            r_u64(r, key, *(const uint64_t *)((const char *)&d->ctr + ctr_rows[i].off));
        }
        uint64_t sent = 0, rcvd = 0;
        for (unsigned t = 0; t < 32; t++) {
            sent += st.tx_pdus[t];
            rcvd += st.rx_pdus[t];
        }
        r_u64(r, "pdus_sent", sent);
        r_u64(r, "pdus_received", rcvd);
        r_u64(r, "retransmitted_data_pdus", st.retx_data_pdus);
        r_u64(r, "retransmission_rounds", st.retx_rounds);
        r_u64(r, "fec_repair_pdus_sent", st.fec_repair_pdus);
        r_u64(r, "fec_recovered_pdus", st.rx_fec_recovered);
        r_u64(r, "fec_unused_pdus", st.rx_fec_unused);
        r_u64(r, "fec_rejected", st.rx_fec_rejected);
        r_u64(r, "fec_plain_fallbacks", st.fec_plain_fallbacks);
        r_u64(r, "fec_blind_learned", st.fec_blind_learned);
        r_u64(r, "fec_nodec_learned", st.fec_nodec_learned);
        r_u64(r, "fec_nojoint_learned", st.fec_nojoint_learned);
        r_u64(r, "fec_joint_rounds", st.fec_joint_rounds);
        r_u64(r, "fec_joint_members", st.fec_joint_members);
        r_u64(r, "fec_joint_repair_pdus", st.fec_joint_repairs);
        r_u64(r, "fec_joint_recovered_pdus", st.rx_joint_recovered);
        r_u64(r, "fec_joint_unusable", st.rx_joint_unusable);
        r_u64(r, "fec_keep_evicted", st.rx_keep_evicted);
        uint64_t drops = 0;
        for (unsigned i = 0; i < PMUL_DROP_COUNT; i++)
            drops += st.drops[i];
        for (unsigned i = 0; i < PMUL_AUTH_DROP_COUNT; i++)
            drops += ast.drops[i];
        r_u64(r, "pdus_dropped", drops);
        r_u64(r, "late_duplicates", st.rx_late_dups);
        r_u64(r, "sources_evicted", st.src_evicted);
        r_u64(r, "messages_evicted", st.rx_evicted);
        /* Datagrams the authenticated mode refused before the engine. */
        r_u64(r, "auth_missing", ast.drops[PMUL_AUTH_DROP_MISSING]);
        r_u64(r, "auth_bad", ast.drops[PMUL_AUTH_DROP_BAD]);
        r_u64(r, "auth_replay", ast.drops[PMUL_AUTH_DROP_REPLAY]);
        r_u64(r, "queue_entries", mule_spool_count(mule_spool_fs_core(d->spool)));
        r_close(r);
        return MULE_CTL_OK;
    }

    prom_pdu(b, "mule_pmul_pdus_sent_total", "P_MUL PDUs sent, by PDU type", st.tx_pdus);
    prom_pdu(b, "mule_pmul_octets_sent_total", "UDP payload octets sent, by PDU type",
             st.tx_bytes);
    prom_pdu(b, "mule_pmul_pdus_received_total", "P_MUL PDUs received and decoded, by PDU type",
             st.rx_pdus);
    prom_pdu(b, "mule_pmul_octets_received_total", "UDP payload octets received, by PDU type",
             st.rx_bytes);
    prom_head(b, "mule_pmul_drops_total", "counter", "received PDUs dropped, by reason");
    for (unsigned i = 0; i < PMUL_DROP_COUNT; i++)
        rd_putf(b, "mule_pmul_drops_total{reason=\"%s\"} %" PRIu64 "\n",
                         pmul_drop_name((int)i), st.drops[i]);
    for (unsigned i = 0; i < PMUL_AUTH_DROP_COUNT; i++)
        rd_putf(b, "mule_pmul_drops_total{reason=\"%s\"} %" PRIu64 "\n",
             pmul_auth_drop_name((int)i), ast.drops[i]);
    prom_ctr_rows(b, pmul_rows, sizeof pmul_rows / sizeof pmul_rows[0], &st);
    prom_head(b, "mule_pmul_evictions_total", "counter",
              "sources (holding only early data) and stalled incomplete messages evicted at a cap");
    rd_putf(b, "mule_pmul_evictions_total{what=\"source\"} %" PRIu64 "\n"
            "mule_pmul_evictions_total{what=\"message\"} %" PRIu64 "\n",
         st.src_evicted, st.rx_evicted);
    prom_head(b, "mule_pmul_messages", "gauge", "P_MUL messages in the engine, by direction");
    rd_putf(b, "mule_pmul_messages{dir=\"tx\"} %zu\nmule_pmul_messages{dir=\"rx\"} %zu\n",
                     st.tx_msgs, st.rx_msgs);
    prom_head(b, "mule_pmul_srtt_seconds", "gauge", "round-trip estimate of the retransmission timer");
    rd_putf(b, "mule_pmul_srtt_seconds %.3f\n", st.srtt_ms / 1000.0);

    prom_ctr_rows(b, ctr_rows, sizeof ctr_rows / sizeof ctr_rows[0], &d->ctr);
    prom_head(b, "mule_queue_targets", "gauge",
              "spool targets (OUT: destination nodes, IN: local recipients) by state");
    for (unsigned k = 1; k <= 2; k++)
        for (unsigned s = 0; s < 6; s++)
            rd_putf(b, "mule_queue_targets{dir=\"%s\",state=\"%s\"} %zu\n",
                             kind_name(k), tstate_name(s), q.tstate[k][s]);
    prom_head(b, "mule_queue_entries", "gauge", "spool entries (mails) by direction");
    for (unsigned k = 1; k <= 2; k++)
        rd_putf(b, "mule_queue_entries{dir=\"%s\"} %zu\n", kind_name(k), q.entries[k]);
    prom_head(b, "mule_queue_oldest_age_seconds", "gauge",
              "age of the oldest spool entry by direction (0: none)");
    for (unsigned k = 1; k <= 2; k++)
        rd_putf(b, "mule_queue_oldest_age_seconds{dir=\"%s\"} %" PRId64 "\n",
                         kind_name(k), q.oldest[k] != 0 ? now - q.oldest[k] : 0);
    prom_head(b, "mule_emcon", "gauge", "1 while this node is in EMCON");
    rd_putf(b, "mule_emcon %d\n", d->emcon ? 1 : 0);
    prom_head(b, "mule_uptime_seconds", "gauge", "seconds since muled started");
    rd_putf(b, "mule_uptime_seconds %" PRId64 "\n", now - d->started_s);
    return MULE_CTL_OK;
}

static int
dispatch(ctl_cmd *c)
{
    const char *cmd = c->req->argv[0];
    size_t argc = c->req->argc;

    if (strcmp(cmd, "status") == 0 && argc == 1)
        return cmd_status(c);
    if (strcmp(cmd, "queue") == 0 && argc == 1)
        return cmd_queue(c);
    if (strcmp(cmd, "show") == 0)
        return cmd_show(c);
    if (strcmp(cmd, "hold") == 0)
        return cmd_flag(c, 'h');
    if (strcmp(cmd, "release") == 0)
        return cmd_flag(c, 'r');
    if (strcmp(cmd, "delete") == 0)
        return cmd_delete(c);
    if (strcmp(cmd, "flush") == 0)
        return cmd_flush(c);
    if (strcmp(cmd, "emcon") == 0)
        return cmd_emcon(c);
    if (strcmp(cmd, "reload") == 0 && argc == 1)
        return cmd_reload(c);
    if (strcmp(cmd, "audit") == 0)
        return cmd_audit(c);
    if (strcmp(cmd, "stats") == 0)
        return cmd_stats(c);
    if (strcmp(cmd, "peers") == 0 && argc == 1)
        return cmd_peers(c);
    rd_puts(c->b, "unknown command or wrong arguments: ");
    r_human_str(c->b, cmd);
    rd_puts(c->b, " (status, queue, show, hold, release, delete, flush, emcon, "
                               "reload, audit verify, stats, peers)\n");
    return MULE_CTL_USAGE;
}

/* ------------------------------------------------------------------ */
/* Connections                                                         */

static void
conn_closed(uv_handle_t *h)
{
    ctl_conn *c = h->data;

    if (--c->open_handles == 0) {
        muled_ctl *l = c->d->ctl;
        buf_fini(&c->out);
        free(c);
        if (l != NULL && l->conns > 0)
            l->conns--;
    }
}

static void
conn_close(ctl_conn *c)
{
    if (!uv_is_closing((uv_handle_t *)&c->h))
        uv_close((uv_handle_t *)&c->h, conn_closed);
    if (!uv_is_closing((uv_handle_t *)&c->t))
        uv_close((uv_handle_t *)&c->t, conn_closed);
}

static void
on_written(uv_write_t *w, int status)
{
    (void)status;
    conn_close(w->data);
}

static void
conn_reply(ctl_conn *c, enum mule_ctl_status st, buf *text)
{
    uv_buf_t ub;

    c->done = true;
    uv_read_stop((uv_stream_t *)&c->h);
    if (mule_ctl_reply_encode(&c->out, st, text->data, text->len) < 0) {
        conn_close(c);
        return;
    }
    ub = uv_buf_init((char *)c->out.data, (unsigned)c->out.len);
    c->w.data = c;
    if (uv_write(&c->w, (uv_stream_t *)&c->h, &ub, 1, on_written) < 0)
        conn_close(c);
}

static void
conn_reply_text(ctl_conn *c, enum mule_ctl_status st, const char *text)
{
    buf b;

    buf_init(&b, NULL, SIZE_MAX);
    rd_puts(&b, text);
    conn_reply(c, st, &b);
    buf_fini(&b);
}

static void
conn_request(ctl_conn *c, const uint8_t *frame, size_t len)
{
    static mule_ctl_req req;    /* 4 KiB; one request at a time on the loop */
    ctl_cmd cmd;
    buf text;
    int st;

    if (mule_ctl_req_decode(frame, len, &req) < 0) {
        conn_reply_text(c, MULE_CTL_USAGE, "malformed request\n");
        return;
    }
    c->d->ctr.ctl_requests++;
    buf_init(&text, NULL, (size_t)512 << 20);
    memset(&cmd, 0, sizeof cmd);
    cmd.d = c->d;
    cmd.req = &req;
    cmd.b = &text;
    cmd.r.b = &text;
    cmd.r.json = (req.flags & MULE_CTL_F_JSON) != 0;
    rd_oom_reset();
    st = dispatch(&cmd);
    if (rd_oom()) {
        buf_reset(&text);
        st = MULE_CTL_FAILED;
        rd_puts(&text, "muled: out of memory for the answer\n");
    }
    conn_reply(c, (enum mule_ctl_status)st, &text);
    buf_fini(&text);
}

static void
on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *out)
{
    ctl_conn *c = h->data;

    (void)hint;
    *out = uv_buf_init((char *)c->in + c->in_len, (unsigned)(sizeof c->in - c->in_len));
}

static void
on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *ub)
{
    ctl_conn *c = s->data;
    size_t flen;
    int rc;

    (void)ub;
    if (c->done)
        return;
    if (n < 0) {
        conn_close(c);
        return;
    }
    c->in_len += (size_t)n;
    rc = mule_ctl_frame(c->in, c->in_len, true, &flen);
    if (rc < 0 || (rc == 0 && c->in_len == sizeof c->in)) {
        conn_reply_text(c, MULE_CTL_USAGE, "malformed request\n");
        return;
    }
    if (rc == 1)
        conn_request(c, c->in, flen);
}

static void
on_timeout(uv_timer_t *t)
{
    ctl_conn *c = t->data;

    if (!c->done)
        conn_close(c);
}

/* Root, muled's own user, and members of control_group may ask. */
static bool
peer_allowed(muled *d, uv_pipe_t *h, char *who, size_t wholen)
{
    struct ucred cr;
    socklen_t len = sizeof cr;
    uv_os_fd_t fd;
    struct passwd pw, *pp = NULL;
    char pwbuf[4096];
    gid_t groups[256];
    int ng = 256;

    snprintf(who, wholen, "unknown peer");
    if (uv_fileno((uv_handle_t *)h, &fd) != 0 ||
        getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0)
        return false;
    snprintf(who, wholen, "uid=%u gid=%u pid=%d", (unsigned)cr.uid, (unsigned)cr.gid,
             (int)cr.pid);
    if (cr.uid == 0 || cr.uid == geteuid() || cr.gid == d->ctl_gid)
        return true;
    if (getpwuid_r(cr.uid, &pw, pwbuf, sizeof pwbuf, &pp) != 0 || pp == NULL)
        return false;
    if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &ng) < 0)
        return false;
    for (int i = 0; i < ng; i++)
        if (groups[i] == d->ctl_gid)
            return true;
    return false;
}

static void
on_connect(uv_stream_t *s, int status)
{
    muled_ctl *l = s->data;
    muled *d = l->d;
    ctl_conn *c;
    char who[96], msg[200];

    if (status < 0)
        return;
    c = calloc(1, sizeof *c);
    if (c == NULL)
        return;
    c->d = d;
    buf_init(&c->out, NULL, SIZE_MAX);
    uv_pipe_init(d->loop, &c->h, 0);
    c->h.data = c;
    uv_timer_init(d->loop, &c->t);
    c->t.data = c;
    c->open_handles = 2;
    l->conns++;
    if (uv_accept(s, (uv_stream_t *)&c->h) != 0) {
        conn_close(c);
        return;
    }
    if (l->conns > CTL_MAX_CONNS) {
        conn_reply_text(c, MULE_CTL_FAILED, "muled: too many control connections, try again\n");
        return;
    }
    if (!peer_allowed(d, &c->h, who, sizeof who)) {
        d->ctr.ctl_denied++;
        muled_log(d, LOG_LVL_WARN, "control: %s refused: not root, not %s's user, not in "
                  "group %s", who, "muled", d->cf.control_group);
        snprintf(msg, sizeof msg, "muled: not allowed: %s is not in group %s\n", who,
                 d->cf.control_group);
        conn_reply_text(c, MULE_CTL_DENIED, msg);
        return;
    }
    uv_timer_start(&c->t, on_timeout, CTL_TIMEOUT_MS, 0);
    uv_read_start((uv_stream_t *)&c->h, on_alloc, on_read);
}

/* A socket file left by a muled that died is removed; one that answers
 * belongs to a muled still running, and this one must not take it. */
static int
clear_stale(const char *path)
{
    struct stat st;
    struct sockaddr_un sa;
    int fd, rc;

    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : -errno;
    if (!S_ISSOCK(st.st_mode))
        return -EEXIST;
    if (strlen(path) >= sizeof sa.sun_path)
        return -ENAMETOOLONG;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path));
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
        return -errno;
    rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    close(fd);
    if (rc == 0)
        return -EADDRINUSE;
    return unlink(path) == 0 ? 0 : -errno;
}

int
muled_ctl_start(muled *d)
{
    const char *path = d->cf.control_socket;
    char dir[1100], *slash;
    muled_ctl *l;
    int rc;

    snprintf(dir, sizeof dir, "%s", path);
    slash = strrchr(dir, '/');
    if (slash != NULL && slash != dir) {
        *slash = '\0';
        if (mkdir(dir, 0750) == 0 && chown(dir, d->run_uid, d->ctl_gid) != 0)
            muled_log(d, LOG_LVL_WARN, "control: cannot hand %s over: %s", dir, strerror(errno));
    }
    if ((rc = clear_stale(path)) < 0) {
        muled_log(d, LOG_LVL_ERROR, "control socket %s: %s", path,
                  rc == -EADDRINUSE ? "another muled answers on it" : strerror(-rc));
        return -1;
    }
    l = calloc(1, sizeof *l);
    if (l == NULL)
        return -1;
    l->d = d;
    uv_pipe_init(d->loop, &l->lis, 0);
    l->lis.data = l;
    d->ctl = l;
    if ((rc = uv_pipe_bind(&l->lis, path)) < 0 ||
        (rc = uv_listen((uv_stream_t *)&l->lis, 16, on_connect)) < 0) {
        muled_log(d, LOG_LVL_ERROR, "control socket %s: %s", path, uv_strerror(rc));
        muled_ctl_stop(d);
        return -1;
    }
    l->listening = true;
    /* Mode and owner before anyone can use it: only root, muled's user
     * and control_group reach it; peer_allowed() checks again. */
    if (chmod(path, 0660) != 0 || chown(path, d->run_uid, d->ctl_gid) != 0)
        muled_log(d, LOG_LVL_WARN, "control socket %s: cannot set owner/mode: %s", path,
                  strerror(errno));
    muled_log(d, LOG_LVL_INFO, "control socket %s (group %s)", path, d->cf.control_group);
    return 0;
}

static void
lis_closed(uv_handle_t *h)
{
    free(h->data);
}

void
muled_ctl_stop(muled *d)
{
    muled_ctl *l = d->ctl;

    if (l == NULL)
        return;
    d->ctl = NULL;
    if (l->listening)
        (void)unlink(d->cf.control_socket);
    uv_close((uv_handle_t *)&l->lis, lis_closed);
}
