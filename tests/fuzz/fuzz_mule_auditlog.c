/*
 * fuzz_mule_auditlog.c: libFuzzer harness for the audit log's record
 * parser and chain check (mule/mule_auditlog), what `mulectl audit verify`
 * runs over files an attacker may have edited.
 *
 * The input is split into lines; each is parsed, checked against the
 * chain so far (which advances only on a good record) and, when it parses,
 * read as a chain record.  A good record must re-format to the same line
 * under the same chain state.  Every prefix of the first line is tried too
 * (truncation loop): none may pass the check.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mule/mule_auditlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t key[32] = "fuzz-key-fuzz-key-fuzz-key-fuzz!";

static void
check(int cond)
{
    if (!cond)
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mule_auditlog_chain ch;
    const char *p = (const char *)data, *end = p + size;
    char why[160];
    static char again[MULE_AUDITLOG_LINE_MAX + 8];

    memset(&ch, 0, sizeof ch);
    for (int guard = 0; guard < 256 && p < end; guard++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
        mule_auditlog_rec r;
        mule_auditlog_link l;
        const char *w;
        mule_auditlog_chain before = ch;

        if (mule_auditlog_parse(p, len, &r, &w) == 0) {
            check(r.text >= p && r.text + r.text_len <= p + len && r.seq > 0);
            (void)mule_auditlog_link_parse(r.text, r.text_len, &l);
        }
        if (mule_auditlog_check(&ch, key, sizeof key, p, len, why, sizeof why) == 0) {
            /* Only a record our key made passes: it re-formats identically. */
            char *text = strndup(r.text, r.text_len);
            long n;
            check(text != NULL);
            n = mule_auditlog_format(&before, key, sizeof key, r.time, text, again,
                                     sizeof again);
            check(n == (long)len + 1 && memcmp(again, p, len) == 0);
            check(before.seq == ch.seq && memcmp(before.mac, ch.mac, sizeof ch.mac) == 0);
            free(text);
        } else {
            check(before.seq == ch.seq);
        }
        p += len + 1;
    }
    return 0;
}
