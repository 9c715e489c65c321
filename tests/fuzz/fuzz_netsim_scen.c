/*
 * NAME
 *	fuzz_netsim_scen - libFuzzer target for the netsim scenario parser
 * SYNOPSIS
 *	fuzz_netsim_scen [libFuzzer options] CORPUS_DIR...
 * DESCRIPTION
 *	The input is scenario text (netsim/README.md, docs/netsim.md).  It
 *	is parsed only; the simulation is not run.  A parsed scenario is
 *	checked for the facts the simulator relies on, then the parse is
 *	repeated with an allocator that fails after a number of calls
 *	derived from the input.
 *
 *	Invariants (a failure prints and traps): no crash or sanitizer
 *	report; a refused scenario has an error "LINE: reason" with LINE
 *	within the text; a parsed one has at least two nodes and one
 *	message, node and message names that find themselves, message
 *	senders and destinations, EXPECT message and node lists within
 *	range, destination lists ascending without the sender, sizes within
 *	NETSIM_MSG_SIZE_MAX, EMCON intervals not empty; the allocator gets
 *	every block back; a failed allocation gives NETSIM_ERR_NOMEM and no
 *	scenario.
 *
 *	Seeds: the .sim files of netsim/scenarios (seeds_netsim_scen.py).
 * SECURITY
 *	Test code: the inputs are hostile on purpose.
 * DIAGNOSTICS
 *	A broken invariant prints what differs and traps.
 * SEE ALSO
 *	netsim/netsim_scen.h, tests/fuzz/fuzz_common.h,
 *	tests/fuzz/meson.build.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netsim/netsim_err.h"
#include "netsim/netsim_scen.h"

#define FUZZ_NAME "fuzz_netsim_scen"
#include "tests/fuzz/fuzz_common.h"

static void
check_idx(const char *what, const size_t *v, size_t n, size_t limit, bool sorted)
{
    size_t i;

    CHECK(n == 0 || v != NULL, "%s: no list", what);
    for (i = 0; i < n; i++) {
        CHECK(v[i] < limit, "%s: index %zu of %zu", what, v[i], limit);
        if (sorted)
            CHECK(i == 0 || v[i - 1] < v[i], "%s: not ascending", what);
    }
}

static void
check_scenario(const netsim_scenario *sc)
{
    size_t i, k;

    CHECK(sc->node_cnt >= 2 && sc->node_cnt <= NETSIM_NODES_MAX, "node_cnt %zu", sc->node_cnt);
    CHECK(sc->msg_cnt >= 1 && sc->msg_cnt <= NETSIM_MSGS_MAX, "msg_cnt %zu", sc->msg_cnt);
    CHECK(sc->kv_cnt <= NETSIM_KV_MAX, "kv_cnt");
    CHECK(!sc->shared || sc->shared_rate_bps > 0, "shared channel without a rate");
    for (i = 0; i < sc->node_cnt; i++) {
        const netsim_node_cfg *n = &sc->nodes[i];

        CHECK(memchr(n->name, '\0', sizeof(n->name)) != NULL, "node name");
        CHECK(netsim_scen_node(sc, n->name) == (long)i, "node '%s' not found", n->name);
        CHECK(n->emcon_cnt <= NETSIM_EMCON_MAX, "emcon_cnt");
        for (k = 0; k < n->emcon_cnt; k++)
            CHECK(n->emcon[k].from_us < n->emcon[k].to_us, "empty EMCON interval");
        (void)netsim_scen_in_emcon(n, 0);
        (void)netsim_scen_in_emcon(n, UINT64_MAX);
        CHECK(n->outage_cnt <= NETSIM_OUTAGE_MAX, "outage_cnt");
        for (k = 0; k < n->outage_cnt; k++)
            CHECK(n->outage[k].from_us < n->outage[k].to_us, "empty outage interval");
        (void)netsim_scen_in_outage(n, 0);
        (void)netsim_scen_in_outage(n, UINT64_MAX);
    }
    for (i = 0; i < sc->msg_cnt; i++) {
        const netsim_msg_cfg *m = &sc->msgs[i];

        CHECK(memchr(m->name, '\0', sizeof(m->name)) != NULL, "message name");
        CHECK(netsim_scen_msg(sc, m->name) == (long)i, "message '%s' not found", m->name);
        CHECK(m->from < sc->node_cnt, "sender");
        CHECK(m->to_cnt >= 1, "message without destination");
        check_idx("to", m->to, m->to_cnt, sc->node_cnt, true);
        for (k = 0; k < m->to_cnt; k++)
            CHECK(m->to[k] != m->from, "sender among the destinations");
        CHECK(m->size >= 1 && m->size <= NETSIM_MSG_SIZE_MAX, "size %zu", m->size);
        CHECK(m->text != NETSIM_TEXT_LITERAL || m->literal != NULL, "literal");
    }
    for (i = 0; i < sc->expect_cnt; i++) {
        const netsim_expect *x = &sc->expects[i];

        check_idx("expect msgs", x->msgs, x->msg_cnt, sc->msg_cnt, false);
        check_idx("expect msgs2", x->msgs2, x->msg2_cnt, sc->msg_cnt, false);
        check_idx("expect nodes", x->nodes, x->node_cnt, sc->node_cnt, false);
        if (x->kind == NETSIM_X_COUNT)
            CHECK(x->counter >= 0 && x->counter < NETSIM_C_COUNT &&
                  netsim_counter_name(x->counter) != NULL, "counter");
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tmem cm;
    mem m = tmem_make(&cm);
    netsim_scenario *sc = NULL;
    const char *text = (const char *)data;
    char err[200];
    size_t lines = 1, i;
    long calls;
    int rc, line;

    cm.max_len = (size_t)512 << 20;
    for (i = 0; i < size; i++)
        lines += data[i] == '\n';
    memset(err, 'Z', sizeof(err));
    rc = netsim_scen_parse(&sc, text, size, &m, err, sizeof(err));
    CHECK(rc == 0 || rc == NETSIM_ERR_PARSE, "parse: %d", rc);
    calls = cm.calls;
    if (rc != 0) {
        CHECK(sc == NULL, "scenario on error");
        CHECK(memchr(err, '\0', sizeof(err)) != NULL, "error not NUL-terminated");
        CHECK(sscanf(err, "%d: ", &line) == 1 && line >= 0 && (size_t)line <= lines,
              "error '%s' (%zu lines)", err, lines);
        CHECK(cm.live == 0, "%ld blocks live after a refused scenario", cm.live);
        return 0;
    }
    CHECK(sc != NULL, "no scenario");
    check_scenario(sc);
    netsim_scen_free(sc);
    CHECK(cm.live == 0, "%ld blocks live after free", cm.live);

    if (calls > 0) {
        cm.armed = true;
        cm.left = (long)(size * 2654435761u % (size_t)calls);
        sc = NULL;
        rc = netsim_scen_parse(&sc, text, size, &m, err, sizeof(err));
        CHECK(rc == NETSIM_ERR_NOMEM && sc == NULL, "failing allocator: %d", rc);
        CHECK(cm.live == 0, "%ld blocks live after NOMEM", cm.live);
    }
    return 0;
}
