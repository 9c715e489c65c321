/*
 * muled_audit.c: muled's audit records (MMHS profile 7.2) into the
 * HMAC-chained audit log (mule/mule_auditlog_fs, docs/audit.md).
 *
 * The key is read (or created) at start-up while muled may still be root,
 * and kept in memory only; the log is opened after the privilege drop, so
 * its files belong to muled's user.  Message records carry the facts of
 * mule_audit (Message-ID, ENVID, submission time, priority, sender,
 * recipients, peer, destination, outcome); events without a message
 * (EMCON, operator actions) are "event=NAME id=... detail".  A record that
 * cannot be written is an error in the log, never a reason to stop mail.
 *
 * Group sync (docs/spool.md, "Syncs per mail"): records of a batch are
 * written deferred and synced by one fdatasync on the thread pool, so a
 * batch of 20 accepted mails costs one sync, off the loop, not 20 on it.
 * The SMTP group commit goes one step further: it takes the unsynced
 * records (muled_audit_sync_take) into the spool's own final sync (one
 * syncfs for q/ and the log when both are on one filesystem).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mule/mule_audit.h"
#include "mule/mule_auditlog_fs.h"
#include "mule/mule_err.h"
#include "tools/muled/muled.h"

int
muled_audit_load_key(muled *d)
{
    int rc = mule_auditlog_key_load(d->cf.audit_key, 1, d->audit_key, sizeof d->audit_key,
                                    &d->audit_key_len);

    if (rc < 0) {
        muled_log(d, LOG_LVL_ERROR, "audit key %s: %s", d->cf.audit_key, mule_strerror(rc));
        return -1;
    }
    return 0;
}

int
muled_audit_open(muled *d)
{
    int torn = 0;
    int rc = mule_auditlog_open(&d->audit, d->cf.audit_dir, d->audit_key, d->audit_key_len,
                                d->cf.audit_retention_days,
                                d->cf.audit_fsync ? MULE_AUDITLOG_SYNC_EVERY
                                                  : MULE_AUDITLOG_SYNC_NONE,
                                muled_now_s(), &torn);

    if (rc < 0) {
        muled_log(d, LOG_LVL_ERROR, "audit log %s: %s", d->cf.audit_dir, mule_strerror(rc));
        d->audit = NULL;
        return -1;
    }
    if (torn)
        muled_log(d, LOG_LVL_WARN, "audit log %s: a torn last record (crash) was cut off",
                  d->cf.audit_dir);
    muled_audit_event(d, "started", NULL, torn ? "torn-tail=cut" : NULL);
    return 0;
}

void
muled_audit_close(muled *d)
{
    if (d->audit == NULL)
        return;
    muled_audit_event(d, "stopped", NULL, NULL);
    mule_auditlog_close(d->audit);
    d->audit = NULL;
    memset(d->audit_key, 0, sizeof d->audit_key);
}

/* The flusher: one fdatasync at a time on the thread pool. */
static struct {
    bool defer;
    bool running;
    uv_work_t work;
    int fd;                     /* dup of the log file being synced */
    int rc;                     /* its fdatasync's result */
    muled_audit_waiter *run;    /* satisfied when the running sync ends */
    muled_audit_waiter *wait;   /* need the next one */
    bool ext;                   /* records handed to a sync run elsewhere */
    bool ext_last;              /* ...and handed over after run's started */
    muled_audit_waiter *ext_wait;   /* satisfied when that one ends */
} g_fl;

static void
append(muled *d, const char *line)
{
    int rc;

    if (d->audit == NULL)
        return;
    rc = g_fl.defer ? mule_auditlog_append_deferred(d->audit, muled_now_s(), line)
                    : mule_auditlog_append(d->audit, muled_now_s(), line);
    if (rc < 0)
        muled_log(d, LOG_LVL_ERROR, "audit log: record not written: %s", mule_strerror(rc));
}

void
muled_audit_defer(muled *d, bool on)
{
    (void)d;
    g_fl.defer = on;
}

static void
call_all(muled *d, muled_audit_waiter *w)
{
    while (w != NULL) {
        muled_audit_waiter *next = w->next;

        w->next = NULL;
        w->cb(d, w);
        w = next;
    }
}

static void
fl_sync(uv_work_t *w)
{
    (void)w;
    g_fl.rc = fdatasync(g_fl.fd);
    close(g_fl.fd);
}

static void fl_start(muled *d);

static void
fl_done(uv_work_t *w, int status)
{
    muled *d = w->data;
    muled_audit_waiter *run = g_fl.run;

    g_fl.running = false;
    g_fl.run = NULL;
    if (status != 0 || g_fl.rc != 0)
        muled_log(d, LOG_LVL_ERROR, "audit log: records not synced: %s",
                  status != 0 ? uv_strerror(status) : "fdatasync failed");
    call_all(d, run);
    if (!g_fl.running && (g_fl.wait != NULL || mule_auditlog_unsynced(d->audit)))
        fl_start(d);
}

/* Hand what is written so far to one sync; the waiters ride on it. */
static void
fl_start(muled *d)
{
    muled_audit_waiter *wait = g_fl.wait;
    int fd = d->audit != NULL ? mule_auditlog_sync_fd(d->audit) : -1;

    g_fl.wait = NULL;
    if (fd < 0) {               /* nothing unsynced (or it was synced here) */
        if (fd != -1)
            muled_log(d, LOG_LVL_ERROR, "audit log: records not synced: %s",
                      mule_strerror(fd));
        call_all(d, wait);
        return;
    }
    g_fl.fd = fd;
    g_fl.run = wait;
    g_fl.running = true;
    g_fl.ext_last = false;
    g_fl.work.data = d;
    if (uv_queue_work(d->loop, &g_fl.work, fl_sync, fl_done) != 0) {
        fl_sync(&g_fl.work);    /* no thread pool: sync here */
        fl_done(&g_fl.work, 0);
    }
}

void
muled_audit_flush(muled *d, muled_audit_waiter *w)
{
    if (w != NULL) {
        /* Records written before now are either unsynced (the next sync
         * takes them) or already handed to the running one. */
        if (d->audit != NULL && mule_auditlog_unsynced(d->audit)) {
            w->next = g_fl.wait;
            g_fl.wait = w;
        } else if (g_fl.ext && (g_fl.ext_last || !g_fl.running)) {
            /* The sync handed over last covers every record before it. */
            w->next = g_fl.ext_wait;
            g_fl.ext_wait = w;
        } else if (g_fl.running) {
            w->next = g_fl.run;
            g_fl.run = w;
        } else {
            w->next = NULL;
            w->cb(d, w);
            return;
        }
    }
    if (!g_fl.running && (g_fl.wait != NULL || mule_auditlog_unsynced(d->audit)))
        fl_start(d);
}

int
muled_audit_sync_take(muled *d)
{
    int fd;

    if (d->audit == NULL || g_fl.ext)
        return -1;
    if ((fd = mule_auditlog_sync_fd(d->audit)) < 0) {
        if (fd != -1)
            muled_log(d, LOG_LVL_ERROR, "audit log: records not synced: %s",
                      mule_strerror(fd));
        return -1;
    }
    /* Waiters for the next sync wanted exactly these records. */
    g_fl.ext = true;
    g_fl.ext_last = true;
    g_fl.ext_wait = g_fl.wait;
    g_fl.wait = NULL;
    return fd;
}

void
muled_audit_sync_give(muled *d, int fd, bool ok)
{
    muled_audit_waiter *w = g_fl.ext_wait;

    if (fd < 0 || !g_fl.ext)
        return;
    close(fd);
    if (!ok)
        muled_log(d, LOG_LVL_ERROR, "audit log: records not synced: the spool's sync failed");
    g_fl.ext = false;
    g_fl.ext_wait = NULL;
    call_all(d, w);
    if (!g_fl.running && (g_fl.wait != NULL || mule_auditlog_unsynced(d->audit)))
        fl_start(d);
}

void
muled_audit_rec(muled *d, const mule_audit_rec *r)
{
    static char line[MULE_AUDIT_LINE_MAX];

    if (d->audit == NULL)
        return;
    if (mule_audit_format(r, line, sizeof line) < 0) {
        muled_log(d, LOG_LVL_ERROR, "audit log: record %s too large", r->id);
        return;
    }
    append(d, line);
}

void
muled_audit_event(muled *d, const char *event, const char *id, const char *detail)
{
    char line[600], clean[MULE_AUDIT_SHORT_MAX];

    if (d->audit == NULL)
        return;
    mule_audit_set_text(clean, sizeof clean, id);
    snprintf(line, sizeof line, "mule-audit event=%s node=%s id=%s%s%s", event,
             d->cf.node_id_text, clean[0] != '\0' ? clean : "-", detail != NULL ? " " : "",
             detail != NULL ? detail : "");
    append(d, line);
}

void
muled_audit_note(muled *d, int dir, int outcome, const char *id, const char *dest,
                 const char *rcpt, const char *status)
{
    static mule_audit_rec r;    /* 14 KiB: not on the stack */

    if (d->audit == NULL)
        return;
    mule_audit_init(&r, (enum mule_audit_dir)dir, (enum mule_audit_outcome)outcome,
                    muled_now_s());
    MULE_AUDIT_SET(&r, id, id);
    MULE_AUDIT_SET(&r, dest, dest);
    MULE_AUDIT_SET(&r, status, status);
    if (rcpt != NULL) {
        snprintf(r.rcpts, sizeof r.rcpts, "%s", rcpt);
        r.rcpt_cnt = 1;
    }
    muled_audit_rec(d, &r);
}
