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
 */
#ifndef DUMP_MSG_H
#define DUMP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pmul/pmul_pdu.h"
#include "pmul/util/buf.h"

typedef struct dump_msgs dump_msgs;

/* Create the table; at most max_msgs messages and max_dests destinations
 * per message are tracked (more are counted as overflow).  Returns 0 or
 * -1 (no memory). */
int dump_msgs_new(dump_msgs **out, size_t max_msgs, size_t max_dests);
void dump_msgs_free(dump_msgs *m);

/*
 * Account a decoded PDU seen at ts_us.  pdu_len is the UDP payload size,
 * air_len the octets on the air (with IP and UDP headers).  Returns 0, or
 * -1 when memory ran out (the PDU is then not accounted).
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

/* Number of messages tracked (report indexes 0..count-1, first-seen
 * order). */
size_t dump_msgs_count(const dump_msgs *m);

/* Append the report of message idx (text lines, or one JSON object and
 * newline) to out.  Returns 0 or a BUF_ERR_* code. */
int dump_msgs_report_one(const dump_msgs *m, size_t idx, buf *out, bool json);

/* Totals for the summary line. */
typedef struct dump_msgs_totals {
    size_t msgs;                /* messages tracked */
    size_t complete;            /* all Data_PDUs were on the air */
    size_t delivered;           /* delivered to at least one receiver */
    size_t overflow;            /* PDUs of messages beyond max_msgs */
} dump_msgs_totals;

void dump_msgs_totals_get(const dump_msgs *m, dump_msgs_totals *t);

#endif
