/*
 * NAME
 *	pmul_pcap_read - read captures down to UDP payloads through libpcap
 * SYNOPSIS
 *	#include "pmul/pmul_pcap.h"
#include "pmul/pmul_pcap_frag.h"
 * DESCRIPTION
 *	The reading half of the pmul_pcap adapter, used by pmul-dump and
 *	pmul-replay.  libpcap does everything that concerns the file or the
 *	interface: pcap and pcapng files (pcap_open_offline, which also
 *	converts nanosecond timestamps to microseconds), live capture
 *	(pcap_create and pcap_activate in immediate mode), and BPF filters
 *	(pcap_compile and pcap_setfilter).  This file never interprets the
 *	file format itself.
 *
 *	What libpcap does not do is take a frame apart.  That is
 *	pmul_pcap_parse_frame(), the project's one parser of link-layer, IP
 *	and UDP headers: Ethernet II with 802.1Q/802.1ad tags, Linux cooked
 *	captures v1 and v2, raw IP, BSD loopback (DLT_NULL in either byte
 *	order, DLT_LOOP), then IPv4 with options or IPv6 with extension
 *	headers, then UDP.  Each step reads through a cursor (pmul/util/cur.h)
 *	and stops at the first inconsistency with a verdict for that frame.
 *
 *	Checksums of the IP and UDP headers are not verified: a capture taken
 *	on the sending host shows them unfilled when the NIC offloads them,
 *	and P_MUL carries its own checksum.  Trailing octets after the IP
 *	datagram (Ethernet padding to 60 octets) are ignored, because the IP
 *	total length says where the datagram ends.
 * SECURITY
 *	Sees untrusted input: capture files from the field and live traffic.
 *	Every length is checked against the octets captured before use; no
 *	allocation depends on frame contents; the frame buffer belongs to
 *	libpcap, which bounds records by the file's snapshot length (and
 *	reports a record larger than its buffer as an error).  Opening a live
 *	interface needs CAP_NET_RAW; the caller decides whether to have it.
 * DIAGNOSTICS
 *	Returns the PMUL_PCAP_ERR_* codes of pmul_pcap.h: per-frame verdicts
 *	for frames that are not clean UDP datagrams, and READ, OPEN, FILTER
 *	for the capture as a whole, with libpcap's text kept for the caller.
 *	Logs nothing.
 * SEE ALSO
 *	pcap(3PCAP), pcap-filter(7), pcap-linktype(7), RFC 791, RFC 8200
 *	(IPv6 and its extension headers), RFC 768, IEEE 802.1Q.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "pmul/pmul_pcap.h"
#include "pmul/pmul_pcap_frag.h"

#include <errno.h>
#include <poll.h>
#include <string.h>

#include <pcap/pcap.h>

#include "pmul/util/cur.h"
#include "pmul/util/mem.h"

/* Values that libpcap's headers may not define on every platform. */
#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif
#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6 229
#endif
#define LINKTYPE_RAW_FILE 101   /* LINKTYPE_RAW, should libpcap not map it */

#define ETHERTYPE_IPV4  0x0800u
#define ETHERTYPE_IPV6  0x86DDu
#define ETHERTYPE_VLAN  0x8100u  /* 802.1Q */
#define ETHERTYPE_QINQ  0x88A8u  /* 802.1ad service tag */
#define ETHERTYPE_QINQ_OLD 0x9100u

#define IPPROTO_NUM_HOPOPTS  0u
#define IPPROTO_NUM_UDP      17u
#define IPPROTO_NUM_ROUTING  43u
#define IPPROTO_NUM_FRAGMENT 44u
#define IPPROTO_NUM_AH       51u
#define IPPROTO_NUM_DSTOPTS  60u

#define UDP_HDR_LEN     8u
#define IP4_MIN_HDR_LEN 20u
#define IP6_HDR_LEN     40u

/* Address family values DLT_NULL/DLT_LOOP captures carry: AF_INET is 2
 * everywhere, AF_INET6 is 10 on Linux, 24 on the BSDs, 28 on FreeBSD and
 * 30 on macOS (pcap-linktype(7)). */
#define BSD_AF_INET     2u

/* The same snapshot length the writer puts in its files (pmul_pcap.c). */
#define LIVE_SNAPLEN    262144

struct pmul_pcap_reader {
    pcap_t *pd;
    int linktype;
    int fd;                     /* live: selectable descriptor; -1: file */
    int timeout_ms;             /* live: longest wait in reader_next */
    uint64_t frame_no;
    bool reassemble;            /* IP fragments are reassembled (default) */
    pmul_pcap_frag *frag;       /* created at the first fragment */
    char err[PCAP_ERRBUF_SIZE];
};

static int reassemble(pmul_pcap_reader *r, pmul_pcap_frame *f);

/* Copy a NUL-terminated message into a caller's buffer, cut to fit.
 * Error texts may be cut: they are for people, not for parsing. */
static void
copy_text(char *dst, size_t n, const char *src)
{
    size_t len;

    if (dst == NULL || n == 0)
        return;
    len = src != NULL ? strlen(src) : 0;
    if (len >= n)
        len = n - 1;
    if (len > 0)
        memcpy(dst, src, len);
    dst[len] = '\0';
}

static bool
is_af_inet6(uint32_t af)
{
    return af == 10u || af == 24u || af == 28u || af == 30u;
}

/* ---- UDP ---------------------------------------------------------------- */

/* c holds exactly the IP payload.  The UDP length must fit it; octets
 * after the UDP datagram inside the IP payload are ignored. */
static int
parse_udp(cur *c, pmul_pcap_frame *f)
{
    uint16_t ulen, cksum;

    if (!cur_u16be(c, &f->src_port) || !cur_u16be(c, &f->dst_port) ||
        !cur_u16be(c, &ulen) || !cur_u16be(c, &cksum))
        return PMUL_PCAP_ERR_UDP_HDR;
    if (ulen < UDP_HDR_LEN || (size_t)(ulen - UDP_HDR_LEN) > c->left)
        return PMUL_PCAP_ERR_UDP_HDR;
    f->payload_len = (size_t)(ulen - UDP_HDR_LEN);
    f->payload = c->p;
    return 0;
}

/*
 * Split the IP payload off c as *out.  len is what the IP header claims.
 * When fewer octets were captured than claimed, the verdict depends on
 * why: a frame the capture cut short (caplen < wirelen) is IP_TRUNC,
 * anything else is a lying header.
 */
static int
take_ip_payload(cur *c, size_t len, const pmul_pcap_frame *f, cur *out)
{
    if (len > c->left)
        return f->caplen < f->wirelen ? PMUL_PCAP_ERR_IP_TRUNC
                                      : PMUL_PCAP_ERR_IP_HDR;
    (void)cur_sub(c, out, len);
    return 0;
}

/* ---- IPv4 (RFC 791) ----------------------------------------------------- */

static int
parse_ip4(cur *c, pmul_pcap_frame *f)
{
    uint8_t vihl, tos, ttl, proto;
    uint16_t total, id, frag, hcks;
    size_t hlen;
    cur pl;
    int rc;

    if (!cur_u8(c, &vihl) || !cur_u8(c, &tos) || !cur_u16be(c, &total) ||
        !cur_u16be(c, &id) || !cur_u16be(c, &frag) || !cur_u8(c, &ttl) ||
        !cur_u8(c, &proto) || !cur_u16be(c, &hcks) ||
        !cur_u32be(c, &f->src_ip4) || !cur_u32be(c, &f->dst_ip4))
        return f->caplen < f->wirelen ? PMUL_PCAP_ERR_IP_TRUNC
                                      : PMUL_PCAP_ERR_IP_HDR;
    if (vihl >> 4 != 4u)
        return PMUL_PCAP_ERR_IP_HDR;
    f->ip_version = 4;
    f->ip_proto = proto;
    f->ip_id = id;
    hlen = (size_t)(vihl & 0x0Fu) * 4u;
    if (hlen < IP4_MIN_HDR_LEN || total < hlen)
        return PMUL_PCAP_ERR_IP_HDR;
    /* Options: hlen - 20 octets, skipped without interpretation. */
    if (!cur_skip(c, hlen - IP4_MIN_HDR_LEN))
        return f->caplen < f->wirelen ? PMUL_PCAP_ERR_IP_TRUNC
                                      : PMUL_PCAP_ERR_IP_HDR;
    rc = take_ip_payload(c, (size_t)total - hlen, f, &pl);
    if (rc != 0)
        return rc;
    /* Flags: bit 0x2000 is More Fragments; the low 13 bits the offset in
     * 8-octet units.  Any fragment, first one included, is reported with
     * a view of its octets: the frame alone is not a datagram (a first
     * fragment's UDP length would not match what follows), and the reader
     * reassembles the parts (pmul_pcap_frag). */
    f->frag_offset = frag & 0x1FFFu;
    f->more_frags = (frag & 0x2000u) != 0;
    if (f->frag_offset != 0 || f->more_frags) {
        f->frag_data = pl.p;
        f->frag_len = pl.left;
        return PMUL_PCAP_ERR_FRAGMENT;
    }
    if (proto != IPPROTO_NUM_UDP)
        return PMUL_PCAP_ERR_NOT_UDP;
    return parse_udp(&pl, f);
}

/* ---- IPv6 (RFC 8200) ---------------------------------------------------- */

static int
parse_ip6(cur *c, pmul_pcap_frame *f)
{
    uint32_t vtcfl;
    uint16_t plen;
    uint8_t nh, hlim, ext_nh, ext_len;
    uint16_t off_flags;
    uint32_t frag_id;
    size_t skip;
    unsigned n;
    cur pl;
    int rc;

    if (!cur_u32be(c, &vtcfl) || !cur_u16be(c, &plen) || !cur_u8(c, &nh) ||
        !cur_u8(c, &hlim) || !cur_bytes(c, f->src_ip6, 16) ||
        !cur_bytes(c, f->dst_ip6, 16))
        return f->caplen < f->wirelen ? PMUL_PCAP_ERR_IP_TRUNC
                                      : PMUL_PCAP_ERR_IP_HDR;
    if (vtcfl >> 28 != 6u)
        return PMUL_PCAP_ERR_IP_HDR;
    f->ip_version = 6;
    /* Payload length 0 announces a jumbogram (RFC 2675); a P_MUL PDU never
     * needs one, and its real length would be in a hop-by-hop option. */
    if (plen == 0)
        return PMUL_PCAP_ERR_IP_HDR;
    rc = take_ip_payload(c, plen, f, &pl);
    if (rc != 0)
        return rc;

    /* Walk the extension header chain, at most PMUL_PCAP_MAX_EXT_HDRS
     * deep, so a chain of empty headers cannot keep us busy. */
    for (n = 0;; n++) {
        f->ip_proto = nh;
        if (nh == IPPROTO_NUM_UDP)
            return parse_udp(&pl, f);
        if (n == PMUL_PCAP_MAX_EXT_HDRS)
            return PMUL_PCAP_ERR_IP_HDR;
        switch (nh) {
        case IPPROTO_NUM_HOPOPTS:
        case IPPROTO_NUM_ROUTING:
        case IPPROTO_NUM_DSTOPTS:
            /* Hdr Ext Len counts 8-octet units after the first 8. */
            if (!cur_u8(&pl, &ext_nh) || !cur_u8(&pl, &ext_len))
                return PMUL_PCAP_ERR_IP_HDR;
            skip = ((size_t)ext_len + 1u) * 8u - 2u;
            break;
        case IPPROTO_NUM_AH:
            /* AH counts 4-octet units minus 2 (RFC 4302 2.2). */
            if (!cur_u8(&pl, &ext_nh) || !cur_u8(&pl, &ext_len))
                return PMUL_PCAP_ERR_IP_HDR;
            skip = ((size_t)ext_len + 2u) * 4u - 2u;
            break;
        case IPPROTO_NUM_FRAGMENT:
            if (!cur_u8(&pl, &ext_nh) || !cur_u8(&pl, &ext_len) ||
                !cur_u16be(&pl, &off_flags) || !cur_u32be(&pl, &frag_id))
                return PMUL_PCAP_ERR_IP_HDR;
            f->ip_id = frag_id;
            f->frag_offset = off_flags >> 3;
            f->more_frags = (off_flags & 1u) != 0;
            /* An atomic fragment (offset 0, M clear: RFC 6946) is a whole
             * datagram and is read on. */
            if (f->frag_offset != 0 || f->more_frags) {
                f->ip_proto = ext_nh;
                f->frag_data = pl.p;
                f->frag_len = pl.left;
                return PMUL_PCAP_ERR_FRAGMENT;
            }
            skip = 0;
            break;
        default:
            /* ESP, No Next Header, ICMPv6, TCP, ...: not for us. */
            return PMUL_PCAP_ERR_NOT_UDP;
        }
        if (!cur_skip(&pl, skip))
            return PMUL_PCAP_ERR_IP_HDR;
        nh = ext_nh;
    }
}

/* Dispatch on the IP version nibble (raw IP link types). */
static int
parse_ip_any(cur *c, pmul_pcap_frame *f)
{
    uint8_t b;

    if (!cur_peek_u8(c, &b))
        return PMUL_PCAP_ERR_LINK_HDR;
    if (b >> 4 == 4u)
        return parse_ip4(c, f);
    if (b >> 4 == 6u)
        return parse_ip6(c, f);
    return PMUL_PCAP_ERR_NOT_IP;
}

static int
parse_by_ethertype(cur *c, uint16_t type, pmul_pcap_frame *f)
{
    if (type == ETHERTYPE_IPV4)
        return parse_ip4(c, f);
    if (type == ETHERTYPE_IPV6)
        return parse_ip6(c, f);
    return PMUL_PCAP_ERR_NOT_IP;
}

/* ---- link layers -------------------------------------------------------- */

static int
parse_ethernet(cur *c, pmul_pcap_frame *f)
{
    uint16_t type, tci;
    unsigned n;

    /* Destination and source MAC, then the EtherType. */
    if (!cur_skip(c, 12) || !cur_u16be(c, &type))
        return PMUL_PCAP_ERR_LINK_HDR;
    /* 802.1Q / 802.1ad tags: TCI then the inner EtherType, bounded. */
    for (n = 0; type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ ||
                type == ETHERTYPE_QINQ_OLD; n++) {
        if (n == PMUL_PCAP_MAX_VLAN)
            return PMUL_PCAP_ERR_NOT_IP;
        if (!cur_u16be(c, &tci) || !cur_u16be(c, &type))
            return PMUL_PCAP_ERR_LINK_HDR;
        if (n == 0)
            f->vlan_id = tci & 0x0FFFu;
        f->vlan_cnt = (uint8_t)(n + 1);
    }
    /* Values up to 1500 are 802.3 lengths (LLC follows): not IP here. */
    return parse_by_ethertype(c, type, f);
}

static int
parse_sll(cur *c, pmul_pcap_frame *f)
{
    uint16_t type;

    /* Packet type, ARPHRD type, address length, 8 address octets. */
    if (!cur_skip(c, 14) || !cur_u16be(c, &type))
        return PMUL_PCAP_ERR_LINK_HDR;
    return parse_by_ethertype(c, type, f);
}

static int
parse_sll2(cur *c, pmul_pcap_frame *f)
{
    uint16_t type;

    /* Protocol first, then reserved, ifindex, ARPHRD, packet type,
     * address length and 8 address octets. */
    if (!cur_u16be(c, &type) || !cur_skip(c, 18))
        return PMUL_PCAP_ERR_LINK_HDR;
    return parse_by_ethertype(c, type, f);
}

static int
parse_null(cur *c, pmul_pcap_frame *f, bool network_order)
{
    uint32_t af;

    if (!cur_u32be(c, &af))
        return PMUL_PCAP_ERR_LINK_HDR;
    /* DLT_NULL stores the family in the capturing host's byte order,
     * which the file does not record; a family number fits in 16 bits,
     * so a large value means the other order. */
    if (!network_order && af > 0xFFFFu)
        af = (af >> 24) | (af >> 8 & 0xFF00u) | (af << 8 & 0xFF0000u) | af << 24;
    if (af == BSD_AF_INET)
        return parse_ip4(c, f);
    if (is_af_inet6(af))
        return parse_ip6(c, f);
    return PMUL_PCAP_ERR_NOT_IP;
}

int
pmul_pcap_parse_frame(int linktype, const uint8_t *pkt, size_t caplen,
                      size_t wirelen, pmul_pcap_frame *f)
{
    uint64_t number, ts_us;
    cur c;


    if (f == NULL || (pkt == NULL && caplen > 0))
        return PMUL_PCAP_ERR_INVAL;
    number = f->number;
    ts_us = f->ts_us;
    memset(f, 0, sizeof(*f));
    f->number = number;
    f->ts_us = ts_us;
    f->linktype = linktype;
    f->caplen = caplen > UINT32_MAX ? UINT32_MAX : (uint32_t)caplen;
    f->wirelen = wirelen > UINT32_MAX ? UINT32_MAX : (uint32_t)wirelen;
    f->payload = NULL;
    f->payload_len = 0;
    cur_init(&c, pkt, caplen);

    switch (linktype) {
    case DLT_EN10MB:
        return parse_ethernet(&c, f);
    case DLT_LINUX_SLL:
        return parse_sll(&c, f);
    case DLT_LINUX_SLL2:
        return parse_sll2(&c, f);
    case DLT_RAW:
#if DLT_RAW != LINKTYPE_RAW_FILE
    case LINKTYPE_RAW_FILE:
#endif
        return parse_ip_any(&c, f);
    case DLT_IPV4:
        return parse_ip4(&c, f);
    case DLT_IPV6:
        return parse_ip6(&c, f);
    case DLT_NULL:
        return parse_null(&c, f, false);
    case DLT_LOOP:
        return parse_null(&c, f, true);
    default:
        return PMUL_PCAP_ERR_LINKTYPE;
    }
}

/* ---- the reader --------------------------------------------------------- */

int
pmul_pcap_reader_open(pmul_pcap_reader **r, const char *path, char *err,
                      size_t errlen)
{
    pmul_pcap_reader *rd;
    char ebuf[PCAP_ERRBUF_SIZE];

    copy_text(err, errlen, "");
    if (r == NULL)
        return PMUL_PCAP_ERR_INVAL;
    *r = NULL;
    if (path == NULL)
        return PMUL_PCAP_ERR_INVAL;
    rd = mem_calloc(NULL, 1, sizeof(*rd));
    if (rd == NULL)
        return PMUL_PCAP_ERR_NOMEM;
    ebuf[0] = '\0';
    /* libpcap reads pcap and pcapng alike and scales nanosecond files to
     * the precision asked for. */
    rd->pd = pcap_open_offline_with_tstamp_precision(path,
                 PCAP_TSTAMP_PRECISION_MICRO, ebuf);
    if (rd->pd == NULL) {
        copy_text(err, errlen, ebuf);
        mem_free(NULL, rd);
        return PMUL_PCAP_ERR_OPEN;
    }
    rd->linktype = pcap_datalink(rd->pd);
    rd->fd = -1;
    rd->reassemble = true;
    *r = rd;
    return 0;
}

int
pmul_pcap_reader_open_live(pmul_pcap_reader **r, const char *iface,
                           bool promisc, int timeout_ms, char *err,
                           size_t errlen)
{
    pmul_pcap_reader *rd;
    char ebuf[PCAP_ERRBUF_SIZE];
    int rc;

    copy_text(err, errlen, "");
    if (r == NULL)
        return PMUL_PCAP_ERR_INVAL;
    *r = NULL;
    if (iface == NULL || timeout_ms <= 0)
        return PMUL_PCAP_ERR_INVAL;
    rd = mem_calloc(NULL, 1, sizeof(*rd));
    if (rd == NULL)
        return PMUL_PCAP_ERR_NOMEM;
    ebuf[0] = '\0';
    rd->pd = pcap_create(iface, ebuf);
    if (rd->pd == NULL) {
        copy_text(err, errlen, ebuf);
        mem_free(NULL, rd);
        return PMUL_PCAP_ERR_OPEN;
    }
    /* Immediate mode: a radio link carries a PDU every few seconds, and
     * an operator wants to see it when it arrives, not when a kernel
     * buffer fills.  The timeout still bounds every wait. */
    if (pcap_set_snaplen(rd->pd, LIVE_SNAPLEN) != 0 ||
        pcap_set_promisc(rd->pd, promisc ? 1 : 0) != 0 ||
        pcap_set_timeout(rd->pd, timeout_ms) != 0 ||
        pcap_set_immediate_mode(rd->pd, 1) != 0) {
        copy_text(err, errlen, "cannot set capture options");
        pcap_close(rd->pd);
        mem_free(NULL, rd);
        return PMUL_PCAP_ERR_OPEN;
    }
    rc = pcap_activate(rd->pd);
    if (rc < 0) {
        /* pcap_geterr has the detail for PCAP_ERROR and some others;
         * the status text names the rest (no such device, permission). */
        copy_text(err, errlen, rc == PCAP_ERROR ? pcap_geterr(rd->pd)
                                                : pcap_statustostr(rc));
        pcap_close(rd->pd);
        mem_free(NULL, rd);
        return PMUL_PCAP_ERR_OPEN;
    }
    /* rc > 0 is a warning (promiscuous mode unsupported, ...): go on.
     *
     * libpcap's own read timeout is not a bound: with immediate mode on
     * Linux (TPACKET_V3) a read without traffic can block forever.  So the
     * capture is made non-blocking and reader_next() waits with poll() on
     * its descriptor for at most timeout_ms. */
    rd->fd = pcap_get_selectable_fd(rd->pd);
    if (rd->fd < 0 || pcap_setnonblock(rd->pd, 1, ebuf) != 0) {
        copy_text(err, errlen, rd->fd < 0 ? "no selectable descriptor" : ebuf);
        pcap_close(rd->pd);
        mem_free(NULL, rd);
        return PMUL_PCAP_ERR_OPEN;
    }
    rd->timeout_ms = timeout_ms;
    rd->linktype = pcap_datalink(rd->pd);
    rd->reassemble = true;
    *r = rd;
    return 0;
}

int
pmul_pcap_reader_set_filter(pmul_pcap_reader *r, const char *expr, char *err,
                            size_t errlen)
{
    struct bpf_program prog;
    int rc = 0;

    copy_text(err, errlen, "");
    if (r == NULL)
        return PMUL_PCAP_ERR_INVAL;
    if (expr == NULL || expr[0] == '\0')
        return 0;
    /* Netmask unknown: only matters for "ip broadcast" filters. */
    if (pcap_compile(r->pd, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        copy_text(err, errlen, pcap_geterr(r->pd));
        return PMUL_PCAP_ERR_FILTER;
    }
    if (pcap_setfilter(r->pd, &prog) != 0) {
        copy_text(err, errlen, pcap_geterr(r->pd));
        rc = PMUL_PCAP_ERR_FILTER;
    }
    pcap_freecode(&prog);
    return rc;
}

int
pmul_pcap_reader_linktype(const pmul_pcap_reader *r)
{
    return r != NULL ? r->linktype : -1;
}

int
pmul_pcap_reader_next(pmul_pcap_reader *r, pmul_pcap_frame *f, int *verdict)
{
    struct pcap_pkthdr *hdr;
    const u_char *data;
    uint64_t sec, usec;
    int rc;

    if (r == NULL || f == NULL || verdict == NULL)
        return PMUL_PCAP_ERR_INVAL;
    memset(f, 0, sizeof(*f));
    *verdict = 0;
    rc = pcap_next_ex(r->pd, &hdr, &data);
    if (rc == 0 && r->fd >= 0) {
        /* Live and nothing buffered: wait once, bounded. */
        struct pollfd pfd;

        pfd.fd = r->fd;
        pfd.events = POLLIN;
        pfd.revents = 0;
        if (poll(&pfd, 1, r->timeout_ms) < 0 && errno != EINTR) {
            copy_text(r->err, sizeof(r->err), "poll on the capture failed");
            return PMUL_PCAP_ERR_READ;
        }
        rc = pcap_next_ex(r->pd, &hdr, &data);
    }
    if (rc == 0)
        return 0;                       /* live: nothing within the timeout */
    if (rc == PCAP_ERROR_BREAK)
        return PMUL_PCAP_ERR_EOF;       /* end of file or reader_stop */
    if (rc != 1) {
        /* A truncated record ("truncated dump file"), a record larger than
         * the snapshot length allows, an I/O error: the capture cannot be
         * read further.  Keep libpcap's words for the operator. */
        copy_text(r->err, sizeof(r->err), pcap_geterr(r->pd));
        return PMUL_PCAP_ERR_READ;
    }
    r->frame_no++;
    f->number = r->frame_no;
    sec = hdr->ts.tv_sec > 0 ? (uint64_t)hdr->ts.tv_sec : 0;
    usec = hdr->ts.tv_usec > 0 ? (uint64_t)hdr->ts.tv_usec : 0;
    /* libpcap delivers tv_sec from 32 bits (pcap) or a 64-bit count of
     * ticks (pcapng) converted by itself; either fits once capped. */
    if (sec > UINT64_MAX / 1000000u - 1u)
        sec = UINT64_MAX / 1000000u - 1u;
    f->ts_us = sec * 1000000u + (usec < 1000000u ? usec : 999999u);
    /* libpcap guarantees caplen octets at data; wirelen (len) may be any
     * value the file claims. */
    *verdict = pmul_pcap_parse_frame(r->linktype, data, hdr->caplen,
                                     hdr->len >= hdr->caplen ? hdr->len
                                                             : hdr->caplen,
                                     f);
    if (*verdict == PMUL_PCAP_ERR_FRAGMENT && r->reassemble)
        *verdict = reassemble(r, f);
    return 1;
}

/*
 * Feed a fragment to the reassembler.  The frame that completes a
 * datagram carries the whole datagram from then on, as in tshark: its
 * verdict becomes that of the UDP header (0 or UDP_HDR, or NOT_UDP), its
 * payload the datagram's, and frag_cnt says how many frames it took.
 * Other fragments keep the FRAGMENT verdict, or FRAG_BAD / FRAG_CAP /
 * NOMEM when the reassembler refused them.
 */
static int
reassemble(pmul_pcap_reader *r, pmul_pcap_frame *f)
{
    const uint8_t *dg;
    size_t len;
    uint16_t parts = 0;
    cur c;
    int rc;

    if (r->frag == NULL && (rc = pmul_pcap_frag_new(&r->frag, NULL, NULL)) != 0)
        return rc;
    rc = pmul_pcap_frag_push(r->frag, f, &dg, &len, &parts);
    if (rc <= 0)
        return rc == 0 ? PMUL_PCAP_ERR_FRAGMENT : rc;
    f->frag_cnt = parts;
    f->frag_data = NULL;
    f->frag_len = 0;
    if (f->ip_proto != IPPROTO_NUM_UDP)
        return PMUL_PCAP_ERR_NOT_UDP;
    cur_init(&c, dg, len);
    return parse_udp(&c, f);
}

void
pmul_pcap_reader_set_reassembly(pmul_pcap_reader *r, bool on)
{
    if (r == NULL)
        return;
    r->reassemble = on;
    if (!on) {
        pmul_pcap_frag_free(r->frag);
        r->frag = NULL;
    }
}

void
pmul_pcap_reader_frag_stats(const pmul_pcap_reader *r, pmul_pcap_frag_stats *out)
{
    if (r != NULL && r->frag != NULL) {
        pmul_pcap_frag_get_stats(r->frag, out);
        return;
    }
    memset(out, 0, sizeof(*out));
}

const char *
pmul_pcap_reader_error(const pmul_pcap_reader *r)
{
    return r != NULL ? r->err : "no reader";
}

void
pmul_pcap_reader_stop(pmul_pcap_reader *r)
{
    if (r != NULL)
        pcap_breakloop(r->pd);
}

void
pmul_pcap_reader_close(pmul_pcap_reader *r)
{
    if (r == NULL)
        return;
    pcap_close(r->pd);
    pmul_pcap_frag_free(r->frag);
    mem_free(NULL, r);
}
