/*
 * NAME
 *	pmul_err - text and names for PMUL_ERR_* codes
 * SYNOPSIS
 *	#include "pmul/pmul_err.h"
 * DESCRIPTION
 *	Generated from the PMUL_ERRNO_MAP table (pmul/util/errtab.h).
 * SECURITY
 *	None.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "pmul/pmul_err.h"

#include "pmul/util/errtab.h"
#include "pmul/util/util_err.h"

ERRTAB_DEFINE_OVER(pmul_strerror, pmul_errname, PMUL_ERRNO_MAP, util_strerror, util_errname)
