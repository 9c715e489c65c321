/*
 * dump_nodes.h: pmul-dump's receiver engines, created on demand, at most
 * a fixed number at once, the least recently used evicted first.
 *
 * Every node named as a destination gets a vnode (dump_vnode.h) acting as
 * that receiver.  A capture names as many nodes as its sender (or a
 * hostile one) likes, so the table is capped: when it is full, the node
 * fed least recently is run up to the current time (its due timers and
 * events go to the sink) and freed.  Nodes touched during the current
 * datagram are never evicted for it: a datagram that names more new nodes
 * than the cap gets the rest refused, so one datagram costs at most
 * max_nodes engine creations.  Every eviction and refusal is counted.
 */
#ifndef DUMP_NODES_H
#define DUMP_NODES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tools/capture/dump_vnode.h"

typedef struct dump_nodes dump_nodes;

typedef struct dump_nodes_stats {
    size_t live, peak;          /* engines now, most at once */
    uint64_t created;           /* engines created */
    uint64_t evicted;           /* freed to make room (state lost) */
    uint64_t evicted_busy;      /* of those, engines still holding messages */
    uint64_t refused;           /* not created: the cap was taken by the
                                 * current datagram, or creation failed */
    uint64_t create_failed;     /* of those, pmul_engine_new failed */
    uint64_t cap_drops;         /* PDUs the engines dropped on their caps
                                 * (sources, messages, octets): where the
                                 * analysis caps may differ from a node's */
} dump_nodes_stats;

/*
 * Create a table of at most max_nodes (1..65536) engines, each made from
 * *tmpl (copied; node_id and seed are set per node; tmpl->base and
 * tmpl->log are borrowed for the table's life) with the sink *sink
 * (copied).  Returns 0 or -1 (bad argument, no memory).
 */
int dump_nodes_new(dump_nodes **out, size_t max_nodes, const vnode_opts *tmpl,
                   const vnode_sink *sink);
/* Free every engine (without running them further).  NULL is a no-op. */
void dump_nodes_free(dump_nodes *t);

/* Start a new datagram: nodes touched from now on are "current". */
void dump_nodes_next_datagram(dump_nodes *t);

/* The engine of node id, marked most recently used; NULL if none.
 * *again says whether it was already handed out for this datagram (the
 * caller then does not feed it twice). */
vnode *dump_nodes_find(dump_nodes *t, uint32_t id, bool *again);

/*
 * The engine of node id, created if needed (when the table is full, the
 * least recently used one is run up to now_us and freed).  *created says whether it is new,
 * *again as for dump_nodes_find().
 * Returns NULL when it cannot be had (counted as refused).
 */
vnode *dump_nodes_get(dump_nodes *t, uint32_t id, uint64_t now_us, bool *created,
                      bool *again);

/* Capture time at which node id's engine was created; UINT64_MAX if none. */
uint64_t dump_nodes_born_us(const dump_nodes *t, uint32_t id);

/* Run every engine's timers up to t_us (end of the capture). */
void dump_nodes_advance_all(dump_nodes *t, uint64_t t_us);

/* Sum of the engines' stall counters. */
uint64_t dump_nodes_stalls(const dump_nodes *t);

/* Changes (never to 0) whenever an engine is created.  Not when one is
 * freed: a cached list of nodes with engines (dump_msgs_route) then only
 * names one too many, which dump_nodes_find() answers with NULL, and a
 * hostile capture churns engines by the thousand, so every eviction
 * would also make every message's list be built again. */
uint64_t dump_nodes_epoch(const dump_nodes *t);

/* Whether node id has an engine (no change to the use order). */
bool dump_nodes_has(const dump_nodes *t, uint32_t id);

/* Engines held now. */
size_t dump_nodes_live(const dump_nodes *t);

void dump_nodes_stats_get(const dump_nodes *t, dump_nodes_stats *out);

#endif
