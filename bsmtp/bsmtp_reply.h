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

/*
 * Service extensions a server announced in its EHLO or LHLO reply (RFC
 * 5321 4.1.1.1: one keyword per line after the first, keywords are
 * case-insensitive).  What bsmtp_client needs to choose its commands.
 */
enum bsmtp_ext_flag {
    /* The first nine have the values of mule_gw's MULE_GW_EXT_* bits so
     * that a caller may pass them through (tools/mule_node_lmtp.c checks
     * this at compile time). */
    BSMTP_EXT_SIZE = 1u << 0,         /* RFC 1870 */
    BSMTP_EXT_8BITMIME = 1u << 1,     /* RFC 6152 */
    BSMTP_EXT_BINARYMIME = 1u << 2,   /* RFC 3030 BODY=BINARYMIME */
    BSMTP_EXT_CHUNKING = 1u << 3,     /* RFC 3030 BDAT */
    BSMTP_EXT_DSN = 1u << 4,          /* RFC 3461 */
    BSMTP_EXT_MT_PRIORITY = 1u << 5,  /* RFC 6710 */
    BSMTP_EXT_DELIVERBY = 1u << 6,    /* RFC 2852 */
    BSMTP_EXT_SMTPUTF8 = 1u << 7,     /* RFC 6531 */
    BSMTP_EXT_AUTH = 1u << 8,         /* RFC 4954 */
    BSMTP_EXT_PIPELINING = 1u << 9,   /* RFC 2920 */
    BSMTP_EXT_ENHANCEDSTATUSCODES = 1u << 10, /* RFC 2034 */
};

typedef struct bsmtp_ext {
    unsigned flags;             /* enum bsmtp_ext_flag */
    uint64_t size_max;          /* SIZE argument; 0: none or no limit */
    uint64_t deliverby_min_s;   /* DELIVERBY argument; 0: none given */
} bsmtp_ext;

/*
 * Reads the extensions of a 2yz EHLO/LHLO reply (its first line is the
 * greeting domain and is skipped).  Unknown keywords are ignored; a
 * malformed numeric argument of SIZE or DELIVERBY leaves the extension
 * announced with no number (0), as a server that gave none.  Returns 0,
 * or BSMTP_ERR_INVAL for a NULL argument or a reply that is not 2yz.
 */
int bsmtp_reply_ehlo_ext(const bsmtp_reply *r, bsmtp_ext *ext);

/* Class of a reply code: 2 (positive), 3 (intermediate), 4 (temporary),
 * 5 (permanent). */
static inline int
bsmtp_reply_class(const bsmtp_reply *r)
{
    return r->code / 100;
}

#endif
