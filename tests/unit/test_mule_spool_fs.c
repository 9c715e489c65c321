/*
 * test_mule_spool_fs.c: unit tests of mule/mule_spool_fs (the spool on
 * disk) in a scratch directory under /tmp, through a file-operations
 * table that records every call and fails the one chosen.
 *
 * Each line of the durability contract (issue 9, docs/spool.md) has its
 * test here: the order fsync(file) < rename < fsync(q/) before submit
 * returns (1); ENOSPC and EIO at every syscall of submit, of a state
 * update and of a node update, and short writes everywhere: a temporary
 * error, nothing accepted harmed, and the same call works once "space
 * returns" (2, 3, 6); in-flight MSID/MSN and the MSID high-water mark and
 * done set across a restart (4); removal refused until every target is
 * final (5); torn journals cut, truncated, wrong-version and garbage
 * files moved to corrupt/ and logged (7).  Plus allocation failure at
 * every allocation of open.  Group commit (mule_spool_fs_batch_*): order
 * with and without syncfs, a failure at every syscall refusing only the
 * mail it hit, and the model refusing one mail of a batch.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "mule/mule_spool_fs.h"
#include "test_common.h"

/* ------------------------------------------------------------------ */
/* Recording, failing file operations over POSIX */

#define MAX_FD 1024

struct ffs {
    long calls;                 /* every call through the table */
    long fail_at;               /* the call that fails (-1: none) */
    int err;                    /* its errno */
    bool fired;
    size_t short_write;         /* 0, or the most octets one write takes */
    bool trace_on;
    char trace[8192];           /* "op:name " per call while trace_on */
    char fdname[MAX_FD][32];
};

static struct ffs F;

static bool
inject(void)
{
    if (F.fail_at >= 0 && F.calls++ == F.fail_at) {
        F.fired = true;
        return true;
    }
    if (F.fail_at < 0)
        F.calls++;
    return false;
}

static void
trace(const char *op, const char *name)
{
    size_t n = strlen(F.trace);

    if (F.trace_on)
        snprintf(F.trace + n, sizeof F.trace - n, "%s:%s ", op, name);
}

/* Where "OP:NAME " is in the trace (NULL: absent). */
static const char *
trace_find(const char *op, const char *name)
{
    char key[96];

    snprintf(key, sizeof key, "%s:%s ", op, name);
    return strstr(F.trace, key);
}

/* The one "OP:NAME " in the trace: fails when absent or repeated. */
static const char *
trace_once(const char *op, const char *name)
{
    const char *p = trace_find(op, name);
    char key[96];

    snprintf(key, sizeof key, "%s:%s ", op, name);
    if (p == NULL || strstr(p + 1, key) != NULL)
        fail_msg("want exactly one %s in %s", key, F.trace);
    return p;
}

static const char *
fdn(int fd)
{
    return fd >= 0 && fd < MAX_FD ? F.fdname[fd] : "?";
}

static int
f_openat(void *a, int d, const char *p, int fl, int mo)
{
    int fd;

    trace("open", p);
    if (inject())
        return -F.err;
    fd = mule_spool_fops_posix.openat(a, d, p, fl, mo);
    if (fd >= 0 && fd < MAX_FD)
        snprintf(F.fdname[fd], sizeof F.fdname[fd], "%s", strrchr(p, '/') ? "dir" : p);
    return fd;
}

static ssize_t
f_write(void *a, int fd, const void *p, size_t n)
{
    trace("write", fdn(fd));
    if (inject())
        return -F.err;
    if (F.short_write != 0 && n > F.short_write)
        n = F.short_write;
    return mule_spool_fops_posix.write(a, fd, p, n);
}

static ssize_t
f_pread(void *a, int fd, void *p, size_t n, off_t off)
{
    if (inject())
        return -F.err;
    if (F.short_write != 0 && n > F.short_write)
        n = F.short_write;
    return mule_spool_fops_posix.pread(a, fd, p, n, off);
}

static int
f_fsync(void *a, int fd)
{
    trace("fsync", fdn(fd));
    return inject() ? -F.err : mule_spool_fops_posix.fsync(a, fd);
}

static int
f_fdatasync(void *a, int fd)
{
    trace("fdatasync", fdn(fd));
    return inject() ? -F.err : mule_spool_fops_posix.fdatasync(a, fd);
}

static int
f_close(void *a, int fd)
{
    /* A failing close still closes (as Linux does). */
    int rc = mule_spool_fops_posix.close(a, fd);

    trace("close", fdn(fd));
    return inject() ? -F.err : rc;
}

static int
f_renameat(void *a, int od, const char *o, int nd, const char *n)
{
    trace("rename", o);
    return inject() ? -F.err : mule_spool_fops_posix.renameat(a, od, o, nd, n);
}

static int
f_unlinkat(void *a, int d, const char *p)
{
    trace("unlink", p);
    return inject() ? -F.err : mule_spool_fops_posix.unlinkat(a, d, p);
}

static int
f_ftruncate(void *a, int fd, off_t len)
{
    trace("ftruncate", fdn(fd));
    return inject() ? -F.err : mule_spool_fops_posix.ftruncate(a, fd, len);
}

static int
f_fsize(void *a, int fd, uint64_t *len)
{
    return inject() ? -F.err : mule_spool_fops_posix.fsize(a, fd, len);
}

static int
f_mkdirat(void *a, int d, const char *p, int mo)
{
    return inject() ? -F.err : mule_spool_fops_posix.mkdirat(a, d, p, mo);
}

static int
f_listdir(void *a, int d, int (*fn)(void *, const char *), void *arg)
{
    return inject() ? -F.err : mule_spool_fops_posix.listdir(a, d, fn, arg);
}

/* Hints are not calls that can fail the spool: passed through, counted
 * apart (a recovery test checks that they happen). */
static long prefetches;

static void
f_prefetch(void *a, int d, const char *name)
{
    prefetches++;
    mule_spool_fops_posix.prefetch(a, d, name);
}

static int
f_syncfs(void *a, int fd)
{
    trace("syncfs", fdn(fd));
    return inject() ? -F.err : mule_spool_fops_posix.syncfs(a, fd);
}

/* The device of fd; other_dev makes every file but the spool's look like
 * it lives on another filesystem. */
static bool other_dev;

static int
f_fdev(void *a, int fd, uint64_t *dev)
{
    int rc = mule_spool_fops_posix.fdev(a, fd, dev);

    if (rc == 0 && other_dev && strcmp(fdn(fd), "q") != 0)
        (*dev)++;
    return rc;
}

static const mule_spool_fops FOPS = {
    f_openat, f_write, f_pread, f_fsync, f_fdatasync, f_close, f_renameat,
    f_unlinkat, f_ftruncate, f_fsize, f_mkdirat, f_listdir, NULL, f_prefetch,
};
/* The same with syncfs: a group-commit batch syncs its files at once. */
static const mule_spool_fops FOPS_SYNCFS = {
    f_openat, f_write, f_pread, f_fsync, f_fdatasync, f_close, f_renameat,
    f_unlinkat, f_ftruncate, f_fsize, f_mkdirat, f_listdir, NULL, f_prefetch, f_syncfs,
    f_fdev,
};

static void
ffs_reset(void)
{
    memset(&F, 0, sizeof F);
    F.fail_at = -1;
}

/* Fail call number k from now on with err (once). */
static void
ffs_arm(long k, int err)
{
    F.calls = 0;
    F.fail_at = k;
    F.err = err;
    F.fired = false;
}

static void
ffs_disarm(void)
{
    F.fail_at = -1;
}

/* ------------------------------------------------------------------ */
/* Scratch spool directories */

static char DIRP[64];
static struct tlog TL;
static logger LG;

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static int
setup(void **state)
{
    (void)state;
    snprintf(DIRP, sizeof DIRP, "/tmp/mule-spool-test-XXXXXX");
    assert_non_null(mkdtemp(DIRP));
    ffs_reset();
    LG = tlog_make(&TL);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    return nftw(DIRP, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static mule_spool_fs *
sopen_with(const mule_spool_fops *fops, size_t max_entries)
{
    mule_spool_fs *fs;
    mule_spool_policy pol = {10, 80, 4, max_entries};
    mule_spool_fs_cfg cfg = {DIRP, fops, &pol, NULL, &LG, 3};

    assert_int_equal(mule_spool_fs_open(&fs, &cfg, 1000, NULL), 0);
    return fs;
}

static mule_spool_fs *
sopen(mule_spool_scan *scan)
{
    mule_spool_fs *fs;
    mule_spool_policy pol = {10, 80, 4, 0};
    mule_spool_fs_cfg cfg = {DIRP, &FOPS, &pol, NULL, &LG, 3};

    assert_int_equal(mule_spool_fs_open(&fs, &cfg, 1000, scan), 0);
    return fs;
}

static size_t
count_dir(const char *sub)
{
    char p[128];
    DIR *d;
    struct dirent *de;
    size_t n = 0;

    snprintf(p, sizeof p, "%s/%s", DIRP, sub);
    assert_non_null(d = opendir(p));
    while ((de = readdir(d)) != NULL)
        n += de->d_name[0] != '.';
    closedir(d);
    return n;
}

static const char BODY[] = "Subject: x\r\n\r\nbody\r\n";
static mule_spool_rcpt RCPT[2] = {{{"b@y", 3}, {"", 0}}, {{"c@y", 3}, {"", 0}}};
static const uint32_t NODES[2] = {2, 3};

static mule_spool_msg
msg(uint8_t kind)
{
    mule_spool_msg m = {0};

    m.kind = kind;
    m.content_kind = MULE_SPOOL_C_MESSAGE;
    m.arrival_s = 1000;
    m.expiry_s = 90000;
    m.mail_from = (mule_spool_str){"a@x", 3};
    m.rcpts = RCPT;
    m.rcpt_cnt = 2;
    m.target_nodes = kind == MULE_SPOOL_OUT ? NODES : NULL;
    m.target_cnt = 2;
    m.content = (const uint8_t *)BODY;
    m.content_len = sizeof BODY - 1;
    return m;
}

static void
set_state(mule_spool_fs *fs, const char *id, size_t idx, uint8_t st, uint32_t msid,
          uint32_t msn)
{
    mule_spool_target t = {0};

    t.state = st;
    t.msid = msid;
    t.msn = msn;
    assert_int_equal(mule_spool_fs_target_set(fs, id, idx, &t, 1000), 0);
}

static uint8_t
state_of(mule_spool_fs *fs, const char *id, size_t idx)
{
    mule_spool_target t;

    assert_int_equal(mule_spool_target_get(mule_spool_fs_core(fs), id, idx, &t), 0);
    return t.state;
}

/* The entry's file decodes and carries the body. */
static void
check_body(mule_spool_fs *fs, const char *id)
{
    mule_spool_msg d;
    buf b;

    buf_init(&b, NULL, SIZE_MAX);
    assert_int_equal(mule_spool_fs_read(fs, id, &b), 0);
    assert_int_equal(mule_spool_decode_entry(b.data, b.len, &d, NULL, NULL, 0, NULL, NULL, 0),
                     0);
    assert_int_equal(d.content_len, sizeof BODY - 1);
    assert_memory_equal(d.content, BODY, sizeof BODY - 1);
    buf_fini(&b);
}

static bool
is_temp(int rc)
{
    return rc == MULE_ERR_SPOOL_FULL || rc == MULE_ERR_SPOOL_IO || rc == MULE_ERR_NOMEM;
}

/* ------------------------------------------------------------------ */
/* Contract line 1: accepted only after fsync(file) < rename < fsync(q/) */

static void
test_mule_spool_fs_submit_order(void **state)
{
    mule_spool_fs *fs;
    mule_spool_msg m[3] = {msg(MULE_SPOOL_OUT), msg(MULE_SPOOL_OUT), msg(MULE_SPOOL_IN)};
    char ids[3][MULE_SPOOL_ID_SIZE];
    char want[256];
    const char *p;

    (void)state;
    fs = sopen(NULL);
    F.trace_on = true;
    assert_int_equal(mule_spool_fs_submit(fs, &m[0], 1000, ids[0]), 0);
    F.trace_on = false;
    snprintf(want, sizeof want,
             "open:%s write:%s fsync:%s close:%s rename:%s fsync:q ", ids[0], ids[0], ids[0],
             ids[0], ids[0]);
    if (strcmp(F.trace, want) != 0)
        fail_msg("got  %s\nwant %s", F.trace, want);
    /* Group commit: three files, one fsync of q/, after all renames. */
    F.trace[0] = '\0';
    F.trace_on = true;
    assert_int_equal(mule_spool_fs_submit_batch(fs, m, 3, 1000, ids), 0);
    F.trace_on = false;
    p = trace_once("fsync", "q");
    for (int i = 0; i < 3; i++) {
        const char *pr = trace_find("rename", ids[i]), *pf = trace_find("fsync", ids[i]);

        assert_non_null(pr);
        assert_non_null(pf);
        assert_true(pf < pr);
        assert_true(pr < p);
        check_body(fs, ids[i]);
    }
    assert_int_equal(mule_spool_count(mule_spool_fs_core(fs)), 4);
    assert_int_equal(count_dir("q"), 4);
    assert_int_equal(count_dir("tmp"), 0);
    mule_spool_fs_free(fs);
}

/* ------------------------------------------------------------------ */
/* Group commit across independent mails (mule_spool_fs_batch_*) */

/* Three mails of 1, 2 and 1 entries in one batch. */
static mule_spool_fs_batch *
stage3(mule_spool_fs *fs, char ids[4][MULE_SPOOL_ID_SIZE])
{
    mule_spool_msg m[2] = {msg(MULE_SPOOL_OUT), msg(MULE_SPOOL_IN)};
    mule_spool_fs_batch *b;

    assert_int_equal(mule_spool_fs_batch_new(fs, &b), 0);
    assert_int_equal(mule_spool_fs_batch_stage(b, m, 1, 1000, &ids[0]), 0);
    assert_int_equal(mule_spool_fs_batch_stage(b, m, 2, 1000, &ids[1]), 1);
    assert_int_equal(mule_spool_fs_batch_stage(b, m + 1, 1, 1000, &ids[3]), 2);
    assert_int_equal(mule_spool_fs_batch_groups(b), 3);
    return b;
}

/* A file standing for muled's audit log (named "audit" in the trace);
 * with_data: something written to it, waiting for a sync. */
static int
audit_file(void)
{
    char p[128];
    int fd;

    snprintf(p, sizeof p, "%s/audit", DIRP);
    assert_true((fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) >= 0);
    assert_true(fd < MAX_FD);
    assert_int_equal(write(fd, "accepted\n", 9), 9);
    snprintf(F.fdname[fd], sizeof F.fdname[fd], "audit");
    return fd;
}

/* The batch sync's variants: spool fops with or without syncfs, a caller
 * file (the audit log) or none, on the spool's filesystem or another. */
enum { V_FSYNC, V_FSYNC_FD, V_SYNCFS, V_SYNCFS_SAME, V_SYNCFS_OTHER, V_COUNT };

static mule_spool_fs *
variant_open(int v, int *afd)
{
    mule_spool_fs *fs = sopen_with(v >= V_SYNCFS ? &FOPS_SYNCFS : &FOPS, 0);

    other_dev = v == V_SYNCFS_OTHER;
    *afd = v == V_FSYNC_FD || v == V_SYNCFS_SAME || v == V_SYNCFS_OTHER ? audit_file() : -1;
    assert_int_equal(mule_spool_fs_same_fs(fs, *afd), v == V_SYNCFS_SAME);
    return fs;
}

/* Contract line 1 for a batch: every file synced before any rename, then
 * (after the caller's turn: results say which groups reached q/, nothing
 * durable yet, nothing in the model) ONE sync after all renames: fsync of
 * q/, or, with a caller's file on the same filesystem, one syncfs for
 * both; on another filesystem fsync(q/) then its fdatasync.  Then the
 * model.  With syncfs one call syncs all files of the write. */
static void
test_mule_spool_fs_batch_order(void **state)
{
    (void)state;
    for (int v = 0; v < V_COUNT; v++) {
        int afd;
        mule_spool_fs *fs = variant_open(v, &afd);
        bool with_syncfs = v >= V_SYNCFS;
        char ids[4][MULE_SPOOL_ID_SIZE];
        mule_spool_fs_batch *b = stage3(fs, ids);
        const char *sync_end = NULL, *first_rename, *tail;
        size_t wlen;

        assert_int_equal(mule_spool_fs_batch_result(b, 0), MULE_ERR_INVAL);  /* not written */
        assert_int_equal(mule_spool_count(mule_spool_fs_core(fs)), 0);
        F.trace[0] = '\0';
        F.trace_on = true;
        mule_spool_fs_batch_write(b);
        wlen = strlen(F.trace);
        /* Renamed, not yet durable: no directory sync, no model. */
        assert_null(trace_find("fsync", "q"));
        assert_null(trace_find("syncfs", "q"));
        for (size_t g = 0; g < 3; g++)
            assert_int_equal(mule_spool_fs_batch_result(b, g), 0);
        assert_int_equal(count_dir("q"), 4);
        assert_int_equal(mule_spool_count(mule_spool_fs_core(fs)), 0);
        assert_int_equal(mule_spool_fs_batch_sync(b, afd), 0);
        assert_int_equal(mule_spool_fs_batch_sync(b, afd), MULE_ERR_INVAL);  /* once */
        F.trace_on = false;
        tail = F.trace + wlen;
        if (v == V_SYNCFS_SAME) {
            if (strcmp(tail, "syncfs:q ") != 0)
                fail_msg("one syncfs for q/ and the audit log, got %s", tail);
        } else {
            const char *q = trace_once("fsync", "q");

            assert_true(q == tail);
            if (afd >= 0)
                assert_true(trace_once("fdatasync", "audit") > q);
            else
                assert_null(trace_find("fdatasync", "audit"));
        }
        mule_spool_fs_batch_commit(b);
        for (size_t g = 0; g < 3; g++)
            assert_int_equal(mule_spool_fs_batch_result(b, g), 0);
        assert_int_equal(mule_spool_fs_batch_result(b, 3), MULE_ERR_INVAL);
        assert_non_null(first_rename = strstr(F.trace, "rename:"));
        if (with_syncfs)
            sync_end = trace_once("syncfs", "tmp");
        for (int i = 0; i < 4; i++) {
            const char *pr = trace_find("rename", ids[i]), *pf = trace_find("fsync", ids[i]);

            assert_non_null(pr);
            if (with_syncfs) {
                assert_null(pf);            /* no per-file fsync */
            } else {
                assert_non_null(pf);
                assert_true(pf < first_rename);
            }
            assert_true(pr < tail);
            check_body(fs, ids[i]);
        }
        if (with_syncfs)
            assert_true(sync_end < first_rename);
        assert_int_equal(mule_spool_count(mule_spool_fs_core(fs)), 4);
        assert_int_equal(count_dir("q"), 4);
        assert_int_equal(count_dir("tmp"), 0);
        mule_spool_fs_batch_free(b);
        mule_spool_fs_free(fs);
        if (afd >= 0)
            close(afd);
        other_dev = false;
        teardown(NULL);
        setup(NULL);
    }
}

/* ENOSPC, then EIO, at every syscall of a batch (write and sync, in each
 * variant of the sync): each mail either durable (in the model, its files
 * in q/, found again after a restart) or refused with a temporary error
 * and no file left; a failure in one mail's file leaves the other mails
 * accepted.  A mail that reached q/ after the write (muled audits it as
 * accepted then) and failed after all is the audit contract's rule 1
 * ("withdrawn"): that happens exactly when the final sync fails, and
 * then for every such mail; an acknowledged mail always had its turn. */
static void
test_mule_spool_fs_batch_fail_every_step(void **state)
{
    static const size_t gsize[3] = {1, 2, 1};
    static const int errs[2] = {ENOSPC, EIO};
    bool others_survived = false, withdrew = false, log_failed = false;

    (void)state;
    for (int e = 0; e < 2; e++)
        for (int v = 0; v < V_COUNT; v++)
            for (long k = 0;; k++) {
                int afd;
                mule_spool_fs *fs = variant_open(v, &afd);
                char ids[4][MULE_SPOOL_ID_SIZE];
                mule_spool_fs_batch *b = stage3(fs, ids);
                size_t good = 0, ok_groups = 0, f = 0, renamed_groups = 0, withdrawn = 0;
                bool fired, renamed[3];
                int src;

                ffs_arm(k, errs[e]);
                mule_spool_fs_batch_write(b);
                for (size_t g = 0; g < 3; g++)
                    renamed_groups += renamed[g] = mule_spool_fs_batch_result(b, g) == 0;
                src = mule_spool_fs_batch_sync(b, afd);
                fired = F.fired;
                ffs_disarm();
                mule_spool_fs_batch_commit(b);
                for (size_t g = 0; g < 3; g++) {
                    int rc = mule_spool_fs_batch_result(b, g);

                    for (size_t i = 0; i < gsize[g]; i++, f++) {
                        mule_spool_info info;
                        int have = mule_spool_info_get(mule_spool_fs_core(fs), ids[f], &info);

                        if (rc == 0)
                            assert_int_equal(have, 0);
                        else
                            assert_int_equal(have, MULE_ERR_SPOOL_NOENT);
                    }
                    if (rc == 0) {
                        assert_true(renamed[g]);    /* audited before its sync */
                        good += gsize[g];
                        ok_groups++;
                    } else if (!is_temp(rc)) {
                        fail_msg("k=%ld group %zu: got %d, want a temporary code", k, g, rc);
                    } else if (renamed[g]) {
                        withdrawn++;
                    }
                }
                if (withdrawn > 0) {
                    /* Only a failing final sync takes back renamed mails,
                     * and then all of them. */
                    assert_true(is_temp(src));
                    assert_int_equal(withdrawn, renamed_groups);
                    withdrew = true;
                }
                if (src != 0 && ok_groups > 0) {
                    /* The caller's own fdatasync (another filesystem)
                     * failed after the mails were durable. */
                    assert_true(v == V_SYNCFS_OTHER || v == V_FSYNC_FD);
                    assert_int_equal(ok_groups, renamed_groups);
                    log_failed = true;
                }
                if (fired && ok_groups > 0)
                    others_survived = true;
                if (!fired)
                    assert_int_equal(ok_groups, 3);
                assert_int_equal(count_dir("q"), good);
                assert_int_equal(count_dir("tmp"), 0);
                mule_spool_fs_batch_free(b);
                mule_spool_fs_free(fs);
                if (afd >= 0)
                    close(afd);
                other_dev = false;
                /* What was acknowledged is there after a restart. */
                fs = sopen_with(&FOPS, 0);
                assert_int_equal(mule_spool_count(mule_spool_fs_core(fs)), good);
                mule_spool_fs_free(fs);
                teardown(NULL);
                setup(NULL);
                if (!fired)
                    break;
            }
    assert_true(others_survived);
    assert_true(withdrew);
    assert_true(log_failed);
}

/* The model refuses a mail (max_entries): that mail's files go, the
 * others stay accepted; a mail breaking a format limit is not staged. */
static void
test_mule_spool_fs_batch_model_refuses(void **state)
{
    mule_spool_fs *fs = sopen_with(&FOPS_SYNCFS, 2);
    char ids[4][MULE_SPOOL_ID_SIZE];
    mule_spool_fs_batch *b = stage3(fs, ids);
    mule_spool_msg bad = msg(MULE_SPOOL_OUT);
    (void)state;

    bad.rcpt_cnt = MULE_SPOOL_MAX_RCPTS + 1;
    assert_int_equal(mule_spool_fs_batch_stage(b, &bad, 1, 1000, &ids[0] + 3), MULE_ERR_INVAL);
    assert_int_equal(mule_spool_fs_batch_groups(b), 3);
    mule_spool_fs_batch_write(b);
    assert_int_equal(mule_spool_fs_batch_sync(b, -1), 0);
    mule_spool_fs_batch_commit(b);
    assert_int_equal(mule_spool_fs_batch_result(b, 0), 0);
    assert_int_equal(mule_spool_fs_batch_result(b, 1), MULE_ERR_SPOOL_FULL_Q);
    assert_int_equal(mule_spool_fs_batch_result(b, 2), 0);
    assert_int_equal(mule_spool_count(mule_spool_fs_core(fs)), 2);
    assert_int_equal(count_dir("q"), 2);
    /* Staging after the write is a misuse. */
    assert_int_equal(mule_spool_fs_batch_stage(b, &bad, 1, 1000, &ids[0]), MULE_ERR_INVAL);
    mule_spool_fs_batch_free(b);
    mule_spool_fs_batch_free(NULL);
    /* A batch never written leaves nothing. */
    b = stage3(fs, ids);
    assert_int_equal(mule_spool_fs_batch_sync(b, -1), MULE_ERR_INVAL);
    mule_spool_fs_batch_free(b);
    assert_int_equal(count_dir("q"), 2);
    assert_int_equal(count_dir("tmp"), 0);
    /* Nor one written but never synced: nobody may be told "accepted". */
    b = stage3(fs, ids);
    mule_spool_fs_batch_write(b);
    assert_int_equal(count_dir("q"), 6);
    mule_spool_fs_batch_commit(b);
    for (size_t g = 0; g < 3; g++)
        assert_true(is_temp(mule_spool_fs_batch_result(b, g)));
    mule_spool_fs_batch_free(b);
    assert_int_equal(mule_spool_count(mule_spool_fs_core(fs)), 2);
    assert_int_equal(count_dir("q"), 2);
    assert_int_equal(count_dir("tmp"), 0);
    mule_spool_fs_free(fs);
}

/* Contract line 3: a state is durable (fdatasync'd) before the call
 * returns and before the model shows it. */
static void
test_mule_spool_fs_target_durable_first(void **state)
{
    mule_spool_fs *fs;
    mule_spool_msg m = msg(MULE_SPOOL_OUT);
    mule_spool_target t = {MULE_SPOOL_T_INFLIGHT, 0, 0, 0, 17, 3, 0};
    char id[MULE_SPOOL_ID_SIZE], want[128];

    (void)state;
    fs = sopen(NULL);
    assert_int_equal(mule_spool_fs_submit(fs, &m, 1000, id), 0);
    F.trace[0] = '\0';
    F.trace_on = true;
    assert_int_equal(mule_spool_fs_target_set(fs, id, 0, &t, 1000), 0);
    F.trace_on = false;
    snprintf(want, sizeof want, "open:%s write:%s fdatasync:%s close:%s ", id, id, id, id);
    assert_string_equal(F.trace, want);
    /* fdatasync fails: the model does not move. */
    t.state = MULE_SPOOL_T_DONE;
    F.trace[0] = '\0';
    F.trace_on = true;
    ffs_arm(2, EIO);            /* open, write, fdatasync */
    assert_int_equal(mule_spool_fs_target_set(fs, id, 0, &t, 1000), MULE_ERR_SPOOL_IO);
    ffs_disarm();
    F.trace_on = false;
    assert_true(F.fired);
    assert_non_null(strstr(F.trace, "ftruncate"));  /* the record is taken back */
    assert_int_equal(state_of(fs, id, 0), MULE_SPOOL_T_INFLIGHT);
    mule_spool_fs_free(fs);
    fs = sopen(NULL);
    assert_int_equal(state_of(fs, id, 0), MULE_SPOOL_T_INFLIGHT);
    assert_int_equal(mule_spool_fs_target_set(fs, id, 0, &t, 1000), 0);
    mule_spool_fs_free(fs);
}

/* Contract lines 2 and 6: ENOSPC / EIO at every syscall of a submission
 * (outbound and inbound): a temporary error, no file left, nothing
 * accepted before harmed; then it works again. */
static void
test_mule_spool_fs_enospc_every_step(void **state)
{
    const int errs[2] = {ENOSPC, EIO};

    (void)state;
    for (int e = 0; e < 2; e++) {
        for (long k = 0;; k++) {
            mule_spool_fs *fs;
            mule_spool_msg m = msg(k % 2 ? MULE_SPOOL_IN : MULE_SPOOL_OUT);
            char a[MULE_SPOOL_ID_SIZE], b[2][MULE_SPOOL_ID_SIZE];
            mule_spool_msg two[2] = {m, m};
            mule_spool_scan scan;
            int rc;

            teardown(NULL);
            setup(NULL);
            fs = sopen(NULL);
            assert_int_equal(mule_spool_fs_submit(fs, &m, 1000, a), 0);
            set_state(fs, a, 0, MULE_SPOOL_T_TEMPFAIL, 0, 0);
            ffs_arm(k, errs[e]);
            rc = mule_spool_fs_submit_batch(fs, two, 2, 1000, b);
            ffs_disarm();
            if (!F.fired) {
                assert_int_equal(rc, 0);
                mule_spool_fs_free(fs);
                assert_true(k > 8);
                break;
            }
            if (!is_temp(rc))
                fail_msg("errno %d at call %ld: got %d, want a temporary error", errs[e], k,
                         rc);
            if (errs[e] == ENOSPC)
                assert_true(rc == MULE_ERR_SPOOL_FULL);
            assert_int_equal(mule_spool_count(mule_spool_fs_core(fs)), 1);
            assert_int_equal(count_dir("q"), 1);
            assert_int_equal(count_dir("tmp"), 0);
            /* Space returns. */
            assert_int_equal(mule_spool_fs_submit_batch(fs, two, 2, 1000, b), 0);
            mule_spool_fs_free(fs);
            fs = sopen(&scan);
            assert_int_equal(scan.loaded, 3);
            assert_int_equal(scan.corrupt, 0);
            assert_int_equal(state_of(fs, a, 0), MULE_SPOOL_T_TEMPFAIL);
            check_body(fs, a);
            check_body(fs, b[1]);
            mule_spool_fs_free(fs);
        }
    }
}

/* Contract lines 3 and 6 for updates: EIO/ENOSPC at every syscall of a
 * state change, a flag change and a node change; the old state survives
 * in memory and on disk; a retry succeeds. */
static void
test_mule_spool_fs_update_fail_every_step(void **state)
{
    (void)state;
    for (int what = 0; what < 3; what++) {
        for (long k = 0;; k++) {
            mule_spool_fs *fs;
            mule_spool_msg m = msg(MULE_SPOOL_OUT);
            mule_spool_target t = {MULE_SPOOL_T_INFLIGHT, 0, 0, 0, 5, 6, 0};
            mule_spool_info info;
            char id[MULE_SPOOL_ID_SIZE];
            uint32_t msid = 0;
            int rc;

            teardown(NULL);
            setup(NULL);
            fs = sopen(NULL);
            assert_int_equal(mule_spool_fs_submit(fs, &m, 1000, id), 0);
            ffs_arm(k, k % 2 ? EIO : ENOSPC);
            rc = what == 0 ? mule_spool_fs_target_set(fs, id, 1, &t, 1000)
               : what == 1 ? mule_spool_fs_flag(fs, id, 'h')
                           : mule_spool_fs_emcon_set(fs, true, 999);
            ffs_disarm();
            if (!F.fired) {
                assert_int_equal(rc, 0);
                mule_spool_fs_free(fs);
                break;
            }
            if (rc != 0) {
                assert_true(is_temp(rc));
                assert_int_equal(state_of(fs, id, 1), MULE_SPOOL_T_PENDING);
                assert_int_equal(mule_spool_info_get(mule_spool_fs_core(fs), id, &info), 0);
                assert_int_equal(info.flags, 0);
                assert_false(mule_spool_emcon(mule_spool_fs_core(fs), NULL));
                /* A short write left nothing either: the retry works, and
                 * the file reloads clean. */
                rc = what == 0 ? mule_spool_fs_target_set(fs, id, 1, &t, 1000)
                   : what == 1 ? mule_spool_fs_flag(fs, id, 'h')
                               : mule_spool_fs_emcon_set(fs, true, 999);
                assert_int_equal(rc, 0);
            }
            /* The node journal's own compaction may have failed after a
             * durable append: that is rc 0, and allowed. */
            mule_spool_fs_free(fs);
            fs = sopen(NULL);
            assert_int_equal(state_of(fs, id, 1),
                             what == 0 ? MULE_SPOOL_T_INFLIGHT : MULE_SPOOL_T_PENDING);
            assert_int_equal(mule_spool_info_get(mule_spool_fs_core(fs), id, &info), 0);
            assert_int_equal(info.flags, what == 1 ? MULE_SPOOL_F_HELD : 0);
            assert_int_equal(mule_spool_emcon(mule_spool_fs_core(fs), NULL), what == 2);
            /* And the MSID never goes backwards across any of this. */
            assert_int_equal(mule_spool_fs_msid_alloc(fs, &msid), 0);
            assert_true(msid >= 1);
            mule_spool_fs_free(fs);
        }
    }
}

/* Stage four records (two MSN, two INFLIGHT) in a new batch. */
static mule_spool_fs_jbatch *
jb_stage(mule_spool_fs *fs, char (*id)[MULE_SPOOL_ID_SIZE])
{
    mule_spool_fs_jbatch *jb;

    assert_int_equal(mule_spool_fs_jbatch_new(fs, &jb), 0);
    for (int i = 0; i < 2; i++) {
        mule_spool_target t = {MULE_SPOOL_T_INFLIGHT, 0, 0, 0, 40 + (uint32_t)i, 0, 0};

        t.msn = 7 + (uint32_t)i;
        assert_int_equal(mule_spool_fs_jbatch_msn(jb, NODES[i], t.msn), 0);
        assert_int_equal(mule_spool_fs_jbatch_target(jb, id[i], (size_t)i, &t, 1000), 0);
    }
    return jb;
}

/* A journal batch (muled's transmission start) for two entries: both
 * INFLIGHT records and two MSN records.  Returns the commit's result. */
static int
jb_run(mule_spool_fs *fs, char (*id)[MULE_SPOOL_ID_SIZE], bool check_busy)
{
    mule_spool_fs_jbatch *jb;
    mule_spool_info info;
    int rc;

    jb = jb_stage(fs, id);
    assert_int_equal(mule_spool_fs_jbatch_count(jb), 4);
    if (check_busy) {
        /* Staged: nothing applied, the entries are not due, and no other
         * record may get between (a flag would be applied first). */
        assert_int_equal(state_of(fs, id[0], 0), MULE_SPOOL_T_PENDING);
        assert_int_equal(mule_spool_msn(mule_spool_fs_core(fs), NODES[0]), 0);
        assert_false(mule_spool_next_due(mule_spool_fs_core(fs), 2000, &info));
        assert_int_equal(mule_spool_fs_flag(fs, id[0], 'h'), MULE_ERR_SPOOL_BUSY);
    }
    rc = mule_spool_fs_jbatch_commit(jb);
    assert_int_equal(mule_spool_fs_jbatch_commit(jb), MULE_ERR_INVAL);  /* once */
    mule_spool_fs_jbatch_free(jb);
    return rc;
}

static void
jb_check(mule_spool_fs *fs, char (*id)[MULE_SPOOL_ID_SIZE], bool done)
{
    const mule_spool *sp = mule_spool_fs_core(fs);
    mule_spool_target t;

    for (int i = 0; i < 2; i++) {
        assert_int_equal(mule_spool_target_get(sp, id[i], (size_t)i, &t), 0);
        assert_int_equal(t.state, done ? MULE_SPOOL_T_INFLIGHT : MULE_SPOOL_T_PENDING);
        if (done) {
            assert_int_equal(t.msid, 40 + (uint32_t)i);
            assert_int_equal(t.msn, 7 + (uint32_t)i);
        }
        assert_int_equal(mule_spool_msn(sp, NODES[i]), done ? 7 + (uint32_t)i : 0);
    }
}

/* Contract line 3 for a journal batch: every record written, then ONE
 * sync (syncfs; without it one fdatasync per file), and only then the
 * model moves; the entries are due again afterwards. */
static void
test_mule_spool_fs_jbatch_order(void **state)
{
    (void)state;
    for (int with_syncfs = 0; with_syncfs < 2; with_syncfs++) {
        mule_spool_fs *fs;
        mule_spool_msg m = msg(MULE_SPOOL_OUT);
        char id[2][MULE_SPOOL_ID_SIZE];
        const char *first_sync, *last_write = NULL, *p;

        teardown(NULL);
        setup(NULL);
        fs = sopen_with(with_syncfs ? &FOPS_SYNCFS : &FOPS, 0);
        assert_int_equal(mule_spool_fs_submit(fs, &m, 1000, id[0]), 0);
        assert_int_equal(mule_spool_fs_submit(fs, &m, 1000, id[1]), 0);
        F.trace[0] = '\0';
        F.trace_on = true;
        assert_int_equal(jb_run(fs, id, true), 0);
        F.trace_on = false;
        for (p = F.trace; (p = strstr(p, "write:")) != NULL; p++)
            last_write = p;
        first_sync = strstr(F.trace, with_syncfs ? "syncfs:" : "fdatasync:");
        assert_non_null(last_write);
        assert_non_null(first_sync);
        assert_true(last_write < first_sync);
        if (with_syncfs) {
            assert_null(strstr(F.trace, "fdatasync:"));
            assert_null(strstr(first_sync + 1, "syncfs:"));
        } else {
            /* One per file: two entries and the node journal. */
            assert_non_null(trace_once("fdatasync", id[0]));
            assert_non_null(trace_once("fdatasync", id[1]));
            assert_non_null(trace_once("fdatasync", "node"));
        }
        jb_check(fs, id, true);
        assert_int_equal(mule_spool_fs_flag(fs, id[0], 'h'), 0);      /* not busy now */
        assert_int_equal(mule_spool_fs_flag(fs, id[0], 'r'), 0);
        mule_spool_fs_free(fs);
        fs = sopen_with(with_syncfs ? &FOPS_SYNCFS : &FOPS, 0);
        jb_check(fs, id, true);
        mule_spool_fs_free(fs);
    }
}

/* ENOSPC / EIO at every syscall of a journal batch: either all of it is
 * durable and applied, or none of it is (memory and disk), the entries
 * are due again and a retry succeeds; never a corrupt file. */
static void
test_mule_spool_fs_jbatch_fail_every_step(void **state)
{
    (void)state;
    for (int with_syncfs = 0; with_syncfs < 2; with_syncfs++) {
        for (long k = 0;; k++) {
            const mule_spool_fops *fops = with_syncfs ? &FOPS_SYNCFS : &FOPS;
            mule_spool_fs *fs;
            mule_spool_msg m = msg(MULE_SPOOL_OUT);
            char id[2][MULE_SPOOL_ID_SIZE];
            mule_spool_info info;
            mule_spool_scan scan;
            int rc;

            teardown(NULL);
            setup(NULL);
            fs = sopen_with(fops, 0);
            assert_int_equal(mule_spool_fs_submit(fs, &m, 1000, id[0]), 0);
            assert_int_equal(mule_spool_fs_submit(fs, &m, 1000, id[1]), 0);
            ffs_arm(k, k % 2 ? EIO : ENOSPC);
            rc = jb_run(fs, id, false);
            ffs_disarm();
            if (!F.fired) {
                assert_int_equal(rc, 0);
                mule_spool_fs_free(fs);
                assert_true(k > 6);
                break;
            }
            if (rc != 0) {
                assert_true(is_temp(rc));
                jb_check(fs, id, false);
                assert_true(mule_spool_next_due(mule_spool_fs_core(fs), 2000, &info));
                /* Nothing of it reloads either. */
                mule_spool_fs_free(fs);
                fs = sopen_with(fops, 0);
                jb_check(fs, id, false);
                assert_int_equal(jb_run(fs, id, false), 0);
            }
            /* else: a close failed after the sync (durable: rc 0). */
            jb_check(fs, id, true);
            mule_spool_fs_free(fs);
            fs = sopen(&scan);
            assert_int_equal(scan.loaded, 2);
            assert_int_equal(scan.corrupt, 0);
            jb_check(fs, id, true);
            mule_spool_fs_free(fs);
        }
    }
}

/* The journal batch in three steps (muled runs _sync on libuv's pool):
 * between _write and _finish nothing is applied, the entries stay busy,
 * the node journal takes no MSN record and is not compacted, other node
 * records go after the batch's.  A failing sync applies nothing of the
 * entries; the batch's MSN records stay (and count) only when a node
 * record was appended after them; a reopen agrees with memory. */
static void
test_mule_spool_fs_jbatch_split(void **state)
{
    (void)state;
    for (int v = 0; v < 3; v++) {       /* 0: sync ok; 1: fails; 2: fails, node appended */
        mule_spool_fs *fs;
        mule_spool_fs_jbatch *jb, *jb2;
        mule_spool_msg m = msg(MULE_SPOOL_OUT);
        char id[2][MULE_SPOOL_ID_SIZE];
        bool ok = v == 0, kept = v != 1;
        int rc;

        teardown(NULL);
        setup(NULL);
        fs = sopen_with(&FOPS_SYNCFS, 0);
        assert_int_equal(mule_spool_fs_submit(fs, &m, 1000, id[0]), 0);
        assert_int_equal(mule_spool_fs_submit(fs, &m, 1000, id[1]), 0);
        jb = jb_stage(fs, id);
        assert_int_equal(mule_spool_fs_jbatch_sync(jb), MULE_ERR_INVAL);    /* not written */
        assert_int_equal(mule_spool_fs_jbatch_write(jb), 0);
        assert_int_equal(mule_spool_fs_jbatch_write(jb), MULE_ERR_INVAL);   /* once */
        jb_check(fs, id, false);
        assert_int_equal(mule_spool_fs_flag(fs, id[0], 'h'), MULE_ERR_SPOOL_BUSY);
        assert_int_equal(mule_spool_fs_msn_set(fs, NODES[0], 9), MULE_ERR_SPOOL_BUSY);
        assert_int_equal(mule_spool_fs_node_compact(fs, 1000), MULE_ERR_SPOOL_BUSY);
        /* A second batch may be staged, not written, meanwhile. */
        assert_int_equal(mule_spool_fs_jbatch_new(fs, &jb2), 0);
        assert_int_equal(mule_spool_fs_jbatch_msn(jb2, NODES[0], 20), 0);
        assert_int_equal(mule_spool_fs_jbatch_write(jb2), MULE_ERR_INVAL);
        mule_spool_fs_jbatch_free(jb2);
        if (v != 1)
            assert_int_equal(mule_spool_fs_done_add(fs, 9, 99, 5000), 0);
        ffs_arm(v == 0 ? -1 : 0, EIO);
        rc = mule_spool_fs_jbatch_sync(jb);
        ffs_disarm();
        assert_int_equal(rc, ok ? 0 : MULE_ERR_SPOOL_IO);
        rc = mule_spool_fs_jbatch_finish(jb);
        assert_int_equal(rc, ok ? 0 : MULE_ERR_SPOOL_IO);
        assert_int_equal(mule_spool_fs_jbatch_finish(jb), MULE_ERR_INVAL);  /* once */
        mule_spool_fs_jbatch_free(jb);
        for (int pass = 0; pass < 2; pass++) {
            const mule_spool *sp = mule_spool_fs_core(fs);

            assert_int_equal(state_of(fs, id[0], 0),
                             ok ? MULE_SPOOL_T_INFLIGHT : MULE_SPOOL_T_PENDING);
            assert_int_equal(mule_spool_msn(sp, NODES[1]), kept ? 8 : 0);
            assert_int_equal(mule_spool_done_has(sp, 9, 99), v != 1);
            /* Usable again: not busy, MSNs and compaction taken. */
            if (pass == 0) {
                assert_int_equal(mule_spool_fs_flag(fs, id[0], 'h'), 0);
                assert_int_equal(mule_spool_fs_flag(fs, id[0], 'r'), 0);
                assert_int_equal(mule_spool_fs_node_compact(fs, 1000), 0);
            }
            mule_spool_fs_free(fs);
            if (pass == 0)
                fs = sopen_with(&FOPS_SYNCFS, 0);
        }
        /* A batch written and freed unfinished is taken back. */
        fs = sopen_with(&FOPS_SYNCFS, 0);
        if (!ok) {
            jb = jb_stage(fs, id);
            assert_int_equal(mule_spool_fs_jbatch_write(jb), 0);
            mule_spool_fs_jbatch_free(jb);
            assert_int_equal(state_of(fs, id[0], 0), MULE_SPOOL_T_PENDING);
            assert_int_equal(mule_spool_fs_flag(fs, id[0], 'h'), 0);
            assert_int_equal(mule_spool_fs_msn_set(fs, NODES[0], 30), 0);
        }
        mule_spool_fs_free(fs);
    }
}

/* Allocation failure at every allocation of a journal batch: NOMEM,
 * nothing applied, no entry left busy, nothing leaked; a retry works. */
static void
test_mule_spool_fs_jbatch_alloc_fail(void **state)
{
    long n;

    (void)state;
    for (n = 0;; n++) {
        struct tmem tm = {false, 0, 0, 0, 0};
        mem mm = tmem_make(&tm);
        mule_spool_fs_cfg cfg = {DIRP, &FOPS, NULL, &mm, &LG, 2};
        mule_spool_msg m = msg(MULE_SPOOL_OUT);
        mule_spool_fs_jbatch *jb = NULL;
        mule_spool_fs *fs;
        mule_spool_info info;
        char id[2][MULE_SPOOL_ID_SIZE];
        bool fired;
        int rc;

        teardown(NULL);
        setup(NULL);
        assert_int_equal(mule_spool_fs_open(&fs, &cfg, 1000, NULL), 0);
        assert_int_equal(mule_spool_fs_submit(fs, &m, 1000, id[0]), 0);
        assert_int_equal(mule_spool_fs_submit(fs, &m, 1000, id[1]), 0);
        tmem_fail_after(&tm, n);
        rc = mule_spool_fs_jbatch_new(fs, &jb);
        for (int i = 0; rc == 0 && i < 2; i++) {
            mule_spool_target t = {MULE_SPOOL_T_INFLIGHT, 0, 0, 0, 40 + (uint32_t)i, 0, 0};

            t.msn = 7 + (uint32_t)i;
            if ((rc = mule_spool_fs_jbatch_msn(jb, NODES[i], t.msn)) == 0)
                rc = mule_spool_fs_jbatch_target(jb, id[i], (size_t)i, &t, 1000);
        }
        if (rc == 0)
            rc = mule_spool_fs_jbatch_commit(jb);
        fired = tm.left < 0;
        tm.armed = false;
        mule_spool_fs_jbatch_free(jb);
        if (rc != 0) {
            assert_int_equal(rc, MULE_ERR_NOMEM);
            jb_check(fs, id, false);
            assert_true(mule_spool_next_due(mule_spool_fs_core(fs), 2000, &info));
            assert_int_equal(jb_run(fs, id, true), 0);
            jb_check(fs, id, true);
            mule_spool_fs_free(fs);
            assert_int_equal(tm.live, 0);
            continue;
        }
        /* Durable: the states moved; an MSN the model could not take is
         * in the journal all the same. */
        assert_int_equal(state_of(fs, id[0], 0), MULE_SPOOL_T_INFLIGHT);
        assert_int_equal(state_of(fs, id[1], 1), MULE_SPOOL_T_INFLIGHT);
        mule_spool_fs_free(fs);
        assert_int_equal(tm.live, 0);
        fs = sopen(NULL);
        jb_check(fs, id, true);
        mule_spool_fs_free(fs);
        if (!fired)
            break;
        /* else the failure came after the sync: go on */
    }
    assert_true(n > 0);
}

/* Short writes everywhere: every loop finishes the job. */
static void
test_mule_spool_fs_short_writes(void **state)
{
    mule_spool_fs *fs;
    mule_spool_msg m = msg(MULE_SPOOL_IN);
    char id[MULE_SPOOL_ID_SIZE];
    uint32_t msid;

    (void)state;
    F.short_write = 3;
    fs = sopen(NULL);
    assert_int_equal(mule_spool_fs_submit(fs, &m, 1000, id), 0);
    set_state(fs, id, 0, MULE_SPOOL_T_DONE, 0, 0);
    assert_int_equal(mule_spool_fs_msid_alloc(fs, &msid), 0);
    mule_spool_fs_free(fs);
    fs = sopen(NULL);
    check_body(fs, id);
    assert_int_equal(state_of(fs, id, 0), MULE_SPOOL_T_DONE);
    mule_spool_fs_free(fs);
}

/* Contract line 4: in flight resumes with the same MSID and MSN; MSIDs
 * are never reused; the done set and EMCON survive. */
static void
test_mule_spool_fs_restart_resume(void **state)
{
    mule_spool_fs *fs;
    mule_spool_msg m = msg(MULE_SPOOL_OUT);
    mule_spool_target t;
    char id[MULE_SPOOL_ID_SIZE];
    uint32_t msid, max = 0;
    int64_t since;

    (void)state;
    fs = sopen(NULL);
    assert_int_equal(mule_spool_fs_submit(fs, &m, 1000, id), 0);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(mule_spool_fs_msid_alloc(fs, &msid), 0);
        assert_true(msid > max);
        max = msid;
    }
    set_state(fs, id, 0, MULE_SPOOL_T_INFLIGHT, max, 41);
    set_state(fs, id, 1, MULE_SPOOL_T_INFLIGHT, max, 42);
    set_state(fs, id, 0, MULE_SPOOL_T_DONE, 0, 0);
    assert_int_equal(mule_spool_fs_msn_set(fs, 3, 42), 0);
    for (uint32_t i = 100; i < 110; i++)
        assert_int_equal(mule_spool_fs_done_add(fs, 9, i, 5000), 0);
    assert_int_equal(mule_spool_fs_emcon_set(fs, true, 1234), 0);
    mule_spool_fs_free(fs);

    fs = sopen(NULL);
    assert_int_equal(mule_spool_target_get(mule_spool_fs_core(fs), id, 1, &t), 0);
    assert_int_equal(t.state, MULE_SPOOL_T_INFLIGHT);
    assert_int_equal(t.msid, max);
    assert_int_equal(t.msn, 42);
    assert_int_equal(t.node, 3);
    assert_int_equal(state_of(fs, id, 0), MULE_SPOOL_T_DONE);
    assert_int_equal(mule_spool_msn(mule_spool_fs_core(fs), 3), 42);
    assert_true(mule_spool_done_has(mule_spool_fs_core(fs), 9, 105));
    assert_true(mule_spool_emcon(mule_spool_fs_core(fs), &since));
    assert_int_equal(since, 1234);
    assert_int_equal(mule_spool_fs_msid_alloc(fs, &msid), 0);
    assert_true(msid > max);
    mule_spool_fs_free(fs);
}

/* Contract line 5: an inbound entry leaves only when every recipient is
 * final; removal is durable. */
static void
test_mule_spool_fs_remove_busy(void **state)
{
    mule_spool_fs *fs;
    mule_spool_msg m = msg(MULE_SPOOL_IN);
    char id[MULE_SPOOL_ID_SIZE];
    mule_spool_scan scan;

    (void)state;
    fs = sopen(NULL);
    assert_int_equal(mule_spool_fs_submit(fs, &m, 1000, id), 0);
    assert_int_equal(mule_spool_fs_remove(fs, id), MULE_ERR_SPOOL_BUSY);
    set_state(fs, id, 0, MULE_SPOOL_T_DONE, 0, 0);
    assert_int_equal(mule_spool_fs_remove(fs, id), MULE_ERR_SPOOL_BUSY);
    set_state(fs, id, 1, MULE_SPOOL_T_FAILED, 0, 0);
    assert_int_equal(mule_spool_fs_remove(fs, id), MULE_ERR_SPOOL_BUSY);
    set_state(fs, id, 1, MULE_SPOOL_T_DSN_SENT, 0, 0);
    F.trace[0] = '\0';
    F.trace_on = true;
    assert_int_equal(mule_spool_fs_remove(fs, id), 0);
    F.trace_on = false;
    assert_non_null(strstr(F.trace, "fsync:q"));
    assert_int_equal(mule_spool_fs_remove(fs, id), MULE_ERR_SPOOL_NOENT);
    mule_spool_fs_free(fs);
    fs = sopen(&scan);
    assert_int_equal(scan.loaded, 0);
    mule_spool_fs_free(fs);
}

/* Contract line 7: what recovery finds and does. */
static void
write_raw(const char *sub, const char *name, const void *p, size_t n, int flags)
{
    char path[160];
    int fd;

    snprintf(path, sizeof path, "%s/%s/%s", DIRP, sub, name);
    assert_true((fd = open(path, O_WRONLY | O_CREAT | flags, 0600)) >= 0);
    assert_int_equal(write(fd, p, n), (ssize_t)n);
    close(fd);
}

static void
test_mule_spool_fs_recovery(void **state)
{
    mule_spool_fs *fs;
    mule_spool_msg m = msg(MULE_SPOOL_OUT);
    mule_spool_scan scan;
    char ids[4][MULE_SPOOL_ID_SIZE], path[160];
    mule_spool_msg four[4] = {m, m, m, m};
    mule_spool_rec rec;
    struct stat st;
    buf b;

    (void)state;
    fs = sopen(NULL);
    assert_int_equal(mule_spool_fs_submit_batch(fs, four, 4, 1000, ids), 0);
    set_state(fs, ids[0], 0, MULE_SPOOL_T_INFLIGHT, 1, 1);
    buf_init(&b, NULL, SIZE_MAX);
    assert_int_equal(mule_spool_fs_read(fs, ids[1], &b), 0);
    mule_spool_prep_msid_hw(5, &rec);   /* any record will do for the tail */
    mule_spool_fs_free(fs);

    /* 0: a torn append (half a record). */
    write_raw("q", ids[0], rec.b, rec.len / 2, O_APPEND);
    /* 1: truncated creation section. */
    snprintf(path, sizeof path, "%s/q/%s", DIRP, ids[1]);
    assert_int_equal(truncate(path, (off_t)b.len / 2), 0);
    /* 2: wrong version. */
    b.data[4] = 7;
    write_raw("q", ids[2], b.data, b.len, O_TRUNC);
    /* A stray name, and a leftover in tmp/. */
    write_raw("q", "garbage", "xyz", 3, 0);
    write_raw("tmp", "LEFTOVER", "xyz", 3, 0);
    /* A mail whose rename did not survive: the scan names its ID. */
    write_raw("tmp", "0123456789AZ", "xyz", 3, 0);
    buf_fini(&b);

    prefetches = 0;
    fs = sopen(&scan);
    assert_int_equal(prefetches, 5);    /* every name in q/: 4 + garbage */
    assert_int_equal(scan.loaded, 2);
    assert_int_equal(scan.torn, 1);
    assert_int_equal(scan.corrupt, 3);
    assert_int_equal(scan.tmp_purged, 2);
    assert_int_equal(scan.tmp_id_cnt, 1);       /* LEFTOVER is no queue ID */
    assert_string_equal(scan.tmp_ids[0], "0123456789AZ");
    assert_int_equal(count_dir("corrupt"), 3);
    assert_int_equal(count_dir("q"), 2);
    assert_int_equal(count_dir("tmp"), 0);
    assert_true(TL.count[LOG_LVL_ERROR] >= 3);
    /* The torn entry kept its good state, and appends go on cleanly. */
    assert_int_equal(state_of(fs, ids[0], 0), MULE_SPOOL_T_INFLIGHT);
    set_state(fs, ids[0], 0, MULE_SPOOL_T_DONE, 0, 0);
    check_body(fs, ids[3]);
    mule_spool_fs_free(fs);
    snprintf(path, sizeof path, "%s/q/%s", DIRP, ids[0]);
    assert_int_equal(stat(path, &st), 0);
    fs = sopen(&scan);
    assert_int_equal(scan.loaded, 2);
    assert_int_equal(scan.torn, 0);
    assert_int_equal(scan.corrupt, 0);
    assert_int_equal(state_of(fs, ids[0], 0), MULE_SPOOL_T_DONE);
    mule_spool_fs_free(fs);
}

/* A corrupt node journal is moved aside; MSIDs restart far above what is
 * queued, so none in flight is reused. */
static void
test_mule_spool_fs_node_corrupt(void **state)
{
    mule_spool_fs *fs;
    mule_spool_msg m = msg(MULE_SPOOL_OUT);
    char id[MULE_SPOOL_ID_SIZE];
    uint32_t msid;
    mule_spool_scan scan;

    (void)state;
    fs = sopen(NULL);
    assert_int_equal(mule_spool_fs_submit(fs, &m, 1000, id), 0);
    set_state(fs, id, 0, MULE_SPOOL_T_INFLIGHT, 70000, 1);
    mule_spool_fs_free(fs);
    /* A record whose checksum fails, with more bytes after it: not a
     * torn tail but corruption. */
    static const uint8_t bad[] = {'M', 'S', 'P', 'L', 1, 2, 0, 0, 0x20, 0, 0, 0, 4,
                                  'a', 'b', 'c', 'd', 'z', 'z', 'z', 'z', 'm', 'o', 'r', 'e'};

    write_raw(".", "node", bad, sizeof bad, O_TRUNC);
    fs = sopen(&scan);
    assert_int_equal(count_dir("corrupt"), 1);
    assert_int_equal(mule_spool_fs_msid_alloc(fs, &msid), 0);
    assert_true(msid > 70000);
    mule_spool_fs_free(fs);
}

static void
test_mule_spool_fs_alloc_fail_open(void **state)
{
    mule_spool_fs *fs;
    mule_spool_msg m = msg(MULE_SPOOL_OUT);
    mule_spool_msg two[2] = {m, m};
    char ids[2][MULE_SPOOL_ID_SIZE];
    long n;

    (void)state;
    fs = sopen(NULL);
    assert_int_equal(mule_spool_fs_submit_batch(fs, two, 2, 1000, ids), 0);
    assert_int_equal(mule_spool_fs_done_add(fs, 1, 1, 5000), 0);
    mule_spool_fs_free(fs);
    for (n = 0;; n++) {
        struct tmem tm = {false, 0, 0, 0, 0};
        mem mm = tmem_make(&tm);
        mule_spool_fs_cfg cfg = {DIRP, &FOPS, NULL, &mm, &LG, 0};
        mule_spool_scan scan;
        int rc;

        tmem_fail_after(&tm, n);
        rc = mule_spool_fs_open(&fs, &cfg, 1000, &scan);
        if (rc != 0) {
            assert_int_equal(rc, MULE_ERR_NOMEM);
            assert_int_equal(tm.live, 0);
            assert_int_equal(count_dir("corrupt"), 0);   /* nothing moved */
            continue;
        }
        assert_int_equal(scan.loaded, 2);
        assert_true(mule_spool_done_has(mule_spool_fs_core(fs), 1, 1));
        mule_spool_fs_free(fs);
        assert_int_equal(tm.live, 0);
        break;
    }
    assert_true(n > 5);
}

/* Allocation failure at every allocation of a submission and of the
 * updates after it: NOMEM, nothing accepted or changed, no leak, and the
 * same call works once memory returns. */
static void
test_mule_spool_fs_alloc_fail_submit(void **state)
{
    long n;

    (void)state;
    for (n = 0;; n++) {
        struct tmem tm = {false, 0, 0, 0, 0};
        mem mm = tmem_make(&tm);
        mule_spool_fs_cfg cfg = {DIRP, &FOPS, NULL, &mm, &LG, 2};
        mule_spool_msg m = msg(MULE_SPOOL_IN);
        mule_spool_fs *fs;
        char id[MULE_SPOOL_ID_SIZE];
        int rc;

        teardown(NULL);
        setup(NULL);
        assert_int_equal(mule_spool_fs_open(&fs, &cfg, 1000, NULL), 0);
        tmem_fail_after(&tm, n);
        rc = mule_spool_fs_submit(fs, &m, 1000, id);
        if (rc == 0)
            rc = mule_spool_fs_done_add(fs, 5, 77, 9000);
        if (rc == 0)
            rc = mule_spool_fs_done_add(fs, 6, 1, 9000);
        tm.armed = false;
        if (rc != 0) {
            assert_int_equal(rc, MULE_ERR_NOMEM);
            /* A submission that failed left nothing behind. */
            assert_true(mule_spool_count(mule_spool_fs_core(fs)) == count_dir("q"));
            assert_int_equal(count_dir("tmp"), 0);
            assert_int_equal(mule_spool_fs_submit(fs, &m, 1000, id), 0);
            mule_spool_fs_free(fs);
            assert_int_equal(tm.live, 0);
            continue;
        }
        assert_int_equal(count_dir("q"), 1);
        mule_spool_fs_free(fs);
        assert_int_equal(tm.live, 0);
        break;
    }
    assert_true(n > 2);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mule_spool_fs_submit_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mule_spool_fs_batch_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mule_spool_fs_batch_fail_every_step, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mule_spool_fs_batch_model_refuses, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mule_spool_fs_target_durable_first, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mule_spool_fs_enospc_every_step, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mule_spool_fs_update_fail_every_step, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mule_spool_fs_short_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mule_spool_fs_jbatch_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mule_spool_fs_jbatch_fail_every_step, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mule_spool_fs_jbatch_split, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mule_spool_fs_jbatch_alloc_fail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mule_spool_fs_restart_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mule_spool_fs_remove_busy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mule_spool_fs_recovery, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mule_spool_fs_node_corrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mule_spool_fs_alloc_fail_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mule_spool_fs_alloc_fail_submit, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
