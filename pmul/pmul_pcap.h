/*
 * pmul_pcap.h: write UDP datagrams to a pcap file, as Wireshark reads them,
 * and read pcap/pcapng captures and live interfaces back down to UDP.
 *
 * An L3 adapter over libpcap.  Each P_MUL PDU (or any UDP payload) becomes
 * one Ethernet frame carrying IPv4 and UDP headers built here, so tshark's
 * p_mul dissector, pmul-replay and the tests see the datagrams exactly as a
 * capture on the radio LAN would show them.  The pcap file format itself is
 * written by libpcap (pcap_dump), never by hand.
 *
 * Addresses are IPv4 in host byte order (0xC0000201 = 192.0.2.1).  Frame
 * MAC addresses are synthetic: a multicast destination maps to
 * 01:00:5e + its low 23 bits (RFC 1112 section 6.4), 255.255.255.255 to
 * the broadcast MAC, and every other address A.B.C.D to 02:00:A:B:C:D
 * (locally administered, so it names the node).  The IPv4 header checksum
 * and the UDP checksum are computed.
 *
 * IPv6 is not written yet; it will be a sibling pmul_pcap_write_udp6() on
 * the same writer, so callers of the IPv4 function are unaffected.
 *
 * One writer is one file, one reader one capture; neither is thread-safe.
 * The module holds no global state.
 */
#ifndef PMUL_PCAP_H
#define PMUL_PCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest UDP payload in one IPv4 datagram: 65535 - 20 (IPv4) - 8 (UDP). */
#define PMUL_PCAP_UDP4_MAX_PAYLOAD 65507u

/* Codes lie in PCAP_ERR_FIRST..PCAP_ERR_LAST (-500..-599) of the project's
 * one error space (pmul/util/errtab.h), apart from every other library's. */
#define PMUL_PCAP_ERRNO_MAP(X)                                                \
    X(INVAL,     -501, "invalid argument")                                    \
    X(NOMEM,     -502, "out of memory")                                       \
    X(TOO_LONG,  -503, "UDP payload longer than 65507 octets")                \
    X(RANGE,     -504, "timestamp beyond the pcap format's 32-bit seconds")   \
    X(OPEN,      -505, "cannot create or open the capture")                   \
    X(WRITE,     -506, "writing the pcap file failed")                        \
    X(CLOSE,     -507, "flushing or closing the pcap file failed")            \
    /* Reading a capture (pmul_pcap_read.c). */                               \
    X(EOF,       -508, "end of the capture")                                  \
    X(READ,      -509, "reading the capture failed (corrupt or truncated)")   \
    X(FILTER,    -510, "the BPF filter does not compile or cannot be set")    \
    X(LINKTYPE,  -511, "unsupported link-layer type")                         \
    /* Per-frame verdicts: the frame is reported and skipped. */              \
    X(LINK_HDR,  -512, "frame too short for its link-layer header")           \
    X(NOT_IP,    -513, "frame carries neither IPv4 nor IPv6")                 \
    X(IP_HDR,    -514, "malformed IP header or extension header")             \
    X(IP_TRUNC,  -515, "IP datagram cut short by the capture (snaplen)")      \
    X(FRAGMENT,  -516, "IP fragment, held until its datagram is whole")       \
    X(NOT_UDP,   -517, "IP datagram does not carry UDP")                      \
    X(UDP_HDR,   -518, "malformed UDP header or UDP length")                  \
    /* IP fragment reassembly (pmul_pcap_frag.c). */                          \
    X(FRAG_BAD,  -519, "IP fragment inconsistent with the others of its datagram") \
    X(FRAG_CAP,  -520, "IP fragment dropped: reassembly limits reached")

enum pmul_pcap_err {
    PMUL_PCAP_OK = 0,
#define PMUL_PCAP__ERR_ENUM(name, val, text) PMUL_PCAP_ERR_##name = (val),
    PMUL_PCAP_ERRNO_MAP(PMUL_PCAP__ERR_ENUM)
#undef PMUL_PCAP__ERR_ENUM
};

typedef struct pmul_pcap_writer pmul_pcap_writer;

/*
 * Create (or truncate) the pcap file at path, link type Ethernet, and
 * return a writer in *w.  path is borrowed for the call; "-" means
 * standard output (libpcap's convention).  On failure *w is set to NULL.
 *
 * Returns 0, or one of:
 *   PMUL_PCAP_ERR_INVAL  w or path is NULL: a bug in the caller;
 *   PMUL_PCAP_ERR_NOMEM  allocation failed: retry later or give up;
 *   PMUL_PCAP_ERR_OPEN   the file cannot be created (errno is kept from
 *                        fopen, so the caller can report strerror(errno)).
 */
__attribute__((warn_unused_result))
int pmul_pcap_writer_open(pmul_pcap_writer **w, const char *path);

/*
 * Append one IPv4/UDP datagram carrying payload[0..len) as one Ethernet
 * frame with timestamp ts_us (microseconds since the Unix epoch).  IPs are
 * in host byte order; payload is borrowed for the call (it may be NULL
 * only when len is 0).  Timestamps need not increase.
 *
 * Returns 0, or one of:
 *   PMUL_PCAP_ERR_INVAL     w is NULL, or payload is NULL with len > 0;
 *   PMUL_PCAP_ERR_TOO_LONG  len > PMUL_PCAP_UDP4_MAX_PAYLOAD: nothing
 *                           written, the writer stays usable;
 *   PMUL_PCAP_ERR_RANGE     ts_us is past 2106 (pcap's 32-bit seconds):
 *                           nothing written, the writer stays usable;
 *   PMUL_PCAP_ERR_WRITE     the stdio stream reported an error (disk full):
 *                           the file is incomplete; close it and discard.
 * After PMUL_PCAP_ERR_WRITE every later call returns it too.
 */
__attribute__((warn_unused_result))
int pmul_pcap_write_udp4(pmul_pcap_writer *w, uint64_t ts_us, uint32_t src_ip,
                         uint16_t src_port, uint32_t dst_ip, uint16_t dst_port,
                         const uint8_t *payload, size_t len);

/*
 * Flush the file to disk, close it and free the writer (always, whatever
 * the result).  NULL is a no-op returning 0.
 *
 * Returns 0 when every frame written is safely in the file, or
 * PMUL_PCAP_ERR_WRITE (an earlier write failed) or PMUL_PCAP_ERR_CLOSE
 * (flush, fsync or close failed): the file must not be trusted.
 * Not marked warn_unused_result: cleanup paths after an earlier failure
 * legitimately ignore it, and GCC does not accept a (void) cast there.
 */
int pmul_pcap_writer_close(pmul_pcap_writer *w);

/* ------------------------------------------------------------------ */
/* Reading captures (pmul_pcap_read.c)                                */
/* ------------------------------------------------------------------ */

/*
 * The reader opens pcap and pcapng files and live interfaces through
 * libpcap (pcap_open_offline, pcap_create/pcap_activate, pcap_compile and
 * pcap_setfilter) and hands out each frame parsed down to its UDP payload.
 * pmul_pcap_parse_frame() is the one parser of link-layer, IP and UDP
 * headers in the project; it works on a buffer, so tests and fuzzers call
 * it directly.
 *
 * Link types: DLT_EN10MB (Ethernet II, with up to PMUL_PCAP_MAX_VLAN
 * 802.1Q/802.1ad tags), DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW, DLT_IPV4,
 * DLT_IPV6, DLT_NULL (either byte order) and DLT_LOOP.  IPv4 options and
 * IPv6 extension headers (hop-by-hop, routing, destination options,
 * atomic fragment header, AH; at most PMUL_PCAP_MAX_EXT_HDRS) are
 * skipped.  The parser reports a fragment as PMUL_PCAP_ERR_FRAGMENT with a
 * view of its part of the IP payload (frag_data); the reader reassembles
 * fragments into whole datagrams (pmul_pcap_reader_set_reassembly()), with
 * the bounded reassembler of pmul_pcap_frag.h.
 */
#define PMUL_PCAP_MAX_VLAN      4u
#define PMUL_PCAP_MAX_EXT_HDRS  8u

typedef struct pmul_pcap_reader pmul_pcap_reader;

/* One frame as the reader or pmul_pcap_parse_frame() saw it.  Fields are
 * filled as far as parsing got: ip_version is 0 until an IP header was
 * read, payload is NULL unless the frame parsed completely. */
typedef struct pmul_pcap_frame {
    uint64_t number;            /* 1-based frame number (reader only) */
    uint64_t ts_us;             /* capture time, microseconds since 1970 */
    uint32_t caplen;            /* octets in the capture */
    uint32_t wirelen;           /* octets on the wire */
    int linktype;               /* DLT_* of the capture */
    uint16_t vlan_id;           /* outermost 802.1Q VLAN ID, if vlan_cnt */
    uint8_t vlan_cnt;           /* VLAN tags skipped */
    uint8_t ip_version;         /* 4 or 6; 0: no IP header parsed */
    uint32_t src_ip4, dst_ip4;  /* IPv4 addresses, host byte order */
    uint8_t src_ip6[16];        /* IPv6 addresses, network byte order */
    uint8_t dst_ip6[16];
    uint8_t ip_proto;           /* last Next Header / Protocol seen */
    uint32_t ip_id;             /* IPv4 Identification or IPv6 fragment ID */
    uint16_t frag_offset;       /* fragment offset in octets / 8 */
    bool more_frags;            /* MF flag / M flag */
    const uint8_t *frag_data;   /* FRAGMENT: this fragment's part of the IP
                                 * payload (view into the frame) */
    size_t frag_len;
    uint16_t frag_cnt;          /* reader: fragments this datagram was
                                 * reassembled from (0: it was whole) */
    uint16_t src_port, dst_port;/* once the UDP header parsed */
    const uint8_t *payload;     /* UDP payload (view into the frame) */
    size_t payload_len;
} pmul_pcap_frame;

/*
 * Parse one captured frame pkt[0..caplen) of link type linktype (a DLT_*
 * value), originally wirelen octets long, down to its UDP payload.  pkt
 * is borrowed and untrusted; f->payload points into it.  Every field is
 * read through a bounds-checked cursor; a frame is never read past caplen.
 * Trailing link-layer padding after the IP datagram is ignored.
 *
 * Returns 0 (f->payload, f->payload_len set), or one of:
 *   PMUL_PCAP_ERR_LINKTYPE  linktype is not one of those listed above;
 *   PMUL_PCAP_ERR_LINK_HDR  the link-layer header is cut short;
 *   PMUL_PCAP_ERR_NOT_IP    another protocol (ARP, LLC, ...);
 *   PMUL_PCAP_ERR_IP_HDR    bad version, header length, total length or
 *                           extension header, or too many of them;
 *   PMUL_PCAP_ERR_IP_TRUNC  the datagram is longer than what was captured;
 *   PMUL_PCAP_ERR_FRAGMENT  an IPv4 or IPv6 fragment (ip_id, frag_offset,
 *                           more_frags, ip_proto, the addresses and the
 *                           frag_data view are filled);
 *   PMUL_PCAP_ERR_NOT_UDP   another transport (ip_proto says which);
 *   PMUL_PCAP_ERR_UDP_HDR   UDP header cut short or its length field does
 *                           not fit the IP payload.
 * Each is a verdict about this frame only: report it and go on.  *f is
 * reset first, except number and ts_us, which are left as they were.
 */
int pmul_pcap_parse_frame(int linktype, const uint8_t *pkt, size_t caplen,
                          size_t wirelen, pmul_pcap_frame *f);

/*
 * Open the capture file at path (pcap or pcapng; "-" is standard input)
 * for reading.  Timestamps are delivered in microseconds whatever the
 * file's precision.  On failure *r is NULL and libpcap's explanation is in
 * err (errlen octets; may be NULL).
 *
 * Returns 0, or PMUL_PCAP_ERR_INVAL (NULL r or path), PMUL_PCAP_ERR_NOMEM,
 * PMUL_PCAP_ERR_OPEN (missing file, not a capture, corrupt header).
 */
__attribute__((warn_unused_result))
int pmul_pcap_reader_open(pmul_pcap_reader **r, const char *path, char *err,
                          size_t errlen);

/*
 * Open a live capture on interface iface (as in tcpdump -i; "any" gives
 * DLT_LINUX_SLL or SLL2).  The capture is unbuffered (immediate mode);
 * pmul_pcap_reader_next() returns 0 after timeout_ms without traffic, so a
 * caller can check for a stop request.  Needs CAP_NET_RAW.
 *
 * Returns 0, or PMUL_PCAP_ERR_INVAL, PMUL_PCAP_ERR_NOMEM, or
 * PMUL_PCAP_ERR_OPEN with libpcap's reason in err.
 */
__attribute__((warn_unused_result))
int pmul_pcap_reader_open_live(pmul_pcap_reader **r, const char *iface,
                               bool promisc, int timeout_ms, char *err,
                               size_t errlen);

/*
 * Compile the BPF filter expression (pcap-filter(7)) and apply it to the
 * reader; NULL or "" removes nothing and returns 0.  Returns 0, or
 * PMUL_PCAP_ERR_INVAL, or PMUL_PCAP_ERR_FILTER with libpcap's reason in
 * err.
 */
__attribute__((warn_unused_result))
int pmul_pcap_reader_set_filter(pmul_pcap_reader *r, const char *expr,
                                char *err, size_t errlen);

/* The DLT_* link type of the capture. */
int pmul_pcap_reader_linktype(const pmul_pcap_reader *r);

/*
 * Read the next frame into *f (all fields are reset first) and parse it
 * with pmul_pcap_parse_frame(), reassembling IP fragments (see
 * pmul_pcap_reader_set_reassembly()).  f->payload points into libpcap's
 * buffer or the reassembler's and is valid until the next call or the
 * close.
 *
 * Returns 1 when a frame was read: its parse verdict (0 or a per-frame
 * PMUL_PCAP_ERR_* above) is in *verdict; or 0 (live capture only: no
 * frame within the timeout); or PMUL_PCAP_ERR_EOF at the end of a file;
 * or PMUL_PCAP_ERR_READ when the file is corrupt or cut short (the text
 * is in pmul_pcap_reader_error(); no more frames can be read).
 */
__attribute__((warn_unused_result))
int pmul_pcap_reader_next(pmul_pcap_reader *r, pmul_pcap_frame *f, int *verdict);

/*
 * IP fragment reassembly (on by default): fragments are fed to a bounded
 * reassembler (pmul_pcap_frag.h, default limits) and the frame that
 * completes a datagram is delivered with the whole datagram's UDP payload
 * and frag_cnt set; the other fragments keep the FRAGMENT verdict (or
 * FRAG_BAD / FRAG_CAP).  Off: every fragment is reported as FRAGMENT.
 */
void pmul_pcap_reader_set_reassembly(pmul_pcap_reader *r, bool on);

/* The reassembler's counters (all 0 when no fragment was seen). */
struct pmul_pcap_frag_stats;
void pmul_pcap_reader_frag_stats(const pmul_pcap_reader *r,
                                 struct pmul_pcap_frag_stats *out);

/* libpcap's text for the last failure of this reader (never NULL). */
const char *pmul_pcap_reader_error(const pmul_pcap_reader *r);

/* Ask a blocked pmul_pcap_reader_next() to return (async-signal-safe:
 * pcap_breakloop).  It then returns PMUL_PCAP_ERR_EOF. */
void pmul_pcap_reader_stop(pmul_pcap_reader *r);

/* Close the capture and free the reader.  NULL is a no-op. */
void pmul_pcap_reader_close(pmul_pcap_reader *r);

/* Static text for a PMUL_PCAP_ERR_* code (or 0); never NULL. */
const char *pmul_pcap_strerror(int err);
/* The code's name without prefix ("WRITE"), for logs and tests. */
const char *pmul_pcap_errname(int err);

#endif
