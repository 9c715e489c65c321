/*
 * NAME
 *	netsim_check - judge a netsim run against its scenario
 * SYNOPSIS
 *	#include "netsim/netsim.h"
 * DESCRIPTION
 *	Built-in invariants hold for every run: each message is accepted and
 *	finished exactly once by its transmitter; every destination that
 *	should get a message gets it exactly once and byte-identical; no
 *	node gets a message it is not a destination of; nobody transmits in
 *	EMCON; the transmitter's per-destination verdicts (acked / failed)
 *	are what the scenario says.  By default every destination must be
 *	delivered and acked.  "expect failed MSG NODES" names the
 *	destinations that must fail instead (exactly those), and that must
 *	then not get the message, unless "expect delivered MSG NODES" also
 *	names them (the message arrived, the Acks did not).
 *
 *	Timed and ordering expectations (within/after, before, prio-before,
 *	max-time) and counters (expect count) are checked next.  Each failure
 *	is one line naming the scenario line it comes from.
 * SECURITY
 *	Reads only the simulator's own records.
 * DIAGNOSTICS
 *	Returns the number of failures, or NETSIM_ERR_NOMEM.
 * SEE ALSO
 *	netsim(7), netsim_sim.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "netsim/netsim_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define SEC(us) (unsigned long long)((us) / 1000000), (unsigned long long)((us) % 1000000 / 1000)

typedef struct checker {
    const netsim *s;
    buf *out;
    long fails;
    int err;
} checker;

static void fail(checker *c, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
fail(checker *c, int line, const char *fmt, ...)
{
    char msg[300];
    va_list ap;

    c->fails++;
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (c->err == 0) {
        if (line > 0)
            c->err = buf_printf(c->out, "FAIL line %d: %s\n", line, msg);
        else
            c->err = buf_printf(c->out, "FAIL %s\n", msg);
    }
}

static const char *
node_name(const netsim *s, size_t n)
{
    return s->sc->nodes[n].name;
}

/* Per message: the default "all delivered and acked" rule, overridden by
 * expect delivered / expect failed lines that name it. */
static void
check_msg(checker *c, size_t m, bool *want_fail, bool *want_deliv)
{
    const netsim *s = c->s;
    const netsim__msg *mm = &s->msgs[m];
    const netsim_msg_cfg *mc = mm->cfg;
    size_t x, i, k, pos;

    memset(want_fail, 0, mc->to_cnt * sizeof(*want_fail));
    memset(want_deliv, 0, mc->to_cnt * sizeof(*want_deliv));
    for (x = 0; x < s->sc->expect_cnt; x++) {
        const netsim_expect *e = &s->sc->expects[x];

        if (e->kind != NETSIM_X_FAILED && e->kind != NETSIM_X_DELIVERED)
            continue;
        for (i = 0; i < e->msg_cnt; i++) {
            if (e->msgs[i] != m)
                continue;
            for (k = 0; k < e->node_cnt; k++) {
                pos = netsim__dest_pos(mm, e->nodes[k]);
                if (pos == SIZE_MAX) {
                    if (e->kind == NETSIM_X_FAILED)
                        fail(c, e->line, "%s is not a destination of %s",
                             node_name(s, e->nodes[k]), mc->name);
                    continue;
                }
                if (e->kind == NETSIM_X_FAILED)
                    want_fail[pos] = true;
                else
                    want_deliv[pos] = true;
            }
        }
    }
    /* Destinations not expected to fail must get the message; a failed one
     * must not, unless an expect delivered line says it does (its Ack was
     * lost, say). */
    for (k = 0; k < mc->to_cnt; k++)
        want_deliv[k] = want_deliv[k] || !want_fail[k];
    if (!mm->submitted) {
        fail(c, mc->line, "message %s was never accepted by %s", mc->name,
             node_name(s, mc->from));
        return;
    }
    if (!mm->done)
        fail(c, mc->line, "message %s: transmitter %s never finished it", mc->name,
             node_name(s, mc->from));
    for (k = 0; k < mc->to_cnt; k++) {
        uint8_t f = mm->dflags[k];
        bool got = (f & NETSIM__D_DELIVERED) != 0 && mm->dcount[k] == 1;
        const char *dn = node_name(s, mc->to[k]);

        if (got != want_deliv[k])
            fail(c, mc->line, "message %s: %s %s", mc->name, dn,
                 want_deliv[k] ? "did not get it" : "got it, expected not to");
        if (want_fail[k] && !(f & NETSIM__D_FAILED))
            fail(c, mc->line, "message %s: transmitter did not report %s as failed", mc->name, dn);
        if (!want_fail[k] && !(f & NETSIM__D_ACKED))
            fail(c, mc->line, "message %s: transmitter did not report %s as acked%s", mc->name, dn,
                 (f & NETSIM__D_FAILED) ? " (reported failed)" : "");
    }
}

static bool
in_bounds(uint64_t t, const netsim_expect *e)
{
    return t >= e->after_us && (e->within_us == NETSIM_FOREVER || t <= e->within_us);
}

/* got compared with the line's N (expect count, expect stat). */
static bool
cmp_ok(const netsim_expect *e, uint64_t got)
{
    switch (e->cmp) {
    case NETSIM_CMP_EQ: return got == e->n;
    case NETSIM_CMP_GE: return got >= e->n;
    case NETSIM_CMP_LE: return got <= e->n;
    case NETSIM_CMP_GT: return got > e->n;
    default: return got < e->n;
    }
}

static void
check_expect(checker *c, const netsim_expect *e)
{
    const netsim *s = c->s;
    netsim_summary sum;
    uint64_t a_max = 0, b_min = NETSIM_FOREVER, v;
    size_t i, k, pos, na = 0, nb = 0;

    switch (e->kind) {
    case NETSIM_X_DELIVERED:
    case NETSIM_X_ACKED:
    case NETSIM_X_DISCARDED:
        for (i = 0; i < e->msg_cnt; i++) {
            const netsim__msg *mm = &s->msgs[e->msgs[i]];

            for (k = 0; k < e->node_cnt; k++) {
                const char *dn = node_name(s, e->nodes[k]);

                pos = netsim__dest_pos(mm, e->nodes[k]);
                if (pos == SIZE_MAX) {
                    if (e->kind != NETSIM_X_DELIVERED)
                        fail(c, e->line, "%s is not a destination of %s", dn, mm->cfg->name);
                    continue;
                }
                if (e->kind == NETSIM_X_DISCARDED) {
                    if (!(mm->dflags[pos] & (NETSIM__D_DISCARD | NETSIM__D_RX_DISC)))
                        fail(c, e->line, "no Discard_Message_PDU for %s reached %s",
                             mm->cfg->name, dn);
                    continue;
                }
                if (e->kind == NETSIM_X_ACKED && !(mm->dflags[pos] & NETSIM__D_ACKED)) {
                    fail(c, e->line, "%s: %s never acked", mm->cfg->name, dn);
                    continue;
                }
                if (e->kind == NETSIM_X_DELIVERED && !(mm->dflags[pos] & NETSIM__D_DELIVERED))
                    continue;   /* reported by the per-message check */
                v = e->kind == NETSIM_X_ACKED ? mm->ack_us[pos] : mm->deliver_us[pos];
                if (!in_bounds(v, e))
                    fail(c, e->line, "%s: %s %s at %llu.%03llu s, outside the bounds",
                         mm->cfg->name, dn, e->kind == NETSIM_X_ACKED ? "acked" : "delivered",
                         SEC(v));
            }
        }
        break;
    case NETSIM_X_DONE:
        for (i = 0; i < e->msg_cnt; i++) {
            const netsim__msg *mm = &s->msgs[e->msgs[i]];

            if (!mm->done)
                fail(c, e->line, "%s never finished", mm->cfg->name);
            else if (!in_bounds(mm->done_us, e))
                fail(c, e->line, "%s finished at %llu.%03llu s, outside the bounds",
                     mm->cfg->name, SEC(mm->done_us));
        }
        break;
    case NETSIM_X_BEFORE:
    case NETSIM_X_PRIO_BEFORE:
        for (i = 0; i < s->sc->msg_cnt; i++) {
            const netsim__msg *mm = &s->msgs[i];
            bool in_a = false, in_b = false;

            if (e->kind == NETSIM_X_PRIO_BEFORE) {
                in_a = mm->cfg->prio == e->prio_a;
                in_b = mm->cfg->prio == e->prio_b;
            } else {
                for (k = 0; k < e->msg_cnt; k++)
                    in_a |= e->msgs[k] == i;
                for (k = 0; k < e->msg2_cnt; k++)
                    in_b |= e->msgs2[k] == i;
            }
            v = mm->done ? mm->done_us : NETSIM_FOREVER;
            if (in_a) {
                na++;
                if (v > a_max)
                    a_max = v;
            }
            if (in_b) {
                nb++;
                if (v < b_min)
                    b_min = v;
            }
        }
        if (na == 0 || nb == 0)
            fail(c, e->line, "ordering check selects no messages");
        else if (a_max == NETSIM_FOREVER || !(a_max < b_min))
            fail(c, e->line, "ordering violated: earlier set finished at %s%llu.%03llu s, "
                 "later set began finishing at %llu.%03llu s",
                 a_max == NETSIM_FOREVER ? "never " : "", SEC(a_max == NETSIM_FOREVER ? 0 : a_max),
                 SEC(b_min == NETSIM_FOREVER ? 0 : b_min));
        break;
    case NETSIM_X_MAX_TIME:
        netsim_summarize(s, &sum);
        if (sum.msgs_done != sum.msgs || sum.time_us > e->within_us)
            fail(c, e->line, "completion time %llu.%03llu s (%zu/%zu messages finished), "
                 "limit %llu.%03llu s", SEC(sum.time_us), sum.msgs_done, sum.msgs,
                 SEC(e->within_us));
        break;
    case NETSIM_X_LOCAL: {
        char why[256];

        if (!netsim__mule_check_local(s, e, why, sizeof(why)))
            fail(c, e->line, "%s", why);
        break;
    }
    case NETSIM_X_COUNT: {
        uint64_t got = s->counters[e->counter];

        if (!cmp_ok(e, got))
            fail(c, e->line, "counter %s is %llu", netsim_counter_name(e->counter),
                 (unsigned long long)got);
        break;
    }
    case NETSIM_X_STAT: {
        const netsim__node *n = &s->nodes[e->nodes[0]];
        uint64_t got = 0;

        if (s->o.ops->stat == NULL || n->eng == NULL || s->o.ops->stat(n->eng, e->stat, &got) != 0)
            fail(c, e->line, "engine %s has no statistic '%s'", s->o.ops->name, e->stat);
        else if (!cmp_ok(e, got))
            fail(c, e->line, "%s: %s is %llu", n->cfg->name, e->stat, (unsigned long long)got);
        break;
    }
    default:
        break;
    }
}

long
netsim_check(const netsim *s, buf *out)
{
    checker c;
    bool *want_fail = NULL, *want_deliv = NULL;
    size_t i, maxd = 1;

    c.s = s;
    c.out = out;
    c.fails = (long)s->problem_cnt;
    c.err = 0;
    if (s->problems.len > 0)
        c.err = buf_append(out, s->problems.data, s->problems.len);
    if (c.err == 0 && s->problem_cnt > 64)
        c.err = buf_printf(out, "FAIL ... %zu more run-time failures\n", s->problem_cnt - 64);
    /* The scenario's messages and those the nodes' MULE made. */
    for (i = 0; i < s->msg_cnt; i++)
        if (s->msgs[i].cfg->to_cnt > maxd)
            maxd = s->msgs[i].cfg->to_cnt;
    want_fail = mem_calloc(s->m, maxd, sizeof(bool));
    want_deliv = mem_calloc(s->m, maxd, sizeof(bool));
    if (want_fail == NULL || want_deliv == NULL) {
        mem_free(s->m, want_fail);
        mem_free(s->m, want_deliv);
        return NETSIM_ERR_NOMEM;
    }
    for (i = 0; i < s->msg_cnt; i++)
        check_msg(&c, i, want_fail, want_deliv);
    for (i = 0; i < s->sc->expect_cnt; i++)
        check_expect(&c, &s->sc->expects[i]);
    mem_free(s->m, want_fail);
    mem_free(s->m, want_deliv);
    if (c.err != 0)
        return NETSIM_ERR_NOMEM;
    return c.fails;
}
