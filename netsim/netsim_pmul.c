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

typedef struct pnode {
    pmul_engine *e;
    netsim_rng rng;
    int64_t wall_start_s;
    const mem *m;
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
        K("link-rate-bps", link_rate_bps, 9, 0, UINT64_MAX),
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

static int
p_create(void **out, const netsim_engine_init *init)
{
    pnode *n;
    pmul_config cfg;
    pmul_env env;
    size_t i;
    int rc;

    *out = NULL;
    n = mem_calloc(init->m, 1, sizeof(*n));
    if (n == NULL)
        return NETSIM_ERR_NOMEM;
    n->wall_start_s = init->wall_start_s;
    n->m = init->m;
    netsim_rng_seed(&n->rng, init->seed, 0x706d756cu);
    pmul_config_default(&cfg);
    cfg.node_id = init->node_id;
    cfg.link_rate_bps = init->rate_bps;
    if (init->group != 0)
        cfg.default_group = init->group;
    cfg.emcon = init->emcon;
    for (i = 0; i < init->kv_cnt; i++) {
        if (!apply_kv(&cfg, &init->kv[i])) {
            log_emit(init->log, LOG_LVL_ERROR,
                     "netsim_pmul event=bad-setting line=%d key=%s value=%s",
                     init->kv[i].line, init->kv[i].key, init->kv[i].val);
            mem_free(init->m, n);
            return NETSIM_ERR_INVAL;
        }
    }
    memset(&env, 0, sizeof(env));
    env.mem = init->m;
    if (init->log != NULL)
        env.log = *init->log;
    env.rand = node_rand;
    env.rand_arg = &n->rng;
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
p_destroy(void *eng)
{
    pnode *n = eng;

    pmul_engine_free(n->e);
    mem_free(n->m, n);
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
    rc = pmul_engine_submit(n->e, now, &m, msid);
    if (rc == PMUL_ERR_BUSY || rc == PMUL_ERR_NOMEM)
        return NETSIM_ERR_LIMIT;
    return rc;
}

static int
p_recv(void *eng, uint64_t now_us, uint32_t from_ip, uint16_t from_port,
       const uint8_t *pkt, size_t len)
{
    pnode *n = eng;
    pmul_addr from;

    from.ip = from_ip;
    from.port = from_port;
    from.is_multicast = false;
    return pmul_engine_recv(n->e, to_now(n, now_us), &from, pkt, len);
}

static ssize_t
p_poll_tx(void *eng, uint64_t now_us, uint8_t *out, size_t cap, uint32_t *to_ip, uint16_t *to_port)
{
    pnode *n = eng;
    pmul_addr to;
    ssize_t len;

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

    if (ms == UINT64_MAX || ms > UINT64_MAX / 1000)
        return NETSIM_FOREVER;
    return ms * 1000;
}

static int
p_expire(void *eng, uint64_t now_us)
{
    pnode *n = eng;

    return pmul_engine_expire(n->e, to_now(n, now_us));
}

static int
p_poll_event(void *eng, netsim_event *ev)
{
    pnode *n = eng;
    pmul_event pe;

    if (pmul_engine_poll_event(n->e, &pe) != 1)
        return 0;
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
};
