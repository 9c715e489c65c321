/*
 * NAME
 *	mule_err - names and texts for every error code of the project
 * SYNOPSIS
 *	#include "mule/mule_err.h"
 * DESCRIPTION
 *	One error space (issue 8, item 4): each library owns a disjoint range
 *	(pmul/util/errtab.h, ERRTAB_RANGES) and codes pass unchanged through
 *	the layers, so one function can name any code a daemon ever logs.
 *	This file expands every library's X-macro table (PMUL_ERRNO_MAP,
 *	BSMTP_ERRNO_MAP, MULE_ERRNO_MAP, NETSIM_ERRNO_MAP, UTIL_ERRNO_MAP)
 *	into two switches and one table.  The tables are header-only data,
 *	so mule_core gains no link dependency on pmul_core or netsim; and a
 *	code that two tables both claimed would be a duplicate case label,
 *	which the compiler refuses.
 * SECURITY
 *	None: codes are our own.
 * DIAGNOSTICS
 *	None.
 * SEE ALSO
 *	pmul/util/errtab.h, pmul_err(3), bsmtp_err(3), netsim_err(3).
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "mule/mule_err.h"

#include <stddef.h>
#include <string.h>

#include "bsmtp/bsmtp_err.h"
#include "netsim/netsim_err.h"
#include "pmul/pmul_err.h"
#include "pmul/util/errtab.h"
#include "pmul/util/util_err.h"

/* Every table, with each library's name prefix. */
#define ALL_TABLES(T)                                                         \
    T(UTIL_ERRNO_MAP, "UTIL_ERR_")                                            \
    T(PMUL_ERRNO_MAP, "PMUL_ERR_")                                            \
    T(BSMTP_ERRNO_MAP, "BSMTP_ERR_")                                          \
    T(MULE_ERRNO_MAP, "MULE_ERR_")                                            \
    T(NETSIM_ERRNO_MAP, "NETSIM_ERR_")

const char *
mule_strerror(int err)
{
#define TEXT_CASES(MAP, prefix) MAP(ERRTAB__TEXT)
    switch (err) {
    case 0:
        return "success";
    ALL_TABLES(TEXT_CASES)
    }
#undef TEXT_CASES
    return "unknown error";
}

/* Full names: the prefix is pasted per table, hence one macro each. */
#define NAME_UTIL(n, v, t)   case (v): return "UTIL_ERR_" #n;
#define NAME_PMUL(n, v, t)   case (v): return "PMUL_ERR_" #n;
#define NAME_BSMTP(n, v, t)  case (v): return "BSMTP_ERR_" #n;
#define NAME_MULE(n, v, t)   case (v): return "MULE_ERR_" #n;
#define NAME_NETSIM(n, v, t) case (v): return "NETSIM_ERR_" #n;

const char *
mule_errname(int err)
{
    switch (err) {
    case 0:
        return "OK";
    UTIL_ERRNO_MAP(NAME_UTIL)
    PMUL_ERRNO_MAP(NAME_PMUL)
    BSMTP_ERRNO_MAP(NAME_BSMTP)
    MULE_ERRNO_MAP(NAME_MULE)
    NETSIM_ERRNO_MAP(NAME_NETSIM)
    }
    return "UNKNOWN";
}

int
mule_errcode(const char *name)
{
    /* Only for tools and tests (parsing a name back): a scan is enough. */
    static const int codes[] = {
#define CODE(n, v, t) (v),
#define CODE_TABLE(MAP, prefix) MAP(CODE)
        ALL_TABLES(CODE_TABLE)
#undef CODE_TABLE
#undef CODE
    };
    size_t i;

    if (name == NULL)
        return 1;
    if (strcmp(name, "OK") == 0)
        return 0;
    for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        if (strcmp(mule_errname(codes[i]), name) == 0)
            return codes[i];
    return 1;
}
