/*
 * dump_msg.h: per-message accounting for pmul-dump.
 *
 * Every decoded PDU of a capture is attributed to its message, keyed by
 * (Source_ID, MSID): which Data_PDUs were on the air (so which never
 * were), how many were sent again, the destinations with their
 * Message_Sequence_Number and Ack status, Ack-Ack and Discard, timing and
 * bytes.  Deliveries come from the receiver engines (dump_vnode.h), so
 * "delivered" means what a receiver would have made of the capture.
 * At the end, one report line per message, in first-seen order.
 *
 * Memory is bounded: past max_msgs records or max_bytes octets, the least
 * recently used record is reported at once (marked evicted) to the sink
 * given by dump_msgs_set_evict_sink() and freed.
 */
#ifndef DUMP_MSG_H
#define DUMP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pmul/pmul_pdu.h"
#include "pmul/util/buf.h"

typedef struct dump_msgs dump_msgs;

/* Create the table: at most max_msgs records (1..2^30) holding at most
 * max_bytes octets (0: no octet cap) at once, and max_dests destinations
 * per message (more are counted per message).  Returns 0 or -1 (bad
 * argument, no memory). */
int dump_msgs_new(dump_msgs **out, size_t max_msgs, size_t max_dests, size_t max_bytes);

/* Where evicted records are reported (out is borrowed for the table's
 * life; report false: evict silently, only counting). */
void dump_msgs_set_evict_sink(dump_msgs *m, buf *out, bool json, bool report);
void dump_msgs_free(dump_msgs *m);

/*
 * Account a decoded PDU seen at ts_us.  pdu_len is the UDP payload size,
 * air_len the octets on the air (with IP and UDP headers).  Returns 0, 1
 * when this PDU made its message complete on the air (every Data_PDU
 * 1..Total seen), or -1 when memory ran out (the PDU is then not
 * accounted).
 */
int dump_msgs_pdu(dump_msgs *m, uint64_t ts_us, const pmul_pdu *p,
                  size_t pdu_len, size_t air_len);

/*
 * A receiver engine (node) delivered message (src, msid) at t_us, with a
 * payload of len octets whose FNV-1a 64 is fnv.  Returns true the first
 * time this message is delivered to anyone (the caller extracts it then).
 */
bool dump_msgs_delivered(dump_msgs *m, uint32_t node, uint64_t t_us,
                         uint32_t src, uint32_t msid, size_t len, uint64_t fnv);

/* A receiver engine reported the message discarded (Discard or expiry). */
void dump_msgs_rx_discarded(dump_msgs *m, uint32_t node, uint32_t src, uint32_t msid);

/* Record what --extract made of the message (static or copied text:
 * "mule", "not-mule", an error name); files is the base path written, or
 * NULL.  Both are copied. */
void dump_msgs_extracted(dump_msgs *m, uint32_t src, uint32_t msid,
                         const char *result, const char *files);

/* Append the report of the next record still held, in first-seen order
 * (text lines, or one JSON object and newline) to out; *it starts at 0.
 * Returns 1 when one was written, 0 at the end, -1 when out failed. */
int dump_msgs_report_next(const dump_msgs *m, size_t *it, buf *out, bool json);

/* The destinations listed for (src, msid) by its Address-family PDUs so
 * far, at most cap of them into ids.  Returns how many were stored (0
 * when the message is not held). */
size_t dump_msgs_listed(const dump_msgs *m, uint32_t src, uint32_t msid, uint32_t *ids,
                        size_t cap);

/*
 * The destinations listed for (src, msid) for which has(arg, id) is true
 * (pmul-dump: the nodes with an engine), at most cap into ids.  The answer
 * is cached in the record until epoch changes (the caller bumps it when
 * has() may turn true for an id; never 0; an answer turning false need
 * not bump it, the caller then gets such ids too) or the message lists a new
 * destination, so a Data_PDU of a message listing 4096 nodes costs a copy
 * of the few with engines, not 4096 lookups.  Returns how many were
 * stored.
 */
size_t dump_msgs_route(dump_msgs *m, uint32_t src, uint32_t msid, uint64_t epoch,
                       bool (*has)(void *arg, uint32_t id), void *arg, uint32_t *ids,
                       size_t cap);

/* Capture time of the first PDU of (src, msid) held; 0 if not held. */
uint64_t dump_msgs_first_us(const dump_msgs *m, uint32_t src, uint32_t msid);

/* Total_Number_of_PDUs of (src, msid) as its latest Address-family PDU
 * said; 0 if not known (or not held). */
uint32_t dump_msgs_total(const dump_msgs *m, uint32_t src, uint32_t msid);

/* Totals for the summary line. */
typedef struct dump_msgs_totals {
    size_t msgs;                /* records created (held and evicted) */
    size_t complete;            /* all Data_PDUs were on the air */
    size_t delivered;           /* delivered to at least one receiver */
    size_t evicted;             /* records reported early and freed */
    size_t live;                /* records held now */
    size_t bytes;               /* octets they hold */
    size_t overflow;            /* PDUs not accounted (no memory) */
} dump_msgs_totals;

void dump_msgs_totals_get(const dump_msgs *m, dump_msgs_totals *t);

#endif
