/*
 * mule_conf.c: the muled.conf parser (see mule_conf.h).  One table lists
 * every key with its kind, field and range; parsing a line is looking the
 * key up and running its kind's strict parser.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "mule/mule_conf.h"
#include "mule/mule_err.h"
#include "pmul/util/log.h"
#include "pmul/util/mem.h"
#include "pmul/util/num.h"

enum kind { K_STR, K_PATH, K_IPV4, K_IFACE, K_GROUP, K_BOOL, K_UINT, K_DUR, K_RATE, K_SIZE,
            K_LEVEL, K_IPLIST, K_DELIVER, K_LISTEN, K_NETS, K_TLS };

typedef struct opt {
    const char *name;
    enum kind kind;
    size_t off;
    uint64_t min, max;
} opt;

#define F(field) offsetof(mule_conf, field)
#define DAY_MS (86400ull * 1000)

static const opt opts[] = {
    {"node_id", K_IPV4, F(node_id), 0, 0},
    {"spool_dir", K_PATH, F(spool_dir), 0, 0},
    {"routes", K_PATH, F(routes), 0, 0},
    {"hostname", K_STR, F(hostname), 0, 0},
    {"deliver", K_DELIVER, F(deliver), 0, 0},
    {"maildir", K_PATH, F(maildir), 0, 0},
    {"emcon", K_BOOL, F(emcon), 0, 0},
    {"emcon_destinations", K_IPLIST, F(emcon_destinations), 0, 0},
    {"group", K_GROUP, F(group), 0, 0},
    {"interface", K_IFACE, F(interface), 0, 0},
    {"mcast_ttl", K_UINT, F(mcast_ttl), 1, 255},
    {"rate", K_RATE, F(rate), 0, 10000000000ull},
    {"shared_medium", K_BOOL, F(shared_medium), 0, 0},
    {"pdu_size", K_SIZE, F(pdu_size), 576, 65507},
    {"max_message_size", K_SIZE, F(max_message_size), 1024, (uint64_t)256 << 20},
    {"expiry", K_DUR, F(expiry_ms), 60000, 30 * DAY_MS},
    {"delivery_lifetime", K_DUR, F(delivery_lifetime_ms), 60000, 30 * DAY_MS},
    {"backoff_min", K_DUR, F(backoff_min_ms), 1000, DAY_MS},
    {"backoff_max", K_DUR, F(backoff_max_ms), 1000, DAY_MS},
    {"egress_timeout", K_DUR, F(egress_timeout_ms), 1000, DAY_MS},
    {"egress_concurrency", K_UINT, F(egress_concurrency), 1, 256},
    {"pickup_interval", K_DUR, F(pickup_interval_ms), 10, 3600000},
    {"ack_rtx_min", K_DUR, F(ack_rtx_min_ms), 10, 3600000},
    {"ack_rtx_max", K_DUR, F(ack_rtx_max_ms), 10, 3600000},
    {"emcon_rti", K_DUR, F(emcon_rti_ms), 100, DAY_MS},
    {"emcon_rtc", K_UINT, F(emcon_rtc), 0, 1000},
    {"compress_level", K_UINT, F(compress_level), 0, 9},
    {"log_level", K_LEVEL, F(log_level), 0, 0},
    {"smtpd_listen", K_LISTEN, F(smtpd_listen), 0, 0},
    {"lmtpd_listen", K_LISTEN, F(lmtpd_listen), 0, 0},
    {"mynetworks", K_NETS, F(mynetworks), 0, 0},
    {"smtpd_max_clients", K_UINT, F(smtpd_max_clients), 1, 10000},
    {"smtpd_max_per_client", K_UINT, F(smtpd_max_per_client), 1, 10000},
    {"smtpd_timeout", K_DUR, F(smtpd_timeout_ms), 1000, 3600000},
    {"smtpd_txn_timeout", K_DUR, F(smtpd_txn_timeout_ms), 1000, 86400000},
    {"smtpd_commit_window", K_DUR, F(smtpd_commit_window_ms), 0, 1000},
    {"smtpd_tls", K_TLS, F(smtpd_tls), 0, 0},
    {"smtpd_tls_cert", K_PATH, F(smtpd_tls_cert), 0, 0},
    {"smtpd_tls_key", K_PATH, F(smtpd_tls_key), 0, 0},
    {"smtpd_tls_ca", K_PATH, F(smtpd_tls_ca), 0, 0},
    {"control_socket", K_PATH, F(control_socket), 0, 0},
    {"control_group", K_STR, F(control_group), 0, 0},
    {"user", K_STR, F(user), 0, 0},
    {"audit_dir", K_PATH, F(audit_dir), 0, 0},
    {"audit_key", K_PATH, F(audit_key), 0, 0},
    {"audit_retention_days", K_UINT, F(audit_retention_days), 1, 3650},
    {"audit_fsync", K_BOOL, F(audit_fsync), 0, 0},
    {"check_source_ip", K_BOOL, F(check_source_ip), 0, 0},
    {"accept_unknown_nodes", K_BOOL, F(accept_unknown_nodes), 0, 0},
    {"pmul_auth", K_BOOL, F(pmul_auth), 0, 0},
    {"pmul_auth_key", K_PATH, F(pmul_auth_key), 0, 0},
    {"pmul_auth_max_age", K_DUR, F(pmul_auth_max_age_ms), 0, DAY_MS},
    {"pmul_max_sources", K_UINT, F(pmul_max_sources), 1, 65536},
    {"pmul_max_rx_messages", K_UINT, F(pmul_max_rx_messages), 1, 1u << 20},
    {"pmul_max_rx_messages_per_source", K_UINT, F(pmul_max_rx_messages_per_source), 1, 1u << 20},
    {"pmul_max_rx_bytes", K_SIZE, F(pmul_max_rx_bytes), 1u << 20, (uint64_t)16 << 30},
    {"pmul_max_rx_bytes_per_source", K_SIZE, F(pmul_max_rx_bytes_per_source), 65536,
     (uint64_t)16 << 30},
    {"pmul_rx_idle", K_DUR, F(pmul_rx_idle_ms), 60000, 30 * DAY_MS},
    {"pmul_max_groups", K_UINT, F(pmul_max_groups), 1, 1000},
    {"pmul_fec", K_BOOL, F(pmul_fec), 0, 0},
    {"pmul_fec_ratio", K_UINT, F(pmul_fec_ratio), 0, 100},
    {"pmul_fec_emcon_repairs", K_UINT, F(pmul_fec_emcon_repairs), 0, 64},
    {"pmul_fec_adaptive", K_BOOL, F(pmul_fec_adaptive), 0, 0},
    {"pmul_fec_joint", K_BOOL, F(pmul_fec_joint), 0, 0},
    {"pmul_fec_joint_max", K_UINT, F(pmul_fec_joint_max), 2, 30},
    {"pmul_fec_joint_wait", K_DUR, F(pmul_fec_joint_wait_ms), 0, 3600000},
    {"pmul_fec_keep", K_SIZE, F(pmul_fec_keep), 0, (uint64_t)1 << 30},
};
#define NOPTS (sizeof(opts) / sizeof(opts[0]))
_Static_assert(NOPTS <= 64 * MULE_CONF_SEEN_WORDS, "mule_conf.seen has one bit per option");

void
mule_conf_default(mule_conf *c)
{
    memset(c, 0, sizeof(*c));
    c->group = 0xEF010102u;                     /* 239.1.1.2 */
    c->mcast_ttl = 8;
    c->rate = 9600;
    /* HF/VHF radio nets, mule's home, are one half-duplex channel (issue 12). */
    c->shared_medium = true;
    c->pdu_size = 1024;
    c->max_message_size = 10u << 20;
    c->expiry_ms = DAY_MS;
    c->delivery_lifetime_ms = 5 * DAY_MS;
    c->backoff_min_ms = 60000;
    c->backoff_max_ms = 3600000;
    c->egress_timeout_ms = 300000;
    c->egress_concurrency = 4;
    c->pickup_interval_ms = 1000;
    c->ack_rtx_min_ms = 2000;
    c->ack_rtx_max_ms = 120000;
    c->emcon_rti_ms = 30000;
    c->emcon_rtc = 4;
    c->compress_level = 6;
    c->log_level = LOG_LVL_INFO;
    c->smtpd_max_clients = 20;
    c->smtpd_max_per_client = 5;
    c->smtpd_timeout_ms = 300000;
    c->smtpd_txn_timeout_ms = 3600000;
    c->audit_retention_days = 10;
    c->audit_fsync = true;
    c->check_source_ip = true;
    c->pmul_auth_max_age_ms = 600000;
    /* The pmul_* receiver caps stay 0, "not set": muled then leaves the
     * engine's own defaults (pmul_config_default), so the numbers live in
     * one place.  A value given in the file is at least the option's min. */
    /* FEC repair (docs/benchmarks.md, "FEC transmitter"): muled's choice,
     * not the library's (the engine's default is off). */
    c->pmul_fec = true;
    c->pmul_fec_ratio = 10;
    c->pmul_fec_emcon_repairs = 8;
    c->pmul_fec_adaptive = true;
    c->pmul_fec_joint = true;
    c->pmul_fec_joint_max = 8;
    c->pmul_fec_joint_wait_ms = 60000;
    c->pmul_fec_keep = 1u << 20;
}

void
mule_conf_fini(mule_conf *c)
{
    if (c == NULL)
        return;
    mem_free(NULL, c->spool_dir);
    mem_free(NULL, c->routes);
    mem_free(NULL, c->hostname);
    mem_free(NULL, c->deliver);
    mem_free(NULL, c->maildir);
    mem_free(NULL, c->emcon_destinations);
    mem_free(NULL, c->smtpd_listen);
    mem_free(NULL, c->lmtpd_listen);
    mem_free(NULL, c->mynetworks);
    mem_free(NULL, c->smtpd_tls_cert);
    mem_free(NULL, c->smtpd_tls_key);
    mem_free(NULL, c->smtpd_tls_ca);
    mem_free(NULL, c->control_socket);
    mem_free(NULL, c->control_group);
    mem_free(NULL, c->user);
    mem_free(NULL, c->audit_dir);
    mem_free(NULL, c->audit_key);
    mem_free(NULL, c->pmul_auth_key);
    c->pmul_auth_key = NULL;
    c->control_socket = c->control_group = c->user = c->audit_dir = c->audit_key = NULL;
    c->smtpd_tls_cert = c->smtpd_tls_key = c->smtpd_tls_ca = NULL;
    c->spool_dir = c->routes = c->hostname = c->deliver = c->maildir = NULL;
    c->smtpd_listen = c->lmtpd_listen = c->mynetworks = NULL;
    c->emcon_destinations = NULL;
    c->emcon_destination_cnt = 0;
}

/* ---- reload ---------------------------------------------------------- */

/* Options a running muled takes over on reload; every other one is bound
 * to a socket, the engine, the spool or a privilege given up at start. */
static const char *const live_opts[] = {
    "routes", "deliver", "maildir", "delivery_lifetime", "egress_timeout",
    "egress_concurrency", "log_level", "mynetworks", "smtpd_max_clients",
    "smtpd_max_per_client", "smtpd_timeout", "smtpd_txn_timeout", "expiry",
    "compress_level", "accept_unknown_nodes",
};

static bool
is_live(const char *name)
{
    for (size_t i = 0; i < sizeof live_opts / sizeof live_opts[0]; i++)
        if (strcmp(live_opts[i], name) == 0)
            return true;
    return false;
}

/* Size of the field behind an option of this kind (pointer kinds: 0). */
static size_t
field_size(enum kind k)
{
    switch (k) {
    case K_STR: case K_PATH: case K_DELIVER: case K_LISTEN: case K_NETS: case K_IPLIST:
        return 0;
    case K_IPV4: case K_GROUP: return sizeof(uint32_t);
    case K_IFACE: return sizeof(((mule_conf *)0)->interface);
    case K_BOOL: return sizeof(bool);
    case K_UINT: return sizeof(unsigned);
    case K_DUR: case K_RATE: return sizeof(uint64_t);
    case K_SIZE: return sizeof(size_t);
    case K_LEVEL: case K_TLS: return sizeof(int);
    }
    return 0;
}

static bool
same_str(const char *a, const char *b)
{
    return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

int
mule_conf_reload(mule_conf *live, mule_conf *fresh, char *kept, size_t keptlen)
{
    char *lb = (char *)live, *fb = (char *)fresh;
    size_t n = 0;
    int cnt = 0;

    if (kept != NULL && keptlen > 0)
        kept[0] = '\0';
    for (size_t i = 0; i < NOPTS; i++) {
        const opt *o = &opts[i];
        size_t fs = field_size(o->kind);
        bool same;

        if (o->kind == K_IPLIST)
            same = live->emcon_destination_cnt == fresh->emcon_destination_cnt &&
                   (live->emcon_destination_cnt == 0 ||
                    memcmp(live->emcon_destinations, fresh->emcon_destinations,
                           live->emcon_destination_cnt * sizeof(uint32_t)) == 0);
        else if (fs == 0)
            same = same_str(*(char **)(lb + o->off), *(char **)(fb + o->off));
        else
            same = memcmp(lb + o->off, fb + o->off, fs) == 0;
        if (same || is_live(o->name))
            continue;
        /* Keep the running value: fresh takes it over, live gets fresh's
         * (freed with the old config by the caller). */
        if (o->kind == K_IPLIST) {
            uint32_t *t = live->emcon_destinations;
            size_t c = live->emcon_destination_cnt;
            live->emcon_destinations = fresh->emcon_destinations;
            live->emcon_destination_cnt = fresh->emcon_destination_cnt;
            fresh->emcon_destinations = t;
            fresh->emcon_destination_cnt = c;
        } else if (fs == 0) {
            char *t = *(char **)(lb + o->off);
            *(char **)(lb + o->off) = *(char **)(fb + o->off);
            *(char **)(fb + o->off) = t;
        } else {
            memcpy(fb + o->off, lb + o->off, fs);
        }
        if (o->kind == K_IPV4)
            memcpy(fresh->node_id_text, live->node_id_text, sizeof fresh->node_id_text);
        if (kept != NULL && n + strlen(o->name) + 2 < keptlen)
            n += (size_t)snprintf(kept + n, keptlen - n, "%s%s", cnt > 0 ? " " : "", o->name);
        cnt++;
    }
    return cnt;
}

__attribute__((format(printf, 3, 4)))
static int
fail(mule_conf_error *err, unsigned line, const char *fmt, ...)
{
    va_list ap;

    if (err != NULL) {
        err->line = line;
        va_start(ap, fmt);
        vsnprintf(err->text, sizeof(err->text), fmt, ap);
        va_end(ap);
    }
    return MULE_ERR_CONFIG;
}

static int
ipv4(const char *s, uint32_t *out)
{
    struct in_addr a;

    if (inet_pton(AF_INET, s, &a) != 1)
        return -1;
    *out = ntohl(a.s_addr);
    return 0;
}

/* Printable ASCII without blanks (host names, paths, targets). */
static bool
token_ok(const char *v)
{
    if (*v == '\0')
        return false;
    for (; *v != '\0'; v++)
        if ((unsigned char)*v <= 0x20 || (unsigned char)*v >= 0x7f)
            return false;
    return true;
}

static int
set_str(char **field, const char *v)
{
    size_t n = strlen(v) + 1;
    char *p = mem_alloc(NULL, n);

    if (p == NULL)
        return MULE_ERR_NOMEM;
    memcpy(p, v, n);
    mem_free(NULL, *field);
    *field = p;
    return 0;
}

static int
iplist(mule_conf *c, const char *v, unsigned line, mule_conf_error *err)
{
    char buf[MULE_CONF_LINE_MAX], *save = NULL, *t;
    uint32_t *list = mem_calloc(NULL, MULE_CONF_EMCON_MAX, sizeof(*list));
    size_t n = 0;

    if (list == NULL)
        return MULE_ERR_NOMEM;
    snprintf(buf, sizeof(buf), "%s", v);
    for (t = strtok_r(buf, ", \t", &save); t != NULL; t = strtok_r(NULL, ", \t", &save)) {
        if (n == MULE_CONF_EMCON_MAX) {
            mem_free(NULL, list);
            return fail(err, line, "emcon_destinations: more than %u nodes", MULE_CONF_EMCON_MAX);
        }
        if (ipv4(t, &list[n]) < 0 || list[n] == 0) {
            mem_free(NULL, list);
            return fail(err, line, "emcon_destinations: '%s' is not an IPv4 node ID", t);
        }
        n++;
    }
    mem_free(NULL, c->emcon_destinations);
    c->emcon_destinations = list;
    c->emcon_destination_cnt = n;
    return 0;
}

static bool
deliver_ok(const char *v)
{
    const char *colon;

    if (strcmp(v, "maildir") == 0)
        return true;
    if (strncmp(v, "lmtp:unix:/", 11) == 0)
        return token_ok(v);
    if (strncmp(v, "lmtp:", 5) != 0 && strncmp(v, "smtp:", 5) != 0)
        return false;
    colon = strrchr(v + 5, ':');
    return colon != NULL && colon > v + 5 && token_ok(v) &&
           num_parse_u64(colon + 1, 1, 65535, &(uint64_t){0}) == 0;
}

/* "unix:/PATH", "HOST:PORT" or "[IPv6]:PORT", numeric hosts only. */
static bool
listen_ok(const char *v)
{
    const char *colon;
    char host[64];
    size_t hl;
    unsigned char a[16];

    if (strncmp(v, "unix:/", 6) == 0)
        return token_ok(v) && strlen(v + 5) < 108;
    colon = strrchr(v, ':');
    if (colon == NULL || num_parse_u64(colon + 1, 1, 65535, &(uint64_t){0}) != 0)
        return false;
    hl = (size_t)(colon - v);
    if (hl >= 2 && v[0] == '[' && v[hl - 1] == ']') {
        v++;
        hl -= 2;
    }
    if (hl == 0 || hl >= sizeof(host))
        return false;
    memcpy(host, v, hl);
    host[hl] = '\0';
    return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

/* Blank or comma separated ADDRESS[/BITS] entries, IPv4 or IPv6. */
static bool
nets_ok(const char *v)
{
    char b[MULE_CONF_LINE_MAX], *save = NULL, *t;
    unsigned char a[16];
    size_t n = 0;

    snprintf(b, sizeof(b), "%s", v);
    for (t = strtok_r(b, ", \t", &save); t != NULL; t = strtok_r(NULL, ", \t", &save)) {
        char *slash = strchr(t, '/');
        bool v6 = strchr(t, ':') != NULL;
        uint64_t bits;

        if (slash != NULL) {
            *slash = '\0';
            if (num_parse_u64(slash + 1, 0, v6 ? 128 : 32, &bits) != 0)
                return false;
        }
        if (inet_pton(v6 ? AF_INET6 : AF_INET, t, a) != 1)
            return false;
        n++;
    }
    return n > 0;
}

static int
set_value(mule_conf *c, const opt *o, const char *v, unsigned line, mule_conf_error *err)
{
    char *base = (char *)c;
    uint64_t u = 0;
    uint32_t ip;
    int rc = 0;

    switch (o->kind) {
    case K_STR:
        if (!token_ok(v) || strlen(v) > 255)
            return fail(err, line, "%s: want a name without blanks", o->name);
        return set_str((char **)(base + o->off), v);
    case K_PATH:
        if (v[0] != '/' || !token_ok(v) || strlen(v) > 1024)
            return fail(err, line, "%s: want an absolute path without blanks", o->name);
        return set_str((char **)(base + o->off), v);
    case K_DELIVER:
        if (!deliver_ok(v))
            return fail(err, line,
                        "%s: want maildir, lmtp:HOST:PORT, lmtp:unix:/PATH or smtp:HOST:PORT", o->name);
        return set_str((char **)(base + o->off), v);
    case K_TLS:
        if (strcmp(v, "none") == 0)
            c->smtpd_tls = MULE_CONF_TLS_NONE;
        else if (strcmp(v, "may") == 0)
            c->smtpd_tls = MULE_CONF_TLS_MAY;
        else if (strcmp(v, "required") == 0)
            c->smtpd_tls = MULE_CONF_TLS_REQUIRED;
        else
            return fail(err, line, "%s: want none, may or required", o->name);
        return 0;
    case K_LISTEN:
        if (!listen_ok(v))
            return fail(err, line, "%s: want HOST:PORT, [IPv6]:PORT or unix:/PATH", o->name);
        return set_str((char **)(base + o->off), v);
    case K_NETS:
        if (!nets_ok(v))
            return fail(err, line, "%s: want a list of networks like 127.0.0.0/8 ::1/128",
                        o->name);
        return set_str((char **)(base + o->off), v);
    case K_IPV4:
        if (ipv4(v, &ip) < 0 || ip == 0 || ip >= 0xE0000000u)
            return fail(err, line, "%s: want this node's unicast IPv4 address", o->name);
        *(uint32_t *)(base + o->off) = ip;
        snprintf(c->node_id_text, sizeof(c->node_id_text), "%s", v);
        return 0;
    case K_IFACE:
        if (ipv4(v, &ip) < 0)
            return fail(err, line, "%s: want an IPv4 address", o->name);
        snprintf(c->interface, sizeof(c->interface), "%s", v);
        return 0;
    case K_GROUP:
        if (ipv4(v, &ip) < 0 || (ip >> 28) != 0xE)
            return fail(err, line, "%s: want an IPv4 multicast group (224.0.0.0/4)", o->name);
        *(uint32_t *)(base + o->off) = ip;
        return 0;
    case K_BOOL:
        if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 || strcmp(v, "on") == 0)
            *(bool *)(base + o->off) = true;
        else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 || strcmp(v, "off") == 0)
            *(bool *)(base + o->off) = false;
        else
            return fail(err, line, "%s: want yes or no", o->name);
        return 0;
    case K_LEVEL:
        if (strcmp(v, "debug") == 0)
            c->log_level = LOG_LVL_DEBUG;
        else if (strcmp(v, "info") == 0)
            c->log_level = LOG_LVL_INFO;
        else if (strcmp(v, "warn") == 0)
            c->log_level = LOG_LVL_WARN;
        else if (strcmp(v, "error") == 0)
            c->log_level = LOG_LVL_ERROR;
        else
            return fail(err, line, "%s: want debug, info, warn or error", o->name);
        return 0;
    case K_IPLIST:
        return iplist(c, v, line, err);
    case K_UINT:
        rc = num_parse_u64(v, o->min, o->max, &u);
        if (rc == 0)
            *(unsigned *)(base + o->off) = (unsigned)u;
        break;
    case K_DUR:
        rc = num_parse_duration_ms(v, 1000, o->min, o->max, &u);
        if (rc == 0)
            *(uint64_t *)(base + o->off) = u;
        break;
    case K_RATE:
        rc = num_parse_rate_bps(v, o->min, o->max, &u);
        if (rc == 0)
            *(uint64_t *)(base + o->off) = u;
        break;
    case K_SIZE:
        rc = num_parse_size(v, o->min, o->max, &u);
        if (rc == 0)
            *(size_t *)(base + o->off) = (size_t)u;
        break;
    }
    if (rc != 0) {
        static const char *const want[] = {
            [K_UINT] = "a whole number", [K_DUR] = "a duration (90, 30s, 5m, 2h, 7d)",
            [K_RATE] = "a rate in bit/s (9600, 9.6k, 64kbit)",
            [K_SIZE] = "a size (1024, 64k, 10M)",
        };
        return fail(err, line, "%s: out of range or not %s", o->name, want[o->kind]);
    }
    return 0;
}

static char *
trim(char *s, char *end)
{
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        *--end = '\0';
    *end = '\0';
    return s;
}

int
mule_conf_parse(const char *text, size_t len, mule_conf *c, mule_conf_error *err)
{
    char line[MULE_CONF_LINE_MAX + 2];
    size_t pos = 0;
    unsigned no = 0;

    if (err != NULL)
        memset(err, 0, sizeof(*err));
    if (c == NULL || (text == NULL && len > 0))
        return MULE_ERR_INVAL;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl != NULL ? (size_t)(nl - (text + pos)) : len - pos;
        char *eq, *k, *v;
        size_t i;
        int rc;

        no++;
        if (n > MULE_CONF_LINE_MAX)
            return fail(err, no, "line longer than %u octets", MULE_CONF_LINE_MAX);
        memcpy(line, text + pos, n);
        line[n] = '\0';
        pos += n + (nl != NULL);
        if (memchr(line, '\0', n) != NULL)
            return fail(err, no, "NUL octet in the line");
        k = trim(line, line + n);
        if (*k == '\0' || *k == '#')
            continue;
        if ((eq = strchr(k, '=')) == NULL)
            return fail(err, no, "want 'key = value'");
        *eq = '\0';
        v = trim(eq + 1, eq + 1 + strlen(eq + 1));
        k = trim(k, eq);
        for (i = 0; i < NOPTS; i++)
            if (strcmp(opts[i].name, k) == 0)
                break;
        if (i == NOPTS)
            return fail(err, no, "unknown option '%.60s'", k);
        if (c->seen[i / 64] & (UINT64_C(1) << (i % 64)))
            return fail(err, no, "'%s' given twice", k);
        if (*v == '\0')
            return fail(err, no, "%s: empty value", k);
        if ((rc = set_value(c, &opts[i], v, no, err)) != 0)
            return rc;
        c->seen[i / 64] |= UINT64_C(1) << (i % 64);
    }
    return 0;
}

int
mule_conf_check(mule_conf *c, mule_conf_error *err)
{
    char path[1100];

    if (err != NULL)
        memset(err, 0, sizeof(*err));
    if (c->node_id == 0)
        return fail(err, 0, "node_id is required (this node's IPv4 address)");
    if (c->spool_dir == NULL)
        return fail(err, 0, "spool_dir is required");
    if (c->routes == NULL)
        return fail(err, 0, "routes is required (the routing table file)");
    if (c->backoff_min_ms > c->backoff_max_ms)
        return fail(err, 0, "backoff_min is above backoff_max");
    if (c->ack_rtx_min_ms > c->ack_rtx_max_ms)
        return fail(err, 0, "ack_rtx_min is above ack_rtx_max");
    /* The sender re-anchors its epoch every minute (pmul_auth.h): a
     * shorter limit would refuse good datagrams. */
    if (c->pmul_auth_max_age_ms != 0 && c->pmul_auth_max_age_ms < 120000)
        return fail(err, 0, "pmul_auth_max_age is 0 (no limit) or at least 2m");
    if (c->smtpd_tls != MULE_CONF_TLS_NONE && (c->smtpd_tls_cert == NULL || c->smtpd_tls_key == NULL))
        return fail(err, 0, "smtpd_tls needs smtpd_tls_cert and smtpd_tls_key");
    if (c->hostname == NULL && set_str(&c->hostname, c->node_id_text) != 0)
        return MULE_ERR_NOMEM;
    if (c->deliver == NULL && set_str(&c->deliver, "maildir") != 0)
        return MULE_ERR_NOMEM;
    if (c->mynetworks == NULL && set_str(&c->mynetworks, "127.0.0.0/8 ::1/128") != 0)
        return MULE_ERR_NOMEM;
    if (c->control_group == NULL && set_str(&c->control_group, "mule") != 0)
        return MULE_ERR_NOMEM;
    if (c->user == NULL && set_str(&c->user, "mule") != 0)
        return MULE_ERR_NOMEM;
    if (c->control_socket == NULL && set_str(&c->control_socket, "/run/mule/muled.sock") != 0)
        return MULE_ERR_NOMEM;
    if (c->pmul_auth_key == NULL && set_str(&c->pmul_auth_key, "/etc/mule/pmul.key") != 0)
        return MULE_ERR_NOMEM;
    static const struct { size_t off; const char *leaf; } under[] = {
        {F(maildir), "maildir"}, {F(audit_dir), "audit"}, {F(audit_key), "audit.key"},
    };
    for (size_t i = 0; i < sizeof under / sizeof under[0]; i++) {
        char **p = (char **)((char *)c + under[i].off);
        if (*p != NULL)
            continue;
        snprintf(path, sizeof(path), "%s/%s", c->spool_dir, under[i].leaf);
        if (set_str(p, path) != 0)
            return MULE_ERR_NOMEM;
    }
    return 0;
}
