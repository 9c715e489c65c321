/*
 * NAME
 *	mule_route - static routing table: domain to ACP 142 destination
 * SYNOPSIS
 *	#include "mule/mule_route.h"
 * DESCRIPTION
 *	RFC 8494 section 3 step 5 converts each recipient's domain "into next
 *	ACP 142 destination using static configuration".  This module is that
 *	configuration: it parses the route lines of docs/configuration.md
 *	("Routing table") into an immutable table and answers lookups.
 *
 *	All keys live in one hash map (pmul/util/map.h) from the hash of the
 *	key to the entry, colliding hashes told apart by comparing the keys.
 *	Exact entries are stored as the lower-cased host ("a.b.example"),
 *	suffix entries with their leading dot (".b.example"), so one probe of
 *	the whole domain finds an exact entry and one probe per following dot
 *	finds the suffix entries from the longest to the shortest.  A lookup
 *	thus costs O(labels) probes and never scans the table; the first hit
 *	wins, which is the most specific rule.  The default route is kept
 *	aside.
 *
 *	Destinations are interned while parsing (same group and same node set
 *	become one mule_dest with one id), so a relay that groups recipients
 *	by destination compares small integers in the common case.
 *
 *	Lines and words come from the shared tokenizer (pmul/util/tok.h):
 *	'#' comments, CRLF, the line cap and control characters are handled
 *	there, the same way as in every other configuration file.
 *
 *	A table is never modified after mule_route_table_parse() returns;
 *	reloads build a new one and swap it in through mule_router, an atomic
 *	pointer, so readers see either table whole.
 * SECURITY
 *	The config text is operator input, not peer input, but it is still
 *	parsed defensively: line length, route count and node count are
 *	capped, numbers are range-checked, and every error names its line.
 *	Lookup keys come from peers (recipient domains); they are bounded to
 *	255 octets and only ever hashed and compared.
 * DIAGNOSTICS
 *	MULE_ERR_CONFIG with the line number in mule_route_error, MULE_ERR_NOMEM,
 *	MULE_ERR_INVAL.  Logs "mule-route-config line=N error=..." on failure
 *	and "mule-route-loaded routes=N dests=N default=yes|no" on success.
 * SEE ALSO
 *	RFC 8494 (draft-melnikov-email-over-pmul-05) section 3, RFC 5321
 *	4.1.3 (address literals), docs/configuration.md.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "mule/mule_route.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mule/mule_err.h"
#include "pmul/util/arr.h"
#include "pmul/util/map.h"
#include "pmul/util/tok.h"

/* Kinds of hash entries.  The leading dot already separates them; the
 * kind is kept so that a lookup never mistakes one for the other. */
enum { KIND_EXACT = 1, KIND_SUFFIX = 2 };

struct route_ent {
    uint32_t key_off;       /* into t->keys */
    uint32_t key_len;
    uint32_t dest;          /* index into t->dests */
    uint32_t kind;
};

struct mule_route_table {
    const mem *m;
    char *keys;             /* all keys, lower case, not NUL-terminated */
    size_t keys_len, keys_cap;
    struct route_ent *ents;
    size_t ent_cnt, ent_cap;
    map index;              /* hash_ci(key) -> index into ents */
    mule_dest *dests;
    size_t dest_cnt, dest_cap;
    uint32_t *nodes;        /* all node lists back to back */
    size_t node_len, node_cap;
    size_t *dest_node_off;  /* per dest: offset into nodes (while building) */
    bool has_default;
    uint32_t default_dest;
    uint32_t *self_ack;     /* peers wanting self-naming Ack entries,
                             * ascending, no duplicates */
    size_t self_ack_cnt;
    uint32_t *no_fec;       /* peers that do not decode FEC repair,
                             * ascending ("peer NODES no-fec") */
    size_t no_fec_cnt;
};

/* Destination interning during the build only. */
struct intern {
    map by_hash;            /* hash_dest() -> index into t->dests */
    size_t aux_cap;         /* capacity of t->dest_node_off */
};

/* ------------------------------------------------------------------ */
/* Small helpers                                                      */
/* ------------------------------------------------------------------ */

static inline unsigned char
lc(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* FNV-1a over the lower-cased octets: lookups hash the peer's spelling
 * directly, without copying it. */
static uint64_t
hash_ci(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    size_t i;

    for (i = 0; i < len; i++) {
        h ^= lc((unsigned char)s[i]);
        h *= 1099511628211ull;
    }
    return h;
}

static bool
eq_ci(const char *stored_lc, const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++)
        if ((unsigned char)stored_lc[i] != lc((unsigned char)s[i]))
            return false;
    return true;
}

/* arr_grow() with the caller's errors: this module's caps are checked
 * before growing, so any failure is memory. */
static int
grow(const mem *m, void **p, size_t *cap, size_t need, size_t elem)
{
    return arr_grow(m, p, cap, need, elem, 0) == 0 ? 0 : MULE_ERR_NOMEM;
}

static void
set_err(mule_route_error *err, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
set_err(mule_route_error *err, unsigned line, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return;
    err->line = line;
    va_start(ap, fmt);
    /* Truncation of a diagnostic is harmless; the line number survives. */
    if (vsnprintf(err->text, sizeof(err->text), fmt, ap) < 0)
        err->text[0] = '\0';
    va_end(ap);
}

const char *
mule_route_ntoa(uint32_t v, char out[16])
{
    /* Four numbers of at most three digits and three dots always fit. */
    (void)snprintf(out, 16, "%u.%u.%u.%u", (unsigned)(v >> 24),
                   (unsigned)(v >> 16 & 0xff), (unsigned)(v >> 8 & 0xff),
                   (unsigned)(v & 0xff));
    return out;
}

/* ------------------------------------------------------------------ */
/* Hash table of route keys                                           */
/* ------------------------------------------------------------------ */

static const struct route_ent *
find_ent(const mule_route_table *t, const char *key, size_t len,
         uint64_t h, uint32_t kind)
{
    const struct route_ent *e;
    size_t pos = 0;
    uint64_t v;

    while (map_probe(&t->index, h, &pos, &v)) {
        e = &t->ents[v];
        if (e->key_len == len && e->kind == kind && eq_ci(t->keys + e->key_off, key, len))
            return e;
    }
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Destination interning                                              */
/* ------------------------------------------------------------------ */

static uint64_t
hash_dest(bool local, uint32_t group, const uint32_t *nodes, size_t cnt)
{
    uint64_t h = local ? 0x9e3779b97f4a7c15ull : 1469598103934665603ull;
    size_t i;

    h = (h ^ group) * 1099511628211ull;
    for (i = 0; i < cnt; i++)
        h = (h ^ nodes[i]) * 1099511628211ull;
    return h;
}

/*
 * Return in *idx the index of the destination (local, group, nodes[cnt]),
 * adding it when it is new.  nodes is sorted already.
 */
static int
intern_dest(mule_route_table *t, struct intern *in, bool local,
            uint32_t group, const uint32_t *nodes, size_t cnt, uint32_t *idx)
{
    uint64_t h = hash_dest(local, group, nodes, cnt), v;
    size_t pos = 0;
    mule_dest *d;
    int err;

    while (map_probe(&in->by_hash, h, &pos, &v)) {
        d = &t->dests[v];
        if (d->local == local && d->group == group && d->node_cnt == cnt &&
            (cnt == 0 || memcmp(t->nodes + t->dest_node_off[v], nodes,
                                cnt * sizeof(*nodes)) == 0)) {
            *idx = (uint32_t)v;
            return 0;
        }
    }
    /* New destination: append it and its node list.  dest_node_off
     * follows dests' capacity. */
    if ((err = grow(t->m, (void **)&t->dests, &t->dest_cap, t->dest_cnt + 1,
                    sizeof(*t->dests))) != 0 ||
        (err = grow(t->m, (void **)&t->dest_node_off, &in->aux_cap, t->dest_cap,
                    sizeof(*t->dest_node_off))) != 0)
        return err;
    if (cnt > SIZE_MAX - t->node_len)
        return MULE_ERR_NOMEM;
    if ((err = grow(t->m, (void **)&t->nodes, &t->node_cap, t->node_len + cnt,
                    sizeof(*t->nodes))) != 0)
        return err;
    /* Index it last: once indexed, everything it points to exists. */
    if (map_add(&in->by_hash, h, t->dest_cnt) != 0)
        return MULE_ERR_NOMEM;
    if (cnt != 0)
        memcpy(t->nodes + t->node_len, nodes, cnt * sizeof(*nodes));
    d = &t->dests[t->dest_cnt];
    memset(d, 0, sizeof(*d));
    d->local = local;
    d->group = group;
    d->node_cnt = cnt;
    d->id = (unsigned)t->dest_cnt;
    t->dest_node_off[t->dest_cnt] = t->node_len;
    t->node_len += cnt;
    t->dest_cnt++;
    *idx = (uint32_t)(t->dest_cnt - 1);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Config syntax                                                      */
/* ------------------------------------------------------------------ */

#define MAX_WORDS 8

/* A word of a config line (pmul/util/tok.h). */
typedef tok_word word;
#define word_is tok_is

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Decimal without sign or leading '+'; at most max. */
static bool
parse_uint(const char *p, size_t len, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    size_t i;

    if (len == 0 || len > 10)
        return false;
    for (i = 0; i < len; i++) {
        if (!is_digit(p[i]))
            return false;
        v = v * 10 + (uint64_t)(p[i] - '0');
    }
    if (v > max)
        return false;
    *out = v;
    return true;
}

/* Strict dotted quad: four decimal numbers 0..255, 1-3 digits each. */
static bool
parse_quad(const char *p, size_t len, uint32_t *out)
{
    uint32_t v = 0;
    uint64_t part;
    size_t i, start = 0, parts = 0;

    for (i = 0; i <= len; i++) {
        if (i < len && p[i] != '.')
            continue;
        if (i - start > 3 || !parse_uint(p + start, i - start, 255, &part))
            return false;
        v = v << 8 | (uint32_t)part;
        parts++;
        start = i + 1;
    }
    if (parts != 4)
        return false;
    *out = v;
    return true;
}

static bool
parse_node(const char *p, size_t len, uint32_t *out)
{
    uint64_t v;

    if (memchr(p, '.', len) != NULL)
        return parse_quad(p, len, out);
    if (!parse_uint(p, len, UINT32_MAX, &v))
        return false;
    *out = (uint32_t)v;
    return true;
}

static int
cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return (x > y) - (x < y);
}

/*
 * Validate a host name pattern (without a leading dot and trailing dot):
 * labels of letters, digits, '-' and '_', 1..63 octets, no empty label.
 * Non-ASCII names must be written as A-labels (xn--...).
 */
static bool
valid_host(const char *p, size_t len)
{
    size_t i, label = 0;
    unsigned char c;

    if (len == 0 || len > MULE_ROUTE_DOMAIN_MAX)
        return false;
    for (i = 0; i < len; i++) {
        c = (unsigned char)p[i];
        if (c == '.') {
            if (label == 0)
                return false;
            label = 0;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              is_digit((char)c) || c == '-' || c == '_'))
            return false;
        if (++label > 63)
            return false;
    }
    return label != 0;
}

/* "[...]" with printable ASCII inside, no brackets, backslash or space. */
static bool
valid_literal(const char *p, size_t len)
{
    size_t i;
    unsigned char c;

    if (len < 3 || len > MULE_ROUTE_DOMAIN_MAX || p[0] != '[' || p[len - 1] != ']')
        return false;
    for (i = 1; i + 1 < len; i++) {
        c = (unsigned char)p[i];
        if (c <= 0x20 || c >= 0x7f || c == '[' || c == ']' || c == '\\')
            return false;
    }
    return true;
}

/* Parse the comma-separated node list w into nodes[] (ascending, no
 * duplicates, at most MULE_ROUTE_MAX_NODES), its length in *cnt. */
static int
parse_nodes(const word *w, unsigned line, mule_route_error *err, uint32_t *nodes, size_t *cnt)
{
    const char *p = w->p;
    size_t len = w->len, i, start, n = 0;

    for (start = 0, i = 0; i <= len; i++) {
        if (i < len && p[i] != ',')
            continue;
        if (n == MULE_ROUTE_MAX_NODES) {
            set_err(err, line, "more than %u nodes", (unsigned)MULE_ROUTE_MAX_NODES);
            return MULE_ERR_CONFIG;
        }
        if (!parse_node(p + start, i - start, &nodes[n])) {
            set_err(err, line, "bad node ID \"%.*s\" (dotted IPv4 or 0..4294967295)",
                    (int)(i - start > 40 ? 40 : i - start), p + start);
            return MULE_ERR_CONFIG;
        }
        if (nodes[n] == 0) {
            set_err(err, line, "node ID 0 is reserved");
            return MULE_ERR_CONFIG;
        }
        n++;
        start = i + 1;
    }
    qsort(nodes, n, sizeof(nodes[0]), cmp_u32);
    for (i = 1; i < n; i++) {
        if (nodes[i] == nodes[i - 1]) {
            char q[16];

            set_err(err, line, "duplicate node %s", mule_route_ntoa(nodes[i], q));
            return MULE_ERR_CONFIG;
        }
    }
    *cnt = n;
    return 0;
}

/*
 * "peer N[,N...] self-naming-acks": these transmitters accept only Ack
 * entries that name the acker as Source_ID (a deployed Java P_MUL, quirk
 * D1 of docs/wire.md); our Acks to them carry such an entry besides the
 * conformant one (issue 13 item 8).
 * "peer N[,N...] no-fec": these receivers do not decode FEC repair
 * (docs/wire.md 10): our messages give them the sources they ask for.
 * A self-naming peer is another implementation, so it is a no-fec peer
 * too: FEC_ID 0x81 is ours alone.
 */
static int
add_peers(mule_route_table *t, uint32_t **list, size_t *have, const uint32_t *nodes, size_t cnt,
          unsigned line, mule_route_error *err)
{
    uint32_t *v;
    size_t i, k, out;

    if (*have + cnt > MULE_ROUTE_MAX_NODES) {
        set_err(err, line, "more than %u peers", (unsigned)MULE_ROUTE_MAX_NODES);
        return MULE_ERR_CONFIG;
    }
    if ((v = mem_realloc(t->m, *list, (*have + cnt) * sizeof(*v))) == NULL)
        return MULE_ERR_NOMEM;
    *list = v;
    /* Merge, keeping the list ascending and without duplicates. */
    for (i = 0; i < cnt; i++) {
        for (k = 0; k < *have && v[k] < nodes[i]; k++)
            ;
        if (k < *have && v[k] == nodes[i])
            continue;
        for (out = *have; out > k; out--)
            v[out] = v[out - 1];
        v[k] = nodes[i];
        (*have)++;
    }
    return 0;
}

static int
parse_peer(mule_route_table *t, const word *w, size_t n, unsigned line, mule_route_error *err)
{
    uint32_t nodes[MULE_ROUTE_MAX_NODES];
    size_t cnt;
    bool self_ack;
    int rc;

    if (n == 3 && word_is(&w[2], "self-naming-acks")) {
        self_ack = true;
    } else if (n == 3 && word_is(&w[2], "no-fec")) {
        self_ack = false;
    } else {
        set_err(err, line, "expected \"peer NODES self-naming-acks\" or \"peer NODES no-fec\"");
        return MULE_ERR_CONFIG;
    }
    if ((rc = parse_nodes(&w[1], line, err, nodes, &cnt)) != 0)
        return rc;
    if (self_ack && (rc = add_peers(t, &t->self_ack, &t->self_ack_cnt, nodes, cnt, line, err)) != 0)
        return rc;
    return add_peers(t, &t->no_fec, &t->no_fec_cnt, nodes, cnt, line, err);
}

/* Parse "local" or "group G nodes N[,N...]" from w[0..n).  On success the
 * destination is interned and its index stored in *idx. */
static int
parse_target(mule_route_table *t, struct intern *in, const word *w,
             size_t n, unsigned line, mule_route_error *err, uint32_t *idx)
{
    uint32_t group, nodes[MULE_ROUTE_MAX_NODES];
    size_t cnt = 0;
    int rc;

    if (n == 1 && word_is(&w[0], "local"))
        return intern_dest(t, in, true, 0, NULL, 0, idx);
    if (n == 0) {
        set_err(err, line, "missing destination (\"local\" or \"group ... nodes ...\")");
        return MULE_ERR_CONFIG;
    }
    if (!word_is(&w[0], "group")) {
        set_err(err, line, "expected \"local\" or \"group\"");
        return MULE_ERR_CONFIG;
    }
    if (n < 2 || !parse_quad(w[1].p, w[1].len, &group)) {
        set_err(err, line, "group needs a dotted IPv4 address");
        return MULE_ERR_CONFIG;
    }
    if ((group >> 28) != 0xe) {
        set_err(err, line, "group %.*s is not an IPv4 multicast address (224.0.0.0/4)",
                (int)w[1].len, w[1].p);
        return MULE_ERR_CONFIG;
    }
    if (n < 4 || !word_is(&w[2], "nodes")) {
        set_err(err, line, "expected \"nodes\" and a node list after the group");
        return MULE_ERR_CONFIG;
    }
    if (n > 4) {
        set_err(err, line, "unexpected words after the node list "
                "(write nodes as one comma-separated list)");
        return MULE_ERR_CONFIG;
    }
    if ((rc = parse_nodes(&w[3], line, err, nodes, &cnt)) != 0)
        return rc;
    return intern_dest(t, in, false, group, nodes, cnt, idx);
}

/* Add a route entry for pattern w (already validated). */
static int
add_route(mule_route_table *t, const word *w, uint32_t kind,
          uint32_t dest, unsigned line, mule_route_error *err)
{
    uint64_t h = hash_ci(w->p, w->len);
    struct route_ent *e;
    size_t i;
    int rc;

    if (find_ent(t, w->p, w->len, h, kind) != NULL) {
        set_err(err, line, "duplicate route for \"%.*s\"", (int)w->len, w->p);
        return MULE_ERR_CONFIG;
    }
    if (t->ent_cnt >= MULE_ROUTE_MAX_ROUTES) {
        set_err(err, line, "more than %u routes", (unsigned)MULE_ROUTE_MAX_ROUTES);
        return MULE_ERR_CONFIG;
    }
    if (t->keys_len > UINT32_MAX - w->len)
        return MULE_ERR_NOMEM;
    if ((rc = grow(t->m, (void **)&t->keys, &t->keys_cap, t->keys_len + w->len, 1)) != 0 ||
        (rc = grow(t->m, (void **)&t->ents, &t->ent_cap, t->ent_cnt + 1,
                   sizeof(*t->ents))) != 0)
        return rc;
    if (map_add(&t->index, h, t->ent_cnt) != 0)
        return MULE_ERR_NOMEM;
    for (i = 0; i < w->len; i++)
        t->keys[t->keys_len + i] = (char)lc((unsigned char)w->p[i]);
    e = &t->ents[t->ent_cnt];
    e->key_off = (uint32_t)t->keys_len;
    e->key_len = (uint32_t)w->len;
    e->dest = dest;
    e->kind = kind;
    t->keys_len += w->len;
    t->ent_cnt++;
    return 0;
}

/* One line of words w[0..n), n >= 1. */
static int
parse_line(mule_route_table *t, struct intern *in, const word *w, size_t n,
           unsigned line, mule_route_error *err)
{
    word pat;
    uint32_t kind, dest;
    int rc;

    if (word_is(&w[0], "default")) {
        if (t->has_default) {
            set_err(err, line, "second default route");
            return MULE_ERR_CONFIG;
        }
        if ((rc = parse_target(t, in, w + 1, n - 1, line, err, &dest)) != 0)
            return rc;
        t->has_default = true;
        t->default_dest = dest;
        return 0;
    }
    if (word_is(&w[0], "peer"))
        return parse_peer(t, w, n, line, err);
    if (!word_is(&w[0], "route")) {
        set_err(err, line, "unknown keyword \"%.*s\" (want route, default or peer)",
                (int)(w[0].len > 40 ? 40 : w[0].len), w[0].p);
        return MULE_ERR_CONFIG;
    }
    if (n < 2) {
        set_err(err, line, "route needs a domain");
        return MULE_ERR_CONFIG;
    }
    pat = w[1];
    if (pat.p[0] == '[') {
        if (!valid_literal(pat.p, pat.len)) {
            set_err(err, line, "bad address literal \"%.*s\"",
                    (int)(pat.len > 60 ? 60 : pat.len), pat.p);
            return MULE_ERR_CONFIG;
        }
        kind = KIND_EXACT;
    } else {
        /* One trailing dot is the DNS root and changes nothing. */
        if (pat.len > 1 && pat.p[pat.len - 1] == '.')
            pat.len--;
        kind = pat.p[0] == '.' ? KIND_SUFFIX : KIND_EXACT;
        if (!valid_host(pat.p + (kind == KIND_SUFFIX), pat.len - (kind == KIND_SUFFIX))) {
            set_err(err, line, "bad domain \"%.*s\"",
                    (int)(w[1].len > 60 ? 60 : w[1].len), w[1].p);
            return MULE_ERR_CONFIG;
        }
    }
    if ((rc = parse_target(t, in, w + 2, n - 2, line, err, &dest)) != 0)
        return rc;
    return add_route(t, &pat, kind, dest, line, err);
}

int
mule_route_table_parse(const char *text, size_t len, const mem *m,
                       const logger *lg, mule_route_table **out,
                       mule_route_error *err)
{
    mule_route_table *t = NULL;
    struct intern in;
    mule_route_error local_err;
    char wbuf[MULE_ROUTE_MAX_LINE + 1];
    word w[MAX_WORDS];
    tok tk;
    size_t i;
    int rc;

    if (err == NULL)
        err = &local_err;
    err->line = 0;
    err->text[0] = '\0';
    if (out == NULL || (text == NULL && len > 0))
        return MULE_ERR_INVAL;
    *out = NULL;
    map_init(&in.by_hash, m, 0);
    in.aux_cap = 0;
    tok_init(&tk, text, len, MULE_ROUTE_MAX_LINE, 0, wbuf, sizeof(wbuf), w, MAX_WORDS);
    t = mem_calloc(m, 1, sizeof(*t));
    if (t == NULL) {
        rc = MULE_ERR_NOMEM;
        goto fail;
    }
    t->m = m;
    /* One entry per route line; the route cap is checked before adding. */
    map_init(&t->index, m, 0);
    while ((rc = tok_next(&tk)) == 1) {
        if ((rc = parse_line(t, &in, w, tk.n, tk.line, err)) != 0)
            goto fail;
    }
    if (rc < 0) {
        set_err(err, tk.line, "%s", tk.reason);
        rc = MULE_ERR_CONFIG;
        goto fail;
    }
    /* Node arrays no longer move: point the public structs at them. */
    for (i = 0; i < t->dest_cnt; i++)
        t->dests[i].nodes = t->dests[i].node_cnt != 0 ? t->nodes + t->dest_node_off[i] : NULL;
    mem_free(m, t->dest_node_off);
    t->dest_node_off = NULL;
    map_fini(&in.by_hash);
    log_emit(lg, LOG_LVL_INFO, "mule-route-loaded routes=%zu dests=%zu default=%s",
             t->ent_cnt, t->dest_cnt, t->has_default ? "yes" : "no");
    *out = t;
    return 0;

fail:
    if (rc == MULE_ERR_NOMEM && err->text[0] == '\0')
        set_err(err, tk.line, "out of memory");
    log_emit(lg, LOG_LVL_ERROR, "mule-route-config line=%u error=\"%s\"", err->line,
             err->text);
    map_fini(&in.by_hash);
    mule_route_table_free(t);
    return rc;
}

void
mule_route_table_free(mule_route_table *t)
{
    if (t == NULL)
        return;
    mem_free(t->m, t->keys);
    mem_free(t->m, t->ents);
    map_fini(&t->index);
    mem_free(t->m, t->dests);
    mem_free(t->m, t->nodes);
    mem_free(t->m, t->dest_node_off);
    mem_free(t->m, t->self_ack);
    mem_free(t->m, t->no_fec);
    mem_free(t->m, t);
}

size_t
mule_route_table_route_cnt(const mule_route_table *t)
{
    return t != NULL ? t->ent_cnt : 0;
}

size_t
mule_route_table_dest_cnt(const mule_route_table *t)
{
    return t != NULL ? t->dest_cnt : 0;
}

const mule_dest *
mule_route_table_dest(const mule_route_table *t, size_t i)
{
    return t != NULL && i < t->dest_cnt ? &t->dests[i] : NULL;
}

/* ------------------------------------------------------------------ */
/* Lookup                                                             */
/* ------------------------------------------------------------------ */

const mule_dest *
mule_route_lookup(const mule_route_table *t, const char *domain, size_t len,
                  enum mule_route_match *how)
{
    const struct route_ent *e;
    size_t i;

    if (how != NULL)
        *how = MULE_ROUTE_NONE;
    if (t == NULL || domain == NULL)
        return NULL;
    if (len > 1 && domain[0] != '[' && domain[len - 1] == '.')
        len--;
    /* Empty, over-long or dot-led names are not domains; no default. */
    if (len == 0 || len > MULE_ROUTE_DOMAIN_MAX || domain[0] == '.')
        return NULL;
    e = find_ent(t, domain, len, hash_ci(domain, len), KIND_EXACT);
    if (e != NULL) {
        if (how != NULL)
            *how = MULE_ROUTE_EXACT;
        return &t->dests[e->dest];
    }
    /* Address literals have no parent domains. */
    if (domain[0] != '[') {
        for (i = 1; i < len; i++) {
            if (domain[i] != '.')
                continue;
            e = find_ent(t, domain + i, len - i, hash_ci(domain + i, len - i),
                         KIND_SUFFIX);
            if (e != NULL) {
                if (how != NULL)
                    *how = MULE_ROUTE_SUFFIX;
                return &t->dests[e->dest];
            }
        }
    }
    if (!t->has_default)
        return NULL;
    if (how != NULL)
        *how = MULE_ROUTE_DEFAULT;
    return &t->dests[t->default_dest];
}

bool
mule_dest_equal(const mule_dest *a, const mule_dest *b)
{
    if (a == b)
        return true;
    if (a == NULL || b == NULL)
        return false;
    if (a->local || b->local)
        return a->local && b->local;
    return a->group == b->group && a->node_cnt == b->node_cnt &&
           (a->node_cnt == 0 ||
            memcmp(a->nodes, b->nodes, a->node_cnt * sizeof(*a->nodes)) == 0);
}

const char *
mule_dest_format(const mule_dest *d, char *out, size_t outlen)
{
    char q[16];
    size_t used, i, n;
    int k;

    if (outlen == 0)
        return out;
    out[0] = '\0';
    if (d == NULL)
        return out;
    if (d->local) {
        (void)snprintf(out, outlen, "local");
        return out;
    }
    k = snprintf(out, outlen, "group=%s nodes=", mule_route_ntoa(d->group, q));
    if (k < 0 || (size_t)k >= outlen)
        return out;
    used = (size_t)k;
    for (i = 0; i < d->node_cnt; i++) {
        mule_route_ntoa(d->nodes[i], q);
        n = strlen(q) + (i != 0);
        /* Keep room for ",..." so a cut list is visibly cut. */
        if (used + n + 4 >= outlen) {
            (void)snprintf(out + used, outlen - used, "%s", i != 0 ? ",..." : "...");
            return out;
        }
        k = snprintf(out + used, outlen - used, "%s%s", i != 0 ? "," : "", q);
        if (k < 0)
            return out;
        used += (size_t)k;
    }
    return out;
}

/* ------------------------------------------------------------------ */
/* Router (reload by swap)                                            */
/* ------------------------------------------------------------------ */

void
mule_router_init(mule_router *r, mule_route_table *t)
{
    atomic_init(&r->cur, t);
}

void
mule_router_fini(mule_router *r)
{
    mule_route_table_free(atomic_exchange_explicit(&r->cur, NULL, memory_order_acq_rel));
}

mule_route_table *
mule_router_get(mule_router *r)
{
    return atomic_load_explicit(&r->cur, memory_order_acquire);
}

mule_route_table *
mule_router_swap(mule_router *r, mule_route_table *next)
{
    /* Release: everything written while building next is visible to a
     * reader that acquires the new pointer. */
    return atomic_exchange_explicit(&r->cur, next, memory_order_acq_rel);
}

const uint32_t *
mule_route_table_self_ack(const mule_route_table *t, size_t *cnt)
{
    *cnt = t != NULL ? t->self_ack_cnt : 0;
    return t != NULL ? t->self_ack : NULL;
}

const uint32_t *
mule_route_table_no_fec(const mule_route_table *t, size_t *cnt)
{
    *cnt = t != NULL ? t->no_fec_cnt : 0;
    return t != NULL ? t->no_fec : NULL;
}
