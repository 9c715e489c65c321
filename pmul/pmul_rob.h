/*
 * pmul_rob.h: reassembly buffer for one message being received.
 *
 * Fragments (Data_PDU payloads) are appended to one arena in arrival order
 * and indexed by sequence number; pmul_rob_assemble() produces the message
 * in sequence order.  Fragments of any size are accepted (tolerant in what
 * we accept: docs/wire.md 4.1 only infers equal sizes).  Fragments may
 * arrive before Total_Number_of_PDUs is known (early Data_PDUs).
 *
 * Every byte held is charged to two budgets the caller lends: the
 * sender's share and the node-wide total (style.md 3).  A fragment that
 * would exceed either is refused with PMUL_ERR_BUSY and nothing changes,
 * so a hostile sender can fill its own share and no more.
 *
 * FEC repair (docs/wire.md 10): fragments numbered above the Total up to
 * extra_hi (repair symbols) are held beside the source ones, charged the
 * same but not counted in data_len (the caller bounds how many it keeps),
 * and never assembled.
 */
#ifndef PMUL_ROB_H
#define PMUL_ROB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pmul/pmul_seqset.h"
#include "pmul/util/mem.h"

/* A byte budget: used <= cap always. */
typedef struct pmul_budget {
    size_t used;
    size_t cap;
} pmul_budget;

typedef struct pmul_rob_frag {
    uint16_t seq;
    uint32_t off;       /* in the arena */
    uint32_t len;
} pmul_rob_frag;

typedef struct pmul_rob {
    pmul_seqset have;          /* sequence numbers held */
    uint8_t *arena;         /* fragments in arrival order; owned */
    size_t arena_len, arena_size;
    pmul_rob_frag *idx;     /* one per fragment held; owned */
    size_t idx_cnt, idx_cap;
    size_t data_len;        /* sum of fragment lengths (1..total once
                                 * the total is known) */
    size_t max_len;         /* cap on data_len (largest message) */
    size_t charged;         /* bytes charged to the budgets */
    uint16_t total;         /* Total_Number_of_PDUs, 0 = unknown */
    uint16_t extra_hi;      /* highest number accepted above total (FEC
                                 * repair symbols; 0: none) */
    bool in_order;          /* fragments arrived as 1, 2, 3, ... */
    bool unsorted;          /* idx is not in sequence order */
    pmul_budget *b_src;     /* borrowed; may be NULL */
    pmul_budget *b_all;     /* borrowed; may be NULL */
    const mem *m;
} pmul_rob;

/* Init with the allocator, the largest message accepted and the two
 * budgets (borrowed for the rob's life; either may be NULL). */
void pmul_rob_init(pmul_rob *r, const mem *m, size_t max_len,
                   pmul_budget *b_src, pmul_budget *b_all);
/* Free everything and give the charged bytes back to the budgets. */
void pmul_rob_fini(pmul_rob *r);

/*
 * Store fragment seq (frag borrowed, copied).  Returns 1 when stored, 0 for
 * a duplicate (ignored: the first copy wins), or PMUL_ERR_RANGE (seq 0),
 * PMUL_ERR_INCONSISTENT (seq above the known total), PMUL_ERR_BUSY (a
 * budget or max_len would be exceeded), PMUL_ERR_NOMEM.  On error nothing
 * changed.
 */
__attribute__((warn_unused_result))
int pmul_rob_put(pmul_rob *r, uint16_t seq, const uint8_t *frag, size_t len);

/* Set Total_Number_of_PDUs (1..65535).  Fragments above it stay charged but
 * are never assembled (nor counted in data_len).  Returns 0 or
 * PMUL_ERR_RANGE. */
int pmul_rob_set_total(pmul_rob *r, uint16_t total);

/* Accept fragments numbered total+1..hi (FEC repair symbols) once the total
 * is known; 0 refuses them again (the default). */
void pmul_rob_set_extra(pmul_rob *r, uint16_t hi);

/*
 * Fragment seq held: *frag points into the rob (valid until the next
 * put, assemble or fini) and *len is its length.  Returns false when seq
 * is not held.  May reorder the index (not the data).
 */
bool pmul_rob_get(pmul_rob *r, uint16_t seq, const uint8_t **frag, size_t *len);

/*
 * Charge n more octets of state that lives beside the fragments (FEC
 * block state) to both budgets, released by pmul_rob_uncharge() or at
 * fini/assemble.  Returns 0 or PMUL_ERR_BUSY (nothing charged).
 */
__attribute__((warn_unused_result))
int pmul_rob_charge(pmul_rob *r, size_t n);
/* Give back up to n octets charged (never more than the rob holds). */
void pmul_rob_uncharge(pmul_rob *r, size_t n);

bool pmul_rob_has(const pmul_rob *r, uint16_t seq);
/* Fragments held in 1..total (total must be known for is_complete). */
uint32_t pmul_rob_count(const pmul_rob *r);
bool pmul_rob_is_complete(const pmul_rob *r);

/*
 * Build the message: fragments 1..total concatenated.  On success *out is
 * a new buffer of *len octets allocated with the rob's allocator (the
 * caller frees it with mem_free); the rob is emptied and its budget
 * charges released.  Returns 0, PMUL_ERR_INVAL (incomplete) or
 * PMUL_ERR_NOMEM (the rob is unchanged).
 */
__attribute__((warn_unused_result))
int pmul_rob_assemble(pmul_rob *r, uint8_t **out, size_t *len);

#endif
