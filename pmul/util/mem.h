/*
 * mem.h: the injected allocator.
 *
 * Libraries never call malloc directly: they take a const mem * so tests can
 * fail allocations on purpose and the daemon can account for memory.  A NULL
 * mem * means mem_libc.  Includes only libc.
 */
#ifndef PMUL_UTIL_MEM_H
#define PMUL_UTIL_MEM_H

#include <stddef.h>

typedef struct mem {
    void *(*alloc)(void *arg, size_t n);              /* like malloc */
    void *(*realloc)(void *arg, void *p, size_t n);   /* like realloc */
    void (*free)(void *arg, void *p);                 /* NULL p is a no-op */
    void *arg;
} mem;

extern const mem mem_libc;

/* Convenience wrappers; m may be NULL for mem_libc.  mem_calloc zeroes and
 * checks n * size for overflow. */
void *mem_alloc(const mem *m, size_t n);
void *mem_calloc(const mem *m, size_t n, size_t size);
void *mem_realloc(const mem *m, void *p, size_t n);
void mem_free(const mem *m, void *p);

#endif
