/*
 * bsmtp_param.h: ESMTP MAIL and RCPT parameters (RFC 5321 4.1.2) and the
 * values of the extensions MULE requires.
 *
 * A parameter list "kw[=value] *(SP kw[=value])" is split into owned
 * struct bsmtp_param entries, kept in their original order and spelling so
 * that a relay passes on what it does not understand (MULE section 3.3).
 * The known parameters are then checked with their exact RFC syntax and
 * summarised in a plain struct (bsmtp_mail_info, bsmtp_rcpt_info):
 *
 *   MAIL: SIZE (RFC 1870), BODY=7BIT|8BITMIME|BINARYMIME (RFC 6152, 3030),
 *         RET=FULL|HDRS and ENVID=xtext (RFC 3461), MT-PRIORITY=-9..9
 *         (RFC 6710), BY=<seconds>;R|N[T] (RFC 2852), AUTH=xtext|<>
 *         (RFC 4954), SMTPUTF8 (RFC 6531, no value).
 *   RCPT: NOTIFY=NEVER|SUCCESS,FAILURE,DELAY and ORCPT=addr-type;xtext
 *         (RFC 3461).
 *
 * Keywords compare case-insensitively.  Any keyword given twice on one line
 * is rejected, a MAIL keyword on an RCPT line (and the reverse) is
 * rejected, unknown keywords are kept when they are syntactically
 * esmtp-keyword ["=" esmtp-value].  Non-ASCII octets in values are
 * accepted only when the MAIL line carries SMTPUTF8 (and must be
 * well-formed UTF-8).
 *
 * These functions are meant to be used on their own as well, by the SMTP
 * ingress server for the text after "MAIL FROM:<...>" and "RCPT TO:<...>".
 * All take borrowed, const input and never keep pointers to it, except
 * the *_info structs, whose string fields are views into the parameter
 * array they were computed from.
 */
#ifndef BSMTP_PARAM_H
#define BSMTP_PARAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bsmtp/bsmtp_err.h"
#include "pmul/util/mem.h"

/* One ESMTP parameter, both strings NUL-terminated and owned by whoever
 * owns the array (an envelope, or a list from bsmtp_param_list_parse()).
 * keyword and value share one allocation (value points into it), so only
 * this module's functions may create or free entries. */
typedef struct bsmtp_param {
    char *keyword;              /* as written (case kept) */
    char *value;                /* as written; NULL when there was no '=' */
} bsmtp_param;

/* BODY= (RFC 6152, RFC 3030). */
enum bsmtp_body {
    BSMTP_BODY_NONE = 0,        /* not given */
    BSMTP_BODY_7BIT,
    BSMTP_BODY_8BITMIME,
    BSMTP_BODY_BINARYMIME,
};

/* RET= (RFC 3461 4.3). */
enum bsmtp_ret {
    BSMTP_RET_NONE = 0,         /* not given */
    BSMTP_RET_FULL,
    BSMTP_RET_HDRS,
};

/* BY= by-mode (RFC 2852 4). */
enum bsmtp_by_mode {
    BSMTP_BY_NONE = 0,          /* no BY parameter */
    BSMTP_BY_RETURN,            /* "R": return (DSN) when the time passes */
    BSMTP_BY_NOTIFY,            /* "N": notify, keep delivering */
};

/* NOTIFY= bits (RFC 3461 4.1).  0 means NOTIFY was not given. */
#define BSMTP_NOTIFY_NEVER    0x1u
#define BSMTP_NOTIFY_SUCCESS  0x2u
#define BSMTP_NOTIFY_FAILURE  0x4u
#define BSMTP_NOTIFY_DELAY    0x8u

/* RFC limits we enforce. */
#define BSMTP_ENVID_MAX       100u  /* RFC 3461 4.4: ENVID value length */
#define BSMTP_ORCPT_MAX       500u  /* RFC 3461 4.2: ORCPT value length */
#define BSMTP_BY_TIME_MAX     999999999L  /* RFC 2852: 1*9DIGIT */

/* What the known MAIL parameters say.  Pointer fields are views into the
 * bsmtp_param array the struct was computed from (value strings, as
 * written, still xtext-encoded); they live as long as that array. */
typedef struct bsmtp_mail_info {
    bool has_size;
    uint64_t size;              /* SIZE=, octets (RFC 1870) */
    enum bsmtp_body body;
    enum bsmtp_ret ret;
    const char *envid;          /* ENVID= xtext, or NULL */
    bool has_mt_priority;
    int mt_priority;            /* MT-PRIORITY= -9..9 (RFC 6710) */
    enum bsmtp_by_mode by_mode; /* BSMTP_BY_NONE: no BY= */
    long by_time_s;             /* BY= deliver-by-time, -999999999..999999999 */
    bool by_trace;              /* BY= ...T */
    bool smtputf8;              /* SMTPUTF8 present (RFC 6531) */
    const char *auth;           /* AUTH= xtext or "<>", or NULL */
} bsmtp_mail_info;

/* What the known RCPT parameters say (views, as above). */
typedef struct bsmtp_rcpt_info {
    unsigned notify;            /* BSMTP_NOTIFY_* bits; 0 = not given */
    const char *orcpt;          /* ORCPT= "addr-type;xtext" as written, or NULL */
} bsmtp_rcpt_info;

/*
 * Split text[0..len) ("kw[=value] *(SP kw[=value])", no leading or trailing
 * space, no line end) into a new array of owned parameters.  Only the
 * generic syntax is checked here: esmtp-keyword, and esmtp-value octets
 * (33-126 except '='), plus non-ASCII octets, which are left for the
 * *_info functions to judge against SMTPUTF8.  An empty text gives an
 * empty list (*out = NULL, *cnt = 0).  At most cap parameters are
 * accepted; nothing is allocated by a count taken from the input beyond
 * that cap.  text is borrowed; free the result with bsmtp_param_list_free().
 *
 * Returns 0, or one of:
 *   BSMTP_ERR_PARAM_SYNTAX  malformed list (empty keyword, double space,
 *                           empty value after '=', bad octet): reject the line.
 *   BSMTP_ERR_PARAM_CAP     more than cap parameters: reject the line.
 *   BSMTP_ERR_NOMEM         allocation failed: temp-fail, retry later.
 *   BSMTP_ERR_INVAL         NULL out/cnt or NULL text with len > 0.
 */
__attribute__((warn_unused_result))
int bsmtp_param_list_parse(const char *text, size_t len, size_t cap,
                           const mem *m, bsmtp_param **out, size_t *cnt);

/* Free an array from bsmtp_param_list_parse() (or one an envelope owned).
 * NULL is a no-op. */
void bsmtp_param_list_free(bsmtp_param *p, size_t cnt, const mem *m);

/* True when kw is a syntactically valid esmtp-keyword
 * ((ALPHA / DIGIT) *(ALPHA / DIGIT / "-")). */
bool bsmtp_is_esmtp_keyword(const char *kw, size_t len);

/* True when val is a valid esmtp-value: 1*(%d33-60 / %d62-126), plus
 * well-formed UTF-8 beyond ASCII when utf8 is true (RFC 6531 3.3). */
bool bsmtp_is_esmtp_value(const char *val, size_t len, bool utf8);

/*
 * Check the MAIL parameters p[0..cnt) and fill *info (zeroed first).
 * SMTPUTF8 anywhere in the list allows UTF-8 in every value.
 *
 * Returns 0, or one of (the caller rejects the MAIL line / envelope):
 *   BSMTP_ERR_PARAM_SYNTAX  a keyword or value is not esmtp syntax.
 *   BSMTP_ERR_PARAM_VALUE   a known keyword with a bad or missing value
 *                           (or SMTPUTF8 with a value).
 *   BSMTP_ERR_PARAM_DUP     the same keyword twice.
 *   BSMTP_ERR_PARAM_PLACE   an RCPT-only keyword (NOTIFY, ORCPT).
 *   BSMTP_ERR_UTF8          non-ASCII value without SMTPUTF8, or bad UTF-8.
 *   BSMTP_ERR_INVAL         NULL info, or NULL p with cnt > 0.
 */
__attribute__((warn_unused_result))
int bsmtp_mail_info_from_params(const bsmtp_param *p, size_t cnt,
                                bsmtp_mail_info *info);

/* Flags of bsmtp_mail_info_parse(). */
#define BSMTP_MAIL_BODY_BINARY 0x1u /* accept BODY=BINARY, the spelling of
                                     * the MULE draft (section 4.1), as
                                     * RFC 3030's BINARYMIME */

/*
 * bsmtp_mail_info_from_params() with the tolerances named in flags.  The
 * MULE payload parser passes BSMTP_MAIL_BODY_BINARY; SMTP ingress passes
 * 0 (bsmtp_mail_info_from_params() is this with flags 0), so a client
 * that says BODY=BINARY is refused as RFC 3030 requires.  Same returns.
 */
__attribute__((warn_unused_result))
int bsmtp_mail_info_parse(const bsmtp_param *p, size_t cnt, unsigned flags,
                          bsmtp_mail_info *info);

/*
 * Rewrite every BODY=BINARY of p[0..cnt) (any case) as BODY=BINARYMIME,
 * the keyword keeping its spelling, so that what we pass on (to SMTP or
 * to the next MULE hop) never carries the alias.  Entries are replaced
 * through m, the allocator that owns the array.
 *
 * Returns 0, or BSMTP_ERR_NOMEM (the entry being replaced is unchanged:
 * the caller fails the envelope), or BSMTP_ERR_INVAL (NULL p, cnt > 0).
 */
__attribute__((warn_unused_result))
int bsmtp_param_body_canon(bsmtp_param *p, size_t cnt, const mem *m);

/*
 * Check the RCPT parameters p[0..cnt) and fill *info (zeroed first).
 * smtputf8 says whether the MAIL line carried SMTPUTF8.
 *
 * Returns 0, or one of: BSMTP_ERR_PARAM_SYNTAX, BSMTP_ERR_PARAM_VALUE,
 * BSMTP_ERR_PARAM_DUP, BSMTP_ERR_PARAM_PLACE (a MAIL-only keyword),
 * BSMTP_ERR_UTF8, BSMTP_ERR_INVAL, as for bsmtp_mail_info_from_params().
 */
__attribute__((warn_unused_result))
int bsmtp_rcpt_info_from_params(const bsmtp_param *p, size_t cnt,
                                bool smtputf8, bsmtp_rcpt_info *info);

/* Find keyword kw (case-insensitive) in p[0..cnt); NULL when absent. */
const bsmtp_param *bsmtp_param_find(const bsmtp_param *p, size_t cnt,
                                    const char *kw);

#endif
