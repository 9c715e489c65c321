/*
 * test_mule_util.h: helpers shared by the mule relay/route/DSN/audit unit
 * tests: a cmocka-tracked allocator that can fail the Nth allocation, and
 * a log sink that keeps the last line.
 *
 * Include after <cmocka.h>.  Header-only; everything is static.
 */
#ifndef TEST_MULE_UTIL_H
#define TEST_MULE_UTIL_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "pmul/util/log.h"
#include "pmul/util/mem.h"

/* Fails every allocation once `left` has counted down to zero (when
 * `armed`); cmocka's test_malloc reports leaks at the end of each test. */
struct tmem {
    bool armed;
    long left;
    long calls;
};

static void *
tmem_alloc(void *arg, size_t n)
{
    struct tmem *t = arg;

    t->calls++;
    if (t->armed && t->left-- <= 0)
        return NULL;
    return test_malloc(n != 0 ? n : 1);
}

static void *
tmem_realloc(void *arg, void *p, size_t n)
{
    struct tmem *t = arg;

    t->calls++;
    if (t->armed && t->left-- <= 0)
        return NULL;
    return test_realloc(p, n != 0 ? n : 1);
}

static void
tmem_free(void *arg, void *p)
{
    (void)arg;
    test_free(p);
}

static inline mem
tmem_make(struct tmem *t)
{
    mem m = { tmem_alloc, tmem_realloc, tmem_free, t };

    return m;
}

/* Log sink: counts lines per level and keeps the last one. */
struct tlog {
    int count[LOG_LVL_FATAL + 1];
    char last[LOG_LINE_MAX];
};

static void
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

#endif
