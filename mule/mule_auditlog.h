/*
 * mule_auditlog.h: the tamper-evident audit log's records, as a pure codec
 * (no files; mule_auditlog_fs.h keeps them on disk).
 *
 * A record is one line:
 *
 *   SEQ TIME TEXT mac=HEX
 *
 * SEQ counts from 1 across all files of a log, TIME is the Unix time of
 * the record, TEXT is one line of printable text (what mule_audit_format()
 * renders, or an event), HEX is 64 lowercase hex digits:
 *
 *   MAC = HMAC-SHA-256(key, previous record's MAC (32 octets) || "SEQ TIME TEXT")
 *
 * and the record before the first one has 32 zero octets as its MAC.  So
 * each record vouches for every record before it: editing, inserting,
 * deleting or reordering a record breaks the chain at that point, and
 * nobody without the key can repair it.
 *
 * Every file starts with a chain record carrying the state it continues
 * from, so one file can be checked on its own and a missing file is seen:
 *
 *   mule-audit event=chain prev_file=audit-20261204.log prev_seq=812 prev_mac=HEX
 *
 * (prev_file=- prev_seq=0 and a zero MAC at the very start of a log).
 */
#ifndef MULE_AUDITLOG_H
#define MULE_AUDITLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MULE_AUDITLOG_MAC_LEN   32
#define MULE_AUDITLOG_TEXT_MAX  16384u      /* octets of TEXT */
#define MULE_AUDITLOG_LINE_MAX  (MULE_AUDITLOG_TEXT_MAX + 128u)
#define MULE_AUDITLOG_KEY_MIN   16u
#define MULE_AUDITLOG_KEY_MAX   64u
#define MULE_AUDITLOG_NAME_MAX  64u         /* a file name in a chain record */

/* Where a chain stands: the last record's number and MAC. */
typedef struct mule_auditlog_chain {
    uint64_t seq;
    uint8_t mac[MULE_AUDITLOG_MAC_LEN];
} mule_auditlog_chain;

/* A parsed record line (views into the line). */
typedef struct mule_auditlog_rec {
    uint64_t seq;
    int64_t time;
    const char *text;
    size_t text_len;
    uint8_t mac[MULE_AUDITLOG_MAC_LEN];
} mule_auditlog_rec;

/* A chain record's content. */
typedef struct mule_auditlog_link {
    char prev_file[MULE_AUDITLOG_NAME_MAX];     /* "-" at the start of a log */
    mule_auditlog_chain prev;
} mule_auditlog_link;

/* Is text usable as a record's TEXT (1..TEXT_MAX printable octets, no
 * control character; octets >= 0x80 allowed)? */
bool mule_auditlog_text_ok(const char *text, size_t len);

/*
 * Write the record that follows *ch into out (size outlen), with its line
 * end, and advance *ch.  Returns the line's length, or MULE_ERR_INVAL (bad
 * text or key), MULE_ERR_NOSPACE (out too small; LINE_MAX always does),
 * MULE_ERR_AUDIT_CRYPTO (the HMAC failed).
 */
long mule_auditlog_format(mule_auditlog_chain *ch, const uint8_t *key, size_t keylen,
                          int64_t time, const char *text, char *out, size_t outlen);

/*
 * Split one line (without its line end) into *r.  Returns 0, or
 * MULE_ERR_AUDIT_BAD with why (a short reason) when it is not a record.
 */
int mule_auditlog_parse(const char *line, size_t len, mule_auditlog_rec *r, const char **why);

/*
 * Check that line (without its line end) is the record following *ch
 * under key, and advance *ch.  Returns 0, or MULE_ERR_AUDIT_BAD with why
 * in whybuf ("sequence gap 12 -> 14", "MAC mismatch", ...), *ch unchanged.
 */
int mule_auditlog_check(mule_auditlog_chain *ch, const uint8_t *key, size_t keylen,
                        const char *line, size_t len, char *whybuf, size_t whylen);

/* The text of a chain record continuing from prev (written into out). */
void mule_auditlog_link_text(const char *prev_file, const mule_auditlog_chain *prev, char *out,
                             size_t outlen);
/* Is text a chain record?  Fills *l when it is.  A malformed one is not. */
bool mule_auditlog_link_parse(const char *text, size_t len, mule_auditlog_link *l);

#endif
