/*
 * pmul_fec.h: systematic Reed-Solomon repair for P_MUL messages (sans I/O).
 *
 * FEC_ID 0x81 "mule-RS8" (docs/wire.md, section "FEC repair"): a message
 * of N source Data_PDUs (sequence numbers 1..N) is cut into Z source
 * blocks of k_large or k_small = k_large - 1 symbols (RFC 5052 9.1
 * partitioning: the first large_cnt blocks are the large ones).  A symbol
 * is one Data_PDU fragment; all have symbol_len octets except the last of
 * the message (last_len, zero-padded for coding).  Block b has source
 * symbols ESI 0..k_b-1 and repair symbols ESI k_b+j (j >= 0, k_b+j <= 254)
 * built from a Cauchy matrix over GF(2^8) (ISA-L gf_gen_cauchy1_matrix):
 * repair j of a block depends only on k_b and j, never on how many repair
 * symbols are sent, so later rounds may send fresh ones.  Repair j of
 * block b travels as a Data_PDU with Sequence_Number N + 1 + j*Z + b.
 *
 * Three parts:
 *   - layout and parameters: pure functions on small structs;
 *   - encoder (pmul_fec): repair symbols into the caller's buffer, with
 *     the coding tables cached per k so the per-PDU path does not build
 *     matrices or allocate once pmul_fec_prepare() has run;
 *   - decoder: a pmul_fec_block per source block records which ESIs are
 *     held (no symbol data: the caller keeps the fragments), and
 *     pmul_fec_recover() rebuilds the missing source symbols from any k.
 * Memory comes through the injected mem (pmul/util/mem.h).
 */
#ifndef PMUL_PMUL_FEC_H
#define PMUL_PMUL_FEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pmul/pmul_err.h"
#include "pmul/util/mem.h"

#define PMUL_FEC_ID_RS8      0x81u  /* FEC_ID of the FEC_Address_PDU */
#define PMUL_FEC_VERSION     1u     /* octet 0 of FEC_Parameters */
#define PMUL_FEC_PARAM_LEN   8u     /* FEC_Parameter_Length we send */
#define PMUL_FEC_N_MAX       255u   /* k + repair symbols of one block */
#define PMUL_FEC_ESI_MAX     254u   /* highest encoding symbol index */
#define PMUL_FEC_SYMBOL_MAX  65519u /* largest Data_PDU fragment */

/* How N source PDUs are cut into blocks (RFC 5052 9.1). */
typedef struct pmul_fec_blocks {
    uint16_t total_pdus;   /* N: source Data_PDUs, 1..65535 */
    uint16_t block_cnt;    /* Z: 1..N */
    uint16_t large_cnt;    /* blocks 0..large_cnt-1 have k_large symbols */
    uint8_t k_large;       /* ceil(N / Z), 1..255 */
    uint8_t k_small;       /* floor(N / Z), >= 1 */
} pmul_fec_blocks;

/* What FEC_Parameters carry (with N from Total_Number_of_PDUs). */
typedef struct pmul_fec_params {
    pmul_fec_blocks blocks;
    uint16_t symbol_len;   /* fragment octets of every PDU but the last */
    uint16_t last_len;     /* fragment octets of PDU N, 1..symbol_len */
    uint8_t repair_cnt;    /* repair PDUs per block in this transmission */
} pmul_fec_params;

/*
 * Cut total_pdus (>= 1) into ceil(total_pdus / max_block) balanced blocks;
 * max_block is 1..255 (use 255 - r to leave room for r repair symbols).
 * Returns 0, or PMUL_ERR_INVAL (out NULL) or PMUL_ERR_RANGE (a count out
 * of range).
 */
__attribute__((warn_unused_result))
int pmul_fec_layout(uint16_t total_pdus, unsigned max_block, pmul_fec_blocks *out);

/* Source symbols of block b (0 when b >= block_cnt). */
unsigned pmul_fec_block_k(const pmul_fec_blocks *l, uint16_t b);

/*
 * Map a Data_PDU sequence number to (block, ESI): 1..N are source symbols,
 * above N repair symbols.  Returns 0, or PMUL_ERR_RANGE for 0 or a number
 * that names no symbol (a repair index past ESI 254).
 */
__attribute__((warn_unused_result))
int pmul_fec_seq_map(const pmul_fec_blocks *l, uint16_t seq, uint16_t *block, uint8_t *esi);

/*
 * Sequence number of ESI esi of block b (source or repair).  Returns 0, or
 * PMUL_ERR_RANGE when b or esi is out of range or the number would pass
 * 65535 (the 16-bit field bounds how many repair PDUs a message can have).
 */
__attribute__((warn_unused_result))
int pmul_fec_seq_of(const pmul_fec_blocks *l, uint16_t b, unsigned esi, uint16_t *seq);

/*
 * Check *p and write its PMUL_FEC_PARAM_LEN octets to out[0..cap).
 * Returns the length, or PMUL_ERR_NOSPACE, or PMUL_ERR_FEC_PARAM when *p
 * breaks a rule of pmul_fec_params_decode().
 */
__attribute__((warn_unused_result))
ssize_t pmul_fec_params_encode(const pmul_fec_params *p, uint8_t *out, size_t cap);

/*
 * Decode the FEC_ID and FEC_Parameters of a FEC_Address_PDU (borrowed;
 * untrusted) for a message of total_pdus Data_PDUs.  Returns 0, or:
 *   PMUL_ERR_FEC_ID    not our scheme or version: ignore FEC and receive
 *                      the message by plain selective repeat;
 *   PMUL_ERR_FEC_PARAM malformed or inconsistent (wrong length, a zero or
 *                      out-of-range count, blocks over 255 symbols, repair
 *                      numbers past 65535): ditto, and count the PDU.
 */
__attribute__((warn_unused_result))
int pmul_fec_params_decode(pmul_fec_params *p, uint8_t fec_id, const uint8_t *buf, size_t len,
                           uint16_t total_pdus);

/* ---- joint repair of several messages (version 2) ----------------------------------------- */

/*
 * A joint round (docs/wire.md 10.8) codes the source symbols of several
 * single-block messages of one source together: the joint block is the
 * members' Data_PDUs 1..N_i, member after member in the listed order,
 * each member's last one zero-padded to symbol_len; its repairs (ESI
 * K + j, K the sum of the N_i) ride as Data_PDUs of the carrier (the
 * message whose FEC_Address_PDU lists the joint set) numbered from
 * pmul_fec_joint_base().  Version 2 FEC_Parameters are the 8 octets of
 * version 1 (the carrier's own layout) and then the joint set.
 */
#define PMUL_FEC_VERSION_JOINT 2u   /* octet 0 of a joint set's parameters */
#define PMUL_FEC_JOINT_MAX     30u  /* members: 12 + 8 x 30 <= 255 octets */
#define PMUL_FEC_JOINT_PARAM_LEN(cnt) (12u + 8u * (unsigned)(cnt))

typedef struct pmul_fec_member {
    uint32_t msid;         /* Message_ID of a message of the same source */
    uint16_t total_pdus;   /* its N: source Data_PDUs */
    uint16_t last_len;     /* its Data_PDU N's fragment octets */
} pmul_fec_member;

typedef struct pmul_fec_joint {
    uint8_t cnt;           /* members, 2..PMUL_FEC_JOINT_MAX; 0: no joint set */
    uint8_t repair_cnt;    /* R: joint repairs of this set sent so far, this
                            * round's included: numbers G + j0 .. G + j0 +
                            * R - 1, ESIs K .. K + R - 1 */
    uint16_t j0;           /* the set's first joint repair is G + j0: a
                            * carrier's sets take disjoint ranges, so a
                            * repair names its set by its number */
    uint16_t k;            /* K: the members' N summed, 2..254 */
    pmul_fec_member mem[PMUL_FEC_JOINT_MAX];
} pmul_fec_joint;

/*
 * pmul_fec_params_encode() with a joint set: g NULL or g->cnt 0 writes
 * version 1; else version 2, PMUL_FEC_JOINT_PARAM_LEN(g->cnt) octets, for
 * the carrier msid (a member whose N and last_len are p's).  Returns the
 * length, PMUL_ERR_NOSPACE, or PMUL_ERR_FEC_PARAM (a rule of
 * pmul_fec_params_decode2() broken).
 */
__attribute__((warn_unused_result))
ssize_t pmul_fec_params_encode2(const pmul_fec_params *p, const pmul_fec_joint *g, uint32_t msid,
                                uint8_t *out, size_t cap);

/*
 * pmul_fec_params_decode() that also takes version 2: *g gets the joint set
 * (cnt 0 for version 1).  The carrier msid must be a member, with N =
 * total_pdus and the carrier's last_len; members are distinct, each N
 * 1..255 and last_len 1..symbol_len; K <= 254; K + R <= 255; the
 * set's numbers G + j0 .. G + j0 + R - 1 fit in 16 bits.  g may be NULL: version 2
 * then decodes (checked the same) and the joint set is not returned.
 */
__attribute__((warn_unused_result))
int pmul_fec_params_decode2(pmul_fec_params *p, pmul_fec_joint *g, uint8_t fec_id,
                            const uint8_t *buf, size_t len, uint16_t total_pdus, uint32_t msid);

/* First joint repair number of a carrier with layout l: above every
 * number its own blocks' repairs can take (N + 255 x Z + 1). */
unsigned pmul_fec_joint_base(const pmul_fec_blocks *l);

/*
 * Joint repair j of the set (ESI g->k + j) of carrier layout l as a
 * sequence number, G + j0 + j.  Returns 0, or PMUL_ERR_RANGE (ESI past
 * 254, number past 65535).  The sender announces R > j before it goes.
 */
__attribute__((warn_unused_result))
int pmul_fec_joint_seq_of(const pmul_fec_blocks *l, const pmul_fec_joint *g, unsigned j,
                          uint16_t *seq);

/*
 * Map a carrier Data_PDU number to its joint ESI (K + j).  Returns 0, or
 * PMUL_ERR_RANGE for a number that is not a joint repair of g: outside
 * G + j0 .. G + j0 + R - 1.
 */
__attribute__((warn_unused_result))
int pmul_fec_joint_seq_map(const pmul_fec_blocks *l, const pmul_fec_joint *g, uint16_t seq,
                           uint8_t *esi);

/* ESI of member i's Data_PDU 1 in the joint block (K when i >= cnt). */
unsigned pmul_fec_joint_offset(const pmul_fec_joint *g, unsigned i);

/* Index of member msid in g, or -1. */
int pmul_fec_joint_find(const pmul_fec_joint *g, uint32_t msid);

/* ---- encoder ------------------------------------------------------------ */

typedef struct pmul_fec pmul_fec;

/*
 * New encoder/decoder context with its table cache; m may be NULL (libc).
 * Returns 0, or PMUL_ERR_INVAL, PMUL_ERR_NOMEM.
 */
__attribute__((warn_unused_result))
int pmul_fec_new(pmul_fec **out, const mem *m);
void pmul_fec_free(pmul_fec *f);

/*
 * Build and cache the tables for blocks of k source symbols and repair
 * indexes 0..r-1, so that pmul_fec_encode() for them allocates nothing.
 * Returns 0, or PMUL_ERR_RANGE (k 0, or k + r > 255), PMUL_ERR_NOMEM.
 */
__attribute__((warn_unused_result))
int pmul_fec_prepare(pmul_fec *f, unsigned k, unsigned r);

/*
 * Repair symbols j0..j0+cnt-1 of a block of k source symbols.  src[0..k)
 * are borrowed: src[0..k-1) hold sym_len octets, src[k-1] last_len
 * (1..sym_len; the rest counts as zeros).  out[i] receives sym_len octets
 * of repair j0+i.  Returns 0, or PMUL_ERR_INVAL (NULL pointer, sym_len 0
 * or above PMUL_FEC_SYMBOL_MAX, bad last_len), PMUL_ERR_RANGE (k 0 or
 * k + j0 + cnt > 255), PMUL_ERR_NOMEM (tables not prepared and no memory).
 */
__attribute__((warn_unused_result))
int pmul_fec_encode_n(pmul_fec *f, const uint8_t *const *src, unsigned k, size_t sym_len,
                      size_t last_len, unsigned j0, unsigned cnt, uint8_t *const *out);

/* pmul_fec_encode_n() for one repair symbol j into out. */
__attribute__((warn_unused_result))
int pmul_fec_encode(pmul_fec *f, const uint8_t *const *src, unsigned k, size_t sym_len,
                    size_t last_len, unsigned j, uint8_t *out);

/* ---- decoder ------------------------------------------------------------ */

/* Which ESIs of one source block are held.  Embedded, no allocation. */
typedef struct pmul_fec_block {
    uint64_t held[4];      /* bit e: ESI e held */
    uint16_t held_cnt;     /* distinct ESIs held */
    uint8_t k;             /* source symbols of the block */
    uint8_t src_cnt;       /* source ESIs held */
} pmul_fec_block;

/* Empty state for a block of k source symbols (1..255). */
void pmul_fec_block_init(pmul_fec_block *b, unsigned k);

/*
 * Record that ESI esi is held.  Returns 0, or PMUL_ERR_DUPLICATE (already
 * held: nothing changes), PMUL_ERR_RANGE (esi > 254 or k 0).
 */
__attribute__((warn_unused_result))
int pmul_fec_block_add(pmul_fec_block *b, unsigned esi);

bool pmul_fec_block_has(const pmul_fec_block *b, unsigned esi);
/* True when every source symbol is held (nothing to recover). */
bool pmul_fec_block_is_complete(const pmul_fec_block *b);
/* True when any k distinct symbols are held. */
bool pmul_fec_can_recover(const pmul_fec_block *b);

/*
 * Map seq to its block with pmul_fec_seq_map() and add it to
 * blocks[0..block_cnt).  Returns what those return.
 */
__attribute__((warn_unused_result))
int pmul_fec_feed(const pmul_fec_blocks *l, pmul_fec_block *blocks, uint16_t seq);

/*
 * Rebuild the missing source symbols of block b.  sym[0..k+r) is indexed
 * by ESI (borrowed; sym[e] is non-NULL exactly for the ESIs b holds, and
 * only the first k held are read); each holds sym_len octets, except
 * source ESI k-1, which holds short_len (pass sym_len unless it is the
 * message's last PDU; padding counts as zeros).  sym_cnt is the number of
 * entries of sym.  out[e] for each source ESI e not held receives sym_len
 * octets (for ESI k-1 the octets past short_len come out zero); out[e] of
 * held ESIs is not touched.  Returns 0, or:
 *   PMUL_ERR_INCONSISTENT  fewer than k symbols held (keep waiting);
 *   PMUL_ERR_INVAL         NULL where a pointer is needed, sym and b
 *                          disagree, a length out of range;
 *   PMUL_ERR_NOMEM         scratch could not grow (retry later);
 *   PMUL_ERR_FATAL         ISA-L found a Cauchy submatrix singular, which
 *                          cannot happen with a sound library: tear down.
 */
__attribute__((warn_unused_result))
int pmul_fec_recover(pmul_fec *f, const pmul_fec_block *b, const uint8_t *const *sym, size_t sym_cnt,
                     size_t sym_len, size_t short_len, uint8_t *const *out);

/* ---- mixed decoding ------------------------------------------------------ */

/*
 * One equation of pmul_fec_solve(): a repair symbol of the whole block
 * of k (n 0: ESI esi >= k), or of a sub-block of n symbols that starts at
 * ESI off of the block (a joint member's own repair, ESI esi >= n of its
 * own block).
 */
typedef struct pmul_fec_eq {
    const uint8_t *sym;    /* sym_len octets */
    uint8_t esi;
    uint8_t off, n;
} pmul_fec_eq;

/*
 * Rebuild the u missing symbols of a block of k from the held ones and u
 * equations that may come from different codes (joint repairs and the
 * members' own, docs/wire.md 10.8).  sym[0..k) holds sym_len octets per
 * held ESI (short ones padded by the caller) and NULL for the missing,
 * which out[e] receives.  Returns 0, or:
 *   PMUL_ERR_INCONSISTENT  u is not the number missing, or the system is
 *                          singular (rows of two codes together need not
 *                          be invertible: wait for other repairs), or
 *                          larger than the work bound (u x u x sym_len
 *                          over 2^24 octet products);
 *   PMUL_ERR_INVAL         a NULL or an equation out of the block;
 *   PMUL_ERR_NOMEM         scratch could not grow.
 */
__attribute__((warn_unused_result))
int pmul_fec_solve(pmul_fec *f, unsigned k, const uint8_t *const *sym, uint8_t *const *out,
                   const pmul_fec_eq *q, unsigned u, size_t sym_len);

#endif
