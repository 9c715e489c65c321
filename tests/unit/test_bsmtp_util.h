/*
 * test_bsmtp_util.h: helpers shared by the bsmtp payload/param/addr unit
 * tests: a cmocka-tracked allocator that fails on demand and counts
 * live blocks, and a printable rendering of byte strings for messages.
 *
 * Include after <cmocka.h>.  Header-only; everything is static.
 */
#ifndef TEST_BSMTP_UTIL_H
#define TEST_BSMTP_UTIL_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "pmul/util/mem.h"

/* Fails every allocation after `left` successes when `armed`; counts live
 * blocks so a test can assert balance even without cmocka's leak report
 * (which also runs, through test_malloc). */
struct tmem {
    bool armed;
    long left;
    long calls;
    long live;
};

static void *
tmem_alloc(void *arg, size_t n)
{
    struct tmem *t = arg;
    void *p;

    t->calls++;
    if (t->armed && t->left-- <= 0)
        return NULL;
    p = test_malloc(n != 0 ? n : 1);
    if (p != NULL)
        t->live++;
    return p;
}

static void *
tmem_realloc(void *arg, void *p, size_t n)
{
    struct tmem *t = arg;
    void *q;

    t->calls++;
    if (t->armed && t->left-- <= 0)
        return NULL;
    q = test_realloc(p, n != 0 ? n : 1);
    if (q != NULL && p == NULL)
        t->live++;
    return q;
}

static void
tmem_free(void *arg, void *p)
{
    struct tmem *t = arg;

    if (p != NULL)
        t->live--;
    test_free(p);
}

static inline mem
tmem_make(struct tmem *t)
{
    mem m = {tmem_alloc, tmem_realloc, tmem_free, t};

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

/* Render len bytes for a failure message ("\r", "\n", "\xNN"), cut at
 * about 200 output characters.  Returns a static buffer (one per slot). */
static inline const char *
tshow(int slot, const void *p, size_t len)
{
    static char out[2][256];
    const unsigned char *s = p;
    size_t i, o = 0;
    char *d = out[slot & 1];

    for (i = 0; i < len && o < 200; i++) {
        if (s[i] == '\r') {
            d[o++] = '\\';
            d[o++] = 'r';
        } else if (s[i] == '\n') {
            d[o++] = '\\';
            d[o++] = 'n';
        } else if (s[i] < 32 || s[i] > 126) {
            o += (size_t)snprintf(d + o, sizeof(out[0]) - o, "\\x%02X", s[i]);
        } else {
            d[o++] = (char)s[i];
        }
    }
    if (i < len)
        o += (size_t)snprintf(d + o, sizeof(out[0]) - o, "...");
    d[o] = '\0';
    return d;
}

#endif
