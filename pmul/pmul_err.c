/*
 * NAME
 *	pmul_err - text for PMUL_ERR_* codes
 * SYNOPSIS
 *	#include "pmul/pmul_err.h"
 * DESCRIPTION
 *	Generated from the PMUL_ERRNO_MAP table so codes and texts cannot drift.
 * SECURITY
 *	None.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "pmul_err.h"

const char *
pmul_strerror(int err)
{
    switch (err) {
    case PMUL_OK:
        return "success";
#define PMUL__ERR_TEXT(name, val, text) case PMUL_ERR_##name: return text;
    PMUL_ERRNO_MAP(PMUL__ERR_TEXT)
#undef PMUL__ERR_TEXT
    }
    return "unknown error";
}

const char *
pmul_errname(int err)
{
    switch (err) {
    case PMUL_OK:
        return "OK";
#define PMUL__ERR_NAME(name, val, text) case PMUL_ERR_##name: return #name;
    PMUL_ERRNO_MAP(PMUL__ERR_NAME)
#undef PMUL__ERR_NAME
    }
    return "UNKNOWN";
}
