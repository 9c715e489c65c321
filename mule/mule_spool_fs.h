/*
 * mule_spool_fs.h: the spool on disk (the only spool code doing I/O).
 *
 * Layout under spool_dir (docs/spool.md):
 *   tmp/      files being written; purged at open
 *   q/ID      one entry file per queued mail: creation section written to
 *             tmp/, fsync'd, renamed here, directory fsync'd; then an
 *             append-only, checksummed state journal, fdatasync'd per record
 *   node      the node journal (MSID high-water mark, MSNs, done set,
 *             EMCON), append-only; compacted by rewrite + rename
 *   corrupt/  files recovery could not read, moved aside and logged
 *
 * Every call returns only after the change is durable, and applies it to
 * the in-memory model (mule_spool_fs_core()) only then: a caller that acts
 * on a return of 0 acts on durable state (durability contract, issue 9).
 * Temporary failures (ENOSPC, EIO, short writes, ENOMEM) return
 * MULE_ERR_SPOOL_FULL / MULE_ERR_SPOOL_IO / MULE_ERR_NOMEM and leave disk
 * and model as they were: nothing accepted before is harmed, and the same
 * call works again once space returns.
 *
 * Typical use by the daemon: mule_spool_fs_open() at start (then
 * mule_spool_done_walk() for the engine's restore_done, mule_spool_emcon());
 * mule_spool_fs_submit() to accept mail (0: say 250 / accept the P_MUL
 * message; a temporary code: 4xx / defer); in the loop,
 * mule_spool_next_due() on mule_spool_fs_core() and, per due target,
 * mule_spool_fs_read() + mule_spool_decode_entry() for the envelope and
 * content, mule_spool_fs_msid_alloc() and mule_spool_fs_target_set(...
 * INFLIGHT ...) before handing it to the engine; engine events become
 * mule_spool_fs_target_set() (DONE, FAILED, TEMPFAIL); when
 * mule_spool_is_removable(), mule_spool_fs_done_add() (inbound) and then
 * mule_spool_fs_remove().
 *
 * All syscalls go through a mule_spool_fops table (default: POSIX), so
 * tests inject failures at every step and record the order of fsyncs.
 * Calls block (fsync); muled runs them on its loop, one at a time per
 * spool (the object is not thread-safe), except the steps documented as
 * "any thread" (mule_spool_fs_batch_write / _sync, mule_spool_fs_jbatch_sync),
 * which touch no shared state and run on libuv's pool meanwhile.
 */
#ifndef MULE_SPOOL_FS_H
#define MULE_SPOOL_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mule/mule_spool.h"
#include "pmul/util/buf.h"
#include "pmul/util/log.h"
#include "pmul/util/mem.h"

/*
 * File operations.  Each returns 0 (or a count) on success and a NEGATIVE
 * errno on failure (never -1 + errno).  dirfd-relative like the *at()
 * calls.  arg is the table's own argument.
 */
typedef struct mule_spool_fops {
    int (*openat)(void *arg, int dirfd, const char *path, int flags, int mode);
    ssize_t (*write)(void *arg, int fd, const void *p, size_t n);
    ssize_t (*pread)(void *arg, int fd, void *p, size_t n, off_t off);
    int (*fsync)(void *arg, int fd);        /* files (creation) and directories */
    int (*fdatasync)(void *arg, int fd);    /* journal appends */
    int (*close)(void *arg, int fd);
    int (*renameat)(void *arg, int odirfd, const char *old, int ndirfd, const char *new_);
    int (*unlinkat)(void *arg, int dirfd, const char *path);
    int (*ftruncate)(void *arg, int fd, off_t len);
    int (*fsize)(void *arg, int fd, uint64_t *len);   /* fstat st_size */
    int (*mkdirat)(void *arg, int dirfd, const char *path, int mode);
    /* Call fn(fn_arg, name) for each regular-looking entry of the directory
     * (not "." or ".."); fn's non-zero return stops and is returned. */
    int (*listdir)(void *arg, int dirfd, int (*fn)(void *fn_arg, const char *name),
                   void *fn_arg);
    void *arg;
    /* Optional (NULL: none): hint that dir/name will be read soon (the
     * POSIX table opens it and asks posix_fadvise(WILLNEED)); recovery
     * hints a window of files ahead so the disk reads them in parallel.
     * Failures are ignored.  Last, so tables written before it stay
     * valid. */
    void (*prefetch)(void *arg, int dirfd, const char *name);
    /* Optional (NULL: fsync each file): flush the whole filesystem that
     * holds fd (Linux syncfs(2), which reports writeback errors since
     * 5.8).  A group-commit batch of several files syncs them with one
     * call (one journal commit) instead of one fsync each. */
    int (*syncfs)(void *arg, int fd);
    /* Optional (NULL: never the same): the device (fstat st_dev) of the
     * filesystem holding fd, so a batch can tell whether a caller's file
     * (muled's audit log) is made durable by the same syncfs. */
    int (*fdev)(void *arg, int fd, uint64_t *dev);
} mule_spool_fops;

/* The POSIX table (openat, write, pread, fsync, fdatasync, ...). */
extern const mule_spool_fops mule_spool_fops_posix;

typedef struct mule_spool_fs mule_spool_fs;

/* Queue IDs of purged tmp/ files the scan lists (the rest are counted). */
#define MULE_SPOOL_SCAN_IDS 256

/* What the startup scan did (also logged line by line). */
typedef struct mule_spool_scan {
    size_t loaded;              /* entries now in the model */
    size_t corrupt;             /* files moved to corrupt/ */
    size_t torn;                /* journals truncated after a torn record */
    size_t tmp_purged;          /* leftovers removed from tmp/ */
    /* The first MULE_SPOOL_SCAN_IDS purged files named like a queue ID
     * (tmp/ID is an entry written and synced whose rename into q/ did not
     * survive: its mail was never acknowledged, but an "accepted" audit
     * record may name it; muled withdraws it, docs/spool.md). */
    size_t tmp_id_cnt;
    char tmp_ids[MULE_SPOOL_SCAN_IDS][MULE_SPOOL_ID_SIZE];
} mule_spool_scan;

typedef struct mule_spool_fs_cfg {
    const char *dir;            /* spool_dir; created if missing */
    const mule_spool_fops *fops;  /* NULL: mule_spool_fops_posix */
    const mule_spool_policy *policy;  /* NULL: defaults */
    const mem *m;               /* NULL: libc */
    const logger *log;          /* NULL: silent */
    size_t node_compact_recs;   /* compact node journal beyond this many
                                 * appended records (0: 4096) */
} mule_spool_fs_cfg;

/*
 * Open the spool: create the layout, purge tmp/, load the node journal,
 * scan q/ (corrupt files are moved to corrupt/ and logged, torn journal
 * tails truncated and logged), compact the node journal (done set pruned
 * at now_s).  scan may be NULL.  Returns 0, or MULE_ERR_SPOOL_IO /
 * MULE_ERR_SPOOL_FULL (cannot create or read the layout: the daemon does
 * not start), MULE_ERR_NOMEM, MULE_ERR_INVAL.
 */
__attribute__((warn_unused_result))
int mule_spool_fs_open(mule_spool_fs **out, const mule_spool_fs_cfg *cfg, int64_t now_s,
                       mule_spool_scan *scan);
/* Close files, free the model.  NULL is a no-op. */
void mule_spool_fs_free(mule_spool_fs *fs);

/* The model for read-only queries (mule_spool_next_due, info, ...). */
mule_spool *mule_spool_fs_core(mule_spool_fs *fs);

/*
 * Accept mail (contract line 1): write each message to tmp/, fsync it,
 * rename all into q/, fsync q/ once (group commit), add them to the model.
 * ids receives each new queue ID.  All or nothing: on failure no message
 * is accepted and no file is left.  Returns 0, or:
 *   MULE_ERR_SPOOL_FULL  disk full: refuse with a temporary error (4xx /
 *                        P_MUL defer) and try again later;
 *   MULE_ERR_SPOOL_IO    I/O error: same;
 *   MULE_ERR_NOMEM, MULE_ERR_SPOOL_FULL_Q (max_entries): same;
 *   MULE_ERR_INVAL       a message breaks a format limit: refuse permanently.
 */
__attribute__((warn_unused_result))
int mule_spool_fs_submit_batch(mule_spool_fs *fs, const mule_spool_msg *msgs, size_t n,
                               int64_t now_s, char (*ids)[MULE_SPOOL_ID_SIZE]);
__attribute__((warn_unused_result))
int mule_spool_fs_submit(mule_spool_fs *fs, const mule_spool_msg *msg, int64_t now_s,
                         char id[MULE_SPOOL_ID_SIZE]);

/*
 * Group commit across independent mails (SMTP sessions, issue 10).  Unlike
 * mule_spool_fs_submit_batch(), which is all or nothing, a batch holds
 * groups (one per mail: the entries one mule_node decision became); each
 * group is accepted or refused on its own, and the expensive parts run in
 * mule_spool_fs_batch_write() and _sync(), which touch no model state and
 * may run on another thread (libuv's pool) while the owner thread keeps
 * using the spool.  Sequence, for one batch at a time per spool:
 *
 *   owner:  mule_spool_fs_batch_new, _stage (per mail: IDs minted, files
 *           encoded in memory);
 *   any:    mule_spool_fs_batch_write (tmp/ files written; one syncfs, or
 *           an fsync per file; renames into q/; q/ NOT synced yet);
 *   owner:  mule_spool_fs_batch_result per group: 0 = renamed, waiting for
 *           the sync (muled writes its "accepted" audit records now, so
 *           the same sync makes them durable);
 *   any:    mule_spool_fs_batch_sync (ONE sync: fsync of q/, or a syncfs
 *           that also covers the caller's file);
 *   owner:  mule_spool_fs_batch_commit (each durable group added to the
 *           model), mule_spool_fs_batch_result per group, then _free.
 *
 * A group is accepted (final result 0) only when all its files were
 * synced, renamed and the sync after the renames succeeded: then the
 * caller may say 250.  A group that failed leaves no file (best effort
 * unlink; a file left by a crash in between is a possible duplicate, never
 * a loss: it was renamed and synced whole).
 */
typedef struct mule_spool_fs_batch mule_spool_fs_batch;

/* Returns 0, MULE_ERR_INVAL, MULE_ERR_NOMEM. */
__attribute__((warn_unused_result))
int mule_spool_fs_batch_new(mule_spool_fs *fs, mule_spool_fs_batch **out);
/* Stage one group of n entries; ids receives their queue IDs.  Returns
 * the group's index (>= 0), or MULE_ERR_INVAL (a format limit: refuse
 * permanently), MULE_ERR_NOMEM (temporary); a failed group is not staged
 * and the others are not affected. */
__attribute__((warn_unused_result))
int mule_spool_fs_batch_stage(mule_spool_fs_batch *b, const mule_spool_msg *msgs, size_t n,
                              int64_t now_s, char (*ids)[MULE_SPOOL_ID_SIZE]);
/* Write each file to tmp/, sync them (one syncfs, or an fsync each),
 * rename whole groups into q/ (blocking; any thread; one batch at a
 * time).  q/ is not synced: _sync does that. */
void mule_spool_fs_batch_write(mule_spool_fs_batch *b);
/*
 * Is fd on the spool's filesystem, so that _sync(b, fd) makes it durable
 * with one syncfs?  false when the fops lack syncfs or fdev, or fstat
 * fails.  Any thread.
 */
bool mule_spool_fs_same_fs(mule_spool_fs *fs, int fd);
/*
 * The group commit proper, after _write (blocking; any thread): ONE sync
 * for every renamed group.  also_fd -1: fsync(q/).  also_fd >= 0: a file
 * whose written data must become durable too (muled's audit log); on the
 * spool's filesystem (mule_spool_fs_same_fs) one syncfs makes both
 * durable, else fsync(q/) and then fdatasync(also_fd) (a caller that
 * wants the two concurrently passes -1 and syncs its file itself).  A
 * failing spool sync (fsync or syncfs) fails every renamed group (its
 * files are unlinked from q/).  Returns 0, or MULE_ERR_SPOOL_IO / _FULL:
 * the failing sync's (also_fd is not known durable; when it was only
 * also_fd's own fdatasync, the groups stand).  Once per batch; nothing
 * renamed and no also_fd: no sync, 0.
 */
int mule_spool_fs_batch_sync(mule_spool_fs_batch *b, int also_fd);
/* Add the durable groups to the model (owner thread, after _sync; a batch
 * written but never synced fails every group and leaves no file). */
void mule_spool_fs_batch_commit(mule_spool_fs_batch *b);
/* Group g's result after _write: 0 (renamed, not yet durable) or why it
 * failed; after _commit: 0 (durable, in the model), or
 * MULE_ERR_SPOOL_FULL / _IO / _FULL_Q / NOMEM (temporary).  MULE_ERR_INVAL:
 * no such group, or not written yet. */
int mule_spool_fs_batch_result(const mule_spool_fs_batch *b, size_t g);
/* Groups staged so far. */
size_t mule_spool_fs_batch_groups(const mule_spool_fs_batch *b);
/* Free; a batch never written leaves nothing on disk.  NULL: no-op. */
void mule_spool_fs_batch_free(mule_spool_fs_batch *b);

/*
 * Journal batch: state records of several entries and node records made
 * durable by ONE sync (muled's transmission start: the MSN and INFLIGHT
 * records of every mail a queue run starts).  Owner thread only.
 *
 * _target and _msn validate and encode a record (nothing written; the
 * entry is marked busy in the model so next_due skips it until the
 * commit).  _commit appends every record (in stage order) to its file,
 * then syncs once (syncfs when more than one file and the fops have it,
 * else fdatasync per file), and only then applies them all to the model
 * (contract line 3: durable, then applied).  All or nothing: on any
 * failure every touched file is cut back to its length before the batch,
 * nothing is applied, and the code is returned (MULE_ERR_SPOOL_IO /
 * _FULL, or a model code); the entries are due again either way.  Once
 * durable the batch stands: an MSN record the model cannot take for want
 * of memory is logged, not returned (the journal has it; the caller's
 * engine numbers on from what it sent).
 */
typedef struct mule_spool_fs_jbatch mule_spool_fs_jbatch;

/* Returns 0, MULE_ERR_INVAL, MULE_ERR_NOMEM. */
__attribute__((warn_unused_result))
int mule_spool_fs_jbatch_new(mule_spool_fs *fs, mule_spool_fs_jbatch **out);
/* Stage target idx of entry id -> *t (codes: mule_spool_prep_target,
 * MULE_ERR_NOMEM; one target at most once per batch). */
__attribute__((warn_unused_result))
int mule_spool_fs_jbatch_target(mule_spool_fs_jbatch *jb, const char *id, size_t idx,
                                const mule_spool_target *t, int64_t now_s);
/* Stage a node journal MSN record. */
__attribute__((warn_unused_result))
int mule_spool_fs_jbatch_msn(mule_spool_fs_jbatch *jb, uint32_t dest, uint32_t msn);
/* Records staged. */
size_t mule_spool_fs_jbatch_count(const mule_spool_fs_jbatch *jb);
/* Write, one sync, apply (see above).  Once per batch. */
__attribute__((warn_unused_result))
int mule_spool_fs_jbatch_commit(mule_spool_fs_jbatch *jb);
/*
 * The same in three steps, so the sync can run on another thread (muled:
 * libuv's pool) while the owner keeps using the spool:
 *   owner: _write   every record appended, nothing synced; a failure cuts
 *                   every file back and ends the batch (returned);
 *   any:   _sync    the one sync (touches nothing but the batch's
 *                   descriptors); its result is also kept for _finish;
 *   owner: _finish  durable: applied; else every entry file cut back and
 *                   nothing applied (its code returned).
 * Between _write and _finish the entries stay busy, and the node journal
 * is not compacted and takes no MSN record (mule_spool_fs_msn_set,
 * mule_spool_fs_node_compact: MULE_ERR_SPOOL_BUSY); other node records
 * are appended after the batch's.  If one was and the sync failed, the
 * batch's MSN records stay in the node journal and are applied (an MSN
 * skipped, never one reused); the entries' records are not.  One batch
 * written at a time per spool (_write: MULE_ERR_INVAL otherwise).
 */
__attribute__((warn_unused_result))
int mule_spool_fs_jbatch_write(mule_spool_fs_jbatch *jb);
int mule_spool_fs_jbatch_sync(mule_spool_fs_jbatch *jb);
__attribute__((warn_unused_result))
int mule_spool_fs_jbatch_finish(mule_spool_fs_jbatch *jb);
/* Free (uncommitted records are dropped, their entries not busy any more;
 * a batch written but not finished is cut back as a failed one).  NULL:
 * no-op. */
void mule_spool_fs_jbatch_free(mule_spool_fs_jbatch *jb);

/* Move target idx of entry id to *t (contract line 3: durable, then
 * applied).  Codes: as mule_spool_prep_target, plus the temporary
 * MULE_ERR_SPOOL_IO / _FULL / NOMEM, and MULE_ERR_SPOOL_BUSY while the
 * entry has records in an uncommitted journal batch (so for _flag too). */
__attribute__((warn_unused_result))
int mule_spool_fs_target_set(mule_spool_fs *fs, const char *id, size_t idx,
                             const mule_spool_target *t, int64_t now_s);

/* Operator actions: op 'h' hold, 'r' release, 'd' delete (see mule_spool.h). */
__attribute__((warn_unused_result))
int mule_spool_fs_flag(mule_spool_fs *fs, const char *id, int op);

/* Remove a removable entry (unlink, fsync q/, drop from the model).
 * Returns 0, or MULE_ERR_SPOOL_NOENT, MULE_ERR_SPOOL_BUSY (targets still
 * have work), MULE_ERR_SPOOL_IO. */
__attribute__((warn_unused_result))
int mule_spool_fs_remove(mule_spool_fs *fs, const char *id);

/* Read entry id's whole file into out (reset first) for
 * mule_spool_decode_entry().  Returns 0, MULE_ERR_SPOOL_NOENT,
 * MULE_ERR_SPOOL_IO, MULE_ERR_NOMEM. */
__attribute__((warn_unused_result))
int mule_spool_fs_read(mule_spool_fs *fs, const char *id, buf *out);

/* Node state, each durable before it returns. */
/* Next MSID, never reused after a restart (a block is reserved durably
 * when the previous one runs out). */
__attribute__((warn_unused_result))
int mule_spool_fs_msid_alloc(mule_spool_fs *fs, uint32_t *msid);
__attribute__((warn_unused_result))
int mule_spool_fs_msn_set(mule_spool_fs *fs, uint32_t dest, uint32_t msn);
/* Remember a received message (before its inbound entry is removed, so a
 * retransmission after the removal is answered with a complete Ack and not
 * delivered again: contract line 4). */
__attribute__((warn_unused_result))
int mule_spool_fs_done_add(mule_spool_fs *fs, uint32_t src, uint32_t msid, int64_t expiry_s);
__attribute__((warn_unused_result))
int mule_spool_fs_emcon_set(mule_spool_fs *fs, bool on, int64_t since_s);
/* Rewrite the node journal from the model (done set pruned at now_s):
 * tmp, fsync, rename, fsync directory.  Called by open and automatically
 * when the journal grows past node_compact_recs. */
__attribute__((warn_unused_result))
int mule_spool_fs_node_compact(mule_spool_fs *fs, int64_t now_s);

#endif
