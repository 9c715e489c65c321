/*
 * test_pmul_pcap.c: unit tests of the pcap writer (pmul/pmul_pcap.c) and
 * reader (pmul/pmul_pcap_read.c).
 *
 * Frames are written to a temporary directory and read back with libpcap's
 * own reader (pcap_open_offline), so the test checks what other programs
 * will see.  One frame is compared with hand-built bytes whose checksums
 * were computed independently (Python, RFC 1071); the others are checked
 * field by field, with checksums verified by summing to 0xFFFF.  Error
 * paths: bad arguments, oversized payloads and timestamps, an unopenable
 * path and a full disk (/dev/full).
 *
 * Reader: pmul_pcap_parse_frame() against frames built by hand for every
 * link type (Ethernet with VLAN tags, Linux cooked v1/v2, raw IP, BSD
 * loopback in both byte orders), IPv4 with options and fragments, IPv6
 * with extension headers and fragments, and each malformed header; a loop
 * shows that every truncation of a good frame fails, on an exact-size heap
 * copy so AddressSanitizer sees any over-read.  The reader itself: a file
 * written by the writer read back, a BPF filter, a truncated file, files
 * that are not captures, a missing interface, and a live capture without
 * traffic, which must return (skipped without the right to capture).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "pmul/pmul_pcap.h"

#define IP4(a, b, c, d) \
    ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

typedef struct fixture {
    char dir[64];
    char path[96];
} fixture;

static int
setup(void **state)
{
    fixture *fx = calloc(1, sizeof(*fx));
    int n;

    assert_non_null(fx);
    n = snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_pmul_pcap.XXXXXX");
    assert_true(n > 0 && (size_t)n < sizeof(fx->dir));
    assert_non_null(mkdtemp(fx->dir));
    n = snprintf(fx->path, sizeof(fx->path), "%s/out.pcap", fx->dir);
    assert_true(n > 0 && (size_t)n < sizeof(fx->path));
    *state = fx;
    return 0;
}

static int
teardown(void **state)
{
    fixture *fx = *state;

    (void)unlink(fx->path);
    (void)rmdir(fx->dir);
    free(fx);
    return 0;
}

/* One's complement sum of a buffer; a correct checksummed region sums to
 * 0xFFFF. */
static uint16_t
ones_sum(uint32_t sum, const uint8_t *p, size_t len)
{
    size_t i;

    for (i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    if (len & 1u)
        sum += (uint32_t)p[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xFFFFu) + (sum >> 16);
    return (uint16_t)sum;
}

static uint16_t
get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Check one frame read back: headers, both checksums, payload. */
static void
check_frame(const struct pcap_pkthdr *h, const uint8_t *f, uint64_t ts_us,
            const uint8_t dst_mac[6], uint32_t src, uint16_t sport, uint32_t dst,
            uint16_t dport, const uint8_t *payload, size_t len)
{
    const uint8_t *ip = f + 14, *udp = f + 34;
    uint32_t pseudo;

    assert_int_equal(h->caplen, 42 + len);
    assert_int_equal(h->len, 42 + len);
    assert_int_equal((uint64_t)h->ts.tv_sec, ts_us / 1000000u);
    assert_int_equal((uint64_t)h->ts.tv_usec, ts_us % 1000000u);
    assert_memory_equal(f, dst_mac, 6);
    assert_int_equal(f[6], 0x02);
    assert_int_equal(f[7], 0x00);
    assert_int_equal(get32(f + 8), src);
    assert_int_equal(get16(f + 12), 0x0800);

    assert_int_equal(ip[0], 0x45);
    assert_int_equal(get16(ip + 2), 28 + len);
    assert_int_equal(ip[9], 17);
    assert_int_equal(get32(ip + 12), src);
    assert_int_equal(get32(ip + 16), dst);
    assert_int_equal(ones_sum(0, ip, 20), 0xFFFF);

    assert_int_equal(get16(udp), sport);
    assert_int_equal(get16(udp + 2), dport);
    assert_int_equal(get16(udp + 4), 8 + len);
    assert_int_not_equal(get16(udp + 6), 0);
    pseudo = (src >> 16) + (src & 0xFFFFu) + (dst >> 16) + (dst & 0xFFFFu) +
             17u + (uint32_t)(8 + len);
    assert_int_equal(ones_sum(pseudo, udp, 8 + len), 0xFFFF);
    if (len > 0)
        assert_memory_equal(udp + 8, payload, len);
}

static pcap_t *
open_read(const char *path)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(path, errbuf);

    if (p == NULL)
        fail_msg("pcap_open_offline(%s): %s", path, errbuf);
    assert_int_equal(pcap_datalink(p), DLT_EN10MB);
    return p;
}

/* A small multicast frame against bytes built by hand. */
static void
test_pmul_pcap_write_known_bytes(void **state)
{
    fixture *fx = *state;
    static const uint8_t want[] = {
        0x01, 0x00, 0x5e, 0x00, 0x00, 0x01,             /* 239.0.0.1 */
        0x02, 0x00, 0xc0, 0x00, 0x02, 0x01,             /* 192.0.2.1 */
        0x08, 0x00,
        0x45, 0x00, 0x00, 0x1f, 0x00, 0x00, 0x00, 0x00,
        0x40, 0x11, 0xc9, 0xcb, 0xc0, 0x00, 0x02, 0x01,
        0xef, 0x00, 0x00, 0x01,
        0x0a, 0xc1, 0x0a, 0xc1, 0x00, 0x0b, 0x74, 0xf0,
        'a', 'b', 'c',
    };
    pmul_pcap_writer *w = NULL;
    struct pcap_pkthdr *h;
    const u_char *f;
    pcap_t *p;

    assert_int_equal(pmul_pcap_writer_open(&w, fx->path), 0);
    assert_non_null(w);
    assert_int_equal(pmul_pcap_write_udp4(w, UINT64_C(1700000000500000),
                                          IP4(192, 0, 2, 1), 2753, IP4(239, 0, 0, 1),
                                          2753, (const uint8_t *)"abc", 3), 0);
    assert_int_equal(pmul_pcap_writer_close(w), 0);

    p = open_read(fx->path);
    assert_int_equal(pcap_next_ex(p, &h, &f), 1);
    assert_int_equal(h->caplen, sizeof(want));
    assert_memory_equal(f, want, sizeof(want));
    assert_int_equal(h->ts.tv_sec, 1700000000);
    assert_int_equal(h->ts.tv_usec, 500000);
    assert_int_equal(pcap_next_ex(p, &h, &f), PCAP_ERROR_BREAK);
    pcap_close(p);
}

/* MAC mapping for groups (low 23 bits), broadcast and unicast; the IPv4
 * Identification counts frames; an empty payload is allowed. */
static void
test_pmul_pcap_write_mac_mapping(void **state)
{
    fixture *fx = *state;
    static const uint8_t mac_grp[6] = { 0x01, 0x00, 0x5e, 0x7f, 0xfe, 0x0a };
    static const uint8_t mac_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    static const uint8_t mac_uni[6] = { 0x02, 0x00, 0xc6, 0x12, 0x00, 0x01 };
    static const uint8_t pl[] = { 0x00, 0x10, 0x01, 0x03, 0xff };
    const uint32_t t = IP4(198, 18, 0, 1), r = IP4(198, 19, 0, 4);
    pmul_pcap_writer *w = NULL;
    struct pcap_pkthdr *h;
    const u_char *f;
    pcap_t *p;

    assert_int_equal(pmul_pcap_writer_open(&w, fx->path), 0);
    /* 239.255.254.10: bit 23 (0x80 of the second octet) is dropped. */
    assert_int_equal(pmul_pcap_write_udp4(w, 1, r, 2754, IP4(239, 255, 254, 10), 2753,
                                          pl, sizeof(pl)), 0);
    assert_int_equal(pmul_pcap_write_udp4(w, 2, r, 9, UINT32_MAX, 9, pl, 4), 0);
    assert_int_equal(pmul_pcap_write_udp4(w, 3, r, 2754, t, 2754, NULL, 0), 0);
    assert_int_equal(pmul_pcap_writer_close(w), 0);

    p = open_read(fx->path);
    assert_int_equal(pcap_next_ex(p, &h, &f), 1);
    check_frame(h, f, 1, mac_grp, r, 2754, IP4(239, 255, 254, 10), 2753, pl, sizeof(pl));
    assert_int_equal(get16(f + 18), 0);
    assert_int_equal(pcap_next_ex(p, &h, &f), 1);
    check_frame(h, f, 2, mac_bcast, r, 9, UINT32_MAX, 9, pl, 4);
    assert_int_equal(get16(f + 18), 1);
    assert_int_equal(pcap_next_ex(p, &h, &f), 1);
    check_frame(h, f, 3, mac_uni, r, 2754, t, 2754, NULL, 0);
    assert_int_equal(get16(f + 18), 2);
    assert_int_equal(pcap_next_ex(p, &h, &f), PCAP_ERROR_BREAK);
    pcap_close(p);
}

/* 65507 octets is the largest IPv4 UDP payload: it must come back whole
 * through libpcap's reader (which truncates records above the snaplen);
 * one more is refused and leaves the writer usable. */
static void
test_pmul_pcap_write_max_payload(void **state)
{
    fixture *fx = *state;
    static const uint8_t mac[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
    const size_t max = PMUL_PCAP_UDP4_MAX_PAYLOAD;
    pmul_pcap_writer *w = NULL;
    struct pcap_pkthdr *h;
    const u_char *f;
    uint8_t *pl;
    pcap_t *p;
    size_t i;

    pl = malloc(max + 1);
    assert_non_null(pl);
    for (i = 0; i <= max; i++)
        pl[i] = (uint8_t)(i * 7 + 1);

    assert_int_equal(pmul_pcap_writer_open(&w, fx->path), 0);
    assert_int_equal(pmul_pcap_write_udp4(w, 5, 1, 2, IP4(239, 0, 0, 1), 3, pl, max + 1),
                     PMUL_PCAP_ERR_TOO_LONG);
    assert_int_equal(pmul_pcap_write_udp4(w, 5, 1, 2, IP4(239, 0, 0, 1), 3, pl, max), 0);
    assert_int_equal(pmul_pcap_writer_close(w), 0);

    p = open_read(fx->path);
    assert_true(pcap_snapshot(p) >= (int)(14 + 20 + 8 + max));
    assert_int_equal(pcap_next_ex(p, &h, &f), 1);
    check_frame(h, f, 5, mac, 1, 2, IP4(239, 0, 0, 1), 3, pl, max);
    assert_int_equal(get16(f + 16), 65535);
    assert_int_equal(pcap_next_ex(p, &h, &f), PCAP_ERROR_BREAK);
    pcap_close(p);
    free(pl);
}

static void
test_pmul_pcap_invalid_args(void **state)
{
    fixture *fx = *state;
    pmul_pcap_writer *w = (pmul_pcap_writer *)&w;     /* must be reset */
    uint8_t b = 0;

    assert_int_equal(pmul_pcap_writer_open(NULL, fx->path), PMUL_PCAP_ERR_INVAL);
    assert_int_equal(pmul_pcap_writer_open(&w, NULL), PMUL_PCAP_ERR_INVAL);
    assert_null(w);
    assert_int_equal(pmul_pcap_write_udp4(NULL, 0, 1, 1, 2, 2, &b, 1), PMUL_PCAP_ERR_INVAL);
    assert_int_equal(pmul_pcap_writer_close(NULL), 0);

    assert_int_equal(pmul_pcap_writer_open(&w, fx->path), 0);
    assert_int_equal(pmul_pcap_write_udp4(w, 0, 1, 1, 2, 2, NULL, 1), PMUL_PCAP_ERR_INVAL);
    /* The last second pcap's 32-bit field holds, and the first it cannot. */
    assert_int_equal(pmul_pcap_write_udp4(w, (uint64_t)UINT32_MAX * 1000000u + 999999u,
                                          1, 1, 2, 2, &b, 1), 0);
    assert_int_equal(pmul_pcap_write_udp4(w, ((uint64_t)UINT32_MAX + 1) * 1000000u,
                                          1, 1, 2, 2, &b, 1), PMUL_PCAP_ERR_RANGE);
    assert_int_equal(pmul_pcap_write_udp4(w, UINT64_MAX, 1, 1, 2, 2, &b, 1),
                     PMUL_PCAP_ERR_RANGE);
    assert_int_equal(pmul_pcap_writer_close(w), 0);
}

static void
test_pmul_pcap_open_missing_dir(void **state)
{
    fixture *fx = *state;
    pmul_pcap_writer *w = NULL;
    char path[128];
    int n;

    n = snprintf(path, sizeof(path), "%s/no/such/dir.pcap", fx->dir);
    assert_true(n > 0 && (size_t)n < sizeof(path));
    assert_int_equal(pmul_pcap_writer_open(&w, path), PMUL_PCAP_ERR_OPEN);
    assert_null(w);
}

/* A full disk: buffered frames fail at the flush in close; big frames
 * fail at the write, and the error stays. */
static void
test_pmul_pcap_disk_full(void **state)
{
    pmul_pcap_writer *w = NULL;
    uint8_t *pl;
    int rc = 0, i;

    (void)state;
    if (access("/dev/full", W_OK) != 0)
        skip();

    assert_int_equal(pmul_pcap_writer_open(&w, "/dev/full"), 0);
    assert_int_equal(pmul_pcap_write_udp4(w, 0, 1, 1, 2, 2, (const uint8_t *)"x", 1), 0);
    assert_int_equal(pmul_pcap_writer_close(w), PMUL_PCAP_ERR_CLOSE);

    pl = calloc(1, PMUL_PCAP_UDP4_MAX_PAYLOAD);
    assert_non_null(pl);
    assert_int_equal(pmul_pcap_writer_open(&w, "/dev/full"), 0);
    for (i = 0; i < 4 && rc == 0; i++)
        rc = pmul_pcap_write_udp4(w, 0, 1, 1, 2, 2, pl, PMUL_PCAP_UDP4_MAX_PAYLOAD);
    assert_int_equal(rc, PMUL_PCAP_ERR_WRITE);
    assert_int_equal(pmul_pcap_write_udp4(w, 0, 1, 1, 2, 2, pl, 1), PMUL_PCAP_ERR_WRITE);
    assert_int_equal(pmul_pcap_writer_close(w), PMUL_PCAP_ERR_WRITE);
    free(pl);
}

static void
test_pmul_pcap_strerror(void **state)
{
    static const int codes[] = {
        PMUL_PCAP_ERR_INVAL, PMUL_PCAP_ERR_NOMEM, PMUL_PCAP_ERR_TOO_LONG,
        PMUL_PCAP_ERR_RANGE, PMUL_PCAP_ERR_OPEN, PMUL_PCAP_ERR_WRITE,
        PMUL_PCAP_ERR_CLOSE, PMUL_PCAP_ERR_EOF, PMUL_PCAP_ERR_READ,
        PMUL_PCAP_ERR_FILTER, PMUL_PCAP_ERR_LINKTYPE, PMUL_PCAP_ERR_LINK_HDR,
        PMUL_PCAP_ERR_NOT_IP, PMUL_PCAP_ERR_IP_HDR, PMUL_PCAP_ERR_IP_TRUNC,
        PMUL_PCAP_ERR_FRAGMENT, PMUL_PCAP_ERR_NOT_UDP, PMUL_PCAP_ERR_UDP_HDR,
    };
    size_t i;

    (void)state;
    assert_string_equal(pmul_pcap_strerror(0), "success");
    assert_string_equal(pmul_pcap_errname(PMUL_PCAP_ERR_WRITE), "WRITE");
    for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        assert_true(codes[i] < 0);
        assert_string_not_equal(pmul_pcap_strerror(codes[i]), "unknown error");
        assert_string_not_equal(pmul_pcap_errname(codes[i]), "UNKNOWN");
    }
    assert_string_equal(pmul_pcap_strerror(-999), "unknown error");
    assert_string_equal(pmul_pcap_errname(-999), "UNKNOWN");
}

/* ---- reader: frames built by hand ---------------------------------------- */

typedef struct fb {
    uint8_t b[1024];
    size_t n;
} fb;

static void
put8(fb *f, unsigned v)
{
    assert_true(f->n < sizeof(f->b));
    f->b[f->n++] = (uint8_t)v;
}

static void
put16(fb *f, unsigned v)
{
    put8(f, v >> 8);
    put8(f, v & 0xFFu);
}

static void
put32(fb *f, uint32_t v)
{
    put16(f, v >> 16);
    put16(f, v & 0xFFFFu);
}

static void
putn(fb *f, const void *p, size_t n)
{
    assert_true(n <= sizeof(f->b) - f->n);
    if (n == 0)
        return;                         /* p may be NULL */
    memcpy(f->b + f->n, p, n);
    f->n += n;
}

static const uint8_t PAYLOAD[] = { 0x00, 0x10, 0x01, 0x03, 0x00, 0x00, 0x6f, 0xb5,
                                   0xc0, 0x00, 0x02, 0x01, 0x00, 0x01, 0x00, 0x02 };
static const uint8_t SRC6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x01 };
static const uint8_t DST6[16] = { 0xff, 0x0e, [15] = 0x09 };

#define SRC4 IP4(192, 0, 2, 1)
#define DST4 IP4(239, 0, 0, 1)

static void
udp(fb *f, uint16_t ulen_extra, const uint8_t *p, size_t len)
{
    put16(f, 2753);
    put16(f, 2754);
    put16(f, (unsigned)(8 + len + ulen_extra));
    put16(f, 0);
    putn(f, p, len);
}

/* IPv4 + UDP with optlen octets of options (a multiple of 4). */
static void
ip4(fb *f, unsigned ver_ihl, uint16_t frag, uint8_t proto, size_t optlen)
{
    size_t i;

    put8(f, ver_ihl);
    put8(f, 0);
    put16(f, (unsigned)(20 + optlen + 8 + sizeof(PAYLOAD)));
    put16(f, 0x1234);
    put16(f, frag);
    put8(f, 64);
    put8(f, proto);
    put16(f, 0);
    put32(f, SRC4);
    put32(f, DST4);
    for (i = 0; i < optlen; i++)
        put8(f, 1);                     /* NOP options */
    udp(f, 0, PAYLOAD, sizeof(PAYLOAD));
}

static void
ip4_udp(fb *f)
{
    ip4(f, 0x45, 0, 17, 0);
}

/* IPv6 header; ext[0..ext_len) are extension headers built by the caller,
 * first_nh the Next Header of the fixed header. */
static void
ip6(fb *f, uint8_t first_nh, const uint8_t *ext, size_t ext_len, bool with_udp)
{
    put32(f, 0x60000000u);
    put16(f, (unsigned)(ext_len + (with_udp ? 8 + sizeof(PAYLOAD) : 0)));
    put8(f, first_nh);
    put8(f, 1);
    putn(f, SRC6, 16);
    putn(f, DST6, 16);
    putn(f, ext, ext_len);
    if (with_udp)
        udp(f, 0, PAYLOAD, sizeof(PAYLOAD));
}

static void
eth(fb *f, unsigned type)
{
    static const uint8_t macs[12] = { 1, 0, 0x5e, 0, 0, 1, 2, 0, 192, 0, 2, 1 };

    putn(f, macs, 12);
    put16(f, type);
}

/* Parse f as linktype with wirelen = caplen; assert the verdict. */
static int
parse(int linktype, const fb *f, pmul_pcap_frame *out)
{
    memset(out, 0, sizeof(*out));
    return pmul_pcap_parse_frame(linktype, f->b, f->n, f->n, out);
}

static void
check_udp4(const pmul_pcap_frame *f)
{
    assert_int_equal(f->ip_version, 4);
    assert_int_equal(f->src_ip4, SRC4);
    assert_int_equal(f->dst_ip4, DST4);
    assert_int_equal(f->src_port, 2753);
    assert_int_equal(f->dst_port, 2754);
    assert_int_equal(f->payload_len, sizeof(PAYLOAD));
    assert_memory_equal(f->payload, PAYLOAD, sizeof(PAYLOAD));
}

static void
check_udp6(const pmul_pcap_frame *f)
{
    assert_int_equal(f->ip_version, 6);
    assert_memory_equal(f->src_ip6, SRC6, 16);
    assert_memory_equal(f->dst_ip6, DST6, 16);
    assert_int_equal(f->ip_proto, 17);
    assert_int_equal(f->payload_len, sizeof(PAYLOAD));
    assert_memory_equal(f->payload, PAYLOAD, sizeof(PAYLOAD));
}

static void
test_pmul_pcap_parse_ethernet_ipv4(void **state)
{
    pmul_pcap_frame pf;
    fb f = { .n = 0 };

    (void)state;
    eth(&f, 0x0800);
    ip4_udp(&f);
    /* Ethernet pads short frames to 60 octets: ignored. */
    while (f.n < 60 + 10)
        put8(&f, 0);
    assert_int_equal(parse(DLT_EN10MB, &f, &pf), 0);
    check_udp4(&pf);
    assert_int_equal(pf.vlan_cnt, 0);
    assert_int_equal(pf.linktype, DLT_EN10MB);
    assert_int_equal(pf.caplen, f.n);

    /* IPv4 options (IHL 7) are skipped. */
    f.n = 0;
    eth(&f, 0x0800);
    ip4(&f, 0x47, 0, 17, 8);
    assert_int_equal(parse(DLT_EN10MB, &f, &pf), 0);
    check_udp4(&pf);
}

static void
test_pmul_pcap_parse_vlan(void **state)
{
    pmul_pcap_frame pf;
    fb f = { .n = 0 };
    unsigned i;

    (void)state;
    eth(&f, 0x8100);
    put16(&f, 0x2000 | 42);             /* PCP 1, VLAN 42 */
    put16(&f, 0x0800);
    ip4_udp(&f);
    assert_int_equal(parse(DLT_EN10MB, &f, &pf), 0);
    check_udp4(&pf);
    assert_int_equal(pf.vlan_cnt, 1);
    assert_int_equal(pf.vlan_id, 42);

    /* 802.1ad outer tag, 802.1Q inner tag, IPv6 inside. */
    f.n = 0;
    eth(&f, 0x88A8);
    put16(&f, 7);
    put16(&f, 0x8100);
    put16(&f, 8);
    put16(&f, 0x86DD);
    ip6(&f, 17, NULL, 0, true);
    assert_int_equal(parse(DLT_EN10MB, &f, &pf), 0);
    check_udp6(&pf);
    assert_int_equal(pf.vlan_cnt, 2);
    assert_int_equal(pf.vlan_id, 7);

    /* More tags than PMUL_PCAP_MAX_VLAN: not followed. */
    f.n = 0;
    eth(&f, 0x8100);
    for (i = 0; i < PMUL_PCAP_MAX_VLAN; i++) {
        put16(&f, i);
        put16(&f, 0x8100);
    }
    put16(&f, 0);
    put16(&f, 0x0800);
    ip4_udp(&f);
    assert_int_equal(parse(DLT_EN10MB, &f, &pf), PMUL_PCAP_ERR_NOT_IP);
}

static void
test_pmul_pcap_parse_cooked(void **state)
{
    pmul_pcap_frame pf;
    fb f = { .n = 0 };
    size_t i;

    (void)state;
    /* Linux cooked v1: type, ARPHRD, address length, 8 address octets,
     * protocol. */
    put16(&f, 0);
    put16(&f, 1);
    put16(&f, 6);
    for (i = 0; i < 8; i++)
        put8(&f, i);
    put16(&f, 0x0800);
    ip4_udp(&f);
    assert_int_equal(parse(DLT_LINUX_SLL, &f, &pf), 0);
    check_udp4(&pf);

    /* Linux cooked v2: protocol first, 20 octets in all. */
    f.n = 0;
    put16(&f, 0x86DD);
    put16(&f, 0);
    put32(&f, 3);
    put16(&f, 1);
    put8(&f, 0);
    put8(&f, 6);
    for (i = 0; i < 8; i++)
        put8(&f, i);
    ip6(&f, 17, NULL, 0, true);
    assert_int_equal(parse(276, &f, &pf), 0);
    check_udp6(&pf);

    /* A cooked frame carrying ARP. */
    f.n = 0;
    put16(&f, 0x0806);
    for (i = 0; i < 18; i++)
        put8(&f, 0);
    assert_int_equal(parse(276, &f, &pf), PMUL_PCAP_ERR_NOT_IP);
}

static void
test_pmul_pcap_parse_raw_and_null(void **state)
{
    static const struct { int dlt; uint8_t af[4]; bool v6; } cases[] = {
        { DLT_NULL, { 2, 0, 0, 0 }, false },    /* little-endian host */
        { DLT_NULL, { 0, 0, 0, 2 }, false },    /* big-endian host */
        { DLT_NULL, { 30, 0, 0, 0 }, true },    /* macOS AF_INET6 */
        { DLT_NULL, { 0, 0, 0, 24 }, true },    /* BSD AF_INET6 */
        { DLT_LOOP, { 0, 0, 0, 2 }, false },    /* network order */
        { DLT_LOOP, { 0, 0, 0, 28 }, true },
    };
    pmul_pcap_frame pf;
    fb f = { .n = 0 };
    size_t i;

    (void)state;
    ip4_udp(&f);
    assert_int_equal(parse(DLT_RAW, &f, &pf), 0);
    check_udp4(&pf);
    assert_int_equal(parse(101, &f, &pf), 0);   /* LINKTYPE_RAW */
    check_udp4(&pf);
    assert_int_equal(parse(228, &f, &pf), 0);   /* DLT_IPV4 */
    check_udp4(&pf);
    assert_int_equal(parse(229, &f, &pf), PMUL_PCAP_ERR_IP_HDR);  /* v4 as v6 */

    f.n = 0;
    ip6(&f, 17, NULL, 0, true);
    assert_int_equal(parse(DLT_RAW, &f, &pf), 0);
    check_udp6(&pf);
    assert_int_equal(parse(229, &f, &pf), 0);   /* DLT_IPV6 */
    check_udp6(&pf);

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        f.n = 0;
        putn(&f, cases[i].af, 4);
        if (cases[i].v6)
            ip6(&f, 17, NULL, 0, true);
        else
            ip4_udp(&f);
        assert_int_equal(parse(cases[i].dlt, &f, &pf), 0);
        if (cases[i].v6)
            check_udp6(&pf);
        else
            check_udp4(&pf);
    }
    f.n = 0;
    put32(&f, 0x07000000u);             /* AF 7, little-endian: not IP */
    ip4_udp(&f);
    assert_int_equal(parse(DLT_NULL, &f, &pf), PMUL_PCAP_ERR_NOT_IP);
    f.n = 0;
    put8(&f, 0x20);                     /* raw IP, version 2 */
    assert_int_equal(parse(DLT_RAW, &f, &pf), PMUL_PCAP_ERR_NOT_IP);
    assert_int_equal(parse(147, &f, &pf), PMUL_PCAP_ERR_LINKTYPE);
    assert_int_equal(pmul_pcap_parse_frame(DLT_RAW, f.b, f.n, f.n, NULL),
                     PMUL_PCAP_ERR_INVAL);
    assert_int_equal(pmul_pcap_parse_frame(DLT_RAW, NULL, 1, 1, &pf),
                     PMUL_PCAP_ERR_INVAL);
}

static void
test_pmul_pcap_parse_ipv6_ext(void **state)
{
    /* Hop-by-hop (8 octets) -> routing (16) -> destination options (8) ->
     * atomic fragment (offset 0, M clear) -> AH (12 + 4 ICV = len 2) ->
     * UDP. */
    static const uint8_t chain[] = {
        43, 0, 1, 4, 0, 0, 0, 0,                            /* HBH -> RH */
        60, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,    /* RH -> DO */
        44, 0, 1, 4, 0, 0, 0, 0,                            /* DO -> FRAG */
        51, 0, 0x00, 0x00, 0xde, 0xad, 0xbe, 0xef,          /* FRAG -> AH */
        17, 2, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 9, 9, 9, 9,    /* AH -> UDP */
    };
    static const uint8_t frag_more[] = { 17, 0, 0x00, 0x01, 0, 0, 0, 7 };
    static const uint8_t frag_off[] = { 17, 0, 0x00, 0xB8, 0, 0, 0, 8 };
    uint8_t many[(PMUL_PCAP_MAX_EXT_HDRS + 1) * 8];
    pmul_pcap_frame pf;
    fb f = { .n = 0 };
    size_t i;

    (void)state;
    ip6(&f, 0, chain, sizeof(chain), true);
    assert_int_equal(parse(DLT_RAW, &f, &pf), 0);
    check_udp6(&pf);

    f.n = 0;
    ip6(&f, 44, frag_more, sizeof(frag_more), true);
    assert_int_equal(parse(DLT_RAW, &f, &pf), PMUL_PCAP_ERR_FRAGMENT);
    assert_int_equal(pf.ip_id, 7);
    assert_true(pf.more_frags);
    assert_int_equal(pf.frag_offset, 0);
    assert_int_equal(pf.ip_proto, 17);

    f.n = 0;
    ip6(&f, 44, frag_off, sizeof(frag_off), true);
    assert_int_equal(parse(DLT_RAW, &f, &pf), PMUL_PCAP_ERR_FRAGMENT);
    assert_int_equal(pf.frag_offset, 23);
    assert_false(pf.more_frags);

    /* ESP and No Next Header: not UDP. */
    f.n = 0;
    ip6(&f, 50, chain, 8, false);
    assert_int_equal(parse(DLT_RAW, &f, &pf), PMUL_PCAP_ERR_NOT_UDP);
    assert_int_equal(pf.ip_proto, 50);
    f.n = 0;
    ip6(&f, 59, chain, 8, false);
    assert_int_equal(parse(DLT_RAW, &f, &pf), PMUL_PCAP_ERR_NOT_UDP);

    /* A chain longer than PMUL_PCAP_MAX_EXT_HDRS. */
    memset(many, 0, sizeof(many));
    for (i = 0; i < PMUL_PCAP_MAX_EXT_HDRS + 1; i++)
        many[i * 8] = i == PMUL_PCAP_MAX_EXT_HDRS ? 17 : 60;
    f.n = 0;
    ip6(&f, 60, many, sizeof(many), true);
    assert_int_equal(parse(DLT_RAW, &f, &pf), PMUL_PCAP_ERR_IP_HDR);

    /* An extension header that claims more than the payload holds. */
    f.n = 0;
    ip6(&f, 60, (const uint8_t[]){ 17, 200, 0, 0, 0, 0, 0, 0 }, 8, true);
    assert_int_equal(parse(DLT_RAW, &f, &pf), PMUL_PCAP_ERR_IP_HDR);

    /* Payload length 0 (jumbogram) and a wrong version. */
    f.n = 0;
    ip6(&f, 17, NULL, 0, true);
    f.b[4] = 0;
    f.b[5] = 0;
    assert_int_equal(parse(229, &f, &pf), PMUL_PCAP_ERR_IP_HDR);
    f.b[0] = 0x40;
    f.b[5] = 24;
    assert_int_equal(parse(229, &f, &pf), PMUL_PCAP_ERR_IP_HDR);
}

static void
test_pmul_pcap_parse_ipv4_errors(void **state)
{
    pmul_pcap_frame pf;
    fb f = { .n = 0 };

    (void)state;
    /* More Fragments set, and a later fragment. */
    ip4(&f, 0x45, 0x2000, 17, 0);
    assert_int_equal(parse(DLT_RAW, &f, &pf), PMUL_PCAP_ERR_FRAGMENT);
    assert_int_equal(pf.ip_id, 0x1234);
    assert_true(pf.more_frags);
    assert_int_equal(pf.src_ip4, SRC4);
    f.n = 0;
    ip4(&f, 0x45, 0x00B9, 17, 0);
    assert_int_equal(parse(DLT_RAW, &f, &pf), PMUL_PCAP_ERR_FRAGMENT);
    assert_int_equal(pf.frag_offset, 0xB9);
    assert_false(pf.more_frags);
    /* DF alone is not a fragment. */
    f.n = 0;
    ip4(&f, 0x45, 0x4000, 17, 0);
    assert_int_equal(parse(DLT_RAW, &f, &pf), 0);

    /* TCP. */
    f.n = 0;
    ip4(&f, 0x45, 0, 6, 0);
    assert_int_equal(parse(DLT_RAW, &f, &pf), PMUL_PCAP_ERR_NOT_UDP);
    assert_int_equal(pf.ip_proto, 6);

    /* IHL below 5, and a total length below the header. */
    f.n = 0;
    ip4(&f, 0x44, 0, 17, 0);
    assert_int_equal(parse(228, &f, &pf), PMUL_PCAP_ERR_IP_HDR);
    f.n = 0;
    ip4_udp(&f);
    f.b[2] = 0;
    f.b[3] = 19;
    assert_int_equal(parse(228, &f, &pf), PMUL_PCAP_ERR_IP_HDR);

    /* Total length beyond the frame: cut by the capture, or a lie. */
    f.n = 0;
    ip4_udp(&f);
    memset(&pf, 0, sizeof(pf));
    assert_int_equal(pmul_pcap_parse_frame(DLT_RAW, f.b, f.n - 1, f.n, &pf),
                     PMUL_PCAP_ERR_IP_TRUNC);
    assert_int_equal(pmul_pcap_parse_frame(DLT_RAW, f.b, f.n - 1, f.n - 1, &pf),
                     PMUL_PCAP_ERR_IP_HDR);

    /* UDP length under 8, over the IP payload, and under it (extra
     * octets after the UDP datagram are ignored). */
    f.n = 0;
    ip4_udp(&f);
    f.b[24] = 0;
    f.b[25] = 7;
    assert_int_equal(parse(DLT_RAW, &f, &pf), PMUL_PCAP_ERR_UDP_HDR);
    f.b[25] = (uint8_t)(8 + sizeof(PAYLOAD) + 1);
    assert_int_equal(parse(DLT_RAW, &f, &pf), PMUL_PCAP_ERR_UDP_HDR);
    f.b[25] = (uint8_t)(8 + sizeof(PAYLOAD) - 4);
    assert_int_equal(parse(DLT_RAW, &f, &pf), 0);
    assert_int_equal(pf.payload_len, sizeof(PAYLOAD) - 4);

    /* 802.3 length field instead of an EtherType: LLC, not IP. */
    f.n = 0;
    eth(&f, 46);
    ip4_udp(&f);
    assert_int_equal(parse(DLT_EN10MB, &f, &pf), PMUL_PCAP_ERR_NOT_IP);
}

/* Every strict prefix of a good frame fails, reading nothing past it. */
static void
check_truncations(int linktype, const fb *f)
{
    pmul_pcap_frame pf;
    size_t n;
    uint8_t *copy;
    int rc;

    memset(&pf, 0, sizeof(pf));
    assert_int_equal(pmul_pcap_parse_frame(linktype, f->b, f->n, f->n, &pf), 0);
    for (n = 0; n < f->n; n++) {
        copy = malloc(n > 0 ? n : 1);
        assert_non_null(copy);
        memcpy(copy, f->b, n);
        memset(&pf, 0, sizeof(pf));
        rc = pmul_pcap_parse_frame(linktype, n > 0 ? copy : NULL, n, f->n, &pf);
        if (rc == 0)
            fail_msg("linktype %d: prefix of %zu of %zu octets parsed", linktype, n, f->n);
        assert_null(pf.payload);
        free(copy);
    }
}

static void
test_pmul_pcap_parse_truncation_loop(void **state)
{
    static const uint8_t hbh[] = { 17, 0, 1, 4, 0, 0, 0, 0 };
    fb f = { .n = 0 };

    (void)state;
    eth(&f, 0x0800);
    ip4(&f, 0x46, 0, 17, 4);
    check_truncations(DLT_EN10MB, &f);

    f.n = 0;
    eth(&f, 0x8100);
    put16(&f, 5);
    put16(&f, 0x86DD);
    ip6(&f, 0, hbh, sizeof(hbh), true);
    check_truncations(DLT_EN10MB, &f);

    f.n = 0;
    put16(&f, 0x0800);
    put16(&f, 0);
    put32(&f, 1);
    put16(&f, 1);
    put8(&f, 0);
    put8(&f, 6);
    put32(&f, 0);
    put32(&f, 0);
    ip4_udp(&f);
    check_truncations(276, &f);

    f.n = 0;
    put32(&f, 0x02000000u);
    ip4_udp(&f);
    check_truncations(DLT_NULL, &f);

    f.n = 0;
    ip6(&f, 17, NULL, 0, true);
    check_truncations(DLT_RAW, &f);
}

/* ---- reader: files ------------------------------------------------------ */

static void
write_three(const char *path)
{
    pmul_pcap_writer *w;

    assert_int_equal(pmul_pcap_writer_open(&w, path), 0);
    assert_int_equal(pmul_pcap_write_udp4(w, 1700000000000001u, SRC4, 2753, DST4, 2753,
                                          PAYLOAD, sizeof(PAYLOAD)), 0);
    assert_int_equal(pmul_pcap_write_udp4(w, 1700000000500000u, IP4(192, 0, 2, 2), 2754,
                                          SRC4, 2754, PAYLOAD, 12), 0);
    assert_int_equal(pmul_pcap_write_udp4(w, 1700000001999999u, SRC4, 2753, DST4, 2753,
                                          PAYLOAD, 0), 0);
    assert_int_equal(pmul_pcap_writer_close(w), 0);
}

static void
test_pmul_pcap_reader_roundtrip(void **state)
{
    static const uint64_t ts[] = { 1700000000000001u, 1700000000500000u, 1700000001999999u };
    static const size_t lens[] = { sizeof(PAYLOAD), 12, 0 };
    fixture *fx = *state;
    pmul_pcap_reader *r;
    pmul_pcap_frame f;
    char err[256];
    int i, verdict;

    write_three(fx->path);
    assert_int_equal(pmul_pcap_reader_open(&r, fx->path, err, sizeof(err)), 0);
    assert_int_equal(pmul_pcap_reader_linktype(r), DLT_EN10MB);
    for (i = 0; i < 3; i++) {
        assert_int_equal(pmul_pcap_reader_next(r, &f, &verdict), 1);
        assert_int_equal(verdict, 0);
        assert_int_equal(f.number, (uint64_t)i + 1);
        assert_int_equal(f.ts_us, ts[i]);
        assert_int_equal(f.payload_len, lens[i]);
        if (lens[i] > 0)
            assert_memory_equal(f.payload, PAYLOAD, lens[i]);
        assert_int_equal(f.caplen, 42 + lens[i]);
    }
    assert_int_equal(f.dst_ip4, DST4);
    assert_int_equal(pmul_pcap_reader_next(r, &f, &verdict), PMUL_PCAP_ERR_EOF);
    assert_int_equal(pmul_pcap_reader_next(r, &f, &verdict), PMUL_PCAP_ERR_EOF);
    pmul_pcap_reader_close(r);
    pmul_pcap_reader_close(NULL);
}

static void
test_pmul_pcap_reader_filter(void **state)
{
    fixture *fx = *state;
    pmul_pcap_reader *r;
    pmul_pcap_frame f;
    char err[256];
    int verdict;

    write_three(fx->path);
    assert_int_equal(pmul_pcap_reader_open(&r, fx->path, err, sizeof(err)), 0);
    assert_int_equal(pmul_pcap_reader_set_filter(r, "udp dst port 2754", err, sizeof(err)), 0);
    assert_int_equal(pmul_pcap_reader_next(r, &f, &verdict), 1);
    assert_int_equal(f.dst_port, 2754);
    assert_int_equal(f.ts_us, 1700000000500000u);
    assert_int_equal(pmul_pcap_reader_next(r, &f, &verdict), PMUL_PCAP_ERR_EOF);
    assert_int_equal(pmul_pcap_reader_set_filter(r, "udp port", err, sizeof(err)),
                     PMUL_PCAP_ERR_FILTER);
    assert_true(strlen(err) > 0);
    assert_int_equal(pmul_pcap_reader_set_filter(r, NULL, err, sizeof(err)), 0);
    assert_int_equal(pmul_pcap_reader_set_filter(NULL, "udp", err, sizeof(err)),
                     PMUL_PCAP_ERR_INVAL);
    pmul_pcap_reader_close(r);
}

static void
test_pmul_pcap_reader_truncated_file(void **state)
{
    fixture *fx = *state;
    pmul_pcap_reader *r;
    pmul_pcap_frame f;
    char err[256];
    long size;
    FILE *fp;
    int verdict;

    write_three(fx->path);
    fp = fopen(fx->path, "rb");
    assert_non_null(fp);
    assert_int_equal(fseek(fp, 0, SEEK_END), 0);
    size = ftell(fp);
    assert_int_equal(fclose(fp), 0);
    /* Cut the last record in the middle of its frame. */
    assert_int_equal(truncate(fx->path, size - 10), 0);
    assert_int_equal(pmul_pcap_reader_open(&r, fx->path, err, sizeof(err)), 0);
    assert_int_equal(pmul_pcap_reader_next(r, &f, &verdict), 1);
    assert_int_equal(pmul_pcap_reader_next(r, &f, &verdict), 1);
    assert_int_equal(pmul_pcap_reader_next(r, &f, &verdict), PMUL_PCAP_ERR_READ);
    assert_true(strlen(pmul_pcap_reader_error(r)) > 0);
    pmul_pcap_reader_close(r);

    /* Cut inside the file header: not a capture at all. */
    assert_int_equal(truncate(fx->path, 10), 0);
    assert_int_equal(pmul_pcap_reader_open(&r, fx->path, err, sizeof(err)),
                     PMUL_PCAP_ERR_OPEN);
    assert_null(r);
    assert_true(strlen(err) > 0);
}

static void
test_pmul_pcap_reader_open_errors(void **state)
{
    fixture *fx = *state;
    pmul_pcap_reader *r = (pmul_pcap_reader *)&r;
    pmul_pcap_frame f;
    char err[256];
    FILE *fp;
    int verdict;

    assert_int_equal(pmul_pcap_reader_open(&r, "/nonexistent/x.pcap", err, sizeof(err)),
                     PMUL_PCAP_ERR_OPEN);
    assert_null(r);
    assert_true(strlen(err) > 0);

    fp = fopen(fx->path, "wb");
    assert_non_null(fp);
    assert_int_equal(fputs("this is not a capture file at all\n", fp) >= 0, 1);
    assert_int_equal(fclose(fp), 0);
    assert_int_equal(pmul_pcap_reader_open(&r, fx->path, err, sizeof(err)),
                     PMUL_PCAP_ERR_OPEN);
    /* A tiny error buffer is cut, never overrun. */
    assert_int_equal(pmul_pcap_reader_open(&r, fx->path, err, 4), PMUL_PCAP_ERR_OPEN);
    assert_true(strlen(err) <= 3);

    assert_int_equal(pmul_pcap_reader_open(NULL, fx->path, NULL, 0), PMUL_PCAP_ERR_INVAL);
    assert_int_equal(pmul_pcap_reader_open(&r, NULL, NULL, 0), PMUL_PCAP_ERR_INVAL);
    assert_int_equal(pmul_pcap_reader_open_live(&r, "mule-no-such-if0", false, 100, err,
                                                sizeof(err)), PMUL_PCAP_ERR_OPEN);
    assert_null(r);
    assert_true(strlen(err) > 0);
    assert_int_equal(pmul_pcap_reader_open_live(&r, "lo", false, 0, err, sizeof(err)),
                     PMUL_PCAP_ERR_INVAL);
    assert_int_equal(pmul_pcap_reader_next(NULL, &f, &verdict), PMUL_PCAP_ERR_INVAL);
    assert_int_equal(pmul_pcap_reader_linktype(NULL), -1);
}

/* A live capture returns within its timeout even without traffic (the
 * read timeout of libpcap alone does not bound the wait).  Skipped when
 * capturing is not permitted. */
static void
test_pmul_pcap_reader_live_timeout(void **state)
{
    pmul_pcap_reader *r;
    pmul_pcap_frame f;
    char err[256];
    int i, rc, verdict;

    (void)state;
    if (pmul_pcap_reader_open_live(&r, "lo", false, 20, err, sizeof(err)) != 0)
        skip();
    assert_int_equal(pmul_pcap_reader_set_filter(r, "udp port 9 and udp port 10", err,
                                                 sizeof(err)), 0);
    for (i = 0; i < 3; i++) {
        rc = pmul_pcap_reader_next(r, &f, &verdict);
        assert_int_equal(rc, 0);
    }
    pmul_pcap_reader_stop(r);
    pmul_pcap_reader_close(r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pmul_pcap_write_known_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pmul_pcap_write_mac_mapping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pmul_pcap_write_max_payload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pmul_pcap_invalid_args, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pmul_pcap_open_missing_dir, setup, teardown),
        cmocka_unit_test(test_pmul_pcap_disk_full),
        cmocka_unit_test(test_pmul_pcap_strerror),
        cmocka_unit_test(test_pmul_pcap_parse_ethernet_ipv4),
        cmocka_unit_test(test_pmul_pcap_parse_vlan),
        cmocka_unit_test(test_pmul_pcap_parse_cooked),
        cmocka_unit_test(test_pmul_pcap_parse_raw_and_null),
        cmocka_unit_test(test_pmul_pcap_parse_ipv6_ext),
        cmocka_unit_test(test_pmul_pcap_parse_ipv4_errors),
        cmocka_unit_test(test_pmul_pcap_parse_truncation_loop),
        cmocka_unit_test_setup_teardown(test_pmul_pcap_reader_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pmul_pcap_reader_filter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pmul_pcap_reader_truncated_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pmul_pcap_reader_open_errors, setup, teardown),
        cmocka_unit_test(test_pmul_pcap_reader_live_timeout),
    };

    return cmocka_run_group_tests_name("pmul_pcap", tests, NULL, NULL);
}
