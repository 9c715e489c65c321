/*
 * NAME
 *	dump_msg - per-message accounting of a P_MUL capture (pmul-dump)
 * SYNOPSIS
 *	#include "tools/pmul-dump/dump_msg.h"
 * DESCRIPTION
 *	Answers the questions an operator asks of a radio capture: did each
 *	message get through, which Data_PDUs never made it onto the air,
 *	how much was sent again, which destination acknowledged what and
 *	when, and what it all cost in octets.
 *
 *	Messages are keyed by (Source_ID, MSID) (docs/wire.md 5, item 2) in
 *	a map kept in first-seen order (pmul/util/map.h), so the report
 *	follows the capture.  What is counted:
 *
 *	  - Data_PDUs: the sequence numbers seen, as a sorted list while
 *	    there are few of them (a flood of random numbers costs 2 octets
 *	    each, not an 8 KiB bitmap per message), then as a bitmap sized
 *	    by the highest number seen (at most 8 KiB); a number seen again is a
 *	    retransmission.  The message is "complete" on the air once
 *	    every number 1..Total_Number_of_PDUs was seen; that moment gives
 *	    the time to complete.
 *	  - Address-family PDUs: Total, priority, expiry and the destination
 *	    list (with Message_Sequence_Number).  A first (or only) part seen
 *	    again is a retransmission round; none listed is the Ack-Ack.
 *	  - Ack_PDUs: for each ACK_Info_Entry (also one that names the
 *	    acknowledging node itself as Source_ID, as one Java peer does:
 *	    it counts for the message of that MSID that lists the node),
 *	    the acknowledging node's latest status (complete, or how many missing) and when it first
 *	    said complete.  An Ack_PDU's octets count for every message it
 *	    acknowledges.
 *	  - Discard_Message_PDU.
 *	  - Deliveries and receiver-side discards, from the engines.
 *
 *	Octets "on the air" are each PDU's UDP payload plus its IP and UDP
 *	headers, as the capture shows them.
 *
 *	Bounded memory: the records are on a list in order of last use.
 *	When a new message would exceed max_msgs records, or the octets all
 *	records hold exceed max_bytes, the least recently used record is
 *	evicted: its report is written at once to the eviction sink, marked
 *	"evicted", and it is freed.  A later PDU of the same message starts a
 *	new record (its report then covers only what came after).  A hostile
 *	capture therefore costs at most max_bytes here, whatever it names,
 *	and a normal capture below the caps reports exactly as before.
 * SECURITY
 *	Works on decoded PDUs only.  Everything a capture can grow is
 *	capped: records (max_msgs) and their octets (max_bytes),
 *	destinations per message (max_dests), the bitmap (65536 bits).
 *	Nothing is allocated by a count a PDU states.  The search for an
 *	Ack entry that names its sender looks at the 256 most recently used
 *	records only, so a flood of them costs bounded time.
 * DIAGNOSTICS
 *	Returns -1 when memory runs out; the report says how many PDUs were
 *	not accounted, and how many records were evicted.
 * SEE ALSO
 *	pmul-dump(1), dump_vnode(3), docs/tools.md.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "tools/pmul-dump/dump_msg.h"

#include <inttypes.h>
#include <string.h>

#include "pmul/util/map.h"
#include "pmul/util/mem.h"
#include "tools/capture/dump_fmt.h"

#define NONE SIZE_MAX
/* Records searched for an Ack entry naming its own sender. */
#define SELF_NAMED_SCAN 256u
/* Largest max_dests given the scratch index of destinations. */
#define DIX_MAX_DESTS 65536u

enum ack_state { ACK_NONE = 0, ACK_MISSING, ACK_COMPLETE };

typedef struct dest {
    uint32_t id;
    uint32_t msg_seq_no;
    bool listed;                /* named in an Address-family PDU */
    uint8_t ack;                /* enum ack_state, latest */
    uint32_t ack_missing;       /* missing count in the latest Ack */
    uint32_t acks;              /* Ack entries received for the message */
    uint64_t acked_us;          /* first "complete" Ack; 0: none */
    uint64_t delivered_us;      /* receiver engine delivered; 0: no */
    bool rx_discarded;
} dest;

typedef struct dmsg {
    uint32_t src, msid;
    uint64_t first_us, last_us;
    uint64_t complete_us;       /* all Data_PDUs seen; 0: not yet */
    bool have_total;
    uint16_t total;
    uint8_t prio;
    uint32_t expiry;
    uint32_t data_pdus, data_retx, addr_pdus, addr_rounds;
    uint32_t ack_pdus;
    bool ackack, discard;
    uint64_t pdu_bytes, air_bytes;
    uint8_t *seen;              /* bitmap, seen_len octets; NULL: sparse */
    size_t seen_len;
    uint16_t *sparse;           /* while seen is NULL: seen_cnt numbers,
                                 * ascending */
    size_t sparse_cap;
    uint32_t seen_cnt;          /* distinct sequence numbers */
    uint16_t max_seq;
    dest *dests;
    size_t dest_cnt, dest_size;
    size_t dest_overflow;
    bool delivered;
    size_t payload_len;
    uint64_t payload_fnv;
    char extract[32];
    char *files;                /* owned */
    uint32_t *route;            /* cache of dump_msgs_route(), owned */
    size_t route_cnt, route_cap;
    size_t route_upto;          /* dests[] looked at for it */
    uint64_t route_epoch;       /* its epoch; 0: stale */
    bool live;                  /* false: a free slot */
    size_t prev, next;          /* use order (or free list: next) */
    size_t bytes;               /* octets charged to max_bytes */
} dmsg;

struct dump_msgs {
    dmsg *msgs;                 /* slots */
    size_t cnt, size, max;      /* live records, slots, cap */
    size_t free_head;
    size_t head, tail;          /* most / least recently used */
    map ids;                    /* src << 32 | msid -> slot, first-seen order */
    size_t bytes, max_bytes;
    size_t max_dests;
    size_t overflow;
    /* Eviction: where reports of evicted records go. */
    buf *ev_out;
    bool ev_json, ev_report;
    dump_msgs_totals gone;      /* totals of evicted records */
    size_t created;
    /* Scratch index of one record's destinations (id -> position), for
     * Address-family PDUs of long lists: open addressing, a slot valid
     * when its stamp is the current one, so it is never cleared. */
    struct dix { uint32_t stamp, id, pos; } *dix;
    size_t dix_size;            /* power of two, twice max_dests; 0: none */
    uint32_t dix_stamp;
};

static uint64_t
key(uint32_t src, uint32_t msid)
{
    return (uint64_t)src << 32 | msid;
}

int
dump_msgs_new(dump_msgs **out, size_t max_msgs, size_t max_dests, size_t max_bytes)
{
    dump_msgs *m;

    *out = NULL;
    if (max_msgs == 0 || max_msgs > MAP_MAX_CNT)
        return -1;
    if ((m = mem_calloc(NULL, 1, sizeof(*m))) == NULL)
        return -1;
    m->max = max_msgs;
    m->max_dests = max_dests;
    m->max_bytes = max_bytes;
    m->free_head = m->head = m->tail = NONE;
    map_init(&m->ids, NULL, max_msgs);
    /* Without it long lists are only slower (get_dest()). */
    for (m->dix_size = 16; m->dix_size < 2 * max_dests && max_dests <= DIX_MAX_DESTS;)
        m->dix_size *= 2;
    if (max_dests > DIX_MAX_DESTS ||
        (m->dix = mem_calloc(NULL, m->dix_size, sizeof(*m->dix))) == NULL)
        m->dix_size = 0;
    *out = m;
    return 0;
}

void
dump_msgs_set_evict_sink(dump_msgs *m, buf *out, bool json, bool report)
{
    m->ev_out = out;
    m->ev_json = json;
    m->ev_report = report;
}

static void
release(dmsg *d)
{
    mem_free(NULL, d->seen);
    mem_free(NULL, d->sparse);
    mem_free(NULL, d->route);
    mem_free(NULL, d->dests);
    mem_free(NULL, d->files);
    d->seen = NULL;
    d->sparse = NULL;
    d->route = NULL;
    d->dests = NULL;
    d->files = NULL;
}

void
dump_msgs_free(dump_msgs *m)
{
    size_t i;

    if (m == NULL)
        return;
    for (i = 0; i < m->size; i++)
        if (m->msgs[i].live)
            release(&m->msgs[i]);
    mem_free(NULL, m->msgs);
    map_fini(&m->ids);
    mem_free(NULL, m->dix);
    mem_free(NULL, m);
}

static dmsg *
find(const dump_msgs *m, uint32_t src, uint32_t msid)
{
    uint64_t v;

    return map_get(&m->ids, key(src, msid), &v) ? &m->msgs[v] : NULL;
}

static void
lru_unlink(dump_msgs *m, dmsg *d)
{
    if (d->prev != NONE)
        m->msgs[d->prev].next = d->next;
    else
        m->head = d->next;
    if (d->next != NONE)
        m->msgs[d->next].prev = d->prev;
    else
        m->tail = d->prev;
}

/* Make d the most recently used record. */
static void
lru_front(dump_msgs *m, dmsg *d)
{
    size_t i = (size_t)(d - m->msgs);

    if (m->head == i)
        return;
    if (d->prev != NONE || d->next != NONE || m->tail == i)
        lru_unlink(m, d);
    d->prev = NONE;
    d->next = m->head;
    if (m->head != NONE)
        m->msgs[m->head].prev = i;
    m->head = i;
    if (m->tail == NONE)
        m->tail = i;
}

/* Charge (or, with a negative delta, release) octets of d. */
static void
charge(dump_msgs *m, dmsg *d, size_t old_bytes, size_t new_bytes)
{
    m->bytes = m->bytes - old_bytes + new_bytes;
    d->bytes = d->bytes - old_bytes + new_bytes;
}

static int report_json(buf *b, const dmsg *d, bool evicted);
static int report_text(buf *b, const dmsg *d, bool evicted);

/* Report and free the least recently used record unless it is keep.
 * Returns false when there is nothing to evict. */
static bool
evict_one(dump_msgs *m, const dmsg *keep)
{
    size_t i = m->tail;
    dmsg *d;

    if (i == NONE || &m->msgs[i] == keep)
        return false;
    d = &m->msgs[i];
    if (m->ev_report && m->ev_out != NULL)
        (void)(m->ev_json ? report_json(m->ev_out, d, true) : report_text(m->ev_out, d, true));
    m->gone.evicted++;
    if (d->complete_us != 0)
        m->gone.complete++;
    if (d->delivered)
        m->gone.delivered++;
    lru_unlink(m, d);
    (void)map_del(&m->ids, key(d->src, d->msid));
    m->bytes -= d->bytes;
    release(d);
    d->live = false;
    d->next = m->free_head;
    m->free_head = i;
    m->cnt--;
    return true;
}

/* Evict until the octets fit the budget again (never keep itself). */
static void
enforce_bytes(dump_msgs *m, const dmsg *keep)
{
    while (m->max_bytes != 0 && m->bytes > m->max_bytes && evict_one(m, keep))
        ;
}

/* Find or create, as the most recently used; NULL when memory says no. */
static dmsg *
get(dump_msgs *m, uint32_t src, uint32_t msid, uint64_t ts_us)
{
    dmsg *d = find(m, src, msid);
    size_t i;

    if (d != NULL) {
        lru_front(m, d);
        return d;
    }
    if (m->cnt >= m->max)
        (void)evict_one(m, NULL);
    if (m->free_head == NONE) {
        size_t ns = m->size ? m->size * 2 : 64;
        dmsg *nm;

        if (ns > m->max)
            ns = m->max;
        if (ns <= m->size || ns > SIZE_MAX / sizeof(*nm)) {
            m->overflow++;
            return NULL;
        }
        nm = mem_realloc(NULL, m->msgs, ns * sizeof(*nm));
        if (nm == NULL) {
            m->overflow++;
            return NULL;
        }
        m->msgs = nm;
        for (i = m->size; i < ns; i++) {
            m->msgs[i].live = false;
            m->msgs[i].next = i + 1 < ns ? i + 1 : NONE;
        }
        m->free_head = m->size;
        m->size = ns;
    }
    i = m->free_head;
    if (map_put(&m->ids, key(src, msid), i) != 0) {
        m->overflow++;
        return NULL;
    }
    d = &m->msgs[i];
    m->free_head = d->next;
    memset(d, 0, sizeof(*d));
    d->live = true;
    d->prev = d->next = NONE;
    d->src = src;
    d->msid = msid;
    d->first_us = ts_us;
    d->last_us = ts_us;
    lru_front(m, d);
    charge(m, d, 0, sizeof(*d));
    m->cnt++;
    m->created++;
    return d;
}

/* Append id to d's destinations; NULL past max_dests or out of memory. */
static dest *
add_dest(dump_msgs *m, dmsg *d, uint32_t id)
{
    if (d->dest_cnt >= m->max_dests) {
        d->dest_overflow++;
        return NULL;
    }
    if (d->dest_cnt == d->dest_size) {
        size_t ns = d->dest_size ? d->dest_size * 2 : 4;
        dest *nd = mem_realloc(NULL, d->dests, ns * sizeof(*nd));

        if (nd == NULL)
            return NULL;
        charge(m, d, d->dest_size * sizeof(*nd), ns * sizeof(*nd));
        d->dests = nd;
        d->dest_size = ns;
    }
    memset(&d->dests[d->dest_cnt], 0, sizeof(dest));
    d->dests[d->dest_cnt].id = id;
    return &d->dests[d->dest_cnt++];
}

static dest *
get_dest(dump_msgs *m, dmsg *d, uint32_t id)
{
    size_t i;

    for (i = 0; i < d->dest_cnt; i++)
        if (d->dests[i].id == id)
            return &d->dests[i];
    return add_dest(m, d, id);
}

static size_t
dix_home(const dump_msgs *m, uint32_t id)
{
    return (size_t)((id * 0x9E3779B1u) >> 7) & (m->dix_size - 1);
}

/* The scratch slot of id: its entry, or the free slot where it goes.  The
 * table holds at most max_dests of its 2 * max_dests slots, so a free
 * one is always found. */
static struct dix *
dix_slot(dump_msgs *m, uint32_t id)
{
    size_t i = dix_home(m, id);

    while (m->dix[i].stamp == m->dix_stamp && m->dix[i].id != id)
        i = (i + 1) & (m->dix_size - 1);
    return &m->dix[i];
}

/* Index d's destinations in the scratch table (forgetting the last
 * record's); false when there is no table. */
static bool
dix_build(dump_msgs *m, const dmsg *d)
{
    struct dix *x;
    size_t i;

    if (m->dix_size == 0)
        return false;
    if (++m->dix_stamp == 0) {
        /* Wrapped: stamps of old entries could come back. */
        memset(m->dix, 0, m->dix_size * sizeof(*m->dix));
        m->dix_stamp = 1;
    }
    for (i = 0; i < d->dest_cnt; i++) {
        x = dix_slot(m, d->dests[i].id);
        x->stamp = m->dix_stamp;
        x->id = d->dests[i].id;
        x->pos = (uint32_t)i;
    }
    return true;
}

/* get_dest() through the table dix_build() made for d. */
static dest *
dix_get_dest(dump_msgs *m, dmsg *d, uint32_t id)
{
    struct dix *x = dix_slot(m, id);
    dest *ds;

    if (x->stamp == m->dix_stamp)
        return &d->dests[x->pos];
    if ((ds = add_dest(m, d, id)) != NULL) {
        x->stamp = m->dix_stamp;
        x->id = id;
        x->pos = (uint32_t)(ds - d->dests);
    }
    return ds;
}

/* Sequence numbers kept as a sorted list up to this many, then a bitmap. */
#define SPARSE_MAX 64u

/* Where seq is, or would go, in the sparse list. */
static size_t
sparse_pos(const dmsg *d, uint16_t seq)
{
    size_t lo = 0, hi = d->seen_cnt, mid;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        if (d->sparse[mid] < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Grow the bitmap to cover seq; 0 or -1 on no memory. */
static int
bitmap_cover(dump_msgs *m, dmsg *d, uint16_t seq)
{
    size_t need = (size_t)seq / 8u + 1u, ns;
    uint8_t *n;

    if (need <= d->seen_len)
        return 0;
    /* Grow to the next power of two (at most 8 KiB) to keep the number of
     * reallocations logarithmic. */
    ns = d->seen_len ? d->seen_len : 8;
    while (ns < need)
        ns *= 2;
    n = mem_realloc(NULL, d->seen, ns);
    if (n == NULL)
        return -1;
    memset(n + d->seen_len, 0, ns - d->seen_len);
    charge(m, d, d->seen_len, ns);
    d->seen = n;
    d->seen_len = ns;
    return 0;
}

/* Mark seq seen; returns 1 if new, 0 if seen before, -1 on no memory. */
static int
mark_seen(dump_msgs *m, dmsg *d, uint16_t seq)
{
    size_t i;

    if (d->seen == NULL) {
        i = sparse_pos(d, seq);
        if (i < d->seen_cnt && d->sparse[i] == seq)
            return 0;
        if (d->seen_cnt < SPARSE_MAX) {
            if (d->seen_cnt == d->sparse_cap) {
                size_t nc = d->sparse_cap ? d->sparse_cap * 2 : 4;
                uint16_t *ns = mem_realloc(NULL, d->sparse, nc * sizeof(*ns));

                if (ns == NULL)
                    return -1;
                charge(m, d, d->sparse_cap * sizeof(*ns), nc * sizeof(*ns));
                d->sparse = ns;
                d->sparse_cap = nc;
            }
            memmove(&d->sparse[i + 1], &d->sparse[i], (d->seen_cnt - i) * sizeof(*d->sparse));
            d->sparse[i] = seq;
            return 1;
        }
        /* Dense enough: the bitmap costs less from now on. */
        if (bitmap_cover(m, d, seq > d->sparse[d->seen_cnt - 1] ? seq
                                   : d->sparse[d->seen_cnt - 1]) != 0)
            return -1;
        for (i = 0; i < d->seen_cnt; i++)
            d->seen[d->sparse[i] / 8u] |= (uint8_t)(1u << (d->sparse[i] % 8u));
        charge(m, d, d->sparse_cap * sizeof(*d->sparse), 0);
        mem_free(NULL, d->sparse);
        d->sparse = NULL;
        d->sparse_cap = 0;
    }
    if (bitmap_cover(m, d, seq) != 0)
        return -1;
    if (d->seen[seq / 8u] & (1u << (seq % 8u)))
        return 0;
    d->seen[seq / 8u] |= (uint8_t)(1u << (seq % 8u));
    return 1;
}

static bool
is_seen(const dmsg *d, uint32_t seq)
{
    size_t i;

    if (d->seen == NULL) {
        if (seq > UINT16_MAX)
            return false;
        i = sparse_pos(d, (uint16_t)seq);
        return i < d->seen_cnt && d->sparse[i] == seq;
    }
    return seq / 8u < d->seen_len && (d->seen[seq / 8u] & (1u << (seq % 8u)));
}

/* Returns true when d became complete just now. */
static bool
check_complete(dmsg *d, uint64_t ts_us)
{
    if (d->complete_us == 0 && d->have_total && d->total > 0 &&
        d->seen_cnt >= d->total) {
        uint32_t s;

        for (s = 1; s <= d->total; s++)
            if (!is_seen(d, s))
                return false;
        d->complete_us = ts_us;
        return true;
    }
    return false;
}

static void
touch(dmsg *d, uint64_t ts_us, size_t pdu_len, size_t air_len)
{
    if (ts_us > d->last_us)
        d->last_us = ts_us;
    d->pdu_bytes += pdu_len;
    d->air_bytes += air_len;
}

/*
 * The message an Ack entry means when it names the acknowledging node
 * itself as Source_ID (the deviation of one Java implementation,
 * docs/decisions.md): a message with that MSID that lists the acker as a
 * destination.  NULL when there is none, and the entry is then taken
 * literally.  A linear scan, but only for such entries, and only over the
 * SELF_NAMED_SCAN (256) most recently used records: the message acknowledged is
 * a recent one, and a flood of such entries must not cost a scan of every
 * record each.
 */
static dmsg *
self_named(dump_msgs *m, uint32_t acker, uint32_t msid)
{
    size_t i, k, n;

    for (i = m->head, n = 0; i != NONE && n < SELF_NAMED_SCAN; i = m->msgs[i].next, n++) {
        dmsg *d = &m->msgs[i];

        if (d->msid != msid || d->src == acker)
            continue;
        for (k = 0; k < d->dest_cnt; k++)
            if (d->dests[k].id == acker && d->dests[k].listed)
                return d;
    }
    return NULL;
}

int
dump_msgs_pdu(dump_msgs *m, uint64_t ts_us, const pmul_pdu *p, size_t pdu_len,
              size_t air_len)
{
    dmsg *d;
    dest *ds;
    uint16_t i;
    bool indexed;
    int r;

    if (p->type == PMUL_PDU_ACK) {
        for (i = 0; i < p->u.ack.entry_cnt; i++) {
            const pmul_ack_entry *e = &p->u.ack.entries[i];

            d = NULL;
            if (e->source_id == p->source_id && find(m, e->source_id, e->msid) == NULL)
                d = self_named(m, p->source_id, e->msid);
            if (d == NULL)
                d = get(m, e->source_id, e->msid, ts_us);
            if (d == NULL)
                continue;
            touch(d, ts_us, pdu_len, air_len);
            d->ack_pdus++;
            ds = get_dest(m, d, p->source_id);
            if (ds == NULL)
                continue;
            ds->acks++;
            if (e->missing_cnt == 0) {
                ds->ack = ACK_COMPLETE;
                ds->ack_missing = 0;
                if (ds->acked_us == 0)
                    ds->acked_us = ts_us;
            } else {
                ds->ack = ACK_MISSING;
                ds->ack_missing = pmul_missing_count(e->missing, e->missing_cnt);
            }
        }
        enforce_bytes(m, m->head != NONE ? &m->msgs[m->head] : NULL);
        return 0;
    }
    /* Group management PDUs name a message that uses the group but carry
     * none of its content: they are not accounted to it. */
    if (p->type == PMUL_PDU_REQUEST || p->type == PMUL_PDU_REJECT ||
        p->type == PMUL_PDU_RELEASE || p->type == PMUL_PDU_ANNOUNCE)
        return 0;

    d = get(m, p->source_id, p->msid, ts_us);
    if (d == NULL)
        return -1;
    touch(d, ts_us, pdu_len, air_len);
    d->prio = p->priority;

    switch (p->type) {
    case PMUL_PDU_DATA:
        d->data_pdus++;
        r = mark_seen(m, d, p->u.data.seq);
        if (r < 0)
            return -1;
        if (r == 0)
            d->data_retx++;
        else
            d->seen_cnt++;
        if (p->u.data.seq > d->max_seq)
            d->max_seq = p->u.data.seq;
        break;
    case PMUL_PDU_DISCARD:
        d->discard = true;
        break;
    default:                            /* the Address family */
        d->addr_pdus++;
        if (!(p->map & PMUL_MAP_NOT_FIRST))
            d->addr_rounds++;
        d->have_total = true;
        d->total = p->u.address.total_pdus;
        d->expiry = p->u.address.expiry_time;
        if (p->u.address.dest_cnt == 0)
            d->ackack = true;
        /* A list of hundreds, looked up one by one, cost a scan of the
         * record's list each: a hash index instead when the PDU's is long. */
        indexed = p->u.address.dest_cnt > 8 && dix_build(m, d);
        for (i = 0; i < p->u.address.dest_cnt; i++) {
            ds = indexed ? dix_get_dest(m, d, p->u.address.dests[i].dest_id)
                         : get_dest(m, d, p->u.address.dests[i].dest_id);
            if (ds == NULL)
                continue;
            /* A destination known from Acks only and listed now is not
             * where the routing cache looks for news (past route_upto):
             * the cache is stale then. */
            if (!ds->listed && (size_t)(ds - d->dests) < d->route_upto)
                d->route_epoch = 0;
            ds->listed = true;
            ds->msg_seq_no = p->u.address.dests[i].msg_seq_no;
        }
        break;
    }
    r = check_complete(d, ts_us) ? 1 : 0;
    enforce_bytes(m, d);
    return r;
}

bool
dump_msgs_delivered(dump_msgs *m, uint32_t node, uint64_t t_us, uint32_t src,
                    uint32_t msid, size_t len, uint64_t fnv)
{
    dmsg *d = get(m, src, msid, t_us);
    dest *ds;
    bool first;

    if (d == NULL)
        return false;
    first = !d->delivered;
    d->delivered = true;
    d->payload_len = len;
    d->payload_fnv = fnv;
    ds = get_dest(m, d, node);
    if (ds != NULL && ds->delivered_us == 0)
        ds->delivered_us = t_us;
    enforce_bytes(m, d);
    return first;
}

void
dump_msgs_rx_discarded(dump_msgs *m, uint32_t node, uint32_t src, uint32_t msid)
{
    dmsg *d = find(m, src, msid);
    dest *ds;

    if (d == NULL)
        return;
    ds = get_dest(m, d, node);
    if (ds != NULL)
        ds->rx_discarded = true;
}

void
dump_msgs_extracted(dump_msgs *m, uint32_t src, uint32_t msid,
                    const char *result, const char *files)
{
    dmsg *d = find(m, src, msid);
    size_t n;

    if (d == NULL)
        return;
    n = strlen(result);
    if (n >= sizeof(d->extract))
        n = sizeof(d->extract) - 1;
    memcpy(d->extract, result, n);
    d->extract[n] = '\0';
    if (d->files != NULL)
        charge(m, d, strlen(d->files) + 1, 0);
    mem_free(NULL, d->files);
    d->files = NULL;
    if (files != NULL) {
        n = strlen(files);
        d->files = mem_alloc(NULL, n + 1);
        if (d->files != NULL)
            memcpy(d->files, files, n + 1);
        charge(m, d, 0, n + 1);
    }
}

/* Seconds from the message's first PDU to t, or "-" / null. */
static int
put_rel(buf *b, const dmsg *d, uint64_t t_us, bool json)
{
    uint64_t dt;

    if (t_us == 0)
        return buf_append_str(b, json ? "null" : "-");
    dt = t_us >= d->first_us ? t_us - d->first_us : 0;
    return buf_printf(b, "%" PRIu64 ".%06" PRIu64, dt / 1000000u, dt % 1000000u);
}

/* The lowest number >= from seen, or total + 1 if none up to total. */
static uint32_t
next_seen(const dmsg *d, uint32_t from, uint32_t total)
{
    size_t i;
    uint32_t s;

    if (d->seen == NULL) {
        i = from <= UINT16_MAX ? sparse_pos(d, (uint16_t)from) : d->seen_cnt;
        return i < d->seen_cnt && d->sparse[i] <= total ? d->sparse[i] : total + 1u;
    }
    for (s = from; s <= total && s / 8u < d->seen_len; s++) {
        if (s % 8u == 0 && d->seen[s / 8u] == 0) {
            s += 7u;                    /* a whole empty octet */
            continue;
        }
        if (d->seen[s / 8u] & (1u << (s % 8u)))
            return s;
    }
    return total + 1u;
}

/* Missing Data_PDUs: ranges of 1..total never seen on the air. */
static int
put_missing(buf *b, const dmsg *d, bool json)
{
    uint32_t s, lo = 0;
    bool first = true;
    int rc = 0;

    if (!d->have_total)
        return buf_append_str(b, json ? "null" : "unknown");
    if (json)
        rc = buf_append_str(b, "[");
    for (s = 1; rc == 0 && s <= (uint32_t)d->total + 1u; s++) {
        bool miss = s <= d->total && !is_seen(d, s);

        if (miss && lo == 0) {
            /* Jump over the gap: the report of a message with Total
             * 65535 and a handful of PDUs costs its PDUs, not 65535
             * lookups. */
            lo = s;
            s = next_seen(d, s, d->total) - 1u;
            continue;
        }
        if (!miss && lo != 0) {
            if (json)
                rc = buf_printf(b, "%s[%" PRIu32 ",%" PRIu32 "]", first ? "" : ",", lo, s - 1);
            else if (lo == s - 1)
                rc = buf_printf(b, "%s%" PRIu32, first ? "" : ",", lo);
            else
                rc = buf_printf(b, "%s%" PRIu32 "-%" PRIu32, first ? "" : ",", lo, s - 1);
            first = false;
            lo = 0;
        }
    }
    if (rc == 0 && json)
        rc = buf_append_str(b, "]");
    else if (rc == 0 && first)
        rc = buf_append_str(b, "none");
    return rc;
}

static const char *
ack_name(int a)
{
    return a == ACK_COMPLETE ? "complete" : a == ACK_MISSING ? "missing" : "none";
}

/* Latest of the first "complete" Acks, when every listed destination
 * acknowledged completely; 0 otherwise. */
static uint64_t
all_acked_us(const dmsg *d)
{
    uint64_t t = 0;
    size_t i, listed = 0;

    for (i = 0; i < d->dest_cnt; i++) {
        if (!d->dests[i].listed)
            continue;
        listed++;
        if (d->dests[i].acked_us == 0)
            return 0;
        if (d->dests[i].acked_us > t)
            t = d->dests[i].acked_us;
    }
    return listed > 0 ? t : 0;
}

static int
report_json(buf *b, const dmsg *d, bool evicted)
{
    char s[16];
    size_t i;
    int rc;

    rc = buf_printf(b, "{\"kind\":\"message\",\"source_id\":\"%s\",\"msid\":%" PRIu32
                    ",\"prio\":%u,\"total\":", dump_ip4(d->src, s, sizeof(s)),
                    d->msid, d->prio);
    if (rc == 0)
        rc = d->have_total ? buf_printf(b, "%u", d->total) : buf_append_str(b, "null");
    if (rc == 0)
        rc = buf_printf(b, ",\"complete\":%s,\"missing\":",
                        d->complete_us != 0 ? "true" : "false");
    if (rc == 0)
        rc = put_missing(b, d, true);
    if (rc == 0)
        rc = buf_printf(b, ",\"data_pdus\":%" PRIu32 ",\"data_retx\":%" PRIu32
                        ",\"address_pdus\":%" PRIu32 ",\"address_rounds\":%" PRIu32
                        ",\"ack_pdus\":%" PRIu32 ",\"ackack\":%s,\"discarded\":%s"
                        ",\"pdu_bytes\":%" PRIu64 ",\"air_bytes\":%" PRIu64 ",\"first\":",
                        d->data_pdus, d->data_retx, d->addr_pdus, d->addr_rounds,
                        d->ack_pdus, d->ackack ? "true" : "false",
                        d->discard ? "true" : "false", d->pdu_bytes, d->air_bytes);
    if (rc == 0)
        rc = dump_put_time(b, d->first_us);
    if (rc == 0)
        rc = buf_append_str(b, ",\"time_to_complete\":");
    if (rc == 0)
        rc = put_rel(b, d, d->complete_us, true);
    if (rc == 0)
        rc = buf_append_str(b, ",\"time_to_ack\":");
    if (rc == 0)
        rc = put_rel(b, d, all_acked_us(d), true);
    if (rc == 0)
        rc = buf_printf(b, ",\"delivered\":%s", d->delivered ? "true" : "false");
    if (rc == 0 && d->delivered)
        rc = buf_printf(b, ",\"payload_len\":%zu,\"payload_fnv\":\"%016" PRIx64 "\"",
                        d->payload_len, d->payload_fnv);
    if (rc == 0 && d->extract[0] != '\0')
        rc = buf_printf(b, ",\"extract\":\"%s\"", d->extract);
    if (rc == 0 && d->files != NULL)
        rc = buf_printf(b, ",\"files\":\"%s\"", d->files);
    if (rc == 0 && d->dest_overflow)
        rc = buf_printf(b, ",\"dest_overflow\":%zu", d->dest_overflow);
    if (rc == 0 && evicted)
        rc = buf_append_str(b, ",\"evicted\":true");
    if (rc == 0)
        rc = buf_append_str(b, ",\"dests\":[");
    for (i = 0; rc == 0 && i < d->dest_cnt; i++) {
        const dest *ds = &d->dests[i];

        rc = buf_printf(b, "%s{\"id\":\"%s\",\"listed\":%s,\"msg_seq_no\":%" PRIu32
                        ",\"ack\":\"%s\",\"ack_missing\":%" PRIu32 ",\"acks\":%" PRIu32
                        ",\"acked_at\":", i ? "," : "", dump_ip4(ds->id, s, sizeof(s)),
                        ds->listed ? "true" : "false", ds->msg_seq_no,
                        ack_name(ds->ack), ds->ack_missing, ds->acks);
        if (rc == 0)
            rc = put_rel(b, d, ds->acked_us, true);
        if (rc == 0)
            rc = buf_append_str(b, ",\"delivered_at\":");
        if (rc == 0)
            rc = put_rel(b, d, ds->delivered_us, true);
        if (rc == 0)
            rc = buf_printf(b, ",\"rx_discarded\":%s}", ds->rx_discarded ? "true" : "false");
    }
    if (rc == 0)
        rc = buf_append_str(b, "]}\n");
    return rc;
}

static int
report_text(buf *b, const dmsg *d, bool evicted)
{
    char s[16];
    size_t i;
    int rc;

    rc = buf_printf(b, "message src=%s msid=%" PRIu32 " prio=%u total=",
                    dump_ip4(d->src, s, sizeof(s)), d->msid, d->prio);
    if (rc == 0)
        rc = d->have_total ? buf_printf(b, "%u", d->total) : buf_append_str(b, "?");
    if (rc == 0)
        rc = buf_printf(b, " complete=%s missing=", d->complete_us != 0 ? "yes" : "no");
    if (rc == 0)
        rc = put_missing(b, d, false);
    if (rc == 0)
        rc = buf_printf(b, " data=%" PRIu32 " retx=%" PRIu32 " address=%" PRIu32
                        " rounds=%" PRIu32 " acks=%" PRIu32 "%s%s t_complete=",
                        d->data_pdus, d->data_retx, d->addr_pdus, d->addr_rounds,
                        d->ack_pdus, d->ackack ? " ackack" : "",
                        d->discard ? " discarded" : "");
    if (rc == 0)
        rc = put_rel(b, d, d->complete_us, false);
    if (rc == 0)
        rc = buf_append_str(b, " t_acked=");
    if (rc == 0)
        rc = put_rel(b, d, all_acked_us(d), false);
    if (rc == 0)
        rc = buf_printf(b, " pdu_bytes=%" PRIu64 " air_bytes=%" PRIu64,
                        d->pdu_bytes, d->air_bytes);
    if (rc == 0 && d->delivered)
        rc = buf_printf(b, " delivered len=%zu fnv=%016" PRIx64, d->payload_len,
                        d->payload_fnv);
    if (rc == 0 && d->extract[0] != '\0')
        rc = buf_printf(b, " extract=%s", d->extract);
    if (rc == 0 && d->files != NULL)
        rc = buf_printf(b, " files=%s", d->files);
    if (rc == 0 && evicted)
        rc = buf_append_str(b, " evicted");
    if (rc == 0)
        rc = buf_append_str(b, "\n");
    for (i = 0; rc == 0 && i < d->dest_cnt; i++) {
        const dest *ds = &d->dests[i];

        rc = buf_printf(b, "  dest %s%s seq=%" PRIu32 " ack=%s",
                        dump_ip4(ds->id, s, sizeof(s)), ds->listed ? "" : " (unlisted)",
                        ds->msg_seq_no, ack_name(ds->ack));
        if (rc == 0 && ds->ack == ACK_MISSING)
            rc = buf_printf(b, "(%" PRIu32 ")", ds->ack_missing);
        if (rc == 0)
            rc = buf_printf(b, " acks=%" PRIu32 " acked_at=", ds->acks);
        if (rc == 0)
            rc = put_rel(b, d, ds->acked_us, false);
        if (rc == 0)
            rc = buf_append_str(b, " delivered_at=");
        if (rc == 0)
            rc = put_rel(b, d, ds->delivered_us, false);
        if (rc == 0 && ds->rx_discarded)
            rc = buf_append_str(b, " rx_discarded");
        if (rc == 0)
            rc = buf_append_str(b, "\n");
    }
    if (rc == 0 && d->dest_overflow)
        rc = buf_printf(b, "  dests beyond the cap: %zu\n", d->dest_overflow);
    return rc;
}

int
dump_msgs_report_next(const dump_msgs *m, size_t *it, buf *out, bool json)
{
    uint64_t v;

    if (!map_next(&m->ids, it, NULL, &v))
        return 0;
    if ((json ? report_json(out, &m->msgs[v], false) : report_text(out, &m->msgs[v], false)) != 0)
        return -1;
    return 1;
}

void
dump_msgs_totals_get(const dump_msgs *m, dump_msgs_totals *t)
{
    size_t i;

    *t = m->gone;
    t->msgs = m->created;
    t->live = m->cnt;
    t->bytes = m->bytes;
    t->overflow = m->overflow;
    for (i = 0; i < m->size; i++) {
        if (!m->msgs[i].live)
            continue;
        if (m->msgs[i].complete_us != 0)
            t->complete++;
        if (m->msgs[i].delivered)
            t->delivered++;
    }
}

size_t
dump_msgs_listed(const dump_msgs *m, uint32_t src, uint32_t msid, uint32_t *ids, size_t cap)
{
    const dmsg *d = find(m, src, msid);
    size_t i, n = 0;

    if (d == NULL)
        return 0;
    for (i = 0; i < d->dest_cnt && n < cap; i++)
        if (d->dests[i].listed)
            ids[n++] = d->dests[i].id;
    return n;
}

uint64_t
dump_msgs_first_us(const dump_msgs *m, uint32_t src, uint32_t msid)
{
    const dmsg *d = find(m, src, msid);

    return d != NULL ? d->first_us : 0;
}

uint32_t
dump_msgs_total(const dump_msgs *m, uint32_t src, uint32_t msid)
{
    const dmsg *d = find(m, src, msid);

    return d != NULL && d->have_total ? d->total : 0;
}

size_t
dump_msgs_route(dump_msgs *m, uint32_t src, uint32_t msid, uint64_t epoch,
                bool (*has)(void *arg, uint32_t id), void *arg, uint32_t *ids, size_t cap)
{
    dmsg *d = find(m, src, msid);
    size_t i, n = 0;

    if (d == NULL)
        return 0;
    if (d->route_epoch != epoch || epoch == 0 || d->route_upto < d->dest_cnt) {
        /* Same epoch: only destinations added since need a look. */
        if (d->route_epoch != epoch || epoch == 0) {
            d->route_cnt = 0;
            d->route_upto = 0;
        }
        for (i = d->route_upto; i < d->dest_cnt; i++) {
            if (!d->dests[i].listed || !has(arg, d->dests[i].id))
                continue;
            if (d->route_cnt == d->route_cap) {
                size_t nc = d->route_cap ? d->route_cap * 2 : 4;
                uint32_t *nr = mem_realloc(NULL, d->route, nc * sizeof(*nr));

                if (nr == NULL) {
                    /* Not cached: answer from the list this once. */
                    d->route_epoch = 0;
                    return dump_msgs_listed(m, src, msid, ids, cap);
                }
                charge(m, d, d->route_cap * sizeof(*nr), nc * sizeof(*nr));
                d->route = nr;
                d->route_cap = nc;
            }
            d->route[d->route_cnt++] = d->dests[i].id;
        }
        d->route_upto = d->dest_cnt;
        d->route_epoch = epoch;
    }
    for (i = 0; i < d->route_cnt && n < cap; i++)
        ids[n++] = d->route[i];
    return n;
}
