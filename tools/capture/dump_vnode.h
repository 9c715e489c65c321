/*
 * dump_vnode.h: one P_MUL engine driven on capture time (pmul-dump,
 * pmul-replay).
 *
 * The third driver of the sans-I/O engine (style.md 2): capture
 * timestamps become `now`.  A vnode wraps one pmul_engine acting as one
 * node.  Datagrams from a capture are pushed in at their timestamps; the
 * engine's timers run on the same virtual clock between them; whatever
 * the engine wants to send and every event it reports go to the caller's
 * sink, stamped with the virtual time at which they happened.  Nothing is
 * sent anywhere.
 *
 * Determinism: the engine's randomness is a xorshift seeded from the
 * vnode's seed (default: the node ID), so the same capture replayed twice
 * gives the same Acks at the same times.
 */
#ifndef DUMP_VNODE_H
#define DUMP_VNODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pmul/pmul_engine.h"
#include "pmul/util/log.h"

typedef struct vnode vnode;

/* Where a vnode's output goes.  Callbacks must not call the vnode.
 * ev->payload (DELIVERED) is valid only during the call. */
typedef struct vnode_sink {
    void (*on_tx)(void *arg, uint32_t node_id, uint64_t t_us, const pmul_addr *to,
                  const uint8_t *pkt, size_t len);
    void (*on_event)(void *arg, uint32_t node_id, uint64_t t_us, const pmul_event *ev);
    void *arg;
} vnode_sink;

typedef struct vnode_opts {
    uint32_t node_id;           /* the node the engine acts as */
    uint64_t rate_bps;          /* its pacing; 0: unpaced */
    bool emcon;                 /* receive only */
    uint64_t seed;              /* 0: node_id */
    size_t pdu_max_len;         /* largest PDU accepted; 0: 65535 (the
                                 * engine's scratch memory grows with it) */
    const logger *log;          /* engine log sink; NULL: silence */
    const pmul_config *base;    /* NULL: pmul_config_default(); else the
                                 * caps and timers to start from (node_id,
                                 * link_rate_bps, emcon and pdu_max_len are
                                 * still taken from the fields above) */
} vnode_opts;

/* Create the vnode; sink is copied.  Returns 0, or a PMUL_ERR_* from
 * pmul_engine_new (INVAL: bad node ID; NOMEM). */
int vnode_new(vnode **out, const vnode_opts *o, const vnode_sink *sink);
void vnode_free(vnode *n);

/* Run the engine's timers due up to t_us (virtual microseconds since the
 * Unix epoch) and drain its output. */
void vnode_advance(vnode *n, uint64_t t_us);

/* Advance to t_us, then push one datagram received from from_ip:from_port
 * (IPv4, host order; 0 if unknown) and drain.  Returns the engine's code
 * for the datagram (0: used; negative: why it was dropped). */
int vnode_recv(vnode *n, uint64_t t_us, uint32_t from_ip, uint16_t from_port,
               const uint8_t *pkt, size_t len);

/* The next timer of the engine in virtual microseconds, or UINT64_MAX. */
uint64_t vnode_next_deadline_us(const vnode *n);

/* True when the engine holds nothing any more. */
bool vnode_is_idle(const vnode *n);

uint32_t vnode_node_id(const vnode *n);

/* The engine's counters. */
void vnode_stats(const vnode *n, pmul_stats *out);

/* Timer rounds cut short because the engine kept asking for "now"
 * (an engine bug; reported by the tools). */
uint64_t vnode_stalls(const vnode *n);

#endif
