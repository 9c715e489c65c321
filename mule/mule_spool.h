/*
 * mule_spool.h: the crash-safe spool of muled, sans-I/O part.
 *
 * Three things live here, none of which touches a file, a clock or a
 * random source (style.md 0):
 *   1. the spool file format: ONE encoder and ONE parser (on pmul/util/cur)
 *      for entry files and the node journal (docs/spool.md, byte by byte);
 *   2. the queue model: entries (outbound and inbound mail), their targets
 *      (outbound: P_MUL destination nodes; inbound: local recipients), the
 *      target state machine, hold/release/delete, priority order,
 *      exponential back-off and lifetime, "what is due now";
 *   3. recovery: mule_spool_load() rebuilds the model from the bytes the
 *      adapter read at startup and says what is corrupt or torn.
 *   Plus the node state: MSID high-water mark, last Message_Sequence_Number
 *   per destination, the "done" set of received (source, MSID, expiry),
 *   EMCON on/off since when.
 *
 * Programs normally use mule_spool_fs.h (the adapter that makes every
 * change durable before it is applied here) and call only the read-only
 * queries below on mule_spool_fs_core().  Every mutation of the model goes
 * through a journal record: the adapter asks this module to encode the
 * record (which also validates the transition), writes it durably, then
 * applies the very same bytes with mule_spool_apply().  Recovery applies the
 * records read from disk through the same function, so a live change and
 * its replay after a restart cannot disagree.
 *
 * Memory: the index holds no message body, no envelope text; per entry a
 * fixed struct plus one small struct per target (see mule_spool_mem_bytes).
 */
#ifndef MULE_SPOOL_H
#define MULE_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mule/mule_err.h"
#include "pmul/util/buf.h"
#include "pmul/util/mem.h"

/* Queue IDs: MULE_SPOOL_ID_LEN characters of [0-9A-Z], NUL-terminated in a
 * char[MULE_SPOOL_ID_SIZE].  They are the file names under q/ and the ID in
 * every log line. */
#define MULE_SPOOL_ID_LEN   12
#define MULE_SPOOL_ID_SIZE  (MULE_SPOOL_ID_LEN + 1)

/* Format limits (also the parser's caps: a file claiming more is corrupt). */
#define MULE_SPOOL_MAX_TARGETS   4096u        /* destinations or recipients */
#define MULE_SPOOL_MAX_RCPTS     4096u
#define MULE_SPOOL_MAX_DESTS     4096u        /* inbound P_MUL destination list */
#define MULE_SPOOL_MAX_STR       65535u       /* address, parameters */
#define MULE_SPOOL_MAX_CONTENT   ((size_t)256 << 20)
#define MULE_SPOOL_REC_MAX       64u          /* largest journal record, whole */

/* Entry kinds. */
enum mule_spool_kind {
    MULE_SPOOL_OUT = 1,         /* to send over P_MUL; targets = destination nodes */
    MULE_SPOOL_IN = 2,          /* received over P_MUL; targets = local recipients */
};

/* What the content bytes are. */
enum mule_spool_content {
    MULE_SPOOL_C_MESSAGE = 1,   /* RFC 5322 message (envelope in the entry) */
    MULE_SPOOL_C_PAYLOAD = 2,   /* an already built P_MUL payload (MULE CDT) */
};

/*
 * Target states.  Legal transitions (anything else: MULE_ERR_SPOOL_STATE):
 *
 *   PENDING  -> INFLIGHT (OUT: msid, msn, expiry assigned; IN: being
 *               handed to the MTA; a restart puts IN targets found
 *               INFLIGHT back to PENDING)
 *   PENDING  -> DONE | TEMPFAIL | FAILED
 *   INFLIGHT -> DONE (acked) | FAILED | PENDING (engine gave it back) |
 *               TEMPFAIL (retry later)
 *   TEMPFAIL -> TEMPFAIL (one more attempt) | INFLIGHT | DONE | FAILED
 *   FAILED   -> DSN_SENT (DSN queued, or none required)
 *   DONE, DSN_SENT: final.
 *
 * OUT: DONE = acked by the destination.  IN: DONE = delivered (the MTA or
 * the fsync'd Maildir took it).  FAILED carries a reason; the DSN it owes
 * is the daemon's to send, after which it marks DSN_SENT.
 */
enum mule_spool_tstate {
    MULE_SPOOL_T_PENDING = 0,
    MULE_SPOOL_T_INFLIGHT = 1,
    MULE_SPOOL_T_DONE = 2,
    MULE_SPOOL_T_TEMPFAIL = 3,
    MULE_SPOOL_T_FAILED = 4,
    MULE_SPOOL_T_DSN_SENT = 5,
};

/* Entry flags (operator actions; the mulectl issue drives them).
 * HELD: never due; DELETED: removable whatever its targets say (the daemon
 * cancels what is in flight, sends no DSN).  Transitions: hold on a
 * non-deleted entry, release on a held one, delete on any non-deleted. */
#define MULE_SPOOL_F_HELD     0x01u
#define MULE_SPOOL_F_DELETED  0x02u

/* A byte string: pointer + length (not NUL-terminated).  In decoded views
 * it points into the caller's file bytes. */
typedef struct mule_spool_str {
    const char *p;
    size_t len;
} mule_spool_str;

typedef struct mule_spool_rcpt {
    mule_spool_str addr;        /* RCPT TO address (without <>) */
    mule_spool_str params;      /* RCPT parameters ("NOTIFY=... ORCPT=...") */
} mule_spool_rcpt;

/*
 * A new entry, as given to mule_spool_encode_entry() (and, decoded, as
 * returned by mule_spool_decode_entry()).  All pointers are borrowed.
 */
typedef struct mule_spool_msg {
    uint8_t kind;               /* MULE_SPOOL_OUT / MULE_SPOOL_IN */
    uint8_t content_kind;       /* MULE_SPOOL_C_* */
    int8_t priority;            /* MT-PRIORITY -9..9; higher goes first */
    int64_t arrival_s;          /* wall clock of acceptance */
    int64_t expiry_s;           /* lifetime end (wall clock): DELIVERBY or
                                 * the configured lifetime; for IN the P_MUL
                                 * Expiry_Time */
    uint32_t src_node;          /* IN: P_MUL source node; OUT: 0 */
    uint32_t msid;              /* IN: the P_MUL MSID; OUT: 0 */
    mule_spool_str mail_from;   /* reverse path (may be empty: <>) */
    mule_spool_str mail_params; /* MAIL parameters */
    const mule_spool_rcpt *rcpts;
    size_t rcpt_cnt;            /* 0 .. MULE_SPOOL_MAX_RCPTS */
    /* OUT: the P_MUL destination node of each target; IN: NULL (target i
     * is recipient i, so target_cnt must equal rcpt_cnt). */
    const uint32_t *target_nodes;
    size_t target_cnt;          /* 1 .. MULE_SPOOL_MAX_TARGETS */
    /* IN: the P_MUL message's destination list (for relay); OUT: one
     * element, the IPv4 multicast group to send on (0: the default). */
    const uint32_t *dests;
    size_t dest_cnt;
    const uint8_t *content;
    size_t content_len;         /* 0 .. MULE_SPOOL_MAX_CONTENT */
} mule_spool_msg;

/* The state of one target, as kept in the index and in journal records. */
typedef struct mule_spool_target {
    uint8_t state;              /* MULE_SPOOL_T_* */
    uint16_t attempts;          /* TEMPFAIL count so far */
    int32_t reason;             /* FAILED/TEMPFAIL: a MULE/BSMTP/PMUL error
                                 * code or an SMTP reply code; else 0 */
    uint32_t node;              /* OUT: destination node; IN: 0 (immutable) */
    uint32_t msid;              /* OUT, INFLIGHT and later: the MSID */
    uint32_t msn;               /* OUT, INFLIGHT and later: its
                                 * Message_Sequence_Number to this node */
    int64_t next_try_s;         /* PENDING/TEMPFAIL: not before this */
} mule_spool_target;

/* Back-off and lifetime policy (the daemon's configuration). */
typedef struct mule_spool_policy {
    uint32_t backoff_min_s;     /* first retry delay (default 60) */
    uint32_t backoff_max_s;     /* cap (default 3600) */
    uint32_t msid_block;        /* MSIDs reserved per durable step (default 1024) */
    size_t max_entries;         /* refuse beyond this (0: 1,000,000) */
} mule_spool_policy;

typedef struct mule_spool mule_spool;

/* ---- model lifetime ------------------------------------------------- */

/* New empty model.  pol may be NULL (defaults); m may be NULL (libc).
 * Returns 0 or MULE_ERR_NOMEM. */
__attribute__((warn_unused_result))
int mule_spool_new(mule_spool **out, const mule_spool_policy *pol, const mem *m);
void mule_spool_free(mule_spool *sp);

/* ---- file format ----------------------------------------------------- */

/*
 * Encode the creation section of an entry file (file header, META, ENV,
 * RCPT, TARGET, DEST, BODY records, END) for msg under queue ID id,
 * appending to out.  Returns 0, or MULE_ERR_INVAL (a field outside the
 * limits above; nothing appended), MULE_ERR_NOMEM.
 */
__attribute__((warn_unused_result))
int mule_spool_encode_entry(const mule_spool_msg *msg, const char *id, buf *out);

/*
 * Decode an entry file's creation section (one parser for recovery and for
 * the daemon reading a body back).  *msg points into bytes (borrowed: it
 * must outlive the view); rcpts, target_nodes and dests are written to the
 * caller's arrays rcpt_buf (rcpt_cap), node_buf and dest_buf (node_cap each;
 * NULL/0 to skip: then msg->rcpts etc. are NULL but the counts are set).
 * Returns 0, or MULE_ERR_SPOOL_VERSION, MULE_ERR_SPOOL_CORRUPT (bad magic,
 * checksum, record, limit or a missing END), MULE_ERR_NOSPACE (caller's
 * arrays too small).
 */
__attribute__((warn_unused_result))
int mule_spool_decode_entry(const uint8_t *bytes, size_t len, mule_spool_msg *msg,
                            char id[MULE_SPOOL_ID_SIZE],
                            mule_spool_rcpt *rcpt_buf, size_t rcpt_cap,
                            uint32_t *node_buf, uint32_t *dest_buf, size_t node_cap);

/* The 8-octet header of the node journal (the adapter writes it when it
 * creates the file).  out must hold MULE_SPOOL_HDR_LEN octets. */
#define MULE_SPOOL_HDR_LEN 8u
void mule_spool_node_header(uint8_t out[MULE_SPOOL_HDR_LEN]);

/* ---- recovery -------------------------------------------------------- */

/* What mule_spool_load() found in one file. */
typedef struct mule_spool_load_res {
    int err;                    /* 0, or why the file is corrupt */
    size_t good_len;            /* octets up to the last whole record: the
                                 * adapter truncates a torn journal tail
                                 * there (good_len < file length) */
    char id[MULE_SPOOL_ID_SIZE];
} mule_spool_load_res;

/*
 * Add one entry file read at startup (bytes[0..len), name its file name)
 * to the model: decode the creation section, then replay the journal
 * records after END.  A torn last journal record (a crash during an append
 * that was never reported durable) is not corruption: the entry is loaded
 * from the records before it and res->good_len says where to truncate.
 * Returns 0, or:
 *   MULE_ERR_SPOOL_CORRUPT / _VERSION: nothing added; move it to corrupt/;
 *   MULE_ERR_SPOOL_EXISTS: an entry with that ID is loaded already (corrupt);
 *   MULE_ERR_SPOOL_FULL_Q: policy max_entries reached (keep file, temp);
 *   MULE_ERR_NOMEM: nothing added (retry the scan).
 */
__attribute__((warn_unused_result))
int mule_spool_load(mule_spool *sp, const char *name, const uint8_t *bytes, size_t len,
                    mule_spool_load_res *res);

/* The node journal read at startup.  Same contract as mule_spool_load()
 * (a torn tail: good_len).  After it, MSIDs restart at the reserved
 * high-water mark, so none handed out before the crash is reused. */
__attribute__((warn_unused_result))
int mule_spool_load_node(mule_spool *sp, const uint8_t *bytes, size_t len,
                         mule_spool_load_res *res);

/* ---- journal records (used by mule_spool_fs; tests use them too) ----- */

/* One encoded journal record (checksummed, self-delimiting). */
typedef struct mule_spool_rec {
    uint8_t b[MULE_SPOOL_REC_MAX];
    size_t len;
} mule_spool_rec;

/*
 * Prepare the record that moves target idx of entry id to *t at now_s:
 * validate the transition (and that the entry exists and is not deleted),
 * fill in what the model derives (attempts, next_try_s for TEMPFAIL by
 * back-off; node is kept), encode it into *rec.  Nothing changes until
 * mule_spool_apply(sp, id, rec).  Returns 0, or MULE_ERR_SPOOL_NOENT,
 * MULE_ERR_SPOOL_STATE (illegal transition), MULE_ERR_INVAL.
 */
__attribute__((warn_unused_result))
int mule_spool_prep_target(const mule_spool *sp, const char *id, size_t idx,
                           const mule_spool_target *t, int64_t now_s, mule_spool_rec *rec);
/* Prepare a flag change: op is 'h' (hold), 'r' (release), 'd' (delete). */
__attribute__((warn_unused_result))
int mule_spool_prep_flag(const mule_spool *sp, const char *id, int op, mule_spool_rec *rec);
/* Node records. */
void mule_spool_prep_msid_hw(uint32_t hw, mule_spool_rec *rec);
void mule_spool_prep_msn(uint32_t dest, uint32_t msn, mule_spool_rec *rec);
void mule_spool_prep_done(uint32_t src, uint32_t msid, int64_t expiry_s, mule_spool_rec *rec);
void mule_spool_prep_emcon(bool on, int64_t since_s, mule_spool_rec *rec);

/* Apply a record made durable (id: the entry; NULL for node records).
 * Returns 0, or MULE_ERR_SPOOL_NOENT / _STATE / _CORRUPT (the record does
 * not fit the model; a bug if it came from a prep_* call), MULE_ERR_NOMEM. */
__attribute__((warn_unused_result))
int mule_spool_apply(mule_spool *sp, const char *id, const uint8_t *rec, size_t len);

/* Add a new entry to the model after its file became durable (the adapter
 * calls it with the bytes it encoded).  Same codes as mule_spool_load(). */
__attribute__((warn_unused_result))
int mule_spool_add(mule_spool *sp, const uint8_t *bytes, size_t len);

/* Drop an entry from the model (after its file was unlinked durably). */
void mule_spool_drop(mule_spool *sp, const char *id);

/* Mint a fresh queue ID (not in the index) from now_s and an internal
 * counter.  Deterministic; no randomness. */
void mule_spool_mint_id(mule_spool *sp, int64_t now_s, char id[MULE_SPOOL_ID_SIZE]);
/* Mint no ID with a time part before floor_s.  mule_spool_fs_open() sets
 * it to the second after the open, so an ID is never minted again after a
 * restart (the counter restarts; the time part cannot repeat unless the
 * clock steps back): muled's Maildir names and log lines rely on it. */
void mule_spool_mint_floor(mule_spool *sp, int64_t floor_s);

/* MSID allocation: returns 0 and the next MSID in *msid, or
 * MULE_ERR_SPOOL_RESERVE when the reserved block is used up: the adapter
 * makes mule_spool_prep_msid_hw(mule_spool_msid_want(sp)) durable, applies
 * it and calls again. */
__attribute__((warn_unused_result))
int mule_spool_msid_next(mule_spool *sp, uint32_t *msid);
uint32_t mule_spool_msid_want(const mule_spool *sp);

/* ---- read-only queries ----------------------------------------------- */

/* Entry summary (no body, no envelope: read the file for those). */
typedef struct mule_spool_info {
    char id[MULE_SPOOL_ID_SIZE];
    uint8_t kind;
    int8_t priority;
    uint8_t flags;              /* MULE_SPOOL_F_* */
    int64_t arrival_s;
    int64_t expiry_s;
    uint32_t src_node, msid;    /* IN */
    size_t target_cnt;
    uint64_t file_len;          /* bytes of the entry file: creation section
                                 * and journal records applied so far */
} mule_spool_info;

size_t mule_spool_count(const mule_spool *sp);
/* Returns 0, or MULE_ERR_SPOOL_NOENT. */
__attribute__((warn_unused_result))
int mule_spool_info_get(const mule_spool *sp, const char *id, mule_spool_info *info);
__attribute__((warn_unused_result))
int mule_spool_target_get(const mule_spool *sp, const char *id, size_t idx,
                          mule_spool_target *t);
/* Iterate entries in index order: *pos starts at 0; returns false at the end. */
bool mule_spool_iter(const mule_spool *sp, size_t *pos, mule_spool_info *info);

/* True when every target is DONE or DSN_SENT, or the entry is DELETED:
 * its file may go (contract line 3 and 5: states are durable first). */
bool mule_spool_is_removable(const mule_spool *sp, const char *id);

/*
 * The most urgent entry with work due at now_s: highest priority first,
 * then oldest arrival, then ID.  An entry is due when it is not held or
 * deleted and some target is PENDING or TEMPFAIL with next_try_s <= now_s,
 * or such a target passed expiry_s (the daemon fails it: reason EXPIRED).
 * Returns true and fills *info; false when nothing is due.  Each call
 * costs O(log n) amortised; an entry is returned again until its targets
 * change, so the daemon moves each due target on (INFLIGHT, TEMPFAIL, ...).
 */
bool mule_spool_next_due(mule_spool *sp, int64_t now_s, mule_spool_info *info);
/* Mark entry id busy (a change to it is staged and being made durable:
 * next_due skips it) or not busy (due again by its targets).  The model
 * only; nothing of it is in the journal.  Returns 0, MULE_ERR_INVAL,
 * MULE_ERR_SPOOL_NOENT. */
int mule_spool_busy_set(mule_spool *sp, const char *id, bool busy);
bool mule_spool_is_busy(const mule_spool *sp, const char *id);
/* Earliest wall-clock second at which something becomes due (for the
 * daemon's timer); INT64_MAX when nothing waits. */
int64_t mule_spool_next_deadline(mule_spool *sp);

/* Operator's "flush": make every waiting (PENDING/TEMPFAIL) target of
 * entry id, or of every entry when id is NULL, due at now_s.  Held and
 * deleted entries stay as they are.  Only the model changes: after a
 * restart the journal's retry times apply again, which is safe (a flush
 * only ever brings work forward).  Returns the number of targets moved. */
size_t mule_spool_flush(mule_spool *sp, const char *id, int64_t now_s);

/* Back-off for the attempt-th retry: backoff_min_s * 2^(attempt-1),
 * capped at backoff_max_s. */
uint32_t mule_spool_backoff_s(const mule_spool *sp, uint32_t attempt);

/* Node state. */
bool mule_spool_emcon(const mule_spool *sp, int64_t *since_s);
/* Last Message_Sequence_Number persisted for dest (0: none). */
uint32_t mule_spool_msn(const mule_spool *sp, uint32_t dest);
/* Is (src, msid) in the done set? */
bool mule_spool_done_has(const mule_spool *sp, uint32_t src, uint32_t msid);
/* Visit the done set (for the engine's restore_done): fn gets each stored
 * (src, msid_first, msid_last, expiry_s) range; a non-zero return stops. */
typedef int (*mule_spool_done_fn)(void *arg, uint32_t src, uint32_t msid_first,
                                  uint32_t msid_last, int64_t expiry_s);
int mule_spool_done_walk(const mule_spool *sp, mule_spool_done_fn fn, void *arg);
/* Forget done ranges whose expiry passed (the node journal compaction
 * calls it). */
void mule_spool_done_prune(mule_spool *sp, int64_t now_s);
/* Encode the whole node state as a fresh node journal (header + records):
 * compaction writes it with rename.  Returns 0 or MULE_ERR_NOMEM. */
__attribute__((warn_unused_result))
int mule_spool_node_snapshot(const mule_spool *sp, buf *out);

/* Bytes of memory the index uses now (for the RSS report). */
size_t mule_spool_mem_bytes(const mule_spool *sp);

#endif
