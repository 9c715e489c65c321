/*
 * NAME
 *	netsim_scen - parser for netsim scenario files
 * SYNOPSIS
 *	#include "netsim/netsim_scen.h"
 * DESCRIPTION
 *	One keyword per line, then whitespace-separated arguments; '#' starts
 *	a comment outside quotes.  Strings in double quotes take the escapes
 *	\n \r \t \\ \".  Times take the units us, ms, s, m, h (a bare number
 *	is seconds), rates the suffixes k and M (bit/s), sizes k (1000) and
 *	Ki (1024).  Names must be defined before they are used, so a
 *	scenario reads top to bottom.  The format is documented in
 *	netsim/README.md; this file is its only parser (style.md 0.2).
 *
 *	Every numeric field is range-checked here, so the simulator can trust
 *	the struct.  The first error stops the parse and is reported as
 *	"LINE: reason".
 * SECURITY
 *	Scenario files are written by developers, but are still treated as
 *	untrusted text: fixed line and token limits, counts capped before
 *	anything is allocated.
 * DIAGNOSTICS
 *	NETSIM_ERR_PARSE (with a message), NETSIM_ERR_NOMEM.  Logs nothing.
 * SEE ALSO
 *	netsim(7) (docs/netsim.md), netsim_sim.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "netsim/netsim_scen.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "bsmtp/bsmtp_payload.h"
#include "mule/mule_err.h"
#include "mule/mule_route.h"
#include "netsim/netsim_err.h"
#include "netsim/netsim_rng.h"
#include "pmul/pmul_pdu.h"
#include "pmul/util/arr.h"
#include "pmul/util/fnv.h"
#include "pmul/util/tok.h"

#define LINE_MAX_LEN 8192
#define TOK_MAX 128

typedef struct pctx {
    netsim_scenario *sc;
    int line;
    char *err;
    size_t errlen;
    /* "defaults" for nodes defined from now on. */
    uint64_t def_rate, def_delay;
    size_t def_queue;
    /* Tokens of the current line (pointers into buf, from pmul/util/tok). */
    char buf[LINE_MAX_LEN + 1];
    tok_word words[TOK_MAX];
    char *tok[TOK_MAX];
    size_t tok_len[TOK_MAX];
    bool quoted[TOK_MAX];
    size_t ntok;
} pctx;

static int perr(pctx *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
perr(pctx *p, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    if (p->errlen == 0)
        return NETSIM_ERR_PARSE;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* "LINE: reason"; netsim-run puts the file name in front.  Truncation
     * of an error message is harmless: it is only shown. */
    (void)tok_where(p->err, p->errlen, NULL, (unsigned)p->line, "%s", msg);
    return NETSIM_ERR_PARSE;
}

/* ---- tokens --------------------------------------------------------- */

/* Expose the words of the line just read as p->tok[] (the commands'
 * view). */
static void
take_words(pctx *p, const tok *t)
{
    size_t i;

    for (i = 0; i < t->n; i++) {
        p->tok[i] = p->words[i].p;
        p->tok_len[i] = p->words[i].len;
        p->quoted[i] = p->words[i].quoted;
    }
    p->ntok = t->n;
}

/* ---- numbers -------------------------------------------------------- */

/* Decimal with at most 6 fraction digits, as an integer scaled by 10^6. */
static bool
parse_fixed6(const char *s, size_t *used, uint64_t *out)
{
    uint64_t ip = 0, fp = 0, scale = 1000000;
    size_t i = 0;
    bool any = false;

    while (s[i] >= '0' && s[i] <= '9') {
        if (ip > (UINT64_MAX / 10 - 9) / 1000000)
            return false;
        ip = ip * 10 + (uint64_t)(s[i] - '0');
        i++;
        any = true;
    }
    if (s[i] == '.') {
        i++;
        while (s[i] >= '0' && s[i] <= '9') {
            if (scale == 1)
                return false;
            scale /= 10;
            fp += (uint64_t)(s[i] - '0') * scale;
            i++;
            any = true;
        }
    }
    if (!any)
        return false;
    *used = i;
    *out = ip * 1000000 + fp;
    return true;
}

static bool
parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;

    if (*s == '\0')
        return false;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return true;
}

/* A time: number + us|ms|s|m|h (bare: seconds), result in microseconds. */
static bool
parse_time(const char *s, uint64_t *out)
{
    uint64_t v, mul;
    size_t n;
    const char *u;

    if (!parse_fixed6(s, &n, &v))
        return false;
    u = s + n;
    /* v is the number times 10^6; mul converts its unit to microseconds. */
    if (strcmp(u, "us") == 0) {
        *out = v / 1000000;
        return v % 1000000 == 0;
    }
    if (strcmp(u, "ms") == 0) {
        *out = v / 1000;
        return true;
    }
    if (*u == '\0' || strcmp(u, "s") == 0)
        mul = 1;
    else if (strcmp(u, "m") == 0)
        mul = 60;
    else if (strcmp(u, "h") == 0)
        mul = 3600;
    else
        return false;
    if (v > UINT64_MAX / 2 / mul)
        return false;
    *out = v * mul;
    return true;
}

/* A rate in bit/s: number with optional k (10^3) or M (10^6). */
static bool
parse_rate(const char *s, uint64_t *out)
{
    uint64_t v, mul = 1;
    size_t n;
    const char *u;

    if (!parse_fixed6(s, &n, &v))
        return false;
    u = s + n;
    if (strcmp(u, "k") == 0)
        mul = 1000;
    else if (strcmp(u, "M") == 0)
        mul = 1000000;
    else if (*u != '\0')
        return false;
    if (v > UINT64_MAX / 1000000 / mul * 1000000)
        return false;
    *out = v / 1000000 * mul + (v % 1000000) * mul / 1000000;
    return true;
}

/* A size in octets: integer with optional k (1000) or Ki (1024). */
static bool
parse_size(const char *s, size_t *out)
{
    char num[32];
    size_t n = strspn(s, "0123456789");
    uint64_t v, mul = 1;

    if (n == 0 || n >= sizeof(num))
        return false;
    memcpy(num, s, n);
    num[n] = '\0';
    if (!parse_u64(num, &v))
        return false;
    if (strcmp(s + n, "k") == 0)
        mul = 1000;
    else if (strcmp(s + n, "Ki") == 0)
        mul = 1024;
    else if (s[n] != '\0')
        return false;
    if (v > (uint64_t)SIZE_MAX / mul || v > UINT64_MAX / 2 / mul)
        return false;
    *out = (size_t)(v * mul);
    return true;
}

/* A probability: "0.1" or "10%". */
static bool
parse_prob(const char *s, double *out)
{
    uint64_t v;
    size_t n;

    if (!parse_fixed6(s, &n, &v))
        return false;
    if (strcmp(s + n, "%") == 0)
        v /= 100;
    else if (s[n] != '\0')
        return false;
    if (v > 1000000)
        return false;
    *out = (double)v / 1e6;
    return true;
}

static bool
parse_ip(const char *s, uint32_t *out)
{
    unsigned a[4];
    size_t i;
    uint32_t v = 0;

    for (i = 0; i < 4; i++) {
        size_t n = strspn(s, "0123456789");

        if (n == 0 || n > 3)
            return false;
        a[i] = 0;
        while (n-- > 0)
            a[i] = a[i] * 10 + (unsigned)(*s++ - '0');
        if (a[i] > 255)
            return false;
        v = v << 8 | a[i];
        if (i < 3 && *s++ != '.')
            return false;
    }
    if (*s != '\0')
        return false;
    *out = v;
    return true;
}

/* "LO" or "LO-HI" of unsigned integers. */
static bool
parse_range(const char *s, uint64_t *lo, uint64_t *hi)
{
    char a[32];
    const char *dash = strchr(s, '-');
    size_t n = dash != NULL ? (size_t)(dash - s) : strlen(s);

    if (n == 0 || n >= sizeof(a))
        return false;
    memcpy(a, s, n);
    a[n] = '\0';
    if (!parse_u64(a, lo))
        return false;
    if (dash == NULL) {
        *hi = *lo;
        return true;
    }
    return parse_u64(dash + 1, hi) && *hi >= *lo;
}

/* "LO" or "LO-HI" of sizes (k, Ki suffixes allowed on each). */
static bool
parse_size_range(const char *s, uint64_t *lo, uint64_t *hi)
{
    char a[32];
    const char *dash = strchr(s, '-');
    size_t n = dash != NULL ? (size_t)(dash - s) : strlen(s), v;

    if (n == 0 || n >= sizeof(a))
        return false;
    memcpy(a, s, n);
    a[n] = '\0';
    if (!parse_size(a, &v))
        return false;
    *lo = *hi = v;
    if (dash == NULL)
        return true;
    if (!parse_size(dash + 1, &v))
        return false;
    *hi = v;
    return *hi >= *lo;
}

static bool
valid_name(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n >= NETSIM_NAME_MAX)
        return false;
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                     "0123456789_.-") == n;
}

/* ---- selectors ------------------------------------------------------ */

static bool
name_matches(const char *pat, size_t plen, const char *name)
{
    if (plen > 0 && pat[plen - 1] == '*')
        return strncmp(pat, name, plen - 1) == 0;
    return strlen(name) == plen && strncmp(pat, name, plen) == 0;
}

/*
 * Resolve "A,B,R*,*" against nodes (is_msg false) or messages.  Returns an
 * owned sorted index array in *out (count *cnt).  Each element of the list
 * must match at least one name.
 */
static int
select_names(pctx *p, const char *list, bool is_msg, size_t **out, size_t *cnt)
{
    netsim_scenario *sc = p->sc;
    size_t total = is_msg ? sc->msg_cnt : sc->node_cnt;
    bool *hit = NULL;
    size_t *v = NULL, i, n = 0;
    const char *s = list;
    int rc;

    *out = NULL;
    *cnt = 0;
    if (total == 0)
        return perr(p, "no %s defined before '%s'", is_msg ? "message" : "node", list);
    hit = mem_calloc(sc->m, total, sizeof(*hit));
    if (hit == NULL)
        return NETSIM_ERR_NOMEM;
    while (*s != '\0') {
        size_t plen = strcspn(s, ",");
        bool any = false;

        for (i = 0; i < total; i++) {
            const char *name = is_msg ? sc->msgs[i].name : sc->nodes[i].name;

            /* A pattern means the nodes that run an engine ("to *" must
             * not send mail to an attacker); an attacker is selected only
             * by its name. */
            if (!is_msg && sc->nodes[i].attacker && plen > 0 && s[plen - 1] == '*')
                continue;
            if (name_matches(s, plen, name))
                hit[i] = any = true;
        }
        if (!any) {
            rc = perr(p, "no %s matches '%.*s'", is_msg ? "message" : "node",
                      (int)(plen > 40 ? 40 : plen), s);
            goto fail;
        }
        s += plen;
        if (*s == ',')
            s++;
    }
    for (i = 0; i < total; i++)
        n += hit[i];
    v = mem_calloc(sc->m, n, sizeof(*v));
    if (v == NULL) {
        rc = NETSIM_ERR_NOMEM;
        goto fail;
    }
    for (i = 0, n = 0; i < total; i++)
        if (hit[i])
            v[n++] = i;
    mem_free(sc->m, hit);
    *out = v;
    *cnt = n;
    return 0;
fail:
    mem_free(sc->m, hit);
    return rc;
}

/* ---- growth --------------------------------------------------------- */

/* Make room for element cnt of *arr (capacity *size), at most max
 * elements.  New elements are zeroed so that partly built entries free
 * cleanly. */
static int
grow(const mem *m, void **arr, size_t *size, size_t cnt, size_t elem, size_t max)
{
    switch (arr_grow_zero(m, arr, size, cnt + 1, elem, max)) {
    case 0:
        return 0;
    case UTIL_ERR_FULL:
        return NETSIM_ERR_LIMIT;
    default:
        return NETSIM_ERR_NOMEM;
    }
}

/* An owned NUL-terminated copy of s[0..n), or NULL. */
static char *
dup_n(const mem *m, const char *s, size_t n)
{
    char *d = mem_alloc(m, n + 1);

    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* Key of a node or message name in the scenario's name maps. */
static uint64_t
name_key(const char *name)
{
    return fnv64(name, strlen(name));
}

/* Index of name in names, or -1.  names indexes an array arr of elem-octet
 * entries, each holding its NUL-terminated name at offset off. */
static long
name_find(const map *names, const void *arr, size_t elem, size_t off, const char *name)
{
    size_t pos = 0;
    uint64_t v;

    while (map_probe(names, name_key(name), &pos, &v))
        if (strcmp((const char *)arr + v * elem + off, name) == 0)
            return (long)v;
    return -1;
}

/* ---- commands ------------------------------------------------------- */

static int
node_opts(pctx *p, size_t first, netsim_node_cfg *n)
{
    size_t i;

    for (i = first; i < p->ntok; i += 2) {
        const char *k = p->tok[i], *v = i + 1 < p->ntok ? p->tok[i + 1] : NULL;

        if (v == NULL)
            return perr(p, "'%s' needs a value", k);
        if (strcmp(k, "rate") == 0) {
            if (!parse_rate(v, &n->rate_bps))
                return perr(p, "bad rate '%s'", v);
        } else if (strcmp(k, "delay") == 0) {
            if (!parse_time(v, &n->delay_us) || n->delay_us > 3600ull * 1000000)
                return perr(p, "bad delay '%s'", v);
        } else if (strcmp(k, "queue") == 0) {
            if (!parse_size(v, &n->queue_limit))
                return perr(p, "bad queue size '%s'", v);
        } else {
            return perr(p, "unknown node option '%s'", k);
        }
    }
    return 0;
}

static int
add_node(pctx *p, const char *name, uint32_t ip, size_t opt_first)
{
    netsim_scenario *sc = p->sc;
    netsim_node_cfg *n;
    uint64_t other;
    int rc;

    if (!valid_name(name))
        return perr(p, "bad node name '%s'", name);
    if (ip == 0 || (ip >> 28) == 0xE || ip == UINT32_MAX)
        return perr(p, "node address must be a unicast IPv4 address");
    if (netsim_scen_node(sc, name) >= 0)
        return perr(p, "node '%s' defined twice", name);
    if (map_get(&sc->node_ips, ip, &other))
        return perr(p, "address of '%s' already used by '%s'", name, sc->nodes[other].name);
    rc = grow(sc->m, (void **)&sc->nodes, &sc->node_size, sc->node_cnt,
              sizeof(*sc->nodes), NETSIM_NODES_MAX);
    if (rc == NETSIM_ERR_LIMIT)
        return perr(p, "more than %d nodes", NETSIM_NODES_MAX);
    if (rc != 0)
        return rc;
    /* Room in both maps first, so that adding below cannot fail. */
    if (map_reserve(&sc->node_names, sc->node_cnt + 1) != 0 ||
        map_reserve(&sc->node_ips, sc->node_cnt + 1) != 0)
        return NETSIM_ERR_NOMEM;
    n = &sc->nodes[sc->node_cnt];
    memset(n, 0, sizeof(*n));
    memcpy(n->name, name, strlen(name) + 1);
    n->ip = ip;
    n->rate_bps = p->def_rate;
    n->delay_us = p->def_delay;
    n->queue_limit = p->def_queue;
    n->line = p->line;
    rc = node_opts(p, opt_first, n);
    if (rc != 0)
        return rc;
    if (map_add(&sc->node_names, name_key(name), sc->node_cnt) != 0 ||
        map_put(&sc->node_ips, ip, sc->node_cnt) != 0)
        return NETSIM_ERR_NOMEM;
    sc->node_cnt++;
    return 0;
}

static int
cmd_nodes(pctx *p)
{
    uint64_t cnt;
    uint32_t ip;
    char name[NETSIM_NAME_MAX + 16];
    size_t i;
    int rc;

    if (p->ntok < 4)
        return perr(p, "usage: nodes PREFIX COUNT FIRST-IP [options]");
    if (!parse_u64(p->tok[2], &cnt) || cnt == 0 || cnt > NETSIM_NODES_MAX)
        return perr(p, "bad node count '%s'", p->tok[2]);
    if (!parse_ip(p->tok[3], &ip))
        return perr(p, "bad address '%s'", p->tok[3]);
    for (i = 0; i < cnt; i++) {
        (void)snprintf(name, sizeof(name), "%s%zu", p->tok[1], i + 1);
        if (ip > UINT32_MAX - i)
            return perr(p, "addresses run past 255.255.255.255");
        rc = add_node(p, name, ip + (uint32_t)i, 4);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int
parse_mask(pctx *p, const char *spec, netsim_loss_cfg *l)
{
    const char *colon = strchr(spec, ':'), *s = spec;
    int type = NETSIM_MASK_ANY;
    static const struct { const char *name; int type; } types[] = {
        { "data", PMUL_PDU_DATA }, { "ack", PMUL_PDU_ACK },
        { "address", PMUL_PDU_ADDRESS }, { "discard", PMUL_PDU_DISCARD },
        { "announce", PMUL_PDU_ANNOUNCE }, { "request", PMUL_PDU_REQUEST },
        { "reject", PMUL_PDU_REJECT }, { "release", PMUL_PDU_RELEASE },
    };
    size_t i;

    if (colon != NULL) {
        for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
            if (strlen(types[i].name) == (size_t)(colon - spec)
                && strncmp(spec, types[i].name, (size_t)(colon - spec)) == 0)
                type = types[i].type;
        if (type == NETSIM_MASK_ANY)
            return perr(p, "unknown PDU type in mask '%s'", spec);
        s = colon + 1;
    }
    while (*s != '\0') {
        char item[48];
        size_t n = strcspn(s, ",");
        uint64_t lo, hi;

        if (n == 0 || n >= sizeof(item))
            return perr(p, "bad mask '%s'", spec);
        memcpy(item, s, n);
        item[n] = '\0';
        if (!parse_range(item, &lo, &hi) || lo == 0 || hi > UINT32_MAX)
            return perr(p, "bad mask range '%s' (1-based, LO or LO-HI)", item);
        if (l->mask_cnt == NETSIM_MASK_MAX)
            return perr(p, "more than %d mask ranges", NETSIM_MASK_MAX);
        l->mask[l->mask_cnt].type = type;
        l->mask[l->mask_cnt].lo = (uint32_t)lo;
        l->mask[l->mask_cnt].hi = (uint32_t)hi;
        l->mask_cnt++;
        s += n;
        if (*s == ',')
            s++;
    }
    return 0;
}

static int
cmd_loss(pctx *p)
{
    netsim_loss_cfg model;
    size_t *sel, cnt, i;
    const char *kind;
    bool rx;
    int rc;

    if (p->ntok < 4)
        return perr(p, "usage: loss NODES rx|tx none|bernoulli P|ge P R [LG LB]|mask SPEC");
    if (strcmp(p->tok[2], "rx") == 0)
        rx = true;
    else if (strcmp(p->tok[2], "tx") == 0)
        rx = false;
    else
        return perr(p, "loss direction must be rx or tx, not '%s'", p->tok[2]);
    kind = p->tok[3];
    memset(&model, 0, sizeof(model));
    if (strcmp(kind, "none") == 0) {
        if (p->ntok != 4)
            return perr(p, "'none' takes no argument");
        model.kind = NETSIM_LOSS_NONE;
    } else if (strcmp(kind, "bernoulli") == 0) {
        if (p->ntok != 5 || !parse_prob(p->tok[4], &model.p))
            return perr(p, "usage: bernoulli P (0..1 or N%%)");
        model.kind = NETSIM_LOSS_BERNOULLI;
    } else if (strcmp(kind, "ge") == 0) {
        model.kind = NETSIM_LOSS_GE;
        model.loss_good = 0.0;
        model.loss_bad = 1.0;
        if ((p->ntok != 6 && p->ntok != 8)
            || !parse_prob(p->tok[4], &model.p) || !parse_prob(p->tok[5], &model.r)
            || (p->ntok == 8 && (!parse_prob(p->tok[6], &model.loss_good)
                                 || !parse_prob(p->tok[7], &model.loss_bad))))
            return perr(p, "usage: ge P R [LOSS-GOOD LOSS-BAD]");
        if (model.p + model.r <= 0.0)
            return perr(p, "ge: P and R cannot both be 0");
    } else if (strcmp(kind, "mask") != 0) {
        return perr(p, "unknown loss model '%s'", kind);
    } else if (p->ntok != 5) {
        return perr(p, "usage: mask [TYPE:]N,LO-HI,...");
    }
    rc = select_names(p, p->tok[1], false, &sel, &cnt);
    if (rc != 0)
        return rc;
    for (i = 0; i < cnt && rc == 0; i++) {
        netsim_loss_cfg *l = rx ? &p->sc->nodes[sel[i]].rx_loss : &p->sc->nodes[sel[i]].tx_loss;

        if (strcmp(kind, "mask") == 0) {
            rc = parse_mask(p, p->tok[4], l);
        } else {
            /* A model replaces the previous one; masks stay. */
            l->kind = model.kind;
            l->p = model.p;
            l->r = model.r;
            l->loss_good = model.loss_good;
            l->loss_bad = model.loss_bad;
        }
    }
    mem_free(p->sc->m, sel);
    return rc;
}

static int
cmd_jitter(pctx *p, bool dup)
{
    size_t *sel, cnt, i;
    double prob;
    uint64_t t = dup ? 1000 : 0;
    int rc;

    if (p->ntok < 3 || p->ntok > 4 || (!dup && p->ntok != 4))
        return perr(p, dup ? "usage: dup NODES P [DELAY]" : "usage: reorder NODES P JITTER");
    if (!parse_prob(p->tok[2], &prob))
        return perr(p, "bad probability '%s'", p->tok[2]);
    if (p->ntok == 4 && (!parse_time(p->tok[3], &t) || t > 3600ull * 1000000))
        return perr(p, "bad time '%s'", p->tok[3]);
    rc = select_names(p, p->tok[1], false, &sel, &cnt);
    if (rc != 0)
        return rc;
    for (i = 0; i < cnt; i++) {
        netsim_jitter_cfg *j = &p->sc->nodes[sel[i]].jitter;

        if (dup) {
            j->dup_p = prob;
            j->dup_delay_us = t;
        } else {
            j->reorder_p = prob;
            j->reorder_us = t;
        }
    }
    mem_free(p->sc->m, sel);
    return 0;
}

/*
 * emcon NODES FROM TO|end and outage NODES FROM TO|end: the same interval
 * syntax and the same rules (no overlap with the node's earlier intervals
 * of that kind, at most 16), into two different lists.  An EMCON interval
 * and an outage may overlap: they are different things.
 */
static int
cmd_interval(pctx *p, bool outage)
{
    const char *what = outage ? "outage" : "EMCON";
    size_t max = outage ? NETSIM_OUTAGE_MAX : NETSIM_EMCON_MAX;
    uint64_t from, to;
    size_t *sel, cnt, i;
    int rc;

    if (p->ntok != 4)
        return perr(p, "usage: %s NODES FROM TO|end", outage ? "outage" : "emcon");
    if (!parse_time(p->tok[2], &from))
        return perr(p, "bad time '%s'", p->tok[2]);
    if (strcmp(p->tok[3], "end") == 0)
        to = NETSIM_FOREVER;
    else if (!parse_time(p->tok[3], &to) || to <= from)
        return perr(p, "bad end time '%s' (must be after the start)", p->tok[3]);
    rc = select_names(p, p->tok[1], false, &sel, &cnt);
    if (rc != 0)
        return rc;
    for (i = 0; i < cnt; i++) {
        netsim_node_cfg *n = &p->sc->nodes[sel[i]];
        netsim_interval *v = outage ? n->outage : n->emcon;
        size_t *vcnt = outage ? &n->outage_cnt : &n->emcon_cnt, k;

        for (k = 0; k < *vcnt; k++)
            if (from < v[k].to_us && v[k].from_us < to)
                break;
        if (k < *vcnt) {
            rc = perr(p, "%s interval of '%s' overlaps an earlier one", what, n->name);
            break;
        }
        if (*vcnt == max) {
            rc = perr(p, "more than %zu %s intervals for '%s'", max, what, n->name);
            break;
        }
        v[*vcnt].from_us = from;
        v[*vcnt].to_us = to;
        (*vcnt)++;
    }
    mem_free(p->sc->m, sel);
    return rc;
}

/*
 * medium per-node | medium shared RATE [delay T].  The shared channel
 * needs a rate: "unlimited" would make one transmission at a time take no
 * time at all, which is the per-node medium without its queues.
 */
static int
cmd_medium(pctx *p)
{
    netsim_scenario *sc = p->sc;
    uint64_t rate, delay = 0;

    if (p->ntok == 2 && strcmp(p->tok[1], "per-node") == 0) {
        sc->shared = false;
        return 0;
    }
    if ((p->ntok != 3 && p->ntok != 5) || strcmp(p->tok[1], "shared") != 0
        || (p->ntok == 5 && strcmp(p->tok[3], "delay") != 0))
        return perr(p, "usage: medium per-node | medium shared RATE [delay T]");
    if (!parse_rate(p->tok[2], &rate) || rate == 0)
        return perr(p, "bad rate '%s' (a shared channel needs one above 0)", p->tok[2]);
    if (p->ntok == 5 && (!parse_time(p->tok[4], &delay) || delay > 3600ull * 1000000))
        return perr(p, "bad delay '%s'", p->tok[4]);
    sc->shared = true;
    sc->shared_rate_bps = rate;
    sc->shared_delay_us = delay;
    return 0;
}

/* Options shared by msg and msgs; ranges only for msgs (bulk). */
typedef struct msg_opts {
    const char *from, *to;
    uint64_t size_lo, size_hi, prio_lo, prio_hi;
    uint64_t at_us, every_us, expiry_us;
    int text;
    const char *literal;
    size_t literal_len;
    const char *mail_from, *rcpt;
    bool have_size;
} msg_opts;

/*
 * The envelope of a MULE mail as the simulator will build it: the
 * reverse-path and each comma-separated recipient must pass bsmtp's
 * checks, so a typo is a parse error, not a run-time one.
 */
static int
mail_check(pctx *p, const char *from, const char *rcpts)
{
    bsmtp_envelope *env = NULL;
    char addr[512];
    size_t n;
    int rc;

    rc = bsmtp_envelope_new(from, NULL, p->sc->m, &env);
    if (rc == BSMTP_ERR_NOMEM)
        return NETSIM_ERR_NOMEM;
    if (rc != 0)
        return perr(p, "bad mail-from '%s'", from);
    /* Non-empty items: "a,,b", "a," and "" are refused. */
    for (;;) {
        n = strcspn(rcpts, ",");
        if (n == 0 || n >= sizeof(addr)) {
            rc = perr(p, "bad rcpt list");
            break;
        }
        memcpy(addr, rcpts, n);
        addr[n] = '\0';
        rc = bsmtp_envelope_add_rcpt(env, addr, NULL);
        if (rc == BSMTP_ERR_NOMEM)
            rc = NETSIM_ERR_NOMEM;
        else if (rc != 0)
            rc = perr(p, "bad rcpt '%s'", addr);
        if (rc != 0 || rcpts[n] != ',')
            break;
        rcpts += n + 1;
    }
    bsmtp_envelope_free(env);
    return rc;
}

static int
msg_parse_opts(pctx *p, size_t first, bool bulk, msg_opts *o)
{
    size_t i;

    memset(o, 0, sizeof(*o));
    o->size_lo = o->size_hi = 1000;
    o->prio_lo = o->prio_hi = 6;
    o->text = NETSIM_TEXT_MAIL;
    for (i = first; i < p->ntok; i += 2) {
        const char *k = p->tok[i], *v;

        if (i + 1 >= p->ntok)
            return perr(p, "'%s' needs a value", k);
        v = p->tok[i + 1];
        if (strcmp(k, "from") == 0) {
            o->from = v;
        } else if (strcmp(k, "to") == 0) {
            o->to = v;
        } else if (strcmp(k, "size") == 0) {
            if (!parse_size_range(v, &o->size_lo, &o->size_hi) || o->size_lo == 0
                || o->size_hi > NETSIM_MSG_SIZE_MAX || (!bulk && o->size_lo != o->size_hi))
                return perr(p, "bad size '%s' (1..%u%s)", v, NETSIM_MSG_SIZE_MAX,
                            bulk ? ", or LO-HI" : "");
            o->have_size = true;
        } else if (strcmp(k, "prio") == 0) {
            if (!parse_range(v, &o->prio_lo, &o->prio_hi) || o->prio_hi > 255
                || (!bulk && o->prio_lo != o->prio_hi))
                return perr(p, "bad priority '%s' (0..255%s)", v, bulk ? ", or LO-HI" : "");
        } else if (strcmp(k, "at") == 0) {
            if (!parse_time(v, &o->at_us))
                return perr(p, "bad time '%s'", v);
        } else if (bulk && strcmp(k, "every") == 0) {
            if (!parse_time(v, &o->every_us))
                return perr(p, "bad time '%s'", v);
        } else if (strcmp(k, "expiry") == 0) {
            if (!parse_time(v, &o->expiry_us) || o->expiry_us < 1000000
                || o->expiry_us > 366ull * 86400 * 1000000)
                return perr(p, "bad expiry '%s' (1 s .. 366 days)", v);
        } else if (strcmp(k, "mail-from") == 0) {
            o->mail_from = strcmp(v, "<>") == 0 ? "" : v;
        } else if (strcmp(k, "rcpt") == 0) {
            o->rcpt = v;
        } else if (strcmp(k, "text") == 0) {
            if (p->quoted[i + 1]) {
                if (bulk)
                    return perr(p, "msgs cannot take a literal text");
                if (p->tok_len[i + 1] == 0)
                    return perr(p, "empty literal text");
                o->text = NETSIM_TEXT_LITERAL;
                o->literal = v;
                o->literal_len = p->tok_len[i + 1];
            } else if (strcmp(v, "mail") == 0) {
                o->text = NETSIM_TEXT_MAIL;
            } else if (strcmp(v, "binary") == 0) {
                o->text = NETSIM_TEXT_BINARY;
            } else {
                return perr(p, "text must be mail, binary or a \"string\"");
            }
        } else {
            return perr(p, "unknown message option '%s'", k);
        }
    }
    if (o->from == NULL || o->to == NULL)
        return perr(p, "a message needs 'from NODE' and 'to NODES'");
    if (o->text == NETSIM_TEXT_LITERAL && o->have_size)
        return perr(p, "a literal text sets the size itself");
    if ((o->rcpt == NULL) != (o->mail_from == NULL))
        return perr(p, "a MULE mail needs both 'mail-from ADDR' and 'rcpt ADDRS'");
    return o->rcpt != NULL ? mail_check(p, o->mail_from, o->rcpt) : 0;
}

static int
add_msg(pctx *p, const char *name, const msg_opts *o, uint64_t size, uint64_t prio, uint64_t at_us)
{
    netsim_scenario *sc = p->sc;
    netsim_msg_cfg *mc;
    long from;
    size_t i, k;
    int rc;

    if (!valid_name(name))
        return perr(p, "bad message name '%s'", name);
    if (netsim_scen_msg(sc, name) >= 0)
        return perr(p, "message '%s' defined twice", name);
    from = netsim_scen_node(sc, o->from);
    if (from < 0)
        return perr(p, "unknown node '%s'", o->from);
    if (sc->nodes[from].attacker)
        return perr(p, "attacker '%s' runs no engine: it sends no message", o->from);
    rc = grow(sc->m, (void **)&sc->msgs, &sc->msg_size, sc->msg_cnt, sizeof(*sc->msgs),
              NETSIM_MSGS_MAX);
    if (rc == NETSIM_ERR_LIMIT)
        return perr(p, "more than %d messages", NETSIM_MSGS_MAX);
    if (rc != 0)
        return rc;
    if (map_reserve(&sc->msg_names, sc->msg_cnt + 1) != 0)
        return NETSIM_ERR_NOMEM;
    mc = &sc->msgs[sc->msg_cnt];
    memset(mc, 0, sizeof(*mc));
    rc = select_names(p, o->to, false, &mc->to, &mc->to_cnt);
    if (rc != 0)
        return rc;
    /* The sender is never its own destination ("to *" means the others). */
    for (i = k = 0; i < mc->to_cnt; i++)
        if (mc->to[i] != (size_t)from)
            mc->to[k++] = mc->to[i];
    mc->to_cnt = k;
    /* Reserved above: cannot fail. */
    if (map_add(&sc->msg_names, name_key(name), sc->msg_cnt) != 0)
        return NETSIM_ERR_NOMEM;
    sc->msg_cnt++;              /* from here on, freed with the scenario */
    if (mc->to_cnt == 0)
        return perr(p, "message '%s' has no destination but its sender", name);
    for (i = 0; i < mc->to_cnt; i++)
        if (sc->nodes[mc->to[i]].attacker)
            return perr(p, "attacker '%s' runs no engine: it receives no message",
                        sc->nodes[mc->to[i]].name);
    memcpy(mc->name, name, strlen(name) + 1);
    mc->from = (size_t)from;
    mc->prio = (uint8_t)prio;
    mc->at_us = at_us;
    mc->expiry_us = o->expiry_us;
    mc->text = o->text;
    mc->size = (size_t)size;
    mc->line = p->line;
    if (o->text == NETSIM_TEXT_LITERAL) {
        mc->literal = mem_alloc(sc->m, o->literal_len + 1);
        if (mc->literal == NULL)
            return NETSIM_ERR_NOMEM;
        memcpy(mc->literal, o->literal, o->literal_len + 1);
        mc->size = o->literal_len;
    }
    if (o->rcpt != NULL) {
        mc->mail_from = dup_n(sc->m, o->mail_from, strlen(o->mail_from));
        mc->rcpt = dup_n(sc->m, o->rcpt, strlen(o->rcpt));
        if (mc->mail_from == NULL || mc->rcpt == NULL)
            return NETSIM_ERR_NOMEM;
    }
    return 0;
}

static int
cmd_msg(pctx *p)
{
    msg_opts o;
    int rc;

    if (p->ntok < 2)
        return perr(p, "usage: msg NAME from NODE to NODES [options]");
    rc = msg_parse_opts(p, 2, false, &o);
    if (rc != 0)
        return rc;
    return add_msg(p, p->tok[1], &o, o.size_lo, o.prio_lo, o.at_us);
}

static int
cmd_msgs(pctx *p)
{
    msg_opts o;
    uint64_t cnt, i, size, prio;
    netsim_rng rng;
    char name[NETSIM_NAME_MAX + 24];
    int rc;

    if (p->ntok < 3)
        return perr(p, "usage: msgs PREFIX COUNT from NODE to NODES [options]");
    if (!parse_u64(p->tok[2], &cnt) || cnt == 0 || cnt > NETSIM_MSGS_MAX)
        return perr(p, "bad message count '%s'", p->tok[2]);
    rc = msg_parse_opts(p, 3, true, &o);
    if (rc != 0)
        return rc;
    /* Sizes and priorities of a bulk line depend on its prefix only, not on
     * the run seed: a scenario is the same workload whatever --seed says. */
    netsim_rng_seed(&rng, netsim_label(p->tok[1]), 0x6d736773u);
    for (i = 0; i < cnt; i++) {
        if (o.every_us != 0 && i > UINT64_MAX / 4 / o.every_us)
            return perr(p, "submit times overflow");
        size = o.size_lo + netsim_rng_below(&rng, o.size_hi - o.size_lo + 1);
        prio = o.prio_lo + netsim_rng_below(&rng, o.prio_hi - o.prio_lo + 1);
        (void)snprintf(name, sizeof(name), "%s%llu", p->tok[1], (unsigned long long)(i + 1));
        rc = add_msg(p, name, &o, size, prio, o.at_us + i * o.every_us);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static const char *const counter_names[NETSIM_C_COUNT] = {
    "datagrams", "air-bytes", "data", "address", "address-map", "ackack", "ack",
    "discard", "lost", "qdrop", "dup", "reorder", "early-data", "deliveries",
    "lost-message", "mule-local", "mule-relay", "mule-dsn", "mule-unusable",
    "attack", "unrouted", "outage", "auth-drop",
};

const char *
netsim_counter_name(int counter)
{
    if (counter < 0 || counter >= NETSIM_C_COUNT)
        return "?";
    return counter_names[counter];
}

static int
expect_time_opts(pctx *p, size_t first, netsim_expect *x)
{
    size_t i;

    for (i = first; i < p->ntok; i += 2) {
        uint64_t *dst;

        if (strcmp(p->tok[i], "within") == 0)
            dst = &x->within_us;
        else if (strcmp(p->tok[i], "after") == 0)
            dst = &x->after_us;
        else
            return perr(p, "expected 'within T' or 'after T', not '%s'", p->tok[i]);
        if (i + 1 >= p->ntok || !parse_time(p->tok[i + 1], dst))
            return perr(p, "'%s' needs a time", p->tok[i]);
    }
    return 0;
}

/* expect local NODE ADDR [count N] [from ADDR|<>] [same MSG] [has "TEXT"]... */
static int
expect_local(pctx *p, netsim_expect *x)
{
    const mem *m = p->sc->m;
    size_t i;
    long v;
    int rc;

    x->kind = NETSIM_X_LOCAL;
    x->n = 1;
    x->same = -1;
    if (p->ntok < 4 || (p->ntok - 4) % 2 != 0)
        return perr(p, "usage: expect local NODE ADDR [count N] [from ADDR] [same MSG] "
                       "[has \"TEXT\"]...");
    if ((rc = select_names(p, p->tok[2], false, &x->nodes, &x->node_cnt)) != 0)
        return rc;
    if (x->node_cnt != 1)
        return perr(p, "expect local names one node");
    if ((x->addr = dup_n(m, p->tok[3], p->tok_len[3])) == NULL)
        return NETSIM_ERR_NOMEM;
    for (i = 4; i < p->ntok; i += 2) {
        const char *k = p->tok[i], *val = p->tok[i + 1];

        if (strcmp(k, "count") == 0) {
            if (!parse_u64(val, &x->n) || x->n > 1000000)
                return perr(p, "bad count '%s'", val);
        } else if (strcmp(k, "from") == 0) {
            if (x->from != NULL)
                return perr(p, "'from' given twice");
            if (strcmp(val, "<>") == 0)
                val = "";
            if ((x->from = dup_n(m, val, strlen(val))) == NULL)
                return NETSIM_ERR_NOMEM;
        } else if (strcmp(k, "same") == 0) {
            if ((v = netsim_scen_msg(p->sc, val)) < 0)
                return perr(p, "unknown message '%s'", val);
            if (p->sc->msgs[v].rcpt == NULL)
                return perr(p, "message '%s' is not a MULE mail", val);
            x->same = v;
        } else if (strcmp(k, "has") == 0) {
            if (x->has_cnt == sizeof(x->has) / sizeof(x->has[0]))
                return perr(p, "more than %zu 'has' texts", sizeof(x->has) / sizeof(x->has[0]));
            if ((x->has[x->has_cnt] = dup_n(m, val, p->tok_len[i + 1])) == NULL)
                return NETSIM_ERR_NOMEM;
            x->has_cnt++;
        } else {
            return perr(p, "unknown expect local option '%s'", k);
        }
    }
    return 0;
}

/* "OP N" at tok[first]: the comparison of expect count and expect stat. */
static int
expect_cmp(pctx *p, size_t first, netsim_expect *x)
{
    static const char *const ops[] = { "==", ">=", "<=", ">", "<" };
    size_t i;

    x->cmp = -1;
    for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        if (strcmp(p->tok[first], ops[i]) == 0)
            x->cmp = (int)i;
    if (x->cmp < 0)
        return perr(p, "unknown comparison '%s' (== >= <= > <)", p->tok[first]);
    if (!parse_u64(p->tok[first + 1], &x->n))
        return perr(p, "bad number '%s'", p->tok[first + 1]);
    return 0;
}

static int
cmd_expect(pctx *p)
{
    netsim_scenario *sc = p->sc;
    netsim_expect *x;
    const char *k;
    size_t i;
    int rc;

    if (p->ntok < 2)
        return perr(p, "usage: expect WHAT ...");
    rc = grow(sc->m, (void **)&sc->expects, &sc->expect_size, sc->expect_cnt,
              sizeof(*sc->expects), 100000);
    if (rc == NETSIM_ERR_LIMIT)
        return perr(p, "too many expect lines");
    if (rc != 0)
        return rc;
    x = &sc->expects[sc->expect_cnt++];
    memset(x, 0, sizeof(*x));
    x->line = p->line;
    x->within_us = NETSIM_FOREVER;
    k = p->tok[1];
    if (strcmp(k, "delivered") == 0 || strcmp(k, "acked") == 0
        || strcmp(k, "failed") == 0 || strcmp(k, "discarded") == 0) {
        x->kind = k[0] == 'd' ? (k[1] == 'e' ? NETSIM_X_DELIVERED : NETSIM_X_DISCARDED)
                : k[0] == 'a' ? NETSIM_X_ACKED : NETSIM_X_FAILED;
        if (p->ntok < 4)
            return perr(p, "usage: expect %s MSGS NODES [within T] [after T]", k);
        if ((rc = select_names(p, p->tok[2], true, &x->msgs, &x->msg_cnt)) != 0
            || (rc = select_names(p, p->tok[3], false, &x->nodes, &x->node_cnt)) != 0)
            return rc;
        if (x->kind == NETSIM_X_FAILED || x->kind == NETSIM_X_DISCARDED) {
            if (p->ntok != 4)
                return perr(p, "expect %s takes no time bounds", k);
            return 0;
        }
        return expect_time_opts(p, 4, x);
    }
    if (strcmp(k, "done") == 0) {
        x->kind = NETSIM_X_DONE;
        if (p->ntok < 3)
            return perr(p, "usage: expect done MSGS [within T] [after T]");
        if ((rc = select_names(p, p->tok[2], true, &x->msgs, &x->msg_cnt)) != 0)
            return rc;
        return expect_time_opts(p, 3, x);
    }
    if (strcmp(k, "before") == 0) {
        x->kind = NETSIM_X_BEFORE;
        if (p->ntok != 4)
            return perr(p, "usage: expect before MSGS LATER-MSGS");
        if ((rc = select_names(p, p->tok[2], true, &x->msgs, &x->msg_cnt)) != 0
            || (rc = select_names(p, p->tok[3], true, &x->msgs2, &x->msg2_cnt)) != 0)
            return rc;
        return 0;
    }
    if (strcmp(k, "prio-before") == 0) {
        uint64_t a, b;

        x->kind = NETSIM_X_PRIO_BEFORE;
        if (p->ntok != 4 || !parse_u64(p->tok[2], &a) || !parse_u64(p->tok[3], &b)
            || a > 255 || b > 255)
            return perr(p, "usage: expect prio-before PRIO LATER-PRIO (0..255)");
        x->prio_a = (int)a;
        x->prio_b = (int)b;
        return 0;
    }
    if (strcmp(k, "max-time") == 0) {
        x->kind = NETSIM_X_MAX_TIME;
        if (p->ntok != 3 || !parse_time(p->tok[2], &x->within_us))
            return perr(p, "usage: expect max-time T");
        return 0;
    }
    if (strcmp(k, "count") == 0) {
        x->kind = NETSIM_X_COUNT;
        if (p->ntok != 5)
            return perr(p, "usage: expect count COUNTER OP N");
        x->counter = -1;
        for (i = 0; i < NETSIM_C_COUNT; i++)
            if (strcmp(p->tok[2], counter_names[i]) == 0)
                x->counter = (int)i;
        if (x->counter < 0)
            return perr(p, "unknown counter '%s'", p->tok[2]);
        return expect_cmp(p, 3, x);
    }
    if (strcmp(k, "stat") == 0) {
        long nd;

        /* The engine names its statistics (ops->stat); an unknown one
         * fails the check, since the parser knows no engine. */
        x->kind = NETSIM_X_STAT;
        if (p->ntok != 6)
            return perr(p, "usage: expect stat NODE NAME OP N");
        nd = netsim_scen_node(sc, p->tok[2]);
        if (nd < 0 || sc->nodes[nd].attacker)
            return perr(p, "'%s' is no node with an engine", p->tok[2]);
        if (strlen(p->tok[3]) >= sizeof(x->stat))
            return perr(p, "statistic name too long");
        memcpy(x->stat, p->tok[3], strlen(p->tok[3]) + 1);
        x->nodes = mem_calloc(sc->m, 1, sizeof(*x->nodes));
        if (x->nodes == NULL)
            return NETSIM_ERR_NOMEM;
        x->nodes[0] = (size_t)nd;
        x->node_cnt = 1;
        return expect_cmp(p, 4, x);
    }
    if (strcmp(k, "local") == 0)
        return expect_local(p, x);
    return perr(p, "unknown expectation '%s'", k);
}

static int
one_u64(pctx *p, uint64_t *out)
{
    if (p->ntok != 2 || !parse_u64(p->tok[1], out))
        return perr(p, "usage: %s N", p->tok[0]);
    return 0;
}

static int
one_time(pctx *p, uint64_t *out)
{
    if (p->ntok != 2 || !parse_time(p->tok[1], out))
        return perr(p, "usage: %s TIME", p->tok[0]);
    return 0;
}

static int
cmd_defaults(pctx *p)
{
    netsim_node_cfg tmp;
    int rc;

    memset(&tmp, 0, sizeof(tmp));
    tmp.rate_bps = p->def_rate;
    tmp.delay_us = p->def_delay;
    tmp.queue_limit = p->def_queue;
    rc = node_opts(p, 1, &tmp);
    if (rc != 0)
        return rc;
    p->def_rate = tmp.rate_bps;
    p->def_delay = tmp.delay_us;
    p->def_queue = tmp.queue_limit;
    return 0;
}

static int
cmd_engine(pctx *p)
{
    netsim_kv *kv;

    if (p->ntok != 3)
        return perr(p, "usage: engine KEY VALUE");
    if (p->sc->kv_cnt == NETSIM_KV_MAX)
        return perr(p, "more than %d engine settings", NETSIM_KV_MAX);
    if (strlen(p->tok[1]) >= NETSIM_NAME_MAX || strlen(p->tok[2]) >= NETSIM_NAME_MAX)
        return perr(p, "engine key or value too long");
    kv = &p->sc->kv[p->sc->kv_cnt++];
    memcpy(kv->key, p->tok[1], strlen(p->tok[1]) + 1);
    memcpy(kv->val, p->tok[2], strlen(p->tok[2]) + 1);
    kv->line = p->line;
    return 0;
}

/*
 * route NODES PATTERN local | route NODES PATTERN group IP nodes IDS, and
 * PATTERN "default" for the default route: one line of the MULE routing
 * table (docs/configuration.md) of each node.  The node's table so far is
 * parsed again, so errors (a second default, a bad address) name this
 * line.
 */
static int
cmd_route(pctx *p)
{
    netsim_scenario *sc = p->sc;
    mule_route_table *t = NULL;
    mule_route_error re;
    size_t *sel = NULL, cnt = 0, i, k, add;
    char line[1024];
    size_t len = 0;
    int rc, n;

    if (p->ntok < 4)
        return perr(p, "usage: route NODES PATTERN local|group IP nodes IDS");
    n = snprintf(line, sizeof(line), "%s", strcmp(p->tok[2], "default") == 0 ? "default" : "route");
    len = (size_t)n;
    for (k = strcmp(p->tok[2], "default") == 0 ? 3 : 2; k < p->ntok; k++) {
        n = snprintf(line + len, sizeof(line) - len, " %s", p->tok[k]);
        if (n < 0 || (size_t)n >= sizeof(line) - len)
            return perr(p, "route line too long");
        len += (size_t)n;
    }
    if (len + 1 >= sizeof(line))
        return perr(p, "route line too long");
    line[len++] = '\n';
    if ((rc = select_names(p, p->tok[1], false, &sel, &cnt)) != 0)
        return rc;
    for (i = 0; i < cnt && rc == 0; i++) {
        netsim_node_cfg *nd = &sc->nodes[sel[i]];
        char *grown;

        add = nd->routes_len + len;
        grown = mem_realloc(sc->m, nd->routes, add);
        if (grown == NULL) {
            rc = NETSIM_ERR_NOMEM;
            break;
        }
        memcpy(grown + nd->routes_len, line, len);
        nd->routes = grown;
        nd->routes_len = add;
        memset(&re, 0, sizeof(re));
        rc = mule_route_table_parse(nd->routes, nd->routes_len, sc->m, NULL, &t, &re);
        mule_route_table_free(t);
        t = NULL;
        if (rc == MULE_ERR_NOMEM)
            rc = NETSIM_ERR_NOMEM;
        else if (rc != 0)
            rc = perr(p, "route for '%s': %s", nd->name, re.text);
    }
    mem_free(sc->m, sel);
    return rc;
}

static const char *const attack_kinds[] = {
    "?", "flood-data", "flood-address", "flood-announce", "spoof-ack", "spoof-ackack",
    "spoof-discard", "replay", "garbage",
};

/* One option of an attack line (k and its value v). */
static int
attack_opt(pctx *p, netsim_attack_cfg *a, const char *k, const char *v)
{
    netsim_scenario *sc = p->sc;
    uint64_t n;
    long nd;

    if (strcmp(k, "at") == 0 || strcmp(k, "until") == 0 || strcmp(k, "every") == 0
        || strcmp(k, "delay") == 0) {
        uint64_t *dst = k[0] == 'a' ? &a->at_us : k[0] == 'u' ? &a->until_us
                      : k[0] == 'e' ? &a->every_us : &a->delay_us;

        if (!parse_time(v, dst) || *dst > 30ull * 86400 * 1000000)
            return perr(p, "bad time '%s' (at most 30 days)", v);
        return 0;
    }
    if (strcmp(k, "count") == 0 || strcmp(k, "sources") == 0 || strcmp(k, "total") == 0
        || strcmp(k, "size") == 0) {
        if (!parse_u64(v, &n))
            return perr(p, "bad number '%s'", v);
        if (strcmp(k, "count") == 0) {
            if (n > 10000000)
                return perr(p, "count above 10000000");
            a->count = n;
        } else if (strcmp(k, "sources") == 0) {
            if (n > (1u << 20))
                return perr(p, "more than %u sources", 1u << 20);
            a->sources = (uint32_t)n;
        } else if (strcmp(k, "total") == 0) {
            if (n == 0 || n > 65535)
                return perr(p, "total must be 1..65535");
            a->total = (uint32_t)n;
        } else {
            if (n == 0 || n > PMUL_PDU_MAX_LEN - PMUL_DATA_HDR_LEN)
                return perr(p, "bad size '%s'", v);
            a->size = (size_t)n;
        }
        return 0;
    }
    if (strcmp(k, "source-base") == 0) {
        if (!parse_ip(v, &a->source_base) || a->source_base == 0
            || (a->source_base >> 28) == 0xE)
            return perr(p, "bad source-base '%s'", v);
        return 0;
    }
    if (strcmp(k, "as") == 0) {
        nd = netsim_scen_node(sc, v);
        if (nd < 0 || sc->nodes[nd].attacker)
            return perr(p, "'%s' is no node with an engine", v);
        a->as_node = nd;
        return 0;
    }
    if (strcmp(k, "target") == 0) {
        size_t i;
        int rc;

        mem_free(sc->m, a->targets);
        a->targets = NULL;
        if ((rc = select_names(p, v, false, &a->targets, &a->target_cnt)) != 0)
            return rc;
        for (i = 0; i < a->target_cnt; i++)
            if (sc->nodes[a->targets[i]].attacker)
                return perr(p, "target '%s' is an attacker", sc->nodes[a->targets[i]].name);
        return 0;
    }
    if (strcmp(k, "expiry") == 0) {
        if (strcmp(v, "far") == 0)
            a->expiry = NETSIM_EXPIRY_FAR;
        else if (strcmp(v, "near") == 0)
            a->expiry = NETSIM_EXPIRY_NEAR;
        else
            return perr(p, "expiry is far or near");
        return 0;
    }
    if (strcmp(k, "spoof-ip") == 0) {
        if (strcmp(v, "on") != 0 && strcmp(v, "off") != 0)
            return perr(p, "spoof-ip is on or off");
        a->spoof_ip = strcmp(v, "on") == 0;
        return 0;
    }
    return perr(p, "unknown attack option '%s'", k);
}

/*
 * auth NODES key STRING [key-id N]: these nodes run the authenticated mode
 * with this network key (16..64 octets).  An attacker is named to give it
 * a key (a wrong one, or a stolen one); without one it sends plain PDUs.
 */
static int
cmd_auth(pctx *p)
{
    size_t *sel, cnt, i, len;
    uint64_t id = 1;
    int rc;

    if ((p->ntok != 4 && p->ntok != 6) || strcmp(p->tok[2], "key") != 0 ||
        (p->ntok == 6 && strcmp(p->tok[4], "key-id") != 0))
        return perr(p, "usage: auth NODES key STRING [key-id N]");
    len = strlen(p->tok[3]);
    if (len < NETSIM_AUTH_KEY_MIN || len > NETSIM_AUTH_KEY_MAX)
        return perr(p, "auth key of %zu octets: give %d..%d", len, NETSIM_AUTH_KEY_MIN,
                    NETSIM_AUTH_KEY_MAX);
    if (p->ntok == 6 && (!parse_u64(p->tok[5], &id) || id > 255))
        return perr(p, "bad key-id '%s' (0..255)", p->tok[5]);
    if ((rc = select_names(p, p->tok[1], false, &sel, &cnt)) != 0)
        return rc;
    for (i = 0; i < cnt; i++) {
        netsim_node_cfg *n = &p->sc->nodes[sel[i]];

        memcpy(n->auth_key, p->tok[3], len);
        n->auth_key_len = len;
        n->auth_key_id = (uint8_t)id;
    }
    mem_free(p->sc->m, sel);
    return 0;
}

/*
 * attack NODE KIND [option VALUE]...: what attacker node NODE sends
 * (netsim/README.md "Attackers").  Several lines may name one attacker.
 */
static int
cmd_attack(pctx *p)
{
    netsim_scenario *sc = p->sc;
    netsim_attack_cfg *a;
    long nd;
    size_t i;
    int rc;

    if (p->ntok < 3)
        return perr(p, "usage: attack NODE KIND [option VALUE]...");
    nd = netsim_scen_node(sc, p->tok[1]);
    if (nd < 0 || !sc->nodes[nd].attacker)
        return perr(p, "'%s' is no attacker (define it with 'attacker')", p->tok[1]);
    rc = grow(sc->m, (void **)&sc->attacks, &sc->attack_size, sc->attack_cnt,
              sizeof(*sc->attacks), NETSIM_ATTACKS_MAX);
    if (rc == NETSIM_ERR_LIMIT)
        return perr(p, "more than %d attack lines", NETSIM_ATTACKS_MAX);
    if (rc != 0)
        return rc;
    a = &sc->attacks[sc->attack_cnt++];     /* freed with the scenario */
    memset(a, 0, sizeof(*a));
    a->node = (size_t)nd;
    a->line = p->line;
    a->until_us = NETSIM_FOREVER;
    a->as_node = -1;
    a->source_base = 0x0A630001u;           /* 10.99.0.1 */
    a->total = 65535;
    a->spoof_ip = true;
    for (i = 1; i < sizeof(attack_kinds) / sizeof(attack_kinds[0]); i++)
        if (strcmp(p->tok[2], attack_kinds[i]) == 0)
            a->kind = (int)i;
    if (a->kind == 0)
        return perr(p, "unknown attack '%s'", p->tok[2]);
    /* Floods send one datagram unless told; reactions and replays go on. */
    a->count = a->kind <= NETSIM_A_FLOOD_ANNOUNCE || a->kind == NETSIM_A_GARBAGE ? 1 : 0;
    a->size = a->kind == NETSIM_A_GARBAGE ? 64 : 10;
    for (i = 3; i < p->ntok; i += 2) {
        if (i + 1 >= p->ntok)
            return perr(p, "'%s' needs a value", p->tok[i]);
        if ((rc = attack_opt(p, a, p->tok[i], p->tok[i + 1])) != 0)
            return rc;
    }
    if ((a->kind == NETSIM_A_FLOOD_ADDRESS || a->kind == NETSIM_A_FLOOD_ANNOUNCE)
        && a->target_cnt == 0)
        return perr(p, "%s needs 'target NODES'", attack_kinds[a->kind]);
    if (a->kind == NETSIM_A_GARBAGE && a->size < PMUL_HDR_LEN)
        return perr(p, "garbage size below %u", PMUL_HDR_LEN);
    if ((a->kind <= NETSIM_A_FLOOD_ANNOUNCE || a->kind == NETSIM_A_GARBAGE) && a->count == 0)
        return perr(p, "a flood needs count >= 1");
    if (a->sources > 0 && a->as_node >= 0)
        return perr(p, "'sources' and 'as' exclude each other");
    if (a->until_us < a->at_us)
        return perr(p, "'until' before 'at'");
    return 0;
}

static int
dispatch(pctx *p)
{
    netsim_scenario *sc = p->sc;
    const char *k = p->tok[0];
    uint64_t v;
    uint32_t ip;
    int rc;

    if (strcmp(k, "seed") == 0)
        return one_u64(p, &sc->seed);
    if (strcmp(k, "text-seed") == 0)
        return one_u64(p, &sc->text_seed);
    if (strcmp(k, "time-limit") == 0) {
        rc = one_time(p, &sc->time_limit_us);
        if (rc == 0 && (sc->time_limit_us == 0 || sc->time_limit_us > 30ull * 86400 * 1000000))
            return perr(p, "time-limit must be in 1 us .. 30 days");
        return rc;
    }
    if (strcmp(k, "linger") == 0)
        return one_time(p, &sc->linger_us);
    if (strcmp(k, "wall-start") == 0) {
        rc = one_u64(p, &v);
        if (rc == 0 && (v < 946684800 || v > 4000000000u))
            return perr(p, "wall-start must be Unix seconds in 2000..2096");
        sc->wall_start_s = (int64_t)v;
        return rc;
    }
    if (strcmp(k, "overhead") == 0) {
        rc = one_u64(p, &v);
        if (rc == 0 && v > 1024)
            return perr(p, "overhead above 1024 octets");
        sc->overhead = (size_t)v;
        return rc;
    }
    if (strcmp(k, "group") == 0) {
        if (p->ntok != 2 || !parse_ip(p->tok[1], &ip) || (ip >> 28) != 0xE)
            return perr(p, "usage: group MULTICAST-IPV4");
        sc->group = ip;
        return 0;
    }
    if (strcmp(k, "defaults") == 0)
        return cmd_defaults(p);
    if (strcmp(k, "node") == 0) {
        if (p->ntok < 3)
            return perr(p, "usage: node NAME IPV4 [rate R] [delay T] [queue N]");
        if (!parse_ip(p->tok[2], &ip))
            return perr(p, "bad address '%s'", p->tok[2]);
        return add_node(p, p->tok[1], ip, 3);
    }
    if (strcmp(k, "nodes") == 0)
        return cmd_nodes(p);
    if (strcmp(k, "loss") == 0)
        return cmd_loss(p);
    if (strcmp(k, "dup") == 0)
        return cmd_jitter(p, true);
    if (strcmp(k, "reorder") == 0)
        return cmd_jitter(p, false);
    if (strcmp(k, "emcon") == 0)
        return cmd_interval(p, false);
    if (strcmp(k, "outage") == 0)
        return cmd_interval(p, true);
    if (strcmp(k, "medium") == 0)
        return cmd_medium(p);
    if (strcmp(k, "engine") == 0)
        return cmd_engine(p);
    if (strcmp(k, "msg") == 0)
        return cmd_msg(p);
    if (strcmp(k, "msgs") == 0)
        return cmd_msgs(p);
    if (strcmp(k, "expect") == 0)
        return cmd_expect(p);
    if (strcmp(k, "mule") == 0) {
        if (p->ntok != 2 || (strcmp(p->tok[1], "on") != 0 && strcmp(p->tok[1], "off") != 0))
            return perr(p, "usage: mule on|off");
        sc->mule = strcmp(p->tok[1], "on") == 0;
        return 0;
    }
    if (strcmp(k, "route") == 0)
        return cmd_route(p);
    if (strcmp(k, "attacker") == 0) {
        if (p->ntok < 3)
            return perr(p, "usage: attacker NAME IPV4 [rate R] [delay T] [queue N]");
        if (!parse_ip(p->tok[2], &ip))
            return perr(p, "bad address '%s'", p->tok[2]);
        if ((rc = add_node(p, p->tok[1], ip, 3)) != 0)
            return rc;
        sc->nodes[sc->node_cnt - 1].attacker = true;
        return 0;
    }
    if (strcmp(k, "attack") == 0)
        return cmd_attack(p);
    if (strcmp(k, "auth") == 0)
        return cmd_auth(p);
    return perr(p, "unknown keyword '%s'", k);
}

int
netsim_scen_parse(netsim_scenario **out, const char *text, size_t len, const mem *m,
                  char *err, size_t errlen)
{
    netsim_scenario *sc;
    pctx *p;
    tok t;
    int rc = 0;

    *out = NULL;
    if (errlen > 0)
        err[0] = '\0';
    sc = mem_calloc(m, 1, sizeof(*sc));
    p = mem_calloc(m, 1, sizeof(*p));
    if (sc == NULL || p == NULL) {
        mem_free(m, sc);
        mem_free(m, p);
        return NETSIM_ERR_NOMEM;
    }
    sc->m = m;
    map_init(&sc->node_names, m, NETSIM_NODES_MAX);
    map_init(&sc->node_ips, m, NETSIM_NODES_MAX);
    map_init(&sc->msg_names, m, NETSIM_MSGS_MAX);
    sc->seed = 1;
    sc->text_seed = 1;
    sc->time_limit_us = 24ull * 3600 * 1000000;
    sc->linger_us = 60ull * 1000000;
    sc->wall_start_s = 1700000000;
    sc->overhead = 28;
    p->sc = sc;
    p->err = err;
    p->errlen = errlen;
    p->def_rate = 9600;
    p->def_delay = 0;
    p->def_queue = 65536;
    tok_init(&t, text, len, LINE_MAX_LEN, TOK_QUOTES, p->buf, sizeof(p->buf), p->words,
             TOK_MAX);
    while (rc == 0 && (rc = tok_next(&t)) == 1) {
        p->line = (int)t.line;
        take_words(p, &t);
        rc = dispatch(p);
    }
    if (rc < 0 && t.err != 0) {
        p->line = (int)t.line;
        rc = perr(p, "%s", t.reason);
    }
    if (rc == 0 && sc->node_cnt < 2)
        rc = perr(p, "a scenario needs at least two nodes");
    if (rc == 0 && sc->msg_cnt == 0)
        rc = perr(p, "a scenario needs at least one message");
    mem_free(m, p);
    if (rc != 0) {
        netsim_scen_free(sc);
        return rc;
    }
    *out = sc;
    return 0;
}

void
netsim_scen_free(netsim_scenario *sc)
{
    size_t i;

    if (sc == NULL)
        return;
    for (i = 0; i < sc->msg_cnt; i++) {
        mem_free(sc->m, sc->msgs[i].to);
        mem_free(sc->m, sc->msgs[i].literal);
        mem_free(sc->m, sc->msgs[i].mail_from);
        mem_free(sc->m, sc->msgs[i].rcpt);
    }
    for (i = 0; i < sc->node_cnt; i++)
        mem_free(sc->m, sc->nodes[i].routes);
    for (i = 0; i < sc->expect_cnt; i++) {
        netsim_expect *x = &sc->expects[i];

        mem_free(sc->m, x->msgs);
        mem_free(sc->m, x->msgs2);
        mem_free(sc->m, x->nodes);
        mem_free(sc->m, x->addr);
        mem_free(sc->m, x->from);
        for (size_t k = 0; k < x->has_cnt; k++)
            mem_free(sc->m, x->has[k]);
    }
    for (i = 0; i < sc->attack_cnt; i++)
        mem_free(sc->m, sc->attacks[i].targets);
    mem_free(sc->m, sc->nodes);
    mem_free(sc->m, sc->msgs);
    mem_free(sc->m, sc->expects);
    mem_free(sc->m, sc->attacks);
    map_fini(&sc->node_names);
    map_fini(&sc->node_ips);
    map_fini(&sc->msg_names);
    mem_free(sc->m, sc);
}

long
netsim_scen_node(const netsim_scenario *sc, const char *name)
{
    return name_find(&sc->node_names, sc->nodes, sizeof(*sc->nodes),
                     offsetof(netsim_node_cfg, name), name);
}

long
netsim_scen_msg(const netsim_scenario *sc, const char *name)
{
    return name_find(&sc->msg_names, sc->msgs, sizeof(*sc->msgs),
                     offsetof(netsim_msg_cfg, name), name);
}

static bool
in_intervals(const netsim_interval *v, size_t cnt, uint64_t t_us)
{
    size_t i;

    for (i = 0; i < cnt; i++)
        if (t_us >= v[i].from_us && t_us < v[i].to_us)
            return true;
    return false;
}

bool
netsim_scen_in_emcon(const netsim_node_cfg *n, uint64_t t_us)
{
    return in_intervals(n->emcon, n->emcon_cnt, t_us);
}

bool
netsim_scen_in_outage(const netsim_node_cfg *n, uint64_t t_us)
{
    return in_intervals(n->outage, n->outage_cnt, t_us);
}
