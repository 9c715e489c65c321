/*
 * fuzz_bsmtp_server.c: libFuzzer harness for the SMTP/LMTP server session
 * (bsmtp_server) against an arbitrary client byte stream.
 *
 * The first input byte picks SMTP or LMTP, a delayed greeting, the size
 * limit and the feeding step; the rest is what the "client" sends.  Every
 * event gets a verdict derived from the input (accept or refuse).  Short
 * inputs also run every prefix (truncation loop).  Properties: no crash;
 * feed always makes progress or reports an event; every reply line is
 * "ddd" + SP or '-' + text + CRLF with a code 200..599; the output of one
 * step stays bounded; content of a MESSAGE event never exceeds the limit.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bsmtp/bsmtp_server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond)
{
    if (!cond)
        abort();
}

static void
check_replies(const uint8_t *p, size_t n)
{
    size_t i = 0;

    while (i < n) {
        const uint8_t *nl = memchr(p + i, '\n', n - i);
        size_t len;

        check(nl != NULL);
        len = (size_t)(nl - (p + i)) + 1;
        check(len >= 6 && p[i + len - 2] == '\r');
        for (int k = 0; k < 3; k++)
            check(p[i + k] >= '0' && p[i + k] <= '9');
        check(p[i] >= '2' && p[i] <= '5');
        check(p[i + 3] == ' ' || p[i + 3] == '-');
        i += len;
    }
}

static void
drain(bsmtp_server *s)
{
    const uint8_t *p;
    size_t n;

    while ((n = bsmtp_server_output(s, &p)) > 0) {
        check(n < 65536);
        check_replies(p, n);
        bsmtp_server_consumed(s, n);
    }
}

static void
play(uint8_t mode, const uint8_t *data, size_t size)
{
    bsmtp_server_cfg cfg;
    bsmtp_server *s;
    size_t off = 0, step = (mode >> 4) % 5 + 1, guard = 0;

    memset(&cfg, 0, sizeof(cfg));
    cfg.lmtp = (mode & 1) != 0;
    cfg.hostname = "fuzz.test";
    cfg.delay_greeting = (mode & 2) != 0;
    cfg.size_max = (mode & 4) ? 64 : 0;
    cfg.starttls = (mode & 8) != 0;
    if (bsmtp_server_new(&s, &cfg, NULL) != 0)
        return;
    drain(s);
    while (off < size && guard++ < size * 4 + 16) {
        size_t used = 0, n = size - off < step ? size - off : step;
        int ev = bsmtp_server_feed(s, data + off, n, &used);

        check(used <= n);
        off += used;
        drain(s);
        if (ev == BSMTP_SRV_RCPT) {
            const bsmtp_server_txn *t = bsmtp_server_txn_get(s);

            check(t->rcpt_addr != NULL && t->env != NULL);
            bsmtp_server_rcpt_verdict(s, (data[off % size] & 1) ? 250 : 550, "5.1.2", "x");
        } else if (ev == BSMTP_SRV_MESSAGE) {
            const bsmtp_server_txn *t = bsmtp_server_txn_get(s);

            check(t->content_len <= (cfg.size_max ? cfg.size_max : 10u << 20));
            bsmtp_server_message_verdict(s, (data[off % size] & 1) ? 250 : 452, "4.3.1", "y");
        } else if (ev == BSMTP_SRV_STARTTLS) {
            bsmtp_server_tls_started(s);
        } else if (ev == BSMTP_SRV_CLOSE) {
            break;
        } else {
            check(used == n);
        }
        drain(s);
        if (cfg.delay_greeting && off > size / 2)
            bsmtp_server_greet(s);
    }
    bsmtp_server_shutdown(s, NULL);
    drain(s);
    bsmtp_server_free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    play(data[0], data + 1, size - 1);
    if (size <= 200)
        for (size_t n = 0; n + 1 < size; n++)
            play(data[0], data + 1, n);
    return 0;
}
