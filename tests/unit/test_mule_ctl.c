/*
 * test_mule_ctl.c: unit tests of mule/mule_ctl (the mulectl <-> muled
 * control protocol codec): request and reply round trips, a reply split
 * into MORE frames, the frame finder on every prefix (truncation loop),
 * and each malformed field refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mule/mule_ctl.h"
#include "mule/mule_err.h"

static void
test_req_round_trip(void **state)
{
    (void)state;
    const char *argv[] = {"delete", "-n", "M0ABCDEF1234"};
    buf b;
    mule_ctl_req req;
    size_t flen;

    buf_init(&b, NULL, SIZE_MAX);
    assert_int_equal(mule_ctl_req_encode(&b, MULE_CTL_F_JSON, 3, argv), 0);
    assert_int_equal(mule_ctl_frame(b.data, b.len, true, &flen), 1);
    assert_int_equal(flen, b.len);
    assert_int_equal(mule_ctl_req_decode(b.data, b.len, &req), 0);
    assert_int_equal(req.flags, MULE_CTL_F_JSON);
    assert_int_equal(req.argc, 3);
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(req.argv[i], argv[i]);

    /* Every proper prefix is "need more", never a frame or an error. */
    for (size_t n = 0; n < b.len; n++) {
        assert_int_equal(mule_ctl_frame(b.data, n, true, &flen), 0);
        assert_int_equal(mule_ctl_req_decode(b.data, n, &req), MULE_ERR_CTL_PROTO);
    }
    buf_fini(&b);
}

static void
test_req_bad_args(void **state)
{
    (void)state;
    buf b;
    char big[MULE_CTL_ARG_MAX + 2];
    const char *many[MULE_CTL_ARGC_MAX + 1];

    buf_init(&b, NULL, SIZE_MAX);
    const char *ctl[] = {"show", "a\nb"};
    const char *empty[] = {"show", ""};
    assert_int_equal(mule_ctl_req_encode(&b, 0, 2, ctl), MULE_ERR_INVAL);
    assert_int_equal(mule_ctl_req_encode(&b, 0, 2, empty), MULE_ERR_INVAL);
    assert_int_equal(mule_ctl_req_encode(&b, 0, 0, ctl), MULE_ERR_INVAL);
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    const char *bigv[] = {big};
    assert_int_equal(mule_ctl_req_encode(&b, 0, 1, bigv), MULE_ERR_INVAL);
    for (size_t i = 0; i < MULE_CTL_ARGC_MAX + 1; i++)
        many[i] = "status";
    assert_int_equal(mule_ctl_req_encode(&b, 0, MULE_CTL_ARGC_MAX + 1, many), MULE_ERR_INVAL);
    assert_int_equal(b.len, 0);
    buf_fini(&b);
}

/* Hand-made frames, each wrong in one field. */
static void
test_req_malformed(void **state)
{
    (void)state;
    mule_ctl_req req;
    size_t flen;
    static const struct {
        const char *why;
        uint8_t b[16];
        size_t len;
    } bad[] = {
        {"version", {0, 0, 0, 10, 2, 'Q', 0, 1, 0, 4, 's', 't', 'a', 't'}, 14},
        {"type", {0, 0, 0, 10, 1, 'R', 0, 1, 0, 4, 's', 't', 'a', 't'}, 14},
        {"argc 0", {0, 0, 0, 4, 1, 'Q', 0, 0}, 8},
        {"argc 17", {0, 0, 0, 4, 1, 'Q', 0, 17}, 8},
        {"arg past end", {0, 0, 0, 10, 1, 'Q', 0, 1, 0, 5, 's', 't', 'a', 't'}, 14},
        {"arg empty", {0, 0, 0, 6, 1, 'Q', 0, 1, 0, 0}, 10},
        {"trailing", {0, 0, 0, 11, 1, 'Q', 0, 1, 0, 4, 's', 't', 'a', 't', 'x'}, 15},
        {"NUL in arg", {0, 0, 0, 10, 1, 'Q', 0, 1, 0, 4, 's', 0, 'a', 't'}, 14},
        {"DEL in arg", {0, 0, 0, 10, 1, 'Q', 0, 1, 0, 4, 's', 0x7f, 'a', 't'}, 14},
        {"short body", {0, 0, 0, 1, 1}, 5},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = mule_ctl_req_decode(bad[i].b, bad[i].len, &req);
        if (rc != MULE_ERR_CTL_PROTO)
            fail_msg("%s: %d", bad[i].why, rc);
    }
    /* A length above the request limit is refused before any body. */
    uint8_t huge[4] = {0, 0, 0x10, 0};
    assert_int_equal(mule_ctl_frame(huge, 4, true, &flen), MULE_ERR_CTL_PROTO);
    assert_int_equal(mule_ctl_frame(huge, 4, false, &flen), 0);
    uint8_t over[4] = {0, 0x10, 0, 1};
    assert_int_equal(mule_ctl_frame(over, 4, false, &flen), MULE_ERR_CTL_PROTO);
}

static void
test_reply_split(void **state)
{
    (void)state;
    size_t n = MULE_CTL_FRAME_MAX * 2 + 10;
    uint8_t *text = malloc(n);
    buf b, got;
    enum mule_ctl_status st = MULE_CTL_OK;
    size_t pos = 0, frames = 0;

    assert_non_null(text);
    for (size_t i = 0; i < n; i++)
        text[i] = (uint8_t)('a' + i % 26);
    buf_init(&b, NULL, SIZE_MAX);
    buf_init(&got, NULL, SIZE_MAX);
    assert_int_equal(mule_ctl_reply_encode(&b, MULE_CTL_FAILED, text, n), 0);
    for (;;) {
        size_t flen, tl;
        const uint8_t *t;
        assert_int_equal(mule_ctl_frame(b.data + pos, b.len - pos, false, &flen), 1);
        assert_int_equal(mule_ctl_reply_decode(b.data + pos, flen, &st, &t, &tl), 0);
        assert_int_equal(buf_append(&got, t, tl), 0);
        pos += flen;
        frames++;
        if (st != MULE_CTL_MORE)
            break;
    }
    assert_int_equal(st, MULE_CTL_FAILED);
    assert_int_equal(frames, 3);
    assert_int_equal(pos, b.len);
    assert_int_equal(got.len, n);
    assert_memory_equal(got.data, text, n);
    buf_fini(&b);
    buf_fini(&got);
    free(text);
}

static void
test_reply_empty_and_bad(void **state)
{
    (void)state;
    buf b;
    enum mule_ctl_status st;
    const uint8_t *t;
    size_t tl;

    buf_init(&b, NULL, SIZE_MAX);
    assert_int_equal(mule_ctl_reply_encode(&b, MULE_CTL_OK, NULL, 0), 0);
    assert_int_equal(mule_ctl_reply_decode(b.data, b.len, &st, &t, &tl), 0);
    assert_int_equal(st, MULE_CTL_OK);
    assert_int_equal(tl, 0);
    assert_string_equal(mule_ctl_status_name(st), "ok");
    b.data[6] = 9;      /* unknown status */
    assert_int_equal(mule_ctl_reply_decode(b.data, b.len, &st, &t, &tl), MULE_ERR_CTL_PROTO);
    b.data[6] = 0;
    b.data[5] = 'Q';    /* a request where a reply belongs */
    assert_int_equal(mule_ctl_reply_decode(b.data, b.len, &st, &t, &tl), MULE_ERR_CTL_PROTO);
    assert_int_equal(mule_ctl_reply_encode(&b, 7, "x", 1), MULE_ERR_INVAL);
    buf_fini(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_req_round_trip),
        cmocka_unit_test(test_req_bad_args),
        cmocka_unit_test(test_req_malformed),
        cmocka_unit_test(test_reply_split),
        cmocka_unit_test(test_reply_empty_and_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
