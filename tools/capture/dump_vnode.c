/*
 * NAME
 *	dump_vnode - drive one P_MUL engine on capture time
 * SYNOPSIS
 *	#include "tools/capture/dump_vnode.h"
 * DESCRIPTION
 *	pmul-dump runs one vnode per receiving node seen in a capture, to
 *	reassemble messages exactly as that receiver would; pmul-replay runs
 *	one for the node named by --as.  Both feed datagrams at their capture
 *	timestamps.
 *
 *	Time: a capture timestamp t (microseconds since 1970) becomes
 *	pmul_now { mono_ms = t / 1000, wall_s = t / 1000000 }, so the engine
 *	compares Expiry_Time with the time of the capture, not of the replay.
 *	Before each datagram the engine's timers due until its timestamp are
 *	run in order, each at its own deadline (never before the last time
 *	given, as the engine requires), so retransmission and Ack timers fire
 *	between datagrams exactly as they would have on the air.
 *
 *	Output: after every call into the engine, poll_tx and poll_event are
 *	drained into the sink.  The engine is created without pacing unless
 *	asked, because a replayed node must answer at the time the protocol
 *	says, not at the time a slow virtual link allows.
 * SECURITY
 *	Passes untrusted datagrams to the engine, which validates them
 *	through the codec.  Every loop here is bounded.
 * DIAGNOSTICS
 *	Returns the engine's codes.  A timer round that does not make
 *	progress (the engine asks again for a time already processed, more
 *	than VNODE_MAX_ROUNDS times) is cut short and counted as a stall.
 * SEE ALSO
 *	pmul_engine(3), dump_fmt(3), docs/tools.md.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "tools/capture/dump_vnode.h"

#include <string.h>

#include "pmul/pmul_pdu.h"
#include "pmul/util/mem.h"

/* Bounds on one drain and one timer catch-up.  A receiving node emits a
 * handful of Acks per datagram; these are far above any real need. */
#define VNODE_MAX_TX        100000u
#define VNODE_MAX_ROUNDS    100000u

struct vnode {
    pmul_engine *e;
    vnode_sink sink;
    uint32_t node_id;
    uint64_t last_us;           /* latest virtual time given to the engine */
    uint64_t rng;               /* xorshift64 state */
    uint64_t stalls;
    uint8_t *txbuf;             /* PMUL_PDU_MAX_LEN octets */
};

/* xorshift64 (Marsaglia 2003): deterministic, and all the engine asks
 * of it is spreading Ack delays. */
static uint32_t
vnode_rand(void *arg)
{
    vnode *n = arg;
    uint64_t x = n->rng;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    n->rng = x;
    return (uint32_t)(x >> 32);
}

static pmul_now
mk_now(uint64_t t_us)
{
    pmul_now now;

    now.mono_ms = t_us / 1000u;
    now.wall_s = (int64_t)(t_us / 1000000u);
    return now;
}

int
vnode_new(vnode **out, const vnode_opts *o, const vnode_sink *sink)
{
    pmul_config cfg;
    pmul_env env;
    vnode *n;
    int rc;

    *out = NULL;
    n = mem_calloc(NULL, 1, sizeof(*n));
    if (n == NULL)
        return PMUL_ERR_NOMEM;
    n->txbuf = mem_alloc(NULL, PMUL_PDU_MAX_LEN);
    if (n->txbuf == NULL) {
        mem_free(NULL, n);
        return PMUL_ERR_NOMEM;
    }
    n->sink = *sink;
    n->node_id = o->node_id;
    n->rng = o->seed != 0 ? o->seed : (uint64_t)o->node_id * 0x9E3779B97F4A7C15u;
    if (n->rng == 0)
        n->rng = 1;

    if (o->base != NULL)
        cfg = *o->base;
    else
        pmul_config_default(&cfg);
    cfg.node_id = o->node_id;
    cfg.link_rate_bps = o->rate_bps;
    cfg.emcon = o->emcon;
    /* Accept what any sender may send: the largest PDUs the format
     * allows (a receiver cap smaller than the sender's PDU size would
     * make the replay disagree with the field). */
    cfg.pdu_max_len = o->pdu_max_len != 0 ? o->pdu_max_len : PMUL_PDU_MAX_LEN;

    memset(&env, 0, sizeof(env));
    env.mem = NULL;
    if (o->log != NULL)
        env.log = *o->log;
    env.rand = vnode_rand;
    env.rand_arg = n;

    rc = pmul_engine_new(&n->e, &cfg, &env);
    if (rc != 0) {
        mem_free(NULL, n->txbuf);
        mem_free(NULL, n);
        return rc;
    }
    *out = n;
    return 0;
}

void
vnode_free(vnode *n)
{
    if (n == NULL)
        return;
    pmul_engine_free(n->e);
    mem_free(NULL, n->txbuf);
    mem_free(NULL, n);
}

/* Hand everything the engine has for us to the sink. */
static void
drain(vnode *n, uint64_t t_us)
{
    pmul_now now = mk_now(t_us);
    pmul_event ev;
    pmul_addr to;
    ssize_t len;
    unsigned i;

    for (i = 0; i < VNODE_MAX_TX; i++) {
        memset(&to, 0, sizeof(to));
        len = pmul_engine_poll_tx(n->e, now, n->txbuf, PMUL_PDU_MAX_LEN, &to);
        if (len <= 0)
            break;
        if (n->sink.on_tx != NULL)
            n->sink.on_tx(n->sink.arg, n->node_id, t_us, &to, n->txbuf, (size_t)len);
    }
    /* Events are bounded by the engine's own max_events queue. */
    while (pmul_engine_poll_event(n->e, &ev) == 1) {
        if (n->sink.on_event != NULL)
            n->sink.on_event(n->sink.arg, n->node_id, t_us, &ev);
    }
}

void
vnode_advance(vnode *n, uint64_t t_us)
{
    uint64_t dl, at;
    unsigned rounds;

    for (rounds = 0;; rounds++) {
        dl = pmul_engine_next_deadline(n->e);
        if (dl == UINT64_MAX || dl > t_us / 1000u)
            break;
        if (rounds == VNODE_MAX_ROUNDS) {
            n->stalls++;
            break;
        }
        /* Each timer runs at its own deadline; mono_ms never goes back. */
        at = dl * 1000u;
        if (at < n->last_us)
            at = n->last_us;
        if (at > t_us)
            at = t_us;
        n->last_us = at;
        (void)pmul_engine_expire(n->e, mk_now(at));
        drain(n, at);
    }
    if (t_us > n->last_us)
        n->last_us = t_us;
}

int
vnode_recv(vnode *n, uint64_t t_us, uint32_t from_ip, uint16_t from_port,
           const uint8_t *pkt, size_t len)
{
    pmul_addr from;
    int rc;

    vnode_advance(n, t_us);
    memset(&from, 0, sizeof(from));
    from.ip = from_ip;
    from.port = from_port;
    rc = pmul_engine_recv(n->e, mk_now(n->last_us), &from, pkt, len);
    drain(n, n->last_us);
    return rc;
}

uint64_t
vnode_next_deadline_us(const vnode *n)
{
    uint64_t dl = pmul_engine_next_deadline(n->e);

    if (dl == UINT64_MAX || dl > UINT64_MAX / 1000u)
        return UINT64_MAX;
    return dl * 1000u;
}

bool
vnode_is_idle(const vnode *n)
{
    return pmul_engine_is_idle(n->e);
}

uint32_t
vnode_node_id(const vnode *n)
{
    return n->node_id;
}

void
vnode_stats(const vnode *n, pmul_stats *out)
{
    pmul_engine_stats(n->e, out);
}

uint64_t
vnode_stalls(const vnode *n)
{
    return n->stalls;
}
