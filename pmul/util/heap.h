/*
 * heap.h: a binary min-heap of fixed-size elements with a size cap.
 *
 * The one priority queue of the project (netsim's event queue, the P_MUL
 * receiver's Ack queue).  Elements are copied in; order is the caller's
 * comparison function, and ties are broken by an insertion sequence number
 * the heap assigns at push time, so equal elements come out first in,
 * first out and the order never depends on how the heap happens to be
 * laid out (determinism: style.md 2).  Elements can be removed or re-keyed
 * at any index; a "moved" callback tells the caller each element's new
 * index so that it can keep handles.  Memory comes from an injected
 * allocator.  Includes only libc.
 */
#ifndef PMUL_UTIL_HEAP_H
#define PMUL_UTIL_HEAP_H

#include <stddef.h>
#include <stdint.h>

#include "mem.h"
#include "util_err.h"

/* Names for the shared UTIL_ERR_* codes (pmul/util/util_err.h). */
#define HEAP_ERR_NOMEM  UTIL_ERR_NOMEM  /* allocation failed: nothing changed */
#define HEAP_ERR_FULL   UTIL_ERR_FULL   /* max elements reached: nothing changed */
#define HEAP_ERR_EMPTY  UTIL_ERR_EMPTY  /* pop/remove on an empty heap or bad index */

/* <0: a comes out before b; 0: tie (insertion order decides); >0 after. */
typedef int (*heap_cmp_fn)(const void *a, const void *b, void *arg);
/* The element now at index idx (called after every move, push included;
 * not for popped/removed elements).  May be NULL. */
typedef void (*heap_moved_fn)(void *elem, size_t idx, void *arg);

typedef struct heap {
    unsigned char *v;           /* owned: cap + 1 slots (the last: swap) */
    size_t len, cap, max;
    size_t elem_size, stride;   /* stride = element + its sequence number */
    uint64_t next_seq;
    heap_cmp_fn cmp;
    heap_moved_fn moved;
    void *arg;                  /* passed to cmp and moved */
    const mem *m;               /* borrowed; NULL: libc */
} heap;

/* Embed-style init (no allocation until the first push).  elem_size > 0;
 * max caps the element count (0: no cap besides SIZE_MAX arithmetic). */
void heap_init(heap *h, const mem *m, size_t elem_size, size_t max, heap_cmp_fn cmp,
               heap_moved_fn moved, void *arg);
/* Free the array (elements are plain bytes: nothing they point to is
 * freed).  heap_fini on a zeroed or finished heap is a no-op. */
void heap_fini(heap *h);

/* Copy *elem in.  Returns 0, HEAP_ERR_FULL or HEAP_ERR_NOMEM. */
__attribute__((warn_unused_result))
int heap_push(heap *h, const void *elem);

/* Copy the first element to *out (may be NULL) and remove it.  Returns 0
 * or HEAP_ERR_EMPTY. */
int heap_pop(heap *h, void *out);

/* The first element (valid until the next mutating call), or NULL. */
void *heap_peek(const heap *h);

/* Element at index i < heap_len() (array order, not sorted), or NULL. */
void *heap_at(const heap *h, size_t i);

/* Insertion sequence number of the element at index i (0 if out of
 * range). */
uint64_t heap_seq_at(const heap *h, size_t i);

/* Remove the element at index i, copying it to *out (may be NULL).
 * Returns 0 or HEAP_ERR_EMPTY (i out of range). */
int heap_remove_at(heap *h, size_t i, void *out);

/* Restore the order after the caller changed the key of element i. */
void heap_fix_at(heap *h, size_t i);

/* Restore the order after the caller changed many keys (O(n)). */
void heap_rebuild(heap *h);

static inline size_t
heap_len(const heap *h)
{
    return h->len;
}

#endif
