/*
 * NAME
 *	fuzz_mule_route - libFuzzer target for the MULE routing table parser
 * SYNOPSIS
 *	fuzz_mule_route [libFuzzer options] CORPUS_DIR...
 * DESCRIPTION
 *	The input is routing-table config text (docs/configuration.md,
 *	"Routing table"), which is operator input but must never crash the
 *	daemon on a reload.  Each input is parsed twice into two tables.
 *	When it parses, names derived from the input's words (as written,
 *	without a leading dot, with a label in front, upper-cased, with a
 *	trailing dot, and a few fixed ones) are looked up in both tables,
 *	which must agree; the second table is then swapped into a
 *	mule_router holding the first (a reload), and the lookups repeat
 *	through the router.  Finally the parse is repeated with an
 *	allocator that fails after a number of calls derived from the
 *	input.
 *
 *	Invariants (a failure prints and traps): no crash or sanitizer
 *	report; a refused config has a line number within the text and a
 *	non-empty, NUL-terminated reason; a destination is local or has
 *	1..MULE_ROUTE_MAX_NODES ascending, distinct, non-zero nodes and a
 *	multicast group; mule_dest_format() always NUL-terminates within
 *	its buffer; the allocator gets every block back; a failed
 *	allocation gives MULE_ERR_NOMEM and no table.
 *
 *	Seeds: tests/fuzz/seeds_mule_route.py (the example of
 *	docs/configuration.md and the config tables of
 *	tests/unit/test_mule_route.c).
 * SECURITY
 *	Test code: the inputs are hostile on purpose.
 * DIAGNOSTICS
 *	A broken invariant prints what differs and traps.
 * SEE ALSO
 *	mule/mule_route.h, tests/fuzz/fuzz_common.h,
 *	tests/fuzz/meson.build.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mule/mule_err.h"
#include "mule/mule_route.h"

#define FUZZ_NAME "fuzz_mule_route"
#include "tests/fuzz/fuzz_common.h"

/* ---- checks -------------------------------------------------------------- */

static void
check_dest(const mule_dest *d)
{
    static const size_t outlens[] = { 1, 5, 16, 40, 300 };
    char out[300];
    size_t i, k;

    if (d == NULL)
        return;
    if (!d->local) {
        CHECK(d->node_cnt >= 1 && d->node_cnt <= MULE_ROUTE_MAX_NODES, "node_cnt %zu",
              d->node_cnt);
        CHECK((d->group >> 28) == 0xE, "group %08x", d->group);
        for (i = 0; i < d->node_cnt; i++)
            CHECK(d->nodes[i] != 0 && (i == 0 || d->nodes[i - 1] < d->nodes[i]),
                  "node list not ascending or has 0");
    }
    CHECK(mule_dest_equal(d, d), "dest not equal to itself");
    for (k = 0; k < sizeof(outlens) / sizeof(outlens[0]); k++) {
        memset(out, 'Z', sizeof(out));
        CHECK(mule_dest_format(d, out, outlens[k]) == out, "format result");
        CHECK(memchr(out, '\0', outlens[k]) != NULL, "format not NUL-terminated in %zu",
              outlens[k]);
    }
}

/* Look name up in both tables (and the router's): they must agree. */
static void
look(const mule_route_table *a, const mule_route_table *b, const char *name, size_t len)
{
    enum mule_route_match ha, hb;
    const mule_dest *da, *db;

    da = mule_route_lookup(a, name, len, &ha);
    db = mule_route_lookup(b, name, len, &hb);
    CHECK((da == NULL) == (db == NULL) && ha == hb, "tables disagree on '%.*s'", (int)len,
          name);
    CHECK((da == NULL) == (ha == MULE_ROUTE_NONE), "match kind for '%.*s'", (int)len, name);
    if (da != NULL)
        CHECK(mule_dest_equal(da, db), "different destinations for '%.*s'", (int)len, name);
    check_dest(da);
}

/* Lookups derived from the words of the input. */
static void
lookups(const mule_route_table *a, const mule_route_table *b, const uint8_t *data,
        size_t size)
{
    static const char *const fixed[] = { "", ".", "a", "example", "x.example", "[1.2.3.4]",
                                         "[IPv6:::1]", "..", "a..b" };
    char w[600];
    size_t i = 0, j, n, words = 0;

    for (j = 0; j < sizeof(fixed) / sizeof(fixed[0]); j++)
        look(a, b, fixed[j], strlen(fixed[j]));
    while (i < size && words < 24) {
        while (i < size && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' ||
                            data[i] == '\r'))
            i++;
        for (n = 0; i + n < size && data[i + n] != ' ' && data[i + n] != '\t' &&
                    data[i + n] != '\n' && data[i + n] != '\r'; n++)
            ;
        if (n == 0)
            break;
        words++;
        if (n <= 280) {
            look(a, b, (const char *)data + i, n);
            if (data[i] == '.' && n > 1)
                look(a, b, (const char *)data + i + 1, n - 1);
            memcpy(w, "x.", 2);
            memcpy(w + 2, data + i, n);
            look(a, b, w, n + 2);
            for (j = 0; j < n; j++)
                w[j] = (data[i + j] >= 'a' && data[i + j] <= 'z') ? (char)(data[i + j] - 32)
                                                                   : (char)data[i + j];
            w[n] = '.';
            look(a, b, w, n + 1);
            look(a, b, w, n);
        }
        i += n;
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tmem cm;
    mem m = tmem_make(&cm);
    mule_route_table *a = NULL, *b = NULL, *old;
    const char *text = (const char *)data;
    mule_route_error err;
    mule_router r;
    size_t lines = 1, i;
    long calls;
    int rc, rc2;

    cm.max_len = (size_t)512 << 20;
    for (i = 0; i < size; i++)
        lines += data[i] == '\n';
    memset(&err, 'Z', sizeof(err));
    rc = mule_route_table_parse(text, size, &m, NULL, &a, &err);
    CHECK(rc == 0 || rc == MULE_ERR_CONFIG, "parse: %s", mule_errname(rc));
    calls = cm.calls;
    if (rc != 0) {
        CHECK(a == NULL, "table on error");
        CHECK(err.line >= 1 && err.line <= lines, "error line %u of %zu", err.line, lines);
        CHECK(memchr(err.text, '\0', sizeof(err.text)) != NULL && err.text[0] != '\0',
              "error text");
        CHECK(cm.live == 0, "%ld blocks live after a refused config", cm.live);
        return 0;
    }
    CHECK(a != NULL, "no table");
    rc2 = mule_route_table_parse(text, size, &m, NULL, &b, NULL);
    CHECK(rc2 == 0 && b != NULL, "second parse: %s", mule_errname(rc2));
    CHECK(mule_route_table_route_cnt(a) == mule_route_table_route_cnt(b) &&
          mule_route_table_dest_cnt(a) == mule_route_table_dest_cnt(b), "counts differ");
    CHECK(mule_route_table_route_cnt(a) <= lines, "more routes than lines");
    lookups(a, b, data, size);

    /* A reload: b replaces a in the router; a is freed right away. */
    mule_router_init(&r, a);
    old = mule_router_swap(&r, b);
    CHECK(old == a, "swap returned another table");
    mule_route_table_free(old);
    CHECK(mule_router_get(&r) == b, "router table");
    lookups(b, mule_router_get(&r), data, size);
    mule_router_fini(&r);
    CHECK(cm.live == 0, "%ld blocks live after the tables were freed", cm.live);

    /* The same text with an allocation failing somewhere. */
    if (calls > 0) {
        cm.armed = true;
        cm.left = (long)(size * 2654435761u % (size_t)calls);
        a = NULL;
        rc = mule_route_table_parse(text, size, &m, NULL, &a, &err);
        CHECK(rc == MULE_ERR_NOMEM && a == NULL, "failing allocator: %s", mule_errname(rc));
        CHECK(cm.live == 0, "%ld blocks live after NOMEM", cm.live);
    }
    return 0;
}
