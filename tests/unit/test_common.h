/*
 * test_common.h: helpers shared by the unit tests (one copy for all):
 *
 *   - struct tmem: an injected allocator (pmul/util/mem.h) over cmocka's
 *     test_malloc, so cmocka reports leaks at the end of each test.  It
 *     counts calls and live blocks, and fails every call once `left` has
 *     counted down to zero while `armed` (tmem_fail_after()).  It lives
 *     in tests/common/alloc.h, which the fuzz targets share without
 *     cmocka; this header picks cmocka's allocator for it;
 *   - struct tlog: a log sink (pmul/util/log.h) that counts lines per
 *     level and keeps the last one;
 *   - tshow(): a printable rendering of byte strings for failure messages.
 *
 * Include after <cmocka.h>.  Header-only; everything is static.  Tests
 * that check the allocator layer itself (test_util.c) or byte budgets
 * (test_mule_cdt.c) keep allocators of their own.
 */
#ifndef TEST_COMMON_H
#define TEST_COMMON_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "pmul/util/log.h"
#include "pmul/util/mem.h"

/* The allocator over cmocka's blocks, without a header of its own. */
#define TMEM_MALLOC(n)          test_malloc(n)
#define TMEM_REALLOC(p, n)      test_realloc((p), (n))
#define TMEM_FREE(p)            test_free(p)
#define TMEM_HDR                0
#include "tests/common/alloc.h"

/* Log sink: counts lines per level and keeps the last one. */
struct tlog {
    int count[LOG_LVL_FATAL + 1];
    char last[LOG_LINE_MAX];
};

static inline void
tlog_fn(void *arg, int level, const char *line)
{
    struct tlog *t = arg;

    if (level >= 0 && level <= LOG_LVL_FATAL)
        t->count[level]++;
    snprintf(t->last, sizeof(t->last), "%s", line);
}

static inline logger
tlog_make(struct tlog *t)
{
    logger lg = { tlog_fn, t, LOG_LVL_DEBUG };

    memset(t, 0, sizeof(*t));
    return lg;
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
