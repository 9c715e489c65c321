/*
 * pmul_uv.h: the libuv adapter of the P_MUL engine (L3, style.md 1-3).
 *
 * Binds ONE sans-I/O engine (pmul_engine.h) to UDP sockets and ONE
 * uv_timer_t on a libuv loop:
 *
 *   - DPORT (Address/Data/Discard), TPORT and RPORT (group management) are
 *     bound on INADDR_ANY with SO_REUSEADDR and joined to the multicast
 *     groups the engine uses: cfg->default_group and cfg->gg_group at
 *     start, and whatever PMUL_EV_JOIN_GROUP / PMUL_EV_LEAVE_GROUP ask for
 *     later;
 *   - APORT is bound on the node address: the unicast Ack_PDUs arrive
 *     there, and every datagram is sent from it, so its IP source address
 *     is the node ID the receivers answer to;
 *   - multicast TTL, IP_MULTICAST_IF (the node address) and multicast
 *     loopback (off by default: the engine drops its own Source_ID anyway)
 *     are set on the sending socket.
 *
 * After every datagram, timer expiry, submission or EMCON change the
 * adapter drains poll_tx (the engine paces: it returns 0 until its next
 * deadline), hands every event to the user callback, and re-arms the one
 * timer at next_deadline.  The engine's monotonic clock is uv_now() and
 * its wall clock time(NULL); the adapter is the only place that reads
 * them.
 *
 * Addresses: a node ID is its IPv4 address (spec README decision 7), so
 * the engine's unicast destinations are used as they are.
 */
#ifndef PMUL_UV_H
#define PMUL_UV_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "pmul/pmul_engine.h"

typedef struct pmul_uv pmul_uv;

/*
 * Called once per engine event, in order.  ev (and ev->payload for
 * DELIVERED) is valid only during the call: copy what you keep.  The
 * callback may call pmul_uv_submit(), pmul_uv_set_emcon() and
 * pmul_uv_close() on u; they take effect when the callback returns.
 * JOIN_GROUP and LEAVE_GROUP are handled by the adapter before they are
 * passed on.
 */
typedef void (*pmul_uv_event_fn)(pmul_uv *u, const pmul_event *ev, void *arg);

/* Called once, from the loop, when every handle is closed and u is gone. */
typedef void (*pmul_uv_close_fn)(void *arg);

/* Socket options beyond the engine configuration (pmul_uv_opts_default). */
typedef struct pmul_uv_opts {
    int mcast_ttl;              /* IP_MULTICAST_TTL (default 8) */
    bool mcast_loop;            /* IP_MULTICAST_LOOP (default false; true
                                 * only when several nodes share one host,
                                 * e.g. unit tests on loopback) */
    const char *mcast_if;       /* dotted quad of the interface address for
                                 * IP_MULTICAST_IF and group joins; NULL:
                                 * the node ID */
} pmul_uv_opts;

/* Fill *o with the defaults listed above. */
void pmul_uv_opts_default(pmul_uv_opts *o);

/*
 * Create the engine (cfg and env as for pmul_engine_new(): copied, with
 * env's allocator and arguments borrowed for u's life), open and bind the
 * four sockets, join the groups and start receiving.  opts may be NULL
 * (defaults).  event_fn (may be NULL) and arg are kept.  The log sink in
 * env also receives the adapter's own lines (socket errors).
 *
 * Returns 0 and sets *out, or PMUL_ERR_INVAL (NULL argument, bad
 * configuration), PMUL_ERR_NOMEM, or PMUL_ERR_FATAL (a socket could not be
 * opened, bound or joined: the reason is logged).  On failure nothing is
 * left on the loop once it has run its close callbacks; *out is NULL.
 */
__attribute__((warn_unused_result))
int pmul_uv_new(pmul_uv **out, uv_loop_t *loop, const pmul_config *cfg,
                const pmul_env *env, const pmul_uv_opts *opts,
                pmul_uv_event_fn event_fn, void *arg);

/*
 * Queue a message (pmul_engine_submit(); m and its arrays are borrowed for
 * the call).  Returns 0 and the MSID in *msid (may be NULL), or the
 * engine's codes (PMUL_ERR_INVAL, _RANGE, _EXPIRED, _BUSY, _NOMEM), or
 * PMUL_ERR_INVAL after pmul_uv_close().
 */
__attribute__((warn_unused_result))
int pmul_uv_submit(pmul_uv *u, const pmul_msg *m, uint32_t *msid);

/* Set this node's EMCON state (pmul_engine_set_emcon()). */
void pmul_uv_set_emcon(pmul_uv *u, bool on);

/* Mark a destination as in EMCON or not (pmul_engine_set_dest_emcon()). */
int pmul_uv_set_dest_emcon(pmul_uv *u, uint32_t dest, bool on);

/* The engine, for pmul_engine_stats() and pmul_engine_is_idle() only
 * (borrowed; do not drive it directly). */
const pmul_engine *pmul_uv_engine(const pmul_uv *u);

/* Datagrams handed to the kernel, and send errors seen. */
uint64_t pmul_uv_tx_datagrams(const pmul_uv *u);
uint64_t pmul_uv_tx_errors(const pmul_uv *u);

/*
 * Stop: the timer stops, sockets close, sends still queued are cancelled,
 * no more events are reported.  The engine and u are freed when the last
 * handle is closed; then close_fn(arg) runs (close_fn may be NULL).  u
 * must not be used after this call.  Calling it twice is a bug.
 */
void pmul_uv_close(pmul_uv *u, pmul_uv_close_fn close_fn, void *arg);

#endif
