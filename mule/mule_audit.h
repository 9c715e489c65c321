/*
 * mule_audit.h: MMHS audit records for messages in and out of a MULE
 * node (draft-melnikov-mmhs-profile-09 section 7.2).
 *
 * Section 7.2 requires an MTA, relays included, to log for every inbound
 * and outbound message at least: the MM Identification (the Message-ID
 * header field, 3.3.5), the Message Identification (ENVID, 3.3.6), the
 * Submission Time Stamp Indication (the date of the last Received field,
 * 3.3.9), the priority, and the time of transfer in or out.  We add the
 * direction, the peer, the ACP 142 destination, the recipients, the
 * outcome with its status code, and the size.
 *
 * A record is a plain struct with fixed-size, NUL-terminated fields: it
 * owns no memory, so it can be kept, copied and persisted freely.  Texts
 * that come from the message are unfolded, bounded and stripped of
 * control characters when copied in; mule_audit_format() renders one
 * line of key=value pairs in which every value that is not a plain token
 * is quoted and escaped, so a record is always exactly one line.
 */
#ifndef MULE_AUDIT_H
#define MULE_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bsmtp/bsmtp_payload.h"

enum mule_audit_dir {
    MULE_AUDIT_IN = 1,      /* received (P_MUL or SMTP) */
    MULE_AUDIT_OUT,         /* sent (P_MUL, or handed to the local MTA) */
};

enum mule_audit_outcome {
    MULE_AUDIT_ACCEPTED = 1,    /* in: taken responsibility for */
    MULE_AUDIT_NOT_RESPONSIBLE, /* in: no recipient was ours; discarded */
    MULE_AUDIT_MALFORMED,       /* in: payload unusable; kept as undeliverable */
    MULE_AUDIT_RELAYED,         /* out: submitted to P_MUL */
    MULE_AUDIT_ACKED,           /* out: all P_MUL destinations acknowledged */
    MULE_AUDIT_DELIVERED,       /* out: the local MTA accepted it */
    MULE_AUDIT_FAILED,          /* out: not delivered, DSN due */
    MULE_AUDIT_DELAYED,         /* out: late (BY;N), still in progress */
    MULE_AUDIT_EXPIRED,         /* out: P_MUL expiry reached */
    MULE_AUDIT_WITHDRAWN,       /* in: an "accepted" record taken back: the
                                 * mail was not queued after all (the sync
                                 * that made the record durable failed, or
                                 * a crash lost the entry before its 250;
                                 * docs/spool.md) */
};

/* Field sizes, including the NUL. */
#define MULE_AUDIT_MSGID_MAX    256
#define MULE_AUDIT_ENVID_MAX    101     /* RFC 3461: at most 100 */
#define MULE_AUDIT_DATE_MAX     80
#define MULE_AUDIT_PATH_MAX     257     /* RFC 5321: path <= 256 */
#define MULE_AUDIT_RCPTS_MAX    1024    /* comma list, cut with ",..." */
#define MULE_AUDIT_SHORT_MAX    128     /* peer, id, dest, status */
#define MULE_AUDIT_LINE_MAX     12288   /* enough for any rendered record */

typedef struct mule_audit_rec {
    enum mule_audit_dir dir;
    enum mule_audit_outcome outcome;
    int64_t transfer_s;                     /* time of transfer in/out */
    char msgid[MULE_AUDIT_MSGID_MAX];       /* MM Identification */
    char envid[MULE_AUDIT_ENVID_MAX];       /* Message Identification */
    char submitted[MULE_AUDIT_DATE_MAX];    /* Submission Time Stamp */
    bool has_mt_priority;
    int mt_priority;                        /* MT-PRIORITY -9..9 */
    unsigned priority;                      /* P_MUL priority octet */
    char reverse_path[MULE_AUDIT_PATH_MAX];
    size_t rcpt_cnt;                        /* all recipients covered */
    char rcpts[MULE_AUDIT_RCPTS_MAX];       /* "a@x,b@y" (maybe cut) */
    char peer[MULE_AUDIT_SHORT_MAX];        /* source node / SMTP client */
    char dest[MULE_AUDIT_SHORT_MAX];        /* ACP 142 destination */
    char id[MULE_AUDIT_SHORT_MAX];          /* our message / queue ID */
    char status[MULE_AUDIT_SHORT_MAX];      /* "5.4.4" or a reason */
    size_t size;                            /* content octets */
    bool has_message;                       /* set_message() ran: the message
                                             * facts above are known */
} mule_audit_rec;

/* Zero *r and set the direction, outcome and transfer time. */
void mule_audit_init(mule_audit_rec *r, enum mule_audit_dir dir,
                     enum mule_audit_outcome outcome, int64_t transfer_s);

/*
 * Fill the message facts from an envelope and its content (both borrowed,
 * nothing kept): Message-ID and the submission date from the content's
 * header, ENVID, MT-PRIORITY and the P_MUL priority from the MAIL
 * parameters, the reverse-path, the size, and the recipients
 * idx[0..cnt) (idx NULL: all).  env may be NULL (a malformed payload):
 * then only the content facts are filled.
 */
void mule_audit_set_message(mule_audit_rec *r, const bsmtp_envelope *env,
                            const size_t *idx, size_t cnt, const uint8_t *content,
                            size_t content_len);

/* Copy a short text field (peer, dest, id, status): bounded and with
 * control characters replaced.  NULL clears it. */
void mule_audit_set_text(char *field, size_t field_size, const char *text);
#define MULE_AUDIT_SET(r, field, text) \
    mule_audit_set_text((r)->field, sizeof((r)->field), (text))

/* Stable names: "in"/"out", "accepted", "relayed", ... */
const char *mule_audit_dir_name(enum mule_audit_dir dir);
const char *mule_audit_outcome_name(enum mule_audit_outcome outcome);

/*
 * Render r as one line (no line end) into out (size outlen, NUL-
 * terminated):
 *   mule-audit dir=out outcome=relayed time=1704189600 id=42
 *   msgid="<m1@example.com>" envid=QQ314159 submitted="Mon, 1 Jan ..."
 *   mt_priority=4 priority=2 from=<from@example.com> rcpt_cnt=2
 *   rcpts=a@x,b@y peer=198.18.0.1 dest="group=... nodes=..." status=-
 *   size=1234
 * A record whose message facts were never set (has_message false: an
 * event about a queue entry whose "accepted" record has them) leaves out
 * msgid, envid, submitted, mt_priority, priority, from and size.
 * Empty text fields are "-"; values with blanks, quotes, '=' or non-ASCII
 * are quoted, with '"' and '\' escaped and other bytes as \xHH.
 *
 * Returns the length written, or MULE_ERR_NOSPACE when out is too small
 * (MULE_AUDIT_LINE_MAX always suffices), MULE_ERR_INVAL for NULL.
 */
__attribute__((warn_unused_result))
ssize_t mule_audit_format(const mule_audit_rec *r, char *out, size_t outlen);

#endif
