/*
 * NAME
 *	mule_cdt - zlib inside CompressedData: the MULE message wrapping
 * SYNOPSIS
 *	#include "mule/mule_cdt.h"
 * DESCRIPTION
 *	RFC 8494 section 3.2: the BSMTP-like payload is compressed with
 *	zlib (RFC 1950: header, deflate, Adler-32) and placed in the
 *	compressedContent of a CompressedData whose contentType-ShortForm
 *	is mule(25); mule_ber(3) does the BER.  Decoding reverses it and
 *	applies, in this order, the rules of docs/decisions.md: content type
 *	25 (decision 3, so a foreign message is reported as NOT_MULE even
 *	when its algorithm is foreign too), algorithm zlibCompress(0), then
 *	inflation under two caps.
 *
 *	Inflation writes straight into the caller's buffer, which grows
 *	geometrically from a small chunk and never beyond the size cap: the
 *	buffer's own cap is lowered to it for the duration of the call.
 *	Once the output reaches the cap, one more octet is requested into
 *	a one-octet probe; if zlib produces it the content is TOO_BIG.  The
 *	ratio of output to consumed input is checked after every inflate()
 *	call once the output exceeds the ratio floor, which stops a bomb of
 *	zeros after about a megabyte.
 * SECURITY
 *	Sees untrusted BER and zlib streams.  Trusts no size in them: the
 *	only allocations are the caller's buffer (capped), zlib's fixed
 *	state and window (through the injected allocator) and the copy of
 *	the compressed octets (no larger than the input).
 * DIAGNOSTICS
 *	Returns MULE_ERR_* codes (mule_err.h); logs nothing.
 * SEE ALSO
 *	mule_ber(3), RFC 1950, RFC 8494, docs/wire.md section 6.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "mule/mule_cdt.h"

#include <limits.h>
#include <string.h>
#include <zlib.h>

/* First output chunk; later chunks are whatever the buffer's doubling
 * leaves free. */
#define INFLATE_CHUNK   ((size_t)64 << 10)

/* Largest input handed to one zlib call (avail_in is a uInt). */
#define ZLIB_FEED_MAX   ((size_t)1 << 30)

/* zlib's opaque pointer is not const; this holder avoids casting the
 * caller's const mem * to void *. */
typedef struct zmem {
    const mem *m;
} zmem;

static voidpf
zalloc_mem(voidpf opaque, uInt items, uInt size)
{
    const zmem *z = opaque;

    /* Both are uInt, so the product fits size_t on every LP64 system;
     * keep the check for 32-bit builds. */
    if (size != 0 && items > SIZE_MAX / size)
        return Z_NULL;
    return mem_alloc(z->m, (size_t)items * size);
}

static void
zfree_mem(voidpf opaque, voidpf p)
{
    const zmem *z = opaque;

    mem_free(z->m, p);
}

void
mule_cdt_config_init(mule_cdt_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->zlib_level = MULE_CDT_DEFAULT_LEVEL;
    cfg->explicit_tags = false;
    cfg->max_inflated = MULE_CDT_DEFAULT_MAX_INFLATED;
    cfg->max_ratio = MULE_CDT_DEFAULT_MAX_RATIO;
    cfg->ratio_floor = MULE_CDT_DEFAULT_RATIO_FLOOR;
}

/* Feed the next slice of [*in, *in + *left) to zlib when it ran dry. */
static void
feed(z_stream *zs, const uint8_t **in, size_t *left)
{
    size_t n;

    if (zs->avail_in != 0 || *left == 0)
        return;
    n = *left < ZLIB_FEED_MAX ? *left : ZLIB_FEED_MAX;
    /* zlib's next_in is not const (unless ZLIB_CONST); it only reads. */
    zs->next_in = (Bytef *)(uintptr_t)*in;
    zs->avail_in = (uInt)n;
    *in += n;
    *left -= n;
}

/*
 * Deflate content[0..len) into *z (appending).  deflateBound() sizes the
 * first reservation, so the loop normally runs once; it still handles
 * inputs above 4 GiB by feeding slices.
 */
static int
deflate_into(int level, const mem *m, const uint8_t *content, size_t len, buf *z)
{
    z_stream zs;
    zmem zm = { m };
    size_t left = len, room;
    int rc, flush, err;

    memset(&zs, 0, sizeof(zs));
    zs.zalloc = zalloc_mem;
    zs.zfree = zfree_mem;
    zs.opaque = &zm;
    rc = deflateInit(&zs, level);
    if (rc == Z_MEM_ERROR)
        return MULE_ERR_NOMEM;
    if (rc != Z_OK)
        return MULE_ERR_DEFLATE;
    if ((err = buf_reserve(z, deflateBound(&zs, len > ULONG_MAX ? ULONG_MAX
                                                : (uLong)len))) != 0) {
        err = mule_err_from_buf(err);
        goto out;
    }
    for (;;) {
        feed(&zs, &content, &left);
        flush = left == 0 ? Z_FINISH : Z_NO_FLUSH;
        if (z->size == z->len && (err = buf_reserve(z, INFLATE_CHUNK)) != 0) {
            err = mule_err_from_buf(err);
            goto out;
        }
        room = z->size - z->len;
        zs.next_out = z->data + z->len;
        zs.avail_out = room > UINT_MAX ? UINT_MAX : (uInt)room;
        room = zs.avail_out;
        rc = deflate(&zs, flush);
        z->len += room - zs.avail_out;
        if (rc == Z_STREAM_END)
            break;
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            err = MULE_ERR_DEFLATE;
            goto out;
        }
    }
    err = 0;
out:
    (void)deflateEnd(&zs);
    return err;
}

int
mule_cdt_encode(const mule_cdt_config *cfg, const mem *m,
                const uint8_t *content, size_t len, buf *out)
{
    mule_cdt_config defaults;
    mule_ber_info info;
    buf z;
    int err;

    if (cfg == NULL) {
        mule_cdt_config_init(&defaults);
        cfg = &defaults;
    }
    if (out == NULL || (content == NULL && len != 0))
        return MULE_ERR_INVAL;
    if (cfg->zlib_level < Z_DEFAULT_COMPRESSION || cfg->zlib_level > Z_BEST_COMPRESSION)
        return MULE_ERR_INVAL;

    buf_init(&z, m, SIZE_MAX);
    if ((err = deflate_into(cfg->zlib_level, m, content, len, &z)) != 0)
        goto out;

    memset(&info, 0, sizeof(info));
    info.explicit_tags = cfg->explicit_tags;
    info.algorithm = MULE_ALG_ZLIB;
    info.content_type = MULE_CT_MULE;
    err = mule_ber_encode(&info, z.data, z.len, out);
out:
    buf_fini(&z);
    return err;
}

/* Has the output outgrown the allowed ratio to the input consumed? */
static bool
is_ratio_exceeded(const mule_cdt_config *cfg, size_t produced, uLong consumed)
{
    if (cfg->max_ratio == 0 || produced <= cfg->ratio_floor)
        return false;
    /* produced > ratio * consumed, written as a division so that no
     * product can overflow. */
    return produced / cfg->max_ratio > consumed;
}

/*
 * Inflate z[0..zlen) onto the end of *out, at most as many octets as
 * out's cap leaves room for: the caller lowered that cap to
 * cfg->max_inflated when the buffer's own cap was larger.
 */
static int
inflate_into(const mule_cdt_config *cfg, const mem *m, const uint8_t *z,
             size_t zlen, buf *out)
{
    z_stream zs;
    zmem zm = { m };
    size_t start = out->len, produced = 0, left = zlen, room, want, limit;
    uint8_t probe;
    bool probing;
    int rc, err;

    memset(&zs, 0, sizeof(zs));
    zs.zalloc = zalloc_mem;
    zs.zfree = zfree_mem;
    zs.opaque = &zm;
    rc = inflateInit(&zs);
    if (rc == Z_MEM_ERROR)
        return MULE_ERR_NOMEM;
    if (rc != Z_OK)
        return MULE_ERR_INFLATE;

    limit = out->len < out->max ? out->max - out->len : 0;
    for (;;) {
        feed(&zs, &z, &left);
        room = limit - produced;
        probing = room == 0;
        if (probing) {
            /* At the cap: one more octet would be one too many. */
            zs.next_out = &probe;
            zs.avail_out = 1;
        } else {
            if (out->size == out->len) {
                want = room < INFLATE_CHUNK ? room : INFLATE_CHUNK;
                if ((err = buf_reserve(out, want)) != 0) {
                    err = err == BUF_ERR_NOMEM ? MULE_ERR_NOMEM : MULE_ERR_TOO_BIG;
                    goto out;
                }
            }
            /* The allocation may already exceed the cap (a buffer the
             * caller reused): never write past room. */
            want = out->size - out->len;
            if (want > room)
                want = room;
            zs.next_out = out->data + out->len;
            zs.avail_out = want > UINT_MAX ? UINT_MAX : (uInt)want;
        }
        want = zs.avail_out;
        rc = inflate(&zs, Z_NO_FLUSH);
        if (probing) {
            if (zs.avail_out == 0) {
                err = MULE_ERR_TOO_BIG;
                goto out;
            }
        } else {
            out->len += want - zs.avail_out;
            produced += want - zs.avail_out;
        }
        if (is_ratio_exceeded(cfg, produced, zs.total_in)) {
            err = MULE_ERR_RATIO;
            goto out;
        }
        switch (rc) {
        case Z_STREAM_END:
            /* Octets after the Adler-32 are not part of any valid
             * stream: treat them as corruption, not as padding. */
            err = zs.avail_in != 0 || left != 0 ? MULE_ERR_INFLATE : 0;
            goto out;
        case Z_OK:
            continue;
        case Z_BUF_ERROR:
            /* No progress: with output room, that means the input ended
             * before the stream did (truncated). */
            if (zs.avail_in == 0 && left == 0) {
                err = MULE_ERR_INFLATE;
                goto out;
            }
            continue;
        case Z_MEM_ERROR:
            err = MULE_ERR_NOMEM;
            goto out;
        default:                /* Z_DATA_ERROR, Z_NEED_DICT, Z_STREAM_ERROR */
            err = MULE_ERR_INFLATE;
            goto out;
        }
    }
out:
    (void)inflateEnd(&zs);
    if (err != 0)
        out->len = start;
    return err;
}

/*
 * The decoder proper.  *have_header tells the wrappers whether *info holds
 * a decoded header (the BER was valid) even when a later step failed.
 */
static int
decode(const mule_cdt_config *cfg, const mem *m, const uint8_t *ber,
       size_t len, buf *content_out, mule_ber_info *info, bool *have_header)
{
    mule_cdt_config defaults;
    buf z;
    size_t saved_max;
    int err;

    *have_header = false;
    memset(info, 0, sizeof(*info));
    if (cfg == NULL) {
        mule_cdt_config_init(&defaults);
        cfg = &defaults;
    }
    if (ber == NULL || content_out == NULL || cfg->max_inflated == 0)
        return MULE_ERR_INVAL;

    /* The compressed copy is bounded by len, so it needs no cap. */
    buf_init(&z, m, SIZE_MAX);
    if ((err = mule_ber_decode(ber, len, info, &z)) != 0)
        goto out;
    *have_header = true;
    if (info->content_type_is_oid || info->content_type != MULE_CT_MULE) {
        err = MULE_ERR_NOT_MULE;
        goto out;
    }
    if (info->algorithm_is_oid || info->algorithm != MULE_ALG_ZLIB) {
        err = MULE_ERR_ALGORITHM;
        goto out;
    }

    /* Lower the buffer's cap to the size cap for this call, so that its
     * doubling never allocates past what we would accept. */
    saved_max = content_out->max;
    if (content_out->len <= saved_max
        && cfg->max_inflated < saved_max - content_out->len)
        content_out->max = content_out->len + cfg->max_inflated;
    err = inflate_into(cfg, m, z.data, z.len, content_out);
    content_out->max = saved_max;
out:
    buf_fini(&z);
    return err;
}

int
mule_cdt_decode_info(const mule_cdt_config *cfg, const mem *m,
                     const uint8_t *ber, size_t len, buf *content_out,
                     mule_ber_info *info)
{
    mule_ber_info local;
    bool have_header;

    return decode(cfg, m, ber, len, content_out, info != NULL ? info : &local,
                  &have_header);
}

int
mule_cdt_decode(const mule_cdt_config *cfg, const mem *m,
                const uint8_t *ber, size_t len, buf *content_out,
                int *content_type_out)
{
    mule_ber_info info;
    bool have_header;
    int err;

    err = decode(cfg, m, ber, len, content_out, &info, &have_header);
    if (content_type_out != NULL) {
        *content_type_out = MULE_CDT_CT_OTHER;
        if (have_header && !info.content_type_is_oid
            && info.content_type >= 0 && info.content_type <= INT_MAX)
            *content_type_out = (int)info.content_type;
    }
    return err;
}
