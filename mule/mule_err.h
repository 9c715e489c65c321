/*
 * mule_err.h: error codes of the MULE library (mule_core).
 *
 * One X-macro table generates the enum.  Functions return 0 or a negative
 * MULE_ERR_* in -200 .. -299 (the ranges are in pmul/util/errtab.h), or pass
 * a code of a library below (BSMTP_ERR_*, UTIL_ERR_*) through unchanged;
 * MULE_ERR_NOMEM is the shared UTIL_ERR_NOMEM.  Each owner keeps its codes
 * in its own block; values are unique across blocks.
 *
 * mule_strerror() and mule_errname() name ANY code of the project (pmul,
 * bsmtp, mule, netsim, pmul/util): they are what a program logs as
 * "reason=", whatever layer failed.  The other libraries' tables are
 * header-only data (their *_err.h), so this costs no link dependency.
 */
#ifndef MULE_ERR_H
#define MULE_ERR_H

#include "pmul/util/util_err.h"

#define MULE_ERRNO_MAP(X)                                                     \
    X(INVAL,          -202, "invalid argument")                               \
    X(NOSPACE,        -203, "output buffer too small")                        \
    X(CTL_PROTO,      -204, "malformed control protocol message")             \
    /* CompressedData, BER, zlib: -210 .. -239 */                             \
    X(BER,            -210, "malformed BER CompressedData")                   \
    X(BER_TRAILING,   -211, "octets after the CompressedData value")          \
    X(NOT_MULE,       -212, "contentType is not MULE (25)")                   \
    X(ALGORITHM,      -213, "compression algorithm is not zlib")              \
    X(INFLATE,        -214, "zlib stream is corrupt or truncated")            \
    X(TOO_BIG,        -215, "inflated content exceeds the size cap")          \
    X(RATIO,          -216, "compression ratio exceeds the cap (zlib bomb)")  \
    X(DEFLATE,        -217, "zlib compression failed")                        \
    /* Routing, relay, DSN, audit: -240 .. -279 */                            \
    X(CONFIG,         -240, "malformed routing or relay configuration")       \
    X(NO_ROUTE,       -241, "no route for a recipient")                       \
    X(NOT_RESPONSIBLE,-242, "this node is responsible for none of the recipients") \
    X(DSN,            -244, "cannot build the delivery status notification") \
    X(DSN_NULL_SENDER,-245, "reverse-path is <>: no DSN may be sent")         \
    X(DSN_NOT_REQUESTED,-246, "NOTIFY asks for no DSN for these recipients") \
    X(AUDIT_BAD,      -247, "audit log record broken (chain, sequence or format)") \
    X(AUDIT_KEY,      -248, "audit key file unusable (missing, short, or readable by others)") \
    X(AUDIT_IO,       -249, "audit log I/O error")                            \
    X(AUDIT_CRYPTO,   -250, "audit log HMAC computation failed")              \
    /* Spool (mule_spool, mule_spool_fs): -280 .. -299 */                     \
    X(SPOOL_IO,       -280, "spool I/O error (temporary)")                    \
    X(SPOOL_FULL,     -281, "spool disk full (temporary)")                    \
    X(SPOOL_CORRUPT,  -282, "spool file corrupt (magic, checksum or record)") \
    X(SPOOL_VERSION,  -283, "spool file has an unknown format version")       \
    X(SPOOL_STATE,    -284, "illegal spool state transition")                 \
    X(SPOOL_NOENT,    -285, "no such spool entry")                            \
    X(SPOOL_BUSY,     -286, "spool entry still has work to do")               \
    X(SPOOL_EXISTS,   -287, "spool entry with that queue ID exists")          \
    X(SPOOL_FULL_Q,   -288, "spool holds its maximum number of entries")      \
    X(SPOOL_RESERVE,  -289, "MSID block used up: reserve the next one")

enum mule_err {
    MULE_OK = 0,
    MULE_ERR_NOMEM = UTIL_ERR_NOMEM,    /* shared: see pmul/util/errtab.h */
#define MULE__ERR_ENUM(name, val, text) MULE_ERR_##name = (val),
    MULE_ERRNO_MAP(MULE__ERR_ENUM)
#undef MULE__ERR_ENUM
};

/*
 * Any code of any library (PMUL_ERR_*, BSMTP_ERR_*, MULE_ERR_*, NETSIM_ERR_*,
 * UTIL_ERR_*, or 0): mule_strerror() gives its static text ("unknown error"
 * for a code no table has), mule_errname() its full name
 * ("BSMTP_ERR_PATH"; "OK" for 0, "UNKNOWN" otherwise).  Never NULL.  Log
 * lines write them as "reason=NAME" or "error=\"text\"".
 */
const char *mule_strerror(int err);
const char *mule_errname(int err);
/* The code named by a full name from mule_errname() (ASCII case
 * sensitive), or 1 when no table has it. */
int mule_errcode(const char *name);

/*
 * A buf code (pmul/util/buf.h) as the mule library reports it: 0 stays 0,
 * out of memory stays (it is the one shared code), and the buffer's cap
 * becomes MULE_ERR_NOSPACE, the caller's output limit.  The one copy of
 * what mule_ber, mule_cdt, mule_dsn, mule_hdr and mule_relay each wrote.
 */
static inline int
mule_err_from_buf(int rc)
{
    return rc == 0 || rc == UTIL_ERR_NOMEM ? rc : MULE_ERR_NOSPACE;
}

#endif
