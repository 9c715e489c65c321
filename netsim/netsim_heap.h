/*
 * netsim_heap.h: the simulator's event queue.
 *
 * A binary min-heap of events ordered by (time_us, seq).  seq is a counter
 * the heap assigns at push time, so two events due at the same virtual
 * microsecond come out in the order they were scheduled: the run never
 * depends on how the heap happens to break ties, which is what makes it
 * deterministic.
 */
#ifndef NETSIM_HEAP_H
#define NETSIM_HEAP_H

#include <stddef.h>
#include <stdint.h>

#include "pmul/util/heap.h"
#include "pmul/util/mem.h"

/* One scheduled event.  kind, node, gen and ptr are the caller's. */
typedef struct netsim_ev_ent {
    uint64_t time_us;   /* virtual time the event is due */
    uint64_t seq;       /* push order (assigned by the heap) */
    uint32_t kind;
    uint32_t node;
    uint64_t gen;       /* e.g. a timer generation, to ignore stale timers */
    void *ptr;          /* owned by the caller */
} netsim_ev_ent;

/* A thin wrapper of the generic pmul/util/heap.h (ties: push order). */
typedef struct netsim_heap {
    heap h;             /* of netsim_ev_ent, ordered by time_us */
    size_t len;         /* pending events (mirrors heap_len) */
} netsim_heap;

/* Embed-style init; max caps the number of pending events (0: 1<<24). */
void netsim_heap_init(netsim_heap *h, const mem *m, size_t max);
/* Free the array.  Pointers carried by pending events are not freed. */
void netsim_heap_fini(netsim_heap *h);

/*
 * Schedule *e (its seq is overwritten).  Returns 0, NETSIM_ERR_NOMEM, or
 * NETSIM_ERR_LIMIT when max events are pending (the run should stop: some
 * engine is flooding the medium).
 */
__attribute__((warn_unused_result))
int netsim_heap_push(netsim_heap *h, const netsim_ev_ent *e);

/* Remove the earliest event into *out; returns 0, or -1 if empty. */
int netsim_heap_pop(netsim_heap *h, netsim_ev_ent *out);

/* The earliest event without removing it, or NULL. */
const netsim_ev_ent *netsim_heap_peek(const netsim_heap *h);

#endif
