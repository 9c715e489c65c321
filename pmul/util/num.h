/*
 * num.h: strict parsing of the numbers operators type on command lines and
 * in configuration files.
 *
 * "2h" must not be read as 2 seconds, "xyz" as 0 or "64k" as 64: every
 * function here takes the whole string or nothing (no trailing garbage, no
 * sign, no empty string, no overflow, the caller's range), and accepts the
 * units people write for that kind of quantity:
 *
 *   durations  90  250ms  30s  2m  1.5h  7d     (no unit: the caller's)
 *   rates      9600  9.6k  64kbit  2M  64kbps   (bit/s, k = 1000)
 *   sizes      1024  64k  64KiB  4M  1G  512B   (octets, k = 1024)
 *
 * A decimal fraction is allowed where a unit scales it to a whole number
 * (1.5h, 9.6k), computed in integers (no floating-point rounding).  Libc
 * only; no allocation.
 */
#ifndef PMUL_UTIL_NUM_H
#define PMUL_UTIL_NUM_H

#include <stdint.h>

/* One unit: its spelling and what one of it is worth in the base unit. */
typedef struct num_unit {
    const char *name;
    uint64_t scale;
} num_unit;

/*
 * Parse s as a decimal number with an optional fraction and one unit of
 * units[] (a table ended by a NULL name; an empty name is the unit when
 * none is written), into *out in the base unit, within [min, max].
 * Returns 0, UTIL_ERR_NUM_SYNTAX (not a number, unknown unit, a fraction
 * that does not come out whole) or UTIL_ERR_NUM_RANGE (overflow, or out of
 * [min, max]); *out is untouched on failure.
 */
int num_parse_units(const char *s, const num_unit *units, uint64_t min, uint64_t max,
                    uint64_t *out);

/* Digits only (no unit, no fraction), within [min, max]. */
int num_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* A duration in milliseconds; a bare number counts in bare_unit_ms (1000:
 * seconds). */
int num_parse_duration_ms(const char *s, uint64_t bare_unit_ms, uint64_t min, uint64_t max,
                          uint64_t *out);

/* A rate in bit/s: k, M, G are powers of 1000; "bit", "bps" or "bit/s" may
 * follow. */
int num_parse_rate_bps(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* A size in octets: k, M, G (or KiB, MiB, GiB) are powers of 1024; "B" may
 * follow. */
int num_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out);

#endif
