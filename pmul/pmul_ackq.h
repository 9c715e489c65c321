/*
 * pmul_ackq.h: the receiver's queue of Acks to send.
 *
 * An entry is one (transmitter, MSID) whose Ack_Info_Entry is owed, with
 * the monotonic time it becomes due (now plus a random spreading delay,
 * drawn by the caller).  Entries for the same transmitter are batched:
 * a new entry joins the earliest pending one of its transmitter, and
 * pmul_ackq_peek() returns every entry of one transmitter due within a
 * batching window, so that one Ack_PDU carries them all (docs/wire.md 7.3).
 * The missing lists are not stored here: the caller builds them from the
 * message state when the Ack_PDU is actually written, so they are current.
 *
 * Order is deterministic: by due time, then by insertion order.
 */
#ifndef PMUL_ACKQ_H
#define PMUL_ACKQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pmul/util/heap.h"
#include "pmul/util/mem.h"

typedef struct pmul_ackq_ent {
    uint32_t src;       /* transmitter (Ack_Info_Entry Source_ID) */
    uint32_t msid;
    uint64_t due_ms;
    uint64_t order;     /* insertion counter, breaks ties (the heap's
                         * insertion number) */
} pmul_ackq_ent;

typedef struct pmul_ackq {
    heap h;             /* of pmul_ackq_ent by (due_ms, order) */
    size_t cnt;         /* entries (mirrors heap_len) */
    const mem *m;
} pmul_ackq;

void pmul_ackq_init(pmul_ackq *q, const mem *m, size_t max);
void pmul_ackq_fini(pmul_ackq *q);

/*
 * Owe an Ack for (src, msid), due at due_ms.  All entries of one
 * transmitter share the earliest due time among them and the new one
 * (batching: they leave in one Ack_PDU).
 * Returns 0, PMUL_ERR_BUSY (max entries) or PMUL_ERR_NOMEM.
 */
__attribute__((warn_unused_result))
int pmul_ackq_schedule(pmul_ackq *q, uint32_t src, uint32_t msid, uint64_t due_ms);

/* Drop the entry for (src, msid) if queued. */
void pmul_ackq_remove(pmul_ackq *q, uint32_t src, uint32_t msid);

bool pmul_ackq_has(const pmul_ackq *q, uint32_t src, uint32_t msid);

/* Earliest due time, or UINT64_MAX when empty. */
uint64_t pmul_ackq_next_due(const pmul_ackq *q);

/*
 * The next batch, without removing it: the earliest entry due at or
 * before now, followed by the other entries of the same transmitter due
 * before its due time plus batch_ms, in (due, order) order.  Stores up to
 * max entries in out and returns their number (0: nothing due).  The
 * caller removes the ones it sent with pmul_ackq_remove().
 */
size_t pmul_ackq_peek(const pmul_ackq *q, uint64_t now_ms, uint64_t batch_ms,
                      pmul_ackq_ent *out, size_t max);

/* Set every entry's due time to due_fn(arg, entry) (EMCON lifted:
 * re-spread).  Entries of one transmitter get one draw, so they stay
 * batched. */
void pmul_ackq_respread(pmul_ackq *q, uint64_t (*due_fn)(void *arg, uint32_t src),
                        void *arg);

#endif
