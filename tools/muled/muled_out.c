/*
 * muled_out.c: mail leaving this node over P_MUL, and what the spool
 * stores for any decision of mule_node.
 *
 * Spool entries muled writes (docs/spool.md, "What muled stores"):
 *   OUT, C_PAYLOAD: one P_MUL message exactly as it will be sent (the
 *     CompressedData payload mule_node built), targets = its destination
 *     nodes, DEST = its multicast group, priority and expiry from
 *     mule_relay.  Resumed byte for byte after a restart.
 *   IN, C_PAYLOAD: mail this node hands to its MTA or Maildir, as a
 *     plain BSMTP-like payload (envelope with every parameter, content
 *     with our Received field), targets = its recipients.
 *
 * A target goes PENDING -> INFLIGHT (MSID and MSN chosen, durable) before
 * the engine sees it, so a restart resumes the same MSID with the same
 * Message_Sequence_Numbers (contract line 4); engine events are made
 * durable (DONE / FAILED / TEMPFAIL) before anything acts on them (line 3).
 * The MSN and INFLIGHT records of every message one queue run starts go
 * into one journal batch (mule_spool_fs_jbatch): one sync for all of them,
 * written from an idle callback right after the queue run and synced on
 * libuv's thread pool (the entries stay busy meanwhile, one batch syncs at
 * a time, the next is staged), and only then are the messages handed to
 * the engine.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bsmtp/bsmtp_payload.h"
#include "mule/mule_audit.h"
#include "mule/mule_err.h"
#include "pmul/util/arr.h"
#include "pmul/pmul_err.h"
#include "tools/common/fileio.h"
#include "tools/muled/muled.h"

/* Files taken from pickup/ per scan: the loop stays responsive. */
#define PICKUP_BATCH 64

static int8_t
mt_priority_of(uint8_t pmul_priority)
{
    int v = 6 - (int)pmul_priority;     /* MT-PRIORITY = 6 - P_MUL priority */

    return (int8_t)(v < -9 ? -9 : v > 9 ? 9 : v);
}

static uint8_t
pmul_priority_of(int8_t mt)
{
    return (uint8_t)(6 - mt);
}

/* ------------------------------------------------------------------ */
/* Storing a decision                                                 */

typedef struct store_ctx {
    const char *origin;         /* "pickup=NAME", or NULL */
    mule_spool_msg *msgs;
    mule_spool_rcpt **rcpts;
    buf *bodies;
    size_t n, cap;
    const mem *m;
} store_ctx;

static mule_spool_rcpt *
rcpt_list(store_ctx *s, const bsmtp_envelope *env, const size_t *idx, size_t cnt)
{
    mule_spool_rcpt *r = calloc(cnt > 0 ? cnt : 1, sizeof(*r));

    if (r == NULL)
        return NULL;
    for (size_t i = 0; i < cnt; i++) {
        const char *a = env->rcpts[idx != NULL ? idx[i] : i].addr;

        r[i].addr.p = a;
        r[i].addr.len = strlen(a);
    }
    s->rcpts[s->n] = r;
    return r;
}

/* Where the mail came from, in the entry's MAIL-parameter slot (the mail's
 * own parameters travel inside its payload): recovery finds a pickup
 * file that was stored but not yet removed when muled stopped. */
static void
set_origin(const store_ctx *s, mule_spool_msg *m)
{
    if (s->origin != NULL) {
        m->mail_params.p = s->origin;
        m->mail_params.len = strlen(s->origin);
    }
}

static int
add_outs(store_ctx *s, const mule_relay_result *r, uint32_t src, uint32_t msid, int64_t now)
{
    for (size_t i = 0; i < r->out_cnt; i++) {
        const mule_relay_out *o = &r->outs[i];
        mule_spool_msg *m = &s->msgs[s->n];

        memset(m, 0, sizeof(*m));
        m->kind = MULE_SPOOL_OUT;
        m->content_kind = MULE_SPOOL_C_PAYLOAD;
        m->priority = mt_priority_of(o->priority);
        m->arrival_s = now;
        m->expiry_s = o->expiry_s;
        m->src_node = src;
        m->msid = msid;
        m->mail_from.p = r->env->reverse_path;
        m->mail_from.len = strlen(r->env->reverse_path);
        set_origin(s, m);
        if ((m->rcpts = rcpt_list(s, r->env, o->rcpt_idx, o->rcpt_cnt)) == NULL)
            return MULE_ERR_NOMEM;
        m->rcpt_cnt = o->rcpt_cnt;
        m->target_nodes = o->nodes;
        m->target_cnt = o->node_cnt;
        m->dests = &o->group;
        m->dest_cnt = 1;
        m->content = o->payload.data;
        m->content_len = o->payload.len;
        s->n++;
    }
    return 0;
}

static int
add_local(store_ctx *s, muled *d, const mule_relay_result *r, uint32_t src, uint32_t msid,
          const uint32_t *dests, size_t dest_cnt, int64_t now)
{
    const bsmtp_envelope *env = r->local_env;
    mule_spool_msg *m = &s->msgs[s->n];
    buf *b = &s->bodies[s->n];
    int rc;

    if (env == NULL)
        return 0;
    buf_init(b, s->m, SIZE_MAX);
    if ((rc = bsmtp_payload_build(env, r->content.data, r->content.len, b)) < 0)
        return rc;
    memset(m, 0, sizeof(*m));
    m->kind = MULE_SPOOL_IN;
    m->content_kind = MULE_SPOOL_C_PAYLOAD;
    m->priority = (int8_t)(env->mail.has_mt_priority ? env->mail.mt_priority : 0);
    m->arrival_s = now;
    m->expiry_s = now + (int64_t)(d->cf.delivery_lifetime_ms / 1000);
    m->src_node = src;
    m->msid = msid;
    m->mail_from.p = env->reverse_path;
    m->mail_from.len = strlen(env->reverse_path);
    set_origin(s, m);
    if ((m->rcpts = rcpt_list(s, env, NULL, env->rcpt_cnt)) == NULL)
        return MULE_ERR_NOMEM;
    m->rcpt_cnt = env->rcpt_cnt;
    m->target_cnt = env->rcpt_cnt;
    m->dests = dests;
    m->dest_cnt = dest_cnt;
    m->content = b->data;
    m->content_len = b->len;
    s->n++;
    return 0;
}

static const char *
kind_name(uint8_t kind)
{
    return kind == MULE_SPOOL_OUT ? "pmul" : "local";
}

/* The audit record of a mail taken in (MMHS 7.2: its identification,
 * submission time, priority, sender, recipients, peer), naming the spool
 * entries it became.  DSNs we make ourselves are audited as "dsn". */
static void
audit_accepted(muled *d, const mule_node_result *res, uint32_t src,
               const char (*ids)[MULE_SPOOL_ID_SIZE], size_t n, const char *why)
{
    static mule_audit_rec r;    /* 14 KiB: not on the stack */
    char ip[16], st[MULE_AUDIT_SHORT_MAX];
    size_t o = 0;

    if (d->audit == NULL || n == 0)
        return;
    if (!res->has_relay) {
        for (size_t i = 0; i < n; i++)
            muled_audit_event(d, "dsn-queued", ids[i], why);
        return;
    }
    mule_audit_init(&r, MULE_AUDIT_IN, MULE_AUDIT_ACCEPTED, muled_now_s());
    mule_audit_set_message(&r, res->relay.env, NULL, 0, res->relay.content.data,
                           res->relay.content.len);
    MULE_AUDIT_SET(&r, peer, src != 0 ? mule_route_ntoa(src, ip) : why);
    MULE_AUDIT_SET(&r, id, ids[0]);
    st[0] = '\0';
    for (size_t i = 0; i < n && o + MULE_SPOOL_ID_SIZE + 1 < sizeof st; i++)
        o += (size_t)snprintf(st + o, sizeof st - o, "%s%s", i ? "," : "queued=", ids[i]);
    MULE_AUDIT_SET(&r, status, st);
    muled_audit_rec(d, &r);
}

/* The spool entries a decision becomes (store_ctx filled, not written). */
static int
store_build(store_ctx *s, muled *d, const mule_node_result *res, uint32_t src, uint32_t msid,
            const uint32_t *dests, size_t dest_cnt, const char *origin, int64_t now)
{
    memset(s, 0, sizeof(*s));
    s->origin = origin;
    s->cap = 2 + (res->has_relay ? res->relay.out_cnt : 0) +
             (res->has_dsn ? res->dsn.out_cnt : 0);
    s->msgs = calloc(s->cap, sizeof(*s->msgs));
    s->rcpts = calloc(s->cap, sizeof(*s->rcpts));
    s->bodies = calloc(s->cap, sizeof(*s->bodies));
    if (s->msgs == NULL || s->rcpts == NULL || s->bodies == NULL)
        return MULE_ERR_NOMEM;
    if (res->has_relay) {
        int rc;

        if ((rc = add_outs(s, &res->relay, src, msid, now)) < 0 ||
            (rc = add_local(s, d, &res->relay, src, msid, dests, dest_cnt, now)) < 0)
            return rc;
    }
    if (res->has_dsn) {
        int rc;

        if ((rc = add_outs(s, &res->dsn, 0, 0, now)) < 0 ||
            (rc = add_local(s, d, &res->dsn, 0, 0, NULL, 0, now)) < 0)
            return rc;
    }
    return 0;
}

static void
store_fini(store_ctx *s)
{
    for (size_t i = 0; i < s->cap && s->rcpts != NULL; i++)
        free(s->rcpts[i]);
    for (size_t i = 0; i < s->cap && s->bodies != NULL; i++)
        buf_fini(&s->bodies[i]);
    free(s->msgs);
    free(s->rcpts);
    free(s->bodies);
}

/* The entries are durable: one log line each, and the queue runs soon. */
static void
store_queued(muled *d, const mule_node_result *res, const store_ctx *s,
             const char (*ids)[MULE_SPOOL_ID_SIZE], const char *why)
{
    for (size_t i = 0; i < s->n; i++) {
        const mule_spool_msg *m = &s->msgs[i];
        bool is_dsn = res->has_dsn && i >= (res->has_relay ? res->relay.out_cnt +
                                                (res->relay.local_env != NULL) : 0);

        muled_log(d, LOG_LVL_INFO,
                  "%s: from=<%.*s>, size=%zu, nrcpt=%zu (queue active; %s%s, targets=%zu, "
                  "prio=%d, %s)", ids[i], (int)m->mail_from.len, m->mail_from.p,
                  m->content_len, m->rcpt_cnt, kind_name(m->kind), is_dsn ? " dsn" : "",
                  m->target_cnt, m->priority, why);
    }
    muled_kick(d);
}

static void
store_accepted(muled *d, const mule_node_result *res, const store_ctx *s, uint32_t src,
               const char (*ids)[MULE_SPOOL_ID_SIZE], const char *why)
{
    store_queued(d, res, s, ids, why);
    audit_accepted(d, res, src, ids, s->n, why);
}

int
muled_store(muled *d, const mule_node_result *res, uint32_t src, uint32_t msid,
            const uint32_t *dests, size_t dest_cnt, const char *origin, const char *why)
{
    store_ctx s;
    char (*ids)[MULE_SPOOL_ID_SIZE] = NULL;
    int64_t now = muled_now_s();
    int rc;

    if ((rc = store_build(&s, d, res, src, msid, dests, dest_cnt, origin, now)) < 0 ||
        s.n == 0)
        goto out;
    if ((ids = calloc(s.n, sizeof(*ids))) == NULL) {
        rc = MULE_ERR_NOMEM;
        goto out;
    }
    rc = mule_spool_fs_submit_batch(d->spool, s.msgs, s.n, now, ids);
    if (rc == 0)
        store_accepted(d, res, &s, src, (const char (*)[MULE_SPOOL_ID_SIZE])ids, why);
out:
    store_fini(&s);
    free(ids);
    return rc;
}

/* A decision staged in a group-commit batch (muled_smtpd.c). */
struct muled_store_op {
    store_ctx s;
    char (*ids)[MULE_SPOOL_ID_SIZE];
    int group;                  /* in the batch; < 0: not staged */
};

int
muled_store_stage(muled *d, const mule_node_result *res, mule_spool_fs_batch *b,
                  muled_store_op **out)
{
    muled_store_op *op = calloc(1, sizeof(*op));
    int rc;

    *out = NULL;
    if (op == NULL)
        return MULE_ERR_NOMEM;
    op->group = -1;
    rc = store_build(&op->s, d, res, 0, 0, NULL, 0, NULL, muled_now_s());
    if (rc == 0 && op->s.n == 0)
        rc = MULE_ERR_INVAL;    /* nothing to store: a bug upstream */
    if (rc == 0 && (op->ids = calloc(op->s.n, sizeof(*op->ids))) == NULL)
        rc = MULE_ERR_NOMEM;
    if (rc == 0 && (rc = mule_spool_fs_batch_stage(b, op->s.msgs, op->s.n, muled_now_s(),
                                                   op->ids)) >= 0) {
        op->group = rc;
        rc = 0;
    }
    *out = op;
    return rc;
}

bool
muled_store_audit(muled *d, const mule_node_result *res, const muled_store_op *op,
                  const mule_spool_fs_batch *b, const char *why)
{
    if (op == NULL || op->group < 0 || mule_spool_fs_batch_result(b, (size_t)op->group) != 0)
        return false;
    audit_accepted(d, res, 0, (const char (*)[MULE_SPOOL_ID_SIZE])op->ids, op->s.n, why);
    return true;
}

void
muled_store_withdraw(muled *d, const muled_store_op *op, const char *status)
{
    if (op == NULL || op->group < 0)
        return;
    /* The ID its "accepted" (or "dsn-queued") record named first. */
    muled_audit_note(d, MULE_AUDIT_IN, MULE_AUDIT_WITHDRAWN, op->ids[0], NULL, NULL, status);
}

int
muled_store_finish(muled *d, const mule_node_result *res, muled_store_op *op,
                   const mule_spool_fs_batch *b, const char *why)
{
    int rc;

    if (op == NULL || op->group < 0)
        return MULE_ERR_INVAL;
    rc = mule_spool_fs_batch_result(b, (size_t)op->group);
    if (rc == 0)
        store_queued(d, res, &op->s, (const char (*)[MULE_SPOOL_ID_SIZE])op->ids, why);
    return rc;
}

void
muled_store_op_free(muled_store_op *op)
{
    if (op == NULL)
        return;
    store_fini(&op->s);
    free(op->ids);
    free(op);
}

/* ------------------------------------------------------------------ */
/* Pickup directory                                                   */

static bool
pickup_name_ok(const char *name)
{
    size_t n = strlen(name);

    return n > 0 && name[0] != '.' && !(n > 4 && strcmp(name + n - 4, ".tmp") == 0);
}

/* Move a file muled cannot use to SPOOL/bad/ (kept for the operator). */
static void
pickup_reject(muled *d, const char *name, const char *why)
{
    char from[4096], to[4096];

    snprintf(from, sizeof(from), "%s/pickup/%s", d->cf.spool_dir, name);
    snprintf(to, sizeof(to), "%s/bad/%s", d->cf.spool_dir, name);
    if (rename(from, to) < 0)
        unlink(from);
    d->ctr.pickup_refused++;
    muled_log(d, LOG_LVL_WARN, "pickup/%s: refused (%s), moved to bad/", name, why);
}

/* One pickup file.  Returns 0 (taken or refused), or a temporary code
 * (the file stays for the next scan). */
static int
pickup_one(muled *d, const char *name)
{
    char path[4096], date[64], msgid[128];
    buf file;
    bsmtp_envelope *env = NULL;
    size_t off = 0;
    mule_node_clock clk;
    mule_node_result res;
    int rc;

    snprintf(path, sizeof(path), "%s/pickup/%s", d->cf.spool_dir, name);
    buf_init(&file, NULL, SIZE_MAX);
    rc = fio_read_file(path, d->cf.max_message_size + BSMTP_ENVELOPE_MAX_DEFAULT, &file);
    if (rc == -ENOENT) {
        buf_fini(&file);
        return 0;
    }
    if (rc == -EFBIG) {
        buf_fini(&file);
        pickup_reject(d, name, "larger than max_message_size");
        return 0;
    }
    if (rc < 0) {
        buf_fini(&file);
        muled_log(d, LOG_LVL_WARN, "pickup/%s: cannot read: %s", name, strerror(-rc));
        return MULE_ERR_SPOOL_IO;
    }
    rc = bsmtp_payload_parse(file.data, file.len, NULL, NULL, &env, &off);
    if (rc < 0) {
        buf_fini(&file);
        if (mule_node_is_temporary(rc))
            return rc;
        pickup_reject(d, name, mule_strerror(rc));
        return 0;
    }
    /* The pickup directory is local submission: a trusted client. */
    (void)mule_node_tunnelled_priority(env, file.data + off, file.len - off, true);
    muled_clock(d, &clk, date, sizeof(date), msgid, sizeof(msgid));
    rc = mule_node_outbound(&d->ncfg, d->routes, env, file.data + off, file.len - off,
                            "localhost (pickup)", NULL, &clk, NULL, &d->lg, &res);
    if (rc == 0 && !res.has_relay) {
        pickup_reject(d, name, mule_strerror(res.err));
    } else if (rc == 0) {
        char why[300];

        char origin[300];

        snprintf(why, sizeof(why), "pickup/%s", name);
        snprintf(origin, sizeof(origin), "pickup=%s", name);
        rc = muled_store(d, &res, 0, 0, NULL, 0, origin, why);
        if (rc == 0) {
            d->ctr.pickup_accepted++;
            for (size_t i = 0; i < res.relay.note_cnt; i++)
                muled_log(d, LOG_LVL_INFO, "pickup/%s: <%s> %s", name,
                          res.relay.env->rcpts[res.relay.notes[i].rcpt_idx].addr,
                          mule_dsn_action(res.relay.notes[i].kind));
            /* Durable in the spool: the pickup file may go. */
            if (unlink(path) < 0 && errno != ENOENT)
                muled_log(d, LOG_LVL_WARN, "pickup/%s: cannot remove: %s", name,
                          strerror(errno));
        }
    }
    mule_node_result_fini(&res);
    bsmtp_envelope_free(env);
    buf_fini(&file);
    return rc;
}

/*
 * At start-up, before anything else: a pickup file whose mail is in the
 * spool already (muled stopped between the spool's fsync and the unlink)
 * is removed, not taken twice.  Only entries that arrived after the
 * oldest such file can hold it, so only those few files are read.
 */
void
muled_pickup_recover(muled *d)
{
    char dir[4096], path[4400];
    DIR *dh;
    struct dirent *de;
    struct stat st;
    int64_t oldest = INT64_MAX;
    const mule_spool *sp = mule_spool_fs_core(d->spool);
    mule_spool_info info;
    size_t pos = 0, found = 0;
    buf file;

    snprintf(dir, sizeof(dir), "%s/pickup", d->cf.spool_dir);
    if ((dh = opendir(dir)) == NULL)
        return;
    while ((de = readdir(dh)) != NULL) {
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (pickup_name_ok(de->d_name) && stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
            st.st_mtime < oldest)
            oldest = st.st_mtime;
    }
    closedir(dh);
    if (oldest == INT64_MAX)
        return;
    buf_init(&file, NULL, SIZE_MAX);
    while (mule_spool_iter(sp, &pos, &info)) {
        mule_spool_msg msg;
        char qid[MULE_SPOOL_ID_SIZE];

        if (info.src_node != 0 || info.arrival_s < oldest - 1 ||
            mule_spool_fs_read(d->spool, info.id, &file) != 0 ||
            mule_spool_decode_entry(file.data, file.len, &msg, qid, NULL, 0, NULL, NULL, 0) != 0 ||
            msg.mail_params.len <= 7 || msg.mail_params.len >= 300 ||
            memcmp(msg.mail_params.p, "pickup=", 7) != 0)
            continue;
        snprintf(path, sizeof(path), "%s/%.*s", dir, (int)msg.mail_params.len - 7,
                 msg.mail_params.p + 7);
        if (unlink(path) == 0) {
            found++;
            muled_log(d, LOG_LVL_INFO, "%s: pickup/%.*s was queued before the restart: removed",
                      info.id, (int)msg.mail_params.len - 7, msg.mail_params.p + 7);
        }
    }
    buf_fini(&file);
    if (found > 0 && fio_fsync_dir(dir) != 0)
        muled_log(d, LOG_LVL_WARN, "pickup: cannot sync the directory");
}

static int
cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void
muled_pickup_scan(muled *d)
{
    char dir[4096];
    char *names[PICKUP_BATCH];
    size_t cnt = 0;
    DIR *dh;
    struct dirent *de;

    if (d->stopping || d->spool_retry_s > muled_now_s())
        return;
    snprintf(dir, sizeof(dir), "%s/pickup", d->cf.spool_dir);
    if ((dh = opendir(dir)) == NULL)
        return;
    while ((de = readdir(dh)) != NULL && cnt < PICKUP_BATCH) {
        if (!pickup_name_ok(de->d_name) ||
            (de->d_type != DT_REG && de->d_type != DT_UNKNOWN))
            continue;
        if ((names[cnt] = strdup(de->d_name)) != NULL)
            cnt++;
    }
    closedir(dh);
    /* Oldest first: mule-submit names start with the time. */
    qsort(names, cnt, sizeof(names[0]), cmp_name);
    for (size_t i = 0; i < cnt; i++) {
        int rc = d->spool_retry_s > muled_now_s() ? 0 : pickup_one(d, names[i]);

        if (rc < 0) {
            /* Spool full or out of memory: nothing is lost, the file stays. */
            muled_log(d, LOG_LVL_WARN, "pickup/%s: deferred: %s", names[i], mule_strerror(rc));
            d->spool_retry_s = muled_now_s() + 5;
        }
        free(names[i]);
    }
}

/* ------------------------------------------------------------------ */
/* Our P_MUL messages                                                 */

static muled_tx *
tx_find(muled *d, uint32_t msid, size_t *pos)
{
    for (size_t i = 0; i < d->tx_cnt; i++)
        if (d->tx[i]->msid == msid) {
            if (pos != NULL)
                *pos = i;
            return d->tx[i];
        }
    return NULL;
}

static void
tx_free(muled_tx *t)
{
    if (t == NULL)
        return;
    free(t->nodes);
    free(t->msns);
    free(t->tidx);
    free(t->to);
    free(t);
}

static muled_tx *
tx_new(muled *d, const char *id, uint32_t msid, size_t cnt, int8_t mt_priority)
{
    muled_tx *t = calloc(1, sizeof(*t));

    if (t == NULL)
        return NULL;
    t->nodes = calloc(cnt, sizeof(*t->nodes));
    t->msns = calloc(cnt, sizeof(*t->msns));
    t->tidx = calloc(cnt, sizeof(*t->tidx));
    if (t->nodes == NULL || t->msns == NULL || t->tidx == NULL ||
        (d->tx_cnt == d->tx_cap && arr_grow(NULL, (void **)&d->tx, &d->tx_cap, d->tx_cnt + 1,
                                            sizeof(*d->tx), SIZE_MAX) != 0)) {
        tx_free(t);
        return NULL;
    }
    memcpy(t->id, id, MULE_SPOOL_ID_SIZE);
    t->msid = msid;
    t->prio = pmul_priority_of(mt_priority);
    t->start_ms = uv_now(d->loop);
    d->tx[d->tx_cnt++] = t;
    return t;
}

static void
tx_drop(muled *d, size_t pos)
{
    tx_free(d->tx[pos]);
    d->tx[pos] = d->tx[--d->tx_cnt];
}

/* The operator deletes an OUT entry: stop its P_MUL message (the engine
 * sends Discard_Message_PDU) and forget it, so that no event of it comes
 * back to an entry that is about to go.  Returns true when one ran. */
bool
muled_tx_cancel(muled *d, const char *id)
{
    for (size_t i = 0; i < d->tx_cnt; i++) {
        muled_tx *t = d->tx[i];
        if (strcmp(t->id, id) != 0)
            continue;
        if (t->in_engine)
            (void)pmul_engine_cancel(d->engine, pmul_uv_now(d->pu), t->msid);
        tx_drop(d, i);
        pmul_uv_service(d->pu);
        return true;
    }
    return false;
}

void
muled_tx_free_all(muled *d)
{
    while (d->tx_cnt > 0)
        tx_drop(d, d->tx_cnt - 1);
    free(d->tx);
    d->tx = NULL;
    d->tx_cap = 0;
}

/* The spool entry is finished (all targets final): remove it. */
static void
try_remove(muled *d, const char *id)
{
    int rc;

    if (!mule_spool_is_removable(mule_spool_fs_core(d->spool), id))
        return;
    for (size_t i = 0; i < d->tx_cnt; i++)
        if (strcmp(d->tx[i]->id, id) == 0)
            return;             /* another message of it still runs */
    rc = mule_spool_fs_remove(d->spool, id);
    if (rc == 0)
        muled_log(d, LOG_LVL_INFO, "%s: removed", id);
    else
        muled_log(d, LOG_LVL_WARN, "%s: cannot remove: %s", id, mule_strerror(rc));
}

/* Hand a waiting message to the engine.  Returns false if the engine has
 * no room (it stays waiting). */
static bool
tx_submit(muled *d, muled_tx *t)
{
    buf file;
    mule_spool_msg msg;
    uint32_t group = 0;
    pmul_msg pm;
    int rc;

    mule_spool_rcpt *rcpts = NULL;

    buf_init(&file, NULL, SIZE_MAX);
    rc = muled_entry_env(d, t->id, &file, &msg, &rcpts, &group);
    if (rc == 0 && t->to == NULL) {
        buf to;
        buf_init(&to, NULL, SIZE_MAX);
        for (size_t i = 0; i < msg.rcpt_cnt; i++)
            if (buf_printf(&to, "%s%.*s", i ? "\n" : "", (int)rcpts[i].addr.len,
                           rcpts[i].addr.p) != 0)
                break;
        size_t tl;
        if (buf_append(&to, "", 1) == 0)
            t->to = (char *)buf_steal(&to, &tl);
        buf_fini(&to);
    }
    free(rcpts);
    if (rc < 0) {
        buf_fini(&file);
        muled_log(d, LOG_LVL_WARN, "%s: cannot read for msid=%08" PRIx32 ": %s", t->id,
                  t->msid, mule_strerror(rc));
        return false;
    }
    memset(&pm, 0, sizeof(pm));
    pm.payload = msg.content;
    pm.payload_len = msg.content_len;
    pm.dests = t->nodes;
    pm.dest_cnt = t->cnt;
    pm.group = group;
    pm.priority = pmul_priority_of(msg.priority);
    pm.expiry_s = msg.expiry_s;
    pm.msid = t->msid;
    pm.dest_msns = t->msns;
    pm.resumed = t->resumed;
    rc = pmul_engine_submit(d->engine, pmul_uv_now(d->pu), &pm, NULL);
    buf_fini(&file);
    if (rc == PMUL_ERR_BUSY || rc == PMUL_ERR_NOMEM)
        return false;
    if (rc < 0) {
        int kinds[1] = {rc == PMUL_ERR_EXPIRED ? MULE_DSN_EXPIRED : MULE_DSN_DISCARDED};
        size_t pos;

        muled_log(d, LOG_LVL_WARN, "%s: msid=%08" PRIx32 " refused by P_MUL: %s", t->id,
                  t->msid, pmul_strerror(rc));
        if (tx_find(d, t->msid, &pos) != NULL) {
            char tid[MULE_SPOOL_ID_SIZE];
            size_t *tidx = t->tidx, cnt = t->cnt;
            int *k = calloc(cnt, sizeof(*k));

            memcpy(tid, t->id, sizeof(tid));
            t->tidx = NULL;
            tx_drop(d, pos);
            if (k != NULL) {
                for (size_t i = 0; i < cnt; i++)
                    k[i] = kinds[0];
                (void)muled_fail_targets(d, tid, tidx, k, NULL, cnt);
            }
            free(k);
            free(tidx);
        }
        return true;
    }
    t->in_engine = true;
    pmul_uv_service(d->pu);
    {
        char nodes[256] = "";
        size_t o = 0;

        for (size_t i = 0; i < t->cnt && o + 17 < sizeof(nodes); i++) {
            char ip[16];

            o += (size_t)snprintf(nodes + o, sizeof(nodes) - o, "%s%s", i ? "," : "",
                                  mule_route_ntoa(t->nodes[i], ip));
        }
        muled_log(d, LOG_LVL_INFO, "%s: transmitted msid=%08" PRIx32 " to=%s size=%zu prio=%u",
                  t->id, t->msid, nodes, pm.payload_len, pm.priority);
        {
            char st[48];
            snprintf(st, sizeof st, "msid=%08" PRIx32 " prio=%u", t->msid, pm.priority);
            /* Sent already (as before): nothing waits for this record,
             * so it rides on the next group sync (docs/spool.md). */
            muled_audit_defer(d, true);
            muled_audit_note(d, MULE_AUDIT_OUT, MULE_AUDIT_RELAYED, t->id, nodes, NULL, st);
            muled_audit_defer(d, false);
            muled_audit_flush(d, NULL);
        }
    }
    return true;
}

static int
cmp_waiting(const void *a, const void *b)
{
    const muled_tx *x = *(muled_tx *const *)a, *y = *(muled_tx *const *)b;

    if (x->prio != y->prio)
        return x->prio < y->prio ? -1 : 1;
    return x->start_ms < y->start_ms ? -1 : x->start_ms > y->start_ms;
}

/*
 * Hand the messages waiting for room to the engine, most urgent first:
 * the engine admits a message past less urgent ones in flight (issue 13,
 * priority under load), so a flash message must not wait behind a
 * routine one that was refused.  The first refusal ends the pass: every
 * message after it is at most as urgent.
 */
void
muled_tx_pump(muled *d)
{
    muled_tx **w;
    size_t n = 0;

    if (d->stopping)
        return;
    for (size_t i = 0; i < d->tx_cnt; i++)
        n += !d->tx[i]->in_engine && !d->tx[i]->staged;
    if (n == 0)
        return;                 /* the usual case: nothing waits for room */
    if ((w = malloc(n * sizeof(*w))) == NULL)
        return;                 /* tried again at the next pump */
    n = 0;
    for (size_t i = 0; i < d->tx_cnt; i++)
        if (!d->tx[i]->in_engine && !d->tx[i]->staged)
            w[n++] = d->tx[i];
    qsort(w, n, sizeof(*w), cmp_waiting);
    /* tx_submit may drop the entry it is given (refused for good), never
     * another: the pointers after it stay valid. */
    for (size_t i = 0; i < n && !d->stopping; i++)
        if (!tx_submit(d, w[i]))
            break;
    free(w);
}

/* The start batch's records are durable (or not): hand its messages to
 * the engine, or forget them (their entries are due again: the spool
 * applied nothing). */
static void start_commit(muled *d);

static void
start_end(muled *d, int rc)
{
    mule_spool_fs_jbatch_free(d->start_out);
    d->start_out = NULL;
    for (size_t i = d->tx_cnt; i-- > 0;) {
        muled_tx *t = d->tx[i];

        if (t->staged != 2)
            continue;
        t->staged = 0;
        if (rc != 0) {
            muled_log(d, LOG_LVL_WARN, "%s: cannot mark in flight: %s", t->id,
                      mule_strerror(rc));
            tx_drop(d, i);
        }
    }
    if (rc != 0)
        d->spool_retry_s = muled_now_s() + 5;
    if (d->start_again) {
        d->start_again = false;
        start_commit(d);
    }
    muled_tx_pump(d);
}

/* On libuv's thread pool: the batch's one sync (its records are written;
 * the loop goes on, its entries busy, so nothing acts on them). */
static void
start_sync(uv_work_t *w)
{
    muled *d = w->data;

    (void)mule_spool_fs_jbatch_sync(d->start_out);
}

static void
start_synced(uv_work_t *w, int status)
{
    muled *d = w->data;

    (void)status;               /* never ran: _finish takes it back */
    start_end(d, mule_spool_fs_jbatch_finish(d->start_out));
}

/* Write the staged batch's records on the loop, sync them on the pool.
 * One batch syncs at a time; the next one is staged meanwhile and
 * written when it ends. */
static void
start_commit(muled *d)
{
    int rc;

    if (d->start_jb == NULL)
        return;
    if (d->start_out != NULL) {
        d->start_again = true;
        return;
    }
    d->start_out = d->start_jb;
    d->start_jb = NULL;
    for (size_t i = 0; i < d->tx_cnt; i++)
        if (d->tx[i]->staged == 1)
            d->tx[i]->staged = 2;
    if (mule_spool_fs_jbatch_count(d->start_out) == 0) {
        start_end(d, 0);
        return;
    }
    if ((rc = mule_spool_fs_jbatch_write(d->start_out)) != 0) {
        start_end(d, rc);
        return;
    }
    d->start_work.data = d;
    if (uv_queue_work(d->loop, &d->start_work, start_sync, start_synced) != 0) {
        start_sync(&d->start_work);     /* no thread pool: sync here */
        start_synced(&d->start_work, 0);
    }
}

static void
on_start_idle_closed(uv_handle_t *h)
{
    free(h);
}

static void
on_start_idle(uv_idle_t *h)
{
    uv_idle_stop(h);
    /* One handle per batch, closed at once: none is left open when the
     * loop ends (uv_loop_close would refuse). */
    uv_close((uv_handle_t *)h, on_start_idle_closed);
    start_commit(h->data);
}

/* The batch the next INFLIGHT records join (made on first use, committed
 * from an idle callback once the current one, the queue run, returned).
 * NULL: none could be made; the caller writes each record on its own. */
static mule_spool_fs_jbatch *
start_batch(muled *d)
{
    uv_idle_t *h;

    if (d->start_jb != NULL)
        return d->start_jb;
    if ((h = malloc(sizeof(*h))) == NULL)
        return NULL;
    if (uv_idle_init(d->loop, h) != 0) {
        free(h);
        return NULL;
    }
    h->data = d;
    if (mule_spool_fs_jbatch_new(d->spool, &d->start_jb) != 0 ||
        uv_idle_start(h, on_start_idle) != 0) {
        mule_spool_fs_jbatch_free(d->start_jb);
        d->start_jb = NULL;
        uv_close((uv_handle_t *)h, on_start_idle_closed);
    }
    return d->start_jb;
}

/* Next Message_Sequence_Number for dest, made durable first (so a restart
 * never sends a lower one): staged in jb when given. */
static int
msn_take(muled *d, mule_spool_fs_jbatch *jb, uint32_t dest, uint32_t *msn)
{
    uint32_t e = pmul_engine_next_msn(d->engine, dest);
    uint32_t s = mule_spool_msn(mule_spool_fs_core(d->spool), dest) + 1;
    uint32_t v = e > s ? e : s;
    int rc;

    /* Messages waiting for room got numbers the engine has not seen. */
    for (size_t i = 0; i < d->tx_cnt; i++)
        for (size_t j = 0; j < d->tx[i]->cnt; j++)
            if (d->tx[i]->nodes[j] == dest && d->tx[i]->msns[j] >= v)
                v = d->tx[i]->msns[j] + 1;
    if (v == 0)
        v = 1;
    rc = jb != NULL ? mule_spool_fs_jbatch_msn(jb, dest, v)
                    : mule_spool_fs_msn_set(d->spool, dest, v);
    if (rc < 0)
        return rc;
    *msn = v;
    return 0;
}

static int
msid_take(muled *d, uint32_t *msid)
{
    for (;;) {
        int rc = mule_spool_fs_msid_alloc(d->spool, msid);

        if (rc < 0)
            return rc;
        if (*msid != 0 && tx_find(d, *msid, NULL) == NULL)
            return 0;
    }
}

void
muled_tx_start(muled *d, const mule_spool_info *info)
{
    const mule_spool *sp = mule_spool_fs_core(d->spool);
    int64_t now = muled_now_s();
    size_t due = 0;
    muled_tx *t;
    mule_spool_fs_jbatch *jb;
    uint32_t msid;
    int rc;

    for (size_t i = 0; i < info->target_cnt; i++) {
        mule_spool_target tg;

        if (mule_spool_target_get(sp, info->id, i, &tg) == 0 &&
            (tg.state == MULE_SPOOL_T_PENDING || tg.state == MULE_SPOOL_T_TEMPFAIL) &&
            (tg.next_try_s <= now || info->expiry_s <= now))
            due++;
    }
    if (due == 0)
        return;
    if (info->expiry_s <= now) {
        size_t *tidx = calloc(due, sizeof(*tidx));
        int *kinds = calloc(due, sizeof(*kinds));
        size_t n = 0;

        for (size_t i = 0; tidx != NULL && kinds != NULL && i < info->target_cnt; i++) {
            mule_spool_target tg;

            if (mule_spool_target_get(sp, info->id, i, &tg) == 0 &&
                (tg.state == MULE_SPOOL_T_PENDING || tg.state == MULE_SPOOL_T_TEMPFAIL)) {
                tidx[n] = i;
                kinds[n++] = MULE_DSN_EXPIRED;
            }
        }
        if (n > 0) {
            muled_log(d, LOG_LVL_INFO, "%s: expired before transmission", info->id);
            muled_audit_note(d, MULE_AUDIT_OUT, MULE_AUDIT_EXPIRED, info->id, NULL, NULL,
                             "expired before transmission");
            (void)muled_fail_targets(d, info->id, tidx, kinds, NULL, n);
        }
        free(tidx);
        free(kinds);
        return;
    }
    jb = start_batch(d);
    if ((rc = msid_take(d, &msid)) < 0 || (t = tx_new(d, info->id, msid, due, info->priority)) == NULL) {
        muled_log(d, LOG_LVL_WARN, "%s: cannot start: %s", info->id,
                  mule_strerror(rc < 0 ? rc : MULE_ERR_NOMEM));
        d->spool_retry_s = now + 5;
        return;
    }
    for (size_t i = 0; i < info->target_cnt && t->cnt < due; i++) {
        mule_spool_target tg, nt;

        if (mule_spool_target_get(sp, info->id, i, &tg) != 0 ||
            !(tg.state == MULE_SPOOL_T_PENDING || tg.state == MULE_SPOOL_T_TEMPFAIL) ||
            tg.next_try_s > now)
            continue;
        memset(&nt, 0, sizeof(nt));
        nt.state = MULE_SPOOL_T_INFLIGHT;
        nt.msid = msid;
        if ((rc = msn_take(d, jb, tg.node, &nt.msn)) < 0 ||
            (rc = jb != NULL ? mule_spool_fs_jbatch_target(jb, info->id, i, &nt, now)
                             : mule_spool_fs_target_set(d->spool, info->id, i, &nt, now)) < 0) {
            muled_log(d, LOG_LVL_WARN, "%s: cannot mark in flight: %s", info->id,
                      mule_strerror(rc));
            d->spool_retry_s = now + 5;
            break;
        }
        t->nodes[t->cnt] = tg.node;
        t->msns[t->cnt] = nt.msn;
        t->tidx[t->cnt++] = i;
    }
    if (t->cnt == 0) {
        size_t pos;

        if (tx_find(d, msid, &pos) != NULL)
            tx_drop(d, pos);
        return;
    }
    if (jb != NULL)
        t->staged = 1;          /* the engine gets it after the sync */
    else
        muled_tx_pump(d);
}

/* After a restart: every OUT target found INFLIGHT goes back to the
 * engine with its MSID and MSN (contract line 4). */
void
muled_tx_resume(muled *d)
{
    const mule_spool *sp = mule_spool_fs_core(d->spool);
    mule_spool_info info;
    size_t pos = 0;

    while (mule_spool_iter(sp, &pos, &info)) {
        if (info.kind != MULE_SPOOL_OUT || (info.flags & MULE_SPOOL_F_DELETED))
            continue;
        for (size_t i = 0; i < info.target_cnt; i++) {
            mule_spool_target tg;
            muled_tx *t;

            if (mule_spool_target_get(sp, info.id, i, &tg) != 0 ||
                tg.state != MULE_SPOOL_T_INFLIGHT)
                continue;
            t = tx_find(d, tg.msid, NULL);
            if (t == NULL && (t = tx_new(d, info.id, tg.msid, info.target_cnt, info.priority)) == NULL) {
                muled_log(d, LOG_LVL_ERROR, "%s: cannot resume: out of memory", info.id);
                continue;
            }
            t->resumed = true;
            t->nodes[t->cnt] = tg.node;
            t->msns[t->cnt] = tg.msn;
            t->tidx[t->cnt++] = i;
        }
    }
    for (size_t i = 0; i < d->tx_cnt; i++)
        muled_log(d, LOG_LVL_INFO, "%s: resuming msid=%08" PRIx32 " to %zu destination(s)",
                  d->tx[i]->id, d->tx[i]->msid, d->tx[i]->cnt);
    muled_tx_pump(d);
}

static int
reason_kind(int reason)
{
    switch (reason) {
    case PMUL_REASON_EXPIRED:
        return MULE_DSN_EXPIRED;
    case PMUL_REASON_CAP:
    case PMUL_REASON_NOMEM:
        return 0;               /* ours, not the message's: retry */
    default:
        return MULE_DSN_DISCARDED;
    }
}

/* One destination's verdict: a Postfix-like line per recipient of the
 * message, a counter, an audit record. */
static void
tx_report(muled *d, const muled_tx *t, const pmul_event *ev, int state)
{
    mule_spool_info info;
    char relay[32], ip[16], text[96];
    const char *status = state == MULE_SPOOL_T_DONE ? "sent" :
                         state == MULE_SPOOL_T_FAILED ? "bounced" : "deferred";
    double delay = 0;

    if (mule_spool_info_get(mule_spool_fs_core(d->spool), t->id, &info) == 0)
        delay = (double)(muled_now_s() - info.arrival_s);
    snprintf(relay, sizeof relay, "pmul:%s", mule_route_ntoa(ev->dest_id, ip));
    if (ev->kind == PMUL_EV_DEST_ACKED) {
        snprintf(text, sizeof text, "acknowledged, msid=%08" PRIx32 " after %.1fs", ev->msid,
                 (double)(uv_now(d->loop) - t->start_ms) / 1000.0);
        d->ctr.tx_acked++;
    } else {
        snprintf(text, sizeof text, "%s, msid=%08" PRIx32, pmul_reason_name(ev->reason),
                 ev->msid);
        d->ctr.tx_failed++;
    }
    for (const char *p = t->to != NULL ? t->to : ""; ; ) {
        const char *nl = strchr(p, '\n');
        size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);
        char rcpt[320];
        snprintf(rcpt, sizeof rcpt, "%.*s", (int)(n < 319 ? n : 319), p);
        muled_log_dlv(d, t->id, rcpt, relay, delay, status, text);
        if (nl == NULL)
            break;
        p = nl + 1;
    }
    muled_audit_note(d, MULE_AUDIT_OUT, ev->kind == PMUL_EV_DEST_ACKED ? MULE_AUDIT_ACKED :
                     ev->reason == PMUL_REASON_EXPIRED ? MULE_AUDIT_EXPIRED : MULE_AUDIT_FAILED,
                     t->id, relay, NULL, text);
}

void
muled_tx_event(muled *d, const pmul_event *ev)
{
    size_t pos;
    muled_tx *t = tx_find(d, ev->msid, &pos);
    int64_t now = muled_now_s();
    char ip[16];

    if (t == NULL)
        return;
    if (ev->kind == PMUL_EV_DEST_ACKED || ev->kind == PMUL_EV_DEST_FAILED) {
        for (size_t i = 0; i < t->cnt; i++) {
            mule_spool_target nt;
            int kind = 0, rc;

            if (t->nodes[i] != ev->dest_id)
                continue;
            memset(&nt, 0, sizeof(nt));
            if (ev->kind == PMUL_EV_DEST_ACKED) {
                nt.state = MULE_SPOOL_T_DONE;
            } else if ((kind = reason_kind(ev->reason)) == 0) {
                nt.state = MULE_SPOOL_T_TEMPFAIL;
                nt.reason = ev->reason;
            } else {
                nt.state = MULE_SPOOL_T_FAILED;
                nt.reason = kind;
            }
            rc = mule_spool_fs_target_set(d->spool, t->id, t->tidx[i], &nt, now);
            if (rc < 0)
                muled_log(d, LOG_LVL_ERROR, "%s: msid=%08" PRIx32 " %s: state not recorded: %s",
                          t->id, ev->msid, mule_route_ntoa(ev->dest_id, ip), mule_strerror(rc));
            tx_report(d, t, ev, nt.state);
        }
        return;
    }
    if (ev->kind != PMUL_EV_MSG_DONE)
        return;
    {
        char id[MULE_SPOOL_ID_SIZE];
        const mule_spool *sp = mule_spool_fs_core(d->spool);
        size_t nf = 0;
        size_t *tidx = calloc(t->cnt, sizeof(*tidx));
        int *kinds = calloc(t->cnt, sizeof(*kinds));

        memcpy(id, t->id, sizeof(id));
        for (size_t i = 0; tidx != NULL && kinds != NULL && i < t->cnt; i++) {
            mule_spool_target tg;

            if (mule_spool_target_get(sp, id, t->tidx[i], &tg) != 0)
                continue;
            if (tg.state == MULE_SPOOL_T_FAILED) {
                tidx[nf] = t->tidx[i];
                kinds[nf++] = tg.reason;
            } else if (tg.state == MULE_SPOOL_T_INFLIGHT) {
                /* No verdict reached us (an event lost to a spool error):
                 * the next attempt decides. */
                mule_spool_target nt;

                memset(&nt, 0, sizeof(nt));
                nt.state = MULE_SPOOL_T_TEMPFAIL;
                if (mule_spool_fs_target_set(d->spool, id, t->tidx[i], &nt, now) < 0)
                    muled_log(d, LOG_LVL_WARN, "%s: cannot mark for retry", id);
            }
        }
        muled_log(d, LOG_LVL_INFO, "%s: msid=%08" PRIx32 " done acked=%" PRIu32
                  " failed=%" PRIu32, id, ev->msid, ev->acked_cnt, ev->failed_cnt);
        tx_drop(d, pos);
        if (nf > 0)
            (void)muled_fail_targets(d, id, tidx, kinds, NULL, nf);
        free(tidx);
        free(kinds);
        try_remove(d, id);
        muled_tx_pump(d);
        muled_kick(d);
    }
}

/* ------------------------------------------------------------------ */
/* Failures and their DSNs                                            */

/*
 * The mail a spool entry holds: its envelope and RFC 5322 content.  OUT
 * entries hold CompressedData (inflated into *plain); IN entries the
 * BSMTP-like payload itself (parsed in place in *file; plain may be NULL
 * for them).  Both bufs are the caller's; *content points into one.
 */
int
muled_entry_mail(muled *d, const char *id, buf *file, buf *plain, bsmtp_envelope **env,
                 const uint8_t **content, size_t *len)
{
    mule_spool_msg msg;
    char qid[MULE_SPOOL_ID_SIZE];
    const uint8_t *p;
    size_t n, off = 0;
    int rc;

    rc = mule_spool_fs_read(d->spool, id, file);
    if (rc == 0)
        rc = mule_spool_decode_entry(file->data, file->len, &msg, qid, NULL, 0, NULL, NULL, 0);
    if (rc < 0)
        return rc;
    p = msg.content;
    n = msg.content_len;
    if (msg.kind == MULE_SPOOL_OUT) {
        if (plain == NULL)
            return MULE_ERR_INVAL;
        if ((rc = mule_cdt_decode(&d->cdt, NULL, p, n, plain, NULL)) < 0)
            return rc;
        p = plain->data;
        n = plain->len;
    }
    if ((rc = bsmtp_payload_parse(p, n, NULL, NULL, env, &off)) < 0)
        return rc;
    *content = p + off;
    *len = n - off;
    return 0;
}

int
muled_entry_env(muled *d, const char *id, buf *file, mule_spool_msg *msg,
                mule_spool_rcpt **rcpts, uint32_t *group)
{
    char qid[MULE_SPOOL_ID_SIZE];
    uint32_t g = 0;
    int rc;

    *rcpts = NULL;
    if ((rc = mule_spool_fs_read(d->spool, id, file)) < 0)
        return rc;
    /* Once for the counts, once into an array of the right size. */
    rc = mule_spool_decode_entry(file->data, file->len, msg, qid, NULL, 0, NULL, &g, 1);
    if (rc == 0 && msg->rcpt_cnt > 0) {
        *rcpts = calloc(msg->rcpt_cnt, sizeof(**rcpts));
        rc = *rcpts == NULL ? MULE_ERR_NOMEM :
             mule_spool_decode_entry(file->data, file->len, msg, qid, *rcpts, msg->rcpt_cnt,
                                     NULL, &g, 1);
    }
    if (rc < 0) {
        free(*rcpts);
        *rcpts = NULL;
    }
    if (group != NULL)
        *group = g;
    return rc;
}

/*
 * Targets tidx[0..cnt) of entry id failed for good (kinds: enum
 * mule_dsn_kind; replies: the MTA's text per target, or NULL).  Mark them
 * FAILED (durable), queue the DSN (durable), then DSN_SENT, then remove
 * the entry if nothing else is left.  An OUT entry's targets are nodes:
 * the DSN names every recipient of that P_MUL message (which of them sat
 * behind the failed node is not known here).
 */
int
muled_fail_targets(muled *d, const char *id, const size_t *tidx, const int *kinds,
                   const char *const *replies, size_t cnt)
{
    const mule_spool *sp = mule_spool_fs_core(d->spool);
    int64_t now = muled_now_s();
    mule_spool_info info;
    char date[64], msgid[128], arrival[64];
    buf file, plain;
    bsmtp_envelope *env = NULL;
    const uint8_t *content = NULL;
    size_t content_len = 0, nf = 0;
    mule_node_failure *fails = NULL;
    mule_node_clock clk;
    mule_node_result res;
    int rc;

    if (mule_spool_info_get(sp, id, &info) != 0)
        return MULE_ERR_SPOOL_NOENT;
    for (size_t i = 0; i < cnt; i++) {
        mule_spool_target tg, nt;

        if (mule_spool_target_get(sp, id, tidx[i], &tg) != 0 || tg.state == MULE_SPOOL_T_FAILED)
            continue;
        memset(&nt, 0, sizeof(nt));
        nt.state = MULE_SPOOL_T_FAILED;
        nt.reason = kinds[i];
        if ((rc = mule_spool_fs_target_set(d->spool, id, tidx[i], &nt, now)) < 0)
            return rc;
    }
    buf_init(&file, NULL, SIZE_MAX);
    buf_init(&plain, NULL, d->cdt.max_inflated);
    memset(&res, 0, sizeof(res));
    rc = muled_entry_mail(d, id, &file, &plain, &env, &content, &content_len);
    if (rc < 0)
        goto out;
    fails = calloc(info.kind == MULE_SPOOL_OUT ? env->rcpt_cnt : cnt, sizeof(*fails));
    if (fails == NULL) {
        rc = MULE_ERR_NOMEM;
        goto out;
    }
    if (info.kind == MULE_SPOOL_OUT) {
        for (size_t i = 0; i < env->rcpt_cnt; i++) {
            fails[nf].rcpt_idx = i;
            fails[nf++].kind = (enum mule_dsn_kind)kinds[0];
        }
    } else {
        for (size_t i = 0; i < cnt; i++) {
            if (tidx[i] >= env->rcpt_cnt)
                continue;
            fails[nf].rcpt_idx = tidx[i];
            fails[nf].kind = (enum mule_dsn_kind)kinds[i];
            fails[nf].reply = replies != NULL ? replies[i] : NULL;
            fails[nf++].remote_mta = replies != NULL && replies[i] != NULL ? d->cf.deliver
                                                                            : NULL;
        }
    }
    muled_clock(d, &clk, date, sizeof(date), msgid, sizeof(msgid));
    muled_date(info.arrival_s, arrival, sizeof(arrival));
    rc = nf == 0 ? 0
                 : mule_node_report(&d->ncfg, d->routes, env, content, content_len,
                                    fails, nf, arrival, &clk, NULL, &d->lg, &res);
    if (rc == 0 && res.has_dsn) {
        char why[64];

        snprintf(why, sizeof(why), "DSN for %s", id);
        rc = muled_store(d, &res, 0, 0, NULL, 0, NULL, why);
        if (rc == 0)
            d->ctr.dsn_queued++;
    } else if (rc == 0 && nf > 0) {
        muled_log(d, LOG_LVL_INFO, "%s: no DSN: %s", id, mule_strerror(res.dsn_err));
    }
out:
    if (rc < 0 && !mule_node_is_temporary(rc)) {
        /* The entry itself cannot be read back: no DSN can ever be made. */
        muled_log(d, LOG_LVL_ERROR, "%s: no DSN possible: %s", id, mule_strerror(rc));
        rc = 0;
    }
    if (rc == 0) {
        for (size_t i = 0; i < cnt; i++) {
            mule_spool_target nt;

            memset(&nt, 0, sizeof(nt));
            nt.state = MULE_SPOOL_T_DSN_SENT;
            nt.reason = kinds[i];
            if (mule_spool_fs_target_set(d->spool, id, tidx[i], &nt, now) < 0)
                muled_log(d, LOG_LVL_WARN, "%s: DSN queued, state not recorded", id);
        }
        try_remove(d, id);
    } else {
        muled_log(d, LOG_LVL_WARN, "%s: DSN not queued yet: %s", id, mule_strerror(rc));
    }
    mule_node_result_fini(&res);
    bsmtp_envelope_free(env);
    free(fails);
    buf_fini(&file);
    buf_fini(&plain);
    return rc;
}

/* After a restart: entries whose every target was final when muled
 * stopped (killed between the last state record and the unlink). */
void
muled_remove_finished(muled *d)
{
    const mule_spool *sp = mule_spool_fs_core(d->spool);
    mule_spool_info info;
    size_t pos = 0, n = 0, cap = 0;
    char (*ids)[MULE_SPOOL_ID_SIZE] = NULL;

    while (mule_spool_iter(sp, &pos, &info))
        if (mule_spool_is_removable(sp, info.id)) {
            if (n == cap && arr_grow(NULL, (void **)&ids, &cap, n + 1, sizeof(*ids), SIZE_MAX) != 0)
                break;
            memcpy(ids[n++], info.id, MULE_SPOOL_ID_SIZE);
        }
    for (size_t k = 0; k < n; k++)
        try_remove(d, ids[k]);
    free(ids);
}

/* After a restart: targets left FAILED (the DSN was not yet queued when
 * muled stopped) get their DSN now. */
void
muled_failed_resume(muled *d)
{
    const mule_spool *sp = mule_spool_fs_core(d->spool);
    mule_spool_info info;
    size_t pos = 0;
    char (*ids)[MULE_SPOOL_ID_SIZE] = NULL;
    size_t n = 0, cap = 0;

    /* Collect first: failing targets may remove entries while iterating. */
    while (mule_spool_iter(sp, &pos, &info)) {
        for (size_t i = 0; i < info.target_cnt; i++) {
            mule_spool_target tg;

            if (mule_spool_target_get(sp, info.id, i, &tg) != 0 ||
                tg.state != MULE_SPOOL_T_FAILED)
                continue;
            if (n == cap && arr_grow(NULL, (void **)&ids, &cap, n + 1, sizeof(*ids), SIZE_MAX) != 0)
                break;
            memcpy(ids[n++], info.id, MULE_SPOOL_ID_SIZE);
            break;
        }
    }
    for (size_t k = 0; k < n; k++) {
        size_t tidx[MULE_SPOOL_MAX_TARGETS];
        int kinds[MULE_SPOOL_MAX_TARGETS];
        size_t cnt = 0;

        if (mule_spool_info_get(sp, ids[k], &info) != 0)
            continue;
        for (size_t i = 0; i < info.target_cnt && cnt < MULE_SPOOL_MAX_TARGETS; i++) {
            mule_spool_target tg;

            if (mule_spool_target_get(sp, ids[k], i, &tg) == 0 &&
                tg.state == MULE_SPOOL_T_FAILED) {
                tidx[cnt] = i;
                kinds[cnt++] = tg.reason > 0 ? tg.reason : MULE_DSN_DISCARDED;
            }
        }
        if (cnt > 0)
            (void)muled_fail_targets(d, ids[k], tidx, kinds, NULL, cnt);
    }
    free(ids);
}
