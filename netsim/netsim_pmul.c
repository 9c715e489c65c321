/*
 * NAME
 *	netsim_pmul - netsim engine adapter for the P_MUL engine
 * SYNOPSIS
 *	#include "netsim/netsim_pmul.h"
 * DESCRIPTION
 *	A thin translation layer.  Each node's engine is configured from
 *	pmul_config_default() plus the node's address and link rate, then
 *	the scenario's "engine KEY VALUE" settings.  Randomness (Ack
 *	spreading, first MSID) comes from a netsim_rng stream per node, so
 *	runs are reproducible.  Engine events are mapped onto netsim's
 *	normalised kinds; join/leave-group and EMCON-off events only go into
 *	the transcript (the medium delivers multicast to every node).
 * SECURITY
 *	Passes datagrams through unchanged; the engine validates them.
 * DIAGNOSTICS
 *	create() fails on an unknown key or bad value (logged at error level
 *	through the injected logger) or when pmul_engine_new() refuses the
 *	configuration.  submit() maps PMUL_ERR_BUSY and PMUL_ERR_NOMEM to
 *	NETSIM_ERR_LIMIT (retry later).
 * SEE ALSO
 *	pmul_engine(3), netsim(7).
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "netsim/netsim_pmul.h"

#include <string.h>

#include "pmul/pmul_engine.h"
#include "pmul/pmul_pdu.h"
#include "pmul/util/arr.h"

/* Messages whose Total a drop-fec node remembers (the latest ones). */
#define BLIND_MSGS 64

/* What the application of a node would have persisted about a message it
 * sent: enough to resume it after a restart. */
typedef struct sent_msg {
    uint32_t msid;
    uint8_t *payload;           /* owned */
    size_t len;
    uint32_t *dests;            /* owned, cnt */
    uint32_t *msns;             /* owned, cnt: as first sent */
    bool *final;                /* owned, cnt: acked or failed */
    size_t cnt;
    uint8_t prio;
    int64_t expiry_s;
    uint64_t tag;
    bool done;
} sent_msg;

/* A message the application accepted (holds durably), for restore_done. */
typedef struct done_ent {
    uint32_t src, msid;
    int64_t expiry_s;
} done_ent;

typedef struct pnode {
    pmul_engine *e;
    netsim_rng rng;
    int64_t wall_start_s;
    const mem *m;
    pmul_config cfg;            /* as created (for a restart) */
    pmul_env env;
    uint64_t now_us;            /* of the latest call */
    bool emcon;                 /* current own EMCON state */
    /* The application's side (docs/netsim.md "restart and accept"). */
    bool accept;                /* accept mode: accept unless deferring */
    uint64_t defer_until_ms;    /* defer every DELIVERED before this */
    uint64_t restart_at_ms;     /* UINT64_MAX: never */
    sent_msg *sent;
    size_t sent_cnt, sent_cap;
    done_ent *done;
    size_t done_cnt, done_cap;
    uint8_t *evbuf;             /* copy of the last accepted payload */
    size_t evbuf_cap;
    uint32_t restarts;
    /* What "expect stat" asks beyond pmul_stats: the engine's state at
     * its largest (sampled after every datagram and timer), and the
     * multicast groups the driver would have joined. */
    size_t peak_rx_msgs, peak_rx_bytes;
    uint64_t groups, peak_groups;
    /* drop-fec-node: a receiver of the original ACP 142 (blind_drop()). */
    bool drop_fec;
    struct { uint32_t src, msid; uint16_t total; } fec_seen[BLIND_MSGS];
    size_t fec_seen_next;
    uint64_t fec_dropped;
    /* plain-fec-node: reads FEC_Address_PDUs, knows no scheme
     * (fec_hide()); the copy it hands its engine. */
    uint8_t *fec_copy;
    /* Both read datagrams with the one P_MUL decoder (peek()). */
    pmul_pdu_scratch dsc;
} pnode;

static pmul_now
to_now(const pnode *n, uint64_t us)
{
    pmul_now now;

    now.mono_ms = us / 1000;
    now.wall_s = n->wall_start_s + (int64_t)(us / 1000000);
    return now;
}

static uint32_t
node_rand(void *arg)
{
    return (uint32_t)(netsim_rng_next(arg) >> 32);
}

static bool
kv_u64(const char *v, uint64_t *out)
{
    uint64_t x = 0;

    if (*v == '\0')
        return false;
    for (; *v != '\0'; v++) {
        if (*v < '0' || *v > '9' || x > (UINT64_MAX - 9) / 10)
            return false;
        x = x * 10 + (uint64_t)(*v - '0');
    }
    *out = x;
    return true;
}

/* Apply one "engine KEY VALUE"; false for an unknown key or bad value. */
static bool
apply_kv(pmul_config *c, const netsim_kv *kv)
{
    static const struct {
        const char *key;
        size_t off;
        int width;              /* 1 bool, 2 u16, 4 u32, 8 size_t, 9 u64 */
        uint64_t lo, hi;
    } keys[] = {
#define K(name, field, w, lo, hi) { name, offsetof(pmul_config, field), w, lo, hi }
        K("pdu-max", pdu_max_len, 8, 64, 65535),
        K("max-msg-len", max_msg_len, 8, 1, 1u << 30),
        K("ack-rtx-min-ms", ack_rtx_min_ms, 4, 1, 86400000),
        K("ack-rtx-max-ms", ack_rtx_max_ms, 4, 1, 86400000),
        K("ack-rtx-fixed", ack_rtx_fixed, 1, 0, 1),
        K("backoff-pct", backoff_factor_pct, 4, 100, 1000),
        K("emcon-rtc", emcon_rtc, 4, 0, 1000),
        K("emcon-rti-ms", emcon_rti_ms, 4, 1, 86400000),
        K("mm", mm, 2, 1, 32767),
        K("ack-pdu-time-ms", ack_pdu_time_ms, 4, 1, 86400000),
        K("ack-spread-ms", ack_spread_ms, 4, 0, 86400000),
        K("ack-batch-ms", ack_batch_ms, 4, 0, 86400000),
        K("early-data-ms", early_data_ms, 4, 1, 86400000),
        K("default-expiry-s", default_expiry_s, 4, 1, 31622400),
        K("first-msid", first_msid, 4, 0, UINT32_MAX),
        K("ack-timestamp", ack_timestamp, 1, 0, 1),
        K("max-tx-msgs", max_tx_msgs, 8, 1, 1u << 20),
        K("max-dests", max_dests, 8, 1, 65535),
        K("max-rx-msgs", max_rx_msgs, 8, 1, 1u << 20),
        K("max-rx-msgs-per-src", max_rx_msgs_per_src, 8, 1, 1u << 20),
        K("max-rx-done-per-src", max_rx_done_per_src, 8, 1, 1u << 20),
        K("max-rx-done-ranges", max_rx_done_ranges, 8, 1, 1u << 20),
        K("link-rate-bps", link_rate_bps, 9, 0, UINT64_MAX),
        K("shared-medium", shared_medium, 1, 0, 1),
        K("fec", fec, 1, 0, 1),
        K("fec-ratio", fec_ratio_pct, 4, 0, 2500),
        K("fec-emcon-repairs", fec_emcon_repairs, 4, 0, 254),
        K("fec-max-block", fec_max_block, 4, 1, 254),
        K("fec-emcon-addr", fec_emcon_addr, 4, 1, 16),
        K("fec-adaptive", fec_adaptive, 1, 0, 1),
        K("fec-joint", fec_joint, 1, 0, 1),
        K("fec-joint-max", fec_joint_max, 4, 2, 30),
        K("fec-joint-wait-ms", fec_joint_wait_ms, 4, 0, 86400000),
        K("fec-keep-bytes", fec_keep_bytes, 4, 0, 1u << 30),
#undef K
    };
    size_t i;
    uint64_t v;

    for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        char *f;

        if (strcmp(kv->key, keys[i].key) != 0)
            continue;
        if (!kv_u64(kv->val, &v) || v < keys[i].lo || v > keys[i].hi)
            return false;
        f = (char *)c + keys[i].off;
        switch (keys[i].width) {
        case 1: *(bool *)(void *)f = v != 0; break;
        case 2: *(uint16_t *)(void *)f = (uint16_t)v; break;
        case 4: *(uint32_t *)(void *)f = (uint32_t)v; break;
        case 8: *(size_t *)(void *)f = (size_t)v; break;
        default: *(uint64_t *)(void *)f = v; break;
        }
        return true;
    }
    return false;
}

/* "A.B.C.D" or a decimal node ID. */
static bool
kv_ip(const char *v, uint32_t *out)
{
    uint64_t part = 0, ip = 0;
    int dots = 0;

    if (kv_u64(v, &part) && part <= UINT32_MAX) {
        *out = (uint32_t)part;
        return true;
    }
    for (part = 0; *v != '\0'; v++) {
        if (*v == '.') {
            if (++dots > 3 || part > 255)
                return false;
            ip = ip << 8 | part;
            part = 0;
        } else if (*v >= '0' && *v <= '9' && part <= 255) {
            part = part * 10 + (uint64_t)(*v - '0');
        } else {
            return false;
        }
    }
    if (dots != 3 || part > 255)
        return false;
    *out = (uint32_t)(ip << 8 | part);
    return true;
}

/*
 * Settings of the simulated application rather than of the engine
 * ("engine KEY VALUE" lines, for every node unless a -node key names
 * one): accept-mode 1 (accept every DELIVERED once "stored"),
 * defer-node IP + defer-until-ms T (that node defers every DELIVERED
 * before T: a full disk), restart-node IP + restart-at-ms T (that node
 * crashes at T and comes back from what it persisted), drop-fec-node IP
 * (that node knows no FEC: blind_drop(); may be given for several nodes),
 * plain-fec-node IP (that node knows no FEC scheme: fec_hide()).
 * Returns 1 when
 * kv was one of them, 0 when not, -1 when its value is bad.
 */
static int
apply_app_kv(pnode *n, uint32_t node_id, const netsim_kv *kv, uint32_t *defer_node,
             uint32_t *restart_node, uint64_t *defer_until, uint64_t *restart_at)
{
    uint64_t v;
    uint32_t ip;

    if (strcmp(kv->key, "accept-mode") == 0) {
        if (!kv_u64(kv->val, &v) || v > 1)
            return -1;
        n->accept = v != 0;
        n->cfg.deliver_needs_accept = v != 0;
        return 1;
    }
    if (strcmp(kv->key, "defer-node") == 0)
        return kv_ip(kv->val, defer_node) ? 1 : -1;
    if (strcmp(kv->key, "restart-node") == 0)
        return kv_ip(kv->val, restart_node) ? 1 : -1;
    if (strcmp(kv->key, "defer-until-ms") == 0)
        return kv_u64(kv->val, defer_until) ? 1 : -1;
    if (strcmp(kv->key, "restart-at-ms") == 0)
        return kv_u64(kv->val, restart_at) ? 1 : -1;
    if (strcmp(kv->key, "drop-fec-node") == 0) {
        if (!kv_ip(kv->val, &ip))
            return -1;
        n->drop_fec |= ip == node_id;
        return 1;
    }
    if (strcmp(kv->key, "plain-fec-node") == 0) {
        if (!kv_ip(kv->val, &ip))
            return -1;
        if (ip == node_id && n->fec_copy == NULL &&
            (n->fec_copy = mem_alloc(n->m, PMUL_PDU_MAX_LEN)) == NULL)
            return -1;
        return 1;
    }
    if (strcmp(kv->key, "defer-retry-ms") == 0) {
        if (!kv_u64(kv->val, &v) || v == 0 || v > 86400000)
            return -1;
        n->cfg.defer_retry_ms = (uint32_t)v;
        return 1;
    }
    return 0;
}

static int
p_create(void **out, const netsim_engine_init *init)
{
    pnode *n;
    pmul_config cfg;
    pmul_env env;
    size_t i;
    int rc, app;
    uint32_t defer_node = 0, restart_node = 0;
    uint64_t defer_until = 0, restart_at = UINT64_MAX;

    *out = NULL;
    n = mem_calloc(init->m, 1, sizeof(*n));
    if (n == NULL)
        return NETSIM_ERR_NOMEM;
    n->wall_start_s = init->wall_start_s;
    n->m = init->m;
    n->restart_at_ms = UINT64_MAX;
    netsim_rng_seed(&n->rng, init->seed, 0x706d756cu);
    pmul_config_default(&n->cfg);
    n->cfg.node_id = init->node_id;
    n->cfg.link_rate_bps = init->rate_bps;
    if (init->group != 0)
        n->cfg.default_group = init->group;
    n->cfg.emcon = init->emcon;
    n->emcon = init->emcon;
    for (i = 0; i < init->kv_cnt; i++) {
        app = apply_app_kv(n, init->node_id, &init->kv[i], &defer_node, &restart_node,
                           &defer_until, &restart_at);
        if (app == 1)
            continue;
        if (app < 0 || !apply_kv(&n->cfg, &init->kv[i])) {
            log_emit(init->log, LOG_LVL_ERROR,
                     "netsim_pmul event=bad-setting line=%d key=%s value=%s",
                     init->kv[i].line, init->kv[i].key, init->kv[i].val);
            mem_free(init->m, n);
            return NETSIM_ERR_INVAL;
        }
    }
    if (defer_node == 0 || defer_node == init->node_id)
        n->defer_until_ms = defer_until;
    if (restart_node == init->node_id)
        n->restart_at_ms = restart_at;
    cfg = n->cfg;
    memset(&env, 0, sizeof(env));
    env.mem = init->m;
    if (init->log != NULL)
        env.log = *init->log;
    env.rand = node_rand;
    env.rand_arg = &n->rng;
    n->env = env;
    rc = pmul_engine_new(&n->e, &cfg, &env);
    if (rc != 0) {
        log_emit(init->log, LOG_LVL_ERROR, "netsim_pmul event=engine-new err=%s",
                 pmul_strerror(rc));
        mem_free(init->m, n);
        return rc == PMUL_ERR_NOMEM ? NETSIM_ERR_NOMEM : NETSIM_ERR_ENGINE;
    }
    *out = n;
    return 0;
}

static void
sent_fini(pnode *n, sent_msg *sm)
{
    mem_free(n->m, sm->payload);
    mem_free(n->m, sm->dests);
    mem_free(n->m, sm->msns);
    mem_free(n->m, sm->final);
}

static void
p_destroy(void *eng)
{
    pnode *n = eng;
    size_t i;

    pmul_engine_free(n->e);
    for (i = 0; i < n->sent_cnt; i++)
        sent_fini(n, &n->sent[i]);
    mem_free(n->m, n->sent);
    mem_free(n->m, n->done);
    mem_free(n->m, n->evbuf);
    mem_free(n->m, n->fec_copy);
    mem_free(n->m, n->dsc.dests);
    mem_free(n->m, n);
}

static sent_msg *
sent_find(pnode *n, uint32_t msid)
{
    size_t i;

    for (i = 0; i < n->sent_cnt; i++)
        if (n->sent[i].msid == msid && !n->sent[i].done)
            return &n->sent[i];
    return NULL;
}

/* Record a submitted message as the application would persist it.  The
 * engine assigned msns (read before the submit). */
static int
sent_add(pnode *n, uint32_t msid, const pmul_msg *m, const uint32_t *msns)
{
    sent_msg *sm;

    if (arr_grow(n->m, (void **)&n->sent, &n->sent_cap, n->sent_cnt + 1, sizeof(*n->sent),
                 SIZE_MAX / sizeof(*n->sent)) != 0)
        return NETSIM_ERR_NOMEM;
    sm = &n->sent[n->sent_cnt];
    memset(sm, 0, sizeof(*sm));
    sm->payload = mem_alloc(n->m, m->payload_len);
    sm->dests = mem_alloc(n->m, m->dest_cnt * sizeof(*sm->dests));
    sm->msns = mem_alloc(n->m, m->dest_cnt * sizeof(*sm->msns));
    sm->final = mem_calloc(n->m, m->dest_cnt, sizeof(*sm->final));
    if (sm->payload == NULL || sm->dests == NULL || sm->msns == NULL || sm->final == NULL) {
        sent_fini(n, sm);
        return NETSIM_ERR_NOMEM;
    }
    memcpy(sm->payload, m->payload, m->payload_len);
    memcpy(sm->dests, m->dests, m->dest_cnt * sizeof(*sm->dests));
    memcpy(sm->msns, msns, m->dest_cnt * sizeof(*sm->msns));
    sm->len = m->payload_len;
    sm->cnt = m->dest_cnt;
    sm->msid = msid;
    sm->prio = m->priority;
    sm->expiry_s = m->expiry_s;
    sm->tag = m->tag;
    n->sent_cnt++;
    return 0;
}

/*
 * The node crashes and comes back: the engine and everything it held in
 * memory are gone; a new engine starts from what the application
 * persisted, as muled does (docs/engine.md 3.1): its EMCON state, the next
 * MSID and each destination's next Message_Sequence_Number, the messages
 * it accepted (restore_done), and the messages in flight, resumed with
 * their MSIDs and numbers to the destinations still pending.
 */
static int
restart(pnode *n)
{
    pmul_now now = to_now(n, n->now_us);
    pmul_config cfg = n->cfg;
    uint32_t next_msid = pmul_engine_next_msid(n->e), *dests, *msns, msid;
    size_t i, k, cnt;
    pmul_msg m;
    int rc;

    pmul_engine_free(n->e);
    n->e = NULL;
    n->restarts++;
    cfg.first_msid = next_msid;
    cfg.emcon = n->emcon;
    if ((rc = pmul_engine_new(&n->e, &cfg, &n->env)) != 0)
        return rc == PMUL_ERR_NOMEM ? NETSIM_ERR_NOMEM : NETSIM_ERR_ENGINE;
    for (i = 0; i < n->sent_cnt; i++)
        for (k = 0; k < n->sent[i].cnt; k++)
            if (pmul_engine_next_msn(n->e, n->sent[i].dests[k]) <= n->sent[i].msns[k] &&
                pmul_engine_set_next_msn(n->e, n->sent[i].dests[k], n->sent[i].msns[k] + 1) != 0)
                return NETSIM_ERR_NOMEM;
    for (i = 0; i < n->done_cnt; i++) {
        rc = pmul_engine_restore_done(n->e, now, n->done[i].src, n->done[i].msid,
                                      n->done[i].expiry_s);
        if (rc != 0 && rc != PMUL_ERR_EXPIRED)
            return NETSIM_ERR_ENGINE;
    }
    for (i = 0; i < n->sent_cnt; i++) {
        sent_msg *sm = &n->sent[i];

        if (sm->done)
            continue;
        dests = mem_alloc(n->m, sm->cnt * sizeof(*dests));
        msns = mem_alloc(n->m, sm->cnt * sizeof(*msns));
        if (dests == NULL || msns == NULL) {
            mem_free(n->m, dests);
            mem_free(n->m, msns);
            return NETSIM_ERR_NOMEM;
        }
        for (k = cnt = 0; k < sm->cnt; k++) {
            if (sm->final[k])
                continue;
            dests[cnt] = sm->dests[k];
            msns[cnt++] = sm->msns[k];
        }
        memset(&m, 0, sizeof(m));
        m.payload = sm->payload;
        m.payload_len = sm->len;
        m.dests = dests;
        m.dest_cnt = cnt;
        m.priority = sm->prio;
        m.expiry_s = sm->expiry_s;
        m.tag = sm->tag;
        m.msid = sm->msid;
        m.dest_msns = msns;
        rc = cnt > 0 ? pmul_engine_submit(n->e, now, &m, &msid) : 0;
        mem_free(n->m, dests);
        mem_free(n->m, msns);
        if (rc == PMUL_ERR_EXPIRED)
            sm->done = true;            /* gone while we were down */
        else if (rc != 0)
            return NETSIM_ERR_ENGINE;
    }
    return 0;
}

/* Every entry point notes the time and crashes the node when its restart
 * time has come. */
static int
tick(pnode *n, uint64_t now_us)
{
    n->now_us = now_us;
    if (now_us / 1000 < n->restart_at_ms)
        return 0;
    n->restart_at_ms = UINT64_MAX;
    return restart(n);
}

static int
p_submit(void *eng, uint64_t now_us, const netsim_submit *sm, uint32_t *msid)
{
    pnode *n = eng;
    pmul_now now = to_now(n, now_us);
    pmul_msg m;
    int rc;

    memset(&m, 0, sizeof(m));
    m.payload = sm->payload;
    m.payload_len = sm->len;
    m.dests = sm->dests;
    m.dest_cnt = sm->dest_cnt;
    m.dest_emcon = sm->dest_emcon;
    m.group = 0;
    m.priority = sm->prio;
    /* Expiry_Time is whole Unix seconds: round the relative time up. */
    m.expiry_s = sm->expiry_us == 0 ? 0
               : now.wall_s + (int64_t)((sm->expiry_us + 999999) / 1000000);
    m.tag = sm->tag;
    if ((rc = tick(n, now_us)) != 0)
        return rc;
    if (n->restart_at_ms != UINT64_MAX || n->restarts > 0) {
        /* This node persists what it sends (it will restart, or did). */
        uint32_t *msns = mem_alloc(n->m, sm->dest_cnt * sizeof(*msns));
        size_t i;

        if (msns == NULL)
            return NETSIM_ERR_LIMIT;
        if (m.expiry_s == 0)
            m.expiry_s = now.wall_s + (int64_t)n->cfg.default_expiry_s;
        for (i = 0; i < sm->dest_cnt; i++)
            msns[i] = pmul_engine_next_msn(n->e, sm->dests[i]);
        rc = pmul_engine_submit(n->e, now, &m, msid);
        if (rc == 0 && sent_add(n, *msid, &m, msns) != 0)
            rc = PMUL_ERR_NOMEM;        /* cannot persist: not accepted */
        mem_free(n->m, msns);
        if (rc == PMUL_ERR_BUSY || rc == PMUL_ERR_NOMEM)
            return NETSIM_ERR_LIMIT;
        return rc;
    }
    rc = pmul_engine_submit(n->e, now, &m, msid);
    if (rc == PMUL_ERR_BUSY || rc == PMUL_ERR_NOMEM)
        return NETSIM_ERR_LIMIT;
    return rc;
}

/* Note the largest state the engine has held: memory under its caps is
 * what an attack scenario asserts. */
static void
sample_peaks(pnode *n)
{
    pmul_stats st;

    pmul_engine_stats(n->e, &st);
    if (st.rx_msgs > n->peak_rx_msgs)
        n->peak_rx_msgs = st.rx_msgs;
    if (st.rx_held_bytes > n->peak_rx_bytes)
        n->peak_rx_bytes = st.rx_held_bytes;
}

/*
 * Decode a datagram for a drop-fec or plain-fec node with pmul_pdu_decode(),
 * the one P_MUL parser, its lists bounded as its engine's (max_dests).
 * Returns false when it does not decode: the engine then sees it as it is.
 */
static bool
peek(pnode *n, const uint8_t *pkt, size_t len, pmul_pdu *pdu)
{
    if (n->dsc.dests == NULL) {
        n->dsc.dests = mem_calloc(n->m, n->cfg.max_dests, sizeof(*n->dsc.dests));
        if (n->dsc.dests == NULL)
            return false;
        n->dsc.dests_cap = n->cfg.max_dests;
        n->dsc.max_pdu_len = PMUL_PDU_MAX_LEN;
    }
    return pmul_pdu_decode(pdu, &n->dsc, pkt, len) == 0;
}

static bool
is_fec_type(unsigned type)
{
    return type == PMUL_PDU_FEC_ADDRESS || type == PMUL_PDU_EXTRA_FEC_ADDRESS;
}

/*
 * A drop-fec node models a receiver of the original ACP 142 that does not
 * know PDU types 8 and 0x18 (docs/engine.md 2): it drops them as unknown,
 * before its engine, and drops a Data_PDU numbered above its message's
 * Total as out of range (mule's own receiver would take it as proof of a
 * wrong Total, its tolerance of a Java quirk, and wait for the numbers
 * between).  The model takes that Total from any announcement of the
 * message, and keeps no Data_PDU of a message before it has seen one: a
 * real receiver would hold such fragments and discard those above Total
 * once the Address_PDU tells it the Total.
 */
static bool
blind_drop(pnode *n, const uint8_t *pkt, size_t len)
{
    pmul_pdu pdu;
    size_t i;
    bool fec;

    if (!n->drop_fec || !peek(n, pkt, len, &pdu))
        return false;
    for (i = 0; i < BLIND_MSGS; i++)
        if (n->fec_seen[i].src == pdu.source_id && n->fec_seen[i].msid == pdu.msid)
            break;
    fec = is_fec_type(pdu.type);
    if (fec || pdu.type == PMUL_PDU_ADDRESS || pdu.type == PMUL_PDU_EXTRA_ADDRESS) {
        if (i == BLIND_MSGS && pdu.u.address.total_pdus != 0) {
            i = n->fec_seen_next;
            n->fec_seen_next = (n->fec_seen_next + 1) % BLIND_MSGS;
            n->fec_seen[i].src = pdu.source_id;
            n->fec_seen[i].msid = pdu.msid;
            n->fec_seen[i].total = pdu.u.address.total_pdus;
        }
        n->fec_dropped += fec;
        return fec;
    }
    if (pdu.type != PMUL_PDU_DATA ||
        (i < BLIND_MSGS && pdu.u.data.seq <= n->fec_seen[i].total))
        return false;
    n->fec_dropped++;
    return true;
}

/*
 * A plain-fec-node reads a FEC_Address_PDU as an Address_PDU but knows no
 * FEC scheme (docs/wire.md 10.1 item 5): it lists every source it lacks
 * and drops the repairs.  Modelled by handing its engine a copy whose FEC
 * parameters carry version 0, which the engine does not know, so it
 * receives the message plainly (rx_fec_rejected).  Returns the datagram
 * to give the engine.
 */
static const uint8_t *
fec_hide(pnode *n, const uint8_t *pkt, size_t len)
{
    uint8_t par[255];
    pmul_pdu pdu;

    if (n->fec_copy == NULL || !peek(n, pkt, len, &pdu) || !is_fec_type(pdu.type) ||
        pdu.u.address.fec_param_len == 0)
        return pkt;
    memcpy(par, pdu.u.address.fec_params, pdu.u.address.fec_param_len);
    par[0] = 0;                         /* the parameters' version */
    pdu.u.address.fec_params = par;
    return pmul_pdu_encode(&pdu, n->fec_copy, PMUL_PDU_MAX_LEN) == (ssize_t)len ? n->fec_copy
                                                                              : pkt;
}

static int
p_recv(void *eng, uint64_t now_us, uint32_t from_ip, uint16_t from_port,
       const uint8_t *pkt, size_t len)
{
    pnode *n = eng;
    pmul_addr from;
    int rc;

    if ((rc = tick(n, now_us)) != 0)
        return rc;
    if (blind_drop(n, pkt, len))
        return 0;
    pkt = fec_hide(n, pkt, len);
    from.ip = from_ip;
    from.port = from_port;
    from.is_multicast = false;
    rc = pmul_engine_recv(n->e, to_now(n, now_us), &from, pkt, len);
    sample_peaks(n);
    return rc;
}

static ssize_t
p_poll_tx(void *eng, uint64_t now_us, uint8_t *out, size_t cap, uint32_t *to_ip, uint16_t *to_port)
{
    pnode *n = eng;
    pmul_addr to;
    ssize_t len;

    if (tick(n, now_us) != 0)
        return NETSIM_ERR_ENGINE;
    memset(&to, 0, sizeof(to));
    len = pmul_engine_poll_tx(n->e, to_now(n, now_us), out, cap, &to);
    *to_ip = to.ip;
    *to_port = to.port;
    return len;
}

static uint64_t
p_next_deadline_us(void *eng)
{
    pnode *n = eng;
    uint64_t ms = pmul_engine_next_deadline(n->e);

    if (n->restart_at_ms < ms)
        ms = n->restart_at_ms;
    if (ms == UINT64_MAX || ms > UINT64_MAX / 1000)
        return NETSIM_FOREVER;
    return ms * 1000;
}

static int
p_expire(void *eng, uint64_t now_us)
{
    pnode *n = eng;
    int rc;

    if ((rc = tick(n, now_us)) != 0)
        return rc;
    rc = pmul_engine_expire(n->e, to_now(n, now_us));
    sample_peaks(n);
    return rc;
}

static int
p_poll_event(void *eng, netsim_event *ev)
{
    pnode *n = eng;
    pmul_event pe;
    pmul_now now = to_now(n, n->now_us);

    if (pmul_engine_poll_event(n->e, &pe) != 1)
        return 0;
    if (pe.kind == PMUL_EV_DELIVERED && n->accept) {
        /* The application "stores" the message, then accepts it; or its
         * disk is full and it defers (the engine offers it again later),
         * which netsim must not count as a delivery. */
        if (n->now_us / 1000 < n->defer_until_ms) {
            if (pmul_engine_defer(n->e, now, pe.source_id, pe.msid) != 0)
                return NETSIM_ERR_ENGINE;
            pe.kind = PMUL_EV_NONE;
        } else {
            if (pe.payload_len > n->evbuf_cap) {
                void *p = mem_realloc(n->m, n->evbuf, pe.payload_len);

                if (p == NULL)
                    return NETSIM_ERR_NOMEM;
                n->evbuf = p;
                n->evbuf_cap = pe.payload_len;
            }
            if (pe.payload_len > 0)
                memcpy(n->evbuf, pe.payload, pe.payload_len);
            pe.payload = n->evbuf;      /* accept frees the engine's copy */
            if (arr_grow(n->m, (void **)&n->done, &n->done_cap, n->done_cnt + 1,
                         sizeof(*n->done), SIZE_MAX / sizeof(*n->done)) != 0)
                return NETSIM_ERR_NOMEM;
            n->done[n->done_cnt].src = pe.source_id;
            n->done[n->done_cnt].msid = pe.msid;
            n->done[n->done_cnt].expiry_s = pe.expiry_s;
            n->done_cnt++;
            if (pmul_engine_accept(n->e, now, pe.source_id, pe.msid) != 0)
                return NETSIM_ERR_ENGINE;
        }
    } else if (pe.kind == PMUL_EV_JOIN_GROUP) {
        if (++n->groups > n->peak_groups)
            n->peak_groups = n->groups;
    } else if (pe.kind == PMUL_EV_LEAVE_GROUP) {
        if (n->groups > 0)
            n->groups--;
    } else if (pe.kind == PMUL_EV_DEST_ACKED || pe.kind == PMUL_EV_DEST_FAILED ||
               pe.kind == PMUL_EV_MSG_DONE) {
        sent_msg *sm = sent_find(n, pe.msid);
        size_t k;

        if (sm != NULL) {
            for (k = 0; k < sm->cnt; k++)
                if (sm->dests[k] == pe.dest_id && pe.kind != PMUL_EV_MSG_DONE)
                    sm->final[k] = true;
            if (pe.kind == PMUL_EV_MSG_DONE)
                sm->done = true;
        }
    }
    memset(ev, 0, sizeof(*ev));
    ev->engine_kind = pe.kind;
    ev->source_id = pe.source_id;
    ev->msid = pe.msid;
    ev->dest_id = pe.dest_id;
    ev->reason = pe.reason;
    switch (pe.kind) {
    case PMUL_EV_DELIVERED:
        ev->kind = NETSIM_EV_DELIVERED;
        ev->payload = pe.payload;
        ev->payload_len = pe.payload_len;
        break;
    case PMUL_EV_RX_DISCARDED:
        ev->kind = NETSIM_EV_RX_DISCARDED;
        break;
    case PMUL_EV_LOST_MESSAGE:
        ev->kind = NETSIM_EV_LOST_MESSAGE;
        break;
    case PMUL_EV_DEST_ACKED:
        ev->kind = NETSIM_EV_DEST_ACKED;
        break;
    case PMUL_EV_DEST_FAILED:
        ev->kind = NETSIM_EV_DEST_FAILED;
        break;
    case PMUL_EV_MSG_DONE:
        ev->kind = NETSIM_EV_MSG_DONE;
        break;
    default:
        ev->kind = NETSIM_EV_OTHER;
        break;
    }
    return 1;
}

static void
p_set_emcon(void *eng, uint64_t now_us, bool on)
{
    pnode *n = eng;

    if (tick(n, now_us) != 0)
        return;
    n->emcon = on;
    pmul_engine_set_emcon(n->e, to_now(n, now_us), on);
}

static void
p_set_dest_emcon(void *eng, uint64_t now_us, uint32_t dest, bool on)
{
    pnode *n = eng;

    /* Only NOTFOUND-style refusals are possible; the transmitter simply has
     * no message to that destination, which is fine. */
    (void)pmul_engine_set_dest_emcon(n->e, to_now(n, now_us), dest, on);
}

/*
 * "expect stat NODE NAME": drop.REASON (pmul_drop_name(): drop.cap-sources,
 * drop.source-mismatch ...), drops (all reasons), rx-msgs, rx-bytes and
 * their -peak, groups and groups-peak (joined and not left), tx.TYPE and
 * rx.TYPE (PDUs by type: data, ack, address, discard, announce),
 * delivered, rx-discarded, retx-data, fec-plain, fec-blind and fec-nodec
 * (plain fallbacks, destinations found not to know PDU type 8 or not to
 * use repairs), fec-dropped (PDUs a drop-fec node dropped before its
 * engine), fec-rejected (FEC_Address_PDUs received plainly);
 * joint-rounds, joint-repairs (sent), joint-recovered, joint-unusable
 * (received) and nojoint (findings) of joint repair (docs/wire.md 10.8).
 */
static int
p_stat(void *eng, const char *name, uint64_t *out)
{
    static const struct { const char *name; unsigned type; } types[] = {
        { "data", PMUL_PDU_DATA }, { "ack", PMUL_PDU_ACK }, { "address", PMUL_PDU_ADDRESS },
        { "discard", PMUL_PDU_DISCARD }, { "announce", PMUL_PDU_ANNOUNCE },
    };
    pnode *n = eng;
    pmul_stats st;
    size_t i;

    pmul_engine_stats(n->e, &st);
    if (strncmp(name, "drop.", 5) == 0) {
        for (i = 0; i < PMUL_DROP_COUNT; i++)
            if (strcmp(name + 5, pmul_drop_name((int)i)) == 0) {
                *out = st.drops[i];
                return 0;
            }
        return -1;
    }
    if (strncmp(name, "tx.", 3) == 0 || strncmp(name, "rx.", 3) == 0) {
        for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
            if (strcmp(name + 3, types[i].name) == 0) {
                *out = name[0] == 't' ? st.tx_pdus[types[i].type] : st.rx_pdus[types[i].type];
                return 0;
            }
        return -1;
    }
    if (strcmp(name, "drops") == 0) {
        for (*out = 0, i = 0; i < PMUL_DROP_COUNT; i++)
            *out += st.drops[i];
    } else if (strcmp(name, "rx-msgs") == 0) {
        *out = st.rx_msgs;
    } else if (strcmp(name, "rx-msgs-peak") == 0) {
        *out = n->peak_rx_msgs;
    } else if (strcmp(name, "rx-bytes") == 0) {
        *out = st.rx_held_bytes;
    } else if (strcmp(name, "rx-bytes-peak") == 0) {
        *out = n->peak_rx_bytes;
    } else if (strcmp(name, "groups") == 0) {
        *out = n->groups;
    } else if (strcmp(name, "groups-peak") == 0) {
        *out = n->peak_groups;
    } else if (strcmp(name, "delivered") == 0) {
        *out = st.msgs_delivered;
    } else if (strcmp(name, "rx-discarded") == 0) {
        *out = st.msgs_rx_discarded;
    } else if (strcmp(name, "retx-data") == 0) {
        *out = st.retx_data_pdus;
    } else if (strcmp(name, "fec-plain") == 0) {
        *out = st.fec_plain_fallbacks;
    } else if (strcmp(name, "fec-blind") == 0) {
        *out = st.fec_blind_learned;
    } else if (strcmp(name, "fec-nodec") == 0) {
        *out = st.fec_nodec_learned;
    } else if (strcmp(name, "fec-rejected") == 0) {
        *out = st.rx_fec_rejected;
    } else if (strcmp(name, "fec-dropped") == 0) {
        *out = n->fec_dropped;
    } else if (strcmp(name, "joint-rounds") == 0) {
        *out = st.fec_joint_rounds;
    } else if (strcmp(name, "joint-repairs") == 0) {
        *out = st.fec_joint_repairs;
    } else if (strcmp(name, "joint-recovered") == 0) {
        *out = st.rx_joint_recovered;
    } else if (strcmp(name, "joint-unusable") == 0) {
        *out = st.rx_joint_unusable;
    } else if (strcmp(name, "nojoint") == 0) {
        *out = st.fec_nojoint_learned;
    } else {
        return -1;
    }
    return 0;
}

const netsim_engine_ops netsim_pmul_ops = {
    "pmul",
    p_create,
    p_destroy,
    p_submit,
    p_recv,
    p_poll_tx,
    p_next_deadline_us,
    p_expire,
    p_poll_event,
    p_set_emcon,
    p_set_dest_emcon,
    pmul_event_name,
    p_stat,
};
