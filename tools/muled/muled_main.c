/*
 * NAME
 *	muled 8
 * SUMMARY
 *	the MULE daemon: Internet mail over ACP 142 P_MUL multicast
 * SYNOPSIS
 *	muled [-c FILE] [-f] [-n]
 * DESCRIPTION
 *	One muled runs per radio node, next to the node's MTA.  It keeps a
 *	crash-safe spool (docs/spool.md) and runs, on one libuv loop:
 *
 *	- the P_MUL engine (pmul_uv) in accept mode: a received message is
 *	  acknowledged only once it is durable in the spool;
 *	- the MULE decisions (mule_node): routing, relay, DSNs;
 *	- submission from the pickup directory (mule-submit writes it);
 *	- hand-off of received mail to a Maildir (default), LMTP or SMTP,
 *	  with retries and DSNs;
 *	- EMCON, persisted in the spool: a node restarted in EMCON sends
 *	  nothing until EMCON is lifted (SIGUSR1: on, SIGUSR2: off).
 *
 *	-c FILE  configuration (default /etc/mule/muled.conf; muled.conf(5),
 *	         docs/configuration.md)
 *	-f       stay in the foreground, log to stderr
 *	-n       check the configuration and routing table, then exit:
 *	         0 if good, 78 with "file:line: reason" otherwise
 * SIGNALS
 *	SIGTERM, SIGINT: stop (everything accepted stays in the spool).
 *	SIGHUP: reload muled.conf and the routing table (mulectl reload
 *	does the same; a bad file keeps the running ones).
 *	SIGUSR1 / SIGUSR2: EMCON on / off (persistent).
 * DIAGNOSTICS
 *	One log line per event, starting with the queue ID.  Exit 0 after
 *	a clean stop, 1 when the spool cannot be opened or P_MUL cannot
 *	start, 64 on usage errors, 78 on configuration errors.
 * LICENSE
 *	MIT (see LICENSE).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "mule/mule_audit.h"
#include "mule/mule_auditlog_fs.h"
#include "mule/mule_err.h"
#include "pmul/pmul_err.h"
#include "pmul/util/arr.h"
#include "tools/common/conffile.h"
#include "tools/common/fileio.h"
#include "tools/muled/muled.h"

#define DEFAULT_CONF "/etc/mule/muled.conf"
/* Queue entries started per timer run: the loop serves sockets between. */
#define QUEUE_BATCH 256
/* Longest sleep of the queue timer (it is also woken by every change). */
#define QUEUE_IDLE_MS 30000

static muled g_d;

int64_t
muled_now_s(void)
{
    return (int64_t)time(NULL);
}

void
muled_date_fmt(int64_t t, const char *fmt, char *out, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;

    gmtime_r(&tt, &tm);
    /* fmt is checked at each caller (format attribute in muled.h). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    if (strftime(out, len, fmt, &tm) == 0 && len > 0)
        out[0] = '\0';
#pragma GCC diagnostic pop
}

void
muled_date(int64_t t, char *out, size_t len)
{
    muled_date_fmt(t, "%a, %d %b %Y %H:%M:%S +0000", out, len);
}

void
muled_clock(muled *d, mule_node_clock *clk, char *date, size_t datelen, char *msgid,
            size_t msgidlen)
{
    int64_t now = muled_now_s();

    muled_date(now, date, datelen);
    snprintf(msgid, msgidlen, "<%" PRId64 ".%" PRIu64 ".%d@%s>", now, ++d->seq, (int)getpid(),
             d->cf.hostname);
    clk->now_s = now;
    clk->now_date = date;
    clk->dsn_msgid = msgid;
}

/* ------------------------------------------------------------------ */
/* Queue                                                              */

static void on_queue(uv_timer_t *t);

void
muled_kick(muled *d)
{
    if (!d->stopping && !uv_is_closing((uv_handle_t *)&d->t_queue))
        uv_timer_start(&d->t_queue, on_queue, 0, 0);
}

static void
queue_run(muled *d)
{
    mule_spool *sp = mule_spool_fs_core(d->spool);
    int64_t now = muled_now_s(), next;
    char last[MULE_SPOOL_ID_SIZE] = "";
    uint64_t wait_ms = QUEUE_IDLE_MS;

    if (d->spool_retry_s > now) {
        wait_ms = (uint64_t)(d->spool_retry_s - now) * 1000;
        goto arm;
    }
    for (int i = 0; i < QUEUE_BATCH && !d->stopping; i++) {
        mule_spool_info info;

        if (!mule_spool_next_due(sp, now, &info)) {
            break;
        }
        if (strcmp(info.id, last) == 0) {
            /* The entry could not be moved on (spool error): later. */
            wait_ms = 1000;
            goto arm;
        }
        memcpy(last, info.id, sizeof(last));
        if (info.kind == MULE_SPOOL_OUT)
            muled_tx_start(d, &info);
        else
            muled_dlv_start(d, &info);
        if (i == QUEUE_BATCH - 1)
            wait_ms = 0;
    }
    next = mule_spool_next_deadline(sp);
    if (next != INT64_MAX && wait_ms > 0) {
        int64_t w = next <= now ? 1000 : (next - now) * 1000;

        if ((uint64_t)w < wait_ms)
            wait_ms = (uint64_t)w;
    }
arm:
    if (!d->stopping)
        uv_timer_start(&d->t_queue, on_queue, wait_ms, 0);
}

static void
on_queue(uv_timer_t *t)
{
    queue_run(t->data);
}

static void
on_pickup(uv_timer_t *t)
{
    muled *d = t->data;

    muled_pickup_scan(d);
}

/* ------------------------------------------------------------------ */
/* Engine events                                                      */

static void
on_event(pmul_uv *u, const pmul_event *ev, void *arg)
{
    muled *d = arg;
    char ip[16];

    (void)u;
    switch (ev->kind) {
    case PMUL_EV_DELIVERED:
        muled_rx_delivered(d, ev);
        break;
    case PMUL_EV_RX_DISCARDED:
        muled_rx_discarded(d, ev);
        break;
    case PMUL_EV_LOST_MESSAGE:
        muled_log(d, LOG_LVL_WARN, "%s: messages %" PRIu32 "..%" PRIu32 " to us never arrived",
                  mule_route_ntoa(ev->source_id, ip), ev->seq_first, ev->seq_last);
        break;
    case PMUL_EV_DEST_ACKED:
    case PMUL_EV_DEST_FAILED:
    case PMUL_EV_MSG_DONE:
        muled_tx_event(d, ev);
        break;
    case PMUL_EV_DEST_EMCON_OFF:
        muled_log(d, LOG_LVL_INFO, "%s left EMCON (acknowledged msid=%08" PRIx32 ")",
                  mule_route_ntoa(ev->dest_id, ip), ev->msid);
        break;
    default:
        break;
    }
}

/* ------------------------------------------------------------------ */
/* EMCON, reload, stop                                                */

int
muled_set_emcon(muled *d, bool on, char *msg, size_t msglen)
{
    int64_t now = muled_now_s();
    int rc;

    if (d->emcon == on) {
        snprintf(msg, msglen, "EMCON is %s already", on ? "on" : "off");
        muled_log(d, LOG_LVL_INFO, "%s", msg);
        return 0;
    }
    /* Durable first: a crash right after must come back in this state. */
    rc = mule_spool_fs_emcon_set(d->spool, on, now);
    if (rc < 0) {
        snprintf(msg, msglen, "EMCON %s: cannot persist (%s); %s", on ? "on" : "off",
                 mule_strerror(rc), on ? "applied anyway" : "staying in EMCON");
        muled_log(d, LOG_LVL_ERROR, "%s", msg);
        if (!on)
            return -1;
    } else {
        snprintf(msg, msglen, "EMCON %s", on ? "on: transmitting nothing" : "off");
        muled_log(d, LOG_LVL_INFO, "%s", msg);
    }
    d->emcon = on;
    d->emcon_since_s = now;
    pmul_engine_set_emcon(d->engine, pmul_uv_now(d->pu), on);
    pmul_uv_service(d->pu);
    muled_audit_event(d, on ? "emcon-on" : "emcon-off", NULL, NULL);
    return 0;
}

static int
load_routes(const char *path, mule_route_table **out, char *msg, size_t msglen)
{
    buf text;
    mule_route_error err;
    int rc;

    buf_init(&text, NULL, SIZE_MAX);
    rc = fio_read_file(path, (size_t)64 << 20, &text);
    if (rc < 0) {
        snprintf(msg, msglen, "%s: %s", path, strerror(-rc));
        buf_fini(&text);
        return -1;
    }
    rc = mule_route_table_parse((const char *)text.data, text.len, NULL, NULL, out, &err);
    buf_fini(&text);
    if (rc < 0) {
        snprintf(msg, msglen, "%s:%u: %s", path, err.line, err.text);
        return -1;
    }
    return 0;
}

/* P_MUL peers: every node the routing table names (and ourselves), unless
 * accept_unknown_nodes; and the peers that want self-naming Ack entries.  A hostile node elsewhere on the multicast
 * network then cannot fill the receiver's tables. */
static void
apply_allowlist(muled *d)
{
    uint32_t *ids = NULL;
    size_t n = 0, cap = 0;
    int rc;

    if (!d->cf.accept_unknown_nodes) {
        /* Our own ID first: a table naming nobody means "only us", and
         * the list is never empty (empty would mean "everyone"). */
        if (arr_grow(NULL, (void **)&ids, &cap, 1, sizeof *ids, SIZE_MAX) != 0)
            goto nomem;
        ids[n++] = d->cf.node_id;
        for (size_t i = 0; i < mule_route_table_dest_cnt(d->routes); i++) {
            const mule_dest *dst = mule_route_table_dest(d->routes, i);
            for (size_t k = 0; dst != NULL && !dst->local && k < dst->node_cnt; k++) {
                if (arr_grow(NULL, (void **)&ids, &cap, n + 1, sizeof *ids, SIZE_MAX) != 0)
                    goto nomem;
                ids[n++] = dst->nodes[k];
            }
        }
    }
    {
        /* "peer ... self-naming-acks" lines name P_MUL peers too. */
        size_t sn;
        const uint32_t *sa = mule_route_table_self_ack(d->routes, &sn);

        for (size_t k = 0; !d->cf.accept_unknown_nodes && k < sn; k++) {
            if (arr_grow(NULL, (void **)&ids, &cap, n + 1, sizeof *ids, SIZE_MAX) != 0)
                goto nomem;
            ids[n++] = sa[k];
        }
        if ((rc = pmul_engine_set_self_naming_acks(d->engine, sa, sn)) < 0)
            muled_log(d, LOG_LVL_ERROR, "self-naming Ack peers not updated: %s",
                      pmul_strerror(rc));
    }
    {
        /* "peer ... no-fec" lines: receivers that get sources, never
         * repairs (they need not be P_MUL peers we accept from). */
        size_t nn;
        const uint32_t *nf = mule_route_table_no_fec(d->routes, &nn);

        if ((rc = pmul_engine_set_no_fec_peers(d->engine, nf, nn)) < 0)
            muled_log(d, LOG_LVL_ERROR, "no-fec peers not updated: %s", pmul_strerror(rc));
    }
    rc = pmul_engine_set_allowed(d->engine, ids, n);
    free(ids);
    if (rc < 0)
        muled_log(d, LOG_LVL_ERROR, "P_MUL allowlist not updated: %s", pmul_strerror(rc));
    return;
nomem:
    free(ids);
    muled_log(d, LOG_LVL_ERROR, "P_MUL allowlist not updated: out of memory");
}

/* What the running daemon derives from the live options. */
static void
apply_live(muled *d)
{
    d->lg.min_level = d->cf.log_level;
    d->cdt.zlib_level = (int)d->cf.compress_level;
    d->ncfg.default_expiry_s = (int64_t)(d->cf.expiry_ms / 1000);
    d->use_maildir = strcmp(d->cf.deliver, "maildir") == 0;
    if (!d->use_maildir)
        (void)bsmtp_io_target_parse(d->cf.deliver, &d->egress_lmtp, &d->egress);
    if (d->engine != NULL)
        apply_allowlist(d);
}

int
muled_reload(muled *d, char *msg, size_t msglen)
{
    mule_conf fresh, old;
    mule_route_table *t;
    char kept[512];
    bool lmtp;
    bsmtp_io_target tg;
    int n;

    if (conf_file_load(d->conf_path, &fresh, NULL, msg, msglen) < 0)
        goto refused;
    if (strcmp(fresh.deliver, "maildir") != 0 &&
        bsmtp_io_target_parse(fresh.deliver, &lmtp, &tg) < 0) {
        snprintf(msg, msglen, "%s: deliver = %s: not a usable target", d->conf_path,
                 fresh.deliver);
        mule_conf_fini(&fresh);
        goto refused;
    }
    if (load_routes(fresh.routes, &t, msg, msglen) < 0) {
        mule_conf_fini(&fresh);
        goto refused;
    }
    n = mule_conf_reload(&d->cf, &fresh, kept, sizeof kept);
    /* Swap: the hostname and the rest that d->ncfg borrows are kept
     * options, so they move over unchanged. */
    old = d->cf;
    d->cf = fresh;
    d->ncfg.hostname = d->cf.hostname;
    mule_conf_fini(&old);
    mule_route_table_free(d->routes);
    d->routes = t;
    apply_live(d);
    snprintf(msg, msglen, "reloaded %s: %zu routes%s%s%s", d->conf_path,
             mule_route_table_route_cnt(t), n > 0 ? "; needs a restart, kept: " : "",
             n > 0 ? kept : "", n > 0 ? "" : "");
    muled_log(d, LOG_LVL_INFO, "%s", msg);
    muled_kick(d);
    return 0;
refused:
    muled_log(d, LOG_LVL_ERROR, "reload refused, keeping the running configuration: %s", msg);
    return -1;
}

static void
on_closed(uv_handle_t *h)
{
    (void)h;
}

static void
on_pu_closed(void *arg)
{
    (void)arg;
}

static void
stop(muled *d, const char *why)
{
    if (d->stopping)
        return;
    d->stopping = true;
    muled_log(d, LOG_LVL_INFO, "stopping (%s): %zu mail(s) stay in the spool", why,
              mule_spool_count(mule_spool_fs_core(d->spool)));
    muled_notify("STOPPING=1");
    muled_dlv_cancel_all(d);
    muled_smtpd_stop(d);
    muled_ctl_stop(d);
    pmul_uv_close(d->pu, on_pu_closed, d);
    uv_close((uv_handle_t *)&d->t_queue, on_closed);
    uv_close((uv_handle_t *)&d->t_pickup, on_closed);
    for (size_t i = 0; i < d->sig_cnt; i++)
        uv_close((uv_handle_t *)&d->sigs[i], on_closed);
}

static void
on_signal(uv_signal_t *s, int signum)
{
    muled *d = s->data;

    char msg[600];

    switch (signum) {
    case SIGUSR1:
    case SIGUSR2:
        (void)muled_set_emcon(d, signum == SIGUSR1, msg, sizeof msg);
        break;
    case SIGHUP:
        (void)muled_reload(d, msg, sizeof msg);
        break;
    default:
        stop(d, signum == SIGTERM ? "SIGTERM" : "SIGINT");
    }
}

/* ------------------------------------------------------------------ */
/* Start-up                                                           */

static uint32_t
rand_fn(void *arg)
{
    uint32_t v = 0;

    (void)arg;
    if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v))
        v = (uint32_t)time(NULL) * 2654435761u ^ (uint32_t)getpid();
    return v;
}

static void
usage(FILE *f)
{
    fprintf(f, "usage: muled [-c FILE] [-f] [-n]\n"
               "  -c FILE  configuration (default " DEFAULT_CONF ")\n"
               "  -f       foreground, log to stderr\n"
               "  -n       check the configuration and routing table, then exit\n");
}

static int
mkdir_in(const char *dir, const char *sub)
{
    char path[4096];

    snprintf(path, sizeof(path), "%s/%s", dir, sub);
    if (mkdir(path, 0700) < 0 && errno != EEXIST) {
        fprintf(stderr, "muled: cannot create %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* The engine remembers every (source, MSID) the spool holds: a
 * retransmission is acknowledged, never delivered twice (line 4). */
static int
restore_one(void *arg, uint32_t src, uint32_t first, uint32_t last, int64_t expiry_s)
{
    muled *d = arg;
    pmul_now now = pmul_uv_now(d->pu);

    for (uint32_t m = first;; m++) {
        int rc = pmul_engine_restore_done(d->engine, now, src, m, expiry_s);

        if (rc < 0 && rc != PMUL_ERR_EXPIRED)
            muled_log(d, LOG_LVL_WARN, "restore msid=%08" PRIx32 ": %s", m, pmul_strerror(rc));
        if (m == last)
            break;
    }
    return 0;
}

static void
restore_done(muled *d)
{
    const mule_spool *sp = mule_spool_fs_core(d->spool);
    mule_spool_info info;
    size_t pos = 0;
    int64_t floor = muled_now_s() + (int64_t)(d->cf.expiry_ms / 1000);

    /* An entry made durable just before a crash may lack its done-set
     * record (muled died before writing it): add it now, so the message
     * is still known once the entry is delivered and removed. */
    while (mule_spool_iter(sp, &pos, &info)) {
        int64_t exp = info.expiry_s > floor ? info.expiry_s : floor;
        int rc;

        if (info.src_node == 0 || mule_spool_done_has(sp, info.src_node, info.msid))
            continue;
        if ((rc = mule_spool_fs_done_add(d->spool, info.src_node, info.msid, exp)) < 0)
            muled_log(d, LOG_LVL_WARN, "%s: done set: %s", info.id, mule_strerror(rc));
    }
    (void)mule_spool_done_walk(sp, restore_one, d);
    pos = 0;
    while (mule_spool_iter(sp, &pos, &info))
        if (info.src_node != 0)
            (void)restore_one(d, info.src_node, info.msid, info.msid,
                              info.expiry_s > floor ? info.expiry_s : floor);
}

/*
 * pmul_auth = on: read the network key (at start-up, while muled may
 * still be root) with the audit key's reader, which refuses a file group
 * or others may read and keys outside 16..64 octets, and never creates
 * one: every node needs the same key.  The key lives on only inside the
 * pmul_auth context.
 */
static int
start_auth(muled *d)
{
    uint8_t key[PMUL_AUTH_KEY_MAX];
    size_t len = 0;
    pmul_auth_config ac;
    int rc;

    if (!d->cf.pmul_auth)
        return 0;
    rc = mule_auditlog_key_load(d->cf.pmul_auth_key, 0, key, sizeof key, &len);
    if (rc < 0) {
        fprintf(stderr, "muled: pmul_auth_key %s: missing, not 16..64 octets, or readable "
                "by group or others\n", d->cf.pmul_auth_key);
        return -1;
    }
    memset(&ac, 0, sizeof ac);
    ac.key = key;
    ac.key_len = len;
    ac.key_id = 1;
    ac.max_age_ms = d->cf.pmul_auth_max_age_ms;
    rc = pmul_auth_new(&d->pauth, &ac, NULL);
    memset(key, 0, sizeof key);
    if (rc < 0) {
        fprintf(stderr, "muled: pmul_auth: %s\n", pmul_strerror(rc));
        return -1;
    }
    muled_log(d, LOG_LVL_INFO, "pmul_auth on: key %s, every P_MUL datagram authenticated",
              d->cf.pmul_auth_key);
    return 0;
}

/* muled.conf's engine caps are 0 when not set: then the engine's own
 * default (pmul_config_default) stands, so muled repeats no number of it. */
static uint64_t
set_or(uint64_t set, uint64_t engine_default)
{
    return set != 0 ? set : engine_default;
}

static int
start_engine(muled *d)
{
    pmul_config cfg;
    pmul_env env;
    pmul_uv_opts uo;
    int rc;

    pmul_config_default(&cfg);
    cfg.node_id = d->cf.node_id;
    cfg.default_group = d->cf.group;
    cfg.link_rate_bps = d->cf.rate;
    cfg.shared_medium = d->cf.shared_medium;
    cfg.pdu_max_len = d->cf.pdu_size;
    cfg.max_msg_len = d->cf.max_message_size;
    cfg.ack_rtx_min_ms = (uint32_t)d->cf.ack_rtx_min_ms;
    cfg.ack_rtx_max_ms = (uint32_t)d->cf.ack_rtx_max_ms;
    cfg.emcon_rti_ms = (uint32_t)d->cf.emcon_rti_ms;
    cfg.emcon_rtc = (uint32_t)d->cf.emcon_rtc;
    cfg.default_expiry_s = (uint32_t)(d->cf.expiry_ms / 1000);
    cfg.emcon = d->emcon;
    cfg.emcon_dests = d->cf.emcon_destinations;
    cfg.emcon_dest_cnt = d->cf.emcon_destination_cnt;
    cfg.deliver_needs_accept = true;
    cfg.check_source_ip = d->cf.check_source_ip;
    cfg.max_sources = set_or(d->cf.pmul_max_sources, cfg.max_sources);
    cfg.max_rx_msgs = set_or(d->cf.pmul_max_rx_messages, cfg.max_rx_msgs);
    cfg.max_rx_msgs_per_src = set_or(d->cf.pmul_max_rx_messages_per_source,
                                     cfg.max_rx_msgs_per_src);
    cfg.max_rx_bytes = set_or(d->cf.pmul_max_rx_bytes, cfg.max_rx_bytes);
    cfg.max_rx_bytes_per_src = set_or(d->cf.pmul_max_rx_bytes_per_source,
                                      cfg.max_rx_bytes_per_src);
    cfg.rx_idle_ms = (uint32_t)set_or(d->cf.pmul_rx_idle_ms > UINT32_MAX
                                          ? UINT32_MAX : d->cf.pmul_rx_idle_ms,
                                      cfg.rx_idle_ms);
    cfg.max_groups_joined = set_or(d->cf.pmul_max_groups, cfg.max_groups_joined);
    cfg.fec = d->cf.pmul_fec;
    cfg.fec_ratio_pct = d->cf.pmul_fec_ratio;
    cfg.fec_emcon_repairs = d->cf.pmul_fec_emcon_repairs;
    cfg.fec_adaptive = d->cf.pmul_fec_adaptive;
    cfg.fec_joint = d->cf.pmul_fec_joint;
    cfg.fec_joint_max = d->cf.pmul_fec_joint_max;
    cfg.fec_joint_wait_ms = (uint32_t)d->cf.pmul_fec_joint_wait_ms;
    cfg.fec_keep_bytes = (uint32_t)d->cf.pmul_fec_keep;
    cfg.max_tx_msgs = 1024;
    /* muled always passes the MSID it made durable (mule_spool). */
    cfg.first_msid = 1;
    memset(&env, 0, sizeof(env));
    env.log = d->lg;
    env.log.min_level = d->lg.min_level > LOG_LVL_WARN ? d->lg.min_level : LOG_LVL_WARN;
    env.rand = rand_fn;
    pmul_uv_opts_default(&uo);
    uo.log = env.log;
    uo.mcast_ttl = (int)d->cf.mcast_ttl;
    uo.mcast_if = d->cf.interface[0] != '\0' ? d->cf.interface : NULL;
    if (start_auth(d) < 0)
        return -1;
    uo.auth = d->pauth;
    rc = pmul_engine_new(&d->engine, &cfg, &env);
    if (rc < 0) {
        fprintf(stderr, "muled: P_MUL configuration refused: %s\n", pmul_strerror(rc));
        return -1;
    }
    rc = pmul_uv_new(&d->pu, d->loop, d->engine, &uo, on_event, d);
    if (rc < 0) {
        muled_log(d, LOG_LVL_ERROR, "cannot start P_MUL on %s: %s", d->cf.node_id_text,
                  pmul_strerror(rc));
        return -1;
    }
    return 0;
}

/* Rule 2 of the audit contract (docs/spool.md): an entry recovery found
 * in tmp/ was synced there but its rename into q/ did not survive, so it
 * was never acknowledged; its "accepted" record, if the crash let one
 * become durable with the rename's sync, is withdrawn.  Once the audit
 * log is open; synced by the flusher (nothing waits for them). */
static void
withdraw_purged(muled *d, const mule_spool_scan *scan)
{
    char detail[96];

    muled_audit_defer(d, true);
    for (size_t i = 0; i < scan->tmp_id_cnt && i < MULE_SPOOL_SCAN_IDS; i++)
        muled_audit_note(d, MULE_AUDIT_IN, MULE_AUDIT_WITHDRAWN, scan->tmp_ids[i], NULL, NULL,
                         "recovery: not in q/ at restart");
    if (scan->tmp_id_cnt == MULE_SPOOL_SCAN_IDS && scan->tmp_purged > scan->tmp_id_cnt) {
        snprintf(detail, sizeof detail, "purged=%zu listed=%zu", scan->tmp_purged,
                 scan->tmp_id_cnt);
        muled_audit_event(d, "withdrawn-unlisted", NULL, detail);
    }
    muled_audit_defer(d, false);
    muled_audit_flush(d, NULL);
}

int
main(int argc, char **argv)
{
    muled *d = &g_d;
    bool check_only = false;
    mule_spool_fs_cfg scfg;
    mule_spool_policy pol;
    mule_spool_scan scan;
    int64_t since = 0, opened_s;
    int o, rc;
    static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2};

    d->conf_path = DEFAULT_CONF;
    while ((o = getopt(argc, argv, "c:fnh")) != -1) {
        switch (o) {
        case 'c': d->conf_path = optarg; break;
        case 'f': d->foreground = true; break;
        case 'n': check_only = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return EX_USAGE;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return EX_USAGE;
    }
    {
        char msg[600];
        if (conf_file_load(d->conf_path, &d->cf, NULL, msg, sizeof msg) < 0 ||
            load_routes(d->cf.routes, &d->routes, msg, sizeof msg) < 0) {
            fprintf(stderr, "%s\n", msg);
            return EX_CONFIG;
        }
    }
    d->use_maildir = strcmp(d->cf.deliver, "maildir") == 0;
    if (!d->use_maildir &&
        bsmtp_io_target_parse(d->cf.deliver, &d->egress_lmtp, &d->egress) < 0) {
        fprintf(stderr, "%s: deliver = %s: not maildir, lmtp:HOST:PORT, lmtp:unix:PATH or "
                        "smtp:HOST:PORT\n", d->conf_path, d->cf.deliver);
        return EX_CONFIG;
    }
    if (check_only) {
        printf("%s: good (%zu routes)\n", d->conf_path, mule_route_table_route_cnt(d->routes));
        mule_route_table_free(d->routes);
        mule_conf_fini(&d->cf);
        return 0;
    }
    if (!d->foreground && daemon(0, 0) < 0) {
        perror("muled: daemon");
        return 1;
    }
    d->lg.fn = muled_log_sink;
    d->lg.arg = d;
    d->lg.min_level = d->cf.log_level;
    muled_log_open(d);
    signal(SIGPIPE, SIG_IGN);
    d->started_s = muled_now_s();
    {
        char msg[300];
        if (muled_priv_resolve(d, msg, sizeof msg) < 0) {
            muled_log(d, LOG_LVL_ERROR, "%s", msg);
            fprintf(stderr, "muled: %s\n", msg);
            return EX_CONFIG;
        }
    }

    mule_cdt_config_init(&d->cdt);
    d->cdt.zlib_level = (int)d->cf.compress_level;
    memset(&d->ncfg, 0, sizeof(d->ncfg));
    d->ncfg.hostname = d->cf.hostname;
    d->ncfg.node_id = d->cf.node_id;
    d->ncfg.default_expiry_s = (int64_t)(d->cf.expiry_ms / 1000);
    d->ncfg.cdt = &d->cdt;
    d->ncfg.payload_max = d->cf.max_message_size;

    if (mkdir(d->cf.spool_dir, 0700) < 0 && errno != EEXIST) {
        fprintf(stderr, "muled: cannot create %s: %s\n", d->cf.spool_dir, strerror(errno));
        return 1;
    }
    if (mkdir_in(d->cf.spool_dir, "pickup") < 0 || mkdir_in(d->cf.spool_dir, "bad") < 0)
        return 1;
    /* The audit key is read while muled may still be root (it may live
     * where muled's user cannot read it), and created at the first start. */
    if (muled_audit_load_key(d) < 0) {
        fprintf(stderr, "muled: cannot load the audit key %s\n", d->cf.audit_key);
        return 1;
    }
    memset(&pol, 0, sizeof(pol));
    pol.backoff_min_s = (uint32_t)(d->cf.backoff_min_ms / 1000);
    pol.backoff_max_s = (uint32_t)(d->cf.backoff_max_ms / 1000);
    if (pol.backoff_min_s == 0)
        pol.backoff_min_s = 1;
    if (pol.backoff_max_s < pol.backoff_min_s)
        pol.backoff_max_s = pol.backoff_min_s;
    memset(&scfg, 0, sizeof(scfg));
    scfg.dir = d->cf.spool_dir;
    scfg.policy = &pol;
    scfg.log = &d->lg;
    opened_s = muled_now_s();
    rc = mule_spool_fs_open(&d->spool, &scfg, opened_s, &scan);
    if (rc < 0) {
        muled_log(d, LOG_LVL_ERROR, "cannot open the spool %s: %s", d->cf.spool_dir,
                  mule_strerror(rc));
        fprintf(stderr, "muled: cannot open the spool %s: %s\n", d->cf.spool_dir,
                mule_strerror(rc));
        return 1;
    }
    /* EMCON: the persisted state wins over the configuration, so that a
     * node restarted in EMCON stays silent. */
    d->emcon = mule_spool_emcon(mule_spool_fs_core(d->spool), &since);
    d->emcon_since_s = since;
    if (since == 0) {
        /* Never set at run time: the configuration says. */
        d->emcon = d->cf.emcon;
        if (d->emcon)
            d->emcon_since_s = muled_now_s();
        if (d->emcon && (rc = mule_spool_fs_emcon_set(d->spool, true, muled_now_s())) < 0)
            muled_log(d, LOG_LVL_WARN, "EMCON: cannot persist: %s", mule_strerror(rc));
    }

    /* Queue IDs are minted from the second after the open on (their
     * counter restarts with the process): wait for that second, so an
     * instance killed and restarted within one second can never mint an
     * ID its predecessor used (Maildir names rely on it). */
    for (int i = 0; i < 40 && muled_now_s() <= opened_s; i++)
        usleep(50000);

    d->loop = uv_default_loop();
    if (start_engine(d) < 0) {
        uv_run(d->loop, UV_RUN_DEFAULT);
        if (d->engine != NULL)
            pmul_engine_free(d->engine);
        pmul_auth_free(d->pauth);
        mule_spool_fs_free(d->spool);
        return 1;
    }
    muled_log(d, LOG_LVL_INFO,
              "started node=%s host=%s spool=%s (%zu entries, %zu corrupt, %zu torn) "
              "deliver=%s emcon=%s rate=%" PRIu64 "bit/s medium=%s",
              d->cf.node_id_text, d->cf.hostname, d->cf.spool_dir, scan.loaded, scan.corrupt,
              scan.torn, d->cf.deliver, d->emcon ? "on" : "off", (uint64_t)d->cf.rate,
              d->cf.shared_medium ? "shared" : "own");
    apply_allowlist(d);
    muled_pickup_recover(d);
    restore_done(d);
    muled_dlv_resume(d);
    muled_failed_resume(d);
    muled_remove_finished(d);
    muled_tx_resume(d);

    uv_timer_init(d->loop, &d->t_queue);
    d->t_queue.data = d;
    uv_timer_init(d->loop, &d->t_pickup);
    d->t_pickup.data = d;
    uv_timer_start(&d->t_pickup, on_pickup, 0, d->cf.pickup_interval_ms);
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        uv_signal_init(d->loop, &d->sigs[i]);
        d->sigs[i].data = d;
        uv_signal_start(&d->sigs[i], on_signal, sigs[i]);
        d->sig_cnt++;
    }
    if (muled_smtpd_start(d) < 0) {
        d->exit_code = 1;
        stop(d, "a listener could not start");
    } else if (muled_ctl_start(d) < 0) {
        d->exit_code = 1;
        stop(d, "the control socket could not start");
    } else if (muled_priv_drop(d) < 0) {
        /* Everything is bound; from here on muled is its own user. */
        d->exit_code = 1;
        stop(d, "privileges could not be dropped");
    } else {
        (void)muled_audit_open(d);
        withdraw_purged(d, &scan);
        muled_notify("READY=1\nSTATUS=running");
    }
    muled_kick(d);
    uv_run(d->loop, UV_RUN_DEFAULT);
    muled_audit_close(d);

    muled_tx_free_all(d);
    pmul_engine_free(d->engine);
    pmul_auth_free(d->pauth);
    mule_spool_fs_free(d->spool);
    mule_route_table_free(d->routes);
    uv_loop_close(d->loop);
    muled_log(d, LOG_LVL_INFO, "stopped");
    mule_conf_fini(&d->cf);
    return d->exit_code;
}
