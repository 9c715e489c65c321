/*
 * NAME
 *	mule_ber - BER codec for CompressedData (the only asn1c user)
 * SYNOPSIS
 *	#include "mule/mule_ber.h"
 * DESCRIPTION
 *	Decodes and encodes the CompressedData SEQUENCE of STANAG 4406
 *	Annex E that carries a MULE message (RFC 8494 section 3.2;
 *	docs/wire.md 6.1-6.3) with the code asn1c 0.9.28 generates from
 *	asn1/CompressedData.asn1 at build time.  That file holds the type
 *	twice, once per tagging form, with distinct type names; this file
 *	picks one by the octet after the outer SEQUENCE header (a
 *	primitive context tag means IMPLICIT, a constructed one EXPLICIT),
 *	as the spec's decision 2 prescribes, and converts between asn1c's
 *	structures and the plain struct mule_ber_info so that no asn1c
 *	type leaks into any header.
 *
 *	Decoding is one ber_decode() call with a bounded stack, followed
 *	by a flat list of checks; the compressedContent octets are copied
 *	out before the asn1c structure is freed, on every path.  Encoding
 *	runs der_encode() twice: once to learn the length, so *out grows
 *	once, and once to write.
 * SECURITY
 *	Sees untrusted BER from the network.  asn1c checks every length
 *	against the bytes it was given before it allocates, so its
 *	allocations are bounded by the input length; we require RC_OK and
 *	that the value uses every input octet.  Our own look at the outer
 *	header goes through asn1c's tag and length fetchers and the
 *	bounds-checked cursor (pmul/util/cur.h).
 * DIAGNOSTICS
 *	Returns MULE_ERR_* codes (mule_err.h); logs nothing.
 * SEE ALSO
 *	asn1/README, mule_cdt(3), X.690 (BER/DER), docs/wire.md section 6.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "mule/mule_ber.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "pmul/util/cur.h"

#include "CompressedData-Explicit.h"
#include "CompressedData-Implicit.h"
#include "ber_tlv_length.h"
#include "ber_tlv_tag.h"

/* Identifier-octet bits (X.690 8.1.2). */
#define ID_CLASS_MASK     0xC0u
#define ID_CLASS_CONTEXT  0x80u
#define ID_CONSTRUCTED    0x20u

/* Arcs shown in logged OID text; more are summarised as "...". */
#define OID_ARCS_SHOWN    20

/*
 * Render an OBJECT IDENTIFIER as dotted text for logs.  asn1c keeps the
 * raw contents octets; an encoding it cannot split into arcs (or arcs
 * beyond unsigned long) is shown as "invalid" rather than failing the
 * decode, because the caller only logs it before rejecting the message.
 */
static void
oid_text(const OBJECT_IDENTIFIER_t *oid, char *out, size_t outlen)
{
    unsigned long arcs[OID_ARCS_SHOWN];
    size_t used = 0;
    int cnt, shown, i, n;

    out[0] = '\0';
    cnt = OBJECT_IDENTIFIER_get_arcs(oid, arcs, sizeof(arcs[0]), OID_ARCS_SHOWN);
    if (cnt <= 0) {
        (void)snprintf(out, outlen, "invalid");
        return;
    }
    shown = cnt < OID_ARCS_SHOWN ? cnt : OID_ARCS_SHOWN;
    for (i = 0; i < shown; i++) {
        n = snprintf(out + used, outlen - used, "%s%lu", i ? "." : "", arcs[i]);
        if (n < 0 || (size_t)n >= outlen - used)
            goto cut;
        used += (size_t)n;
    }
    if (cnt > shown)
        goto cut;
    return;

cut:
    /* Truncation is acceptable for a log field, but say so: append
     * "...", or overwrite the last octets when the text is full. */
    used = strlen(out);
    if (outlen >= 4)
        memcpy(out + (used + 4 <= outlen ? used : outlen - 4), "...", 4);
}

/*
 * The two forms have identical C layouts but distinct asn1c types, so the
 * conversions are written once per form through these macros rather than
 * by casting one type to the other.
 */
#define CDT_TO_INFO(cd, FORM, info)                                          \
    do {                                                                     \
        switch ((cd)->compressionAlgorithm.present) {                        \
        case CompressionAlgorithmIdentifier_##FORM##_PR_algorithmID_ShortForm: \
            (info)->algorithm =                                              \
                (cd)->compressionAlgorithm.choice.algorithmID_ShortForm;     \
            break;                                                           \
        case CompressionAlgorithmIdentifier_##FORM##_PR_algorithmID_OID:     \
            (info)->algorithm_is_oid = true;                                 \
            oid_text(&(cd)->compressionAlgorithm.choice.algorithmID_OID,     \
                     (info)->algorithm_oid, sizeof((info)->algorithm_oid));  \
            break;                                                           \
        default:                                                             \
            goto fail_ber;                                                   \
        }                                                                    \
        switch ((cd)->compressedContentInfo.contentType.present) {           \
        case CompressedContentInfo_##FORM##__contentType_PR_contentType_ShortForm: \
            (info)->content_type = (cd)->compressedContentInfo.contentType   \
                                       .choice.contentType_ShortForm;        \
            break;                                                           \
        case CompressedContentInfo_##FORM##__contentType_PR_contentType_OID: \
            (info)->content_type_is_oid = true;                              \
            oid_text(&(cd)->compressedContentInfo.contentType.choice         \
                          .contentType_OID,                                  \
                     (info)->content_type_oid,                               \
                     sizeof((info)->content_type_oid));                      \
            break;                                                           \
        default:                                                             \
            goto fail_ber;                                                   \
        }                                                                    \
        octets = &(cd)->compressedContentInfo.compressedContent;             \
    } while (0)

#define CDT_FROM_INFO(cd, FORM, info, bytes, len)                            \
    do {                                                                     \
        memset((cd), 0, sizeof(*(cd)));                                      \
        (cd)->compressionAlgorithm.present =                                 \
            CompressionAlgorithmIdentifier_##FORM##_PR_algorithmID_ShortForm; \
        (cd)->compressionAlgorithm.choice.algorithmID_ShortForm =            \
            (info)->algorithm;                                               \
        (cd)->compressedContentInfo.contentType.present =                    \
            CompressedContentInfo_##FORM##__contentType_PR_contentType_ShortForm; \
        (cd)->compressedContentInfo.contentType.choice.contentType_ShortForm = \
            (info)->content_type;                                            \
        /* asn1c's OCTET_STRING_t has no const; der_encode only reads. */    \
        (cd)->compressedContentInfo.compressedContent.buf =                  \
            (uint8_t *)(uintptr_t)(bytes);                                   \
        (cd)->compressedContentInfo.compressedContent.size = (int)(len);     \
    } while (0)

/*
 * Which form does ber[0..len) use?  Returns 1 for EXPLICIT, 0 for
 * IMPLICIT, or MULE_ERR_BER when the outer header is not a SEQUENCE or
 * what follows it is not a context-specific tag.  Only the identifier
 * octet of the first component is examined; asn1c validates the rest.
 */
static int
detect_form(const uint8_t *ber, size_t len)
{
    ber_tlv_tag_t tag;
    ber_tlv_len_t vlen;
    ssize_t n;
    uint8_t id;
    cur c;

    cur_init(&c, ber, len);
    if (!cur_peek_u8(&c, &id) || (id & ID_CONSTRUCTED) == 0)
        return MULE_ERR_BER;
    n = ber_fetch_tag(c.p, c.left, &tag);
    if (n <= 0 || tag != (ASN_TAG_CLASS_UNIVERSAL | (16 << 2)))
        return MULE_ERR_BER;
    if (!cur_skip(&c, (size_t)n))
        return MULE_ERR_BER;
    n = ber_fetch_length(1, c.p, c.left, &vlen);
    if (n <= 0 || !cur_skip(&c, (size_t)n))
        return MULE_ERR_BER;
    if (!cur_peek_u8(&c, &id) || (id & ID_CLASS_MASK) != ID_CLASS_CONTEXT)
        return MULE_ERR_BER;
    return (id & ID_CONSTRUCTED) != 0;
}

int
mule_ber_decode(const uint8_t *ber, size_t len, mule_ber_info *info,
                buf *compressed)
{
    asn_codec_ctx_t ctx;
    asn_TYPE_descriptor_t *td;
    asn_dec_rval_t rv;
    const OCTET_STRING_t *octets = NULL;
    void *st = NULL;
    int form, err;

    if (ber == NULL || info == NULL || compressed == NULL)
        return MULE_ERR_INVAL;
    memset(info, 0, sizeof(*info));
    if ((form = detect_form(ber, len)) < 0)
        return form;
    info->explicit_tags = form == 1;
    td = info->explicit_tags ? &asn_DEF_CompressedData_Explicit
                             : &asn_DEF_CompressedData_Implicit;

    /* asn1c measures the stack from the context's address, so the
     * context lives here, on our stack (asn_codecs.h). */
    memset(&ctx, 0, sizeof(ctx));
    ctx.max_stack_size = MULE_BER_MAX_STACK;
    rv = ber_decode(&ctx, td, &st, ber, len);
    if (rv.code != RC_OK)
        goto fail_ber;                  /* RC_WMORE: truncated; RC_FAIL */
    if (rv.consumed != len) {
        err = MULE_ERR_BER_TRAILING;
        goto fail;
    }

    if (info->explicit_tags) {
        const CompressedData_Explicit_t *cd = st;
        CDT_TO_INFO(cd, Explicit, info);
    } else {
        const CompressedData_Implicit_t *cd = st;
        CDT_TO_INFO(cd, Implicit, info);
    }
    /* asn1c's size is an int; it never stores a negative one, but the
     * conversion to size_t must not be trusted blindly. */
    if (octets->size < 0 || (octets->size > 0 && octets->buf == NULL))
        goto fail_ber;
    info->compressed_len = (size_t)octets->size;
    if ((err = buf_append(compressed, octets->buf, info->compressed_len)) != 0) {
        err = mule_err_from_buf(err);
        goto fail;
    }
    ASN_STRUCT_FREE(*td, st);
    return 0;

fail_ber:
    err = MULE_ERR_BER;
fail:
    /* Partial structures are freed too (asn1c keeps what it decoded),
     * and nothing half-decoded is reported. */
    if (st != NULL)
        ASN_STRUCT_FREE(*td, st);
    memset(info, 0, sizeof(*info));
    return err;
}

/* der_encode() callback: append to the buf, which encode() reserved. */
static int
append_cb(const void *p, size_t n, void *arg)
{
    return buf_append(arg, p, n) == 0 ? 0 : -1;
}

int
mule_ber_encode(const mule_ber_info *info, const uint8_t *compressed,
                size_t len, buf *out)
{
    CompressedData_Explicit_t ecd;
    CompressedData_Implicit_t icd;
    asn_TYPE_descriptor_t *td;
    asn_enc_rval_t rv;
    void *cd;
    size_t start;
    int err;

    if (info == NULL || out == NULL || (compressed == NULL && len != 0))
        return MULE_ERR_INVAL;
    if (info->algorithm_is_oid || info->content_type_is_oid || len > INT_MAX)
        return MULE_ERR_INVAL;
    if (info->explicit_tags) {
        CDT_FROM_INFO(&ecd, Explicit, info, compressed, len);
        td = &asn_DEF_CompressedData_Explicit;
        cd = &ecd;
    } else {
        CDT_FROM_INFO(&icd, Implicit, info, compressed, len);
        td = &asn_DEF_CompressedData_Implicit;
        cd = &icd;
    }

    /* Pass 1 measures (no callback), so *out grows once and the write
     * pass cannot fail half way through for lack of memory. */
    rv = der_encode(td, cd, NULL, NULL);
    if (rv.encoded < 0)
        return MULE_ERR_BER;
    if ((err = buf_reserve(out, (size_t)rv.encoded)) != 0)
        return mule_err_from_buf(err);
    start = out->len;
    rv = der_encode(td, cd, append_cb, out);
    if (rv.encoded < 0 || out->len - start != (size_t)rv.encoded) {
        out->len = start;
        return MULE_ERR_BER;
    }
    /* The structures point at the caller's bytes and own nothing, so
     * there is nothing to free. */
    return 0;
}
