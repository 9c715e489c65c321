/*
 * muled_smtpd.c: muled's SMTP and LMTP listeners (issue 10): libuv TCP and
 * Unix-domain streams driving bsmtp_server sessions, with the decisions
 * in the libraries:
 *
 *   - who may submit: clients in `mynetworks` (default loopback); Unix
 *     sockets are trusted (their file mode decides); anyone else gets
 *     554 5.7.1 at connect: muled is never an open relay;
 *   - RCPT: the routing table must know the domain (mule_route_lookup),
 *     else 550 5.1.2;
 *   - the message: mule_node_outbound(), then group commit: the session
 *     waits (reads no more) while its mail joins a batch (mule_commit
 *     decides which; smtpd_commit_window); the batch's files are written,
 *     synced and renamed into q/ on libuv's thread pool, its "accepted"
 *     audit records appended on the loop, and ONE more sync on the pool
 *     makes q/ and those records durable together (a syncfs when the
 *     audit log is on the spool's filesystem, else fsync(q/) and the log's
 *     fdatasync side by side; mule_spool_fs_batch_*), so the loop keeps
 *     serving other sessions; only then does each session get its 250
 *     (durability contract line 1), or 452 4.3.1 if its own files failed
 *     (the others are not affected; a mail audited as accepted whose sync
 *     failed is audited "withdrawn" first: docs/spool.md, the audit
 *     contract); a message MULE cannot carry gets 554 5.6.0;
 *   - caps: smtpd_max_clients in total and smtpd_max_per_client per
 *     address (421 4.7.0 beyond), smtpd_timeout per wait (421 4.4.2).
 *
 *   - STARTTLS (smtpd_tls = may | required; OpenSSL, TLS 1.2 or later, over
 *     memory BIOs so the socket stays libuv's): input pipelined after the
 *     STARTTLS command is discarded (RFC 3207 5), the session forgets what
 *     it learned before; with smtpd_tls_ca a client outside mynetworks may
 *     connect and submits once it presented a certificate that verifies.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "bsmtp/bsmtp_server.h"
#include "mule/mule_audit.h"
#include "mule/mule_commit.h"
#include "mule/mule_err.h"
#include "tools/muled/muled.h"

#define IN_MAX 65536            /* unparsed client input held at most */

typedef struct conn conn;

/* A mail waiting for its group commit.  It outlives its session if the
 * client leaves while the batch is being written (c is then NULL). */
typedef struct smtpd_mail {
    conn *c;
    mule_node_result res;
    muled_store_op *op;
    int stage_rc;               /* staging failed: the reply's result */
    char peer[64];
} smtpd_mail;

struct conn {
    muled *d;
    union {
        uv_tcp_t tcp;
        uv_pipe_t pipe;
        uv_stream_t stream;
        uv_handle_t handle;
    } h;
    uv_timer_t timer;
    uv_write_t wreq;
    bsmtp_server *s;
    char peer[64];              /* address text, for logs and Received */
    uint8_t in[IN_MAX];         /* plaintext for the session */
    size_t in_len;
    uint8_t raw[16384];         /* what the socket gave (ciphertext with TLS) */
    buf obuf;                   /* octets for the socket, not yet written */
    char *wbuf;
    bool writing, closing, reading;
    bool eof;                   /* the client shut its side while its mail
                                 * waited: answer, then close */
    bool trusted;               /* in mynetworks, Unix socket or verified cert */
    SSL *ssl;                   /* after STARTTLS */
    BIO *rbio, *wbio;           /* owned by ssl */
    bool handshaking;
    uint64_t txn_start;         /* loop ms when the transaction began; 0: none */
    int closed;
    smtpd_mail *pending;        /* waiting for durability: no input fed */
    struct conn *next;
};

typedef struct listener {
    muled *d;
    bool lmtp, unix_sock;
    union {
        uv_tcp_t tcp;
        uv_pipe_t pipe;
        uv_stream_t stream;
        uv_handle_t handle;
    } h;
} listener;

static listener *g_listen[2];
static SSL_CTX *g_tls;
static conn *g_conns;
static size_t g_conn_cnt;

#define BATCH_MAX 64
/* Group commit: at most one batch being written at a time. */
static struct {
    muled *d;
    mule_commit *sched;
    uv_check_t check;           /* after each poll: start a batch? */
    uv_timer_t timer;           /* the commit window's end */
    uv_work_t work;             /* the batch being written, then synced */
    uv_work_t awork;            /* the audit log's fdatasync (another fs) */
    mule_spool_fs_batch *batch;
    smtpd_mail *in[BATCH_MAX];
    size_t in_cnt;
    int rc[BATCH_MAX];          /* each mail's result, until its records sync */
    bool audited[BATCH_MAX];    /* its "accepted" record is written */
    int wstatus;                /* the write job's libuv status */
    int afd;                    /* audit records in this batch's sync (-1) */
    bool one_sync;              /* ...made durable by the spool's syncfs */
    int src, arc;               /* the spool's sync, the log's fdatasync */
    int jobs;                   /* sync jobs still out */
    muled_audit_waiter aw;      /* the withdrawn records being synced */
    bool up;
} g_gc = {.afd = -1};

/* ---- mynetworks ------------------------------------------------------ */

static bool
in_net(const struct sockaddr_storage *ss, const char *nets)
{
    char b[4096], *save = NULL, *t;

    snprintf(b, sizeof(b), "%s", nets);
    for (t = strtok_r(b, ", \t", &save); t != NULL; t = strtok_r(NULL, ", \t", &save)) {
        char *slash = strchr(t, '/');
        unsigned char net[16], addr[16];
        int fam = strchr(t, ':') != NULL ? AF_INET6 : AF_INET;
        unsigned bits, len = fam == AF_INET6 ? 16 : 4;
        const unsigned char *a;

        if (slash != NULL)
            *slash = '\0';
        bits = slash != NULL ? (unsigned)atoi(slash + 1) : len * 8;
        if (inet_pton(fam, t, net) != 1)
            continue;
        if (ss->ss_family == AF_INET && fam == AF_INET) {
            a = (const unsigned char *)&((const struct sockaddr_in *)ss)->sin_addr;
        } else if (ss->ss_family == AF_INET6 && fam == AF_INET6) {
            a = ((const struct sockaddr_in6 *)ss)->sin6_addr.s6_addr;
        } else if (ss->ss_family == AF_INET6 && fam == AF_INET &&
                   IN6_IS_ADDR_V4MAPPED(&((const struct sockaddr_in6 *)ss)->sin6_addr)) {
            a = ((const struct sockaddr_in6 *)ss)->sin6_addr.s6_addr + 12;
        } else {
            continue;
        }
        memcpy(addr, a, len);
        {
            unsigned full = bits / 8, rest = bits % 8;
            bool match = memcmp(addr, net, full) == 0;

            if (match && rest != 0) {
                unsigned char mask = (unsigned char)(0xFFu << (8 - rest));

                match = (addr[full] & mask) == (net[full] & mask);
            }
            if (match)
                return true;
        }
    }
    return false;
}

/* ---- connections ------------------------------------------------------- */

static void conn_flush(conn *c);
static void conn_pump(conn *c);
static void gc_run(void);
static void gc_replied(muled *d, muled_audit_waiter *aw);

static void
mail_free(smtpd_mail *m)
{
    if (m == NULL)
        return;
    mule_node_result_fini(&m->res);
    muled_store_op_free(m->op);
    free(m);
}

static void
on_conn_closed(uv_handle_t *h)
{
    conn *c = h->data;

    if (++c->closed < 2)
        return;
    for (conn **pp = &g_conns; *pp != NULL; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    g_conn_cnt--;
    bsmtp_server_free(c->s);
    SSL_free(c->ssl);
    buf_fini(&c->obuf);
    free(c->wbuf);
    free(c);
}

static void
conn_close(conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    if (c->pending != NULL) {
        /* Not in a batch yet: forget it (no 250 was sent, the client
         * keeps the mail).  In a batch: it is written anyway and freed
         * when the batch ends. */
        if (mule_commit_cancel(g_gc.sched, (uint64_t)(uintptr_t)c->pending))
            mail_free(c->pending);
        else
            c->pending->c = NULL;
        c->pending = NULL;
    }
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, on_conn_closed);
    uv_close(&c->h.handle, on_conn_closed);
}

static void
on_timeout(uv_timer_t *t)
{
    conn *c = t->data;
    bool txn = c->txn_start != 0 &&
               uv_now(c->d->loop) >= c->txn_start + c->d->cf.smtpd_txn_timeout_ms;

    muled_log(c->d, LOG_LVL_INFO, "smtpd: %s %s", c->peer,
              txn ? "transaction took too long" : "timed out");
    if (c->s != NULL)
        bsmtp_server_shutdown(c->s, txn ? "transaction took too long, closing"
                                        : "timeout, closing");
    conn_flush(c);
    if (!c->writing)
        conn_close(c);
}

static void
on_written(uv_write_t *req, int status)
{
    conn *c = req->data;

    c->writing = false;
    free(c->wbuf);
    c->wbuf = NULL;
    if (c->closing)
        return;
    if (status < 0) {
        conn_close(c);
        return;
    }
    conn_flush(c);
}

/* Move what the session and TLS have for the peer into obuf, and write
 * obuf when no write is in flight. */
static void
conn_flush(conn *c)
{
    const uint8_t *p;
    size_t n;
    uv_buf_t b;

    if (c->closing)
        return;
    while (c->s != NULL && !c->handshaking && (n = bsmtp_server_output(c->s, &p)) > 0) {
        if (c->ssl != NULL) {
            if (SSL_write(c->ssl, p, (int)n) <= 0) {
                conn_close(c);
                return;
            }
        } else if (buf_append(&c->obuf, p, n) != 0) {
            conn_close(c);
            return;
        }
        bsmtp_server_consumed(c->s, n);
    }
    if (c->wbio != NULL) {
        char tmp[16384];
        int r;

        while ((r = BIO_read(c->wbio, tmp, sizeof(tmp))) > 0)
            if (buf_append(&c->obuf, tmp, (size_t)r) != 0) {
                conn_close(c);
                return;
            }
    }
    if (c->writing)
        return;
    if (c->obuf.len == 0) {
        if (c->s == NULL || bsmtp_server_closing(c->s) || (c->eof && c->pending == NULL))
            conn_close(c);
        return;
    }
    c->wbuf = (char *)buf_steal(&c->obuf, &n);
    buf_init(&c->obuf, NULL, SIZE_MAX);
    b = uv_buf_init(c->wbuf, (unsigned)n);
    c->wreq.data = c;
    if (uv_write(&c->wreq, &c->h.stream, &b, 1, on_written) < 0) {
        free(c->wbuf);
        c->wbuf = NULL;
        conn_close(c);
        return;
    }
    c->writing = true;
}

/* STARTTLS was answered: from here on the socket speaks TLS.  Input the
 * client pipelined after the command is dropped (RFC 3207 5). */
static void
tls_begin(conn *c)
{
    conn_flush(c);              /* "220 2.0.0 ready" goes out in clear */
    c->in_len = 0;
    c->ssl = SSL_new(g_tls);
    c->rbio = BIO_new(BIO_s_mem());
    c->wbio = BIO_new(BIO_s_mem());
    if (c->ssl == NULL || c->rbio == NULL || c->wbio == NULL) {
        BIO_free(c->rbio);
        BIO_free(c->wbio);
        c->rbio = c->wbio = NULL;
        conn_close(c);
        return;
    }
    SSL_set_bio(c->ssl, c->rbio, c->wbio);
    SSL_set_accept_state(c->ssl);
    c->handshaking = true;
}

/* The domain of an address ("user@dom"), or NULL. */
static const char *
domain_of(const char *addr)
{
    const char *at = strrchr(addr, '@');

    return at != NULL && at[1] != '\0' ? at + 1 : NULL;
}

/* The reply for a mail of the session, and the session goes on. */
static void
mail_reply(conn *c, const mule_commit_reply *r)
{
    if (r->code == 250)
        c->d->ctr.smtpd_accepted++;
    else
        muled_log(c->d, LOG_LVL_WARN, "smtpd: %s: message deferred: %s", c->peer,
                  mule_strerror(r->rc));
    bsmtp_server_message_verdict(c->s, r->code, r->enh, r->text);
}

static void
on_message(conn *c)
{
    muled *d = c->d;
    const bsmtp_server_txn *t = bsmtp_server_txn_get(c->s);
    char from[400], date[64], msgid[128];
    mule_node_clock clk;
    mule_commit_reply r;
    smtpd_mail *m;
    int rc;

    if ((m = calloc(1, sizeof(*m))) == NULL) {
        mule_commit_verdict(MULE_ERR_NOMEM, &r);
        mail_reply(c, &r);
        return;
    }
    snprintf(from, sizeof(from), "%s ([%s])", t->helo, c->peer);
    snprintf(m->peer, sizeof(m->peer), "%s", c->peer);
    if (mule_node_tunnelled_priority(t->env, t->content, t->content_len, c->trusted))
        muled_log(d, LOG_LVL_INFO, "smtpd: %s: MT-PRIORITY %d from the MT-Priority header field",
                  c->peer, t->env->mail.mt_priority);
    muled_clock(d, &clk, date, sizeof(date), msgid, sizeof(msgid));
    rc = mule_node_outbound(&d->ncfg, d->routes, t->env, t->content, t->content_len, from, NULL,
                            &clk, NULL, &d->lg, &m->res);
    if (rc == 0 && !m->res.has_relay) {
        d->ctr.smtpd_refused++;
        muled_log(d, LOG_LVL_WARN, "smtpd: %s: message refused: %s", c->peer,
                  mule_strerror(m->res.err));
        bsmtp_server_message_verdict(c->s, 554, "5.6.0", "message cannot be carried over MULE");
        mail_free(m);
        return;
    }
    /* Durable before 250: the mail joins the next group commit, and the
     * session waits for it (conn_pump feeds nothing until the reply). */
    m->c = c;
    if (rc < 0) {
        /* mule_node could not decide (memory): temporary, as before. */
        mule_commit_verdict(MULE_ERR_NOMEM, &r);
        r.rc = rc;
    } else if ((rc = mule_commit_push(g_gc.sched, uv_now(d->loop),
                                      (uint64_t)(uintptr_t)m)) == 0) {
        c->pending = m;
        return;
    } else {
        mule_commit_verdict(rc, &r);
    }
    mail_reply(c, &r);
    mail_free(m);
}

static void
on_rcpt(conn *c)
{
    const bsmtp_server_txn *t = bsmtp_server_txn_get(c->s);
    const char *dom = domain_of(t->rcpt_addr);

    if (!c->trusted)
        bsmtp_server_rcpt_verdict(c->s, 554, "5.7.1",
                                  "relay access denied: not in mynetworks, no client certificate");
    else if (dom == NULL || mule_route_lookup(c->d->routes, dom, strlen(dom), NULL) == NULL)
        bsmtp_server_rcpt_verdict(c->s, 550, "5.1.2", "no MULE route to that domain");
    else
        bsmtp_server_rcpt_verdict(c->s, 250, NULL, NULL);
}

/* Feed what is buffered, answering events at once, until the session
 * needs more input or its mail waits for the group commit. */
static void
conn_pump(conn *c)
{
    size_t off = 0;

    for (int guard = 0; guard < 100000 && !c->closing && !c->handshaking && c->pending == NULL;
         guard++) {
        size_t used = 0;
        int ev = bsmtp_server_feed(c->s, c->in + off, c->in_len - off, &used);

        off += used;
        if (ev == BSMTP_SRV_RCPT)
            on_rcpt(c);
        else if (ev == BSMTP_SRV_MESSAGE)
            on_message(c);
        else if (ev == BSMTP_SRV_STARTTLS) {
            tls_begin(c);       /* drops the rest of the plaintext input */
            off = 0;
            break;
        } else if (ev == BSMTP_SRV_CLOSE)
            break;
        else if (off >= c->in_len || used == 0)
            break;
    }
    if (off > c->in_len)
        off = c->in_len;
    memmove(c->in, c->in + off, c->in_len - off);
    c->in_len -= off;
    conn_flush(c);
    if (c->pending != NULL) {
        /* Waiting for the disk, not for the client: no client timeout. */
        uv_timer_stop(&c->timer);
    } else if (!c->closing) {
        /* Idle limit per wait, and a cap on the whole transaction: a
         * client trickling one octet at a time (slowloris) resets the
         * first, never the second. */
        uint64_t now = uv_now(c->d->loop), wait = c->d->cf.smtpd_timeout_ms;
        bool in_txn = !c->handshaking && bsmtp_server_txn_get(c->s)->env != NULL;

        if (!in_txn)
            c->txn_start = 0;
        else if (c->txn_start == 0)
            c->txn_start = now;
        if (c->txn_start != 0) {
            uint64_t end = c->txn_start + c->d->cf.smtpd_txn_timeout_ms;

            wait = end <= now ? 1 : (end - now < wait ? end - now : wait);
        }
        uv_timer_start(&c->timer, on_timeout, wait, 0);
    }
}

static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    conn *c = h->data;

    (void)suggested;
    *b = uv_buf_init((char *)c->raw, sizeof(c->raw));
}

/* Ciphertext in: the handshake, then plaintext for the session. */
static int
tls_input(conn *c, const uint8_t *p, size_t n)
{
    if (BIO_write(c->rbio, p, (int)n) != (int)n)
        return -1;
    if (c->handshaking) {
        int r = SSL_do_handshake(c->ssl);

        if (r != 1) {
            int e = SSL_get_error(c->ssl, r);

            if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
                char why[200];

                ERR_error_string_n(ERR_get_error(), why, sizeof(why));
                muled_log(c->d, LOG_LVL_WARN, "smtpd: %s: TLS handshake failed (%d: %s)",
                          c->peer, e, why);
                return -1;
            }
            return 0;
        }
        c->handshaking = false;
        if (!c->trusted && SSL_get_verify_result(c->ssl) == X509_V_OK) {
            X509 *peer = SSL_get1_peer_certificate(c->ssl);

            c->trusted = peer != NULL;
            X509_free(peer);
        }
        muled_log(c->d, LOG_LVL_INFO, "smtpd: %s: %s with %s%s", c->peer,
                  SSL_get_version(c->ssl), SSL_get_cipher_name(c->ssl),
                  c->trusted ? "" : " (client not authorised to relay)");
        bsmtp_server_tls_started(c->s);
    }
    for (;;) {
        int r = SSL_read(c->ssl, c->in + c->in_len, (int)(IN_MAX - c->in_len));

        if (r > 0) {
            c->in_len += (size_t)r;
            if (c->in_len == IN_MAX)
                return 0;
            continue;
        }
        r = SSL_get_error(c->ssl, r);
        return r == SSL_ERROR_WANT_READ || r == SSL_ERROR_WANT_WRITE ? 0 : -1;
    }
}

static void
on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *b)
{
    conn *c = st->data;

    (void)b;
    if (c->closing || nread == 0)
        return;
    if (nread < 0 && c->pending != NULL) {
        /* A client may pipeline QUIT after its last data and shut its
         * side (Exim does): it still gets its reply, then we close. */
        c->eof = true;
        uv_read_stop(&c->h.stream);
        c->reading = false;
        return;
    }
    if (nread < 0) {
        conn_close(c);
        return;
    }
    if (c->ssl != NULL) {
        if (tls_input(c, c->raw, (size_t)nread) < 0) {
            conn_close(c);
            return;
        }
    } else {
        if ((size_t)nread > IN_MAX - c->in_len) {
            conn_close(c);      /* the session caps lines: only a flood gets here */
            return;
        }
        memcpy(c->in + c->in_len, c->raw, (size_t)nread);
        c->in_len += (size_t)nread;
    }
    if (c->pending != NULL) {
        /* Input pipelined behind a mail waiting for its commit is kept;
         * with the buffer full, reading pauses until the reply. */
        if (c->in_len == IN_MAX) {
            uv_read_stop(&c->h.stream);
            c->reading = false;
        }
        return;
    }
    conn_pump(c);
    if (c->in_len == IN_MAX) {
        /* The session stopped consuming (it cannot: events are answered at
         * once) or a line is longer than the buffer: the session caps
         * lines, so this only guards the buffer itself. */
        conn_close(c);
    }
}

static size_t
conns_from(const char *peer)
{
    size_t n = 0;

    for (conn *c = g_conns; c != NULL; c = c->next)
        n += strcmp(c->peer, peer) == 0;
    return n;
}

static void
on_connection(uv_stream_t *server, int status)
{
    listener *l = server->data;
    muled *d = l->d;
    conn *c;
    bsmtp_server_cfg cfg;
    const char *refuse = NULL;

    if (status < 0 || d->stopping)
        return;
    if ((c = calloc(1, sizeof(*c))) == NULL)
        return;
    c->d = d;
    if (l->unix_sock)
        uv_pipe_init(d->loop, &c->h.pipe, 0);
    else
        uv_tcp_init(d->loop, &c->h.tcp);
    uv_timer_init(d->loop, &c->timer);
    c->h.handle.data = c;
    c->timer.data = c;
    buf_init(&c->obuf, NULL, SIZE_MAX);
    c->next = g_conns;
    g_conns = c;
    g_conn_cnt++;
    if (uv_accept(server, &c->h.stream) != 0) {
        conn_close(c);
        return;
    }
    snprintf(c->peer, sizeof(c->peer), "local");
    c->trusted = l->unix_sock;
    if (!l->unix_sock) {
        struct sockaddr_storage ss;
        int len = sizeof(ss);

        if (uv_tcp_getpeername(&c->h.tcp, (struct sockaddr *)&ss, &len) == 0) {
            if (ss.ss_family == AF_INET)
                uv_ip4_name((struct sockaddr_in *)&ss, c->peer, sizeof(c->peer));
            else
                uv_ip6_name((struct sockaddr_in6 *)&ss, c->peer, sizeof(c->peer));
            c->trusted = in_net(&ss, d->cf.mynetworks);
            /* With client CAs an outsider may still authenticate by
             * certificate after STARTTLS; without, it is refused now. */
            if (!c->trusted && (g_tls == NULL || d->cf.smtpd_tls_ca == NULL))
                refuse = "554 5.7.1 access denied: not in mynetworks\r\n";
        } else {
            refuse = "421 4.7.0 cannot identify the client\r\n";
        }
    }
    if (refuse == NULL && g_conn_cnt > d->cf.smtpd_max_clients)
        refuse = "421 4.7.0 too many connections, try later\r\n";
    if (refuse == NULL && conns_from(c->peer) > d->cf.smtpd_max_per_client)
        refuse = "421 4.7.0 too many connections from you, try later\r\n";
    if (refuse != NULL) {
        uv_buf_t b;

        muled_log(d, LOG_LVL_WARN, "smtpd: %s refused: %.*s", c->peer,
                  (int)strlen(refuse) - 6, refuse + 4);
        if ((c->wbuf = strdup(refuse)) != NULL) {
            b = uv_buf_init(c->wbuf, (unsigned)strlen(c->wbuf));
            c->wreq.data = c;
            if (uv_write(&c->wreq, &c->h.stream, &b, 1, on_written) == 0) {
                c->writing = true;
                uv_timer_start(&c->timer, on_timeout, 5000, 0);
                return;
            }
        }
        conn_close(c);
        return;
    }
    memset(&cfg, 0, sizeof(cfg));
    cfg.lmtp = l->lmtp;
    cfg.hostname = d->cf.hostname;
    cfg.size_max = d->cf.max_message_size;
    cfg.starttls = g_tls != NULL;
    cfg.tls_required = g_tls != NULL && d->cf.smtpd_tls == MULE_CONF_TLS_REQUIRED;
    if (bsmtp_server_new(&c->s, &cfg, NULL) != 0) {
        conn_close(c);
        return;
    }
    muled_log(d, LOG_LVL_INFO, "smtpd: %s connected (%s)", c->peer, l->lmtp ? "LMTP" : "SMTP");
    if (uv_read_start(&c->h.stream, on_alloc, on_read) != 0) {
        conn_close(c);
        return;
    }
    c->reading = true;
    conn_flush(c);
    uv_timer_start(&c->timer, on_timeout, d->cf.smtpd_timeout_ms, 0);
}

/* ---- group commit ------------------------------------------------------ */

/* On libuv's thread pool: the blocking part (write, sync, rename).  It
 * touches no model state, so the loop goes on meanwhile. */
static void
gc_write(uv_work_t *w)
{
    (void)w;
    mule_spool_fs_batch_write(g_gc.batch);
}

/* On the pool: the one sync after the renames (and the audit log's own
 * fdatasync when it lives on another filesystem, as a second job). */
static void
gc_sync(uv_work_t *w)
{
    (void)w;
    g_gc.src = mule_spool_fs_batch_sync(g_gc.batch, g_gc.one_sync ? g_gc.afd : -1);
}

static void
gc_async(uv_work_t *w)
{
    (void)w;
    g_gc.arc = fdatasync(g_gc.afd) == 0 ? 0 : -errno;
}

static void gc_synced(uv_work_t *w, int status);

static void
gc_queue(uv_work_t *w, uv_work_cb fn)
{
    g_gc.jobs++;
    if (uv_queue_work(g_gc.d->loop, w, fn, gc_synced) != 0) {
        fn(w);                  /* no thread pool: block here */
        gc_synced(w, 0);
    }
}

/* Back on the loop: the batch's files are in q/ (or failed), not yet
 * durable.  The "accepted" records of the mails that got there are
 * written now, unsynced, and ride on the batch's last sync: one syncfs
 * (or fsync(q/) and the log's fdatasync at the same time) makes the
 * directory entries and the records durable together.  Should that sync
 * fail, gc_synced withdraws them. */
static void
gc_written(uv_work_t *w, int status)
{
    muled *d = g_gc.d;

    (void)w;
    g_gc.wstatus = status;
    muled_audit_defer(d, true);
    for (size_t i = 0; i < g_gc.in_cnt; i++) {
        smtpd_mail *m = g_gc.in[i];
        char why[96];

        snprintf(why, sizeof(why), "smtp=%s", m->peer);
        g_gc.audited[i] = status == 0 && m->stage_rc == 0 &&
                          muled_store_audit(d, &m->res, m->op, g_gc.batch, why);
    }
    muled_audit_defer(d, false);
    g_gc.afd = muled_audit_sync_take(d);
    /* Without a spool sync (the write never ran) the log syncs alone. */
    g_gc.one_sync = status == 0 && g_gc.afd >= 0 && mule_spool_fs_same_fs(d->spool, g_gc.afd);
    g_gc.src = g_gc.arc = 0;
    g_gc.jobs = 1;              /* held until both are queued */
    if (status == 0)
        gc_queue(&g_gc.work, gc_sync);
    if (g_gc.afd >= 0 && !g_gc.one_sync)
        gc_queue(&g_gc.awork, gc_async);
    gc_synced(NULL, 0);
}

/* Each sync job ends here; after the last: the model learns of the
 * durable entries, mails audited but not durable are withdrawn (rule 1
 * of the audit contract, before their 4xx), then the replies. */
static void
gc_synced(uv_work_t *w, int status)
{
    muled *d = g_gc.d;
    bool withdrew = false;

    if (w == &g_gc.work && status != 0)
        g_gc.src = MULE_ERR_SPOOL_IO;   /* never ran: commit fails them */
    if (w == &g_gc.awork && status != 0)
        g_gc.arc = -EIO;
    if (--g_gc.jobs > 0)
        return;
    if (g_gc.afd >= 0) {
        muled_audit_sync_give(d, g_gc.afd, g_gc.one_sync ? g_gc.src == 0 : g_gc.arc == 0);
        g_gc.afd = -1;
    }
    if (g_gc.wstatus == 0)
        mule_spool_fs_batch_commit(g_gc.batch);
    muled_audit_defer(d, true);
    for (size_t i = 0; i < g_gc.in_cnt; i++) {
        smtpd_mail *m = g_gc.in[i];
        char why[96];

        snprintf(why, sizeof(why), "smtp=%s", m->peer);
        if (g_gc.wstatus != 0)
            g_gc.rc[i] = MULE_ERR_SPOOL_IO;     /* the work never ran */
        else if (m->stage_rc != 0)
            g_gc.rc[i] = m->stage_rc;
        else
            g_gc.rc[i] = muled_store_finish(d, &m->res, m->op, g_gc.batch, why);
        if (g_gc.rc[i] != 0 && g_gc.audited[i]) {
            char st[MULE_AUDIT_SHORT_MAX];

            snprintf(st, sizeof(st), "not queued: %s", mule_strerror(g_gc.rc[i]));
            muled_store_withdraw(d, m->op, st);
            withdrew = true;
        }
    }
    muled_audit_defer(d, false);
    if (!withdrew) {
        gc_replied(d, NULL);
        return;
    }
    g_gc.aw.cb = gc_replied;
    muled_audit_flush(d, &g_gc.aw);
}

/* The batch's audit records are durable (withdrawn ones synced too):
 * reply to each session by its own result. */
static void
gc_replied(muled *d, muled_audit_waiter *aw)
{
    mule_commit_reply r;

    (void)aw;
    if (mule_commit_done(g_gc.sched, g_gc.rc, g_gc.in_cnt) != 0)
        muled_log(d, LOG_LVL_ERROR, "smtpd: group commit: batch bookkeeping broken");
    mule_spool_fs_batch_free(g_gc.batch);
    g_gc.batch = NULL;
    g_gc.in_cnt = 0;
    while (mule_commit_poll(g_gc.sched, &r)) {
        smtpd_mail *m = (smtpd_mail *)(uintptr_t)r.token;
        conn *c = m->c;

        mail_free(m);
        if (r.cancelled || c == NULL)
            continue;
        c->pending = NULL;
        mail_reply(c, &r);
        conn_pump(c);           /* what the client pipelined meanwhile */
        if (!c->closing && !c->reading && !c->eof &&
            uv_read_start(&c->h.stream, on_alloc, on_read) == 0)
            c->reading = true;
    }
    if (!g_gc.up) {             /* stopped while the batch was written */
        mule_commit_free(g_gc.sched);
        g_gc.sched = NULL;
        return;
    }
    gc_run();
}

static void
on_gc_timer(uv_timer_t *t)
{
    (void)t;
    gc_run();
}

/* Start a batch if the scheduler says so, else wait for its deadline. */
static void
gc_run(void)
{
    muled *d = g_gc.d;
    uint64_t tok[BATCH_MAX], now, due;
    size_t n;
    int rc;

    if (!g_gc.up || mule_commit_busy(g_gc.sched))
        return;
    now = uv_now(d->loop);
    n = mule_commit_take(g_gc.sched, now, tok, BATCH_MAX);
    if (n == 0) {
        due = mule_commit_deadline(g_gc.sched);
        if (due != UINT64_MAX)
            uv_timer_start(&g_gc.timer, on_gc_timer, due > now ? due - now : 0, 0);
        return;
    }
    uv_timer_stop(&g_gc.timer);
    rc = mule_spool_fs_batch_new(d->spool, &g_gc.batch);
    for (size_t i = 0; i < n; i++) {
        smtpd_mail *m = (smtpd_mail *)(uintptr_t)tok[i];

        g_gc.in[i] = m;
        m->stage_rc = rc != 0 ? rc : muled_store_stage(d, &m->res, g_gc.batch, &m->op);
    }
    g_gc.in_cnt = n;
    if (uv_queue_work(d->loop, &g_gc.work, gc_write, gc_written) != 0)
        gc_written(&g_gc.work, UV_ECANCELED);
}

static void
on_gc_check(uv_check_t *h)
{
    (void)h;
    gc_run();
}

/* ---- listeners ------------------------------------------------------- */

static int
listen_one(muled *d, const char *spec, bool lmtp, listener **out)
{
    listener *l = calloc(1, sizeof(*l));
    int rc;

    if (l == NULL)
        return UV_ENOMEM;
    l->d = d;
    l->lmtp = lmtp;
    if (strncmp(spec, "unix:", 5) == 0) {
        l->unix_sock = true;
        uv_pipe_init(d->loop, &l->h.pipe, 0);
        (void)unlink(spec + 5);         /* a stale socket of an earlier run */
        rc = uv_pipe_bind(&l->h.pipe, spec + 5);
        /* Bound as root, used as muled's user: owner muled, group
         * control_group (put the MTA's user in it to let it connect). */
        if (rc == 0 && (chmod(spec + 5, 0660) != 0 ||
                        chown(spec + 5, d->run_uid, d->ctl_gid) != 0))
            muled_log(d, LOG_LVL_WARN, "%s: cannot set owner/mode: %s", spec + 5,
                      strerror(errno));
    } else {
        struct sockaddr_storage ss;
        char host[64];
        const char *colon = strrchr(spec, ':');
        size_t hl = (size_t)(colon - spec);
        int port = atoi(colon + 1);

        if (hl >= 2 && spec[0] == '[') {
            spec++;
            hl -= 2;
        }
        snprintf(host, sizeof(host), "%.*s", (int)hl, spec);
        uv_tcp_init(d->loop, &l->h.tcp);
        rc = uv_ip4_addr(host, port, (struct sockaddr_in *)&ss);
        if (rc != 0)
            rc = uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss);
        if (rc == 0)
            rc = uv_tcp_bind(&l->h.tcp, (const struct sockaddr *)&ss, 0);
    }
    l->h.handle.data = l;
    if (rc == 0)
        rc = uv_listen(&l->h.stream, 64, on_connection);
    *out = l;
    return rc;
}

static void
on_listener_closed(uv_handle_t *h)
{
    free(h->data);
}

static int
tls_setup(muled *d)
{
    if (d->cf.smtpd_tls == MULE_CONF_TLS_NONE)
        return 0;
    g_tls = SSL_CTX_new(TLS_server_method());
    if (g_tls == NULL || SSL_CTX_set_min_proto_version(g_tls, TLS1_2_VERSION) != 1 ||
        SSL_CTX_use_certificate_chain_file(g_tls, d->cf.smtpd_tls_cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(g_tls, d->cf.smtpd_tls_key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(g_tls) != 1 ||
        (d->cf.smtpd_tls_ca != NULL &&
         SSL_CTX_load_verify_locations(g_tls, d->cf.smtpd_tls_ca, NULL) != 1)) {
        char e[256];

        ERR_error_string_n(ERR_get_error(), e, sizeof(e));
        muled_log(d, LOG_LVL_ERROR, "smtpd_tls: cannot load %s / %s: %s", d->cf.smtpd_tls_cert,
                  d->cf.smtpd_tls_key, e);
        SSL_CTX_free(g_tls);
        g_tls = NULL;
        return -1;
    }
    if (d->cf.smtpd_tls_ca != NULL)
        SSL_CTX_set_verify(g_tls, SSL_VERIFY_PEER, NULL);   /* asked, not demanded */
    return 0;
}

int
muled_smtpd_start(muled *d)
{
    const char *spec[2] = {d->cf.smtpd_listen, d->cf.lmtpd_listen};

    if ((spec[0] != NULL || spec[1] != NULL) && tls_setup(d) < 0)
        return -1;
    if (spec[0] != NULL || spec[1] != NULL) {
        mule_commit_cfg gcfg;

        memset(&gcfg, 0, sizeof(gcfg));
        gcfg.window_ms = d->cf.smtpd_commit_window_ms;
        gcfg.max_batch = BATCH_MAX;
        if (mule_commit_new(&g_gc.sched, &gcfg, NULL) != 0)
            return -1;
        g_gc.d = d;
        uv_check_init(d->loop, &g_gc.check);
        uv_timer_init(d->loop, &g_gc.timer);
        /* Neither keeps the loop alive: sessions (and a batch's work
         * request) do while mails wait. */
        uv_check_start(&g_gc.check, on_gc_check);
        uv_unref((uv_handle_t *)&g_gc.check);
        uv_unref((uv_handle_t *)&g_gc.timer);
        g_gc.up = true;
    }

    for (int i = 0; i < 2; i++) {
        int rc;

        if (spec[i] == NULL)
            continue;
        rc = listen_one(d, spec[i], i == 1, &g_listen[i]);
        if (rc != 0) {
            muled_log(d, LOG_LVL_ERROR, "cannot listen on %s: %s", spec[i], uv_strerror(rc));
            if (g_listen[i] != NULL)
                uv_close(&g_listen[i]->h.handle, on_listener_closed);
            g_listen[i] = NULL;
            return -1;
        }
        muled_log(d, LOG_LVL_INFO, "listening for %s on %s", i == 1 ? "LMTP" : "SMTP", spec[i]);
    }
    return 0;
}

void
muled_smtpd_stop(muled *d)
{
    (void)d;
    for (int i = 0; i < 2; i++)
        if (g_listen[i] != NULL) {
            uv_close(&g_listen[i]->h.handle, on_listener_closed);
            g_listen[i] = NULL;
        }
    for (conn *c = g_conns; c != NULL; c = c->next) {
        if (c->s != NULL)
            bsmtp_server_shutdown(c->s, "shutting down");
        conn_flush(c);
        conn_close(c);
    }
    if (g_gc.up) {
        g_gc.up = false;
        uv_close((uv_handle_t *)&g_gc.check, NULL);
        uv_close((uv_handle_t *)&g_gc.timer, NULL);
        if (!mule_commit_busy(g_gc.sched)) {    /* else when the batch ends */
            mule_commit_free(g_gc.sched);
            g_gc.sched = NULL;
        }
    }
    SSL_CTX_free(g_tls);        /* connections hold their own references */
    g_tls = NULL;
}
