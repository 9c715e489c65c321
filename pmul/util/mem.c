/*
 * NAME
 *	mem - injected allocator and its libc default
 * SYNOPSIS
 *	#include "pmul/util/mem.h"
 * DESCRIPTION
 *	Thin indirection so that every library allocation can be observed and
 *	failed by tests (docs/architecture.md, "ownership and memory").
 * SECURITY
 *	Sizes come from our own code; mem_calloc checks n * size for overflow.
 * DIAGNOSTICS
 *	Allocation failure returns NULL; callers map it to *_ERR_NOMEM.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void *
libc_alloc(void *arg, size_t n)
{
    (void)arg;
    return malloc(n != 0 ? n : 1);
}

static void *
libc_realloc(void *arg, void *p, size_t n)
{
    (void)arg;
    return realloc(p, n != 0 ? n : 1);
}

static void
libc_free(void *arg, void *p)
{
    (void)arg;
    free(p);
}

const mem mem_libc = { libc_alloc, libc_realloc, libc_free, NULL };

void *
mem_alloc(const mem *m, size_t n)
{
    if (m == NULL)
        m = &mem_libc;
    return m->alloc(m->arg, n);
}

void *
mem_calloc(const mem *m, size_t n, size_t size)
{
    void *p;

    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    p = mem_alloc(m, n * size);
    if (p != NULL)
        memset(p, 0, n * size);
    return p;
}

void *
mem_realloc(const mem *m, void *p, size_t n)
{
    if (m == NULL)
        m = &mem_libc;
    return m->realloc(m->arg, p, n);
}

void
mem_free(const mem *m, void *p)
{
    if (p == NULL)
        return;
    if (m == NULL)
        m = &mem_libc;
    m->free(m->arg, p);
}
