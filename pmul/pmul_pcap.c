/*
 * NAME
 *	pmul_pcap - write UDP datagrams as Ethernet/IPv4 frames to a pcap file
 * SYNOPSIS
 *	#include "pmul/pmul_pcap.h"
 * DESCRIPTION
 *	An L3 adapter used by the tests, netsim transcripts and tools to turn
 *	the datagrams of a P_MUL exchange into a capture that tshark (the
 *	conformance oracle of docs/wire.md section 8) and pmul-replay read.
 *
 *	libpcap writes the file format (pcap_open_dead + pcap_dump_open +
 *	pcap_dump); this module only builds the link, network and transport
 *	headers in front of each payload: Ethernet II with synthetic MACs
 *	(multicast groups mapped per RFC 1112 section 6.4), an IPv4 header
 *	without options and with its header checksum (RFC 791), and a UDP
 *	header with the checksum over the pseudo-header (RFC 768).  The frame
 *	is built in one buffer the writer allocates once, large enough for the
 *	biggest IPv4 datagram, so writing never allocates.
 * SECURITY
 *	Sees no untrusted input: payloads come from our own encoder or a test.
 *	The file is created with the caller's umask; path is trusted.
 * DIAGNOSTICS
 *	Returns the PMUL_PCAP_ERR_* codes of pmul_pcap.h; logs nothing.  A
 *	stdio error is sticky: after it every write and the close report
 *	PMUL_PCAP_ERR_WRITE, so a caller that checks only the close still
 *	learns that the capture is incomplete.
 * SEE ALSO
 *	pcap(3PCAP), pcap_dump(3PCAP), RFC 768, RFC 791, RFC 1112,
 *	docs/wire.md section 1 (ports) and 8 (tshark).
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "pmul/pmul_pcap.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "pmul/util/cur.h"
#include "pmul/util/errtab.h"
#include "pmul/util/mem.h"

ERRTAB_DEFINE(pmul_pcap_strerror, pmul_pcap_errname, PMUL_PCAP_ERRNO_MAP)

#define ETH_HDR_LEN     14u
#define IP4_HDR_LEN     20u
#define UDP_HDR_LEN     8u
#define ETHERTYPE_IPV4  0x0800u
#define IPPROTO_UDP_NUM 17u
#define IP4_TTL         64u

/* Offsets of the fields patched after the headers are written. */
#define IP4_OFF         ETH_HDR_LEN
#define IP4_CKSUM_OFF   (IP4_OFF + 10u)
#define UDP_OFF         (IP4_OFF + IP4_HDR_LEN)
#define UDP_CKSUM_OFF   (UDP_OFF + 6u)

/* Largest frame: Ethernet header plus a 65535-octet IPv4 datagram. */
#define FRAME_MAX_LEN   (ETH_HDR_LEN + IP4_HDR_LEN + UDP_HDR_LEN + \
                         PMUL_PCAP_UDP4_MAX_PAYLOAD)

/*
 * The snapshot length in the file header.  The brief suggested 65535, but
 * a maximal datagram makes a 65549-octet frame, and libpcap's reader
 * (used by pmul-replay) silently truncates any record longer than the
 * file's snaplen.  262144 is libpcap's own MAXIMUM_SNAPLEN, what tcpdump
 * writes, and what Wireshark accepts for Ethernet.
 */
#define PCAP_SNAPLEN    262144

/* The pcap record header stores seconds in 32 bits. */
#define PCAP_MAX_SECS   UINT32_MAX

struct pmul_pcap_writer {
    pcap_t *pd;                 /* "dead" handle: link type and snaplen */
    pcap_dumper_t *dumper;      /* owns the FILE */
    uint8_t *frame;             /* FRAME_MAX_LEN octets, reused per frame */
    uint16_t ip_id;             /* IPv4 Identification, one per datagram */
    int err;                    /* sticky PMUL_PCAP_ERR_WRITE, or 0 */
};

/*
 * One's complement sum of p[0..len) added to sum, in 16-bit big-endian
 * words, odd length padded with zero (RFC 1071).  The 32-bit accumulator
 * is folded every word, so any length is safe.
 */
static uint32_t
inet_sum(uint32_t sum, const uint8_t *p, size_t len)
{
    size_t i;

    for (i = 0; i + 1 < len; i += 2) {
        sum += (uint32_t)p[i] << 8 | p[i + 1];
        sum = (sum & 0xFFFFu) + (sum >> 16);
    }
    if (len & 1u) {
        sum += (uint32_t)p[len - 1] << 8;
        sum = (sum & 0xFFFFu) + (sum >> 16);
    }
    return sum;
}

static uint16_t
inet_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xFFFFu) + (sum >> 16);
    return (uint16_t)~sum;
}

static bool
is_ip4_multicast(uint32_t ip)
{
    return (ip >> 28) == 0xEu;          /* 224.0.0.0/4 */
}

/*
 * The MAC a frame to or from ip would carry.  Groups use the IANA block
 * 01:00:5e with the low 23 bits of the group, as a real NIC would; the
 * limited broadcast address uses the broadcast MAC; any other address
 * becomes a locally administered unicast MAC that embeds it, which keeps
 * each node recognisable in Wireshark's Ethernet columns.
 */
static void
put_mac(wcur *c, uint32_t ip)
{
    if (is_ip4_multicast(ip)) {
        wcur_u8(c, 0x01);
        wcur_u8(c, 0x00);
        wcur_u8(c, 0x5E);
        wcur_u8(c, (uint8_t)(ip >> 16 & 0x7Fu));
        wcur_u8(c, (uint8_t)(ip >> 8));
        wcur_u8(c, (uint8_t)ip);
    } else if (ip == UINT32_MAX) {
        wcur_u16be(c, 0xFFFF);
        wcur_u32be(c, UINT32_MAX);
    } else {
        wcur_u8(c, 0x02);
        wcur_u8(c, 0x00);
        wcur_u32be(c, ip);
    }
}

int
pmul_pcap_writer_open(pmul_pcap_writer **w, const char *path)
{
    pmul_pcap_writer *pw;
    int rc, saved_errno;

    if (w == NULL)
        return PMUL_PCAP_ERR_INVAL;
    *w = NULL;
    if (path == NULL)
        return PMUL_PCAP_ERR_INVAL;

    /* The API has no allocator argument (callers share it with programs
     * that have none), so the writer uses the libc one explicitly. */
    pw = mem_calloc(NULL, 1, sizeof(*pw));
    if (pw == NULL)
        return PMUL_PCAP_ERR_NOMEM;
    pw->frame = mem_alloc(NULL, FRAME_MAX_LEN);
    if (pw->frame == NULL) {
        rc = PMUL_PCAP_ERR_NOMEM;
        goto fail;
    }
    pw->pd = pcap_open_dead(DLT_EN10MB, PCAP_SNAPLEN);
    if (pw->pd == NULL) {
        rc = PMUL_PCAP_ERR_NOMEM;
        goto fail;
    }
    /* pcap_dump_open() fopen()s the path and writes the file header.  On
     * failure it has closed what it opened; errno is still fopen's. */
    pw->dumper = pcap_dump_open(pw->pd, path);
    if (pw->dumper == NULL) {
        rc = PMUL_PCAP_ERR_OPEN;
        goto fail;
    }
    *w = pw;
    return 0;

fail:
    saved_errno = errno;
    if (pw->pd != NULL)
        pcap_close(pw->pd);
    mem_free(NULL, pw->frame);
    mem_free(NULL, pw);
    errno = saved_errno;
    return rc;
}

int
pmul_pcap_write_udp4(pmul_pcap_writer *w, uint64_t ts_us, uint32_t src_ip,
                     uint16_t src_port, uint32_t dst_ip, uint16_t dst_port,
                     const uint8_t *payload, size_t len)
{
    struct pcap_pkthdr hdr;
    wcur c;
    uint32_t sum;
    uint16_t ip_len, udp_len, udp_cksum;
    FILE *fp;

    if (w == NULL || (payload == NULL && len > 0))
        return PMUL_PCAP_ERR_INVAL;
    if (w->err != 0)
        return w->err;
    if (len > PMUL_PCAP_UDP4_MAX_PAYLOAD)
        return PMUL_PCAP_ERR_TOO_LONG;
    if (ts_us / 1000000u > PCAP_MAX_SECS)
        return PMUL_PCAP_ERR_RANGE;

    /* Both fit in 16 bits: len <= 65507 was checked above. */
    udp_len = (uint16_t)(UDP_HDR_LEN + len);
    ip_len = (uint16_t)(IP4_HDR_LEN + udp_len);

    wcur_init(&c, w->frame, FRAME_MAX_LEN);

    /* Ethernet II. */
    put_mac(&c, dst_ip);
    put_mac(&c, src_ip);
    wcur_u16be(&c, ETHERTYPE_IPV4);

    /* IPv4, no options.  Flags and fragment offset are 0: the datagram is
     * never fragmented in a capture, and DF would be wrong for a 64 KiB
     * datagram on a real Ethernet. */
    wcur_u8(&c, 0x45);                  /* version 4, IHL 5 words */
    wcur_u8(&c, 0x00);                  /* DSCP/ECN */
    wcur_u16be(&c, ip_len);
    wcur_u16be(&c, w->ip_id++);         /* wraps at 65536, as on a host */
    wcur_u16be(&c, 0x0000);             /* flags, fragment offset */
    wcur_u8(&c, IP4_TTL);
    wcur_u8(&c, IPPROTO_UDP_NUM);
    wcur_u16be(&c, 0x0000);             /* header checksum, patched below */
    wcur_u32be(&c, src_ip);
    wcur_u32be(&c, dst_ip);

    /* UDP. */
    wcur_u16be(&c, src_port);
    wcur_u16be(&c, dst_port);
    wcur_u16be(&c, udp_len);
    wcur_u16be(&c, 0x0000);             /* checksum, patched below */
    if (len > 0)
        wcur_bytes(&c, payload, len);

    /* FRAME_MAX_LEN covers the largest frame, so this is a bug if hit. */
    if (c.overflow || c.len != ETH_HDR_LEN + ip_len)
        return PMUL_PCAP_ERR_INVAL;

    wcur_patch_u16be(&c, IP4_CKSUM_OFF,
                     inet_fold(inet_sum(0, w->frame + IP4_OFF, IP4_HDR_LEN)));

    /* UDP checksum over the pseudo-header (source, destination, zero,
     * protocol, UDP length) and the UDP header and payload.  A computed 0
     * is sent as 0xFFFF, because 0 means "no checksum" in IPv4. */
    sum = 0;
    sum += src_ip >> 16;
    sum += src_ip & 0xFFFFu;
    sum += dst_ip >> 16;
    sum += dst_ip & 0xFFFFu;
    sum += IPPROTO_UDP_NUM;
    sum += udp_len;
    sum = inet_sum(sum, w->frame + UDP_OFF, udp_len);
    udp_cksum = inet_fold(sum);
    wcur_patch_u16be(&c, UDP_CKSUM_OFF, udp_cksum == 0 ? 0xFFFF : udp_cksum);

    hdr.ts.tv_sec = (time_t)(ts_us / 1000000u);
    hdr.ts.tv_usec = (suseconds_t)(ts_us % 1000000u);
    hdr.caplen = (bpf_u_int32)c.len;
    hdr.len = (bpf_u_int32)c.len;
    pcap_dump((u_char *)w->dumper, &hdr, w->frame);

    /* pcap_dump() returns nothing; the stream's error flag tells.  With
     * buffering most errors appear only at the flush in close. */
    fp = pcap_dump_file(w->dumper);
    if (fp == NULL || ferror(fp)) {
        w->err = PMUL_PCAP_ERR_WRITE;
        return w->err;
    }
    return 0;
}

int
pmul_pcap_writer_close(pmul_pcap_writer *w)
{
    FILE *fp;
    int rc, fd, fd2 = -1;

    if (w == NULL)
        return 0;
    rc = w->err;
    fp = pcap_dump_file(w->dumper);

    /* Flush and sync before closing, and check each step: a capture that
     * is silently short would make a conformance test lie. */
    if (pcap_dump_flush(w->dumper) != 0 || fp == NULL || ferror(fp)) {
        if (rc == 0)
            rc = PMUL_PCAP_ERR_CLOSE;
    }
    fd = fp != NULL ? fileno(fp) : -1;
    if (rc == 0 && fd >= 0 && fsync(fd) != 0 && errno != EINVAL &&
        errno != EROFS) {
        /* EINVAL and EROFS: a pipe or device that cannot be synced (for
         * example "-", which libpcap maps to standard output). */
        rc = PMUL_PCAP_ERR_CLOSE;
    }

    /* pcap_dump_close() fclose()s the stream but returns nothing.  Holding
     * a duplicate descriptor makes our close(), not libpcap's, the last
     * close of the file, so its error (NFS, quota) is the one we see. */
    if (fd >= 0)
        fd2 = dup(fd);
    if (fd2 < 0 && rc == 0)
        rc = PMUL_PCAP_ERR_CLOSE;
    pcap_dump_close(w->dumper);
    if (fd2 >= 0 && close(fd2) != 0 && rc == 0)
        rc = PMUL_PCAP_ERR_CLOSE;

    pcap_close(w->pd);
    mem_free(NULL, w->frame);
    mem_free(NULL, w);
    return rc;
}
