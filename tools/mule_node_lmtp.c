/*
 * NAME
 *	mule_node_lmtp 3
 * SUMMARY
 *	blocking LMTP client of the mule-node demo program
 * SYNOPSIS
 *	#include "tools/mule_node_lmtp.h"
 * DESCRIPTION
 *	Speaks RFC 2033 LMTP to one server: greeting, LHLO, MAIL FROM, one
 *	RCPT TO per recipient, DATA with dot-stuffing and CRLF line ends,
 *	then one reply per accepted recipient, QUIT.  The command lines come
 *	from mule_gw_to_smtp() (RFC 8494 section 5).  When the server does
 *	not announce an extension a parameter relies on (section 5.1), the
 *	parameters are dropped and the result says so; MT-PRIORITY and DSN
 *	requests are advisory for a final delivery agent.
 *
 *	This is a precursor of muled's LMTP egress, which will be an
 *	asynchronous libuv client built on the bsmtp line parser.
 * SECURITY
 *	Server replies are untrusted: lines are read into a fixed buffer
 *	(longer lines are an error), and only printable text is kept.
 * DIAGNOSTICS
 *	Returns -1 on connection or protocol failure, with the reason in
 *	res->last_reply.  Never prints.
 * SEE ALSO
 *	mule_gw.h, RFC 2033, RFC 8494 section 5.
 * LICENSE
 *	MIT (see LICENSE).
 */
#include "tools/mule_node_lmtp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "bsmtp/bsmtp_err.h"
#include "bsmtp/bsmtp_reply.h"
#include "pmul/util/log.h"

#define LMTP_LINE_MAX 1024

typedef struct lmtp_conn {
    int fd;
    char in[4096];
    size_t in_len;
    bsmtp_reply_parser rp;
    bsmtp_reply reply;
    mule_lmtp_result *res;
} lmtp_conn;

static int fail(lmtp_conn *c, const char *why)
{
    snprintf(c->res->last_reply, sizeof(c->res->last_reply), "%s", why);
    return -1;
}

static int write_all(lmtp_conn *c, const void *p, size_t n)
{
    const char *s = p;

    while (n > 0) {
        ssize_t w = write(c->fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return fail(c, "write failed");
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

/* The extension bits pass through unchanged (see bsmtp_reply.h). */
_Static_assert(BSMTP_EXT_SIZE == MULE_GW_EXT_SIZE && BSMTP_EXT_8BITMIME == MULE_GW_EXT_8BITMIME
                   && BSMTP_EXT_BINARYMIME == MULE_GW_EXT_BINARYMIME
                   && BSMTP_EXT_CHUNKING == MULE_GW_EXT_CHUNKING
                   && BSMTP_EXT_DSN == MULE_GW_EXT_DSN
                   && BSMTP_EXT_MT_PRIORITY == MULE_GW_EXT_MT_PRIORITY
                   && BSMTP_EXT_DELIVERBY == MULE_GW_EXT_DELIVERBY
                   && BSMTP_EXT_SMTPUTF8 == MULE_GW_EXT_SMTPUTF8
                   && BSMTP_EXT_AUTH == MULE_GW_EXT_AUTH,
               "bsmtp_ext bits differ from MULE_GW_EXT_*");
#define LMTP_EXT_GW_MASK 0x1ffu

/* Read a whole (possibly multi-line) reply through bsmtp_reply; return its
 * code or -1.  ext (may be NULL) collects the EHLO/LHLO keywords as
 * MULE_GW_EXT_* bits. */
static int read_reply(lmtp_conn *c, unsigned *ext)
{
    for (;;) {
        if (c->in_len > 0) {
            size_t used = 0;
            int rc = bsmtp_reply_feed(&c->rp, (const uint8_t *)c->in, c->in_len, &used,
                                      &c->reply);

            memmove(c->in, c->in + used, c->in_len - used);
            c->in_len -= used;
            if (rc < 0)
                return fail(c, bsmtp_strerror(rc));
            if (rc == 1) {
                /* "ddd " before the text: 4 octets of last_reply. */
                char text[sizeof(c->res->last_reply) - 4];
                bsmtp_ext e;

                log_printable(text, sizeof(text), c->reply.text, c->reply.text_len);
                snprintf(c->res->last_reply, sizeof(c->res->last_reply), "%03u %s",
                         (unsigned)c->reply.code % 1000u, text);
                if (ext != NULL && bsmtp_reply_ehlo_ext(&c->reply, &e) == 0)
                    *ext |= e.flags & LMTP_EXT_GW_MASK;
                return c->reply.code;
            }
            continue;
        }
        ssize_t r = read(c->fd, c->in, sizeof(c->in));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return fail(c, r == 0 ? "connection closed" : "read failed or timed out");
        c->in_len = (size_t)r;
    }
}

static int command(lmtp_conn *c, const char *cmd, size_t len, unsigned *ext)
{
    if (write_all(c, cmd, len) < 0 || write_all(c, "\r\n", 2) < 0)
        return -1;
    return read_reply(c, ext);
}

/* The command without its parameters: up to and including the '>'. */
static size_t strip_params(const char *cmd)
{
    const char *gt = strrchr(cmd, '>');

    return gt != NULL ? (size_t)(gt - cmd) + 1 : strlen(cmd);
}

/* Send the content: CRLF line ends, dot-stuffed, then ".". */
static int send_body(lmtp_conn *c, const uint8_t *p, size_t n)
{
    char out[4096];
    size_t o = 0;
    bool bol = true;

    for (size_t i = 0; i < n; i++) {
        if (o + 4 > sizeof(out)) {
            if (write_all(c, out, o) < 0)
                return -1;
            o = 0;
        }
        if (bol && p[i] == '.')
            out[o++] = '.';
        if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
            out[o++] = '\r';
        out[o++] = (char)p[i];
        bol = p[i] == '\n';
    }
    if (!bol) {
        out[o++] = '\r';
        out[o++] = '\n';
    }
    if (write_all(c, out, o) < 0)
        return -1;
    return write_all(c, ".\r\n", 3);
}

int mule_lmtp_deliver(const char *ip, unsigned port, const char *helo,
                      const mule_smtp_txn *txn, int timeout_s, mule_lmtp_result *res)
{
    struct sockaddr_in sa;
    struct timeval tv;
    lmtp_conn c;
    char cmd[LMTP_LINE_MAX];
    unsigned ext = 0;
    size_t accepted = 0;
    bool strip;
    int code, rc = -1;

    memset(res, 0, sizeof(*res));
    memset(&c, 0, sizeof(c));
    bsmtp_reply_parser_init(&c.rp);
    c.res = res;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1)
        return fail(&c, "bad LMTP address");
    c.fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c.fd < 0)
        return fail(&c, "socket failed");
    tv.tv_sec = timeout_s;
    tv.tv_usec = 0;
    (void)setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    (void)setsockopt(c.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(c.fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0) {
        fail(&c, "connect failed");
        goto out;
    }
    if (read_reply(&c, NULL) != 220)
        goto out;
    int n = snprintf(cmd, sizeof(cmd), "LHLO %s", helo);
    if (n < 0 || (size_t)n >= sizeof(cmd) || command(&c, cmd, (size_t)n, &ext) != 250)
        goto out;
    /* Section 5.1: parameters whose extension the server lacks cannot be
     * passed on; a final delivery agent may ignore them, so drop them. */
    strip = (txn->needs & ~ext) != 0;
    res->downgraded = strip;
    code = command(&c, txn->mail_from,
                   strip ? strip_params(txn->mail_from) : strlen(txn->mail_from), NULL);
    if (code != 250)
        goto out;
    for (size_t i = 0; i < txn->rcpt_cnt; i++) {
        const char *r = txn->rcpt_to[i];
        code = command(&c, r, strip ? strip_params(r) : strlen(r), NULL);
        if (code == 250)
            accepted++;
        else if (code < 0)
            goto out;
        else
            res->rcpt_fail++;
    }
    if (accepted == 0) {
        rc = 0;
        goto quit;
    }
    if (command(&c, "DATA", 4, NULL) != 354)
        goto out;
    if (send_body(&c, txn->content, txn->content_len) < 0)
        goto out;
    /* LMTP: one reply per accepted recipient (RFC 2033 4.2). */
    for (size_t i = 0; i < accepted; i++) {
        code = read_reply(&c, NULL);
        if (code < 0)
            goto out;
        if (code / 100 == 2)
            res->rcpt_ok++;
        else
            res->rcpt_fail++;
    }
    rc = 0;
quit:
    (void)command(&c, "QUIT", 4, NULL);
out:
    if (close(c.fd) < 0 && rc == 0)
        rc = fail(&c, "close failed");
    return rc;
}
