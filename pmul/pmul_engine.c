/*
 * NAME
 *	pmul_engine - sans-I/O P_MUL node: glue, queues, timers and events
 * SYNOPSIS
 *	#include "pmul/pmul_engine.h"
 * DESCRIPTION
 *	The public face of the engine (pmul_engine.h) and nothing below it:
 *	it owns the configuration, the injected environment, the pacer and
 *	the queues, decodes every datagram with the one codec (pmul_pdu.c)
 *	and hands the decoded PDU to the transmitter (pmul_tx.c) or the
 *	receiver (pmul_rx.c).  The services those call back (event and
 *	control queues, drops, time and random helpers, names) live in
 *	pmul_svc.c, below them, so no call goes in a circle.
 *
 *	Output order of poll_tx: Acks that are due, then control PDUs
 *	(Discard, Ack-Ack, Request, Reject, Release, Announce) in the order
 *	they were queued, then the Address and Data PDUs of the most urgent
 *	message that has something to send (decision 4: a lower Priority
 *	octet pre-empts between PDUs).  Everything passes the pacer first.
 *
 *	The next deadline is recomputed at the end of every call that can
 *	change it and cached, so pmul_engine_next_deadline() is O(1).
 * SECURITY
 *	Sees untrusted datagrams; they are decoded completely (and rejected
 *	or accepted as a whole) before any state changes.  Decoder scratch
 *	arrays are sized from the configuration once, so no peer count ever
 *	sizes an allocation.  The engine holds no global state.
 * DIAGNOSTICS
 *	Returns PMUL_ERR_* codes; every dropped datagram is counted by reason
 *	(pmul_stats.drops) and logged at debug level through the injected
 *	logger.
 * SEE ALSO
 *	pmul_tx(3), pmul_rx(3), pmul_rate(3), pmul_ackq(3), pmul_group(3),
 *	docs/engine.md, docs/wire.md 7
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "pmul/pmul_engine_int.h"

#include <stdlib.h>
#include <string.h>

/* Ack_PDUs sent in a row before our own traffic gets a datagram. */
#define ACK_BURST       4

/* 239.1.1.1 (libjpmul's GG) and the next address as the default group. */
#define DEFAULT_GG      0xEF010101u
#define DEFAULT_GROUP   0xEF010102u

void
pmul_config_default(pmul_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->tport = PMUL_TPORT_DEFAULT;
    cfg->rport = PMUL_RPORT_DEFAULT;
    cfg->dport = PMUL_DPORT_DEFAULT;
    cfg->aport = PMUL_APORT_DEFAULT;
    cfg->gg_group = DEFAULT_GG;
    cfg->default_group = DEFAULT_GROUP;
    cfg->pdu_max_len = 1024;
    cfg->link_rate_bps = 9600;
    cfg->max_msg_len = 4u << 20;
    cfg->ack_rtx_min_ms = 2000;
    cfg->ack_rtx_max_ms = 120000;
    cfg->backoff_factor_pct = 125;
    cfg->emcon_rtc = 4;
    cfg->emcon_rti_ms = 30000;
    cfg->mm = 20;
    cfg->ack_pdu_time_ms = 10000;
    cfg->ack_spread_ms = 1000;
    cfg->ack_batch_ms = 200;
    cfg->early_data_ms = 1800000;
    cfg->lost_grace_ms = 60000;
    cfg->tail_floor_ms = 200;
    cfg->wait_for_reject_ms = 5000;
    cfg->announce_delay_ms = 5000;
    cfg->announce_ct = 5;
    cfg->max_group_tries = 3;
    cfg->default_expiry_s = 86400;
    cfg->check_source_ip = true;
    cfg->rx_idle_ms = 6u * 3600u * 1000u;
    cfg->addr_repeat = true;
    cfg->max_tx_msgs = 256;
    cfg->max_dests = 1024;
    cfg->max_sources = 256;
    cfg->max_rx_msgs_per_src = 64;
    cfg->max_rx_bytes_per_src = 8u << 20;
    cfg->max_rx_done_per_src = 1024;
    cfg->max_rx_done_ranges = 4096;
    cfg->max_groups_joined = 16;
    cfg->max_rx_msgs = 1024;
    cfg->max_rx_bytes = 64u << 20;
    cfg->max_missing = 4096;
    cfg->max_ack_entries = 256;
    cfg->max_events = 4096;
    cfg->deliver_needs_accept = false;
    cfg->max_rx_unaccepted = 64;
    cfg->max_rx_unaccepted_bytes = 16u << 20;
    cfg->defer_retry_ms = 30000;
    cfg->fec = false;
    cfg->fec_ratio_pct = 10;
    cfg->fec_emcon_repairs = 8;
    cfg->fec_max_block = 128;
    cfg->fec_emcon_addr = 3;
    cfg->fec_adaptive = true;
    cfg->fec_joint = true;
    cfg->fec_joint_max = 8;
    cfg->fec_joint_wait_ms = 60000;
    cfg->fec_keep_bytes = 1u << 20;
}

/* Time only moves forward; wall-clock time may jump and is taken as is. */
static void
advance(pmul_engine *e, pmul_now now)
{
    if (now.mono_ms > e->now_ms)
        e->now_ms = now.mono_ms;
    e->wall_s = now.wall_s;
    /* The offset between the two clocks, mono - wall: each call gives an
     * upper bound (the wall second began at or before now), so the least
     * seen is the best estimate, and wall-clock deadlines placed with it
     * do not move from one call to the next (timer heaps keep them).  A
     * wall clock stepped back by more than a second starts it afresh. */
    {
        int64_t obs = (int64_t)e->now_ms - now.wall_s * 1000;

        if (!e->clock_off_set || obs < e->clock_off_ms || obs > e->clock_off_ms + 1000) {
            e->clock_off_ms = obs;
            e->clock_off_set = true;
        }
    }
}

/* The payload of the last DELIVERED event stays valid until the next call. */
static void
release_held(pmul_engine *e)
{
    mem_free(e->m, e->held);
    e->held = NULL;
    mem_free(e->m, e->held_dests);
    e->held_dests = NULL;
}

/* ---- events ------------------------------------------------------------ */

int
pmul_engine_poll_event(pmul_engine *e, pmul_event *ev)
{
    pmul_evq_ent *v;

    release_held(e);
    if (e->ev_cnt == 0) {
        memset(ev, 0, sizeof(*ev));
        return 0;
    }
    v = &e->ev[e->ev_head];
    *ev = v->ev;
    e->held = v->owned;
    e->held_dests = v->owned_dests;
    e->ev_head = (e->ev_head + 1) % e->ev_cap;
    e->ev_cnt--;
    return 1;
}

/* ---- deadlines --------------------------------------------------------- */

static uint64_t
min64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

static void
recompute_deadline(pmul_engine *e)
{
    uint64_t t = UINT64_MAX, send = UINT64_MAX;

    t = min64(t, pmul__tx_deadline(e));
    t = min64(t, pmul__rx_deadline(e));
    t = min64(t, pmul_groups_next_deadline(&e->groups));
    if (!e->emcon) {
        /* Something to send: now, or when the Ack falls due; then the
         * pacer decides. */
        if (e->ctl_cnt > 0 || pmul__tx_ready(e))
            send = e->now_ms;
        send = min64(send, pmul_ackq_next_due(&e->ackq));
        if (send != UINT64_MAX) {
            uint64_t pace = pmul_rate_next_ms(&e->rate);

            t = min64(t, send > pace ? send : pace);
        }
    }
    e->next_dl = t;
}

uint64_t
pmul_engine_next_deadline(const pmul_engine *e)
{
    return e->next_dl;
}

/* ---- construction ------------------------------------------------------ */

static int
check_config(const pmul_config *c)
{
    if (c->node_id == 0)
        return PMUL_ERR_INVAL;
    if (c->pdu_max_len < 64 || c->pdu_max_len > PMUL_PDU_MAX_LEN)
        return PMUL_ERR_INVAL;
    if (c->max_msg_len == 0 || c->max_msg_len > UINT32_MAX)
        return PMUL_ERR_INVAL;
    if (c->max_tx_msgs == 0 || c->max_dests == 0 || c->max_dests > 65535 ||
        c->max_sources == 0 || c->max_rx_msgs_per_src == 0 || c->max_rx_msgs == 0 ||
        c->max_rx_done_per_src == 0 || c->max_rx_done_ranges == 0 || c->max_ack_entries == 0 || c->max_missing == 0 ||
        c->max_events == 0 || c->max_rx_unaccepted == 0 || c->max_rx_unaccepted_bytes == 0)
        return PMUL_ERR_INVAL;
    if (c->fec && (c->fec_max_block == 0 || c->fec_max_block > PMUL_FEC_ESI_MAX ||
                   c->fec_ratio_pct > 2500 || c->fec_emcon_repairs > PMUL_FEC_ESI_MAX ||
                   c->fec_emcon_addr == 0 || c->fec_emcon_addr > 16))
        return PMUL_ERR_INVAL;
    if (c->fec && c->fec_joint &&
        (c->fec_joint_max < 2 || c->fec_joint_max > PMUL_FEC_JOINT_MAX))
        return PMUL_ERR_INVAL;
    if (c->mm == 0 || c->announce_ct == 0)
        return PMUL_ERR_INVAL;
    if (c->group_pool_cnt > 0 && c->group_pool == NULL)
        return PMUL_ERR_INVAL;
    if (c->emcon_dest_cnt > 0 && c->emcon_dests == NULL)
        return PMUL_ERR_INVAL;
    return 0;
}

static void *
dup_array(const mem *m, const void *src, size_t cnt, size_t esz, int *err)
{
    void *p;

    if (cnt == 0)
        return NULL;
    if ((p = mem_calloc(m, cnt, esz)) == NULL) {
        *err = PMUL_ERR_NOMEM;
        return NULL;
    }
    memcpy(p, src, cnt * esz);
    return p;
}

static int
alloc_scratch(pmul_engine *e)
{
    const mem *m = e->m;
    size_t dmax = pmul_pdu_address_max_dests(e->cfg.pdu_max_len, 0);
    size_t amax = (e->cfg.pdu_max_len - PMUL_ANNOUNCE_HDR_LEN) / 4;
    size_t ack_fit = (e->cfg.pdu_max_len - PMUL_ACK_HDR_LEN) / PMUL_ACK_ENTRY_HDR_LEN;
    size_t rx_dmax = pmul_pdu_address_max_dests(PMUL_PDU_MAX_LEN, 0);
    size_t rx_amax = (PMUL_PDU_MAX_LEN - PMUL_ANNOUNCE_HDR_LEN) / 4;
    size_t fdmax;
    int err;

    /*
     * Decoder: any PDU up to 65535 octets, whatever size we send: another
     * implementation's default PDU is 3840 octets, and a receiver that
     * dropped what is longer than its own PDUs never got such mail.  Its
     * lists are bounded by the caps (max_dests), not by the PDU size, so
     * the scratch stays small; a longer list is refused by the codec.
     */
    rx_dmax = rx_dmax < e->cfg.max_dests ? rx_dmax : e->cfg.max_dests;
    rx_amax = rx_amax < e->cfg.max_dests ? rx_amax : e->cfg.max_dests;
    e->dsc.dests_cap = rx_dmax > dmax ? rx_dmax : (dmax > 0 ? dmax : 1);
    e->dsc.acks_cap = e->cfg.max_ack_entries;
    e->dsc.missing_cap = e->cfg.max_missing;
    e->dsc.dest_ids_cap = rx_amax > amax ? rx_amax : (amax > 0 ? amax : 1);
    e->dsc.max_pdu_len = PMUL_PDU_MAX_LEN;
    e->dsc.max_reserved_len = 0xffff;
    e->dsc.dests = mem_calloc(m, e->dsc.dests_cap, sizeof(*e->dsc.dests));
    e->dsc.acks = mem_calloc(m, e->dsc.acks_cap, sizeof(*e->dsc.acks));
    e->dsc.missing = mem_calloc(m, e->dsc.missing_cap, sizeof(*e->dsc.missing));
    e->dsc.dest_ids = mem_calloc(m, e->dsc.dest_ids_cap, sizeof(*e->dsc.dest_ids));
    /* Encoder: one PDU's worth of each list. */
    e->enc_dests_cap = dmax > 0 ? dmax : 1;
    e->enc_dests = mem_calloc(m, e->enc_dests_cap, sizeof(*e->enc_dests));
    e->enc_ids_cap = amax > 0 ? amax : 1;
    e->enc_ids = mem_calloc(m, e->enc_ids_cap, sizeof(*e->enc_ids));
    e->enc_batch_cap = ack_fit > 0 ? ack_fit : 1;
    e->enc_batch = mem_calloc(m, e->enc_batch_cap, sizeof(*e->enc_batch));
    e->enc_acks = mem_calloc(m, e->enc_batch_cap, sizeof(*e->enc_acks));
    e->enc_missing_cap = e->cfg.pdu_max_len / 2;
    e->enc_missing = mem_calloc(m, e->enc_missing_cap, sizeof(*e->enc_missing));
    if (e->dsc.dests == NULL || e->dsc.acks == NULL || e->dsc.missing == NULL ||
        e->dsc.dest_ids == NULL || e->enc_dests == NULL || e->enc_ids == NULL ||
        e->enc_batch == NULL || e->enc_acks == NULL || e->enc_missing == NULL)
        return PMUL_ERR_NOMEM;
    if (!e->cfg.fec)
        return 0;
    /* Transmitter FEC: the codec, one repair symbol and one block's
     * source pointers, so sending a repair PDU allocates nothing.  A
     * FEC_Address_PDU is 10 octets longer than an Address_PDU. */
    fdmax = pmul_pdu_address_max_dests(e->cfg.pdu_max_len - 10, 0);
    e->fec_dests_cap = fdmax > 0 ? fdmax : 1;
    if ((err = pmul_fec_new(&e->fec_tx, m)) != 0)
        return err;
    e->fec_sym = mem_alloc(m, pmul_pdu_data_max_frag(e->cfg.pdu_max_len));
    e->fec_src = mem_calloc(m, PMUL_FEC_N_MAX, sizeof(*e->fec_src));
    if (e->fec_sym == NULL || e->fec_src == NULL)
        return PMUL_ERR_NOMEM;
    return 0;
}

int
pmul_engine_new(pmul_engine **out, const pmul_config *cfg, const pmul_env *env)
{
    pmul_engine *e;
    const mem *m = env != NULL ? env->mem : NULL;
    size_t i;
    int err = 0;

    *out = NULL;
    if (cfg == NULL || (err = check_config(cfg)) != 0)
        return err != 0 ? err : PMUL_ERR_INVAL;
    /* Without randomness the first MSID would be the same after every
     * restart: only an application that chose it may go without. */
    if ((env == NULL || env->rand == NULL) && cfg->first_msid == 0)
        return PMUL_ERR_INVAL;
    if ((e = mem_calloc(m, 1, sizeof(*e))) == NULL)
        return PMUL_ERR_NOMEM;
    e->cfg = *cfg;
    if (env != NULL)
        e->env = *env;
    e->m = m;
    e->rand_state = 0x9E3779B97F4A7C15ull ^ cfg->node_id;
    e->emcon = cfg->emcon;
    e->next_dl = UINT64_MAX;
    e->pool_copy = dup_array(m, cfg->group_pool, cfg->group_pool_cnt, sizeof(uint32_t), &err);
    e->emcon_copy = dup_array(m, cfg->emcon_dests, cfg->emcon_dest_cnt, sizeof(uint32_t), &err);
    e->cfg.group_pool = e->pool_copy;
    e->cfg.emcon_dests = e->emcon_copy;
    if (err != 0)
        goto fail;
    pmul_rate_init(&e->rate, cfg->link_rate_bps, cfg->ack_rtx_min_ms, cfg->ack_rtx_max_ms,
                   cfg->backoff_factor_pct, cfg->ack_rtx_fixed);
    pmul_ackq_init(&e->ackq, m, cfg->max_rx_msgs + cfg->max_sources);
    e->rx_all.cap = cfg->max_rx_bytes;
    pmul__rx_init(e);
    if ((err = pmul_groups_init(&e->groups, m, cfg->node_id, cfg->group_pool,
                                cfg->group_pool_cnt, cfg->max_rx_msgs)) != 0)
        goto fail;
    e->groups.group_max = cfg->max_groups_joined;
    if ((err = alloc_scratch(e)) != 0)
        goto fail;
    for (i = 0; i < cfg->emcon_dest_cnt; i++) {
        pmul_dststate *d;

        if ((err = pmul__dst_get(e, cfg->emcon_dests[i], &d)) != 0)
            goto fail;
        d->emcon = true;
    }
    if (cfg->first_msid != 0)
        e->next_msid = cfg->first_msid;
    else
        e->next_msid = pmul__rand(e);
    *out = e;
    return 0;

fail:
    pmul_engine_free(e);
    return err;
}

void
pmul_engine_free(pmul_engine *e)
{
    size_t i;

    if (e == NULL)
        return;
    pmul__tx_free_all(e);
    pmul__rx_free_all(e);
    for (i = 0; i < e->ctl_cnt; i++)
        mem_free(e->m, e->ctl[(e->ctl_head + i) % e->ctl_cap].bytes);
    mem_free(e->m, e->ctl);
    for (i = 0; i < e->ev_cnt; i++) {
        mem_free(e->m, e->ev[(e->ev_head + i) % e->ev_cap].owned);
        mem_free(e->m, e->ev[(e->ev_head + i) % e->ev_cap].owned_dests);
    }
    mem_free(e->m, e->ev);
    mem_free(e->m, e->held);
    mem_free(e->m, e->held_dests);
    pmul_ackq_fini(&e->ackq);
    pmul_groups_fini(&e->groups);
    mem_free(e->m, e->dst);
    mem_free(e->m, e->pool_copy);
    mem_free(e->m, e->emcon_copy);
    mem_free(e->m, e->allowed);
    mem_free(e->m, e->self_ack);
    mem_free(e->m, e->no_fec);
    pmul_fec_free(e->fec_tx);
    mem_free(e->m, e->fec_sym);
    mem_free(e->m, e->fec_src);
    mem_free(e->m, e->dsc.dests);
    mem_free(e->m, e->dsc.acks);
    mem_free(e->m, e->dsc.missing);
    mem_free(e->m, e->dsc.dest_ids);
    mem_free(e->m, e->enc_dests);
    mem_free(e->m, e->enc_ids);
    mem_free(e->m, e->enc_batch);
    mem_free(e->m, e->enc_acks);
    mem_free(e->m, e->enc_missing);
    mem_free(e->m, e);
}

/* ---- input ------------------------------------------------------------- */

static int
dispatch(pmul_engine *e, const pmul_pdu *pdu)
{
    /* Our own multicast PDUs come back on the loopback.  An Ack_PDU names
     * its sender in Source_ID too, so the same test applies. */
    if (pdu->source_id == e->cfg.node_id)
        return pmul__drop(e, PMUL_DROP_OWN, PMUL_ERR_OWN);
    switch (pdu->type) {
    case PMUL_PDU_DATA:
        return pmul__rx_on_data(e, pdu);
    case PMUL_PDU_ADDRESS:
    case PMUL_PDU_EXTRA_ADDRESS:
    case PMUL_PDU_FEC_ADDRESS:
    case PMUL_PDU_EXTRA_FEC_ADDRESS:
        /* Decision 10: FEC parameters ignored, Extra treated as Address. */
        return pmul__rx_on_address(e, pdu);
    case PMUL_PDU_ACK:
        return pmul__tx_on_ack(e, pdu);
    case PMUL_PDU_DISCARD:
        return pmul__rx_on_discard(e, pdu);
    case PMUL_PDU_ANNOUNCE:
        return pmul__rx_on_announce(e, pdu);
    case PMUL_PDU_REQUEST:
        return pmul__tx_on_request(e, pdu);
    case PMUL_PDU_REJECT:
        return pmul__tx_on_reject(e, pdu);
    case PMUL_PDU_RELEASE:
        return pmul__rx_on_release(e, pdu);
    }
    return pmul__drop(e, PMUL_DROP_MALFORMED, PMUL_ERR_TYPE);
}

static int
cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

/* Is id in the sorted list v of n IDs? */
static bool
id_in(const uint32_t *v, size_t n, uint32_t id)
{
    return n > 0 && bsearch(&id, v, n, sizeof id, cmp_u32) != NULL;
}

static bool
source_allowed(const pmul_engine *e, uint32_t id)
{
    return id == e->cfg.node_id || id_in(e->allowed, e->allowed_cnt, id);
}

/* Replace the sorted ID list *list (*n entries) by a sorted copy of ids. */
static int
set_ids(pmul_engine *e, uint32_t **list, size_t *n, const uint32_t *ids, size_t cnt)
{
    uint32_t *v = NULL;

    if (e == NULL || (ids == NULL && cnt > 0) || cnt > ((size_t)1 << 24))
        return PMUL_ERR_INVAL;
    if (cnt > 0) {
        if ((v = mem_alloc(e->m, cnt * sizeof *v)) == NULL)
            return PMUL_ERR_NOMEM;
        memcpy(v, ids, cnt * sizeof *v);
        qsort(v, cnt, sizeof *v, cmp_u32);
    }
    mem_free(e->m, *list);
    *list = v;
    *n = cnt;
    return 0;
}

int
pmul_engine_set_allowed(pmul_engine *e, const uint32_t *ids, size_t cnt)
{
    return e == NULL ? PMUL_ERR_INVAL : set_ids(e, &e->allowed, &e->allowed_cnt, ids, cnt);
}

int
pmul_engine_set_self_naming_acks(pmul_engine *e, const uint32_t *ids, size_t cnt)
{
    return e == NULL ? PMUL_ERR_INVAL : set_ids(e, &e->self_ack, &e->self_ack_cnt, ids, cnt);
}

bool
pmul__wants_self_ack(const pmul_engine *e, uint32_t src)
{
    return id_in(e->self_ack, e->self_ack_cnt, src);
}

int
pmul_engine_set_no_fec_peers(pmul_engine *e, const uint32_t *ids, size_t cnt)
{
    return e == NULL ? PMUL_ERR_INVAL : set_ids(e, &e->no_fec, &e->no_fec_cnt, ids, cnt);
}

bool
pmul__no_fec_peer(const pmul_engine *e, uint32_t dest)
{
    return id_in(e->no_fec, e->no_fec_cnt, dest);
}

int
pmul_engine_recv(pmul_engine *e, pmul_now now, const pmul_addr *from, const uint8_t *pkt,
                 size_t len)
{
    pmul_pdu pdu;
    int err;

    release_held(e);
    advance(e, now);
    if (pkt == NULL)
        return PMUL_ERR_INVAL;
    /* Any datagram, well formed or not, took the shared channel. */
    if (e->cfg.shared_medium)
        pmul_rate_heard(&e->rate, e->now_ms, len);
    if ((err = pmul_pdu_decode(&pdu, &e->dsc, pkt, len)) != 0) {
        err = pmul__drop(e, PMUL_DROP_MALFORMED, err);
        recompute_deadline(e);
        return err;
    }
    /* Node IDs come from the PDUs (decision 7), but a node's ID is its
     * address: a PDU naming another source than the one that sent it is
     * spoofed (or came through NAT: check_source_ip off).  Both checks run
     * before any state changes.  from->ip 0 means "not known". */
    if (e->cfg.check_source_ip && from != NULL && from->ip != 0 && pdu.source_id != from->ip) {
        err = pmul__drop(e, PMUL_DROP_SOURCE_MISMATCH, PMUL_ERR_SPOOFED);
        recompute_deadline(e);
        return err;
    }
    if (e->allowed != NULL && !source_allowed(e, pdu.source_id)) {
        err = pmul__drop(e, PMUL_DROP_NOT_ALLOWED, PMUL_ERR_SPOOFED);
        recompute_deadline(e);
        return err;
    }
    e->st.rx_pdus[pdu.type & 0x1f]++;
    e->st.rx_bytes[pdu.type & 0x1f] += len;
    err = dispatch(e, &pdu);
    recompute_deadline(e);
    return err;
}

/* ---- output ------------------------------------------------------------ */

ssize_t
pmul_engine_poll_tx(pmul_engine *e, pmul_now now, uint8_t *out, size_t cap, pmul_addr *to)
{
    ssize_t n = 0;

    release_held(e);
    advance(e, now);
    if (out == NULL || to == NULL || cap < e->cfg.pdu_max_len)
        return PMUL_ERR_NOSPACE;
    if (!e->emcon && pmul_rate_ready(&e->rate, e->now_ms)) {
        /* Acks go first (a transmitter waits on them), but never more than
         * ACK_BURST in a row while our own traffic waits: a flood of
         * messages to acknowledge (issue 13, Ack storm) must not keep this
         * node's mail off the air. */
        bool own_first = e->acks_in_row >= ACK_BURST;
        if (own_first) {
            n = pmul__ctl_poll(e, out, cap, to);
            if (n == 0)
                n = pmul__tx_poll(e, out, cap, to);
        }
        if (n == 0)
            n = pmul__rx_poll_ack(e, out, cap, to);
        if (n == 0 && !own_first)
            n = pmul__ctl_poll(e, out, cap, to);
        if (n == 0 && !own_first)
            n = pmul__tx_poll(e, out, cap, to);
        if (n > 0) {
            unsigned type = out[3] & 0x1f;

            e->acks_in_row = type == PMUL_PDU_ACK ? e->acks_in_row + 1 : 0;

            pmul_rate_sent(&e->rate, e->now_ms, (size_t)n);
            e->st.tx_pdus[type]++;
            e->st.tx_bytes[type] += (uint64_t)n;
        }
    }
    recompute_deadline(e);
    return n;
}

int
pmul_engine_expire(pmul_engine *e, pmul_now now)
{
    uint32_t group;
    bool last;
    pmul_event ev;

    release_held(e);
    advance(e, now);
    pmul__tx_expire(e);
    pmul__rx_expire(e);
    while (pmul_groups_expire_one(&e->groups, e->now_ms, &group, &last)) {
        if (!last)
            continue;
        memset(&ev, 0, sizeof(ev));
        ev.kind = PMUL_EV_LEAVE_GROUP;
        ev.group = group;
        (void)pmul__ev_push(e, &ev, NULL);
    }
    recompute_deadline(e);
    return 0;
}

/* ---- API --------------------------------------------------------------- */

int
pmul_engine_submit(pmul_engine *e, pmul_now now, const pmul_msg *m, uint32_t *msid)
{
    uint32_t id = 0;
    int err;

    release_held(e);
    advance(e, now);
    if (m == NULL)
        return PMUL_ERR_INVAL;
    err = pmul__tx_submit(e, m, &id);
    if (err == 0 && msid != NULL)
        *msid = id;
    recompute_deadline(e);
    return err;
}

int
pmul_engine_cancel(pmul_engine *e, pmul_now now, uint32_t msid)
{
    int err;

    release_held(e);
    advance(e, now);
    err = pmul__tx_cancel(e, msid, PMUL_REASON_CANCELLED);
    recompute_deadline(e);
    return err;
}

static int
verdict(pmul_engine *e, pmul_now now, uint32_t source_id, uint32_t msid, int v)
{
    int err;

    release_held(e);
    advance(e, now);
    err = pmul__rx_verdict(e, source_id, msid, v);
    recompute_deadline(e);
    return err;
}

int
pmul_engine_accept(pmul_engine *e, pmul_now now, uint32_t source_id, uint32_t msid)
{
    return verdict(e, now, source_id, msid, PMUL__VERDICT_ACCEPT);
}

int
pmul_engine_defer(pmul_engine *e, pmul_now now, uint32_t source_id, uint32_t msid)
{
    return verdict(e, now, source_id, msid, PMUL__VERDICT_DEFER);
}

int
pmul_engine_reject(pmul_engine *e, pmul_now now, uint32_t source_id, uint32_t msid)
{
    return verdict(e, now, source_id, msid, PMUL__VERDICT_REJECT);
}

int
pmul_engine_join_failed(pmul_engine *e, pmul_now now, uint32_t group)
{
    release_held(e);
    advance(e, now);
    e->st.join_failures++;
    log_emit(&e->env.log, LOG_LVL_WARN, "pmul group=%08x: join failed, %zu join(s) forgotten",
             (unsigned)group, pmul_groups_drop_group(&e->groups, group));
    recompute_deadline(e);
    return 0;
}

int
pmul_engine_restore_done(pmul_engine *e, pmul_now now, uint32_t source_id, uint32_t msid,
                         int64_t expiry_s)
{
    int err;

    release_held(e);
    advance(e, now);
    err = pmul__rx_restore_done(e, source_id, msid, expiry_s);
    recompute_deadline(e);
    return err;
}

uint32_t
pmul_engine_next_msid(const pmul_engine *e)
{
    return e->next_msid != 0 ? e->next_msid : 1;
}

void
pmul_engine_set_next_msid(pmul_engine *e, uint32_t msid)
{
    e->next_msid = msid;
}

uint32_t
pmul_engine_next_msn(const pmul_engine *e, uint32_t dest)
{
    return pmul__dst_next_msn(e, dest);
}

int
pmul_engine_set_next_msn(pmul_engine *e, uint32_t dest, uint32_t msn)
{
    pmul_dststate *d;
    int err;

    if ((err = pmul__dst_get(e, dest, &d)) != 0)
        return err;
    d->next_msn = msn;
    return 0;
}

void
pmul_engine_set_emcon(pmul_engine *e, pmul_now now, bool on)
{
    bool was = e->emcon;

    release_held(e);
    advance(e, now);
    e->emcon = on;
    if (was && !on)
        pmul__rx_emcon_lifted(e);
    recompute_deadline(e);
}

int
pmul_engine_set_dest_emcon(pmul_engine *e, pmul_now now, uint32_t dest, bool on)
{
    pmul_dststate *d;
    int err;

    release_held(e);
    advance(e, now);
    if (dest == 0 || dest == e->cfg.node_id)
        return PMUL_ERR_INVAL;
    if ((err = pmul__dst_get(e, dest, &d)) != 0)
        return err;
    d->emcon = on;
    pmul__tx_dest_emcon(e, dest, on);
    recompute_deadline(e);
    return 0;
}

void
pmul_engine_stats(const pmul_engine *e, pmul_stats *out)
{
    *out = e->st;
    out->tx_msgs = e->tx_cnt;
    out->rx_msgs = e->rx_active;
    out->rx_held_bytes = e->rx_all.used;
    out->rx_unaccepted = e->rx_unacc_cnt;
    out->srtt_ms = pmul_rate_rtt_ms(&e->rate);
}

const pmul_config *
pmul_engine_config(const pmul_engine *e)
{
    return &e->cfg;
}

bool
pmul_engine_is_idle(const pmul_engine *e)
{
    return e->tx_cnt == 0 && e->rx_cnt == 0 && e->ctl_cnt == 0 && e->ev_cnt == 0 &&
           e->ackq.cnt == 0 && e->groups.join_cnt == 0 && !pmul__rx_gaps_pending(e);
}

size_t
pmul_engine_dest_count(const pmul_engine *e)
{
    return e->dst_cnt;
}

/* The transmitter's findings as one verdict.  Blind wins: such a node
 * makes its messages wholly plain, whatever else is known. */
static int
dest_fec(const pmul_dststate *ds)
{
    if (ds->plain_left > 0)
        return PMUL_DEST_FEC_BLIND;
    if (ds->nodec_left > 0)
        return PMUL_DEST_FEC_NODEC;
    return ds->fec_ok ? PMUL_DEST_FEC_READS : PMUL_DEST_FEC_UNKNOWN;
}

int
pmul_engine_dest_info(const pmul_engine *e, size_t i, pmul_dest_info *out)
{
    const pmul_dststate *ds;

    if (i >= e->dst_cnt)
        return PMUL_ERR_NOTFOUND;
    ds = &e->dst[i];
    memset(out, 0, sizeof(*out));
    out->id = ds->id;
    out->next_msn = ds->next_msn;
    out->emcon = ds->emcon;
    out->no_fec = pmul__no_fec_peer(e, ds->id);
    out->loss_sent = ds->ls_sent;
    out->loss_got = ds->ls_got;
    out->fec = dest_fec(ds);
    if (out->fec == PMUL_DEST_FEC_BLIND) {
        out->fec_left = ds->plain_left;
        out->fec_span = ds->plain_span;
    } else if (out->fec == PMUL_DEST_FEC_NODEC) {
        out->fec_left = ds->nodec_left;
        out->fec_span = ds->nodec_span;
    }
    out->fec_decodes = ds->dec_ok;
    out->joint_decodes = ds->jdec_ok;
    out->nojoint_left = ds->nojoint_left;
    return 0;
}

const char *
pmul_dest_fec_name(int fec)
{
    static const char *const n[] = {"unknown", "reads", "blind", "nodec"};

    return fec >= 0 && (size_t)fec < sizeof(n) / sizeof(n[0]) ? n[fec] : "?";
}
