/*
 * NAME
 *	pmul_doneset - delivered MSIDs of one source, as ranges until expiry
 * SYNOPSIS
 *	#include "pmul/pmul_doneset.h"
 * DESCRIPTION
 *	See pmul_doneset.h.  Lookups are a binary search over the ranges;
 *	an add merges with the neighbouring ranges when msid touches them,
 *	so consecutive MSIDs cost nothing more than the first.
 * SECURITY
 *	MSIDs and expiry times come from peers.  The range count is capped
 *	(max); past it an add fails instead of growing.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "pmul/pmul_doneset.h"

#include <stddef.h>
#include <string.h>

#include "pmul/pmul_err.h"
#include "pmul/util/arr.h"

void
pmul_doneset_init(pmul_doneset *d, const mem *m, size_t max_ranges)
{
    memset(d, 0, sizeof(*d));
    d->m = m;
    d->max = max_ranges;
}

void
pmul_doneset_fini(pmul_doneset *d)
{
    mem_free(d->m, d->r);
    d->r = NULL;
    d->cnt = d->cap = 0;
}

/* Index of the first range whose hi >= msid (cnt if none). */
static size_t
lower(const pmul_doneset *d, uint32_t msid)
{
    return arr_lower_u32(d->r, d->cnt, sizeof(*d->r), offsetof(pmul_done_range, hi), msid);
}

bool
pmul_doneset_has(const pmul_doneset *d, uint32_t msid, int64_t now_s)
{
    size_t i = lower(d, msid);

    return i < d->cnt && d->r[i].lo <= msid && d->r[i].expiry_s > now_s;
}

static int64_t
later(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

/* Does msid extend the range before i (i > 0) or the range at i? */
static bool
joins_left(const pmul_doneset *d, size_t i, uint32_t msid)
{
    return i > 0 && d->r[i - 1].hi != UINT32_MAX && d->r[i - 1].hi + 1 == msid;
}

static bool
joins_right(const pmul_doneset *d, size_t i, uint32_t msid)
{
    return i < d->cnt && msid != UINT32_MAX && d->r[i].lo == msid + 1;
}

int
pmul_doneset_add(pmul_doneset *d, uint32_t msid, int64_t expiry_s)
{
    size_t i = lower(d, msid);
    void *p = d->r;
    bool l, r;

    if (i < d->cnt && d->r[i].lo <= msid) {
        d->r[i].expiry_s = later(d->r[i].expiry_s, expiry_s);
        return 0;
    }
    l = joins_left(d, i, msid);
    r = joins_right(d, i, msid);
    if (l && r) {
        /* msid closes the gap between two ranges: one range. */
        d->r[i - 1].hi = d->r[i].hi;
        d->r[i - 1].expiry_s = later(later(d->r[i - 1].expiry_s, d->r[i].expiry_s), expiry_s);
        memmove(&d->r[i], &d->r[i + 1], (d->cnt - i - 1) * sizeof(*d->r));
        d->cnt--;
        return 0;
    }
    if (l) {
        d->r[i - 1].hi = msid;
        d->r[i - 1].expiry_s = later(d->r[i - 1].expiry_s, expiry_s);
        return 0;
    }
    if (r) {
        d->r[i].lo = msid;
        d->r[i].expiry_s = later(d->r[i].expiry_s, expiry_s);
        return 0;
    }
    if (d->cnt >= d->max)
        return PMUL_ERR_BUSY;
    if (arr_grow(d->m, &p, &d->cap, d->cnt + 1, sizeof(*d->r), d->max) != 0)
        return PMUL_ERR_NOMEM;
    d->r = p;
    memmove(&d->r[i + 1], &d->r[i], (d->cnt - i) * sizeof(*d->r));
    d->r[i].lo = d->r[i].hi = msid;
    d->r[i].expiry_s = expiry_s;
    d->cnt++;
    return 0;
}

int
pmul_doneset_remember(pmul_doneset *d, uint32_t msid, int64_t expiry_s, int64_t now_s)
{
    int rc = pmul_doneset_add(d, msid, expiry_s);

    if (rc != PMUL_ERR_BUSY)
        return rc;
    pmul_doneset_prune(d, now_s);
    return pmul_doneset_add(d, msid, expiry_s);
}

void
pmul_doneset_prune(pmul_doneset *d, int64_t now_s)
{
    size_t i, k = 0;

    for (i = 0; i < d->cnt; i++)
        if (d->r[i].expiry_s > now_s)
            d->r[k++] = d->r[i];
    d->cnt = k;
    if (k == 0) {
        /* A source that stopped sending gives its memory back. */
        mem_free(d->m, d->r);
        d->r = NULL;
        d->cap = 0;
    }
}

size_t
pmul_doneset_bytes(const pmul_doneset *d)
{
    return d->cap * sizeof(*d->r);
}
