/*
 * fuzz_bsmtp_reply.c: libFuzzer harness for bsmtp_reply_feed().
 *
 * Each input is fed three ways: whole (taking pipelined replies one call
 * at a time), byte by byte, and split at a point taken from the first
 * input byte.  All three must yield the same sequence of replies and the
 * same final error, every reply must respect the parser's invariants
 * (code 200..599, text NUL-terminated at text_len within the cap, lines
 * within the cap), *used must never exceed what was offered, and every
 * 2yz reply must be readable as an EHLO reply by bsmtp_reply_ehlo_ext().  Any
 * violated property aborts, which libFuzzer reports as a crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bsmtp/bsmtp_reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_REPLIES 64

struct run {
    int codes[MAX_REPLIES];
    size_t lens[MAX_REPLIES];
    int n;
    int err;
};

static void
check(int cond)
{
    if (!cond)
        abort();
}

static void
check_reply(const bsmtp_reply *r)
{
    check(r->code >= 200 && r->code <= 599);
    check(r->text_len <= BSMTP_REPLY_TEXT_MAX);
    check(r->text[r->text_len] == '\0');
    check(strlen(r->text) == r->text_len);
    check(r->nlines >= 1 && r->nlines <= BSMTP_REPLY_LINES_MAX);
    check(r->enh_class == 0 || r->enh_class == r->code / 100);
}

/* Feeds data in chunks of at most step bytes (0: whole). */
static void
run_feed(const uint8_t *data, size_t size, size_t step, struct run *out)
{
    static bsmtp_reply_parser p;
    static bsmtp_reply r;
    size_t off = 0;

    memset(out, 0, sizeof(*out));
    bsmtp_reply_parser_init(&p);
    while (off < size) {
        size_t chunk = step == 0 || size - off < step ? size - off : step;
        size_t used = 0;
        int rc = bsmtp_reply_feed(&p, data + off, chunk, &used, &r);

        check(used <= chunk);
        off += used;
        if (rc < 0) {
            out->err = rc;
            return;
        }
        if (rc == 1) {
            check_reply(&r);
            if (r.code / 100 == 2) {
                bsmtp_ext ext;

                check(bsmtp_reply_ehlo_ext(&r, &ext) == 0);
                check((ext.flags >> 11) == 0);
            }
            if (out->n < MAX_REPLIES) {
                out->codes[out->n] = r.code;
                out->lens[out->n] = r.text_len;
            }
            out->n++;
        } else {
            check(used == chunk);
        }
    }
}

static void
same(const struct run *a, const struct run *b)
{
    int i;

    check(a->n == b->n && a->err == b->err);
    for (i = 0; i < a->n && i < MAX_REPLIES; i++)
        check(a->codes[i] == b->codes[i] && a->lens[i] == b->lens[i]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct run whole, bytes, split;

    run_feed(data, size, 0, &whole);
    run_feed(data, size, 1, &bytes);
    run_feed(data, size, size > 0 ? (size_t)data[0] % 17 + 2 : 0, &split);
    same(&whole, &bytes);
    same(&whole, &split);
    return 0;
}
