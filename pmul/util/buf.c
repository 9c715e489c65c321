/*
 * NAME
 *	buf - owned growable byte buffer with a cap
 * SYNOPSIS
 *	#include "pmul/util/buf.h"
 * DESCRIPTION
 *	Geometric growth (doubling) keeps appends amortised O(1); the cap
 *	turns "a peer sent too much" into an error instead of an outage.
 *	Sizes are checked for overflow before they size an allocation.
 * SECURITY
 *	Lengths come from callers that already validated them; buf checks
 *	only arithmetic overflow and the cap.
 * DIAGNOSTICS
 *	BUF_ERR_NOMEM, BUF_ERR_CAP.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

void
buf_init(buf *b, const mem *m, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->size = 0;
    b->max = max;
    b->m = m;
}

void
buf_fini(buf *b)
{
    mem_free(b->m, b->data);
    b->data = NULL;
    b->len = 0;
    b->size = 0;
}

/* Make room for `need` bytes in total, ignoring the cap (which the callers
 * check against what they will count in len). */
static int
buf_grow(buf *b, size_t need)
{
    size_t size;
    uint8_t *p;

    if (need <= b->size)
        return 0;
    size = b->size != 0 ? b->size : 64;
    while (size < need)
        size = size > SIZE_MAX / 2 ? need : size * 2;
    if (size > b->max && b->max >= need)
        size = b->max;
    p = mem_realloc(b->m, b->data, size);
    if (p == NULL)
        return BUF_ERR_NOMEM;
    b->data = p;
    b->size = size;
    return 0;
}

int
buf_reserve(buf *b, size_t extra)
{
    if (extra > b->max || b->len > b->max - extra)
        return BUF_ERR_CAP;
    return buf_grow(b, b->len + extra);
}

int
buf_append(buf *b, const void *p, size_t n)
{
    int err;

    if (n == 0)
        return 0;
    if ((err = buf_reserve(b, n)) != 0)
        return err;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

int
buf_append_str(buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

int
buf_printf(buf *b, const char *fmt, ...)
{
    va_list ap;
    int n, err;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return BUF_ERR_NOMEM;
    /* The cap counts the text; the terminator vsnprintf insists on
     * writing needs one more allocated byte that len never counts. */
    if ((err = buf_reserve(b, (size_t)n)) != 0)
        return err;
    if ((size_t)n == SIZE_MAX - b->len || (err = buf_grow(b, b->len + (size_t)n + 1)) != 0)
        return err != 0 ? err : BUF_ERR_CAP;
    va_start(ap, fmt);
    n = vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return BUF_ERR_NOMEM;
    b->len += (size_t)n;
    return 0;
}

void
buf_reset(buf *b)
{
    b->len = 0;
}

uint8_t *
buf_steal(buf *b, size_t *len)
{
    uint8_t *p = b->data;

    *len = b->len;
    b->data = NULL;
    b->len = 0;
    b->size = 0;
    return p;
}
