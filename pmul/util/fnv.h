/*
 * fnv.h: FNV-1a 64-bit hash.
 *
 * Used for transcript hashes (determinism tests), payload fingerprints in
 * tool output and seeding labels: never for anything a peer could attack.
 * Includes only libc.
 */
#ifndef PMUL_UTIL_FNV_H
#define PMUL_UTIL_FNV_H

#include <stddef.h>
#include <stdint.h>

#define FNV64_INIT 0xcbf29ce484222325ull

/* Continue hash h over p[0..len). */
uint64_t fnv64_update(uint64_t h, const void *p, size_t len);
/* Hash of p[0..len) from FNV64_INIT. */
uint64_t fnv64(const void *p, size_t len);

#endif
