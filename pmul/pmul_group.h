/*
 * pmul_group.h: dynamic multicast groups (docs/wire.md 7.4).
 *
 * Two tables, both pure state (the engine sends the PDUs):
 *   - the transmitter's pool: each configured group is FREE, being
 *     REQUESTING-ed or OWNED by one of our messages, or FOREIGN (another
 *     node announced, requested or defended it recently);
 *   - the receiver's joins: one entry per (transmitter, MSID) announced to
 *     us, so that a group is joined by its first message and left by its
 *     last (JOIN_GROUP / LEAVE_GROUP events).
 * Contention: two transmitters requesting the same group at once resolve
 * it by node ID (the lower ID keeps the group, the higher one yields), so
 * no Reject storm happens even when both miss each other's Request.
 */
#ifndef PMUL_GROUP_H
#define PMUL_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pmul/util/mem.h"

enum pmul_grp_state {
    PMUL_GRP_FREE = 0,
    PMUL_GRP_REQUESTING,
    PMUL_GRP_OWNED,
    PMUL_GRP_FOREIGN,
};

/* What the engine must do about a Request_PDU from another node. */
enum pmul_grp_action {
    PMUL_GRP_ACT_NONE = 0,
    PMUL_GRP_ACT_REJECT,        /* send Reject_PDU to the requester */
    PMUL_GRP_ACT_YIELD,         /* our request loses: pick another group */
};

typedef struct pmul_grp_slot {
    uint32_t group;
    uint8_t state;              /* enum pmul_grp_state */
    uint32_t msid;              /* REQUESTING / OWNED: our message */
    uint32_t owner;             /* FOREIGN: the other node */
    uint64_t until_ms;          /* FOREIGN: considered free after this */
} pmul_grp_slot;

typedef struct pmul_grp_join {
    uint32_t group, src, msid;
    uint64_t until_ms;          /* leave by this time at the latest */
} pmul_grp_join;

typedef struct pmul_groups {
    pmul_grp_slot *pool;        /* owned, in configuration order */
    size_t pool_cnt;
    pmul_grp_join *joins;       /* owned, in join order */
    size_t join_cnt, join_cap, join_max;
    size_t group_max;           /* distinct groups joined at once (0: no
                                 * cap besides join_max) */
    uint32_t node_id;
    const mem *m;
} pmul_groups;

/* Copy the pool (borrowed).  Returns 0 or PMUL_ERR_NOMEM. */
__attribute__((warn_unused_result))
int pmul_groups_init(pmul_groups *g, const mem *m, uint32_t node_id,
                     const uint32_t *pool, size_t pool_cnt, size_t join_max);
void pmul_groups_fini(pmul_groups *g);

/* Transmitter: take the first usable group for msid (state REQUESTING).
 * Returns 0 and *group, or PMUL_ERR_NOTFOUND when none is free. */
int pmul_groups_pick(pmul_groups *g, uint64_t now_ms, uint32_t msid, uint32_t *group);
/* No Reject came: the group is ours. */
void pmul_groups_set_owned(pmul_groups *g, uint32_t group);
/* Our use ended (message finished, or Reject): FREE again. */
void pmul_groups_release(pmul_groups *g, uint32_t group);
/* Another node uses group until until_ms (Reject, Announce, Request). */
void pmul_groups_mark_foreign(pmul_groups *g, uint32_t group, uint32_t owner,
                              uint64_t until_ms);
/* A Request_PDU from requester for group: see enum pmul_grp_action.  For
 * YIELD, *msid is our message that must move to another group. */
int pmul_groups_on_request(pmul_groups *g, uint32_t requester, uint32_t group,
                           uint64_t until_ms, uint32_t *msid);
/* A Release_PDU from src: its FOREIGN group becomes FREE. */
void pmul_groups_on_release(pmul_groups *g, uint32_t src, uint32_t group);
/* State of group in our pool, or -1 when it is not in the pool. */
int pmul_groups_state(const pmul_groups *g, uint32_t group);

/* Receiver: record that (src, msid) uses group.  *first is true when the
 * group was not joined before (emit JOIN_GROUP).  An existing entry only
 * has its until_ms extended.  Returns 0, PMUL_ERR_BUSY (join_max entries,
 * or a new group beyond group_max) or PMUL_ERR_NOMEM. */
__attribute__((warn_unused_result))
int pmul_groups_join(pmul_groups *g, uint32_t group, uint32_t src, uint32_t msid,
                     uint64_t until_ms, bool *first);
/* Forget (src, msid).  Returns true when it was joined, with its *group and
 * *last true when no other entry uses that group (emit LEAVE_GROUP). */
bool pmul_groups_leave(pmul_groups *g, uint32_t src, uint32_t msid, uint32_t *group,
                       bool *last);
/* Forget the oldest entry whose until_ms <= now, like leave.  Returns false
 * when none has expired. */
bool pmul_groups_expire_one(pmul_groups *g, uint64_t now_ms, uint32_t *group, bool *last);
/* Earliest join until_ms, or UINT64_MAX. */
uint64_t pmul_groups_next_deadline(const pmul_groups *g);
bool pmul_groups_is_joined(const pmul_groups *g, uint32_t group);
/* Extend the join of (src, msid), if any, to until_ms. */
void pmul_groups_extend(pmul_groups *g, uint32_t src, uint32_t msid, uint64_t until_ms);
/* The driver could not join group: forget every entry using it.  Returns
 * how many there were. */
size_t pmul_groups_drop_group(pmul_groups *g, uint32_t group);

#endif
