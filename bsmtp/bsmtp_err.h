/*
 * bsmtp_err.h: error codes of the bsmtp_proto library.
 *
 * One X-macro table generates the enum, bsmtp_strerror() and bsmtp_errname().
 * Functions return 0 or a negative BSMTP_ERR_*.
 */
#ifndef BSMTP_ERR_H
#define BSMTP_ERR_H

#define BSMTP_ERRNO_MAP(X)                                                    \
    X(NOMEM,          -1,   "out of memory")                                  \
    X(INVAL,          -2,   "invalid argument")                               \
    X(CAP,            -3,   "output buffer cap reached")                      \
    /* Payload, addresses, parameters (owner: bsmtp_payload/addr/param). */   \
    X(NO_EMPTY_LINE,  -10,  "envelope ends before the empty line")            \
    X(BARE_CR,        -11,  "CR not followed by LF in the envelope")          \
    X(LINE_TOO_LONG,  -12,  "envelope line longer than the configured cap")   \
    X(ENVELOPE_TOO_LONG, -13, "envelope longer than the configured cap")      \
    X(NO_RCPT,        -14,  "envelope without RCPT-line")                     \
    X(RCPT_CAP,       -15,  "more recipients than the configured cap")        \
    X(PATH,           -16,  "malformed reverse-path or forward-path")         \
    X(PATH_TOO_LONG,  -17,  "local part, domain or path over the RFC 5321 limit") \
    X(UTF8,           -18,  "non-ASCII without SMTPUTF8, or malformed UTF-8") \
    X(PARAM_SYNTAX,   -19,  "malformed ESMTP parameter")                      \
    X(PARAM_VALUE,    -20,  "invalid value of a known ESMTP parameter")       \
    X(PARAM_DUP,      -21,  "ESMTP parameter given twice")                    \
    X(PARAM_PLACE,    -22,  "ESMTP parameter not allowed on this line")       \
    X(PARAM_CAP,      -23,  "more parameters than the configured cap")        \
    X(XTEXT,          -24,  "malformed xtext")

enum bsmtp_err {
    BSMTP_OK = 0,
#define BSMTP__ERR_ENUM(name, val, text) BSMTP_ERR_##name = (val),
    BSMTP_ERRNO_MAP(BSMTP__ERR_ENUM)
#undef BSMTP__ERR_ENUM
};

const char *bsmtp_strerror(int err);
const char *bsmtp_errname(int err);

#endif
