/*
 * NAME
 *	fuzz_mule_cdt - libFuzzer target for the CompressedData decoder
 * SYNOPSIS
 *	fuzz_mule_cdt [libFuzzer options] WORK_DIR SEED_DIR
 * DESCRIPTION
 *	Feeds each input to mule_cdt_decode() (BER via asn1c, then zlib)
 *	with small caps (256 KiB inflated, ratio 100:1 past 16 KiB) so that
 *	bombs are cheap, and checks properties on top of "no crash":
 *
 *	  * the result is 0 or one of the documented MULE_ERR_* codes, and
 *	    a failed decode leaves the output buffer empty;
 *	  * whenever mule_ber_decode() accepts the input, re-encoding the
 *	    decoded header and compressed octets (ShortForms only) and
 *	    decoding that again gives the same header and octets;
 *	  * whenever mule_cdt_decode() succeeds, encoding the content again
 *	    and decoding it gives the same content.
 *
 *	Seeds: the BER vectors of tests/vectors/vectors.json, written by
 *	seeds_cdt.py.  Run by meson as the test fuzz_mule_cdt.
 * SECURITY
 *	The whole point is untrusted input; the target itself trusts none.
 * DIAGNOSTICS
 *	abort() on a violated property, so libFuzzer saves the input.
 * SEE ALSO
 *	mule_cdt.h, mule_ber.h, seeds_cdt.py.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mule/mule_ber.h"
#include "mule/mule_cdt.h"
#include "mule/mule_err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond)
{
    if (!cond)
        abort();
}

static int
is_decode_code(int rc)
{
    switch (rc) {
    case 0:
    case MULE_ERR_BER:
    case MULE_ERR_BER_TRAILING:
    case MULE_ERR_NOT_MULE:
    case MULE_ERR_ALGORITHM:
    case MULE_ERR_INFLATE:
    case MULE_ERR_TOO_BIG:
    case MULE_ERR_RATIO:
        return 1;
    }
    return 0;
}

/* BER layer: decode -> encode -> decode is stable. */
static void
ber_round_trip(const uint8_t *data, size_t size)
{
    mule_ber_info a, b;
    buf za, zb, enc;

    buf_init(&za, NULL, SIZE_MAX);
    buf_init(&zb, NULL, SIZE_MAX);
    buf_init(&enc, NULL, SIZE_MAX);
    if (mule_ber_decode(data, size, &a, &za) != 0 || a.algorithm_is_oid
        || a.content_type_is_oid)
        goto out;
    check(za.len == a.compressed_len && za.len <= size);
    check(mule_ber_encode(&a, za.data, za.len, &enc) == 0);
    check(mule_ber_decode(enc.data, enc.len, &b, &zb) == 0);
    check(a.explicit_tags == b.explicit_tags && a.algorithm == b.algorithm
          && a.content_type == b.content_type && za.len == zb.len);
    check(za.len == 0 || memcmp(za.data, zb.data, za.len) == 0);
out:
    buf_fini(&za);
    buf_fini(&zb);
    buf_fini(&enc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mule_cdt_config cfg;
    buf out, enc, again;
    int rc, ct;

    mule_cdt_config_init(&cfg);
    cfg.max_inflated = (size_t)256 << 10;
    cfg.max_ratio = 100;
    cfg.ratio_floor = (size_t)16 << 10;
    cfg.zlib_level = 1;

    buf_init(&out, NULL, SIZE_MAX);
    rc = mule_cdt_decode(&cfg, NULL, data, size, &out, &ct);
    check(is_decode_code(rc));
    check(rc == 0 || out.len == 0);
    check(out.len <= cfg.max_inflated);
    if (rc == 0) {
        check(ct == MULE_CT_MULE);
        buf_init(&enc, NULL, SIZE_MAX);
        buf_init(&again, NULL, SIZE_MAX);
        cfg.explicit_tags = (size & 1) != 0;
        check(mule_cdt_encode(&cfg, NULL, out.data, out.len, &enc) == 0);
        /* The ratio cap may refuse what level 1 produces from a
         * pathological input; the size cap cannot. */
        cfg.max_ratio = 0;
        check(mule_cdt_decode(&cfg, NULL, enc.data, enc.len, &again, &ct) == 0);
        check(again.len == out.len);
        check(out.len == 0 || memcmp(again.data, out.data, out.len) == 0);
        buf_fini(&enc);
        buf_fini(&again);
    }
    buf_fini(&out);

    ber_round_trip(data, size);
    return 0;
}
