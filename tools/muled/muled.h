/*
 * muled.h: the daemon's shared state and the functions its files give
 * each other.  muled is glue: the decisions are in mule/ (mule_node:
 * what a mail becomes; mule_spool: the queue model) and pmul/ (the
 * engine); these files wire them to libuv, files and sockets:
 *
 *   muled_main.c     options, config, start-up, signals, EMCON, shutdown
 *   muled_out.c      pickup directory -> spool; spool -> P_MUL engine;
 *                    engine transmit events -> spool; DSNs on failure
 *   muled_in.c       engine DELIVERED -> spool -> accept (Ack); spool ->
 *                    local hand-off (Maildir, LMTP, SMTP)
 *   muled_smtpd.c    SMTP/LMTP listeners: bsmtp_server sessions into the
 *                    spool (mynetworks, routes checked at RCPT, caps)
 *   muled_maildir.c  the embedded Maildir delivery agent
 *   muled_log.c      one line per event (stderr or syslog), rate limits
 *   muled_ctl.c      the control socket: mulectl's commands, metrics
 *   muled_priv.c     privilege drop, Landlock confinement, sd_notify
 *   muled_audit.c    audit records (MMHS 7.2) into the HMAC-chained log
 *
 * Everything runs on one libuv loop; spool calls block for their fsync
 * (docs/spool.md: the durability contract orders them).
 */
#ifndef MULED_H
#define MULED_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "bsmtp/bsmtp_io.h"
#include "mule/mule_cdt.h"
#include "mule/mule_conf.h"
#include "mule/mule_node.h"
#include "mule/mule_route.h"
#include "mule/mule_spool_fs.h"
#include "pmul/pmul_engine.h"
#include "pmul/pmul_uv.h"

/* Outcome of one delivery attempt for one recipient. */
enum { MULED_OK = 0, MULED_TEMP = 1, MULED_PERM = 2 };

/* One of our P_MUL messages: a spool OUT entry's targets in flight. */
typedef struct muled_tx {
    char id[MULE_SPOOL_ID_SIZE];
    uint32_t msid;
    bool in_engine;             /* submitted (else waiting for room) */
    bool resumed;               /* in flight before a restart */
    uint8_t staged;             /* its INFLIGHT records wait for a start
                                 * batch's sync (1: the one being staged,
                                 * 2: the one syncing): not for the engine
                                 * yet */
    uint8_t prio;               /* its P_MUL priority (0 most urgent) */
    size_t cnt;                 /* targets in this message */
    uint32_t *nodes;            /* per target: destination node */
    uint32_t *msns;             /* per target: Message_Sequence_Number */
    size_t *tidx;               /* per target: index in the spool entry */
    uint64_t start_ms;
    char *to;                   /* its recipients, '\n'-separated (log lines) */
} muled_tx;

/* One local hand-off (a spool IN entry's targets). */
typedef struct muled_dlv {
    char id[MULE_SPOOL_ID_SIZE];
    int64_t arrival_s;          /* when the entry was spooled (BY= counts from it) */
    size_t cnt;
    size_t *tidx;
    bool running;
    struct muled *d;
    bsmtp_io *io;
    char **rcpt_lines;
    buf file;                   /* the entry file (envelope, content) */
    struct muled_dlv *next;
    struct muled_dlv *run_next; /* in muled.dlv_run while running */
} muled_dlv;

/* Counters for mulectl stats (the engine keeps its own, pmul_stats). */
typedef struct muled_counters {
    uint64_t pickup_accepted, pickup_refused;   /* mails */
    uint64_t smtpd_accepted, smtpd_refused;     /* mails */
    uint64_t rx_accepted, rx_again, rx_bad, rx_deferred;  /* P_MUL messages */
    uint64_t rx_rejected;       /* not whole: not acknowledged */
    uint64_t tx_acked, tx_failed;               /* P_MUL destinations */
    uint64_t egress_ok, egress_temp, egress_perm;   /* recipients handed off */
    uint64_t dsn_queued;
    uint64_t ctl_requests, ctl_denied;
} muled_counters;

typedef struct muled_ctl muled_ctl;
typedef struct mule_auditlog mule_auditlog;

typedef struct muled {
    uv_loop_t *loop;
    mule_conf cf;
    const char *conf_path;
    bool foreground;

    logger lg;                  /* library log lines go here too */
    pmul_engine *engine;
    pmul_uv *pu;
    pmul_auth *pauth;           /* pmul_auth = on: seals and opens (or NULL) */
    mule_spool_fs *spool;
    mule_route_table *routes;
    mule_cdt_config cdt;
    mule_node_config ncfg;
    bsmtp_io_target egress;     /* deliver = lmtp:/smtp: */
    bool egress_lmtp;
    bool use_maildir;

    uv_timer_t t_queue;         /* spool work due */
    uv_timer_t t_pickup;        /* pickup directory scan */
    uv_signal_t sigs[5];
    size_t sig_cnt;

    muled_tx **tx;              /* our messages (in engine or waiting) */
    mule_spool_fs_jbatch *start_jb; /* MSN + INFLIGHT records of the
                                 * messages a queue run starts: one sync */
    mule_spool_fs_jbatch *start_out;    /* the one whose sync runs on the
                                 * thread pool (one at a time) */
    uv_work_t start_work;
    bool start_again;           /* start_jb waits for start_out to end */
    size_t tx_cnt, tx_cap;
    muled_dlv *dlv_wait;        /* hand-offs waiting for a session slot */
    muled_dlv *dlv_wait_tail;
    muled_dlv *dlv_run;         /* sessions running (cancelled at stop) */
    size_t dlv_running;

    bool emcon;
    bool stopping;
    int exit_code;
    uint64_t seq;               /* Message-IDs of DSNs, Maildir keys */
    int64_t spool_retry_s;      /* spool refused (disk full): retry at */

    int64_t started_s;
    int64_t emcon_since_s;
    muled_counters ctr;
    muled_ctl *ctl;             /* control socket (NULL: none) */
    mule_auditlog *audit;       /* audit log (NULL: not open) */
    uint8_t audit_key[64];
    size_t audit_key_len;
    unsigned run_uid, run_gid;  /* who muled runs as after start-up */
    unsigned ctl_gid;           /* control_group */
    char confinement[160];      /* what muled_priv did, for status */
} muled;

/* muled_log.c */
void muled_log(muled *d, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void muled_log_open(muled *d);
void muled_log_sink(void *arg, int level, const char *line);

/* muled_main.c */
int64_t muled_now_s(void);
void muled_date(int64_t t, char *out, size_t len);     /* RFC 5322, UTC */
void muled_date_fmt(int64_t t, const char *fmt, char *out, size_t len)
    __attribute__((format(strftime, 2, 0)));
void muled_clock(muled *d, mule_node_clock *clk, char *date, size_t datelen, char *msgid,
                 size_t msgidlen);
void muled_kick(muled *d);          /* run the queue soon */
/* EMCON on/off, durable first.  Returns 0 (msg: what happened) or -1. */
int muled_set_emcon(muled *d, bool on, char *msg, size_t msglen);
/* Re-read muled.conf and the routing table; swap both in only when both
 * are good.  Returns 0 or -1; msg says what changed or "file:line: why". */
int muled_reload(muled *d, char *msg, size_t msglen);

/* muled_out.c */
int muled_store(muled *d, const mule_node_result *res, uint32_t src, uint32_t msid,
                const uint32_t *dests, size_t dest_cnt, const char *origin, const char *why);
/* Group commit (muled_smtpd.c): stage what res becomes in batch b (res
 * must outlive the op); after mule_spool_fs_batch_write(b),
 * muled_store_audit() writes its "accepted" audit record when its group
 * reached q/ (true: written; the batch's sync makes it durable); after
 * mule_spool_fs_batch_commit(b), muled_store_finish() logs it when its
 * group is durable and returns the group's result (0 or a MULE_ERR_* for
 * the reply); a mail audited but not durable gets muled_store_withdraw()
 * (status: why) before its reply.  The op is made even when staging fails
 * (free it). */
typedef struct muled_store_op muled_store_op;
int muled_store_stage(muled *d, const mule_node_result *res, mule_spool_fs_batch *b,
                      muled_store_op **out);
bool muled_store_audit(muled *d, const mule_node_result *res, const muled_store_op *op,
                       const mule_spool_fs_batch *b, const char *why);
void muled_store_withdraw(muled *d, const muled_store_op *op, const char *status);
int muled_store_finish(muled *d, const mule_node_result *res, muled_store_op *op,
                       const mule_spool_fs_batch *b, const char *why);
void muled_store_op_free(muled_store_op *op);
void muled_pickup_scan(muled *d);
void muled_pickup_recover(muled *d);
void muled_tx_start(muled *d, const mule_spool_info *info);
void muled_tx_event(muled *d, const pmul_event *ev);
void muled_tx_resume(muled *d);
void muled_tx_pump(muled *d);
void muled_tx_free_all(muled *d);
void muled_failed_resume(muled *d);
void muled_remove_finished(muled *d);
int muled_entry_mail(muled *d, const char *id, buf *file, buf *plain, bsmtp_envelope **env,
                     const uint8_t **content, size_t *len);
/* Read entry id into file and decode its stored envelope (no inflating):
 * *rcpts is allocated (free it), msg points into file.  group may be
 * NULL. */
int muled_entry_env(muled *d, const char *id, buf *file, mule_spool_msg *msg,
                    mule_spool_rcpt **rcpts, uint32_t *group);
/* One Postfix-like delivery line ("ID: to=<r>, relay=R, delay=D,
 * status=S (text)"), the form log tools for Postfix read. */
void muled_log_dlv(muled *d, const char *id, const char *rcpt, const char *relay,
                   double delay_s, const char *status, const char *text);
int muled_fail_targets(muled *d, const char *id, const size_t *tidx, const int *kinds,
                       const char *const *replies, size_t cnt);

bool muled_tx_cancel(muled *d, const char *id);

/* muled_audit.c: the audit log (docs/audit.md).  _load reads (or
 * creates) the key while muled may still be root; _open opens the log as
 * the user muled runs as.  A record that cannot be written is logged as an
 * error; mail flow never stops for the audit log. */
struct mule_audit_rec;
int muled_audit_load_key(muled *d);
int muled_audit_open(muled *d);
void muled_audit_close(muled *d);
void muled_audit_rec(muled *d, const struct mule_audit_rec *r);
/*
 * Group sync of the audit log.  Between _defer(d, true) and _defer(d,
 * false) records are written without their own fdatasync; they are durable
 * after the next synced record or once muled_audit_flush() calls back.
 * _flush runs one fdatasync on libuv's thread pool for everything written
 * so far (one at a time; waiters that come while it runs get the next
 * one) and then calls w->cb (w may be NULL: just start it).  The callback
 * comes from the loop, perhaps before _flush returns when nothing waits
 * for a sync; a failing sync is logged and still calls back (mail flow
 * never stops for the audit log).
 */
typedef struct muled_audit_waiter muled_audit_waiter;
struct muled_audit_waiter {
    void (*cb)(muled *d, muled_audit_waiter *w);
    muled_audit_waiter *next;
};
void muled_audit_defer(muled *d, bool on);
void muled_audit_flush(muled *d, muled_audit_waiter *w);
/*
 * The records written so far become durable in a sync the caller runs
 * (the SMTP group commit's one syncfs for q/ and the log, or an
 * fdatasync of the returned descriptor): _take returns a descriptor of
 * the log file, or -1 when nothing waits for a sync (or one taken is
 * still out); waiters of _flush that need those records ride on it.
 * _give(fd, ok) once that sync ended: closes fd, logs a failure, calls
 * the waiters back.  One at a time.
 */
int muled_audit_sync_take(muled *d);
void muled_audit_sync_give(muled *d, int fd, bool ok);
/* A record without message facts beyond the queue ID (they are in its
 * "accepted" record): dir/outcome are enum mule_audit_dir/_outcome. */
void muled_audit_note(muled *d, int dir, int outcome, const char *id, const char *dest,
                      const char *rcpt, const char *status);
/* An event without message facts: "event=NAME id=ID detail=...". */
void muled_audit_event(muled *d, const char *event, const char *id, const char *detail);

/* muled_priv.c: who muled runs as, privilege drop, confinement. */
int muled_priv_resolve(muled *d, char *err, size_t errlen);
int muled_priv_drop(muled *d);
void muled_notify(const char *state);

/* muled_ctl.c: mulectl's control socket. */
int muled_ctl_start(muled *d);
void muled_ctl_stop(muled *d);

/* muled_in.c */
void muled_rx_delivered(muled *d, const pmul_event *ev);
void muled_rx_discarded(muled *d, const pmul_event *ev);
void muled_dlv_start(muled *d, const mule_spool_info *info);
void muled_dlv_resume(muled *d);
void muled_dlv_cancel_all(muled *d);
bool muled_dlv_busy(muled *d, const char *id);

/* muled_smtpd.c: SMTP/LMTP listeners (smtpd_listen, lmtpd_listen). */
int muled_smtpd_start(muled *d);
void muled_smtpd_stop(muled *d);

/* muled_maildir.c: MULED_OK / MULED_TEMP / MULED_PERM, why = reply text. */
int muled_maildir_deliver(const char *root, const char *hostname, const char *rcpt,
                          const char *return_path, const uint8_t *content, size_t len,
                          const char *key, int64_t when_s, char *why, size_t whylen);

#endif
