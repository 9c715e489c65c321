/*
 * NAME
 *	heap - binary min-heap of fixed-size elements, capped, deterministic
 * SYNOPSIS
 *	#include "pmul/util/heap.h"
 * DESCRIPTION
 *	An implicit binary heap in one array.  Each slot holds the element's
 *	bytes followed (at an 8-octet aligned offset) by its insertion
 *	sequence number; the order is (cmp, sequence), a total order, so any
 *	sequence of operations yields the same output whatever the array
 *	layout.  One spare slot at the end of the array is the swap space, so
 *	moves need no stack buffer of the caller's element size.  Growth is
 *	geometric and overflow-checked; a failed push changes nothing.
 *
 *	The moved callback reports every element's new index (push, sift,
 *	removal), for callers that keep handles to their elements (remove or
 *	re-key by index in O(log n)).
 * SECURITY
 *	Sees no peer bytes.  Sizes are the caller's; the cap bounds memory.
 * DIAGNOSTICS
 *	HEAP_ERR_NOMEM, HEAP_ERR_FULL, HEAP_ERR_EMPTY.  Logs nothing.
 * SEE ALSO
 *	netsim/netsim_heap.c, pmul/pmul_ackq.c
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "heap.h"

#include <string.h>

#include "arr.h"

#define SEQ_ALIGN 8u

void
heap_init(heap *h, const mem *m, size_t elem_size, size_t max, heap_cmp_fn cmp,
          heap_moved_fn moved, void *arg)
{
    memset(h, 0, sizeof(*h));
    h->m = m;
    h->elem_size = elem_size;
    /* Element, padded to 8, then the sequence number. */
    h->stride = (elem_size + SEQ_ALIGN - 1) / SEQ_ALIGN * SEQ_ALIGN + sizeof(uint64_t);
    h->max = max != 0 ? max : SIZE_MAX;
    h->cmp = cmp;
    h->moved = moved;
    h->arg = arg;
}

void
heap_fini(heap *h)
{
    mem_free(h->m, h->v);
    h->v = NULL;
    h->len = h->cap = 0;
}

static unsigned char *
slot(const heap *h, size_t i)
{
    return h->v + i * h->stride;
}

static uint64_t
seq_of(const heap *h, size_t i)
{
    uint64_t s;

    memcpy(&s, slot(h, i) + (h->stride - sizeof(uint64_t)), sizeof(s));
    return s;
}

/* True when slot i must come out before slot j. */
static int
before(const heap *h, size_t i, size_t j)
{
    int c = h->cmp(slot(h, i), slot(h, j), h->arg);

    if (c != 0)
        return c < 0;
    return seq_of(h, i) < seq_of(h, j);
}

static void
moved(heap *h, size_t i)
{
    if (h->moved != NULL)
        h->moved(slot(h, i), i, h->arg);
}

/* Swap slots i and j through the spare slot at index cap. */
static void
swap(heap *h, size_t i, size_t j)
{
    unsigned char *tmp = slot(h, h->cap);

    memcpy(tmp, slot(h, i), h->stride);
    memcpy(slot(h, i), slot(h, j), h->stride);
    memcpy(slot(h, j), tmp, h->stride);
    moved(h, i);
    moved(h, j);
}

static size_t
sift_up(heap *h, size_t i)
{
    size_t parent;

    while (i > 0) {
        parent = (i - 1) / 2;
        if (!before(h, i, parent))
            break;
        swap(h, i, parent);
        i = parent;
    }
    return i;
}

static void
sift_down(heap *h, size_t i)
{
    size_t l, r, m;

    for (;;) {
        l = 2 * i + 1;
        r = l + 1;
        m = i;
        if (l < h->len && before(h, l, m))
            m = l;
        if (r < h->len && before(h, r, m))
            m = r;
        if (m == i)
            return;
        swap(h, i, m);
        i = m;
    }
}

int
heap_push(heap *h, const void *elem)
{
    size_t nslots, need;
    uint64_t seq;

    if (h->len >= h->max)
        return HEAP_ERR_FULL;
    if (h->len == h->cap) {
        /* cap + 1 slots: the last one is the swap space.  With max at
         * SIZE_MAX, max + 1 wraps to 0, which arr_grow() reads as "no cap
         * but SIZE_MAX / stride": len < max still bounds the count. */
        nslots = h->cap != 0 ? h->cap + 1 : 0;
        /* The first growth makes room for 16 elements (or max). */
        need = h->cap != 0 ? h->len + 2 : 17;
        if (h->max < 16)
            need = h->max + 1;
        if (arr_grow(h->m, (void **)&h->v, &nslots, need, h->stride, h->max + 1) != 0)
            return HEAP_ERR_NOMEM;
        h->cap = nslots - 1;
    }
    seq = h->next_seq++;
    memcpy(slot(h, h->len), elem, h->elem_size);
    memcpy(slot(h, h->len) + (h->stride - sizeof(uint64_t)), &seq, sizeof(seq));
    h->len++;
    moved(h, h->len - 1);
    (void)sift_up(h, h->len - 1);
    return 0;
}

void *
heap_peek(const heap *h)
{
    return h->len != 0 ? slot(h, 0) : NULL;
}

void *
heap_at(const heap *h, size_t i)
{
    return i < h->len ? slot(h, i) : NULL;
}

uint64_t
heap_seq_at(const heap *h, size_t i)
{
    return i < h->len ? seq_of(h, i) : 0;
}

int
heap_remove_at(heap *h, size_t i, void *out)
{
    if (i >= h->len)
        return HEAP_ERR_EMPTY;
    if (out != NULL)
        memcpy(out, slot(h, i), h->elem_size);
    h->len--;
    if (i == h->len)
        return 0;
    /* The last element takes the hole and moves up or down from there. */
    memcpy(slot(h, i), slot(h, h->len), h->stride);
    moved(h, i);
    heap_fix_at(h, i);
    return 0;
}

int
heap_pop(heap *h, void *out)
{
    return heap_remove_at(h, 0, out);
}

void
heap_fix_at(heap *h, size_t i)
{
    if (i >= h->len)
        return;
    if (sift_up(h, i) == i)
        sift_down(h, i);
}

void
heap_rebuild(heap *h)
{
    size_t i;

    for (i = h->len / 2; i > 0; i--)
        sift_down(h, i - 1);
}
