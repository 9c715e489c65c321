/*
 * NAME
 *	test_pmul_pdu - unit tests for the P_MUL PDU codec
 * SYNOPSIS
 *	meson test -C BUILD --no-rebuild -v pmul_pdu
 * DESCRIPTION
 *	Checks pmul/pmul_pdu.c against hand-built expectations, never against
 *	itself: every P_MUL PDU of tests/vectors/vectors.json is embedded
 *	below as hex, and its fields are written out by hand from the
 *	generator's arguments (../shared/spec/vectors/gen_pmul_vectors.py) and
 *	tshark's view of each frame (tests/vectors/vectors.txt).
 *
 *	Covered: decoding of every vector to the expected fields; byte-exact
 *	re-encoding; the negative vectors and further malformed PDUs, each
 *	with its specific code; the worked Fletcher example of docs/wire.md
 *	3.2 and a per-spec reference implementation of both checksums; a
 *	truncation loop for every PDU type on heap copies of exactly the
 *	prefix length (ASan catches any over-read); every length and count
 *	field at +1/-1 with the checksum recomputed; maximum counts that fill
 *	65535 octets and counts that would overflow; the encoder's bounds
 *	(guard byte after cap) and its refusals; the missing-list walkers;
 *	the error table.
 *
 *	This file holds the vectors, the expectations and the tests against
 *	them; test_pmul_pdu_bounds.c the malformed, truncated and maximal
 *	PDUs and the encoder's limits (one executable, split by concern).
 *
 *	Rows that expect PMUL_ERR_DEST_COUNT are kept in their own test
 *	(test_pmul_pdu_decode_dest_count_short): the decoder currently reports
 *	those PDUs as PMUL_ERR_TRAILING.
 * SECURITY
 *	Test code; feeds the decoder hostile bytes on purpose.
 * DIAGNOSTICS
 *	cmocka; mismatches print "vector: field: got X, want Y".
 * SEE ALSO
 *	test_pmul_pdu_bounds.c, pmul/pmul_pdu.h, docs/wire.md, tests/vectors/vectors.txt.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "test_pmul_pdu.h"

/* ---- helpers ---------------------------------------------------------- */

static int
nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Heap copy of a hex string, exactly as long as the bytes (ASan-tight). */
uint8_t *
hex_decode(const char *hex, size_t *len)
{
    size_t n = strlen(hex) / 2, i;
    uint8_t *p = malloc(n > 0 ? n : 1);

    assert_non_null(p);
    for (i = 0; i < n; i++) {
        int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);

        assert_true(hi >= 0 && lo >= 0);
        p[i] = (uint8_t)(hi << 4 | lo);
    }
    *len = n;
    return p;
}

uint8_t *
dup_bytes(const uint8_t *p, size_t n)
{
    uint8_t *q = malloc(n > 0 ? n : 1);

    assert_non_null(q);
    if (n > 0)
        memcpy(q, p, n);
    return q;
}

void
put16(uint8_t *p, size_t off, uint16_t v)
{
    p[off] = (uint8_t)(v >> 8);
    p[off + 1] = (uint8_t)v;
}

uint16_t
get16(const uint8_t *p, size_t off)
{
    return (uint16_t)(p[off] << 8 | p[off + 1]);
}

/* Recompute the Fletcher checksum after an edit, so that the decoder gets
 * past its checksum test and reaches the structural check under test. */
void
refresh_cksum(uint8_t *p, size_t len)
{
    put16(p, 6, pmul_cksum_fletcher(p, len));
}

/* ---- the vectors (tests/vectors/vectors.json) --------------------------- */

static const vec vecs[] = {
    { "ack_bad_range", "001e00010000fc36c000020200010010c000020100030001000900000007" },
    { "ack_complete_rx1", "00180301000088c5c00002020001000ac000020100010001" },
    { "ack_complete_rx2", "0018030100008cc0c00002030001000ac000020100010001" },
    { "ack_entry_len_8", "001800010000a3adc000020200010008c000020100030001" },
    { "ack_missing_2", "001a03010000b492c00002030001000cc0000201000100010002" },
    { "ack_range_ts", "003402010000467cc000020200020014c0000201000100040002000500070000"
                      "0009000ac000020100010001000000000000007b" },
    { "ack_zero_entry", "001a00010000b793c00002020001000cc0000201000300010000" },
    { "address_2dest", "0028030200022c87c0000201000100016553ff1000020000c00002020000000"
                       "1c000020300000001" },
    { "address_ackack", "001803020002bf92c0000201000100016553ff1000000000" },
    { "address_map_first", "002405420000f506c0000201000100036553ff1000010004c00002020000"
                           "0003deadbeef" },
    { "address_map_last", "00240582000009b1c0000201000100036553ff1000010004c000020300000"
                          "003deadbeef" },
    { "address_msg2", "002801020001783bc0000201000100026553ff1000020000c000020200000002"
                      "c000020300000002" },
    { "address_retx_rx2", "002003020002e49dc0000201000100016553ff1000010000c00002030000"
                          "0001" },
    { "announce", "002000040002c7fdc0000201000100036553ff10ef000009c0000202c0000203" },
    { "data_bad_length", "0028000000013072c00002010003000178797a" },
    { "data_seq1", "002b03000001fd0ec00002010001000148656c6c6f20505f4d554c20667261676d"
                   "656e74206f6e65202f20" },
    { "data_seq2", "001d03000002b95dc000020100010001667261676d656e742074776f2e" },
    { "data_seq2_retx", "001d03000002b95dc000020100010001667261676d656e742074776f2e" },
    { "data_seq_zero", "001300000000b008c00002010003000178797a" },
    { "discard_bad_cksum", "00100003000022f6c000020100030001" },
    { "discard_cksum_x00_as_ff", "001000030000fff4c000020100000034" },
    { "discard_cksum_x00_ok", "00100003000000f4c000020100000034" },
    { "discard_inet_cksum", "0010000300003de7c000020100030001" },
    { "discard_msg2", "0010010300006fb5c000020100010002" },
    { "discard_trailing_octets", "00100003000078acc00002010003000100000000" },
    { "extra_address", "00200212000ae580c0000201000100046553ff1000010000c000020200000004" },
    { "extra_fec_address", "00260218000a9da8c0000201000100046553ff10040500080002000100"
                           "00c000020300000004" },
    { "fec_address", "002e0208000a4044c0000201000100046553ff1004050008000200020000c0000"
                     "20200000004c000020300000004" },
    { "mule_address_explicit", "002004020002aacdc0000201000200016553ff1000010000c000020"
                               "20000000a" },
    { "mule_address_implicit", "002004020002caabc0000201000200026553ff1000010000c000020"
                               "20000000b" },
    { "mule_data_explicit_1", "003f040000019adec000020100020001305ba0030201003054a003020"
                              "119a04d044b789cb349ccc94c4e7548d44bad48cc2dc849b5e3e5b249"
                              "ca4f72484212" },
    { "mule_data_explicit_2", "003e040000028e2bc000020100020001e0e5722bcacfb5524053cacb1"
                              "5926fa580a298972bb834292b35b9c44a212313a431233527279f970b"
                              "00a9982017" },
    { "mule_data_implicit_1", "003d04000001e221c00002010002000230578001003052800119a04d0"
                              "44b789cb349ccc94c4e7548d44bad48cc2dc849b5e3e5b249ca4f7248"
                              "4212e0e5" },
    { "mule_data_implicit_2", "003c04000002d6aac000020100020002722bcacfb5524053cacb15926"
                              "fa580a298972bb834292b35b9c44a212313a431233527279f970b00a9"
                              "982017" },
    { "reject", "00140006000034f0c000020100010003ef000009" },
    { "release", "00140007000030f3c000020100010003ef000009" },
    { "request", "00140005000038edc000020100010003ef000009" },
    { "rfc8494_ex_address", "002004020001ec88c0000201000200036553ff1000010000c0000202000"
                            "0000c" },
    { "rfc8494_ex_data",
      "014a040000019e4ac00002010002000330820136a0030201003082012da003020119a0820124048201"
      "20789c6d8fd14ec2401045dff72be65d8add8a521796006d899b580aed42c263295ba881dd663b44fc"
      "7b4b62d488c9641e26774ece1d96d69cc6ea929feaa3ea16e63482583a8b5424a9901bde8369126eb8"
      "3f15321671046924f94b986610cdd722e4cbe503edd1c767324443bf295ae108e68914b30d9f4dc4eb"
      "2a8d20498385e4b62c7ccf1b4ccd76ac34767f3d5c09debf846c1504519675be4884cc5a63067fbd89"
      "340ca4a170a3d269cf1edcf04998a362e0f561525bf05cda07fac4da7de752d725d979fba60a649003"
      "aa06c9b5beb356b6a98c6640bb2e098cc6b685831f75cb4175c1fbfa98577a00c521b78d427ec6d2f1"
      "7f7236d74da9aca374617695de33f0b71512220f5503edbc1b8b0718d6e6ac774db5d7a3abc72753a1"
      "84b6" },
};

/* The CompressedData blobs (not PDUs) that the MULE Data_PDUs carry. */
static const vec blobs[] = {
    { "cdt_explicit",
      "305ba0030201003054a003020119a04d044b789cb349ccc94c4e7548d44bad48cc2dc849b5e3e5b249"
      "ca4f72484212e0e5722bcacfb5524053cacb15926fa580a298972bb834292b35b9c44a212313a43123"
      "3527279f970b00a9982017" },
    { "cdt_implicit",
      "30578001003052800119a04d044b789cb349ccc94c4e7548d44bad48cc2dc849b5e3e5b249ca4f7248"
      "4212e0e5722bcacfb5524053cacb15926fa580a298972bb834292b35b9c44a212313a431233527279f"
      "970b00a9982017" },
    { "cdt_rfc8494_example",
      "30820136a0030201003082012da003020119a082012404820120789c6d8fd14ec2401045dff72be65d"
      "8add8a521796006d899b580aed42c263295ba881dd663b44fc7b4b62d488c9641e26774ece1d96d69c"
      "c6ea929feaa3ea16e63482583a8b5424a9901bde8369126eb83f15321671046924f94b986610cdd722"
      "e4cbe503edd1c767324443bf295ae108e68914b30d9f4dc4eb2a8d20498385e4b62c7ccf1b4ccd76ac"
      "34767f3d5c09debf846c1504519675be4884cc5a63067fbd89340ca4a170a3d269cf1edcf04998a362"
      "e0f561525bf05cda07fac4da7de752d725d979fba60a649003aa06c9b5beb356b6a98c6640bb2e098c"
      "c6b685831f75cb4175c1fbfa98577a00c521b78d427ec6d2f17f7236d74da9aca374617695de33f0b7"
      "1512220f5503edbc1b8b0718d6e6ac774db5d7a3abc72753a184b6" },
};

static const char *
find_hex(const vec *tab, size_t n, const char *name)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcmp(tab[i].name, name) == 0)
            return tab[i].hex;
    fail_msg("no vector named %s", name);
    return NULL;
}

uint8_t *
vec_bytes(const char *name, size_t *len)
{
    return hex_decode(find_hex(vecs, sizeof(vecs) / sizeof(vecs[0]), name), len);
}

/* ---- expected fields, by hand ------------------------------------------ */

#define FL PMUL_CKSUM_FLETCHER
#define IN PMUL_CKSUM_INET

const want wants[] = {
    /* pmul_basic.pcap */
    { .name = "address_2dest", .type = PMUL_PDU_ADDRESS, .priority = 3, .cksum_kind = FL,
      .checksum = 0x2c87, .source_id = SENDER, .msid = MSID1, .total_pdus = 2,
      .expiry = EXPIRY, .dest_cnt = 2, .dests = { { RX1, 1 }, { RX2, 1 } } },
    { .name = "data_seq1", .type = PMUL_PDU_DATA, .priority = 3, .cksum_kind = FL,
      .checksum = 0xfd0e, .source_id = SENDER, .msid = MSID1, .seq = 1,
      .frag_text = "Hello P_MUL fragment one / ", .frag_len = 27 },
    { .name = "data_seq2", .type = PMUL_PDU_DATA, .priority = 3, .cksum_kind = FL,
      .checksum = 0xb95d, .source_id = SENDER, .msid = MSID1, .seq = 2,
      .frag_text = "fragment two.", .frag_len = 13 },
    { .name = "ack_missing_2", .type = PMUL_PDU_ACK, .priority = 3, .cksum_kind = FL,
      .checksum = 0xb492, .source_id = RX2, .entry_cnt = 1,
      .acks = { { SENDER, MSID1, 1, { 2 }, 1, { 2 } } } },
    { .name = "ack_complete_rx1", .type = PMUL_PDU_ACK, .priority = 3, .cksum_kind = FL,
      .checksum = 0x88c5, .source_id = RX1, .entry_cnt = 1,
      .acks = { { SENDER, MSID1, 0, { 0 }, 0, { 0 } } } },
    { .name = "address_retx_rx2", .type = PMUL_PDU_ADDRESS, .priority = 3, .cksum_kind = FL,
      .checksum = 0xe49d, .source_id = SENDER, .msid = MSID1, .total_pdus = 2,
      .expiry = EXPIRY, .dest_cnt = 1, .dests = { { RX2, 1 } } },
    { .name = "data_seq2_retx", .type = PMUL_PDU_DATA, .priority = 3, .cksum_kind = FL,
      .checksum = 0xb95d, .source_id = SENDER, .msid = MSID1, .seq = 2,
      .frag_text = "fragment two.", .frag_len = 13 },
    { .name = "ack_complete_rx2", .type = PMUL_PDU_ACK, .priority = 3, .cksum_kind = FL,
      .checksum = 0x8cc0, .source_id = RX2, .entry_cnt = 1,
      .acks = { { SENDER, MSID1, 0, { 0 }, 0, { 0 } } } },
    { .name = "address_ackack", .type = PMUL_PDU_ADDRESS, .priority = 3, .cksum_kind = FL,
      .checksum = 0xbf92, .source_id = SENDER, .msid = MSID1, .total_pdus = 2,
      .expiry = EXPIRY, .dest_cnt = 0 },
    { .name = "address_msg2", .type = PMUL_PDU_ADDRESS, .priority = 1, .cksum_kind = FL,
      .checksum = 0x783b, .source_id = SENDER, .msid = MSID2, .total_pdus = 1,
      .expiry = EXPIRY, .dest_cnt = 2, .dests = { { RX1, 2 }, { RX2, 2 } } },
    { .name = "discard_msg2", .type = PMUL_PDU_DISCARD, .priority = 1, .cksum_kind = FL,
      .checksum = 0x6fb5, .source_id = SENDER, .msid = MSID2 },
    /* pmul_types.pcap */
    { .name = "request", .type = PMUL_PDU_REQUEST, .cksum_kind = FL, .checksum = 0x38ed,
      .source_id = SENDER, .msid = MSID3, .group = GROUP9 },
    { .name = "reject", .type = PMUL_PDU_REJECT, .cksum_kind = FL, .checksum = 0x34f0,
      .source_id = SENDER, .msid = MSID3, .group = GROUP9 },
    { .name = "release", .type = PMUL_PDU_RELEASE, .cksum_kind = FL, .checksum = 0x30f3,
      .source_id = SENDER, .msid = MSID3, .group = GROUP9 },
    { .name = "announce", .type = PMUL_PDU_ANNOUNCE, .cksum_kind = FL, .checksum = 0xc7fd,
      .source_id = SENDER, .msid = MSID3, .expiry = EXPIRY, .group = GROUP9,
      .id_cnt = 2, .ids = { RX1, RX2 } },
    { .name = "address_map_first", .type = PMUL_PDU_ADDRESS, .priority = 5,
      .map = PMUL_MAP_NOT_LAST, .cksum_kind = FL, .checksum = 0xf506, .source_id = SENDER,
      .msid = MSID3, .total_pdus = 0, .expiry = EXPIRY, .reserved_len = 4,
      .reserved = "\xde\xad\xbe\xef", .dest_cnt = 1, .dests = { { RX1, 3 } } },
    { .name = "address_map_last", .type = PMUL_PDU_ADDRESS, .priority = 5,
      .map = PMUL_MAP_NOT_FIRST, .cksum_kind = FL, .checksum = 0x09b1, .source_id = SENDER,
      .msid = MSID3, .total_pdus = 0, .expiry = EXPIRY, .reserved_len = 4,
      .reserved = "\xde\xad\xbe\xef", .dest_cnt = 1, .dests = { { RX2, 3 } } },
    { .name = "fec_address", .type = PMUL_PDU_FEC_ADDRESS, .priority = 2, .cksum_kind = FL,
      .checksum = 0x4044, .source_id = SENDER, .msid = MSID4, .total_pdus = 10,
      .expiry = EXPIRY, .fec_id = 5, .fec_param_len = 4, .fec_params = "\x00\x08\x00\x02",
      .dest_cnt = 2, .dests = { { RX1, 4 }, { RX2, 4 } } },
    { .name = "extra_address", .type = PMUL_PDU_EXTRA_ADDRESS, .priority = 2,
      .cksum_kind = FL, .checksum = 0xe580, .source_id = SENDER, .msid = MSID4,
      .total_pdus = 10, .expiry = EXPIRY, .dest_cnt = 1, .dests = { { RX1, 4 } } },
    { .name = "extra_fec_address", .type = PMUL_PDU_EXTRA_FEC_ADDRESS, .priority = 2,
      .cksum_kind = FL, .checksum = 0x9da8, .source_id = SENDER, .msid = MSID4,
      .total_pdus = 10, .expiry = EXPIRY, .fec_id = 5, .fec_param_len = 4,
      .fec_params = "\x00\x08\x00\x02", .dest_cnt = 1, .dests = { { RX2, 4 } } },
    /* Words 2, 5, 7, 0, 9 name 2, 5 and 7..9 (tshark: "Missing seq numbers: 5");
     * the timestamp is 123 (12.3 s). */
    { .name = "ack_range_ts", .type = PMUL_PDU_ACK, .priority = 2, .cksum_kind = FL,
      .checksum = 0x467c, .source_id = RX1, .entry_cnt = 2,
      .acks = { { SENDER, MSID4, 5, { 2, 5, 7, 0, 9 }, 5, { 2, 5, 7, 8, 9 } },
                { SENDER, MSID1, 0, { 0 }, 0, { 0 } } },
      .has_ts = true, .ts = 123 },
    /* pmul_mule_cdt.pcap: each CompressedData split in two halves, the
     * first (len + 1) / 2 octets in Data_PDU 1. */
    { .name = "mule_address_explicit", .type = PMUL_PDU_ADDRESS, .priority = 4,
      .cksum_kind = FL, .checksum = 0xaacd, .source_id = SENDER, .msid = 0x00020001,
      .total_pdus = 2, .expiry = EXPIRY, .dest_cnt = 1, .dests = { { RX1, 10 } } },
    { .name = "mule_data_explicit_1", .type = PMUL_PDU_DATA, .priority = 4, .cksum_kind = FL,
      .checksum = 0x9ade, .source_id = SENDER, .msid = 0x00020001, .seq = 1,
      .frag_blob = "cdt_explicit", .frag_off = 0, .frag_len = 47 },
    { .name = "mule_data_explicit_2", .type = PMUL_PDU_DATA, .priority = 4, .cksum_kind = FL,
      .checksum = 0x8e2b, .source_id = SENDER, .msid = 0x00020001, .seq = 2,
      .frag_blob = "cdt_explicit", .frag_off = 47, .frag_len = 46 },
    { .name = "mule_address_implicit", .type = PMUL_PDU_ADDRESS, .priority = 4,
      .cksum_kind = FL, .checksum = 0xcaab, .source_id = SENDER, .msid = 0x00020002,
      .total_pdus = 2, .expiry = EXPIRY, .dest_cnt = 1, .dests = { { RX1, 11 } } },
    { .name = "mule_data_implicit_1", .type = PMUL_PDU_DATA, .priority = 4, .cksum_kind = FL,
      .checksum = 0xe221, .source_id = SENDER, .msid = 0x00020002, .seq = 1,
      .frag_blob = "cdt_implicit", .frag_off = 0, .frag_len = 45 },
    { .name = "mule_data_implicit_2", .type = PMUL_PDU_DATA, .priority = 4, .cksum_kind = FL,
      .checksum = 0xd6aa, .source_id = SENDER, .msid = 0x00020002, .seq = 2,
      .frag_blob = "cdt_implicit", .frag_off = 45, .frag_len = 44 },
    { .name = "rfc8494_ex_address", .type = PMUL_PDU_ADDRESS, .priority = 4,
      .cksum_kind = FL, .checksum = 0xec88, .source_id = SENDER, .msid = 0x00020003,
      .total_pdus = 1, .expiry = EXPIRY, .dest_cnt = 1, .dests = { { RX1, 12 } } },
    { .name = "rfc8494_ex_data", .type = PMUL_PDU_DATA, .priority = 4, .cksum_kind = FL,
      .checksum = 0x9e4a, .source_id = SENDER, .msid = 0x00020003, .seq = 1,
      .frag_blob = "cdt_rfc8494_example", .frag_off = 0, .frag_len = 314 },
    /* pmul_badcksum.pcap, the two that tshark accepts. */
    { .name = "discard_inet_cksum", .type = PMUL_PDU_DISCARD, .cksum_kind = IN,
      .checksum = 0x3de7, .source_id = SENDER, .msid = MSID5 },
    { .name = "discard_cksum_x00_ok", .type = PMUL_PDU_DISCARD, .cksum_kind = FL,
      .checksum = 0x00f4, .source_id = SENDER, .msid = 52 },
};

const size_t n_wants = sizeof(wants) / sizeof(wants[0]);
#define N_WANTS n_wants

/* Negative vectors and the code each must give. */
static const struct {
    const char *name;
    int err;
} rejects[] = {
    { "discard_bad_cksum", PMUL_ERR_CHECKSUM },
    { "discard_cksum_x00_as_ff", PMUL_ERR_CHECKSUM },
    { "data_bad_length", PMUL_ERR_LENGTH },
    { "discard_trailing_octets", PMUL_ERR_TRAILING },
    { "data_seq_zero", PMUL_ERR_SEQ_ZERO },
    { "ack_entry_len_8", PMUL_ERR_ACK_ENTRY_LEN },
    { "ack_bad_range", PMUL_ERR_ACK_RANGE },
    { "ack_zero_entry", PMUL_ERR_ACK_MISSING },
};

/* ---- fixture: scratch with large caps ---------------------------------- */

int
setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return -1;
    f->dests = calloc(BIG, sizeof(*f->dests));
    f->acks = calloc(BIG, sizeof(*f->acks));
    f->missing = calloc(BIG, sizeof(*f->missing));
    f->ids = calloc(BIG, sizeof(*f->ids));
    if (f->dests == NULL || f->acks == NULL || f->missing == NULL || f->ids == NULL)
        return -1;
    *state = f;
    return 0;
}

int
teardown(void **state)
{
    fixture *f = *state;

    free(f->dests);
    free(f->acks);
    free(f->missing);
    free(f->ids);
    free(f);
    return 0;
}

/* Large caps: only the PDU structure limits what is accepted. */
pmul_pdu_scratch *
big(fixture *f)
{
    f->s.dests = f->dests;
    f->s.dests_cap = BIG;
    f->s.acks = f->acks;
    f->s.acks_cap = BIG;
    f->s.missing = f->missing;
    f->s.missing_cap = BIG;
    f->s.dest_ids = f->ids;
    f->s.dest_ids_cap = BIG;
    f->s.max_pdu_len = 0;
    f->s.max_reserved_len = 0xffff;
    return &f->s;
}

int
decode_big(fixture *f, pmul_pdu *pdu, const uint8_t *p, size_t len)
{
    return pmul_pdu_decode(pdu, big(f), p, len);
}

/* ---- field comparison --------------------------------------------------- */

static void
check_missing(const char *ctx, const pmul_ack_entry *e, const want_ack *wa)
{
    uint16_t lo, hi, v, got[8];
    size_t pos = 0, n = 0, i;

    CHECK_EQ(ctx, "ack.source_id", e->source_id, wa->src);
    CHECK_EQ(ctx, "ack.msid", e->msid, wa->msid);
    CHECK_EQ(ctx, "ack.missing_cnt", e->missing_cnt, wa->nwords);
    for (i = 0; i < wa->nwords; i++)
        CHECK_EQ(ctx, "ack.missing word", e->missing[i], wa->words[i]);
    if (wa->nwords == 0)
        CHECK_EQ(ctx, "ack.missing (NULL when empty)", e->missing == NULL, 1);
    while (pmul_missing_next(e->missing, e->missing_cnt, &pos, &lo, &hi)) {
        for (v = lo;; v++) {
            assert_true(n < 8);
            got[n++] = v;
            if (v == hi)
                break;
        }
    }
    CHECK_EQ(ctx, "expanded missing count", n, wa->nexp);
    for (i = 0; i < n; i++)
        CHECK_EQ(ctx, "expanded missing number", got[i], wa->expanded[i]);
    CHECK_EQ(ctx, "pmul_missing_count", pmul_missing_count(e->missing, e->missing_cnt),
             wa->nexp);
}

static void
check_want(const want *w, const pmul_pdu *p, const uint8_t *pkt, size_t len)
{
    const char *ctx = w->name;
    size_t i, blen;
    uint8_t *blob;

    CHECK_EQ(ctx, "type", p->type, w->type);
    CHECK_EQ(ctx, "priority", p->priority, w->priority);
    CHECK_EQ(ctx, "map", p->map, w->map);
    CHECK_EQ(ctx, "cksum_kind", p->cksum_kind, w->cksum_kind);
    CHECK_EQ(ctx, "length", p->length, len);
    CHECK_EQ(ctx, "checksum", p->checksum, w->checksum);
    CHECK_EQ(ctx, "source_id", p->source_id, w->source_id);
    CHECK_EQ(ctx, "msid", p->msid, w->msid);

    switch (w->type) {
    case PMUL_PDU_DATA:
        CHECK_EQ(ctx, "seq", p->u.data.seq, w->seq);
        CHECK_EQ(ctx, "frag_len", p->u.data.frag_len, w->frag_len);
        /* The fragment is a view into the datagram, after the 16-octet header. */
        CHECK_EQ(ctx, "frag is a view at octet 16", p->u.data.frag == pkt + 16, 1);
        if (w->frag_text != NULL) {
            CHECK_MEM(ctx, "frag", p->u.data.frag, w->frag_text, w->frag_len);
        } else {
            blob = hex_decode(find_hex(blobs, sizeof(blobs) / sizeof(blobs[0]),
                                       w->frag_blob), &blen);
            assert_true(w->frag_off + w->frag_len <= blen);
            CHECK_MEM(ctx, "frag", p->u.data.frag, blob + w->frag_off, w->frag_len);
            free(blob);
        }
        break;
    case PMUL_PDU_ADDRESS:
    case PMUL_PDU_EXTRA_ADDRESS:
    case PMUL_PDU_FEC_ADDRESS:
    case PMUL_PDU_EXTRA_FEC_ADDRESS:
        CHECK_EQ(ctx, "total_pdus", p->u.address.total_pdus, w->total_pdus);
        CHECK_EQ(ctx, "expiry_time", p->u.address.expiry_time, w->expiry);
        CHECK_EQ(ctx, "fec_id", p->u.address.fec_id, w->fec_id);
        CHECK_EQ(ctx, "fec_param_len", p->u.address.fec_param_len, w->fec_param_len);
        if (w->fec_param_len > 0)
            CHECK_MEM(ctx, "fec_params", p->u.address.fec_params, w->fec_params,
                      w->fec_param_len);
        CHECK_EQ(ctx, "reserved_len", p->u.address.reserved_len, w->reserved_len);
        CHECK_EQ(ctx, "dest_cnt", p->u.address.dest_cnt, w->dest_cnt);
        for (i = 0; i < w->dest_cnt; i++) {
            const pmul_dest_entry *d = &p->u.address.dests[i];

            CHECK_EQ(ctx, "dest_id", d->dest_id, w->dests[i].id);
            CHECK_EQ(ctx, "msg_seq_no", d->msg_seq_no, w->dests[i].msn);
            if (w->reserved_len > 0)
                CHECK_MEM(ctx, "reserved", d->reserved, w->reserved, w->reserved_len);
            else
                CHECK_EQ(ctx, "reserved (NULL when R = 0)", d->reserved == NULL, 1);
        }
        break;
    case PMUL_PDU_ACK:
        CHECK_EQ(ctx, "entry_cnt", p->u.ack.entry_cnt, w->entry_cnt);
        for (i = 0; i < w->entry_cnt; i++)
            check_missing(ctx, &p->u.ack.entries[i], &w->acks[i]);
        CHECK_EQ(ctx, "has_timestamp", p->u.ack.has_timestamp, w->has_ts);
        CHECK_EQ(ctx, "timestamp", p->u.ack.timestamp, w->ts);
        break;
    case PMUL_PDU_ANNOUNCE:
        CHECK_EQ(ctx, "expiry_time", p->u.announce.expiry_time, w->expiry);
        CHECK_EQ(ctx, "mcast_group", p->u.announce.mcast_group, w->group);
        CHECK_EQ(ctx, "dest_cnt", p->u.announce.dest_cnt, w->id_cnt);
        for (i = 0; i < w->id_cnt; i++)
            CHECK_EQ(ctx, "dest_id", p->u.announce.dest_ids[i], w->ids[i]);
        break;
    case PMUL_PDU_REQUEST:
    case PMUL_PDU_REJECT:
    case PMUL_PDU_RELEASE:
        CHECK_EQ(ctx, "mcast_group", p->u.group.mcast_group, w->group);
        break;
    default:
        break;
    }
}

/* Field-by-field equality of two decoded PDUs (lists compared deeply). */
void
check_same_pdu(const char *ctx, const pmul_pdu *a, const pmul_pdu *b)
{
    size_t i, j;

    CHECK_EQ(ctx, "type", a->type, b->type);
    CHECK_EQ(ctx, "priority", a->priority, b->priority);
    CHECK_EQ(ctx, "map", a->map, b->map);
    CHECK_EQ(ctx, "source_id", a->source_id, b->source_id);
    CHECK_EQ(ctx, "msid", a->msid, b->msid);
    switch (a->type) {
    case PMUL_PDU_DATA:
        CHECK_EQ(ctx, "seq", a->u.data.seq, b->u.data.seq);
        CHECK_EQ(ctx, "frag_len", a->u.data.frag_len, b->u.data.frag_len);
        CHECK_MEM(ctx, "frag", a->u.data.frag, b->u.data.frag, a->u.data.frag_len);
        break;
    case PMUL_PDU_ADDRESS:
    case PMUL_PDU_EXTRA_ADDRESS:
    case PMUL_PDU_FEC_ADDRESS:
    case PMUL_PDU_EXTRA_FEC_ADDRESS:
        CHECK_EQ(ctx, "total_pdus", a->u.address.total_pdus, b->u.address.total_pdus);
        CHECK_EQ(ctx, "expiry", a->u.address.expiry_time, b->u.address.expiry_time);
        CHECK_EQ(ctx, "fec_id", a->u.address.fec_id, b->u.address.fec_id);
        CHECK_EQ(ctx, "fec_param_len", a->u.address.fec_param_len,
                 b->u.address.fec_param_len);
        CHECK_MEM(ctx, "fec_params", a->u.address.fec_params, b->u.address.fec_params,
                  a->u.address.fec_param_len);
        CHECK_EQ(ctx, "reserved_len", a->u.address.reserved_len, b->u.address.reserved_len);
        CHECK_EQ(ctx, "dest_cnt", a->u.address.dest_cnt, b->u.address.dest_cnt);
        for (i = 0; i < a->u.address.dest_cnt; i++) {
            CHECK_EQ(ctx, "dest_id", a->u.address.dests[i].dest_id,
                     b->u.address.dests[i].dest_id);
            CHECK_EQ(ctx, "msg_seq_no", a->u.address.dests[i].msg_seq_no,
                     b->u.address.dests[i].msg_seq_no);
            CHECK_MEM(ctx, "reserved", a->u.address.dests[i].reserved,
                      b->u.address.dests[i].reserved, a->u.address.reserved_len);
        }
        break;
    case PMUL_PDU_ACK:
        CHECK_EQ(ctx, "entry_cnt", a->u.ack.entry_cnt, b->u.ack.entry_cnt);
        for (i = 0; i < a->u.ack.entry_cnt; i++) {
            const pmul_ack_entry *x = &a->u.ack.entries[i], *y = &b->u.ack.entries[i];

            CHECK_EQ(ctx, "ack.source_id", x->source_id, y->source_id);
            CHECK_EQ(ctx, "ack.msid", x->msid, y->msid);
            CHECK_EQ(ctx, "ack.missing_cnt", x->missing_cnt, y->missing_cnt);
            for (j = 0; j < x->missing_cnt; j++)
                CHECK_EQ(ctx, "ack.missing", x->missing[j], y->missing[j]);
        }
        CHECK_EQ(ctx, "has_timestamp", a->u.ack.has_timestamp, b->u.ack.has_timestamp);
        CHECK_EQ(ctx, "timestamp", a->u.ack.timestamp, b->u.ack.timestamp);
        break;
    case PMUL_PDU_ANNOUNCE:
        CHECK_EQ(ctx, "expiry", a->u.announce.expiry_time, b->u.announce.expiry_time);
        CHECK_EQ(ctx, "mcast_group", a->u.announce.mcast_group, b->u.announce.mcast_group);
        CHECK_EQ(ctx, "dest_cnt", a->u.announce.dest_cnt, b->u.announce.dest_cnt);
        for (i = 0; i < a->u.announce.dest_cnt; i++)
            CHECK_EQ(ctx, "dest_id", a->u.announce.dest_ids[i], b->u.announce.dest_ids[i]);
        break;
    default:
        CHECK_EQ(ctx, "mcast_group", a->u.group.mcast_group, b->u.group.mcast_group);
        break;
    }
}

/* ---- vectors ------------------------------------------------------------ */

/* The embedded hex must be what tests/vectors/vectors.json holds. */
static void
test_pmul_pdu_vectors_match_json(void **state)
{
    const char *dir = getenv("MULE_VECTORS");
    char path[4096], *text, *needle;
    size_t i, n, cap = 1 << 20;
    FILE *fp;

    (void)state;
    if (dir == NULL) {
        skip();
        return;
    }
    assert_true(snprintf(path, sizeof(path), "%s/vectors.json", dir) < (int)sizeof(path));
    fp = fopen(path, "rb");
    assert_non_null(fp);
    text = malloc(cap + 1);
    assert_non_null(text);
    n = fread(text, 1, cap, fp);
    assert_int_equal(fclose(fp), 0);
    text[n] = '\0';
    for (i = 0; i < sizeof(vecs) / sizeof(vecs[0]) + sizeof(blobs) / sizeof(blobs[0]); i++) {
        const vec *v = i < sizeof(vecs) / sizeof(vecs[0]) ? &vecs[i]
                       : &blobs[i - sizeof(vecs) / sizeof(vecs[0])];
        size_t need = strlen(v->name) + strlen(v->hex) + 8;

        needle = malloc(need);
        assert_non_null(needle);
        assert_true(snprintf(needle, need, "\"%s\": \"%s\"", v->name, v->hex) < (int)need);
        if (strstr(text, needle) == NULL)
            fail_msg("%s: embedded hex differs from vectors.json", v->name);
        free(needle);
    }
    free(text);
}

/* Every good vector decodes to the hand-written fields, and the decoder
 * does not modify its input. */
static void
test_pmul_pdu_decode_vectors(void **state)
{
    fixture *f = *state;
    pmul_pdu pdu;
    uint8_t *p, *orig;
    size_t i, len;

    for (i = 0; i < N_WANTS; i++) {
        p = vec_bytes(wants[i].name, &len);
        orig = dup_bytes(p, len);
        memset(&pdu, 0xa5, sizeof(pdu));
        CHECK_ERR(wants[i].name, decode_big(f, &pdu, p, len), 0);
        check_want(&wants[i], &pdu, p, len);
        CHECK_MEM(wants[i].name, "input untouched", p, orig, len);
        free(orig);
        free(p);
    }
}

static void
test_pmul_pdu_decode_reject_vectors(void **state)
{
    fixture *f = *state;
    pmul_pdu pdu;
    uint8_t *p;
    size_t i, len;

    for (i = 0; i < sizeof(rejects) / sizeof(rejects[0]); i++) {
        p = vec_bytes(rejects[i].name, &len);
        CHECK_ERR(rejects[i].name, decode_big(f, &pdu, p, len), rejects[i].err);
        free(p);
    }
}

/* decode -> encode gives the original bytes; an RFC 1071 checksum comes
 * back as the Fletcher one (which we always emit). */
static void
test_pmul_pdu_encode_vectors(void **state)
{
    fixture *f = *state, *g;
    pmul_pdu pdu, again;
    uint8_t *p, *out;
    void *second;
    size_t i, len;
    ssize_t n;

    assert_int_equal(setup(&second), 0);
    g = second;
    for (i = 0; i < N_WANTS; i++) {
        const char *ctx = wants[i].name;

        p = vec_bytes(ctx, &len);
        CHECK_ERR(ctx, decode_big(f, &pdu, p, len), 0);
        CHECK_EQ(ctx, "encoded_len", pmul_pdu_encoded_len(&pdu), len);
        out = malloc(len);
        assert_non_null(out);
        n = pmul_pdu_encode(&pdu, out, len);
        CHECK_EQ(ctx, "encode", n, len);
        if (wants[i].cksum_kind == PMUL_CKSUM_INET) {
            CHECK_MEM(ctx, "octets 0-5", out, p, 6);
            CHECK_MEM(ctx, "octets 8-", out + 8, p + 8, len - 8);
            /* 0x78ac: the generator's own Fletcher for these 16 octets, and
             * the checksum of discard_trailing_octets that tshark calls good. */
            CHECK_EQ(ctx, "Fletcher checksum", get16(out, 6), 0x78ac);
            CHECK_EQ(ctx, "pmul_cksum_fletcher", pmul_cksum_fletcher(p, len), 0x78ac);
        } else {
            CHECK_MEM(ctx, "re-encoded bytes", out, p, len);
        }
        /* What we encode decodes to the same fields.  The first decode's
         * lists live in the fixture's scratch, so the second decode gets
         * scratch of its own. */
        CHECK_ERR(ctx, decode_big(g, &again, out, len), 0);
        CHECK_EQ(ctx, "re-decoded cksum_kind", again.cksum_kind, PMUL_CKSUM_FLETCHER);
        CHECK_EQ(ctx, "re-decoded length", again.length, len);
        check_same_pdu(ctx, &pdu, &again);
        free(out);
        free(p);
    }
    teardown(&second);
}

/* ---- pmul_pdu_decode_ex ------------------------------------------------ */

/* With flags 0 it is pmul_pdu_decode(): the same code on every vector
 * (good and bad), *first_err equal to it, and the same fields.  With both
 * flags a good vector decodes the same and reports no error. */
static void
test_pmul_pdu_decode_ex_flags0_same(void **state)
{
    fixture *f = *state, *g;
    pmul_pdu a, b;
    void *second;
    uint8_t *p;
    size_t i, len;
    unsigned k;
    int rc, rc_ex, first;

    assert_int_equal(setup(&second), 0);
    g = second;
    for (i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
        const char *ctx = vecs[i].name;

        p = vec_bytes(ctx, &len);
        rc = decode_big(f, &a, p, len);
        for (k = 0; k < 2; k++) {
            unsigned flags = k == 0 ? 0 : PMUL_DECODE_ANY_LENGTH | PMUL_DECODE_ANY_CKSUM;

            if (k == 1 && rc != 0)
                break;
            first = 12345;
            rc_ex = pmul_pdu_decode_ex(&b, big(g), p, len, flags, &first);
            CHECK_ERR(ctx, rc_ex, rc);
            CHECK_ERR(ctx, first, rc);
            if (rc != 0)
                continue;
            CHECK_EQ(ctx, "length", b.length, a.length);
            CHECK_EQ(ctx, "checksum", b.checksum, a.checksum);
            CHECK_EQ(ctx, "cksum_kind", b.cksum_kind, a.cksum_kind);
            check_same_pdu(ctx, &a, &b);
        }
        free(p);
    }
    teardown(&second);
}

/* A bad checksum, relaxed: the fields, cksum_kind 0, the field as
 * received, and CHECKSUM in *first_err.  Relaxing only the length does
 * not help. */
static void
test_pmul_pdu_decode_ex_relaxed_cksum(void **state)
{
    fixture *f = *state;
    pmul_pdu pdu;
    uint8_t *p;
    size_t len;
    int first;

    p = vec_bytes("discard_bad_cksum", &len);
    CHECK_ERR("bad cksum, ANY_CKSUM",
              pmul_pdu_decode_ex(&pdu, big(f), p, len, PMUL_DECODE_ANY_CKSUM, &first), 0);
    CHECK_ERR("bad cksum, first_err", first, PMUL_ERR_CHECKSUM);
    CHECK_EQ("bad cksum", "type", pdu.type, PMUL_PDU_DISCARD);
    CHECK_EQ("bad cksum", "msid", pdu.msid, 0x00030001u);
    CHECK_EQ("bad cksum", "source_id", pdu.source_id, SENDER);
    CHECK_EQ("bad cksum", "cksum_kind", pdu.cksum_kind, 0);
    CHECK_EQ("bad cksum", "checksum as received", pdu.checksum, get16(p, 6));
    CHECK_EQ("bad cksum", "length", pdu.length, len);
    CHECK_ERR("bad cksum, ANY_LENGTH only",
              pmul_pdu_decode_ex(&pdu, big(f), p, len, PMUL_DECODE_ANY_LENGTH, &first),
              PMUL_ERR_CHECKSUM);
    CHECK_ERR("bad cksum, ANY_LENGTH only: first_err", first, PMUL_ERR_CHECKSUM);
    free(p);
}

/* Length_of_PDU above the datagram (data_bad_length: 40 in 19 octets):
 * relaxed, the PDU is read over the datagram and the checksum checked
 * over it (tshark calls it good); the length is the field as received.
 * A length below the common header is the same error. */
static void
test_pmul_pdu_decode_ex_length_above(void **state)
{
    fixture *f = *state;
    pmul_pdu pdu;
    uint8_t *p;
    size_t len;
    int first;

    p = vec_bytes("data_bad_length", &len);
    CHECK_EQ("length above", "datagram", len, 19);
    CHECK_ERR("length above, ANY_CKSUM only",
              pmul_pdu_decode_ex(&pdu, big(f), p, len, PMUL_DECODE_ANY_CKSUM, &first),
              PMUL_ERR_LENGTH);
    CHECK_ERR("length above, ANY_CKSUM only: first_err", first, PMUL_ERR_LENGTH);
    CHECK_ERR("length above, ANY_LENGTH",
              pmul_pdu_decode_ex(&pdu, big(f), p, len, PMUL_DECODE_ANY_LENGTH, &first), 0);
    CHECK_ERR("length above, first_err", first, PMUL_ERR_LENGTH);
    CHECK_EQ("length above", "length field", pdu.length, 40);
    CHECK_EQ("length above", "type", pdu.type, PMUL_PDU_DATA);
    CHECK_EQ("length above", "seq", pdu.u.data.seq, 1);
    CHECK_EQ("length above", "frag_len", pdu.u.data.frag_len, 3);
    CHECK_MEM("length above", "frag", pdu.u.data.frag, "xyz", 3);
    CHECK_EQ("length above", "cksum_kind", pdu.cksum_kind, PMUL_CKSUM_FLETCHER);

    /* Length_of_PDU 5, below the 12-octet header: LENGTH too.  The edit
     * breaks the checksum, so both checks must be relaxed to see the
     * fields.  With the checksum check strict the codec returns the code
     * that stopped it, CHECKSUM, and reports the first (relaxed) error,
     * LENGTH, in first_err. */
    put16(p, 0, 5);
    CHECK_ERR("length 5, strict", decode_big(f, &pdu, p, len), PMUL_ERR_LENGTH);
    CHECK_ERR("length 5, ANY_LENGTH",
              pmul_pdu_decode_ex(&pdu, big(f), p, len, PMUL_DECODE_ANY_LENGTH, &first),
              PMUL_ERR_CHECKSUM);
    CHECK_ERR("length 5, ANY_LENGTH: first_err", first, PMUL_ERR_LENGTH);
    CHECK_ERR("length 5, both",
              pmul_pdu_decode_ex(&pdu, big(f), p, len,
                                 PMUL_DECODE_ANY_LENGTH | PMUL_DECODE_ANY_CKSUM, &first), 0);
    CHECK_ERR("length 5, both: first_err", first, PMUL_ERR_LENGTH);
    CHECK_EQ("length 5", "length field", pdu.length, 5);
    CHECK_EQ("length 5", "frag_len", pdu.u.data.frag_len, 3);
    CHECK_EQ("length 5", "cksum_kind", pdu.cksum_kind, 0);
    free(p);
}

/* Length_of_PDU below the datagram (trailing octets): relaxed, the PDU
 * is what its header states, checksum included; the octets after it are
 * not part of any field. */
static void
test_pmul_pdu_decode_ex_length_below(void **state)
{
    fixture *f = *state;
    pmul_pdu pdu;
    uint8_t *p, *q;
    size_t len;
    int first;

    p = vec_bytes("discard_trailing_octets", &len);
    CHECK_ERR("trailing, strict", decode_big(f, &pdu, p, len), PMUL_ERR_TRAILING);
    CHECK_ERR("trailing, ANY_LENGTH",
              pmul_pdu_decode_ex(&pdu, big(f), p, len, PMUL_DECODE_ANY_LENGTH, &first), 0);
    CHECK_ERR("trailing, first_err", first, PMUL_ERR_TRAILING);
    CHECK_EQ("trailing", "length field", pdu.length, 16);
    CHECK_EQ("trailing", "msid", pdu.msid, 0x00030001u);
    CHECK_EQ("trailing", "cksum_kind", pdu.cksum_kind, PMUL_CKSUM_FLETCHER);
    free(p);

    /* A Data_PDU with three non-zero octets appended: the fragment stops
     * where Length_of_PDU says, and the checksum over the stated length
     * is still good. */
    p = vec_bytes("data_seq2", &len);
    q = malloc(len + 3);
    assert_non_null(q);
    memcpy(q, p, len);
    memcpy(q + len, "\xab\xcd\xef", 3);
    CHECK_ERR("data + 3, strict", decode_big(f, &pdu, q, len + 3), PMUL_ERR_TRAILING);
    CHECK_ERR("data + 3, ANY_CKSUM only",
              pmul_pdu_decode_ex(&pdu, big(f), q, len + 3, PMUL_DECODE_ANY_CKSUM, &first),
              PMUL_ERR_TRAILING);
    CHECK_ERR("data + 3, ANY_LENGTH",
              pmul_pdu_decode_ex(&pdu, big(f), q, len + 3, PMUL_DECODE_ANY_LENGTH, &first), 0);
    CHECK_ERR("data + 3, first_err", first, PMUL_ERR_TRAILING);
    CHECK_EQ("data + 3", "length field", pdu.length, len);
    CHECK_EQ("data + 3", "frag_len", pdu.u.data.frag_len, 13);
    CHECK_MEM("data + 3", "frag", pdu.u.data.frag, "fragment two.", 13);
    CHECK_EQ("data + 3", "cksum_kind", pdu.cksum_kind, PMUL_CKSUM_FLETCHER);
    free(q);
    free(p);
}

/* A structural error after a relaxed one: decoding stops with the
 * structural code, while *first_err keeps the first strict-mode error.
 * Without a relaxed error both are the structural code. */
static void
test_pmul_pdu_decode_ex_structural_after_relaxed(void **state)
{
    fixture *f = *state;
    const unsigned both = PMUL_DECODE_ANY_LENGTH | PMUL_DECODE_ANY_CKSUM;
    pmul_pdu pdu;
    uint8_t *p, *q;
    size_t len;
    int first;

    p = vec_bytes("data_seq_zero", &len);
    CHECK_ERR("seq 0", pmul_pdu_decode_ex(&pdu, big(f), p, len, both, &first),
              PMUL_ERR_SEQ_ZERO);
    CHECK_ERR("seq 0: first_err", first, PMUL_ERR_SEQ_ZERO);
    /* Break the checksum as well: strict stops at the checksum. */
    put16(p, 6, (uint16_t)(get16(p, 6) ^ 0x0101u));
    CHECK_ERR("seq 0 + bad cksum, strict", decode_big(f, &pdu, p, len), PMUL_ERR_CHECKSUM);
    CHECK_ERR("seq 0 + bad cksum", pmul_pdu_decode_ex(&pdu, big(f), p, len, both, &first),
              PMUL_ERR_SEQ_ZERO);
    CHECK_ERR("seq 0 + bad cksum: first_err", first, PMUL_ERR_CHECKSUM);
    free(p);

    /* Trailing octets, then an Ack entry with a bad length. */
    p = vec_bytes("ack_entry_len_8", &len);
    q = calloc(1, len + 4);
    assert_non_null(q);
    memcpy(q, p, len);
    CHECK_ERR("ack + 4, strict", decode_big(f, &pdu, q, len + 4), PMUL_ERR_TRAILING);
    CHECK_ERR("ack + 4", pmul_pdu_decode_ex(&pdu, big(f), q, len + 4, both, &first),
              PMUL_ERR_ACK_ENTRY_LEN);
    CHECK_ERR("ack + 4: first_err", first, PMUL_ERR_TRAILING);
    free(q);
    free(p);

    /* Too short for the common header: nothing can be relaxed. */
    p = vec_bytes("discard_msg2", &len);
    CHECK_ERR("short", pmul_pdu_decode_ex(&pdu, big(f), p, PMUL_HDR_LEN - 1, both, &first),
              PMUL_ERR_SHORT);
    CHECK_ERR("short: first_err", first, PMUL_ERR_SHORT);
    free(p);
}

/* docs/wire.md 3.2: the worked example. */
static void
test_pmul_pdu_cksum_worked_example(void **state)
{
    static const uint8_t zeroed[16] = { 0x00, 0x10, 0x01, 0x03, 0x00, 0x00, 0x00, 0x00,
                                        0xc0, 0x00, 0x02, 0x01, 0x00, 0x01, 0x00, 0x02 };
    uint8_t pdu[16];
    uint32_t c0 = 0, c1 = 0;
    size_t i;

    (void)state;
    assert_int_equal(pmul_cksum_fletcher(zeroed, 16), 0x6fb5);
    assert_int_equal(pmul_cksum_inet(zeroed, 16), 0x3ce8);
    /* Octets 6 and 7 are read as zero whatever they hold. */
    memcpy(pdu, zeroed, 16);
    pdu[6] = 0x6f;
    pdu[7] = 0xb5;
    assert_int_equal(pmul_cksum_fletcher(pdu, 16), 0x6fb5);
    assert_int_equal(pmul_cksum_inet(pdu, 16), 0x3ce8);
    /* The receiver's check: both running sums over the final PDU are 0. */
    for (i = 0; i < 16; i++) {
        c0 = (c0 + pdu[i]) % 255;
        c1 = (c1 + c0) % 255;
    }
    assert_int_equal(c0, 0);
    assert_int_equal(c1, 0);
}

/* Reference implementations written from docs/wire.md 3.1 (reduce at every
 * octet), to check the library's deferred reduction on long inputs. */
static uint16_t
ref_fletcher(const uint8_t *p, size_t len)
{
    long c0 = 0, c1 = 0, k = (long)len - 7, x, y;
    size_t i;

    for (i = 0; i < len; i++) {
        c0 = (c0 + (i == 6 || i == 7 ? 0 : p[i])) % 255;
        c1 = (c1 + c0) % 255;
    }
    x = ((k * c0 - c1) % 255 + 255) % 255;
    y = ((c1 - (k + 1) * c0) % 255 + 255) % 255;
    return (uint16_t)(x << 8 | y);
}

static uint16_t
ref_inet(const uint8_t *p, size_t len)
{
    unsigned long s = 0;
    size_t i;

    for (i = 0; i < len; i += 2) {
        unsigned hi = (i == 6) ? 0 : p[i];
        unsigned lo = (i + 1 < len && i + 1 != 7) ? p[i + 1] : 0;

        s += hi << 8 | lo;
    }
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)(~s & 0xffff);
}

static void
test_pmul_pdu_cksum_reference(void **state)
{
    static const size_t lens[] = { 8, 9, 12, 16, 17, 255, 256, 262, 263, 4095, 4096,
                                   4097, 8192, 8193, 65534, 65535 };
    uint8_t *p;
    uint32_t x = 12345;
    size_t i, j, fill;

    (void)state;
    for (fill = 0; fill < 3; fill++) {
        for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
            p = malloc(lens[i]);
            assert_non_null(p);
            for (j = 0; j < lens[i]; j++) {
                x = x * 1103515245u + 12345u;
                p[j] = fill == 0 ? 0xff : fill == 1 ? 0x00 : (uint8_t)(x >> 16);
            }
            CHECK_EQ("fletcher", "vs reference", pmul_cksum_fletcher(p, lens[i]),
                     ref_fletcher(p, lens[i]));
            CHECK_EQ("inet", "vs reference", pmul_cksum_inet(p, lens[i]),
                     ref_inet(p, lens[i]));
            /* The Fletcher value placed at octets 6-7 zeroes both sums. */
            put16(p, 6, pmul_cksum_fletcher(p, lens[i]));
            {
                uint32_t c0 = 0, c1 = 0;

                for (j = 0; j < lens[i]; j++) {
                    c0 = (c0 + p[j]) % 255;
                    c1 = (c1 + c0) % 255;
                }
                CHECK_EQ("fletcher", "sums after insertion", c0 | c1, 0);
            }
            free(p);
        }
    }
}

/* ---- missing lists ------------------------------------------------------ */

typedef struct missing_case {
    const char *what;
    uint16_t n;
    uint16_t words[8];
    uint16_t nranges;
    uint16_t ranges[4][2];
    uint32_t count;
} missing_case;

static const missing_case missing_cases[] = {
    { "empty", 0, { 0 }, 0, { { 0 } }, 0 },
    { "single 2", 1, { 2 }, 1, { { 2, 2 } }, 1 },
    { "singles 2, 5", 2, { 2, 5 }, 2, { { 2, 2 }, { 5, 5 } }, 2 },
    { "range 7..9", 3, { 7, 0, 9 }, 1, { { 7, 9 } }, 3 },
    { "2, 5, 7..9", 5, { 2, 5, 7, 0, 9 }, 3, { { 2, 2 }, { 5, 5 }, { 7, 9 } }, 5 },
    { "7..9, 12", 4, { 7, 0, 9, 12 }, 2, { { 7, 9 }, { 12, 12 } }, 4 },
    { "1..3, 5..6", 6, { 1, 0, 3, 5, 0, 6 }, 2, { { 1, 3 }, { 5, 6 } }, 5 },
    { "1..65535", 3, { 1, 0, 65535 }, 1, { { 1, 65535 } }, 65535 },
    { "65535", 1, { 65535 }, 1, { { 65535, 65535 } }, 1 },
    /* A value not above the previous one ends the list. */
    { "5, end 3, 9", 3, { 5, 3, 9 }, 1, { { 5, 5 } }, 1 },
    { "5, end 5", 2, { 5, 5 }, 1, { { 5, 5 } }, 1 },
    { "2..5, end 4", 4, { 2, 0, 5, 4 }, 1, { { 2, 5 } }, 4 },
    { "2..5, end 5, 0", 5, { 2, 0, 5, 5, 0 }, 1, { { 2, 5 } }, 4 },
    { "3, end 2, 0, 9", 4, { 3, 2, 0, 9 }, 1, { { 3, 3 } }, 1 },
    { "9, end 1", 2, { 9, 1 }, 1, { { 9, 9 } }, 1 },
};

static void
test_pmul_pdu_missing_walk(void **state)
{
    pmul_ack_entry e;
    pmul_pdu pdu;
    uint8_t out[64];
    size_t i, j, pos;
    uint16_t lo, hi;

    (void)state;
    for (i = 0; i < sizeof(missing_cases) / sizeof(missing_cases[0]); i++) {
        const missing_case *c = &missing_cases[i];

        pos = 0;
        for (j = 0; j < c->nranges; j++) {
            if (!pmul_missing_next(c->words, c->n, &pos, &lo, &hi))
                fail_msg("%s: range %zu missing", c->what, j);
            CHECK_EQ(c->what, "lo", lo, c->ranges[j][0]);
            CHECK_EQ(c->what, "hi", hi, c->ranges[j][1]);
        }
        CHECK_EQ(c->what, "no further range",
                 pmul_missing_next(c->words, c->n, &pos, &lo, &hi), 0);
        /* The end is sticky. */
        CHECK_EQ(c->what, "still no further range",
                 pmul_missing_next(c->words, c->n, &pos, &lo, &hi), 0);
        CHECK_EQ(c->what, "pmul_missing_count", pmul_missing_count(c->words, c->n),
                 c->count);
        /* Every case is a list the encoder must accept. */
        memset(&pdu, 0, sizeof(pdu));
        memset(&e, 0, sizeof(e));
        pdu.type = PMUL_PDU_ACK;
        pdu.u.ack.entry_cnt = 1;
        pdu.u.ack.entries = &e;
        e.missing = c->n > 0 ? c->words : NULL;
        e.missing_cnt = c->n;
        CHECK_EQ(c->what, "encode", pmul_pdu_encode(&pdu, out, sizeof(out)), 24 + 2 * c->n);
    }
    pos = 0;
    CHECK_EQ("NULL, 0", "next", pmul_missing_next(NULL, 0, &pos, &lo, &hi), 0);
    CHECK_EQ("NULL, 0", "count", pmul_missing_count(NULL, 0), 0);
}

/* ---- names and errors --------------------------------------------------- */

static void
test_pmul_pdu_strerror(void **state)
{
    static const int codes[] = {
#define X(name, val, text) PMUL_ERR_##name,
        PMUL_ERRNO_MAP(X)
#undef X
    };
    static const char *const names[] = {
#define X(name, val, text) #name,
        PMUL_ERRNO_MAP(X)
#undef X
    };
    size_t n = sizeof(codes) / sizeof(codes[0]), i, j;
    const char *unknown_text = pmul_strerror(-9999), *unknown_name = pmul_errname(-9999);

    (void)state;
    assert_non_null(unknown_text);
    assert_non_null(unknown_name);
    assert_string_equal(pmul_errname(0), "OK");
    assert_true(strlen(pmul_strerror(0)) > 0);
    assert_string_not_equal(pmul_strerror(0), unknown_text);
    for (i = 0; i < n; i++) {
        const char *t = pmul_strerror(codes[i]), *nm = pmul_errname(codes[i]);

        assert_true(codes[i] < 0);
        assert_non_null(t);
        assert_non_null(nm);
        if (strlen(t) == 0 || strcmp(t, unknown_text) == 0)
            fail_msg("%s: no text", names[i]);
        assert_string_equal(nm, names[i]);
        for (j = 0; j < i; j++) {
            if (codes[j] == codes[i])
                fail_msg("%s and %s share code %d", names[i], names[j], codes[i]);
            if (strcmp(pmul_strerror(codes[j]), t) == 0)
                fail_msg("%s and %s share their text", names[i], names[j]);
            if (strcmp(pmul_errname(codes[j]), nm) == 0)
                fail_msg("%s and %s share their name", names[i], names[j]);
        }
    }
    /* Codes at or below FATAL tear down; the codec's are all above. */
    assert_true(PMUL_ERR_NOMEM < PMUL_ERR_FATAL);
    assert_true(PMUL_ERR_CAP > PMUL_ERR_FATAL && PMUL_ERR_TIMESTAMP > PMUL_ERR_FATAL);
}

static void
test_pmul_pdu_type_names(void **state)
{
    static const struct {
        unsigned type;
        const char *name;
        bool address;
    } t[] = {
        { 0x00, "Data_PDU", false }, { 0x01, "Ack_PDU", false },
        { 0x02, "Address_PDU", true }, { 0x03, "Discard_Message_PDU", false },
        { 0x04, "Announce_PDU", false }, { 0x05, "Request_PDU", false },
        { 0x06, "Reject_PDU", false }, { 0x07, "Release_PDU", false },
        { 0x08, "FEC_Address_PDU", true }, { 0x12, "Extra_Address_PDU", true },
        { 0x18, "Extra_FEC_Address_PDU", true }, { 0x09, "unknown", false },
        { 0x10, "unknown", false }, { 0x42, "unknown", false }, { 999, "unknown", false },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        assert_string_equal(pmul_pdu_type_name(t[i].type), t[i].name);
        CHECK_EQ(t[i].name, "is_address", pmul_pdu_is_address(t[i].type), t[i].address);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pmul_pdu_vectors_match_json),
        cmocka_unit_test(test_pmul_pdu_decode_vectors),
        cmocka_unit_test(test_pmul_pdu_decode_reject_vectors),
        cmocka_unit_test(test_pmul_pdu_encode_vectors),
        cmocka_unit_test(test_pmul_pdu_decode_ex_flags0_same),
        cmocka_unit_test(test_pmul_pdu_decode_ex_relaxed_cksum),
        cmocka_unit_test(test_pmul_pdu_decode_ex_length_above),
        cmocka_unit_test(test_pmul_pdu_decode_ex_length_below),
        cmocka_unit_test(test_pmul_pdu_decode_ex_structural_after_relaxed),
        cmocka_unit_test(test_pmul_pdu_cksum_worked_example),
        cmocka_unit_test(test_pmul_pdu_cksum_reference),
        cmocka_unit_test(test_pmul_pdu_decode_unknown_type),
        cmocka_unit_test(test_pmul_pdu_decode_map),
        cmocka_unit_test(test_pmul_pdu_decode_ack_zero_entries),
        cmocka_unit_test(test_pmul_pdu_decode_ack_trailer),
        cmocka_unit_test(test_pmul_pdu_decode_length_fields),
        cmocka_unit_test(test_pmul_pdu_decode_length_of_pdu),
        cmocka_unit_test(test_pmul_pdu_decode_dest_count_short),
        cmocka_unit_test(test_pmul_pdu_decode_caps),
        cmocka_unit_test(test_pmul_pdu_decode_size_limits),
        cmocka_unit_test(test_pmul_pdu_decode_truncated),
        cmocka_unit_test(test_pmul_pdu_decode_truncated_consistent),
        cmocka_unit_test(test_pmul_pdu_max_address),
        cmocka_unit_test(test_pmul_pdu_max_ack),
        cmocka_unit_test(test_pmul_pdu_max_announce_data),
        cmocka_unit_test(test_pmul_pdu_decode_overflow_counts),
        cmocka_unit_test(test_pmul_pdu_encode_nospace),
        cmocka_unit_test(test_pmul_pdu_encode_rejects),
        cmocka_unit_test(test_pmul_pdu_encode_priority),
        cmocka_unit_test(test_pmul_pdu_missing_walk),
        cmocka_unit_test(test_pmul_pdu_strerror),
        cmocka_unit_test(test_pmul_pdu_type_names),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
