/*
 * pmul_err.h: error codes of the P_MUL library (codec and engine).
 *
 * One X-macro table generates the enum and pmul_strerror() (libuv's
 * UV_ERRNO_MAP pattern).  Functions return 0 or a negative PMUL_ERR_*.
 * Codes at or below PMUL_ERR_FATAL mean the object must be torn down; the
 * codec's codes are all "drop this datagram, count it, carry on".
 * The codes lie in -1 .. -99 (the ranges are in pmul/util/errtab.h);
 * PMUL_ERR_NOMEM is the shared UTIL_ERR_NOMEM (below FATAL).
 * pmul_strerror() and pmul_errname() also name the pmul/util codes.
 */
#ifndef PMUL_ERR_H
#define PMUL_ERR_H

#include "pmul/util/util_err.h"

#define PMUL_ERRNO_MAP(X)                                                     \
    /* Codec: malformed or unacceptable datagrams. */                        \
    X(SHORT,          -1,  "datagram shorter than the P_MUL common header")  \
    X(LENGTH,         -2,  "Length_of_PDU does not match the datagram size")  \
    X(TRAILING,       -3,  "trailing octets after the PDU structure")        \
    X(TRUNCATED,      -4,  "PDU structure runs past Length_of_PDU")           \
    X(CHECKSUM,       -5,  "checksum is neither Fletcher nor RFC 1071")       \
    X(TYPE,           -6,  "unknown PDU type")                                \
    X(MAP,            -7,  "MAP bits set on a PDU type that does not use them") \
    X(SEQ_ZERO,       -8,  "Data_PDU sequence number 0")                      \
    X(ACK_COUNT,      -9,  "Ack_PDU with no ACK_Info_Entry")                  \
    X(ACK_ENTRY_LEN,  -10, "Length_of_ACK_Info_Entry under 10, odd or past the PDU") \
    X(ACK_MISSING,    -11, "invalid missing sequence number (lone 0)")        \
    X(ACK_RANGE,      -12, "invalid missing sequence range (from >= to)")     \
    X(DEST_COUNT,     -13, "destination entries do not fill the PDU")         \
    X(TOO_LONG,       -14, "datagram longer than the configured PDU maximum") \
    X(CAP,            -15, "count exceeds the configured cap")                \
    X(TIMESTAMP,      -16, "octets after the last ACK_Info_Entry are not an 8-octet timestamp") \
    X(FEC_ID,         -17, "FEC_ID or FEC parameter version not supported")  \
    X(FEC_PARAM,      -18, "FEC_Parameters malformed or inconsistent with the message") \
    /* Encoder and API misuse. */                                            \
    X(NOSPACE,        -20, "output buffer too small")                         \
    X(INVAL,          -21, "invalid argument")                                \
    X(RANGE,          -22, "value out of range for its field")                \
    /* Engine. */                                                             \
    X(NOTFOUND,       -30, "no such message")                                 \
    X(BUSY,           -31, "limit on messages in flight reached")             \
    X(EXPIRED,        -32, "message expiry time has passed")                  \
    X(CALLBACK,       -33, "callback failed")                                 \
    X(DUPLICATE,      -34, "duplicate PDU (already held)")                    \
    X(NOT_FOR_US,     -35, "PDU not addressed to this node or message")       \
    X(INCONSISTENT,   -36, "PDU contradicts the state of its message")        \
    X(OWN,            -37, "our own PDU looped back")                         \
    X(UNEXPECTED,     -38, "valid PDU with no use in this state")             \
    X(SPOOFED,        -39, "Source_ID not the sender's address, or not allowed") \
    /* Authenticated mode (pmul_auth.h): datagrams dropped before the engine. */ \
    X(AUTH_MISSING,   -45, "no authentication trailer (node not in authenticated mode)") \
    X(AUTH_BAD,       -46, "authentication trailer does not verify (key, key ID or MAC)") \
    X(AUTH_REPLAY,    -47, "authenticated datagram seen already or older than the replay window") \
    /* Codes at or below FATAL: tear the object down. */                      \
    X(FATAL,          -99,  "fatal error")

enum pmul_err {
    PMUL_OK = 0,
    PMUL_ERR_NOMEM = UTIL_ERR_NOMEM,     /* shared: see pmul/util/errtab.h */
#define PMUL__ERR_ENUM(name, val, text) PMUL_ERR_##name = (val),
    PMUL_ERRNO_MAP(PMUL__ERR_ENUM)
#undef PMUL__ERR_ENUM
};

/* Static text for a PMUL_ERR_* code (or 0); never NULL. */
const char *pmul_strerror(int err);
/* The code's name without prefix ("CHECKSUM"), for logs and tests. */
const char *pmul_errname(int err);

#endif
