/*
 * dump_fmt.h: decode and print P_MUL PDUs for pmul-dump and pmul-replay.
 *
 * Decoding goes through the one codec (pmul/pmul_pdu.h).  When the codec
 * rejects a datagram only for its length or checksum, dump_pdu_decode()
 * still shows what it says: pmul_pdu_decode_ex() with those checks
 * relaxed.  Fields shown that way are marked "salvaged"; the verdict is
 * always the strict codec's verdict on the datagram as received.  No
 * header field is read outside the codec.
 *
 * Output is built in a buf (pmul/util/buf.h) as one text line or one JSON
 * object per PDU; the program writes it.  Text lines use key=value pairs
 * (style.md 8), JSON lines the same names.
 */
#ifndef DUMP_FMT_H
#define DUMP_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pmul/pmul_pcap.h"
#include "pmul/pmul_pdu.h"
#include "pmul/util/buf.h"

/* Checksum verdict of a datagram as received. */
enum dump_cksum {
    DUMP_CKSUM_UNKNOWN = 0,     /* datagram shorter than the common header */
    DUMP_CKSUM_FLETCHER,        /* ACP 142 Annex B */
    DUMP_CKSUM_INET,            /* RFC 1071 */
    DUMP_CKSUM_BAD,             /* neither */
};

/* Decoder state: scratch arrays sized for the largest possible PDU (not
 * for what a datagram claims), and a copy buffer for checksum verdicts. */
typedef struct dump_decoder {
    pmul_pdu_scratch s;
    uint8_t *copy;              /* PMUL_PDU_MAX_LEN octets */
} dump_decoder;

/* One datagram's decode result. */
typedef struct dump_pdu {
    int err;                    /* 0 or the codec's PMUL_ERR_* verdict */
    bool have_fields;           /* pdu is meaningful (err 0 or salvaged) */
    bool salvaged;              /* fields of a PDU rejected only for its
                                 * length or checksum */
    int cksum;                  /* enum dump_cksum, of the bytes received */
    uint16_t cksum_fletcher;    /* what a Fletcher checksum would be */
    size_t len;                 /* UDP payload octets */
    pmul_pdu pdu;               /* views point into the datagram and the
                                 * decoder's scratch: valid while both
                                 * are, until the next dump_pdu_decode() */
} dump_pdu;

/* Allocate the scratch arrays (libc).  Returns 0 or -1 (no memory). */
int dump_decoder_init(dump_decoder *d);
void dump_decoder_fini(dump_decoder *d);

/* Decode pkt[0..len) (borrowed) into *out; never fails as a function:
 * the verdict is out->err. */
void dump_pdu_decode(dump_decoder *d, const uint8_t *pkt, size_t len, dump_pdu *out);

/* "192.0.2.1" for an IPv4 address in host order; out has >= 16 octets. */
const char *dump_ip4(uint32_t ip, char *out, size_t outlen);

/* The frame's source or destination address as text (IPv4 or IPv6);
 * out has >= 46 octets. */
const char *dump_frame_addr(const pmul_pcap_frame *f, bool dst, char *out, size_t outlen);

/* "fletcher", "inet", "bad", "unknown". */
const char *dump_cksum_name(int cksum);

/* Append "seconds.micro" of ts_us. */
int dump_put_time(buf *b, uint64_t ts_us);

/* Append a missing list as "2,5,7-9" (text) or [[2,2],[5,5],[7,9]] (JSON). */
int dump_put_missing(buf *b, const uint16_t *words, size_t cnt, bool json);

/*
 * Append the PDU's own fields (no frame data, no newline): for text
 * "Address_PDU len=40 prio=3 src=... msid=..." and for JSON the members
 * `"type":2,"type_name":"Address_PDU",...` without braces.  Datagrams
 * without fields give the verdict only.
 */
int dump_put_pdu(buf *b, const dump_pdu *d, bool json);

/*
 * Append one whole line for a captured datagram: frame number, time,
 * addresses and ports, then dump_put_pdu(), then a newline.
 */
int dump_put_frame_pdu(buf *b, const pmul_pcap_frame *f, const dump_pdu *d, bool json);

/* Append one line for a frame that is not a clean UDP datagram (verdict:
 * a per-frame PMUL_PCAP_ERR_*), then a newline. */
int dump_put_frame_error(buf *b, const pmul_pcap_frame *f, int verdict, bool json);


#endif
