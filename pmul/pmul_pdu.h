/*
 * pmul_pdu.h: the one codec for ACP 142 P_MUL PDUs (all eleven types).
 *
 * Wire format: docs/wire.md sections
 * 2 to 5.  A PDU is decoded in one pass into a plain struct (struct
 * pmul_pdu) and encoded from the same struct, so decode -> encode gives the
 * original bytes for every accepted PDU that carries the Fletcher checksum
 * and zeros in its unused fields (octets 4-5 of Ack, Discard, Request,
 * Reject and Release; the priority of the group-management PDUs).  Those
 * unused fields are ignored on receive and sent as zero.
 *
 * Variable-length lists are not allocated: the decoder fills arrays the
 * caller lends it (struct pmul_pdu_scratch), whose sizes are the caller's
 * caps.  Opaque byte fields (Data_PDU fragment, reserved fields, FEC
 * parameters) are views into the input datagram, valid while it is.
 *
 * Every length and count is checked against the bytes left, the spec limit
 * and the caller's cap before anything is read; a PDU is either fully
 * decoded or rejected with a distinct PMUL_ERR_* code (pmul_strerror()).
 */
#ifndef PMUL_PDU_H
#define PMUL_PDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pmul/pmul_err.h"

/* PDU_Type values (low six bits of octet 3). */
enum pmul_pdu_type {
    PMUL_PDU_DATA = 0x00,
    PMUL_PDU_ACK = 0x01,
    PMUL_PDU_ADDRESS = 0x02,
    PMUL_PDU_DISCARD = 0x03,
    PMUL_PDU_ANNOUNCE = 0x04,
    PMUL_PDU_REQUEST = 0x05,
    PMUL_PDU_REJECT = 0x06,
    PMUL_PDU_RELEASE = 0x07,
    PMUL_PDU_FEC_ADDRESS = 0x08,
    PMUL_PDU_EXTRA_ADDRESS = 0x12,
    PMUL_PDU_EXTRA_FEC_ADDRESS = 0x18,
};

/* MAP bits (high two bits of octet 3), for PDUs whose list may be split. */
#define PMUL_MAP_NOT_FIRST 0x80u
#define PMUL_MAP_NOT_LAST  0x40u
#define PMUL_MAP_MASK      0xC0u

/* Fixed sizes from the spec. */
#define PMUL_HDR_LEN            12u  /* common header */
#define PMUL_DATA_HDR_LEN       16u
#define PMUL_ADDRESS_HDR_LEN    24u
#define PMUL_FEC_ADDRESS_HDR_LEN 26u /* plus FEC_Parameter_Length */
#define PMUL_DEST_ENTRY_LEN     8u   /* plus Length_of_Reserved_Field */
#define PMUL_ACK_HDR_LEN        14u
#define PMUL_ACK_ENTRY_HDR_LEN  10u
#define PMUL_ACK_TIMESTAMP_LEN  8u
#define PMUL_DISCARD_LEN        16u
#define PMUL_ANNOUNCE_HDR_LEN   24u
#define PMUL_GROUP_PDU_LEN      20u  /* Request, Reject, Release */
#define PMUL_PDU_MAX_LEN        65535u

/* Which checksum a decoded PDU carried. */
enum pmul_cksum_kind {
    PMUL_CKSUM_FLETCHER = 1,    /* ACP 142 Annex B: what we emit */
    PMUL_CKSUM_INET = 2,        /* RFC 1071: accepted on receive */
};

/* One Destination_Entry of an Address-family PDU. */
typedef struct pmul_dest_entry {
    uint32_t dest_id;           /* Destination_ID */
    uint32_t msg_seq_no;        /* Message_Sequence_Number */
    const uint8_t *reserved;    /* Reserved_Field, reserved_len octets (view) */
} pmul_dest_entry;

/* One ACK_Info_Entry.  missing[] holds the raw 16-bit words as on the wire
 * (single numbers and "a, 0, b" range triples); pmul_missing_next() reads
 * them as ranges. */
typedef struct pmul_ack_entry {
    uint32_t source_id;         /* transmitter of the acknowledged message */
    uint32_t msid;              /* its Message_ID */
    const uint16_t *missing;    /* missing_cnt words; empty = complete */
    uint16_t missing_cnt;
} pmul_ack_entry;

/*
 * A decoded PDU, or the description of one to encode.  Fields of types
 * other than `type` are ignored.  Address, Extra_Address, FEC_Address and
 * Extra_FEC_Address share u.address (the FEC fields are used only by the
 * two FEC types).  Request, Reject and Release share u.group.
 */
typedef struct pmul_pdu {
    uint8_t type;               /* enum pmul_pdu_type */
    uint8_t priority;           /* octet 2 (0 for group-management PDUs) */
    uint8_t map;                /* PMUL_MAP_* bits, only where allowed */
    uint8_t cksum_kind;         /* decode: enum pmul_cksum_kind */
    uint16_t length;            /* decode: Length_of_PDU */
    uint16_t checksum;          /* decode: the checksum field as received */
    uint32_t source_id;         /* Source_ID (Ack: Source_ID_of_ACK_Sender) */
    uint32_t msid;              /* Message_ID (not in Ack_PDU) */
    union {
        struct {
            uint16_t seq;               /* Sequence_Number_of_PDU, >= 1 */
            const uint8_t *frag;        /* Fragment_of_Data (view) */
            size_t frag_len;
        } data;
        struct {
            uint16_t total_pdus;        /* Total_Number_of_PDUs */
            uint32_t expiry_time;       /* Unix seconds */
            uint8_t fec_id;             /* FEC types only */
            uint8_t fec_param_len;      /* FEC types only */
            const uint8_t *fec_params;  /* FEC types only (view) */
            uint16_t reserved_len;      /* Length_of_Reserved_Field */
            uint16_t dest_cnt;          /* 0 = Ack-Ack */
            const pmul_dest_entry *dests;
        } address;
        struct {
            uint16_t entry_cnt;         /* >= 1 */
            const pmul_ack_entry *entries;
            bool has_timestamp;         /* 8-octet Timestamp option */
            uint64_t timestamp;         /* units of 100 ms */
        } ack;
        struct {
            uint32_t expiry_time;
            uint32_t mcast_group;       /* IPv4 group as a 32-bit integer */
            uint16_t dest_cnt;          /* Count_of_Destination_IDs */
            const uint32_t *dest_ids;
        } announce;
        struct {
            uint32_t mcast_group;
        } group;
    } u;
} pmul_pdu;

/*
 * Storage the decoder fills instead of allocating.  Each capacity is also a
 * cap: a PDU whose count exceeds it is rejected with PMUL_ERR_CAP before any
 * entry is read.  Zero capacities are allowed (such PDUs are then rejected).
 */
typedef struct pmul_pdu_scratch {
    pmul_dest_entry *dests;     /* for Address-family PDUs */
    size_t dests_cap;
    pmul_ack_entry *acks;       /* for Ack_PDU entries */
    size_t acks_cap;
    uint16_t *missing;          /* all missing words of one Ack_PDU */
    size_t missing_cap;
    uint32_t *dest_ids;         /* for Announce_PDU */
    size_t dest_ids_cap;
    size_t max_pdu_len;         /* datagrams longer are PMUL_ERR_TOO_LONG; 0 = 65535 */
    uint16_t max_reserved_len;  /* per destination entry */
} pmul_pdu_scratch;

/*
 * Decode one UDP payload.  pkt is borrowed; views in *pdu point into it.
 * Returns 0, or one of the codec codes of pmul_err.h (the caller drops
 * the datagram and counts the reason).  *pdu is meaningful only on 0.
 */
__attribute__((warn_unused_result))
int pmul_pdu_decode(pmul_pdu *pdu, pmul_pdu_scratch *s, const uint8_t *pkt, size_t len);

/* Flags for pmul_pdu_decode_ex(): checks a diagnostic tool may relax. */
#define PMUL_DECODE_ANY_LENGTH 0x1u  /* Length_of_PDU differs from the
                                      * datagram: read the shorter */
#define PMUL_DECODE_ANY_CKSUM  0x2u  /* bad checksum: decode anyway, with
                                      * cksum_kind 0 */

/*
 * pmul_pdu_decode() for tools that must show what a damaged PDU says
 * (pmul-dump).  *first_err gets the code the strict decoder would have
 * returned (0: none); the checks named in flags are then relaxed and
 * decoding goes on.  Returns 0 when the PDU decoded (check *first_err to
 * know whether it is valid), or the code that stopped it.  Receivers and
 * the engine use pmul_pdu_decode(), which is this with flags 0.
 */
__attribute__((warn_unused_result))
int pmul_pdu_decode_ex(pmul_pdu *pdu, pmul_pdu_scratch *s, const uint8_t *pkt, size_t len,
                       unsigned flags, int *first_err);

/*
 * Octets pmul_pdu_encode() would write for *pdu, or a negative
 * PMUL_ERR_INVAL / PMUL_ERR_RANGE / PMUL_ERR_SEQ_ZERO / PMUL_ERR_ACK_COUNT /
 * PMUL_ERR_MAP / PMUL_ERR_TYPE when *pdu cannot be sent as it stands.
 */
ssize_t pmul_pdu_encoded_len(const pmul_pdu *pdu);

/*
 * Encode *pdu into out[0..cap) with the Fletcher checksum.  length,
 * checksum and cksum_kind of *pdu are ignored (computed).  Never writes
 * past cap.  Returns the PDU length, or PMUL_ERR_NOSPACE, or one of the
 * codes of pmul_pdu_encoded_len().
 */
__attribute__((warn_unused_result))
ssize_t pmul_pdu_encode(const pmul_pdu *pdu, uint8_t *out, size_t cap);

/* Checksums over pdu[0..len), octets 6 and 7 taken as zero (the input is
 * not modified).  len must be >= 8. */
uint16_t pmul_cksum_fletcher(const uint8_t *pdu, size_t len);
uint16_t pmul_cksum_inet(const uint8_t *pdu, size_t len);

/*
 * Walk a missing list as inclusive ranges.  *pos starts at 0; each call
 * stores the next range in [*lo, *hi] and returns true, or returns false at
 * the end of the list (or at Wireshark's "end of list indicator": a value
 * not above the previous one).  The list must have passed the decoder's or
 * encoder's checks.
 */
bool pmul_missing_next(const uint16_t *words, size_t cnt, size_t *pos,
                       uint16_t *lo, uint16_t *hi);

/* Number of sequence numbers a (valid) missing list names. */
uint32_t pmul_missing_count(const uint16_t *words, size_t cnt);

/* Capacity helpers for a configured PDU size. */
size_t pmul_pdu_data_max_frag(size_t pdu_max);
size_t pmul_pdu_address_max_dests(size_t pdu_max, size_t reserved_len);

/* Static name of a PDU type ("Address_PDU"), or "unknown". */
const char *pmul_pdu_type_name(unsigned type);
/* True for the four Address-family types. */
bool pmul_pdu_is_address(unsigned type);

#endif
