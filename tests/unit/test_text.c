/*
 * NAME
 *	test_text - unit tests for pmul/util/text, the mail-text generator
 * SYNOPSIS
 *	meson test -C BUILD --no-rebuild -v text
 * DESCRIPTION
 *	The vocabulary (lower-case words of 1..TEXT_WORD_MAX letters), the
 *	sentence grammar (capital first letter, 5..17 words, "." or "?"),
 *	the paragraph layout (at least n octets, lines of at most 72 columns
 *	with the prefix, CRLF, printable ASCII), determinism (the same seed
 *	gives the same octets, another seed other octets), a pinned hash of
 *	one output (netsim's transcripts depend on it), and the buffer's
 *	cap and allocation failure passed back unchanged.
 * SECURITY
 *	Test code.
 * DIAGNOSTICS
 *	cmocka.
 * SEE ALSO
 *	pmul/util/text.h, netsim/netsim_mail.c.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_common.h"

#include "pmul/util/buf.h"
#include "pmul/util/fnv.h"
#include "pmul/util/text.h"

static uint64_t
below(void *arg, uint64_t n)
{
    uint64_t *x = arg;

    *x = *x * 6364136223846793005ull + 1442695040888963407ull;
    return (*x >> 33) % n;
}

static void
test_text_words(void **state)
{
    size_t i, j, len;

    (void)state;
    assert_true(text_word_cnt > 100);
    for (i = 0; i < text_word_cnt; i++) {
        len = strlen(text_words[i]);
        assert_true(len >= 1 && len <= TEXT_WORD_MAX);
        for (j = 0; j < len; j++)
            assert_true(text_words[i][j] >= 'a' && text_words[i][j] <= 'z');
    }
}

static void
test_text_sentence_shape(void **state)
{
    uint64_t x = 1;
    size_t i, words;
    buf b;
    int k;

    (void)state;
    for (k = 0; k < 200; k++) {
        buf_init(&b, NULL, SIZE_MAX);
        assert_int_equal(text_sentence(&b, below, &x), 0);
        assert_true(b.data[0] >= 'A' && b.data[0] <= 'Z');
        assert_true(b.data[b.len - 1] == '.' || b.data[b.len - 1] == '?');
        for (i = 0, words = 1; i < b.len; i++)
            words += b.data[i] == ' ';
        assert_true(words >= 5 && words <= 17);
        buf_fini(&b);
    }
}

static void
check_layout(const buf *b, size_t n, const char *prefix)
{
    size_t i, col = 0, plen = strlen(prefix);
    bool line_start = true;

    assert_true(b->len >= n);
    assert_true(b->len >= 2 && b->data[b->len - 2] == '\r' && b->data[b->len - 1] == '\n');
    for (i = 0; i < b->len; i++) {
        if (line_start) {
            assert_true(b->len - i >= plen);
            assert_memory_equal(b->data + i, prefix, plen);
            line_start = false;
        }
        if (b->data[i] == '\r') {
            assert_true(i + 1 < b->len && b->data[i + 1] == '\n');
            assert_true(col <= 72);
            i++;
            col = 0;
            line_start = true;
            continue;
        }
        assert_true(b->data[i] >= 0x20 && b->data[i] < 0x7f);
        col++;
    }
}

static void
test_text_paragraphs_layout(void **state)
{
    static const char *const prefixes[] = { "", "> ", "> > > > " };
    uint64_t x = 7;
    size_t n, p;
    buf b;

    (void)state;
    for (p = 0; p < 3; p++) {
        for (n = 0; n < 3000; n += 499) {
            buf_init(&b, NULL, SIZE_MAX);
            assert_int_equal(text_paragraphs(&b, n == 0 ? 1 : n, prefixes[p], below, &x), 0);
            check_layout(&b, n == 0 ? 1 : n, prefixes[p]);
            buf_fini(&b);
        }
    }
}

/* Same seed, same octets; the output is pinned, since netsim's transcript
 * hashes (and the numbers in docs/) depend on the sentence grammar and on
 * the order in which it draws numbers. */
static void
test_text_deterministic(void **state)
{
    uint64_t x1 = 42, x2 = 42, x3 = 43;
    buf a, b, c;

    (void)state;
    buf_init(&a, NULL, SIZE_MAX);
    buf_init(&b, NULL, SIZE_MAX);
    buf_init(&c, NULL, SIZE_MAX);
    assert_int_equal(text_paragraphs(&a, 2000, "", below, &x1), 0);
    assert_int_equal(text_paragraphs(&b, 2000, "", below, &x2), 0);
    assert_int_equal(text_paragraphs(&c, 2000, "", below, &x3), 0);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    assert_false(a.len == c.len && memcmp(a.data, c.data, a.len) == 0);
    buf_reset(&a);
    x1 = 1;
    assert_int_equal(text_sentence(&a, below, &x1), 0);
    assert_int_equal(text_sentence(&a, below, &x1), 0);
    if (fnv64(a.data, a.len) != 0x0af93d0989468570ull)
        fail_msg("sentences changed: hash %016llx of \"%.*s\"",
                 (unsigned long long)fnv64(a.data, a.len), (int)a.len, (const char *)a.data);
    buf_fini(&a);
    buf_fini(&b);
    buf_fini(&c);
}

static void
test_text_cap_and_nomem(void **state)
{
    struct tmem t;
    mem m = tmem_make(&t);
    uint64_t x = 3;
    long k;
    buf b;
    int rc;

    (void)state;
    buf_init(&b, NULL, 100);
    assert_int_equal(text_paragraphs(&b, 1000, "", below, &x), UTIL_ERR_FULL);
    buf_fini(&b);
    for (k = 0;; k++) {
        m = tmem_make(&t);
        tmem_fail_after(&t, k);
        buf_init(&b, &m, SIZE_MAX);
        rc = text_paragraphs(&b, 500, "> ", below, &x);
        buf_fini(&b);
        assert_int_equal(t.live, 0);
        if (rc == 0)
            break;
        assert_int_equal(rc, UTIL_ERR_NOMEM);
    }
    assert_true(k > 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_words),
        cmocka_unit_test(test_text_sentence_shape),
        cmocka_unit_test(test_text_paragraphs_layout),
        cmocka_unit_test(test_text_deterministic),
        cmocka_unit_test(test_text_cap_and_nomem),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
