/*
 * NAME
 *	mule-node 1
 * SUMMARY
 *	one P_MUL mail node for the demo (a precursor of muled)
 * SYNOPSIS
 *	mule-node --id IP --routes FILE [--send DIR] [--deliver DIR]
 *		[--lmtp IP:PORT] [--group GROUP] [--rate BPS] [--hostname NAME]
 *		[--emcon-until T] [--expect N] [--timeout T] [--quiet]
 *		[--fec on|off] [--fec-ratio PCT] [--fec-emcon-repairs N]
 *		[--fec-adaptive on|off] [--fec-joint on|off] [--shared-medium on|off]
 *		[--pdu-size N] [--rtx-min T]
 * DESCRIPTION
 *	Runs one P_MUL engine on real UDP sockets (pmul_uv) and carries
 *	mail over it with the MULE layer:
 *
 *	Sending: each DIR/NAME.env (reverse path and MAIL parameters on the
 *	first line, one recipient per following line) with DIR/NAME.eml
 *	(RFC 5322) goes through mule_gw_from_smtp() (RFC 8494 section 4),
 *	mule_node_outbound() (section 3: routing table, CompressedData
 *	output), and one pmul_engine_submit() per ACP 142 destination (the
 *	program owns the engine; pmul_uv binds it to sockets).
 *
 *	Receiving: every delivered P_MUL message goes through
 *	mule_node_inbound() (CompressedData, BSMTP-like payload, relay with
 *	the message's destination list), and its local recipients are
 *	written to the --deliver directory (NAME.env with the SMTP command
 *	lines, NAME.eml; written to tmp/ and renamed) and/or handed to an
 *	LMTP server (mule_gw_to_smtp(), section 5).  What mule_node would
 *	relay further or report in a DSN is only counted: no spool.
 *
 *	It has no spool and no SMTP server: mail enters from files, and
 *	what is not acknowledged when the program ends is reported, not
 *	kept.  muled will replace it.
 * SECURITY
 *	Received P_MUL payloads are untrusted; they are decoded by the
 *	library parsers (engine codec, mule_cdt with its inflation caps,
 *	bsmtp_payload).  Files given on the command line are trusted.
 * DIAGNOSTICS
 *	One line per event on stdout ("delivered", "acked", "failed",
 *	"done"), library logs on stderr, a summary at exit.  Exit status 0
 *	when every sent message was acknowledged by all its destinations and
 *	at least --expect messages were delivered; 1 otherwise; 2 on usage
 *	or setup errors.
 * SEE ALSO
 *	docs/demo.md, tools/demo.sh, pmul_uv.h, mule_node.h.
 * LICENSE
 *	MIT (see LICENSE).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "bsmtp/bsmtp_payload.h"
#include "mule/mule_cdt.h"
#include "mule/mule_err.h"
#include "mule/mule_gw.h"
#include "mule/mule_node.h"
#include "mule/mule_relay.h"
#include "pmul/util/num.h"
#include "mule/mule_route.h"
#include "pmul/pmul_uv.h"
#include "tools/mule_node_lmtp.h"

#define MAX_MAILS   256         /* files taken from --send */
#define MAX_RCPTS   100         /* recipients per .env file */
#define MAX_FILE    (16u << 20) /* bytes per input file */

/* One P_MUL message we sent. */
typedef struct sent_msg {
    char name[64];              /* mail file stem */
    uint32_t msid;
    size_t dest_cnt;
    size_t acked;
    size_t failed;
    bool done;
    uint64_t submit_ms;
    size_t payload_len;
    size_t content_len;
} sent_msg;

typedef struct node {
    uv_loop_t *loop;
    pmul_engine *engine;        /* ours; pmul_uv drives its I/O */
    pmul_uv *pu;
    uv_timer_t t_check, t_emcon, t_timeout;
    uv_signal_t sig_term, sig_int;
    mule_route_table *routes;
    mule_cdt_config cdt;
    mule_node_config ncfg;      /* mule_node: this node's MULE decisions */
    logger lg;

    /* options */
    const char *id_text, *routes_path, *send_dir, *deliver_dir, *hostname;
    char lmtp_ip[INET_ADDRSTRLEN];
    unsigned lmtp_port;
    uint32_t node_id, group;
    uint64_t rate_bps;
    bool fec;                   /* send with FEC repair */
    unsigned fec_ratio;         /* proactive repairs, % of a block */
    unsigned fec_emcon_repairs;
    bool fec_adaptive;          /* repairs sized from the reported loss */
    bool fec_joint;             /* joint repair rounds (docs/wire.md 10.8) */
    bool shared_medium;         /* one channel for every node (a radio net) */
    size_t pdu_size;
    uint32_t rtx_min_ms;        /* retransmission timer floor */
    double emcon_until_s, timeout_s;
    long expect;
    bool quiet;

    uint64_t start_ms;
    sent_msg sent[MAX_MAILS * 4];
    size_t sent_cnt;
    size_t mails_read, mails_failed;
    size_t delivered, lmtp_ok, lmtp_fail, rx_errors;
    bool finishing;
    int exit_code;
} node;

static double elapsed(const node *n)
{
    return (double)(uv_now(n->loop) - n->start_ms) / 1000.0;
}

static const char *ntoa(uint32_t v, char out[16])
{
    return mule_route_ntoa(v, out);
}

/* The RFC 5322 date of now (UTC). */
static void date_now(char *out, size_t len)
{
    time_t t = time(NULL);
    struct tm tm;

    gmtime_r(&t, &tm);
    if (strftime(out, len, "%a, %d %b %Y %H:%M:%S +0000", &tm) == 0)
        snprintf(out, len, "Thu, 01 Jan 1970 00:00:00 +0000");
}

static int read_file(const char *path, uint8_t **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *p = NULL;
    size_t n = 0, cap = 0;

    if (f == NULL)
        return -1;
    for (;;) {
        if (n == cap) {
            if (cap >= MAX_FILE)
                goto fail;
            cap = cap ? cap * 2 : 8192;
            uint8_t *q = realloc(p, cap + 1);
            if (q == NULL)
                goto fail;
            p = q;
        }
        size_t r = fread(p + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    if (ferror(f))
        goto fail;
    fclose(f);
    p[n] = '\0';
    *out = p;
    *len = n;
    return 0;
fail:
    free(p);
    fclose(f);
    return -1;
}

/* Write data to dir/tmp/name, fsync, rename to dir/name (style.md 9). */
static int write_atomic(const char *dir, const char *name, const void *a, size_t alen,
                        const void *b, size_t blen)
{
    char tmp[4096], dst[4096];
    int fd, n1, n2;

    n1 = snprintf(tmp, sizeof(tmp), "%s/tmp/%s", dir, name);
    n2 = snprintf(dst, sizeof(dst), "%s/%s", dir, name);
    if (n1 < 0 || (size_t)n1 >= sizeof(tmp) || n2 < 0 || (size_t)n2 >= sizeof(dst))
        return -1;
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return -1;
    if ((alen > 0 && write(fd, a, alen) != (ssize_t)alen) ||
        (blen > 0 && write(fd, b, blen) != (ssize_t)blen) || fsync(fd) < 0) {
        close(fd);
        unlink(tmp);
        return -1;
    }
    if (close(fd) < 0 || rename(tmp, dst) < 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Finishing                                                          */
/* ------------------------------------------------------------------ */

static void on_closed(uv_handle_t *h)
{
    (void)h;
}

static void on_pu_closed(void *arg)
{
    (void)arg;
}

static void finish(node *n, const char *why)
{
    pmul_stats st;
    size_t acked = 0, dests = 0, failed = 0, done = 0;
    bool ok;

    if (n->finishing)
        return;
    n->finishing = true;
    pmul_engine_stats(n->engine, &st);
    for (size_t i = 0; i < n->sent_cnt; i++) {
        dests += n->sent[i].dest_cnt;
        acked += n->sent[i].acked;
        failed += n->sent[i].failed;
        done += n->sent[i].done;
    }
    ok = acked == dests && n->mails_failed == 0 &&
         (n->expect < 0 || n->delivered >= (size_t)n->expect) &&
         (n->lmtp_port == 0 || n->lmtp_fail == 0);
    n->exit_code = ok ? 0 : 1;
    printf("%s +%.3fs summary reason=%s mails=%zu pmul_msgs=%zu msgs_done=%zu dests=%zu acked=%zu "
           "failed=%zu delivered=%zu lmtp_ok=%zu lmtp_fail=%zu rx_errors=%zu "
           "data_pdus=%" PRIu64 " retx_data=%" PRIu64 " acks_rx=%" PRIu64
           " acks_tx=%" PRIu64 " udp_tx=%" PRIu64 " result=%s\n",
           n->id_text, elapsed(n), why, n->mails_read, n->sent_cnt, done, dests, acked,
           failed, n->delivered, n->lmtp_ok, n->lmtp_fail, n->rx_errors,
           st.tx_pdus[0], st.retx_data_pdus, st.rx_pdus[1], st.tx_pdus[1],
           pmul_uv_tx_datagrams(n->pu), ok ? "OK" : "FAIL");
    fflush(stdout);
    pmul_uv_close(n->pu, on_pu_closed, n);
    uv_close((uv_handle_t *)&n->t_check, on_closed);
    uv_close((uv_handle_t *)&n->t_emcon, on_closed);
    uv_close((uv_handle_t *)&n->t_timeout, on_closed);
    uv_close((uv_handle_t *)&n->sig_term, on_closed);
    uv_close((uv_handle_t *)&n->sig_int, on_closed);
}

/* ------------------------------------------------------------------ */
/* Receiving                                                          */
/* ------------------------------------------------------------------ */

/* Deliver the local part of a relay result: files and/or LMTP. */
static void deliver_local(node *n, const mule_relay_result *res, const char *tag)
{
    mule_smtp_txn txn;
    buf head;
    int rc;

    rc = mule_gw_to_smtp(res->local_env, NULL, 0, res->content.data, res->content.len,
                         NULL, &txn);
    if (rc < 0) {
        printf("%s +%.3fs error msg=%s step=to-smtp error=%s\n", n->id_text, elapsed(n), tag,
               mule_strerror(rc));
        n->rx_errors++;
        return;
    }
    if (n->deliver_dir != NULL) {
        char name[128];
        buf_init(&head, NULL, SIZE_MAX);
        rc = buf_printf(&head, "%s\n", txn.mail_from);
        for (size_t i = 0; rc == 0 && i < txn.rcpt_cnt; i++)
            rc = buf_printf(&head, "%s\n", txn.rcpt_to[i]);
        snprintf(name, sizeof(name), "%s.eml", tag);
        if (rc == 0)
            rc = write_atomic(n->deliver_dir, name, txn.content, txn.content_len, NULL, 0);
        snprintf(name, sizeof(name), "%s.env", tag);
        if (rc == 0)
            rc = write_atomic(n->deliver_dir, name, head.data, head.len, NULL, 0);
        buf_fini(&head);
        if (rc < 0) {
            printf("%s +%.3fs error msg=%s step=write-file\n", n->id_text, elapsed(n), tag);
            n->rx_errors++;
        }
    }
    if (n->lmtp_port != 0) {
        mule_lmtp_result lr;
        rc = mule_lmtp_deliver(n->lmtp_ip, n->lmtp_port, n->hostname, &txn, 10, &lr);
        n->lmtp_ok += lr.rcpt_ok;
        n->lmtp_fail += lr.rcpt_fail + (rc < 0 ? txn.rcpt_cnt : 0);
        printf("%s +%.3fs lmtp msg=%s rcpts=%zu ok=%zu fail=%zu%s last=\"%s\"\n",
               n->id_text, elapsed(n), tag, txn.rcpt_cnt, lr.rcpt_ok,
               lr.rcpt_fail + (rc < 0 ? txn.rcpt_cnt : 0),
               lr.downgraded ? " params=dropped" : "", lr.last_reply);
    }
    mule_gw_txn_fini(&txn);
}

/* now for mule_node: the time, its RFC 5322 text and a Message-ID for a
 * DSN (built by the library, not sent: mule-node has no spool). */
static void clock_now(const node *n, const char *tag, mule_node_clock *clk, char *date,
                      size_t dlen, char *msgid, size_t mlen)
{
    date_now(date, dlen);
    snprintf(msgid, mlen, "<dsn.%s@%s>", tag, n->hostname);
    memset(clk, 0, sizeof(*clk));
    clk->now_s = (int64_t)time(NULL);
    clk->now_date = date;
    clk->dsn_msgid = msgid;
}

/* Which step of mule_node_inbound() refused a message, for the "error
 * ... step=" line: CompressedData, the BSMTP-like payload, or the relay. */
static const char *inbound_step(int err)
{
    switch (err) {
    case MULE_ERR_BER: case MULE_ERR_BER_TRAILING: case MULE_ERR_NOT_MULE:
    case MULE_ERR_ALGORITHM: case MULE_ERR_INFLATE: case MULE_ERR_TOO_BIG:
    case MULE_ERR_RATIO: case MULE_ERR_INVAL: case MULE_ERR_NOMEM:
        return "cdt";
    default:
        /* Relaying a parsed envelope without a payload cap meets no
         * BSMTP code but out of memory. */
        return bsmtp_is_err(err) && err != BSMTP_ERR_NOMEM ? "bsmtp" : "relay";
    }
}

static void on_delivered(node *n, const pmul_event *ev)
{
    char src[16], tag[64], date[64], msgid[160];
    bsmtp_envelope *env = NULL;
    const bsmtp_envelope *e;
    mule_node_clock clk;
    mule_node_result res;
    mule_node_in in;
    const char *step;
    size_t off = 0;
    int rc;

    ntoa(ev->source_id, src);
    snprintf(tag, sizeof(tag), "%s-%08" PRIx32, src, ev->msid);
    clock_now(n, tag, &clk, date, sizeof(date), msgid, sizeof(msgid));
    /* The Address_PDU's destination list (multi-hop relaying: its
     * addressees got the message directly and are never sent it again);
     * mule_node takes an empty list as us alone. */
    memset(&in, 0, sizeof(in));
    in.src = ev->source_id;
    in.msid = ev->msid;
    in.dests = ev->dests;
    in.dest_cnt = ev->dest_cnt;
    in.payload = ev->payload;
    in.payload_len = ev->payload_len;
    in.id = tag;
    rc = mule_node_inbound(&n->ncfg, n->routes, &in, &clk, NULL, &n->lg, &res);
    if (rc < 0)
        res.err = rc;
    step = res.has_relay ? NULL : inbound_step(res.err);
    if (step != NULL && strcmp(step, "relay") != 0) {
        printf("%s +%.3fs error msg=%s step=%s error=%s\n", n->id_text, elapsed(n), tag, step,
               strcmp(step, "bsmtp") == 0 ? bsmtp_strerror(res.err) : mule_strerror(res.err));
        n->rx_errors++;
        mule_node_result_fini(&res);
        return;
    }
    /* The payload parsed.  The result keeps its envelope only when the
     * relay ran; otherwise it is read again, for this line alone. */
    e = res.relay.env;
    if (e == NULL && bsmtp_payload_parse(res.inflated.data, res.inflated.len, NULL, NULL,
                                         &env, &off) == 0)
        e = env;
    printf("%s +%.3fs delivered msg=%s from=%s prio=%u bytes=%zu inflated=%zu rcpts=%zu "
           "mail_from=<%s>\n", n->id_text, elapsed(n), tag, src, ev->priority,
           ev->payload_len, res.inflated.len, e != NULL ? e->rcpt_cnt : 0,
           e != NULL ? e->reverse_path : "");
    n->delivered++;
    bsmtp_envelope_free(env);
    if (step != NULL) {
        printf("%s +%.3fs error msg=%s step=relay error=%s\n", n->id_text, elapsed(n), tag,
               mule_strerror(res.err));
        if (res.err != MULE_ERR_NOT_RESPONSIBLE)
            n->rx_errors++;
    } else {
        if (res.relay.local_env != NULL)
            deliver_local(n, &res.relay, tag);
        if (res.relay.out_cnt > 0 || res.relay.failed_cnt > 0)
            printf("%s +%.3fs note msg=%s relay_outs=%zu failed_rcpts=%zu (not relayed "
                   "further: mule-node has no spool)\n", n->id_text, elapsed(n), tag,
                   res.relay.out_cnt, res.relay.failed_cnt);
    }
    mule_node_result_fini(&res);
}

/* ------------------------------------------------------------------ */
/* Events                                                             */
/* ------------------------------------------------------------------ */

static sent_msg *find_sent(node *n, uint64_t tag)
{
    return tag < n->sent_cnt ? &n->sent[tag] : NULL;
}

static void on_event(pmul_uv *u, const pmul_event *ev, void *arg)
{
    node *n = arg;
    sent_msg *s;
    char d[16];

    (void)u;
    switch (ev->kind) {
    case PMUL_EV_DELIVERED:
        on_delivered(n, ev);
        break;
    case PMUL_EV_DEST_ACKED:
    case PMUL_EV_DEST_FAILED:
    case PMUL_EV_DEST_EMCON_OFF:
        if ((s = find_sent(n, ev->tag)) == NULL)
            break;
        if (ev->kind == PMUL_EV_DEST_ACKED)
            s->acked++;
        else if (ev->kind == PMUL_EV_DEST_FAILED)
            s->failed++;
        printf("%s +%.3fs %s msg=%s msid=%08" PRIx32 " dest=%s after=%.3fs%s%s\n",
               n->id_text, elapsed(n),
               ev->kind == PMUL_EV_DEST_ACKED ? "acked" :
               ev->kind == PMUL_EV_DEST_FAILED ? "failed" : "emcon-off",
               s->name, ev->msid, ntoa(ev->dest_id, d),
               (double)(uv_now(n->loop) - s->submit_ms) / 1000.0,
               ev->kind == PMUL_EV_DEST_FAILED ? " reason=" : "",
               ev->kind == PMUL_EV_DEST_FAILED ? pmul_reason_name(ev->reason) : "");
        break;
    case PMUL_EV_MSG_DONE:
        if ((s = find_sent(n, ev->tag)) == NULL)
            break;
        s->done = true;
        printf("%s +%.3fs done msg=%s msid=%08" PRIx32 " acked=%" PRIu32 " failed=%" PRIu32
               " after=%.3fs\n", n->id_text, elapsed(n), s->name, ev->msid, ev->acked_cnt,
               ev->failed_cnt, (double)(uv_now(n->loop) - s->submit_ms) / 1000.0);
        break;
    case PMUL_EV_RX_DISCARDED:
    case PMUL_EV_LOST_MESSAGE:
        printf("%s +%.3fs %s from=%s msid=%08" PRIx32 "\n", n->id_text, elapsed(n),
               pmul_event_name(ev->kind), ntoa(ev->source_id, d), ev->msid);
        n->rx_errors++;
        break;
    default:
        break;
    }
    fflush(stdout);
}

/* ------------------------------------------------------------------ */
/* Sending                                                            */
/* ------------------------------------------------------------------ */

/* Parse "<path> params" into its parts (in place).  Returns 0 or -1. */
static int split_path(char *line, char **path, char **params)
{
    char *gt;

    while (*line == ' ' || *line == '\t')
        line++;
    if (*line != '<' || (gt = strchr(line, '>')) == NULL)
        return -1;
    *gt = '\0';
    *path = line + 1;
    line = gt + 1;
    while (*line == ' ' || *line == '\t')
        line++;
    *params = *line != '\0' ? line : NULL;
    return 0;
}

static int send_mail(node *n, const char *stem)
{
    char path[4096], date[64];
    uint8_t *envtext = NULL, *eml = NULL;
    size_t envlen, emllen, rcpt_cnt = 0;
    mule_smtp_rcpt rcpts[MAX_RCPTS];
    char *rp = NULL, *mp = NULL, *save = NULL, *line;
    char msgid[160];
    bsmtp_envelope *env = NULL;
    mule_node_clock clk;
    mule_node_result res;
    const mule_relay_result *rr = &res.relay;
    size_t bad;
    int rc = -1;

    snprintf(path, sizeof(path), "%s/%s.env", n->send_dir, stem);
    if (read_file(path, &envtext, &envlen) < 0) {
        fprintf(stderr, "mule-node: cannot read %s\n", path);
        return -1;
    }
    snprintf(path, sizeof(path), "%s/%s.eml", n->send_dir, stem);
    if (read_file(path, &eml, &emllen) < 0) {
        fprintf(stderr, "mule-node: cannot read %s\n", path);
        goto out;
    }
    for (line = strtok_r((char *)envtext, "\r\n", &save); line != NULL;
         line = strtok_r(NULL, "\r\n", &save)) {
        char *p, *prm;
        if (line[0] == '#' || line[0] == '\0')
            continue;
        if (split_path(line, &p, &prm) < 0) {
            fprintf(stderr, "mule-node: %s.env: bad line \"%.80s\"\n", stem, line);
            goto out;
        }
        if (rp == NULL) {
            rp = p;
            mp = prm;
        } else if (rcpt_cnt < MAX_RCPTS) {
            rcpts[rcpt_cnt].addr = p;
            rcpts[rcpt_cnt].params = prm;
            rcpt_cnt++;
        }
    }
    if (rp == NULL || rcpt_cnt == 0) {
        fprintf(stderr, "mule-node: %s.env: no reverse path or no recipient\n", stem);
        goto out;
    }
    rc = mule_gw_from_smtp(rp, mp, rcpts, rcpt_cnt, NULL, &env, &bad);
    if (rc < 0) {
        fprintf(stderr, "mule-node: %s.env: envelope refused: %s\n", stem, mule_strerror(rc));
        rc = -1;
        goto out;
    }
    clock_now(n, stem, &clk, date, sizeof(date), msgid, sizeof(msgid));
    rc = mule_node_outbound(&n->ncfg, n->routes, env, eml, emllen, NULL, stem, &clk, NULL,
                            &n->lg, &res);
    if (rc < 0 || !res.has_relay) {
        fprintf(stderr, "mule-node: %s: relay: %s\n", stem,
                mule_strerror(rc < 0 ? rc : res.err));
        mule_node_result_fini(&res);
        rc = -1;
        goto out;
    }
    rc = 0;
    if (rr->failed_cnt > 0) {
        printf("%s +%.3fs failed msg=%s rcpts=%zu reason=no-route-or-expired\n",
               n->id_text, elapsed(n), stem, rr->failed_cnt);
        rc = -1;
    }
    for (size_t i = 0; i < rr->out_cnt; i++) {
        const mule_relay_out *o = &rr->outs[i];
        pmul_msg m;
        sent_msg *s;
        char g[16];

        if (n->sent_cnt == sizeof(n->sent) / sizeof(n->sent[0])) {
            rc = -1;
            break;
        }
        s = &n->sent[n->sent_cnt];
        memset(s, 0, sizeof(*s));
        snprintf(s->name, sizeof(s->name), "%s", stem);
        s->dest_cnt = o->node_cnt;
        s->submit_ms = uv_now(n->loop);
        s->payload_len = o->payload.len;
        s->content_len = rr->content.len;
        memset(&m, 0, sizeof(m));
        m.payload = o->payload.data;
        m.payload_len = o->payload.len;
        m.dests = o->nodes;
        m.dest_cnt = o->node_cnt;
        m.group = o->group;
        m.priority = o->priority;
        m.expiry_s = o->expiry_s;
        m.tag = n->sent_cnt;
        int prc = pmul_engine_submit(n->engine, pmul_uv_now(n->pu), &m, &s->msid);

        if (prc == 0)
            pmul_uv_service(n->pu);
        if (prc < 0) {
            printf("%s +%.3fs failed msg=%s step=submit error=%s\n", n->id_text, elapsed(n),
                   stem, pmul_strerror(prc));
            rc = -1;
            continue;
        }
        n->sent_cnt++;
        printf("%s +%.3fs sent msg=%s msid=%08" PRIx32 " group=%s dests=%zu prio=%u "
               "rcpts=%zu content=%zu compressed=%zu\n", n->id_text, elapsed(n), stem,
               s->msid, ntoa(o->group, g), o->node_cnt, o->priority, o->rcpt_cnt,
               rr->content.len, o->payload.len);
    }
    if (rr->local_env != NULL)
        deliver_local(n, rr, stem);
    mule_node_result_fini(&res);
out:
    bsmtp_envelope_free(env);
    free(envtext);
    free(eml);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void send_all(node *n)
{
    DIR *d = opendir(n->send_dir);
    struct dirent *de;
    char *names[MAX_MAILS];
    size_t cnt = 0;

    if (d == NULL) {
        fprintf(stderr, "mule-node: cannot open %s: %s\n", n->send_dir, strerror(errno));
        n->mails_failed++;
        return;
    }
    while ((de = readdir(d)) != NULL && cnt < MAX_MAILS) {
        size_t l = strlen(de->d_name);
        if (l > 4 && l < 60 && strcmp(de->d_name + l - 4, ".env") == 0) {
            names[cnt] = strndup(de->d_name, l - 4);
            if (names[cnt] != NULL)
                cnt++;
        }
    }
    closedir(d);
    qsort(names, cnt, sizeof(names[0]), cmp_str);
    for (size_t i = 0; i < cnt; i++) {
        n->mails_read++;
        if (send_mail(n, names[i]) < 0)
            n->mails_failed++;
        free(names[i]);
    }
}

/* ------------------------------------------------------------------ */
/* Timers and signals                                                 */
/* ------------------------------------------------------------------ */

static void on_check(uv_timer_t *t)
{
    node *n = t->data;
    bool all_done = true;

    if (n->finishing)
        return;
    for (size_t i = 0; i < n->sent_cnt; i++)
        all_done = all_done && n->sent[i].done;
    if (n->send_dir != NULL) {
        /* Sender: every message finished and the engine has sent its
         * Ack-Acks and holds nothing. */
        if (all_done && pmul_engine_is_idle(n->engine))
            finish(n, "all-done");
    } else if (n->expect >= 0 && n->delivered >= (size_t)n->expect &&
               pmul_engine_is_idle(n->engine)) {
        finish(n, "all-delivered");
    }
}

static void on_emcon(uv_timer_t *t)
{
    node *n = t->data;

    printf("%s +%.3fs emcon off\n", n->id_text, elapsed(n));
    fflush(stdout);
    pmul_engine_set_emcon(n->engine, pmul_uv_now(n->pu), false);
    pmul_uv_service(n->pu);
}

static void on_timeout(uv_timer_t *t)
{
    finish(t->data, "timeout");
}

static void on_signal(uv_signal_t *s, int signum)
{
    finish(s->data, signum == SIGTERM ? "sigterm" : "sigint");
}

/* ------------------------------------------------------------------ */
/* Main                                                               */
/* ------------------------------------------------------------------ */

/* Strict option values (pmul/util/num.h): "2h" is two hours, "xyz" an
 * error, never 0. */
static int bad_opt(const char *opt, const char *val, const char *want)
{
    fprintf(stderr, "mule-node: %s '%s': want %s\n", opt, val, want);
    return 2;
}

/* "on" or "off" into *out; false for anything else. */
static bool
on_off(const char *s, bool *out)
{
    if (strcmp(s, "on") == 0)
        *out = true;
    else if (strcmp(s, "off") == 0)
        *out = false;
    else
        return false;
    return true;
}

static void usage(FILE *f)
{
    fprintf(f,
"usage: mule-node --id IP --routes FILE [options]\n"
"\n"
"One P_MUL mail node for the demo: a PRECURSOR of the daemon muled, not the\n"
"daemon.  Mail enters from files (--send), there is no SMTP server and no\n"
"spool: what is not acknowledged when it exits is reported, not kept.\n"
"\n"
"  --id IP            node ID and source address (e.g. 198.18.0.1)\n"
"  --routes FILE      MULE routing table (docs/configuration.md)\n"
"  --group GROUP      default multicast group (default 239.1.1.2)\n"
"  --rate BPS         P_MUL pacing in bit/s: 9600, 9.6k, 64kbit (default 9600)\n"
"  --hostname NAME    name in Received fields and LHLO (default: the ID)\n"
"  --send DIR         send every DIR/NAME.env + DIR/NAME.eml\n"
"  --deliver DIR      write received mail as DIR/SRC-MSID.{env,eml}\n"
"  --lmtp IP:PORT     hand received mail to this LMTP server\n"
"  --emcon-until T    receive only (EMCON) for the first T: 10 (seconds), 30m, 2h\n"
"  --expect N         receiver: succeed only if N messages arrive\n"
"  --timeout T        stop after T: 60 (seconds), 10m, 1h (default 60)\n"
"  --quiet            no library log lines\n"
"  --fec on|off       send with FEC repair (default on; docs/wire.md 10)\n"
"  --fec-ratio PCT    proactive repairs in %% of each block (default 10)\n"
"  --fec-emcon-repairs N  repairs per block per EMCON transmission (default 8)\n"
"  --fec-adaptive on|off  size repairs from the loss Acks report (default on)\n"
"  --fec-joint on|off  one repair round for several messages (default on; docs/wire.md 10.8)\n"
"  --shared-medium on|off  one channel for every node: count received air in\n"
"                     the pacing (default off)\n"
"  --pdu-size N       largest P_MUL datagram, 576..65507 octets (default 1024)\n"
"  --rtx-min T        retransmission timer floor: 2s, 500ms (default 2s)\n"
"\n"
"Exit 0 when every sent message was acknowledged by all destinations and\n"
"at least N messages were delivered; 1 otherwise; 2 on setup errors.\n");
}

static void log_sink(void *arg, int level, const char *line)
{
    fprintf(stderr, "%s %s %s\n", (const char *)arg, log_level_name(level), line);
}

/* Randomness for the engine (first MSID, Ack spreading): the kernel's. */
static uint32_t rand_fn(void *arg)
{
    uint32_t v = 0;

    (void)arg;
    if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v))
        v = (uint32_t)time(NULL) * 2654435761u;
    return v;
}

static int parse_ip(const char *s, uint32_t *out)
{
    struct in_addr a;

    if (inet_pton(AF_INET, s, &a) != 1)
        return -1;
    *out = ntohl(a.s_addr);
    return 0;
}

int main(int argc, char **argv)
{
    static node nd;
    node *n = &nd;
    static const struct option lopts[] = {
        {"id", required_argument, NULL, 'i'}, {"routes", required_argument, NULL, 'r'},
        {"group", required_argument, NULL, 'g'}, {"rate", required_argument, NULL, 'R'},
        {"hostname", required_argument, NULL, 'H'}, {"send", required_argument, NULL, 's'},
        {"deliver", required_argument, NULL, 'd'}, {"lmtp", required_argument, NULL, 'l'},
        {"emcon-until", required_argument, NULL, 'e'},
        {"expect", required_argument, NULL, 'x'}, {"timeout", required_argument, NULL, 't'},
        {"quiet", no_argument, NULL, 'q'}, {"help", no_argument, NULL, 'h'},
        {"fec", required_argument, NULL, 'F'}, {"fec-ratio", required_argument, NULL, 'P'},
        {"fec-emcon-repairs", required_argument, NULL, 'E'},
        {"fec-adaptive", required_argument, NULL, 'A'},
        {"fec-joint", required_argument, NULL, 'J'},
        {"shared-medium", required_argument, NULL, 'M'},
        {"pdu-size", required_argument, NULL, 'S'}, {"rtx-min", required_argument, NULL, 'm'},
        {NULL, 0, NULL, 0},
    };
    pmul_config cfg;
    pmul_env env;
    pmul_uv_opts uo;
    uint8_t *rtext;
    size_t rlen;
    mule_route_error rerr;
    char *colon;
    uint64_t v;
    int o, rc;

    n->group = 0xEF010102u;     /* 239.1.1.2 */
    n->rate_bps = 9600;
    n->fec = true;              /* muled's defaults (mule_conf) */
    n->fec_ratio = 10;
    n->fec_emcon_repairs = 8;
    n->fec_adaptive = true;
    n->fec_joint = true;
    n->pdu_size = 1024;
    n->rtx_min_ms = 2000;
    n->timeout_s = 60;
    n->expect = -1;
    while ((o = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
        switch (o) {
        case 'i': n->id_text = optarg; break;
        case 'r': n->routes_path = optarg; break;
        case 'g':
            if (parse_ip(optarg, &n->group) < 0) {
                fprintf(stderr, "mule-node: bad --group\n");
                return 2;
            }
            break;
        case 'R':
            /* 9600, 9.6k, 64kbit; 0 = no pacing */
            if (num_parse_rate_bps(optarg, 0, 10000000000ull, &v) != 0)
                return bad_opt("--rate", optarg, "a rate in bit/s (9600, 9.6k, 64kbit)");
            n->rate_bps = v;
            break;
        case 'H': n->hostname = optarg; break;
        case 's': n->send_dir = optarg; break;
        case 'd': n->deliver_dir = optarg; break;
        case 'l':
            colon = strrchr(optarg, ':');
            if (colon == NULL || (size_t)(colon - optarg) >= sizeof(n->lmtp_ip)) {
                fprintf(stderr, "mule-node: --lmtp wants IP:PORT\n");
                return 2;
            }
            memcpy(n->lmtp_ip, optarg, (size_t)(colon - optarg));
            n->lmtp_ip[colon - optarg] = '\0';
            if (num_parse_u64(colon + 1, 1, 65535, &v) != 0)
                return bad_opt("--lmtp", optarg, "IP:PORT with a port 1..65535");
            n->lmtp_port = (unsigned)v;
            break;
        case 'e':
            /* seconds unless a unit says otherwise: 10, 2h, 30m, 500ms */
            if (num_parse_duration_ms(optarg, 1000, 0, 30ull * 86400000, &v) != 0)
                return bad_opt("--emcon-until", optarg, "a duration (10, 30m, 2h)");
            n->emcon_until_s = (double)v / 1000.0;
            break;
        case 'x':
            if (num_parse_u64(optarg, 0, 1000000, &v) != 0)
                return bad_opt("--expect", optarg, "a count 0..1000000");
            n->expect = (long)v;
            break;
        case 't':
            if (num_parse_duration_ms(optarg, 1000, 1, 30ull * 86400000, &v) != 0)
                return bad_opt("--timeout", optarg, "a duration (60, 10m, 1h)");
            n->timeout_s = (double)v / 1000.0;
            break;
        case 'q': n->quiet = true; break;
        case 'F':
            if (!on_off(optarg, &n->fec))
                return bad_opt("--fec", optarg, "on or off");
            break;
        case 'P':
            if (num_parse_u64(optarg, 0, 100, &v) != 0)
                return bad_opt("--fec-ratio", optarg, "a percentage 0..100");
            n->fec_ratio = (unsigned)v;
            break;
        case 'E':
            if (num_parse_u64(optarg, 0, 64, &v) != 0)
                return bad_opt("--fec-emcon-repairs", optarg, "a count 0..64");
            n->fec_emcon_repairs = (unsigned)v;
            break;
        case 'J':
            if (!on_off(optarg, &n->fec_joint))
                return bad_opt("--fec-joint", optarg, "on or off");
            break;
        case 'A':
            if (!on_off(optarg, &n->fec_adaptive))
                return bad_opt("--fec-adaptive", optarg, "on or off");
            break;
        case 'M':
            if (!on_off(optarg, &n->shared_medium))
                return bad_opt("--shared-medium", optarg, "on or off");
            break;
        case 'S':
            if (num_parse_u64(optarg, 576, 65507, &v) != 0)
                return bad_opt("--pdu-size", optarg, "octets 576..65507");
            n->pdu_size = (size_t)v;
            break;
        case 'm':
            if (num_parse_duration_ms(optarg, 1000, 10, 3600000, &v) != 0)
                return bad_opt("--rtx-min", optarg, "a duration (2s, 500ms)");
            n->rtx_min_ms = (uint32_t)v;
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (n->id_text == NULL || n->routes_path == NULL || parse_ip(n->id_text, &n->node_id) < 0 ||
        n->node_id == 0 || n->timeout_s <= 0) {
        usage(stderr);
        return 2;
    }
    if (n->hostname == NULL)
        n->hostname = n->id_text;
    if (n->deliver_dir != NULL) {
        char tmp[4096];
        snprintf(tmp, sizeof(tmp), "%s/tmp", n->deliver_dir);
        if ((mkdir(n->deliver_dir, 0755) < 0 && errno != EEXIST) ||
            (mkdir(tmp, 0700) < 0 && errno != EEXIST)) {
            fprintf(stderr, "mule-node: cannot create %s: %s\n", tmp, strerror(errno));
            return 2;
        }
    }
    n->lg.fn = n->quiet ? NULL : log_sink;
    n->lg.arg = (void *)(uintptr_t)n->id_text;
    n->lg.min_level = LOG_LVL_INFO;
    mule_cdt_config_init(&n->cdt);
    memset(&n->ncfg, 0, sizeof(n->ncfg));
    n->ncfg.hostname = n->hostname;
    n->ncfg.node_id = n->node_id;
    n->ncfg.cdt = &n->cdt;

    if (read_file(n->routes_path, &rtext, &rlen) < 0) {
        fprintf(stderr, "mule-node: cannot read %s\n", n->routes_path);
        return 2;
    }
    rc = mule_route_table_parse((const char *)rtext, rlen, NULL, &n->lg, &n->routes, &rerr);
    free(rtext);
    if (rc < 0) {
        fprintf(stderr, "mule-node: %s:%u: %s\n", n->routes_path, rerr.line, rerr.text);
        return 2;
    }

    n->loop = uv_default_loop();
    pmul_config_default(&cfg);
    cfg.node_id = n->node_id;
    cfg.default_group = n->group;
    cfg.link_rate_bps = n->rate_bps;
    cfg.emcon = n->emcon_until_s > 0;
    cfg.fec = n->fec;
    cfg.fec_ratio_pct = n->fec_ratio;
    cfg.fec_emcon_repairs = n->fec_emcon_repairs;
    cfg.fec_adaptive = n->fec_adaptive;
    cfg.fec_joint = n->fec_joint;
    cfg.shared_medium = n->shared_medium;
    cfg.pdu_max_len = n->pdu_size;
    cfg.ack_rtx_min_ms = n->rtx_min_ms;
    if (cfg.ack_rtx_max_ms < cfg.ack_rtx_min_ms)
        cfg.ack_rtx_max_ms = cfg.ack_rtx_min_ms;
    memset(&env, 0, sizeof(env));
    env.log = n->lg;
    env.rand = rand_fn;
    env.log.min_level = LOG_LVL_WARN;
    pmul_uv_opts_default(&uo);
    uo.log = env.log;
    rc = pmul_engine_new(&n->engine, &cfg, &env);
    if (rc == 0 && (rc = pmul_uv_new(&n->pu, n->loop, n->engine, &uo, on_event, n)) < 0) {
        uv_run(n->loop, UV_RUN_DEFAULT);        /* close callbacks */
        pmul_engine_free(n->engine);
    }
    if (rc < 0) {
        fprintf(stderr, "mule-node: cannot start P_MUL on %s: %s\n", n->id_text,
                pmul_strerror(rc));
        uv_run(n->loop, UV_RUN_DEFAULT);
        mule_route_table_free(n->routes);
        return 2;
    }
    n->start_ms = uv_now(n->loop);
    printf("%s +0.000s up node=%s host=%s rate=%" PRIu64 "bit/s emcon=%s fec=%s/%u%%%s\n",
           n->id_text, n->id_text, n->hostname, n->rate_bps, cfg.emcon ? "on" : "off",
           cfg.fec ? "on" : "off", n->fec_ratio, n->lmtp_port ? " lmtp=on" : "");
    fflush(stdout);

    uv_timer_init(n->loop, &n->t_check);
    uv_timer_init(n->loop, &n->t_emcon);
    uv_timer_init(n->loop, &n->t_timeout);
    uv_signal_init(n->loop, &n->sig_term);
    uv_signal_init(n->loop, &n->sig_int);
    n->t_check.data = n->t_emcon.data = n->t_timeout.data = n;
    n->sig_term.data = n->sig_int.data = n;
    uv_timer_start(&n->t_check, on_check, 200, 200);
    uv_timer_start(&n->t_timeout, on_timeout, (uint64_t)(n->timeout_s * 1000.0), 0);
    if (cfg.emcon)
        uv_timer_start(&n->t_emcon, on_emcon, (uint64_t)(n->emcon_until_s * 1000.0), 0);
    uv_signal_start(&n->sig_term, on_signal, SIGTERM);
    uv_signal_start(&n->sig_int, on_signal, SIGINT);

    if (n->send_dir != NULL)
        send_all(n);

    uv_run(n->loop, UV_RUN_DEFAULT);
    (void)uv_loop_close(n->loop);
    pmul_engine_free(n->engine);        /* after pmul_uv closed */
    mule_route_table_free(n->routes);
    return n->exit_code;
}
