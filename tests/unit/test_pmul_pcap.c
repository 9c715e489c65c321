/*
 * test_pmul_pcap.c: unit tests of the pcap writer (pmul/pmul_pcap.c).
 *
 * Frames are written to a temporary directory and read back with libpcap's
 * own reader (pcap_open_offline), so the test checks what other programs
 * will see.  One frame is compared with hand-built bytes whose checksums
 * were computed independently (Python, RFC 1071); the others are checked
 * field by field, with checksums verified by summing to 0xFFFF.  Error
 * paths: bad arguments, oversized payloads and timestamps, an unopenable
 * path and a full disk (/dev/full).
 */
#include <stdarg.h>
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
        PMUL_PCAP_ERR_CLOSE,
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
    };

    return cmocka_run_group_tests_name("pmul_pcap", tests, NULL, NULL);
}
