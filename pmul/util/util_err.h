/*
 * util_err.h: error codes of the L0 helpers in pmul/util (UTIL_ERR_*).
 *
 * One X-macro table (pmul/util/errtab.h) generates the enum, util_strerror()
 * and util_errname().  The codes sit in their own range, -400 .. -499, so
 * that a code a helper returns can pass unchanged through every layer above
 * it and still be named correctly (docs/architecture.md, "One error
 * space").  The older helpers' names (BUF_ERR_*, HEAP_ERR_*) are aliases of
 * these codes.  Includes nothing.
 */
#ifndef PMUL_UTIL_UTIL_ERR_H
#define PMUL_UTIL_UTIL_ERR_H

#define UTIL_ERRNO_MAP(X)                                                     \
    X(NOMEM,          -400, "out of memory")                                  \
    X(FULL,           -401, "configured cap reached")                         \
    X(EMPTY,          -402, "container empty or index out of range")          \
    X(NOTFOUND,       -403, "no such key")                                    \
    X(INVAL,          -404, "invalid argument")                               \
    /* Line tokenizer (tok.h). */                                             \
    X(LINE_TOO_LONG,  -410, "line longer than the configured cap")            \
    X(TOO_MANY_WORDS, -411, "more words on a line than the configured cap")   \
    X(CONTROL,        -412, "control character in a line")                    \
    X(QUOTE,          -413, "malformed quoted word")                          \
    /* Numbers with units (num.h). */                                         \
    X(NUM_SYNTAX,     -420, "not a number with a known unit")                 \
    X(NUM_RANGE,      -421, "number out of range")

enum util_err {
    UTIL_OK = 0,
#define UTIL__ERR_ENUM(name, val, text) UTIL_ERR_##name = (val),
    UTIL_ERRNO_MAP(UTIL__ERR_ENUM)
#undef UTIL__ERR_ENUM
};

/* Static text for a UTIL_ERR_* code (or 0); never NULL. */
const char *util_strerror(int err);
/* The code's name without prefix ("NOMEM"). */
const char *util_errname(int err);

#endif
