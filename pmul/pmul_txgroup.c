/*
 * NAME
 *	pmul_txgroup - the transmitter's side of dynamic multicast groups
 * SYNOPSIS
 *	#include "pmul/pmul_engine_int.h"
 * DESCRIPTION
 *	The procedure of docs/wire.md 7.4 for a message submitted with
 *	PMUL_GROUP_DYNAMIC: pick a free pool group (pmul_group), multicast a
 *	Request_PDU to GG:TPORT and wait WAIT_FOR_REJECT_TIME; on a Reject,
 *	Release that group and try the next one (after max_group_tries, or
 *	with the pool exhausted, fall back to the static default group, so
 *	the mail still goes); without one, multicast ANNOUNCE_CT
 *	Announce_PDUs to GG:RPORT spread evenly over ANNOUNCE_DELAY and
 *	start the first round on the group when ANNOUNCE_DELAY has passed.
 *	The Release at the end of the message is sent by pmul_tx.c.
 *
 *	It also answers other transmitters: a Request for a group one of our
 *	messages owns draws a Reject (never in EMCON); when both sides are
 *	still requesting, the lower node ID keeps the group and the other
 *	moves on, so two nodes that miss each other's Request do not block.
 * SECURITY
 *	Request and Reject PDUs come from any node.  A Reject is acted on
 *	only for a message of ours in the REQUEST phase for that very group;
 *	a Request only marks a pool group busy for a bounded time.
 * DIAGNOSTICS
 *	Unexpected Rejects are dropped and counted (PMUL_DROP_UNEXPECTED).
 *	Rejections and fallbacks are logged at info level.
 * SEE ALSO
 *	pmul_group(3), pmul_tx(3), docs/wire.md 7.4
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "pmul/pmul_engine_int.h"

#include <string.h>

/* How long a group another node requested or defended stays off-limits
 * unless its Release arrives first. */
#define FOREIGN_HOLD_MS 600000u

static void
ctl_group_pdu(pmul_engine *e, uint8_t type, uint32_t msid, uint32_t group,
              const pmul_addr *to)
{
    pmul_pdu p;

    memset(&p, 0, sizeof(p));
    p.type = type;
    p.source_id = e->cfg.node_id;
    p.msid = msid;
    p.u.group.mcast_group = group;
    (void)pmul__ctl_push(e, &p, to);
}

void
pmul__txg_release(pmul_engine *e, uint32_t msid, uint32_t group)
{
    pmul_addr to = pmul__group_addr(e->cfg.gg_group, e->cfg.tport);

    ctl_group_pdu(e, PMUL_PDU_RELEASE, msid, group, &to);
}

/* One Announce_PDU per MAP part of the destination list. */
static void
send_announce(pmul_engine *e, pmul_txmsg *m)
{
    pmul_addr to = pmul__group_addr(e->cfg.gg_group, e->cfg.rport);
    size_t per = e->enc_ids_cap, k = 0, n, j;
    pmul_pdu p;

    memset(&p, 0, sizeof(p));
    p.type = PMUL_PDU_ANNOUNCE;
    p.source_id = e->cfg.node_id;
    p.msid = m->msid;
    p.u.announce.expiry_time = (uint32_t)m->expiry_s;
    p.u.announce.mcast_group = m->group;
    /* The destination list, sorted, MAP-split like the Address_PDU. */
    while (k < m->dest_cnt) {
        n = m->dest_cnt - k < per ? m->dest_cnt - k : per;
        for (j = 0; j < n; j++)
            e->enc_ids[j] = m->dests[k + j].id;
        p.map = 0;
        if (k > 0)
            p.map |= PMUL_MAP_NOT_FIRST;
        if (k + n < m->dest_cnt)
            p.map |= PMUL_MAP_NOT_LAST;
        p.u.announce.dest_cnt = (uint16_t)n;
        p.u.announce.dest_ids = e->enc_ids;
        (void)pmul__ctl_push(e, &p, &to);
        k += n;
    }
    m->announces++;
}

/* Ask for the next pool group, or fall back to the static default group
 * when the pool is exhausted or we were rejected too often. */
void
pmul__txg_request(pmul_engine *e, pmul_txmsg *m)
{
    pmul_addr to = pmul__group_addr(e->cfg.gg_group, e->cfg.tport);
    uint32_t group;

    if (m->group_tries >= e->cfg.max_group_tries ||
        pmul_groups_pick(&e->groups, e->now_ms, m->msid, &group) != 0) {
        log_emit(&e->env.log, LOG_LVL_INFO,
                 "pmul-tx group-fallback msid=%08x tries=%u", (unsigned)m->msid,
                 (unsigned)m->group_tries);
        m->dynamic = false;
        m->group = e->cfg.default_group;
        pmul__tx_start_round(e, m, true, false);
        return;
    }
    m->group = group;
    m->phase = PMUL_TXP_REQUEST;
    m->phase_at = pmul__add_ms(e->now_ms, e->cfg.wait_for_reject_ms);
    ctl_group_pdu(e, PMUL_PDU_REQUEST, m->msid, group, &to);
}

/* Our request for m->group lost (Reject, or a lower node ID asked too). */
static void
group_lost(pmul_engine *e, pmul_txmsg *m, uint32_t owner)
{
    pmul__txg_release(e, m->msid, m->group);
    pmul_groups_release(&e->groups, m->group);
    pmul_groups_mark_foreign(&e->groups, m->group, owner,
                             pmul__add_ms(e->now_ms, FOREIGN_HOLD_MS));
    m->group_tries++;
    pmul__txg_request(e, m);
}

int
pmul__tx_on_reject(pmul_engine *e, const pmul_pdu *pdu)
{
    pmul_txmsg *m = pmul__tx_find(e, pdu->msid);

    /* Rejects after the announcement (or for a group we did not ask for)
     * are ignored (7.4 step 2). */
    if (m == NULL || m->phase != PMUL_TXP_REQUEST || !m->dynamic ||
        m->group != pdu->u.group.mcast_group)
        return pmul__drop(e, PMUL_DROP_UNEXPECTED, PMUL_ERR_UNEXPECTED);
    log_emit(&e->env.log, LOG_LVL_INFO, "pmul-tx group-rejected msid=%08x group=%08x by=%08x",
             (unsigned)m->msid, (unsigned)m->group, (unsigned)pdu->source_id);
    group_lost(e, m, pdu->source_id);
    return 0;
}

int
pmul__tx_on_request(pmul_engine *e, const pmul_pdu *pdu)
{
    uint32_t group = pdu->u.group.mcast_group, msid = 0;
    uint64_t until = pmul__add_ms(e->now_ms, FOREIGN_HOLD_MS);
    pmul_addr to;
    pmul_txmsg *m;

    switch (pmul_groups_on_request(&e->groups, pdu->source_id, group, until, &msid)) {
    case PMUL_GRP_ACT_REJECT:
        /* Nodes in EMCON never send Rejects (7.4 step 2). */
        if (e->emcon)
            return 0;
        to.ip = pdu->source_id;
        to.port = e->cfg.tport;
        to.is_multicast = false;
        ctl_group_pdu(e, PMUL_PDU_REJECT, pdu->msid, group, &to);
        return 0;
    case PMUL_GRP_ACT_YIELD:
        if ((m = pmul__tx_find(e, msid)) != NULL && m->phase == PMUL_TXP_REQUEST) {
            /* pmul_groups already marked the group foreign. */
            pmul__txg_release(e, m->msid, m->group);
            m->group_tries++;
            pmul__txg_request(e, m);
        }
        return 0;
    default:
        return 0;
    }
}

/* The REQUEST and ANNOUNCE phases of m, at e->now_ms. */
void
pmul__txg_timers(pmul_engine *e, pmul_txmsg *m)
{
    uint32_t interval;

    if (m->phase == PMUL_TXP_REQUEST) {
        if (e->now_ms < m->phase_at)
            return;
        /* No Reject within WAIT_FOR_REJECT_TIME: the group is ours. */
        pmul_groups_set_owned(&e->groups, m->group);
        m->phase = PMUL_TXP_ANNOUNCE;
        m->announces = 0;
        m->phase_at = e->now_ms;
        m->data_at = pmul__add_ms(e->now_ms, e->cfg.announce_delay_ms);
    }
    if (m->phase != PMUL_TXP_ANNOUNCE)
        return;
    /* ANNOUNCE_CT copies, evenly spread: receivers that miss one still
     * join in time, and routers get ANNOUNCE_DELAY to build the tree. */
    interval = e->cfg.announce_delay_ms / e->cfg.announce_ct;
    while (m->announces < e->cfg.announce_ct && e->now_ms >= m->phase_at) {
        send_announce(e, m);
        m->phase_at = pmul__add_ms(m->phase_at, interval);
    }
    if (e->now_ms >= m->data_at)
        pmul__tx_start_round(e, m, true, false);
}
