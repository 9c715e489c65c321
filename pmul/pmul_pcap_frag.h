/*
 * pmul_pcap_frag.h: IPv4 and IPv6 fragment reassembly for captures.
 *
 * Another ACP 142 implementation sends 3840-octet PDUs by default, which
 * cross an Ethernet or radio LAN as IP fragments; tshark reassembles them,
 * and so must pmul-dump and pmul-replay.  The capture reader
 * (pmul_pcap_reader_next()) feeds every frame the parser reported as
 * PMUL_PCAP_ERR_FRAGMENT into one reassembler and, when a datagram is
 * whole, parses its UDP header and hands the PDU on like any other.
 *
 * A datagram is identified by (IP version, source, destination, protocol,
 * Identification) as RFC 791 and RFC 8200 say.  Time is the capture time
 * of the frames (microseconds), never a clock.  Everything is bounded: the
 * datagrams under reassembly, the octets they hold, and how long a datagram
 * may stay incomplete; a capture of hostile fragments costs at most the
 * configured memory and is reported, never crashes the reader.
 *
 * Fragments may come in any order and more than once.  Parts that overlap
 * with the same octets are accepted (a retransmitted duplicate); parts that
 * overlap with different octets, a second "last fragment" disagreeing about
 * the length, a non-last fragment whose length is not a multiple of 8, or
 * a datagram beyond 65535 octets make the whole datagram bad (RFC 5722
 * drops overlapping IPv6 fragments, and a receiving host would not deliver
 * it either).
 */
#ifndef PMUL_PCAP_FRAG_H
#define PMUL_PCAP_FRAG_H

#include <stddef.h>
#include <stdint.h>

#include "pmul/pmul_pcap.h"
#include "pmul/util/mem.h"

typedef struct pmul_pcap_frag pmul_pcap_frag;

typedef struct pmul_pcap_frag_limits {
    size_t max_datagrams;       /* under reassembly at once (default 256);
                                 * past it the oldest is dropped */
    size_t max_bytes;           /* octets held by all of them (default
                                 * 16 MiB); past it the oldest are dropped */
    uint64_t timeout_us;        /* a datagram still incomplete this long
                                 * after its first fragment is dropped
                                 * (default 30 s, as Linux ipfrag_time) */
} pmul_pcap_frag_limits;

typedef struct pmul_pcap_frag_stats {
    uint64_t completed;         /* datagrams made whole */
    uint64_t expired;           /* dropped by timeout_us */
    uint64_t bad;               /* dropped as inconsistent (FRAG_BAD) */
    uint64_t evicted;           /* dropped by max_datagrams / max_bytes */
    size_t held_datagrams;      /* now under reassembly */
    size_t held_bytes;
} pmul_pcap_frag_stats;

/* Fill *l with the defaults listed above. */
void pmul_pcap_frag_limits_default(pmul_pcap_frag_limits *l);

/*
 * Create a reassembler.  m may be NULL (libc); it is borrowed and must
 * outlive the reassembler.  l is copied (NULL: the defaults).  Returns 0
 * and sets *out, or PMUL_PCAP_ERR_INVAL (a zero limit) or
 * PMUL_PCAP_ERR_NOMEM.
 */
__attribute__((warn_unused_result))
int pmul_pcap_frag_new(pmul_pcap_frag **out, const mem *m, const pmul_pcap_frag_limits *l);

/* Free it and everything it holds.  NULL is a no-op. */
void pmul_pcap_frag_free(pmul_pcap_frag *r);

/*
 * Add one fragment: f is a frame that pmul_pcap_parse_frame() reported as
 * PMUL_PCAP_ERR_FRAGMENT (addresses, ip_proto, ip_id, frag_offset,
 * more_frags, frag_data and ts_us are used; f is borrowed for the call).
 *
 * Returns 1 when this fragment made its datagram whole: *out and *out_len
 * are then the datagram's IP payload (the UDP header onward), valid until
 * the next call on r, and *frag_cnt (may be NULL) the number of fragments
 * it took; 0 when the fragment is held (or was a duplicate); or one of:
 *   PMUL_PCAP_ERR_FRAG_BAD  the fragment contradicts the others of its
 *                           datagram: the datagram is dropped;
 *   PMUL_PCAP_ERR_FRAG_CAP  the fragment alone exceeds max_bytes;
 *   PMUL_PCAP_ERR_NOMEM     allocation failed: the datagram is dropped;
 *   PMUL_PCAP_ERR_INVAL     f is not a fragment.
 * Each is a verdict on this frame: report it and go on.
 */
__attribute__((warn_unused_result))
int pmul_pcap_frag_push(pmul_pcap_frag *r, const pmul_pcap_frame *f,
                        const uint8_t **out, size_t *out_len, uint16_t *frag_cnt);

/* Counters and current holdings. */
void pmul_pcap_frag_get_stats(const pmul_pcap_frag *r, pmul_pcap_frag_stats *out);

#endif
