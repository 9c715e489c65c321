/*
 * netsim_mail.h: deterministic, real-looking mail text for netsim payloads.
 *
 * Benchmarks and tests carry text that looks like staff mail (RFC 5322
 * headers, English-like paragraphs, a quoted reply, a signature), not
 * random bytes: compression and checksum behaviour then resemble the real
 * traffic.  The same seed and parameters always give the same octets.
 */
#ifndef NETSIM_MAIL_H
#define NETSIM_MAIL_H

#include <stddef.h>
#include <stdint.h>

#include "pmul/util/buf.h"

typedef struct netsim_mail_params {
    const char *from;           /* sender node name (borrowed) */
    const char *const *to;      /* destination node names (borrowed) */
    size_t to_cnt;              /* at most 4 are listed in To: */
    const char *msg_name;       /* scenario message name, for Message-ID */
    int64_t date_s;             /* Unix time for the Date: header */
    size_t size;                /* exact size of the result in octets */
} netsim_mail_params;

/*
 * Append exactly p->size octets of mail text to out (CRLF line ends,
 * lines of at most 78 octets, US-ASCII).  A size smaller than the header
 * block yields a cut header block.  Returns 0, BUF_ERR_NOMEM or
 * BUF_ERR_CAP (the buffer's cap is too small).
 */
__attribute__((warn_unused_result))
int netsim_mail_gen(buf *out, uint64_t seed, const netsim_mail_params *p);

/* Append "Tue, 14 Nov 2023 22:13:20 +0000" for Unix time t (UTC). */
__attribute__((warn_unused_result))
int netsim_mail_date(buf *out, int64_t t);

#endif
