/*
 * bsmtp_payload.h: the BSMTP-like MULE payload (RFC 8494 / MULE draft 3.1).
 *
 *   bsmtp-like-payload = envelope CRLF payload
 *   envelope  = FROM-line 1*RCPT-line
 *   FROM-line = reverse-path [SP mail-parameters] CRLF
 *   RCPT-line = forward-path [SP rcpt-parameters] CRLF
 *   payload   = *OCTET            ; opaque, no dot-stuffing
 *
 * The one parser and builder of this format.  The envelope is decoded into
 * a plain, fully owned struct (bsmtp_envelope); the content is not copied:
 * the parser reports where it starts.  We emit CRLF and accept bare LF on
 * input (docs/decisions.md decision 5), so a CRLF payload survives
 * parse -> build byte for byte.
 *
 * Every envelope this module hands out or builds from has been checked:
 * paths with bsmtp_addr (RFC 5321 + RFC 6531 when SMTPUTF8 is on the
 * FROM-line), parameters with bsmtp_param (known ones exactly, unknown
 * ones kept as written, MULE section 3.3).
 *
 * Typical relay use (MULE section 2 step 6A): parse the received payload,
 * then for each ACP 142 destination bsmtp_envelope_copy_subset() with the
 * recipients routed there, and bsmtp_payload_build() with the original
 * content.  A DSN is built with bsmtp_envelope_new("", ...) and
 * bsmtp_envelope_add_rcpt().
 */
#ifndef BSMTP_PAYLOAD_H
#define BSMTP_PAYLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bsmtp/bsmtp_err.h"
#include "bsmtp/bsmtp_param.h"
#include "pmul/util/buf.h"
#include "pmul/util/mem.h"

/* One RCPT-line. */
typedef struct bsmtp_rcpt {
    char *addr;                 /* forward-path between <> as written, NUL-
                                 * terminated (quotes and any source route
                                 * kept); "Postmaster" allowed */
    bsmtp_param *params;        /* RCPT parameters in order (owned) */
    size_t param_cnt;
    bsmtp_rcpt_info info;       /* NOTIFY, ORCPT: views into params */
} bsmtp_rcpt;

/* A decoded envelope.  Owns every pointer in it; free with
 * bsmtp_envelope_free().  Treat as read-only: change it only through the
 * functions below, which keep the parsed views (mail, rcpts[].info)
 * consistent with the parameter arrays. */
typedef struct bsmtp_envelope {
    char *reverse_path;         /* between <> as written; "" for <> */
    bsmtp_param *params;        /* MAIL parameters in order (owned) */
    size_t param_cnt;
    bsmtp_mail_info mail;       /* SIZE, BODY, RET, ENVID, MT-PRIORITY, BY,
                                 * SMTPUTF8, AUTH: views into params */
    bsmtp_rcpt *rcpts;          /* RCPT-lines in order (owned) */
    size_t rcpt_cnt;
    size_t rcpt_size;           /* private: allocated entries of rcpts */
    const mem *m;               /* allocator everything above came from */
} bsmtp_envelope;

/* Caps on what a peer can make us hold.  A zero field means its default. */
typedef struct bsmtp_limits {
    size_t line_max;            /* octets per envelope line, without the
                                 * line end (default 4096) */
    size_t rcpt_max;            /* RCPT-lines (default 1000) */
    size_t param_max;           /* parameters per line (default 32) */
    size_t envelope_max;        /* octets of the whole envelope, up to and
                                 * including the empty line (default 1 MiB) */
} bsmtp_limits;

#define BSMTP_LINE_MAX_DEFAULT      4096u
#define BSMTP_RCPT_MAX_DEFAULT      1000u
#define BSMTP_PARAM_MAX_DEFAULT     32u
#define BSMTP_ENVELOPE_MAX_DEFAULT  (1024u * 1024u)

/*
 * Parse a whole BSMTP-like payload p[0..len).  Lines end in CRLF or bare
 * LF (mixed is fine); a CR not followed by LF inside the envelope is an
 * error.  On success *env is a new envelope (allocated with m, NULL:
 * libc) and *content_off is the offset of the first content octet in p
 * (content = p + *content_off, len - *content_off octets, possibly 0).
 * p is borrowed; nothing in *env points into it.  lim may be NULL (all
 * defaults).
 *
 * Returns 0, or one of (all but NOMEM and INVAL mean: the payload is
 * malformed, handle it as an undeliverable MULE message):
 *   BSMTP_ERR_NO_EMPTY_LINE  the data ends before the empty line.
 *   BSMTP_ERR_BARE_CR        CR not followed by LF in the envelope.
 *   BSMTP_ERR_LINE_TOO_LONG  an envelope line over lim->line_max.
 *   BSMTP_ERR_ENVELOPE_TOO_LONG  envelope over lim->envelope_max.
 *   BSMTP_ERR_NO_RCPT        the FROM-line is followed by the empty line.
 *   BSMTP_ERR_RCPT_CAP       more than lim->rcpt_max RCPT-lines.
 *   BSMTP_ERR_PATH           no <...> path, bad character, bad mailbox
 *                            syntax, or no SP between path and parameters.
 *   BSMTP_ERR_PATH_TOO_LONG  local part > 64, domain > 255 or path > 256.
 *   BSMTP_ERR_UTF8           non-ASCII without SMTPUTF8, or bad UTF-8.
 *   BSMTP_ERR_PARAM_SYNTAX, BSMTP_ERR_PARAM_VALUE, BSMTP_ERR_PARAM_DUP,
 *   BSMTP_ERR_PARAM_PLACE, BSMTP_ERR_PARAM_CAP  (see bsmtp_param.h).
 *   BSMTP_ERR_NOMEM          temp-fail; the message is kept, retry later.
 *   BSMTP_ERR_INVAL          NULL env or content_off, NULL p with len > 0.
 * On error *env is NULL and nothing is leaked.
 */
__attribute__((warn_unused_result))
int bsmtp_payload_parse(const uint8_t *p, size_t len, const bsmtp_limits *lim,
                        const mem *m, bsmtp_envelope **env,
                        size_t *content_off);

/*
 * Append to out: the FROM-line, the RCPT-lines (CRLF-terminated), the empty
 * line, then content[0..len) unchanged (content may be NULL when len is 0).
 * env is checked again first (strict in what we send), so a hand-edited
 * envelope cannot produce an unparseable payload.  All arguments are
 * borrowed.  On error out may hold a partial payload: reset it.
 *
 * Returns 0, or one of:
 *   BSMTP_ERR_NO_RCPT, BSMTP_ERR_PATH, BSMTP_ERR_PATH_TOO_LONG,
 *   BSMTP_ERR_UTF8, BSMTP_ERR_PARAM_*: env is not a valid envelope (a bug).
 *   BSMTP_ERR_CAP            out->max reached.
 *   BSMTP_ERR_NOMEM          temp-fail.
 *   BSMTP_ERR_INVAL          NULL env or out, NULL content with len > 0.
 */
__attribute__((warn_unused_result))
int bsmtp_payload_build(const bsmtp_envelope *env, const uint8_t *content,
                        size_t len, buf *out);

/*
 * Create an envelope with the given reverse-path (the text between <>,
 * "" for the null path <>), the MAIL parameter text params ("BODY=8BITMIME
 * ENVID=x", or NULL / "" for none) and no recipients.  Both are checked
 * (the path may hold UTF-8 only if params has SMTPUTF8) and copied.  Free
 * with bsmtp_envelope_free().  A DSN uses reverse_path "" (RFC 3461 6.2).
 *
 * Returns 0, or BSMTP_ERR_PATH, BSMTP_ERR_PATH_TOO_LONG, BSMTP_ERR_UTF8,
 * BSMTP_ERR_PARAM_*, BSMTP_ERR_NOMEM, BSMTP_ERR_INVAL.  On error *out is
 * NULL.
 */
__attribute__((warn_unused_result))
int bsmtp_envelope_new(const char *reverse_path, const char *params,
                       const mem *m, bsmtp_envelope **out);

/*
 * Append the MAIL parameter keyword[=value] (value NULL: no '=').  Both are
 * copied.  The whole MAIL parameter list is re-checked, so duplicates and
 * bad values are refused and env->mail is updated.
 *
 * Returns 0, or BSMTP_ERR_PARAM_SYNTAX, BSMTP_ERR_PARAM_VALUE,
 * BSMTP_ERR_PARAM_DUP, BSMTP_ERR_PARAM_PLACE, BSMTP_ERR_UTF8,
 * BSMTP_ERR_NOMEM, BSMTP_ERR_INVAL.  On error env is unchanged.
 */
__attribute__((warn_unused_result))
int bsmtp_envelope_add_param(bsmtp_envelope *env, const char *keyword,
                             const char *value);

/*
 * Append a recipient: addr is the forward-path text between <> (copied),
 * params the RCPT parameter text after the path ("NOTIFY=NEVER ORCPT=...",
 * or NULL / "" for none; copied).  Both are checked (UTF-8 allowed only if
 * env->mail.smtputf8).  No recipient cap applies here: the caller decides.
 *
 * Returns 0, or BSMTP_ERR_PATH, BSMTP_ERR_PATH_TOO_LONG, BSMTP_ERR_UTF8,
 * BSMTP_ERR_PARAM_*, BSMTP_ERR_NOMEM, BSMTP_ERR_INVAL.  On error env is
 * unchanged.
 */
__attribute__((warn_unused_result))
int bsmtp_envelope_add_rcpt(bsmtp_envelope *env, const char *addr,
                            const char *params);

/*
 * Deep-copy src keeping only the recipients whose indexes are listed in
 * idx[0..idx_cnt) (in that order; each index < src->rcpt_cnt, no repeats).
 * The FROM-line and all parameters are copied as they are.  m is the new
 * envelope's allocator (NULL: libc).  idx_cnt may be 0 (an envelope with
 * no recipients cannot be built, but can get some added).
 *
 * Returns 0, or BSMTP_ERR_INVAL (bad or repeated index, NULL argument) or
 * BSMTP_ERR_NOMEM.  On error *out is NULL.
 */
__attribute__((warn_unused_result))
int bsmtp_envelope_copy_subset(const bsmtp_envelope *src, const size_t *idx,
                               size_t idx_cnt, const mem *m,
                               bsmtp_envelope **out);

/* Free an envelope and everything it owns.  NULL is a no-op. */
void bsmtp_envelope_free(bsmtp_envelope *env);

#endif
