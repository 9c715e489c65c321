/*
 * netsim_toy.h: a tiny deterministic engine for testing the netsim driver.
 *
 * Sends each message as one Address_PDU and 256-octet Data_PDUs (real
 * P_MUL encoding, so netsim classifies them), resends everything unacked
 * every 3 s, acknowledges complete messages with an empty Ack_PDU and
 * honours EMCON, unless toy_rogue is set: then it transmits in EMCON too,
 * which netsim must catch.  Test code only.
 */
#ifndef NETSIM_TOY_H
#define NETSIM_TOY_H

#include "netsim/netsim.h"

extern const netsim_engine_ops toy_ops;
/* Engine setting "rogue 1" makes the engine ignore EMCON. */

#endif
