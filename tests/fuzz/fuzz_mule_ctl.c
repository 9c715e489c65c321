/*
 * fuzz_mule_ctl.c: libFuzzer harness for the control protocol codec
 * (mule/mule_ctl), the part of muled a local user talks to directly.
 *
 * The input is a byte stream as muled's control socket would read it:
 * frames are cut off it with mule_ctl_frame() and decoded as requests, and
 * the same stream as replies (what mulectl reads).  Every prefix of the
 * input is tried as well (truncation loop): a prefix is "need more" or the
 * same verdict, never a different frame.  A decoded request re-encodes to
 * the same frame.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mule/mule_ctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond)
{
    if (!cond)
        abort();
}

static void
walk(const uint8_t *data, size_t size, bool request)
{
    size_t pos = 0;

    for (int guard = 0; guard < 64 && pos < size; guard++) {
        size_t flen = 0;
        int rc = mule_ctl_frame(data + pos, size - pos, request, &flen);
        if (rc != 1)
            break;
        check(flen >= MULE_CTL_HDR_LEN + 2 && flen <= size - pos);
        if (request) {
            static mule_ctl_req req;
            if (mule_ctl_req_decode(data + pos, flen, &req) == 0) {
                buf b;
                check(req.argc >= 1 && req.argc <= MULE_CTL_ARGC_MAX);
                buf_init(&b, NULL, MULE_CTL_REQ_MAX);
                check(mule_ctl_req_encode(&b, req.flags, req.argc, req.argv) == 0);
                check(b.len == flen && memcmp(b.data, data + pos, flen) == 0);
                buf_fini(&b);
            }
        } else {
            enum mule_ctl_status st;
            const uint8_t *t;
            size_t tl;
            if (mule_ctl_reply_decode(data + pos, flen, &st, &t, &tl) == 0)
                check(st <= MULE_CTL_MORE && t + tl == data + pos + flen);
        }
        pos += flen;
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    walk(data, size, true);
    walk(data, size, false);
    /* Truncation loop over the first frame: a prefix never decodes. */
    size_t flen;
    if (mule_ctl_frame(data, size, true, &flen) == 1) {
        for (size_t n = 0; n < flen; n++) {
            size_t f2;
            check(mule_ctl_frame(data, n, true, &f2) == 0);
        }
    }
    return 0;
}
