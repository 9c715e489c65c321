/*
 * pmul_pcap.h: write UDP datagrams to a pcap file, as Wireshark reads them.
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
 * One writer is one file; it is not thread-safe.  It holds no global state.
 */
#ifndef PMUL_PCAP_H
#define PMUL_PCAP_H

#include <stddef.h>
#include <stdint.h>

/* Largest UDP payload in one IPv4 datagram: 65535 - 20 (IPv4) - 8 (UDP). */
#define PMUL_PCAP_UDP4_MAX_PAYLOAD 65507u

#define PMUL_PCAP_ERRNO_MAP(X)                                                \
    X(INVAL,     -1, "invalid argument")                                      \
    X(NOMEM,     -2, "out of memory")                                         \
    X(TOO_LONG,  -3, "UDP payload longer than 65507 octets")                  \
    X(RANGE,     -4, "timestamp beyond the pcap format's 32-bit seconds")     \
    X(OPEN,      -5, "cannot create the pcap file")                           \
    X(WRITE,     -6, "writing the pcap file failed")                          \
    X(CLOSE,     -7, "flushing or closing the pcap file failed")

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

/* Static text for a PMUL_PCAP_ERR_* code (or 0); never NULL. */
const char *pmul_pcap_strerror(int err);
/* The code's name without prefix ("WRITE"), for logs and tests. */
const char *pmul_pcap_errname(int err);

#endif
