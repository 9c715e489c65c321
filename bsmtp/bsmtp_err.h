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
    X(INVAL,          -2,   "invalid argument")

enum bsmtp_err {
    BSMTP_OK = 0,
#define BSMTP__ERR_ENUM(name, val, text) BSMTP_ERR_##name = (val),
    BSMTP_ERRNO_MAP(BSMTP__ERR_ENUM)
#undef BSMTP__ERR_ENUM
};

const char *bsmtp_strerror(int err);
const char *bsmtp_errname(int err);

#endif
