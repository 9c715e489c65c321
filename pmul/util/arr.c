/*
 * NAME
 *	arr - overflow-checked array growth
 * SYNOPSIS
 *	#include "pmul/util/arr.h"
 * DESCRIPTION
 *	Replaces the hand-written "cap * 2 then realloc" blocks that each
 *	module used to carry, most of which did not check the multiplication
 *	by the element size for overflow (issue 8, item 5).
 * SECURITY
 *	Sizes come from our own counters; every product is checked before
 *	the allocator is called, and max bounds what a peer can make us
 *	allocate when the count it drives is capped by the caller.
 * DIAGNOSTICS
 *	UTIL_ERR_NOMEM, UTIL_ERR_FULL, UTIL_ERR_INVAL; nothing is logged.
 * SEE ALSO
 *	mem(3), buf(3).
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "arr.h"

#include <stdint.h>
#include <string.h>

int
arr_grow(const mem *m, void **p, size_t *cap, size_t need, size_t elem, size_t max)
{
    size_t ncap, limit;
    void *q;

    if (elem == 0)
        return UTIL_ERR_INVAL;
    if (need <= *cap)
        return 0;
    limit = SIZE_MAX / elem;
    if (max != 0 && need > max)
        return UTIL_ERR_FULL;
    if (max == 0 || max > limit)
        max = limit;
    if (need > max)
        return UTIL_ERR_NOMEM;
    /* Double, but saturate at max: the last growth before the cap
     * allocates exactly the cap, so the cap is reachable. */
    ncap = *cap > max / 2 ? max : *cap * 2;
    if (ncap < ARR_MIN_CAP)
        ncap = ARR_MIN_CAP < max ? ARR_MIN_CAP : max;
    if (ncap < need)
        ncap = need;
    q = mem_realloc(m, *p, ncap * elem);
    if (q == NULL)
        return UTIL_ERR_NOMEM;
    *p = q;
    *cap = ncap;
    return 0;
}

int
arr_grow_zero(const mem *m, void **p, size_t *cap, size_t need, size_t elem, size_t max)
{
    size_t old = *cap;
    int rc;

    if ((rc = arr_grow(m, p, cap, need, elem, max)) != 0)
        return rc;
    if (*cap > old)
        memset((unsigned char *)*p + old * elem, 0, (*cap - old) * elem);
    return 0;
}

size_t
arr_lower_u32(const void *base, size_t cnt, size_t stride, size_t off, uint32_t key)
{
    const unsigned char *b = base;
    size_t lo = 0, hi = cnt, mid;
    uint32_t v;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        memcpy(&v, b + mid * stride + off, sizeof(v));
        if (v < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}
