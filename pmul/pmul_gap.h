/*
 * pmul_gap.h: a set of Data_PDU sequence numbers (1..65535) as a bitmap.
 *
 * Used for what a receiver holds, what it has already reported missing,
 * and what a transmitter must send in a round.  The bitmap grows on demand
 * up to 65535 bits (8 KiB), the limit of the 16-bit sequence number field,
 * so its size never depends on more than the field itself; callers charge
 * pmul_gap_bytes() to their memory budgets.  Missing numbers are walked as
 * ranges with pmul_gap_next_clear()/pmul_gap_next_set().
 */
#ifndef PMUL_GAP_H
#define PMUL_GAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pmul/util/mem.h"

typedef struct pmul_gap {
    uint64_t *w;        /* bit (seq - 1) of word (seq - 1) / 64; owned */
    size_t nwords;      /* allocated words */
    uint32_t cnt;       /* number of set bits */
    uint16_t hi;        /* highest set sequence number, 0 when empty */
    const mem *m;       /* borrowed allocator */
} pmul_gap;

/* Embed-style init/fini; no allocation until the first set. */
void pmul_gap_init(pmul_gap *g, const mem *m);
void pmul_gap_fini(pmul_gap *g);

/* Make room for sequence numbers up to maxseq.  Returns 0 or
 * PMUL_ERR_NOMEM (the set is unchanged). */
__attribute__((warn_unused_result))
int pmul_gap_reserve(pmul_gap *g, uint16_t maxseq);

/* Add seq (>= 1).  Returns 1 when it was new, 0 when already present, or
 * PMUL_ERR_NOMEM / PMUL_ERR_RANGE (seq 0). */
__attribute__((warn_unused_result))
int pmul_gap_set(pmul_gap *g, uint16_t seq);

/* Add lo..hi inclusive (1 <= lo <= hi).  Returns 0, PMUL_ERR_NOMEM or
 * PMUL_ERR_RANGE. */
__attribute__((warn_unused_result))
int pmul_gap_set_range(pmul_gap *g, uint16_t lo, uint16_t hi);

/* Remove seq (no-op when absent), or every member. */
void pmul_gap_clear(pmul_gap *g, uint16_t seq);
void pmul_gap_clear_all(pmul_gap *g);

bool pmul_gap_has(const pmul_gap *g, uint16_t seq);

/* Members in 1..n. */
uint32_t pmul_gap_count_upto(const pmul_gap *g, uint16_t n);

/* First member >= from, or 0 when there is none. */
uint16_t pmul_gap_next_set(const pmul_gap *g, uint16_t from);

/* First non-member in from..n, or 0 when from..n are all members. */
uint16_t pmul_gap_next_clear(const pmul_gap *g, uint16_t from, uint16_t n);

/* Numbers in 1..n that are members of neither a nor b (b may be NULL). */
uint32_t pmul_gap_count_neither(const pmul_gap *a, const pmul_gap *b, uint16_t n);

/* Bytes allocated (for memory accounting). */
size_t pmul_gap_bytes(const pmul_gap *g);

#endif
