/*
 * buf.h: an owned, growable byte buffer with a hard size cap.
 *
 * Used wherever bytes accumulate (reassembly, payload building, spool
 * records).  Growth is geometric and overflow-checked; every buffer has a
 * cap so that nothing a peer controls can grow without bound.
 * Includes only libc.
 */
#ifndef PMUL_UTIL_BUF_H
#define PMUL_UTIL_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "mem.h"
#include "util_err.h"

typedef struct buf {
    uint8_t *data;      /* owned; NULL while empty */
    size_t len;         /* bytes in use */
    size_t size;        /* bytes allocated */
    size_t max;         /* hard cap on len (SIZE_MAX: none) */
    const mem *m;       /* allocator (borrowed; NULL: libc) */
} buf;

/* Embed-style init/fini (no allocation until the first append). */
void buf_init(buf *b, const mem *m, size_t max);
void buf_fini(buf *b);

/* Return 0, or BUF_ERR_NOMEM, or BUF_ERR_CAP when len would exceed max
 * (names for the shared UTIL_ERR_* codes, so they may pass up unchanged). */
#define BUF_ERR_NOMEM   UTIL_ERR_NOMEM
#define BUF_ERR_CAP     UTIL_ERR_FULL

__attribute__((warn_unused_result))
int buf_reserve(buf *b, size_t extra);
__attribute__((warn_unused_result))
int buf_append(buf *b, const void *p, size_t n);
__attribute__((warn_unused_result))
int buf_append_str(buf *b, const char *s);
__attribute__((warn_unused_result))
int buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Drop the contents, keep the allocation. */
void buf_reset(buf *b);
/* Hand the bytes to the caller (who frees them with b->m); b becomes empty. */
uint8_t *buf_steal(buf *b, size_t *len);

#endif
