/*
 * bsmtp_server.h: a sans-I/O SMTP/LMTP server session (RFC 5321, RFC 2033)
 * for muled's ingress: client bytes in, replies out, and the decisions
 * that need the application (a recipient's route, storing the message)
 * handed to it as events.  No sockets, no clock, no TLS: the driver
 * (libuv + OpenSSL) moves bytes, keeps time and runs the handshake.
 *
 * Extensions announced: PIPELINING, SIZE n, 8BITMIME, BINARYMIME,
 * CHUNKING, SMTPUTF8, DSN, ENHANCEDSTATUSCODES, MT-PRIORITY STANAG4406,
 * DELIVERBY, and STARTTLS when configured and not yet active.  The
 * envelope is built with the one BSMTP codec (bsmtp_envelope_new and
 * bsmtp_envelope_add_rcpt check paths and parameters), so what the
 * session accepts is exactly what MULE can carry.
 *
 * Hostile clients: a command line is at most 512 octets and a text line
 * 1,000 (counted as they arrive: nothing is buffered past them; the
 * command is answered 500 5.5.2, a message with such a line 500 5.5.2
 * at its end); input before the greeting was released gets 554 and the
 * session closes (pipelining abuse); more than rcpt_max recipients get
 * 452 4.5.3; a message over size_max (declared or not) 552 5.3.4; every
 * error counts and the session closes with 421 4.7.0 after max_errors.
 * Line ends: CRLF or a bare LF end a line (stored as CRLF); a NUL in a
 * command is a syntax error; a NUL in DATA content rejects that message
 * with 554 5.6.0 (BDAT content is binary and kept as it is).
 *
 * Event flow: bsmtp_server_feed() consumes input until it needs the
 * application: BSMTP_SRV_RCPT (answer with bsmtp_server_rcpt_verdict())
 * or BSMTP_SRV_MESSAGE (store it, then bsmtp_server_message_verdict(),
 * later: the spool's fsync) or BSMTP_SRV_STARTTLS (run the handshake, then
 * bsmtp_server_tls_started()).  Until then feed() consumes nothing more;
 * the driver keeps the rest of its input and stops reading.
 */
#ifndef BSMTP_SERVER_H
#define BSMTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bsmtp/bsmtp_payload.h"
#include "pmul/util/buf.h"
#include "pmul/util/mem.h"

#define BSMTP_SRV_CMD_MAX   512u        /* command line, CRLF included */
#define BSMTP_SRV_TEXT_MAX  1000u       /* text line, CRLF included */

typedef struct bsmtp_server bsmtp_server;

typedef struct bsmtp_server_cfg {
    bool lmtp;                  /* LHLO; one reply per recipient after DATA */
    const char *hostname;       /* greeting and EHLO reply (required) */
    uint64_t size_max;          /* SIZE announced and enforced (0: 10 MiB) */
    size_t rcpt_max;            /* recipients per transaction (0: 100) */
    unsigned max_errors;        /* then 421 and close (0: 10) */
    bool starttls;              /* announce STARTTLS (the driver can do TLS) */
    bool tls_required;          /* MAIL before STARTTLS: 530 5.7.0 */
    bool delay_greeting;        /* greeting only on bsmtp_server_greet() */
} bsmtp_server_cfg;

enum bsmtp_server_event {
    BSMTP_SRV_NONE = 0,         /* all input consumed */
    BSMTP_SRV_RCPT,             /* a recipient wants a verdict */
    BSMTP_SRV_MESSAGE,          /* a whole message wants storing */
    BSMTP_SRV_STARTTLS,         /* run the TLS handshake now */
    BSMTP_SRV_CLOSE,            /* write the output, then close */
};

/* The transaction, for the events (valid until the next call on s). */
typedef struct bsmtp_server_txn {
    const char *helo;           /* client's EHLO/HELO/LHLO argument */
    bsmtp_envelope *env;        /* reverse path, parameters, recipients
                                 * accepted so far (owned by s) */
    const char *rcpt_addr;      /* RCPT event: the recipient asked for */
    const char *rcpt_params;    /* RCPT event: its parameters or NULL */
    const uint8_t *content;     /* MESSAGE event: the message, CRLF lines */
    size_t content_len;
    bool binary;                /* received with BDAT */
} bsmtp_server_txn;

/* Returns 0, BSMTP_ERR_INVAL, BSMTP_ERR_NOMEM.  Queues the greeting
 * unless cfg->delay_greeting. */
__attribute__((warn_unused_result))
int bsmtp_server_new(bsmtp_server **out, const bsmtp_server_cfg *cfg, const mem *m);
void bsmtp_server_free(bsmtp_server *s);

/* Release the delayed greeting. */
void bsmtp_server_greet(bsmtp_server *s);

/* Client bytes in[0..len): *used of them consumed.  Returns an event. */
int bsmtp_server_feed(bsmtp_server *s, const uint8_t *in, size_t len, size_t *used);
const bsmtp_server_txn *bsmtp_server_txn_get(const bsmtp_server *s);

/* Verdicts.  code 2yz accepts; 4yz/5yz refuse with enh ("5.1.2") and text. */
void bsmtp_server_rcpt_verdict(bsmtp_server *s, int code, const char *enh, const char *text);
/* For the whole message (LMTP: the same verdict for each recipient). */
void bsmtp_server_message_verdict(bsmtp_server *s, int code, const char *enh,
                                  const char *text);
void bsmtp_server_tls_started(bsmtp_server *s);
/* The connection idled out or is shut down: 421 and close. */
void bsmtp_server_shutdown(bsmtp_server *s, const char *why);

size_t bsmtp_server_output(bsmtp_server *s, const uint8_t **p);
void bsmtp_server_consumed(bsmtp_server *s, size_t n);
bool bsmtp_server_closing(const bsmtp_server *s);

#endif
