/*
 * dump_early.h: the latest Data and Address-family PDUs of the capture,
 * kept for receiver engines that did not exist when they passed
 * (pmul-dump).
 *
 * pmul-dump feeds each datagram only to the engines it concerns (the
 * nodes listed for its message), and creates engines on demand, so a
 * PDU may pass before the engine that needs it exists: Data_PDUs before
 * the first Address_PDU (a real receiver keeps them as early data), or
 * a whole message to a node whose engine was refused while the table was
 * full.  This buffer keeps copies, oldest dropped first, within a cap of
 * entries and octets; a new engine is given the kept PDUs of its
 * message first.
 */
#ifndef DUMP_EARLY_H
#define DUMP_EARLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pmul/pmul_pdu.h"

typedef struct dump_early dump_early;

/* One kept datagram; pkt is owned by the buffer, valid during the visit. */
typedef struct dump_early_ent {
    uint64_t ts_us;
    uint32_t src, msid;         /* its message */
    uint32_t from_ip, dst_ip;   /* IPv4 addresses (host order; 0: IPv6) */
    uint16_t from_port;
    bool multicast;
    bool is_address;            /* an Address-family PDU (else Data) */
    const uint8_t *pkt;
    size_t len;
    /* Visited: for an Address-family PDU, the destination IDs it lists,
     * ascending (dump_early_put() was given them), so a new engine's node
     * is looked for without decoding the PDU again.  Ignored by put. */
    const uint32_t *ids;
    size_t id_cnt;
} dump_early_ent;

typedef struct dump_early_stats {
    uint64_t kept;              /* datagrams copied in */
    uint64_t dropped;           /* pushed out by newer ones */
    uint64_t too_big;           /* longer than the whole octet cap */
    uint64_t replayed;          /* given to a node later (per node) */
    uint64_t replay_failed;     /* lookups that ran out of memory */
    size_t bytes, peak_bytes;
} dump_early_stats;

/* At most max_ents datagrams and max_bytes octets of them.  Returns 0 or
 * -1 (bad argument, no memory). */
int dump_early_new(dump_early **out, size_t max_ents, size_t max_bytes);
void dump_early_free(dump_early *b);

/* Keep a copy of *e (e->pkt is borrowed) and of the IDs of dests[0..
 * dest_cnt) (its decoded destination list, for an Address-family PDU; the
 * IDs are not charged to max_bytes: an entry takes 8 octets of the PDU,
 * so they add at most half of it).  Never fails: on no memory the
 * datagram is counted as dropped. */
void dump_early_put(dump_early *b, const dump_early_ent *e, const pmul_dest_entry *dests,
                    size_t dest_cnt);

/* Call fn for every kept datagram of (src, msid), oldest first; fn must
 * not call the buffer.  Returns how many were visited. */
size_t dump_early_each(dump_early *b, uint32_t src, uint32_t msid,
                       void (*fn)(void *arg, const dump_early_ent *e), void *arg);

void dump_early_stats_get(const dump_early *b, dump_early_stats *out);

#endif
