/*
 * NAME
 *	dump_nodes - pmul-dump's capped table of receiver engines
 * SYNOPSIS
 *	#include "tools/pmul-dump/dump_nodes.h"
 * DESCRIPTION
 *	A map from node ID to slot, and the slots on a doubly linked list in
 *	order of last use (head: most recent).  Finding, creating and
 *	evicting are O(1) whatever the number of nodes, so a capture naming
 *	thousands of spoofed destinations costs time in proportion to the
 *	datagrams, not to the nodes it names (issue 13).
 *
 *	Eviction runs the victim's timers up to the current capture time
 *	first, so what it would have reported by then (deliveries, discards
 *	on expiry) still reaches the report; what it held beyond that is
 *	lost, and counted (evicted_busy).
 * SECURITY
 *	Node IDs come from untrusted Address_PDUs.  The table never holds
 *	more than max_nodes engines, and one datagram can create at most
 *	max_nodes of them.
 * DIAGNOSTICS
 *	Counters only (dump_nodes_stats); pmul-dump's summary prints them.
 * SEE ALSO
 *	dump_vnode(3), pmul-dump(1), docs/tools.md.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "tools/pmul-dump/dump_nodes.h"

#include <string.h>

#include "pmul/util/map.h"
#include "pmul/util/mem.h"

#define NONE UINT32_MAX
/* Buckets of the filter in front of the map (a power of two). */
#define FILTER_SIZE 4096u

typedef struct slot {
    vnode *n;                   /* NULL: free */
    uint32_t id;
    uint32_t prev, next;        /* LRU list, or the free list (next) */
    uint64_t gen;               /* datagram that last touched it */
    uint64_t born_us;           /* capture time of its creation */
} slot;

struct dump_nodes {
    vnode_opts tmpl;
    vnode_sink sink;
    slot *slots;
    size_t max;
    map ids;                    /* node ID -> slot index */
    uint32_t head, tail;        /* most / least recently used */
    uint32_t free_head;
    uint64_t gen;
    uint64_t stalls_gone;       /* stall counters of evicted engines */
    uint64_t drops_gone;        /* cap drops of evicted engines */
    uint64_t epoch;             /* bumped on every creation (not eviction:
                                 * see dump_nodes_epoch()) */
    dump_nodes_stats st;
    /* How many engines hash to each bucket: most IDs a hostile capture
     * names have no engine, and a zero here says so without the map
     * (16 KiB, in cache, against a miss per lookup). */
    uint32_t filter[FILTER_SIZE];
};

static size_t
bucket(uint32_t id)
{
    return (size_t)((id * 0x9E3779B1u) >> 20) & (FILTER_SIZE - 1);
}

int
dump_nodes_new(dump_nodes **out, size_t max_nodes, const vnode_opts *tmpl,
               const vnode_sink *sink)
{
    dump_nodes *t;
    size_t i;

    *out = NULL;
    if (max_nodes == 0 || max_nodes > 65536)
        return -1;
    t = mem_calloc(NULL, 1, sizeof(*t));
    if (t == NULL)
        return -1;
    t->slots = mem_calloc(NULL, max_nodes, sizeof(*t->slots));
    if (t->slots == NULL) {
        mem_free(NULL, t);
        return -1;
    }
    t->tmpl = *tmpl;
    t->sink = *sink;
    t->max = max_nodes;
    map_init(&t->ids, NULL, max_nodes);
    for (i = 0; i < max_nodes; i++)
        t->slots[i].next = i + 1 < max_nodes ? (uint32_t)(i + 1) : NONE;
    t->free_head = 0;
    t->head = t->tail = NONE;
    t->gen = 1;
    t->epoch = 1;
    *out = t;
    return 0;
}

void
dump_nodes_free(dump_nodes *t)
{
    size_t i;

    if (t == NULL)
        return;
    for (i = 0; i < t->max; i++)
        vnode_free(t->slots[i].n);
    map_fini(&t->ids);
    mem_free(NULL, t->slots);
    mem_free(NULL, t);
}

void
dump_nodes_next_datagram(dump_nodes *t)
{
    t->gen++;
}

static void
unlink_slot(dump_nodes *t, uint32_t i)
{
    slot *s = &t->slots[i];

    if (s->prev != NONE)
        t->slots[s->prev].next = s->next;
    else
        t->head = s->next;
    if (s->next != NONE)
        t->slots[s->next].prev = s->prev;
    else
        t->tail = s->prev;
}

static void
push_head(dump_nodes *t, uint32_t i)
{
    slot *s = &t->slots[i];

    s->prev = NONE;
    s->next = t->head;
    if (t->head != NONE)
        t->slots[t->head].prev = i;
    t->head = i;
    if (t->tail == NONE)
        t->tail = i;
    s->gen = t->gen;
}

vnode *
dump_nodes_find(dump_nodes *t, uint32_t id, bool *again)
{
    uint64_t v;

    *again = false;
    if (t->filter[bucket(id)] == 0 || !map_get(&t->ids, id, &v))
        return NULL;
    *again = t->slots[v].gen == t->gen;
    if ((uint32_t)v != t->head) {
        unlink_slot(t, (uint32_t)v);
        push_head(t, (uint32_t)v);
    }
    t->slots[v].gen = t->gen;
    return t->slots[v].n;
}

static uint64_t
cap_drops(const vnode *n)
{
    pmul_stats st;

    vnode_stats(n, &st);
    return st.drops[PMUL_DROP_CAP_SOURCES] + st.drops[PMUL_DROP_CAP_MSGS] +
           st.drops[PMUL_DROP_CAP_BYTES];
}

/* Free the least recently used engine; false when it belongs to the
 * current datagram (or there is none). */
static bool
evict_one(dump_nodes *t, uint64_t now_us)
{
    uint32_t i = t->tail;
    slot *s;

    if (i == NONE || t->slots[i].gen == t->gen)
        return false;
    s = &t->slots[i];
    /* Let it say what it would have said by now; its sink must not call
     * back into the table (dump_vnode.h). */
    vnode_advance(s->n, now_us);
    if (!vnode_is_idle(s->n))
        t->st.evicted_busy++;
    t->stalls_gone += vnode_stalls(s->n);
    t->drops_gone += cap_drops(s->n);
    unlink_slot(t, i);
    (void)map_del(&t->ids, s->id);
    t->filter[bucket(s->id)]--;
    vnode_free(s->n);
    s->n = NULL;
    s->next = t->free_head;
    t->free_head = i;
    t->st.live--;
    t->st.evicted++;
    return true;
}

vnode *
dump_nodes_get(dump_nodes *t, uint32_t id, uint64_t now_us, bool *created, bool *again)
{
    vnode_opts o;
    vnode *n;
    uint32_t i;
    int rc;

    *created = false;
    if ((n = dump_nodes_find(t, id, again)) != NULL)
        return n;
    if (t->free_head == NONE && !evict_one(t, now_us)) {
        t->st.refused++;
        return NULL;
    }
    o = t->tmpl;
    o.node_id = id;
    o.seed = 0;
    rc = vnode_new(&n, &o, &t->sink);
    if (rc != 0) {
        t->st.refused++;
        t->st.create_failed++;
        return NULL;
    }
    i = t->free_head;
    if (map_put(&t->ids, id, i) != 0) {
        vnode_free(n);
        t->st.refused++;
        t->st.create_failed++;
        return NULL;
    }
    t->free_head = t->slots[i].next;
    t->filter[bucket(id)]++;
    t->slots[i].n = n;
    t->slots[i].id = id;
    t->slots[i].born_us = now_us;
    push_head(t, i);
    /* The engine starts at the current capture time, not at 1970. */
    vnode_advance(n, now_us);
    t->st.live++;
    if (t->st.live > t->st.peak)
        t->st.peak = t->st.live;
    t->st.created++;
    t->epoch++;
    *created = true;
    return n;
}

void
dump_nodes_advance_all(dump_nodes *t, uint64_t t_us)
{
    uint32_t i;

    /* Oldest first: the order engines were last used, deterministic. */
    for (i = t->tail; i != NONE; i = t->slots[i].prev)
        vnode_advance(t->slots[i].n, t_us);
}

uint64_t
dump_nodes_born_us(const dump_nodes *t, uint32_t id)
{
    uint64_t v;

    return t->filter[bucket(id)] != 0 && map_get(&t->ids, id, &v) ? t->slots[v].born_us
                                                                  : UINT64_MAX;
}

uint64_t
dump_nodes_stalls(const dump_nodes *t)
{
    uint64_t s = t->stalls_gone;
    size_t i;

    for (i = 0; i < t->max; i++)
        if (t->slots[i].n != NULL)
            s += vnode_stalls(t->slots[i].n);
    return s;
}

uint64_t
dump_nodes_epoch(const dump_nodes *t)
{
    return t->epoch;
}

bool
dump_nodes_has(const dump_nodes *t, uint32_t id)
{
    return t->filter[bucket(id)] != 0 && map_get(&t->ids, id, NULL);
}

size_t
dump_nodes_live(const dump_nodes *t)
{
    return t->st.live;
}

void
dump_nodes_stats_get(const dump_nodes *t, dump_nodes_stats *out)
{
    size_t i;

    *out = t->st;
    out->cap_drops = t->drops_gone;
    for (i = 0; i < t->max; i++)
        if (t->slots[i].n != NULL)
            out->cap_drops += cap_drops(t->slots[i].n);
}
