/*
 * mule_ctl.h: the control protocol between mulectl and muled, as a pure
 * codec (no sockets).  One request, then reply frames until a final one.
 *
 * Every message is one frame:
 *
 *   length  4 octets, big-endian: octets after this field, 2 .. FRAME_MAX
 *   version 1 octet: MULE_CTL_VERSION
 *   type    1 octet: 'Q' request, 'R' reply
 *   body
 *
 * Request body:  flags (1 octet, MULE_CTL_F_*), argc (1 octet, 1 ..
 *                ARGC_MAX), then argc times: length (2 octets, big-endian)
 *                and that many octets of argument (no NUL, no control
 *                character).  Whole frame at most REQ_MAX octets.
 * Reply body:    status (1 octet, enum mule_ctl_status), then text (the
 *                rest of the frame): what mulectl prints.  A long answer
 *                (a queue listing) comes as several MORE frames and one
 *                final frame, so no frame is ever larger than FRAME_MAX and
 *                neither side buffers the whole answer.
 *
 * muled renders the text itself (human lines, or JSON with MULE_CTL_F_JSON,
 * or Prometheus text for "stats --prometheus"); mulectl only copies it out,
 * so the two never disagree about a layout.
 */
#ifndef MULE_CTL_H
#define MULE_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pmul/util/buf.h"

#define MULE_CTL_VERSION    1
#define MULE_CTL_HDR_LEN    4u
#define MULE_CTL_FRAME_MAX  ((size_t)1 << 20)   /* after the length field */
#define MULE_CTL_REQ_MAX    4096u               /* whole request frame */
#define MULE_CTL_ARGC_MAX   16u
#define MULE_CTL_ARG_MAX    1024u

#define MULE_CTL_F_JSON     0x01u   /* answer in JSON */

enum mule_ctl_status {
    MULE_CTL_OK = 0,        /* done */
    MULE_CTL_FAILED = 1,    /* refused or failed: the text says why */
    MULE_CTL_USAGE = 2,     /* unknown command or wrong arguments */
    MULE_CTL_DENIED = 3,    /* this peer may not use the control socket */
    MULE_CTL_MORE = 4,      /* part of the answer; more frames follow */
};

typedef struct mule_ctl_req {
    unsigned flags;
    size_t argc;
    const char *argv[MULE_CTL_ARGC_MAX];    /* into store, NUL-terminated */
    char store[MULE_CTL_REQ_MAX];
} mule_ctl_req;

/*
 * Is a whole frame at the start of b[0..len)?  Returns 1 and sets
 * *frame_len (length field included) when it is, 0 when more octets are
 * needed, MULE_ERR_CTL_PROTO when the length field is out of range (for a
 * request: above REQ_MAX; request != 0 selects that limit).
 */
int mule_ctl_frame(const uint8_t *b, size_t len, bool request, size_t *frame_len);

/* Append a request frame to out.  Returns 0, MULE_ERR_INVAL (argc out of
 * range, an argument empty, too long or with a control character),
 * MULE_ERR_NOMEM. */
int mule_ctl_req_encode(buf *out, unsigned flags, size_t argc, const char *const *argv);

/* Decode one whole request frame (as found by mule_ctl_frame).  Returns 0
 * or MULE_ERR_CTL_PROTO; *req is self-contained (no pointers into frame). */
int mule_ctl_req_decode(const uint8_t *frame, size_t len, mule_ctl_req *req);

/* Append the reply frames carrying text[0..len) to out: text longer than
 * one frame is split into MORE frames, and the last piece (maybe empty)
 * goes with status.  status MORE itself sends a part and no final frame.
 * Returns 0, MULE_ERR_INVAL, MULE_ERR_NOMEM. */
int mule_ctl_reply_encode(buf *out, enum mule_ctl_status status, const void *text, size_t len);

/* Decode one whole reply frame.  Returns 0 and sets *status, *text (into
 * frame) and *text_len, or MULE_ERR_CTL_PROTO. */
int mule_ctl_reply_decode(const uint8_t *frame, size_t len, enum mule_ctl_status *status,
                          const uint8_t **text, size_t *text_len);

const char *mule_ctl_status_name(enum mule_ctl_status st);

#endif
