/*
 * bsmtp_io.c: libuv driver of a bsmtp_client session (see bsmtp_io.h).
 * One stream handle (TCP or pipe), one timer, one write in flight.  The
 * session decides what to say; this file only moves octets and keeps
 * time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bsmtp/bsmtp_err.h"
#include "bsmtp/bsmtp_io.h"
#include "pmul/util/num.h"

struct bsmtp_io {
    uv_loop_t *loop;
    union {
        uv_tcp_t tcp;
        uv_pipe_t pipe;
        uv_stream_t stream;
        uv_handle_t handle;
    } h;
    uv_timer_t timer;
    uv_connect_t conn;
    uv_write_t wreq;
    bool writing, closing, connected;
    int closed;                 /* handles closed so far (of 2) */
    uint64_t step_ms, deadline;
    bsmtp_client *c;
    bsmtp_io_cb cb;
    void *arg;
    /* Owned copies of the transaction's command lines. */
    char *helo, *mail_from;
    char **rcpt;
    size_t rcpt_cnt;
    char *wbuf;                 /* the write in flight */
    char rbuf[4096];
};

int
bsmtp_io_target_parse(const char *text, bool *lmtp, bsmtp_io_target *t)
{
    const char *rest, *colon;
    uint64_t port;
    size_t hl;

    if (text == NULL || lmtp == NULL || t == NULL)
        return BSMTP_ERR_INVAL;
    memset(t, 0, sizeof(*t));
    if (strncmp(text, "lmtp:", 5) == 0)
        *lmtp = true;
    else if (strncmp(text, "smtp:", 5) == 0)
        *lmtp = false;
    else
        return BSMTP_ERR_INVAL;
    rest = text + 5;
    if (strncmp(rest, "unix:", 5) == 0) {
        if (rest[5] != '/' || strlen(rest + 5) >= sizeof(t->path))
            return BSMTP_ERR_INVAL;
        t->kind = BSMTP_IO_UNIX;
        snprintf(t->path, sizeof(t->path), "%s", rest + 5);
        return 0;
    }
    colon = strrchr(rest, ':');
    if (colon == NULL || num_parse_u64(colon + 1, 1, 65535, &port) != 0)
        return BSMTP_ERR_INVAL;
    hl = (size_t)(colon - rest);
    if (hl >= 2 && rest[0] == '[' && rest[hl - 1] == ']') {
        rest++;
        hl -= 2;
    }
    if (hl == 0 || hl >= sizeof(t->host))
        return BSMTP_ERR_INVAL;
    memcpy(t->host, rest, hl);
    t->host[hl] = '\0';
    {
        struct sockaddr_in6 a6;
        struct sockaddr_in a4;

        if (uv_ip4_addr(t->host, 0, &a4) != 0 && uv_ip6_addr(t->host, 0, &a6) != 0)
            return BSMTP_ERR_INVAL;     /* numeric only: no DNS on the loop */
    }
    t->kind = BSMTP_IO_TCP;
    t->port = (uint16_t)port;
    return 0;
}

static void
io_free(bsmtp_io *io)
{
    for (size_t i = 0; i < io->rcpt_cnt; i++)
        free(io->rcpt[i]);
    free(io->rcpt);
    free(io->helo);
    free(io->mail_from);
    free(io->wbuf);
    bsmtp_client_free(io->c);
    free(io);
}

static void
on_closed(uv_handle_t *h)
{
    bsmtp_io *io = h->data;

    if (++io->closed < 2)
        return;
    io->cb(io, io->c, io->arg);
    io_free(io);
}

static void
finish(bsmtp_io *io, const char *why)
{
    if (io->closing)
        return;
    io->closing = true;
    if (!bsmtp_client_done(io->c) || why != NULL)
        bsmtp_client_eof(io->c, why);
    uv_timer_stop(&io->timer);
    uv_close((uv_handle_t *)&io->timer, on_closed);
    uv_close(&io->h.handle, on_closed);
}

static void on_timer(uv_timer_t *t);

static void
restart_timer(bsmtp_io *io)
{
    uint64_t now = uv_now(io->loop), t = io->step_ms;

    if (io->deadline <= now) {
        finish(io, "session time limit reached");
        return;
    }
    if (now + t > io->deadline)
        t = io->deadline - now;
    uv_timer_start(&io->timer, on_timer, t, 0);
}

static void
on_timer(uv_timer_t *t)
{
    finish(t->data, "timed out waiting for the server");
}

static void flush(bsmtp_io *io);

static void
on_written(uv_write_t *req, int status)
{
    bsmtp_io *io = req->data;

    io->writing = false;
    free(io->wbuf);
    io->wbuf = NULL;
    if (io->closing)
        return;
    if (status < 0) {
        finish(io, uv_strerror(status));
        return;
    }
    flush(io);
}

static void
flush(bsmtp_io *io)
{
    const uint8_t *p;
    size_t n;
    uv_buf_t b;
    int rc;

    if (io->writing || io->closing || !io->connected)
        return;
    n = bsmtp_client_output(io->c, &p);
    if (n == 0) {
        if (bsmtp_client_done(io->c))
            finish(io, NULL);
        return;
    }
    /* The session's buffer may move while the write is in flight (a
     * reply adds commands): write a copy. */
    if (n > (1u << 20))
        n = 1u << 20;
    if ((io->wbuf = malloc(n)) == NULL) {
        finish(io, "out of memory");
        return;
    }
    memcpy(io->wbuf, p, n);
    bsmtp_client_consumed(io->c, n);
    b = uv_buf_init(io->wbuf, (unsigned)n);
    io->wreq.data = io;
    rc = uv_write(&io->wreq, &io->h.stream, &b, 1, on_written);
    if (rc < 0) {
        free(io->wbuf);
        io->wbuf = NULL;
        finish(io, uv_strerror(rc));
        return;
    }
    io->writing = true;
    restart_timer(io);
}

static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    bsmtp_io *io = h->data;

    (void)suggested;
    *b = uv_buf_init(io->rbuf, sizeof(io->rbuf));
}

static void
on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    bsmtp_io *io = s->data;

    if (io->closing)
        return;
    if (nread < 0) {
        finish(io, nread == UV_EOF ? "connection closed by the server" : uv_strerror((int)nread));
        return;
    }
    if (nread == 0)
        return;
    if (bsmtp_client_feed(io->c, (const uint8_t *)b->base, (size_t)nread) < 0) {
        finish(io, NULL);
        return;
    }
    restart_timer(io);
    flush(io);
}

static void
on_connect(uv_connect_t *req, int status)
{
    bsmtp_io *io = req->data;

    if (io->closing)
        return;
    if (status < 0) {
        char why[160];

        snprintf(why, sizeof(why), "cannot connect: %s", uv_strerror(status));
        finish(io, why);
        return;
    }
    io->connected = true;
    if (uv_read_start(&io->h.stream, on_alloc, on_read) < 0) {
        finish(io, "cannot read from the connection");
        return;
    }
    restart_timer(io);
    flush(io);
}

int
bsmtp_io_deliver(uv_loop_t *loop, const bsmtp_io_target *t, const bsmtp_client_cfg *cfg,
                 const bsmtp_client_txn *txn, uint64_t timeout_ms, bsmtp_io_cb cb, void *arg,
                 bsmtp_io **out)
{
    bsmtp_io *io;
    bsmtp_client_cfg cc;
    bsmtp_client_txn ct;
    int rc;

    if (out != NULL)
        *out = NULL;
    if (loop == NULL || t == NULL || cfg == NULL || txn == NULL || cb == NULL ||
        cfg->helo_name == NULL || txn->mail_from == NULL || txn->rcpt_cnt == 0 ||
        timeout_ms == 0)
        return BSMTP_ERR_INVAL;
    if ((io = calloc(1, sizeof(*io))) == NULL)
        return BSMTP_ERR_NOMEM;
    io->loop = loop;
    io->cb = cb;
    io->arg = arg;
    io->step_ms = timeout_ms;
    io->deadline = uv_now(loop) + 4 * timeout_ms;
    io->helo = strdup(cfg->helo_name);
    io->mail_from = strdup(txn->mail_from);
    io->rcpt = calloc(txn->rcpt_cnt, sizeof(*io->rcpt));
    if (io->helo == NULL || io->mail_from == NULL || io->rcpt == NULL) {
        io_free(io);
        return BSMTP_ERR_NOMEM;
    }
    for (; io->rcpt_cnt < txn->rcpt_cnt; io->rcpt_cnt++)
        if ((io->rcpt[io->rcpt_cnt] = strdup(txn->rcpt_to[io->rcpt_cnt])) == NULL) {
            io_free(io);
            return BSMTP_ERR_NOMEM;
        }
    cc = *cfg;
    cc.helo_name = io->helo;
    ct = *txn;
    ct.mail_from = io->mail_from;
    ct.rcpt_to = (const char *const *)io->rcpt;
    if ((rc = bsmtp_client_new(&io->c, &cc, &ct, NULL)) != 0) {
        io_free(io);
        return rc;
    }
    if (t->kind == BSMTP_IO_UNIX) {
        uv_pipe_init(loop, &io->h.pipe, 0);
    } else {
        uv_tcp_init(loop, &io->h.tcp);
    }
    uv_timer_init(loop, &io->timer);
    io->h.handle.data = io;
    io->timer.data = io;
    io->conn.data = io;
    if (t->kind == BSMTP_IO_UNIX) {
        uv_pipe_connect(&io->conn, &io->h.pipe, t->path, on_connect);
        rc = 0;
    } else {
        struct sockaddr_storage ss;

        if (uv_ip4_addr(t->host, t->port, (struct sockaddr_in *)&ss) != 0 &&
            uv_ip6_addr(t->host, t->port, (struct sockaddr_in6 *)&ss) != 0)
            rc = UV_EINVAL;
        else
            rc = uv_tcp_connect(&io->conn, &io->h.tcp, (const struct sockaddr *)&ss,
                                on_connect);
    }
    if (out != NULL)
        *out = io;
    if (rc < 0) {
        char why[160];

        snprintf(why, sizeof(why), "cannot connect: %s", uv_strerror(rc));
        finish(io, why);        /* the callback comes from the loop */
        return 0;
    }
    restart_timer(io);
    return 0;
}

void
bsmtp_io_cancel(bsmtp_io *io)
{
    if (io != NULL)
        finish(io, "cancelled (shutdown)");
}
