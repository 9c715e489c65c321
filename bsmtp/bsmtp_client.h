/*
 * bsmtp_client.h: a sans-I/O SMTP/LMTP client session (RFC 5321, RFC 2033)
 * for one mail transaction: the hand-off of received MULE mail to the
 * node's MTA (RFC 8494 section 5).
 *
 * No sockets, no clock: the driver (bsmtp_io.c, or a test) feeds the
 * server's bytes in with bsmtp_client_feed(), writes what
 * bsmtp_client_output() returns, tells the session of a closed or timed
 * out connection with bsmtp_client_eof(), and reads one result per
 * recipient at the end.
 *
 * The conversation: 220 greeting; EHLO (SMTP) or LHLO (LMTP), with HELO
 * as the fallback when EHLO is refused and the transaction needs no
 * extension; MAIL, RCPT per recipient and DATA (all in one write with
 * PIPELINING, else one by one); the content with dot-stuffing and bare LF
 * and bare CR made CRLF (no SMTP smuggling), or for BODY=BINARYMIME one
 * "BDAT n LAST" with the exact octets; the final reply (SMTP: one for all
 * accepted recipients; LMTP: one per accepted recipient); QUIT.
 *
 * Extensions the parameters rely on (section 5.1): without CHUNKING and
 * BINARYMIME a BINARYMIME mail cannot be passed on (every recipient fails
 * permanently, 5.6.3); without SMTPUTF8 an SMTPUTF8 mail neither (5.6.7).
 * Parameters of other missing extensions (SIZE, DSN's RET/ENVID/NOTIFY/
 * ORCPT, MT-PRIORITY, BY, BODY=8BITMIME, AUTH) are removed from the
 * command lines, as a final delivery agent may ignore them, and
 * bsmtp_client_downgraded() says so for the log.
 *
 * Memory is bounded: the content is never copied whole; the body is
 * produced in pieces of at most BSMTP_CLIENT_CHUNK octets.  Server replies
 * go through the one reply parser (bsmtp_reply.h) and are untrusted: a
 * malformed reply ends the session with a temporary failure.
 */
#ifndef BSMTP_CLIENT_H
#define BSMTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bsmtp/bsmtp_reply.h"
#include "pmul/util/mem.h"

#define BSMTP_CLIENT_CHUNK 65536u

typedef struct bsmtp_client bsmtp_client;

typedef struct bsmtp_client_cfg {
    bool lmtp;                  /* LHLO; one reply per accepted recipient */
    const char *helo_name;      /* EHLO/LHLO argument (required) */
} bsmtp_client_cfg;

/* One transaction; everything borrowed for the session's life. */
typedef struct bsmtp_client_txn {
    const char *mail_from;      /* "MAIL FROM:<rp>[ params]", no CRLF */
    const char *const *rcpt_to; /* "RCPT TO:<addr>[ params]", no CRLF */
    size_t rcpt_cnt;            /* >= 1 */
    bool use_bdat;              /* BODY=BINARYMIME: BDAT required */
    unsigned needs;             /* BSMTP_EXT_* the parameters rely on */
    const uint8_t *content;     /* the RFC 5322 message */
    size_t content_len;
} bsmtp_client_txn;

enum bsmtp_client_outcome {
    BSMTP_CLIENT_PENDING = 0,   /* no verdict (yet) */
    BSMTP_CLIENT_OK,            /* the server took it (2xx) */
    BSMTP_CLIENT_TEMP,          /* try again later (4xx, connection lost) */
    BSMTP_CLIENT_PERM,          /* refused for good (5xx): DSN */
};

typedef struct bsmtp_client_result {
    int outcome;                /* enum bsmtp_client_outcome */
    int code;                   /* reply code; 0: no reply (connection) */
    char status[16];            /* enhanced status, given or derived */
    char text[256];             /* reply text, printable ASCII only */
} bsmtp_client_result;

/* Returns 0, BSMTP_ERR_INVAL (missing field, no recipient, a command line
 * with CR/LF), BSMTP_ERR_NOMEM. */
__attribute__((warn_unused_result))
int bsmtp_client_new(bsmtp_client **out, const bsmtp_client_cfg *cfg,
                     const bsmtp_client_txn *txn, const mem *m);
void bsmtp_client_free(bsmtp_client *c);

/* Bytes from the server.  Returns 0, or a BSMTP_ERR_REPLY_* code (the
 * session is then done: close the connection). */
int bsmtp_client_feed(bsmtp_client *c, const uint8_t *in, size_t len);
/* The connection closed, failed or timed out: every recipient without a
 * verdict gets a temporary failure; the session is done. */
void bsmtp_client_eof(bsmtp_client *c, const char *why);

/* What to write next (*p valid until the next call on c); 0 when nothing
 * is to be sent now.  After writing n of those octets, consumed(n). */
size_t bsmtp_client_output(bsmtp_client *c, const uint8_t **p);
void bsmtp_client_consumed(bsmtp_client *c, size_t n);

/* True when the session is over (after QUIT went out, or a failure):
 * the driver closes once the output is written. */
bool bsmtp_client_done(const bsmtp_client *c);
/* Result of recipient i (NULL if i is out of range). */
const bsmtp_client_result *bsmtp_client_rcpt(const bsmtp_client *c, size_t i);
/* Parameters were removed for a server without their extension. */
bool bsmtp_client_downgraded(const bsmtp_client *c);

#endif
