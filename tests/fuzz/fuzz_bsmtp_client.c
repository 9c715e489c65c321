/*
 * fuzz_bsmtp_client.c: libFuzzer harness for the SMTP/LMTP client session
 * (bsmtp_client) against an arbitrary server byte stream.
 *
 * The first input byte picks SMTP or LMTP, BDAT or DATA and the feeding
 * step; the rest is what the "server" says.  Every prefix of the input is
 * also played (truncation loop on short inputs), each followed by the end
 * of the connection.  Properties: no crash; output drained after each
 * feed stays bounded; after eof the session is done and every recipient
 * has a verdict; a verdict is OK only with a 2yz code; texts are
 * printable and NUL-terminated.  A violated property aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bsmtp/bsmtp_client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond)
{
    if (!cond)
        abort();
}

static const char *const rcpts[] = {"RCPT TO:<a@x.test> NOTIFY=FAILURE",
                                    "RCPT TO:<b@x.test>", "RCPT TO:<c@x.test>"};
static const char body[] = "Subject: t\r\n\r\n.leading dot\nbare lf\r\nlast";

static void
drain(bsmtp_client *c)
{
    const uint8_t *p;
    size_t n, total = 0;

    while ((n = bsmtp_client_output(c, &p)) > 0) {
        check(n <= 2 * BSMTP_CLIENT_CHUNK + 4096);
        bsmtp_client_consumed(c, n);
        total += n;
        check(total < ((size_t)1 << 22));
    }
}

static void
play(uint8_t mode, const uint8_t *data, size_t size)
{
    bsmtp_client_cfg cfg = {(mode & 1) != 0, "fuzz.test"};
    bsmtp_client_txn t;
    bsmtp_client *c;
    size_t step = (mode >> 3) % 7 + 1, off = 0;

    memset(&t, 0, sizeof(t));
    t.mail_from = (mode & 2) ? "MAIL FROM:<s@h.test> BODY=BINARYMIME RET=HDRS"
                             : "MAIL FROM:<s@h.test> MT-PRIORITY=3";
    t.rcpt_to = rcpts;
    t.rcpt_cnt = 3;
    t.use_bdat = (mode & 2) != 0;
    t.needs = (mode & 4) ? 0xFFu : 0;
    t.content = (const uint8_t *)body;
    t.content_len = sizeof(body) - 1;
    if (bsmtp_client_new(&c, &cfg, &t, NULL) != 0)
        return;
    drain(c);
    while (off < size && !bsmtp_client_done(c)) {
        size_t n = size - off < step ? size - off : step;

        (void)bsmtp_client_feed(c, data + off, n);
        off += n;
        drain(c);
    }
    bsmtp_client_eof(c, NULL);
    check(bsmtp_client_done(c));
    for (size_t i = 0; i < 3; i++) {
        const bsmtp_client_result *r = bsmtp_client_rcpt(c, i);

        check(r != NULL && r->outcome != BSMTP_CLIENT_PENDING);
        check(r->outcome != BSMTP_CLIENT_OK || r->code / 100 == 2);
        check(memchr(r->text, '\0', sizeof(r->text)) != NULL);
        for (const char *p = r->text; *p != '\0'; p++)
            check(*p >= 0x20 && *p < 0x7f);
    }
    check(bsmtp_client_rcpt(c, 3) == NULL);
    bsmtp_client_free(c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    play(data[0], data + 1, size - 1);
    if (size <= 256)
        for (size_t n = 0; n + 1 < size; n++)
            play(data[0], data + 1, n);
    return 0;
}
