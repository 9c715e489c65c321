/*
 * NAME
 *	pmul-replay - replay a P_MUL capture into an engine or onto the network
 * SYNOPSIS
 *	pmul-replay [options] -r FILE --as NODE_ID
 *	pmul-replay [options] -r FILE --send
 * DESCRIPTION
 *	How a field problem becomes a lab problem, then a regression test.
 *
 *	Offline (--as): one P_MUL engine acts as node NODE_ID on virtual time
 *	(dump_vnode.c).  It is fed exactly the datagrams of the capture that
 *	node would have received: multicast to a group it listens to (every
 *	group, unless --join narrows it; groups it is told to join by the
 *	dynamic group procedure are added), and unicast addressed to it;
 *	never its own transmissions.  Capture timestamps are `now`.  The
 *	output is what the node would have done: every delivery, every
 *	datagram it would have sent (its Acks, decoded and printed, never
 *	sent), and its receiver events.  The same capture always gives the
 *	same output.
 *
 *	Live (--send): the datagrams of the capture are sent again with a
 *	UDP socket, multicast to their group (unicast ones too with
 *	--unicast) with the original spacing divided by --speed, or paced to
 *	--rate.  On the way they can be rewritten: node IDs (--rewrite-source),
 *	groups (--group), ports (--port), and Expiry_Times moved to the
 *	present (--refresh-expiry).  A datagram whose octets change is decoded
 *	by the codec, changed in the decoded struct and encoded again, so it
 *	gets a correct Fletcher checksum.  --netns sends from inside a network
 *	namespace, where a lab daemon may be running.
 * SECURITY
 *	The capture is untrusted; it is parsed only by pmul_pcap_read.c and
 *	the codec, and the offline engine is fed nothing a real receiver
 *	would not have seen.  Sending needs no privilege except for --netns
 *	(CAP_SYS_ADMIN for setns).  Nothing is sent in offline mode.
 * DIAGNOSTICS
 *	Exit 0 when the whole capture was replayed, 1 when reading stopped
 *	early (corrupt or truncated capture) or a datagram could not be sent,
 *	2 on usage errors or when the capture, namespace or socket cannot be
 *	opened.  Messages go to stderr as "pmul-replay: ...".
 * SEE ALSO
 *	pmul-dump(1), docs/tools.md, ip-netns(8).
 * LICENSE
 *	MIT, see LICENSE.
 */
#define _GNU_SOURCE                     /* setns(2) */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pmul/pmul_engine.h"
#include "pmul/pmul_pcap.h"
#include "pmul/pmul_pdu.h"
#include "pmul/util/fnv.h"
#include "pmul/util/buf.h"
#include "pmul/util/log.h"
#include "tools/capture/cap_common.h"
#include "tools/capture/dump_fmt.h"
#include "tools/capture/dump_opt.h"
#include "tools/capture/dump_vnode.h"

#define PROG "pmul-replay"
#define MAX_MAP 64                      /* rewrite rules of each kind */
#define MAX_JOIN 256                    /* groups the node listens to */
#define IP_UDP_OVERHEAD 28u

static const char usage_text[] =
"NAME\n"
"    pmul-replay - replay a P_MUL capture into an engine or onto the network\n"
"\n"
"SYNOPSIS\n"
"    pmul-replay [options] -r FILE --as NODE_ID\n"
"    pmul-replay [options] -r FILE --send\n"
"\n"
"DESCRIPTION\n"
"    Offline (--as): a P_MUL engine acts as node NODE_ID (its IPv4 node ID)\n"
"    on virtual time.  It is fed the datagrams of the capture that node\n"
"    would have received (multicast to the groups it listens to, unicast\n"
"    to it; not its own), at their capture timestamps.  Printed: each\n"
"    message it delivers, each datagram it would send (its Acks, decoded;\n"
"    nothing is sent) and its receiver events.  Deterministic: the same\n"
"    capture gives the same output.  This is how a field capture becomes a\n"
"    regression test.\n"
"\n"
"    Live (--send): sends the captured datagrams again, multicast to their\n"
"    group, with the original spacing divided by --speed (or paced by\n"
"    --rate), optionally rewritten.  Datagrams whose octets change are\n"
"    decoded, changed and encoded again with a correct checksum.\n"
"\n"
"COMMON OPTIONS\n"
"    -r, --read FILE          capture file (pcap or pcapng; \"-\": stdin)\n"
"    -f, --filter EXPR        BPF filter applied while reading\n"
"    -p, --ports LIST         P_MUL UDP ports (default 2751-2754)\n"
"    -c, --count N            stop after N frames\n"
"    -j, --json               JSON Lines output\n"
"    -q, --quiet              summary only\n"
"    -v, --verbose            engine log on stderr (offline)\n"
"    -h, --help               this text\n"
"\n"
"OFFLINE OPTIONS\n"
"        --as NODE_ID         the node to act as (dotted IPv4)\n"
"        --join GROUP         listen to GROUP only (repeatable; default: all\n"
"                             groups in the capture)\n"
"        --linger S           run the node's timers S virtual seconds past\n"
"                             the last frame (default 5)\n"
"        --rate BPS           the node's uplink pacing (default: none)\n"
"        --seed N             seed of the node's randomness (default: its ID)\n"
"        --emcon              the node is in EMCON (sends nothing)\n"
"        --drop-frames LIST   frames the node did not receive, e.g. 5,7-9 or\n"
"                             @FILE (a capture taken elsewhere on the net\n"
"                             shows what the node lost)\n"
"\n"
"LIVE OPTIONS\n"
"        --send               send onto the network\n"
"        --speed X            divide captured gaps by X (default 1; 0: no\n"
"                             waiting)\n"
"        --rate BPS           at most BPS bit/s, 28 octets of IP/UDP counted\n"
"        --max-gap S          wait at most S seconds between two datagrams\n"
"        --rewrite-source OLD=NEW  node ID OLD becomes NEW wherever a PDU\n"
"                             names it: Source_ID, Ack entries, destinations\n"
"        --group [OLD=]NEW    send to group NEW instead of OLD (all groups\n"
"                             without OLD=); with OLD=, group fields of\n"
"                             Announce/Request/Reject/Release too\n"
"        --port [OLD=]NEW     destination port NEW instead of OLD (all)\n"
"        --refresh-expiry     move Expiry_Times so they lie as far after\n"
"                             the send time as they lay after the capture\n"
"        --from IP            only datagrams whose IP source is IP\n"
"        --unicast            also send unicast datagrams (Acks, Rejects)\n"
"        --bind IP            source address to send from\n"
"        --mcast-if IP        interface address for multicast\n"
"        --ttl N              multicast TTL (default 1)\n"
"        --no-loop            no multicast loopback to local receivers\n"
"        --netns NAME         send from network namespace NAME (ip netns)\n"
"        --dry-run            print what would be sent, send nothing\n"
"\n"
"OUTPUT\n"
"    Offline: deliver time= node= src= msid= len= fnv=\n"
"             tx time= to=IP:PORT <PDU fields as pmul-dump prints them>\n"
"             event time= kind= src= msid= [reason=]\n"
"             summary node= frames= fed= delivered= tx= ...\n"
"    Live:    sent frame= time= to=IP:PORT len= [rewritten]\n"
"             summary frames= sent= rewritten= skipped= errors=\n"
"\n"
"EXIT STATUS\n"
"    0 the capture was replayed to its end; 1 it could not be read to its\n"
"    end, or sending failed; 2 usage error, or the capture, namespace or\n"
"    socket cannot be opened.\n"
"\n"
"EXAMPLES\n"
"    pmul-replay -r field.pcap --as 10.1.0.7\n"
"    pmul-replay -r field.pcap --send --speed 4 --refresh-expiry \\\n"
"        --rewrite-source 10.1.0.1=198.18.0.1 --group 239.0.0.1=239.9.9.9\n"
"    pmul-replay -r field.pcap --send --netns lab --rate 9600\n"
"\n"
"SEE ALSO\n"
"    pmul-dump(1), docs/tools.md, ip-netns(8)\n";

typedef struct ip_map { uint32_t from, to; } ip_map;
typedef struct port_map { uint16_t from, to; } port_map;

typedef struct ctx {
    /* Common options. */
    const char *file, *filter;
    dump_ports ports;
    uint64_t count;
    bool json, quiet, verbose;
    /* Offline. */
    bool offline;
    uint32_t node;
    uint32_t joins[MAX_JOIN];
    size_t join_cnt;
    bool join_all;
    uint64_t linger_us, rate_bps, seed;
    bool emcon;
    dump_ranges drop;                   /* --drop-frames */
    /* Live. */
    bool send;
    double speed, max_gap_s;
    ip_map src_map[MAX_MAP], group_map[MAX_MAP];
    size_t src_map_cnt, group_map_cnt;
    uint32_t group_all;                 /* --group NEW without OLD */
    port_map port_maps[MAX_MAP];
    size_t port_map_cnt;
    uint16_t port_all;
    bool refresh_expiry, unicast, no_loop, dry_run, from_set;
    uint32_t from_ip, bind_ip, mcast_if;
    bool bind_set, mcast_if_set;
    unsigned ttl;
    const char *netns;
    /* State. */
    pmul_pcap_reader *rd;
    dump_decoder dec;
    vnode *vn;
    cap_out out;
    logger log;
    int sock;
    uint8_t *txbuf;
    uint64_t frames, fed, not_for_node, dropped, skipped, bad_frames, delivered, tx, events;
    uint64_t sent, rewritten, send_errors, rewrite_failed, last_ts;
    bool read_error;
} ctx;

/* ---- offline ------------------------------------------------------------ */

static bool
joined(const ctx *c, uint32_t group)
{
    size_t i;

    if (c->join_all)
        return true;
    for (i = 0; i < c->join_cnt; i++)
        if (c->joins[i] == group)
            return true;
    return false;
}

static void
on_tx(void *arg, uint32_t node, uint64_t t_us, const pmul_addr *to,
      const uint8_t *pkt, size_t len)
{
    ctx *c = arg;
    dump_pdu d;
    char ip[16];
    int rc;

    (void)node;
    c->tx++;
    if (c->quiet)
        return;
    dump_pdu_decode(&c->dec, pkt, len, &d);
    dump_ip4(to->ip, ip, sizeof(ip));
    rc = c->json ? buf_printf(&c->out.b, "{\"kind\":\"tx\",\"ts_us\":%" PRIu64 ",\"time\":", t_us)
                 : buf_append_str(&c->out.b, "tx time=");
    if (rc == 0)
        rc = dump_put_time(&c->out.b, t_us);
    if (rc == 0)
        rc = c->json ? buf_printf(&c->out.b, ",\"to\":\"%s\",\"port\":%u,\"multicast\":%s,",
                                  ip, to->port, to->is_multicast ? "true" : "false")
                     : buf_printf(&c->out.b, " to=%s:%u ", ip, to->port);
    if (rc == 0)
        rc = dump_put_pdu(&c->out.b, &d, c->json);
    if (rc == 0)
        rc = buf_append_str(&c->out.b, c->json ? "}\n" : "\n");
    if (rc != 0)
        cap_out_failed(&c->out);
}

static void
on_event(void *arg, uint32_t node, uint64_t t_us, const pmul_event *ev)
{
    ctx *c = arg;
    char nb[16], sb[16];
    int rc = 0;

    dump_ip4(node, nb, sizeof(nb));
    dump_ip4(ev->source_id, sb, sizeof(sb));
    if (ev->kind == PMUL_EV_JOIN_GROUP && !c->join_all && c->join_cnt < MAX_JOIN &&
        !joined(c, ev->group))
        c->joins[c->join_cnt++] = ev->group;
    if (ev->kind == PMUL_EV_DELIVERED) {
        c->delivered++;
        if (c->quiet)
            return;
        rc = c->json
            ? buf_printf(&c->out.b, "{\"kind\":\"delivery\",\"node\":\"%s\",\"source_id\":\"%s\","
                         "\"msid\":%" PRIu32 ",\"len\":%zu,\"fnv\":\"%016" PRIx64
                         "\",\"prio\":%u,\"ts_us\":%" PRIu64 ",\"time\":", nb, sb,
                         ev->msid, ev->payload_len, fnv64(ev->payload, ev->payload_len),
                         ev->priority, t_us)
            : buf_printf(&c->out.b, "deliver time=");
        if (rc == 0)
            rc = dump_put_time(&c->out.b, t_us);
        if (rc == 0)
            rc = c->json ? buf_append_str(&c->out.b, "}\n")
                         : buf_printf(&c->out.b, " node=%s src=%s msid=%" PRIu32 " len=%zu "
                                      "fnv=%016" PRIx64 " prio=%u\n", nb, sb, ev->msid,
                                      ev->payload_len,
                                      fnv64(ev->payload, ev->payload_len), ev->priority);
        if (rc != 0)
            cap_out_failed(&c->out);
        return;
    }
    c->events++;
    if (c->quiet)
        return;
    rc = c->json ? buf_printf(&c->out.b, "{\"kind\":\"event\",\"ts_us\":%" PRIu64 ",\"time\":", t_us)
                 : buf_append_str(&c->out.b, "event time=");
    if (rc == 0)
        rc = dump_put_time(&c->out.b, t_us);
    if (rc == 0)
        rc = c->json
            ? buf_printf(&c->out.b, ",\"event\":\"%s\",\"source_id\":\"%s\",\"msid\":%" PRIu32
                         ",\"reason\":\"%s\",\"group\":%" PRIu32 ",\"seq_first\":%" PRIu32
                         ",\"seq_last\":%" PRIu32 "}\n", pmul_event_name(ev->kind), sb,
                         ev->msid, pmul_reason_name(ev->reason), ev->group,
                         ev->seq_first, ev->seq_last)
            : buf_printf(&c->out.b, " kind=%s src=%s msid=%" PRIu32 " reason=%s\n",
                         pmul_event_name(ev->kind), sb, ev->msid,
                         pmul_reason_name(ev->reason));
    if (rc != 0)
        cap_out_failed(&c->out);
}

static void
offline_frame(ctx *c, const pmul_pcap_frame *f)
{
    bool mc;

    /* Node IDs are IPv4 addresses (decision 7); an IPv6 capture can only
     * be replayed for its multicast traffic. */
    mc = cap_frame_is_multicast(f);
    if (dump_ranges_has(&c->drop, f->number)) {
        c->dropped++;                   /* lost on the way to this node */
        return;
    }
    if (f->ip_version == 4 && f->src_ip4 == c->node) {
        c->not_for_node++;              /* its own transmission */
        return;
    }
    if (mc ? (f->ip_version == 4 && !joined(c, f->dst_ip4))
           : !(f->ip_version == 4 && f->dst_ip4 == c->node)) {
        c->not_for_node++;
        return;
    }
    c->fed++;
    (void)vnode_recv(c->vn, f->ts_us, f->ip_version == 4 ? f->src_ip4 : 0,
                     f->src_port, f->payload, f->payload_len);
}

/* ---- live --------------------------------------------------------------- */

/* The NEW of the first OLD=NEW rule naming v, or v itself. */
static uint32_t
map_ip(const ip_map *m, size_t cnt, uint32_t v, bool *changed)
{
    size_t i;

    for (i = 0; i < cnt; i++) {
        if (m[i].from == v) {
            if (m[i].to != v)
                *changed = true;
            return m[i].to;
        }
    }
    return v;
}

/* --rewrite-source applied to a node ID. */
static uint32_t
map_id(const ctx *c, uint32_t id, bool *changed)
{
    return map_ip(c->src_map, c->src_map_cnt, id, changed);
}

/* --group OLD=NEW applied to a group field of a PDU. */
static uint32_t
map_group_field(const ctx *c, uint32_t g, bool *changed)
{
    return map_ip(c->group_map, c->group_map_cnt, g, changed);
}

static uint32_t
refresh(const ctx *c, uint32_t expiry, uint64_t ts_us, bool *changed)
{
    int64_t delta, now_s;
    int64_t v;

    if (!c->refresh_expiry)
        return expiry;
    now_s = (int64_t)time(NULL);
    delta = now_s - (int64_t)(ts_us / 1000000u);
    v = (int64_t)expiry + delta;
    if (v < 0)
        v = 0;
    if (v > (int64_t)UINT32_MAX)
        v = UINT32_MAX;
    if ((uint32_t)v != expiry)
        *changed = true;
    return (uint32_t)v;
}

/*
 * Apply the rewrite rules to pkt.  Returns the datagram to send in *out
 * (pkt itself when nothing changed) and its length, or -1 when a rule
 * applies but the datagram does not decode (it is then sent unchanged).
 * Changes are made in the decoded struct and its scratch arrays, which
 * belong to us, and the PDU is encoded again: never patched in place.
 */
static ssize_t
rewrite(ctx *c, const uint8_t *pkt, size_t len, uint64_t ts_us, const uint8_t **out)
{
    pmul_pdu p;
    pmul_pdu_scratch *s = &c->dec.s;
    bool changed = false;
    ssize_t n;
    uint16_t i;

    *out = pkt;
    if (c->src_map_cnt == 0 && c->group_map_cnt == 0 && !c->refresh_expiry)
        return (ssize_t)len;
    if (pmul_pdu_decode(&p, s, pkt, len) != 0)
        return -1;

    p.source_id = map_id(c, p.source_id, &changed);
    switch (p.type) {
    case PMUL_PDU_ACK:
        for (i = 0; i < p.u.ack.entry_cnt; i++)
            s->acks[i].source_id = map_id(c, s->acks[i].source_id, &changed);
        break;
    case PMUL_PDU_ADDRESS:
    case PMUL_PDU_EXTRA_ADDRESS:
    case PMUL_PDU_FEC_ADDRESS:
    case PMUL_PDU_EXTRA_FEC_ADDRESS:
        for (i = 0; i < p.u.address.dest_cnt; i++)
            s->dests[i].dest_id = map_id(c, s->dests[i].dest_id, &changed);
        p.u.address.expiry_time = refresh(c, p.u.address.expiry_time, ts_us, &changed);
        break;
    case PMUL_PDU_ANNOUNCE:
        for (i = 0; i < p.u.announce.dest_cnt; i++)
            s->dest_ids[i] = map_id(c, s->dest_ids[i], &changed);
        p.u.announce.expiry_time = refresh(c, p.u.announce.expiry_time, ts_us, &changed);
        p.u.announce.mcast_group = map_group_field(c, p.u.announce.mcast_group, &changed);
        break;
    case PMUL_PDU_REQUEST:
    case PMUL_PDU_REJECT:
    case PMUL_PDU_RELEASE:
        p.u.group.mcast_group = map_group_field(c, p.u.group.mcast_group, &changed);
        break;
    default:
        break;
    }
    if (!changed)
        return (ssize_t)len;
    /* The Address_PDU's destination list must stay sorted (docs/wire.md
     * 4.2): renaming nodes can break the order, and the encoder is strict
     * in what we send. */
    if (pmul_pdu_is_address(p.type)) {
        for (i = 1; i < p.u.address.dest_cnt; i++) {
            uint16_t j = i;

            while (j > 0 && s->dests[j - 1].dest_id > s->dests[j].dest_id) {
                pmul_dest_entry t = s->dests[j];

                s->dests[j] = s->dests[j - 1];
                s->dests[j - 1] = t;
                j--;
            }
        }
    }
    n = pmul_pdu_encode(&p, c->txbuf, PMUL_PDU_MAX_LEN);
    if (n < 0) {
        fprintf(stderr, "%s: re-encoding a rewritten PDU failed: %s\n", PROG,
                pmul_strerror((int)n));
        return -1;
    }
    c->rewritten++;
    *out = c->txbuf;
    return n;
}

static uint64_t
mono_us(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void
sleep_until(uint64_t t_us)
{
    struct timespec ts;

    ts.tv_sec = (time_t)(t_us / 1000000u);
    ts.tv_nsec = (long)(t_us % 1000000u) * 1000L;
    /* EINTR: a signal, probably a stop request; the loop checks it. */
    (void)clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

typedef struct pacer {
    bool started;
    uint64_t cap0_us, mono0_us;         /* first frame: capture and real time */
    uint64_t prev_cap_us, prev_send_us; /* last datagram */
    uint64_t rate_free_us;              /* when --rate allows the next one */
} pacer;

/* When to send a datagram of len octets captured at cap_us. */
static uint64_t
pace(const ctx *c, pacer *p, uint64_t cap_us, size_t len)
{
    uint64_t now = mono_us(), at = now, gap;

    if (!p->started) {
        p->started = true;
        p->cap0_us = cap_us;
        p->mono0_us = now;
        p->prev_cap_us = cap_us;
        p->prev_send_us = now;
    }
    if (c->speed > 0) {
        /* Keep the captured spacing, scaled; captures out of order send
         * at once.  --max-gap caps each wait relative to the last send. */
        gap = cap_us > p->prev_cap_us ? cap_us - p->prev_cap_us : 0;
        at = p->prev_send_us + (uint64_t)((double)gap / c->speed);
        if (c->max_gap_s > 0 && at > p->prev_send_us + (uint64_t)(c->max_gap_s * 1e6))
            at = p->prev_send_us + (uint64_t)(c->max_gap_s * 1e6);
    }
    if (c->rate_bps > 0 && at < p->rate_free_us)
        at = p->rate_free_us;
    if (at < now)
        at = now;
    if (c->rate_bps > 0)
        p->rate_free_us = at + ((uint64_t)len + IP_UDP_OVERHEAD) * 8u * 1000000u / c->rate_bps;
    p->prev_cap_us = cap_us > p->prev_cap_us ? cap_us : p->prev_cap_us;
    p->prev_send_us = at;
    return at;
}

static void
live_frame(ctx *c, pacer *pc, const pmul_pcap_frame *f)
{
    struct sockaddr_in to;
    const uint8_t *pkt;
    uint32_t dst;
    uint16_t port;
    ssize_t n;
    size_t i;
    bool mc, changed;
    char ip[16];
    int rc;

    if (f->ip_version != 4) {
        c->skipped++;                   /* IPv4 sockets only, for now */
        return;
    }
    mc = cap_frame_is_multicast(f);
    if ((!mc && !c->unicast) || (c->from_set && f->src_ip4 != c->from_ip)) {
        c->skipped++;
        return;
    }
    dst = f->dst_ip4;
    if (mc) {
        for (i = 0; i < c->group_map_cnt; i++)
            if (c->group_map[i].from == dst)
                break;
        if (i < c->group_map_cnt)
            dst = c->group_map[i].to;
        else if (c->group_all != 0)
            dst = c->group_all;
    } else {
        changed = false;
        dst = map_id(c, dst, &changed);  /* unicast goes to the renamed node */
    }
    port = f->dst_port;
    for (i = 0; i < c->port_map_cnt; i++)
        if (c->port_maps[i].from == port)
            break;
    if (i < c->port_map_cnt)
        port = c->port_maps[i].to;
    else if (c->port_all != 0)
        port = c->port_all;

    n = rewrite(c, f->payload, f->payload_len, f->ts_us, &pkt);
    if (n < 0) {
        c->rewrite_failed++;
        pkt = f->payload;
        n = (ssize_t)f->payload_len;
    }
    sleep_until(pace(c, pc, f->ts_us, (size_t)n));
    if (cap_stopped())
        return;

    memset(&to, 0, sizeof(to));
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(dst);
    to.sin_port = htons(port);
    if (!c->dry_run && sendto(c->sock, pkt, (size_t)n, 0, (struct sockaddr *)&to,
                              sizeof(to)) != n) {
        fprintf(stderr, "%s: frame %" PRIu64 ": sendto %s:%u: %s\n", PROG, f->number,
                dump_ip4(dst, ip, sizeof(ip)), port, strerror(errno));
        c->send_errors++;
        return;
    }
    c->sent++;
    if (c->quiet)
        return;
    dump_ip4(dst, ip, sizeof(ip));
    rc = c->json
        ? buf_printf(&c->out.b, "{\"kind\":\"sent\",\"frame\":%" PRIu64 ",\"to\":\"%s\","
                     "\"port\":%u,\"len\":%zd,\"rewritten\":%s,\"time\":", f->number,
                     ip, port, n, pkt != f->payload ? "true" : "false")
        : buf_printf(&c->out.b, "sent frame=%" PRIu64 " to=%s:%u len=%zd%s time=",
                     f->number, ip, port, n, pkt != f->payload ? " rewritten" : "");
    if (rc == 0)
        rc = dump_put_time(&c->out.b, f->ts_us);
    if (rc == 0)
        rc = buf_append_str(&c->out.b, c->json ? "}\n" : "\n");
    if (rc != 0)
        cap_out_failed(&c->out);
}

static int
enter_netns(const char *name)
{
    char path[512];
    int fd, k;

    k = snprintf(path, sizeof(path), "/run/netns/%s", name);
    if (k < 0 || (size_t)k >= sizeof(path) || strchr(name, '/') != NULL) {
        errno = EINVAL;
        return -1;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (setns(fd, CLONE_NEWNET) != 0) {
        int e = errno;

        (void)close(fd);
        errno = e;
        return -1;
    }
    return close(fd);
}

static int
open_socket(ctx *c)
{
    struct sockaddr_in a;
    struct in_addr ifa;
    unsigned char ttl = (unsigned char)c->ttl, loop = c->no_loop ? 0 : 1;

    c->sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (c->sock < 0)
        return -1;
    if (setsockopt(c->sock, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl)) != 0 ||
        setsockopt(c->sock, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof(loop)) != 0)
        return -1;
    if (c->mcast_if_set) {
        ifa.s_addr = htonl(c->mcast_if);
        if (setsockopt(c->sock, IPPROTO_IP, IP_MULTICAST_IF, &ifa, sizeof(ifa)) != 0)
            return -1;
    }
    if (c->bind_set) {
        memset(&a, 0, sizeof(a));
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(c->bind_ip);
        if (bind(c->sock, (struct sockaddr *)&a, sizeof(a)) != 0)
            return -1;
    }
    return 0;
}

/* ---- main --------------------------------------------------------------- */

static int
replay(ctx *c)
{
    pmul_pcap_frame f;
    pacer pc;
    int rc, verdict;

    memset(&pc, 0, sizeof(pc));
    while (!cap_stopped()) {
        if (c->count != 0 && c->frames >= c->count)
            break;
        rc = cap_next(c->rd, PROG, c->file, c->frames, &f, &verdict);
        if (rc == 0)
            continue;
        if (rc == PMUL_PCAP_ERR_EOF)
            break;
        if (rc < 0) {
            c->read_error = true;
            break;
        }
        c->frames++;
        if (f.ts_us > c->last_ts)
            c->last_ts = f.ts_us;
        if (verdict != 0) {
            if (verdict != PMUL_PCAP_ERR_NOT_IP && verdict != PMUL_PCAP_ERR_NOT_UDP)
                c->bad_frames++;
            c->skipped++;
            continue;
        }
        if (!dump_ports_has(&c->ports, f.src_port) && !dump_ports_has(&c->ports, f.dst_port)) {
            c->skipped++;
            continue;
        }
        if (c->offline)
            offline_frame(c, &f);
        else
            live_frame(c, &pc, &f);
        cap_out_flush(&c->out);
    }
    if (c->offline && c->frames > 0)
        vnode_advance(c->vn, c->last_ts + c->linger_us);
    cap_out_flush(&c->out);
    return 0;
}

static void
summary(ctx *c)
{
    pmul_stats st;
    char nb[16];
    int rc;

    if (c->offline) {
        vnode_stats(c->vn, &st);
        dump_ip4(c->node, nb, sizeof(nb));
        rc = buf_printf(&c->out.b, c->json
            ? "{\"kind\":\"summary\",\"node\":\"%s\",\"frames\":%" PRIu64 ",\"fed\":%" PRIu64
              ",\"not_for_node\":%" PRIu64 ",\"dropped\":%" PRIu64 ",\"skipped\":%" PRIu64 ",\"bad_frames\":%" PRIu64
              ",\"delivered\":%" PRIu64 ",\"tx\":%" PRIu64 ",\"events\":%" PRIu64
              ",\"malformed\":%" PRIu64 ",\"duplicates\":%" PRIu64 ",\"idle\":%s"
              ",\"read_error\":%s}\n"
            : "summary node=%s frames=%" PRIu64 " fed=%" PRIu64 " not_for_node=%" PRIu64
              " dropped=%" PRIu64 " skipped=%" PRIu64 " bad_frames=%" PRIu64 " delivered=%" PRIu64 " tx=%" PRIu64
              " events=%" PRIu64 " malformed=%" PRIu64 " duplicates=%" PRIu64 " idle=%s"
              " read_error=%s\n",
            nb, c->frames, c->fed, c->not_for_node, c->dropped, c->skipped, c->bad_frames,
            c->delivered, c->tx, c->events, st.drops[PMUL_DROP_MALFORMED],
            st.drops[PMUL_DROP_DUPLICATE],
            vnode_is_idle(c->vn) ? (c->json ? "true" : "yes") : (c->json ? "false" : "no"),
            c->read_error ? (c->json ? "true" : "yes") : (c->json ? "false" : "no"));
        if (rc == 0 && vnode_stalls(c->vn) != 0)
            fprintf(stderr, "%s: the engine stalled %" PRIu64 " times (timer did not "
                    "advance)\n", PROG, vnode_stalls(c->vn));
    } else {
        rc = buf_printf(&c->out.b, c->json
            ? "{\"kind\":\"summary\",\"frames\":%" PRIu64 ",\"sent\":%" PRIu64
              ",\"rewritten\":%" PRIu64 ",\"skipped\":%" PRIu64 ",\"bad_frames\":%" PRIu64
              ",\"rewrite_failed\":%" PRIu64 ",\"errors\":%" PRIu64 ",\"read_error\":%s}\n"
            : "summary frames=%" PRIu64 " sent=%" PRIu64 " rewritten=%" PRIu64
              " skipped=%" PRIu64 " bad_frames=%" PRIu64 " rewrite_failed=%" PRIu64
              " errors=%" PRIu64 " read_error=%s\n",
            c->frames, c->sent, c->rewritten, c->skipped, c->bad_frames,
            c->rewrite_failed, c->send_errors,
            c->read_error ? (c->json ? "true" : "yes") : (c->json ? "false" : "no"));
    }
    if (rc != 0)
        cap_out_failed(&c->out);
    cap_out_flush(&c->out);
}

enum {
    OPT_AS = 256, OPT_JOIN, OPT_LINGER, OPT_RATE, OPT_SEED, OPT_EMCON, OPT_SEND,
    OPT_SPEED, OPT_MAX_GAP, OPT_REWRITE_SOURCE, OPT_GROUP, OPT_PORT, OPT_REFRESH,
    OPT_FROM, OPT_UNICAST, OPT_BIND, OPT_MCAST_IF, OPT_TTL, OPT_NO_LOOP, OPT_NETNS,
    OPT_DRY_RUN, OPT_DROP_FRAMES,
};

static int
bad_arg(const char *what, const char *arg)
{
    fprintf(stderr, "%s: bad %s: %s\n", PROG, what, arg);
    return 2;
}

/* Parse the options into *c; returns 0, or the exit status to use. */
static int
parse_args(ctx *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        { "read", required_argument, NULL, 'r' },
        { "filter", required_argument, NULL, 'f' },
        { "ports", required_argument, NULL, 'p' },
        { "count", required_argument, NULL, 'c' },
        { "json", no_argument, NULL, 'j' },
        { "quiet", no_argument, NULL, 'q' },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { "as", required_argument, NULL, OPT_AS },
        { "join", required_argument, NULL, OPT_JOIN },
        { "linger", required_argument, NULL, OPT_LINGER },
        { "rate", required_argument, NULL, OPT_RATE },
        { "seed", required_argument, NULL, OPT_SEED },
        { "emcon", no_argument, NULL, OPT_EMCON },
        { "send", no_argument, NULL, OPT_SEND },
        { "speed", required_argument, NULL, OPT_SPEED },
        { "max-gap", required_argument, NULL, OPT_MAX_GAP },
        { "rewrite-source", required_argument, NULL, OPT_REWRITE_SOURCE },
        { "group", required_argument, NULL, OPT_GROUP },
        { "port", required_argument, NULL, OPT_PORT },
        { "refresh-expiry", no_argument, NULL, OPT_REFRESH },
        { "from", required_argument, NULL, OPT_FROM },
        { "unicast", no_argument, NULL, OPT_UNICAST },
        { "bind", required_argument, NULL, OPT_BIND },
        { "mcast-if", required_argument, NULL, OPT_MCAST_IF },
        { "ttl", required_argument, NULL, OPT_TTL },
        { "no-loop", no_argument, NULL, OPT_NO_LOOP },
        { "netns", required_argument, NULL, OPT_NETNS },
        { "dry-run", no_argument, NULL, OPT_DRY_RUN },
        { "drop-frames", required_argument, NULL, OPT_DROP_FRAMES },
        { NULL, 0, NULL, 0 },
    };
    uint64_t v;
    double linger = 5.0;
    uint32_t a, b;
    uint16_t pa, pb;
    int opt;

    while ((opt = getopt_long(argc, argv, "r:f:p:c:jqvh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'r': c->file = optarg; break;
        case 'f': c->filter = optarg; break;
        case 'p':
            if (dump_ports_parse(&c->ports, optarg) != 0)
                return bad_arg("--ports list", optarg);
            break;
        case 'c':
            if (dump_parse_u64(optarg, &c->count) != 0 || c->count == 0)
                return bad_arg("--count", optarg);
            break;
        case 'j': c->json = true; break;
        case 'q': c->quiet = true; break;
        case 'v': c->verbose = true; break;
        case 'h':
            fputs(usage_text, stdout);
            return -1;
        case OPT_AS:
            if (dump_parse_ip4(optarg, &c->node) != 0 || c->node == 0)
                return bad_arg("node ID (--as)", optarg);
            c->offline = true;
            break;
        case OPT_JOIN:
            if (dump_parse_ip4(optarg, &a) != 0 || (a >> 28) != 0xEu)
                return bad_arg("multicast group (--join)", optarg);
            if (c->join_cnt == MAX_JOIN)
                return bad_arg("--join (too many)", optarg);
            c->joins[c->join_cnt++] = a;
            break;
        case OPT_LINGER:
            if (dump_parse_double(optarg, &linger) != 0 || linger > 86400.0 * 366)
                return bad_arg("--linger", optarg);
            break;
        case OPT_RATE:
            if (dump_parse_u64(optarg, &c->rate_bps) != 0)
                return bad_arg("--rate", optarg);
            break;
        case OPT_SEED:
            if (dump_parse_u64(optarg, &c->seed) != 0)
                return bad_arg("--seed", optarg);
            break;
        case OPT_EMCON: c->emcon = true; break;
        case OPT_SEND: c->send = true; break;
        case OPT_SPEED:
            if (dump_parse_double(optarg, &c->speed) != 0)
                return bad_arg("--speed", optarg);
            break;
        case OPT_MAX_GAP:
            if (dump_parse_double(optarg, &c->max_gap_s) != 0)
                return bad_arg("--max-gap", optarg);
            break;
        case OPT_REWRITE_SOURCE:
            if (dump_parse_ip4_pair(optarg, &a, &b) != 0 || c->src_map_cnt == MAX_MAP)
                return bad_arg("--rewrite-source OLD=NEW", optarg);
            c->src_map[c->src_map_cnt].from = a;
            c->src_map[c->src_map_cnt++].to = b;
            break;
        case OPT_GROUP:
            if (strchr(optarg, '=') == NULL) {
                if (dump_parse_ip4(optarg, &b) != 0 || (b >> 28) != 0xEu)
                    return bad_arg("--group", optarg);
                c->group_all = b;
            } else {
                if (dump_parse_ip4_pair(optarg, &a, &b) != 0 || (a >> 28) != 0xEu ||
                    (b >> 28) != 0xEu || c->group_map_cnt == MAX_MAP)
                    return bad_arg("--group OLD=NEW", optarg);
                c->group_map[c->group_map_cnt].from = a;
                c->group_map[c->group_map_cnt++].to = b;
            }
            break;
        case OPT_PORT:
            if (dump_parse_port_pair(optarg, &pa, &pb) != 0 || c->port_map_cnt == MAX_MAP)
                return bad_arg("--port", optarg);
            if (pa == 0) {
                c->port_all = pb;
            } else {
                c->port_maps[c->port_map_cnt].from = pa;
                c->port_maps[c->port_map_cnt++].to = pb;
            }
            break;
        case OPT_REFRESH: c->refresh_expiry = true; break;
        case OPT_FROM:
            if (dump_parse_ip4(optarg, &c->from_ip) != 0)
                return bad_arg("--from", optarg);
            c->from_set = true;
            break;
        case OPT_UNICAST: c->unicast = true; break;
        case OPT_BIND:
            if (dump_parse_ip4(optarg, &c->bind_ip) != 0)
                return bad_arg("--bind", optarg);
            c->bind_set = true;
            break;
        case OPT_MCAST_IF:
            if (dump_parse_ip4(optarg, &c->mcast_if) != 0)
                return bad_arg("--mcast-if", optarg);
            c->mcast_if_set = true;
            break;
        case OPT_TTL:
            if (dump_parse_u64(optarg, &v) != 0 || v > 255)
                return bad_arg("--ttl", optarg);
            c->ttl = (unsigned)v;
            break;
        case OPT_NO_LOOP: c->no_loop = true; break;
        case OPT_NETNS: c->netns = optarg; break;
        case OPT_DRY_RUN: c->dry_run = true; break;
        case OPT_DROP_FRAMES:
            if (dump_ranges_parse(&c->drop, optarg) != 0)
                return bad_arg("--drop-frames list", optarg);
            break;
        default:
            fprintf(stderr, "usage: %s -r FILE --as NODE_ID | --send (see --help)\n", PROG);
            return 2;
        }
    }
    if (optind != argc || c->file == NULL || c->offline == c->send) {
        fprintf(stderr, "usage: %s -r FILE --as NODE_ID | --send (see --help)\n", PROG);
        return 2;
    }
    c->linger_us = (uint64_t)(linger * 1e6);
    c->join_all = c->join_cnt == 0;
    return 0;
}

int
main(int argc, char **argv)
{
    vnode_sink sink;
    vnode_opts vo;
    ctx c;
    int rc, status = 0;

    memset(&c, 0, sizeof(c));
    c.sock = -1;
    c.speed = 1.0;
    c.ttl = 1;
    dump_ports_default(&c.ports);
    rc = parse_args(&c, argc, argv);
    if (rc != 0) {
        dump_ranges_fini(&c.drop);
        return rc < 0 ? 0 : rc;
    }

    cap_logger_init(&c.log, PROG);
    cap_out_init(&c.out, PROG);
    c.txbuf = malloc(PMUL_PDU_MAX_LEN);
    if (c.txbuf == NULL || dump_decoder_init(&c.dec) != 0) {
        fprintf(stderr, "%s: out of memory\n", PROG);
        free(c.txbuf);
        return 2;
    }

    /* Enter the namespace before anything that holds a socket. */
    if (c.send && c.netns != NULL && enter_netns(c.netns) != 0) {
        fprintf(stderr, "%s: --netns %s: %s\n", PROG, c.netns, strerror(errno));
        status = 2;
        goto done;
    }
    if (c.send && !c.dry_run && open_socket(&c) != 0) {
        fprintf(stderr, "%s: socket: %s\n", PROG, strerror(errno));
        status = 2;
        goto done;
    }
    if (c.offline) {
        memset(&vo, 0, sizeof(vo));
        vo.node_id = c.node;
        vo.rate_bps = c.rate_bps;
        vo.emcon = c.emcon;
        vo.seed = c.seed;
        vo.log = c.verbose ? &c.log : NULL;
        sink.on_tx = on_tx;
        sink.on_event = on_event;
        sink.arg = &c;
        rc = vnode_new(&c.vn, &vo, &sink);
        if (rc != 0) {
            fprintf(stderr, "%s: cannot create the engine: %s\n", PROG, pmul_strerror(rc));
            status = 2;
            goto done;
        }
    }
    if (cap_open(&c.rd, PROG, c.file, NULL, false, c.filter) != 0) {
        status = 2;
        goto done;
    }
    if (c.send)
        setvbuf(stdout, NULL, _IOLBF, 0);

    cap_signals_install(c.rd);
    (void)replay(&c);
    summary(&c);
    if (c.read_error || c.send_errors != 0)
        status = 1;

done:
    cap_signals_release();
    pmul_pcap_reader_close(c.rd);
    vnode_free(c.vn);
    if (c.sock >= 0 && close(c.sock) != 0 && status == 0)
        status = 1;
    dump_decoder_fini(&c.dec);
    dump_ranges_fini(&c.drop);
    free(c.txbuf);
    if (cap_out_fini(&c.out) && status == 0)
        status = 1;
    return status;
}
