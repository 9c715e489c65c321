/*
 * NAME
 *	fuzz_mule_spool - libFuzzer target for the spool file reader
 * SYNOPSIS
 *	fuzz_mule_spool [libFuzzer options] CORPUS_DIR...
 * DESCRIPTION
 *	The input is a spool file as recovery finds it on disk after a
 *	crash or worse (docs/spool.md): an entry file (creation section and
 *	state journal) or a node journal.  Each input goes through the one
 *	parser three ways: mule_spool_decode_entry(), mule_spool_load() into
 *	a fresh model, and mule_spool_load_node(); then the prefix the load
 *	called good is loaded again, every 1/8th truncation is loaded, and
 *	the load is repeated with an allocator that fails after a number of
 *	calls derived from the input.
 *
 *	Invariants (a failure prints and traps): no crash or sanitizer
 *	report; decode succeeds exactly when the creation section loads; a
 *	load that succeeds reports good_len within the input and at least
 *	the creation section, puts one entry in the model whose targets are
 *	in known states, and loading bytes[0..good_len) succeeds with the
 *	same good_len (a torn tail is cut, never the good part); a failed
 *	load leaves the model empty; a failing allocator gives NOMEM or the
 *	same verdict; the allocator gets every block back.
 *
 *	Seeds: tests/fuzz/seeds_mule_spool.py (entry files of both kinds
 *	with journals, a node journal, torn and zero-filled tails).
 * SECURITY
 *	Test code: the inputs are hostile on purpose.
 * DIAGNOSTICS
 *	A broken invariant prints what differs and traps.
 * SEE ALSO
 *	mule/mule_spool.h, tests/fuzz/fuzz_common.h, tests/fuzz/meson.build.
 * LICENSE
 *	MIT, see LICENSE.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mule/mule_err.h"
#include "mule/mule_spool.h"

#define FUZZ_NAME "fuzz_mule_spool"
#include "tests/fuzz/fuzz_common.h"

/* Load data into a fresh model; returns the code, fills *res and checks
 * what the model holds afterwards. */
static int
load_once(const mem *m, const uint8_t *data, size_t size, mule_spool_load_res *res)
{
    mule_spool *sp;
    mule_spool_info info;
    mule_spool_target t;
    size_t pos = 0;
    int rc;

    if ((rc = mule_spool_new(&sp, NULL, m)) != 0)
        return rc;
    rc = mule_spool_load(sp, NULL, data, size, res);
    CHECK(rc == res->err, "rc %d, res.err %d", rc, res->err);
    if (rc == 0) {
        CHECK(mule_spool_count(sp) == 1, "count %zu", mule_spool_count(sp));
        CHECK(res->good_len <= size, "good_len %zu > size %zu", res->good_len, size);
        CHECK(mule_spool_iter(sp, &pos, &info), "iter");
        CHECK(info.file_len == res->good_len, "file_len %llu good_len %zu",
              (unsigned long long)info.file_len, res->good_len);
        for (size_t i = 0; i < info.target_cnt; i++) {
            CHECK(mule_spool_target_get(sp, info.id, i, &t) == 0, "target %zu", i);
            CHECK(t.state <= MULE_SPOOL_T_DSN_SENT, "state %u", t.state);
        }
        (void)mule_spool_next_due(sp, INT64_MAX, &info);
        (void)mule_spool_is_removable(sp, info.id);
    } else {
        CHECK(mule_spool_count(sp) == 0, "failed load left %zu", mule_spool_count(sp));
    }
    mule_spool_free(sp);
    return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tmem tm = {false, 0, 0, 0, 0};
    mem mm = tmem_make(&tm);
    mule_spool_load_res res, res2;
    mule_spool_msg msg;
    mule_spool_rcpt rcpts[8];
    uint32_t nodes[8], dests[8];
    mule_spool *sp;
    int rc, drc;

    drc = mule_spool_decode_entry(data, size, &msg, NULL, rcpts, 8, nodes, dests, 8);
    rc = load_once(&mm, data, size, &res);
    CHECK(rc != MULE_ERR_NOMEM, "NOMEM without a failing allocator");
    if (drc == 0)
        CHECK(rc == 0 || rc == MULE_ERR_SPOOL_CORRUPT, "decode ok, load %d", rc);
    if (rc == 0) {
        CHECK(drc == 0 || drc == MULE_ERR_NOSPACE, "load ok, decode %d", drc);
        CHECK(load_once(&mm, data, res.good_len, &res2) == 0, "good prefix fails");
        CHECK(res2.good_len == res.good_len, "good_len %zu then %zu", res.good_len,
              res2.good_len);
    }
    for (size_t k = 1; k < 8; k++)
        (void)load_once(&mm, data, size * k / 8, &res2);

    /* The same bytes as a node journal. */
    if (mule_spool_new(&sp, NULL, &mm) == 0) {
        if (mule_spool_load_node(sp, data, size, &res2) == 0) {
            buf snap;

            CHECK(res2.good_len <= size, "node good_len %zu", res2.good_len);
            buf_init(&snap, &mm, SIZE_MAX);
            CHECK(mule_spool_node_snapshot(sp, &snap) == 0, "snapshot");
            buf_fini(&snap);
        }
        mule_spool_free(sp);
    }

    /* Allocation failure somewhere in the load. */
    tmem_fail_after(&tm, size > 0 ? data[0] % 16 : 0);
    {
        int frc = load_once(&mm, data, size, &res2);

        CHECK(frc == MULE_ERR_NOMEM || frc == rc ||
              (rc == 0 && frc == MULE_ERR_NOMEM), "failing allocator: %d, want %d", frc, rc);
    }
    CHECK(tm.live == 0, "%ld blocks leaked", tm.live);
    return 0;
}
