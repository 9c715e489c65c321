/*
 * tests/common/alloc.h: the counting, failing allocator shared by the
 * unit tests (through tests/unit/test_common.h) and the fuzz targets
 * (through tests/fuzz/fuzz_common.h).  It needs no cmocka.
 *
 *   struct tmem counts calls and live blocks and fails every call once
 *   `left` has counted down to zero while `armed` (tmem_fail_after());
 *   max_len, when not 0, refuses any single request above it (a call
 *   that still counts, like a failing one).  tmem_make() returns the
 *   injected allocator (pmul/util/mem.h) over it.
 *
 * The backing allocator is chosen before the first inclusion:
 *
 *   - by default libc's malloc/realloc/free, each block behind a
 *     TMEM_HDR (16) octet header, so that a block handed to libc's
 *     free(), or a libc block handed to the injected free, is a bad
 *     free under ASan; 16 keeps the user pointer aligned for any type;
 *   - test_common.h defines TMEM_MALLOC, TMEM_REALLOC, TMEM_FREE as
 *     cmocka's test_malloc, test_realloc, test_free and TMEM_HDR as 0,
 *     so that cmocka reports leaks and guard damage at the end of each
 *     test.
 *
 * Header-only; everything is static.  Allocators with other semantics
 * (byte budgets: test_mule_cdt.c, fuzz_pmul_engine.c; the allocator
 * layer's own tests: test_util.c) keep their own.  The engine's scripted
 * harness (test_pmul_engine.h) uses this one over libc; test_pmul_ackq,
 * test_pmul_seqset and test_pmul_rob keep two-line allocators that simply
 * fail every call while a flag is set.
 */
#ifndef TESTS_COMMON_ALLOC_H
#define TESTS_COMMON_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pmul/util/mem.h"

#ifndef TMEM_MALLOC
#include <stdlib.h>
#define TMEM_MALLOC(n)          malloc(n)
#define TMEM_REALLOC(p, n)      realloc((p), (n))
#define TMEM_FREE(p)            free(p)
#define TMEM_HDR                16
#endif
#ifndef TMEM_HDR
#error "define TMEM_HDR with TMEM_MALLOC, TMEM_REALLOC and TMEM_FREE"
#endif

/* Field order is part of the API: tests write { false, 0, 0 }. */
struct tmem {
    bool armed;                 /* fail once left reaches 0 */
    long left;                  /* successful calls still allowed */
    long calls;                 /* alloc and realloc calls */
    long live;                  /* blocks allocated and not freed */
    size_t max_len;             /* 0, or the largest request served */
};

/* The size to ask the backing allocator for, or 0 to refuse n. */
static inline size_t
tmem__size(const struct tmem *t, size_t n)
{
    if (t->max_len != 0 && n > t->max_len)
        return 0;
    if (n > SIZE_MAX - TMEM_HDR - 1)
        return 0;
    /* A 0-octet request still needs a distinct block; with a header the
     * user part stays empty, so ASan sees any access to it. */
    return n + TMEM_HDR != 0 ? n + TMEM_HDR : 1;
}

static inline void *
tmem_alloc(void *arg, size_t n)
{
    struct tmem *t = arg;
    unsigned char *p;
    size_t sz;

    t->calls++;
    if (t->armed && t->left-- <= 0)
        return NULL;
    if ((sz = tmem__size(t, n)) == 0 || (p = TMEM_MALLOC(sz)) == NULL)
        return NULL;
    t->live++;
    return p + TMEM_HDR;
}

static inline void *
tmem_realloc(void *arg, void *p, size_t n)
{
    struct tmem *t = arg;
    unsigned char *q;
    size_t sz;

    if (p == NULL)
        return tmem_alloc(arg, n);
    t->calls++;
    if (t->armed && t->left-- <= 0)
        return NULL;
    if ((sz = tmem__size(t, n)) == 0 ||
        (q = TMEM_REALLOC((unsigned char *)p - TMEM_HDR, sz)) == NULL)
        return NULL;
    return q + TMEM_HDR;
}

static inline void
tmem_free(void *arg, void *p)
{
    struct tmem *t = arg;

    if (p == NULL)
        return;
    t->live--;
    TMEM_FREE((unsigned char *)p - TMEM_HDR);
}

/* Reset *t (never failing, no size limit) and return the allocator over
 * it. */
static inline mem
tmem_make(struct tmem *t)
{
    mem m = { tmem_alloc, tmem_realloc, tmem_free, t };

    memset(t, 0, sizeof(*t));
    return m;
}

/* Arm the allocator to fail after n successful calls. */
static inline void
tmem_fail_after(struct tmem *t, long n)
{
    t->armed = true;
    t->left = n;
    t->calls = 0;
}

#endif
