/*
 * mule_node_lmtp.h: a small blocking LMTP client for mule-node (RFC 2033).
 *
 * A precursor of muled's LMTP egress: it hands one MULE->SMTP transaction
 * (mule_gw.h) to an LMTP server on an IPv4 address and waits for the
 * replies.  Blocking I/O with socket timeouts; meant for a demo node that
 * delivers a handful of messages, not for the daemon's event loop.
 */
#ifndef MULE_NODE_LMTP_H
#define MULE_NODE_LMTP_H

#include <stddef.h>

#include "mule/mule_gw.h"

/* Result of one LMTP transaction. */
typedef struct mule_lmtp_result {
    size_t rcpt_ok;             /* recipients the server delivered (2xx
                                 * after DATA) */
    size_t rcpt_fail;           /* recipients refused or failed */
    int downgraded;             /* parameters were dropped because the
                                 * server did not announce their extension */
    char last_reply[128];       /* last reply line, printable */
} mule_lmtp_result;

/*
 * Deliver txn to the LMTP server at ip:port (ip a dotted quad), saying
 * LHLO helo.  timeout_s bounds each read and write.  Returns 0 when the
 * conversation completed (look at *res for per-recipient outcomes), or -1
 * on a connection or protocol failure (res->last_reply says why).
 */
int mule_lmtp_deliver(const char *ip, unsigned port, const char *helo,
                      const mule_smtp_txn *txn, int timeout_s, mule_lmtp_result *res);

#endif
