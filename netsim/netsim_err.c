/*
 * NAME
 *	netsim_err - text and names for NETSIM_ERR_* codes
 * SYNOPSIS
 *	#include "netsim/netsim_err.h"

#include "pmul/pmul_err.h"
 * DESCRIPTION
 *	Generated from the NETSIM_ERRNO_MAP table (pmul/util/errtab.h), so
 *	codes, texts and names cannot drift apart.
 * SECURITY
 *	None.
 * DIAGNOSTICS
 *	None.
 * SEE ALSO
 *	pmul_err(3), libuv UV_ERRNO_MAP.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "netsim/netsim_err.h"

#include "pmul/pmul_err.h"

#include "pmul/util/errtab.h"

/* netsim passes engine (pmul) codes through: name them too. */
ERRTAB_DEFINE_OVER(netsim_strerror, netsim_errname, NETSIM_ERRNO_MAP, pmul_strerror,
                   pmul_errname)
