/*
 * mule_ctl.c: codec of the control protocol (mule_ctl.h has the format).
 * Both directions check every length before use: a request comes from a
 * local user we may not trust, a reply from a daemon that may be another
 * version.
 */
#include "mule/mule_ctl.h"

#include <stddef.h>
#include <string.h>

#include "mule/mule_err.h"
#include "pmul/util/cur.h"

enum { TYPE_REQ = 'Q', TYPE_REPLY = 'R' };

int
mule_ctl_frame(const uint8_t *b, size_t len, bool request, size_t *frame_len)
{
    size_t max = request ? MULE_CTL_REQ_MAX - MULE_CTL_HDR_LEN : MULE_CTL_FRAME_MAX;

    if (frame_len == NULL)
        return MULE_ERR_INVAL;
    if (len < MULE_CTL_HDR_LEN)
        return 0;       /* an empty buffer may have no storage yet */
    if (b == NULL)
        return MULE_ERR_INVAL;
    uint32_t n;
    cur c;
    cur_init(&c, b, len);
    (void)cur_u32be(&c, &n);
    if (n < 2 || n > max)
        return MULE_ERR_CTL_PROTO;
    if (len - MULE_CTL_HDR_LEN < n)
        return 0;
    *frame_len = MULE_CTL_HDR_LEN + n;
    return 1;
}

/* An argument is printable text: no NUL, no C0 control, no DEL (UTF-8
 * octets >= 0x80 pass: a queue ID or path is ASCII anyway). */
static bool
arg_ok(const uint8_t *p, size_t n)
{
    if (n == 0 || n > MULE_CTL_ARG_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x20 || p[i] == 0x7f)
            return false;
    return true;
}

int
mule_ctl_req_encode(buf *out, unsigned flags, size_t argc, const char *const *argv)
{
    if (out == NULL || argv == NULL || argc == 0 || argc > MULE_CTL_ARGC_MAX || flags > 0xff)
        return MULE_ERR_INVAL;
    size_t total = MULE_CTL_HDR_LEN + 4;
    for (size_t i = 0; i < argc; i++) {
        if (argv[i] == NULL)
            return MULE_ERR_INVAL;
        size_t n = strlen(argv[i]);
        if (!arg_ok((const uint8_t *)argv[i], n))
            return MULE_ERR_INVAL;
        total += 2 + n;
    }
    if (total > MULE_CTL_REQ_MAX)
        return MULE_ERR_INVAL;

    uint8_t frame[MULE_CTL_REQ_MAX];
    wcur w;
    wcur_init(&w, frame, sizeof frame);
    wcur_u32be(&w, (uint32_t)(total - MULE_CTL_HDR_LEN));
    wcur_u8(&w, MULE_CTL_VERSION);
    wcur_u8(&w, TYPE_REQ);
    wcur_u8(&w, (uint8_t)flags);
    wcur_u8(&w, (uint8_t)argc);
    for (size_t i = 0; i < argc; i++) {
        size_t n = strlen(argv[i]);
        wcur_u16be(&w, (uint16_t)n);
        wcur_bytes(&w, argv[i], n);
    }
    return buf_append(out, frame, total);
}

int
mule_ctl_req_decode(const uint8_t *frame, size_t len, mule_ctl_req *req)
{
    size_t flen;
    uint8_t ver, type, flags, argc;
    cur c;

    if (req == NULL)
        return MULE_ERR_INVAL;
    memset(req, 0, offsetof(mule_ctl_req, store));
    if (mule_ctl_frame(frame, len, true, &flen) != 1 || flen != len)
        return MULE_ERR_CTL_PROTO;
    cur_init(&c, frame + MULE_CTL_HDR_LEN, len - MULE_CTL_HDR_LEN);
    if (!cur_u8(&c, &ver) || !cur_u8(&c, &type) || !cur_u8(&c, &flags) || !cur_u8(&c, &argc))
        return MULE_ERR_CTL_PROTO;
    if (ver != MULE_CTL_VERSION || type != TYPE_REQ || argc == 0 || argc > MULE_CTL_ARGC_MAX)
        return MULE_ERR_CTL_PROTO;

    /* Each argument plus its NUL fits in store: the frame is no longer
     * than store and every argument had two length octets before it. */
    size_t used = 0;
    for (size_t i = 0; i < argc; i++) {
        uint16_t n;
        const uint8_t *p;
        if (!cur_u16be(&c, &n) || !cur_view(&c, &p, n) || !arg_ok(p, n) ||
            (size_t)n + 1 > sizeof req->store - used)
            return MULE_ERR_CTL_PROTO;
        memcpy(req->store + used, p, n);
        req->store[used + n] = '\0';
        req->argv[i] = req->store + used;
        used += (size_t)n + 1;
    }
    if (c.left != 0)
        return MULE_ERR_CTL_PROTO;
    req->flags = flags;
    req->argc = argc;
    return 0;
}

static int
reply_frame(buf *out, enum mule_ctl_status status, const uint8_t *text, size_t n)
{
    uint8_t hdr[MULE_CTL_HDR_LEN + 3];
    wcur w;

    wcur_init(&w, hdr, sizeof hdr);
    wcur_u32be(&w, (uint32_t)(n + 3));
    wcur_u8(&w, MULE_CTL_VERSION);
    wcur_u8(&w, TYPE_REPLY);
    wcur_u8(&w, (uint8_t)status);
    int rc = buf_append(out, hdr, sizeof hdr);
    if (rc == 0 && n > 0)
        rc = buf_append(out, text, n);
    return rc;
}

int
mule_ctl_reply_encode(buf *out, enum mule_ctl_status status, const void *text, size_t len)
{
    const size_t piece = MULE_CTL_FRAME_MAX - 3;
    const uint8_t *p = text;

    if (out == NULL || (text == NULL && len > 0) || (unsigned)status > MULE_CTL_MORE)
        return MULE_ERR_INVAL;
    while (len > piece) {
        int rc = reply_frame(out, MULE_CTL_MORE, p, piece);
        if (rc < 0)
            return rc;
        p += piece;
        len -= piece;
    }
    return reply_frame(out, status, p, len);
}

int
mule_ctl_reply_decode(const uint8_t *frame, size_t len, enum mule_ctl_status *status,
                      const uint8_t **text, size_t *text_len)
{
    size_t flen;

    if (status == NULL || text == NULL || text_len == NULL)
        return MULE_ERR_INVAL;
    if (mule_ctl_frame(frame, len, false, &flen) != 1 || flen != len || len < MULE_CTL_HDR_LEN + 3)
        return MULE_ERR_CTL_PROTO;
    if (frame[4] != MULE_CTL_VERSION || frame[5] != TYPE_REPLY || frame[6] > MULE_CTL_MORE)
        return MULE_ERR_CTL_PROTO;
    *status = (enum mule_ctl_status)frame[6];
    *text = frame + MULE_CTL_HDR_LEN + 3;
    *text_len = len - MULE_CTL_HDR_LEN - 3;
    return 0;
}

const char *
mule_ctl_status_name(enum mule_ctl_status st)
{
    switch (st) {
    case MULE_CTL_OK: return "ok";
    case MULE_CTL_FAILED: return "failed";
    case MULE_CTL_USAGE: return "usage";
    case MULE_CTL_DENIED: return "denied";
    case MULE_CTL_MORE: return "more";
    }
    return "unknown";
}
