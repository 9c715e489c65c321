/*
 * mule_cdt.h: the MULE wrapping of a message (RFC 8494 section 3.2):
 * content octets -> zlib (RFC 1950) -> CompressedData with
 * contentType-ShortForm mule(25), BER encoded; and back.
 *
 * The content is the BSMTP-like payload (envelope lines, empty line,
 * RFC 5322 message); this module does not look inside it.  The BER layer
 * is mule_ber.h; this one adds zlib, the content-type and algorithm rules
 * (docs/decisions.md decisions 2 and 3) and the limits that turn a zlib bomb
 * into an error code instead of an outage.
 *
 * Memory: every allocation (zlib's state and window, the intermediate
 * zlib stream) goes through the injected allocator m (NULL: libc); the
 * output goes to a buf the caller initialised, whose own allocator and cap
 * apply.  asn1c's decoder allocates internally with libc, bounded by the
 * input length (mule_ber.c).
 */
#ifndef MULE_CDT_H
#define MULE_CDT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mule/mule_ber.h"
#include "mule/mule_err.h"
#include "pmul/util/buf.h"
#include "pmul/util/mem.h"

/* Defaults (mule_cdt_config_init). */
#define MULE_CDT_DEFAULT_LEVEL        6             /* zlib's own default */
#define MULE_CDT_DEFAULT_MAX_INFLATED ((size_t)64 << 20)  /* 64 MiB */
#define MULE_CDT_DEFAULT_MAX_RATIO    1000u
#define MULE_CDT_DEFAULT_RATIO_FLOOR  ((size_t)1 << 20)   /* 1 MiB */

/* *content_type_out when the content type is an OID or does not fit an
 * int (mule_ber_info has the details). */
#define MULE_CDT_CT_OTHER             (-1)

typedef struct mule_cdt_config {
    /* Encoding. */
    int zlib_level;         /* 0 (stored) .. 9, or -1 for zlib's default (6) */
    bool explicit_tags;     /* emit the RFC 8494 EXPLICIT form; default is
                             * the STANAG 4406 IMPLICIT form (decision 2) */
    /* Decoding (both forms are always accepted). */
    size_t max_inflated;    /* hard cap on the inflated content, octets;
                             * must be > 0 */
    unsigned max_ratio;     /* cap on inflated / compressed octets, enforced
                             * once the output exceeds ratio_floor; 0 = off */
    size_t ratio_floor;     /* output size below which any ratio is fine */
} mule_cdt_config;

/*
 * Fill *cfg with the defaults: level 6, IMPLICIT tags, 64 MiB inflated,
 * ratio 1000:1 beyond 1 MiB.  Why 1000:1: deflate cannot exceed about
 * 1032:1, which only content made almost entirely of one short repeated
 * pattern approaches; mail text compresses about 2-3:1
 * (docs/benchmarks.md), while a bomb of zeros is caught after about 1 MiB
 * of output instead of 64 MiB.  A sender of such content can still be
 * received by raising max_ratio or setting it to 0 (then only
 * max_inflated applies).
 */
void mule_cdt_config_init(mule_cdt_config *cfg);

/*
 * Compress content[0..len) (borrowed) with zlib at cfg->zlib_level and
 * append the CompressedData BER (contentType mule, algorithm zlib, tags
 * as cfg->explicit_tags says) to *out.  cfg NULL means the defaults.
 *
 * Returns 0, or:
 *   MULE_ERR_INVAL    bad level, NULL argument, or a zlib stream too long
 *                     for asn1c (over INT_MAX octets);
 *   MULE_ERR_NOMEM    an allocation failed (retry later; nothing is lost);
 *   MULE_ERR_NOSPACE  *out's cap is too small for the result;
 *   MULE_ERR_DEFLATE  zlib failed (a bug or a broken zlib);
 *   MULE_ERR_BER      asn1c refused to encode (a bug).
 * On failure *out is as on entry.
 */
__attribute__((warn_unused_result))
int mule_cdt_encode(const mule_cdt_config *cfg, const mem *m,
                    const uint8_t *content, size_t len, buf *out);

/*
 * Decode a CompressedData value ber[0..len) (borrowed, untrusted) and
 * append the inflated content to *content_out.  cfg NULL means the
 * defaults.  *content_type_out (may be NULL) receives the
 * contentType-ShortForm whenever the BER itself decoded, so the caller
 * can log what it received even when the message is not MULE; otherwise
 * (and for an OID) it is MULE_CDT_CT_OTHER.
 *
 * Inflation is incremental: the output grows chunk by chunk, never by a
 * size the peer states, and stops as soon as a cap is crossed.
 *
 * Returns 0, or:
 *   MULE_ERR_BER, MULE_ERR_BER_TRAILING  malformed BER (drop, count);
 *   MULE_ERR_NOT_MULE   contentType is not 25 (keep the message as
 *                       undeliverable and log the type: decision 3);
 *   MULE_ERR_ALGORITHM  algorithm is not zlibCompress(0);
 *   MULE_ERR_INFLATE    the zlib stream is corrupt, truncated, needs a
 *                       dictionary, fails its Adler-32, or is followed by
 *                       extra octets;
 *   MULE_ERR_TOO_BIG    the content exceeds cfg->max_inflated or the cap
 *                       of *content_out;
 *   MULE_ERR_RATIO      the compression ratio exceeds cfg->max_ratio;
 *   MULE_ERR_NOMEM      an allocation failed (retry later);
 *   MULE_ERR_INVAL      NULL argument or max_inflated == 0.
 * When a message is not MULE, the algorithm is checked only after that,
 * so NOT_MULE wins over ALGORITHM.  On failure *content_out is as on
 * entry (its allocation may have grown).
 */
__attribute__((warn_unused_result))
int mule_cdt_decode(const mule_cdt_config *cfg, const mem *m,
                    const uint8_t *ber, size_t len, buf *content_out,
                    int *content_type_out);

/*
 * mule_cdt_decode() that also reports the whole header (form, algorithm
 * and content type including OIDs as text) in *info (may be NULL), which
 * is filled whenever the BER decoded (and zeroed otherwise).
 */
__attribute__((warn_unused_result))
int mule_cdt_decode_info(const mule_cdt_config *cfg, const mem *m,
                         const uint8_t *ber, size_t len, buf *content_out,
                         mule_ber_info *info);

#endif
