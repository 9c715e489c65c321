/*
 * test_mule_route.c: unit tests of mule/mule_route (routing table).
 *
 * Overlapping suffixes, exact beats suffix beats default, case and
 * trailing dots, address literals, destination interning, thousands of
 * entries, reload by swap, config errors with line numbers, and
 * allocation failure at every allocation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mule/mule_err.h"
#include "mule/mule_route.h"
#include "test_common.h"

static mule_route_table *
parse_ok(const char *text)
{
    mule_route_table *t = NULL;
    mule_route_error err;
    int rc;

    rc = mule_route_table_parse(text, strlen(text), NULL, NULL, &t, &err);
    if (rc != 0)
        fail_msg("parse failed: got %s at line %u (%s), want OK", mule_errname(rc),
                 err.line, err.text);
    return t;
}

static const char *
look(const mule_route_table *t, const char *domain, enum mule_route_match *how)
{
    static char out[256];

    return mule_dest_format(mule_route_lookup(t, domain, strlen(domain), how), out,
                            sizeof(out));
}

static const char overlap_cfg[] =
    "# overlapping rules\n"
    "route a.b.example group 239.1.1.1 nodes 198.18.0.1\n"
    "route .b.example  group 239.1.1.2 nodes 198.18.0.2\n"
    "route .example    group 239.1.1.3 nodes 198.18.0.3\n"
    "route b.example   group 239.1.1.4 nodes 198.18.0.4\n"
    "route here.example local\n"
    "default group 239.9.9.9 nodes 198.18.9.9,198.18.9.8\n";

static void
test_mule_route_overlapping_suffixes(void **state)
{
    static const struct {
        const char *domain;
        const char *want;
        enum mule_route_match how;
    } cases[] = {
        { "a.b.example", "group=239.1.1.1 nodes=198.18.0.1", MULE_ROUTE_EXACT },
        { "x.a.b.example", "group=239.1.1.2 nodes=198.18.0.2", MULE_ROUTE_SUFFIX },
        { "c.b.example", "group=239.1.1.2 nodes=198.18.0.2", MULE_ROUTE_SUFFIX },
        { "b.example", "group=239.1.1.4 nodes=198.18.0.4", MULE_ROUTE_EXACT },
        { "c.example", "group=239.1.1.3 nodes=198.18.0.3", MULE_ROUTE_SUFFIX },
        { "deep.x.y.example", "group=239.1.1.3 nodes=198.18.0.3", MULE_ROUTE_SUFFIX },
        { "example", "group=239.9.9.9 nodes=198.18.9.8,198.18.9.9", MULE_ROUTE_DEFAULT },
        { "other.test", "group=239.9.9.9 nodes=198.18.9.8,198.18.9.9", MULE_ROUTE_DEFAULT },
        { "here.example", "local", MULE_ROUTE_EXACT },
        { "sub.here.example", "group=239.1.1.3 nodes=198.18.0.3", MULE_ROUTE_SUFFIX },
        /* case and the root dot */
        { "A.B.EXAMPLE", "group=239.1.1.1 nodes=198.18.0.1", MULE_ROUTE_EXACT },
        { "a.b.example.", "group=239.1.1.1 nodes=198.18.0.1", MULE_ROUTE_EXACT },
        { "X.B.Example.", "group=239.1.1.2 nodes=198.18.0.2", MULE_ROUTE_SUFFIX },
        /* suffix entries do not match the bare domain */
        { "xb.example", "group=239.1.1.3 nodes=198.18.0.3", MULE_ROUTE_SUFFIX },
    };
    mule_route_table *t = parse_ok(overlap_cfg);
    enum mule_route_match how;
    size_t i;
    const char *got;

    (void)state;
    assert_int_equal(mule_route_table_route_cnt(t), 5);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        got = look(t, cases[i].domain, &how);
        if (strcmp(got, cases[i].want) != 0 || how != cases[i].how)
            fail_msg("%s: got \"%s\" (match %d), want \"%s\" (match %d)", cases[i].domain,
                     got, (int)how, cases[i].want, (int)cases[i].how);
    }
    mule_route_table_free(t);
}

static void
test_mule_route_bad_lookup_keys(void **state)
{
    mule_route_table *t = parse_ok(overlap_cfg);
    enum mule_route_match how;
    char big[300];

    (void)state;
    assert_null(mule_route_lookup(t, "", 0, &how));
    assert_int_equal(how, MULE_ROUTE_NONE);
    assert_null(mule_route_lookup(t, ".example", 8, &how));
    memset(big, 'a', sizeof(big));
    assert_null(mule_route_lookup(t, big, 256, &how));
    /* 255 octets is still a domain: the default applies. */
    assert_non_null(mule_route_lookup(t, big, 255, &how));
    assert_int_equal(how, MULE_ROUTE_DEFAULT);
    assert_null(mule_route_lookup(NULL, "x", 1, &how));
    mule_route_table_free(t);
}

static void
test_mule_route_no_default(void **state)
{
    mule_route_table *t = parse_ok("route .mil group 239.0.0.1 nodes 7\n");
    enum mule_route_match how;

    (void)state;
    assert_string_equal(look(t, "army.mil", &how), "group=239.0.0.1 nodes=0.0.0.7");
    assert_null(mule_route_lookup(t, "army.com", 8, &how));
    assert_int_equal(how, MULE_ROUTE_NONE);
    mule_route_table_free(t);
}

static void
test_mule_route_address_literal(void **state)
{
    mule_route_table *t;

    (void)state;
    t = parse_ok("route [198.18.0.9] group 239.1.1.1 nodes 198.18.0.9\n"
                 "route [IPv6:2001:DB8::1] local\n"
                 "route .0.9 group 239.1.1.2 nodes 1\n"
                 "default local\n");
    {
        enum mule_route_match how;

        assert_string_equal(look(t, "[198.18.0.9]", &how), "group=239.1.1.1 nodes=198.18.0.9");
        assert_int_equal(how, MULE_ROUTE_EXACT);
        assert_string_equal(look(t, "[ipv6:2001:db8::1]", &how), "local");
        assert_int_equal(how, MULE_ROUTE_EXACT);
        /* A literal never walks up "parent" suffixes. */
        assert_string_equal(look(t, "[198.18.0.10]", &how), "local");
        assert_int_equal(how, MULE_ROUTE_DEFAULT);
        assert_string_equal(look(t, "[10.0.9]", &how), "local");
        assert_int_equal(how, MULE_ROUTE_DEFAULT);
    }
    mule_route_table_free(t);
}

static mule_route_table *
parse_maybe(const char *text)
{
    mule_route_table *t = NULL;

    if (mule_route_table_parse(text, strlen(text), NULL, NULL, &t, NULL) != 0)
        return NULL;
    return t;
}

static void
test_mule_route_address_literal_bad(void **state)
{
    (void)state;
    assert_null(parse_maybe("route .18.0.9] local\n"));
    assert_null(parse_maybe("route [] local\n"));
    assert_null(parse_maybe("route [1.2.3.4 local\n"));
    assert_null(parse_maybe("route [a[b] local\n"));
}

static void
test_mule_route_dest_interning(void **state)
{
    mule_route_table *t = parse_ok(
        "route one.example group 239.1.1.1 nodes 198.18.0.3,198.18.0.2\n"
        "route two.example group 239.1.1.1 nodes 3323068418,198.18.0.3\n"
        "route three.example group 239.1.1.1 nodes 198.18.0.2\n"
        "route four.example group 239.1.1.2 nodes 198.18.0.2,198.18.0.3\n"
        "route five.example local\n"
        "default local\n");
    const mule_dest *a, *b, *c, *d, *e, *f;

    (void)state;
    a = mule_route_lookup(t, "one.example", 11, NULL);
    b = mule_route_lookup(t, "two.example", 11, NULL);
    c = mule_route_lookup(t, "three.example", 13, NULL);
    d = mule_route_lookup(t, "four.example", 12, NULL);
    e = mule_route_lookup(t, "five.example", 12, NULL);
    f = mule_route_lookup(t, "six.example", 11, NULL);
    /* 3323068418 is 198.18.0.2: same node set in another order. */
    assert_ptr_equal(a, b);
    assert_int_equal(a->id, b->id);
    assert_true(mule_dest_equal(a, b));
    assert_false(mule_dest_equal(a, c));
    assert_false(mule_dest_equal(a, d));
    assert_ptr_equal(e, f);
    assert_true(e->local);
    assert_int_equal(a->node_cnt, 2);
    assert_int_equal(a->nodes[0], 0xc6120002u);
    assert_int_equal(a->nodes[1], 0xc6120003u);
    assert_int_equal(mule_route_table_dest_cnt(t), 4);
    mule_route_table_free(t);
}

static void
test_mule_route_config_syntax(void **state)
{
    mule_route_table *t = parse_ok(
        "\r\n"
        "   # indented comment\r\n"
        "ROUTE  Mixed.Example.\tGROUP 224.0.0.1   NODES 1,2,3 # trailing\r\n"
        "Default Local\r\n"
        "\t\n"
        "route glued.example local# a comment glued to the last word\n"
        "route last.example local");   /* no final newline */

    (void)state;
    assert_string_equal(look(t, "mixed.example", NULL), "group=224.0.0.1 nodes=0.0.0.1,0.0.0.2,0.0.0.3");
    assert_string_equal(look(t, "last.example", NULL), "local");
    /* '#' starts a comment anywhere (the shared tokenizer, pmul/util/tok.h). */
    assert_string_equal(look(t, "glued.example", NULL), "local");
    mule_route_table_free(t);
    /* An empty config is a valid, empty table. */
    t = parse_ok("");
    assert_int_equal(mule_route_table_route_cnt(t), 0);
    assert_null(mule_route_lookup(t, "a.example", 9, NULL));
    mule_route_table_free(t);
}

static void
test_mule_route_config_errors(void **state)
{
    static const struct {
        const char *text;
        unsigned line;
        const char *want;
    } cases[] = {
        { "route a.example\n", 1, "missing destination" },
        { "\n\nroute a.example group 239.1.1.1\n", 3, "nodes" },
        { "route a.example group 10.1.1.1 nodes 1\n", 1, "not an IPv4 multicast" },
        { "route a.example group 239.1.1 nodes 1\n", 1, "dotted IPv4" },
        { "route a.example group 239.1.1.256 nodes 1\n", 1, "dotted IPv4" },
        { "route a.example group 239.1.1.1 nodes 1,,2\n", 1, "bad node ID" },
        { "route a.example group 239.1.1.1 nodes 4294967296\n", 1, "bad node ID" },
        { "route a.example group 239.1.1.1 nodes 1.2.3\n", 1, "bad node ID" },
        { "route a.example group 239.1.1.1 nodes -1\n", 1, "bad node ID" },
        { "route a.example group 239.1.1.1 nodes 0\n", 1, "reserved" },
        { "route a.example group 239.1.1.1 nodes 1,0.0.0.1\n", 1, "duplicate node 0.0.0.1" },
        { "route a.example group 239.1.1.1 nodes 1, 2\n", 1, "unexpected words" },
        { "route a.example local\n# x\nroute A.EXAMPLE. local\n", 3, "duplicate route" },
        { "default local\ndefault group 239.1.1.1 nodes 1\n", 2, "second default" },
        { "rout a.example local\n", 1, "unknown keyword" },
        { "route\n", 1, "needs a domain" },
        { "route a..example local\n", 1, "bad domain" },
        { "route a.exa$mple local\n", 1, "bad domain" },
        { "route . local\n", 1, "bad domain" },
        { "route .. local\n", 1, "bad domain" },
        { "route a.example lokal\n", 1, "expected \"local\" or \"group\"" },
        { "route a.example local extra\n", 1, "expected \"local\" or \"group\"" },
        { "route a.example\x01 local\n", 1, "control character" },
        { "route a.example\rlocal\n", 1, "control character 0x0d" },
        { "a b c d e f g h i\n", 1, "too many words" },
        { "ok\n", 1, "unknown keyword" },
    };
    mule_route_table *t;
    mule_route_error err;
    struct tlog tl;
    logger lg = tlog_make(&tl);
    size_t i;
    int rc;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        t = (mule_route_table *)1;
        rc = mule_route_table_parse(cases[i].text, strlen(cases[i].text), NULL, &lg, &t, &err);
        if (rc != MULE_ERR_CONFIG || t != NULL || err.line != cases[i].line ||
            strstr(err.text, cases[i].want) == NULL)
            fail_msg("case %zu: got %s line %u \"%s\", want CONFIG line %u \"%s\"", i,
                     mule_errname(rc), err.line, err.text, cases[i].line, cases[i].want);
    }
    assert_int_equal(tl.count[LOG_LVL_ERROR], (int)(sizeof(cases) / sizeof(cases[0])));
    assert_non_null(strstr(tl.last, "mule-route-config line=1"));
}

static void
test_mule_route_config_limits(void **state)
{
    char *text;
    size_t n, i;
    mule_route_error err;
    mule_route_table *t;
    int rc;

    (void)state;
    /* A line over the cap. */
    n = MULE_ROUTE_MAX_LINE + 10;
    text = malloc(n + 1);
    assert_non_null(text);
    memset(text, ' ', n);
    memcpy(text + 20, "default local", 13);
    text[n] = '\0';
    rc = mule_route_table_parse(text, n, NULL, NULL, &t, &err);
    assert_int_equal(rc, MULE_ERR_CONFIG);
    assert_int_equal(err.line, 1);
    free(text);

    /* MULE_ROUTE_MAX_NODES nodes fit, one more does not. */
    n = 64 + (MULE_ROUTE_MAX_NODES + 1) * 11;
    text = malloc(n);
    assert_non_null(text);
    for (int extra = 0; extra <= 1; extra++) {
        size_t off = (size_t)snprintf(text, n, "default group 239.1.1.1 nodes ");

        for (i = 1; i <= MULE_ROUTE_MAX_NODES + (size_t)extra; i++)
            off += (size_t)snprintf(text + off, n - off, "%s%zu", i > 1 ? "," : "", i);
        rc = mule_route_table_parse(text, off, NULL, NULL, &t, &err);
        if (extra == 0) {
            assert_int_equal(rc, 0);
            assert_int_equal(mule_route_lookup(t, "x", 1, NULL)->node_cnt, MULE_ROUTE_MAX_NODES);
            mule_route_table_free(t);
        } else {
            assert_int_equal(rc, MULE_ERR_CONFIG);
            assert_non_null(strstr(err.text, "more than"));
        }
    }
    free(text);
    assert_int_equal(mule_route_table_parse(NULL, 1, NULL, NULL, &t, NULL), MULE_ERR_INVAL);
    assert_int_equal(mule_route_table_parse("", 0, NULL, NULL, NULL, NULL), MULE_ERR_INVAL);
}

/* Thousands of entries: every lookup finds its own rule. */
static void
test_mule_route_thousands_of_entries(void **state)
{
    enum { N = 5000 };
    size_t cap = (size_t)N * 3 * 80, off = 0;
    char *text = malloc(cap), dom[128], want[128];
    mule_route_table *t;
    enum mule_route_match how;
    int i;

    (void)state;
    assert_non_null(text);
    for (i = 0; i < N; i++) {
        off += (size_t)snprintf(text + off, cap - off,
                                "route h%d.d%d.example group 239.%d.%d.1 nodes %d\n"
                                "route .d%d.example group 239.%d.%d.2 nodes %d\n",
                                i, i, i / 256, i % 256, i + 1, i, i / 256, i % 256, i + 1);
    }
    off += (size_t)snprintf(text + off, cap - off, "default local\n");
    t = parse_ok(text);
    free(text);
    assert_int_equal(mule_route_table_route_cnt(t), 2 * N);
    assert_int_equal(mule_route_table_dest_cnt(t), 2 * N + 1);
    for (i = 0; i < N; i++) {
        snprintf(dom, sizeof(dom), "H%d.D%d.example", i, i);
        snprintf(want, sizeof(want), "group=239.%d.%d.1", i / 256, i % 256);
        if (strncmp(look(t, dom, &how), want, strlen(want)) != 0 || how != MULE_ROUTE_EXACT)
            fail_msg("%s: got %s, want %s (exact)", dom, look(t, dom, &how), want);
        snprintf(dom, sizeof(dom), "mx.d%d.example", i);
        snprintf(want, sizeof(want), "group=239.%d.%d.2", i / 256, i % 256);
        if (strncmp(look(t, dom, &how), want, strlen(want)) != 0 || how != MULE_ROUTE_SUFFIX)
            fail_msg("%s: got %s, want %s (suffix)", dom, look(t, dom, &how), want);
    }
    assert_string_equal(look(t, "d5000.example", &how), "local");
    assert_int_equal(how, MULE_ROUTE_DEFAULT);
    mule_route_table_free(t);
}

/* Reload: the old table stays usable until freed; lookups through the
 * router see the new one after the swap. */
static void
test_mule_route_reload_swap(void **state)
{
    mule_router r;
    mule_route_table *old, *next, *bad = NULL;
    const mule_dest *held;
    mule_route_error err;

    (void)state;
    mule_router_init(&r, parse_ok("route a.example group 239.1.1.1 nodes 1\n"));
    held = mule_route_lookup(mule_router_get(&r), "a.example", 9, NULL);
    assert_non_null(held);

    /* A broken config never reaches the router. */
    assert_int_equal(mule_route_table_parse("route a.example nowhere\n", 24, NULL, NULL,
                                            &bad, &err), MULE_ERR_CONFIG);
    assert_null(bad);
    assert_ptr_equal(mule_route_lookup(mule_router_get(&r), "a.example", 9, NULL), held);

    next = parse_ok("route a.example group 239.2.2.2 nodes 2\n");
    old = mule_router_swap(&r, next);
    assert_ptr_equal(mule_router_get(&r), next);
    /* The result taken before the swap is still valid. */
    assert_int_equal(held->group, 0xef010101u);
    assert_int_equal(mule_route_lookup(mule_router_get(&r), "a.example", 9, NULL)->group,
                     0xef020202u);
    mule_route_table_free(old);
    mule_router_fini(&r);
    assert_null(mule_router_get(&r));
    mule_router_fini(&r);
}

static void
test_mule_route_dest_format(void **state)
{
    mule_route_table *t = parse_ok(
        "default group 239.1.2.3 nodes 198.18.0.2,198.18.0.3,198.18.0.4\n");
    const mule_dest *d = mule_route_lookup(t, "x", 1, NULL);
    char out[64], small[40];

    (void)state;
    assert_string_equal(mule_dest_format(d, out, sizeof(out)),
                        "group=239.1.2.3 nodes=198.18.0.2,198.18.0.3,198.18.0.4");
    mule_dest_format(d, small, sizeof(small));
    assert_string_equal(small, "group=239.1.2.3 nodes=198.18.0.2,...");
    assert_string_equal(mule_dest_format(NULL, out, sizeof(out)), "");
    mule_route_table_free(t);
}

/* Every allocation fails once; each run reports NOMEM and leaks nothing. */
static void
test_mule_route_alloc_failure(void **state)
{
    static const char cfg[] =
        "route a.example group 239.1.1.1 nodes 1,2\n"
        "route .b.example group 239.1.1.1 nodes 2,1\n"
        "route c.example local\n"
        "default group 239.1.1.9 nodes 9\n";
    struct tmem tm = { false, 0, 0 };
    mem m = tmem_make(&tm);
    mule_route_table *t;
    mule_route_error err;
    long total, k;
    int rc;

    (void)state;
    rc = mule_route_table_parse(cfg, sizeof(cfg) - 1, &m, NULL, &t, &err);
    assert_int_equal(rc, 0);
    mule_route_table_free(t);
    total = tm.calls;
    assert_true(total > 3);
    for (k = 0; k < total; k++) {
        tm.armed = true;
        tm.left = k;
        rc = mule_route_table_parse(cfg, sizeof(cfg) - 1, &m, NULL, &t, &err);
        if (rc != MULE_ERR_NOMEM || t != NULL)
            fail_msg("fail at alloc %ld: got %s, want NOMEM", k, mule_errname(rc));
    }
    tm.armed = false;
}

/* The example in docs/configuration.md parses and means what it says. */
static void
test_mule_route_docs_example(void **state)
{
    const char *src = getenv("MULE_SRCDIR");
    char path[4096], *text, *sec, *ex, *start, *end;
    mule_route_table *t;
    FILE *f;
    long n;

    (void)state;
    if (src == NULL)
        skip();
    snprintf(path, sizeof(path), "%s/docs/configuration.md", src);
    f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    text = malloc((size_t)n + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    text[n] = '\0';
    sec = strstr(text, "## Routing table");
    assert_non_null(sec);
    ex = strstr(sec, "### Example");
    assert_non_null(ex);
    start = strstr(ex, "```\n");
    assert_non_null(start);
    start += 4;
    end = strstr(start, "```");
    assert_non_null(end);
    *end = '\0';
    t = parse_ok(start);
    assert_string_equal(look(t, "hq.army.example", NULL), "group=239.2.0.1 nodes=198.18.0.4");
    assert_string_equal(look(t, "a.army.example", NULL),
                        "group=239.1.1.1 nodes=198.18.0.2,198.18.0.3");
    assert_string_equal(look(t, "army.example", NULL),
                        "group=239.1.1.1 nodes=198.18.0.2,198.18.0.3");
    assert_string_equal(look(t, "[198.18.0.1]", NULL), "local");
    assert_string_equal(look(t, "elsewhere.example", NULL), "group=239.9.9.9 nodes=198.18.9.1");
    /* The two army rules share one destination. */
    assert_ptr_equal(mule_route_lookup(t, "army.example", 12, NULL),
                     mule_route_lookup(t, "x.army.example", 14, NULL));
    mule_route_table_free(t);
    free(text);
}

/*
 * Every prefix of a valid config, each parsed from a heap copy of exactly
 * that length: a table, or MULE_ERR_CONFIG with a line number within
 * the prefix and a reason; never a crash, an over-read or a leak.
 */
static void
test_mule_route_truncation_loop(void **state)
{
    static const char cfg[] =
        "# comment\r\n"
        "route a.b.example group 239.1.1.1 nodes 198.18.0.1,198.18.0.2 # why\n"
        "route .b.example  group 239.1.1.2 nodes 3232235777\r\n"
        "ROUTE [IPv6:2001:db8::1] local\n"
        "\n"
        "route [192.0.2.1]   local\n"
        "peer 198.18.0.7,198.18.0.5 self-naming-acks\n"
        "peer 198.18.0.8 no-fec\n"
        "default\tgroup 239.9.9.9 nodes 198.18.9.9,198.18.9.8\n";
    struct tmem tm = { false, 0, 0 };
    mem m = tmem_make(&tm);
    mule_route_table *t;
    mule_route_error err;
    size_t len, lines, i;
    char *p;
    int rc;

    (void)state;
    for (len = 0; len <= sizeof(cfg) - 1; len++) {
        p = test_malloc(len != 0 ? len : 1);
        memcpy(p, cfg, len);
        for (lines = 1, i = 0; i < len; i++)
            lines += p[i] == '\n';
        t = NULL;
        memset(&err, 0, sizeof(err));
        rc = mule_route_table_parse(p, len, &m, NULL, &t, &err);
        if (rc == 0) {
            assert_non_null(t);
            (void)mule_route_lookup(t, "x.b.example", 11, NULL);
            mule_route_table_free(t);
        } else if (rc != MULE_ERR_CONFIG || t != NULL || err.line < 1 || err.line > lines ||
                   err.text[0] == '\0') {
            fail_msg("prefix %zu: got %s line %u '%s', want OK or CONFIG with a line",
                     len, mule_errname(rc), err.line, err.text);
        }
        assert_int_equal(tm.live, 0);
        test_free(p);
    }
    rc = mule_route_table_parse(cfg, sizeof(cfg) - 1, NULL, NULL, &t, &err);
    assert_int_equal(rc, 0);
    assert_int_equal(mule_route_table_route_cnt(t), 4);
    mule_route_table_free(t);
}

/* Issue 13 item 8: "peer NODES self-naming-acks" lines collect the
 * transmitters that want a self-naming Ack entry; bad lines are refused
 * with their line number. */
static void
test_mule_route_peer_self_naming_acks(void **state)
{
    static const char *const bad[] = {
        "peer 198.18.0.5\n",
        "peer 198.18.0.5 self-naming\n",
        "peer 198.18.0.5,0 self-naming-acks\n",
        "peer 198.18.0.5,198.18.0.5 self-naming-acks\n",
        "peer x self-naming-acks\n",
        "peer 198.18.0.5 self-naming-acks extra\n",
        "peer 198.18.0.5 no-fec extra\n",
        "peer 198.18.0.5,198.18.0.5 no-fec\n",
    };
    mule_route_table *t;
    mule_route_error err;
    const uint32_t *v;
    size_t n, i;

    (void)state;
    t = parse_ok("route .a group 239.1.1.1 nodes 198.18.0.1\n"
                 "peer 198.18.0.9,198.18.0.5 self-naming-acks\n"
                 "peer 198.18.0.5,198.18.0.7 self-naming-acks\n");
    v = mule_route_table_self_ack(t, &n);
    assert_int_equal(n, 3);
    assert_int_equal(v[0], 0xC6120005u);
    assert_int_equal(v[1], 0xC6120007u);
    assert_int_equal(v[2], 0xC6120009u);
    /* Another implementation: FEC_ID 0x81 is ours, so no repairs for it. */
    v = mule_route_table_no_fec(t, &n);
    assert_int_equal(n, 3);
    assert_int_equal(v[0], 0xC6120005u);
    assert_int_equal(v[2], 0xC6120009u);
    mule_route_table_free(t);
    /* "peer NODES no-fec": a list of its own, merged the same way. */
    t = parse_ok("default local\n"
                 "peer 198.18.0.9 no-fec\n"
                 "peer 198.18.0.5,198.18.0.9 no-fec\n");
    v = mule_route_table_no_fec(t, &n);
    assert_int_equal(n, 2);
    assert_int_equal(v[0], 0xC6120005u);
    assert_int_equal(v[1], 0xC6120009u);
    assert_null(mule_route_table_self_ack(t, &n));
    mule_route_table_free(t);
    t = parse_ok("default local\n");
    assert_null(mule_route_table_self_ack(t, &n));
    assert_int_equal(n, 0);
    mule_route_table_free(t);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        t = NULL;
        assert_int_equal(mule_route_table_parse(bad[i], strlen(bad[i]), NULL, NULL, &t, &err),
                         MULE_ERR_CONFIG);
        assert_null(t);
        assert_int_equal(err.line, 1);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mule_route_overlapping_suffixes),
        cmocka_unit_test(test_mule_route_peer_self_naming_acks),
        cmocka_unit_test(test_mule_route_bad_lookup_keys),
        cmocka_unit_test(test_mule_route_no_default),
        cmocka_unit_test(test_mule_route_address_literal),
        cmocka_unit_test(test_mule_route_address_literal_bad),
        cmocka_unit_test(test_mule_route_dest_interning),
        cmocka_unit_test(test_mule_route_config_syntax),
        cmocka_unit_test(test_mule_route_config_errors),
        cmocka_unit_test(test_mule_route_config_limits),
        cmocka_unit_test(test_mule_route_thousands_of_entries),
        cmocka_unit_test(test_mule_route_reload_swap),
        cmocka_unit_test(test_mule_route_dest_format),
        cmocka_unit_test(test_mule_route_alloc_failure),
        cmocka_unit_test(test_mule_route_docs_example),
        cmocka_unit_test(test_mule_route_truncation_loop),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
