/*
 * replay_rx.c: a minimal receiving P_MUL node for the live replay test.
 *
 * One pmul_engine bound to a UDP socket with poll(), for test_replay_live.sh:
 * it joins the multicast groups given, feeds every datagram to the engine
 * with the real clock as `now`, sends what the engine emits (its Acks,
 * which may go nowhere in a test namespace: errors are ignored), and prints
 * one line per delivered message:
 *
 *     deliver src=198.18.0.1 msid=131075 len=314 fnv=f9504a0d3acd4062
 *
 * It prints "ready" once the socket is bound and joined, and exits 0 after
 * --count deliveries, or 1 after --timeout seconds: every wait is bounded.
 *
 * usage: replay_rx --node IP --group G [--group G2] [--port P]
 *                  [--count N] [--timeout S]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pmul/pmul_engine.h"
#include "pmul/pmul_pdu.h"
#include "pmul/util/fnv.h"
#include "tools/capture/dump_fmt.h"
#include "tools/capture/dump_opt.h"

#define MAX_GROUPS 8

static uint64_t
mono_ms(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static pmul_now
now(void)
{
    pmul_now n;

    n.mono_ms = mono_ms();
    n.wall_s = (int64_t)time(NULL);
    return n;
}

static uint32_t
rnd(void *arg)
{
    (void)arg;
    return (uint32_t)random();
}

static int
usage(void)
{
    fprintf(stderr, "usage: replay_rx --node IP --group G [--group G] [--port P] "
            "[--count N] [--timeout S]\n");
    return 2;
}

int
main(int argc, char **argv)
{
    uint32_t node = 0, groups[MAX_GROUPS];
    size_t ngroups = 0, i;
    uint64_t count = 1, timeout_s = 20, v, deadline, dl, delivered = 0;
    uint16_t port = PMUL_DPORT_DEFAULT;
    struct sockaddr_in a, from;
    socklen_t fromlen;
    struct ip_mreq mr;
    struct pollfd pfd;
    pmul_config cfg;
    pmul_env env;
    pmul_engine *e = NULL;
    pmul_event ev;
    pmul_addr to, fa;
    static uint8_t pkt[65536];
    char ip[16];
    ssize_t n;
    int s, one = 1, wait_ms, status = 1;

    /* Options come in pairs: OPTION VALUE. */
    for (i = 1; i < (size_t)argc; i += 2) {
        const char *o = argv[i], *arg = i + 1 < (size_t)argc ? argv[i + 1] : NULL;

        if (arg == NULL)
            return usage();
        if (strcmp(o, "--node") == 0 && dump_parse_ip4(arg, &node) == 0) {
        } else if (strcmp(o, "--group") == 0 && ngroups < MAX_GROUPS &&
                   dump_parse_ip4(arg, &groups[ngroups]) == 0) {
            ngroups++;
        } else if (strcmp(o, "--port") == 0 && dump_parse_u64(arg, &v) == 0 && v > 0 &&
                   v < 65536) {
            port = (uint16_t)v;
        } else if (strcmp(o, "--count") == 0 && dump_parse_u64(arg, &count) == 0) {
        } else if (strcmp(o, "--timeout") == 0 && dump_parse_u64(arg, &timeout_s) == 0) {
        } else {
            return usage();
        }
    }
    if (node == 0 || ngroups == 0)
        return usage();

    s = socket(AF_INET, SOCK_DGRAM, 0);
    if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0) {
        perror("replay_rx: socket");
        return 2;
    }
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_ANY);
    if (bind(s, (struct sockaddr *)&a, sizeof(a)) != 0) {
        perror("replay_rx: bind");
        return 2;
    }
    for (i = 0; i < ngroups; i++) {
        memset(&mr, 0, sizeof(mr));
        mr.imr_multiaddr.s_addr = htonl(groups[i]);
        mr.imr_interface.s_addr = htonl(INADDR_ANY);
        if (setsockopt(s, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)) != 0) {
            perror("replay_rx: IP_ADD_MEMBERSHIP");
            return 2;
        }
    }

    pmul_config_default(&cfg);
    cfg.node_id = node;
    cfg.link_rate_bps = 0;
    cfg.pdu_max_len = PMUL_PDU_MAX_LEN;
    memset(&env, 0, sizeof(env));
    env.rand = rnd;
    if (pmul_engine_new(&e, &cfg, &env) != 0) {
        fprintf(stderr, "replay_rx: pmul_engine_new failed\n");
        return 2;
    }
    printf("ready\n");
    fflush(stdout);

    deadline = mono_ms() + timeout_s * 1000u;
    while (delivered < count && mono_ms() < deadline) {
        wait_ms = (int)(deadline - mono_ms());
        if (wait_ms > 200)
            wait_ms = 200;
        dl = pmul_engine_next_deadline(e);
        if (dl != UINT64_MAX) {
            uint64_t t = mono_ms();

            wait_ms = dl <= t ? 0 : (dl - t < (uint64_t)wait_ms ? (int)(dl - t) : wait_ms);
        }
        pfd.fd = s;
        pfd.events = POLLIN;
        pfd.revents = 0;
        if (poll(&pfd, 1, wait_ms) < 0 && errno != EINTR) {
            perror("replay_rx: poll");
            break;
        }
        if (pfd.revents & POLLIN) {
            fromlen = sizeof(from);
            n = recvfrom(s, pkt, sizeof(pkt), 0, (struct sockaddr *)&from, &fromlen);
            if (n > 0) {
                memset(&fa, 0, sizeof(fa));
                fa.ip = ntohl(from.sin_addr.s_addr);
                fa.port = ntohs(from.sin_port);
                (void)pmul_engine_recv(e, now(), &fa, pkt, (size_t)n);
            }
        }
        (void)pmul_engine_expire(e, now());
        for (i = 0; i < 10000; i++) {
            n = pmul_engine_poll_tx(e, now(), pkt, sizeof(pkt), &to);
            if (n <= 0)
                break;
            memset(&a, 0, sizeof(a));
            a.sin_family = AF_INET;
            a.sin_port = htons(to.port);
            a.sin_addr.s_addr = htonl(to.ip);
            (void)sendto(s, pkt, (size_t)n, 0, (struct sockaddr *)&a, sizeof(a));
        }
        while (pmul_engine_poll_event(e, &ev) == 1) {
            if (ev.kind != PMUL_EV_DELIVERED)
                continue;
            delivered++;
            printf("deliver src=%s msid=%" PRIu32 " len=%zu fnv=%016" PRIx64 "\n",
                   dump_ip4(ev.source_id, ip, sizeof(ip)), ev.msid, ev.payload_len,
                   fnv64(ev.payload, ev.payload_len));
            fflush(stdout);
        }
    }
    if (delivered >= count)
        status = 0;
    else
        fprintf(stderr, "replay_rx: %" PRIu64 " of %" PRIu64 " deliveries before the "
                "timeout\n", delivered, count);
    pmul_engine_free(e);
    (void)close(s);
    return status;
}
