/*
 * errtab.h: generate strerror/errname functions from an X-macro error table.
 *
 * Each library keeps one table X(name, value, text) (libuv's UV_ERRNO_MAP);
 * ERRTAB_DEFINE turns it into `const char *strerror_fn(int)` and
 * `const char *errname_fn(int)`, so codes, texts and names cannot drift.
 * Includes nothing.
 */
#ifndef PMUL_UTIL_ERRTAB_H
#define PMUL_UTIL_ERRTAB_H

#define ERRTAB__TEXT(name, val, text) case (val): return (text);
#define ERRTAB__NAME(name, val, text) case (val): return #name;

#define ERRTAB_DEFINE(strerror_fn, errname_fn, MAP)                          \
    const char *strerror_fn(int err)                                         \
    {                                                                        \
        switch (err) {                                                       \
        case 0: return "success";                                            \
        MAP(ERRTAB__TEXT)                                                    \
        }                                                                    \
        return "unknown error";                                              \
    }                                                                        \
    const char *errname_fn(int err)                                          \
    {                                                                        \
        switch (err) {                                                       \
        case 0: return "OK";                                                 \
        MAP(ERRTAB__NAME)                                                    \
        }                                                                    \
        return "UNKNOWN";                                                    \
    }

#endif
