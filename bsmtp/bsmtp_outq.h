/*
 * bsmtp_outq.h: the output queue both SMTP sessions (client and server)
 * hand to their drivers: octets appended to a buf, taken from its front
 * by output()/consumed(), the buf emptied once all of it was taken.
 */
#ifndef BSMTP_OUTQ_H
#define BSMTP_OUTQ_H

#include <stddef.h>
#include <stdint.h>

#include "pmul/util/buf.h"

/* Pending octets of b from *off (b reset when all were taken). */
static inline size_t
bsmtp_outq_peek(buf *b, size_t *off, const uint8_t **p)
{
    if (*off == b->len) {
        buf_reset(b);
        *off = 0;
    }
    *p = b->data + *off;
    return b->len - *off;
}

static inline void
bsmtp_outq_take(const buf *b, size_t *off, size_t n)
{
    *off += n <= b->len - *off ? n : b->len - *off;
}

#endif
