/*
 * NAME
 *	pmul-flood - a hostile P_MUL peer: floods a multicast group with
 *	forged PDUs
 * SYNOPSIS
 *	pmul-flood [--kind data|address|announce|garbage] [--count N]
 *	           [--rate PPS] [--sources N] [--source-base IP]
 *	           [--dest ID]... [--total N] [--expiry far|near]
 *	           [--group IP] [--port N] [--seed N]
 * DESCRIPTION
 *	The attacker of issue 13 ("Hostile peers") on a real network, for the
 *	namespace flood test (tests/integ/test_netns_flood.sh) and for trying
 *	a daemon by hand.  It sends COUNT datagrams (default 1000) at PPS per
 *	second (default 1000; 0: as fast as the socket takes them) to GROUP
 *	(default 239.1.1.2) on PORT (default 2753, the P_MUL data port), from
 *	an ordinary UDP socket: the IP source is this host's, the Source_ID in
 *	each PDU is forged, cycling over SOURCES IDs from SOURCE-BASE (default
 *	300 from 10.99.0.1).  A receiver that binds Source_IDs to IP sources
 *	or keeps an allowlist drops every one and counts it.
 *
 *	Kinds (the netsim attacker's, netsim/README.md "Attackers"):
 *	  data      26-octet Data_PDUs of messages that never were;
 *	  address   Address_PDUs listing the --dest IDs, Total_Number_of_PDUs
 *	            TOTAL (default 65535), Expiry_Time 2106 (far) or an hour
 *	            from now (near);
 *	  announce  Announce_PDUs of ever new groups (239.200.0.0 upwards)
 *	            listing the --dest IDs;
 *	  garbage   random octets with a valid length, a known type, the
 *	            forged Source_ID and a valid checksum.
 *	Every PDU but garbage is built with the one codec (pmul_pdu_encode).
 * SECURITY
 *	A test tool that sends forged traffic: run it only on a network of
 *	your own (the tests use network namespaces).  Multicast TTL 1.
 * DIAGNOSTICS
 *	Exit 0 after the last datagram, with one line "pmul-flood: sent N
 *	datagrams, B octets, in T s" on stdout; 1 when the socket fails, 2 on
 *	a bad option (every number is parsed strictly: no trailing garbage,
 *	no overflow, range checked).
 * SEE ALSO
 *	netsim/netsim_attack.c, tests/integ/test_netns_flood.sh.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pmul/pmul_pdu.h"

#define DESTS_MAX 64

typedef struct opts {
    const char *kind;
    uint64_t count, rate, sources, total, seed;
    uint32_t source_base, group;
    uint16_t port;
    uint32_t dests[DESTS_MAX];
    size_t dest_cnt;
    int far;
} opts;

static void
usage(void)
{
    fputs("usage: pmul-flood [--kind data|address|announce|garbage] [--count N] [--rate PPS]\n"
          "                  [--sources N] [--source-base IP] [--dest ID]... [--total N]\n"
          "                  [--expiry far|near] [--group IP] [--port N] [--seed N]\n", stderr);
    exit(2);
}

/* A whole decimal number in [lo, hi], or exit 2 naming the option. */
static uint64_t
num(const char *opt, const char *s, uint64_t lo, uint64_t hi)
{
    char *end;
    unsigned long long v;

    errno = 0;
    if (*s < '0' || *s > '9')
        goto bad;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < lo || v > hi)
        goto bad;
    return v;
bad:
    fprintf(stderr, "pmul-flood: --%s wants a number in %llu..%llu, not '%s'\n", opt,
            (unsigned long long)lo, (unsigned long long)hi, s);
    exit(2);
}

static uint32_t
ipv4(const char *opt, const char *s)
{
    struct in_addr a;

    if (inet_pton(AF_INET, s, &a) != 1) {
        fprintf(stderr, "pmul-flood: --%s wants an IPv4 address, not '%s'\n", opt, s);
        exit(2);
    }
    return ntohl(a.s_addr);
}

static uint64_t
xorshift(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* Datagram k into out[0..cap); returns its length or a negative code. */
static ssize_t
make(const opts *o, uint64_t k, uint64_t *rng, uint8_t *out, size_t cap)
{
    static const uint8_t types[] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                                     0x12, 0x18 };
    static const uint8_t frag[10];
    pmul_dest_entry dests[DESTS_MAX];
    uint32_t id = o->source_base + (uint32_t)(k % o->sources);
    uint64_t j = k / o->sources;
    pmul_pdu pdu;
    size_t i, len;
    uint16_t ck;

    if (strcmp(o->kind, "garbage") == 0) {
        len = PMUL_HDR_LEN + (size_t)(xorshift(rng) % 53);
        for (i = 0; i < len; i++)
            out[i] = (uint8_t)xorshift(rng);
        out[0] = (uint8_t)(len >> 8);
        out[1] = (uint8_t)len;
        out[3] = types[xorshift(rng) % sizeof(types)];
        out[8] = (uint8_t)(id >> 24);
        out[9] = (uint8_t)(id >> 16);
        out[10] = (uint8_t)(id >> 8);
        out[11] = (uint8_t)id;
        ck = pmul_cksum_fletcher(out, len);
        out[6] = (uint8_t)(ck >> 8);
        out[7] = (uint8_t)ck;
        return (ssize_t)len;
    }
    memset(&pdu, 0, sizeof(pdu));
    pdu.priority = 6;
    pdu.source_id = id;
    pdu.msid = 0xA7000001u + (uint32_t)j;
    if (strcmp(o->kind, "data") == 0) {
        pdu.type = PMUL_PDU_DATA;
        pdu.u.data.seq = 1;
        pdu.u.data.frag = frag;
        pdu.u.data.frag_len = sizeof(frag);
    } else if (strcmp(o->kind, "address") == 0) {
        for (i = 0; i < o->dest_cnt; i++) {
            dests[i].dest_id = o->dests[i];
            dests[i].msg_seq_no = (uint32_t)j + 1;
            dests[i].reserved = NULL;
        }
        pdu.type = PMUL_PDU_ADDRESS;
        pdu.u.address.total_pdus = (uint16_t)o->total;
        pdu.u.address.expiry_time = o->far ? UINT32_MAX : (uint32_t)time(NULL) + 3600u;
        pdu.u.address.dest_cnt = (uint16_t)o->dest_cnt;
        pdu.u.address.dests = dests;
    } else {
        pdu.type = PMUL_PDU_ANNOUNCE;
        pdu.u.announce.expiry_time = o->far ? UINT32_MAX : (uint32_t)time(NULL) + 3600u;
        pdu.u.announce.mcast_group = 0xEFC80000u + (uint32_t)(k & 0xFFFFu);
        pdu.u.announce.dest_cnt = (uint16_t)o->dest_cnt;
        pdu.u.announce.dest_ids = o->dests;
    }
    return pmul_pdu_encode(&pdu, out, cap);
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "kind", required_argument, NULL, 'k' }, { "count", required_argument, NULL, 'c' },
        { "rate", required_argument, NULL, 'r' }, { "sources", required_argument, NULL, 's' },
        { "source-base", required_argument, NULL, 'b' }, { "dest", required_argument, NULL, 'd' },
        { "total", required_argument, NULL, 't' }, { "expiry", required_argument, NULL, 'e' },
        { "group", required_argument, NULL, 'g' }, { "port", required_argument, NULL, 'p' },
        { "seed", required_argument, NULL, 'S' }, { NULL, 0, NULL, 0 },
    };
    opts o = { "data", 1000, 1000, 300, 65535, 1, 0x0A630001u, 0xEF010102u, 2753, { 0 }, 0, 1 };
    struct sockaddr_in to;
    struct timespec t0, t1, next;
    uint8_t out[PMUL_PDU_MAX_LEN];
    uint64_t k, bytes = 0, rng;
    unsigned char ttl = 1, loop = 0;
    int c, fd;

    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'k':
            if (strcmp(optarg, "data") != 0 && strcmp(optarg, "address") != 0
                && strcmp(optarg, "announce") != 0 && strcmp(optarg, "garbage") != 0)
                usage();
            o.kind = optarg;
            break;
        case 'c': o.count = num("count", optarg, 1, 100000000); break;
        case 'r': o.rate = num("rate", optarg, 0, 1000000); break;
        case 's': o.sources = num("sources", optarg, 1, 1u << 24); break;
        case 'b': o.source_base = ipv4("source-base", optarg); break;
        case 't': o.total = num("total", optarg, 1, 65535); break;
        case 'p': o.port = (uint16_t)num("port", optarg, 1, 65535); break;
        case 'S': o.seed = num("seed", optarg, 1, UINT64_MAX); break;
        case 'g':
            o.group = ipv4("group", optarg);
            if ((o.group >> 28) != 0xE) {
                fprintf(stderr, "pmul-flood: --group wants a multicast address\n");
                return 2;
            }
            break;
        case 'd':
            if (o.dest_cnt == DESTS_MAX) {
                fprintf(stderr, "pmul-flood: more than %d --dest\n", DESTS_MAX);
                return 2;
            }
            o.dests[o.dest_cnt++] = ipv4("dest", optarg);
            break;
        case 'e':
            if (strcmp(optarg, "far") != 0 && strcmp(optarg, "near") != 0)
                usage();
            o.far = strcmp(optarg, "far") == 0;
            break;
        default:
            usage();
        }
    }
    if (optind != argc)
        usage();
    if ((strcmp(o.kind, "address") == 0 || strcmp(o.kind, "announce") == 0) && o.dest_cnt == 0) {
        fprintf(stderr, "pmul-flood: --kind %s needs --dest\n", o.kind);
        return 2;
    }
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0 || setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl)) != 0
        || setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof(loop)) != 0) {
        perror("pmul-flood: socket");
        return 1;
    }
    memset(&to, 0, sizeof(to));
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(o.group);
    to.sin_port = htons(o.port);
    rng = o.seed * 0x9E3779B97F4A7C15ull | 1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    next = t0;
    for (k = 0; k < o.count; k++) {
        ssize_t n = make(&o, k, &rng, out, sizeof(out));

        if (n < 0) {
            fprintf(stderr, "pmul-flood: cannot encode: %s\n", pmul_strerror((int)n));
            return 1;
        }
        /* A full socket buffer (ENOBUFS) is a datagram the attacker lost,
         * not a reason to stop. */
        if (sendto(fd, out, (size_t)n, 0, (const struct sockaddr *)&to, sizeof(to)) < 0
            && errno != ENOBUFS && errno != EAGAIN) {
            perror("pmul-flood: sendto");
            return 1;
        }
        bytes += (uint64_t)n;
        if (o.rate == 0)
            continue;
        next.tv_nsec += (long)(1000000000ull / o.rate);
        while (next.tv_nsec >= 1000000000L) {
            next.tv_nsec -= 1000000000L;
            next.tv_sec++;
        }
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
            ;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (close(fd) != 0) {
        perror("pmul-flood: close");
        return 1;
    }
    printf("pmul-flood: sent %llu datagrams, %llu octets, in %.3f s\n",
           (unsigned long long)o.count, (unsigned long long)bytes,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    return 0;
}
