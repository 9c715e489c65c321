/*
 * NAME
 *	test_util - unit tests for the L0 helpers in pmul/util
 * SYNOPSIS
 *	meson test -C BUILD --no-rebuild -v util
 * DESCRIPTION
 *	cur: every getter at its boundary (one octet short fails and leaves
 *	the cursor where it was; exactly enough succeeds and empties it), on
 *	heap buffers of exactly the tested size so ASan sees any over-read.
 *	wcur: every put at its boundary, the sticky overflow flag, patching.
 *	buf: growth, the hard cap, printf, steal, reset, and allocation
 *	failure through an injected allocator (the buffer is unchanged).
 *	mem: calloc overflow is refused without calling the allocator.
 *	log: level filter, NULL sink, truncation of long lines, level names,
 *	log_printable.
 *
 *	test_util_buf_printf_exact_cap is the regression test of a fixed
 *	bug: buf_printf() reserved room for vsnprintf's terminator under the
 *	cap, so text that exactly reached the cap was refused (buf.h promises
 *	BUF_ERR_CAP only when len would exceed max).
 * SECURITY
 *	Test code.
 * DIAGNOSTICS
 *	cmocka.
 * SEE ALSO
 *	pmul/util/cur.h, buf.h, mem.h, log.h.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pmul/util/buf.h"
#include "pmul/util/cur.h"
#include "pmul/util/log.h"
#include "pmul/util/mem.h"

/* ---- an injected allocator that counts and fails on demand ------------- */

typedef struct tmem {
    long allocs;                /* successful alloc + realloc calls */
    long frees;                 /* free calls with a non-NULL pointer */
    long calls;                 /* every alloc or realloc call */
    long fail_at;               /* fail the call with this number (1-based); 0: never */
    size_t max_size;            /* refuse larger requests; 0: no limit */
    long live;                  /* blocks currently allocated */
    size_t last_size;
} tmem;

static bool
tmem_refuse(tmem *t, size_t n)
{
    t->calls++;
    t->last_size = n;
    if (t->fail_at != 0 && t->calls == t->fail_at)
        return true;
    return t->max_size != 0 && n > t->max_size;
}

static void *
tmem_alloc(void *arg, size_t n)
{
    tmem *t = arg;
    void *p;

    if (tmem_refuse(t, n))
        return NULL;
    p = malloc(n != 0 ? n : 1);
    if (p != NULL) {
        /* Not zero: mem_calloc must clear what it gets. */
        memset(p, 0xaa, n);
        t->allocs++;
        t->live++;
    }
    return p;
}

static void *
tmem_realloc(void *arg, void *old, size_t n)
{
    tmem *t = arg;
    void *p;

    if (tmem_refuse(t, n))
        return NULL;
    p = realloc(old, n != 0 ? n : 1);
    if (p != NULL) {
        t->allocs++;
        if (old == NULL)
            t->live++;
    }
    return p;
}

static void
tmem_free(void *arg, void *p)
{
    tmem *t = arg;

    if (p != NULL) {
        t->frees++;
        t->live--;
    }
    free(p);
}

static mem
tmem_make(tmem *t)
{
    mem m = { tmem_alloc, tmem_realloc, tmem_free, t };

    memset(t, 0, sizeof(*t));
    return m;
}

static uint8_t *
heap_copy(const uint8_t *p, size_t n)
{
    uint8_t *q = malloc(n > 0 ? n : 1);

    assert_non_null(q);
    if (n > 0)
        memcpy(q, p, n);
    return q;
}

static const uint8_t octets[8] = { 0x81, 0x02, 0x83, 0x04, 0x85, 0x06, 0x87, 0x08 };

/* ---- cur ---------------------------------------------------------------- */

/* Each getter: with width - 1 octets it fails and the cursor is unchanged;
 * with width octets it succeeds, reads big-endian and empties the cursor. */
static void
test_util_cur_getters_boundary(void **state)
{
    uint8_t *b, v8 = 0;
    uint16_t v16 = 0;
    uint32_t v32 = 0;
    uint64_t v64 = 0;
    size_t w, n;
    cur c;

    (void)state;
    for (w = 1; w <= 8; w *= 2) {
        for (n = 0; n <= w; n++) {
            bool ok;

            b = heap_copy(octets, n);
            cur_init(&c, b, n);
            switch (w) {
            case 1: ok = cur_u8(&c, &v8); break;
            case 2: ok = cur_u16be(&c, &v16); break;
            case 4: ok = cur_u32be(&c, &v32); break;
            default: ok = cur_u64be(&c, &v64); break;
            }
            if (n < w) {
                assert_false(ok);
                assert_ptr_equal(c.p, b);
                assert_int_equal(c.left, n);
            } else {
                assert_true(ok);
                assert_ptr_equal(c.p, b + n);
                assert_int_equal(c.left, 0);
            }
            free(b);
        }
    }
    assert_int_equal(v8, 0x81);
    assert_int_equal(v16, 0x8102);
    assert_int_equal(v32, 0x81028304u);
    assert_true(v64 == 0x8102830485068708ull);
}

static void
test_util_cur_bytes_view_skip_sub(void **state)
{
    uint8_t *b, dst[8];
    const uint8_t *view = NULL;
    cur c, sub;

    (void)state;
    b = heap_copy(octets, 8);

    cur_init(&c, b, 8);
    memset(dst, 0, sizeof(dst));
    assert_false(cur_bytes(&c, dst, 9));
    assert_int_equal(c.left, 8);
    assert_true(cur_bytes(&c, dst, 0));         /* zero octets always fit */
    assert_true(cur_bytes(&c, dst, 8));
    assert_memory_equal(dst, octets, 8);
    assert_int_equal(c.left, 0);
    assert_true(cur_bytes(&c, NULL, 0));        /* even at the end */
    assert_false(cur_bytes(&c, dst, 1));

    cur_init(&c, b, 8);
    assert_false(cur_view(&c, &view, 9));
    assert_null(view);
    assert_true(cur_view(&c, &view, 3));
    assert_ptr_equal(view, b);
    assert_int_equal(c.left, 5);
    assert_true(cur_view(&c, &view, 5));
    assert_ptr_equal(view, b + 3);
    assert_true(cur_view(&c, &view, 0));

    /* A huge n cannot wrap the bound (written as n > left). */
    cur_init(&c, b, 8);
    assert_false(cur_skip(&c, SIZE_MAX));
    assert_false(cur_skip(&c, 9));
    assert_int_equal(c.left, 8);
    assert_true(cur_skip(&c, 8));
    assert_int_equal(c.left, 0);
    assert_false(cur_skip(&c, 1));

    cur_init(&c, b, 8);
    assert_false(cur_sub(&c, &sub, 9));
    assert_false(cur_sub(&c, &sub, SIZE_MAX));
    assert_int_equal(c.left, 8);
    assert_true(cur_sub(&c, &sub, 3));
    assert_int_equal(c.left, 5);
    assert_ptr_equal(sub.p, b);
    assert_int_equal(sub.left, 3);
    /* The sub-cursor is bounded by its own length, not the parent's. */
    {
        uint32_t v;

        assert_false(cur_u32be(&sub, &v));
        assert_int_equal(sub.left, 3);
    }
    assert_true(cur_sub(&c, &sub, 5));
    assert_int_equal(c.left, 0);
    assert_true(cur_sub(&c, &sub, 0));
    assert_int_equal(sub.left, 0);
    free(b);
}

static void
test_util_cur_peek_and_null(void **state)
{
    uint8_t *b, v = 0;
    cur c;

    (void)state;
    b = heap_copy(octets, 1);
    cur_init(&c, b, 1);
    assert_true(cur_peek_u8(&c, &v));
    assert_int_equal(v, 0x81);
    assert_int_equal(c.left, 1);            /* peek does not advance */
    assert_true(cur_u8(&c, &v));
    assert_false(cur_peek_u8(&c, &v));
    free(b);

    /* A NULL buffer is an empty cursor whatever length is claimed. */
    cur_init(&c, NULL, 100);
    assert_int_equal(c.left, 0);
    assert_false(cur_u8(&c, &v));
    assert_false(cur_peek_u8(&c, &v));
}

/* ---- wcur --------------------------------------------------------------- */

static void
test_util_wcur_puts_boundary(void **state)
{
    uint8_t *b;
    size_t w, cap, i;
    wcur wc;

    (void)state;
    for (w = 1; w <= 8; w *= 2) {
        for (cap = 0; cap <= w; cap++) {
            /* One guard octet after cap. */
            b = malloc(cap + 1);
            assert_non_null(b);
            memset(b, 0xee, cap + 1);
            wcur_init(&wc, b, cap);
            switch (w) {
            case 1: wcur_u8(&wc, 0x81); break;
            case 2: wcur_u16be(&wc, 0x8102); break;
            case 4: wcur_u32be(&wc, 0x81028304u); break;
            default: wcur_u64be(&wc, 0x8102830485068708ull); break;
            }
            if (cap < w) {
                assert_true(wc.overflow);
                /* wcur_u64be writes in two halves: the first may fit, but
                 * nothing lands beyond cap. */
                for (i = w == 8 && cap >= 4 ? 4 : 0; i <= cap; i++)
                    assert_int_equal(b[i], 0xee);
            } else {
                assert_false(wc.overflow);
                assert_int_equal(wc.len, w);
                assert_memory_equal(b, octets, w);
                assert_int_equal(b[cap], 0xee);
            }
            free(b);
        }
    }
}

static void
test_util_wcur_overflow_sticky(void **state)
{
    uint8_t b[9];
    wcur wc;

    (void)state;
    memset(b, 0xee, sizeof(b));
    wcur_init(&wc, b, 8);
    wcur_u32be(&wc, 0x01020304u);
    wcur_bytes(&wc, octets, 5);                /* does not fit: overflow */
    assert_true(wc.overflow);
    assert_int_equal(wc.len, 4);
    /* Later puts that would fit are not written either. */
    wcur_u8(&wc, 0x55);
    wcur_u16be(&wc, 0x5555);
    wcur_bytes(&wc, octets, 0);
    assert_true(wc.overflow);
    assert_int_equal(wc.len, 4);
    assert_int_equal(b[4], 0xee);
    assert_int_equal(b[8], 0xee);
    /* Patching after an overflow is refused too. */
    wcur_patch_u16be(&wc, 0, 0xffff);
    assert_int_equal(b[0], 0x01);

    /* A NULL buffer has no room. */
    wcur_init(&wc, NULL, 100);
    assert_int_equal(wc.cap, 0);
    wcur_u8(&wc, 1);
    assert_true(wc.overflow);

    /* A huge wcur_bytes cannot wrap the bound. */
    wcur_init(&wc, b, 8);
    wcur_u8(&wc, 1);
    wcur_bytes(&wc, octets, SIZE_MAX);
    assert_true(wc.overflow);
    assert_int_equal(wc.len, 1);
}

static void
test_util_wcur_patch(void **state)
{
    uint8_t b[4];
    wcur wc;

    (void)state;
    memset(b, 0, sizeof(b));
    wcur_init(&wc, b, 4);
    wcur_u32be(&wc, 0);
    wcur_patch_u16be(&wc, 2, 0xabcd);       /* the last two written octets */
    assert_false(wc.overflow);
    assert_int_equal(b[2], 0xab);
    assert_int_equal(b[3], 0xcd);
    wcur_patch_u16be(&wc, 0, 0x1234);
    assert_int_equal(b[0], 0x12);
    assert_int_equal(wc.len, 4);

    /* Only written octets may be patched. */
    wcur_init(&wc, b, 4);
    wcur_u8(&wc, 0x77);
    wcur_patch_u16be(&wc, 0, 0xffff);       /* octet 1 not written yet */
    assert_true(wc.overflow);
    assert_int_equal(b[1], 0x34);

    wcur_init(&wc, b, 4);
    wcur_u16be(&wc, 0);
    wcur_patch_u16be(&wc, 1, 0xffff);
    assert_true(wc.overflow);

    wcur_init(&wc, b, 4);
    wcur_u16be(&wc, 0);
    wcur_patch_u16be(&wc, SIZE_MAX, 0xffff);    /* off + 2 would wrap */
    assert_true(wc.overflow);
}

/* ---- buf ---------------------------------------------------------------- */

static void
test_util_buf_growth(void **state)
{
    uint8_t chunk[100];
    tmem t;
    mem m = tmem_make(&t);
    buf b;
    size_t i, last_size = 0;
    long grows = 0;

    (void)state;
    for (i = 0; i < sizeof(chunk); i++)
        chunk[i] = (uint8_t)i;
    buf_init(&b, &m, SIZE_MAX);
    assert_null(b.data);                    /* nothing allocated yet */
    assert_int_equal(t.calls, 0);
    assert_int_equal(buf_append(&b, chunk, 0), 0);
    assert_int_equal(t.calls, 0);
    for (i = 0; i < 1000; i++) {
        assert_int_equal(buf_append(&b, chunk, sizeof(chunk)), 0);
        if (b.size != last_size) {
            grows++;
            /* Geometric: each new size is at least double the old one. */
            assert_true(last_size == 0 || b.size >= 2 * last_size);
            last_size = b.size;
        }
    }
    assert_int_equal(b.len, 100000);
    assert_true(b.size >= b.len);
    /* The first 100 octets double 64 to 128; then 256 ... 131072: 11
     * allocations for 1000 appends. */
    assert_int_equal(grows, 11);
    assert_int_equal(t.allocs, 11);
    assert_int_equal(b.size, 131072);
    for (i = 0; i < 1000; i++)
        assert_memory_equal(b.data + i * 100, chunk, 100);

    assert_int_equal(buf_append_str(&b, "xyz"), 0);
    assert_int_equal(b.len, 100003);
    assert_memory_equal(b.data + 100000, "xyz", 3);

    /* Reset keeps the allocation. */
    last_size = b.size;
    buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.size, last_size);
    assert_non_null(b.data);
    buf_fini(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    buf_fini(&b);                            /* twice is harmless */
    assert_int_equal(t.live, 0);
}

static void
test_util_buf_cap(void **state)
{
    tmem t;
    mem m = tmem_make(&t);
    buf b;

    (void)state;
    buf_init(&b, &m, 10);
    assert_int_equal(buf_append(&b, "0123456789x", 11), BUF_ERR_CAP);
    assert_int_equal(b.len, 0);
    assert_int_equal(t.calls, 0);           /* refused before allocating */
    assert_int_equal(buf_append(&b, "01234", 5), 0);
    assert_int_equal(buf_append(&b, "567890", 6), BUF_ERR_CAP);
    assert_int_equal(b.len, 5);
    assert_int_equal(buf_append(&b, "56789", 5), 0);   /* exactly the cap */
    assert_int_equal(b.len, 10);
    assert_memory_equal(b.data, "0123456789", 10);
    /* The allocation is clamped to the cap, not doubled past it. */
    assert_true(b.size <= 64);
    assert_int_equal(buf_append(&b, "x", 1), BUF_ERR_CAP);
    assert_int_equal(buf_reserve(&b, 0), 0);
    assert_int_equal(buf_reserve(&b, 1), BUF_ERR_CAP);
    assert_int_equal(buf_reserve(&b, SIZE_MAX), BUF_ERR_CAP);
    assert_int_equal(buf_printf(&b, "%d", 1), BUF_ERR_CAP);
    assert_int_equal(b.len, 10);
    buf_fini(&b);

    /* A cap of 0 refuses everything but nothing. */
    buf_init(&b, &m, 0);
    assert_int_equal(buf_append(&b, "", 0), 0);
    assert_int_equal(buf_append(&b, "x", 1), BUF_ERR_CAP);
    buf_fini(&b);

    /* Cap above 64: the first allocation is 64, later ones stop at the cap. */
    buf_init(&b, &m, 100);
    assert_int_equal(buf_append(&b, "a", 1), 0);
    assert_int_equal(b.size, 64);
    assert_int_equal(buf_reserve(&b, 99), 0);
    assert_int_equal(b.size, 100);
    buf_fini(&b);
    assert_int_equal(t.live, 0);
}

static void
test_util_buf_printf(void **state)
{
    buf b;

    (void)state;
    buf_init(&b, NULL, SIZE_MAX);
    assert_int_equal(buf_printf(&b, "msgid=%08x src=%s", 42u, "10.0.0.1"), 0);
    assert_int_equal(b.len, strlen("msgid=0000002a src=10.0.0.1"));
    assert_memory_equal(b.data, "msgid=0000002a src=10.0.0.1", b.len);
    /* Appends; the terminator is not counted in len. */
    assert_int_equal(buf_printf(&b, " n=%d", -7), 0);
    assert_memory_equal(b.data, "msgid=0000002a src=10.0.0.1 n=-7", b.len);
    assert_int_equal(buf_printf(&b, "%s", ""), 0);
    assert_int_equal(b.len, strlen("msgid=0000002a src=10.0.0.1 n=-7"));
    /* Long output grows the buffer. */
    assert_int_equal(buf_printf(&b, "%500s", "x"), 0);
    assert_int_equal(b.len, strlen("msgid=0000002a src=10.0.0.1 n=-7") + 500);
    assert_int_equal(b.data[b.len - 1], 'x');
    buf_fini(&b);
}

/* buf.h: BUF_ERR_CAP "when len would exceed max".  Five characters into a
 * buffer capped at five do not exceed it (a fixed bug, see the header
 * comment). */
static void
test_util_buf_printf_exact_cap(void **state)
{
    buf b;
    int rc;

    (void)state;
    buf_init(&b, NULL, 5);
    rc = buf_printf(&b, "%s", "hello");
    if (rc != 0) {
        buf_fini(&b);
        fail_msg("buf_printf of 5 octets under a cap of 5: got %d, want 0", rc);
    }
    assert_int_equal(b.len, 5);
    assert_memory_equal(b.data, "hello", 5);
    buf_fini(&b);

    buf_init(&b, NULL, 8);
    assert_int_equal(buf_append(&b, "abc", 3), 0);
    rc = buf_printf(&b, "%d", 12345);
    buf_fini(&b);
    if (rc != 0)
        fail_msg("buf_printf filling the cap after an append: got %d, want 0", rc);
}

static void
test_util_buf_steal(void **state)
{
    tmem t;
    mem m = tmem_make(&t);
    uint8_t *p;
    size_t len = 99;
    buf b;

    (void)state;
    buf_init(&b, &m, 1000);
    p = buf_steal(&b, &len);                 /* empty: nothing to hand over */
    assert_null(p);
    assert_int_equal(len, 0);
    assert_int_equal(buf_append_str(&b, "payload"), 0);
    p = buf_steal(&b, &len);
    assert_non_null(p);
    assert_int_equal(len, 7);
    assert_memory_equal(p, "payload", 7);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.size, 0);
    /* The buffer is usable again, with a fresh allocation. */
    assert_int_equal(buf_append_str(&b, "again"), 0);
    assert_ptr_not_equal(b.data, p);
    assert_int_equal(t.live, 2);
    mem_free(&m, p);                         /* the caller frees with b.m */
    buf_fini(&b);
    assert_int_equal(t.live, 0);
}

/* Allocation failure: the error is reported and the buffer is unchanged. */
static void
test_util_buf_nomem(void **state)
{
    tmem t;
    mem m = tmem_make(&t);
    uint8_t *data_before;
    size_t size_before;
    buf b;

    (void)state;
    t.fail_at = 1;
    buf_init(&b, &m, SIZE_MAX);
    assert_int_equal(buf_append(&b, "x", 1), BUF_ERR_NOMEM);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(buf_printf(&b, "%d", 5), 0);   /* call 2 succeeds */
    assert_int_equal(b.len, 1);

    /* Grow past 64 with the next allocation failing. */
    t.fail_at = t.calls + 1;
    data_before = b.data;
    size_before = b.size;
    assert_int_equal(buf_append(&b, "0123456789012345678901234567890123456789"
                                    "0123456789012345678901234567890123456789", 80),
                     BUF_ERR_NOMEM);
    assert_ptr_equal(b.data, data_before);
    assert_int_equal(b.size, size_before);
    assert_int_equal(b.len, 1);
    assert_int_equal(b.data[0], '5');
    t.fail_at = t.calls + 1;
    assert_int_equal(buf_printf(&b, "%100s", "y"), BUF_ERR_NOMEM);
    assert_int_equal(b.len, 1);

    /* An allocator that refuses huge requests: reserve fails cleanly. */
    t.fail_at = 0;
    t.max_size = 1 << 20;
    assert_int_equal(buf_reserve(&b, SIZE_MAX / 2), BUF_ERR_NOMEM);
    assert_int_equal(buf_reserve(&b, SIZE_MAX - 1), BUF_ERR_NOMEM);
    assert_int_equal(b.len, 1);
    assert_int_equal(buf_reserve(&b, 1000), 0);
    buf_fini(&b);
    assert_int_equal(t.live, 0);
}

/* ---- mem ---------------------------------------------------------------- */

static void
test_util_mem_calloc(void **state)
{
    tmem t;
    mem m = tmem_make(&t);
    uint8_t *p;
    size_t i;

    (void)state;
    /* n * size overflows: refused without asking the allocator. */
    assert_null(mem_calloc(&m, SIZE_MAX / 2 + 1, 2));
    assert_null(mem_calloc(&m, 2, SIZE_MAX / 2 + 1));
    assert_null(mem_calloc(&m, SIZE_MAX, SIZE_MAX));
    assert_int_equal(t.calls, 0);
    /* The largest product that fits is passed through as is. */
    t.max_size = 1;
    assert_null(mem_calloc(&m, SIZE_MAX / 2, 2));
    assert_int_equal(t.calls, 1);
    assert_true(t.last_size == (SIZE_MAX / 2) * 2);
    t.max_size = 0;
    /* The memory is zeroed (tmem hands out 0xaa). */
    p = mem_calloc(&m, 10, 7);
    assert_non_null(p);
    for (i = 0; i < 70; i++)
        assert_int_equal(p[i], 0);
    mem_free(&m, p);
    /* Zero elements: a valid (freeable) pointer or NULL, never a crash. */
    p = mem_calloc(&m, 0, 16);
    mem_free(&m, p);
    /* Failure is reported as NULL. */
    t.fail_at = t.calls + 1;
    assert_null(mem_calloc(&m, 4, 4));
    assert_int_equal(t.live, 0);
}

static void
test_util_mem_wrappers(void **state)
{
    tmem t;
    mem m = tmem_make(&t);
    char *p;

    (void)state;
    /* NULL means libc. */
    p = mem_alloc(NULL, 16);
    assert_non_null(p);
    memcpy(p, "0123456789abcdef", 16);
    p = mem_realloc(NULL, p, 32);
    assert_non_null(p);
    assert_memory_equal(p, "0123456789abcdef", 16);
    mem_free(NULL, p);
    mem_free(NULL, NULL);
    p = mem_calloc(NULL, 3, 3);
    assert_non_null(p);
    mem_free(NULL, p);

    /* An injected mem sees every call; free(NULL) does not reach it. */
    p = mem_alloc(&m, 8);
    p = mem_realloc(&m, p, 16);
    assert_int_equal(t.allocs, 2);
    mem_free(&m, NULL);
    assert_int_equal(t.frees, 0);
    mem_free(&m, p);
    assert_int_equal(t.frees, 1);
    assert_int_equal(t.live, 0);
    assert_ptr_equal(mem_libc.arg, NULL);
}

/* ---- log ---------------------------------------------------------------- */

typedef struct sink {
    int calls;
    int level;
    char line[2 * LOG_LINE_MAX];
} sink;

static void
sink_fn(void *arg, int level, const char *line)
{
    sink *s = arg;

    s->calls++;
    s->level = level;
    snprintf(s->line, sizeof(s->line), "%s", line);
}

static void
test_util_log_emit(void **state)
{
    sink s;
    logger lg = { sink_fn, &s, LOG_LVL_INFO };

    (void)state;
    memset(&s, 0, sizeof(s));
    log_emit(&lg, LOG_LVL_WARN, "msgid=%08x event=%s dest=%d", 42u, "ack-timeout", 3);
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.level, LOG_LVL_WARN);
    assert_string_equal(s.line, "msgid=0000002a event=ack-timeout dest=3");
    /* Below min_level: dropped. */
    log_emit(&lg, LOG_LVL_DEBUG, "x=%d", 1);
    assert_int_equal(s.calls, 1);
    log_emit(&lg, LOG_LVL_INFO, "y=%d", 2);
    assert_int_equal(s.calls, 2);
    assert_string_equal(s.line, "y=2");
    /* No sink, or no logger: silence, no crash. */
    lg.fn = NULL;
    log_emit(&lg, LOG_LVL_FATAL, "z");
    log_emit(NULL, LOG_LVL_FATAL, "z");
    assert_int_equal(s.calls, 2);
}

static void
test_util_log_truncation(void **state)
{
    static char text[3 * LOG_LINE_MAX];
    sink s;
    logger lg = { sink_fn, &s, LOG_LVL_DEBUG };
    size_t n;

    (void)state;
    /* Lines up to LOG_LINE_MAX - 1 characters pass whole. */
    for (n = LOG_LINE_MAX - 2; n <= LOG_LINE_MAX + 1; n++) {
        memset(text, 'a', n);
        text[n] = '\0';
        memset(&s, 0, sizeof(s));
        log_emit(&lg, LOG_LVL_INFO, "%s", text);
        assert_int_equal(s.calls, 1);
        if (n <= LOG_LINE_MAX - 1) {
            assert_int_equal(strlen(s.line), n);
        } else {
            /* Cut to LOG_LINE_MAX - 1 characters, the last three "...". */
            assert_int_equal(strlen(s.line), LOG_LINE_MAX - 1);
            assert_string_equal(s.line + LOG_LINE_MAX - 4, "...");
            assert_int_equal(s.line[LOG_LINE_MAX - 5], 'a');
        }
    }
    memset(text, 'b', sizeof(text) - 1);
    text[sizeof(text) - 1] = '\0';
    log_emit(&lg, LOG_LVL_INFO, "k=%s", text);
    assert_int_equal(strlen(s.line), LOG_LINE_MAX - 1);
    assert_memory_equal(s.line, "k=bbb", 5);
}

static void
test_util_log_level_names(void **state)
{
    (void)state;
    assert_string_equal(log_level_name(LOG_LVL_DEBUG), "debug");
    assert_string_equal(log_level_name(LOG_LVL_INFO), "info");
    assert_string_equal(log_level_name(LOG_LVL_WARN), "warn");
    assert_string_equal(log_level_name(LOG_LVL_ERROR), "error");
    assert_string_equal(log_level_name(LOG_LVL_FATAL), "fatal");
    assert_string_equal(log_level_name(-1), "?");
    assert_string_equal(log_level_name(LOG_LVL_FATAL + 1), "?");
}

static void
test_util_log_printable(void **state)
{
    static const uint8_t peer[] = { 'o', 'k', '\r', '\n', 0x00, 0x1f, 0x7f, 0x80, 0xff,
                                    ' ', '~', '%', 'n' };
    char out[32], small[4];
    uint8_t *heap;
    const char *r;

    (void)state;
    /* The peer text is read from a heap copy of its exact length. */
    heap = heap_copy(peer, sizeof(peer));
    r = log_printable(out, sizeof(out), heap, sizeof(peer));
    assert_ptr_equal(r, out);
    assert_string_equal(out, "ok??????? ~%n");
    /* Cut to outlen - 1 characters, always terminated. */
    memset(small, 'x', sizeof(small));
    assert_string_equal(log_printable(small, sizeof(small), heap, sizeof(peer)), "ok?");
    assert_string_equal(log_printable(small, 1, heap, sizeof(peer)), "");
    assert_string_equal(log_printable(small, 0, heap, sizeof(peer)), "");
    assert_string_equal(log_printable(out, sizeof(out), heap, 0), "");
    free(heap);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_util_cur_getters_boundary),
        cmocka_unit_test(test_util_cur_bytes_view_skip_sub),
        cmocka_unit_test(test_util_cur_peek_and_null),
        cmocka_unit_test(test_util_wcur_puts_boundary),
        cmocka_unit_test(test_util_wcur_overflow_sticky),
        cmocka_unit_test(test_util_wcur_patch),
        cmocka_unit_test(test_util_buf_growth),
        cmocka_unit_test(test_util_buf_cap),
        cmocka_unit_test(test_util_buf_printf),
        cmocka_unit_test(test_util_buf_printf_exact_cap),
        cmocka_unit_test(test_util_buf_steal),
        cmocka_unit_test(test_util_buf_nomem),
        cmocka_unit_test(test_util_mem_calloc),
        cmocka_unit_test(test_util_mem_wrappers),
        cmocka_unit_test(test_util_log_emit),
        cmocka_unit_test(test_util_log_truncation),
        cmocka_unit_test(test_util_log_level_names),
        cmocka_unit_test(test_util_log_printable),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
