/*
 * dump_opt.h: command-line helpers shared by pmul-dump and pmul-replay.
 *
 * Port sets ("2751-2754,5000"), strict unsigned and decimal numbers, IPv4
 * addresses and OLD=NEW pairs.  Every parser rejects trailing garbage and
 * out-of-range values instead of guessing.
 */
#ifndef DUMP_OPT_H
#define DUMP_OPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Buffer size for libpcap's error texts (PCAP_ERRBUF_SIZE). */
#define DUMP_ERRBUF_LEN 256

/* A set of UDP ports, one bit each. */
typedef struct dump_ports {
    uint8_t bits[65536 / 8];
} dump_ports;

/* The P_MUL default: 2751-2754 (docs/wire.md 1). */
void dump_ports_default(dump_ports *p);

/* Replace *p with the ports of "A[-B][,C[-D]]...".  Returns 0 or -1. */
int dump_ports_parse(dump_ports *p, const char *s);

bool dump_ports_has(const dump_ports *p, uint16_t port);

/* Decimal unsigned integer, the whole string.  Returns 0 or -1. */
int dump_parse_u64(const char *s, uint64_t *v);

/* A non-negative decimal like "2", "0.5", "1e3" (strtod), finite.
 * Returns 0 or -1. */
int dump_parse_double(const char *s, double *v);

/* Dotted IPv4 address into host byte order.  Returns 0 or -1. */
int dump_parse_ip4(const char *s, uint32_t *ip);

/* "OLD=NEW" of two IPv4 addresses.  Returns 0 or -1. */
int dump_parse_ip4_pair(const char *s, uint32_t *old_ip, uint32_t *new_ip);

/* "OLD=NEW" or "NEW" of ports (old 0 when absent).  Returns 0 or -1. */
int dump_parse_port_pair(const char *s, uint16_t *old_port, uint16_t *new_port);

/* A set of frame numbers as sorted, merged ranges ("5,7-9"). */
typedef struct dump_ranges {
    uint64_t (*r)[2];           /* [lo, hi] inclusive, sorted, disjoint */
    size_t cnt;
} dump_ranges;

/*
 * Parse "A[-B][,C[-D]]..." (commas, spaces and newlines all separate), or
 * "@FILE" to read the same syntax from FILE, into *out (replacing it).
 * At most DUMP_RANGES_MAX ranges.  Returns 0 or -1 (syntax, file or
 * memory error; *out unchanged).
 */
#define DUMP_RANGES_MAX 1000000u
int dump_ranges_parse(dump_ranges *out, const char *s);
bool dump_ranges_has(const dump_ranges *r, uint64_t v);
void dump_ranges_fini(dump_ranges *r);

#endif
