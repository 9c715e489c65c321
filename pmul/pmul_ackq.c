/*
 * NAME
 *	pmul_ackq - Ack scheduling, spreading and batching
 * SYNOPSIS
 *	#include "pmul/pmul_ackq.h"
 * DESCRIPTION
 *	Keeps the (transmitter, MSID) pairs whose Ack_Info_Entry is owed and
 *	when each becomes due.  The caller draws the random spreading delay
 *	against Ack implosion (docs/wire.md 7.3); this module only orders and
 *	batches: entries of one transmitter that fall due together leave in
 *	one Ack_PDU, which on a 2.4 kbit/s link saves the 42 octets of
 *	header and IP/UDP overhead per extra message acknowledged.
 *
 *	The queue is the project's binary heap (pmul/util/heap.h) ordered by
 *	(due time, insertion order): the next due time and the first entry
 *	of the next batch are at its top.  Lookups by (transmitter, MSID) and
 *	the batch scan stay linear (one entry per message being received).
 *	Re-keying a transmitter's entries (batching, re-spreading) rebuilds
 *	the heap.  Ties are broken by insertion order, never by pointer
 *	values, so output is deterministic.
 * SECURITY
 *	Entries are created for messages the receiver accepted, which are
 *	already capped; the queue has its own hard cap as well.
 * DIAGNOSTICS
 *	PMUL_ERR_BUSY, PMUL_ERR_NOMEM.  Logs nothing.
 * SEE ALSO
 *	pmul_rx(3)
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "pmul/pmul_ackq.h"

#include <string.h>

#include "pmul/pmul_err.h"

/* Heap order: due time; ties by insertion (the heap's sequence number,
 * which is also the entry's order field). */
static int
ent_cmp(const void *a, const void *b, void *arg)
{
    const pmul_ackq_ent *x = a, *y = b;

    (void)arg;
    return x->due_ms < y->due_ms ? -1 : x->due_ms > y->due_ms;
}

void
pmul_ackq_init(pmul_ackq *q, const mem *m, size_t max)
{
    memset(q, 0, sizeof(*q));
    q->m = m;
    heap_init(&q->h, m, sizeof(pmul_ackq_ent), max, ent_cmp, NULL, NULL);
    if (max == 0)
        q->h.max = 0;                   /* heap_init reads 0 as "no cap" */
}

void
pmul_ackq_fini(pmul_ackq *q)
{
    heap_fini(&q->h);
    q->cnt = 0;
}

static size_t
find(const pmul_ackq *q, uint32_t src, uint32_t msid)
{
    const pmul_ackq_ent *e;
    size_t i;

    for (i = 0; i < q->cnt; i++) {
        e = heap_at(&q->h, i);
        if (e->src == src && e->msid == msid)
            return i;
    }
    return SIZE_MAX;
}

bool
pmul_ackq_has(const pmul_ackq *q, uint32_t src, uint32_t msid)
{
    return find(q, src, msid) != SIZE_MAX;
}

int
pmul_ackq_schedule(pmul_ackq *q, uint32_t src, uint32_t msid, uint64_t due_ms)
{
    pmul_ackq_ent *e, ne;
    size_t i;
    bool changed = false;
    int err;

    /* All Acks owed to one transmitter share the earliest due time: one
     * Ack_PDU, sent as soon as any of them is due.  Pulling an Ack
     * forward is harmless (it is owed anyway) and the time stays a
     * random draw, so receivers remain spread. */
    for (i = 0; i < q->cnt; i++) {
        e = heap_at(&q->h, i);
        if (e->src == src && e->due_ms < due_ms)
            due_ms = e->due_ms;
    }
    if (find(q, src, msid) == SIZE_MAX) {
        memset(&ne, 0, sizeof(ne));
        ne.src = src;
        ne.msid = msid;
        ne.due_ms = due_ms;
        ne.order = q->h.next_seq;
        if ((err = heap_push(&q->h, &ne)) != 0)
            return err == HEAP_ERR_FULL ? PMUL_ERR_BUSY : PMUL_ERR_NOMEM;
        q->cnt = heap_len(&q->h);
    }
    for (i = 0; i < q->cnt; i++) {
        e = heap_at(&q->h, i);
        if (e->src == src && e->due_ms > due_ms) {
            e->due_ms = due_ms;
            changed = true;
        }
    }
    if (changed)
        heap_rebuild(&q->h);
    return 0;
}

void
pmul_ackq_remove(pmul_ackq *q, uint32_t src, uint32_t msid)
{
    size_t i = find(q, src, msid);

    if (i == SIZE_MAX)
        return;
    (void)heap_remove_at(&q->h, i, NULL);
    q->cnt = heap_len(&q->h);
}

uint64_t
pmul_ackq_next_due(const pmul_ackq *q)
{
    const pmul_ackq_ent *e = heap_peek(&q->h);

    return e != NULL ? e->due_ms : UINT64_MAX;
}

static bool
before(const pmul_ackq_ent *a, const pmul_ackq_ent *b)
{
    return a->due_ms < b->due_ms || (a->due_ms == b->due_ms && a->order < b->order);
}

size_t
pmul_ackq_peek(const pmul_ackq *q, uint64_t now_ms, uint64_t batch_ms,
               pmul_ackq_ent *out, size_t max)
{
    const pmul_ackq_ent *first = heap_peek(&q->h), *e;
    uint64_t limit;
    size_t i, j, n = 0;

    /* The heap's first entry is the earliest by (due, order). */
    if (first == NULL || first->due_ms > now_ms || max == 0)
        return 0;
    limit = first->due_ms > UINT64_MAX - batch_ms ? UINT64_MAX : first->due_ms + batch_ms;
    /* Insert each candidate of the same transmitter in sorted position
     * (n is small: one Ack_PDU's worth). */
    for (i = 0; i < q->cnt; i++) {
        e = heap_at(&q->h, i);
        if (e->src != first->src || e->due_ms > limit)
            continue;
        for (j = n; j > 0 && before(e, &out[j - 1]); j--)
            if (j < max)
                out[j] = out[j - 1];
        if (j < max) {
            out[j] = *e;
            if (n < max)
                n++;
        }
    }
    return n;
}

void
pmul_ackq_respread(pmul_ackq *q, uint64_t (*due_fn)(void *arg, uint32_t src), void *arg)
{
    uint64_t next_order = 0, best, due;
    size_t i, j, k, pick;
    pmul_ackq_ent *p, *x;
    bool seen;

    /* Visit entries in insertion order (not array order, which the heap
     * permutes) and draw once per transmitter, at its oldest entry. */
    for (k = 0; k < q->cnt; k++) {
        pick = q->cnt;
        best = UINT64_MAX;
        for (i = 0; i < q->cnt; i++) {
            x = heap_at(&q->h, i);
            if (x->order >= next_order && x->order < best) {
                best = x->order;
                pick = i;
            }
        }
        if (pick == q->cnt)
            break;
        next_order = best + 1;
        p = heap_at(&q->h, pick);
        seen = false;
        for (j = 0; j < q->cnt; j++) {
            x = heap_at(&q->h, j);
            if (x->src == p->src && x->order < p->order)
                seen = true;
        }
        if (seen)
            continue;
        due = due_fn(arg, p->src);
        for (j = 0; j < q->cnt; j++) {
            x = heap_at(&q->h, j);
            if (x->src == p->src)
                x->due_ms = due;
        }
    }
    heap_rebuild(&q->h);
}
