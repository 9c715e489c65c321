/*
 * mule_relay.h: the MULE relay algorithm (RFC 8494 section 3, steps 3-6).
 *
 * Given one message (a parsed BSMTP envelope and its content, or the raw
 * BSMTP-like payload), this node's identity, the routing table and the
 * time, decide per recipient what happens to it and produce everything the
 * caller must then do:
 *
 *   - one P_MUL message per distinct next ACP 142 destination (same group
 *     and same node set), each with a BSMTP-like payload holding only that
 *     destination's RCPT-lines (step 6A), the P_MUL priority octet
 *     (6 - MT-PRIORITY, clamped to 0..15; spec README decision 4) and the
 *     expiry time (now + default, shortened by a BY;R deadline; decision
 *     11);
 *   - the local-delivery part (recipients this node delivers itself);
 *   - the recipients that failed (no route, BY;R deadline passed, mail
 *     loop) or must be reported as delayed (BY;N deadline passed), for a
 *     DSN built with mule_relay_dsn();
 *   - the recipients left to other nodes (not this node's responsibility).
 *
 * A Received field "... with MULE ..." goes on top of the content (step
 * 4).  MAIL and RCPT parameters, including ones we do not know, are
 * passed on unchanged (section 3.3), except BY, whose by-time is reduced
 * by the time the message spent here (RFC 2852 4).
 *
 * Responsibility (step 3), for a message that came in over P_MUL
 * (in_dests given): a recipient is this node's when its route is local,
 * or when its route names at least one node that is neither this node nor
 * an addressee of the inbound message (those got it directly); only
 * those remaining nodes are sent to.  A recipient without any route is
 * ours (and fails) only if this node was the only addressee; otherwise
 * another addressee is assumed to handle it.  For a message from SMTP
 * (in_dests NULL) every recipient is ours.  A route whose node list
 * contains this node's own ID means local delivery here.
 *
 * Compression (step 6B): when cfg->cdt is set, each payload is returned
 * already wrapped by mule_cdt_encode() (CompressedData, BER); when it is
 * NULL, payloads are plain BSMTP-like payloads and the caller compresses.
 *
 * Pure: no clock, no I/O; the caller passes now and the date text.
 */
#ifndef MULE_RELAY_H
#define MULE_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bsmtp/bsmtp_payload.h"
#include "mule/mule_cdt.h"
#include "mule/mule_dsn.h"
#include "mule/mule_route.h"
#include "pmul/util/buf.h"
#include "pmul/util/log.h"
#include "pmul/util/mem.h"

/* Defaults for mule_relay_config fields left 0. */
#define MULE_RELAY_DEFAULT_EXPIRY_S   (24 * 3600)   /* README decision 11 */
#define MULE_RELAY_DEFAULT_MAX_HOPS   100           /* RFC 5321 6.3 */
/* P_MUL priority without MT-PRIORITY (6 - 0), and its range. */
#define MULE_RELAY_PRIORITY_DEFAULT   6
#define MULE_RELAY_PRIORITY_MAX       15

typedef struct mule_relay_config {
    const char *hostname;       /* this node: Received "by" (required) */
    uint32_t node_id;           /* this node's P_MUL ID; never sent to */
    int64_t default_expiry_s;   /* P_MUL lifetime; 0: 24 h */
    unsigned max_hops;          /* more Received fields: loop (5.4.6);
                                 * 0: 100 */
    const bsmtp_limits *limits; /* for parsing payloads; NULL: defaults */
    const mule_cdt_config *cdt; /* non-NULL: output CompressedData */
    size_t payload_max;         /* cap per output payload; 0: none */
} mule_relay_config;

/* One message to relay.  Everything is borrowed for the call. */
typedef struct mule_relay_input {
    /* Either a parsed envelope and its content ... */
    const bsmtp_envelope *env;
    const uint8_t *content;     /* RFC 5322 message */
    size_t content_len;
    /* ... or (env NULL) the raw BSMTP-like payload, parsed here. */
    const uint8_t *payload;
    size_t payload_len;
    const char *from;           /* previous hop for "Received: from", or NULL */
    const char *id;             /* our ID of the message for "id", or NULL */
    int64_t now_s;              /* Unix seconds */
    const char *now_date;       /* now as RFC 5322 date-time (required) */
    int64_t arrival_s;          /* when it reached this node (BY is counted
                                 * from here); 0: now_s */
    const uint32_t *in_dests;   /* P_MUL destinations of the inbound
                                 * message; NULL: it came from SMTP */
    size_t in_dest_cnt;
    uint32_t in_src;            /* the inbound message's transmitter (it has
                                 * the message: never sent back to it; a
                                 * route leading only back there fails as
                                 * a loop, 5.4.6); 0: none */
} mule_relay_input;

/* One P_MUL message to send. */
typedef struct mule_relay_out {
    uint32_t group;             /* IPv4 multicast group, host byte order */
    uint32_t *nodes;            /* destination node IDs, ascending (owned) */
    size_t node_cnt;
    uint8_t priority;           /* P_MUL Priority octet */
    int64_t expiry_s;           /* P_MUL Expiry_Time, Unix seconds */
    buf payload;                /* BSMTP payload, or CompressedData if
                                 * compressed (owned) */
    bool compressed;
    size_t *rcpt_idx;           /* recipients (indexes into the envelope) */
    size_t rcpt_cnt;
} mule_relay_out;

/* What happened to a recipient that is not simply relayed or delivered. */
typedef struct mule_relay_note {
    size_t rcpt_idx;            /* index into the envelope's rcpts */
    enum mule_dsn_kind kind;    /* NO_ROUTE, EXPIRED, LOOP: failed;
                                 * DELAYED: relayed late, report delay */
} mule_relay_note;

typedef struct mule_relay_result {
    bsmtp_envelope *env;        /* the input envelope (parsed here, or a
                                 * copy of the caller's); owned */
    buf content;                /* Received field + original content */
    mule_relay_out *outs;       /* one per destination (owned) */
    size_t out_cnt;
    bsmtp_envelope *local_env;  /* local recipients only, or NULL (owned);
                                 * its content is `content` */
    size_t *local_idx;
    size_t local_cnt;
    mule_relay_note *notes;     /* failures and delays (owned) */
    size_t note_cnt;
    size_t skipped_cnt;         /* recipients left to other nodes */
    size_t failed_cnt;          /* notes that are failures */
    uint8_t priority;           /* for all outs */
    bool priority_clamped;
    int64_t expiry_s;           /* for all outs */
    bool deadline_passed;       /* the BY deadline was already over */
    const mem *m;
} mule_relay_result;

/*
 * Run steps 3-6 for one message.  *res is initialised here; on success the
 * caller owns it (mule_relay_result_fini()).  routes is borrowed; nothing
 * in *res points into it, so the table may be swapped and freed right
 * after the call.  lg (NULL: silent) gets a warning when the priority is
 * clamped and one info line per message.
 *
 * Returns 0 (then look at outs, local_env and notes; a result with only
 * failures still needs its DSN), or one of:
 *   MULE_ERR_NOT_RESPONSIBLE  no recipient is this node's: drop the
 *                             message (step 3; it is not an error);
 *   a BSMTP_ERR_* code        (bsmtp_is_err(), passed through unchanged)
 *                             the payload or a recipient does not parse:
 *                             handle it as an undeliverable MULE message
 *                             (log the code's name, keep);
 *   MULE_ERR_INVAL            missing cfg->hostname, now_date, input;
 *   BSMTP_ERR_CAP             a payload exceeds cfg->payload_max (bsmtp
 *                             hit the cap while building it); with
 *                             cfg->cdt, MULE_ERR_NOSPACE for the same;
 *   MULE_ERR_NOMEM, or a mule_cdt_encode() error: temp-fail, retry.
 * On error *res holds nothing.
 */
__attribute__((warn_unused_result))
int mule_relay_run(const mule_relay_config *cfg, const mule_route_table *routes,
                   const mule_relay_input *in, const mem *m, const logger *lg,
                   mule_relay_result *res);

/* Free everything in *res.  Safe on a zeroed or failed result. */
void mule_relay_result_fini(mule_relay_result *res);

/*
 * Build the DSN for the notes of res (failures, and delays NOTIFY asked
 * for), addressed to the FROM-line return path.  dcfg gives this node's
 * name, the DSN's Date and Message-ID; arrival_date is when the message
 * arrived here (RFC 5322 text).  The returned message is res->content.
 *
 * Returns 0 (the caller sends *out as a new MULE message with
 * mule_dsn_payload(), then mule_dsn_fini()), or the codes of
 * mule_dsn_build(): MULE_ERR_DSN_NULL_SENDER and
 * MULE_ERR_DSN_NOT_REQUESTED mean "no DSN is due", and MULE_ERR_INVAL is
 * also returned when res has no notes.
 */
__attribute__((warn_unused_result))
int mule_relay_dsn(const mule_relay_result *res, const mule_dsn_config *dcfg,
                   const char *arrival_date, const logger *lg, mule_dsn *out);

/*
 * The P_MUL priority octet for an envelope: 6 - MT-PRIORITY, or 6 without
 * it, clamped to 0..15 (*clamped set when it had to be).
 */
uint8_t mule_relay_priority(const bsmtp_mail_info *mail, bool *clamped);

/*
 * The P_MUL expiry for a message that arrived at arrival_s, at now_s:
 * now + default_expiry_s, or the BY;R deadline (arrival + by-time) when
 * that is earlier and still in the future.  A BY;N deadline does not
 * shorten it: RFC 2852 wants such a message delivered even when late.
 * *passed (may be NULL) is set when a BY deadline (R or N) exists and is
 * not in the future.
 */
int64_t mule_relay_expiry(const bsmtp_mail_info *mail, int64_t arrival_s, int64_t now_s,
                          int64_t default_expiry_s, bool *passed);

/*
 * RFC 2852 4 at a hand-off: env's BY= counts from arrival_s (when this
 * node took the mail in; mule_relay() wrote it then); the MTA that gets the
 * mail at now_s must see the time left instead.  *out becomes a copy of
 * env, every recipient in order, with BY= the seconds left at now_s; or
 * NULL when env has no BY= or no second has passed (env is right as it is).
 * env is borrowed; free *out with bsmtp_envelope_free().
 *
 * Returns 0, or one of:
 *   MULE_ERR_NOMEM (or util's) allocation failed: temp-fail, retry later.
 *   MULE_ERR_INVAL  NULL env or out.
 *   BSMTP_ERR_*     the copy did not validate (env came from bsmtp, so
 *                   only a bug): temp-fail and log it.
 */
__attribute__((warn_unused_result))
int mule_relay_by_left(const bsmtp_envelope *env, int64_t arrival_s, int64_t now_s,
                       const mem *m, bsmtp_envelope **out);

#endif
