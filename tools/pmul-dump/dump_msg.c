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
 *	an open-addressing hash table over an array kept in first-seen
 *	order, so the report follows the capture.  What is counted:
 *
 *	  - Data_PDUs: a bitmap of the sequence numbers seen (sized by the
 *	    highest number seen, at most 8 KiB); a number seen again is a
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
 * SECURITY
 *	Works on decoded PDUs only.  Everything a capture can grow is
 *	capped: messages (max_msgs), destinations per message (max_dests),
 *	the bitmap (65536 bits).  Nothing is allocated by a count a PDU
 *	states.
 * DIAGNOSTICS
 *	Returns -1 when memory runs out; the report says how many PDUs were
 *	not accounted because a cap was reached.
 * SEE ALSO
 *	pmul-dump(1), dump_vnode(3), docs/tools.md.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "tools/pmul-dump/dump_msg.h"

#include <inttypes.h>
#include <string.h>

#include "pmul/util/mem.h"
#include "tools/capture/dump_fmt.h"

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
    uint8_t *seen;              /* bitmap, seen_len octets */
    size_t seen_len;
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
} dmsg;

struct dump_msgs {
    dmsg *msgs;
    size_t cnt, size, max;
    size_t *tab;                /* index + 1; 0 = empty */
    size_t tab_size;            /* power of two */
    size_t max_dests;
    size_t overflow;
};

static size_t
hash(uint32_t src, uint32_t msid)
{
    uint64_t k = (uint64_t)src << 32 | msid;

    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdu;
    k ^= k >> 33;
    return (size_t)k;
}

int
dump_msgs_new(dump_msgs **out, size_t max_msgs, size_t max_dests)
{
    dump_msgs *m = mem_calloc(NULL, 1, sizeof(*m));

    *out = NULL;
    if (m == NULL)
        return -1;
    m->max = max_msgs;
    m->max_dests = max_dests;
    m->tab_size = 1024;
    m->tab = mem_calloc(NULL, m->tab_size, sizeof(*m->tab));
    if (m->tab == NULL) {
        mem_free(NULL, m);
        return -1;
    }
    *out = m;
    return 0;
}

void
dump_msgs_free(dump_msgs *m)
{
    size_t i;

    if (m == NULL)
        return;
    for (i = 0; i < m->cnt; i++) {
        mem_free(NULL, m->msgs[i].seen);
        mem_free(NULL, m->msgs[i].dests);
        mem_free(NULL, m->msgs[i].files);
    }
    mem_free(NULL, m->msgs);
    mem_free(NULL, m->tab);
    mem_free(NULL, m);
}

static dmsg *
find(const dump_msgs *m, uint32_t src, uint32_t msid)
{
    size_t mask = m->tab_size - 1, i = hash(src, msid) & mask, n;

    for (n = 0; n < m->tab_size; n++, i = (i + 1) & mask) {
        size_t v = m->tab[i];

        if (v == 0)
            return NULL;
        if (m->msgs[v - 1].src == src && m->msgs[v - 1].msid == msid)
            return &m->msgs[v - 1];
    }
    return NULL;
}

static void
tab_put(size_t *tab, size_t size, uint32_t src, uint32_t msid, size_t idx)
{
    size_t mask = size - 1, i = hash(src, msid) & mask;

    while (tab[i] != 0)
        i = (i + 1) & mask;
    tab[i] = idx + 1;
}

/* Find or create; NULL when a cap or memory says no. */
static dmsg *
get(dump_msgs *m, uint32_t src, uint32_t msid, uint64_t ts_us)
{
    dmsg *d = find(m, src, msid);
    size_t i;

    if (d != NULL)
        return d;
    if (m->cnt >= m->max) {
        m->overflow++;
        return NULL;
    }
    /* Keep the table at most half full. */
    if ((m->cnt + 1) * 2 > m->tab_size) {
        size_t ns = m->tab_size * 2;
        size_t *nt = mem_calloc(NULL, ns, sizeof(*nt));

        if (nt == NULL)
            return NULL;
        for (i = 0; i < m->cnt; i++)
            tab_put(nt, ns, m->msgs[i].src, m->msgs[i].msid, i);
        mem_free(NULL, m->tab);
        m->tab = nt;
        m->tab_size = ns;
    }
    if (m->cnt == m->size) {
        size_t ns = m->size ? m->size * 2 : 64;
        dmsg *nm;

        if (ns > SIZE_MAX / sizeof(*nm))
            return NULL;
        nm = mem_realloc(NULL, m->msgs, ns * sizeof(*nm));
        if (nm == NULL)
            return NULL;
        m->msgs = nm;
        m->size = ns;
    }
    d = &m->msgs[m->cnt];
    memset(d, 0, sizeof(*d));
    d->src = src;
    d->msid = msid;
    d->first_us = ts_us;
    d->last_us = ts_us;
    tab_put(m->tab, m->tab_size, src, msid, m->cnt);
    m->cnt++;
    return d;
}

static dest *
get_dest(dump_msgs *m, dmsg *d, uint32_t id)
{
    size_t i;

    for (i = 0; i < d->dest_cnt; i++)
        if (d->dests[i].id == id)
            return &d->dests[i];
    if (d->dest_cnt >= m->max_dests) {
        d->dest_overflow++;
        return NULL;
    }
    if (d->dest_cnt == d->dest_size) {
        size_t ns = d->dest_size ? d->dest_size * 2 : 4;
        dest *nd = mem_realloc(NULL, d->dests, ns * sizeof(*nd));

        if (nd == NULL)
            return NULL;
        d->dests = nd;
        d->dest_size = ns;
    }
    memset(&d->dests[d->dest_cnt], 0, sizeof(dest));
    d->dests[d->dest_cnt].id = id;
    return &d->dests[d->dest_cnt++];
}

/* Mark seq seen; returns 1 if new, 0 if seen before, -1 on no memory. */
static int
mark_seen(dmsg *d, uint16_t seq)
{
    size_t need = (size_t)seq / 8u + 1u;

    if (need > d->seen_len) {
        /* Grow to the next power of two (at most 8 KiB) to keep the
         * number of reallocations logarithmic. */
        size_t ns = d->seen_len ? d->seen_len : 8;
        uint8_t *n;

        while (ns < need)
            ns *= 2;
        n = mem_realloc(NULL, d->seen, ns);
        if (n == NULL)
            return -1;
        memset(n + d->seen_len, 0, ns - d->seen_len);
        d->seen = n;
        d->seen_len = ns;
    }
    if (d->seen[seq / 8u] & (1u << (seq % 8u)))
        return 0;
    d->seen[seq / 8u] |= (uint8_t)(1u << (seq % 8u));
    return 1;
}

static bool
is_seen(const dmsg *d, uint32_t seq)
{
    return seq / 8u < d->seen_len && (d->seen[seq / 8u] & (1u << (seq % 8u)));
}

static void
check_complete(dmsg *d, uint64_t ts_us)
{
    if (d->complete_us == 0 && d->have_total && d->total > 0 &&
        d->seen_cnt >= d->total) {
        uint32_t s;

        for (s = 1; s <= d->total; s++)
            if (!is_seen(d, s))
                return;
        d->complete_us = ts_us;
    }
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
 * literally.  A linear scan, but only for such entries, over at most the
 * message cap.
 */
static dmsg *
self_named(dump_msgs *m, uint32_t acker, uint32_t msid)
{
    size_t i, k;

    for (i = 0; i < m->cnt; i++) {
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
        return 0;
    }
    /* Group management PDUs name a message that uses the group but carry
     * none of its content: they are not accounted to it. */
    if (p->type == PMUL_PDU_REQUEST || p->type == PMUL_PDU_REJECT ||
        p->type == PMUL_PDU_RELEASE || p->type == PMUL_PDU_ANNOUNCE)
        return 0;

    d = get(m, p->source_id, p->msid, ts_us);
    if (d == NULL)
        return m->cnt >= m->max ? 0 : -1;
    touch(d, ts_us, pdu_len, air_len);
    d->prio = p->priority;

    switch (p->type) {
    case PMUL_PDU_DATA:
        d->data_pdus++;
        r = mark_seen(d, p->u.data.seq);
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
        for (i = 0; i < p->u.address.dest_cnt; i++) {
            ds = get_dest(m, d, p->u.address.dests[i].dest_id);
            if (ds == NULL)
                continue;
            ds->listed = true;
            ds->msg_seq_no = p->u.address.dests[i].msg_seq_no;
        }
        break;
    }
    check_complete(d, ts_us);
    return 0;
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
    mem_free(NULL, d->files);
    d->files = NULL;
    if (files != NULL) {
        n = strlen(files);
        d->files = mem_alloc(NULL, n + 1);
        if (d->files != NULL)
            memcpy(d->files, files, n + 1);
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

        if (miss && lo == 0)
            lo = s;
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
report_json(buf *b, const dmsg *d)
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
report_text(buf *b, const dmsg *d)
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

size_t
dump_msgs_count(const dump_msgs *m)
{
    return m->cnt;
}

int
dump_msgs_report_one(const dump_msgs *m, size_t idx, buf *out, bool json)
{
    if (idx >= m->cnt)
        return 0;
    return json ? report_json(out, &m->msgs[idx]) : report_text(out, &m->msgs[idx]);
}

void
dump_msgs_totals_get(const dump_msgs *m, dump_msgs_totals *t)
{
    size_t i;

    memset(t, 0, sizeof(*t));
    t->msgs = m->cnt;
    t->overflow = m->overflow;
    for (i = 0; i < m->cnt; i++) {
        if (m->msgs[i].complete_us != 0)
            t->complete++;
        if (m->msgs[i].delivered)
            t->delivered++;
    }
}
