/*
 * arr.h: overflow-checked growth of a caller-owned array.
 *
 * The one place where an array of fixed-size elements grows: the capacity
 * doubles (amortised O(1) appends), never exceeds a caller's cap, and the
 * byte size is checked for overflow before the allocator sees it (Postfix
 * vstring_extend).  On failure the array and its capacity are unchanged,
 * so the caller's state stays consistent.  Includes only libc.
 */
#ifndef PMUL_UTIL_ARR_H
#define PMUL_UTIL_ARR_H

#include <stddef.h>
#include <stdint.h>

#include "mem.h"
#include "util_err.h"

/* Smallest capacity a first growth allocates (fewer reallocations for the
 * common small tables; still capped by max). */
#define ARR_MIN_CAP 8

/*
 * Make *p (an array of elem-octet elements with capacity *cap elements,
 * allocated from m, NULL when *cap is 0) hold at least need elements.  The
 * new capacity is the larger of need, twice *cap and ARR_MIN_CAP, but never
 * more than max (0: no cap besides SIZE_MAX / elem).  Elements already in
 * the array are kept; new ones are uninitialised.
 *
 * Returns 0 (also when *cap >= need already), or one of:
 *   UTIL_ERR_FULL   need > max: the caller's cap (report it as a limit);
 *   UTIL_ERR_NOMEM  allocation failed or need * elem overflows size_t;
 *   UTIL_ERR_INVAL  elem is 0.
 * On failure *p and *cap are unchanged.
 */
__attribute__((warn_unused_result))
int arr_grow(const mem *m, void **p, size_t *cap, size_t need, size_t elem, size_t max);

/* arr_grow, then zero the elements between the old and the new capacity
 * (so that a partly built element, or one never built, frees cleanly). */
__attribute__((warn_unused_result))
int arr_grow_zero(const mem *m, void **p, size_t *cap, size_t need, size_t elem,
                  size_t max);

/*
 * Binary search over cnt elements of stride octets at base, sorted by the
 * uint32_t at offset off of each: the index of the first element whose key
 * is >= key (cnt when none).  The one lower bound of sorted ID tables.
 */
size_t arr_lower_u32(const void *base, size_t cnt, size_t stride, size_t off, uint32_t key);

#endif
