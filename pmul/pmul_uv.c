/*
 * NAME
 *	pmul_uv 3
 * SUMMARY
 *	libuv adapter: one P_MUL engine on UDP sockets and one timer
 * SYNOPSIS
 *	#include "pmul/pmul_uv.h"
 * DESCRIPTION
 *	This module is the production driver of the sans-I/O engine
 *	(style.md 2): it turns libuv callbacks into engine calls and the
 *	engine's output into uv_udp_send() requests.  Ports and groups
 *	follow docs/wire.md section 1: Address/Data/Discard PDUs on DPORT to
 *	the message's group, group management on TPORT/RPORT to GG, Ack_PDUs
 *	unicast to the transmitter's APORT.
 *
 *	Four sockets are opened.  DPORT, TPORT and RPORT are bound on
 *	INADDR_ANY with SO_REUSEADDR, because multicast datagrams are
 *	addressed to the group, not to us.  APORT is bound on the node
 *	address: it receives the unicast Acks and sends everything, so the
 *	IP source of every datagram is our node ID.
 *
 *	The application owns the engine and calls it directly; after each
 *	input (datagram, timer, or pmul_uv_service() after such a call) the
 *	adapter runs one "service" pass: drain poll_event into the user
 *	callback, then poll_tx, then re-arm the timer at next_deadline.  The
 *	callback may call the engine and pmul_uv_service() or close; a nested
 *	request only sets a flag and the outer pass loops once more, so the
 *	engine is never re-entered.
 *
 *	In the authenticated mode (opts.auth) every datagram sent is sealed
 *	with pmul_auth_seal() and every one received opened with
 *	pmul_auth_open() before the engine sees it; the adapter reads the
 *	wall clock in milliseconds for the sender's sequence numbers and
 *	the receiver's age check.
 * SECURITY
 *	Datagrams from the network are untrusted; they are handed to
 *	pmul_engine_recv() unparsed (the engine's codec checks them), in the
 *	authenticated mode only once their MAC and sequence number passed.  The
 *	adapter trusts only its configuration.  The receive buffer holds any
 *	UDP payload (64 KiB), whatever PDU size we send.
 * DIAGNOSTICS
 *	pmul_uv_new() returns PMUL_ERR_FATAL when a socket cannot be set
 *	up and logs the libuv reason ("pmul_uv event=socket-error ...").
 *	Send errors are counted and logged at warn, rate limited to the
 *	first few.  Datagrams refused by pmul_auth_open() are counted there
 *	and the first few logged at debug
 *	("pmul_uv event=drop reason=AUTH_BAD src=...").
 * SEE ALSO
 *	pmul_engine.h, the engine; style.md sections 2 and 3.
 * LICENSE
 *	MIT (see LICENSE).
 */
#include "pmul/pmul_uv.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Socket indexes. */
enum { SK_DATA = 0, SK_TPORT, SK_RPORT, SK_ACK, SK_COUNT };

/* Groups joined on the data socket through JOIN_GROUP events (the cap
 * bounds what a run of Announce_PDUs can make us hold). */
#define PMUL_UV_MAX_GROUPS 64

/* Send errors logged before we only count them. */
#define PMUL_UV_LOG_ERRORS 8

/* Receive any UDP payload (another implementation's default PDU is 3840
 * octets): 65535 and one more, so a truncation shows as UV_UDP_PARTIAL. */
#define PMUL_UV_RXBUF_LEN (65535u + 1u)

/* Kernel receive buffer: a burst of full-size datagrams while the loop is
 * busy (fsync in the daemon) must not be dropped by the kernel. */
#define PMUL_UV_SO_RCVBUF (4 * 1024 * 1024)

/* One datagram in flight: the request and its bytes live until send_cb. */
typedef struct pmul_uv_send {
    uv_udp_send_t req;
    pmul_uv *u;
    size_t len;
    uint8_t data[];
} pmul_uv_send;

struct pmul_uv {
    uv_loop_t *loop;
    pmul_engine *engine;        /* the application's (borrowed) */
    pmul_config cfg;            /* copy of the engine's; arrays unused */
    const mem *m;
    logger lg;
    pmul_uv_opts opts;
    char ifaddr[INET_ADDRSTRLEN];

    uv_udp_t sock[SK_COUNT];
    bool sock_inited[SK_COUNT];
    uv_timer_t timer;
    bool timer_inited;
    unsigned open_handles;      /* initialised handles not yet closed */
    size_t sends_pending;       /* requests not yet completed */

    pmul_uv_event_fn event_fn;
    void *event_arg;
    pmul_uv_close_fn close_fn;
    void *close_arg;
    bool closing;
    bool in_service;            /* a service pass is running */
    bool again;                 /* another pass was asked for during it */

    uint32_t groups[PMUL_UV_MAX_GROUPS];
    size_t group_cnt;

    uint64_t tx_datagrams;
    uint64_t tx_errors;
    uint64_t rx_truncated;
    uint64_t auth_drops_logged; /* debug lines about refused datagrams */

    uint8_t *txbuf;             /* poll_tx scratch, pdu_max_len octets */
    uint8_t *rxbuf;             /* receive buffer, PMUL_UV_RXBUF_LEN */
    size_t rxbuf_len;
};

static void service(pmul_uv *u);

/* ------------------------------------------------------------------ */
/* Time                                                               */
/* ------------------------------------------------------------------ */

/* The adapter is the one place that reads clocks (style.md 2).  uv_now()
 * is the loop's cached monotonic time, updated at each loop iteration. */
static pmul_now now_of(const pmul_uv *u)
{
    pmul_now n;

    n.mono_ms = uv_now(u->loop);
    n.wall_s = (int64_t)time(NULL);
    return n;
}

/* ------------------------------------------------------------------ */
/* Handle life cycle                                                  */
/* ------------------------------------------------------------------ */

/* Free u once no handle and no send request refers to it any more. */
static void maybe_free(pmul_uv *u)
{
    pmul_uv_close_fn fn;
    void *arg;

    if (u->open_handles > 0 || u->sends_pending > 0)
        return;
    fn = u->close_fn;
    arg = u->close_arg;
    mem_free(u->m, u->txbuf);
    mem_free(u->m, u->rxbuf);
    mem_free(u->m, u);
    if (fn != NULL)
        fn(arg);
}

static void on_handle_closed(uv_handle_t *h)
{
    pmul_uv *u = h->data;

    u->open_handles--;
    maybe_free(u);
}

/* Close every initialised handle; the rest happens in on_handle_closed. */
static void close_all(pmul_uv *u)
{
    u->closing = true;
    for (int i = 0; i < SK_COUNT; i++) {
        if (u->sock_inited[i] && !uv_is_closing((uv_handle_t *)&u->sock[i]))
            uv_close((uv_handle_t *)&u->sock[i], on_handle_closed);
    }
    if (u->timer_inited && !uv_is_closing((uv_handle_t *)&u->timer)) {
        uv_timer_stop(&u->timer);
        uv_close((uv_handle_t *)&u->timer, on_handle_closed);
    }
}

/* ------------------------------------------------------------------ */
/* Sending                                                            */
/* ------------------------------------------------------------------ */

static void on_sent(uv_udp_send_t *req, int status)
{
    pmul_uv_send *s = (pmul_uv_send *)req;
    pmul_uv *u = s->u;

    /* UV_ECANCELED is the normal fate of queued sends at close. */
    if (status < 0 && status != UV_ECANCELED) {
        u->tx_errors++;
        if (u->tx_errors <= PMUL_UV_LOG_ERRORS)
            log_emit(&u->lg, LOG_LVL_WARN, "pmul_uv event=send-error len=%zu error=%s",
                     s->len, uv_strerror(status));
    }
    u->sends_pending--;
    mem_free(u->m, s);
    if (u->closing)
        maybe_free(u);
}

/* The wall clock in milliseconds, for the authenticated mode's sequence
 * numbers and age check (pmul_auth.c, next_seq). */
static uint64_t wall_ms(void)
{
    uv_timeval64_t tv;

    if (uv_gettimeofday(&tv) != 0 || tv.tv_sec < 0)
        return 0;
    return (uint64_t)tv.tv_sec * 1000u + (uint64_t)tv.tv_usec / 1000u;
}

/*
 * Authenticated mode: append the trailer to the PDU in buf[0..len).  The
 * datagram leaves from the node address (APORT is bound there), which is
 * what the receivers see and the MAC covers.
 */
static ssize_t seal(pmul_uv *u, uint8_t *buf, size_t len, size_t cap)
{
    ssize_t n;

    n = pmul_auth_seal(u->opts.auth, wall_ms(), u->cfg.node_id, buf, len, cap);
    if (n < 0 && u->tx_errors < PMUL_UV_LOG_ERRORS)
        log_emit(&u->lg, LOG_LVL_WARN, "pmul_uv event=seal-error len=%zu error=%s", len,
                 pmul_strerror((int)n));
    return n;
}

/* Hand one datagram to libuv.  The copy lives until on_sent. */
static void send_datagram(pmul_uv *u, const uint8_t *pkt, size_t len, const pmul_addr *to)
{
    struct sockaddr_in sa;
    pmul_uv_send *s;
    uv_buf_t b;
    int rc;

    if (len > SIZE_MAX - sizeof(*s) - PMUL_AUTH_TRAILER_LEN)
        return;
    s = mem_alloc(u->m, sizeof(*s) + len + (u->opts.auth != NULL ? PMUL_AUTH_TRAILER_LEN : 0));
    if (s == NULL) {
        /* The engine retransmits what is not acknowledged: a datagram
         * lost here is like one lost on the air. */
        u->tx_errors++;
        return;
    }
    s->u = u;
    s->len = len;
    memcpy(s->data, pkt, len);
    if (u->opts.auth != NULL) {
        ssize_t n = seal(u, s->data, len, len + PMUL_AUTH_TRAILER_LEN);

        if (n < 0) {
            u->tx_errors++;
            mem_free(u->m, s);
            return;
        }
        len = (size_t)n;
        s->len = len;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(to->port);
    sa.sin_addr.s_addr = htonl(to->ip);
    b = uv_buf_init((char *)s->data, (unsigned)len);
    rc = uv_udp_send(&s->req, &u->sock[SK_ACK], &b, 1, (const struct sockaddr *)&sa, on_sent);
    if (rc < 0) {
        u->tx_errors++;
        if (u->tx_errors <= PMUL_UV_LOG_ERRORS)
            log_emit(&u->lg, LOG_LVL_WARN, "pmul_uv event=send-error len=%zu error=%s",
                     len, uv_strerror(rc));
        mem_free(u->m, s);
        return;
    }
    u->sends_pending++;
    u->tx_datagrams++;
}

/* ------------------------------------------------------------------ */
/* Groups                                                             */
/* ------------------------------------------------------------------ */

static int membership(pmul_uv *u, uv_udp_t *h, uint32_t group, uv_membership how)
{
    char g[INET_ADDRSTRLEN];
    struct in_addr a;
    int rc;

    a.s_addr = htonl(group);
    if (inet_ntop(AF_INET, &a, g, sizeof(g)) == NULL)
        return PMUL_ERR_INVAL;
    rc = uv_udp_set_membership(h, g, u->ifaddr, how);
    if (rc < 0) {
        log_emit(&u->lg, LOG_LVL_WARN, "pmul_uv event=%s group=%s if=%s error=%s",
                 how == UV_JOIN_GROUP ? "join-error" : "leave-error", g, u->ifaddr,
                 uv_strerror(rc));
        return PMUL_ERR_FATAL;
    }
    log_emit(&u->lg, LOG_LVL_DEBUG, "pmul_uv event=%s group=%s if=%s",
             how == UV_JOIN_GROUP ? "join" : "leave", g, u->ifaddr);
    return 0;
}

/* Join a dynamic group on the data socket, once. */
static void join_group(pmul_uv *u, uint32_t group)
{
    if (group == u->cfg.default_group)
        return;
    for (size_t i = 0; i < u->group_cnt; i++)
        if (u->groups[i] == group)
            return;
    if (u->group_cnt == PMUL_UV_MAX_GROUPS) {
        log_emit(&u->lg, LOG_LVL_WARN, "pmul_uv event=join-cap groups=%zu", u->group_cnt);
        (void)pmul_engine_join_failed(u->engine, pmul_uv_now(u), group);
        return;
    }
    if (membership(u, &u->sock[SK_DATA], group, UV_JOIN_GROUP) == 0)
        u->groups[u->group_cnt++] = group;
    else    /* the engine must not count it joined (issue 13, Announce) */
        (void)pmul_engine_join_failed(u->engine, pmul_uv_now(u), group);
}

static void leave_group(pmul_uv *u, uint32_t group)
{
    for (size_t i = 0; i < u->group_cnt; i++) {
        if (u->groups[i] == group) {
            (void)membership(u, &u->sock[SK_DATA], group, UV_LEAVE_GROUP);
            u->groups[i] = u->groups[--u->group_cnt];
            return;
        }
    }
}

/* ------------------------------------------------------------------ */
/* The service pass                                                   */
/* ------------------------------------------------------------------ */

static void on_timer(uv_timer_t *t)
{
    pmul_uv *u = t->data;

    if (u->closing)
        return;
    (void)pmul_engine_expire(u->engine, now_of(u));
    service(u);
}

/* Re-arm the one timer at the engine's next deadline. */
static void arm_timer(pmul_uv *u)
{
    uint64_t deadline = pmul_engine_next_deadline(u->engine);
    uint64_t now = uv_now(u->loop);
    uint64_t delay;

    if (deadline == UINT64_MAX) {
        uv_timer_stop(&u->timer);
        return;
    }
    /* A deadline at or before now means "now"; wait one millisecond so
     * that a deadline the engine cannot yet honour (pacing) does not turn
     * the loop into a busy wait. */
    delay = deadline > now ? deadline - now : 1;
    uv_timer_start(&u->timer, on_timer, delay, 0);
}

/*
 * Events first: the application sees (and, in accept mode, stores and
 * accepts) a delivered message before anything is sent; its calls from the
 * callback ask for another pass, which then sends what they caused.
 */
static void service_once(pmul_uv *u)
{
    pmul_event ev;
    pmul_addr to;
    ssize_t n;

    while (!u->closing && pmul_engine_poll_event(u->engine, &ev) == 1) {
        if (ev.kind == PMUL_EV_JOIN_GROUP)
            join_group(u, ev.group);
        else if (ev.kind == PMUL_EV_LEAVE_GROUP)
            leave_group(u, ev.group);
        if (u->event_fn != NULL)
            u->event_fn(u, &ev, u->event_arg);
    }
    if (u->closing)
        return;
    for (;;) {
        n = pmul_engine_poll_tx(u->engine, now_of(u), u->txbuf, u->cfg.pdu_max_len, &to);
        if (n <= 0)
            break;
        send_datagram(u, u->txbuf, (size_t)n, &to);
    }
    if (n < 0)
        log_emit(&u->lg, LOG_LVL_ERROR, "pmul_uv event=poll-tx-error error=%s",
                 pmul_strerror((int)n));
}

static void service(pmul_uv *u)
{
    if (u->in_service) {
        u->again = true;
        return;
    }
    u->in_service = true;
    do {
        u->again = false;
        service_once(u);
    } while (u->again && !u->closing);
    u->in_service = false;
    if (!u->closing)
        arm_timer(u);
}

/* ------------------------------------------------------------------ */
/* Receiving                                                          */
/* ------------------------------------------------------------------ */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    pmul_uv *u = h->data;

    (void)suggested;
    /* Datagrams are processed inside on_recv, so one buffer serves all
     * four sockets. */
    *b = uv_buf_init((char *)u->rxbuf, (unsigned)u->rxbuf_len);
}

static void on_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *b,
                    const struct sockaddr *addr, unsigned flags)
{
    pmul_uv *u = h->data;
    const struct sockaddr_in *sin;
    pmul_addr from;
    size_t len;

    if (u->closing)
        return;
    if (nread < 0) {
        log_emit(&u->lg, LOG_LVL_WARN, "pmul_uv event=recv-error error=%s",
                 uv_strerror((int)nread));
        return;
    }
    /* nread == 0 with addr == NULL: nothing more to read now. */
    if (addr == NULL || addr->sa_family != AF_INET)
        return;
    if (flags & UV_UDP_PARTIAL) {
        /* Cannot happen for UDP over IPv4 with a 64 KiB buffer; counted
         * and logged (the first few) rather than silently dropped. */
        if (u->rx_truncated++ < PMUL_UV_LOG_ERRORS)
            log_emit(&u->lg, LOG_LVL_WARN, "pmul_uv event=drop reason=truncated len=%zd",
                     nread);
        return;
    }
    sin = (const struct sockaddr_in *)(const void *)addr;
    memset(&from, 0, sizeof(from));
    from.ip = ntohl(sin->sin_addr.s_addr);
    from.port = ntohs(sin->sin_port);
    len = (size_t)nread;
    if (u->opts.auth != NULL) {
        /* Checked before the engine sees anything (no state changes for
         * a datagram that fails); the PDU is what precedes the trailer. */
        ssize_t n = pmul_auth_open(u->opts.auth, wall_ms(), from.ip,
                                   (const uint8_t *)b->base, len);

        if (n < 0) {
            if (u->auth_drops_logged++ < PMUL_UV_LOG_ERRORS) {
                char src[INET_ADDRSTRLEN];

                if (inet_ntop(AF_INET, &sin->sin_addr, src, sizeof(src)) == NULL)
                    src[0] = '\0';
                log_emit(&u->lg, LOG_LVL_DEBUG, "pmul_uv event=drop reason=%s src=%s len=%zu",
                         pmul_errname((int)n), src, len);
            }
            return;
        }
        len = (size_t)n;
    }
    (void)pmul_engine_recv(u->engine, now_of(u), &from, (const uint8_t *)b->base, len);
    service(u);
}

/* ------------------------------------------------------------------ */
/* Setup                                                              */
/* ------------------------------------------------------------------ */

void pmul_uv_opts_default(pmul_uv_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->mcast_ttl = 8;
    o->mcast_loop = false;
    o->mcast_if = NULL;
    o->mem = NULL;
}

static int uv_fail(pmul_uv *u, const char *what, int port, int rc)
{
    log_emit(&u->lg, LOG_LVL_ERROR, "pmul_uv event=socket-error op=%s port=%d if=%s error=%s",
             what, port, u->ifaddr, uv_strerror(rc));
    return PMUL_ERR_FATAL;
}

/* Open, bind and start one socket.  bind_ip NULL: INADDR_ANY with
 * SO_REUSEADDR (several nodes or programs may share a multicast port). */
static int open_sock(pmul_uv *u, int i, const char *bind_ip, uint16_t port)
{
    struct sockaddr_in sa;
    int rc;

    rc = uv_udp_init(u->loop, &u->sock[i]);
    if (rc < 0)
        return uv_fail(u, "init", port, rc);
    u->sock[i].data = u;
    u->sock_inited[i] = true;
    u->open_handles++;
    rc = uv_ip4_addr(bind_ip != NULL ? bind_ip : "0.0.0.0", port, &sa);
    if (rc < 0)
        return uv_fail(u, "addr", port, rc);
    rc = uv_udp_bind(&u->sock[i], (const struct sockaddr *)&sa,
                     bind_ip != NULL ? 0 : UV_UDP_REUSEADDR);
    if (rc < 0)
        return uv_fail(u, "bind", port, rc);
    rc = uv_udp_recv_start(&u->sock[i], on_alloc, on_recv);
    if (rc < 0)
        return uv_fail(u, "recv", port, rc);
    /* Best effort: the kernel caps it at net.core.rmem_max. */
    {
        int v = PMUL_UV_SO_RCVBUF;

        (void)uv_recv_buffer_size((uv_handle_t *)&u->sock[i], &v);
    }
    return 0;
}

static int setup_sockets(pmul_uv *u)
{
    char node[INET_ADDRSTRLEN];
    struct in_addr a;
    uv_udp_t *tx = &u->sock[SK_ACK];
    int rc;

    a.s_addr = htonl(u->cfg.node_id);
    if (inet_ntop(AF_INET, &a, node, sizeof(node)) == NULL)
        return PMUL_ERR_INVAL;
    if ((rc = open_sock(u, SK_DATA, NULL, u->cfg.dport)) < 0 ||
        (rc = open_sock(u, SK_TPORT, NULL, u->cfg.tport)) < 0 ||
        (rc = open_sock(u, SK_RPORT, NULL, u->cfg.rport)) < 0 ||
        (rc = open_sock(u, SK_ACK, node, u->cfg.aport)) < 0)
        return rc;
    if ((rc = uv_udp_set_multicast_interface(tx, u->ifaddr)) < 0)
        return uv_fail(u, "multicast-if", u->cfg.aport, rc);
    if ((rc = uv_udp_set_multicast_ttl(tx, u->opts.mcast_ttl)) < 0)
        return uv_fail(u, "multicast-ttl", u->cfg.aport, rc);
    if ((rc = uv_udp_set_multicast_loop(tx, u->opts.mcast_loop ? 1 : 0)) < 0)
        return uv_fail(u, "multicast-loop", u->cfg.aport, rc);
    if ((rc = membership(u, &u->sock[SK_DATA], u->cfg.default_group, UV_JOIN_GROUP)) < 0 ||
        (rc = membership(u, &u->sock[SK_TPORT], u->cfg.gg_group, UV_JOIN_GROUP)) < 0 ||
        (rc = membership(u, &u->sock[SK_RPORT], u->cfg.gg_group, UV_JOIN_GROUP)) < 0)
        return rc;
    return 0;
}

int pmul_uv_new(pmul_uv **out, uv_loop_t *loop, pmul_engine *e, const pmul_uv_opts *opts,
                pmul_uv_event_fn event_fn, void *arg)
{
    const pmul_config *cfg;
    const mem *m;
    pmul_uv *u;
    struct in_addr a;
    int rc;

    if (out == NULL)
        return PMUL_ERR_INVAL;
    *out = NULL;
    if (loop == NULL || e == NULL)
        return PMUL_ERR_INVAL;
    cfg = pmul_engine_config(e);
    m = opts != NULL ? opts->mem : NULL;
    u = mem_calloc(m, 1, sizeof(*u));
    if (u == NULL)
        return PMUL_ERR_NOMEM;
    u->loop = loop;
    u->m = m;
    u->engine = e;
    u->cfg = *cfg;
    u->cfg.group_pool = NULL;   /* the engine keeps its own copies */
    u->cfg.emcon_dests = NULL;
    u->event_fn = event_fn;
    u->event_arg = arg;
    if (opts != NULL)
        u->opts = *opts;
    else
        pmul_uv_opts_default(&u->opts);
    u->lg = u->opts.log;

    u->rxbuf_len = PMUL_UV_RXBUF_LEN;
    u->txbuf = mem_alloc(m, cfg->pdu_max_len);
    u->rxbuf = mem_alloc(m, u->rxbuf_len);
    if (u->txbuf == NULL || u->rxbuf == NULL) {
        rc = PMUL_ERR_NOMEM;
        goto fail;
    }
    if (u->opts.mcast_if != NULL) {
        if (strlen(u->opts.mcast_if) >= sizeof(u->ifaddr)) {
            rc = PMUL_ERR_INVAL;
            goto fail;
        }
        memcpy(u->ifaddr, u->opts.mcast_if, strlen(u->opts.mcast_if) + 1);
    } else {
        a.s_addr = htonl(cfg->node_id);
        if (inet_ntop(AF_INET, &a, u->ifaddr, sizeof(u->ifaddr)) == NULL) {
            rc = PMUL_ERR_INVAL;
            goto fail;
        }
    }
    u->opts.mcast_if = NULL;    /* borrowed string: not kept */

    rc = uv_timer_init(loop, &u->timer);
    if (rc < 0) {
        rc = uv_fail(u, "timer", 0, rc);
        goto fail;
    }
    u->timer.data = u;
    u->timer_inited = true;
    u->open_handles++;
    if ((rc = setup_sockets(u)) < 0)
        goto fail;
    log_emit(&u->lg, LOG_LVL_INFO, "pmul_uv event=up node=%s dport=%u aport=%u rate_bps=%llu",
             u->ifaddr, (unsigned)cfg->dport, (unsigned)cfg->aport,
             (unsigned long long)cfg->link_rate_bps);
    *out = u;
    service(u);
    return 0;

fail:
    if (u->open_handles > 0) {
        /* Handles are freed only in their close callbacks (style.md 3). */
        close_all(u);
        return rc;
    }
    mem_free(m, u->txbuf);
    mem_free(m, u->rxbuf);
    mem_free(m, u);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Operations                                                         */
/* ------------------------------------------------------------------ */

pmul_now pmul_uv_now(const pmul_uv *u)
{
    return now_of(u);
}

void pmul_uv_service(pmul_uv *u)
{
    if (u == NULL || u->closing)
        return;
    service(u);
}

uint64_t pmul_uv_rx_truncated(const pmul_uv *u)
{
    return u->rx_truncated;
}

uint64_t pmul_uv_tx_datagrams(const pmul_uv *u)
{
    return u->tx_datagrams;
}

uint64_t pmul_uv_tx_errors(const pmul_uv *u)
{
    return u->tx_errors;
}

void pmul_uv_close(pmul_uv *u, pmul_uv_close_fn close_fn, void *arg)
{
    if (u == NULL)
        return;
    u->close_fn = close_fn;
    u->close_arg = arg;
    close_all(u);
}
