/*
 * NAME
 *	netsim_heap - binary min-heap of simulator events
 * SYNOPSIS
 *	#include "netsim/netsim_heap.h"
 * DESCRIPTION
 *	The event queue on the project's one binary heap (pmul/util/heap.c),
 *	keyed by (time_us, seq).  seq is the heap's insertion number, so ties
 *	come out in push order; no two keys are equal, the pop order is a
 *	total order and a run is reproducible (the transcript hashes did not
 *	change when the hand-written heap was replaced).  The array grows
 *	geometrically up to a cap.
 * SECURITY
 *	Sees no untrusted input.  The cap bounds memory if an engine under
 *	test floods the medium.
 * DIAGNOSTICS
 *	NETSIM_ERR_NOMEM, NETSIM_ERR_LIMIT.  Logs nothing.
 * SEE ALSO
 *	ngtcp2 sim.h, picoquic sim_link.c.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "netsim/netsim_heap.h"

#include "netsim/netsim_err.h"

static int
ev_cmp(const void *a, const void *b, void *arg)
{
    const netsim_ev_ent *x = a, *y = b;

    (void)arg;
    return x->time_us < y->time_us ? -1 : x->time_us > y->time_us;
}

void
netsim_heap_init(netsim_heap *h, const mem *m, size_t max)
{
    heap_init(&h->h, m, sizeof(netsim_ev_ent), max != 0 ? max : (size_t)1 << 24, ev_cmp,
              NULL, NULL);
    h->len = 0;
}

void
netsim_heap_fini(netsim_heap *h)
{
    heap_fini(&h->h);
    h->len = 0;
}

int
netsim_heap_push(netsim_heap *h, const netsim_ev_ent *e)
{
    netsim_ev_ent c = *e;
    int err;

    c.seq = h->h.next_seq;              /* the heap's own tie-breaker */
    if ((err = heap_push(&h->h, &c)) != 0)
        return err == HEAP_ERR_FULL ? NETSIM_ERR_LIMIT : NETSIM_ERR_NOMEM;
    h->len = heap_len(&h->h);
    return 0;
}

int
netsim_heap_pop(netsim_heap *h, netsim_ev_ent *out)
{
    if (heap_pop(&h->h, out) != 0)
        return -1;
    h->len = heap_len(&h->h);
    return 0;
}

const netsim_ev_ent *
netsim_heap_peek(const netsim_heap *h)
{
    return heap_peek(&h->h);
}
