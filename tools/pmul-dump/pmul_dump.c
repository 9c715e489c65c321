/*
 * NAME
 *	pmul-dump - show the P_MUL PDUs and messages of a capture
 * SYNOPSIS
 *	pmul-dump [options] -r FILE | -i IFACE
 * DESCRIPTION
 *	The operator's window on a radio network.  Frames come from a pcap
 *	or pcapng file or a live interface through libpcap (pmul_pcap_read.c
 *	parses link layer, IP and UDP).  Each UDP datagram on a P_MUL port
 *	is decoded by the one codec and printed as one line (or JSON object):
 *	time, addresses, type, MSID, sequence and missing lists, priority,
 *	checksum verdict.  A datagram the codec rejects still gets its line,
 *	with the reason (pmul_errname) and, when only its length or checksum
 *	is wrong, the fields the codec still reads (dump_fmt.c); a frame
 *	that is not a clean datagram (truncated, bad IP header) gets a line
 *	with the frame-level reason; IP fragments are reassembled by the
 *	capture reader (pmul_pcap_frag), and the other fragments of a
 *	datagram get FRAGMENT lines.
 *
 *	Messages are reassembled as receivers would: a node named as a
 *	destination gets its own engine (dump_vnode.c) once a message to it
 *	is complete on the air, and is first given the kept PDUs of that
 *	message (dump_early.c, bounded); from then on it is fed the
 *	datagrams of the messages it is listed for (multicast, and unicast
 *	addressed to it) with capture timestamps as `now`.  Engines have
 *	caps chosen for analysis, at most --max-nodes live at once, the
 *	least recently used evicted (dump_nodes.c); message records are
 *	bounded too, the least recently used reported early (dump_msg.c).  At
 *	the end a report per message says whether it was complete on the
 *	air, which Data_PDUs were missing, retransmissions, the Ack status
 *	of each destination, times and octets (dump_msg.c).  With --extract
 *	each delivered MULE message is written out as an envelope file and
 *	an .eml file (dump_extract.c).
 * SECURITY
 *	Captures are untrusted input.  Frames and PDUs are parsed only by
 *	the bounds-checked parsers of pmul_pcap_read.c and pmul_pdu.c;
 *	every table the capture can grow is capped (--max-msgs, --msg-mem,
 *	--max-nodes, --node-mem, the early-data buffer), so memory stays
 *	under the bound the manual states whatever the capture holds, and
 *	each datagram costs work in proportion to the nodes it concerns.
 *	What a cap evicts or refuses is counted in the summary.  Live capture needs CAP_NET_RAW; the program drops
 *	nothing itself, run it with the least privilege that can capture.
 *	Extracted mail is written mode 0600 under names made of numbers.
 * DIAGNOSTICS
 *	Exit 0 when the whole capture was read, 1 when reading stopped on a
 *	corrupt or truncated capture or --extract could not write (what was
 *	read is still reported), 2 on usage errors or a capture that cannot
 *	be opened.  Malformed PDUs do not change the exit status: they are
 *	the output.  Messages go to stderr as "pmul-dump: ...".
 * SEE ALSO
 *	pmul-replay(1), docs/tools.md, pcap-filter(7), tshark(1).
 * LICENSE
 *	MIT, see LICENSE.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "pmul/pmul_engine.h"
#include "pmul/pmul_pcap.h"
#include "pmul/pmul_pdu.h"
#include "pmul/util/fnv.h"
#include "pmul/util/buf.h"
#include "pmul/util/log.h"
#include "pmul/util/num.h"
#include "tools/capture/cap_common.h"
#include "tools/pmul-dump/dump_early.h"
#include "tools/pmul-dump/dump_extract.h"
#include "tools/capture/dump_fmt.h"
#include "tools/pmul-dump/dump_msg.h"
#include "tools/pmul-dump/dump_nodes.h"
#include "tools/capture/dump_vnode.h"
#include "tools/capture/dump_opt.h"

#define PROG "pmul-dump"

/* Defaults of the caps; docs/tools.md derives the memory bound from them. */
#define DEFAULT_MAX_NODES   64u
#define DEFAULT_NODE_MEM    ((size_t)1 << 20)       /* reassembly per engine */
#define DEFAULT_MSG_MEM     ((size_t)64 << 20)      /* message records */
#define MSG_MAX_DESTS       4096u                   /* per message record */
#define EARLY_MAX_PDUS      16384u                  /* kept Data_PDUs */
#define EARLY_MAX_BYTES     ((size_t)8 << 20)

static const char usage_text[] =
"NAME\n"
"    pmul-dump - show the P_MUL PDUs and messages of a capture\n"
"\n"
"SYNOPSIS\n"
"    pmul-dump [options] -r FILE\n"
"    pmul-dump [options] -i IFACE\n"
"\n"
"DESCRIPTION\n"
"    Reads a pcap or pcapng file (-r, \"-\" for standard input) or a live\n"
"    interface (-i) and prints one line per P_MUL PDU: frame number, time,\n"
"    addresses and ports, PDU type, priority, Source_ID, MSID, sequence\n"
"    number, Total, destinations, Ack entries with their missing lists,\n"
"    and the checksum verdict (fletcher, inet, bad).  A PDU the decoder\n"
"    rejects is printed with verdict=REASON, and with its fields marked\n"
"    \"salvaged\" when only its length or checksum is wrong.  Frames that are not\n"
"    clean UDP datagrams (cut short, bad headers) are printed with their\n"
"    frame-level verdict.  IP fragments are reassembled (bounded, as tshark\n"
"    does): the fragment that completes a datagram carries its PDU line, the\n"
"    others get a FRAGMENT line (FRAG_BAD when they contradict each other).\n"
"    Link types: Ethernet (with VLAN tags), Linux cooked v1/v2, raw IP, BSD\n"
"    loopback; IPv4 and IPv6.\n"
"\n"
"    Messages are reassembled as each destination would: one P_MUL engine\n"
"    per node named in an Address_PDU is fed what that node would have\n"
"    received, at capture time.  At the end, one report per message:\n"
"    complete on the air or not, missing Data_PDUs, retransmissions, Ack\n"
"    status and timing per destination, delivery per destination, octets.\n"
"\n"
"OPTIONS\n"
"    -r, --read FILE      read a capture file (pcap or pcapng)\n"
"    -i, --interface IF   capture live on IF (needs CAP_NET_RAW)\n"
"    -f, --filter EXPR    BPF filter applied by libpcap (pcap-filter(7))\n"
"    -p, --ports LIST     P_MUL UDP ports, e.g. 2751-2754,5000 (default\n"
"                         2751-2754); a datagram matches by either port\n"
"    -j, --json           JSON Lines: objects of kind pdu, frame, delivery,\n"
"                         message, summary\n"
"    -q, --quiet          no per-PDU lines (report and summary only)\n"
"    -M, --no-messages    no per-message report\n"
"    -x, --extract DIR    write each delivered MULE message as DIR/SRC_MSID.env\n"
"                         (envelope as received) and .eml (the message);\n"
"                         other payloads as .bin\n"
"    -c, --count N        stop after N frames\n"
"    -d, --duration S     live: stop after S seconds\n"
"    -P, --promisc        live: promiscuous mode\n"
"        --max-msgs N     message records held at once (default 100000);\n"
"                         past it the least recently used is reported\n"
"                         early, marked evicted\n"
"        --msg-mem SIZE   octets of message records (default 64M)\n"
"        --max-nodes N    receiver engines at once (default 64; least\n"
"                         recently used evicted); an engine is created when\n"
"                         a message to its node is complete on the air\n"
"        --node-mem SIZE  reassembly octets per engine, also the largest\n"
"                         message delivered (default 1M)\n"
"        --pdu-max N      engines' encoder scratch (default 1024; 64..65535);\n"
"                         they accept any PDU up to 65535 octets\n"
"    -v, --verbose        also print frames that are not P_MUL, and engine logs\n"
"    -h, --help           this text\n"
"\n"
"OUTPUT\n"
"    PDU line:   FRAME TIME SRC:PORT > DST:PORT TYPE len= prio= [map=] src=\n"
"                msid= seq= | total= expiry= dests=ID#MSGSEQ,... | acks=\n"
"                SRC/MSID:complete|missing=LIST;... cksum= verdict=\n"
"    Frame line: FRAME TIME SRC > DST frame caplen= wirelen= verdict=REASON\n"
"    Delivery:   deliver node= src= msid= len= time=\n"
"    Message:    message src= msid= prio= total= complete= missing= data=\n"
"                retx= address= rounds= acks= t_complete= t_acked=\n"
"                pdu_bytes= air_bytes= [delivered len= fnv=] [extract=]\n"
"                followed by one \"dest\" line per destination.\n"
"    Summary:    summary frames= pdus= bad_pdus= bad_frames= other= ...\n"
"                and what the caps cost: msgs_evicted= nodes_evicted=\n"
"                nodes_refused= early_dropped= engine_cap_drops= ...\n"
"\n"
"MEMORY\n"
"    Bounded whatever the capture holds: about max-nodes x (node-mem +\n"
"    3 MiB) + msg-mem + 22 MiB, 344 MiB with the defaults (docs/tools.md).\n"
"\n"
"EXIT STATUS\n"
"    0 the capture was read to its end; 1 reading stopped early (corrupt or\n"
"    truncated capture) or --extract failed; 2 usage error or the capture\n"
"    cannot be opened.\n"
"\n"
"EXAMPLES\n"
"    pmul-dump -r field.pcapng\n"
"    pmul-dump -r field.pcap --json -q | jq 'select(.kind==\"message\")'\n"
"    pmul-dump -r field.pcap -x mail/ && cat mail/*.eml\n"
"    pmul-dump -i eth1 -f 'udp and net 239.0.0.0/8'\n"
"\n"
"SEE ALSO\n"
"    pmul-replay(1), docs/tools.md, tshark(1), pcap-filter(7)\n";

typedef struct ctx {
    /* Options. */
    const char *file, *iface, *filter, *extract_dir;
    bool json, quiet, no_messages, verbose, promisc;
    uint64_t count, duration_s;
    size_t max_msgs, max_nodes, pdu_max, msg_mem, node_mem;
    dump_ports ports;
    /* State. */
    pmul_pcap_reader *rd;
    dump_decoder dec;
    dump_msgs *msgs;
    dump_nodes *nodes;
    dump_early *early;
    pmul_config engine_cfg;     /* analysis caps of every engine */
    uint32_t *ids;              /* scratch: node IDs listed for a message */
    size_t ids_cap;
    cap_out out;
    logger log;
    uint64_t frames, pdus, bad_pdus, salvaged, bad_frames, other, not_kept;
    uint64_t deliveries, extracted, extract_failed, last_ts;
    bool read_error;
} ctx;

static void on_event(void *arg, uint32_t node, uint64_t t_us, const pmul_event *ev);

static void
on_event(void *arg, uint32_t node, uint64_t t_us, const pmul_event *ev)
{
    ctx *c = arg;
    char nbuf[16], sbuf[16], result[48], base[4096];
    uint64_t fnv;
    int rc = 0;

    if (ev->kind == PMUL_EV_RX_DISCARDED) {
        dump_msgs_rx_discarded(c->msgs, node, ev->source_id, ev->msid);
        return;
    }
    if (ev->kind != PMUL_EV_DELIVERED)
        return;
    c->deliveries++;
    fnv = fnv64(ev->payload, ev->payload_len);
    if (!c->quiet) {
        dump_ip4(node, nbuf, sizeof(nbuf));
        dump_ip4(ev->source_id, sbuf, sizeof(sbuf));
        rc = c->json
            ? buf_printf(&c->out.b, "{\"kind\":\"delivery\",\"node\":\"%s\",\"source_id\":"
                         "\"%s\",\"msid\":%" PRIu32 ",\"len\":%zu,\"fnv\":\"%016" PRIx64
                         "\",\"time\":", nbuf, sbuf, ev->msid, ev->payload_len, fnv)
            : buf_printf(&c->out.b, "deliver node=%s src=%s msid=%" PRIu32 " len=%zu "
                         "fnv=%016" PRIx64 " time=", nbuf, sbuf, ev->msid,
                         ev->payload_len, fnv);
        if (rc == 0)
            rc = dump_put_time(&c->out.b, t_us);
        if (rc == 0)
            rc = buf_append_str(&c->out.b, c->json ? "}\n" : "\n");
        if (rc != 0)
            cap_out_failed(&c->out);
    }
    if (!dump_msgs_delivered(c->msgs, node, t_us, ev->source_id, ev->msid,
                             ev->payload_len, fnv) || c->extract_dir == NULL)
        return;
    /* Extract once per message, at its first delivery. */
    if (dump_extract(c->extract_dir, ev->source_id, ev->msid, ev->payload,
                     ev->payload_len, result, sizeof(result), base, sizeof(base)) != 0) {
        fprintf(stderr, "%s: --extract: writing %s: %s\n", PROG, base, strerror(errno));
        c->extract_failed++;
        dump_msgs_extracted(c->msgs, ev->source_id, ev->msid, "write-failed", base);
        return;
    }
    c->extracted++;
    dump_msgs_extracted(c->msgs, ev->source_id, ev->msid, result, base);
}

/* Would node id have received this datagram: multicast, or unicast to it. */
static bool
reaches(const pmul_pcap_frame *f, uint32_t id)
{
    return cap_frame_is_multicast(f) || (f->ip_version == 4 && f->dst_ip4 == id);
}

static void
feed(vnode *n, const pmul_pcap_frame *f)
{
    (void)vnode_recv(n, f->ts_us, f->ip_version == 4 ? f->src_ip4 : 0, f->src_port,
                     f->payload, f->payload_len);
}

/* Feed the nodes in ids[0..cnt) that exist, once each per datagram. */
static void
feed_listed(ctx *c, const pmul_pcap_frame *f, const uint32_t *ids, size_t cnt)
{
    bool again;
    size_t i;
    vnode *n;

    for (i = 0; i < cnt; i++) {
        if (!reaches(f, ids[i]))
            continue;
        n = dump_nodes_find(c->nodes, ids[i], &again);
        if (n != NULL && !again)
            feed(n, f);
    }
}

typedef struct replay_arg {
    ctx *c;
    vnode *n;
} replay_arg;

/* Give a kept PDU to a new engine if its node would have received it: an
 * Address-family PDU only if it lists the node (one that does not would
 * tell the engine the message is not for it). */
static int cmp_u32(const void *a, const void *b);

static void
replay_one(void *arg, const dump_early_ent *e)
{
    replay_arg *ra = arg;
    uint32_t id = vnode_node_id(ra->n);

    if (!e->multicast && e->dst_ip != id)
        return;
    /* Its IDs were kept with it: no decode (and checksum) per kept PDU
     * and new engine, which a capture churning engines paid often. */
    if (e->is_address &&
        (e->id_cnt == 0 || bsearch(&id, e->ids, e->id_cnt, sizeof(id), cmp_u32) == NULL))
        return;
    (void)vnode_recv(ra->n, e->ts_us, e->from_ip, e->from_port, e->pkt, e->len);
}

static void
replay(ctx *c, vnode *n, uint32_t src, uint32_t msid)
{
    replay_arg ra = { c, n };

    (void)dump_early_each(c->early, src, msid, replay_one, &ra);
}

static int
cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

/*
 * An Address-family PDU: each node it lists that has an engine gets it
 * (one newly listed for the message is first given the message's kept
 * PDUs, as a receiver that got them early would hold them), and so do the
 * nodes listed before (a list that no longer names one of them means
 * something to that receiver).  A listing alone creates no engine: that
 * waits until a message is complete on the air (complete_msg()), so a
 * flood of Address_PDUs naming spoofed nodes creates and churns nothing.
 */
static void
route_address(ctx *c, const pmul_pcap_frame *f, const pmul_pdu *p, size_t prev)
{
    bool again, sorted = false;
    uint16_t i;
    vnode *n;

    for (i = 0; i < p->u.address.dest_cnt; i++) {
        uint32_t id = p->u.address.dests[i].dest_id;

        n = dump_nodes_find(c->nodes, id, &again);
        if (n == NULL || again)
            continue;
        if (!sorted) {
            qsort(c->ids, prev, sizeof(*c->ids), cmp_u32);
            sorted = true;
        }
        if (bsearch(&id, c->ids, prev, sizeof(*c->ids), cmp_u32) == NULL)
            replay(c, n, p->source_id, p->msid);
        if (reaches(f, id))
            feed(n, f);
    }
    feed_listed(c, f, c->ids, prev);
}

/*
 * The message (src, msid) is now complete on the air, so a receiver could
 * deliver it: every node listed for it gets an engine now if it has none
 * (evicting the least recently used if need be).  An engine that did not
 * exist when the message began is given the kept PDUs of the message
 * (this one included; one it already had is a harmless duplicate).
 */
static void
complete_msg(ctx *c, uint64_t ts_us, uint32_t src, uint32_t msid)
{
    size_t i, cnt = dump_msgs_listed(c->msgs, src, msid, c->ids, c->ids_cap);
    uint64_t first = dump_msgs_first_us(c->msgs, src, msid);
    bool created, again;
    vnode *n;

    for (i = 0; i < cnt; i++) {
        if (c->ids[i] == 0)
            continue;
        n = dump_nodes_get(c->nodes, c->ids[i], ts_us, &created, &again);
        if (n != NULL && (created || dump_nodes_born_us(c->nodes, c->ids[i]) >= first))
            replay(c, n, src, msid);
    }
}

/* Keep a Data or Address-family PDU for engines created later.  Not one of
 * a message with more PDUs than the buffer holds: it could never be
 * replayed whole (such a message finds its engines in place only if they
 * exist already), and keeping it would only push out others (a flood of
 * Total 65535). */
static void
keep(ctx *c, const pmul_pcap_frame *f, const pmul_pdu *p)
{
    dump_early_ent e;

    if (dump_msgs_total(c->msgs, p->source_id, p->msid) > EARLY_MAX_PDUS) {
        c->not_kept++;
        return;
    }
    memset(&e, 0, sizeof(e));
    e.ts_us = f->ts_us;
    e.src = p->source_id;
    e.msid = p->msid;
    e.from_ip = f->ip_version == 4 ? f->src_ip4 : 0;
    e.dst_ip = f->ip_version == 4 ? f->dst_ip4 : 0;
    e.from_port = f->src_port;
    e.multicast = cap_frame_is_multicast(f);
    e.is_address = p->type != PMUL_PDU_DATA;
    e.pkt = f->payload;
    e.len = f->payload_len;
    if (e.is_address)
        dump_early_put(c->early, &e, p->u.address.dests, p->u.address.dest_cnt);
    else
        dump_early_put(c->early, &e, NULL, 0);
}

/* Give the datagram to the engines it concerns, and only to them: the
 * cost of a datagram follows the nodes listed for its message, not the
 * number of engines. */
static void
route(ctx *c, const pmul_pcap_frame *f, const pmul_pdu *p, size_t prev)
{
    bool again;
    vnode *n;

    switch (p->type) {
    case PMUL_PDU_DATA:
        feed_listed(c, f, c->ids, prev);
        keep(c, f, p);
        break;
    case PMUL_PDU_DISCARD:
        feed_listed(c, f, c->ids, prev);
        break;
    case PMUL_PDU_ACK:
        /* An Ack concerns the transmitter it is sent to. */
        if (f->ip_version == 4 && !cap_frame_is_multicast(f) &&
            (n = dump_nodes_find(c->nodes, f->dst_ip4, &again)) != NULL && !again)
            feed(n, f);
        break;
    case PMUL_PDU_ANNOUNCE:
        feed_listed(c, f, p->u.announce.dest_ids, p->u.announce.dest_cnt);
        break;
    case PMUL_PDU_REQUEST:
    case PMUL_PDU_REJECT:
    case PMUL_PDU_RELEASE:
        /* Group ownership between transmitters: nothing a receive-only
         * engine acts on. */
        break;
    default:
        route_address(c, f, p, prev);
        keep(c, f, p);
        break;
    }
}

static bool
has_engine(void *arg, uint32_t id)
{
    return dump_nodes_has(arg, id);
}

static void
handle_frame(ctx *c, const pmul_pcap_frame *f, int verdict)
{
    dump_pdu d;
    size_t air, prev;
    int rc;

    c->frames++;
    if (f->ts_us > c->last_ts)
        c->last_ts = f->ts_us;
    if (verdict == PMUL_PCAP_ERR_NOT_IP || verdict == PMUL_PCAP_ERR_NOT_UDP ||
        verdict == PMUL_PCAP_ERR_LINKTYPE) {
        c->other++;
        if (c->verbose && dump_put_frame_error(&c->out.b, f, verdict, c->json) != 0)
            cap_out_failed(&c->out);
        return;
    }
    if (verdict != 0) {
        /* Cut short, fragmented, malformed: might have been P_MUL, so the
         * operator sees it whatever its ports. */
        c->bad_frames++;
        if (dump_put_frame_error(&c->out.b, f, verdict, c->json) != 0)
            cap_out_failed(&c->out);
        return;
    }
    if (!dump_ports_has(&c->ports, f->src_port) && !dump_ports_has(&c->ports, f->dst_port)) {
        c->other++;
        return;
    }
    c->pdus++;
    dump_pdu_decode(&c->dec, f->payload, f->payload_len, &d);
    if (d.err != 0) {
        c->bad_pdus++;
        if (d.salvaged)
            c->salvaged++;
    }
    if (!c->quiet && dump_put_frame_pdu(&c->out.b, f, &d, c->json) != 0)
        cap_out_failed(&c->out);
    /* Every engine would drop a bad one with the same verdict (the codec
     * is the same); it is counted in bad_pdus. */
    if (d.err != 0)
        return;
    dump_nodes_next_datagram(c->nodes);
    /* Who with an engine was listed before this PDU is accounted (the
     * list may also name nodes whose engines were evicted since: finding
     * them fails, see dump_nodes_epoch()). */
    prev = d.pdu.type == PMUL_PDU_ACK || d.pdu.type == PMUL_PDU_ANNOUNCE ||
           dump_nodes_live(c->nodes) == 0 ? 0
         : dump_msgs_route(c->msgs, d.pdu.source_id, d.pdu.msid,
                           dump_nodes_epoch(c->nodes), has_engine, c->nodes, c->ids,
                           c->ids_cap);
    air = f->payload_len + (f->ip_version == 6 ? 48u : 28u);
    rc = dump_msgs_pdu(c->msgs, f->ts_us, &d.pdu, f->payload_len, air);
    if (rc < 0)
        fprintf(stderr, "%s: out of memory accounting frame %" PRIu64 "\n",
                PROG, f->number);
    /* Engines decode for themselves: they see exactly the datagram. */
    route(c, f, &d.pdu, prev);
    if (rc == 1)
        complete_msg(c, f->ts_us, d.pdu.source_id, d.pdu.msid);
}

static uint64_t
mono_s(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec;
}

static int
read_all(ctx *c)
{
    pmul_pcap_frame f;
    uint64_t t0 = mono_s();
    int rc, verdict;

    while (!cap_stopped()) {
        if (c->count != 0 && c->frames >= c->count)
            break;
        if (c->duration_s != 0 && mono_s() - t0 >= c->duration_s)
            break;
        rc = cap_next(c->rd, PROG, c->file != NULL ? c->file : c->iface, c->frames,
                      &f, &verdict);
        if (rc == 0)
            continue;                   /* live: nothing within the timeout */
        if (rc == PMUL_PCAP_ERR_EOF)
            break;
        if (rc < 0) {
            c->read_error = true;
            if (c->json) {
                if (buf_printf(&c->out.b, "{\"kind\":\"error\",\"after_frame\":%" PRIu64
                               ",\"verdict\":\"%s\"}\n", c->frames,
                               pmul_pcap_errname(rc)) != 0)
                    cap_out_failed(&c->out);
            } else if (buf_printf(&c->out.b, "error after frame %" PRIu64 ": verdict=%s (%s)\n",
                                  c->frames, pmul_pcap_errname(rc),
                                  pmul_pcap_strerror(rc)) != 0) {
                cap_out_failed(&c->out);
            }
            break;
        }
        handle_frame(c, &f, verdict);
        cap_out_flush(&c->out);
    }
    cap_out_flush(&c->out);
    return 0;
}

static void
report(ctx *c)
{
    dump_msgs_totals t;
    dump_nodes_stats ns;
    dump_early_stats es;
    size_t it = 0;
    int rc = 0;

    /* Let every engine run its timers up to the end of the capture. */
    dump_nodes_advance_all(c->nodes, c->last_ts);
    cap_out_flush(&c->out);
    if (!c->no_messages) {
        while ((rc = dump_msgs_report_next(c->msgs, &it, &c->out.b, c->json)) != 0) {
            if (rc < 0)
                cap_out_failed(&c->out);
            cap_out_flush(&c->out);
        }
    }
    dump_msgs_totals_get(c->msgs, &t);
    dump_nodes_stats_get(c->nodes, &ns);
    dump_early_stats_get(c->early, &es);
    rc = buf_printf(&c->out.b, c->json
        ? "{\"kind\":\"summary\",\"frames\":%" PRIu64 ",\"pdus\":%" PRIu64
          ",\"bad_pdus\":%" PRIu64 ",\"salvaged\":%" PRIu64 ",\"bad_frames\":%" PRIu64
          ",\"other\":%" PRIu64 ",\"messages\":%zu,\"complete\":%zu,\"delivered\":%zu"
          ",\"deliveries\":%" PRIu64 ",\"nodes\":%" PRIu64 ",\"extracted\":%" PRIu64
          ",\"read_error\":%s"
        : "summary frames=%" PRIu64 " pdus=%" PRIu64 " bad_pdus=%" PRIu64
          " salvaged=%" PRIu64 " bad_frames=%" PRIu64 " other=%" PRIu64
          " messages=%zu complete=%zu delivered=%zu deliveries=%" PRIu64
          " nodes=%" PRIu64 " extracted=%" PRIu64 " read_error=%s",
        c->frames, c->pdus, c->bad_pdus, c->salvaged, c->bad_frames, c->other,
        t.msgs, t.complete, t.delivered, c->deliveries, ns.created, c->extracted,
        c->read_error ? (c->json ? "true" : "yes") : (c->json ? "false" : "no"));
    /* What the caps cost: never silent (issue 13). */
    if (rc == 0)
        rc = buf_printf(&c->out.b, c->json
            ? ",\"msgs_evicted\":%zu,\"msgs_unaccounted\":%zu,\"nodes_peak\":%zu"
              ",\"nodes_evicted\":%" PRIu64 ",\"nodes_evicted_busy\":%" PRIu64
              ",\"nodes_refused\":%" PRIu64 ",\"early_kept\":%" PRIu64
              ",\"early_dropped\":%" PRIu64 ",\"early_not_kept\":%" PRIu64
              ",\"early_replayed\":%" PRIu64
              ",\"engine_cap_drops\":%" PRIu64 ",\"engine_stalls\":%" PRIu64 "}\n"
            : " msgs_evicted=%zu msgs_unaccounted=%zu nodes_peak=%zu"
              " nodes_evicted=%" PRIu64 " nodes_evicted_busy=%" PRIu64
              " nodes_refused=%" PRIu64 " early_kept=%" PRIu64
              " early_dropped=%" PRIu64 " early_not_kept=%" PRIu64
              " early_replayed=%" PRIu64
              " engine_cap_drops=%" PRIu64 " engine_stalls=%" PRIu64 "\n",
            t.evicted, t.overflow, ns.peak, ns.evicted, ns.evicted_busy, ns.refused,
            es.kept, es.dropped + es.too_big, c->not_kept, es.replayed, ns.cap_drops,
            dump_nodes_stalls(c->nodes));
    if (rc != 0)
        cap_out_failed(&c->out);
    cap_out_flush(&c->out);
    if (t.evicted != 0 || t.overflow != 0 || ns.evicted != 0 || ns.refused != 0)
        fprintf(stderr, "%s: caps reached: %zu message records reported early and freed "
                "(--max-msgs %zu, --msg-mem %zu), %zu PDUs not accounted (no memory); "
                "%" PRIu64 " receiver engines evicted (%" PRIu64 " holding messages) and "
                "%" PRIu64 " not created (--max-nodes %zu): their deliveries may be "
                "missing\n", PROG, t.evicted, c->max_msgs, c->msg_mem, t.overflow,
                ns.evicted, ns.evicted_busy, ns.refused, c->max_nodes);
}

/*
 * The caps of every receiver engine: chosen for analysing a capture on
 * one machine, not for a daemon.  An engine acts as one node; under a
 * flood it holds at most max_rx_msgs messages of at most max_dests
 * destinations, node_mem octets of reassembly and the completed
 * messages of max_sources sources, which bounds it to about
 * node_mem + 1 MiB (docs/tools.md).
 */
static void
engine_caps(ctx *c)
{
    pmul_config *e = &c->engine_cfg;

    pmul_config_default(e);
    e->max_sources = 64;
    e->max_rx_msgs = 64;
    e->max_rx_msgs_per_src = 16;
    e->max_rx_done_per_src = 8;
    e->max_rx_bytes = c->node_mem;
    e->max_rx_bytes_per_src = c->node_mem;
    e->max_msg_len = c->node_mem;
    e->max_events = 256;
    e->max_ack_entries = 64;
    e->max_missing = 1024;
}

enum { OPT_MAX_MSGS = 256, OPT_MAX_NODES, OPT_PDU_MAX, OPT_MSG_MEM, OPT_NODE_MEM };

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "read", required_argument, NULL, 'r' },
        { "interface", required_argument, NULL, 'i' },
        { "filter", required_argument, NULL, 'f' },
        { "ports", required_argument, NULL, 'p' },
        { "json", no_argument, NULL, 'j' },
        { "quiet", no_argument, NULL, 'q' },
        { "no-messages", no_argument, NULL, 'M' },
        { "extract", required_argument, NULL, 'x' },
        { "count", required_argument, NULL, 'c' },
        { "duration", required_argument, NULL, 'd' },
        { "promisc", no_argument, NULL, 'P' },
        { "max-msgs", required_argument, NULL, OPT_MAX_MSGS },
        { "max-nodes", required_argument, NULL, OPT_MAX_NODES },
        { "pdu-max", required_argument, NULL, OPT_PDU_MAX },
        { "msg-mem", required_argument, NULL, OPT_MSG_MEM },
        { "node-mem", required_argument, NULL, OPT_NODE_MEM },
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    vnode_sink sink;
    vnode_opts vo;
    uint64_t v;
    ctx c;
    int opt, status = 0;

    memset(&c, 0, sizeof(c));
    c.max_msgs = 100000;
    c.pdu_max = 1024;
    c.max_nodes = DEFAULT_MAX_NODES;
    c.msg_mem = DEFAULT_MSG_MEM;
    c.node_mem = DEFAULT_NODE_MEM;
    dump_ports_default(&c.ports);
    while ((opt = getopt_long(argc, argv, "r:i:f:p:jqMx:c:d:Pvh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'r': c.file = optarg; break;
        case 'i': c.iface = optarg; break;
        case 'f': c.filter = optarg; break;
        case 'p':
            if (dump_ports_parse(&c.ports, optarg) != 0) {
                fprintf(stderr, "%s: bad --ports list: %s\n", PROG, optarg);
                return 2;
            }
            break;
        case 'j': c.json = true; break;
        case 'q': c.quiet = true; break;
        case 'M': c.no_messages = true; break;
        case 'x': c.extract_dir = optarg; break;
        case 'c':
        case 'd':
        case OPT_MAX_MSGS:
        case OPT_MAX_NODES:
        case OPT_PDU_MAX:
            if (dump_parse_u64(optarg, &v) != 0 || v == 0) {
                fprintf(stderr, "%s: bad number: %s\n", PROG, optarg);
                return 2;
            }
            if (opt == 'c')
                c.count = v;
            else if (opt == 'd')
                c.duration_s = v;
            else if (opt == OPT_MAX_MSGS)
                c.max_msgs = v > SIZE_MAX / 2 ? SIZE_MAX / 2 : (size_t)v;
            else if (opt == OPT_PDU_MAX && (v < 64 || v > 65535)) {
                fprintf(stderr, "%s: --pdu-max must be 64..65535: %s\n", PROG, optarg);
                return 2;
            } else if (opt == OPT_PDU_MAX)
                c.pdu_max = (size_t)v;
            else
                c.max_nodes = v > 65536 ? 65536 : (size_t)v;
            break;
        case OPT_MSG_MEM:
        case OPT_NODE_MEM:
            if (num_parse_size(optarg, 65536, (uint64_t)1 << 40, &v) != 0) {
                fprintf(stderr, "%s: bad size (64k..1T, units k M G): %s\n", PROG, optarg);
                return 2;
            }
            if (opt == OPT_MSG_MEM)
                c.msg_mem = v > SIZE_MAX / 2 ? SIZE_MAX / 2 : (size_t)v;
            else
                c.node_mem = v > SIZE_MAX / 2 ? SIZE_MAX / 2 : (size_t)v;
            break;
        case 'P': c.promisc = true; break;
        case 'v': c.verbose = true; break;
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        default:
            fprintf(stderr, "usage: %s [options] -r FILE | -i IFACE (see --help)\n", PROG);
            return 2;
        }
    }
    if (optind != argc || (c.file == NULL) == (c.iface == NULL)) {
        fprintf(stderr, "usage: %s [options] -r FILE | -i IFACE (see --help)\n", PROG);
        return 2;
    }
    if (c.extract_dir != NULL) {
        struct stat st;

        if (stat(c.extract_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            fprintf(stderr, "%s: --extract: %s is not a directory\n", PROG, c.extract_dir);
            return 2;
        }
    }

    cap_logger_init(&c.log, PROG);
    cap_out_init(&c.out, PROG);
    engine_caps(&c);
    sink.on_tx = NULL;
    sink.on_event = on_event;
    sink.arg = &c;
    memset(&vo, 0, sizeof(vo));
    /* Receive only: a dump must not pretend the nodes answered. */
    vo.emcon = true;
    vo.pdu_max_len = c.pdu_max;
    vo.log = c.verbose ? &c.log : NULL;
    vo.base = &c.engine_cfg;
    c.ids_cap = MSG_MAX_DESTS;
    c.ids = calloc(c.ids_cap, sizeof(*c.ids));
    if (c.ids == NULL || dump_decoder_init(&c.dec) != 0 ||
        dump_msgs_new(&c.msgs, c.max_msgs, MSG_MAX_DESTS, c.msg_mem) != 0 ||
        dump_nodes_new(&c.nodes, c.max_nodes, &vo, &sink) != 0 ||
        dump_early_new(&c.early, EARLY_MAX_PDUS, EARLY_MAX_BYTES) != 0) {
        fprintf(stderr, "%s: out of memory\n", PROG);
        return 2;
    }
    dump_msgs_set_evict_sink(c.msgs, &c.out.b, c.json, !c.no_messages);

    if (cap_open(&c.rd, PROG, c.file, c.iface, c.promisc, c.filter) != 0) {
        status = 2;
        goto done;
    }
    if (c.iface != NULL) {
        setvbuf(stdout, NULL, _IOLBF, 0);
        /* As tcpdump does: tells a script the capture is running. */
        fprintf(stderr, "%s: listening on %s, link-type %d\n", PROG, c.iface,
                pmul_pcap_reader_linktype(c.rd));
    }

    cap_signals_install(c.rd);
    (void)read_all(&c);
    report(&c);
    if (c.read_error || c.extract_failed != 0)
        status = 1;

done:
    cap_signals_release();
    pmul_pcap_reader_close(c.rd);
    dump_nodes_free(c.nodes);
    dump_early_free(c.early);
    free(c.ids);
    dump_msgs_free(c.msgs);
    dump_decoder_fini(&c.dec);
    if (cap_out_fini(&c.out) && status == 0)
        status = 1;
    return status;
}
