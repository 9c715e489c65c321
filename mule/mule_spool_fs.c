/*
 * NAME
 *	mule_spool_fs - the spool on disk: atomic creation, journals, recovery
 * SYNOPSIS
 *	#include "mule/mule_spool_fs.h"
 * DESCRIPTION
 *	The only spool code doing I/O.  It turns each change of the model
 *	(mule_spool(3)) into a durable write first and applies it second:
 *
 *	  accept:  tmp/ID (O_EXCL, 0600), write, fsync, close, rename to
 *	           q/ID, fsync q/ (one fsync for a whole batch: group commit;
 *	           a group-commit batch may replace it by one syncfs that
 *	           also makes the caller's audit records durable);
 *	  update:  append one journal record to q/ID (O_APPEND), fdatasync;
 *	  remove:  unlink q/ID, fsync q/;
 *	  node:    append to the node journal, fdatasync; compaction writes a
 *	           snapshot to tmp/node, fsync, rename over node, fsync the
 *	           spool directory.
 *
 *	Why an append-only journal and not rewrite + rename for updates: a
 *	state change is a 34-octet record; appending it costs one
 *	fdatasync of one block, where a rewrite costs writing the whole
 *	mail again, an fsync, a rename and a directory fsync.  A crash in
 *	the middle of an append leaves a torn last record, which recovery
 *	recognises by its length or checksum and cuts off: that append was
 *	never reported durable, so nobody acted on it.  A failed append is
 *	cut off at once (ftruncate), and again before the next append if
 *	that failed too, so a journal never holds garbage between records.
 *
 *	Every syscall goes through the mule_spool_fops table so tests can
 *	fail any of them (ENOSPC, EIO, short writes) and record their order.
 * SECURITY
 *	Reads spool files as untrusted (the parser is mule_spool(3)).  Files
 *	are created 0600.  File names under q/ must be queue IDs; anything
 *	else found there is moved to corrupt/.
 * DIAGNOSTICS
 *	Returns MULE_ERR_* codes.  Logs (through the injected logger) one
 *	line per file moved to corrupt/, per torn journal cut, per purge of
 *	tmp/, and warnings for failures that leave nothing at risk.
 * SEE ALSO
 *	mule_spool(3), docs/spool.md, style.md 9.
 * LICENSE
 *	MIT, see LICENSE.
 */
#define _GNU_SOURCE             /* fdatasync, O_DIRECTORY, O_CLOEXEC */
#include "mule/mule_spool_fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Largest file the scan reads: the biggest entry the format allows
 * (content, the largest envelope) with margin; bigger is corrupt. */
#define FILE_MAX        (MULE_SPOOL_MAX_CONTENT + ((size_t)2 << 20) + \
                         (size_t)MULE_SPOOL_MAX_RCPTS * (2 * MULE_SPOOL_MAX_STR + 13))
#define NODE_NAME       "node"

struct mule_spool_fs {
    mule_spool_fops ops;
    mule_spool *sp;
    const mem *m;
    const logger *log;
    int dirfd, tmpfd, qfd, corruptfd, nodefd;
    uint64_t node_len;          /* octets of the node journal that are good */
    size_t node_recs, compact_recs;
    bool jb_out;                /* a journal batch is written and its sync
                                 * not finished (maybe on another thread):
                                 * the node journal is not compacted and
                                 * takes no MSN record meanwhile */
    uint32_t corrupt_ctr;
    int64_t now_s;              /* the time open() was given (corrupt/ names) */
    buf io;                     /* encode and read scratch */
};

/* ------------------------------------------------------------------ */
/* POSIX table */

static int
px_openat(void *arg, int dirfd, const char *path, int flags, int mode)
{
    int fd;

    (void)arg;
    fd = openat(dirfd, path, flags | O_CLOEXEC, (mode_t)mode);
    return fd < 0 ? -errno : fd;
}

static ssize_t
px_write(void *arg, int fd, const void *p, size_t n)
{
    ssize_t r;

    (void)arg;
    r = write(fd, p, n);
    return r < 0 ? -errno : r;
}

static ssize_t
px_pread(void *arg, int fd, void *p, size_t n, off_t off)
{
    ssize_t r;

    (void)arg;
    r = pread(fd, p, n, off);
    return r < 0 ? -errno : r;
}

static int
px_fsync(void *arg, int fd)
{
    (void)arg;
    return fsync(fd) != 0 ? -errno : 0;
}

static int
px_fdatasync(void *arg, int fd)
{
    (void)arg;
    return fdatasync(fd) != 0 ? -errno : 0;
}

static int
px_close(void *arg, int fd)
{
    (void)arg;
    return close(fd) != 0 ? -errno : 0;
}

static int
px_renameat(void *arg, int od, const char *o, int nd, const char *n)
{
    (void)arg;
    return renameat(od, o, nd, n) != 0 ? -errno : 0;
}

static int
px_unlinkat(void *arg, int dirfd, const char *path)
{
    (void)arg;
    return unlinkat(dirfd, path, 0) != 0 ? -errno : 0;
}

static int
px_ftruncate(void *arg, int fd, off_t len)
{
    (void)arg;
    return ftruncate(fd, len) != 0 ? -errno : 0;
}

static int
px_fsize(void *arg, int fd, uint64_t *len)
{
    struct stat st;

    (void)arg;
    if (fstat(fd, &st) != 0)
        return -errno;
    *len = (uint64_t)st.st_size;
    return 0;
}

static int
px_mkdirat(void *arg, int dirfd, const char *path, int mode)
{
    (void)arg;
    return mkdirat(dirfd, path, (mode_t)mode) != 0 ? -errno : 0;
}

static int
px_listdir(void *arg, int dirfd, int (*fn)(void *, const char *), void *fn_arg)
{
    DIR *d;
    struct dirent *de;
    int fd, rc = 0;

    (void)arg;
    /* fdopendir takes the descriptor over: give it a copy, and rewind,
     * since a copy shares the offset of an earlier listing. */
    if ((fd = dup(dirfd)) < 0)
        return -errno;
    if ((d = fdopendir(fd)) == NULL) {
        rc = -errno;
        (void)close(fd);
        return rc;
    }
    rewinddir(d);
    for (;;) {
        errno = 0;
        if ((de = readdir(d)) == NULL) {
            rc = errno != 0 ? -errno : 0;
            break;
        }
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if ((rc = fn(fn_arg, de->d_name)) != 0)
            break;
    }
    (void)closedir(d);
    return rc;
}

static void
px_prefetch(void *arg, int dirfd, const char *name)
{
    int fd;

    (void)arg;
    if ((fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0)
        return;
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED);
    (void)close(fd);
}

static int
px_syncfs(void *arg, int fd)
{
    (void)arg;
    return syncfs(fd) != 0 ? -errno : 0;
}

static int
px_fdev(void *arg, int fd, uint64_t *dev)
{
    struct stat st;

    (void)arg;
    if (fstat(fd, &st) != 0)
        return -errno;
    *dev = (uint64_t)st.st_dev;
    return 0;
}

const mule_spool_fops mule_spool_fops_posix = {
    px_openat, px_write, px_pread, px_fsync, px_fdatasync, px_close, px_renameat,
    px_unlinkat, px_ftruncate, px_fsize, px_mkdirat, px_listdir, NULL, px_prefetch, px_syncfs,
    px_fdev,
};

/* ------------------------------------------------------------------ */
/* Helpers */

/* A failing environment is a temporary error (style.md 4): disk full
 * and I/O errors are told apart so the daemon can say which. */
static int
map_errno(int neg)
{
    switch (-neg) {
    case ENOSPC:
    case EDQUOT:
        return MULE_ERR_SPOOL_FULL;
    case ENOMEM:
        return MULE_ERR_NOMEM;
    default:
        return MULE_ERR_SPOOL_IO;
    }
}

#define OPS(fs, call, ...) ((fs)->ops.call((fs)->ops.arg, __VA_ARGS__))

static int
write_all(mule_spool_fs *fs, int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = OPS(fs, write, fd, p, n);

        if (w < 0)
            return map_errno((int)w);
        if (w == 0 || (size_t)w > n)
            return MULE_ERR_SPOOL_IO;   /* no progress: do not spin */
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int
close_checked(mule_spool_fs *fs, int fd)
{
    int rc = OPS(fs, close, fd);

    return rc < 0 ? map_errno(rc) : 0;
}

static int
read_file(mule_spool_fs *fs, int dirfd, const char *name, buf *out)
{
    uint64_t len;
    size_t got = 0;
    int fd, rc;

    buf_reset(out);
    if ((fd = OPS(fs, openat, dirfd, name, O_RDONLY, 0)) < 0)
        return fd == -ENOENT ? MULE_ERR_SPOOL_NOENT : map_errno(fd);
    if ((rc = OPS(fs, fsize, fd, &len)) < 0) {
        rc = map_errno(rc);
        goto out;
    }
    if (len > FILE_MAX) {
        rc = MULE_ERR_SPOOL_CORRUPT;
        goto out;
    }
    if (buf_reserve(out, (size_t)len) != 0) {
        rc = MULE_ERR_NOMEM;
        goto out;
    }
    while (got < len) {
        ssize_t r = OPS(fs, pread, fd, out->data + got, (size_t)len - got, (off_t)got);

        if (r < 0) {
            rc = map_errno((int)r);
            goto out;
        }
        if (r == 0)
            break;              /* shrank under us: parse what is there */
        got += (size_t)r;
    }
    out->len = got;
    rc = 0;
out:
    (void)OPS(fs, close, fd);   /* read-only: nothing to lose */
    return rc;
}

/*
 * Append rec to the open file fd whose good length is good_len, durably:
 * cut off what a failed earlier append may have left, write, fdatasync.
 * On failure cut the file back to good_len (best effort: the next append
 * tries again first).
 */
static int
append_durable(mule_spool_fs *fs, int fd, uint64_t good_len, const uint8_t *rec, size_t len)
{
    uint64_t size;
    int rc;

    if ((rc = OPS(fs, fsize, fd, &size)) < 0)
        return map_errno(rc);
    if (size != good_len) {
        if (size < good_len)
            return MULE_ERR_SPOOL_IO;   /* shorter than what we wrote */
        if ((rc = OPS(fs, ftruncate, fd, (off_t)good_len)) < 0)
            return map_errno(rc);
    }
    if ((rc = write_all(fs, fd, rec, len)) == 0) {
        if ((rc = OPS(fs, fdatasync, fd)) < 0)
            rc = map_errno(rc);
    }
    if (rc != 0)
        (void)OPS(fs, ftruncate, fd, (off_t)good_len);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Node journal */

static int
node_compact(mule_spool_fs *fs, int64_t now_s)
{
    int fd = -1, nfd, rc;

    mule_spool_done_prune(fs->sp, now_s);
    buf_reset(&fs->io);
    if ((rc = mule_spool_node_snapshot(fs->sp, &fs->io)) != 0)
        return rc;
    (void)OPS(fs, unlinkat, fs->tmpfd, NODE_NAME);
    if ((fd = OPS(fs, openat, fs->tmpfd, NODE_NAME, O_WRONLY | O_CREAT | O_EXCL, 0600)) < 0)
        return map_errno(fd);
    if ((rc = write_all(fs, fd, fs->io.data, fs->io.len)) != 0)
        goto fail;
    if ((rc = OPS(fs, fsync, fd)) < 0) {
        rc = map_errno(rc);
        goto fail;
    }
    rc = close_checked(fs, fd);
    fd = -1;
    if (rc != 0)
        goto fail;
    if ((rc = OPS(fs, renameat, fs->tmpfd, NODE_NAME, fs->dirfd, NODE_NAME)) < 0) {
        rc = map_errno(rc);
        goto fail;
    }
    if ((rc = OPS(fs, fsync, fs->dirfd)) < 0)
        return map_errno(rc);   /* the new file is complete either way */
    if ((nfd = OPS(fs, openat, fs->dirfd, NODE_NAME, O_WRONLY | O_APPEND, 0)) < 0)
        return map_errno(nfd);
    if (fs->nodefd >= 0)
        (void)OPS(fs, close, fs->nodefd);
    fs->nodefd = nfd;
    fs->node_len = fs->io.len;
    fs->node_recs = 0;
    return 0;
fail:
    if (fd >= 0)
        (void)OPS(fs, close, fd);
    (void)OPS(fs, unlinkat, fs->tmpfd, NODE_NAME);
    return rc;
}

int
mule_spool_fs_node_compact(mule_spool_fs *fs, int64_t now_s)
{
    if (fs == NULL)
        return MULE_ERR_INVAL;
    if (fs->jb_out)
        return MULE_ERR_SPOOL_BUSY;     /* its sync holds the descriptor */
    return node_compact(fs, now_s);
}

static int
node_append(mule_spool_fs *fs, const mule_spool_rec *rec)
{
    int rc;

    if (fs->nodefd < 0 && (rc = node_compact(fs, fs->now_s)) != 0)
        return rc;
    if ((rc = append_durable(fs, fs->nodefd, fs->node_len, rec->b, rec->len)) != 0)
        return rc;
    fs->node_len += rec->len;
    if ((rc = mule_spool_apply(fs->sp, NULL, rec->b, rec->len)) != 0)
        return rc;
    /* The journal only grows; past the threshold it is rewritten (not
     * while a journal batch's sync holds its descriptor: at its end).  A
     * failed compaction loses nothing (the journal stays valid). */
    if (++fs->node_recs > fs->compact_recs && !fs->jb_out &&
        (rc = node_compact(fs, fs->now_s)) != 0)
        log_emit(fs->log, LOG_LVL_WARN, "spool event=node-compact-failed reason=%s",
                 mule_errname(rc));
    return 0;
}

int
mule_spool_fs_msid_alloc(mule_spool_fs *fs, uint32_t *msid)
{
    mule_spool_rec rec;
    int rc;

    if (fs == NULL || msid == NULL)
        return MULE_ERR_INVAL;
    if ((rc = mule_spool_msid_next(fs->sp, msid)) != MULE_ERR_SPOOL_RESERVE)
        return rc;
    mule_spool_prep_msid_hw(mule_spool_msid_want(fs->sp), &rec);
    if ((rc = node_append(fs, &rec)) != 0)
        return rc;
    return mule_spool_msid_next(fs->sp, msid);
}

int
mule_spool_fs_msn_set(mule_spool_fs *fs, uint32_t dest, uint32_t msn)
{
    mule_spool_rec rec;

    if (fs == NULL)
        return MULE_ERR_INVAL;
    /* A journal batch's MSN records are on disk but applied only after
     * its sync: one appended now would be applied first, then overwritten
     * by an older one (the model and a replay would disagree). */
    if (fs->jb_out)
        return MULE_ERR_SPOOL_BUSY;
    mule_spool_prep_msn(dest, msn, &rec);
    return node_append(fs, &rec);
}

int
mule_spool_fs_done_add(mule_spool_fs *fs, uint32_t src, uint32_t msid, int64_t expiry_s)
{
    mule_spool_rec rec;

    if (fs == NULL)
        return MULE_ERR_INVAL;
    mule_spool_prep_done(src, msid, expiry_s, &rec);
    return node_append(fs, &rec);
}

int
mule_spool_fs_emcon_set(mule_spool_fs *fs, bool on, int64_t since_s)
{
    mule_spool_rec rec;

    if (fs == NULL)
        return MULE_ERR_INVAL;
    mule_spool_prep_emcon(on, since_s, &rec);
    return node_append(fs, &rec);
}

/* ------------------------------------------------------------------ */
/* Recovery */

/* Move dir/name to corrupt/ under a name no earlier move used, and make
 * both directories durable.  Never deletes: a file that cannot be moved
 * stays where it is (and the scan fails, so the daemon does not start on
 * a spool it cannot read). */
static int
move_corrupt(mule_spool_fs *fs, int dirfd, const char *name, int why)
{
    char dst[96];
    int n, rc;

    n = snprintf(dst, sizeof dst, "%.40s.%lld.%u", name, (long long)fs->now_s,
                 fs->corrupt_ctr++);
    if (n < 0 || (size_t)n >= sizeof dst)
        return MULE_ERR_INVAL;
    if ((rc = OPS(fs, renameat, dirfd, name, fs->corruptfd, dst)) < 0) {
        log_emit(fs->log, LOG_LVL_ERROR,
                 "spool event=corrupt-move-failed file=%.40s reason=%s errno=%d", name,
                 mule_errname(why), -rc);
        return map_errno(rc);
    }
    if ((rc = OPS(fs, fsync, fs->corruptfd)) < 0 || (rc = OPS(fs, fsync, dirfd)) < 0)
        return map_errno(rc);
    log_emit(fs->log, LOG_LVL_ERROR, "spool event=corrupt file=%.40s moved=corrupt/%s reason=%s",
             name, dst, mule_errname(why));
    return 0;
}

typedef struct scan_ctx {
    mule_spool_fs *fs;
    mule_spool_scan *res;
    int rc;
    buf names;                  /* q/ listing, NUL-separated */
} scan_ctx;

/* Files whose reading is hinted ahead of the one being parsed: enough
 * requests in flight to keep a disk's queue busy on a cold start. */
#define PREFETCH_AHEAD 256

static int
name_collect(void *arg, const char *name)
{
    scan_ctx *sc = arg;

    if (buf_append(&sc->names, name, strlen(name) + 1) != 0)
        return sc->rc = MULE_ERR_NOMEM;
    return 0;
}

static int
scan_one(void *arg, const char *name)
{
    scan_ctx *sc = arg;
    mule_spool_fs *fs = sc->fs;
    mule_spool_load_res lr;
    char safe[64];
    int rc, fd;

    rc = read_file(fs, fs->qfd, name, &fs->io);
    if (rc == MULE_ERR_SPOOL_NOENT)
        return 0;
    if (rc == 0)
        rc = mule_spool_load(fs->sp, name, fs->io.data, fs->io.len, &lr);
    if (rc == MULE_ERR_SPOOL_CORRUPT || rc == MULE_ERR_SPOOL_VERSION ||
        rc == MULE_ERR_SPOOL_EXISTS) {
        if ((rc = move_corrupt(fs, fs->qfd, name, rc)) != 0)
            return sc->rc = rc;
        sc->res->corrupt++;
        return 0;
    }
    if (rc != 0) {
        log_emit(fs->log, LOG_LVL_ERROR, "spool event=scan-failed file=%s reason=%s",
                 log_printable(safe, sizeof safe, name, strlen(name)), mule_errname(rc));
        return sc->rc = rc;
    }
    if (lr.good_len < fs->io.len) {
        /* A torn last journal record: an update that never returned.
         * Cut it so the next append starts on a record boundary. */
        if ((fd = OPS(fs, openat, fs->qfd, name, O_WRONLY, 0)) < 0)
            return sc->rc = map_errno(fd);
        rc = OPS(fs, ftruncate, fd, (off_t)lr.good_len);
        if (rc == 0)
            rc = OPS(fs, fdatasync, fd);
        (void)OPS(fs, close, fd);
        if (rc < 0)
            return sc->rc = map_errno(rc);
        log_emit(fs->log, LOG_LVL_WARN, "%s spool event=torn-journal cut=%zu kept=%zu",
                 lr.id, fs->io.len - lr.good_len, lr.good_len);
        sc->res->torn++;
    }
    sc->res->loaded++;
    return 0;
}

/* A name minted by mule_spool_mint_id (12 of [0-9A-Z]). */
static bool
looks_like_id(const char *name)
{
    size_t i;

    for (i = 0; name[i] != '\0' && i < MULE_SPOOL_ID_LEN; i++)
        if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'A' && name[i] <= 'Z')))
            return false;
    return i == MULE_SPOOL_ID_LEN && name[i] == '\0';
}

static int
purge_one(void *arg, const char *name)
{
    scan_ctx *sc = arg;
    mule_spool_scan *res = sc->res;
    int rc = OPS(sc->fs, unlinkat, sc->fs->tmpfd, name);

    if (rc < 0 && rc != -ENOENT)
        return sc->rc = map_errno(rc);
    res->tmp_purged++;
    /* Its mail was never acknowledged; the caller may have audited it as
     * accepted already (one sync for q/ and the audit log), so it learns
     * the ID to withdraw that record. */
    if (looks_like_id(name) && res->tmp_id_cnt < MULE_SPOOL_SCAN_IDS)
        memcpy(res->tmp_ids[res->tmp_id_cnt++], name, MULE_SPOOL_ID_SIZE);
    return 0;
}

/* The highest MSID any queued entry holds (for a lost node journal). */
static uint32_t
max_msid_in_queue(mule_spool *sp)
{
    mule_spool_info info;
    mule_spool_target t;
    size_t pos = 0;
    uint32_t hi = 0;

    while (mule_spool_iter(sp, &pos, &info))
        for (size_t i = 0; i < info.target_cnt; i++)
            if (mule_spool_target_get(sp, info.id, i, &t) == 0 && t.msid > hi)
                hi = t.msid;
    return hi;
}

static int
load_node(mule_spool_fs *fs, bool *lost)
{
    mule_spool_load_res lr;
    int rc;

    *lost = false;
    rc = read_file(fs, fs->dirfd, NODE_NAME, &fs->io);
    if (rc == MULE_ERR_SPOOL_NOENT)
        return 0;               /* a new spool: compaction creates it */
    if (rc == 0)
        rc = mule_spool_load_node(fs->sp, fs->io.data, fs->io.len, &lr);
    if (rc == MULE_ERR_SPOOL_CORRUPT || rc == MULE_ERR_SPOOL_VERSION) {
        *lost = true;
        return move_corrupt(fs, fs->dirfd, NODE_NAME, rc);
    }
    if (rc == 0 && lr.good_len < fs->io.len)
        log_emit(fs->log, LOG_LVL_WARN, "spool event=torn-journal file=node cut=%zu",
                 fs->io.len - lr.good_len);
    return rc;                  /* compaction rewrites it without the tail */
}

static int
open_dir(mule_spool_fs *fs, int at, const char *name, int *fd)
{
    int rc = OPS(fs, mkdirat, at, name, 0700);

    if (rc < 0 && rc != -EEXIST)
        return map_errno(rc);
    if ((*fd = OPS(fs, openat, at, name, O_RDONLY | O_DIRECTORY, 0)) < 0)
        return map_errno(*fd);
    return 0;
}

int
mule_spool_fs_open(mule_spool_fs **out, const mule_spool_fs_cfg *cfg, int64_t now_s,
                   mule_spool_scan *scan)
{
    mule_spool_fs *fs;
    mule_spool_scan dummy;
    scan_ctx sc;
    bool lost;
    int rc;

    if (out == NULL || cfg == NULL || cfg->dir == NULL)
        return MULE_ERR_INVAL;
    *out = NULL;
    if (scan == NULL)
        scan = &dummy;
    memset(scan, 0, sizeof *scan);
    if ((fs = mem_calloc(cfg->m, 1, sizeof *fs)) == NULL)
        return MULE_ERR_NOMEM;
    fs->ops = cfg->fops != NULL ? *cfg->fops : mule_spool_fops_posix;
    fs->m = cfg->m;
    fs->log = cfg->log;
    fs->dirfd = fs->tmpfd = fs->qfd = fs->corruptfd = fs->nodefd = -1;
    fs->compact_recs = cfg->node_compact_recs != 0 ? cfg->node_compact_recs : 4096;
    fs->now_s = now_s;
    buf_init(&fs->io, cfg->m, SIZE_MAX);
    if ((rc = mule_spool_new(&fs->sp, cfg->policy, cfg->m)) != 0)
        goto fail;
    mule_spool_mint_floor(fs->sp, now_s + 1);
    if ((rc = open_dir(fs, AT_FDCWD, cfg->dir, &fs->dirfd)) != 0 ||
        (rc = open_dir(fs, fs->dirfd, "tmp", &fs->tmpfd)) != 0 ||
        (rc = open_dir(fs, fs->dirfd, "q", &fs->qfd)) != 0 ||
        (rc = open_dir(fs, fs->dirfd, "corrupt", &fs->corruptfd)) != 0)
        goto fail;
    /* The layout's directory entries must survive a crash too. */
    if ((rc = OPS(fs, fsync, fs->dirfd)) < 0) {
        rc = map_errno(rc);
        goto fail;
    }
    sc = (scan_ctx){fs, scan, 0, {0}};
    /* tmp/ holds only files that were never accepted (OpenSMTPD). */
    if ((rc = OPS(fs, listdir, fs->tmpfd, purge_one, &sc)) != 0) {
        rc = sc.rc != 0 ? sc.rc : map_errno(rc);
        goto fail;
    }
    if (scan->tmp_purged > 0)
        log_emit(fs->log, LOG_LVL_INFO, "spool event=tmp-purged files=%zu", scan->tmp_purged);
    if ((rc = load_node(fs, &lost)) != 0)
        goto fail;
    /* List q/ first, then read the files in that order while hinting
     * the next ones: a cold start is bound by disk reads, which overlap
     * only if several are requested at once. */
    buf_init(&sc.names, cfg->m, SIZE_MAX);
    if ((rc = OPS(fs, listdir, fs->qfd, name_collect, &sc)) != 0) {
        rc = sc.rc != 0 ? sc.rc : map_errno(rc);
        buf_fini(&sc.names);
        goto fail;
    }
    {
        const char *name = (const char *)sc.names.data, *ahead = name;
        const char *end = name + sc.names.len;

        for (; name < end && rc == 0; name += strlen(name) + 1) {
            for (; fs->ops.prefetch != NULL && ahead < end &&
                   (size_t)(ahead - name) < PREFETCH_AHEAD * MULE_SPOOL_ID_SIZE;
                 ahead += strlen(ahead) + 1)
                fs->ops.prefetch(fs->ops.arg, fs->qfd, ahead);
            rc = scan_one(&sc, name);
        }
    }
    buf_fini(&sc.names);
    if (rc != 0)
        goto fail;
    if (lost) {
        /* The node journal was unreadable: its MSID high-water mark is
         * gone.  Restart far above anything still queued so that no MSID
         * in a peer's window is reused (contract line 4), and say so. */
        mule_spool_rec rec;
        mule_spool_load_res lr;
        uint8_t hdr[MULE_SPOOL_HDR_LEN];
        uint32_t hw = max_msid_in_queue(fs->sp);

        hw = hw > UINT32_MAX - (1u << 24) ? UINT32_MAX : hw + (1u << 24);
        mule_spool_prep_msid_hw(hw, &rec);
        mule_spool_node_header(hdr);
        /* Loading an empty journal moves the next MSID to the mark. */
        if ((rc = mule_spool_apply(fs->sp, NULL, rec.b, rec.len)) != 0 ||
            (rc = mule_spool_load_node(fs->sp, hdr, sizeof hdr, &lr)) != 0)
            goto fail;
        log_emit(fs->log, LOG_LVL_ERROR, "spool event=node-journal-lost msid_restart=%u", hw);
    }
    if ((rc = node_compact(fs, now_s)) != 0)
        goto fail;
    log_emit(fs->log, LOG_LVL_INFO,
             "spool event=recovered entries=%zu corrupt=%zu torn=%zu emcon=%d",
             scan->loaded, scan->corrupt, scan->torn, mule_spool_emcon(fs->sp, NULL));
    *out = fs;
    return 0;
fail:
    mule_spool_fs_free(fs);
    return rc;
}

void
mule_spool_fs_free(mule_spool_fs *fs)
{
    if (fs == NULL)
        return;
    if (fs->nodefd >= 0)
        (void)OPS(fs, close, fs->nodefd);
    if (fs->corruptfd >= 0)
        (void)OPS(fs, close, fs->corruptfd);
    if (fs->qfd >= 0)
        (void)OPS(fs, close, fs->qfd);
    if (fs->tmpfd >= 0)
        (void)OPS(fs, close, fs->tmpfd);
    if (fs->dirfd >= 0)
        (void)OPS(fs, close, fs->dirfd);
    mule_spool_free(fs->sp);
    buf_fini(&fs->io);
    mem_free(fs->m, fs);
}

mule_spool *
mule_spool_fs_core(mule_spool_fs *fs)
{
    return fs->sp;
}

/* ------------------------------------------------------------------ */
/* Accepting mail */

/* tmp/ID: create exclusively, write, fsync, close (checked). */
static int
write_tmp(mule_spool_fs *fs, const char *id, const buf *b)
{
    int fd, rc;

    if ((fd = OPS(fs, openat, fs->tmpfd, id, O_WRONLY | O_CREAT | O_EXCL, 0600)) < 0)
        return map_errno(fd);
    if ((rc = write_all(fs, fd, b->data, b->len)) == 0 && (rc = OPS(fs, fsync, fd)) < 0)
        rc = map_errno(rc);
    if (rc != 0) {
        (void)OPS(fs, close, fd);
        return rc;
    }
    return close_checked(fs, fd);
}

int
mule_spool_fs_submit_batch(mule_spool_fs *fs, const mule_spool_msg *msgs, size_t n,
                           int64_t now_s, char (*ids)[MULE_SPOOL_ID_SIZE])
{
    size_t written = 0, renamed = 0, added = 0;
    int rc = 0, r;

    if (fs == NULL || msgs == NULL || ids == NULL || n == 0)
        return MULE_ERR_INVAL;
    if (mule_spool_count(fs->sp) + n < n)
        return MULE_ERR_INVAL;
    for (written = 0; written < n; written++) {
        mule_spool_mint_id(fs->sp, now_s, ids[written]);
        /* IDs minted in one batch are not in the index yet: the counter
         * keeps them apart; a clash with an earlier one is checked. */
        for (size_t j = 0; j < written; j++)
            if (strcmp(ids[j], ids[written]) == 0)
                mule_spool_mint_id(fs->sp, now_s, ids[written]);
        buf_reset(&fs->io);
        if ((rc = mule_spool_encode_entry(&msgs[written], ids[written], &fs->io)) != 0 ||
            (rc = write_tmp(fs, ids[written], &fs->io)) != 0) {
            (void)OPS(fs, unlinkat, fs->tmpfd, ids[written]);
            goto undo;
        }
    }
    for (renamed = 0; renamed < n; renamed++)
        if ((r = OPS(fs, renameat, fs->tmpfd, ids[renamed], fs->qfd, ids[renamed])) < 0) {
            rc = map_errno(r);
            goto undo;
        }
    /* One directory fsync makes the whole batch durable (group commit);
     * only after it is any of the mails accepted (contract line 1). */
    if ((r = OPS(fs, fsync, fs->qfd)) < 0) {
        rc = map_errno(r);
        goto undo;
    }
    for (added = 0; added < n; added++) {
        buf_reset(&fs->io);
        if ((rc = mule_spool_encode_entry(&msgs[added], ids[added], &fs->io)) != 0 ||
            (rc = mule_spool_add(fs->sp, fs->io.data, fs->io.len)) != 0)
            goto undo;
    }
    for (size_t i = 0; i < n; i++)
        log_emit(fs->log, LOG_LVL_INFO, "%s spool event=queued kind=%s targets=%zu size=%zu",
                 ids[i], msgs[i].kind == MULE_SPOOL_OUT ? "out" : "in", msgs[i].target_cnt,
                 msgs[i].content_len);
    return 0;
undo:
    /* Not accepted: take back every file of the batch.  Were we to crash
     * before this, recovery would find the renamed ones and send them
     * although submission failed: a possible duplicate, never a loss. */
    for (size_t i = 0; i < added; i++)
        mule_spool_drop(fs->sp, ids[i]);
    for (size_t i = 0; i < renamed; i++)
        (void)OPS(fs, unlinkat, fs->qfd, ids[i]);
    for (size_t i = renamed; i < written; i++)
        (void)OPS(fs, unlinkat, fs->tmpfd, ids[i]);
    if (renamed > 0)
        (void)OPS(fs, fsync, fs->qfd);
    return rc;
}

int
mule_spool_fs_submit(mule_spool_fs *fs, const mule_spool_msg *msg, int64_t now_s,
                     char id[MULE_SPOOL_ID_SIZE])
{
    return mule_spool_fs_submit_batch(fs, msg, 1, now_s, (char (*)[MULE_SPOOL_ID_SIZE])id);
}

/* ------------------------------------------------------------------ */
/* Group commit across independent mails */

enum { AT_NONE, AT_TMP, AT_Q };

typedef struct batch_file {
    char id[MULE_SPOOL_ID_SIZE];
    buf bytes;                  /* the encoded entry */
    size_t group;
    uint8_t at;                 /* where its file is: AT_* */
} batch_file;

struct mule_spool_fs_batch {
    mule_spool_fs *fs;
    batch_file *f;
    size_t n, cap;
    int *grc;                   /* per group: 0 or why it failed */
    size_t groups, gcap;
    size_t renamed;             /* files in q/ waiting for _sync */
    bool written, synced;
};

int
mule_spool_fs_batch_new(mule_spool_fs *fs, mule_spool_fs_batch **out)
{
    mule_spool_fs_batch *b;

    if (fs == NULL || out == NULL)
        return MULE_ERR_INVAL;
    if ((b = mem_calloc(fs->m, 1, sizeof(*b))) == NULL)
        return MULE_ERR_NOMEM;
    b->fs = fs;
    *out = b;
    return 0;
}

/* Grow an array of elem-sized items to hold want (amortised doubling). */
static int
grow(const mem *m, void **arr, size_t *cap, size_t want, size_t elem)
{
    size_t nc = *cap > 0 ? *cap : 8;
    void *p;

    if (want <= *cap)
        return 0;
    while (nc < want) {
        if (nc > SIZE_MAX / 2)
            return MULE_ERR_NOMEM;
        nc *= 2;
    }
    if (nc > SIZE_MAX / elem || (p = mem_realloc(m, *arr, nc * elem)) == NULL)
        return MULE_ERR_NOMEM;
    *arr = p;
    *cap = nc;
    return 0;
}

int
mule_spool_fs_batch_stage(mule_spool_fs_batch *b, const mule_spool_msg *msgs, size_t n,
                          int64_t now_s, char (*ids)[MULE_SPOOL_ID_SIZE])
{
    const mem *m;
    size_t first;
    int rc;

    if (b == NULL || b->written || msgs == NULL || ids == NULL || n == 0 ||
        n > SIZE_MAX - b->n || b->groups >= INT32_MAX)
        return MULE_ERR_INVAL;
    m = b->fs->m;
    if ((rc = grow(m, (void **)&b->f, &b->cap, b->n + n, sizeof(*b->f))) != 0 ||
        (rc = grow(m, (void **)&b->grc, &b->gcap, b->groups + 1, sizeof(*b->grc))) != 0)
        return rc;
    first = b->n;
    for (size_t i = 0; i < n; i++) {
        batch_file *f = &b->f[b->n];

        memset(f, 0, sizeof(*f));
        buf_init(&f->bytes, m, SIZE_MAX);
        f->group = b->groups;
        b->n++;
        /* IDs minted for files not yet in the index: the model's counter
         * keeps them apart; a clash within the batch is minted again. */
        mule_spool_mint_id(b->fs->sp, now_s, f->id);
        for (size_t j = 0; j < b->n - 1; j++)
            if (strcmp(b->f[j].id, f->id) == 0) {
                mule_spool_mint_id(b->fs->sp, now_s, f->id);
                j = (size_t)-1;     /* check the new one against all */
            }
        if ((rc = mule_spool_encode_entry(&msgs[i], f->id, &f->bytes)) != 0) {
            while (b->n > first)
                buf_fini(&b->f[--b->n].bytes);
            return rc;
        }
        memcpy(ids[i], f->id, MULE_SPOOL_ID_SIZE);
    }
    b->grc[b->groups] = 0;
    return (int)b->groups++;
}

/* Mark group g failed (the first reason is kept). */
static void
batch_fail(mule_spool_fs_batch *b, size_t g, int rc)
{
    if (b->grc[g] == 0)
        b->grc[g] = rc;
}

/* Take back the files of every failed group; fsync q/ if any left it. */
static void
batch_undo(mule_spool_fs_batch *b)
{
    mule_spool_fs *fs = b->fs;
    bool q = false;

    for (size_t i = 0; i < b->n; i++) {
        batch_file *f = &b->f[i];

        if (b->grc[f->group] == 0 || f->at == AT_NONE)
            continue;
        (void)OPS(fs, unlinkat, f->at == AT_Q ? fs->qfd : fs->tmpfd, f->id);
        q |= f->at == AT_Q;
        f->at = AT_NONE;
    }
    if (q)
        (void)OPS(fs, fsync, fs->qfd);
}

void
mule_spool_fs_batch_write(mule_spool_fs_batch *b)
{
    mule_spool_fs *fs;
    bool one_sync;
    size_t files = 0, renamed = 0;
    int r;

    if (b == NULL || b->written)
        return;
    fs = b->fs;
    b->written = true;
    /* One syncfs flushes every file of the batch in one journal commit;
     * for a single file its own fsync is cheaper (it does not flush what
     * other programs dirtied on the same filesystem). */
    one_sync = fs->ops.syncfs != NULL && b->n > 1;
    for (size_t i = 0; i < b->n; i++) {
        batch_file *f = &b->f[i];
        int fd, rc;

        if (b->grc[f->group] != 0)
            continue;
        if ((fd = OPS(fs, openat, fs->tmpfd, f->id, O_WRONLY | O_CREAT | O_EXCL, 0600)) < 0) {
            batch_fail(b, f->group, map_errno(fd));
            continue;
        }
        f->at = AT_TMP;
        rc = write_all(fs, fd, f->bytes.data, f->bytes.len);
        if (rc == 0 && !one_sync && (r = OPS(fs, fsync, fd)) < 0)
            rc = map_errno(r);
        if (rc != 0)
            (void)OPS(fs, close, fd);
        else
            rc = close_checked(fs, fd);
        if (rc != 0)
            batch_fail(b, f->group, rc);
        else
            files++;
    }
    if (one_sync && files > 0 && (r = OPS(fs, syncfs, fs->tmpfd)) < 0)
        for (size_t g = 0; g < b->groups; g++)
            batch_fail(b, g, map_errno(r));
    /* Rename only whole groups whose files are all on disk: a mail is
     * never half in q/ (its other entries would be lost on a failure). */
    for (size_t i = 0; i < b->n; i++) {
        batch_file *f = &b->f[i];

        if (b->grc[f->group] != 0)
            continue;
        if ((r = OPS(fs, renameat, fs->tmpfd, f->id, fs->qfd, f->id)) < 0) {
            batch_fail(b, f->group, map_errno(r));
            continue;
        }
        f->at = AT_Q;
        renamed++;
    }
    b->renamed = renamed;
    batch_undo(b);
}

bool
mule_spool_fs_same_fs(mule_spool_fs *fs, int fd)
{
    uint64_t a, b;

    return fs != NULL && fd >= 0 && fs->ops.syncfs != NULL && fs->ops.fdev != NULL &&
           OPS(fs, fdev, fs->qfd, &a) == 0 && OPS(fs, fdev, fd, &b) == 0 && a == b;
}

int
mule_spool_fs_batch_sync(mule_spool_fs_batch *b, int also_fd)
{
    mule_spool_fs *fs;
    int r = 0;

    if (b == NULL || !b->written || b->synced)
        return MULE_ERR_INVAL;
    fs = b->fs;
    b->synced = true;
    /* The group commit proper: one sync for every mail of the batch; only
     * after it may any of them be acknowledged.  With also_fd it is a
     * syncfs: the directory entries and the caller's records (the audit
     * log's "accepted" lines) become durable in the same journal commit,
     * where fsync(q/) then fdatasync(log) would be two in a row. */
    if (also_fd >= 0 && mule_spool_fs_same_fs(fs, also_fd))
        r = OPS(fs, syncfs, fs->qfd);
    else if (b->renamed > 0)
        r = OPS(fs, fsync, fs->qfd);
    if (r < 0)
        for (size_t g = 0; g < b->groups; g++)
            batch_fail(b, g, map_errno(r));
    batch_undo(b);
    if (r < 0)
        return map_errno(r);
    /* Another filesystem: its own sync, after ours.  Its failure is the
     * caller's (the mails are durable). */
    if (also_fd >= 0 && !mule_spool_fs_same_fs(fs, also_fd) &&
        (r = OPS(fs, fdatasync, also_fd)) < 0)
        return map_errno(r);
    return 0;
}

void
mule_spool_fs_batch_commit(mule_spool_fs_batch *b)
{
    if (b == NULL || !b->written)
        return;
    if (!b->synced) {
        /* Renamed but never made durable: nobody may be told "accepted". */
        for (size_t g = 0; g < b->groups; g++)
            batch_fail(b, g, MULE_ERR_SPOOL_IO);
        batch_undo(b);
        b->synced = true;
    }
    for (size_t i = 0; i < b->n; i++) {
        batch_file *f = &b->f[i];
        int rc;

        if (b->grc[f->group] != 0)
            continue;
        if ((rc = mule_spool_add(b->fs->sp, f->bytes.data, f->bytes.len)) != 0) {
            /* The model refused (max_entries, memory): take the whole
             * group back, also the entries of it added already. */
            for (size_t j = 0; j < i; j++)
                if (b->f[j].group == f->group)
                    mule_spool_drop(b->fs->sp, b->f[j].id);
            batch_fail(b, f->group, rc);
        }
    }
    batch_undo(b);
    for (size_t i = 0; i < b->n; i++)
        if (b->grc[b->f[i].group] == 0)
            log_emit(b->fs->log, LOG_LVL_INFO, "%s spool event=queued batch=%zu size=%zu",
                     b->f[i].id, b->n, b->f[i].bytes.len);
}

int
mule_spool_fs_batch_result(const mule_spool_fs_batch *b, size_t g)
{
    if (b == NULL || g >= b->groups || !b->written)
        return MULE_ERR_INVAL;
    return b->grc[g];
}

size_t
mule_spool_fs_batch_groups(const mule_spool_fs_batch *b)
{
    return b != NULL ? b->groups : 0;
}

void
mule_spool_fs_batch_free(mule_spool_fs_batch *b)
{
    if (b == NULL)
        return;
    for (size_t i = 0; i < b->n; i++)
        buf_fini(&b->f[i].bytes);
    mem_free(b->fs->m, b->f);
    mem_free(b->fs->m, b->grc);
    mem_free(b->fs->m, b);
}

/* ------------------------------------------------------------------ */
/* Updates, removal, reading */

static int
entry_append(mule_spool_fs *fs, const char *id, const mule_spool_rec *rec)
{
    mule_spool_info info;
    int fd, rc;

    if ((rc = mule_spool_info_get(fs->sp, id, &info)) != 0)
        return rc;
    /* Records of a journal batch wait for this file: one appended now
     * would come before them on disk but be applied first, and could make
     * them illegal on replay (a delete before an INFLIGHT). */
    if (mule_spool_is_busy(fs->sp, id))
        return MULE_ERR_SPOOL_BUSY;
    if ((fd = OPS(fs, openat, fs->qfd, id, O_WRONLY | O_APPEND, 0)) < 0)
        return map_errno(fd);
    rc = append_durable(fs, fd, info.file_len, rec->b, rec->len);
    if (rc != 0) {
        (void)OPS(fs, close, fd);
        return rc;
    }
    /* fdatasync returned: the record is durable whatever close says, and
     * reporting a failure now would make the caller retry a transition
     * that a restart would find already made.  Checked and logged. */
    if ((rc = OPS(fs, close, fd)) < 0)
        log_emit(fs->log, LOG_LVL_WARN, "%s spool event=close-failed errno=%d", id, -rc);
    /* Durable: now the model may change (contract line 3). */
    return mule_spool_apply(fs->sp, id, rec->b, rec->len);
}

/* ---- journal batch ---------------------------------------------- */

typedef struct jb_rec {
    char id[MULE_SPOOL_ID_SIZE];    /* "" : the node journal */
    mule_spool_rec rec;
    int fd;                     /* the file's descriptor (shared per file) */
    bool first;                 /* first record of its file in the batch */
    bool cut;                   /* first: its file may be cut back to good_len */
    uint64_t good_len;          /* first: the file's length before the batch */
} jb_rec;

enum { JB_STAGED, JB_WRITTEN, JB_SYNCED, JB_DONE };

struct mule_spool_fs_jbatch {
    mule_spool_fs *fs;
    jb_rec *r;
    size_t n, cap;
    int state;                  /* JB_* */
    size_t files;               /* written: files touched */
    int src;                    /* the sync's result */
    uint64_t node_end;          /* written: node_len after its records */
};

int
mule_spool_fs_jbatch_new(mule_spool_fs *fs, mule_spool_fs_jbatch **out)
{
    mule_spool_fs_jbatch *jb;

    if (fs == NULL || out == NULL)
        return MULE_ERR_INVAL;
    if ((jb = mem_calloc(fs->m, 1, sizeof(*jb))) == NULL)
        return MULE_ERR_NOMEM;
    jb->fs = fs;
    *out = jb;
    return 0;
}

static jb_rec *
jb_add(mule_spool_fs_jbatch *jb, int *rc)
{
    jb_rec *r;

    *rc = MULE_ERR_INVAL;
    if (jb == NULL || jb->state != JB_STAGED)
        return NULL;
    if ((*rc = grow(jb->fs->m, (void **)&jb->r, &jb->cap, jb->n + 1, sizeof(*jb->r))) != 0)
        return NULL;
    r = &jb->r[jb->n];
    memset(r, 0, sizeof(*r));
    r->fd = -1;
    return r;
}

int
mule_spool_fs_jbatch_target(mule_spool_fs_jbatch *jb, const char *id, size_t idx,
                            const mule_spool_target *t, int64_t now_s)
{
    jb_rec *r;
    int rc;

    if ((r = jb_add(jb, &rc)) == NULL)
        return rc;
    if (id == NULL || strlen(id) >= sizeof(r->id))
        return MULE_ERR_INVAL;
    if ((rc = mule_spool_prep_target(jb->fs->sp, id, idx, t, now_s, &r->rec)) != 0)
        return rc;
    memcpy(r->id, id, strlen(id) + 1);
    (void)mule_spool_busy_set(jb->fs->sp, id, true);
    jb->n++;
    return 0;
}

int
mule_spool_fs_jbatch_msn(mule_spool_fs_jbatch *jb, uint32_t dest, uint32_t msn)
{
    jb_rec *r;
    int rc;

    if ((r = jb_add(jb, &rc)) == NULL)
        return rc;
    mule_spool_prep_msn(dest, msn, &r->rec);
    jb->n++;
    return 0;
}

size_t
mule_spool_fs_jbatch_count(const mule_spool_fs_jbatch *jb)
{
    return jb != NULL ? jb->n : 0;
}

/* The earlier record of the same file, or NULL. */
static jb_rec *
jb_file_of(mule_spool_fs_jbatch *jb, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (strcmp(jb->r[j].id, jb->r[i].id) == 0)
            return &jb->r[j];
    return NULL;
}

/* Open every file once and append the records (no sync yet). */
static int
jb_write(mule_spool_fs_jbatch *jb, size_t *files)
{
    mule_spool_fs *fs = jb->fs;
    int rc;

    for (size_t i = 0; i < jb->n; i++) {
        jb_rec *r = &jb->r[i], *f = jb_file_of(jb, i);
        uint64_t size;

        if (f != NULL) {
            r->fd = f->fd;
        } else if (r->id[0] == '\0') {
            if (fs->nodefd < 0 && (rc = node_compact(fs, fs->now_s)) != 0)
                return rc;
            r->fd = fs->nodefd;
            r->good_len = fs->node_len;
            r->first = true;
        } else {
            mule_spool_info info;

            if ((rc = mule_spool_info_get(fs->sp, r->id, &info)) != 0)
                return rc;
            if ((r->fd = OPS(fs, openat, fs->qfd, r->id, O_WRONLY | O_APPEND, 0)) < 0) {
                rc = map_errno(r->fd);
                r->fd = -1;
                return rc;
            }
            r->good_len = info.file_len;
            r->first = true;
        }
        if (r->first) {
            (*files)++;
            /* As append_durable: what a failed append left goes first. */
            if ((rc = OPS(fs, fsize, r->fd, &size)) < 0)
                return map_errno(rc);
            if (size < r->good_len)
                return MULE_ERR_SPOOL_IO;   /* shorter than what we wrote */
            r->cut = true;
            if (size > r->good_len && (rc = OPS(fs, ftruncate, r->fd, (off_t)r->good_len)) < 0)
                return map_errno(rc);
        }
        if ((rc = write_all(fs, r->fd, r->rec.b, r->rec.len)) != 0)
            return rc;
    }
    return 0;
}

static int
jb_sync(mule_spool_fs_jbatch *jb, size_t files)
{
    mule_spool_fs *fs = jb->fs;
    int rc;

    if (files > 1 && fs->ops.syncfs != NULL) {
        if ((rc = OPS(fs, syncfs, fs->dirfd)) < 0)
            return map_errno(rc);
        return 0;
    }
    for (size_t i = 0; i < jb->n; i++)
        if (jb->r[i].first && (rc = OPS(fs, fdatasync, jb->r[i].fd)) < 0)
            return map_errno(rc);
    return 0;
}

/* Close the entry files (never the node journal's descriptor). */
static void
jb_close(mule_spool_fs_jbatch *jb, bool cut)
{
    mule_spool_fs *fs = jb->fs;

    for (size_t i = 0; i < jb->n; i++) {
        jb_rec *r = &jb->r[i];

        if (!r->first || r->fd < 0)
            continue;
        if (cut && r->cut)
            (void)OPS(fs, ftruncate, r->fd, (off_t)r->good_len);
        if (r->id[0] != '\0') {
            int rc = OPS(fs, close, r->fd);

            /* After a good sync the records are durable whatever close
             * says (as entry_append). */
            if (rc < 0 && !cut)
                log_emit(fs->log, LOG_LVL_WARN, "%s spool event=close-failed errno=%d",
                         r->id, -rc);
        }
        r->fd = -1;
    }
}

static void
jb_unbusy(mule_spool_fs_jbatch *jb)
{
    for (size_t i = 0; i < jb->n; i++)
        if (jb->r[i].id[0] != '\0')
            (void)mule_spool_busy_set(jb->fs->sp, jb->r[i].id, false);
}

int
mule_spool_fs_jbatch_write(mule_spool_fs_jbatch *jb)
{
    mule_spool_fs *fs;
    int rc;

    if (jb == NULL || jb->state != JB_STAGED || jb->fs->jb_out)
        return MULE_ERR_INVAL;
    fs = jb->fs;
    jb->state = JB_WRITTEN;
    if ((rc = jb_write(jb, &jb->files)) != 0) {
        /* Failed: cut every file back, so no record nobody applied stays. */
        jb_close(jb, true);
        jb_unbusy(jb);
        jb->state = JB_DONE;
        return rc;
    }
    /* Node records written meanwhile (MSID block, DONE, EMCON: none
     * depends on an MSN record) go after the batch's. */
    for (size_t i = 0; i < jb->n; i++)
        if (jb->r[i].id[0] == '\0')
            fs->node_len += jb->r[i].rec.len;
    jb->node_end = fs->node_len;
    fs->jb_out = true;
    return 0;
}

int
mule_spool_fs_jbatch_sync(mule_spool_fs_jbatch *jb)
{
    if (jb == NULL || jb->state != JB_WRITTEN)
        return MULE_ERR_INVAL;
    jb->src = jb_sync(jb, jb->files);
    jb->state = JB_SYNCED;
    return jb->src;
}

static int
jb_finish(mule_spool_fs_jbatch *jb)
{
    mule_spool_fs *fs;
    bool keep_node = false;
    int rc, arc, first_err = 0;

    if (jb == NULL || (jb->state != JB_WRITTEN && jb->state != JB_SYNCED))
        return MULE_ERR_INVAL;
    fs = jb->fs;
    if (jb->state == JB_WRITTEN)
        jb->src = MULE_ERR_SPOOL_IO;    /* never synced: not durable */
    jb->state = JB_DONE;
    fs->jb_out = false;
    if ((rc = jb->src) != 0) {
        /* Failed: cut every entry file back.  The node journal too, unless
         * records were appended (and synced) after the batch's: then they
         * stay and count, as the MSN high-water marks they are (a number
         * skipped, never one used twice). */
        for (size_t i = 0; i < jb->n; i++)
            if (jb->r[i].id[0] == '\0' && jb->r[i].first && fs->node_len != jb->node_end) {
                jb->r[i].cut = false;
                keep_node = true;
            }
        if (!keep_node)
            for (size_t i = 0; i < jb->n; i++)
                if (jb->r[i].id[0] == '\0')
                    fs->node_len -= jb->r[i].rec.len;
    }
    jb_close(jb, rc != 0);
    jb_unbusy(jb);
    if (rc != 0 && !keep_node)
        return rc;
    /* Durable (or node records kept): now the model may change (contract
     * line 3). */
    for (size_t i = 0; i < jb->n; i++) {
        jb_rec *r = &jb->r[i];

        if (r->id[0] == '\0') {
            fs->node_recs++;
            /* An MSN the model could not take (no memory for a new
             * destination) is on disk, and the engine numbers on from the
             * message it gets: the batch stands, the next one retries. */
            if ((arc = mule_spool_apply(fs->sp, NULL, r->rec.b, r->rec.len)) != 0)
                log_emit(fs->log, LOG_LVL_WARN, "spool event=msn-not-applied reason=%s",
                         mule_errname(arc));
            continue;
        }
        if (rc != 0)
            continue;           /* cut back: not applied */
        /* Validated when staged and busy since: a failure here is a bug. */
        if ((arc = mule_spool_apply(fs->sp, r->id, r->rec.b, r->rec.len)) != 0 &&
            first_err == 0)
            first_err = arc;
    }
    if (fs->node_recs > fs->compact_recs && (arc = node_compact(fs, fs->now_s)) != 0)
        log_emit(fs->log, LOG_LVL_WARN, "spool event=node-compact-failed reason=%s",
                 mule_errname(arc));
    return rc != 0 ? rc : first_err;
}

int
mule_spool_fs_jbatch_finish(mule_spool_fs_jbatch *jb)
{
    return jb_finish(jb);
}

int
mule_spool_fs_jbatch_commit(mule_spool_fs_jbatch *jb)
{
    int rc = mule_spool_fs_jbatch_write(jb);

    if (rc != 0)
        return rc;
    (void)mule_spool_fs_jbatch_sync(jb);
    return jb_finish(jb);
}

void
mule_spool_fs_jbatch_free(mule_spool_fs_jbatch *jb)
{
    if (jb == NULL)
        return;
    if (jb->state == JB_WRITTEN || jb->state == JB_SYNCED) {
        /* Written, never finished: taken back as a failed batch. */
        jb->state = JB_SYNCED;
        jb->src = MULE_ERR_SPOOL_IO;
        (void)jb_finish(jb);
    } else if (jb->state == JB_STAGED) {
        jb_unbusy(jb);
    }
    mem_free(jb->fs->m, jb->r);
    mem_free(jb->fs->m, jb);
}

int
mule_spool_fs_target_set(mule_spool_fs *fs, const char *id, size_t idx,
                         const mule_spool_target *t, int64_t now_s)
{
    mule_spool_rec rec;
    int rc;

    if (fs == NULL)
        return MULE_ERR_INVAL;
    if ((rc = mule_spool_prep_target(fs->sp, id, idx, t, now_s, &rec)) != 0)
        return rc;
    return entry_append(fs, id, &rec);
}

int
mule_spool_fs_flag(mule_spool_fs *fs, const char *id, int op)
{
    mule_spool_rec rec;
    int rc;

    if (fs == NULL)
        return MULE_ERR_INVAL;
    if ((rc = mule_spool_prep_flag(fs->sp, id, op, &rec)) != 0)
        return rc;
    if ((rc = entry_append(fs, id, &rec)) == 0)
        log_emit(fs->log, LOG_LVL_INFO, "%s spool event=%s", id,
                 op == 'h' ? "held" : op == 'r' ? "released" : "deleted");
    return rc;
}

int
mule_spool_fs_remove(mule_spool_fs *fs, const char *id)
{
    mule_spool_info info;
    int rc;

    if (fs == NULL)
        return MULE_ERR_INVAL;
    if ((rc = mule_spool_info_get(fs->sp, id, &info)) != 0)
        return rc;
    if (!mule_spool_is_removable(fs->sp, id))
        return MULE_ERR_SPOOL_BUSY;
    if ((rc = OPS(fs, unlinkat, fs->qfd, id)) < 0)
        return map_errno(rc);
    mule_spool_drop(fs->sp, id);
    /* Every target's final state is durable already, so if this fsync
     * fails and we crash, the file comes back as removable and is
     * removed again: nothing is sent or delivered twice.  Warn only. */
    if ((rc = OPS(fs, fsync, fs->qfd)) < 0)
        log_emit(fs->log, LOG_LVL_WARN, "%s spool event=remove-fsync-failed errno=%d", id,
                 -rc);
    log_emit(fs->log, LOG_LVL_INFO, "%s spool event=removed", id);
    return 0;
}

int
mule_spool_fs_read(mule_spool_fs *fs, const char *id, buf *out)
{
    mule_spool_info info;
    int rc;

    if (fs == NULL || out == NULL)
        return MULE_ERR_INVAL;
    if ((rc = mule_spool_info_get(fs->sp, id, &info)) != 0)
        return rc;
    return read_file(fs, fs->qfd, id, out);
}
