/*
 * NAME
 *	netsim_mule - the MULE layer of each simulated node
 * SYNOPSIS
 *	#include "netsim/netsim_int.h"
 * DESCRIPTION
 *	With "mule on", every node does with each message it receives what
 *	muled does: mule_node_inbound() (the one library that makes a node's
 *	MULE decisions) on the payload as delivered, with the message's
 *	P_MUL destination list.  The node "stores" at once, so what it
 *	relays (relay.outs) and the DSNs it sends (dsn.outs) are submitted
 *	to its engine at the same virtual instant, as new messages that
 *	netsim tracks and checks like the scenario's own (delivered exactly
 *	once and byte-identical, acked, finished).  Local deliveries (mail
 *	and DSNs) are recorded with their envelope and content for
 *	"expect local" and the report.
 *
 *	A scenario mail (msg ... mail-from A rcpt B,C) is built here too: the
 *	generated text behind a BSMTP-like envelope, as CompressedData.
 *
 *	Everything is a function of the scenario, the seed and virtual time:
 *	the Received dates come from wall-start plus virtual time, DSN
 *	Message-IDs from a counter, host names are the node names.
 * SECURITY
 *	Payloads are whatever the engines delivered; mule_node_inbound()
 *	checks them.  Recorded content is copied, never borrowed.
 * DIAGNOSTICS
 *	NETSIM_ERR_NOMEM (also for MULE's temporary failures: the simulated
 *	node has no disk to retry from); a relay to an address that is no
 *	scenario node is a run-time failure (netsim__problem).
 * SEE ALSO
 *	mule_node(3), docs/netsim.md "MULE".
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "netsim/netsim_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "bsmtp/bsmtp_payload.h"
#include "mule/mule_cdt.h"
#include "mule/mule_err.h"
#include "mule/mule_node.h"
#include "pmul/util/arr.h"
#include "pmul/util/fnv.h"

int
netsim__mule_new(netsim *s)
{
    mule_route_error re;
    size_t i;
    int rc;

    s->routes = mem_calloc(s->m, s->sc->node_cnt, sizeof(*s->routes));
    if (s->routes == NULL)
        return NETSIM_ERR_NOMEM;
    for (i = 0; i < s->sc->node_cnt; i++) {
        const netsim_node_cfg *n = &s->sc->nodes[i];

        /* A node without route lines has an empty table: it delivers
         * nothing locally and fails every recipient it is alone with. */
        rc = mule_route_table_parse(n->routes != NULL ? n->routes : "", n->routes_len, s->m,
                                    NULL, &s->routes[i], &re);
        if (rc != 0)
            return rc == MULE_ERR_NOMEM ? NETSIM_ERR_NOMEM : NETSIM_ERR_INVAL;
    }
    return 0;
}

void
netsim__mule_free(netsim *s)
{
    size_t i;

    if (s->routes != NULL)
        for (i = 0; i < s->sc->node_cnt; i++)
            mule_route_table_free(s->routes[i]);
    mem_free(s->m, s->routes);
    for (i = 0; i < s->local_cnt; i++) {
        mem_free(s->m, s->locals[i].reverse_path);
        mem_free(s->m, s->locals[i].rcpts);
        mem_free(s->m, s->locals[i].content);
    }
    mem_free(s->m, s->locals);
}

static int
from_mule(int rc)
{
    return mule_node_is_temporary(rc) ? NETSIM_ERR_NOMEM : NETSIM_ERR_INVAL;
}

int
netsim__mule_wrap(netsim *s, netsim__msg *mm)
{
    const netsim_msg_cfg *c = mm->cfg;
    bsmtp_envelope *env = NULL;
    mule_cdt_config cc;
    const char *r = c->rcpt;
    char addr[512];
    buf plain, z;
    size_t n;
    int rc;

    mule_cdt_config_init(&cc);
    buf_init(&plain, s->m, SIZE_MAX);
    buf_init(&z, s->m, SIZE_MAX);
    rc = bsmtp_envelope_new(c->mail_from, NULL, s->m, &env);
    /* The parser checked every address (mail_check()). */
    for (; rc == 0 && *r != '\0'; r += n + (r[n] == ',')) {
        n = strcspn(r, ",");
        if (n == 0 || n >= sizeof(addr)) {
            rc = BSMTP_ERR_INVAL;
            break;
        }
        memcpy(addr, r, n);
        addr[n] = '\0';
        rc = bsmtp_envelope_add_rcpt(env, addr, NULL);
    }
    if (rc == 0)
        rc = bsmtp_payload_build(env, mm->payload, mm->len, &plain);
    if (rc == 0)
        rc = mule_cdt_encode(&cc, s->m, plain.data, plain.len, &z);
    bsmtp_envelope_free(env);
    buf_fini(&plain);
    if (rc != 0) {
        buf_fini(&z);
        return from_mule(rc);
    }
    mm->content = mm->payload;
    mm->content_len = mm->len;
    mm->payload = buf_steal(&z, &mm->len);
    return 0;
}

/* ---- inbound -------------------------------------------------------- */

/* Append env's recipients as "a,b" to out. */
static int
rcpt_list(const bsmtp_envelope *env, buf *out)
{
    size_t i;
    int rc = 0;

    for (i = 0; i < env->rcpt_cnt && rc == 0; i++)
        rc = buf_printf(out, "%s%s", i > 0 ? "," : "", env->rcpts[i].addr);
    return rc == 0 ? buf_append(out, "", 1) : rc;    /* NUL-terminated */
}

/* A local delivery of node: what the MTA would get. */
static int
record_local(netsim *s, size_t node, size_t msg, const bsmtp_envelope *env, const buf *content)
{
    netsim__local *l;
    char extra[200];
    buf r;
    size_t rl = strlen(env->reverse_path), len;

    if (arr_grow_zero(s->m, (void **)&s->locals, &s->local_cap, s->local_cnt + 1,
                      sizeof(*s->locals), SIZE_MAX / sizeof(*s->locals)) != 0)
        return NETSIM_ERR_NOMEM;
    l = &s->locals[s->local_cnt];
    memset(l, 0, sizeof(*l));
    buf_init(&r, s->m, SIZE_MAX);
    if (rcpt_list(env, &r) != 0) {
        buf_fini(&r);
        return NETSIM_ERR_NOMEM;
    }
    l->rcpts = (char *)buf_steal(&r, &len);
    l->reverse_path = mem_alloc(s->m, rl + 1);
    l->content = mem_alloc(s->m, content->len > 0 ? content->len : 1);
    s->local_cnt++;             /* freed with the run from here on */
    if (l->rcpts == NULL || l->reverse_path == NULL || l->content == NULL)
        return NETSIM_ERR_NOMEM;
    memcpy(l->reverse_path, env->reverse_path, rl + 1);
    if (content->len > 0)
        memcpy(l->content, content->data, content->len);
    l->len = content->len;
    l->node = node;
    l->msg = msg;
    l->at_us = s->now_us;
    s->counters[NETSIM_C_MULE_LOCAL]++;
    (void)snprintf(extra, sizeof(extra), "local msg=%s from=<%s> rcpt=%.80s len=%zu",
                   s->msgs[msg].cfg->name, l->reverse_path, l->rcpts, l->len);
    netsim__trace_mule(s, node, msg, fnv64(l->content, l->len), l->len, extra);
    return 0;
}

/* Ascending node indices, no repeats (netsim_msg_cfg.to). */
static void
sort_idx(size_t *v, size_t n)
{
    size_t i, j, x;

    for (i = 1; i < n; i++) {
        x = v[i];
        for (j = i; j > 0 && v[j - 1] > x; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
}

/* One P_MUL message node's MULE wants sent: a new netsim message. */
static int
send_out(netsim *s, size_t node, size_t parent, mule_relay_out *o, const char *kind, size_t k,
         int64_t now_s)
{
    netsim_msg_cfg *c;
    char extra[160], name[2 * NETSIM_NAME_MAX + 32];
    uint8_t *payload;
    size_t len, i;
    uint64_t v;

    c = mem_calloc(s->m, 1, sizeof(*c));
    if (c == NULL)
        return NETSIM_ERR_NOMEM;
    c->to = mem_calloc(s->m, o->node_cnt > 0 ? o->node_cnt : 1, sizeof(*c->to));
    if (c->to == NULL) {
        mem_free(s->m, c);
        return NETSIM_ERR_NOMEM;
    }
    for (i = 0; i < o->node_cnt; i++) {
        if (!map_get(&s->by_ip, o->nodes[i], &v) || v == node) {
            netsim__problem(s, "%s: MULE sends to %u.%u.%u.%u, no other node of the scenario",
                            s->sc->nodes[node].name, o->nodes[i] >> 24,
                            (o->nodes[i] >> 16) & 255, (o->nodes[i] >> 8) & 255,
                            o->nodes[i] & 255);
            continue;
        }
        c->to[c->to_cnt++] = (size_t)v;
    }
    if (c->to_cnt == 0) {
        mem_free(s->m, c->to);
        mem_free(s->m, c);
        return 0;
    }
    sort_idx(c->to, c->to_cnt);
    /* "m1/n2" relayed by n2, "m1/n2/dsn" its DSN; a suffix when a node
     * sends more than one of a kind for one message. */
    if (k == 0)
        (void)snprintf(name, sizeof(name), "%s/%s%s", s->msgs[parent].cfg->name,
                       s->sc->nodes[node].name, kind);
    else
        (void)snprintf(name, sizeof(name), "%s/%s%s-%zu", s->msgs[parent].cfg->name,
                       s->sc->nodes[node].name, kind, k + 1);
    /* Only shown: a long one is cut. */
    len = strnlen(name, sizeof(c->name) - 1);
    memcpy(c->name, name, len);
    c->name[len] = '\0';
    c->from = node;
    c->prio = o->priority;
    c->at_us = s->now_us;
    c->expiry_us = o->expiry_s > now_s ? (uint64_t)(o->expiry_s - now_s) * 1000000u : 1000000u;
    c->text = NETSIM_TEXT_BINARY;
    c->line = s->msgs[parent].cfg->line;
    payload = buf_steal(&o->payload, &len);
    if (payload == NULL) {
        mem_free(s->m, c->to);
        mem_free(s->m, c);
        return NETSIM_ERR_NOMEM;
    }
    c->size = len;
    (void)snprintf(extra, sizeof(extra), "send msg=%s rcpts=%zu len=%zu", c->name, o->rcpt_cnt,
                   len);
    netsim__trace_mule(s, node, parent, fnv64(payload, len), len, extra);
    if (*kind == '\0')
        s->counters[NETSIM_C_MULE_RELAY]++;
    return netsim__msg_add(s, c, payload, len);
}

int
netsim__mule_inbound(netsim *s, size_t node, size_t msg, const uint8_t *p, size_t len)
{
    const netsim_msg_cfg *mc = s->msgs[msg].cfg;
    const netsim_node_cfg *nd = &s->sc->nodes[node];
    int64_t now_s = s->sc->wall_start_s + (int64_t)(s->now_us / 1000000);
    mule_node_config cfg;
    mule_cdt_config cc;
    mule_node_clock clk;
    mule_node_result res;
    mule_node_in in;
    uint32_t *dests;
    char date[64], msgid[96], id[16], extra[160];
    buf d;
    size_t i, dl;
    int rc;

    mule_cdt_config_init(&cc);
    memset(&cfg, 0, sizeof(cfg));
    cfg.hostname = nd->name;
    cfg.node_id = nd->ip;
    cfg.cdt = &cc;
    buf_init(&d, s->m, sizeof(date) - 1);
    if (netsim_mail_date(&d, now_s) != 0) {
        buf_fini(&d);
        return NETSIM_ERR_NOMEM;
    }
    dl = d.len;
    memcpy(date, d.data, dl);
    date[dl] = '\0';
    buf_fini(&d);
    /* One Message-ID per call, whether a DSN comes of it or not: the
     * sequence depends only on the order of deliveries. */
    (void)snprintf(msgid, sizeof(msgid), "<dsn.%llu.%s@netsim.invalid>",
                   (unsigned long long)++s->dsn_seq, nd->name);
    memset(&clk, 0, sizeof(clk));
    clk.now_s = now_s;
    clk.now_date = date;
    clk.dsn_msgid = msgid;
    dests = mem_calloc(s->m, mc->to_cnt, sizeof(*dests));
    if (dests == NULL)
        return NETSIM_ERR_NOMEM;
    for (i = 0; i < mc->to_cnt; i++)
        dests[i] = s->sc->nodes[mc->to[i]].ip;
    (void)snprintf(id, sizeof(id), "%08x", s->msgs[msg].msid);
    memset(&in, 0, sizeof(in));
    in.src = s->sc->nodes[mc->from].ip;
    in.msid = s->msgs[msg].msid;
    in.dests = dests;
    in.dest_cnt = mc->to_cnt;
    in.payload = p;
    in.payload_len = len;
    in.arrival_s = now_s;
    in.id = id;
    rc = mule_node_inbound(&cfg, s->routes[node], &in, &clk, s->m, NULL, &res);
    mem_free(s->m, dests);
    if (rc != 0) {
        mule_node_result_fini(&res);
        return from_mule(rc);
    }
    if (!res.has_relay) {
        /* Not ours (another addressee handles it), or unusable: kept aside
         * by a real node; here only counted. */
        if (res.err != MULE_ERR_NOT_RESPONSIBLE)
            s->counters[NETSIM_C_MULE_UNUSABLE]++;
        (void)snprintf(extra, sizeof(extra), "%s msg=%s reason=%s",
                       res.err == MULE_ERR_NOT_RESPONSIBLE ? "skip" : "unusable", mc->name,
                       mule_errname(res.err));
        netsim__trace_mule(s, node, msg, (uint64_t)(uint32_t)res.err, 0, extra);
        mule_node_result_fini(&res);
        return 0;
    }
    if (res.relay.local_env != NULL)
        rc = record_local(s, node, msg, res.relay.local_env, &res.relay.content);
    for (i = 0; rc == 0 && i < res.relay.out_cnt; i++)
        rc = send_out(s, node, msg, &res.relay.outs[i], "", i, now_s);
    if (rc == 0 && res.has_dsn) {
        s->counters[NETSIM_C_MULE_DSN]++;
        if (res.dsn.local_env != NULL)
            rc = record_local(s, node, msg, res.dsn.local_env, &res.dsn.content);
        for (i = 0; rc == 0 && i < res.dsn.out_cnt; i++)
            rc = send_out(s, node, msg, &res.dsn.outs[i], "/dsn", i, now_s);
    } else if (rc == 0 && res.dsn_err != 0) {
        (void)snprintf(extra, sizeof(extra), "no-dsn msg=%s reason=%s", mc->name,
                       mule_errname(res.dsn_err));
        netsim__trace_mule(s, node, msg, (uint64_t)(uint32_t)res.dsn_err, 1, extra);
    }
    mule_node_result_fini(&res);
    return rc;
}

/* ---- checks and report ---------------------------------------------- */

/* addr is one of the comma-separated list (ASCII case-insensitively:
 * domains are; local parts nearly always in practice). */
static bool
in_list(const char *list, const char *addr)
{
    size_t al = strlen(addr), n;

    for (; *list != '\0'; list += n + (list[n] == ',')) {
        n = strcspn(list, ",");
        if (n == al && strncasecmp(list, addr, n) == 0)
            return true;
    }
    return false;
}

static bool
has_text(const uint8_t *p, size_t len, const char *t)
{
    size_t n = strlen(t), i;

    for (i = 0; n <= len && i + n <= len; i++)
        if (memcmp(p + i, t, n) == 0)
            return true;
    return false;
}

/* True when p is want with Received fields (and their continuation
 * lines) added to its header section. */
static bool
same_but_received(const uint8_t *p, size_t len, const uint8_t *want, size_t wlen)
{
    size_t i = 0, j = 0, e;
    bool skip = false;

    while (i < len) {
        for (e = i; e < len && p[e] != '\n'; e++)
            ;
        e = e < len ? e + 1 : e;                /* one line, with its end */
        if ((p[i] == ' ' || p[i] == '\t') && skip) {
            i = e;
            continue;
        }
        skip = e - i >= 9 && strncasecmp((const char *)p + i, "Received:", 9) == 0;
        if (skip) {
            i = e;
            continue;
        }
        if (p[i] == '\r' || p[i] == '\n')
            break;                              /* end of the header */
        if (e - i > wlen - j || memcmp(p + i, want + j, e - i) != 0)
            return false;
        j += e - i;
        i = e;
    }
    return len - i == wlen - j && memcmp(p + i, want + j, len - i) == 0;
}

bool
netsim__mule_check_local(const netsim *s, const netsim_expect *e, char *why, size_t len)
{
    size_t node = e->nodes[0], i, k, got = 0;

    for (i = 0; i < s->local_cnt; i++) {
        const netsim__local *l = &s->locals[i];

        if (l->node != node || !in_list(l->rcpts, e->addr))
            continue;
        if (e->from != NULL && strcasecmp(l->reverse_path, e->from) != 0)
            continue;
        got++;
        if (e->same >= 0) {
            const netsim__msg *mm = &s->msgs[e->same];

            if (!same_but_received(l->content, l->len, mm->content, mm->content_len)) {
                (void)snprintf(why, len, "%s: mail to %s (via %s) differs from %s apart from "
                               "Received fields", s->sc->nodes[node].name, e->addr,
                               s->msgs[l->msg].cfg->name, mm->cfg->name);
                return false;
            }
        }
        for (k = 0; k < e->has_cnt; k++) {
            if (!has_text(l->content, l->len, e->has[k])) {
                (void)snprintf(why, len, "%s: mail to %s (via %s) lacks \"%s\"",
                               s->sc->nodes[node].name, e->addr, s->msgs[l->msg].cfg->name,
                               e->has[k]);
                return false;
            }
        }
    }
    if (got != e->n) {
        (void)snprintf(why, len, "%s delivered %zu mail%s to %s%s%s, want %llu",
                       s->sc->nodes[node].name, got, got == 1 ? "" : "s", e->addr,
                       e->from != NULL ? " from " : "", e->from != NULL ? e->from : "",
                       (unsigned long long)e->n);
        return false;
    }
    return true;
}

/* s as a JSON string body: quotes, backslashes and controls escaped
 * (a quoted local part may hold the first two). */
static int
json_str(buf *out, const char *s)
{
    int rc = 0;

    for (; *s != '\0' && rc == 0; s++) {
        unsigned char ch = (unsigned char)*s;

        if (ch == '"' || ch == '\\')
            rc = buf_printf(out, "\\%c", ch);
        else if (ch < 0x20)
            rc = buf_printf(out, "\\u%04x", ch);
        else
            rc = buf_append(out, s, 1);
    }
    return rc;
}

int
netsim__mule_report(const netsim *s, buf *out, bool json)
{
    size_t i;
    int rc = 0;

    for (i = 0; i < s->local_cnt && rc == 0; i++) {
        const netsim__local *l = &s->locals[i];
        unsigned long long sec = l->at_us / 1000000, ms = l->at_us / 1000 % 1000,
                           h = fnv64(l->content, l->len);

        if (!json) {
            rc = buf_printf(out, "local %s msg %s from <%s> rcpt %s size %zu time %llu.%03llu s "
                            "hash %016llx\n", s->sc->nodes[l->node].name,
                            s->msgs[l->msg].cfg->name, l->reverse_path, l->rcpts, l->len, sec,
                            ms, h);
            continue;
        }
        rc = buf_printf(out, "{\"local\":\"%s\",\"msg\":\"%s\",\"from\":\"",
                        s->sc->nodes[l->node].name, s->msgs[l->msg].cfg->name);
        if (rc == 0)
            rc = json_str(out, l->reverse_path);
        if (rc == 0)
            rc = buf_printf(out, "\",\"rcpt\":\"");
        if (rc == 0)
            rc = json_str(out, l->rcpts);
        if (rc == 0)
            rc = buf_printf(out, "\",\"size\":%zu,\"time_s\":%llu.%03llu,\"hash\":\"%016llx\"}\n",
                            l->len, sec, ms, h);
    }
    return rc;
}
