/*
 * NAME
 *	netsim_attack - hostile nodes of netsim: floods, spoofing, replay
 * SYNOPSIS
 *	#include "netsim/netsim_int.h"
 * DESCRIPTION
 *	An attacker node (scenario "attacker NAME IP") runs no engine.  Its
 *	"attack" lines make datagrams with the one P_MUL codec (valid PDUs
 *	with their Fletcher checksum) and put them on its uplink, so they are
 *	serialised, counted, traced, written to the pcap and fanned out like
 *	any node's.  The IP source of each may be spoofed: on the multicast
 *	network of issue 13 ("Hostile peers") nothing stops a node from
 *	claiming any address, and only the engine's checks (Source_ID bound
 *	to the IP source, allowlist, plausibility) stand between it and the
 *	victim's tables.
 *
 *	Three families:
 *	  - floods (flood-data, flood-address, flood-announce, garbage): a
 *	    schedule of count datagrams from at, every apart (or one burst),
 *	    from spoofed Source_IDs (sources N from source-base, or a named
 *	    node's ID with "as");
 *	  - reactions (spoof-ack, spoof-ackack, spoof-discard): the attacker
 *	    hears the medium as datagrams go on the air and answers each
 *	    Address_PDU it hears with forged Acks of its destinations, an
 *	    Ack-Ack or a Discard_Message_PDU of its transmitter, delay later;
 *	  - replay: every datagram heard (of the target transmitters) is sent
 *	    again delay later, byte for byte.
 *	What an attacker sends is never heard by attackers (a replay would
 *	replay itself).  Reactions are prepared when the datagram is heard and
 *	held by an event until they are sent.
 * SECURITY
 *	Sees only datagrams made by netsim's engines, decoded with
 *	pmul_pdu_decode(); lists are bounded by the decoder's scratch caps.
 * DIAGNOSTICS
 *	NETSIM_ERR_NOMEM, NETSIM_ERR_LIMIT (event cap).  Logs nothing.
 * SEE ALSO
 *	netsim(7) (docs/netsim.md "Attackers"), netsim/README.md.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "netsim/netsim_int.h"

#include <string.h>

#include "pmul/pmul_engine.h"

/* Groups and ports of the engine's defaults (docs/wire.md 1): messages go
 * to the default group on DPORT, Acks unicast to APORT, Announce_PDUs to
 * the global group GG on RPORT. */
#define DEFAULT_GROUP 0xEF010102u      /* 239.1.1.2 */
#define GG_GROUP      0xEF010101u      /* 239.1.1.1 */
#define ANNOUNCED_BASE 0xEFC80000u     /* 239.200.0.0: groups announced */
#define FLOOD_MSID_BASE 0xA7000001u    /* MSIDs of made-up messages */
#define SEEN_MAX (1u << 20)            /* messages a reaction remembers */

static const uint8_t garbage_types[] = {
    PMUL_PDU_DATA, PMUL_PDU_ACK, PMUL_PDU_ADDRESS, PMUL_PDU_DISCARD, PMUL_PDU_ANNOUNCE,
    PMUL_PDU_REQUEST, PMUL_PDU_REJECT, PMUL_PDU_RELEASE, PMUL_PDU_FEC_ADDRESS,
    PMUL_PDU_EXTRA_ADDRESS, PMUL_PDU_EXTRA_FEC_ADDRESS,
};

static uint32_t
own_ip(const netsim *s, const netsim_attack_cfg *c)
{
    return s->sc->nodes[c->node].ip;
}

/* Source_ID of flood datagram k. */
static uint32_t
flood_source(const netsim *s, const netsim_attack_cfg *c, uint64_t k)
{
    if (c->sources > 0)
        return c->source_base + (uint32_t)(k % c->sources);
    if (c->as_node >= 0)
        return s->sc->nodes[c->as_node].ip;
    return own_ip(s, c);
}

/* The IP source a datagram claiming Source_ID id goes out with. */
static uint32_t
ip_source(const netsim *s, const netsim_attack_cfg *c, uint32_t id)
{
    return c->spoof_ip ? id : own_ip(s, c);
}

static uint32_t
group(const netsim *s)
{
    return s->sc->group != 0 ? s->sc->group : DEFAULT_GROUP;
}

static uint32_t
wall_now(const netsim *s)
{
    return (uint32_t)(s->sc->wall_start_s + (int64_t)(s->now_us / 1000000));
}

static uint32_t
expiry_time(const netsim *s, const netsim_attack_cfg *c)
{
    /* "far" is the last second a 32-bit Expiry_Time can name (2106),
     * what issue 13's attacker claimed. */
    return c->expiry == NETSIM_EXPIRY_FAR ? UINT32_MAX : wall_now(s) + 3600u;
}

/* Encode pdu and hold it for attack a until at_us (an attack event owns
 * the datagram from then on). */
static int
schedule_pdu(netsim *s, size_t a, uint64_t at_us, const pmul_pdu *pdu, uint32_t src_ip,
             uint32_t to_ip, uint16_t port)
{
    netsim__dgram *d;
    ssize_t n;
    int rc;

    /* s->txbuf is free here: whatever an engine wrote there was copied
     * into its datagram before it went on the air. */
    n = pmul_pdu_encode(pdu, s->txbuf, s->txbuf_cap);
    if (n < 0)
        return NETSIM_ERR_INVAL;    /* a bug in this file: bad PDU */
    d = netsim__dgram_new(s, s->sc->attacks[a].node, src_ip, to_ip, port, s->txbuf, (size_t)n);
    if (d == NULL)
        return NETSIM_ERR_NOMEM;
    rc = netsim__push(s, at_us, NETSIM__EV_ATTACK, a, 0, d);
    if (rc != 0)
        netsim__dgram_release(s, d);
    return rc;
}

/* Random octets in the shape of a PDU: a length that matches the datagram,
 * a known type and a valid checksum, so only the structure can refuse it. */
static int
make_garbage(netsim *s, size_t a, uint32_t id)
{
    netsim__attack *at = &s->attacks[a];
    const netsim_attack_cfg *c = at->cfg;
    netsim__dgram *d;
    size_t len, i;
    uint16_t ck;

    len = PMUL_HDR_LEN + (size_t)netsim_rng_below(&at->rng, c->size - PMUL_HDR_LEN + 1);
    for (i = 0; i < len; i++)
        s->txbuf[i] = (uint8_t)(netsim_rng_next(&at->rng) >> 56);
    s->txbuf[0] = (uint8_t)(len >> 8);
    s->txbuf[1] = (uint8_t)len;
    s->txbuf[3] = garbage_types[netsim_rng_below(&at->rng, sizeof(garbage_types))];
    s->txbuf[8] = (uint8_t)(id >> 24);
    s->txbuf[9] = (uint8_t)(id >> 16);
    s->txbuf[10] = (uint8_t)(id >> 8);
    s->txbuf[11] = (uint8_t)id;
    ck = pmul_cksum_fletcher(s->txbuf, len);
    s->txbuf[6] = (uint8_t)(ck >> 8);
    s->txbuf[7] = (uint8_t)ck;
    d = netsim__dgram_new(s, c->node, ip_source(s, c, id), group(s), PMUL_DPORT_DEFAULT,
                          s->txbuf, len);
    if (d == NULL)
        return NETSIM_ERR_NOMEM;
    return netsim__inject(s, a, d);
}

/* Flood datagram k of attack a, sent now. */
static int
make_flood(netsim *s, size_t a, uint64_t k)
{
    const netsim_attack_cfg *c = s->attacks[a].cfg;
    uint32_t id = flood_source(s, c, k), *ids = NULL;
    /* The k-th message of its source: MSIDs and sequence numbers count up
     * per spoofed source, as a real transmitter's would. */
    uint64_t j = c->sources > 0 ? k / c->sources : k;
    pmul_dest_entry *dests = NULL;
    uint8_t *frag = NULL;
    pmul_pdu pdu;
    size_t i;
    int rc;

    if (c->kind == NETSIM_A_GARBAGE)
        return make_garbage(s, a, id);
    memset(&pdu, 0, sizeof(pdu));
    pdu.priority = 6;
    pdu.source_id = id;
    pdu.msid = FLOOD_MSID_BASE + (uint32_t)j;
    rc = NETSIM_ERR_NOMEM;
    switch (c->kind) {
    case NETSIM_A_FLOOD_DATA:
        frag = mem_calloc(s->m, c->size, 1);
        if (frag == NULL)
            goto out;
        pdu.type = PMUL_PDU_DATA;
        pdu.u.data.seq = 1;
        pdu.u.data.frag = frag;
        pdu.u.data.frag_len = c->size;
        rc = schedule_pdu(s, a, s->now_us, &pdu, ip_source(s, c, id), group(s),
                          PMUL_DPORT_DEFAULT);
        break;
    case NETSIM_A_FLOOD_ADDRESS:
        dests = mem_calloc(s->m, c->target_cnt, sizeof(*dests));
        if (dests == NULL)
            goto out;
        for (i = 0; i < c->target_cnt; i++) {
            dests[i].dest_id = s->sc->nodes[c->targets[i]].ip;
            dests[i].msg_seq_no = (uint32_t)j + 1;
        }
        pdu.type = PMUL_PDU_ADDRESS;
        pdu.u.address.total_pdus = (uint16_t)c->total;
        pdu.u.address.expiry_time = expiry_time(s, c);
        pdu.u.address.dest_cnt = (uint16_t)c->target_cnt;
        pdu.u.address.dests = dests;
        rc = schedule_pdu(s, a, s->now_us, &pdu, ip_source(s, c, id), group(s),
                          PMUL_DPORT_DEFAULT);
        break;
    default:                    /* NETSIM_A_FLOOD_ANNOUNCE */
        ids = mem_calloc(s->m, c->target_cnt, sizeof(*ids));
        if (ids == NULL)
            goto out;
        for (i = 0; i < c->target_cnt; i++)
            ids[i] = s->sc->nodes[c->targets[i]].ip;
        pdu.type = PMUL_PDU_ANNOUNCE;
        pdu.u.announce.expiry_time = expiry_time(s, c);
        /* A new group each time: every one is a join for the victim. */
        pdu.u.announce.mcast_group = ANNOUNCED_BASE + (uint32_t)(k & 0xFFFFu);
        pdu.u.announce.dest_cnt = (uint16_t)c->target_cnt;
        pdu.u.announce.dest_ids = ids;
        rc = schedule_pdu(s, a, s->now_us, &pdu, ip_source(s, c, id), GG_GROUP,
                          PMUL_RPORT_DEFAULT);
        break;
    }
out:
    mem_free(s->m, frag);
    mem_free(s->m, dests);
    mem_free(s->m, ids);
    return rc;
}

int
netsim__attack_new(netsim *s)
{
    const netsim_scenario *sc = s->sc;
    size_t a;
    int rc;

    s->attacks = mem_calloc(s->m, sc->attack_cnt, sizeof(*s->attacks));
    if (s->attacks == NULL)
        return NETSIM_ERR_NOMEM;
    for (a = 0; a < sc->attack_cnt; a++) {
        netsim__attack *at = &s->attacks[a];
        const netsim_attack_cfg *c = &sc->attacks[a];

        at->cfg = c;
        map_init(&at->seen, s->m, SEEN_MAX);
        netsim_rng_seed(&at->rng, s->seed, (uint64_t)a << 8 | 5);
        /* Floods run on their own schedule; the others wait for what
         * they hear (netsim__attack_observe). */
        if (c->kind <= NETSIM_A_FLOOD_ANNOUNCE || c->kind == NETSIM_A_GARBAGE) {
            rc = netsim__push(s, c->at_us, NETSIM__EV_ATTACK, a, 0, NULL);
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

int
netsim__attack_event(netsim *s, size_t a, netsim__dgram *d)
{
    netsim__attack *at = &s->attacks[a];
    const netsim_attack_cfg *c = at->cfg;
    uint64_t burst, i;
    int rc = 0;

    if (d != NULL)
        return netsim__inject(s, a, d);
    /* A flood: one datagram, or the whole burst when every is 0.  The
     * uplink serialises them (and drops what its queue cannot hold). */
    burst = c->every_us == 0 ? c->count : 1;
    for (i = 0; i < burst && at->sent < c->count && rc == 0; i++)
        rc = make_flood(s, a, at->sent++);
    if (rc == 0 && at->sent < c->count)
        rc = netsim__push(s, s->now_us + c->every_us, NETSIM__EV_ATTACK, a, 0, NULL);
    return rc;
}

static bool
is_target(const netsim_attack_cfg *c, size_t node)
{
    size_t i;

    if (c->target_cnt == 0)
        return true;
    for (i = 0; i < c->target_cnt; i++)
        if (c->targets[i] == node)
            return true;
    return false;
}

/* Forge what reaction kind c answers the Address_PDU *pdu with. */
static int
react(netsim *s, size_t a, const pmul_pdu *pdu, const netsim__dgram *heard)
{
    const netsim_attack_cfg *c = s->attacks[a].cfg;
    uint64_t at_us = s->now_us + c->delay_us;
    pmul_ack_entry ent;
    pmul_pdu out;
    size_t i;
    int rc = 0;

    memset(&out, 0, sizeof(out));
    out.priority = pdu->priority;
    switch (c->kind) {
    case NETSIM_A_SPOOF_ACK:
        /* "I have it all", in the name of each destination (or of the
         * one named by "as"), to the transmitter's address. */
        memset(&ent, 0, sizeof(ent));
        ent.source_id = pdu->source_id;
        ent.msid = pdu->msid;
        out.type = PMUL_PDU_ACK;
        out.u.ack.entry_cnt = 1;
        out.u.ack.entries = &ent;
        for (i = 0; i < pdu->u.address.dest_cnt && rc == 0; i++) {
            uint32_t dest = pdu->u.address.dests[i].dest_id;

            if (c->as_node >= 0 && dest != s->sc->nodes[c->as_node].ip)
                continue;
            out.source_id = dest;
            rc = schedule_pdu(s, a, at_us, &out, ip_source(s, c, dest), pdu->source_id,
                              PMUL_APORT_DEFAULT);
        }
        return rc;
    case NETSIM_A_SPOOF_ACKACK:
        out.type = PMUL_PDU_ADDRESS;
        out.source_id = pdu->source_id;
        out.msid = pdu->msid;
        out.u.address.total_pdus = pdu->u.address.total_pdus;
        out.u.address.expiry_time = pdu->u.address.expiry_time;
        out.u.address.dest_cnt = 0;
        break;
    default:                    /* NETSIM_A_SPOOF_DISCARD */
        out.type = PMUL_PDU_DISCARD;
        out.source_id = pdu->source_id;
        out.msid = pdu->msid;
        break;
    }
    return schedule_pdu(s, a, at_us, &out, ip_source(s, c, pdu->source_id), heard->dst_ip,
                        heard->dst_port);
}

int
netsim__attack_observe(netsim *s, const netsim__dgram *d)
{
    size_t a;
    pmul_pdu pdu;
    bool decoded = false;
    int rc;

    for (a = 0; a < s->sc->attack_cnt; a++) {
        netsim__attack *at = &s->attacks[a];
        const netsim_attack_cfg *c = at->cfg;
        uint64_t key, n;

        if (c->kind <= NETSIM_A_FLOOD_ANNOUNCE || c->kind == NETSIM_A_GARBAGE)
            continue;
        if (s->now_us < c->at_us || s->now_us >= c->until_us || !is_target(c, d->src))
            continue;
        if (c->kind == NETSIM_A_REPLAY) {
            netsim__dgram *copy;

            if (c->count != 0 && at->reactions >= c->count)
                continue;
            copy = netsim__dgram_copy(s, c->node, c->spoof_ip ? d->src_ip : own_ip(s, c),
                                      d->dst_ip, d->dst_port, d->data, d->len);
            if (copy == NULL)
                return NETSIM_ERR_NOMEM;
            at->reactions++;
            rc = netsim__push(s, s->now_us + c->delay_us, NETSIM__EV_ATTACK, a, 0, copy);
            if (rc != 0) {
                netsim__dgram_release(s, copy);
                return rc;
            }
            continue;
        }
        /* Reactions answer Address_PDUs that list destinations (not
         * Ack-Acks, which already end the message). */
        if (d->type < 0 || !pmul_pdu_is_address((unsigned)d->type) || d->dest_cnt == 0)
            continue;
        if (!decoded) {
            if (netsim__decode(s, &pdu, d->data, d->len) != 0)
                return 0;
            decoded = true;
        }
        key = (uint64_t)pdu.source_id << 32 | pdu.msid;
        if (!map_get(&at->seen, key, &n))
            n = 0;
        if (c->count != 0 && n >= c->count)
            continue;
        if (map_put(&at->seen, key, n + 1) != 0)
            return NETSIM_ERR_NOMEM;
        at->reactions++;
        if ((rc = react(s, a, &pdu, d)) != 0)
            return rc;
    }
    return 0;
}

void
netsim__attack_free(netsim *s)
{
    size_t a;

    if (s->attacks == NULL)
        return;
    for (a = 0; a < s->sc->attack_cnt; a++)
        map_fini(&s->attacks[a].seen);
    mem_free(s->m, s->attacks);
    s->attacks = NULL;
}
