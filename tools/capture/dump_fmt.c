/*
 * NAME
 *	dump_fmt - decode and print P_MUL PDUs for the capture tools
 * SYNOPSIS
 *	#include "tools/capture/dump_fmt.h"
 * DESCRIPTION
 *	Shared by pmul-dump (one line per captured PDU) and pmul-replay (the
 *	Acks a replayed node would send).  Decoding is the codec's alone:
 *	pmul_pdu_decode_ex() with the length and checksum checks relaxed.
 *
 *	A field capture is where malformed PDUs matter most, so a rejected
 *	datagram is never just "bad": the verdict (pmul_errname, the code the
 *	strict decoder returns) is printed, and where only the length or
 *	checksum checks failed, the fields the codec still read are printed
 *	too, marked "salvaged":
 *
 *	  - a wrong checksum: the fields as they stand;
 *	  - Length_of_PDU below the datagram size (trailing octets): the
 *	    PDU as its header states it, the trailing octets ignored;
 *	  - Length_of_PDU above the datagram size: the PDU read over the
 *	    datagram (len= shows the field as received).
 *
 *	A structural error (unknown type, truncated entry, bad count ...) is
 *	shown with its verdict only.  The checksum verdict of the datagram as
 *	received is found without reading the field: a copy is given the
 *	Fletcher (then the RFC 1071) checksum and compared with the original.
 *	This mirrors Wireshark, which shows a verdict even for PDUs it flags
 *	as malformed, and keeps the P_MUL header parser in pmul_pdu.c alone.
 * SECURITY
 *	Sees untrusted datagrams, only through the codec.  Scratch arrays are
 *	sized for the largest PDU the 16-bit length allows, never by a count
 *	in the datagram.  Strings printed are our own (names, numbers,
 *	addresses), so JSON needs no escaping.
 * DIAGNOSTICS
 *	Formatting functions return 0 or a BUF_ERR_* code; nothing is logged.
 * SEE ALSO
 *	pmul_pdu(3), pmul-dump(1), pmul-replay(1), docs/tools.md.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "tools/capture/dump_fmt.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <string.h>

#include "pmul/util/cur.h"
#include "pmul/util/mem.h"

/* Largest counts a 65535-octet PDU can hold (docs/wire.md 4). */
#define MAX_DESTS       ((PMUL_PDU_MAX_LEN - PMUL_ADDRESS_HDR_LEN) / PMUL_DEST_ENTRY_LEN)
#define MAX_ACKS        ((PMUL_PDU_MAX_LEN - PMUL_ACK_HDR_LEN) / PMUL_ACK_ENTRY_HDR_LEN)
#define MAX_MISSING     ((PMUL_PDU_MAX_LEN - PMUL_ACK_HDR_LEN - PMUL_ACK_ENTRY_HDR_LEN) / 2u)
#define MAX_DEST_IDS    ((PMUL_PDU_MAX_LEN - PMUL_ANNOUNCE_HDR_LEN) / 4u)

#define CKSUM_OFF       6u      /* docs/wire.md 2: octets 6 and 7 */

int
dump_decoder_init(dump_decoder *d)
{
    memset(d, 0, sizeof(*d));
    d->s.dests = mem_calloc(NULL, MAX_DESTS, sizeof(*d->s.dests));
    d->s.acks = mem_calloc(NULL, MAX_ACKS, sizeof(*d->s.acks));
    d->s.missing = mem_calloc(NULL, MAX_MISSING, sizeof(*d->s.missing));
    d->s.dest_ids = mem_calloc(NULL, MAX_DEST_IDS, sizeof(*d->s.dest_ids));
    d->copy = mem_alloc(NULL, PMUL_PDU_MAX_LEN);
    if (d->s.dests == NULL || d->s.acks == NULL || d->s.missing == NULL ||
        d->s.dest_ids == NULL || d->copy == NULL) {
        dump_decoder_fini(d);
        return -1;
    }
    d->s.dests_cap = MAX_DESTS;
    d->s.acks_cap = MAX_ACKS;
    d->s.missing_cap = MAX_MISSING;
    d->s.dest_ids_cap = MAX_DEST_IDS;
    d->s.max_pdu_len = PMUL_PDU_MAX_LEN;
    d->s.max_reserved_len = UINT16_MAX;
    return 0;
}

void
dump_decoder_fini(dump_decoder *d)
{
    mem_free(NULL, d->s.dests);
    mem_free(NULL, d->s.acks);
    mem_free(NULL, d->s.missing);
    mem_free(NULL, d->s.dest_ids);
    mem_free(NULL, d->copy);
    memset(d, 0, sizeof(*d));
}

/* Overwrite the 16-bit field at off of the copy of pkt[0..len);
 * len <= PMUL_PDU_MAX_LEN and off + 2 <= len. */
static void
copy_patched(dump_decoder *d, const uint8_t *pkt, size_t len, size_t off, uint16_t v)
{
    wcur w;

    wcur_init(&w, d->copy, PMUL_PDU_MAX_LEN);
    wcur_bytes(&w, pkt, len);
    wcur_patch_u16be(&w, off, v);
}

/* The checksum verdict of the whole datagram as received (also for PDUs
 * the codec cannot decode at all): a copy is given the Fletcher, then
 * the RFC 1071 checksum and compared with the original, so the field is
 * never read here. */
static int
cksum_verdict(dump_decoder *d, const uint8_t *pkt, size_t len, uint16_t *fletcher)
{
    if (len < PMUL_HDR_LEN || len > PMUL_PDU_MAX_LEN)
        return DUMP_CKSUM_UNKNOWN;
    *fletcher = pmul_cksum_fletcher(pkt, len);
    copy_patched(d, pkt, len, CKSUM_OFF, *fletcher);
    if (memcmp(d->copy, pkt, len) == 0)
        return DUMP_CKSUM_FLETCHER;
    copy_patched(d, pkt, len, CKSUM_OFF, pmul_cksum_inet(pkt, len));
    if (memcmp(d->copy, pkt, len) == 0)
        return DUMP_CKSUM_INET;
    return DUMP_CKSUM_BAD;
}

void
dump_pdu_decode(dump_decoder *d, const uint8_t *pkt, size_t len, dump_pdu *out)
{
    int rc;

    memset(out, 0, sizeof(*out));
    out->len = len;
    /* One decode: the codec reports the strict verdict in out->err and,
     * when only the length or checksum checks failed, the fields. */
    rc = pmul_pdu_decode_ex(&out->pdu, &d->s, pkt, len,
                            PMUL_DECODE_ANY_LENGTH | PMUL_DECODE_ANY_CKSUM, &out->err);
    if (out->err == 0) {
        out->have_fields = true;
        out->cksum = out->pdu.cksum_kind == PMUL_CKSUM_INET ? DUMP_CKSUM_INET
                                                            : DUMP_CKSUM_FLETCHER;
        /* The codec has just compared the field with the Fletcher sum:
         * equal, it is that sum (no second pass over every datagram). */
        out->cksum_fletcher = out->cksum == DUMP_CKSUM_FLETCHER
                            ? out->pdu.checksum : pmul_cksum_fletcher(pkt, len);
        return;
    }
    out->cksum = cksum_verdict(d, pkt, len, &out->cksum_fletcher);
    if (rc == 0) {
        out->have_fields = true;
        out->salvaged = true;
    } else {
        memset(&out->pdu, 0, sizeof(out->pdu));
    }
}

const char *
dump_ip4(uint32_t ip, char *out, size_t outlen)
{
    struct in_addr a;

    a.s_addr = htonl(ip);
    if (inet_ntop(AF_INET, &a, out, (socklen_t)outlen) == NULL && outlen > 0)
        out[0] = '\0';
    return out;
}

const char *
dump_frame_addr(const pmul_pcap_frame *f, bool dst, char *out, size_t outlen)
{
    if (f->ip_version == 4)
        return dump_ip4(dst ? f->dst_ip4 : f->src_ip4, out, outlen);
    if (f->ip_version == 6) {
        if (inet_ntop(AF_INET6, dst ? f->dst_ip6 : f->src_ip6, out,
                      (socklen_t)outlen) == NULL && outlen > 0)
            out[0] = '\0';
        return out;
    }
    if (outlen > 1) {
        out[0] = '-';
        out[1] = '\0';
    }
    return out;
}

const char *
dump_cksum_name(int cksum)
{
    switch (cksum) {
    case DUMP_CKSUM_FLETCHER: return "fletcher";
    case DUMP_CKSUM_INET: return "inet";
    case DUMP_CKSUM_BAD: return "bad";
    default: return "unknown";
    }
}

int
dump_put_time(buf *b, uint64_t ts_us)
{
    return buf_printf(b, "%" PRIu64 ".%06" PRIu64, ts_us / 1000000u, ts_us % 1000000u);
}

int
dump_put_missing(buf *b, const uint16_t *words, size_t cnt, bool json)
{
    size_t pos = 0;
    uint16_t lo, hi;
    bool first = true;
    int rc = 0;

    if (json)
        rc = buf_append_str(b, "[");
    while (rc == 0 && pmul_missing_next(words, cnt, &pos, &lo, &hi)) {
        if (!first)
            rc = buf_append_str(b, ",");
        first = false;
        if (rc != 0)
            break;
        if (json)
            rc = buf_printf(b, "[%u,%u]", lo, hi);
        else if (lo == hi)
            rc = buf_printf(b, "%u", lo);
        else
            rc = buf_printf(b, "%u-%u", lo, hi);
    }
    if (rc == 0 && json)
        rc = buf_append_str(b, "]");
    return rc;
}

/* Append ",\"key\":" (JSON) or " key=" (text). */
static int
key(buf *b, const char *k, bool json)
{
    return json ? buf_printf(b, ",\"%s\":", k) : buf_printf(b, " %s=", k);
}

static int
put_u(buf *b, const char *k, uint64_t v, bool json)
{
    int rc = key(b, k, json);

    return rc != 0 ? rc : buf_printf(b, "%" PRIu64, v);
}

/* 16-bit values people compare with tshark: hex in text, a number in
 * JSON. */
static int
put_hex16(buf *b, const char *k, uint16_t v, bool json)
{
    int rc = key(b, k, json);

    if (rc != 0)
        return rc;
    return json ? buf_printf(b, "%u", v) : buf_printf(b, "0x%04x", v);
}

static int
put_ip(buf *b, const char *k, uint32_t ip, bool json)
{
    char t[16];
    int rc = key(b, k, json);

    if (rc != 0)
        return rc;
    return json ? buf_printf(b, "\"%s\"", dump_ip4(ip, t, sizeof(t)))
                : buf_append_str(b, dump_ip4(ip, t, sizeof(t)));
}

static int
put_str(buf *b, const char *k, const char *s, bool json)
{
    int rc = key(b, k, json);

    if (rc != 0)
        return rc;
    return json ? buf_printf(b, "\"%s\"", s) : buf_append_str(b, s);
}

static const char *
map_name(uint8_t map)
{
    switch (map & PMUL_MAP_MASK) {
    case PMUL_MAP_NOT_LAST: return "first";
    case PMUL_MAP_NOT_FIRST | PMUL_MAP_NOT_LAST: return "middle";
    case PMUL_MAP_NOT_FIRST: return "last";
    default: return "only";
    }
}

static int
put_dests(buf *b, const pmul_pdu *p, bool json)
{
    char t[16];
    uint16_t i;
    int rc;

    rc = key(b, "dests", json);
    if (rc == 0 && json)
        rc = buf_append_str(b, "[");
    if (rc == 0 && !json && p->u.address.dest_cnt == 0)
        rc = buf_append_str(b, "none");
    for (i = 0; rc == 0 && i < p->u.address.dest_cnt; i++) {
        const pmul_dest_entry *e = &p->u.address.dests[i];

        if (json)
            rc = buf_printf(b, "%s{\"id\":\"%s\",\"msg_seq_no\":%" PRIu32 "}",
                            i ? "," : "", dump_ip4(e->dest_id, t, sizeof(t)),
                            e->msg_seq_no);
        else
            rc = buf_printf(b, "%s%s#%" PRIu32, i ? "," : "",
                            dump_ip4(e->dest_id, t, sizeof(t)), e->msg_seq_no);
    }
    if (rc == 0 && json)
        rc = buf_append_str(b, "]");
    return rc;
}

static int
put_acks(buf *b, const pmul_pdu *p, bool json)
{
    char t[16];
    uint16_t i, j;
    int rc;

    rc = key(b, "acks", json);
    if (rc == 0 && json)
        rc = buf_append_str(b, "[");
    for (i = 0; rc == 0 && i < p->u.ack.entry_cnt; i++) {
        const pmul_ack_entry *e = &p->u.ack.entries[i];

        dump_ip4(e->source_id, t, sizeof(t));
        if (json) {
            rc = buf_printf(b, "%s{\"source_id\":\"%s\",\"msid\":%" PRIu32
                            ",\"missing_words\":[", i ? "," : "", t, e->msid);
            for (j = 0; rc == 0 && j < e->missing_cnt; j++)
                rc = buf_printf(b, "%s%u", j ? "," : "", e->missing[j]);
            if (rc == 0)
                rc = buf_append_str(b, "],\"missing\":");
            if (rc == 0)
                rc = dump_put_missing(b, e->missing, e->missing_cnt, true);
            if (rc == 0)
                rc = buf_printf(b, ",\"missing_count\":%" PRIu32 "}",
                                pmul_missing_count(e->missing, e->missing_cnt));
        } else {
            rc = buf_printf(b, "%s%s/%" PRIu32 ":", i ? ";" : "", t, e->msid);
            if (rc == 0 && e->missing_cnt == 0)
                rc = buf_append_str(b, "complete");
            else if (rc == 0) {
                rc = buf_append_str(b, "missing=");
                if (rc == 0)
                    rc = dump_put_missing(b, e->missing, e->missing_cnt, false);
            }
        }
    }
    if (rc == 0 && json)
        rc = buf_append_str(b, "]");
    return rc;
}

static int
put_dest_ids(buf *b, const pmul_pdu *p, bool json)
{
    char t[16];
    uint16_t i;
    int rc;

    rc = key(b, "dest_ids", json);
    if (rc == 0 && json)
        rc = buf_append_str(b, "[");
    for (i = 0; rc == 0 && i < p->u.announce.dest_cnt; i++) {
        dump_ip4(p->u.announce.dest_ids[i], t, sizeof(t));
        rc = json ? buf_printf(b, "%s\"%s\"", i ? "," : "", t)
                  : buf_printf(b, "%s%s", i ? "," : "", t);
    }
    if (rc == 0 && json)
        rc = buf_append_str(b, "]");
    return rc;
}

/* The type-specific fields of a decoded (or salvaged) PDU. */
static int
put_fields(buf *b, const pmul_pdu *p, bool json)
{
    int rc = 0;

    if (json)
        rc = put_u(b, "map", p->map, json);
    else if (p->map != 0)
        rc = put_str(b, "map", map_name(p->map), json);
    if (rc == 0 && p->type != PMUL_PDU_ACK)
        rc = put_ip(b, "src", p->source_id, json);
    switch (p->type) {
    case PMUL_PDU_DATA:
        if (rc == 0)
            rc = put_u(b, "msid", p->msid, json);
        if (rc == 0)
            rc = put_u(b, "seq", p->u.data.seq, json);
        if (rc == 0)
            rc = put_u(b, "frag_len", p->u.data.frag_len, json);
        break;
    case PMUL_PDU_ADDRESS:
    case PMUL_PDU_EXTRA_ADDRESS:
    case PMUL_PDU_FEC_ADDRESS:
    case PMUL_PDU_EXTRA_FEC_ADDRESS:
        if (rc == 0)
            rc = put_u(b, "msid", p->msid, json);
        if (rc == 0)
            rc = put_u(b, "total", p->u.address.total_pdus, json);
        if (rc == 0)
            rc = put_u(b, "expiry", p->u.address.expiry_time, json);
        if (rc == 0 && (p->type == PMUL_PDU_FEC_ADDRESS ||
                        p->type == PMUL_PDU_EXTRA_FEC_ADDRESS)) {
            rc = put_u(b, "fec_id", p->u.address.fec_id, json);
            if (rc == 0)
                rc = put_u(b, "fec_len", p->u.address.fec_param_len, json);
        }
        if (rc == 0 && (json || p->u.address.reserved_len != 0))
            rc = put_u(b, "reserved_len", p->u.address.reserved_len, json);
        if (rc == 0 && json)
            rc = put_u(b, "dest_count", p->u.address.dest_cnt, json);
        if (rc == 0)
            rc = put_dests(b, p, json);
        if (rc == 0 && p->u.address.dest_cnt == 0)
            rc = json ? buf_append_str(b, ",\"ackack\":true")
                      : buf_append_str(b, " ackack");
        break;
    case PMUL_PDU_ACK:
        if (rc == 0)
            rc = put_ip(b, "src", p->source_id, json);
        if (rc == 0 && json)
            rc = put_u(b, "ack_count", p->u.ack.entry_cnt, json);
        if (rc == 0)
            rc = put_acks(b, p, json);
        if (rc == 0 && p->u.ack.has_timestamp)
            rc = put_u(b, "timestamp", p->u.ack.timestamp, json);
        break;
    case PMUL_PDU_DISCARD:
        if (rc == 0)
            rc = put_u(b, "msid", p->msid, json);
        break;
    case PMUL_PDU_ANNOUNCE:
        if (rc == 0)
            rc = put_u(b, "msid", p->msid, json);
        if (rc == 0)
            rc = put_u(b, "expiry", p->u.announce.expiry_time, json);
        if (rc == 0)
            rc = put_ip(b, "group", p->u.announce.mcast_group, json);
        if (rc == 0)
            rc = put_dest_ids(b, p, json);
        break;
    default:                            /* Request, Reject, Release */
        if (rc == 0)
            rc = put_u(b, "msid", p->msid, json);
        if (rc == 0)
            rc = put_ip(b, "group", p->u.group.mcast_group, json);
        break;
    }
    return rc;
}

int
dump_put_pdu(buf *b, const dump_pdu *d, bool json)
{
    const pmul_pdu *p = &d->pdu;
    int rc = 0;

    if (d->have_fields) {
        rc = json ? buf_printf(b, "\"type\":%u,\"type_name\":\"%s\"", p->type,
                               pmul_pdu_type_name(p->type))
                  : buf_append_str(b, pmul_pdu_type_name(p->type));
        if (rc == 0)
            rc = put_u(b, "len", p->length, json);
        if (rc == 0)
            rc = put_u(b, "prio", p->priority, json);
        if (rc == 0)
            rc = put_fields(b, p, json);
    } else {
        rc = json ? buf_printf(b, "\"type\":null,\"len\":%zu", d->len)
                  : buf_printf(b, "? len=%zu", d->len);
    }
    if (rc == 0)
        rc = put_str(b, "cksum", dump_cksum_name(d->cksum), json);
    /* The field as received: the codec read it whenever it gave fields. */
    if (rc == 0 && d->have_fields)
        rc = put_hex16(b, "checksum", p->checksum, json);
    if (rc == 0 && d->cksum == DUMP_CKSUM_BAD)
        rc = put_hex16(b, "cksum_want", d->cksum_fletcher, json);
    if (rc == 0)
        rc = put_str(b, "verdict", d->err == 0 ? "OK" : pmul_errname(d->err), json);
    if (rc == 0 && d->err != 0) {
        rc = json ? buf_printf(b, ",\"error\":\"%s\",\"salvaged\":%s",
                               pmul_strerror(d->err), d->salvaged ? "true" : "false")
                  : buf_printf(b, " (%s)%s", pmul_strerror(d->err),
                               d->salvaged ? " salvaged" : "");
    }
    return rc;
}

/* Frame number, time, addresses and ports. */
static int
put_frame_head(buf *b, const pmul_pcap_frame *f, bool json)
{
    char s[46], t[46];
    int rc;

    dump_frame_addr(f, false, s, sizeof(s));
    dump_frame_addr(f, true, t, sizeof(t));
    if (json) {
        rc = buf_printf(b, "{\"kind\":\"pdu\",\"frame\":%" PRIu64 ",\"ts_us\":%" PRIu64
                        ",\"time\":", f->number, f->ts_us);
        if (rc == 0)
            rc = dump_put_time(b, f->ts_us);
        if (rc == 0)
            rc = buf_printf(b, ",\"ip_src\":\"%s\",\"sport\":%u,\"ip_dst\":\"%s\","
                            "\"dport\":%u,", s, f->src_port, t, f->dst_port);
        return rc;
    }
    rc = buf_printf(b, "%" PRIu64 " ", f->number);
    if (rc == 0)
        rc = dump_put_time(b, f->ts_us);
    if (rc == 0)
        rc = buf_printf(b, f->ip_version == 6 ? " [%s]:%u > [%s]:%u " : " %s:%u > %s:%u ",
                        s, f->src_port, t, f->dst_port);
    return rc;
}

int
dump_put_frame_pdu(buf *b, const pmul_pcap_frame *f, const dump_pdu *d, bool json)
{
    int rc = put_frame_head(b, f, json);

    if (rc == 0)
        rc = dump_put_pdu(b, d, json);
    if (rc == 0)
        rc = buf_append_str(b, json ? "}\n" : "\n");
    return rc;
}

int
dump_put_frame_error(buf *b, const pmul_pcap_frame *f, int verdict, bool json)
{
    char s[46], t[46];
    int rc;

    dump_frame_addr(f, false, s, sizeof(s));
    dump_frame_addr(f, true, t, sizeof(t));
    if (json) {
        rc = buf_printf(b, "{\"kind\":\"frame\",\"frame\":%" PRIu64 ",\"ts_us\":%" PRIu64
                        ",\"time\":", f->number, f->ts_us);
        if (rc == 0)
            rc = dump_put_time(b, f->ts_us);
        if (rc == 0)
            rc = buf_printf(b, ",\"caplen\":%" PRIu32 ",\"wirelen\":%" PRIu32
                            ",\"ip_version\":%u,\"ip_src\":\"%s\",\"ip_dst\":\"%s\","
                            "\"verdict\":\"%s\",\"error\":\"%s\"",
                            f->caplen, f->wirelen, f->ip_version, s, t,
                            pmul_pcap_errname(verdict), pmul_pcap_strerror(verdict));
        if (rc == 0 && verdict == PMUL_PCAP_ERR_FRAGMENT)
            rc = buf_printf(b, ",\"ip_id\":%" PRIu32 ",\"frag_offset\":%u,"
                            "\"more_frags\":%s", f->ip_id, f->frag_offset * 8u,
                            f->more_frags ? "true" : "false");
        if (rc == 0)
            rc = buf_append_str(b, "}\n");
        return rc;
    }
    rc = buf_printf(b, "%" PRIu64 " ", f->number);
    if (rc == 0)
        rc = dump_put_time(b, f->ts_us);
    if (rc == 0)
        rc = buf_printf(b, " %s > %s frame caplen=%" PRIu32 " wirelen=%" PRIu32
                        " verdict=%s (%s)", s, t, f->caplen, f->wirelen,
                        pmul_pcap_errname(verdict), pmul_pcap_strerror(verdict));
    if (rc == 0 && verdict == PMUL_PCAP_ERR_FRAGMENT)
        rc = buf_printf(b, " ip_id=%" PRIu32 " offset=%u%s", f->ip_id,
                        f->frag_offset * 8u, f->more_frags ? " more" : "");
    if (rc == 0)
        rc = buf_append_str(b, "\n");
    return rc;
}

