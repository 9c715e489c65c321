/*
 * NAME
 *	bsmtp_err - text and names for BSMTP_ERR_* codes
 * SYNOPSIS
 *	#include "bsmtp/bsmtp_err.h"
 * DESCRIPTION
 *	Generated from the BSMTP_ERRNO_MAP table (pmul/util/errtab.h).
 * SECURITY
 *	None.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "bsmtp/bsmtp_err.h"

#include "pmul/util/errtab.h"
#include "pmul/util/util_err.h"

ERRTAB_DEFINE_OVER(bsmtp_strerror, bsmtp_errname, BSMTP_ERRNO_MAP, util_strerror,
                   util_errname)
