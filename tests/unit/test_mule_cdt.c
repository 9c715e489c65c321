/*
 * test_mule_cdt.c: unit tests of mule/mule_ber and mule/mule_cdt
 * (CompressedData: BER via asn1c, zlib, the MULE rules).
 *
 * Vectors from tests/vectors/vectors.json (cdt_implicit, cdt_explicit,
 * cdt_rfc8494_example, mule_plain) decode to the expected content and
 * re-encode byte for byte; round trips over levels, sizes and both tag
 * forms; every truncation, every length octet at +-1, trailing octets,
 * long-form and indefinite lengths, constructed OCTET STRINGs, zlib
 * bombs, foreign content types and algorithms, corrupt zlib streams, and
 * allocation failure at every allocation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "mule/mule_ber.h"
#include "mule/mule_cdt.h"
#include "mule/mule_err.h"
#include "pmul/util/text.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

/* An allocator over cmocka's test_malloc (leak checks) that can fail the
 * Nth call and records the peak of live bytes, so tests can prove that a
 * bomb is stopped without a big allocation. */
struct tmem {
    long fail_at;           /* calls left before failing; < 0: never */
    long calls;
    size_t live, peak;
};

#define TMEM_HDR 16         /* keeps the returned pointer 16-aligned */

static void *
tmem_realloc(void *arg, void *p, size_t n)
{
    struct tmem *t = arg;
    uint8_t *h = p != NULL ? (uint8_t *)p - TMEM_HDR : NULL;
    size_t old = 0;

    t->calls++;
    if (t->fail_at >= 0 && t->fail_at-- == 0)
        return NULL;
    if (h != NULL)
        memcpy(&old, h, sizeof(old));
    h = test_realloc(h, n + TMEM_HDR);
    if (h == NULL)
        return NULL;
    memcpy(h, &n, sizeof(n));
    t->live = t->live - old + n;
    if (t->live > t->peak)
        t->peak = t->live;
    return h + TMEM_HDR;
}

static void *
tmem_alloc(void *arg, size_t n)
{
    return tmem_realloc(arg, NULL, n);
}

static void
tmem_free(void *arg, void *p)
{
    struct tmem *t = arg;
    uint8_t *h;
    size_t old;

    if (p == NULL)
        return;
    h = (uint8_t *)p - TMEM_HDR;
    memcpy(&old, h, sizeof(old));
    t->live -= old;
    test_free(h);
}

static mem
tmem_make(struct tmem *t, long fail_at)
{
    mem m = { tmem_alloc, tmem_realloc, tmem_free, t };

    memset(t, 0, sizeof(*t));
    t->fail_at = fail_at;
    return m;
}

/* Bytes of one vectors.json entry (a flat object of name -> hex). */
struct vec {
    uint8_t *p;
    size_t len;
};

static char *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *s;
    long n = -1;

    if (f == NULL)
        fail_msg("cannot open %s", path);
    if (fseek(f, 0, SEEK_END) == 0)
        n = ftell(f);
    if (n < 0 || fseek(f, 0, SEEK_SET) != 0)
        fail_msg("cannot size %s", path);
    s = malloc((size_t)n + 1);
    assert_non_null(s);
    if (fread(s, 1, (size_t)n, f) != (size_t)n)
        fail_msg("cannot read %s", path);
    s[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return s;
}

static int
hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decode hex text (spaces ignored) into a malloc'd buffer. */
static struct vec
from_hex(const char *h, size_t hlen)
{
    struct vec v = { malloc(hlen / 2 + 1), 0 };
    size_t i;
    int hi = -1, x;

    assert_non_null(v.p);
    for (i = 0; i < hlen; i++) {
        if (h[i] == ' ')
            continue;
        x = hexval((unsigned char)h[i]);
        if (x < 0)
            fail_msg("bad hex digit '%c'", h[i]);
        if (hi < 0) {
            hi = x;
        } else {
            v.p[v.len++] = (uint8_t)(hi << 4 | x);
            hi = -1;
        }
    }
    assert_int_equal(hi, -1);
    return v;
}

static struct vec
hexs(const char *h)
{
    return from_hex(h, strlen(h));
}

static struct vec
vector(const char *name)
{
    const char *dir = getenv("MULE_VECTORS");
    char path[4096], key[128];
    const char *p, *q;
    struct vec v;
    size_t len;
    char *json;

    if (dir == NULL)
        dir = "tests/vectors";
    snprintf(path, sizeof(path), "%s/vectors.json", dir);
    json = slurp(path, &len);
    snprintf(key, sizeof(key), "\"%s\"", name);
    p = strstr(json, key);
    if (p == NULL)
        fail_msg("vector %s not in %s", name, path);
    p = strchr(p + strlen(key), '"');
    assert_non_null(p);
    q = strchr(p + 1, '"');
    assert_non_null(q);
    v = from_hex(p + 1, (size_t)(q - p - 1));
    free(json);
    return v;
}

/* Exactly len heap bytes, so ASan flags any read past the end. */
static uint8_t *
heap_copy(const uint8_t *p, size_t len)
{
    uint8_t *c = malloc(len != 0 ? len : 1);

    assert_non_null(c);
    if (len != 0)
        memcpy(c, p, len);
    return c;
}

static void
assert_code(int got, int want, const char *what)
{
    if (got != want)
        fail_msg("%s: got %s (%d), want %s (%d)", what, mule_errname(got), got,
                 mule_errname(want), want);
}

static void
assert_bytes(const uint8_t *got, size_t got_len, const uint8_t *want,
             size_t want_len, const char *what)
{
    size_t i;

    if (got_len != want_len)
        fail_msg("%s: got %zu octets, want %zu", what, got_len, want_len);
    for (i = 0; i < got_len; i++)
        if (got[i] != want[i])
            fail_msg("%s: octet %zu: got %02x, want %02x", what, i, got[i], want[i]);
}

/* Decode with a given config through a heap copy of exactly len bytes. */
static int
decode_cfg(const mule_cdt_config *cfg, const uint8_t *ber, size_t len, buf *out,
           int *ct)
{
    uint8_t *c = heap_copy(ber, len);
    int rc = mule_cdt_decode(cfg, NULL, c, len, out, ct);

    free(c);
    return rc;
}

static int
decode(const uint8_t *ber, size_t len, buf *out, int *ct)
{
    return decode_cfg(NULL, ber, len, out, ct);
}

/* The seeded generator behind the text (pmul/util/text.h). */
static uint64_t
lcg_below(void *arg, uint64_t n)
{
    uint32_t *x = arg;

    *x = *x * 1103515245u + 12345u;
    return (*x >> 8) % n;
}

/* Deterministic mail-like text of exactly len octets: an envelope, a
 * header, then paragraphs from the project's one text generator. */
static void
make_text(buf *b, size_t len, unsigned seed)
{
    uint32_t x = seed * 2654435761u + 1;

    assert_int_equal(buf_append_str(b, "<a@x.example>\r\n<b@y.example>\r\n\r\n"
                                       "From: a@x.example\r\nTo: b@y.example\r\n"
                                       "Subject: test\r\n\r\n"), 0);
    if (b->len < len)
        assert_int_equal(text_paragraphs(b, len - b->len, "", lcg_below, &x), 0);
    b->len = len;
}

/* zlib stream of the given bytes, via zlib directly (not the module). */
static struct vec
zlib_of(const uint8_t *p, size_t len, int level)
{
    uLongf n = compressBound(len);
    struct vec v = { malloc(n), 0 };

    assert_non_null(v.p);
    assert_int_equal(compress2(v.p, &n, p, len, level), Z_OK);
    v.len = n;
    return v;
}

/* CompressedData around z with the given header values (ShortForms). */
static struct vec
wrap(const uint8_t *z, size_t zlen, bool explicit_tags, long alg, long ct)
{
    mule_ber_info info;
    struct vec v;
    buf b;

    memset(&info, 0, sizeof(info));
    info.explicit_tags = explicit_tags;
    info.algorithm = alg;
    info.content_type = ct;
    buf_init(&b, NULL, SIZE_MAX);
    assert_code(mule_ber_encode(&info, z, zlen, &b), 0, "wrap");
    v.p = buf_steal(&b, &v.len);
    return v;
}

/* ------------------------------------------------------------------ */
/* Vectors                                                             */
/* ------------------------------------------------------------------ */

static void
test_mule_cdt_decode_vectors_plain(void **state)
{
    static const char *const names[] = { "cdt_implicit", "cdt_explicit" };
    struct vec plain = vector("mule_plain");
    size_t i;

    (void)state;
    for (i = 0; i < 2; i++) {
        struct vec v = vector(names[i]);
        mule_ber_info info;
        buf out;
        int ct = -99;

        buf_init(&out, NULL, SIZE_MAX);
        assert_code(decode(v.p, v.len, &out, &ct), 0, names[i]);
        assert_int_equal(ct, MULE_CT_MULE);
        assert_bytes(out.data, out.len, plain.p, plain.len, names[i]);

        buf_reset(&out);
        assert_code(mule_cdt_decode_info(NULL, NULL, v.p, v.len, &out, &info), 0,
                    names[i]);
        assert_int_equal(info.explicit_tags, i == 1);
        assert_false(info.algorithm_is_oid);
        assert_int_equal(info.algorithm, MULE_ALG_ZLIB);
        assert_false(info.content_type_is_oid);
        assert_int_equal(info.content_type, MULE_CT_MULE);
        assert_int_equal(info.compressed_len, 0x4b);
        buf_fini(&out);
        free(v.p);
    }
    free(plain.p);
}

static void
test_mule_cdt_decode_vector_rfc8494_example(void **state)
{
    /* The message of RFC 8494's example, as pyasn1-modules carries it
     * (bare LF line ends: transcribed from the RFC text). */
    static const char *const lines[] = {
        "<from@example.com> MT-PRIORITY=4 BODY=8BITMIME RET=HDRS ENVID=QQ314159\n",
        "<to1@example.net> NOTIFY=FAILURE ORCPT=rfc822;Bob@ent.example.net\n",
        "<to2@example.net> NOTIFY=SUCCESS,FAILURE\n",
        "\n",
        "From: from@example.com\n",
        "To: To1 <to1@example.net>, To2 <to2@example.net>\n",
        "Date: 27 Apr 2017 16:17 +0100\n",
        "Subject: a test\n",
        "MIME-Version: 1.0\n",
        "Content-type: text/plain; charset=utf-8\n",
        "Content-transfer-encoding: 8bit\n",
        "\n",
        "This is worth <poundsign>100\n",
    };
    struct vec v = vector("cdt_rfc8494_example");
    size_t i, off = 0, n;
    mule_ber_info info;
    buf out;

    (void)state;
    buf_init(&out, NULL, SIZE_MAX);
    assert_code(mule_cdt_decode_info(NULL, NULL, v.p, v.len, &out, &info), 0,
                "rfc8494 example");
    assert_true(info.explicit_tags);
    assert_int_equal(info.compressed_len, 0x120);
    assert_int_equal(out.len, 417);
    for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        n = strlen(lines[i]);
        assert_true(off + n <= out.len);
        assert_bytes(out.data + off, n, (const uint8_t *)lines[i], n, lines[i]);
        off += n;
    }
    assert_int_equal(off, out.len);
    buf_fini(&out);
    free(v.p);
}

/* Decoding then re-encoding each vector's zlib stream gives the vector's
 * exact bytes: definite minimal lengths, the right form. */
static void
test_mule_ber_reencode_vectors_exact(void **state)
{
    static const char *const names[] = {
        "cdt_implicit", "cdt_explicit", "cdt_rfc8494_example",
    };
    size_t i;

    (void)state;
    for (i = 0; i < 3; i++) {
        struct vec v = vector(names[i]);
        mule_ber_info info;
        buf z, out;

        buf_init(&z, NULL, SIZE_MAX);
        buf_init(&out, NULL, SIZE_MAX);
        assert_code(mule_ber_decode(v.p, v.len, &info, &z), 0, names[i]);
        assert_int_equal(z.len, info.compressed_len);
        assert_code(mule_ber_encode(&info, z.data, z.len, &out), 0, names[i]);
        assert_bytes(out.data, out.len, v.p, v.len, names[i]);

        /* The same stream in the other form decodes to the same info. */
        buf_reset(&out);
        info.explicit_tags = !info.explicit_tags;
        assert_code(mule_ber_encode(&info, z.data, z.len, &out), 0, names[i]);
        assert_int_equal(out.data[out.data[1] & 0x80 ? 2 + (out.data[1] & 0x7f) : 2],
                         info.explicit_tags ? 0xa0 : 0x80);
        buf_fini(&z);
        buf_fini(&out);
        free(v.p);
    }
}

/* The hand-built bytes of docs/wire.md 6.3's layout, for both forms. */
static void
test_mule_ber_encode_hand_built(void **state)
{
    static const uint8_t z[] = { 0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01 };
    struct vec imp = hexs("3014 800100 300f 800119 a00a 0408 789c030000000001");
    struct vec exp = hexs("3018 a003020100 3011 a003020119 a00a 0408 789c030000000001");
    mule_ber_info info;
    buf out;

    (void)state;
    /* Sanity of the hand-built bytes themselves (8 octets of zlib). */
    assert_int_equal(imp.len, 22);
    assert_int_equal(exp.len, 26);
    memset(&info, 0, sizeof(info));
    info.algorithm = MULE_ALG_ZLIB;
    info.content_type = MULE_CT_MULE;
    buf_init(&out, NULL, SIZE_MAX);
    assert_code(mule_ber_encode(&info, z, sizeof(z), &out), 0, "implicit");
    assert_bytes(out.data, out.len, imp.p, imp.len, "implicit");
    buf_reset(&out);
    info.explicit_tags = true;
    assert_code(mule_ber_encode(&info, z, sizeof(z), &out), 0, "explicit");
    assert_bytes(out.data, out.len, exp.p, exp.len, "explicit");

    /* Lengths above 127 take the long form 81 xx / 82 xx xx. */
    {
        uint8_t big[300];

        memset(big, 0x55, sizeof(big));
        buf_reset(&out);
        info.explicit_tags = false;
        assert_code(mule_ber_encode(&info, big, 200, &out), 0, "200");
        /* 30 81 d7 | 80 01 00 | 30 81 d1 | 80 01 19 | a0 81 cb | 04 81 c8 */
        assert_int_equal(out.data[0], 0x30);
        assert_int_equal(out.data[1], 0x81);
        assert_int_equal(out.len, 3u + 3 + 3 + 3 + 3 + 3 + 200);
        assert_int_equal(out.data[out.len - 200 - 3], 0x04);
        assert_int_equal(out.data[out.len - 200 - 2], 0x81);
        assert_int_equal(out.data[out.len - 200 - 1], 200);
        buf_reset(&out);
        assert_code(mule_ber_encode(&info, big, 300, &out), 0, "300");
        assert_int_equal(out.data[1], 0x82);
        assert_int_equal(out.data[out.len - 300 - 3], 0x82);
        assert_int_equal(out.data[out.len - 300 - 2], 0x01);
        assert_int_equal(out.data[out.len - 300 - 1], 0x2c);
    }
    buf_fini(&out);
    free(imp.p);
    free(exp.p);
}

/* ------------------------------------------------------------------ */
/* Round trips                                                         */
/* ------------------------------------------------------------------ */

static void
test_mule_cdt_round_trip_levels_sizes_forms(void **state)
{
    static const int levels[] = { 0, 1, 6, 9, -1 };
    static const size_t sizes[] = { 0, 1, 4096, (size_t)1 << 20 };
    size_t li, si, fi;

    (void)state;
    for (si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
        buf text;

        buf_init(&text, NULL, SIZE_MAX);
        if (sizes[si] == 1)
            assert_int_equal(buf_append(&text, "x", 1), 0);
        else if (sizes[si] != 0)
            make_text(&text, sizes[si], (unsigned)si);
        for (li = 0; li < sizeof(levels) / sizeof(levels[0]); li++) {
            for (fi = 0; fi < 2; fi++) {
                mule_cdt_config cfg;
                buf ber, out;
                char what[64];
                int ct;

                snprintf(what, sizeof(what), "size %zu level %d %s", sizes[si],
                         levels[li], fi ? "explicit" : "implicit");
                mule_cdt_config_init(&cfg);
                cfg.zlib_level = levels[li];
                cfg.explicit_tags = fi == 1;
                buf_init(&ber, NULL, SIZE_MAX);
                buf_init(&out, NULL, SIZE_MAX);
                assert_code(mule_cdt_encode(&cfg, NULL, text.data, text.len, &ber), 0,
                            what);
                /* The form is visible right after the outer header. */
                assert_int_equal(ber.data[ber.data[1] & 0x80 ? 2 + (ber.data[1] & 0x7f)
                                                             : 2],
                                 fi ? 0xa0 : 0x80);
                assert_code(decode_cfg(&cfg, ber.data, ber.len, &out, &ct), 0, what);
                assert_int_equal(ct, MULE_CT_MULE);
                assert_bytes(out.data, out.len, text.data, text.len, what);
                buf_fini(&ber);
                buf_fini(&out);
            }
        }
        buf_fini(&text);
    }
}

/* Output is appended; on failure the buffer is as it was. */
static void
test_mule_cdt_append_and_restore(void **state)
{
    struct vec v = vector("cdt_implicit");
    struct vec plain = vector("mule_plain");
    buf out;

    (void)state;
    buf_init(&out, NULL, SIZE_MAX);
    assert_int_equal(buf_append(&out, "XYZ", 3), 0);
    assert_code(decode(v.p, v.len, &out, NULL), 0, "append");
    assert_int_equal(out.len, 3 + plain.len);
    assert_memory_equal(out.data, "XYZ", 3);
    assert_bytes(out.data + 3, plain.len, plain.p, plain.len, "append");

    /* Flip the Adler-32: INFLATE, and the earlier bytes are untouched. */
    v.p[v.len - 1] ^= 0x01;
    assert_code(decode(v.p, v.len, &out, NULL), MULE_ERR_INFLATE, "restore");
    assert_int_equal(out.len, 3 + plain.len);

    /* Encoding appends too, and a failed encode leaves out alone. */
    {
        mule_cdt_config cfg;
        size_t before = out.len;

        mule_cdt_config_init(&cfg);
        assert_code(mule_cdt_encode(&cfg, NULL, plain.p, plain.len, &out), 0, "enc");
        assert_true(out.len > before);
        assert_memory_equal(out.data, "XYZ", 3);
        before = out.len;
        cfg.zlib_level = 10;
        assert_code(mule_cdt_encode(&cfg, NULL, plain.p, plain.len, &out),
                    MULE_ERR_INVAL, "level 10");
        cfg.zlib_level = -2;
        assert_code(mule_cdt_encode(&cfg, NULL, plain.p, plain.len, &out),
                    MULE_ERR_INVAL, "level -2");
        assert_int_equal(out.len, before);
        /* A cap too small for the result. */
        buf_fini(&out);
        buf_init(&out, NULL, 20);
        cfg.zlib_level = 6;
        assert_code(mule_cdt_encode(&cfg, NULL, plain.p, plain.len, &out),
                    MULE_ERR_NOSPACE, "cap");
        assert_int_equal(out.len, 0);
    }
    buf_fini(&out);
    free(v.p);
    free(plain.p);
}

static void
test_mule_cdt_invalid_arguments(void **state)
{
    struct vec v = vector("cdt_implicit");
    mule_cdt_config cfg;
    mule_ber_info info;
    buf out;
    int ct = 7;

    (void)state;
    buf_init(&out, NULL, SIZE_MAX);
    mule_cdt_config_init(&cfg);
    assert_code(mule_cdt_decode(&cfg, NULL, NULL, 0, &out, &ct), MULE_ERR_INVAL, "ber");
    assert_int_equal(ct, MULE_CDT_CT_OTHER);
    assert_code(mule_cdt_decode(&cfg, NULL, v.p, v.len, NULL, &ct), MULE_ERR_INVAL,
                "out");
    cfg.max_inflated = 0;
    assert_code(mule_cdt_decode(&cfg, NULL, v.p, v.len, &out, &ct), MULE_ERR_INVAL,
                "max_inflated 0");
    assert_code(mule_cdt_encode(NULL, NULL, NULL, 1, &out), MULE_ERR_INVAL, "content");
    assert_code(mule_cdt_encode(NULL, NULL, v.p, v.len, NULL), MULE_ERR_INVAL, "out");
    assert_code(mule_ber_decode(NULL, 0, &info, &out), MULE_ERR_INVAL, "ber_decode");
    memset(&info, 0, sizeof(info));
    info.algorithm_is_oid = true;
    assert_code(mule_ber_encode(&info, v.p, 4, &out), MULE_ERR_INVAL, "oid alg");
    info.algorithm_is_oid = false;
    info.content_type_is_oid = true;
    assert_code(mule_ber_encode(&info, v.p, 4, &out), MULE_ERR_INVAL, "oid ct");
    assert_code(mule_ber_encode(NULL, v.p, 4, &out), MULE_ERR_INVAL, "info");
    assert_int_equal(out.len, 0);
    /* Empty input. */
    assert_code(decode(v.p, 0, &out, &ct), MULE_ERR_BER, "empty");
    buf_fini(&out);
    free(v.p);
}

/* ------------------------------------------------------------------ */
/* Malformed BER                                                       */
/* ------------------------------------------------------------------ */

/* Every proper prefix of each vector fails with BER, read from a heap
 * copy of exactly that length (ASan catches any over-read). */
static void
test_mule_cdt_decode_truncated_every_prefix(void **state)
{
    static const char *const names[] = {
        "cdt_implicit", "cdt_explicit", "cdt_rfc8494_example",
    };
    size_t i, n;

    (void)state;
    for (i = 0; i < 3; i++) {
        struct vec v = vector(names[i]);

        for (n = 0; n < v.len; n++) {
            char what[64];
            buf out;
            int ct;

            snprintf(what, sizeof(what), "%s prefix %zu", names[i], n);
            buf_init(&out, NULL, SIZE_MAX);
            assert_code(decode(v.p, n, &out, &ct), MULE_ERR_BER, what);
            assert_int_equal(ct, MULE_CDT_CT_OTHER);
            assert_int_equal(out.len, 0);
            buf_fini(&out);
        }
        free(v.p);
    }
}

/* Each length octet of cdt_implicit and cdt_explicit at +1 and -1.  Any
 * change breaks the nesting, so every case is a BER error: an inner value
 * runs past its container, or leaves octets in it. */
static void
test_mule_cdt_decode_length_plus_minus_one(void **state)
{
    static const struct {
        const char *name;
        size_t off;         /* offset of a length octet */
        const char *field;
    } cases[] = {
        { "cdt_implicit", 1, "outer SEQUENCE" },
        { "cdt_implicit", 3, "algorithmID-ShortForm" },
        { "cdt_implicit", 6, "compressedContentInfo" },
        { "cdt_implicit", 8, "contentType-ShortForm" },
        { "cdt_implicit", 11, "[0] EXPLICIT" },
        { "cdt_implicit", 13, "OCTET STRING" },
        { "cdt_explicit", 1, "outer SEQUENCE" },
        { "cdt_explicit", 3, "[0] wrapper of algorithm" },
        { "cdt_explicit", 5, "algorithm INTEGER" },
        { "cdt_explicit", 8, "compressedContentInfo" },
        { "cdt_explicit", 10, "[0] wrapper of contentType" },
        { "cdt_explicit", 12, "contentType INTEGER" },
        { "cdt_explicit", 15, "[0] EXPLICIT" },
        { "cdt_explicit", 17, "OCTET STRING" },
    };
    size_t i;
    int d;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vec v = vector(cases[i].name);
        uint8_t orig = v.p[cases[i].off];

        for (d = -1; d <= 1; d += 2) {
            char what[96];
            buf out;
            int rc;

            snprintf(what, sizeof(what), "%s %s length %+d", cases[i].name,
                     cases[i].field, d);
            v.p[cases[i].off] = (uint8_t)(orig + d);
            buf_init(&out, NULL, SIZE_MAX);
            rc = decode(v.p, v.len, &out, NULL);
            /* The outer length -1 leaves a valid-looking prefix and one
             * octet over, which asn1c reports as a structure error since
             * the inner SEQUENCE no longer fits. */
            assert_code(rc, MULE_ERR_BER, what);
            assert_int_equal(out.len, 0);
            buf_fini(&out);
        }
        v.p[cases[i].off] = orig;
        free(v.p);
    }
}

static void
test_mule_cdt_decode_trailing_octets(void **state)
{
    static const char *const names[] = {
        "cdt_implicit", "cdt_explicit", "cdt_rfc8494_example",
    };
    size_t i, extra;

    (void)state;
    for (i = 0; i < 3; i++) {
        struct vec v = vector(names[i]);
        uint8_t *p = malloc(v.len + 3);

        assert_non_null(p);
        memcpy(p, v.p, v.len);
        memset(p + v.len, 0, 3);
        for (extra = 1; extra <= 3; extra++) {
            buf out;
            int ct;

            buf_init(&out, NULL, SIZE_MAX);
            assert_code(decode(p, v.len + extra, &out, &ct), MULE_ERR_BER_TRAILING,
                        names[i]);
            assert_int_equal(ct, MULE_CDT_CT_OTHER);
            buf_fini(&out);
        }
        free(p);
        free(v.p);
    }
}

/* Long-form and indefinite lengths, hand-built around the 8-octet zlib
 * stream of the empty string (78 9c 03 00 00 00 00 01). */
static void
test_mule_cdt_decode_length_forms(void **state)
{
    static const struct {
        const char *hex;
        int want;
        const char *what;
    } cases[] = {
        { "3014 800100 300f 800119 a00a 0408 789c030000000001", 0, "reference" },
        /* Non-minimal long forms are valid BER. */
        { "308114 800100 300f 800119 a00a 0408 789c030000000001", 0, "81 14" },
        { "3084 00000014 800100 300f 800119 a00a 0408 789c030000000001", 0, "84 00000014" },
        { "3014 800100 300f 800119 a00a 048108 789c030000000001", MULE_ERR_BER,
          "04 81 08 without room (containers not adjusted)" },
        { "3015 800100 3010 800119 a00b 048108 789c030000000001", 0, "04 81 08" },
        { "3088 0000000000000014 800100 300f 800119 a00a 0408 789c030000000001", 0,
          "88 with a small value" },
        { "3089 000000000000000014 800100 300f 800119 a00a 0408 789c030000000001", 0,
          "89: nine length octets, leading zeros" },
        /* Huge lengths: run past the input, or overflow. */
        { "3084 ffffffff 800100 300f 800119 a00a 0408 789c030000000001", MULE_ERR_BER,
          "outer 84 ffffffff" },
        { "3084 7fffffff 800100", MULE_ERR_BER, "outer 84 7fffffff" },
        { "3014 800100 300f 800119 a00a 0484ffffffff 789c", MULE_ERR_BER,
          "octets 84 ffffffff" },
        { "3088 ffffffffffffffff 800100", MULE_ERR_BER, "88 overflow" },
        { "3088 7fffffffffffffff 800100", MULE_ERR_BER, "88 SSIZE_MAX" },
        { "3089 010000000000000000 800100", MULE_ERR_BER, "89 overflow" },
        { "30ff 800100", MULE_ERR_BER, "ff: reserved length octet" },
        /* Inner length larger than its container (nested overflow). */
        { "3014 800100 307f 800119 a00a 0408 789c030000000001", MULE_ERR_BER, "inner 7f in 14" },
        { "3014 800100 300f 800119 a07f 0408 789c030000000001", MULE_ERR_BER, "wrapper 7f" },
        { "3014 800100 300f 800119 a00a 047f 789c030000000001", MULE_ERR_BER, "octets 7f" },
        { "3014 800100 300f 800119 a00a 0484ffffff00 789c030000000001", MULE_ERR_BER,
          "octets 84 ffffff00 inside a small container" },
        /* Indefinite lengths on constructed values are BER. */
        { "3080 800100 300f 800119 a00a 0408 789c030000000001 0000", 0, "outer indefinite" },
        { "3080 800100 3080 800119 a00a 0408 789c030000000001 0000 0000", 0,
          "both SEQUENCEs indefinite" },
        { "3080 a003020100 3080 a003020119 a00a 0408 789c030000000001 0000 0000", 0,
          "both SEQUENCEs indefinite, explicit form" },
        /* asn1c 0.9.28 quirk, pinned here so a generator change shows: an
         * indefinite [0] EXPLICIT wrapper is accepted only around an
         * indefinite constructed OCTET STRING (below), and a definite
         * wrapper only around a definite one.  Other mixes are rejected
         * cleanly; no encoder we know of emits them (asn1/README). */
        { "3080 800100 3080 800119 a080 0408 789c030000000001 0000 0000 0000", MULE_ERR_BER,
          "indefinite [0] EXPLICIT around a primitive OCTET STRING" },
        { "3080 800100 3080 a080 020119 0000 a00a 0408 789c030000000001 0000 0000", MULE_ERR_BER,
          "mixed forms with an indefinite wrapper" },
        { "3080 a003020100 3080 a080 020119 0000 a00a 0408 789c030000000001 0000 0000",
          MULE_ERR_BER, "indefinite [0] EXPLICIT around contentType" },
        { "3080 800100 3080 800119 a010 2480 0403789c03 04050000000001 0000 0000 0000",
          MULE_ERR_BER, "definite wrapper around an indefinite constructed string" },
        { "3080 800100 300f 800119 a00a 0408 789c030000000001", MULE_ERR_BER,
          "indefinite without end-of-contents" },
        { "3080 800100 300f 800119 a00a 0408 789c030000000001 00", MULE_ERR_BER,
          "indefinite with half an end-of-contents" },
        { "3080 800100 300f 800119 a00a 0408 789c030000000001 0000 00", MULE_ERR_BER_TRAILING,
          "indefinite, then one octet" },
        /* Indefinite length on a primitive is forbidden (X.690 8.1.3.2). */
        { "3080 800100 3080 800119 a00a 0480 789c030000000001 0000 0000 0000", MULE_ERR_BER,
          "primitive OCTET STRING indefinite" },
        { "3080 8080 00 0000", MULE_ERR_BER, "primitive INTEGER indefinite" },
        /* Constructed (segmented) OCTET STRING: BER allows it. */
        { "3018 800100 3013 800119 a00e 240c 0403789c03 04050000000001", 0,
          "segmented OCTET STRING" },
        { "3018 800100 3013 800119 a00e 240c 0404789c03 04050000000001", MULE_ERR_BER,
          "segmented, segment length wrong" },
        { "3080 800100 3080 800119 a080 2480 0403789c03 04050000000001 0000 0000 0000"
          " 0000", 0, "segmented OCTET STRING, indefinite" },
        /* Zero-length and empty containers. */
        { "3000", MULE_ERR_BER, "empty SEQUENCE" },
        { "30", MULE_ERR_BER, "header only" },
        { "3003 800100", MULE_ERR_BER, "no compressedContentInfo" },
        /* asn1c leniency, pinned: X.690 8.3.1 wants at least one content
         * octet, asn1c reads a zero-length INTEGER as 0; non-minimal
         * INTEGERs are valid BER. */
        { "3013 8000 300f 800119 a00a 0408 789c030000000001", 0,
          "zero-length INTEGER" },
        { "3015 80020000 300f 800119 a00a 0408 789c030000000001", 0,
          "non-minimal INTEGER 00 00" },
        /* Wrong outer tag, or not a context tag after it. */
        { "3114 800100 300f 800119 a00a 0408 789c030000000001", MULE_ERR_BER, "SET" },
        { "1014 800100 300f 800119 a00a 0408 789c030000000001", MULE_ERR_BER, "primitive SEQUENCE" },
        { "3014 020100 300f 800119 a00a 0408 789c030000000001", MULE_ERR_BER,
          "universal INTEGER first" },
        { "3014 820100 300f 800119 a00a 0408 789c030000000001", MULE_ERR_BER, "context [2]" },
        /* Mixed forms: implicit algorithm, explicit content type. */
        { "3016 800100 3011 a003020119 a00a 0408 789c030000000001", MULE_ERR_BER, "mixed forms" },
        /* An INTEGER too wide for a long (9 octets). */
        { "301c 800100 3017 8009 010000000000000019 a00a 0408 789c030000000001", MULE_ERR_BER,
          "9-octet contentType" },
        /* compressedContent without its [0] EXPLICIT wrapper. */
        { "3012 800100 300d 800119 0408 789c030000000001", MULE_ERR_BER,
          "no [0] around the OCTET STRING" },
        /* A third component in compressedContentInfo. */
        { "3016 800100 3011 800119 a00a 0408 789c030000000001 0500", MULE_ERR_BER,
          "extra component" },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vec v = hexs(cases[i].hex);
        buf out;
        int rc;

        buf_init(&out, NULL, SIZE_MAX);
        rc = decode(v.p, v.len, &out, NULL);
        assert_code(rc, cases[i].want, cases[i].what);
        if (rc == 0)
            assert_int_equal(out.len, 0);      /* the empty string */
        buf_fini(&out);
        free(v.p);
    }
}

/* Deeply nested constructed OCTET STRINGs must fail or pass cleanly
 * (asn1c keeps its own heap stack for them), never crash. */
static void
test_mule_cdt_decode_deep_nesting(void **state)
{
    static const size_t depths[] = { 1, 100, 10000 };
    size_t d, i;

    (void)state;
    for (d = 0; d < sizeof(depths) / sizeof(depths[0]); d++) {
        size_t depth = depths[d];
        buf b, out;
        int rc;

        buf_init(&b, NULL, SIZE_MAX);
        assert_int_equal(buf_append(&b, "\x30\x80\x80\x01\x00\x30\x80\x80\x01\x19"
                                        "\xa0\x80", 12), 0);
        for (i = 0; i < depth; i++)
            assert_int_equal(buf_append(&b, "\x24\x80", 2), 0);
        assert_int_equal(buf_append(&b, "\x04\x08\x78\x9c\x03\x00\x00\x00\x00\x01",
                                    10), 0);
        for (i = 0; i < depth + 3; i++)
            assert_int_equal(buf_append(&b, "\x00\x00", 2), 0);
        buf_init(&out, NULL, SIZE_MAX);
        rc = decode(b.data, b.len, &out, NULL);
        if (rc != 0 && rc != MULE_ERR_BER)
            fail_msg("depth %zu: got %s", depth, mule_errname(rc));
        if (depth == 1)
            assert_code(rc, 0, "depth 1");
        buf_fini(&out);
        buf_fini(&b);
    }

    /* Nesting that never closes: truncated at every depth. */
    {
        uint8_t deep[4096];

        memcpy(deep, "\x30\x80\x80\x01\x00\x30\x80\x80\x01\x19\xa0\x80", 12);
        for (i = 12; i + 1 < sizeof(deep); i += 2)
            memcpy(deep + i, "\x24\x80", 2);
        {
            buf out;

            buf_init(&out, NULL, SIZE_MAX);
            assert_code(decode(deep, i, &out, NULL), MULE_ERR_BER, "unclosed");
            buf_fini(&out);
        }
    }
}

/* ------------------------------------------------------------------ */
/* Content type and algorithm                                          */
/* ------------------------------------------------------------------ */

static void
test_mule_cdt_decode_not_mule(void **state)
{
    static const long types[] = { 0, 1, 4, 24, 26, -1, 100000 };
    struct vec plain = vector("mule_plain");
    struct vec z = zlib_of(plain.p, plain.len, 6);
    size_t i, f;

    (void)state;
    for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        for (f = 0; f < 2; f++) {
            struct vec v = wrap(z.p, z.len, f == 1, MULE_ALG_ZLIB, types[i]);
            mule_ber_info info;
            char what[64];
            buf out;
            int ct = -99;

            snprintf(what, sizeof(what), "contentType %ld %s", types[i],
                     f ? "explicit" : "implicit");
            buf_init(&out, NULL, SIZE_MAX);
            assert_code(decode(v.p, v.len, &out, &ct), MULE_ERR_NOT_MULE, what);
            assert_int_equal(ct, types[i] >= 0 ? (int)types[i] : MULE_CDT_CT_OTHER);
            assert_int_equal(out.len, 0);
            assert_code(mule_cdt_decode_info(NULL, NULL, v.p, v.len, &out, &info),
                        MULE_ERR_NOT_MULE, what);
            assert_int_equal(info.content_type, types[i]);
            assert_int_equal(info.explicit_tags, f == 1);
            buf_fini(&out);
            free(v.p);
        }
    }
    free(z.p);
    free(plain.p);
}

static void
test_mule_cdt_decode_oid_forms(void **state)
{
    /* zlib of the empty string, and two OIDs: the CDT OID
     * 1.3.26.0.4406.0.4.2 and CMS id-alg-zlibCompress
     * 1.2.840.113549.1.9.16.3.8. */
    static const struct {
        const char *hex;
        int want;
        int want_ct;
        const char *alg_oid, *ct_oid;
        const char *what;
    } cases[] = {
        { "301b 800100 3016 8108 2b1a00a236000402 a00a 0408 789c030000000001",
          MULE_ERR_NOT_MULE, MULE_CDT_CT_OTHER, NULL, "1.3.26.0.4406.0.4.2",
          "implicit contentType OID" },
        { "301e 810b 2a864886f70d0109100308 300f 800119 a00a 0408 789c030000000001",
          MULE_ERR_ALGORITHM, MULE_CT_MULE, "1.2.840.113549.1.9.16.3.8", NULL,
          "implicit algorithm OID" },
        { "3022 a10d 060b2a864886f70d0109100308 3011 a003020119 a00a 0408 789c030000000001",
          MULE_ERR_ALGORITHM, MULE_CT_MULE, "1.2.840.113549.1.9.16.3.8", NULL,
          "explicit algorithm OID" },
        { "301f a003020100 3018 a10a 06082b1a00a236000402 a00a 0408 789c030000000001",
          MULE_ERR_NOT_MULE, MULE_CDT_CT_OTHER, NULL, "1.3.26.0.4406.0.4.2",
          "explicit contentType OID" },
        /* Both foreign: NOT_MULE wins (decision 3). */
        { "3025 810b 2a864886f70d0109100308 3016 8108 2b1a00a236000402 a00a 0408 789c030000000001",
          MULE_ERR_NOT_MULE, MULE_CDT_CT_OTHER, "1.2.840.113549.1.9.16.3.8",
          "1.3.26.0.4406.0.4.2", "both OIDs" },
        { "3014 800101 300f 800119 a00a 0408 789c030000000001", MULE_ERR_ALGORITHM, MULE_CT_MULE,
          NULL, NULL, "algorithm 1" },
        { "3014 800101 300f 800104 a00a 0408 789c030000000001", MULE_ERR_NOT_MULE, MULE_CT_P7,
          NULL, NULL, "algorithm 1, p7" },
        /* An OID whose last arc is unterminated: asn1c drops that arc. */
        { "3015 800100 3010 8102 2b9a a00a 0408 789c030000000001", MULE_ERR_NOT_MULE,
          MULE_CDT_CT_OTHER, NULL, "1.3", "unterminated OID arc" },
        /* An arc beyond unsigned long: shown as "invalid". */
        { "301e 800100 3019 810b 2bffffffffffffffffff7f a00a 0408 789c030000000001",
          MULE_ERR_NOT_MULE, MULE_CDT_CT_OTHER, NULL, "invalid", "huge OID arc" },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vec v = hexs(cases[i].hex);
        mule_ber_info info;
        buf out;
        int ct = -99;

        buf_init(&out, NULL, SIZE_MAX);
        assert_code(decode(v.p, v.len, &out, &ct), cases[i].want, cases[i].what);
        assert_int_equal(ct, cases[i].want_ct);
        assert_code(mule_cdt_decode_info(NULL, NULL, v.p, v.len, &out, &info),
                    cases[i].want, cases[i].what);
        assert_int_equal(info.algorithm_is_oid, cases[i].alg_oid != NULL);
        if (cases[i].alg_oid != NULL)
            assert_string_equal(info.algorithm_oid, cases[i].alg_oid);
        assert_int_equal(info.content_type_is_oid, cases[i].ct_oid != NULL);
        if (cases[i].ct_oid != NULL)
            assert_string_equal(info.content_type_oid, cases[i].ct_oid);
        assert_int_equal(out.len, 0);
        buf_fini(&out);
        free(v.p);
    }

    /* A very long OID is cut for the log, with "..." at the end. */
    {
        buf b, out;
        mule_ber_info info;
        size_t i2;

        buf_init(&b, NULL, SIZE_MAX);
        /* 30 81 L | 80 01 00 | 30 81 L2 | 81 81 n <n octets> | a0 08 04 06 ... */
        assert_int_equal(buf_append(&b, "\x30\x81\x00\x80\x01\x00\x30\x81\x00"
                                        "\x81\x81\x96\x2b", 13), 0);
        for (i2 = 0; i2 < 149; i2++)
            assert_int_equal(buf_append(&b, "\x7f", 1), 0);
        assert_int_equal(buf_append(&b, "\xa0\x0a\x04\x08\x78\x9c\x03\x00\x00\x00"
                                        "\x00\x01", 12), 0);
        /* Inner: 3 + 150 + 12 = 165; outer: 3 + 3 + 165 = 171. */
        b.data[8] = 165;
        b.data[2] = 171;
        assert_int_equal(b.len, 3 + 171);
        buf_init(&out, NULL, SIZE_MAX);
        assert_code(mule_cdt_decode_info(NULL, NULL, b.data, b.len, &out, &info),
                    MULE_ERR_NOT_MULE, "long OID");
        assert_true(info.content_type_is_oid);
        assert_true(strlen(info.content_type_oid) < MULE_BER_OID_TEXT_MAX);
        assert_string_equal(info.content_type_oid + strlen(info.content_type_oid) - 3,
                            "...");
        buf_fini(&out);
        buf_fini(&b);
    }
}

/* ------------------------------------------------------------------ */
/* zlib                                                                */
/* ------------------------------------------------------------------ */

/* Flip every octet of the zlib stream in turn (header, deflate data,
 * Adler-32): each must be INFLATE (or, for the header's method nibble, a
 * stream zlib rejects), never a wrong success. */
static void
test_mule_cdt_decode_corrupt_zlib(void **state)
{
    struct vec v = vector("cdt_implicit");
    const size_t zoff = 14, zlen = 0x4b;
    size_t i;

    (void)state;
    assert_int_equal(v.len, zoff + zlen);
    for (i = 0; i < zlen; i++) {
        char what[64];
        buf out;

        snprintf(what, sizeof(what), "flip zlib octet %zu", i);
        v.p[zoff + i] ^= 0xff;
        buf_init(&out, NULL, SIZE_MAX);
        assert_code(decode(v.p, v.len, &out, NULL), MULE_ERR_INFLATE, what);
        assert_int_equal(out.len, 0);
        buf_fini(&out);
        v.p[zoff + i] ^= 0xff;
    }
    free(v.p);
}

static void
test_mule_cdt_decode_zlib_edge_cases(void **state)
{
    static const struct {
        const char *z;      /* hex of compressedContent */
        int want;
        const char *what;
    } cases[] = {
        { "789c030000000001", 0, "empty content" },
        { "", MULE_ERR_INFLATE, "empty stream" },
        { "789c", MULE_ERR_INFLATE, "header only" },
        { "789c0300000000", MULE_ERR_INFLATE, "Adler-32 cut" },
        { "789c030000000002", MULE_ERR_INFLATE, "bad Adler-32" },
        { "789c03000000000100", MULE_ERR_INFLATE, "octet after the stream" },
        { "789c030000000001789c030000000001", MULE_ERR_INFLATE, "two streams" },
        { "78bb030000000001", MULE_ERR_INFLATE, "FDICT set (needs a dictionary)" },
        { "789d030000000001", MULE_ERR_INFLATE, "header check wrong" },
        { "7f9c030000000001", MULE_ERR_INFLATE, "window size 2^15+ invalid" },
        { "0300", MULE_ERR_INFLATE, "raw deflate without zlib header" },
        { "1f8b0800000000000003030000000000000000", MULE_ERR_INFLATE, "gzip" },
        { "789c07000000000001", MULE_ERR_INFLATE, "reserved block type 3" },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vec z = hexs(cases[i].z);
        struct vec v = wrap(z.p, z.len, false, MULE_ALG_ZLIB, MULE_CT_MULE);
        buf out;
        int ct;

        buf_init(&out, NULL, SIZE_MAX);
        assert_code(decode(v.p, v.len, &out, &ct), cases[i].want, cases[i].what);
        assert_int_equal(ct, MULE_CT_MULE);
        assert_int_equal(out.len, 0);
        buf_fini(&out);
        free(v.p);
        free(z.p);
    }
}

/* A stream of zeros of the given size, compressed at level 9 by zlib
 * directly, chunk by chunk (the 100 MB never exist in memory). */
static struct vec
zeros_bomb(size_t size)
{
    static uint8_t zeros[1 << 16];
    z_stream zs;
    buf b;
    size_t left = size;
    int flush;
    struct vec v;

    memset(&zs, 0, sizeof(zs));
    assert_int_equal(deflateInit(&zs, 9), Z_OK);
    buf_init(&b, NULL, SIZE_MAX);
    do {
        size_t n = left < sizeof(zeros) ? left : sizeof(zeros);

        left -= n;
        flush = left == 0 ? Z_FINISH : Z_NO_FLUSH;
        zs.next_in = zeros;
        zs.avail_in = (uInt)n;
        do {
            assert_int_equal(buf_reserve(&b, 1 << 16), 0);
            zs.next_out = b.data + b.len;
            zs.avail_out = (uInt)(b.size - b.len);
            assert_true(deflate(&zs, flush) != Z_STREAM_ERROR);
            b.len = b.size - zs.avail_out;
        } while (zs.avail_out == 0);
    } while (flush != Z_FINISH);
    deflateEnd(&zs);
    v.p = buf_steal(&b, &v.len);
    return v;
}

static void
test_mule_cdt_decode_zlib_bomb(void **state)
{
    const size_t size = (size_t)100 << 20;
    struct vec z = zeros_bomb(size);
    struct vec v = wrap(z.p, z.len, false, MULE_ALG_ZLIB, MULE_CT_MULE);
    mule_cdt_config cfg;
    struct tmem t;
    mem m = tmem_make(&t, -1);
    buf out;
    int ct;

    (void)state;
    /* 100 MiB of zeros compress to about 100 KB (ratio ~1030). */
    assert_true(z.len < size / 1000);

    /* Defaults: the ratio cap trips just past the 1 MiB floor. */
    mule_cdt_config_init(&cfg);
    buf_init(&out, &m, SIZE_MAX);
    assert_code(mule_cdt_decode(&cfg, &m, v.p, v.len, &out, &ct), MULE_ERR_RATIO,
                "bomb, defaults");
    assert_int_equal(out.len, 0);
    assert_true(t.peak < ((size_t)4 << 20));
    buf_fini(&out);

    /* Without the ratio cap, the size cap stops it at max_inflated, and
     * nothing much beyond that is ever allocated. */
    cfg.max_ratio = 0;
    cfg.max_inflated = (size_t)8 << 20;
    t.peak = 0;
    buf_init(&out, &m, SIZE_MAX);
    assert_code(mule_cdt_decode(&cfg, &m, v.p, v.len, &out, &ct), MULE_ERR_TOO_BIG,
                "bomb, no ratio cap");
    assert_int_equal(out.len, 0);
    assert_true(t.peak < cfg.max_inflated + ((size_t)1 << 20));
    buf_fini(&out);

    /* The caller's own buffer cap counts as a size cap too. */
    cfg.max_inflated = MULE_CDT_DEFAULT_MAX_INFLATED;
    buf_init(&out, &m, (size_t)2 << 20);
    assert_code(mule_cdt_decode(&cfg, &m, v.p, v.len, &out, &ct), MULE_ERR_TOO_BIG,
                "bomb, buffer cap");
    buf_fini(&out);

    free(v.p);
    free(z.p);
}

/* The size cap is exact: max_inflated octets pass, one more fails. */
static void
test_mule_cdt_decode_size_cap_exact(void **state)
{
    static const size_t sizes[] = { 1, 100, 65536, 65537, 200000 };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        mule_cdt_config cfg;
        buf text, ber, out;
        char what[64];

        buf_init(&text, NULL, SIZE_MAX);
        make_text(&text, sizes[i] < 100 ? 100 : sizes[i], 7);
        text.len = sizes[i];
        buf_init(&ber, NULL, SIZE_MAX);
        mule_cdt_config_init(&cfg);
        assert_code(mule_cdt_encode(&cfg, NULL, text.data, text.len, &ber), 0, "enc");

        snprintf(what, sizeof(what), "size %zu at cap", sizes[i]);
        cfg.max_inflated = sizes[i];
        buf_init(&out, NULL, SIZE_MAX);
        assert_code(decode_cfg(&cfg, ber.data, ber.len, &out, NULL), 0, what);
        assert_bytes(out.data, out.len, text.data, text.len, what);
        buf_fini(&out);

        snprintf(what, sizeof(what), "size %zu over cap", sizes[i]);
        cfg.max_inflated = sizes[i] - 1;
        if (cfg.max_inflated == 0)
            cfg.max_inflated = 1, text.len = 0;     /* 1 octet fits a cap of 1 */
        buf_init(&out, NULL, SIZE_MAX);
        if (sizes[i] > 1) {
            assert_code(decode_cfg(&cfg, ber.data, ber.len, &out, NULL),
                        MULE_ERR_TOO_BIG, what);
            assert_int_equal(out.len, 0);
        }
        buf_fini(&out);

        /* A buffer that already holds data: the cap is on the new part. */
        cfg.max_inflated = sizes[i];
        buf_init(&out, NULL, SIZE_MAX);
        assert_int_equal(buf_append(&out, "ab", 2), 0);
        assert_code(decode_cfg(&cfg, ber.data, ber.len, &out, NULL), 0, "prefilled");
        assert_int_equal(out.len, 2 + sizes[i]);
        assert_int_equal(out.max, SIZE_MAX);       /* cap restored */
        buf_fini(&out);

        buf_fini(&ber);
        buf_fini(&text);
    }
}

/* The ratio cap applies only past the floor, and text passes it. */
static void
test_mule_cdt_decode_ratio_floor(void **state)
{
    mule_cdt_config cfg;
    buf zeros, text, ber, out;

    (void)state;
    buf_init(&zeros, NULL, SIZE_MAX);
    assert_int_equal(buf_reserve(&zeros, 200000), 0);
    memset(zeros.data, 0, 200000);
    zeros.len = 200000;
    buf_init(&text, NULL, SIZE_MAX);
    make_text(&text, 200000, 3);

    mule_cdt_config_init(&cfg);
    cfg.max_ratio = 20;
    cfg.ratio_floor = 10000;

    buf_init(&ber, NULL, SIZE_MAX);
    buf_init(&out, NULL, SIZE_MAX);
    assert_code(mule_cdt_encode(&cfg, NULL, zeros.data, zeros.len, &ber), 0, "enc0");
    assert_code(decode_cfg(&cfg, ber.data, ber.len, &out, NULL), MULE_ERR_RATIO,
                "zeros, ratio 20");
    /* Below the floor any ratio is fine. */
    cfg.ratio_floor = 200000;
    assert_code(decode_cfg(&cfg, ber.data, ber.len, &out, NULL), 0, "zeros, floor");
    assert_int_equal(out.len, 200000);
    /* Ratio cap off. */
    buf_reset(&out);
    cfg.ratio_floor = 10000;
    cfg.max_ratio = 0;
    assert_code(decode_cfg(&cfg, ber.data, ber.len, &out, NULL), 0, "zeros, off");

    /* Mail-like text stays far below 20:1. */
    buf_reset(&ber);
    buf_reset(&out);
    cfg.max_ratio = 20;
    assert_code(mule_cdt_encode(&cfg, NULL, text.data, text.len, &ber), 0, "enc1");
    assert_code(decode_cfg(&cfg, ber.data, ber.len, &out, NULL), 0, "text");
    assert_bytes(out.data, out.len, text.data, text.len, "text");

    buf_fini(&out);
    buf_fini(&ber);
    buf_fini(&text);
    buf_fini(&zeros);
}

/* ------------------------------------------------------------------ */
/* Allocation failure                                                  */
/* ------------------------------------------------------------------ */

/* Fail the 1st, 2nd, ... allocation until the call succeeds: each
 * failure is NOMEM (or NOSPACE-free), leaves the output as it was, and
 * leaks nothing (cmocka checks test_malloc at the end of the test). */
static void
test_mule_cdt_allocation_failure(void **state)
{
    static const size_t sizes[] = { 0, 4096, 300000 };
    size_t si;
    long n;

    (void)state;
    for (si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
        buf text, ref;
        mule_cdt_config cfg;

        buf_init(&text, NULL, SIZE_MAX);
        if (sizes[si] != 0)
            make_text(&text, sizes[si], 11);
        mule_cdt_config_init(&cfg);
        buf_init(&ref, NULL, SIZE_MAX);
        assert_code(mule_cdt_encode(&cfg, NULL, text.data, text.len, &ref), 0, "ref");

        for (n = 0;; n++) {
            struct tmem t;
            mem m = tmem_make(&t, n);
            buf out;
            int rc;

            buf_init(&out, &m, SIZE_MAX);
            rc = mule_cdt_encode(&cfg, &m, text.data, text.len, &out);
            if (rc == 0) {
                assert_bytes(out.data, out.len, ref.data, ref.len, "encode");
                buf_fini(&out);
                break;
            }
            assert_code(rc, MULE_ERR_NOMEM, "encode");
            assert_int_equal(out.len, 0);
            buf_fini(&out);
            assert_int_equal(t.live, 0);
            assert_true(n < 1000);
        }
        for (n = 0;; n++) {
            struct tmem t;
            mem m = tmem_make(&t, n);
            buf out;
            int rc;

            buf_init(&out, &m, SIZE_MAX);
            rc = mule_cdt_decode(&cfg, &m, ref.data, ref.len, &out, NULL);
            if (rc == 0) {
                assert_bytes(out.data, out.len, text.data, text.len, "decode");
                buf_fini(&out);
                break;
            }
            assert_code(rc, MULE_ERR_NOMEM, "decode");
            assert_int_equal(out.len, 0);
            buf_fini(&out);
            assert_int_equal(t.live, 0);
            assert_true(n < 1000);
        }
        buf_fini(&ref);
        buf_fini(&text);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mule_cdt_decode_vectors_plain),
        cmocka_unit_test(test_mule_cdt_decode_vector_rfc8494_example),
        cmocka_unit_test(test_mule_ber_reencode_vectors_exact),
        cmocka_unit_test(test_mule_ber_encode_hand_built),
        cmocka_unit_test(test_mule_cdt_round_trip_levels_sizes_forms),
        cmocka_unit_test(test_mule_cdt_append_and_restore),
        cmocka_unit_test(test_mule_cdt_invalid_arguments),
        cmocka_unit_test(test_mule_cdt_decode_truncated_every_prefix),
        cmocka_unit_test(test_mule_cdt_decode_length_plus_minus_one),
        cmocka_unit_test(test_mule_cdt_decode_trailing_octets),
        cmocka_unit_test(test_mule_cdt_decode_length_forms),
        cmocka_unit_test(test_mule_cdt_decode_deep_nesting),
        cmocka_unit_test(test_mule_cdt_decode_not_mule),
        cmocka_unit_test(test_mule_cdt_decode_oid_forms),
        cmocka_unit_test(test_mule_cdt_decode_corrupt_zlib),
        cmocka_unit_test(test_mule_cdt_decode_zlib_edge_cases),
        cmocka_unit_test(test_mule_cdt_decode_zlib_bomb),
        cmocka_unit_test(test_mule_cdt_decode_size_cap_exact),
        cmocka_unit_test(test_mule_cdt_decode_ratio_floor),
        cmocka_unit_test(test_mule_cdt_allocation_failure),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
