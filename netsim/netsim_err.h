/*
 * netsim_err.h: error codes of the netsim library.
 *
 * One X-macro table generates the enum, netsim_strerror() and
 * netsim_errname() (pmul/util/errtab.h).  Functions return 0 or a negative
 * NETSIM_ERR_*.  A run whose expectations fail is not an error: the checker
 * reports failures as a count and as text.
 */
#ifndef NETSIM_ERR_H
#define NETSIM_ERR_H

#define NETSIM_ERRNO_MAP(X)                                                   \
    X(NOMEM,     -1,  "out of memory")                                        \
    X(INVAL,     -2,  "invalid argument")                                     \
    X(PARSE,     -3,  "scenario syntax error")                                \
    X(RANGE,     -4,  "value out of range")                                   \
    X(LIMIT,     -5,  "configured limit reached")                             \
    X(ENGINE,    -6,  "engine call failed")                                   \
    X(NOTFOUND,  -7,  "no such node or message")                              \
    X(DUP,       -8,  "name or address defined twice")                        \
    X(SINK,      -9,  "output hook failed")                                   \
    X(STALL,     -10, "engine deadline does not advance")

enum netsim_err {
    NETSIM_OK = 0,
#define NETSIM__ERR_ENUM(name, val, text) NETSIM_ERR_##name = (val),
    NETSIM_ERRNO_MAP(NETSIM__ERR_ENUM)
#undef NETSIM__ERR_ENUM
};

/* Static text for a NETSIM_ERR_* code (or 0); never NULL. */
const char *netsim_strerror(int err);
/* The code's name without prefix ("PARSE"), for logs and tests. */
const char *netsim_errname(int err);

#endif
