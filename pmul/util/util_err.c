/*
 * NAME
 *	util_err - text and names for UTIL_ERR_* codes
 * SYNOPSIS
 *	#include "pmul/util/util_err.h"
 * DESCRIPTION
 *	Generated from the UTIL_ERRNO_MAP table (pmul/util/errtab.h).  The
 *	bottom of every library's chain: pmul, bsmtp, mule and netsim name
 *	UTIL_ERR_NOMEM (their shared out-of-memory code) through these.
 * SECURITY
 *	None.
 * DIAGNOSTICS
 *	None.
 * SEE ALSO
 *	errtab.h.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "util_err.h"

#include "errtab.h"

ERRTAB_DEFINE(util_strerror, util_errname, UTIL_ERRNO_MAP)
