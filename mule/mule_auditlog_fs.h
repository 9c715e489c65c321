/*
 * mule_auditlog_fs.h: the audit log on disk (records: mule_auditlog.h).
 *
 * A directory of files audit-YYYYMMDD.log, one per UTC day, appended to
 * only.  Each starts with a chain record, so the HMAC chain runs across
 * them; retention removes files older than N days and says so in a
 * record of its own (event=retention removed=...), which is how a verifier
 * tells a file retention removed from one somebody deleted.
 *
 * Durability (sync EVERY): each record is written with one write() and the
 * file fsync'd before append returns; a new file and a removal also fsync
 * the directory.  After a crash the last line may be torn (no line end):
 * open cuts it off and says so, verify reports it without failing.
 *
 * Deferred records (mule_auditlog_append_deferred): written the same way
 * but not synced; they become durable with the next synced append, with
 * mule_auditlog_sync_fd() + fdatasync (which the caller may run on another
 * thread, so one sync covers a whole batch of records without blocking
 * the thread that writes them), at a rotation and at close.
 */
#ifndef MULE_AUDITLOG_FS_H
#define MULE_AUDITLOG_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mule_auditlog mule_auditlog;

enum mule_auditlog_sync { MULE_AUDITLOG_SYNC_EVERY = 0, MULE_AUDITLOG_SYNC_NONE = 1 };

/*
 * Load the key from path: raw octets, 16..64 of them; refused
 * (MULE_ERR_AUDIT_KEY) unless a regular file that neither group nor others
 * may read or write.  create != 0: a missing file is made with 32 random
 * octets (RAND_bytes), mode 0400, file and directory fsync'd.
 */
int mule_auditlog_key_load(const char *path, int create, uint8_t *key, size_t keymax,
                           size_t *keylen);

/*
 * Open the log in dir (created 0750 if missing) and find where its chain
 * stands (the newest file's last record).  A torn last line is cut off
 * (*torn = 1, may be NULL).  Returns 0, MULE_ERR_INVAL, MULE_ERR_NOMEM,
 * MULE_ERR_AUDIT_IO, MULE_ERR_AUDIT_BAD (the newest file's last line is no
 * record: appending to it would be meaningless).
 */
int mule_auditlog_open(mule_auditlog **out, const char *dir, const uint8_t *key,
                       size_t keylen, unsigned retention_days, enum mule_auditlog_sync sync,
                       int64_t now_s, int *torn);

/*
 * Append one record (text: one line of printable text, <= 16 KiB).  Starts
 * a new file when now_s is on a later UTC day than the current file, and
 * then applies retention.  Returns 0, MULE_ERR_INVAL, MULE_ERR_AUDIT_IO,
 * MULE_ERR_AUDIT_CRYPTO; after an I/O error the file is cut back to its
 * last whole record.
 */
int mule_auditlog_append(mule_auditlog *a, int64_t now_s, const char *text);

/*
 * As append, but without the sync (sync EVERY): the record is durable only
 * once a later synced append, a sync_fd() + fdatasync, a rotation or close
 * has synced the file.  Same results.
 */
int mule_auditlog_append_deferred(mule_auditlog *a, int64_t now_s, const char *text);

/*
 * The file holds deferred records not yet synced: returns a new descriptor
 * of it (dup) and marks them as being synced; the caller runs fdatasync()
 * on it (any thread) and closes it, and the records are durable when that
 * fdatasync returns 0.  Returns -1 when nothing waits for a sync (or sync
 * NONE), MULE_ERR_AUDIT_IO when the descriptor cannot be made (then the
 * file was synced here instead, or the error stands: the records stay
 * marked unsynced).
 */
int mule_auditlog_sync_fd(mule_auditlog *a);

/* Records appended but not synced yet (sync EVERY; always false for NONE). */
bool mule_auditlog_unsynced(const mule_auditlog *a);

/* The last record's sequence number (0: none yet). */
uint64_t mule_auditlog_seq(const mule_auditlog *a);

void mule_auditlog_close(mule_auditlog *a);

typedef struct mule_auditlog_report {
    uint64_t records;           /* records whose MAC checked */
    uint64_t last_seq;          /* the last good record's number */
    size_t files;
    bool ok;                    /* the whole chain holds (a torn tail alone keeps it) */
    bool torn_tail;             /* the newest file ends in a partial line */
    char bad_file[256];         /* first bad record: its file ("" if none) */
    unsigned long bad_line;     /* and line (1-based) */
    char why[256];              /* "MAC mismatch ...", "sequence gap 12 -> 14", ... */
} mule_auditlog_report;

/*
 * Check every file of dir, oldest first (only reads: works on a copy,
 * without muled).  Returns 0 when dir could be read (rep->ok is the
 * verdict), MULE_ERR_AUDIT_IO or MULE_ERR_NOMEM otherwise.
 */
int mule_auditlog_verify_dir(const char *dir, const uint8_t *key, size_t keylen,
                             mule_auditlog_report *rep);

#endif
