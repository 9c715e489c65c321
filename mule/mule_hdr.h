/*
 * mule_hdr.h: read-only access to the RFC 5322 header section of a
 * message, and the MULE trace header (RFC 8494 section 6.2).
 *
 * The relay, the DSN builder and the audit record need a few facts from
 * the message header: where the header section ends (RET=HDRS returns it),
 * one field's unfolded value (Message-ID, Subject), how many Received
 * fields there are (loop detection) and the date of the oldest one
 * (MMHS submission time stamp).  This module is the one place that scans
 * header fields; it never modifies the message.
 *
 * Input is untrusted message content: any octets, CRLF or bare LF line
 * ends.  Values are copied out bounded and with control characters
 * replaced, so they are safe to log and to place in new header fields.
 */
#ifndef MULE_HDR_H
#define MULE_HDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pmul/util/buf.h"
#include "pmul/util/cur.h"

/*
 * The header section of msg[0..len): its length *hdr_len (all field lines,
 * without the empty line) and the offset of the body *body_off (after the
 * empty line; len when there is none).  The section ends at the first
 * empty line, or at the first line that is neither a field ("name:" with
 * printable name octets) nor a continuation (leading SP or HTAB); such a
 * line is the start of the body.  Either output may be NULL.
 */
void mule_hdr_section(const uint8_t *msg, size_t len, size_t *hdr_len,
                      size_t *body_off);

/* Iterator over the fields of a header section. */
typedef struct mule_hdr_iter {
    cur c;                  /* what is left of the header section */
} mule_hdr_iter;

/* One field: views into the message (borrowed; valid while it is). */
typedef struct mule_hdr_field {
    const uint8_t *name;    /* field name, without the colon */
    size_t name_len;
    const uint8_t *raw;     /* value after the colon, folded, with its
                             * line ends, without the final line end */
    size_t raw_len;
} mule_hdr_field;

/* Start iterating over the header section of msg[0..len). */
void mule_hdr_iter_init(mule_hdr_iter *it, const uint8_t *msg, size_t len);
/* Next field; false at the end of the header section. */
bool mule_hdr_next(mule_hdr_iter *it, mule_hdr_field *f);

/* True when f's name is name (ASCII case-insensitive). */
bool mule_hdr_is(const mule_hdr_field *f, const char *name);

/*
 * Unfold raw[0..raw_len) into out (size outlen >= 1, always
 * NUL-terminated): line ends are removed, runs of whitespace become one
 * space, leading and trailing whitespace is dropped, and any other control
 * octet (and DEL) becomes '?'.  Octets >= 0x80 are kept when keep_8bit,
 * else they become '?'.  Returns the length written; a value that does
 * not fit is cut (*truncated, may be NULL, says so).
 */
size_t mule_hdr_unfold(const uint8_t *raw, size_t raw_len, bool keep_8bit,
                       char *out, size_t outlen, bool *truncated);

/*
 * Find the first (nth = 0) or a later field called name and unfold its
 * value into out as mule_hdr_unfold() does.  Returns true when found.
 */
bool mule_hdr_get(const uint8_t *msg, size_t len, const char *name, size_t nth,
                  bool keep_8bit, char *out, size_t outlen);

/*
 * The MT-Priority header field (RFC 6758: "MT-Priority:" [CFWS]
 * ["+"/"-"] DIGIT [CFWS]), the tunnelled SMTP priority -9..9.  Returns
 * true and sets *prio only when exactly one such field has a valid value.
 */
bool mule_hdr_mt_priority(const uint8_t *msg, size_t len, int *prio);

/* Number of fields called name in the header section. */
size_t mule_hdr_count(const uint8_t *msg, size_t len, const char *name);

/*
 * The date-time of the last (bottom-most, i.e. oldest) Received field:
 * the text after its last ';', unfolded into out.  That is the MMHS
 * "Submission Time Stamp Indication" (mmhs-profile 3.3.9).  Returns true
 * when there is a Received field with a ';'.
 */
bool mule_hdr_submission_date(const uint8_t *msg, size_t len, char *out,
                              size_t outlen);

/*
 * RFC 5322 3.3 date-time, with the obsolete forms of 4.3 (two- and
 * three-digit years, zone names; military zones count as -0000), CFWS
 * between the tokens: Unix seconds into *t.  Returns false on anything
 * else, out-of-range fields included.
 */
bool mule_hdr_parse_date(const char *s, int64_t *t);

/*
 * When the first (top-most, newest) Received field is a MULE relay's
 * (protocol "with MULE", RFC 8494 6.2): its date-time as Unix seconds into
 * *t, that is when the previous MULE node took the message in.  Returns
 * false when the top field is another kind or its date does not parse.
 */
bool mule_hdr_mule_trace_time(const uint8_t *msg, size_t len, int64_t *t);

/* Parameters of the Received field a MULE relay adds. */
typedef struct mule_trace {
    const char *from;       /* previous hop: P_MUL source ("198.18.0.1") or
                             * SMTP client ("mta.example ([192.0.2.1])");
                             * NULL: no from clause */
    const char *by;         /* this node's host name (required) */
    const char *id;         /* this node's ID for the message (NULL: none) */
    const char *for_addr;   /* single recipient for the for clause, without
                             * <>; NULL: none */
    const char *date;       /* RFC 5322 date-time of now (required) */
} mule_trace;

/* Longest trace field we write, so callers can size buffers. */
#define MULE_TRACE_MAX 1000

/*
 * Append "Received: from F by B with MULE id I for <A>; D" + CRLF to out
 * (RFC 5321 4.4 Time-stamp-line with protocol "MULE", RFC 8494 6.2),
 * omitting the clauses that are NULL.  When the line would be longer than
 * 78 octets it is folded before " by", " for" and the date, as most MTAs
 * do.  The strings must be printable ASCII without CR/LF (they come from
 * configuration or from validated envelopes); an offending value is
 * refused.
 *
 * Returns 0, or MULE_ERR_INVAL (missing by/date, bad octet, or a field
 * over MULE_TRACE_MAX), MULE_ERR_NOMEM, MULE_ERR_NOSPACE (out's cap).
 */
__attribute__((warn_unused_result))
int mule_hdr_trace(const mule_trace *t, buf *out);

#endif
