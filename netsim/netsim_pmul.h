/*
 * netsim_pmul.h: the netsim adapter for the P_MUL engine (pmul_engine.h).
 *
 * Maps netsim's engine interface onto pmul_engine_*: virtual microseconds
 * become pmul_now (mono_ms = us / 1000, wall_s = wall-start + us / 10^6),
 * each node gets its own seeded random stream, and "engine KEY VALUE"
 * lines of the scenario set pmul_config fields (docs/netsim.md lists the
 * keys).  The engine paces itself at the node's uplink rate.
 */
#ifndef NETSIM_PMUL_H
#define NETSIM_PMUL_H

#include "netsim/netsim.h"

/* The adapter (static, stateless). */
extern const netsim_engine_ops netsim_pmul_ops;

#endif
