/*
 * netsim_err.h: error codes of the netsim library.
 *
 * One X-macro table generates the enum, netsim_strerror() and
 * netsim_errname() (pmul/util/errtab.h).  Functions return 0 or a negative
 * NETSIM_ERR_* in -300 .. -399, or a PMUL_ERR_* code passed through;
 * NETSIM_ERR_NOMEM is the shared UTIL_ERR_NOMEM.  netsim_strerror() and
 * netsim_errname() also name pmul and pmul/util codes.  A run whose
 * expectations fail is not an error: the checker reports failures as a
 * count and as text.
 */
#ifndef NETSIM_ERR_H
#define NETSIM_ERR_H

#include "pmul/util/util_err.h"

#define NETSIM_ERRNO_MAP(X)                                                   \
    X(INVAL,     -302, "invalid argument")                                    \
    X(PARSE,     -303, "scenario syntax error")                               \
    X(RANGE,     -304, "value out of range")                                  \
    X(LIMIT,     -305, "configured limit reached")                            \
    X(ENGINE,    -306, "engine call failed")                                  \
    X(NOTFOUND,  -307, "no such node or message")                             \
    X(DUP,       -308, "name or address defined twice")                       \
    X(SINK,      -309, "output hook failed")                                  \
    X(STALL,     -310, "engine deadline does not advance")

enum netsim_err {
    NETSIM_OK = 0,
    NETSIM_ERR_NOMEM = UTIL_ERR_NOMEM,    /* shared: see pmul/util/errtab.h */
#define NETSIM__ERR_ENUM(name, val, text) NETSIM_ERR_##name = (val),
    NETSIM_ERRNO_MAP(NETSIM__ERR_ENUM)
#undef NETSIM__ERR_ENUM
};

/* Static text for a NETSIM_ERR_* code (or 0); never NULL. */
const char *netsim_strerror(int err);
/* The code's name without prefix ("PARSE"), for logs and tests. */
const char *netsim_errname(int err);

#endif
