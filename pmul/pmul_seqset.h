/*
 * pmul_seqset.h: a set of Data_PDU sequence numbers (1..65535) as a bitmap.
 *
 * Used for what a receiver holds, what it has already reported missing,
 * and what a transmitter must send in a round.  The bitmap grows on demand
 * up to 65535 bits (8 KiB), the limit of the 16-bit sequence number field,
 * so its size never depends on more than the field itself; callers charge
 * pmul_seqset_bytes() to their memory budgets.  Missing numbers are walked as
 * ranges with pmul_seqset_next_clear()/pmul_seqset_next_set().
 */
#ifndef PMUL_SEQSET_H
#define PMUL_SEQSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pmul/util/mem.h"

typedef struct pmul_seqset {
    uint64_t *w;        /* bit (seq - 1) of word (seq - 1) / 64; owned */
    size_t nwords;      /* allocated words */
    uint32_t cnt;       /* number of set bits */
    uint16_t hi;        /* highest set sequence number, 0 when empty */
    const mem *m;       /* borrowed allocator */
} pmul_seqset;

/* Embed-style init/fini; no allocation until the first set. */
void pmul_seqset_init(pmul_seqset *g, const mem *m);
void pmul_seqset_fini(pmul_seqset *g);

/* Make room for sequence numbers up to maxseq.  Returns 0 or
 * PMUL_ERR_NOMEM (the set is unchanged). */
__attribute__((warn_unused_result))
int pmul_seqset_reserve(pmul_seqset *g, uint16_t maxseq);

/* Add seq (>= 1).  Returns 1 when it was new, 0 when already present, or
 * PMUL_ERR_NOMEM / PMUL_ERR_RANGE (seq 0). */
__attribute__((warn_unused_result))
int pmul_seqset_set(pmul_seqset *g, uint16_t seq);

/* Add lo..hi inclusive (1 <= lo <= hi).  Returns 0, PMUL_ERR_NOMEM or
 * PMUL_ERR_RANGE. */
__attribute__((warn_unused_result))
int pmul_seqset_set_range(pmul_seqset *g, uint16_t lo, uint16_t hi);

/* Remove seq (no-op when absent), or every member. */
void pmul_seqset_clear(pmul_seqset *g, uint16_t seq);
void pmul_seqset_clear_all(pmul_seqset *g);

bool pmul_seqset_has(const pmul_seqset *g, uint16_t seq);

/* Members in 1..n. */
uint32_t pmul_seqset_count_upto(const pmul_seqset *g, uint16_t n);

/* First member >= from, or 0 when there is none. */
uint16_t pmul_seqset_next_set(const pmul_seqset *g, uint16_t from);

/* First non-member in from..n, or 0 when from..n are all members. */
uint16_t pmul_seqset_next_clear(const pmul_seqset *g, uint16_t from, uint16_t n);

/* Numbers in 1..n that are members of neither a nor b (b may be NULL). */
uint32_t pmul_seqset_count_neither(const pmul_seqset *a, const pmul_seqset *b, uint16_t n);

/* Bytes allocated (for memory accounting). */
size_t pmul_seqset_bytes(const pmul_seqset *g);

#endif
