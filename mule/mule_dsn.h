/*
 * mule_dsn.h: delivery status notifications for MULE (RFC 8494 section
 * 3.3; RFC 3461, RFC 3464, RFC 6522, RFC 3463).
 *
 * MULE has no SMTP replies, so a node that cannot relay or deliver a
 * message must send a non-delivery report back over MULE to the FROM-line
 * return path (RFC 8494 3.3).  This module builds that report, and the
 * success, relayed and delay reports that NOTIFY can ask for, as a MULE
 * message of its own: a BSMTP envelope with reverse-path <> and the
 * original sender as the one recipient, plus RFC 5322 content of type
 * multipart/report; report-type=delivery-status with three parts:
 *
 *   1. text/plain, a human-readable explanation;
 *   2. message/delivery-status: Reporting-MTA, Original-Envelope-Id (when
 *      ENVID was given), Arrival-Date, then per recipient
 *      Original-Recipient (from ORCPT), Final-Recipient, Action, Status,
 *      Remote-MTA and Diagnostic-Code (for rejections), Last-Attempt-Date;
 *   3. the returned message: message/rfc822 (RET=FULL, or RET absent and
 *      the message small) or text/rfc822-headers (RET=HDRS, RET absent and
 *      the message large, binary content, or a report without failures).
 *
 * RFC 3461 rules applied: no DSN to the null reverse-path; NOTIFY=NEVER
 * suppresses all reports for that recipient; a failure report needs
 * NOTIFY absent or containing FAILURE; success/relayed reports need
 * SUCCESS; delay reports need DELAY (NOTIFY absent is treated as
 * NOTIFY=FAILURE, the choice RFC 3461 4.1 allows, to save bandwidth).
 *
 * Pure: the caller passes the DSN's Message-ID, its Date and the arrival
 * date as text; no clock, no randomness.  The MIME boundary is derived
 * from the Message-ID and checked against every part, so it cannot occur
 * in the content.
 */
#ifndef MULE_DSN_H
#define MULE_DSN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bsmtp/bsmtp_payload.h"
#include "pmul/util/buf.h"
#include "pmul/util/log.h"
#include "pmul/util/mem.h"

/* Why a recipient is reported; fixes Action and the default Status. */
enum mule_dsn_kind {
    MULE_DSN_NO_ROUTE = 1,  /* failed  5.4.4  no MULE route for the domain */
    MULE_DSN_EXPIRED,       /* failed  5.4.7  BY;R deadline or P_MUL expiry */
    MULE_DSN_DELAYED,       /* delayed 4.4.7  BY;N deadline passed, still going */
    MULE_DSN_DISCARDED,     /* failed  5.4.0  P_MUL discarded the message */
    MULE_DSN_LOOP,          /* failed  5.4.6  too many Received fields */
    MULE_DSN_REJECTED,      /* failed  MTA's enhanced code (or 5.0.0/4.0.0) */
    MULE_DSN_DELIVERED,     /* delivered 2.0.0 (or the MTA's 2.x.x) */
    MULE_DSN_RELAYED,       /* relayed 2.0.0  to a system without DSN */
    MULE_DSN_DELETED,       /* failed  5.3.0  removed from the queue by the operator */
};

/* One recipient to report.  All strings are borrowed for the call. */
typedef struct mule_dsn_rcpt {
    const char *addr;       /* forward-path text without <> (required) */
    const char *orcpt;      /* ORCPT value "addr-type;xtext", or NULL */
    unsigned notify;        /* BSMTP_NOTIFY_* bits; 0: NOTIFY not given */
    enum mule_dsn_kind kind;
    const char *status;     /* enhanced status ("5.1.1") overriding the
                             * default, or NULL (REJECTED: taken from the
                             * reply text when it carries one) */
    const char *reply;      /* REJECTED/DELIVERED: the MTA's SMTP reply,
                             * e.g. "550 5.1.1 <bob@x>: user unknown";
                             * becomes "Diagnostic-Code: smtp; ..."; NULL */
    const char *remote_mta; /* host name that gave the reply, or NULL */
    const char *last_attempt_date; /* RFC 5322 date-time, or NULL */
} mule_dsn_rcpt;

/* The message being reported on.  Borrowed for the call. */
typedef struct mule_dsn_orig {
    const char *reverse_path;   /* FROM-line path without <>; "" is <> */
    bool smtputf8;              /* the original carried SMTPUTF8 */
    const char *envid;          /* ENVID value (xtext) or NULL */
    enum bsmtp_ret ret;         /* RET=, or BSMTP_RET_NONE */
    enum bsmtp_body body;       /* BODY=, or BSMTP_BODY_NONE */
    const char *arrival_date;   /* RFC 5322 date-time it reached this node
                                 * (required) */
    const uint8_t *content;     /* the RFC 5322 message (may be NULL if 0) */
    size_t content_len;
} mule_dsn_orig;

/* Default for mule_dsn_config.full_max: without RET, messages up to this
 * size come back whole, larger ones as headers only (radio links). */
#define MULE_DSN_FULL_MAX_DEFAULT   ((size_t)16 * 1024)
/* Longest reply text copied into Diagnostic-Code and the text part. */
#define MULE_DSN_REPLY_MAX          512

typedef struct mule_dsn_config {
    const char *reporting_mta;  /* this node's host name (required) */
    const char *date;           /* RFC 5322 date-time of now (required) */
    const char *message_id;     /* Message-ID of the DSN, with <> (required) */
    size_t full_max;            /* 0: MULE_DSN_FULL_MAX_DEFAULT */
    size_t out_max;             /* cap on the DSN content; 0: none */
} mule_dsn_config;

/* A built DSN.  Owned by the caller; release with mule_dsn_fini(). */
typedef struct mule_dsn {
    bsmtp_envelope *env;        /* <> and one RCPT: the original sender */
    buf content;                /* the RFC 5322 DSN message, CRLF lines */
    size_t reported_cnt;        /* recipients that made it into the report */
    bool failed;                /* at least one Action: failed */
    bool full;                  /* the whole message was returned */
} mule_dsn;

/* True when r's NOTIFY asks for a report of r's kind (RFC 3461 4.1). */
bool mule_dsn_wanted(const mule_dsn_rcpt *r);

/* Action text ("failed", "delayed", "delivered", "relayed") and default
 * status ("5.4.4", ...) of a kind. */
const char *mule_dsn_action(enum mule_dsn_kind kind);
const char *mule_dsn_default_status(enum mule_dsn_kind kind);

/*
 * Build a DSN for orig reporting rcpts[0..cnt) (recipients whose NOTIFY
 * does not want their report are left out).  *out is initialised here;
 * on success the caller owns it and must call mule_dsn_fini(); on error
 * it holds nothing.  m (NULL: libc) allocates the envelope and content.
 * lg (NULL: silent) gets one debug line per DSN.
 *
 * Returns 0, or one of:
 *   MULE_ERR_DSN_NULL_SENDER    orig->reverse_path is <>: send nothing
 *                               (log it; the message is still accounted);
 *   MULE_ERR_DSN_NOT_REQUESTED  NOTIFY filtered out every recipient;
 *   MULE_ERR_INVAL              a required field missing, cnt 0, or a
 *                               caller string with CR/LF or controls;
 *   MULE_ERR_NOSPACE            the DSN exceeds cfg->out_max;
 *   a BSMTP_ERR_* code          (bsmtp_is_err(), passed through) the
 *                               sender address cannot be an RCPT: bsmtp
 *                               refused it, and the code says why;
 *   MULE_ERR_DSN                no MIME boundary could be found;
 *   MULE_ERR_NOMEM              out of memory: temp-fail and retry.
 */
__attribute__((warn_unused_result))
int mule_dsn_build(const mule_dsn_config *cfg, const mule_dsn_orig *orig,
                   const mule_dsn_rcpt *rcpts, size_t cnt, const mem *m,
                   const logger *lg, mule_dsn *out);

/*
 * Append the DSN as one BSMTP-like payload (envelope, empty line, content)
 * to out, ready for mule_cdt_encode() and P_MUL.  Returns 0, or
 * MULE_ERR_NOMEM, MULE_ERR_INVAL, or bsmtp_payload_build()'s codes passed
 * through: BSMTP_ERR_CAP (out's cap), any other BSMTP_ERR_* (a bug).
 */
__attribute__((warn_unused_result))
int mule_dsn_payload(const mule_dsn *d, buf *out);

/* Free what mule_dsn_build() made.  Safe on a zeroed or failed struct. */
void mule_dsn_fini(mule_dsn *d);

#endif
