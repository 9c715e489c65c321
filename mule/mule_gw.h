/*
 * mule_gw.h: the two gateway conversions of RFC 8494 sections 4 and 5,
 * between an SMTP transaction and a MULE envelope.
 *
 * SMTP -> MULE (section 4): the reverse-path, MAIL parameters and
 * recipients (each with its RCPT parameters) an SMTP server accepted
 * become one bsmtp_envelope; the caller then hands it with the message to
 * mule_relay_run() (with in_dests NULL), which forms the payloads.  A
 * message received with BDAT (CHUNKING) is passed in whole; BODY=BINARYMIME
 * stays on the FROM-line (section 4.1).
 *
 * MULE -> SMTP (section 5): a received envelope (or the local part of a
 * relay result) becomes the command lines an SMTP/LMTP client sends:
 * "MAIL FROM:<...> params" and one "RCPT TO:<...> params" per recipient,
 * with DATA or, for BODY=BINARYMIME, BDAT (section 5 step 3), plus the
 * SMTP extensions the parameters rely on, so the client can check them
 * against the server's EHLO reply (section 5.1).
 */
#ifndef MULE_GW_H
#define MULE_GW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bsmtp/bsmtp_payload.h"
#include "pmul/util/mem.h"

/* One recipient of an SMTP transaction (borrowed strings). */
typedef struct mule_smtp_rcpt {
    const char *addr;           /* forward-path without <> */
    const char *params;         /* RCPT parameters text, or NULL */
} mule_smtp_rcpt;

/*
 * Section 4: build an envelope from an SMTP transaction.  All input is
 * borrowed and re-validated by bsmtp (paths, parameters, SMTPUTF8).
 * *bad_rcpt (may be NULL) receives the index of the recipient that was
 * refused, or SIZE_MAX when the MAIL part was.
 *
 * Returns 0 and *out (free with bsmtp_envelope_free()), or one of:
 *   a BSMTP_ERR_* code (bsmtp_is_err()), passed through unchanged: reject
 *     the transaction (a 501/555 in the SMTP server); the code says why;
 *   MULE_ERR_INVAL (NULL arguments, no recipients);
 *   MULE_ERR_NOMEM (temp-fail).
 */
__attribute__((warn_unused_result))
int mule_gw_from_smtp(const char *reverse_path, const char *mail_params,
                      const mule_smtp_rcpt *rcpts, size_t rcpt_cnt, const mem *m,
                      bsmtp_envelope **out, size_t *bad_rcpt);

/* SMTP extensions that the parameters of a transaction use (EHLO names). */
#define MULE_GW_EXT_SIZE        0x001u
#define MULE_GW_EXT_8BITMIME    0x002u
#define MULE_GW_EXT_BINARYMIME  0x004u
#define MULE_GW_EXT_CHUNKING    0x008u
#define MULE_GW_EXT_DSN         0x010u
#define MULE_GW_EXT_MT_PRIORITY 0x020u
#define MULE_GW_EXT_DELIVERBY   0x040u
#define MULE_GW_EXT_SMTPUTF8    0x080u
#define MULE_GW_EXT_AUTH        0x100u

/* A transaction for an SMTP/LMTP client (section 5 step 3). */
typedef struct mule_smtp_txn {
    char *mail_from;            /* "MAIL FROM:<rp>[ params]", no CRLF */
    char **rcpt_to;             /* "RCPT TO:<addr>[ params]", no CRLF */
    size_t rcpt_cnt;
    bool use_bdat;              /* BODY=BINARYMIME: send with BDAT */
    unsigned needs;             /* MULE_GW_EXT_* the parameters rely on */
    const uint8_t *content;     /* the message (borrowed from the caller) */
    size_t content_len;
    const mem *m;
} mule_smtp_txn;

/*
 * Section 5: the SMTP transaction for env, limited to the recipients
 * idx[0..cnt) (idx NULL: all).  content is borrowed into the result.
 *
 * Returns 0 (free with mule_gw_txn_fini()), or MULE_ERR_INVAL (NULL env,
 * bad index, no recipients), MULE_ERR_NOMEM.
 */
__attribute__((warn_unused_result))
int mule_gw_to_smtp(const bsmtp_envelope *env, const size_t *idx, size_t cnt,
                    const uint8_t *content, size_t content_len, const mem *m,
                    mule_smtp_txn *out);

/* Free a transaction.  Safe on a zeroed or failed one. */
void mule_gw_txn_fini(mule_smtp_txn *t);

#endif
