/*
 * fuzz_bsmtp_cmd.c: libFuzzer harness for the SMTP/LMTP command line
 * parser alone (bsmtp/bsmtp_cmd), without the session or TLS around it.
 *
 * The input is split at line ends into command lines (NULs cut a line
 * short, as C strings do); each is parsed in a copy.  Every pointer the
 * parser returns must lie inside that copy; a known verb must be the
 * line's first word (case-insensitively); MAIL and RCPT with good syntax
 * have a path that came from between <>; BDAT sizes are in range.  Every
 * prefix of the first line is parsed too (truncation loop).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bsmtp/bsmtp_cmd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(int cond)
{
    if (!cond)
        abort();
}

static bool
inside(const char *p, const char *base, size_t len)
{
    return p >= base && p <= base + len;
}

static void
one(const char *src, size_t len)
{
    static char line[4096], orig[4096];
    bsmtp_cmd c;
    size_t n = len < sizeof line - 1 ? len : sizeof line - 1;

    memcpy(line, src, n);
    line[n] = '\0';
    n = strlen(line);
    memcpy(orig, line, n + 1);
    bsmtp_cmd_parse(line, &c);
    check(inside(c.arg, line, n));
    if (c.verb != BSMTP_CMD_UNKNOWN) {
        const char *name = bsmtp_cmd_name(c.verb);
        size_t k = strlen(name);
        check(strncasecmp(orig, name, k) == 0 && (orig[k] == '\0' || orig[k] == ' '));
    }
    if (c.syntax_ok && (c.verb == BSMTP_CMD_MAIL || c.verb == BSMTP_CMD_RCPT)) {
        check(c.path != NULL && inside(c.path, line, n) && c.path > line);
        check(orig[c.path - line - 1] == '<');
        check(c.params == NULL || inside(c.params, line, n));
    } else {
        check(c.path == NULL && c.params == NULL);
    }
    if (c.verb == BSMTP_CMD_BDAT && c.syntax_ok)
        check(c.bdat_size <= UINT64_MAX / 2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;

    for (int guard = 0; guard < 512 && p < end; guard++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
        size_t l = len > 0 && p[len - 1] == '\r' ? len - 1 : len;
        one(p, l);
        p += len + 1;
    }
    {
        const char *nl = memchr(data, '\n', size);
        size_t first = nl != NULL ? (size_t)(nl - (const char *)data) : size;
        for (size_t k = 0; k <= first && k < 600; k++)
            one((const char *)data, k);
    }
    return 0;
}
