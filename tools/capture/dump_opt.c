/*
 * NAME
 *	dump_opt - command-line value parsers of the capture tools
 * SYNOPSIS
 *	#include "tools/capture/dump_opt.h"
 * DESCRIPTION
 *	Small strict parsers for what pmul-dump and pmul-replay take on the
 *	command line.  They exist so both tools reject the same mistakes the
 *	same way (a port 70000, "12abc", an empty range).
 * SECURITY
 *	Input is the operator's command line; nothing is trusted beyond the
 *	checks made here.
 * DIAGNOSTICS
 *	Return 0 or -1; the program reports the bad argument.
 * SEE ALSO
 *	pmul-dump(1), pmul-replay(1).
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "tools/capture/dump_opt.h"

#include "pmul/util/num.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
dump_ports_default(dump_ports *p)
{
    unsigned port;

    memset(p, 0, sizeof(*p));
    for (port = 2751; port <= 2754; port++)
        p->bits[port / 8] |= (uint8_t)(1u << (port % 8));
}

bool
dump_ports_has(const dump_ports *p, uint16_t port)
{
    return (p->bits[port / 8] & (1u << (port % 8))) != 0;
}

/* One port number at *s, advancing *s past its digits. */
static int
parse_port(const char **s, unsigned *out)
{
    unsigned long v;
    char *end;

    if (**s < '0' || **s > '9')
        return -1;
    errno = 0;
    v = strtoul(*s, &end, 10);
    if (errno != 0 || v == 0 || v > 65535)
        return -1;
    *s = end;
    *out = (unsigned)v;
    return 0;
}

int
dump_ports_parse(dump_ports *p, const char *s)
{
    dump_ports n;
    unsigned lo, hi, port;

    memset(&n, 0, sizeof(n));
    for (;;) {
        if (parse_port(&s, &lo) != 0)
            return -1;
        hi = lo;
        if (*s == '-') {
            s++;
            if (parse_port(&s, &hi) != 0 || hi < lo)
                return -1;
        }
        for (port = lo; port <= hi; port++)
            n.bits[port / 8] |= (uint8_t)(1u << (port % 8));
        if (*s == '\0')
            break;
        if (*s != ',')
            return -1;
        s++;
    }
    *p = n;
    return 0;
}

int
dump_parse_u64(const char *s, uint64_t *v)
{
    /* The project's one strict number parser (pmul/util/num.h). */
    return num_parse_u64(s, 0, UINT64_MAX, v) == 0 ? 0 : -1;
}

int
dump_parse_double(const char *s, double *v)
{
    double x;
    char *end;

    if (s[0] == '\0')
        return -1;
    errno = 0;
    x = strtod(s, &end);
    if (errno != 0 || *end != '\0' || !isfinite(x) || x < 0)
        return -1;
    *v = x;
    return 0;
}

int
dump_parse_ip4(const char *s, uint32_t *ip)
{
    struct in_addr a;

    if (inet_pton(AF_INET, s, &a) != 1)
        return -1;
    *ip = ntohl(a.s_addr);
    return 0;
}

int
dump_parse_ip4_pair(const char *s, uint32_t *old_ip, uint32_t *new_ip)
{
    char tmp[64];
    const char *eq = strchr(s, '=');
    size_t n;

    if (eq == NULL)
        return -1;
    n = (size_t)(eq - s);
    if (n == 0 || n >= sizeof(tmp))
        return -1;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    if (dump_parse_ip4(tmp, old_ip) != 0 || dump_parse_ip4(eq + 1, new_ip) != 0)
        return -1;
    return 0;
}

int
dump_parse_port_pair(const char *s, uint16_t *old_port, uint16_t *new_port)
{
    unsigned a = 0, b;

    if (strchr(s, '=') != NULL) {
        if (parse_port(&s, &a) != 0 || *s != '=')
            return -1;
        s++;
    }
    if (parse_port(&s, &b) != 0 || *s != '\0')
        return -1;
    *old_port = (uint16_t)a;
    *new_port = (uint16_t)b;
    return 0;
}

static int
cmp_range(const void *a, const void *b)
{
    const uint64_t *x = a, *y = b;

    return x[0] < y[0] ? -1 : x[0] > y[0];
}

/* Parse the list text t (NUL-terminated) into a new array. */
static int
ranges_from_text(dump_ranges *out, const char *t)
{
    uint64_t (*r)[2] = NULL, (*nr)[2];
    size_t cnt = 0, size = 0, i, k;
    unsigned long long lo, hi;
    char *end;

    for (;;) {
        while (*t == ',' || *t == ' ' || *t == '\n' || *t == '\t' || *t == '\r')
            t++;
        if (*t == '\0')
            break;
        if (*t < '0' || *t > '9')
            goto fail;
        errno = 0;
        lo = strtoull(t, &end, 10);
        if (errno != 0)
            goto fail;
        t = end;
        hi = lo;
        if (*t == '-') {
            t++;
            if (*t < '0' || *t > '9')
                goto fail;
            hi = strtoull(t, &end, 10);
            if (errno != 0 || hi < lo)
                goto fail;
            t = end;
        }
        if (*t != '\0' && *t != ',' && *t != ' ' && *t != '\n' && *t != '\t' &&
            *t != '\r')
            goto fail;
        if (cnt == size) {
            size_t ns = size ? size * 2 : 16;

            if (ns > DUMP_RANGES_MAX)
                ns = DUMP_RANGES_MAX;
            if (cnt == ns)
                goto fail;
            nr = realloc(r, ns * sizeof(*r));
            if (nr == NULL)
                goto fail;
            r = nr;
            size = ns;
        }
        r[cnt][0] = lo;
        r[cnt][1] = hi;
        cnt++;
    }
    /* Sort and merge overlapping or adjacent ranges, so lookups can
     * binary-search. */
    if (cnt > 1)
        qsort(r, cnt, sizeof(*r), cmp_range);
    for (i = 0, k = 0; i < cnt; i++) {
        if (k > 0 && r[i][0] <= r[k - 1][1] + 1) {
            if (r[i][1] > r[k - 1][1])
                r[k - 1][1] = r[i][1];
        } else {
            r[k][0] = r[i][0];
            r[k][1] = r[i][1];
            k++;
        }
    }
    dump_ranges_fini(out);
    out->r = r;
    out->cnt = k;
    return 0;

fail:
    free(r);
    return -1;
}

int
dump_ranges_parse(dump_ranges *out, const char *s)
{
    char *text;
    size_t len = 0, size = 0, n;
    FILE *fp;
    int rc;

    if (s[0] != '@')
        return ranges_from_text(out, s);
    fp = fopen(s + 1, "r");
    if (fp == NULL)
        return -1;
    /* Read the whole file; its size is the operator's business, but the
     * range count is capped while parsing. */
    text = NULL;
    for (;;) {
        char *nt;

        if (size - len < 4096) {
            if (size > ((size_t)64 << 20)) {
                free(text);
                (void)fclose(fp);
                return -1;
            }
            nt = realloc(text, size + 65536);
            if (nt == NULL) {
                free(text);
                (void)fclose(fp);
                return -1;
            }
            text = nt;
            size += 65536;
        }
        n = fread(text + len, 1, size - len - 1, fp);
        len += n;
        if (n == 0)
            break;
    }
    rc = ferror(fp) ? -1 : 0;
    if (fclose(fp) != 0)
        rc = -1;
    text[len] = '\0';
    if (rc == 0 && strlen(text) != len)
        rc = -1;                        /* a NUL in the file */
    if (rc == 0)
        rc = ranges_from_text(out, text);
    free(text);
    return rc;
}

bool
dump_ranges_has(const dump_ranges *r, uint64_t v)
{
    size_t lo = 0, hi = r->cnt;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (v < r->r[mid][0])
            hi = mid;
        else if (v > r->r[mid][1])
            lo = mid + 1;
        else
            return true;
    }
    return false;
}

void
dump_ranges_fini(dump_ranges *r)
{
    free(r->r);
    r->r = NULL;
    r->cnt = 0;
}
