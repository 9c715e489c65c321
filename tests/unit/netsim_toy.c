/*
 * NAME
 *	netsim_toy - a minimal engine for testing the netsim driver
 * SYNOPSIS
 *	#include "netsim_toy.h"
 * DESCRIPTION
 *	Just enough of a reliable multicast protocol to exercise the
 *	simulator: Address_PDU + Data_PDUs, empty Ack_PDUs on completion,
 *	resend of everything unacked every 3 s, delivery and done events,
 *	EMCON honoured (or not, with "engine rogue 1").  Fixed small limits:
 *	16 destinations, 64 fragments, 32 messages per direction.
 * SECURITY
 *	Test code; datagrams are decoded with pmul_pdu_decode().
 * DIAGNOSTICS
 *	None.
 * SEE ALSO
 *	test_netsim.c.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "netsim_toy.h"

#include <string.h>

#include "pmul/pmul_pdu.h"

#define FRAG 256
#define MAXF 64
#define MAXD 16
#define MAXM 32
#define QMAX 1024
#define EVMAX 256
#define RTX_US 3000000u

typedef struct toy_out { uint8_t p[FRAG + 64 + MAXD * 8]; size_t len; uint32_t ip; uint16_t port; } toy_out;

typedef struct toy_tx {
    bool used, done;
    uint32_t msid;
    uint8_t prio;
    uint8_t *payload;
    size_t len;
    uint32_t dests[MAXD];
    bool acked[MAXD];
    size_t dest_cnt;
} toy_tx;

typedef struct toy_rx {
    bool used, delivered, have_addr;
    uint32_t src, msid;
    uint16_t total;
    bool have[MAXF];
    size_t last_len;
    uint8_t data[MAXF * FRAG];
} toy_rx;

typedef struct toy {
    uint32_t id;
    bool emcon, rogue;
    uint32_t next_msid;
    toy_tx tx[MAXM];
    toy_rx rx[MAXM];
    toy_out q[QMAX];
    size_t qh, ql;
    netsim_event ev[EVMAX];
    size_t eh, el;
    uint8_t evbuf[MAXF * FRAG];
    uint64_t rtx_at;
    const mem *m;
    pmul_dest_entry sd[MAXD];
    pmul_ack_entry sa[8];
    uint16_t sm[64];
    pmul_pdu_scratch scratch;
} toy;

static void
qpush(toy *t, const pmul_pdu *pdu, uint32_t ip, uint16_t port)
{
    toy_out *o;
    ssize_t n;

    if (t->ql == QMAX)
        return;
    o = &t->q[(t->qh + t->ql) % QMAX];
    n = pmul_pdu_encode(pdu, o->p, sizeof(o->p));
    if (n <= 0)
        return;
    o->len = (size_t)n;
    o->ip = ip;
    o->port = port;
    t->ql++;
}

static void
evpush(toy *t, int kind, uint32_t src, uint32_t msid, uint32_t dest)
{
    netsim_event *e;

    if (t->el == EVMAX)
        return;
    e = &t->ev[(t->eh + t->el++) % EVMAX];
    memset(e, 0, sizeof(*e));
    e->kind = kind;
    e->engine_kind = kind;
    e->source_id = src;
    e->msid = msid;
    e->dest_id = dest;
}

static void
send_msg(toy *t, const toy_tx *x)
{
    pmul_dest_entry de[MAXD];
    pmul_pdu pdu;
    size_t i, n = 0, nf = (x->len + FRAG - 1) / FRAG;

    for (i = 0; i < x->dest_cnt; i++) {
        if (x->acked[i])
            continue;
        de[n].dest_id = x->dests[i];
        de[n].msg_seq_no = x->msid;
        de[n].reserved = NULL;
        n++;
    }
    memset(&pdu, 0, sizeof(pdu));
    pdu.type = PMUL_PDU_ADDRESS;
    pdu.priority = x->prio;
    pdu.source_id = t->id;
    pdu.msid = x->msid;
    pdu.u.address.total_pdus = (uint16_t)nf;
    pdu.u.address.expiry_time = 2000000000u;
    pdu.u.address.dest_cnt = (uint16_t)n;
    pdu.u.address.dests = de;
    qpush(t, &pdu, 0xEF010102u, 2753);
    for (i = 0; i < nf; i++) {
        memset(&pdu, 0, sizeof(pdu));
        pdu.type = PMUL_PDU_DATA;
        pdu.priority = x->prio;
        pdu.source_id = t->id;
        pdu.msid = x->msid;
        pdu.u.data.seq = (uint16_t)(i + 1);
        pdu.u.data.frag = x->payload + i * FRAG;
        pdu.u.data.frag_len = i + 1 < nf ? FRAG : x->len - i * FRAG;
        qpush(t, &pdu, 0xEF010102u, 2753);
    }
}

static int
toy_create(void **out, const netsim_engine_init *init)
{
    toy *t = mem_calloc(init->m, 1, sizeof(*t));
    size_t i;

    if (t == NULL)
        return NETSIM_ERR_NOMEM;
    t->id = init->node_id;
    t->m = init->m;
    t->next_msid = 100;
    t->rtx_at = NETSIM_FOREVER;
    for (i = 0; i < init->kv_cnt; i++)
        if (strcmp(init->kv[i].key, "rogue") == 0)
            t->rogue = strcmp(init->kv[i].val, "1") == 0;
    t->scratch.dests = t->sd;
    t->scratch.dests_cap = MAXD;
    t->scratch.acks = t->sa;
    t->scratch.acks_cap = 8;
    t->scratch.missing = t->sm;
    t->scratch.missing_cap = 64;
    *out = t;
    return 0;
}

static void
toy_destroy(void *eng)
{
    toy *t = eng;
    size_t i;

    for (i = 0; i < MAXM; i++)
        mem_free(t->m, t->tx[i].payload);
    mem_free(t->m, t);
}

static int
toy_submit(void *eng, uint64_t now_us, const netsim_submit *sm, uint32_t *msid)
{
    toy *t = eng;
    toy_tx *x = NULL;
    size_t i;

    if (sm->len > MAXF * FRAG || sm->dest_cnt > MAXD)
        return NETSIM_ERR_INVAL;
    for (i = 0; i < MAXM && x == NULL; i++)
        if (!t->tx[i].used)
            x = &t->tx[i];
    if (x == NULL)
        return NETSIM_ERR_LIMIT;
    memset(x, 0, sizeof(*x));
    x->payload = mem_alloc(t->m, sm->len);
    if (x->payload == NULL)
        return NETSIM_ERR_LIMIT;
    memcpy(x->payload, sm->payload, sm->len);
    x->used = true;
    x->len = sm->len;
    x->msid = t->next_msid++;
    x->prio = sm->prio;
    x->dest_cnt = sm->dest_cnt;
    memcpy(x->dests, sm->dests, sm->dest_cnt * sizeof(uint32_t));
    send_msg(t, x);
    if (t->rtx_at == NETSIM_FOREVER)
        t->rtx_at = now_us + RTX_US;
    *msid = x->msid;
    return 0;
}

static toy_rx *
rx_find(toy *t, uint32_t src, uint32_t msid, bool create)
{
    size_t i;

    for (i = 0; i < MAXM; i++)
        if (t->rx[i].used && t->rx[i].src == src && t->rx[i].msid == msid)
            return &t->rx[i];
    if (!create)
        return NULL;
    for (i = 0; i < MAXM; i++) {
        if (!t->rx[i].used) {
            memset(&t->rx[i], 0, sizeof(t->rx[i]));
            t->rx[i].used = true;
            t->rx[i].src = src;
            t->rx[i].msid = msid;
            return &t->rx[i];
        }
    }
    return NULL;
}

static void
send_ack(toy *t, const toy_rx *r)
{
    pmul_ack_entry ae;
    pmul_pdu pdu;

    memset(&pdu, 0, sizeof(pdu));
    ae.source_id = r->src;
    ae.msid = r->msid;
    ae.missing = NULL;
    ae.missing_cnt = 0;
    pdu.type = PMUL_PDU_ACK;
    pdu.source_id = t->id;
    pdu.u.ack.entry_cnt = 1;
    pdu.u.ack.entries = &ae;
    qpush(t, &pdu, r->src, 2754);
}

static void
check_complete(toy *t, toy_rx *r)
{
    size_t i;

    if (r->delivered || !r->have_addr || r->total == 0)
        return;
    for (i = 0; i < r->total; i++)
        if (!r->have[i])
            return;
    if (r->last_len == 0)
        r->last_len = FRAG;     /* the payload is a multiple of FRAG */
    r->delivered = true;
    evpush(t, NETSIM_EV_DELIVERED, r->src, r->msid, 0);
    t->ev[(t->eh + t->el - 1) % EVMAX].payload = r->data;
    t->ev[(t->eh + t->el - 1) % EVMAX].payload_len = (r->total - 1u) * FRAG + r->last_len;
    send_ack(t, r);
}

static int
toy_recv(void *eng, uint64_t now_us, uint32_t from_ip, uint16_t from_port,
         const uint8_t *pkt, size_t len)
{
    toy *t = eng;
    pmul_pdu pdu;
    toy_rx *r;
    size_t i;
    bool listed = false;

    (void)now_us;
    (void)from_ip;
    (void)from_port;
    if (pmul_pdu_decode(&pdu, &t->scratch, pkt, len) != 0)
        return -1;
    if (pdu.type == PMUL_PDU_ADDRESS) {
        for (i = 0; i < pdu.u.address.dest_cnt; i++)
            listed |= pdu.u.address.dests[i].dest_id == t->id;
        r = rx_find(t, pdu.source_id, pdu.msid, listed);
        if (r == NULL)
            return 0;
        if (r->delivered) {
            if (listed)
                send_ack(t, r);         /* our Ack was lost */
            return 0;
        }
        r->have_addr = true;
        r->total = pdu.u.address.total_pdus;
        check_complete(t, r);
    } else if (pdu.type == PMUL_PDU_DATA) {
        if (pdu.u.data.seq > MAXF)
            return -1;
        r = rx_find(t, pdu.source_id, pdu.msid, true);
        if (r == NULL || r->delivered)
            return 0;
        memcpy(r->data + (pdu.u.data.seq - 1u) * FRAG, pdu.u.data.frag, pdu.u.data.frag_len);
        r->have[pdu.u.data.seq - 1] = true;
        if (pdu.u.data.frag_len < FRAG)
            r->last_len = pdu.u.data.frag_len;
        check_complete(t, r);
    } else if (pdu.type == PMUL_PDU_ACK) {
        for (i = 0; i < MAXM; i++) {
            toy_tx *x = &t->tx[i];
            size_t k;

            if (!x->used || x->done || x->msid != pdu.u.ack.entries[0].msid)
                continue;
            for (k = 0; k < x->dest_cnt; k++) {
                if (x->dests[k] == pdu.source_id && !x->acked[k]) {
                    x->acked[k] = true;
                    evpush(t, NETSIM_EV_DEST_ACKED, t->id, x->msid, pdu.source_id);
                }
            }
            for (k = 0; k < x->dest_cnt && x->acked[k]; k++)
                ;
            if (k == x->dest_cnt) {
                x->done = true;
                evpush(t, NETSIM_EV_MSG_DONE, t->id, x->msid, 0);
            }
        }
    }
    return 0;
}

static ssize_t
toy_poll_tx(void *eng, uint64_t now_us, uint8_t *out, size_t cap, uint32_t *to_ip, uint16_t *to_port)
{
    toy *t = eng;
    toy_out *o;

    (void)now_us;
    if (t->ql == 0 || (t->emcon && !t->rogue))
        return 0;
    o = &t->q[t->qh];
    if (o->len > cap)
        return -1;
    memcpy(out, o->p, o->len);
    *to_ip = o->ip;
    *to_port = o->port;
    t->qh = (t->qh + 1) % QMAX;
    t->ql--;
    return (ssize_t)o->len;
}

static uint64_t
toy_deadline(void *eng)
{
    return ((toy *)eng)->rtx_at;
}

static int
toy_expire(void *eng, uint64_t now_us)
{
    toy *t = eng;
    size_t i;
    bool any = false;

    if (now_us < t->rtx_at)
        return 0;
    for (i = 0; i < MAXM; i++) {
        if (t->tx[i].used && !t->tx[i].done) {
            send_msg(t, &t->tx[i]);
            any = true;
        }
    }
    t->rtx_at = any ? now_us + RTX_US : NETSIM_FOREVER;
    return 0;
}

static int
toy_poll_event(void *eng, netsim_event *ev)
{
    toy *t = eng;

    if (t->el == 0)
        return 0;
    *ev = t->ev[t->eh];
    t->eh = (t->eh + 1) % EVMAX;
    t->el--;
    return 1;
}

static void
toy_set_emcon(void *eng, uint64_t now_us, bool on)
{
    (void)now_us;
    ((toy *)eng)->emcon = on;
}

static void
toy_set_dest_emcon(void *eng, uint64_t now_us, uint32_t dest, bool on)
{
    (void)eng;
    (void)now_us;
    (void)dest;
    (void)on;
}

static const char *
toy_event_name(int kind)
{
    static const char *const names[] = { "NONE", "DELIVERED", "RX_DISCARDED", "LOST_MESSAGE",
                                         "DEST_ACKED", "DEST_FAILED", "MSG_DONE", "OTHER" };

    return kind >= 0 && kind <= 7 ? names[kind] : "?";
}

const netsim_engine_ops toy_ops = {
    "toy", toy_create, toy_destroy, toy_submit, toy_recv, toy_poll_tx, toy_deadline,
    toy_expire, toy_poll_event, toy_set_emcon, toy_set_dest_emcon, toy_event_name,
};
