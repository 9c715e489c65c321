/*
 * pmul_doneset.h: the MSIDs of one source that this receiver delivered,
 * remembered until their Expiry_Time, as ranges.
 *
 * Exactly-once delivery needs the receiver to recognise a late copy of a
 * message it already delivered (a duplicated or held-back Address_PDU or
 * Data_PDU, an EMCON repetition, a replay) for as long as the
 * transmitter may send it: until the message's Expiry_Time.  A
 * transmitter numbers its messages consecutively, so the set is kept as
 * sorted, disjoint ranges [lo, hi], each with the latest expiry of its
 * members: a day of one source's traffic is one or a few ranges, not
 * thousands of entries.  The number of ranges is capped; the caller
 * refuses new messages of that source when the set is full rather than
 * forget one (a refused message is retransmitted; a forgotten one can be
 * delivered twice).
 */
#ifndef PMUL_DONESET_H
#define PMUL_DONESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pmul/util/mem.h"

typedef struct pmul_done_range {
    uint32_t lo, hi;            /* inclusive */
    int64_t expiry_s;           /* latest Expiry_Time of its members */
} pmul_done_range;

typedef struct pmul_doneset {
    pmul_done_range *r;         /* ascending, disjoint, never adjacent */
    size_t cnt, cap;
    size_t max;                 /* cap on cnt */
    const mem *m;               /* borrowed */
} pmul_doneset;

/* Embed-style init (no allocation until the first add) and fini. */
void pmul_doneset_init(pmul_doneset *d, const mem *m, size_t max_ranges);
void pmul_doneset_fini(pmul_doneset *d);

/*
 * Remember msid until expiry_s.  Returns 0, PMUL_ERR_BUSY (it needs a
 * new range and the set holds max ranges: prune first) or PMUL_ERR_NOMEM;
 * on error the set is unchanged.
 */
__attribute__((warn_unused_result))
int pmul_doneset_add(pmul_doneset *d, uint32_t msid, int64_t expiry_s);

/* pmul_doneset_add, and when the set is full, forget the ranges expired
 * by now_s and try once more (same results). */
__attribute__((warn_unused_result))
int pmul_doneset_remember(pmul_doneset *d, uint32_t msid, int64_t expiry_s, int64_t now_s);

/* Was msid delivered, with an expiry after now_s? */
bool pmul_doneset_has(const pmul_doneset *d, uint32_t msid, int64_t now_s);

/* Forget the ranges whose expiry is at or before now_s. */
void pmul_doneset_prune(pmul_doneset *d, int64_t now_s);


/* Bytes allocated (for memory accounting). */
size_t pmul_doneset_bytes(const pmul_doneset *d);

#endif
