/*
 * NAME
 *	pmul_group - dynamic multicast group pool and receiver joins
 * SYNOPSIS
 *	#include "pmul/pmul_group.h"
 * DESCRIPTION
 *	Bookkeeping for ACP 142 dynamic groups (docs/wire.md 7.4): which pool
 *	groups our messages request or own, which ones other transmitters use
 *	(so we do not request them and draw a Reject), and which groups this
 *	node has joined as a receiver and for which messages.  The engine
 *	drives the Request / Reject / Announce / Release exchange and its
 *	timers; this module answers "which group", "must we reject" and
 *	"join or leave now".
 * SECURITY
 *	Request, Announce and Release PDUs come from any node.  A foreign
 *	claim only marks a pool group busy for a bounded time; joins are capped
 *	(join_max) and expire with their message.
 * DIAGNOSTICS
 *	PMUL_ERR_NOTFOUND, PMUL_ERR_BUSY, PMUL_ERR_NOMEM.  Logs nothing.
 * SEE ALSO
 *	pmul_engine(3)
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "pmul/pmul_group.h"

#include <string.h>

#include "pmul/pmul_err.h"
#include "pmul/util/arr.h"

int
pmul_groups_init(pmul_groups *g, const mem *m, uint32_t node_id, const uint32_t *pool,
                 size_t pool_cnt, size_t join_max)
{
    size_t i;

    memset(g, 0, sizeof(*g));
    g->m = m;
    g->node_id = node_id;
    g->join_max = join_max;
    if (pool_cnt > 0) {
        g->pool = mem_calloc(m, pool_cnt, sizeof(*g->pool));
        if (g->pool == NULL)
            return PMUL_ERR_NOMEM;
        for (i = 0; i < pool_cnt; i++)
            g->pool[i].group = pool[i];
        g->pool_cnt = pool_cnt;
    }
    return 0;
}

void
pmul_groups_fini(pmul_groups *g)
{
    mem_free(g->m, g->pool);
    mem_free(g->m, g->joins);
    g->pool = NULL;
    g->joins = NULL;
    g->pool_cnt = g->join_cnt = g->join_cap = 0;
}

static pmul_grp_slot *
slot(const pmul_groups *g, uint32_t group)
{
    size_t i;

    for (i = 0; i < g->pool_cnt; i++)
        if (g->pool[i].group == group)
            return &g->pool[i];
    return NULL;
}

int
pmul_groups_state(const pmul_groups *g, uint32_t group)
{
    const pmul_grp_slot *s = slot(g, group);

    return s != NULL ? s->state : -1;
}

int
pmul_groups_pick(pmul_groups *g, uint64_t now_ms, uint32_t msid, uint32_t *group)
{
    size_t i;
    pmul_grp_slot *s;

    for (i = 0; i < g->pool_cnt; i++) {
        s = &g->pool[i];
        /* A foreign claim is forgotten once its time is up: a lost Release
         * must not take a group out of the pool for good. */
        if (s->state == PMUL_GRP_FOREIGN && s->until_ms <= now_ms)
            s->state = PMUL_GRP_FREE;
        if (s->state != PMUL_GRP_FREE)
            continue;
        s->state = PMUL_GRP_REQUESTING;
        s->msid = msid;
        *group = s->group;
        return 0;
    }
    return PMUL_ERR_NOTFOUND;
}

void
pmul_groups_set_owned(pmul_groups *g, uint32_t group)
{
    pmul_grp_slot *s = slot(g, group);

    if (s != NULL && s->state == PMUL_GRP_REQUESTING)
        s->state = PMUL_GRP_OWNED;
}

void
pmul_groups_release(pmul_groups *g, uint32_t group)
{
    pmul_grp_slot *s = slot(g, group);

    if (s != NULL && (s->state == PMUL_GRP_REQUESTING || s->state == PMUL_GRP_OWNED))
        s->state = PMUL_GRP_FREE;
}

void
pmul_groups_mark_foreign(pmul_groups *g, uint32_t group, uint32_t owner, uint64_t until_ms)
{
    pmul_grp_slot *s = slot(g, group);

    if (s == NULL || s->state == PMUL_GRP_OWNED || s->state == PMUL_GRP_REQUESTING)
        return;
    s->state = PMUL_GRP_FOREIGN;
    s->owner = owner;
    s->until_ms = until_ms;
}

int
pmul_groups_on_request(pmul_groups *g, uint32_t requester, uint32_t group, uint64_t until_ms,
                       uint32_t *msid)
{
    pmul_grp_slot *s = slot(g, group);

    if (s == NULL)
        return PMUL_GRP_ACT_NONE;
    switch (s->state) {
    case PMUL_GRP_OWNED:
        return PMUL_GRP_ACT_REJECT;
    case PMUL_GRP_REQUESTING:
        /* Simultaneous requests: the lower node ID keeps the group. */
        if (requester < g->node_id) {
            *msid = s->msid;
            s->state = PMUL_GRP_FOREIGN;
            s->owner = requester;
            s->until_ms = until_ms;
            return PMUL_GRP_ACT_YIELD;
        }
        return PMUL_GRP_ACT_REJECT;
    default:
        s->state = PMUL_GRP_FOREIGN;
        s->owner = requester;
        s->until_ms = until_ms;
        return PMUL_GRP_ACT_NONE;
    }
}

void
pmul_groups_on_release(pmul_groups *g, uint32_t src, uint32_t group)
{
    pmul_grp_slot *s = slot(g, group);

    if (s != NULL && s->state == PMUL_GRP_FOREIGN && s->owner == src)
        s->state = PMUL_GRP_FREE;
}

/* ---- receiver joins ---------------------------------------------------- */

bool
pmul_groups_is_joined(const pmul_groups *g, uint32_t group)
{
    size_t i;

    for (i = 0; i < g->join_cnt; i++)
        if (g->joins[i].group == group)
            return true;
    return false;
}

/* Groups joined now (entries are few: a linear count). */
static size_t
distinct_groups(const pmul_groups *g)
{
    size_t i, k, n = 0;

    for (i = 0; i < g->join_cnt; i++) {
        for (k = 0; k < i; k++)
            if (g->joins[k].group == g->joins[i].group)
                break;
        if (k == i)
            n++;
    }
    return n;
}

void
pmul_groups_extend(pmul_groups *g, uint32_t src, uint32_t msid, uint64_t until_ms)
{
    size_t i;

    for (i = 0; i < g->join_cnt; i++)
        if (g->joins[i].src == src && g->joins[i].msid == msid && g->joins[i].until_ms < until_ms)
            g->joins[i].until_ms = until_ms;
}

size_t
pmul_groups_drop_group(pmul_groups *g, uint32_t group)
{
    size_t i = 0, n = 0;

    while (i < g->join_cnt) {
        if (g->joins[i].group != group) {
            i++;
            continue;
        }
        memmove(&g->joins[i], &g->joins[i + 1], (g->join_cnt - i - 1) * sizeof(*g->joins));
        g->join_cnt--;
        n++;
    }
    return n;
}

int
pmul_groups_join(pmul_groups *g, uint32_t group, uint32_t src, uint32_t msid,
                 uint64_t until_ms, bool *first)
{
    size_t i;

    *first = false;
    for (i = 0; i < g->join_cnt; i++) {
        pmul_grp_join *j = &g->joins[i];

        if (j->src == src && j->msid == msid) {
            if (j->group == group) {
                if (until_ms > j->until_ms)
                    j->until_ms = until_ms;
                return 0;
            }
        }
    }
    if (g->join_cnt >= g->join_max)
        return PMUL_ERR_BUSY;
    if (g->group_max != 0 && !pmul_groups_is_joined(g, group) &&
        distinct_groups(g) >= g->group_max)
        return PMUL_ERR_BUSY;
    if (arr_grow(g->m, (void **)&g->joins, &g->join_cap, g->join_cnt + 1,
                 sizeof(*g->joins), g->join_max) != 0)
        return PMUL_ERR_NOMEM;
    *first = !pmul_groups_is_joined(g, group);
    g->joins[g->join_cnt].group = group;
    g->joins[g->join_cnt].src = src;
    g->joins[g->join_cnt].msid = msid;
    g->joins[g->join_cnt].until_ms = until_ms;
    g->join_cnt++;
    return 0;
}

/* Remove entry i keeping join order (deterministic iteration). */
static void
remove_at(pmul_groups *g, size_t i, uint32_t *group, bool *last)
{
    *group = g->joins[i].group;
    memmove(&g->joins[i], &g->joins[i + 1], (g->join_cnt - i - 1) * sizeof(*g->joins));
    g->join_cnt--;
    *last = !pmul_groups_is_joined(g, *group);
}

bool
pmul_groups_leave(pmul_groups *g, uint32_t src, uint32_t msid, uint32_t *group, bool *last)
{
    size_t i;

    for (i = 0; i < g->join_cnt; i++)
        if (g->joins[i].src == src && g->joins[i].msid == msid) {
            remove_at(g, i, group, last);
            return true;
        }
    return false;
}

bool
pmul_groups_expire_one(pmul_groups *g, uint64_t now_ms, uint32_t *group, bool *last)
{
    size_t i;

    for (i = 0; i < g->join_cnt; i++)
        if (g->joins[i].until_ms <= now_ms) {
            remove_at(g, i, group, last);
            return true;
        }
    return false;
}

uint64_t
pmul_groups_next_deadline(const pmul_groups *g)
{
    uint64_t t = UINT64_MAX;
    size_t i;

    for (i = 0; i < g->join_cnt; i++)
        if (g->joins[i].until_ms < t)
            t = g->joins[i].until_ms;
    return t;
}
