/*
 * mule_err.h: error codes of the MULE library (mule_core).
 *
 * One X-macro table generates the enum, mule_strerror() and mule_errname().
 * Functions return 0 or a negative MULE_ERR_*.  Each owner keeps its codes
 * in its own block; values are unique across blocks.
 */
#ifndef MULE_ERR_H
#define MULE_ERR_H

#define MULE_ERRNO_MAP(X)                                                     \
    X(NOMEM,          -1,   "out of memory")                                  \
    X(INVAL,          -2,   "invalid argument")                               \
    X(NOSPACE,        -3,   "output buffer too small")                        \
    /* CompressedData, BER, zlib: -10 .. -39 */                               \
    X(BER,            -10,  "malformed BER CompressedData")                   \
    X(BER_TRAILING,   -11,  "octets after the CompressedData value")          \
    X(NOT_MULE,       -12,  "contentType is not MULE (25)")                   \
    X(ALGORITHM,      -13,  "compression algorithm is not zlib")              \
    X(INFLATE,        -14,  "zlib stream is corrupt or truncated")            \
    X(TOO_BIG,        -15,  "inflated content exceeds the size cap")          \
    X(RATIO,          -16,  "compression ratio exceeds the cap (zlib bomb)")  \
    X(DEFLATE,        -17,  "zlib compression failed")                        \
    /* Routing, relay, DSN, audit: -40 .. -79 */                              \
    X(CONFIG,         -40,  "malformed routing or relay configuration")       \
    X(NO_ROUTE,       -41,  "no route for a recipient")                       \
    X(NOT_RESPONSIBLE,-42,  "this node is responsible for none of the recipients") \
    X(ENVELOPE,       -43,  "malformed envelope")                             \
    X(DSN,            -44,  "cannot build the delivery status notification") \
    X(DSN_NULL_SENDER,-45,  "reverse-path is <>: no DSN may be sent")         \
    X(DSN_NOT_REQUESTED,-46, "NOTIFY asks for no DSN for these recipients")

enum mule_err {
    MULE_OK = 0,
#define MULE__ERR_ENUM(name, val, text) MULE_ERR_##name = (val),
    MULE_ERRNO_MAP(MULE__ERR_ENUM)
#undef MULE__ERR_ENUM
};

/* Static text for a MULE_ERR_* code (or 0); never NULL. */
const char *mule_strerror(int err);
/* The code's name without prefix ("INFLATE"). */
const char *mule_errname(int err);

#endif
