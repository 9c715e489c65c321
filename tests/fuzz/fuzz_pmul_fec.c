/*
 * fuzz_pmul_fec.c: libFuzzer harness for the FEC parameter decoder and the
 * decoder's feeding and recovery (pmul/pmul_fec.c).
 *
 * Input: FEC_ID (1 octet), Total_Number_of_PDUs (2, big-endian), an
 * allocation-failure count (1: 0 = never fail), FEC_Parameter_Length P
 * (1), P octets of FEC_Parameters (fewer if the input ends), then
 * sequence numbers (2 octets each) as a receiver would see them in
 * Data_PDUs.
 *
 * Properties checked:
 *   - pmul_fec_params_decode2() with the 4 octets after the parameters
 *     as the carrier's Message_ID accepts a version 2 set (joint repair)
 *     only within its rules, maps every joint repair number both ways,
 *     and re-encodes it to the same octets;
 *   - pmul_fec_params_decode() accepts only sets within the rules
 *     (k <= 255, k + r <= 255, blocks <= N, 1 <= last_len <= symbol_len,
 *     repair numbers within 16 bits), and an accepted 8-octet set
 *     re-encodes to the same octets;
 *   - each fed sequence number either maps to a symbol that maps back to
 *     it, or is refused with PMUL_ERR_RANGE, never anything else; a
 *     second copy is PMUL_ERR_DUPLICATE; counts stay consistent;
 *   - for up to four blocks that can be recovered, symbols (at most 40
 *     octets, the last of the message short) are made and encoded for
 *     the ESIs held, the missing sources recovered, and compared byte by
 *     byte; with the failing allocator armed, only PMUL_ERR_NOMEM may
 *     come instead, and nothing leaks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_NAME "fuzz_pmul_fec"
#include "tests/fuzz/fuzz_common.h"

#include "pmul/pmul_fec.h"

#define SYM_MAX 40u

static pmul_fec_block blocks[UINT16_MAX];
static uint8_t src_buf[PMUL_FEC_N_MAX][SYM_MAX];
static uint8_t rep_buf[PMUL_FEC_N_MAX][SYM_MAX];
static uint8_t out_buf[PMUL_FEC_N_MAX][SYM_MAX];

/* Make block b's symbols, encode, recover what is missing, compare. */
static void
recover_block(pmul_fec *f, const pmul_fec_params *p, uint16_t b, size_t sym_len, struct tmem *t)
{
    const pmul_fec_block *blk = &blocks[b];
    const uint8_t *src[PMUL_FEC_N_MAX], *sym[PMUL_FEC_N_MAX];
    uint8_t *rep[PMUL_FEC_N_MAX], *out[PMUL_FEC_N_MAX];
    unsigned k = blk->k, i, top = 0;
    size_t last = sym_len;
    int rc;

    /* The message's last PDU is the last source of the last block. */
    if (b == p->blocks.block_cnt - 1u && p->last_len < p->symbol_len)
        last = p->last_len < sym_len ? p->last_len : sym_len - 1u;
    if (last == 0)
        last = 1;
    for (i = 0; i < k; i++) {
        memset(src_buf[i], (int)(b * 31u + i * 7u + 1u), sym_len);
        src_buf[i][0] = (uint8_t)i;
        src[i] = src_buf[i];
    }
    memset(src_buf[k - 1] + last, 0, sym_len - last);
    for (i = 0; i <= PMUL_FEC_ESI_MAX; i++)
        if (pmul_fec_block_has(blk, i))
            top = i + 1;
    for (i = 0; i + k < top; i++)
        rep[i] = rep_buf[i];
    if (top > k) {
        rc = pmul_fec_encode_n(f, src, k, sym_len, last, 0, top - k, rep);
        CHECK(rc == 0 || (rc == PMUL_ERR_NOMEM && t->armed), "encode k=%u: %d", k, rc);
        if (rc != 0)
            return;
    }
    memset(sym, 0, sizeof(sym));
    memset(out, 0, sizeof(out));
    for (i = 0; i < top; i++)
        if (pmul_fec_block_has(blk, i))
            sym[i] = i < k ? src[i] : rep[i - k];
    for (i = 0; i < k; i++)
        if (sym[i] == NULL)
            out[i] = out_buf[i];
    rc = pmul_fec_recover(f, blk, sym, top, sym_len, last, out);
    CHECK(rc == 0 || (rc == PMUL_ERR_NOMEM && t->armed), "recover k=%u: %d", k, rc);
    if (rc != 0)
        return;
    for (i = 0; i < k; i++)
        if (out[i] != NULL)
            CHECK(memcmp(out_buf[i], src_buf[i], sym_len) == 0, "block %u ESI %u wrong", b, i);
}

/* Version 2 (a joint set) through pmul_fec_params_decode2(): what it accepts
 * keeps the joint set's rules, maps every joint repair number both ways, and
 * encodes back to the same octets. */
static void
joint_check_one(uint8_t fec_id, const uint8_t *buf, size_t len, uint16_t total, uint32_t msid)
{
    pmul_fec_params p;
    pmul_fec_joint g;
    uint8_t enc[255], esi;
    unsigned k = 0;
    uint16_t seq;
    ssize_t n;
    int rc, me;

    rc = pmul_fec_params_decode2(&p, &g, fec_id, buf, len, total, msid);
    if (rc != 0) {
        CHECK(rc == PMUL_ERR_FEC_ID || rc == PMUL_ERR_FEC_PARAM, "decode2: %d", rc);
        return;
    }
    if (g.cnt == 0) {
        CHECK(len == PMUL_FEC_PARAM_LEN && buf[0] == PMUL_FEC_VERSION, "v1 via decode2");
        return;
    }
    CHECK(buf[0] == PMUL_FEC_VERSION_JOINT && len == PMUL_FEC_JOINT_PARAM_LEN(g.cnt), "v2 len");
    CHECK(g.cnt >= 2 && g.cnt <= PMUL_FEC_JOINT_MAX, "cnt %u", g.cnt);
    for (unsigned i = 0; i < g.cnt; i++) {
        CHECK(g.mem[i].total_pdus >= 1 && g.mem[i].last_len >= 1 &&
              g.mem[i].last_len <= p.symbol_len, "member %u", i);
        k += g.mem[i].total_pdus;
    }
    CHECK(k == g.k && k <= PMUL_FEC_ESI_MAX && k + g.repair_cnt <= PMUL_FEC_N_MAX, "k %u", k);
    CHECK(pmul_fec_joint_base(&p.blocks) + g.j0 + g.repair_cnt <= UINT16_MAX + 1u, "numbers");
    me = pmul_fec_joint_find(&g, msid);
    CHECK(me >= 0 && g.mem[me].total_pdus == total, "carrier");
    for (unsigned j = 0; j < g.repair_cnt; j++) {       /* the set's so far */
        CHECK(pmul_fec_joint_seq_of(&p.blocks, &g, j, &seq) == 0, "seq_of %u", j);
        CHECK(pmul_fec_joint_seq_map(&p.blocks, &g, seq, &esi) == 0 && esi == g.k + j, "map");
        CHECK(seq > total, "joint repair above Total");
    }
    n = pmul_fec_params_encode2(&p, &g, msid, enc, sizeof(enc));
    CHECK(n == (ssize_t)len && memcmp(enc, buf, len) == 0, "re-encode2");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pmul_fec_params p;
    struct tmem t;
    mem m;
    pmul_fec *f = NULL;
    uint16_t total, b;
    uint8_t enc[PMUL_FEC_PARAM_LEN], fail_after, plen, e;
    size_t off, sym_len, i;
    unsigned done = 0;
    int rc;

    if (size < 5)
        return 0;
    total = (uint16_t)(data[1] << 8 | data[2]);
    fail_after = data[3];
    plen = data[4];
    off = 5;
    if (plen > size - off)
        plen = (uint8_t)(size - off);
    joint_check_one(data[0], data + off, plen, total,
                    size > off + plen + 4 ? (uint32_t)data[off + plen] << 24 |
                    (uint32_t)data[off + plen + 1] << 16 | (uint32_t)data[off + plen + 2] << 8 |
                    data[off + plen + 3] : 0);
    rc = pmul_fec_params_decode(&p, data[0], data + off, plen, total);
    if (rc != 0) {
        CHECK(rc == PMUL_ERR_FEC_ID || rc == PMUL_ERR_FEC_PARAM, "decode: %d", rc);
        return 0;
    }
    CHECK(data[0] == PMUL_FEC_ID_RS8 && plen == PMUL_FEC_PARAM_LEN, "accepted id %u len %u",
          data[0], plen);
    CHECK(p.blocks.total_pdus == total && total > 0, "total");
    CHECK(p.blocks.block_cnt >= 1 && p.blocks.block_cnt <= total, "blocks");
    CHECK(p.blocks.k_large + p.repair_cnt <= PMUL_FEC_N_MAX, "k + r");
    CHECK(p.last_len >= 1 && p.last_len <= p.symbol_len, "lengths");
    CHECK((unsigned)total + (unsigned)p.repair_cnt * p.blocks.block_cnt <= UINT16_MAX, "seq space");
    CHECK(pmul_fec_params_encode(&p, enc, sizeof(enc)) == PMUL_FEC_PARAM_LEN &&
          memcmp(enc, data + off, PMUL_FEC_PARAM_LEN) == 0, "re-encode");
    off += plen;

    for (i = 0; i < p.blocks.block_cnt; i++)
        pmul_fec_block_init(&blocks[i], pmul_fec_block_k(&p.blocks, (uint16_t)i));
    for (; size - off >= 2; off += 2) {
        uint16_t seq = (uint16_t)(data[off] << 8 | data[off + 1]), back;
        bool had;

        rc = pmul_fec_seq_map(&p.blocks, seq, &b, &e);
        if (rc != 0) {
            CHECK(rc == PMUL_ERR_RANGE, "seq_map %u: %d", seq, rc);
            CHECK(pmul_fec_feed(&p.blocks, blocks, seq) == PMUL_ERR_RANGE, "feed %u", seq);
            continue;
        }
        CHECK(pmul_fec_seq_of(&p.blocks, b, e, &back) == 0 && back == seq, "seq %u back %u", seq,
              back);
        had = pmul_fec_block_has(&blocks[b], e);
        rc = pmul_fec_feed(&p.blocks, blocks, seq);
        CHECK(rc == (had ? PMUL_ERR_DUPLICATE : 0), "feed %u: %d", seq, rc);
        CHECK(blocks[b].src_cnt <= blocks[b].k && blocks[b].held_cnt <= PMUL_FEC_N_MAX, "counts");
    }

    m = tmem_make(&t);
    t.max_len = 1u << 22;
    if (fail_after != 0)
        tmem_fail_after(&t, fail_after - 1);
    if ((rc = pmul_fec_new(&f, &m)) != 0) {
        CHECK(rc == PMUL_ERR_NOMEM && t.armed, "new: %d", rc);
        return 0;
    }
    sym_len = p.symbol_len < SYM_MAX ? p.symbol_len : SYM_MAX;
    for (i = 0; i < p.blocks.block_cnt && done < 4; i++) {
        if (!pmul_fec_can_recover(&blocks[i]) || pmul_fec_block_is_complete(&blocks[i]))
            continue;
        recover_block(f, &p, (uint16_t)i, sym_len, &t);
        done++;
    }
    pmul_fec_free(f);
    CHECK(t.live == 0, "leak: %ld blocks", t.live);
    return 0;
}
