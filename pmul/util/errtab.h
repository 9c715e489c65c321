/*
 * errtab.h: generate strerror/errname functions from an X-macro error table.
 *
 * Each library keeps one table X(name, value, text) (libuv's UV_ERRNO_MAP);
 * ERRTAB_DEFINE turns it into `const char *strerror_fn(int)` and
 * `const char *errname_fn(int)`, so codes, texts and names cannot drift.
 *
 * One error space (docs/architecture.md): every library owns a disjoint
 * range of negative codes (ERRTAB_RANGES below), so a code passes through
 * any number of layers unchanged and still says which library produced it.
 * Out of memory is the one condition with a single code everywhere
 * (UTIL_ERR_NOMEM; each library's *_ERR_NOMEM is an alias), so a caller
 * can test for it without knowing which layer failed.  A library's
 * functions name its own codes and hand every other code to the table of
 * the layer below (ERRTAB_DEFINE_OVER); mule_errname() in mule/mule_err.h
 * names any code of any library.  Includes nothing.
 */
#ifndef PMUL_UTIL_ERRTAB_H
#define PMUL_UTIL_ERRTAB_H

/*
 * The ranges, one line per library: R(prefix, first, last).  first is the
 * code closest to zero.  tests/unit/test_errspace.c checks that every code
 * of every table lies in its library's range and that no two codes are
 * equal.
 */
#define ERRTAB_RANGES(R)                                                      \
    R(PMUL,   -1,   -99)                                                      \
    R(BSMTP,  -100, -199)                                                     \
    R(MULE,   -200, -299)                                                     \
    R(NETSIM, -300, -399)                                                     \
    R(UTIL,   -400, -499)                                                     \
    R(PCAP,   -500, -599)

/* PMUL_ERR_FIRST, PMUL_ERR_LAST, BSMTP_ERR_FIRST ... for range checks
 * (bsmtp_is_err() and the like). */
#define ERRTAB__RANGE_ENUM(P, first, last) P##_ERR_FIRST = (first), P##_ERR_LAST = (last),
enum errtab_range { ERRTAB_RANGES(ERRTAB__RANGE_ENUM) };

#define ERRTAB__TEXT(name, val, text) case (val): return (text);
#define ERRTAB__NAME(name, val, text) case (val): return #name;

/* Functions for a table that names its own codes only. */
#define ERRTAB_DEFINE(strerror_fn, errname_fn, MAP)                          \
    ERRTAB_DEFINE_OVER(strerror_fn, errname_fn, MAP, ERRTAB__UNKNOWN_TEXT,    \
                       ERRTAB__UNKNOWN_NAME)

/* Functions that name their table's codes and pass any other non-zero
 * code to below_strerror / below_errname. */
#define ERRTAB_DEFINE_OVER(strerror_fn, errname_fn, MAP, below_strerror,      \
                           below_errname)                                     \
    const char *strerror_fn(int err)                                         \
    {                                                                        \
        switch (err) {                                                       \
        case 0: return "success";                                            \
        MAP(ERRTAB__TEXT)                                                    \
        }                                                                    \
        return below_strerror(err);                                          \
    }                                                                        \
    const char *errname_fn(int err)                                          \
    {                                                                        \
        switch (err) {                                                       \
        case 0: return "OK";                                                 \
        MAP(ERRTAB__NAME)                                                    \
        }                                                                    \
        return below_errname(err);                                           \
    }

static inline const char *
ERRTAB__UNKNOWN_TEXT(int err)
{
    (void)err;
    return "unknown error";
}

static inline const char *
ERRTAB__UNKNOWN_NAME(int err)
{
    (void)err;
    return "UNKNOWN";
}

#endif
