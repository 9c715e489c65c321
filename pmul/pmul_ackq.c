/*
 * NAME
 *	pmul_ackq - Ack scheduling, spreading and batching
 * SYNOPSIS
 *	#include "pmul/pmul_ackq.h"
 * DESCRIPTION
 *	Keeps the (transmitter, MSID) pairs whose Ack_Info_Entry is owed and
 *	when each becomes due.  The caller draws the random spreading delay
 *	against Ack implosion (pmul-wire.md 7.3); this module only orders and
 *	batches: entries of one transmitter that fall due together leave in
 *	one Ack_PDU, which on a 2.4 kbit/s link saves the 42 octets of
 *	header and IP/UDP overhead per extra message acknowledged.
 *
 *	The queue is a small unsorted array scanned linearly: it holds at
 *	most one entry per message being received, and scans are cheaper
 *	than a heap at those sizes.  Ties are broken by insertion order, never
 *	by pointer values, so output is deterministic.
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

void
pmul_ackq_init(pmul_ackq *q, const mem *m, size_t max)
{
    memset(q, 0, sizeof(*q));
    q->m = m;
    q->max = max;
}

void
pmul_ackq_fini(pmul_ackq *q)
{
    mem_free(q->m, q->v);
    q->v = NULL;
    q->cnt = q->cap = 0;
}

static pmul_ackq_ent *
find(const pmul_ackq *q, uint32_t src, uint32_t msid)
{
    size_t i;

    for (i = 0; i < q->cnt; i++)
        if (q->v[i].src == src && q->v[i].msid == msid)
            return &q->v[i];
    return NULL;
}

bool
pmul_ackq_has(const pmul_ackq *q, uint32_t src, uint32_t msid)
{
    return find(q, src, msid) != NULL;
}

int
pmul_ackq_schedule(pmul_ackq *q, uint32_t src, uint32_t msid, uint64_t due_ms)
{
    pmul_ackq_ent *e;
    size_t i, n;
    void *p;

    /* All Acks owed to one transmitter share the earliest due time: one
     * Ack_PDU, sent as soon as any of them is due.  Pulling an Ack
     * forward is harmless (it is owed anyway) and the time stays a
     * random draw, so receivers remain spread. */
    for (i = 0; i < q->cnt; i++)
        if (q->v[i].src == src && q->v[i].due_ms < due_ms)
            due_ms = q->v[i].due_ms;
    if ((e = find(q, src, msid)) == NULL) {
        if (q->cnt >= q->max)
            return PMUL_ERR_BUSY;
        if (q->cnt == q->cap) {
            n = q->cap != 0 ? q->cap * 2 : 16;
            if (n > q->max)
                n = q->max;
            if ((p = mem_realloc(q->m, q->v, n * sizeof(*q->v))) == NULL)
                return PMUL_ERR_NOMEM;
            q->v = p;
            q->cap = n;
        }
        e = &q->v[q->cnt++];
        e->src = src;
        e->msid = msid;
        e->due_ms = due_ms;
        e->order = q->order++;
    }
    for (i = 0; i < q->cnt; i++)
        if (q->v[i].src == src && q->v[i].due_ms > due_ms)
            q->v[i].due_ms = due_ms;
    return 0;
}


void
pmul_ackq_remove(pmul_ackq *q, uint32_t src, uint32_t msid)
{
    pmul_ackq_ent *e = find(q, src, msid);

    if (e == NULL)
        return;
    /* Order lives in the entries, so swap-with-last is safe. */
    *e = q->v[--q->cnt];
}

uint64_t
pmul_ackq_next_due(const pmul_ackq *q)
{
    uint64_t t = UINT64_MAX;
    size_t i;

    for (i = 0; i < q->cnt; i++)
        if (q->v[i].due_ms < t)
            t = q->v[i].due_ms;
    return t;
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
    const pmul_ackq_ent *first = NULL;
    uint64_t limit;
    size_t i, j, n = 0;

    for (i = 0; i < q->cnt; i++)
        if (q->v[i].due_ms <= now_ms && (first == NULL || before(&q->v[i], first)))
            first = &q->v[i];
    if (first == NULL || max == 0)
        return 0;
    limit = first->due_ms > UINT64_MAX - batch_ms ? UINT64_MAX : first->due_ms + batch_ms;
    /* Insert each candidate of the same transmitter in sorted position
     * (n is small: one Ack_PDU's worth). */
    for (i = 0; i < q->cnt; i++) {
        const pmul_ackq_ent *e = &q->v[i];

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
    bool seen;

    /* Visit entries in insertion order (not array order, which removals
     * permute) and draw once per transmitter, at its oldest entry. */
    for (k = 0; k < q->cnt; k++) {
        pick = q->cnt;
        best = UINT64_MAX;
        for (i = 0; i < q->cnt; i++)
            if (q->v[i].order >= next_order && q->v[i].order < best) {
                best = q->v[i].order;
                pick = i;
            }
        if (pick == q->cnt)
            break;
        next_order = best + 1;
        seen = false;
        for (j = 0; j < q->cnt; j++)
            if (q->v[j].src == q->v[pick].src && q->v[j].order < q->v[pick].order)
                seen = true;
        if (seen)
            continue;
        due = due_fn(arg, q->v[pick].src);
        for (j = 0; j < q->cnt; j++)
            if (q->v[j].src == q->v[pick].src)
                q->v[j].due_ms = due;
    }
}
