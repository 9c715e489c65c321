/*
 * bsmtp_io.h: the libuv driver of one bsmtp_client session (L3 adapter):
 * connect to the MTA over TCP (numeric IPv4/IPv6, no DNS) or a Unix
 * socket, move bytes between the socket and the session, enforce the
 * timeouts, and report the per-recipient results once.  Nothing blocks.
 */
#ifndef BSMTP_IO_H
#define BSMTP_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "bsmtp/bsmtp_client.h"

enum bsmtp_io_kind { BSMTP_IO_TCP = 1, BSMTP_IO_UNIX = 2 };

typedef struct bsmtp_io_target {
    int kind;                   /* enum bsmtp_io_kind */
    char host[64];              /* TCP: numeric IPv4 or IPv6 */
    uint16_t port;
    char path[108];             /* UNIX: socket path */
} bsmtp_io_target;

typedef struct bsmtp_io bsmtp_io;

/* Called once per session, on the loop, with the finished session (every
 * recipient has a verdict; c is freed right after the callback). */
typedef void (*bsmtp_io_cb)(bsmtp_io *io, const bsmtp_client *c, void *arg);

/*
 * "lmtp:HOST:PORT", "lmtp:[IPv6]:PORT", "lmtp:unix:/PATH", "smtp:HOST:PORT"
 * into *t and *lmtp.  Returns 0 or BSMTP_ERR_INVAL.
 */
int bsmtp_io_target_parse(const char *text, bool *lmtp, bsmtp_io_target *t);

/*
 * Start one session.  cfg and txn strings are copied; txn->content is
 * borrowed until the callback.  timeout_ms bounds every wait (connect,
 * each reply, each write); the whole session is bounded by 4 times it.
 * Returns 0 (the callback will come), or BSMTP_ERR_INVAL, BSMTP_ERR_NOMEM
 * (no callback).
 */
__attribute__((warn_unused_result))
int bsmtp_io_deliver(uv_loop_t *loop, const bsmtp_io_target *t, const bsmtp_client_cfg *cfg,
                     const bsmtp_client_txn *txn, uint64_t timeout_ms, bsmtp_io_cb cb,
                     void *arg, bsmtp_io **out);

/* Give up now (shutdown): recipients without a verdict get a temporary
 * failure; the callback still comes, from the loop. */
void bsmtp_io_cancel(bsmtp_io *io);

#endif
