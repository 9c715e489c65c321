/*
 * test_pmul_pdu.h: shared pieces of the pmul_pdu unit test (private to
 * tests/unit/test_pmul_pdu.c and tests/unit/test_pmul_pdu_bounds.c).
 *
 * The test is one cmocka executable split over two files by concern:
 * test_pmul_pdu.c holds the vectors, the hand-written expectations and the
 * tests against them; test_pmul_pdu_bounds.c the malformed, truncated,
 * maximal and overflowing PDUs and the encoder's limits.
 */
#ifndef TEST_PMUL_PDU_H
#define TEST_PMUL_PDU_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pmul/pmul_pdu.h"

/* Table-driven checks that say which vector and field: "got X, want Y". */
#define CHECK_EQ(ctx, what, got, want) do {                                  \
        unsigned long long g_ = (unsigned long long)(got);                   \
        unsigned long long w_ = (unsigned long long)(want);                  \
        if (g_ != w_)                                                         \
            fail_msg("%s: %s: got %llu (0x%llx), want %llu (0x%llx)",        \
                     (ctx), (what), g_, g_, w_, w_);                          \
    } while (0)

#define CHECK_ERR(ctx, got, want) do {                                        \
        int g_ = (int)(got), w_ = (int)(want);                                \
        if (g_ != w_)                                                         \
            fail_msg("%s: got %d %s, want %d %s", (ctx), g_,                  \
                     pmul_errname(g_), w_, pmul_errname(w_));                 \
    } while (0)

#define CHECK_MEM(ctx, what, got, want, n) do {                              \
        if ((n) > 0 && memcmp((got), (want), (n)) != 0)                       \
            fail_msg("%s: %s: %zu octets differ", (ctx), (what), (size_t)(n)); \
    } while (0)

/* Node IDs, times and MSIDs used by the vector generator. */
#define IP(a, b, c, d) \
    ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))
#define SENDER  IP(192, 0, 2, 1)
#define RX1     IP(192, 0, 2, 2)
#define RX2     IP(192, 0, 2, 3)
#define GROUP9  IP(239, 0, 0, 9)
#define EXPIRY  0x6553ff10u             /* 1700003600, 2023-11-14 23:13:20 UTC */
#define MSID1   0x00010001u
#define MSID2   0x00010002u
#define MSID3   0x00010003u
#define MSID4   0x00010004u
#define MSID5   0x00030001u

#define BIG     65535u                  /* scratch capacity of the fixture */

typedef struct vec {
    const char *name;
    const char *hex;
} vec;

typedef struct want_dest {
    uint32_t id;
    uint32_t msn;
} want_dest;

typedef struct want_ack {
    uint32_t src;
    uint32_t msid;
    uint16_t nwords;
    uint16_t words[8];          /* raw Missing_Data_PDU_Seq_Number words */
    uint16_t nexp;
    uint16_t expanded[8];       /* the missing set they name */
} want_ack;

typedef struct want {
    const char *name;
    uint8_t type, priority, map, cksum_kind;
    uint16_t checksum;
    uint32_t source_id, msid;
    /* Data_PDU */
    uint16_t seq;
    const char *frag_text;      /* literal fragment, or */
    const char *frag_blob;      /* a slice of a CompressedData blob */
    size_t frag_off, frag_len;
    /* Address family */
    uint16_t total_pdus;
    uint32_t expiry;
    uint8_t fec_id, fec_param_len;
    const char *fec_params;
    uint16_t reserved_len;
    const char *reserved;       /* the same for every entry in these vectors */
    uint16_t dest_cnt;
    want_dest dests[2];
    /* Ack_PDU */
    uint16_t entry_cnt;
    want_ack acks[2];
    bool has_ts;
    uint64_t ts;
    /* Announce, Request, Reject, Release */
    uint32_t group;
    uint16_t id_cnt;
    uint32_t ids[2];
} want;

extern const want wants[];      /* every good vector, by hand */
extern const size_t n_wants;

typedef struct fixture {
    pmul_dest_entry *dests;
    pmul_ack_entry *acks;
    uint16_t *missing;
    uint32_t *ids;
    pmul_pdu_scratch s;
} fixture;

/* Helpers (test_pmul_pdu.c). */
uint8_t *hex_decode(const char *hex, size_t *len);
uint8_t *dup_bytes(const uint8_t *p, size_t n);
void put16(uint8_t *p, size_t off, uint16_t v);
uint16_t get16(const uint8_t *p, size_t off);
void refresh_cksum(uint8_t *p, size_t len);
uint8_t *vec_bytes(const char *name, size_t *len);
int setup(void **state);
int teardown(void **state);
pmul_pdu_scratch *big(fixture *f);
int decode_big(fixture *f, pmul_pdu *pdu, const uint8_t *p, size_t len);
void check_same_pdu(const char *ctx, const pmul_pdu *a, const pmul_pdu *b);

/* Tests (test_pmul_pdu_bounds.c). */
void test_pmul_pdu_decode_unknown_type(void **state);
void test_pmul_pdu_decode_map(void **state);
void test_pmul_pdu_decode_ack_zero_entries(void **state);
void test_pmul_pdu_decode_ack_trailer(void **state);
void test_pmul_pdu_decode_length_fields(void **state);
void test_pmul_pdu_decode_length_of_pdu(void **state);
void test_pmul_pdu_decode_dest_count_short(void **state);
void test_pmul_pdu_decode_caps(void **state);
void test_pmul_pdu_decode_size_limits(void **state);
void test_pmul_pdu_decode_truncated(void **state);
void test_pmul_pdu_decode_truncated_consistent(void **state);
void test_pmul_pdu_max_address(void **state);
void test_pmul_pdu_max_ack(void **state);
void test_pmul_pdu_max_announce_data(void **state);
void test_pmul_pdu_decode_overflow_counts(void **state);
void test_pmul_pdu_encode_nospace(void **state);
void test_pmul_pdu_encode_rejects(void **state);
void test_pmul_pdu_encode_priority(void **state);

#endif
