/*
 * mule_ber.h: BER encoding and decoding of CompressedData (STANAG 4406
 * Annex E, carried by MULE, RFC 8494 section 3.2).
 *
 * The one BER codec of the project.  It wraps the asn1c-generated code of
 * asn1/CompressedData.asn1, but no asn1c type appears here: callers see
 * the plain struct mule_ber_info and the compressed bytes.  Both tagging
 * forms are decoded (docs/wire.md 6.2, docs/decisions.md decision 2): the
 * STANAG 4406 / Wireshark IMPLICIT form (`80 01 00`) and the EXPLICIT form
 * of the RFC 8494 module text (`a0 03 02 01 00`).  The encoder writes
 * DER-style definite lengths in either form.
 *
 * This layer does not interpret the values: mule_cdt.h checks the
 * algorithm and content type and inflates the zlib stream.
 */
#ifndef MULE_BER_H
#define MULE_BER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mule/mule_err.h"
#include "pmul/util/buf.h"

/* AlgorithmID-ShortForm values. */
#define MULE_ALG_ZLIB           0

/* ContentType-ShortForm values (STANAG 4406 Annex E; mule from RFC 8494). */
#define MULE_CT_UNIDENTIFIED    0
#define MULE_CT_EXTERNAL        1
#define MULE_CT_P1              2
#define MULE_CT_P3              3
#define MULE_CT_P7              4
#define MULE_CT_MULE            25

/* Room for an OBJECT IDENTIFIER in dotted text, with its NUL.  Longer
 * OIDs are cut and end in "..." (the text is for logs only). */
#define MULE_BER_OID_TEXT_MAX   96

/* Stack budget handed to asn1c (asn_codec_ctx_t.max_stack_size), bytes. */
#define MULE_BER_MAX_STACK      65536

/*
 * The CompressedData header fields.  On decode every field is filled; on
 * encode only explicit_tags, algorithm and content_type are read (the
 * encoder writes the ShortForm alternatives only; we never emit OIDs).
 */
typedef struct mule_ber_info {
    bool explicit_tags;         /* RFC 8494 EXPLICIT form (else IMPLICIT) */
    bool algorithm_is_oid;      /* algorithmID-OID was chosen */
    long algorithm;             /* algorithmID-ShortForm, if !algorithm_is_oid */
    char algorithm_oid[MULE_BER_OID_TEXT_MAX];  /* dotted, if algorithm_is_oid */
    bool content_type_is_oid;   /* contentType-OID was chosen */
    long content_type;          /* contentType-ShortForm, if !content_type_is_oid */
    char content_type_oid[MULE_BER_OID_TEXT_MAX];
    size_t compressed_len;      /* octets of compressedContent */
} mule_ber_info;

/*
 * Decode one CompressedData value occupying exactly ber[0..len).  ber is
 * borrowed.  On success *info describes the header and the
 * compressedContent octets are appended to *compressed (which the caller
 * initialised; its allocator and cap apply).  The copy is never larger
 * than len, so no length the peer claims sizes an allocation.
 *
 * The form is chosen by the first octet after the outer SEQUENCE header:
 * a primitive context tag (0x80, 0x81) selects the IMPLICIT module, a
 * constructed one (0xa0, 0xa1) the EXPLICIT module; asn1c then decodes the
 * whole value with a bounded stack (MULE_BER_MAX_STACK).  Definite and
 * indefinite (BER) lengths and constructed OCTET STRINGs are accepted.
 *
 * Returns 0, or:
 *   MULE_ERR_BER           malformed or truncated BER, wrong structure, an
 *                          integer that does not fit a long (drop: the
 *                          message is unreadable);
 *   MULE_ERR_BER_TRAILING  a valid value followed by extra octets (drop);
 *   MULE_ERR_NOMEM         *compressed could not grow (retry later);
 *   MULE_ERR_NOSPACE       *compressed's cap is too small;
 *   MULE_ERR_INVAL         NULL argument.
 * On failure *compressed is as on entry and *info is zeroed.
 */
__attribute__((warn_unused_result))
int mule_ber_decode(const uint8_t *ber, size_t len, mule_ber_info *info,
                    buf *compressed);

/*
 * Encode a CompressedData value with the ShortForm alternatives
 * info->algorithm and info->content_type, in the form info->explicit_tags
 * selects, around compressed[0..len) (borrowed; any bytes, normally a
 * zlib stream).  Lengths are definite and minimal (DER style).  The value
 * is appended to *out.
 *
 * Returns 0, or MULE_ERR_INVAL (NULL argument, OID alternative requested,
 * len above INT_MAX, which asn1c cannot represent), MULE_ERR_NOMEM,
 * MULE_ERR_NOSPACE (out's cap), MULE_ERR_BER (asn1c refused to encode: a
 * bug).  On failure *out is as on entry.
 */
__attribute__((warn_unused_result))
int mule_ber_encode(const mule_ber_info *info, const uint8_t *compressed,
                    size_t len, buf *out);

#endif
