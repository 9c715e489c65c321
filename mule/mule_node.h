/*
 * mule_node.h: one MULE node's decisions, joining P_MUL and MULE.
 *
 * The daemon (tools/muled), netsim and tests all turn mail into P_MUL
 * messages and received P_MUL messages into mail through these three
 * calls, so the rules live in one place:
 *
 *   mule_node_inbound()   a P_MUL message arrived (source, MSID, its
 *                         destination list, payload): CompressedData
 *                         decode, BSMTP parse, relay (RFC 8494 section 3
 *                         with the inbound destinations: what this node
 *                         delivers, what it forwards, which recipients
 *                         fail), and the DSN for those failures, itself
 *                         relayed towards the originator;
 *   mule_node_outbound()  an SMTP transaction was accepted here (mail
 *                         submitted on this node): relay it (every
 *                         recipient is ours), plus the DSN for recipients
 *                         without a route;
 *   mule_node_report()    recipients failed after acceptance (the local
 *                         MTA said 5xx, delivery retries ran out, P_MUL
 *                         gave up): the DSN, relayed towards the
 *                         originator.
 *
 * Every result is in the same shape: P_MUL messages to send
 * (relay.outs, CompressedData payloads with priority and expiry), the
 * part this node delivers itself (relay.local_env with relay.content),
 * and likewise for the DSN (dsn.outs, dsn.local_env when the originator's
 * mailbox is on this node).  What the caller does with them (spool,
 * engine, MTA) is its business: no files, sockets, clocks or randomness
 * here; the caller passes the time, its RFC 5322 text and the DSN's
 * Message-ID.
 */
#ifndef MULE_NODE_H
#define MULE_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bsmtp/bsmtp_payload.h"
#include "mule/mule_cdt.h"
#include "mule/mule_dsn.h"
#include "mule/mule_relay.h"
#include "mule/mule_route.h"
#include "pmul/util/buf.h"
#include "pmul/util/log.h"
#include "pmul/util/mem.h"

typedef struct mule_node_config {
    const char *hostname;           /* Received "by", Reporting-MTA (required) */
    uint32_t node_id;               /* this node's P_MUL ID (required) */
    int64_t default_expiry_s;       /* P_MUL lifetime; 0: 24 h */
    unsigned max_hops;              /* 0: 100 */
    const bsmtp_limits *limits;     /* payload parsing caps; NULL: defaults */
    const mule_cdt_config *cdt;     /* compression and inflation caps (required) */
    size_t payload_max;             /* largest P_MUL message; 0: no cap */
} mule_node_config;

/* The caller's view of now (all required when a DSN may be built). */
typedef struct mule_node_clock {
    int64_t now_s;                  /* Unix seconds */
    const char *now_date;           /* now as RFC 5322 date-time */
    const char *dsn_msgid;          /* Message-ID for a DSN this call builds,
                                     * with <>; unique per call */
} mule_node_clock;

/* A received P_MUL message (borrowed for the call). */
typedef struct mule_node_in {
    uint32_t src;                   /* Source_ID */
    uint32_t msid;
    const uint32_t *dests;          /* its Destination_IDs (NULL/0: only us) */
    size_t dest_cnt;
    const uint8_t *payload;         /* CompressedData */
    size_t payload_len;
    int64_t arrival_s;              /* when it arrived (BY counts from here); 0: now */
    const char *id;                 /* our ID of it for Received "id", or NULL */
} mule_node_in;

/* A recipient that failed after acceptance (mule_node_report). */
typedef struct mule_node_failure {
    size_t rcpt_idx;                /* index into the envelope's rcpts */
    enum mule_dsn_kind kind;        /* REJECTED, EXPIRED, DISCARDED, ... */
    const char *status;             /* "5.1.1", or NULL: from reply/kind */
    const char *reply;              /* the MTA's reply text, or NULL */
    const char *remote_mta;         /* who said it, or NULL */
} mule_node_failure;

typedef struct mule_node_result {
    /* The message itself (inbound/outbound). */
    bool has_relay;
    int err;                        /* !has_relay: why (see each call) */
    mule_relay_result relay;
    /* The DSN for relay's notes (or report's failures), already relayed:
     * dsn.outs to send, dsn.local_env to deliver here. */
    bool has_dsn;
    int dsn_err;                    /* no DSN although one was considered:
                                     * MULE_ERR_DSN_NULL_SENDER,
                                     * MULE_ERR_DSN_NOT_REQUESTED, or the
                                     * code that stopped it (logged) */
    mule_relay_result dsn;
    /* Inbound: the decoded BSMTP-like payload (kept so a malformed one can
     * be stored as undeliverable). */
    buf inflated;
    const mem *m;
} mule_node_result;

/*
 * A received P_MUL message.  Returns 0 when the decision is made (look at
 * res), or a temporary failure (MULE_ERR_NOMEM, other resource errors:
 * do not acknowledge, retry later).  With 0:
 *   has_relay: relay.local_env / relay.outs / relay.notes as relayed;
 *   !has_relay and err == MULE_ERR_NOT_RESPONSIBLE: nothing of it is
 *     ours (step 3): acknowledge and drop;
 *   !has_relay and another err (MULE_ERR_BER, _NOT_MULE, _INFLATE,
 *     _TOO_BIG, _RATIO, a BSMTP_ERR_* from the payload): the message is
 *     permanently unusable: acknowledge it and keep the payload aside as
 *     undeliverable (decision 3); res->inflated holds what decoded.
 */
__attribute__((warn_unused_result))
int mule_node_inbound(const mule_node_config *cfg, const mule_route_table *routes,
                      const mule_node_in *in, const mule_node_clock *clk, const mem *m,
                      const logger *lg, mule_node_result *res);

/*
 * Mail accepted on this node: env and content (borrowed).  from is the
 * client for "Received: from" (or NULL), id our queue ID (or NULL).
 * Returns 0 (has_relay set; failures have their DSN), or a temporary
 * failure; a permanent problem with the mail itself (a payload over
 * payload_max: BSMTP_ERR_CAP / MULE_ERR_NOSPACE) comes back in res->err
 * with has_relay false: refuse the mail (5xx).
 */
/*
 * RFC 6758 at submission: when the envelope carries no MT-PRIORITY and the
 * client is trusted (mynetworks, the local socket or pickup, a verified
 * client certificate), the MT-Priority header field the MUA or an MTA
 * without the extension tunnelled supplies it.  An untrusted client's
 * header field is not believed (it could buy itself FLASH precedence).
 * The value becomes env's MT-PRIORITY parameter.  Returns true when env
 * took the header's value (false too when memory ran out: the mail then
 * goes at the default priority).
 */
bool mule_node_tunnelled_priority(bsmtp_envelope *env, const uint8_t *content, size_t len,
                                  bool trusted);

__attribute__((warn_unused_result))
int mule_node_outbound(const mule_node_config *cfg, const mule_route_table *routes,
                       const bsmtp_envelope *env, const uint8_t *content, size_t content_len,
                       const char *from, const char *id, const mule_node_clock *clk,
                       const mem *m, const logger *lg, mule_node_result *res);

/*
 * Recipients of env failed after acceptance: the DSN for them (RFC 3464),
 * relayed towards the originator.  arrival_date is when the message
 * reached this node (RFC 5322 text).  Returns 0 with has_dsn (or dsn_err
 * saying why none is due), or a temporary failure.
 */
__attribute__((warn_unused_result))
int mule_node_report(const mule_node_config *cfg, const mule_route_table *routes,
                     const bsmtp_envelope *env, const uint8_t *content, size_t content_len,
                     const mule_node_failure *fails, size_t cnt, const char *arrival_date,
                     const mule_node_clock *clk, const mem *m, const logger *lg,
                     mule_node_result *res);

/* Free everything in res.  Safe on a zeroed or failed result. */
void mule_node_result_fini(mule_node_result *res);

/* True for codes that mean "try again later" (resources), as opposed to
 * a property of the message. */
bool mule_node_is_temporary(int err);

/*
 * True for inbound results (res.err) that mean the payload is not a whole
 * message: its CompressedData ends before its BER length says, or its zlib
 * stream before its end.  P_MUL must not acknowledge it (issue 13 item 3,
 * defence in depth against a peer's wrong Total_Number_of_PDUs): the
 * transmitter then sends it again.  Other malformations are properties of
 * a whole message and are acknowledged and kept for the operator.
 */
bool mule_node_is_not_whole(int err);

#endif
