/*
 * NAME
 *	dump_early - bounded buffer of early Data_PDUs for pmul-dump
 * SYNOPSIS
 *	#include "tools/pmul-dump/dump_early.h"
 * DESCRIPTION
 *	A ring of entries in arrival order, each with its own copy of the
 *	datagram, and a map from (Source_ID, MSID) to the entries of that
 *	message (map_add: several per key).  Entries are numbered; the ring
 *	slot of number n is n % max_ents, so the oldest is always the next
 *	to be overwritten.  Lookups cost the entries of one message, not the
 *	whole ring.
 * SECURITY
 *	Holds copies of untrusted datagrams, never more than max_ents of
 *	them nor more than max_bytes octets.
 * DIAGNOSTICS
 *	Counters only (dump_early_stats).
 * SEE ALSO
 *	pmul-dump(1), dump_nodes(3).
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "tools/pmul-dump/dump_early.h"

#include <stdlib.h>
#include <string.h>

#include "pmul/util/map.h"
#include "pmul/util/mem.h"

typedef struct slot {
    dump_early_ent e;           /* e.pkt == copy; NULL: empty */
    uint8_t *copy;              /* owned */
    uint64_t no;                /* entry number */
} slot;

struct dump_early {
    slot *ring;
    size_t max_ents, max_bytes;
    uint64_t next_no, old_no;   /* next number; oldest live number */
    map by_msg;                 /* src << 32 | msid -> entry number */
    dump_early_stats st;
};

static uint64_t
key(uint32_t src, uint32_t msid)
{
    return (uint64_t)src << 32 | msid;
}

int
dump_early_new(dump_early **out, size_t max_ents, size_t max_bytes)
{
    dump_early *b;

    *out = NULL;
    if (max_ents == 0 || max_ents > MAP_MAX_CNT)
        return -1;
    if ((b = mem_calloc(NULL, 1, sizeof(*b))) == NULL)
        return -1;
    if ((b->ring = mem_calloc(NULL, max_ents, sizeof(*b->ring))) == NULL) {
        mem_free(NULL, b);
        return -1;
    }
    b->max_ents = max_ents;
    b->max_bytes = max_bytes;
    map_init(&b->by_msg, NULL, max_ents);
    *out = b;
    return 0;
}

void
dump_early_free(dump_early *b)
{
    size_t i;

    if (b == NULL)
        return;
    for (i = 0; i < b->max_ents; i++)
        mem_free(NULL, b->ring[i].copy);
    mem_free(NULL, b->ring);
    map_fini(&b->by_msg);
    mem_free(NULL, b);
}

/* Drop the oldest entry. */
static void
drop_oldest(dump_early *b)
{
    slot *s = &b->ring[b->old_no % b->max_ents];

    if (s->e.pkt != NULL) {
        (void)map_del_val(&b->by_msg, key(s->e.src, s->e.msid), s->no);
        b->st.bytes -= s->e.len;
        mem_free(NULL, s->copy);
        s->copy = NULL;
        s->e.pkt = NULL;
        b->st.dropped++;
    }
    b->old_no++;
}

static int
cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

void
dump_early_put(dump_early *b, const dump_early_ent *e, const pmul_dest_entry *dests,
               size_t dest_cnt)
{
    slot *s;
    uint8_t *copy;
    uint32_t *ids = NULL;
    size_t i, at = (e->len + 3u) & ~(size_t)3u;     /* the IDs go after the datagram */

    if (e->len > b->max_bytes) {
        b->st.too_big++;
        return;
    }
    while (b->old_no < b->next_no &&
           (b->next_no - b->old_no >= b->max_ents || b->st.bytes + e->len > b->max_bytes))
        drop_oldest(b);
    /* e->len <= max_bytes and a PDU lists fewer than 65536: no overflow. */
    if (dest_cnt > UINT16_MAX)
        dest_cnt = UINT16_MAX;
    copy = mem_alloc(NULL, dest_cnt != 0 ? at + dest_cnt * sizeof(*ids)
                                         : (e->len != 0 ? e->len : 1));
    if (copy == NULL) {
        b->st.dropped++;
        return;
    }
    memcpy(copy, e->pkt, e->len);
    if (dest_cnt != 0) {
        ids = (uint32_t *)(void *)(copy + at);
        for (i = 0; i < dest_cnt; i++)
            ids[i] = dests[i].dest_id;
        qsort(ids, dest_cnt, sizeof(*ids), cmp_u32);
    }
    s = &b->ring[b->next_no % b->max_ents];
    s->e = *e;
    s->e.pkt = copy;
    s->e.ids = ids;
    s->e.id_cnt = dest_cnt;
    s->copy = copy;
    s->no = b->next_no;
    if (map_add(&b->by_msg, key(e->src, e->msid), s->no) != 0) {
        mem_free(NULL, copy);
        s->copy = NULL;
        s->e.pkt = NULL;
        b->st.dropped++;
        return;
    }
    b->next_no++;
    b->st.kept++;
    b->st.bytes += e->len;
    if (b->st.bytes > b->st.peak_bytes)
        b->st.peak_bytes = b->st.bytes;
}

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

size_t
dump_early_each(dump_early *b, uint32_t src, uint32_t msid,
                void (*fn)(void *arg, const dump_early_ent *e), void *arg)
{
    uint64_t small[64], *nos = small, v;
    size_t pos = 0, n = 0, cnt = 0, i, done = 0;

    while (map_probe(&b->by_msg, key(src, msid), &pos, &v))
        cnt++;
    if (cnt == 0)
        return 0;
    if (cnt > 64 && (nos = mem_calloc(NULL, cnt, sizeof(*nos))) == NULL) {
        b->st.replay_failed++;
        return 0;
    }
    pos = 0;
    while (n < cnt && map_probe(&b->by_msg, key(src, msid), &pos, &v))
        nos[n++] = v;
    /* Oldest first: the order a receiver got them in. */
    qsort(nos, n, sizeof(nos[0]), cmp_u64);
    for (i = 0; i < n; i++) {
        const slot *s = &b->ring[nos[i] % b->max_ents];

        if (s->e.pkt == NULL || s->no != nos[i])
            continue;
        fn(arg, &s->e);
        b->st.replayed++;
        done++;
    }
    if (nos != small)
        mem_free(NULL, nos);
    return done;
}

void
dump_early_stats_get(const dump_early *b, dump_early_stats *out)
{
    *out = b->st;
}
