/*
 * muled_in.c: mail arriving over P_MUL, and its hand-off to this node's
 * MTA (LMTP or SMTP through bsmtp_io) or to the embedded Maildir.
 *
 * A DELIVERED message is decided by mule_node_inbound(), the result made
 * durable in the spool, the (source, MSID) remembered in the done set,
 * and only then accepted, which lets the engine send the complete Ack
 * (durability contract line 2).  A spool that cannot take it (disk full,
 * I/O error, out of memory) defers it: no Ack, the transmitter
 * retransmits, the engine offers it again later.  A message already held
 * (a retransmission after a restart, or after the engine forgot it) is
 * accepted again without a second copy.
 *
 * Hand-off: the due recipients of an IN entry are marked INFLIGHT
 * (durable), handed over, and each reply is made durable (DONE,
 * TEMPFAIL with back-off, or FAILED with a DSN) before the entry goes
 * (contract line 5).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bsmtp/bsmtp_payload.h"
#include "mule/mule_audit.h"
#include "mule/mule_err.h"
#include "mule/mule_gw.h"
#include "mule/mule_relay.h"
#include "pmul/pmul_err.h"
#include "tools/common/fileio.h"
#include "tools/muled/muled.h"

/* ------------------------------------------------------------------ */
/* Receiving                                                          */

/* Is (src, msid) held already: in the done set or as a spool entry? */
static bool
rx_known(muled *d, uint32_t src, uint32_t msid)
{
    const mule_spool *sp = mule_spool_fs_core(d->spool);
    mule_spool_info info;
    size_t pos = 0;

    if (mule_spool_done_has(sp, src, msid))
        return true;
    while (mule_spool_iter(sp, &pos, &info))
        if (info.src_node == src && info.msid == msid)
            return true;
    return false;
}

/* Keep an unusable payload for the operator: SPOOL/bad/SRC-MSID. */
static int
keep_bad(muled *d, const char *name, const uint8_t *p, size_t len)
{
    char path[4200], dir[4096];
    int rc;

    snprintf(dir, sizeof(dir), "%s/bad", d->cf.spool_dir);
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if ((rc = fio_write_file(path, 0, p, len, NULL, 0)) != 0)
        return rc;
    return fio_fsync_dir(dir);
}

static void
rx_accept(muled *d, const pmul_event *ev)
{
    int rc = pmul_engine_accept(d->engine, pmul_uv_now(d->pu), ev->source_id, ev->msid);

    if (rc < 0 && rc != PMUL_ERR_NOTFOUND)
        muled_log(d, LOG_LVL_WARN, "accept msid=%08" PRIx32 ": %s", ev->msid,
                  pmul_strerror(rc));
    pmul_uv_service(d->pu);
}

static void
rx_defer(muled *d, const pmul_event *ev, const char *tag, int why)
{
    d->ctr.rx_deferred++;
    muled_log(d, LOG_LVL_WARN, "%s: deferred (no Ack): %s", tag, mule_strerror(why));
    (void)pmul_engine_defer(d->engine, pmul_uv_now(d->pu), ev->source_id, ev->msid);
}

void
muled_rx_delivered(muled *d, const pmul_event *ev)
{
    char src[16], tag[48], date[64], msgid[128];
    mule_node_in in;
    mule_node_clock clk;
    mule_node_result res;
    int rc;

    mule_route_ntoa(ev->source_id, src);
    snprintf(tag, sizeof(tag), "%s-%08" PRIx32, src, ev->msid);
    if (rx_known(d, ev->source_id, ev->msid)) {
        muled_log(d, LOG_LVL_INFO, "%s: received again, held already: acknowledged", tag);
        d->ctr.rx_again++;
        rx_accept(d, ev);
        return;
    }
    if (d->spool_retry_s > muled_now_s()) {
        rx_defer(d, ev, tag, MULE_ERR_SPOOL_FULL);
        return;
    }
    memset(&in, 0, sizeof(in));
    in.src = ev->source_id;
    in.msid = ev->msid;
    in.dests = ev->dests;
    in.dest_cnt = ev->dest_cnt;
    in.payload = ev->payload;
    in.payload_len = ev->payload_len;
    in.id = tag;
    /* Arrival-Date of any DSN: the mail reaches this MTA when muled takes
     * it (a deferred copy had not arrived: it was not acknowledged). */
    in.arrival_s = muled_now_s();
    muled_clock(d, &clk, date, sizeof(date), msgid, sizeof(msgid));
    rc = mule_node_inbound(&d->ncfg, d->routes, &in, &clk, NULL, &d->lg, &res);
    if (rc < 0) {
        mule_node_result_fini(&res);
        rx_defer(d, ev, tag, rc);
        return;
    }
    if (!res.has_relay && res.err == MULE_ERR_NOT_RESPONSIBLE) {
        muled_log(d, LOG_LVL_INFO, "%s: received from %s size=%zu: no recipient is ours", tag,
                  src, ev->payload_len);
    } else if (!res.has_relay && mule_node_is_not_whole(res.err)) {
        /* Not a whole message (truncated CompressedData): no Ack and not
         * remembered, so that the transmitter sends it again.  A copy is
         * kept for the operator. */
        d->ctr.rx_rejected++;
        (void)keep_bad(d, tag, ev->payload, ev->payload_len);
        muled_audit_note(d, MULE_AUDIT_IN, MULE_AUDIT_MALFORMED, tag, NULL, NULL,
                         "not whole, not acknowledged");
        muled_log(d, LOG_LVL_WARN,
                  "%s: received from %s size=%zu%s: not a whole message (%s): not acknowledged, "
                  "the transmitter sends it again", tag, src, ev->payload_len,
                  ev->total_raised ? " (its Total_Number_of_PDUs was wrong)" : "",
                  mule_strerror(res.err));
        mule_node_result_fini(&res);
        (void)pmul_engine_reject(d->engine, pmul_uv_now(d->pu), ev->source_id, ev->msid);
        pmul_uv_service(d->pu);
        return;
    } else if (!res.has_relay) {
        d->ctr.rx_bad++;
        muled_audit_note(d, MULE_AUDIT_IN, MULE_AUDIT_MALFORMED, tag, NULL, NULL,
                         mule_strerror(res.err));
        rc = keep_bad(d, tag, ev->payload, ev->payload_len);
        muled_log(d, LOG_LVL_WARN, "%s: received from %s size=%zu: undeliverable (%s), %s",
                  tag, src, ev->payload_len, mule_strerror(res.err),
                  rc == 0 ? "kept in bad/" : "NOT kept");
        if (rc < 0) {
            mule_node_result_fini(&res);
            rx_defer(d, ev, tag, MULE_ERR_SPOOL_IO);
            return;
        }
    } else {
        char why[80];

        snprintf(why, sizeof(why), "received %s", tag);
        muled_log(d, LOG_LVL_INFO,
                  "%s: received from %s size=%zu inflated=%zu local=%zu relay=%zu failed=%zu",
                  tag, src, ev->payload_len, res.inflated.len, res.relay.local_cnt,
                  res.relay.out_cnt, res.relay.failed_cnt);
        rc = muled_store(d, &res, ev->source_id, ev->msid, ev->dests, ev->dest_cnt, NULL,
                         why);
        if (rc < 0) {
            if (rc == MULE_ERR_SPOOL_FULL || rc == MULE_ERR_SPOOL_IO)
                d->spool_retry_s = muled_now_s() + 5;
            mule_node_result_fini(&res);
            rx_defer(d, ev, tag, rc);
            return;
        }
    }
    if (res.has_relay)
        d->ctr.rx_accepted++;
    else if (res.err == MULE_ERR_NOT_RESPONSIBLE)
        muled_audit_note(d, MULE_AUDIT_IN, MULE_AUDIT_NOT_RESPONSIBLE, tag, NULL, NULL, src);
    mule_node_result_fini(&res);
    /* Remember it past the entry's removal (contract line 4).  Failing
     * here costs at most a second copy after a restart: the entry itself
     * also names (source, MSID). */
    rc = mule_spool_fs_done_add(d->spool, ev->source_id, ev->msid, ev->expiry_s);
    if (rc < 0)
        muled_log(d, LOG_LVL_WARN, "%s: done set: %s", tag, mule_strerror(rc));
    rx_accept(d, ev);
}

void
muled_rx_discarded(muled *d, const pmul_event *ev)
{
    char src[16], tag[48];

    snprintf(tag, sizeof tag, "%s-%08" PRIx32, mule_route_ntoa(ev->source_id, src), ev->msid);
    char why[48];

    muled_log(d, LOG_LVL_INFO, "%s: incomplete reception dropped (%s)", tag,
              pmul_reason_name(ev->reason));
    snprintf(why, sizeof why, "reason=%s", pmul_reason_name(ev->reason));
    muled_audit_event(d, "discarded", tag, why);
}

/* ------------------------------------------------------------------ */
/* Hand-off                                                           */

static void
dlv_free(muled_dlv *v)
{
    if (v == NULL)
        return;
    free(v->tidx);
    buf_fini(&v->file);
    free(v);
}

/*
 * Make the outcome of one attempt durable: DONE, TEMPFAIL (back-off), or
 * FAILED with a DSN.  outcome/reply per target of v.
 */
/* Postfix-like line, counter and audit record for one recipient. */
static void
dlv_report(muled *d, const char *id, const char *rcpt, int outcome, const char *reply,
           int64_t arrival_s)
{
    static const char *const status[] = {"sent", "deferred", "bounced"};
    static const int audit[] = {MULE_AUDIT_DELIVERED, MULE_AUDIT_DELAYED, MULE_AUDIT_FAILED};

    if (outcome == MULED_OK)
        d->ctr.egress_ok++;
    else if (outcome == MULED_TEMP)
        d->ctr.egress_temp++;
    else
        d->ctr.egress_perm++;
    muled_log_dlv(d, id, rcpt, d->cf.deliver, (double)(muled_now_s() - arrival_s),
                  status[outcome], reply);
    muled_audit_note(d, MULE_AUDIT_OUT, audit[outcome], id, d->cf.deliver, rcpt, reply);
}

static void
dlv_apply(muled *d, const char *id, const size_t *tidx, const int *outcome,
          const char *const *reply, size_t cnt)
{
    int64_t now = muled_now_s();
    size_t nf = 0;
    size_t *ftidx = calloc(cnt, sizeof(*ftidx));
    int *fkinds = calloc(cnt, sizeof(*fkinds));
    const char **freply = calloc(cnt, sizeof(*freply));
    mule_spool_info info;
    mule_spool_msg msg;
    mule_spool_rcpt *rcpts = NULL;
    buf file;

    /* The recipients' addresses for the log lines. */
    buf_init(&file, NULL, SIZE_MAX);
    if (mule_spool_info_get(mule_spool_fs_core(d->spool), id, &info) != 0)
        info.arrival_s = now;
    if (muled_entry_env(d, id, &file, &msg, &rcpts, NULL) != 0)
        msg.rcpt_cnt = 0;
    for (size_t i = 0; i < cnt; i++) {
        mule_spool_target nt;
        char rcpt[320];
        int rc;

        if (tidx[i] < msg.rcpt_cnt && rcpts != NULL)
            snprintf(rcpt, sizeof rcpt, "%.*s", (int)(rcpts[tidx[i]].addr.len < 319 ?
                     rcpts[tidx[i]].addr.len : 319), rcpts[tidx[i]].addr.p);
        else
            snprintf(rcpt, sizeof rcpt, "#%zu", tidx[i]);
        dlv_report(d, id, rcpt, outcome[i], reply[i], info.arrival_s);
        if (outcome[i] == MULED_PERM && ftidx != NULL && fkinds != NULL && freply != NULL) {
            ftidx[nf] = tidx[i];
            fkinds[nf] = MULE_DSN_REJECTED;
            freply[nf++] = reply[i];
            continue;
        }
        memset(&nt, 0, sizeof(nt));
        nt.state = outcome[i] == MULED_OK ? MULE_SPOOL_T_DONE : MULE_SPOOL_T_TEMPFAIL;
        rc = mule_spool_fs_target_set(d->spool, id, tidx[i], &nt, now);
        if (rc < 0)
            muled_log(d, LOG_LVL_ERROR, "%s: rcpt %zu: state not recorded: %s", id, tidx[i],
                      mule_strerror(rc));
    }
    free(rcpts);
    buf_fini(&file);
    if (nf > 0)
        (void)muled_fail_targets(d, id, ftidx, fkinds, freply, nf);
    free(ftidx);
    free(fkinds);
    free(freply);
    if (mule_spool_is_removable(mule_spool_fs_core(d->spool), id)) {
        int rc = mule_spool_fs_remove(d->spool, id);

        if (rc == 0)
            muled_log(d, LOG_LVL_INFO, "%s: removed", id);
    }
    muled_kick(d);
}

/* Every recipient of v failed temporarily with the same reply (back-off). */
static void
dlv_defer_all(muled *d, muled_dlv *v, const char *why)
{
    int *outcome = calloc(v->cnt, sizeof(*outcome));
    const char **reply = calloc(v->cnt, sizeof(*reply));

    for (size_t i = 0; outcome != NULL && reply != NULL && i < v->cnt; i++) {
        outcome[i] = MULED_TEMP;
        reply[i] = why;
    }
    if (outcome != NULL && reply != NULL)
        dlv_apply(d, v->id, v->tidx, outcome, reply, v->cnt);
    free(outcome);
    free(reply);
}

static void
dlv_maildir(muled *d, muled_dlv *v, const bsmtp_envelope *env, const uint8_t *content,
            size_t len, int64_t arrival_s)
{
    int *outcome = calloc(v->cnt, sizeof(*outcome));
    char **reply = calloc(v->cnt, sizeof(*reply));

    if (outcome == NULL || reply == NULL) {
        free(outcome);
        free(reply);
        return;
    }
    for (size_t i = 0; i < v->cnt; i++) {
        char key[64], why[600];

        snprintf(key, sizeof(key), "%s_%zu", v->id, v->tidx[i]);
        outcome[i] = muled_maildir_deliver(d->cf.maildir, d->cf.hostname,
                                           env->rcpts[v->tidx[i]].addr, env->reverse_path,
                                           content, len, key, arrival_s, why, sizeof(why));
        reply[i] = strdup(why);
        if (reply[i] == NULL)
            outcome[i] = MULED_TEMP;
    }
    dlv_apply(d, v->id, v->tidx, outcome, (const char *const *)reply, v->cnt);
    for (size_t i = 0; i < v->cnt; i++)
        free(reply[i]);
    free(outcome);
    free(reply);
}

static void dlv_pump(muled *d);

static void
on_io_done(bsmtp_io *io, const bsmtp_client *c, void *arg)
{
    muled_dlv *v = arg;
    muled *d = v->d;
    int *outcome = calloc(v->cnt, sizeof(*outcome));
    char **reply = calloc(v->cnt, sizeof(*reply));

    (void)io;
    d->dlv_running--;
    for (muled_dlv **pp = &d->dlv_run; *pp != NULL; pp = &(*pp)->run_next)
        if (*pp == v) {
            *pp = v->run_next;
            break;
        }
    for (size_t i = 0; outcome != NULL && reply != NULL && i < v->cnt; i++) {
        const bsmtp_client_result *r = c != NULL ? bsmtp_client_rcpt(c, i) : NULL;
        char text[400];

        if (r == NULL || r->outcome == BSMTP_CLIENT_PENDING || r->outcome == BSMTP_CLIENT_TEMP)
            outcome[i] = MULED_TEMP;
        else
            outcome[i] = r->outcome == BSMTP_CLIENT_OK ? MULED_OK : MULED_PERM;
        if (r != NULL && r->code != 0)
            snprintf(text, sizeof(text), "%d %s %s", r->code, r->status, r->text);
        else
            snprintf(text, sizeof(text), "451 4.4.2 %s: no reply (%s)", d->cf.deliver,
                     r != NULL ? r->text : "session failed");
        reply[i] = strdup(text);
        if (reply[i] == NULL)
            reply[i] = strdup("451 4.3.0 out of memory");
    }
    if (outcome != NULL && reply != NULL)
        dlv_apply(d, v->id, v->tidx, outcome, (const char *const *)reply, v->cnt);
    for (size_t i = 0; reply != NULL && i < v->cnt; i++)
        free(reply[i]);
    free(outcome);
    free(reply);
    dlv_free(v);
    dlv_pump(d);
}

/* Start one LMTP/SMTP session.  Returns false if it could not start (the
 * targets then get a temporary failure). */
static bool
dlv_session(muled *d, muled_dlv *v)
{
    bsmtp_envelope *env = NULL, *left = NULL;
    const uint8_t *content;
    size_t len;
    mule_smtp_txn txn;
    bsmtp_client_cfg cc;
    bsmtp_client_txn ct;
    int rc;

    rc = muled_entry_mail(d, v->id, &v->file, NULL, &env, &content, &len);
    /* BY= as the time left now, not when the mail was spooled (RFC 2852 4):
     * earlier tries may have found the MTA down. */
    if (rc == 0)
        rc = mule_relay_by_left(env, v->arrival_s, muled_now_s(), NULL, &left);
    if (rc == 0)
        rc = mule_gw_to_smtp(left != NULL ? left : env, v->tidx, v->cnt, content, len, NULL,
                             &txn);
    bsmtp_envelope_free(left);
    bsmtp_envelope_free(env);
    if (rc < 0) {
        muled_log(d, LOG_LVL_WARN, "%s: cannot prepare hand-off: %s", v->id, mule_strerror(rc));
        return false;
    }
    memset(&cc, 0, sizeof(cc));
    cc.lmtp = d->egress_lmtp;
    cc.helo_name = d->cf.hostname;
    memset(&ct, 0, sizeof(ct));
    ct.mail_from = txn.mail_from;
    ct.rcpt_to = (const char *const *)txn.rcpt_to;
    ct.rcpt_cnt = txn.rcpt_cnt;
    ct.use_bdat = txn.use_bdat;
    ct.needs = txn.needs;
    ct.content = txn.content;
    ct.content_len = txn.content_len;
    v->d = d;
    /* bsmtp_io copies what it keeps of the transaction. */
    rc = bsmtp_io_deliver(d->loop, &d->egress, &cc, &ct, d->cf.egress_timeout_ms, on_io_done, v,
                          &v->io);
    mule_gw_txn_fini(&txn);
    if (rc < 0) {
        muled_log(d, LOG_LVL_WARN, "%s: cannot start hand-off: %s", v->id, mule_strerror(rc));
        return false;
    }
    d->dlv_running++;
    v->run_next = d->dlv_run;
    d->dlv_run = v;
    muled_log(d, LOG_LVL_INFO, "%s: handing %zu recipient(s) to %s", v->id, v->cnt,
              d->cf.deliver);
    return true;
}

static void
dlv_pump(muled *d)
{
    while (d->dlv_wait != NULL && !d->stopping &&
           d->dlv_running < (size_t)d->cf.egress_concurrency) {
        muled_dlv *v = d->dlv_wait;

        d->dlv_wait = v->next;
        if (d->dlv_wait == NULL)
            d->dlv_wait_tail = NULL;
        v->next = NULL;
        if (!dlv_session(d, v)) {
            dlv_defer_all(d, v, "451 4.3.0 hand-off could not start");
            dlv_free(v);
        }
    }
}

void
muled_dlv_start(muled *d, const mule_spool_info *info)
{
    const mule_spool *sp = mule_spool_fs_core(d->spool);
    int64_t now = muled_now_s();
    muled_dlv *v;
    size_t due = 0;

    v = calloc(1, sizeof(*v));
    if (v == NULL || (v->tidx = calloc(info->target_cnt, sizeof(*v->tidx))) == NULL) {
        free(v);
        d->spool_retry_s = now + 5;
        return;
    }
    memcpy(v->id, info->id, sizeof(v->id));
    v->arrival_s = info->arrival_s;
    buf_init(&v->file, NULL, SIZE_MAX);
    for (size_t i = 0; i < info->target_cnt; i++) {
        mule_spool_target tg;

        if (mule_spool_target_get(sp, info->id, i, &tg) == 0 &&
            (tg.state == MULE_SPOOL_T_PENDING || tg.state == MULE_SPOOL_T_TEMPFAIL) &&
            (tg.next_try_s <= now || info->expiry_s <= now))
            v->tidx[due++] = i;
    }
    if (due == 0) {
        dlv_free(v);
        return;
    }
    if (info->expiry_s <= now) {
        int *kinds = calloc(due, sizeof(*kinds));
        const char **reply = calloc(due, sizeof(*reply));

        for (size_t i = 0; kinds != NULL && reply != NULL && i < due; i++) {
            kinds[i] = MULE_DSN_EXPIRED;
            reply[i] = NULL;
        }
        muled_log(d, LOG_LVL_INFO, "%s: delivery lifetime over: %zu recipient(s) failed",
                  info->id, due);
        if (kinds != NULL && reply != NULL)
            (void)muled_fail_targets(d, info->id, v->tidx, kinds, reply, due);
        free(kinds);
        free(reply);
        dlv_free(v);
        return;
    }
    for (size_t i = 0; i < due; i++) {
        mule_spool_target nt;
        int rc;

        memset(&nt, 0, sizeof(nt));
        nt.state = MULE_SPOOL_T_INFLIGHT;
        if ((rc = mule_spool_fs_target_set(d->spool, info->id, v->tidx[i], &nt, now)) < 0) {
            muled_log(d, LOG_LVL_WARN, "%s: cannot start hand-off: %s", info->id,
                      mule_strerror(rc));
            d->spool_retry_s = now + 5;
            due = i;
            break;
        }
    }
    v->cnt = due;
    if (due == 0) {
        dlv_free(v);
        return;
    }
    if (d->use_maildir) {
        bsmtp_envelope *env = NULL;
        const uint8_t *content;
        size_t len;
        int rc = muled_entry_mail(d, v->id, &v->file, NULL, &env, &content, &len);

        if (rc == 0) {
            dlv_maildir(d, v, env, content, len, info->arrival_s);
        } else {
            muled_log(d, LOG_LVL_ERROR, "%s: cannot read entry: %s", v->id, mule_strerror(rc));
            dlv_defer_all(d, v, "451 4.3.0 spool entry unreadable");
        }
        bsmtp_envelope_free(env);
        dlv_free(v);
        return;
    }
    if (d->dlv_wait_tail != NULL)
        d->dlv_wait_tail->next = v;
    else
        d->dlv_wait = v;
    d->dlv_wait_tail = v;
    dlv_pump(d);
}

/* After a restart: a hand-off that was running when muled stopped is
 * tried again (the MTA may have it: at-least-once, as any MTA). */
void
muled_dlv_resume(muled *d)
{
    const mule_spool *sp = mule_spool_fs_core(d->spool);
    mule_spool_info info;
    size_t pos = 0;
    int64_t now = muled_now_s();

    while (mule_spool_iter(sp, &pos, &info)) {
        if (info.kind != MULE_SPOOL_IN)
            continue;
        for (size_t i = 0; i < info.target_cnt; i++) {
            mule_spool_target tg, nt;

            if (mule_spool_target_get(sp, info.id, i, &tg) != 0 ||
                tg.state != MULE_SPOOL_T_INFLIGHT)
                continue;
            memset(&nt, 0, sizeof(nt));
            nt.state = MULE_SPOOL_T_PENDING;
            if (mule_spool_fs_target_set(d->spool, info.id, i, &nt, now) < 0)
                muled_log(d, LOG_LVL_WARN, "%s: cannot reset hand-off", info.id);
        }
    }
}

void
muled_dlv_cancel_all(muled *d)
{
    /* Running sessions end now (their recipients get a temporary
     * failure, recorded before the spool closes: the callbacks run on
     * the loop before it returns). */
    for (muled_dlv *v = d->dlv_run; v != NULL; v = v->run_next)
        bsmtp_io_cancel(v->io);
    while (d->dlv_wait != NULL) {
        muled_dlv *v = d->dlv_wait;

        d->dlv_wait = v->next;
        dlv_free(v);
    }
    d->dlv_wait_tail = NULL;
}

/* Is a hand-off of entry id running now (the operator waits for it)? */
bool
muled_dlv_busy(muled *d, const char *id)
{
    for (muled_dlv *v = d->dlv_run; v != NULL; v = v->run_next)
        if (strcmp(v->id, id) == 0)
            return true;
    return false;
}
