/*
 * bsmtp_reply.h: the one SMTP/LMTP reply parser (RFC 5321 4.2, RFC 2034).
 *
 * Incremental and allocation-free: bytes from the server go in, complete
 * replies (one or more lines with the same code) come out.  The enhanced
 * status code (RFC 3463 "class.subject.detail") of the first line is
 * parsed when present.  Used by bsmtp_client; also the right parser for
 * anything else that reads SMTP replies.
 */
#ifndef BSMTP_REPLY_H
#define BSMTP_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 5321 4.5.3.1.5: a reply line is at most 512 octets with CRLF. */
#define BSMTP_REPLY_LINE_MAX 512u
/* Text kept per reply (all lines, joined with '\n'); further lines are
 * still parsed and counted but their text is dropped (truncated = true). */
#define BSMTP_REPLY_TEXT_MAX 2048u
/* Lines per reply: more is a misbehaving server (BSMTP_ERR_REPLY_TOO_LONG). */
#define BSMTP_REPLY_LINES_MAX 256u

typedef struct bsmtp_reply {
    int code;             /* 200 .. 599 */
    int enh_class;        /* 2, 4 or 5; 0: no enhanced status code */
    int enh_subject;      /* 0 .. 999 */
    int enh_detail;       /* 0 .. 999 */
    size_t nlines;
    bool truncated;       /* text lost lines past BSMTP_REPLY_TEXT_MAX */
    size_t text_len;
    /* Text after "ddd-" / "ddd " of each line, lines joined by '\n',
     * NUL-terminated.  Includes the enhanced status code as sent. */
    char text[BSMTP_REPLY_TEXT_MAX + 1];
} bsmtp_reply;

typedef struct bsmtp_reply_parser {
    uint8_t line[BSMTP_REPLY_LINE_MAX];
    size_t line_len;
    int err;              /* sticky: once set, every feed returns it */
    bsmtp_reply cur;      /* reply being assembled; cur.nlines > 0 inside */
} bsmtp_reply_parser;

void bsmtp_reply_parser_init(bsmtp_reply_parser *p);

/*
 * Consumes bytes of in[0 .. len) up to and including the line that ends
 * a reply.  Returns 1 with *out filled when a reply completed, 0 when all
 * of in was consumed without completing one (*used == len), or a negative
 * BSMTP_ERR_REPLY_SYNTAX / _TOO_LONG / BSMTP_ERR_INVAL.  An error is
 * sticky: the connection cannot be resynchronised and must be closed.
 * *used is the number of bytes consumed in every case; call again with
 * the rest to get the next pipelined reply.  Lines end with LF; a CR
 * right before it is removed, any other CR or a NUL is a syntax error.
 */
int bsmtp_reply_feed(bsmtp_reply_parser *p, const uint8_t *in, size_t len,
                     size_t *used, bsmtp_reply *out);

/* True when a reply (possibly partial) is being assembled or a partial
 * line is buffered: what the driver uses to tell a clean close from a
 * connection lost in the middle of a reply. */
bool bsmtp_reply_parser_busy(const bsmtp_reply_parser *p);

/* Class of a reply code: 2 (positive), 3 (intermediate), 4 (temporary),
 * 5 (permanent). */
static inline int
bsmtp_reply_class(const bsmtp_reply *r)
{
    return r->code / 100;
}

#endif
