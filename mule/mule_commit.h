/*
 * mule_commit.h: group commit for mail accepted over SMTP/LMTP (issue 10),
 * sans-I/O.  Decides which waiting mails are made durable together and
 * which reply each session gets once the batch is (or is not) on disk.
 *
 * The driver (tools/muled/muled_smtpd.c) pushes a token for each mail
 * whose DATA / BDAT LAST is complete, asks mule_commit_take() at the end
 * of each loop iteration (and at mule_commit_deadline()) whether a batch
 * starts, writes that batch (spool files, one sync, one directory fsync)
 * and reports each token's spool result with mule_commit_done(); the
 * replies then come out of mule_commit_poll(), one per token, in push
 * order.  One batch runs at a time: mails that arrive while it is being
 * written wait and form the next one, so the batch grows with the load
 * (the jbd2 / Postfix-less way of group commit) and nothing waits for a
 * timer when the spool is idle unless window_ms asks for it.
 *
 * No clock, no I/O: every entry point takes now_ms (monotonic).
 */
#ifndef MULE_COMMIT_H
#define MULE_COMMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pmul/util/mem.h"

typedef struct mule_commit_cfg {
    /* How long the first waiting mail may wait for others to join its
     * batch.  0: a batch takes what is ready when take() is called (the
     * end of the loop iteration that completed it), no added latency. */
    uint64_t window_ms;
    size_t max_batch;           /* mails per batch (0: 64) */
    size_t max_waiting;         /* mails waiting, in a batch or not (0: 4096) */
} mule_commit_cfg;

typedef struct mule_commit mule_commit;

/* A reply for one token (mule_commit_poll()). */
typedef struct mule_commit_reply {
    uint64_t token;
    int rc;                     /* the spool's result: 0 or a MULE_ERR_* */
    int code;                   /* 250, 452 or 554 */
    const char *enh;            /* "2.0.0", "4.3.1", "5.3.4" (static) */
    const char *text;           /* reply text (static) */
    bool cancelled;             /* the session left: send nothing, but
                                 * release what the driver holds for it */
} mule_commit_reply;

/* New scheduler.  cfg may be NULL (defaults), m NULL (libc).  Returns 0,
 * MULE_ERR_NOMEM. */
__attribute__((warn_unused_result))
int mule_commit_new(mule_commit **out, const mule_commit_cfg *cfg, const mem *m);
/* NULL is a no-op.  Tokens still held are forgotten (the driver frees
 * what it keeps for them). */
void mule_commit_free(mule_commit *c);

/*
 * A mail is ready to be made durable; token is the driver's (unique among
 * the tokens held).  Returns 0, or MULE_ERR_SPOOL_FULL_Q (max_waiting
 * reached: reply 452 4.3.1 at once), MULE_ERR_INVAL (token held already).
 */
__attribute__((warn_unused_result))
int mule_commit_push(mule_commit *c, uint64_t now_ms, uint64_t token);

/*
 * The session of token went away.  Returns true when the mail had not
 * joined a batch: it is forgotten and the driver frees it now.  false:
 * it is being written (or unknown); it stays durable if the batch
 * succeeds (the client, having no 250, may send it again: a possible
 * duplicate, never a loss) and poll() returns it with cancelled set.
 */
bool mule_commit_cancel(mule_commit *c, uint64_t token);

/*
 * Should a batch start at now_ms?  Copies up to cap tokens (at most
 * max_batch) into tokens and returns how many; they are now in the batch
 * and the driver must write them and call mule_commit_done().  Returns 0
 * while a batch is running, when nothing waits, or while the window of
 * the oldest waiting mail is open and the batch is not full.
 */
size_t mule_commit_take(mule_commit *c, uint64_t now_ms, uint64_t *tokens, size_t cap);

/* Monotonic ms at which take() would start a batch: UINT64_MAX when
 * nothing waits or a batch is running (its end is the next event). */
uint64_t mule_commit_deadline(const mule_commit *c);

/* Is a batch being written? */
bool mule_commit_busy(const mule_commit *c);

/*
 * The running batch ended: rc[i] is the spool result for the i-th token
 * take() returned (n must be that count).  Each mail gets its own verdict:
 * one failure does not fail the others.  A programming error (no batch,
 * wrong n) returns MULE_ERR_INVAL and changes nothing.
 */
__attribute__((warn_unused_result))
int mule_commit_done(mule_commit *c, const int *rc, size_t n);

/* Next reply to send; false when none. */
bool mule_commit_poll(mule_commit *c, mule_commit_reply *r);

/* The reply for a spool result (also for mails refused before a batch). */
void mule_commit_verdict(int rc, mule_commit_reply *r);

#endif
