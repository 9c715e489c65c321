/*
 * NAME
 *	mule_err - text and names for MULE_ERR_* codes
 * SYNOPSIS
 *	#include "mule/mule_err.h"
 * DESCRIPTION
 *	Generated from the MULE_ERRNO_MAP table (pmul/util/errtab.h).
 * SECURITY
 *	None.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "mule/mule_err.h"

#include "pmul/util/errtab.h"

ERRTAB_DEFINE(mule_strerror, mule_errname, MULE_ERRNO_MAP)
