/*
 * NAME
 *	fnv - FNV-1a 64-bit hash
 * SYNOPSIS
 *	#include "pmul/util/fnv.h"
 * DESCRIPTION
 *	One implementation for netsim transcripts, the engine tests and the
 *	capture tools' payload fingerprints, so that their hashes agree.
 * SECURITY
 *	Not collision resistant; never used on a security decision.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "fnv.h"

uint64_t
fnv64_update(uint64_t h, const void *p, size_t len)
{
    const uint8_t *b = p;
    size_t i;

    for (i = 0; i < len; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

uint64_t
fnv64(const void *p, size_t len)
{
    return fnv64_update(FNV64_INIT, p, len);
}
