/*
 * NAME
 *	cur - bounds-checked read and write cursors
 * SYNOPSIS
 *	#include "pmul/util/cur.h"
 * DESCRIPTION
 *	The one place where raw pointer arithmetic on packet data is allowed
 *	(docs/architecture.md, "validating untrusted input").  Bounds are
 *	written as subtractions against the bytes left, never as p + n > end,
 *	so a huge n cannot wrap.
 * SECURITY
 *	Sees untrusted bytes; trusts nothing but its own left/cap counters.
 * DIAGNOSTICS
 *	Read getters return false on short input; writers set wcur.overflow.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "cur.h"

#include <string.h>

void
cur_init(cur *c, const void *buf, size_t len)
{
    c->p = buf;
    c->left = buf != NULL ? len : 0;
}

bool
cur_u8(cur *c, uint8_t *v)
{
    if (c->left < 1)
        return false;
    *v = c->p[0];
    c->p += 1;
    c->left -= 1;
    return true;
}

bool
cur_u16be(cur *c, uint16_t *v)
{
    if (c->left < 2)
        return false;
    *v = (uint16_t)((uint16_t)c->p[0] << 8 | c->p[1]);
    c->p += 2;
    c->left -= 2;
    return true;
}

bool
cur_u32be(cur *c, uint32_t *v)
{
    if (c->left < 4)
        return false;
    *v = (uint32_t)c->p[0] << 24 | (uint32_t)c->p[1] << 16 |
         (uint32_t)c->p[2] << 8 | (uint32_t)c->p[3];
    c->p += 4;
    c->left -= 4;
    return true;
}

bool
cur_u64be(cur *c, uint64_t *v)
{
    uint32_t hi, lo;

    if (c->left < 8)
        return false;
    (void)cur_u32be(c, &hi);
    (void)cur_u32be(c, &lo);
    *v = (uint64_t)hi << 32 | lo;
    return true;
}

bool
cur_bytes(cur *c, void *dst, size_t n)
{
    if (n > c->left)
        return false;
    if (n > 0)
        memcpy(dst, c->p, n);
    c->p += n;
    c->left -= n;
    return true;
}

bool
cur_view(cur *c, const uint8_t **view, size_t n)
{
    if (n > c->left)
        return false;
    *view = c->p;
    c->p += n;
    c->left -= n;
    return true;
}

bool
cur_skip(cur *c, size_t n)
{
    if (n > c->left)
        return false;
    c->p += n;
    c->left -= n;
    return true;
}

bool
cur_sub(cur *c, cur *sub, size_t n)
{
    if (n > c->left)
        return false;
    sub->p = c->p;
    sub->left = n;
    c->p += n;
    c->left -= n;
    return true;
}

bool
cur_peek_u8(const cur *c, uint8_t *v)
{
    if (c->left < 1)
        return false;
    *v = c->p[0];
    return true;
}

void
wcur_init(wcur *w, void *buf, size_t cap)
{
    w->p = buf;
    w->cap = buf != NULL ? cap : 0;
    w->len = 0;
    w->overflow = false;
}

/* Reserve n bytes; returns where to write them, or NULL after overflow. */
static uint8_t *
wcur_room(wcur *w, size_t n)
{
    uint8_t *at;

    if (w->overflow || n > w->cap - w->len) {
        w->overflow = true;
        return NULL;
    }
    at = w->p + w->len;
    w->len += n;
    return at;
}

void
wcur_u8(wcur *w, uint8_t v)
{
    uint8_t *at = wcur_room(w, 1);

    if (at != NULL)
        at[0] = v;
}

void
wcur_u16be(wcur *w, uint16_t v)
{
    uint8_t *at = wcur_room(w, 2);

    if (at != NULL) {
        at[0] = (uint8_t)(v >> 8);
        at[1] = (uint8_t)v;
    }
}

void
wcur_u32be(wcur *w, uint32_t v)
{
    uint8_t *at = wcur_room(w, 4);

    if (at != NULL) {
        at[0] = (uint8_t)(v >> 24);
        at[1] = (uint8_t)(v >> 16);
        at[2] = (uint8_t)(v >> 8);
        at[3] = (uint8_t)v;
    }
}

void
wcur_u64be(wcur *w, uint64_t v)
{
    wcur_u32be(w, (uint32_t)(v >> 32));
    wcur_u32be(w, (uint32_t)v);
}

void
wcur_bytes(wcur *w, const void *src, size_t n)
{
    uint8_t *at = wcur_room(w, n);

    if (at != NULL && n > 0)
        memcpy(at, src, n);
}

void
wcur_patch_u16be(wcur *w, size_t off, uint16_t v)
{
    if (w->overflow || off > w->len || w->len - off < 2) {
        w->overflow = true;
        return;
    }
    w->p[off] = (uint8_t)(v >> 8);
    w->p[off + 1] = (uint8_t)v;
}
