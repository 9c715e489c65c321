/*
 * pmul_auth.h: the authenticated P_MUL mode (sans-I/O): a trailer with a
 * truncated HMAC-SHA-256 and a sequence number after every PDU, and a
 * replay window per sending node.
 *
 * Every datagram of a node in this mode is the P_MUL PDU, unchanged, then
 * a fixed trailer of PMUL_AUTH_TRAILER_LEN (30) octets (docs/pmul-auth.md):
 *
 *   off size field
 *     0    2 magic 'M' 'A' (0x4d 0x41)
 *     2    1 version (1)
 *     3    1 key ID
 *     4    8 sequence number, big-endian: epoch_ms << 16 | counter
 *    12   16 MAC: HMAC-SHA-256(key, octets 0..11 of the trailer ||
 *            IPv4 source address (4 octets) || PDU), first 16 octets
 *    28    2 Fletcher balance: makes the ACP 142 Fletcher sums over the
 *            whole UDP payload zero again, so that Wireshark, which checks
 *            the PDU's checksum over the whole payload, shows it correct
 *
 * The trailer is found from the end of the datagram (like ESP's ICV), so
 * this module never parses the PDU: the engine's codec does, after
 * pmul_auth_open() has accepted the datagram and cut the trailer off.
 * The sending node is identified by the IPv4 source address of the
 * datagram, which the MAC covers: in this project a node's Source_ID is
 * its IPv4 address and every datagram leaves from it (pmul_uv.h).
 *
 * Sequence numbers never repeat for a sender, across restarts too: the
 * high 48 bits are wall-clock milliseconds taken when the sender starts
 * (and again every PMUL_AUTH_REANCHOR_MS, and when the counter wraps, by
 * one millisecond at least), so a restarted node starts above anything it
 * sent before unless its clock was set back.
 *
 * Memory: the replay state of max_sources nodes is allocated once, in
 * pmul_auth_new(); nothing a peer sends makes the context allocate.
 * OpenSSL's HMAC context is allocated by OpenSSL, not through mem.
 */
#ifndef PMUL_AUTH_H
#define PMUL_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pmul/pmul_err.h"
#include "pmul/util/mem.h"

#define PMUL_AUTH_TRAILER_LEN   30u     /* octets after every PDU */
#define PMUL_AUTH_MAC_LEN       16u     /* truncated HMAC-SHA-256 */
#define PMUL_AUTH_KEY_MIN       16u     /* octets of the network key */
#define PMUL_AUTH_KEY_MAX       64u
#define PMUL_AUTH_VERSION       1u
#define PMUL_AUTH_WINDOW        1024u   /* replay window, sequence numbers */
#define PMUL_AUTH_MAX_SOURCES   4096u   /* default cap of tracked senders */
#define PMUL_AUTH_REANCHOR_MS   60000u  /* epoch refreshed at least this often */
#define PMUL_AUTH_MIN_AGE_MS    120000u /* smallest max_age_ms: two re-anchors */

typedef struct pmul_auth pmul_auth;

typedef struct pmul_auth_config {
    const uint8_t *key;         /* the pre-shared network key: copied */
    size_t key_len;             /* PMUL_AUTH_KEY_MIN .. PMUL_AUTH_KEY_MAX */
    uint8_t key_id;             /* sent, and required on receive */
    size_t max_sources;         /* senders with replay state; 0: default */
    uint64_t max_age_ms;        /* refuse a datagram whose epoch is older
                                 * than this (0: no age limit; else at
                                 * least PMUL_AUTH_MIN_AGE_MS) */
} pmul_auth_config;

/* Why pmul_auth_open() refused a datagram (pmul_auth_drop_name()). */
enum pmul_auth_drop {
    PMUL_AUTH_DROP_MISSING = 0, /* no trailer: a node not in this mode */
    PMUL_AUTH_DROP_BAD,         /* trailer there, but wrong version, key
                                 * ID, balance octets or MAC */
    PMUL_AUTH_DROP_REPLAY,      /* authentic, but seen already, older
                                 * than the window, or than max_age_ms */
    PMUL_AUTH_DROP_COUNT
};

typedef struct pmul_auth_stats {
    uint64_t sealed;            /* datagrams given a trailer */
    uint64_t opened;            /* datagrams accepted */
    uint64_t drops[PMUL_AUTH_DROP_COUNT];
    uint64_t sources;           /* senders with replay state now */
    uint64_t evicted;           /* senders whose state was dropped (cap) */
} pmul_auth_stats;

/*
 * Make a context: copy the key, fetch HMAC-SHA-256 from libcrypto,
 * allocate the replay state for cfg->max_sources senders through m (NULL:
 * libc; borrowed for the context's life).
 * Returns 0 and sets *out, or PMUL_ERR_INVAL (NULL argument, key length
 * out of range, max_sources above 2^20, max_age_ms not 0 and under
 * PMUL_AUTH_MIN_AGE_MS), PMUL_ERR_NOMEM, or PMUL_ERR_FATAL
 * (libcrypto has no HMAC or SHA-256).  *out is NULL on failure.
 */
__attribute__((warn_unused_result))
int pmul_auth_new(pmul_auth **out, const pmul_auth_config *cfg, const mem *m);

/* Wipe the key and free the context.  NULL is a no-op. */
void pmul_auth_free(pmul_auth *a);

/*
 * Seal one outgoing datagram in place: buf[0..pdu_len) holds the PDU;
 * the trailer is written at buf[pdu_len..pdu_len + PMUL_AUTH_TRAILER_LEN).
 * wall_ms is the wall clock in milliseconds since 1970 (the caller reads
 * the clock); ip_src is the IPv4 address the datagram will leave from
 * (host order).  Returns the datagram length, or PMUL_ERR_INVAL (NULL, or
 * pdu_len under PMUL_HDR_LEN or above 65535), PMUL_ERR_NOSPACE (cap too
 * small), PMUL_ERR_FATAL (libcrypto failed): the caller drops the
 * datagram (the engine retransmits what is not acknowledged).
 */
__attribute__((warn_unused_result))
ssize_t pmul_auth_seal(pmul_auth *a, uint64_t wall_ms, uint32_t ip_src, uint8_t *buf,
                       size_t pdu_len, size_t cap);

/*
 * Check one received datagram pkt[0..len) (borrowed, not modified) that
 * came from ip_src (host order) at wall_ms (the wall clock, as for
 * sealing): trailer, version, key ID, balance, MAC (constant time), the
 * age of its epoch when max_age_ms is set, then the replay window of
 * ip_src, which is updated only when everything else passed.  A sender's
 * epoch is at most PMUL_AUTH_REANCHOR_MS older than its send time, so
 * with synchronised clocks max_age_ms bounds how long a captured datagram
 * can be replayed to a receiver that lost its window (restart, eviction).
 * Returns the length of the PDU in pkt[0..)
 * to hand to the engine, or PMUL_ERR_AUTH_MISSING, PMUL_ERR_AUTH_BAD,
 * PMUL_ERR_AUTH_REPLAY (counted: drop the datagram), PMUL_ERR_INVAL (NULL)
 * or PMUL_ERR_FATAL (libcrypto failed: drop it).
 */
__attribute__((warn_unused_result))
ssize_t pmul_auth_open(pmul_auth *a, uint64_t wall_ms, uint32_t ip_src, const uint8_t *pkt,
                       size_t len);

/* Counters so far. */
void pmul_auth_get_stats(const pmul_auth *a, pmul_auth_stats *st);

/* "auth-missing", "auth-bad", "auth-replay"; "unknown" otherwise. */
const char *pmul_auth_drop_name(int drop);

#endif
