/*
 * NAME
 *	num - strict parsing of numbers with units
 * SYNOPSIS
 *	#include "pmul/util/num.h"
 * DESCRIPTION
 *	One grammar for every number an operator types: digits, an optional
 *	'.' and fraction digits, then a unit from the caller's table.  The
 *	value is computed in 64-bit integers: integer part times scale plus
 *	fraction times scale divided by a power of ten, each step checked
 *	for overflow, and a fraction that does not come out whole in the
 *	base unit is refused rather than rounded.
 * SECURITY
 *	Sees untrusted text (command lines, configuration files); reads only
 *	the string it is given, which must be NUL-terminated.
 * DIAGNOSTICS
 *	UTIL_ERR_NUM_SYNTAX, UTIL_ERR_NUM_RANGE.
 * SEE ALSO
 *	num.h, tests/unit/test_num.c.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "pmul/util/num.h"
#include "pmul/util/util_err.h"

#define FRAC_MAX_DIGITS 9

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

int
num_parse_units(const char *s, const num_unit *units, uint64_t min, uint64_t max,
                uint64_t *out)
{
    uint64_t ip = 0, frac = 0, div = 1, scale = 0, v, f;
    const num_unit *u;
    bool found = false;
    size_t fd = 0;

    if (s == NULL || !is_digit(*s))
        return UTIL_ERR_NUM_SYNTAX;
    for (; is_digit(*s); s++) {
        if (ip > (UINT64_MAX - (uint64_t)(*s - '0')) / 10u)
            return UTIL_ERR_NUM_RANGE;
        ip = ip * 10u + (uint64_t)(*s - '0');
    }
    if (*s == '.') {
        s++;
        if (!is_digit(*s))
            return UTIL_ERR_NUM_SYNTAX;
        for (; is_digit(*s); s++) {
            if (++fd > FRAC_MAX_DIGITS)
                return UTIL_ERR_NUM_SYNTAX;
            frac = frac * 10u + (uint64_t)(*s - '0');
            div *= 10u;
        }
    }
    for (u = units; u->name != NULL; u++) {
        if (strcmp(s, u->name) == 0) {
            scale = u->scale;
            found = true;
            break;
        }
    }
    if (!found)
        return UTIL_ERR_NUM_SYNTAX;
    if (scale != 0 && ip > UINT64_MAX / scale)
        return UTIL_ERR_NUM_RANGE;
    v = ip * scale;
    if (frac != 0) {
        /* frac/div of a unit must be a whole number of base units. */
        if (scale > UINT64_MAX / frac)
            return UTIL_ERR_NUM_RANGE;
        f = frac * scale;
        if (f % div != 0)
            return UTIL_ERR_NUM_SYNTAX;
        f /= div;
        if (v > UINT64_MAX - f)
            return UTIL_ERR_NUM_RANGE;
        v += f;
    }
    if (v < min || v > max)
        return UTIL_ERR_NUM_RANGE;
    *out = v;
    return 0;
}

int
num_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    static const num_unit none[] = { { "", 1 }, { NULL, 0 } };
    size_t i;

    /* Digits only: refuse the fraction the unit grammar would allow. */
    if (s == NULL)
        return UTIL_ERR_NUM_SYNTAX;
    for (i = 0; s[i] != '\0'; i++)
        if (!is_digit(s[i]))
            return UTIL_ERR_NUM_SYNTAX;
    return num_parse_units(s, none, min, max, out);
}

int
num_parse_duration_ms(const char *s, uint64_t bare_unit_ms, uint64_t min, uint64_t max,
                      uint64_t *out)
{
    const num_unit units[] = {
        { "", bare_unit_ms }, { "ms", 1 }, { "s", 1000 }, { "sec", 1000 },
        { "m", 60000 }, { "min", 60000 }, { "h", 3600000 }, { "d", 86400000 },
        { NULL, 0 },
    };

    if (bare_unit_ms == 0)
        return UTIL_ERR_INVAL;
    return num_parse_units(s, units, min, max, out);
}

int
num_parse_rate_bps(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    static const num_unit units[] = {
        { "", 1 }, { "bit", 1 }, { "bps", 1 }, { "bit/s", 1 },
        { "k", 1000 }, { "K", 1000 }, { "kbit", 1000 }, { "kbps", 1000 },
        { "kbit/s", 1000 },
        { "M", 1000000 }, { "Mbit", 1000000 }, { "Mbps", 1000000 }, { "Mbit/s", 1000000 },
        { "G", 1000000000 }, { "Gbit", 1000000000 }, { "Gbps", 1000000000 },
        { NULL, 0 },
    };

    return num_parse_units(s, units, min, max, out);
}

int
num_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    static const num_unit units[] = {
        { "", 1 }, { "B", 1 },
        { "k", 1024 }, { "K", 1024 }, { "kB", 1024 }, { "KB", 1024 }, { "KiB", 1024 },
        { "M", 1048576 }, { "MB", 1048576 }, { "MiB", 1048576 },
        { "G", 1073741824 }, { "GB", 1073741824 }, { "GiB", 1073741824 },
        { NULL, 0 },
    };

    return num_parse_units(s, units, min, max, out);
}
