/*
 * cur.h: bounds-checked cursors over untrusted and outgoing bytes.
 *
 * A read cursor (struct cur) is the only way packet and file parsers touch
 * peer bytes: every getter fails, without moving, when too few bytes are
 * left.  A write cursor (struct wcur) is its twin for encoders: it never
 * writes past the caller's buffer and remembers the first overflow, so an
 * encoder can write a whole PDU and check once at the end.
 *
 * Includes only libc.
 */
#ifndef PMUL_UTIL_CUR_H
#define PMUL_UTIL_CUR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cur {
    const uint8_t *p;   /* next unread byte (borrowed) */
    size_t left;        /* bytes remaining */
} cur;

/* Start a cursor over buf[0..len).  buf is borrowed for the cursor's life. */
void cur_init(cur *c, const void *buf, size_t len);

/* Getters: return true and advance on success; false leaves c unchanged. */
bool cur_u8(cur *c, uint8_t *v);
bool cur_u16be(cur *c, uint16_t *v);
bool cur_u32be(cur *c, uint32_t *v);
bool cur_u64be(cur *c, uint64_t *v);
/* Copy n bytes out. */
bool cur_bytes(cur *c, void *dst, size_t n);
/* Point *view at the next n bytes (no copy; valid while the input is). */
bool cur_view(cur *c, const uint8_t **view, size_t n);
bool cur_skip(cur *c, size_t n);
/* Split off the next n bytes as their own cursor and advance past them. */
bool cur_sub(cur *c, cur *sub, size_t n);
/* Peek without advancing. */
bool cur_peek_u8(const cur *c, uint8_t *v);

typedef struct wcur {
    uint8_t *p;         /* start of the caller's buffer (borrowed) */
    size_t cap;         /* its size */
    size_t len;         /* bytes written so far */
    bool overflow;      /* a put did not fit; nothing after it was written */
} wcur;

void wcur_init(wcur *w, void *buf, size_t cap);
void wcur_u8(wcur *w, uint8_t v);
void wcur_u16be(wcur *w, uint16_t v);
void wcur_u32be(wcur *w, uint32_t v);
void wcur_u64be(wcur *w, uint64_t v);
void wcur_bytes(wcur *w, const void *src, size_t n);
/* Overwrite two already written bytes at off (for length and checksum
 * fields filled in last).  Sets overflow if off+2 > len. */
void wcur_patch_u16be(wcur *w, size_t off, uint16_t v);

#endif
