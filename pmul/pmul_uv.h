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
 * The application owns the engine: it creates it, calls it directly, and
 * then calls pmul_uv_service().  After every datagram, timer expiry and
 * such call the adapter hands every event to the user callback first (so
 * that, in accept mode, the application stores a delivered message and
 * accepts it before anything else happens), then drains poll_tx (the
 * engine paces: it returns 0 until its next deadline), and re-arms the one
 * timer at next_deadline.  The engine's monotonic clock is uv_now() and
 * its wall clock time(NULL); the adapter is the only place that reads
 * them.
 *
 * Addresses: a node ID is its IPv4 address (spec README decision 7), so
 * the engine's unicast destinations are used as they are.
 *
 * Authenticated mode (pmul_auth.h, docs/pmul-auth.md): with an auth
 * context in the options, every datagram sent gets the MAC trailer (so it
 * is PMUL_AUTH_TRAILER_LEN octets longer than the engine's PDU), and every
 * datagram received must carry a valid one: the trailer is checked and
 * cut off before the engine sees the PDU, and a datagram that fails is
 * dropped and counted (pmul_auth_get_stats()).  Such a node talks only to
 * nodes in the same mode with the same key.
 */
#ifndef PMUL_UV_H
#define PMUL_UV_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "pmul/pmul_auth.h"
#include "pmul/pmul_engine.h"

typedef struct pmul_uv pmul_uv;

/*
 * Called once per engine event, in order.  ev (and ev->payload for
 * DELIVERED) is valid as pmul_engine_poll_event() says (in accept mode
 * until the message is accepted or deferred).  The callback may call the
 * engine directly (pmul_engine_accept(), _submit(), ...; with
 * pmul_uv_now(u)), then pmul_uv_service(u), and pmul_uv_close(u): the
 * service pass it asks for runs when the callback returns.  JOIN_GROUP and
 * LEAVE_GROUP are handled by the adapter before they are passed on.
 */
typedef void (*pmul_uv_event_fn)(pmul_uv *u, const pmul_event *ev, void *arg);

/* Called once, from the loop, when every handle is closed and u is gone. */
typedef void (*pmul_uv_close_fn)(void *arg);

/* Socket options and environment (pmul_uv_opts_default). */
typedef struct pmul_uv_opts {
    int mcast_ttl;              /* IP_MULTICAST_TTL (default 8) */
    bool mcast_loop;            /* IP_MULTICAST_LOOP (default false; true
                                 * only when several nodes share one host,
                                 * e.g. unit tests on loopback) */
    const char *mcast_if;       /* dotted quad of the interface address for
                                 * IP_MULTICAST_IF and group joins; NULL:
                                 * the node ID */
    const mem *mem;             /* the adapter's allocator (NULL: libc);
                                 * borrowed for u's life */
    logger log;                 /* the adapter's own lines (socket errors,
                                 * drops); fn NULL: silence */
    pmul_auth *auth;            /* authenticated mode: seal and open every
                                 * datagram with it (borrowed for u's
                                 * life); NULL: plain P_MUL (default) */
} pmul_uv_opts;

/* Fill *o with the defaults listed above. */
void pmul_uv_opts_default(pmul_uv_opts *o);

/*
 * Bind the application's engine e (borrowed: the application created it
 * and frees it, after u is closed) to four UDP sockets and a timer on
 * loop: open and bind the sockets for the ports and groups of e's
 * configuration, join the groups and start receiving.  opts may be NULL
 * (defaults).  event_fn (may be NULL) and arg are kept.
 *
 * Datagrams up to 65535 octets are received whatever e sends (another
 * implementation's PDUs may be larger than ours); the socket receive
 * buffer is sized for a burst of them.
 *
 * Returns 0 and sets *out, or PMUL_ERR_INVAL (NULL argument), PMUL_ERR_NOMEM,
 * or PMUL_ERR_FATAL (a socket could not be opened, bound or joined: the
 * reason is logged).  On failure nothing is left on the loop once it has
 * run its close callbacks; *out is NULL.
 */
__attribute__((warn_unused_result))
int pmul_uv_new(pmul_uv **out, uv_loop_t *loop, pmul_engine *e, const pmul_uv_opts *opts,
                pmul_uv_event_fn event_fn, void *arg);

/*
 * The time to pass to a direct engine call: uv_now() of the loop and the
 * wall clock.  The adapter is the one place that reads the clocks.
 */
pmul_now pmul_uv_now(const pmul_uv *u);

/*
 * After any direct call on the engine (submit, accept, defer, cancel,
 * set_emcon, restore_done, ...): send what it now has to send, hand its
 * events to the callback, re-arm the timer.  Inside an event callback it
 * only asks for another pass when the callback returns.  A no-op after
 * pmul_uv_close().
 */
void pmul_uv_service(pmul_uv *u);

/* Datagrams handed to the kernel, send errors seen, and datagrams that
 * arrived truncated (longer than 65535: never, or a kernel problem). */
uint64_t pmul_uv_tx_datagrams(const pmul_uv *u);
uint64_t pmul_uv_tx_errors(const pmul_uv *u);
uint64_t pmul_uv_rx_truncated(const pmul_uv *u);

/*
 * Stop: close every handle.  close_fn (may be NULL) is called from the loop
 * once all are closed and u is freed; the engine is the application's and
 * is not touched after this call.  Datagrams the engine still had queued
 * are not sent.
 */
void pmul_uv_close(pmul_uv *u, pmul_uv_close_fn close_fn, void *arg);

#endif
