/*
 * NAME
 *	fuzz_pmul_pdu - libFuzzer target for the P_MUL PDU codec
 * SYNOPSIS
 *	fuzz_pmul_pdu [libFuzzer options] CORPUS_DIR...
 * DESCRIPTION
 *	Each input is one UDP payload.  It is decoded twice, with small
 *	scratch caps and with caps as large as a PDU allows, and the two
 *	answers must agree: small caps may only add PMUL_ERR_CAP or
 *	PMUL_ERR_TOO_LONG.  An accepted PDU is re-encoded: the length must be
 *	the input's and the bytes must be the input's, except where the
 *	encoder normalises (octets 6-7 when an RFC 1071 checksum was
 *	accepted; octets 4-5 on the types that do not use them; octet 2 on
 *	Announce, Request, Reject and Release, whose priority is sent as 0).
 *	The re-encoded PDU must decode to the same fields.  The missing lists
 *	of accepted Ack_PDUs are walked with pmul_missing_next() and counted
 *	with pmul_missing_count(), which must agree.
 *
 *	pmul_pdu_decode_ex() is checked on the same input: with flags 0 it
 *	must return what pmul_pdu_decode() returns, with *first_err equal to
 *	it; with both relaxing flags *first_err must still be the strict
 *	code, it must accept whatever pmul_pdu_decode() accepts with
 *	identical fields, and it may accept more only when the strict code
 *	is LENGTH, TRAILING or CHECKSUM.
 *
 *	Each input is also tried a second time with Length_of_PDU and the
 *	Fletcher checksum rewritten to match, so that mutations reach the
 *	per-type structure checks instead of stopping at the checksum.
 *
 *	Seeds: every vector of tests/vectors/vectors.json (make_seeds.py).
 * SECURITY
 *	Test code: the inputs are hostile on purpose.
 * DIAGNOSTICS
 *	A broken invariant prints what differs and traps, so libFuzzer keeps
 *	the input as a crash artifact.
 * SEE ALSO
 *	pmul/pmul_pdu.h, tests/fuzz/make_seeds.py, tests/fuzz/fuzz_common.h,
 *	tests/fuzz/meson.build.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pmul/pmul_pdu.h"

#define FUZZ_NAME "fuzz_pmul_pdu"
#include "tests/fuzz/fuzz_common.h"

/* Small caps: what a constrained node might configure. */
#define SMALL_DESTS     4
#define SMALL_ACKS      4
#define SMALL_MISSING   16
#define SMALL_IDS       4
#define SMALL_RESERVED  8
#define SMALL_PDU_LEN   1500

/* Large caps: nothing but the PDU structure limits what is accepted. */
#define BIG_CNT         65535

/* The harness is a program: static storage keeps the big arrays off the
 * stack.  Four sets: small, big, big for the re-decode, and big for
 * pmul_pdu_decode_ex(). */
static pmul_dest_entry small_dests[SMALL_DESTS], big_dests[3][BIG_CNT];
static pmul_ack_entry small_acks[SMALL_ACKS], big_acks[3][BIG_CNT];
static uint16_t small_missing[SMALL_MISSING], big_missing[3][BIG_CNT];
static uint32_t small_ids[SMALL_IDS], big_ids[3][BIG_CNT];
static uint8_t out[PMUL_PDU_MAX_LEN];

static void
scratch_small(pmul_pdu_scratch *s)
{
    s->dests = small_dests;
    s->dests_cap = SMALL_DESTS;
    s->acks = small_acks;
    s->acks_cap = SMALL_ACKS;
    s->missing = small_missing;
    s->missing_cap = SMALL_MISSING;
    s->dest_ids = small_ids;
    s->dest_ids_cap = SMALL_IDS;
    s->max_pdu_len = SMALL_PDU_LEN;
    s->max_reserved_len = SMALL_RESERVED;
}

static void
scratch_big(pmul_pdu_scratch *s, int set)
{
    s->dests = big_dests[set];
    s->dests_cap = BIG_CNT;
    s->acks = big_acks[set];
    s->acks_cap = BIG_CNT;
    s->missing = big_missing[set];
    s->missing_cap = BIG_CNT;
    s->dest_ids = big_ids[set];
    s->dest_ids_cap = BIG_CNT;
    s->max_pdu_len = 0;
    s->max_reserved_len = 0xffff;
}

static bool
is_group_mgmt(unsigned type)
{
    return type >= PMUL_PDU_ANNOUNCE && type <= PMUL_PDU_RELEASE;
}

/* Types whose octets 4-5 carry nothing (sent as 0). */
static bool
word45_unused(unsigned type)
{
    return type == PMUL_PDU_ACK || type == PMUL_PDU_DISCARD || type == PMUL_PDU_REQUEST ||
           type == PMUL_PDU_REJECT || type == PMUL_PDU_RELEASE;
}

static bool
same_bytes(const uint8_t *a, const uint8_t *b, size_t n)
{
    return n == 0 || memcmp(a, b, n) == 0;
}

/* Field-by-field equality; priority is compared by the caller. */
static void
check_same(const pmul_pdu *a, const pmul_pdu *b)
{
    size_t i, j;

    CHECK(a->type == b->type, "type %u vs %u", a->type, b->type);
    CHECK(a->map == b->map, "map");
    CHECK(a->length == b->length, "length %u vs %u", a->length, b->length);
    CHECK(a->source_id == b->source_id, "source_id");
    CHECK(a->msid == b->msid, "msid");
    switch (a->type) {
    case PMUL_PDU_DATA:
        CHECK(a->u.data.seq == b->u.data.seq, "seq");
        CHECK(a->u.data.frag_len == b->u.data.frag_len, "frag_len");
        CHECK(same_bytes(a->u.data.frag, b->u.data.frag, a->u.data.frag_len), "frag");
        break;
    case PMUL_PDU_ADDRESS:
    case PMUL_PDU_EXTRA_ADDRESS:
    case PMUL_PDU_FEC_ADDRESS:
    case PMUL_PDU_EXTRA_FEC_ADDRESS:
        CHECK(a->u.address.total_pdus == b->u.address.total_pdus, "total_pdus");
        CHECK(a->u.address.expiry_time == b->u.address.expiry_time, "expiry_time");
        CHECK(a->u.address.fec_id == b->u.address.fec_id, "fec_id");
        CHECK(a->u.address.fec_param_len == b->u.address.fec_param_len, "fec_param_len");
        CHECK(same_bytes(a->u.address.fec_params, b->u.address.fec_params,
                         a->u.address.fec_param_len), "fec_params");
        CHECK(a->u.address.reserved_len == b->u.address.reserved_len, "reserved_len");
        CHECK(a->u.address.dest_cnt == b->u.address.dest_cnt, "dest_cnt");
        for (i = 0; i < a->u.address.dest_cnt; i++) {
            const pmul_dest_entry *x = &a->u.address.dests[i], *y = &b->u.address.dests[i];

            CHECK(x->dest_id == y->dest_id, "dest_id[%zu]", i);
            CHECK(x->msg_seq_no == y->msg_seq_no, "msg_seq_no[%zu]", i);
            CHECK(same_bytes(x->reserved, y->reserved, a->u.address.reserved_len),
                  "reserved[%zu]", i);
        }
        break;
    case PMUL_PDU_ACK:
        CHECK(a->u.ack.entry_cnt == b->u.ack.entry_cnt, "entry_cnt");
        for (i = 0; i < a->u.ack.entry_cnt; i++) {
            const pmul_ack_entry *x = &a->u.ack.entries[i], *y = &b->u.ack.entries[i];

            CHECK(x->source_id == y->source_id, "ack[%zu].source_id", i);
            CHECK(x->msid == y->msid, "ack[%zu].msid", i);
            CHECK(x->missing_cnt == y->missing_cnt, "ack[%zu].missing_cnt", i);
            for (j = 0; j < x->missing_cnt; j++)
                CHECK(x->missing[j] == y->missing[j], "ack[%zu].missing[%zu]", i, j);
        }
        CHECK(a->u.ack.has_timestamp == b->u.ack.has_timestamp, "has_timestamp");
        CHECK(a->u.ack.timestamp == b->u.ack.timestamp, "timestamp");
        break;
    case PMUL_PDU_ANNOUNCE:
        CHECK(a->u.announce.expiry_time == b->u.announce.expiry_time, "expiry_time");
        CHECK(a->u.announce.mcast_group == b->u.announce.mcast_group, "mcast_group");
        CHECK(a->u.announce.dest_cnt == b->u.announce.dest_cnt, "dest_cnt");
        for (i = 0; i < a->u.announce.dest_cnt; i++)
            CHECK(a->u.announce.dest_ids[i] == b->u.announce.dest_ids[i], "dest_ids[%zu]", i);
        break;
    case PMUL_PDU_REQUEST:
    case PMUL_PDU_REJECT:
    case PMUL_PDU_RELEASE:
        CHECK(a->u.group.mcast_group == b->u.group.mcast_group, "mcast_group");
        break;
    default:
        break;
    }
}

/* Walk every missing list: ranges ascend, never include 0, and their sizes
 * add up to pmul_missing_count(). */
static void
check_missing(const pmul_pdu *p)
{
    size_t i, pos, steps;
    uint32_t n, prev_hi;
    uint16_t lo, hi;

    for (i = 0; i < p->u.ack.entry_cnt; i++) {
        const pmul_ack_entry *e = &p->u.ack.entries[i];

        pos = 0;
        n = 0;
        prev_hi = 0;
        steps = 0;
        while (pmul_missing_next(e->missing, e->missing_cnt, &pos, &lo, &hi)) {
            CHECK(lo >= 1 && lo <= hi, "range %u..%u", lo, hi);
            CHECK(lo > prev_hi, "range %u..%u after %u", lo, hi, prev_hi);
            CHECK(pos <= e->missing_cnt, "pos %zu past %u words", pos, e->missing_cnt);
            CHECK(++steps <= e->missing_cnt, "more ranges than words");
            n += (uint32_t)(hi - lo) + 1;
            prev_hi = hi;
        }
        CHECK(n == pmul_missing_count(e->missing, e->missing_cnt), "count %u vs %u", n,
              pmul_missing_count(e->missing, e->missing_cnt));
        CHECK(n <= 65535, "count %u", n);
    }
}

/*
 * pmul_pdu_decode_ex() against pmul_pdu_decode()'s answer rb (and its
 * fields *strict when rb is 0).  Its scratch is the third big set: the
 * caller's lists must stay intact for the re-encoding checks.
 */
static void
check_decode_ex(const uint8_t *data, size_t size, int rb, const pmul_pdu *strict)
{
    const unsigned both = PMUL_DECODE_ANY_LENGTH | PMUL_DECODE_ANY_CKSUM;
    pmul_pdu_scratch sx;
    pmul_pdu ex;
    int rx, first;

    memset(&sx, 0, sizeof(sx));
    scratch_big(&sx, 2);
    rx = pmul_pdu_decode_ex(&ex, &sx, data, size, 0, &first);
    CHECK(rx == rb && first == rb, "decode_ex flags 0: %d / %d, decode %d", rx, first, rb);
    if (rb == 0)
        check_same(strict, &ex);

    rx = pmul_pdu_decode_ex(&ex, &sx, data, size, both, &first);
    CHECK(rx <= 0, "decode_ex: positive return %d", rx);
    CHECK(first == rb, "decode_ex: first_err %s, decode %s", pmul_errname(first),
          pmul_errname(rb));
    if (rb == 0) {
        CHECK(rx == 0, "decode_ex rejects (%s) what decode accepts", pmul_errname(rx));
        check_same(strict, &ex);
        CHECK(ex.priority == strict->priority, "decode_ex: priority");
        CHECK(ex.checksum == strict->checksum, "decode_ex: checksum");
        CHECK(ex.cksum_kind == strict->cksum_kind, "decode_ex: cksum_kind");
        return;
    }
    CHECK(rx != 0 || rb == PMUL_ERR_LENGTH || rb == PMUL_ERR_TRAILING ||
          rb == PMUL_ERR_CHECKSUM, "decode_ex relaxed past %s", pmul_errname(rb));
}

/* All checks on one datagram. */
static void
one(const uint8_t *data, size_t size)
{
    pmul_pdu_scratch ss, sb, sb2;
    pmul_pdu small, bigp, again;
    bool changed = false;
    ssize_t n;
    size_t i;
    int rs, rb;

    memset(&ss, 0, sizeof(ss));
    memset(&sb, 0, sizeof(sb));
    memset(&sb2, 0, sizeof(sb2));
    scratch_small(&ss);
    scratch_big(&sb, 0);
    scratch_big(&sb2, 1);

    rs = pmul_pdu_decode(&small, &ss, data, size);
    rb = pmul_pdu_decode(&bigp, &sb, data, size);
    CHECK(rs <= 0 && rb <= 0, "positive return %d / %d", rs, rb);
    CHECK(rb == 0 || rb > PMUL_ERR_FATAL, "fatal code %d from the decoder", rb);
    check_decode_ex(data, size, rb, &bigp);
    if (rb != 0) {
        /* Smaller caps never make a bad PDU acceptable. */
        CHECK(rs != 0, "small caps accept what large caps reject (%s)", pmul_errname(rb));
        return;
    }
    if (rs != 0) {
        CHECK(rs == PMUL_ERR_CAP || rs == PMUL_ERR_TOO_LONG,
              "small caps: %s for a PDU large caps accept", pmul_errname(rs));
    } else {
        check_same(&small, &bigp);
        CHECK(small.priority == bigp.priority, "priority");
        CHECK(small.cksum_kind == bigp.cksum_kind, "cksum_kind");
    }

    /* Accepted: re-encode. */
    CHECK(bigp.length == size, "length %u, datagram %zu", bigp.length, size);
    CHECK(bigp.cksum_kind == PMUL_CKSUM_FLETCHER || bigp.cksum_kind == PMUL_CKSUM_INET,
          "cksum_kind %u", bigp.cksum_kind);
    CHECK(pmul_pdu_encoded_len(&bigp) == (ssize_t)size, "encoded_len %zd vs %zu",
          pmul_pdu_encoded_len(&bigp), size);
    n = pmul_pdu_encode(&bigp, out, sizeof(out));
    CHECK(n == (ssize_t)size, "encode gave %zd for %zu octets", n, size);
    for (i = 0; i < size; i++) {
        bool normalised = ((i == 4 || i == 5) && word45_unused(bigp.type)) ||
                          (i == 2 && is_group_mgmt(bigp.type));

        if (i == 6 || i == 7)
            continue;
        if (normalised) {
            CHECK(out[i] == 0, "unused octet %zu sent as 0x%02x", i, out[i]);
            changed |= out[i] != data[i];
            continue;
        }
        CHECK(out[i] == data[i], "octet %zu: 0x%02x re-encoded as 0x%02x", i, data[i], out[i]);
    }
    /* Same octets with a Fletcher checksum: the same checksum. */
    if (bigp.cksum_kind == PMUL_CKSUM_FLETCHER && !changed)
        CHECK(out[6] == data[6] && out[7] == data[7], "Fletcher checksum changed");

    rb = pmul_pdu_decode(&again, &sb2, out, (size_t)n);
    CHECK(rb == 0, "re-encoded PDU rejected: %s", pmul_errname(rb));
    CHECK(again.cksum_kind == PMUL_CKSUM_FLETCHER, "we must emit Fletcher");
    check_same(&bigp, &again);
    CHECK(again.priority == (is_group_mgmt(bigp.type) ? 0 : bigp.priority), "priority");

    if (bigp.type == PMUL_PDU_ACK)
        check_missing(&bigp);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *fixed;

    one(data, size);
    /*
     * Random mutations almost never carry a valid checksum and length, so
     * the same octets are tried again with Length_of_PDU set to the size
     * and the Fletcher checksum filled in: that reaches the structure
     * checks of every type.  The copy is exactly size octets (ASan).
     */
    if (size >= PMUL_HDR_LEN && size <= PMUL_PDU_MAX_LEN) {
        fixed = malloc(size);
        if (fixed == NULL)
            return 0;
        memcpy(fixed, data, size);
        fixed[0] = (uint8_t)(size >> 8);
        fixed[1] = (uint8_t)size;
        fixed[6] = fixed[7] = 0;
        {
            uint16_t ck = pmul_cksum_fletcher(fixed, size);

            fixed[6] = (uint8_t)(ck >> 8);
            fixed[7] = (uint8_t)ck;
        }
        one(fixed, size);
        free(fixed);
    }
    return 0;
}
