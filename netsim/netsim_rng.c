/*
 * NAME
 *	netsim_rng - seeded xoshiro256** streams for the simulator
 * SYNOPSIS
 *	#include "netsim/netsim_rng.h"
 * DESCRIPTION
 *	xoshiro256** 1.0 seeded by splitmix64, as recommended by its authors.
 *	Probabilities are compared as 53-bit integers rather than doubles, so
 *	a draw's outcome depends only on integer arithmetic once the scenario
 *	has been parsed.
 * SECURITY
 *	Not a cryptographic generator; it only has to be reproducible.
 * DIAGNOSTICS
 *	None.
 * SEE ALSO
 *	https://prng.di.unimi.it/, netsim(7).
 * LICENSE
 *	MIT, see LICENSE.
 */
#include "netsim/netsim_rng.h"

#include <string.h>

#include "pmul/util/fnv.h"

#define P53 ((uint64_t)1 << 53)

uint64_t
netsim_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void
netsim_rng_seed(netsim_rng *r, uint64_t seed, uint64_t label)
{
    /* Mixing the label through one splitmix step first keeps streams with
     * neighbouring labels (node 1, node 2) unrelated. */
    uint64_t st = seed ^ netsim_splitmix64(&label);
    int i;

    for (i = 0; i < 4; i++)
        r->s[i] = netsim_splitmix64(&st);
    /* The all-zero state is the one state xoshiro cannot leave. */
    if ((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0)
        r->s[0] = 1;
}

static uint64_t
rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t
netsim_rng_next(netsim_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t
netsim_rng_below(netsim_rng *r, uint64_t n)
{
    uint64_t x, lim;

    if (n == 0)
        return 0;
    /* Reject the top partial block so that every residue is equally
     * likely (Lemire's simpler cousin; at most one retry on average). */
    lim = UINT64_MAX - UINT64_MAX % n;
    do
        x = netsim_rng_next(r);
    while (x >= lim);
    return x % n;
}

uint64_t
netsim_prob_threshold(double p)
{
    if (!(p > 0.0))
        return 0;
    if (p >= 1.0)
        return P53;
    return (uint64_t)(p * (double)P53);
}

int
netsim_rng_chance(netsim_rng *r, uint64_t thr)
{
    return (netsim_rng_next(r) >> 11) < thr;
}

uint64_t
netsim_label(const char *s)
{
    return fnv64(s, strlen(s));
}
