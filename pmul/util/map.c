/*
 * NAME
 *	map - hash map from 64-bit keys to 64-bit values, insertion ordered
 * SYNOPSIS
 *	#include "pmul/util/map.h"
 * DESCRIPTION
 *	Two arrays.  ents holds the entries in insertion order (a deleted
 *	entry stays in place, marked dead, until a later insertion compacts
 *	the array); slots is an open-addressing index over the live
 *	entries, linear probing, load factor at most 1/2.  Deleting uses
 *	backward-shift deletion (Knuth 6.4 algorithm R), so probe runs never
 *	carry tombstones and a lookup costs O(1) expected however many
 *	deletions came before.
 *
 *	Keys are mixed with the 64-bit finaliser of MurmurHash3 before
 *	probing: callers' keys are often sequential (node IDs, MSIDs), which
 *	would otherwise fill neighbouring slots.
 * SECURITY
 *	Keys may come from peers.  The mixer is not keyed, so a peer who can
 *	choose many keys could lengthen probe runs; every caller caps the
 *	entries a peer can create (max), which bounds the damage.  No
 *	allocation is sized by anything but our own entry count.
 * DIAGNOSTICS
 *	UTIL_ERR_NOMEM, UTIL_ERR_FULL, UTIL_ERR_NOTFOUND; nothing is logged.
 * SEE ALSO
 *	arr(3), heap(3).
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "map.h"

#include <string.h>

#include "arr.h"

static inline uint64_t
mix(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ull;
    k ^= k >> 33;
    return k;
}

void
map_init(map *mp, const mem *m, size_t max)
{
    memset(mp, 0, sizeof(*mp));
    mp->m = m;
    mp->max = max == 0 || max > MAP_MAX_CNT ? MAP_MAX_CNT : max;
}

void
map_fini(map *mp)
{
    mem_free(mp->m, mp->ents);
    mem_free(mp->m, mp->slots);
    mp->ents = NULL;
    mp->slots = NULL;
    mp->ent_len = mp->ent_cap = mp->cnt = mp->slot_cnt = 0;
}

void
map_clear(map *mp)
{
    if (mp->slots != NULL)
        memset(mp->slots, 0, mp->slot_cnt * sizeof(*mp->slots));
    mp->ent_len = mp->cnt = 0;
}

/* Put entry index idx into the first free slot of its probe run. */
static void
slot_insert(uint32_t *slots, size_t slot_cnt, uint64_t key, size_t idx)
{
    size_t mask = slot_cnt - 1, i;

    for (i = (size_t)mix(key) & mask; slots[i] != 0; i = (i + 1) & mask)
        ;
    slots[i] = (uint32_t)(idx + 1);
}

/* Index the live entries into slots (all zero, slot_cnt of them). */
static void
slots_fill(const map *mp, uint32_t *slots, size_t slot_cnt)
{
    size_t i;

    for (i = 0; i < mp->ent_len; i++)
        if (mp->ents[i].live)
            slot_insert(slots, slot_cnt, mp->ents[i].key, i);
}

/* Drop the dead entries, keeping the order of the live ones, and rebuild
 * the index in place.  Allocates nothing, so it cannot fail. */
static void
compact(map *mp)
{
    size_t i, o = 0;

    for (i = 0; i < mp->ent_len; i++)
        if (mp->ents[i].live)
            mp->ents[o++] = mp->ents[i];
    mp->ent_len = o;
    memset(mp->slots, 0, mp->slot_cnt * sizeof(*mp->slots));
    slots_fill(mp, mp->slots, mp->slot_cnt);
}

/* Make the index big enough for n live entries (load at most 1/2). */
static int
slots_reserve(map *mp, size_t n)
{
    size_t want = mp->slot_cnt != 0 ? mp->slot_cnt : 16;
    uint32_t *slots;

    /* n <= MAP_MAX_CNT = 2^30, so want stays far below SIZE_MAX. */
    while (want / 2 < n)
        want *= 2;
    if (want == mp->slot_cnt)
        return 0;
    if ((slots = mem_calloc(mp->m, want, sizeof(*slots))) == NULL)
        return UTIL_ERR_NOMEM;
    slots_fill(mp, slots, want);
    mem_free(mp->m, mp->slots);
    mp->slots = slots;
    mp->slot_cnt = want;
    return 0;
}

int
map_reserve(map *mp, size_t n)
{
    int rc;

    if (n > mp->max)
        return UTIL_ERR_FULL;
    /* Dead entries still occupy ents until the next compaction. */
    if (n > mp->cnt && mp->ent_len - mp->cnt != 0 && mp->ent_len + (n - mp->cnt) > mp->ent_cap)
        compact(mp);
    if (n > mp->cnt &&
        (rc = arr_grow(mp->m, (void **)&mp->ents, &mp->ent_cap,
                       mp->ent_len + (n - mp->cnt), sizeof(*mp->ents), 0)) != 0)
        return rc;
    return slots_reserve(mp, n);
}

/* Slot index of the entry with key (and val when match_val), at or after
 * slot start in key's probe run, or SIZE_MAX. */
static size_t
find_slot(const map *mp, uint64_t key, bool match_val, uint64_t val, size_t start)
{
    size_t mask, i;
    uint32_t s;
    const map_ent *e;

    if (mp->slot_cnt == 0)
        return SIZE_MAX;
    mask = mp->slot_cnt - 1;
    for (i = start; (s = mp->slots[i]) != 0; i = (i + 1) & mask) {
        e = &mp->ents[s - 1];
        if (e->key == key && (!match_val || e->val == val))
            return i;
    }
    return SIZE_MAX;
}

static inline size_t
home(const map *mp, uint64_t key)
{
    return mp->slot_cnt != 0 ? (size_t)mix(key) & (mp->slot_cnt - 1) : 0;
}

static int
append(map *mp, uint64_t key, uint64_t val)
{
    map_ent *e;
    int rc;

    if (mp->cnt >= mp->max)
        return UTIL_ERR_FULL;
    /* Reuse dead room before growing: compaction when at least half of
     * the array is dead keeps it within twice the live count. */
    if (mp->ent_len == mp->ent_cap && (mp->ent_len - mp->cnt) * 2 >= mp->ent_len &&
        mp->ent_len != 0)
        compact(mp);
    if ((rc = arr_grow(mp->m, (void **)&mp->ents, &mp->ent_cap, mp->ent_len + 1,
                       sizeof(*mp->ents), 0)) != 0)
        return rc;
    /* The grown ents array is harmless if this fails: nothing is added. */
    if ((rc = slots_reserve(mp, mp->cnt + 1)) != 0)
        return rc;
    e = &mp->ents[mp->ent_len];
    e->key = key;
    e->val = val;
    e->live = true;
    slot_insert(mp->slots, mp->slot_cnt, key, mp->ent_len);
    mp->ent_len++;
    mp->cnt++;
    return 0;
}

int
map_put(map *mp, uint64_t key, uint64_t val)
{
    size_t i = find_slot(mp, key, false, 0, home(mp, key));

    if (i != SIZE_MAX) {
        mp->ents[mp->slots[i] - 1].val = val;
        return 0;
    }
    return append(mp, key, val);
}

int
map_add(map *mp, uint64_t key, uint64_t val)
{
    return append(mp, key, val);
}

bool
map_get(const map *mp, uint64_t key, uint64_t *val)
{
    size_t i = find_slot(mp, key, false, 0, home(mp, key));

    if (i == SIZE_MAX)
        return false;
    if (val != NULL)
        *val = mp->ents[mp->slots[i] - 1].val;
    return true;
}

bool
map_probe(const map *mp, uint64_t key, size_t *pos, uint64_t *val)
{
    size_t start, i;

    if (mp->slot_cnt == 0)
        return false;
    /* *pos is 0 before the first call, else the last slot found + 1. */
    start = *pos == 0 ? home(mp, key) : *pos & (mp->slot_cnt - 1);
    if ((i = find_slot(mp, key, false, 0, start)) == SIZE_MAX)
        return false;
    if (val != NULL)
        *val = mp->ents[mp->slots[i] - 1].val;
    /* Store the slot after i, offset by the slot count so that it is
     * never 0 (which means "start"). */
    *pos = ((i + 1) & (mp->slot_cnt - 1)) + mp->slot_cnt;
    return true;
}

/* Remove the entry in slot i: mark it dead, then shift later members of
 * the probe run back so that no run has a hole. */
static void
del_slot(map *mp, size_t i)
{
    size_t mask = mp->slot_cnt - 1, j, k;

    mp->ents[mp->slots[i] - 1].live = false;
    mp->cnt--;
    for (j = i;;) {
        j = (j + 1) & mask;
        if (mp->slots[j] == 0)
            break;
        k = home(mp, mp->ents[mp->slots[j] - 1].key);
        /* The entry in j may move to i only if its home is not in the
         * cyclic range (i, j]. */
        if (i <= j ? (k > i && k <= j) : (k > i || k <= j))
            continue;
        mp->slots[i] = mp->slots[j];
        i = j;
    }
    mp->slots[i] = 0;
}

int
map_del(map *mp, uint64_t key)
{
    size_t i = find_slot(mp, key, false, 0, home(mp, key));

    if (i == SIZE_MAX)
        return UTIL_ERR_NOTFOUND;
    del_slot(mp, i);
    return 0;
}

int
map_del_val(map *mp, uint64_t key, uint64_t val)
{
    size_t i = find_slot(mp, key, true, val, home(mp, key));

    if (i == SIZE_MAX)
        return UTIL_ERR_NOTFOUND;
    del_slot(mp, i);
    return 0;
}

bool
map_next(const map *mp, size_t *it, uint64_t *key, uint64_t *val)
{
    size_t i;

    for (i = *it; i < mp->ent_len; i++) {
        if (!mp->ents[i].live)
            continue;
        if (key != NULL)
            *key = mp->ents[i].key;
        if (val != NULL)
            *val = mp->ents[i].val;
        *it = i + 1;
        return true;
    }
    *it = mp->ent_len;
    return false;
}
