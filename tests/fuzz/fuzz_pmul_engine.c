/*
 * NAME
 *	fuzz_pmul_engine - libFuzzer target for the sans-I/O P_MUL engine
 * SYNOPSIS
 *	fuzz_pmul_engine [libFuzzer options] CORPUS_DIR...
 * DESCRIPTION
 *	Two engines per input: a receiver R (192.0.2.2) and a transmitter T
 *	(192.0.2.9) with one 3000-octet message in flight to R and 192.0.2.3,
 *	sent with FEC repair (FEC_Address_PDU, one repair PDU, repairs on
 *	Acks).
 *	The input is a sequence of records, each
 *
 *	    ctl(1) length(2, big-endian) datagram(length)
 *
 *	ctl bits 0-1 choose who gets the datagram (0 R, 1 T, 2 both, 3
 *	nobody: a pure time step), bit 2 rewrites Length_of_PDU and the
 *	Fletcher checksum to match (pmul_cksum_fletcher) so that mutations
 *	get past the checksum, bit 3 loses this step's traffic between T and
 *	R, and bits 4-7 pick the time step (0 ms .. 1 h).  After each record
 *	time advances by the step, both engines run expire, poll_tx (T's
 *	datagrams go to R, R's Acks to T, unless lost), poll_event and
 *	next_deadline.  Datagrams the input sends to R with T's Source_ID
 *	are not fed, so every message R gets from T is T's own.
 *
 *	Invariants (a failure traps, so libFuzzer keeps the input): no
 *	crash or sanitizer report; no deadline earlier than the time of the
 *	call that computed it; a DELIVERED from T is T's message, byte for
 *	byte, with a destination list that is ascending, names R and is
 *	within max_dests; the byte, message and allocation caps hold; all
 *	memory is returned when the engines are freed.
 *
 *	FUZZ_PMUL_ENGINE_VERBOSE set in the environment prints each
 *	delivery (to check what a seed reaches).
 *
 *	Seeds: tests/fuzz/seeds_engine.py writes valid exchanges (the
 *	pmul_basic vectors, Acks for T's message, losses, long steps).
 * SECURITY
 *	Test code: the inputs are hostile on purpose.
 * DIAGNOSTICS
 *	A broken invariant prints what differs and traps.
 * SEE ALSO
 *	pmul/pmul_engine.h, tests/fuzz/seeds_engine.py, tests/fuzz/fuzz_common.h,
 *	tests/fuzz/meson.build.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmul/pmul_engine.h"
#include "pmul/pmul_pdu.h"

#define FUZZ_NAME "fuzz_pmul_engine"
#include "tests/fuzz/fuzz_common.h"

#define NODE_R      0xC0000202u     /* 192.0.2.2 */
#define NODE_R2     0xC0000203u     /* 192.0.2.3 */
#define NODE_T      0xC0000209u     /* 192.0.2.9 */
#define T_MSID      0x00090001u
#define MSG_LEN     3000u
#define WALL0       1700000000
#define MEM_CAP     ((size_t)64 << 20)
#define MAX_DGRAM   1100u

static const uint32_t steps_ms[16] = {
    0, 1, 5, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000, 60000, 300000, 3600000,
};

/* ---- counting allocator -------------------------------------------------- */

typedef struct cmem {
    size_t live, peak;
} cmem;

static void *
c_alloc(void *arg, size_t n)
{
    cmem *c = arg;
    size_t *p;

    if (n > MEM_CAP || c->live + n > MEM_CAP)
        return NULL;                    /* the hard cap: the engine copes */
    if ((p = malloc(n + sizeof(size_t))) == NULL)
        return NULL;
    p[0] = n;
    c->live += n;
    if (c->live > c->peak)
        c->peak = c->live;
    return p + 1;
}

static void
c_free(void *arg, void *q)
{
    cmem *c = arg;
    size_t *p = q;

    if (p == NULL)
        return;
    p--;
    c->live -= p[0];
    free(p);
}

static void *
c_realloc(void *arg, void *q, size_t n)
{
    cmem *c = arg;
    size_t *p = q, old;
    void *r;

    if (q == NULL)
        return c_alloc(arg, n);
    old = p[-1];
    if ((r = c_alloc(arg, n)) == NULL)
        return NULL;
    memcpy(r, q, old < n ? old : n);
    c_free(c, q);
    return r;
}

static uint32_t
c_rand(void *arg)
{
    uint64_t *s = arg;

    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (uint32_t)(*s >> 16);
}

/* ---- the two nodes ------------------------------------------------------ */

typedef struct fnode {
    pmul_engine *e;
    pmul_config cfg;
    pmul_env env;
    mem m;
    cmem cm;
    uint64_t rnd;
} fnode;

static uint8_t payload[MSG_LEN];

static void
node_new(fnode *n, uint32_t id, bool shared)
{
    memset(n, 0, sizeof(*n));
    n->m.alloc = c_alloc;
    n->m.realloc = c_realloc;
    n->m.free = c_free;
    n->m.arg = &n->cm;
    n->rnd = 0x9E3779B97F4A7C15ull ^ id;
    n->env.mem = &n->m;
    n->env.rand = c_rand;
    n->env.rand_arg = &n->rnd;
    pmul_config_default(&n->cfg);
    n->cfg.node_id = id;
    /* Inputs name arbitrary Source_IDs from a few addresses: the source
     * check would drop most of them before the state machines they are
     * here to reach (the check itself has unit tests). */
    n->cfg.check_source_ip = false;
    n->cfg.first_msid = T_MSID;
    n->cfg.max_msg_len = 64u << 10;
    n->cfg.max_dests = 64;
    n->cfg.max_sources = 16;
    n->cfg.max_rx_msgs_per_src = 16;
    n->cfg.max_rx_msgs = 64;
    n->cfg.max_rx_bytes_per_src = 256u << 10;
    n->cfg.max_rx_bytes = 1u << 20;
    n->cfg.max_rx_done_per_src = 64;
    n->cfg.max_events = 256;
    n->cfg.max_tx_msgs = 4;
    /* T sends with FEC repair (one proactive repair for its 3 PDUs), so
     * hostile Acks reach the repair planner and R's decoder runs. */
    n->cfg.fec = id == NODE_T;
    n->cfg.fec_ratio_pct = 50;
    /* T on a shared channel: every hostile datagram moves its pacer.  R
     * on one for inputs of odd length: its Acks for long (or MAP-split)
     * lists follow the shared-channel rules (re-ack from the source's
     * last PDU, closing copies); on a link of its own it sends the
     * complete Ack twice after a loss. */
    n->cfg.shared_medium = id == NODE_T || shared;
    /* Kept payloads for joint repair (docs/wire.md 10.8): a few kB, so
     * that inputs reach eviction by bytes too. */
    n->cfg.fec_keep_bytes = 4096;
    CHECK(pmul_engine_new(&n->e, &n->cfg, &n->env) == 0, "engine_new id=%08x", id);
}

static void
node_free(fnode *n)
{
    pmul_stats st;

    if (getenv("FUZZ_PMUL_ENGINE_VERBOSE") != NULL) {
        pmul_engine_stats(n->e, &st);
        fprintf(stderr, "node=%08x fec_recovered=%llu joint_recovered=%llu joint_unusable=%llu "
                "keep_evicted=%llu\n", n->cfg.node_id, (unsigned long long)st.rx_fec_recovered,
                (unsigned long long)st.rx_joint_recovered,
                (unsigned long long)st.rx_joint_unusable,
                (unsigned long long)st.rx_keep_evicted);
    }
    pmul_engine_free(n->e);
    CHECK(n->cm.live == 0, "%zu octets leaked", n->cm.live);
}

static pmul_now
at(uint64_t ms)
{
    pmul_now now;

    now.mono_ms = ms;
    now.wall_s = WALL0 + (int64_t)(ms / 1000);
    return now;
}

static void
check_caps(const fnode *n)
{
    pmul_stats st;

    pmul_engine_stats(n->e, &st);
    CHECK(st.rx_held_bytes <= n->cfg.max_rx_bytes, "held %zu", st.rx_held_bytes);
    CHECK(st.rx_msgs <= n->cfg.max_rx_msgs, "rx_msgs %zu", st.rx_msgs);
    CHECK(st.tx_msgs <= n->cfg.max_tx_msgs, "tx_msgs %zu", st.tx_msgs);
    CHECK(n->cm.live <= MEM_CAP, "live %zu", n->cm.live);
}

static void
drain_events(fnode *n)
{
    pmul_event ev;
    size_t i;
    bool me;

    while (pmul_engine_poll_event(n->e, &ev) == 1) {
        if (ev.kind != PMUL_EV_DELIVERED)
            continue;
        CHECK(ev.payload != NULL && ev.payload_len > 0, "empty delivery");
        CHECK(ev.dest_cnt <= n->cfg.max_dests, "dest_cnt %zu", ev.dest_cnt);
        me = false;
        for (i = 0; i < ev.dest_cnt; i++) {
            if (i > 0)
                CHECK(ev.dests[i - 1] < ev.dests[i], "dests not ascending at %zu", i);
            if (ev.dests[i] == n->cfg.node_id)
                me = true;
        }
        CHECK(me, "delivered list without us (%zu dests)", ev.dest_cnt);
        if (getenv("FUZZ_PMUL_ENGINE_VERBOSE") != NULL)
            fprintf(stderr, "delivered node=%08x src=%08x msid=%08x len=%zu dests=%zu\n",
                    n->cfg.node_id, ev.source_id, ev.msid, ev.payload_len, ev.dest_cnt);
        if (ev.source_id == NODE_T) {
            CHECK(ev.msid == T_MSID, "msid %08x from T", ev.msid);
            CHECK(ev.payload_len == MSG_LEN && memcmp(ev.payload, payload, MSG_LEN) == 0,
                  "payload from T differs (len %zu)", ev.payload_len);
        }
    }
}

/* Run every timer due at now and move traffic between the two nodes
 * until both are quiet. */
static void
service(fnode *r, fnode *t, uint64_t now, bool lose)
{
    static uint8_t buf[PMUL_PDU_MAX_LEN];
    pmul_addr to, from;
    ssize_t len;
    int round, moved;

    pmul_engine_expire(r->e, at(now));
    pmul_engine_expire(t->e, at(now));
    for (round = 0; round < 64; round++) {
        moved = 0;
        while ((len = pmul_engine_poll_tx(t->e, at(now), buf, sizeof(buf), &to)) > 0) {
            moved++;
            if (!lose) {
                from.ip = NODE_T;
                from.port = to.port;
                from.is_multicast = false;
                (void)pmul_engine_recv(r->e, at(now), &from, buf, (size_t)len);
            }
        }
        CHECK(len == 0, "tx poll %zd", len);
        while ((len = pmul_engine_poll_tx(r->e, at(now), buf, sizeof(buf), &to)) > 0) {
            moved++;
            if (!lose && to.ip == NODE_T) {
                from.ip = NODE_R;
                from.port = to.port;
                from.is_multicast = false;
                (void)pmul_engine_recv(t->e, at(now), &from, buf, (size_t)len);
            }
        }
        CHECK(len == 0, "rx poll %zd", len);
        drain_events(r);
        drain_events(t);
        if (moved == 0)
            break;
    }
    check_caps(r);
    check_caps(t);
}

static void
check_deadline(const fnode *n, uint64_t now)
{
    uint64_t dl = pmul_engine_next_deadline(n->e);

    CHECK(dl == UINT64_MAX || dl >= now, "deadline %llu before now %llu",
          (unsigned long long)dl, (unsigned long long)now);
}

static void
feed(fnode *n, uint64_t now, const uint8_t *d, size_t len, uint32_t from_ip)
{
    pmul_addr from;

    from.ip = from_ip;
    from.port = PMUL_DPORT_DEFAULT;
    from.is_multicast = false;
    (void)pmul_engine_recv(n->e, at(now), &from, d, len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t dg[MAX_DGRAM];
    static const uint32_t dests[2] = { NODE_R, NODE_R2 };
    fnode r, t;
    pmul_msg msg;
    uint32_t msid = 0, src;
    uint64_t now = 0;
    size_t off = 0, len, i;
    uint8_t ctl;
    uint16_t ck;

    for (i = 0; i < MSG_LEN; i++)
        payload[i] = (uint8_t)(i * 7 + (i >> 8));
    node_new(&r, NODE_R, (size & 1) != 0);
    node_new(&t, NODE_T, true);
    memset(&msg, 0, sizeof(msg));
    msg.payload = payload;
    msg.payload_len = MSG_LEN;
    msg.dests = dests;
    msg.dest_cnt = 2;
    msg.priority = 3;
    msg.expiry_s = WALL0 + 7200;
    CHECK(pmul_engine_submit(t.e, at(0), &msg, &msid) == 0, "submit");
    CHECK(msid == T_MSID, "msid %08x", msid);
    service(&r, &t, now, false);

    while (size - off >= 3) {
        ctl = data[off];
        len = (size_t)data[off + 1] << 8 | data[off + 2];
        off += 3;
        if (len > size - off)
            len = size - off;
        if (len > MAX_DGRAM)
            len = MAX_DGRAM;
        memcpy(dg, data + off, len);
        off += len;
        if ((ctl & 0x04) && len >= 8) {
            dg[0] = (uint8_t)(len >> 8);
            dg[1] = (uint8_t)len;
            dg[6] = dg[7] = 0;
            ck = pmul_cksum_fletcher(dg, len);
            dg[6] = (uint8_t)(ck >> 8);
            dg[7] = (uint8_t)ck;
        }
        src = len >= 12 ? (uint32_t)dg[8] << 24 | (uint32_t)dg[9] << 16 |
                          (uint32_t)dg[10] << 8 | dg[11] : 0;
        switch (ctl & 0x03) {
        case 0:
        case 2:
            /* R hears T only from T itself (the consistency check). */
            if (src != NODE_T)
                feed(&r, now, dg, len, src != 0 ? src : 0xC0000201u);
            if ((ctl & 0x03) == 0)
                break;
            /* fall through */
        case 1:
            feed(&t, now, dg, len, src != 0 ? src : NODE_R);
            break;
        default:
            break;
        }
        service(&r, &t, now, (ctl & 0x08) != 0);
        check_deadline(&r, now);
        check_deadline(&t, now);
        now += steps_ms[ctl >> 4];
        service(&r, &t, now, (ctl & 0x08) != 0);
        check_deadline(&r, now);
        check_deadline(&t, now);
    }
    node_free(&r);
    node_free(&t);
    return 0;
}
