/*
 * netsim_rng.h: the simulator's own seeded pseudo-random generator.
 *
 * xoshiro256** (Blackman and Vigna) seeded through splitmix64.  netsim never
 * calls rand(): every random draw (loss, duplication, reordering, engine
 * randomness, generated mail text) comes from a stream of this generator
 * derived from the run seed and a stream label, so the same seed gives the
 * same run, byte for byte, on every platform.
 */
#ifndef NETSIM_RNG_H
#define NETSIM_RNG_H

#include <stdint.h>

typedef struct netsim_rng {
    uint64_t s[4];
} netsim_rng;

/* One splitmix64 step: advances *state and returns the next output. */
uint64_t netsim_splitmix64(uint64_t *state);

/* Seed a stream from (seed, label): different labels give independent
 * streams from one run seed (one per node and purpose). */
void netsim_rng_seed(netsim_rng *r, uint64_t seed, uint64_t label);

/* Next 64 random bits. */
uint64_t netsim_rng_next(netsim_rng *r);

/* Uniform integer in [0, n) without modulo bias; n == 0 returns 0. */
uint64_t netsim_rng_below(netsim_rng *r, uint64_t n);

/* A probability as a 53-bit threshold: netsim_rng_chance(r, thr) is true
 * with probability p.  p is clamped to [0, 1]. */
uint64_t netsim_prob_threshold(double p);
int netsim_rng_chance(netsim_rng *r, uint64_t thr);

/* Mix a string into a 64-bit label (FNV-1a 64). */
uint64_t netsim_label(const char *s);

#endif
