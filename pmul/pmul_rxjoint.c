/*
 * NAME
 *	pmul_rxjoint - the receiver's joint repair: kept payloads and the
 *	decoding of a joint block of several messages
 * SYNOPSIS
 *	#include "pmul/pmul_engine_int.h"
 * DESCRIPTION
 *	Joint repair on the receiver (docs/wire.md 10.8, "Receiver" 1-5).
 *
 *	Keep store: the payload of each delivered message that was announced
 *	with FEC as one block is copied (one allocation per message) into an
 *	engine-wide FIFO bounded by cfg.fec_keep_bytes, oldest dropped first
 *	(rx_keep_evicted), until its Expiry_Time (a heap by expiry, run from
 *	pmul__rx_expire: no timer per entry, nothing per PDU).  In accept
 *	mode a payload is kept when the application accepts it: a rejected
 *	one is no message and must not feed a decode.  Kept data only ever
 *	serves decoding; it is never delivered again.
 *
 *	Joint state: per carrier (the message whose version 2 FEC_Address_PDU
 *	lists us), the latest member set and the joint repairs held for it
 *	(Data_PDUs of the carrier numbered from pmul_fec_joint_base(), each
 *	exactly symbol_len octets), at most K minus the symbols counted,
 *	charged to the carrier source's budgets.  A member counts its held
 *	sources when ACTIVE, all N_i when kept, none otherwise (erasures).
 *	An ACTIVE member's repairs of its own block (10.7) count too, as many
 *	as it misses sources: its Acks list k_b - held_b, and the transmitter
 *	sizes joint rounds from those lists, so a receiver that left them out
 *	stayed a few symbols short round after round.  When counted plus held
 *	reach K the joint block is decoded: by the codec's Cauchy decoder
 *	when the joint repairs suffice, else by the mixed decoding (joint and
 *	own repairs as one linear system, pmul_fec_solve()); the missing sources
 *	of ACTIVE members go into their robs as if they had arrived
 *	(pmul__rx_recovered: delivery, Acks).
 *
 *	A joint repair is placed by its number (docs/wire.md 10.8): the set
 *	announced last says its repairs so far are numbers G + j0 .. G + j0 +
 *	R - 1 (ESI K + number - G - j0), and a carrier's next set starts past
 *	every number it used before.  A repair in that range counts at once;
 *	one past it (a later round whose first copy we lost) is held pending
 *	until a copy announces it, one below it (an earlier set's) is
 *	dropped, and so is one at or below the highest number held (numbers
 *	only grow).  A copy of a new set keeps the repairs held whose numbers
 *	fall in its range and drops the others.  So no repair is ever read
 *	under another set's code (that would decode garbage), and a lost copy
 *	costs only the wait for the next one.  Repairs before any
 *	announcement of the carrier are dropped.
 * SECURITY
 *	Everything here is peer input.  The member set is decoded and
 *	checked by pmul_fec_params_decode2() (2..30 members, K <= 254, lengths
 *	1..symbol_len); a member whose Total or last_len disagrees with what
 *	we hold makes the set unusable (rx_joint_unusable, once per set).
 *	Fragment lengths of the held sources are checked before decoding.
 *	Memory follows K and symbol_len of checked parameters and is charged
 *	to the source's budgets; joint states are capped per source.  The
 *	mixed decoding is bounded in work (pmul_fec_solve(): 2^24 octet
 *	products) and a singular system is waited out, never decoded.
 * DIAGNOSTICS
 *	Stats rx_joint_recovered, rx_joint_unusable, rx_keep_evicted,
 *	rx_fec_unused (joint repairs not kept).  Nothing is logged per PDU.
 * SEE ALSO
 *	pmul_rxfec.c (a message's own repair), pmul_rx.c, pmul_fec(3),
 *	docs/wire.md 10.8
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "pmul/pmul_engine_int.h"

#include <string.h>

#include "pmul/util/arr.h"

/* Joint states one source may have at once (one per carrier): a joint
 * round at a time per destination set is the transmitter's way; the
 * oldest goes past this. */
#define RXJOINT_PER_SRC 4

struct pmul_rxkeep {
    pmul_rxkeep *older, *newer; /* FIFO by delivery */
    size_t heap_idx;            /* its place in keep_heap */
    uint32_t src, msid;
    int64_t expiry_s;
    uint16_t total, sym_len, last_len;
    size_t len;
    uint8_t data[];             /* the payload */
};

struct pmul_rxjoint {
    uint32_t src, carrier;
    pmul_fec_joint g;           /* the member set */
    pmul_fec_blocks lay;        /* the carrier's own layout: numbers */
    uint16_t sym_len;
    uint8_t *rep;               /* joint repairs, sym_len octets each: the
                                 * placed ones, then the pending ones */
    uint8_t rep_esi[PMUL_FEC_N_MAX]; /* placed ones: their ESI */
    uint16_t rep_seq[PMUL_FEC_N_MAX]; /* every held one: its number */
    uint16_t rep_cnt, rep_cap;  /* placed in the set; room */
    uint16_t pend_cnt;          /* pending (after rep_cnt): numbers past
                                 * the set's range so far */
    uint16_t seq_hi;            /* highest repair number held */
    size_t charged;             /* octets charged to the budgets */
    bool round_data;            /* a joint repair came since the last copy */
    bool unusable;              /* a member disagrees: never decoded */
    bool decoded;
};

/* ---- keep store --------------------------------------------------------- */

static uint64_t
key_of(uint32_t src, uint32_t msid)
{
    return (uint64_t)src << 32 | msid;
}

static int
keep_cmp(const void *a, const void *b, void *arg)
{
    const pmul_rxkeep *x = *(pmul_rxkeep *const *)a, *y = *(pmul_rxkeep *const *)b;

    (void)arg;
    return x->expiry_s < y->expiry_s ? -1 : x->expiry_s > y->expiry_s ? 1 : 0;
}

static void
keep_moved(void *elem, size_t idx, void *arg)
{
    (void)arg;
    (*(pmul_rxkeep **)elem)->heap_idx = idx;
}

void
pmul__rx_keep_init(pmul_engine *e)
{
    map_init(&e->keep_by_id, e->m, 0);
    heap_init(&e->keep_heap, e->m, sizeof(pmul_rxkeep *), 0, keep_cmp, keep_moved, NULL);
}

static pmul_rxkeep *
keep_find(const pmul_engine *e, uint32_t src, uint32_t msid)
{
    uint64_t v;

    if (!map_get(&e->keep_by_id, key_of(src, msid), &v))
        return NULL;
    return (pmul_rxkeep *)(uintptr_t)v;
}

/* Unlink k from the FIFO, the map and the heap, and free it. */
static void
keep_drop(pmul_engine *e, pmul_rxkeep *k)
{
    if (k->older != NULL)
        k->older->newer = k->newer;
    else
        e->keep_old = k->newer;
    if (k->newer != NULL)
        k->newer->older = k->older;
    else
        e->keep_new = k->older;
    (void)map_del(&e->keep_by_id, key_of(k->src, k->msid));
    (void)heap_remove_at(&e->keep_heap, k->heap_idx, NULL);
    e->keep_bytes -= k->len;
    mem_free(e->m, k);
}

void
pmul__rx_keep_add(pmul_engine *e, const pmul_rxmsg *m, const uint8_t *payload, size_t len)
{
    size_t cap = e->cfg.fec_keep_bytes, last;
    pmul_rxkeep *k;

    if (m->keep_sym == 0 || m->total == 0 || len == 0 || len > cap ||
        m->expiry_s <= e->wall_s)
        return;
    /* The layout it was delivered under: every fragment symbol_len, the
     * last 1..symbol_len (pmul_rxfec.c checked each against it). */
    if ((size_t)(m->total - 1u) * m->keep_sym >= len)
        return;
    last = len - (size_t)(m->total - 1u) * m->keep_sym;
    if (last > m->keep_sym)
        return;
    if ((k = keep_find(e, m->src, m->msid)) != NULL)
        keep_drop(e, k);                /* delivered afresh after a reject */
    while (e->keep_old != NULL && len > cap - e->keep_bytes) {
        e->st.rx_keep_evicted++;
        keep_drop(e, e->keep_old);
    }
    if (len > SIZE_MAX - sizeof(*k) || (k = mem_alloc(e->m, sizeof(*k) + len)) == NULL)
        return;                         /* only joint repair loses */
    memset(k, 0, sizeof(*k));
    k->src = m->src;
    k->msid = m->msid;
    k->expiry_s = m->expiry_s;
    k->total = m->total;
    k->sym_len = m->keep_sym;
    k->last_len = (uint16_t)last;
    k->len = len;
    memcpy(k->data, payload, len);
    if (map_put(&e->keep_by_id, key_of(k->src, k->msid), (uint64_t)(uintptr_t)k) != 0) {
        mem_free(e->m, k);
        return;
    }
    if (heap_push(&e->keep_heap, &k) != 0) {
        (void)map_del(&e->keep_by_id, key_of(k->src, k->msid));
        mem_free(e->m, k);
        return;
    }
    k->older = e->keep_new;
    if (e->keep_new != NULL)
        e->keep_new->newer = k;
    else
        e->keep_old = k;
    e->keep_new = k;
    e->keep_bytes += len;
}

void
pmul__rx_keep_expire(pmul_engine *e)
{
    pmul_rxkeep **top;

    while ((top = heap_peek(&e->keep_heap)) != NULL && (*top)->expiry_s <= e->wall_s)
        keep_drop(e, *top);
}

uint64_t
pmul__rx_keep_deadline(const pmul_engine *e)
{
    pmul_rxkeep *const *top = heap_peek(&e->keep_heap);

    return top != NULL ? pmul__wall_to_mono(e, (*top)->expiry_s) : UINT64_MAX;
}

void
pmul__rx_keep_forget_source(pmul_engine *e, uint32_t src)
{
    pmul_rxkeep *k = e->keep_old, *next;

    for (; k != NULL; k = next) {
        next = k->newer;
        if (k->src == src) {
            e->st.rx_keep_evicted++;
            keep_drop(e, k);
        }
    }
}

/* ---- joint states ------------------------------------------------------- */

static bool
budget_take(pmul_engine *e, uint32_t src, size_t n)
{
    pmul_rxsrc *s = pmul__src_find(e, src);

    if (s == NULL || n > s->budget.cap - s->budget.used || n > e->rx_all.cap - e->rx_all.used)
        return false;
    s->budget.used += n;
    e->rx_all.used += n;
    return true;
}

static void
budget_give(pmul_engine *e, uint32_t src, size_t n)
{
    pmul_rxsrc *s = pmul__src_find(e, src);

    if (s != NULL)
        s->budget.used -= n <= s->budget.used ? n : s->budget.used;
    e->rx_all.used -= n <= e->rx_all.used ? n : e->rx_all.used;
}

/* The held repairs go (a decode, a new set, an unusable one). */
static void
reps_free(pmul_engine *e, pmul_rxjoint *j)
{
    size_t n = (size_t)j->rep_cap * j->sym_len;

    budget_give(e, j->src, n);
    j->charged -= n;
    mem_free(e->m, j->rep);
    j->rep = NULL;
    j->rep_cnt = j->rep_cap = j->pend_cnt = 0;
}

static void
joint_free_at(pmul_engine *e, size_t i)
{
    pmul_rxjoint *j = e->rx_joint[i];

    reps_free(e, j);
    budget_give(e, j->src, j->charged);
    mem_free(e->m, j);
    memmove(&e->rx_joint[i], &e->rx_joint[i + 1], (e->rx_joint_cnt - i - 1) * sizeof(*e->rx_joint));
    e->rx_joint_cnt--;
}

static size_t
joint_index(const pmul_engine *e, uint32_t src, uint32_t carrier)
{
    size_t i;

    for (i = 0; i < e->rx_joint_cnt; i++)
        if (e->rx_joint[i]->src == src && e->rx_joint[i]->carrier == carrier)
            return i;
    return SIZE_MAX;
}

void
pmul__rx_joint_forget(pmul_engine *e, uint32_t src, uint32_t msid)
{
    size_t i = joint_index(e, src, msid);

    if (i != SIZE_MAX)
        joint_free_at(e, i);
}

void
pmul__rx_joint_fini(pmul_engine *e)
{
    while (e->rx_joint_cnt > 0)
        joint_free_at(e, e->rx_joint_cnt - 1);
    mem_free(e->m, e->rx_joint);
    e->rx_joint = NULL;
    e->rx_joint_cap = 0;
    while (e->keep_old != NULL)
        keep_drop(e, e->keep_old);
    map_fini(&e->keep_by_id);
    heap_fini(&e->keep_heap);
    mem_free(e->m, e->jnt_buf);
    e->jnt_buf = NULL;
    e->jnt_buf_cap = 0;
}

/* A new joint state for carrier m (the oldest of its source goes past
 * RXJOINT_PER_SRC), or NULL (counted as a drop). */
static pmul_rxjoint *
joint_new(pmul_engine *e, const pmul_rxmsg *m)
{
    size_t i, n = 0, oldest = SIZE_MAX;
    pmul_rxjoint *j;
    void *p;

    for (i = 0; i < e->rx_joint_cnt; i++)
        if (e->rx_joint[i]->src == m->src && n++ == 0)
            oldest = i;
    if (n >= RXJOINT_PER_SRC)
        joint_free_at(e, oldest);
    if (e->rx_joint_cnt == e->rx_joint_cap) {
        n = e->rx_joint_cap != 0 ? e->rx_joint_cap * 2 : 4;
        if ((p = mem_realloc(e->m, e->rx_joint, n * sizeof(*e->rx_joint))) == NULL) {
            (void)pmul__drop(e, PMUL_DROP_NOMEM, PMUL_ERR_NOMEM);
            return NULL;
        }
        e->rx_joint = p;
        e->rx_joint_cap = n;
    }
    if (!budget_take(e, m->src, sizeof(*j))) {
        (void)pmul__drop(e, PMUL_DROP_CAP_BYTES, PMUL_ERR_BUSY);
        return NULL;
    }
    if ((j = mem_calloc(e->m, 1, sizeof(*j))) == NULL) {
        budget_give(e, m->src, sizeof(*j));
        (void)pmul__drop(e, PMUL_DROP_NOMEM, PMUL_ERR_NOMEM);
        return NULL;
    }
    j->src = m->src;
    j->carrier = m->msid;
    j->charged = sizeof(*j);
    e->rx_joint[e->rx_joint_cnt++] = j;
    return j;
}

static void
mark_unusable(pmul_engine *e, pmul_rxjoint *j)
{
    if (j->unusable)
        return;
    j->unusable = true;
    e->st.rx_joint_unusable++;
    reps_free(e, j);
}

/*
 * What we hold of member i: its source symbols counted (ACTIVE: those in
 * its rob; kept: all; otherwise none), *am the ACTIVE message and *kp the
 * kept payload.  -1 when what we hold disagrees with the set: a Total,
 * last_len or symbol_len of its own, or a message received plainly for
 * bad FEC.
 */
static int
member_scan(const pmul_engine *e, const pmul_rxjoint *j, unsigned i, pmul_rxmsg **am,
            pmul_rxkeep **kp)
{
    const pmul_fec_member *mb = &j->g.mem[i];
    pmul_rxmsg *m = pmul__rx_find(e, j->src, mb->msid);
    const pmul_rxfec *fd;
    pmul_rxkeep *k;

    *am = NULL;
    *kp = NULL;
    if (m != NULL && (m->state == PMUL_RXS_ACTIVE || m->state == PMUL_RXS_COMPLETE) &&
        m->total != mb->total_pdus)
        return -1;
    if (m != NULL && m->state == PMUL_RXS_ACTIVE) {
        fd = m->fecd;
        if (m->fec_plain || (fd != NULL && (fd->p.blocks.block_cnt != 1 ||
                                            fd->p.symbol_len != j->sym_len ||
                                            fd->p.last_len != mb->last_len)))
            return -1;
        *am = m;
        return (int)pmul_seqset_count_upto(&m->rob.have, mb->total_pdus);
    }
    if (m != NULL && m->state != PMUL_RXS_COMPLETE)
        return 0;                       /* EARLY, IGNORED: erasures */
    if ((k = keep_find(e, j->src, mb->msid)) == NULL)
        return 0;                       /* not kept: erasures */
    if (k->total != mb->total_pdus || k->sym_len != j->sym_len || k->last_len != mb->last_len)
        return -1;
    *kp = k;
    return (int)mb->total_pdus;
}

/* Repairs of its own block an ACTIVE member holds (docs/wire.md 10.7),
 * as many as can stand for its missing sources: each is an equation over
 * its sources alone, which the mixed decoding (pmul_fec_solve()) uses beside
 * the joint repairs.  Its Acks list k_b - held_b, so the transmitter
 * sizes the joint round as if these counted. */
static unsigned
own_usable(const pmul_rxmsg *am, unsigned have, unsigned n)
{
    const pmul_fec_block *b;
    unsigned own;

    if (am->fecd == NULL || am->fecd->p.blocks.block_cnt != 1)
        return 0;
    b = &am->fecd->blk[0];
    own = b->held_cnt > b->src_cnt ? (unsigned)(b->held_cnt - b->src_cnt) : 0;
    return own < n - have ? own : n - have;
}

/* Symbols counted over the members, own repairs included (-1:
 * unusable); *srcs the source symbols alone; *gain: an ACTIVE member
 * misses a source, so decoding would bring something. */
static int
joint_count(const pmul_engine *e, const pmul_rxjoint *j, bool *gain, int *srcs)
{
    pmul_rxmsg *am;
    pmul_rxkeep *kp;
    int sum = 0, c, sc = 0;
    unsigned i;

    *gain = false;
    for (i = 0; i < j->g.cnt; i++) {
        if ((c = member_scan(e, j, i, &am, &kp)) < 0)
            return -1;
        sc += c;
        sum += c;
        if (am != NULL && c < (int)j->g.mem[i].total_pdus) {
            *gain = true;
            sum += (int)own_usable(am, (unsigned)c, j->g.mem[i].total_pdus);
        }
    }
    if (srcs != NULL)
        *srcs = sc;
    return sum;
}

static bool
scratch_fit(pmul_engine *e, size_t need)
{
    return arr_grow(e->m, (void **)&e->jnt_buf, &e->jnt_buf_cap, need, 1, 0) == 0;
}

/* Fragment s of member i (N, last_len of the set; a rob fragment checked
 * against them) into sym[], a short one padded to S in the scratch at
 * *pad (the block's last too: the mixed decoding takes full symbols).
 * False when a held fragment has another length. */
static bool
put_sym(const pmul_rxjoint *j, unsigned i, unsigned s, const uint8_t *p, size_t len,
        const uint8_t **sym, pmul_fec_block *blk, uint8_t **pad)
{
    const pmul_fec_member *mb = &j->g.mem[i];
    unsigned esi = pmul_fec_joint_offset(&j->g, i) + s - 1u;
    size_t want = s == mb->total_pdus ? mb->last_len : j->sym_len;

    if (len != want)
        return false;
    if (len < j->sym_len) {
        memcpy(*pad, p, len);
        memset(*pad + len, 0, j->sym_len - len);
        p = *pad;
        *pad += j->sym_len;
    }
    sym[esi] = p;
    return pmul_fec_block_add(blk, esi) == 0;
}

/* Equations for the missing symbols of a joint block: the joint repairs
 * held, then own repairs of ACTIVE members (each at most its missing
 * count).  Returns how many went into q[]. */
static unsigned
gather_eqs(const pmul_engine *e, const pmul_rxjoint *j, pmul_fec_eq *q, unsigned want)
{
    const pmul_fec_block *fb;
    const uint8_t *frag;
    pmul_rxmsg *am;
    pmul_rxkeep *kp;
    unsigned n = 0, i, esi, used, cap;
    uint16_t seq;
    size_t flen;
    int c;

    for (i = 0; i < j->rep_cnt && n < want; i++, n++) {
        q[n].sym = j->rep + (size_t)i * j->sym_len;
        q[n].esi = j->rep_esi[i];
        q[n].n = 0;
    }
    for (i = 0; i < j->g.cnt && n < want; i++) {
        if ((c = member_scan(e, j, i, &am, &kp)) < 0 || am == NULL ||
            (cap = own_usable(am, (unsigned)c, j->g.mem[i].total_pdus)) == 0)
            continue;
        fb = &am->fecd->blk[0];
        for (esi = fb->k, used = 0; esi <= PMUL_FEC_ESI_MAX && used < cap && n < want; esi++) {
            if (!pmul_fec_block_has(fb, esi) ||
                pmul_fec_seq_of(&am->fecd->p.blocks, 0, esi, &seq) != 0 ||
                !pmul_rob_get(&am->rob, seq, &frag, &flen) || flen != j->sym_len)
                continue;
            q[n].sym = frag;
            q[n].esi = (uint8_t)esi;
            q[n].off = (uint8_t)pmul_fec_joint_offset(&j->g, i);
            q[n].n = (uint8_t)j->g.mem[i].total_pdus;
            n++;
            used++;
        }
    }
    return n;
}

/*
 * Decode the joint block (counted + held >= K) and store the missing
 * sources of ACTIVE members.  Everything used after the first store is
 * copied first: a delivery may retire the carrier and free j.
 */
static void
joint_decode(pmul_engine *e, pmul_rxjoint *j)
{
    const uint8_t *sym[PMUL_FEC_N_MAX];
    uint8_t *out[PMUL_FEC_N_MAX], *pad, *o;
    pmul_fec_joint g = j->g;
    uint32_t src = j->src;
    unsigned i, s, r, esi, k = g.k, miss;
    size_t S = j->sym_len, flen;
    pmul_fec_eq q[PMUL_FEC_N_MAX];
    const uint8_t *frag;
    pmul_fec_block blk;
    pmul_rxmsg *am;
    pmul_rxkeep *kp;
    bool gain, hit;
    int rc, counted, srcs;

    if ((counted = joint_count(e, j, &gain, &srcs)) < 0) {
        mark_unusable(e, j);
        return;
    }
    if (!gain || (unsigned)counted + j->rep_cnt < k)
        return;
    miss = k - (unsigned)srcs;
    /* Recovered symbols, then the padded short ones (<= 284 x S). */
    if (!scratch_fit(e, ((size_t)miss + g.cnt) * S) ||
        (e->rx_fec == NULL && pmul_fec_new(&e->rx_fec, e->m) != 0)) {
        (void)pmul__drop(e, PMUL_DROP_NOMEM, PMUL_ERR_NOMEM);
        return;                         /* tried again at the next copy */
    }
    memset(sym, 0, sizeof(sym));
    memset(out, 0, sizeof(out));
    pmul_fec_block_init(&blk, k);
    o = e->jnt_buf;
    pad = e->jnt_buf + (size_t)miss * S;
    for (i = 0; i < g.cnt; i++) {
        (void)member_scan(e, j, i, &am, &kp);   /* agreed in joint_count */
        for (s = 1; s <= g.mem[i].total_pdus; s++) {
            if (kp != NULL) {
                frag = kp->data + (size_t)(s - 1u) * S;
                flen = s == g.mem[i].total_pdus ? kp->last_len : S;
            } else if (am == NULL || !pmul_rob_get(&am->rob, (uint16_t)s, &frag, &flen)) {
                if (o == pad) {
                    mark_unusable(e, j);        /* cannot be: counted wrong */
                    return;
                }
                out[pmul_fec_joint_offset(&g, i) + s - 1u] = o;
                o += S;
                continue;
            }
            if (!put_sym(j, i, s, frag, flen, sym, &blk, &pad)) {
                mark_unusable(e, j);            /* a fragment of another length */
                return;
            }
        }
    }
    if (j->rep_cnt >= miss) {
        /* Joint repairs alone: the Cauchy decoder of the codec (every
         * symbol padded to S, so no short one). */
        for (r = 0; r < j->rep_cnt && blk.held_cnt < k; r++) {
            if (pmul_fec_block_add(&blk, j->rep_esi[r]) == 0)   /* distinct: seq_hi */
                sym[j->rep_esi[r]] = j->rep + (size_t)r * S;
        }
        rc = pmul_fec_recover(e->rx_fec, &blk, sym, PMUL_FEC_N_MAX, S, S, out);
    } else if (gather_eqs(e, j, q, miss) == miss) {
        rc = pmul_fec_solve(e->rx_fec, k, sym, out, q, miss, S);
        if (rc == PMUL_ERR_INCONSISTENT)
            return;                     /* singular: other repairs may do */
    } else {
        return;                         /* cannot be: counted wrong */
    }
    if (rc == PMUL_ERR_NOMEM) {
        (void)pmul__drop(e, PMUL_DROP_NOMEM, PMUL_ERR_NOMEM);
        return;
    }
    if (rc != 0) {
        mark_unusable(e, j);
        return;
    }
    j->decoded = true;
    reps_free(e, j);
    /* From here on j may be freed (a delivery retiring the carrier); the
     * recovered symbols stay in jnt_buf, which nothing below reuses.
     * Symbols of members not ACTIVE here are dropped: kept data and the
     * delivered set are never delivered again. */
    for (i = 0; i < g.cnt; i++) {
        am = pmul__rx_find(e, src, g.mem[i].msid);
        if (am == NULL || am->state != PMUL_RXS_ACTIVE)
            continue;
        hit = false;
        for (s = 1; s <= g.mem[i].total_pdus; s++) {
            esi = pmul_fec_joint_offset(&g, i) + s - 1u;
            if (out[esi] == NULL || pmul_rob_has(&am->rob, (uint16_t)s))
                continue;
            flen = s == g.mem[i].total_pdus ? g.mem[i].last_len : S;
            rc = pmul_rob_put(&am->rob, (uint16_t)s, out[esi], flen);
            if (rc < 0) {
                (void)pmul__drop(e, rc == PMUL_ERR_BUSY ? PMUL_DROP_CAP_BYTES : PMUL_DROP_NOMEM,
                                 rc);
                break;                  /* the member's Ack lists the rest */
            }
            if (rc == 1) {
                e->st.rx_joint_recovered++;
                pmul__rx_fec_note(am, (uint16_t)s, flen);
                if (s == am->reported_hi)
                    hit = true;
            }
        }
        pmul__rx_recovered(e, am, hit);
    }
}

static bool
same_set(const pmul_rxjoint *j, const pmul_fec_params *p, const pmul_fec_joint *g)
{
    unsigned i;

    if (j->g.cnt != g->cnt || j->g.k != g->k || j->g.j0 != g->j0 || j->sym_len != p->symbol_len ||
        j->lay.total_pdus != p->blocks.total_pdus || j->lay.block_cnt != p->blocks.block_cnt)
        return false;
    for (i = 0; i < g->cnt; i++)
        if (j->g.mem[i].msid != g->mem[i].msid ||
            j->g.mem[i].total_pdus != g->mem[i].total_pdus ||
            j->g.mem[i].last_len != g->mem[i].last_len)
            return false;
    return true;
}

/* Move held repair `from` to slot `to` (different slots). */
static void
rep_move(pmul_rxjoint *j, size_t to, size_t from)
{
    memcpy(j->rep + to * j->sym_len, j->rep + from * j->sym_len, j->sym_len);
    j->rep_seq[to] = j->rep_seq[from];
    j->rep_esi[to] = j->rep_esi[from];
}

/* Swap held repairs a and b, octet by octet (no scratch). */
static void
rep_swap(pmul_rxjoint *j, size_t a, size_t b)
{
    uint8_t *x = j->rep + a * j->sym_len, *y = j->rep + b * j->sym_len, t8;
    uint16_t t16;
    size_t i;

    for (i = 0; i < j->sym_len; i++) {
        t8 = x[i];
        x[i] = y[i];
        y[i] = t8;
    }
    t16 = j->rep_seq[a], j->rep_seq[a] = j->rep_seq[b], j->rep_seq[b] = t16;
    t8 = j->rep_esi[a], j->rep_esi[a] = j->rep_esi[b], j->rep_esi[b] = t8;
}

/*
 * Place the pending repairs the set's range now covers (numbers G + j0 ..
 * G + j0 + R - 1: ESI K + number - G - j0) into the placed prefix; drop
 * those below the range (an earlier set's); keep those above pending.
 */
static void
place_pending(pmul_rxjoint *j)
{
    unsigned base = pmul_fec_joint_base(&j->lay) + j->g.j0;
    size_t i = j->rep_cnt, last;
    uint8_t esi;

    while (i < (size_t)j->rep_cnt + j->pend_cnt) {
        if (j->rep_seq[i] < base) {
            last = (size_t)j->rep_cnt + j->pend_cnt - 1u;
            if (i != last)
                rep_move(j, i, last);
            j->pend_cnt--;
            continue;
        }
        if (pmul_fec_joint_seq_map(&j->lay, &j->g, j->rep_seq[i], &esi) == 0) {
            if (i != j->rep_cnt)
                rep_swap(j, i, j->rep_cnt);
            j->rep_esi[j->rep_cnt] = esi;
            j->rep_cnt++;
            j->pend_cnt--;
        }
        i++;
    }
}

/*
 * A member the closing copy's answer names: one still ACTIVE (its list),
 * and one complete here whose complete Ack went (its Ack again).  A
 * listed destination still needs a member as far as the transmitter
 * knows, and when that is one we completed, our complete Ack and its copy
 * were lost: without it here the member stayed out of joint rounds until
 * its own timer asked (100 mails to 4 receivers at 10 %, netsim-bench
 * air: 1.22x the limit with it, 1.23x without).
 */
static bool
answers(const pmul_rxmsg *am)
{
    return am->state == PMUL_RXS_ACTIVE || (am->state == PMUL_RXS_COMPLETE && !am->awaiting);
}

bool
pmul__rx_joint_on_address(pmul_engine *e, pmul_rxmsg *m, const pmul_pdu *pdu)
{
    size_t idx = joint_index(e, m->src, m->msid);
    pmul_rxjoint *j = idx != SIZE_MAX ? e->rx_joint[idx] : NULL;
    uint32_t src = m->src;
    pmul_fec_params p;
    pmul_fec_joint g;
    pmul_rxmsg *am;
    bool closing, active = false, gain;
    unsigned i;

    if (!pmul__rx_is_fec_pdu(pdu) || !m->fec ||
        pmul_fec_params_decode2(&p, &g, pdu->u.address.fec_id, pdu->u.address.fec_params,
                                pdu->u.address.fec_param_len, pdu->u.address.total_pdus,
                                pdu->msid) != 0 ||
        g.cnt == 0)
        return false;                   /* version 1, or not usable */
    if (j != NULL && !same_set(j, &p, &g)) {
        if (j->sym_len != p.symbol_len || j->unusable || j->decoded) {
            joint_free_at(e, idx);      /* nothing held fits the new set */
            j = NULL;
        } else {
            /* A new set: what the old one placed is of its code, so only
             * numbers in the new set's range can be of use (a new set
             * starts past every number the carrier used before): pending
             * again, placed below by number. */
            j->pend_cnt = (uint16_t)(j->pend_cnt + j->rep_cnt);
            j->rep_cnt = 0;
            j->g = g;
            j->lay = p.blocks;
            if (joint_count(e, j, &gain, NULL) < 0)
                mark_unusable(e, j);
        }
    }
    if (j == NULL) {
        if ((j = joint_new(e, m)) == NULL)
            return false;
        j->g = g;
        j->lay = p.blocks;
        j->sym_len = p.symbol_len;
        if (joint_count(e, j, &gain, NULL) < 0)
            mark_unusable(e, j);
    }
    /* A copy after joint repairs closes their round.  It also says how
     * many of the set's repairs went so far: pending ones that came before
     * a copy we lost are placed now. */
    closing = j->round_data;
    j->round_data = false;
    j->g.repair_cnt = g.repair_cnt;
    place_pending(j);
    if (!j->unusable && !j->decoded)
        joint_decode(e, j);             /* sources came since; may free j */
    for (i = 0; i < g.cnt && !active; i++)
        active = (am = pmul__rx_find(e, src, g.mem[i].msid)) != NULL && answers(am);
    return closing && active;
}

/* Room for more repairs in j: doubled, at most `room` symbols (what the
 * joint block can use, K - counted), charged to the source's budgets.
 * False (counted as a drop) short of budget or memory. */
static bool
reps_grow(pmul_engine *e, pmul_rxjoint *j, unsigned room)
{
    unsigned cap = j->rep_cap != 0 ? j->rep_cap * 2u : 4u;
    size_t more;
    void *p;

    if (cap > room)
        cap = room;
    more = (size_t)(cap - j->rep_cap) * j->sym_len;
    if (!budget_take(e, j->src, more)) {
        (void)pmul__drop(e, PMUL_DROP_CAP_BYTES, PMUL_ERR_BUSY);
        return false;
    }
    if ((p = mem_realloc(e->m, j->rep, (size_t)cap * j->sym_len)) == NULL) {
        budget_give(e, j->src, more);
        (void)pmul__drop(e, PMUL_DROP_NOMEM, PMUL_ERR_NOMEM);
        return false;
    }
    j->rep = p;
    j->rep_cap = (uint16_t)cap;
    j->charged += more;
    return true;
}

/* Joint repairs held before any copy of their set's announcement. */
#define RXJOINT_EARLY_MAX 16u

/* Do we still miss something of src's messages (so that a joint round of
 * its may be for us)? */
static bool
needy(const pmul_engine *e, uint32_t src)
{
    size_t i;

    for (i = 0; i < e->rx_cnt; i++)
        if (e->rx[i]->src == src && e->rx[i]->state == PMUL_RXS_ACTIVE &&
            !pmul_rob_is_complete(&e->rx[i]->rob))
            return true;
    return false;
}

/* Hold a repair of j's set not known yet (pending, placed by number when
 * a copy announces the set); true when it was held. */
static bool
hold_early(pmul_engine *e, pmul_rxjoint *j, const pmul_pdu *pdu)
{
    size_t n = (size_t)j->rep_cnt + j->pend_cnt;

    if (pdu->u.data.frag_len != j->sym_len || pdu->u.data.seq <= j->seq_hi ||
        n >= RXJOINT_EARLY_MAX || (n == j->rep_cap && !reps_grow(e, j, RXJOINT_EARLY_MAX)))
        return false;
    memcpy(j->rep + n * j->sym_len, pdu->u.data.frag, j->sym_len);
    j->rep_seq[n] = pdu->u.data.seq;
    j->seq_hi = pdu->u.data.seq;
    j->pend_cnt++;
    return true;
}

/*
 * A joint repair of carrier m before any copy of its set's announcement:
 * we lost the round's first copy, and its repairs came before the next.
 * Dropping them cost the neediest receiver half the round, and the set
 * went again for it two or three times (netsim-bench air, 100 mails to 4
 * receivers: 1.20x the limit with them held, 1.22x without).  Held when
 * m is a one-block FEC message whose numbers and symbol length we know
 * (its own layout, or its kept payload's) and we still miss something of
 * its source; a copy that announces another layout frees them.
 */
static bool
early_repair(pmul_engine *e, pmul_rxmsg *m, const pmul_pdu *pdu)
{
    pmul_fec_blocks lay;
    pmul_rxjoint *j;
    unsigned sym;

    /* Its own layout while it decodes; a kept payload's was one block. */
    if (m->fecd != NULL) {
        lay = m->fecd->p.blocks;
        sym = m->fecd->p.symbol_len;
    } else if ((sym = m->keep_sym) == 0 || m->total >= PMUL_FEC_ESI_MAX ||
               pmul_fec_layout(m->total, PMUL_FEC_ESI_MAX, &lay) != 0) {
        return false;
    }
    if (lay.block_cnt != 1 || pdu->u.data.seq < pmul_fec_joint_base(&lay))
        return false;                   /* a source or a repair of its own */
    if (pdu->u.data.frag_len != sym || !needy(e, m->src) || (j = joint_new(e, m)) == NULL) {
        e->st.rx_fec_unused++;
        return true;
    }
    j->lay = lay;
    j->sym_len = (uint16_t)sym;
    if (!hold_early(e, j, pdu))
        e->st.rx_fec_unused++;
    return true;
}

bool
pmul__rx_joint_on_data(pmul_engine *e, pmul_rxmsg *m, const pmul_pdu *pdu)
{
    size_t idx = joint_index(e, m->src, m->msid), len = pdu->u.data.frag_len, n;
    uint16_t seq = pdu->u.data.seq;
    unsigned room, base;
    pmul_rxjoint *j;
    bool gain, placed;
    uint8_t esi;
    int c;

    if (idx == SIZE_MAX)
        return early_repair(e, m, pdu);
    j = e->rx_joint[idx];
    base = pmul_fec_joint_base(&j->lay);
    if (seq < base)
        return false;                   /* a source or a repair of its own */
    if (j->g.cnt == 0) {                /* its set not announced yet */
        if (!hold_early(e, j, pdu))
            e->st.rx_fec_unused++;
        return true;
    }
    j->round_data = true;
    placed = pmul_fec_joint_seq_map(&j->lay, &j->g, seq, &esi) == 0;
    if (j->unusable || j->decoded || len != j->sym_len || seq <= j->seq_hi ||
        (!placed && seq < base + j->g.j0)) {
        e->st.rx_fec_unused++;          /* no use, not fresh, or an earlier set's */
        return true;
    }
    if ((c = joint_count(e, j, &gain, NULL)) < 0) {
        mark_unusable(e, j);
        return true;
    }
    if (!gain || (unsigned)c + j->rep_cnt >= j->g.k) {
        e->st.rx_fec_unused++;          /* nothing to gain, or enough held */
        return true;
    }
    /* Room: what the block can use, and as much again for pending ones
     * (numbers past the range a lost copy would have announced). */
    room = 2u * (j->g.k - (unsigned)c);
    if (room > PMUL_FEC_N_MAX)
        room = PMUL_FEC_N_MAX;
    n = (size_t)j->rep_cnt + j->pend_cnt;
    if (n >= room) {
        e->st.rx_fec_unused++;
        return true;
    }
    if (n == j->rep_cap && !reps_grow(e, j, room))
        return true;                    /* counted as a drop */
    memcpy(j->rep + n * j->sym_len, pdu->u.data.frag, len);
    j->rep_seq[n] = seq;
    j->seq_hi = seq;
    if (!placed) {
        j->pend_cnt++;                  /* placed when a copy names it */
        return true;
    }
    if (n != j->rep_cnt)
        rep_swap(j, n, j->rep_cnt);
    j->rep_esi[j->rep_cnt++] = esi;
    if ((unsigned)c + j->rep_cnt >= j->g.k)
        joint_decode(e, j);             /* may free j and m */
    return true;
}

void
pmul__rx_joint_answer(pmul_engine *e, pmul_rxmsg *m)
{
    size_t idx = joint_index(e, m->src, m->msid);
    uint64_t due = pmul__rx_ack_due(e, m);
    const pmul_rxjoint *j;
    pmul_rxmsg *am;
    unsigned i;

    pmul__rx_owe_ack_at(e, m, due);
    if (idx == SIZE_MAX)
        return;
    j = e->rx_joint[idx];
    for (i = 0; i < j->g.cnt; i++) {
        am = pmul__rx_find(e, j->src, j->g.mem[i].msid);
        if (am == NULL || am == m || !answers(am) ||
            (am->state == PMUL_RXS_ACTIVE && pmul_rob_is_complete(&am->rob)))
            continue;
        pmul__rx_owe_ack_at(e, am, due);
        if (am->state == PMUL_RXS_ACTIVE)
            pmul__rx_retime(e, am);
    }
}
