/*
 * NAME
 *	dump_opt - command-line value parsers of the capture tools
 * SYNOPSIS
 *	#include "tools/dump_opt.h"
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
#include "tools/dump_opt.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
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
    unsigned long long x;
    char *end;

    if (s[0] < '0' || s[0] > '9')
        return -1;
    errno = 0;
    x = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *v = (uint64_t)x;
    return 0;
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
