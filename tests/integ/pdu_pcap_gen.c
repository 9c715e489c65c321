/*
 * NAME
 *	pdu_pcap_gen - write every P_MUL PDU type and one exchange to a pcap
 * SYNOPSIS
 *	pdu_pcap_gen [--auth] out.pcap out.json
 * DESCRIPTION
 *	Builds P_MUL PDUs with the codec's encoder only (pmul_pdu_encode())
 *	and writes each as one UDP datagram with pmul_pcap, 100 ms apart, so
 *	tshark's p_mul dissector can judge our encoder
 *	(tests/integ/check_tshark.py, docs/wire.md section 8).
 *
 *	Frames 1-13 are one full exchange (docs/wire.md 7.2): an Address_PDU
 *	to two receivers, Data_PDUs 1..3 carrying text, an Ack_PDU missing
 *	number 2 from one receiver and a complete one from the other, the
 *	retransmitted Address_PDU listing only the incomplete receiver, Data 2
 *	again, its complete Ack_PDU and the Ack-Ack; then a second message
 *	that is abandoned with a Discard_Message_PDU.  Frames 14-27 are one
 *	PDU of each of the eleven types with non-trivial fields: group
 *	management (Request, Reject, Release, Announce), an Address_PDU split
 *	in three with MAP and reserved fields, FEC and Extra variants, an
 *	Ack_PDU with three entries, a range and the timestamp option, a
 *	Discard and an Ack-Ack.
 *
 *	Ports follow docs/wire.md section 1: DPORT 2753 to group 239.0.0.1
 *	for Address, Data and Discard; APORT 2754 unicast to the transmitter
 *	for Acks; TPORT 2751 for Request, Reject and Release; RPORT 2752 for
 *	Announce.  Node IDs (and IPs) are in 198.18.0.0/15 (RFC 2544).  The
 *	output is deterministic: no clock, no randomness.
 *
 *	With --auth every datagram is sealed for the authenticated mode
 *	(pmul_auth.h) with a fixed test key, key ID 1, the frame's time as
 *	the wall clock and its IP source: the same PDUs, each followed by
 *	the 30-octet trailer, to show what Wireshark makes of sealed
 *	traffic (check_tshark_auth.py).  The JSON is unchanged.
 *
 *	The JSON file lists, per frame, the network fields and every P_MUL
 *	field as handed to the encoder (plus the length and checksum the
 *	encoder produced), and the complete text of each message whose
 *	Data_PDUs are all in the capture.
 * SECURITY
 *	A test program: reads no input, trusts its arguments.
 * DIAGNOSTICS
 *	Exit 0 when both files are complete; 1 with a message on stderr when
 *	encoding, writing or closing fails; 2 on bad usage.
 * SEE ALSO
 *	check_tshark.py, pmul_pdu.h, pmul_pcap.h.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmul/pmul_auth.h"
#include "pmul/pmul_pcap.h"
#include "pmul/pmul_pdu.h"

#define IP4(a, b, c, d) \
    ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

/* Nodes: one transmitter, three receivers, a second transmitter. */
#define NODE_T   IP4(198, 18, 0, 1)
#define NODE_R1  IP4(198, 18, 0, 2)
#define NODE_R2  IP4(198, 18, 0, 3)
#define NODE_R3  IP4(198, 19, 0, 4)
#define NODE_T2  IP4(198, 18, 0, 5)

/* Groups: data group and the global group GG for group management. */
#define GROUP_DATA   IP4(239, 0, 0, 1)
#define GROUP_GG     IP4(239, 0, 0, 2)
#define GROUP_TAKEN  IP4(239, 0, 0, 9)

#define TPORT 2751
#define RPORT 2752
#define DPORT 2753
#define APORT 2754

#define TS_START_US   UINT64_C(1700000000000000)
#define TS_STEP_US    UINT64_C(100000)
#define EXPIRY_S      UINT32_C(1700086400)   /* TS_START + 24 h */

#define JS_DEPTH_MAX  8

/* A minimal JSON emitter: keys are literals, strings are escaped. */
typedef struct js {
    FILE *f;
    int depth;
    bool first[JS_DEPTH_MAX];
} js;

typedef struct gen {
    pmul_pcap_writer *pw;
    js j;
    uint64_t ts_us;
    unsigned frame;
    pmul_auth *auth;                    /* --auth: seal every datagram */
    uint8_t pdu[PMUL_PDU_MAX_LEN + PMUL_AUTH_TRAILER_LEN];
} gen;

static void __attribute__((noreturn, format(printf, 1, 2)))
fatal(const char *fmt, ...)
{
    va_list ap;

    fputs("pdu_pcap_gen: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/* ---- JSON -------------------------------------------------------------- */

static void
js_key(js *j, const char *key)
{
    if (!j->first[j->depth])
        fputc(',', j->f);
    j->first[j->depth] = false;
    if (key != NULL)
        fprintf(j->f, "\"%s\":", key);
}

static void
js_open(js *j, const char *key, char bracket)
{
    js_key(j, key);
    fputc(bracket, j->f);
    if (j->depth + 1 >= JS_DEPTH_MAX)
        fatal("JSON nesting too deep");
    j->first[++j->depth] = true;
}

static void
js_close(js *j, char bracket)
{
    j->depth--;
    fputc(bracket, j->f);
}

static void
js_uint(js *j, const char *key, uint64_t v)
{
    js_key(j, key);
    fprintf(j->f, "%" PRIu64, v);
}

static void
js_bool(js *j, const char *key, bool v)
{
    js_key(j, key);
    fputs(v ? "true" : "false", j->f);
}

static void
js_str(js *j, const char *key, const char *s)
{
    js_key(j, key);
    fputc('"', j->f);
    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;

        if (ch == '"' || ch == '\\')
            fprintf(j->f, "\\%c", ch);
        else if (ch < 0x20 || ch >= 0x7f)
            fprintf(j->f, "\\u%04x", ch);
        else
            fputc(ch, j->f);
    }
    fputc('"', j->f);
}

static void
js_hex(js *j, const char *key, const uint8_t *p, size_t n)
{
    size_t i;

    js_key(j, key);
    fputc('"', j->f);
    for (i = 0; i < n; i++)
        fprintf(j->f, "%02x", p[i]);
    fputc('"', j->f);
}

static void
js_ip(js *j, const char *key, uint32_t ip)
{
    char s[16];
    int n;

    n = snprintf(s, sizeof(s), "%u.%u.%u.%u", ip >> 24, ip >> 16 & 0xFFu,
                 ip >> 8 & 0xFFu, ip & 0xFFu);
    if (n < 0 || (size_t)n >= sizeof(s))
        fatal("snprintf of an IPv4 address failed");
    js_str(j, key, s);
}

/* ---- describing what was encoded ------------------------------------- */

static bool
uses_map(unsigned type)
{
    return pmul_pdu_is_address(type) || type == PMUL_PDU_ANNOUNCE;
}

static bool
is_fec(unsigned type)
{
    return type == PMUL_PDU_FEC_ADDRESS || type == PMUL_PDU_EXTRA_FEC_ADDRESS;
}

/* The type's fields as given to the encoder: only those on the wire. */
static void
js_pdu_fields(js *j, const pmul_pdu *p)
{
    size_t i, k;

    js_str(j, "type", pmul_pdu_type_name(p->type));
    js_uint(j, "type_value", p->type);
    if (uses_map(p->type)) {
        js_bool(j, "map_not_first", (p->map & PMUL_MAP_NOT_FIRST) != 0);
        js_bool(j, "map_not_last", (p->map & PMUL_MAP_NOT_LAST) != 0);
    }
    if (p->type == PMUL_PDU_ACK) {
        /* Priority and Source_ID_of_ACK_Sender; no MSID of its own. */
        js_uint(j, "priority", p->priority);
        js_ip(j, "source_id", p->source_id);
        js_uint(j, "ack_count", p->u.ack.entry_cnt);
        js_open(j, "entries", '[');
        for (i = 0; i < p->u.ack.entry_cnt; i++) {
            const pmul_ack_entry *e = &p->u.ack.entries[i];

            js_open(j, NULL, '{');
            js_uint(j, "length", PMUL_ACK_ENTRY_HDR_LEN + 2u * e->missing_cnt);
            js_ip(j, "source_id", e->source_id);
            js_uint(j, "msid", e->msid);
            js_open(j, "missing", '[');
            for (k = 0; k < e->missing_cnt; k++)
                js_uint(j, NULL, e->missing[k]);
            js_close(j, ']');
            js_uint(j, "missing_count", pmul_missing_count(e->missing, e->missing_cnt));
            js_close(j, '}');
        }
        js_close(j, ']');
        if (p->u.ack.has_timestamp)
            js_uint(j, "timestamp", p->u.ack.timestamp);
        return;
    }

    js_ip(j, "source_id", p->source_id);
    js_uint(j, "msid", p->msid);
    switch (p->type) {
    case PMUL_PDU_DATA:
        js_uint(j, "priority", p->priority);
        js_uint(j, "seq", p->u.data.seq);
        js_uint(j, "frag_len", p->u.data.frag_len);
        break;
    case PMUL_PDU_DISCARD:
        js_uint(j, "priority", p->priority);
        break;
    case PMUL_PDU_ANNOUNCE:
        js_uint(j, "expiry_time", p->u.announce.expiry_time);
        js_uint(j, "mcast_group", p->u.announce.mcast_group);
        js_uint(j, "dest_count", p->u.announce.dest_cnt);
        js_open(j, "dest_ids", '[');
        for (i = 0; i < p->u.announce.dest_cnt; i++)
            js_ip(j, NULL, p->u.announce.dest_ids[i]);
        js_close(j, ']');
        break;
    case PMUL_PDU_REQUEST:
    case PMUL_PDU_REJECT:
    case PMUL_PDU_RELEASE:
        js_uint(j, "mcast_group", p->u.group.mcast_group);
        break;
    default:                            /* the four Address types */
        js_uint(j, "priority", p->priority);
        js_uint(j, "total", p->u.address.total_pdus);
        js_uint(j, "expiry_time", p->u.address.expiry_time);
        if (is_fec(p->type)) {
            js_uint(j, "fec_param_len", p->u.address.fec_param_len);
            js_uint(j, "fec_id", p->u.address.fec_id);
            js_hex(j, "fec_params", p->u.address.fec_params,
                   p->u.address.fec_param_len);
        }
        js_uint(j, "dest_count", p->u.address.dest_cnt);
        js_uint(j, "reserved_len", p->u.address.reserved_len);
        js_open(j, "dests", '[');
        for (i = 0; i < p->u.address.dest_cnt; i++) {
            const pmul_dest_entry *d = &p->u.address.dests[i];

            js_open(j, NULL, '{');
            js_ip(j, "id", d->dest_id);
            js_uint(j, "msg_seq_no", d->msg_seq_no);
            if (p->u.address.reserved_len > 0)
                js_hex(j, "reserved", d->reserved, p->u.address.reserved_len);
            js_close(j, '}');
        }
        js_close(j, ']');
        break;
    }
}

/*
 * Encode *p, write it from src to dst:port at the current time, describe
 * it in the JSON, and advance the clock by 100 ms.
 */
static void
emit(gen *g, const char *name, const pmul_pdu *p, uint32_t src, uint32_t dst,
     uint16_t port)
{
    ssize_t n;
    int rc;

    ssize_t wire;

    n = pmul_pdu_encode(p, g->pdu, PMUL_PDU_MAX_LEN);
    if (n < 0)
        fatal("encoding %s: %s", name, pmul_strerror((int)n));
    wire = n;
    if (g->auth != NULL &&
        (wire = pmul_auth_seal(g->auth, g->ts_us / 1000, src, g->pdu, (size_t)n,
                               sizeof(g->pdu))) < 0)
        fatal("sealing %s: %s", name, pmul_strerror((int)wire));
    rc = pmul_pcap_write_udp4(g->pw, g->ts_us, src, port, dst, port, g->pdu, (size_t)wire);
    if (rc != 0)
        fatal("writing %s: %s", name, pmul_pcap_strerror(rc));
    g->frame++;

    js_open(&g->j, NULL, '{');
    js_uint(&g->j, "frame", g->frame);
    js_str(&g->j, "name", name);
    js_uint(&g->j, "time_us", g->ts_us);
    js_ip(&g->j, "ip_src", src);
    js_ip(&g->j, "ip_dst", dst);
    js_uint(&g->j, "sport", port);
    js_uint(&g->j, "dport", port);
    js_uint(&g->j, "length", (uint64_t)n);
    /* The checksum the encoder computed, read back from its output. */
    js_uint(&g->j, "checksum", (uint64_t)g->pdu[6] << 8 | g->pdu[7]);
    js_pdu_fields(&g->j, p);
    js_hex(&g->j, "hex", g->pdu, (size_t)n);
    js_close(&g->j, '}');
    fputc('\n', g->j.f);

    g->ts_us += TS_STEP_US;
}

/* ---- PDU builders ------------------------------------------------------ */

static pmul_pdu
mk_address(uint8_t type, uint8_t prio, uint8_t map, uint32_t msid, uint16_t total,
           const pmul_dest_entry *dests, uint16_t dest_cnt, uint16_t reserved_len)
{
    pmul_pdu p;

    memset(&p, 0, sizeof(p));
    p.type = type;
    p.priority = prio;
    p.map = map;
    p.source_id = NODE_T;
    p.msid = msid;
    p.u.address.total_pdus = total;
    p.u.address.expiry_time = EXPIRY_S;
    p.u.address.dests = dest_cnt > 0 ? dests : NULL;
    p.u.address.dest_cnt = dest_cnt;
    p.u.address.reserved_len = reserved_len;
    return p;
}

static pmul_pdu
mk_data(uint8_t prio, uint32_t msid, uint16_t seq, const char *text)
{
    pmul_pdu p;

    memset(&p, 0, sizeof(p));
    p.type = PMUL_PDU_DATA;
    p.priority = prio;
    p.source_id = NODE_T;
    p.msid = msid;
    p.u.data.seq = seq;
    p.u.data.frag = (const uint8_t *)text;
    p.u.data.frag_len = strlen(text);
    return p;
}

static pmul_pdu
mk_ack(uint8_t prio, uint32_t sender, const pmul_ack_entry *e, uint16_t cnt)
{
    pmul_pdu p;

    memset(&p, 0, sizeof(p));
    p.type = PMUL_PDU_ACK;
    p.priority = prio;
    p.source_id = sender;
    p.u.ack.entries = e;
    p.u.ack.entry_cnt = cnt;
    return p;
}

static pmul_pdu
mk_simple(uint8_t type, uint8_t prio, uint32_t source, uint32_t msid, uint32_t group)
{
    pmul_pdu p;

    memset(&p, 0, sizeof(p));
    p.type = type;
    p.priority = prio;
    p.source_id = source;
    p.msid = msid;
    p.u.group.mcast_group = group;
    return p;
}

/* The message texts, kept so the JSON can name what tshark reassembles. */
static const char *const msg1_frags[] = {
    "From: <alice@mule.example>\r\nTo: <bob@mule.example>\r\n",
    "Subject: P_MUL conformance\r\n\r\nThis message travels in three ",
    "Data_PDUs, and the second one is lost once.\r\n",
};
static const char msg_map_text[] = "Short message announced in three Address_PDUs.\r\n";

static void
js_message(js *j, uint32_t msid, const char *const *frags, size_t cnt)
{
    size_t i;

    js_open(j, NULL, '{');
    js_ip(j, "source_id", NODE_T);
    js_uint(j, "msid", msid);
    js_key(j, "text_hex");
    fputc('"', j->f);
    for (i = 0; i < cnt; i++) {
        const char *s;

        for (s = frags[i]; *s != '\0'; s++)
            fprintf(j->f, "%02x", (unsigned char)*s);
    }
    fputc('"', j->f);
    js_close(j, '}');
    fputc('\n', j->f);
}

/* Frames 1-13: a 3-Data_PDU message to two receivers, then a discard. */
static void
gen_exchange(gen *g)
{
    const uint32_t msid = UINT32_C(0x0A000001), msid2 = UINT32_C(0x0A000002);
    const uint8_t prio = 2;
    const pmul_dest_entry both[] = {
        { NODE_R1, 7, NULL }, { NODE_R2, 12, NULL },
    };
    const pmul_dest_entry only_r2[] = { { NODE_R2, 12, NULL } };
    const pmul_dest_entry both2[] = {
        { NODE_R1, 8, NULL }, { NODE_R2, 13, NULL },
    };
    const uint16_t miss2[] = { 2 };
    pmul_ack_entry e;
    pmul_pdu p;
    uint16_t i;

    p = mk_address(PMUL_PDU_ADDRESS, prio, 0, msid, 3, both, 2, 0);
    emit(g, "xchg_address", &p, NODE_T, GROUP_DATA, DPORT);
    for (i = 1; i <= 3; i++) {
        static const char *const names[] = { "xchg_data1", "xchg_data2", "xchg_data3" };

        p = mk_data(prio, msid, i, msg1_frags[i - 1]);
        emit(g, names[i - 1], &p, NODE_T, GROUP_DATA, DPORT);
    }

    e = (pmul_ack_entry){ NODE_T, msid, miss2, 1 };
    p = mk_ack(prio, NODE_R2, &e, 1);
    emit(g, "xchg_ack_r2_missing2", &p, NODE_R2, NODE_T, APORT);

    {
        /* Issue 13 item 8: the compatibility mode's Ack, a conformant
         * entry plus one naming the acker itself (quirk D1). */
        pmul_ack_entry two[2] = {
            { NODE_T, msid, NULL, 0 }, { NODE_R1, msid, NULL, 0 },
        };

        p = mk_ack(prio, NODE_R1, two, 2);
        emit(g, "xchg_ack_r1_complete_self_naming", &p, NODE_R1, NODE_T, APORT);
    }

    /* Retransmission round: only the incomplete destination is listed. */
    p = mk_address(PMUL_PDU_ADDRESS, prio, 0, msid, 3, only_r2, 1, 0);
    emit(g, "xchg_address_retx_r2", &p, NODE_T, GROUP_DATA, DPORT);
    p = mk_data(prio, msid, 2, msg1_frags[1]);
    emit(g, "xchg_data2_retx", &p, NODE_T, GROUP_DATA, DPORT);

    e = (pmul_ack_entry){ NODE_T, msid, NULL, 0 };
    p = mk_ack(prio, NODE_R2, &e, 1);
    emit(g, "xchg_ack_r2_complete", &p, NODE_R2, NODE_T, APORT);

    p = mk_address(PMUL_PDU_ADDRESS, prio, 0, msid, 3, NULL, 0, 0);
    emit(g, "xchg_ackack", &p, NODE_T, GROUP_DATA, DPORT);

    /* A second message, abandoned after its first Data_PDU. */
    p = mk_address(PMUL_PDU_ADDRESS, 4, 0, msid2, 2, both2, 2, 0);
    emit(g, "msg2_address", &p, NODE_T, GROUP_DATA, DPORT);
    p = mk_data(4, msid2, 1, "Never finished: ");
    emit(g, "msg2_data1", &p, NODE_T, GROUP_DATA, DPORT);
    p = mk_simple(PMUL_PDU_DISCARD, 4, NODE_T, msid2, 0);
    emit(g, "msg2_discard", &p, NODE_T, GROUP_DATA, DPORT);
}

/* Frames 14-27: every PDU type with non-trivial field values. */
static void
gen_types(gen *g)
{
    const uint32_t msid_dyn = UINT32_C(0x0B000001);
    const uint32_t msid_map = UINT32_C(0x0B000002);
    const uint32_t msid_fec = UINT32_C(0x0B000003);
    const uint32_t msid_other = UINT32_C(0x0B000004);
    static const uint8_t key1[4] = { 0xde, 0xad, 0xbe, 0xef };
    static const uint8_t key2[4] = { 0x01, 0x23, 0x45, 0x67 };
    static const uint8_t key3[4] = { 0x89, 0xab, 0xcd, 0xef };
    static const uint8_t key4[4] = { 0x00, 0xff, 0x00, 0xff };
    const pmul_dest_entry map_first[] = {
        { NODE_R1, 21, key1 }, { NODE_R2, 22, key2 },
    };
    const pmul_dest_entry map_mid[] = { { NODE_R3, 23, key3 } };
    const pmul_dest_entry map_last[] = { { IP4(198, 19, 255, 254), 65537, key4 } };
    const pmul_dest_entry fec_dests[] = { { NODE_R1, 30, NULL }, { NODE_R2, 31, NULL } };
    const pmul_dest_entry extra_dest[] = { { NODE_R2, 31, NULL } };
    const pmul_dest_entry extra_fec_dest[] = { { NODE_R1, 30, NULL } };
    static const uint8_t fec_params[6] = { 0x00, 0x08, 0x00, 0x02, 0x10, 0x20 };
    const uint32_t ann_ids[] = { NODE_R1, NODE_R2, NODE_R3 };
    static const uint16_t miss_range[] = { 2, 5, 7, 0, 9 };
    static const uint16_t miss_singles[] = { 3, 6 };
    const pmul_ack_entry ack_entries[] = {
        { NODE_T, msid_fec, miss_range, 5 },
        { NODE_T, msid_map, NULL, 0 },
        { NODE_T, msid_other, miss_singles, 2 },
    };
    pmul_pdu p;

    /* Dynamic group: 239.0.0.9 is taken (Reject), so it is released and
     * the data group is announced instead. */
    p = mk_simple(PMUL_PDU_REQUEST, 0, NODE_T, msid_dyn, GROUP_TAKEN);
    emit(g, "request", &p, NODE_T, GROUP_GG, TPORT);
    /* The rejecting node echoes the requester's Source_ID and MSID. */
    p = mk_simple(PMUL_PDU_REJECT, 0, NODE_T, msid_dyn, GROUP_TAKEN);
    emit(g, "reject", &p, NODE_T2, NODE_T, TPORT);
    p = mk_simple(PMUL_PDU_RELEASE, 0, NODE_T, msid_dyn, GROUP_TAKEN);
    emit(g, "release", &p, NODE_T, GROUP_GG, TPORT);

    memset(&p, 0, sizeof(p));
    p.type = PMUL_PDU_ANNOUNCE;
    p.source_id = NODE_T;
    p.msid = msid_map;
    p.u.announce.expiry_time = EXPIRY_S;
    p.u.announce.mcast_group = GROUP_DATA;
    p.u.announce.dest_ids = ann_ids;
    p.u.announce.dest_cnt = 3;
    emit(g, "announce", &p, NODE_T, GROUP_GG, RPORT);

    /* One destination list split over three Address_PDUs (MAP), each
     * entry with a 4-octet reserved field. */
    p = mk_address(PMUL_PDU_ADDRESS, 5, PMUL_MAP_NOT_LAST, msid_map, 1, map_first, 2, 4);
    emit(g, "address_map_first", &p, NODE_T, GROUP_DATA, DPORT);
    p = mk_address(PMUL_PDU_ADDRESS, 5, PMUL_MAP_NOT_FIRST | PMUL_MAP_NOT_LAST, msid_map, 1,
                   map_mid, 1, 4);
    emit(g, "address_map_middle", &p, NODE_T, GROUP_DATA, DPORT);
    p = mk_address(PMUL_PDU_ADDRESS, 5, PMUL_MAP_NOT_FIRST, msid_map, 1, map_last, 1, 4);
    emit(g, "address_map_last", &p, NODE_T, GROUP_DATA, DPORT);
    p = mk_data(5, msid_map, 1, msg_map_text);
    emit(g, "data_map_msg", &p, NODE_T, GROUP_DATA, DPORT);

    p = mk_address(PMUL_PDU_FEC_ADDRESS, 1, 0, msid_fec, 10, fec_dests, 2, 0);
    p.u.address.fec_id = 5;
    p.u.address.fec_param_len = sizeof(fec_params);
    p.u.address.fec_params = fec_params;
    emit(g, "fec_address", &p, NODE_T, GROUP_DATA, DPORT);
    p = mk_address(PMUL_PDU_EXTRA_ADDRESS, 1, 0, msid_fec, 10, extra_dest, 1, 0);
    emit(g, "extra_address", &p, NODE_T, GROUP_DATA, DPORT);
    p = mk_address(PMUL_PDU_EXTRA_FEC_ADDRESS, 1, 0, msid_fec, 10, extra_fec_dest, 1, 0);
    p.u.address.fec_id = 7;
    p.u.address.fec_param_len = 2;
    p.u.address.fec_params = fec_params;
    emit(g, "extra_fec_address", &p, NODE_T, GROUP_DATA, DPORT);

    /* Three entries: singles with a range (2, 5, 7-9), complete, and
     * singles only; timestamp 5.7 s. */
    p = mk_ack(1, NODE_R1, ack_entries, 3);
    p.u.ack.has_timestamp = true;
    p.u.ack.timestamp = 57;
    emit(g, "ack_3_entries_range_ts", &p, NODE_R1, NODE_T, APORT);

    p = mk_simple(PMUL_PDU_DISCARD, 1, NODE_T, msid_fec, 0);
    emit(g, "discard_fec_msg", &p, NODE_T, GROUP_DATA, DPORT);

    p = mk_address(PMUL_PDU_ADDRESS, 5, 0, msid_map, 1, NULL, 0, 0);
    emit(g, "ackack_map_msg", &p, NODE_T, GROUP_DATA, DPORT);
}

int
main(int argc, char **argv)
{
    static gen g;                       /* main owns the program's context */
    const char *const map_frags[] = { msg_map_text };
    FILE *f;
    int rc;

    if (argc == 4 && strcmp(argv[1], "--auth") == 0) {
        static const char key[] = "pdu_pcap_gen test key, not secret";
        pmul_auth_config ac = {(const uint8_t *)key, sizeof key - 1, 1, 0, 0};

        if ((rc = pmul_auth_new(&g.auth, &ac, NULL)) != 0)
            fatal("pmul_auth_new: %s", pmul_strerror(rc));
        argc--;
        argv++;
    }
    if (argc != 3) {
        fprintf(stderr, "usage: pdu_pcap_gen [--auth] out.pcap out.json\n");
        return 2;
    }
    rc = pmul_pcap_writer_open(&g.pw, argv[1]);
    if (rc != 0)
        fatal("%s: %s", argv[1], pmul_pcap_strerror(rc));
    f = fopen(argv[2], "w");
    if (f == NULL)
        fatal("%s: cannot create", argv[2]);
    g.j.f = f;
    g.j.first[0] = true;
    g.ts_us = TS_START_US;

    js_open(&g.j, NULL, '{');
    js_str(&g.j, "generator", "pdu_pcap_gen");
    js_open(&g.j, "frames", '[');
    fputc('\n', f);
    gen_exchange(&g);
    gen_types(&g);
    js_close(&g.j, ']');
    js_open(&g.j, "messages", '[');
    fputc('\n', f);
    js_message(&g.j, UINT32_C(0x0A000001), msg1_frags, 3);
    js_message(&g.j, UINT32_C(0x0B000002), map_frags, 1);
    js_close(&g.j, ']');
    js_close(&g.j, '}');
    fputc('\n', f);

    rc = pmul_pcap_writer_close(g.pw);
    if (rc != 0)
        fatal("%s: %s", argv[1], pmul_pcap_strerror(rc));
    if (fflush(f) != 0 || ferror(f) != 0) {
        (void)fclose(f);
        fatal("%s: write failed", argv[2]);
    }
    if (fclose(f) != 0)
        fatal("%s: close failed", argv[2]);
    printf("pdu_pcap_gen: %u frames -> %s, %s\n", g.frame, argv[1], argv[2]);
    pmul_auth_free(g.auth);
    return 0;
}
