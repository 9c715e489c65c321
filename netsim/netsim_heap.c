/*
 * NAME
 *	netsim_heap - binary min-heap of simulator events
 * SYNOPSIS
 *	#include "netsim/netsim_heap.h"
 * DESCRIPTION
 *	The classic array heap (sift up on push, sift down on pop), keyed by
 *	(time_us, seq).  seq breaks ties in push order; with it no two keys
 *	are equal, so the pop order is a total order and a run is
 *	reproducible.  The array grows geometrically up to a cap.
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

void
netsim_heap_init(netsim_heap *h, const mem *m, size_t max)
{
    h->v = NULL;
    h->len = 0;
    h->size = 0;
    h->max = max != 0 ? max : (size_t)1 << 24;
    h->next_seq = 0;
    h->m = m;
}

void
netsim_heap_fini(netsim_heap *h)
{
    mem_free(h->m, h->v);
    h->v = NULL;
    h->len = h->size = 0;
}

static int
before(const netsim_ev_ent *a, const netsim_ev_ent *b)
{
    if (a->time_us != b->time_us)
        return a->time_us < b->time_us;
    return a->seq < b->seq;
}

int
netsim_heap_push(netsim_heap *h, const netsim_ev_ent *e)
{
    netsim_ev_ent *nv, tmp;
    size_t i, parent, nsize;

    if (h->len >= h->max)
        return NETSIM_ERR_LIMIT;
    if (h->len == h->size) {
        nsize = h->size != 0 ? h->size * 2 : 64;
        if (nsize > h->max)
            nsize = h->max;
        if (nsize > SIZE_MAX / sizeof(*nv))
            return NETSIM_ERR_NOMEM;
        nv = mem_realloc(h->m, h->v, nsize * sizeof(*nv));
        if (nv == NULL)
            return NETSIM_ERR_NOMEM;
        h->v = nv;
        h->size = nsize;
    }
    i = h->len++;
    h->v[i] = *e;
    h->v[i].seq = h->next_seq++;
    while (i > 0) {
        parent = (i - 1) / 2;
        if (!before(&h->v[i], &h->v[parent]))
            break;
        tmp = h->v[i];
        h->v[i] = h->v[parent];
        h->v[parent] = tmp;
        i = parent;
    }
    return 0;
}

int
netsim_heap_pop(netsim_heap *h, netsim_ev_ent *out)
{
    netsim_ev_ent tmp;
    size_t i, l, r, m;

    if (h->len == 0)
        return -1;
    *out = h->v[0];
    h->v[0] = h->v[--h->len];
    i = 0;
    for (;;) {
        l = 2 * i + 1;
        r = l + 1;
        m = i;
        if (l < h->len && before(&h->v[l], &h->v[m]))
            m = l;
        if (r < h->len && before(&h->v[r], &h->v[m]))
            m = r;
        if (m == i)
            break;
        tmp = h->v[i];
        h->v[i] = h->v[m];
        h->v[m] = tmp;
        i = m;
    }
    return 0;
}

const netsim_ev_ent *
netsim_heap_peek(const netsim_heap *h)
{
    return h->len != 0 ? &h->v[0] : NULL;
}
