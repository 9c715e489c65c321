/*
 * bsmtp_err.h: error codes of the bsmtp_proto library.
 *
 * One X-macro table generates the enum, bsmtp_strerror() and bsmtp_errname().
 * Functions return 0 or a negative BSMTP_ERR_*, in -100 .. -199 (the ranges
 * are in pmul/util/errtab.h); BSMTP_ERR_NOMEM is the shared UTIL_ERR_NOMEM.
 * bsmtp_strerror() and bsmtp_errname() also name the pmul/util codes.
 */
#ifndef BSMTP_ERR_H
#define BSMTP_ERR_H

#include <stdbool.h>

#include "pmul/util/errtab.h"
#include "pmul/util/util_err.h"

#define BSMTP_ERRNO_MAP(X)                                                    \
    X(INVAL,          -102, "invalid argument")                               \
    X(CAP,            -103, "output buffer cap reached")                      \
    /* Payload, addresses, parameters (owner: bsmtp_payload/addr/param). */   \
    X(NO_EMPTY_LINE,  -110, "envelope ends before the empty line")            \
    X(BARE_CR,        -111, "CR not followed by LF in the envelope")          \
    X(LINE_TOO_LONG,  -112, "envelope line longer than the configured cap")   \
    X(ENVELOPE_TOO_LONG, -113, "envelope longer than the configured cap")      \
    X(NO_RCPT,        -114, "envelope without RCPT-line")                     \
    X(RCPT_CAP,       -115, "more recipients than the configured cap")        \
    X(PATH,           -116, "malformed reverse-path or forward-path")         \
    X(PATH_TOO_LONG,  -117, "local part, domain or path over the RFC 5321 limit") \
    X(UTF8,           -118, "non-ASCII without SMTPUTF8, or malformed UTF-8") \
    X(PARAM_SYNTAX,   -119, "malformed ESMTP parameter")                      \
    X(PARAM_VALUE,    -120, "invalid value of a known ESMTP parameter")       \
    X(PARAM_DUP,      -121, "ESMTP parameter given twice")                    \
    X(PARAM_PLACE,    -122, "ESMTP parameter not allowed on this line")       \
    X(PARAM_CAP,      -123, "more parameters than the configured cap")        \
    X(XTEXT,          -124, "malformed xtext")                                \
    /* SMTP/LMTP replies (owner: bsmtp_reply). */                             \
    X(REPLY_SYNTAX,   -130, "malformed SMTP reply line")                      \
    X(REPLY_TOO_LONG, -131, "SMTP reply line or reply over the cap")

enum bsmtp_err {
    BSMTP_OK = 0,
    BSMTP_ERR_NOMEM = UTIL_ERR_NOMEM,    /* shared: see pmul/util/errtab.h */
#define BSMTP__ERR_ENUM(name, val, text) BSMTP_ERR_##name = (val),
    BSMTP_ERRNO_MAP(BSMTP__ERR_ENUM)
#undef BSMTP__ERR_ENUM
};

const char *bsmtp_strerror(int err);
const char *bsmtp_errname(int err);

/* True for a code of bsmtp's own range (not BSMTP_ERR_NOMEM, which is the
 * shared UTIL_ERR_NOMEM): what a caller above tests when bsmtp's verdict
 * on its input is passed through to it. */
static inline bool
bsmtp_is_err(int rc)
{
    return rc <= BSMTP_ERR_FIRST && rc >= BSMTP_ERR_LAST;
}

#endif
