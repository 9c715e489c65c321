/*
 * map.h: a small hash map from 64-bit keys to 64-bit values.
 *
 * The one lookup table of the project below the engine (routing table,
 * netsim's node and message names; the engine's sources and messages
 * next).  Open addressing with linear probing over an array of entries
 * kept in insertion order, so that iterating a map visits its entries in
 * the order they were added whatever the keys are: output that walks a
 * map is deterministic (style.md 2).  Deleting keeps that order.
 *
 * Keys are plain integers: a caller with composite keys packs them
 * (source << 32 | msid), a caller with string keys stores a hash and
 * compares the strings itself; map_add() and map_probe() then allow
 * several entries under one key.  A map never allocates by a count a peer
 * claims: it grows by one entry per insertion, up to the cap given at
 * init, and every failure leaves it unchanged.  Memory comes from an
 * injected allocator.  Includes only libc.
 */
#ifndef PMUL_UTIL_MAP_H
#define PMUL_UTIL_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mem.h"
#include "util_err.h"

/* Hard upper bound on the entries of one map (slots hold 32-bit indices). */
#define MAP_MAX_CNT ((size_t)1 << 30)

typedef struct map_ent {
    uint64_t key;
    uint64_t val;
    bool live;                  /* false: deleted, skipped by iteration */
} map_ent;

typedef struct map {
    const mem *m;               /* borrowed; NULL: libc */
    size_t max;                 /* cap on live entries */
    map_ent *ents;              /* owned: insertion order, live and dead */
    size_t ent_len, ent_cap;
    size_t cnt;                 /* live entries */
    uint32_t *slots;            /* owned: entry index + 1; 0 = empty */
    size_t slot_cnt;            /* 0 or a power of two, >= 2 * cnt */
} map;

/* Embed-style init (no allocation until the first insertion).  max caps
 * the live entries (0 or above MAP_MAX_CNT: MAP_MAX_CNT). */
void map_init(map *mp, const mem *m, size_t max);
/* Free the arrays.  A zeroed or finished map is a no-op. */
void map_fini(map *mp);
/* Remove every entry, keep the allocations. */
void map_clear(map *mp);

/*
 * Set key to val: replace the value of the first entry with key, or add
 * one at the end of the order.  Returns 0, or one of:
 *   UTIL_ERR_FULL   the map holds max entries already (count it, refuse);
 *   UTIL_ERR_NOMEM  allocation failed.
 * On failure the map is unchanged.
 */
__attribute__((warn_unused_result))
int map_put(map *mp, uint64_t key, uint64_t val);

/* Add an entry even if key is present (for hashed keys whose owner tells
 * colliding entries apart).  Returns as map_put. */
__attribute__((warn_unused_result))
int map_add(map *mp, uint64_t key, uint64_t val);

/* Make room for n live entries in total, so that insertions up to n cannot
 * fail with UTIL_ERR_NOMEM.  Returns 0, UTIL_ERR_FULL (n > max) or
 * UTIL_ERR_NOMEM. */
__attribute__((warn_unused_result))
int map_reserve(map *mp, size_t n);

/* The value of the first entry with key, in *val (may be NULL).  Returns
 * true when found. */
bool map_get(const map *mp, uint64_t key, uint64_t *val);

/*
 * Visit the entries with key one by one: *pos starts at 0; each true
 * return stores a value in *val (may be NULL) and moves *pos on.  The map
 * must not change between the calls (a deletion shifts probe runs).
 */
bool map_probe(const map *mp, uint64_t key, size_t *pos, uint64_t *val);

/* Delete the first entry with key; with map_del_val() the entry with key
 * and val.  Returns 0 or UTIL_ERR_NOTFOUND.  Never allocates. */
int map_del(map *mp, uint64_t key);
int map_del_val(map *mp, uint64_t key, uint64_t val);

/*
 * Iterate in insertion order: *it starts at 0; each true return stores
 * the entry's key and value (either pointer may be NULL).  Deleting the
 * entry just returned is allowed; adding entries is not.
 */
bool map_next(const map *mp, size_t *it, uint64_t *key, uint64_t *val);

static inline size_t
map_cnt(const map *mp)
{
    return mp->cnt;
}

#endif
